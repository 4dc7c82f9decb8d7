#!/usr/bin/env bash
# A verification exercise of BENCH_HOUSEHOLDS households (default 10,000; two
# enrolled adults each) checked in at two desks (issue 16).
#
# The households and their enrolments (10 fingers + 2 irises each) are
# bulk-loaded as a migration would; then the exercise is opened (every
# person expected), slots made and households booked, and BENCH_CHECKINS
# people (default 4,000) are checked in by refuge.check_in from 2 pgbench
# clients (the two desks), each person with a re-capture of their own
# templates.  The same-run baseline is the plain 1:1 verification of the
# same probes (refuge.verify) from 2 clients: the ratio says what the
# exercise bookkeeping adds to the biometric comparison.  Prints a Markdown
# block for test/bench/RESULTS.md.
set -u
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
cd "$REFUGE_ROOT"
H=${BENCH_HOUSEHOLDS:-10000}
C=${BENCH_CHECKINS:-4000}
SEED=71
P=$((H * 2))

ensure_packages
build_install
REFUGE_SERVER_OPTS="-c shared_buffers=2GB -c max_wal_size=8GB -c max_parallel_workers_per_gather=0" \
    cluster_start bench "${REFUGE_BENCH_PORT:-54331}"
trap cluster_stop EXIT
export PGOPTIONS="-c client_min_messages=warning"
PGBENCH="$PGBIN/pgbench"
DB=refuge_bench_verification

psql -qX -d postgres -c "drop database if exists $DB" -c "create database $DB"
psql -qX -d $DB -v ON_ERROR_STOP=1 -c "create extension refuge cascade" >/dev/null || die "set-up failed"
log "loading $H households ($P people, 10 fingers + 2 irises each)"
t0=$SECONDS
psql -qX -d $DB -v ON_ERROR_STOP=1 >/dev/null <<SQL || die "load failed"
select refuge.create_operation('KEN', 'KEN', 'Kenya');
select refuge.create_site('KEN', 'KAKUMA', 'Kakuma', 'CAMP');
do \$\$ begin
  if not exists (select 1 from pg_roles where rolname = 'bench_sup') then create role bench_sup login; end if;
  if not exists (select 1 from pg_roles where rolname = 'bench_desk') then create role bench_desk login; end if;
end \$\$;
alter role bench_sup login;
alter role bench_desk login;
grant refuge_supervisor, refuge_registration to bench_sup;
grant refuge_registration, refuge_biometrics to bench_desk;  -- (biometrics: the baseline's refuge.verify)
select refuge.assign_staff('bench_sup', 'KEN');
select refuge.assign_staff('bench_desk', 'KEN');
set row_security = off;  -- a bulk load: recorded per statement in refuge.audit_bulk_load
create function pg_temp.pid(i bigint) returns uuid language sql immutable
    return ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid;
create function pg_temp.gid(i bigint) returns uuid language sql immutable
    return ('00000000-0000-4000-9000-' || lpad(to_hex(i), 12, '0'))::uuid;
insert into refuge.registration_group (id, number, operation_id, site_id)
select pg_temp.gid(h), 'KEN-G-' || lpad(h::text, 7, '0'), o.id, s.id
  from generate_series(1, $H) h, refuge.operation o, refuge.site s;
insert into refuge.individual (id, number, operation_id, site_id, given_name, sex, date_of_birth, population_type,
                               registration_level)
select pg_temp.pid(i), 'KEN-P-' || lpad(i::text, 7, '0'), o.id, s.id, 'Person' || i, case when i % 2 = 0 then 'F' else 'M' end,
       date '1980-01-01' + (i % 5000)::integer, 'REF', 'BASIC'
  from generate_series(1, $P) i, refuge.operation o, refuge.site s;
insert into refuge.group_membership (group_id, individual_id, relationship)
select pg_temp.gid((i + 1) / 2), pg_temp.pid(i), case when i % 2 = 1 then 'PA' else 'SPO' end from generate_series(1, $P) i;
insert into refuge.biometric_capture (id, individual_id, operation_id, site_id, captured_at, gallery_size, target_fpir,
                                      block_fpir, gallery_seq, decision, device)
select '00000000-0000-4000-8000-000000000000', pg_temp.pid(1), o.id, s.id, now(), 0, 0.001, 1e-6, 0, 'enrolled', 'bulk import'
  from refuge.operation o, refuge.site s;
insert into refuge.biometric_enrolment (individual_id, identity_id, operation_id, site_id, capture_id, status)
select i.id, i.id, i.operation_id, i.site_id, '00000000-0000-4000-8000-000000000000', 'ENROLLED' from refuge.individual i;
insert into refuge.biometric_finger (individual_id, position, template, capture_id)
select pg_temp.pid(i), p,
       (regexp_replace(refuge.synthetic_fingerprint($SEED, i::bigint * 10 + p - 1, 0)::text, '^pos=0 ', 'pos=' || p || ' '))::refuge.fingerprint,
       '00000000-0000-4000-8000-000000000000'
  from generate_series(1, $P) i, generate_series(1, 10) p;
insert into refuge.biometric_iris (individual_id, eye, template, capture_id)
select pg_temp.pid(i), case e when 0 then 'right' else 'left' end, refuge.synthetic_iris($SEED, i::bigint * 2 + e, 0),
       '00000000-0000-4000-8000-000000000000'
  from generate_series(1, $P) i, generate_series(0, 1) e;
reset row_security;
-- the desks' probes: a re-capture of each person's own templates, made beforehand (not timed)
create table public.bench_probe (n int primary key, id uuid not null, t jsonb not null);
insert into public.bench_probe
select k, pg_temp.pid(p), refuge.synthetic_templates($SEED, p, 1)
  from (select k, ((k::bigint * 7919) % $P) + 1 as p from generate_series(1, $C) k) x;
create table public.bench_queue (n int primary key);
vacuum analyze;
SQL
load_s=$((SECONDS - t0))

log "opening the exercise, making slots, booking households"
read -r open_ms sched_ms people households booked <<<"$(psql -XAt -d $DB -F ' ' <<SQL | tail -1
set role bench_sup;
select clock_timestamp() as t0 \gset
select refuge.create_verification_exercise('KEN', 'V1', 'bench', '{KAKUMA}', '{REF}', current_date, current_date + 30) as r \gset
select round(extract(epoch from clock_timestamp() - :'t0'::timestamptz) * 1000) as open_ms \gset
select :'r'::jsonb ->> 'exercise_id' as ex \gset
select clock_timestamp() as t0 \gset
select sum(refuge.create_appointment_slots('KEN', 'KAKUMA', 'VERIFICATION', current_date + d, '08:00', '16:00', 30, 60, :'ex'))
  from generate_series(1, 12) d \g /dev/null
select refuge.schedule_verification(:'ex', 'KAKUMA') as booked \gset
select :open_ms, round(extract(epoch from clock_timestamp() - :'t0'::timestamptz) * 1000), :'r'::jsonb ->> 'people',
       :'r'::jsonb ->> 'households', :booked;
SQL
)"
EX=$(psql -XAt -d $DB -c "select id from refuge.verification_exercise where code = 'V1'")

# run_desks SCRIPT: the queue refilled, 2 clients until it is empty; prints "tps p50 p95"
run_desks() {
    local script=$1 logdir tps p50 p95
    psql -qX -d $DB -c "truncate public.bench_queue" -c "insert into public.bench_queue select n from public.bench_probe" >/dev/null
    logdir=$(mktemp -d /tmp/refuge-bench-verif.XXXXXX)
    chmod 777 "$logdir"
    ( cd "$logdir" && PGUSER=bench_desk "$PGBENCH" -n -c 2 -j 2 -t $(( (C + 1) / 2 )) -l -f "$script" $DB ) \
        > /tmp/refuge-bench-verif.log 2>&1 || { cat /tmp/refuge-bench-verif.log; die "pgbench failed"; }
    tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' /tmp/refuge-bench-verif.log | head -1)
    read -r p50 p95 <<<"$(cat "$logdir"/pgbench_log.* | awk '{print $3}' | sort -n \
        | awk '{a[NR]=$1} END {printf "%.1f %.1f", a[int(NR*0.5)+1]/1000, a[int(NR*0.95)+1]/1000}')"
    rm -rf "$logdir"
    echo "$tps $p50 $p95"
}
psql -qX -d $DB -c "grant select, update, delete on public.bench_queue, public.bench_probe to bench_desk" >/dev/null

BASE=$(mktemp /tmp/refuge-bench-verify.XXXXXX.sql)
cat > "$BASE" <<'SQL'
with claimed as (delete from public.bench_queue
                  where n = (select n from public.bench_queue order by n for update skip locked limit 1)
                 returning n)
select refuge.verify(p.id, p.t) ->> 'match' from claimed c join public.bench_probe p using (n);
SQL
CHECK=$(mktemp /tmp/refuge-bench-checkin.XXXXXX.sql)
cat > "$CHECK" <<SQL
with claimed as (delete from public.bench_queue
                  where n = (select n from public.bench_queue order by n for update skip locked limit 1)
                 returning n)
select refuge.check_in('$EX', p.id, p.t, 'DESK-' || :client_id) ->> 'decision' from claimed c join public.bench_probe p using (n);
SQL
log "baseline: refuge.verify of the same $C probes from 2 clients"
read -r base_tps base_p50 base_p95 <<<"$(run_desks "$BASE")"
log "check-in: refuge.check_in of $C probes at 2 desks"
read -r tps p50 p95 <<<"$(run_desks "$CHECK")"
rm -f "$BASE" "$CHECK"
outcome=$(psql -XAt -d $DB -c "select count(*) filter (where method = 'BIOMETRIC') || ' verified, '
    || (select count(*) from refuge.biometric_verification where purpose = 'verification_exercise' and not match) || ' not matched'
    from refuge.verification_subject where exercise_id = '$EX'")
read -r cov_ms cov_rows <<<"$(psql -XAt -d $DB -F ' ' <<SQL | tail -1
set role bench_sup;
select clock_timestamp() as t0 \gset
select count(*) as n from refuge.verification_coverage('$EX') \gset
select round(extract(epoch from clock_timestamp() - :'t0'::timestamptz) * 1000), :n;
SQL
)"
read -r close_ms absent <<<"$(psql -XAt -d $DB -F ' ' <<SQL | tail -1
update refuge.verification_exercise set ends_on = current_date where id = '$EX';  -- (its last day has passed)
set role bench_sup;
select clock_timestamp() as t0 \gset
select refuge.close_verification_exercise('$EX') ->> 'absent' as absent \gset
select round(extract(epoch from clock_timestamp() - :'t0'::timestamptz) * 1000), :absent;
SQL
)"
ratio=$(awk -v a="$tps" -v b="$base_tps" 'BEGIN {printf "%.2f", a / b}')

cat <<EOF

### Verification exercise: $H households ($people people) checked in at two desks

Command: \`BENCH_HOUSEHOLDS=$H BENCH_CHECKINS=$C bash test/bench/verification.sh\` ($(date -u +%Y-%m-%d))

| measure | value |
|---|---|
| bulk load of the households and enrolments (10 fingers + 2 irises each) | ${load_s} s |
| open the exercise ($people people, $households households expected) | ${open_ms} ms |
| 12 days of slots + booking every household | ${sched_ms} ms ($booked households booked) |
| same-run baseline: \`refuge.verify\` of the same probes, 2 clients | **${base_tps} verifications/s** (p50 ${base_p50} ms, p95 ${base_p95} ms) |
| \`refuge.check_in\` at 2 desks, $C people | **${tps} check-ins/s** (p50 ${p50} ms, p95 ${p95} ms) |
| ratio check-in / baseline | **${ratio}** |
| outcome | $outcome |
| coverage report (\`verification_coverage\`, $cov_rows site-days) | ${cov_ms} ms |
| close the exercise ($absent absent) | ${close_ms} ms |
EOF
