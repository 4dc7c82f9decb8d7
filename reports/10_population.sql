-- Population figures for analysts: counts only, no identifiable rows.
-- Cells smaller than min_cell are suppressed (null) for callers who cannot
-- read the underlying records, so that small groups cannot be singled out.

create function refuge.population_summary(on_date date default current_date, min_cell integer default 5)
    returns table (operation text, site text, population_type text, origin_country text, sex text,
                   age_bracket text, individuals bigint, groups bigint)
    language plpgsql stable security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    floor_cell integer;
begin
    if not (refuge.caller_has('refuge_analyst') or refuge.caller_has('refuge_supervisor')) then
        perform refuge.authorize('refuge_analyst', 'population_summary');
    end if;
    -- only superusers may see cells below 5
    floor_cell := case when refuge.caller_is_superuser() then greatest(coalesce(min_cell, 1), 1)
                       else greatest(coalesce(min_cell, 5), 5) end;
    return query
    select o.code, s.code, i.population_type, i.origin_country, i.sex,
           refuge.age_bracket(i.date_of_birth, on_date),
           case when count(*) >= floor_cell then count(*) end,
           case when count(*) >= floor_cell then count(distinct gm.group_id) end
      from refuge.individual i
      join refuge.operation o on o.id = i.operation_id
      join refuge.site s on s.id = i.site_id
      left join refuge.group_membership gm on gm.individual_id = i.id and gm.valid_to is null
     where i.status = 'ACTIVE' and i.registration_date <= on_date
     group by 1, 2, 3, 4, 5, 6
     order by 1, 2, 3, 4, 5, 6;
end
$$;
comment on function refuge.population_summary(date, integer) is
    'active individuals by operation, site, population type, origin, sex and UNHCR age bracket; cells under min_cell (at least 5 except for superusers) are null';
