#!/usr/bin/env bash
# Writes sql/upgrade/refuge--0.11.0--0.11.1.sql from the sources (until 0.11.1
# is released; then the script is history and this file goes with it).
set -eu
cd "$(dirname "$0")/../.."
{
cat <<'HEAD'
-- refuge 0.11.0 -> 0.11.1: value-specific name weights in the demographic
-- comparison (how many people share the name a pair agrees on)
\echo Use "ALTER EXTENSION refuge UPDATE TO '0.11.1'" to load this file. \quit

-- signatures that change: match_levels (a SQL-standard body) depends on
-- early_levels, so it goes first
drop function refuge.match_levels(uuid, uuid);
drop function refuge.early_levels(refuge.match_profile, refuge.individual, refuge.match_profile, refuge.individual);
drop function refuge.demographic_blocked(refuge.match_profile, integer, integer);

HEAD
python3 sql/tools/gen_upgrade.py \
  --new functions/43_demographic.sql:demographic_blocked --new functions/43_demographic.sql:shared_namesakes \
  --new functions/43_demographic.sql:name_level_by_frequency --new functions/43_demographic.sql:early_levels \
  --new functions/43_demographic.sql:match_levels \
  --replace functions/43_demographic.sql:default_match_weights --replace functions/43_demographic.sql:birth_date_level \
  --replace functions/43_demographic.sql:match_rate_curve \
  --replace functions/43_demographic.sql:demographic_search_many \
  --replace functions/43_demographic.sql:estimate_match_model_from \
  --replace functions/60_cases.sql:tracing_matches
cat <<'TAIL'
alter function refuge.demographic_blocked(refuge.match_profile, integer, integer) owner to refuge_owner;
alter function refuge.shared_namesakes(refuge.match_profile, refuge.match_profile, integer) owner to refuge_owner;
alter function refuge.name_level_by_frequency(integer, integer) owner to refuge_owner;
alter function refuge.early_levels(refuge.match_profile, refuge.individual, refuge.match_profile, refuge.individual, integer)
    owner to refuge_owner;
alter function refuge.match_levels(uuid, uuid) owner to refuge_owner;
revoke all on function refuge.demographic_blocked(refuge.match_profile, integer, integer),
    refuge.shared_namesakes(refuge.match_profile, refuge.match_profile, integer),
    refuge.name_level_by_frequency(integer, integer),
    refuge.early_levels(refuge.match_profile, refuge.individual, refuge.match_profile, refuge.individual, integer),
    refuge.match_levels(uuid, uuid) from public;

-- A model estimated here under 0.11.0 has no frequency levels and its
-- levels 4 and 5 meant every frequency: the shipped model is in force
-- until the DBA estimates again.
do $$
begin
    if exists (select 1 from refuge.match_weight) then
        delete from refuge.match_weight;
        delete from refuge.match_model;
        raise notice 'refuge 0.11.1: the demographic model estimated here predates name frequencies; the shipped model is in force until refuge.estimate_match_model() runs again';
    end if;
end
$$;
TAIL
} > sql/upgrade/refuge--0.11.0--0.11.1.sql
