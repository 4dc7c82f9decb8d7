#!/usr/bin/env bash
# What analysts can read passes disclosure control.  A population of about
# 6,000 people with small groups in it (rare origins, people of unknown sex
# or age, a handful of asylum-seekers) and cases of every kind, two snapshots
# taken, then, as an analyst:
#   - every relation the analyst may read is reference data or a published
#     (aggregate) table, and none has a person-level column;
#   - every function the analyst may execute is one of the known aggregate
#     or reference functions;
#   - an independent checker (test/shell/disclosure_check.py, exact rational
#     arithmetic) finds no figure of 1-4 people and no suppressed figure that
#     the published figures give away, in the warehouse tables,
#     refuge.population_summary() and refuge_warehouse.flows().
set -u
source "$(dirname "$0")/../lib/tap.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
DB=refuge_disclosure
fresh_db $DB
q $DB "create extension refuge cascade" >/dev/null 2>&1
psql -X -q -v ON_ERROR_STOP=1 -d $DB >/dev/null <<'SQL'
set client_min_messages = warning;
do $$ begin
  if not exists (select from pg_roles where rolname = 'dc_analyst') then create role dc_analyst; end if;
  if not exists (select from pg_roles where rolname = 'dc_dba') then create role dc_dba; end if;
  if not exists (select from pg_roles where rolname = 'dc_officer') then create role dc_officer; end if;
end $$;
grant refuge_analyst to dc_analyst;
grant refuge_dba to dc_dba;
grant refuge_rsd, refuge_protection, refuge_resettlement, refuge_supervisor to dc_officer;
select refuge.create_operation('KEN', 'KEN', 'Kenya'), refuge.create_operation('UGA', 'UGA', 'Uganda');
select refuge.create_site('KEN', 'KAKUMA', 'Kakuma', 'CAMP'), refuge.create_site('KEN', 'DADAAB', 'Dadaab', 'CAMP'),
       refuge.create_site('KEN', 'NAIROBI', 'Nairobi', 'URBAN'), refuge.create_site('UGA', 'NAKIVALE', 'Nakivale', 'CAMP');
select refuge.assign_staff('dc_officer', 'KEN');
-- families of 1-7, attributes from a hash of the family number: mostly South
-- Sudanese and Congolese, a few rare origins, some asylum-seekers, a few
-- people of unknown sex or date of birth
create function pg_temp.h(i int, salt int) returns int language sql immutable as
  $f$ select abs(hashint4(i * 7919 + salt)) % 1000 $f$;
select count(refuge.register_group(jsonb_build_object(
    'operation', case when pg_temp.h(f, 1) < 800 then 'KEN' else 'UGA' end,
    'site', case when pg_temp.h(f, 1) >= 800 then 'NAKIVALE' when pg_temp.h(f, 2) < 600 then 'KAKUMA'
                 when pg_temp.h(f, 2) < 950 then 'DADAAB' else 'NAIROBI' end,
    'registration_level', 'BASIC',
    'population_type', case when pg_temp.h(f, 3) < 900 then 'REF' when pg_temp.h(f, 3) < 985 then 'ASY' else 'OOC' end,
    'origin_country', case when pg_temp.h(f, 4) < 550 then 'SSD' when pg_temp.h(f, 4) < 900 then 'COD'
                           when pg_temp.h(f, 4) < 960 then 'SOM' when pg_temp.h(f, 4) < 990 then 'ETH' else 'ERI' end,
    'members', (select jsonb_agg(jsonb_build_object(
        'relationship', case when m = 1 then 'PA' else 'SON' end,
        'given_name', 'P' || f || '_' || m,
        'sex', case when pg_temp.h(f * 10 + m, 5) < 3 then 'U' when pg_temp.h(f * 10 + m, 5) < 520 then 'F' else 'M' end)
        || case when pg_temp.h(f * 10 + m, 6) < 8 then '{}'::jsonb
                else jsonb_build_object('date_of_birth', (current_date - (case when m = 1 then 18 * 365 + pg_temp.h(f, 7) * 20
                     else pg_temp.h(f * 10 + m, 8) * 30 end) - 30)::text) end)
      from generate_series(1, 1 + pg_temp.h(f, 9) % 7) m))))
  from generate_series(1, 1500) f;
-- cases of several modules, some moved on
set role dc_officer;
-- (SGBV case management rests on the survivor's consent, since 0.12.0)
select count(refuge.record_consent(i.id, 'SGBV'))
  from refuge.individual i join refuge.group_membership gm on gm.individual_id = i.id and gm.relationship = 'PA'
 where i.operation_id = (select id from refuge.operation where code = 'KEN');
select count(refuge.open_case(module, i.id)) from (
    select i.id, case when row_number() over () % 3 = 0 then 'RSD' when row_number() over () % 3 = 1 then 'SGBV'
                      else 'RESETTLEMENT' end as module
      from refuge.individual i join refuge.group_membership gm on gm.individual_id = i.id and gm.relationship = 'PA'
     where i.operation_id = (select id from refuge.operation where code = 'KEN') limit 120) i;
select count(refuge.transition_case(c.id, 'ASSIGN_MODALITY', '{"modality": "REGULAR"}'))
  from refuge.process_case c where c.module = 'RSD' and hashtext(c.id::text) % 2 = 0;
-- every case given a modality is scheduled, two miss the interview and are
-- scheduled again, all are interviewed: MODALITY_ASSIGNED and
-- INTERVIEW_SCHEDULED end empty, and what entered each minus what left it is
-- 0, which alone would give the two no-shows away
select count(refuge.transition_case(c.id, 'SCHEDULE_INTERVIEW', jsonb_build_object('interview_date', current_date + 7)))
  from refuge.process_case c where c.module = 'RSD' and c.state = 'MODALITY_ASSIGNED';
select count(refuge.transition_case(c.id, 'RECORD_NO_SHOW', '{}'))
  from (select id from refuge.process_case where module = 'RSD' and state = 'INTERVIEW_SCHEDULED' order by id limit 2) c;
select count(refuge.transition_case(c.id, 'SCHEDULE_INTERVIEW', jsonb_build_object('interview_date', current_date + 14)))
  from refuge.process_case c where c.module = 'RSD' and c.state = 'MODALITY_ASSIGNED';
select count(refuge.transition_case(c.id, 'HOLD_INTERVIEW', '{}'))
  from refuge.process_case c where c.module = 'RSD' and c.state = 'INTERVIEW_SCHEDULED';
reset role;
set role dc_dba;
select refuge.snapshot(now() - interval '1 second', 'first');
reset role;
-- a month of change: arrivals in Uganda, some departures
select count(refuge.register_group(jsonb_build_object('operation', 'UGA', 'site', 'NAKIVALE', 'registration_level', 'BASIC',
    'population_type', 'REF', 'origin_country', 'SSD', 'members', jsonb_build_array(jsonb_build_object(
    'relationship', 'PA', 'given_name', 'New' || g, 'sex', 'F', 'date_of_birth', '1990-01-01')))))
  from generate_series(1, 3) g;
update refuge.individual set status = 'INACTIVE' where number in (select number from refuge.individual order by number limit 7);
set role dc_dba;
select refuge.snapshot(now(), 'second');
reset role;
SQL
ok $? "a population of $(q $DB "select count(*) from refuge.individual") people and two snapshots"
K=$(q $DB "show refuge.min_cell_size")

# 1. relations: reference data or published aggregates, nothing else
reference="'country','language','script','sex','relationship','marital_status','education_level','education_degree',
 'address_type','language_proficiency','religion','ethnicity','occupation','population_type','age_bracket',
 'specific_need_category','specific_need_code','registration_level','date_precision','document_type','flight_reason',
 'contact_type','individual_status','group_status','site_type','operation','site','case_module','workflow_state',
 'workflow_transition','referral_field','vulnerability_factor','partner_organisation','progres_code','audit_scope',
 'biometric_exception_reason','status_rule','level_requirement','document_kind','document_key','processing_purpose',
 'purpose_legal_basis','retention_rule','retention_setting'"
published="'snapshot','population_cell','population_row','population_total','population_band','case_summary','flow_summary',
 'case_step_summary','population','population_trend','population_statistics','case_processing','case_states'"
readable=$(q $DB "select string_agg(n.nspname || '.' || c.relname, ' ' order by 1) from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname in ('refuge', 'refuge_warehouse') and c.relkind in ('r', 'p', 'v', 'm')
      and (has_table_privilege('dc_analyst', c.oid, 'select')
           or exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attnum > 0
                       and has_column_privilege('dc_analyst', c.oid, a.attnum, 'select')))
      and c.relname not in ($reference, $published)")
is "$readable" "" "an analyst reads no relation but reference data and the published tables"
personal=$(q $DB "select string_agg(c.relname || '.' || a.attname, ' ') from pg_class c join pg_namespace n on n.oid = c.relnamespace
    join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
    where n.nspname = 'refuge_warehouse' and c.relname in ($published)
      and has_column_privilege('dc_analyst', c.oid, a.attnum, 'select')
      and a.attname ~ 'person|family$|case_key|principal|pseudonym|name|birth|^age$|number|taken_by'")
is "$personal" "" "no published column names a person, a family, a case or an age in years"

# 2. functions: the known aggregate and reference ones only
functions=$(q $DB "select string_agg(p.proname, ' ' order by p.proname) from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname in ('refuge', 'refuge_warehouse') and has_function_privilege('dc_analyst', p.oid, 'execute')
      and p.proname not in ('forecast', 'hxl_population_csv', 'population_pyramid_svg', 'flows', 'population_forecast',
                            'population_summary', 'dedup_settings', 'fused_threshold', 'fused_fpir',
                            'age_band', 'age_bands', 'band_bracket', 'pyramid_bar', 'caller', 'caller_has',
                            'caller_is_superuser', 'scope_operations', 'scope_sites', 'in_scope', 'code_exists',
                            'age_bracket', 'lib_version', 'make_line')")
is "$functions" "" "an analyst executes no function but the aggregate and reference ones"

# 3. the figures, checked independently
export PGOPTIONS="-c role=dc_analyst"
json=$(psql -X -At -v ON_ERROR_STOP=1 -d $DB <<SQL
select json_build_object(
  'k', $K,
  'initial_states', (select json_object_agg(code, initial_state) from refuge.case_module),
  'snapshots', (select json_agg(json_build_object(
     'id', s.id,
     'cells', (select coalesce(json_agg(json_build_object('operation', c.operation, 'origin', coalesce(c.origin_country, ''),
                 'ptype', c.population_type, 'sex', c.sex, 'bracket', c.age_bracket, 'n', c.individuals)), '[]')
                 from refuge_warehouse.population_cell c where c.snapshot_id = s.id),
     'rows', (select coalesce(json_agg(json_build_object('operation', r.operation, 'origin', coalesce(r.origin_country, ''),
                 'ptype', r.population_type, 'female', r.female, 'male', r.male, 'unknown_sex', r.unknown_sex, 'total', r.total)), '[]')
                 from refuge_warehouse.population_row r where r.snapshot_id = s.id),
     'totals', (select coalesce(json_agg(row_to_json(t)), '[]') from refuge_warehouse.population_total t where t.snapshot_id = s.id),
     'bands', (select coalesce(json_agg(json_build_object('operation', b.operation, 'sex', b.sex, 'band', b.band, 'n', b.individuals)), '[]')
                 from refuge_warehouse.population_band b where b.snapshot_id = s.id),
     'case_states', (select coalesce(json_agg(json_build_object('module', c.module, 'operation', c.operation, 'state', c.state,
                 'closed', c.closed, 'cases', c.cases)), '[]') from refuge_warehouse.case_states c where c.snapshot_id = s.id),
     'case_steps', (select coalesce(json_agg(json_build_object('module', c.module, 'operation', c.operation, 'from', c.from_state,
                 'to', c.to_state, 'steps', c.steps)), '[]') from refuge_warehouse.case_processing c where c.snapshot_id = s.id))
     order by s.id) from refuge_warehouse.snapshot s),
  'summary', (select json_agg(json_build_object('operation', x.operation, 'site', x.site, 'ptype', x.population_type,
               'origin', coalesce(x.origin_country, ''), 'sex', x.sex, 'bracket', x.age_bracket, 'n', x.individuals))
               from refuge.population_summary() x),
  'flows', (select json_agg(json_build_object('operation', f.operation, 'arrivals', f.arrivals, 'departures', f.departures,
               'moved_in', f.moved_in, 'moved_out', f.moved_out, 'resettled', f.resettled, 'returned', f.returned,
               'naturalised', f.naturalised,
               'n0', (select t.individuals from refuge_warehouse.population_total t where t.snapshot_id = 1 and t.operation = f.operation),
               'n1', (select t.individuals from refuge_warehouse.population_total t where t.snapshot_id = 2 and t.operation = f.operation)))
               from refuge_warehouse.flows(1, 2) f),
  'site_totals', '{}'::json)
SQL
)
ok $? "the analyst reads the published tables, population_summary() and flows()"
# two calls a registration apart show the same figures (an analyst reads snapshots, not live data)
before=$(q $DB "select md5(string_agg(x::text, ',' order by x::text)) from refuge.population_summary() x")
unset PGOPTIONS
q $DB "select refuge.register_group('{\"operation\": \"KEN\", \"site\": \"KAKUMA\", \"registration_level\": \"BASIC\",
       \"population_type\": \"REF\", \"origin_country\": \"ERI\", \"members\": [{\"relationship\": \"PA\",
       \"given_name\": \"Late\", \"sex\": \"F\", \"date_of_birth\": \"1990-05-05\"}]}')" >/dev/null
after=$(PGOPTIONS="-c role=dc_analyst" q $DB "select md5(string_agg(x::text, ',' order by x::text)) from refuge.population_summary() x")
is "$after" "$before" "an analyst's population_summary() does not change with a registration (no differencing of live figures)"
# a supervisor's live figures (their operation, KEN), protected against every site's total
live=$(PGOPTIONS="-c role=dc_officer" q $DB "select coalesce(json_agg(json_build_object('operation', x.operation, 'site', x.site,
          'ptype', x.population_type, 'origin', coalesce(x.origin_country, ''), 'sex', x.sex, 'bracket', x.age_bracket,
          'n', x.individuals)), '[]') from refuge.population_summary() x")
is "$(printf '%s' "$live" | python3 -c "import json,sys; print(sorted({c['operation'] for c in json.load(sys.stdin)}))")" "['KEN']" \
   "a supervisor's population_summary() covers their operation only"
# what an attacker may know besides: every site's live total (not published, assumed known)
totals=$(q $DB "select json_object_agg(o.code || '|' || s.code, (select count(*) from refuge.individual i
                  where i.site_id = s.id and i.status = 'ACTIVE')) from refuge.site s join refuge.operation o on o.id = s.operation_id")
checks=$(printf '%s' "$json" | python3 -c "import json,sys; d=json.load(sys.stdin); d['site_totals']=json.loads(sys.argv[1]); d['summary_live']=json.loads(sys.argv[2]); print(json.dumps(d))" "$totals" "$live" \
    | /usr/bin/python3 "$HERE/disclosure_check.py")
rc=$?
# renumber the checker's lines after ours
while IFS= read -r line; do
    case "$line" in
        "ok "*) N=$((N + 1)); echo "ok $N - ${line#ok * - }";;
        "not ok "*) N=$((N + 1)); echo "not ok $N - ${line#not ok * - }";;
        *) ;;
    esac
done <<< "$checks"
ok $rc "the independent checker finds nothing given away"
echo "# $(q $DB "select count(*) filter (where individuals is null) || ' of ' || count(*) || ' population cells suppressed, '
           || round(100.0 * sum(individuals) / (select sum(individuals) from refuge_warehouse.population_total), 1)
           || ' % of the people in cells shown' from refuge_warehouse.population_cell")"
q postgres "drop database $DB" >/dev/null
exit 0
