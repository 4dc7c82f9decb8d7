-- Administration: operations, sites, staff assignments, partners, the
-- deployment check.

-- Administration: operations, sites, staff and their assignments.
-- Callable by refuge_admin (and superusers).
create function refuge.create_operation(code text, country text, name text, area jsonb default null)
    returns uuid
    language plpgsql security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    args jsonb := jsonb_build_object('code', code, 'country', country, 'name', name);
    new_id uuid;
begin
    perform refuge.authorize('refuge_admin', 'create_operation');
    if args ->> 'code' is null or (args ->> 'code') !~ '^[A-Z0-9]{2,10}$' then
        perform refuge.raise_field('22023', 'code',
            format('%s is not 2 to 10 upper-case letters or digits', coalesce(quote_literal(args ->> 'code'), 'null')));
    end if;
    perform refuge.arg_code(args, 'country', 'operation', 'country', true);
    perform refuge.arg_text(args, 'name', 'operation', true);
    if area is not null then
        -- no geometry variables here: PL/pgSQL would resolve the type name at run time
        begin
            perform refuge.area_from_json(area);
        exception when others then
            perform refuge.raise_field('22023', 'area', 'is not valid GeoJSON: ' || sqlerrm);
        end;
        if refuge.geometry_type(refuge.area_from_json(area)) <> 'MULTIPOLYGON'
           or not refuge.geometry_is_valid(refuge.area_from_json(area)) then
            perform refuge.raise_field('22023', 'area', 'must be a valid GeoJSON Polygon or MultiPolygon');
        end if;
    end if;
    insert into refuge.operation (code, country, name, area)
    values (args ->> 'code', args ->> 'country', btrim(args ->> 'name'), refuge.area_from_json(area))
    returning id into new_id;
    return new_id;
exception when unique_violation then
    perform refuge.raise_field('23505', 'code', format('operation "%s" already exists', args ->> 'code'));
end
$$;
comment on function refuge.create_operation(text, text, text, jsonb) is
    'create an operation (code, country of asylum, name, numbering settings); administrators';
grant execute on function refuge.create_operation(text, text, text, jsonb) to refuge_admin;

create function refuge.create_site(operation text, code text, name text, site_type text,
                                   lon double precision default null, lat double precision default null)
    returns uuid
    language plpgsql security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    op_id uuid;
    args jsonb := jsonb_build_object('code', code, 'name', name, 'site_type', site_type);
    new_id uuid;
begin
    perform refuge.authorize('refuge_admin', 'create_site');
    select o.id into op_id from refuge.operation o where o.code = create_site.operation;
    if op_id is null then
        perform refuge.raise_field('23503', 'operation', format('unknown operation "%s"', create_site.operation));
    end if;
    if code is null or code !~ '^[A-Z0-9_-]{1,20}$' then
        perform refuge.raise_field('22023', 'code',
            format('%s is not 1 to 20 upper-case letters, digits, _ or -', coalesce(quote_literal(code), 'null')));
    end if;
    perform refuge.arg_text(args, 'name', 'site', true);
    perform refuge.arg_code(args, 'site_type', 'site', 'site_type', true);
    if (lon is null) <> (lat is null) or lon not between -180 and 180 or lat not between -90 and 90 then
        perform refuge.raise_field('22023', 'lon/lat', format('(%s, %s) is not a WGS 84 longitude/latitude', lon, lat));
    end if;
    insert into refuge.site (operation_id, code, name, site_type, location)
    values (op_id, code, btrim(name), site_type, refuge.make_point(lon, lat))
    returning id into new_id;
    return new_id;
exception when unique_violation then
    perform refuge.raise_field('23505', 'code', format('site "%s" already exists in operation %s', code, operation));
end
$$;
comment on function refuge.create_site(text, text, text, text, double precision, double precision) is
    'create a site of an operation (code, name, type, location); administrators';
grant execute on function refuge.create_site(text, text, text, text, double precision, double precision) to
    refuge_admin;

create function refuge.assign_staff(role_name name, operation text, site text default null,
                                               full_name text default null, valid_to date default null)
    returns uuid
    language plpgsql security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    op_id uuid;
    site_id uuid;
    new_id uuid;
begin
    perform refuge.authorize('refuge_admin', 'assign_staff');
    if not exists (select 1 from pg_catalog.pg_roles r where r.rolname = assign_staff.role_name) then
        perform refuge.raise_field('23503', 'role_name', format('role "%s" does not exist', assign_staff.role_name));
    end if;
    if assign_staff.role_name = any (refuge.group_roles()) then
        perform refuge.raise_field('22023', 'role_name',
            format('"%s" is a group role; assign the staff member''s own role', assign_staff.role_name));
    end if;
    select o.id into op_id from refuge.operation o where o.code = assign_staff.operation;
    if op_id is null then
        perform refuge.raise_field('23503', 'operation', format('unknown operation "%s"', assign_staff.operation));
    end if;
    if site is not null then
        select s.id into site_id from refuge.site s where s.operation_id = op_id and s.code = assign_staff.site;
        if site_id is null then
            perform refuge.raise_field('23503', 'site', format('unknown site "%s" in operation %s', site, operation));
        end if;
    end if;
    insert into refuge.staff (role_name, full_name)
    values (assign_staff.role_name, coalesce(full_name, assign_staff.role_name))
    on conflict on constraint staff_pkey do update
        set full_name = coalesce(assign_staff.full_name, staff.full_name), active = true;
    insert into refuge.staff_assignment (role_name, operation_id, site_id, valid_to)
    values (assign_staff.role_name, op_id, site_id, valid_to)
    returning id into new_id;
    return new_id;
end
$$;
comment on function refuge.assign_staff(name, text, text, text, date) is
    'assign a login to an operation (or one of its sites) until a date (administrators); returns the assignment id';
grant execute on function refuge.assign_staff(name, text, text, text, date) to refuge_admin;

-- End an assignment today (history is kept).
create function refuge.end_staff_assignment(assignment_id uuid) returns void
    language plpgsql security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
begin
    perform refuge.authorize('refuge_admin', 'end_staff_assignment');
    update refuge.staff_assignment a
       set valid_to = greatest(a.valid_from, current_date - 1)
     where a.id = assignment_id and (a.valid_to is null or a.valid_to >= current_date);
    if not found then
        perform refuge.raise_field('P0002', 'assignment_id', format('no current assignment %s', assignment_id));
    end if;
end
$$;
comment on function refuge.end_staff_assignment(uuid) is
    'end a staff assignment today (administrators)';
grant execute on function refuge.end_staff_assignment(uuid) to refuge_admin;

-- Partner organisations and the roles of their staff (administrators).
create function refuge.create_partner(code text, name text) returns uuid
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    new_id uuid;
begin
    perform refuge.authorize('refuge_admin', 'create_partner');
    if code is null or code !~ '^[A-Z0-9_-]{2,20}$' then
        perform refuge.raise_field('22023', 'code', format('"%s" is not 2-20 capitals, digits, _ or -', code));
    end if;
    perform refuge.require_text(name, 'name');
    insert into refuge.partner_organisation (code, name) values (create_partner.code, create_partner.name)
    returning id into new_id;
    return new_id;
exception when unique_violation then
    perform refuge.raise_field('23505', 'code', format('partner "%s" already exists', code));
end
$$;
comment on function refuge.create_partner(text, text) is
    'register a partner organisation that cases may be referred to (administrators)';
grant execute on function refuge.create_partner(text, text) to refuge_admin;

create function refuge.assign_partner_staff(role_name name, partner text) returns void
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    pid uuid;
begin
    perform refuge.authorize('refuge_admin', 'assign_partner_staff');
    if not exists (select 1 from pg_catalog.pg_roles r where r.rolname = assign_partner_staff.role_name) then
        perform refuge.raise_field('23503', 'role_name', format('role "%s" does not exist', assign_partner_staff.role_name));
    end if;
    if not pg_catalog.pg_has_role(assign_partner_staff.role_name, 'refuge_partner', 'MEMBER') then
        perform refuge.raise_field('22023', 'role_name', format('"%s" is not a member of refuge_partner', assign_partner_staff.role_name));
    end if;
    select p.id into pid from refuge.partner_organisation p where p.code = partner;
    if pid is null then
        perform refuge.raise_field('23503', 'partner', format('unknown partner "%s"', partner));
    end if;
    insert into refuge.partner_staff (role_name, partner_id) values (assign_partner_staff.role_name, pid)
    on conflict on constraint partner_staff_pkey do update set partner_id = excluded.partner_id, active = true;
end
$$;
comment on function refuge.assign_partner_staff(name, text) is
    'make a login a member of staff of a partner organisation (administrators)';
grant execute on function refuge.assign_partner_staff(name, text) to refuge_admin;

-- What a deployment should have set, checked: the preload, statement
-- logging that could write personal data, background workers for logged
-- reads, the database encoding, replication for field sites.  README,
-- "Deployment".
create function refuge.deployment_check()
    returns table (setting text, value text, recommended text, ok boolean, why text)
    language sql stable
    set search_path = pg_catalog, pg_temp
begin atomic
    select 'shared_preload_libraries', case when refuge.preloaded() then 'includes refuge' else 'without refuge' end,
           'includes refuge', refuge.preloaded(),
           'superuser-only settings (the vault key file) hidden from the start; the vault opens only then'
    union all
    select 'log_statement', current_setting('log_statement'), 'none or ddl',
           current_setting('log_statement') in ('none', 'ddl'),
           'all and mod write every statement, personal data included, to the server log'
    union all
    select 'log_min_error_statement', current_setting('log_min_error_statement'), 'panic',
           current_setting('log_min_error_statement') = 'panic',
           'refuge hides failed API calls; other failed statements are logged with their text'
    union all
    select 'log_parameter_max_length_on_error', current_setting('log_parameter_max_length_on_error'), '0',
           current_setting('log_parameter_max_length_on_error') = '0',
           'bind values of failed statements would be logged'
    union all
    select 'log_min_duration_statement', current_setting('log_min_duration_statement'), '-1',
           current_setting('log_min_duration_statement') = '-1',
           'a statement slower than this is logged with its text and bind values, personal data included'
    union all
    select 'log_min_duration_sample', current_setting('log_min_duration_sample'), '-1',
           current_setting('log_min_duration_sample') = '-1',
           'sampled slow statements are logged with their text and bind values'
    union all
    select 'log_transaction_sample_rate', current_setting('log_transaction_sample_rate'), '0',
           current_setting('log_transaction_sample_rate')::float8 = 0,
           'every statement of a sampled transaction is logged with its text'
    union all
    select 'max_worker_processes', current_setting('max_worker_processes'), 'at least 8 more than the parallel workers',
           current_setting('max_worker_processes')::integer >= current_setting('max_parallel_workers')::integer + 8,
           'every logged read needs a background worker for a moment; none free means the read is refused'
    union all
    select 'idle_in_transaction_session_timeout', current_setting('idle_in_transaction_session_timeout'), '1min to 1h',
           (select x.setting::bigint between 60000 and 3600000 from pg_catalog.pg_settings x
             where x.name = 'idle_in_transaction_session_timeout'),
           'refuge.seal_audit() seals only what no open transaction can still add to; a session left idle in a transaction holds the seal back'
    union all
    select 'server_encoding', current_setting('server_encoding'), 'UTF8', current_setting('server_encoding') = 'UTF8',
           'names in every script; identifiers and names are checked as Unicode'
    -- with field sites (README, Field sites)
    union all
    select 'wal_level', current_setting('wal_level'), 'logical (with field sites)',
           current_setting('wal_level') = 'logical'
           or not exists (select 1 from refuge.sync_node n where n.kind = 'field' and n.removed_at is null),
           'HQ and field sites replicate with logical decoding'
    union all
    select 'max_slot_wal_keep_size', current_setting('max_slot_wal_keep_size'),
           'the disk a site away may use (with field sites)',
           current_setting('max_slot_wal_keep_size') <> '-1'
           or not exists (select 1 from refuge.sync_node n where n.kind = 'field' and n.removed_at is null),
           'unlimited, a site that never returns fills the disk with WAL; limited, a site away longer is re-seeded'
    union all
    select 'max_logical_replication_workers', current_setting('max_logical_replication_workers'),
           'at least the field sites + 2',
           current_setting('max_logical_replication_workers')::integer
             >= (select count(*) from refuge.sync_node n where n.kind = 'field' and n.removed_at is null)
                + case when exists (select 1 from refuge.sync_node n where n.kind = 'field' and n.removed_at is null)
                       then 2 else 0 end,
           'one apply worker per site at HQ (one at a site), more for first copies and re-seeds';
end;
comment on function refuge.deployment_check() is
    'the settings a refuge deployment should have (README, Deployment): value, recommendation, whether it holds, and why';
grant execute on function refuge.deployment_check() to refuge_admin, refuge_dba;
