-- Assistance: plans, cycles, collectors, distributions, verified collection.

-- Assistance: plans, cycles with entitlements, distributions, and collection
-- by a biometrically verified collector (the family's principal
-- representative or an authorised alternate).  A second collection in the
-- same cycle is refused and raises a fraud alert.
create function refuge.create_assistance_plan(plan jsonb) returns uuid
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    op refuge.operation;
    op_code text;
    modality text;
    ration jsonb;
    k text;
    v jsonb;
    types text[];
    sites uuid[];
    site_code text;
    sid uuid;
    new_id uuid;
begin
    perform refuge.arg_fields(plan, 'plan', array['operation', 'code', 'name', 'modality', 'ration', 'population_types',
                                                  'sites', 'starts_on', 'ends_on']);
    op_code := refuge.arg_text(plan, 'operation', 'plan', true, 10);
    select * into op from refuge.operation o where o.code = op_code;
    if not found then
        perform refuge.raise_field('23503', 'plan.operation', format('unknown operation "%s"', op_code));
    end if;
    perform refuge.authorize('refuge_assistance', 'create_assistance_plan', op.id);
    modality := coalesce(refuge.arg_text(plan, 'modality', 'plan', false, 20), 'IN_KIND');
    if modality not in ('IN_KIND', 'CASH', 'VOUCHER') then
        perform refuge.raise_field('22023', 'plan.modality', format('"%s" is not IN_KIND, CASH or VOUCHER', modality));
    end if;
    ration := plan -> 'ration';
    if ration is null or jsonb_typeof(ration) <> 'object' or ration = '{}' then
        perform refuge.raise_field('22023', 'plan.ration', 'expected an object of quantities per person, e.g. {"maize_kg": 12}');
    end if;
    for k, v in select * from jsonb_each(ration) loop
        if jsonb_typeof(v) <> 'number' or v::numeric <= 0 then
            perform refuge.raise_field('22023', 'plan.ration.' || k, format('%s is not a positive quantity', v));
        end if;
    end loop;
    if jsonb_typeof(plan -> 'population_types') is distinct from 'array' or jsonb_array_length(plan -> 'population_types') = 0 then
        perform refuge.raise_field('22004', 'plan.population_types', 'is required: the population types targeted');
    end if;
    for i in 0 .. jsonb_array_length(plan -> 'population_types') - 1 loop
        perform refuge.arg_code(jsonb_build_object('t', plan -> 'population_types' -> i), 't',
                                format('plan.population_types[%s]', i), 'population_type', true);
        types := types || (plan -> 'population_types' ->> i);
    end loop;
    if plan ? 'sites' then
        for i in 0 .. coalesce(jsonb_array_length(refuge.arg_array(plan, 'sites', 'plan', 1000)), 0) - 1 loop
            site_code := plan -> 'sites' ->> i;
            select s.id into sid from refuge.site s where s.operation_id = op.id and s.code = site_code;
            if sid is null then
                perform refuge.raise_field('23503', format('plan.sites[%s]', i), format('unknown site "%s" in %s', site_code, op.code));
            end if;
            sites := sites || sid;
        end loop;
    end if;
    insert into refuge.assistance_plan (operation_id, code, name, modality, ration, population_types, site_ids,
                                        starts_on, ends_on)
    values (op.id, refuge.arg_text(plan, 'code', 'plan', true, 40), refuge.arg_text(plan, 'name', 'plan', true),
            modality, ration, types, sites,
            coalesce(refuge.arg_date(plan, 'starts_on', 'plan', false, false), current_date),
            refuge.arg_date(plan, 'ends_on', 'plan', false, false))
    returning id into new_id;
    return new_id;
exception when unique_violation then
    perform refuge.raise_field('23505', 'plan.code', format('"%s" already exists in %s', plan ->> 'code', op.code));
end
$$;
comment on function refuge.create_assistance_plan(jsonb) is
    'create an assistance plan (code, modality, ration per person, population types, sites, dates); returns its id';
grant execute on function refuge.create_assistance_plan(jsonb) to refuge_assistance;

create function refuge.open_assistance_cycle(plan_id uuid, starts_on date, ends_on date) returns jsonb
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
comment on function refuge.open_assistance_cycle(uuid, date, date) is
    'open a cycle of an assistance plan: entitlements for every targeted family';
grant execute on function refuge.open_assistance_cycle(uuid, date, date) to refuge_assistance;

create function refuge.authorise_collector(group_id uuid, individual_id uuid, reason text, valid_to date default null)
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
comment on function refuge.authorise_collector(uuid, uuid, text, date) is
    'authorise someone to collect assistance for a family (besides the principal), until a date';
grant execute on function refuge.authorise_collector(uuid, uuid, text, date) to refuge_assistance;

create function refuge.open_distribution(cycle_id uuid, site text, held_on date default current_date) returns uuid
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
comment on function refuge.open_distribution(uuid, text, date) is
    'open a distribution of a cycle at a site on a day';
grant execute on function refuge.open_distribution(uuid, text, date) to refuge_assistance;

create function refuge.collect(distribution_id uuid, group_id uuid, collector_id uuid, templates jsonb) returns jsonb
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
    -- where an operation bases assistance on consent, a withdrawal stops collection at once
    perform refuge.require_consent(who.id, 'ASSISTANCE', 'collector_id');
    if templates is null then
        perform refuge.raise_field('22004', 'templates', 'is required: the collector''s fingerprints or irises');
    end if;
    p := refuge.parse_biometrics(templates, false);

    if not exists (select 1 from refuge.group_membership gm where gm.group_id = ent.group_id and gm.individual_id = who.id
                    and gm.valid_to is null and gm.relationship = 'PA')
       and not exists (select 1 from refuge.collector c where c.group_id = ent.group_id and c.individual_id = who.id
                        and c.valid_from <= current_date and (c.valid_to is null or c.valid_to >= current_date)) then
        refusal := 'not_authorised';
    elsif ent.status = 'CANCELLED' then
        -- nobody of the family is active any more (departed, deceased, closed)
        refusal := 'entitlement_cancelled';
    elsif who.status <> 'ACTIVE' then
        refusal := 'collector_not_active';
    else
        v := refuge.verify_person(who, p.fingers, p.irises, ev.site_id, 'collection', p.device);
        if v.identity_id is null then
            refusal := 'not_enrolled';
        elsif not v.match then
            refusal := 'verification_failed';
        elsif (select o.assistance_waits_for_global_check from refuge.operation o where o.id = ev.operation_id)
              and refuge.sync_decision(who.id) is distinct from 'enrolled' then
            -- enrolled at a field site and not yet searched against everyone (or found twice)
            refusal := 'global_check_pending';
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
comment on function refuge.collect(uuid, uuid, uuid, jsonb) is
    'collection at a distribution: the collector must be the principal or an authorised alternate and pass 1:1 verification; a second collection in the cycle is refused with a fraud alert';
grant execute on function refuge.collect(uuid, uuid, uuid, jsonb) to refuge_assistance;
