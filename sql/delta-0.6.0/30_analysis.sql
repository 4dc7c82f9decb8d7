-- Analysis over the snapshots: population in the UNHCR age brackets, flows
-- between snapshots, case-processing times, forecasts, the UNHCR
-- demographic table, its HXL export, and a population pyramid in SVG.
-- Views are security_invoker: analysts read them with their own rights.

-- Active population by snapshot, operation, origin, population type, sex and bracket.
create view refuge_warehouse.population with (security_invoker = true) as
select s.id as snapshot_id, s.as_of, p.operation, p.asylum_country, p.origin_country, p.population_type, p.sex,
       p.age_bracket, p.individuals, p.families
  from refuge_warehouse.snapshot s
  join refuge_warehouse.population_fact p on p.snapshot_id = s.id
 where p.status = 'ACTIVE';
comment on view refuge_warehouse.population is 'active individuals (and distinct families) per snapshot by operation, countries of asylum and origin, population type, sex and UNHCR age bracket';

-- Totals per snapshot and operation: the series trends and forecasts read.
create view refuge_warehouse.population_trend with (security_invoker = true) as
select s.id as snapshot_id, s.as_of, p.operation, sum(p.individuals) as individuals,
       sum(p.individuals) filter (where p.sex = 'F') as female, sum(p.individuals) filter (where p.sex = 'M') as male,
       sum(p.individuals) filter (where p.age_bracket in ('0_4', '5_11', '12_17')) as children
  from refuge_warehouse.snapshot s
  join refuge_warehouse.population_fact p on p.snapshot_id = s.id
 where p.status = 'ACTIVE'
 group by s.id, s.as_of, p.operation;
comment on view refuge_warehouse.population_trend is 'active individuals per snapshot and operation, by sex and children under 18';

-- UNHCR demographic table (the layout of UNHCR's population statistics):
-- one row per year, asylum and origin country and population type, the
-- counts by sex and age bracket.
create view refuge_warehouse.population_statistics with (security_invoker = true) as
select s.id as snapshot_id, extract(year from s.as_of)::integer as year, p.asylum_country, p.origin_country,
       p.population_type,
       coalesce(sum(p.individuals) filter (where p.sex = 'F' and p.age_bracket = '0_4'), 0) as female_0_4,
       coalesce(sum(p.individuals) filter (where p.sex = 'F' and p.age_bracket = '5_11'), 0) as female_5_11,
       coalesce(sum(p.individuals) filter (where p.sex = 'F' and p.age_bracket = '12_17'), 0) as female_12_17,
       coalesce(sum(p.individuals) filter (where p.sex = 'F' and p.age_bracket = '18_59'), 0) as female_18_59,
       coalesce(sum(p.individuals) filter (where p.sex = 'F' and p.age_bracket = '60'), 0) as female_60,
       coalesce(sum(p.individuals) filter (where p.sex = 'F' and p.age_bracket = 'unknown'), 0) as female_unknown,
       coalesce(sum(p.individuals) filter (where p.sex = 'F'), 0) as female_total,
       coalesce(sum(p.individuals) filter (where p.sex = 'M' and p.age_bracket = '0_4'), 0) as male_0_4,
       coalesce(sum(p.individuals) filter (where p.sex = 'M' and p.age_bracket = '5_11'), 0) as male_5_11,
       coalesce(sum(p.individuals) filter (where p.sex = 'M' and p.age_bracket = '12_17'), 0) as male_12_17,
       coalesce(sum(p.individuals) filter (where p.sex = 'M' and p.age_bracket = '18_59'), 0) as male_18_59,
       coalesce(sum(p.individuals) filter (where p.sex = 'M' and p.age_bracket = '60'), 0) as male_60,
       coalesce(sum(p.individuals) filter (where p.sex = 'M' and p.age_bracket = 'unknown'), 0) as male_unknown,
       coalesce(sum(p.individuals) filter (where p.sex = 'M'), 0) as male_total,
       sum(p.individuals) as total
  from refuge_warehouse.snapshot s
  join refuge_warehouse.population_fact p on p.snapshot_id = s.id
 where p.status = 'ACTIVE'
 group by s.id, s.as_of, p.asylum_country, p.origin_country, p.population_type;

-- How long each step takes, per snapshot, module, operation and step.
create view refuge_warehouse.case_processing with (security_invoker = true) as
select f.snapshot_id, f.module, f.operation, f.from_state, f.to_state, count(*) as steps,
       round(avg(f.days_since_previous), 1) as mean_days,
       percentile_cont(0.5) within group (order by f.days_since_previous) as median_days,
       percentile_cont(0.9) within group (order by f.days_since_previous) as p90_days
  from refuge_warehouse.case_step_fact f
 where f.days_since_previous is not null
 group by f.snapshot_id, f.module, f.operation, f.from_state, f.to_state;

-- Cases by state, with the time spent open and in the current state.
create view refuge_warehouse.case_states with (security_invoker = true) as
select f.snapshot_id, f.module, f.operation, f.state, f.closed, count(*) as cases, sum(f.members) as people,
       round(avg(f.days_open), 1) as mean_days_open, round(avg(f.days_in_state), 1) as mean_days_in_state
  from refuge_warehouse.case_fact f
 group by f.snapshot_id, f.module, f.operation, f.state, f.closed;

-- Flows between two snapshots per operation: people who arrived (in the
-- later, not the earlier), left (active before, not now), moved between
-- operations, and were resettled, returned or naturalised in between.
create function refuge_warehouse.flows(from_snapshot integer, to_snapshot integer)
    returns table (operation text, arrivals bigint, departures bigint, moved_in bigint, moved_out bigint,
                   resettled bigint, returned bigint, naturalised bigint)
    language plpgsql stable
    set search_path = pg_catalog, pg_temp
as $$
declare
    t0 timestamptz;
    t1 timestamptz;
begin
    select s.as_of into t0 from refuge_warehouse.snapshot s where s.id = from_snapshot;
    select s.as_of into t1 from refuge_warehouse.snapshot s where s.id = to_snapshot;
    if t0 is null or t1 is null or t0 >= t1 then
        raise exception using errcode = '22023',
            message = format('from_snapshot, to_snapshot: %s and %s are not two snapshots in time order', from_snapshot, to_snapshot);
    end if;
    return query
    with a as (select f.person, f.operation from refuge_warehouse.individual_fact f
                where f.snapshot_id = from_snapshot and f.status = 'ACTIVE'),
         b as (select f.person, f.operation from refuge_warehouse.individual_fact f
                where f.snapshot_id = to_snapshot and f.status = 'ACTIVE'),
         people as (
            select coalesce(b.operation, a.operation) as op,
                   count(*) filter (where a.person is null) as arrivals,
                   count(*) filter (where b.person is null) as departures,
                   count(*) filter (where a.person is not null and b.person is not null and a.operation <> b.operation) as moved
              from a full join b on a.person = b.person
             group by 1),
         moved_out as (
            select a.operation as op, count(*) as n from a join b on a.person = b.person and a.operation <> b.operation
             group by 1),
         solutions as (
            select s.operation as op,
                   sum(c.members) filter (where s.module = 'RESETTLEMENT' and s.to_state = 'DEPARTED') as resettled,
                   sum(c.members) filter (where s.module = 'VOLREP' and s.to_state in ('DEPARTED', 'SPONTANEOUS_DEPARTURE')) as returned,
                   sum(c.members) filter (where s.module = 'LOCAL_INTEGRATION' and s.to_state = 'NATURALISED') as naturalised
              from refuge_warehouse.case_step_fact s
              join refuge_warehouse.case_fact c on c.snapshot_id = s.snapshot_id and c.case_key = s.case_key
             where s.snapshot_id = to_snapshot and s.at > t0 and s.at <= t1
             group by 1)
    select p.op, p.arrivals, p.departures, p.moved, coalesce(m.n, 0),
           coalesce(x.resettled, 0)::bigint, coalesce(x.returned, 0)::bigint, coalesce(x.naturalised, 0)::bigint
      from people p
      left join moved_out m on m.op = p.op
      left join solutions x on x.op = p.op
     order by p.op;
end
$$;

-- Holt's linear exponential smoothing of a series (level and trend), with
-- a 95 % prediction interval from the one-step errors.  alpha and beta are
-- chosen by least squares on a grid when not given.
create function refuge.forecast(series double precision[], horizon integer, alpha double precision default null,
                                beta double precision default null)
    returns table (step integer, forecast double precision, lower95 double precision, upper95 double precision)
    language plpgsql immutable
    set search_path = pg_catalog, pg_temp
as $$
declare
    n integer := coalesce(cardinality(series), 0);
    a double precision;
    b double precision;
    best double precision := 'Infinity';
    sse double precision;
    lvl double precision;
    trend double precision;
    prev double precision;
    err double precision;
    sigma double precision;
    v double precision;
begin
    if n < 3 then
        raise exception using errcode = '22023', message = format('series: %s values; a forecast needs at least 3', n);
    end if;
    if horizon is null or horizon < 1 or horizon > 120 then
        raise exception using errcode = '22023', message = format('horizon: %s is not between 1 and 120', horizon);
    end if;
    if array_position(series, null) is not null then
        raise exception using errcode = '22004', message = 'series: contains null values';
    end if;
    if (alpha is not null and (alpha <= 0 or alpha > 1)) or (beta is not null and (beta < 0 or beta > 1)) then
        raise exception using errcode = '22023', message = 'alpha, beta: smoothing parameters lie in (0, 1] and [0, 1]';
    end if;
    -- choose the parameters: least one-step squared error on a 0.05 grid
    for a, b in select x.a, y.b from generate_series(0.05, 1.0, 0.05) x(a), generate_series(0.0, 1.0, 0.05) y(b)
                 where (alpha is null or x.a = alpha) and (beta is null or y.b = beta)
                union all select alpha, beta where alpha is not null and beta is not null
    loop
        lvl := series[1];
        trend := series[2] - series[1];
        sse := 0;
        for i in 2 .. n loop
            err := series[i] - (lvl + trend);
            sse := sse + err * err;
            prev := lvl;
            lvl := a * series[i] + (1 - a) * (lvl + trend);
            trend := b * (lvl - prev) + (1 - b) * trend;
        end loop;
        if sse < best then
            best := sse;
            alpha := a;
            beta := b;
        end if;
    end loop;
    lvl := series[1];
    trend := series[2] - series[1];
    for i in 2 .. n loop
        prev := lvl;
        lvl := alpha * series[i] + (1 - alpha) * (lvl + trend);
        trend := beta * (lvl - prev) + (1 - beta) * trend;
    end loop;
    sigma := sqrt(best / greatest(n - 3, 1));
    for h in 1 .. horizon loop
        -- variance of the h-step error of Holt's method
        v := 1;
        for j in 1 .. h - 1 loop
            v := v + (alpha * (1 + j * beta)) ^ 2;
        end loop;
        step := h;
        forecast := lvl + h * trend;
        lower95 := forecast - 1.96 * sigma * sqrt(v);
        upper95 := forecast + 1.96 * sigma * sqrt(v);
        return next;
    end loop;
end
$$;

-- The active population of an operation (or all) over the snapshots, and its
-- forecast for the next snapshots (spaced as the last two were).
create function refuge_warehouse.population_forecast(operation text default null, horizon integer default 4)
    returns table (as_of timestamptz, individuals double precision, forecast double precision,
                   lower95 double precision, upper95 double precision)
    language sql stable
    set search_path = pg_catalog, pg_temp
begin atomic
    with series as (
        select t.as_of, sum(t.individuals)::double precision as n
          from refuge_warehouse.population_trend t
         where population_forecast.operation is null or t.operation = population_forecast.operation
         group by t.as_of),
    ordered as (select array_agg(n order by as_of) as v, max(as_of) as last_at,
                       max(as_of) - (array_agg(as_of order by as_of desc))[2] as spacing from series)
    select s.as_of, s.n, null::double precision, null::double precision, null::double precision from series s
    union all
    select o.last_at + f.step * o.spacing, null, f.forecast, f.lower95, f.upper95
      from ordered o, refuge.forecast(o.v, population_forecast.horizon) f
    order by 1;
end;

-- The UNHCR demographic table of a snapshot as HXL-tagged CSV (header row,
-- then the HXL hashtag row, then the data).  Cells under min_cell (at least
-- 5 except for superusers) are left empty so that small groups cannot be
-- singled out in a published file.
create function refuge.hxl_population_csv(snapshot_id integer, min_cell integer default 5) returns text
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    floor_cell integer := case when refuge.caller_is_superuser() then greatest(coalesce(min_cell, 1), 1)
                               else greatest(coalesce(min_cell, 5), 5) end;
    cols text[] := array['female_0_4', 'female_5_11', 'female_12_17', 'female_18_59', 'female_60', 'female_unknown',
                         'female_total', 'male_0_4', 'male_5_11', 'male_12_17', 'male_18_59', 'male_60', 'male_unknown',
                         'male_total', 'total'];
    body text;
begin
    if not exists (select 1 from refuge_warehouse.snapshot s where s.id = hxl_population_csv.snapshot_id) then
        raise exception using errcode = 'P0002', message = format('snapshot_id: no snapshot %s', snapshot_id);
    end if;
    execute format($q$
        select string_agg(concat_ws(',', p.year, p.origin_country, p.asylum_country, p.population_type, %s), E'\n'
                          order by p.asylum_country, p.origin_country, p.population_type)
          from refuge_warehouse.population_statistics p where p.snapshot_id = $1$q$,
        (select string_agg(format('case when p.%1$I >= $2 then p.%1$I::text else %2$L end', c, ''), ', ') from unnest(cols) c))
        into body using snapshot_id, floor_cell;
    return 'Year,Country of origin,Country of asylum,Population type,'
        || 'Female 0-4,Female 5-11,Female 12-17,Female 18-59,Female 60+,Female unknown age,Female total,'
        || 'Male 0-4,Male 5-11,Male 12-17,Male 18-59,Male 60+,Male unknown age,Male total,Total' || E'\n'
        || '#date+year,#country+code+origin,#country+code+asylum,#indicator+population_type,'
        || '#affected+f+infants+age_0_4,#affected+f+children+age_5_11,#affected+f+adolescents+age_12_17,'
        || '#affected+f+adults+age_18_59,#affected+f+elderly+age_60,#affected+f+unknown_age,#affected+f+total,'
        || '#affected+m+infants+age_0_4,#affected+m+children+age_5_11,#affected+m+adolescents+age_12_17,'
        || '#affected+m+adults+age_18_59,#affected+m+elderly+age_60,#affected+m+unknown_age,#affected+m+total,'
        || '#affected+all+total' || E'\n'
        || coalesce(body || E'\n', '');
end
$$;

-- A population pyramid of an operation at a snapshot, as an SVG document:
-- five-year bands (80+ last), men left, women right, each bar labelled with
-- its share of the population.  People of unknown age are counted in the title.
create function refuge.population_pyramid_svg(snapshot_id integer, operation text) returns text
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    bands constant integer := 17;
    bar_h constant integer := 22;
    top constant integer := 60;
    mid constant integer := 400;
    half constant integer := 300;
    total bigint;
    unknown bigint;
    widest bigint;
    taken timestamptz;
    band jsonb[];
    svg text;
begin
    select s.as_of into taken from refuge_warehouse.snapshot s where s.id = population_pyramid_svg.snapshot_id;
    if taken is null then
        raise exception using errcode = 'P0002', message = format('snapshot_id: no snapshot %s', snapshot_id);
    end if;
    select count(*), count(*) filter (where f.age is null) into total, unknown
      from refuge_warehouse.individual_fact f
     where f.snapshot_id = population_pyramid_svg.snapshot_id and f.operation = population_pyramid_svg.operation
       and f.status = 'ACTIVE';
    if total = 0 then
        raise exception using errcode = 'P0002',
            message = format('operation: no active population of "%s" in snapshot %s', operation, snapshot_id);
    end if;
    band := array(select jsonb_build_object('g', g, 'm', coalesce(x.m, 0), 'f', coalesce(x.f, 0))
                    from generate_series(0, bands - 1) g
                    left join (select least(f.age / 5, bands - 1) as b, count(*) filter (where f.sex = 'M') as m,
                                      count(*) filter (where f.sex = 'F') as f
                                 from refuge_warehouse.individual_fact f
                                where f.snapshot_id = population_pyramid_svg.snapshot_id
                                  and f.operation = population_pyramid_svg.operation and f.status = 'ACTIVE'
                                  and f.age is not null
                                group by 1) x on x.b = g
                   order by g);
    select greatest(max(greatest((b ->> 'm')::bigint, (b ->> 'f')::bigint)), 1) into widest from unnest(band) b;
    svg := format('<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" font-family="sans-serif" font-size="11">',
                  2 * mid, top + bands * bar_h + 50, 2 * mid, top + bands * bar_h + 50)
        || format('<title>Population pyramid, %s, %s</title>', operation, to_char(taken at time zone 'UTC', 'YYYY-MM-DD'))
        || format('<text x="%s" y="22" text-anchor="middle" font-size="15" font-weight="bold">%s: %s people, %s</text>',
                  mid, operation, total, to_char(taken at time zone 'UTC', 'YYYY-MM-DD'))
        || format('<text x="%s" y="42" text-anchor="middle" fill="#555">men left, women right; share of the population by five-year age group%s</text>',
                  mid, case when unknown > 0 then format('; %s of unknown age not shown', unknown) else '' end)
        || (select string_agg(
               format('<text x="%s" y="%s" text-anchor="middle">%s</text>', mid, top + (bands - 1 - g) * bar_h + 15,
                      case when g = bands - 1 then '80+' else (5 * g) || '-' || (5 * g + 4) end)
            || format('<rect x="%s" y="%s" width="%s" height="%s" fill="#3b6fb6"><title>men %s: %s</title></rect>',
                      mid - 25 - round(half * coalesce(m.n, 0) / widest::numeric), top + (bands - 1 - g) * bar_h + 2,
                      round(half * coalesce(m.n, 0) / widest::numeric), bar_h - 4,
                      case when g = bands - 1 then '80+' else (5 * g) || '-' || (5 * g + 4) end, coalesce(m.n, 0))
            || format('<text x="%s" y="%s" text-anchor="end" fill="#333">%s%%</text>',
                      mid - 29 - round(half * coalesce(m.n, 0) / widest::numeric), top + (bands - 1 - g) * bar_h + 15,
                      round(100.0 * coalesce(m.n, 0) / total, 1))
            || format('<rect x="%s" y="%s" width="%s" height="%s" fill="#e07b39"><title>women %s: %s</title></rect>',
                      mid + 25, top + (bands - 1 - g) * bar_h + 2,
                      round(half * coalesce(f.n, 0) / widest::numeric), bar_h - 4,
                      case when g = bands - 1 then '80+' else (5 * g) || '-' || (5 * g + 4) end, coalesce(f.n, 0))
            || format('<text x="%s" y="%s" fill="#333">%s%%</text>',
                      mid + 29 + round(half * coalesce(f.n, 0) / widest::numeric), top + (bands - 1 - g) * bar_h + 15,
                      round(100.0 * coalesce(f.n, 0) / total, 1)), '' order by g)
              from (select (b ->> 'g')::integer as g, (b ->> 'm')::bigint as mn, (b ->> 'f')::bigint as fn
                      from unnest(band) b) x,
                   lateral (select x.mn as n) m, lateral (select x.fn as n) f)
        || format('<text x="%s" y="%s" text-anchor="middle" fill="#555">Men</text>', mid - half / 2, top + bands * bar_h + 25)
        || format('<text x="%s" y="%s" text-anchor="middle" fill="#555">Women</text>', mid + half / 2, top + bands * bar_h + 25)
        || '</svg>';
    return svg;
end
$$;
