#!/usr/bin/env bash
# The cost of case keys (issue 18, 0.15.0).  Since 0.15.0 the audit trail seals
# a case file's values under a key of the case's own.  Two databases on one
# durable cluster hold the same BENCH_CASES RSD cases (bulk-loaded, one per
# person): "clear" without a vault key (audit values in clear) and "keyed"
# with one.  An eligibility officer's login moves every case two steps through
# refuge.transition_case from 2 clients (pgbench): ASSIGN_MODALITY (the
# case's first audited change: its key is made) then SCHEDULE_INTERVIEW (the
# key exists), runs alternating clear/keyed.  Then the keyed database closes
# BENCH_ERASE of the cases (ABANDON) and erases their principals in one
# transaction: each erasure rewrites the file and destroys the case's key
# besides the person's.  Prints a Markdown block for RESULTS.md.
set -u
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
cd "$REFUGE_ROOT"
N=${BENCH_CASES:-10000}
ERASE=${BENCH_ERASE:-2000}
OUT="$REFUGE_ROOT/test/bench/out"
mkdir -p "$OUT"

ensure_packages
[ -n "${BENCH_NO_INSTALL:-}" ] || build_install
REFUGE_SERVER_OPTS="-c fsync=on -c synchronous_commit=on -c shared_buffers=1GB -c max_wal_size=4GB" \
    cluster_start bench "${REFUGE_BENCH_PORT:-54335}"
trap cluster_stop EXIT

datadir=$(psql -XAtd postgres -c "show data_directory")
key="$datadir/refuge_bench_vault.key"
as_owner sh -c "head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > '$key' && chmod 600 '$key'"
psql -qXd postgres -c "do \$\$ begin if not exists (select 1 from pg_roles where rolname = 'bench_rsd') then create role bench_rsd login; end if; end \$\$"

for db in cases_clear cases_keyed; do
    PGOPTIONS="-c client_min_messages=warning" psql -qX -d postgres -c "drop database if exists $db" -c "create database $db"
    psql -qX -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<SQL || die "set-up of $db failed"
set client_min_messages = warning;
create extension refuge cascade;
grant refuge_rsd to bench_rsd;
select refuge.create_operation('KEN', 'KEN', 'Kenya');
select refuge.create_site('KEN', 'KAKUMA', 'Kakuma', 'CAMP');
select refuge.assign_staff('bench_rsd', 'KEN');
set row_security = off;  -- a bulk load: recorded per statement in refuge.audit_bulk_load
insert into refuge.individual (id, number, operation_id, site_id, given_name, family_name, sex, population_type,
                               registration_level)
select gen_random_uuid(), 'B-' || i, o.id, s.id, 'Person' || i, 'Family' || i, 'F', 'ASY', 'BASIC'
  from generate_series(1, $N) i, refuge.operation o, refuge.site s;
insert into refuge.process_case (number, module, operation_id, site_id, principal_id, state, due_at)
select 'KEN-RSD-26-' || lpad(row_number() over (order by i.number)::text, 7, '0'), 'RSD', i.operation_id, i.site_id, i.id,
       'REGISTERED', now() + interval '14 days'
  from refuge.individual i;
insert into refuge.case_member (case_id, individual_id, role) select id, principal_id, 'PRINCIPAL' from refuge.process_case;
reset row_security;
create table public.bench_case (n bigint primary key, id uuid not null, principal uuid not null);
insert into public.bench_case select row_number() over (order by number), id, principal_id from refuge.process_case;
create sequence public.step_seq;
grant usage on sequence public.step_seq to bench_rsd;
grant select on public.bench_case to bench_rsd;
analyze;
SQL
done

# the key server-wide for the keyed database, as deployed (a superuser-only setting)
psql -qXd postgres -c "alter database cases_keyed set refuge.vault_key_file = '$key'"

cat > "$OUT/case_keys_assign.sql" <<'EOF'
select refuge.transition_case((select id from public.bench_case where n = (select nextval('public.step_seq'))),
                              'ASSIGN_MODALITY', '{"modality": "REGULAR"}', 'assigned after the screening interview');
EOF
cat > "$OUT/case_keys_schedule.sql" <<'EOF'
select refuge.transition_case((select id from public.bench_case where n = (select nextval('public.step_seq'))),
                              'SCHEDULE_INTERVIEW', '{"interview_date": "2027-01-15", "interpreter_language": "Nuer"}');
EOF

run() {  # run DB SCRIPT -> transitions/s
    psql -qXd "$1" -c "select setval('public.step_seq', 1, false)" >/dev/null
    PGUSER=bench_rsd PGOPTIONS="-c client_min_messages=warning" pgbench -n -c 2 -j 2 -t $((N / 2)) \
        -f "$OUT/case_keys_$2.sql" "$1" > "$OUT/case_keys_$1_$2.txt" 2>&1 \
        || { cat "$OUT/case_keys_$1_$2.txt" >&2; return 1; }
    sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$OUT/case_keys_$1_$2.txt" | awk '{printf "%.1f", $1}'
}
log "$N transitions ASSIGN_MODALITY per database (the case's key made), clear then keyed"
a_clear=$(run cases_clear assign) || die "pgbench failed"
a_keyed=$(run cases_keyed assign) || die "pgbench failed"
log "$N transitions SCHEDULE_INTERVIEW per database (the key exists), clear then keyed"
s_clear=$(run cases_clear schedule) || die "pgbench failed"
s_keyed=$(run cases_keyed schedule) || die "pgbench failed"
keys=$(psql -XAtd cases_keyed -c "select count(*) from refuge.person_key")

log "closing $ERASE cases and erasing their principals (one transaction)"
erase=$(PGOPTIONS="-c client_min_messages=warning" psql -XAt -d cases_keyed -v ON_ERROR_STOP=1 <<SQL
\set QUIET on
select count(refuge.transition_case(c.id, 'ABANDON')) from public.bench_case c where c.n <= $ERASE \g /dev/null
select clock_timestamp() as t0 \gset
select count(refuge.erase_individual(c.principal, 'request of the person')) from public.bench_case c where c.n <= $ERASE \g /dev/null
select round(extract(epoch from clock_timestamp() - :'t0'::timestamptz) * 1000) || ' ' ||
       (select count(*) from refuge.person_key where wrapped is null) || ' ' ||
       (select count(*) from refuge.case_note n join public.bench_case c on c.id = n.case_id where c.n <= $ERASE) || ' ' ||
       (select count(*) from refuge.case_event e join public.bench_case c on c.id = e.case_id
         where c.n <= $ERASE and e.reason is not null and e.reason <> '(erased with the record)') || ' ' ||
       (select count(*) from refuge.case_event e join public.bench_case c on c.id = e.case_id
         where c.n <= $ERASE and e.data ? 'interpreter_language');
SQL
) || die "erasure failed"
read -r erase_ms destroyed notes_left reasons_left text_left <<< "$erase"
verify=$(psql -XAtd cases_keyed -c "select refuge.seal_audit() is not null" \
         -c "select refuge.verify_audit() ->> 'intact'" | tail -1)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", b / a}'; }
cat <<EOF

### Case keys (0.15.0) ($(date +%F), $(nproc) cores, $(psql -XAtd postgres -c "select split_part(version(), ' on ', 1)"))

Command: \`bash test/bench/case_keys.sh\` ($N RSD cases per database, 2 pgbench clients, fsync and synchronous_commit on).

| transitions/s | without keys | with case keys | ratio |
|---|---:|---:|---:|
| ASSIGN_MODALITY (first audited change: the case's key made) | $a_clear | $a_keyed | $(ratio "$a_clear" "$a_keyed") |
| SCHEDULE_INTERVIEW (the key exists) | $s_clear | $s_keyed | $(ratio "$s_clear" "$s_keyed") |

Keys in the keyed database: $keys (cases and people). Erasing $ERASE principals of closed
cases of their own in one transaction: $erase_ms ms ($(awk -v a="$erase_ms" -v n="$ERASE" 'BEGIN {printf "%.1f", a / n}') ms per person);
keys destroyed: $destroyed; event reasons left in clear: $reasons_left; free-text fields left: $text_left;
the chain verifies: $verify.
EOF
