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
cluster_start demo "$PORT"

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
  foreach r in array array['clerk_kakuma', 'supervisor_ken', 'clerk_uganda', 'analyst', 'admin'] loop
    if not exists (select 1 from pg_roles where rolname = r) then execute format('create role %I login', r); end if;
  end loop;
end $$;
grant refuge_registration to clerk_kakuma, clerk_uganda;
grant refuge_supervisor to supervisor_ken;
grant refuge_analyst to analyst;
grant refuge_admin to admin;
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
reset role;
SQL
psql -qX -v ON_ERROR_STOP=1 -f test/demo/synthetic.sql >/dev/null || die "loading the generator failed"

log "registering $FAMILIES synthetic families through refuge.register_group"
start=$(date +%s.%N)
psql -X -v ON_ERROR_STOP=1 -c "select * from demo.generate($FAMILIES)" || die "generation failed"
secs=$(awk -v a="$(date +%s.%N)" -v b="$start" 'BEGIN {print a - b}')
printf '%s families registered in %.1f s\n\n' "$FAMILIES" "$secs"

psql -X -P pager=off <<'SQL'
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

\echo '== Biometric search (0.2.0): a synthetic iris for every person; each admitted duplicate presents a new capture of the original''s eye'
create table demo.iris_enrolment (individual_id uuid primary key, subject bigint, code refuge.iris);
insert into demo.iris_enrolment (individual_id, subject)
select i.id, row_number() over (order by i.number) from refuge.individual i
 where not exists (select 1 from demo.duplicate_attempt d where d.duplicate_individual = i.id);
update demo.iris_enrolment set code = refuge.synthetic_iris(2026, subject);
insert into demo.iris_enrolment
select d.duplicate_individual, o.subject, refuge.synthetic_iris(2026, o.subject, 1)
  from demo.duplicate_attempt d join demo.iris_enrolment o on o.individual_id = d.original_individual
 where d.duplicate_individual is not null;
-- exact 1:N search through the refuge_iris index (ORDER BY <-> LIMIT k)
create index iris_enrolment_code on demo.iris_enrolment using refuge_iris (code);
analyze demo.iris_enrolment;
select count(*) as duplicates_admitted_by_registration,
       count(*) filter (where found) as found_by_1_to_N_iris_search,
       round(max(threshold)::numeric, 4) as threshold_for_this_gallery_at_fpir_0_1pct
  from (select best.individual_id = d.original_individual and best.distance <= t.threshold as found, t.threshold
          from demo.duplicate_attempt d
          join demo.iris_enrolment p on p.individual_id = d.duplicate_individual
          cross join (select refuge.iris_threshold_for(count(*), 0.001) as threshold from demo.iris_enrolment) t
          cross join lateral (select e.individual_id, e.code operator(refuge.<->) p.code as distance
                                from demo.iris_enrolment e where e.individual_id <> p.individual_id
                               order by e.code operator(refuge.<->) p.code limit 1) best) s;
select count(*) as people_checked, count(*) filter (where best.distance <= t.threshold) as false_matches
  from (select * from demo.iris_enrolment order by subject limit 200) p
  cross join (select refuge.iris_threshold_for(count(*), 0.001) as threshold from demo.iris_enrolment) t
  cross join lateral (select min(e.code operator(refuge.<->) p.code) as distance from demo.iris_enrolment e
                       where e.subject <> p.subject) best;

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

\echo '== Audit trail: the last changes'
select at::timestamp(0), actor, table_name, action, left(coalesce(new_data, old_data)::text, 70) as data
  from refuge.audit_log order by id desc limit 5;
SQL

cat <<EOF

The demo cluster keeps running.  Connect with:

    psql -h $PGHOST -p $PGPORT -U postgres refuge_demo        # superuser
    psql -h $PGHOST -p $PGPORT -U clerk_kakuma refuge_demo    # sees Kakuma only
    psql -h $PGHOST -p $PGPORT -U supervisor_ken refuge_demo  # sees Kenya
    psql -h $PGHOST -p $PGPORT -U analyst refuge_demo         # aggregates only

Stop it with:  runuser -u postgres -- $PGBIN/pg_ctl -D $REFUGE_CLUSTER/data stop
EOF
