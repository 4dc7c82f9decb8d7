-- Statistics for analysts: the views over the published tables, flows,
-- population_summary.

-- The population by operation, site and the usual breakdowns.  Analysts
-- read the published cells of the latest snapshot taken by the end of
-- on_date (site null): live figures, however protected, would let two calls
-- a registration apart single out the person registered.  Supervisors read
-- live figures of their operations, protected the same way as published
-- ones: each operation's and each site's total may be known, so no
-- suppressed cell may be alone in its site or operation.
create function refuge.population_summary(on_date date default current_date, min_cell integer default 5)
    returns table (operation text, site text, population_type text, origin_country text, sex text,
                   age_bracket text, individuals integer, groups integer)
    language plpgsql stable security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    k integer;
    ops text[];
    sites text[];
    ptypes text[];
    origins text[];
    sexes text[];
    brackets text[];
    ns bigint[];
    gs bigint[];
    ncells integer;
    counts bigint[];
    fixed boolean[];
    eid integer[];
    evar integer[];
    ecoef integer[];
    supp boolean[];
begin
    if not (refuge.caller_has('refuge_analyst') or refuge.caller_has('refuge_supervisor')) then
        perform refuge.authorize('refuge_analyst', 'population_summary');
    end if;
    if not (refuge.caller_is_superuser() or refuge.caller_has('refuge_supervisor')) then
        return query
        select c.operation, null::text, c.population_type, c.origin_country, c.sex, c.age_bracket,
               case when c.individuals < coalesce(min_cell, 0) then null else c.individuals end,
               case when c.individuals < coalesce(min_cell, 0) or c.families < coalesce(min_cell, 0) then null else c.families end
          from refuge_warehouse.population_cell c
         where c.snapshot_id = (select s.id from refuge_warehouse.snapshot s
                                 where s.as_of < (on_date + 1)::timestamptz and s.finished_at is not null
                                 order by s.as_of desc, s.id desc limit 1)
         order by c.operation, c.population_type, c.origin_country, c.sex, c.age_bracket;
        return;
    end if;
    k := case when refuge.caller_is_superuser() then greatest(coalesce(min_cell, 1), 1)
              else greatest(coalesce(min_cell, 0), pg_catalog.current_setting('refuge.min_cell_size')::integer) end;
    select array_agg(x.op order by x.op, x.site_code, x.ptype, x.origin, x.sx, x.bracket),
           array_agg(x.site_code order by x.op, x.site_code, x.ptype, x.origin, x.sx, x.bracket),
           array_agg(x.ptype order by x.op, x.site_code, x.ptype, x.origin, x.sx, x.bracket),
           array_agg(x.origin order by x.op, x.site_code, x.ptype, x.origin, x.sx, x.bracket),
           array_agg(x.sx order by x.op, x.site_code, x.ptype, x.origin, x.sx, x.bracket),
           array_agg(x.bracket order by x.op, x.site_code, x.ptype, x.origin, x.sx, x.bracket),
           array_agg(x.n order by x.op, x.site_code, x.ptype, x.origin, x.sx, x.bracket),
           array_agg(x.g order by x.op, x.site_code, x.ptype, x.origin, x.sx, x.bracket)
      into ops, sites, ptypes, origins, sexes, brackets, ns, gs
      from (select o.code as op, s.code as site_code, i.population_type as ptype, i.origin_country as origin, i.sex as sx,
                   refuge.age_bracket(i.date_of_birth, on_date) as bracket, count(*) as n,
                   count(distinct gm.group_id) as g
              from refuge.individual i
              join refuge.operation o on o.id = i.operation_id
              join refuge.site s on s.id = i.site_id
              left join refuge.group_membership gm on gm.individual_id = i.id and gm.valid_to is null
             where i.status = 'ACTIVE' and i.registration_date <= on_date
               and ((select refuge.caller_is_superuser()) or i.operation_id = any ((select refuge.scope_operations())::uuid[])
                    or i.site_id = any ((select refuge.scope_sites())::uuid[]))
             group by 1, 2, 3, 4, 5, 6) x;
    ncells := coalesce(cardinality(ns), 0);
    if ncells = 0 then
        return;
    end if;
    -- variables: the cells, then each site's and operation's total (known to anyone: never suppressed)
    with cell as (select c.i, ops[c.i] as op, sites[c.i] as site_code, ns[c.i] as n from generate_series(1, ncells) c(i)),
    tot as (select row_number() over (order by t.kind, t.op, t.site_code)::integer + ncells as vid, t.*
              from (select 'site' as kind, op, site_code, sum(n)::bigint as n from cell group by op, site_code
                    union all select 'op', op, '', sum(n)::bigint from cell group by op) t),
    e as (select 's|' || c.op || '|' || c.site_code as eq, c.i as vid, 1 as coef from cell c
          union all select 's|' || t.op || '|' || t.site_code, t.vid, -1 from tot t where t.kind = 'site'
          union all select 'o|' || t.op, t.vid, 1 from tot t where t.kind = 'site'
          union all select 'o|' || t.op, t.vid, -1 from tot t where t.kind = 'op'),
    r as (select dense_rank() over (order by e.eq)::integer as eid, e.vid, e.coef from e)
    select ns || (select array_agg(t.n order by t.vid) from tot t),
           array_fill(false, array[ncells]) || (select array_agg(true) from tot t),
           (select array_agg(r.eid order by r.eid, r.vid) from r), (select array_agg(r.vid order by r.eid, r.vid) from r),
           (select array_agg(r.coef order by r.eid, r.vid) from r)
      into counts, fixed, eid, evar, ecoef;
    supp := refuge.sdc_protect(counts, eid, evar, ecoef, k, fixed);
    return query
    select ops[c.i], sites[c.i], ptypes[c.i], origins[c.i], sexes[c.i], brackets[c.i],
           case when supp[c.i] then null else ns[c.i]::integer end,
           case when supp[c.i] or gs[c.i] < k then null else gs[c.i]::integer end
      from generate_series(1, ncells) c(i)
     order by c.i;
end
$$;
comment on function refuge.population_summary(date, integer) is
    'active individuals by operation, site, population type, origin, sex and UNHCR age bracket.  Analysts: the published cells of the latest snapshot taken by the end of on_date (site null).  Supervisors: live figures of their operations; cells under refuge.min_cell_size (min_cell for superusers), and those that would give them away through a site''s or operation''s total, are null';
grant execute on function refuge.population_summary(date, integer) to refuge_supervisor, refuge_analyst;

create view refuge_warehouse.population_trend with (security_invoker = true) as
select s.id as snapshot_id, s.as_of, t.operation, t.individuals, t.female, t.male, t.children
  from refuge_warehouse.snapshot s
  join refuge_warehouse.population_total t on t.snapshot_id = s.id;
comment on view refuge_warehouse.population_trend is 'active individuals per snapshot and operation, women, men and children under 18; null = suppressed';
grant select on refuge_warehouse.population_trend to refuge_analyst, refuge_dba;

create view refuge_warehouse.population_statistics with (security_invoker = true) as
with cells as (
    select c.snapshot_id, c.operation, c.asylum_country, c.origin_country, c.population_type,
           jsonb_object_agg(c.sex || '|' || c.age_bracket, c.individuals) as n
      from refuge_warehouse.population_cell c
     group by 1, 2, 3, 4, 5)
select s.id as snapshot_id, extract(year from s.as_of)::integer as year, r.asylum_country, r.origin_country,
       r.population_type,
       case when x.n ? 'F|0_4' then (x.n ->> 'F|0_4')::integer else 0 end as female_0_4, case when x.n ? 'F|5_11' then (x.n ->> 'F|5_11')::integer else 0 end as female_5_11,
       case when x.n ? 'F|12_17' then (x.n ->> 'F|12_17')::integer else 0 end as female_12_17, case when x.n ? 'F|18_59' then (x.n ->> 'F|18_59')::integer else 0 end as female_18_59,
       case when x.n ? 'F|60' then (x.n ->> 'F|60')::integer else 0 end as female_60, case when x.n ? 'F|unknown' then (x.n ->> 'F|unknown')::integer else 0 end as female_unknown,
       r.female as female_total,
       case when x.n ? 'M|0_4' then (x.n ->> 'M|0_4')::integer else 0 end as male_0_4, case when x.n ? 'M|5_11' then (x.n ->> 'M|5_11')::integer else 0 end as male_5_11,
       case when x.n ? 'M|12_17' then (x.n ->> 'M|12_17')::integer else 0 end as male_12_17, case when x.n ? 'M|18_59' then (x.n ->> 'M|18_59')::integer else 0 end as male_18_59,
       case when x.n ? 'M|60' then (x.n ->> 'M|60')::integer else 0 end as male_60, case when x.n ? 'M|unknown' then (x.n ->> 'M|unknown')::integer else 0 end as male_unknown,
       r.male as male_total, r.total, r.operation, r.unknown_sex as unknown_sex_total
  from refuge_warehouse.snapshot s
  join refuge_warehouse.population_row r on r.snapshot_id = s.id
  left join cells x on x.snapshot_id = r.snapshot_id and x.operation = r.operation
                   and x.origin_country is not distinct from r.origin_country and x.population_type = r.population_type;
comment on view refuge_warehouse.population_statistics is 'UNHCR demographic table: per year, operation, countries of asylum and origin and population type, women and men by age bracket with totals; null = suppressed';
grant select on refuge_warehouse.population_statistics to refuge_analyst, refuge_dba;

create view refuge_warehouse.case_processing with (security_invoker = true) as
select f.snapshot_id, f.module, f.operation, f.from_state, f.to_state, f.steps, f.mean_days, f.median_days, f.p90_days
  from refuge_warehouse.case_step_summary f;
comment on view refuge_warehouse.case_processing is 'days each step of each module takes, per snapshot and operation (not for sensitive modules); null = suppressed';
grant select on refuge_warehouse.case_processing to refuge_analyst, refuge_dba;

create view refuge_warehouse.case_states with (security_invoker = true) as
select f.snapshot_id, f.module, f.operation, f.state, f.closed, f.cases, f.people, f.mean_days_open,
       f.mean_days_in_state
  from refuge_warehouse.case_summary f;
comment on view refuge_warehouse.case_states is 'cases by module, operation and state per snapshot (sensitive modules: open or closed only); null = suppressed';
grant select on refuge_warehouse.case_states to refuge_analyst, refuge_dba;

create view refuge_warehouse.population with (security_invoker = true) as
select s.id as snapshot_id, s.as_of, c.operation, c.asylum_country, c.origin_country, c.population_type, c.sex,
       c.age_bracket, c.individuals, c.families
  from refuge_warehouse.snapshot s
  join refuge_warehouse.population_cell c on c.snapshot_id = s.id;
comment on view refuge_warehouse.population is 'active individuals (and families) per snapshot by operation, countries of asylum and origin, population type, sex and UNHCR age bracket; null = suppressed';
grant select on refuge_warehouse.population to refuge_analyst, refuge_dba;

create function refuge_warehouse.flows(from_snapshot integer, to_snapshot integer)
    returns table (operation text, arrivals integer, departures integer, moved_in integer, moved_out integer,
                   resettled integer, returned integer, naturalised integer)
    language plpgsql stable security definer
    set search_path = pg_catalog, pg_temp
as $$
declare
    published_from integer;
begin
    perform refuge.authorize_any(array['refuge_analyst', 'refuge_dba']::name[], 'flows');
    select f.from_snapshot_id into published_from from refuge_warehouse.flow_summary f where f.snapshot_id = to_snapshot limit 1;
    if published_from is distinct from from_snapshot then
        raise exception using errcode = '22023',
            message = format('from_snapshot: flows are published between a snapshot and the one before it when it was taken; '
                             || 'snapshot %s has %s', to_snapshot,
                             coalesce('flows from snapshot ' || published_from, 'none'));
    end if;
    return query
    select f.operation, f.arrivals, f.departures, f.moved_in, f.moved_out, f.resettled, f.returned, f.naturalised
      from refuge_warehouse.flow_summary f
     where f.snapshot_id = to_snapshot
     order by f.operation;
end
$$;
comment on function refuge_warehouse.flows(integer, integer) is
    'people who arrived, left, moved between operations, and were resettled, returned or naturalised between a snapshot and the one before it (published with the later one; other pairs are refused, since overlapping intervals would give suppressed figures away), per operation; null = suppressed';
grant execute on function refuge_warehouse.flows(integer, integer) to refuge_analyst, refuge_dba;
