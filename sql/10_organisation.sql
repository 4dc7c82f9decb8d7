-- Operations, sites and staff, and the caller's scope: which operations and
-- sites a member of staff works in (the policies of every concern use it).

-- Raise insufficient_privilege unless the caller holds the role and, when an
-- operation is given, is assigned to it (or to the site).
create function refuge.authorize(p_role name, p_action text, p_operation uuid default null, p_site uuid default null)
    returns void
    language plpgsql stable
as $$
begin
    if refuge.caller_is_superuser() then
        return;
    end if;
    if not refuge.caller_has(p_role) then
        raise exception using errcode = '42501', schema = 'refuge',
            message = format('%s: role %s is not a member of %s', p_action, refuge.caller(), p_role);
    end if;
    if p_operation is not null and not refuge.in_scope(p_operation, p_site) then
        raise exception using errcode = '42501', schema = 'refuge',
            message = format('%s: role %s is not assigned to this operation or site', p_action, refuge.caller());
    end if;
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
    raise exception using errcode = '42501', schema = 'refuge',
        message = format('%s: role %s is not a member of %s', p_action, refuge.caller(), array_to_string(p_roles, ' or '));
end
$$;

-- Operations (country programmes), their sites and offices, and which staff
-- may work where.  Row-level security reads staff_assignment, never a
-- user-settable setting.
create table refuge.operation (
    id          uuid primary key default gen_random_uuid(),
    code        text not null unique check (code ~ '^[A-Z0-9]{2,10}$'),
    country     text not null,
    name        text not null,
    area        geometry(MultiPolygon, 4326),
    active      boolean not null default true,
    created_at  timestamptz not null default now(),
    created_by  name not null default current_user,
    updated_at  timestamptz not null default now(),
    updated_by  name not null default current_user
);
comment on table refuge.operation is 'a country programme; its code prefixes the readable numbers it issues (e.g. KEN-26-000123)';
create trigger check_codes before insert or update on refuge.operation
    for each row execute function refuge.check_codes('country', 'country');
-- every staff role reads the operations and sites
create policy read_all on refuge.operation for select
    to refuge_registration, refuge_supervisor, refuge_analyst, refuge_admin, refuge_biometrics,
       refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection,
       refuge_child_protection, refuge_partner
    using (true);
grant select on refuge.operation to refuge_registration, refuge_supervisor, refuge_analyst, refuge_admin,
    refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement,
    refuge_protection, refuge_child_protection, refuge_partner;
select pg_catalog.pg_extension_config_dump('refuge.operation', '');

create table refuge.site (
    id            uuid primary key default gen_random_uuid(),
    operation_id  uuid not null references refuge.operation,
    code          text not null check (code ~ '^[A-Z0-9_-]{1,20}$'),
    name          text not null,
    site_type     text not null,
    location      geometry(Point, 4326),
    active        boolean not null default true,
    created_at    timestamptz not null default now(),
    created_by    name not null default current_user,
    updated_at    timestamptz not null default now(),
    updated_by    name not null default current_user,
    unique (operation_id, code),
    unique (operation_id, id)
);
comment on table refuge.site is 'camps, urban areas and offices of an operation';
create trigger check_codes before insert or update on refuge.site
    for each row execute function refuge.check_codes('site_type', 'site_type');
-- every staff role reads the operations and sites
create policy read_all on refuge.site for select
    to refuge_registration, refuge_supervisor, refuge_analyst, refuge_admin, refuge_biometrics,
       refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection,
       refuge_child_protection, refuge_partner
    using (true);
grant select on refuge.site to refuge_registration, refuge_supervisor, refuge_analyst, refuge_admin,
    refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement,
    refuge_protection, refuge_child_protection, refuge_partner;
select pg_catalog.pg_extension_config_dump('refuge.site', '');

-- Staff are database roles (usually LOGIN roles that are members of one of
-- the refuge_* group roles).  Keyed by name so the mapping survives dump and
-- restore into another cluster.
create table refuge.staff (
    role_name   name primary key,
    full_name   text not null,
    email       text,
    active      boolean not null default true,
    created_at  timestamptz not null default now(),
    created_by  name not null default current_user,
    updated_at  timestamptz not null default now(),
    updated_by  name not null default current_user
);
comment on table refuge.staff is 'members of staff: their login role, name and whether active';
create policy admin_read on refuge.staff for select to refuge_admin using (true);
create policy own_read on refuge.staff for select to refuge_registration using (role_name = refuge.caller());
grant select on refuge.staff to refuge_registration, refuge_supervisor, refuge_admin;
select pg_catalog.pg_extension_config_dump('refuge.staff', '');

-- Where a member of staff may work: a whole operation (site_id null) or one
-- site of it, during a validity window.
create table refuge.staff_assignment (
    id            uuid primary key default gen_random_uuid(),
    role_name     name not null references refuge.staff on update cascade,
    operation_id  uuid not null references refuge.operation,
    site_id       uuid,
    valid_from    date not null default current_date,
    valid_to      date,
    created_at    timestamptz not null default now(),
    created_by    name not null default current_user,
    updated_at    timestamptz not null default now(),
    updated_by    name not null default current_user,
    foreign key (operation_id, site_id) references refuge.site (operation_id, id),
    check (valid_to is null or valid_to >= valid_from)
);
comment on table refuge.staff_assignment is 'where staff work: an operation or one of its sites, during a validity window';
create index on refuge.staff_assignment (role_name);
create policy admin_read on refuge.staff_assignment for select to refuge_admin using (true);
create policy own_read on refuge.staff_assignment for select to refuge_registration
    using (role_name = refuge.caller());
grant select on refuge.staff_assignment to refuge_registration, refuge_supervisor, refuge_admin;
select pg_catalog.pg_extension_config_dump('refuge.staff_assignment', '');

create policy supervisor_read on refuge.staff for select to refuge_supervisor
    using (exists (select 1 from refuge.staff_assignment a where a.role_name = staff.role_name));

-- Readable numbers (KEN-26-000123) take their serial part from one sequence:
-- registrations never wait for each other, numbers are unique across groups,
-- individuals and operations, and a rolled-back registration leaves a gap.
create sequence refuge.number_seq;
select pg_catalog.pg_extension_config_dump('refuge.number_seq', '');

-- Operations in which the caller holds an operation-wide assignment today.
create function refuge.scope_operations() returns uuid[]
    language sql stable parallel safe security definer
    set search_path = pg_catalog, pg_temp
begin atomic
    select coalesce(pg_catalog.array_agg(distinct a.operation_id), '{}')
      from refuge.staff_assignment a
      join refuge.staff s on s.role_name = a.role_name and s.active
     where a.role_name = refuge.caller()
       and a.site_id is null
       and a.valid_from <= current_date
       and (a.valid_to is null or a.valid_to >= current_date);
end;
comment on function refuge.scope_operations() is
    'the operations the caller is assigned to as a whole';
grant execute on function refuge.scope_operations() to refuge_registration, refuge_supervisor, refuge_analyst,
    refuge_admin, refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd,
    refuge_resettlement, refuge_protection, refuge_child_protection, refuge_partner, refuge_dba;

create policy supervisor_read on refuge.staff_assignment for select to refuge_supervisor
    using (operation_id = any ((select refuge.scope_operations())::uuid[]));

-- Sites to which the caller is assigned individually today.
create function refuge.scope_sites() returns uuid[]
    language sql stable parallel safe security definer
    set search_path = pg_catalog, pg_temp
begin atomic
    select coalesce(pg_catalog.array_agg(distinct a.site_id), '{}')
      from refuge.staff_assignment a
      join refuge.staff s on s.role_name = a.role_name and s.active
     where a.role_name = refuge.caller()
       and a.site_id is not null
       and a.valid_from <= current_date
       and (a.valid_to is null or a.valid_to >= current_date);
end;
comment on function refuge.scope_sites() is
    'the sites the caller is assigned to';
grant execute on function refuge.scope_sites() to refuge_registration, refuge_supervisor, refuge_analyst,
    refuge_admin, refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd,
    refuge_resettlement, refuge_protection, refuge_child_protection, refuge_partner, refuge_dba;

-- True when the caller's assignments cover this operation (and site).
create function refuge.in_scope(p_operation uuid, p_site uuid default null) returns boolean
    language sql stable parallel safe
begin atomic
    select refuge.caller_is_superuser()
        or p_operation = any (refuge.scope_operations())
        or (p_site is not null and p_site = any (refuge.scope_sites()));
end;
comment on function refuge.in_scope(uuid, uuid) is
    'is this operation (or site) one the caller is assigned to?';
grant execute on function refuge.in_scope(uuid, uuid) to refuge_registration, refuge_supervisor,
    refuge_analyst, refuge_admin, refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd,
    refuge_resettlement, refuge_protection, refuge_child_protection, refuge_partner, refuge_dba;

create function refuge.group_roles() returns name[]
    language sql immutable parallel safe
    return array['refuge_owner', 'refuge_registration', 'refuge_supervisor', 'refuge_analyst', 'refuge_admin',
                 'refuge_biometrics', 'refuge_biometrics_admin', 'refuge_assistance', 'refuge_rsd',
                 'refuge_resettlement', 'refuge_protection', 'refuge_child_protection', 'refuge_partner',
                 'refuge_dba']::name[];

-- Roles that work cases (the partner role reads referrals only).
create function refuge.case_roles() returns name[]
    language sql immutable parallel safe
    return array['refuge_rsd', 'refuge_resettlement', 'refuge_protection', 'refuge_child_protection',
                 'refuge_assistance', 'refuge_supervisor']::name[];
