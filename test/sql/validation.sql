-- Bad input: every error has a SQLSTATE and names the field and the value's
-- problem, and nothing is written.
\set VERBOSITY terse
set client_min_messages = warning;
create function pg_temp.try(q text) returns text language plpgsql as $$
begin execute q; return 'ok'; exception when others then return sqlstate || ': ' || sqlerrm; end $$;
-- register a family built from a good one with one field changed (jsonb_set path, new value)
create function pg_temp.reg(path text[], val jsonb) returns text language sql as $$
  select pg_temp.try(format('select refuge.register_group(%L)', jsonb_set($j${
    "operation": "KEN", "site": "KAKUMA", "registration_level": "BASIC", "population_type": "REF",
    "origin_country": "SSD",
    "members": [
      {"relationship": "PA", "given_name": "Achol", "family_name": "Deng", "sex": "F", "date_of_birth": "1990-01-01",
       "documents": [{"type": "PASSPORT", "number": "R0000001", "issuing_country": "SSD"}],
       "flight_legs": [{"place": "Juba", "country": "SSD", "departed_on": "2024-01-01", "reasons": ["ARMED_CONFLICT"]}]},
      {"relationship": "SON", "given_name": "Mabior", "family_name": "Deng", "sex": "M", "date_of_birth": "2015-05-05",
       "specific_needs": [{"code": "SM-CI"}]}
    ]}$j$::jsonb, path, val, true)))
$$;
create function pg_temp.counts() returns text language sql as $$
  select format('groups=%s individuals=%s memberships=%s legs=%s documents=%s needs=%s audit=%s requests=%s',
    (select count(*) from refuge.registration_group), (select count(*) from refuge.individual),
    (select count(*) from refuge.group_membership), (select count(*) from refuge.flight_leg),
    (select count(*) from refuge.document), (select count(*) from refuge.specific_need),
    (select count(*) from refuge.audit_log), (select count(*) from refuge.api_request))
$$;

select refuge.create_operation('KEN', 'KEN', 'Kenya') is not null;
select refuge.create_site('KEN', 'KAKUMA', 'Kakuma camp', 'CAMP', 34.85, 3.72) is not null;
select pg_temp.counts() as before \gset

-- the unchanged payload is valid (checked at the end, after the failures)
select pg_temp.reg('{members,0,sex}', '"X"') as unknown_sex;
select pg_temp.reg('{members,1,relationship}', '"PA"') as two_principals;
select pg_temp.reg('{members,0,relationship}', '"WIF"') as no_principal;
select pg_temp.reg('{members,0,date_of_birth}', '"1990-02-30"') as impossible_date;
select pg_temp.reg('{members,0,date_of_birth}', '"02/03/1990"') as date_format;
select pg_temp.reg('{members,0,date_of_birth}', '"2999-01-01"') as future_birth;
select pg_temp.reg('{members,0,date_of_birth}', '19900101') as date_not_string;
select pg_temp.reg('{members,0,given_name}', '42') as name_not_string;
select pg_temp.reg('{members,0,family_name}', '{"a": 1}') as name_not_string_2;
select pg_temp.try($q$select refuge.register_group('{"operation": "KEN", "site": "KAKUMA", "registration_level": "BASIC",
  "population_type": "REF", "members": [{"relationship": "PA", "sex": "F"}]}')$q$) as no_name;
select pg_temp.reg('{members,0,sex}', 'null') as missing_sex;
select pg_temp.reg('{members,0,date_of_brith}', '"1990-01-01"') as misspelt_field;
select pg_temp.reg('{members,0,origin_country}', '"XXX"') as unknown_country;
select pg_temp.reg('{members,0,origin_country}', '"ke"') as country_alpha2;
select pg_temp.reg('{population_type}', '"REFUGEE"') as unknown_population_type;
select pg_temp.reg('{registration_level}', 'null') as missing_level;
select pg_temp.reg('{operation}', '"ZZZ"') as unknown_operation;
select pg_temp.reg('{site}', '"NOWHERE"') as unknown_site;
select pg_temp.reg('{members}', '[]') as no_members;
select pg_temp.reg('{members}', '{"a": 1}') as members_not_array;
select pg_temp.reg('{members,1}', '"Mabior"') as member_not_object;
select pg_temp.reg('{request_id}', '"not-a-uuid"') as bad_request_id;
select pg_temp.reg('{members,0,arrival_date}', '"1980-01-01"') as arrival_before_birth;
select pg_temp.reg('{members,0,documents,0,type}', '"VISA"') as unknown_document_type;
select pg_temp.reg('{members,0,documents,0,number}', '""') as empty_document_number;
select pg_temp.reg('{members,0,documents,0}', '{"type": "PASSPORT", "number": "R1", "issued_on": "2020-01-01", "expires_on": "2019-01-01"}') as document_expiry;
select pg_temp.reg('{members,0,contacts}', '[{"type": "MOBILE", "value": "+1", "date_from": "2024-05-01", "date_to": "2024-01-01"}]') as contact_dates;
select pg_temp.reg('{members,0,flight_legs,0,reasons}', '["BOREDOM"]') as unknown_flight_reason;
select pg_temp.reg('{members,0,flight_legs,0,location}', '{"lon": 200, "lat": 4}') as bad_longitude;
select pg_temp.reg('{members,0,flight_legs,0,location}', '{"type": "LineString", "coordinates": [[1,2],[3,4]]}') as not_a_point;
select pg_temp.reg('{members,0,flight_legs,0}', '{"country": "SSD", "arrived_on": "2024-02-01", "departed_on": "2024-01-01"}') as leg_dates;
select pg_temp.reg('{members,1,specific_needs,0,code}', '"SM-XX"') as unknown_need;
select pg_temp.reg('{members,1,specific_needs,0}', '{"category": "SC", "code": "SM-CI"}') as need_category_mismatch;
select pg_temp.reg('{members,1,specific_needs}', '["SM-CI", "SM-CI"]') as need_twice;
select pg_temp.reg('{members,0,nationalities}', '["SSD", "SSD"]') as nationality_twice;
select pg_temp.reg('{members,0,nationalities}', '[{"country": "SSD", "primary": true}, {"country": "SDN", "primary": true}]') as two_primary;
select pg_temp.reg('{members,0,languages}', '[{"language": "xx"}]') as bad_language;
select pg_temp.reg('{members,0,languages}', '[{"language": "nus", "speak": "FLUENT"}]') as bad_proficiency;
select pg_temp.reg('{members,0,education}', '[{"level": "UG", "year_from": 2010, "year_to": 2005}]') as education_years;
select pg_temp.reg('{members,0,education}', '[{"level": "UG", "year_from": 2010.5}]') as year_not_integer;
select pg_temp.reg('{members,0,names}', '[{"kind": "ALIAS"}]') as empty_alias;
select pg_temp.reg('{members,0,names}', '[{"kind": "NICKNAME", "given_name": "A"}]') as bad_name_kind;
select pg_temp.reg('{members,0,photo}', '{"uri": "x", "sha256": "abc"}') as bad_photo_hash;
select pg_temp.reg('{members,0,family_name}', to_jsonb(repeat('x', 101))) as name_too_long;
select pg_temp.try($q$select refuge.register_group('[1, 2]')$q$) as payload_not_object;
select pg_temp.try($q$select refuge.register_group('{"operation": "KEN",')$q$) as malformed_json;
select pg_temp.try($q$select refuge.register_group(null)$q$) as null_payload;

select pg_temp.counts() = :'before' as nothing_written;

-- the same payload without the fault registers
select pg_temp.reg('{members,0,given_name}', '"Achol"') as valid_payload;
select pg_temp.counts() <> :'before' as written;

-- other entry points
select pg_temp.try($q$select refuge.update_individual('00000000-0000-4000-8000-00000000dead', '{"sex": "F"}')$q$) as unknown_individual;
select pg_temp.try(format($q$select refuge.update_individual(%L, '{"sex": "Q"}')$q$, id)) as update_bad_sex
  from refuge.individual where given_name = 'Achol';
select pg_temp.try(format($q$select refuge.update_individual(%L, '{"given_name": null, "family_name": null}')$q$, id)) as update_no_name
  from refuge.individual where given_name = 'Achol';
select pg_temp.try(format($q$select refuge.update_individual(%L, '{"relationship": "SON"}')$q$, id)) as update_not_updatable
  from refuge.individual where given_name = 'Achol';
select pg_temp.try(format($q$select refuge.close_specific_need(%L, '')$q$, id)) as close_without_reason from refuge.specific_need;
select replace(pg_temp.try(format($q$select refuge.close_specific_need(%L, 'ok', '2000-01-01')$q$, id)), to_char(current_date, 'YYYY-MM-DD'), 'TODAY')
       as close_before_identified from refuge.specific_need;
select pg_temp.try($q$select refuge.create_operation('ke', 'KEN', 'Kenya')$q$) as bad_operation_code;
select pg_temp.try($q$select refuge.create_operation('KEN', 'KEN', 'Kenya')$q$) as duplicate_operation;
select pg_temp.try($q$select refuge.create_operation('SOM', 'SOM', 'Somalia', '{"type": "Point", "coordinates": [1, 2]}')$q$) as area_not_polygon;
select pg_temp.try($q$select refuge.create_site('KEN', 'X1', 'x', 'PALACE')$q$) as bad_site_type;
select pg_temp.try($q$select refuge.create_site('KEN', 'X1', 'x', 'CAMP', 10, null)$q$) as half_a_point;
select pg_temp.try($q$select refuge.assign_staff('no_such_role', 'KEN')$q$) as unknown_role;
select pg_temp.try($q$select refuge.assign_staff('refuge_registration', 'KEN')$q$) as group_role;

-- leave the database as found for the next suite
-- (TRUNCATE is refused on refuge's tables: the extension is installed anew)
-- an API error reaches the client with its field path and SQLSTATE, without the
-- PL/pgSQL context lines of every function it went through
\set VERBOSITY default
\set SHOW_CONTEXT errors
select refuge.register_group('{"operation": "XX"}');
\set VERBOSITY terse
\i test/lib/reinstall.sql
