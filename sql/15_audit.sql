-- The audit trail (every change), its hash chain's seals and classes, bulk
-- loads, idempotent API requests, and the logs of sensitive reads (written by
-- the logging worker so that they survive the reader's rollback).

-- Who/when columns, set from the calling role whatever the statement said
-- (extension/audit.c).  Stands down while a dump is restored.
create function refuge.stamp_row() returns trigger
    language c
    as 'MODULE_PATHNAME', 'refuge_stamp_row';

-- One audit row per written row: the values of an insert or delete, the
-- changed columns (old and new) of an update.  tg_argv[0] says how to find
-- the operation a row belongs to: 'self' (its operation_id), 'individual'
-- (through individual_id), 'none' (configuration).  Written in C because it
-- runs for every row the API writes (extension/audit.c).
create function refuge.audit_row() returns trigger
    language c
    as 'MODULE_PATHNAME', 'refuge_audit_row';

-- The row trigger collects; this statement trigger writes the statement's
-- audit rows with one insert (a transaction that would commit with audit rows
-- collected but unwritten is refused).
create function refuge.audit_flush() returns trigger
    language c
    as 'MODULE_PATHNAME', 'refuge_audit_flush';

-- Append-only means append-only, whatever row_security says.  Only a
-- field site's re-seed (refuge.sync_purging, superuser only) deletes a
-- copy of a row owned elsewhere, replication keeps a copy like its owner's,
-- and a change of route or owner touches none of a row's content.
create function refuge.sync_purging() returns boolean
    language c stable as 'MODULE_PATHNAME', 'refuge_sync_purging';

create function refuge.append_only() returns trigger
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
    -- a sealed note or document sealed again under a new vault key
    -- (refuge.rotate_vault_key): the same content, verified
    if tg_op = 'UPDATE' and tg_table_name in ('case_note', 'case_document') then
        if to_jsonb(NEW) - array['sealed', 'updated_at', 'updated_by'] = to_jsonb(OLD) - array['sealed', 'updated_at', 'updated_by']
           and NEW.sealed is not null and OLD.sealed is not null
           and refuge.vault_open(NEW.sealed, tg_table_name || ':' || NEW.id)
               = refuge.vault_open(OLD.sealed, tg_table_name || ':' || OLD.id) then
            return NEW;
        end if;
    end if;
    -- the purpose a reader gave, replaced once the person read about was
    -- erased (refuge.erasure_arrived): it can name them
    if tg_op = 'UPDATE' and tg_table_name in ('sensitive_read', 'vault_access') then
        if NEW.purpose = '(erased with the record)' and to_jsonb(NEW) - 'purpose' = to_jsonb(OLD) - 'purpose'
           and (exists (select 1 from refuge.individual i where i.id = NEW.individual_id and i.status = 'ERASED')
                or (tg_table_name = 'sensitive_read' and refuge.case_file_erased((to_jsonb(NEW) ->> 'case_id')::uuid))) then
            return NEW;
        end if;
    end if;
    -- what staff wrote in the case file of erased people alone, replaced
    -- (refuge.erase_case_files): only by the markers, nothing else changed
    if tg_op = 'UPDATE' and tg_table_name in ('case_note', 'case_document', 'case_event')
       and refuge.case_file_erased((to_jsonb(NEW) ->> 'case_id')::uuid) then
        if (tg_table_name = 'case_note'
            and to_jsonb(NEW) - array['body', 'sealed', 'confidential'] = to_jsonb(OLD) - array['body', 'sealed', 'confidential']
            and to_jsonb(NEW) @> '{"body": "(erased with the record)", "sealed": null, "confidential": false}')
           or (tg_table_name = 'case_document'
               and to_jsonb(NEW) - array['title', 'content', 'sealed', 'confidential', 'size_bytes', 'sha256']
                   = to_jsonb(OLD) - array['title', 'content', 'sealed', 'confidential', 'size_bytes', 'sha256']
               and to_jsonb(NEW) @> jsonb_build_object('title', '(erased with the record)', 'content', '\x', 'sealed', null,
                                                       'confidential', false, 'size_bytes', 0,
                                                       'sha256', sha256(''::bytea)::text))
           or (tg_table_name = 'case_event'
               and to_jsonb(NEW) - array['reason', 'data'] = to_jsonb(OLD) - array['reason', 'data']
               and coalesce(to_jsonb(NEW) ->> 'reason', '(erased with the record)') = '(erased with the record)'
               and to_jsonb(NEW) -> 'data' is not distinct from
                   refuge.case_codes_only((select c.module from refuge.process_case c
                                            where c.id = (to_jsonb(NEW) ->> 'case_id')::uuid),
                                          to_jsonb(OLD) -> 'data')) then
            return NEW;
        end if;
    end if;
    raise exception using errcode = '42501',
        message = format('%s is append-only: rows are never %s', tg_table_name,
                         case tg_op when 'DELETE' then 'deleted' else 'changed' end);
end
$$;

create function refuge.audit_guard() returns trigger
    language c
    as 'MODULE_PATHNAME', 'refuge_audit_guard';

create function refuge.refuse_truncate() returns trigger
    language c
    as 'MODULE_PATHNAME', 'refuge_refuse_truncate';

-- Audit trail and idempotent API requests.
--
-- Every write to registration data is recorded here by trigger, in the same
-- transaction, with the caller (refuge.caller(), not the definer), the time
-- and the old and new values.  Rows are only ever inserted.
create table refuge.audit_log (
    id            bigint generated always as identity primary key,
    at            timestamptz not null default now(),
    txid          bigint not null default txid_current(),
    actor         name not null,
    operation_id  uuid,
    table_name    text not null,
    row_id        uuid,
    action        char(1) not null check (action in ('I', 'U', 'D')),
    old_data      jsonb,
    new_data      jsonb,
    class         text not null,
    module        text
);
create index on refuge.audit_log (table_name, row_id);
create index on refuge.audit_log (operation_id, at);
create index audit_log_txid on refuge.audit_log (txid);
create index audit_log_class on refuge.audit_log (class, operation_id, at);
comment on table refuge.audit_log is 'append-only record of every change to refuge data: who, when, old and new values (changed columns only for updates)';
comment on column refuge.audit_log.class is 'class of the table the row describes (refuge.audit_scope): who may read it';
comment on column refuge.audit_log.module is 'case module, for rows that describe case records';
create trigger append_only before delete or update on refuge.audit_log
    for each row execute function refuge.append_only();
alter table refuge.audit_log enable always trigger append_only;
create trigger audit_flush after insert on refuge.audit_log
    for each statement execute function refuge.audit_flush();
alter table refuge.audit_log enable always trigger audit_flush;
create trigger guard before insert on refuge.audit_log
    for each row execute function refuge.audit_guard();
alter table refuge.audit_log enable always trigger guard;
create policy admin_read on refuge.audit_log for select to refuge_admin
    using (class = 'config');
create policy biometrics_read on refuge.audit_log for select to refuge_biometrics_admin
    using (class in ('identity', 'biometric'));
grant select on refuge.audit_log to refuge_supervisor, refuge_admin, refuge_biometrics_admin;
select pg_catalog.pg_extension_config_dump('refuge.audit_log', '');
select pg_catalog.pg_extension_config_dump('refuge.audit_log_id_seq', '');

-- A retried API call with the same request_id returns the first result.
create table refuge.api_request (
    request_id    uuid not null,
    function_name text not null,
    caller        name not null,
    payload_hash  bytea not null,
    result        jsonb not null,
    created_at    timestamptz not null default now(),
    primary key (caller, request_id)
);
select pg_catalog.pg_extension_config_dump('refuge.api_request', '');

create table refuge.vault_access (
    id               bigint generated always as identity primary key,
    vault_id         uuid not null,
    individual_id    uuid not null,
    purpose          text not null,
    accessed_by      name not null,
    accessed_at      timestamptz not null default now()
);
create index on refuge.vault_access (individual_id);
comment on table refuge.vault_access is 'every decryption of a vault image: who, when, why';
create trigger append_only before delete or update on refuge.vault_access
    for each row execute function refuge.append_only();
alter table refuge.vault_access enable always trigger append_only;
create policy hq_read on refuge.vault_access for select to refuge_biometrics_admin
    using (true);
grant select on refuge.vault_access to refuge_biometrics_admin;
select pg_catalog.pg_extension_config_dump('refuge.vault_access', '');
select pg_catalog.pg_extension_config_dump('refuge.vault_access_id_seq', '');

-- 1:1 verifications (refuge.verify and collection at distributions).
create table refuge.biometric_verification (
    id               uuid primary key default gen_random_uuid(),
    individual_id    uuid not null,
    identity_id      uuid,
    operation_id     uuid not null,
    site_id          uuid not null,
    purpose          text not null,
    match            boolean not null,
    evidence         double precision,
    threshold        double precision,
    modalities       integer not null,
    scores           double precision[],
    device           text,
    verified_by      name not null,
    verified_at      timestamptz not null default now(),
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    updated_at       timestamptz not null default now(),
    updated_by       name not null default current_user
);
create index on refuge.biometric_verification (individual_id);
comment on table refuge.biometric_verification is '1:1 biometric verifications: who was checked, by whom, where, when, with what result';
create trigger append_only before delete or update on refuge.biometric_verification
    for each row execute function refuge.append_only();
alter table refuge.biometric_verification enable always trigger append_only;
create policy hq_read on refuge.biometric_verification for select to refuge_biometrics_admin
    using (true);
create policy staff_read on refuge.biometric_verification for select to refuge_supervisor, refuge_biometrics, refuge_assistance
    using ((operation_id = any ((select refuge.scope_operations())::uuid[])) or (site_id = any ((select refuge.scope_sites())::uuid[])));
grant select on refuge.biometric_verification to refuge_supervisor, refuge_biometrics,
    refuge_biometrics_admin, refuge_assistance;
select pg_catalog.pg_extension_config_dump('refuge.biometric_verification', '');

-- 1:N identifications (refuge.identify): who searched, where, when, and who came up.
create table refuge.biometric_identification (
    id               uuid primary key default gen_random_uuid(),
    operation_id     uuid not null,
    site_id          uuid not null,
    purpose          text not null,
    gallery_size     bigint not null,
    target_fpir      double precision not null,
    candidates       uuid[] not null,
    best_fpir        double precision,
    device           text,
    searched_by      name not null,
    searched_at      timestamptz not null default now(),
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    updated_at       timestamptz not null default now(),
    updated_by       name not null default current_user
);
create index on refuge.biometric_identification (operation_id, searched_at);
comment on table refuge.biometric_identification is '1:N identifications: who searched, where, when, the candidates returned';
create trigger append_only before delete or update on refuge.biometric_identification
    for each row execute function refuge.append_only();
alter table refuge.biometric_identification enable always trigger append_only;
create policy hq_read on refuge.biometric_identification for select to refuge_biometrics_admin
    using (true);
create policy staff_read on refuge.biometric_identification for select to refuge_supervisor, refuge_biometrics
    using ((operation_id = any ((select refuge.scope_operations())::uuid[])) or (site_id = any ((select refuge.scope_sites())::uuid[])));
grant select on refuge.biometric_identification to refuge_supervisor, refuge_biometrics,
    refuge_biometrics_admin;
select pg_catalog.pg_extension_config_dump('refuge.biometric_identification', '');

-- Reads of sensitive records: confidential notes and documents, SGBV
-- incidents, referred cases, biometric templates.
create table refuge.sensitive_read (
    id               bigint generated always as identity primary key,
    at               timestamptz not null default now(),
    actor            name not null,
    kind             text not null,
    object_id        uuid not null,
    case_id          uuid,
    individual_id    uuid,
    operation_id     uuid,
    purpose          text not null,
    module           text,
    constraint sensitive_read_kind_check
        check (kind in ('case_note', 'case_document', 'gbv_incident', 'case_detail', 'referral', 'biometric_templates',
                        'tracing_search', 'vulnerability_assessment', 'rrf', 'document_match', 'possible_duplicates',
                        'subject_access', 'microdata_extract'))
);
create index on refuge.sensitive_read (object_id);
create index on refuge.sensitive_read (actor, at);
comment on table refuge.sensitive_read is 'append-only log of reads of sensitive records: who, when, what and why';
comment on column refuge.sensitive_read.module is 'module of the case read (null for reads outside cases, such as templates)';
create trigger append_only before delete or update on refuge.sensitive_read
    for each row execute function refuge.append_only();
alter table refuge.sensitive_read enable always trigger append_only;
grant select on refuge.sensitive_read to refuge_supervisor;
select pg_catalog.pg_extension_config_dump('refuge.sensitive_read', '');
select pg_catalog.pg_extension_config_dump('refuge.sensitive_read_id_seq', '');

-- The audit trail's hash chain.  Rows of refuge.audit_log are sealed in
-- batches by refuge.seal_audit(): each seal holds
--   hash = sha256(previous hash || canonical form of the audit row)
-- so that an edited, deleted or inserted audit row (or seal) breaks the
-- chain that refuge.verify_audit() recomputes.  Sealing takes only the rows
-- of transactions older than every running one (the snapshot's xmin), so a
-- writer never waits for the chain and a late commit is never skipped.
-- Horizons compare only within the cluster that sealed (cluster_id): after
-- a restore elsewhere the next batch looks at every unsealed row.
create table refuge.audit_seal (
    seq              bigint primary key,
    audit_id         bigint not null unique,
    cluster_id       bigint not null,
    horizon          bigint not null,
    hash             bytea not null,
    sealed_at        timestamptz not null default now()
);
comment on table refuge.audit_seal is 'hash chain over refuge.audit_log (sealed in id order per batch; horizon: every transaction of cluster_id below it had finished)';
create trigger append_only before delete or update on refuge.audit_seal
    for each row execute function refuge.append_only();
alter table refuge.audit_seal enable always trigger append_only;
select pg_catalog.pg_extension_config_dump('refuge.audit_seal', '');

-- The audit trail is read as narrowly as the rows it describes.  Each audit
-- row carries the class of its table (refuge.audit_scope) and, for case
-- records, the case's module and operation; policies give supervisors the
-- registration, identity, assistance and access-log rows of their
-- operations and the case rows of the modules they work there, biometrics
-- administrators the biometric rows, administrators the configuration.
-- Case note text is recorded only as size and digest.
--
-- And it is harder to silence or forge: TRUNCATE is refused on every
-- table; audit, stamp and append-only triggers are ENABLE ALWAYS (so
-- session_replication_role = replica does not switch them off); loads
-- with row_security = off (pg_restore, a superuser's COPY) are recorded
-- per statement in refuge.audit_bulk_load and updates and deletes are
-- audited row by row whatever the settings; an audit row is dated by the
-- transaction that writes it; the chain's length is remembered so that a
-- removed tail is reported; rows dated before the seal that preceded them
-- are reported as back-dated.
create table refuge.audit_scope (
    table_name       text primary key,
    class            text not null check (class in ('registration', 'identity', 'biometric', 'assistance', 'case',
                                                    'access_log', 'config'))
);
comment on table refuge.audit_scope is 'the class of each audited table, which decides who may read its audit rows';
create policy read_all on refuge.audit_scope for select to refuge_registration, refuge_supervisor, refuge_analyst,
    refuge_admin, refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement,
    refuge_protection, refuge_child_protection, refuge_partner, refuge_dba using (true);
grant select on refuge.audit_scope to refuge_registration, refuge_supervisor, refuge_analyst, refuge_admin,
    refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement,
    refuge_protection, refuge_child_protection, refuge_partner, refuge_dba;
select pg_catalog.pg_extension_config_dump('refuge.audit_scope', 'where false');
insert into refuge.audit_scope (table_name, class)
select t, 'registration' from unnest(array['registration_group', 'individual', 'group_membership', 'individual_name',
    'individual_nationality', 'individual_language', 'individual_education', 'individual_occupation',
    'individual_contact', 'individual_address', 'flight_leg', 'document', 'photo', 'specific_need']) t
union all
select t, 'identity' from unnest(array['biometric_enrolment', 'biometric_exception', 'biometric_verification',
    'biometric_identification', 'dedup_case', 'fraud_case', 'fraud_alert']) t
union all
select t, 'biometric' from unnest(array['biometric_capture', 'biometric_finger', 'biometric_iris', 'biometric_vault',
    'vault_access', 'dedup_candidate', 'dedup_cleared_pair']) t
union all
select t, 'assistance' from unnest(array['assistance_plan', 'assistance_cycle', 'entitlement', 'collector',
    'distribution_event', 'collection']) t
union all
select t, 'case' from unnest(array['process_case', 'case_member', 'case_event', 'case_approval', 'case_alert',
    'case_note', 'case_document', 'case_link', 'gbv_incident', 'case_transfer', 'case_referral']) t
union all
select t, 'access_log' from unnest(array['sensitive_read']) t
union all
select t, 'config' from unnest(array['operation', 'site', 'staff', 'staff_assignment', 'country', 'language', 'script',
    'sex', 'relationship', 'marital_status', 'education_level', 'education_degree', 'address_type',
    'language_proficiency', 'religion', 'ethnicity', 'occupation', 'population_type', 'age_bracket',
    'specific_need_category', 'specific_need_code', 'registration_level', 'date_precision', 'document_type',
    'flight_reason', 'contact_type', 'individual_status', 'group_status', 'site_type', 'biometric_exception_reason',
    'case_module', 'workflow_state', 'workflow_transition', 'referral_field', 'vulnerability_factor',
    'partner_organisation', 'partner_staff', 'progres_code']) t;
insert into refuge.audit_scope (table_name, class) values ('status_change', 'registration');

-- Loads with row_security = off, one row per statement and table.
create table refuge.audit_bulk_load (
    id               uuid primary key default gen_random_uuid(),
    at               timestamptz not null default now(),
    txid             bigint not null default txid_current(),
    actor            name not null,
    table_name       text not null,
    rows             bigint not null,
    sha256           bytea not null
);
comment on table refuge.audit_bulk_load is 'loads with row security off (pg_restore, a superuser''s COPY): who, when, which table, how many rows and the SHA-256 of their values';
create trigger append_only before delete or update on refuge.audit_bulk_load
    for each row execute function refuge.append_only();
alter table refuge.audit_bulk_load enable always trigger append_only;
create policy admin_read on refuge.audit_bulk_load for select to refuge_admin using (true);
grant select on refuge.audit_bulk_load to refuge_admin;
select pg_catalog.pg_extension_config_dump('refuge.audit_bulk_load', '');

-- The length the chain has reached (a removed tail is reported).
create sequence refuge.audit_chain_length minvalue 0 start 0;
select pg_catalog.pg_extension_config_dump('refuge.audit_chain_length', '');
