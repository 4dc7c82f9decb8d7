-- refuge 0.8.0 -> 0.9.0: field sites on PostgreSQL's logical replication
\echo Use "ALTER EXTENSION refuge UPDATE TO '0.9.0'" to load this file. \quit

-- 1. Append-only rows may leave a field site (re-seed, a case moving away)
-- and be re-routed; their content never changes.
-- Append-only means append-only, whatever row_security says.  Only a
-- field site's re-seed (refuge.sync_purging, superuser only) deletes a
-- copy of a row owned elsewhere, replication keeps a copy like its owner's,
-- and a change of route or owner touches none of a row's content.
create function refuge.sync_purging() returns boolean
    language c stable as 'MODULE_PATHNAME', 'refuge_sync_purging';

create or replace function refuge.append_only() returns trigger
    language plpgsql
as $$
begin
    -- the owner's copy was guarded where it was written; a copy follows it
    if refuge.sync_applying() or (tg_op = 'DELETE' and refuge.sync_purging()) then
        return coalesce(NEW, OLD);
    end if;
    -- a case moving to another operation re-routes its events, HQ takes over
    -- the rows of a field site that closed; their content stays
    if tg_op = 'UPDATE' and to_jsonb(NEW) - array['sync_operation', 'sync_shared', 'sync_owner', 'updated_at', 'updated_by']
                            = to_jsonb(OLD) - array['sync_operation', 'sync_shared', 'sync_owner', 'updated_at', 'updated_by'] then
        return NEW;
    end if;
    raise exception using errcode = '42501',
        message = format('%s is append-only: rows are never %s', tg_table_name,
                         case tg_op when 'DELETE' then 'deleted' else 'changed' end);
end
$$;

-- 2. Functions written with BEGIN ATOMIC over a replicated table's row type
-- would stop the new columns (made again below, as they were).
drop function refuge.gallery_insert(refuge.biometric_capture);
drop function refuge.verification_json(refuge.biometric_verification);
drop function refuge.note_case_event(refuge.process_case, text, text, jsonb);

-- Nodes, what replicates, requests, conflicts and global checks (sql/70_sync.sql).

-- Field sites and HQ: which cluster this is, the clusters it knows, what
-- replicates where, requests to a row's owner, conflicts, and HQ's global
-- deduplication of field enrolments.  The machinery is PostgreSQL's logical
-- replication (README, Field sites); the functions are functions/90_sync.sql.
--
-- Every replicated row has one owning node, the cluster where it was born
-- (sync_owner).  Only the owner's copy is authoritative: a change made
-- elsewhere is applied there at once and sent to the owner as a request
-- (sync_change), which the owner applies unless it changed the same values
-- meanwhile; then the owner's values stay and the conflict is recorded
-- (sync_conflict).  Publications filter on the owner, so no row travels back
-- to where it came from, and PostgreSQL 15's lack of an origin filter does
-- not matter.

-- This cluster: a field site (one row, written by refuge.join_hq) or, with no
-- row, HQ (also a single server).  No row is shipped: a dump carries what
-- the cluster wrote.
create table refuge.sync_local (
    singleton   boolean primary key default true check (singleton),
    node        text not null default 'HQ' check (node ~ '^[A-Z0-9_]{1,30}$'),
    joined_at   timestamptz
);
comment on table refuge.sync_local is 'which cluster this is: the field site it serves (refuge.join_hq); no row: HQ';
select pg_catalog.pg_extension_config_dump('refuge.sync_local', '');

-- The node that owns what this session writes.  Stable, so that a column
-- default reads it once per statement.
create function refuge.local_node() returns text
    language sql stable parallel safe
    set search_path = pg_catalog, pg_temp
    return coalesce((select l.node from refuge.sync_local l), 'HQ');
comment on function refuge.local_node() is
    'the node this cluster is: HQ, or the code of the field site it serves';

-- The field sites HQ knows (replicated to every field site), each with the
-- number that keeps its keys and readable numbers apart from everyone
-- else's without asking HQ (HQ itself is number 0, with no letters).
create table refuge.sync_node (
    code          text primary key check (code ~ '^[A-Z0-9_]{1,30}$'),
    kind          text not null check (kind in ('hq', 'field')),
    operation_id  uuid references refuge.operation,
    site_id       uuid,
    number        smallint not null unique check (number between 0 and 32000),
    series        text not null unique check (series ~ '^[A-HJ-NP-Z]{0,3}$'),
    added_at      timestamptz not null default now(),
    added_by      name not null default current_user,
    removed_at    timestamptz,
    check ((kind = 'hq') = (number = 0)),
    check ((kind = 'hq') = (operation_id is null)),
    foreign key (operation_id, site_id) references refuge.site (operation_id, id)
);
comment on table refuge.sync_node is
    'HQ and the field sites: each site''s operation, its number (key ranges) and the letters of its readable numbers (KEN-26-A000123)';
comment on column refuge.sync_node.series is
    'letters that start the serial part of the readable numbers this node issues (HQ: none)';
select pg_catalog.pg_extension_config_dump('refuge.sync_node', '');

-- Operations whose field sites receive the templates of a nearby operation
-- (to stop a person enrolling again across the border), set at HQ.
create table refuge.sync_nearby (
    operation_id  uuid not null references refuge.operation,
    nearby_id     uuid not null references refuge.operation,
    added_at      timestamptz not null default now(),
    added_by      name not null default current_user,
    primary key (operation_id, nearby_id),
    check (operation_id <> nearby_id)
);
comment on table refuge.sync_nearby is
    'the field sites of operation_id hold the templates (only) of the people enrolled in nearby_id';
select pg_catalog.pg_extension_config_dump('refuge.sync_nearby', '');

-- What replicates, table by table (shipped with the extension).
--   reference  HQ's, sent whole to every field site, read-only there
--   personal   owned row by row; a field site sends its own rows up and
--              receives its operation's rows owned by others
-- route: the column naming a row's operation (for tables without one,
-- sync_operation, filled from the parent named by parent_table/parent_key).
-- shared: templates also sent to the field sites of nearby operations.
-- down = false: never sent to field sites (images, HQ's records of access).
create table refuge.sync_table (
    table_name    text primary key,
    kind          text not null check (kind in ('reference', 'personal')),
    up            boolean not null,
    down          boolean not null,
    route         text check (route in ('operation_id', 'sync_operation')),
    parent_table  text,
    parent_key    text,
    shared        boolean not null default false,
    check ((kind = 'reference') = (route is null and not up)),
    check ((route = 'sync_operation') = (parent_table is not null))
);
comment on table refuge.sync_table is
    'what replicates between HQ and field sites: reference tables HQ to field; personal tables both ways, row by row by owner and operation';
select pg_catalog.pg_extension_config_dump('refuge.sync_table', 'where false');
insert into refuge.sync_table (table_name, kind, up, down, route, parent_table, parent_key, shared)
select t, 'reference', false, true, null, null, null, false
  from unnest(array['address_type', 'age_bracket', 'audit_scope', 'biometric_exception_reason', 'case_module',
                    'contact_type', 'country', 'date_precision', 'document_type', 'education_degree',
                    'education_level', 'ethnicity', 'flight_reason', 'group_status', 'individual_status', 'language',
                    'language_proficiency', 'marital_status', 'occupation', 'operation', 'partner_organisation',
                    'population_type', 'progres_code', 'referral_field', 'registration_level', 'relationship',
                    'religion', 'script', 'sex', 'site', 'site_type', 'specific_need_category', 'specific_need_code',
                    'vulnerability_factor', 'workflow_state', 'workflow_transition', 'sync_node', 'sync_nearby']) t;
insert into refuge.sync_table (table_name, kind, up, down, route, parent_table, parent_key, shared) values
    ('registration_group', 'personal', true, true, 'operation_id', null, null, false),
    ('individual', 'personal', true, true, 'operation_id', null, null, false),
    ('group_membership', 'personal', true, true, 'sync_operation', 'registration_group', 'group_id', false),
    ('individual_name', 'personal', true, true, 'sync_operation', 'individual', 'individual_id', false),
    ('individual_nationality', 'personal', true, true, 'sync_operation', 'individual', 'individual_id', false),
    ('individual_language', 'personal', true, true, 'sync_operation', 'individual', 'individual_id', false),
    ('individual_education', 'personal', true, true, 'sync_operation', 'individual', 'individual_id', false),
    ('individual_occupation', 'personal', true, true, 'sync_operation', 'individual', 'individual_id', false),
    ('individual_contact', 'personal', true, true, 'sync_operation', 'individual', 'individual_id', false),
    ('individual_address', 'personal', true, true, 'sync_operation', 'individual', 'individual_id', false),
    ('document', 'personal', true, true, 'sync_operation', 'individual', 'individual_id', false),
    ('flight_leg', 'personal', true, true, 'sync_operation', 'individual', 'individual_id', false),
    ('specific_need', 'personal', true, true, 'sync_operation', 'individual', 'individual_id', false),
    ('photo', 'personal', true, false, 'sync_operation', 'individual', 'individual_id', false),
    ('status_change', 'personal', true, true, 'operation_id', null, null, false),
    ('biometric_capture', 'personal', true, true, 'operation_id', null, null, false),
    ('biometric_exception', 'personal', true, true, 'operation_id', null, null, false),
    ('biometric_enrolment', 'personal', true, true, 'operation_id', null, null, true),
    ('biometric_finger', 'personal', true, true, 'sync_operation', 'individual', 'individual_id', true),
    ('biometric_iris', 'personal', true, true, 'sync_operation', 'individual', 'individual_id', true),
    ('biometric_vault', 'personal', true, false, 'sync_operation', 'individual', 'individual_id', false),
    ('biometric_identification', 'personal', true, true, 'operation_id', null, null, false),
    ('biometric_verification', 'personal', true, true, 'operation_id', null, null, false),
    ('dedup_case', 'personal', true, true, 'operation_id', null, null, false),
    ('dedup_candidate', 'personal', true, true, 'sync_operation', 'dedup_case', 'case_id', false),
    ('dedup_cleared_pair', 'personal', true, true, 'sync_operation', 'dedup_case', 'case_id', false),
    ('fraud_alert', 'personal', true, true, 'operation_id', null, null, false),
    ('fraud_case', 'personal', true, true, 'operation_id', null, null, false),
    ('assistance_plan', 'personal', true, true, 'operation_id', null, null, false),
    ('assistance_cycle', 'personal', true, true, 'operation_id', null, null, false),
    ('entitlement', 'personal', true, true, 'operation_id', null, null, false),
    ('distribution_event', 'personal', true, true, 'operation_id', null, null, false),
    ('collector', 'personal', true, true, 'operation_id', null, null, false),
    ('collection', 'personal', true, true, 'operation_id', null, null, false),
    ('process_case', 'personal', true, true, 'operation_id', null, null, false),
    ('case_member', 'personal', true, true, 'sync_operation', 'process_case', 'case_id', false),
    ('case_event', 'personal', true, true, 'sync_operation', 'process_case', 'case_id', false),
    ('case_note', 'personal', true, true, 'sync_operation', 'process_case', 'case_id', false),
    ('case_document', 'personal', true, true, 'sync_operation', 'process_case', 'case_id', false),
    ('case_link', 'personal', true, true, 'sync_operation', 'process_case', 'case_id', false),
    ('case_alert', 'personal', true, true, 'operation_id', null, null, false),
    ('case_approval', 'personal', true, true, 'sync_operation', 'process_case', 'case_id', false),
    ('case_referral', 'personal', true, true, 'sync_operation', 'process_case', 'case_id', false),
    ('case_transfer', 'personal', true, true, 'sync_operation', 'process_case', 'case_id', false),
    ('gbv_incident', 'personal', true, true, 'sync_operation', 'process_case', 'case_id', false),
    ('sensitive_read', 'personal', true, false, 'sync_operation', 'individual', 'individual_id', false),
    ('vault_access', 'personal', true, false, 'sync_operation', 'individual', 'individual_id', false);

-- Every personal table carries its owner, and its operation where it has no
-- operation_id of its own; template tables also the nearby operations whose
-- field sites receive them (kept by HQ only).  Replica identity FULL lets the
-- publications filter on these columns; subscribers still find rows by their
-- primary key.
do $columns$
declare
    t refuge.sync_table;
begin
    for t in select * from refuge.sync_table order by table_name loop
        if t.kind = 'personal' then
            execute format('alter table refuge.%I add column sync_owner text not null default refuge.local_node()',
                           t.table_name);
            if t.route = 'sync_operation' then
                execute format('alter table refuge.%I add column sync_operation uuid', t.table_name);
            end if;
            if t.shared then
                execute format('alter table refuge.%I add column sync_shared uuid[] not null default ''{}''',
                               t.table_name);
            end if;
        end if;
        execute format('alter table refuge.%I replica identity full', t.table_name);
    end loop;
end
$columns$;

-- A change made on a node that does not own the row, for the owner to apply.
-- old_values/new_values hold the changed columns only.
create table refuge.sync_change (
    id             uuid primary key default gen_random_uuid(),
    target_node    text not null,
    table_name     text not null,
    row_key        jsonb not null,
    action         text not null check (action in ('UPDATE', 'DELETE')),
    old_values     jsonb,
    new_values     jsonb,
    operation_id   uuid,
    requested_at   timestamptz not null default now(),
    requested_by   name not null default current_user,
    sync_owner     text not null default refuge.local_node()
);
create index on refuge.sync_change (target_node, requested_at);
comment on table refuge.sync_change is
    'changes made to a row where it is not owned, sent to its owner to apply (the change is already visible where it was made)';
alter table refuge.sync_change replica identity full;

-- What could not be applied as sent: a request whose values the owner had
-- changed meanwhile (the owner's values stay), a replicated row that a
-- constraint here refused (it is kept here, not applied), a request for a
-- row that is gone, a global check that failed, a row or request a field
-- site had no right to send (forbidden: never applied, its key kept).  Reviewed and resolved by
-- supervisors; replication never stops for them.
create table refuge.sync_conflict (
    id               uuid primary key default gen_random_uuid(),
    kind             text not null check (kind in ('concurrent_change', 'rejected_row', 'missing_row', 'global_check',
                                                   'forbidden_row')),
    table_name       text not null,
    row_key          jsonb,
    operation_id     uuid,
    change_id        uuid,
    from_node        text not null,
    kept_values      jsonb,
    lost_values      jsonb,
    base_values      jsonb,
    error            text,
    status           text not null default 'OPEN' check (status in ('OPEN', 'RESOLVED')),
    resolution       text,
    resolved_by      name,
    resolved_at      timestamptz,
    detected_at      timestamptz not null default now(),
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    updated_at       timestamptz not null default now(),
    updated_by       name not null default current_user,
    sync_owner       text not null default refuge.local_node()
);
create index on refuge.sync_conflict (operation_id, status);
comment on table refuge.sync_conflict is
    'replication conflicts for review: which row, what was kept, what was not applied and why (refuge.resolve_conflict)';
comment on column refuge.sync_conflict.kept_values is 'the values in force (the owner''s, or the row here)';
comment on column refuge.sync_conflict.lost_values is 'the values that were not applied (the request''s, or the refused row)';
alter table refuge.sync_conflict replica identity full;

-- HQ's search of a field enrolment against the global gallery, once per
-- capture, and its decision (sent to the field sites of the enrolment's
-- operation; the other person's operation learns of a block or a queued
-- case as HQ's fraud alert or adjudication case, not from this row).
create table refuge.global_check (
    capture_id            uuid primary key,
    individual_id         uuid not null,
    operation_id          uuid not null,
    field_node            text not null,
    decision              text not null check (decision in ('enrolled', 'blocked', 'adjudication')),
    matched_id            uuid,
    matched_operation_id  uuid,
    dedup_case_id         uuid,
    fraud_alert_id        uuid,
    result                jsonb not null default '{}',
    checked_at            timestamptz not null default now(),
    sync_owner            text not null default refuge.local_node()
);
create index on refuge.global_check (individual_id);
comment on table refuge.global_check is
    'HQ''s deduplication of each enrolment made at a field site against everyone enrolled anywhere (refuge.global_decision)';
alter table refuge.global_check replica identity full;
insert into refuge.sync_table (table_name, kind, up, down, route, parent_table, parent_key, shared) values
    ('sync_change', 'personal', true, true, 'operation_id', null, null, false),
    ('sync_conflict', 'personal', true, true, 'operation_id', null, null, false),
    ('global_check', 'personal', false, true, 'operation_id', null, null, false);
select pg_catalog.pg_extension_config_dump('refuge.sync_change', '');
select pg_catalog.pg_extension_config_dump('refuge.sync_conflict', '');
select pg_catalog.pg_extension_config_dump('refuge.global_check', '');

-- Whether a field site's assistance waits for HQ's global check of the
-- collector's enrolment (a deduplication the field cannot make alone).
alter table refuge.operation add column assistance_waits_for_global_check boolean not null default false;
comment on column refuge.operation.assistance_waits_for_global_check is
    'a collection at a field site needs the collector''s enrolment confirmed by HQ''s global search (refuge.global_decision)';
alter table refuge.collection drop constraint collection_refusal_check;
alter table refuge.collection add constraint collection_refusal_check
    check (refusal in ('not_authorised', 'verification_failed', 'not_enrolled', 'already_collected', 'global_check_pending'));

-- Policies: the node tables are read by staff who administer; conflicts and
-- requests (they hold personal values) by supervisors and administrators of
-- the operation; global checks by the roles that read enrolments.
create policy read_all on refuge.sync_local for select
    to refuge_registration, refuge_supervisor, refuge_admin, refuge_biometrics,
       refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection,
       refuge_child_protection, refuge_dba
    using (true);
grant select on refuge.sync_local to refuge_registration, refuge_supervisor, refuge_admin,
    refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement,
    refuge_protection, refuge_child_protection, refuge_dba;
create policy admin_read on refuge.sync_node for select to refuge_admin, refuge_supervisor, refuge_dba using (true);
grant select on refuge.sync_node to refuge_admin, refuge_supervisor, refuge_dba;
create policy admin_read on refuge.sync_nearby for select to refuge_admin, refuge_supervisor, refuge_dba using (true);
grant select on refuge.sync_nearby to refuge_admin, refuge_supervisor, refuge_dba;
create policy admin_read on refuge.sync_table for select to refuge_admin, refuge_dba using (true);
grant select on refuge.sync_table to refuge_admin, refuge_dba;
create policy scope_read on refuge.sync_change for select to refuge_supervisor, refuge_admin
    using (operation_id = any ((select refuge.scope_operations())::uuid[]));
grant select on refuge.sync_change to refuge_supervisor, refuge_admin;
create policy scope_read on refuge.sync_conflict for select to refuge_supervisor, refuge_admin
    using (operation_id = any ((select refuge.scope_operations())::uuid[]));
grant select on refuge.sync_conflict to refuge_supervisor, refuge_admin;
create policy hq_read on refuge.global_check for select to refuge_biometrics_admin using (true);
create policy scope_read on refuge.global_check for select
    to refuge_registration, refuge_supervisor, refuge_biometrics, refuge_assistance
    using (operation_id = any ((select refuge.scope_operations())::uuid[]));
grant select on refuge.global_check to refuge_registration, refuge_supervisor, refuge_biometrics,
    refuge_biometrics_admin, refuge_assistance;

-- Who may read the audit rows of these tables.
insert into refuge.audit_scope (table_name, class) values
    ('sync_local', 'config'), ('sync_node', 'config'), ('sync_nearby', 'config'), ('sync_table', 'config'),
    ('sync_change', 'registration'), ('sync_conflict', 'registration'), ('global_check', 'identity');

-- Put a capture's templates into the gallery under its individual.
create function refuge.gallery_insert(cap refuge.biometric_capture) returns void
    language sql volatile
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    insert into refuge.biometric_enrolment (individual_id, identity_id, operation_id, site_id, capture_id, status)
    values (cap.individual_id, cap.individual_id, cap.operation_id, cap.site_id, cap.id, 'ENROLLED');
    insert into refuge.biometric_finger (individual_id, position, template, quality, capture_id)
    select cap.individual_id, refuge.fingerprint_position(f), f, refuge.fingerprint_quality(f), cap.id
      from unnest(cap.fingers) f;
    insert into refuge.biometric_iris (individual_id, eye, template, quality, capture_id)
    select cap.individual_id, case u.ord when 1 then 'right' else 'left' end, u.t, cap.iris_quality[u.ord], cap.id
      from unnest(cap.irises) with ordinality u(t, ord)
     where u.t is not null;
end;

create function refuge.verification_json(v refuge.biometric_verification) returns jsonb
    language sql immutable
begin atomic
    select jsonb_strip_nulls(jsonb_build_object('verification_id', v.id, 'match', v.match,
        'score', round(v.evidence::numeric, 2), 'threshold', round(v.threshold::numeric, 2),
        'modalities', v.modalities,
        'fmr', case when v.modalities > 0 then round(greatest(refuge.fused_fpir(v.evidence, v.modalities, 1), 1e-15)::numeric, 15) end,
        'reason', case when v.identity_id is null then 'not_enrolled'
                       when v.modalities = 0 then 'no_common_parts' end));
end;

-- An event that records an action without moving the case.
create function refuge.note_case_event(c refuge.process_case, p_action text, p_reason text, p_data jsonb)
    returns void
    language sql volatile
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    insert into refuge.case_event (case_id, actor, action, from_state, to_state, reason, data)
    values (c.id, refuge.caller(), p_action, c.state, c.state, p_reason, p_data);
end;


-- 3. Readable numbers carry the issuing node's letters; a field site
-- leaves a match with a person it holds only templates of to HQ.

-- Next k readable numbers of an operation, e.g. KEN-26-000123 (operation,
-- year of issue, serial).  Serials come from refuge.number_seq, so concurrent
-- registrations do not wait for each other.  A field site's serials start
-- with its letters (KEN-26-A000123): unique everywhere without asking HQ.
create or replace function refuge.next_numbers(p_operation uuid, k integer) returns text[]
    language plpgsql volatile
as $$
declare
    series text := refuge.local_series();
begin
    -- at least six digits; never truncated (lpad would cut 1000000 to 100000)
    return (select array_agg(format('%s-%s-%s%s', o.code, to_char(current_date, 'YY'), series,
                                    lpad(x.n::text, greatest(6, length(x.n::text)), '0')) order by g)
              from refuge.operation o,
                   lateral (select g, nextval('refuge.number_seq') as n from generate_series(1, k) g) x
             where o.id = p_operation);
end
$$;

-- Open a case of a process for a person and, optionally, members of the
-- person's family (as dependants).  The family grouping is not changed.
create or replace function refuge.open_case(module text, principal_id uuid, members uuid[] default '{}', data jsonb default '{}',
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

-- Steps 2 and 3 for a stored capture: lock, late enrolments, fused scores,
-- decision, and its records.  Returns the result of enrol_biometrics.
create or replace function refuge.enrol_decide(capture_id uuid, candidates uuid[]) returns jsonb
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    cap refuge.biometric_capture;
    late uuid[];
    scored jsonb;
    gallery bigint;
    flagged jsonb := '[]';
    rk integer := 0;
    c record;
    alert uuid;
    case_id uuid;
    res jsonb;
begin
    select * into cap from refuge.biometric_capture b where b.id = enrol_decide.capture_id;
    gallery := greatest(cap.gallery_size, 1);
    -- the searched candidates are compared before the lock: it is held only
    -- for those enrolled meanwhile, the decision and the writes
    select coalesce(jsonb_agg(to_jsonb(s)), '[]') into scored
      from refuge.score_candidates(cap.fingers, cap.irises, candidates, cap.individual_id, gallery) s;
    perform refuge.enrolment_lock();
    if current_setting('transaction_isolation') <> 'read committed'
       and refuge.gallery_seq_latest() > (select coalesce(max(e.seq), 0) from refuge.biometric_enrolment e) then
        raise exception using errcode = '40001',
            message = 'enrol_biometrics: another enrolment committed after this transaction''s snapshot',
            hint = 'Retry the transaction (or enrol at READ COMMITTED, which re-reads the gallery under the enrolment lock).';
    end if;
    late := array(select e.individual_id from refuge.biometric_enrolment e
                   where e.seq > cap.gallery_seq and e.status = 'ENROLLED' and e.individual_id <> all (candidates));
    if cardinality(late) > 0 then
        select scored || coalesce(jsonb_agg(to_jsonb(s)), '[]') into scored
          from refuge.score_candidates(cap.fingers, cap.irises, late, cap.individual_id, gallery) s;
    end if;

    res := jsonb_build_object('capture_id', cap.id, 'individual_id', cap.individual_id,
                                 'gallery_size', gallery,
                                 'candidates_compared', cardinality(candidates) + cardinality(late),
                                 'target_fpir', cap.target_fpir, 'block_fpir', cap.block_fpir);
    for c in select * from jsonb_to_recordset(scored) as s(candidate_id uuid, evidence double precision,
                               modalities integer, fpir double precision, scores double precision[])
              where s.fpir <= cap.target_fpir order by s.fpir, s.evidence desc limit 10 loop
        rk := rk + 1;
        -- a field site holds only the templates of nearby operations' people:
        -- a match with one of them is decided at HQ (refuge.global_decision)
        if refuge.local_node() <> 'HQ' and not exists (select 1 from refuge.individual i where i.id = c.candidate_id) then
            if rk = 1 then
                res := res || jsonb_build_object('decision', case when c.fpir <= cap.block_fpir then 'blocked' else 'adjudication' end,
                    'decided_at', 'HQ',
                    'match', refuge.candidate_json(c.candidate_id, 1, c.evidence, c.modalities, c.fpir, c.scores));
                exit;
            end if;
            continue;
        end if;
        if rk = 1 and c.fpir <= cap.block_fpir then
            alert := refuge.raise_fraud_alert('duplicate_enrolment', cap.individual_id, c.candidate_id, cap.id,
                         jsonb_build_object('evidence', c.evidence, 'modalities', c.modalities, 'fpir', greatest(c.fpir, 1e-15)));
            res := res || jsonb_build_object('decision', 'blocked', 'alert_id', alert,
                'match', refuge.candidate_json(c.candidate_id, 1, c.evidence, c.modalities, c.fpir, c.scores));
            exit;
        elsif rk = 1 then
            insert into refuge.dedup_case (capture_id, individual_id, operation_id, site_id)
            values (cap.id, cap.individual_id, cap.operation_id, cap.site_id)
            returning id into case_id;
        end if;
        insert into refuge.dedup_candidate (case_id, candidate_id, rank, evidence, modalities, fpir, scores)
        values (case_id, c.candidate_id, rk, c.evidence, c.modalities, c.fpir, c.scores);
        flagged := flagged || refuge.candidate_json(c.candidate_id, rk, c.evidence, c.modalities, c.fpir, c.scores);
    end loop;
    if res ? 'decided_at' then
        null;
    elsif case_id is not null then
        res := res || jsonb_build_object('decision', 'adjudication', 'case_id', case_id, 'candidates', flagged);
    elsif rk = 0 then
        perform refuge.gallery_insert(cap);
        res := res || jsonb_build_object('decision', 'enrolled');
    end if;
    update refuge.biometric_capture b set decision = res ->> 'decision', result = res
     where b.id = cap.id;
    return res;
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

-- What a deployment should have set, checked: the preload, statement
-- logging that could write personal data, background workers for logged
-- reads, the database encoding, replication for field sites.  README,
-- "Deployment".
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
           'names in every script; identifiers and names are checked as Unicode'
    -- with field sites (README, Field sites)
    union all
    select 'wal_level', current_setting('wal_level'), 'logical (with field sites)',
           current_setting('wal_level') = 'logical'
           or not exists (select 1 from refuge.sync_node n where n.kind = 'field' and n.removed_at is null),
           'HQ and field sites replicate with logical decoding'
    union all
    select 'max_slot_wal_keep_size', current_setting('max_slot_wal_keep_size'),
           'the disk a site away may use (with field sites)',
           current_setting('max_slot_wal_keep_size') <> '-1'
           or not exists (select 1 from refuge.sync_node n where n.kind = 'field' and n.removed_at is null),
           'unlimited, a site that never returns fills the disk with WAL; limited, a site away longer is re-seeded'
    union all
    select 'max_logical_replication_workers', current_setting('max_logical_replication_workers'),
           'at least the field sites + 2',
           current_setting('max_logical_replication_workers')::integer
             >= (select count(*) from refuge.sync_node n where n.kind = 'field' and n.removed_at is null)
                + case when exists (select 1 from refuge.sync_node n where n.kind = 'field' and n.removed_at is null)
                       then 2 else 0 end,
           'one apply worker per site at HQ (one at a site), more for first copies and re-seeds';
end;

-- 4. The functions of field sites and HQ (functions/90_sync.sql).

-- Field sites and HQ on PostgreSQL's logical replication (README, Field
-- sites): joining and leaving, what each row carries, what a node does with
-- rows and requests arriving from its peers, HQ's global deduplication of
-- field enrolments, and the status of every link.  The tables are in
-- sql/70_sync.sql.

-- In a logical replication worker: rows are arriving from a peer.
create function refuge.sync_applying() returns boolean
    language c stable as 'MODULE_PATHNAME', 'refuge_sync_applying';
comment on function refuge.sync_applying() is
    'internal: true in a logical replication worker (rows arriving from a peer), false in a session';

-- internal to resolve_conflict: write a refused row as it arrived
create function refuge.sync_as_replica(on_ boolean) returns void
    language c strict as 'MODULE_PATHNAME', 'refuge_sync_as_replica';

-- In a table synchronisation worker (first copy, re-seed): tables arrive in no order.
create function refuge.sync_copying() returns boolean
    language c stable as 'MODULE_PATHNAME', 'refuge_sync_copying';

-- internal: start HQ's background worker for global checks (extension/global_check.c)
create function refuge.sync_start_checks() returns boolean
    language c as 'MODULE_PATHNAME', 'refuge_sync_start_checks';

-- In a logical replication worker: the subscription it applies.
create function refuge.sync_source() returns text
    language c stable as 'MODULE_PATHNAME', 'refuge_sync_source';

-- internal to add_field_site: list the tables of a subscription created
-- before its publisher existed as ready (extension/sync.c)
create function refuge.sync_subscription_ready(subscription name, tables regclass[]) returns integer
    language c strict as 'MODULE_PATHNAME', 'refuge_sync_subscription_ready';

-- internal to join_hq: create a replication slot on the peer, in its own
-- transaction there (extension/sync.c says why)
create function refuge.sync_create_remote_slot(conninfo text, slot name, replace boolean) returns pg_lsn
    language c strict as 'MODULE_PATHNAME', 'refuge_sync_create_remote_slot';

-- A connection string given to add_field_site or join_hq: it is kept in
-- pg_subscription and passes through SQL text, so it carries no password
-- (the server's ~/.pgpass or a client certificate does).
create function refuge.sync_check_conninfo(conninfo text, field text) returns void
    language plpgsql immutable
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    decoded text;
    hex text;
begin
    if conninfo is null or btrim(conninfo) = '' then
        perform refuge.raise_field('22004', field, 'is required');
    end if;
    if length(conninfo) > 4000 then
        perform refuge.raise_field('22001', field, format('is %s characters long (at most 4,000)', length(conninfo)));
    end if;
    -- (libpq reads keys after a quoted value without a space, and percent-decodes a URI's:
    -- the word is refused wherever it stands, encoded or not, and so is a URI's user:password@)
    decoded := conninfo;
    foreach hex in array array(select distinct m[1] from regexp_matches(conninfo, '%([0-9A-Fa-f]{2})', 'g') m) loop
        decoded := replace(decoded, '%' || hex, case when hex = '00' then '' else chr(('x' || hex)::bit(8)::integer) end);
    end loop;
    if lower(decoded) like '%password%' or decoded ~* '^postgres(ql)?://[^/@]*:[^/@]*@' then
        perform refuge.raise_field('22023', field,
            'must not hold a password: put it in the ~/.pgpass of the server''s operating-system user, or use a client certificate');
    end if;
end
$$;

create function refuge.sync_require_superuser(action text) returns void
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    if not refuge.caller_is_superuser() then
        raise exception using errcode = '42501', schema = 'refuge',
            message = format('%s: only a superuser joins clusters (it creates publications, subscriptions and slots)', action);
    end if;
end
$$;

-- The letters of node n's readable numbers: 1 A, 2 B ... 24 Z (no I or O,
-- which read as digits), 25 AA ...
create function refuge.sync_series(n integer) returns text
    language sql immutable strict parallel safe
begin atomic
    select case when n <= 0 then ''
                else (with recursive d(rest, s) as (
                          select n, ''::text
                          union all
                          select (rest - 1) / 24, substr('ABCDEFGHJKLMNPQRSTUVWXYZ', (rest - 1) % 24 + 1, 1) || s
                            from d where rest > 0)
                      select s from d where rest = 0) end;
end;

-- The letters this node puts before the serial of each readable number it
-- issues; a field site has them once HQ's copy of its node row has arrived.
create function refuge.local_series() returns text
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    s text;
begin
    if refuge.local_node() = 'HQ' then
        return '';
    end if;
    select n.series into s from refuge.sync_node n where n.code = refuge.local_node();
    if s is null then
        raise exception using errcode = '55000', schema = 'refuge',
            message = format('field site %s has no number series yet: its first copy from HQ has not arrived',
                             refuge.local_node()),
            hint = 'Wait until refuge.sync_status() shows the link from HQ caught up.';
    end if;
    return s;
end
$$;
comment on function refuge.local_series() is
    'the letters that start the serial of the readable numbers this node issues (HQ: none; field site: from HQ)';

-- Keys that come from sequences are kept apart per node: node n draws from
-- n * 2^48 on, so no two nodes ever issue the same one.
create function refuge.sync_key_ranges() returns void
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    n bigint;
    s text;
begin
    select nd.number into n from refuge.sync_node nd where nd.code = refuge.local_node();
    if n is null or n = 0 then
        return;
    end if;
    foreach s in array array['refuge.case_event_id_seq', 'refuge.sensitive_read_id_seq', 'refuge.vault_access_id_seq'] loop
        if (select coalesce(q.last_value, 0) from pg_catalog.pg_sequences q
             where q.schemaname || '.' || q.sequencename = s) < n * 281474976710656 then
            perform pg_catalog.setval(s::regclass, n * 281474976710656, false);
        end if;
    end loop;
end
$$;

-- The primary key of a row (as JSON) and a WHERE clause matching it.
create function refuge.sync_key_columns(rel regclass) returns text[]
    language sql stable
    set search_path = pg_catalog, pg_temp
begin atomic
    select array_agg(a.attname::text order by k.ord)
      from pg_catalog.pg_index i
      cross join lateral unnest(i.indkey) with ordinality k(attnum, ord)
      join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
     where i.indrelid = rel and i.indisprimary;
end;

create function refuge.sync_key_predicate(rel regclass, alias text, param integer) returns text
    language sql stable
    set search_path = pg_catalog, pg_temp
begin atomic
    select string_agg(format('%I.%I = (%s::%s)', alias, a.attname,
                             format('($%s ->> %L)', param, a.attname),
                             pg_catalog.format_type(a.atttypid, a.atttypmod)), ' and ' order by k.ord)
      from pg_catalog.pg_index i
      cross join lateral unnest(i.indkey) with ordinality k(attnum, ord)
      join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
     where i.indrelid = rel and i.indisprimary;
end;

-- A row as JSON of its columns' text forms (which every type reads back,
-- geometry included), for requests and conflicts.
create function refuge.sync_row_text(rel regclass, r anyelement) returns jsonb
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    result jsonb;
begin
    execute format('select jsonb_build_object(%s) from (select ($1).*) x',
                   (select string_agg(format(case when a.atttypid in ('json'::regtype, 'jsonb'::regtype)
                                                  then '%L, x.%I::jsonb' else '%L, x.%I::text' end,
                                             a.attname, a.attname), ', ' order by a.attnum)
                      from pg_catalog.pg_attribute a
                     where a.attrelid = rel and a.attnum > 0 and not a.attisdropped))
       into result using r;
    return result;
end
$$;

-- Columns each node keeps for itself: which operations a row is routed to,
-- the local order of enrolments, who and when (stamped where written).
create function refuge.sync_local_columns() returns text[]
    language sql immutable parallel safe
    return array['sync_owner', 'sync_operation', 'sync_shared', 'seq', 'updated_at', 'updated_by'];

-- The field sites' operations that receive templates of an operation.
create function refuge.sync_consumers(op uuid) returns uuid[]
    language sql stable
    set search_path = pg_catalog, pg_temp
begin atomic
    select coalesce(array_agg(n.operation_id order by n.operation_id), '{}')
      from refuge.sync_nearby n where n.nearby_id = op;
end;

-- BEFORE INSERT OR UPDATE OR DELETE on each personal table, in sessions:
-- a new row belongs to this node and is routed by its operation; a change to
-- a row owned elsewhere is kept here and sent to the owner as a request.
-- tg_argv: route column, parent table, parent key, shared.
create function refuge.sync_row_local() returns trigger
    language plpgsql
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    me text := refuge.local_node();
    rel regclass := tg_relid::regclass;
    o jsonb;
    n jsonb;
    old_values jsonb := '{}';
    new_values jsonb := '{}';
    k text;
    op uuid;
begin
    if tg_op = 'INSERT' then
        NEW.sync_owner := me;
        if tg_argv[0] = 'sync_operation' then
          if NEW.sync_operation is null then
            if tg_argv[2] = 'individual_id' then
                select i.operation_id into NEW.sync_operation from refuge.individual i where i.id = NEW.individual_id;
            elsif tg_argv[1] = 'process_case' then
                select c.operation_id into NEW.sync_operation from refuge.process_case c where c.id = NEW.case_id;
            elsif tg_argv[1] = 'dedup_case' then
                select c.operation_id into NEW.sync_operation from refuge.dedup_case c where c.id = NEW.case_id;
            elsif tg_argv[1] = 'registration_group' then
                select g.operation_id into NEW.sync_operation from refuge.registration_group g where g.id = NEW.group_id;
            end if;
          end if;
        end if;
        if tg_argv[3]::boolean and me = 'HQ' then
            if tg_argv[0] = 'operation_id' then
                NEW.sync_shared := refuge.sync_consumers(NEW.operation_id);
            else
                NEW.sync_shared := refuge.sync_consumers(NEW.sync_operation);
            end if;
        end if;
        return NEW;
    end if;
    if tg_op = 'UPDATE' then
        NEW.sync_owner := OLD.sync_owner;
        -- a case or person moving to another operation takes its records along
        if tg_table_name in ('individual', 'process_case', 'registration_group', 'dedup_case') then
          if NEW.operation_id is distinct from OLD.operation_id then
            for k in select t.table_name from refuge.sync_table t
                      where t.parent_table = tg_table_name and t.route = 'sync_operation' loop
                execute format('update refuge.%I set sync_operation = $1 where %I = $2 and sync_operation is distinct from $1',
                               k, (select t.parent_key from refuge.sync_table t where t.table_name = k))
                  using NEW.operation_id, NEW.id;
            end loop;
          end if;
        end if;
    end if;
    if OLD.sync_owner = me then
        return coalesce(NEW, OLD);
    end if;
    -- a record that has left its owner's operation (a transfer accepted at HQ) is HQ's
    -- from now on: its old site neither changes nor hears of it any more
    if me = 'HQ' and tg_op = 'UPDATE' then
        if tg_argv[0] = 'operation_id' then
            op := NEW.operation_id;
        else
            op := NEW.sync_operation;
        end if;
        if (select n.operation_id from refuge.sync_node n where n.code = OLD.sync_owner and n.kind = 'field')
           is distinct from op then
            NEW.sync_owner := 'HQ';
            return NEW;
        end if;
    end if;
    -- owned elsewhere
    if tg_argv[0] = 'operation_id' then
        op := OLD.operation_id;
    else
        op := OLD.sync_operation;
    end if;
    o := refuge.sync_row_text(rel, OLD);
    if tg_op = 'UPDATE' then
        n := refuge.sync_row_text(rel, NEW);
        for k in select key from jsonb_each(n) loop
            continue when k = any (refuge.sync_local_columns());
            if n -> k is distinct from o -> k then
                old_values := old_values || jsonb_build_object(k, o -> k);
                new_values := new_values || jsonb_build_object(k, n -> k);
            end if;
        end loop;
        if new_values = '{}' then
            return NEW;
        end if;
    end if;
    insert into refuge.sync_change (target_node, table_name, row_key, action, old_values, new_values, operation_id,
                                    requested_by)
    values (OLD.sync_owner, tg_table_name,
            (select jsonb_object_agg(c, o -> c) from unnest(refuge.sync_key_columns(rel)) c),
            tg_op, case when tg_op = 'UPDATE' then old_values else o end,
            case when tg_op = 'UPDATE' then new_values end, op, refuge.caller());
    return coalesce(NEW, OLD);
end
$$;

-- BEFORE INSERT OR UPDATE OR DELETE on reference tables, in sessions: HQ
-- owns them; a field site receives them.
create function refuge.sync_reference_local() returns trigger
    language plpgsql
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    if refuge.local_node() <> 'HQ' and not refuge.caller_is_superuser() then
        raise exception using errcode = '42501', schema = 'refuge',
            message = format('%s: reference data is changed at HQ; field site %s receives it', tg_table_name,
                             refuge.local_node());
    end if;
    return coalesce(NEW, OLD);
end
$$;

-- Record a conflict (also in the apply worker, where nothing may fail).
create function refuge.sync_record_conflict(kind text, tab text, row_key jsonb, op uuid, change_id uuid,
                                            from_node text, kept jsonb, lost jsonb, base jsonb, err text)
    returns uuid
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    new_id uuid;
begin
    insert into refuge.sync_conflict (kind, table_name, row_key, operation_id, change_id, from_node,
                                      kept_values, lost_values, base_values, error)
    values (kind, tab, row_key, op, change_id, coalesce(from_node, '?'), kept, lost, base, left(err, 2000))
    returning id into new_id;
    perform pg_catalog.pg_notify('refuge_sync_conflict', new_id::text);
    return new_id;
end
$$;

-- The columns a replicated row writes over an existing one (all but the
-- key and what each node keeps for itself).
create function refuge.sync_replace_sql(rel regclass) returns text
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    select format('update %s t set (%s) = (select %s from (select ($1).*) s) where %s', rel,
                  string_agg(quote_ident(a.attname), ', ' order by a.attnum),
                  string_agg('s.' || quote_ident(a.attname), ', ' order by a.attnum),
                  (select string_agg(format('t.%1$I = ($1).%1$I', c), ' and ')
                     from unnest(refuge.sync_key_columns(rel)) c))
      from pg_catalog.pg_attribute a
     where a.attrelid = rel and a.attnum > 0 and not a.attisdropped
       and a.attname <> all (refuge.sync_key_columns(rel))
       and a.attname not in ('sync_shared', 'seq')
       and a.attidentity = '' and a.attgenerated = '';
end;

-- Does an append-only trigger guard the table against this action (UPDATE
-- or DELETE)?  (tgtype: 8 delete, 16 update)
create function refuge.sync_append_only(tab text, action text) returns boolean
    language sql stable
    set search_path = pg_catalog, pg_temp
begin atomic
    select exists (select 1 from pg_catalog.pg_trigger g
                    where g.tgrelid = ('refuge.' || quote_ident(tab))::regclass and g.tgname = 'append_only'
                      and g.tgtype::integer & case when action = 'DELETE' then 8 else 16 end <> 0);
end;

-- At HQ, what a field site may not send, or null: a row it does not own, a
-- row of another operation or one hanging on a record of another operation
-- (its parent, the person it names), a move to another operation or to
-- another parent, a change to an append-only record, templates without a
-- capture of theirs (the global check starts from captures).
create function refuge.sync_site_refusal(tab text, action text, new_row jsonb, old_row jsonb, src text, src_op uuid)
    returns text
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    t refuge.sync_table;
    k text;
    ptab text;
    v text;
    pop uuid;
    n bigint;
    local_cols constant text[] := refuge.sync_local_columns();
begin
    if src_op is null then
        return 'not a field site HQ knows';
    end if;
    if (action <> 'INSERT' and old_row ->> 'sync_owner' is distinct from src)
       or (action <> 'DELETE' and new_row ->> 'sync_owner' is distinct from src) then
        return 'a row it does not own';
    end if;
    if action = 'INSERT' and coalesce(new_row ->> 'operation_id', new_row ->> 'sync_operation') is distinct from src_op::text then
        return 'a row of another operation';
    end if;
    if action = 'UPDATE' and (new_row ->> 'operation_id') is distinct from (old_row ->> 'operation_id') then
        return 'a move to another operation';
    end if;
    -- a record that has left the site's operation (a transfer HQ accepted) is no longer its to change
    if action <> 'INSERT' and coalesce(old_row ->> 'operation_id', old_row ->> 'sync_operation') is distinct from src_op::text then
        return 'a record of another operation';
    end if;
    -- a capture is what HQ searches: its person and templates never change, and it holds
    -- no more than a person has
    if tab = 'biometric_capture' then
        if action = 'UPDATE' and ((new_row -> 'fingers') is distinct from (old_row -> 'fingers')
                                  or (new_row -> 'irises') is distinct from (old_row -> 'irises')
                                  or (new_row -> 'individual_id') is distinct from (old_row -> 'individual_id')) then
            return 'a capture changed after it was taken';
        end if;
        if action = 'INSERT' and (coalesce(jsonb_array_length(case when jsonb_typeof(new_row -> 'fingers') = 'array'
                                                                     then new_row -> 'fingers' end), 0) > 10
                                  or coalesce(jsonb_array_length(case when jsonb_typeof(new_row -> 'irises') = 'array'
                                                                     then new_row -> 'irises' end), 0) > 2) then
            return 'a capture of more than 10 fingers or 2 irises';
        end if;
    end if;
    if action <> 'INSERT' and refuge.sync_append_only(tab, action)
       and (action = 'DELETE' or (new_row - local_cols) <> (old_row - local_cols)) then
        return 'a change to an append-only record';
    end if;
    -- conflicts that would steer HQ's own work (global checks, forbidden rows) are HQ's to record
    if tab = 'sync_conflict' and action <> 'DELETE' and new_row ->> 'kind' in ('global_check', 'forbidden_row') then
        return 'a conflict of a kind only HQ records';
    end if;
    select * into t from refuge.sync_table x where x.table_name = tab;
    -- every record the row refers to (its parent, the person, the household, the case,
    -- the capture, the site ...) that belongs to an operation must belong to the site's
    for k, ptab in select x.k, x.p from (values (t.parent_key, t.parent_table), ('individual_id', 'individual')) x(k, p)
                    where x.k is not null
                   union
                   select a.attname::text, cr.relname::text
                     from pg_catalog.pg_constraint c
                     cross join lateral unnest(c.conkey, c.confkey) u(l, r)
                     join pg_catalog.pg_attribute a on a.attrelid = c.conrelid and a.attnum = u.l
                     join pg_catalog.pg_attribute ra on ra.attrelid = c.confrelid and ra.attnum = u.r
                     join pg_catalog.pg_class cr on cr.oid = c.confrelid
                    where c.conrelid = ('refuge.' || quote_ident(tab))::regclass and c.contype = 'f'
                      and ra.attname = 'id' and c.confrelid <> c.conrelid
                      -- (where a row points on purpose: a transfer's destination)
                      and a.attname !~ '^to_'
                      and exists (select 1 from pg_catalog.pg_attribute o where o.attrelid = c.confrelid
                                     and o.attname = 'operation_id' and not o.attisdropped) loop
        continue when new_row is null or not (new_row ? k);
        v := new_row ->> k;
        continue when v is null;
        if action = 'UPDATE' and v is distinct from old_row ->> k then
            return format('%s changed', k);
        end if;
        if action = 'INSERT' then
            execute format('select x.operation_id from refuge.%I x where x.id = $1', ptab) into pop using refuge.sync_uuid(v);
            get diagnostics n = row_count;
            if n = 0 and not refuge.sync_copying() then
                return format('%s names a record HQ does not hold', k);
            elsif n > 0 and pop is distinct from src_op then
                return format('%s names a record of another operation', k);
            end if;
        end if;
    end loop;
    -- a case's link names a record by kind: that record too
    if tab = 'case_link' and action <> 'DELETE'
       and new_row ->> 'kind' in ('process_case', 'fraud_alert', 'fraud_case', 'dedup_case', 'collection') then
        execute format('select x.operation_id from refuge.%I x where x.id = $1', new_row ->> 'kind')
           into pop using refuge.sync_uuid(new_row ->> 'linked_id');
        get diagnostics n = row_count;
        if n > 0 and pop is distinct from src_op then
            return 'linked_id names a record of another operation';
        end if;
    end if;
    -- the gallery: what enters it is what a capture of the site holds, the capture HQ
    -- searches; a template changes only with a new capture; nothing HQ refused comes back
    if tab in ('biometric_enrolment', 'biometric_finger', 'biometric_iris') and action <> 'DELETE' then
        if action = 'UPDATE' and new_row ->> 'capture_id' is not distinct from old_row ->> 'capture_id'
           and ((new_row -> 'template') is distinct from (old_row -> 'template')
                or (new_row -> 'identity_id') is distinct from (old_row -> 'identity_id')
                or (new_row -> 'status') is distinct from (old_row -> 'status')) then
            return 'a gallery record changed without a new capture';
        end if;
        if tab = 'biometric_enrolment' and action = 'INSERT'
           and (new_row ->> 'identity_id') is distinct from (new_row ->> 'individual_id') then
            return 'an enrolment linked to another identity (HQ links identities)';
        end if;
        if exists (select 1 from refuge.global_check g
                    where g.capture_id = refuge.sync_uuid(new_row ->> 'capture_id') and g.decision <> 'enrolled') then
            return 'templates of a capture HQ did not enrol';
        end if;
        -- (also while tables are copied: HQ keeps a site's captures through a re-seed)
        if not exists (
               select 1 from refuge.biometric_capture b
                where b.id = refuge.sync_uuid(new_row ->> 'capture_id')
                  and b.individual_id::text = new_row ->> 'individual_id' and b.sync_owner = src
                  and case tab when 'biometric_finger' then exists (select 1 from unnest(b.fingers) f
                                                                     where f::text = new_row ->> 'template')
                               when 'biometric_iris' then exists (select 1 from unnest(b.irises) i
                                                                   where i::text = new_row ->> 'template')
                               else true end) then
            return 'templates that are not those of a capture of theirs from the site';
        end if;
    end if;
    return null;
end
$$;

-- BEFORE INSERT OR UPDATE OR DELETE on every replicated table, for rows
-- arriving from a peer (ENABLE REPLICA).  Apply must never stop: a row that
-- a constraint here refuses is recorded as a conflict, not applied; a row
-- already here (a re-seed, a retransmission) replaces the old copy; what
-- each node keeps for itself stays.  tg_argv[0]: 'checked' when the table
-- has unique constraints besides its key (the write is tried in a
-- subtransaction), tg_argv[1]: 'shared' for templates.
create function refuge.sync_row_apply() returns trigger
    language plpgsql
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    rel regclass := tg_relid::regclass;
    here boolean;
    op uuid;
    keys text[];
    src text;
    src_op uuid;
    row_here jsonb;
    refusal text;
begin
    if not refuge.sync_applying() or pg_trigger_depth() > 1 then
        return coalesce(NEW, OLD);
    end if;
    -- HQ holds each field site to its own rows: it may add rows of its
    -- operation and change or remove rows it owns without moving them to
    -- another operation, nothing else (a field server that is lost or
    -- tampered with cannot write others' records).  What a forbidden row
    -- would have replaced is not copied into the conflict: only its key.
    if refuge.local_node() = 'HQ' then
        src := upper(substr(refuge.sync_source(), length('refuge_up_') + 1));
        select n.operation_id into src_op from refuge.sync_node n where n.code = src and n.kind = 'field';
        if tg_op = 'UPDATE' and exists (select 1 from refuge.sync_table t where t.table_name = tg_table_name
                                                                          and t.route = 'sync_operation') then
            -- (derived from the parent here, as HQ routes it)
            NEW.sync_operation := OLD.sync_operation;
        end if;
        refusal := refuge.sync_site_refusal(tg_table_name, tg_op,
                                            case when tg_op <> 'DELETE' then to_jsonb(NEW) end,
                                            case when tg_op <> 'INSERT' then to_jsonb(OLD) end, src, src_op);
        if refusal is not null then
            perform refuge.sync_record_conflict('forbidden_row', tg_table_name,
                (select jsonb_object_agg(c, to_jsonb(coalesce(NEW, OLD)) -> c) from unnest(refuge.sync_key_columns(rel)) c),
                src_op, null, coalesce(src, '?'), null,
                case when tg_op <> 'DELETE' then refuge.sync_row_text(rel, NEW) end, null,
                format('field site %s may only send rows it owns of its own operation: %s (%s %s)', coalesce(src, '?'),
                       refusal, lower(tg_op), tg_table_name));
            return null;
        end if;
    end if;
    if tg_op = 'DELETE' then
        return OLD;
    end if;
    if tg_op = 'UPDATE' then
        if tg_argv[1] = 'shared' then
            NEW.sync_shared := OLD.sync_shared;
        end if;
        if tg_table_name = 'biometric_enrolment' then
            NEW.seq := OLD.seq;
        end if;
        if tg_argv[0] <> 'checked' and src is null then
            return NEW;
        end if;
    else
        if tg_argv[1] = 'shared' then
            if refuge.local_node() = 'HQ' then
                if tg_table_name = 'biometric_enrolment' then
                    NEW.sync_shared := refuge.sync_consumers(NEW.operation_id);
                else
                    NEW.sync_shared := refuge.sync_consumers(NEW.sync_operation);
                end if;
            else
                NEW.sync_shared := '{}';
            end if;
        end if;
        if tg_table_name = 'biometric_enrolment' then
            NEW.seq := nextval('refuge.biometric_enrolment_seq');
        end if;
        keys := refuge.sync_key_columns(rel);
        execute format('select to_jsonb(t) from %s t where %s', rel,
                       (select string_agg(format('t.%1$I = ($1).%1$I', c), ' and ') from unnest(keys) c))
           into row_here using NEW;
        here := row_here is not null;
        -- (a row sent again replaces HQ's copy only if the site owns that copy, and
        -- only as the site could change it)
        if here and src is not null then
            if row_here ->> 'sync_owner' is distinct from src then
                refusal := 'the row here is not its own';
            else
                refusal := refuge.sync_site_refusal(tg_table_name, 'UPDATE', to_jsonb(NEW), row_here, src, src_op);
            end if;
            if refusal is not null then
                perform refuge.sync_record_conflict('forbidden_row', tg_table_name,
                    (select jsonb_object_agg(c, to_jsonb(NEW) -> c) from unnest(keys) c), src_op, null, src, null,
                    refuge.sync_row_text(rel, NEW), null,
                    format('field site %s may only send rows it owns of its own operation: %s (insert %s over the row here)',
                           src, refusal, tg_table_name));
                return null;
            end if;
        end if;
        -- (at HQ every row from a field is written in a subtransaction: a
        -- row no constraint here accepts must not stop the site's link)
        if not here and tg_argv[0] <> 'checked' and src is null then
            return NEW;
        end if;
    end if;
    -- write it here, in a subtransaction: a refusal becomes a conflict
    begin
        if tg_op = 'INSERT' and not here then
            execute format('insert into %s overriding system value select ($1).*', rel) using NEW;
        else
            -- (the copy here keeps what this node keeps for itself)
            execute refuge.sync_replace_sql(rel) using NEW;
        end if;
    exception when others then
        if exists (select 1 from refuge.sync_table t where t.table_name = tg_table_name and t.route = 'sync_operation') then
            op := (to_jsonb(NEW) ->> 'sync_operation')::uuid;
        else
            op := (to_jsonb(NEW) ->> 'operation_id')::uuid;
        end if;
        perform refuge.sync_record_conflict('rejected_row', tg_table_name,
            (select jsonb_object_agg(c, to_jsonb(NEW) -> c) from unnest(refuge.sync_key_columns(rel)) c),
            op, null, to_jsonb(NEW) ->> 'sync_owner', null, refuge.sync_row_text(rel, NEW), null,
            format('%s: %s', sqlstate, sqlerrm));
    end;
    return null;
end
$$;

-- What a request (or the values a conflict did not apply) may change: the
-- columns of a personal table that replicates up, not its key, owner,
-- route or what each node keeps for itself, not an append-only row; a
-- change of operation only when HQ asks, a change of site only to a site of
-- the same operation.  Null when allowed; otherwise why not.
create function refuge.sync_request_refusal(tab text, action text, cols text[], from_node text, op uuid,
                                            new_values jsonb)
    returns text
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    rel regclass;
    c text;
begin
    if not exists (select 1 from refuge.sync_table t where t.table_name = tab and t.kind = 'personal' and t.up)
       or tab in ('sync_change', 'sync_conflict', 'global_check') then
        return format('%s is not a table a request may change', refuge.excerpt(tab));
    end if;
    -- identity and biometric records (enrolments, templates, captures, adjudication, fraud) change
    -- only where they are decided: a field site's request for one is refused
    if from_node is distinct from 'HQ'
       and exists (select 1 from refuge.audit_scope a where a.table_name = tab and a.class in ('identity', 'biometric')) then
        return format('%s is changed only by its owner or HQ', tab);
    end if;
    rel := ('refuge.' || quote_ident(tab))::regclass;
    if refuge.sync_append_only(tab, action) then
        return format('%s is append-only', tab);
    end if;
    foreach c in array coalesce(cols, '{}') loop
        if not exists (select 1 from pg_catalog.pg_attribute a where a.attrelid = rel and a.attname = c
                          and a.attnum > 0 and not a.attisdropped and a.attidentity = '' and a.attgenerated = '')
           or c = any (refuge.sync_local_columns()) or c = any (refuge.sync_key_columns(rel))
           or (c = 'operation_id' and from_node is distinct from 'HQ') then
            return format('%s.%s may not be changed by a request', tab, refuge.excerpt(c));
        end if;
        if c = 'site_id' and (new_values ->> 'site_id') is not null
           and not exists (select 1 from refuge.site x where x.id::text = new_values ->> 'site_id'
                              and x.operation_id = coalesce((new_values ->> 'operation_id')::uuid, op)) then
            return format('%s.site_id: not a site of the operation', tab);
        end if;
    end loop;
    return null;
end
$$;

-- A request arriving at the node that owns its row: apply the changed
-- columns whose values here are still those the request started from; keep
-- the others and record the conflict.
create function refuge.sync_apply_change(ch refuge.sync_change) returns void
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    rel regclass;
    cur jsonb;
    apply_cols text[] := '{}';
    applied jsonb := '{}';
    kept jsonb := '{}';
    lost jsonb := '{}';
    base jsonb := '{}';
    c text;
    refusal text;
begin
    refusal := refuge.sync_request_refusal(ch.table_name, ch.action,
                                           array(select jsonb_object_keys(coalesce(ch.new_values, '{}'))),
                                           ch.sync_owner, ch.operation_id, ch.new_values);
    if refusal is not null then
        perform refuge.sync_record_conflict('forbidden_row', left(ch.table_name, 63), ch.row_key, ch.operation_id, ch.id,
                                            ch.sync_owner, null, ch.new_values, null, refusal);
        return;
    end if;
    rel := ('refuge.' || quote_ident(ch.table_name))::regclass;
    execute format('select refuge.sync_row_text(%L::regclass, t) from %s t where %s', rel, rel,
                   refuge.sync_key_predicate(rel, 't', 1))
       into cur using ch.row_key;
    if cur is null then
        if ch.action = 'UPDATE' then
            perform refuge.sync_record_conflict('missing_row', ch.table_name, ch.row_key, ch.operation_id, ch.id,
                                                ch.sync_owner, null, ch.new_values, ch.old_values,
                                                'the row is no longer here (deleted by its owner)');
        end if;
        return;
    end if;
    -- a request touches only rows of the operation it was made in (HQ's
    -- apply holds a field site's requests to its own operation)
    if coalesce(cur ->> 'operation_id', cur ->> 'sync_operation') is distinct from ch.operation_id::text
       or cur ->> 'sync_owner' is distinct from refuge.local_node() then
        perform refuge.sync_record_conflict('forbidden_row', ch.table_name, ch.row_key, ch.operation_id, ch.id,
                                            ch.sync_owner, null, ch.new_values, null,
                                            'the request names a row of another operation, or one this node does not own');
        return;
    end if;
    if ch.action = 'DELETE' then
        execute format('delete from %s t where %s', rel, refuge.sync_key_predicate(rel, 't', 1)) using ch.row_key;
        return;
    end if;
    for c in select key from jsonb_each(ch.new_values) loop
        if cur -> c is not distinct from ch.old_values -> c then
            apply_cols := apply_cols || c;
            applied := applied || jsonb_build_object(c, ch.new_values -> c);
        elsif cur -> c is distinct from ch.new_values -> c then
            kept := kept || jsonb_build_object(c, cur -> c);
            lost := lost || jsonb_build_object(c, ch.new_values -> c);
            base := base || jsonb_build_object(c, ch.old_values -> c);
        end if;
    end loop;
    if cardinality(apply_cols) > 0 then
        -- (stamped with who asked and when it is applied: apply keeps the stamps rows carry)
        execute format('update %s t set (%s) = (select %s from jsonb_populate_record(null::%s, $2) r)%s where %s',
                       rel, (select string_agg(quote_ident(x), ', ') from unnest(apply_cols) x),
                       (select string_agg('r.' || quote_ident(x), ', ') from unnest(apply_cols) x), rel,
                       case when exists (select 1 from pg_catalog.pg_attribute a where a.attrelid = rel
                                            and a.attname = 'updated_by' and not a.attisdropped)
                            then ', updated_at = now(), updated_by = $3' else '' end,
                       refuge.sync_key_predicate(rel, 't', 1))
          using ch.row_key, applied, ch.requested_by;
    end if;
    if lost <> '{}' then
        perform refuge.sync_record_conflict('concurrent_change', ch.table_name, ch.row_key, ch.operation_id, ch.id,
                                            ch.sync_owner, kept, lost, base,
                                            'the owner had changed these values since the request was made');
    end if;
exception when others then
    perform refuge.sync_record_conflict('rejected_row', ch.table_name, ch.row_key, ch.operation_id, ch.id,
                                        ch.sync_owner, cur, ch.new_values, ch.old_values,
                                        format('%s: %s', sqlstate, sqlerrm));
end
$$;

-- AFTER INSERT on sync_change, for requests arriving from a peer.
create function refuge.sync_change_arrived() returns trigger
    language plpgsql
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    if NEW.target_node = refuge.local_node() and refuge.sync_applying() then
        perform refuge.sync_apply_change(NEW);
    end if;
    return null;
end
$$;

-- AFTER INSERT OR UPDATE on sync_node, arriving at a field site: its own
-- row gives it its key ranges.
create function refuge.sync_node_arrived() returns trigger
    language plpgsql
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    if NEW.code = refuge.local_node() then
        perform refuge.sync_key_ranges();
    end if;
    return null;
end
$$;

-- Take a person out of this node's gallery (HQ's global check blocked or
-- queued their field enrolment): rows owned elsewhere go, and their owner is
-- asked to remove its own copies.
create function refuge.sync_remove_from_gallery(p_individual uuid) returns void
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    t text;
    r record;
begin
    foreach t in array array['biometric_finger', 'biometric_iris', 'biometric_enrolment'] loop
        for r in execute format('select t.sync_owner, t.operation_id_of, to_jsonb(t) - ''template'' as j
                                   from (select x.*, %s as operation_id_of from refuge.%I x where x.individual_id = $1) t',
                                case when t = 'biometric_enrolment' then 'x.operation_id' else 'x.sync_operation' end, t)
                 using p_individual loop
            -- (in a session the row trigger asks the owner; in the apply worker it does not fire)
            if r.sync_owner <> refuge.local_node()
               and pg_catalog.current_setting('session_replication_role') = 'replica' then
                insert into refuge.sync_change (target_node, table_name, row_key, action, operation_id, requested_by)
                values (r.sync_owner, t,
                        case when t = 'biometric_enrolment' then jsonb_build_object('individual_id', r.j -> 'individual_id')
                             when t = 'biometric_finger' then jsonb_build_object('individual_id', r.j -> 'individual_id',
                                                                                 'position', r.j -> 'position')
                             else jsonb_build_object('individual_id', r.j -> 'individual_id', 'eye', r.j -> 'eye') end,
                        'DELETE', r.operation_id_of, refuge.caller());
            end if;
        end loop;
        execute format('delete from refuge.%I x where x.individual_id = $1', t) using p_individual;
    end loop;
end
$$;

-- A uuid from text a peer sent, or null (never an error).
create function refuge.sync_uuid(t text) returns uuid
    language sql immutable parallel safe
    return case when t ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then t::uuid end;

-- HQ's deduplication of an enrolment a field site made (provisionally,
-- against the field's own gallery): the same search and decision as
-- enrol_biometrics, against everyone enrolled anywhere, once per capture,
-- race-free with HQ's own enrolments (the same mark-search-lock protocol and
-- the same lock).  A blocked or queued enrolment leaves the gallery (its
-- owner is asked to remove it too); the decision goes to the field sites of
-- both people's operations.  Never raises: a failure is recorded as a
-- conflict and the check stays pending (refuge.run_global_checks retries).
create function refuge.sync_global_check(p_capture uuid) returns text
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    cap refuge.biometric_capture;
    pol record;
    hw bigint;
    gallery bigint;
    cands uuid[];
    late uuid[];
    scored jsonb;
    c record;
    rk integer := 0;
    decision text;
    matched uuid;
    dcase uuid;
    alert uuid;
    flagged jsonb := '[]';
    field_alert uuid;
    field_case uuid;
begin
    select * into cap from refuge.biometric_capture b where b.id = p_capture;
    if not found or cap.sync_owner = 'HQ' or refuge.local_node() <> 'HQ' then
        return null;
    end if;
    select g.decision into decision from refuge.global_check g where g.capture_id = cap.id;
    if found then
        return decision;
    end if;
    begin
        -- a capture of someone of another operation is not the site's to send (refused on arrival too)
        if (select i.operation_id from refuge.individual i where i.id = cap.individual_id) is distinct from cap.operation_id then
            raise exception 'capture % names a person of another operation', cap.id;
        end if;
        -- what the site decided against its own gallery, and the alert or case it raised
        field_alert := (select a.id from refuge.fraud_alert a where a.id = refuge.sync_uuid(cap.result ->> 'alert_id')
                           and a.operation_id = cap.operation_id and a.individual_id = cap.individual_id);
        field_case := (select d.id from refuge.dedup_case d where d.id = refuge.sync_uuid(cap.result ->> 'case_id')
                          and d.operation_id = cap.operation_id and d.individual_id = cap.individual_id
                          and d.capture_id = cap.id);
        pol := refuge.dedup_settings();
        select coalesce(max(e.seq), 0) into hw from refuge.biometric_enrolment e;
        gallery := refuge.gallery_size();
        cands := refuge.dedup_candidates(cap.fingers, cap.irises, pol.search_fingers, gallery);
        select coalesce(jsonb_agg(to_jsonb(s)), '[]') into scored
          from refuge.score_candidates(cap.fingers, cap.irises, cands, cap.individual_id, gallery) s;
        perform refuge.enrolment_lock();
        late := array(select e.individual_id from refuge.biometric_enrolment e
                       where e.seq > hw and e.status = 'ENROLLED' and e.individual_id <> cap.individual_id
                         and e.individual_id <> all (cands));
        if cardinality(late) > 0 then
            select scored || coalesce(jsonb_agg(to_jsonb(s)), '[]') into scored
              from refuge.score_candidates(cap.fingers, cap.irises, late, cap.individual_id, gallery) s;
        end if;
        -- in HQ's enrolment order from now: an HQ enrolment already searching
        -- meets this one among its late ones
        update refuge.biometric_enrolment e set seq = nextval('refuge.biometric_enrolment_seq')
         where e.individual_id = cap.individual_id;
        for c in select * from jsonb_to_recordset(scored) as s(candidate_id uuid, evidence double precision,
                                   modalities integer, fpir double precision, scores double precision[])
                  where s.fpir <= pol.target_fpir order by s.fpir, s.evidence desc limit 10 loop
            rk := rk + 1;
            if rk = 1 and c.fpir <= pol.block_fpir then
                decision := 'blocked';
                matched := c.candidate_id;
                alert := coalesce(field_alert,
                             refuge.raise_fraud_alert('duplicate_enrolment', cap.individual_id, c.candidate_id, cap.id,
                                 jsonb_build_object('evidence', c.evidence, 'modalities', c.modalities,
                                                    'fpir', greatest(c.fpir, 1e-15), 'found_by', 'HQ global check')));
                exit;
            elsif rk = 1 then
                decision := 'adjudication';
                matched := c.candidate_id;
                dcase := field_case;
                if dcase is null then
                    insert into refuge.dedup_case (capture_id, individual_id, operation_id, site_id)
                    values (cap.id, cap.individual_id, cap.operation_id, cap.site_id)
                    returning id into dcase;
                end if;
            end if;
            -- (a case the site opened keeps the candidates it listed)
            if dcase is distinct from field_case then
                insert into refuge.dedup_candidate (case_id, candidate_id, rank, evidence, modalities, fpir, scores,
                                                    sync_operation)
                values (dcase, c.candidate_id, rk, c.evidence, c.modalities, c.fpir, c.scores, cap.operation_id);
            end if;
            flagged := flagged || jsonb_build_object('rank', rk, 'individual_id', c.candidate_id,
                                                     'evidence', round(c.evidence::numeric, 2));
        end loop;
        decision := coalesce(decision, 'enrolled');
        -- a site may be stricter than HQ, never laxer: what it blocked or queued stays so
        if decision = 'enrolled' and cap.decision in ('blocked', 'adjudication') then
            decision := cap.decision;
            matched := coalesce(refuge.sync_uuid(cap.result -> 'match' ->> 'individual_id'),
                                refuge.sync_uuid(cap.result -> 'candidates' -> 0 ->> 'individual_id'));
            alert := field_alert;
            dcase := field_case;
        end if;
        if decision <> 'enrolled' then
            perform refuge.sync_remove_from_gallery(cap.individual_id);
        end if;
        insert into refuge.global_check (capture_id, individual_id, operation_id, field_node, decision, matched_id,
                                         matched_operation_id, dedup_case_id, fraud_alert_id, result)
        values (cap.id, cap.individual_id, cap.operation_id, cap.sync_owner, decision, matched,
                (select i.operation_id from refuge.individual i where i.id = matched), dcase, alert,
                jsonb_build_object('gallery_size', gallery, 'candidates_compared', cardinality(cands) + cardinality(late),
                                   'candidates', flagged));
        return decision;
    -- (a search cut short by the worker's statement_timeout is recorded like any failure)
    exception when others or query_canceled then
        perform refuge.sync_record_conflict('global_check', 'biometric_capture', jsonb_build_object('id', cap.id),
                                            cap.operation_id, null, cap.sync_owner, null, null, null,
                                            format('%s: %s', sqlstate, sqlerrm));
        return null;
    end;
end
$$;

-- Deferred to the commit of the transaction that brought a field capture
-- to HQ: the search itself runs in a background worker once that
-- transaction has committed (its templates and enrolment with it), so the
-- site's later changes do not wait behind it.
create function refuge.sync_capture_arrived() returns trigger
    language plpgsql
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    if refuge.sync_applying() and refuge.local_node() = 'HQ' and NEW.sync_owner <> 'HQ'
       and pg_catalog.current_setting('refuge_sync.checks_started', true) is distinct from 'on' then
        perform pg_catalog.set_config('refuge_sync.checks_started', 'on', true);
        if not exists (select 1 from pg_catalog.pg_stat_activity a
                        where a.backend_type = 'refuge global checks'
                          and a.datid = (select d.oid from pg_catalog.pg_database d where d.datname = pg_catalog.current_database())) then
            perform refuge.sync_start_checks();
        end if;
    end if;
    return null;
end
$$;

-- internal to HQ's background worker: the oldest pending check that has not
-- failed before (those wait for refuge.run_global_checks); 1 if one was decided.
create function refuge.sync_next_global_check() returns integer
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c uuid;
begin
    select b.id into c from refuge.biometric_capture b
     where b.sync_owner <> 'HQ'
       and not exists (select 1 from refuge.global_check g where g.capture_id = b.id)
       and not exists (select 1 from refuge.sync_conflict k
                        where k.kind = 'global_check' and k.status = 'OPEN' and k.sync_owner = 'HQ'
                          and k.row_key = jsonb_build_object('id', b.id))
     order by b.created_at, b.id limit 1;
    if c is null then
        return 0;
    end if;
    -- (a failure is recorded as a conflict, which takes it out of this queue)
    perform refuge.sync_global_check(c);
    return 1;
end
$$;

-- Checks that failed (recorded as conflicts), run again; for HQ's
-- administrators and scheduled jobs.
create function refuge.run_global_checks(max_checks integer default 1000) returns integer
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c uuid;
    n integer := 0;
begin
    perform refuge.authorize_any(array['refuge_biometrics_admin', 'refuge_dba']::name[], 'run_global_checks');
    if refuge.local_node() <> 'HQ' then
        perform refuge.raise_field('55000', 'run_global_checks', 'global checks run at HQ');
    end if;
    -- (those whose check failed before come last)
    for c in select b.id from refuge.biometric_capture b
              where b.sync_owner <> 'HQ'
                and not exists (select 1 from refuge.global_check g where g.capture_id = b.id)
              order by exists (select 1 from refuge.sync_conflict k
                                where k.kind = 'global_check' and k.status = 'OPEN' and k.sync_owner = 'HQ'
                                  and k.row_key = jsonb_build_object('id', b.id)),
                       b.created_at
              limit max_checks loop
        if refuge.sync_global_check(c) is not null then
            n := n + 1;
        end if;
    end loop;
    return n;
end
$$;
comment on function refuge.run_global_checks(integer) is
    'HQ: run the global checks of field enrolments still pending (a check that failed is recorded as a conflict); returns how many were decided';
grant execute on function refuge.run_global_checks(integer) to refuge_biometrics_admin, refuge_dba;

-- The global decision on a person's latest enrolment, as far as this
-- cluster knows: pending (a field site enrolled them; HQ's search of
-- everyone enrolled has not arrived), enrolled, blocked, adjudication, or
-- null (never enrolled).  Internal: no scope check.
create function refuge.sync_decision(p_individual uuid) returns text
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    cap refuge.biometric_capture;
    d text;
    dc uuid;
begin
    select * into cap from refuge.biometric_capture b where b.individual_id = p_individual
     order by b.created_at desc, b.id limit 1;
    if not found then
        return null;
    end if;
    select g.decision, g.dedup_case_id into d, dc from refuge.global_check g where g.capture_id = cap.id;
    if d is null then
        if cap.sync_owner <> 'HQ' then
            return 'pending';
        end if;
        d := cap.decision;
        dc := (cap.result ->> 'case_id')::uuid;
    end if;
    if d = 'adjudication' and not exists (select 1 from refuge.dedup_case x where x.id = dc and x.status <> 'CLOSED') then
        return case when exists (select 1 from refuge.biometric_enrolment e where e.individual_id = p_individual)
                    then 'enrolled' else 'blocked' end;
    end if;
    return d;
end
$$;

-- The same, for a person the caller may see (null otherwise).
create function refuge.global_decision(individual_id uuid) returns text
    language plpgsql stable security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    ind refuge.individual;
begin
    select * into ind from refuge.individual i where i.id = global_decision.individual_id;
    if not found or not refuge.may_see(ind.operation_id, ind.site_id) then
        return null;
    end if;
    return refuge.sync_decision(ind.id);
end
$$;
comment on function refuge.global_decision(uuid) is
    'pending, enrolled, blocked or adjudication: the decision on a person''s enrolment against everyone enrolled anywhere, as far as this cluster knows';
grant execute on function refuge.global_decision(uuid) to refuge_registration, refuge_supervisor, refuge_biometrics,
    refuge_biometrics_admin, refuge_assistance;

-- Whether an operation's distributions wait for HQ's global check of each
-- collector's enrolment (set at HQ; the field sites receive it).
create function refuge.set_assistance_waits_for_global_check(operation text, wait boolean) returns boolean
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    op refuge.operation;
begin
    perform refuge.authorize('refuge_admin', 'set_assistance_waits_for_global_check');
    if wait is null then
        perform refuge.raise_field('22004', 'wait', 'is required');
    end if;
    select * into op from refuge.operation o where o.code = upper(btrim(set_assistance_waits_for_global_check.operation));
    perform refuge.require_visible(op.id is not null and refuge.in_scope(op.id, null), 'operation');
    update refuge.operation o set assistance_waits_for_global_check = wait where o.id = op.id;
    return wait;
end
$$;
comment on function refuge.set_assistance_waits_for_global_check(text, boolean) is
    'administrator, at HQ: distributions of the operation refuse a collector whose field enrolment HQ has not confirmed (refusal global_check_pending)';
grant execute on function refuge.set_assistance_waits_for_global_check(text, boolean) to refuge_admin;

-- The table list of a publication: field site X's own rows (up), or what X
-- receives from HQ (down): reference data whole, its operation's rows owned
-- by others, requests addressed to X, HQ's global checks concerning its
-- operation, and the templates of operations HQ names as nearby.
create function refuge.sync_publication_tables(direction text, node text, op uuid) returns text
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    select string_agg(format('refuge.%I', t.table_name) ||
           case when direction = 'up' then format(' where (sync_owner = %L)', node)
                when t.kind = 'reference' then ''
                when t.table_name = 'sync_change' then format(' where (sync_owner <> %L and target_node = %L)', node, node)
                when t.table_name = 'global_check' then format(' where (operation_id = %L::uuid)', op)
                when t.shared then format(' where (sync_owner <> %L and (%I = %L::uuid or sync_shared @> %L::uuid[]))',
                                          node, t.route, op, array[op])
                else format(' where (sync_owner <> %L and %I = %L::uuid)', node, t.route, op) end,
           ', ' order by t.table_name)
      from refuge.sync_table t
     where case when direction = 'up' then t.up else t.down end;
end;

-- Names of a node's publications, slots and subscriptions.
create function refuge.sync_name(direction text, node text) returns name
    language sql immutable strict parallel safe
    return ('refuge_' || direction || '_' || lower(node))::name;

create function refuge.sync_slot_state(slot name) returns text
    language sql stable
    set search_path = pg_catalog, pg_temp
begin atomic
    select coalesce((select case when s.wal_status = 'lost' then 'lost' else 'ok' end
                       from pg_catalog.pg_replication_slots s where s.slot_name = slot), 'missing');
end;

-- Drop a replication slot of this cluster, first ending the walsender that
-- holds it (a peer reconnects and finds it gone).
create function refuge.sync_drop_slot(slot name) returns void
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    p integer;
begin
    -- the peer reconnects on its own: end its walsender until the slot is free
    for attempt in 1 .. 50 loop
        select s.active_pid into p from pg_catalog.pg_replication_slots s where s.slot_name = slot;
        if not found then
            return;
        end if;
        if p is not null then
            perform pg_catalog.pg_terminate_backend(p, 5000);
        end if;
        begin
            perform pg_catalog.pg_drop_replication_slot(slot);
            return;
        exception when object_in_use then
            if attempt = 50 then
                raise;
            end if;
            perform pg_catalog.pg_sleep(0.1);
        end;
    end loop;
end
$$;

-- Drop a subscription of this cluster without touching its slot on the
-- peer (which may be unreachable).
create function refuge.sync_drop_subscription(sub name) returns boolean
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    if not exists (select 1 from pg_catalog.pg_subscription s where s.subname = sub) then
        return false;
    end if;
    execute format('alter subscription %I disable', sub);
    execute format('alter subscription %I set (slot_name = none)', sub);
    execute format('drop subscription %I', sub);
    return true;
end
$$;

-- Delete this cluster's copies of rows owned by node (a re-seed copies them
-- again); the deletes are not requests and are not sent back to the owner.
create function refuge.sync_purge_copies(owner_is text, owner_is_not text) returns bigint
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    t text;
    n bigint;
    total bigint := 0;
begin
    perform pg_catalog.set_config('session_replication_role', 'replica', true);
    perform pg_catalog.set_config('refuge.sync_purging', 'on', true);
    for t in select x.table_name from refuge.sync_table x where x.kind = 'personal' order by x.table_name desc loop
        -- HQ keeps a site's append-only records and captures through a re-seed (the copy
        -- may add to them, not rewrite them)
        continue when owner_is is not null and refuge.sync_append_only(t, 'DELETE');
        if owner_is is not null then
            execute format('delete from refuge.%I where sync_owner = $1', t) using owner_is;
        else
            execute format('delete from refuge.%I where sync_owner <> $1', t) using owner_is_not;
        end if;
        get diagnostics n = row_count;
        total := total + n;
    end loop;
    perform pg_catalog.set_config('refuge.sync_purging', 'off', true);
    perform pg_catalog.set_config('session_replication_role', 'origin', true);
    return total;
end
$$;

-- On HQ, before the field site's cluster exists: register the site, open
-- what it will receive (a publication) and subscribe to what it will send
-- (the link comes up by itself once the site has joined: refuge.join_hq
-- there creates the slots, each after the publication it is read with).
-- Run again with a site already added: refreshes the publication and takes
-- a new connection string.
create function refuge.add_field_site(site text, field_conninfo text) returns jsonb
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    s refuge.site;
    node text;
    pub name;
    sub name;
    nd refuge.sync_node;
    n integer;
    level text;
begin
    perform refuge.sync_require_superuser('add_field_site');
    if site is null then
        perform refuge.raise_field('22004', 'site', 'is required');
    end if;
    perform refuge.sync_check_conninfo(field_conninfo, 'field_conninfo');
    if refuge.local_node() <> 'HQ' then
        perform refuge.raise_field('55000', 'add_field_site',
            format('this cluster is field site %s; field sites are added at HQ', refuge.local_node()));
    end if;
    node := upper(btrim(site));
    if node = 'HQ' or node !~ '^[A-Z0-9_]{1,30}$' then
        perform refuge.raise_field('22023', 'site', format('"%s" cannot name a field site (letters, digits, _; not HQ)',
                                                            refuge.excerpt(site)));
    end if;
    select * into nd from refuge.sync_node x where x.code = node;
    if not found then
        if (select count(*) from refuge.site x where upper(x.code) = node) > 1 then
            perform refuge.raise_field('22023', 'site', format('"%s" is a site of more than one operation; rename one', node));
        end if;
        select * into s from refuge.site x where upper(x.code) = node;
        if not found then
            perform refuge.raise_field('P0002', 'site', format('no site %s (refuge.create_site first)', node));
        end if;
        select coalesce(max(x.number), 0) + 1 into n from refuge.sync_node x;
        insert into refuge.sync_node (code, kind, operation_id, site_id, number, series)
        values (node, 'field', s.operation_id, s.id, n, refuge.sync_series(n))
        returning * into nd;
    else
        update refuge.sync_node x set removed_at = null where x.code = node returning * into nd;
    end if;
    -- what the site receives (kept, never dropped: a slot reads it)
    pub := refuge.sync_name('down', node);
    if exists (select 1 from pg_catalog.pg_publication p where p.pubname = pub) then
        execute format('alter publication %I set table %s', pub,
                       refuge.sync_publication_tables('down', node, nd.operation_id));
    else
        execute format('create publication %I for table %s with (publish = ''insert, update, delete'')', pub,
                       refuge.sync_publication_tables('down', node, nd.operation_id));
    end if;
    -- what the site sends: subscribed now, connected once the site has joined
    sub := refuge.sync_name('up', node);
    if exists (select 1 from pg_catalog.pg_subscription x where x.subname = sub) then
        begin
            execute format('alter subscription %I connection %L', sub, field_conninfo);
        exception when syntax_error or invalid_parameter_value or connection_exception then
            perform refuge.raise_field(sqlstate, 'field_conninfo', sqlerrm);
        end;
    else
        -- (its table list is set here, not asked of the site: no warning about it)
        level := pg_catalog.current_setting('client_min_messages');
        perform pg_catalog.set_config('client_min_messages', 'error', true);
        begin
            execute format('create subscription %I connection %L publication %I
                            with (connect = false, slot_name = %L, binary = false)', sub, field_conninfo, sub, sub);
        exception when syntax_error or invalid_parameter_value or connection_exception then
            perform refuge.raise_field(sqlstate, 'field_conninfo', sqlerrm);
        end;
        perform pg_catalog.set_config('client_min_messages', level, true);
        perform refuge.sync_subscription_ready(sub, array(select ('refuge.' || quote_ident(t.table_name))::regclass
                                                            from refuge.sync_table t where t.up));
        execute format('alter subscription %I enable', sub);
    end if;
    return jsonb_build_object('node', nd.code, 'operation', (select o.code from refuge.operation o where o.id = nd.operation_id),
                              'number', nd.number, 'series', nd.series, 'publication', pub, 'subscription', sub);
end
$$;
comment on function refuge.add_field_site(text, text) is
    'HQ, superuser: add a field site (its publication, slot and subscription; the link comes up once the site joins)';

-- On the field site's cluster, after refuge.add_field_site at HQ: become
-- that site, start sending its own rows to HQ and take the first copy of
-- what it receives (the copy runs in the background: refuge.sync_status()).
-- Run again on a site that had joined: re-seeds it (its copies of others'
-- rows are taken again from HQ; its own rows stay).  Call it alone in its
-- transaction.
create function refuge.join_hq(site text, hq_conninfo text) returns jsonb
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    site_node text;
    me text := refuge.local_node();
    up_name name;
    down_sub name;
    slot_was text;
    rejoin boolean;
    purged bigint := 0;
    t text;
    n bigint;
begin
    perform refuge.sync_require_superuser('join_hq');
    if site is null then
        perform refuge.raise_field('22004', 'site', 'is required');
    end if;
    perform refuge.sync_check_conninfo(hq_conninfo, 'hq_conninfo');
    site_node := upper(btrim(site));
    if site_node = 'HQ' or site_node !~ '^[A-Z0-9_]{1,30}$' then
        perform refuge.raise_field('22023', 'site', format('"%s" cannot name a field site (letters, digits, _; not HQ)',
                                                            refuge.excerpt(site)));
    end if;
    rejoin := me = site_node;
    if not rejoin and me <> 'HQ' then
        perform refuge.raise_field('55000', 'site', format('this cluster is field site %s, not %s', me, site_node));
    end if;
    if not rejoin then
        if exists (select 1 from refuge.sync_node x where x.kind = 'field') then
            perform refuge.raise_field('55000', 'join_hq', 'this cluster is HQ: it has field sites');
        end if;
        for t in select x.table_name from refuge.sync_table x where x.kind = 'personal' loop
            execute format('select count(*) from refuge.%I', t) into n;
            if n > 0 then
                perform refuge.raise_field('55000', 'join_hq',
                    format('this cluster already holds records (%s rows in %s); a field site joins empty', n, t),
                    'Bring existing records in at HQ; then join an empty cluster.');
            end if;
        end loop;
    end if;
    up_name := refuge.sync_name('up', site_node);
    -- the slot HQ reads first (a transaction that has written cannot create
    -- one); a new site has written nothing yet, a returning one has its
    -- publication already, so no change reaches the slot before it
    slot_was := refuge.sync_slot_state(up_name);
    if slot_was = 'lost' then
        perform refuge.sync_drop_slot(up_name);
    end if;
    if slot_was <> 'ok' then
        perform pg_catalog.pg_create_logical_replication_slot(up_name, 'pgoutput');
    end if;
    if exists (select 1 from pg_catalog.pg_publication p where p.pubname = up_name) then
        execute format('alter publication %I set table %s', up_name,
                       refuge.sync_publication_tables('up', site_node, null));
    else
        execute format('create publication %I for table %s with (publish = ''insert, update, delete'')', up_name,
                       refuge.sync_publication_tables('up', site_node, null));
    end if;
    insert into refuge.sync_local (singleton, node, joined_at) values (true, site_node, now())
        on conflict (singleton) do update set node = excluded.node, joined_at = excluded.joined_at;
    -- what HQ sends: a new slot there, after HQ's publication, and a full copy
    down_sub := refuge.sync_name('down', site_node);
    perform refuge.sync_drop_subscription(down_sub);
    if rejoin then
        -- what HQ sends is taken again whole: what was withdrawn meanwhile goes
        purged := refuge.sync_purge_copies(null, site_node);
    end if;
    begin
        perform refuge.sync_create_remote_slot(hq_conninfo, down_sub, true);
        execute format('create subscription %I connection %L publication %I
                        with (create_slot = false, slot_name = %L, copy_data = true, binary = false)',
                       down_sub, hq_conninfo, down_sub, down_sub);
    exception when syntax_error or invalid_parameter_value or connection_exception then
        perform refuge.raise_field(sqlstate, 'hq_conninfo', sqlerrm);
    end;
    return jsonb_build_object('node', site_node, 'publication', up_name, 'subscription', down_sub,
                              'slot', case slot_was when 'ok' then 'kept'
                                                    when 'lost' then 'recreated (it was lost: re-seed at HQ with refuge.reseed_field_site)'
                                                    else 'created' end,
                              'rejoined', rejoin, 'copies_dropped', purged);
end
$$;
comment on function refuge.join_hq(text, text) is
    'field site, superuser: become this site, send its rows to HQ and take the first copy of what it receives (again: re-seed)';

-- On a field site: stop both directions.  The site keeps its records and
-- its identity (join again to re-seed); HQ keeps its copies until
-- refuge.remove_field_site there.
create function refuge.leave_hq() returns jsonb
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    node text := refuge.local_node();
begin
    perform refuge.sync_require_superuser('leave_hq');
    if node = 'HQ' then
        perform refuge.raise_field('55000', 'leave_hq', 'this cluster is HQ, not a field site');
    end if;
    perform refuge.sync_drop_subscription(refuge.sync_name('down', node));
    execute format('drop publication if exists %I', refuge.sync_name('up', node));
    perform refuge.sync_drop_slot(refuge.sync_name('up', node));
    update refuge.sync_local set joined_at = null;
    return jsonb_build_object('node', node, 'left', true,
                              'at_hq', format('select refuge.remove_field_site(%L)', node));
end
$$;
comment on function refuge.leave_hq() is
    'field site, superuser: stop replicating with HQ (records and identity stay; join_hq again re-seeds)';

-- On HQ: a field site leaves for good.  HQ takes over the rows it owned
-- (requests for them would have no one to go to).
create function refuge.remove_field_site(site text) returns jsonb
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    node text := upper(btrim(site));
    t text;
    n bigint;
    total bigint := 0;
begin
    perform refuge.sync_require_superuser('remove_field_site');
    if not exists (select 1 from refuge.sync_node x where x.code = node and x.kind = 'field') then
        perform refuge.raise_field('P0002', 'site', format('no field site %s', refuge.excerpt(site)));
    end if;
    perform refuge.sync_drop_subscription(refuge.sync_name('up', node));
    execute format('drop publication if exists %I', refuge.sync_name('down', node));
    perform refuge.sync_drop_slot(refuge.sync_name('down', node));
    perform pg_catalog.set_config('session_replication_role', 'replica', true);
    for t in select x.table_name from refuge.sync_table x where x.kind = 'personal' loop
        execute format('update refuge.%I set sync_owner = ''HQ'' where sync_owner = $1', t) using node;
        get diagnostics n = row_count;
        total := total + n;
    end loop;
    perform pg_catalog.set_config('session_replication_role', 'origin', true);
    update refuge.sync_node x set removed_at = now() where x.code = node;
    return jsonb_build_object('node', node, 'removed', true, 'rows_taken_over', total);
end
$$;
comment on function refuge.remove_field_site(text) is
    'HQ, superuser: remove a field site (publication, slot, subscription); HQ takes over the rows it owned';

-- On HQ: take a field site's rows again (its slot was lost, so HQ missed
-- some of its changes).  First re-join the site (refuge.join_hq there
-- recreates its slot); this drops HQ's copies of the site's rows and copies
-- them anew.  Call it alone in its transaction.
create function refuge.reseed_field_site(site text) returns jsonb
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    node text := upper(btrim(site));
    sub name := refuge.sync_name('up', upper(btrim(site)));
    conn text;
    purged bigint;
begin
    perform refuge.sync_require_superuser('reseed_field_site');
    select s.subconninfo into conn from pg_catalog.pg_subscription s where s.subname = sub;
    if conn is null then
        perform refuge.raise_field('P0002', 'site', format('no field site %s (refuge.add_field_site first)', refuge.excerpt(site)));
    end if;
    perform refuge.sync_drop_subscription(sub);
    purged := refuge.sync_purge_copies(node, null);
    execute format('create subscription %I connection %L publication %I
                    with (create_slot = false, slot_name = %L, copy_data = true, binary = false)', sub, conn, sub, sub);
    return jsonb_build_object('node', node, 'copies_dropped', purged, 'subscription', sub);
end
$$;
comment on function refuge.reseed_field_site(text) is
    'HQ, superuser: copy a field site''s rows anew (after its slot was lost and it re-joined)';

-- On HQ: the field sites of an operation receive the templates of these
-- nearby operations (replaces the list; [] stops).
create function refuge.set_nearby_operations(operation text, nearby text[]) returns jsonb
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    op uuid;
    ids uuid[] := '{}';
    x text;
    id uuid;
    affected uuid[];
    a uuid;
    changed bigint := 0;
    k bigint;
begin
    perform refuge.sync_require_superuser('set_nearby_operations');
    if refuge.local_node() <> 'HQ' then
        perform refuge.raise_field('55000', 'set_nearby_operations', 'nearby operations are set at HQ');
    end if;
    select o.id into op from refuge.operation o where o.code = upper(btrim(set_nearby_operations.operation));
    if op is null then
        perform refuge.raise_field('P0002', 'operation', format('no operation %s', coalesce(refuge.excerpt(set_nearby_operations.operation), 'null')));
    end if;
    foreach x in array coalesce(nearby, '{}') loop
        select o.id into id from refuge.operation o where o.code = upper(btrim(x));
        if id is null then
            perform refuge.raise_field('P0002', 'nearby', format('no operation %s', coalesce(refuge.excerpt(x), 'null')));
        end if;
        if id = op then
            perform refuge.raise_field('22023', 'nearby', format('%s is the operation itself', x));
        end if;
        ids := ids || id;
    end loop;
    affected := array(select n.nearby_id from refuge.sync_nearby n where n.operation_id = op
                      union select unnest(ids));
    delete from refuge.sync_nearby n where n.operation_id = op and n.nearby_id <> all (ids);
    insert into refuge.sync_nearby (operation_id, nearby_id)
    select op, u from unnest(ids) u on conflict do nothing;
    -- the templates of the operations concerned follow: rows whose routing
    -- changes are sent to (or withdrawn from) the field sites
    foreach a in array affected loop
        update refuge.biometric_enrolment e set sync_shared = refuge.sync_consumers(a)
         where e.operation_id = a and e.sync_shared is distinct from refuge.sync_consumers(a);
        get diagnostics k = row_count;
        changed := changed + k;
        update refuge.biometric_finger f set sync_shared = refuge.sync_consumers(a)
         where f.sync_operation = a and f.sync_shared is distinct from refuge.sync_consumers(a);
        update refuge.biometric_iris i set sync_shared = refuge.sync_consumers(a)
         where i.sync_operation = a and i.sync_shared is distinct from refuge.sync_consumers(a);
    end loop;
    return jsonb_build_object('operation', upper(btrim(set_nearby_operations.operation)),
                              'nearby', (select coalesce(jsonb_agg(o.code order by o.code), '[]')
                                           from refuge.operation o where o.id = any (ids)),
                              'people_shared_or_withdrawn', changed);
end
$$;
comment on function refuge.set_nearby_operations(text, text[]) is
    'HQ, superuser: the field sites of an operation receive the templates (only) of these nearby operations';

-- One row per peer and direction (up: field site to HQ; down: HQ to field
-- site).  The side that holds a direction's slot (the field for up, HQ for
-- down) knows its lag exactly: WAL not yet confirmed by the peer; the
-- receiving side knows whether its worker is connected and when it last
-- heard from the peer.
create function refuge.sync_status()
    returns table (peer text, direction text, connected boolean, caught_up boolean, lag_bytes bigint,
                   last_activity timestamptz, state text, detail text)
    language plpgsql stable security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    me text := refuge.local_node();
    nd record;
    sl record;
    su record;
    slot name;
    sub name;
    tables_total integer;
    tables_ready integer;
begin
    perform refuge.authorize_any(array['refuge_admin', 'refuge_supervisor', 'refuge_dba']::name[], 'sync_status');
    for nd in select x.code, x.kind from refuge.sync_node x
               where x.removed_at is null
                 and ((me = 'HQ' and x.kind = 'field') or (me <> 'HQ' and x.kind = 'hq'))
              union all
              -- a field site whose node row has not arrived yet still talks to HQ
              select 'HQ', 'hq' where me <> 'HQ' and not exists (select 1 from refuge.sync_node x where x.kind = 'hq')
              order by 1 loop
        -- the direction whose slot is here
        slot := refuge.sync_name(case when me = 'HQ' then 'down' else 'up' end, case when me = 'HQ' then nd.code else me end);
        select s.active, s.wal_status, s.confirmed_flush_lsn,
               pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), s.confirmed_flush_lsn)::bigint as lag,
               (select r.reply_time from pg_catalog.pg_stat_replication r where r.pid = s.active_pid) as reply
          into sl from pg_catalog.pg_replication_slots s where s.slot_name = slot;
        peer := nd.code;
        direction := case when me = 'HQ' then 'down' else 'up' end;
        if sl is null then
            connected := false; caught_up := false; lag_bytes := null; last_activity := null;
            state := 'no slot'; detail := format('slot %s is missing (refuge.%s)', slot,
                                                 case when me = 'HQ' then 'add_field_site' else 'join_hq' end);
        else
            connected := sl.active;
            lag_bytes := greatest(sl.lag, 0);
            caught_up := sl.active and sl.lag <= 0;
            last_activity := sl.reply;
            state := case when sl.wal_status = 'lost' then 'slot lost'
                          when not sl.active then 'disconnected'
                          when sl.lag <= 0 then 'streaming' else 'catching up' end;
            detail := case when sl.wal_status = 'lost'
                           then 'changes were discarded before the peer took them: re-seed (README, Field sites)'
                           else format('slot %s, WAL %s', slot, sl.wal_status) end;
        end if;
        return next;
        -- the direction this cluster subscribes to
        sub := refuge.sync_name(case when me = 'HQ' then 'up' else 'down' end, case when me = 'HQ' then nd.code else me end);
        select s.subenabled, st.pid, st.last_msg_receipt_time, st.received_lsn, st.latest_end_lsn
          into su
          from pg_catalog.pg_subscription s
          left join pg_catalog.pg_stat_subscription st on st.subid = s.oid and st.relid is null
         where s.subname = sub;
        select count(*), count(*) filter (where r.srsubstate = 'r')
          into tables_total, tables_ready
          from pg_catalog.pg_subscription_rel r join pg_catalog.pg_subscription s on s.oid = r.srsubid
         where s.subname = sub;
        direction := case when me = 'HQ' then 'up' else 'down' end;
        if su is null then
            connected := false; caught_up := false; lag_bytes := null; last_activity := null;
            state := 'no subscription'; detail := format('subscription %s is missing', sub);
        else
            connected := su.pid is not null and su.last_msg_receipt_time is not null;
            last_activity := su.last_msg_receipt_time;
            lag_bytes := greatest(coalesce(pg_catalog.pg_wal_lsn_diff(su.latest_end_lsn, su.received_lsn)::bigint, 0), 0);
            caught_up := connected and tables_ready = tables_total
                         and su.last_msg_receipt_time > now() - interval '1 minute';
            state := case when not su.subenabled then 'disabled'
                          when tables_ready < tables_total then 'initial copy'
                          when not connected then 'disconnected'
                          else 'streaming' end;
            detail := format('subscription %s, %s of %s tables ready', sub, tables_ready, tables_total)
                      || coalesce((select format('; %s apply errors (server log: the table and the LSN)', x.apply_error_count)
                                     from pg_catalog.pg_stat_subscription_stats x
                                    where x.subname = sub and x.apply_error_count > 0), '');
        end if;
        return next;
    end loop;
end
$$;
comment on function refuge.sync_status() is
    'each peer and direction (up: field to HQ, down: HQ to field): connected, caught up, lag in bytes, last activity, state';
grant execute on function refuge.sync_status() to refuge_admin, refuge_supervisor, refuge_dba;

-- On HQ: the field sites, with the state of both directions.
create function refuge.field_sites()
    returns table (site text, operation text, number smallint, series text, added_at timestamptz,
                   nearby text[], up_state text, down_state text, down_lag_bytes bigint)
    language sql stable security definer
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    select n.code, o.code, n.number, n.series, n.added_at,
           array(select x.code from refuge.sync_nearby y join refuge.operation x on x.id = y.nearby_id
                  where y.operation_id = n.operation_id order by x.code),
           (select s.state from refuge.sync_status() s where s.peer = n.code and s.direction = 'up'),
           (select s.state from refuge.sync_status() s where s.peer = n.code and s.direction = 'down'),
           (select s.lag_bytes from refuge.sync_status() s where s.peer = n.code and s.direction = 'down')
      from refuge.sync_node n
      left join refuge.operation o on o.id = n.operation_id
     where n.kind = 'field' and n.removed_at is null
     order by n.code;
end;
comment on function refuge.field_sites() is
    'HQ: the field sites, their operation, number and series, nearby operations and the state of both directions';
grant execute on function refuge.field_sites() to refuge_admin, refuge_supervisor, refuge_dba;

-- A supervisor resolves a conflict of their operation:
--   keep   what is in force stays (the lost values were seen and set aside)
--   apply  the lost values are written now (a request to the owner if the
--          row is owned elsewhere, checked again there)
--   retry  a refused row is written again (after its obstacle was removed)
create function refuge.resolve_conflict(conflict_id uuid, resolution text, note text default null) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.sync_conflict;
    rel regclass;
    r jsonb;
    row_op text;
    refusal text;
begin
    perform refuge.authorize_any(array['refuge_supervisor', 'refuge_admin']::name[], 'resolve_conflict');
    select * into c from refuge.sync_conflict x where x.id = conflict_id for update;
    if not found or not (refuge.in_scope(c.operation_id) or refuge.caller_is_superuser()) then
        perform refuge.raise_field('P0002', 'conflict_id', format('no conflict %s', conflict_id));
    end if;
    if c.status <> 'OPEN' then
        perform refuge.raise_field('55000', 'conflict_id', format('conflict %s is already resolved (%s)', c.id, c.resolution));
    end if;
    if resolution is null or resolution not in ('keep', 'apply', 'retry') then
        perform refuge.raise_field('22023', 'resolution', format('"%s" is not keep, apply or retry', coalesce(refuge.excerpt(resolution), 'null')));
    end if;
    if nullif(btrim(note), '') is null then
        perform refuge.raise_field('22004', 'note', 'is required: say why');
    end if;
    -- a conflict is resolved where it was recorded (its copies elsewhere follow)
    if c.sync_owner is distinct from refuge.local_node() then
        perform refuge.raise_field('55000', 'conflict_id', format('conflict %s was recorded at %s: resolve it there', c.id, c.sync_owner));
    end if;
    if c.kind = 'forbidden_row' and resolution <> 'keep' then
        perform refuge.raise_field('22023', 'resolution', 'a forbidden row is only kept out (keep)');
    end if;
    if resolution in ('apply', 'retry') then
        rel := ('refuge.' || quote_ident(c.table_name))::regclass;
        -- the row it would write must be one the caller may work, of the conflict's operation
        row_op := coalesce(c.lost_values ->> 'operation_id', c.lost_values ->> 'sync_operation');
        if resolution = 'apply' then
            execute format('select coalesce(to_jsonb(t) ->> ''operation_id'', to_jsonb(t) ->> ''sync_operation'') from %s t where %s',
                           rel, refuge.sync_key_predicate(rel, 't', 1))
               into row_op using c.row_key;
        end if;
        -- (apply never moves a row to another operation; retry writes a row as its sender
        -- owns it, under the rules HQ holds a field site to)
        refusal := refuge.sync_request_refusal(c.table_name, case when resolution = 'apply' then 'UPDATE' else 'INSERT' end,
                       case when resolution = 'apply' then array(select jsonb_object_keys(coalesce(c.lost_values, '{}'))) end,
                       case when resolution = 'apply' then null else c.from_node end, c.operation_id, c.lost_values);
        if refusal is null and resolution = 'retry' then
            if c.from_node = refuge.local_node() or c.lost_values ->> 'sync_owner' is distinct from c.from_node then
                refusal := 'the row is not its sender''s';
            elsif refuge.local_node() = 'HQ' then
                refusal := refuge.sync_site_refusal(c.table_name, 'INSERT', c.lost_values, null, c.from_node,
                               (select n.operation_id from refuge.sync_node n where n.code = c.from_node and n.kind = 'field'));
            end if;
        end if;
        if refusal is null and row_op is distinct from c.operation_id::text then
            refusal := 'the row is not of the conflict''s operation';
        end if;
        if refusal is not null then
            perform refuge.raise_field('42501', 'conflict_id', format('conflict %s cannot be %s: %s', c.id,
                                       case when resolution = 'apply' then 'applied' else 'retried' end, refusal));
        end if;
    end if;
    if resolution = 'apply' then
        if c.kind <> 'concurrent_change' then
            perform refuge.raise_field('22023', 'resolution', format('apply is for concurrent changes; this is %s', c.kind));
        end if;
        execute format('update %s t set (%s) = (select %s from jsonb_populate_record(null::%s, $2) r) where %s', rel,
                       (select string_agg(quote_ident(k), ', ') from jsonb_object_keys(c.lost_values) k),
                       (select string_agg('r.' || quote_ident(k), ', ') from jsonb_object_keys(c.lost_values) k),
                       rel, refuge.sync_key_predicate(rel, 't', 1))
          using c.row_key, c.lost_values;
    elsif resolution = 'retry' then
        if c.kind <> 'rejected_row' or c.change_id is not null then
            perform refuge.raise_field('22023', 'resolution', 'retry is for replicated rows that were refused here');
        end if;
        -- as it arrived: its owner stays, and it is not sent back there
        perform refuge.sync_as_replica(true);
        execute format('insert into %s overriding system value select * from jsonb_populate_record(null::%s, $1)', rel, rel)
          using c.lost_values;
        perform refuge.sync_as_replica(false);
    end if;
    update refuge.sync_conflict x set status = 'RESOLVED', resolution = resolve_conflict.resolution || ': ' || btrim(note),
                                      resolved_by = refuge.caller(), resolved_at = now()
     where x.id = c.id;
    return jsonb_build_object('conflict_id', c.id, 'resolution', resolution);
end
$$;
comment on function refuge.resolve_conflict(uuid, text, text) is
    'supervisor: resolve a replication conflict of their operation (keep what is in force, apply the values that were not, or retry a refused row)';
grant execute on function refuge.resolve_conflict(uuid, text, text) to refuge_supervisor, refuge_admin;

-- The triggers that join every replicated table to the machinery above.
do $sync_wiring$
declare
    t refuge.sync_table;
    checked boolean;
begin
    for t in select * from refuge.sync_table order by table_name loop
        checked := exists (select 1 from pg_catalog.pg_index i
                            where i.indrelid = ('refuge.' || quote_ident(t.table_name))::regclass
                              and i.indisunique and not i.indisprimary);
        if t.kind = 'personal' then
            execute format('create trigger sync_local before insert or update or delete on refuge.%I
                            for each row execute function refuge.sync_row_local(%L, %L, %L, %L)',
                           t.table_name, t.route, coalesce(t.parent_table, ''), coalesce(t.parent_key, ''), t.shared);
        else
            execute format('create trigger sync_local before insert or update or delete on refuge.%I
                            for each row execute function refuge.sync_reference_local()', t.table_name);
            if exists (select 1 from pg_catalog.pg_trigger g
                        where g.tgrelid = ('refuge.' || quote_ident(t.table_name))::regclass and g.tgname = 'vocab_changed') then
                execute format('create trigger vocab_changed_apply after insert or update on refuge.%I
                                for each row execute function refuge.vocab_changed()', t.table_name);
                execute format('alter table refuge.%I enable replica trigger vocab_changed_apply', t.table_name);
            end if;
        end if;
        -- "a_": before the other BEFORE triggers, which do not run for a row it writes itself
        execute format('create trigger a_sync_apply before insert or update or delete on refuge.%I
                        for each row execute function refuge.sync_row_apply(%L, %L)',
                       t.table_name, case when checked then 'checked' else 'direct' end,
                       case when t.shared then 'shared' else '' end);
        execute format('alter table refuge.%I enable replica trigger a_sync_apply', t.table_name);
    end loop;
end
$sync_wiring$;
create trigger sync_change_arrived after insert on refuge.sync_change
    for each row execute function refuge.sync_change_arrived();
alter table refuge.sync_change enable replica trigger sync_change_arrived;
create trigger sync_node_arrived after insert or update on refuge.sync_node
    for each row execute function refuge.sync_node_arrived();
alter table refuge.sync_node enable replica trigger sync_node_arrived;
create constraint trigger sync_capture_arrived after insert on refuge.biometric_capture
    deferrable initially deferred
    for each row execute function refuge.sync_capture_arrived();
alter table refuge.biometric_capture enable replica trigger sync_capture_arrived;

-- 5. What every table and function shares (sql/99_security.sql), for the new ones.
do $security$
declare
    r record;
begin
    for r in select c.oid::regclass as rel, c.relkind
               from pg_catalog.pg_class c
              where c.relnamespace = 'refuge'::regnamespace and c.relkind = 'r'
                and c.relname in ('sync_local', 'sync_node', 'sync_nearby', 'sync_table', 'sync_change',
                                  'sync_conflict', 'global_check')
              order by c.oid
    loop
        execute format('alter table %s owner to refuge_owner', r.rel);
        execute format('revoke all on table %s from public', r.rel);
        execute format('alter table %s enable row level security', r.rel);
        execute format('alter table %s force row level security', r.rel);
        execute format('create policy owner_all on %s for all to refuge_owner using (true) with check (true)', r.rel);
        execute format('create trigger no_truncate before truncate on %s
                        for each statement execute function refuge.refuse_truncate()', r.rel);
        execute format('alter table %s enable always trigger no_truncate', r.rel);
    end loop;
    for r in select p.oid::regprocedure as fn from pg_catalog.pg_proc p
              where p.pronamespace in ('refuge'::regnamespace, 'refuge_warehouse'::regnamespace)
                and pg_catalog.pg_get_userbyid(p.proowner) <> 'refuge_owner'
    loop
        execute format('alter function %s owner to refuge_owner', r.fn);
    end loop;
end
$security$;
revoke all on all functions in schema refuge, refuge_warehouse from public;

do $audit$
declare
    t record;
begin
    for t in select * from (values
        ('sync_change', array['self'], false),
        ('sync_conflict', array['self'], true),
        ('sync_local', array['none'], false),
        ('sync_nearby', array['none'], false),
        ('sync_node', array['none'], false),
        ('sync_table', array['none'], false),
        ('global_check', array['self'], false)) v(tab, audit_args, stamped)
    loop
        if t.stamped then
            execute format('create trigger stamp before insert or update on refuge.%I
                            for each row execute function refuge.stamp_row()', t.tab);
            execute format('alter table refuge.%I enable always trigger stamp', t.tab);
        end if;
        execute format('create trigger audit after insert or update or delete on refuge.%I
                        for each row execute function refuge.audit_row(%s)', t.tab,
                       (select string_agg(quote_literal(a), ', ') from unnest(t.audit_args) a));
        execute format('create trigger audit_flush after insert or update or delete on refuge.%I
                        for each statement execute function refuge.audit_flush()', t.tab);
        execute format('alter table refuge.%I enable always trigger audit', t.tab);
        execute format('alter table refuge.%I enable always trigger audit_flush', t.tab);
    end loop;
end
$audit$;
