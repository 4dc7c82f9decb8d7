#!/usr/bin/env bash
# Upgrades tested for real:
#  1. the released scripts in sql/upgrade/ are the ones released (SHA256SUMS);
#  2. the catalogue of a fresh install of the current version equals that of
#     the oldest release updated through every script, object by object
#     (test/lib/catalog.sql: functions, tables, columns, constraints, indexes,
#     policies, triggers, grants, comments, types, operators, shipped rows);
#  3. a database holding data at each earlier release keeps it across
#     ALTER EXTENSION refuge UPDATE, and ends with the same schema.
# (The regression suites also run against an updated database: make
# installcheck-upgraded, in test/run-all.sh.)
set -u
source "$(dirname "$0")/../lib/tap.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CURRENT=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$ROOT/refuge.control")
CATALOG="$ROOT/test/lib/catalog.sql"

# 1. frozen history
( cd "$ROOT/sql/upgrade" && sha256sum --quiet -c SHA256SUMS ) >/tmp/refuge_sums.log 2>&1
ok $? "every released script is as released (sql/upgrade/SHA256SUMS)" || sed 's/^/# /' /tmp/refuge_sums.log
unlisted=$(cd "$ROOT/sql/upgrade" && for f in refuge--*.sql; do
               case "$f" in *"--$CURRENT.sql") continue;; esac
               grep -q " $f\$" SHA256SUMS || echo "$f"; done)
is "$unlisted" "" "every script but the one reaching $CURRENT is listed there (released scripts never change)"

catalogue() { psql -X -At -d "$1" -f "$CATALOG"; }

# 2. fresh against oldest + every update
FIRST=$(ls "$ROOT/sql/upgrade" | sed -n 's/^refuge--\([0-9.]*\)\.sql$/\1/p')
fresh_db refuge_up_fresh
fresh_db refuge_up_chain
q refuge_up_fresh "set client_min_messages = warning; create extension refuge cascade" >/dev/null
q refuge_up_chain "set client_min_messages = warning; create extension pgcrypto; create extension postgis;
                   create extension refuge version '$FIRST'" >/dev/null
is "$(q refuge_up_chain "select extversion from pg_extension where extname = 'refuge'")" "$FIRST" "the oldest release ($FIRST) installs"
q refuge_up_chain "set client_min_messages = warning; alter extension refuge update" >/tmp/refuge_up_update.log 2>&1
is "$(q refuge_up_chain "select extversion from pg_extension where extname = 'refuge'")" "$CURRENT" \
   "ALTER EXTENSION refuge UPDATE takes it to $CURRENT" || sed 's/^/# /' /tmp/refuge_up_update.log | head -20
catalogue refuge_up_fresh > /tmp/refuge_up_fresh.cat
catalogue refuge_up_chain > /tmp/refuge_up_chain.cat
diff /tmp/refuge_up_fresh.cat /tmp/refuge_up_chain.cat > /tmp/refuge_up.diff
ok $? "a fresh $CURRENT and $FIRST updated have the same catalogue ($(wc -l < /tmp/refuge_up_fresh.cat) lines, object by object)"
[ -s /tmp/refuge_up.diff ] && head -30 /tmp/refuge_up.diff | cut -c1-240 | sed 's/^/# /'
echo "# $(grep -c '^function ' /tmp/refuge_up_fresh.cat) function lines, $(grep -c '^relation ' /tmp/refuge_up_fresh.cat) relations, $(grep -c '^column ' /tmp/refuge_up_fresh.cat) columns, $(grep -c '^policy ' /tmp/refuge_up_fresh.cat) policies, $(grep -c '^trigger ' /tmp/refuge_up_fresh.cat) triggers, $(grep -c '^rows ' /tmp/refuge_up_fresh.cat) tables' rows compared"
# ALTER OWNER in an extension script leaves pg_init_privs naming the installing
# role; pg_dump then prints REVOKE/GRANT pairs for every object
for db in refuge_up_fresh refuge_up_chain; do
    is "$(pg_dump -s -d $db | grep -cE '^(GRANT|REVOKE) ')" "0" \
       "$db: pg_dump -s prints no GRANT or REVOKE for the extension's own objects (pg_init_privs is as the script left it)"
done

# 2b. what the database added around the warehouse: a grant on a view the
# update recreates is kept; a view of its own over the warehouse is named
fresh_db refuge_up_local
q refuge_up_local "set client_min_messages = warning; create extension refuge version '0.7.0' cascade;
    do \$\$ begin if not exists (select from pg_roles where rolname = 'up_bi') then create role up_bi; end if; end \$\$;
    grant select on refuge_warehouse.population_trend to up_bi;
    create view public.my_trend as select operation, individuals from refuge_warehouse.population_trend" >/dev/null
err=$(q refuge_up_local "alter extension refuge update" 2>&1 | sed -n 's/^ERROR:  //p')
is "$err" "views of this database over the warehouse block the update to 0.8.0: pg_rewrite rule _RETURN on view my_trend" \
   "a view of the database's own over the warehouse stops the update to 0.8.0, named (with a hint)"
q refuge_up_local "drop view public.my_trend; set client_min_messages = warning; alter extension refuge update" >/dev/null
is "$(q refuge_up_local "select has_table_privilege('up_bi', 'refuge_warehouse.population_trend', 'select')")" "t" \
   "a grant of the database's own on a view the update recreates is kept"
q postgres "drop database refuge_up_local" >/dev/null

# 3. data at each release survives the update.  What each release can hold:
# registration (all), biometric values in a user's table and their indexes
# (0.2.0: iris; 0.3.0: fingerprint), enrolments (0.4.0), cases and a sealed
# audit chain (0.5.0), a snapshot (0.6.0), a status change request (0.7.0).
ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1)" = "$2" ]; }   # ge A B: A >= B
releases=$(ls "$ROOT/sql/upgrade" | sed -n 's/^refuge--[0-9.]*--\([0-9.]*\)\.sql$/\1/p' | sort -V | grep -vx "$CURRENT")
for R in $FIRST $releases; do
    DB=refuge_up_data
    fresh_db $DB
    {
        echo "set client_min_messages = warning;"
        echo "create extension pgcrypto; create extension postgis; create extension refuge version '$R';"
        echo "select refuge.create_operation('KEN', 'KEN', 'Kenya'), refuge.create_site('KEN', 'K1', 'Kakuma', 'CAMP');"
        echo "select count(refuge.register_group(jsonb_build_object('operation', 'KEN', 'site', 'K1', 'registration_level', 'BASIC',
                'population_type', 'REF', 'origin_country', 'SSD', 'members', jsonb_build_array(
                jsonb_build_object('relationship', 'PA', 'given_name', 'A' || g, 'sex', 'F', 'date_of_birth', '1980-01-01',
                  'documents', jsonb_build_array(jsonb_build_object('type', 'NATIONAL_ID', 'number', 'ID-' || g))),
                jsonb_build_object('relationship', 'SON', 'given_name', 'B' || g, 'sex', 'M', 'date_of_birth', '2015-01-01')))))
              from generate_series(1, 20) g;"
        if ge "$R" 0.2.0; then
            echo "create table public.eyes (id int primary key, code refuge.iris);
                  insert into public.eyes select g, refuge.synthetic_iris(7, g, 0) from generate_series(1, 200) g;
                  create index eyes_code on public.eyes using refuge_iris (code);"
        fi
        if ge "$R" 0.3.0; then
            echo "create table public.prints (id int primary key, fp refuge.fingerprint);
                  insert into public.prints select g, refuge.synthetic_fingerprint(7, g, 0) from generate_series(1, 200) g;
                  create index prints_fp on public.prints using refuge_fingerprint (fp);"
        fi
        if ge "$R" 0.4.0; then
            echo "select count(refuge.enrol_biometrics(i.id, refuge.synthetic_templates(11, substr(i.given_name, 2)::int)))
                    from refuge.individual i where i.given_name like 'A%';"
        fi
        if ge "$R" 0.5.0; then
            echo "do \$\$ begin if not exists (select from pg_roles where rolname = 'up_prot') then create role up_prot; end if;
                              if not exists (select from pg_roles where rolname = 'up_dba') then create role up_dba; end if; end \$\$;
                  grant refuge_protection to up_prot;
                  select refuge.assign_staff('up_prot', 'KEN');
                  set role up_prot;
                  select count(refuge.open_case('VOLREP', id)) from refuge.individual where given_name in ('A1', 'A2', 'A3', 'A4', 'A5');
                  select count(refuge.add_case_note(id, 'note text', false)) from refuge.process_case;
                  reset role;
                  select refuge.seal_audit();"
        fi
        if ge "$R" 0.6.0; then
            echo "grant refuge_dba to up_dba; set role up_dba; select refuge.snapshot(now(), 'before the update'); reset role;"
        fi
        if ge "$R" 0.7.0; then
            echo "select refuge.request_status_change(id, null, 'ASY', 'claim reassessed') from refuge.individual where given_name = 'A6';"
        fi
    } > /tmp/refuge_up_data.sql
    if psql -X -q -v ON_ERROR_STOP=1 -d $DB -f /tmp/refuge_up_data.sql >/tmp/refuge_up_data.log 2>&1; then
        ok 0 "a database with data at $R"
    else
        ok 1 "a database with data at $R"; tail -5 /tmp/refuge_up_data.log | sed 's/^/# /'; continue
    fi
    q $DB "set client_min_messages = warning; alter extension refuge update" >/tmp/refuge_up_update.log 2>&1
    if ! is "$(q $DB "select extversion from pg_extension where extname = 'refuge'")" "$CURRENT" "$R: updates to $CURRENT"; then
        sed 's/^/# /' /tmp/refuge_up_update.log | head -20; continue
    fi
    is "$(q $DB "select count(*) || ' ' || (select count(*) from refuge.document) from refuge.individual")" "40 20" \
       "$R: its people and documents are kept"
    catalogue $DB | grep -v '^rows ' > /tmp/refuge_up_data.cat
    grep -v '^rows ' /tmp/refuge_up_fresh.cat | diff - /tmp/refuge_up_data.cat > /tmp/refuge_up_data.diff
    ok $? "$R: its schema is the fresh one's" || head -10 /tmp/refuge_up_data.diff | cut -c1-200 | sed 's/^/# /'
    if ge "$R" 0.2.0; then
        is "$(PGOPTIONS='-c enable_seqscan=off -c search_path=public,refuge' q $DB "select string_agg(id::text, ',') from (select id from public.eyes
                     order by code <-> refuge.synthetic_iris(7, 17, 1) limit 1) x")" "17" \
           "$R: the iris index the user built still finds a person"
    fi
    if ge "$R" 0.3.0; then
        is "$(PGOPTIONS='-c enable_seqscan=off -c search_path=public,refuge' q $DB "select string_agg(id::text, ',') from (select id from public.prints
                     order by fp <-> refuge.synthetic_fingerprint(7, 23, 1) limit 1) x")" "23" \
           "$R: so does the fingerprint index"
    fi
    if ge "$R" 0.4.0; then
        is "$(q $DB "select count(*) from refuge.biometric_enrolment")" "20" "$R: the enrolments are kept"
    fi
    if ge "$R" 0.5.0; then
        is "$(q $DB "select count(*) || ' ' || (select count(*) from refuge.case_note) from refuge.process_case")" "5 5" \
           "$R: the cases and their notes are kept"
        is "$(q $DB "select (v ->> 'intact') || ' ' || (v ->> 'problem_count') from refuge.verify_audit() v")" "true 0" \
           "$R: the audit chain sealed there verifies after the update"
    fi
    if ge "$R" 0.6.0; then
        is "$(q $DB "select sum(individuals) from refuge_warehouse.population_total where snapshot_id = 1")" "40" \
           "$R: the snapshot taken there is published for analysts"
        is "$(q $DB "select count(*) from pg_depend d join pg_class c on c.oid = d.objid
                     where d.classid = 'pg_class'::regclass and d.deptype = 'e' and c.relispartition")" "0" \
           "$R: its snapshot's partitions are data, not members of the extension (pg_dump keeps them)"
        is "$(q $DB "select count(*) from pg_trigger t join pg_class c on c.oid = t.tgrelid
                     where c.relispartition and t.tgname like 'frozen%' and t.tgenabled <> 'A'")" "0" \
           "$R: their frozen triggers fire in every replication role"
        is "$(PGOPTIONS='-c role=up_dba' q $DB "select refuge.drop_snapshot(1)" 2>&1)" "" "$R: the DBA drops that snapshot"
    fi
    if ge "$R" 0.7.0; then
        is "$(q $DB "select count(*) from refuge.status_change where status = 'REQUESTED'")" "1" "$R: the pending status change is kept"
    fi
    if ge "$R" 0.11.0; then
        # (0.15.0 made household blocking keys: filled for the households held)
        is "$(q $DB "select count(*) filter (where cardinality(p.household_keys) = 1) || ' ' ||
                            count(*) filter (where b.individual_id is not null)
                       from refuge.match_profile p
                       left join refuge.match_block b on b.individual_id = p.individual_id and b.key = p.household_keys[1]")" "40 40" \
           "$R: every member of a household has the household's blocking key"
    fi
    q postgres "drop database $DB" >/dev/null
done

q postgres "drop database refuge_up_fresh" >/dev/null
q postgres "drop database refuge_up_chain" >/dev/null
exit 0
