#!/usr/bin/env bash
# Enrolment with deduplication (issue 5).
#
# 1. Throughput: a gallery of BENCH_GALLERY synthetic people (default
#    100,000; 10 fingers + 2 irises each) is bulk-loaded the way a migration
#    from another ABIS would be, and its search indexes built.  Then
#    BENCH_ENROL people (default 200: four in five new, one in five a
#    re-capture of someone in the gallery) go through refuge.enrol_biometrics
#    from 2 clients (pgbench).  Prints enrolments/s, p50/p95 latency and the
#    decisions.  The same-run baseline is the time of the 1:N searches alone
#    (refuge.dedup_candidates), so the figure says what the decision, the
#    fused comparison and the writes add; and a breakdown of the search by
#    the parts searched (irises only, two fingers, ..., the default).
# 2. Accuracy: on a gallery of BENCH_ACC_GALLERY people (default 10,000)
#    BENCH_ACC_PROBES mated probes (re-captures of enrolled people) and as
#    many non-mated probes (people never enrolled) go through the decision
#    pipeline at the configured thresholds (refuge.target_fpir,
#    refuge.block_fpir): person-level FNIR (a mate neither blocked nor sent
#    to adjudication) and FPIR (a non-mate blocked or sent to adjudication).
#
# Prints a Markdown block for test/bench/RESULTS.md.
set -u
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
cd "$REFUGE_ROOT"
N=${BENCH_GALLERY:-100000}
ENROL=${BENCH_ENROL:-200}
ACC_N=${BENCH_ACC_GALLERY:-10000}
ACC_P=${BENCH_ACC_PROBES:-3000}
SEED=61

ensure_packages
build_install
REFUGE_SERVER_OPTS="-c shared_buffers=4GB -c max_wal_size=16GB -c max_parallel_workers_per_gather=0 -c maintenance_work_mem=1GB" \
    cluster_start bench "${REFUGE_BENCH_PORT:-54331}"
trap cluster_stop EXIT
export PGOPTIONS="-c client_min_messages=warning"
PGBENCH="$PGBIN/pgbench"

# load_gallery DB N: N people straight into the gallery tables (as an import
# would: one bulk capture, triggers off), then the search indexes in parallel
load_gallery() {
    local db=$1 n=$2
    psql -qX -d postgres -c "drop database if exists $db" -c "create database $db"
    psql -qX -d "$db" -v ON_ERROR_STOP=1 -c "create extension refuge cascade" >/dev/null || die "set-up failed"
    psql -qX -d "$db" -v ON_ERROR_STOP=1 >/dev/null <<SQL || die "gallery load failed"
select refuge.create_operation('KEN', 'KEN', 'Kenya');
select refuge.create_site('KEN', 'KAKUMA', 'Kakuma', 'CAMP');
drop index refuge.biometric_finger_search_1, refuge.biometric_finger_search_2, refuge.biometric_finger_search_6,
           refuge.biometric_finger_search_7, refuge.biometric_iris_search;
set row_security = off;  -- a bulk load: recorded per statement in refuge.audit_bulk_load
insert into refuge.individual (id, number, operation_id, site_id, given_name, sex, population_type, registration_level)
select ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, 'G-' || i, o.id, s.id, 'Gallery' || i, 'F', 'REF', 'BASIC'
  from generate_series(1, $n) i, refuge.operation o, refuge.site s;
insert into refuge.biometric_capture (id, individual_id, operation_id, site_id, captured_at, gallery_size, target_fpir,
                                      block_fpir, gallery_seq, decision, device)
select '00000000-0000-4000-8000-000000000000', i.id, i.operation_id, i.site_id, now(), 0, 0.001, 1e-6, 0, 'enrolled', 'bulk import'
  from refuge.individual i where i.number = 'G-1';
insert into refuge.biometric_enrolment (individual_id, identity_id, operation_id, site_id, capture_id, status)
select i.id, i.id, i.operation_id, i.site_id, '00000000-0000-4000-8000-000000000000', 'ENROLLED' from refuge.individual i;
insert into refuge.biometric_finger (individual_id, position, template, capture_id)
select ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, p,
       (regexp_replace(refuge.synthetic_fingerprint($SEED, i::bigint * 10 + p - 1, 0)::text, '^pos=0 ', 'pos=' || p || ' '))::refuge.fingerprint,
       '00000000-0000-4000-8000-000000000000'
  from generate_series(1, $n) i, generate_series(1, 10) p;
insert into refuge.biometric_iris (individual_id, eye, template, capture_id)
select ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, case e when 0 then 'right' else 'left' end,
       refuge.synthetic_iris($SEED, i::bigint * 2 + e, 0), '00000000-0000-4000-8000-000000000000'
  from generate_series(1, $n) i, generate_series(0, 1) e;
reset row_security;
SQL
    # the five search indexes, two at a time
    local t0=$SECONDS
    psql -qX -d "$db" -c "create index biometric_finger_search_1 on refuge.biometric_finger using refuge_fingerprint (template) where position = 1" \
        -c "create index biometric_finger_search_6 on refuge.biometric_finger using refuge_fingerprint (template) where position = 6" \
        -c "create index biometric_iris_search on refuge.biometric_iris using refuge_iris (template)" &
    psql -qX -d "$db" -c "create index biometric_finger_search_2 on refuge.biometric_finger using refuge_fingerprint (template) where position = 2" \
        -c "create index biometric_finger_search_7 on refuge.biometric_finger using refuge_fingerprint (template) where position = 7" &
    wait
    psql -qX -d "$db" -c "vacuum analyze" >/dev/null
    echo $((SECONDS - t0))
}

# synthetic person p (seed $SEED) recaptured: capture c
templates() { echo "refuge.synthetic_templates($SEED, $1, $2)"; }

########## 1. throughput
DB=refuge_bench_enrol
log "loading a gallery of $N people (10 fingers + 2 irises each)"
t0=$SECONDS
build_s=$(load_gallery $DB "$N" | tail -1)
load_s=$((SECONDS - t0))
size=$(psql -XAt -d $DB -c "select pg_size_pretty(sum(pg_relation_size(indexrelid))) from pg_index where indrelid in ('refuge.biometric_finger'::regclass, 'refuge.biometric_iris'::regclass) and indexrelid::regclass::text like '%search%'")
log "gallery loaded in ${load_s}s (indexes ${build_s}s, $size)"

# the people to enrol: four in five new (never in the gallery), one in five a
# re-capture of a gallery person (planted duplicate)
psql -qX -d $DB -v ON_ERROR_STOP=1 >/dev/null <<SQL || die "queue failed"
create table public.bench_people (n int primary key, person bigint, capture int, dup boolean, id uuid);
insert into public.bench_people
select k, case when k % 5 = 0 then (k * 7919) % $N + 1 else $N + 1000000 + k end, case when k % 5 = 0 then 1 else 0 end,
       k % 5 = 0, null
  from generate_series(1, $ENROL) k;
update public.bench_people b set id = (refuge.register_group(jsonb_build_object('operation', 'KEN', 'site', 'KAKUMA',
    'registration_level', 'BASIC', 'population_type', 'REF', 'members', jsonb_build_array(jsonb_build_object(
    'relationship', 'PA', 'given_name', 'New' || b.n, 'sex', 'M', 'date_of_birth', '1990-01-01')))) -> 'members' -> 0 ->> 'individual_id')::uuid;
create table public.bench_queue (n int primary key);
insert into public.bench_queue select n from public.bench_people;
-- the probes' templates, generated beforehand so that the generator is not timed
create table public.bench_templates as select n, $(templates person capture) as t from public.bench_people;
alter table public.bench_templates add primary key (n);
SQL

# baseline in the same run: the 1:N searches alone, for the same people
log "baseline: the 1:N searches alone for $ENROL people"
search_ms=$(psql -XAt -d $DB <<SQL | tail -1
set jit = off;
create temp table p as select n, (refuge.parse_biometrics(t, true)).* from public.bench_templates;
select clock_timestamp() as t0 \gset
select sum(cardinality(refuge.dedup_candidates(p.fingers, p.irises, '{1,2,6,7}', $N))) from p;
select round(extract(epoch from clock_timestamp() - :'t0'::timestamptz) * 1000 / $ENROL, 1);
SQL
)

SCRIPT=$(mktemp /tmp/refuge-bench-enrol.XXXXXX.sql)
cat > "$SCRIPT" <<'SQL'
with claimed as (delete from public.bench_queue
                  where n = (select n from public.bench_queue order by n for update skip locked limit 1)
                 returning n)
select refuge.enrol_biometrics(p.id, t.t) ->> 'decision'
  from claimed c join public.bench_people p using (n) join public.bench_templates t using (n);
SQL
log "enrolling $ENROL people from 2 clients"
per_client=$(( (ENROL + 1) / 2 ))
LOGDIR=$(mktemp -d /tmp/refuge-bench-enrol.XXXXXX)
chmod 777 "$LOGDIR"
( cd "$LOGDIR" && "$PGBENCH" -n -c 2 -j 2 -t "$per_client" -l -f "$SCRIPT" $DB ) > /tmp/refuge-bench-enrol.log 2>&1 \
    || { cat /tmp/refuge-bench-enrol.log; die "pgbench failed"; }
tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' /tmp/refuge-bench-enrol.log | head -1)
# per-transaction latencies (microseconds, third column of pgbench's log)
read -r p50 p95 <<<"$(cat "$LOGDIR"/pgbench_log.* | awk '{print $3}' | sort -n | awk '{a[NR]=$1} END {printf "%d %d", a[int(NR*0.5)+1]/1000, a[int(NR*0.95)+1]/1000}')"
rm -rf "$LOGDIR"
decisions=$(psql -XAt -d $DB -c "select string_agg(d, ', ' order by d) from (select case when p.dup then 'duplicates' else 'new' end
       || ' ' || c.decision || ' ' || count(*) as d from refuge.biometric_capture c join public.bench_people p on p.id = c.individual_id
       group by p.dup, c.decision) x")
missed=$(psql -XAt -d $DB -c "select count(*) from refuge.biometric_capture c join public.bench_people p on p.id = c.individual_id
       where p.dup and c.decision = 'enrolled'")
rm -f "$SCRIPT"

# where the search time goes: the same searches with chosen parts, for
# BENCH_BREAKDOWN_PROBES people never enrolled (default 20)
BD=${BENCH_BREAKDOWN_PROBES:-20}
breakdown=$(psql -XAt -d $DB <<SQL | grep '|'
set jit = off;
create temp table p as select n, (refuge.parse_biometrics(refuge.synthetic_templates($SEED, $N + 5000000 + n, 0), true)).*
  from generate_series(1, $BD) n;
select clock_timestamp() as t0 \gset
select sum(cardinality(refuge.dedup_candidates(p.fingers, p.irises, '{}', $N))) from p \g /dev/null
select 'both irises only', round(extract(epoch from clock_timestamp() - :'t0'::timestamptz) * 1000 / $BD);
select clock_timestamp() as t0 \gset
select sum(cardinality(refuge.dedup_candidates(p.fingers, array[null, null]::refuge.iris[], '{2,7}', $N))) from p \g /dev/null
select 'fingers 2 and 7 only', round(extract(epoch from clock_timestamp() - :'t0'::timestamptz) * 1000 / $BD);
select clock_timestamp() as t0 \gset
select sum(cardinality(refuge.dedup_candidates(p.fingers, p.irises, '{2,7}', $N))) from p \g /dev/null
select 'both irises + fingers 2, 7', round(extract(epoch from clock_timestamp() - :'t0'::timestamptz) * 1000 / $BD);
select clock_timestamp() as t0 \gset
select sum(cardinality(refuge.dedup_candidates(p.fingers, p.irises, '{1,2,6,7}', $N))) from p \g /dev/null
select 'both irises + fingers 1, 2, 6, 7 (default)', round(extract(epoch from clock_timestamp() - :'t0'::timestamptz) * 1000 / $BD);
SQL
)

########## 2. accuracy (BENCH_ACC_PROBES=0 skips it)
if [ "$ACC_P" -gt 0 ]; then
ADB=refuge_bench_accuracy
log "accuracy: gallery of $ACC_N, $ACC_P mated and $ACC_P non-mated probes"
load_gallery $ADB "$ACC_N" >/dev/null
# the decision of enrol_biometrics for each probe, without writing:
# candidates, fused comparison, thresholds at this gallery size; two sessions
psql -qX -d $ADB -v ON_ERROR_STOP=1 >/dev/null <<SQL || die "probes failed"
create table public.probe as
select k, k <= $ACC_P as mated,
       $(templates "case when k <= $ACC_P then (k * 7919) % $ACC_N + 1 else $ACC_N + 1000000 + k end" "case when k <= $ACC_P then 2 else 0 end") as t
  from generate_series(1, 2 * $ACC_P) k;
create table public.best (k int primary key, mated boolean, fpir float8);
SQL
for half in 0 1; do
    psql -qX -d $ADB -v ON_ERROR_STOP=1 >/dev/null <<SQL &
set jit = off;
insert into public.best
select p.k, p.mated, (select min(s.fpir) from refuge.score_candidates(x.fingers, x.irises,
            refuge.dedup_candidates(x.fingers, x.irises, '{1,2,6,7}', $ACC_N), '00000000-0000-0000-0000-000000000000', $ACC_N) s)
  from public.probe p, lateral refuge.parse_biometrics(p.t, true) x
 where p.k % 2 = $half;
SQL
done
wait
read -r fnir_n fpir_n mates nonmates blocked_m adj_m blocked_n adj_n thr_b thr_a <<<"$(psql -XAt -d $ADB -F ' ' -c "
select count(*) filter (where mated and coalesce(fpir, 1) > 0.001),
       count(*) filter (where not mated and fpir <= 0.001),
       count(*) filter (where mated), count(*) filter (where not mated),
       count(*) filter (where mated and fpir <= 1e-6), count(*) filter (where mated and fpir > 1e-6 and fpir <= 0.001),
       count(*) filter (where not mated and fpir <= 1e-6), count(*) filter (where not mated and fpir > 1e-6 and fpir <= 0.001),
       round(refuge.fused_threshold($ACC_N, 1e-6, 12)::numeric, 2), round(refuge.fused_threshold($ACC_N, 0.001, 12)::numeric, 2)
  from public.best")"
read -r mate_worst nonmate_best <<<"$(psql -XAt -d $ADB -F ' ' -c "
select (select max(fpir) from public.best where mated), coalesce((select min(fpir) from public.best where not mated), 1)")"
fi

cat <<EOF

### Enrolment with deduplication ($(date -u +%Y-%m-%d), $(nproc) cores)

| measure | value |
|---|---|
| gallery | $N people, 10 fingers + 2 irises each; search indexes built in ${build_s} s (two at a time), $size |
| enrolments (2 clients, pgbench) | $ENROL: **$tps enrolments/s**, p50 ${p50} ms, p95 ${p95} ms per enrolment |
| same-run baseline: the 1:N searches alone | ${search_ms} ms per person (2 irises against every eye, 4 fingers against their position) |
| decisions | $decisions |
| planted duplicates missed (enrolled) | $missed |
$(echo "$breakdown" | awk -F'|' '{printf "| search breakdown: %s | %s ms per person |\n", $1, $2}')
EOF
[ "$ACC_P" -gt 0 ] && cat <<EOF
| accuracy gallery / probes | $ACC_N people; $mates mated and $nonmates non-mated probes |
| person-level FNIR (mate neither blocked nor adjudicated) | $fnir_n / $mates (mates blocked $blocked_m, adjudicated $adj_m) |
| person-level FPIR (non-mate blocked or adjudicated) | $fpir_n / $nonmates (blocked $blocked_n, adjudicated $adj_n) |
| margins | weakest mate: rate $mate_worst; strongest non-mate: rate $nonmate_best (a person-level rate of 1 = no candidate) |
| thresholds at this gallery, 12 parts | block: $thr_b decades (FPIR 1e-6); adjudicate: $thr_a decades (FPIR 1e-3) |
EOF
exit 0
