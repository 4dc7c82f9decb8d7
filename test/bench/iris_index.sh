#!/usr/bin/env bash
# 1:N iris search in SQL (issue 4): ORDER BY code <-> probe LIMIT 5 over
# BENCH_IRIS rows (default 200,000) through the refuge_iris index, against a
# sequential scan of the same table in the same run (the operator already
# caches the prepared probe, so the baseline is the best a plain scan does).
# Also reports build time and index size.  Prints a Markdown block.
set -u
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
cd "$REFUGE_ROOT"
N=${BENCH_IRIS:-200000}
PROBES=${BENCH_PROBES:-10}

ensure_packages
build_install
REFUGE_SERVER_OPTS="-c shared_buffers=2GB -c max_wal_size=8GB -c max_parallel_workers_per_gather=0" \
    cluster_start bench "${REFUGE_BENCH_PORT:-54331}"
trap cluster_stop EXIT
export PGDATABASE=refuge_bench_iris
PGOPTIONS="-c client_min_messages=warning" psql -qX -d postgres -c "drop database if exists $PGDATABASE" -c "create database $PGDATABASE"
psql -qX -v ON_ERROR_STOP=1 -c "set client_min_messages = warning" -c "create extension refuge cascade" >/dev/null || die "set-up failed"
log "loading $N synthetic irises"
psql -qX -v ON_ERROR_STOP=1 -c "create table eyes (id int primary key, code refuge.iris not null)" \
    -c "insert into eyes select i, refuge.synthetic_iris(11, i) from generate_series(1, $N) i" -c "vacuum analyze eyes" || die "load failed"

build_ms=$(psql -XAt <<SQL | tail -1
select clock_timestamp() as t0 \gset
create index eyes_code on eyes using refuge_iris (code);
select round(extract(epoch from clock_timestamp() - :'t0'::timestamptz) * 1000);
SQL
)
size=$(psql -XAtc "select pg_size_pretty(pg_relation_size('eyes_code'))")
heap=$(psql -XAtc "select pg_size_pretty(pg_total_relation_size('eyes') - pg_indexes_size('eyes'))")

# time PROBES searches either way; check both give the same top 5
search() {  # search SETTING -> "ms_per_search mates_first md5_of_results"
    psql -XAt -v ON_ERROR_STOP=1 <<SQL | tail -1
set $1;
set jit = off;
set search_path = public, refuge;
create temp table probe as select p, refuge.synthetic_iris(11, p * 997 % $N + 1, 1) as code from generate_series(1, $PROBES) p;
create temp table r (p int, top int[]);
select clock_timestamp() as t0 \gset
do \$\$
declare q record; t int[];
begin
  for q in select * from probe order by p loop
    -- a parameter, as an application's driver would send it
    execute 'select array_agg(id) from (select id from public.eyes order by code <-> \$1 limit 5) s' into t using q.code;
    insert into r values (q.p, t);
  end loop;
end \$\$;
select round(extract(epoch from clock_timestamp() - :'t0'::timestamptz) * 1000 / $PROBES, 1)
       || ' ' || count(*) filter (where top[1] = p * 997 % $N + 1) || ' ' || md5(string_agg(top[1]::text, ';' order by p)) from r;
SQL
}
read -r seq_ms seq_hits seq_md5 <<<"$(search 'enable_indexscan = off')"
read -r idx_ms idx_hits idx_md5 <<<"$(search 'enable_seqscan = off')"
same=$([ "$seq_md5" = "$idx_md5" ] && echo yes || echo NO)
ratio=$(awk -v a="$seq_ms" -v b="$idx_ms" 'BEGIN { printf "%.1f", a / b }')

cat <<MD
### refuge_iris index, $N rows, $PROBES probes ($(date -u +%F), $(nproc) cores)
| | ms per search (top 5) | mates first | |
|---|---:|---:|---|
| sequential scan + sort (baseline) | $seq_ms | $seq_hits/$PROBES | |
| refuge_iris index scan | $idx_ms | $idx_hits/$PROBES | ${ratio}x the baseline; same mates first: $same |

Build: $build_ms ms; index $size (heap $heap).
MD
