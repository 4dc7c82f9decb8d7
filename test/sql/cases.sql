-- Case management: one workflow engine for every module.  An RSD case runs
-- from registration to a recognised closure with a supervisor's approval,
-- an appeal decided by another officer, a resettlement case to departure;
-- invalid steps fail with clear errors and change nothing; approvals,
-- assignment, overdue alerts (rows + NOTIFY), confidential notes sealed with
-- the vault key, SGBV consent, partner referral and revocation, transfers,
-- tracing matches, the vulnerability score and the audit hash chain.
\set VERBOSITY terse
set client_min_messages = warning;
set search_path = public, refuge;
create function pg_temp.err(q text) returns text language plpgsql as $$
begin
    execute q;
    return 'no error';
exception when others then
    return sqlstate || ' ' || regexp_replace(regexp_replace(regexp_replace(regexp_replace(sqlerrm,
        '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '<id>', 'g'), '\d{4}-\d\d-\d\d', '<date>', 'g'),
        '[A-Z]{3}-[A-Z]{3}-\d\d-\d{6}', '<case>', 'g'), '([A-Z]{3})-\d\d-(\d{6})', '\1-YY-\2', 'g');
end $$;

select refuge.create_operation('KEN', 'KEN', 'Kenya') is not null as ken;
select refuge.create_operation('UGA', 'UGA', 'Uganda') is not null as uga;
select refuge.create_site('KEN', 'KAKUMA', 'Kakuma', 'CAMP', 34.85, 3.72) is not null as kakuma;
select refuge.create_site('UGA', 'NAKIVALE', 'Nakivale', 'CAMP', 30.95, -0.78) is not null as nakivale;
drop role if exists cs_rsd1, cs_rsd2, cs_rsd_sup, cs_rsd_uga, cs_rst, cs_rst_sup, cs_prot, cs_cp, cs_reg, cs_partner,
    cs_partner2, cs_admin;
create role cs_rsd1;     grant refuge_rsd to cs_rsd1;
create role cs_rsd2;     grant refuge_rsd to cs_rsd2;
create role cs_rsd_sup;  grant refuge_rsd, refuge_supervisor to cs_rsd_sup;
create role cs_rsd_uga;  grant refuge_rsd to cs_rsd_uga;
create role cs_rst;      grant refuge_resettlement to cs_rst;
create role cs_rst_sup;  grant refuge_resettlement, refuge_supervisor to cs_rst_sup;
create role cs_prot;     grant refuge_protection to cs_prot;
create role cs_cp;       grant refuge_child_protection to cs_cp;
create role cs_reg;      grant refuge_registration to cs_reg;
create role cs_partner;  grant refuge_partner to cs_partner;
create role cs_partner2; grant refuge_partner to cs_partner2;
create role cs_admin;    grant refuge_admin to cs_admin;
select count(*) as assigned from (select refuge.assign_staff(r, 'KEN')
    from unnest(array['cs_rsd1', 'cs_rsd2', 'cs_rsd_sup', 'cs_rst', 'cs_rst_sup', 'cs_prot', 'cs_cp', 'cs_reg']) r) x;
select refuge.assign_staff('cs_rsd_uga', 'UGA') is not null as uga_officer;

create table fam (f int primary key, gid uuid, pa uuid, second uuid, child uuid);
grant select on fam to public;
insert into fam
select f, (r ->> 'group_id')::uuid, (r -> 'members' -> 0 ->> 'individual_id')::uuid,
       (r -> 'members' -> 1 ->> 'individual_id')::uuid, (r -> 'members' -> 2 ->> 'individual_id')::uuid
  from (select f, refuge.register_group(jsonb_build_object('operation', 'KEN', 'site', 'KAKUMA',
          'registration_level', 'BASIC', 'population_type', 'ASY', 'origin_country', 'SSD',
          'members', jsonb_build_array(
              jsonb_build_object('relationship', 'PA', 'given_name', 'Head' || f, 'family_name', 'Deng', 'sex', 'F',
                                 'date_of_birth', '1980-01-01',
                                 'contacts', jsonb_build_array(jsonb_build_object('type', 'MOBILE', 'value', '+2547000' || f)),
                                 'specific_needs', case when f = 2 then '[{"category": "SM"}, {"category": "WR"}]'::jsonb else '[]' end),
              jsonb_build_object('relationship', 'SON', 'given_name', 'Son' || f, 'family_name', 'Deng', 'sex', 'M', 'date_of_birth', '2001-01-01'),
              jsonb_build_object('relationship', 'DAU', 'given_name', 'Girl' || f, 'family_name', 'Deng', 'sex', 'F', 'date_of_birth', '2014-01-01')))) r
          from generate_series(1, 3) f) x;
-- someone registered in Uganda, sought by family 3's tracing request
select refuge.register_group('{"operation": "UGA", "site": "NAKIVALE", "registration_level": "BASIC", "population_type": "REF",
    "members": [{"relationship": "PA", "given_name": "Akol", "family_name": "Dengdit", "sex": "M", "date_of_birth": "1975-06-01"}]}')
    is not null as sought_person;

-- opening: module roles only, their operations only, one open case per process
set role cs_reg;
select pg_temp.err(format($q$select refuge.open_case('RSD', %L)$q$, (select pa from fam where f = 1)));
reset role;
set role cs_rsd_uga;
select pg_temp.err(format($q$select refuge.open_case('RSD', %L)$q$, (select pa from fam where f = 1)));
reset role;
set role cs_rsd1;
select pg_temp.err($q$select refuge.open_case('ASYLUM', gen_random_uuid())$q$);
select pg_temp.err(format($q$select refuge.open_case('RSD', %L, data => '{"application_type": "LATE"}')$q$, (select pa from fam where f = 1)));
select pg_temp.err(format($q$select refuge.open_case('RSD', %L, data => '{"colour": "blue"}')$q$, (select pa from fam where f = 1)));
select pg_temp.err(format($q$select refuge.open_case('RSD', %L, array[%L]::uuid[])$q$, (select pa from fam where f = 1), (select second from fam where f = 2)));
select r ->> 'state' as state, r ->> 'members' as members, r ->> 'number' ~ '^KEN-RSD-\d\d-\d{6}$' as numbered,
       (r ->> 'due_at')::timestamptz > now() + interval '13 days' as due_in_14_days
  from refuge.open_case('RSD', (select pa from fam where f = 1), array[(select second from fam where f = 1)],
                        '{"application_type": "NEW", "procedure_type": "U"}', 'walk-in') r;
select pg_temp.err(format($q$select refuge.open_case('RSD', %L)$q$, (select pa from fam where f = 1)));
select id as rsd from refuge.process_case where module = 'RSD' \gset
-- the family grouping is unchanged
select count(*) as family_members from refuge.group_membership where group_id = (select gid from fam where f = 1) and valid_to is null;

-- transitions: unknown action, not allowed now, missing or wrong data: nothing changes
select pg_temp.err(format($q$select refuge.transition_case(%L, 'FLY')$q$, :'rsd'));
select pg_temp.err(format($q$select refuge.transition_case(%L, 'DECIDE', '{"decision": "RECOGNIZED"}')$q$, :'rsd'));
select pg_temp.err(format($q$select refuge.transition_case(%L, 'ASSIGN_MODALITY')$q$, :'rsd'));
select pg_temp.err(format($q$select refuge.transition_case(%L, 'ASSIGN_MODALITY', '{"modality": "FAST"}')$q$, :'rsd'));
select state, (select count(*) from refuge.case_event where case_id = :'rsd') as events from refuge.process_case where id = :'rsd';
select r ->> 'from_state' as from_state, r ->> 'state' as state
  from refuge.transition_case(:'rsd', 'ASSIGN_MODALITY', '{"modality": "REGULAR"}') r;
select pg_temp.err(format($q$select refuge.transition_case(%L, 'SCHEDULE_INTERVIEW', '{"interview_date": "someday"}')$q$, :'rsd'));
select r ->> 'state' as state, (r ->> 'due_at')::date = current_date + 8 as due_day_after_interview
  from refuge.transition_case(:'rsd', 'SCHEDULE_INTERVIEW',
                              jsonb_build_object('interview_date', current_date + 7, 'interpreter_language', 'din')) r;
select refuge.transition_case(:'rsd', 'HOLD_INTERVIEW') ->> 'state' as state;
select refuge.add_case_note(:'rsd', 'Applicant described events in Bor in detail.', false, 'NOTE') is not null as note;
select refuge.transition_case(:'rsd', 'WRITE_ASSESSMENT', '{"legal_basis": "1951_CONVENTION"}') ->> 'state' as state;
-- the first-instance decision needs a supervisor's approval
select r ->> 'status' as status, r ->> 'state' as state
  from refuge.transition_case(:'rsd', 'DECIDE', '{"decision": "REJECTED"}', 'not credible') r;
select pg_temp.err(format($q$select refuge.transition_case(%L, 'NOTIFY', '{"notified_on": "2026-01-01"}')$q$, :'rsd'));
select id as approval from refuge.case_approval where case_id = :'rsd' \gset
select pg_temp.err(format($q$select refuge.decide_approval(%L, true)$q$, :'approval'));
reset role;
select kind, to_role, message ~ 'DECIDE on case' as about_decision from refuge.case_alert where kind = 'APPROVAL';
set role cs_rsd_sup;
select r ->> 'status' as status, r ->> 'state' as state, r ->> 'approved_by' as approved_by
  from refuge.decide_approval(:'approval', true, 'reviewed') r;
select pg_temp.err(format($q$select refuge.decide_approval(%L, true)$q$, :'approval'));
reset role;
set role cs_rsd1;
select refuge.transition_case(:'rsd', 'NOTIFY', jsonb_build_object('notified_on', current_date)) ->> 'state' as state;
select refuge.transition_case(:'rsd', 'LODGE_APPEAL', jsonb_build_object('appeal_lodged_on', current_date)) ->> 'state' as state;
-- the first-instance officer may not decide the appeal
select pg_temp.err(format($q$select refuge.transition_case(%L, 'DECIDE_APPEAL', '{"appeal_decision": "RECOGNIZED"}')$q$, :'rsd'));
reset role;
set role cs_rsd2;
select refuge.transition_case(:'rsd', 'DECIDE_APPEAL', '{"appeal_decision": "RECOGNIZED"}') ->> 'status' as status;
reset role;
set role cs_rsd_sup;
select refuge.decide_approval((select id from refuge.case_approval where case_id = :'rsd' and status = 'REQUESTED'), true)
    ->> 'state' as state;
reset role;
set role cs_rsd2;
select pg_temp.err(format($q$select refuge.transition_case(%L, 'CLOSE', '{"closure_reason": "NO_APPEAL"}')$q$, :'rsd'));
select r ->> 'state' as state, r ->> 'closed' as closed
  from refuge.transition_case(:'rsd', 'CLOSE', '{"closure_reason": "RECOGNIZED"}') r;
select pg_temp.err(format($q$select refuge.transition_case(%L, 'NOTIFY', '{"notified_on": "2026-01-01"}')$q$, :'rsd'));
reset role;
-- the history: who, from, to, reason, approval
select action, from_state, to_state, actor, reason, approval_id is not null as approved
  from refuge.case_event where case_id = :'rsd' order by id;
select data ->> 'decision' as decision, data ->> 'appeal_decision' as appeal, data ->> 'closure_reason' as closure
  from refuge.process_case where id = :'rsd';

-- members join and leave (the principal stays); only family members join
set role cs_rsd2;
select pg_temp.err(format($q$select refuge.add_case_member(%L, %L, 'born')$q$, :'rsd', (select child from fam where f = 1)));
reset role;
set role cs_rst;
select refuge.open_case('RESETTLEMENT', (select pa from fam where f = 3)) ->> 'members' as members_at_opening;
select pg_temp.err(format($q$select refuge.add_case_member(%L, %L, 'cousin')$q$,
    (select id from refuge.process_case where module = 'RESETTLEMENT'), (select pa from fam where f = 2)));
select pg_temp.err(format($q$select refuge.remove_case_member(%L, %L, 'leaves')$q$,
    (select id from refuge.process_case where module = 'RESETTLEMENT'), (select pa from fam where f = 3)));
select refuge.add_case_member(id, (select child from fam where f = 3), 'joins her mother''s case')
  from refuge.process_case where module = 'RESETTLEMENT';
select pg_temp.err(format($q$select refuge.add_case_member(%L, %L, 'again')$q$,
    (select id from refuge.process_case where module = 'RESETTLEMENT'), (select child from fam where f = 3)));
select refuge.remove_case_member(id, (select child from fam where f = 3), 'stays with her father')
  from refuge.process_case where module = 'RESETTLEMENT';
select string_agg(action, ' > ' order by id) as member_history from refuge.case_event
 where case_id = (select id from refuge.process_case where module = 'RESETTLEMENT');
select refuge.transition_case(id, 'WITHDRAW', '{}', 'opened for the membership test') ->> 'state' as withdrawn
  from refuge.process_case where module = 'RESETTLEMENT';
reset role;

-- who sees the RSD case: RSD staff of Kenya; not registration, resettlement or Uganda's RSD staff
set role cs_rsd1;
select count(*) as rsd_officer_sees from refuge.process_case;
reset role;
set role cs_rsd_sup;
select count(*) as rsd_supervisor_sees from refuge.process_case;
reset role;
set role cs_reg;
select pg_temp.err('select count(*) from refuge.process_case');
reset role;
set role cs_rst;
select count(*) filter (where module = 'RSD') as resettlement_sees_rsd from refuge.process_case;
select count(*) as resettlement_sees_rsd_events from refuge.case_event where case_id = :'rsd';
reset role;
set role cs_rsd_uga;
select count(*) as uganda_sees from refuge.process_case;
select pg_temp.err(format($q$select refuge.transition_case(%L, 'REOPEN', '{"reopen_ground": "NEW_EVIDENCE"}')$q$, :'rsd'));
reset role;

-- resettlement of family 2 to departure; the submission is approved
set role cs_rst;
select refuge.open_case('RESETTLEMENT', (select pa from fam where f = 2),
    array[(select second from fam where f = 2), (select child from fam where f = 2)]) ->> 'members' as members;
select id as rst from refuge.process_case where module = 'RESETTLEMENT' and not closed \gset
select refuge.transition_case(:'rst', 'ASSESS', '{"needs_assessment": "medical needs, woman at risk"}') ->> 'state';
select refuge.transition_case(:'rst', 'INTERVIEW', jsonb_build_object('interview_date', current_date)) ->> 'state';
select pg_temp.err(format($q$select refuge.transition_case(%L, 'PREPARE_RRF', '{"submission_category": "MED", "priority": "FAST", "justification": "x"}')$q$, :'rst'));
select refuge.transition_case(:'rst', 'PREPARE_RRF', '{"submission_category": "MED", "secondary_category": "AWR",
    "priority": "UG", "justification": "Serious medical condition untreatable in Kakuma"}') ->> 'state';
select refuge.transition_case(:'rst', 'REFER_HUB') ->> 'state';
select pg_temp.err(format($q$select refuge.transition_case(%L, 'SUBMIT', '{"resettlement_country": "XXX"}')$q$, :'rst'));
select refuge.transition_case(:'rst', 'SUBMIT', '{"resettlement_country": "CAN"}') ->> 'status';
reset role;
set role cs_rst_sup;
select refuge.decide_approval((select id from refuge.case_approval where case_id = :'rst' and status = 'REQUESTED'), false, 'justification thin')
    ->> 'status' as first_review;
reset role;
set role cs_rst;
select refuge.transition_case(:'rst', 'SUBMIT', '{"resettlement_country": "CAN"}') ->> 'status';
reset role;
set role cs_rst_sup;
select refuge.decide_approval((select id from refuge.case_approval where case_id = :'rst' and status = 'REQUESTED'), true)
    ->> 'state' as second_review;
reset role;
set role cs_rst;
select refuge.transition_case(:'rst', 'STATE_ACCEPT', jsonb_build_object('state_decision_on', current_date)) ->> 'state';
reset role;

-- assignment, flags and overdue alerts (rows + NOTIFY)
set role cs_prot;
select refuge.open_case('VOLREP', (select pa from fam where f = 3), array[(select second from fam where f = 3)]) ->> 'state' as volrep;
select id as vr from refuge.process_case where module = 'VOLREP' \gset
select pg_temp.err(format($q$select refuge.assign_case(%L, 'cs_rsd1')$q$, :'vr'));
select pg_temp.err(format($q$select refuge.assign_case(%L, 'cs_prot', now() - interval '1 day')$q$, :'vr'));
select refuge.assign_case(:'vr', 'cs_prot', now() + interval '3 days') ->> 'assigned_to' as assigned_to;
select refuge.flag_case(:'vr', 'Household reports threats from a neighbour', 'refuge_protection', 'HIGH') is not null as flagged;
reset role;
update refuge.process_case set due_at = now() - interval '1 hour' where id = :'vr';
-- a supervisor sweeps only the modules they work in their operations
set role cs_rsd_sup;
select refuge.check_overdue() as outside_the_supervisors_modules;
reset role;
-- the scheduler (here a superuser; in production a refuge_dba login) sweeps everything
select refuge.check_overdue() as overdue_alerts;
select refuge.check_overdue() as again;
select kind, severity, to_role, message ~ 'overdue in state COUNSELLING' as overdue from refuge.case_alert
 where case_id = :'vr' order by raised_at, kind;
set role cs_prot;
select refuge.transition_case(:'vr', 'SIGN_VRF', jsonb_build_object('vrf_signed_on', current_date, 'intended_return_country', 'SSD')) ->> 'state';
select count(*) filter (where acknowledged_at is null) as open_overdue from refuge.case_alert where case_id = :'vr' and kind = 'OVERDUE';
reset role;

-- confidential notes: sealed with the vault key, read by the module's staff, logged
select current_setting('data_directory') || '/refuge_cases_test.key' as keypath \gset
do $$
begin
    execute format('copy (select encode(%L::bytea, %L)) to %L',
                   decode('101112131415161718191a1b1c1d1e1f000102030405060708090a0b0c0d0e0f', 'hex'), 'hex',
                   current_setting('data_directory') || '/refuge_cases_test.key');
end $$;
\setenv REFUGE_TEST_KEY :keypath
\! chmod 600 "$REFUGE_TEST_KEY"
select set_config('refuge.vault_key_file', :'keypath', false) is not null as key_file_set;
set role cs_rsd1;
select refuge.add_case_note(:'rsd', 'Applicant disclosed detention and torture; do not share with family.', true,
                            'INTERVIEW_TRANSCRIPT') as secret_note \gset
select kind, confidential, body from refuge.case_note where case_id = :'rsd' order by created_at;
select pg_temp.err(format($q$select refuge.read_case_note(%L)$q$, :'secret_note'));
select refuge.read_case_note(:'secret_note', 'preparing the appeal hearing') as decrypted;
reset role;
select position(convert_to('torture', 'UTF8') in sealed) = 0 as not_plain from refuge.case_note where id = :'secret_note';
select actor, kind, purpose from refuge.sensitive_read where kind <> 'possible_duplicates' order by id;
set role cs_rst;
select pg_temp.err(format($q$select refuge.read_case_note(%L, 'curious')$q$, :'secret_note'));
reset role;
-- a sealed note moved to another row does not open
select pg_temp.err(format($q$select refuge.vault_open(sealed, 'case_note:%s') from refuge.case_note where id = %L$q$,
                          gen_random_uuid(), :'secret_note'));

-- SGBV: incident sealed, read logged, shared with a partner only with consent
select refuge.create_partner('IRC', 'International Rescue Committee') is not null as partner;
select refuge.create_partner('MSF', 'Medecins Sans Frontieres') is not null as partner2;
set role cs_admin;
select refuge.assign_partner_staff('cs_partner', 'IRC');
select refuge.assign_partner_staff('cs_partner2', 'MSF');
select pg_temp.err($q$select refuge.assign_partner_staff('cs_rsd1', 'IRC')$q$);
-- referrals go to IRC under a sharing agreement (issue 18)
select refuge.define_agreement('{"code": "IRC-2026", "title": "IRC case management", "party_kind": "PARTNER", "partner": "IRC",
    "party_name": "International Rescue Committee", "purposes": ["REFERRAL"], "fields": ["CASE", "INCIDENT", "MEMBERS"],
    "legal_basis": "CONSENT", "valid_from": "2026-01-01", "valid_until": "2030-12-31",
    "security_terms": "encrypted transfer, need-to-know access, deletion at case closure", "signed_by": "Representative",
    "signed_on": "2026-01-01"}') is not null as agreement;
reset role;
set role cs_prot;
-- SGBV case management rests on the survivor's consent
select pg_temp.err(format($q$select refuge.open_case('SGBV', %L)$q$, (select second from fam where f = 2))) as no_consent;
select refuge.record_consent((select second from fam where f = 2), 'SGBV', 'ORAL', notice_version => 'GBV-2026') is not null as consent,
       refuge.record_consent((select second from fam where f = 2), 'REFERRAL', 'ORAL') is not null as consent_referral;
select refuge.open_case('SGBV', (select second from fam where f = 2)) ->> 'state' as sgbv;
select id as gbv from refuge.process_case where module = 'SGBV' \gset
select pg_temp.err(format($q$select refuge.record_gbv_incident(%L, '{"violence_type": "THEFT", "consent_services": true, "consent_sharing": false, "narrative": "x"}')$q$, :'gbv'));
select refuge.record_gbv_incident(:'gbv', '{"violence_type": "PHYSICAL_ASSAULT", "incident_date": "2026-10-02",
    "consent_services": true, "consent_sharing": false, "narrative": "Assaulted at the water point", "location": "Block 4"}');
select pg_temp.err(format($q$select refuge.refer_case(%L, 'IRC', array['CASE', 'INCIDENT'], 'medical and psychosocial care')$q$, :'gbv'));
select refuge.read_gbv_incident(:'gbv', 'case conference') - 'case_number' - 'reported_on' as incident;
select refuge.record_gbv_incident(:'gbv', '{"violence_type": "PHYSICAL_ASSAULT", "incident_date": "2026-10-02",
    "consent_services": true, "consent_sharing": true, "narrative": "Assaulted at the water point", "location": "Block 4"}');
select refuge.refer_case(:'gbv', 'IRC', array['CASE', 'INCIDENT', 'MEMBERS'], 'medical and psychosocial care',
                         agreement => 'IRC-2026') as referral \gset
reset role;
set role cs_prot;
select pg_temp.err('select count(*) from refuge.gbv_incident');
reset role;
set role cs_partner;
select case_number ~ 'GBV' as gbv_case, module, fields from refuge.referred_cases();
select r - 'referral_id' - 'case_number' - 'due_at' #- '{incident,reported_on}' as shared from refuge.referred_case(:'referral', 'intake') r;
select pg_temp.err('select count(*) from refuge.process_case');
reset role;
set role cs_partner2;
select count(*) as other_partner_sees from refuge.referred_cases();
select pg_temp.err(format($q$select refuge.referred_case(%L)$q$, :'referral'));
reset role;
-- the survivor withdraws consent to sharing: the referral ends at once
set role cs_prot;
select refuge.set_gbv_consent(:'gbv', true, false, 'survivor withdrew consent at the follow-up visit') - 'case_id' - 'number'
    as consent;
select status, end_reason from refuge.case_referral where id = :'referral';
select pg_temp.err(format($q$select refuge.refer_case(%L, 'IRC', array['CASE'], 'again')$q$, :'gbv')) as refer_again;
reset role;
set role cs_partner;
select count(*) as after_withdrawal from refuge.referred_cases();
select pg_temp.err(format($q$select refuge.referred_case(%L)$q$, :'referral'));
reset role;
select actor, kind, purpose from refuge.sensitive_read where kind <> 'possible_duplicates' order by id;

-- transfer of the volrep case to Uganda: requested, accepted there; access follows
set role cs_prot;
select refuge.request_case_transfer(:'vr', 'UGA', 'NAKIVALE', 'household moved to Nakivale') as transfer \gset
select pg_temp.err(format($q$select refuge.decide_case_transfer(%L, 'ACCEPT')$q$, :'transfer'));
reset role;
drop role if exists cs_prot_uga;
create role cs_prot_uga; grant refuge_protection to cs_prot_uga;
select refuge.assign_staff('cs_prot_uga', 'UGA') is not null as uga_protection;
set role cs_prot_uga;
select count(*) as before_accept from refuge.process_case;
select status from refuge.case_transfer;
select refuge.decide_case_transfer(:'transfer', 'ACCEPT', 'received') ->> 'status' as status;
select count(*) as after_accept, min(state) as state from refuge.process_case;
select count(*) as members_visible from refuge.individual i join refuge.case_member m on m.individual_id = i.id;
reset role;
set role cs_prot;
select count(*) filter (where module = 'VOLREP') as kenya_after from refuge.process_case;
reset role;

-- tracing: a request from family 3 for a relative; a match in Uganda
set role cs_prot;
select refuge.open_case('TRACING', (select child from fam where f = 3), '{}',
    '{"sought_family_name": "Dengdit", "sought_given_name": "Akol", "sought_sex": "M", "sought_birth_year": 1976, "sought_relationship": "father"}')
    ->> 'state' as tracing;
select given_name, family_name, operation, score from refuge.tracing_matches((select id from refuge.process_case where module = 'TRACING'));
-- vulnerability: needs of family 2 (SM, WR) + answers
select refuge.open_case('VULNERABILITY', (select pa from fam where f = 2)) ->> 'state' as vulnerability;
select pg_temp.err(format($q$select refuge.transition_case(%L, 'ASSESS', '{"answers": {"HAS_CAR": true}}')$q$,
    (select id from refuge.process_case where module = 'VULNERABILITY')));
select refuge.transition_case(id, 'ASSESS', '{"answers": {"NO_INCOME": true, "DEBT": false}}') ->> 'state' as assessed
  from refuge.process_case where module = 'VULNERABILITY';
select data -> 'score' as score, data -> 'risk_level' as risk, data -> 'factors' as factors
  from refuge.process_case where module = 'VULNERABILITY';
reset role;

-- fraud: opened from a fraud alert that does not exist, then a real link
set role cs_rsd_sup;
select pg_temp.err(format($q$select refuge.open_case('FRAUD', %L, '{}', jsonb_build_object('fraud_alert_id', gen_random_uuid()))$q$,
    (select pa from fam where f = 3)));
select refuge.open_case('FRAUD', (select pa from fam where f = 3), '{}', '{"allegation": "sold ration card"}') ->> 'state' as fraud;
reset role;

-- identifiers of rows the caller may not see answer as unknown ones do
set role cs_rsd_uga;
select pg_temp.err(format($q$select refuge.read_case_note(%L, 'x')$q$, :'secret_note')) as hidden_note,
       pg_temp.err(format($q$select refuge.read_case_note(%L, 'x')$q$, gen_random_uuid())) as unknown_note;
select pg_temp.err(format($q$select refuge.end_referral(%L, 'REVOKED', 'x')$q$, :'referral')) as hidden_referral,
       pg_temp.err(format($q$select refuge.end_referral(%L, 'REVOKED', 'x')$q$, gen_random_uuid())) as unknown_referral;
reset role;
set role cs_rsd1;
select pg_temp.err(format($q$select refuge.link_case(%L, 'process_case', %L)$q$, :'rsd', :'gbv')) as link_to_hidden_case,
       pg_temp.err(format($q$select refuge.link_case(%L, 'process_case', %L)$q$, :'rsd', gen_random_uuid())) as link_to_unknown_case;
reset role;
set role cs_partner;
select pg_temp.err(format($q$select refuge.end_referral(%L, 'REVOKED', 'x')$q$, :'referral')) as partner_revokes;
reset role;

-- the audit trail: every change chained; a superuser's edit is detected
set role cs_admin;
select (v ->> 'intact')::boolean as intact, (v ->> 'sealed_rows')::bigint > 100 as many_sealed, v ->> 'problem_count' as problems
  from refuge.verify_audit() v;
reset role;
select count(*) > 0 as case_changes_audited from refuge.audit_log where table_name in ('process_case', 'case_event');
-- replica mode no longer silences the guards: only DDL does, and the chain sees the result
set session_replication_role = replica;
select pg_temp.err($q$delete from refuge.audit_log where id = (select min(id) from refuge.audit_log)$q$) as replica_delete;
reset session_replication_role;
alter table refuge.audit_log disable trigger append_only;
alter table refuge.audit_log disable trigger guard;
update refuge.audit_log set new_data = jsonb_set(new_data, '{state}', '"RECOGNIZED"')
 where id = (select min(id) from refuge.audit_log where table_name = 'process_case' and action = 'U');
delete from refuge.audit_log where id = (select min(id) from refuge.audit_log where table_name = 'case_note');
insert into refuge.audit_log (actor, table_name, action, new_data, txid, class) values ('nobody', 'process_case', 'I', '{}', 3, 'case');
alter table refuge.audit_log enable always trigger append_only;
alter table refuge.audit_log enable always trigger guard;
select (v ->> 'intact')::boolean as intact, v ->> 'problem_count' as problems,
       (select string_agg(p ->> 'problem', '; ' order by p ->> 'problem') from jsonb_array_elements(v -> 'problems') p) as found
  from refuge.verify_audit() v;
-- an anchor kept outside catches a rewritten chain
select seq as anchor_seq, hash as anchor_hash from refuge.audit_head() \gset
select (refuge.verify_audit(:anchor_seq, :'anchor_hash') -> 'problems') @> '[{"problem": "anchor does not match: the chain was rewritten up to it"}]' as kept_anchor_mismatch,
       (refuge.verify_audit(:anchor_seq, repeat('0', 64)) -> 'problems') @> '[{"problem": "anchor does not match: the chain was rewritten up to it"}]' as other_anchor_mismatch;
select pg_temp.err('select refuge.verify_audit(1, null)');
set role cs_rsd1;
select pg_temp.err('select refuge.verify_audit()');
reset role;

-- family 2 departs for resettlement (last: its members' other cases come
-- first); the departure closes the case's members' records (lifecycle suite)
set role cs_rst;
select refuge.transition_case(:'rst', 'CONFIRM_DEPARTURE', jsonb_build_object('departure_date', current_date)) ->> 'state';
select string_agg(action, ' > ' order by id) as history from refuge.case_event where case_id = :'rst';
reset role;
select i.status, i.status_reason from refuge.individual i where i.id in (select pa from fam where f = 2);

-- a workflow definition the engine could not run is refused
select pg_temp.err($q$insert into refuge.workflow_transition (module, action, from_state, to_state, label, fields)
    values ('RSD', 'X', 'REGISTERED', 'CLOSED', 'x', '{"colour": "banana"}')$q$);
select pg_temp.err($q$insert into refuge.workflow_transition (module, action, from_state, to_state, label, requires_data)
    values ('RSD', 'X', 'REGISTERED', 'CLOSED', 'x', '{"decision": "text"}')$q$);
select pg_temp.err($q$update refuge.case_module set open_fields = '{"child_status": []}' where code = 'BID'$q$);

-- leave the database as found for the next suite
reset refuge.vault_key_file;
\! rm -f "$REFUGE_TEST_KEY"
drop table fam;
-- (TRUNCATE is refused on refuge's tables: the extension is installed anew)
\i test/lib/reinstall.sql
drop role cs_rsd1, cs_rsd2, cs_rsd_sup, cs_rsd_uga, cs_rst, cs_rst_sup, cs_prot, cs_cp, cs_reg, cs_partner,
    cs_partner2, cs_admin, cs_prot_uga;
