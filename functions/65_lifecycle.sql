-- The record over a refugee's life: status and population type follow the
-- decisions taken on the person (case rules, approved requests,
-- adjudication), every change is a dated period of refuge.status_history,
-- and a record that leaves (departure, death, rejection, duplicate) stops
-- receiving assistance at once.

-- The context of the status change the current statement makes: source,
-- reason, actor, approver, effective date, legal basis.  Kept in backend
-- memory by C (extension/status_context.c), never in a setting a caller
-- could set; each function that changes a status sets it just before and
-- clears it just after.
create function refuge.set_status_context(ctx text) returns void
    language c volatile
    as 'MODULE_PATHNAME', 'refuge_set_status_context';
comment on function refuge.set_status_context(text) is
    'internal: the context of the status change the next update of refuge.individual makes (null clears it)';
create function refuge.get_status_context() returns text
    language c stable
    as 'MODULE_PATHNAME', 'refuge_get_status_context';
comment on function refuge.get_status_context() is
    'internal: the context set by refuge.set_status_context in this transaction, or null';

-- AFTER INSERT OR UPDATE OF status, population_type on refuge.individual:
-- closes the period in force and opens the new one; a record that is no
-- longer active leaves the entitlements of open cycles, and a family with
-- nobody left closes.
create function refuge.record_status_history() returns trigger
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    -- a registration is described by nothing but itself
    ctx jsonb := case when tg_op = 'UPDATE' then coalesce(refuge.get_status_context()::jsonb, '{}') else '{}' end;
    prev refuge.status_history;
    eff date;
begin
    -- a bulk load (pg_restore, a migration) with row_security off brings
    -- its history with it, as it brings its audit trail
    if tg_op = 'INSERT' and not pg_catalog.current_setting('row_security')::boolean then
        return null;
    end if;
    if tg_op = 'UPDATE' and new.status = old.status and new.population_type = old.population_type
       and not ctx ? 'legal_basis' then
        return null;
    end if;
    if tg_op = 'INSERT' then
        eff := least(new.registration_date, current_date);
    else
        eff := least(coalesce((ctx ->> 'effective')::date, current_date), current_date);
        select * into prev from refuge.status_history h where h.individual_id = new.id and h.valid_to is null for update;
        if found then
            -- a period never ends before it began (an effective date older
            -- than the last change is recorded as the day of that change)
            eff := greatest(eff, prev.valid_from);
            update refuge.status_history h set valid_to = eff where h.id = prev.id;
        end if;
    end if;
    insert into refuge.status_history (individual_id, operation_id, site_id, status, population_type, legal_basis,
                                       recognised_by, valid_from, reason, source, source_id, actor, approved_by)
    values (new.id, new.operation_id, new.site_id, new.status, new.population_type,
            case when ctx ? 'legal_basis' then ctx ->> 'legal_basis'
                 when new.population_type = prev.population_type then prev.legal_basis end,
            case when ctx ? 'recognised_by' then ctx ->> 'recognised_by'
                 when new.population_type = prev.population_type then prev.recognised_by end,
            eff, coalesce(ctx ->> 'reason', new.status_reason),
            coalesce(ctx ->> 'source', case when tg_op = 'INSERT' then 'REGISTRATION' else 'DIRECT' end),
            (ctx ->> 'source_id')::uuid, coalesce(ctx ->> 'actor', refuge.caller()), ctx ->> 'approved_by');
    if tg_op = 'UPDATE' and new.status in ('CLOSED', 'DECEASED', 'DUPLICATE') and old.status <> new.status then
        update refuge.issued_document d
           set status = 'REVOKED', status_reason = format('the record is %s', lower(new.status)),
               ended_at = now(), ended_by = coalesce(ctx ->> 'actor', refuge.caller())
         where d.individual_id = new.id and d.status = 'VALID';
    end if;
    if tg_op = 'UPDATE' and new.population_type <> old.population_type then
        update refuge.issued_document d
           set status = 'REVOKED', status_reason = format('no longer %s', new.population_type),
               ended_at = now(), ended_by = coalesce(ctx ->> 'actor', refuge.caller())
          from refuge.document_kind k
         where d.individual_id = new.id and d.status = 'VALID' and k.code = d.kind
           and k.population_types is not null and not new.population_type = any (k.population_types);
    end if;
    if tg_op = 'UPDATE' and old.status = 'ACTIVE' and new.status <> 'ACTIVE' then
        perform refuge.drop_from_open_cycles(new.id);
        update refuge.registration_group g set status = 'CLOSED', status_date = current_date
          from refuge.group_membership gm
         where gm.individual_id = new.id and gm.valid_to is null and g.id = gm.group_id and g.status <> 'CLOSED'
           and not exists (select 1 from refuge.group_membership o join refuge.individual i on i.id = o.individual_id
                            where o.group_id = g.id and o.valid_to is null and i.status in ('ACTIVE', 'INACTIVE', 'HOLD'));
    end if;
    return null;
end
$$;
comment on function refuge.record_status_history() is
    'trigger: keeps refuge.status_history and takes a record that stops being active out of open assistance cycles';
create trigger status_history after insert or update of status, population_type on refuge.individual
    for each row execute function refuge.record_status_history();

-- Entitlements of cycles not yet ended are recounted without the members who
-- are no longer active; a family with none left loses the entitlement
-- (CANCELLED, so that collect refuses it).  Collected entitlements stay.
create function refuge.drop_from_open_cycles(p_individual uuid) returns integer
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    n integer;
begin
    with open_ent as (
        select e.id, e.members, p.ration,
               (select count(*) from refuge.group_membership gm join refuge.individual i on i.id = gm.individual_id
                 where gm.group_id = e.group_id and gm.valid_to is null and i.status = 'ACTIVE') as active
          from refuge.group_membership m
          join refuge.entitlement e on e.group_id = m.group_id and e.status = 'OPEN'
          join refuge.assistance_cycle c on c.id = e.cycle_id and c.ends_on >= current_date
          join refuge.assistance_plan p on p.id = c.plan_id
         where m.individual_id = p_individual and m.valid_to is null)
    update refuge.entitlement e
       set members = case when o.active > 0 then o.active else e.members end,
           items = case when o.active > 0
                        then (select jsonb_object_agg(r.key, r.value::numeric * o.active) from jsonb_each(o.ration) r)
                        else e.items end,
           status = case when o.active > 0 then e.status else 'CANCELLED' end
      from open_ent o
     where e.id = o.id and (o.active = 0 or o.active <> o.members);
    get diagnostics n = row_count;
    return n;
end
$$;
comment on function refuge.drop_from_open_cycles(uuid) is
    'internal: recounts the open entitlements of a person''s family without the members who are no longer active';

-- Change one person's status and population type with its context.
-- Returns whether anything changed.  A record closed as a duplicate changes
-- only through adjudication.
create function refuge.set_individual_status(p_ind refuge.individual, p_status text, p_type text, p_reason text,
                                             p_source text, p_source_id uuid, p_approved_by name,
                                             p_effective date default null, p_legal_basis text default null,
                                             p_recognised_by text default null, p_actor name default null)
    returns boolean
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    new_status text := coalesce(p_status, p_ind.status);
    new_type text := coalesce(p_type, p_ind.population_type);
    eff date := least(coalesce(p_effective, current_date), current_date);
begin
    if p_ind.status = 'DUPLICATE' and p_source <> 'ADJUDICATION' then
        return false;
    end if;
    -- (erasure writes the tombstone itself: no other path makes one)
    if new_status = 'ERASED' and p_ind.status <> 'ERASED' then
        perform refuge.raise_field('42501', 'status', 'ERASED is set by refuge.erase_individual only');
    end if;
    if p_ind.status in ('CLOSED', 'DECEASED') and p_source not in ('STATUS_CHANGE', 'ADJUDICATION') then
        return false;
    end if;
    if new_status = p_ind.status and new_type = p_ind.population_type and p_legal_basis is null then
        return false;
    end if;
    perform refuge.set_status_context(jsonb_strip_nulls(jsonb_build_object(
        'source', p_source, 'source_id', p_source_id, 'reason', p_reason, 'approved_by', p_approved_by,
        'effective', eff, 'legal_basis', p_legal_basis, 'recognised_by', p_recognised_by, 'actor', p_actor))::text);
    update refuge.individual i
       set status = new_status,
           status_date = case when new_status <> p_ind.status then eff else i.status_date end,
           status_reason = case when new_status <> p_ind.status then left(p_reason, 500) else i.status_reason end,
           population_type = new_type,
           population_type_date = case when new_type <> p_ind.population_type then eff else i.population_type_date end
     where i.id = p_ind.id;
    perform refuge.set_status_context(null);
    return true;
end
$$;
comment on function refuge.set_individual_status(refuge.individual, text, text, text, text, uuid, name, date, text, text, name) is
    'internal: changes a person''s status and population type, recording source, reason, approver and effective date';

-- After a case step: the rules that match it change the status and
-- population type of the case's members.  A change of population type
-- (legal standing) takes effect only when a second person approved the
-- decision it carries out (this step, or the case's last approved step);
-- otherwise it becomes a status-change request for a supervisor.
create function refuge.apply_status_rules(c refuge.process_case, p_action text, p_data jsonb, p_actor name,
                                          p_approval uuid)
    returns integer
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    rule refuge.status_rule;
    m refuge.individual;
    approver name;
    basis text;
    authority text;
    eff date;
    n integer := 0;
begin
    for rule in
        select distinct on (r.when_data) r.* from refuge.status_rule r
         where r.module = c.module and r.action = p_action
           and (r.operation_id is null or r.operation_id = c.operation_id)
           and not exists (select 1 from jsonb_each(r.when_data) w
                            where jsonb_typeof(w.value) <> 'array' or not (w.value ? coalesce(p_data ->> w.key, '')))
         order by r.when_data, r.operation_id nulls last
    loop
        -- the second person: who approved this step, or the decision it carries out
        approver := null;
        if p_approval is not null then
            select a.decided_by into approver from refuge.case_approval a where a.id = p_approval;
        elsif rule.approved_step is not null then
            select a.decided_by into approver from refuge.case_approval a
             where a.case_id = c.id and a.action = rule.approved_step and a.status = 'APPROVED' and a.decided_by <> p_actor
             order by a.decided_at desc limit 1;
        end if;
        basis := case when rule.to_population_type = 'REF'
                      then coalesce(p_data ->> rule.legal_basis_key, rule.default_legal_basis) end;
        authority := case when rule.to_population_type = 'REF'
                          then (select o.rsd_authority from refuge.operation o where o.id = c.operation_id) end;
        eff := case when rule.effective_key is not null and p_data ->> rule.effective_key ~ '^\d{4}-\d{2}-\d{2}$'
                    then (p_data ->> rule.effective_key)::date end;
        for m in select i.* from refuge.case_member cm join refuge.individual i on i.id = cm.individual_id
                  where cm.case_id = c.id order by i.id for update of i
        loop
            -- a record already closed (deceased, departed, a duplicate, erased) keeps its ending
            if m.status in ('CLOSED', 'DECEASED', 'DUPLICATE', 'ERASED') then
                continue;
            end if;
            if rule.to_population_type is not null and rule.to_population_type <> m.population_type
               and approver is null then
                if not exists (select 1 from refuge.status_change s where s.individual_id = m.id and s.status = 'REQUESTED') then
                    insert into refuge.status_change (individual_id, operation_id, site_id, from_status, to_status,
                                                      from_population_type, to_population_type, reason, requested_by,
                                                      effective_date, legal_basis)
                    values (m.id, m.operation_id, m.site_id, m.status, coalesce(rule.to_status, m.status), m.population_type,
                            rule.to_population_type, format('%s (case %s, %s)', rule.reason, c.number, p_action),
                            p_actor, eff, basis);
                end if;
                continue;
            end if;
            if refuge.set_individual_status(m, rule.to_status, rule.to_population_type,
                                            format('%s (case %s)', rule.reason, c.number), 'CASE', c.id,
                                            approver, eff, basis, authority, p_actor) then
                n := n + 1;
            end if;
        end loop;
    end loop;
    return n;
end
$$;
comment on function refuge.apply_status_rules(refuge.process_case, text, jsonb, name, uuid) is
    'internal: applies the status rules of a case step to the case''s members (refuge.status_rule)';

-- A person's status and population type on a date, from the history.
create function refuge.status_on(individual_id uuid, on_date date) returns jsonb
    language plpgsql stable security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    ind refuge.individual;
    h refuge.status_history;
begin
    perform refuge.authorize_any(array['refuge_registration', 'refuge_supervisor', 'refuge_rsd', 'refuge_resettlement',
                                       'refuge_protection']::name[], 'status_on');
    if on_date is null then
        perform refuge.raise_field('22004', 'on_date', 'is required');
    end if;
    select * into ind from refuge.individual i where i.id = status_on.individual_id;
    perform refuge.require_visible(ind.id is not null and refuge.in_scope(ind.operation_id, ind.site_id), 'individual_id');
    select * into h from refuge.status_history x
     where x.individual_id = ind.id and x.valid_from <= on_date and (x.valid_to is null or x.valid_to > on_date)
     order by x.valid_from desc, x.recorded_at desc limit 1;
    if not found then
        return jsonb_build_object('individual_id', ind.id, 'number', ind.number, 'on_date', on_date,
                                  'registered', false);
    end if;
    return jsonb_strip_nulls(jsonb_build_object(
        'individual_id', ind.id, 'number', ind.number, 'on_date', on_date, 'registered', true,
        'status', h.status, 'population_type', h.population_type, 'legal_basis', h.legal_basis,
        'recognised_by', h.recognised_by, 'since', h.valid_from, 'until', h.valid_to, 'reason', h.reason,
        'source', h.source, 'changed_by', h.actor, 'approved_by', h.approved_by));
end
$$;
comment on function refuge.status_on(uuid, date) is
    'a person''s status, population type and legal basis on a date (from refuge.status_history), with who changed and approved it';
grant execute on function refuge.status_on(uuid, date) to refuge_registration, refuge_supervisor, refuge_rsd,
    refuge_resettlement, refuge_protection;

-- Closing a record for a reason the case modules do not decide (death,
-- naturalisation, a departure recorded outside a case): a request that a
-- supervisor other than the requester approves, effective on the date given.
create function refuge.request_closure(individual_id uuid, reason text, effective_date date default null,
                                       comment text default null)
    returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    cur refuge.individual;
    codes constant text[] := array['DECEASED', 'NATURALISED', 'RESETTLED', 'VOLUNTARY_REPATRIATION',
                                   'SPONTANEOUS_RETURN', 'LOCAL_INTEGRATION', 'NO_LONGER_OF_CONCERN'];
    new_id uuid;
begin
    cur := refuge.individual_for_update(request_closure.individual_id, 'refuge_registration', 'request_closure');
    if reason is null or not reason = any (codes) then
        perform refuge.raise_field('22023', 'reason', format('"%s" is not one of %s', coalesce(left(reason, 40), 'null'),
                                                             array_to_string(codes, ', ')));
    end if;
    if effective_date is not null and (effective_date > current_date or effective_date < cur.registration_date) then
        perform refuge.raise_field('22008', 'effective_date',
            format('%s is not between the registration (%s) and today', to_char(effective_date, 'YYYY-MM-DD'),
                   to_char(cur.registration_date, 'YYYY-MM-DD')));
    end if;
    if cur.status in ('CLOSED', 'DECEASED', 'DUPLICATE') then
        perform refuge.raise_field('55000', 'individual_id', format('%s is already %s', cur.number, lower(cur.status)));
    end if;
    insert into refuge.status_change (individual_id, operation_id, site_id, from_status, to_status, from_population_type,
                                      to_population_type, reason, requested_by, effective_date)
    values (cur.id, cur.operation_id, cur.site_id, cur.status, case when reason = 'DECEASED' then 'DECEASED' else 'CLOSED' end,
            cur.population_type, cur.population_type,
            reason || coalesce(': ' || left(btrim(comment), 1900), ''), refuge.caller(), effective_date)
    returning id into new_id;
    return jsonb_build_object('change_id', new_id, 'number', cur.number, 'status', 'requested', 'reason', reason,
                              'effective_date', coalesce(effective_date, current_date));
exception when unique_violation then
    perform refuge.raise_field('23505', 'individual_id', format('%s already has a status change awaiting a decision', cur.number));
end
$$;
comment on function refuge.request_closure(uuid, text, date, text) is
    'request that a record be closed (DECEASED, NATURALISED, RESETTLED, VOLUNTARY_REPATRIATION, SPONTANEOUS_RETURN, LOCAL_INTEGRATION, NO_LONGER_OF_CONCERN) from a date; a supervisor other than the requester decides';
grant execute on function refuge.request_closure(uuid, text, date, text) to refuge_registration, refuge_supervisor;

-- An operation's policy for a case step: replaces the shipped rule with the
-- same step and condition (or adds one).  Administrators of the operation.
create function refuge.set_status_rule(operation text, module text, action text, when_data jsonb,
                                       to_status text, to_population_type text, reason text)
    returns integer
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
#variable_conflict use_column
declare
    op uuid;
    new_id integer;
begin
    perform refuge.authorize('refuge_admin', 'set_status_rule');
    select o.id into op from refuge.operation o where o.code = set_status_rule.operation;
    perform refuge.require_visible(op is not null and refuge.in_scope(op), 'operation');
    if not exists (select 1 from refuge.workflow_transition w where w.module = set_status_rule.module
                                                                and w.action = set_status_rule.action) then
        perform refuge.raise_field('22023', 'action', format('"%s" is not a step of %s cases',
                                   coalesce(left(set_status_rule.action, 40), 'null'), coalesce(left(set_status_rule.module, 40), 'null')));
    end if;
    if when_data is null or jsonb_typeof(when_data) <> 'object'
       or exists (select 1 from jsonb_each(when_data) w where jsonb_typeof(w.value) <> 'array') then
        perform refuge.raise_field('22023', 'when_data', 'expected an object of key -> array of accepted values');
    end if;
    perform refuge.require_text(reason, 'reason');
    if to_status is null and to_population_type is null then
        perform refuge.raise_field('22004', 'to_status', 'a rule changes the status, the population type or both');
    end if;
    if to_status in ('ACTIVE', 'DUPLICATE', 'ERASED') then
        perform refuge.raise_field('22023', 'to_status', format('%s is not set by a case decision', to_status));
    end if;
    insert into refuge.status_rule (operation_id, module, action, when_data, to_status, to_population_type, reason)
    values (op, set_status_rule.module, set_status_rule.action, when_data, to_status, to_population_type,
            left(btrim(reason), 200))
    on conflict (coalesce(operation_id, '00000000-0000-0000-0000-000000000000'::uuid), module, action, when_data)
    do update set to_status = excluded.to_status, to_population_type = excluded.to_population_type,
                  reason = excluded.reason
    returning id into new_id;
    return new_id;
end
$$;
comment on function refuge.set_status_rule(text, text, text, jsonb, text, text, text) is
    'an operation''s policy: how a case step (module, action, condition on its data) changes its members'' status and population type';
grant execute on function refuge.set_status_rule(text, text, text, jsonb, text, text, text) to refuge_admin;

-- Registration levels.  Whether a person's record holds a field a level
-- may require.
create function refuge.level_field_present(i refuge.individual, field text) returns boolean
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
    return case field
        when 'given_name' then i.given_name is not null
        when 'family_name' then i.family_name is not null
        when 'date_of_birth' then i.date_of_birth is not null
        when 'place_of_birth' then i.place_of_birth is not null
        when 'birth_country' then i.birth_country is not null
        when 'origin_country' then i.origin_country is not null
        when 'ethnicity' then i.ethnicity is not null
        when 'religion' then i.religion is not null
        when 'marital_status' then i.marital_status is not null
        when 'education_level' then i.education_level is not null
        when 'arrival_date' then i.arrival_date is not null
        when 'mother_name' then i.mother_name is not null
        when 'father_name' then i.father_name is not null
        when 'nationalities' then exists (select 1 from refuge.individual_nationality x where x.individual_id = i.id)
        when 'languages' then exists (select 1 from refuge.individual_language x where x.individual_id = i.id)
        when 'addresses' then exists (select 1 from refuge.individual_address x where x.individual_id = i.id)
        when 'contacts' then exists (select 1 from refuge.individual_contact x where x.individual_id = i.id)
        when 'flight_legs' then exists (select 1 from refuge.flight_leg x where x.individual_id = i.id)
        when 'documents' then exists (select 1 from refuge.document x where x.individual_id = i.id)
        when 'photo' then exists (select 1 from refuge.photo x where x.individual_id = i.id)
        when 'original_script_name' then exists (select 1 from refuge.individual_name x
                                                  where x.individual_id = i.id and x.kind = 'ORIGINAL_SCRIPT')
        when 'occupations' then exists (select 1 from refuge.individual_occupation x where x.individual_id = i.id)
        when 'education' then exists (select 1 from refuge.individual_education x where x.individual_id = i.id)
    end;
comment on function refuge.level_field_present(refuge.individual, text) is
    'internal: whether the record holds a field a registration level may require (refuge.level_requirement)';

-- Refuse a record that lacks what its registration level requires (path:
-- where the person came from in the caller's payload).  Runs after the
-- rows are written, inside the caller's transaction: a refusal writes nothing.
create function refuge.require_level(p_individual uuid, path text) returns void
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    i refuge.individual;
    principal boolean;
    adult boolean;
    missing text[];
begin
    select * into i from refuge.individual x where x.id = p_individual;
    if i.registration_level = 'GROUP_PRE' then
        perform refuge.raise_field('22023', path || '.registration_level',
            'group pre-registration counts heads and registers no individual: refuge.pre_register_group');
    end if;
    principal := exists (select 1 from refuge.group_membership gm where gm.individual_id = i.id and gm.valid_to is null
                                                                   and gm.relationship = 'PA');
    adult := i.date_of_birth is not null and age(current_date, i.date_of_birth) >= interval '18 years';
    select array_agg(q.field order by q.field) into missing from refuge.level_requirement q
     where q.level = i.registration_level
       and (q.who = 'ALL' or (q.who = 'PRINCIPAL' and principal) or (q.who = 'ADULT' and adult))
       and not refuge.level_field_present(i, q.field);
    if missing is not null then
        perform refuge.raise_field('22004', path || '.' || missing[1],
            format('is required at %s registration%s', i.registration_level,
                   case when cardinality(missing) > 1
                        then format(' (also missing: %s)', array_to_string(missing[2:], ', ')) else '' end));
    end if;
end
$$;
comment on function refuge.require_level(uuid, text) is
    'internal: refuses a record that lacks what its registration level requires';

-- Pre-register a group by head count: the token is what the family shows
-- until it is registered (register_group's pre_registration).  Token
-- letters are Crockford's base32 (no I, L, O, U), random, not a number.
create function refuge.pre_register_group(operation text, site text, head_count integer, details jsonb default '{}')
    returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    op refuge.operation;
    st refuge.site;
    tok text;
    alphabet constant text := '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
    b bytea;
    new_id uuid;
begin
    perform refuge.authorize('refuge_registration', 'pre_register_group');
    select * into op from refuge.operation o where o.code = pre_register_group.operation and o.active;
    perform refuge.require_visible(op.id is not null, 'operation');
    select * into st from refuge.site s where s.operation_id = op.id and s.code = pre_register_group.site and s.active;
    perform refuge.require_visible(st.id is not null, 'site');
    perform refuge.authorize('refuge_registration', 'pre_register_group', op.id, st.id);
    if head_count is null or head_count < 1 or head_count > 100 then
        perform refuge.raise_field('22023', 'head_count', format('%s is not a group size (1 to 100)', coalesce(head_count::text, 'null')));
    end if;
    details := coalesce(details, '{}');
    perform refuge.arg_fields(details, 'details', array['females', 'children', 'contact_name', 'origin_country', 'arrival_date']);
    -- the random bytes of a version-4 UUID (bytes 6 and 8 carry its version and variant)
    b := uuid_send(gen_random_uuid());
    tok := op.code || '-P-' || (select string_agg(substr(alphabet, get_byte(b, g) % 32 + 1, 1), '' order by g)
                                 from generate_series(0, 3) g)
                   || '-' || (select string_agg(substr(alphabet, get_byte(b, g) % 32 + 1, 1), '' order by g)
                                from generate_series(10, 13) g);
    insert into refuge.pre_registration (token, operation_id, site_id, head_count, females, children, contact_name,
                                         origin_country, arrival_date)
    values (tok, op.id, st.id, head_count, (details ->> 'females')::integer, (details ->> 'children')::integer,
            refuge.arg_text(details, 'contact_name', 'details', false, 200),
            refuge.arg_code(details, 'origin_country', 'details', 'country'),
            refuge.arg_date(details, 'arrival_date', 'details'))
    returning id into new_id;
    return jsonb_build_object('pre_registration_id', new_id, 'token', tok, 'head_count', head_count);
exception
    when check_violation then
        perform refuge.raise_field('22023', 'details', 'females and children are counts within the head count');
    when invalid_text_representation then
        perform refuge.raise_field('22023', 'details', 'females and children are whole numbers');
end
$$;
comment on function refuge.pre_register_group(text, text, integer, jsonb) is
    'pre-register a group by head count (details: females, children, contact_name, origin_country, arrival_date); returns a provisional token, not a registration number';
grant execute on function refuge.pre_register_group(text, text, integer, jsonb) to refuge_registration;

-- Head counts still awaiting individual registration, per site.
create function refuge.pre_registration_summary(operation text)
    returns table (site text, groups bigint, people bigint, oldest date)
    language sql stable security definer
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    select s.code, count(*), sum(p.head_count), min(p.created_at)::date
      from refuge.pre_registration p
      join refuge.site s on s.id = p.site_id
      join refuge.operation o on o.id = p.operation_id
     where o.code = pre_registration_summary.operation and p.group_id is null
       and refuge.in_scope(p.operation_id, p.site_id)
     group by s.code
     order by s.code;
end;
comment on function refuge.pre_registration_summary(text) is
    'groups and people pre-registered by head count and not yet registered, per site of the operation';
grant execute on function refuge.pre_registration_summary(text) to refuge_registration, refuge_supervisor;
