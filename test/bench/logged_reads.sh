#!/usr/bin/env bash
# Logged reads that survive the reader's rollback (issue 13).
#
# refuge.read_case_note() on a note of an SGBV case, by a protection
# officer's login, with pgbench (BENCH_CLIENTS clients, BENCH_SECONDS
# seconds): reads/s and latency.  Same-run baseline: the same read with its
# log row inserted in the reader's own transaction (what 0.6.0 did, lost on
# rollback).  Then refuge.log_durably() alone (one worker start, one insert,
# one commit).  Prints a Markdown block for test/bench/RESULTS.md.
set -u
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
cd "$REFUGE_ROOT"
T=${BENCH_SECONDS:-20}
C=${BENCH_CLIENTS:-2}
DB=refuge_bench_reads

ensure_packages
build_install
REFUGE_SERVER_OPTS="-c fsync=on -c synchronous_commit=on -c max_worker_processes=32" \
    cluster_start bench "${REFUGE_BENCH_PORT:-54331}"
trap cluster_stop EXIT
export PGOPTIONS="-c client_min_messages=warning"
psql -qX -d postgres -c "drop database if exists $DB" -c "create database $DB"
psql -qX -d $DB -v ON_ERROR_STOP=1 >/dev/null <<'SQL' || die "set-up failed"
create extension refuge cascade;
do $$ begin if not exists (select from pg_roles where rolname = 'bench_prot') then create role bench_prot login; end if; end $$;
grant refuge_protection to bench_prot;
select refuge.create_operation('KEN', 'KEN', 'Kenya');
select refuge.create_site('KEN', 'KAKUMA', 'Kakuma', 'CAMP');
select refuge.assign_staff('bench_prot', 'KEN');
create schema bench;
grant usage on schema bench to public;
create table bench.note as
select refuge.add_case_note((refuge.open_case('SGBV', (refuge.register_group('{"operation": "KEN", "site": "KAKUMA",
         "registration_level": "BASIC", "population_type": "REF",
         "members": [{"relationship": "PA", "given_name": "Nyakim", "sex": "F"}]}') -> 'members' -> 0 ->> 'individual_id')::uuid)
         ->> 'case_id')::uuid, 'Survivor staying with her aunt', false) as id;
grant select on bench.note to public;
-- the baseline: the same read, its log row written in the reader's own transaction (0.6.0)
create function bench.read_note_inline(note_id uuid, purpose text) returns text
    language plpgsql volatile security definer set search_path = pg_catalog, refuge, pg_temp as $f$
declare
    n refuge.case_note;
    c refuge.process_case;
begin
    select * into n from refuge.case_note x where x.id = note_id;
    c := refuge.case_for_update(n.case_id, 'read_case_note', false);
    insert into refuge.sensitive_read (actor, kind, object_id, case_id, individual_id, operation_id, purpose)
    values (refuge.caller(), 'case_note', n.id, c.id, c.principal_id, c.operation_id, purpose);
    return n.body;
end $f$;
alter function bench.read_note_inline(uuid, text) owner to refuge_owner;
grant execute on function bench.read_note_inline(uuid, text) to bench_prot;
SQL
note=$(psql -XAt -d $DB -c "select id from bench.note")
echo "select refuge.read_case_note('$note', 'bench');" > /tmp/refuge_bench_durable.sql
echo "select bench.read_note_inline('$note', 'bench');" > /tmp/refuge_bench_inline.sql
echo "select refuge.log_durably('{\"sensitive_read\": [{\"actor\": \"bench\", \"kind\": \"case_note\", \"object_id\": \"$note\", \"purpose\": \"bench\"}]}');" \
    > /tmp/refuge_bench_log.sql
chmod 644 /tmp/refuge_bench_*.sql
run() {   # run FILE USER: "tps latency"
    pgbench -n -c "$C" -j "$C" -T "$T" -U "$2" -f "$1" $DB 2>/dev/null \
        | awk '/^latency average/ {l = $4} /^tps/ {t = $3} END {printf "%.0f %.2f", t, l}'
}
log "baseline: the log row in the reader's transaction ($T s, $C clients)"
inline=$(run /tmp/refuge_bench_inline.sql bench_prot)
log "durable: the log row committed by a worker first ($T s, $C clients)"
durable=$(run /tmp/refuge_bench_durable.sql bench_prot)
log "log_durably alone ($T s, $C clients)"
alone=$(run /tmp/refuge_bench_log.sql postgres)
rows=$(psql -XAt -d $DB -c "select count(*) from refuge.sensitive_read")
cat <<EOF

### Logged reads that survive rollback ($(date +%Y-%m-%d), \`bash test/bench/logged_reads.sh\`, $C clients, $T s each)

| read of an SGBV case note | reads/s | mean latency |
|---|---|---|
| baseline: log row in the reader's transaction (0.6.0, lost on rollback) | ${inline% *} | ${inline#* } ms |
| \`refuge.read_case_note\`: log committed by a background worker first | ${durable% *} | ${durable#* } ms |
| \`refuge.log_durably\` alone (worker start, insert, commit) | ${alone% *} | ${alone#* } ms |

$rows log rows written; fsync and synchronous_commit on.
EOF
rm -f /tmp/refuge_bench_durable.sql /tmp/refuge_bench_inline.sql /tmp/refuge_bench_log.sql
