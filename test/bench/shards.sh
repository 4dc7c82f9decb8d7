#!/usr/bin/env bash
# Gallery shards (issue 19): what the coordinator adds to a 1:N iris search.
# Four clusters on this machine: a coordinator and three shards, each shard
# holding BENCH_SHARD_IRISES (100,000) synthetic irises under the refuge_iris
# index, searched through refuge.shard_candidates (postgres_fdw, per-shard
# top-k, asynchronous Append).  Same run, same probes: the top-k search on
# one shard alone (the work each shard does), and on one server holding all
# 3 x BENCH_SHARD_IRISES (the baseline sharding replaces).  BENCH_PROBES
# genuine probes (new captures of enrolled eyes); p50/p95 per search and
# whether the mate came first.  The shards share this machine's two cores:
# on separate servers the shards' work would run side by side, so the
# coordinator's overhead is read as (through the coordinator) - (one shard).
# Prints a Markdown block.
set -u
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
cd "$REFUGE_ROOT"
N=${BENCH_SHARD_IRISES:-100000}
PROBES=${BENCH_PROBES:-40}
BASE=${REFUGE_BENCH_PORT:-54340}

ensure_packages
build_install
opts="-c shared_buffers=1GB -c max_parallel_workers_per_gather=0"
declare -A host port
for name in coord s1 s2 s3; do
    p=$BASE
    case $name in s1) p=$((BASE + 1));; s2) p=$((BASE + 2));; s3) p=$((BASE + 3));; esac
    REFUGE_SERVER_OPTS="$opts" cluster_start "bench_$name" "$p"
    host[$name]=$PGHOST
    port[$name]=$p
done
stop_all() { for name in coord s1 s2 s3; do REFUGE_CLUSTER="$(dirname "${host[$name]}")" cluster_stop; done; }
trap stop_all EXIT
on() {  # on NODE DB psql-args...
    local n=$1 db=$2
    shift 2
    PGHOST=${host[$n]} PGPORT=${port[$n]} PGUSER=postgres psql -qX -v ON_ERROR_STOP=1 -d "$db" "$@"
}
fresh() {  # fresh NODE DB
    on "$1" postgres -c "set client_min_messages = warning" -c "drop database if exists $2 with (force)" -c "create database $2" >/dev/null
    on "$1" "$2" -c "set client_min_messages = warning" -c "create extension refuge cascade" >/dev/null || die "set-up of $1 failed"
}
# the shard's own gallery table (refuge.biometric_iris), bulk-loaded without
# its enrolments (replication role: no foreign-key triggers); eye i of the
# population is on shard i % 3, its id ends with i
gallery() {  # gallery NODE DB FILTER
    on "$1" "$2" >/dev/null <<SQL || die "load of $1 failed"
set client_min_messages = warning;
set session_replication_role = replica;
insert into refuge.biometric_iris (individual_id, eye, template, capture_id)
select ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, 'right', refuge.synthetic_iris(11, i), gen_random_uuid()
  from generate_series(1, 3 * $N) i where $3;
vacuum analyze refuge.biometric_iris;
SQL
}
log "loading $N irises on each of three shards and $((3 * N)) on one server"
start=$(date +%s)
for i in 1 2 3; do
    fresh "s$i" refuge
    gallery "s$i" refuge "i % 3 = $((i - 1))" &
done
fresh coord whole
gallery coord whole true &
wait
fresh coord refuge
for i in 1 2 3; do
    on coord refuge >/dev/null <<SQL || die "coordinator set-up failed"
set client_min_messages = warning;
create extension if not exists postgres_fdw;
create server s$i foreign data wrapper postgres_fdw
    options (host '${host[s$i]}', port '${port[s$i]}', dbname 'refuge', extensions 'refuge', async_capable 'true');
create user mapping for refuge_owner server s$i options (user 'postgres', password_required 'false');
create user mapping for current_user server s$i options (user 'postgres');
create schema shard_s$i;
import foreign schema refuge limit to (biometric_iris, biometric_finger) from server s$i into shard_s$i;
grant usage on schema shard_s$i to refuge_owner;
grant select on all tables in schema shard_s$i to refuge_owner;
select refuge.add_gallery_shard('s$i', 's$i', 'shard_s$i.biometric_iris', 'shard_s$i.biometric_finger');
SQL
done
log "loaded in $(( $(date +%s) - start )) s"

# probes: capture 1 of eyes spread over the population
probes="select p, (p * 7919) % (3 * $N) + 1 as mate, refuge.synthetic_iris(11, (p * 7919) % (3 * $N) + 1, 1) as code
          from generate_series(1, $PROBES) p"
timed() {  # timed NODE DB QUERY(probe code as \$1, mate as \$2; returns the first hit's n) -> "p50 p95 mates_first"
    on "$1" "$2" -At <<SQL | tail -1
set jit = off;
create temp table probe as $probes;
create temp table r (ms float8, first_ok boolean);
do \$\$
declare
    pr record;
    t0 timestamptz;
    hit int;
begin
    -- a warm-up search, then every probe
    execute \$q\$$3\$q\$ into hit using (select code from probe limit 1), 0;
    for pr in select * from probe loop
        t0 := clock_timestamp();
        execute \$q\$$3\$q\$ into hit using pr.code, pr.mate;
        insert into r values (extract(epoch from clock_timestamp() - t0) * 1000, hit = pr.mate);
    end loop;
end \$\$;
select round(percentile_cont(0.5) within group (order by ms)::numeric, 1) || ' ' ||
       round(percentile_cont(0.95) within group (order by ms)::numeric, 1) || ' ' ||
       count(*) filter (where first_ok) || '/' || count(*)
  from r;
SQL
}
local_q='select n from (select right(g.individual_id::text, 12)::int as n from refuge.biometric_iris g order by g.template operator(refuge.<->) $1 limit 5) x where $2 is not null limit 1'
# (one shard alone: only the probes whose mate it holds find it first)
read -r one_p50 one_p95 one_ok < <(timed s1 refuge "$local_q")
read -r whole_p50 whole_p95 whole_ok < <(timed coord whole "$local_q")
# the mate's number is on its shard: the coordinator returns ids; map through the shards
read -r coord_p50 coord_p95 coord_ok < <(timed coord refuge "select 0 from refuge.shard_candidates(null, array[\$1], 5) c where \$2 is not null order by c.rank limit 1")
# the coordinator's answers against the one server's: the same eyes first (by number)
same=$(on coord refuge -At <<SQL | tail -1
create temp table probe as $probes;
select count(*) filter (where c.n = p.mate) || '/' || count(*)
  from probe p
 cross join lateral (select right(x.individual_id::text, 12)::int as n
                       from refuge.shard_candidates(null, array[p.code], 5) x order by x.rank limit 1) c;
SQL
)
# the coordinator's own cost, without three shards sharing two cores: one shard registered
on coord refuge -c "select refuge.remove_gallery_shard('s2'), refuge.remove_gallery_shard('s3')" >/dev/null
read -r c1_p50 c1_p95 c1_ok < <(timed coord refuge "select 0 from refuge.shard_candidates(null, array[\$1], 5) c where \$2 is not null order by c.rank limit 1")
cat <<EOF

### Gallery shards: the coordinator's cost ($(date -u +%Y-%m-%d), $(nproc) cores, PostgreSQL $(on coord postgres -Atc "show server_version"))

Three shard clusters of $N synthetic irises each (refuge_iris index) and a coordinator on
this machine, searched through \`refuge.shard_candidates\` (postgres_fdw, top 5 per shard
computed there, asynchronous Append); the same $PROBES genuine probes searched on one shard
alone and on one server holding all $((3 * N)). The shards share two cores here.

| search (top 5) | p50 ms | p95 ms | mate first |
|---|---:|---:|---:|
| one shard alone ($N irises) | $one_p50 | $one_p95 | (a third of the mates are there) $one_ok |
| one server, all $((3 * N)) irises | $whole_p50 | $whole_p95 | $whole_ok |
| through the coordinator, three shards | $coord_p50 | $coord_p95 | $same (by eye number) |
| through the coordinator, one shard registered | $c1_p50 | $c1_p95 | |

The coordinator's own cost per search (postgres_fdw connection and cursor, the remote
statement's planning, PL/pgSQL; through the coordinator with one shard - that shard alone,
p50): $(awk -v a="$c1_p50" -v b="$one_p50" 'BEGIN {printf "%.1f", a - b}') ms. With three shards on two cores, the
search takes $(awk -v a="$coord_p50" -v b="$one_p50" 'BEGIN {printf "%.1f", a / b}') x one shard's time (three shards' work on two cores is at least 1.5 x).

Command: \`BENCH_SHARD_IRISES=$N BENCH_PROBES=$PROBES bash test/bench/shards.sh\`
EOF
