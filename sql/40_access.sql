-- Who may see and change what.  Scope comes from refuge.staff_assignment for
-- the caller (refuge.caller()); rights come from membership in the refuge_*
-- group roles.  Superusers are not restricted.

create function refuge.caller_is_superuser() returns boolean
    language c stable parallel safe
    as 'MODULE_PATHNAME', 'refuge_caller_is_superuser';

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

-- True when the caller's assignments cover this operation (and site).
create function refuge.in_scope(p_operation uuid, p_site uuid default null) returns boolean
    language sql stable parallel safe
begin atomic
    select refuge.caller_is_superuser()
        or p_operation = any (refuge.scope_operations())
        or (p_site is not null and p_site = any (refuge.scope_sites()));
end;

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
        raise exception using errcode = '42501',
            message = format('%s: role %s is not a member of %s', p_action, refuge.caller(), p_role);
    end if;
    if p_operation is not null and not refuge.in_scope(p_operation, p_site) then
        raise exception using errcode = '42501',
            message = format('%s: role %s is not assigned to this operation or site', p_action, refuge.caller());
    end if;
end
$$;
