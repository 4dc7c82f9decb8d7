-- Case records: notes and documents (confidential ones sealed), SGBV
-- incidents and consent; sensitive reads logged.

-- One sensitive read of a case's record, committed before anything is returned.
create function refuge.log_sensitive_read(p_kind text, p_object uuid, c refuge.process_case, p_purpose text)
    returns void
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    if p_purpose is null or btrim(p_purpose) = '' then
        perform refuge.raise_field('22004', 'purpose', 'is required: say why this sensitive record is read');
    end if;
    perform refuge.log_durably(jsonb_build_object('sensitive_read', jsonb_build_array(jsonb_build_object(
        'actor', refuge.caller(), 'kind', p_kind, 'object_id', p_object, 'case_id', c.id, 'module', c.module,
        'individual_id', c.principal_id, 'operation_id', c.operation_id, 'purpose', left(btrim(p_purpose), 500)))));
end
$$;

create function refuge.add_case_note(case_id uuid, body text, confidential boolean default false, kind text default 'NOTE')
    returns uuid
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
    new_id uuid := gen_random_uuid();
begin
    c := refuge.case_for_update(add_case_note.case_id, 'add_case_note');
    perform refuge.require_text(body, 'body');
    if confidential is null then
        perform refuge.raise_field('22004', 'confidential', 'is required');
    end if;
    if kind is null or kind not in ('NOTE', 'INTERVIEW_TRANSCRIPT', 'ASSESSMENT', 'DECISION') then
        perform refuge.raise_field('22023', 'kind', format('"%s" is not NOTE, INTERVIEW_TRANSCRIPT, ASSESSMENT or DECISION', kind));
    end if;
    insert into refuge.case_note (id, case_id, kind, confidential, body, sealed, author)
    values (new_id, c.id, kind, confidential,
            case when not confidential then body end,
            case when confidential then refuge.vault_seal(convert_to(body, 'UTF8'), 'case_note:' || new_id) end,
            refuge.caller());
    perform refuge.note_case_event(c, 'NOTE', null,
                                   jsonb_build_object('note_id', new_id, 'kind', kind, 'confidential', confidential));
    return new_id;
end
$$;
comment on function refuge.add_case_note(uuid, text, boolean, text) is
    'add a note to a case (confidential notes sealed in the vault); returns its id';
grant execute on function refuge.add_case_note(uuid, text, boolean, text) to refuge_supervisor,
    refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection;

-- Identifiers that name hidden rows: a note, a document, a referral or a
-- linked record outside the caller's cases gets the same answer as one that
-- does not exist, so that guessing identifiers tells nothing.
create function refuge.read_case_note(note_id uuid, purpose text default null) returns text
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
comment on function refuge.read_case_note(uuid, text) is
    'the text of a case note (confidential or sensitive ones logged with the purpose)';
grant execute on function refuge.read_case_note(uuid, text) to refuge_supervisor, refuge_assistance,
    refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection;

-- A confidential document's title can say what it is ("HIV test result"):
-- the case's events name the document, not its title.
create function refuge.add_case_document(case_id uuid, title text, media_type text, content bytea,
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
comment on function refuge.add_case_document(uuid, text, text, bytea, boolean) is
    'attach a document to a case (confidential ones sealed in the vault); returns its id';
grant execute on function refuge.add_case_document(uuid, text, text, bytea, boolean) to refuge_supervisor,
    refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection;

create function refuge.read_case_document(document_id uuid, purpose text default null) returns bytea
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
comment on function refuge.read_case_document(uuid, text) is
    'the content of a case document (confidential or sensitive ones logged with the purpose)';
grant execute on function refuge.read_case_document(uuid, text) to refuge_supervisor, refuge_assistance,
    refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection;

create function refuge.record_gbv_incident(case_id uuid, incident jsonb) returns void
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
    vt text;
    details jsonb;
begin
    c := refuge.case_for_update(record_gbv_incident.case_id, 'record_gbv_incident');
    if c.module <> 'SGBV' then
        perform refuge.raise_field('22023', 'case_id', format('case %s is a %s case, not SGBV', c.number, c.module));
    end if;
    perform refuge.arg_fields(incident, 'incident', array['violence_type', 'incident_date', 'consent_services',
        'consent_sharing', 'narrative', 'location', 'perpetrator', 'reported_on']);
    vt := refuge.arg_text(incident, 'violence_type', 'incident', true, 40);
    if vt not in ('RAPE', 'SEXUAL_ASSAULT', 'PHYSICAL_ASSAULT', 'FORCED_MARRIAGE', 'DENIAL_OF_RESOURCES',
                  'PSYCHOLOGICAL_ABUSE', 'NON_GBV') then
        perform refuge.raise_field('22023', 'incident.violence_type', format('"%s" is not a GBVIMS type (RAPE, SEXUAL_ASSAULT, '
            'PHYSICAL_ASSAULT, FORCED_MARRIAGE, DENIAL_OF_RESOURCES, PSYCHOLOGICAL_ABUSE, NON_GBV)', vt));
    end if;
    if refuge.arg_bool(incident, 'consent_services', 'incident') is null then
        perform refuge.raise_field('22004', 'incident.consent_services', 'is required (true or false)');
    end if;
    if refuge.arg_bool(incident, 'consent_sharing', 'incident') is null then
        perform refuge.raise_field('22004', 'incident.consent_sharing', 'is required (true or false)');
    end if;
    details := jsonb_strip_nulls(jsonb_build_object('narrative', refuge.arg_text(incident, 'narrative', 'incident', true),
        'location', refuge.arg_text(incident, 'location', 'incident'),
        'perpetrator', refuge.arg_text(incident, 'perpetrator', 'incident')));
    insert into refuge.gbv_incident as g (case_id, violence_type, incident_date, reported_on, consent_services,
                                          consent_sharing, sealed)
    values (c.id, vt, refuge.arg_date(incident, 'incident_date', 'incident', false, false),
            coalesce(refuge.arg_date(incident, 'reported_on', 'incident', false, false), current_date),
            (incident ->> 'consent_services')::boolean, (incident ->> 'consent_sharing')::boolean,
            refuge.vault_seal(convert_to(details::text, 'UTF8'), 'gbv_incident:' || c.id))
    on conflict on constraint gbv_incident_pkey do update
       set violence_type = excluded.violence_type, incident_date = excluded.incident_date,
           reported_on = excluded.reported_on, consent_services = excluded.consent_services,
           consent_sharing = excluded.consent_sharing, sealed = excluded.sealed,
           -- a narrative recorded again is held again (and retention counts again)
           narrative_erased_at = null;
    perform refuge.note_case_event(c, 'INCIDENT_RECORDED', null,
        jsonb_build_object('violence_type', vt, 'consent_services', incident -> 'consent_services',
                           'consent_sharing', incident -> 'consent_sharing'));
    if not (incident ->> 'consent_sharing')::boolean then
        perform refuge.revoke_referrals_without_consent(c, 'no consent to sharing');
    end if;
end
$$;
comment on function refuge.record_gbv_incident(uuid, jsonb) is
    'record the incident of an SGBV case (GBVIMS classification, consents, sealed narrative)';
grant execute on function refuge.record_gbv_incident(uuid, jsonb) to refuge_supervisor, refuge_assistance,
    refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection;

create function refuge.read_gbv_incident(case_id uuid, purpose text default null) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
    g refuge.gbv_incident;
begin
    c := refuge.case_for_update(read_gbv_incident.case_id, 'read_gbv_incident', false);
    select * into g from refuge.gbv_incident x where x.case_id = c.id;
    if not found then
        perform refuge.raise_field('P0002', 'case_id', format('case %s has no incident recorded', c.number));
    end if;
    perform refuge.log_sensitive_read('gbv_incident', c.id, c, purpose);
    return jsonb_build_object('case_number', c.number, 'violence_type', g.violence_type, 'incident_date', g.incident_date,
                              'reported_on', g.reported_on, 'consent_services', g.consent_services,
                              'consent_sharing', g.consent_sharing)
           || convert_from(refuge.vault_open(g.sealed, 'gbv_incident:' || c.id), 'UTF8')::jsonb;
end
$$;
comment on function refuge.read_gbv_incident(uuid, text) is
    'an SGBV case''s incident, narrative included; logged with the purpose';
grant execute on function refuge.read_gbv_incident(uuid, text) to refuge_supervisor, refuge_assistance,
    refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection;

create function refuge.set_gbv_consent(case_id uuid, consent_services boolean, consent_sharing boolean, reason text)
    returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
    g refuge.gbv_incident;
    revoked integer := 0;
begin
    c := refuge.case_for_update(set_gbv_consent.case_id, 'set_gbv_consent');
    if c.module <> 'SGBV' then
        perform refuge.raise_field('22023', 'case_id', format('case %s is a %s case, not SGBV', c.number, c.module));
    end if;
    if consent_services is null or consent_sharing is null then
        perform refuge.raise_field('22004', case when consent_services is null then 'consent_services' else 'consent_sharing' end,
                                   'is required (true or false)');
    end if;
    perform refuge.require_text(reason, 'reason');
    select * into g from refuge.gbv_incident x where x.case_id = c.id for update;
    if not found then
        perform refuge.raise_field('P0002', 'case_id', format('case %s has no incident recorded', c.number));
    end if;
    update refuge.gbv_incident x set consent_services = set_gbv_consent.consent_services,
                                     consent_sharing = set_gbv_consent.consent_sharing
     where x.case_id = c.id;
    perform refuge.note_case_event(c, 'CONSENT_CHANGED', reason,
        jsonb_build_object('consent_services', consent_services, 'consent_sharing', consent_sharing));
    if not consent_sharing then
        revoked := refuge.revoke_referrals_without_consent(c, 'consent to sharing withdrawn');
    end if;
    return jsonb_build_object('case_id', c.id, 'number', c.number, 'consent_services', consent_services,
                              'consent_sharing', consent_sharing, 'referrals_revoked', revoked);
end
$$;
comment on function refuge.set_gbv_consent(uuid, boolean, boolean, text) is
    'record a change of an SGBV survivor''s consent; withdrawing consent to sharing revokes the case''s active referrals at once';
grant execute on function refuge.set_gbv_consent(uuid, boolean, boolean, text) to refuge_supervisor,
    refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection;
