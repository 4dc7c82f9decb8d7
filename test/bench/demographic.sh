#!/usr/bin/env bash
# Demographic deduplication (issue 17), one run, same-run baselines:
#  1. recall of planted duplicates and false candidates per registration at
#     the default thresholds on BENCH_PEOPLE (100,000) labelled synthetic
#     people (test/bench/demographic_gen.sql: transliterations, typing
#     errors, swapped and dropped parts, script switches, birth dates off,
#     households again with a member missing or added, common names), the
#     model estimated on the labelled even half and measured on the odd
#     half; against a trigram-only baseline (pg_trgm similarity >= 0.65 on
#     the full name, same birth year) on the same probes;
#  2. registration throughput with the check on and off (pgbench, 2
#     clients, BENCH_REGISTRATIONS families each, durable commits) on that
#     database, families kept back from the load;
#  3. candidate search time at BENCH_SCALE_PEOPLE (1,000,000; 0 skips it).
# Prints a Markdown block for RESULTS.md.  The shipped model
# (refuge.default_match_weights) is the model this run estimates.
set -u
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
cd "$REFUGE_ROOT"
PEOPLE=${BENCH_PEOPLE:-100000}
SCALE=${BENCH_SCALE_PEOPLE:-1000000}
REGISTRATIONS=${BENCH_REGISTRATIONS:-600}   # per client and run: 2 x 2 x 600 of the 3,000 households kept back
OUT="$REFUGE_ROOT/test/bench/out"
mkdir -p "$OUT"

ensure_packages
build_install
REFUGE_SERVER_OPTS="-c fsync=on -c synchronous_commit=on -c shared_buffers=2GB -c max_wal_size=8GB -c checkpoint_timeout=30min -c work_mem=64MB" \
    cluster_start bench "${REFUGE_BENCH_PORT:-54335}"
trap cluster_stop EXIT

setup_db() {  # setup_db NAME PEOPLE SEED
    PGOPTIONS="-c client_min_messages=warning" psql -qX -d postgres -c "drop database if exists $1" -c "create database $1"
    PGDATABASE=$1 psql -qX -v ON_ERROR_STOP=1 >/dev/null <<SQL || die "set-up of $1 failed"
set client_min_messages = warning;
create extension refuge cascade;
select refuge.create_operation('KEN', 'KEN', 'Kenya'), refuge.create_operation('UGA', 'UGA', 'Uganda');
select refuge.create_site('KEN', 'KAKUMA', 'Kakuma', 'CAMP', 34.85, 3.72), refuge.create_site('KEN', 'DADAAB', 'Dadaab', 'CAMP', 40.31, 0.06),
       refuge.create_site('KEN', 'NAIROBI', 'Nairobi', 'URBAN', 36.82, -1.29), refuge.create_site('UGA', 'NAKIVALE', 'Nakivale', 'CAMP', 30.95, -0.78),
       refuge.create_site('UGA', 'KYANGWALI', 'Kyangwali', 'CAMP', 30.75, 1.21), refuge.create_site('UGA', 'KAMPALA', 'Kampala', 'URBAN', 32.58, 0.35);
\i test/bench/demographic_gen.sql
-- (3,000 households, about 13,500 people, are kept back for the registration runs)
select * from dgen.generate($2 + 14000, 0.03, $3);
\i test/bench/demographic_load.sql
-- households kept back: the registrations of the throughput runs (no duplicates among them)
create table bench.reserved as
select p.hh from dgen.person p
 where p.dup_of is null and not exists (select 1 from dgen.person d where d.dup_of = p.pid)
 group by p.hh having bool_and(p.dup_of is null) order by p.hh desc limit 3000;
delete from bench.reserved r where exists (select 1 from dgen.person p join dgen.person d on d.dup_of = p.pid
                                             where p.hh = r.hh or d.hh = r.hh);
SQL
}

log "generating and loading $PEOPLE people"
start=$(date +%s)
setup_db refuge_dedup "$PEOPLE" 0.5
export PGDATABASE=refuge_dedup
psql -qX -v ON_ERROR_STOP=1 -c "set client_min_messages = warning" \
    -c "select bench.load(0, (select max(pid) from dgen.person))" \
    -c "analyze" >/dev/null || die "load failed"
loaded=$(psql -XAtc "select count(*) from refuge.individual")
log "loaded $loaded people in $(( $(date +%s) - start )) s"

log "estimating the model (u from random pairs, m from the labelled even half of the duplicates, every planted pair known)"
psql -qX -v ON_ERROR_STOP=1 >/dev/null <<'SQL' || die "estimation failed"
-- m from the even half; every planted pair is known to be one person
create table bench.label as
select m.iid as a, o.iid as b, true as same, p.pid % 2 = 0 as train
  from dgen.person p join bench.map m on m.pid = p.pid join bench.map o on o.pid = p.dup_of
 where p.dup_of is not null;
select setseed(0.3);
create table bench.model as select refuge.estimate_match_model(5000, 'bench.label') as m;
SQL
psql -XAtc "select jsonb_pretty(m) from bench.model" > "$OUT/demographic_model.json"
log "model: $(psql -XAtc "select m -> 'thresholds' from bench.model")"

log "evaluating (engine and trigram baseline on the same probes)"
psql -qX -v ON_ERROR_STOP=1 -f test/bench/demographic_eval.sql >/dev/null || die "evaluation failed"

log "registration throughput, check off then on ($REGISTRATIONS families per client each, 2 clients)"
psql -qX -v ON_ERROR_STOP=1 >/dev/null <<'SQL' || die "payloads failed"
create sequence bench.payload_seq;
create table bench.payload as
select row_number() over (order by h.hh) as id,
       jsonb_build_object('operation', min(p.op), 'site', min(p.site), 'registration_level', 'BASIC', 'population_type', 'REF',
           'origin_country', min(p.birth_country),
           'members', jsonb_agg(jsonb_strip_nulls(jsonb_build_object('relationship', p.rel, 'given_name', p.given,
               'middle_name', p.middle, 'family_name', p.family, 'sex', p.sex, 'date_of_birth', p.dob,
               'dob_precision', p.dob_precision, 'place_of_birth', p.place_of_birth, 'birth_country', p.birth_country,
               'mother_name', p.mother_name, 'father_name', p.father_name,
               'names', case when p.script is not null then jsonb_build_array(jsonb_strip_nulls(jsonb_build_object(
                   'kind', 'ORIGINAL_SCRIPT', 'script', p.script, 'given_name', p.script_given, 'family_name', p.script_family))) end))
               order by p.rel <> 'PA', p.pid)) as p
  from bench.reserved h join dgen.person p on p.hh = h.hh
 group by h.hh
having count(*) filter (where p.rel = 'PA') = 1;
SQL
cat > "$OUT/demographic_register.sql" <<'SQL'
select refuge.register_group(p) from bench.payload where id = (select nextval('bench.payload_seq'));
SQL
run() {  # run NAME PGOPTIONS -> "tps p50 p95 n"
    rm -f "$OUT"/"$1".log*
    PGOPTIONS="$2" pgbench -n -c 2 -j 2 -t "$REGISTRATIONS" -f "$OUT/demographic_register.sql" -l --log-prefix="$OUT/$1.log" \
        > "$OUT/$1.txt" 2>&1 || { cat "$OUT/$1.txt"; die "pgbench $1 failed"; }
    tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$OUT/$1.txt")
    cat "$OUT"/"$1".log* | awk '{print $3/1000}' | sort -n | awk -v tps="$tps" '
        {a[NR]=$1} END {printf "%.1f %.2f %.2f %d\n", tps, a[int(NR*0.5)], a[int(NR*0.95)], NR}'
}
read -r off_tps off_p50 off_p95 off_n < <(run dedup_off "-c refuge.demographic_check=off")
psql -qXc "select setval('bench.payload_seq', 1500)" >/dev/null
read -r on_tps on_p50 on_p95 on_n < <(run dedup_on "")
members=$(psql -XAtc "select round(avg(jsonb_array_length(p -> 'members')), 2) from bench.payload")

scale_rows=""
if [ "$SCALE" -gt 0 ]; then
    log "candidate search at $SCALE people"
    start=$(date +%s)
    setup_db refuge_dedup_scale "$SCALE" 0.77
    # in transactions of 100,000 generated people (one would hold a million
    # rows' trigger state in memory)
    maxpid=$(PGDATABASE=refuge_dedup_scale psql -XAtc "select max(pid) from dgen.person")
    for ((lo = 0; lo <= maxpid; lo += 100000)); do
        PGDATABASE=refuge_dedup_scale psql -qX -v ON_ERROR_STOP=1 -c "set client_min_messages = warning" \
            -c "select bench.load($lo, $((lo + 99999)))" >/dev/null || die "scale load failed"
    done
    PGDATABASE=refuge_dedup_scale psql -qX -c "analyze" >/dev/null
    log "loaded $(PGDATABASE=refuge_dedup_scale psql -XAtc "select count(*) from refuge.individual") people in $(( $(date +%s) - start )) s"
    # the model of the 100,000-person run, thresholds recomputed on this population
    psql -XAtc "copy (select feature, level, label, m, u from refuge.match_weight) to stdout" \
        | PGDATABASE=refuge_dedup_scale psql -qXc "copy refuge.match_weight from stdin"
    PGDATABASE=refuge_dedup_scale psql -qX -v ON_ERROR_STOP=1 >/dev/null <<'SQL' || die "scale estimation failed"
select setseed(0.4);
select refuge.estimate_match_model(5000, null);
SQL
    PGDATABASE=refuge_dedup_scale psql -qX -v ON_ERROR_STOP=1 >/dev/null <<'SQL' || die "scale timing failed"
create table bench.timing (ms float8, n int);
do $$
declare
    r record;
    t0 timestamptz;
    k int;
    th float8 := (refuge.demographic_thresholds()).candidate_threshold;
begin
    perform setseed(0.9);
    for r in select m.iid from bench.map m order by random() limit 1000 loop
        t0 := clock_timestamp();
        select count(*) into k from refuge.demographic_search(r.iid, th, 10);
        insert into bench.timing values (extract(epoch from clock_timestamp() - t0) * 1000, k);
    end loop;
end $$;
SQL
    scale_rows=$(PGDATABASE=refuge_dedup_scale psql -XAt -F ' ' -c "
        select round(percentile_cont(0.5) within group (order by ms)::numeric, 2), round(percentile_cont(0.95) within group (order by ms)::numeric, 2),
               round(percentile_cont(0.99) within group (order by ms)::numeric, 2), round(avg(n)::numeric, 3),
               (select round(candidate_threshold::numeric, 2) from refuge.demographic_thresholds()),
               (select count(*) from refuge.match_block), pg_size_pretty(pg_total_relation_size('refuge.match_block') + pg_total_relation_size('refuge.match_profile'))
          from bench.timing")
fi

val() { psql -XAtc "select value from bench.summary where name = \$\$$1\$\$"; }
cat <<EOF

### Demographic deduplication ($(date -u +%Y-%m-%d), $(nproc) cores, PostgreSQL $(psql -XAtc "show server_version"))

Population: $(val people) people from \`test/bench/demographic_gen.sql\` (seed 0.5, 3 % of people
registered again); model: m from the labelled even half of the planted duplicates, u and the
false-candidate curve from the pairs 5,000 searches compared (\`$(psql -XAtc "select m ->> 'm_from' from bench.model")\`).
Probes: $(val 'planted duplicates searched') planted duplicates of the odd half and $(val 'ordinary registrations searched') ordinary registrations.

| | recall (duplicates found) | false candidates per registration |
|---|---:|---:|
| engine at the candidate threshold ($(val 'candidate threshold')) | $(val 'engine recall at threshold') | $(val 'engine false candidates per search at threshold') |
| engine at the adjudication threshold ($(val 'case threshold')) | $(val 'engine recall at case threshold') | |
| baseline: pg_trgm similarity >= 0.65 on the full name, same birth year | $(val 'baseline recall') | $(val 'baseline false candidates per search') |
| engine at the baseline's false-candidate rate | $(val "engine recall at the baseline's false-candidate rate") | |

Recall by kind of change (a duplicate may carry several):

$(psql -XAt -F ' | ' -c "select '| ' || replace(name, 'recall by variant: ', ''), value || ' |' from bench.summary where name like 'recall by variant:%' order by name")

Children under five among the duplicates: $(val 'recall of children under five') found.
Baseline by kind: $(psql -XAt -c "select string_agg(replace(name, 'baseline recall by variant: ', '') || ' ' || value, '; ' order by name) from bench.summary where name like 'baseline recall by variant:%'").

Candidate search (\`refuge.demographic_search\` at the candidate threshold, 1,000 probes):
p50 $(val 'search ms p50') ms, p95 $(val 'search ms p95') ms, p99 $(val 'search ms p99') ms at $(val people) people.
$( [ -n "$scale_rows" ] && set -- $scale_rows && echo "At $SCALE people: p50 $1 ms, p95 $2 ms, p99 $3 ms (candidates per search $4, threshold $5; $6 blocking rows, index and profiles $7 $8).")

Registration (\`refuge.register_group\`, 2 pgbench clients, $REGISTRATIONS families each per run, durable commits,
$members people per family, on the $(val people)-person database):

| | families/s | p50 ms | p95 ms | transactions |
|---|---:|---:|---:|---:|
| check off (\`refuge.demographic_check = off\`) | $off_tps | $off_p50 | $off_p95 | $off_n |
| check on (default) | $on_tps | $on_p50 | $on_p95 | $on_n |
| ratio on / off | $(awk -v a="$on_tps" -v b="$off_tps" 'BEGIN {printf "%.3f", a / b}') | | | |

Command: \`BENCH_PEOPLE=$PEOPLE BENCH_SCALE_PEOPLE=$SCALE BENCH_REGISTRATIONS=$REGISTRATIONS bash test/bench/demographic.sh\`
EOF
