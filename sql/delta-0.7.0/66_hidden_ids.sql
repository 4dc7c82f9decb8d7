-- Identifiers of rows the caller may not see get the answer an unknown one
-- gets ("not found in your operations"), checked before any row is locked:
-- an alert's uuid arrives by NOTIFY, and a different error (or a wait on a
-- lock) for a hidden row would say it exists and what it is about.

create function refuge.require_visible(p_visible boolean, p_field text) returns void
    language plpgsql immutable
as $$
begin
    if not coalesce(p_visible, false) then
        perform refuge.raise_field('P0002', p_field, 'not found in your operations');
    end if;
end
$$;
comment on function refuge.require_visible(boolean, text) is
    'raise "<field>: not found in your operations" unless the row was found and is within the caller''s scope';

create or replace function refuge.decide_case_transfer(transfer_id uuid, decision text, reason text default null)
    returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    t refuge.case_transfer;
    c refuge.process_case;
begin
    if decision is null or decision not in ('ACCEPT', 'REJECT', 'CANCEL') then
        perform refuge.raise_field('22023', 'decision', format('"%s" is not ACCEPT, REJECT or CANCEL', refuge.excerpt(decision)));
    end if;
    select * into t from refuge.case_transfer x where x.id = transfer_id;
    select * into c from refuge.process_case p where p.id = t.case_id;
    -- who requested it, works the case, or works its module where it goes
    perform refuge.require_visible(t.id is not null and c.id is not null
        and (t.requested_by = refuge.caller() or refuge.may_work_case(c.module, c.operation_id, c.site_id)
             or refuge.may_work_case(c.module, t.to_operation, t.to_site)), 'transfer_id');
    select * into c from refuge.process_case p where p.id = t.case_id for update;
    select * into t from refuge.case_transfer x where x.id = transfer_id for update;
    if decision = 'CANCEL' then
        if t.requested_by <> refuge.caller() and not refuge.may_work_case(c.module, c.operation_id, c.site_id) then
            raise exception using errcode = '42501',
                message = format('decide_case_transfer: role %s may not cancel this transfer', refuge.caller());
        end if;
    elsif not refuge.may_work_case(c.module, t.to_operation, t.to_site) then
        raise exception using errcode = '42501',
            message = format('decide_case_transfer: role %s does not work %s cases in the receiving operation', refuge.caller(), c.module);
    end if;
    if t.status <> 'REQUESTED' then
        perform refuge.raise_field('55000', 'transfer_id', format('transfer %s is already %s', t.id, lower(t.status)));
    end if;
    update refuge.case_transfer x
       set status = case decision when 'ACCEPT' then 'ACCEPTED' when 'REJECT' then 'REJECTED' else 'CANCELLED' end,
           decided_by = refuge.caller(), decided_at = now(), decision_reason = decide_case_transfer.reason
     where x.id = t.id;
    if decision = 'ACCEPT' then
        update refuge.process_case p set operation_id = t.to_operation, site_id = t.to_site, assigned_to = null
         where p.id = c.id;
        update refuge.case_alert a set operation_id = t.to_operation where a.case_id = c.id and a.acknowledged_at is null;
    end if;
    perform refuge.note_case_event(c, 'TRANSFER_' || decision || case decision when 'CANCEL' then 'LED' else 'ED' end, reason,
        jsonb_build_object('transfer_id', t.id,
                           'from_operation', (select code from refuge.operation where id = t.from_operation),
                           'to_operation', (select code from refuge.operation where id = t.to_operation)));
    return jsonb_build_object('transfer_id', t.id, 'case_id', c.id, 'number', c.number,
                              'status', lower(decision) || case decision when 'CANCEL' then 'led' else 'ed' end);
end
$$;

create or replace function refuge.acknowledge_alert(alert_id uuid) returns void
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
    res := refuge.apply_transition(c, t, a.data, a.reason, a.requested_by, a.id);
    return res || jsonb_build_object('approved_by', refuge.caller());
end
$$;

create or replace function refuge.set_document_status(document_id uuid, status text) returns void
    language plpgsql security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    ind uuid;
begin
    perform refuge.authorize('refuge_registration', 'set_document_status');
    select d.individual_id into ind from refuge.document d where d.id = document_id;
    perform refuge.require_visible(exists (select 1 from refuge.individual i where i.id = ind
                                               and refuge.in_scope(i.operation_id, i.site_id)), 'document_id');
    perform refuge.individual_for_update(ind, 'refuge_registration', 'set_document_status');
    if status is null or status not in ('VALID', 'EXPIRED', 'LOST', 'CONFISCATED', 'CANCELLED') then
        perform refuge.raise_field('22023', 'status', format('unknown status %s', coalesce(quote_literal(status), 'null')),
                                   'one of VALID, EXPIRED, LOST, CONFISCATED, CANCELLED');
    end if;
    update refuge.document d set status = set_document_status.status where d.id = document_id;
end
$$;

create or replace function refuge.close_specific_need(need_id uuid, reason text, closed_on date default current_date)
    returns void
    language plpgsql security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    n refuge.specific_need;
begin
    perform refuge.authorize('refuge_registration', 'close_specific_need');
    select * into n from refuge.specific_need s where s.id = need_id;
    perform refuge.require_visible(exists (select 1 from refuge.individual i where i.id = n.individual_id
                                               and refuge.in_scope(i.operation_id, i.site_id)), 'need_id');
    perform refuge.individual_for_update(n.individual_id, 'refuge_registration', 'close_specific_need');
    if not n.active then
        perform refuge.raise_field('22023', 'need_id', format('specific need %s was already closed on %s', need_id, refuge.iso(n.closed_on)));
    end if;
    if nullif(btrim(reason), '') is null then
        perform refuge.raise_field('22004', 'reason', 'is required');
    end if;
    if closed_on is null or closed_on > current_date or closed_on < n.identified_on then
        perform refuge.raise_field('22008', 'closed_on',
            format('%s must be between the identification date %s and today', coalesce(refuge.iso(closed_on), 'null'), refuge.iso(n.identified_on)));
    end if;
    update refuge.specific_need s
       set active = false, closed_on = close_specific_need.closed_on, close_reason = btrim(reason)
     where s.id = need_id;
end
$$;

create or replace function refuge.approve_merge(case_id uuid, approve boolean, reason text default null) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    c refuge.dedup_case;
    cap refuge.biometric_capture;
    subject refuge.individual;
    target refuge.individual;
    membership refuge.group_membership;
    identity uuid;
begin
    perform refuge.authorize('refuge_supervisor', 'approve_merge');
    select * into c from refuge.dedup_case d where d.id = approve_merge.case_id;
    perform refuge.require_visible(c.id is not null and refuge.in_scope(c.operation_id, c.site_id), 'case_id');
    c := refuge.dedup_case_for_update(approve_merge.case_id);
    if c.status <> 'AWAITING_APPROVAL' then
        perform refuge.raise_field('55000', 'case_id', format('case %s is %s, not awaiting approval', c.id, lower(c.status)));
    end if;
    if approve is null then
        perform refuge.raise_field('22004', 'approve', 'is required (true or false)');
    end if;
    if c.decided_by = refuge.caller() and not refuge.caller_is_superuser() then
        perform refuge.raise_field('42501', 'case_id', 'the reviewer who proposed the merge cannot approve it');
    end if;
    if not approve then
        if nullif(btrim(reason), '') is null then
            perform refuge.raise_field('22004', 'reason', 'is required when a merge is rejected');
        end if;
        -- back to the reviewers, with the rejection on record
        update refuge.dedup_case d
           set status = 'OPEN', decision = null, decided_by = null, decided_at = null, matched_id = null,
               approval = 'rejected', approved_by = refuge.caller(), approved_at = now(),
               outcome = jsonb_build_object('rejected', btrim(reason))
         where d.id = c.id;
        return jsonb_build_object('case_id', c.id, 'approval', 'rejected', 'status', 'open');
    end if;

    select * into subject from refuge.individual i where i.id = c.individual_id for update;
    select * into target from refuge.individual i where i.id = c.matched_id;
    select * into membership from refuge.group_membership m where m.individual_id = subject.id and m.valid_to is null;
    if membership.relationship = 'PA' and exists (select 1 from refuge.group_membership m
            where m.group_id = membership.group_id and m.valid_to is null and m.individual_id <> subject.id) then
        perform refuge.raise_field('55000', 'case_id',
            format('%s is the principal of a family with other members; set another principal first', subject.number));
    end if;
    select * into cap from refuge.biometric_capture b where b.id = c.capture_id;
    perform refuge.enrolment_lock();
    identity := refuge.identity_of(c.matched_id);
    insert into refuge.biometric_enrolment (individual_id, identity_id, operation_id, site_id, capture_id, status)
    values (subject.id, identity, cap.operation_id, cap.site_id, cap.id, 'MERGED');
    -- the duplicate record stays, closed, with everything attached to it
    update refuge.individual i
       set status = 'DUPLICATE', status_date = current_date,
           status_reason = format('merged into %s (adjudication case %s)', target.number, c.id)
     where i.id = subject.id;
    if membership.id is not null then
        update refuge.group_membership m
           set valid_to = now(), end_reason = 'MERGE', comment = format('duplicate of %s', target.number)
         where m.id = membership.id;
    end if;
    update refuge.dedup_case d
       set status = 'CLOSED', approval = 'approved', approved_by = refuge.caller(), approved_at = now(),
           outcome = d.outcome || jsonb_build_object('identity_id', identity, 'merged_into', target.id)
     where d.id = c.id;
    return jsonb_build_object('case_id', c.id, 'approval', 'approved', 'merged_into', target.id, 'identity_id', identity);
end
$$;

create or replace function refuge.collect(distribution_id uuid, group_id uuid, collector_id uuid, templates jsonb) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    ev refuge.distribution_event;
    ent refuge.entitlement;
    who refuge.individual;
    p record;
    v refuge.biometric_verification;
    refusal text;
    alert uuid;
    first refuge.collection;
    new_id uuid;
begin
    perform refuge.authorize('refuge_assistance', 'collect');
    select * into ev from refuge.distribution_event d where d.id = collect.distribution_id;
    perform refuge.require_visible(ev.id is not null and refuge.in_scope(ev.operation_id, ev.site_id), 'distribution_id');
    if ev.status <> 'OPEN' then
        perform refuge.raise_field('55000', 'distribution_id', 'the distribution is closed');
    end if;
    -- one desk at a time per family: the entitlement row is the lock
    select * into ent from refuge.entitlement e where e.cycle_id = ev.cycle_id and e.group_id = collect.group_id for update;
    if not found then
        perform refuge.raise_field('P0002', 'group_id', format('family %s has no entitlement in this cycle', collect.group_id));
    end if;
    select * into who from refuge.individual i where i.id = collect.collector_id;
    -- someone of the caller's operations, or the family's principal or collector (who may live elsewhere)
    perform refuge.require_visible(who.id is not null
        and (refuge.in_scope(who.operation_id, who.site_id)
             or exists (select 1 from refuge.group_membership gm where gm.group_id = ent.group_id and gm.individual_id = who.id
                           and gm.valid_to is null)
             or exists (select 1 from refuge.collector c where c.group_id = ent.group_id and c.individual_id = who.id)),
        'collector_id');
    if templates is null then
        perform refuge.raise_field('22004', 'templates', 'is required: the collector''s fingerprints or irises');
    end if;
    p := refuge.parse_biometrics(templates, false);

    if not exists (select 1 from refuge.group_membership gm where gm.group_id = ent.group_id and gm.individual_id = who.id
                    and gm.valid_to is null and gm.relationship = 'PA')
       and not exists (select 1 from refuge.collector c where c.group_id = ent.group_id and c.individual_id = who.id
                        and c.valid_from <= current_date and (c.valid_to is null or c.valid_to >= current_date)) then
        refusal := 'not_authorised';
    else
        v := refuge.verify_person(who, p.fingers, p.irises, ev.site_id, 'collection', p.device);
        if v.identity_id is null then
            refusal := 'not_enrolled';
        elsif not v.match then
            refusal := 'verification_failed';
        elsif ent.status = 'COLLECTED' then
            refusal := 'already_collected';
            select * into first from refuge.collection c where c.entitlement_id = ent.id and c.outcome = 'COLLECTED';
            alert := refuge.raise_fraud_alert('second_collection', who.id, first.collector_id, null,
                jsonb_build_object('entitlement_id', ent.id, 'group_id', ent.group_id, 'distribution_id', ev.id,
                                   'first_collection_id', first.id, 'first_collected_at', first.collected_at));
        end if;
    end if;
    insert into refuge.collection (entitlement_id, event_id, group_id, collector_id, operation_id, site_id,
                                   verification_id, outcome, refusal, alert_id, collected_by)
    values (ent.id, ev.id, ent.group_id, who.id, ev.operation_id, ev.site_id, v.id,
            case when refusal is null then 'COLLECTED' else 'REFUSED' end, refusal, alert, refuge.caller())
    returning id into new_id;
    if refusal is null then
        update refuge.entitlement e set status = 'COLLECTED' where e.id = ent.id;
    end if;
    return jsonb_strip_nulls(jsonb_build_object(
        'decision', case when refusal is null then 'collected' else 'refused' end,
        'reason', refusal, 'collection_id', new_id, 'alert_id', alert,
        'items', case when refusal is null then ent.items end,
        'verification', case when v.id is not null then refuge.verification_json(v) end));
end
$$;

create or replace function refuge.authorise_collector(group_id uuid, individual_id uuid, reason text, valid_to date default null)
    returns uuid
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    g refuge.registration_group;
    ind refuge.individual;
    new_id uuid;
begin
    perform refuge.authorize('refuge_assistance', 'authorise_collector');
    select * into g from refuge.registration_group r where r.id = authorise_collector.group_id;
    perform refuge.require_visible(g.id is not null and refuge.in_scope(g.operation_id, g.site_id), 'group_id');
    select * into ind from refuge.individual i where i.id = authorise_collector.individual_id;
    if not found or not refuge.in_scope(ind.operation_id, ind.site_id) then
        perform refuge.raise_field('P0002', 'individual_id', 'not found in your operations');
    end if;
    if ind.status <> 'ACTIVE' then
        perform refuge.raise_field('55000', 'individual_id', format('%s has status %s', ind.number, ind.status));
    end if;
    if nullif(btrim(reason), '') is null then
        perform refuge.raise_field('22004', 'reason', 'is required (why this person collects for the family)');
    end if;
    if valid_to is not null and valid_to < current_date then
        perform refuge.raise_field('22008', 'valid_to', format('%s is in the past', refuge.iso(valid_to)));
    end if;
    insert into refuge.collector (group_id, individual_id, operation_id, site_id, valid_to, reason)
    values (g.id, ind.id, g.operation_id, g.site_id, authorise_collector.valid_to, btrim(reason))
    returning id into new_id;
    return new_id;
end
$$;

create or replace function refuge.open_distribution(cycle_id uuid, site text, held_on date default current_date) returns uuid
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    c refuge.assistance_cycle;
    sid uuid;
    new_id uuid;
begin
    perform refuge.authorize('refuge_assistance', 'open_distribution');
    select * into c from refuge.assistance_cycle a where a.id = open_distribution.cycle_id;
    perform refuge.require_visible(c.id is not null and refuge.in_scope(c.operation_id), 'cycle_id');
    select s.id into sid from refuge.site s where s.operation_id = c.operation_id and s.code = open_distribution.site;
    if sid is null then
        perform refuge.raise_field('23503', 'site', format('unknown site "%s" in this operation', coalesce(refuge.excerpt(site), 'null')));
    end if;
    perform refuge.authorize('refuge_assistance', 'open_distribution', c.operation_id, sid);
    if held_on is null or held_on not between c.starts_on and c.ends_on then
        perform refuge.raise_field('22008', 'held_on',
            format('%s is outside cycle %s (%s to %s)', coalesce(refuge.iso(held_on), 'null'), c.number,
                   refuge.iso(c.starts_on), refuge.iso(c.ends_on)));
    end if;
    insert into refuge.distribution_event (cycle_id, operation_id, site_id, held_on)
    values (c.id, c.operation_id, sid, held_on)
    returning id into new_id;
    return new_id;
end
$$;

create or replace function refuge.open_assistance_cycle(plan_id uuid, starts_on date, ends_on date) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    p refuge.assistance_plan;
    cycle_id uuid;
    num integer;
    n bigint;
begin
    perform refuge.authorize('refuge_assistance', 'open_assistance_cycle');
    select * into p from refuge.assistance_plan a where a.id = open_assistance_cycle.plan_id;
    perform refuge.require_visible(p.id is not null and refuge.in_scope(p.operation_id), 'plan_id');
    select * into p from refuge.assistance_plan a where a.id = open_assistance_cycle.plan_id for update;
    if p.status <> 'ACTIVE' then
        perform refuge.raise_field('55000', 'plan_id', format('plan %s is closed', p.code));
    end if;
    if starts_on is null or ends_on is null or ends_on < starts_on then
        perform refuge.raise_field('22008', 'ends_on', 'starts_on and ends_on are required, ends_on not before starts_on');
    end if;
    if exists (select 1 from refuge.assistance_cycle c where c.plan_id = p.id
                and daterange(c.starts_on, c.ends_on, '[]') && daterange(open_assistance_cycle.starts_on, open_assistance_cycle.ends_on, '[]')) then
        perform refuge.raise_field('22008', 'starts_on', 'the cycle overlaps an existing cycle of this plan');
    end if;
    select coalesce(max(c.number), 0) + 1 into num from refuge.assistance_cycle c where c.plan_id = p.id;
    insert into refuge.assistance_cycle (plan_id, operation_id, number, starts_on, ends_on)
    values (p.id, p.operation_id, num, open_assistance_cycle.starts_on, open_assistance_cycle.ends_on)
    returning id into cycle_id;
    insert into refuge.entitlement (cycle_id, group_id, operation_id, site_id, members, items)
    select cycle_id, g.id, g.operation_id, g.site_id, m.members,
           (select jsonb_object_agg(r.key, r.value::numeric * m.members) from jsonb_each(p.ration) r)
      from refuge.registration_group g
      cross join lateral (select count(*) as members,
                                 bool_or(gm.relationship = 'PA' and i.population_type = any (p.population_types)) as targeted
                            from refuge.group_membership gm join refuge.individual i on i.id = gm.individual_id
                           where gm.group_id = g.id and gm.valid_to is null and i.status = 'ACTIVE') m
     where g.operation_id = p.operation_id and g.status = 'ACTIVE'
       and (p.site_ids is null or g.site_id = any (p.site_ids))
       and m.members > 0 and m.targeted;
    get diagnostics n = row_count;
    return jsonb_build_object('cycle_id', cycle_id, 'number', num, 'entitlements', n);
end
$$;
