#!/usr/bin/env bash
# Registration throughput (issue 2): families/s and latency percentiles of
# refuge.register_group with pgbench (2 clients, custom script) on a
# database that already holds BENCH_FAMILIES x 5 individuals (default 1 M
# people), with durable settings (fsync and synchronous commit on).
# A baseline measured in the same run (plain INSERTs of the same family, no
# validation or audit) gives the ratio.  Prints a Markdown block for RESULTS.md.
set -u
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
cd "$REFUGE_ROOT"
FAMILIES=${BENCH_FAMILIES:-200000}
SECONDS_RUN=${BENCH_SECONDS:-60}
CLIENTS=${BENCH_CLIENTS:-2}
OUT="$REFUGE_ROOT/test/bench/out"
mkdir -p "$OUT"

ensure_packages
build_install
REFUGE_SERVER_OPTS="-c fsync=on -c synchronous_commit=on -c full_page_writes=on -c shared_buffers=2GB -c max_wal_size=8GB -c checkpoint_timeout=30min" \
    cluster_start bench "${REFUGE_BENCH_PORT:-54331}"
trap cluster_stop EXIT
export PGDATABASE=refuge_bench

if [ "$(psql -XAtc "select count(*) from refuge.individual" 2>/dev/null || echo 0)" -lt $((FAMILIES * 5)) ]; then
    log "loading $FAMILIES families ($((FAMILIES * 5)) individuals) as the baseline database"
    PGOPTIONS="-c client_min_messages=warning" psql -qX -d postgres -c "drop database if exists refuge_bench" -c "create database refuge_bench"
    psql -qX -v ON_ERROR_STOP=1 >/dev/null <<'SQL' || die "set-up failed"
set client_min_messages = warning;
create extension refuge cascade;
select refuge.create_operation('KEN', 'KEN', 'Kenya'), refuge.create_operation('UGA', 'UGA', 'Uganda');
select refuge.create_site('KEN', 'KAKUMA', 'Kakuma', 'CAMP', 34.85, 3.72), refuge.create_site('KEN', 'DADAAB', 'Dadaab', 'CAMP', 40.31, 0.06),
       refuge.create_site('KEN', 'NAIROBI', 'Nairobi', 'URBAN', 36.82, -1.29), refuge.create_site('UGA', 'NAKIVALE', 'Nakivale', 'CAMP', 30.95, -0.78),
       refuge.create_site('UGA', 'KYANGWALI', 'Kyangwali', 'CAMP', 30.75, 1.21), refuge.create_site('UGA', 'KAMPALA', 'Kampala', 'URBAN', 32.58, 0.35);
SQL
    start=$(date +%s)
    psql -qX -v ON_ERROR_STOP=1 -v families="$FAMILIES" -f test/bench/register_load.sql >/dev/null || die "load failed"
    log "loaded in $(( $(date +%s) - start )) s"
fi

# 5,000 realistic payloads from the demo generator (documents removed so that
# they can be registered again), and the baseline's tables
psql -qX -v ON_ERROR_STOP=1 >/dev/null <<'SQL' || die "payloads failed"
set client_min_messages = warning;
drop schema if exists bench cascade;
drop schema if exists demo cascade;
\i test/demo/synthetic.sql
create schema bench;
select setseed(0.7);
create table bench.payload as
select g as id, jsonb_set(p, '{members}', (select jsonb_agg(m - 'documents') from jsonb_array_elements(p -> 'members') m)) as p
  from generate_series(1, 5000) g, lateral (select demo.family_payload(case when g % 5 < 3 then 'KEN' else 'UGA' end) as p) x;
alter table bench.payload add primary key (id);
create table bench.raw_group (id uuid primary key, p jsonb);
create table bench.raw_person (id uuid primary key, m jsonb);
SQL
people=$(psql -XAtc "select count(*) from refuge.individual")
avg=$(psql -XAtc "select round(avg(jsonb_array_length(p -> 'members')), 2) from bench.payload")

run() {  # run NAME SCRIPT -> prints "tps p50 p95 p99"
    rm -f "$OUT"/"$1".log*
    pgbench -n -c "$CLIENTS" -j "$CLIENTS" -T "$SECONDS_RUN" -f "$2" -l --log-prefix="$OUT/$1.log" > "$OUT/$1.txt" 2>&1 \
        || { cat "$OUT/$1.txt"; die "pgbench $1 failed"; }
    tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$OUT/$1.txt")
    cat "$OUT"/"$1".log* | awk '{print $3/1000}' | sort -n | awk -v tps="$tps" '
        {a[NR]=$1} END {printf "%.1f %.2f %.2f %.2f %d\n", tps, a[int(NR*0.5)], a[int(NR*0.95)], a[int(NR*0.99)], NR}'
}
log "baseline: plain inserts of the same families (${SECONDS_RUN}s, $CLIENTS clients)"
read -r raw_tps raw_p50 raw_p95 raw_p99 raw_n < <(run raw test/bench/register_raw.sql)
log "refuge.register_group (${SECONDS_RUN}s, $CLIENTS clients)"
read -r api_tps api_p50 api_p95 api_p99 api_n < <(run api test/bench/register_family.sql)
after=$(psql -XAtc "select count(*) from refuge.individual")
audit=$(psql -XAtc "select count(*) from refuge.audit_log where actor = current_user and at > now() - interval '1 hour'")

cat <<EOF

### Registration throughput ($(date -u +%Y-%m-%d), $(nproc) cores, PostgreSQL $(psql -XAtc "show server_version"))

Database before the run: $people individuals. Families of $avg people on average
(demo generator: names, relationships, dates of birth, nationality, language,
religion, marital status, flight legs, specific needs). $CLIENTS pgbench clients,
$SECONDS_RUN s each, fsync and synchronous_commit on.

| | families/s | p50 ms | p95 ms | p99 ms | transactions |
|---|---:|---:|---:|---:|---:|
| baseline: plain INSERT of group + people | $raw_tps | $raw_p50 | $raw_p95 | $raw_p99 | $raw_n |
| \`refuge.register_group\` (validation, RLS, audit) | $api_tps | $api_p50 | $api_p95 | $api_p99 | $api_n |
| ratio API / baseline | $(awk -v a="$api_tps" -v b="$raw_tps" 'BEGIN {printf "%.3f", a / b}') | | | | |

After the run: $after individuals; audit rows written by the run: $audit.
Command: \`BENCH_FAMILIES=$FAMILIES BENCH_SECONDS=$SECONDS_RUN bash test/bench/register.sh\`
EOF
