#!/usr/bin/env bash
# 1:N fingerprint search in SQL (issue 4): ORDER BY fp <-> probe LIMIT 5 over
# BENCH_FINGERS synthetic fingers (default 100,000) through the
# refuge_fingerprint index, against exhaustive matching (a sequential scan
# comparing every row) in the same run.  BENCH_PROBES genuine probes (new
# impressions of enrolled fingers, default 100) and BENCH_PROBES / 5
# impostors: p50/p95 per search, rank-1 (mate first), how many mates the full
# matcher accepts (score >= refuge.fingerprint_threshold) that the index does
# not return (the candidate stage's loss), and for the first
# BENCH_EXHAUSTIVE_PROBES genuine probes (default 3; each compares every row,
# about a millisecond a row) whether the index's first row is exhaustive
# matching's first row.  Also build time and size.  Prints a Markdown block.
set -u
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
cd "$REFUGE_ROOT"
N=${BENCH_FINGERS:-100000}
PROBES=${BENCH_PROBES:-100}
IMPOSTORS=$(( (PROBES + 4) / 5 ))
EXH=${BENCH_EXHAUSTIVE_PROBES:-3}

ensure_packages
build_install
REFUGE_SERVER_OPTS="-c shared_buffers=2GB -c max_wal_size=8GB -c max_parallel_workers_per_gather=0" \
    cluster_start bench "${REFUGE_BENCH_PORT:-54331}"
trap cluster_stop EXIT
export PGDATABASE=refuge_bench_fp
export PGOPTIONS="-c client_min_messages=warning"
psql -qX -d postgres -c "drop database if exists $PGDATABASE" -c "create database $PGDATABASE"
psql -qX -v ON_ERROR_STOP=1 -c "create extension refuge cascade" >/dev/null || die "set-up failed"
log "loading $N synthetic fingers"
psql -qX -v ON_ERROR_STOP=1 -c "create table fingers (id int primary key, fp refuge.fingerprint not null)" \
    -c "insert into fingers select i, refuge.synthetic_fingerprint(13, i, 0) from generate_series(1, $N) i" \
    -c "vacuum analyze fingers" || die "load failed"
log "building the index"
build_ms=$(psql -XAt <<SQL | tail -1
select clock_timestamp() as t0 \gset
create index fingers_fp on fingers using refuge_fingerprint (fp);
select round(extract(epoch from clock_timestamp() - :'t0'::timestamptz) * 1000);
SQL
)
size=$(psql -XAtc "select pg_size_pretty(pg_relation_size('fingers_fp'))")
heap=$(psql -XAtc "select pg_size_pretty(pg_total_relation_size('fingers') - pg_indexes_size('fingers'))")
cands=$(psql -XAt -c "load '\$libdir/refuge'" -c "show refuge.fingerprint_candidates" | tail -1)

log "searching: $PROBES genuine and $IMPOSTORS impostor probes through the index, $EXH exhaustively"
read -r p50 p95 rank1 accepted lost imp_p50 exh_ms agree <<<"$(psql -XAt -v ON_ERROR_STOP=1 <<SQL | tail -1
set jit = off;
set search_path = public, refuge;
create temp table probe as
select p, p <= $PROBES as genuine, case when p <= $PROBES then p * 7919 % $N + 1 end as mate,
       refuge.synthetic_fingerprint(13, case when p <= $PROBES then p * 7919 % $N + 1 else $N + p end, 1) as fp
  from generate_series(1, $PROBES + $IMPOSTORS) p;
-- what the full matcher says of each genuine pair
alter table probe add column mate_score float8;
update probe set mate_score = (select refuge.fingerprint_score(f.fp, probe.fp) from fingers f where f.id = probe.mate);
create temp table r (p int, top int[], ms float8, matched int[]);
do \$\$
declare q record; t int[]; m int[]; t0 timestamptz;
begin
  set local enable_seqscan = off;
  for q in select * from probe order by p loop
    t0 := clock_timestamp();
    -- a parameter, as an application's driver would send it
    execute 'select array_agg(id) from (select id from public.fingers order by fp <-> \$1 limit 5) s' into t using q.fp;
    insert into r values (q.p, t, extract(epoch from clock_timestamp() - t0) * 1000);
    execute 'select array_agg(id) from public.fingers where fp % \$1' into m using q.fp;
    update r set matched = m where p = q.p;
  end loop;
end \$\$;
create temp table x (p int, top int, ms float8);
do \$\$
declare q record; t int; t0 timestamptz;
begin
  set local enable_indexscan = off;
  for q in select * from probe where genuine order by p limit $EXH loop
    t0 := clock_timestamp();
    execute 'select id from public.fingers order by fp <-> \$1 limit 1' into t using q.fp;
    insert into x values (q.p, t, extract(epoch from clock_timestamp() - t0) * 1000);
  end loop;
end \$\$;
select round(percentile_cont(0.5) within group (order by ms) filter (where pr.genuine)::numeric, 1) || ' ' ||
       round(percentile_cont(0.95) within group (order by ms) filter (where pr.genuine)::numeric, 1) || ' ' ||
       count(*) filter (where pr.genuine and top[1] = pr.mate) || ' ' ||
       count(*) filter (where pr.genuine and pr.mate_score >= current_setting('refuge.fingerprint_threshold')::float8) || ' ' ||
       count(*) filter (where pr.genuine and pr.mate_score >= current_setting('refuge.fingerprint_threshold')::float8
                          and not coalesce(pr.mate = any (matched), false)) || ' ' ||
       round(percentile_cont(0.5) within group (order by ms) filter (where not pr.genuine)::numeric, 1) || ' ' ||
       coalesce((select round(percentile_cont(0.5) within group (order by ms)::numeric) from x), 0) || ' ' ||
       (select count(*) filter (where x.top = r2.top[1]) || '/' || count(*) from x join r r2 using (p))
  from r join probe pr using (p);
SQL
)"
speedup=$(awk -v a="$exh_ms" -v b="$p50" 'BEGIN { if (a > 0 && b > 0) printf "%.0fx (p50)", a / b; else print "not measured (BENCH_EXHAUSTIVE_PROBES=0)" }')

cat <<MD
### refuge_fingerprint index, $N fingers ($(date -u +%F), $(nproc) cores, one backend, refuge.fingerprint_candidates = $cands)
| ORDER BY fp <-> \$1 LIMIT 5 | p50 ms | p95 ms | rank-1 |
|---|---:|---:|---:|
| refuge_fingerprint index, $PROBES genuine probes | $p50 | $p95 | $rank1/$PROBES |
| refuge_fingerprint index, $IMPOSTORS impostor probes | $imp_p50 | | |
| exhaustive (sequential scan, every row compared), $EXH genuine probes | $exh_ms | | agrees with the index on the first row: $agree |

Speed-up over exhaustive: ${speedup}.  Candidate-stage loss: $lost of the $accepted genuine mates that
the full matcher accepts at refuge.fingerprint_threshold were not returned by \`WHERE fp % \$1\` through the index.
Build: $build_ms ms; index $size (heap $heap).
MD
