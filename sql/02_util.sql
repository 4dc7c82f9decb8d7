-- Identity of the caller and small helpers shared by policies and the API.

-- The role on whose behalf a statement runs.  Inside a SECURITY DEFINER
-- function current_user is the owner, but the "role" setting still names the
-- role chosen with SET ROLE (PostgreSQL only accepts roles the session belongs
-- to); without SET ROLE it is the login role.
create function refuge.caller() returns name
    language sql stable parallel safe
begin atomic
    select coalesce(nullif(current_setting('role'), 'none'), session_user)::name;
end;

comment on function refuge.caller() is 'role on whose behalf the current statement runs (the invoker, also inside SECURITY DEFINER functions)';

-- True when the caller belongs (directly or indirectly) to a refuge role.
create function refuge.caller_has(role_name name) returns boolean
    language sql stable parallel safe
begin atomic
    select pg_catalog.pg_has_role(refuge.caller(), role_name, 'MEMBER');
end;

-- Vocabulary lookups through a backend-local cache (extension/vocab.c).
create function refuge.code_exists(vocab text, code text, active_only boolean default true) returns boolean
    language c stable strict parallel restricted
    as 'MODULE_PATHNAME', 'refuge_code_exists';
comment on function refuge.code_exists(text, text, boolean) is
    'is code a code of vocabulary table refuge.<vocab> (active, unless active_only is false)?';

-- Triggers: codes of data rows must exist; vocabulary codes are permanent;
-- a vocabulary change invalidates every backend's cache (at commit).
create function refuge.check_codes() returns trigger
    language c as 'MODULE_PATHNAME', 'refuge_check_codes';
create function refuge.vocab_guard() returns trigger
    language c as 'MODULE_PATHNAME', 'refuge_vocab_guard';
create function refuge.vocab_changed() returns trigger
    language c as 'MODULE_PATHNAME', 'refuge_vocab_changed';

-- Raise an error naming the field of an API argument that is wrong.
-- Every API error goes through here so that messages have one shape:
--   <field>: <problem>
create function refuge.raise_field(sqlstate text, field text, problem text, hint text default null)
    returns void
    language plpgsql immutable
as $$
begin
    if hint is null then
        raise exception using errcode = sqlstate, message = field || ': ' || problem;
    else
        raise exception using errcode = sqlstate, message = field || ': ' || problem, hint = hint;
    end if;
end
$$;

-- A date in ISO 8601 whatever the session's DateStyle, for messages.
create function refuge.iso(d date) returns text
    language sql immutable strict parallel safe
begin atomic
    select pg_catalog.to_char(d, 'YYYY-MM-DD');
end;

-- Geometry constructors bound at install time (SQL-standard bodies resolve
-- PostGIS wherever it is installed), so API functions can pin a search_path
-- that does not include the PostGIS schema.
create function refuge.point_from_json(p jsonb) returns geometry
    language sql immutable parallel safe
begin atomic
    select st_setsrid(st_geomfromgeojson(p::text), 4326);
end;

create function refuge.make_point(lon double precision, lat double precision) returns geometry
    language sql immutable strict parallel safe
begin atomic
    select st_setsrid(st_makepoint(lon, lat), 4326);
end;

create function refuge.make_line(points geometry[]) returns geometry
    language sql immutable strict parallel safe
begin atomic
    select st_setsrid(st_makeline(points), 4326);
end;

create function refuge.geometry_type(g geometry) returns text
    language sql immutable strict parallel safe
begin atomic
    select geometrytype(g);
end;

create function refuge.geometry_is_valid(g geometry) returns boolean
    language sql immutable strict parallel safe
begin atomic
    select st_isvalid(g);
end;

-- An operation's area from GeoJSON (Polygon or MultiPolygon), as MultiPolygon.
create function refuge.area_from_json(area jsonb) returns geometry
    language sql immutable strict parallel safe
begin atomic
    select st_multi(st_setsrid(st_geomfromgeojson(area::text), 4326));
end;
