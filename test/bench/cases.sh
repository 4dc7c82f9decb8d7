#!/usr/bin/env bash
# Case management and the audit chain (issue 6).
#
# 1. Transitions: BENCH_CASES RSD cases (default 20,000, one per registered
#    person, bulk-loaded) are moved one step each (ASSIGN_MODALITY) through
#    refuge.transition_case by an eligibility officer's login from 2 clients
#    (pgbench).  Same-run baseline: the same change written directly (lock
#    the case, update it, insert the case event) by a superuser, with the
#    same audit triggers; the ratio is what authorisation, the workflow
#    lookup and validation cost.
# 2. The audit chain: BENCH_AUDIT_ROWS audit rows (default 1,000,000, shaped
#    like the rows of a transition) are sealed by refuge.seal_audit() and the
#    chain is recomputed by refuge.verify_audit().  Same-run baseline: hashing
#    every row once through a canonical form built in SQL (what the first
#    version did), beside the C canonical form the chain uses.
#
# Prints a Markdown block for test/bench/RESULTS.md.
set -u
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
cd "$REFUGE_ROOT"
N=${BENCH_CASES:-20000}
A=${BENCH_AUDIT_ROWS:-1000000}
DB=refuge_bench_cases

ensure_packages
build_install
REFUGE_SERVER_OPTS="-c shared_buffers=2GB -c max_wal_size=8GB" cluster_start bench "${REFUGE_BENCH_PORT:-54331}"
trap cluster_stop EXIT
export PGOPTIONS="-c client_min_messages=warning"
PGBENCH="$PGBIN/pgbench"

psql -qX -d postgres -c "drop database if exists $DB" -c "create database $DB"
psql -qX -d $DB -v ON_ERROR_STOP=1 -c "create extension refuge cascade" >/dev/null || die "set-up failed"
log "loading $N people with an open RSD case each"
psql -qX -d $DB -v ON_ERROR_STOP=1 >/dev/null <<SQL || die "load failed"
do \$\$ begin
  if not exists (select 1 from pg_roles where rolname = 'bench_rsd') then create role bench_rsd login; end if;
end \$\$;
grant refuge_rsd to bench_rsd;
select refuge.create_operation('KEN', 'KEN', 'Kenya');
select refuge.create_site('KEN', 'KAKUMA', 'Kakuma', 'CAMP');
select refuge.assign_staff('bench_rsd', 'KEN');
set row_security = off;  -- a bulk load: recorded per statement in refuge.audit_bulk_load
insert into refuge.individual (id, number, operation_id, site_id, given_name, sex, population_type, registration_level)
select gen_random_uuid(), 'B-' || i, o.id, s.id, 'Person' || i, 'F', 'ASY', 'BASIC'
  from generate_series(1, 2 * $N) i, refuge.operation o, refuge.site s;
insert into refuge.process_case (number, module, operation_id, site_id, principal_id, state, due_at)
select 'KEN-RSD-26-' || lpad(row_number() over (order by i.number)::text, 7, '0'), 'RSD', i.operation_id, i.site_id, i.id,
       'REGISTERED', now() + interval '14 days'
  from refuge.individual i;
insert into refuge.case_member (case_id, individual_id, role) select id, principal_id, 'PRINCIPAL' from refuge.process_case;
reset row_security;
create table public.bench_case (n bigint primary key, id uuid not null);
insert into public.bench_case select row_number() over (order by number), id from refuge.process_case;
create sequence public.api_seq;
create sequence public.raw_seq start $((N + 1));
grant usage on sequence public.api_seq to bench_rsd;
grant select on public.bench_case to bench_rsd;
analyze;
SQL

cat > /tmp/refuge_bench_api.sql <<'EOF'
select refuge.transition_case((select id from public.bench_case where n = (select nextval('public.api_seq'))),
                              'ASSIGN_MODALITY', '{"modality": "REGULAR"}');
EOF
cat > /tmp/refuge_bench_raw.sql <<'EOF'
with c as (select p.id, p.state from refuge.process_case p
            where p.id = (select id from public.bench_case where n = (select nextval('public.raw_seq'))) for update),
     u as (update refuge.process_case p set state = 'MODALITY_ASSIGNED', state_since = now(),
                  data = p.data || '{"modality": "REGULAR"}', due_at = now() + interval '30 days'
             from c where p.id = c.id returning p.id)
insert into refuge.case_event (case_id, actor, action, from_state, to_state, data)
select id, current_user, 'ASSIGN_MODALITY', 'REGISTERED', 'MODALITY_ASSIGNED', '{"modality": "REGULAR"}' from u;
EOF
log "transitions: $N through transition_case (2 clients), $N written directly (baseline)"
api=$(PGUSER=bench_rsd "$PGBENCH" -n -c 2 -j 2 -t $((N / 2)) -r -f /tmp/refuge_bench_api.sql $DB 2>&1)
raw=$("$PGBENCH" -n -c 2 -j 2 -t $((N / 2)) -r -f /tmp/refuge_bench_raw.sql $DB 2>&1)
api_tps=$(echo "$api" | sed -n 's/^tps = \([0-9]*\).*/\1/p')
raw_tps=$(echo "$raw" | sed -n 's/^tps = \([0-9]*\).*/\1/p')
api_lat=$(echo "$api" | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p')
raw_lat=$(echo "$raw" | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p')
moved=$(psql -XAt -d $DB -c "select count(*) from refuge.process_case p where state = 'MODALITY_ASSIGNED' and exists
    (select 1 from refuge.case_event e where e.case_id = p.id and e.actor = 'bench_rsd')")
events=$(psql -XAt -d $DB -c "select count(*) from refuge.case_event where action = 'ASSIGN_MODALITY' and actor = 'bench_rsd'")

log "audit chain: $A audit rows, sealed then verified"
psql -qX -d $DB -v ON_ERROR_STOP=1 >/dev/null <<SQL || die "audit load failed"
alter table refuge.audit_seal disable trigger no_truncate;  -- (TRUNCATE is refused otherwise)
truncate refuge.audit_seal;
alter table refuge.audit_seal enable always trigger no_truncate;
set row_security = off;  -- a bulk load: recorded per statement in refuge.audit_bulk_load
insert into refuge.audit_log (actor, operation_id, table_name, row_id, action, old_data, new_data)
select 'bench_rsd', o.id, 'process_case', gen_random_uuid(), 'U',
       jsonb_build_object('state', 'REGISTERED', 'due_at', now(), 'updated_at', now()),
       jsonb_build_object('state', 'MODALITY_ASSIGNED', 'data', jsonb_build_object('modality', 'REGULAR'),
                          'due_at', now() + interval '30 days', 'updated_at', now(), 'state_since', now())
  from generate_series(1, $A - (select count(*) from refuge.audit_log)) g, refuge.operation o;
SQL
rows=$(psql -XAt -d $DB -c "select count(*) from refuge.audit_log")
# baseline: each row hashed once through the canonical form the first version built in SQL
hash_s=$(timed_sql $DB "select count(sha256(convert_to(jsonb_build_array(a.id, a.txid,
    to_char(a.at at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), a.actor, a.operation_id, a.table_name, a.row_id,
    a.action, a.old_data, a.new_data)::text, 'UTF8'))) from refuge.audit_log a")
digest_s=$(timed_sql $DB "select count(refuge.audit_digest(a)) from refuge.audit_log a")
seal_s=$(timed_sql $DB "select refuge.seal_audit()")
verify_s=$(timed_sql $DB "select refuge.verify_audit()")
intact=$(psql -XAt -d $DB -c "select (v ->> 'intact') || ' ' || (v ->> 'sealed_rows') from refuge.verify_audit() v")
seal_size=$(psql -XAt -d $DB -c "select pg_size_pretty(pg_total_relation_size('refuge.audit_seal'))")
log_size=$(psql -XAt -d $DB -c "select pg_size_pretty(pg_total_relation_size('refuge.audit_log'))")

cat <<EOF

### Case management and the audit chain ($(date +%Y-%m-%d), $(nproc) cores, \`bash test/bench/cases.sh\`)

| measure | figure |
|---|---|
| transitions through \`transition_case\` (officer login, 2 clients) | **$api_tps /s**, mean $api_lat ms |
| same change written directly (superuser, same triggers): baseline | $raw_tps /s, mean $raw_lat ms |
| ratio API / direct | $(awk -v a="$api_tps" -v b="$raw_tps" 'BEGIN {printf "%.2f", a / b}') |
| cases moved / events written by the API | $moved / $events (of $N) |
| audit rows | $rows (audit_log $log_size, seals $seal_size) |
| hash every row once through a canonical form built in SQL (the first version's): baseline | $hash_s s ($(awk -v a="$rows" -v b="$hash_s" 'BEGIN {printf "%.0f", a / b}') rows/s) |
| hash every row once through the C canonical form (\`audit_digest\`) | $digest_s s ($(awk -v a="$rows" -v b="$digest_s" 'BEGIN {printf "%.0f", a / b}') rows/s) |
| \`seal_audit()\` (sequential chain) | **$seal_s s** ($(awk -v a="$rows" -v b="$seal_s" 'BEGIN {printf "%.0f", a / b}') rows/s), $(awk -v a="$seal_s" -v b="$hash_s" 'BEGIN {printf "%.1f", a / b}') x the baseline |
| \`verify_audit()\` (recompute, set-based) | **$verify_s s** ($(awk -v a="$rows" -v b="$verify_s" 'BEGIN {printf "%.0f", a / b}') rows/s), $(awk -v a="$verify_s" -v b="$hash_s" 'BEGIN {printf "%.1f", a / b}') x the baseline; intact, sealed: $intact |
EOF
rm -f /tmp/refuge_bench_api.sql /tmp/refuge_bench_raw.sql
