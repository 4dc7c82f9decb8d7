#!/usr/bin/env bash
# 1:N iris search in SQL (issue 4): ORDER BY code <-> probe LIMIT 5 over
# BENCH_IRIS rows (default 200,000) through the refuge_iris index, against a
# sequential scan of the same table and the matcher's raw in-memory kernel
# (test/bench/iris_bench, same gallery size) in the same run.  BENCH_PROBES
# genuine probes (new captures of enrolled eyes) and as many impostors (eyes
# not enrolled); p50/p95 per search, recall@1 of the genuine probes.  The
# sequential scan runs only the first BENCH_SEQ_PROBES of each (it is slow).
# Also reports build time and index size.  Prints a Markdown block.
set -u
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
cd "$REFUGE_ROOT"
N=${BENCH_IRIS:-200000}
PROBES=${BENCH_PROBES:-10}
SEQ_PROBES=${BENCH_SEQ_PROBES:-$PROBES}

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
search() {  # search SETTING NPROBES -> "p50 p95 genuine_first_of_n"
    psql -XAt -v ON_ERROR_STOP=1 <<SQL | tail -1
set $1;
set jit = off;
set search_path = public, refuge;
-- genuine: capture 1 of enrolled subjects; impostor: subjects beyond the gallery
create temp table probe as
select p, p <= $2 as genuine, case when p <= $2 then p * 997 % $N + 1 end as mate,
       refuge.synthetic_iris(11, case when p <= $2 then p * 997 % $N + 1 else $N + p end, 1) as code
  from generate_series(1, 2 * $2) p;
create temp table r (p int, top int[], ms float8);
do \$\$
declare q record; t int[]; t0 timestamptz;
begin
  for q in select * from probe order by p loop
    t0 := clock_timestamp();
    -- a parameter, as an application's driver would send it
    execute 'select array_agg(id) from (select id from public.eyes order by code <-> \$1 limit 5) s' into t using q.code;
    insert into r values (q.p, t, extract(epoch from clock_timestamp() - t0) * 1000);
  end loop;
end \$\$;
select round(percentile_cont(0.5) within group (order by ms)::numeric, 1) || ' ' ||
       round(percentile_cont(0.95) within group (order by ms)::numeric, 1) || ' ' ||
       count(*) filter (where pr.genuine and top[1] = pr.mate)
  from r join probe pr using (p);
SQL
}
read -r idx_p50 idx_p95 idx_hits <<<"$(search 'enable_seqscan = off' "$PROBES")"
read -r seq_p50 seq_p95 seq_hits <<<"$(search 'enable_indexscan = off' "$SEQ_PROBES")"
ratio=$(awk -v a="$seq_p50" -v b="$idx_p50" 'BEGIN { printf "%.1f", a / b }')

# the raw kernel on a gallery of the same size, in memory, one core
cc -O2 -std=gnu11 -Imatcher -o test/bench/iris_bench test/bench/iris_bench.c matcher/*.c -lm 2>/dev/null
raw=$(./test/bench/iris_bench "$N" 40 2>/dev/null | grep -E "^(avx2|avx512) +kernel: +[0-9]" | tail -1)
raw_p50=$(echo "$raw" | sed -n 's/.*p50 \([0-9.]*\) ms.*/\1/p')
raw_p95=$(echo "$raw" | sed -n 's/.*p95 \([0-9.]*\) ms.*/\1/p')
vs_raw=$(awk -v a="$idx_p50" -v b="$raw_p50" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')

cat <<MD
### refuge_iris index, $N rows ($(date -u +%F), $(nproc) cores, one backend)
| ORDER BY code <-> \$1 LIMIT 5 | p50 ms | p95 ms | recall@1 (genuine) |
|---|---:|---:|---:|
| refuge_iris index scan ($PROBES genuine + $PROBES impostor probes) | $idx_p50 | $idx_p95 | $idx_hits/$PROBES |
| sequential scan + top-N sort ($SEQ_PROBES + $SEQ_PROBES probes) | $seq_p50 | $seq_p95 | $seq_hits/$SEQ_PROBES |
| matcher's raw in-memory scan (iris_bench, 40 probes) | $raw_p50 | $raw_p95 | |

Index: ${ratio}x faster than the sequential scan, ${vs_raw}x the raw scan's p50.
Build: $build_ms ms; index $size (heap $heap).
MD
