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
q postgres "drop database refuge_up_old" >/dev/null
q postgres "drop database refuge_up_new" >/dev/null
exit 0
