-- The record over a refugee's life: the history of every individual's
-- status and population type (queryable by date), the rules by which case
-- decisions change them, and each operation's policy where UNHCR's
-- guidance leaves the choice to it.  The functions are
-- functions/65_lifecycle.sql.

-- Who recognises refugees in an operation: UNHCR under its mandate, or the
-- host government (a recognition records which).
alter table refuge.operation add column rsd_authority text not null default 'MANDATE'
    check (rsd_authority in ('MANDATE', 'GOVERNMENT'));
comment on column refuge.operation.rsd_authority is
    'who determines refugee status in the operation: MANDATE (UNHCR) or GOVERNMENT; recorded with every recognition';

-- One row per period in which a person's status and population type held.
-- [valid_from, valid_to): valid_to is null for the period in force.  Written
-- by a trigger on refuge.individual, never by hand; the context of a change
-- (source, reason, approver, legal basis, effective date) comes from the
-- function that made it (refuge.set_individual_status).
create table refuge.status_history (
    id               uuid primary key default gen_random_uuid(),
    individual_id    uuid not null references refuge.individual,
    operation_id     uuid not null references refuge.operation,
    site_id          uuid not null,
    status           text not null,
    population_type  text not null,
    legal_basis      text,
    recognised_by    text check (recognised_by in ('MANDATE', 'GOVERNMENT')),
    valid_from       date not null,
    valid_to         date,
    reason           text,
    source           text not null check (source in ('REGISTRATION', 'STATUS_CHANGE', 'CASE', 'ADJUDICATION',
                                                     'VERIFICATION', 'UPDATE', 'UPGRADE', 'DIRECT')),
    source_id        uuid,
    actor            name not null default current_user,
    approved_by      name,
    recorded_at      timestamptz not null default now(),
    sync_owner       text not null default refuge.local_node(),
    check (valid_to is null or valid_to >= valid_from)
);
create unique index status_history_current on refuge.status_history (individual_id) where valid_to is null;
create index on refuge.status_history (individual_id, valid_from);
create index on refuge.status_history (operation_id);
comment on table refuge.status_history is
    'each period of an individual''s status and population type, with the legal basis, the reason, who changed it and who approved it (refuge.status_on reads it by date)';
comment on column refuge.status_history.source is
    'what changed it: REGISTRATION, STATUS_CHANGE (approved request), CASE (a case decision, source_id the case), ADJUDICATION, VERIFICATION (absent from exercises), UPDATE (a clerk''s ACTIVE/INACTIVE/HOLD), UPGRADE (history began at 0.10.0), DIRECT (a change outside the API)';
comment on column refuge.status_history.legal_basis is
    'for a recognition: 1951_CONVENTION, OAU_1969, CARTAGENA, MANDATE or COMPLEMENTARY';
alter table refuge.status_history replica identity full;
create policy staff_read on refuge.status_history for select
    to refuge_registration, refuge_supervisor, refuge_rsd, refuge_resettlement, refuge_protection
    using (operation_id = any ((select refuge.scope_operations())::uuid[])
           or site_id = any ((select refuge.scope_sites())::uuid[]));
grant select on refuge.status_history to refuge_registration, refuge_supervisor, refuge_rsd, refuge_resettlement,
    refuge_protection;
select pg_catalog.pg_extension_config_dump('refuge.status_history', '');

-- How case decisions change the status and population type of the case's
-- members.  A rule matches a step (module, action) whose data holds every
-- key of when_data with one of the listed values; a rule of the case's
-- operation replaces the shipped rule for the same step and condition
-- (operation_id null).  to_status / to_population_type null: unchanged.
-- A rule that changes the population type takes effect at once only when
-- the step itself was approved by a second person; otherwise it becomes a
-- status-change request for a supervisor.
create table refuge.status_rule (
    id                  uuid primary key default gen_random_uuid(),
    operation_id        uuid references refuge.operation,
    module              text not null,
    action              text not null,
    when_data           jsonb not null default '{}' check (jsonb_typeof(when_data) = 'object'),
    to_status           text,
    to_population_type  text,
    reason              text not null,
    legal_basis_key     text,
    default_legal_basis text,
    effective_key       text,
    shipped             boolean not null default false,
    check (to_status is not null or to_population_type is not null),
    check (to_status is null or to_status not in ('DUPLICATE', 'ACTIVE'))
);
create unique index status_rule_step on refuge.status_rule
    (coalesce(operation_id, '00000000-0000-0000-0000-000000000000'::uuid), module, action, when_data);
comment on table refuge.status_rule is
    'how a case step changes its members'' status and population type: the shipped rules (operation_id null) and each operation''s policy, which replaces them step by step';
comment on column refuge.status_rule.when_data is
    'conditions on the case data after the step: key -> array of accepted values';
comment on column refuge.status_rule.legal_basis_key is 'the case data key holding the legal basis of a recognition';
comment on column refuge.status_rule.effective_key is 'the case data key holding the date the change takes effect (e.g. departure_date); today without one';
create trigger check_codes before insert or update on refuge.status_rule
    for each row execute function refuge.check_codes('to_status', 'individual_status', 'to_population_type', 'population_type');
create policy read_all on refuge.status_rule for select
    to refuge_registration, refuge_supervisor, refuge_admin, refuge_rsd, refuge_resettlement, refuge_protection
    using (true);
grant select on refuge.status_rule to refuge_registration, refuge_supervisor, refuge_admin, refuge_rsd,
    refuge_resettlement, refuge_protection;
select pg_catalog.pg_extension_config_dump('refuge.status_rule', 'where not shipped');
insert into refuge.status_rule (module, action, when_data, to_status, to_population_type, reason, legal_basis_key,
                                default_legal_basis, effective_key, shipped) values
  -- recognition at first instance or on appeal: refugee, with the legal basis
  ('RSD', 'DECIDE', '{"decision": ["RECOGNIZED"]}', null, 'REF', 'recognised as a refugee (first instance)',
   'legal_basis', '1951_CONVENTION', null, true),
  ('RSD', 'DECIDE', '{"decision": ["COMPLEMENTARY_PROTECTION"]}', null, 'REF', 'complementary protection (first instance)',
   null, 'COMPLEMENTARY', null, true),
  ('RSD', 'DECIDE_APPEAL', '{"appeal_decision": ["RECOGNIZED"]}', null, 'REF', 'recognised as a refugee on appeal',
   'legal_basis', '1951_CONVENTION', null, true),
  ('RSD', 'DECIDE_APPEAL', '{"appeal_decision": ["COMPLEMENTARY_PROTECTION"]}', null, 'REF',
   'complementary protection on appeal', null, 'COMPLEMENTARY', null, true),
  -- final rejection: the claim failed; the record closes as an asylum-seeker's
  ('RSD', 'CLOSE', '{"closure_reason": ["NO_APPEAL", "FINAL_REJECTION"]}', 'CLOSED', 'ASY', 'FINAL_REJECTION',
   null, null, null, true),
  ('RSD', 'ABANDON', '{}', 'CLOSED', null, 'RSD_ABANDONED', null, null, null, true),
  -- refugee status ended
  ('RSD', 'END_STATUS', '{"ending": ["CANCELLED"]}', 'CLOSED', 'ASY', 'STATUS_CANCELLED', null, null, null, true),
  ('RSD', 'END_STATUS', '{"ending": ["REVOKED"]}', 'CLOSED', null, 'STATUS_REVOKED', null, null, null, true),
  ('RSD', 'END_STATUS', '{"ending": ["CEASED"]}', 'CLOSED', null, 'STATUS_CEASED', null, null, null, true),
  -- departures close the record
  ('RESETTLEMENT', 'CONFIRM_DEPARTURE', '{}', 'CLOSED', null, 'RESETTLED', null, null, 'departure_date', true),
  ('VOLREP', 'CONFIRM_DEPARTURE', '{}', 'CLOSED', null, 'VOLUNTARY_REPATRIATION', null, null, 'departed_on', true),
  ('VOLREP', 'SPONTANEOUS_DEPARTURE', '{}', 'CLOSED', null, 'SPONTANEOUS_RETURN', null, null, null, true);

-- Requested changes carry the date they take effect and, for a
-- recognition, its legal basis.
alter table refuge.status_change add column effective_date date;
alter table refuge.status_change add column legal_basis text;
comment on column refuge.status_change.effective_date is 'the date the change takes effect (today when approved, if null)';

-- Replication: a person's history travels with the person; the rules are
-- reference data (HQ's copy is the one in force everywhere).
insert into refuge.sync_table (table_name, kind, up, down, route, parent_table, parent_key, shared) values
    ('status_history', 'personal', true, true, 'operation_id', null, null, false),
    ('status_rule', 'reference', false, true, null, null, null, false);
alter table refuge.status_rule replica identity full;
insert into refuge.audit_scope (table_name, class) values ('status_history', 'registration'), ('status_rule', 'config');
