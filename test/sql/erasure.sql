-- Erasure at the person's request (issue 18): personal values in the audit
-- trail sealed under a key per person, refuge.erase_individual removing the
-- person's data and destroying the key; afterwards a scan of every table of
-- the database finds none of their names, birth date, document numbers or
-- phone numbers in clear, and refuge.verify_audit() still verifies.
\set VERBOSITY terse
set client_min_messages = warning;
set search_path = public, refuge;
create function pg_temp.err(q text) returns text language plpgsql as $$
begin
    execute q;
    return 'no error';
exception when others then
    return sqlstate || ' ' || regexp_replace(regexp_replace(sqlerrm,
        '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '<id>', 'g'), '([A-Z]{3})-\d\d-(\d{6})', '\1-YY-\2', 'g');
end $$;

select refuge.create_operation('ETH', 'ETH', 'Ethiopia') is not null as eth, refuge.create_operation('SDN', 'SDN', 'Sudan') is not null as sdn;
select refuge.create_site('ETH', 'GAMBELLA', 'Gambella', 'CAMP', 34.58, 8.25) is not null as gambella;
drop role if exists er_reg, er_admin, er_admin_sdn, er_sup, er_sup_sdn, er_dba, er_analyst, er_rsd, er_rsd_sup;
create role er_reg;       grant refuge_registration to er_reg;
create role er_rsd;       grant refuge_rsd to er_rsd;
create role er_rsd_sup;   grant refuge_rsd, refuge_supervisor to er_rsd_sup;
create role er_admin;     grant refuge_admin to er_admin;
create role er_admin_sdn; grant refuge_admin to er_admin_sdn;
create role er_sup;       grant refuge_supervisor to er_sup;
create role er_sup_sdn;   grant refuge_supervisor to er_sup_sdn;
create role er_dba;       grant refuge_dba to er_dba;
create role er_analyst;   grant refuge_analyst to er_analyst;
select count(*) as assigned from (select refuge.assign_staff('er_reg', 'ETH'), refuge.assign_staff('er_admin', 'ETH'),
       refuge.assign_staff('er_admin_sdn', 'SDN'), refuge.assign_staff('er_sup', 'ETH'),
       refuge.assign_staff('er_sup_sdn', 'SDN'), refuge.assign_staff('er_rsd', 'ETH'), refuge.assign_staff('er_rsd_sup', 'ETH')) x;

-- the vault key: every personal value the audit trail records from now on
-- is sealed under a key of the person's own
select current_setting('data_directory') || '/refuge_erasure.key' as keypath \gset
do $$
begin
    execute format('copy (select encode(%L::bytea, %L)) to %L',
                   decode('a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf', 'hex'), 'hex',
                   current_setting('data_directory') || '/refuge_erasure.key');
end $$;
\setenv REFUGE_TEST_KEY :keypath
\! chmod 600 "$REFUGE_TEST_KEY"
select set_config('refuge.vault_key_file', :'keypath', false) is not null as key_file_set;

create table fam (k text primary key, principal uuid, child uuid);
grant select, insert on fam to public;
set role er_reg;
insert into fam
select k, (r -> 'members' -> 0 ->> 'individual_id')::uuid, (r -> 'members' -> 1 ->> 'individual_id')::uuid
  from (values
    ('erase', '{"operation": "ETH", "site": "GAMBELLA", "registration_level": "BASIC", "population_type": "REF",
      "origin_country": "SSD", "members": [
        {"relationship": "PA", "given_name": "Nyabuony", "family_name": "Kuothwich", "sex": "F", "date_of_birth": "1979-11-23",
         "mother_name": "Nyachuol", "place_of_birth": "Akobowich",
         "names": [{"kind": "ALIAS", "given_name": "Nyabuonyalias"}],
         "contacts": [{"type": "PHONE", "value": "+251911739462"}],
         "documents": [{"type": "NATIONAL_ID", "number": "SSX55839217", "issuing_country": "SSD"}],
         "specific_needs": [{"code": "SP-GP", "comment": "Kuothwich needs a ramp"}]},
        {"relationship": "SON", "given_name": "Gatkuoth", "family_name": "Kuothwich", "sex": "M", "date_of_birth": "2012-02-14"}]}'::jsonb),
    ('keep', '{"operation": "ETH", "site": "GAMBELLA", "registration_level": "BASIC", "population_type": "REF",
      "origin_country": "SSD", "members": [
        {"relationship": "PA", "given_name": "Nyaduoth", "family_name": "Riekwal", "sex": "F", "date_of_birth": "1983-05-09",
         "contacts": [{"type": "PHONE", "value": "+251922111333"}]}]}'::jsonb)) v(k, payload),
  lateral (select refuge.register_group(v.payload) r) x;
reset role;

-- an appointment of hers cancelled, the reason naming her (erased with
-- her since 0.15.0)
select refuge.create_appointment_slots('ETH', 'GAMBELLA', 'RSD_INTERVIEW', current_date + 1, '08:00', '09:00', 30, 5) as slots;
select refuge.cancel_appointment((refuge.book_appointment(
           (select s.id from refuge.appointment_slot s order by s.starts_at limit 1),
           (select m.group_id from refuge.group_membership m where m.individual_id = f.principal and m.valid_to is null),
           f.principal) ->> 'appointment_id')::uuid, 'Nyabuony went back to Akobowich') is not null as cancelled
  from fam f where f.k = 'erase';

-- her fingerprints and irises enrolled; a clerk's demographic search of her
-- logged (the log keeps the names searched)
select refuge.enrol_biometrics(principal, refuge.synthetic_templates(43, 1)) ->> 'decision' as enrolled from fam where k = 'erase';
set role er_reg;
select count(*) as candidates from fam, refuge.possible_duplicates(fam.principal) where k = 'erase';
reset role;
select count(*) as read_logged from refuge.sensitive_read r join fam f on f.principal = r.individual_id
 where f.k = 'erase' and r.purpose ~ 'nyabuony';

-- 1. the audit trail holds the person's values sealed: ids in clear, the
-- rest under "$sealed"; no name is readable in it, and those who read the
-- trail open it with refuge.audit_values
select count(*) > 0 as sealed_rows,
       count(*) filter (where a.new_data::text ~ 'Kuothwich|Nyabuony|1979-11-23|SSX55839217|911739462') as names_in_clear
  from refuge.audit_log a where a.new_data ? '$sealed';
select count(*) as clear_rows_naming
  from refuge.audit_log a
 where coalesce(a.new_data::text, '') || coalesce(a.old_data::text, '') ~ 'Kuothwich|Nyabuony|Riekwal|SSX55839217';
select a.new_data ? 'id' as id_in_clear, a.new_data ? 'operation_id' as operation_in_clear,
       a.new_data ? 'given_name' as name_in_clear, a.new_data ->> '$subject' = f.principal::text as subject
  from refuge.audit_log a, fam f where f.k = 'erase' and a.table_name = 'individual' and a.row_id = f.principal and a.action = 'I';
set role er_sup;
select (refuge.audit_values(a)).new_data ->> 'given_name' as opened, (refuge.audit_values(a)).new_data ->> 'date_of_birth' as dob
  from refuge.audit_log a, fam f where f.k = 'erase' and a.table_name = 'individual' and a.row_id = f.principal and a.action = 'I';
select pg_temp.err($q$select refuge.audit_unseal(1, 'both')$q$) as bad_side;
reset role;
-- only rows the caller may read open: a supervisor of another operation
-- gets nothing, whatever row value they pass in
select a.id as audit_id from refuge.audit_log a, fam f
 where f.k = 'erase' and a.table_name = 'individual' and a.row_id = f.principal and a.action = 'I' \gset
set role er_sup_sdn;
select refuge.audit_unseal(:audit_id, 'new') is null as other_operation_unseals,
       (select count(*) from refuge.audit_values(row(:audit_id, now(), 1, 'x', null, 'individual', null, 'I', null,
                                                    '{"$sealed": "rfp1:x"}', 'registration', null)::refuge.audit_log)
         where new_data is not null) as forged_row_opens;
reset role;
-- nobody reads the keys, wrapped or not
set role er_admin;
select pg_temp.err('select count(*) from refuge.person_key') as admin_reads_keys;
reset role;
set role er_dba;
select pg_temp.err('select count(*) from refuge.person_key') as dba_reads_keys;
reset role;
set role er_analyst;
select pg_temp.err('select refuge.audit_unseal(1, ''new'')') as analyst_unseals;
reset role;
select count(*) as keys, count(*) filter (where wrapped is not null and length(wrapped) = 64) as wrapped_64 from refuge.person_key;

-- the vault key is rotated: the old one named as previous, a batch wraps
-- every person key again (the keys themselves, and so the audit trail, do
-- not change); then the old key goes and everything still opens
select current_setting('data_directory') || '/refuge_erasure_new.key' as newkeypath \gset
do $$
begin
    execute format('copy (select encode(%L::bytea, %L)) to %L',
                   decode('c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf', 'hex'), 'hex',
                   current_setting('data_directory') || '/refuge_erasure_new.key');
end $$;
\setenv REFUGE_TEST_NEW_KEY :newkeypath
\! chmod 600 "$REFUGE_TEST_NEW_KEY"
select set_config('refuge.vault_key_file', :'newkeypath', false) is not null as new_key,
       set_config('refuge.vault_previous_key_file', :'keypath', false) is not null as previous_key;
set role er_reg;
select pg_temp.err('select refuge.rotate_vault_key()') as clerk_rotates;
reset role;
set role er_dba;
select r -> 'done' -> 'person_keys' as rewrapped, r -> 'remaining' as remaining
  from refuge.rotate_vault_key(2) r;
select r -> 'done' -> 'person_keys' as rewrapped, r -> 'remaining' as remaining
  from refuge.rotate_vault_key() r;
reset role;
-- a session still reading the old key file makes nothing new under it
select set_config('refuge.vault_key_file', :'keypath', false) is not null as stale_session;
set role er_reg;
select pg_temp.err($q$select refuge.register_group('{"operation": "ETH", "site": "GAMBELLA", "registration_level": "BASIC",
    "population_type": "REF", "members": [{"relationship": "PA", "given_name": "Stale", "family_name": "Session", "sex": "F"}]}')$q$)
    as stale_registration;
reset role;
select set_config('refuge.vault_key_file', :'newkeypath', false) is not null as reconnected;
-- a rotation to the key it retired, or with the same key twice, is refused
select set_config('refuge.vault_previous_key_file', :'newkeypath', false) is not null as same_key;
set role er_dba;
select pg_temp.err('select refuge.rotate_vault_key()') as previous_is_current;
reset role;
select set_config('refuge.vault_previous_key_file', '', false) = '' as previous_gone;
select count(distinct key_id) as key_ids from refuge.person_key where wrapped is not null;
set role er_sup;
select (refuge.audit_values(a)).new_data ->> 'given_name' as opens_after_rotation
  from refuge.audit_log a, fam f where f.k = 'erase' and a.table_name = 'individual' and a.row_id = f.principal and a.action = 'I';
reset role;

-- 2. who may erase, and what is refused
set role er_reg;
select pg_temp.err(format($q$select refuge.erase_individual(%L, 'request of the person')$q$, principal)) as clerk
  from fam where k = 'erase';
reset role;
set role er_admin_sdn;
select pg_temp.err(format($q$select refuge.erase_individual(%L, 'request of the person')$q$, principal)) as other_operation
  from fam where k = 'erase';
reset role;
set role er_admin;
select pg_temp.err(format($q$select refuge.erase_individual(%L, '  ')$q$, principal)) as no_reason,
       pg_temp.err(format($q$select refuge.erase_individual(%L, %L)$q$, principal, repeat('x', 501))) as long_reason,
       pg_temp.err($q$select refuge.erase_individual(null, 'x')$q$) as no_id,
       pg_temp.err($q$select refuge.erase_individual(gen_random_uuid(), 'x')$q$) as unknown
  from fam where k = 'erase';
reset role;

-- the principal of a household with other members is not erased: another
-- member becomes principal first (her son, here)
set role er_admin;
select pg_temp.err(format($q$select refuge.erase_individual(%L, 'request of the person')$q$, principal)) as principal_refused
  from fam where k = 'erase';
reset role;
select m.group_id as grp from refuge.group_membership m join fam f on f.principal = m.individual_id
 where f.k = 'erase' and m.valid_to is null \gset
set role er_reg;
select count(*) as son_principal from fam, lateral (select refuge.set_principal(:'grp', fam.child, 'PRF')) x where k = 'erase';
reset role;

-- 3. an erasure rolled back changes nothing: the key still opens
begin;
set local role er_admin;
select refuge.erase_individual(principal, 'request of the person') ->> 'tombstone' as erased_in_transaction from fam where k = 'erase';
rollback;
set role er_sup;
select (refuge.audit_values(a)).new_data ->> 'given_name' as still_opens
  from refuge.audit_log a, fam f where f.k = 'erase' and a.table_name = 'individual' and a.row_id = f.principal and a.action = 'I';
reset role;
-- and one in a rolled-back subtransaction neither
set role er_admin;
do $$
begin
    begin
        perform refuge.erase_individual((select principal from fam where k = 'erase'), 'request of the person');
        raise exception 'undo';
    exception when raise_exception then
        null;
    end;
end $$;
reset role;
set role er_sup;
select (refuge.audit_values(a)).new_data ->> 'given_name' as opens_after_subtransaction
  from refuge.audit_log a, fam f where f.k = 'erase' and a.table_name = 'individual' and a.row_id = f.principal and a.action = 'I';
reset role;

-- her refugee status determination file, closed as abandoned before she
-- asks for erasure (an open one would hold the record)
-- (what staff wrote in it names her: notes, a sealed transcript, a
-- statement, the reasons given for steps, a free-text field)
set role er_rsd;
select refuge.open_case('RSD', principal, '{}', '{"application_type": "NEW"}', 'Nyabuony came with a cousin') ->> 'case_id' as rsd_case
  from fam where k = 'erase' \gset
-- (and her son's file, of which she is a member: it is his too)
select refuge.open_case('RSD', child, array[principal]) ->> 'case_id' as son_case from fam where k = 'erase' \gset
select refuge.add_case_note(:'rsd_case', 'Nyabuony described the journey from Akobowich') is not null as noted,
       refuge.add_case_note(:'rsd_case', 'Transcript: Nyabuony, daughter of Nyachuol', true, 'INTERVIEW_TRANSCRIPT') is not null as transcript,
       refuge.add_case_document(:'rsd_case', 'statement of Nyabuony', 'text/plain', convert_to('I, Nyabuony, state', 'UTF8'), false) is not null as statement;
select refuge.transition_case(:'rsd_case', 'ASSIGN_MODALITY', '{"modality": "REGULAR"}', 'Nyabuony asked for a woman interviewer') ->> 'state' as assigned,
       refuge.transition_case(:'rsd_case', 'SCHEDULE_INTERVIEW', '{"interview_date": "2026-12-01", "interpreter_language": "Nuer for Nyabuony"}') ->> 'state' as scheduled,
       refuge.transition_case(:'rsd_case', 'ABANDON') ->> 'state' as closed;
select refuge.add_case_note(:'son_case', 'school enrolment discussed') is not null as son_noted,
       refuge.transition_case(:'son_case', 'ASSIGN_MODALITY', '{"modality": "REGULAR"}') ->> 'state' as son_assigned,
       refuge.transition_case(:'son_case', 'ABANDON') ->> 'state' as son_closed;
reset role;
-- (and a step to reopen it asked for, awaiting a supervisor's approval)
set role er_rsd;
select refuge.transition_case(:'rsd_case', 'REOPEN', '{"reopen_ground": "NEW_EVIDENCE"}') ->> 'status' as reopen_asked;
select a.id as own_approval from refuge.case_approval a where a.case_id = :'rsd_case' and a.status = 'REQUESTED' \gset
reset role;

-- 4. the erasure
set role er_admin;
select r - 'individual_id' - 'number' - 'erased_at' as erased
  from (select refuge.erase_individual(principal, 'request of the person, form DP-7') r from fam where k = 'erase') x;
select pg_temp.err(format($q$select refuge.erase_individual(%L, 'again')$q$, principal)) as twice from fam where k = 'erase';
select e.reason, e.audit_in_clear, e.erased_by from refuge.erasure e join fam f on f.principal = e.individual_id;
reset role;

-- the tombstone: number, operation and dates stay, status ERASED, nothing
-- else; it takes no personal data back
select i.status, i.given_name, i.family_name, i.date_of_birth, i.mother_name, i.place_of_birth, i.number is not null as numbered
  from refuge.individual i join fam f on f.principal = i.id;
select pg_temp.err(format($q$update refuge.individual set given_name = 'Nyabuony' where id = %L$q$, principal)) as rewrite
  from fam where k = 'erase';
-- nor through the tables about her alone
set role er_reg;
select pg_temp.err(format($q$select refuge.add_document(%L, '{"type": "NATIONAL_ID", "number": "SSX55839217", "issuing_country": "SSD"}')$q$, principal)) as add_document,
       pg_temp.err(format($q$select refuge.update_individual(%L, '{"given_name": "Nyabuony"}')$q$, principal)) as update_individual,
       pg_temp.err(format($q$select refuge.record_consent(%L, 'REFERRAL')$q$, principal)) as record_consent
  from fam where k = 'erase';
reset role;
-- no demographic profile, not even after every profile is rebuilt (a
-- tombstone is nobody's duplicate)
select refuge.rebuild_match_profiles() > 0 as rebuilt;
select count(*) as profiles, (select count(*) from refuge.match_block b join fam f on f.principal = b.individual_id and f.k = 'erase') as blocks
  from refuge.match_profile p join fam f on f.principal = p.individual_id and f.k = 'erase';
-- her templates are gone from the gallery and from the captures; the read
-- log keeps who searched her, when and what kind of read, not the names
select (select count(*) from refuge.biometric_finger b where b.individual_id = f.principal) as fingers,
       (select count(*) from refuge.biometric_iris b where b.individual_id = f.principal) as irises,
       (select sum(cardinality(c.fingers) + cardinality(c.irises)) from refuge.biometric_capture c where c.individual_id = f.principal) as captured,
       (select string_agg(r.kind || ': ' || r.purpose, '; ') from refuge.sensitive_read r where r.individual_id = f.principal) as read_log
  from fam f where f.k = 'erase';
-- her own case file keeps its codes, states and dates; what staff wrote
-- is gone (the free-text field too), as is the case's key: its audit rows
-- no longer open.  Her son's file keeps its text and its key.
select c.state, c.closed, c.data from refuge.process_case c where c.id = :'rsd_case';
select n.kind, n.confidential, n.body, n.sealed is null as unsealed from refuge.case_note n
 where n.case_id = :'rsd_case' order by n.created_at;
select d.title, d.size_bytes, length(d.content) as bytes from refuge.case_document d where d.case_id = :'rsd_case';
select e.action, e.reason, e.data from refuge.case_event e where e.case_id = :'rsd_case' order by e.id;
select n.body from refuge.case_note n where n.case_id = :'son_case';
set role er_rsd_sup;
select case when a.new_data ->> 'case_id' = :'son_case' or a.row_id = :'son_case' then 'son' else 'hers' end as file,
       count(*) as audit_rows,
       bool_and(coalesce(a.new_data, a.old_data) ? '$sealed') as sealed,
       count(*) filter (where ((refuge.audit_values(a)).new_data ->> '$erased')::boolean) as unreadable
  from refuge.audit_log a
 where a.table_name in ('process_case', 'case_note', 'case_event', 'case_document', 'case_approval')
   and (a.row_id in (:'rsd_case', :'son_case') or a.new_data ->> 'case_id' in (:'rsd_case', :'son_case'))
 group by 1 order by 1;
reset role;
-- the rewriting is only ever to the markers: nothing else gets through
select pg_temp.err(format($q$update refuge.case_note set body = 'Nyabuony again' where case_id = %L$q$, :'rsd_case')) as note_rewrite,
       pg_temp.err(format($q$update refuge.case_event set reason = 'Nyabuony again' where case_id = %L$q$, :'rsd_case')) as event_rewrite,
       pg_temp.err(format($q$update refuge.case_note set body = '(erased with the record)' where case_id = %L$q$, :'son_case')) as shared_rewrite;
-- no other path writes a tombstone: a status change or a case rule naming
-- ERASED is refused
set role er_reg;
select pg_temp.err(format($q$select refuge.request_status_change(%L, 'ERASED', null, 'as if erased')$q$, i.id)) as status_erased
  from refuge.individual i join fam f on f.k = 'keep' and i.id = f.principal;
reset role;
set role er_admin;
select pg_temp.err($q$select refuge.set_status_rule('ETH', 'RSD', 'DECIDE', '{"decision": ["REJECTED"]}', 'ERASED', null, 'erase the rejected')$q$) as rule_erased;
reset role;
-- her own file takes no new entry: the step asked for was rejected with the
-- erasure, and nothing is added
select a.status, a.decided_by is not null as decided from refuge.case_approval a where a.id = :'own_approval';
set role er_rsd_sup;
select pg_temp.err(format($q$select refuge.decide_approval(%L, true)$q$, :'own_approval')) as approve_own,
       pg_temp.err(format($q$select refuge.add_case_note(%L, 'Nyabuony phoned')$q$, :'rsd_case')) as new_note,
       pg_temp.err(format($q$select refuge.transition_case(%L, 'REOPEN', '{"reopen_ground": "NEW_EVIDENCE"}')$q$, :'rsd_case')) as reopen_own;
reset role;
-- a file she shares with a member who stays (her son's, were she its
-- principal) is not reopened either: the check the steps run, on that file
select pg_temp.err(format($q$select refuge.refuse_reopening_erased(jsonb_populate_record(c, jsonb_build_object('principal_id', %L)), 'MODALITY_ASSIGNED') from refuge.process_case c where c.id = %L$q$,
                          f.principal, :'son_case')) as shared_reopen,
       pg_temp.err(format($q$select refuge.refuse_reopening_erased(c, 'MODALITY_ASSIGNED') from refuge.process_case c where c.id = %L$q$,
                          :'son_case')) as son_reopen
  from fam f where f.k = 'erase';
-- she left the household (her son's membership stays)
select m.relationship, m.valid_to is not null as ended, m.end_reason from refuge.group_membership m join fam f
    on m.individual_id in (f.principal, f.child) where f.k = 'erase' order by m.relationship;
-- the son and the other family keep their names (his record was closed by
-- his own file's abandonment, not by the erasure)
select i.given_name, i.status from refuge.individual i join fam f on i.id in (f.child, f.principal) where i.id <> (select principal from fam where k = 'erase') order by 1;

-- 5. a scan of every table of the database: none of the person's names,
-- birth date, document numbers or phone numbers in clear
create function pg_temp.scan(patterns text) returns table (tab text, hits bigint) language plpgsql as $$
declare
    r record;
    n bigint;
begin
    for r in select c.oid::regclass as rel from pg_class c join pg_namespace s on s.oid = c.relnamespace
              where c.relkind in ('r', 'p', 'm') and s.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')
                and c.relname <> 'fam' loop
        execute format('select count(*) from %s t where t::text ~ %L', r.rel, patterns) into n;
        if n > 0 then
            tab := r.rel::text; hits := n;
            return next;
        end if;
    end loop;
end $$;
select count(*) as tables_scanned from pg_class c join pg_namespace s on s.oid = c.relnamespace
 where c.relkind in ('r', 'p', 'm') and s.nspname not in ('pg_catalog', 'information_schema', 'pg_toast');
-- (Kuothwich is also her son's family name, and he stays)
select * from pg_temp.scan('Nyabuony|Nyachuol|Akobowich|1979-11-23|SSX55839217|251911739462|needs a ramp');
-- (the same scan finds the other family: it is not blind)
select * from pg_temp.scan('Riekwal|251922111333') order by 1;

-- the person's audit rows are still there, sealed, now unreadable; the
-- others' still open; the chain verifies
set role er_sup;
select count(*) > 0 as audit_rows_kept,
       bool_and(((refuge.audit_values(a)).new_data ->> '$erased')::boolean) as all_erased
  from refuge.audit_log a, fam f
 where f.k = 'erase' and a.new_data ->> '$subject' = f.principal::text;
select (refuge.audit_values(a)).new_data ->> 'given_name' as other_family_opens
  from refuge.audit_log a, fam f where f.k = 'keep' and a.table_name = 'individual' and a.row_id = f.principal and a.action = 'I';
reset role;
select refuge.seal_audit() is not null as sealed, refuge.verify_audit() ->> 'intact' as audit_intact;
select count(*) filter (where wrapped is null) as destroyed_keys from refuge.person_key;

-- a file audited before its values were sealed (here: with no vault key
-- set) keeps that history in clear, and the erasure says so
set role er_reg;
insert into fam
select 'late', (r -> 'members' -> 0 ->> 'individual_id')::uuid, null
  from (select refuge.register_group('{"operation": "ETH", "site": "GAMBELLA", "registration_level": "BASIC",
          "population_type": "REF", "origin_country": "SSD", "members": [{"relationship": "PA", "given_name": "Nyalam",
          "family_name": "Tutwich", "sex": "F", "date_of_birth": "1990-01-05"}]}') r) x;
reset role;
select current_setting('refuge.vault_key_file') as current_key \gset
select set_config('refuge.vault_key_file', '', false) = '' as key_unset;
set role er_rsd;
select refuge.open_case('RSD', principal) ->> 'case_id' as late_case from fam where k = 'late' \gset
select refuge.transition_case(:'late_case', 'ASSIGN_MODALITY', '{"modality": "REGULAR"}', 'Nyalam asked for it') ->> 'state' as late_assigned;
reset role;
select set_config('refuge.vault_key_file', :'current_key', false) is not null as key_set_again;
set role er_rsd;
select refuge.transition_case(:'late_case', 'ABANDON') ->> 'state' as late_closed;
reset role;
-- (her own rows were all audited under her key: the file alone is in clear)
select refuge.audit_in_clear(principal) as own_rows_in_clear from fam where k = 'late';
set role er_admin;
select r -> 'removed' ->> 'case_files' as case_files, r ->> 'audit_in_clear' as audit_in_clear
  from (select refuge.erase_individual(principal, 'request of the person') r from fam where k = 'late') x;
reset role;
select e.reason from refuge.case_event e where e.case_id = :'late_case' and e.action = 'ASSIGN_MODALITY';

reset refuge.vault_key_file;
reset refuge.vault_previous_key_file;
reset role;
\! rm -f "$REFUGE_TEST_NEW_KEY"

-- leave the database as found for the next suite
drop table fam;
\i test/lib/reinstall.sql
drop role er_reg, er_admin, er_admin_sdn, er_sup, er_sup_sdn, er_dba, er_analyst, er_rsd, er_rsd_sup;
