-- Status and legal standing are not one person's edit.  A registration
-- clerk moves a record between ACTIVE, INACTIVE and HOLD (seen again, not
-- seen at verification); closing it, reopening it, or changing its
-- population type (asylum-seeker to refugee, ...) is requested with
-- refuge.request_status_change() and takes effect when a supervisor of the
-- operation, not the requester, approves it.  A record closed as a
-- duplicate by adjudication changes only through adjudication.

create table refuge.status_change (
    id                   uuid primary key default gen_random_uuid(),
    individual_id        uuid not null references refuge.individual,
    operation_id         uuid not null references refuge.operation,
    site_id              uuid not null,
    from_status          text not null,
    to_status            text not null,
    from_population_type text not null,
    to_population_type   text not null,
    reason               text not null,
    status               text not null default 'REQUESTED' check (status in ('REQUESTED', 'APPROVED', 'REJECTED')),
    requested_by         name not null,
    requested_at         timestamptz not null default now(),
    decided_by           name,
    decided_at           timestamptz,
    decision_comment     text,
    created_at           timestamptz not null default now(),
    created_by           name not null default current_user,
    updated_at           timestamptz not null default now(),
    updated_by           name not null default current_user,
    foreign key (operation_id, site_id) references refuge.site (operation_id, id),
    check ((status = 'REQUESTED') = (decided_by is null))
);
create unique index status_change_one_pending on refuge.status_change (individual_id) where status = 'REQUESTED';
create index on refuge.status_change (operation_id, status);
comment on table refuge.status_change is 'requested changes of an individual''s status or population type, decided by a supervisor who is not the requester';
insert into refuge.audit_scope (table_name, class) values ('status_change', 'registration');
create trigger stamp before insert or update on refuge.status_change
    for each row execute function refuge.stamp_row();
create trigger audit after insert or update or delete on refuge.status_change
    for each row execute function refuge.audit_row('self');
create trigger audit_flush after insert or update or delete on refuge.status_change
    for each statement execute function refuge.audit_flush();
create trigger no_truncate before truncate on refuge.status_change
    for each statement execute function refuge.refuse_truncate();
alter table refuge.status_change enable always trigger stamp;
alter table refuge.status_change enable always trigger audit;
alter table refuge.status_change enable always trigger audit_flush;
alter table refuge.status_change enable always trigger no_truncate;
select pg_catalog.pg_extension_config_dump('refuge.status_change', '');

create function refuge.request_status_change(individual_id uuid, status text default null,
                                             population_type text default null, reason text default null)
    returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    cur refuge.individual;
    new_status text;
    new_type text;
    new_id uuid;
begin
    cur := refuge.individual_for_update(request_status_change.individual_id, 'refuge_registration', 'request_status_change');
    new_status := coalesce(status, cur.status);
    new_type := coalesce(population_type, cur.population_type);
    if not refuge.code_exists('individual_status', new_status) then
        perform refuge.raise_field('23503', 'status', format('unknown code "%s"', left(new_status, 40)));
    end if;
    if not refuge.code_exists('population_type', new_type) then
        perform refuge.raise_field('23503', 'population_type', format('unknown code "%s"', left(new_type, 40)));
    end if;
    if new_status = cur.status and new_type = cur.population_type then
        perform refuge.raise_field('22023', 'status', format('%s is already %s, %s', cur.number, cur.status, cur.population_type));
    end if;
    if cur.status = 'DUPLICATE' or new_status = 'DUPLICATE' then
        perform refuge.raise_field('42501', 'status',
            format('%s: a record closed as a duplicate changes only through adjudication (refuge.adjudicate)', cur.number));
    end if;
    perform refuge.require_text(reason, 'reason');
    insert into refuge.status_change (individual_id, operation_id, site_id, from_status, to_status, from_population_type,
                                      to_population_type, reason, requested_by)
    values (cur.id, cur.operation_id, cur.site_id, cur.status, new_status, cur.population_type, new_type,
            left(btrim(reason), 2000), refuge.caller())
    returning id into new_id;
    return jsonb_build_object('change_id', new_id, 'number', cur.number, 'status', 'requested',
                              'from', jsonb_build_object('status', cur.status, 'population_type', cur.population_type),
                              'to', jsonb_build_object('status', new_status, 'population_type', new_type));
exception when unique_violation then
    perform refuge.raise_field('23505', 'individual_id', format('%s already has a status change awaiting a decision', cur.number));
end
$$;
comment on function refuge.request_status_change(uuid, text, text, text) is
    'request a change of an individual''s status or population type; a supervisor of the operation who is not the requester decides';

create function refuge.decide_status_change(change_id uuid, approve boolean, comment text default null) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    ch refuge.status_change;
    cur refuge.individual;
begin
    perform refuge.authorize('refuge_supervisor', 'decide_status_change');
    if approve is null then
        perform refuge.raise_field('22004', 'approve', 'is required (true or false)');
    end if;
    select * into ch from refuge.status_change x where x.id = change_id;
    if not found or not refuge.in_scope(ch.operation_id, ch.site_id) then
        perform refuge.raise_field('P0002', 'change_id', 'not found in your operations');
    end if;
    cur := refuge.individual_for_update(ch.individual_id, 'refuge_supervisor', 'decide_status_change');
    select * into ch from refuge.status_change x where x.id = change_id for update;
    if ch.status <> 'REQUESTED' then
        perform refuge.raise_field('55000', 'change_id', format('already %s', lower(ch.status)));
    end if;
    if ch.requested_by = refuge.caller() then
        perform refuge.raise_field('42501', 'change_id', 'the requester may not decide their own request');
    end if;
    if approve and (cur.status <> ch.from_status or cur.population_type <> ch.from_population_type) then
        perform refuge.raise_field('55000', 'change_id',
            format('%s changed since the request (now %s, %s): reject it and request again', cur.number, cur.status, cur.population_type));
    end if;
    update refuge.status_change x set status = case when approve then 'APPROVED' else 'REJECTED' end,
           decided_by = refuge.caller(), decided_at = now(), decision_comment = comment
     where x.id = ch.id;
    if approve then
        update refuge.individual i
           set status = ch.to_status,
               status_date = case when ch.to_status <> cur.status then current_date else i.status_date end,
               status_reason = case when ch.to_status <> cur.status then ch.reason else i.status_reason end,
               population_type = ch.to_population_type,
               population_type_date = case when ch.to_population_type <> cur.population_type then current_date
                                           else i.population_type_date end
         where i.id = cur.id;
    end if;
    return jsonb_build_object('change_id', ch.id, 'number', cur.number,
                              'decision', case when approve then 'approved' else 'rejected' end);
end
$$;
comment on function refuge.decide_status_change(uuid, boolean, text) is
    'a supervisor of the operation (not the requester) approves or rejects a requested change of status or population type';

-- The record is read without a lock until the caller's scope is known.
create or replace function refuge.individual_for_update(p_individual uuid, p_role name, p_action text)
    returns refuge.individual
    language plpgsql
as $$
declare
    r refuge.individual;
begin
    perform refuge.authorize(p_role, p_action);
    if p_individual is null then
        perform refuge.raise_field('22004', 'individual_id', 'is required');
    end if;
    select * into r from refuge.individual i where i.id = p_individual;
    if not found or not refuge.in_scope(r.operation_id, r.site_id) then
        perform refuge.raise_field('P0002', 'individual_id', 'not found in your operations');
    end if;
    select * into r from refuge.individual i where i.id = p_individual for update;
    return r;
end
$$;

-- A case the caller may not work is not found, whether or not it exists
-- (the error names neither its module nor its operation).
create or replace function refuge.case_for_update(p_case uuid, p_action text, p_lock boolean default true)
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
    return c;
end
$$;

create or replace function refuge.update_individual(individual_id uuid, changes jsonb) returns jsonb
    language plpgsql security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    cur refuge.individual;
    r refuge.individual;
    scalars jsonb;
    collections constant text[] := array['names', 'nationalities', 'languages', 'education', 'occupations',
                                         'contacts', 'addresses', 'flight_legs', 'photo'];
begin
    cur := refuge.individual_for_update(individual_id, 'refuge_registration', 'update_individual');
    perform refuge.arg_fields(changes, 'changes',
        (select array_agg(f) from unnest(refuge.member_fields()) f
          where f not in ('ref', 'relationship', 'documents', 'specific_needs'))
        || array['status', 'status_reason']);
    scalars := changes - collections - array['status', 'status_reason'];
    r := refuge.parse_individual(to_jsonb(cur) || scalars, 'changes');
    -- a change of legal standing, or one that undoes an adjudication, is not
    -- one person's edit: refuge.request_status_change, approved by a supervisor
    if r.population_type is distinct from cur.population_type then
        perform refuge.raise_field('42501', 'changes.population_type',
            format('a change of population type (%s to %s) is requested with refuge.request_status_change and approved by a supervisor',
                   cur.population_type, r.population_type));
    end if;
    if changes ? 'status' then
        r.status := refuge.arg_code(changes, 'status', 'changes', 'individual_status', true);
        if r.status is distinct from cur.status then
            if cur.status = 'DUPLICATE' or r.status = 'DUPLICATE' then
                perform refuge.raise_field('42501', 'changes.status',
                    format('%s: a record closed as a duplicate changes only through adjudication (refuge.adjudicate)', cur.number));
            end if;
            if not (cur.status in ('ACTIVE', 'INACTIVE', 'HOLD') and r.status in ('ACTIVE', 'INACTIVE', 'HOLD')) then
                perform refuge.raise_field('42501', 'changes.status',
                    format('%s to %s is requested with refuge.request_status_change and approved by a supervisor',
                           cur.status, r.status));
            end if;
            cur.status := r.status;
            cur.status_date := current_date;
        end if;
        cur.status_reason := refuge.arg_text(changes, 'status_reason', 'changes', false, 500);
    end if;
    update refuge.individual i set
        given_name = r.given_name, middle_name = r.middle_name, family_name = r.family_name,
        second_family_name = r.second_family_name, maiden_name = r.maiden_name,
        mother_name = r.mother_name, father_name = r.father_name, sex = r.sex,
        date_of_birth = r.date_of_birth, dob_precision = r.dob_precision, place_of_birth = r.place_of_birth,
        birth_country = r.birth_country, origin_country = r.origin_country, ethnicity = r.ethnicity,
        religion = r.religion, marital_status = r.marital_status, education_level = r.education_level,
        population_type = r.population_type,
        population_type_date = case when r.population_type <> cur.population_type then current_date
                                    else cur.population_type_date end,
        registration_level = r.registration_level, arrival_date = r.arrival_date,
        status = cur.status, status_date = cur.status_date, status_reason = cur.status_reason
     where i.id = cur.id;
    perform refuge.write_collections(cur.id, changes, 'changes');
    return jsonb_build_object('individual_id', cur.id, 'number', cur.number,
                              'fields', (select jsonb_agg(k order by k) from jsonb_object_keys(changes) k));
end
$$;


