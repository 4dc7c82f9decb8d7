-- Text as people write it.  Every text argument of the API is stored in
-- Unicode NFC, without control characters (tab and line breaks aside) or
-- bidirectional overrides; names are also one line, without invisible
-- characters other than the joiners some scripts need, and hold at least one
-- letter (extension/unicode_text.c, ICU).  Errors no longer echo what was
-- sent beyond its first 40 characters, and numbers out of range name their
-- field.  Document numbers are compared under refuge.identifier_key():
-- NFKC, case folded, confusable letters and digits of every script mapped,
-- separators and invisible characters dropped, in the duplicate check and
-- in its unique index.

create function refuge.clean_text(value text, field text) returns text
    language c immutable parallel safe
    as 'MODULE_PATHNAME', 'refuge_clean_text';
comment on function refuge.clean_text(text, text) is
    'text in Unicode NFC; an error naming field for control characters (tab and line breaks aside), bidirectional overrides, private-use or unassigned code points';
create function refuge.clean_name(value text, field text) returns text
    language c immutable parallel safe
    as 'MODULE_PATHNAME', 'refuge_clean_name';
comment on function refuge.clean_name(text, text) is
    'a name in Unicode NFC; an error naming field for line breaks, control, bidirectional or invisible characters (ZWJ and ZWNJ aside), runs of more than four combining marks, or no letter at all';
create function refuge.identifier_key(value text) returns text
    language c immutable strict parallel safe
    as 'MODULE_PATHNAME', 'refuge_identifier_key';
comment on function refuge.identifier_key(text) is
    'the key under which document numbers are compared: NFKC, upper case, letters of other scripts mapped to their Latin look-alikes (UTS #39 skeleton; a Latin O stays an O), digits of every script as 0-9, invisible characters dropped, only letters and digits';

-- Every field error is bounded, whatever value a caller sent: a message
-- quotes at most 1,000 characters (values are quoted through excerpt()).
create or replace function refuge.raise_field(sqlstate text, field text, problem text, hint text default null)
    returns void
    language plpgsql immutable
as $$
declare
    msg text := left(field, 200) || ': ' || problem;
begin
    if length(msg) > 1000 then
        msg := left(msg, 1000) || '...';
    end if;
    if hint is null then
        raise exception using errcode = sqlstate, message = msg;
    else
        raise exception using errcode = sqlstate, message = msg, hint = left(hint, 1000);
    end if;
end
$$;

-- The start of a value for an error message, never the whole of it.
create function refuge.excerpt(v text) returns text
    language sql immutable parallel safe
return case when length(v) > 40 then left(v, 40) || '... (' || length(v) || ' characters)' else v end;


create or replace function refuge.arg_text(obj jsonb, key text, path text, required boolean DEFAULT false, max_length integer DEFAULT 200)
    returns text
    language plpgsql immutable
as $$
declare
    v jsonb := obj -> key;
    s text;
begin
    if v is null or v = 'null'::jsonb then
        if required then
            perform refuge.raise_field('22004', path || '.' || key, 'is required');
        end if;
        return null;
    end if;
    if jsonb_typeof(v) <> 'string' then
        perform refuge.raise_field('22023', path || '.' || key,
                                   format('expected a string, got %s %s', jsonb_typeof(v), refuge.excerpt(v::text)));
    end if;
    s := btrim(v #>> '{}');
    if s = '' then
        if required then
            perform refuge.raise_field('22004', path || '.' || key, 'must not be empty');
        end if;
        return null;
    end if;
    if length(s) > max_length then
        perform refuge.raise_field('22023', path || '.' || key,
                                   format('is %s characters long; at most %s allowed', length(s), max_length));
    end if;
    return refuge.clean_text(s, path || '.' || key);
end
$$;

create or replace function refuge.arg_bool(obj jsonb, key text, path text, default_value boolean DEFAULT NULL::boolean)
    returns boolean
    language plpgsql immutable
as $$
declare
    v jsonb := obj -> key;
begin
    if v is null or v = 'null'::jsonb then
        return default_value;
    end if;
    if jsonb_typeof(v) <> 'boolean' then
        perform refuge.raise_field('22023', path || '.' || key,
                                   format('expected true or false, got %s %s', jsonb_typeof(v), refuge.excerpt(v::text)));
    end if;
    return v::boolean;
end
$$;

create or replace function refuge.arg_int(obj jsonb, key text, path text, min_value integer, max_value integer)
    returns integer
    language plpgsql immutable
as $$
declare
    v jsonb := obj -> key;
    n numeric;
begin
    if v is null or v = 'null'::jsonb then
        return null;
    end if;
    if jsonb_typeof(v) <> 'number' then
        perform refuge.raise_field('22023', path || '.' || key,
                                   format('expected a whole number, got %s %s', jsonb_typeof(v), refuge.excerpt(v::text)));
    end if;
    n := v::numeric;
    if n <> trunc(n) or n < min_value or n > max_value then
        perform refuge.raise_field('22023', path || '.' || key,
                                   format('%s is not a whole number from %s to %s', refuge.excerpt(v::text), min_value, max_value));
    end if;
    return n::integer;
end
$$;

create or replace function refuge.arg_point(obj jsonb, key text, path text)
    returns geometry
    language plpgsql immutable
as $$
declare
    v jsonb := obj -> key;
    p text := path || '.' || key;
    lon double precision;
    lat double precision;
begin
    if v is null or v = 'null'::jsonb then
        return null;
    end if;
    if jsonb_typeof(v) <> 'object' then
        perform refuge.raise_field('22023', p, 'expected {"lon": .., "lat": ..} or a GeoJSON Point');
    end if;
    if v ? 'type' then
        if v ->> 'type' <> 'Point' or jsonb_typeof(v -> 'coordinates') <> 'array'
           or jsonb_array_length(v -> 'coordinates') not in (2, 3) then
            perform refuge.raise_field('22023', p, 'expected a GeoJSON Point with [lon, lat] coordinates');
        end if;
        v := jsonb_build_object('lon', v -> 'coordinates' -> 0, 'lat', v -> 'coordinates' -> 1);
    else
        perform refuge.arg_fields(v, p, array['lon', 'lat']);
    end if;
    if jsonb_typeof(v -> 'lon') is distinct from 'number' or jsonb_typeof(v -> 'lat') is distinct from 'number' then
        perform refuge.raise_field('22023', p, 'lon and lat must both be numbers');
    end if;
    -- compared as numbers first: 1e400 is a JSON number but no double precision
    if (v ->> 'lon')::numeric not between -180 and 180 or (v ->> 'lat')::numeric not between -90 and 90 then
        perform refuge.raise_field('22023', p, format('(%s, %s) is not a WGS 84 longitude/latitude',
                                                      refuge.excerpt(v ->> 'lon'), refuge.excerpt(v ->> 'lat')));
    end if;
    lon := (v ->> 'lon')::double precision;
    lat := (v ->> 'lat')::double precision;
    return refuge.make_point(lon, lat);
end
$$;

-- A name: text, then the stricter rules of names.
create function refuge.arg_name(obj jsonb, key text, path text, required boolean default false,
                                max_length integer default 100) returns text
    language sql immutable
begin atomic
    select refuge.clean_name(refuge.arg_text(obj, key, path, required, max_length), path || '.' || key);
end;

create or replace function refuge.parse_individual(m jsonb, path text)
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

create or replace function refuge.collection_rows(p_individual uuid, obj jsonb, path text, p_new boolean, rows jsonb[])
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

create or replace function refuge.document_row(p_individual uuid, e jsonb, p text, batch jsonb[])
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
        perform refuge.raise_field('23505', p || '.number',
            format('%s %s%s is already recorded', dtype, refuge.excerpt(num), coalesce(' issued by ' || issuer, '')),
            'the document belongs to a registered individual; check for a double registration');
    end if;
    return jsonb_build_object('id', gen_random_uuid(), 'individual_id', p_individual, 'doc_type', dtype,
        'number', num, 'issuing_country', issuer, 'issued_on', d1, 'expires_on', d2,
        'status', coalesce(e ->> 'status', 'VALID'), 'original_seen', refuge.arg_bool(e, 'original_seen', p, false),
        'comment', refuge.arg_text(e, 'comment', p, false, 2000), '_key', k);
end
$$;

-- The duplicate check's index, under the same key.  Look-alike numbers
-- recorded before 0.7.0 cannot share a unique index: they are listed by a
-- warning and the index is then built without uniqueness (the check in
-- document_row still refuses new ones).  After an ICU upgrade, reindex it
-- (its confusable data may change).
drop index refuge.document_identity;
do $idx$
declare
    n bigint;
begin
    select count(*) into n from (
        select 1 from refuge.document d
         group by d.doc_type, coalesce(d.issuing_country, ''), refuge.identifier_key(d.number)
        having count(*) > 1) x;
    if n = 0 then
        create unique index document_identity on refuge.document
            (doc_type, coalesce(issuing_country, ''), refuge.identifier_key(number));
    else
        raise warning 'refuge: % document numbers are recorded twice under look-alike spellings; the index refuge.document_identity is built without uniqueness', n
            using hint = 'select doc_type, issuing_country, refuge.identifier_key(number), array_agg(individual_id) from refuge.document group by 1, 2, 3 having count(*) > 1';
        create index document_identity on refuge.document
            (doc_type, coalesce(issuing_country, ''), refuge.identifier_key(number));
    end if;
end
$idx$;

create or replace function refuge.case_module_row(p_module text, p_field text) returns refuge.case_module
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    m refuge.case_module;
begin
    select * into m from refuge.case_module c where c.code = p_module;
    if not found then
        perform refuge.raise_field('22023', p_field, format('"%s" is not a case module (%s)', coalesce(refuge.excerpt(p_module), 'null'),
            (select string_agg(code, ', ' order by code) from refuge.case_module)));
    end if;
    return m;
end
$$;
