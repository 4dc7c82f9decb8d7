-- The registration API: register families, add members, update biodata,
-- documents, needs, flight legs; status changes by request and approval.

-- Next k readable numbers of an operation, e.g. KEN-26-000123 (operation,
-- year of issue, serial).  Serials come from refuge.number_seq, so concurrent
-- registrations do not wait for each other.  A field site's serials start
-- with its letters (KEN-26-A000123): unique everywhere without asking HQ.
create function refuge.next_numbers(p_operation uuid, k integer) returns text[]
    language plpgsql volatile
as $$
declare
    series text := refuge.local_series();
begin
    -- at least six digits; never truncated (lpad would cut 1000000 to 100000)
    return (select array_agg(format('%s-%s-%s%s', o.code, to_char(current_date, 'YY'), series,
                                    lpad(x.n::text, greatest(6, length(x.n::text)), '0')) order by g)
              from refuge.operation o,
                   lateral (select g, nextval('refuge.number_seq') as n from generate_series(1, k) g) x
             where o.id = p_operation);
end
$$;

create function refuge.parse_individual(m jsonb, path text)
    returns refuge.individual
    language plpgsql stable
as $$
declare
    r refuge.individual;
begin
    r.given_name := refuge.arg_name(m, 'given_name', path, false, 100);
    r.middle_name := refuge.arg_name(m, 'middle_name', path, false, 100);
    r.family_name := refuge.arg_name(m, 'family_name', path, false, 100);
    r.second_family_name := refuge.arg_name(m, 'second_family_name', path, false, 100);
    r.maiden_name := refuge.arg_name(m, 'maiden_name', path, false, 100);
    r.mother_name := refuge.arg_name(m, 'mother_name', path, false, 200);
    r.father_name := refuge.arg_name(m, 'father_name', path, false, 200);
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
            if coalesce(refuge.arg_name(e, 'given_name', p, false, 100), refuge.arg_name(e, 'middle_name', p, false, 100),
                        refuge.arg_name(e, 'family_name', p, false, 100), refuge.arg_name(e, 'second_family_name', p, false, 100),
                        refuge.arg_name(e, 'maiden_name', p, false, 100)) is null then
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
                    'given_name', refuge.arg_name(e, 'given_name', p, false, 100),
                    'middle_name', refuge.arg_name(e, 'middle_name', p, false, 100),
                    'family_name', refuge.arg_name(e, 'family_name', p, false, 100),
                    'second_family_name', refuge.arg_name(e, 'second_family_name', p, false, 100),
                    'maiden_name', refuge.arg_name(e, 'maiden_name', p, false, 100)) || jsonb_build_object('_t', 'individual_name'));
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

-- One flight leg, validated, as a row (seq given by the caller).
create function refuge.flight_leg_row(p_individual uuid, e jsonb, p text, p_seq integer) returns jsonb
    language plpgsql
as $$
declare
    reasons text[];
    d1 date;
    d2 date;
    i integer;
begin
    perform refuge.arg_fields(e, p, array['place', 'country', 'location', 'arrived_on', 'departed_on',
                                          'date_precision', 'reasons', 'comment']);
    d1 := refuge.arg_date(e, 'arrived_on', p);
    d2 := refuge.arg_date(e, 'departed_on', p);
    perform refuge.check_dates(d1, d2, p, 'arrived_on', 'departed_on');
    reasons := '{}';
    for i in 0 .. jsonb_array_length(refuge.arg_array(e, 'reasons', p, 10)) - 1 loop
        reasons := reasons || refuge.arg_code(jsonb_build_object('code', e -> 'reasons' -> i),
                                              'code', format('%s.reasons[%s]', p, i), 'flight_reason', true);
    end loop;
    return jsonb_build_object('id', gen_random_uuid(), 'individual_id', p_individual, 'seq', p_seq,
        'place', refuge.arg_text(e, 'place', p), 'country', refuge.arg_code(e, 'country', p, 'country', true),
        'location', (refuge.arg_point(e, 'location', p))::text, 'arrived_on', d1, 'departed_on', d2,
        'date_precision', refuge.arg_code(e, 'date_precision', p, 'date_precision', false, 'EXACT'),
        'reasons', reasons, 'comment', refuge.arg_text(e, 'comment', p, false, 2000));
end
$$;

-- Add one leg to an existing individual: seq null appends; a given seq
-- inserts there and shifts later legs.
create function refuge.insert_flight_leg(p_individual uuid, e jsonb, p text, p_seq integer) returns uuid
    language plpgsql
as $$
declare
    r jsonb;
    seq integer;
begin
    select coalesce(max(f.seq), 0) + 1 into seq from refuge.flight_leg f where f.individual_id = p_individual;
    r := refuge.flight_leg_row(p_individual, e, p, least(coalesce(p_seq, seq), seq));
    if p_seq is not null and p_seq < seq then
        -- make room: move later legs out of the way, then back one further
        update refuge.flight_leg f set seq = f.seq + 1000000
         where f.individual_id = p_individual and f.seq >= p_seq;
        update refuge.flight_leg f set seq = f.seq - 1000000 + 1
         where f.individual_id = p_individual and f.seq >= 1000000;
    end if;
    perform refuge.insert_rows(refuge.add_row('{}', 'flight_leg', r));
    return (r ->> 'id')::uuid;
end
$$;

create function refuge.document_row(p_individual uuid, e jsonb, p text, batch jsonb[])
    returns jsonb
    language plpgsql
as $$
declare
    dtype text;
    num text;
    issuer text;
    d1 date;
    d2 date;
    k text;
    dup record;
begin
    perform refuge.arg_fields(e, p, array['type', 'number', 'issuing_country', 'issued_on', 'expires_on',
                                          'status', 'original_seen', 'comment']);
    dtype := refuge.arg_code(e, 'type', p, 'document_type', true);
    num := refuge.arg_text(e, 'number', p, true, 60);
    issuer := refuge.arg_code(e, 'issuing_country', p, 'country');
    d1 := refuge.arg_date(e, 'issued_on', p);
    d2 := refuge.arg_date(e, 'expires_on', p, false, false);
    perform refuge.check_dates(d1, d2, p, 'issued_on', 'expires_on');
    if coalesce(e ->> 'status', 'VALID') not in ('VALID', 'EXPIRED', 'LOST', 'CONFISCATED', 'CANCELLED') then
        perform refuge.raise_field('22023', p || '.status', format('unknown status %s', e -> 'status'),
                                   'one of VALID, EXPIRED, LOST, CONFISCATED, CANCELLED');
    end if;
    if refuge.identifier_key(num) = '' then
        perform refuge.raise_field('22023', p || '.number', 'has no letter or digit');
    end if;
    k := dtype || '/' || coalesce(issuer, '') || '/' || refuge.identifier_key(num);
    select d.id, d.individual_id, i.operation_id, i.site_id into dup
      from refuge.document d join refuge.individual i on i.id = d.individual_id
     where d.doc_type = dtype and coalesce(d.issuing_country, '') = coalesce(issuer, '')
       and refuge.identifier_key(d.number) = refuge.identifier_key(num)
     limit 1;
    if dup.id is not null and not refuge.in_scope(dup.operation_id, dup.site_id) then
        -- global deduplication must say that the document is held elsewhere: that
        -- answer is a lookup across operations, committed by the logging worker
        -- before it is given (a clerk who rolls back still leaves a trace)
        perform refuge.log_durably(jsonb_build_object('sensitive_read', jsonb_build_array(jsonb_build_object(
            'actor', refuge.caller(), 'kind', 'document_match', 'object_id', dup.id,
            'individual_id', dup.individual_id, 'operation_id', dup.operation_id,
            'purpose', 'registration refused: the document is recorded in another operation'))));
    end if;
    if dup.id is not null
       or exists (select 1 from unnest(batch) b where b @> jsonb_build_object('_t', 'document', '_key', k)) then
        -- the number goes in the detail, which the server log withholds
        -- (extension/log_privacy.c): a document number singles a person out
        raise exception using errcode = '23505', schema = 'refuge',
            message = format('%s.number: this %s%s is already recorded', left(p, 200), dtype, coalesce(' issued by ' || issuer, '')),
            detail = format('number %s', refuge.excerpt(num)),
            hint = 'the document belongs to a registered individual; check for a double registration';
    end if;
    return jsonb_build_object('id', gen_random_uuid(), 'individual_id', p_individual, 'doc_type', dtype,
        'number', num, 'issuing_country', issuer, 'issued_on', d1, 'expires_on', d2,
        'status', coalesce(e ->> 'status', 'VALID'), 'original_seen', refuge.arg_bool(e, 'original_seen', p, false),
        'comment', refuge.arg_text(e, 'comment', p, false, 2000), '_key', k);
end
$$;

create function refuge.insert_document(p_individual uuid, e jsonb, p text) returns uuid
    language plpgsql
as $$
declare
    r jsonb := refuge.document_row(p_individual, e, p, '{}'::jsonb[]);
begin
    perform refuge.insert_rows(refuge.add_row('{}', 'document', r));
    return (r ->> 'id')::uuid;
end
$$;

-- One specific need, validated, as a row.  A need is {"code": "SC-UC"}
-- (category implied), {"category": "SC"}, or the code as a string.  The same
-- need open twice (already, or in this batch) is refused.
create function refuge.specific_need_row(p_individual uuid, e jsonb, p text, p_new boolean, batch jsonb[]) returns jsonb
    language plpgsql
as $$
declare
    v_cat text;
    v_code text;
begin
    if jsonb_typeof(e) = 'string' then
        e := jsonb_build_object('code', e);
    end if;
    perform refuge.arg_fields(e, p, array['category', 'code', 'identified_on', 'comment']);
    v_code := refuge.arg_text(e, 'code', p, false, 20);
    if v_code is not null and v_code !~ '-' then
        -- a bare category given as code
        e := e - 'code' || jsonb_build_object('category', coalesce(e -> 'category', to_jsonb(v_code)));
        v_code := null;
    end if;
    if v_code is not null then
        v_code := refuge.arg_code(e, 'code', p, 'specific_need_code', true);
        select c.category into v_cat from refuge.specific_need_code c where c.code = v_code;
        if e ? 'category' and e ->> 'category' <> v_cat then
            perform refuge.raise_field('22023', p || '.category',
                format('"%s" does not match code %s (category %s)', e ->> 'category', v_code, v_cat));
        end if;
    else
        v_cat := refuge.arg_code(e, 'category', p, 'specific_need_category', true);
    end if;
    if (not p_new and exists (select 1 from refuge.specific_need s
                               where s.individual_id = p_individual and s.active
                                 and s.category = v_cat and coalesce(s.code, '') = coalesce(v_code, '')))
       or exists (select 1 from unnest(batch) b where b @> jsonb_build_object(
              '_t', 'specific_need', 'individual_id', p_individual, 'category', v_cat, 'code', v_code)) then
        perform refuge.raise_field('23505', p, format('%s is already an open specific need of this individual',
                                                      coalesce(v_code, v_cat)));
    end if;
    return jsonb_build_object('id', gen_random_uuid(), 'individual_id', p_individual, 'category', v_cat,
        'code', v_code, 'active', true,
        'identified_on', coalesce(refuge.arg_date(e, 'identified_on', p), current_date),
        'comment', refuge.arg_text(e, 'comment', p, false, 2000));
end
$$;

create function refuge.insert_specific_need(p_individual uuid, e jsonb, p text) returns uuid
    language plpgsql
as $$
declare
    r jsonb := refuge.specific_need_row(p_individual, e, p, false, '{}'::jsonb[]);
begin
    perform refuge.insert_rows(refuge.add_row('{}', 'specific_need', r));
    return (r ->> 'id')::uuid;
end
$$;

-- The record is read without a lock until the caller's scope is known.
create function refuge.individual_for_update(p_individual uuid, p_role name, p_action text)
    returns refuge.individual
    language plpgsql
as $$
declare
    r refuge.individual;
begin
    perform refuge.authorize(p_role, p_action);
    if p_individual is null then
        perform refuge.raise_field('22004', 'individual_id', 'is required');
    end if;
    select * into r from refuge.individual i where i.id = p_individual;
    if not found or not refuge.in_scope(r.operation_id, r.site_id) then
        perform refuge.raise_field('P0002', 'individual_id', 'not found in your operations');
    end if;
    select * into r from refuge.individual i where i.id = p_individual for update;
    return r;
end
$$;

create function refuge.add_flight_leg(individual_id uuid, leg jsonb, seq integer default null) returns uuid
    language plpgsql security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
begin
    perform refuge.individual_for_update(individual_id, 'refuge_registration', 'add_flight_leg');
    if seq is not null and seq < 1 then
        perform refuge.raise_field('22023', 'seq', format('%s is not a position (1 or more)', seq));
    end if;
    return refuge.insert_flight_leg(individual_id, leg, 'leg', seq);
end
$$;
comment on function refuge.add_flight_leg(uuid, jsonb, integer) is
    'record a leg of an individual''s flight (places, dates, reasons); returns its id';
grant execute on function refuge.add_flight_leg(uuid, jsonb, integer) to refuge_registration;

create function refuge.add_document(individual_id uuid, document jsonb) returns uuid
    language plpgsql security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
begin
    perform refuge.individual_for_update(individual_id, 'refuge_registration', 'add_document');
    return refuge.insert_document(individual_id, document, 'document');
end
$$;
comment on function refuge.add_document(uuid, jsonb) is
    'record an identity or civil document of an individual (duplicate numbers refused under identifier_key); returns its id';
grant execute on function refuge.add_document(uuid, jsonb) to refuge_registration;

create function refuge.set_document_status(document_id uuid, status text) returns void
    language plpgsql security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    ind uuid;
begin
    perform refuge.authorize('refuge_registration', 'set_document_status');
    select d.individual_id into ind from refuge.document d where d.id = document_id;
    perform refuge.require_visible(exists (select 1 from refuge.individual i where i.id = ind
                                               and refuge.in_scope(i.operation_id, i.site_id)), 'document_id');
    perform refuge.individual_for_update(ind, 'refuge_registration', 'set_document_status');
    if status is null or status not in ('VALID', 'EXPIRED', 'LOST', 'CONFISCATED', 'CANCELLED') then
        perform refuge.raise_field('22023', 'status', format('unknown status %s', coalesce(quote_literal(status), 'null')),
                                   'one of VALID, EXPIRED, LOST, CONFISCATED, CANCELLED');
    end if;
    update refuge.document d set status = set_document_status.status where d.id = document_id;
end
$$;
comment on function refuge.set_document_status(uuid, text) is
    'set a document''s status (valid, expired, lost, confiscated, cancelled)';
grant execute on function refuge.set_document_status(uuid, text) to refuge_registration;

create function refuge.add_specific_need(individual_id uuid, need jsonb) returns uuid
    language plpgsql security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
begin
    perform refuge.individual_for_update(individual_id, 'refuge_registration', 'add_specific_need');
    return refuge.insert_specific_need(individual_id, need, 'need');
end
$$;
comment on function refuge.add_specific_need(uuid, jsonb) is
    'record a specific need (UNHCR category and code) of an individual; returns its id';
grant execute on function refuge.add_specific_need(uuid, jsonb) to refuge_registration;

create function refuge.close_specific_need(need_id uuid, reason text, closed_on date default current_date)
    returns void
    language plpgsql security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    n refuge.specific_need;
begin
    perform refuge.authorize('refuge_registration', 'close_specific_need');
    select * into n from refuge.specific_need s where s.id = need_id;
    perform refuge.require_visible(exists (select 1 from refuge.individual i where i.id = n.individual_id
                                               and refuge.in_scope(i.operation_id, i.site_id)), 'need_id');
    perform refuge.individual_for_update(n.individual_id, 'refuge_registration', 'close_specific_need');
    if not n.active then
        perform refuge.raise_field('22023', 'need_id', format('specific need %s was already closed on %s', need_id, refuge.iso(n.closed_on)));
    end if;
    if nullif(btrim(reason), '') is null then
        perform refuge.raise_field('22004', 'reason', 'is required');
    end if;
    if closed_on is null or closed_on > current_date or closed_on < n.identified_on then
        perform refuge.raise_field('22008', 'closed_on',
            format('%s must be between the identification date %s and today', coalesce(refuge.iso(closed_on), 'null'), refuge.iso(n.identified_on)));
    end if;
    update refuge.specific_need s
       set active = false, closed_on = close_specific_need.closed_on, close_reason = btrim(reason)
     where s.id = need_id;
end
$$;
comment on function refuge.close_specific_need(uuid, text, date) is
    'close a specific need with the reason and date (the row stays as history)';
grant execute on function refuge.close_specific_need(uuid, text, date) to refuge_registration;

-- Fields a member object may carry.
create function refuge.member_fields() returns text[]
    language sql immutable parallel safe
begin atomic
    select array['ref', 'relationship', 'given_name', 'middle_name', 'family_name', 'second_family_name',
                 'maiden_name', 'mother_name', 'father_name', 'sex', 'date_of_birth', 'dob_precision',
                 'place_of_birth', 'birth_country', 'origin_country', 'ethnicity', 'religion', 'marital_status',
                 'education_level', 'population_type', 'registration_level', 'arrival_date', 'names',
                 'nationalities', 'languages', 'education', 'occupations', 'contacts', 'addresses',
                 'flight_legs', 'documents', 'photo', 'specific_needs'];
end;

-- Validate one member of a group and append its rows (individual,
-- membership, collections) to rows.  defaults carries the group-level values
-- (population type, registration level, origin, arrival date, and the flight
-- legs and addresses shared by members that give none of their own).
-- The member's entry for the API result is a row of table "_result".
create function refuge.member_rows(p_group uuid, p_operation uuid, p_site uuid, m jsonb, path text,
                                   defaults jsonb, p_number text, p_reason text, rows jsonb[]) returns jsonb[]
    language plpgsql
as $$
declare
    r refuge.individual;
    rel text;
    shared jsonb;
begin
    perform refuge.arg_fields(m, path, refuge.member_fields());
    rel := refuge.arg_code(m, 'relationship', path, 'relationship', true);
    perform refuge.arg_text(m, 'ref', path, false, 50);
    r := refuge.parse_individual((defaults - array['flight_legs', 'addresses', 'registration_date']) || m, path);
    r.id := gen_random_uuid();
    r.number := p_number;
    r.operation_id := p_operation;
    r.site_id := p_site;
    r.registration_date := coalesce((defaults ->> 'registration_date')::date, current_date);
    r.population_type_date := r.registration_date;
    r.status := 'ACTIVE';
    r.status_date := r.registration_date;
    rows := rows || (to_jsonb(r) || jsonb_build_object('_t', 'individual'));
    rows := rows || (jsonb_build_object('id', gen_random_uuid(), 'group_id', p_group,
                'individual_id', r.id, 'relationship', rel, 'valid_from', now(), 'start_reason', p_reason) || jsonb_build_object('_t', 'group_membership'));
    rows := refuge.collection_rows(r.id, m, path, true, rows);
    shared := jsonb_strip_nulls(jsonb_build_object(
        'flight_legs', case when not m ? 'flight_legs' then defaults -> 'flight_legs' end,
        'addresses', case when not m ? 'addresses' then defaults -> 'addresses' end));
    if shared <> '{}' then
        rows := refuge.collection_rows(r.id, shared, 'payload', true, rows);
    end if;
    return rows || (jsonb_build_object('ref', m -> 'ref', 'individual_id', r.id,
                                                              'number', p_number, 'relationship', rel) || jsonb_build_object('_t', '_result'));
end
$$;

create function refuge.claim_request(p_request uuid, p_function text, p_payload jsonb) returns jsonb
    language plpgsql
as $$
declare
    h bytea := sha256(convert_to(p_payload::text, 'UTF8'));
    prior refuge.api_request;
begin
    if p_request is null then
        return null;
    end if;
    -- a concurrent twin of the same caller waits here until the first commits or aborts
    insert into refuge.api_request (request_id, function_name, caller, payload_hash, result)
    values (p_request, p_function, refuge.caller(), h, '{}')
    on conflict (caller, request_id) do nothing;
    if found then
        return null;
    end if;
    select * into prior from refuge.api_request a where a.caller = refuge.caller() and a.request_id = p_request;
    if prior.function_name <> p_function or prior.payload_hash <> h then
        perform refuge.raise_field('23505', 'request_id',
            format('%s was already used for a different request', p_request),
            'use a new request id for a new request; repeat the same payload to retry');
    end if;
    return prior.result || '{"replayed": true}';
end
$$;

create function refuge.finish_request(p_request uuid, p_result jsonb) returns jsonb
    language plpgsql
as $$
begin
    if p_request is not null then
        update refuge.api_request a set result = p_result
         where a.caller = refuge.caller() and a.request_id = p_request;
    end if;
    return p_result || '{"replayed": false}';
end
$$;

-- Register a whole family in one call.  See README "register_group" for the
-- shape of the payload.  Idempotent on payload.request_id.
create function refuge.register_group(payload jsonb) returns jsonb
    language plpgsql security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    req uuid;
    prior jsonb;
    op_id uuid;
    site_id uuid;
    members jsonb;
    n integer;
    principals integer;
    defaults jsonb;
    numbers text[];
    gid uuid;
    results jsonb;
    rows jsonb[];
    reg_date date;
    arrival date;
    i integer;
begin
    perform refuge.authorize('refuge_registration', 'register_group');
    perform refuge.arg_fields(payload, 'payload', array['request_id', 'operation', 'site', 'registration_date',
        'arrival_date', 'registration_level', 'population_type', 'origin_country', 'flight_legs', 'addresses',
        'members', 'pre_registration']);
    req := refuge.arg_uuid(payload, 'request_id', 'payload');
    select o.id into op_id from refuge.operation o
     where o.code = refuge.arg_text(payload, 'operation', 'payload', true, 10) and o.active;
    if op_id is null then
        perform refuge.raise_field('23503', 'payload.operation', format('unknown operation %s', payload -> 'operation'));
    end if;
    select s.id into site_id from refuge.site s
     where s.operation_id = op_id and s.code = refuge.arg_text(payload, 'site', 'payload', true, 20) and s.active;
    if site_id is null then
        perform refuge.raise_field('23503', 'payload.site',
            format('unknown site %s in operation %s', payload -> 'site', payload ->> 'operation'));
    end if;
    perform refuge.authorize('refuge_registration', 'register_group', op_id, site_id);

    prior := refuge.claim_request(req, 'register_group', payload);
    if prior is not null then
        return prior;
    end if;

    members := refuge.arg_array(payload, 'members', 'payload', 100);
    n := jsonb_array_length(members);
    if n = 0 then
        perform refuge.raise_field('22004', 'payload.members', 'at least one member is required');
    end if;
    for i in 0 .. n - 1 loop
        if jsonb_typeof(members -> i) <> 'object' then
            perform refuge.raise_field('22023', format('payload.members[%s]', i),
                                       format('expected an object, got %s', jsonb_typeof(members -> i)));
        end if;
    end loop;
    select count(*) into principals from jsonb_array_elements(members) m where m ->> 'relationship' = 'PA';
    if principals <> 1 then
        perform refuge.raise_field('23514', 'payload.members',
            format('a group needs exactly one principal representative (relationship "PA"); found %s', principals));
    end if;

    reg_date := coalesce(refuge.arg_date(payload, 'registration_date', 'payload'), current_date);
    arrival := refuge.arg_date(payload, 'arrival_date', 'payload');
    defaults := jsonb_strip_nulls(jsonb_build_object(
        'registration_level', refuge.arg_code(payload, 'registration_level', 'payload', 'registration_level'),
        'population_type', refuge.arg_code(payload, 'population_type', 'payload', 'population_type'),
        'origin_country', refuge.arg_code(payload, 'origin_country', 'payload', 'country'),
        'arrival_date', arrival,
        'registration_date', reg_date,
        'flight_legs', case when payload ? 'flight_legs' then refuge.arg_array(payload, 'flight_legs', 'payload', 50) end,
        'addresses', case when payload ? 'addresses' then refuge.arg_array(payload, 'addresses', 'payload', 30) end));

    numbers := refuge.next_numbers(op_id, n + 1);
    gid := gen_random_uuid();
    rows := refuge.add_row('{}', 'registration_group', jsonb_build_object(
        'id', gid, 'number', numbers[1], 'operation_id', op_id, 'site_id', site_id, 'status', 'ACTIVE',
        'status_date', reg_date, 'registration_date', reg_date, 'arrival_date', arrival, 'request_id', req));
    for i in 0 .. n - 1 loop
        rows := refuge.member_rows(gid, op_id, site_id, members -> i, format('payload.members[%s]', i), defaults,
                                   numbers[i + 2], 'REGISTRATION', rows);
    end loop;
    -- everything validated: write the family, one statement per table
    perform refuge.insert_rows(rows);
    results := (select jsonb_agg(x.r - '_t' order by x.ord) from unnest(rows) with ordinality x(r, ord)
                 where x.r ->> '_t' = '_result');
    -- each member holds what the registration level requires
    for i in 0 .. n - 1 loop
        perform refuge.require_level((results -> i ->> 'individual_id')::uuid, format('payload.members[%s]', i));
    end loop;
    -- the same people registered before? (demographic comparison)
    results := refuge.with_possible_duplicates(results);
    -- a group pre-registered by head count: its token is used up
    if payload ? 'pre_registration' then
        update refuge.pre_registration p set group_id = gid, registered_at = now()
         where p.token = refuge.arg_text(payload, 'pre_registration', 'payload', true, 30)
           and p.operation_id = op_id and p.group_id is null;
        if not found then
            perform refuge.raise_field('P0002', 'payload.pre_registration',
                format('no unused pre-registration token %s in operation %s', refuge.excerpt(payload ->> 'pre_registration'),
                       payload ->> 'operation'));
        end if;
    end if;
    return refuge.finish_request(req, jsonb_build_object(
        'request_id', req, 'group_id', gid, 'group_number', numbers[1], 'members', results));
end
$$;
comment on function refuge.register_group(jsonb) is
    'register a family and its members in one call (idempotent with request_id); returns the numbers and ids';
grant execute on function refuge.register_group(jsonb) to refuge_registration;

-- Add a person to an existing group (a birth, a late arrival).  The member
-- object is the same as in register_group; relationship PA is refused while
-- the group has a principal representative.
create function refuge.add_individual(group_id uuid, member jsonb, request_id uuid default null) returns jsonb
    language plpgsql security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    g refuge.registration_group;
    prior jsonb;
    defaults jsonb;
    num text;
    rows jsonb[];
begin
    perform refuge.authorize('refuge_registration', 'add_individual');
    select * into g from refuge.registration_group rg where rg.id = add_individual.group_id for update;
    if not found or not refuge.in_scope(g.operation_id, g.site_id) then
        perform refuge.raise_field('P0002', 'group_id', format('no registration group %s in your operations', group_id));
    end if;
    if g.status <> 'ACTIVE' then
        perform refuge.raise_field('22023', 'group_id', format('group %s is %s', g.number, g.status));
    end if;
    prior := refuge.claim_request(request_id, 'add_individual',
                                  jsonb_build_object('group_id', group_id, 'member', member));
    if prior is not null then
        return prior;
    end if;
    if jsonb_typeof(member) is distinct from 'object' then
        perform refuge.raise_field('22023', 'member', format('expected an object, got %s', coalesce(jsonb_typeof(member), 'null')));
    end if;
    if member ->> 'relationship' = 'PA' and exists (
        select 1 from refuge.group_membership gm
         where gm.group_id = g.id and gm.valid_to is null and gm.relationship = 'PA') then
        perform refuge.raise_field('23514', 'member.relationship', format('group %s already has a principal representative', g.number));
    end if;
    -- the group's principal representative supplies the defaults
    select jsonb_strip_nulls(jsonb_build_object('registration_level', i.registration_level,
               'population_type', i.population_type, 'origin_country', i.origin_country))
      into defaults
      from refuge.group_membership gm join refuge.individual i on i.id = gm.individual_id
     where gm.group_id = g.id and gm.valid_to is null
     order by gm.relationship = 'PA' desc
     limit 1;
    num := (refuge.next_numbers(g.operation_id, 1))[1];
    rows := refuge.member_rows(g.id, g.operation_id, g.site_id, member, 'member', coalesce(defaults, '{}'), num,
                               'ADDITION', '{}');
    perform refuge.insert_rows(rows);
    perform refuge.require_level((select (r ->> 'individual_id')::uuid from unnest(rows) r where r ->> '_t' = '_result'),
                                 'member');
    return refuge.finish_request(request_id,
        (refuge.with_possible_duplicates((select jsonb_agg(r - '_t') from unnest(rows) r where r ->> '_t' = '_result')) -> 0)
        || jsonb_build_object('group_id', g.id));
end
$$;
comment on function refuge.add_individual(uuid, jsonb, uuid) is
    'add a member to a registered family (same fields as register_group''s members); returns the new record';
grant execute on function refuge.add_individual(uuid, jsonb, uuid) to refuge_registration;

create function refuge.update_individual(individual_id uuid, changes jsonb) returns jsonb
    language plpgsql security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    cur refuge.individual;
    r refuge.individual;
    scalars jsonb;
    collections constant text[] := array['names', 'nationalities', 'languages', 'education', 'occupations',
                                         'contacts', 'addresses', 'flight_legs', 'photo'];
begin
    cur := refuge.individual_for_update(individual_id, 'refuge_registration', 'update_individual');
    perform refuge.arg_fields(changes, 'changes',
        (select array_agg(f) from unnest(refuge.member_fields()) f
          where f not in ('ref', 'relationship', 'documents', 'specific_needs'))
        || array['status', 'status_reason']);
    scalars := changes - collections - array['status', 'status_reason'];
    r := refuge.parse_individual(to_jsonb(cur) || scalars, 'changes');
    -- a change of legal standing, or one that undoes an adjudication, is not
    -- one person's edit: refuge.request_status_change, approved by a supervisor
    if r.population_type is distinct from cur.population_type then
        perform refuge.raise_field('42501', 'changes.population_type',
            format('a change of population type (%s to %s) is requested with refuge.request_status_change and approved by a supervisor',
                   cur.population_type, r.population_type));
    end if;
    if changes ? 'status' then
        r.status := refuge.arg_code(changes, 'status', 'changes', 'individual_status', true);
        if r.status is distinct from cur.status then
            if cur.status = 'DUPLICATE' or r.status = 'DUPLICATE' then
                perform refuge.raise_field('42501', 'changes.status',
                    format('%s: a record closed as a duplicate changes only through adjudication (refuge.adjudicate)', cur.number));
            end if;
            -- made inactive by verification exercises and not active since: a supervised reactivation
            if cur.status = 'INACTIVE' and exists (
                    select 1 from refuge.status_history v
                     where v.individual_id = cur.id and v.source = 'VERIFICATION' and v.status = 'INACTIVE'
                       and not exists (select 1 from refuge.status_history a where a.individual_id = cur.id
                                          and a.status = 'ACTIVE' and a.recorded_at > v.recorded_at)) then
                perform refuge.raise_field('42501', 'changes.status',
                    format('%s was made inactive by verification exercises: reactivation is requested with refuge.request_status_change and approved by a supervisor',
                           cur.number));
            end if;
            if not (cur.status in ('ACTIVE', 'INACTIVE', 'HOLD') and r.status in ('ACTIVE', 'INACTIVE', 'HOLD')) then
                perform refuge.raise_field('42501', 'changes.status',
                    format('%s to %s is requested with refuge.request_status_change and approved by a supervisor',
                           cur.status, r.status));
            end if;
            cur.status := r.status;
            cur.status_date := current_date;
        end if;
        cur.status_reason := refuge.arg_text(changes, 'status_reason', 'changes', false, 500);
    end if;
    perform refuge.set_status_context(jsonb_strip_nulls(jsonb_build_object('source', 'UPDATE', 'reason', cur.status_reason))::text);
    update refuge.individual i set
        given_name = r.given_name, middle_name = r.middle_name, family_name = r.family_name,
        second_family_name = r.second_family_name, maiden_name = r.maiden_name,
        mother_name = r.mother_name, father_name = r.father_name, sex = r.sex,
        date_of_birth = r.date_of_birth, dob_precision = r.dob_precision, place_of_birth = r.place_of_birth,
        birth_country = r.birth_country, origin_country = r.origin_country, ethnicity = r.ethnicity,
        religion = r.religion, marital_status = r.marital_status, education_level = r.education_level,
        population_type = r.population_type,
        population_type_date = case when r.population_type <> cur.population_type then current_date
                                    else cur.population_type_date end,
        registration_level = r.registration_level, arrival_date = r.arrival_date,
        status = cur.status, status_date = cur.status_date, status_reason = cur.status_reason
     where i.id = cur.id;
    perform refuge.set_status_context(null);
    perform refuge.write_collections(cur.id, changes, 'changes');
    -- moving to another registration level: the record must hold what it requires
    if r.registration_level is distinct from cur.registration_level then
        perform refuge.require_level(cur.id, 'changes');
    end if;
    -- names or date of birth changed: compared again
    if changes ? 'names' or (r.given_name, r.middle_name, r.family_name, r.second_family_name, r.maiden_name,
                             r.date_of_birth, r.dob_precision)
                            is distinct from
                            (cur.given_name, cur.middle_name, cur.family_name, cur.second_family_name, cur.maiden_name,
                             cur.date_of_birth, cur.dob_precision) then
        return refuge.with_possible_duplicates(jsonb_build_array(jsonb_build_object(
            'individual_id', cur.id, 'number', cur.number,
            'fields', (select jsonb_agg(k order by k) from jsonb_object_keys(changes) k)))) -> 0;
    end if;
    return jsonb_build_object('individual_id', cur.id, 'number', cur.number,
                              'fields', (select jsonb_agg(k order by k) from jsonb_object_keys(changes) k));
end
$$;
comment on function refuge.update_individual(uuid, jsonb) is
    'update an individual''s biodata (legal status and adjudicated states through request_status_change)';
grant execute on function refuge.update_individual(uuid, jsonb) to refuge_registration;

-- The route of a person's flight as a line through the located legs, in order.
create function refuge.flight_route(individual_id uuid) returns geometry
    language sql stable parallel safe
begin atomic
    select case when count(f.location) >= 2
                then refuge.make_line(array_agg(f.location order by f.seq) filter (where f.location is not null))
           end
      from refuge.flight_leg f
     where f.individual_id = flight_route.individual_id;
end;
comment on function refuge.flight_route(uuid) is
    'an individual''s flight as a line through the legs'' places (PostGIS geometry)';
grant execute on function refuge.flight_route(uuid) to refuge_registration;

-- UNHCR age bracket of a date of birth on a given date (profile STD by default).
create function refuge.age_bracket(date_of_birth date, on_date date default current_date, profile text default 'STD')
    returns text
    language sql stable parallel safe
begin atomic
    select coalesce((select b.code from refuge.age_bracket b
                      where b.profile = age_bracket.profile
                        and date_part('year', age(on_date, date_of_birth)) >= b.min_age
                        and (b.max_age is null or date_part('year', age(on_date, date_of_birth)) <= b.max_age)
                      order by b.min_age desc limit 1),
                    'unknown');
end;
comment on function refuge.age_bracket(date, date, text) is
    'the UNHCR age bracket of a birth date on a date (profile: the bracket set, STD by default)';
grant execute on function refuge.age_bracket(date, date, text) to refuge_registration, refuge_supervisor,
    refuge_analyst, refuge_admin;

-- A person's name as written in its own script (the first recorded), or null.
create function refuge.original_script_name(p_individual uuid) returns text
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
    return (select concat_ws(' ', n.given_name, n.middle_name, n.family_name) from refuge.individual_name n
             where n.individual_id = p_individual and n.kind = 'ORIGINAL_SCRIPT' order by n.created_at limit 1);
comment on function refuge.original_script_name(uuid) is
    'internal: a person''s name in its original script (the first recorded), for documents and forms';

create function refuge.request_status_change(individual_id uuid, status text default null,
                                             population_type text default null, reason text default null)
    returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    cur refuge.individual;
    new_status text;
    new_type text;
    new_id uuid;
begin
    cur := refuge.individual_for_update(request_status_change.individual_id, 'refuge_registration', 'request_status_change');
    new_status := coalesce(status, cur.status);
    new_type := coalesce(population_type, cur.population_type);
    if not refuge.code_exists('individual_status', new_status) then
        perform refuge.raise_field('23503', 'status', format('unknown code "%s"', left(new_status, 40)));
    end if;
    if not refuge.code_exists('population_type', new_type) then
        perform refuge.raise_field('23503', 'population_type', format('unknown code "%s"', left(new_type, 40)));
    end if;
    if new_status = cur.status and new_type = cur.population_type then
        perform refuge.raise_field('22023', 'status', format('%s is already %s, %s', cur.number, cur.status, cur.population_type));
    end if;
    if new_status = 'ERASED' and cur.status <> 'ERASED' then
        perform refuge.raise_field('42501', 'status', 'ERASED is set by refuge.erase_individual only (the person''s request, with their key destroyed)');
    end if;
    if cur.status = 'DUPLICATE' or new_status = 'DUPLICATE' then
        perform refuge.raise_field('42501', 'status',
            format('%s: a record closed as a duplicate changes only through adjudication (refuge.adjudicate)', cur.number));
    end if;
    perform refuge.require_text(reason, 'reason');
    insert into refuge.status_change (individual_id, operation_id, site_id, from_status, to_status, from_population_type,
                                      to_population_type, reason, requested_by)
    values (cur.id, cur.operation_id, cur.site_id, cur.status, new_status, cur.population_type, new_type,
            left(btrim(reason), 2000), refuge.caller())
    returning id into new_id;
    return jsonb_build_object('change_id', new_id, 'number', cur.number, 'status', 'requested',
                              'from', jsonb_build_object('status', cur.status, 'population_type', cur.population_type),
                              'to', jsonb_build_object('status', new_status, 'population_type', new_type));
exception when unique_violation then
    perform refuge.raise_field('23505', 'individual_id', format('%s already has a status change awaiting a decision', cur.number));
end
$$;
comment on function refuge.request_status_change(uuid, text, text, text) is
    'request a change of an individual''s status or population type; a supervisor of the operation who is not the requester decides';
grant execute on function refuge.request_status_change(uuid, text, text, text) to refuge_registration,
    refuge_supervisor;

create function refuge.decide_status_change(change_id uuid, approve boolean, comment text default null) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    ch refuge.status_change;
    cur refuge.individual;
begin
    perform refuge.authorize('refuge_supervisor', 'decide_status_change');
    if approve is null then
        perform refuge.raise_field('22004', 'approve', 'is required (true or false)');
    end if;
    select * into ch from refuge.status_change x where x.id = change_id;
    if not found or not refuge.in_scope(ch.operation_id, ch.site_id) then
        perform refuge.raise_field('P0002', 'change_id', 'not found in your operations');
    end if;
    cur := refuge.individual_for_update(ch.individual_id, 'refuge_supervisor', 'decide_status_change');
    select * into ch from refuge.status_change x where x.id = change_id for update;
    if ch.status <> 'REQUESTED' then
        perform refuge.raise_field('55000', 'change_id', format('already %s', lower(ch.status)));
    end if;
    if ch.requested_by = refuge.caller() then
        perform refuge.raise_field('42501', 'change_id', 'the requester may not decide their own request');
    end if;
    if approve and (cur.status <> ch.from_status or cur.population_type <> ch.from_population_type) then
        perform refuge.raise_field('55000', 'change_id',
            format('%s changed since the request (now %s, %s): reject it and request again', cur.number, cur.status, cur.population_type));
    end if;
    update refuge.status_change x set status = case when approve then 'APPROVED' else 'REJECTED' end,
           decided_by = refuge.caller(), decided_at = now(), decision_comment = comment
     where x.id = ch.id;
    if approve then
        perform refuge.set_individual_status(cur, ch.to_status, ch.to_population_type, ch.reason, 'STATUS_CHANGE',
            ch.id, refuge.caller(), ch.effective_date,
            case when ch.to_population_type = 'REF' and cur.population_type <> 'REF' then ch.legal_basis end,
            case when ch.to_population_type = 'REF' and cur.population_type <> 'REF'
                 then (select o.rsd_authority from refuge.operation o where o.id = cur.operation_id) end,
            ch.requested_by);
    end if;
    return jsonb_build_object('change_id', ch.id, 'number', cur.number,
                              'decision', case when approve then 'approved' else 'rejected' end);
end
$$;
comment on function refuge.decide_status_change(uuid, boolean, text) is
    'a supervisor of the operation (not the requester) approves or rejects a requested change of status or population type';
grant execute on function refuge.decide_status_change(uuid, boolean, text) to refuge_supervisor;
