-- Case management: each role x each module x open / read / move, allowed or
-- denied as the module definitions and the staff mapping say; then the
-- rules of transitions, approvals, transfers and partner referrals.
begin;
\ir fixtures.inc

create role tap_rsd;        grant refuge_rsd to tap_rsd;
create role tap_rsd_uga;    grant refuge_rsd to tap_rsd_uga;
create role tap_rst;        grant refuge_resettlement to tap_rst;
create role tap_prot;       grant refuge_protection to tap_prot;
create role tap_cp;         grant refuge_child_protection to tap_cp;
create role tap_assist;     grant refuge_assistance to tap_assist;
create role tap_partner;    grant refuge_partner to tap_partner;
create role tap_rsd_sup;    grant refuge_rsd, refuge_supervisor to tap_rsd_sup;
select count(refuge.assign_staff(r, 'KEN')) as a from unnest(array['tap_rsd', 'tap_rst', 'tap_prot', 'tap_cp',
    'tap_assist', 'tap_rsd_sup']) r \gset
select refuge.assign_staff('tap_rsd_uga', 'UGA') is not null as a \gset
select refuge.create_partner('IRC', 'International Rescue Committee') is not null as p \gset
select refuge.define_agreement('{"code": "IRC-TAP", "title": "IRC referrals", "party_kind": "PARTNER", "partner": "IRC",
    "party_name": "International Rescue Committee", "purposes": ["REFERRAL"], "fields": ["CASE", "MEMBERS"], "legal_basis": "CONSENT",
    "valid_from": "2026-01-01", "valid_until": "2030-12-31", "security_terms": "need-to-know", "signed_by": "Representative",
    "signed_on": "2026-01-01"}') is not null as agr \gset
select refuge.assign_partner_staff('tap_partner', 'IRC') is not null as p \gset

create temp table cm_role (role text primary key);
insert into cm_role values ('tap_rsd'), ('tap_rsd_uga'), ('tap_rst'), ('tap_prot'), ('tap_cp'), ('tap_assist'),
  ('tap_partner'), ('tap_rsd_sup'), ('tap_sup_ken'), ('tap_reg_ken'), ('tap_analyst'), ('tap_admin'), ('tap_nobody');

-- Per module: data to open a case and the first step with valid data.
create temp table cm_module (module text primary key, open_data jsonb, action text, step_data jsonb);
insert into cm_module values
  ('RSD', '{}', 'ASSIGN_MODALITY', '{"modality": "REGULAR"}'),
  ('RESETTLEMENT', '{}', 'ASSESS', '{"needs_assessment": "medical"}'),
  ('BID', '{"child_status": "UNACCOMPANIED"}', 'COMPLETE_BIA', '{"risk_level": "HIGH"}'),
  ('SGBV', '{}', 'RECORD_CONSENT', '{}'),
  ('STATELESSNESS', '{}', 'SCHEDULE_INTERVIEW', '{"interview_date": "2030-01-01"}'),
  ('TRACING', '{"sought_family_name": "Doe"}', 'START_TRACING', '{}'),
  ('VULNERABILITY', '{}', 'ASSESS', '{"answers": {"NO_INCOME": true}}'),
  ('VOLREP', '{}', 'SIGN_VRF', '{"vrf_signed_on": "2026-01-01", "intended_return_country": "SSD"}'),
  ('LOCAL_INTEGRATION', '{}', 'ASSESS', '{"assessment": "good prospects"}'),
  ('FRAUD', '{}', 'OPEN_INVESTIGATION', '{"allegation": "ration card sold"}');

create function pg_temp.person(tag text) returns uuid language sql as
  $f$ select id from refuge.individual where given_name = tag $f$;
-- one case of every module for the Kakuma family (KEN), opened by a superuser
-- (with the consents the purposes resting on consent need)
select count(refuge.record_consent(pg_temp.person(w.tag), p.code)) as consents
  from refuge.processing_purpose p, unnest(array['SonK1', 'GivenK1']) w(tag)
 where p.legal_basis = 'CONSENT' and (p.code in (select module from cm_module) or p.code = 'REFERRAL') \gset
create temp table cm_case as
select m.module, (refuge.open_case(m.module, pg_temp.person('SonK1'), '{}', m.open_data) ->> 'case_id')::uuid as id
  from cm_module m;

-- May the role work the module in Kenya?  Derived from case_module.roles and
-- staff_assignment, independently of the functions under test.
create function pg_temp.may(r text, m text) returns boolean language sql as $$
  select exists (select 1 from refuge.case_module cm, unnest(cm.roles) g where cm.code = m and pg_has_role(r, g, 'MEMBER'))
     and exists (select 1 from refuge.staff_assignment a join refuge.operation o on o.id = a.operation_id
                  where a.role_name = r and o.code = 'KEN' and a.site_id is null)
$$;
-- Run q as role r; report 'ok' or the SQLSTATE; undo whatever it did.
create function pg_temp.try_as(r text, q text) returns text language plpgsql as $$
declare
    result text;
begin
    begin
        execute format('set local role %I', r);
        execute q;
        raise exception using errcode = 'P0004', message = 'undo';
    exception when sqlstate 'P0004' then
        result := 'ok';
    when others then
        result := sqlstate;
    end;
    reset role;
    return result;
end
$$;
create function pg_temp.count_as(r text, m text) returns text language plpgsql as $$
declare
    n bigint;
begin
    execute format('set local role %I', r);
    begin
        select count(*) into n from refuge.process_case where module = m;
    exception when insufficient_privilege then
        reset role;
        return 'denied';
    end;
    reset role;
    return n::text;
end
$$;

select plan((select count(*)::int * 3 from cm_role, cm_module) + 28);

-- open: the module's roles in the person's operation; everyone else 42501 (or P0002 out of scope)
select is(pg_temp.try_as(r.role, format('select refuge.open_case(%L, %L, %L, %L)', m.module, pg_temp.person('GivenK1'),
                                        '{}', m.open_data)),
          case when pg_temp.may(r.role, m.module) then 'ok'
               when exists (select 1 from refuge.case_module cm, unnest(cm.roles) g
                             where cm.code = m.module and pg_has_role(r.role, g, 'MEMBER')) then 'P0002'
               else '42501' end,
          format('%s opens %s', r.role, m.module))
  from cm_role r, cm_module m order by r.role, m.module;

-- read: the module's cases of their operations; roles without case access are denied
select is(pg_temp.count_as(r.role, m.module),
          case when pg_temp.may(r.role, m.module) then '1'
               when r.role in ('tap_rsd', 'tap_rsd_uga', 'tap_rst', 'tap_prot', 'tap_cp', 'tap_assist', 'tap_rsd_sup',
                               'tap_sup_ken') then '0'
               else 'denied' end,
          format('%s reads %s cases', r.role, m.module))
  from cm_role r, cm_module m order by r.role, m.module;

-- move: the first step of the workflow
select is(pg_temp.try_as(r.role, format('select refuge.transition_case(%L, %L, %L)', c.id, m.action, m.step_data)),
          -- a case the caller may not work is not found (its module and operation are not named)
          case when pg_temp.may(r.role, m.module) then 'ok'
               when has_function_privilege(r.role, 'refuge.transition_case(uuid, text, jsonb, text)', 'execute') then 'P0002'
               else '42501' end,
          format('%s moves %s (%s)', r.role, m.module, m.action))
  from cm_role r, cm_module m join cm_case c using (module) order by r.role, m.module;

-- transition rules
select (select id from cm_case where module = 'RSD') as rsd \gset
set local role tap_rsd;
select throws_ok(format($q$select refuge.transition_case(%L, 'NOTIFY', '{"notified_on": "2026-01-01"}')$q$, :'rsd'),
                 '55000', null, 'a step not allowed from the current state is refused');
select throws_ok(format($q$select refuge.transition_case(%L, 'ASSIGN_MODALITY', '{"modality": "SLOW"}')$q$, :'rsd'),
                 '22023', null, 'a value outside the step''s list is refused');
select throws_ok(format($q$select refuge.transition_case(%L, 'ASSIGN_MODALITY', '{}')$q$, :'rsd'),
                 '22004', null, 'a required value missing is refused');
select is((select count(*) from refuge.case_event where case_id = :'rsd'), 1::bigint, 'refused steps wrote no event');
select is(refuge.transition_case(:'rsd', 'ASSIGN_MODALITY', '{"modality": "REGULAR"}') ->> 'state', 'MODALITY_ASSIGNED',
          'a valid step moves the case');
select lives_ok(format($q$select refuge.transition_case(%L, 'SCHEDULE_INTERVIEW', '{"interview_date": "2030-01-01"}')$q$, :'rsd'),
                'schedule');
select lives_ok(format($q$select refuge.transition_case(%L, 'HOLD_INTERVIEW')$q$, :'rsd'), 'interview');
select lives_ok(format($q$select refuge.transition_case(%L, 'WRITE_ASSESSMENT')$q$, :'rsd'), 'assessment');
select is(refuge.transition_case(:'rsd', 'DECIDE', '{"decision": "REJECTED"}') ->> 'status', 'approval_requested',
          'the first-instance decision awaits approval');
select is((select state from refuge.process_case where id = :'rsd'), 'ASSESSED', 'the state waits for the approval');
select throws_ok(format($q$select refuge.transition_case(%L, 'DECIDE', '{"decision": "RECOGNIZED"}')$q$, :'rsd'),
                 '55000', null, 'nothing moves while a step awaits approval');
reset role;
-- approvals: supervisors of the module, never the requester
select id as appr from refuge.case_approval where case_id = :'rsd' \gset
select is(pg_temp.try_as('tap_rsd', format('select refuge.decide_approval(%L, true)', :'appr')), '42501',
          'an officer cannot approve');
select is(pg_temp.try_as('tap_sup_ken', format('select refuge.decide_approval(%L, true)', :'appr')), 'P0002',
          'a supervisor who does not work RSD cannot approve (the case is not found)');
set local role tap_rsd_sup;
select is(refuge.decide_approval(:'appr', true) ->> 'state', 'DECIDED', 'an RSD supervisor approves: the case moves');
reset role;
select is((select actor || '/' || (select decided_by from refuge.case_approval where id = :'appr') from refuge.case_event
            where case_id = :'rsd' and action = 'DECIDE'), 'tap_rsd/tap_rsd_sup', 'the event names the officer and the approver');
-- transfers: to Uganda; the receiving RSD staff accept; access follows
set local role tap_rsd;
select lives_ok(format($q$select refuge.transition_case(%L, 'NOTIFY', '{"notified_on": "2026-11-01"}')$q$, :'rsd'), 'notify');
select refuge.request_case_transfer(:'rsd', 'UGA', null, 'family moved') as tr \gset
reset role;
select is(pg_temp.try_as('tap_rsd', format($q$select refuge.decide_case_transfer(%L, 'ACCEPT')$q$, :'tr')), '42501',
          'the sending side cannot accept its own transfer');
set local role tap_rsd_uga;
select is(refuge.decide_case_transfer(:'tr', 'ACCEPT', 'received') ->> 'status', 'accepted', 'the receiving side accepts');
select is((select count(*) from refuge.process_case where id = :'rsd'), 1::bigint, 'the receiving side now sees the case');
reset role;
select is(pg_temp.count_as('tap_rsd', 'RSD'), '0', 'the sending side no longer sees it');
-- partner referral and revocation
select (select id from cm_case where module = 'RESETTLEMENT') as rst \gset
set local role tap_rst;
select refuge.refer_case(:'rst', 'IRC', array['CASE', 'MEMBERS'], 'legal counselling', agreement => 'IRC-TAP') as ref \gset
reset role;
set local role tap_partner;
select is((select fields from refuge.referred_cases()), array['CASE', 'MEMBERS'], 'the partner sees its referral');
select is(refuge.referred_case(:'ref', 'intake') ?| array['data', 'notes', 'contacts'], false,
          'only the shared parts are returned');
reset role;
set local role tap_rst;
select lives_ok(format($q$select refuge.end_referral(%L, 'REVOKED', 'no longer needed')$q$, :'ref'), 'the officer revokes');
reset role;
select is(pg_temp.try_as('tap_partner', format($q$select refuge.referred_case(%L, 'again')$q$, :'ref')), '42501',
          'a revoked referral shares nothing');

-- biometric templates: read through a logged function, never selected
create role tap_bioadm;     grant refuge_biometrics_admin to tap_bioadm;
select refuge.enrol_biometrics(pg_temp.person('GivenN1'), refuge.synthetic_templates(41, 1)) ->> 'decision' as enrolled \gset
select is(pg_temp.try_as('tap_bioadm', 'select count(*) from refuge.biometric_finger'), '42501',
          'HQ biometrics administrators cannot select the gallery directly');
set local role tap_bioadm;
select is(jsonb_array_length(refuge.biometric_templates(pg_temp.person('GivenN1'), 'adjudication review') -> 'fingers'), 10,
          'they read one person''s templates through biometric_templates()');
select throws_ok(format($q$select refuge.biometric_templates(%L, '')$q$, pg_temp.person('GivenN1')), '22004', null,
                 'a read without a purpose is refused');
reset role;
select is((select actor || ': ' || purpose from refuge.sensitive_read where kind = 'biometric_templates'),
          'tap_bioadm: adjudication review', 'and the read is logged with its purpose');

select * from finish();
rollback;
