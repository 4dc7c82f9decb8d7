#!/usr/bin/env bash
# The README's main command (make demo): on a fresh Debian 12 machine, set up
# PostgreSQL and refuge, start a local throwaway cluster, generate a synthetic
# population with planted duplicates through the registration API, show what
# it holds, and leave the cluster running for psql.  Safe to run again.
set -u
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
cd "$REFUGE_ROOT"
FAMILIES=${DEMO_FAMILIES:-2000}
PORT=${REFUGE_DEMO_PORT:-54330}

ensure_packages
build_install
# logical WAL: the field-site scene replicates between two clusters
export REFUGE_SERVER_OPTS="-c wal_level=logical -c max_wal_senders=10 -c max_replication_slots=10 ${REFUGE_SERVER_OPTS:-}"
cluster_start demo "$PORT"
if [ "$(psql -qXAt -c 'show wal_level')" != logical ]; then
    as_owner "$PGBIN/pg_ctl" -D "$REFUGE_CLUSTER/data" -m fast -w stop >/dev/null
    cluster_start demo "$PORT"
fi
# an earlier run's field site still replicates with this database: let it go
if psql -qXAt -c "select 1 from pg_database where datname = 'refuge_demo'" | grep -q 1; then
    psql -qX -d refuge_demo >/dev/null 2>&1 <<'SQL'
select refuge.sync_drop_subscription(s.subname) from pg_subscription s
 where s.subdbid = (select oid from pg_database where datname = current_database());
select refuge.sync_drop_slot(slot_name) from pg_replication_slots where database = current_database();
SQL
fi

log "creating database refuge_demo"
PGOPTIONS="-c client_min_messages=warning" psql -qX -v ON_ERROR_STOP=1 \
    -c "drop database if exists refuge_demo" -c "create database refuge_demo" >/dev/null || die "createdb failed"
export PGDATABASE=refuge_demo
psql -qX -v ON_ERROR_STOP=1 >/dev/null 2>&1 <<'SQL' || die "extension set-up failed"
set client_min_messages = warning;
create extension refuge cascade;
-- login roles to try row-level security with: psql -U clerk_kakuma ...
do $$
declare r text;
begin
  foreach r in array array['clerk_kakuma', 'supervisor_ken', 'clerk_uganda', 'analyst', 'admin', 'bio_kenya', 'bio_uganda',
                           'hq_biometrics', 'supervisor_uga', 'desk_kakuma', 'rsd_ken1', 'rsd_ken2', 'rsd_sup_ken',
                           'rst_ken', 'rst_sup_ken', 'prot_kakuma', 'partner_irc', 'dba'] loop
    if not exists (select 1 from pg_roles where rolname = r) then execute format('create role %I login', r); end if;
  end loop;
end $$;
grant refuge_registration to clerk_kakuma, clerk_uganda;
grant refuge_supervisor to supervisor_ken;
grant refuge_analyst to analyst;
grant refuge_admin to admin;
grant refuge_biometrics to bio_kenya, bio_uganda;
grant refuge_biometrics_admin to hq_biometrics;
grant refuge_supervisor to supervisor_uga;
grant refuge_assistance to desk_kakuma;
grant refuge_rsd to rsd_ken1, rsd_ken2, rsd_sup_ken;
grant refuge_resettlement to rst_ken, rst_sup_ken;
grant refuge_supervisor to rsd_sup_ken, rst_sup_ken;
grant refuge_protection to prot_kakuma;
grant refuge_partner to partner_irc;
grant refuge_dba to dba;
set role admin;
select refuge.create_operation('KEN', 'KEN', 'Kenya',
  '{"type":"Polygon","coordinates":[[[33.9,-4.7],[41.9,-4.7],[41.9,5.0],[33.9,5.0],[33.9,-4.7]]]}');
select refuge.create_operation('UGA', 'UGA', 'Uganda',
  '{"type":"Polygon","coordinates":[[[29.5,-1.5],[35.0,-1.5],[35.0,4.2],[29.5,4.2],[29.5,-1.5]]]}');
select refuge.create_site('KEN', 'KAKUMA', 'Kakuma camp', 'CAMP', 34.85, 3.72);
select refuge.create_site('KEN', 'DADAAB', 'Dadaab camps', 'CAMP', 40.31, 0.06);
select refuge.create_site('KEN', 'NAIROBI', 'Nairobi urban', 'URBAN', 36.82, -1.29);
select refuge.create_site('UGA', 'NAKIVALE', 'Nakivale settlement', 'CAMP', 30.95, -0.78);
select refuge.create_site('UGA', 'KYANGWALI', 'Kyangwali settlement', 'CAMP', 30.75, 1.21);
select refuge.create_site('UGA', 'KAMPALA', 'Kampala urban', 'URBAN', 32.58, 0.35);
select refuge.assign_staff('clerk_kakuma', 'KEN', 'KAKUMA', 'Registration clerk, Kakuma');
select refuge.assign_staff('supervisor_ken', 'KEN', null, 'Registration supervisor, Kenya');
select refuge.assign_staff('clerk_uganda', 'UGA', null, 'Registration clerk, Uganda');
select refuge.assign_staff('bio_kenya', 'KEN', null, 'Biometric operator, Kenya');
select refuge.assign_staff('bio_uganda', 'UGA', null, 'Biometric operator, Uganda');
select refuge.assign_staff('supervisor_uga', 'UGA', null, 'Registration supervisor, Uganda');
select refuge.assign_staff('desk_kakuma', 'KEN', null, 'Distribution desk, Kenya');
select refuge.assign_staff('rsd_ken1', 'KEN', null, 'Eligibility officer, Kenya');
select refuge.assign_staff('rsd_ken2', 'KEN', null, 'Eligibility officer, Kenya');
select refuge.assign_staff('rsd_sup_ken', 'KEN', null, 'RSD supervisor, Kenya');
select refuge.assign_staff('rst_ken', 'KEN', null, 'Resettlement officer, Kenya');
select refuge.assign_staff('rst_sup_ken', 'KEN', null, 'Resettlement supervisor, Kenya');
select refuge.assign_staff('prot_kakuma', 'KEN', 'KAKUMA', 'Protection officer, Kakuma');
select refuge.create_partner('IRC', 'International Rescue Committee');
select refuge.assign_partner_staff('partner_irc', 'IRC');
-- data leave only under sharing agreements (issue 18): IRC's referrals, submissions to four resettlement states
select refuge.define_agreement('{"code": "IRC-KEN-2026", "title": "IRC protection referrals, Kenya", "party_kind": "PARTNER",
    "partner": "IRC", "party_name": "International Rescue Committee", "purposes": ["REFERRAL"],
    "fields": ["CASE", "INCIDENT", "MEMBERS"], "legal_basis": "CONSENT", "valid_from": "2026-01-01", "valid_until": "2028-12-31",
    "security_terms": "encrypted transfer, need-to-know access, deletion at case closure", "signed_by": "Representative, Kenya",
    "signed_on": "2026-01-01"}');
select refuge.define_agreement(jsonb_build_object('code', 'RST-' || c, 'title', 'Resettlement submissions to ' || c,
    'party_kind', 'RESETTLEMENT_STATE', 'country', c, 'party_name', 'Resettlement authority of ' || c,
    'purposes', array['RESETTLEMENT_SUBMISSION'], 'fields', array['RRF'], 'legal_basis', 'CONSENT',
    'valid_from', '2026-01-01', 'valid_until', '2028-12-31',
    'security_terms', 'submissions over the resettlement state''s secure channel only', 'signed_by', 'Representative, Kenya',
    'signed_on', '2026-01-01'))
  from unnest(array['USA', 'CAN', 'AUS', 'NOR']) c;
-- and the population statistics published on an open data platform
select refuge.define_agreement('{"code": "HDX-2026", "title": "Population statistics on the Humanitarian Data Exchange",
    "party_kind": "PUBLIC", "party_name": "Humanitarian Data Exchange (HDX)", "purposes": ["STATISTICS"],
    "fields": ["AGGREGATE_STATISTICS"], "legal_basis": "PUBLIC_INTEREST", "valid_from": "2026-01-01", "valid_until": "2028-12-31",
    "security_terms": "aggregated figures only, cells under 5 suppressed", "signed_by": "Representative, Kenya",
    "signed_on": "2026-01-01"}');
reset role;
-- this demo's policy: block automatically only near-certain matches (a
-- false block at most once in a billion enrolments); the rest is reviewed
alter database refuge_demo set refuge.block_fpir = 1e-9;
SQL
# the HQ vault key: a file only the server can read, named by a superuser-only setting
KEYFILE="$REFUGE_CLUSTER/vault.key"
if [ ! -s "$KEYFILE" ]; then
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$KEYFILE"
    chmod 600 "$KEYFILE"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$KEYFILE"
fi
psql -qX -c "load '\$libdir/refuge'" -c "alter system set refuge.vault_key_file = '$KEYFILE'" -c "select pg_reload_conf()" >/dev/null || die "vault key set-up failed"
psql -qX -v ON_ERROR_STOP=1 -f test/demo/synthetic.sql >/dev/null || die "loading the generator failed"

log "registering $FAMILIES synthetic families through refuge.register_group"
start=$(date +%s.%N)
psql -X -v ON_ERROR_STOP=1 -c "select * from demo.generate($FAMILIES)" || die "generation failed"
secs=$(awk -v a="$(date +%s.%N)" -v b="$start" 'BEGIN {print a - b}')
printf '%s families registered in %.1f s\n\n' "$FAMILIES" "$secs"

psql -qX -v ON_ERROR_STOP=1 -f test/demo/identity.sql >/dev/null || die "loading the enrolment queue failed"
log "enrolling biometrics of $(psql -XAt -c "select count(*) from demo.enrol_queue where phase = 1") principal applicants (one operator per operation, in parallel)"
start=$(date +%s.%N)
PGUSER=bio_kenya psql -qX -v ON_ERROR_STOP=1 -c "call demo.enrol_all('KEN', 1)" &
PGUSER=bio_uganda psql -qX -v ON_ERROR_STOP=1 -c "call demo.enrol_all('UGA', 1)" &
wait
log "enrolling the $(psql -XAt -c "select count(*) from demo.enrol_queue where phase = 2") planted duplicates that registration admitted"
PGUSER=bio_kenya psql -qX -v ON_ERROR_STOP=1 -c "call demo.enrol_all('KEN', 2)" &
PGUSER=bio_uganda psql -qX -v ON_ERROR_STOP=1 -c "call demo.enrol_all('UGA', 2)" &
wait
secs=$(awk -v a="$(date +%s.%N)" -v b="$start" 'BEGIN {print a - b}')
printf '%s enrolments in %.1f s\n\n' "$(psql -XAt -c "select count(*) from demo.enrol_result")" "$secs"

log "case management: RSD, resettlement and protection staff work cases of Kenya's families"
psql -qX -v ON_ERROR_STOP=1 -f test/demo/cases.sql >/dev/null || die "loading the case workflows failed"
start=$(date +%s.%N)
psql -qX -v ON_ERROR_STOP=1 -c "call demo.run_rsd()" -c "call demo.run_resettlement()" -c "call demo.run_protection()" \
     -c "set role rsd_sup_ken" -c "select refuge.check_overdue()" >/dev/null || die "case workflows failed"
secs=$(awk -v a="$(date +%s.%N)" -v b="$start" 'BEGIN {print a - b}')
printf '%s case events in %.1f s\n\n' "$(psql -XAt -c "select count(*) from refuge.case_event")" "$secs"

log "warehouse and reports: a snapshot, the UNHCR statistics as HXL, a population pyramid, a Resettlement Registration Form"
PGUSER=dba psql -qXAt -v ON_ERROR_STOP=1 -c "set client_min_messages = warning" \
    -c "select refuge.snapshot(now(), 'demo')" >/dev/null || die "snapshot failed"
OUTDIR="$REFUGE_ROOT/.demo"
PGUSER=analyst psql -qXAt -c "select refuge.hxl_population_csv(1, 'HDX-2026')" > "$OUTDIR/population_hxl.csv" || die "HXL export failed"
PGUSER=analyst psql -qXAt -c "select refuge.population_pyramid_svg(1, 'KEN')" > "$OUTDIR/pyramid_KEN.svg" || die "pyramid failed"
RRF_CASE=$(psql -XAt -c "select id from refuge.process_case where module = 'RESETTLEMENT' and state = 'DEPARTED' order by number limit 1")
# the family's adults consented to the submission (recorded by the resettlement officer)
PGUSER=rst_ken psql -qXAt -v ON_ERROR_STOP=1 -c "select count(refuge.record_consent(cm.individual_id, 'RESETTLEMENT_SUBMISSION', 'WRITTEN',
    notice_version => 'RST-NOTICE-2026')) from refuge.case_member cm where cm.case_id = '$RRF_CASE'" >/dev/null || die "consents failed"
# under the agreement with the state the case was submitted to
RRF_AGREEMENT=$(psql -XAt -c "select 'RST-' || (data ->> 'resettlement_country') from refuge.process_case where id = '$RRF_CASE'")
PGUSER=rst_ken psql -qXAt -c "select refuge.rrf_xml('$RRF_CASE', '$RRF_AGREEMENT')" > "$OUTDIR/rrf.xml" || die "eRRF export failed"
PGUSER=rst_sup_ken psql -qXAt -c "select encode(refuge.rrf_pdf('$RRF_CASE', '$RRF_AGREEMENT'), 'base64')" | base64 -d > "$OUTDIR/rrf.pdf" \
    || die "RRF PDF failed"
XSD="${REFUGE_SHARED:-$REFUGE_ROOT/../shared}/data/errf/xsd/rrf-v4.xsd"

psql -qX -P pager=off <<'SQL'
\echo '== Population by operation, sex and UNHCR age bracket (active individuals)'
select operation, sex,
       sum(individuals) filter (where age_bracket = '0_4') as "0-4",
       sum(individuals) filter (where age_bracket = '5_11') as "5-11",
       sum(individuals) filter (where age_bracket = '12_17') as "12-17",
       sum(individuals) filter (where age_bracket = '18_59') as "18-59",
       sum(individuals) filter (where age_bracket = '60') as "60+",
       sum(individuals) as total
  from refuge.population_summary(min_cell => 1)
 group by 1, 2 order by 1, 2;

\echo '== Families by site and size'
select o.code as operation, s.code as site, count(*) as families,
       round(avg(n), 1) as mean_size, max(n) as largest
  from (select g.id, g.operation_id, g.site_id, count(*) as n from refuge.registration_group g
          join refuge.group_membership m on m.group_id = g.id and m.valid_to is null group by 1, 2, 3) f
  join refuge.operation o on o.id = f.operation_id join refuge.site s on s.id = f.site_id
 group by 1, 2 order by 1, 2;

\echo '== Open specific needs'
select n.category, c.label, count(*) from refuge.specific_need n
  join refuge.specific_need_category c on c.code = n.category
 where n.active group by 1, 2 order by 3 desc;

\echo '== Planted duplicates (same person registering again in the other operation)'
select outcome, coalesce(sqlstate || ' document already recorded', 'needs biometric deduplication') as why, count(*)
  from demo.duplicate_attempt group by 1, 2 order by 1;
\echo '== ... of which the demographic check at registration (names, birth date, family; before any biometrics) found'
select demographic as registration_check, count(*) from demo.duplicate_attempt where outcome = 'admitted' group by 1 order by 1;
select refuge.demographic_thresholds();

\echo '== Biometric enrolment with deduplication (refuge.enrol_biometrics): decisions'
select case when q.phase = 1 then 'first registration'
            when q.one_finger then 'planted duplicate, one finger only'
            else 'planted duplicate, 10 fingers + 2 irises' end as who,
       r.decision, count(*), round(avg(r.ms)) as avg_ms
  from demo.enrol_result r join demo.enrol_queue q using (individual_id)
 group by 1, 2 order by 1, 2;
select count(*) filter (where r.decision = 'enrolled') as duplicates_enrolled_missed,
       count(*) filter (where r.decision = 'blocked') as blocked,
       count(*) filter (where r.decision = 'adjudication') as sent_to_adjudication,
       count(*) filter (where coalesce((select a.other_id from refuge.fraud_alert a where a.individual_id = q.individual_id),
                                       (select d.candidate_id from refuge.dedup_case c join refuge.dedup_candidate d
                                            on d.case_id = c.id and d.rank = 1
                                         where c.individual_id = q.individual_id and c.kind = 'biometric'))
                            = q.original) as pointing_at_the_original
  from demo.enrol_result r join demo.enrol_queue q using (individual_id) where q.phase = 2;
select count(*) filter (where r.decision <> 'enrolled') as first_registrations_wrongly_flagged
  from demo.enrol_result r join demo.enrol_queue q using (individual_id) where q.phase = 1;
select 'gallery ' || refuge.gallery_size() || ' people: block at ' ||
       round(refuge.fused_threshold(refuge.gallery_size(), 1e-9, 12)::numeric, 1) || ' decades of evidence over 12 parts, adjudicate from ' ||
       round(refuge.fused_threshold(refuge.gallery_size(), 0.001, 12)::numeric, 1) || ' (refuge.target_fpir 0.001)' as thresholds;

\echo '== A blocked duplicate, as the Uganda operator saw it (the match is in Kenya: no number)'
select jsonb_pretty(r.result - 'candidates_compared' - 'capture_id' - 'alert_id') as result
  from demo.enrol_result r join demo.enrol_queue q using (individual_id)
 where q.phase = 2 and q.op = 'UGA' and r.decision = 'blocked' limit 1;

\echo '== Adjudication: HQ reviews each case; merges need a supervisor of the operation'
set role hq_biometrics;
select c.id as case_id, i.number as subject, m.number as best_candidate, d.evidence, d.modalities, d.fpir,
       refuge.adjudicate(c.id, case when row_number() over (order by c.created_at) % 3 = 0 then 'fraud' else 'merge' end,
                         d.candidate_id, 'same face and family; second registration under another name') ->> 'decision' as decision
  from refuge.dedup_case c
  join refuge.individual i on i.id = c.individual_id
  join refuge.dedup_candidate d on d.case_id = c.id and d.rank = 1
  join refuge.individual m on m.id = d.candidate_id
 where c.status = 'OPEN' and c.kind = 'biometric';
reset role;
set role supervisor_ken;
select refuge.approve_merge(c.id, true, 'photographs compared') ->> 'approval' as kenya_approval
  from refuge.dedup_case c where c.status = 'AWAITING_APPROVAL';
reset role;
set role supervisor_uga;
select refuge.approve_merge(c.id, true, 'photographs compared') ->> 'approval' as uganda_approval
  from refuge.dedup_case c where c.status = 'AWAITING_APPROVAL';
reset role;
\echo '== Demographic cases left open (the merges above closed those of the same people): the reviewer decides'
set role hq_biometrics;
select x.decision, count(*) from (
    select refuge.adjudicate(c.id, case when d.candidate_id = a.original_individual then 'fraud' else 'different' end, null,
                             case when d.candidate_id = a.original_individual then 'registered again under another spelling'
                                  else 'photographs, documents and families differ' end) ->> 'decision' as decision
      from refuge.dedup_case c
      join refuge.dedup_candidate d on d.case_id = c.id and d.rank = 1
      left join demo.duplicate_attempt a on a.duplicate_individual = c.individual_id
     where c.status = 'OPEN' and c.kind = 'demographic' order by c.created_at) x group by 1 order by 1;
reset role;
select kind, decision, approval, count(*) from refuge.dedup_case group by 1, 2, 3 order by 1, 2, 3;
select e.status as biometric_record, i.status as individual_status, count(*)
  from refuge.biometric_enrolment e join refuge.individual i on i.id = e.individual_id group by 1, 2 order by 1, 2;

\echo '== Fraud alerts (also announced with NOTIFY on channel refuge_fraud_alert)'
select kind, o.code as operation, count(*) from refuge.fraud_alert a join refuge.operation o on o.id = a.operation_id
 group by 1, 2 order by 1, 2;

\echo '== Assistance in Kakuma: general food distribution with biometric verification of the collector'
set role desk_kakuma;
select refuge.create_assistance_plan('{"operation": "KEN", "code": "GFD-2026", "name": "General food distribution",
    "modality": "IN_KIND", "ration": {"sorghum_kg": 9.0, "pulses_kg": 1.35, "oil_l": 0.9}, "population_types": ["REF"],
    "sites": ["KAKUMA"]}') as plan_id \gset
select refuge.open_assistance_cycle(:'plan_id', current_date, current_date + 29) ->> 'entitlements' as families_entitled;
select id as cycle_id from refuge.assistance_cycle where plan_id = :'plan_id' \gset
select refuge.open_distribution(:'cycle_id', 'KAKUMA') as dist_id \gset
create temp table desk as
select e.group_id, m.individual_id, q.person from refuge.entitlement e
  join refuge.group_membership m on m.group_id = e.group_id and m.valid_to is null and m.relationship = 'PA'
  join demo.enrol_queue q on q.individual_id = m.individual_id
 where e.cycle_id = :'cycle_id' order by q.person limit 12;
-- ten heads of family collect; one comes back; one presents someone else's fingers
select r ->> 'decision' as decision, r ->> 'reason' as reason, count(*)
  from (select refuge.collect(:'dist_id', d.group_id, d.individual_id,
                  refuge.synthetic_templates(2026, case when n = 12 then d.person + 1 else d.person end, 3)) r
          from (select *, row_number() over (order by person) n from desk) d
         where n between 1 and 10 or n = 12
        union all
        select refuge.collect(:'dist_id', d.group_id, d.individual_id, refuge.synthetic_templates(2026, d.person, 4))
          from (select * from desk order by person limit 1) d) x
 group by 1, 2 order by 1, 2;
reset role;
select kind, details ->> 'first_collected_at' is not null as names_first_collection from refuge.fraud_alert
 where kind = 'second_collection';

\echo '== The HQ vault: face images sealed with AES-256-GCM; opening one is logged'
set role hq_biometrics;
select i.number, v.part, v.media_type, v.bytes, v.key_id
  from demo.enrol_queue q join refuge.individual i on i.id = q.individual_id, lateral refuge.vault_contents(q.individual_id) v
 where q.person = 1;
select length(refuge.vault_image(v.vault_id, 'demo: identity check at HQ')) as opened_bytes
  from demo.enrol_queue q, lateral refuge.vault_contents(q.individual_id) v where q.person = 1;
reset role;
select accessed_by, purpose, accessed_at::timestamp(0) from refuge.vault_access;
\echo '== One family, as registration staff see it'
select group_number, individual_number, relationship, given_name, family_name, sex, date_of_birth, age
  from refuge.current_member
 where group_id = (select group_id from refuge.current_member group by group_id having count(*) = 5 order by group_id limit 1)
 order by relationship <> 'PA', age desc;

\echo '== The flight of that family''s principal representative'
select f.seq, f.place, f.country, f.departed_on, f.arrived_on, f.reasons, st_astext(f.location) as location
  from refuge.flight_leg f
 where f.individual_id = (select individual_id from refuge.current_member
                           where group_id = (select group_id from refuge.current_member group by group_id having count(*) = 5
                                              order by group_id limit 1) and relationship = 'PA')
 order by f.seq;

\echo '== Row-level security: what each login sees'
set role clerk_kakuma;
select 'clerk_kakuma' as login, count(*) as individuals_visible from refuge.individual;
reset role; set role supervisor_ken;
select 'supervisor_ken' as login, count(*) as individuals_visible from refuge.individual;
reset role; set role clerk_uganda;
select 'clerk_uganda' as login, count(*) as individuals_visible from refuge.individual;
reset role;
select 'postgres (superuser)' as login, count(*) as individuals_visible from refuge.individual;

\echo '== Case management: RSD cases in Kenya by state (as the RSD supervisor sees them)'
set role rsd_sup_ken;
select state, data ->> 'decision' as first_instance, data ->> 'appeal_decision' as appeal, data ->> 'closure_reason' as closure,
       count(*) from refuge.process_case where module = 'RSD' group by 1, 2, 3, 4 order by 1, 2, 3, 4;
\echo '== One RSD case from registration to recognition on appeal: the append-only case history'
select e.at::time(0) as at, e.actor, e.action, e.from_state, e.to_state,
       coalesce(e.data ->> 'decision', e.data ->> 'appeal_decision', e.data ->> 'closure_reason', e.data ->> 'modality',
                e.data ->> 'interview_date', '') as detail,
       (select a.decided_by from refuge.case_approval a where a.id = e.approval_id) as approved_by
  from refuge.case_event e
 where e.case_id = (select c.id from refuge.process_case c where c.data ->> 'appeal_decision' = 'RECOGNIZED'
                     order by c.number limit 1)
 order by e.id;
\echo '== Approvals and alerts (rows, and NOTIFY on channel refuge_case_alert)'
select kind, severity, count(*), count(*) filter (where acknowledged_at is null) as open from refuge.case_alert
 group by 1, 2 order by 1, 2;
reset role;
\echo '== Resettlement: submissions by category, priority and State'
set role rst_ken;
select state, data ->> 'submission_category' as category, data ->> 'priority' as priority,
       data ->> 'resettlement_country' as country, count(*)
  from refuge.process_case where module = 'RESETTLEMENT' group by 1, 2, 3, 4 order by 1, 2, 3, 4;
reset role;
\echo '== Who sees RSD and resettlement cases'
set role clerk_kakuma;
select 'clerk_kakuma (registration)' as login, (select count(*) from refuge.individual) as individuals,
       'no access to cases' as cases;
reset role; set role rsd_ken1;
select 'rsd_ken1 (RSD)' as login, count(*) filter (where module = 'RSD') as rsd_cases,
       count(*) filter (where module = 'RESETTLEMENT') as resettlement_cases from refuge.process_case;
reset role; set role rst_ken;
select 'rst_ken (resettlement)' as login, count(*) filter (where module = 'RSD') as rsd_cases,
       count(*) filter (where module = 'RESETTLEMENT') as resettlement_cases from refuge.process_case;
reset role;
\echo '== The partner IRC sees only its referral, only the parts shared'
set role partner_irc;
select case_number, module, fields, purpose from refuge.referred_cases();
select jsonb_pretty(refuge.referred_case(referral_id, 'intake') - 'referral_id' - 'members') as shared
  from refuge.referred_cases();
reset role;
\echo '== Reads of sensitive records (confidential notes, SGBV incidents, referrals, templates) are logged'
select actor, kind, purpose, at::time(0) from refuge.sensitive_read order by id;
\echo '== The audit trail: every change, hash-chained; refuge.verify_audit() recomputes the chain'
select at::timestamp(0), actor, table_name, action, left(coalesce(new_data, old_data)::text, 70) as data
  from refuge.audit_log order by id desc limit 5;
set role admin;
select v ->> 'intact' as intact, v ->> 'sealed_rows' as sealed_rows, v ->> 'head_seq' as head_seq,
       left(v ->> 'head_hash', 16) || '...' as head_hash
  from refuge.verify_audit() v;
reset role;
\echo '== The warehouse: a frozen, pseudonymous snapshot (taken by the DBA login), read by the analyst'
set role dba;
select snapshot_id, as_of::timestamp(0), label, individuals, families, cases, case_steps, pg_size_pretty(bytes) as size
  from refuge.snapshots();
reset role;
set role analyst;
\echo '== UNHCR population statistics (largest rows; an empty figure is suppressed: under 5 people, or it would give one away)'
select year, asylum_country as asylum, origin_country as origin, population_type as type, female_0_4 as f0_4,
       female_5_11 as f5_11, female_12_17 as f12_17, female_18_59 as f18_59, female_60 as f60, male_0_4 as m0_4,
       male_5_11 as m5_11, male_12_17 as m12_17, male_18_59 as m18_59, male_60 as m60, total
  from refuge_warehouse.population_statistics order by total desc nulls last limit 6;
select count(*) filter (where individuals is null) as cells_suppressed, count(*) as cells,
       round(100.0 * sum(individuals) / (select sum(individuals) from refuge_warehouse.population_total), 1) as pct_people_in_cells_shown
  from refuge_warehouse.population_cell;
\echo '== Case processing times (RSD, days between steps)'
select module, from_state, to_state, steps, mean_days, median_days from refuge_warehouse.case_processing
 where module = 'RSD' order by steps desc nulls last limit 6;
reset role;
SQL
echo "== The HXL export ($OUTDIR/population_hxl.csv), first lines"
grep -E '^(Year|#date|[0-9]{4},(SSD|COD),(KEN|UGA),REF,)' "$OUTDIR/population_hxl.csv" | head -4 | cut -c1-150
echo "== A population pyramid of Kenya as SVG: $OUTDIR/pyramid_KEN.svg ($(wc -c < "$OUTDIR/pyramid_KEN.svg") bytes)"
echo "== The Resettlement Registration Form of a departed family: $OUTDIR/rrf.xml and $OUTDIR/rrf.pdf"
if [ -f "$XSD" ]; then
    printf 'eRRF v4 schema check: '
    sed 's/ xmlns="[^"]*"//' "$OUTDIR/rrf.xml" | xmllint --noout --schema "$XSD" - 2>&1 | tail -1
fi
pdftotext -layout "$OUTDIR/rrf.pdf" - 2>/dev/null | grep -v '^\s*$' | head -24

source test/demo/documents.sh
source test/demo/field.sh
source test/demo/erasure.sh

cat <<EOF

The demo cluster keeps running.  Connect with:

    psql -h $PGHOST -p $PGPORT -U postgres refuge_demo        # superuser
    psql -h $PGHOST -p $PGPORT -U clerk_kakuma refuge_demo    # sees Kakuma only
    psql -h $PGHOST -p $PGPORT -U supervisor_ken refuge_demo  # sees Kenya
    psql -h $PGHOST -p $PGPORT -U analyst refuge_demo         # aggregates only
    psql -h $PGHOST -p $PGPORT -U bio_kenya refuge_demo       # biometric operator, Kenya
    psql -h $PGHOST -p $PGPORT -U hq_biometrics refuge_demo   # adjudication, vault
    psql -h $PGHOST -p $PGPORT -U rsd_ken1 refuge_demo        # RSD officer, Kenya
    psql -h $PGHOST -p $PGPORT -U rst_ken refuge_demo         # resettlement officer, Kenya
    psql -h $PGHOST -p $PGPORT -U partner_irc refuge_demo     # partner: referred cases only
    psql -h $PGHOST -p $PGPORT -U dba refuge_demo             # warehouse DBA: snapshots
    psql -h $FIELD_PGHOST -p $FIELD_PORT -U clerk_dadaab refuge_demo   # the field site Dadaab (its own cluster)

Stop them with:  runuser -u postgres -- $PGBIN/pg_ctl -D $REFUGE_CLUSTER/data stop
                 runuser -u postgres -- $PGBIN/pg_ctl -D $FIELD_CLUSTER/data stop
EOF
