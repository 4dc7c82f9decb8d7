-- refuge 0.7.0 -> 0.8.0
\echo Use "ALTER EXTENSION refuge UPDATE TO '0.8.0'" to load this file. \quit

-- 1. Brought forward: changes made to already-released scripts after the next
-- release had become the default (the 0.1.0 install script: check_dates, the
-- two-group lock; the 0.4.0 -> 0.5.0 script: case members, one
-- open_case_for_update, the audit chain's links in C).  A database that took
-- those scripts as they were released lacks them; one that took them later
-- has them, and gets the same definitions again.

-- Two dates of one object in order: the later must not precede the earlier.
create or replace function refuge.check_dates(earlier date, later date, path text, earlier_key text, later_key text)
    returns void
    language plpgsql immutable
as $$
begin
    if later < earlier then
        perform refuge.raise_field('22008', path || '.' || later_key,
            format('"%s" is before %s %s', refuge.iso(later), earlier_key, refuge.iso(earlier)));
    end if;
end
$$;

-- A case the caller may work and that is still open, locked.
create or replace function refuge.open_case_for_update(p_case uuid, p_action text) returns refuge.process_case
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

-- Members join or leave a case (a child born, a relative reunited, a
-- member who withdraws); the principal stays.  New members come from the
-- principal's family as it is today.
create or replace function refuge.add_case_member(case_id uuid, individual_id uuid, reason text) returns void
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
    insert into refuge.case_member (case_id, individual_id, role, relationship, added_by)
    values (c.id, add_case_member.individual_id, 'DEPENDANT', rel, refuge.caller());
    perform refuge.note_case_event(c, 'MEMBER_ADDED', reason, jsonb_build_object('individual_id', add_case_member.individual_id));
exception when unique_violation then
    perform refuge.raise_field('23505', 'individual_id', format('already a member of case %s', c.number));
end
$$;
grant execute on function refuge.add_case_member(uuid, uuid, text) to refuge_supervisor, refuge_assistance,
    refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection;

create or replace function refuge.remove_case_member(case_id uuid, individual_id uuid, reason text) returns void
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
grant execute on function refuge.remove_case_member(uuid, uuid, text) to refuge_supervisor, refuge_assistance,
    refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection;

-- A link is SHA-256(previous hash || seq || the row's canonical form): the
-- row's first ten columns in their binary send form, independent of session
-- settings (extension/audit_chain.c).  audit_digest() is the SHA-256 of the
-- canonical form alone.
create or replace function refuge.audit_digest(a refuge.audit_log) returns bytea
    language c immutable strict parallel safe
    as 'MODULE_PATHNAME', 'refuge_audit_digest';

-- Assign a case to a staff member who works the module in its operation.
create or replace function refuge.assign_case(case_id uuid, staff_role name, due_at timestamptz default null, reason text default null)
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
grant execute on function refuge.assign_case(uuid, name, timestamp with time zone, text) to refuge_supervisor,
    refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection;

create or replace function refuge.audit_link(prev bytea, seq bigint, a refuge.audit_log) returns bytea
    language c immutable strict parallel safe
    as 'MODULE_PATHNAME', 'refuge_audit_link';

-- One flight leg, validated, as a row (seq given by the caller).
create or replace function refuge.flight_leg_row(p_individual uuid, e jsonb, p text, p_seq integer) returns jsonb
    language plpgsql
as $$
declare
    reasons text[];
    d1 date;
    d2 date;
    i integer;
begin
    perform refuge.arg_fields(e, p, array['place', 'country', 'location', 'arrived_on', 'departed_on',
                                          'date_precision', 'reasons', 'comment']);
    d1 := refuge.arg_date(e, 'arrived_on', p);
    d2 := refuge.arg_date(e, 'departed_on', p);
    perform refuge.check_dates(d1, d2, p, 'arrived_on', 'departed_on');
    reasons := '{}';
    for i in 0 .. jsonb_array_length(refuge.arg_array(e, 'reasons', p, 10)) - 1 loop
        reasons := reasons || refuge.arg_code(jsonb_build_object('code', e -> 'reasons' -> i),
                                              'code', format('%s.reasons[%s]', p, i), 'flight_reason', true);
    end loop;
    return jsonb_build_object('id', gen_random_uuid(), 'individual_id', p_individual, 'seq', p_seq,
        'place', refuge.arg_text(e, 'place', p), 'country', refuge.arg_code(e, 'country', p, 'country', true),
        'location', (refuge.arg_point(e, 'location', p))::text, 'arrived_on', d1, 'departed_on', d2,
        'date_precision', refuge.arg_code(e, 'date_precision', p, 'date_precision', false, 'EXACT'),
        'reasons', reasons, 'comment', refuge.arg_text(e, 'comment', p, false, 2000));
end
$$;

-- Merge: every current member of source_group joins target_group, with
-- relationships to the target's principal representative; source is closed.
create or replace function refuge.merge_groups(target_group uuid, source_group uuid, relationships jsonb, reason text)
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
grant execute on function refuge.merge_groups(uuid, uuid, jsonb, text) to refuge_supervisor;

-- Move one person to another group of the same operation.
create or replace function refuge.move_individual(individual_id uuid, to_group uuid, relationship text, reason text)
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
grant execute on function refuge.move_individual(uuid, uuid, text, text) to refuge_supervisor;

-- Refer a case to a partner, sharing the listed parts (refuge.referral_field).
-- SGBV cases are shared only with the survivor's consent to sharing.
create or replace function refuge.refer_case(case_id uuid, partner text, fields text[], purpose text, valid_until date default null)
    returns uuid
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
    pid uuid;
    f text;
    new_id uuid;
begin
    c := refuge.open_case_for_update(refer_case.case_id, 'refer_case');
    select p.id into pid from refuge.partner_organisation p where p.code = partner;
    if pid is null then
        perform refuge.raise_field('23503', 'partner', format('unknown partner "%s"', partner));
    end if;
    if fields is null or cardinality(fields) = 0 then
        perform refuge.raise_field('22004', 'fields', format('is required: the parts shared (%s)',
            (select string_agg(code, ', ' order by code) from refuge.referral_field)));
    end if;
    foreach f in array fields loop
        if not exists (select 1 from refuge.referral_field r where r.code = f) then
            perform refuge.raise_field('22023', 'fields', format('"%s" is not one of %s', f,
                (select string_agg(code, ', ' order by code) from refuge.referral_field)));
        end if;
    end loop;
    if c.module = 'SGBV' and not coalesce((select g.consent_sharing from refuge.gbv_incident g where g.case_id = c.id), false) then
        perform refuge.raise_field('55000', 'case_id',
            format('case %s: the survivor has not consented to sharing information', c.number));
    end if;
    if 'INCIDENT' = any (fields) and c.module <> 'SGBV' then
        perform refuge.raise_field('22023', 'fields', 'INCIDENT is shared only from SGBV cases');
    end if;
    perform refuge.require_text(purpose, 'purpose');
    if valid_until is not null and valid_until < current_date then
        perform refuge.raise_field('22008', 'valid_until', format('%s is in the past', refuge.iso(valid_until)));
    end if;
    insert into refuge.case_referral (case_id, partner_id, fields, purpose, valid_until, referred_by)
    values (c.id, pid, (select array_agg(distinct x order by x) from unnest(fields) x), purpose, valid_until, refuge.caller())
    returning id into new_id;
    perform refuge.note_case_event(c, 'REFERRED', purpose,
        jsonb_build_object('referral_id', new_id, 'partner', partner, 'fields', fields));
    perform refuge.raise_case_alert(c, 'REFERRAL', format('case %s referred to %s', c.number, partner), 'refuge_partner');
    return new_id;
end
$$;
grant execute on function refuge.refer_case(uuid, text, text[], text, date) to refuge_supervisor,
    refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection;

-- Transfers of cases between operations and sites, and referrals to
-- partner organisations that share chosen parts of a case until the
-- referral is closed, revoked or expires.
create or replace function refuge.request_case_transfer(case_id uuid, to_operation text, to_site text default null,
                                             reason text default null)
    returns uuid
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
    op uuid;
    st uuid;
    new_id uuid;
begin
    c := refuge.open_case_for_update(request_case_transfer.case_id, 'request_case_transfer');
    perform refuge.require_text(reason, 'reason');
    select o.id into op from refuge.operation o where o.code = to_operation;
    if op is null then
        perform refuge.raise_field('23503', 'to_operation', format('unknown operation "%s"', to_operation));
    end if;
    if to_site is not null then
        select s.id into st from refuge.site s where s.operation_id = op and s.code = to_site;
        if st is null then
            perform refuge.raise_field('23503', 'to_site', format('unknown site "%s" in operation %s', to_site, to_operation));
        end if;
    end if;
    if op = c.operation_id and st is not distinct from c.site_id then
        perform refuge.raise_field('22023', 'to_operation', format('case %s is already there', c.number));
    end if;
    insert into refuge.case_transfer (case_id, from_operation, from_site, to_operation, to_site, reason, requested_by)
    values (c.id, c.operation_id, c.site_id, op, st, reason, refuge.caller())
    returning id into new_id;
    perform refuge.note_case_event(c, 'TRANSFER_REQUESTED', reason,
        jsonb_build_object('transfer_id', new_id, 'to_operation', to_operation, 'to_site', to_site));
    c.operation_id := op;    -- the alert goes to the receiving operation
    perform refuge.raise_case_alert(c, 'TRANSFER', format('case %s: transfer requested to %s', c.number, to_operation),
                                    (select m.roles[1] from refuge.case_module m where m.code = c.module));
    return new_id;
exception when unique_violation then
    perform refuge.raise_field('23505', 'case_id', format('case %s already has a transfer awaiting a decision', c.number));
end
$$;
grant execute on function refuge.request_case_transfer(uuid, text, text, text) to refuge_supervisor,
    refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection;

-- The link of 0.5.0 as released (over the row as JSON text) becomes
-- audit_link_v1, and verification accepts a seal made either way: a chain
-- sealed by that release stays verifiable after the links moved to C.
-- The link as 0.5.0 was first released: the same chain over the row as JSON
-- text.  Seals made by that release verify under it (refuge.verify_audit
-- accepts a seal made either way); new seals are always made in C.
create or replace function refuge.audit_link_v1(prev bytea, seq bigint, a refuge.audit_log) returns bytea
    language sql immutable parallel safe
return sha256(prev || int8send(seq)
              || convert_to(jsonb_build_array(a.id, a.txid, to_char(a.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                                              a.actor, a.operation_id, a.table_name, a.row_id, a.action, a.old_data,
                                              a.new_data)::text, 'UTF8'));

create or replace function refuge.verify_audit(anchor_seq bigint default null, anchor_hash text default null) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    problems jsonb;
    nproblems bigint;
    sealed bigint;
    pending bigint;
    top bigint;
    head refuge.audit_seal;
    sealing jsonb;
    reached bigint;
    loads bigint;
begin
    perform refuge.authorize_any(array['refuge_admin', 'refuge_supervisor', 'refuge_dba']::name[], 'verify_audit');
    if (anchor_seq is null) <> (anchor_hash is null) then
        perform refuge.raise_field('22004', 'anchor_hash', 'an anchor is a sequence number and its hash, both given');
    end if;
    if current_setting('transaction_isolation') = 'read committed' then
        sealing := refuge.seal_audit();
    end if;
    top := refuge.audit_horizon();
    select c.last_value into reached from refuge.audit_chain_length c;
    select count(*) into loads from refuge.audit_bulk_load;
    with chain as (
        select s.seq, s.audit_id, s.hash, s.horizon, s.cluster_id,
               lag(s.cluster_id) over w as prev_cluster,
               lag(s.seq) over w as prev_seq,
               coalesce(lag(s.hash) over w, refuge.audit_genesis()) as prev_hash,
               lag(s.horizon) over w as prev_horizon, s.sealed_at,
               max(s.sealed_at) over (order by s.sealed_at range between unbounded preceding
                                                                and interval '1 microsecond' preceding) as prev_sealed_at
          from refuge.audit_seal s
        window w as (order by s.seq)),
    found as (
        select c.seq, c.audit_id, 'seal missing before this one' as problem
          from chain c where c.seq <> coalesce(c.prev_seq, 0) + 1
        union all
        select c.seq, c.audit_id, 'sealed audit row deleted'
          from chain c where not exists (select 1 from refuge.audit_log a where a.id = c.audit_id)
        union all
        select c.seq, c.audit_id, 'audit row or seal changed'
          from chain c join refuge.audit_log a on a.id = c.audit_id
         where (refuge.audit_link(c.prev_hash, c.seq, a) <> c.hash and refuge.audit_link_v1(c.prev_hash, c.seq, a) <> c.hash)
            or a.txid >= c.horizon
            or (c.cluster_id = c.prev_cluster and c.horizon < c.prev_horizon)
        union all
        select null, a.id, 'audit row without a seal below the sealed horizon (inserted afterwards, or its seal deleted)'
          from refuge.audit_log a
         where a.txid < top and not exists (select 1 from refuge.audit_seal s where s.audit_id = a.id)
        union all
        select c.seq, c.audit_id, format('audit row dated %s, more than a day before the seal of %s that preceded it (back-dated?)',
                                         a.at, c.prev_sealed_at)
          from chain c join refuge.audit_log a on a.id = c.audit_id
         where a.at < c.prev_sealed_at - interval '1 day'
        union all
        select c.seq, c.audit_id, format('audit row dated %s, after its seal of %s', a.at, c.sealed_at)
          from chain c join refuge.audit_log a on a.id = c.audit_id
         where a.at > c.sealed_at + interval '5 minutes'
        union all
        select null, a.id, format('audit row of %s classed %s, not %s', a.table_name, a.class, coalesce(s.class, 'restricted'))
          from refuge.audit_log a left join refuge.audit_scope s on s.table_name = a.table_name
         where a.class is distinct from coalesce(s.class, 'restricted')
        union all
        select reached, null, format('the chain had reached seq %s; seals after seq %s are gone (removed or truncated)',
                                     reached, coalesce((select max(s.seq) from refuge.audit_seal s), 0))
         where reached > coalesce((select max(s.seq) from refuge.audit_seal s), 0)
        union all
        select anchor_seq, null, 'anchor does not match: the chain was rewritten up to it'
         where anchor_seq is not null
           and not exists (select 1 from refuge.audit_seal s where s.seq = anchor_seq
                                                            and encode(s.hash, 'hex') = lower(anchor_hash)))
    select coalesce(jsonb_agg(jsonb_build_object('seq', f.seq, 'audit_id', f.audit_id, 'problem', f.problem)
                              order by f.seq nulls last, f.audit_id) filter (where f.rn <= 100), '[]'),
           count(*)
      into problems, nproblems
      from (select *, row_number() over (order by seq nulls last, audit_id) as rn from found) f;
    select count(*) into sealed from refuge.audit_seal;
    select count(*) into pending from refuge.audit_log a
     where a.txid >= top and not exists (select 1 from refuge.audit_seal s where s.audit_id = a.id);
    select * into head from refuge.audit_seal s order by s.seq desc limit 1;
    return jsonb_build_object('intact', nproblems = 0, 'problem_count', nproblems, 'problems', problems,
                              'sealed_rows', sealed, 'unsealed_rows', pending, 'head_seq', head.seq,
                              'head_hash', encode(head.hash, 'hex'),
                              'sealed_now', coalesce((sealing ->> 'sealed')::bigint, 0),
                              'bulk_loads', loads);
end
$$;
grant execute on function refuge.verify_audit(bigint, text) to refuge_admin, refuge_dba;

drop function if exists refuge.audit_canonical(refuge.audit_log);

-- 2. One read policy per shared table: the vocabularies, operations, sites
-- and exception reasons were readable by every staff role through three
-- policies added release by release; now through one.
do $read_all$
declare
    t text;
begin
    foreach t in array array['country', 'language', 'script', 'sex', 'relationship', 'marital_status', 'education_level',
                             'education_degree', 'address_type', 'language_proficiency', 'religion', 'ethnicity',
                             'occupation', 'population_type', 'age_bracket', 'specific_need_category', 'specific_need_code',
                             'registration_level', 'date_precision', 'document_type', 'flight_reason', 'contact_type',
                             'individual_status', 'group_status', 'site_type', 'operation', 'site',
                             'biometric_exception_reason']
    loop
        execute format('drop policy if exists read_case_roles on refuge.%I', t);
        execute format('drop policy if exists read_identity_roles on refuge.%I', t);
        execute format('drop policy if exists read_all on refuge.%I', t);
        execute format('create policy read_all on refuge.%I for select
                        to refuge_registration, refuge_supervisor, refuge_analyst, refuge_admin, refuge_biometrics,
                           refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection,
                           refuge_child_protection, refuge_partner
                        using (true)', t);
    end loop;
end
$read_all$;

-- the functions this script creates belong to refuge_owner like the others,
-- and PUBLIC does not execute them
alter function refuge.check_dates(date, date, text, text, text) owner to refuge_owner;
alter function refuge.open_case_for_update(uuid, text) owner to refuge_owner;
alter function refuge.add_case_member(uuid, uuid, text) owner to refuge_owner;
alter function refuge.remove_case_member(uuid, uuid, text) owner to refuge_owner;
alter function refuge.audit_digest(refuge.audit_log) owner to refuge_owner;
alter function refuge.audit_link_v1(bytea, bigint, refuge.audit_log) owner to refuge_owner;
revoke all on function refuge.check_dates(date, date, text, text, text), refuge.open_case_for_update(uuid, text),
    refuge.add_case_member(uuid, uuid, text), refuge.remove_case_member(uuid, uuid, text),
    refuge.audit_digest(refuge.audit_log), refuge.audit_link_v1(bytea, bigint, refuge.audit_log) from public;

-- 3. Equality, an order and hashing for the biometric types (DISTINCT, GROUP BY,
-- UNION, btree and hash indexes), and their byte forms as casts.
-- Equality and an order for iris: the stored bytes (the same template, not the
-- same person: that is <-> and %), so that DISTINCT, GROUP BY, UNION, ORDER BY,
-- btree and hash indexes work (extension/template_order.c).
create function refuge.iris_eq(refuge.iris, refuge.iris) returns boolean
    language c immutable strict parallel safe leakproof as 'MODULE_PATHNAME', 'refuge_template_eq';
comment on function refuge.iris_eq(refuge.iris, refuge.iris) is 'the same template (byte for byte)';
grant execute on function refuge.iris_eq(refuge.iris, refuge.iris) to refuge_registration, refuge_supervisor, refuge_admin;
create function refuge.iris_ne(refuge.iris, refuge.iris) returns boolean
    language c immutable strict parallel safe leakproof as 'MODULE_PATHNAME', 'refuge_template_ne';
comment on function refuge.iris_ne(refuge.iris, refuge.iris) is 'not the same template';
grant execute on function refuge.iris_ne(refuge.iris, refuge.iris) to refuge_registration, refuge_supervisor, refuge_admin;
create function refuge.iris_lt(refuge.iris, refuge.iris) returns boolean
    language c immutable strict parallel safe leakproof as 'MODULE_PATHNAME', 'refuge_template_lt';
comment on function refuge.iris_lt(refuge.iris, refuge.iris) is 'before, in the order of the stored bytes';
grant execute on function refuge.iris_lt(refuge.iris, refuge.iris) to refuge_registration, refuge_supervisor, refuge_admin;
create function refuge.iris_le(refuge.iris, refuge.iris) returns boolean
    language c immutable strict parallel safe leakproof as 'MODULE_PATHNAME', 'refuge_template_le';
comment on function refuge.iris_le(refuge.iris, refuge.iris) is 'before or the same, in the order of the stored bytes';
grant execute on function refuge.iris_le(refuge.iris, refuge.iris) to refuge_registration, refuge_supervisor, refuge_admin;
create function refuge.iris_gt(refuge.iris, refuge.iris) returns boolean
    language c immutable strict parallel safe leakproof as 'MODULE_PATHNAME', 'refuge_template_gt';
comment on function refuge.iris_gt(refuge.iris, refuge.iris) is 'after, in the order of the stored bytes';
grant execute on function refuge.iris_gt(refuge.iris, refuge.iris) to refuge_registration, refuge_supervisor, refuge_admin;
create function refuge.iris_ge(refuge.iris, refuge.iris) returns boolean
    language c immutable strict parallel safe leakproof as 'MODULE_PATHNAME', 'refuge_template_ge';
comment on function refuge.iris_ge(refuge.iris, refuge.iris) is 'after or the same, in the order of the stored bytes';
grant execute on function refuge.iris_ge(refuge.iris, refuge.iris) to refuge_registration, refuge_supervisor, refuge_admin;
create function refuge.iris_cmp(refuge.iris, refuge.iris) returns integer
    language c immutable strict parallel safe leakproof as 'MODULE_PATHNAME', 'refuge_template_cmp';
comment on function refuge.iris_cmp(refuge.iris, refuge.iris) is '-1, 0 or 1: the btree comparison of two templates (order of the stored bytes)';
grant execute on function refuge.iris_cmp(refuge.iris, refuge.iris) to refuge_registration, refuge_supervisor, refuge_admin;
create function refuge.iris_hash(refuge.iris) returns integer
    language c immutable strict parallel safe leakproof as 'MODULE_PATHNAME', 'refuge_template_hash';
comment on function refuge.iris_hash(refuge.iris) is 'hash of the stored bytes (hash indexes, hash joins and aggregates)';
grant execute on function refuge.iris_hash(refuge.iris) to refuge_registration, refuge_supervisor, refuge_admin;
create function refuge.iris_hash_extended(refuge.iris, bigint) returns bigint
    language c immutable strict parallel safe leakproof as 'MODULE_PATHNAME', 'refuge_template_hash_extended';
comment on function refuge.iris_hash_extended(refuge.iris, bigint) is 'seeded hash of the stored bytes (hash partitioning)';
grant execute on function refuge.iris_hash_extended(refuge.iris, bigint) to refuge_registration, refuge_supervisor, refuge_admin;
create operator refuge.= (leftarg = refuge.iris, rightarg = refuge.iris, function = refuge.iris_eq,
    commutator = operator(refuge.=), negator = operator(refuge.<>), restrict = eqsel, join = eqjoinsel, hashes, merges);
create operator refuge.<> (leftarg = refuge.iris, rightarg = refuge.iris, function = refuge.iris_ne,
    commutator = operator(refuge.<>), negator = operator(refuge.=), restrict = neqsel, join = neqjoinsel);
create operator refuge.< (leftarg = refuge.iris, rightarg = refuge.iris, function = refuge.iris_lt,
    commutator = operator(refuge.>), negator = operator(refuge.>=), restrict = scalarltsel, join = scalarltjoinsel);
create operator refuge.<= (leftarg = refuge.iris, rightarg = refuge.iris, function = refuge.iris_le,
    commutator = operator(refuge.>=), negator = operator(refuge.>), restrict = scalarlesel, join = scalarlejoinsel);
create operator refuge.> (leftarg = refuge.iris, rightarg = refuge.iris, function = refuge.iris_gt,
    commutator = operator(refuge.<), negator = operator(refuge.<=), restrict = scalargtsel, join = scalargtjoinsel);
create operator refuge.>= (leftarg = refuge.iris, rightarg = refuge.iris, function = refuge.iris_ge,
    commutator = operator(refuge.<=), negator = operator(refuge.<), restrict = scalargesel, join = scalargejoinsel);
comment on operator refuge.= (refuge.iris, refuge.iris) is 'the same template (byte for byte): use % or <-> to compare people';
create operator class refuge.iris_btree_ops default for type refuge.iris using btree as
    operator 1 refuge.< , operator 2 refuge.<= , operator 3 refuge.= , operator 4 refuge.>= , operator 5 refuge.> ,
    function 1 refuge.iris_cmp(refuge.iris, refuge.iris);
create operator class refuge.iris_hash_ops default for type refuge.iris using hash as
    operator 1 refuge.= ,
    function 1 refuge.iris_hash(refuge.iris),
    function 2 refuge.iris_hash_extended(refuge.iris, bigint);

-- Equality and an order for fingerprint: the stored bytes (the same template, not the
-- same person: that is <-> and %), so that DISTINCT, GROUP BY, UNION, ORDER BY,
-- btree and hash indexes work (extension/template_order.c).
create function refuge.fingerprint_eq(refuge.fingerprint, refuge.fingerprint) returns boolean
    language c immutable strict parallel safe leakproof as 'MODULE_PATHNAME', 'refuge_template_eq';
comment on function refuge.fingerprint_eq(refuge.fingerprint, refuge.fingerprint) is 'the same template (byte for byte)';
grant execute on function refuge.fingerprint_eq(refuge.fingerprint, refuge.fingerprint) to refuge_registration, refuge_supervisor, refuge_admin;
create function refuge.fingerprint_ne(refuge.fingerprint, refuge.fingerprint) returns boolean
    language c immutable strict parallel safe leakproof as 'MODULE_PATHNAME', 'refuge_template_ne';
comment on function refuge.fingerprint_ne(refuge.fingerprint, refuge.fingerprint) is 'not the same template';
grant execute on function refuge.fingerprint_ne(refuge.fingerprint, refuge.fingerprint) to refuge_registration, refuge_supervisor, refuge_admin;
create function refuge.fingerprint_lt(refuge.fingerprint, refuge.fingerprint) returns boolean
    language c immutable strict parallel safe leakproof as 'MODULE_PATHNAME', 'refuge_template_lt';
comment on function refuge.fingerprint_lt(refuge.fingerprint, refuge.fingerprint) is 'before, in the order of the stored bytes';
grant execute on function refuge.fingerprint_lt(refuge.fingerprint, refuge.fingerprint) to refuge_registration, refuge_supervisor, refuge_admin;
create function refuge.fingerprint_le(refuge.fingerprint, refuge.fingerprint) returns boolean
    language c immutable strict parallel safe leakproof as 'MODULE_PATHNAME', 'refuge_template_le';
comment on function refuge.fingerprint_le(refuge.fingerprint, refuge.fingerprint) is 'before or the same, in the order of the stored bytes';
grant execute on function refuge.fingerprint_le(refuge.fingerprint, refuge.fingerprint) to refuge_registration, refuge_supervisor, refuge_admin;
create function refuge.fingerprint_gt(refuge.fingerprint, refuge.fingerprint) returns boolean
    language c immutable strict parallel safe leakproof as 'MODULE_PATHNAME', 'refuge_template_gt';
comment on function refuge.fingerprint_gt(refuge.fingerprint, refuge.fingerprint) is 'after, in the order of the stored bytes';
grant execute on function refuge.fingerprint_gt(refuge.fingerprint, refuge.fingerprint) to refuge_registration, refuge_supervisor, refuge_admin;
create function refuge.fingerprint_ge(refuge.fingerprint, refuge.fingerprint) returns boolean
    language c immutable strict parallel safe leakproof as 'MODULE_PATHNAME', 'refuge_template_ge';
comment on function refuge.fingerprint_ge(refuge.fingerprint, refuge.fingerprint) is 'after or the same, in the order of the stored bytes';
grant execute on function refuge.fingerprint_ge(refuge.fingerprint, refuge.fingerprint) to refuge_registration, refuge_supervisor, refuge_admin;
create function refuge.fingerprint_cmp(refuge.fingerprint, refuge.fingerprint) returns integer
    language c immutable strict parallel safe leakproof as 'MODULE_PATHNAME', 'refuge_template_cmp';
comment on function refuge.fingerprint_cmp(refuge.fingerprint, refuge.fingerprint) is '-1, 0 or 1: the btree comparison of two templates (order of the stored bytes)';
grant execute on function refuge.fingerprint_cmp(refuge.fingerprint, refuge.fingerprint) to refuge_registration, refuge_supervisor, refuge_admin;
create function refuge.fingerprint_hash(refuge.fingerprint) returns integer
    language c immutable strict parallel safe leakproof as 'MODULE_PATHNAME', 'refuge_template_hash';
comment on function refuge.fingerprint_hash(refuge.fingerprint) is 'hash of the stored bytes (hash indexes, hash joins and aggregates)';
grant execute on function refuge.fingerprint_hash(refuge.fingerprint) to refuge_registration, refuge_supervisor, refuge_admin;
create function refuge.fingerprint_hash_extended(refuge.fingerprint, bigint) returns bigint
    language c immutable strict parallel safe leakproof as 'MODULE_PATHNAME', 'refuge_template_hash_extended';
comment on function refuge.fingerprint_hash_extended(refuge.fingerprint, bigint) is 'seeded hash of the stored bytes (hash partitioning)';
grant execute on function refuge.fingerprint_hash_extended(refuge.fingerprint, bigint) to refuge_registration, refuge_supervisor, refuge_admin;
create operator refuge.= (leftarg = refuge.fingerprint, rightarg = refuge.fingerprint, function = refuge.fingerprint_eq,
    commutator = operator(refuge.=), negator = operator(refuge.<>), restrict = eqsel, join = eqjoinsel, hashes, merges);
create operator refuge.<> (leftarg = refuge.fingerprint, rightarg = refuge.fingerprint, function = refuge.fingerprint_ne,
    commutator = operator(refuge.<>), negator = operator(refuge.=), restrict = neqsel, join = neqjoinsel);
create operator refuge.< (leftarg = refuge.fingerprint, rightarg = refuge.fingerprint, function = refuge.fingerprint_lt,
    commutator = operator(refuge.>), negator = operator(refuge.>=), restrict = scalarltsel, join = scalarltjoinsel);
create operator refuge.<= (leftarg = refuge.fingerprint, rightarg = refuge.fingerprint, function = refuge.fingerprint_le,
    commutator = operator(refuge.>=), negator = operator(refuge.>), restrict = scalarlesel, join = scalarlejoinsel);
create operator refuge.> (leftarg = refuge.fingerprint, rightarg = refuge.fingerprint, function = refuge.fingerprint_gt,
    commutator = operator(refuge.<), negator = operator(refuge.<=), restrict = scalargtsel, join = scalargtjoinsel);
create operator refuge.>= (leftarg = refuge.fingerprint, rightarg = refuge.fingerprint, function = refuge.fingerprint_ge,
    commutator = operator(refuge.<=), negator = operator(refuge.<), restrict = scalargesel, join = scalargejoinsel);
comment on operator refuge.= (refuge.fingerprint, refuge.fingerprint) is 'the same template (byte for byte): use % or <-> to compare people';
create operator class refuge.fingerprint_btree_ops default for type refuge.fingerprint using btree as
    operator 1 refuge.< , operator 2 refuge.<= , operator 3 refuge.= , operator 4 refuge.>= , operator 5 refuge.> ,
    function 1 refuge.fingerprint_cmp(refuge.fingerprint, refuge.fingerprint);
create operator class refuge.fingerprint_hash_ops default for type refuge.fingerprint using hash as
    operator 1 refuge.= ,
    function 1 refuge.fingerprint_hash(refuge.fingerprint),
    function 2 refuge.fingerprint_hash_extended(refuge.fingerprint, bigint);

-- Byte forms: bytea::iris reads the iris layout (the binary form iris::bytea
-- writes); bytea::fingerprint reads an ISO/IEC 19794-2 or ANSI INCITS 378
-- record (its first view), fingerprint::bytea writes an ISO record.  Explicit
-- casts only: a byte string is never taken for a template by accident.
create function refuge.iris(layout bytea) returns refuge.iris
    language c immutable strict parallel safe as 'MODULE_PATHNAME', 'refuge_iris_from_layout';
comment on function refuge.iris(bytea) is 'an iris from its byte layout (the binary form); bytea::refuge.iris';
grant execute on function refuge.iris(bytea) to refuge_registration, refuge_supervisor, refuge_admin;
create function refuge.iris_bytes(refuge.iris) returns bytea
    language c immutable strict parallel safe as 'MODULE_PATHNAME', 'refuge_iris_send';
comment on function refuge.iris_bytes(refuge.iris) is 'the byte layout of an iris (its binary form); refuge.iris::bytea';
grant execute on function refuge.iris_bytes(refuge.iris) to refuge_registration, refuge_supervisor, refuge_admin;
create cast (bytea as refuge.iris) with function refuge.iris(bytea);
create cast (refuge.iris as bytea) with function refuge.iris_bytes(refuge.iris);
comment on cast (bytea as refuge.iris) is 'the iris layout (the binary form)';
comment on cast (refuge.iris as bytea) is 'the iris layout (the binary form)';
create function refuge.fingerprint(record bytea) returns refuge.fingerprint
    language sql immutable strict parallel safe
    return refuge.fingerprint_from_record(record, 1);
comment on function refuge.fingerprint(bytea) is 'the first view of an ISO/IEC 19794-2:2005 or ANSI INCITS 378-2004 record; bytea::refuge.fingerprint';
grant execute on function refuge.fingerprint(bytea) to refuge_registration, refuge_supervisor, refuge_admin;
create cast (bytea as refuge.fingerprint) with function refuge.fingerprint(bytea);
create cast (refuge.fingerprint as bytea) with function refuge.fingerprint_to_iso(refuge.fingerprint);
comment on cast (bytea as refuge.fingerprint) is 'the first view of an ISO/IEC 19794-2 or ANSI INCITS 378 record';
comment on cast (refuge.fingerprint as bytea) is 'an ISO/IEC 19794-2:2005 record of one view';

alter function refuge.iris_eq(refuge.iris, refuge.iris) owner to refuge_owner;
alter function refuge.iris_ne(refuge.iris, refuge.iris) owner to refuge_owner;
alter function refuge.iris_lt(refuge.iris, refuge.iris) owner to refuge_owner;
alter function refuge.iris_le(refuge.iris, refuge.iris) owner to refuge_owner;
alter function refuge.iris_gt(refuge.iris, refuge.iris) owner to refuge_owner;
alter function refuge.iris_ge(refuge.iris, refuge.iris) owner to refuge_owner;
alter function refuge.iris_cmp(refuge.iris, refuge.iris) owner to refuge_owner;
alter function refuge.iris_hash(refuge.iris) owner to refuge_owner;
alter function refuge.iris_hash_extended(refuge.iris, bigint) owner to refuge_owner;
alter function refuge.fingerprint_eq(refuge.fingerprint, refuge.fingerprint) owner to refuge_owner;
alter function refuge.fingerprint_ne(refuge.fingerprint, refuge.fingerprint) owner to refuge_owner;
alter function refuge.fingerprint_lt(refuge.fingerprint, refuge.fingerprint) owner to refuge_owner;
alter function refuge.fingerprint_le(refuge.fingerprint, refuge.fingerprint) owner to refuge_owner;
alter function refuge.fingerprint_gt(refuge.fingerprint, refuge.fingerprint) owner to refuge_owner;
alter function refuge.fingerprint_ge(refuge.fingerprint, refuge.fingerprint) owner to refuge_owner;
alter function refuge.fingerprint_cmp(refuge.fingerprint, refuge.fingerprint) owner to refuge_owner;
alter function refuge.fingerprint_hash(refuge.fingerprint) owner to refuge_owner;
alter function refuge.fingerprint_hash_extended(refuge.fingerprint, bigint) owner to refuge_owner;
alter function refuge.iris(bytea) owner to refuge_owner;
alter function refuge.iris_bytes(refuge.iris) owner to refuge_owner;
alter function refuge.fingerprint(bytea) owner to refuge_owner;
revoke all on function refuge.iris_eq(refuge.iris, refuge.iris),
    refuge.iris_ne(refuge.iris, refuge.iris),
    refuge.iris_lt(refuge.iris, refuge.iris),
    refuge.iris_le(refuge.iris, refuge.iris),
    refuge.iris_gt(refuge.iris, refuge.iris),
    refuge.iris_ge(refuge.iris, refuge.iris),
    refuge.iris_cmp(refuge.iris, refuge.iris),
    refuge.iris_hash(refuge.iris),
    refuge.iris_hash_extended(refuge.iris, bigint),
    refuge.fingerprint_eq(refuge.fingerprint, refuge.fingerprint),
    refuge.fingerprint_ne(refuge.fingerprint, refuge.fingerprint),
    refuge.fingerprint_lt(refuge.fingerprint, refuge.fingerprint),
    refuge.fingerprint_le(refuge.fingerprint, refuge.fingerprint),
    refuge.fingerprint_gt(refuge.fingerprint, refuge.fingerprint),
    refuge.fingerprint_ge(refuge.fingerprint, refuge.fingerprint),
    refuge.fingerprint_cmp(refuge.fingerprint, refuge.fingerprint),
    refuge.fingerprint_hash(refuge.fingerprint),
    refuge.fingerprint_hash_extended(refuge.fingerprint, bigint),
    refuge.iris(bytea),
    refuge.iris_bytes(refuge.iris),
    refuge.fingerprint(bytea) from public;

-- 4. Warehouse counts are integers, means double precision: drivers get
-- numbers (Python had Decimal for numeric, node-postgres strings for numeric
-- and bigint).  The views over the published tables go while their columns
-- change (snapshot partitions follow their parents).  Objects of the
-- database's own over them would block that: they are named, with what to
-- do; privileges granted on them to roles of the database's own are kept.
do $dependents$
declare
    found text;
begin
    select string_agg(distinct d.classid::regclass::text || ' ' || pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid), '; ')
      into found
      from pg_catalog.pg_depend d
      join pg_catalog.pg_rewrite rw on d.classid = 'pg_catalog.pg_rewrite'::regclass and rw.oid = d.objid
     where d.refobjid in ('refuge_warehouse.population'::regclass, 'refuge_warehouse.population_trend'::regclass,
                          'refuge_warehouse.population_statistics'::regclass, 'refuge_warehouse.case_processing'::regclass,
                          'refuge_warehouse.case_states'::regclass, 'refuge_warehouse.population_cell'::regclass,
                          'refuge_warehouse.population_row'::regclass, 'refuge_warehouse.population_total'::regclass,
                          'refuge_warehouse.population_band'::regclass, 'refuge_warehouse.case_summary'::regclass,
                          'refuge_warehouse.case_step_summary'::regclass, 'refuge_warehouse.flow_summary'::regclass,
                          'refuge_warehouse.snapshot'::regclass, 'refuge_warehouse.population_fact'::regclass)
       and rw.ev_class not in (select e.objid from pg_catalog.pg_depend e
                                where e.refobjid = (select oid from pg_catalog.pg_extension where extname = 'refuge')
                                  and e.deptype = 'e' and e.classid = 'pg_catalog.pg_class'::regclass);
    if found is not null then
        raise exception using errcode = '2BP01',
            message = 'views of this database over the warehouse block the update to 0.8.0: ' || found,
            hint = '0.8.0 makes the warehouse''s counts integers: drop those views, update, and create them again.';
    end if;
end
$dependents$;
-- (kept in a setting of this transaction: a table made here would belong to the extension)
select pg_catalog.set_config('refuge_update.kept_grants', coalesce((select string_agg(stmt, chr(31)) from (
select format('grant %s on %s to %I', a.privilege_type, c.oid::regclass, r.rolname) as stmt
  from pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a join pg_catalog.pg_roles r on r.oid = a.grantee
 where c.oid in ('refuge_warehouse.population'::regclass, 'refuge_warehouse.population_trend'::regclass,
                 'refuge_warehouse.population_statistics'::regclass, 'refuge_warehouse.case_processing'::regclass,
                 'refuge_warehouse.case_states'::regclass)
   and r.rolname not like 'refuge\_%' and a.grantee <> c.relowner
union all
select format('grant execute on function %s to %I', p.oid::regprocedure, r.rolname)
  from pg_catalog.pg_proc p, pg_catalog.aclexplode(p.proacl) a join pg_catalog.pg_roles r on r.oid = a.grantee
 where p.oid in ('refuge_warehouse.population_forecast(text, integer)'::regprocedure, 'refuge.population_summary(date, integer)'::regprocedure,
                 'refuge_warehouse.flows(integer, integer)'::regprocedure, 'refuge.snapshots()'::regprocedure)
   and r.rolname not like 'refuge\_%' and a.grantee <> p.proowner
) kept), ''), true);
drop function refuge_warehouse.population_forecast(text, integer);
drop view refuge_warehouse.population, refuge_warehouse.population_trend, refuge_warehouse.population_statistics,
    refuge_warehouse.case_processing, refuge_warehouse.case_states;
drop function refuge.population_summary(date, integer);
drop function refuge_warehouse.flows(integer, integer);
drop function refuge.snapshots();
alter table refuge_warehouse.snapshot
    alter column individuals type integer, alter column families type integer, alter column cases type integer,
    alter column case_steps type integer;
alter table refuge_warehouse.population_fact alter column individuals type integer, alter column families type integer;
alter table refuge_warehouse.population_cell alter column individuals type integer, alter column families type integer;
alter table refuge_warehouse.population_row
    alter column female type integer, alter column male type integer, alter column unknown_sex type integer,
    alter column total type integer;
alter table refuge_warehouse.population_total
    alter column individuals type integer, alter column female type integer, alter column male type integer,
    alter column unknown_sex type integer, alter column children type integer, alter column unknown_age type integer,
    alter column families type integer;
alter table refuge_warehouse.population_band alter column individuals type integer;
alter table refuge_warehouse.case_summary
    alter column cases type integer, alter column people type integer,
    alter column mean_days_open type double precision, alter column mean_days_in_state type double precision;
alter table refuge_warehouse.case_step_summary alter column steps type integer, alter column mean_days type double precision;
alter table refuge_warehouse.flow_summary
    alter column arrivals type integer, alter column departures type integer, alter column moved_in type integer,
    alter column moved_out type integer, alter column resettled type integer, alter column returned type integer,
    alter column naturalised type integer;

create view refuge_warehouse.population with (security_invoker = true) as
select s.id as snapshot_id, s.as_of, c.operation, c.asylum_country, c.origin_country, c.population_type, c.sex,
       c.age_bracket, c.individuals, c.families
  from refuge_warehouse.snapshot s
  join refuge_warehouse.population_cell c on c.snapshot_id = s.id;
comment on view refuge_warehouse.population is 'active individuals (and families) per snapshot by operation, countries of asylum and origin, population type, sex and UNHCR age bracket; null = suppressed';
grant select on refuge_warehouse.population to refuge_analyst, refuge_dba;
alter view refuge_warehouse.population owner to refuge_owner;
-- (the revoke records the grants again in pg_init_privs, owner included: ALTER OWNER does not)
revoke all on refuge_warehouse.population from public;
create view refuge_warehouse.population_trend with (security_invoker = true) as
select s.id as snapshot_id, s.as_of, t.operation, t.individuals, t.female, t.male, t.children
  from refuge_warehouse.snapshot s
  join refuge_warehouse.population_total t on t.snapshot_id = s.id;
comment on view refuge_warehouse.population_trend is 'active individuals per snapshot and operation, women, men and children under 18; null = suppressed';
grant select on refuge_warehouse.population_trend to refuge_analyst, refuge_dba;
alter view refuge_warehouse.population_trend owner to refuge_owner;
revoke all on refuge_warehouse.population_trend from public;
create view refuge_warehouse.population_statistics with (security_invoker = true) as
with cells as (
    select c.snapshot_id, c.operation, c.asylum_country, c.origin_country, c.population_type,
           jsonb_object_agg(c.sex || '|' || c.age_bracket, c.individuals) as n
      from refuge_warehouse.population_cell c
     group by 1, 2, 3, 4, 5)
select s.id as snapshot_id, extract(year from s.as_of)::integer as year, r.asylum_country, r.origin_country,
       r.population_type,
       case when x.n ? 'F|0_4' then (x.n ->> 'F|0_4')::integer else 0 end as female_0_4, case when x.n ? 'F|5_11' then (x.n ->> 'F|5_11')::integer else 0 end as female_5_11,
       case when x.n ? 'F|12_17' then (x.n ->> 'F|12_17')::integer else 0 end as female_12_17, case when x.n ? 'F|18_59' then (x.n ->> 'F|18_59')::integer else 0 end as female_18_59,
       case when x.n ? 'F|60' then (x.n ->> 'F|60')::integer else 0 end as female_60, case when x.n ? 'F|unknown' then (x.n ->> 'F|unknown')::integer else 0 end as female_unknown,
       r.female as female_total,
       case when x.n ? 'M|0_4' then (x.n ->> 'M|0_4')::integer else 0 end as male_0_4, case when x.n ? 'M|5_11' then (x.n ->> 'M|5_11')::integer else 0 end as male_5_11,
       case when x.n ? 'M|12_17' then (x.n ->> 'M|12_17')::integer else 0 end as male_12_17, case when x.n ? 'M|18_59' then (x.n ->> 'M|18_59')::integer else 0 end as male_18_59,
       case when x.n ? 'M|60' then (x.n ->> 'M|60')::integer else 0 end as male_60, case when x.n ? 'M|unknown' then (x.n ->> 'M|unknown')::integer else 0 end as male_unknown,
       r.male as male_total, r.total, r.operation, r.unknown_sex as unknown_sex_total
  from refuge_warehouse.snapshot s
  join refuge_warehouse.population_row r on r.snapshot_id = s.id
  left join cells x on x.snapshot_id = r.snapshot_id and x.operation = r.operation
                   and x.origin_country is not distinct from r.origin_country and x.population_type = r.population_type;
comment on view refuge_warehouse.population_statistics is 'UNHCR demographic table: per year, operation, countries of asylum and origin and population type, women and men by age bracket with totals; null = suppressed';
grant select on refuge_warehouse.population_statistics to refuge_analyst, refuge_dba;
alter view refuge_warehouse.population_statistics owner to refuge_owner;
revoke all on refuge_warehouse.population_statistics from public;
create view refuge_warehouse.case_processing with (security_invoker = true) as
select f.snapshot_id, f.module, f.operation, f.from_state, f.to_state, f.steps, f.mean_days, f.median_days, f.p90_days
  from refuge_warehouse.case_step_summary f;
comment on view refuge_warehouse.case_processing is 'days each step of each module takes, per snapshot and operation (not for sensitive modules); null = suppressed';
grant select on refuge_warehouse.case_processing to refuge_analyst, refuge_dba;
alter view refuge_warehouse.case_processing owner to refuge_owner;
revoke all on refuge_warehouse.case_processing from public;
create view refuge_warehouse.case_states with (security_invoker = true) as
select f.snapshot_id, f.module, f.operation, f.state, f.closed, f.cases, f.people, f.mean_days_open,
       f.mean_days_in_state
  from refuge_warehouse.case_summary f;
comment on view refuge_warehouse.case_states is 'cases by module, operation and state per snapshot (sensitive modules: open or closed only); null = suppressed';
grant select on refuge_warehouse.case_states to refuge_analyst, refuge_dba;
alter view refuge_warehouse.case_states owner to refuge_owner;
revoke all on refuge_warehouse.case_states from public;
-- The population by operation, site and the usual breakdowns.  Analysts
-- read the published cells of the latest snapshot taken by the end of
-- on_date (site null): live figures, however protected, would let two calls
-- a registration apart single out the person registered.  Supervisors read
-- live figures of their operations, protected the same way as published
-- ones: each operation's and each site's total may be known, so no
-- suppressed cell may be alone in its site or operation.
create function refuge.population_summary(on_date date default current_date, min_cell integer default 5)
    returns table (operation text, site text, population_type text, origin_country text, sex text,
                   age_bracket text, individuals integer, groups integer)
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
           case when supp[c.i] then null else ns[c.i]::integer end,
           case when supp[c.i] or gs[c.i] < k then null else gs[c.i]::integer end
      from generate_series(1, ncells) c(i)
     order by c.i;
end
$$;
comment on function refuge.population_summary(date, integer) is
    'active individuals by operation, site, population type, origin, sex and UNHCR age bracket.  Analysts: the published cells of the latest snapshot taken by the end of on_date (site null).  Supervisors: live figures of their operations; cells under refuge.min_cell_size (min_cell for superusers), and those that would give them away through a site''s or operation''s total, are null';
grant execute on function refuge.population_summary(date, integer) to refuge_supervisor, refuge_analyst;
create function refuge_warehouse.flows(from_snapshot integer, to_snapshot integer)
    returns table (operation text, arrivals integer, departures integer, moved_in integer, moved_out integer,
                   resettled integer, returned integer, naturalised integer)
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
grant execute on function refuge_warehouse.flows(integer, integer) to refuge_analyst, refuge_dba;
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
grant execute on function refuge.snapshots() to refuge_dba;
-- population_forecast read the trend view: defined again over the new one.
create function refuge_warehouse.population_forecast(operation text default null, horizon integer default 4)
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
grant execute on function refuge_warehouse.population_forecast(text, integer) to refuge_analyst, refuge_dba;
alter function refuge_warehouse.population_forecast(text, integer) owner to refuge_owner;
revoke all on function refuge_warehouse.population_forecast(text, integer) from public;
alter function refuge.population_summary(date, integer) owner to refuge_owner;
alter function refuge_warehouse.flows(integer, integer) owner to refuge_owner;
alter function refuge.snapshots() owner to refuge_owner;
revoke all on function refuge.population_summary(date, integer), refuge_warehouse.flows(integer, integer),
    refuge.snapshots() from public;
do $kept$
declare
    g text;
begin
    foreach g in array coalesce(string_to_array(nullif(current_setting('refuge_update.kept_grants', true), ''), chr(31)), '{}') loop
        execute g;
    end loop;
end
$kept$;


-- 5. import_rrf takes the files users have: bytes (UTF-8 with or without a
-- byte-order mark) or text, besides xml.
-- The xml form parses each kind of element once (a lookup per member had made
-- a large case quadratic), caps a case at 100 individuals and 5,000 detail
-- elements and a file at 20 MB, and refuses a DOCTYPE (eRRF files declare
-- none; entities are refused, not expanded).
create or replace function refuge.import_rrf(document xml) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    kase xml;
    ind xml;
    n xml;
    guid text;
    pg xml;
    asylum text;
    op refuge.operation;
    site_code text;
    members jsonb := '[]';
    m jsonb;
    i integer := 0;
    rel text;
    done jsonb;
    reg jsonb;
    ids jsonb;
    principal uuid;
    c jsonb;
    existing refuge.process_case;
    p text;
    -- each kind of element parsed once (a lookup per member had made the import quadratic)
    n_ipg xml[];
    n_alias xml[];
    n_language xml[];
    n_education xml[];
    n_employment xml[];
    n_address xml[];
    n_vulnerability xml[];
    n_individual xml[];
begin
    perform refuge.authorize('refuge_registration', 'import_rrf');
    perform refuge.authorize('refuge_resettlement', 'import_rrf');
    if document is null then
        perform refuge.raise_field('22004', 'document', 'is required');
    end if;
    if octet_length(document::text) > 20 * 1024 * 1024 then
        perform refuge.raise_field('54000', 'document', format('%s bytes is more than the 20 MB an eRRF file may have',
                                                               octet_length(document::text)));
    end if;
    -- eRRF files declare no DTD; entity declarations are refused, not expanded
    if strpos(document::text, '<!DOCTYPE') > 0 then
        perform refuge.raise_field('22023', 'document', 'has a DOCTYPE declaration, which an eRRF file does not');
    end if;
    if not xml_is_well_formed_document(document::text) then
        perform refuge.raise_field('22023', 'document', 'is not a well-formed XML document');
    end if;
    if (xpath('local-name(/*)', document))[1]::text <> 'UNHCR_RRF' then
        perform refuge.raise_field('22023', 'document', format('the root element is %s, not UNHCR_RRF',
                                                               (xpath('local-name(/*)', document))[1]));
    end if;
    if cardinality(refuge.rrf_nodes(document, 'CASE')) <> 1 then
        perform refuge.raise_field('22023', 'UNHCR_RRF.CASE', format('%s cases in the file: import one case per call',
                                                                     cardinality(refuge.rrf_nodes(document, 'CASE'))));
    end if;
    if refuge.rrf_text((refuge.rrf_nodes(document, 'RRFBATCHTYPE'))[1], 'GroupIndividualIndicator')
       is distinct from 'Single Submission' and
       refuge.rrf_text((refuge.rrf_nodes(document, 'RRFBATCHTYPE'))[1], 'GroupIndividualIndicator')
       is distinct from 'Group Submission' then
        perform refuge.raise_field('22023', 'UNHCR_RRF.RRFBATCHTYPE.GroupIndividualIndicator',
                                   'is not "Single Submission" or "Group Submission"');
    end if;
    kase := (refuge.rrf_nodes(document, 'CASE'))[1];
    pg := (refuge.rrf_nodes(kase, 'dataProcessGroup'))[1];
    if pg is null then
        perform refuge.raise_field('22023', 'CASE.dataProcessGroup', 'is missing (required by the eRRF v4 schema)');
    end if;
    perform refuge.rrf_check(pg, 'CASE.dataProcessGroup', array['ProcessingGroupGUID', 'ProcessingGroupNumber', 'ProcessingGroupSize']);
    guid := refuge.rrf_text(pg, 'ProcessingGroupGUID');
    if guid !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
        perform refuge.raise_field('22023', 'CASE.dataProcessGroup.ProcessingGroupGUID', format('"%s" is not a GUID', guid));
    end if;
    -- the same case imported before
    select * into existing from refuge.process_case x
     where x.module = 'RESETTLEMENT' and x.data ->> 'source_case_guid' = lower(guid)
       and refuge.in_scope(x.operation_id, x.site_id);
    if found then
        return jsonb_build_object('status', 'exists', 'case_id', existing.id, 'number', existing.number);
    end if;
    if cardinality(refuge.rrf_nodes(kase, 'dataResettlement')) <> 1 then
        perform refuge.raise_field('22023', 'CASE.dataResettlement', 'must appear once (required by the eRRF v4 schema)');
    end if;
    perform refuge.rrf_check((refuge.rrf_nodes(kase, 'dataResettlement'))[1], 'CASE.dataResettlement',
                             array['IndividualGUID', 'ResettlementCriteriaCode', 'ResettlementPriorityCode']);
    n_individual := refuge.rrf_nodes(kase, 'dataIndividual');
    if cardinality(n_individual) = 0 then
        perform refuge.raise_field('22023', 'CASE.dataIndividual', 'is missing: a case has at least one individual');
    end if;
    if cardinality(n_individual) > 100 then
        perform refuge.raise_field('54000', 'CASE.dataIndividual',
                                   format('%s individuals; a case holds at most 100', cardinality(n_individual)));
    end if;
    n_ipg := refuge.rrf_nodes(kase, 'dataIndividualProcessGroup');
    n_alias := refuge.rrf_nodes(kase, 'dataAlias');
    n_language := refuge.rrf_nodes(kase, 'dataLanguage');
    n_education := refuge.rrf_nodes(kase, 'dataEducation');
    n_employment := refuge.rrf_nodes(kase, 'dataEmployment');
    n_address := refuge.rrf_nodes(kase, 'dataAddress');
    n_vulnerability := refuge.rrf_nodes(kase, 'dataVulnerability');
    if cardinality(n_ipg) + cardinality(n_alias) + cardinality(n_language) + cardinality(n_education)
       + cardinality(n_employment) + cardinality(n_address) + cardinality(n_vulnerability) > 5000 then
        perform refuge.raise_field('54000', 'CASE', 'holds more than 5,000 detail elements (aliases, languages, addresses ...)');
    end if;
    foreach ind in array n_individual loop
        p := format('CASE.dataIndividual[%s]', i);
        perform refuge.rrf_check(ind, p, array['IndividualGUID', 'IndividualID', 'FamilyName', 'RegistrationDate',
            'DateofBirthEstimate', 'BirthCountryCode', 'OriginCountryCode', 'AsylumCountryCode', 'SexCode', 'NationalityCode',
            'MarriageStatusCode', 'ReligionCode', 'EthnicityCode', 'EducationLevelCode'],
            array['RegistrationDate', 'DateofBirth', 'ArrivalDate'], array['DateofBirthEstimate']);
        guid := refuge.rrf_text(ind, 'IndividualGUID');
        rel := (select refuge.rrf_text(x, 'RelationshipToPrincipalRepresentative')
                  from unnest(n_ipg) x
                 where refuge.rrf_text(x, 'IndividualGUID') = guid limit 1);
        if rel is null then
            perform refuge.raise_field('22023', p || '.IndividualGUID',
                format('%s has no dataIndividualProcessGroup (relationship to the principal representative)', guid));
        end if;
        asylum := coalesce(asylum, refuge.from_progres('country', refuge.rrf_text(ind, 'AsylumCountryCode'), p || '.AsylumCountryCode'));
        m := jsonb_strip_nulls(jsonb_build_object(
            'relationship', refuge.from_progres('relationship', rel, p || '.RelationshipToPrincipalRepresentative'),
            'family_name', refuge.rrf_text(ind, 'FamilyName'),
            'second_family_name', refuge.rrf_text(ind, 'SecondFamilyName'),
            'given_name', refuge.rrf_text(ind, 'GivenName'), 'middle_name', refuge.rrf_text(ind, 'MiddleName'),
            'maiden_name', refuge.rrf_text(ind, 'MaidenName'),
            'mother_name', refuge.rrf_text(ind, 'MotherName'), 'father_name', refuge.rrf_text(ind, 'FatherName'),
            'sex', refuge.from_progres('sex', refuge.rrf_text(ind, 'SexCode'), p || '.SexCode'),
            'date_of_birth', left(refuge.rrf_text(ind, 'DateofBirth'), 10),
            'dob_precision', case when refuge.rrf_text(ind, 'DateofBirth') is null then null
                                  when refuge.rrf_text(ind, 'DateofBirthEstimate') in ('1', 'true') then 'ESTIMATED'
                                  else 'EXACT' end,
            'place_of_birth', refuge.rrf_text(ind, 'BirthCityTownVillage'),
            'birth_country', refuge.from_progres('country', refuge.rrf_text(ind, 'BirthCountryCode'), p || '.BirthCountryCode'),
            'origin_country', refuge.from_progres('country', refuge.rrf_text(ind, 'OriginCountryCode'), p || '.OriginCountryCode'),
            'arrival_date', left(refuge.rrf_text(ind, 'ArrivalDate'), 10),
            'marital_status', refuge.from_progres('marital_status', refuge.rrf_text(ind, 'MarriageStatusCode'), p || '.MarriageStatusCode'),
            'religion', refuge.from_progres('religion', refuge.rrf_text(ind, 'ReligionCode'), p || '.ReligionCode'),
            'ethnicity', refuge.from_progres('ethnicity', refuge.rrf_text(ind, 'EthnicityCode'), p || '.EthnicityCode'),
            'education_level', refuge.from_progres('education_level', refuge.rrf_text(ind, 'EducationLevelCode'), p || '.EducationLevelCode'),
            'nationalities', (select jsonb_agg(x) from (select refuge.from_progres('country', refuge.rrf_text(ind, 'NationalityCode'),
                                                                                   p || '.NationalityCode') x) y where x is not null),
            'names', (select jsonb_agg(jsonb_strip_nulls(jsonb_build_object('kind', 'ALIAS',
                              'family_name', refuge.rrf_text(a, 'IndividualAliasLastName'),
                              'given_name', refuge.rrf_text(a, 'IndividualAliasFirstName'))))
                        from unnest(n_alias) a where refuge.rrf_text(a, 'IndividualGUID') = guid),
            'languages', (select jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                              'language', refuge.from_progres('language', refuge.rrf_text(l, 'LanguageCode'), 'CASE.dataLanguage.LanguageCode'),
                              'read', refuge.from_progres('language_level', refuge.rrf_text(l, 'LanguageReadCode'), 'CASE.dataLanguage.LanguageReadCode'),
                              'write', refuge.from_progres('language_level', refuge.rrf_text(l, 'LanguageWriteCode'), 'CASE.dataLanguage.LanguageWriteCode'),
                              'speak', refuge.from_progres('language_level', refuge.rrf_text(l, 'LanguageSpeakCode'), 'CASE.dataLanguage.LanguageSpeakCode'),
                              'understand', refuge.from_progres('language_level', refuge.rrf_text(l, 'LanguageUnderstandCode'), 'CASE.dataLanguage.LanguageUnderstandCode'))))
                            from unnest(n_language) l
                           where refuge.rrf_text(l, 'IndividualGUID') = guid
                             and refuge.from_progres('language', refuge.rrf_text(l, 'LanguageCode'), 'CASE.dataLanguage.LanguageCode') is not null),
            'education', (select jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                              'level', refuge.from_progres('education_level', refuge.rrf_text(e, 'EducationLevelCode'), 'CASE.dataEducation.EducationLevelCode'),
                              'degree', refuge.from_progres('education_degree', refuge.rrf_text(e, 'DegreeTypeCode'), 'CASE.dataEducation.DegreeTypeCode'))))
                            from unnest(n_education) e
                           where refuge.rrf_text(e, 'IndividualGUID') = guid
                             and refuge.from_progres('education_level', refuge.rrf_text(e, 'EducationLevelCode'), 'CASE.dataEducation.EducationLevelCode') is not null),
            'occupations', (select jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                              'kind', case refuge.rrf_text(w, 'EmploymentTypeCode') when 'E' then 'EMPLOYED' when 'NE' then 'NOT_EMPLOYED' else 'SKILL' end,
                              'occupation', refuge.from_progres('occupation', refuge.rrf_text(w, 'OccupationCode'), 'CASE.dataEmployment.OccupationCode'),
                              'title', refuge.rrf_text(w, 'OccupationText'))))
                              from unnest(n_employment) w where refuge.rrf_text(w, 'IndividualGUID') = guid),
            'addresses', (select jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                              'type', (select pc.code from refuge.progres_code pc where pc.domain = 'address_type'
                                        and lower(pc.progres_code) = lower(refuge.rrf_text(a, 'AddressType'))),
                              'country', refuge.from_progres('country', refuge.rrf_text(a, 'AddressCountry'), 'CASE.dataAddress.AddressCountry'),
                              'level1', refuge.rrf_text(a, 'LocationLevel1Description'), 'level2', refuge.rrf_text(a, 'LocationLevel2Description'),
                              'level3', refuge.rrf_text(a, 'LocationLevel3Description'), 'level4', refuge.rrf_text(a, 'LocationLevel4Description'),
                              'level5', refuge.rrf_text(a, 'LocationLevel5Description'), 'level6', refuge.rrf_text(a, 'LocationLevel6'))))
                            from unnest(n_address) a where refuge.rrf_text(a, 'IndividualGUID') = guid),
            'specific_needs', (select jsonb_agg(jsonb_build_object('category',
                              refuge.from_progres('vulnerability', refuge.rrf_text(v, 'VulnerabilityCode'), 'CASE.dataVulnerability.VulnerabilityCode')))
                                 from unnest(n_vulnerability) v
                                where refuge.rrf_text(v, 'IndividualGUID') = guid)))
            || jsonb_build_object('ref', guid);
        if m ->> 'relationship' = 'PA' then
            members := jsonb_build_array(m) || members;
        else
            members := members || m;
        end if;
        i := i + 1;
    end loop;
    -- the operation of the country of asylum the caller works in, and a site of it
    select o.* into op from refuge.operation o
     where o.country = asylum and o.active and refuge.in_scope(o.id)
     order by o.code limit 1;
    if not found then
        perform refuge.raise_field('23503', 'CASE.dataIndividual.AsylumCountryCode',
            format('no operation in %s that you are assigned to', coalesce(asylum, 'an unknown country')));
    end if;
    select s.code into site_code from refuge.site s
     where s.operation_id = op.id and s.active
     order by s.id = any (refuge.scope_sites()) desc, s.code limit 1;
    reg := refuge.register_group(jsonb_build_object(
        'request_id', refuge.derived_uuid(lower(refuge.rrf_text(pg, 'ProcessingGroupGUID'))::uuid, '00000000-0000-0000-0000-00000000e44f'),
        'operation', op.code, 'site', site_code, 'registration_level', 'COMPREHENSIVE', 'population_type', 'REF',
        'registration_date', left(refuge.rrf_text(n_individual[1], 'RegistrationDate'), 10),
        'members', (select jsonb_agg(x - 'ref') from jsonb_array_elements(members) x)));
    -- members in the order given: the result lists them in the same order
    principal := (reg -> 'members' -> 0 ->> 'individual_id')::uuid;
    c := refuge.open_case('RESETTLEMENT', principal,
        array(select (x ->> 'individual_id')::uuid from jsonb_array_elements(reg -> 'members') x),
        jsonb_strip_nulls(jsonb_build_object(
            'submission_category', refuge.from_progres('resettlement_criteria',
                refuge.rrf_text((refuge.rrf_nodes(kase, 'dataResettlement'))[1], 'ResettlementCriteriaCode'),
                'CASE.dataResettlement.ResettlementCriteriaCode'),
            'secondary_category', refuge.from_progres('resettlement_criteria',
                refuge.rrf_text((refuge.rrf_nodes(kase, 'dataResettlement'))[1], 'ResettlementCriteria2Code'),
                'CASE.dataResettlement.ResettlementCriteria2Code'),
            'priority', refuge.from_progres('resettlement_priority',
                refuge.rrf_text((refuge.rrf_nodes(kase, 'dataResettlement'))[1], 'ResettlementPriorityCode'),
                'CASE.dataResettlement.ResettlementPriorityCode'),
            'source_case_guid', lower(refuge.rrf_text(pg, 'ProcessingGroupGUID')),
            'source_case_number', refuge.rrf_text(pg, 'ProcessingGroupNumber'),
            'identification_method', 'PARTNER_REFERRAL')),
        'imported from eRRF case ' || refuge.rrf_text(pg, 'ProcessingGroupNumber'));
    return jsonb_build_object('status', 'imported', 'case_id', c -> 'case_id', 'number', c -> 'number',
                              'group_id', reg -> 'group_id', 'operation', op.code, 'site', site_code,
                              'members', jsonb_array_length(reg -> 'members'),
                              'source_case_number', refuge.rrf_text(pg, 'ProcessingGroupNumber'));
end
$$;

-- The files users have: the bytes of a file (UTF-8, with or without the
-- byte-order mark that the xml type refuses) or its text.  Both end in the
-- function above.
create function refuge.import_rrf(document text) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    if document is null then
        perform refuge.raise_field('22004', 'document', 'is required');
    end if;
    if length(document) > 20 * 1024 * 1024 then
        perform refuge.raise_field('54000', 'document', format('%s characters is more than the 20 MB an eRRF file may have',
                                                               length(document)));
    end if;
    document := regexp_replace(document, '^\uFEFF', '');
    if strpos(document, '<!DOCTYPE') > 0 then
        perform refuge.raise_field('22023', 'document', 'has a DOCTYPE declaration, which an eRRF file does not');
    end if;
    if not xml_is_well_formed_document(document) then
        perform refuge.raise_field('22023', 'document', 'is not a well-formed XML document');
    end if;
    return refuge.import_rrf(document::xml);
end
$$;
comment on function refuge.import_rrf(text) is
    'import an eRRF v4 file given as text (a leading byte-order mark is ignored): as import_rrf(xml)';
grant execute on function refuge.import_rrf(text) to refuge_registration, refuge_resettlement;

create function refuge.import_rrf(document bytea) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    t text;
begin
    if document is null then
        perform refuge.raise_field('22004', 'document', 'is required');
    end if;
    if length(document) > 20 * 1024 * 1024 then
        perform refuge.raise_field('54000', 'document', format('%s bytes is more than the 20 MB an eRRF file may have',
                                                               length(document)));
    end if;
    if substr(document, 1, 3) = '\xefbbbf'::bytea then
        document := substr(document, 4);
    end if;
    begin
        t := convert_from(document, 'UTF8');
    exception when character_not_in_repertoire or untranslatable_character then
        perform refuge.raise_field('22021', 'document', 'is not UTF-8 text (eRRF files are UTF-8)');
    end;
    return refuge.import_rrf(t);
end
$$;
comment on function refuge.import_rrf(bytea) is
    'import an eRRF v4 file given as its bytes (UTF-8, with or without a byte-order mark): as import_rrf(xml)';
grant execute on function refuge.import_rrf(bytea) to refuge_registration, refuge_resettlement;
alter function refuge.import_rrf(text) owner to refuge_owner;
alter function refuge.import_rrf(bytea) owner to refuge_owner;
revoke all on function refuge.import_rrf(text), refuge.import_rrf(bytea) from public;

-- 6. API errors are marked as refuge's (schema 'refuge'): the client gets the
-- field path, SQLSTATE and problem without PL/pgSQL's context lines.
-- Every field error is bounded, whatever value a caller sent: a message
-- quotes at most 1,000 characters (values are quoted through excerpt()).
create or replace function refuge.raise_field(sqlstate text, field text, problem text, hint text default null)
    returns void
    language plpgsql immutable
as $$
declare
    msg text := left(field, 200) || ': ' || problem;
begin
    if length(msg) > 1000 then
        msg := left(msg, 1000) || '...';
    end if;
    -- schema 'refuge' marks the error as the API's own: the client gets it
    -- without PL/pgSQL's context lines (extension/log_privacy.c)
    if hint is null then
        raise exception using errcode = sqlstate, message = msg, schema = 'refuge';
    else
        raise exception using errcode = sqlstate, message = msg, hint = left(hint, 1000), schema = 'refuge';
    end if;
end
$$;


-- Authorization errors are the API's too.
-- Raise insufficient_privilege unless the caller holds the role and, when an
-- operation is given, is assigned to it (or to the site).
create or replace function refuge.authorize(p_role name, p_action text, p_operation uuid default null, p_site uuid default null)
    returns void
    language plpgsql stable
as $$
begin
    if refuge.caller_is_superuser() then
        return;
    end if;
    if not refuge.caller_has(p_role) then
        raise exception using errcode = '42501', schema = 'refuge',
            message = format('%s: role %s is not a member of %s', p_action, refuge.caller(), p_role);
    end if;
    if p_operation is not null and not refuge.in_scope(p_operation, p_site) then
        raise exception using errcode = '42501', schema = 'refuge',
            message = format('%s: role %s is not assigned to this operation or site', p_action, refuge.caller());
    end if;
end
$$;

-- refuge.authorize for an action open to several roles: raise
-- insufficient_privilege unless the caller holds one of them.
create or replace function refuge.authorize_any(p_roles name[], p_action text) returns void
    language plpgsql stable
as $$
begin
    if refuge.caller_is_superuser() or exists (select 1 from unnest(p_roles) r where refuge.caller_has(r)) then
        return;
    end if;
    raise exception using errcode = '42501', schema = 'refuge',
        message = format('%s: role %s is not a member of %s', p_action, refuge.caller(), array_to_string(p_roles, ' or '));
end
$$;


-- 7. Every function, table, view, type and operator a role may use says what it is.
comment on function refuge.lib_version() is
    'the version of the loaded shared library (differs from the extension''s until the server restarts after an update)';
comment on function refuge.caller_is_superuser() is
    'is the caller a superuser (who bypasses scope)?';
comment on function refuge.caller_has(name) is
    'is the caller a member of this role?';
comment on function refuge.make_line(geometry[]) is
    'a line through points, skipping missing ones';
comment on table refuge.sex is 'vocabulary: sex (F, M, U)';
comment on table refuge.marital_status is 'vocabulary: marital statuses (UNHCR)';
comment on table refuge.education_level is 'vocabulary: education levels (UNHCR)';
comment on table refuge.education_degree is 'vocabulary: degrees (proGres codes)';
comment on table refuge.address_type is 'vocabulary: kinds of address (UNHCR)';
comment on table refuge.language_proficiency is 'vocabulary: language proficiency levels';
comment on table refuge.religion is 'vocabulary: religions (proGres codes)';
comment on table refuge.ethnicity is 'vocabulary: ethnicities (proGres codes)';
comment on table refuge.population_type is 'vocabulary: population types (refugee, asylum-seeker, stateless ...) with their HXL tags';
comment on table refuge.specific_need_category is 'vocabulary: UNHCR specific-need categories';
comment on table refuge.registration_level is 'vocabulary: registration levels (group pre-registration, emergency, basic, comprehensive)';
comment on table refuge.date_precision is 'vocabulary: how exact a date is (exact, month, year, estimated)';
comment on table refuge.document_type is 'vocabulary: document types (national ID, passport, UNHCR certificate ...)';
comment on table refuge.flight_reason is 'vocabulary: reasons of flight';
comment on table refuge.contact_type is 'vocabulary: kinds of contact (telephone, mobile, e-mail, messaging application)';
comment on table refuge.individual_status is 'vocabulary: statuses of an individual record (active, inactive, hold, closed, deceased, duplicate)';
comment on table refuge.group_status is 'vocabulary: statuses of a registration group';
comment on table refuge.site_type is 'vocabulary: kinds of site (camp, urban, office, transit, border)';
comment on table refuge.staff is 'members of staff: their login role, name and whether active';
comment on table refuge.staff_assignment is 'where staff work: an operation or one of its sites, during a validity window';
comment on function refuge.scope_operations() is
    'the operations the caller is assigned to as a whole';
comment on function refuge.scope_sites() is
    'the sites the caller is assigned to';
comment on function refuge.in_scope(uuid, uuid) is
    'is this operation (or site) one the caller is assigned to?';
comment on table refuge.individual is 'registered individuals: biodata, legal status (population type), registration level and status';
comment on table refuge.individual_language is 'languages of individuals with proficiency';
comment on table refuge.individual_education is 'education of individuals';
comment on table refuge.individual_occupation is 'occupations and skills of individuals';
comment on table refuge.individual_contact is 'contacts of individuals (phones, emails), with validity';
comment on table refuge.document is 'identity and civil documents of individuals; numbers unique per type and issuer under refuge.identifier_key';
comment on table refuge.photo is 'references to photographs of individuals (images themselves go to the vault)';
comment on table refuge.specific_need is 'specific needs of individuals (UNHCR categories and codes), open or closed';
comment on function refuge.iris_in(cstring) is
    'text input of the iris type (ROWSxCOLSxBITS:CODEHEX:MASKHEX)';
comment on function refuge.iris_out(refuge.iris) is
    'text output of the iris type';
comment on function refuge.iris_recv(internal) is
    'binary input of the iris type (its layout)';
comment on function refuge.iris_send(refuge.iris) is
    'binary output of the iris type (its layout)';
comment on function refuge.iris_distance(refuge.iris, refuge.iris) is
    'normalised Hamming distance of two iris codes, best of the default shifts; the <-> operator';
comment on function refuge.match(refuge.iris, refuge.iris, double precision) is
    'do two iris codes match at this distance threshold?';
comment on function refuge.iris_match_op(refuge.iris, refuge.iris) is
    'do two iris codes match at refuge.iris_threshold? The % operator';
comment on function refuge.iris_valid_bits(refuge.iris) is
    'the number of valid (unmasked) bits of an iris code';
comment on function refuge.iris_threshold_for(double precision, double precision, double precision, integer) is
    'the distance threshold for a target false-match rate (iris codes of a geometry)';
comment on function refuge.fingerprint_in(cstring) is
    'text input of the fingerprint type';
comment on function refuge.fingerprint_out(refuge.fingerprint) is
    'text output of the fingerprint type';
comment on function refuge.fingerprint_recv(internal) is
    'binary input of the fingerprint type (lossless RFP form; ISO/ANSI records accepted)';
comment on function refuge.fingerprint_send(refuge.fingerprint) is
    'binary output of the fingerprint type (lossless RFP form)';
comment on function refuge.fingerprint_to_iso(refuge.fingerprint) is
    'a fingerprint as an ISO/IEC 19794-2:2005 record';
comment on function refuge.fingerprint_score(refuge.fingerprint, refuge.fingerprint) is
    'calibrated similarity of two fingerprints: 10 log10(1/FMR)';
comment on function refuge.fingerprint_distance(refuge.fingerprint, refuge.fingerprint) is
    'the matcher''s false-match probability of two fingerprints (smaller: stronger match); the <-> operator';
comment on function refuge.match(refuge.fingerprint, refuge.fingerprint, double precision) is
    'do two fingerprints match at this calibrated score?';
comment on function refuge.fingerprint_match_op(refuge.fingerprint, refuge.fingerprint) is
    'do two fingerprints match at refuge.fingerprint_threshold? The % operator';
comment on function refuge.fingerprint_minutiae(refuge.fingerprint) is
    'the number of minutiae of a fingerprint';
comment on function refuge.fingerprint_quality(refuge.fingerprint) is
    'the quality of a fingerprint view (0-100)';
comment on function refuge.fingerprint_position(refuge.fingerprint) is
    'the finger position of a fingerprint (ISO 1-10, 0 unknown)';
comment on function refuge.synthetic_iris(bigint, bigint, integer) is
    'a synthetic iris code (seed, person, capture) for tests and demos';
comment on function refuge.synthetic_fingerprint(bigint, bigint, integer) is
    'a synthetic fingerprint (seed, person, impression) for tests and demos';
comment on operator refuge.<-> (refuge.iris, refuge.iris) is 'distance of two iriss (smaller: more alike); ORDER BY ... <-> probe uses a refuge_iris index';
comment on operator refuge.% (refuge.iris, refuge.iris) is 'do two iriss match at refuge.iris_threshold? WHERE ... % probe uses a refuge_iris index';
comment on operator refuge.<-> (refuge.fingerprint, refuge.fingerprint) is 'distance of two fingerprints (smaller: more alike); ORDER BY ... <-> probe uses a refuge_fingerprint index';
comment on operator refuge.% (refuge.fingerprint, refuge.fingerprint) is 'do two fingerprints match at refuge.fingerprint_threshold? WHERE ... % probe uses a refuge_fingerprint index';
comment on operator refuge.<> (refuge.iris, refuge.iris) is 'not the same template (byte for byte)';
comment on operator refuge.< (refuge.iris, refuge.iris) is 'before, in the order of the stored bytes (arbitrary but stable)';
comment on operator refuge.<= (refuge.iris, refuge.iris) is 'before or the same, in the order of the stored bytes';
comment on operator refuge.> (refuge.iris, refuge.iris) is 'after, in the order of the stored bytes';
comment on operator refuge.>= (refuge.iris, refuge.iris) is 'after or the same, in the order of the stored bytes';
comment on operator refuge.<> (refuge.fingerprint, refuge.fingerprint) is 'not the same template (byte for byte)';
comment on operator refuge.< (refuge.fingerprint, refuge.fingerprint) is 'before, in the order of the stored bytes (arbitrary but stable)';
comment on operator refuge.<= (refuge.fingerprint, refuge.fingerprint) is 'before or the same, in the order of the stored bytes';
comment on operator refuge.> (refuge.fingerprint, refuge.fingerprint) is 'after, in the order of the stored bytes';
comment on operator refuge.>= (refuge.fingerprint, refuge.fingerprint) is 'after or the same, in the order of the stored bytes';
comment on function refuge.caller_modules() is
    'the case modules the caller works, from their module roles';
comment on function refuge.may_work_case(text, uuid, uuid) is
    'may the caller work cases of this module in this operation and site?';
comment on function refuge.caller_partner() is
    'the partner organisation the caller works for, if any';
comment on function refuge.create_operation(text, text, text, jsonb) is
    'create an operation (code, country of asylum, name, numbering settings); administrators';
comment on function refuge.create_site(text, text, text, text, double precision, double precision) is
    'create a site of an operation (code, name, type, location); administrators';
comment on function refuge.assign_staff(name, text, text, text, date) is
    'assign a login to an operation (or one of its sites) until a date (administrators); returns the assignment id';
comment on function refuge.end_staff_assignment(uuid) is
    'end a staff assignment today (administrators)';
comment on function refuge.create_partner(text, text) is
    'register a partner organisation that cases may be referred to (administrators)';
comment on function refuge.assign_partner_staff(name, text) is
    'make a login a member of staff of a partner organisation (administrators)';
comment on function refuge.add_flight_leg(uuid, jsonb, integer) is
    'record a leg of an individual''s flight (places, dates, reasons); returns its id';
comment on function refuge.add_document(uuid, jsonb) is
    'record an identity or civil document of an individual (duplicate numbers refused under identifier_key); returns its id';
comment on function refuge.set_document_status(uuid, text) is
    'set a document''s status (valid, expired, lost, confiscated, cancelled)';
comment on function refuge.add_specific_need(uuid, jsonb) is
    'record a specific need (UNHCR category and code) of an individual; returns its id';
comment on function refuge.close_specific_need(uuid, text, date) is
    'close a specific need with the reason and date (the row stays as history)';
comment on function refuge.register_group(jsonb) is
    'register a family and its members in one call (idempotent with request_id); returns the numbers and ids';
comment on function refuge.add_individual(uuid, jsonb, uuid) is
    'add a member to a registered family (same fields as register_group''s members); returns the new record';
comment on function refuge.update_individual(uuid, jsonb) is
    'update an individual''s biodata (legal status and adjudicated states through request_status_change)';
comment on function refuge.flight_route(uuid) is
    'an individual''s flight as a line through the legs'' places (PostGIS geometry)';
comment on function refuge.age_bracket(date, date, text) is
    'the UNHCR age bracket of a birth date on a date (profile: the bracket set, STD by default)';
comment on function refuge.set_principal(uuid, uuid, text) is
    'make another member the family''s principal representative (supervisors)';
comment on function refuge.split_group(uuid, jsonb, text) is
    'split members off a family into a new one (supervisors)';
comment on function refuge.merge_groups(uuid, uuid, jsonb, text) is
    'merge one family into another with the members'' new relationships (supervisors)';
comment on function refuge.move_individual(uuid, uuid, text, text) is
    'move a person to another family with their relationship there (supervisors)';
comment on function refuge.synthetic_templates(bigint, bigint, integer) is
    'synthetic templates of a person in enrol_biometrics'' shape (seed, person, capture)';
comment on function refuge.biometric_templates(uuid, text) is
    'an enrolled person''s fingerprint and iris templates, for HQ review; each read logged with its purpose';
comment on function refuge.vault_contents(uuid) is
    'the sealed images of a person in the vault (no image data)';
comment on function refuge.create_assistance_plan(jsonb) is
    'create an assistance plan (code, modality, ration per person, population types, sites, dates); returns its id';
comment on function refuge.open_assistance_cycle(uuid, date, date) is
    'open a cycle of an assistance plan: entitlements for every targeted family';
comment on function refuge.authorise_collector(uuid, uuid, text, date) is
    'authorise someone to collect assistance for a family (besides the principal), until a date';
comment on function refuge.open_distribution(uuid, text, date) is
    'open a distribution of a cycle at a site on a day';
comment on function refuge.open_case(text, uuid, uuid[], jsonb, text) is
    'open a case of a module for a principal (and members), with its opening data';
comment on function refuge.transition_case(uuid, text, jsonb, text) is
    'take a workflow step of a case (its data checked; approval requested where the step needs one)';
comment on function refuge.decide_approval(uuid, boolean, text) is
    'approve or reject a requested case step (a supervisor other than the requester)';
comment on function refuge.assign_case(uuid, name, timestamp with time zone, text) is
    'assign a case to a member of staff who works its module, with an optional due date';
comment on function refuge.flag_case(uuid, text, name, text) is
    'flag a case with a message for a role (an alert, announced by NOTIFY with its uuid only)';
comment on function refuge.acknowledge_alert(uuid) is
    'acknowledge a case alert (by the uuid NOTIFY carried): for those who work the case';
comment on function refuge.add_case_member(uuid, uuid, text) is
    'add a person to a case after it was opened (a dependant), with the reason';
comment on function refuge.remove_case_member(uuid, uuid, text) is
    'remove a member (not the principal) from a case, with the reason';
comment on function refuge.link_case(uuid, text, uuid, text) is
    'link a case to another case, fraud alert or case, deduplication case or collection in the caller''s scope';
comment on function refuge.tracing_matches(uuid, integer) is
    'people who may be the person a tracing case seeks (names and birth year), logged';
comment on function refuge.add_case_note(uuid, text, boolean, text) is
    'add a note to a case (confidential notes sealed in the vault); returns its id';
comment on function refuge.read_case_note(uuid, text) is
    'the text of a case note (confidential or sensitive ones logged with the purpose)';
comment on function refuge.add_case_document(uuid, text, text, bytea, boolean) is
    'attach a document to a case (confidential ones sealed in the vault); returns its id';
comment on function refuge.read_case_document(uuid, text) is
    'the content of a case document (confidential or sensitive ones logged with the purpose)';
comment on function refuge.record_gbv_incident(uuid, jsonb) is
    'record the incident of an SGBV case (GBVIMS classification, consents, sealed narrative)';
comment on function refuge.read_gbv_incident(uuid, text) is
    'an SGBV case''s incident, narrative included; logged with the purpose';
comment on function refuge.request_case_transfer(uuid, text, text, text) is
    'ask another operation (or site) to take a case; returns the transfer id';
comment on function refuge.decide_case_transfer(uuid, text, text) is
    'accept or reject a transfer (receiving side) or cancel it (requester)';
comment on function refuge.refer_case(uuid, text, text[], text, date) is
    'refer a case to a partner: the fields shared, the purpose, until a date (consent checked)';
comment on function refuge.end_referral(uuid, text, text) is
    'close (the partner) or revoke (the case worker) a referral, with the reason';
comment on function refuge.referred_cases() is
    'the partner''s active referrals (no case content)';
comment on function refuge.referred_case(uuid, text) is
    'what a partner may read of a case referred to it (the shared fields), logged with the purpose';
comment on function refuge.import_rrf(xml) is
    'import an eRRF v4 resettlement case (family and case) into the caller''s operation; the caller needs both refuge_registration and refuge_resettlement; idempotent per file';
comment on function refuge.seal_audit() is
    'seal the audit rows no open transaction can still add to (the hash chain); schedule it';
comment on function refuge.audit_head() is
    'the head of the audit chain (seq and hash): keep it outside the database to detect a rewritten chain';
comment on function refuge.verify_audit(bigint, text) is
    'seal what can be sealed, then verify the whole audit chain (optionally against a kept head); returns the problems found';
comment on function refuge.snapshot(timestamp with time zone, text) is
    'take a warehouse snapshot as of a moment: frozen pseudonymous facts and the published, disclosure-controlled tables (DBAs)';
comment on function refuge.snapshots() is
    'the warehouse snapshots with their sizes and timings (DBAs)';
comment on function refuge.drop_snapshot(integer) is
    'drop a warehouse snapshot and its partitions (DBAs)';
comment on function refuge_warehouse.age_band(integer) is
    'the pyramid band of an age (five years inside UNHCR''s brackets)';
comment on function refuge_warehouse.age_bands() is
    'the pyramid bands in order';
comment on function refuge_warehouse.band_bracket(text) is
    'the UNHCR bracket a pyramid band lies in';
comment on function refuge.forecast(double precision[], integer, double precision, double precision) is
    'Holt''s linear exponential smoothing of a series: forecasts with 95 % intervals (parameters fitted when not given)';
comment on function refuge_warehouse.pyramid_bar(bigint, bigint, bigint, integer, integer, integer, integer, text, boolean) is
    'one bar of the SVG population pyramid (internal to population_pyramid_svg)';
comment on function refuge.rrf_xml(uuid) is
    'a resettlement case as an eRRF v4 document (logged)';
comment on function refuge.rrf_json(uuid) is
    'a resettlement case''s Resettlement Registration Form as JSON (logged)';
comment on function refuge.rrf_pdf(uuid) is
    'a resettlement case''s Resettlement Registration Form as PDF (logged)';


-- 8. Personal data stays out of the server log: a duplicate document's number
-- moves from the message to the detail (withheld from the log), and
-- deployment_check() lists the slow-statement settings that log statement text.
create or replace function refuge.document_row(p_individual uuid, e jsonb, p text, batch jsonb[])
    returns jsonb
    language plpgsql
as $$
declare
    dtype text;
    num text;
    issuer text;
    d1 date;
    d2 date;
    k text;
    dup record;
begin
    perform refuge.arg_fields(e, p, array['type', 'number', 'issuing_country', 'issued_on', 'expires_on',
                                          'status', 'original_seen', 'comment']);
    dtype := refuge.arg_code(e, 'type', p, 'document_type', true);
    num := refuge.arg_text(e, 'number', p, true, 60);
    issuer := refuge.arg_code(e, 'issuing_country', p, 'country');
    d1 := refuge.arg_date(e, 'issued_on', p);
    d2 := refuge.arg_date(e, 'expires_on', p, false, false);
    perform refuge.check_dates(d1, d2, p, 'issued_on', 'expires_on');
    if coalesce(e ->> 'status', 'VALID') not in ('VALID', 'EXPIRED', 'LOST', 'CONFISCATED', 'CANCELLED') then
        perform refuge.raise_field('22023', p || '.status', format('unknown status %s', e -> 'status'),
                                   'one of VALID, EXPIRED, LOST, CONFISCATED, CANCELLED');
    end if;
    if refuge.identifier_key(num) = '' then
        perform refuge.raise_field('22023', p || '.number', 'has no letter or digit');
    end if;
    k := dtype || '/' || coalesce(issuer, '') || '/' || refuge.identifier_key(num);
    select d.id, d.individual_id, i.operation_id, i.site_id into dup
      from refuge.document d join refuge.individual i on i.id = d.individual_id
     where d.doc_type = dtype and coalesce(d.issuing_country, '') = coalesce(issuer, '')
       and refuge.identifier_key(d.number) = refuge.identifier_key(num)
     limit 1;
    if dup.id is not null and not refuge.in_scope(dup.operation_id, dup.site_id) then
        -- global deduplication must say that the document is held elsewhere: that
        -- answer is a lookup across operations, committed by the logging worker
        -- before it is given (a clerk who rolls back still leaves a trace)
        perform refuge.log_durably(jsonb_build_object('sensitive_read', jsonb_build_array(jsonb_build_object(
            'actor', refuge.caller(), 'kind', 'document_match', 'object_id', dup.id,
            'individual_id', dup.individual_id, 'operation_id', dup.operation_id,
            'purpose', 'registration refused: the document is recorded in another operation'))));
    end if;
    if dup.id is not null
       or exists (select 1 from unnest(batch) b where b @> jsonb_build_object('_t', 'document', '_key', k)) then
        -- the number goes in the detail, which the server log withholds
        -- (extension/log_privacy.c): a document number singles a person out
        raise exception using errcode = '23505', schema = 'refuge',
            message = format('%s.number: this %s%s is already recorded', left(p, 200), dtype, coalesce(' issued by ' || issuer, '')),
            detail = format('number %s', refuge.excerpt(num)),
            hint = 'the document belongs to a registered individual; check for a double registration';
    end if;
    return jsonb_build_object('id', gen_random_uuid(), 'individual_id', p_individual, 'doc_type', dtype,
        'number', num, 'issuing_country', issuer, 'issued_on', d1, 'expires_on', d2,
        'status', coalesce(e ->> 'status', 'VALID'), 'original_seen', refuge.arg_bool(e, 'original_seen', p, false),
        'comment', refuge.arg_text(e, 'comment', p, false, 2000), '_key', k);
end
$$;

-- What a deployment should have set, checked: the preload, statement
-- logging that could write personal data, background workers for logged
-- reads, the database encoding.  README, "Deployment".
create or replace function refuge.deployment_check()
    returns table (setting text, value text, recommended text, ok boolean, why text)
    language sql stable
    set search_path = pg_catalog, pg_temp
begin atomic
    select 'shared_preload_libraries', case when refuge.preloaded() then 'includes refuge' else 'without refuge' end,
           'includes refuge', refuge.preloaded(),
           'superuser-only settings (the vault key file) hidden from the start; the vault opens only then'
    union all
    select 'log_statement', current_setting('log_statement'), 'none or ddl',
           current_setting('log_statement') in ('none', 'ddl'),
           'all and mod write every statement, personal data included, to the server log'
    union all
    select 'log_min_error_statement', current_setting('log_min_error_statement'), 'panic',
           current_setting('log_min_error_statement') = 'panic',
           'refuge hides failed API calls; other failed statements are logged with their text'
    union all
    select 'log_parameter_max_length_on_error', current_setting('log_parameter_max_length_on_error'), '0',
           current_setting('log_parameter_max_length_on_error') = '0',
           'bind values of failed statements would be logged'
    union all
    select 'log_min_duration_statement', current_setting('log_min_duration_statement'), '-1',
           current_setting('log_min_duration_statement') = '-1',
           'a statement slower than this is logged with its text and bind values, personal data included'
    union all
    select 'log_min_duration_sample', current_setting('log_min_duration_sample'), '-1',
           current_setting('log_min_duration_sample') = '-1',
           'sampled slow statements are logged with their text and bind values'
    union all
    select 'log_transaction_sample_rate', current_setting('log_transaction_sample_rate'), '0',
           current_setting('log_transaction_sample_rate')::float8 = 0,
           'every statement of a sampled transaction is logged with its text'
    union all
    select 'max_worker_processes', current_setting('max_worker_processes'), 'at least 8 more than the parallel workers',
           current_setting('max_worker_processes')::integer >= current_setting('max_parallel_workers')::integer + 8,
           'every logged read needs a background worker for a moment; none free means the read is refused'
    union all
    select 'idle_in_transaction_session_timeout', current_setting('idle_in_transaction_session_timeout'), '1min to 1h',
           (select x.setting::bigint between 60000 and 3600000 from pg_catalog.pg_settings x
             where x.name = 'idle_in_transaction_session_timeout'),
           'refuge.seal_audit() seals only what no open transaction can still add to; a session left idle in a transaction holds the seal back'
    union all
    select 'server_encoding', current_setting('server_encoding'), 'UTF8', current_setting('server_encoding') = 'UTF8',
           'names in every script; identifiers and names are checked as Unicode';
end;
