-- Registration API: operations, sites, families, idempotent retries,
-- additions, biodata updates, needs, flight legs, documents.
\set VERBOSITY terse
set client_min_messages = warning;
-- numbers carry the year; print it as YY so the expected output is stable
create function pg_temp.n(t text) returns text language sql as $$ select regexp_replace(t, '-\d{2}-', '-YY-') $$;
create function pg_temp.try(q text) returns text language plpgsql as $$
begin execute q; return 'ok'; exception when others then return sqlstate || ': ' || sqlerrm; end $$;

select refuge.lib_version() = extversion as library_matches from pg_extension where extname = 'refuge';

select refuge.create_operation('KEN', 'KEN', 'Kenya',
    '{"type":"Polygon","coordinates":[[[33.9,-4.7],[41.9,-4.7],[41.9,5.0],[33.9,5.0],[33.9,-4.7]]]}') is not null as ken;
select refuge.create_operation('UGA', 'UGA', 'Uganda') is not null as uga;
select refuge.create_site('KEN', 'KAKUMA', 'Kakuma camp', 'CAMP', 34.85, 3.72) is not null as kakuma;
select refuge.create_site('KEN', 'NAIROBI', 'Nairobi urban', 'URBAN', 36.82, -1.29) is not null as nairobi;
select refuge.create_site('UGA', 'NAKIVALE', 'Nakivale settlement', 'CAMP', 30.95, -0.78) is not null as nakivale;
select code, country, geometrytype(area), round(st_area(area)::numeric, 1) from refuge.operation order by code;

-- a family of four with biodata, flight legs shared by all, needs and documents
select refuge.register_group($${
  "request_id": "00000000-0000-4000-8000-000000000001",
  "operation": "KEN", "site": "KAKUMA", "registration_level": "COMPREHENSIVE", "population_type": "REF",
  "origin_country": "SSD", "arrival_date": "2024-03-02", "registration_date": "2024-03-05",
  "flight_legs": [
    {"place": "Bor", "country": "SSD", "location": {"lon": 31.56, "lat": 6.21}, "departed_on": "2024-02-10",
     "reasons": ["ARMED_CONFLICT", "PERSECUTION"]},
    {"place": "Nadapal", "country": "SSD", "location": {"type": "Point", "coordinates": [34.26, 4.41]},
     "arrived_on": "2024-02-25", "departed_on": "2024-03-01"},
    {"place": "Kakuma", "country": "KEN", "location": {"lon": 34.85, "lat": 3.72}, "arrived_on": "2024-03-02"}],
  "addresses": [{"type": "CoA", "country": "KEN", "level1": "Turkana", "level2": "Kakuma", "text": "Block 4, plot 12"}],
  "members": [
    {"ref": "mother", "relationship": "PA", "given_name": "Nyakim", "family_name": "Gatdet", "sex": "F",
     "date_of_birth": "1988-04-02", "marital_status": "WD", "religion": "CHR", "education_level": "8",
     "mother_name": "Nyachuol", "place_of_birth": "Bor", "birth_country": "SSD",
     "names": [{"kind": "ORIGINAL_SCRIPT", "script": "Arab", "given_name": "نياكيم", "family_name": "قاتديت"},
               {"kind": "ALIAS", "given_name": "Mary"}],
     "nationalities": [{"country": "SSD", "primary": true}],
     "languages": [{"language": "nus", "mother_tongue": true, "speak": "E", "understand": "E"},
                   {"language": "apd", "speak": "N"}],
     "education": [{"level": "8", "institution": "Bor primary", "country": "SSD", "year_from": 1996, "year_to": 2003, "completed": true}],
     "occupations": [{"kind": "EMPLOYED", "occupation": "6111", "title": "farmer", "country": "SSD"},
                     {"kind": "SKILL", "title": "tailoring"}],
     "contacts": [{"type": "MOBILE", "value": "+254 700 000 001"}],
     "documents": [{"type": "NATIONAL_ID", "number": "SS-88-001", "issuing_country": "SSD", "issued_on": "2012-05-01"}],
     "photo": {"uri": "vault://photos/a1.jpg", "content_type": "image/jpeg",
               "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
     "specific_needs": ["SP-PT", {"code": "SV-VA", "identified_on": "2024-03-05", "comment": "referred to protection"}]},
    {"ref": "son", "relationship": "SON", "given_name": "Deng", "family_name": "Gatdet", "sex": "M",
     "date_of_birth": "2012-07-01", "dob_precision": "MONTH", "birth_country": "SSD", "nationalities": [{"country": "SSD"}]},
    {"ref": "daughter", "relationship": "DAU", "given_name": "Nyaluak", "family_name": "Gatdet", "sex": "F",
     "date_of_birth": "2020-01-01", "dob_precision": "YEAR", "specific_needs": [{"category": "SM"}],
     "birth_country": "KEN", "nationalities": [{"country": "SSD"}]},
    {"ref": "nephew", "relationship": "NEP", "given_name": "Kuol", "sex": "M", "date_of_birth": "2010-06-15",
     "dob_precision": "ESTIMATED", "specific_needs": ["SC-SC"], "birth_country": "SSD", "nationalities": [{"country": "SSD"}],
     "flight_legs": [{"place": "Malakal", "country": "SSD", "departed_on": "2023-11-01", "reasons": ["FAMILY_REUNIFICATION"]},
                     {"place": "Kakuma", "country": "KEN", "arrived_on": "2024-03-02"}]}
  ]}$$) as r \gset
select pg_temp.n(:'r'::jsonb ->> 'group_number') as group_number,
       jsonb_array_length(:'r'::jsonb -> 'members') as members, :'r'::jsonb -> 'replayed' as replayed;
select m ->> 'ref' as ref, pg_temp.n(m ->> 'number') as number, m ->> 'relationship' as relationship
  from jsonb_array_elements(:'r'::jsonb -> 'members') m;

select pg_temp.n(individual_number) as number, relationship, given_name, family_name, sex, date_of_birth,
       dob_precision, population_type, registration_level, status
  from refuge.current_member order by individual_number;

-- the retry returns the first result and writes nothing
select count(*) as individuals_before from refuge.individual;
select (refuge.register_group($${
  "request_id": "00000000-0000-4000-8000-000000000002", "operation": "KEN", "site": "NAIROBI",
  "registration_level": "BASIC", "population_type": "ASY", "origin_country": "SOM",
  "members": [{"relationship": "PA", "given_name": "Abdi", "family_name": "Hassan", "sex": "M", "date_of_birth": "1979-09-09"}]
}$$) ->> 'group_number') is not null as second_family;
select pg_temp.n(refuge.register_group($${
  "request_id": "00000000-0000-4000-8000-000000000002", "operation": "KEN", "site": "NAIROBI",
  "registration_level": "BASIC", "population_type": "ASY", "origin_country": "SOM",
  "members": [{"relationship": "PA", "given_name": "Abdi", "family_name": "Hassan", "sex": "M", "date_of_birth": "1979-09-09"}]
}$$) ->> 'group_number') as replay_number,
  (select count(*) from refuge.individual) as individuals_after_replay;
select pg_temp.try($q$select refuge.register_group('{
  "request_id": "00000000-0000-4000-8000-000000000002", "operation": "KEN", "site": "NAIROBI",
  "registration_level": "BASIC", "population_type": "ASY",
  "members": [{"relationship": "PA", "given_name": "Someone", "family_name": "Else", "sex": "M"}]}')$q$) as reused_request_id;

-- what was stored
select n.kind, n.script, n.given_name, n.family_name from refuge.individual_name n
  join refuge.individual i on i.id = n.individual_id order by i.number, n.kind;
select i.given_name, l.language, l.mother_tongue, l.speak_level from refuge.individual_language l
  join refuge.individual i on i.id = l.individual_id order by 1, 2;
select i.given_name, f.seq, f.place, f.country, f.reasons, st_astext(f.location) as location
  from refuge.flight_leg f join refuge.individual i on i.id = f.individual_id
 where i.given_name in ('Nyakim', 'Kuol') order by 1, 2;
select i.given_name, st_astext(refuge.flight_route(i.id)) as route
  from refuge.individual i where i.given_name in ('Nyakim', 'Kuol', 'Abdi') order by 1;
select i.given_name, a.address_type, a.location_level1, a.address_text from refuge.individual_address a
  join refuge.individual i on i.id = a.individual_id order by 1;
select i.given_name, s.category, s.code, s.active, s.comment from refuge.specific_need s
  join refuge.individual i on i.id = s.individual_id order by 1, 2, 3;
select d.doc_type, d.number, d.issuing_country, d.status from refuge.document d;
select p.uri, encode(p.sha256, 'hex') = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08' as sha_ok,
       p.is_current from refuge.photo p;
select o.kind, o.occupation, o.title from refuge.individual_occupation o order by 1;

-- a birth: added to the family, inheriting its population type and level
select pg_temp.n(refuge.add_individual(g.id, '{"relationship": "SON", "given_name": "Garang", "family_name": "Gatdet",
        "sex": "M", "date_of_birth": "2024-10-01", "birth_country": "KEN"}') ->> 'number') as newborn
  from refuge.registration_group g where g.id = (:'r'::jsonb ->> 'group_id')::uuid;
select given_name, population_type, registration_level, birth_country from refuge.individual where given_name = 'Garang';
select pg_temp.n(pg_temp.try(format($q$select refuge.add_individual(%L, '{"relationship": "PA", "given_name": "X", "sex": "M"}')$q$,
       :'r'::jsonb ->> 'group_id'))) as second_principal;

-- updates: scalars change, collections are replaced, status has its date
select refuge.update_individual(i.id, '{"middle_name": "Achol", "marital_status": "MA",
        "nationalities": ["SSD", "SDN"], "contacts": [], "status": "ACTIVE"}') -> 'fields' as fields
  from refuge.individual i where i.given_name = 'Nyakim';
select given_name, middle_name, marital_status,
       (select array_agg(country order by country) from refuge.individual_nationality n where n.individual_id = i.id) as nationalities,
       (select count(*) from refuge.individual_contact c where c.individual_id = i.id) as contacts
  from refuge.individual i where i.given_name = 'Nyakim';
select refuge.update_individual(i.id, '{"middle_name": null, "population_type": "REF"}') -> 'fields' as fields
  from refuge.individual i where i.given_name = 'Nyakim';
select middle_name is null as cleared from refuge.individual where given_name = 'Nyakim';

-- specific needs: open, close (history kept), reopen
select refuge.add_specific_need(i.id, '{"code": "ER-NF"}') is not null as added
  from refuge.individual i where i.given_name = 'Nyakim';
select refuge.close_specific_need(s.id, 'resolved after referral')
  from refuge.specific_need s join refuge.individual i on i.id = s.individual_id
 where i.given_name = 'Nyakim' and s.code = 'ER-NF';
select refuge.add_specific_need(i.id, '{"code": "ER-NF"}') is not null as reopened
  from refuge.individual i where i.given_name = 'Nyakim';
select s.code, s.active, s.closed_on = current_date as closed_today, s.close_reason
  from refuge.specific_need s where s.code = 'ER-NF' order by s.active;

-- flight legs: insert in the middle keeps the order
select refuge.add_flight_leg(i.id, '{"place": "Lokichogio", "country": "KEN", "location": {"lon": 34.35, "lat": 4.2},
        "arrived_on": "2024-03-01", "departed_on": "2024-03-02"}', 3) is not null as inserted
  from refuge.individual i where i.given_name = 'Nyakim';
select f.seq, f.place from refuge.flight_leg f join refuge.individual i on i.id = f.individual_id
 where i.given_name = 'Nyakim' order by f.seq;

-- documents: the same document twice is refused without naming the holder
select pg_temp.try(format($q$select refuge.add_document(%L, '{"type": "NATIONAL_ID", "number": "ss 88 001", "issuing_country": "SSD"}')$q$, i.id))
  as duplicate_document from refuge.individual i where i.given_name = 'Abdi';
select refuge.add_document(i.id, '{"type": "PASSPORT", "number": "P1234567", "issuing_country": "SOM",
        "issued_on": "2019-01-01", "expires_on": "2029-01-01"}') is not null as passport
  from refuge.individual i where i.given_name = 'Abdi';
select refuge.set_document_status(d.id, 'LOST') from refuge.document d where d.number = 'P1234567';
select number, status from refuge.document order by number;

-- readable numbers are unique across groups and individuals of an operation
select count(*) = count(distinct number) as unique_numbers
  from (select number from refuge.individual union all select number from refuge.registration_group) n;
-- serials grow past six digits without being cut
select setval('refuge.number_seq', 999998);
select pg_temp.n(m ->> 'number') as number from jsonb_array_elements(refuge.register_group('{"operation": "UGA", "site": "NAKIVALE",
  "registration_level": "BASIC", "population_type": "REF", "members": [{"relationship": "PA", "given_name": "Big", "sex": "M"},
  {"relationship": "SON", "given_name": "Bigger", "sex": "M"}]}') -> 'members') m;
select refuge.age_bracket('2020-01-01', '2024-06-01'), refuge.age_bracket('1950-01-01', '2024-06-01'),
       refuge.age_bracket(null), refuge.age_bracket('2012-07-01', '2024-06-01', 'STD1');

-- leave the database as found for the next suite
-- (TRUNCATE is refused on refuge's tables: the extension is installed anew)
\i test/lib/reinstall.sql
