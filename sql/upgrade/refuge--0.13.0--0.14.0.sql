-- refuge 0.13.0 -> 0.14.0: the demographic search's blocking and first
-- comparison in C (extension/demographic.c); a closed case of an erased
-- principal is not reopened
\echo Use "ALTER EXTENSION refuge UPDATE TO '0.14.0'" to load this file. \quit

-- pairs decided to be two people are looked up once per search
drop function refuge.demographic_cleared(uuid, uuid);
create index on refuge.dedup_cleared_pair (individual_b);

-- functions/43_demographic.sql: demographic_blocked
create or replace function refuge.demographic_blocked(p refuge.match_profile, p_window integer, p_cap integer)
    returns table (candidate_id uuid, namesakes integer)
    -- (a few dozen people: the planner must look them up by index, never scan everyone)
    rows 50
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    cleared uuid[] := refuge.demographic_cleared_of(p.individual_id);
begin
    return query
    select b.candidate_id, b.namesakes
      from refuge.demographic_block_scan(p.keys, p.birth_year, p_window, p_cap, p.individual_id, 80) b
     where b.candidate_id <> all (cleared)
     order by b.shared desc, b.gap, b.candidate_id;
end
$$;

-- functions/43_demographic.sql: current_group
create or replace function refuge.current_group(p_individual uuid) returns uuid
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    return (select m.group_id from refuge.group_membership m
             where m.individual_id = p_individual and m.valid_to is null limit 1);
end
$$;

-- functions/43_demographic.sql: family_level
create or replace function refuge.family_level(a uuid, a_group uuid, b uuid, b_group uuid) returns integer
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    return (select case
            when a_group is null or b_group is null then 0
            when a_group = b_group then 2
            when not exists (select 1 from refuge.group_membership m
                              where m.group_id = a_group and m.valid_to is null and m.individual_id <> a)
              or not exists (select 1 from refuge.group_membership m
                              where m.group_id = b_group and m.valid_to is null and m.individual_id <> b) then 0
            else (select case when count(distinct x.ma) >= 2 then 1 when count(*) = 1 then 3 else 4 end
                    from (select ma.individual_id as ma
                            from refuge.group_membership ma
                            join refuge.match_profile pa on pa.individual_id = ma.individual_id
                            join refuge.group_membership mb on mb.group_id = b_group and mb.valid_to is null
                                                             and mb.individual_id <> b
                            join refuge.match_profile pb on pb.individual_id = mb.individual_id
                           where ma.group_id = a_group and ma.valid_to is null and ma.individual_id <> a
                             and (pa.birth_year = 0 or pb.birth_year = 0 or abs(pa.birth_year - pb.birth_year) <= 1)
                             and refuge.name_match_level(pa.names, pb.names) >= 4
                           limit 2) x) end);
end
$$;

-- functions/43_demographic.sql: document_level
create or replace function refuge.document_level(a uuid, b uuid) returns integer
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    return (select case
            when exists (select 1 from refuge.document da join refuge.document db
                            on refuge.identifier_key(db.number) = refuge.identifier_key(da.number)
                         where da.individual_id = a and db.individual_id = b) then 1
            when exists (select 1 from refuge.document da join refuge.document db
                            on db.doc_type = da.doc_type and db.issuing_country is not distinct from da.issuing_country
                         where da.individual_id = a and db.individual_id = b) then 2
            else 0 end);
end
$$;

-- functions/43_demographic.sql: phone_level
create or replace function refuge.phone_level(a uuid, b uuid) returns integer
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    return (select case
            when not exists (select 1 from refuge.individual_contact c where c.individual_id = a
                                and c.contact_type in ('PHONE', 'MOBILE', 'MESSAGING'))
              or not exists (select 1 from refuge.individual_contact c where c.individual_id = b
                                and c.contact_type in ('PHONE', 'MOBILE', 'MESSAGING')) then 0
            when exists (select 1 from refuge.individual_contact ca join refuge.individual_contact cb
                            on refuge.phone_key(cb.value) = refuge.phone_key(ca.value)
                         where ca.individual_id = a and cb.individual_id = b
                           and ca.contact_type in ('PHONE', 'MOBILE', 'MESSAGING')
                           and cb.contact_type in ('PHONE', 'MOBILE', 'MESSAGING')) then 1
            else 2 end);
end
$$;

-- functions/43_demographic.sql: early_levels
create or replace function refuge.early_levels(p refuge.match_profile, pi refuge.individual, cp refuge.match_profile,
                                    c refuge.individual, namesakes integer) returns integer[]
    language c immutable parallel safe
    as 'MODULE_PATHNAME', 'refuge_early_levels';

-- functions/43_demographic.sql: demographic_search_many
create or replace function refuge.demographic_search_many(p_ids uuid[], p_min_score double precision, p_limit integer,
                                               p_weights double precision[] default null)
    returns table (individual_id uuid, candidate_id uuid, score double precision, levels integer[])
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
    -- (PL/pgSQL keeps the plan of this long statement: an SQL function would plan it on every call)
    set plan_cache_mode = force_generic_plan
as $$
begin
    return query
    with wv as materialized (
        select coalesce(p_weights, refuge.match_weight_vector()) as w),
    probe as materialized (
        select pi.id, pi as ind, pp as profile, g.grp, g.has_co,
               (case when g.has_co then (select max(wv.w[50 + l]) from generate_series(1, 10) l) else 0 end
                + case when exists (select 1 from refuge.document d where d.individual_id = pi.id)
                       then (select max(wv.w[60 + l]) from generate_series(1, 10) l) else 0 end
                + case when exists (select 1 from refuge.individual_contact c where c.individual_id = pi.id)
                       then (select max(wv.w[70 + l]) from generate_series(1, 10) l) else 0 end) as late_max
          from unnest(p_ids) x(id)
          join refuge.individual pi on pi.id = x.id
          join refuge.match_profile pp on pp.individual_id = x.id
         cross join lateral (select y.grp,
                                    exists (select 1 from refuge.group_membership m
                                             where m.group_id = y.grp and m.valid_to is null and m.individual_id <> pi.id)
                                        as has_co
                               from (select refuge.current_group(pi.id) as grp) y) g
         cross join wv
         where cardinality(pp.names) > 0),
    cand as materialized (
        select pr.id as probe, b.candidate_id as id, b.levels as lv
          from probe pr
         cross join lateral refuge.demographic_compared(pr.profile, pr.ind,
                                                        refuge.birth_year_window((pr.ind).dob_precision), 500) b),
    ranked as materialized (
        select c.probe, c.id, c.lv,
               row_number() over (partition by c.probe order by refuge.match_score(c.lv, wv.w) desc, c.id) as rn
          from cand c join probe pr on pr.id = c.probe cross join wv
         where refuge.match_score(c.lv, wv.w) + pr.late_max >= p_min_score),
    late as materialized (
        select r.probe, r.id, refuge.current_group(r.id) as grp,
               r.lv[1:5] || array[case when pr.has_co then refuge.family_level(r.probe, pr.grp, r.id, refuge.current_group(r.id))
                                       else 0 end,
                                  refuge.document_level(r.probe, r.id),
                                  refuge.phone_level(r.probe, r.id)] || r.lv[9:9] as lv
          from ranked r join probe pr on pr.id = r.probe
         where r.rn <= greatest(p_limit, 1) + 10),
    scored as (
        select l.probe, l.id, refuge.match_score(l.lv, wv.w) as s, l.lv,
               -- one person is at most one member of a household: the best
               -- of a household's members explains the others (siblings of
               -- a household registered twice)
               row_number() over (partition by l.probe, coalesce(l.grp, l.id)
                                  order by refuge.match_score(l.lv, wv.w) desc, l.id) as in_household
          from late l cross join wv
         where refuge.match_score(l.lv, wv.w) >= p_min_score),
    kept as (
        select sc.probe, sc.id, sc.s, sc.lv, row_number() over (partition by sc.probe order by sc.s desc, sc.id) as rn
          from scored sc where sc.in_household = 1)
    select k.probe, k.id, k.s, k.lv from kept k where k.rn <= p_limit order by k.probe, k.s desc, k.id;
end
$$;

-- functions/60_cases.sql: transition_case
create or replace function refuge.transition_case(case_id uuid, action text, data jsonb default '{}', reason text default null)
    returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    c refuge.process_case;
    t refuge.workflow_transition;
    d jsonb;
    k text;
    allowed text;
    approval_id uuid;
begin
    c := refuge.case_for_update(transition_case.case_id, 'transition_case');
    if exists (select 1 from refuge.case_approval a where a.case_id = c.id and a.status = 'REQUESTED') then
        perform refuge.raise_field('55000', 'case_id', format('case %s has a step awaiting approval (%s)', c.number,
            (select a.action from refuge.case_approval a where a.case_id = c.id and a.status = 'REQUESTED')));
    end if;
    select * into t from refuge.workflow_transition w
     where w.module = c.module and w.action = transition_case.action and w.from_state = c.state;
    if not found then
        allowed := (select string_agg(distinct w.action, ', ') from refuge.workflow_transition w
                     where w.module = c.module and w.from_state = c.state);
        if exists (select 1 from refuge.workflow_transition w where w.module = c.module and w.action = transition_case.action) then
            perform refuge.raise_field('55000', 'action', format('%s is not allowed in state %s of case %s (allowed: %s)',
                transition_case.action, c.state, c.number, coalesce(allowed, 'none, the case is closed')));
        end if;
        perform refuge.raise_field('22023', 'action', format('"%s" is not an action of %s cases (allowed now: %s)',
            coalesce(transition_case.action, 'null'), c.module, coalesce(allowed, 'none, the case is closed')));
    end if;
    perform refuge.refuse_reopening_erased(c, t.to_state);
    for k in select jsonb_object_keys(t.requires_data) loop
        if not coalesce(t.requires_data -> k ? (c.data ->> k), false) then
            perform refuge.raise_field('55000', 'action', format('%s requires %s to be %s (it is %s)', t.action, k,
                (select string_agg(x, ' or ') from jsonb_array_elements_text(t.requires_data -> k) x),
                coalesce(c.data ->> k, 'not set')));
        end if;
    end loop;
    d := refuge.case_data(t.fields, transition_case.data, 'data');
    if t.other_officer_than is not null and (
        exists (select 1 from refuge.case_event e where e.case_id = c.id and e.action = t.other_officer_than
                                                    and e.actor = refuge.caller())
        or exists (select 1 from refuge.case_approval a where a.case_id = c.id and a.action = t.other_officer_than
                                                       and a.status = 'APPROVED' and a.decided_by = refuge.caller())) then
        raise exception using errcode = '42501',
            message = format('%s: must be taken by an officer other than the one who took %s on case %s',
                             t.action, t.other_officer_than, c.number);
    end if;
    if t.approval then
        insert into refuge.case_approval (case_id, action, from_state, data, reason, requested_by)
        values (c.id, t.action, c.state, d, reason, refuge.caller())
        returning id into approval_id;
        insert into refuge.case_event (case_id, actor, action, from_state, to_state, reason, data, approval_id)
        values (c.id, refuge.caller(), 'APPROVAL_REQUESTED', c.state, c.state, reason,
                jsonb_build_object('requested_action', t.action) || d, approval_id);
        perform refuge.raise_case_alert(c, 'APPROVAL', format('%s on case %s awaits approval', t.action, c.number),
                                        'refuge_supervisor');
        return jsonb_build_object('case_id', c.id, 'number', c.number, 'status', 'approval_requested',
                                  'approval_id', approval_id, 'action', t.action, 'state', c.state);
    end if;
    return refuge.apply_transition(c, t, d, reason, refuge.caller(), null);
end
$$;

-- functions/60_cases.sql: decide_approval
create or replace function refuge.decide_approval(approval_id uuid, approve boolean, comment text default null)
    returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    a refuge.case_approval;
    c refuge.process_case;
    t refuge.workflow_transition;
    res jsonb;
begin
    perform refuge.authorize('refuge_supervisor', 'decide_approval');
    if approval_id is null then
        perform refuge.raise_field('22004', 'approval_id', 'is required');
    end if;
    if approve is null then
        perform refuge.raise_field('22004', 'approve', 'is required (true to approve, false to reject)');
    end if;
    select * into a from refuge.case_approval x where x.id = decide_approval.approval_id;
    perform refuge.require_visible(a.id is not null
        and exists (select 1 from refuge.process_case p where p.id = a.case_id
                       and refuge.may_work_case(p.module, p.operation_id, p.site_id)), 'approval_id');
    c := refuge.case_for_update(a.case_id, 'decide_approval');
    select * into a from refuge.case_approval x where x.id = decide_approval.approval_id for update;
    if a.status <> 'REQUESTED' then
        perform refuge.raise_field('55000', 'approval_id', format('approval %s is already %s', a.id, lower(a.status)));
    end if;
    if a.requested_by = refuge.caller() and not refuge.caller_is_superuser() then
        raise exception using errcode = '42501',
            message = format('decide_approval: %s requested this step and may not approve it', refuge.caller());
    end if;
    update refuge.case_approval x
       set status = case when approve then 'APPROVED' else 'REJECTED' end,
           decided_by = refuge.caller(), decided_at = now(), decision_comment = comment
     where x.id = a.id;
    update refuge.case_alert x set acknowledged_by = refuge.caller(), acknowledged_at = now()
     where x.case_id = c.id and x.kind = 'APPROVAL' and x.acknowledged_at is null;
    if not approve then
        insert into refuge.case_event (case_id, actor, action, from_state, to_state, reason, data, approval_id)
        values (c.id, refuge.caller(), 'APPROVAL_REJECTED', c.state, c.state, comment,
                jsonb_build_object('requested_action', a.action, 'requested_by', a.requested_by), a.id);
        return jsonb_build_object('case_id', c.id, 'number', c.number, 'status', 'rejected', 'state', c.state);
    end if;
    select * into t from refuge.workflow_transition w
     where w.module = c.module and w.action = a.action and w.from_state = a.from_state;
    if not found or c.state <> a.from_state then
        perform refuge.raise_field('55000', 'approval_id',
            format('%s is no longer allowed from state %s of case %s', a.action, c.state, c.number));
    end if;
    perform refuge.refuse_reopening_erased(c, t.to_state);
    res := refuge.apply_transition(c, t, a.data, a.reason, a.requested_by, a.id);
    return res || jsonb_build_object('approved_by', refuge.caller());
end
$$;

-- functions/43_demographic.sql: demographic_cleared_of (new)
create function refuge.demographic_cleared_of(p uuid) returns uuid[]
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    return array(select c.individual_b from refuge.dedup_cleared_pair c where c.individual_a = p
                 union all
                 select c.individual_a from refuge.dedup_cleared_pair c where c.individual_b = p
                 union all
                 select d.candidate_id from refuge.dedup_case dc join refuge.dedup_candidate d on d.case_id = dc.id
                  where dc.kind = 'demographic' and dc.decision = 'different' and dc.individual_id = p
                 union all
                 select dc.individual_id from refuge.dedup_candidate d join refuge.dedup_case dc on dc.id = d.case_id
                  where dc.kind = 'demographic' and dc.decision = 'different' and d.candidate_id = p);
end
$$;

-- functions/43_demographic.sql: demographic_block_scan (new)
create function refuge.demographic_block_scan(keys text[], birth_year integer, year_window integer, cap integer,
                                              self uuid, max_candidates integer)
    returns table (candidate_id uuid, shared integer, gap integer, namesakes integer)
    rows 50
    language c stable parallel safe
    as 'MODULE_PATHNAME', 'refuge_demographic_block_scan';
comment on function refuge.demographic_block_scan(text[], integer, integer, integer, uuid, integer) is
    'internal: the blocking stage of the demographic search over refuge.match_block (its owner only)';

-- functions/43_demographic.sql: demographic_compare_blocked (new)
create function refuge.demographic_compare_blocked(p refuge.match_profile, pi refuge.individual, year_window integer,
                                                   cap integer, max_candidates integer)
    returns table (candidate_id uuid, namesakes integer, levels integer[])
    rows 50
    language c stable parallel safe
    as 'MODULE_PATHNAME', 'refuge_demographic_compare_blocked';
comment on function refuge.demographic_compare_blocked(refuge.match_profile, refuge.individual, integer, integer, integer) is
    'internal: the blocking and first comparison of the demographic search (its owner only)';

-- functions/43_demographic.sql: demographic_compared (new)
create function refuge.demographic_compared(p refuge.match_profile, pi refuge.individual, p_window integer, p_cap integer)
    returns table (candidate_id uuid, levels integer[])
    rows 50
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    cleared uuid[] := refuge.demographic_cleared_of(p.individual_id);
begin
    return query
    select b.candidate_id, b.levels
      from refuge.demographic_compare_blocked(p, pi, p_window, p_cap, 80) b
     where b.candidate_id <> all (cleared);
end
$$;

-- functions/60_cases.sql: refuse_reopening_erased (new)
create function refuge.refuse_reopening_erased(c refuge.process_case, p_to_state text) returns void
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    if c.closed
       and not (select s.closed from refuge.workflow_state s where s.module = c.module and s.code = p_to_state)
       and exists (select 1 from refuge.individual i where i.id = c.principal_id and i.status = 'ERASED') then
        perform refuge.raise_field('55000', 'case_id',
            format('case %s cannot be reopened: its principal''s record was erased at the person''s request', c.number));
    end if;
end
$$;

-- every function owned by refuge_owner, none executable by PUBLIC (as sql/99_security.sql)
do $$
declare
    r record;
begin
    for r in select p.oid::regprocedure as fn from pg_catalog.pg_proc p
              where p.pronamespace in ('refuge'::regnamespace, 'refuge_warehouse'::regnamespace)
                and pg_catalog.pg_get_userbyid(p.proowner) <> 'refuge_owner'
    loop
        execute format('alter function %s owner to refuge_owner', r.fn);
    end loop;
end
$$;
revoke all on all functions in schema refuge, refuge_warehouse from public;
