-- Reading API arguments: every jsonb field checked, errors naming the field
-- path and the problem.

-- Reading API arguments out of jsonb.  Each helper takes the object, the key
-- and the path of the object in the request (e.g. 'members[2]') so that an
-- error names the exact field:  members[2].date_of_birth: "1990-02-30" is not a valid date
--
-- SQLSTATEs: 22004 missing required field, 22023 wrong type or value,
-- 22008 impossible date, 23503 unknown code.
create function refuge.arg_fields(obj jsonb, path text, allowed text[]) returns void
    language plpgsql immutable
as $$
declare
    k text;
begin
    if obj is null or jsonb_typeof(obj) <> 'object' then
        perform refuge.raise_field('22023', path, format('expected an object, got %s',
                                   coalesce(jsonb_typeof(obj), 'nothing')));
    end if;
    if obj - allowed = '{}'::jsonb then
        return;
    end if;
    select key into k from jsonb_object_keys(obj) key where key <> all (allowed) order by key limit 1;
    if found then
        perform refuge.raise_field('22023', path, format('unknown field "%s"', k),
                                   'allowed fields: ' || array_to_string(allowed, ', '));
    end if;
end
$$;

create function refuge.arg_text(obj jsonb, key text, path text, required boolean DEFAULT false, max_length integer DEFAULT 200)
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

create function refuge.arg_bool(obj jsonb, key text, path text, default_value boolean DEFAULT NULL::boolean)
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

create function refuge.arg_int(obj jsonb, key text, path text, min_value integer, max_value integer)
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

create function refuge.arg_uuid(obj jsonb, key text, path text, required boolean default false) returns uuid
    language plpgsql immutable
as $$
declare
    s text := refuge.arg_text(obj, key, path, required, 36);
begin
    if s is null then
        return null;
    end if;
    if s !~* '^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$' then
        perform refuge.raise_field('22023', path || '.' || key, format('"%s" is not a UUID', s));
    end if;
    return s::uuid;
end
$$;

-- Dates are ISO 8601 calendar dates (YYYY-MM-DD); no other spelling is guessed.
create function refuge.arg_date(obj jsonb, key text, path text, required boolean default false,
                                not_future boolean default true) returns date
    language plpgsql stable
as $$
declare
    s text := refuge.arg_text(obj, key, path, required, 10);
    d date;
    y integer;
    mo integer;
    dd integer;
begin
    if s is null then
        return null;
    end if;
    if s !~ '^\d{4}-\d{2}-\d{2}$' then
        perform refuge.raise_field('22007', path || '.' || key,
                                   format('"%s" is not a date in the form YYYY-MM-DD', s));
    end if;
    -- check the calendar without an exception block (each would be a subtransaction)
    y := substr(s, 1, 4)::integer;
    mo := substr(s, 6, 2)::integer;
    dd := substr(s, 9, 2)::integer;
    if y < 1 or mo not between 1 and 12 or dd < 1
       or dd > extract(day from make_date(y, mo, 1) + interval '1 month - 1 day') then
        perform refuge.raise_field('22008', path || '.' || key, format('"%s" is not a valid date', s));
    end if;
    d := make_date(y, mo, dd);
    if d < date '1880-01-01' then
        perform refuge.raise_field('22008', path || '.' || key, format('"%s" is before 1880', s));
    end if;
    if not_future and d > current_date then
        perform refuge.raise_field('22008', path || '.' || key, format('"%s" is in the future', s));
    end if;
    return d;
end
$$;

create function refuge.arg_code(obj jsonb, key text, path text, vocab text, required boolean default false,
                                default_value text default null) returns text
    language plpgsql stable
as $$
declare
    s text := refuge.arg_text(obj, key, path, required and default_value is null, 20);
begin
    if s is null then
        return default_value;
    end if;
    if not refuge.code_exists(vocab, s) then
        perform refuge.raise_field('23503', path || '.' || key, format('unknown code "%s"', s),
                                   format('valid codes are in refuge.%s', vocab));
    end if;
    return s;
end
$$;

create function refuge.arg_array(obj jsonb, key text, path text, max_items integer default 100) returns jsonb
    language plpgsql immutable
as $$
declare
    v jsonb := obj -> key;
begin
    if v is null or v = 'null'::jsonb then
        return '[]'::jsonb;
    end if;
    if jsonb_typeof(v) <> 'array' then
        perform refuge.raise_field('22023', path || '.' || key, format('expected an array, got %s', jsonb_typeof(v)));
    end if;
    if jsonb_array_length(v) > max_items then
        perform refuge.raise_field('22023', path || '.' || key,
                                   format('has %s items; at most %s allowed', jsonb_array_length(v), max_items));
    end if;
    return v;
end
$$;

create function refuge.arg_point(obj jsonb, key text, path text)
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

-- Two dates of one object in order: the later must not precede the earlier.
create function refuge.check_dates(earlier date, later date, path text, earlier_key text, later_key text)
    returns void
    language plpgsql immutable
as $$
begin
    if later < earlier then
        perform refuge.raise_field('22008', path || '.' || later_key,
            format('"%s" is before %s %s', refuge.iso(later), earlier_key, refuge.iso(earlier)));
    end if;
end
$$;

-- Reading the templates argument of enrol_biometrics and verify (shape in
-- README.md, "Biometric templates").  Errors name the field, e.g.
--   templates.fingers[3].record: fingerprint record: ... at byte 26
create function refuge.arg_base64(obj jsonb, key text, path text, required boolean default false) returns bytea
    language plpgsql immutable
as $$
declare
    s text := refuge.arg_text(obj, key, path, required, 10000000);
begin
    if s is null then
        return null;
    end if;
    begin
        return pg_catalog.decode(s, 'base64');
    exception when others then
        perform refuge.raise_field('22023', path || '.' || key, 'is not base64: ' || sqlerrm);
    end;
end
$$;

-- A name: text, then the stricter rules of names.
create function refuge.arg_name(obj jsonb, key text, path text, required boolean default false,
                                max_length integer default 100) returns text
    language sql immutable
begin atomic
    select refuge.clean_name(refuge.arg_text(obj, key, path, required, max_length), path || '.' || key);
end;
