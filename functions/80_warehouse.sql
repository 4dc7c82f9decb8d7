-- Snapshots: take, publish (disclosure control), list, drop.

create function refuge.random_bytes(n integer) returns bytea
    language c volatile strict
    as 'MODULE_PATHNAME', 'refuge_random_bytes';

create function refuge.pseudonym(key bytea, id uuid) returns uuid
    language c immutable strict parallel safe
    as 'MODULE_PATHNAME', 'refuge_pseudonym';

create function refuge.snapshot(as_of timestamptz default now(), label text default null) returns jsonb
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
    -- status and population type on the day (a back-dated snapshot counts
    -- people as they were, not as they are)
    state as (
        select h.individual_id, h.status, h.population_type
          from refuge.status_history h
         where h.valid_from <= $2 and (h.valid_to is null or h.valid_to > $2)),
    household as (
        select m.group_id, count(*) filter (where coalesce(st.status, i.status) = 'ACTIVE') as size,
               min(i.sex) filter (where m.relationship = 'PA') as pa_sex,
               min(coalesce(st.population_type, i.population_type)) filter (where m.relationship = 'PA') as pa_type,
               min(extract(year from age($2, i.date_of_birth))::integer) filter (where m.relationship = 'PA') as pa_years
          from member m join refuge.individual i on i.id = m.individual_id
          left join state st on st.individual_id = i.id
         group by m.group_id),
    person as (
        select i.*, o.code as op_code, o.country as op_country, s.code as site_code, m.group_id, m.relationship,
               extract(year from age($2, i.date_of_birth))::integer as years,
               coalesce(st.status, i.status) as day_status, coalesce(st.population_type, i.population_type) as day_type
          from refuge.individual i
          join refuge.operation o on o.id = i.operation_id
          join refuge.site s on s.id = i.site_id
          left join member m on m.individual_id = i.id
          left join state st on st.individual_id = i.id
         where i.created_at <= $3),
    ind as (
        insert into refuge_warehouse.%1$I
        select $1, refuge.pseudonym($4, p.id), refuge.pseudonym($4, p.group_id), p.op_code, p.op_country, p.site_code,
               p.sex, p.years, coalesce(b.code, 'unknown'), p.day_type, p.origin_country, p.relationship,
               p.registration_date, p.arrival_date, p.day_status, coalesce(nd.needs, '{}'), e.status
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
comment on function refuge.snapshot(timestamp with time zone, text) is
    'take a warehouse snapshot as of a moment: frozen pseudonymous facts and the published, disclosure-controlled tables (DBAs)';
grant execute on function refuge.snapshot(timestamp with time zone, text) to refuge_dba;

create function refuge.snapshots()
    returns table (snapshot_id integer, as_of timestamptz, label text, taken_by name, seconds double precision,
                   individuals integer, families integer, cases integer, case_steps integer, bytes bigint)
    language plpgsql stable security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    perform refuge.authorize('refuge_dba', 'snapshots');
    return query
    select s.id, s.as_of, s.label, s.taken_by,
           round(extract(epoch from s.finished_at - s.started_at)::numeric, 1)::double precision,
           s.individuals, s.families, s.cases, s.case_steps,
           (select sum(pg_catalog.pg_total_relation_size(format('refuge_warehouse.%I', t || '_' || s.id)::regclass))::bigint
              from unnest(refuge_warehouse.fact_tables() || refuge_warehouse.published_tables()) t)
      from refuge_warehouse.snapshot s
     order by s.as_of;
end
$$;
comment on function refuge.snapshots() is
    'the warehouse snapshots with their sizes and timings (DBAs)';
grant execute on function refuge.snapshots() to refuge_dba;

create function refuge.drop_snapshot(snapshot_id integer) returns void
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
comment on function refuge.drop_snapshot(integer) is
    'drop a warehouse snapshot and its partitions (DBAs)';
grant execute on function refuge.drop_snapshot(integer) to refuge_dba;

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
comment on function refuge_warehouse.age_band(integer) is
    'the pyramid band of an age (five years inside UNHCR''s brackets)';
grant execute on function refuge_warehouse.age_band(integer) to refuge_analyst, refuge_dba;

create function refuge_warehouse.age_bands() returns text[]
    language sql immutable parallel safe
return array['0-4', '5-11', '12-17', '18-24', '25-29', '30-34', '35-39', '40-44', '45-49', '50-54', '55-59',
             '60-64', '65-69', '70-74', '75-79', '80+'];
comment on function refuge_warehouse.age_bands() is
    'the pyramid bands in order';
grant execute on function refuge_warehouse.age_bands() to refuge_analyst, refuge_dba;

create function refuge_warehouse.band_bracket(band text) returns text
    language sql immutable parallel safe
return case when band = 'unknown' then 'unknown' when band = '0-4' then '0_4' when band = '5-11' then '5_11'
            when band = '12-17' then '12_17' when band in ('60-64', '65-69', '70-74', '75-79', '80+') then '60'
            else '18_59' end;
comment on function refuge_warehouse.band_bracket(text) is
    'the UNHCR bracket a pyramid band lies in';
grant execute on function refuge_warehouse.band_bracket(text) to refuge_analyst, refuge_dba;

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
