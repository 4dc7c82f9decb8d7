#!/usr/bin/env bash
# Writes sql/upgrade/refuge--0.13.0--0.14.0.sql from the sources (until 0.14.0
# is released; then the script is history and this file goes with it).
set -eu
cd "$(dirname "$0")/../.."
{
cat <<'HEAD'
-- refuge 0.13.0 -> 0.14.0: the demographic search's blocking and first
-- comparison in C (extension/demographic.c); a closed case of an erased
-- principal is not reopened
\echo Use "ALTER EXTENSION refuge UPDATE TO '0.14.0'" to load this file. \quit

-- pairs decided to be two people are looked up once per search
drop function refuge.demographic_cleared(uuid, uuid);
create index on refuge.dedup_cleared_pair (individual_b);

HEAD
python3 sql/tools/gen_upgrade.py \
  --new functions/43_demographic.sql:demographic_cleared_of \
  --new functions/43_demographic.sql:demographic_block_scan \
  --replace functions/43_demographic.sql:demographic_blocked \
  --new functions/43_demographic.sql:demographic_compare_blocked \
  --new functions/43_demographic.sql:demographic_compared \
  --replace functions/43_demographic.sql:current_group --replace functions/43_demographic.sql:family_level \
  --replace functions/43_demographic.sql:document_level --replace functions/43_demographic.sql:phone_level \
  --replace functions/43_demographic.sql:early_levels \
  --replace functions/43_demographic.sql:demographic_search_many \
  --new functions/60_cases.sql:refuse_reopening_erased \
  --replace functions/60_cases.sql:transition_case --replace functions/60_cases.sql:decide_approval
cat <<'TAIL'
-- every function owned by refuge_owner, none executable by PUBLIC (as sql/99_security.sql)
do $$
declare
    r record;
begin
    for r in select p.oid::regprocedure as fn from pg_catalog.pg_proc p
              where p.pronamespace in ('refuge'::regnamespace, 'refuge_warehouse'::regnamespace)
                and pg_catalog.pg_get_userbyid(p.proowner) <> 'refuge_owner'
    loop
        execute format('alter function %s owner to refuge_owner', r.fn);
    end loop;
end
$$;
revoke all on all functions in schema refuge, refuge_warehouse from public;
TAIL
} > sql/upgrade/refuge--0.13.0--0.14.0.sql
