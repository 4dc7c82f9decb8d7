-- Helpers every concern uses: the caller, field errors, code checks, text
-- cleaning (ICU), dates and geometry.

-- The shared library's version (a mismatch with the installed SQL means a restart is due).
create function refuge.lib_version() returns text
    language c immutable strict parallel safe
    as 'MODULE_PATHNAME', 'refuge_lib_version';
comment on function refuge.lib_version() is
    'the version of the loaded shared library (differs from the extension''s until the server restarts after an update)';
grant execute on function refuge.lib_version() to refuge_registration, refuge_supervisor, refuge_analyst,
    refuge_admin;

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

-- Every field error is bounded, whatever value a caller sent: a message
-- quotes at most 1,000 characters (values are quoted through excerpt()).
create function refuge.raise_field(sqlstate text, field text, problem text, hint text default null)
    returns void
    language plpgsql immutable
as $$
declare
    msg text := left(field, 200) || ': ' || problem;
begin
    if length(msg) > 1000 then
        msg := left(msg, 1000) || '...';
    end if;
    -- schema 'refuge' marks the error as the API's own: the client gets it
    -- without PL/pgSQL's context lines (extension/log_privacy.c)
    if hint is null then
        raise exception using errcode = sqlstate, message = msg, schema = 'refuge';
    else
        raise exception using errcode = sqlstate, message = msg, hint = left(hint, 1000), schema = 'refuge';
    end if;
end
$$;

-- Who may see and change what.  Scope comes from refuge.staff_assignment for
-- the caller (refuge.caller()); rights come from membership in the refuge_*
-- group roles.  Superusers are not restricted.
create function refuge.caller_is_superuser() returns boolean
    language c stable parallel safe
    as 'MODULE_PATHNAME', 'refuge_caller_is_superuser';
comment on function refuge.caller_is_superuser() is
    'is the caller a superuser (who bypasses scope)?';
grant execute on function refuge.caller_is_superuser() to refuge_registration, refuge_supervisor,
    refuge_analyst, refuge_admin, refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd,
    refuge_resettlement, refuge_protection, refuge_child_protection, refuge_partner, refuge_dba;

-- Text arguments that must say something.
create function refuge.require_text(value text, field text) returns void
    language plpgsql immutable
as $$
begin
    if value is null or btrim(value) = '' then
        perform refuge.raise_field('22004', field, 'is required');
    end if;
end
$$;

create function refuge.preloaded() returns boolean
    language c stable parallel safe
    as 'MODULE_PATHNAME', 'refuge_preloaded';
comment on function refuge.preloaded() is 'is refuge in shared_preload_libraries (required for the vault)?';
grant execute on function refuge.preloaded() to refuge_admin, refuge_dba;

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
grant execute on function refuge.identifier_key(text) to refuge_registration, refuge_supervisor,
    refuge_biometrics, refuge_biometrics_admin, refuge_rsd, refuge_resettlement, refuge_protection,
    refuge_child_protection;

-- Identifiers of rows the caller may not see get the answer an unknown one
-- gets ("not found in your operations"), checked before any row is locked:
-- an alert's uuid arrives by NOTIFY, and a different error (or a wait on a
-- lock) for a hidden row would say it exists and what it is about.
create function refuge.require_visible(p_visible boolean, p_field text) returns void
    language plpgsql immutable
as $$
begin
    if not coalesce(p_visible, false) then
        perform refuge.raise_field('P0002', p_field, 'not found in your operations');
    end if;
end
$$;
comment on function refuge.require_visible(boolean, text) is
    'raise "<field>: not found in your operations" unless the row was found and is within the caller''s scope';

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
grant execute on function refuge.caller() to refuge_registration, refuge_supervisor, refuge_analyst,
    refuge_admin, refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd,
    refuge_resettlement, refuge_protection, refuge_child_protection, refuge_partner, refuge_dba;

-- True when the caller belongs (directly or indirectly) to a refuge role.
create function refuge.caller_has(role_name name) returns boolean
    language sql stable parallel safe
begin atomic
    select pg_catalog.pg_has_role(refuge.caller(), role_name, 'MEMBER');
end;
comment on function refuge.caller_has(name) is
    'is the caller a member of this role?';
grant execute on function refuge.caller_has(name) to refuge_registration, refuge_supervisor, refuge_analyst,
    refuge_admin, refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd,
    refuge_resettlement, refuge_protection, refuge_child_protection, refuge_partner, refuge_dba;

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
comment on function refuge.make_line(geometry[]) is
    'a line through points, skipping missing ones';
grant execute on function refuge.make_line(geometry[]) to refuge_registration, refuge_supervisor,
    refuge_analyst, refuge_admin;

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

-- The start of a value for an error message, never the whole of it.
create function refuge.excerpt(v text) returns text
    language sql immutable parallel safe
return case when length(v) > 40 then left(v, 40) || '... (' || length(v) || ' characters)' else v end;
