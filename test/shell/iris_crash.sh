#!/usr/bin/env bash
# refuge_iris is crash-safe and takes concurrent inserts: three sessions insert
# irises one committed row at a time into an indexed table, the server is
# stopped with -m immediate in the middle (no shutdown checkpoint: dirty
# buffers are lost and WAL replay must rebuild the index pages), restarted,
# and then every row that was acknowledged as committed is in the table and is
# found through the index, and refuge.iris_index_verify passes.
# Runs its own cluster (durable settings), beside the suite's.
set -u
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/tap.sh"
export REFUGE_SERVER_OPTS="-c fsync=on -c synchronous_commit=on -c full_page_writes=on -c shared_buffers=64MB"
PORT=${REFUGE_CRASH_PORT:-54332}
cluster_start cluster-crash "$PORT" 2>/dev/null
cluster_stop
as_owner rm -rf "$REFUGE_CLUSTER/data"
cluster_start cluster-crash "$PORT" 2>/dev/null || { echo "not ok 1 - crash cluster starts"; exit 1; }
trap 'cluster_stop; as_owner rm -rf "$REFUGE_CLUSTER/data"' EXIT
OUT=$(mktemp -d)
# through the index: sequential scans off, the operators on the path
qi() { PGOPTIONS="-c search_path=public,refuge -c enable_seqscan=off" q "$@"; }

fresh_db refuge_crash
q refuge_crash "set client_min_messages = warning; create extension refuge cascade" >/dev/null
q refuge_crash "create table eyes (id bigint primary key, session int not null, code refuge.iris);
                insert into eyes select i, 0, refuge.synthetic_iris(7, i) from generate_series(1, 200) i;
                create index eyes_code on eyes using refuge_iris (code);
                checkpoint" >/dev/null
ok $? "table, 200 rows and the index are created before the crash"

# each session inserts its own ids one transaction at a time, printing each
# id only once the server acknowledged the commit
for s in 1 2 3; do
    ( for i in $(seq 1 50000); do
          id=$((s * 100000 + i))
          if [ $((i % 25)) -eq 0 ]; then code=null; else code="refuge.synthetic_iris(7, $id)"; fi
          echo "insert into eyes values ($id, $s, $code) returning id;"
      done ) | psql -X -At -d refuge_crash > "$OUT/committed.$s" 2>/dev/null &
done
sleep 3
as_owner "$PGBIN/pg_ctl" -D "$REFUGE_CLUSTER/data" -m immediate -w stop >/dev/null 2>&1
wait
committed=$(cat "$OUT"/committed.* | grep -cE '^[0-9]+$')
ok $([ "$committed" -gt 30 ] && [ "$committed" -lt 150000 ] && echo 0 || echo 1) \
   "the immediate stop came while the sessions were inserting ($committed rows committed)"
cluster_start cluster-crash "$PORT" 2>/dev/null
ok $? "the server recovers and starts"

cat "$OUT"/committed.* | grep -E '^[0-9]+$' | sort -n > "$OUT/ids"
lost=$(psql -X -At -d refuge_crash -v ON_ERROR_STOP=1 -c "create temp table acked (id bigint)" \
       -c "\\copy acked from '$OUT/ids'" -c "select count(*) from acked a where not exists (select 1 from eyes e where e.id = a.id)" | tail -1)
is "$lost" "0" "no acknowledged commit is lost"

is "$(q refuge_crash "select refuge.iris_index_verify('eyes_code') = (select count(*) from eyes)")" "t" \
   "refuge.iris_index_verify passes after recovery"
is "$(qi refuge_crash "select count(*) = (select count(*) from eyes) from (select id from eyes order by code <-> refuge.synthetic_iris(7, 5)) s")" "t" \
   "an index scan returns every row of the table"
plan=$(qi refuge_crash "explain (costs off) select id from eyes order by code <-> refuge.synthetic_iris(7, 5) limit 1")
ok $(echo "$plan" | grep -q "Index Scan using eyes_code" && echo 0 || echo 1) "the searches go through the index"
missed=$(qi refuge_crash "
  select count(*) from eyes e
   where e.code is not null
     and (e.id % 25 = 1 or e.id in (select max(id) - k from eyes, generate_series(0, 9) k group by session, k))
     and e.id <> (select f.id from eyes f order by f.code <-> e.code limit 1)")
is "$missed" "0" "committed rows (every 25th and the last 10 of each session) are found first by their own code through the index"

# and the index keeps working: inserts after recovery are found
q refuge_crash "insert into eyes values (999999, 9, refuge.synthetic_iris(7, 999999))" >/dev/null
is "$(qi refuge_crash "select id from eyes order by code <-> refuge.synthetic_iris(7, 999999, 1) limit 1")" "999999" \
   "an insert after recovery is found through the index"
rm -rf "$OUT"
exit 0
