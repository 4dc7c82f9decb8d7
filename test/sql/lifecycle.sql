-- The record over a refugee's life: RSD recognition (first instance and on
-- appeal) makes a person a refugee with the legal basis and the approver;
-- final rejection and the end of status follow the operation's policy;
-- departure and death close the record, the family's open entitlement is
-- recounted or cancelled and collection refused; a clerk alone changes no
-- legal standing; a duplicate never comes back; status on a past date, and
-- a back-dated warehouse snapshot, count people as they were.
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
select refuge.create_site('KEN', 'KAKUMA', 'Kakuma', 'CAMP', 34.85, 3.72) is not null as kakuma;
drop role if exists lc_rsd1, lc_rsd2, lc_sup, lc_sup2, lc_rst, lc_reg, lc_desk, lc_admin;
create role lc_rsd1;  grant refuge_rsd to lc_rsd1;
create role lc_rsd2;  grant refuge_rsd to lc_rsd2;
create role lc_sup;   grant refuge_rsd, refuge_supervisor, refuge_registration, refuge_resettlement to lc_sup;
create role lc_sup2;  grant refuge_supervisor, refuge_registration to lc_sup2;
create role lc_rst;   grant refuge_resettlement to lc_rst;
create role lc_reg;   grant refuge_registration to lc_reg;
create role lc_desk;  grant refuge_assistance to lc_desk;
create role lc_admin; grant refuge_admin to lc_admin;
select count(*) as assigned from (select refuge.assign_staff(r, 'KEN')
    from unnest(array['lc_rsd1', 'lc_rsd2', 'lc_sup', 'lc_sup2', 'lc_rst', 'lc_reg', 'lc_desk', 'lc_admin']) r) x;

-- five families of asylum-seekers (family 5 registered as refugees)
create table fam (f int primary key, gid uuid, pa uuid, second uuid);
grant select on fam to public;
insert into fam
select f, (r ->> 'group_id')::uuid, (r -> 'members' -> 0 ->> 'individual_id')::uuid, (r -> 'members' -> 1 ->> 'individual_id')::uuid
  from (select f, refuge.register_group(jsonb_build_object('operation', 'KEN', 'site', 'KAKUMA',
          'registration_level', 'BASIC', 'population_type', case when f = 5 then 'REF' else 'ASY' end, 'origin_country', 'SSD',
          'members', jsonb_build_array(
              jsonb_build_object('relationship', 'PA', 'given_name', 'Head' || f, 'family_name', 'Lual', 'sex', 'F', 'date_of_birth', '1980-01-01'),
              jsonb_build_object('relationship', 'SON', 'given_name', 'Son' || f, 'family_name', 'Lual', 'sex', 'M', 'date_of_birth', '2001-01-01')))) r
          from generate_series(1, 5) f) x;
-- registration opened each person's history
select count(*) as periods, count(*) filter (where source = 'REGISTRATION' and valid_to is null) as open_registration
  from refuge.status_history;
-- (the families were registered 60 days ago)
alter table refuge.individual disable trigger stamp;
update refuge.individual set registration_date = current_date - 60, created_at = created_at - interval '60 days';
alter table refuge.individual enable always trigger stamp;
update refuge.status_history set valid_from = current_date - 60;

-- an RSD case runs to a first-instance decision
create function pg_temp.rsd_to_decision(p uuid, members uuid[], decision text, basis text) returns uuid
    language plpgsql as $$
declare c uuid;
begin
    c := (refuge.open_case('RSD', p, members) ->> 'case_id')::uuid;
    perform refuge.transition_case(c, 'ASSIGN_MODALITY', '{"modality": "REGULAR"}');
    perform refuge.transition_case(c, 'SCHEDULE_INTERVIEW', jsonb_build_object('interview_date', current_date));
    perform refuge.transition_case(c, 'HOLD_INTERVIEW');
    perform refuge.transition_case(c, 'WRITE_ASSESSMENT', case when basis is null then '{}' else jsonb_build_object('legal_basis', basis) end);
    perform refuge.transition_case(c, 'DECIDE', jsonb_build_object('decision', decision));
    return c;
end $$;
grant execute on function pg_temp.rsd_to_decision(uuid, uuid[], text, text) to public;

-- 1. recognition at first instance: nothing changes until the supervisor approves
set role lc_rsd1;
select pg_temp.rsd_to_decision(pa, array[second], 'RECOGNIZED', 'OAU_1969') as rsd1 from fam where f = 1 \gset
select population_type from refuge.individual where id = (select pa from fam where f = 1);
reset role;
set role lc_sup;
select r ->> 'state' as state, r ->> 'records_changed' as records_changed
  from refuge.decide_approval((select id from refuge.case_approval where case_id = :'rsd1' and status = 'REQUESTED'), true) r;
reset role;
select f.f, i.population_type, i.status, h.legal_basis, h.recognised_by, h.source, h.actor, h.approved_by, h.reason like 'recognised as a refugee (first instance)%' as reason
  from fam f join refuge.individual i on i.id in (f.pa, f.second)
  join refuge.status_history h on h.individual_id = i.id and h.valid_to is null
 where f.f = 1 order by i.given_name;

-- 2. rejected at first instance, recognised on appeal by another officer
set role lc_rsd1;
select pg_temp.rsd_to_decision(pa, '{}', 'REJECTED', null) as rsd2 from fam where f = 2 \gset
reset role;
set role lc_sup;
select refuge.decide_approval((select id from refuge.case_approval where case_id = :'rsd2' and status = 'REQUESTED'), true) ->> 'records_changed' as after_rejection;
reset role;
set role lc_rsd1;
select refuge.transition_case(:'rsd2', 'NOTIFY', jsonb_build_object('notified_on', current_date)) ->> 'state';
select refuge.transition_case(:'rsd2', 'LODGE_APPEAL', jsonb_build_object('appeal_lodged_on', current_date)) ->> 'state';
reset role;
set role lc_rsd2;
select refuge.transition_case(:'rsd2', 'DECIDE_APPEAL', '{"appeal_decision": "RECOGNIZED"}') ->> 'status';
reset role;
set role lc_sup;
select refuge.decide_approval((select id from refuge.case_approval where case_id = :'rsd2' and status = 'REQUESTED'), true) ->> 'records_changed' as on_appeal;
reset role;
select i.population_type, h.legal_basis, h.reason like 'recognised as a refugee on appeal%' as on_appeal
  from refuge.individual i join refuge.status_history h on h.individual_id = i.id and h.valid_to is null
 where i.id = (select pa from fam where f = 2);

-- 3. final rejection (no appeal) of a family registered as refugees: the
-- record closes as an asylum-seeker's (the approved decision carries it)
set role lc_rsd1;
select pg_temp.rsd_to_decision(pa, array[second], 'REJECTED', null) as rsd5 from fam where f = 5 \gset
reset role;
set role lc_sup;
select refuge.decide_approval((select id from refuge.case_approval where case_id = :'rsd5' and status = 'REQUESTED'), true) ->> 'state';
reset role;
set role lc_rsd1;
select refuge.transition_case(:'rsd5', 'NOTIFY', jsonb_build_object('notified_on', current_date)) ->> 'state';
select refuge.transition_case(:'rsd5', 'CLOSE', '{"closure_reason": "NO_APPEAL"}') ->> 'records_changed' as closed_records;
reset role;
select i.given_name, i.status, i.population_type, i.status_reason like 'FINAL_REJECTION%' as reason, h.approved_by
  from refuge.individual i join refuge.status_history h on h.individual_id = i.id and h.valid_to is null
 where i.id in (select pa from fam where f = 5 union all select second from fam where f = 5) order by 1;
select g.status as family_status from refuge.registration_group g where g.id = (select gid from fam where f = 5);

-- 4. an operation's policy replaces a shipped rule: cessation leaves the
-- record INACTIVE as an "other of concern" in Kenya
set role lc_reg;
select pg_temp.err($q$select refuge.set_status_rule('KEN', 'RSD', 'END_STATUS', '{"ending": ["CEASED"]}', 'INACTIVE', 'OOC', 'ceased')$q$);
reset role;
set role lc_admin;
select pg_temp.err($q$select refuge.set_status_rule('KEN', 'RSD', 'FLY', '{}', 'CLOSED', null, 'x')$q$);
select pg_temp.err($q$select refuge.set_status_rule('KEN', 'RSD', 'END_STATUS', '{}', 'ACTIVE', null, 'x')$q$);
select pg_temp.err($q$select refuge.set_status_rule('KEN', 'RSD', 'END_STATUS', '{"ending": "CEASED"}', 'CLOSED', null, 'x')$q$);
select refuge.set_status_rule('KEN', 'RSD', 'END_STATUS', '{"ending": ["CEASED"]}', 'INACTIVE', 'OOC', 'STATUS_CEASED') is not null as policy;
reset role;
set role lc_rsd1;
select refuge.transition_case(:'rsd1', 'NOTIFY', jsonb_build_object('notified_on', current_date)) ->> 'state';
select refuge.transition_case(:'rsd1', 'CLOSE', '{"closure_reason": "RECOGNIZED"}') ->> 'state';
select refuge.transition_case(:'rsd1', 'END_STATUS', '{"ending": "CEASED"}') ->> 'status';
reset role;
set role lc_sup;
select refuge.decide_approval((select id from refuge.case_approval where case_id = :'rsd1' and status = 'REQUESTED'), true) ->> 'records_changed' as ceased;
reset role;
select status, population_type from refuge.individual where id = (select pa from fam where f = 1);

-- 5. a clerk alone changes no legal standing; the requester may not decide
set role lc_reg;
select pg_temp.err(format($q$select refuge.update_individual(%L, '{"population_type": "REF"}')$q$, (select pa from fam where f = 3)));
select refuge.request_status_change(pa, population_type => 'REF', reason => 'recognised by the government''s RSD') ->> 'status'
  from fam where f = 3;
reset role;
set role lc_sup2;
select refuge.decide_status_change((select id from refuge.status_change where status = 'REQUESTED'
    and individual_id = (select pa from fam where f = 3)), true) ->> 'decision';
reset role;
select h.population_type, h.source, h.actor, h.approved_by, h.recognised_by
  from refuge.status_history h where h.individual_id = (select pa from fam where f = 3) and h.valid_to is null;

-- 6. resettlement departure of family 4 after a cycle opened: the record
-- closes on the departure date, the entitlement is cancelled, collection refused
set role lc_desk;
select refuge.create_assistance_plan('{"operation": "KEN", "code": "GFD", "name": "General food", "ration": {"maize_kg": 9}, "population_types": ["ASY", "REF"]}') as plan \gset
select (refuge.open_assistance_cycle(:'plan', current_date - 3, current_date + 10) ->> 'entitlements')::int as entitlements;
select refuge.open_distribution((select id from refuge.assistance_cycle), 'KAKUMA') as dist \gset
reset role;
select refuge.enrol_biometrics(pa, refuge.synthetic_templates(21, 40)) ->> 'decision' as enrolled from fam where f = 4;
set role lc_rst;
select (refuge.open_case('RESETTLEMENT', pa, array[second]) ->> 'case_id') as rst from fam where f = 4 \gset
select refuge.transition_case(:'rst', 'ASSESS', '{"needs_assessment": "legal and physical protection needs"}') ->> 'state';
select refuge.transition_case(:'rst', 'INTERVIEW', jsonb_build_object('interview_date', current_date)) ->> 'state';
select refuge.transition_case(:'rst', 'PREPARE_RRF', '{"submission_category": "LPN", "priority": "NR", "justification": "x"}') ->> 'state';
select refuge.transition_case(:'rst', 'REFER_HUB') ->> 'state';
select refuge.transition_case(:'rst', 'SUBMIT', '{"resettlement_country": "CAN"}') ->> 'status';
reset role;
set role lc_sup;
select refuge.decide_approval((select id from refuge.case_approval where case_id = :'rst' and status = 'REQUESTED'), true) ->> 'state';
reset role;
set role lc_rst;
select refuge.transition_case(:'rst', 'STATE_ACCEPT', jsonb_build_object('state_decision_on', current_date)) ->> 'state';
select r ->> 'state' as state, r ->> 'records_changed' as records_changed
  from refuge.transition_case(:'rst', 'CONFIRM_DEPARTURE', jsonb_build_object('departure_date', current_date - 2)) r;
reset role;
select i.status, i.status_date = current_date - 2 as dated, i.status_reason like 'RESETTLED%' as reason
  from refuge.individual i where i.id = (select pa from fam where f = 4);
select e.status, e.members from refuge.entitlement e where e.group_id = (select gid from fam where f = 4);
select g.status as family_status from refuge.registration_group g where g.id = (select gid from fam where f = 4);
set role lc_desk;
select r ->> 'decision' as decision, r ->> 'reason' as reason
  from fam, lateral refuge.collect(:'dist', gid, pa, refuge.synthetic_templates(21, 40, 7)) r where f = 4;
reset role;
-- a departed record cannot open a new case
set role lc_rsd1;
select pg_temp.err(format($q$select refuge.open_case('RSD', %L)$q$, (select second from fam where f = 4)));
reset role;

-- 7. death of one member: a request, effective on the day of death; the
-- family's entitlement is recounted without them
set role lc_reg;
select pg_temp.err(format($q$select refuge.request_closure(%L, 'ABDUCTED')$q$, (select second from fam where f = 3)));
select pg_temp.err(format($q$select refuge.request_closure(%L, 'DECEASED', current_date + 1)$q$, (select second from fam where f = 3)));
reset role;
set role lc_sup2;
select refuge.request_closure(second, 'DECEASED', current_date - 1, 'death certificate from the camp clinic') ->> 'status'
  from fam where f = 3;
select pg_temp.err(format($q$select refuge.decide_status_change(%L, true)$q$,
    (select id from refuge.status_change where status = 'REQUESTED' and individual_id = (select second from fam where f = 3))));
reset role;
set role lc_sup;
select refuge.decide_status_change((select id from refuge.status_change where status = 'REQUESTED'
    and individual_id = (select second from fam where f = 3)), true) ->> 'decision';
reset role;
select e.status, e.members, e.items from refuge.entitlement e where e.group_id = (select gid from fam where f = 3);
set role lc_reg;
select (refuge.status_on(second, current_date - 2)) ->> 'status' as day_before,
       (refuge.status_on(second, current_date - 1)) ->> 'status' as day_of_death,
       (refuge.status_on(second, current_date - 3650)) ->> 'registered' as before_registration
  from fam where f = 3;
select pg_temp.err(format($q$select refuge.status_on(%L, null)$q$, (select pa from fam where f = 3)));
select pg_temp.err($q$select refuge.status_on('00000000-0000-0000-0000-000000000000', current_date)$q$);
reset role;

-- 8. history by date: family 2 was asylum-seekers until today's appeal
set role lc_reg;
select refuge.status_on(pa, current_date - 20) ->> 'population_type' as twenty_days_ago,
       refuge.status_on(pa, current_date) ->> 'population_type' as today
  from fam where f = 2;
reset role;
-- a back-dated snapshot counts status and population type of the day
select refuge.snapshot(now() - interval '20 days', 'before the appeal') ->> 'status' as back_dated;
select f.population_type, f.status, count(*)
  from refuge_warehouse.individual_fact f join refuge_warehouse.snapshot s on s.id = f.snapshot_id
 where s.label = 'before the appeal' group by 1, 2 order by 1, 2;

-- 9. a record merged as a duplicate never becomes active again except through adjudication
update refuge.individual set status = 'DUPLICATE' where id = (select second from fam where f = 2);
set role lc_reg;
select pg_temp.err(format($q$select refuge.request_status_change(%L, 'ACTIVE', reason => 'seen again')$q$, (select second from fam where f = 2)));
select pg_temp.err(format($q$select refuge.request_closure(%L, 'DECEASED')$q$, (select second from fam where f = 2)));
reset role;
select h.source from refuge.status_history h where h.individual_id = (select second from fam where f = 2) and h.valid_to is null;

-- 10. the history is append-only for staff and scoped to their operations
set role lc_reg;
select pg_temp.err($q$update refuge.status_history set status = 'ACTIVE'$q$);
select pg_temp.err($q$select refuge.set_status_context('{"source": "ADJUDICATION"}')$q$);
reset role;

-- 10b. what a hostile review found, now refused: a context set by the caller
-- does not describe a registration; a rejection closure after a recognition
-- changes nobody; a record inactivated by verification stays so through
-- other changes; a closed record joins no case and its documents end
set role lc_reg;
select set_config('refuge_lifecycle.status_context', '{"source": "ADJUDICATION", "approved_by": "lc_sup2", "legal_basis": "1951_CONVENTION"}', true) is not null as tried;
select pg_temp.err($q$select refuge.set_status_context('{"source": "ADJUDICATION"}')$q$) as set_context;
select (refuge.register_group('{"operation": "KEN", "site": "KAKUMA", "registration_level": "BASIC", "population_type": "REF",
    "members": [{"relationship": "PA", "given_name": "Forged", "sex": "M", "date_of_birth": "1990-01-01"}]}') -> 'members' -> 0 ->> 'individual_id') as forged \gset
reset role;
select source, approved_by, legal_basis from refuge.status_history where individual_id = :'forged';
set role lc_rsd1;
select pg_temp.rsd_to_decision(:'forged', '{}', 'RECOGNIZED', null) as rsd_forged \gset
reset role;
set role lc_sup;
select refuge.decide_approval((select id from refuge.case_approval where case_id = :'rsd_forged' and status = 'REQUESTED'), true) ->> 'records_changed' as recognised;
reset role;
set role lc_rsd1;
select refuge.transition_case(:'rsd_forged', 'NOTIFY', jsonb_build_object('notified_on', current_date)) ->> 'state';
select coalesce(refuge.transition_case(:'rsd_forged', 'CLOSE', '{"closure_reason": "NO_APPEAL"}') ->> 'records_changed', 'none') as rejection_closure_after_recognition;
reset role;
select status, population_type from refuge.individual where id = :'forged';
-- a closed (deceased) record joins no new case
set role lc_rsd1;
select pg_temp.err(format($q$select refuge.open_case('RSD', %L, array[%L]::uuid[])$q$, (select pa from fam where f = 3), (select second from fam where f = 3))) as deceased_member;
reset role;

-- 11. registration levels: what each requires is data, checked on
-- registration and on moving up; group pre-registration is a head count
-- with a provisional token
select level, count(*) as requirements from refuge.level_requirement group by level order by level;
set role lc_reg;
select pg_temp.err($q$select refuge.register_group('{"operation": "KEN", "site": "KAKUMA", "registration_level": "COMPREHENSIVE",
    "population_type": "ASY", "members": [{"relationship": "PA", "given_name": "Only", "sex": "F"}]}')$q$) as name_and_sex_only;
select pg_temp.err($q$select refuge.register_group('{"operation": "KEN", "site": "KAKUMA", "registration_level": "GROUP_PRE",
    "population_type": "ASY", "members": [{"relationship": "PA", "given_name": "Only", "sex": "F"}]}')$q$) as individual_at_group_pre;
select count(*) as nobody_written from refuge.individual where given_name = 'Only';
select pg_temp.err(format($q$select refuge.update_individual(%L, '{"registration_level": "COMPREHENSIVE"}')$q$,
    (select pa from fam where f = 3))) as upgrade_without_data;
select refuge.update_individual(pa, '{"registration_level": "COMPREHENSIVE", "birth_country": "SSD", "place_of_birth": "Bor",
    "marital_status": "MA", "education_level": "8", "arrival_date": "2025-01-10",
    "nationalities": [{"country": "SSD"}], "languages": [{"language": "din", "mother_tongue": true}],
    "occupations": [{"kind": "SKILL", "title": "tailoring"}], "contacts": [{"type": "MOBILE", "value": "+254 700 000 003"}],
    "addresses": [{"type": "CoA", "country": "KEN", "text": "Block 2"}],
    "flight_legs": [{"place": "Bor", "country": "SSD", "departed_on": "2025-01-01"}]}') ->> 'number' ~ '^KEN-' as upgraded
  from fam where f = 3;
select registration_level from refuge.individual where id = (select pa from fam where f = 3);
select pg_temp.err($q$select refuge.pre_register_group('KEN', 'KAKUMA', 0)$q$) as empty_group;
select pg_temp.err($q$select refuge.pre_register_group('KEN', 'KAKUMA', 5, '{"females": 9}')$q$) as too_many_females;
select pg_temp.err($q$select refuge.pre_register_group('KEN', 'KAKUMA', 5, '{"colour": "red"}')$q$) as unknown_detail;
select pg_temp.err($q$select refuge.pre_register_group('KEN', 'NOWHERE', 5)$q$) as unknown_site;
select refuge.pre_register_group('KEN', 'KAKUMA', 6, '{"females": 3, "children": 4, "contact_name": "Achol", "origin_country": "SSD"}') as pre \gset
select :'pre'::jsonb ->> 'token' ~ '^KEN-P-[0-9A-Z]{4}-[0-9A-Z]{4}$' as token_form, :'pre'::jsonb ->> 'head_count' as head_count;
select site, groups, people from refuge.pre_registration_summary('KEN');
select :'pre'::jsonb ->> 'token' as token \gset
select refuge.register_group(jsonb_build_object('operation', 'KEN', 'site', 'KAKUMA', 'registration_level', 'EMERGENCY',
    'population_type', 'ASY', 'pre_registration', :'token', 'members', jsonb_build_array(
    jsonb_build_object('relationship', 'PA', 'given_name', 'Achol', 'sex', 'F')))) ->> 'group_number' ~ '^KEN-' as registered;
select regexp_replace(pg_temp.err(format($q$select refuge.register_group(jsonb_build_object('operation', 'KEN', 'site', 'KAKUMA', 'registration_level', 'EMERGENCY',
    'population_type', 'ASY', 'pre_registration', %L, 'members', '[{"relationship": "PA", "given_name": "Twice", "sex": "F"}]'::jsonb))$q$, :'token')),
    'KEN-P-[0-9A-Z-]+', '<token>') as token_used_twice;
select count(*) as twice_written from refuge.individual where given_name = 'Twice';
select count(*) as awaiting from refuge.pre_registration_summary('KEN');
reset role;

-- leave the database as found for the next suite
drop table fam;
\i test/lib/reinstall.sql
drop role lc_rsd1, lc_rsd2, lc_sup, lc_sup2, lc_rst, lc_reg, lc_desk, lc_admin;
