-- Data protection (issue 18): what personal data is processed for
-- (purposes and their legal basis), the consents and information notices
-- of each person per purpose, and the agreements under which data leaves
-- for partners, governments and resettlement states.  The functions are
-- functions/45_data_protection.sql.

-- Each processing purpose with its legal basis (UNHCR Data Protection
-- Policy 2015, 2.2: consent, vital or best interests, the mandate, legal
-- obligation, public interest, legitimate interest).  A function that
-- processes for a CONSENT purpose refuses without the person's consent.
create table refuge.processing_purpose (
    code             text primary key check (code ~ '^[A-Z][A-Z0-9_]{1,39}$'),
    label            text not null check (length(label) between 1 and 200),
    legal_basis      text not null check (legal_basis in ('CONSENT', 'VITAL_INTEREST', 'MANDATE', 'LEGAL_OBLIGATION',
                                                          'PUBLIC_INTEREST', 'LEGITIMATE_INTEREST')),
    sharing          boolean not null default false,
    description      text check (length(description) <= 2000),
    -- (who changed a purpose when: the audit trail)
    shipped          boolean not null default false
);
comment on table refuge.processing_purpose is
    'processing purposes and their legal basis; CONSENT purposes need the person''s valid consent (refuge.record_consent)';
comment on column refuge.processing_purpose.sharing is 'data leaves UNHCR for this purpose: an agreement must cover it';
create policy read_all on refuge.processing_purpose for select to refuge_registration, refuge_supervisor, refuge_analyst, refuge_admin, refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection, refuge_partner
    using (true);
grant select on refuge.processing_purpose to refuge_registration, refuge_supervisor, refuge_analyst, refuge_admin,
    refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement,
    refuge_protection, refuge_child_protection, refuge_partner;
select pg_catalog.pg_extension_config_dump('refuge.processing_purpose', 'where not shipped');
-- The case modules are purposes of their own (same codes).  An operation
-- changes the legal basis of a shipped purpose with refuge.set_legal_basis
-- (refuge.purpose_legal_basis), adds its own with refuge.define_purpose.
insert into refuge.processing_purpose (code, label, legal_basis, sharing, description, shipped) values
  ('REGISTRATION', 'Registration and the record of a person', 'MANDATE', false,
   'identifying persons of concern, their families and needs', true),
  ('BIOMETRICS', 'Biometric enrolment and identity checks', 'LEGITIMATE_INTEREST', false,
   'preventing double registration and fraud, verifying identity at assistance', true),
  ('ASSISTANCE', 'Assistance and distributions', 'MANDATE', false, 'entitlements, distributions and collection', true),
  ('RSD', 'Refugee status determination', 'MANDATE', false, null, true),
  ('RESETTLEMENT', 'Resettlement case processing', 'MANDATE', false, 'identification, interviews and assessment', true),
  ('BID', 'Best interests procedure for children at risk', 'VITAL_INTEREST', false, 'the best interests of the child', true),
  ('SGBV', 'SGBV incident management', 'CONSENT', false,
   'case management of a survivor, only with the survivor''s informed consent', true),
  ('STATELESSNESS', 'Statelessness determination', 'MANDATE', false, null, true),
  ('TRACING', 'Family tracing', 'VITAL_INTEREST', false, 'restoring family links', true),
  ('VULNERABILITY', 'Vulnerability assessment', 'MANDATE', false, null, true),
  ('VOLREP', 'Voluntary repatriation', 'MANDATE', false, 'counselling and return of those who choose to go home', true),
  ('LOCAL_INTEGRATION', 'Local integration', 'MANDATE', false, null, true),
  ('FRAUD', 'Fraud investigation', 'LEGITIMATE_INTEREST', false, 'the integrity of registration and assistance', true),
  ('REFERRAL', 'Referral of a case to a partner', 'CONSENT', true,
   'sharing the parts of a case a referral names with a partner under an agreement', true),
  ('RESETTLEMENT_SUBMISSION', 'Resettlement submission to a resettlement state', 'CONSENT', true,
   'the Resettlement Registration Form sent to a state under an agreement', true),
  ('GOVERNMENT_SHARING', 'Sharing with the host government', 'LEGAL_OBLIGATION', true,
   'registration data the host state''s law requires, under an agreement', true),
  ('RESEARCH', 'Research on anonymised microdata', 'PUBLIC_INTEREST', true,
   'anonymised extracts only, under an agreement', true),
  ('STATISTICS', 'Publication of aggregate statistics', 'PUBLIC_INTEREST', true,
   'aggregated figures with small cells suppressed (the HXL export), under an agreement', true);

-- The legal basis an operation chose for a shipped purpose instead of the
-- shipped one (e.g. assistance on consent for a cash pilot), and why.
create table refuge.purpose_legal_basis (
    purpose          text primary key references refuge.processing_purpose,
    legal_basis      text not null check (legal_basis in ('CONSENT', 'VITAL_INTEREST', 'MANDATE', 'LEGAL_OBLIGATION',
                                                          'PUBLIC_INTEREST', 'LEGITIMATE_INTEREST')),
    reason           text not null check (length(reason) between 1 and 2000),
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    updated_at       timestamptz not null default now(),
    updated_by       name not null default current_user
);
comment on table refuge.purpose_legal_basis is 'the legal basis chosen for a shipped purpose in place of the shipped one, and why';
create policy read_all on refuge.purpose_legal_basis for select to refuge_registration, refuge_supervisor, refuge_analyst, refuge_admin, refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection, refuge_partner
    using (true);
grant select on refuge.purpose_legal_basis to refuge_registration, refuge_supervisor, refuge_analyst, refuge_admin,
    refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement,
    refuge_protection, refuge_child_protection, refuge_partner;
select pg_catalog.pg_extension_config_dump('refuge.purpose_legal_basis', '');

-- A person's consent to a purpose: given (by the person, or a parent or
-- guardian for a child), how, after which information notice, until when;
-- withdrawn at any time (never deleted: the record of what was allowed
-- when).  A consent to a sharing purpose may be limited to one agreement.
create table refuge.consent (
    id               uuid primary key default gen_random_uuid(),
    individual_id    uuid not null references refuge.individual,
    purpose          text not null references refuge.processing_purpose,
    agreement_id     uuid,
    given_by         text not null default 'SELF' check (given_by in ('SELF', 'PARENT', 'GUARDIAN', 'CAREGIVER')),
    guardian_id      uuid references refuge.individual,
    method           text not null check (method in ('ORAL', 'WRITTEN', 'THUMBPRINT', 'ELECTRONIC')),
    notice_version   text check (length(notice_version) <= 100),
    given_at         timestamptz not null default now(),
    valid_until      date,
    recorded_by      name not null,
    withdrawn_at     timestamptz,
    withdrawn_by     name,
    withdrawal_reason text check (length(withdrawal_reason) <= 2000),
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    updated_at       timestamptz not null default now(),
    updated_by       name not null default current_user,
    sync_owner       text not null default refuge.local_node(),
    sync_operation   uuid,
    check ((withdrawn_at is null) = (withdrawn_by is null)),
    check ((given_by = 'SELF') = (guardian_id is null) or given_by = 'CAREGIVER')
);
create index on refuge.consent (individual_id, purpose) where withdrawn_at is null;
comment on table refuge.consent is
    'consents per person and purpose (who gave it, how, after which notice, until when, withdrawn when and why)';
-- (a consent to a sensitive module's purpose, SGBV, would tell who is a
-- survivor: only that module's staff see it, through refuge.consents)
create policy staff_read on refuge.consent for select to refuge_registration, refuge_supervisor
    using (exists (select 1 from refuge.individual i where (i.id = consent.individual_id))
           and not exists (select 1 from refuge.case_module m where m.code = consent.purpose and m.sensitive));
grant select on refuge.consent to refuge_registration, refuge_supervisor;
select pg_catalog.pg_extension_config_dump('refuge.consent', '');

-- The right to be informed: which notice a person was given, for which
-- purpose, in which language.
create table refuge.information_notice (
    id               uuid primary key default gen_random_uuid(),
    individual_id    uuid not null references refuge.individual,
    purpose          text not null references refuge.processing_purpose,
    notice_version   text not null check (length(notice_version) between 1 and 100),
    language         text check (length(language) <= 20),
    given_at         timestamptz not null default now(),
    given_by         name not null,
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    updated_at       timestamptz not null default now(),
    updated_by       name not null default current_user,
    sync_owner       text not null default refuge.local_node(),
    sync_operation   uuid
);
create index on refuge.information_notice (individual_id);
comment on table refuge.information_notice is 'information notices given to a person per purpose (the right to be informed)';
create policy staff_read on refuge.information_notice for select to refuge_registration, refuge_supervisor
    using (exists (select 1 from refuge.individual i where (i.id = information_notice.individual_id))
           and not exists (select 1 from refuge.case_module m where m.code = information_notice.purpose and m.sensitive));
grant select on refuge.information_notice to refuge_registration, refuge_supervisor;
select pg_catalog.pg_extension_config_dump('refuge.information_notice', '');

-- Data-sharing agreements: with whom (a partner, a government, a
-- resettlement state, researchers), for which purposes, which fields, on
-- which legal basis, from when until when, under which security terms.
-- Every referral and eRRF export names one; it ends access when it
-- expires or is ended.
create table refuge.sharing_agreement (
    id               uuid primary key default gen_random_uuid(),
    code             text not null unique check (code ~ '^[A-Z0-9][A-Z0-9_-]{1,39}$'),
    title            text not null check (length(title) between 1 and 200),
    party_kind       text not null check (party_kind in ('PARTNER', 'GOVERNMENT', 'RESETTLEMENT_STATE', 'RESEARCHER',
                                                      'PUBLIC')),
    partner_id       uuid references refuge.partner_organisation,
    country          text check (country ~ '^[A-Z]{3}$'),
    party_name       text not null check (length(party_name) between 1 and 200),
    purposes         text[] not null check (cardinality(purposes) > 0),
    fields           text[] not null check (cardinality(fields) > 0),
    legal_basis      text not null check (legal_basis in ('CONSENT', 'VITAL_INTEREST', 'MANDATE', 'LEGAL_OBLIGATION',
                                                          'PUBLIC_INTEREST', 'LEGITIMATE_INTEREST')),
    valid_from       date not null,
    valid_until      date not null,
    security_terms   text not null check (length(security_terms) between 1 and 4000),
    signed_by        text not null check (length(signed_by) between 1 and 200),
    signed_on        date not null,
    status           text not null default 'ACTIVE' check (status in ('ACTIVE', 'SUSPENDED', 'TERMINATED')),
    ended_at         timestamptz,
    ended_by         name,
    end_reason       text check (length(end_reason) <= 2000),
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    updated_at       timestamptz not null default now(),
    updated_by       name not null default current_user,
    check ((party_kind = 'PARTNER') = (partner_id is not null)),
    check (party_kind not in ('GOVERNMENT', 'RESETTLEMENT_STATE') or country is not null),
    check (valid_until >= valid_from),
    check ((status = 'ACTIVE') = (ended_at is null) or status = 'SUSPENDED')
);
comment on table refuge.sharing_agreement is
    'data-sharing agreements: party, purposes, fields, legal basis, validity, security terms; referrals and exports name one';
create policy staff_read on refuge.sharing_agreement for select to refuge_registration, refuge_supervisor, refuge_admin, refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection, refuge_dba
    using (true);
-- a partner's staff read their own organisation's agreements only
create policy partner_read on refuge.sharing_agreement for select to refuge_partner
    using (partner_id = refuge.caller_partner());
grant select on refuge.sharing_agreement to refuge_registration, refuge_supervisor, refuge_admin,
    refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement,
    refuge_protection, refuge_child_protection, refuge_partner, refuge_dba;
select pg_catalog.pg_extension_config_dump('refuge.sharing_agreement', '');

alter table refuge.consent add foreign key (agreement_id) references refuge.sharing_agreement;
comment on column refuge.consent.agreement_id is 'a consent to a sharing purpose limited to this agreement (null: any agreement covering the purpose)';

-- Referrals name the agreement they are made under (null for referrals
-- made before 0.12.0: partners no longer read those).
alter table refuge.case_referral add column agreement_id uuid references refuge.sharing_agreement;
comment on column refuge.case_referral.agreement_id is 'the sharing agreement the referral was made under';

-- Anonymised microdata for researchers (the UNHCR Microdata Library
-- practice): an extract of a snapshot's people, quasi-identifiers recoded
-- (age in five-year bands, top-coded; family size banded; arrival year
-- bottom-coded) and locally suppressed until every combination is shared by
-- at least k records, the sensitive attribute suppressed in classes with
-- fewer than l distinct values; with its disclosure-risk report.
create table refuge_warehouse.microdata_extract (
    id               integer generated always as identity primary key,
    snapshot_id      integer not null references refuge_warehouse.snapshot,
    agreement_id     uuid not null references refuge.sharing_agreement,
    k                integer not null check (k between 3 and 100),
    l                integer not null check (l between 2 and 20),
    quasi_identifiers text[] not null,
    sensitive        text not null,
    report           jsonb not null,
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user
);
comment on table refuge_warehouse.microdata_extract is
    'anonymised microdata extracts: snapshot, agreement, k and l, quasi-identifiers, and the disclosure-risk report';
-- (the DBA makes and hands over an extract; analysts read the published tables only)
create policy dba_read on refuge_warehouse.microdata_extract for select to refuge_dba using (true);
grant select on refuge_warehouse.microdata_extract to refuge_dba;
select pg_catalog.pg_extension_config_dump('refuge_warehouse.microdata_extract', '');

create table refuge_warehouse.microdata_record (
    extract_id       integer not null references refuge_warehouse.microdata_extract on delete cascade,
    record           integer not null,
    operation        text,
    sex              text,
    age_band         text,
    origin_country   text,
    family_size      text,
    arrival_year     text,
    population_type  text,
    specific_needs   text,
    primary key (extract_id, record)
);
comment on table refuge_warehouse.microdata_record is
    'the records of an anonymised extract (null: suppressed); every combination of the quasi-identifiers is shared by at least k records';
create policy dba_read on refuge_warehouse.microdata_record for select to refuge_dba using (true);
grant select on refuge_warehouse.microdata_record to refuge_dba;
select pg_catalog.pg_extension_config_dump('refuge_warehouse.microdata_record', '');

-- Aggregate statistics handed out for publication (the HXL export): which
-- snapshot, under which agreement, by whom, when.  Committed by the
-- logging worker before the figures are returned (a rollback keeps it).
create table refuge.publication (
    id               bigint generated always as identity primary key,
    at               timestamptz not null default now(),
    actor            name not null,
    kind             text not null check (kind in ('HXL_POPULATION')),
    snapshot_id      integer not null,
    agreement_id     uuid not null,
    min_cell         integer not null
);
comment on table refuge.publication is
    'aggregate statistics handed out for publication: what, which snapshot, under which agreement, by whom, when';
create trigger append_only before delete or update on refuge.publication
    for each row execute function refuge.append_only();
alter table refuge.publication enable always trigger append_only;
create policy staff_read on refuge.publication for select to refuge_admin, refuge_dba using (true);
grant select on refuge.publication to refuge_admin, refuge_dba;
select pg_catalog.pg_extension_config_dump('refuge.publication', '');
select pg_catalog.pg_extension_config_dump('refuge.publication_id_seq', '');

-- Consents and notices go where the person's record goes (a consent a
-- field clerk records gates HQ's exports; a withdrawal at HQ reaches the
-- field), like the other rows about a person.
alter table refuge.consent replica identity full;
alter table refuge.information_notice replica identity full;
insert into refuge.sync_table (table_name, kind, up, down, route, parent_table, parent_key, shared) values
    ('consent', 'personal', true, true, 'sync_operation', 'individual', 'individual_id', false),
    ('information_notice', 'personal', true, true, 'sync_operation', 'individual', 'individual_id', false);

-- Purposes and agreements are HQ's, sent whole to every field site (where
-- they are read-only), so that referrals replicated there name an agreement
-- the site holds.
insert into refuge.sync_table (table_name, kind, up, down, route, parent_table, parent_key, shared) values
    ('processing_purpose', 'reference', false, true, null, null, null, false),
    ('purpose_legal_basis', 'reference', false, true, null, null, null, false),
    ('sharing_agreement', 'reference', false, true, null, null, null, false);
insert into refuge.audit_scope (table_name, class) values
    ('processing_purpose', 'config'), ('purpose_legal_basis', 'config'), ('sharing_agreement', 'config');

-- Retention: how long each category of data is kept, and what happens
-- then.  Only categories whose every copy can be destroyed are listed: the
-- audit trail keeps of these columns only their size and digest (sealed
-- images and narratives), so the erasure is real and refuge.verify_audit
-- still verifies.  Rules ship inactive: the data protection officer sets
-- the periods (refuge.set_retention), a DBA schedules
-- refuge.apply_retention with pg_cron.
create table refuge.retention_rule (
    category         text primary key,
    label            text not null,
    keep_for         interval not null check (keep_for >= interval '1 day'),
    counted_from     text not null,
    action           text not null check (action in ('ERASE')),
    shipped          boolean not null default false
);
comment on table refuge.retention_rule is
    'retention schedule: the categories of data, the default period (from which event) and what happens then; applied by refuge.apply_retention';
create policy read_all on refuge.retention_rule for select to refuge_registration, refuge_supervisor, refuge_analyst, refuge_admin, refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection, refuge_partner
    using (true);
grant select on refuge.retention_rule to refuge_registration, refuge_supervisor, refuge_analyst, refuge_admin,
    refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement,
    refuge_protection, refuge_child_protection, refuge_partner;
select pg_catalog.pg_extension_config_dump('refuge.retention_rule', 'where not shipped');
insert into refuge.retention_rule (category, label, keep_for, counted_from, action, shipped) values
  ('BIOMETRIC_SOURCE_IMAGES', 'finger and iris images in the vault (the templates stay for deduplication)',
   interval '1 year', 'capture', 'ERASE', true),
  ('FACE_IMAGES_INACTIVE', 'face images of people whose record is closed or who died, with no valid document printing it',
   interval '5 years', 'the status change', 'ERASE', true),
  ('SGBV_NARRATIVES', 'narratives of SGBV incidents (the classification and dates stay for statistics)',
   interval '5 years', 'the closure of the case', 'ERASE', true);

-- The period and state an operation chose for a category (absent: the
-- rule's period, inactive).  Its own table so that a dump keeps it.
create table refuge.retention_setting (
    category         text primary key references refuge.retention_rule,
    keep_for         interval not null check (keep_for >= interval '1 day'),
    active           boolean not null,
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    updated_at       timestamptz not null default now(),
    updated_by       name not null default current_user
);
comment on table refuge.retention_setting is 'the retention period and state chosen for a category (refuge.set_retention)';
create policy read_all on refuge.retention_setting for select to refuge_registration, refuge_supervisor, refuge_analyst, refuge_admin, refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection, refuge_partner
    using (true);
grant select on refuge.retention_setting to refuge_registration, refuge_supervisor, refuge_analyst, refuge_admin,
    refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement,
    refuge_protection, refuge_child_protection, refuge_partner;
select pg_catalog.pg_extension_config_dump('refuge.retention_setting', '');

-- What each run did (never the data): when, who, dry or not, per category
-- how many and from when to when.
create table refuge.retention_run (
    id               bigint generated always as identity primary key,
    run_at           timestamptz not null default now(),
    run_by           name not null,
    dry_run          boolean not null,
    category         text not null,
    action           text not null,
    affected         bigint not null,
    oldest           timestamptz,
    newest           timestamptz,
    note             text
);
comment on table refuge.retention_run is 'what each retention run erased or would erase: category, how many, from when to when (never the data)';
create policy dba_read on refuge.retention_run for select to refuge_dba using (true);
grant select on refuge.retention_run to refuge_dba;
select pg_catalog.pg_extension_config_dump('refuge.retention_run', '');
insert into refuge.audit_scope (table_name, class) values ('retention_rule', 'config'), ('retention_setting', 'config');
create trigger append_only before delete or update on refuge.retention_run
    for each row execute function refuge.append_only();
alter table refuge.retention_run enable always trigger append_only;

-- An SGBV narrative erased by retention (the classification stays).
alter table refuge.gbv_incident add column narrative_erased_at timestamptz;
comment on column refuge.gbv_incident.narrative_erased_at is 'when retention erased the narrative (null: held)';
