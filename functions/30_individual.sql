-- Parsing and writing one individual: scalar biodata (parse_individual) and
-- collections (write_collections).  Shared by registration, additions and
-- updates so that one rule is checked in one place.  Internal: not granted.

-- Next k readable numbers of an operation, e.g. KEN-26-000123 (operation,
-- year of issue, serial).  Serials come from refuge.number_seq, so concurrent
-- registrations do not wait for each other.
create function refuge.next_numbers(p_operation uuid, k integer) returns text[]
    language plpgsql volatile
as $$
begin
    -- at least six digits; never truncated (lpad would cut 1000000 to 100000)
    return (select array_agg(format('%s-%s-%s', o.code, to_char(current_date, 'YY'),
                                    lpad(x.n::text, greatest(6, length(x.n::text)), '0')) order by g)
              from refuge.operation o,
                   lateral (select g, nextval('refuge.number_seq') as n from generate_series(1, k) g) x
             where o.id = p_operation);
end
$$;

-- Scalar biodata of one person, validated, as an individual row (the keys
-- that are not biodata stay null).
create function refuge.parse_individual(m jsonb, path text) returns refuge.individual
    language plpgsql stable
as $$
declare
    r refuge.individual;
begin
    r.given_name := refuge.arg_text(m, 'given_name', path, false, 100);
    r.middle_name := refuge.arg_text(m, 'middle_name', path, false, 100);
    r.family_name := refuge.arg_text(m, 'family_name', path, false, 100);
    r.second_family_name := refuge.arg_text(m, 'second_family_name', path, false, 100);
    r.maiden_name := refuge.arg_text(m, 'maiden_name', path, false, 100);
    r.mother_name := refuge.arg_text(m, 'mother_name', path, false, 200);
    r.father_name := refuge.arg_text(m, 'father_name', path, false, 200);
    if r.given_name is null and r.family_name is null then
        perform refuge.raise_field('22004', path || '.given_name', 'a given name or a family name is required');
    end if;
    r.sex := refuge.arg_code(m, 'sex', path, 'sex', true);
    r.date_of_birth := refuge.arg_date(m, 'date_of_birth', path);
    r.dob_precision := refuge.arg_code(m, 'dob_precision', path, 'date_precision', false, 'EXACT');
    r.place_of_birth := refuge.arg_text(m, 'place_of_birth', path, false, 200);
    r.birth_country := refuge.arg_code(m, 'birth_country', path, 'country');
    r.origin_country := refuge.arg_code(m, 'origin_country', path, 'country');
    r.ethnicity := refuge.arg_code(m, 'ethnicity', path, 'ethnicity');
    r.religion := refuge.arg_code(m, 'religion', path, 'religion');
    r.marital_status := refuge.arg_code(m, 'marital_status', path, 'marital_status');
    r.education_level := refuge.arg_code(m, 'education_level', path, 'education_level');
    r.population_type := refuge.arg_code(m, 'population_type', path, 'population_type', true);
    r.registration_level := refuge.arg_code(m, 'registration_level', path, 'registration_level', true);
    r.arrival_date := refuge.arg_date(m, 'arrival_date', path);
    if r.arrival_date < r.date_of_birth then
        perform refuge.raise_field('22008', path || '.arrival_date',
            format('"%s" is before the date of birth %s', refuge.iso(r.arrival_date), refuge.iso(r.date_of_birth)));
    end if;
    return r;
end
$$;

-- Validate the collections present in obj for one individual and append
-- their rows to rows (each row tagged with its table in "_t"), writing nothing.  p_new: the
-- individual is being created, so it has no needs or photos yet.
create function refuge.collection_rows(p_individual uuid, obj jsonb, path text, p_new boolean, rows jsonb[])
    returns jsonb[]
    language plpgsql
as $$
declare
    arr jsonb;
    e jsonb;
    i integer;
    p text;
    primaries integer;
    dob date;
    d1 date;
    d2 date;
begin
    if obj ? 'names' then
        arr := refuge.arg_array(obj, 'names', path, 20);
        for i in 0 .. jsonb_array_length(arr) - 1 loop
            e := arr -> i;
            p := format('%s.names[%s]', path, i);
            perform refuge.arg_fields(e, p, array['kind', 'script', 'given_name', 'middle_name', 'family_name',
                                                  'second_family_name', 'maiden_name']);
            if coalesce(refuge.arg_text(e, 'given_name', p, false, 100), refuge.arg_text(e, 'middle_name', p, false, 100),
                        refuge.arg_text(e, 'family_name', p, false, 100), refuge.arg_text(e, 'second_family_name', p, false, 100),
                        refuge.arg_text(e, 'maiden_name', p, false, 100)) is null then
                perform refuge.raise_field('22004', p, 'at least one name part is required');
            end if;
            if coalesce(e ->> 'kind', 'ALIAS') not in ('ORIGINAL_SCRIPT', 'ALIAS', 'PREVIOUS', 'TRANSLITERATION') then
                perform refuge.raise_field('22023', p || '.kind', format('unknown kind %s', e -> 'kind'),
                                           'one of ORIGINAL_SCRIPT, ALIAS, PREVIOUS, TRANSLITERATION');
            end if;
            rows := rows || (jsonb_build_object(
                    'id', gen_random_uuid(),
                    'individual_id', p_individual,
                    'kind', coalesce(e ->> 'kind', 'ALIAS'),
                    'script', refuge.arg_code(e, 'script', p, 'script'),
                    'given_name', refuge.arg_text(e, 'given_name', p, false, 100),
                    'middle_name', refuge.arg_text(e, 'middle_name', p, false, 100),
                    'family_name', refuge.arg_text(e, 'family_name', p, false, 100),
                    'second_family_name', refuge.arg_text(e, 'second_family_name', p, false, 100),
                    'maiden_name', refuge.arg_text(e, 'maiden_name', p, false, 100)) || jsonb_build_object('_t', 'individual_name'));
        end loop;
    end if;

    if obj ? 'nationalities' then
        arr := refuge.arg_array(obj, 'nationalities', path, 10);
        primaries := 0;
        for i in 0 .. jsonb_array_length(arr) - 1 loop
            e := arr -> i;
            p := format('%s.nationalities[%s]', path, i);
            if jsonb_typeof(e) = 'string' then
                e := jsonb_build_object('country', e);
            end if;
            perform refuge.arg_fields(e, p, array['country', 'primary']);
            perform refuge.arg_code(e, 'country', p, 'country', true);
            if (select count(*) from jsonb_array_elements(arr) x
                 where coalesce(x ->> 'country', x #>> '{}') = e ->> 'country') > 1 then
                perform refuge.raise_field('22023', p || '.country', format('"%s" is listed twice', e ->> 'country'));
            end if;
            if refuge.arg_bool(e, 'primary', p, false) then
                primaries := primaries + 1;
                if primaries > 1 then
                    perform refuge.raise_field('22023', p || '.primary', 'only one nationality can be primary');
                end if;
            end if;
            rows := rows || (jsonb_build_object(
                    'id', gen_random_uuid(),
                    'individual_id', p_individual,
                    'country', e ->> 'country',
                    'is_primary', refuge.arg_bool(e, 'primary', p, false) or jsonb_array_length(arr) = 1) || jsonb_build_object('_t', 'individual_nationality'));
        end loop;
    end if;

    if obj ? 'languages' then
        arr := refuge.arg_array(obj, 'languages', path, 20);
        for i in 0 .. jsonb_array_length(arr) - 1 loop
            e := arr -> i;
            p := format('%s.languages[%s]', path, i);
            if jsonb_typeof(e) = 'string' then
                e := jsonb_build_object('language', e);
            end if;
            perform refuge.arg_fields(e, p, array['language', 'mother_tongue', 'read', 'write', 'speak', 'understand']);
            perform refuge.arg_code(e, 'language', p, 'language', true);
            if (select count(*) from jsonb_array_elements(arr) x
                 where coalesce(x ->> 'language', x #>> '{}') = e ->> 'language') > 1 then
                perform refuge.raise_field('22023', p || '.language', format('"%s" is listed twice', e ->> 'language'));
            end if;
            rows := rows || (jsonb_build_object(
                    'id', gen_random_uuid(),
                    'individual_id', p_individual,
                    'language', e ->> 'language',
                    'mother_tongue', refuge.arg_bool(e, 'mother_tongue', p, false),
                    'read_level', refuge.arg_code(e, 'read', p, 'language_proficiency'),
                    'write_level', refuge.arg_code(e, 'write', p, 'language_proficiency'),
                    'speak_level', refuge.arg_code(e, 'speak', p, 'language_proficiency'),
                    'understand_level', refuge.arg_code(e, 'understand', p, 'language_proficiency')) || jsonb_build_object('_t', 'individual_language'));
        end loop;
    end if;

    if obj ? 'education' then
        arr := refuge.arg_array(obj, 'education', path, 20);
        for i in 0 .. jsonb_array_length(arr) - 1 loop
            e := arr -> i;
            p := format('%s.education[%s]', path, i);
            perform refuge.arg_fields(e, p, array['level', 'degree', 'field', 'institution', 'country',
                                                  'year_from', 'year_to', 'completed']);
            if refuge.arg_int(e, 'year_to', p, 1900, 2100) < refuge.arg_int(e, 'year_from', p, 1900, 2100) then
                perform refuge.raise_field('22023', p || '.year_to', format('%s is before year_from %s',
                                           e -> 'year_to', e -> 'year_from'));
            end if;
            rows := rows || (jsonb_build_object(
                    'id', gen_random_uuid(),
                    'individual_id', p_individual,
                    'level', refuge.arg_code(e, 'level', p, 'education_level', true),
                    'degree', refuge.arg_code(e, 'degree', p, 'education_degree'),
                    'field', refuge.arg_text(e, 'field', p),
                    'institution', refuge.arg_text(e, 'institution', p),
                    'country', refuge.arg_code(e, 'country', p, 'country'),
                    'year_from', refuge.arg_int(e, 'year_from', p, 1900, 2100),
                    'year_to', refuge.arg_int(e, 'year_to', p, 1900, 2100),
                    'completed', refuge.arg_bool(e, 'completed', p)) || jsonb_build_object('_t', 'individual_education'));
        end loop;
    end if;

    if obj ? 'occupations' then
        arr := refuge.arg_array(obj, 'occupations', path, 30);
        for i in 0 .. jsonb_array_length(arr) - 1 loop
            e := arr -> i;
            p := format('%s.occupations[%s]', path, i);
            perform refuge.arg_fields(e, p, array['kind', 'occupation', 'title', 'employer', 'country',
                                                  'date_from', 'date_to']);
            if coalesce(e ->> 'kind', 'EMPLOYED') not in ('EMPLOYED', 'NOT_EMPLOYED', 'SKILL') then
                perform refuge.raise_field('22023', p || '.kind', format('unknown kind %s', e -> 'kind'),
                                           'one of EMPLOYED, NOT_EMPLOYED, SKILL');
            end if;
            if e ->> 'occupation' is null and e ->> 'title' is null then
                perform refuge.raise_field('22004', p, 'an occupation code or a title is required');
            end if;
            d1 := refuge.arg_date(e, 'date_from', p);
            d2 := refuge.arg_date(e, 'date_to', p);
            perform refuge.check_dates(d1, d2, p, 'date_from', 'date_to');
            rows := rows || (jsonb_build_object(
                    'id', gen_random_uuid(),
                    'individual_id', p_individual,
                    'kind', coalesce(e ->> 'kind', 'EMPLOYED'),
                    'occupation', refuge.arg_code(e, 'occupation', p, 'occupation'),
                    'title', refuge.arg_text(e, 'title', p),
                    'employer', refuge.arg_text(e, 'employer', p),
                    'country', refuge.arg_code(e, 'country', p, 'country'),
                    'date_from', d1,
                    'date_to', d2) || jsonb_build_object('_t', 'individual_occupation'));
        end loop;
    end if;

    if obj ? 'contacts' then
        arr := refuge.arg_array(obj, 'contacts', path, 20);
        for i in 0 .. jsonb_array_length(arr) - 1 loop
            e := arr -> i;
            p := format('%s.contacts[%s]', path, i);
            perform refuge.arg_fields(e, p, array['type', 'value', 'still_in_use', 'date_from', 'date_to']);
            perform refuge.check_dates(refuge.arg_date(e, 'date_from', p), refuge.arg_date(e, 'date_to', p),
                                       p, 'date_from', 'date_to');
            rows := rows || (jsonb_build_object(
                    'id', gen_random_uuid(),
                    'individual_id', p_individual,
                    'contact_type', refuge.arg_code(e, 'type', p, 'contact_type', true),
                    'value', refuge.arg_text(e, 'value', p, true, 200),
                    'still_in_use', refuge.arg_bool(e, 'still_in_use', p, true),
                    'date_from', refuge.arg_date(e, 'date_from', p),
                    'date_to', refuge.arg_date(e, 'date_to', p)) || jsonb_build_object('_t', 'individual_contact'));
        end loop;
    end if;

    if obj ? 'addresses' then
        arr := refuge.arg_array(obj, 'addresses', path, 30);
        for i in 0 .. jsonb_array_length(arr) - 1 loop
            e := arr -> i;
            p := format('%s.addresses[%s]', path, i);
            perform refuge.arg_fields(e, p, array['type', 'country', 'level1', 'level2', 'level3', 'level4', 'level5',
                                                  'level6', 'text', 'location', 'date_from', 'date_to']);
            d1 := refuge.arg_date(e, 'date_from', p);
            d2 := refuge.arg_date(e, 'date_to', p);
            perform refuge.check_dates(d1, d2, p, 'date_from', 'date_to');
            rows := rows || (jsonb_build_object(
                    'id', gen_random_uuid(),
                    'individual_id', p_individual,
                    'address_type', refuge.arg_code(e, 'type', p, 'address_type', true),
                    'country', refuge.arg_code(e, 'country', p, 'country'),
                    'location_level1', refuge.arg_text(e, 'level1', p),
                    'location_level2', refuge.arg_text(e, 'level2', p),
                    'location_level3', refuge.arg_text(e, 'level3', p),
                    'location_level4', refuge.arg_text(e, 'level4', p),
                    'location_level5', refuge.arg_text(e, 'level5', p),
                    'location_level6', refuge.arg_text(e, 'level6', p),
                    'address_text', refuge.arg_text(e, 'text', p, false, 500),
                    'location', (refuge.arg_point(e, 'location', p))::text,
                    'date_from', d1,
                    'date_to', d2) || jsonb_build_object('_t', 'individual_address'));
        end loop;
    end if;

    if obj ? 'flight_legs' then
        arr := refuge.arg_array(obj, 'flight_legs', path, 50);
        for i in 0 .. jsonb_array_length(arr) - 1 loop
            rows := rows || (refuge.flight_leg_row(p_individual, arr -> i, format('%s.flight_legs[%s]', path, i), i + 1) || jsonb_build_object('_t', 'flight_leg'));
        end loop;
    end if;

    if obj ? 'documents' then
        arr := refuge.arg_array(obj, 'documents', path, 30);
        for i in 0 .. jsonb_array_length(arr) - 1 loop
            rows := rows || (refuge.document_row(p_individual, arr -> i, format('%s.documents[%s]', path, i), rows) || jsonb_build_object('_t', 'document'));
        end loop;
    end if;

    if obj ? 'photo' and obj -> 'photo' <> 'null'::jsonb then
        if exists (select 1 from unnest(rows) b where b @> jsonb_build_object('_t', 'photo', 'individual_id', p_individual)) then
            perform refuge.raise_field('22023', path || '.photo', 'one current photo per individual');
        end if;
        e := obj -> 'photo';
        p := path || '.photo';
        perform refuge.arg_fields(e, p, array['uri', 'sha256', 'content_type', 'taken_at']);
        if e ->> 'sha256' is not null and (e ->> 'sha256') !~ '^[0-9a-fA-F]{64}$' then
            perform refuge.raise_field('22023', p || '.sha256', 'expected 64 hexadecimal digits');
        end if;
        if e ->> 'content_type' is not null and e ->> 'content_type' not in ('image/jpeg', 'image/png', 'image/jp2') then
            perform refuge.raise_field('22023', p || '.content_type', format('%s is not image/jpeg, image/png or image/jp2',
                                       e -> 'content_type'));
        end if;
        rows := rows || (jsonb_build_object(
                    'id', gen_random_uuid(),
                    'individual_id', p_individual,
                    'uri', refuge.arg_text(e, 'uri', p, true, 1000),
                    'sha256', decode(e ->> 'sha256', 'hex'),
                    'content_type', e ->> 'content_type',
                    'taken_at', (refuge.arg_date(e, 'taken_at', p))::timestamptz,
                    'is_current', true) || jsonb_build_object('_t', 'photo'));
    end if;

    if obj ? 'specific_needs' then
        arr := refuge.arg_array(obj, 'specific_needs', path, 50);
        for i in 0 .. jsonb_array_length(arr) - 1 loop
            rows := rows || (refuge.specific_need_row(p_individual, arr -> i, format('%s.specific_needs[%s]', path, i), p_new, rows) || jsonb_build_object('_t', 'specific_need'));
        end loop;
    end if;
    return rows;
end
$$;

-- Append one row, tagged with its table, to the rows of a batch.  (Hot
-- paths write the same expression inline: PostgreSQL 15 does not inline
-- SQL-standard function bodies.)
create function refuge.add_row(rows jsonb[], tab text, r jsonb) returns jsonb[]
    language sql immutable
begin atomic
    select rows || (r || jsonb_build_object('_t', tab));
end;

-- Insert validated rows, one statement per table, in foreign-key order.
-- Static statements keep their plans cached; keys starting with _ are
-- ignored by jsonb_populate_recordset.
create function refuge.insert_rows(rows jsonb[]) returns void
    language plpgsql
as $$
declare
    tabs text[] := array(select distinct r ->> '_t' from unnest(rows) r);
begin
    if 'registration_group' = any (tabs) then
        insert into refuge.registration_group
        select * from jsonb_populate_recordset(null::refuge.registration_group, (select jsonb_agg(x.v order by x.ord) from unnest(rows) with ordinality x(v, ord) where x.v ->> '_t' = 'registration_group'));
    end if;
    if 'individual' = any (tabs) then
        insert into refuge.individual
        select * from jsonb_populate_recordset(null::refuge.individual, (select jsonb_agg(x.v order by x.ord) from unnest(rows) with ordinality x(v, ord) where x.v ->> '_t' = 'individual'));
    end if;
    if 'group_membership' = any (tabs) then
        insert into refuge.group_membership
        select * from jsonb_populate_recordset(null::refuge.group_membership, (select jsonb_agg(x.v order by x.ord) from unnest(rows) with ordinality x(v, ord) where x.v ->> '_t' = 'group_membership'));
    end if;
    if 'individual_name' = any (tabs) then
        insert into refuge.individual_name
        select * from jsonb_populate_recordset(null::refuge.individual_name, (select jsonb_agg(x.v order by x.ord) from unnest(rows) with ordinality x(v, ord) where x.v ->> '_t' = 'individual_name'));
    end if;
    if 'individual_nationality' = any (tabs) then
        insert into refuge.individual_nationality
        select * from jsonb_populate_recordset(null::refuge.individual_nationality, (select jsonb_agg(x.v order by x.ord) from unnest(rows) with ordinality x(v, ord) where x.v ->> '_t' = 'individual_nationality'));
    end if;
    if 'individual_language' = any (tabs) then
        insert into refuge.individual_language
        select * from jsonb_populate_recordset(null::refuge.individual_language, (select jsonb_agg(x.v order by x.ord) from unnest(rows) with ordinality x(v, ord) where x.v ->> '_t' = 'individual_language'));
    end if;
    if 'individual_education' = any (tabs) then
        insert into refuge.individual_education
        select * from jsonb_populate_recordset(null::refuge.individual_education, (select jsonb_agg(x.v order by x.ord) from unnest(rows) with ordinality x(v, ord) where x.v ->> '_t' = 'individual_education'));
    end if;
    if 'individual_occupation' = any (tabs) then
        insert into refuge.individual_occupation
        select * from jsonb_populate_recordset(null::refuge.individual_occupation, (select jsonb_agg(x.v order by x.ord) from unnest(rows) with ordinality x(v, ord) where x.v ->> '_t' = 'individual_occupation'));
    end if;
    if 'individual_contact' = any (tabs) then
        insert into refuge.individual_contact
        select * from jsonb_populate_recordset(null::refuge.individual_contact, (select jsonb_agg(x.v order by x.ord) from unnest(rows) with ordinality x(v, ord) where x.v ->> '_t' = 'individual_contact'));
    end if;
    if 'individual_address' = any (tabs) then
        insert into refuge.individual_address
        select * from jsonb_populate_recordset(null::refuge.individual_address, (select jsonb_agg(x.v order by x.ord) from unnest(rows) with ordinality x(v, ord) where x.v ->> '_t' = 'individual_address'));
    end if;
    if 'flight_leg' = any (tabs) then
        insert into refuge.flight_leg
        select * from jsonb_populate_recordset(null::refuge.flight_leg, (select jsonb_agg(x.v order by x.ord) from unnest(rows) with ordinality x(v, ord) where x.v ->> '_t' = 'flight_leg'));
    end if;
    if 'document' = any (tabs) then
        insert into refuge.document
        select * from jsonb_populate_recordset(null::refuge.document, (select jsonb_agg(x.v order by x.ord) from unnest(rows) with ordinality x(v, ord) where x.v ->> '_t' = 'document'));
    end if;
    if 'photo' = any (tabs) then
        insert into refuge.photo
        select * from jsonb_populate_recordset(null::refuge.photo, (select jsonb_agg(x.v order by x.ord) from unnest(rows) with ordinality x(v, ord) where x.v ->> '_t' = 'photo'));
    end if;
    if 'specific_need' = any (tabs) then
        insert into refuge.specific_need
        select * from jsonb_populate_recordset(null::refuge.specific_need, (select jsonb_agg(x.v order by x.ord) from unnest(rows) with ordinality x(v, ord) where x.v ->> '_t' = 'specific_need'));
    end if;
end
$$;

-- Write the collections present in obj for an existing individual.  A
-- listed collection replaces what the person had (the audit trail keeps the
-- old rows); a photo becomes the current one; needs and documents are added.
create function refuge.write_collections(p_individual uuid, obj jsonb, path text) returns void
    language plpgsql
as $$
declare
    rows jsonb[] := refuge.collection_rows(p_individual, obj, path, false, '{}');
begin
    if obj ? 'names' then delete from refuge.individual_name where individual_id = p_individual; end if;
    if obj ? 'nationalities' then delete from refuge.individual_nationality where individual_id = p_individual; end if;
    if obj ? 'languages' then delete from refuge.individual_language where individual_id = p_individual; end if;
    if obj ? 'education' then delete from refuge.individual_education where individual_id = p_individual; end if;
    if obj ? 'occupations' then delete from refuge.individual_occupation where individual_id = p_individual; end if;
    if obj ? 'contacts' then delete from refuge.individual_contact where individual_id = p_individual; end if;
    if obj ? 'addresses' then delete from refuge.individual_address where individual_id = p_individual; end if;
    if obj ? 'flight_legs' then delete from refuge.flight_leg where individual_id = p_individual; end if;
    if exists (select 1 from unnest(rows) b where b ->> '_t' = 'photo') then
        update refuge.photo set is_current = false where individual_id = p_individual and is_current;
    end if;
    perform refuge.insert_rows(rows);
end
$$;
