#!/usr/bin/env bash
# Erasure and the cost of per-person keys (issue 18).  Two databases on one
# durable cluster register the same families (pgbench, 2 clients): "clear"
# without a vault key (audit values in clear, as before 0.13.0) and "keyed"
# with one (every person's audit values sealed under their own key).  Runs
# alternate clear/keyed so that both see the same machine.  Then each
# database's audit chain is sealed and verified (the cost of the larger
# sealed rows), and the keyed one erases BENCH_ERASE people in one
# transaction and verifies again.  Prints a Markdown block for RESULTS.md.
set -u
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
cd "$REFUGE_ROOT"
ROUNDS=${BENCH_ROUNDS:-2}
PER_ROUND=${BENCH_FAMILIES_PER_ROUND:-3000}
ERASE=${BENCH_ERASE:-10000}
CLIENTS=2
OUT="$REFUGE_ROOT/test/bench/out"
mkdir -p "$OUT"

ensure_packages
[ -n "${BENCH_NO_INSTALL:-}" ] || build_install
REFUGE_SERVER_OPTS="-c fsync=on -c synchronous_commit=on -c full_page_writes=on -c shared_buffers=1GB -c max_wal_size=4GB" \
    cluster_start bench "${REFUGE_BENCH_PORT:-54335}"
trap cluster_stop EXIT

datadir=$(psql -XAtd postgres -c "show data_directory")
key="$datadir/refuge_bench_vault.key"
as_owner sh -c "head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > '$key' && chmod 600 '$key'"

for db in erasure_clear erasure_keyed; do
    PGOPTIONS="-c client_min_messages=warning" psql -qX -d postgres -c "drop database if exists $db" -c "create database $db"
    psql -qX -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<'SQL' || die "set-up of $db failed"
set client_min_messages = warning;
create extension refuge cascade;
select refuge.create_operation('KEN', 'KEN', 'Kenya'), refuge.create_operation('UGA', 'UGA', 'Uganda');
select refuge.create_site('KEN', 'KAKUMA', 'Kakuma', 'CAMP', 34.85, 3.72), refuge.create_site('KEN', 'DADAAB', 'Dadaab', 'CAMP', 40.31, 0.06),
       refuge.create_site('KEN', 'NAIROBI', 'Nairobi', 'URBAN', 36.82, -1.29), refuge.create_site('UGA', 'NAKIVALE', 'Nakivale', 'CAMP', 30.95, -0.78),
       refuge.create_site('UGA', 'KYANGWALI', 'Kyangwali', 'CAMP', 30.75, 1.21), refuge.create_site('UGA', 'KAMPALA', 'Kampala', 'URBAN', 32.58, 0.35);
\i test/demo/synthetic.sql
create schema bench;
select setseed(0.7);
-- the demo generator's families, documents kept out so that they register again
create table bench.payload as
select g as id, jsonb_set(p, '{members}', (select jsonb_agg(m - 'documents') from jsonb_array_elements(p -> 'members') m)) as p
  from generate_series(1, 5000) g, lateral (select demo.family_payload(case when g % 5 < 3 then 'KEN' else 'UGA' end) as p) x;
alter table bench.payload add primary key (id);
SQL
done

run() {  # run DB KEYED -> families/s
    local opts="-c client_min_messages=warning"
    [ "$2" = 1 ] && opts="$opts -c refuge.vault_key_file=$key"
    PGOPTIONS="$opts" pgbench -n -c $CLIENTS -j $CLIENTS -t $((PER_ROUND / CLIENTS)) -f test/bench/register_family.sql "$1" \
        > "$OUT/erasure_$1.txt" 2>&1 || { cat "$OUT/erasure_$1.txt"; die "pgbench on $1 failed"; }
    sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$OUT/erasure_$1.txt"
}
clear_tps=()
keyed_tps=()
for r in $(seq 1 "$ROUNDS"); do
    log "round $r: $PER_ROUND families without keys, then with"
    clear_tps+=("$(run erasure_clear 0)")
    keyed_tps+=("$(run erasure_keyed 1)")
done
mean() { printf '%s\n' "$@" | awk '{s += $1} END {printf "%.1f", s / NR}'; }
clear_mean=$(mean "${clear_tps[@]}")
keyed_mean=$(mean "${keyed_tps[@]}")

kopt="-c refuge.vault_key_file=$key"
verify() {  # verify DB [options] -> "rows ms_seal ms_verify intact"
    PGOPTIONS="${2:-}" psql -XAt -d "$1" -v ON_ERROR_STOP=1 <<'SQL'
\set QUIET on
select clock_timestamp() as t0 \gset
select refuge.seal_audit() is not null \g /dev/null
select clock_timestamp() as t1 \gset
select refuge.verify_audit() ->> 'intact' as intact \gset
select (select count(*) from refuge.audit_log) || ' ' ||
       round(extract(epoch from (:'t1'::timestamptz - :'t0'::timestamptz)) * 1000) || ' ' ||
       round(extract(epoch from (clock_timestamp() - :'t1'::timestamptz)) * 1000) || ' ' || :'intact';
SQL
}
log "sealing and verifying both audit trails"
read -r clear_rows clear_seal clear_verify clear_intact < <(verify erasure_clear)
read -r keyed_rows keyed_seal keyed_verify keyed_intact < <(verify erasure_keyed "$kopt")
sizes=$(for db in erasure_clear erasure_keyed; do
    psql -XAt -d "$db" -c "select round(pg_total_relation_size('refuge.audit_log') / 1048576.0) "; done | paste -sd' ')
sealed_share=$(psql -XAt -d erasure_keyed -c "select round(100.0 * count(*) filter (where new_data ? '\$sealed' or old_data ? '\$sealed') / count(*), 1) from refuge.audit_log")
people=$(psql -XAt -d erasure_keyed -c "select count(*) from refuge.individual")

log "erasing $ERASE people in one transaction"
erase=$(PGOPTIONS="$kopt" psql -XAt -d erasure_keyed -v ON_ERROR_STOP=1 -v n="$ERASE" <<'SQL'
\set QUIET on
create temp table victim as select id from refuge.individual where status = 'ACTIVE' order by id limit :n;
select clock_timestamp() as t0 \gset
select count(refuge.erase_individual(id, 'benchmark: erasure at the person''s request')) as erased from victim \gset
select :erased || ' ' || round(extract(epoch from (clock_timestamp() - :'t0'::timestamptz)) * 1000);
SQL
) || die "erasure failed"
read -r erased erase_ms <<<"$erase"
read -r after_rows after_seal after_verify after_intact < <(verify erasure_keyed "$kopt")
left=$(psql -XAt -d erasure_keyed -c "select count(*) from refuge.individual_name n join refuge.individual i on i.id = n.individual_id where i.status = 'ERASED'")

cat <<EOF

### Erasure and per-person keys ($(date -u +%Y-%m-%d), $(nproc) cores, PostgreSQL $(psql -XAtd postgres -c "show server_version"))

Two databases on one cluster (fsync and synchronous_commit on) register the
same demo families with \`refuge.register_group\` ($CLIENTS pgbench clients,
$ROUNDS rounds of $PER_ROUND families each, alternating): without a vault key
(audit values in clear) and with one (each person's audit values sealed
under their own key, AES-256-GCM).

| | without keys | with per-person keys | ratio |
|---|---:|---:|---:|
| registration, families/s (rounds: ${clear_tps[*]} / ${keyed_tps[*]}) | $clear_mean | $keyed_mean | $(awk -v a="$keyed_mean" -v b="$clear_mean" 'BEGIN {printf "%.3f", a / b}') |
| audit rows | $clear_rows | $keyed_rows ($sealed_share % sealed) | |
| audit_log size (table + indexes), MB | ${sizes% *} | ${sizes#* } | |
| \`seal_audit()\` of the whole trail, ms | $clear_seal | $keyed_seal | $(awk -v a="$keyed_seal" -v b="$clear_seal" 'BEGIN {printf "%.2f", a / b}') |
| \`verify_audit()\`, ms | $clear_verify ($clear_intact) | $keyed_verify ($keyed_intact) | $(awk -v a="$keyed_verify" -v b="$clear_verify" 'BEGIN {printf "%.2f", a / b}') |

Erasing $erased of the $people people with \`refuge.erase_individual\` in one
transaction: $erase_ms ms ($(awk -v a="$erase_ms" -v b="$erased" 'BEGIN {printf "%.2f", a / b}') ms per person). After it the
trail ($after_rows rows) seals in $after_seal ms and verifies in $after_verify ms
(intact: $after_intact); names left on erased records: $left.
Command: \`REFUGE_BENCH_PORT=54335 bash test/bench/erasure.sh\`
EOF
