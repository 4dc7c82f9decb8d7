-- The case engine: open, move through the workflow, approve, assign, flag,
-- members, links, alerts and the overdue sweep, vulnerability scoring,
-- tracing.

create function refuge.case_module_row(p_module text, p_field text) returns refuge.case_module
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    m refuge.case_module;
begin
    select * into m from refuge.case_module c where c.code = p_module;
    if not found then
        perform refuge.raise_field('22023', p_field, format('"%s" is not a case module (%s)', coalesce(refuge.excerpt(p_module), 'null'),
            (select string_agg(code, ', ' order by code) from refuge.case_module)));
    end if;
    return m;
end
$$;

-- A case the caller may not work is not found, whether or not it exists
-- (the error names neither its module nor its operation).
create function refuge.case_for_update(p_case uuid, p_action text, p_lock boolean default true)
    returns refuge.process_case
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
begin
    if p_case is null then
        perform refuge.raise_field('22004', 'case_id', 'is required');
    end if;
    select * into c from refuge.process_case p where p.id = p_case;
    if not found or not refuge.may_work_case(c.module, c.operation_id, c.site_id) then
        perform refuge.raise_field('P0002', 'case_id', 'not found in your operations');
    end if;
    if p_lock then
        select * into c from refuge.process_case p where p.id = p_case for update;
    end if;
    -- the file of erased people alone takes nothing new (its text was erased)
    if p_lock and c.closed and refuge.case_file_erased(c.id) then
        perform refuge.raise_field('55000', 'case_id',
            format('case %s is the file of erased records: it takes no new entry', c.number));
    end if;
    return c;
end
$$;

-- A case the caller may work and that is still open, locked.
create function refuge.open_case_for_update(p_case uuid, p_action text) returns refuge.process_case
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case := refuge.case_for_update(p_case, p_action);
begin
    if c.closed then
        perform refuge.raise_field('55000', 'case_id', format('case %s is closed', c.number));
    end if;
    return c;
end
$$;

-- Validate data against a field specification (see workflow_transition):
-- unknown keys, missing required keys and wrong values are refused, naming
-- the field.  Returns the data with values normalised (dates as ISO text).
create function refuge.case_data(spec jsonb, data jsonb, path text) returns jsonb
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    k text;
    v jsonb;
    t jsonb;
    key text;
    optional boolean;
    out jsonb := '{}';
    f text;
begin
    data := coalesce(data, '{}');
    if jsonb_typeof(data) <> 'object' then
        perform refuge.raise_field('22023', path, 'expected a JSON object');
    end if;
    for k in select jsonb_object_keys(data) loop
        if not (spec ? k or spec ? (k || '?')) then
            perform refuge.raise_field('22023', path || '.' || k, format('is not a field of this step (fields: %s)',
                coalesce((select string_agg(rtrim(s, '?'), ', ' order by s) from jsonb_object_keys(spec) s), 'none')));
        end if;
    end loop;
    for key, t in select * from jsonb_each(spec) loop
        optional := right(key, 1) = '?';
        k := rtrim(key, '?');
        f := path || '.' || k;
        v := data -> k;
        if v is null or v = 'null' then
            if not optional then
                perform refuge.raise_field('22004', f, 'is required');
            end if;
            continue;
        end if;
        if jsonb_typeof(t) = 'array' then
            if jsonb_typeof(v) <> 'string' or not t ? (v #>> '{}') then
                perform refuge.raise_field('22023', f, format('%s is not one of %s', v,
                    (select string_agg(x, ', ') from jsonb_array_elements_text(t) x)));
            end if;
        elsif t #>> '{}' = 'date' then
            v := to_jsonb(refuge.iso(refuge.arg_date(data, k, path, true, false)));
        elsif t #>> '{}' = 'text' then
            if jsonb_typeof(v) <> 'string' or btrim(v #>> '{}') = '' then
                perform refuge.raise_field('22023', f, 'expected non-empty text');
            end if;
        elsif t #>> '{}' = 'integer' then
            if jsonb_typeof(v) <> 'number' or (v #>> '{}') !~ '^-?[0-9]+$' then
                perform refuge.raise_field('22023', f, format('%s is not an integer', v));
            end if;
        elsif t #>> '{}' = 'object' then
            if jsonb_typeof(v) <> 'object' then
                perform refuge.raise_field('22023', f, 'expected a JSON object');
            end if;
        elsif t #>> '{}' = 'country' then
            if jsonb_typeof(v) <> 'string' or not refuge.code_exists('country', v #>> '{}') then
                perform refuge.raise_field('23503', f, format('%s is not a country code (ISO 3166-1 alpha-3)', v));
            end if;
        elsif t #>> '{}' in ('uuid', 'individual') then
            v := to_jsonb(refuge.arg_uuid(data, k, path, true));
            if t #>> '{}' = 'individual' and not exists (select 1 from refuge.individual i where i.id = (v #>> '{}')::uuid) then
                perform refuge.raise_field('23503', f, format('no individual %s', v #>> '{}'));
            end if;
        else
            raise exception 'refuge: unknown field type % in a workflow definition', t;
        end if;
        out := out || jsonb_build_object(k, v);
    end loop;
    return out;
end
$$;

-- Alerts carry opaque ids only: every NOTIFY payload (channels
-- refuge_case_alert and refuge_fraud_alert) is the alert's uuid, and
-- refuge.alert_details() returns what the caller may see of it under the
-- caller's own rights.  PostgreSQL has no LISTEN privilege, so a payload
-- must tell an eavesdropper nothing.
--
-- The overdue sweep is scoped: a supervisor sweeps the cases of the modules
-- they work in their operations; only the scheduler (refuge_dba) sweeps
-- everything.
--
-- Sharing follows consent at once: withdrawing an SGBV survivor's consent to
-- sharing revokes the case's active referrals, and a partner's read checks
-- the consent again.
--
-- Idempotent requests are keyed per caller (another login reusing a
-- request_id neither blocks nor reads the first), and import_rrf's "already
-- imported" lookup stays within the caller's operations.
create function refuge.raise_case_alert(p_case refuge.process_case, p_kind text, p_message text, p_to_role name,
                                                   p_severity text default 'NORMAL', p_due timestamptz default null)
    returns uuid
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    new_id uuid;
begin
    insert into refuge.case_alert (case_id, operation_id, kind, severity, message, to_role, state, due_at, raised_by)
    values (p_case.id, p_case.operation_id, p_kind, p_severity, p_message, p_to_role, p_case.state, p_due, refuge.caller())
    on conflict do nothing
    returning id into new_id;
    if new_id is not null then
        perform pg_notify('refuge_case_alert', new_id::text);
    end if;
    return new_id;
end
$$;

-- An event that records an action without moving the case.
create function refuge.note_case_event(c refuge.process_case, p_action text, p_reason text, p_data jsonb)
    returns void
    language sql volatile
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    insert into refuge.case_event (case_id, actor, action, from_state, to_state, reason, data)
    values (c.id, refuge.caller(), p_action, c.state, c.state, p_reason, p_data);
end;

-- When a case entering state s is next due.
create function refuge.case_due(p_module text, p_state text, p_data jsonb) returns timestamptz
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
return (select case
                 when s.closed then null
                 -- a scheduled interview is due the day after it
                 when s.due_days is null and p_data ? 'interview_date'
                     then (p_data ->> 'interview_date')::date + 1
                 when s.due_days is not null then now() + make_interval(days => s.due_days)
               end
          from refuge.workflow_state s where s.module = p_module and s.code = p_state);

-- Open a case of a process for a person and, optionally, members of the
-- person's family (as dependants).  The family grouping is not changed.
create function refuge.open_case(module text, principal_id uuid, members uuid[] default '{}', data jsonb default '{}',
                                 reason text default null)
    returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    m refuge.case_module;
    p refuge.individual;
    grp uuid;
    d jsonb;
    c refuge.process_case;
    member uuid;
    rel text;
    k text;
begin
    m := refuge.case_module_row(open_case.module, 'module');
    perform refuge.authorize_any(m.roles, 'open_case');
    if principal_id is null then
        perform refuge.raise_field('22004', 'principal_id', 'is required');
    end if;
    select * into p from refuge.individual i where i.id = open_case.principal_id;
    if not found or not refuge.in_scope(p.operation_id, p.site_id) then
        perform refuge.raise_field('P0002', 'principal_id', format('no individual %s in your operations', principal_id));
    end if;
    if p.status <> 'ACTIVE' then
        perform refuge.raise_field('55000', 'principal_id', format('individual %s is %s, not active', p.number, lower(p.status)));
    end if;
    -- a module whose purpose rests on consent needs the principal's
    perform refuge.require_consent(p.id, m.code, 'principal_id');
    select gm.group_id into grp from refuge.group_membership gm
     where gm.individual_id = p.id and gm.valid_to is null;
    d := refuge.case_data(m.open_fields, open_case.data, 'data');
    -- linked identity records of a fraud investigation must exist
    foreach k in array array['fraud_alert_id', 'fraud_case_id', 'dedup_case_id'] loop
        if d ? k and not exists (select 1 from refuge.fraud_alert a where k = 'fraud_alert_id' and a.id = (d ->> k)::uuid
                                 union all select 1 from refuge.fraud_case f where k = 'fraud_case_id' and f.id = (d ->> k)::uuid
                                 union all select 1 from refuge.dedup_case x where k = 'dedup_case_id' and x.id = (d ->> k)::uuid) then
            perform refuge.raise_field('23503', 'data.' || k, format('no %s %s', replace(k, '_id', ''), d ->> k));
        end if;
    end loop;
    insert into refuge.process_case (number, module, operation_id, site_id, group_id, principal_id, state, data,
                                     due_at, opened_by)
    select format('%s-%s-%s-%s%s', o.code, m.prefix, to_char(current_date, 'YY'), refuge.local_series(),
                  lpad(n::text, greatest(6, length(n::text)), '0')),
           m.code, p.operation_id, p.site_id, grp, p.id, m.initial_state, d,
           refuge.case_due(m.code, m.initial_state, d), refuge.caller()
      from refuge.operation o, nextval('refuge.case_number_seq') n
     where o.id = p.operation_id
    returning * into c;
    insert into refuge.case_member (case_id, individual_id, role, relationship, added_by)
    values (c.id, p.id, 'PRINCIPAL', 'PA', refuge.caller());
    foreach member in array coalesce(members, '{}') loop
        continue when member = p.id;
        select gm.relationship into rel from refuge.group_membership gm
         where gm.individual_id = member and gm.group_id = grp and gm.valid_to is null;
        if not found then
            perform refuge.raise_field('22023', 'members', format('%s is not a current member of the principal''s family', member));
        end if;
        -- a closed record (departed, deceased, a duplicate) joins no new case
        if exists (select 1 from refuge.individual i where i.id = member and i.status in ('CLOSED', 'DECEASED', 'DUPLICATE')) then
            perform refuge.raise_field('55000', 'members', format('%s is %s', (select i.number from refuge.individual i where i.id = member),
                (select lower(i.status) from refuge.individual i where i.id = member)));
        end if;
        insert into refuge.case_member (case_id, individual_id, role, relationship, added_by)
        values (c.id, member, 'DEPENDANT', rel, refuge.caller())
        on conflict do nothing;
    end loop;
    foreach k in array array['fraud_alert_id', 'fraud_case_id', 'dedup_case_id'] loop
        if d ? k then
            insert into refuge.case_link (case_id, kind, linked_id, note)
            values (c.id, replace(k, '_id', ''), (d ->> k)::uuid, 'opened from it');
        end if;
    end loop;
    insert into refuge.case_event (case_id, actor, action, from_state, to_state, reason, data)
    values (c.id, refuge.caller(), 'OPEN', null, c.state, reason, d);
    return jsonb_build_object('case_id', c.id, 'number', c.number, 'module', c.module, 'state', c.state,
                              'due_at', c.due_at,
                              'members', (select count(*) from refuge.case_member cm where cm.case_id = c.id));
exception when unique_violation then
    if sqlerrm like '%process_case_one_open%' then
        perform refuge.raise_field('23505', 'principal_id',
            format('%s already has an open %s case', p.number, m.code));
    end if;
    raise;
end
$$;
comment on function refuge.open_case(text, uuid, uuid[], jsonb, text) is
    'open a case of a module for a principal (and members), with its opening data';
grant execute on function refuge.open_case(text, uuid, uuid[], jsonb, text) to refuge_supervisor,
    refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection;

-- A closed case whose principal's record was erased at the person's
-- request stays closed: reopening it would process the erased record again.
-- Checked where a step is asked for (refuge.transition_case) and where an
-- approved one is taken (refuge.decide_approval).
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

create function refuge.apply_transition(c refuge.process_case, t refuge.workflow_transition, d jsonb, p_reason text,
                                        p_actor name, p_approval uuid)
    returns jsonb
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    computed jsonb := '{}';
    newdata jsonb;
    target refuge.workflow_state;
    r refuge.process_case;
    changed integer;
begin
    if c.module = 'VULNERABILITY' and d ? 'answers' then
        -- the score reads the members' specific needs: logged first, rollback or not
        perform refuge.log_sensitive_read('vulnerability_assessment', c.id, c, 'vulnerability assessment ' || c.number);
        computed := refuge.vulnerability_score(c.id, d -> 'answers');
    end if;
    newdata := c.data || t.sets || d || computed;
    select * into target from refuge.workflow_state s where s.module = c.module and s.code = t.to_state;
    update refuge.process_case p
       set state = t.to_state, closed = target.closed, state_since = now(), data = newdata,
           due_at = refuge.case_due(c.module, t.to_state, d)
     where p.id = c.id
    returning * into r;
    insert into refuge.case_event (case_id, actor, action, from_state, to_state, reason, data, approval_id)
    values (c.id, p_actor, t.action, c.state, t.to_state, p_reason, t.sets || d || computed, p_approval);
    -- a missed deadline of the state left behind is no longer pending
    update refuge.case_alert a set acknowledged_by = refuge.caller(), acknowledged_at = now()
     where a.case_id = c.id and a.kind = 'OVERDUE' and a.acknowledged_at is null;
    -- the decision's effect on the members' status and legal standing
    changed := refuge.apply_status_rules(r, t.action, newdata, p_actor, p_approval);
    return jsonb_build_object('case_id', r.id, 'number', r.number, 'status', 'done', 'action', t.action,
                              'from_state', c.state, 'state', r.state, 'closed', r.closed, 'due_at', r.due_at)
           || case when changed > 0 then jsonb_build_object('records_changed', changed) else '{}' end;
end
$$;

-- Move a case: the action must be allowed from the case's state; its data
-- is validated; a step that needs approval is requested instead (the state
-- changes when a supervisor approves it).
create function refuge.transition_case(case_id uuid, action text, data jsonb default '{}', reason text default null)
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
comment on function refuge.transition_case(uuid, text, jsonb, text) is
    'take a workflow step of a case (its data checked; approval requested where the step needs one)';
grant execute on function refuge.transition_case(uuid, text, jsonb, text) to refuge_supervisor,
    refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection;

create function refuge.decide_approval(approval_id uuid, approve boolean, comment text default null)
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
comment on function refuge.decide_approval(uuid, boolean, text) is
    'approve or reject a requested case step (a supervisor other than the requester)';
grant execute on function refuge.decide_approval(uuid, boolean, text) to refuge_supervisor;

-- Assign a case to a staff member who works the module in its operation.
create function refuge.assign_case(case_id uuid, staff_role name, due_at timestamptz default null, reason text default null)
    returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    c refuge.process_case;
    m refuge.case_module;
begin
    c := refuge.open_case_for_update(assign_case.case_id, 'assign_case');
    m := refuge.case_module_row(c.module, 'module');
    if staff_role is null or not exists (select 1 from pg_catalog.pg_roles r where r.rolname = staff_role)
       or not exists (select 1 from unnest(m.roles) g where pg_catalog.pg_has_role(staff_role, g, 'MEMBER')) then
        perform refuge.raise_field('22023', 'staff_role', format('"%s" is not a role that works %s cases (%s)',
            coalesce(staff_role::text, 'null'), c.module, array_to_string(m.roles, ', ')));
    end if;
    if not exists (select 1 from refuge.staff_assignment a join refuge.staff s on s.role_name = a.role_name and s.active
                    where a.role_name = staff_role and a.valid_from <= current_date
                      and (a.valid_to is null or a.valid_to >= current_date)
                      and ((a.site_id is null and a.operation_id = c.operation_id) or a.site_id = c.site_id)) then
        perform refuge.raise_field('22023', 'staff_role',
            format('%s is not assigned to the operation of case %s', staff_role, c.number));
    end if;
    if assign_case.due_at is not null and assign_case.due_at < now() then
        perform refuge.raise_field('22008', 'due_at', 'is in the past');
    end if;
    update refuge.process_case p
       set assigned_to = staff_role, due_at = coalesce(assign_case.due_at, p.due_at)
     where p.id = c.id
    returning * into c;
    perform refuge.note_case_event(c, 'ASSIGN', reason, jsonb_build_object('assigned_to', staff_role, 'due_at', c.due_at));
    perform refuge.raise_case_alert(c, 'ASSIGNMENT', format('case %s assigned to you', c.number), staff_role);
    return jsonb_build_object('case_id', c.id, 'number', c.number, 'assigned_to', c.assigned_to, 'due_at', c.due_at);
end
$$;
comment on function refuge.assign_case(uuid, name, timestamp with time zone, text) is
    'assign a case to a member of staff who works its module, with an optional due date';
grant execute on function refuge.assign_case(uuid, name, timestamp with time zone, text) to refuge_supervisor,
    refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection;

-- Staff flag a situation on a case and alert colleagues (a role or a group role).
create function refuge.flag_case(case_id uuid, message text, to_role name default null, severity text default 'NORMAL')
    returns uuid
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
    new_id uuid;
begin
    c := refuge.case_for_update(flag_case.case_id, 'flag_case');
    perform refuge.require_text(message, 'message');
    if severity is null or severity not in ('NORMAL', 'HIGH', 'CRITICAL') then
        perform refuge.raise_field('22023', 'severity', format('"%s" is not NORMAL, HIGH or CRITICAL', severity));
    end if;
    if to_role is not null and not exists (select 1 from pg_catalog.pg_roles r where r.rolname = to_role) then
        perform refuge.raise_field('23503', 'to_role', format('role "%s" does not exist', to_role));
    end if;
    new_id := refuge.raise_case_alert(c, 'FLAG', message, to_role, severity);
    perform refuge.note_case_event(c, 'FLAG', message,
        jsonb_build_object('alert_id', new_id, 'to_role', to_role, 'severity', severity));
    return new_id;
end
$$;
comment on function refuge.flag_case(uuid, text, name, text) is
    'flag a case with a message for a role (an alert, announced by NOTIFY with its uuid only)';
grant execute on function refuge.flag_case(uuid, text, name, text) to refuge_supervisor, refuge_assistance,
    refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection;

create function refuge.acknowledge_alert(alert_id uuid) returns void
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    a refuge.case_alert;
begin
    select * into a from refuge.case_alert x where x.id = alert_id;
    perform refuge.require_visible(a.id is not null
        and exists (select 1 from refuge.process_case c where c.id = a.case_id
                       and refuge.may_work_case(c.module, c.operation_id, c.site_id)), 'alert_id');
    perform refuge.case_for_update(a.case_id, 'acknowledge_alert');
    select * into a from refuge.case_alert x where x.id = alert_id for update;
    if a.acknowledged_at is not null then
        perform refuge.raise_field('55000', 'alert_id', format('already acknowledged by %s', a.acknowledged_by));
    end if;
    update refuge.case_alert x set acknowledged_by = refuge.caller(), acknowledged_at = now() where x.id = a.id;
end
$$;
comment on function refuge.acknowledge_alert(uuid) is
    'acknowledge a case alert (by the uuid NOTIFY carried): for those who work the case';
grant execute on function refuge.acknowledge_alert(uuid) to refuge_supervisor, refuge_assistance, refuge_rsd,
    refuge_resettlement, refuge_protection, refuge_child_protection;

-- The overdue sweep: supervisors sweep their modules in their operations;
-- refuge_dba (the scheduler) sweeps every open case.
create function refuge.check_overdue() returns integer
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
    n integer := 0;
    everything boolean;
begin
    perform refuge.authorize_any(array['refuge_supervisor', 'refuge_dba']::name[], 'check_overdue');
    everything := refuge.caller_is_superuser() or refuge.caller_has('refuge_dba');
    for c in select * from refuge.process_case p
              where not p.closed and p.due_at < now()
                and (everything or refuge.may_work_case(p.module, p.operation_id, p.site_id))
                and not exists (select 1 from refuge.case_alert a where a.case_id = p.id and a.kind = 'OVERDUE'
                                                                 and a.due_at = p.due_at)
              order by p.due_at
    loop
        if refuge.raise_case_alert(c, 'OVERDUE',
               format('case %s is overdue in state %s since %s', c.number, c.state, to_char(c.due_at, 'YYYY-MM-DD HH24:MI')),
               coalesce(c.assigned_to, (select m.roles[1] from refuge.case_module m where m.code = c.module)),
               'HIGH', c.due_at) is not null then
            n := n + 1;
        end if;
    end loop;
    return n;
end
$$;
comment on function refuge.check_overdue() is
    'raise one OVERDUE alert per missed deadline: supervisors sweep the modules they work in their operations, refuge_dba every open case (schedule it with pg_cron)';
grant execute on function refuge.check_overdue() to refuge_supervisor, refuge_dba;

-- Members join or leave a case (a child born, a relative reunited, a
-- member who withdraws); the principal stays.  New members come from the
-- principal's family as it is today.
create function refuge.add_case_member(case_id uuid, individual_id uuid, reason text) returns void
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
    rel text;
begin
    c := refuge.open_case_for_update(add_case_member.case_id, 'add_case_member');
    perform refuge.require_text(reason, 'reason');
    select gm.relationship into rel from refuge.group_membership gm
     where gm.individual_id = add_case_member.individual_id and gm.group_id = c.group_id and gm.valid_to is null;
    if not found then
        perform refuge.raise_field('22023', 'individual_id',
            format('%s is not a current member of the principal''s family', add_case_member.individual_id));
    end if;
    if exists (select 1 from refuge.individual i where i.id = add_case_member.individual_id
                                                and i.status in ('CLOSED', 'DECEASED', 'DUPLICATE')) then
        perform refuge.raise_field('55000', 'individual_id', 'the record is closed: it joins no case');
    end if;
    insert into refuge.case_member (case_id, individual_id, role, relationship, added_by)
    values (c.id, add_case_member.individual_id, 'DEPENDANT', rel, refuge.caller());
    perform refuge.note_case_event(c, 'MEMBER_ADDED', reason, jsonb_build_object('individual_id', add_case_member.individual_id));
exception when unique_violation then
    perform refuge.raise_field('23505', 'individual_id', format('already a member of case %s', c.number));
end
$$;
comment on function refuge.add_case_member(uuid, uuid, text) is
    'add a person to a case after it was opened (a dependant), with the reason';
grant execute on function refuge.add_case_member(uuid, uuid, text) to refuge_supervisor, refuge_assistance,
    refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection;

create function refuge.remove_case_member(case_id uuid, individual_id uuid, reason text) returns void
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
    m refuge.case_member;
begin
    c := refuge.open_case_for_update(remove_case_member.case_id, 'remove_case_member');
    perform refuge.require_text(reason, 'reason');
    select * into m from refuge.case_member x where x.case_id = c.id and x.individual_id = remove_case_member.individual_id;
    if not found then
        perform refuge.raise_field('P0002', 'individual_id', format('not a member of case %s', c.number));
    end if;
    if m.role = 'PRINCIPAL' then
        perform refuge.raise_field('55000', 'individual_id', 'is the principal applicant: open a new case instead');
    end if;
    delete from refuge.case_member x where x.case_id = c.id and x.individual_id = m.individual_id;
    perform refuge.note_case_event(c, 'MEMBER_REMOVED', reason, jsonb_build_object('individual_id', m.individual_id));
end
$$;
comment on function refuge.remove_case_member(uuid, uuid, text) is
    'remove a member (not the principal) from a case, with the reason';
grant execute on function refuge.remove_case_member(uuid, uuid, text) to refuge_supervisor, refuge_assistance,
    refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection;

-- Links reach only what the caller may see: a case they work, or a fraud
-- alert, fraud case, deduplication case or collection in their operations.
create function refuge.link_case(case_id uuid, kind text, linked_id uuid, note text default null) returns void
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
    linked refuge.process_case;
    op uuid;
    st uuid;
    visible boolean;
begin
    c := refuge.case_for_update(link_case.case_id, 'link_case');
    if kind is null or kind not in ('process_case', 'fraud_alert', 'fraud_case', 'dedup_case', 'collection') then
        perform refuge.raise_field('22023', 'kind',
            format('"%s" is not process_case, fraud_alert, fraud_case, dedup_case or collection', refuge.excerpt(kind)));
    end if;
    if kind = 'process_case' then
        select * into linked from refuge.process_case p where p.id = linked_id;
        visible := linked.id is not null and linked.id <> c.id
                   and refuge.may_work_case(linked.module, linked.operation_id, linked.site_id);
    else
        execute format('select operation_id, site_id from refuge.%I where id = $1', kind) into op, st using linked_id;
        visible := op is not null and refuge.in_scope(op, st);
    end if;
    if not coalesce(visible, false) then
        perform refuge.raise_field('P0002', 'linked_id', format('no %s in your operations', kind));
    end if;
    insert into refuge.case_link (case_id, kind, linked_id, note) values (c.id, kind, linked_id, left(note, 2000))
    on conflict do nothing;
    perform refuge.note_case_event(c, 'LINK', left(note, 2000), jsonb_build_object('kind', kind, 'linked_id', linked_id));
end
$$;
comment on function refuge.link_case(uuid, text, uuid, text) is
    'link a case to another case, fraud alert or case, deduplication case or collection in the caller''s scope';
grant execute on function refuge.link_case(uuid, text, uuid, text) to refuge_supervisor, refuge_assistance,
    refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection;

-- A vulnerability assessment reads the members' specific needs: it is
-- logged (durably, before the score is shown) and the score names no need
-- category, only their combined weight (SPECIFIC_NEEDS).  The breakdown by
-- category is for those who may read specific needs: registration staff and
-- supervisors of the case's operation, through a logged read.
create function refuge.vulnerability_score(case_id uuid, answers jsonb) returns jsonb
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    k text;
    v jsonb;
    factors jsonb := '{}';
    score numeric;
    adults integer;
    dependants integer;
    members integer;
begin
    if answers is null or jsonb_typeof(answers) <> 'object' then
        perform refuge.raise_field('22023', 'data.answers', 'expected an object of answers, e.g. {"NO_INCOME": true}');
    end if;
    for k, v in select * from jsonb_each(answers) loop
        if not exists (select 1 from refuge.vulnerability_factor f where f.code = k and f.kind = 'ANSWER') then
            perform refuge.raise_field('22023', 'data.answers.' || k, format('is not a question of the model (%s)',
                (select string_agg(f.code, ', ' order by f.code) from refuge.vulnerability_factor f where f.kind = 'ANSWER')));
        end if;
        if jsonb_typeof(v) <> 'boolean' then
            perform refuge.raise_field('22023', 'data.answers.' || k, 'expected true or false');
        end if;
        if v = 'true' then
            factors := factors || jsonb_build_object(k, (select f.weight from refuge.vulnerability_factor f where f.code = k));
        end if;
    end loop;
    -- members' needs count as one factor: which categories they are is for
    -- those who may read specific needs (refuge.vulnerability_factors)
    factors := factors || coalesce((select jsonb_build_object('SPECIFIC_NEEDS', sum(f.weight))
        from refuge.vulnerability_factor f
       where f.kind = 'NEED'
         and exists (select 1 from refuge.case_member cm join refuge.specific_need n on n.individual_id = cm.individual_id
                     where cm.case_id = vulnerability_score.case_id and n.category = f.code and n.active)
      having count(*) > 0), '{}');
    select count(*), count(*) filter (where a.age between 18 and 59), count(*) filter (where a.age < 18 or a.age >= 60)
      into members, adults, dependants
      from refuge.process_case c
      join refuge.group_membership gm on gm.group_id = c.group_id and gm.valid_to is null
      join refuge.individual i on i.id = gm.individual_id and i.status = 'ACTIVE',
           lateral (select extract(year from age(current_date, i.date_of_birth))::integer as age) a
     where c.id = vulnerability_score.case_id;
    if members >= 7 then
        factors := factors || (select jsonb_build_object(f.code, f.weight) from refuge.vulnerability_factor f where f.code = 'LARGE_HOUSEHOLD');
    end if;
    if dependants > 2 * greatest(adults, 0) and dependants > 0 then
        factors := factors || (select jsonb_build_object(f.code, f.weight) from refuge.vulnerability_factor f where f.code = 'HIGH_DEPENDENCY');
    end if;
    select coalesce(sum(x.value::numeric), 0) into score from jsonb_each_text(factors) x;
    return jsonb_build_object('score', score, 'factors', factors, 'household_size', members,
        'risk_level', case when score >= (select weight from refuge.vulnerability_factor where code = 'HIGH') then 'HIGH'
                           when score >= (select weight from refuge.vulnerability_factor where code = 'MEDIUM') then 'MEDIUM'
                           else 'LOW' end);
end
$$;

-- Tracing searches cross borders: the search and the people it returned are
-- logged (committed) before the list is handed out.
create function refuge.tracing_matches(case_id uuid, max_results integer default 10)
    returns table (individual_id uuid, number text, given_name text, family_name text, sex text, birth_year integer,
                   operation text, score integer)
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
    probe refuge.match_profile;
    yob integer;
    sought_sex text;
    w double precision[] := refuge.match_weight_vector();
    found_rows refuge.tracing_match[];
begin
    c := refuge.case_for_update(tracing_matches.case_id, 'tracing_matches', false);
    if c.module <> 'TRACING' then
        perform refuge.raise_field('22023', 'case_id', format('case %s is a %s case, not a tracing request', c.number, c.module));
    end if;
    -- the sought person as a match profile: the demographic engine's names,
    -- keys and blocking, everywhere this server holds people
    probe.names := array_remove(array[refuge.name_canonical(concat_ws(' ', c.data ->> 'sought_given_name',
                                                                         c.data ->> 'sought_family_name'))], null);
    probe.keys := refuge.name_block_keys(probe.names);
    yob := case when c.data ->> 'sought_birth_year' ~ '^[0-9]{4}$' then (c.data ->> 'sought_birth_year')::integer end;
    probe.birth_year := coalesce(yob, 0);
    sought_sex := c.data ->> 'sought_sex';
    select coalesce(array_agg(row(y.id, y.number, y.given_name, y.family_name, y.sex, y.yob, y.code, y.score)::refuge.tracing_match
                              order by y.score desc, y.number), '{}')
      into found_rows
      from (select x.id, x.number, x.given_name, x.family_name, x.sex, x.yob, o.code,
                   round(10 * (w[x.name_level + 1] + w[x.dob_level + 11] + w[x.sex_level + 21]))::integer as score
              from (select i.id, i.number, i.given_name, i.family_name, i.sex, i.operation_id,
                           extract(year from i.date_of_birth)::integer as yob,
                           -- (the sought person is not among the namesakes the blocks counted)
                           refuge.name_level_by_frequency(refuge.name_match_level(probe.names, mp.names),
                                                          b.namesakes + 1) as name_level,
                           case when yob is null or i.date_of_birth is null then 0
                                when abs(extract(year from i.date_of_birth) - yob) = 0 then 2
                                when abs(extract(year from i.date_of_birth) - yob) <= 1 then 3
                                when abs(extract(year from i.date_of_birth) - yob) <= 3 then 4
                                else 5 end as dob_level,
                           case when sought_sex is null or i.sex = 'U' then 0 when i.sex = sought_sex then 1 else 2 end
                               as sex_level
                      from refuge.demographic_blocked(probe, 3, 500) b
                      join refuge.individual i on i.id = b.candidate_id
                      join refuge.match_profile mp on mp.individual_id = i.id
                     where i.status = 'ACTIVE'
                       and not exists (select 1 from refuge.case_member cm where cm.case_id = c.id and cm.individual_id = i.id)) x
              join refuge.operation o on o.id = x.operation_id
             where x.name_level >= 2
               and w[x.name_level + 1] + w[x.dob_level + 11] + w[x.sex_level + 21] > 0
             order by 8 desc, x.number
             limit greatest(1, least(coalesce(max_results, 10), 100))) y;
    perform refuge.log_durably(jsonb_build_object('sensitive_read', jsonb_build_array(jsonb_build_object(
        'actor', refuge.caller(), 'kind', 'tracing_search', 'object_id', c.id, 'case_id', c.id, 'module', c.module,
        'individual_id', c.principal_id, 'operation_id', c.operation_id,
        'purpose', format('tracing search: %s people returned%s', cardinality(found_rows),
                          coalesce(' (' || (select string_agg(f.number, ', ') from unnest(found_rows) f) || ')', ''))))));
    return query select * from unnest(found_rows);
end
$$;
comment on function refuge.tracing_matches(uuid, integer) is
    'people who may be the person a tracing case seeks, through the demographic engine (names in any script and spelling, birth year, sex; score in tenths of the log10 likelihood ratio), logged';
grant execute on function refuge.tracing_matches(uuid, integer) to refuge_supervisor, refuge_assistance,
    refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection;

-- What an alert is about, as far as the caller may see (security invoker:
-- row-level security decides).  Null when the caller may not see it.
create function refuge.alert_details(alert_id uuid) returns jsonb
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    select coalesce(
        (select jsonb_build_object('alert_id', a.id, 'channel', 'refuge_case_alert', 'kind', a.kind,
                                   'severity', a.severity, 'message', a.message, 'to_role', a.to_role,
                                   'case_id', a.case_id, 'case_number', c.number, 'module', c.module,
                                   'state', a.state, 'due_at', a.due_at, 'raised_by', a.raised_by,
                                   'raised_at', a.raised_at, 'acknowledged_at', a.acknowledged_at)
           from refuge.case_alert a join refuge.process_case c on c.id = a.case_id
          where a.id = alert_details.alert_id),
        (select jsonb_build_object('alert_id', f.id, 'channel', 'refuge_fraud_alert', 'kind', f.kind,
                                   'status', f.status, 'individual_id', f.individual_id, 'other_id', f.other_id,
                                   'raised_by', f.raised_by, 'raised_at', f.raised_at)
           from refuge.fraud_alert f
          where f.id = alert_details.alert_id));
end;
comment on function refuge.alert_details(uuid) is
    'details of an alert whose id arrived by NOTIFY (refuge_case_alert, refuge_fraud_alert), as far as the caller may see it; null otherwise';
grant execute on function refuge.alert_details(uuid) to refuge_supervisor, refuge_biometrics_admin,
    refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection;

create function refuge.vulnerability_factors(case_id uuid, purpose text) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
begin
    perform refuge.authorize('refuge_registration', 'vulnerability_factors');
    select * into c from refuge.process_case p where p.id = vulnerability_factors.case_id;
    if not found or c.module <> 'VULNERABILITY' or not refuge.in_scope(c.operation_id, c.site_id) then
        perform refuge.raise_field('P0002', 'case_id', 'not found in your operations');
    end if;
    perform refuge.log_sensitive_read('vulnerability_assessment', c.id, c, purpose);
    return jsonb_build_object('case_id', c.id, 'number', c.number, 'needs',
        coalesce((select jsonb_object_agg(f.code, f.weight)
                    from refuge.vulnerability_factor f
                   where f.kind = 'NEED'
                     and exists (select 1 from refuge.case_member cm
                                   join refuge.specific_need n on n.individual_id = cm.individual_id
                                  where cm.case_id = c.id and n.category = f.code and n.active)), '{}'));
end
$$;
comment on function refuge.vulnerability_factors(uuid, text) is
    'the specific-need categories behind a vulnerability score, with their weights (registration staff and supervisors of the operation; logged)';
grant execute on function refuge.vulnerability_factors(uuid, text) to refuge_registration, refuge_supervisor;
