#!/usr/bin/env bash
# Many concurrent clients enrol a population in which every person comes
# three times (the enrolment, then the same person re-registered under other
# names in another operation), interleaved with people who come once.  The
# three records of a person are queued side by side, so different clients
# claim them at the same moment.  Duplicates admitted (a person with two
# identities) must be 0; people wrongly blocked must be 0.  Also: a blocked
# enrolment is announced with NOTIFY on refuge_fraud_alert.
set -u
source "$(dirname "$0")/../lib/tap.sh"
PGBENCH="${PGBIN:-$(pg_config --bindir)}/pgbench"
CLIENTS=${REFUGE_STRESS_CLIENTS:-8}
PERSONS=${REFUGE_STRESS_PERSONS:-40}     # each enrolled 3 times
SINGLES=${REFUGE_STRESS_SINGLES:-40}     # each enrolled once
SCRIPT=$(mktemp /tmp/refuge-stress.XXXXXX.sql)

fresh_db refuge_stress
q refuge_stress "create extension refuge cascade" >/dev/null 2>&1
psql -X -q -v ON_ERROR_STOP=1 -v persons="$PERSONS" -v singles="$SINGLES" -d refuge_stress >/dev/null <<'SQL'
select refuge.create_operation('KEN', 'KEN', 'Kenya');
select refuge.create_site('KEN', 'KAKUMA', 'Kakuma', 'CAMP');
select refuge.create_operation('UGA', 'UGA', 'Uganda');
select refuge.create_site('UGA', 'NAKIVALE', 'Nakivale', 'CAMP');
-- queue position n; synthetic person; capture; operation
create table public.stress_people (n int primary key, person int, capture int, op text, single boolean, id uuid);
insert into public.stress_people (n, person, capture, op, single)
select row_number() over (order by slot, k), person, capture, op, single
  from (select p * 4 as slot, k, p as person, k as capture, case when k = 1 then 'UGA' else 'KEN' end as op, false as single
          from generate_series(1, :persons) p, generate_series(0, 2) k
        union all
        select s * 4 + 2, 0, 1000 + s, 0, 'KEN', true from generate_series(1, :singles) s) x;
update public.stress_people p
   set id = (refuge.register_group(jsonb_build_object('operation', p.op,
             'site', case p.op when 'KEN' then 'KAKUMA' else 'NAKIVALE' end, 'registration_level', 'BASIC',
             'population_type', 'REF', 'members', jsonb_build_array(jsonb_build_object('relationship', 'PA',
             'given_name', 'Stress' || p.n, 'sex', 'M', 'date_of_birth', '1990-01-01')))) -> 'members' -> 0 ->> 'individual_id')::uuid;
create table public.stress_queue (n int primary key);
insert into public.stress_queue select n from public.stress_people;
SQL
ok $? "$(q refuge_stress "select count(*) from public.stress_people") registrations queued ($PERSONS people x 3, $SINGLES once)"

# one transaction: claim the next queued record and enrol it
cat > "$SCRIPT" <<'SQL'
with claimed as (delete from public.stress_queue
                  where n = (select n from public.stress_queue order by n for update skip locked limit 1)
                 returning n)
select refuge.enrol_biometrics(p.id, refuge.synthetic_templates(77, p.person, p.capture)) ->> 'decision'
  from claimed c join public.stress_people p using (n);
SQL
total=$(q refuge_stress "select count(*) from public.stress_queue")
per_client=$(( (total + CLIENTS - 1) / CLIENTS + 2 ))
"$PGBENCH" -n -c "$CLIENTS" -j 2 -t "$per_client" -f "$SCRIPT" refuge_stress > /tmp/refuge_stress.log 2>&1
ok $? "pgbench: $CLIENTS clients, $per_client transactions each"
grep -E "tps|failed|aborted" /tmp/refuge_stress.log | sed 's/^/# /'
is "$(q refuge_stress "select count(*) from public.stress_queue")" "0" "every queued registration was processed"

is "$(q refuge_stress "select count(*) from (select p.person from public.stress_people p
        join refuge.biometric_enrolment e on e.individual_id = p.id and e.status = 'ENROLLED'
       where not p.single group by p.person having count(*) > 1) d")" "0" "duplicates admitted: 0"
is "$(q refuge_stress "select count(distinct p.person) || ' ' || count(*) from public.stress_people p
        join refuge.biometric_enrolment e on e.individual_id = p.id where not p.single")" "$PERSONS $PERSONS" \
   "every repeated person has exactly one identity"
is "$(q refuge_stress "select count(*) from public.stress_people p join refuge.biometric_capture c on c.individual_id = p.id
       where not p.single and c.decision = 'blocked'")" "$((PERSONS * 2))" "every re-registration was blocked"
is "$(q refuge_stress "select count(*) from public.stress_people p join refuge.biometric_enrolment e on e.individual_id = p.id
       where p.single")" "$SINGLES" "people who came once were all enrolled (no false block)"
is "$(q refuge_stress "select count(*) from refuge.fraud_alert where kind = 'duplicate_enrolment'")" "$((PERSONS * 2))" \
   "one fraud alert per blocked attempt"
is "$(q refuge_stress "select refuge.fingerprint_index_verify('refuge.biometric_finger_search_1') = count(*) from refuge.biometric_enrolment where status = 'ENROLLED'")" \
   "t" "the finger index agrees with the gallery after concurrent inserts"

# NOTIFY: the alert id arrives on channel refuge_fraud_alert
q refuge_stress "select refuge.register_group('{\"operation\": \"KEN\", \"site\": \"KAKUMA\", \"registration_level\": \"BASIC\",
  \"population_type\": \"REF\", \"members\": [{\"relationship\": \"PA\", \"given_name\": \"Listener\", \"sex\": \"F\"}]}')" >/dev/null
out=$(psql -X -q -At -d refuge_stress -c "listen refuge_fraud_alert" \
        -c "select refuge.enrol_biometrics(id, refuge.synthetic_templates(77, 1, 5)) ->> 'alert_id' from refuge.individual where given_name = 'Listener'" \
        -c "select 1" 2>&1)
alert=$(echo "$out" | head -1)
echo "$out" | grep -q "Asynchronous notification \"refuge_fraud_alert\" with payload \"$alert\""
ok $? "a blocked enrolment is announced on refuge_fraud_alert with the alert id"

rm -f "$SCRIPT"
q postgres "drop database refuge_stress" >/dev/null
exit 0
