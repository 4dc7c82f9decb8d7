#!/usr/bin/env bash
# The limits the README's "Security model" states are the ones that exist:
# EXPLAIN ANALYZE shows how many rows row-level security hid from a role that
# may select from a table (not their content); the same question through an
# API function shows no hidden rows; LISTEN payloads are opaque ids.  And the
# README states them.
set -u
source "$(dirname "$0")/../lib/tap.sh"
README="$(dirname "$0")/../../README.md"
DB=refuge_security_model
fresh_db $DB
q $DB "create extension refuge cascade" >/dev/null 2>&1
psql -X -q -v ON_ERROR_STOP=1 -d $DB >/dev/null <<'SQL'
set client_min_messages = warning;
do $$ begin
  if not exists (select from pg_roles where rolname = 'sm_clerk') then create role sm_clerk; end if;
end $$;
grant refuge_supervisor to sm_clerk;
select refuge.create_operation('KEN', 'KEN', 'Kenya'), refuge.create_operation('UGA', 'UGA', 'Uganda');
select refuge.create_site('KEN', 'KAKUMA', 'Kakuma', 'CAMP'), refuge.create_site('UGA', 'NAKIVALE', 'Nakivale', 'CAMP');
select refuge.assign_staff('sm_clerk', 'KEN');
select count(refuge.register_group(jsonb_build_object('operation', o, 'site', s, 'registration_level', 'BASIC',
    'population_type', 'REF', 'members', jsonb_build_array(jsonb_build_object('relationship', 'PA', 'given_name', 'P' || g, 'sex', 'F')))))
  from generate_series(1, 30) g, (values ('KEN', 'KAKUMA'), ('UGA', 'NAKIVALE')) x(o, s);
analyze refuge.individual;
SQL
plan=$(PGOPTIONS="-c role=sm_clerk -c enable_indexscan=off -c enable_bitmapscan=off" q $DB \
       "explain (analyze, costs off, timing off, summary off) select * from refuge.individual")
echo "$plan" | grep -q "Rows Removed by Filter: 30"
ok $? "as documented: EXPLAIN ANALYZE tells a Kenyan supervisor that 30 rows were hidden (not what they hold)"
plan=$(PGOPTIONS="-c role=sm_clerk" q $DB "explain (analyze, costs off, timing off, summary off)
       select * from refuge.population_summary()" 2>&1)
echo "$plan" | grep -q "Function Scan on population_summary" && ! echo "$plan" | grep -q "Rows Removed"
ok $? "through a SECURITY DEFINER function (population_summary) the plan shows no hidden rows"
grep -q '^## Security model' "$README"
ok $? "the README has a Security model section"
for limit in 'EXPLAIN ANALYZE' 'LISTEN' 'Superusers' 'Statement logging'; do
    sed -n '/^## Security model/,/^## Deployment/p' "$README" | grep -q "$limit"
    ok $? "it states the limit: $limit"
done
sed -n '/^## Security model/,/^## Deployment/p' "$README" | grep -q 'refuge_analyst'
ok $? "it says what each role reads"
q postgres "drop database $DB" >/dev/null
exit 0
