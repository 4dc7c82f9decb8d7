-- Erasure at the person's request (issue 18): refuge.erase_individual, and
-- the reading of the audit trail's sealed values (sql/86_erasure.sql,
-- extension/person_key.c).

-- An audit row's values with the person's sealed values opened: "$sealed"
-- and "$subject" give way to the columns they hold, or to "$erased": true
-- once the person was erased.
create function refuge.audit_opened(data jsonb, opened jsonb) returns jsonb
    language sql immutable parallel safe
return case when data ? '$sealed'
            then (data - '$sealed' - '$subject') || coalesce(opened, '{"$erased": true}'::jsonb)
            else data end;
comment on function refuge.audit_opened(jsonb, jsonb) is
    'an audit row''s values with the opened personal values in place of the sealed ones';

-- The row is read again by its id under the caller's row-level security
-- (the values passed in are not trusted).
create function refuge.audit_values(entry refuge.audit_log, out old_data jsonb, out new_data jsonb)
    language sql volatile
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    select refuge.audit_opened(a.old_data, refuge.audit_unseal(a.id, 'old')),
           refuge.audit_opened(a.new_data, refuge.audit_unseal(a.id, 'new'))
      from refuge.audit_log a where a.id = entry.id;
end;
comment on function refuge.audit_values(refuge.audit_log) is
    'the old and new values of an audit row the caller may read, personal values opened with the person''s key (unless erased)';

-- Tables whose rows are all about one person and go when they are erased
-- (individual_id names the person).  The order respects foreign keys;
-- the demographic keys go after the tombstone is written.
create function refuge.erasable_tables() returns text[]
    language sql immutable parallel safe
    return array['individual_name', 'individual_contact', 'individual_address', 'individual_nationality',
                 'individual_language', 'individual_education', 'individual_occupation', 'individual_relative',
                 'document', 'flight_leg', 'specific_need', 'photo', 'biometric_vault', 'biometric_finger',
                 'biometric_iris'];

-- Has any audit row of the person's current rows kept its values in clear
-- (written before the vault key was set)?  Generated from the catalogue:
-- every table with an individual_id and a uuid id (a standard SQL body: its
-- names are bound when it is made, and it is inlined where it is called).
do $in_clear$
declare
    q text;
begin
    select string_agg(format('select 1 from refuge.%I x join refuge.audit_log a on a.table_name = %L and a.row_id = x.id
                               where x.individual_id = p_individual
                                 and not coalesce(a.new_data ? ''$subject'', a.old_data ? ''$subject'', false)',
                             c.relname, c.relname), E'\n                union all ' order by c.relname)
      into q
      from pg_catalog.pg_class c
     where c.relnamespace = 'refuge'::regnamespace and c.relkind = 'r'
       and c.relname not in ('person_key', 'erasure', 'match_profile', 'match_block')
       and exists (select 1 from pg_catalog.pg_attribute a where a.attrelid = c.oid
                      and a.attname = 'individual_id' and not a.attisdropped)
       and exists (select 1 from pg_catalog.pg_attribute a where a.attrelid = c.oid
                      and a.attname = 'id' and a.atttypid = 'uuid'::regtype and not a.attisdropped);
    execute format($f$
create function refuge.audit_in_clear(p_individual uuid) returns boolean
    language sql stable
return exists (select 1 from refuge.audit_log a
                where a.table_name = 'individual' and a.row_id = p_individual
                  and not coalesce(a.new_data ? '$subject', a.old_data ? '$subject', false))
    or exists (%s)$f$, q);
end
$in_clear$;
comment on function refuge.audit_in_clear(uuid) is
    'internal: has any audit row of the person''s rows kept its values in clear (written without the vault key)?';

-- The person's rows go (refuge.erase_individual, where the record is owned;
-- and refuge.erasure_arrived on every other node, for the rows that node
-- owns, so that what was written about the person elsewhere goes too).
-- Returns how many rows of each kind.
create function refuge.erase_rows(p_individual uuid, p_local_only boolean) returns jsonb
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    removed jsonb := '{}';
    n bigint;
    docs bigint;
begin
    -- (one static statement per table: planned once per session)
    delete from refuge.individual_name x where x.individual_id = p_individual
       and (not p_local_only or x.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then removed := removed || jsonb_build_object('individual_name', n); end if;
    delete from refuge.individual_contact x where x.individual_id = p_individual
       and (not p_local_only or x.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then removed := removed || jsonb_build_object('individual_contact', n); end if;
    delete from refuge.individual_address x where x.individual_id = p_individual
       and (not p_local_only or x.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then removed := removed || jsonb_build_object('individual_address', n); end if;
    delete from refuge.individual_nationality x where x.individual_id = p_individual
       and (not p_local_only or x.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then removed := removed || jsonb_build_object('individual_nationality', n); end if;
    delete from refuge.individual_language x where x.individual_id = p_individual
       and (not p_local_only or x.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then removed := removed || jsonb_build_object('individual_language', n); end if;
    delete from refuge.individual_education x where x.individual_id = p_individual
       and (not p_local_only or x.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then removed := removed || jsonb_build_object('individual_education', n); end if;
    delete from refuge.individual_occupation x where x.individual_id = p_individual
       and (not p_local_only or x.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then removed := removed || jsonb_build_object('individual_occupation', n); end if;
    delete from refuge.individual_relative x where x.individual_id = p_individual
       and (not p_local_only or x.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then removed := removed || jsonb_build_object('individual_relative', n); end if;
    delete from refuge.document x where x.individual_id = p_individual
       and (not p_local_only or x.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then removed := removed || jsonb_build_object('document', n); end if;
    delete from refuge.flight_leg x where x.individual_id = p_individual
       and (not p_local_only or x.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then removed := removed || jsonb_build_object('flight_leg', n); end if;
    delete from refuge.specific_need x where x.individual_id = p_individual
       and (not p_local_only or x.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then removed := removed || jsonb_build_object('specific_need', n); end if;
    delete from refuge.photo x where x.individual_id = p_individual
       and (not p_local_only or x.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then removed := removed || jsonb_build_object('photo', n); end if;
    delete from refuge.biometric_vault x where x.individual_id = p_individual
       and (not p_local_only or x.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then removed := removed || jsonb_build_object('biometric_vault', n); end if;
    delete from refuge.biometric_finger x where x.individual_id = p_individual
       and (not p_local_only or x.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then removed := removed || jsonb_build_object('biometric_finger', n); end if;
    delete from refuge.biometric_iris x where x.individual_id = p_individual
       and (not p_local_only or x.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then removed := removed || jsonb_build_object('biometric_iris', n); end if;
    update refuge.issued_document d
       set status = case when d.status = 'VALID' then 'REVOKED' else d.status end,
           ended_at = coalesce(d.ended_at, now()), ended_by = coalesce(d.ended_by, refuge.caller()),
           status_reason = case when d.status = 'VALID' then 'holder''s record erased' else d.status_reason end,
           payload = '', photo_digest = null
     where d.individual_id = p_individual and (not p_local_only or d.sync_owner = refuge.local_node());
    get diagnostics docs = row_count;
    if docs > 0 then
        removed := removed || jsonb_build_object('issued_document', docs);
    end if;
    -- the templates kept with each capture
    update refuge.biometric_capture b set fingers = '{}', irises = '{}', iris_quality = null
     where b.individual_id = p_individual and (cardinality(b.fingers) > 0 or cardinality(b.irises) > 0)
       and (not p_local_only or b.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then
        removed := removed || jsonb_build_object('biometric_capture_templates', n);
    end if;
    -- changes to the person's rows sent to other nodes keep their values:
    -- this node's earlier ones go (each node deletes its own when the
    -- erasure arrives: deleting another's would send its values as a
    -- request); the removals just requested of rows another node owns
    -- (applied by key, on arrival) keep no values
    delete from refuge.sync_change c
     where c.requested_at < now() and c.sync_owner = refuge.local_node()
       and (c.row_key ->> 'id' = p_individual::text or c.row_key ->> 'individual_id' = p_individual::text
            or c.new_values ->> 'individual_id' = p_individual::text or c.old_values ->> 'individual_id' = p_individual::text);
    update refuge.sync_change c set old_values = null
     where c.sync_owner = refuge.local_node() and c.requested_at = now() and c.action = 'DELETE' and c.old_values ->> 'individual_id' = p_individual::text;
    delete from refuge.sync_conflict c
     where c.sync_owner = refuge.local_node()
       and (c.row_key ->> 'id' = p_individual::text or c.kept_values ->> 'individual_id' = p_individual::text
        or c.lost_values ->> 'individual_id' = p_individual::text or c.base_values ->> 'individual_id' = p_individual::text);

    -- free text about the person: reasons given for status changes and
    -- withdrawals; pending status requests are rejected
    update refuge.status_change x
       set status = case when x.status = 'REQUESTED' then 'REJECTED' else x.status end,
           decided_by = coalesce(x.decided_by, refuge.caller()), decided_at = coalesce(x.decided_at, now()),
           reason = '(erased with the record)',
           decision_comment = case when x.decision_comment is not null or x.status = 'REQUESTED'
                                   then '(erased with the record)' end
     where x.individual_id = p_individual and (not p_local_only or x.sync_owner = refuge.local_node())
       and (x.reason <> '(erased with the record)' or x.status = 'REQUESTED');
    update refuge.status_history x set reason = '(erased with the record)'
     where x.individual_id = p_individual and x.reason is not null and x.reason <> '(erased with the record)'
       and (not p_local_only or x.sync_owner = refuge.local_node());
    update refuge.consent x set withdrawal_reason = null
     where x.individual_id = p_individual and x.withdrawal_reason is not null
       and (not p_local_only or x.sync_owner = refuge.local_node());
    -- (since 0.15.0) why the person's appointments were cancelled or missed
    update refuge.appointment x set status_reason = '(erased with the record)'
     where x.individual_id = p_individual and x.status_reason is not null
       and x.status_reason <> '(erased with the record)'
       and (not p_local_only or x.sync_owner = refuge.local_node());
    -- the person leaves their household (family ties of the others stay as ids)
    update refuge.group_membership x set valid_to = greatest(now(), x.valid_from), end_reason = 'CLOSURE'
     where x.individual_id = p_individual and x.valid_to is null
       and (not p_local_only or x.sync_owner = refuge.local_node());
    return removed;
end
$$;
comment on function refuge.erase_rows(uuid, boolean) is
    'internal: remove the rows about one person alone (of this node only, when local_only), revoke their documents, clear their capture templates';

-- The cases a person is a member or the principal of.
create function refuge.member_cases(p_individual uuid) returns uuid[]
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
    return array(select m.case_id from refuge.case_member m where m.individual_id = p_individual
                 union
                 select c.id from refuge.process_case c where c.principal_id = p_individual);
comment on function refuge.member_cases(uuid) is
    'internal: the cases a person is a member or the principal of';

-- Is this a case file of erased people alone: closed, its principal and
-- every member erased (recorded in refuge.erasure, not merely the status;
-- a member whose record this node lacks counts as not erased)?  Such a
-- file was about them only.  p_erasing: a person being erased, counted as
-- erased before their erasure is recorded (refuge.erase_individual).
create function refuge.case_file_erased(p_case uuid, p_erasing uuid default null) returns boolean
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
    return exists (select 1 from refuge.process_case c
                    where c.id = p_case and c.closed
                      and (c.principal_id = p_erasing
                           or exists (select 1 from refuge.erasure e where e.individual_id = c.principal_id)))
       and not exists (select 1 from refuge.case_member m
                        where m.case_id = p_case and m.individual_id is distinct from p_erasing
                          and not exists (select 1 from refuge.erasure e where e.individual_id = m.individual_id));
comment on function refuge.case_file_erased(uuid, uuid) is
    'internal: is the case closed, its principal and every member erased (its text and key go)?';

-- What a case recorded as codes, dates and ids stays; free text goes: of
-- a case's data (its fields, an event's or an approval's), the keys its
-- module declares (case_module.open_fields, workflow_transition.fields and
-- sets) as a choice among codes (and the value is one), a date, an integer,
-- a country, a person or a uuid, and numbers and booleans (scores).
-- "text" and "object" fields go, as does any other string.
create function refuge.case_codes_only(p_module text, data jsonb) returns jsonb
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
    return case when data is null then null when jsonb_typeof(data) <> 'object' then '{}'::jsonb else
        coalesce((select jsonb_object_agg(e.key, e.value) from jsonb_each(data) e
                   where jsonb_typeof(e.value) in ('number', 'boolean')
                      or exists (select 1
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

-- The case files of erased people alone (refuge.case_file_erased) that the
-- person was a member of: what staff wrote in them (notes, documents, the
-- reasons and comments of events, approvals, alerts, links, referrals and
-- transfers, the SGBV narrative, the free text of the case's fields) is
-- replaced in this node's rows, and this node's key of the case is
-- destroyed, so that the audit trail's values of the case, sealed under it,
-- become unreadable.  Codes, states, dates and who acted stay: the case
-- remains a fact for statistics.  Run where the erasure is written and
-- where it arrives (refuge.erasure_arrived); a second run changes nothing.
-- A case shared with members who are not erased is their record too: it
-- keeps its text (README, Erasure).
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
    -- the person's cases, locked in one order: two members erased at once
    -- each see the other's erasure once the first commits
    cases := refuge.member_cases(p_individual);
    perform 1 from refuge.process_case pc where pc.id = any (cases) order by pc.id for update;
    cases := array(select x from unnest(cases) x where refuge.case_file_erased(x));
    if cardinality(cases) = 0 then
        return removed;
    end if;

    -- a step awaiting approval is rejected (the file takes no new entry)
    update refuge.case_approval x
       set status = 'REJECTED', decided_by = refuge.caller(), decided_at = now()
     where x.case_id = any (cases) and x.sync_owner = refuge.local_node() and x.status = 'REQUESTED';

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
       set reason = case when x.reason is not null then marker end, data = refuge.case_codes_only(pc.module, x.data)
      from refuge.process_case pc
     where pc.id = x.case_id and x.case_id = any (cases) and x.sync_owner = refuge.local_node()
       and (x.reason <> marker or x.data <> refuge.case_codes_only(pc.module, x.data));
    get diagnostics n = row_count; total := total + n;
    update refuge.case_approval x
       set reason = case when x.reason is not null then marker end,
           decision_comment = case when x.decision_comment is not null then marker end,
           data = refuge.case_codes_only(pc.module, x.data)
      from refuge.process_case pc
     where pc.id = x.case_id and x.case_id = any (cases) and x.sync_owner = refuge.local_node()
       and (x.reason <> marker or x.decision_comment <> marker or x.data <> refuge.case_codes_only(pc.module, x.data));
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
    -- (the narrative is sealed again, which needs the vault key: a node
    -- without it, against the README's advice, must still apply the erasure)
    if refuge.vault_key_loaded() then
        update refuge.gbv_incident g
           set sealed = refuge.vault_seal(convert_to(jsonb_build_object('narrative_erased_at', now())::text, 'UTF8'),
                                          'gbv_incident:' || g.case_id),
               narrative_erased_at = now()
         where g.case_id = any (cases) and g.sync_owner = refuge.local_node() and g.narrative_erased_at is null;
        get diagnostics n = row_count; total := total + n;
    end if;
    -- what readers gave as the purpose of reading the case
    update refuge.sensitive_read r set purpose = marker
     where r.case_id = any (cases) and r.sync_owner = refuge.local_node() and r.purpose <> marker;
    get diagnostics n = row_count; total := total + n;
    -- changes to the file's rows sent to or in conflict with other nodes
    -- keep their values: this node's go (as refuge.erase_rows does)
    delete from refuge.sync_change x
     where x.sync_owner = refuge.local_node()
       and (x.row_key ->> 'id' = any (cases::text[]) or x.row_key ->> 'case_id' = any (cases::text[])
            or x.new_values ->> 'case_id' = any (cases::text[]) or x.old_values ->> 'case_id' = any (cases::text[]));
    delete from refuge.sync_conflict x
     where x.sync_owner = refuge.local_node()
       and (x.row_key ->> 'id' = any (cases::text[]) or x.row_key ->> 'case_id' = any (cases::text[])
            or x.kept_values ->> 'case_id' = any (cases::text[]) or x.lost_values ->> 'case_id' = any (cases::text[])
            or x.base_values ->> 'case_id' = any (cases::text[]));

    foreach c in array cases loop
        perform refuge.destroy_person_key(c);
    end loop;
    return jsonb_build_object('case_files', cardinality(cases), 'case_file_rows', total);
end
$$;
comment on function refuge.erase_case_files(uuid) is
    'internal: the text of the case files of erased people alone that the person was a member of goes from this node''s rows, and the cases'' keys with it';

-- Erase a person at their request (refuge_admin, in the person's
-- operation, where the record is owned).  What it does, in one transaction:
--  * removes every row about the person alone (names and aliases, contacts,
--    addresses, nationalities, languages, education, occupations, relatives
--    they declared, identity documents, flight, specific needs, photos, the
--    vault's images, fingerprint and iris templates, demographic keys);
--  * revokes the documents issued to them and blanks what they print;
--  * leaves the record as a tombstone: its id, number, operation, site, sex,
--    population type and the dates of registration and erasure, status
--    ERASED, names and birth date gone (family ties and case membership are
--    kept as ids, since they are also the others' records);
--  * records the erasure (refuge.erasure), which destroys the person's key
--    here and, arriving by replication, at every other node: the audit
--    trail's values of the person, sealed under that key, become unreadable
--    while refuge.verify_audit() still verifies (the chain is over what is
--    stored).
-- The tombstone does not block a new biometric enrolment of the person:
-- that would need their templates, which are what erasure removes.  A held
-- record (an open fraud investigation) is refused.
create function refuge.erase_individual(individual_id uuid, reason text) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    p refuge.individual;
    why text := btrim(reason);
    removed jsonb;
    in_clear boolean;
    files uuid[];
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
    -- the case files of erased people alone that this erasure completes
    -- (rewritten by refuge.erasure_arrived, once the erasure is recorded)
    files := array(select x from unnest(refuge.member_cases(p.id)) x where refuge.case_file_erased(x, p.id));
    if cardinality(files) > 0 then
        removed := removed || jsonb_build_object('case_files', cardinality(files));
        -- a file audited before its values were sealed (before 0.15.0, or
        -- without the vault key) keeps that history in clear: said, as for
        -- the person's own rows (the case's own audit rows tell)
        in_clear := in_clear
            or exists (select 1 from refuge.audit_log a
                        where a.table_name = 'process_case' and a.row_id = any (files)
                          and not coalesce(a.new_data ? '$subject', a.old_data ? '$subject', false));
    end if;

    insert into refuge.erasure (individual_id, operation_id, reason, removed, audit_in_clear, erased_by)
    values (p.id, p.operation_id, why, removed, in_clear, refuge.caller());

    return jsonb_build_object('individual_id', p.id, 'number', p.number, 'erased_at', now(), 'removed', removed,
                              'audit_in_clear', in_clear, 'tombstone', true, 'reenrolment_blocked', false);
end
$$;
comment on function refuge.erase_individual(uuid, text) is
    'admin: erase a person at their request: their data removed, the record left as a tombstone, their key destroyed so that the audit trail''s values of them become unreadable (verify_audit still verifies)';
grant execute on function refuge.erase_individual(uuid, text) to refuge_admin;
grant execute on function refuge.audit_values(refuge.audit_log) to refuge_supervisor, refuge_admin,
    refuge_biometrics_admin, refuge_dba;
grant execute on function refuge.audit_opened(jsonb, jsonb) to refuge_supervisor, refuge_admin,
    refuge_biometrics_admin, refuge_dba;
grant execute on function refuge.audit_unseal(bigint, text) to refuge_supervisor, refuge_admin,
    refuge_biometrics_admin, refuge_dba;

-- A tombstone stays one: nothing writes personal data back into it (an
-- owner's changes arriving by replication still apply).
create function refuge.tombstone_guard() returns trigger
    language plpgsql
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    if OLD.status = 'ERASED' and not refuge.sync_applying() then
        raise exception using errcode = '55000', schema = 'refuge',
            message = format('individual_id: the record %s was erased at the person''s request', OLD.number);
    end if;
    return NEW;
end
$$;
create trigger tombstone before update on refuge.individual
    for each row execute function refuge.tombstone_guard();
alter table refuge.individual enable always trigger tombstone;

-- Nor do the tables about the person alone take rows for a tombstone
-- (documents, names, templates, ...): a caller gets the same error.
create function refuge.tombstone_child_guard() returns trigger
    language plpgsql
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    n text;
begin
    if refuge.sync_applying() then
        return NEW;
    end if;
    select i.number into n from refuge.individual i where i.id = NEW.individual_id and i.status = 'ERASED';
    if found then
        raise exception using errcode = '55000', schema = 'refuge',
            message = format('individual_id: the record %s was erased at the person''s request', n);
    end if;
    return NEW;
end
$$;
-- Every table with rows about a person takes no new row for a tombstone;
-- those about the person alone, consents and notices take no change
-- either.  (Family, case, deduplication and status records stay workable:
-- they are the others' too.)  Not the logs that
-- record what happens to the record (status history, reads, the vault's
-- accesses), nor the erasure's own tables.
do $tombstone$
declare
    t text;
begin
    for t in select c.relname from pg_catalog.pg_class c
              where c.relnamespace = 'refuge'::regnamespace and c.relkind = 'r'
                and c.relname not in ('person_key', 'erasure', 'match_profile', 'match_block', 'status_history',
                                      'sensitive_read', 'vault_access')
                and exists (select 1 from pg_catalog.pg_attribute a where a.attrelid = c.oid
                               and a.attname = 'individual_id' and not a.attisdropped)
              order by c.relname
    loop
        execute format('create trigger tombstone before insert%s on refuge.%I
                        for each row execute function refuge.tombstone_child_guard()',
                       case when t = any (refuge.erasable_tables() || array['consent', 'information_notice'])
                            then ' or update' else '' end, t);
        execute format('alter table refuge.%I enable always trigger tombstone', t);
    end loop;
end
$tombstone$;
