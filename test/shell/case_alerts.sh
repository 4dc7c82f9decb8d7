#!/usr/bin/env bash
# Case alerts reach an application that LISTENs (refuge_case_alert), and the
# audit chain's sealer never makes writers wait.
set -u
source "$(dirname "$0")/../lib/tap.sh"
DB=refuge_case_alerts
fresh_db $DB
q $DB "create extension refuge cascade" >/dev/null 2>&1
psql -X -q -v ON_ERROR_STOP=1 -d $DB >/dev/null <<'SQL'
select refuge.create_operation('KEN', 'KEN', 'Kenya');
select refuge.create_site('KEN', 'KAKUMA', 'Kakuma', 'CAMP', 34.85, 3.72);
create table public.c as
select (refuge.open_case('VOLREP', (refuge.register_group('{"operation": "KEN", "site": "KAKUMA", "registration_level": "BASIC",
    "population_type": "REF", "members": [{"relationship": "PA", "given_name": "Achol", "sex": "F"}]}')
    -> 'members' -> 0 ->> 'individual_id')::uuid) ->> 'case_id')::uuid as id;
SQL

# a listening session receives the flag and the overdue alert, with no personal data
out=$(psql -X -q -d $DB 2>&1 <<'SQL'
listen refuge_case_alert;
select refuge.flag_case(id, 'Achol reports threats', 'refuge_protection', 'HIGH') is not null from public.c;
update refuge.process_case set due_at = now() - interval '1 day';
select refuge.check_overdue();
SQL
)
# payloads are the alerts' uuids, nothing else; the details come from
# refuge.alert_details() under the caller's rights
payloads=$(echo "$out" | sed -n 's/^Asynchronous notification "refuge_case_alert" with payload "\([^"]*\)" received.*/\1/p')
is "$(echo "$payloads" | grep -cE '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')" "2" \
   "LISTEN refuge_case_alert receives two notifications whose payload is an opaque uuid"
kinds=$(for p in $payloads; do q $DB "select refuge.alert_details('$p') ->> 'kind'"; done | sort | tr '\n' ' ')
is "$kinds" "FLAG OVERDUE " "refuge.alert_details() tells the flag from the overdue alert"
echo "$out" | grep 'Asynchronous notification' | grep -qiE 'Achol|VOLREP|KEN-|kind|module'
ok $(( ! $? )) "alert payloads carry no personal data, case number, module or kind"
is "$(q $DB "select count(*) from refuge.case_alert")" "2" "alerts are rows too"

# a sealer holding its lock (transaction open) does not block a writer
psql -X -q -d $DB -c "begin" -c "select refuge.seal_audit()" -c "select pg_sleep(4)" -c "commit" >/dev/null 2>&1 &
sealer=$!
sleep 1
start=$(date +%s%N)
PGOPTIONS="-c statement_timeout=3s" q $DB "select refuge.transition_case(id, 'SIGN_VRF', '{\"vrf_signed_on\": \"2026-11-01\", \"intended_return_country\": \"SSD\"}') ->> 'state' from public.c" > /tmp/refuge_ca.out 2>&1
rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
is "$rc $(cat /tmp/refuge_ca.out)" "0 VRF_SIGNED" "a transition commits while a sealer holds the chain ($ms ms)"
# a second sealer waits for the first, then seals what it left (nothing is sealed twice)
q $DB "select refuge.seal_audit() ->> 'sealed'" >/dev/null
wait $sealer
is "$(q $DB "select (v ->> 'intact') || ' ' || (v ->> 'unsealed_rows') from refuge.verify_audit() v")" "true 0" \
   "after both sealers the chain is intact and everything finished is sealed"
is "$(q $DB "select count(*) = count(distinct audit_id) and max(seq) = count(*) from refuge.audit_seal")" "t" \
   "every audit row sealed once, sequence without gaps"
# REPEATABLE READ: sealing refuses, verifying still verifies
is "$(psql -X -At -d $DB -c "begin isolation level repeatable read" -c "select refuge.verify_audit() ->> 'intact'" -c "commit" 2>&1 | sed -n 2p)" \
   "true" "verify_audit under REPEATABLE READ verifies without sealing"
psql -X -At -d $DB -c "begin isolation level repeatable read" -c "select refuge.seal_audit()" -c "commit" 2>&1 | grep -q "run it under READ COMMITTED"
ok $? "seal_audit under REPEATABLE READ is refused with a clear error"
rm -f /tmp/refuge_ca.out
q postgres "drop database $DB" >/dev/null
exit 0
