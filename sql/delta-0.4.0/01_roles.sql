-- Roles of identity management and assistance (cluster-wide, created once).
do $roles$
declare
    r text;
begin
    foreach r in array array['refuge_biometrics', 'refuge_biometrics_admin', 'refuge_assistance']
    loop
        if not exists (select 1 from pg_catalog.pg_roles where rolname = r) then
            execute pg_catalog.format('create role %I nologin', r);
        end if;
    end loop;
end
$roles$;

comment on role refuge_biometrics is 'refuge: biometric enrolment operators (enrol, verify; enrolment status in their operations; no templates)';
comment on role refuge_biometrics_admin is 'refuge: HQ biometrics administrators (adjudication, templates, vault images with logged decryption; all operations)';
comment on role refuge_assistance is 'refuge: assistance staff (plans, cycles, distributions, verified collection in their operations)';

grant usage on schema refuge to refuge_biometrics, refuge_biometrics_admin, refuge_assistance;

-- The group roles of the extension: staff are assigned their own roles.
create function refuge.group_roles() returns name[]
    language sql immutable parallel safe
    return array['refuge_owner', 'refuge_registration', 'refuge_supervisor', 'refuge_analyst', 'refuge_admin',
                 'refuge_biometrics', 'refuge_biometrics_admin', 'refuge_assistance']::name[];

create or replace function refuge.assign_staff(role_name name, operation text, site text default null,
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

-- refuge.authorize for an action open to several roles: raise
-- insufficient_privilege unless the caller holds one of them.
create function refuge.authorize_any(p_roles name[], p_action text) returns void
    language plpgsql stable
as $$
begin
    if refuge.caller_is_superuser() or exists (select 1 from unnest(p_roles) r where refuge.caller_has(r)) then
        return;
    end if;
    raise exception using errcode = '42501',
        message = format('%s: role %s is not a member of %s', p_action, refuge.caller(), array_to_string(p_roles, ' or '));
end
$$;
