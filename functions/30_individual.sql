-- Parsing and writing one individual: scalar biodata (parse_individual) and
-- collections (write_collections).  Shared by registration, additions and
-- updates so that one rule is checked in one place.  Internal: not granted.

-- Next k readable numbers of an operation, e.g. KEN-26-000123 (operation,
-- year of issue, serial).  Serials come from refuge.number_seq, so concurrent
-- registrations do not wait for each other.
create function refuge.next_numbers(p_operation uuid, k integer) returns text[]
    language sql volatile
begin atomic
    select array_agg(format('%s-%s-%s', o.code, to_char(current_date, 'YY'), lpad(nextval('refuge.number_seq')::text, 6, '0'))
                     order by g)
      from refuge.operation o, generate_series(1, k) g
     where o.id = p_operation;
end;

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

-- Write the collections present in obj for one individual.  With replace,
-- a listed collection replaces what the person had (the audit trail keeps
-- the old rows); specific needs and documents are always added.
create function refuge.write_collections(p_individual uuid, obj jsonb, path text, replace boolean)
    returns void
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
        if replace then delete from refuge.individual_name where individual_id = p_individual; end if;
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
            insert into refuge.individual_name (individual_id, kind, script, given_name, middle_name, family_name,
                                                second_family_name, maiden_name)
            values (p_individual, coalesce(e ->> 'kind', 'ALIAS'), refuge.arg_code(e, 'script', p, 'script'),
                    refuge.arg_text(e, 'given_name', p, false, 100), refuge.arg_text(e, 'middle_name', p, false, 100),
                    refuge.arg_text(e, 'family_name', p, false, 100), refuge.arg_text(e, 'second_family_name', p, false, 100),
                    refuge.arg_text(e, 'maiden_name', p, false, 100));
        end loop;
    end if;

    if obj ? 'nationalities' then
        arr := refuge.arg_array(obj, 'nationalities', path, 10);
        if replace then delete from refuge.individual_nationality where individual_id = p_individual; end if;
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
            insert into refuge.individual_nationality (individual_id, country, is_primary)
            values (p_individual, e ->> 'country',
                    refuge.arg_bool(e, 'primary', p, false) or jsonb_array_length(arr) = 1);
        end loop;
    end if;

    if obj ? 'languages' then
        arr := refuge.arg_array(obj, 'languages', path, 20);
        if replace then delete from refuge.individual_language where individual_id = p_individual; end if;
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
            insert into refuge.individual_language (individual_id, language, mother_tongue, read_level, write_level,
                                                    speak_level, understand_level)
            values (p_individual, e ->> 'language', refuge.arg_bool(e, 'mother_tongue', p, false),
                    refuge.arg_code(e, 'read', p, 'language_proficiency'),
                    refuge.arg_code(e, 'write', p, 'language_proficiency'),
                    refuge.arg_code(e, 'speak', p, 'language_proficiency'),
                    refuge.arg_code(e, 'understand', p, 'language_proficiency'));
        end loop;
    end if;

    if obj ? 'education' then
        arr := refuge.arg_array(obj, 'education', path, 20);
        if replace then delete from refuge.individual_education where individual_id = p_individual; end if;
        for i in 0 .. jsonb_array_length(arr) - 1 loop
            e := arr -> i;
            p := format('%s.education[%s]', path, i);
            perform refuge.arg_fields(e, p, array['level', 'degree', 'field', 'institution', 'country',
                                                  'year_from', 'year_to', 'completed']);
            if refuge.arg_int(e, 'year_to', p, 1900, 2100) < refuge.arg_int(e, 'year_from', p, 1900, 2100) then
                perform refuge.raise_field('22023', p || '.year_to', format('%s is before year_from %s',
                                           e -> 'year_to', e -> 'year_from'));
            end if;
            insert into refuge.individual_education (individual_id, level, degree, field, institution, country,
                                                     year_from, year_to, completed)
            values (p_individual, refuge.arg_code(e, 'level', p, 'education_level', true),
                    refuge.arg_code(e, 'degree', p, 'education_degree'), refuge.arg_text(e, 'field', p),
                    refuge.arg_text(e, 'institution', p), refuge.arg_code(e, 'country', p, 'country'),
                    refuge.arg_int(e, 'year_from', p, 1900, 2100), refuge.arg_int(e, 'year_to', p, 1900, 2100),
                    refuge.arg_bool(e, 'completed', p));
        end loop;
    end if;

    if obj ? 'occupations' then
        arr := refuge.arg_array(obj, 'occupations', path, 30);
        if replace then delete from refuge.individual_occupation where individual_id = p_individual; end if;
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
            if d2 < d1 then
                perform refuge.raise_field('22008', p || '.date_to', format('"%s" is before date_from %s', refuge.iso(d2), refuge.iso(d1)));
            end if;
            insert into refuge.individual_occupation (individual_id, kind, occupation, title, employer, country,
                                                      date_from, date_to)
            values (p_individual, coalesce(e ->> 'kind', 'EMPLOYED'), refuge.arg_code(e, 'occupation', p, 'occupation'),
                    refuge.arg_text(e, 'title', p), refuge.arg_text(e, 'employer', p),
                    refuge.arg_code(e, 'country', p, 'country'), d1, d2);
        end loop;
    end if;

    if obj ? 'contacts' then
        arr := refuge.arg_array(obj, 'contacts', path, 20);
        if replace then delete from refuge.individual_contact where individual_id = p_individual; end if;
        for i in 0 .. jsonb_array_length(arr) - 1 loop
            e := arr -> i;
            p := format('%s.contacts[%s]', path, i);
            perform refuge.arg_fields(e, p, array['type', 'value', 'still_in_use', 'date_from', 'date_to']);
            insert into refuge.individual_contact (individual_id, contact_type, value, still_in_use, date_from, date_to)
            values (p_individual, refuge.arg_code(e, 'type', p, 'contact_type', true),
                    refuge.arg_text(e, 'value', p, true, 200), refuge.arg_bool(e, 'still_in_use', p, true),
                    refuge.arg_date(e, 'date_from', p), refuge.arg_date(e, 'date_to', p));
        end loop;
    end if;

    if obj ? 'addresses' then
        arr := refuge.arg_array(obj, 'addresses', path, 30);
        if replace then delete from refuge.individual_address where individual_id = p_individual; end if;
        for i in 0 .. jsonb_array_length(arr) - 1 loop
            e := arr -> i;
            p := format('%s.addresses[%s]', path, i);
            perform refuge.arg_fields(e, p, array['type', 'country', 'level1', 'level2', 'level3', 'level4', 'level5',
                                                  'level6', 'text', 'location', 'date_from', 'date_to']);
            d1 := refuge.arg_date(e, 'date_from', p);
            d2 := refuge.arg_date(e, 'date_to', p);
            if d2 < d1 then
                perform refuge.raise_field('22008', p || '.date_to', format('"%s" is before date_from %s', refuge.iso(d2), refuge.iso(d1)));
            end if;
            insert into refuge.individual_address (individual_id, address_type, country, location_level1,
                location_level2, location_level3, location_level4, location_level5, location_level6,
                address_text, location, date_from, date_to)
            values (p_individual, refuge.arg_code(e, 'type', p, 'address_type', true),
                    refuge.arg_code(e, 'country', p, 'country'),
                    refuge.arg_text(e, 'level1', p), refuge.arg_text(e, 'level2', p), refuge.arg_text(e, 'level3', p),
                    refuge.arg_text(e, 'level4', p), refuge.arg_text(e, 'level5', p), refuge.arg_text(e, 'level6', p),
                    refuge.arg_text(e, 'text', p, false, 500), refuge.arg_point(e, 'location', p), d1, d2);
        end loop;
    end if;

    if obj ? 'flight_legs' then
        arr := refuge.arg_array(obj, 'flight_legs', path, 50);
        if replace then delete from refuge.flight_leg where individual_id = p_individual; end if;
        for i in 0 .. jsonb_array_length(arr) - 1 loop
            perform refuge.insert_flight_leg(p_individual, arr -> i, format('%s.flight_legs[%s]', path, i), null);
        end loop;
    end if;

    if obj ? 'documents' then
        arr := refuge.arg_array(obj, 'documents', path, 30);
        for i in 0 .. jsonb_array_length(arr) - 1 loop
            perform refuge.insert_document(p_individual, arr -> i, format('%s.documents[%s]', path, i));
        end loop;
    end if;

    if obj ? 'photo' and obj -> 'photo' <> 'null'::jsonb then
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
        update refuge.photo set is_current = false where individual_id = p_individual and is_current;
        insert into refuge.photo (individual_id, uri, sha256, content_type, taken_at)
        values (p_individual, refuge.arg_text(e, 'uri', p, true, 1000),
                decode(e ->> 'sha256', 'hex'), e ->> 'content_type',
                (refuge.arg_date(e, 'taken_at', p))::timestamptz);
    end if;

    if obj ? 'specific_needs' then
        arr := refuge.arg_array(obj, 'specific_needs', path, 50);
        for i in 0 .. jsonb_array_length(arr) - 1 loop
            perform refuge.insert_specific_need(p_individual, arr -> i, format('%s.specific_needs[%s]', path, i));
        end loop;
    end if;
end
$$;
