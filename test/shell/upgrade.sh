#!/usr/bin/env bash
# ALTER EXTENSION refuge UPDATE from the first release keeps the data and
# yields exactly the objects of a fresh install of the current version.
set -u
source "$(dirname "$0")/../lib/tap.sh"
CURRENT=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$(dirname "$0")/../../refuge.control")

fresh_db refuge_up_old
fresh_db refuge_up_new
q refuge_up_old "create extension pgcrypto; create extension postgis; create extension refuge version '0.1.0'" >/dev/null 2>&1
is "$(q refuge_up_old "select extversion from pg_extension where extname = 'refuge'")" "0.1.0" "the first release installs"
q refuge_up_old "select refuge.create_operation('KEN', 'KEN', 'Kenya'); select refuge.create_site('KEN', 'K1', 'Kakuma', 'CAMP');
  select refuge.register_group('{\"operation\": \"KEN\", \"site\": \"K1\", \"registration_level\": \"BASIC\",
    \"population_type\": \"REF\", \"members\": [{\"relationship\": \"PA\", \"given_name\": \"Amina\", \"sex\": \"F\"}]}')" >/dev/null
q refuge_up_old "alter extension refuge update" >/tmp/refuge_up_update.log 2>&1
is "$(q refuge_up_old "select extversion from pg_extension where extname = 'refuge'")" "$CURRENT" "ALTER EXTENSION refuge UPDATE reaches $CURRENT" \
   || sed 's/^/# /' /tmp/refuge_up_update.log | head -20
is "$(q refuge_up_old "select given_name from refuge.individual")" "Amina" "registered data survives the update"
q refuge_up_new "create extension refuge cascade" >/dev/null 2>&1
is "$(q refuge_up_new "select extversion from pg_extension where extname = 'refuge'")" "$CURRENT" "a fresh install is $CURRENT"

# the same objects, columns, policies, triggers and function bodies either way
catalogue() {
    q "$1" "select pg_describe_object(classid, objid, objsubid) from pg_depend d join pg_extension e on e.oid = d.refobjid
             where e.extname = 'refuge' and d.deptype = 'e' order by 1"
    q "$1" "select table_name, column_name, data_type, is_nullable, column_default from information_schema.columns
             where table_schema = 'refuge' order by 1, 2"
    q "$1" "select tablename, policyname, roles::text, cmd, qual, with_check from pg_policies where schemaname = 'refuge' order by 1, 2"
    q "$1" "select tgrelid::regclass, tgname, pg_get_triggerdef(oid) from pg_trigger where not tgisinternal
             and tgrelid::regclass::text like 'refuge.%' order by 1, 2"
    q "$1" "select p.oid::regprocedure, md5(pg_get_functiondef(p.oid)), p.proacl from pg_proc p
             where p.pronamespace = 'refuge'::regnamespace and p.prokind = 'f' order by 1"
}
catalogue refuge_up_old > /tmp/refuge_up_old.cat
catalogue refuge_up_new > /tmp/refuge_up_new.cat
diff /tmp/refuge_up_old.cat /tmp/refuge_up_new.cat > /tmp/refuge_up.diff
ok $? "updated and fresh installs have identical catalogues ($(wc -l < /tmp/refuge_up_new.cat) lines compared)"
[ -s /tmp/refuge_up.diff ] && head -20 /tmp/refuge_up.diff | sed 's/^/# /'

# a database holding 0.6.0 data: cases, notes, a sealed chain, a snapshot and
# two documents that only the new identifier key tells apart from each other
fresh_db refuge_up_06
psql -X -q -v ON_ERROR_STOP=1 -d refuge_up_06 >/dev/null 2>&1 <<'SQL'
set client_min_messages = warning;
create extension pgcrypto; create extension postgis; create extension refuge version '0.6.0';
select refuge.create_operation('KEN', 'KEN', 'Kenya'), refuge.create_site('KEN', 'K1', 'Kakuma', 'CAMP');
do $$ begin if not exists (select from pg_roles where rolname = 'up_prot') then create role up_prot; end if;
            if not exists (select from pg_roles where rolname = 'up_dba') then create role up_dba; end if; end $$;
grant refuge_protection to up_prot; grant refuge_dba to up_dba;
select refuge.assign_staff('up_prot', 'KEN');
select count(refuge.register_group(jsonb_build_object('operation', 'KEN', 'site', 'K1', 'registration_level', 'BASIC',
  'population_type', 'REF', 'origin_country', 'SSD', 'members', jsonb_build_array(jsonb_build_object('relationship', 'PA',
  'given_name', 'A' || g, 'sex', 'F', 'date_of_birth', '1980-01-01', 'documents', jsonb_build_array(jsonb_build_object(
  'type', 'NATIONAL_ID', 'number', case g when 2 then 'AB1' when 3 then 'AB.1' else 'X' || g end)))))))
  from generate_series(1, 30) g;
set role up_prot;
select count(refuge.open_case('VOLREP', id)) from refuge.individual where given_name in ('A1', 'A2', 'A3', 'A4', 'A5');
select count(refuge.add_case_note(id, 'note text', false)) from refuge.process_case;
reset role;
set role up_dba;
select refuge.snapshot(now(), 'before the update');
reset role;
select refuge.seal_audit();
SQL
is "$(q refuge_up_06 "select extversion from pg_extension where extname = 'refuge'")" "0.6.0" "a database with data at 0.6.0"
q refuge_up_06 "alter extension refuge update" >/tmp/refuge_up_update.log 2>&1
is "$(q refuge_up_06 "select extversion from pg_extension where extname = 'refuge'")" "$CURRENT" "updates to $CURRENT" \
   || sed 's/^/# /' /tmp/refuge_up_update.log | head -20
grep -q 'recorded twice under look-alike spellings' /tmp/refuge_up_update.log
ok $? "the update names the look-alike documents it found (AB1 and AB.1) instead of failing"
is "$(q refuge_up_06 "select (v ->> 'intact') || ' ' || (v ->> 'problem_count') from refuge.verify_audit() v")" "true 0" \
   "the audit chain sealed at 0.6.0 is intact after the update"
is "$(q refuge_up_06 "select count(*) from refuge.audit_log where class is null or (class = 'case' and module is null)")" "0" \
   "every audit row written before the update is classed, case rows with their module"
is "$(q refuge_up_06 "select sum(individuals) from refuge_warehouse.population_total where snapshot_id = 1")" "30" \
   "the snapshot taken at 0.6.0 is published for analysts"
is "$(q refuge_up_06 "select count(*) from refuge.individual")" "30" "registered data survives"
q postgres "drop database refuge_up_06" >/dev/null
q postgres "drop database refuge_up_old" >/dev/null
q postgres "drop database refuge_up_new" >/dev/null
exit 0
