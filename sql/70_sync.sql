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
    check (refusal in ('not_authorised', 'verification_failed', 'not_enrolled', 'already_collected', 'global_check_pending',
                       'entitlement_cancelled', 'collector_not_active'));

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
-- (not those of consents and notices: a consent to a sensitive module's
-- purpose, or its withdrawal, is that module's staff's only)
create policy scope_read on refuge.sync_change for select to refuge_supervisor, refuge_admin
    using (operation_id = any ((select refuge.scope_operations())::uuid[])
           and table_name not in ('consent', 'information_notice'));
grant select on refuge.sync_change to refuge_supervisor, refuge_admin;
create policy scope_read on refuge.sync_conflict for select to refuge_supervisor, refuge_admin
    using (operation_id = any ((select refuge.scope_operations())::uuid[])
           and table_name not in ('consent', 'information_notice'));
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
