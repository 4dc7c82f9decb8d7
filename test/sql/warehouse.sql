-- The data warehouse: frozen, pseudonymous snapshots taken by a DBA, read by
-- analysts; population statistics in the UNHCR brackets, flows between two
-- snapshots, case-processing times, a forecast, the HXL export and the SVG
-- pyramid.  Ages are set relative to today so the output does not age.
\set VERBOSITY terse
set client_min_messages = warning;
set search_path = public, refuge;
create function pg_temp.err(q text) returns text language plpgsql as $$
begin
    execute q;
    return 'no error';
exception when others then
    return sqlstate || ' ' || regexp_replace(sqlerrm, '\d{4}-\d\d-\d\d[ T][0-9:.+-]+', '<time>', 'g');
end $$;

select refuge.create_operation('KEN', 'KEN', 'Kenya') is not null as ken;
select refuge.create_operation('UGA', 'UGA', 'Uganda') is not null as uga;
select refuge.create_site('KEN', 'KAKUMA', 'Kakuma', 'CAMP', 34.85, 3.72) is not null as kakuma;
select refuge.create_site('UGA', 'NAKIVALE', 'Nakivale', 'CAMP', 30.95, -0.78) is not null as nakivale;
drop role if exists wh_dba, wh_analyst, wh_reg, wh_rst;
create role wh_dba;      grant refuge_dba to wh_dba;
create role wh_analyst;  grant refuge_analyst to wh_analyst;
create role wh_reg;      grant refuge_registration to wh_reg;
create role wh_rst;      grant refuge_resettlement to wh_rst;
select refuge.assign_staff('wh_reg', 'KEN') is not null as reg;
select refuge.assign_staff('wh_rst', 'KEN') is not null as rst;

-- 46 families of five (40 in Kenya, 6 in Uganda): a parent of 30, children of
-- 2, 8 and 15, a grandmother of 70; origins alternate; family 4 asylum-seekers
create table fam (f int primary key, gid uuid, pa uuid);
grant select on fam to public;
insert into fam
select f, (r ->> 'group_id')::uuid, (r -> 'members' -> 0 ->> 'individual_id')::uuid
  from (select f, refuge.register_group(jsonb_build_object('operation', case when f <= 40 then 'KEN' else 'UGA' end,
          'site', case when f <= 40 then 'KAKUMA' else 'NAKIVALE' end,
          'registration_level', 'BASIC', 'population_type', case when f = 4 then 'ASY' else 'REF' end,
          'origin_country', case when f % 2 = 0 then 'SSD' else 'COD' end,
          'members', jsonb_build_array(
              jsonb_build_object('relationship', 'PA', 'given_name', 'Head' || f, 'family_name', 'Fam' || f,
                                 'sex', case when f % 3 = 0 then 'M' else 'F' end,
                                 'date_of_birth', (current_date - interval '30 years 3 months')::date,
                                 'specific_needs', case when f = 1 then '[{"category": "SM"}]'::jsonb else '[]' end),
              jsonb_build_object('relationship', 'SON', 'given_name', 'Son' || f, 'sex', 'M',
                                 'date_of_birth', (current_date - interval '8 years 2 months')::date),
              jsonb_build_object('relationship', 'DAU', 'given_name', 'Girl' || f, 'sex', 'F',
                                 'date_of_birth', (current_date - interval '15 years 1 month')::date),
              jsonb_build_object('relationship', 'GPF', 'given_name', 'Gran' || f, 'sex', 'F',
                                 'date_of_birth', (current_date - interval '70 years 4 months')::date),
              jsonb_build_object('relationship', 'DAU', 'given_name', 'Baby' || f, 'sex', 'F',
                                 'date_of_birth', (current_date - interval '2 years 5 months')::date)))) r
          from generate_series(1, 46) f) x;
-- a resettlement case for family 1, open
set role wh_rst;
select refuge.open_case('RESETTLEMENT', pa, (select array_agg(individual_id) from refuge.group_membership
                                             where group_id = gid and valid_to is null)) ->> 'state' as rst
  from fam where f = 1;
reset role;

-- only DBAs take snapshots
set role wh_analyst;
select pg_temp.err('select refuge.snapshot()');
reset role;
set role wh_dba;
select pg_temp.err($q$select refuge.snapshot(now() + interval '1 day')$q$);
select r ->> 'snapshot_id' as snapshot, r ->> 'status' as status, r ->> 'individuals' as individuals,
       r ->> 'families' as families, r ->> 'cases' as cases
  from refuge.snapshot(now(), 'first') r;
select (refuge.snapshot(as_of, 'again') ->> 'status') as same_moment from refuge_warehouse.snapshot;
select count(*) as snapshots from refuge.snapshots();
reset role;

-- the facts carry no identifiers: pseudonyms are not ids, no name columns
select count(*) as pseudonym_equals_id
  from refuge_warehouse.individual_fact f join refuge.individual i on i.id = f.person;
select string_agg(column_name, ', ' order by column_name) as identifying_columns
  from information_schema.columns
 where table_schema = 'refuge_warehouse' and table_name in ('individual_fact', 'family_fact', 'case_fact')
   and column_name ~ 'name|birth|number|document|contact|phone|template';

-- frozen: nobody, not even a superuser, changes a snapshot's facts
select pg_temp.err('update refuge_warehouse.individual_fact set sex = ''M''');
select pg_temp.err('delete from refuge_warehouse.family_fact');
select pg_temp.err('truncate refuge_warehouse.individual_fact_1');
select pg_temp.err($q$insert into refuge_warehouse.case_fact select * from refuge_warehouse.case_fact$q$);
select pg_temp.err($q$insert into refuge_warehouse.individual_fact_1 select * from refuge_warehouse.individual_fact_1$q$);
select count(*) as still_there from refuge_warehouse.individual_fact;

-- who reads the warehouse: analysts read published figures (no cell under
-- 5, none recomputable), DBAs the facts; registration staff nothing
set role wh_analyst;
select operation, sex, age_bracket, sum(individuals) as individuals, count(*) filter (where individuals is null) as suppressed
  from refuge_warehouse.population group by 1, 2, 3 order by 1, 2, 3;
select pg_temp.err('select count(*) from refuge_warehouse.individual_fact');
select pg_temp.err('select count(*) from refuge_warehouse.case_fact');
select pg_temp.err('select count(*) from refuge_warehouse.population_fact');
select pg_temp.err('select * from refuge_warehouse.individual_fact_1');
select pg_temp.err('select taken_by from refuge_warehouse.snapshot');
select pg_temp.err('select * from refuge.snapshots()');
select pg_temp.err('select key from refuge.warehouse_key');
reset role;
set role wh_reg;
select pg_temp.err('select count(*) from refuge_warehouse.individual_fact');
reset role;

-- changes, then a second snapshot: a new family, a departure, a resettlement
select refuge.register_group(jsonb_build_object('operation', 'KEN', 'site', 'KAKUMA', 'registration_level', 'BASIC',
    'population_type', 'REF', 'origin_country', 'SSD', 'members', jsonb_build_array(jsonb_build_object(
    'relationship', 'PA', 'given_name', 'Newcomer', 'sex', 'M', 'date_of_birth', (current_date - interval '40 years 2 months')::date))))
    is not null as new_family;
select refuge.update_individual(pa, '{"status": "INACTIVE"}') is not null as departed from fam where f = 2;
select refuge.transition_case(c.id, a, d) ->> 'state'
  from refuge.process_case c,
       (values (1, 'ASSESS', '{"needs_assessment": "medical"}'::jsonb), (2, 'INTERVIEW', jsonb_build_object('interview_date', current_date)),
               (3, 'PREPARE_RRF', '{"submission_category": "MED", "priority": "UG", "justification": "x"}'),
               (4, 'REFER_HUB', '{}'), (5, 'SUBMIT', '{"resettlement_country": "CAN"}')) s(n, a, d)
 order by n;
select refuge.decide_approval(id, true) ->> 'state' from refuge.case_approval where status = 'REQUESTED';
select refuge.transition_case(id, 'STATE_ACCEPT', jsonb_build_object('state_decision_on', current_date)) ->> 'state',
       refuge.transition_case(id, 'CONFIRM_DEPARTURE', jsonb_build_object('departure_date', current_date)) ->> 'state'
  from refuge.process_case;
set role wh_dba;
select r ->> 'snapshot_id' as snapshot, r ->> 'individuals' as individuals from refuge.snapshot(now(), 'second') r;
reset role;
set role wh_analyst;
select * from refuge_warehouse.flows(1, 2);
select pg_temp.err('select * from refuge_warehouse.flows(2, 1)');
select snapshot_id, operation, individuals, female, male, children from refuge_warehouse.population_trend
 order by 1, 2;
-- every published figure describes 5 people or more (or none)
select count(*) filter (where n between 1 and 4) as small_figures, count(*) filter (where n is null) as suppressed,
       count(*) filter (where n >= 5) as shown
  from (select individuals as n from refuge_warehouse.population_cell
        union all select unnest(array[female, male, unknown_sex, total]) from refuge_warehouse.population_row
        union all select unnest(array[individuals, female, male, unknown_sex, children, unknown_age, families])
                    from refuge_warehouse.population_total
        union all select individuals from refuge_warehouse.population_band
        union all select unnest(array[cases, people]) from refuge_warehouse.case_summary
        union all select steps from refuge_warehouse.case_step_summary) x;
reset role;
-- pseudonyms are stable across snapshots (the DBA reads the facts)
set role wh_dba;
select count(*) as same_people from refuge_warehouse.individual_fact a
  join refuge_warehouse.individual_fact b on a.person = b.person and a.snapshot_id = 1 and b.snapshot_id = 2;
reset role;
set role wh_analyst;
select snapshot_id, module, state, closed, cases, people from refuge_warehouse.case_states order by 1, 3;
select module, from_state, to_state, steps from refuge_warehouse.case_processing where snapshot_id = 2 order by 2, 3;
-- the UNHCR table and its HXL export (cells under 5 left empty)
select year = extract(year from now()) as this_year, asylum_country, origin_country, population_type,
       female_0_4, female_5_11, female_12_17, female_18_59, female_60, male_5_11, male_18_59, total
  from refuge_warehouse.population_statistics where snapshot_id = 2 order by 2, 3, 4;
-- (published under an agreement with the public: an open data platform)
reset role;
select refuge.define_agreement(jsonb_build_object('code', 'HDX-STATS', 'title', 'Population statistics on HDX',
    'party_kind', 'PUBLIC', 'party_name', 'Humanitarian Data Exchange', 'purposes', array['STATISTICS'],
    'fields', array['AGGREGATE_STATISTICS'], 'legal_basis', 'PUBLIC_INTEREST', 'valid_from', current_date - 1,
    'valid_until', current_date + 365, 'security_terms', 'aggregates only, cells under 5 suppressed',
    'signed_by', 'Head of statistics', 'signed_on', current_date - 1)) is not null as hdx_agreement;
select refuge.define_agreement(jsonb_build_object('code', 'UNI-STUDY', 'title', 'A study',
    'party_kind', 'RESEARCHER', 'party_name', 'A university', 'purposes', array['RESEARCH'],
    'fields', array['MICRODATA'], 'legal_basis', 'PUBLIC_INTEREST', 'valid_from', current_date - 1,
    'valid_until', current_date + 365, 'security_terms', 'no linkage',
    'signed_by', 'Head of statistics', 'signed_on', current_date - 1)) is not null as research_agreement;
set role wh_analyst;
select pg_temp.err('select refuge.statistics_agreement(''HDX-STATS'')') as analyst_probes_agreements,
       pg_temp.err('select refuge.hxl_population_csv(2, null)') as no_agreement,
       pg_temp.err('select refuge.hxl_population_csv(2, ''NOPE'')') as unknown_agreement,
       pg_temp.err('select refuge.hxl_population_csv(2, ''UNI-STUDY'')') as research_agreement_used;
select regexp_replace(refuge.hxl_population_csv(2, 'HDX-STATS'), '^\d{4},', 'YYYY,', 'gn') as hxl;
select split_part(refuge.hxl_population_csv(2, 'HDX-STATS', 1), E'\n', 3) ~ ',,' as small_cells_hidden;
reset role;
-- each export is on record (committed before the figures were returned)
select kind, snapshot_id, min_cell, actor from refuge.publication order by id;
-- an agreement with the public covers published aggregates only
select pg_temp.err($q$select refuge.define_agreement(jsonb_build_object('code', 'HDX-MORE', 'title', 'x',
    'party_kind', 'PUBLIC', 'party_name', 'x', 'purposes', array['STATISTICS', 'REFERRAL'],
    'fields', array['AGGREGATE_STATISTICS', 'CONTACTS'], 'legal_basis', 'PUBLIC_INTEREST', 'valid_from', current_date,
    'valid_until', current_date + 1, 'security_terms', 'x', 'signed_by', 'x', 'signed_on', current_date))$q$) as public_referral;
set role wh_analyst;
-- the pyramid is a well-formed SVG document: 16 bands per sex nesting in
-- UNHCR's brackets, withheld bands marked
select xml_is_well_formed_document(svg) as well_formed,
       (xpath('count(//svg:rect)', svg::xml, array[array['svg', 'http://www.w3.org/2000/svg']]))[1]::text as bars,
       svg ~ 'KEN: 200 people' as title
  from refuge.population_pyramid_svg(2, 'KEN') svg;
select pg_temp.err($q$select refuge.population_pyramid_svg(2, 'XXX')$q$);
-- a forecast: a linear series continues its line, with a widening interval
select step, round(forecast::numeric, 1) as forecast, round((upper95 - lower95)::numeric, 1) > 0 as has_interval
  from refuge.forecast(array[100, 112, 118, 131, 139, 152, 158, 171]::float8[], 3);
select pg_temp.err($q$select * from refuge_warehouse.population_forecast('KEN', 2)$q$) as two_snapshots_are_too_few;
select pg_temp.err($q$select * from refuge.forecast(array[1, 2]::float8[], 3)$q$);
reset role;

-- only DBAs drop snapshots; the partitions go with them
set role wh_analyst;
select pg_temp.err('select refuge.drop_snapshot(1)');
reset role;
set role wh_dba;
select refuge.drop_snapshot(1);
select pg_temp.err('select refuge.drop_snapshot(1)');
select snapshot_id, label from refuge.snapshots();
-- flows are published once, from the snapshot before: a back-dated snapshot has none, and
-- overlapping intervals (whose difference would be a suppressed flow) are refused
select refuge.snapshot(now() - interval '1 hour', 'back-dated') ->> 'snapshot_id' as back_dated;
select refuge.snapshot(now(), 'third') ->> 'snapshot_id' as third;
reset role;
set role wh_analyst;
select count(*) > 0 as flows_of_2_kept from refuge_warehouse.flows(1, 2);
select pg_temp.err('select * from refuge_warehouse.flows(1, 3)');
select count(*) > 0 as flows_2_to_4 from refuge_warehouse.flows(2, 4);
select pg_temp.err('select * from refuge_warehouse.flows(3, 4)') as from_the_back_dated_one;
select snapshot_id, from_snapshot_id from refuge_warehouse.flow_summary group by 1, 2 order by 1;
reset role;
select count(*) as partitions_left from pg_class where relnamespace = 'refuge_warehouse'::regnamespace
   and relname ~ '_\d+$';

-- leave the database as found for the next suite
-- (TRUNCATE is refused on refuge's tables: the extension is installed anew)
-- counts are integers and means double precision: drivers get numbers (Python
-- Decimal for numeric, node-postgres strings for numeric and bigint)
select c.relname, a.attname, format_type(a.atttypid, a.atttypmod) as type
  from pg_attribute a join pg_class c on c.oid = a.attrelid
 where c.relnamespace = 'refuge_warehouse'::regnamespace and c.relkind in ('r', 'p', 'v') and not c.relispartition
   and a.attnum > 0 and a.atttypid in ('numeric'::regtype, 'bigint'::regtype)
 order by 1, 2;
select p.oid::regprocedure as function, pg_get_function_result(p.oid) ~ 'numeric|bigint' as has_numeric_or_bigint
  from pg_proc p
 where p.oid in ('refuge.population_summary(date, integer)'::regprocedure, 'refuge_warehouse.flows(integer, integer)'::regprocedure)
 order by 1;
\i test/lib/reinstall.sql
drop table fam;
drop role wh_dba, wh_analyst, wh_reg, wh_rst;
