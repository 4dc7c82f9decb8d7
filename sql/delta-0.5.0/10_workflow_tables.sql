-- Workflow definitions: data, not code.  A module (RSD, resettlement, ...)
-- has states and transitions; a transition names the data it requires (and
-- the values allowed), whether a supervisor must approve it, conditions on
-- the case's data, and an officer who must not be the one who did an
-- earlier step (an appeal is decided by another officer).

create table refuge.case_module (
    code             text primary key,
    label            text not null,
    prefix           text not null unique check (prefix ~ '^[A-Z]{3}$'),
    roles            name[] not null,
    sensitive        boolean not null default false,
    initial_state    text not null,
    open_fields      jsonb not null default '{}',
    shipped          boolean not null default false
);
comment on table refuge.case_module is 'case management modules: who works them (group roles), whether their records are sensitive (reads logged), the state a case opens in';
comment on column refuge.case_module.sensitive is 'case details and notes of this module are read through logged functions only';

create table refuge.workflow_state (
    module           text not null references refuge.case_module,
    code             text not null,
    label            text not null,
    step_order       integer not null,
    closed           boolean not null default false,
    due_days         integer check (due_days > 0),
    shipped          boolean not null default false,
    primary key (module, code)
);
comment on table refuge.workflow_state is 'states of a module''s cases; due_days: time allowed in the state before the case is overdue';

create table refuge.workflow_transition (
    module           text not null,
    action           text not null,
    from_state       text not null,
    to_state         text not null,
    label            text not null,
    fields           jsonb not null default '{}',
    sets             jsonb not null default '{}',
    requires_data    jsonb not null default '{}',
    approval         boolean not null default false,
    other_officer_than text,
    shipped          boolean not null default false,
    primary key (module, action, from_state),
    foreign key (module, from_state) references refuge.workflow_state (module, code),
    foreign key (module, to_state) references refuge.workflow_state (module, code),
    check (jsonb_typeof(fields) = 'object' and jsonb_typeof(sets) = 'object' and jsonb_typeof(requires_data) = 'object')
);
comment on table refuge.workflow_transition is 'allowed transitions: the data each requires (fields: key -> "date" | "text" | "integer" | "country" | "individual" | [allowed codes]; a key ending in ? is optional), data it sets, conditions on the case data, supervisor approval, and the action whose officer may not take this one';

-- Serials of case numbers (KEN-RSD-26-000123): concurrent openings do not wait.
create sequence refuge.case_number_seq;

-- A case of one process for members of a family; the family is not changed.
create table refuge.process_case (
    id               uuid primary key default gen_random_uuid(),
    number           text not null unique,
    module           text not null references refuge.case_module,
    operation_id     uuid not null references refuge.operation,
    site_id          uuid,
    group_id         uuid references refuge.registration_group,
    principal_id     uuid not null references refuge.individual,
    state            text not null,
    closed           boolean not null default false,
    state_since      timestamptz not null default now(),
    due_at           timestamptz,
    assigned_to      name,
    data             jsonb not null default '{}',
    opened_at        timestamptz not null default now(),
    opened_by        name not null default current_user,
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    updated_at       timestamptz not null default now(),
    updated_by       name not null default current_user,
    foreign key (module, state) references refuge.workflow_state (module, code),
    foreign key (operation_id, site_id) references refuge.site (operation_id, id)
);
create index on refuge.process_case (operation_id, module, state);
create index on refuge.process_case (principal_id);
-- one open case per person and process
create unique index process_case_one_open on refuge.process_case (module, principal_id) where not closed;
create index on refuge.process_case (due_at) where not closed and due_at is not null;
create index on refuge.process_case (assigned_to) where not closed;
comment on table refuge.process_case is 'a process case (RSD, resettlement, BID, ...) for members of a registration group';

create table refuge.case_member (
    case_id          uuid not null references refuge.process_case,
    individual_id    uuid not null references refuge.individual,
    role             text not null check (role in ('PRINCIPAL', 'DEPENDANT')),
    relationship     text,
    added_at         timestamptz not null default now(),
    added_by         name not null default current_user,
    primary key (case_id, individual_id)
);
create index on refuge.case_member (individual_id);
create unique index case_member_one_principal on refuge.case_member (case_id) where role = 'PRINCIPAL';
comment on table refuge.case_member is 'members of a process case (the family grouping is unchanged)';

-- The case's history: one row per action, never changed.
create table refuge.case_event (
    id               bigint generated always as identity primary key,
    case_id          uuid not null references refuge.process_case,
    at               timestamptz not null default now(),
    actor            name not null,
    action           text not null,
    from_state       text,
    to_state         text,
    reason           text,
    data             jsonb not null default '{}',
    approval_id      uuid
);
create index on refuge.case_event (case_id, id);
comment on table refuge.case_event is 'append-only history of a case: who, when, the action, from and to state, reason and data';

create table refuge.case_approval (
    id               uuid primary key default gen_random_uuid(),
    case_id          uuid not null references refuge.process_case,
    action           text not null,
    from_state       text not null,
    data             jsonb not null default '{}',
    reason           text,
    status           text not null default 'REQUESTED' check (status in ('REQUESTED', 'APPROVED', 'REJECTED')),
    requested_by     name not null,
    requested_at     timestamptz not null default now(),
    decided_by       name,
    decided_at       timestamptz,
    decision_comment text,
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    updated_at       timestamptz not null default now(),
    updated_by       name not null default current_user,
    check ((status = 'REQUESTED') = (decided_by is null))
);
create unique index case_approval_one_pending on refuge.case_approval (case_id) where status = 'REQUESTED';
comment on table refuge.case_approval is 'a transition awaiting a supervisor''s approval (four eyes: never the requester)';

create table refuge.case_alert (
    id               uuid primary key default gen_random_uuid(),
    case_id          uuid not null references refuge.process_case,
    operation_id     uuid not null references refuge.operation,
    kind             text not null check (kind in ('FLAG', 'OVERDUE', 'APPROVAL', 'TRANSFER', 'REFERRAL', 'ASSIGNMENT')),
    severity         text not null default 'NORMAL' check (severity in ('NORMAL', 'HIGH', 'CRITICAL')),
    message          text not null,
    to_role          name,
    state            text,
    due_at           timestamptz,
    raised_by        name not null,
    raised_at        timestamptz not null default now(),
    acknowledged_by  name,
    acknowledged_at  timestamptz,
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    updated_at       timestamptz not null default now(),
    updated_by       name not null default current_user
);
create index on refuge.case_alert (operation_id, raised_at) where acknowledged_at is null;
-- one overdue alert per missed deadline
create unique index case_alert_one_overdue on refuge.case_alert (case_id, due_at) where kind = 'OVERDUE';
comment on table refuge.case_alert is 'alerts on cases (flags raised by staff, overdue steps, approvals, transfers, referrals); each is also sent with NOTIFY refuge_case_alert';

-- Notes and interview transcripts.  Confidential text is sealed with the
-- vault key (AES-256-GCM, extension/vault.c) and read through
-- refuge.read_case_note(), which logs the read.
create table refuge.case_note (
    id               uuid primary key default gen_random_uuid(),
    case_id          uuid not null references refuge.process_case,
    kind             text not null check (kind in ('NOTE', 'INTERVIEW_TRANSCRIPT', 'ASSESSMENT', 'DECISION')),
    confidential     boolean not null,
    body             text,
    sealed           bytea,
    author           name not null,
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    check (confidential = (body is null)),
    check (confidential = (sealed is not null))
);
create index on refuge.case_note (case_id);
comment on table refuge.case_note is 'case notes and interview transcripts; confidential text is stored only sealed';

create table refuge.case_document (
    id               uuid primary key default gen_random_uuid(),
    case_id          uuid not null references refuge.process_case,
    title            text not null,
    media_type       text not null,
    size_bytes       integer not null,
    sha256           bytea not null,
    confidential     boolean not null,
    content          bytea,
    sealed           bytea,
    author           name not null,
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    check (confidential = (content is null)),
    check (confidential = (sealed is not null))
);
create index on refuge.case_document (case_id);
comment on table refuge.case_document is 'attachments of a case (digest of the original; confidential ones sealed)';

-- Cross references between cases and to identity records (fraud alerts,
-- adjudication cases): the eRRF "linked cases", the fraud file's evidence.
create table refuge.case_link (
    case_id          uuid not null references refuge.process_case,
    kind             text not null check (kind in ('process_case', 'fraud_alert', 'fraud_case', 'dedup_case', 'collection')),
    linked_id        uuid not null,
    note             text,
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    primary key (case_id, kind, linked_id)
);
comment on table refuge.case_link is 'links from a case to other cases and to fraud alerts, fraud cases, adjudication cases and collections';

-- SGBV incidents (GBVIMS classification) with the survivor's consent.
-- Details are sealed; the record is read through refuge.read_gbv_incident().
create table refuge.gbv_incident (
    case_id          uuid primary key references refuge.process_case,
    violence_type    text not null check (violence_type in ('RAPE', 'SEXUAL_ASSAULT', 'PHYSICAL_ASSAULT', 'FORCED_MARRIAGE',
                                                           'DENIAL_OF_RESOURCES', 'PSYCHOLOGICAL_ABUSE', 'NON_GBV')),
    incident_date    date,
    reported_on      date not null default current_date,
    consent_services boolean not null,
    consent_sharing  boolean not null,
    sealed           bytea not null,
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    updated_at       timestamptz not null default now(),
    updated_by       name not null default current_user
);
comment on table refuge.gbv_incident is 'SGBV incident: GBVIMS classification, consent to services and to information sharing; the narrative sealed';

-- Transfers between operations or sites: request, accept or reject.
create table refuge.case_transfer (
    id               uuid primary key default gen_random_uuid(),
    case_id          uuid not null references refuge.process_case,
    from_operation   uuid not null references refuge.operation,
    from_site        uuid,
    to_operation     uuid not null references refuge.operation,
    to_site          uuid,
    reason           text not null,
    status           text not null default 'REQUESTED' check (status in ('REQUESTED', 'ACCEPTED', 'REJECTED', 'CANCELLED')),
    requested_by     name not null,
    requested_at     timestamptz not null default now(),
    decided_by       name,
    decided_at       timestamptz,
    decision_reason  text,
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    updated_at       timestamptz not null default now(),
    updated_by       name not null default current_user,
    foreign key (to_operation, to_site) references refuge.site (operation_id, id),
    check ((status = 'REQUESTED') = (decided_by is null))
);
create unique index case_transfer_one_pending on refuge.case_transfer (case_id) where status = 'REQUESTED';
comment on table refuge.case_transfer is 'transfers of cases between operations and sites; access follows the case to its new owner';

-- Partners: organisations, their staff, and referrals sharing chosen fields.
create table refuge.partner_organisation (
    id               uuid primary key default gen_random_uuid(),
    code             text not null unique,
    name             text not null,
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    updated_at       timestamptz not null default now(),
    updated_by       name not null default current_user
);
comment on table refuge.partner_organisation is 'partner organisations to which cases can be referred';

create table refuge.partner_staff (
    role_name        name primary key,
    partner_id       uuid not null references refuge.partner_organisation,
    active           boolean not null default true,
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    updated_at       timestamptz not null default now(),
    updated_by       name not null default current_user
);
comment on table refuge.partner_staff is 'which organisation a partner staff member''s role works for';

create table refuge.referral_field (
    code             text primary key,
    label            text not null,
    shipped          boolean not null default false
);
comment on table refuge.referral_field is 'the parts of a case a referral can share with a partner';

create table refuge.case_referral (
    id               uuid primary key default gen_random_uuid(),
    case_id          uuid not null references refuge.process_case,
    partner_id       uuid not null references refuge.partner_organisation,
    fields           text[] not null check (cardinality(fields) > 0),
    purpose          text not null,
    status           text not null default 'ACTIVE' check (status in ('ACTIVE', 'CLOSED', 'REVOKED')),
    valid_until      date,
    referred_by      name not null,
    referred_at      timestamptz not null default now(),
    ended_by         name,
    ended_at         timestamptz,
    end_reason       text,
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    updated_at       timestamptz not null default now(),
    updated_by       name not null default current_user,
    check ((status = 'ACTIVE') = (ended_by is null))
);
create index on refuge.case_referral (partner_id) where status = 'ACTIVE';
create index on refuge.case_referral (case_id);
comment on table refuge.case_referral is 'a case referred to a partner: the fields shared, until closed, revoked or expired';

-- Reads of sensitive records: confidential notes and documents, SGBV
-- incidents, referred cases, biometric templates.
create table refuge.sensitive_read (
    id               bigint generated always as identity primary key,
    at               timestamptz not null default now(),
    actor            name not null,
    kind             text not null check (kind in ('case_note', 'case_document', 'gbv_incident', 'case_detail',
                                                   'referral', 'biometric_templates')),
    object_id        uuid not null,
    case_id          uuid,
    individual_id    uuid,
    operation_id     uuid,
    purpose          text not null
);
create index on refuge.sensitive_read (object_id);
create index on refuge.sensitive_read (actor, at);
comment on table refuge.sensitive_read is 'append-only log of reads of sensitive records: who, when, what and why';

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

-- The vulnerability scoring model: weights of members' specific-need
-- categories, of household facts and of the assessment's answers; the
-- thresholds of the risk levels (kind THRESHOLD, codes HIGH and MEDIUM).
create table refuge.vulnerability_factor (
    code             text primary key,
    kind             text not null check (kind in ('NEED', 'HOUSEHOLD', 'ANSWER', 'THRESHOLD')),
    label            text not null,
    weight           numeric not null check (weight >= 0),
    shipped          boolean not null default false
);
comment on table refuge.vulnerability_factor is 'vulnerability scoring model: weights (needs by category, household facts, answers) and risk thresholds';

-- A workflow definition the engine could not run is refused when written:
-- field types it knows, lists of codes, conditions as lists.
create function refuge.check_workflow_fields() returns trigger
    language plpgsql
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    r jsonb := to_jsonb(new);
    spec jsonb;
    lists_only boolean;
    k text;
    v jsonb;
begin
    for spec, lists_only in select * from (values (r -> 'open_fields', false), (r -> 'fields', false),
                                                  (r -> 'requires_data', true)) x(s, l) where s is not null
    loop
        if jsonb_typeof(spec) <> 'object' then
            raise exception using errcode = '22023', message = format('%s: a field specification is a JSON object', tg_table_name);
        end if;
        for k, v in select * from jsonb_each(spec) loop
            if not ((jsonb_typeof(v) = 'array' and jsonb_array_length(v) > 0
                     and not exists (select 1 from jsonb_array_elements(v) x where jsonb_typeof(x) <> 'string'))
                    or (not lists_only
                        and v #>> '{}' in ('date', 'text', 'integer', 'object', 'country', 'uuid', 'individual'))) then
                raise exception using errcode = '22023',
                    message = format(case when lists_only then '%s.%s: %s is not a list of codes (a condition on the case''s data)'
                                          else '%s.%s: %s is neither a list of codes nor one of date, text, integer, object, '
                                               'country, uuid, individual' end, tg_table_name, k, v);
            end if;
        end loop;
    end loop;
    return new;
end
$$;
create trigger check_fields before insert or update on refuge.case_module
    for each row execute function refuge.check_workflow_fields();
create trigger check_fields before insert or update on refuge.workflow_transition
    for each row execute function refuge.check_workflow_fields();
