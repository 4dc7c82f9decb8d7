-- The audit trail is read as narrowly as the rows it describes: registration
-- supervisors see registration rows of their operations and no case rows
-- (an SGBV case cannot be joined to the survivor through the audit trail),
-- module supervisors see their modules' case rows, administrators see
-- configuration only, biometrics administrators biometric rows; note text
-- and sealed values are never in clear.
begin;
\ir fixtures.inc
create role tap_prot;       grant refuge_protection to tap_prot;
create role tap_prot_sup;   grant refuge_protection, refuge_supervisor to tap_prot_sup;
create role tap_rsd_sup;    grant refuge_rsd, refuge_supervisor to tap_rsd_sup;
create role tap_sup_uga;    grant refuge_supervisor to tap_sup_uga;
create role tap_bioadm;     grant refuge_biometrics_admin to tap_bioadm;
select count(refuge.assign_staff(r, 'KEN')) as a3 from unnest(array['tap_prot', 'tap_prot_sup', 'tap_rsd_sup']) r \gset
select refuge.assign_staff('tap_sup_uga', 'UGA') is not null as a \gset
-- the vault key, for the sealed incident
select current_setting('data_directory') || '/refuge_tap_audit.key' as keypath \gset
do $$
begin
    execute format('copy (select encode(%L::bytea, %L)) to %L',
                   decode('303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f', 'hex'), 'hex',
                   current_setting('data_directory') || '/refuge_tap_audit.key');
end $$;
\setenv REFUGE_TAP_KEY :keypath
\! chmod 600 "$REFUGE_TAP_KEY"
select set_config('refuge.vault_key_file', :'keypath', true) is not null as k \gset
-- an SGBV case of the Kakuma mother, an incident, a note; an RSD case
set local role tap_prot;
select refuge.record_consent((select id from refuge.individual where given_name = 'GivenK1'), 'SGBV') is not null as sgbv_consent \gset
select (refuge.open_case('SGBV', (select id from refuge.individual where given_name = 'GivenK1')) ->> 'case_id') as sgbv \gset
select refuge.record_gbv_incident(:'sgbv', '{"violence_type": "RAPE", "consent_services": true, "consent_sharing": false,
    "narrative": "Attacked near the latrines"}') is null as i \gset
select refuge.add_case_note(:'sgbv', 'Survivor staying with her aunt in block 7', false) is not null as n \gset
reset role;
set local role tap_rsd_sup;
select (refuge.open_case('RSD', (select id from refuge.individual where given_name = 'GivenN1')) ->> 'case_id') as rsd \gset
reset role;

select plan(16);

select is((select count(*)::int from refuge.audit_log where class = 'case' and module is null), 0,
          'every audit row of a case record names the case''s module');
select is((select count(*)::int from refuge.audit_log where table_name = 'case_note'
            and (new_data ->> 'body') not like 'redacted % bytes sha256:%'), 0,
          'case note text is in the audit trail only as size and digest');
select is((select count(*)::int from refuge.audit_log a where a.table_name in ('case_note', 'gbv_incident', 'process_case', 'case_event')
            and (a.new_data::text ~ 'latrines|block 7' or a.old_data::text ~ 'latrines|block 7')), 0,
          'neither the incident nor the note appears in clear anywhere in the audit trail');

-- a registration supervisor: registration rows of KEN, no case rows
set local role tap_sup_ken;
select cmp_ok((select count(*)::int from refuge.audit_log where table_name = 'individual'), '>', 0,
              'a registration supervisor reads the registration audit of the operation');
select is((select count(*)::int from refuge.audit_log where class = 'case'), 0,
          'and no audit row of any case');
select is((select count(*)::int from refuge.audit_log a join refuge.individual i
             on i.id::text in (a.new_data ->> 'principal_id', a.new_data ->> 'individual_id')
            where a.table_name in ('process_case', 'case_member')), 0,
          'so no SGBV case can be joined to the survivor through the audit trail');
select is((select count(*)::int from refuge.audit_log where operation_id <> (select id from refuge.operation where code = 'KEN')), 0,
          'nor anything of another operation');
reset role;
set local role tap_sup_uga;
select is((select count(*)::int from refuge.audit_log a join refuge.operation o on o.id = a.operation_id where o.code = 'KEN'), 0,
          'a Ugandan supervisor reads nothing of Kenya');
reset role;

-- module supervisors: the cases of the modules they work
set local role tap_prot_sup;
select cmp_ok((select count(*)::int from refuge.audit_log where module = 'SGBV'), '>', 0,
              'a protection supervisor reads the audit of SGBV cases');
select is((select count(*)::int from refuge.audit_log where module = 'RSD'), 0, 'but not of RSD cases');
reset role;
set local role tap_rsd_sup;
select is((select count(*)::int from refuge.audit_log where module = 'SGBV'), 0, 'an RSD supervisor reads no SGBV audit');
select cmp_ok((select count(*)::int from refuge.audit_log where module = 'RSD'), '>', 0, 'and reads the RSD cases'' audit');
reset role;

-- administrators: configuration only
set local role tap_admin;
select is((select count(*)::int from refuge.audit_log where class <> 'config'), 0,
          'administrators read configuration changes only');
select cmp_ok((select count(*)::int from refuge.audit_log where table_name = 'staff_assignment'), '>', 0,
              'such as staff assignments');
reset role;
set local role tap_bioadm;
select is((select count(*)::int from refuge.audit_log where class not in ('identity', 'biometric')), 0,
          'biometrics administrators read identity and biometric rows only');
reset role;
set local role tap_analyst;
select throws_ok('select count(*) from refuge.audit_log', '42501', null, 'analysts read no audit trail');
reset role;

select * from finish();
\! rm -f "$REFUGE_TAP_KEY"
rollback;
