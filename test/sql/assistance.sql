-- Assistance without recycling: a plan targets population types, a cycle
-- gives each family an entitlement (ration x members), and a distribution
-- hands it to a biometrically verified collector.  A second collection in the
-- cycle is refused and raises a fraud alert (row + NOTIFY).
\set VERBOSITY terse
set client_min_messages = warning;
set search_path = public, refuge;
create function pg_temp.err(q text) returns text language plpgsql as $$
begin
    execute q;
    return 'no error';
exception when others then
    return sqlstate || ' ' || regexp_replace(regexp_replace(sqlerrm,
        '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '<id>', 'g'), '\d{4}-\d\d-\d\d', '<date>', 'g');
end $$;

select refuge.create_operation('KEN', 'KEN', 'Kenya') is not null as ken;
select refuge.create_site('KEN', 'KAKUMA', 'Kakuma', 'CAMP', 34.85, 3.72) is not null as kakuma;
select refuge.create_site('KEN', 'DADAAB', 'Dadaab', 'CAMP', 40.3, 0.05) is not null as dadaab;
drop role if exists as_desk, as_reg;
create role as_desk;  grant refuge_assistance to as_desk;
create role as_reg;   grant refuge_registration to as_reg;
select refuge.assign_staff('as_desk', 'KEN') is not null as desk_in_ken;

-- three families in Kakuma (REF, REF, ASY) and one in Dadaab; person k of a
-- family is synthetic person (family * 10 + k)
create table fam (f int primary key, gid uuid, pa uuid, second uuid);
grant select on fam to public;
insert into fam
select f, (r ->> 'group_id')::uuid, (r -> 'members' -> 0 ->> 'individual_id')::uuid, (r -> 'members' -> 1 ->> 'individual_id')::uuid
  from (select f, refuge.register_group(jsonb_build_object('operation', 'KEN', 'site', case when f = 4 then 'DADAAB' else 'KAKUMA' end,
          'registration_level', 'BASIC', 'population_type', case when f = 3 then 'ASY' else 'REF' end,
          'members', jsonb_build_array(
              jsonb_build_object('relationship', 'PA', 'given_name', 'Head' || f, 'sex', 'F', 'date_of_birth', '1980-01-01'),
              jsonb_build_object('relationship', 'SON', 'given_name', 'Son' || f, 'sex', 'M', 'date_of_birth', '2001-01-01'),
              jsonb_build_object('relationship', 'DAU', 'given_name', 'Girl' || f, 'sex', 'F', 'date_of_birth', '2010-01-01')))) r
          from generate_series(1, 4) f) x;
select f, refuge.enrol_biometrics(pa, refuge.synthetic_templates(21, f * 10)) ->> 'decision' as head,
          refuge.enrol_biometrics(second, refuge.synthetic_templates(21, f * 10 + 1)) ->> 'decision' as son
  from fam order by f;

-- a plan for refugees in Kakuma
set role as_desk;
select pg_temp.err($q$select refuge.create_assistance_plan('{"operation": "KEN", "code": "GFD", "name": "General food", "ration": {"maize_kg": 0}, "population_types": ["REF"]}')$q$);
select pg_temp.err($q$select refuge.create_assistance_plan('{"operation": "KEN", "code": "GFD", "name": "General food", "ration": {"maize_kg": 9}, "population_types": []}')$q$);
select pg_temp.err($q$select refuge.create_assistance_plan('{"operation": "KEN", "code": "GFD", "name": "General food", "ration": {"maize_kg": 9}, "population_types": ["XXX"]}')$q$);
select pg_temp.err($q$select refuge.create_assistance_plan('{"operation": "KEN", "code": "GFD", "name": "General food", "modality": "GOLD", "ration": {"maize_kg": 9}, "population_types": ["REF"]}')$q$);
select refuge.create_assistance_plan('{"operation": "KEN", "code": "GFD", "name": "General food distribution",
    "modality": "IN_KIND", "ration": {"maize_kg": 9.5, "oil_l": 0.9}, "population_types": ["REF"], "sites": ["KAKUMA"],
    "starts_on": "2026-01-01"}') is not null as plan;
select pg_temp.err($q$select refuge.create_assistance_plan('{"operation": "KEN", "code": "GFD", "name": "Again", "ration": {"maize_kg": 9}, "population_types": ["REF"]}')$q$);
select id as plan_id from refuge.assistance_plan \gset
select r ->> 'number' as cycle, r ->> 'entitlements' as entitlements
  from refuge.open_assistance_cycle(:'plan_id', current_date - 3, current_date + 10) r;
select pg_temp.err(format($q$select refuge.open_assistance_cycle(%L, current_date, current_date + 1)$q$, :'plan_id'));
reset role;
-- families 1 and 2 (REF in Kakuma): three members each
select f.f, e.members, e.items, e.status from refuge.entitlement e join fam f on f.gid = e.group_id order by f.f;
select id as cycle_id from refuge.assistance_cycle \gset

set role as_desk;
select pg_temp.err(format($q$select refuge.open_distribution(%L, 'KAKUMA', current_date + 30)$q$, :'cycle_id'));
select pg_temp.err(format($q$select refuge.open_distribution(%L, 'DADAAB', current_date)$q$, :'cycle_id'));
select refuge.open_distribution(:'cycle_id', 'KAKUMA') as dist_id \gset
reset role;

set role as_desk;
-- the head of family 1 collects after verification
select r ->> 'decision' as decision, r -> 'items' as items, r -> 'verification' ->> 'match' as verified
  from fam, lateral refuge.collect(:'dist_id', gid, pa, refuge.synthetic_templates(21, 10, 7)) r where f = 1;
-- the son is not authorised: refused without verification
select r ->> 'decision' as decision, r ->> 'reason' as reason, r ? 'verification' as verified
  from fam, lateral refuge.collect(:'dist_id', gid, second, refuge.synthetic_templates(21, 21, 7)) r where f = 2;
-- the head of family 2 presents someone else's fingers: refused
select r ->> 'decision' as decision, r ->> 'reason' as reason, r -> 'verification' ->> 'match' as verified
  from fam, lateral refuge.collect(:'dist_id', gid, pa, refuge.synthetic_templates(21, 30, 7)) r where f = 2;
-- family 1 comes back: refused, with a fraud alert
select r ->> 'decision' as decision, r ->> 'reason' as reason, r ? 'alert_id' as alert
  from fam, lateral refuge.collect(:'dist_id', gid, pa, refuge.synthetic_templates(21, 10, 8)) r where f = 1;
reset role;

-- an authorised alternate (family 2's son) collects for family 2, with two fingers only
set role as_desk;
select pg_temp.err(format($q$select refuge.authorise_collector(%L, %L, '')$q$, (select gid from fam where f = 2), (select second from fam where f = 2)));
select refuge.authorise_collector(gid, second, 'mother in hospital', current_date + 30) is not null as authorised from fam where f = 2;
select r ->> 'decision' as decision, r -> 'verification' ->> 'modalities' as parts
  from fam, lateral refuge.collect(:'dist_id', gid, second,
       jsonb_build_object('fingers', (refuge.synthetic_templates(21, 21, 7) -> 'fingers') - 9 - 8 - 7 - 6 - 5 - 4 - 3 - 2)) r
 where f = 2;
reset role;

-- an operation whose distributions wait for HQ's global check: the son's enrolment
-- came from a field site (its capture is K1's) and HQ has not searched it yet
select refuge.set_assistance_waits_for_global_check('KEN', true) as waits;
set session_replication_role = replica;
update refuge.biometric_capture set sync_owner = 'K1' where individual_id = (select second from fam where f = 2);
reset session_replication_role;
select refuge.global_decision(second) as son_global_decision from fam where f = 2;
set role as_desk;
select r ->> 'decision' as decision, r ->> 'reason' as reason
  from fam, lateral refuge.collect(:'dist_id', gid, second, refuge.synthetic_templates(21, 21, 8)) r where f = 2;
reset role;
-- HQ's search finds no one else: he is enrolled, and the family's collection stands
insert into refuge.global_check (capture_id, individual_id, operation_id, field_node, decision)
select b.id, b.individual_id, b.operation_id, 'K1', 'enrolled' from refuge.biometric_capture b
 where b.individual_id = (select second from fam where f = 2);
select refuge.global_decision(second) as son_global_decision from fam where f = 2;
set role as_desk;
select r ->> 'decision' as decision, r ->> 'reason' as reason
  from fam, lateral refuge.collect(:'dist_id', gid, second, refuge.synthetic_templates(21, 21, 8)) r where f = 2;
reset role;
select refuge.set_assistance_waits_for_global_check('KEN', false) as waits;
set role as_desk;

-- family 3 (asylum seekers) and family 4 (Dadaab) have no entitlement under this plan
select pg_temp.err(format($q$select refuge.collect(%L, %L, %L, refuge.synthetic_templates(21, 30, 7))$q$, :'dist_id',
                          (select gid from fam where f = 3), (select pa from fam where f = 3)));
select pg_temp.err(format($q$select refuge.collect(%L, %L, %L, null)$q$, :'dist_id', (select gid from fam where f = 1), (select pa from fam where f = 1)));
reset role;

-- everything is recorded: attempts, refusals, verifications, alerts
select f.f, c.outcome, c.refusal, c.verification_id is not null as verified, c.alert_id is not null as alert
  from refuge.collection c join fam f on f.gid = c.group_id order by c.collected_at, f.f;
select f.f, e.status from refuge.entitlement e join fam f on f.gid = e.group_id order by f.f;
select kind, (details ->> 'first_collection_id') is not null as names_first_collection from refuge.fraud_alert;
select purpose, match, count(*) from refuge.biometric_verification group by 1, 2 order by 1, 2;
-- the rule holds in the table itself, not only in the function
insert into refuge.collection (entitlement_id, event_id, group_id, collector_id, operation_id, site_id, outcome, collected_by)
select c.entitlement_id, c.event_id, c.group_id, c.collector_id, c.operation_id, c.site_id, 'COLLECTED', 'x'
  from refuge.collection c where c.outcome = 'COLLECTED' limit 1;

-- who sees what: assistance staff and supervisors of the operation; not registration staff
set role as_desk;
select count(*) as desk_sees_collections from refuge.collection;
reset role;
set role as_reg;
select count(*) from refuge.collection;
select refuge.collect(:'dist_id', gid, pa, refuge.synthetic_templates(21, 10, 7)) from fam where f = 1;
reset role;
drop table fam;
drop role as_desk, as_reg;

-- leave the database as found for the next suite
-- (TRUNCATE is refused on refuge's tables: the extension is installed anew)
\i test/lib/reinstall.sql
