#!/usr/bin/env bash
# Field sites (logical replication between HQ and a field cluster).
#
# Two clusters of their own in .bench/field_hq (HQ, port 54341) and
# .bench/field_k1 (field site K1 of operation KEN, port 54342), created afresh
# each run, wal_level = logical, durable settings (fsync, synchronous_commit,
# full_page_writes on), linked over TCP on 127.0.0.1 so that the bytes on the
# wire can be read per connection (ss).
#
# HQ holds a bulk-loaded gallery of BENCH_GALLERY synthetic people (default
# 100,000; 10 fingers + 2 irises each, loaded like enrol.sh's load_gallery)
# in operation UGA, which is not a nearby operation of KEN: the field's
# initial copy stays small (a KEN site holds KEN's templates and those of
# KEN's nearby operations only) while HQ's global search of every field
# enrolment still covers all of them.
#
# 1. Catch-up after an outage.  Same-run baseline: BENCH_FAMILIES families
#    (default 500; 4 members each) registered at HQ and each principal
#    enrolled, one session (the apply worker is one session too).  Then HQ's
#    subscription from the field is disabled (the outage), the field does the
#    same work for other (new) people, the subscription is enabled again and
#    the catch-up is timed: until HQ holds every field individual and every
#    field enrolment has its global_check row.  Also when the decisions are
#    back at the field.
# 2. Steady-state lag: with the link up, BENCH_CLIENTS (default 2) pgbench
#    clients register families at the field for BENCH_SECONDS (default 30);
#    the lag of HQ's subscription is sampled every second on the field
#    (pg_stat_replication.replay_lag, bytes between the field's WAL position
#    and what HQ confirmed) and at HQ (age of the newest field row arrived).
# 3. Bytes per family for the outage batch: WAL the field wrote, bytes the
#    field's walsender decoded (pg_stat_replication_slots.total_bytes) and
#    bytes it put on the TCP connection to HQ (ss bytes_acked).
#
# Prints a Markdown block for test/bench/RESULTS.md.  The clusters are
# stopped on exit; their data stays in .bench/ until the next run.
set -u
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
cd "$REFUGE_ROOT"
N=${BENCH_GALLERY:-100000}
FAMILIES=${BENCH_FAMILIES:-500}
SECONDS_RUN=${BENCH_SECONDS:-30}
CLIENTS=${BENCH_CLIENTS:-2}
HQ_PORT=${REFUGE_BENCH_HQ_PORT:-54341}
K1_PORT=${REFUGE_BENCH_K1_PORT:-54342}
SEED=61
OUT=$(mktemp -d /tmp/refuge-bench-field.XXXXXX)
chmod 777 "$OUT"

ensure_packages
build_install
export PGOPTIONS="-c client_min_messages=warning"

HQ_DIR= K1_DIR= SAMPLER=
stop_all() {
    [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null && wait "$SAMPLER" 2>/dev/null
    local d
    for d in "$K1_DIR" "$HQ_DIR"; do
        [ -n "$d" ] || continue
        as_owner "$PGBIN/pg_ctl" -D "$d/data" status >/dev/null 2>&1 || continue
        as_owner "$PGBIN/pg_ctl" -D "$d/data" -m fast -w -t 60 stop >/dev/null 2>&1 \
            || as_owner "$PGBIN/pg_ctl" -D "$d/data" -m immediate -w stop >/dev/null 2>&1
    done
    rm -rf "$OUT"
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# a fresh cluster each run: the previous run's data is dropped first
fresh_cluster() {  # fresh_cluster NAME PORT SHARED_BUFFERS
    local dir="$REFUGE_ROOT/.bench/$1"
    if [ -f "$dir/data/PG_VERSION" ]; then
        as_owner "$PGBIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1
        rm -rf "$dir/data" "$dir/server.log"
    fi
    # (one line: pg_ctl hands the options to a shell)
    local opts="-c listen_addresses=127.0.0.1 -c fsync=on -c synchronous_commit=on -c full_page_writes=on"
    opts+=" -c wal_level=logical -c max_worker_processes=24 -c max_logical_replication_workers=8"
    opts+=" -c max_sync_workers_per_subscription=4 -c max_wal_senders=10 -c max_replication_slots=10"
    opts+=" -c wal_retrieve_retry_interval=500ms -c track_functions=pl -c shared_buffers=$3 -c max_wal_size=16GB"
    opts+=" -c checkpoint_timeout=30min -c maintenance_work_mem=1GB -c max_parallel_workers_per_gather=0"
    opts+=" -c log_min_error_statement=error"
    REFUGE_SERVER_OPTS="$opts" \
        cluster_start "bench/$1" "$2"
}
fresh_cluster field_hq "$HQ_PORT" 4GB
HQ_DIR=$REFUGE_CLUSTER HQ_SOCK=$PGHOST
fresh_cluster field_k1 "$K1_PORT" 1GB
K1_DIR=$REFUGE_CLUSTER K1_SOCK=$PGHOST
unset PGPORT PGHOST
HQ_CONN="host=127.0.0.1 port=$HQ_PORT dbname=refuge user=postgres"
K1_CONN="host=127.0.0.1 port=$K1_PORT dbname=refuge user=postgres"
hq() { psql -qXAt -h "$HQ_SOCK" -p "$HQ_PORT" -d refuge -v ON_ERROR_STOP=1 "$@"; }
k1() { psql -qXAt -h "$K1_SOCK" -p "$K1_PORT" -d refuge -v ON_ERROR_STOP=1 "$@"; }
now() { date +%s.%N; }
since() { awk -v a="$(now)" -v b="$1" 'BEGIN {printf "%.1f", a - b}'; }
# wait_until SECONDS WHAT CMD...: poll CMD (prints t or f) twice a second
wait_until() {
    local limit=$1 what=$2 t0=$SECONDS
    shift 2
    until [ "$("$@" 2>/dev/null)" = t ]; do
        [ $((SECONDS - t0)) -lt "$limit" ] || { diagnose; die "timed out after ${limit}s waiting for $what"; }
        sleep 0.5
    done
}
diagnose() {
    hq -c "select * from refuge.sync_status()" -c "select subname, pid, received_lsn, latest_end_lsn from pg_stat_subscription" >&2
    k1 -c "select * from refuge.sync_status()" -c "select * from pg_replication_slots" >&2
    tail -20 "$HQ_DIR/server.log" "$K1_DIR/server.log" >&2
}

for port in "$HQ_PORT" "$K1_PORT"; do
    sock=$([ "$port" = "$HQ_PORT" ] && echo "$HQ_SOCK" || echo "$K1_SOCK")
    psql -qX -h "$sock" -p "$port" -d postgres -c "create database refuge" || die "create database failed"
    psql -qX -h "$sock" -p "$port" -d refuge -v ON_ERROR_STOP=1 -c "create extension refuge cascade" >/dev/null \
        || die "create extension failed"
done

########## HQ: reference data and the gallery (operation UGA)
log "HQ: loading a gallery of $N people into operation UGA (10 fingers + 2 irises each)"
t0=$SECONDS
hq >/dev/null <<SQL || die "gallery load failed"
select refuge.create_operation('KEN', 'KEN', 'Kenya'), refuge.create_operation('UGA', 'UGA', 'Uganda');
select refuge.create_site('KEN', 'K1', 'Kakuma', 'CAMP'), refuge.create_site('UGA', 'NAKIVALE', 'Nakivale', 'CAMP');
drop index refuge.biometric_finger_search_1, refuge.biometric_finger_search_2, refuge.biometric_finger_search_6,
           refuge.biometric_finger_search_7, refuge.biometric_iris_search;
set row_security = off;  -- a bulk load: recorded per statement in refuge.audit_bulk_load
create temp table g as select o.id as op, s.id as site from refuge.operation o join refuge.site s on s.operation_id = o.id
 where o.code = 'UGA';
insert into refuge.individual (id, number, operation_id, site_id, given_name, sex, population_type, registration_level)
select ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, 'G-' || i, g.op, g.site, 'Gallery' || i, 'F', 'REF', 'BASIC'
  from generate_series(1, $N) i, g;
insert into refuge.biometric_capture (id, individual_id, operation_id, site_id, captured_at, gallery_size, target_fpir,
                                      block_fpir, gallery_seq, decision, device)
select '00000000-0000-4000-8000-000000000000', i.id, i.operation_id, i.site_id, now(), 0, 0.001, 1e-6, 0, 'enrolled', 'bulk import'
  from refuge.individual i where i.number = 'G-1';
insert into refuge.biometric_enrolment (individual_id, identity_id, operation_id, site_id, capture_id, status)
select i.id, i.id, i.operation_id, i.site_id, '00000000-0000-4000-8000-000000000000', 'ENROLLED' from refuge.individual i;
-- sync_operation given: the sync trigger need not look each row's person up
insert into refuge.biometric_finger (individual_id, position, template, capture_id, sync_operation)
select ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, p,
       (regexp_replace(refuge.synthetic_fingerprint($SEED, i::bigint * 10 + p - 1, 0)::text, '^pos=0 ', 'pos=' || p || ' '))::refuge.fingerprint,
       '00000000-0000-4000-8000-000000000000', g.op
  from generate_series(1, $N) i, generate_series(1, 10) p, g;
insert into refuge.biometric_iris (individual_id, eye, template, capture_id, sync_operation)
select ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, case e when 0 then 'right' else 'left' end,
       refuge.synthetic_iris($SEED, i::bigint * 2 + e, 0), '00000000-0000-4000-8000-000000000000', g.op
  from generate_series(1, $N) i, generate_series(0, 1) e, g;
reset row_security;
SQL
t1=$SECONDS
# the five search indexes, two at a time (as enrol.sh)
hq -c "create index biometric_finger_search_1 on refuge.biometric_finger using refuge_fingerprint (template) where position = 1" \
   -c "create index biometric_finger_search_6 on refuge.biometric_finger using refuge_fingerprint (template) where position = 6" \
   -c "create index biometric_iris_search on refuge.biometric_iris using refuge_iris (template)" &
hq -c "create index biometric_finger_search_2 on refuge.biometric_finger using refuge_fingerprint (template) where position = 2" \
   -c "create index biometric_finger_search_7 on refuge.biometric_finger using refuge_fingerprint (template) where position = 7" &
wait
hq -c "vacuum analyze" -c "checkpoint" || die "vacuum failed"
load_s=$((SECONDS - t0)) index_s=$((SECONDS - t1))
log "gallery loaded in ${load_s}s (indexes and vacuum ${index_s}s)"

########## the field site joins
log "HQ: add_field_site K1; field: join_hq"
hq -c "select refuge.add_field_site('K1', '$K1_CONN')" >/dev/null || die "add_field_site failed"
k1 -c "select refuge.join_hq('K1', '$HQ_CONN')" >/dev/null || die "join_hq failed"
t0=$(now)
series_ok() { k1 -c "select refuge.local_series() is not null" 2>/dev/null || echo f; }
wait_until 600 "the field's initial copy" k1 -c "select count(*) = 0 from pg_subscription_rel where srsubstate not in ('r', 's')"
wait_until 120 "HQ's node row at the field" series_ok
wait_until 120 "HQ reading from the field" k1 -c "select count(*) = 1 from pg_stat_replication where application_name = 'refuge_up_k1'"
join_s=$(since "$t0")
# server log errors are counted from here (joining logs a few expected ones:
# HQ's subscription retries until the field has created its slot)
hq_log0=$(stat -c %s "$HQ_DIR/server.log") k1_log0=$(stat -c %s "$K1_DIR/server.log")
log "initial copy in ${join_s}s; field holds $(k1 -c "select count(*) from refuge.biometric_enrolment") templates"

# family SQL (psql): register a family of four at K1, enrol its principal
# with the templates of row k of public.bench_t
family_script() {  # family_script PREFIX FAMILIES > file
    local k
    for ((k = 1; k <= $2; k++)); do
        cat <<SQL
select refuge.register_group(jsonb_build_object('operation', 'KEN', 'site', 'K1', 'registration_level', 'BASIC', 'population_type', 'REF', 'members', jsonb_build_array(jsonb_build_object('relationship', 'PA', 'given_name', '$1$k', 'family_name', 'Bench', 'sex', 'F', 'date_of_birth', '1985-05-05'), jsonb_build_object('relationship', 'HUS', 'given_name', '$1$k-H', 'family_name', 'Bench', 'sex', 'M', 'date_of_birth', '1982-03-03'), jsonb_build_object('relationship', 'SON', 'given_name', '$1$k-S', 'family_name', 'Bench', 'sex', 'M', 'date_of_birth', '2012-02-02'), jsonb_build_object('relationship', 'DAU', 'given_name', '$1$k-D', 'family_name', 'Bench', 'sex', 'F', 'date_of_birth', '2015-01-01')))) -> 'members' -> 0 ->> 'individual_id' as pid \gset
select refuge.enrol_biometrics(:'pid', t) ->> 'decision' from public.bench_t where k = $k;
SQL
    done
}
fstat() {  # fstat NAME: calls and total ms of a refuge function (track_functions)
    echo "select coalesce(sum(calls), 0) || ' ' || coalesce(sum(total_time), 0) from pg_stat_user_functions where schemaname = 'refuge' and funcname = '$1'"
}

########## 1a. baseline: the same work at HQ, one session
log "baseline: $FAMILIES families registered at HQ and their principals enrolled (one session)"
hq -c "create table public.bench_t as select k, refuge.synthetic_templates($SEED, $N + 2000000 + k) as t from generate_series(1, $FAMILIES) k" \
   -c "alter table public.bench_t add primary key (k)" || die "templates failed"
family_script HQ "$FAMILIES" > "$OUT/hq.sql"
read -r ec0 et0 <<<"$(hq -c "$(fstat enrol_biometrics)")"
t0=$(now)
hq -f "$OUT/hq.sql" > "$OUT/hq.out" || die "baseline failed"
base_s=$(since "$t0")
read -r ec1 et1 <<<"$(hq -c "$(fstat enrol_biometrics)")"
base_dec=$(sort "$OUT/hq.out" | uniq -c | awk '{printf "%s%s %s", (NR > 1 ? ", " : ""), $2, $1}')
base_enrol_ms=$(awk -v a="$et1" -v b="$et0" -v c="$ec1" -v d="$ec0" 'BEGIN {printf "%.0f", (c > d ? (a - b) / (c - d) : 0)}')
log "baseline: ${base_s}s ($base_dec), enrol_biometrics ${base_enrol_ms} ms per call"
# HQ's rows reach the field before the outage starts
wait_until 600 "HQ's baseline rows at the field" \
    k1 -c "select count(*) = $((FAMILIES * 4)) from refuge.individual where sync_owner = 'HQ'"
wait_until 600 "HQ's baseline enrolments at the field" \
    k1 -c "select count(*) = $FAMILIES from refuge.biometric_enrolment where sync_owner = 'HQ'"

########## 1b. the outage: the field works alone
log "outage: HQ's subscription from the field disabled; $FAMILIES families registered and enrolled at the field"
hq -c "alter subscription refuge_up_k1 disable" || die "disable failed"
wait_until 60 "the field's walsender to stop" \
    k1 -c "select count(*) = 0 from pg_stat_replication where application_name = 'refuge_up_k1'"
k1 -c "create table public.bench_t as select k, refuge.synthetic_templates($SEED, $N + 1000000 + k) as t from generate_series(1, $FAMILIES) k" \
   -c "alter table public.bench_t add primary key (k)" -c "checkpoint" || die "templates failed"
family_script K1- "$FAMILIES" > "$OUT/k1.sql"
slotstat="select coalesce(sum(s.total_txns), 0) || ' ' || coalesce(sum(s.total_bytes), 0) || ' ' || coalesce(sum(s.spill_bytes), 0)
            from pg_replication_slots r left join pg_stat_replication_slots s using (slot_name) where r.slot_name = 'refuge_up_k1'"
read -r txn0 dec0 spill0 <<<"$(k1 -c "$slotstat")"
lsn0=$(k1 -c "select pg_current_wal_lsn()")
t0=$(now)
k1 -f "$OUT/k1.sql" > "$OUT/k1.out" || die "field work failed"
field_s=$(since "$t0")
lsn1=$(k1 -c "select pg_current_wal_lsn()")
field_wal=$(k1 -c "select pg_wal_lsn_diff('$lsn1', '$lsn0')::bigint")
field_dec=$(sort "$OUT/k1.out" | uniq -c | awk '{printf "%s%s %s", (NR > 1 ? ", " : ""), $2, $1}')
exp_people=$(k1 -c "select count(*) from refuge.individual where sync_owner = 'K1'")
exp_checks=$(k1 -c "select count(*) from refuge.biometric_capture where sync_owner = 'K1'")
checks_before=$(hq -c "select count(*) from refuge.global_check")
log "field: ${field_s}s offline ($field_dec); $exp_people people, $exp_checks enrolments to send; WAL $field_wal bytes"

########## 1c. the link comes back: catch-up
read -r gc0 gt0 <<<"$(hq -c "$(fstat sync_global_check)")"
hq_lsn0=$(hq -c "select pg_current_wal_lsn()")
log "link restored: timing the catch-up"
t0=$(now)
hq -c "alter subscription refuge_up_k1 enable" || die "enable failed"
rows_s=
limit=$((600 + FAMILIES * 5))
while :; do
    read -r got_people got_checks <<<"$(hq -F ' ' -c "select (select count(*) from refuge.individual where sync_owner = 'K1'),
                                                             (select count(*) from refuge.global_check)" 2>/dev/null)"
    if [ -z "$rows_s" ] && [ "${got_people:-0}" -ge "$exp_people" ]; then rows_s=$(since "$t0"); fi
    [ "${got_people:-0}" -ge "$exp_people" ] && [ "${got_checks:-0}" -ge $((checks_before + exp_checks)) ] && break
    [ "$(since "$t0" | cut -d. -f1)" -lt "$limit" ] || { diagnose; die "catch-up did not finish in ${limit}s ($got_people people, $got_checks checks)"; }
    sleep 0.5
done
catch_s=$(since "$t0")
hq_lsn1=$(hq -c "select pg_current_wal_lsn()")
# bytes on the wire so far on the connection HQ's apply worker holds to the field
wire=$(ss -tinH state established "( sport = :$K1_PORT )" | grep -o 'bytes_acked:[0-9]*' | cut -d: -f2 | awk '{s += $1} END {print s + 0}')
wait_until $((300 + FAMILIES)) "the global decisions back at the field" \
    k1 -c "select count(*) >= $exp_checks from refuge.global_check where field_node = 'K1'"
back_s=$(since "$t0")
# the global-check worker sends its function statistics after each check
read -r gc1 gt1 <<<"$(hq -c "$(fstat sync_global_check)")"
read -r txn1 dec1 spill1 <<<"$(k1 -c "$slotstat")"
check_ms=$(awk -v a="$gt1" -v b="$gt0" -v c="$gc1" -v d="$gc0" 'BEGIN {printf "%.0f", (c > d ? (a - b) / (c - d) : 0)}')
check_n=$((gc1 - gc0))
hq_wal=$(hq -c "select pg_wal_lsn_diff('$hq_lsn1', '$hq_lsn0')::bigint")
global_dec=$(hq -c "select string_agg(decision || ' ' || n, ', ' order by decision) from (select decision, count(*) n from refuge.global_check where field_node = 'K1' group by 1) x")
log "caught up in ${catch_s}s (all rows at ${rows_s}s); decisions back at the field at ${back_s}s; global check ${check_ms} ms ($check_n calls)"

########## 2. steady-state lag under registration load at the field
log "steady state: $CLIENTS clients registering families at the field for ${SECONDS_RUN}s"
cat > "$OUT/reg.sql" <<'SQL'
\set r random(1, 1000000000)
select refuge.register_group(jsonb_build_object('operation', 'KEN', 'site', 'K1', 'registration_level', 'BASIC', 'population_type', 'REF', 'members', jsonb_build_array(jsonb_build_object('relationship', 'PA', 'given_name', 'S' || :r, 'family_name', 'Load', 'sex', 'F', 'date_of_birth', '1985-05-05'), jsonb_build_object('relationship', 'HUS', 'given_name', 'S' || :r || '-H', 'family_name', 'Load', 'sex', 'M', 'date_of_birth', '1982-03-03'), jsonb_build_object('relationship', 'SON', 'given_name', 'S' || :r || '-S', 'family_name', 'Load', 'sex', 'M', 'date_of_birth', '2012-02-02'), jsonb_build_object('relationship', 'DAU', 'given_name', 'S' || :r || '-D', 'family_name', 'Load', 'sex', 'F', 'date_of_birth', '2015-01-01'))));
SQL
# one sample a second: field (bytes not yet confirmed by HQ, replay_lag) and
# HQ (age of the newest field registration arrived)
sampler() {
    while :; do
        a=$(k1 -F ' ' -c "select pg_wal_lsn_diff(pg_current_wal_lsn(), coalesce(r.replay_lsn, s.confirmed_flush_lsn))::bigint,
                                 coalesce(extract(epoch from r.replay_lag), 0)
                            from pg_replication_slots s left join pg_stat_replication r on r.pid = s.active_pid
                           where s.slot_name = 'refuge_up_k1'" 2>/dev/null)
        b=$(hq -c "select coalesce(extract(epoch from clock_timestamp() - max(created_at)), -1) from refuge.individual
                    where sync_owner = 'K1' and given_name like 'S%'" 2>/dev/null)
        echo "$a $b"
        sleep 1
    done
}
sampler > "$OUT/lag.txt" &
SAMPLER=$!
( cd "$OUT" && pgbench -h "$K1_SOCK" -p "$K1_PORT" -n -c "$CLIENTS" -j "$CLIENTS" -T "$SECONDS_RUN" -f "$OUT/reg.sql" refuge ) \
    > "$OUT/pgbench.txt" 2>&1 || { cat "$OUT/pgbench.txt"; die "pgbench failed"; }
t0=$(now)
kill "$SAMPLER"; wait "$SAMPLER" 2>/dev/null; SAMPLER=
reg_tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$OUT/pgbench.txt" | head -1 | awk '{printf "%.1f", $1}')
reg_n=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$OUT/pgbench.txt")
q_people="select count(*) from refuge.individual where sync_owner = 'K1'"
drained() { [ "$(hq -c "$q_people")" = "$(k1 -c "$q_people")" ] && echo t || echo f; }
wait_until 600 "the load's registrations at HQ" drained
drain_s=$(since "$t0")
pct() {  # pct COLUMN: p50 and max of a sample column
    awk -v c="$1" 'NF >= 3 && $c >= 0 {print $c}' "$OUT/lag.txt" | sort -g |
        awk '{a[NR] = $1} END {if (NR == 0) print "- -"; else printf "%s %s\n", a[int((NR + 1) / 2)], a[NR]}'
}
read -r lagb_p50 lagb_max <<<"$(pct 1 | awk '{printf "%.0f %.0f", $1 / 1024, $2 / 1024}')"
read -r lagt_p50 lagt_max <<<"$(pct 2 | awk '{printf "%.2f %.2f", $1, $2}')"
read -r lage_p50 lage_max <<<"$(pct 3 | awk '{printf "%.2f %.2f", $1, $2}')"
samples=$(awk 'NF >= 3' "$OUT/lag.txt" | wc -l)
log "steady state: $reg_tps families/s at the field; lag p50/max ${lagb_p50}/${lagb_max} KiB, replay_lag ${lagt_p50}/${lagt_max} s"

########## checks: everything equal, conflicts, errors
q_count="select count(*) || ' ' || md5(coalesce(string_agg(id::text, ',' order by id), '')) from refuge.individual where sync_owner = 'K1'"
same=$([ "$(hq -c "$q_count")" = "$(k1 -c "$q_count")" ] && echo "yes" || echo "NO")
conf_hq=$(hq -c "select count(*) || coalesce(' (' || string_agg(distinct kind, ', ') || ')', '') from refuge.sync_conflict")
conf_k1=$(k1 -c "select count(*) || coalesce(' (' || string_agg(distinct kind, ', ') || ')', '') from refuge.sync_conflict")
pending=$(hq -c "select count(*) from refuge.biometric_capture b where b.sync_owner <> 'HQ'
                  and not exists (select 1 from refuge.global_check g where g.capture_id = b.id)")
errlines() { tail -c +"$(($2 + 1))" "$1/server.log" | grep -E '(ERROR|FATAL|PANIC):'; }
err_hq=$(errlines "$HQ_DIR" "$hq_log0" | wc -l) err_k1=$(errlines "$K1_DIR" "$k1_log0" | wc -l)
for d in "$HQ_DIR:$hq_log0" "$K1_DIR:$k1_log0"; do
    errlines "${d%:*}" "${d##*:}" | sed -E 's/^[^]]*\] //; s/[0-9]+/N/g' | sort | uniq -c | sort -rn | head -8 \
        | sed "s|^|  $(basename "${d%:*}"): |" >&2
done
cp "$HQ_DIR/server.log" /tmp/refuge-bench-field-hq.log 2>/dev/null
cp "$K1_DIR/server.log" /tmp/refuge-bench-field-k1.log 2>/dev/null

ratio=$(awk -v a="$catch_s" -v b="$base_s" 'BEGIN {printf "%.2f", a / b}')
per=$(awk -v a="$catch_s" -v n="$exp_checks" 'BEGIN {printf "%.0f", a * 1000 / n}')
base_per=$(awk -v a="$base_s" -v n="$FAMILIES" 'BEGIN {printf "%.0f", a * 1000 / n}')
kib() { awk -v a="$1" -v n="$FAMILIES" 'BEGIN {printf "%.1f KiB", a / n / 1024}'; }
cat <<EOF

### Field sites: catch-up, lag and bytes ($(date -u +%Y-%m-%d), $(nproc) cores, PostgreSQL $(hq -c "show server_version"))

HQ and one field site (K1, operation KEN) as two clusters on this machine, linked
over TCP on 127.0.0.1; fsync, synchronous_commit and full_page_writes on. HQ's
gallery: $N synthetic people (10 fingers + 2 irises each) bulk-loaded in operation
UGA (not nearby to KEN, so the field's initial copy stays small: ${join_s} s), all
searched by HQ's global check. Families of 4; each principal enrolled as a new
person.

| measure | value |
|---|---|
| same-run baseline: $FAMILIES families registered at HQ + principals enrolled, one session | **${base_s} s** (${base_per} ms per family; enrol_biometrics ${base_enrol_ms} ms per call; $base_dec) |
| outage: the same work at the field, offline | ${field_s} s ($field_dec against the field's own gallery) |
| catch-up after the outage: until HQ holds all $exp_people field people and all $exp_checks global checks | **${catch_s} s** (${per} ms per family; every row arrived at ${rows_s} s) |
| ratio catch-up / baseline | **$ratio** |
| HQ's global check (refuge.sync_global_check, in HQ's background worker) | ${check_ms} ms per enrolment ($check_n checks): $global_dec |
| decisions back at the field | ${back_s} s after the link came back |
| steady state: $CLIENTS pgbench clients registering at the field, ${SECONDS_RUN} s | $reg_tps families/s ($reg_n families); $samples samples, one a second |
| lag, field WAL not yet confirmed by HQ (KiB) | p50 $lagb_p50, max $lagb_max |
| lag, pg_stat_replication.replay_lag on the field (s) | p50 $lagt_p50, max $lagt_max |
| lag, age of the newest field registration at HQ (s) | p50 $lage_p50, max $lage_max |
| drained after the load stopped | ${drain_s} s |
| field WAL written during the outage | $field_wal bytes: $(kib "$field_wal") per family |
| decoded by the field's walsender (pg_stat_replication_slots.total_bytes) | $((dec1 - dec0)) bytes in $((txn1 - txn0)) transactions: $(kib $((dec1 - dec0))) per family; spilled $((spill1 - spill0)) bytes |
| sent to HQ on the wire (TCP bytes_acked, catch-up) | $wire bytes: $(kib "$wire") per family |
| HQ WAL written while catching up (applied rows + global checks) | $hq_wal bytes: $(kib "$hq_wal") per family |
| checks | field's people at HQ equal (ids, checksum): $same; global checks pending: $pending; sync_conflict rows HQ $conf_hq, field $conf_k1; ERROR/FATAL lines in the server logs after the join: HQ $err_hq, field $err_k1 |

Command: \`BENCH_GALLERY=$N BENCH_FAMILIES=$FAMILIES BENCH_SECONDS=$SECONDS_RUN bash test/bench/field_sync.sh\`
EOF
exit 0
