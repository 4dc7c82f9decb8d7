-- refuge 0.14.0 -> 0.15.0: a case file's audit values sealed under the
-- case's own key; the text of the case files of erased people alone goes
-- with them
\echo Use "ALTER EXTENSION refuge UPDATE TO '0.15.0'" to load this file. \quit

-- the case file's tables: their audit values sealed under the case's key
-- ('@case', extension/audit.c), as sql/99_security.sql
do $$
declare
    t record;
begin
    for t in select * from (values
        ('case_alert', array['self', '@case']),
        ('case_approval', array['none', '@case']),
        ('case_document', array['none', 'content', 'sealed', '@case']),
        ('case_event', array['none', '@case']),
        ('case_link', array['none', '@case']),
        ('case_note', array['none', 'sealed', 'body', '@case']),
        ('case_referral', array['none', '@case']),
        ('case_transfer', array['none', '@case']),
        ('gbv_incident', array['none', 'sealed', '@case']),
        ('process_case', array['self', '@case'])) v(tab, audit_args)
    loop
        execute format('drop trigger audit on refuge.%I', t.tab);
        execute format('create trigger audit after insert or update or delete on refuge.%I
                        for each row execute function refuge.audit_row(%s)', t.tab,
                       (select string_agg(quote_literal(a), ', ') from unnest(t.audit_args) a));
        execute format('alter table refuge.%I enable always trigger audit', t.tab);
    end loop;
end
$$;

-- sql/15_audit.sql: append_only
create or replace function refuge.append_only() returns trigger
    language plpgsql
as $$
begin
    -- the owner's copy was guarded where it was written; a copy follows it
    if refuge.sync_applying() or (tg_op = 'DELETE' and refuge.sync_purging()) then
        return coalesce(NEW, OLD);
    end if;
    -- a case moving to another operation re-routes its events, HQ takes over
    -- the rows of a field site that closed; their content stays
    if tg_op = 'UPDATE' and to_jsonb(NEW) - array['sync_operation', 'sync_shared', 'sync_owner', 'updated_at', 'updated_by']
                            = to_jsonb(OLD) - array['sync_operation', 'sync_shared', 'sync_owner', 'updated_at', 'updated_by'] then
        return NEW;
    end if;
    -- a sealed note or document sealed again under a new vault key
    -- (refuge.rotate_vault_key): the same content, verified
    if tg_op = 'UPDATE' and tg_table_name in ('case_note', 'case_document') then
        if to_jsonb(NEW) - array['sealed', 'updated_at', 'updated_by'] = to_jsonb(OLD) - array['sealed', 'updated_at', 'updated_by']
           and NEW.sealed is not null and OLD.sealed is not null
           and refuge.vault_open(NEW.sealed, tg_table_name || ':' || NEW.id)
               = refuge.vault_open(OLD.sealed, tg_table_name || ':' || OLD.id) then
            return NEW;
        end if;
    end if;
    -- the purpose a reader gave, replaced once the person read about was
    -- erased (refuge.erasure_arrived): it can name them
    if tg_op = 'UPDATE' and tg_table_name in ('sensitive_read', 'vault_access') then
        if NEW.purpose = '(erased with the record)' and to_jsonb(NEW) - 'purpose' = to_jsonb(OLD) - 'purpose'
           and (exists (select 1 from refuge.individual i where i.id = NEW.individual_id and i.status = 'ERASED')
                or (tg_table_name = 'sensitive_read' and refuge.case_file_erased((to_jsonb(NEW) ->> 'case_id')::uuid))) then
            return NEW;
        end if;
    end if;
    -- what staff wrote in the case file of erased people alone, replaced
    -- (refuge.erase_case_files): only by the markers, nothing else changed
    if tg_op = 'UPDATE' and tg_table_name in ('case_note', 'case_document', 'case_event')
       and refuge.case_file_erased((to_jsonb(NEW) ->> 'case_id')::uuid) then
        if (tg_table_name = 'case_note'
            and to_jsonb(NEW) - array['body', 'sealed', 'confidential'] = to_jsonb(OLD) - array['body', 'sealed', 'confidential']
            and to_jsonb(NEW) @> '{"body": "(erased with the record)", "sealed": null, "confidential": false}')
           or (tg_table_name = 'case_document'
               and to_jsonb(NEW) - array['title', 'content', 'sealed', 'confidential', 'size_bytes', 'sha256']
                   = to_jsonb(OLD) - array['title', 'content', 'sealed', 'confidential', 'size_bytes', 'sha256']
               and to_jsonb(NEW) @> jsonb_build_object('title', '(erased with the record)', 'content', '\x', 'sealed', null,
                                                       'confidential', false, 'size_bytes', 0,
                                                       'sha256', sha256(''::bytea)::text))
           or (tg_table_name = 'case_event'
               and to_jsonb(NEW) - array['reason', 'data'] = to_jsonb(OLD) - array['reason', 'data']
               and coalesce(to_jsonb(NEW) ->> 'reason', '(erased with the record)') = '(erased with the record)'
               and to_jsonb(NEW) -> 'data' is not distinct from
                   refuge.case_codes_only((select c.module from refuge.process_case c
                                            where c.id = (to_jsonb(NEW) ->> 'case_id')::uuid),
                                          to_jsonb(OLD) -> 'data')) then
            return NEW;
        end if;
    end if;
    raise exception using errcode = '42501',
        message = format('%s is append-only: rows are never %s', tg_table_name,
                         case tg_op when 'DELETE' then 'deleted' else 'changed' end);
end
$$;

-- functions/46_erasure.sql: erase_individual
create or replace function refuge.erase_individual(individual_id uuid, reason text) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    p refuge.individual;
    why text := btrim(reason);
    removed jsonb;
    in_clear boolean;
begin
    perform refuge.authorize('refuge_admin', 'erase_individual');
    if erase_individual.individual_id is null then
        perform refuge.raise_field('22004', 'individual_id', 'is required');
    end if;
    if why is null or why = '' then
        perform refuge.raise_field('22004', 'reason', 'is required');
    end if;
    if length(why) > 500 then
        perform refuge.raise_field('22001', 'reason', format('is %s characters long; at most 500', length(why)));
    end if;
    select * into p from refuge.individual i where i.id = erase_individual.individual_id;
    perform refuge.require_visible(p.id is not null and refuge.in_scope(p.operation_id, p.site_id), 'individual_id');
    select * into p from refuge.individual i where i.id = p.id for update;
    if p.status = 'ERASED' then
        perform refuge.raise_field('55000', 'individual_id', format('the record %s was already erased', p.number));
    end if;
    if p.sync_owner <> refuge.local_node() then
        perform refuge.raise_field('55000', 'individual_id',
            format('the record %s is owned by node %s; erase it there (the erasure reaches every node)',
                   p.number, p.sync_owner));
    end if;
    -- (one answer for every hold: the caller may not see the case or the investigation)
    if exists (select 1 from refuge.fraud_case f
                where (f.individual_id = p.id or f.other_id = p.id) and f.status = 'OPEN')
       or exists (select 1 from refuge.case_member cm join refuge.process_case c on c.id = cm.case_id
                   where cm.individual_id = p.id and not c.closed) then
        perform refuge.raise_field('55000', 'individual_id',
            format('the record %s is held by open work on it (a case or an investigation): it is erased once that is closed',
                   p.number));
    end if;
    if exists (select 1 from refuge.group_membership m
                where m.individual_id = p.id and m.valid_to is null and m.relationship = 'PA'
                  and exists (select 1 from refuge.group_membership o
                               where o.group_id = m.group_id and o.valid_to is null and o.individual_id <> p.id)) then
        perform refuge.raise_field('55000', 'individual_id',
            format('the record %s is the principal applicant of a household with other members: make another member principal first (refuge.set_principal)',
                   p.number));
    end if;
    if not refuge.vault_key_loaded() then
        perform refuge.raise_field('55000', 'individual_id',
            'the vault key is not loaded here: the audit trail''s values of the person could not be made unreadable',
            'A superuser sets refuge.vault_key_file (README, Data protection).');
    end if;

    -- audit rows of the person's rows written without their key (before the
    -- vault key was set) hold their values in clear
    in_clear := refuge.audit_in_clear(p.id);

    removed := refuge.erase_rows(p.id, false);

    update refuge.individual i
       set given_name = null, middle_name = null, family_name = '[erased]', second_family_name = null,
           maiden_name = null, mother_name = null, father_name = null, date_of_birth = null,
           dob_precision = 'ESTIMATED', place_of_birth = null, birth_country = null, ethnicity = null,
           religion = null, marital_status = null, education_level = null, arrival_date = null,
           status = 'ERASED', status_date = current_date, status_reason = null
     where i.id = p.id;

    -- after the tombstone, whose names would otherwise make new demographic keys
    delete from refuge.match_block b where b.individual_id = p.id;
    delete from refuge.match_profile m where m.individual_id = p.id;
    -- after the tombstone: the case files of erased people alone
    removed := removed || refuge.erase_case_files(p.id);

    insert into refuge.erasure (individual_id, operation_id, reason, removed, audit_in_clear, erased_by)
    values (p.id, p.operation_id, why, removed, in_clear, refuge.caller());

    return jsonb_build_object('individual_id', p.id, 'number', p.number, 'erased_at', now(), 'removed', removed,
                              'audit_in_clear', in_clear, 'tombstone', true, 'reenrolment_blocked', false);
end
$$;

-- sql/86_erasure.sql: erasure_arrived
create or replace function refuge.erasure_arrived() returns trigger
    language plpgsql
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    perform refuge.destroy_person_key(NEW.individual_id);
    -- arrived from the node that erased: the person's rows this node owns go
    -- too, and its demographic keys of them
    if NEW.sync_owner <> refuge.local_node() then
        perform refuge.erase_rows(NEW.individual_id, true);
        delete from refuge.match_block b where b.individual_id = NEW.individual_id;
        delete from refuge.match_profile m where m.individual_id = NEW.individual_id;
    end if;
    -- what readers of the person's records wrote as their purpose can name
    -- them (a demographic search logs the names searched): this node's
    -- rows keep who, when and what kind, not why
    update refuge.sensitive_read r set purpose = '(erased with the record)'
     where r.individual_id = NEW.individual_id and r.sync_owner = refuge.local_node()
       and r.purpose <> '(erased with the record)';
    update refuge.vault_access r set purpose = '(erased with the record)'
     where r.individual_id = NEW.individual_id and r.sync_owner = refuge.local_node()
       and r.purpose <> '(erased with the record)';
    -- the case files of erased people alone: their text and this node's
    -- keys of them
    perform refuge.erase_case_files(NEW.individual_id);
    return NEW;
end
$$;

-- functions/46_erasure.sql: case_file_erased (new)
create function refuge.case_file_erased(p_case uuid) returns boolean
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
    return exists (select 1 from refuge.process_case c join refuge.individual i on i.id = c.principal_id
                    where c.id = p_case and c.closed and i.status = 'ERASED')
       and not exists (select 1 from refuge.case_member m join refuge.individual i on i.id = m.individual_id
                        where m.case_id = p_case and i.status <> 'ERASED');
comment on function refuge.case_file_erased(uuid) is
    'internal: is the case closed, its principal and every member erased (its text and key go)?';

-- functions/46_erasure.sql: case_codes_only (new)
create function refuge.case_codes_only(p_module text, data jsonb) returns jsonb
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
    return case when data is null then null when jsonb_typeof(data) <> 'object' then '{}'::jsonb else
        coalesce((select jsonb_object_agg(e.key, e.value) from jsonb_each(data) e
                   where exists (select 1
                                   from (select t.fields from refuge.workflow_transition t where t.module = p_module
                                         union all
                                         select m.open_fields from refuge.case_module m where m.code = p_module) f(spec),
                                        jsonb_each(f.spec) s
                                  where rtrim(s.key, '?') = e.key
                                    and ((jsonb_typeof(s.value) = 'array' and s.value @> jsonb_build_array(e.value))
                                         or s.value #>> '{}' in ('date', 'integer', 'country', 'individual', 'uuid')))
                      or exists (select 1 from refuge.workflow_transition t
                                  where t.module = p_module and t.sets ? e.key)),
                 '{}'::jsonb) end;
comment on function refuge.case_codes_only(text, jsonb) is
    'internal: a case''s data without its free text (the module''s code, date, integer, country and id fields stay)';

-- functions/46_erasure.sql: erase_case_files (new)
create function refuge.erase_case_files(p_individual uuid) returns jsonb
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    cases uuid[];
    c uuid;
    removed jsonb := '{}';
    n bigint;
    total bigint := 0;
    marker constant text := '(erased with the record)';
begin
    select coalesce(array_agg(x.id), '{}') into cases
      from (select distinct m.case_id as id from refuge.case_member m where m.individual_id = p_individual
            union
            select pc.id from refuge.process_case pc where pc.principal_id = p_individual) x
     where refuge.case_file_erased(x.id);
    if cardinality(cases) = 0 then
        return removed;
    end if;

    update refuge.process_case x set data = refuge.case_codes_only(x.module, x.data)
     where x.id = any (cases) and x.sync_owner = refuge.local_node()
       and x.data <> refuge.case_codes_only(x.module, x.data);
    get diagnostics n = row_count; total := total + n;
    update refuge.case_note x set body = marker, sealed = null, confidential = false
     where x.case_id = any (cases) and x.sync_owner = refuge.local_node() and x.body is distinct from marker;
    get diagnostics n = row_count; total := total + n;
    update refuge.case_document x
       set title = marker, content = ''::bytea, sealed = null, confidential = false, size_bytes = 0,
           sha256 = sha256(''::bytea)
     where x.case_id = any (cases) and x.sync_owner = refuge.local_node() and x.title is distinct from marker;
    get diagnostics n = row_count; total := total + n;
    update refuge.case_event x
       set reason = case when x.reason is not null then marker end,
           data = refuge.case_codes_only((select c.module from refuge.process_case c where c.id = x.case_id), x.data)
     where x.case_id = any (cases) and x.sync_owner = refuge.local_node()
       and (x.reason <> marker
            or x.data <> refuge.case_codes_only((select c.module from refuge.process_case c where c.id = x.case_id), x.data));
    get diagnostics n = row_count; total := total + n;
    update refuge.case_approval x
       set reason = case when x.reason is not null then marker end,
           decision_comment = case when x.decision_comment is not null then marker end,
           data = refuge.case_codes_only((select c.module from refuge.process_case c where c.id = x.case_id), x.data)
     where x.case_id = any (cases) and x.sync_owner = refuge.local_node()
       and (x.reason <> marker or x.decision_comment <> marker
            or x.data <> refuge.case_codes_only((select c.module from refuge.process_case c where c.id = x.case_id), x.data));
    get diagnostics n = row_count; total := total + n;
    update refuge.case_alert x set message = marker
     where x.case_id = any (cases) and x.sync_owner = refuge.local_node() and x.message <> marker;
    get diagnostics n = row_count; total := total + n;
    update refuge.case_link x set note = null
     where x.case_id = any (cases) and x.sync_owner = refuge.local_node() and x.note is not null;
    get diagnostics n = row_count; total := total + n;
    update refuge.case_referral x
       set purpose = marker, end_reason = case when x.end_reason is not null then marker end
     where x.case_id = any (cases) and x.sync_owner = refuge.local_node()
       and (x.purpose <> marker or x.end_reason <> marker);
    get diagnostics n = row_count; total := total + n;
    update refuge.case_transfer x
       set reason = marker, decision_reason = case when x.decision_reason is not null then marker end
     where x.case_id = any (cases) and x.sync_owner = refuge.local_node()
       and (x.reason <> marker or x.decision_reason <> marker);
    get diagnostics n = row_count; total := total + n;
    update refuge.gbv_incident g
       set sealed = refuge.vault_seal(convert_to(jsonb_build_object('narrative_erased_at', now())::text, 'UTF8'),
                                      'gbv_incident:' || g.case_id),
           narrative_erased_at = now()
     where g.case_id = any (cases) and g.sync_owner = refuge.local_node() and g.narrative_erased_at is null;
    get diagnostics n = row_count; total := total + n;
    -- what readers gave as the purpose of reading the case
    update refuge.sensitive_read r set purpose = marker
     where r.case_id = any (cases) and r.sync_owner = refuge.local_node() and r.purpose <> marker;

    foreach c in array cases loop
        perform refuge.destroy_person_key(c);
    end loop;
    return jsonb_build_object('case_files', cardinality(cases), 'case_file_rows', total);
end
$$;
comment on function refuge.erase_case_files(uuid) is
    'internal: the text of the case files of erased people alone that the person was a member of goes from this node''s rows, and the cases'' keys with it';

-- every function owned by refuge_owner, none executable by PUBLIC (as sql/99_security.sql)
do $$
declare
    r record;
begin
    for r in select p.oid::regprocedure as fn from pg_catalog.pg_proc p
              where p.pronamespace in ('refuge'::regnamespace, 'refuge_warehouse'::regnamespace)
                and pg_catalog.pg_get_userbyid(p.proowner) <> 'refuge_owner'
    loop
        execute format('alter function %s owner to refuge_owner', r.fn);
    end loop;
end
$$;
revoke all on all functions in schema refuge, refuge_warehouse from public;
