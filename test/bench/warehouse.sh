#!/usr/bin/env bash
# The data warehouse (issue 7).
#
# BENCH_PEOPLE people (default 1,000,000) in families of five across two
# operations, one in ten with a specific need, one family in four with an
# RSD case and its history, are bulk-loaded.  Then:
#  1. one snapshot (refuge.snapshot) is timed; same-run baseline: copying the
#     live individual table once (CREATE TABLE AS), the floor of any copy;
#  2. BENCH_SNAPSHOTS - 1 more snapshots are taken (default 24 in all), the
#     population drifting between them (arrivals, departures);
#  3. the trend over all snapshots (refuge_warehouse.population_trend) and a
#     forecast on it are timed; same-run baseline: the same totals computed
#     once from the live tables.
# Prints a Markdown block for test/bench/RESULTS.md.
set -u
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
cd "$REFUGE_ROOT"
N=${BENCH_PEOPLE:-1000000}
S=${BENCH_SNAPSHOTS:-24}
DB=refuge_bench_wh

ensure_packages
build_install
REFUGE_SERVER_OPTS="-c shared_buffers=4GB -c max_wal_size=16GB -c work_mem=256MB -c maintenance_work_mem=1GB" \
    cluster_start bench "${REFUGE_BENCH_PORT:-54331}"
trap cluster_stop EXIT
export PGOPTIONS="-c client_min_messages=warning"

psql -qX -d postgres -c "drop database if exists $DB" -c "create database $DB"
psql -qX -d $DB -v ON_ERROR_STOP=1 -c "create extension refuge cascade" >/dev/null || die "set-up failed"
log "loading $N people"
psql -qX -d $DB -v ON_ERROR_STOP=1 >/dev/null <<SQL || die "load failed"
select refuge.create_operation('KEN', 'KEN', 'Kenya');
select refuge.create_operation('UGA', 'UGA', 'Uganda');
select refuge.create_site('KEN', 'KAKUMA', 'Kakuma', 'CAMP');
select refuge.create_site('KEN', 'DADAAB', 'Dadaab', 'CAMP');
select refuge.create_site('UGA', 'NAKIVALE', 'Nakivale', 'CAMP');
select refuge.create_site('UGA', 'KAMPALA', 'Kampala', 'URBAN');
set row_security = off;  -- a bulk load: recorded per statement in refuge.audit_bulk_load
create temp table site_n as select row_number() over (order by s.code) - 1 as n, s.id, s.operation_id from refuge.site s;
insert into refuge.registration_group (id, number, operation_id, site_id, created_at)
select gen_random_uuid(), 'G-' || g, s.operation_id, s.id, now() - interval '400 days'
  from generate_series(1, $N / 5) g join site_n s on s.n = g % 4;
create temp table fam as select row_number() over (order by number) as f, id, operation_id, site_id from refuge.registration_group;
insert into refuge.individual (id, number, operation_id, site_id, given_name, sex, date_of_birth, origin_country,
                               population_type, registration_level, created_at, registration_date)
select gen_random_uuid(), 'P-' || (f.f * 5 + k), f.operation_id, f.site_id, 'x', case when (f.f + k) % 2 = 0 then 'F' else 'M' end,
       current_date - ((case k when 0 then 25 + f.f % 40 when 1 then 20 + f.f % 30 else (f.f * 7 + k) % 18 end) * 365
                       + (f.f % 300))::integer,
       (array['SSD', 'COD', 'SOM', 'BDI', 'ERI'])[1 + (f.f + k) % 5], case when f.f % 10 = 0 then 'ASY' else 'REF' end,
       'BASIC', now() - interval '400 days', current_date - 400 + (f.f % 300)::integer
  from fam f, generate_series(0, 4) k;
insert into refuge.group_membership (group_id, individual_id, relationship, valid_from)
select f.id, i.id, case when i.number = 'P-' || (f.f * 5) then 'PA' else 'SON' end, now() - interval '400 days'
  from fam f join refuge.individual i on i.number in ('P-' || (f.f * 5), 'P-' || (f.f * 5 + 1), 'P-' || (f.f * 5 + 2),
                                                      'P-' || (f.f * 5 + 3), 'P-' || (f.f * 5 + 4));
insert into refuge.specific_need (individual_id, category, identified_on)
select i.id, (array['SM', 'DS', 'WR', 'CR', 'ER'])[1 + (hashtext(i.number) & 7) % 5], current_date - 200
  from refuge.individual i where hashtext(i.number) % 10 = 0;
insert into refuge.process_case (id, number, module, operation_id, site_id, group_id, principal_id, state, opened_at, created_at)
select gen_random_uuid(), 'C-' || f.f, 'RSD', f.operation_id, f.site_id, f.id, gm.individual_id,
       'MODALITY_ASSIGNED', now() - interval '300 days', now() - interval '300 days'
  from fam f join refuge.group_membership gm on gm.group_id = f.id and gm.relationship = 'PA' where f.f % 4 = 0;
insert into refuge.case_event (case_id, actor, action, from_state, to_state, at)
select c.id, 'bench', 'OPEN', null, 'REGISTERED', c.opened_at from refuge.process_case c
union all
select c.id, 'bench', 'ASSIGN_MODALITY', 'REGISTERED', 'MODALITY_ASSIGNED', c.opened_at + interval '12 days' from refuge.process_case c;
reset row_security;
analyze;
SQL

people=$(psql -XAt -d $DB -c "select count(*) from refuge.individual")
copy_s=$(timed_sql $DB "create table public.copy_baseline as select * from refuge.individual; drop table public.copy_baseline")
log "snapshot 1 of $S"
snap_s=$(timed_sql $DB "select refuge.snapshot(now() - interval '$((S - 1)) days', 'bench')")
facts=$(psql -XAt -d $DB -c "select individuals || ' people, ' || families || ' families, ' || cases || ' cases, ' || case_steps || ' case steps' from refuge_warehouse.snapshot where id = 1")
bytes=$(psql -XAt -d $DB -c "select pg_size_pretty(bytes) from refuge.snapshots() where snapshot_id = 1")
for k in $(seq 2 "$S"); do
    log "snapshot $k of $S"
    psql -qX -d $DB -v ON_ERROR_STOP=1 >/dev/null <<SQL || die "drift failed"
set row_security = off;  -- a bulk load: recorded per statement in refuge.audit_bulk_load
update refuge.individual set status = 'INACTIVE' where number in (select 'P-' || (g * 97 + $k) from generate_series(1, 800) g);
insert into refuge.individual (number, operation_id, site_id, given_name, sex, date_of_birth, population_type,
                               registration_level, created_at, origin_country)
select 'N-$k-' || g, s.operation_id, s.id, 'x', case when g % 2 = 0 then 'F' else 'M' end, current_date - (g % 60)::integer * 365,
       'REF', 'BASIC', now() - interval '$((S - k)) days' - interval '1 hour', 'SSD'
  from generate_series(1, 1500 + 100 * $k) g, (select * from refuge.site where code = 'KAKUMA') s;
SQL
    psql -qXAt -d $DB -c "select refuge.snapshot(now() - interval '$((S - k)) days', 'bench')" >/dev/null || die "snapshot $k failed"
done
live_s=$(timed_sql $DB "select o.code, count(*), count(*) filter (where i.sex = 'F'), count(*) filter (where i.sex = 'M')
                  from refuge.individual i join refuge.operation o on o.id = i.operation_id where i.status = 'ACTIVE' group by 1")
trend_s=$(timed_sql $DB "select * from refuge_warehouse.population_trend order by as_of, operation")
trend_rows=$(psql -XAt -d $DB -c "select count(*) from refuge_warehouse.population_trend")
forecast_s=$(timed_sql $DB "select * from refuge_warehouse.population_forecast('KEN', 6)")
stats_s=$(timed_sql $DB "select * from refuge_warehouse.population_statistics")
pyramid_s=$(timed_sql $DB "select refuge.population_pyramid_svg($S, 'KEN')")
flows_s=$(timed_sql $DB "select * from refuge_warehouse.flows($((S - 1)), $S)")
total=$(psql -XAt -d $DB -c "select pg_size_pretty(sum(bytes)) from refuge.snapshots()")
ken_last=$(psql -XAt -d $DB -c "select individuals from refuge_warehouse.population_trend where snapshot_id = $S and operation = 'KEN'")
ken_fc=$(psql -XAt -d $DB -c "select round(forecast) || ' (' || round(lower95) || '-' || round(upper95) || ')' from refuge_warehouse.population_forecast('KEN', 1) where forecast is not null")

cat <<EOF

### Warehouse ($(date +%Y-%m-%d), $(nproc) cores, \`bash test/bench/warehouse.sh\`)

| measure | figure |
|---|---|
| live data | $people people in families of five, 2 operations, 1 in 10 with a need, 1 family in 4 with an RSD case |
| copy the live individual table once (CREATE TABLE AS): baseline | $copy_s s |
| \`refuge.snapshot()\` of it | **$snap_s s** ($(awk -v a="$snap_s" -v b="$copy_s" 'BEGIN {printf "%.1f", a / b}') x the baseline; target 60 s): $facts, $bytes |
| snapshots taken | $S ($total in all) |
| the same totals from the live tables once: baseline | $live_s s |
| trend over $S snapshots (\`population_trend\`, $trend_rows rows) | **$trend_s s** (target 1 s) |
| forecast on it (\`population_forecast('KEN', 6)\`) | $forecast_s s; KEN last $ken_last, next $ken_fc |
| UNHCR table over all snapshots (\`population_statistics\`) | $stats_s s |
| pyramid of one operation (\`population_pyramid_svg\`) | $pyramid_s s |
| flows between the last two snapshots (\`flows\`) | $flows_s s |
EOF
