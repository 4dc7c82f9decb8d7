-- Identifiers that name hidden rows: a note, a document, a referral or a
-- linked record outside the caller's cases gets the same answer as one that
-- does not exist, so that guessing identifiers tells nothing.

create or replace function refuge.read_case_note(note_id uuid, purpose text default null) returns text
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    n refuge.case_note;
    c refuge.process_case;
begin
    select * into n from refuge.case_note x where x.id = note_id;
    select * into c from refuge.process_case p where p.id = n.case_id;
    if n.id is null or c.id is null or not refuge.may_work_case(c.module, c.operation_id, c.site_id) then
        perform refuge.raise_field('P0002', 'note_id', 'not found in your cases');
    end if;
    if n.confidential or (select m.sensitive from refuge.case_module m where m.code = c.module) then
        perform refuge.log_sensitive_read('case_note', n.id, c, purpose);
    end if;
    if not n.confidential then
        return n.body;
    end if;
    return convert_from(refuge.vault_open(n.sealed, 'case_note:' || n.id), 'UTF8');
end
$$;

create or replace function refuge.read_case_document(document_id uuid, purpose text default null) returns bytea
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    d refuge.case_document;
    c refuge.process_case;
    content bytea;
begin
    select * into d from refuge.case_document x where x.id = document_id;
    select * into c from refuge.process_case p where p.id = d.case_id;
    if d.id is null or c.id is null or not refuge.may_work_case(c.module, c.operation_id, c.site_id) then
        perform refuge.raise_field('P0002', 'document_id', 'not found in your cases');
    end if;
    if d.confidential or (select m.sensitive from refuge.case_module m where m.code = c.module) then
        perform refuge.log_sensitive_read('case_document', d.id, c, purpose);
    end if;
    content := case when d.confidential then refuge.vault_open(d.sealed, 'case_document:' || d.id) else d.content end;
    if sha256(content) <> d.sha256 then
        raise exception using errcode = 'XX001', message = format('document %s does not match its digest', d.id);
    end if;
    return content;
end
$$;

create or replace function refuge.end_referral(referral_id uuid, status text, reason text) returns void
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    r refuge.case_referral;
    c refuge.process_case;
    works_case boolean;
begin
    if status is null or status not in ('CLOSED', 'REVOKED') then
        perform refuge.raise_field('22023', 'status', format('"%s" is not CLOSED or REVOKED', refuge.excerpt(status)));
    end if;
    perform refuge.require_text(reason, 'reason');
    select * into r from refuge.case_referral x where x.id = referral_id for update;
    select * into c from refuge.process_case p where p.id = r.case_id;
    works_case := c.id is not null and refuge.may_work_case(c.module, c.operation_id, c.site_id);
    if r.id is null or not (works_case or coalesce(r.partner_id = refuge.caller_partner(), false)) then
        perform refuge.raise_field('P0002', 'referral_id', 'not found among your referrals');
    end if;
    -- the partner closes (it has finished); revoking is the case worker's
    if not works_case and status <> 'CLOSED' then
        raise exception using errcode = '42501',
            message = format('end_referral: role %s may close this referral, not revoke it', refuge.caller());
    end if;
    if r.status <> 'ACTIVE' then
        perform refuge.raise_field('55000', 'referral_id', format('is already %s', lower(r.status)));
    end if;
    update refuge.case_referral x set status = end_referral.status, ended_by = refuge.caller(), ended_at = now(),
                                      end_reason = left(reason, 2000)
     where x.id = r.id;
    perform refuge.note_case_event(c, 'REFERRAL_' || status, left(reason, 2000), jsonb_build_object('referral_id', r.id));
end
$$;

-- Links reach only what the caller may see: a case they work, or a fraud
-- alert, fraud case, deduplication case or collection in their operations.
create or replace function refuge.link_case(case_id uuid, kind text, linked_id uuid, note text default null) returns void
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
    linked refuge.process_case;
    op uuid;
    st uuid;
    visible boolean;
begin
    c := refuge.case_for_update(link_case.case_id, 'link_case');
    if kind is null or kind not in ('process_case', 'fraud_alert', 'fraud_case', 'dedup_case', 'collection') then
        perform refuge.raise_field('22023', 'kind',
            format('"%s" is not process_case, fraud_alert, fraud_case, dedup_case or collection', refuge.excerpt(kind)));
    end if;
    if kind = 'process_case' then
        select * into linked from refuge.process_case p where p.id = linked_id;
        visible := linked.id is not null and linked.id <> c.id
                   and refuge.may_work_case(linked.module, linked.operation_id, linked.site_id);
    else
        execute format('select operation_id, site_id from refuge.%I where id = $1', kind) into op, st using linked_id;
        visible := op is not null and refuge.in_scope(op, st);
    end if;
    if not coalesce(visible, false) then
        perform refuge.raise_field('P0002', 'linked_id', format('no %s in your operations', kind));
    end if;
    insert into refuge.case_link (case_id, kind, linked_id, note) values (c.id, kind, linked_id, left(note, 2000))
    on conflict do nothing;
    perform refuge.note_case_event(c, 'LINK', left(note, 2000), jsonb_build_object('kind', kind, 'linked_id', linked_id));
end
$$;

-- A confidential document's title can say what it is ("HIV test result"):
-- the case's events name the document, not its title.
create or replace function refuge.add_case_document(case_id uuid, title text, media_type text, content bytea,
                                                    confidential boolean default false)
    returns uuid
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
    new_id uuid := gen_random_uuid();
begin
    c := refuge.case_for_update(add_case_document.case_id, 'add_case_document');
    perform refuge.require_text(title, 'title');
    if length(title) > 300 then
        perform refuge.raise_field('22001', 'title', format('%s characters is more than the 300 a title may have', length(title)));
    end if;
    if media_type is null or length(media_type) > 100 or media_type !~ '^[a-z]+/[A-Za-z0-9.+-]+$' then
        perform refuge.raise_field('22023', 'media_type', format('"%s" is not a media type such as application/pdf',
                                                                  refuge.excerpt(media_type)));
    end if;
    if content is null or length(content) = 0 then
        perform refuge.raise_field('22004', 'content', 'is required');
    end if;
    if length(content) > 50 * 1024 * 1024 then
        perform refuge.raise_field('54000', 'content', format('%s bytes is more than the 50 MB an attachment may have', length(content)));
    end if;
    if confidential is null then
        perform refuge.raise_field('22004', 'confidential', 'is required');
    end if;
    insert into refuge.case_document (id, case_id, title, media_type, size_bytes, sha256, confidential, content, sealed, author)
    values (new_id, c.id, title, media_type, length(content), sha256(content), confidential,
            case when not confidential then content end,
            case when confidential then refuge.vault_seal(content, 'case_document:' || new_id) end,
            refuge.caller());
    perform refuge.note_case_event(c, 'DOCUMENT', null,
        jsonb_build_object('document_id', new_id, 'confidential', confidential)
        || case when confidential then '{}'::jsonb else jsonb_build_object('title', title) end);
    return new_id;
end
$$;
