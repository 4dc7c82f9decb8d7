-- refuge 0.4.0 -> 0.5.0: case management.  One workflow engine (definitions
-- are data) for RSD, resettlement, BIA/BID, SGBV, statelessness, tracing,
-- vulnerability, voluntary repatriation, local integration and fraud;
-- approvals, assignment and overdue alerts, encrypted confidential notes,
-- partner referrals, transfers, and a hash-chained audit trail with logged
-- sensitive reads.  Built from the fragments in sql/delta-0.5.0/.
\echo Use "ALTER EXTENSION refuge UPDATE TO '0.5.0'" to load this file. \quit
-- Module roles and partners (cluster-wide, created once).
do $roles$
declare
    r text;
begin
    foreach r in array array['refuge_rsd', 'refuge_resettlement', 'refuge_protection', 'refuge_child_protection',
                             'refuge_partner']
    loop
        if not exists (select 1 from pg_catalog.pg_roles where rolname = r) then
            execute pg_catalog.format('create role %I nologin', r);
        end if;
    end loop;
end
$roles$;

comment on role refuge_rsd is 'refuge: RSD eligibility officers (RSD cases of their operations)';
comment on role refuge_resettlement is 'refuge: resettlement officers (resettlement cases of their operations)';
comment on role refuge_protection is 'refuge: protection officers (SGBV, statelessness, tracing, vulnerability, voluntary repatriation, local integration cases)';
comment on role refuge_child_protection is 'refuge: child protection officers (BIA/BID and tracing cases)';
comment on role refuge_partner is 'refuge: partner organisation staff (only the fields of the cases referred to their organisation)';

grant usage on schema refuge to refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection,
    refuge_partner;

create or replace function refuge.group_roles() returns name[]
    language sql immutable parallel safe
    return array['refuge_owner', 'refuge_registration', 'refuge_supervisor', 'refuge_analyst', 'refuge_admin',
                 'refuge_biometrics', 'refuge_biometrics_admin', 'refuge_assistance', 'refuge_rsd',
                 'refuge_resettlement', 'refuge_protection', 'refuge_child_protection', 'refuge_partner']::name[];

-- Roles that work cases (the partner role reads referrals only).
create function refuge.case_roles() returns name[]
    language sql immutable parallel safe
    return array['refuge_rsd', 'refuge_resettlement', 'refuge_protection', 'refuge_child_protection',
                 'refuge_assistance', 'refuge_supervisor']::name[];
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
-- The shipped workflows.  Steps follow the sources in ../shared/data/vocab
-- (rsd_steps, resettlement_steps, bid_steps, volrep_steps, primero_lookups):
-- UNHCR RSD Procedural Standards, the Resettlement Handbook (proGres v3
-- events RST01-RST33), the BIP Guidelines, GBVIMS, voluntary repatriation
-- practice.  Operations add states and transitions of their own (shipped =
-- false); the shipped ones are kept by the extension.

-- open_fields: the data a case of the module may (key?) or must carry when opened.
insert into refuge.case_module (code, label, prefix, roles, sensitive, initial_state, open_fields, shipped) values
  ('RSD', 'Refugee status determination', 'RSD', '{refuge_rsd}', false, 'REGISTERED',
   '{"application_type?": ["NEW", "REPEAT"], "procedure_type?": ["U", "G", "J"]}', true),
  ('RESETTLEMENT', 'Resettlement', 'RST', '{refuge_resettlement}', false, 'IDENTIFIED',
   '{"identification_method?": ["PROGRES_DATA", "PARTNER_REFERRAL", "PROTECTION_STAFF", "SELF_REFERRAL"]}', true),
  ('BID', 'Best interests procedure (BIA/BID) for children at risk', 'BIP', '{refuge_child_protection}', true, 'IDENTIFIED',
   '{"child_status": ["UNACCOMPANIED", "SEPARATED", "AT_RISK"]}', true),
  ('SGBV', 'Protection: SGBV incident management', 'GBV', '{refuge_protection}', true, 'REPORTED', '{}', true),
  ('STATELESSNESS', 'Statelessness determination', 'SDP', '{refuge_protection}', false, 'APPLICATION_RECEIVED',
   '{"claimed_link_countries?": "text"}', true),
  ('TRACING', 'Family tracing', 'TRC', '{refuge_protection,refuge_child_protection}', false, 'OPEN',
   '{"sought_family_name": "text", "sought_given_name?": "text", "sought_sex?": ["F", "M"], "sought_birth_year?": "integer", "sought_relationship?": "text", "last_seen_place?": "text"}', true),
  ('VULNERABILITY', 'Vulnerability assessment', 'VUL', '{refuge_protection,refuge_assistance}', false, 'REQUESTED', '{}', true),
  ('VOLREP', 'Voluntary repatriation', 'VRP', '{refuge_protection}', false, 'COUNSELLING', '{}', true),
  ('LOCAL_INTEGRATION', 'Local integration', 'LIN', '{refuge_protection}', false, 'IDENTIFIED', '{}', true),
  ('FRAUD', 'Fraud investigation', 'FRD', '{refuge_supervisor}', true, 'REPORTED',
   '{"fraud_alert_id?": "uuid", "fraud_case_id?": "uuid", "dedup_case_id?": "uuid", "allegation?": "text"}', true);

insert into refuge.workflow_state (module, code, label, step_order, closed, due_days, shipped)
select module, code, label, step_order, closed, due_days, true from (values
  ('RSD', 'REGISTERED', 'Registered for RSD, file opened', 1, false, 14),
  ('RSD', 'MODALITY_ASSIGNED', 'Processing modality assigned', 2, false, 30),
  ('RSD', 'INTERVIEW_SCHEDULED', 'RSD interview scheduled', 3, false, null),
  ('RSD', 'INTERVIEWED', 'RSD interview held', 4, false, 30),
  ('RSD', 'ASSESSED', 'Assessment written', 5, false, 14),
  ('RSD', 'DECIDED', 'First-instance decision', 6, false, 7),
  ('RSD', 'NOTIFIED', 'Decision notified', 7, false, 30),
  ('RSD', 'APPEAL_LODGED', 'Appeal lodged', 8, false, 60),
  ('RSD', 'APPEAL_DECIDED', 'Appeal decided', 9, false, 7),
  ('RSD', 'CLOSED', 'File closed', 10, true, null),
  ('RSD', 'STATUS_ENDED', 'Cancellation, revocation or cessation', 11, true, null),

  ('RESETTLEMENT', 'IDENTIFIED', 'Identified for resettlement consideration (RST01)', 1, false, 30),
  ('RESETTLEMENT', 'ASSESSED', 'Case verified, resettlement needs assessed', 2, false, 30),
  ('RESETTLEMENT', 'NOT_QUALIFIED', 'Not qualified (RST04)', 3, true, null),
  ('RESETTLEMENT', 'INTERVIEWED', 'Resettlement interview (RST06)', 4, false, 30),
  ('RESETTLEMENT', 'RRF_PREPARED', 'Assessment complete, RRF prepared (RST09)', 5, false, 14),
  ('RESETTLEMENT', 'HUB_REVIEW', 'Referred to hub / regional review (RST43)', 6, false, 30),
  ('RESETTLEMENT', 'SUBMITTED', 'Submitted to a resettlement State (RST18)', 7, false, 180),
  ('RESETTLEMENT', 'ACCEPTED', 'Accepted by the State (RST19)', 8, false, 120),
  ('RESETTLEMENT', 'STATE_REJECTED', 'Rejected by the State', 9, false, 60),
  ('RESETTLEMENT', 'DEPARTED', 'Departure confirmed (RST33)', 10, true, null),
  ('RESETTLEMENT', 'WITHDRAWN', 'Withdrawn', 11, true, null),

  ('BID', 'IDENTIFIED', 'Child at risk identified', 1, false, 7),
  ('BID', 'BIA_COMPLETED', 'Best interests assessment completed', 2, false, 14),
  ('BID', 'CASE_PLAN_AGREED', 'Case plan agreed', 3, false, 30),
  ('BID', 'IMPLEMENTATION', 'Implementation and follow-up', 4, false, 90),
  ('BID', 'BID_INFO_GATHERING', 'BID information gathering and report', 5, false, 30),
  ('BID', 'BID_PANEL_DECIDED', 'BID panel decision', 6, false, 14),
  ('BID', 'BID_IMPLEMENTATION', 'Implementation of the BID decision', 7, false, 90),
  ('BID', 'CLOSED', 'Case closed', 8, true, null),

  ('SGBV', 'REPORTED', 'Incident reported', 1, false, 3),
  ('SGBV', 'CONSENTED', 'Informed consent obtained', 2, false, 7),
  ('SGBV', 'ASSESSED', 'Survivor''s needs assessed', 3, false, 7),
  ('SGBV', 'ACTION_PLAN', 'Action plan agreed, services provided', 4, false, 30),
  ('SGBV', 'FOLLOW_UP', 'Follow-up', 5, false, 30),
  ('SGBV', 'CLOSED', 'Case closed', 6, true, null),

  ('STATELESSNESS', 'APPLICATION_RECEIVED', 'Application received', 1, false, 30),
  ('STATELESSNESS', 'INTERVIEW_SCHEDULED', 'Interview scheduled', 2, false, null),
  ('STATELESSNESS', 'INTERVIEWED', 'Interviewed, evidence gathered', 3, false, 60),
  ('STATELESSNESS', 'DETERMINED', 'Determination made', 4, false, 30),
  ('STATELESSNESS', 'APPEAL_LODGED', 'Appeal lodged', 5, false, 60),
  ('STATELESSNESS', 'APPEAL_DECIDED', 'Appeal decided', 6, false, 7),
  ('STATELESSNESS', 'CLOSED', 'Closed', 7, true, null),

  ('TRACING', 'OPEN', 'Tracing request open', 1, false, 14),
  ('TRACING', 'TRACING_IN_PROGRESS', 'Tracing in progress', 2, false, 60),
  ('TRACING', 'VERIFIED', 'Match verified', 3, false, 30),
  ('TRACING', 'REUNIFIED', 'Reunified', 4, true, null),
  ('TRACING', 'CLOSED', 'Closed', 5, true, null),

  ('VULNERABILITY', 'REQUESTED', 'Assessment requested', 1, false, 14),
  ('VULNERABILITY', 'ASSESSED', 'Assessed and scored', 2, false, 7),
  ('VULNERABILITY', 'REVIEWED', 'Score reviewed', 3, false, 180),
  ('VULNERABILITY', 'CLOSED', 'Closed', 4, true, null),

  ('VOLREP', 'COUNSELLING', 'Protection counselling', 1, false, 30),
  ('VOLREP', 'VRF_SIGNED', 'Voluntary Repatriation Form signed', 2, false, 30),
  ('VOLREP', 'CLEARED', 'Cleared by the authorities', 3, false, 30),
  ('VOLREP', 'RECONFIRMED', 'Decision reconfirmed, departure date agreed', 4, false, 30),
  ('VOLREP', 'DEPARTED', 'Departure confirmed (VOL26)', 5, true, null),
  ('VOLREP', 'WITHDRAWN', 'Request withdrawn', 6, true, null),
  ('VOLREP', 'SPONTANEOUS_DEPARTURE', 'Spontaneous departure (REG38)', 7, true, null),

  ('LOCAL_INTEGRATION', 'IDENTIFIED', 'Identified for local integration', 1, false, 30),
  ('LOCAL_INTEGRATION', 'ASSESSED', 'Prospects assessed', 2, false, 60),
  ('LOCAL_INTEGRATION', 'RESIDENCE_APPLIED', 'Residence permit applied for', 3, false, 180),
  ('LOCAL_INTEGRATION', 'RESIDENCE_GRANTED', 'Permanent residence granted', 4, false, 365),
  ('LOCAL_INTEGRATION', 'NATURALISATION_APPLIED', 'Naturalisation applied for', 5, false, 365),
  ('LOCAL_INTEGRATION', 'NATURALISED', 'Naturalised', 6, true, null),
  ('LOCAL_INTEGRATION', 'CLOSED', 'Closed', 7, true, null),

  ('FRAUD', 'REPORTED', 'Allegation or alert received', 1, false, 7),
  ('FRAUD', 'INVESTIGATION', 'Under investigation', 2, false, 60),
  ('FRAUD', 'FINDINGS', 'Findings reported', 3, false, 14),
  ('FRAUD', 'DECIDED', 'Decision taken', 4, false, 30),
  ('FRAUD', 'CLOSED', 'Closed', 5, true, null)
) as v(module, code, label, step_order, closed, due_days);

-- from_state '*' is expanded below to every open state of the module.
insert into refuge.workflow_transition (module, action, from_state, to_state, label, fields, sets, requires_data,
                                        approval, other_officer_than, shipped)
with wf (module, action, from_state, to_state, label, fields, sets, requires_data, approval, other_officer_than) as (values
  -- RSD
  ('RSD', 'ASSIGN_MODALITY', 'REGISTERED', 'MODALITY_ASSIGNED', 'Assign the processing modality',
   '{"modality": ["REGULAR", "ACCELERATED", "SIMPLIFIED", "MERGED_REG_RSD", "MERGED_RSD_RST"], "procedure_type?": ["U", "G", "J"]}', '{}', '{}', false, null),
  ('RSD', 'SCHEDULE_INTERVIEW', 'MODALITY_ASSIGNED', 'INTERVIEW_SCHEDULED', 'Schedule the RSD interview',
   '{"interview_date": "date", "interpreter_language?": "text"}', '{}', '{}', false, null),
  ('RSD', 'RESCHEDULE_INTERVIEW', 'INTERVIEW_SCHEDULED', 'INTERVIEW_SCHEDULED', 'Reschedule the interview',
   '{"interview_date": "date"}', '{}', '{}', false, null),
  ('RSD', 'RECORD_NO_SHOW', 'INTERVIEW_SCHEDULED', 'MODALITY_ASSIGNED', 'Applicant did not come to the interview',
   '{}', '{"last_no_show": true}', '{}', false, null),
  ('RSD', 'HOLD_INTERVIEW', 'INTERVIEW_SCHEDULED', 'INTERVIEWED', 'Interview held', '{}', '{}', '{}', false, null),
  ('RSD', 'WRITE_ASSESSMENT', 'INTERVIEWED', 'ASSESSED', 'Assessment written',
   '{"legal_basis?": ["1951_CONVENTION", "OAU_1969", "CARTAGENA", "MANDATE", "COMPLEMENTARY"]}', '{}', '{}', false, null),
  ('RSD', 'DECIDE', 'ASSESSED', 'DECIDED', 'First-instance decision (reviewed by a supervisor)',
   '{"decision": ["RECOGNIZED", "COMPLEMENTARY_PROTECTION", "REJECTED", "OTHERWISE_CLOSED"]}', '{}', '{}', true, null),
  ('RSD', 'NOTIFY', 'DECIDED', 'NOTIFIED', 'Notify the applicant of the decision (with reasons if rejected)',
   '{"notified_on": "date"}', '{}', '{}', false, null),
  ('RSD', 'LODGE_APPEAL', 'NOTIFIED', 'APPEAL_LODGED', 'Appeal lodged against a rejection',
   '{"appeal_lodged_on": "date", "late_accepted?": ["YES"]}', '{}', '{"decision": ["REJECTED"]}', false, null),
  ('RSD', 'DECIDE_APPEAL', 'APPEAL_LODGED', 'APPEAL_DECIDED', 'Appeal decided by an officer other than the first-instance officer',
   '{"appeal_decision": ["RECOGNIZED", "COMPLEMENTARY_PROTECTION", "REJECTED"]}', '{}', '{}', true, 'DECIDE'),
  ('RSD', 'CLOSE', 'NOTIFIED', 'CLOSED', 'Close the file (recognised, or no appeal lodged)',
   '{"closure_reason": ["RECOGNIZED", "COMPLEMENTARY_PROTECTION", "NO_APPEAL", "OTHERWISE_CLOSED"]}', '{}', '{}', false, null),
  ('RSD', 'CLOSE', 'APPEAL_DECIDED', 'CLOSED', 'Close the file after the appeal',
   '{"closure_reason": ["RECOGNIZED", "COMPLEMENTARY_PROTECTION", "FINAL_REJECTION"]}', '{}', '{}', false, null),
  ('RSD', 'ABANDON', 'MODALITY_ASSIGNED', 'CLOSED', 'Close as abandoned (no show and no contact for six weeks)',
   '{}', '{"closure_reason": "ABANDONED"}', '{}', false, null),
  ('RSD', 'ABANDON', 'INTERVIEW_SCHEDULED', 'CLOSED', 'Close as abandoned (no show and no contact for six weeks)',
   '{}', '{"closure_reason": "ABANDONED"}', '{}', false, null),
  ('RSD', 'REOPEN', 'CLOSED', 'REGISTERED', 'Re-open the file',
   '{"reopen_ground": ["CHANGED_CIRCUMSTANCES", "NEW_EVIDENCE", "IMPROPERLY_DECIDED"]}', '{}', '{}', true, null),
  ('RSD', 'END_STATUS', 'CLOSED', 'STATUS_ENDED', 'Cancel, revoke or cease refugee status',
   '{"ending": ["CANCELLED", "REVOKED", "CEASED"]}', '{}', '{"closure_reason": ["RECOGNIZED"]}', true, null),
  -- resettlement
  ('RESETTLEMENT', 'ASSESS', 'IDENTIFIED', 'ASSESSED', 'Verify the case and assess resettlement needs',
   '{"needs_assessment": "text", "bid_required?": ["YES", "NO"], "medical_assessment?": ["YES", "NO"]}', '{}', '{}', false, null),
  ('RESETTLEMENT', 'NOT_QUALIFIED', 'IDENTIFIED', 'NOT_QUALIFIED', 'Assessed as not qualifying', '{}', '{}', '{}', false, null),
  ('RESETTLEMENT', 'NOT_QUALIFIED', 'ASSESSED', 'NOT_QUALIFIED', 'Assessed as not qualifying', '{}', '{}', '{}', false, null),
  ('RESETTLEMENT', 'INTERVIEW', 'ASSESSED', 'INTERVIEWED', 'Resettlement interview held',
   '{"interview_date": "date"}', '{}', '{}', false, null),
  ('RESETTLEMENT', 'PREPARE_RRF', 'INTERVIEWED', 'RRF_PREPARED', 'Prepare the Resettlement Registration Form',
   '{"submission_category": ["LPN", "SVT", "MED", "AWR", "FAM", "CHL", "LAS"], "secondary_category?": ["LPN", "SVT", "MED", "AWR", "FAM", "CHL", "LAS"], "priority": ["EM", "UG", "NR"], "justification": "text"}', '{}', '{}', false, null),
  ('RESETTLEMENT', 'REFER_HUB', 'RRF_PREPARED', 'HUB_REVIEW', 'Refer to the resettlement hub for review', '{}', '{}', '{}', false, null),
  ('RESETTLEMENT', 'SUBMIT', 'HUB_REVIEW', 'SUBMITTED', 'Submit to a resettlement State (submission decision approved)',
   '{"resettlement_country": "country"}', '{}', '{}', true, null),
  ('RESETTLEMENT', 'STATE_ACCEPT', 'SUBMITTED', 'ACCEPTED', 'Accepted by the resettlement State',
   '{"state_decision_on": "date"}', '{}', '{}', false, null),
  ('RESETTLEMENT', 'STATE_REJECT', 'SUBMITTED', 'STATE_REJECTED', 'Rejected by the resettlement State',
   '{"state_decision_on": "date"}', '{}', '{}', false, null),
  ('RESETTLEMENT', 'RESUBMIT', 'STATE_REJECTED', 'SUBMITTED', 'Resubmit to another State (approved)',
   '{"resettlement_country": "country"}', '{}', '{}', true, null),
  ('RESETTLEMENT', 'CONFIRM_DEPARTURE', 'ACCEPTED', 'DEPARTED', 'Departure confirmed',
   '{"departure_date": "date"}', '{}', '{}', false, null),
  ('RESETTLEMENT', 'WITHDRAW', '*', 'WITHDRAWN', 'Withdraw the case', '{}', '{}', '{}', false, null),
  -- BIA / BID
  ('BID', 'COMPLETE_BIA', 'IDENTIFIED', 'BIA_COMPLETED', 'Best interests assessment (approved)',
   '{"risk_level": ["HIGH", "MEDIUM", "LOW"], "care_arrangement?": "text"}', '{}', '{}', true, null),
  ('BID', 'AGREE_CASE_PLAN', 'BIA_COMPLETED', 'CASE_PLAN_AGREED', 'Agree the case plan (approved)',
   '{"plan": "text"}', '{}', '{}', true, null),
  ('BID', 'START_IMPLEMENTATION', 'CASE_PLAN_AGREED', 'IMPLEMENTATION', 'Start implementation and follow-up', '{}', '{}', '{}', false, null),
  ('BID', 'TRIGGER_BID', 'IMPLEMENTATION', 'BID_INFO_GATHERING', 'A formal BID is required',
   '{"bid_reason": ["DURABLE_SOLUTION", "TEMPORARY_CARE", "SEPARATION_FROM_PARENTS"]}', '{}', '{}', false, null),
  ('BID', 'PANEL_DECISION', 'BID_INFO_GATHERING', 'BID_PANEL_DECIDED', 'BID panel decision',
   '{"panel_decision": ["RESETTLEMENT", "REUNIFICATION", "LOCAL_INTEGRATION", "VOLUNTARY_REPATRIATION", "CARE_ARRANGEMENT"], "panel_date": "date", "panel_members": "text"}', '{}', '{}', true, null),
  ('BID', 'IMPLEMENT_BID', 'BID_PANEL_DECIDED', 'BID_IMPLEMENTATION', 'Implement the BID decision', '{}', '{}', '{}', false, null),
  ('BID', 'CLOSE', 'IMPLEMENTATION', 'CLOSED', 'Close the case (approved)',
   '{"closure_reason": ["NEEDS_MET", "DURABLE_SOLUTION", "TURNED_18", "DEPARTED", "DECEASED"]}', '{}', '{}', true, null),
  ('BID', 'CLOSE', 'BID_IMPLEMENTATION', 'CLOSED', 'Close the case (approved)',
   '{"closure_reason": ["NEEDS_MET", "DURABLE_SOLUTION", "TURNED_18", "DEPARTED", "DECEASED"]}', '{}', '{}', true, null),
  ('BID', 'REOPEN', 'CLOSED', 'IMPLEMENTATION', 'Re-open the case', '{}', '{}', '{}', false, null),
  -- SGBV
  ('SGBV', 'RECORD_CONSENT', 'REPORTED', 'CONSENTED', 'Informed consent to services obtained', '{}', '{}', '{}', false, null),
  ('SGBV', 'DECLINE_SERVICES', 'REPORTED', 'CLOSED', 'Survivor declines services', '{}', '{"closure_reason": "DECLINED"}', '{}', false, null),
  ('SGBV', 'ASSESS', 'CONSENTED', 'ASSESSED', 'Assess the survivor''s needs',
   '{"risk_level": ["HIGH", "MEDIUM", "LOW"]}', '{}', '{}', false, null),
  ('SGBV', 'AGREE_ACTION_PLAN', 'ASSESSED', 'ACTION_PLAN', 'Agree the action plan (approved)',
   '{"services": "text"}', '{}', '{}', true, null),
  ('SGBV', 'FOLLOW_UP', 'ACTION_PLAN', 'FOLLOW_UP', 'Follow up', '{}', '{}', '{}', false, null),
  ('SGBV', 'CLOSE', 'FOLLOW_UP', 'CLOSED', 'Close the case (approved)',
   '{"closure_reason": ["NEEDS_MET", "SURVIVOR_REQUEST", "RELOCATED", "NO_CONTACT"]}', '{}', '{}', true, null),
  -- statelessness
  ('STATELESSNESS', 'SCHEDULE_INTERVIEW', 'APPLICATION_RECEIVED', 'INTERVIEW_SCHEDULED', 'Schedule the interview',
   '{"interview_date": "date"}', '{}', '{}', false, null),
  ('STATELESSNESS', 'HOLD_INTERVIEW', 'INTERVIEW_SCHEDULED', 'INTERVIEWED', 'Interview held; evidence requested from States',
   '{"states_consulted?": "text"}', '{}', '{}', false, null),
  ('STATELESSNESS', 'DETERMINE', 'INTERVIEWED', 'DETERMINED', 'Determination (approved)',
   '{"determination": ["STATELESS", "NOT_STATELESS", "NATIONALITY_CONFIRMED"]}', '{}', '{}', true, null),
  ('STATELESSNESS', 'LODGE_APPEAL', 'DETERMINED', 'APPEAL_LODGED', 'Appeal lodged',
   '{"appeal_lodged_on": "date"}', '{}', '{"determination": ["NOT_STATELESS", "NATIONALITY_CONFIRMED"]}', false, null),
  ('STATELESSNESS', 'DECIDE_APPEAL', 'APPEAL_LODGED', 'APPEAL_DECIDED', 'Appeal decided by another officer',
   '{"appeal_decision": ["STATELESS", "NOT_STATELESS"]}', '{}', '{}', true, 'DETERMINE'),
  ('STATELESSNESS', 'CLOSE', 'DETERMINED', 'CLOSED', 'Close', '{}', '{}', '{}', false, null),
  ('STATELESSNESS', 'CLOSE', 'APPEAL_DECIDED', 'CLOSED', 'Close', '{}', '{}', '{}', false, null),
  -- tracing
  ('TRACING', 'START_TRACING', 'OPEN', 'TRACING_IN_PROGRESS', 'Start tracing', '{}', '{}', '{}', false, null),
  ('TRACING', 'VERIFY_MATCH', 'TRACING_IN_PROGRESS', 'VERIFIED', 'A match is verified with both sides',
   '{"matched_individual": "individual"}', '{}', '{}', false, null),
  ('TRACING', 'REJECT_MATCH', 'VERIFIED', 'TRACING_IN_PROGRESS', 'The match was not confirmed', '{}', '{}', '{}', false, null),
  ('TRACING', 'REUNIFY', 'VERIFIED', 'REUNIFIED', 'Family reunified', '{"reunified_on": "date"}', '{}', '{}', false, null),
  ('TRACING', 'CLOSE', '*', 'CLOSED', 'Close the request',
   '{"closure_reason": ["FOUND_DECEASED", "REQUESTER_WITHDREW", "NOT_FOUND"]}', '{}', '{}', false, null),
  -- vulnerability
  ('VULNERABILITY', 'ASSESS', 'REQUESTED', 'ASSESSED', 'Assess (the score is computed by refuge.vulnerability_score)',
   '{"answers": "object"}', '{}', '{}', false, null),
  ('VULNERABILITY', 'REVIEW', 'ASSESSED', 'REVIEWED', 'Review the score (approved)', '{}', '{}', '{}', true, null),
  ('VULNERABILITY', 'REASSESS', 'REVIEWED', 'ASSESSED', 'Reassess', '{"answers": "object"}', '{}', '{}', false, null),
  ('VULNERABILITY', 'CLOSE', '*', 'CLOSED', 'Close', '{}', '{}', '{}', false, null),
  -- voluntary repatriation
  ('VOLREP', 'SIGN_VRF', 'COUNSELLING', 'VRF_SIGNED', 'The household signs the Voluntary Repatriation Form',
   '{"vrf_signed_on": "date", "intended_return_country": "country", "intended_return_place?": "text"}', '{}', '{}', false, null),
  ('VOLREP', 'CLEAR', 'VRF_SIGNED', 'CLEARED', 'Cleared by both governments', '{"cleared_on": "date"}', '{}', '{}', false, null),
  ('VOLREP', 'RECONFIRM', 'CLEARED', 'RECONFIRMED', 'Voluntary decision reconfirmed; departure date agreed',
   '{"departure_date": "date"}', '{}', '{}', false, null),
  ('VOLREP', 'CONFIRM_DEPARTURE', 'RECONFIRMED', 'DEPARTED', 'Departure confirmed', '{"departed_on": "date"}', '{}', '{}', false, null),
  ('VOLREP', 'WITHDRAW', '*', 'WITHDRAWN', 'The household withdraws its request', '{}', '{}', '{}', false, null),
  ('VOLREP', 'SPONTANEOUS_DEPARTURE', '*', 'SPONTANEOUS_DEPARTURE', 'Left outside the facilitated process', '{}', '{}', '{}', false, null),
  -- local integration
  ('LOCAL_INTEGRATION', 'ASSESS', 'IDENTIFIED', 'ASSESSED', 'Assess integration prospects', '{"assessment": "text"}', '{}', '{}', false, null),
  ('LOCAL_INTEGRATION', 'APPLY_RESIDENCE', 'ASSESSED', 'RESIDENCE_APPLIED', 'Apply for a residence permit',
   '{"applied_on": "date"}', '{}', '{}', false, null),
  ('LOCAL_INTEGRATION', 'GRANT_RESIDENCE', 'RESIDENCE_APPLIED', 'RESIDENCE_GRANTED', 'Permanent residence granted',
   '{"granted_on": "date", "permit_number?": "text"}', '{}', '{}', false, null),
  ('LOCAL_INTEGRATION', 'APPLY_NATURALISATION', 'RESIDENCE_GRANTED', 'NATURALISATION_APPLIED', 'Apply for naturalisation',
   '{"applied_on": "date"}', '{}', '{}', false, null),
  ('LOCAL_INTEGRATION', 'NATURALISE', 'NATURALISATION_APPLIED', 'NATURALISED', 'Naturalised (approved)',
   '{"naturalised_on": "date"}', '{}', '{}', true, null),
  ('LOCAL_INTEGRATION', 'CLOSE', '*', 'CLOSED', 'Close', '{"closure_reason": "text"}', '{}', '{}', false, null),
  -- fraud
  ('FRAUD', 'OPEN_INVESTIGATION', 'REPORTED', 'INVESTIGATION', 'Open the investigation', '{"allegation": "text"}', '{}', '{}', false, null),
  ('FRAUD', 'REPORT_FINDINGS', 'INVESTIGATION', 'FINDINGS', 'Report the findings', '{"findings": "text"}', '{}', '{}', false, null),
  ('FRAUD', 'DECIDE', 'FINDINGS', 'DECIDED', 'Decide (by a supervisor other than the investigator)',
   '{"decision": ["SUBSTANTIATED", "UNSUBSTANTIATED"], "measures?": "text"}', '{}', '{}', true, 'REPORT_FINDINGS'),
  ('FRAUD', 'CLOSE', 'DECIDED', 'CLOSED', 'Close', '{}', '{}', '{}', false, null),
  ('FRAUD', 'DISMISS', 'REPORTED', 'CLOSED', 'Dismiss an unfounded report', '{"reason_dismissed": "text"}', '{}', '{}', false, null))
select w.module, w.action, s.code, w.to_state, w.label, w.fields::jsonb, w.sets::jsonb, w.requires_data::jsonb,
       w.approval, w.other_officer_than, true
  from wf w
  join refuge.workflow_state s on s.module = w.module
                               and (s.code = w.from_state or (w.from_state = '*' and not s.closed and s.code <> w.to_state));

insert into refuge.referral_field (code, label, shipped) values
  ('CASE', 'case number, module, state and due date', true),
  ('MEMBERS', 'members'' names, sex, date of birth and relationship', true),
  ('CONTACTS', 'members'' contacts', true),
  ('SPECIFIC_NEEDS', 'members'' active specific needs', true),
  ('CASE_DATA', 'the case''s data (decisions, dates, categories)', true),
  ('NOTES', 'notes that are not confidential', true),
  ('INCIDENT', 'the SGBV incident (only with the survivor''s consent to sharing)', true);

-- Vulnerability scoring model (a starting point each operation calibrates:
-- weights are data).  Needs count once per category present in the case.
insert into refuge.vulnerability_factor (code, kind, label, weight, shipped) values
  ('SC', 'NEED', 'Unaccompanied or separated child', 4, true),
  ('CR', 'NEED', 'Child at risk', 3, true),
  ('SV', 'NEED', 'SGBV', 4, true),
  ('TR', 'NEED', 'Torture', 3, true),
  ('WR', 'NEED', 'Woman at risk', 3, true),
  ('LP', 'NEED', 'Specific legal and physical protection needs', 3, true),
  ('SM', 'NEED', 'Serious medical condition', 3, true),
  ('DS', 'NEED', 'Disability', 2, true),
  ('ER', 'NEED', 'Older person at risk', 2, true),
  ('SP', 'NEED', 'Single parent or caregiver', 2, true),
  ('PG', 'NEED', 'Pregnant or lactating', 1, true),
  ('FU', 'NEED', 'Family unity', 1, true),
  ('LARGE_HOUSEHOLD', 'HOUSEHOLD', 'Seven or more members', 1, true),
  ('HIGH_DEPENDENCY', 'HOUSEHOLD', 'More than two dependants (under 18 or 60 and over) per adult aged 18-59', 2, true),
  ('NO_INCOME', 'ANSWER', 'No member earns an income', 3, true),
  ('FOOD_INSECURE', 'ANSWER', 'Skips meals for lack of food', 3, true),
  ('INADEQUATE_SHELTER', 'ANSWER', 'No adequate shelter', 2, true),
  ('DEBT', 'ANSWER', 'Debt beyond the means to repay', 1, true),
  ('CHILD_LABOUR', 'ANSWER', 'A child works to support the household', 2, true),
  ('NO_SCHOOL', 'ANSWER', 'School-age children out of school', 1, true),
  ('HIGH', 'THRESHOLD', 'High risk from this score', 8, true),
  ('MEDIUM', 'THRESHOLD', 'Medium risk from this score', 4, true);
-- The workflow engine: opening cases, transitions with approvals, the case
-- history.  Every action is one SECURITY DEFINER call that checks the
-- caller's rights, validates, changes the case and writes its case_event in
-- one transaction; the case row is locked first, so of two sessions moving
-- the same case at once exactly one wins (the other finds the new state).

-- Modules whose roles the caller holds (policies use it as an initplan).
create function refuge.caller_modules() returns text[]
    language sql stable parallel safe security definer
    set search_path = pg_catalog, pg_temp
begin atomic
    select coalesce(pg_catalog.array_agg(m.code), '{}')
      from refuge.case_module m
     where refuge.caller_is_superuser()
        or exists (select 1 from pg_catalog.unnest(m.roles) r where refuge.caller_has(r));
end;

-- Text arguments that must say something.
create function refuge.require_text(value text, field text) returns void
    language plpgsql immutable
as $$
begin
    if value is null or btrim(value) = '' then
        perform refuge.raise_field('22004', field, 'is required');
    end if;
end
$$;

-- May the caller work cases of this module in this operation (and site)?
create function refuge.may_work_case(p_module text, p_operation uuid, p_site uuid) returns boolean
    language sql stable parallel safe
begin atomic
    select p_module = any (refuge.caller_modules()) and refuge.in_scope(p_operation, p_site);
end;

create function refuge.case_module_row(p_module text, p_field text) returns refuge.case_module
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    m refuge.case_module;
begin
    select * into m from refuge.case_module c where c.code = p_module;
    if not found then
        perform refuge.raise_field('22023', p_field, format('"%s" is not a case module (%s)', coalesce(p_module, 'null'),
            (select string_agg(code, ', ' order by code) from refuge.case_module)));
    end if;
    return m;
end
$$;

-- A case the caller may work, locked unless only read; an error otherwise.
create function refuge.case_for_update(p_case uuid, p_action text, p_lock boolean default true) returns refuge.process_case
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
begin
    if p_case is null then
        perform refuge.raise_field('22004', 'case_id', 'is required');
    end if;
    if p_lock then
        select * into c from refuge.process_case p where p.id = p_case for update;
    else
        select * into c from refuge.process_case p where p.id = p_case;
    end if;
    if not found then
        perform refuge.raise_field('P0002', 'case_id', format('no case %s', p_case));
    end if;
    if not refuge.may_work_case(c.module, c.operation_id, c.site_id) then
        raise exception using errcode = '42501',
            message = format('%s: role %s may not work %s cases of this operation', p_action, refuge.caller(), c.module);
    end if;
    return c;
end
$$;

-- Validate data against a field specification (see workflow_transition):
-- unknown keys, missing required keys and wrong values are refused, naming
-- the field.  Returns the data with values normalised (dates as ISO text).
create function refuge.case_data(spec jsonb, data jsonb, path text) returns jsonb
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    k text;
    v jsonb;
    t jsonb;
    key text;
    optional boolean;
    out jsonb := '{}';
    f text;
begin
    data := coalesce(data, '{}');
    if jsonb_typeof(data) <> 'object' then
        perform refuge.raise_field('22023', path, 'expected a JSON object');
    end if;
    for k in select jsonb_object_keys(data) loop
        if not (spec ? k or spec ? (k || '?')) then
            perform refuge.raise_field('22023', path || '.' || k, format('is not a field of this step (fields: %s)',
                coalesce((select string_agg(rtrim(s, '?'), ', ' order by s) from jsonb_object_keys(spec) s), 'none')));
        end if;
    end loop;
    for key, t in select * from jsonb_each(spec) loop
        optional := right(key, 1) = '?';
        k := rtrim(key, '?');
        f := path || '.' || k;
        v := data -> k;
        if v is null or v = 'null' then
            if not optional then
                perform refuge.raise_field('22004', f, 'is required');
            end if;
            continue;
        end if;
        if jsonb_typeof(t) = 'array' then
            if jsonb_typeof(v) <> 'string' or not t ? (v #>> '{}') then
                perform refuge.raise_field('22023', f, format('%s is not one of %s', v,
                    (select string_agg(x, ', ') from jsonb_array_elements_text(t) x)));
            end if;
        elsif t #>> '{}' = 'date' then
            v := to_jsonb(refuge.iso(refuge.arg_date(data, k, path, true, false)));
        elsif t #>> '{}' = 'text' then
            if jsonb_typeof(v) <> 'string' or btrim(v #>> '{}') = '' then
                perform refuge.raise_field('22023', f, 'expected non-empty text');
            end if;
        elsif t #>> '{}' = 'integer' then
            if jsonb_typeof(v) <> 'number' or (v #>> '{}') !~ '^-?[0-9]+$' then
                perform refuge.raise_field('22023', f, format('%s is not an integer', v));
            end if;
        elsif t #>> '{}' = 'object' then
            if jsonb_typeof(v) <> 'object' then
                perform refuge.raise_field('22023', f, 'expected a JSON object');
            end if;
        elsif t #>> '{}' = 'country' then
            if jsonb_typeof(v) <> 'string' or not refuge.code_exists('country', v #>> '{}') then
                perform refuge.raise_field('23503', f, format('%s is not a country code (ISO 3166-1 alpha-3)', v));
            end if;
        elsif t #>> '{}' in ('uuid', 'individual') then
            v := to_jsonb(refuge.arg_uuid(data, k, path, true));
            if t #>> '{}' = 'individual' and not exists (select 1 from refuge.individual i where i.id = (v #>> '{}')::uuid) then
                perform refuge.raise_field('23503', f, format('no individual %s', v #>> '{}'));
            end if;
        else
            raise exception 'refuge: unknown field type % in a workflow definition', t;
        end if;
        out := out || jsonb_build_object(k, v);
    end loop;
    return out;
end
$$;

-- Alerts are rows and a NOTIFY (no personal data in the payload).
create function refuge.raise_case_alert(p_case refuge.process_case, p_kind text, p_message text, p_to_role name,
                                        p_severity text default 'NORMAL', p_due timestamptz default null)
    returns uuid
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    new_id uuid;
begin
    insert into refuge.case_alert (case_id, operation_id, kind, severity, message, to_role, state, due_at, raised_by)
    values (p_case.id, p_case.operation_id, p_kind, p_severity, p_message, p_to_role, p_case.state, p_due, refuge.caller())
    on conflict do nothing
    returning id into new_id;
    if new_id is not null then
        perform pg_notify('refuge_case_alert', json_build_object('alert_id', new_id, 'case_id', p_case.id,
            'case_number', p_case.number, 'module', p_case.module, 'kind', p_kind, 'to_role', p_to_role)::text);
    end if;
    return new_id;
end
$$;

-- An event that records an action without moving the case.
create function refuge.note_case_event(c refuge.process_case, p_action text, p_reason text, p_data jsonb)
    returns void
    language sql volatile
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    insert into refuge.case_event (case_id, actor, action, from_state, to_state, reason, data)
    values (c.id, refuge.caller(), p_action, c.state, c.state, p_reason, p_data);
end;

-- When a case entering state s is next due.
create function refuge.case_due(p_module text, p_state text, p_data jsonb) returns timestamptz
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
return (select case
                 when s.closed then null
                 -- a scheduled interview is due the day after it
                 when s.due_days is null and p_data ? 'interview_date'
                     then (p_data ->> 'interview_date')::date + 1
                 when s.due_days is not null then now() + make_interval(days => s.due_days)
               end
          from refuge.workflow_state s where s.module = p_module and s.code = p_state);

-- Open a case of a process for a person and, optionally, members of the
-- person's family (as dependants).  The family grouping is not changed.
create function refuge.open_case(module text, principal_id uuid, members uuid[] default '{}', data jsonb default '{}',
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
    select format('%s-%s-%s-%s', o.code, m.prefix, to_char(current_date, 'YY'),
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

-- Apply an allowed (and, where required, approved) transition.
create function refuge.apply_transition(c refuge.process_case, t refuge.workflow_transition, d jsonb, p_reason text,
                                        p_actor name, p_approval uuid)
    returns jsonb
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    computed jsonb := '{}';
    newdata jsonb;
    target refuge.workflow_state;
    r refuge.process_case;
begin
    if c.module = 'VULNERABILITY' and d ? 'answers' then
        computed := refuge.vulnerability_score(c.id, d -> 'answers');
    end if;
    newdata := c.data || t.sets || d || computed;
    select * into target from refuge.workflow_state s where s.module = c.module and s.code = t.to_state;
    update refuge.process_case p
       set state = t.to_state, closed = target.closed, state_since = now(), data = newdata,
           due_at = refuge.case_due(c.module, t.to_state, d)
     where p.id = c.id
    returning * into r;
    insert into refuge.case_event (case_id, actor, action, from_state, to_state, reason, data, approval_id)
    values (c.id, p_actor, t.action, c.state, t.to_state, p_reason, t.sets || d || computed, p_approval);
    -- a missed deadline of the state left behind is no longer pending
    update refuge.case_alert a set acknowledged_by = refuge.caller(), acknowledged_at = now()
     where a.case_id = c.id and a.kind = 'OVERDUE' and a.acknowledged_at is null;
    return jsonb_build_object('case_id', r.id, 'number', r.number, 'status', 'done', 'action', t.action,
                              'from_state', c.state, 'state', r.state, 'closed', r.closed, 'due_at', r.due_at);
end
$$;

-- Move a case: the action must be allowed from the case's state; its data
-- is validated; a step that needs approval is requested instead (the state
-- changes when a supervisor approves it).
create function refuge.transition_case(case_id uuid, action text, data jsonb default '{}', reason text default null)
    returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    c refuge.process_case;
    t refuge.workflow_transition;
    d jsonb;
    k text;
    allowed text;
    approval_id uuid;
begin
    c := refuge.case_for_update(transition_case.case_id, 'transition_case');
    if exists (select 1 from refuge.case_approval a where a.case_id = c.id and a.status = 'REQUESTED') then
        perform refuge.raise_field('55000', 'case_id', format('case %s has a step awaiting approval (%s)', c.number,
            (select a.action from refuge.case_approval a where a.case_id = c.id and a.status = 'REQUESTED')));
    end if;
    select * into t from refuge.workflow_transition w
     where w.module = c.module and w.action = transition_case.action and w.from_state = c.state;
    if not found then
        allowed := (select string_agg(distinct w.action, ', ') from refuge.workflow_transition w
                     where w.module = c.module and w.from_state = c.state);
        if exists (select 1 from refuge.workflow_transition w where w.module = c.module and w.action = transition_case.action) then
            perform refuge.raise_field('55000', 'action', format('%s is not allowed in state %s of case %s (allowed: %s)',
                transition_case.action, c.state, c.number, coalesce(allowed, 'none, the case is closed')));
        end if;
        perform refuge.raise_field('22023', 'action', format('"%s" is not an action of %s cases (allowed now: %s)',
            coalesce(transition_case.action, 'null'), c.module, coalesce(allowed, 'none, the case is closed')));
    end if;
    for k in select jsonb_object_keys(t.requires_data) loop
        if not coalesce(t.requires_data -> k ? (c.data ->> k), false) then
            perform refuge.raise_field('55000', 'action', format('%s requires %s to be %s (it is %s)', t.action, k,
                (select string_agg(x, ' or ') from jsonb_array_elements_text(t.requires_data -> k) x),
                coalesce(c.data ->> k, 'not set')));
        end if;
    end loop;
    d := refuge.case_data(t.fields, transition_case.data, 'data');
    if t.other_officer_than is not null and (
        exists (select 1 from refuge.case_event e where e.case_id = c.id and e.action = t.other_officer_than
                                                    and e.actor = refuge.caller())
        or exists (select 1 from refuge.case_approval a where a.case_id = c.id and a.action = t.other_officer_than
                                                       and a.status = 'APPROVED' and a.decided_by = refuge.caller())) then
        raise exception using errcode = '42501',
            message = format('%s: must be taken by an officer other than the one who took %s on case %s',
                             t.action, t.other_officer_than, c.number);
    end if;
    if t.approval then
        insert into refuge.case_approval (case_id, action, from_state, data, reason, requested_by)
        values (c.id, t.action, c.state, d, reason, refuge.caller())
        returning id into approval_id;
        insert into refuge.case_event (case_id, actor, action, from_state, to_state, reason, data, approval_id)
        values (c.id, refuge.caller(), 'APPROVAL_REQUESTED', c.state, c.state, reason,
                jsonb_build_object('requested_action', t.action) || d, approval_id);
        perform refuge.raise_case_alert(c, 'APPROVAL', format('%s on case %s awaits approval', t.action, c.number),
                                        'refuge_supervisor');
        return jsonb_build_object('case_id', c.id, 'number', c.number, 'status', 'approval_requested',
                                  'approval_id', approval_id, 'action', t.action, 'state', c.state);
    end if;
    return refuge.apply_transition(c, t, d, reason, refuge.caller(), null);
end
$$;

-- A supervisor working the module in the case's operation approves or
-- rejects a requested step; never the officer who requested it.
create function refuge.decide_approval(approval_id uuid, approve boolean, comment text default null)
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
    if not found then
        perform refuge.raise_field('P0002', 'approval_id', format('no approval %s', approval_id));
    end if;
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

-- Assign a case to a staff member who works the module in its operation.
create function refuge.assign_case(case_id uuid, staff_role name, due_at timestamptz default null, reason text default null)
    returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    c refuge.process_case;
    m refuge.case_module;
begin
    c := refuge.case_for_update(assign_case.case_id, 'assign_case');
    m := refuge.case_module_row(c.module, 'module');
    if c.closed then
        perform refuge.raise_field('55000', 'case_id', format('case %s is closed', c.number));
    end if;
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

-- Staff flag a situation on a case and alert colleagues (a role or a group role).
create function refuge.flag_case(case_id uuid, message text, to_role name default null, severity text default 'NORMAL')
    returns uuid
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
    new_id uuid;
begin
    c := refuge.case_for_update(flag_case.case_id, 'flag_case');
    perform refuge.require_text(message, 'message');
    if severity is null or severity not in ('NORMAL', 'HIGH', 'CRITICAL') then
        perform refuge.raise_field('22023', 'severity', format('"%s" is not NORMAL, HIGH or CRITICAL', severity));
    end if;
    if to_role is not null and not exists (select 1 from pg_catalog.pg_roles r where r.rolname = to_role) then
        perform refuge.raise_field('23503', 'to_role', format('role "%s" does not exist', to_role));
    end if;
    new_id := refuge.raise_case_alert(c, 'FLAG', message, to_role, severity);
    perform refuge.note_case_event(c, 'FLAG', message,
        jsonb_build_object('alert_id', new_id, 'to_role', to_role, 'severity', severity));
    return new_id;
end
$$;

create function refuge.acknowledge_alert(alert_id uuid) returns void
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    a refuge.case_alert;
begin
    select * into a from refuge.case_alert x where x.id = alert_id for update;
    if not found then
        perform refuge.raise_field('P0002', 'alert_id', format('no alert %s', alert_id));
    end if;
    perform refuge.case_for_update(a.case_id, 'acknowledge_alert');
    if a.acknowledged_at is not null then
        perform refuge.raise_field('55000', 'alert_id', format('already acknowledged by %s', a.acknowledged_by));
    end if;
    update refuge.case_alert x set acknowledged_by = refuge.caller(), acknowledged_at = now() where x.id = a.id;
end
$$;

-- The overdue sweep (schedule it, e.g. every hour with pg_cron): one alert
-- per missed deadline of an open case, to the assignee or the module.
create function refuge.check_overdue() returns integer
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
    n integer := 0;
begin
    perform refuge.authorize_any(array['refuge_supervisor', 'refuge_admin']::name[], 'check_overdue');
    for c in select * from refuge.process_case p
              where not p.closed and p.due_at < now()
                and not exists (select 1 from refuge.case_alert a where a.case_id = p.id and a.kind = 'OVERDUE'
                                                                 and a.due_at = p.due_at)
              order by p.due_at
    loop
        if refuge.raise_case_alert(c, 'OVERDUE',
               format('case %s is overdue in state %s since %s', c.number, c.state, to_char(c.due_at, 'YYYY-MM-DD HH24:MI')),
               coalesce(c.assigned_to, (select m.roles[1] from refuge.case_module m where m.code = c.module)),
               'HIGH', c.due_at) is not null then
            n := n + 1;
        end if;
    end loop;
    return n;
end
$$;

-- Link a case to another case or to an identity record.
create function refuge.link_case(case_id uuid, kind text, linked_id uuid, note text default null) returns void
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
    found_it boolean;
begin
    c := refuge.case_for_update(link_case.case_id, 'link_case');
    if kind is null or kind not in ('process_case', 'fraud_alert', 'fraud_case', 'dedup_case', 'collection') then
        perform refuge.raise_field('22023', 'kind',
            format('"%s" is not process_case, fraud_alert, fraud_case, dedup_case or collection', kind));
    end if;
    execute format('select exists (select 1 from refuge.%I where id = $1)', kind) into found_it using linked_id;
    if not found_it or linked_id = c.id then
        perform refuge.raise_field('23503', 'linked_id', format('no %s %s', kind, linked_id));
    end if;
    insert into refuge.case_link (case_id, kind, linked_id, note) values (c.id, kind, linked_id, note)
    on conflict do nothing;
    perform refuge.note_case_event(c, 'LINK', note, jsonb_build_object('kind', kind, 'linked_id', linked_id));
end
$$;

-- The vulnerability score of a case: members' specific-need categories
-- (active), household facts and the assessment's answers, each weighted by
-- refuge.vulnerability_factor; the risk level from its thresholds.
create function refuge.vulnerability_score(case_id uuid, answers jsonb) returns jsonb
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    k text;
    v jsonb;
    factors jsonb := '{}';
    score numeric;
    adults integer;
    dependants integer;
    members integer;
begin
    if answers is null or jsonb_typeof(answers) <> 'object' then
        perform refuge.raise_field('22023', 'data.answers', 'expected an object of answers, e.g. {"NO_INCOME": true}');
    end if;
    for k, v in select * from jsonb_each(answers) loop
        if not exists (select 1 from refuge.vulnerability_factor f where f.code = k and f.kind = 'ANSWER') then
            perform refuge.raise_field('22023', 'data.answers.' || k, format('is not a question of the model (%s)',
                (select string_agg(f.code, ', ' order by f.code) from refuge.vulnerability_factor f where f.kind = 'ANSWER')));
        end if;
        if jsonb_typeof(v) <> 'boolean' then
            perform refuge.raise_field('22023', 'data.answers.' || k, 'expected true or false');
        end if;
        if v = 'true' then
            factors := factors || jsonb_build_object(k, (select f.weight from refuge.vulnerability_factor f where f.code = k));
        end if;
    end loop;
    factors := factors || coalesce((select jsonb_object_agg(f.code, f.weight)
        from refuge.vulnerability_factor f
       where f.kind = 'NEED'
         and exists (select 1 from refuge.case_member cm join refuge.specific_need n on n.individual_id = cm.individual_id
                     where cm.case_id = vulnerability_score.case_id and n.category = f.code and n.active)), '{}');
    select count(*), count(*) filter (where a.age between 18 and 59), count(*) filter (where a.age < 18 or a.age >= 60)
      into members, adults, dependants
      from refuge.process_case c
      join refuge.group_membership gm on gm.group_id = c.group_id and gm.valid_to is null
      join refuge.individual i on i.id = gm.individual_id and i.status = 'ACTIVE',
           lateral (select extract(year from age(current_date, i.date_of_birth))::integer as age) a
     where c.id = vulnerability_score.case_id;
    if members >= 7 then
        factors := factors || (select jsonb_build_object(f.code, f.weight) from refuge.vulnerability_factor f where f.code = 'LARGE_HOUSEHOLD');
    end if;
    if dependants > 2 * greatest(adults, 0) and dependants > 0 then
        factors := factors || (select jsonb_build_object(f.code, f.weight) from refuge.vulnerability_factor f where f.code = 'HIGH_DEPENDENCY');
    end if;
    select coalesce(sum(x.value::numeric), 0) into score from jsonb_each_text(factors) x;
    return jsonb_build_object('score', score, 'factors', factors, 'household_size', members,
        'risk_level', case when score >= (select weight from refuge.vulnerability_factor where code = 'HIGH') then 'HIGH'
                           when score >= (select weight from refuge.vulnerability_factor where code = 'MEDIUM') then 'MEDIUM'
                           else 'LOW' end);
end
$$;

-- Potential matches of a tracing request among registered people of every
-- operation (tracing crosses borders): names, sex and year of birth scored.
create function refuge.tracing_matches(case_id uuid, max_results integer default 10)
    returns table (individual_id uuid, number text, given_name text, family_name text, sex text, birth_year integer,
                   operation text, score integer)
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
    fam text;
    giv text;
begin
    c := refuge.case_for_update(tracing_matches.case_id, 'tracing_matches', false);
    if c.module <> 'TRACING' then
        perform refuge.raise_field('22023', 'case_id', format('case %s is a %s case, not a tracing request', c.number, c.module));
    end if;
    fam := lower(c.data ->> 'sought_family_name');
    giv := lower(c.data ->> 'sought_given_name');
    insert into refuge.sensitive_read (actor, kind, object_id, case_id, operation_id, purpose)
    values (refuge.caller(), 'case_detail', c.id, c.id, c.operation_id, 'tracing search');
    return query
    select x.id, x.number, x.given_name, x.family_name, x.sex, x.yob, o.code, x.score
      from (select i.id, i.number, i.given_name, i.family_name, i.sex, i.operation_id,
                   extract(year from i.date_of_birth)::integer as yob,
                   (case when lower(i.family_name) = fam then 4
                         when left(lower(i.family_name), 4) = left(fam, 4) then 2 else 0 end
                  + case when giv is null then 0
                         when lower(i.given_name) = giv then 3
                         when left(lower(i.given_name), 3) = left(giv, 3) then 1 else 0 end
                  + case when c.data ? 'sought_sex' and i.sex = c.data ->> 'sought_sex' then 1 else 0 end
                  + case when not c.data ? 'sought_birth_year' or i.date_of_birth is null then 0
                         when abs(extract(year from i.date_of_birth) - (c.data ->> 'sought_birth_year')::integer) <= 2 then 2
                         else -2 end)::integer as score
              from refuge.individual i
             where i.status = 'ACTIVE'
               and left(lower(i.family_name), 4) = left(fam, 4)
               and not exists (select 1 from refuge.case_member cm where cm.case_id = c.id and cm.individual_id = i.id)) x
      join refuge.operation o on o.id = x.operation_id
     where x.score >= 5
     order by x.score desc, x.number
     limit greatest(1, least(coalesce(max_results, 10), 100));
end
$$;
-- Case notes, interview transcripts, attachments and SGBV incidents.
-- Confidential text is sealed with the vault key (AES-256-GCM in C; the key
-- is read by the server from refuge.vault_key_file, never passed in SQL), the
-- row id as associated data so a sealed value cannot be moved to another row.
-- Reads of confidential items and of any item of a sensitive module go
-- through functions that log them in refuge.sensitive_read.

create function refuge.log_sensitive_read(p_kind text, p_object uuid, c refuge.process_case, p_purpose text)
    returns void
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    if p_purpose is null or btrim(p_purpose) = '' then
        perform refuge.raise_field('22004', 'purpose', 'is required: say why this sensitive record is read');
    end if;
    insert into refuge.sensitive_read (actor, kind, object_id, case_id, individual_id, operation_id, purpose)
    values (refuge.caller(), p_kind, p_object, c.id, c.principal_id, c.operation_id, p_purpose);
end
$$;

create function refuge.add_case_note(case_id uuid, body text, confidential boolean default false, kind text default 'NOTE')
    returns uuid
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
    new_id uuid := gen_random_uuid();
begin
    c := refuge.case_for_update(add_case_note.case_id, 'add_case_note');
    perform refuge.require_text(body, 'body');
    if confidential is null then
        perform refuge.raise_field('22004', 'confidential', 'is required');
    end if;
    if kind is null or kind not in ('NOTE', 'INTERVIEW_TRANSCRIPT', 'ASSESSMENT', 'DECISION') then
        perform refuge.raise_field('22023', 'kind', format('"%s" is not NOTE, INTERVIEW_TRANSCRIPT, ASSESSMENT or DECISION', kind));
    end if;
    insert into refuge.case_note (id, case_id, kind, confidential, body, sealed, author)
    values (new_id, c.id, kind, confidential,
            case when not confidential then body end,
            case when confidential then refuge.vault_seal(convert_to(body, 'UTF8'), 'case_note:' || new_id) end,
            refuge.caller());
    perform refuge.note_case_event(c, 'NOTE', null,
                                   jsonb_build_object('note_id', new_id, 'kind', kind, 'confidential', confidential));
    return new_id;
end
$$;

-- The text of a note, for those who work the case; confidential notes and
-- the notes of sensitive modules are logged with the purpose given.
create function refuge.read_case_note(note_id uuid, purpose text default null) returns text
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    n refuge.case_note;
    c refuge.process_case;
begin
    select * into n from refuge.case_note x where x.id = note_id;
    if not found then
        perform refuge.raise_field('P0002', 'note_id', format('no note %s', note_id));
    end if;
    c := refuge.case_for_update(n.case_id, 'read_case_note', false);
    if n.confidential or (select m.sensitive from refuge.case_module m where m.code = c.module) then
        perform refuge.log_sensitive_read('case_note', n.id, c, purpose);
    end if;
    if not n.confidential then
        return n.body;
    end if;
    return convert_from(refuge.vault_open(n.sealed, 'case_note:' || n.id), 'UTF8');
end
$$;

create function refuge.add_case_document(case_id uuid, title text, media_type text, content bytea,
                                         confidential boolean default false)
    returns uuid
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
    new_id uuid := gen_random_uuid();
begin
    c := refuge.case_for_update(add_case_document.case_id, 'add_case_document');
    perform refuge.require_text(title, 'title');
    if media_type is null or media_type !~ '^[a-z]+/[A-Za-z0-9.+-]+$' then
        perform refuge.raise_field('22023', 'media_type', format('"%s" is not a media type such as application/pdf', media_type));
    end if;
    if content is null or length(content) = 0 then
        perform refuge.raise_field('22004', 'content', 'is required');
    end if;
    if length(content) > 50 * 1024 * 1024 then
        perform refuge.raise_field('54000', 'content', format('%s bytes is more than the 50 MB an attachment may have', length(content)));
    end if;
    if confidential is null then
        perform refuge.raise_field('22004', 'confidential', 'is required');
    end if;
    insert into refuge.case_document (id, case_id, title, media_type, size_bytes, sha256, confidential, content, sealed, author)
    values (new_id, c.id, title, media_type, length(content), sha256(content), confidential,
            case when not confidential then content end,
            case when confidential then refuge.vault_seal(content, 'case_document:' || new_id) end,
            refuge.caller());
    perform refuge.note_case_event(c, 'DOCUMENT', null,
                                   jsonb_build_object('document_id', new_id, 'title', title, 'confidential', confidential));
    return new_id;
end
$$;

create function refuge.read_case_document(document_id uuid, purpose text default null) returns bytea
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    d refuge.case_document;
    c refuge.process_case;
    content bytea;
begin
    select * into d from refuge.case_document x where x.id = document_id;
    if not found then
        perform refuge.raise_field('P0002', 'document_id', format('no document %s', document_id));
    end if;
    c := refuge.case_for_update(d.case_id, 'read_case_document', false);
    if d.confidential or (select m.sensitive from refuge.case_module m where m.code = c.module) then
        perform refuge.log_sensitive_read('case_document', d.id, c, purpose);
    end if;
    content := case when d.confidential then refuge.vault_open(d.sealed, 'case_document:' || d.id) else d.content end;
    if sha256(content) <> d.sha256 then
        raise exception using errcode = 'XX001', message = format('document %s does not match its digest', d.id);
    end if;
    return content;
end
$$;

-- Record the incident of an SGBV case: GBVIMS classification, the
-- survivor's consent to services and to sharing, the narrative sealed.
create function refuge.record_gbv_incident(case_id uuid, incident jsonb) returns void
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
    vt text;
    details jsonb;
begin
    c := refuge.case_for_update(record_gbv_incident.case_id, 'record_gbv_incident');
    if c.module <> 'SGBV' then
        perform refuge.raise_field('22023', 'case_id', format('case %s is a %s case, not SGBV', c.number, c.module));
    end if;
    perform refuge.arg_fields(incident, 'incident', array['violence_type', 'incident_date', 'consent_services',
        'consent_sharing', 'narrative', 'location', 'perpetrator', 'reported_on']);
    vt := refuge.arg_text(incident, 'violence_type', 'incident', true, 40);
    if vt not in ('RAPE', 'SEXUAL_ASSAULT', 'PHYSICAL_ASSAULT', 'FORCED_MARRIAGE', 'DENIAL_OF_RESOURCES',
                  'PSYCHOLOGICAL_ABUSE', 'NON_GBV') then
        perform refuge.raise_field('22023', 'incident.violence_type', format('"%s" is not a GBVIMS type (RAPE, SEXUAL_ASSAULT, '
            'PHYSICAL_ASSAULT, FORCED_MARRIAGE, DENIAL_OF_RESOURCES, PSYCHOLOGICAL_ABUSE, NON_GBV)', vt));
    end if;
    if refuge.arg_bool(incident, 'consent_services', 'incident') is null then
        perform refuge.raise_field('22004', 'incident.consent_services', 'is required (true or false)');
    end if;
    if refuge.arg_bool(incident, 'consent_sharing', 'incident') is null then
        perform refuge.raise_field('22004', 'incident.consent_sharing', 'is required (true or false)');
    end if;
    details := jsonb_strip_nulls(jsonb_build_object('narrative', refuge.arg_text(incident, 'narrative', 'incident', true),
        'location', refuge.arg_text(incident, 'location', 'incident'),
        'perpetrator', refuge.arg_text(incident, 'perpetrator', 'incident')));
    insert into refuge.gbv_incident as g (case_id, violence_type, incident_date, reported_on, consent_services,
                                          consent_sharing, sealed)
    values (c.id, vt, refuge.arg_date(incident, 'incident_date', 'incident', false, false),
            coalesce(refuge.arg_date(incident, 'reported_on', 'incident', false, false), current_date),
            (incident ->> 'consent_services')::boolean, (incident ->> 'consent_sharing')::boolean,
            refuge.vault_seal(convert_to(details::text, 'UTF8'), 'gbv_incident:' || c.id))
    on conflict on constraint gbv_incident_pkey do update
       set violence_type = excluded.violence_type, incident_date = excluded.incident_date,
           reported_on = excluded.reported_on, consent_services = excluded.consent_services,
           consent_sharing = excluded.consent_sharing, sealed = excluded.sealed;
    perform refuge.note_case_event(c, 'INCIDENT_RECORDED', null,
        jsonb_build_object('violence_type', vt, 'consent_services', incident -> 'consent_services',
                           'consent_sharing', incident -> 'consent_sharing'));
end
$$;

create function refuge.read_gbv_incident(case_id uuid, purpose text default null) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
    g refuge.gbv_incident;
begin
    c := refuge.case_for_update(read_gbv_incident.case_id, 'read_gbv_incident', false);
    select * into g from refuge.gbv_incident x where x.case_id = c.id;
    if not found then
        perform refuge.raise_field('P0002', 'case_id', format('case %s has no incident recorded', c.number));
    end if;
    perform refuge.log_sensitive_read('gbv_incident', c.id, c, purpose);
    return jsonb_build_object('case_number', c.number, 'violence_type', g.violence_type, 'incident_date', g.incident_date,
                              'reported_on', g.reported_on, 'consent_services', g.consent_services,
                              'consent_sharing', g.consent_sharing)
           || convert_from(refuge.vault_open(g.sealed, 'gbv_incident:' || c.id), 'UTF8')::jsonb;
end
$$;
-- Transfers of cases between operations and sites, and referrals to
-- partner organisations that share chosen parts of a case until the
-- referral is closed, revoked or expires.

create function refuge.request_case_transfer(case_id uuid, to_operation text, to_site text default null,
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
    c := refuge.case_for_update(request_case_transfer.case_id, 'request_case_transfer');
    if c.closed then
        perform refuge.raise_field('55000', 'case_id', format('case %s is closed', c.number));
    end if;
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

-- Staff of the module in the receiving operation (or site) accept or reject;
-- the requester may cancel.  On acceptance the case, its access and its
-- alerts move; the history stays with the case.
create function refuge.decide_case_transfer(transfer_id uuid, decision text, reason text default null)
    returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    t refuge.case_transfer;
    c refuge.process_case;
begin
    if decision is null or decision not in ('ACCEPT', 'REJECT', 'CANCEL') then
        perform refuge.raise_field('22023', 'decision', format('"%s" is not ACCEPT, REJECT or CANCEL', decision));
    end if;
    select * into t from refuge.case_transfer x where x.id = transfer_id;
    if not found then
        perform refuge.raise_field('P0002', 'transfer_id', format('no transfer %s', transfer_id));
    end if;
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

-- Partner organisations and the roles of their staff (administrators).
create function refuge.create_partner(code text, name text) returns uuid
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    new_id uuid;
begin
    perform refuge.authorize('refuge_admin', 'create_partner');
    if code is null or code !~ '^[A-Z0-9_-]{2,20}$' then
        perform refuge.raise_field('22023', 'code', format('"%s" is not 2-20 capitals, digits, _ or -', code));
    end if;
    perform refuge.require_text(name, 'name');
    insert into refuge.partner_organisation (code, name) values (create_partner.code, create_partner.name)
    returning id into new_id;
    return new_id;
exception when unique_violation then
    perform refuge.raise_field('23505', 'code', format('partner "%s" already exists', code));
end
$$;

create function refuge.assign_partner_staff(role_name name, partner text) returns void
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    pid uuid;
begin
    perform refuge.authorize('refuge_admin', 'assign_partner_staff');
    if not exists (select 1 from pg_catalog.pg_roles r where r.rolname = assign_partner_staff.role_name) then
        perform refuge.raise_field('23503', 'role_name', format('role "%s" does not exist', assign_partner_staff.role_name));
    end if;
    if not pg_catalog.pg_has_role(assign_partner_staff.role_name, 'refuge_partner', 'MEMBER') then
        perform refuge.raise_field('22023', 'role_name', format('"%s" is not a member of refuge_partner', assign_partner_staff.role_name));
    end if;
    select p.id into pid from refuge.partner_organisation p where p.code = partner;
    if pid is null then
        perform refuge.raise_field('23503', 'partner', format('unknown partner "%s"', partner));
    end if;
    insert into refuge.partner_staff (role_name, partner_id) values (assign_partner_staff.role_name, pid)
    on conflict on constraint partner_staff_pkey do update set partner_id = excluded.partner_id, active = true;
end
$$;

-- The caller's partner organisation (null for everyone else).
create function refuge.caller_partner() returns uuid
    language sql stable parallel safe security definer
    set search_path = pg_catalog, pg_temp
begin atomic
    select ps.partner_id from refuge.partner_staff ps
     where ps.role_name = refuge.caller() and ps.active and refuge.caller_has('refuge_partner');
end;

-- Refer a case to a partner, sharing the listed parts (refuge.referral_field).
-- SGBV cases are shared only with the survivor's consent to sharing.
create function refuge.refer_case(case_id uuid, partner text, fields text[], purpose text, valid_until date default null)
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
    c := refuge.case_for_update(refer_case.case_id, 'refer_case');
    if c.closed then
        perform refuge.raise_field('55000', 'case_id', format('case %s is closed', c.number));
    end if;
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

-- End a referral: the partner closes it when done; staff of the case close
-- or revoke it.  Sharing stops at once.
create function refuge.end_referral(referral_id uuid, status text, reason text) returns void
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    r refuge.case_referral;
    c refuge.process_case;
begin
    if status is null or status not in ('CLOSED', 'REVOKED') then
        perform refuge.raise_field('22023', 'status', format('"%s" is not CLOSED or REVOKED', status));
    end if;
    perform refuge.require_text(reason, 'reason');
    select * into r from refuge.case_referral x where x.id = referral_id for update;
    if not found then
        perform refuge.raise_field('P0002', 'referral_id', format('no referral %s', referral_id));
    end if;
    select * into c from refuge.process_case p where p.id = r.case_id;
    if not (refuge.may_work_case(c.module, c.operation_id, c.site_id)
            or (status = 'CLOSED' and r.partner_id = refuge.caller_partner())) then
        raise exception using errcode = '42501',
            message = format('end_referral: role %s may not %s this referral', refuge.caller(),
                             case status when 'CLOSED' then 'close' else 'revoke' end);
    end if;
    if r.status <> 'ACTIVE' then
        perform refuge.raise_field('55000', 'referral_id', format('referral %s is already %s', r.id, lower(r.status)));
    end if;
    update refuge.case_referral x set status = end_referral.status, ended_by = refuge.caller(), ended_at = now(),
                                      end_reason = reason
     where x.id = r.id;
    perform refuge.note_case_event(c, 'REFERRAL_' || status, reason, jsonb_build_object('referral_id', r.id));
end
$$;

-- The partner's view: its active referrals (no case content).
create function refuge.referred_cases()
    returns table (referral_id uuid, case_number text, module text, fields text[], purpose text,
                   referred_at timestamptz, valid_until date)
    language sql stable security definer
    set search_path = pg_catalog, pg_temp
begin atomic
    select r.id, c.number, c.module, r.fields, r.purpose, r.referred_at, r.valid_until
      from refuge.case_referral r join refuge.process_case c on c.id = r.case_id
     where r.partner_id = refuge.caller_partner() and r.status = 'ACTIVE'
       and (r.valid_until is null or r.valid_until >= current_date)
     order by r.referred_at;
end;

-- One referred case, only the parts the referral shares; the read is logged.
create function refuge.referred_case(referral_id uuid, purpose text default null) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    r refuge.case_referral;
    c refuge.process_case;
    res jsonb;
    g refuge.gbv_incident;
begin
    perform refuge.authorize('refuge_partner', 'referred_case');
    select * into r from refuge.case_referral x where x.id = referral_id;
    if not found or r.partner_id is distinct from refuge.caller_partner() then
        perform refuge.raise_field('P0002', 'referral_id', format('no referral %s to your organisation', referral_id));
    end if;
    if r.status <> 'ACTIVE' or (r.valid_until is not null and r.valid_until < current_date) then
        raise exception using errcode = '42501',
            message = format('referred_case: referral %s is %s', r.id,
                             case when r.status <> 'ACTIVE' then lower(r.status) else 'expired' end);
    end if;
    select * into c from refuge.process_case p where p.id = r.case_id;
    perform refuge.log_sensitive_read('referral', r.id, c, coalesce(purpose, r.purpose));
    res := jsonb_build_object('referral_id', r.id, 'fields', r.fields);
    if 'CASE' = any (r.fields) then
        res := res || jsonb_build_object('case_number', c.number, 'module', c.module, 'state', c.state, 'due_at', c.due_at);
    end if;
    if 'CASE_DATA' = any (r.fields) then
        res := res || jsonb_build_object('data', c.data);
    end if;
    if r.fields && array['MEMBERS', 'CONTACTS', 'SPECIFIC_NEEDS'] then
        res := res || jsonb_build_object('members', (
            select jsonb_agg(jsonb_strip_nulls(
                     case when 'MEMBERS' = any (r.fields) then
                         jsonb_build_object('given_name', i.given_name, 'family_name', i.family_name, 'sex', i.sex,
                                            'date_of_birth', i.date_of_birth, 'role', cm.role,
                                            'relationship', cm.relationship)
                     else jsonb_build_object('role', cm.role) end
                   || case when 'CONTACTS' = any (r.fields) then jsonb_build_object('contacts',
                          (select jsonb_agg(jsonb_build_object('type', k.contact_type, 'value', k.value))
                             from refuge.individual_contact k where k.individual_id = i.id and k.still_in_use))
                      else '{}' end
                   || case when 'SPECIFIC_NEEDS' = any (r.fields) then jsonb_build_object('specific_needs',
                          (select jsonb_agg(coalesce(n.code, n.category) order by n.category)
                             from refuge.specific_need n where n.individual_id = i.id and n.active))
                      else '{}' end) order by cm.role desc, i.date_of_birth)
              from refuge.case_member cm join refuge.individual i on i.id = cm.individual_id
             where cm.case_id = c.id));
    end if;
    if 'NOTES' = any (r.fields) then
        res := res || jsonb_build_object('notes', (
            select jsonb_agg(jsonb_build_object('kind', n.kind, 'at', n.created_at, 'text', n.body) order by n.created_at)
              from refuge.case_note n where n.case_id = c.id and not n.confidential));
    end if;
    if 'INCIDENT' = any (r.fields) then
        select * into g from refuge.gbv_incident x where x.case_id = c.id and x.consent_sharing;
        if found then
            res := res || jsonb_build_object('incident', jsonb_build_object('violence_type', g.violence_type,
                'incident_date', g.incident_date, 'reported_on', g.reported_on)
                || convert_from(refuge.vault_open(g.sealed, 'gbv_incident:' || c.id), 'UTF8')::jsonb);
        end if;
    end if;
    return res;
end
$$;
-- The tamper-evident audit trail.  refuge.audit_log stays append-only and
-- written by the triggers of every audited table; refuge.seal_audit() chains
-- its rows with SHA-256 in batches, refuge.verify_audit() recomputes the
-- chain.  Sealing never makes writers wait: a batch takes the rows of the
-- transactions below the snapshot's xmin (all finished), so a transaction
-- that commits late is sealed by the next batch, never skipped.  Horizons
-- are the sealing cluster's transaction ids: a restored copy seals anew from
-- whatever it finds unsealed.

create index audit_log_txid on refuge.audit_log (txid);

-- Audit rows are never changed or deleted (a superuser can still do it:
-- that is what the chain detects).
create trigger append_only before update or delete on refuge.audit_log
    for each row execute function refuge.append_only();
create trigger append_only before update or delete on refuge.audit_seal
    for each row execute function refuge.append_only();

create function refuge.cluster_id() returns bigint
    language c stable parallel safe
    as 'MODULE_PATHNAME', 'refuge_cluster_id';

-- The sealed horizon of this cluster (0 when it has sealed nothing yet).
create function refuge.audit_horizon() returns bigint
    language sql stable
    set search_path = pg_catalog, pg_temp
return coalesce((select max(s.horizon) from refuge.audit_seal s where s.cluster_id = refuge.cluster_id()), 0);

-- The bytes hashed for an audit row: its columns as a JSON array, the time
-- in UTC (independent of the session's TimeZone and DateStyle).
create function refuge.audit_canonical(a refuge.audit_log) returns bytea
    language sql immutable parallel safe
return convert_to(jsonb_build_array(a.id, a.txid, to_char(a.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                                    a.actor, a.operation_id, a.table_name, a.row_id, a.action, a.old_data,
                                    a.new_data)::text, 'UTF8');

create function refuge.audit_link(prev bytea, seq bigint, a refuge.audit_log) returns bytea
    language sql immutable parallel safe
return sha256(prev || int8send(seq) || refuge.audit_canonical(a));

-- The hash before the first seal.
create function refuge.audit_genesis() returns bytea
    language sql immutable parallel safe
return sha256(convert_to('refuge audit chain v1', 'UTF8'));

-- Seal every audit row of the transactions that have finished.  Runs under
-- READ COMMITTED (each statement must see the previous batch); concurrent
-- sealers queue on an advisory lock, writers never do.  The new head goes
-- to the server log too, outside the database's reach.
create function refuge.seal_audit() returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    horizon bigint;
    low bigint;
    prev bytea;
    last_seq bigint;
    a refuge.audit_log;
    seqs bigint[] := '{}';
    ids bigint[] := '{}';
    hashes bytea[] := '{}';
    n bigint := 0;
begin
    perform refuge.authorize_any(array['refuge_admin', 'refuge_supervisor']::name[], 'seal_audit');
    if current_setting('transaction_isolation') <> 'read committed' then
        raise exception using errcode = '25000',
            message = 'seal_audit: run it under READ COMMITTED (a batch must see the batch before it)';
    end if;
    perform pg_advisory_xact_lock(7306086141237891841);
    horizon := pg_snapshot_xmin(pg_current_snapshot())::text::bigint;
    select s.seq, s.hash into last_seq, prev from refuge.audit_seal s order by s.seq desc limit 1;
    low := refuge.audit_horizon();
    last_seq := coalesce(last_seq, 0);
    prev := coalesce(prev, refuge.audit_genesis());
    for a in select * from refuge.audit_log l
              where l.txid >= low and l.txid < horizon
                and not exists (select 1 from refuge.audit_seal s where s.audit_id = l.id)
              order by l.id
    loop
        last_seq := last_seq + 1;
        prev := refuge.audit_link(prev, last_seq, a);
        seqs := seqs || last_seq;
        ids := ids || a.id;
        hashes := hashes || prev;
        n := n + 1;
        if cardinality(seqs) >= 10000 then
            insert into refuge.audit_seal (seq, audit_id, cluster_id, horizon, hash)
            select s, i, refuge.cluster_id(), horizon, h from unnest(seqs, ids, hashes) as u(s, i, h);
            seqs := '{}'; ids := '{}'; hashes := '{}';
        end if;
    end loop;
    if cardinality(seqs) > 0 then
        insert into refuge.audit_seal (seq, audit_id, cluster_id, horizon, hash)
        select s, i, refuge.cluster_id(), horizon, h from unnest(seqs, ids, hashes) as u(s, i, h);
    end if;
    if n > 0 then
        raise log 'refuge audit chain head: seq % hash %', last_seq, encode(prev, 'hex');
    end if;
    return jsonb_build_object('sealed', n, 'head_seq', last_seq, 'head_hash', encode(prev, 'hex'), 'horizon', horizon);
end
$$;

-- The head of the chain, to keep outside the database (a copy elsewhere
-- detects even a rewrite of the whole chain: verify_audit(seq, hash)).
create function refuge.audit_head(out seq bigint, out hash text, out sealed_at timestamptz)
    language sql stable security definer
    set search_path = pg_catalog, pg_temp
begin atomic
    select s.seq, encode(s.hash, 'hex'), s.sealed_at from refuge.audit_seal s order by s.seq desc limit 1;
end;

-- Recompute the chain.  Reports every sealed row that was changed or
-- deleted, every seal removed, every audit row that appeared below the
-- sealed horizon (inserted afterwards), and an anchor that does not match.
-- Seals first when it can (READ COMMITTED).
create function refuge.verify_audit(anchor_seq bigint default null, anchor_hash text default null) returns jsonb
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
begin
    perform refuge.authorize_any(array['refuge_admin', 'refuge_supervisor']::name[], 'verify_audit');
    if (anchor_seq is null) <> (anchor_hash is null) then
        perform refuge.raise_field('22004', 'anchor_hash', 'an anchor is a sequence number and its hash, both given');
    end if;
    if current_setting('transaction_isolation') = 'read committed' then
        sealing := refuge.seal_audit();
    end if;
    top := refuge.audit_horizon();
    with chain as (
        select s.seq, s.audit_id, s.hash, s.horizon, s.cluster_id,
               lag(s.cluster_id) over w as prev_cluster,
               lag(s.seq) over w as prev_seq,
               coalesce(lag(s.hash) over w, refuge.audit_genesis()) as prev_hash,
               lag(s.horizon) over w as prev_horizon
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
         where refuge.audit_link(c.prev_hash, c.seq, a) <> c.hash
            or a.txid >= c.horizon
            or (c.cluster_id = c.prev_cluster and c.horizon < c.prev_horizon)
        union all
        select null, a.id, 'audit row without a seal below the sealed horizon (inserted afterwards, or its seal deleted)'
          from refuge.audit_log a
         where a.txid < top and not exists (select 1 from refuge.audit_seal s where s.audit_id = a.id)
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
                              'sealed_now', coalesce((sealing ->> 'sealed')::bigint, 0));
end
$$;
-- Reads of biometric templates are logged like other sensitive records: HQ
-- biometrics administrators no longer select the gallery tables directly
-- but read one person's templates through refuge.biometric_templates(),
-- which records who, when and why in refuge.sensitive_read.  Enrolment,
-- verification and adjudication read the gallery inside the API as before.

drop policy hq_read on refuge.biometric_finger;
drop policy hq_read on refuge.biometric_iris;
drop policy hq_read on refuge.biometric_capture;
revoke select on refuge.biometric_finger, refuge.biometric_iris, refuge.biometric_capture from refuge_biometrics_admin;

create function refuge.biometric_templates(individual_id uuid, purpose text) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    p refuge.individual;
begin
    perform refuge.authorize('refuge_biometrics_admin', 'biometric_templates');
    select * into p from refuge.individual i where i.id = biometric_templates.individual_id;
    if not found then
        perform refuge.raise_field('P0002', 'individual_id', format('no individual %s', biometric_templates.individual_id));
    end if;
    if purpose is null or btrim(purpose) = '' then
        perform refuge.raise_field('22004', 'purpose', 'is required: say why these biometric templates are read');
    end if;
    insert into refuge.sensitive_read (actor, kind, object_id, individual_id, operation_id, purpose)
    values (refuge.caller(), 'biometric_templates', p.id, p.id, p.operation_id, purpose);
    return jsonb_build_object('individual_id', p.id, 'number', p.number,
        'fingers', coalesce((select jsonb_agg(jsonb_build_object('position', f.position, 'quality', f.quality,
                                                                 'template', f.template::text) order by f.position)
                               from refuge.biometric_finger f where f.individual_id = p.id), '[]'),
        'irises', coalesce((select jsonb_agg(jsonb_build_object('eye', i.eye, 'quality', i.quality,
                                                                'template', i.template::text) order by i.eye)
                              from refuge.biometric_iris i where i.individual_id = p.id), '[]'));
end
$$;
-- Ownership, row-level security, privileges, audit and dump registration of
-- the case management tables (as in sql/50_rls.sql and delta 0.4.0: NOLOGIN
-- owner, RLS enabled and forced, SELECT-only grants by module and scope,
-- writes through the SECURITY DEFINER API).

do $own$
declare
    t text;
begin
    foreach t in array array['case_module', 'workflow_state', 'workflow_transition', 'process_case', 'case_member',
        'case_event', 'case_approval', 'case_alert', 'case_note', 'case_document', 'case_link', 'gbv_incident',
        'case_transfer', 'partner_organisation', 'partner_staff', 'referral_field', 'case_referral', 'sensitive_read',
        'audit_seal', 'vulnerability_factor']
    loop
        execute format('alter table refuge.%I owner to refuge_owner', t);
        execute format('alter table refuge.%I enable row level security', t);
        execute format('alter table refuge.%I force row level security', t);
        execute format('create policy owner_all on refuge.%I for all to refuge_owner using (true) with check (true)', t);
    end loop;
end
$own$;
alter sequence refuge.case_number_seq owner to refuge_owner;

-- Workflow definitions, referral fields, the scoring model, partners: read
-- by every refuge role.  The vocabularies of earlier versions: read by the
-- new roles too.
do $public$
declare
    t name;
    everyone text := 'refuge_registration, refuge_supervisor, refuge_analyst, refuge_admin, refuge_biometrics, '
                     'refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection, '
                     'refuge_child_protection, refuge_partner';
begin
    for t in select p.tablename from pg_catalog.pg_policies p
              where p.schemaname = 'refuge' and p.policyname = 'read_all'
    loop
        execute format('grant select on refuge.%I to refuge_rsd, refuge_resettlement, refuge_protection,
                        refuge_child_protection, refuge_partner', t);
        execute format('create policy read_case_roles on refuge.%I for select
                        to refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection, refuge_partner
                        using (true)', t);
    end loop;
    foreach t in array array['case_module', 'workflow_state', 'workflow_transition', 'referral_field',
                             'vulnerability_factor', 'partner_organisation']
    loop
        execute format('grant select on refuge.%I to %s', t, everyone);
        execute format('create policy read_all on refuge.%I for select to %s using (true)', t, everyone);
    end loop;
end
$public$;

-- The module of a case whatever the caller may see (for transfer policies).
create function refuge.case_module_of(p_case uuid) returns text
    language sql stable parallel safe security definer
    set search_path = pg_catalog, pg_temp
begin atomic
    select c.module from refuge.process_case c where c.id = p_case;
end;

-- Cases: staff holding a module's role, in the case's operation or site.
grant select on refuge.process_case, refuge.case_member, refuge.case_event, refuge.case_approval, refuge.case_alert,
    refuge.case_link, refuge.case_transfer, refuge.case_referral
    to refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection, refuge_assistance, refuge_supervisor;
create policy module_read on refuge.process_case for select
    to refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection, refuge_assistance, refuge_supervisor
    using (module = any ((select refuge.caller_modules())::text[])
           and (operation_id = any ((select refuge.scope_operations())::uuid[])
                or site_id = any ((select refuge.scope_sites())::uuid[])));
do $children$
declare
    t text;
begin
    foreach t in array array['case_member', 'case_event', 'case_approval', 'case_alert', 'case_link', 'case_referral']
    loop
        execute format('create policy module_read on refuge.%I for select
                        to refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection,
                           refuge_assistance, refuge_supervisor
                        using (exists (select 1 from refuge.process_case c where c.id = %I.case_id))', t, t);
    end loop;
end
$children$;
-- a transfer is seen by the sending side (the case) and the receiving side
create policy module_read on refuge.case_transfer for select
    to refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection, refuge_assistance, refuge_supervisor
    using (exists (select 1 from refuge.process_case c where c.id = case_transfer.case_id)
           or (refuge.case_module_of(case_id) = any ((select refuge.caller_modules())::text[])
               and (to_operation = any ((select refuge.scope_operations())::uuid[])
                    or to_site = any ((select refuge.scope_sites())::uuid[]))));
-- notes and documents: not their sealed bytes; for sensitive modules only
-- through the logged read functions
grant select (id, case_id, kind, confidential, body, author, created_at) on refuge.case_note
    to refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection, refuge_assistance, refuge_supervisor;
grant select (id, case_id, title, media_type, size_bytes, sha256, confidential, author, created_at) on refuge.case_document
    to refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection, refuge_assistance, refuge_supervisor;
create policy module_read on refuge.case_note for select
    to refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection, refuge_assistance, refuge_supervisor
    using (exists (select 1 from refuge.process_case c join refuge.case_module m on m.code = c.module
                    where c.id = case_note.case_id and not m.sensitive));
create policy module_read on refuge.case_document for select
    to refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection, refuge_assistance, refuge_supervisor
    using (exists (select 1 from refuge.process_case c join refuge.case_module m on m.code = c.module
                    where c.id = case_document.case_id and not m.sensitive));
-- partners: their organisation's referrals (the content through referred_case)
grant select on refuge.case_referral, refuge.partner_staff to refuge_partner;
create policy partner_read on refuge.case_referral for select to refuge_partner
    using (partner_id = (select refuge.caller_partner()));
create policy partner_read on refuge.partner_staff for select to refuge_partner
    using (role_name = refuge.caller());
grant select on refuge.partner_staff to refuge_admin;
create policy admin_read on refuge.partner_staff for select to refuge_admin using (true);
-- the sensitive-read log: supervisors of the operation
grant select on refuge.sensitive_read to refuge_supervisor;
create policy supervisor_read on refuge.sensitive_read for select to refuge_supervisor
    using (operation_id = any ((select refuge.scope_operations())::uuid[]));

-- Case officers see the people of their operations (registration data, as
-- in proGres) and the members of the cases they work wherever registered.
grant select on refuge.individual, refuge.registration_group, refuge.group_membership
    to refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection;
create policy case_staff_read on refuge.individual for select
    to refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection
    using (operation_id = any ((select refuge.scope_operations())::uuid[])
           or site_id = any ((select refuge.scope_sites())::uuid[])
           or exists (select 1 from refuge.case_member cm where cm.individual_id = individual.id));
create policy case_staff_read on refuge.registration_group for select
    to refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection
    using (operation_id = any ((select refuge.scope_operations())::uuid[])
           or site_id = any ((select refuge.scope_sites())::uuid[])
           or exists (select 1 from refuge.process_case c where c.group_id = registration_group.id));
create policy case_staff_read on refuge.group_membership for select
    to refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection
    using (exists (select 1 from refuge.individual i where i.id = group_membership.individual_id));

-- Stamps and audit; sealed text and document contents only as size and digest.
do $attach$
declare
    t record;
begin
    for t in select * from (values
        ('case_module', array['none']), ('workflow_state', array['none']), ('workflow_transition', array['none']),
        ('referral_field', array['none']), ('vulnerability_factor', array['none']),
        ('process_case', array['self']), ('case_member', array['individual']), ('case_event', array['none']),
        ('case_approval', array['none']), ('case_alert', array['self']),
        ('case_note', array['none', 'sealed']), ('case_document', array['none', 'content', 'sealed']),
        ('case_link', array['none']), ('gbv_incident', array['none', 'sealed']), ('case_transfer', array['none']),
        ('partner_organisation', array['none']), ('partner_staff', array['none']), ('case_referral', array['none']),
        ('sensitive_read', array['self'])) as v(tab, args)
    loop
        if exists (select 1 from pg_catalog.pg_attribute a where a.attrelid = format('refuge.%I', t.tab)::regclass
                    and a.attname = 'updated_at') then
            execute format('create trigger stamp before insert or update on refuge.%I
                            for each row execute function refuge.stamp_row()', t.tab);
        end if;
        execute format('create trigger audit after insert or update or delete on refuge.%I
                        for each row execute function refuge.audit_row(%s)',
                       t.tab, (select string_agg(quote_literal(a), ', ') from unnest(t.args) a));
        execute format('create trigger audit_flush after insert or update or delete on refuge.%I
                        for each statement execute function refuge.audit_flush()', t.tab);
    end loop;
end
$attach$;

-- History is never edited: events, notes, documents, read logs.
create trigger append_only before update or delete on refuge.case_event
    for each row execute function refuge.append_only();
create trigger append_only before update or delete on refuge.case_note
    for each row execute function refuge.append_only();
create trigger append_only before update or delete on refuge.case_document
    for each row execute function refuge.append_only();
create trigger append_only before update or delete on refuge.sensitive_read
    for each row execute function refuge.append_only();

-- pg_dump keeps the data (definitions shipped with the extension: local rows only).
do $dump$
declare
    t text;
begin
    foreach t in array array['process_case', 'case_member', 'case_event', 'case_approval', 'case_alert', 'case_note',
        'case_document', 'case_link', 'gbv_incident', 'case_transfer', 'partner_organisation', 'partner_staff',
        'case_referral', 'sensitive_read', 'audit_seal']
    loop
        perform pg_catalog.pg_extension_config_dump(format('refuge.%I', t)::regclass, '');
    end loop;
    foreach t in array array['case_module', 'workflow_state', 'workflow_transition', 'referral_field', 'vulnerability_factor']
    loop
        perform pg_catalog.pg_extension_config_dump(format('refuge.%I', t)::regclass, 'where not shipped');
    end loop;
end
$dump$;
select pg_catalog.pg_extension_config_dump('refuge.case_number_seq', '');
select pg_catalog.pg_extension_config_dump('refuge.case_event_id_seq', '');
select pg_catalog.pg_extension_config_dump('refuge.sensitive_read_id_seq', '');

-- Functions: owned by refuge_owner, no PUBLIC execute; the API is granted by role.
do $fn$
declare
    f record;
begin
    for f in select p.oid::regprocedure as sig from pg_catalog.pg_proc p
              where p.pronamespace = 'refuge'::regnamespace and p.proowner <> 'refuge_owner'::regrole
    loop
        execute format('alter function %s owner to refuge_owner', f.sig);
        execute format('revoke all on function %s from public', f.sig);
    end loop;
end
$fn$;

-- What policies and the API call as the invoker.
grant execute on function refuge.caller(), refuge.caller_has(name), refuge.caller_is_superuser(),
    refuge.scope_operations(), refuge.scope_sites(), refuge.in_scope(uuid, uuid)
    to refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection, refuge_partner;
grant execute on function refuge.caller_modules(), refuge.may_work_case(text, uuid, uuid), refuge.case_module_of(uuid)
    to refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection, refuge_assistance,
       refuge_supervisor, refuge_partner;
grant execute on function refuge.caller_partner() to refuge_partner, refuge_rsd, refuge_resettlement,
    refuge_protection, refuge_child_protection, refuge_assistance, refuge_supervisor;
grant execute on function refuge.open_case(text, uuid, uuid[], jsonb, text), refuge.transition_case(uuid, text, jsonb, text),
    refuge.assign_case(uuid, name, timestamptz, text), refuge.flag_case(uuid, text, name, text),
    refuge.acknowledge_alert(uuid), refuge.link_case(uuid, text, uuid, text),
    refuge.add_case_note(uuid, text, boolean, text), refuge.read_case_note(uuid, text),
    refuge.add_case_document(uuid, text, text, bytea, boolean), refuge.read_case_document(uuid, text),
    refuge.record_gbv_incident(uuid, jsonb), refuge.read_gbv_incident(uuid, text),
    refuge.request_case_transfer(uuid, text, text, text), refuge.decide_case_transfer(uuid, text, text),
    refuge.refer_case(uuid, text, text[], text, date), refuge.end_referral(uuid, text, text),
    refuge.tracing_matches(uuid, integer)
    to refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection, refuge_assistance, refuge_supervisor;
grant execute on function refuge.decide_approval(uuid, boolean, text) to refuge_supervisor;
grant execute on function refuge.check_overdue(), refuge.seal_audit(), refuge.verify_audit(bigint, text),
    refuge.audit_head() to refuge_supervisor, refuge_admin;
grant execute on function refuge.create_partner(text, text), refuge.assign_partner_staff(name, text) to refuge_admin;
grant execute on function refuge.referred_cases(), refuge.referred_case(uuid, text), refuge.end_referral(uuid, text, text)
    to refuge_partner;
grant execute on function refuge.biometric_templates(uuid, text) to refuge_biometrics_admin;
