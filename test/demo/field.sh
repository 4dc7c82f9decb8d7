# The demo's field-site scene (sourced by demo.sh, with HQ's cluster and
# database set up): a second cluster becomes field site DADAAB (Kenya), takes
# its first copy from HQ, loses its link, registers and enrols families
# offline (one of them someone already enrolled in Uganda), and catches up;
# HQ searches each field enrolment against everyone and the outcome returns.
HQ_CONN="host=$PGHOST port=$PGPORT dbname=refuge_demo user=postgres"
FIELD_PORT=${REFUGE_DEMO_FIELD_PORT:-54332}
HQ_PGHOST=$PGHOST HQ_PGPORT=$PGPORT HQ_CLUSTER=$REFUGE_CLUSTER
cluster_start demo_field "$FIELD_PORT"
FIELD_PGHOST=$PGHOST FIELD_CLUSTER=$REFUGE_CLUSTER
FIELD_CONN="host=$FIELD_PGHOST port=$FIELD_PORT dbname=refuge_demo user=postgres"
export PGHOST=$HQ_PGHOST PGPORT=$HQ_PGPORT REFUGE_CLUSTER=$HQ_CLUSTER
hq() { psql -qX -v ON_ERROR_STOP=1 -d refuge_demo "$@"; }
field() { psql -qX -v ON_ERROR_STOP=1 -h "$FIELD_PGHOST" -p "$FIELD_PORT" -d refuge_demo "$@"; }

# a field database left by an earlier run still subscribes: let it go first
if psql -qXAt -h "$FIELD_PGHOST" -p "$FIELD_PORT" -d postgres -c "select 1 from pg_database where datname = 'refuge_demo'" | grep -q 1; then
    field -c "select refuge.leave_hq()" >/dev/null 2>&1
fi
PGOPTIONS="-c client_min_messages=warning" psql -qX -h "$FIELD_PGHOST" -p "$FIELD_PORT" -d postgres \
    -c "drop database if exists refuge_demo" -c "create database refuge_demo" >/dev/null || die "field createdb failed"
field -c "set client_min_messages = warning" -c "create extension refuge cascade" >/dev/null || die "field extension failed"
field >/dev/null <<'SQL' || die "field logins failed"
do $$ begin
  if not exists (select 1 from pg_roles where rolname = 'clerk_dadaab') then create role clerk_dadaab login; end if;
  if not exists (select 1 from pg_roles where rolname = 'bio_dadaab') then create role bio_dadaab login; end if;
end $$;
grant refuge_registration to clerk_dadaab;
grant refuge_biometrics to bio_dadaab;
SQL

echo "== A field site: DADAAB (Kenya) gets its own cluster on port $FIELD_PORT; HQ first, then the site joins"
hq -c "select refuge.add_field_site('DADAAB', '$FIELD_CONN') - 'publication' - 'subscription' as added_at_hq" \
   -c "select refuge.set_nearby_operations('KEN', array['UGA']) as nearby"
start=$(date +%s.%N)
field -c "select refuge.join_hq('DADAAB', '$HQ_CONN') ->> 'node' as joined"
for _ in $(seq 600); do
    [ "$(field -At -c "select count(*) filter (where srsubstate not in ('r', 's')) = 0 and count(*) > 0
                        and exists (select 1 from refuge.sync_node where code = 'DADAAB') from pg_subscription_rel")" = t ] && break
    sleep 1
done
field >/dev/null <<'SQL'
select refuge.assign_staff('clerk_dadaab', 'KEN', 'DADAAB'), refuge.assign_staff('bio_dadaab', 'KEN', 'DADAAB');
SQL
awk -v a="$(date +%s.%N)" -v b="$start" 'BEGIN {printf "first copy from HQ: %.0f s\n", a - b}'
field -c "select (select count(*) from refuge.individual) as kenya_people_held,
                 (select count(*) from refuge.biometric_enrolment e join refuge.operation o on o.id = e.operation_id
                   where o.code = 'UGA') as uganda_templates_held,
                 (select count(*) from refuge.biometric_vault) as images_held"

echo "== The link goes down; Dadaab registers and enrols 20 families offline (one is a Ugandan refugee already enrolled there)"
hq -c "alter subscription refuge_up_dadaab disable" >/dev/null
field -c "alter subscription refuge_down_dadaab disable" >/dev/null
UGA_PERSON=$(hq -At -c "select q.person from demo.enrol_queue q join refuge.individual i on i.id = q.individual_id
                         join refuge.operation o on o.id = i.operation_id
                         join refuge.biometric_enrolment e on e.individual_id = i.id
                        where o.code = 'UGA' order by q.person limit 1")
field -v uga="$UGA_PERSON" <<'SQL'
create temp table offline (n int, id uuid, number text, decision text);
grant select, insert, update on offline to clerk_dadaab, bio_dadaab;
set role clerk_dadaab;
insert into offline (n, id, number)
select n, (r -> 'members' -> 0 ->> 'individual_id')::uuid, r -> 'members' -> 0 ->> 'number'
  from generate_series(1, 20) n,
       lateral refuge.register_group(jsonb_build_object('operation', 'KEN', 'site', 'DADAAB', 'registration_level', 'BASIC',
           'population_type', 'REF', 'members', jsonb_build_array(
               jsonb_build_object('relationship', 'PA', 'given_name', 'Field' || n, 'family_name', 'Offline', 'sex', 'F',
                                  'date_of_birth', '1988-03-01'),
               jsonb_build_object('relationship', 'DAU', 'given_name', 'Child' || n, 'family_name', 'Offline', 'sex', 'F',
                                  'date_of_birth', '2019-07-01')))) r;
reset role;
set role bio_dadaab;
update offline set decision = refuge.enrol_biometrics(id,
    refuge.synthetic_templates(2026, case when n = 20 then :uga else 90000 + n end, 5)) ->> 'decision';
select min(number) as first_number, max(number) as last_number, decision as decided_offline,
       refuge.global_decision(id) as global_decision, count(*)
  from offline group by decision, refuge.global_decision(id) order by count(*) desc;
reset role;
SQL
field -c "select peer, direction, connected, lag_bytes, state from refuge.sync_status()"

echo "== The link returns: everything arrives; HQ searches each field enrolment against everyone enrolled anywhere"
start=$(date +%s.%N)
hq -c "alter subscription refuge_up_dadaab enable" >/dev/null
field -c "alter subscription refuge_down_dadaab enable" >/dev/null
for _ in $(seq 1200); do
    [ "$(hq -At -c "select count(*) from refuge.global_check where field_node = 'DADAAB'")" -ge 20 ] &&
        [ "$(field -At -c "select count(*) from refuge.global_check")" -ge 20 ] && break
    sleep 0.5
done
awk -v a="$(date +%s.%N)" -v b="$start" 'BEGIN {printf "caught up (both ways, with the global decisions): %.1f s\n", a - b}'
hq -c "select g.decision as global_decision, count(*), count(a.id) as fraud_alerts
         from refuge.global_check g left join refuge.fraud_alert a on a.id = g.fraud_alert_id
        where g.field_node = 'DADAAB' group by 1 order by 1"
field -c "select peer, direction, connected, caught_up, lag_bytes, state from refuge.sync_status()"
export PGHOST=$HQ_PGHOST PGPORT=$HQ_PGPORT REFUGE_CLUSTER=$HQ_CLUSTER
