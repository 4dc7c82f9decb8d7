-- Forecasts (Holt's linear exponential smoothing).

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
comment on function refuge.forecast(double precision[], integer, double precision, double precision) is
    'Holt''s linear exponential smoothing of a series: forecasts with 95 % intervals (parameters fitted when not given)';
grant execute on function refuge.forecast(double precision[], integer, double precision, double precision) to
    refuge_analyst, refuge_dba;

-- population_forecast read the trend view: defined again over the new one.
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
         group by t.as_of
        having count(*) = count(t.individuals)),
    ordered as (select array_agg(n order by as_of) as v, max(as_of) as last_at,
                       max(as_of) - (array_agg(as_of order by as_of desc))[2] as spacing from series)
    select s.as_of, s.n, null::double precision, null::double precision, null::double precision from series s
    union all
    select o.last_at + f.step * o.spacing, null, f.forecast, f.lower95, f.upper95
      from ordered o, refuge.forecast(o.v, population_forecast.horizon) f
    order by 1;
end;
comment on function refuge_warehouse.population_forecast(text, integer) is
    'the active population of an operation (or all) over the snapshots and its forecast (Holt) for the next ones';
grant execute on function refuge_warehouse.population_forecast(text, integer) to refuge_analyst, refuge_dba;
