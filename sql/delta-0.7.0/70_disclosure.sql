-- What analysts read passes statistical disclosure control.  The facts of a
-- snapshot (one row per person, family, case and case step) are for the DBA
-- role and for computing aggregates; analysts read tables published from
-- them when the snapshot is taken, in which no figure describes fewer than
-- refuge.min_cell_size people (k, default 5) and no suppressed figure can
-- be recomputed from the published totals (complementary suppression over
-- every equation that ties the published figures together, audited by
-- Gaussian elimination: extension/disclosure.c).  Ages are published in
-- UNHCR's brackets and in bands that nest in them (for pyramids), never in
-- years; sensitive modules (SGBV, child protection, fraud) only as counts of
-- open and closed cases per operation, with no state, step or person link.

create function refuge.sdc_protect(counts bigint[], eq_id integer[], eq_var integer[], eq_coef integer[], k integer,
                                   fixed boolean[] default null, forced boolean[] default null,
                                   priority integer[] default null)
    returns boolean[]
    language c immutable
    as 'MODULE_PATHNAME', 'refuge_sdc_protect';
comment on function refuge.sdc_protect(bigint[], integer[], integer[], integer[], integer, boolean[], boolean[], integer[]) is
    'cell suppression: which of the counts to suppress so that none below k is shown and none can be recomputed from the equations (eq_id, eq_var, eq_coef: sum of coef * count = 0); fixed ones are never suppressed, forced ones always, a lower priority first';

-- The age bands of population pyramids: five years wide inside UNHCR's
-- brackets, so that a band never straddles a bracket (a band that did would
-- let a difference of two published figures isolate one or two years).
create function refuge_warehouse.age_band(age integer) returns text
    language sql immutable parallel safe
return case when age is null then 'unknown'
            when age < 5 then '0-4' when age < 12 then '5-11' when age < 18 then '12-17'
            when age < 25 then '18-24' when age >= 80 then '80+'
            else (age / 5 * 5) || '-' || (age / 5 * 5 + 4) end;
create function refuge_warehouse.age_bands() returns text[]
    language sql immutable parallel safe
return array['0-4', '5-11', '12-17', '18-24', '25-29', '30-34', '35-39', '40-44', '45-49', '50-54', '55-59',
             '60-64', '65-69', '70-74', '75-79', '80+'];
create function refuge_warehouse.band_bracket(band text) returns text
    language sql immutable parallel safe
return case when band = 'unknown' then 'unknown' when band = '0-4' then '0_4' when band = '5-11' then '5_11'
            when band = '12-17' then '12_17' when band in ('60-64', '65-69', '70-74', '75-79', '80+') then '60'
            else '18_59' end;

-- Published tables, one partition per snapshot (filled and frozen by
-- refuge_warehouse.publish); a null figure is suppressed.
create table refuge_warehouse.population_cell (
    snapshot_id      integer not null,
    operation        text not null,
    asylum_country   text not null,
    origin_country   text,
    population_type  text not null,
    sex              text not null,
    age_bracket      text not null,
    individuals      bigint,
    families         bigint
) partition by list (snapshot_id);
comment on table refuge_warehouse.population_cell is 'active people at a snapshot by operation, origin, population type, sex and UNHCR age bracket (cells with people only); null = suppressed (fewer than refuge.min_cell_size, or it would give a suppressed figure away)';

create table refuge_warehouse.population_row (
    snapshot_id      integer not null,
    operation        text not null,
    asylum_country   text not null,
    origin_country   text,
    population_type  text not null,
    female           bigint,
    male             bigint,
    unknown_sex      bigint,
    total            bigint
) partition by list (snapshot_id);
comment on table refuge_warehouse.population_row is 'totals of each operation x origin x population type: women, men, sex unknown, all; null = suppressed';

create table refuge_warehouse.population_total (
    snapshot_id      integer not null,
    operation        text not null,
    asylum_country   text not null,
    individuals      bigint,
    female           bigint,
    male             bigint,
    unknown_sex      bigint,
    children         bigint,
    unknown_age      bigint,
    families         bigint
) partition by list (snapshot_id);
comment on table refuge_warehouse.population_total is 'active people of an operation at a snapshot: all, women, men, sex unknown, children under 18, age unknown, families; null = suppressed';

create table refuge_warehouse.population_band (
    snapshot_id      integer not null,
    operation        text not null,
    sex              text not null,
    band             text not null,
    individuals      bigint
) partition by list (snapshot_id);
comment on table refuge_warehouse.population_band is 'women and men of an operation at a snapshot by age band (bands nest in UNHCR brackets): the population pyramid; null = suppressed';

create table refuge_warehouse.case_summary (
    snapshot_id      integer not null,
    module           text not null,
    operation        text not null,
    state            text not null,
    closed           boolean not null,
    cases            bigint,
    people           bigint,
    mean_days_open   numeric,
    mean_days_in_state numeric
) partition by list (snapshot_id);
comment on table refuge_warehouse.case_summary is 'cases by module, operation and state at a snapshot (sensitive modules: open or closed only, state *); null = suppressed';

create table refuge_warehouse.case_step_summary (
    snapshot_id      integer not null,
    module           text not null,
    operation        text not null,
    from_state       text,
    to_state         text not null,
    steps            bigint,
    mean_days        numeric,
    median_days      double precision,
    p90_days         double precision
) partition by list (snapshot_id);
comment on table refuge_warehouse.case_step_summary is 'state changes of cases by module, operation and step up to a snapshot, with the days each took (not for sensitive modules); null = suppressed';

create table refuge_warehouse.flow_summary (
    snapshot_id      integer not null,
    from_snapshot_id integer not null,
    operation        text not null,
    arrivals         bigint,
    departures       bigint,
    moved_in         bigint,
    moved_out        bigint,
    resettled        bigint,
    returned         bigint,
    naturalised      bigint
) partition by list (snapshot_id);
comment on table refuge_warehouse.flow_summary is 'people who arrived, left, moved between operations, were resettled, returned or naturalised since the snapshot before (from_snapshot_id), per operation; null = suppressed';

create function refuge_warehouse.published_tables() returns text[]
    language sql immutable
    return array['population_cell', 'population_row', 'population_total', 'population_band', 'case_summary',
                 'case_step_summary', 'flow_summary'];

-- A published figure from its variable (array[count, suppressed]): null
-- when suppressed, 0 when there was no one (no variable).
create function refuge_warehouse.published(v bigint[]) returns bigint
    language sql immutable parallel safe
return case when v is null then 0 when v[2] = 1 then null else v[1] end;

-- The population of one operation at one snapshot, published: every figure
-- analysts will see is a variable, the equations are the sums that tie them
-- (cells to their row's sex totals, those to the row total, rows to the
-- operation's totals, brackets to the pyramid's bands, children and unknown
-- ages to their cells), and refuge.sdc_protect decides what to suppress.
create function refuge_warehouse.publish_population(sid integer, op text, k integer) returns void
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    counts bigint[];
    eid integer[];
    evar integer[];
    ecoef integer[];
    supp boolean[];
    asylum text;
begin
    select f.asylum_country into asylum from refuge_warehouse.individual_fact f
     where f.snapshot_id = sid and f.operation = op limit 1;
    create temp table pub_base on commit drop as
    select coalesce(f.origin_country, '') as origin, f.population_type as ptype, f.sex,
           refuge_warehouse.age_band(f.age) as band, count(*) as n
      from refuge_warehouse.individual_fact f
     where f.snapshot_id = sid and f.operation = op and f.status = 'ACTIVE'
     group by 1, 2, 3, 4;
    -- the variables: one per published figure with people in it
    create temp table pub_var on commit drop as
    with v as (
        select 'cell' as kind, origin, ptype, sex, refuge_warehouse.band_bracket(band) as grp, sum(n)::bigint as n
          from pub_base group by 2, 3, 4, 5
        union all select 'row_sex', origin, ptype, sex, '', sum(n)::bigint from pub_base group by 2, 3, 4
        union all select 'row', origin, ptype, '', '', sum(n)::bigint from pub_base group by 2, 3
        union all select 'op_sex', '', '', sex, '', sum(n)::bigint from pub_base group by 4
        union all select 'op', '', '', '', '', sum(n)::bigint from pub_base
        union all select 'children', '', '', '', '', sum(n)::bigint from pub_base where band in ('0-4', '5-11', '12-17')
        union all select 'unknown_age', '', '', '', '', sum(n)::bigint from pub_base where band = 'unknown'
        union all select 'band', '', '', sex, band, sum(n)::bigint from pub_base
                   where sex in ('F', 'M') and band <> 'unknown' group by 4, 5)
    select row_number() over (order by kind, origin, ptype, sex, grp)::integer as vid, * from v where n > 0;
    -- the equations: sum of coef * variable = 0
    create temp table pub_eq on commit drop as
    with e as (
        -- a row's cells of one sex add up to its sex total
        select 'rs|' || origin || '|' || ptype || '|' || sex as eq, vid, 1 as coef from pub_var where kind = 'cell'
        union all select 'rs|' || origin || '|' || ptype || '|' || sex, vid, -1 from pub_var where kind = 'row_sex'
        -- a row's sex totals add up to its total
        union all select 'r|' || origin || '|' || ptype, vid, 1 from pub_var where kind = 'row_sex'
        union all select 'r|' || origin || '|' || ptype, vid, -1 from pub_var where kind = 'row'
        -- the rows add up to the operation, by sex and in all
        union all select 'o', vid, 1 from pub_var where kind = 'row'
        union all select 'o', vid, -1 from pub_var where kind = 'op'
        union all select 'os|' || sex, vid, 1 from pub_var where kind = 'row_sex'
        union all select 'os|' || sex, vid, -1 from pub_var where kind = 'op_sex'
        -- children and unknown ages
        union all select 'c', vid, 1 from pub_var where kind = 'cell' and grp in ('0_4', '5_11', '12_17')
        union all select 'c', vid, -1 from pub_var where kind = 'children'
        union all select 'u', vid, 1 from pub_var where kind = 'cell' and grp = 'unknown'
        union all select 'u', vid, -1 from pub_var where kind = 'unknown_age'
        -- a bracket of one sex over all rows is the sum of its pyramid bands
        union all select 'b|' || sex || '|' || grp, vid, 1 from pub_var
                   where kind = 'cell' and sex in ('F', 'M') and grp <> 'unknown'
        union all select 'b|' || sex || '|' || refuge_warehouse.band_bracket(grp), vid, -1 from pub_var where kind = 'band'
        -- a sex's bands and unknown ages add up to the sex total
        union all select 'bs|' || sex, vid, 1 from pub_var where kind = 'band'
        union all select 'bs|' || sex, vid, 1 from pub_var where kind = 'cell' and sex in ('F', 'M') and grp = 'unknown'
        union all select 'bs|' || sex, vid, -1 from pub_var where kind = 'op_sex' and sex in ('F', 'M'))
    select dense_rank() over (order by eq)::integer as eid, vid, coef from e;
    select array_agg(n order by vid) into counts from pub_var;
    select array_agg(x.eid order by x.eid, x.vid), array_agg(x.vid order by x.eid, x.vid), array_agg(x.coef order by x.eid, x.vid)
      into eid, evar, ecoef from pub_eq x;
    -- the pyramid's bands give way first, then cells, then the totals they add up to
    supp := refuge.sdc_protect(coalesce(counts, '{}'), coalesce(eid, '{}'), coalesce(evar, '{}'), coalesce(ecoef, '{}'), k,
        null, null, (select array_agg(case v.kind when 'band' then 0 when 'cell' then 1 when 'row_sex' then 2
                                                  when 'op_sex' then 4 when 'op' then 5 else 3 end order by v.vid)
                       from pub_var v));
    create temp table pub_out on commit drop as
    select v.*, supp[v.vid] as suppressed from pub_var v;

    execute format($q$
        insert into refuge_warehouse.%1$I
        select $1, $2, $3, nullif(o.origin, ''), o.ptype, o.sex, o.grp, case when o.suppressed then null else o.n end,
               case when o.suppressed or fm.families < $4 then null else fm.families end
          from pub_out o
          left join (select coalesce(f.origin_country, '') as origin, f.population_type as ptype, f.sex, f.age_bracket,
                            count(distinct f.family) as families
                       from refuge_warehouse.individual_fact f
                      where f.snapshot_id = $1 and f.operation = $2 and f.status = 'ACTIVE'
                      group by 1, 2, 3, 4) fm
                 on fm.origin = o.origin and fm.ptype = o.ptype and fm.sex = o.sex and fm.age_bracket = o.grp
         where o.kind = 'cell'$q$, 'population_cell_' || sid) using sid, op, asylum, k;
    execute format($q$
        insert into refuge_warehouse.%1$I
        select $1, $2, $3, nullif(r.origin, ''), r.ptype,
               refuge_warehouse.published((select array[s.n, s.suppressed::int] from pub_out s where s.kind = 'row_sex' and s.origin = r.origin and s.ptype = r.ptype and s.sex = 'F')),
               refuge_warehouse.published((select array[s.n, s.suppressed::int] from pub_out s where s.kind = 'row_sex' and s.origin = r.origin and s.ptype = r.ptype and s.sex = 'M')),
               refuge_warehouse.published((select array[s.n, s.suppressed::int] from pub_out s where s.kind = 'row_sex' and s.origin = r.origin and s.ptype = r.ptype and s.sex = 'U')),
               case when r.suppressed then null else r.n end
          from pub_out r where r.kind = 'row'$q$, 'population_row_' || sid) using sid, op, asylum;
    execute format($q$
        insert into refuge_warehouse.%1$I
        select $1, $2, $3,
               (select case when suppressed then null else n end from pub_out where kind = 'op'),
               refuge_warehouse.published((select array[n, suppressed::int] from pub_out where kind = 'op_sex' and sex = 'F')),
               refuge_warehouse.published((select array[n, suppressed::int] from pub_out where kind = 'op_sex' and sex = 'M')),
               refuge_warehouse.published((select array[n, suppressed::int] from pub_out where kind = 'op_sex' and sex = 'U')),
               refuge_warehouse.published((select array[n, suppressed::int] from pub_out where kind = 'children')),
               refuge_warehouse.published((select array[n, suppressed::int] from pub_out where kind = 'unknown_age')),
               (select case when count(distinct f.family) < $4 then null else count(distinct f.family) end
                  from refuge_warehouse.individual_fact f
                 where f.snapshot_id = $1 and f.operation = $2 and f.status = 'ACTIVE')$q$,
        'population_total_' || sid) using sid, op, asylum, k;
    execute format($q$
        insert into refuge_warehouse.%1$I
        select $1, $2, s.sex, b.band,
               refuge_warehouse.published((select array[o.n, o.suppressed::int] from pub_out o where o.kind = 'band' and o.sex = s.sex and o.grp = b.band))
          from unnest(array['F', 'M']) s(sex), unnest(refuge_warehouse.age_bands()) b(band)$q$,
        'population_band_' || sid) using sid, op;
    drop table pub_base, pub_var, pub_eq, pub_out;
end
$$;

-- Cases of one snapshot, published.  For a module that is not sensitive, a
-- state's count of cases is also what entered it minus what left it, so the
-- counts of states and of steps are protected together.
create function refuge_warehouse.publish_cases(sid integer, k integer) returns void
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    counts bigint[];
    eid integer[];
    evar integer[];
    ecoef integer[];
    supp boolean[];
begin
    create temp table pub_case on commit drop as
    select row_number() over (order by x.module, x.operation, x.state, x.closed)::integer as vid, x.*
      from (select f.module, f.operation,
                   case when m.sensitive then '*' else f.state end as state, f.closed, count(*) as cases,
                   sum(f.members) as people, round(avg(f.days_open), 1) as mean_open, round(avg(f.days_in_state), 1) as mean_state
              from refuge_warehouse.case_fact f left join refuge.case_module m on m.code = f.module
             where f.snapshot_id = sid
             group by 1, 2, 3, 4) x;
    create temp table pub_step on commit drop as
    select (select coalesce(max(vid), 0) from pub_case) + row_number() over (order by f.module, f.operation, f.from_state, f.to_state)::integer as vid,
           f.module, f.operation, f.from_state, f.to_state, count(*) as steps,
           round(avg(f.days_since_previous), 1) as mean_days,
           percentile_cont(0.5) within group (order by f.days_since_previous) as median_days,
           percentile_cont(0.9) within group (order by f.days_since_previous) as p90_days
      from refuge_warehouse.case_step_fact f
      join refuge.case_module m on m.code = f.module and not m.sensitive
     where f.snapshot_id = sid and f.days_since_previous is not null
     group by 2, 3, 4, 5;
    -- a non-initial state holds what entered it minus what left it, and that
    -- is known of every state, also of one no case is in now (absent from the
    -- table: 0), so each such state is an equation.  The initial state also
    -- gains the cases opened, a figure not published: its equation would
    -- have an unknown of its own and tells nothing more (it is the sum of the
    -- others).
    create temp table pub_ceq on commit drop as
    with e as (
        select c.module || '|' || c.operation || '|' || c.state as eq, c.vid, -1 as coef
          from pub_case c join refuge.case_module m on m.code = c.module and not m.sensitive and m.initial_state <> c.state
        union all
        select s.module || '|' || s.operation || '|' || s.to_state, s.vid, 1
          from pub_step s join refuge.case_module m on m.code = s.module and m.initial_state <> s.to_state
        union all
        select s.module || '|' || s.operation || '|' || s.from_state, s.vid, -1
          from pub_step s join refuge.case_module m on m.code = s.module and m.initial_state <> s.from_state)
    select dense_rank() over (order by e.eq)::integer as eid, e.vid, e.coef from e;
    select array_agg(n order by vid) into counts
      from (select vid, cases as n from pub_case union all select vid, steps from pub_step) v;
    select array_agg(x.eid order by x.eid, x.vid), array_agg(x.vid order by x.eid, x.vid), array_agg(x.coef order by x.eid, x.vid)
      into eid, evar, ecoef from pub_ceq x;
    supp := refuge.sdc_protect(coalesce(counts, '{}'), coalesce(eid, '{}'), coalesce(evar, '{}'), coalesce(ecoef, '{}'), k);
    execute format($q$
        insert into refuge_warehouse.%1$I
        select $1, c.module, c.operation, c.state, c.closed,
               case when $2[c.vid] then null else c.cases end, case when $2[c.vid] then null else c.people end,
               case when $2[c.vid] then null else c.mean_open end, case when $2[c.vid] then null else c.mean_state end
          from pub_case c$q$, 'case_summary_' || sid) using sid, supp;
    execute format($q$
        insert into refuge_warehouse.%1$I
        select $1, s.module, s.operation, s.from_state, s.to_state,
               case when $2[s.vid] then null else s.steps end, case when $2[s.vid] then null else s.mean_days end,
               case when $2[s.vid] then null else s.median_days end, case when $2[s.vid] then null else s.p90_days end
          from pub_step s$q$, 'case_step_summary_' || sid) using sid, supp;
    drop table pub_case, pub_step, pub_ceq;
end
$$;

-- Publish a snapshot: the partitions of the published tables, filled from
-- its facts and frozen like them.
create function refuge_warehouse.publish(sid integer, flows_from integer) returns void
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    t text;
    op text;
    k integer := pg_catalog.current_setting('refuge.min_cell_size')::integer;
begin
    foreach t in array refuge_warehouse.published_tables() loop
        execute format('create table refuge_warehouse.%I (like refuge_warehouse.%I including defaults including constraints)',
                       t || '_' || sid, t);
    end loop;
    for op in select distinct f.operation from refuge_warehouse.individual_fact f
               where f.snapshot_id = sid and f.status = 'ACTIVE' order by 1 loop
        perform refuge_warehouse.publish_population(sid, op, k);
    end loop;
    perform refuge_warehouse.publish_cases(sid, k);
    if flows_from is not null then
        perform refuge_warehouse.publish_flows(sid, flows_from, k);
    end if;
    foreach t in array refuge_warehouse.published_tables() loop
        perform refuge_warehouse.freeze(t, sid);
    end loop;
end
$$;

-- Freeze and attach one partition of a snapshot (facts and published tables).
create function refuge_warehouse.freeze(t text, sid integer) returns void
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    execute format('alter table refuge_warehouse.%I owner to refuge_owner', t || '_' || sid);
    execute format('alter table refuge_warehouse.%I add constraint snapshot_%s check (snapshot_id = %s)',
                   t || '_' || sid, sid, sid);
    execute format('create trigger frozen before insert or update or delete on refuge_warehouse.%I
                    for each row execute function refuge_warehouse.frozen()', t || '_' || sid);
    execute format('create trigger frozen_truncate before truncate on refuge_warehouse.%I
                    for each statement execute function refuge_warehouse.frozen()', t || '_' || sid);
    execute format('alter table refuge_warehouse.%I enable always trigger frozen', t || '_' || sid);
    execute format('alter table refuge_warehouse.%I enable always trigger frozen_truncate', t || '_' || sid);
    execute format('alter table refuge_warehouse.%I enable row level security', t || '_' || sid);
    execute format('alter table refuge_warehouse.%I force row level security', t || '_' || sid);
    execute format('create policy owner_all on refuge_warehouse.%I for all to refuge_owner using (true) with check (true)',
                   t || '_' || sid);
    execute format('alter table refuge_warehouse.%I attach partition refuge_warehouse.%I for values in (%s)',
                   t, t || '_' || sid, sid);
    execute format('analyze refuge_warehouse.%I', t || '_' || sid);
end
$$;

alter table refuge_warehouse.snapshot add column min_cell_size integer;
comment on column refuge_warehouse.snapshot.min_cell_size is 'k of the published tables: no published figure describes fewer people';

create or replace function refuge.snapshot(as_of timestamptz default now(), label text default null) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    sid integer;
    day date := snapshot.as_of::date;
    k bytea;
    t text;
    n record;
    t0 timestamptz := clock_timestamp();
    existing refuge_warehouse.snapshot;
begin
    perform refuge.authorize('refuge_dba', 'snapshot');
    if snapshot.as_of is null then
        perform refuge.raise_field('22004', 'as_of', 'is required');
    end if;
    if snapshot.as_of > now() + interval '1 minute' then
        perform refuge.raise_field('22008', 'as_of', 'is in the future: a snapshot describes what has happened');
    end if;
    -- one snapshot per moment, even when two schedulers fire at once
    perform pg_advisory_xact_lock(7306086141237891842);
    select * into existing from refuge_warehouse.snapshot s where s.as_of = snapshot.as_of;
    if found then
        return jsonb_build_object('snapshot_id', existing.id, 'as_of', existing.as_of, 'status', 'exists',
                                  'individuals', existing.individuals, 'families', existing.families,
                                  'cases', existing.cases);
    end if;
    insert into refuge.warehouse_key (key) values (refuge.random_bytes(32)) on conflict do nothing;
    select w.key into k from refuge.warehouse_key w;
    insert into refuge_warehouse.snapshot (as_of, label, taken_by, min_cell_size)
    values (snapshot.as_of, snapshot.label, refuge.caller(), pg_catalog.current_setting('refuge.min_cell_size')::integer)
    returning id into sid;
    foreach t in array refuge_warehouse.fact_tables() loop
        execute format('create table refuge_warehouse.%I (like refuge_warehouse.%I including defaults including constraints)',
                       t || '_' || sid, t);
    end loop;
    raise notice 'snapshot %: copying the facts as of % (1 of 3)', sid, snapshot.as_of;
    execute format($q$
    with need as (
        select n.individual_id, array_agg(distinct n.category order by n.category) as needs
          from refuge.specific_need n
         where n.identified_on <= $2 and (n.closed_on is null or n.closed_on > $2)
         group by n.individual_id),
    member as (
        select gm.individual_id, gm.group_id, gm.relationship
          from refuge.group_membership gm
         where gm.valid_from <= $3 and (gm.valid_to is null or gm.valid_to > $3)),
    household as (
        select m.group_id, count(*) filter (where i.status = 'ACTIVE') as size,
               min(i.sex) filter (where m.relationship = 'PA') as pa_sex,
               min(i.population_type) filter (where m.relationship = 'PA') as pa_type,
               min(extract(year from age($2, i.date_of_birth))::integer) filter (where m.relationship = 'PA') as pa_years
          from member m join refuge.individual i on i.id = m.individual_id
         group by m.group_id),
    person as (
        select i.*, o.code as op_code, o.country as op_country, s.code as site_code, m.group_id, m.relationship,
               extract(year from age($2, i.date_of_birth))::integer as years
          from refuge.individual i
          join refuge.operation o on o.id = i.operation_id
          join refuge.site s on s.id = i.site_id
          left join member m on m.individual_id = i.id
         where i.created_at <= $3),
    ind as (
        insert into refuge_warehouse.%1$I
        select $1, refuge.pseudonym($4, p.id), refuge.pseudonym($4, p.group_id), p.op_code, p.op_country, p.site_code,
               p.sex, p.years, coalesce(b.code, 'unknown'), p.population_type, p.origin_country, p.relationship,
               p.registration_date, p.arrival_date, p.status, coalesce(nd.needs, '{}'), e.status
          from person p
          left join refuge.age_bracket b on b.profile = 'STD' and p.years >= b.min_age
                                        and (b.max_age is null or p.years <= b.max_age)
          left join need nd on nd.individual_id = p.id
          left join refuge.biometric_enrolment e on e.individual_id = p.id
        returning operation, asylum_country, origin_country, population_type, sex, age_bracket, status, family),
    cube as (
        insert into refuge_warehouse.%5$I
        select $1, operation, asylum_country, origin_country, population_type, sex, age_bracket, status, count(*),
               count(distinct family)
          from ind
         group by operation, asylum_country, origin_country, population_type, sex, age_bracket, status
        returning 1),
    fam as (
        insert into refuge_warehouse.%2$I
        select $1, refuge.pseudonym($4, g.id), o.code, s.code, coalesce(h.size, 0),
               h.pa_sex, coalesce(b.code, 'unknown'), h.pa_type, g.registration_date, g.status
          from refuge.registration_group g
          join refuge.operation o on o.id = g.operation_id
          join refuge.site s on s.id = g.site_id
          left join household h on h.group_id = g.id
          left join refuge.age_bracket b on b.profile = 'STD' and h.pa_years >= b.min_age
                                        and (b.max_age is null or h.pa_years <= b.max_age)
         where g.created_at <= $3
        returning 1),
    kase as (
        insert into refuge_warehouse.%3$I
        select $1, refuge.pseudonym($4, c.id), c.module, o.code, refuge.pseudonym($4, c.principal_id),
               refuge.pseudonym($4, c.group_id),
               (select count(*) from refuge.case_member cm where cm.case_id = c.id and cm.added_at <= $3),
               ev.to_state, ws.closed, c.opened_at::date, ev.at::date,
               ($2 - c.opened_at::date), ($2 - ev.at::date),
               coalesce(c.data ->> 'closure_reason', c.data ->> 'appeal_decision', c.data ->> 'decision',
                        c.data ->> 'determination', c.data ->> 'panel_decision', c.data ->> 'risk_level'),
               c.data ->> 'submission_category', c.data ->> 'priority',
               coalesce(c.data ->> 'resettlement_country', c.data ->> 'intended_return_country')
          from refuge.process_case c
          join refuge.operation o on o.id = c.operation_id
          join lateral (select e.to_state, e.at from refuge.case_event e
                         where e.case_id = c.id and e.at <= $3 and e.to_state is not null
                           and e.from_state is distinct from e.to_state
                         order by e.id desc limit 1) ev on true
          join refuge.workflow_state ws on ws.module = c.module and ws.code = ev.to_state
         where c.opened_at <= $3
        returning 1),
    step as (
        insert into refuge_warehouse.%4$I
        select $1, refuge.pseudonym($4, e.case_id), c.module, o.code, e.action, e.from_state, e.to_state, e.at,
               (e.at::date - (lag(e.at) over (partition by e.case_id order by e.id))::date)
          from refuge.case_event e
          join refuge.process_case c on c.id = e.case_id
          join refuge.operation o on o.id = c.operation_id
         where e.at <= $3 and e.to_state is not null and e.from_state is distinct from e.to_state
        returning 1)
    select (select count(*) from ind) as individuals, (select count(*) from fam) as families,
           (select count(*) from kase) as cases, (select count(*) from step) as steps, (select count(*) from cube) as cells
    $q$, 'individual_fact_' || sid, 'family_fact_' || sid, 'case_fact_' || sid, 'case_step_fact_' || sid,
         'population_fact_' || sid)
    into n using sid, day, snapshot.as_of, k;
    raise notice 'snapshot %: % people, % families, % cases, % case steps copied in % s; freezing (2 of 3)', sid,
        n.individuals, n.families, n.cases, n.steps, round(extract(epoch from clock_timestamp() - t0)::numeric, 1);
    foreach t in array refuge_warehouse.fact_tables() loop
        perform refuge_warehouse.freeze(t, sid);
    end loop;
    raise notice 'snapshot %: publishing for analysts (3 of 3)', sid;
    -- flows are published once, from the snapshot before, and only when this
    -- one comes after every other: published intervals never overlap, so no
    -- two of them differ by a suppressed one (a back-dated snapshot has none)
    perform refuge_warehouse.publish(sid,
        (select p.id from refuge_warehouse.snapshot p
          where p.id <> sid and p.finished_at is not null
            and not exists (select 1 from refuge_warehouse.snapshot q where q.id <> sid and q.as_of >= snapshot.as_of)
          order by p.as_of desc, p.id desc limit 1));
    update refuge_warehouse.snapshot s
       set finished_at = clock_timestamp(), individuals = n.individuals, families = n.families, cases = n.cases,
           case_steps = n.steps
     where s.id = sid;
    raise notice 'snapshot %: done in % s', sid, round(extract(epoch from clock_timestamp() - t0)::numeric, 1);
    return jsonb_build_object('snapshot_id', sid, 'as_of', snapshot.as_of, 'status', 'taken',
                              'individuals', n.individuals, 'families', n.families, 'cases', n.cases,
                              'case_steps', n.steps,
                              'seconds', round(extract(epoch from clock_timestamp() - t0)::numeric, 1));
end
$$;

create or replace function refuge.snapshots()
    returns table (snapshot_id integer, as_of timestamptz, label text, taken_by name, seconds numeric,
                   individuals bigint, families bigint, cases bigint, case_steps bigint, bytes bigint)
    language plpgsql stable security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    perform refuge.authorize('refuge_dba', 'snapshots');
    return query
    select s.id, s.as_of, s.label, s.taken_by,
           round(extract(epoch from s.finished_at - s.started_at)::numeric, 1),
           s.individuals, s.families, s.cases, s.case_steps,
           (select sum(pg_catalog.pg_total_relation_size(format('refuge_warehouse.%I', t || '_' || s.id)::regclass))::bigint
              from unnest(refuge_warehouse.fact_tables() || refuge_warehouse.published_tables()) t)
      from refuge_warehouse.snapshot s
     order by s.as_of;
end
$$;

create or replace function refuge.drop_snapshot(snapshot_id integer) returns void
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    t text;
begin
    perform refuge.authorize('refuge_dba', 'drop_snapshot');
    perform pg_advisory_xact_lock(7306086141237891842);
    if not exists (select 1 from refuge_warehouse.snapshot s where s.id = drop_snapshot.snapshot_id) then
        perform refuge.raise_field('P0002', 'snapshot_id', format('no snapshot %s', drop_snapshot.snapshot_id));
    end if;
    foreach t in array refuge_warehouse.fact_tables() || refuge_warehouse.published_tables() loop
        execute format('drop table if exists refuge_warehouse.%I', t || '_' || drop_snapshot.snapshot_id);
    end loop;
    delete from refuge_warehouse.snapshot s where s.id = drop_snapshot.snapshot_id;
end
$$;

-- The analysts' views, now over the published tables (the same names and
-- columns; population_statistics gains the operation and people of unknown
-- sex at its end).  A null figure is suppressed.
drop view refuge_warehouse.population, refuge_warehouse.population_trend, refuge_warehouse.population_statistics,
    refuge_warehouse.case_processing, refuge_warehouse.case_states cascade;

create view refuge_warehouse.population with (security_invoker = true) as
select s.id as snapshot_id, s.as_of, c.operation, c.asylum_country, c.origin_country, c.population_type, c.sex,
       c.age_bracket, c.individuals, c.families
  from refuge_warehouse.snapshot s
  join refuge_warehouse.population_cell c on c.snapshot_id = s.id;
comment on view refuge_warehouse.population is 'active individuals (and families) per snapshot by operation, countries of asylum and origin, population type, sex and UNHCR age bracket; null = suppressed';

create view refuge_warehouse.population_trend with (security_invoker = true) as
select s.id as snapshot_id, s.as_of, t.operation, t.individuals, t.female, t.male, t.children
  from refuge_warehouse.snapshot s
  join refuge_warehouse.population_total t on t.snapshot_id = s.id;
comment on view refuge_warehouse.population_trend is 'active individuals per snapshot and operation, women, men and children under 18; null = suppressed';

create view refuge_warehouse.population_statistics with (security_invoker = true) as
with cells as (
    select c.snapshot_id, c.operation, c.asylum_country, c.origin_country, c.population_type,
           jsonb_object_agg(c.sex || '|' || c.age_bracket, c.individuals) as n
      from refuge_warehouse.population_cell c
     group by 1, 2, 3, 4, 5)
select s.id as snapshot_id, extract(year from s.as_of)::integer as year, r.asylum_country, r.origin_country,
       r.population_type,
       case when x.n ? 'F|0_4' then (x.n ->> 'F|0_4')::bigint else 0 end as female_0_4, case when x.n ? 'F|5_11' then (x.n ->> 'F|5_11')::bigint else 0 end as female_5_11,
       case when x.n ? 'F|12_17' then (x.n ->> 'F|12_17')::bigint else 0 end as female_12_17, case when x.n ? 'F|18_59' then (x.n ->> 'F|18_59')::bigint else 0 end as female_18_59,
       case when x.n ? 'F|60' then (x.n ->> 'F|60')::bigint else 0 end as female_60, case when x.n ? 'F|unknown' then (x.n ->> 'F|unknown')::bigint else 0 end as female_unknown,
       r.female as female_total,
       case when x.n ? 'M|0_4' then (x.n ->> 'M|0_4')::bigint else 0 end as male_0_4, case when x.n ? 'M|5_11' then (x.n ->> 'M|5_11')::bigint else 0 end as male_5_11,
       case when x.n ? 'M|12_17' then (x.n ->> 'M|12_17')::bigint else 0 end as male_12_17, case when x.n ? 'M|18_59' then (x.n ->> 'M|18_59')::bigint else 0 end as male_18_59,
       case when x.n ? 'M|60' then (x.n ->> 'M|60')::bigint else 0 end as male_60, case when x.n ? 'M|unknown' then (x.n ->> 'M|unknown')::bigint else 0 end as male_unknown,
       r.male as male_total, r.total, r.operation, r.unknown_sex as unknown_sex_total
  from refuge_warehouse.snapshot s
  join refuge_warehouse.population_row r on r.snapshot_id = s.id
  left join cells x on x.snapshot_id = r.snapshot_id and x.operation = r.operation
                   and x.origin_country is not distinct from r.origin_country and x.population_type = r.population_type;
comment on view refuge_warehouse.population_statistics is 'UNHCR demographic table: per year, operation, countries of asylum and origin and population type, women and men by age bracket with totals; null = suppressed';

create view refuge_warehouse.case_processing with (security_invoker = true) as
select f.snapshot_id, f.module, f.operation, f.from_state, f.to_state, f.steps, f.mean_days, f.median_days, f.p90_days
  from refuge_warehouse.case_step_summary f;
comment on view refuge_warehouse.case_processing is 'days each step of each module takes, per snapshot and operation (not for sensitive modules); null = suppressed';

create view refuge_warehouse.case_states with (security_invoker = true) as
select f.snapshot_id, f.module, f.operation, f.state, f.closed, f.cases, f.people, f.mean_days_open,
       f.mean_days_in_state
  from refuge_warehouse.case_summary f;
comment on view refuge_warehouse.case_states is 'cases by module, operation and state per snapshot (sensitive modules: open or closed only); null = suppressed';

-- population_forecast read the trend view: defined again over the new one.
create or replace function refuge_warehouse.population_forecast(operation text default null, horizon integer default 4)
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

-- Flows from the snapshot before, per operation, published with the
-- snapshot: with both snapshots' totals published, arrivals - departures +
-- moved in - moved out is known, so one suppressed flow brings another.
create function refuge_warehouse.publish_flows(sid integer, from_sid integer, k integer) returns void
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    t0 timestamptz := (select s.as_of from refuge_warehouse.snapshot s where s.id = from_sid);
    t1 timestamptz := (select s.as_of from refuge_warehouse.snapshot s where s.id = sid);
    r record;
    supp boolean[];
    n0 bigint;
    n1 bigint;
begin
    for r in
    with a as (select f.person, f.operation from refuge_warehouse.individual_fact f
                where f.snapshot_id = from_sid and f.status = 'ACTIVE'),
         b as (select f.person, f.operation from refuge_warehouse.individual_fact f
                where f.snapshot_id = sid and f.status = 'ACTIVE'),
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
             where s.snapshot_id = sid and s.at > t0 and s.at <= t1
             group by 1)
    select p.op, p.arrivals, p.departures, p.moved as moved_in, coalesce(m.n, 0) as moved_out,
           coalesce(x.resettled, 0)::bigint as resettled, coalesce(x.returned, 0)::bigint as returned,
           coalesce(x.naturalised, 0)::bigint as naturalised
      from people p
      left join moved_out m on m.op = p.op
      left join solutions x on x.op = p.op
     order by p.op
    loop
        select t.individuals into n0 from refuge_warehouse.population_total t where t.snapshot_id = from_sid and t.operation = r.op;
        select t.individuals into n1 from refuge_warehouse.population_total t where t.snapshot_id = sid and t.operation = r.op;
        -- arrivals - departures + moved in - moved out - total(to) + total(from) = 0
        supp := refuge.sdc_protect(array[r.arrivals, r.departures, r.moved_in, r.moved_out,
                                         coalesce(n1, 0), coalesce(n0, 0)]::bigint[],
                                   array[1, 1, 1, 1, 1, 1], array[1, 2, 3, 4, 5, 6], array[1, -1, 1, -1, -1, 1], k,
                                   array[false, false, false, false, n1 is not null, n0 is not null],
                                   array[false, false, false, false, false, false]);
        execute format('insert into refuge_warehouse.%I values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)',
                       'flow_summary_' || sid)
          using sid, from_sid, r.op,
                case when supp[1] then null else r.arrivals end, case when supp[2] then null else r.departures end,
                case when supp[3] then null else r.moved_in end, case when supp[4] then null else r.moved_out end,
                case when r.resettled between 1 and k - 1 then null else r.resettled end,
                case when r.returned between 1 and k - 1 then null else r.returned end,
                case when r.naturalised between 1 and k - 1 then null else r.naturalised end;
    end loop;
end
$$;

-- The published flows between a snapshot and the one before it.
drop function refuge_warehouse.flows(integer, integer);
create function refuge_warehouse.flows(from_snapshot integer, to_snapshot integer)
    returns table (operation text, arrivals bigint, departures bigint, moved_in bigint, moved_out bigint,
                   resettled bigint, returned bigint, naturalised bigint)
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

-- The HXL export and the pyramid read only published figures.
create or replace function refuge.hxl_population_csv(snapshot_id integer, min_cell integer default 5) returns text
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    floor_cell integer := greatest(coalesce(min_cell, 1), 1);
    cols text[] := array['female_0_4', 'female_5_11', 'female_12_17', 'female_18_59', 'female_60', 'female_unknown',
                         'female_total', 'male_0_4', 'male_5_11', 'male_12_17', 'male_18_59', 'male_60', 'male_unknown',
                         'male_total', 'total'];
    body text;
begin
    if not exists (select 1 from refuge_warehouse.snapshot s where s.id = hxl_population_csv.snapshot_id) then
        raise exception using errcode = 'P0002', message = format('snapshot_id: no snapshot %s', snapshot_id);
    end if;
    -- suppressed figures (null) are empty; a figure under min_cell too
    execute format($q$
        select string_agg(concat_ws(',', p.year, p.origin_country, p.asylum_country, p.population_type, %s), E'\n'
                          order by p.asylum_country, p.origin_country, p.population_type, p.operation)
          from refuge_warehouse.population_statistics p where p.snapshot_id = $1$q$,
        (select string_agg(format('case when p.%1$I = 0 or p.%1$I >= $2 then p.%1$I::text else %2$L end', c, ''), ', ')
           from unnest(cols) c))
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
comment on function refuge.hxl_population_csv(integer, integer) is
    'the UNHCR demographic table of a snapshot as HXL-tagged CSV; suppressed figures (and any under min_cell) are empty';

create or replace function refuge.population_pyramid_svg(snapshot_id integer, operation text) returns text
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    bands text[] := refuge_warehouse.age_bands();
    nb integer := cardinality(refuge_warehouse.age_bands());
    bar_h constant integer := 22;
    top constant integer := 60;
    mid constant integer := 400;
    half constant integer := 300;
    tot refuge_warehouse.population_total;
    widest bigint;
    taken timestamptz;
    svg text;
begin
    select s.as_of into taken from refuge_warehouse.snapshot s where s.id = population_pyramid_svg.snapshot_id;
    if taken is null then
        raise exception using errcode = 'P0002', message = format('snapshot_id: no snapshot %s', snapshot_id);
    end if;
    select * into tot from refuge_warehouse.population_total t
     where t.snapshot_id = population_pyramid_svg.snapshot_id and t.operation = population_pyramid_svg.operation;
    if not found then
        raise exception using errcode = 'P0002',
            message = format('operation: no active population of "%s" in snapshot %s', left(operation, 40), snapshot_id);
    end if;
    if tot.individuals is null then
        raise exception using errcode = 'P0002',
            message = format('operation: the population of "%s" in snapshot %s is too small to publish', left(operation, 40), snapshot_id);
    end if;
    select greatest(max(b.individuals), 1) into widest from refuge_warehouse.population_band b
     where b.snapshot_id = population_pyramid_svg.snapshot_id and b.operation = population_pyramid_svg.operation;
    svg := format('<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" font-family="sans-serif" font-size="11">',
                  2 * mid, top + nb * bar_h + 50, 2 * mid, top + nb * bar_h + 50)
        || format('<title>Population pyramid, %s, %s</title>', operation, to_char(taken at time zone 'UTC', 'YYYY-MM-DD'))
        || format('<text x="%s" y="22" text-anchor="middle" font-size="15" font-weight="bold">%s: %s people, %s</text>',
                  mid, operation, tot.individuals, to_char(taken at time zone 'UTC', 'YYYY-MM-DD'))
        || format('<text x="%s" y="42" text-anchor="middle" fill="#555">men left, women right; share of the population by age group%s%s</text>',
                  mid, case when tot.unknown_age is null then '; some of unknown age not shown'
                            when tot.unknown_age > 0 then format('; %s of unknown age not shown', tot.unknown_age) else '' end,
                  case when exists (select 1 from refuge_warehouse.population_band b
                                     where b.snapshot_id = population_pyramid_svg.snapshot_id
                                       and b.operation = population_pyramid_svg.operation and b.individuals is null)
                       then '; * withheld (a small group)' else '' end)
        || (select string_agg(
               format('<text x="%s" y="%s" text-anchor="middle">%s</text>', mid, top + (nb - g) * bar_h + 15, bands[g])
            || refuge_warehouse.pyramid_bar(m.individuals, tot.individuals, widest, mid, half, top + (nb - g) * bar_h, bar_h,
                                            'men ' || bands[g], true)
            || refuge_warehouse.pyramid_bar(f.individuals, tot.individuals, widest, mid, half, top + (nb - g) * bar_h, bar_h,
                                            'women ' || bands[g], false), '' order by g)
              from generate_series(1, nb) g
              left join refuge_warehouse.population_band m on m.snapshot_id = population_pyramid_svg.snapshot_id
                    and m.operation = population_pyramid_svg.operation and m.sex = 'M' and m.band = bands[g]
              left join refuge_warehouse.population_band f on f.snapshot_id = population_pyramid_svg.snapshot_id
                    and f.operation = population_pyramid_svg.operation and f.sex = 'F' and f.band = bands[g])
        || format('<text x="%s" y="%s" text-anchor="middle" fill="#555">Men</text>', mid - half / 2, top + nb * bar_h + 25)
        || format('<text x="%s" y="%s" text-anchor="middle" fill="#555">Women</text>', mid + half / 2, top + nb * bar_h + 25)
        || '</svg>';
    return svg;
end
$$;
comment on function refuge.population_pyramid_svg(integer, text) is
    'a population pyramid of an operation at a snapshot as SVG, by age bands that nest in UNHCR''s brackets; withheld bands marked *';

create function refuge_warehouse.pyramid_bar(n bigint, total bigint, widest bigint, mid integer, half integer, y integer,
                                             bar_h integer, label text, left_side boolean)
    returns text
    language sql immutable
    set search_path = pg_catalog, pg_temp
return case
    when n is null then
        format('<text x="%s" y="%s" text-anchor="%s" fill="#333">*</text>', case when left_side then mid - 29 else mid + 29 end,
               y + 15, case when left_side then 'end' else 'start' end)
    else
        format('<rect x="%s" y="%s" width="%s" height="%s" fill="%s"><title>%s: %s</title></rect>',
               case when left_side then mid - 25 - round(half * n / widest::numeric) else mid + 25 end, y + 2,
               round(half * n / widest::numeric), bar_h - 4, case when left_side then '#3b6fb6' else '#e07b39' end, label, n)
        || format('<text x="%s" y="%s" text-anchor="%s" fill="#333">%s%%</text>',
                  case when left_side then mid - 29 - round(half * n / widest::numeric) else mid + 29 + round(half * n / widest::numeric) end,
                  y + 15, case when left_side then 'end' else 'start' end, round(100.0 * n / total, 1))
    end;

-- The population by operation, site and the usual breakdowns.  Analysts
-- read the published cells of the latest snapshot taken by the end of
-- on_date (site null): live figures, however protected, would let two calls
-- a registration apart single out the person registered.  Supervisors read
-- live figures of their operations, protected the same way as published
-- ones: each operation's and each site's total may be known, so no
-- suppressed cell may be alone in its site or operation.
create or replace function refuge.population_summary(on_date date default current_date, min_cell integer default 5)
    returns table (operation text, site text, population_type text, origin_country text, sex text,
                   age_bracket text, individuals bigint, groups bigint)
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
           case when supp[c.i] then null else ns[c.i] end,
           case when supp[c.i] or gs[c.i] < k then null else gs[c.i] end
      from generate_series(1, ncells) c(i)
     order by c.i;
end
$$;
comment on function refuge.population_summary(date, integer) is
    'active individuals by operation, site, population type, origin, sex and UNHCR age bracket.  Analysts: the published cells of the latest snapshot taken by the end of on_date (site null).  Supervisors: live figures of their operations; cells under refuge.min_cell_size (min_cell for superusers), and those that would give them away through a site''s or operation''s total, are null';

-- Analysts read published figures only; the facts are the DBA's.
do $facts$
declare
    t text;
begin
    foreach t in array array['individual_fact', 'population_fact', 'family_fact', 'case_fact', 'case_step_fact'] loop
        execute format('revoke select on refuge_warehouse.%I from refuge_analyst', t);
        execute format('drop policy warehouse_read on refuge_warehouse.%I', t);
        execute format('create policy dba_read on refuge_warehouse.%I for select to refuge_dba using (true)', t);
    end loop;
    foreach t in array refuge_warehouse.published_tables() loop
        execute format('alter table refuge_warehouse.%I owner to refuge_owner', t);
        execute format('alter table refuge_warehouse.%I enable row level security', t);
        execute format('alter table refuge_warehouse.%I force row level security', t);
        execute format('create policy owner_all on refuge_warehouse.%I for all to refuge_owner using (true) with check (true)', t);
        execute format('grant select on refuge_warehouse.%I to refuge_analyst, refuge_dba', t);
        execute format('create policy warehouse_read on refuge_warehouse.%I for select to refuge_analyst, refuge_dba using (true)', t);
    end loop;
    foreach t in array array['population', 'population_trend', 'population_statistics', 'case_processing', 'case_states'] loop
        execute format('alter view refuge_warehouse.%I owner to refuge_owner', t);
        execute format('grant select on refuge_warehouse.%I to refuge_analyst, refuge_dba', t);
    end loop;
end
$facts$;
grant select (min_cell_size) on refuge_warehouse.snapshot to refuge_analyst;

-- The snapshots taken before 0.7.0, published.
do $old$
declare
    sid integer;
    prev integer;
begin
    for sid, prev in select s.id, lag(s.id) over (order by s.as_of, s.id) from refuge_warehouse.snapshot s
                      where s.finished_at is not null order by s.as_of, s.id loop
        update refuge_warehouse.snapshot s set min_cell_size = pg_catalog.current_setting('refuge.min_cell_size')::integer
         where s.id = sid;
        perform refuge_warehouse.publish(sid, prev);
    end loop;
end
$old$;
