-- Family changes: principal representative, split, merge, move.

-- Moving people between registration groups: move, split, merge.  Closing a
-- membership and opening the next keeps the history; a group left empty is
-- closed.  These need a supervisor.
create function refuge.group_for_update(p_group uuid, p_action text, p_field text) returns refuge.registration_group
    language plpgsql
as $$
declare
    g refuge.registration_group;
begin
    select * into g from refuge.registration_group rg where rg.id = p_group for update;
    if not found or not refuge.in_scope(g.operation_id, g.site_id) then
        perform refuge.raise_field('P0002', p_field, format('no registration group %s in your operations', p_group));
    end if;
    if g.status <> 'ACTIVE' then
        perform refuge.raise_field('22023', p_field, format('group %s is %s', g.number, g.status));
    end if;
    return g;
end
$$;

-- Move individuals (all current members of p_from) into p_to with the given
-- relationships ({"<individual id>": "SON", ...}; missing ones become U, "to be
-- defined").  Then check both groups keep exactly one principal representative.
create function refuge.move_members(p_from refuge.registration_group, p_to refuge.registration_group,
                                    p_individuals uuid[], p_relationships jsonb, p_kind text, p_reason text)
    returns void
    language plpgsql
as $$
declare
    ind uuid;
    rel text;
    k text;
    left_over integer;
begin
    if p_to.operation_id <> p_from.operation_id then
        perform refuge.raise_field('22023', 'to_group',
            format('group %s is in another operation; transfers between operations are a separate procedure', p_to.number));
    end if;
    for k in select jsonb_object_keys(coalesce(p_relationships, '{}')) loop
        if k::text !~* '^[0-9a-f-]{36}$' or not (k::uuid = any (p_individuals)) then
            perform refuge.raise_field('22023', 'relationships', format('"%s" is not one of the individuals being moved', k));
        end if;
        perform refuge.arg_code(p_relationships, k, 'relationships', 'relationship', true);
    end loop;
    foreach ind in array p_individuals loop
        if not exists (select 1 from refuge.group_membership gm
                        where gm.individual_id = ind and gm.group_id = p_from.id and gm.valid_to is null) then
            perform refuge.raise_field('22023', 'individual_ids',
                format('%s is not a current member of group %s', ind, p_from.number));
        end if;
        rel := coalesce(p_relationships ->> ind::text, 'U');
        if rel = 'PA' and exists (select 1 from refuge.group_membership gm
                                   where gm.group_id = p_to.id and gm.valid_to is null and gm.relationship = 'PA') then
            perform refuge.raise_field('23514', 'relationships',
                format('group %s already has a principal representative; change it with set_principal first', p_to.number));
        end if;
        update refuge.group_membership gm set valid_to = now(), end_reason = p_kind
         where gm.individual_id = ind and gm.valid_to is null;
        insert into refuge.group_membership (group_id, individual_id, relationship, start_reason, comment)
        values (p_to.id, ind, rel, p_kind, p_reason);
        update refuge.individual i set site_id = p_to.site_id where i.id = ind and i.site_id <> p_to.site_id;
    end loop;
    perform refuge.check_principal(p_to);
    select count(*) into left_over from refuge.group_membership gm where gm.group_id = p_from.id and gm.valid_to is null;
    if left_over = 0 then
        update refuge.registration_group rg set status = 'CLOSED', status_date = current_date where rg.id = p_from.id;
    else
        perform refuge.check_principal(p_from);
    end if;
end
$$;

create function refuge.check_principal(g refuge.registration_group) returns void
    language plpgsql
as $$
declare
    n integer;
begin
    select count(*) into n from refuge.group_membership gm
     where gm.group_id = g.id and gm.valid_to is null and gm.relationship = 'PA';
    if n <> 1 then
        perform refuge.raise_field('23514', 'relationships',
            format('group %s would have %s principal representatives; it needs exactly one', g.number, n));
    end if;
end
$$;

-- Make another current member the principal representative; the former one
-- takes the given relationship.
create function refuge.set_principal(group_id uuid, individual_id uuid, former_principal_relationship text)
    returns void
    language plpgsql security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    g refuge.registration_group;
begin
    perform refuge.authorize('refuge_registration', 'set_principal');
    g := refuge.group_for_update(set_principal.group_id, 'set_principal', 'group_id');
    perform refuge.arg_code(jsonb_build_object('r', former_principal_relationship), 'r',
                            'former_principal_relationship', 'relationship', true);
    if former_principal_relationship = 'PA' then
        perform refuge.raise_field('22023', 'former_principal_relationship', 'must not be PA');
    end if;
    if not exists (select 1 from refuge.group_membership gm
                    where gm.group_id = g.id and gm.individual_id = set_principal.individual_id
                      and gm.valid_to is null and gm.relationship <> 'PA') then
        perform refuge.raise_field('22023', 'individual_id',
            format('%s is not a current member of group %s other than its principal representative', individual_id, g.number));
    end if;
    update refuge.group_membership gm set relationship = former_principal_relationship
     where gm.group_id = g.id and gm.valid_to is null and gm.relationship = 'PA';
    update refuge.group_membership gm set relationship = 'PA'
     where gm.group_id = g.id and gm.valid_to is null and gm.individual_id = set_principal.individual_id;
end
$$;
comment on function refuge.set_principal(uuid, uuid, text) is
    'make another member the family''s principal representative (supervisors)';
grant execute on function refuge.set_principal(uuid, uuid, text) to refuge_registration;

-- Split: the listed members leave group_id for a new group at the same site.
-- members = [{"individual_id": .., "relationship": "PA"}, ...] with exactly one PA.
create function refuge.split_group(group_id uuid, members jsonb, reason text) returns jsonb
    language plpgsql security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    g refuge.registration_group;
    ng refuge.registration_group;
    ids uuid[];
    rels jsonb := '{}';
    e jsonb;
    i integer;
    num text;
begin
    perform refuge.authorize('refuge_supervisor', 'split_group');
    g := refuge.group_for_update(split_group.group_id, 'split_group', 'group_id');
    perform refuge.authorize('refuge_supervisor', 'split_group', g.operation_id, g.site_id);
    if nullif(btrim(reason), '') is null then
        perform refuge.raise_field('22004', 'reason', 'is required');
    end if;
    members := refuge.arg_array(jsonb_build_object('members', members), 'members', 'split', 100);
    if jsonb_array_length(members) = 0 then
        perform refuge.raise_field('22004', 'members', 'at least one member must leave the group');
    end if;
    for i in 0 .. jsonb_array_length(members) - 1 loop
        e := members -> i;
        perform refuge.arg_fields(e, format('members[%s]', i), array['individual_id', 'relationship']);
        ids := ids || refuge.arg_uuid(e, 'individual_id', format('members[%s]', i), true);
        rels := rels || jsonb_build_object(e ->> 'individual_id',
                    refuge.arg_code(e, 'relationship', format('members[%s]', i), 'relationship', true));
    end loop;
    num := (refuge.next_numbers(g.operation_id, 1))[1];
    insert into refuge.registration_group (number, operation_id, site_id, arrival_date)
    values (num, g.operation_id, g.site_id, g.arrival_date)
    returning * into ng;
    perform refuge.move_members(g, ng, ids, rels, 'SPLIT', reason);
    return jsonb_build_object('group_id', ng.id, 'group_number', ng.number, 'from_group_id', g.id);
end
$$;
comment on function refuge.split_group(uuid, jsonb, text) is
    'split members off a family into a new one (supervisors)';
grant execute on function refuge.split_group(uuid, jsonb, text) to refuge_supervisor;

-- Merge: every current member of source_group joins target_group, with
-- relationships to the target's principal representative; source is closed.
create function refuge.merge_groups(target_group uuid, source_group uuid, relationships jsonb, reason text)
    returns jsonb
    language plpgsql security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    t refuge.registration_group;
    s refuge.registration_group;
    ids uuid[];
begin
    perform refuge.authorize('refuge_supervisor', 'merge_groups');
    if target_group = source_group then
        perform refuge.raise_field('22023', 'source_group', 'is the same as target_group');
    end if;
    -- lock both in id order so two opposite merges cannot deadlock
    perform 1 from refuge.registration_group rg where rg.id in (target_group, source_group) order by rg.id for update;
    t := refuge.group_for_update(target_group, 'merge_groups', 'target_group');
    s := refuge.group_for_update(source_group, 'merge_groups', 'source_group');
    perform refuge.authorize('refuge_supervisor', 'merge_groups', t.operation_id, t.site_id);
    perform refuge.authorize('refuge_supervisor', 'merge_groups', s.operation_id, s.site_id);
    if nullif(btrim(reason), '') is null then
        perform refuge.raise_field('22004', 'reason', 'is required');
    end if;
    if jsonb_typeof(coalesce(relationships, '{}')) <> 'object' then
        perform refuge.raise_field('22023', 'relationships', 'expected an object {"<individual id>": "<relationship code>"}');
    end if;
    select array_agg(gm.individual_id) into ids from refuge.group_membership gm
     where gm.group_id = s.id and gm.valid_to is null;
    perform refuge.move_members(s, t, ids, relationships, 'MERGE', reason);
    return jsonb_build_object('group_id', t.id, 'group_number', t.number, 'closed_group_id', s.id,
                              'moved', to_jsonb(ids));
end
$$;
comment on function refuge.merge_groups(uuid, uuid, jsonb, text) is
    'merge one family into another with the members'' new relationships (supervisors)';
grant execute on function refuge.merge_groups(uuid, uuid, jsonb, text) to refuge_supervisor;

-- Move one person to another group of the same operation.
create function refuge.move_individual(individual_id uuid, to_group uuid, relationship text, reason text)
    returns void
    language plpgsql security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    f refuge.registration_group;
    t refuge.registration_group;
    from_id uuid;
begin
    perform refuge.authorize('refuge_supervisor', 'move_individual');
    select gm.group_id into from_id from refuge.group_membership gm
     where gm.individual_id = move_individual.individual_id and gm.valid_to is null;
    if from_id is null then
        perform refuge.raise_field('P0002', 'individual_id', format('no individual %s in a group', individual_id));
    end if;
    if from_id = to_group then
        perform refuge.raise_field('22023', 'to_group', 'the individual is already a member of this group');
    end if;
    -- lock both in id order so two opposite moves cannot deadlock
    perform 1 from refuge.registration_group rg where rg.id in (from_id, to_group) order by rg.id for update;
    f := refuge.group_for_update(from_id, 'move_individual', 'individual_id');
    t := refuge.group_for_update(to_group, 'move_individual', 'to_group');
    perform refuge.authorize('refuge_supervisor', 'move_individual', f.operation_id, f.site_id);
    perform refuge.authorize('refuge_supervisor', 'move_individual', t.operation_id, t.site_id);
    if nullif(btrim(reason), '') is null then
        perform refuge.raise_field('22004', 'reason', 'is required');
    end if;
    perform refuge.move_members(f, t, array[individual_id], jsonb_build_object(individual_id::text, relationship),
                                'MOVE', reason);
end
$$;
comment on function refuge.move_individual(uuid, uuid, text, text) is
    'move a person to another family with their relationship there (supervisors)';
grant execute on function refuge.move_individual(uuid, uuid, text, text) to refuge_supervisor;
