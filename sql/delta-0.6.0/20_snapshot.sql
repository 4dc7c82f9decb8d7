-- Taking, listing and dropping snapshots.

create function refuge_warehouse.fact_tables() returns text[]
    language sql immutable
    return array['individual_fact', 'population_fact', 'family_fact', 'case_fact', 'case_step_fact'];

-- Freeze a consistent, pseudonymous copy of the live data as of a moment
-- (default now).  The four fact tables are filled by one statement, so they
-- come from one database snapshot whatever else commits meanwhile; each
-- becomes a partition that no one can change.  Facts with history are taken
-- as of as_of (memberships, specific needs, case states from the case
-- events, registrations and cases opened by then); attributes without
-- history (sex, population type, status) are today's.  Taking a snapshot of
-- a moment already taken returns that snapshot.  Progress is reported as
-- NOTICEs.
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
    insert into refuge_warehouse.snapshot (as_of, label, taken_by) values (snapshot.as_of, snapshot.label, refuge.caller())
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
        -- the check lets ATTACH skip its scan; the triggers freeze the rows
        execute format('alter table refuge_warehouse.%I add constraint snapshot_%s check (snapshot_id = %s)',
                       t || '_' || sid, sid, sid);
        execute format('create trigger frozen before insert or update or delete on refuge_warehouse.%I
                        for each row execute function refuge_warehouse.frozen()', t || '_' || sid);
        execute format('create trigger frozen_truncate before truncate on refuge_warehouse.%I
                        for each statement execute function refuge_warehouse.frozen()', t || '_' || sid);
        execute format('alter table refuge_warehouse.%I enable row level security', t || '_' || sid);
        execute format('alter table refuge_warehouse.%I force row level security', t || '_' || sid);
        execute format('create policy owner_all on refuge_warehouse.%I for all to refuge_owner using (true) with check (true)',
                       t || '_' || sid);
        execute format('alter table refuge_warehouse.%I attach partition refuge_warehouse.%I for values in (%s)',
                       t, t || '_' || sid, sid);
    end loop;
    raise notice 'snapshot %: analysing (3 of 3)', sid;
    foreach t in array refuge_warehouse.fact_tables() loop
        execute format('analyze refuge_warehouse.%I', t || '_' || sid);
    end loop;
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

-- The snapshots with their size on disk (DBAs).
create function refuge.snapshots()
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
              from unnest(refuge_warehouse.fact_tables()) t)
      from refuge_warehouse.snapshot s
     order by s.as_of;
end
$$;

-- Drop a snapshot and its partitions (DBAs).
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
    foreach t in array refuge_warehouse.fact_tables() loop
        execute format('drop table refuge_warehouse.%I', t || '_' || drop_snapshot.snapshot_id);
    end loop;
    delete from refuge_warehouse.snapshot s where s.id = drop_snapshot.snapshot_id;
end
$$;
