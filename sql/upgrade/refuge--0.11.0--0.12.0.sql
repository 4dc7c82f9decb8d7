-- refuge 0.11.0 -> 0.12.0: value-specific name weights in the demographic
-- comparison (how many people share the name a pair agrees on); processing
-- purposes, consent and information notices, data-sharing agreements named
-- by every referral and eRRF export
\echo Use "ALTER EXTENSION refuge UPDATE TO '0.12.0'" to load this file. \quit

-- signatures that change: match_levels (a SQL-standard body) depends on
-- early_levels, so it goes first
drop function refuge.match_levels(uuid, uuid);
drop function refuge.early_levels(refuge.match_profile, refuge.individual, refuge.match_profile, refuge.individual);
drop function refuge.demographic_blocked(refuge.match_profile, integer, integer);
-- a referral and an export name their agreement now
drop function refuge.refer_case(uuid, text, text[], text, date);
drop function refuge.rrf_pdf(uuid);
drop function refuge.rrf_json(uuid);
drop function refuge.rrf_xml(uuid);
drop function refuge.rrf_case(uuid, text);
-- subject access requests and microdata extracts are logged reads
alter table refuge.sensitive_read drop constraint sensitive_read_kind_check;
alter table refuge.sensitive_read add constraint sensitive_read_kind_check
    check (kind in ('case_note', 'case_document', 'gbv_incident', 'case_detail', 'referral', 'biometric_templates',
                    'tracing_search', 'vulnerability_assessment', 'rrf', 'document_match', 'possible_duplicates',
                    'subject_access', 'microdata_extract'));

-- sql/84_data_protection.sql
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
   'anonymised extracts only, under an agreement', true);

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
    updated_by       name not null default current_user
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
    party_kind       text not null check (party_kind in ('PARTNER', 'GOVERNMENT', 'RESETTLEMENT_STATE', 'RESEARCHER')),
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

-- functions/45_data_protection.sql
-- Data protection (issue 18): purposes and consent, information notices,
-- data-sharing agreements (sql/84_data_protection.sql), and the gates the
-- processing functions call.

-- Roles that meet people and record what they were told and agreed to.
create function refuge.consent_roles() returns name[]
    language sql immutable parallel safe
    return array['refuge_registration', 'refuge_supervisor', 'refuge_protection', 'refuge_resettlement', 'refuge_rsd',
                 'refuge_child_protection', 'refuge_assistance']::name[];

-- A person the caller may act for: in their operations, or a member of a
-- case they work.  Raises "<field>: not found in your operations".
create function refuge.person_in_reach(p_individual uuid, p_field text) returns refuge.individual
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    p refuge.individual;
begin
    if p_individual is null then
        perform refuge.raise_field('22004', p_field, 'is required');
    end if;
    select * into p from refuge.individual i where i.id = p_individual;
    perform refuge.require_visible(p.id is not null and (refuge.in_scope(p.operation_id, p.site_id)
        or exists (select 1 from refuge.case_member cm join refuge.process_case c on c.id = cm.case_id
                    where cm.individual_id = p.id and refuge.may_work_case(c.module, c.operation_id, c.site_id))), p_field);
    return p;
end
$$;

-- A purpose by code, or "<field>: unknown purpose" naming the known ones.
create function refuge.purpose_row(p_code text, p_field text) returns refuge.processing_purpose
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    p refuge.processing_purpose;
begin
    select * into p from refuge.processing_purpose x where x.code = p_code;
    if not found then
        perform refuge.raise_field('22023', p_field, format('"%s" is not a processing purpose (%s)', refuge.excerpt(p_code),
            (select string_agg(x.code, ', ' order by x.code) from refuge.processing_purpose x)));
    end if;
    return p;
end
$$;

-- The legal basis in force for a purpose: the operation's choice for a
-- shipped purpose, else the purpose's own (null: no such purpose).
create function refuge.legal_basis_of(p_purpose text) returns text
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    select coalesce((select b.legal_basis from refuge.purpose_legal_basis b where b.purpose = p_purpose),
                    (select p.legal_basis from refuge.processing_purpose p where p.code = p_purpose));
end;
comment on function refuge.legal_basis_of(text) is 'the legal basis in force for a processing purpose';
grant execute on function refuge.legal_basis_of(text) to refuge_registration, refuge_supervisor,
    refuge_admin, refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement,
    refuge_protection, refuge_child_protection, refuge_partner;

-- Change the legal basis of a shipped purpose (refuge_admin), with the
-- reason; null restores the shipped one.
create function refuge.set_legal_basis(purpose text, legal_basis text, reason text) returns text
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    pur refuge.processing_purpose;
begin
    perform refuge.authorize('refuge_admin', 'set_legal_basis');
    pur := refuge.purpose_row(set_legal_basis.purpose, 'purpose');
    perform refuge.require_text(reason, 'reason');
    if length(reason) > 2000 then
        perform refuge.raise_field('22001', 'reason', 'is longer than 2000 characters');
    end if;
    -- what rests on consent as shipped (SGBV case work, referrals, resettlement
    -- submissions) stays so: leaving it would make withdrawn or missing
    -- consents count again
    if pur.shipped and pur.legal_basis = 'CONSENT' and legal_basis is distinct from 'CONSENT' then
        perform refuge.raise_field('55000', 'purpose', format('%s rests on consent: its legal basis does not change', pur.code));
    end if;
    if legal_basis is null then
        delete from refuge.purpose_legal_basis b where b.purpose = pur.code;
        return pur.legal_basis;
    end if;
    if legal_basis not in ('CONSENT', 'VITAL_INTEREST', 'MANDATE', 'LEGAL_OBLIGATION', 'PUBLIC_INTEREST', 'LEGITIMATE_INTEREST') then
        perform refuge.raise_field('22023', 'legal_basis', format('"%s" is not one of CONSENT, VITAL_INTEREST, MANDATE, '
            'LEGAL_OBLIGATION, PUBLIC_INTEREST, LEGITIMATE_INTEREST', refuge.excerpt(legal_basis)));
    end if;
    insert into refuge.purpose_legal_basis as b (purpose, legal_basis, reason)
    values (pur.code, legal_basis, reason)
    on conflict on constraint purpose_legal_basis_pkey do update set legal_basis = excluded.legal_basis, reason = excluded.reason;
    return legal_basis;
end
$$;
comment on function refuge.set_legal_basis(text, text, text) is
    'change the legal basis of a processing purpose (e.g. ASSISTANCE on CONSENT for a pilot), with the reason; null restores the shipped one';
grant execute on function refuge.set_legal_basis(text, text, text) to refuge_admin;

-- May the caller handle consents to this purpose for this person?  A
-- purpose that is a sensitive module (SGBV) is that module's staff's only:
-- a consent to it would tell who is a survivor.
create function refuge.purpose_in_reach(p_purpose text, p refuge.individual) returns boolean
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    select not exists (select 1 from refuge.case_module m where m.code = p_purpose and m.sensitive)
        or refuge.may_work_case(p_purpose, p.operation_id, p.site_id);
end;

-- Does this person hold a valid consent to this purpose (for this
-- agreement, when the consent names one)?
create function refuge.valid_consent(p_individual uuid, p_purpose text, p_agreement uuid default null) returns boolean
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    select exists (select 1 from refuge.consent c
                    where c.individual_id = p_individual and c.purpose = p_purpose and c.withdrawn_at is null
                      and (c.valid_until is null or c.valid_until >= current_date)
                      and (c.agreement_id is null or c.agreement_id is not distinct from p_agreement));
end;

-- The gate every processing function calls: a purpose whose legal basis
-- is consent is refused without the person's valid consent, naming the
-- purpose.  Other purposes pass (their basis is recorded with them).
create function refuge.require_consent(p_individual uuid, p_purpose text, p_field text, p_agreement uuid default null)
    returns void
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    p refuge.processing_purpose;
begin
    select * into p from refuge.processing_purpose x where x.code = p_purpose;
    if not found or refuge.legal_basis_of(p_purpose) <> 'CONSENT'
       or refuge.valid_consent(p_individual, p_purpose, p_agreement) then
        return;
    end if;
    perform refuge.raise_field('55000', p_field,
        format('%s has no valid consent to purpose %s (%s), whose legal basis is consent',
               coalesce((select i.number from refuge.individual i where i.id = p_individual), 'the person'), p.code, p.label),
        'record it with refuge.record_consent once the person (or their parent or guardian) agrees');
end
$$;

-- Define a purpose of the operation's own (the shipped ones change with a release).
create function refuge.define_purpose(code text, label text, legal_basis text, sharing boolean default false,
                                      description text default null)
    returns void
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    perform refuge.authorize('refuge_admin', 'define_purpose');
    if code is null or code !~ '^[A-Z][A-Z0-9_]{1,39}$' then
        perform refuge.raise_field('22023', 'code', format('"%s" is not 2 to 40 capital letters, digits or _', refuge.excerpt(code)));
    end if;
    perform refuge.require_text(label, 'label');
    if length(label) > 200 or length(description) > 2000 then
        perform refuge.raise_field('22001', case when length(label) > 200 then 'label' else 'description' end,
                                   'is too long (label 200, description 2000 characters)');
    end if;
    if legal_basis is null or legal_basis not in ('CONSENT', 'VITAL_INTEREST', 'MANDATE', 'LEGAL_OBLIGATION',
                                                  'PUBLIC_INTEREST', 'LEGITIMATE_INTEREST') then
        perform refuge.raise_field('22023', 'legal_basis', format('"%s" is not one of CONSENT, VITAL_INTEREST, MANDATE, '
            'LEGAL_OBLIGATION, PUBLIC_INTEREST, LEGITIMATE_INTEREST', refuge.excerpt(legal_basis)));
    end if;
    if exists (select 1 from refuge.processing_purpose p where p.code = define_purpose.code and p.shipped) then
        perform refuge.raise_field('55000', 'code', format('%s is shipped with Refuge: change its legal basis with refuge.set_legal_basis', code));
    end if;
    insert into refuge.processing_purpose as p (code, label, legal_basis, sharing, description)
    values (code, left(label, 200), legal_basis, coalesce(sharing, false), left(description, 2000))
    on conflict on constraint processing_purpose_pkey do update
       set label = excluded.label, legal_basis = excluded.legal_basis, sharing = excluded.sharing,
           description = excluded.description;
end
$$;
comment on function refuge.define_purpose(text, text, text, boolean, text) is
    'add or change a processing purpose of the operation''s own, with its legal basis';
grant execute on function refuge.define_purpose(text, text, text, boolean, text) to refuge_admin;

-- Record that a person (or their parent or guardian) consented to a purpose.
create function refuge.record_consent(individual_id uuid, purpose text, method text default 'ORAL',
                                      given_by text default 'SELF', guardian_id uuid default null,
                                      notice_version text default null, valid_until date default null,
                                      agreement text default null)
    returns uuid
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    p refuge.individual;
    pur refuge.processing_purpose;
    a refuge.sharing_agreement;
    new_id uuid;
begin
    perform refuge.authorize_any(refuge.consent_roles(), 'record_consent');
    p := refuge.person_in_reach(record_consent.individual_id, 'individual_id');
    pur := refuge.purpose_row(record_consent.purpose, 'purpose');
    if not refuge.purpose_in_reach(pur.code, p) then
        raise exception using errcode = '42501',
            message = format('record_consent: consents to %s are recorded by the staff of that module', pur.code);
    end if;
    if method is null or method not in ('ORAL', 'WRITTEN', 'THUMBPRINT', 'ELECTRONIC') then
        perform refuge.raise_field('22023', 'method', format('"%s" is not ORAL, WRITTEN, THUMBPRINT or ELECTRONIC', refuge.excerpt(method)));
    end if;
    if given_by is null or given_by not in ('SELF', 'PARENT', 'GUARDIAN', 'CAREGIVER') then
        perform refuge.raise_field('22023', 'given_by', format('"%s" is not SELF, PARENT, GUARDIAN or CAREGIVER', refuge.excerpt(given_by)));
    end if;
    if given_by in ('PARENT', 'GUARDIAN') and guardian_id is null then
        perform refuge.raise_field('22004', 'guardian_id', format('is required when consent is given by a %s', lower(given_by)));
    end if;
    if given_by = 'SELF' and guardian_id is not null then
        perform refuge.raise_field('22023', 'guardian_id', 'must be empty when the person consents themselves');
    end if;
    if guardian_id is not null then
        perform refuge.person_in_reach(guardian_id, 'guardian_id');
        if guardian_id = p.id then
            perform refuge.raise_field('22023', 'guardian_id', 'is the person themselves');
        end if;
    end if;
    if valid_until is not null and valid_until < current_date then
        perform refuge.raise_field('22008', 'valid_until', format('%s is in the past', refuge.iso(valid_until)));
    end if;
    if notice_version is not null and (btrim(notice_version) = '' or length(notice_version) > 100) then
        perform refuge.raise_field('22023', 'notice_version', 'must be 1 to 100 characters');
    end if;
    if agreement is not null then
        select * into a from refuge.sharing_agreement x where x.code = agreement;
        if not found then
            perform refuge.raise_field('23503', 'agreement', format('unknown agreement "%s"', refuge.excerpt(agreement)));
        end if;
        if not pur.code = any (a.purposes) then
            perform refuge.raise_field('22023', 'agreement', format('%s does not cover purpose %s', a.code, pur.code));
        end if;
    end if;
    insert into refuge.consent (individual_id, purpose, agreement_id, given_by, guardian_id, method, notice_version,
                                valid_until, recorded_by)
    values (p.id, pur.code, a.id, given_by, guardian_id, method, btrim(notice_version), valid_until, refuge.caller())
    returning id into new_id;
    if notice_version is not null then
        insert into refuge.information_notice (individual_id, purpose, notice_version, given_by)
        values (p.id, pur.code, btrim(notice_version), refuge.caller());
    end if;
    return new_id;
end
$$;
comment on function refuge.record_consent(uuid, text, text, text, uuid, text, date, text) is
    'record a person''s consent to a purpose (given by them or a parent or guardian, how, after which notice, until when, for one agreement or any)';
grant execute on function refuge.record_consent(uuid, text, text, text, uuid, text, date, text) to refuge_registration,
    refuge_supervisor, refuge_protection, refuge_resettlement, refuge_rsd, refuge_child_protection, refuge_assistance;

-- Withdraw every valid consent of a person to a purpose.  Takes effect at
-- once: the referrals of the person's cases made for that purpose are
-- revoked; exports and openings check consent at every call.
create function refuge.withdraw_consent(individual_id uuid, purpose text, reason text) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    p refuge.individual;
    pur refuge.processing_purpose;
    n integer;
    revoked integer := 0;
    seen integer := 0;
    r record;
    c refuge.process_case;
begin
    perform refuge.authorize_any(refuge.consent_roles(), 'withdraw_consent');
    p := refuge.person_in_reach(withdraw_consent.individual_id, 'individual_id');
    pur := refuge.purpose_row(withdraw_consent.purpose, 'purpose');
    if not refuge.purpose_in_reach(pur.code, p) then
        raise exception using errcode = '42501',
            message = format('withdraw_consent: consents to %s are withdrawn through the staff of that module', pur.code);
    end if;
    perform refuge.require_text(reason, 'reason');
    if length(reason) > 2000 then
        perform refuge.raise_field('22001', 'reason', 'is longer than 2000 characters');
    end if;
    update refuge.consent x set withdrawn_at = now(), withdrawn_by = refuge.caller(), withdrawal_reason = reason
     where x.individual_id = p.id and x.purpose = pur.code and x.withdrawn_at is null;
    get diagnostics n = row_count;
    if n = 0 then
        perform refuge.raise_field('55000', 'purpose', format('%s holds no consent to %s to withdraw', p.number, pur.code));
    end if;
    -- the referrals of the person's cases that no longer rest on a consent
    -- of everyone whose data they share end now (the reason stays here:
    -- the partner reads only that consent was withdrawn)
    if pur.code = 'REFERRAL' then
        for r in select x.*, pc.module, pc.operation_id as op, pc.site_id as site
                   from refuge.case_referral x join refuge.process_case pc on pc.id = x.case_id
                  where x.status = 'ACTIVE'
                    and exists (select 1 from refuge.case_member cm where cm.case_id = x.case_id and cm.individual_id = p.id)
                  order by x.referred_at
                    for update of x loop
            continue when refuge.referral_consented(r.case_id, r.fields, r.agreement_id);
            select * into c from refuge.process_case pc where pc.id = r.case_id;
            update refuge.case_referral x set status = 'REVOKED', ended_by = refuge.caller(), ended_at = now(),
                                              end_reason = 'consent to referral withdrawn'
             where x.id = r.id;
            perform refuge.note_case_event(c, 'REFERRAL_REVOKED', 'consent to referral withdrawn',
                                           jsonb_build_object('referral_id', r.id));
            revoked := revoked + 1;
            -- (counted for the caller only where they work the case: a
            -- count would otherwise tell of an SGBV referral)
            if refuge.may_work_case(r.module, r.op, r.site) then
                seen := seen + 1;
            end if;
        end loop;
    -- consent to a module's case work withdrawn: nothing of those cases is
    -- shared any more (the case itself stays, for its staff to close)
    elsif exists (select 1 from refuge.case_module m where m.code = pur.code) then
        for c in select pc.* from refuge.process_case pc
                  where pc.principal_id = p.id and pc.module = pur.code
                    and exists (select 1 from refuge.case_referral x where x.case_id = pc.id and x.status = 'ACTIVE')
                    for update loop
            seen := seen + refuge.revoke_referrals_without_consent(c, 'consent to ' || lower(pur.code) || ' case work withdrawn');
        end loop;
    end if;
    return jsonb_build_object('individual_id', p.id, 'purpose', pur.code, 'consents_withdrawn', n,
                              'referrals_revoked', seen);
end
$$;
comment on function refuge.withdraw_consent(uuid, text, text) is
    'withdraw a person''s consent to a purpose, at once: referrals resting on it are revoked, exports and case openings refused';
grant execute on function refuge.withdraw_consent(uuid, text, text) to refuge_registration, refuge_supervisor,
    refuge_protection, refuge_resettlement, refuge_rsd, refuge_child_protection, refuge_assistance;

-- Record that a person was given an information notice for a purpose.
create function refuge.record_notice(individual_id uuid, purpose text, notice_version text, language text default null)
    returns uuid
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    p refuge.individual;
    pur refuge.processing_purpose;
    new_id uuid;
begin
    perform refuge.authorize_any(refuge.consent_roles(), 'record_notice');
    p := refuge.person_in_reach(record_notice.individual_id, 'individual_id');
    pur := refuge.purpose_row(record_notice.purpose, 'purpose');
    if not refuge.purpose_in_reach(pur.code, p) then
        raise exception using errcode = '42501',
            message = format('record_notice: notices of %s are recorded by the staff of that module', pur.code);
    end if;
    if notice_version is null or btrim(notice_version) = '' or length(notice_version) > 100 then
        perform refuge.raise_field('22023', 'notice_version', 'must be 1 to 100 characters');
    end if;
    if language is not null and language !~ '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$' then
        perform refuge.raise_field('22023', 'language', format('"%s" is not a language tag (ar, so, fr-CD)', refuge.excerpt(language)));
    end if;
    insert into refuge.information_notice (individual_id, purpose, notice_version, language, given_by)
    values (p.id, pur.code, btrim(notice_version), language, refuge.caller())
    returning id into new_id;
    return new_id;
end
$$;
comment on function refuge.record_notice(uuid, text, text, text) is
    'record that a person was informed (notice version, language) about a processing purpose';
grant execute on function refuge.record_notice(uuid, text, text, text) to refuge_registration, refuge_supervisor,
    refuge_protection, refuge_resettlement, refuge_rsd, refuge_child_protection, refuge_assistance;

-- A person's consents and notices, for anyone who may act for them.
create function refuge.consents(individual_id uuid)
    returns table (purpose text, label text, legal_basis text, status text, given_at timestamptz, given_by text,
                   method text, notice_version text, valid_until date, agreement text, withdrawn_at timestamptz,
                   withdrawal_reason text)
    language plpgsql stable security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    p refuge.individual;
begin
    perform refuge.authorize_any(refuge.consent_roles(), 'consents');
    p := refuge.person_in_reach(consents.individual_id, 'individual_id');
    return query
    select c.purpose, pp.label, refuge.legal_basis_of(pp.code),
           case when c.withdrawn_at is not null then 'WITHDRAWN'
                when c.valid_until < current_date then 'EXPIRED' else 'VALID' end,
           c.given_at, c.given_by, c.method, c.notice_version, c.valid_until, a.code, c.withdrawn_at, c.withdrawal_reason
      from refuge.consent c
      join refuge.processing_purpose pp on pp.code = c.purpose
      left join refuge.sharing_agreement a on a.id = c.agreement_id
     where c.individual_id = p.id and refuge.purpose_in_reach(c.purpose, p)
     order by c.purpose, c.given_at;
end
$$;
comment on function refuge.consents(uuid) is
    'a person''s consents per purpose: VALID, EXPIRED or WITHDRAWN, who gave them, how, until when';
grant execute on function refuge.consents(uuid) to refuge_registration, refuge_supervisor, refuge_protection,
    refuge_resettlement, refuge_rsd, refuge_child_protection, refuge_assistance;

-- The fields an agreement can cover: the parts of a referral, RRF (the
-- whole Resettlement Registration Form, photos included) and MICRODATA (an
-- anonymised extract, refuge.microdata_extract).
create function refuge.shareable_fields() returns text[]
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    select array_agg(x.code order by x.code)
      from (select f.code from refuge.referral_field f union select 'RRF' union select 'MICRODATA') x;
end;

-- Define a data-sharing agreement (refuge_admin): the JSON object's
-- fields are the table's (partner by code).
create function refuge.define_agreement(agreement jsonb) returns uuid
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    a refuge.sharing_agreement;
    k text;
    x text;
    new_id uuid;
begin
    perform refuge.authorize('refuge_admin', 'define_agreement');
    if agreement is null or jsonb_typeof(agreement) <> 'object' then
        perform refuge.raise_field('22023', 'agreement', 'must be a JSON object');
    end if;
    for k in select jsonb_object_keys(agreement) loop
        if k not in ('code', 'title', 'party_kind', 'partner', 'country', 'party_name', 'purposes', 'fields', 'legal_basis',
                     'valid_from', 'valid_until', 'security_terms', 'signed_by', 'signed_on') then
            perform refuge.raise_field('22023', 'agreement.' || refuge.excerpt(k), 'is not a field of an agreement');
        end if;
    end loop;
    foreach k in array array['code', 'title', 'party_kind', 'party_name', 'legal_basis', 'valid_from', 'valid_until',
                             'security_terms', 'signed_by', 'signed_on'] loop
        if jsonb_typeof(agreement -> k) is distinct from 'string' or btrim(agreement ->> k) = '' then
            perform refuge.raise_field('22004', 'agreement.' || k, 'is required (a string)');
        end if;
    end loop;
    a.code := agreement ->> 'code';
    if a.code !~ '^[A-Z0-9][A-Z0-9_-]{1,39}$' then
        perform refuge.raise_field('22023', 'agreement.code', format('"%s" is not 2 to 40 capital letters, digits, - or _', refuge.excerpt(a.code)));
    end if;
    if exists (select 1 from refuge.sharing_agreement s where s.code = a.code) then
        perform refuge.raise_field('23505', 'agreement.code', format('%s exists already', a.code));
    end if;
    foreach k in array array['title', 'party_name', 'signed_by', 'security_terms'] loop
        if length(agreement ->> k) > (case when k = 'security_terms' then 4000 else 200 end) then
            perform refuge.raise_field('22001', 'agreement.' || k, format('is longer than %s characters',
                                       (case when k = 'security_terms' then 4000 else 200 end)));
        end if;
    end loop;
    a.title := agreement ->> 'title';
    a.party_kind := agreement ->> 'party_kind';
    if a.party_kind not in ('PARTNER', 'GOVERNMENT', 'RESETTLEMENT_STATE', 'RESEARCHER') then
        perform refuge.raise_field('22023', 'agreement.party_kind', format('"%s" is not PARTNER, GOVERNMENT, RESETTLEMENT_STATE or RESEARCHER',
                                                                        refuge.excerpt(a.party_kind)));
    end if;
    if a.party_kind = 'PARTNER' then
        select p.id into a.partner_id from refuge.partner_organisation p where p.code = agreement ->> 'partner';
        if a.partner_id is null then
            perform refuge.raise_field('23503', 'agreement.partner', format('unknown partner "%s"', refuge.excerpt(agreement ->> 'partner')));
        end if;
    elsif agreement ? 'partner' then
        perform refuge.raise_field('22023', 'agreement.partner', format('is for a PARTNER agreement, not %s', a.party_kind));
    end if;
    a.country := agreement ->> 'country';
    if a.party_kind in ('GOVERNMENT', 'RESETTLEMENT_STATE') and a.country is null then
        perform refuge.raise_field('22004', 'agreement.country', format('is required for a %s agreement (ISO 3166 alpha-3)', a.party_kind));
    end if;
    if a.party_kind in ('GOVERNMENT', 'RESETTLEMENT_STATE') and not refuge.code_exists('country', a.country) then
        perform refuge.raise_field('22023', 'agreement.country', format('"%s" is not a country code (ISO 3166 alpha-3)', refuge.excerpt(a.country)));
    end if;
    a.party_name := agreement ->> 'party_name';
    if jsonb_typeof(agreement -> 'purposes') is distinct from 'array' or jsonb_array_length(agreement -> 'purposes') = 0 then
        perform refuge.raise_field('22004', 'agreement.purposes', 'is required (a non-empty list of purposes)');
    end if;
    for x in select jsonb_array_elements_text(agreement -> 'purposes') loop
        if not exists (select 1 from refuge.processing_purpose p where p.code = x and p.sharing) then
            perform refuge.raise_field('22023', 'agreement.purposes', format('"%s" is not a sharing purpose (%s)', refuge.excerpt(x),
                (select string_agg(p.code, ', ' order by p.code) from refuge.processing_purpose p where p.sharing)));
        end if;
    end loop;
    a.purposes := array(select distinct jsonb_array_elements_text(agreement -> 'purposes') order by 1);
    if jsonb_typeof(agreement -> 'fields') is distinct from 'array' or jsonb_array_length(agreement -> 'fields') = 0 then
        perform refuge.raise_field('22004', 'agreement.fields', 'is required (a non-empty list of fields)');
    end if;
    for x in select jsonb_array_elements_text(agreement -> 'fields') loop
        if not x = any (refuge.shareable_fields()) then
            perform refuge.raise_field('22023', 'agreement.fields', format('"%s" is not one of %s', refuge.excerpt(x),
                                                                         array_to_string(refuge.shareable_fields(), ', ')));
        end if;
    end loop;
    a.fields := array(select distinct jsonb_array_elements_text(agreement -> 'fields') order by 1);
    a.legal_basis := agreement ->> 'legal_basis';
    if a.legal_basis not in ('CONSENT', 'VITAL_INTEREST', 'MANDATE', 'LEGAL_OBLIGATION', 'PUBLIC_INTEREST', 'LEGITIMATE_INTEREST') then
        perform refuge.raise_field('22023', 'agreement.legal_basis', format('"%s" is not one of CONSENT, VITAL_INTEREST, MANDATE, '
            'LEGAL_OBLIGATION, PUBLIC_INTEREST, LEGITIMATE_INTEREST', refuge.excerpt(a.legal_basis)));
    end if;
    a.valid_from := refuge.arg_date(agreement, 'valid_from', 'agreement', true, false);
    a.valid_until := refuge.arg_date(agreement, 'valid_until', 'agreement', true, false);
    a.signed_on := refuge.arg_date(agreement, 'signed_on', 'agreement', true, true);
    if a.valid_until < a.valid_from then
        perform refuge.raise_field('22008', 'agreement.valid_until', format('%s is before valid_from', refuge.iso(a.valid_until)));
    end if;
    if a.valid_until < current_date then
        perform refuge.raise_field('22008', 'agreement.valid_until', format('%s is in the past', refuge.iso(a.valid_until)));
    end if;
    a.security_terms := agreement ->> 'security_terms';
    a.signed_by := agreement ->> 'signed_by';
    insert into refuge.sharing_agreement (code, title, party_kind, partner_id, country, party_name, purposes, fields,
                                          legal_basis, valid_from, valid_until, security_terms, signed_by, signed_on)
    values (a.code, a.title, a.party_kind, a.partner_id, case when a.party_kind in ('GOVERNMENT', 'RESETTLEMENT_STATE') then a.country end,
            a.party_name, a.purposes, a.fields, a.legal_basis, a.valid_from, a.valid_until, a.security_terms, a.signed_by,
            a.signed_on)
    returning id into new_id;
    return new_id;
end
$$;
comment on function refuge.define_agreement(jsonb) is
    'define a data-sharing agreement: code, title, party_kind, partner or country, party_name, purposes, fields, legal_basis, valid_from, valid_until, security_terms, signed_by, signed_on';
grant execute on function refuge.define_agreement(jsonb) to refuge_admin;

-- Suspend, resume or terminate an agreement.  Termination revokes the
-- referrals made under it; a suspended agreement's referrals cannot be read.
create function refuge.set_agreement_status(agreement text, status text, reason text) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    a refuge.sharing_agreement;
    c refuge.process_case;
    r refuge.case_referral;
    revoked integer := 0;
begin
    perform refuge.authorize('refuge_admin', 'set_agreement_status');
    if status is null or status not in ('ACTIVE', 'SUSPENDED', 'TERMINATED') then
        perform refuge.raise_field('22023', 'status', format('"%s" is not ACTIVE, SUSPENDED or TERMINATED', refuge.excerpt(status)));
    end if;
    perform refuge.require_text(reason, 'reason');
    select * into a from refuge.sharing_agreement x where x.code = agreement for update;
    if not found then
        perform refuge.raise_field('23503', 'agreement', format('unknown agreement "%s"', refuge.excerpt(agreement)));
    end if;
    if a.status = 'TERMINATED' then
        perform refuge.raise_field('55000', 'agreement', format('%s is terminated', a.code));
    end if;
    update refuge.sharing_agreement x
       set status = set_agreement_status.status,
           ended_at = case when set_agreement_status.status = 'ACTIVE' then null else now() end,
           ended_by = case when set_agreement_status.status = 'ACTIVE' then null else refuge.caller() end,
           end_reason = left(reason, 2000)
     where x.id = a.id;
    if status = 'TERMINATED' then
        for r in select * from refuge.case_referral x where x.agreement_id = a.id and x.status = 'ACTIVE' for update loop
            select * into c from refuge.process_case p where p.id = r.case_id;
            update refuge.case_referral x set status = 'REVOKED', ended_by = refuge.caller(), ended_at = now(),
                                              end_reason = 'agreement ' || a.code || ' terminated'
             where x.id = r.id;
            perform refuge.note_case_event(c, 'REFERRAL_REVOKED', 'agreement ' || a.code || ' terminated',
                                           jsonb_build_object('referral_id', r.id));
            revoked := revoked + 1;
        end loop;
    end if;
    return jsonb_build_object('agreement', a.code, 'status', status, 'referrals_revoked', revoked);
end
$$;
comment on function refuge.set_agreement_status(text, text, text) is
    'suspend, resume or terminate a sharing agreement (termination revokes its referrals), with the reason';
grant execute on function refuge.set_agreement_status(text, text, text) to refuge_admin;

-- Is an agreement in force today?
create function refuge.agreement_in_force(a refuge.sharing_agreement) returns boolean
    language sql stable
    return a.id is not null and a.status = 'ACTIVE' and current_date between a.valid_from and a.valid_until;
comment on function refuge.agreement_in_force(refuge.sharing_agreement) is
    'is this sharing agreement active and within its validity today?';
grant execute on function refuge.agreement_in_force(refuge.sharing_agreement) to refuge_registration, refuge_supervisor,
    refuge_admin, refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd,
    refuge_resettlement, refuge_protection, refuge_child_protection, refuge_partner;

-- The agreement a transfer names, or an error saying why it does not cover
-- it: unknown, not in force, with another party, for other purposes, not
-- these fields.
create function refuge.agreement_for(p_code text, p_party_kind text, p_partner uuid, p_purpose text, p_fields text[],
                                     p_field text)
    returns refuge.sharing_agreement
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    a refuge.sharing_agreement;
    missing text;
begin
    if p_code is null then
        perform refuge.raise_field('22004', p_field, format('is required: name the sharing agreement that covers purpose %s', p_purpose),
                                   'refuge_admin defines agreements with refuge.define_agreement');
    end if;
    -- (locked until the transfer commits: a termination waits for it, then revokes it)
    select * into a from refuge.sharing_agreement x where x.code = p_code for share;
    if not found then
        perform refuge.raise_field('23503', p_field, format('unknown agreement "%s"', refuge.excerpt(p_code)));
    end if;
    if a.status <> 'ACTIVE' then
        perform refuge.raise_field('55000', p_field, format('%s is %s', a.code, lower(a.status)));
    end if;
    if current_date < a.valid_from then
        perform refuge.raise_field('55000', p_field, format('%s is in force from %s', a.code, refuge.iso(a.valid_from)));
    end if;
    if current_date > a.valid_until then
        perform refuge.raise_field('55000', p_field, format('%s expired on %s', a.code, refuge.iso(a.valid_until)));
    end if;
    if a.party_kind <> p_party_kind or (p_partner is not null and a.partner_id is distinct from p_partner) then
        perform refuge.raise_field('22023', p_field, format('%s is an agreement with %s (%s), not with this %s', a.code,
                                                          a.party_name, lower(a.party_kind), lower(replace(p_party_kind, '_', ' '))));
    end if;
    if not p_purpose = any (a.purposes) then
        perform refuge.raise_field('22023', p_field, format('%s does not cover purpose %s (only %s)', a.code, p_purpose,
                                                          array_to_string(a.purposes, ', ')));
    end if;
    select string_agg(f, ', ' order by f) into missing from unnest(p_fields) f where not f = any (a.fields);
    if missing is not null then
        perform refuge.raise_field('22023', p_field, format('%s does not cover %s (only %s)', a.code, missing,
                                                          array_to_string(a.fields, ', ')));
    end if;
    return a;
end
$$;

-- The sharing agreements in force a caller may name, with their terms.
create function refuge.agreements(include_ended boolean default false)
    returns table (code text, title text, party_kind text, party_name text, partner text, country text, purposes text[],
                   fields text[], legal_basis text, valid_from date, valid_until date, status text, in_force boolean)
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    select a.code, a.title, a.party_kind, a.party_name, p.code, a.country, a.purposes, a.fields, a.legal_basis,
           a.valid_from, a.valid_until, a.status, refuge.agreement_in_force(a)
      from refuge.sharing_agreement a left join refuge.partner_organisation p on p.id = a.partner_id
     where include_ended or refuge.agreement_in_force(a)
     order by a.code;
end;
comment on function refuge.agreements(boolean) is
    'sharing agreements (those in force, or all) with parties, purposes, fields and validity, as far as the caller may read them';
grant execute on function refuge.agreements(boolean) to refuge_registration, refuge_supervisor,
    refuge_admin, refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement,
    refuge_protection, refuge_child_protection, refuge_partner;

-- A row as the subject sees it: without internal keys and bookkeeping.
create function refuge.subject_row(j jsonb) returns jsonb
    language sql immutable parallel safe
    return jsonb_strip_nulls(j - array['id', 'individual_id', 'operation_id', 'site_id', 'group_id', 'case_id', 'created_by',
                                       'updated_at', 'updated_by', 'sync_operation', 'sync_shared', 'sync_owner', 'sealed',
                                       'template', 'content', 'capture_id', 'identity_id', 'seq', 'agreement_id',
                                       'guardian_id', 'partner_id', 'entitlement_id', 'event_id', 'verification_id', 'alert_id']);

-- Everything Refuge holds on a person, for their request of access (Policy
-- 2015, 3.3), in the structure the README documents: biodata, names,
-- family, needs, documents, legal status, cases (those they are the
-- principal of; of others, only non-sensitive modules; never notes, files
-- or assessments; a sensitive module's only when the caller works it),
-- assistance, biometric enrolment facts (never templates or images),
-- documents issued, consents and notices, referrals, and who read their
-- sensitive records.  The request is logged durably.
create function refuge.subject_access(individual_id uuid) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    p refuge.individual;
    res jsonb;
begin
    perform refuge.authorize_any(array['refuge_supervisor', 'refuge_protection']::name[], 'subject_access');
    if subject_access.individual_id is null then
        perform refuge.raise_field('22004', 'individual_id', 'is required');
    end if;
    select * into p from refuge.individual i where i.id = subject_access.individual_id;
    perform refuge.require_visible(p.id is not null and refuge.in_scope(p.operation_id, p.site_id), 'individual_id');
    res := jsonb_build_object(
        'request', jsonb_build_object('number', p.number, 'requested_by', refuge.caller(), 'requested_at', now(),
                                      'note', 'records of protection modules (SGBV, best interests) are disclosed by their own case workers; fraud investigations are not disclosed while open (Policy 3.3)',
                                      'operation', (select o.code from refuge.operation o where o.id = p.operation_id),
                                      'site', (select s.code from refuge.site s where s.id = p.site_id)),
        'person', refuge.subject_row(to_jsonb(p) - 'number'),
        'names', (select coalesce(jsonb_agg(refuge.subject_row(to_jsonb(n)) order by n.created_at), '[]')
                    from refuge.individual_name n where n.individual_id = p.id),
        'nationalities', (select coalesce(jsonb_agg(refuge.subject_row(to_jsonb(n)) order by n.created_at), '[]')
                            from refuge.individual_nationality n where n.individual_id = p.id),
        'languages', (select coalesce(jsonb_agg(refuge.subject_row(to_jsonb(n)) order by n.created_at), '[]')
                        from refuge.individual_language n where n.individual_id = p.id),
        'education', (select coalesce(jsonb_agg(refuge.subject_row(to_jsonb(n)) order by n.created_at), '[]')
                        from refuge.individual_education n where n.individual_id = p.id),
        'occupations', (select coalesce(jsonb_agg(refuge.subject_row(to_jsonb(n)) order by n.created_at), '[]')
                          from refuge.individual_occupation n where n.individual_id = p.id),
        'contacts', (select coalesce(jsonb_agg(refuge.subject_row(to_jsonb(n)) order by n.created_at), '[]')
                       from refuge.individual_contact n where n.individual_id = p.id),
        'addresses', (select coalesce(jsonb_agg(refuge.subject_row(to_jsonb(n)) order by n.created_at), '[]')
                        from refuge.individual_address n where n.individual_id = p.id),
        'flight_history', (select coalesce(jsonb_agg(refuge.subject_row(to_jsonb(n)) order by n.created_at), '[]')
                             from refuge.flight_leg n where n.individual_id = p.id),
        'identity_documents', (select coalesce(jsonb_agg(refuge.subject_row(to_jsonb(n)) order by n.created_at), '[]')
                                 from refuge.document n where n.individual_id = p.id),
        'specific_needs', (select coalesce(jsonb_agg(refuge.subject_row(to_jsonb(n)) order by n.created_at), '[]')
                             from refuge.specific_need n where n.individual_id = p.id),
        'relatives', (select coalesce(jsonb_agg(refuge.subject_row(to_jsonb(n)) order by n.created_at), '[]')
                        from refuge.individual_relative n where n.individual_id = p.id),
        'legal_status_history', (select coalesce(jsonb_agg(refuge.subject_row(to_jsonb(n)) order by n.valid_from, n.id), '[]')
                                   from refuge.status_history n where n.individual_id = p.id),
        'household', (select jsonb_build_object('number', g.number, 'relationship', gm.relationship, 'since', gm.valid_from,
                          'members', (select jsonb_agg(jsonb_strip_nulls(jsonb_build_object('number', i.number,
                                              'given_name', i.given_name, 'family_name', i.family_name, 'sex', i.sex,
                                              'date_of_birth', i.date_of_birth, 'relationship', o.relationship))
                                              order by o.relationship <> 'PA', i.date_of_birth)
                                        from refuge.group_membership o join refuge.individual i on i.id = o.individual_id
                                       where o.group_id = g.id and o.valid_to is null and o.individual_id <> p.id))
                        from refuge.group_membership gm join refuge.registration_group g on g.id = gm.group_id
                       where gm.individual_id = p.id and gm.valid_to is null),
        'cases', (select coalesce(jsonb_agg(jsonb_build_object('number', c.number, 'module', c.module, 'state', c.state,
                                                            'role', cm.role, 'opened_at', c.opened_at, 'closed', c.closed)
                                          order by c.opened_at), '[]')
                    from refuge.case_member cm join refuge.process_case c on c.id = cm.case_id
                    join refuge.case_module m on m.code = c.module
                   where cm.individual_id = p.id and (c.principal_id = p.id or not m.sensitive) and c.module <> 'FRAUD'
                     and (not m.sensitive or refuge.may_work_case(c.module, c.operation_id, c.site_id))),
        'referrals', (select coalesce(jsonb_agg(jsonb_build_object('case', c.number, 'partner', po.name, 'fields', r.fields,
                                                                'purpose', r.purpose, 'referred_at', r.referred_at,
                                                                'status', r.status, 'valid_until', r.valid_until,
                                                                'agreement', a.code) order by r.referred_at), '[]')
                        from refuge.case_referral r join refuge.process_case c on c.id = r.case_id
                        join refuge.partner_organisation po on po.id = r.partner_id
                        left join refuge.sharing_agreement a on a.id = r.agreement_id
                        join refuge.case_module m on m.code = c.module
                       where exists (select 1 from refuge.case_member cm where cm.case_id = c.id and cm.individual_id = p.id)
                         and (c.principal_id = p.id or not m.sensitive) and c.module <> 'FRAUD'
                         and (not m.sensitive or refuge.may_work_case(c.module, c.operation_id, c.site_id))),
        'assistance', (select coalesce(jsonb_agg(jsonb_build_object('outcome', x.outcome, 'at', x.created_at,
                                                                 'site', (select s.code from refuge.site s where s.id = x.site_id))
                                               order by x.created_at), '[]')
                         from refuge.collection x where x.collector_id = p.id),
        'biometrics', (select jsonb_build_object('enrolled', e.individual_id is not null, 'status', e.status,
                                                 'enrolled_at', e.enrolled_at,
                                                 'fingers', (select count(*) from refuge.biometric_finger f where f.individual_id = p.id),
                                                 'irises', (select count(*) from refuge.biometric_iris f where f.individual_id = p.id),
                                                 'images_held', (select count(*) from refuge.biometric_vault v where v.individual_id = p.id))
                         from (select 1) one left join refuge.biometric_enrolment e on e.individual_id = p.id),
        'documents_issued', (select coalesce(jsonb_agg(refuge.subject_row(to_jsonb(d) - 'payload' - 'key_id' - 'photo_digest' - 'replaces') order by d.created_at), '[]')
                               from refuge.issued_document d where d.individual_id = p.id),
        'consents', (select coalesce(jsonb_agg(jsonb_strip_nulls(to_jsonb(c)) order by c.purpose, c.given_at), '[]')
                       from refuge.consents(p.id) c),
        'notices', (select coalesce(jsonb_agg(jsonb_build_object('purpose', n.purpose, 'notice_version', n.notice_version,
                                                              'language', n.language, 'given_at', n.given_at) order by n.given_at), '[]')
                      from refuge.information_notice n where n.individual_id = p.id and refuge.purpose_in_reach(n.purpose, p)),
        -- (the purposes written with a read can name other people, such as a
        -- search's candidates: when, who and what kind only)
        'reads_of_sensitive_records', (select coalesce(jsonb_agg(jsonb_build_object('at', r.at, 'by', r.actor, 'kind', r.kind)
                                                               order by r.at), '[]')
                                         from refuge.sensitive_read r
                                        where r.individual_id = p.id and r.module is distinct from 'FRAUD'
                                          and (r.module is null or not exists (select 1 from refuge.case_module m
                                                                                where m.code = r.module and m.sensitive)
                                               or refuge.may_work_case(r.module, p.operation_id, p.site_id))),
        'image_openings', (select coalesce(jsonb_agg(jsonb_build_object('at', v.accessed_at, 'by', v.accessed_by)
                                                  order by v.accessed_at), '[]')
                             from refuge.vault_access v where v.individual_id = p.id));
    perform refuge.log_durably(jsonb_build_object('sensitive_read', jsonb_build_array(jsonb_build_object(
        'actor', refuge.caller(), 'kind', 'subject_access', 'object_id', p.id, 'individual_id', p.id,
        'operation_id', p.operation_id, 'purpose', 'subject access request of ' || p.number))));
    return res;
end
$$;
comment on function refuge.subject_access(uuid) is
    'everything Refuge holds on a person, for their request of access (structure in the README); the request is logged';
grant execute on function refuge.subject_access(uuid) to refuge_supervisor, refuge_protection;

-- The same as a PDF to hand to the person (libharu, refuge.render_pdf).
create function refuge.subject_access_pdf(individual_id uuid) returns bytea
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    j jsonb := refuge.subject_access(subject_access_pdf.individual_id);
    lines text[];
    k text;
    v jsonb;
    e jsonb;
begin
    lines := array['TITLE' || chr(9) || 'Personal data held by UNHCR in Refuge',
                   'SUB' || chr(9) || format('%s - requested %s by %s', j -> 'request' ->> 'number',
                                             to_char((j -> 'request' ->> 'requested_at')::timestamptz, 'YYYY-MM-DD'),
                                             j -> 'request' ->> 'requested_by')];
    for k, v in select x.key, x.value from jsonb_each(j) with ordinality x(key, value, ord)
                 where x.key <> 'request' order by x.ord loop
        lines := lines || ('SECTION' || chr(9) || initcap(replace(k, '_', ' ')));
        if jsonb_typeof(v) = 'object' then
            lines := lines || array(select 'FIELD' || chr(9) || replace(f.key, '_', ' ') || chr(9)
                                           || left(regexp_replace(case when jsonb_typeof(f.value) = 'string' then f.value #>> '{}'
                                                                       else f.value::text end, '[\t\r\n]', ' ', 'g'), 900)
                                      from jsonb_each(v) f);
        elsif jsonb_typeof(v) = 'array' and jsonb_array_length(v) = 0 then
            lines := lines || ('TEXT' || chr(9) || 'none');
        elsif jsonb_typeof(v) = 'array' then
            for e in select jsonb_array_elements(v) loop
                lines := lines || ('TEXT' || chr(9) || left(regexp_replace(
                    (select string_agg(replace(f.key, '_', ' ') || ': ' || case when jsonb_typeof(f.value) = 'string'
                                                                            then f.value #>> '{}' else f.value::text end, '; ')
                       from jsonb_each(case when jsonb_typeof(e) = 'object' then e else jsonb_build_object('value', e) end) f),
                    '[\t\r\n]', ' ', 'g'), 900));
            end loop;
        else
            lines := lines || ('TEXT' || chr(9) || 'none');
        end if;
    end loop;
    return refuge.render_pdf('Personal data held by UNHCR', lines, '{}');
end
$$;
comment on function refuge.subject_access_pdf(uuid) is
    'a person''s subject access report as a PDF to hand to them (the request is logged)';
grant execute on function refuge.subject_access_pdf(uuid) to refuge_supervisor, refuge_protection;

-- Does a referral rest on the consent to referral of everyone whose data it
-- shares: the principal, and every adult member when it shares members'
-- details (MEMBERS, CONTACTS, SPECIFIC_NEEDS)?  (Always, when referral is
-- not based on consent.)  And, for a module resting on consent (SGBV), on
-- the principal's consent to the case work.
create function refuge.referral_consented(p_case uuid, p_fields text[], p_agreement uuid) returns boolean
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    select (select refuge.legal_basis_of(c.module) is distinct from 'CONSENT' or refuge.valid_consent(c.principal_id, c.module)
              from refuge.process_case c where c.id = p_case)
       and (refuge.legal_basis_of('REFERRAL') is distinct from 'CONSENT'
        or not exists (select 1 from refuge.case_member cm
                         join refuge.process_case c on c.id = cm.case_id
                         join refuge.individual i on i.id = cm.individual_id
                        where cm.case_id = p_case
                          and (cm.individual_id = c.principal_id
                               or (p_fields && array['MEMBERS', 'CONTACTS', 'SPECIFIC_NEEDS']
                                   and (i.date_of_birth is null or i.date_of_birth <= current_date - interval '18 years')))
                          and not refuge.valid_consent(cm.individual_id, 'REFERRAL', p_agreement)));
end;

-- The same as a gate naming the first person without consent; their
-- consents are locked until the referral commits (a withdrawal waits, then
-- revokes it).
create function refuge.require_referral_consent(c refuge.process_case, p_fields text[], p_agreement uuid) returns void
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    m uuid;
begin
    perform 1 from refuge.consent x where x.individual_id = c.principal_id and x.purpose = c.module and x.withdrawn_at is null
        for share;
    perform refuge.require_consent(c.principal_id, c.module, 'case_id');
    for m in select cm.individual_id from refuge.case_member cm join refuge.individual i on i.id = cm.individual_id
              where cm.case_id = c.id
                and (cm.individual_id = c.principal_id
                     or (p_fields && array['MEMBERS', 'CONTACTS', 'SPECIFIC_NEEDS']
                         and (i.date_of_birth is null or i.date_of_birth <= current_date - interval '18 years')))
              order by cm.individual_id = c.principal_id desc, i.number loop
        perform 1 from refuge.consent x where x.individual_id = m and x.purpose = 'REFERRAL' and x.withdrawn_at is null for share;
        perform refuge.require_consent(m, 'REFERRAL', 'case_id', p_agreement);
    end loop;
end
$$;

-- Set a retention period (refuge_admin, as the data protection officer).
create function refuge.set_retention(category text, keep_for interval, active boolean) returns void
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    perform refuge.authorize('refuge_admin', 'set_retention');
    if not exists (select 1 from refuge.retention_rule r where r.category = set_retention.category) then
        perform refuge.raise_field('22023', 'category', format('"%s" is not one of %s', refuge.excerpt(category),
            (select string_agg(r.category, ', ' order by r.category) from refuge.retention_rule r)));
    end if;
    if keep_for is null or keep_for < interval '1 day' or keep_for > interval '100 years' then
        perform refuge.raise_field('22023', 'keep_for', 'must be between 1 day and 100 years');
    end if;
    if active is null then
        perform refuge.raise_field('22004', 'active', 'is required');
    end if;
    insert into refuge.retention_setting as x (category, keep_for, active)
    values (set_retention.category, set_retention.keep_for, set_retention.active)
    on conflict on constraint retention_setting_pkey do update set keep_for = excluded.keep_for, active = excluded.active;
end
$$;
comment on function refuge.set_retention(text, interval, boolean) is
    'set how long a category of data is kept and whether refuge.apply_retention erases it';
grant execute on function refuge.set_retention(text, interval, boolean) to refuge_admin;

-- Apply the retention schedule (refuge_dba; with pg_cron, see the README):
-- a dry run lists per active category what would be erased and why; the
-- real run erases it.  Both are recorded in refuge.retention_run (counts
-- and dates, never the data).  Images are deleted from the vault; SGBV
-- narratives are replaced by a sealed marker.  The audit trail holds of
-- these only sizes and digests, so nothing of them remains and
-- refuge.verify_audit() still verifies.
create function refuge.apply_retention(dry_run boolean default true)
    returns table (category text, action text, affected bigint, oldest timestamptz, newest timestamptz, reason text)
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    r record;
    n bigint;
    o timestamptz;
    nw timestamptz;
    why text;
    keyed boolean := refuge.vault_key_loaded();
begin
    perform refuge.authorize('refuge_dba', 'apply_retention');
    if dry_run is null then
        perform refuge.raise_field('22004', 'dry_run', 'is required');
    end if;
    -- one run at a time (two would count the same erasure twice)
    perform pg_advisory_xact_lock(hashtext('refuge.apply_retention'));
    for r in select x.category, x.label, x.action, x.counted_from, st.keep_for
               from refuge.retention_rule x join refuge.retention_setting st on st.category = x.category
              where st.active order by x.category loop
        why := format('%s older than %s days counted from %s', r.label,
                      round(extract(epoch from r.keep_for) / 86400), r.counted_from);
        if r.category = 'BIOMETRIC_SOURCE_IMAGES' then
            -- (each node erases the rows it owns: erasing another's would send
            -- the row's content back to it through replication)
            select count(*), min(v.created_at), max(v.created_at) into n, o, nw
              from refuge.biometric_vault v
             where v.part <> 'face' and v.created_at < now() - r.keep_for and v.sync_owner = refuge.local_node();
            if not dry_run and n > 0 then
                delete from refuge.biometric_vault v
                 where v.part <> 'face' and v.created_at < now() - r.keep_for and v.sync_owner = refuge.local_node();
                get diagnostics n = row_count;
            end if;
        elsif r.category = 'FACE_IMAGES_INACTIVE' then
            -- closed or deceased for the period (counted from the later of the
            -- status date and the last change of the record: a back-dated
            -- status does not shorten it), no document still valid that
            -- prints the face, the image itself older than the period
            select count(*), min(v.created_at), max(v.created_at) into n, o, nw
              from refuge.biometric_vault v join refuge.individual i on i.id = v.individual_id
             where v.part = 'face' and i.status in ('CLOSED', 'DECEASED')
               and greatest(i.status_date, i.updated_at::date) < current_date - r.keep_for
               and v.created_at < now() - r.keep_for and v.sync_owner = refuge.local_node()
               and not exists (select 1 from refuge.issued_document d where d.individual_id = i.id and d.status = 'VALID'
                                  and d.valid_to >= current_date);
            if not dry_run and n > 0 then
                delete from refuge.biometric_vault v using refuge.individual i
                 where i.id = v.individual_id and v.part = 'face' and i.status in ('CLOSED', 'DECEASED')
                   and greatest(i.status_date, i.updated_at::date) < current_date - r.keep_for
                   and v.created_at < now() - r.keep_for and v.sync_owner = refuge.local_node()
                   and not exists (select 1 from refuge.issued_document d where d.individual_id = i.id and d.status = 'VALID'
                                      and d.valid_to >= current_date);
                get diagnostics n = row_count;
            end if;
        elsif r.category = 'SGBV_NARRATIVES' then
            select count(*), min(c.updated_at), max(c.updated_at) into n, o, nw
              from refuge.gbv_incident g join refuge.process_case c on c.id = g.case_id
             where c.closed and c.updated_at < now() - r.keep_for and g.narrative_erased_at is null
               and g.sync_owner = refuge.local_node();
            if not keyed then
                why := why || '; the vault key is not loaded here: nothing erased';
                if not dry_run then
                    n := 0;
                end if;
            elsif not dry_run and n > 0 then
                update refuge.gbv_incident g
                   set sealed = refuge.vault_seal(convert_to(jsonb_build_object('narrative_erased_at', now())::text, 'UTF8'),
                                                  'gbv_incident:' || g.case_id),
                       narrative_erased_at = now()
                  from refuge.process_case c
                 where c.id = g.case_id and c.closed and c.updated_at < now() - r.keep_for and g.narrative_erased_at is null
                   and g.sync_owner = refuge.local_node();
                get diagnostics n = row_count;
            end if;
        else
            continue;
        end if;
        insert into refuge.retention_run (run_by, dry_run, category, action, affected, oldest, newest, note)
        values (refuge.caller(), dry_run, r.category, r.action, n, o, nw, why);
        category := r.category; action := r.action; affected := n; oldest := o; newest := nw; reason := why;
        return next;
    end loop;
end
$$;
comment on function refuge.apply_retention(boolean) is
    'apply the retention schedule: dry run (the default) lists what would be erased and why; false erases it; both recorded in refuge.retention_run';
grant execute on function refuge.apply_retention(boolean) to refuge_dba;

-- reports/50_microdata.sql
-- Anonymised microdata for researchers (issue 18): the active people of a
-- warehouse snapshot as records a research agreement may receive, with
-- sdcMicro's methods (Templ, Kowarik and Meindl, 2015) done set-wise:
-- global recoding with top and bottom coding, local suppression until
-- every combination of the quasi-identifiers is shared by at least k
-- records (a suppressed value counts as a value of its own, "*", which is
-- never less protective than sdcMicro's wildcard), record suppression of
-- what remains, and l-diversity of the sensitive attribute (the record's
-- specific-need categories) by suppressing it in classes with fewer than l
-- distinct values.  The report gives the disclosure risk that remains.

create function refuge.microdata_extract(snapshot_id integer, agreement text, k integer default 5, l integer default 2)
    returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    a refuge.sharing_agreement;
    -- suppressed in this order: the least useful to research first
    order_of_suppression constant text[] := array['arrival_year', 'family_size', 'population_type', 'origin_country',
                                                  'age_band', 'sex', 'operation'];
    att text;
    n_in bigint;
    n bigint;
    suppressed jsonb := '{}';
    dropped bigint;
    sensitive_suppressed bigint;
    eid integer;
    report jsonb;
begin
    perform refuge.authorize('refuge_dba', 'microdata_extract');
    if not exists (select 1 from refuge_warehouse.snapshot s where s.id = microdata_extract.snapshot_id) then
        perform refuge.raise_field('P0002', 'snapshot_id', format('no snapshot %s', coalesce(snapshot_id::text, 'null')));
    end if;
    if k is null or k < 3 or k > 100 then
        perform refuge.raise_field('22023', 'k', format('%s is not between 3 and 100', coalesce(k::text, 'null')));
    end if;
    if l is null or l < 2 or l > 20 then
        perform refuge.raise_field('22023', 'l', format('%s is not between 2 and 20', coalesce(l::text, 'null')));
    end if;
    a := refuge.agreement_for(agreement, 'RESEARCHER', null, 'RESEARCH', array['MICRODATA'], 'agreement');

    -- global recoding: five-year age bands top-coded at 60, family size
    -- banded and top-coded at 7, arrival year bottom-coded at 2000
    -- (never "if not exists": a table the caller made beforehand, with
    -- triggers of theirs, would run them with the owner's rights)
    create temp table md (operation text, sex text, age_band text, origin_country text, family_size text,
                          arrival_year text, population_type text, specific_needs text, ck text) on commit drop;
    insert into md
    select f.operation, f.sex,
           case when f.age is null then null when f.age >= 60 then '60+'
                else (f.age / 5 * 5)::text || '-' || (f.age / 5 * 5 + 4)::text end,
           f.origin_country,
           case when fs.size is null then null when fs.size >= 7 then '7+' when fs.size >= 5 then '5-6' else fs.size::text end,
           case when f.arrival_date is null then null when f.arrival_date < date '2001-01-01' then '2000 or before'
                else extract(year from f.arrival_date)::integer::text end,
           f.population_type,
           coalesce(nullif(array_to_string(array(select distinct x from unnest(f.specific_needs) x order by x), ','), ''), 'none')
      from refuge_warehouse.individual_fact f
      left join (select x.family, count(*) as size from refuge_warehouse.individual_fact x
                  where x.snapshot_id = microdata_extract.snapshot_id and x.status = 'ACTIVE' and x.family is not null
                  group by x.family) fs on fs.family = f.family
     where f.snapshot_id = microdata_extract.snapshot_id and f.status = 'ACTIVE';
    get diagnostics n_in = row_count;

    -- local suppression: the records of classes smaller than k lose the
    -- next quasi-identifier, the classes are formed again
    update md set ck = concat_ws('|', coalesce(md.operation, '*'), coalesce(md.sex, '*'), coalesce(md.age_band, '*'),
                                 coalesce(md.origin_country, '*'), coalesce(md.family_size, '*'), coalesce(md.arrival_year, '*'),
                                 coalesce(md.population_type, '*'));
    foreach att in array order_of_suppression loop
        execute format('update md set %1$I = null where %1$I is not null
                          and ck in (select m.ck from md m group by m.ck having count(*) < $1)', att) using k;
        get diagnostics n = row_count;
        suppressed := suppressed || jsonb_build_object(att, n);
        update md set ck = concat_ws('|', coalesce(md.operation, '*'), coalesce(md.sex, '*'), coalesce(md.age_band, '*'),
                                     coalesce(md.origin_country, '*'), coalesce(md.family_size, '*'), coalesce(md.arrival_year, '*'),
                                     coalesce(md.population_type, '*'));
    end loop;
    -- what is still alone is not released
    delete from md where ck in (select m.ck from md m group by m.ck having count(*) < k);
    get diagnostics dropped = row_count;
    -- l-diversity: a class whose members share fewer than l distinct
    -- specific-need values would tell them; the attribute is suppressed there
    update md set specific_needs = null
     where ck in (select m.ck from md m group by m.ck having count(distinct m.specific_needs) < l);
    get diagnostics sensitive_suppressed = row_count;

    with cls as (select m.ck, count(*) as size from md m group by m.ck)
    select jsonb_build_object(
               'records_in', n_in, 'records_released', (select count(*) from md), 'records_suppressed', dropped,
               'values_suppressed', suppressed, 'sensitive_values_suppressed', sensitive_suppressed,
               'k', k, 'l', l, 'equivalence_classes', (select count(*) from cls),
               'smallest_class', (select min(size) from cls),
               -- each record's re-identification risk taken as 1 / its class's size (the sample is the population)
               'max_individual_risk', (select round(1.0 / min(size), 4) from cls),
               'mean_individual_risk', (select round(count(*)::numeric / nullif(sum(size), 0), 4) from cls),
               'expected_reidentifications', (select count(*) from cls),
               'records_at_risk_above_0.1', (select coalesce(sum(size), 0) from cls where size < 10),
               'min_distinct_sensitive', (select min(d) from (select count(distinct m.specific_needs) as d from md m
                                                              where m.specific_needs is not null group by m.ck) x),
               'quasi_identifiers', to_jsonb(array['operation', 'sex', 'age_band', 'origin_country', 'family_size', 'arrival_year',
                                                   'population_type']),
               'sensitive', 'specific_needs',
               'recoding', jsonb_build_object('age_band', 'five-year bands, top-coded at 60+',
                                              'family_size', '1, 2, 3, 4, 5-6, 7+ (active members)',
                                              'arrival_year', 'year, bottom-coded at 2000 or before'))
      into report;
    insert into refuge_warehouse.microdata_extract (snapshot_id, agreement_id, k, l, quasi_identifiers, sensitive, report)
    values (microdata_extract.snapshot_id, a.id, k, l,
            array['operation', 'sex', 'age_band', 'origin_country', 'family_size', 'arrival_year', 'population_type'],
            'specific_needs', report)
    returning id into eid;
    -- records in random order: nothing of the registration order is kept
    insert into refuge_warehouse.microdata_record (extract_id, record, operation, sex, age_band, origin_country, family_size,
                                                   arrival_year, population_type, specific_needs)
    select eid, row_number() over (order by random()), m.operation, m.sex, m.age_band, m.origin_country, m.family_size,
           m.arrival_year, m.population_type, m.specific_needs
      from md m;
    perform refuge.log_durably(jsonb_build_object('sensitive_read', jsonb_build_array(jsonb_build_object(
        'actor', refuge.caller(), 'kind', 'microdata_extract', 'object_id', a.id,
        'purpose', format('microdata extract %s of snapshot %s for %s under agreement %s (k = %s, l = %s, %s records)',
                          eid, snapshot_id, a.party_name, a.code, k, l, report ->> 'records_released')))));
    drop table md;
    return jsonb_build_object('extract_id', eid, 'agreement', a.code) || report;
end
$$;
comment on function refuge.microdata_extract(integer, text, integer, integer) is
    'an anonymised microdata extract of a snapshot for researchers under an agreement (k-anonymity, l-diversity, local suppression, top/bottom coding), with its disclosure-risk report';
grant execute on function refuge.microdata_extract(integer, text, integer, integer) to refuge_dba;

-- functions/62_sharing.sql: referred_cases
create or replace function refuge.referred_cases()
    returns table (referral_id uuid, case_number text, module text, fields text[], purpose text,
                   referred_at timestamptz, valid_until date)
    language sql stable security definer
    set search_path = pg_catalog, pg_temp
    -- (dates of validity are UTC's, whatever the caller's time zone)
    set timezone = 'UTC'
begin atomic
    select r.id, c.number, c.module, r.fields, r.purpose, r.referred_at, r.valid_until
      from refuge.case_referral r join refuge.process_case c on c.id = r.case_id
     where r.partner_id = refuge.caller_partner() and r.status = 'ACTIVE'
       and (r.valid_until is null or r.valid_until >= current_date)
       -- the agreement it was made under is in force, the principal still consents
       and refuge.agreement_in_force((select a from refuge.sharing_agreement a where a.id = r.agreement_id))
       and refuge.referral_consented(c.id, r.fields, r.agreement_id)
       and (c.module <> 'SGBV'
            or coalesce((select g.consent_sharing from refuge.gbv_incident g where g.case_id = c.id), false))
     order by r.referred_at;
end;

-- functions/62_sharing.sql: referred_case
create or replace function refuge.referred_case(referral_id uuid, purpose text default null) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    set timezone = 'UTC'
as $$
declare
    r refuge.case_referral;
    c refuge.process_case;
    res jsonb;
    g refuge.gbv_incident;
    a refuge.sharing_agreement;
begin
    perform refuge.authorize('refuge_partner', 'referred_case');
    select * into r from refuge.case_referral x where x.id = referral_id;
    if not found or r.partner_id is distinct from refuge.caller_partner() then
        perform refuge.raise_field('P0002', 'referral_id', 'not found among your organisation''s referrals');
    end if;
    select * into c from refuge.process_case p where p.id = r.case_id;
    -- consent is checked at every read, not only when the case was referred
    if r.status = 'ACTIVE' and c.module = 'SGBV'
       and not coalesce((select gi.consent_sharing from refuge.gbv_incident gi where gi.case_id = c.id), false) then
        raise exception using errcode = '42501',
            message = format('referred_case: referral %s ended: the survivor has not consented to sharing', r.id);
    end if;
    if r.status <> 'ACTIVE' or (r.valid_until is not null and r.valid_until < current_date) then
        raise exception using errcode = '42501',
            message = format('referred_case: referral %s is %s', r.id,
                             case when r.status <> 'ACTIVE' then lower(r.status) else 'expired' end);
    end if;
    -- the agreement must be in force and the consent valid at every read
    select * into a from refuge.sharing_agreement x where x.id = r.agreement_id;
    if not refuge.agreement_in_force(a) then
        raise exception using errcode = '42501',
            message = format('referred_case: referral %s rests on no agreement in force (%s)', r.id,
                             case when a.id is null then 'made before agreements were required'
                                  when a.status <> 'ACTIVE' then a.code || ' is ' || lower(a.status)
                                  else a.code || ' is valid ' || refuge.iso(a.valid_from) || ' to ' || refuge.iso(a.valid_until) end);
    end if;
    if not refuge.referral_consented(c.id, r.fields, a.id) then
        raise exception using errcode = '42501',
            message = format('referred_case: referral %s ended: the person''s consent to referral is withdrawn or expired', r.id);
    end if;
    perform refuge.log_sensitive_read('referral', r.id, c, coalesce(purpose, r.purpose) || ' (' || a.party_name || ', agreement ' || a.code || ')');
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

-- functions/60_cases.sql: open_case
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
    -- a module whose purpose rests on consent needs the principal's
    perform refuge.require_consent(p.id, m.code, 'principal_id');
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
        -- a closed record (departed, deceased, a duplicate) joins no new case
        if exists (select 1 from refuge.individual i where i.id = member and i.status in ('CLOSED', 'DECEASED', 'DUPLICATE')) then
            perform refuge.raise_field('55000', 'members', format('%s is %s', (select i.number from refuge.individual i where i.id = member),
                (select lower(i.status) from refuge.individual i where i.id = member)));
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

-- functions/50_assistance.sql: collect
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
    -- where an operation bases assistance on consent, a withdrawal stops collection at once
    perform refuge.require_consent(who.id, 'ASSISTANCE', 'collector_id');
    if templates is null then
        perform refuge.raise_field('22004', 'templates', 'is required: the collector''s fingerprints or irises');
    end if;
    p := refuge.parse_biometrics(templates, false);

    if not exists (select 1 from refuge.group_membership gm where gm.group_id = ent.group_id and gm.individual_id = who.id
                    and gm.valid_to is null and gm.relationship = 'PA')
       and not exists (select 1 from refuge.collector c where c.group_id = ent.group_id and c.individual_id = who.id
                        and c.valid_from <= current_date and (c.valid_to is null or c.valid_to >= current_date)) then
        refusal := 'not_authorised';
    elsif ent.status = 'CANCELLED' then
        -- nobody of the family is active any more (departed, deceased, closed)
        refusal := 'entitlement_cancelled';
    elsif who.status <> 'ACTIVE' then
        refusal := 'collector_not_active';
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

-- functions/41_identity.sql: enrol_biometrics
create or replace function refuge.enrol_biometrics(individual_id uuid, templates jsonb) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    ind refuge.individual;
    pol record;
    p record;
    site_id uuid;
    cap_id uuid;
    hw bigint;
    gallery bigint;
    cands uuid[];
    decision jsonb;
    existing refuge.biometric_enrolment;
    open_case uuid;
    img jsonb;
    vault_id uuid;
    key_id text;
begin
    ind := refuge.individual_for_update(enrol_biometrics.individual_id, 'refuge_biometrics', 'enrol_biometrics');
    pol := refuge.dedup_settings();
    if ind.status <> 'ACTIVE' then
        perform refuge.raise_field('55000', 'individual_id',
            format('%s has status %s; only active individuals are enrolled', ind.number, ind.status));
    end if;
    if ind.date_of_birth is not null
       and ind.date_of_birth > current_date - make_interval(years => pol.min_age) then
        perform refuge.raise_field('22023', 'individual_id',
            format('%s is under %s (born %s); biometrics are taken from age %s (refuge.biometric_min_age)',
                   ind.number, pol.min_age, refuge.iso(ind.date_of_birth), pol.min_age));
    end if;
    -- where an operation bases biometrics on consent, none is taken without it
    perform refuge.require_consent(ind.id, 'BIOMETRICS', 'individual_id');
    select * into existing from refuge.biometric_enrolment e where e.individual_id = ind.id;
    if found then
        perform refuge.raise_field('23505', 'individual_id',
            format('%s is already enrolled (%s since %s)', ind.number, lower(existing.status), refuge.iso(existing.enrolled_at::date)));
    end if;
    select d.id into open_case from refuge.dedup_case d
     where d.individual_id = ind.id and d.kind = 'biometric' and d.status <> 'CLOSED';
    if found then
        perform refuge.raise_field('55000', 'individual_id',
            format('%s has an enrolment awaiting adjudication (case %s)', ind.number, open_case));
    end if;
    if templates is null then
        perform refuge.raise_field('22004', 'templates', 'is required');
    end if;
    p := refuge.parse_biometrics(templates, true);
    site_id := ind.site_id;
    if p.site is not null then
        select s.id into site_id from refuge.site s where s.operation_id = ind.operation_id and s.code = p.site;
        if site_id is null or not refuge.in_scope(ind.operation_id, site_id) then
            perform refuge.raise_field('23503', 'templates.capture.site',
                format('"%s" is not a site of this operation assigned to you', p.site));
        end if;
    end if;

    -- mark first, then search (see the head of this file)
    select coalesce(max(e.seq), 0) into hw from refuge.biometric_enrolment e;
    gallery := refuge.gallery_size();
    cands := refuge.dedup_candidates(p.fingers, p.irises, pol.search_fingers, gallery);

    insert into refuge.biometric_capture (individual_id, operation_id, site_id, device, operator, captured_at,
                                          fingers, irises, iris_quality, gallery_size, target_fpir, block_fpir,
                                          gallery_seq, decision)
    values (ind.id, ind.operation_id, site_id, p.device, coalesce(p.operator, refuge.caller()),
            coalesce(p.captured_at, now()), p.fingers, p.irises, p.iris_quality, gallery, pol.target_fpir,
            pol.block_fpir, hw, 'adjudication')
    returning id into cap_id;
    insert into refuge.biometric_exception (capture_id, individual_id, operation_id, site_id, part, reason)
    select cap_id, ind.id, ind.operation_id, site_id, x ->> 'part', x ->> 'reason'
      from jsonb_array_elements(p.exceptions) x;
    if jsonb_array_length(p.images) > 0 then
        key_id := refuge.vault_key_id();
        for img in select * from jsonb_array_elements(p.images) loop
            vault_id := gen_random_uuid();
            insert into refuge.biometric_vault (id, capture_id, individual_id, part, media_type, key_id, sealed)
            values (vault_id, cap_id, ind.id, img ->> 'part', img ->> 'media_type', key_id,
                    refuge.vault_seal(decode(templates -> 'images' -> (img ->> 'index')::integer ->> 'data', 'base64'),
                                      format('%s|%s|%s', vault_id, ind.id, img ->> 'part')));
        end loop;
    end if;
    decision := refuge.enrol_decide(cap_id, cands);
    -- an enrolment is a 1:N search whose answer names who matched: committed
    -- by the logging worker before the answer, like refuge.identify, so that a
    -- probe enrolled and rolled back leaves its trace
    perform refuge.log_durably(jsonb_build_object('biometric_identification', jsonb_build_array(jsonb_build_object(
        'operation_id', ind.operation_id, 'site_id', site_id, 'purpose', 'enrolment of ' || ind.number,
        'gallery_size', gallery, 'target_fpir', pol.target_fpir, 'candidates', coalesce(cands, '{}'),
        'device', p.device, 'searched_by', refuge.caller()))));
    return decision;
end
$$;

-- functions/61_case_records.sql: set_gbv_consent
create or replace function refuge.set_gbv_consent(case_id uuid, consent_services boolean, consent_sharing boolean, reason text)
    returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
    g refuge.gbv_incident;
    revoked integer := 0;
begin
    c := refuge.case_for_update(set_gbv_consent.case_id, 'set_gbv_consent');
    if c.module <> 'SGBV' then
        perform refuge.raise_field('22023', 'case_id', format('case %s is a %s case, not SGBV', c.number, c.module));
    end if;
    if consent_services is null or consent_sharing is null then
        perform refuge.raise_field('22004', case when consent_services is null then 'consent_services' else 'consent_sharing' end,
                                   'is required (true or false)');
    end if;
    perform refuge.require_text(reason, 'reason');
    select * into g from refuge.gbv_incident x where x.case_id = c.id for update;
    if not found then
        perform refuge.raise_field('P0002', 'case_id', format('case %s has no incident recorded', c.number));
    end if;
    update refuge.gbv_incident x set consent_services = set_gbv_consent.consent_services,
                                     consent_sharing = set_gbv_consent.consent_sharing
     where x.case_id = c.id;
    perform refuge.note_case_event(c, 'CONSENT_CHANGED', reason,
        jsonb_build_object('consent_services', consent_services, 'consent_sharing', consent_sharing));
    if not consent_sharing then
        revoked := refuge.revoke_referrals_without_consent(c, 'consent to sharing withdrawn');
    end if;
    return jsonb_build_object('case_id', c.id, 'number', c.number, 'consent_services', consent_services,
                              'consent_sharing', consent_sharing, 'referrals_revoked', revoked);
end
$$;

-- functions/61_case_records.sql: record_gbv_incident
create or replace function refuge.record_gbv_incident(case_id uuid, incident jsonb) returns void
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
           consent_sharing = excluded.consent_sharing, sealed = excluded.sealed,
           -- a narrative recorded again is held again (and retention counts again)
           narrative_erased_at = null;
    perform refuge.note_case_event(c, 'INCIDENT_RECORDED', null,
        jsonb_build_object('violence_type', vt, 'consent_services', incident -> 'consent_services',
                           'consent_sharing', incident -> 'consent_sharing'));
    if not (incident ->> 'consent_sharing')::boolean then
        perform refuge.revoke_referrals_without_consent(c, 'no consent to sharing');
    end if;
end
$$;

-- functions/43_demographic.sql: default_match_weights
create or replace function refuge.default_match_weights()
    returns table (feature text, level smallint, label text, m double precision, u double precision)
    language sql immutable parallel safe
begin atomic
    select v.feature, v.level::smallint, v.label, v.m, v.u
      from (values
        ('name', 1, 'a part similar (>= 0.80)', 0.000303, 0.000303),
        ('name', 2, 'one part agrees', 0.003326, 0.624100),
        ('name', 3, 'all parts but one agree, or all similar', 0.050499, 0.182275),
        ('name', 4, 'every part agrees (spelling, transliteration), a common name (over 15 namesakes)', 0.090414, 0.081372),
        ('name', 5, 'every part the same, a common name (over 15 namesakes)', 0.098276, 0.077152),
        ('name', 6, 'every part agrees (spelling, transliteration), 4 to 15 namesakes', 0.080738, 0.013217),
        ('name', 7, 'every part the same, 4 to 15 namesakes', 0.172059, 0.016235),
        ('name', 8, 'every part agrees (spelling, transliteration), 3 namesakes at most', 0.156335, 0.002050),
        ('name', 9, 'every part the same, 3 namesakes at most', 0.348050, 0.003597),
        ('birth_date', 1, 'same day', 0.331921, 0.000774),
        ('birth_date', 2, 'same within its precision', 0.381543, 0.383537),
        ('birth_date', 3, 'a year apart', 0.155219, 0.487359),
        ('birth_date', 4, 'two or three years apart', 0.023298, 0.084605),
        ('birth_date', 5, 'further apart', 0.000303, 0.000303),
        ('birth_date', 6, 'same day and month, the year off by one or two', 0.081392, 0.000437),
        ('birth_date', 7, 'both exact, within a month or day and month swapped', 0.026324, 0.043286),
        ('sex', 1, 'same', 0.999697, 0.804502),
        ('sex', 2, 'different', 0.000303, 0.195498),
        ('birth_place', 1, 'same place', 0.800924, 0.077007),
        ('birth_place', 2, 'same country', 0.194453, 0.544208),
        ('birth_place', 3, 'different', 0.004622, 0.378786),
        ('parents', 1, 'a parent''s name agrees', 0.999545, 0.456454),
        ('parents', 2, 'parents'' names differ', 0.000455, 0.543546),
        ('family', 1, 'two or more other members match members of the other household', 0.914948, 0.004687),
        ('family', 2, 'same household', 0.000368, 0.003134),
        ('family', 3, 'one other member matches a member of the other household', 0.075479, 0.040069),
        ('family', 4, 'other members, none matching', 0.009205, 0.952110),
        ('document', 1, 'same document number', 0.9, 0.0001),
        ('document', 2, 'different numbers of the same kind', 0.1, 0.9999),
        ('phone', 1, 'a phone number shared', 0.650510, 0.000058),
        ('phone', 2, 'no phone number shared', 0.349490, 0.999942),
        ('registration', 1, 'same site within 90 days', 0.030588, 0.040506),
        ('registration', 2, 'same site', 0.072380, 0.185458),
        ('registration', 3, 'same operation, another site', 0.284373, 0.315790),
        ('registration', 4, 'another operation', 0.612659, 0.458246)) v(feature, level, label, m, u);
end;

-- functions/43_demographic.sql: birth_date_level
create or replace function refuge.birth_date_level(a date, a_precision text, b date, b_precision text) returns integer
    language sql immutable parallel safe
    return case
        when a is null or b is null then 0
        when a = b and a_precision = 'EXACT' and b_precision = 'EXACT' then 1
        -- both exact and nearly the same: a day typed wrong, day and month swapped
        when a_precision = 'EXACT' and b_precision = 'EXACT' and extract(year from a) = extract(year from b)
             and (abs(a - b) <= 31
                  or (extract(day from a) = extract(month from b) and extract(month from a) = extract(day from b)))
            then 7
        when extract(year from a) = extract(year from b)
             and (a_precision not in ('EXACT', 'MONTH') or b_precision not in ('EXACT', 'MONTH')
                  or abs(a - b) <= 31
                  or (extract(day from a) = extract(month from b) and extract(month from a) = extract(day from b)))
            then 2
        -- a year typed wrong: the same day and month
        when a_precision = 'EXACT' and b_precision = 'EXACT' and extract(month from a) = extract(month from b)
             and extract(day from a) = extract(day from b) and abs(extract(year from a) - extract(year from b)) <= 2 then 6
        when abs(extract(year from a) - extract(year from b)) <= 1 then 3
        when abs(extract(year from a) - extract(year from b)) <= 3 then 4
        else 5 end;

-- functions/43_demographic.sql: match_rate_curve
create or replace function refuge.match_rate_curve(out scores double precision[], out rates double precision[], out source text)
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    select x.a, x.b, x.c into scores, rates, source
      from (select m.curve_scores as a, m.curve_rates as b, m.source as c from refuge.match_model m
    union all
    select '{-13.50,-13.10,-13.00,-12.95,-12.80,-12.75,-12.70,-12.65,-12.55,-12.50,-12.45,-12.40,-12.25,-12.20,-12.15,-12.05,-12.00,-11.70,-11.65,-11.60,-11.55,-11.45,-11.35,-11.30,-11.25,-11.20,-11.10,-11.05,-11.00,-10.95,-10.90,-10.85,-10.80,-10.75,-10.70,-10.65,-10.60,-10.55,-10.50,-10.45,-10.40,-10.35,-10.30,-10.25,-10.20,-10.15,-10.10,-10.05,-10.00,-9.95,-9.90,-9.85,-9.80,-9.75,-9.70,-9.65,-9.60,-9.55,-9.50,-9.45,-9.40,-9.35,-9.30,-9.25,-9.20,-9.15,-9.10,-9.05,-9.00,-8.95,-8.90,-8.85,-8.80,-8.75,-8.70,-8.65,-8.60,-8.55,-8.50,-8.45,-8.40,-8.35,-8.30,-8.25,-8.20,-8.15,-8.10,-8.05,-8.00,-7.95,-7.90,-7.85,-7.80,-7.75,-7.70,-7.65,-7.60,-7.55,-7.50,-7.45,-7.40,-7.35,-7.30,-7.25,-7.20,-7.15,-7.10,-7.05,-7.00,-6.95,-6.90,-6.85,-6.80,-6.75,-6.70,-6.65,-6.60,-6.55,-6.50,-6.45,-6.40,-6.35,-6.30,-6.25,-6.20,-6.15,-6.10,-6.05,-6.00,-5.95,-5.90,-5.85,-5.80,-5.75,-5.70,-5.65,-5.60,-5.55,-5.50,-5.45,-5.40,-5.35,-5.30,-5.25,-5.20,-5.15,-5.10,-5.05,-5.00,-4.95,-4.90,-4.85,-4.80,-4.75,-4.70,-4.65,-4.60,-4.55,-4.50,-4.45,-4.40,-4.35,-4.30,-4.25,-4.20,-4.15,-4.10,-4.05,-4.00,-3.95,-3.90,-3.85,-3.80,-3.75,-3.70,-3.65,-3.60,-3.55,-3.50,-3.45,-3.40,-3.35,-3.30,-3.25,-3.20,-3.15,-3.10,-3.05,-3.00,-2.95,-2.90,-2.85,-2.80,-2.75,-2.70,-2.65,-2.60,-2.55,-2.50,-2.45,-2.40,-2.35,-2.30,-2.25,-2.20,-2.15,-2.10,-2.05,-2.00,-1.95,-1.90,-1.85,-1.80,-1.75,-1.70,-1.65,-1.60,-1.55,-1.50,-1.45,-1.40,-1.35,-1.30,-1.25,-1.20,-1.15,-1.10,-1.05,-1.00,-0.95,-0.90,-0.85,-0.80,-0.75,-0.70,-0.65,-0.60,-0.55,-0.50,-0.45,-0.40,-0.35,-0.30,-0.25,-0.20,-0.15,-0.10,-0.05,0.00,0.05,0.10,0.15,0.20,0.25,0.30,0.35,0.40,0.45,0.50,0.55,0.60,0.65,0.70,0.75,0.80,0.85,0.90,0.95,1.00,1.05,1.10,1.15,1.20,1.25,1.30,1.35,1.40,1.45,1.50,1.55,1.60,1.65,1.70,1.75,1.80,1.85,1.90,1.95,2.00,2.05,2.10,2.15,2.20,2.25,2.30,2.35,2.40,2.45,2.50,2.60,2.65,2.70,2.75,2.80,2.85,2.90,3.00,3.05,3.10,3.20,3.30,3.35,3.40,3.45,3.55,3.60,3.65,3.70,3.75,3.80,3.85,3.90,3.95,4.00,4.15,4.20,4.25,4.30,4.35,4.45,4.55,4.70,4.80,4.85,4.90,4.95,5.00,5.05,5.10,5.15,5.20,5.25,5.30,5.35,5.40,5.45,5.50,5.55,5.60,5.65,5.70,5.80,5.85,5.90,6.00,6.05,6.15,6.20,6.25,6.35,6.40,6.60,6.65,6.70,6.75,6.85,6.90,6.95,7.00,7.05,7.10,7.25,7.35,7.50,7.60,7.70,7.80,7.85,7.95,8.00,8.05,8.10,8.20,8.30,8.35,8.45,9.00,9.15,9.20,9.25,9.50,9.55,10.25,10.95,11.05}'::double precision[],
           '{46.399800,46.399600,46.396200,46.372400,46.372200,46.372000,46.362800,46.356600,46.308600,46.292200,46.174400,46.172000,46.159800,46.157200,46.136800,46.096200,46.096000,45.977000,45.976600,45.976000,45.969000,45.915800,45.915000,45.912800,45.911200,45.878400,45.805000,45.792000,45.752800,45.607400,45.603600,45.580000,45.578800,45.577400,45.532600,45.467800,45.465400,45.465200,45.463400,45.335400,45.330400,45.327000,45.320800,45.319600,45.308800,45.297800,45.289800,45.151600,45.145200,45.136000,45.112800,45.105200,45.012000,44.973000,44.582400,44.576000,44.498800,43.350000,43.273600,43.270800,43.121800,43.023800,42.957000,42.764600,42.148200,42.144000,42.120600,41.128000,40.920800,40.899200,40.874200,40.757800,40.745600,40.692600,40.584800,40.525200,40.007200,40.002600,39.821400,39.738400,39.714600,39.664200,39.403200,38.585800,38.566600,38.404200,37.762800,36.297000,36.190800,35.937400,35.687200,35.619400,35.130200,34.368800,34.113200,34.076200,33.888600,32.320800,32.209000,32.088200,31.764800,31.694400,31.395600,31.093600,30.917400,30.714600,30.651200,30.293400,30.037200,29.914800,29.591400,29.445000,29.345600,29.158000,28.830000,28.551200,27.800400,27.765600,27.197000,26.416800,26.136200,25.635600,25.244800,25.167800,24.998800,24.338200,23.794600,23.587600,23.380000,22.633600,22.435400,21.953600,21.718200,21.478000,21.284400,21.260400,20.843200,20.733600,20.182400,20.040800,19.888200,19.720800,19.644600,19.391600,18.936000,18.370800,18.280000,17.679600,16.844200,16.540400,16.200800,16.148200,15.742800,15.408200,15.084400,14.047000,13.878400,13.573600,12.899000,12.636400,12.113600,11.929600,11.540800,11.283000,11.204000,10.662200,10.475400,10.167800,10.105000,9.777600,9.471800,9.328600,8.862600,8.633000,8.502800,8.365800,8.264400,8.114600,7.857000,7.392600,7.283000,7.158400,6.894800,6.633600,6.331600,6.126200,5.901400,5.744400,5.588800,4.999200,4.901000,4.715400,4.443000,4.386800,4.239200,4.009000,3.825000,3.769200,3.532800,3.279800,3.212600,2.993000,2.842400,2.639400,2.595000,2.517600,2.379600,2.316200,2.210400,2.109800,2.061400,1.960800,1.889200,1.770600,1.699400,1.657200,1.566800,1.523000,1.408000,1.322800,1.279400,1.199400,1.150400,1.106600,1.026600,0.993400,0.974000,0.949600,0.887800,0.837800,0.803000,0.760600,0.705600,0.666400,0.639800,0.581200,0.561600,0.538600,0.498800,0.488000,0.454200,0.433400,0.404000,0.385200,0.370800,0.332200,0.310400,0.290200,0.260800,0.250000,0.235200,0.224000,0.216800,0.206400,0.197000,0.181800,0.173400,0.163600,0.151400,0.143400,0.139600,0.130600,0.124200,0.118400,0.104800,0.096800,0.091400,0.084800,0.080600,0.077000,0.074400,0.070400,0.065000,0.061200,0.056800,0.054000,0.050400,0.046600,0.040800,0.038400,0.036200,0.034000,0.031600,0.030200,0.027400,0.022200,0.020200,0.018400,0.017000,0.014800,0.014200,0.013400,0.012800,0.012600,0.010400,0.009400,0.008400,0.008200,0.008200,0.006400,0.005800,0.005600,0.005400,0.004600,0.004000,0.003600,0.002800,0.002600,0.002400,0.002200,0.002000,0.001800,0.001600,0.001400,0.001200,0.001200,0.001200,0.001000,0.000800,0.000600,0.000600,0.000600,0.000600,0.000400,0.000400,0.000200,0.000200,0.000200,0.000200,0.000200,0.000200,0.000200,0.000200,0.000200,0.000200,0.000200,0.000200,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000}'::double precision[],
           'shipped: measured by test/bench/demographic.sh on 104,481 synthetic people'
     where not exists (select 1 from refuge.match_model)) x
    limit 1;
end
$$;

-- functions/43_demographic.sql: demographic_search_many
create or replace function refuge.demographic_search_many(p_ids uuid[], p_min_score double precision, p_limit integer,
                                               p_weights double precision[] default null)
    returns table (individual_id uuid, candidate_id uuid, score double precision, levels integer[])
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
    -- (PL/pgSQL keeps the plan of this long statement: an SQL function would plan it on every call)
    set plan_cache_mode = force_generic_plan
as $$
begin
    return query
    with wv as materialized (
        select coalesce(p_weights, refuge.match_weight_vector()) as w),
    probe as materialized (
        select pi.id, pi as ind, pp as profile, g.grp, g.has_co,
               (case when g.has_co then (select max(wv.w[50 + l]) from generate_series(1, 10) l) else 0 end
                + case when exists (select 1 from refuge.document d where d.individual_id = pi.id)
                       then (select max(wv.w[60 + l]) from generate_series(1, 10) l) else 0 end
                + case when exists (select 1 from refuge.individual_contact c where c.individual_id = pi.id)
                       then (select max(wv.w[70 + l]) from generate_series(1, 10) l) else 0 end) as late_max
          from unnest(p_ids) x(id)
          join refuge.individual pi on pi.id = x.id
          join refuge.match_profile pp on pp.individual_id = x.id
         cross join lateral (select y.grp,
                                    exists (select 1 from refuge.group_membership m
                                             where m.group_id = y.grp and m.valid_to is null and m.individual_id <> pi.id)
                                        as has_co
                               from (select refuge.current_group(pi.id) as grp) y) g
         cross join wv
         where cardinality(pp.names) > 0),
    cand as materialized (
        select pr.id as probe, c.id, refuge.early_levels(pr.profile, pr.ind, cp, c, b.namesakes) as lv
          from probe pr
         cross join lateral refuge.demographic_blocked(pr.profile, refuge.birth_year_window((pr.ind).dob_precision), 500) b
          join refuge.individual c on c.id = b.candidate_id
          join refuge.match_profile cp on cp.individual_id = b.candidate_id
         where c.status <> 'DUPLICATE'),
    ranked as materialized (
        select c.probe, c.id, c.lv,
               row_number() over (partition by c.probe order by refuge.match_score(c.lv, wv.w) desc, c.id) as rn
          from cand c join probe pr on pr.id = c.probe cross join wv
         where refuge.match_score(c.lv, wv.w) + pr.late_max >= p_min_score),
    late as materialized (
        select r.probe, r.id, refuge.current_group(r.id) as grp,
               r.lv[1:5] || array[case when pr.has_co then refuge.family_level(r.probe, pr.grp, r.id, refuge.current_group(r.id))
                                       else 0 end,
                                  refuge.document_level(r.probe, r.id),
                                  refuge.phone_level(r.probe, r.id)] || r.lv[9:9] as lv
          from ranked r join probe pr on pr.id = r.probe
         where r.rn <= greatest(p_limit, 1) + 10),
    scored as (
        select l.probe, l.id, refuge.match_score(l.lv, wv.w) as s, l.lv,
               -- one person is at most one member of a household: the best
               -- of a household's members explains the others (siblings of
               -- a household registered twice)
               row_number() over (partition by l.probe, coalesce(l.grp, l.id)
                                  order by refuge.match_score(l.lv, wv.w) desc, l.id) as in_household
          from late l cross join wv
         where refuge.match_score(l.lv, wv.w) >= p_min_score),
    kept as (
        select sc.probe, sc.id, sc.s, sc.lv, row_number() over (partition by sc.probe order by sc.s desc, sc.id) as rn
          from scored sc where sc.in_household = 1)
    select k.probe, k.id, k.s, k.lv from kept k where k.rn <= p_limit order by k.probe, k.s desc, k.id;
end
$$;

-- functions/43_demographic.sql: estimate_match_model_from
create or replace function refuge.estimate_match_model_from(sample integer, same_a uuid[], same_b uuid[], known_a uuid[],
                                                known_b uuid[], m_from text)
    returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    nlev constant integer[] := array[9, 7, 2, 3, 2, 4, 2, 2, 4];
    probes integer;
    pairs bigint;
    same_pairs bigint := 0;
    m_source text;
    lambda double precision;
    w double precision[];
    scores double precision[];
    sweights double precision[];
    chunk uuid[];
begin
    perform refuge.authorize('refuge_dba', 'estimate_match_model');
    if sample is null or sample < 100 or sample > 1000000 then
        perform refuge.raise_field('22023', 'sample', format('%s is not between 100 and 1000000', coalesce(sample::text, 'null')));
    end if;
    probes := least(sample, (select count(*) from refuge.match_profile))::integer;
    if probes < 100 then
        perform refuge.raise_field('55000', 'sample',
            format('%s people hold a match profile: at least 100 are needed to estimate a model', probes));
    end if;
    -- (never "if not exists": a table the caller made beforehand, with
    -- triggers of theirs, would run them with the owner's rights; dropped
    -- at the end so that the estimate can run again in one transaction)
    create temp table match_estimate_level (kind text, levels integer[]) on commit drop;

    -- m: labelled pairs of the same person, else the reviewers' decisions;
    -- known: every pair known to be one person (not counted as false below)
    create temp table match_estimate_known (a uuid, b uuid) on commit drop;
    if same_a is not null then
        if cardinality(same_a) is distinct from cardinality(same_b)
           or cardinality(known_a) is distinct from cardinality(known_b) then
            perform refuge.raise_field('22023', 'same_b', 'must have as many elements as same_a (known_b as known_a)');
        end if;
        insert into match_estimate_level
        select 'same', refuge.match_levels(l.a, l.b) from unnest(same_a, same_b) l(a, b) where l.a <> l.b;
        insert into match_estimate_known
        select l.a, l.b from unnest(coalesce(known_a, same_a), coalesce(known_b, same_b)) l(a, b);
        m_source := coalesce(m_from, 'labelled pairs');
    else
        insert into match_estimate_known
        select c.individual_id, c.matched_id
          from refuge.dedup_case c
         where c.decision in ('link', 'merge') and c.matched_id is not null
           and (c.decision = 'link' or c.approval = 'approved');
        insert into match_estimate_level select 'same', refuge.match_levels(k.a, k.b) from match_estimate_known k;
        m_source := 'adjudicated decisions (same person)';
    end if;
    insert into match_estimate_known select k.b, k.a from match_estimate_known k;
    delete from match_estimate_level where levels is null;
    select count(*) into same_pairs from match_estimate_level where kind = 'same';
    if same_pairs < 50 then
        m_source := format('the model in force (only %s pairs known to be the same person)', same_pairs);
    end if;

    -- the searches, as registrations run them (with the model in force), of
    -- a random sample: every blocked pair, each person's 50 strongest
    -- (the false candidates that matter are near the top), 500 people a
    -- statement
    create temp table match_estimate_pair (levels integer[], known boolean) on commit drop;
    w := refuge.match_weight_vector();
    for chunk in select array_agg(x.id) from (select y.id, (row_number() over () - 1) / 500 as b
                                                  from (select p.individual_id as id from refuge.match_profile p
                                                         order by random() limit probes) y) x group by x.b loop
        insert into match_estimate_pair
        select s.levels, exists (select 1 from match_estimate_known k where k.a = s.individual_id and k.b = s.candidate_id)
          from refuge.demographic_search_many(chunk, '-Infinity'::double precision, 50, w) s;
    end loop;
    select count(*) into pairs from match_estimate_pair;

    -- u: the levels of different people among the pairs a search compares
    -- (blocking chose them for their names: what agrees by chance there,
    -- parents' names and households of common names above all, is worth
    -- less than between two people drawn at random); m: of the same person
    create temp table match_estimate_weight (feature text, level smallint, label text,
        m double precision, u double precision) on commit drop;
    insert into match_estimate_weight
    select x.feature, x.level, x.label,
           -- a level seen fewer than 20 times both among pairs of one person
           -- and among compared pairs tells nothing here: the model in force
           -- keeps it (documents, where the sample holds none)
           case when x.un < 20 and x.mn < 20 then x.m0 else x.m end,
           case when x.un < 20 and x.mn < 20 then x.u0 else x.u end
      from (select dd.feature, dd.level, dd.label, coalesce(d.m, dd.m) as m0, coalesce(d.u, dd.u) as u0,
                   case when same_pairs < 50 then coalesce(d.m, dd.m)
                        else (coalesce(ms.n, 0) + 0.5) / (ms.total + 0.5 * nlev[f.ord]) end as m,
                   case when same_pairs < 50 then 20 else coalesce(ms.n, 0) end as mn,
                   (coalesce(us.n, 0) + 0.5) / (us.total + 0.5 * nlev[f.ord]) as u, coalesce(us.n, 0) as un
              from refuge.default_match_weights() dd
              join unnest(refuge.match_features()) with ordinality f(name, ord) on f.name = dd.feature
              left join refuge.match_weights_in_force() d on d.feature = dd.feature and d.level = dd.level
              left join lateral (select count(*) filter (where e.levels[f.ord] = dd.level) as n,
                                        count(*) filter (where e.levels[f.ord] > 0) as total
                                   from match_estimate_level e where e.kind = 'same') ms on true
              left join lateral (select count(*) filter (where e.levels[f.ord] = dd.level) as n,
                                        count(*) filter (where e.levels[f.ord] > 0) as total
                                   from match_estimate_pair e where not e.known) us on true) x;
    delete from refuge.match_weight;
    insert into refuge.match_weight (feature, level, label, m, u)
    select e.feature, e.level, e.label, e.m, e.u from match_estimate_weight e;
    w := refuge.match_weight_vector();

    -- the share of the compared pairs known to be one person
    lambda := greatest((select count(*) filter (where t.known)::double precision / greatest(count(*), 1)
                          from match_estimate_pair t), 1e-9);
    -- the curve: false candidates per search at or above each score, on a
    -- grid of 0.05 (a pair counts at the grid point at or below its score).
    -- Every pair not known to be one person counts as false: the model's
    -- own posterior would trust the independence of features that common
    -- names and estimated birth dates break (and thresholds would be too
    -- low); unlabelled duplicates in the sample err towards fewer false
    -- candidates.  Reviewers' decisions sharpen it.
    select array_agg(g.s order by g.s), array_agg(g.r order by g.s)
      into scores, sweights
      from (select b.s, sum(b.q) over (order by b.s desc) / probes as r
              from (select floor(refuge.match_score(t.levels, w) * 20) / 20 as s,
                           count(*) filter (where not t.known)::double precision as q
                      from match_estimate_pair t group by 1) b) g;
    insert into refuge.match_model as mm (singleton, estimated_at, estimated_by, source, probes, pairs, match_share,
                                          iterations, curve_scores, curve_rates)
    values (true, now(), refuge.caller(),
            format('m from %s; u and thresholds from the %s pairs that searches of %s people here compared',
                   m_source, pairs, probes),
            probes, pairs, lambda, 0, coalesce(scores, '{0}'), coalesce(sweights, '{0}'))
    on conflict (singleton) do update
       set estimated_at = excluded.estimated_at, estimated_by = excluded.estimated_by, source = excluded.source,
           probes = excluded.probes, pairs = excluded.pairs, match_share = excluded.match_share,
           iterations = excluded.iterations, curve_scores = excluded.curve_scores, curve_rates = excluded.curve_rates;
    drop table match_estimate_level, match_estimate_known, match_estimate_pair, match_estimate_weight;
    return jsonb_build_object('probes', probes, 'pairs', pairs, 'same_person_pairs', same_pairs, 'm_from', m_source,
        'match_share', round(lambda::numeric, 6),
        'thresholds', (select to_jsonb(t) from refuge.demographic_thresholds() t),
        'weights', (select jsonb_object_agg(wf.feature || ':' || wf.level, round(wf.weight::numeric, 3))
                      from refuge.match_weights_in_force() wf));
end
$$;

-- functions/60_cases.sql: tracing_matches
create or replace function refuge.tracing_matches(case_id uuid, max_results integer default 10)
    returns table (individual_id uuid, number text, given_name text, family_name text, sex text, birth_year integer,
                   operation text, score integer)
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
    probe refuge.match_profile;
    yob integer;
    sought_sex text;
    w double precision[] := refuge.match_weight_vector();
    found_rows refuge.tracing_match[];
begin
    c := refuge.case_for_update(tracing_matches.case_id, 'tracing_matches', false);
    if c.module <> 'TRACING' then
        perform refuge.raise_field('22023', 'case_id', format('case %s is a %s case, not a tracing request', c.number, c.module));
    end if;
    -- the sought person as a match profile: the demographic engine's names,
    -- keys and blocking, everywhere this server holds people
    probe.names := array_remove(array[refuge.name_canonical(concat_ws(' ', c.data ->> 'sought_given_name',
                                                                         c.data ->> 'sought_family_name'))], null);
    probe.keys := refuge.name_block_keys(probe.names);
    yob := case when c.data ->> 'sought_birth_year' ~ '^[0-9]{4}$' then (c.data ->> 'sought_birth_year')::integer end;
    probe.birth_year := coalesce(yob, 0);
    sought_sex := c.data ->> 'sought_sex';
    select coalesce(array_agg(row(y.id, y.number, y.given_name, y.family_name, y.sex, y.yob, y.code, y.score)::refuge.tracing_match
                              order by y.score desc, y.number), '{}')
      into found_rows
      from (select x.id, x.number, x.given_name, x.family_name, x.sex, x.yob, o.code,
                   round(10 * (w[x.name_level + 1] + w[x.dob_level + 11] + w[x.sex_level + 21]))::integer as score
              from (select i.id, i.number, i.given_name, i.family_name, i.sex, i.operation_id,
                           extract(year from i.date_of_birth)::integer as yob,
                           -- (the sought person is not among the namesakes the blocks counted)
                           refuge.name_level_by_frequency(refuge.name_match_level(probe.names, mp.names),
                                                          b.namesakes + 1) as name_level,
                           case when yob is null or i.date_of_birth is null then 0
                                when abs(extract(year from i.date_of_birth) - yob) = 0 then 2
                                when abs(extract(year from i.date_of_birth) - yob) <= 1 then 3
                                when abs(extract(year from i.date_of_birth) - yob) <= 3 then 4
                                else 5 end as dob_level,
                           case when sought_sex is null or i.sex = 'U' then 0 when i.sex = sought_sex then 1 else 2 end
                               as sex_level
                      from refuge.demographic_blocked(probe, 3, 500) b
                      join refuge.individual i on i.id = b.candidate_id
                      join refuge.match_profile mp on mp.individual_id = i.id
                     where i.status = 'ACTIVE'
                       and not exists (select 1 from refuge.case_member cm where cm.case_id = c.id and cm.individual_id = i.id)) x
              join refuge.operation o on o.id = x.operation_id
             where x.name_level >= 2
               and w[x.name_level + 1] + w[x.dob_level + 11] + w[x.sex_level + 21] > 0
             order by 8 desc, x.number
             limit greatest(1, least(coalesce(max_results, 10), 100))) y;
    perform refuge.log_durably(jsonb_build_object('sensitive_read', jsonb_build_array(jsonb_build_object(
        'actor', refuge.caller(), 'kind', 'tracing_search', 'object_id', c.id, 'case_id', c.id, 'module', c.module,
        'individual_id', c.principal_id, 'operation_id', c.operation_id,
        'purpose', format('tracing search: %s people returned%s', cardinality(found_rows),
                          coalesce(' (' || (select string_agg(f.number, ', ') from unnest(found_rows) f) || ')', ''))))));
    return query select * from unnest(found_rows);
end
$$;

-- functions/62_sharing.sql: refer_case (new)
create function refuge.refer_case(case_id uuid, partner text, fields text[], purpose text, valid_until date default null,
                                  agreement text default null)
    returns uuid
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
    pid uuid;
    f text;
    new_id uuid;
    a refuge.sharing_agreement;
    until date := valid_until;
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
    a := refuge.agreement_for(agreement, 'PARTNER', pid, 'REFERRAL', fields, 'agreement');
    perform refuge.require_referral_consent(c, fields, a.id);
    if until > a.valid_until then
        perform refuge.raise_field('22008', 'valid_until', format('%s is after the end of agreement %s (%s)', refuge.iso(until),
                                                                a.code, refuge.iso(a.valid_until)));
    end if;
    until := coalesce(until, a.valid_until);
    insert into refuge.case_referral (case_id, partner_id, fields, purpose, valid_until, referred_by, agreement_id)
    values (c.id, pid, (select array_agg(distinct x order by x) from unnest(fields) x), purpose, until, refuge.caller(), a.id)
    returning id into new_id;
    perform refuge.note_case_event(c, 'REFERRED', purpose,
        jsonb_build_object('referral_id', new_id, 'partner', partner, 'fields', fields, 'agreement', a.code));
    perform refuge.raise_case_alert(c, 'REFERRAL', format('case %s referred to %s', c.number, partner), 'refuge_partner');
    return new_id;
end
$$;
comment on function refuge.refer_case(uuid, text, text[], text, date, text) is
    'refer a case to a partner under a sharing agreement: the fields shared, the purpose, until a date (agreement and consent checked)';
grant execute on function refuge.refer_case(uuid, text, text[], text, date, text) to refuge_supervisor,
    refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection;

-- reports/40_errf.sql: rrf_case (new)
create function refuge.rrf_case(p_case uuid, p_purpose text, p_agreement text) returns refuge.process_case
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
    a refuge.sharing_agreement;
    m uuid;
begin
    c := refuge.case_for_update(p_case, 'rrf', false);
    if c.module <> 'RESETTLEMENT' then
        perform refuge.raise_field('22023', 'case_id', format('case %s is a %s case: a Resettlement Registration Form is made for resettlement cases', c.number, c.module));
    end if;
    a := refuge.agreement_for(p_agreement, 'RESETTLEMENT_STATE', null, 'RESETTLEMENT_SUBMISSION', array['RRF'], 'agreement');
    -- a case submitted to a state goes under that state's agreement only
    if c.data ->> 'resettlement_country' is not null and c.data ->> 'resettlement_country' <> a.country then
        perform refuge.raise_field('22023', 'agreement', format('%s is with %s (%s); case %s is submitted to %s', a.code,
                                                              a.party_name, a.country, c.number, c.data ->> 'resettlement_country'));
    end if;
    for m in select cm.individual_id from refuge.case_member cm join refuge.individual i on i.id = cm.individual_id
              where cm.case_id = c.id
                and (cm.individual_id = c.principal_id or i.date_of_birth is null or i.date_of_birth <= current_date - interval '18 years')
              order by cm.individual_id = c.principal_id desc, i.number loop
        perform refuge.require_consent(m, 'RESETTLEMENT_SUBMISSION', 'case_id', a.id);
    end loop;
    perform refuge.log_sensitive_read('case_detail', c.id, c,
        format('%s for %s under agreement %s', p_purpose, a.party_name, a.code));
    return c;
end
$$;

-- reports/40_errf.sql: rrf_xml (new)
create function refuge.rrf_xml(case_id uuid, agreement text default null) returns xml
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
    asylum text;
    keyed boolean;
    doc xml;
begin
    c := refuge.rrf_case(rrf_xml.case_id, 'eRRF XML', rrf_xml.agreement);
    select o.country into asylum from refuge.operation o where o.id = c.operation_id;
    keyed := refuge.vault_key_loaded();
    with m as (
        select i.*, cm.role, coalesce(cm.relationship, 'PA') as rel,
               (select n.country from refuge.individual_nationality n where n.individual_id = i.id
                 order by n.is_primary desc, n.created_at limit 1) as nationality
          from refuge.case_member cm join refuge.individual i on i.id = cm.individual_id
         where cm.case_id = c.id)
    select xmlelement(name "UNHCR_RRF", xmlattributes('http://tempuri.org/ElectronicRRF.xsd' as xmlns),
        xmlelement(name "RRFBATCHTYPE", xmlelement(name "GroupIndividualIndicator",
            case when (select count(*) from m) > 1 then 'Group Submission' else 'Single Submission' end)),
        xmlelement(name "CASE",
            (select xmlagg(xmlelement(name "dataIndividual", xmlforest(
                        m.id as "IndividualGUID", m.number as "IndividualID",
                        coalesce(m.family_name, m.given_name) as "FamilyName", m.second_family_name as "SecondFamilyName",
                        case when m.family_name is not null then m.given_name end as "GivenName",
                        m.middle_name as "MiddleName", m.maiden_name as "MaidenName",
                        refuge.xml_datetime(m.registration_date) as "RegistrationDate",
                        refuge.xml_datetime(m.date_of_birth) as "DateofBirth",
                        case when m.dob_precision = 'EXACT' then 0 else 1 end as "DateofBirthEstimate",
                        refuge.to_progres('country', m.birth_country) as "BirthCountryCode",
                        m.place_of_birth as "BirthCityTownVillage",
                        refuge.to_progres('country', m.origin_country) as "OriginCountryCode",
                        refuge.to_progres('country', asylum) as "AsylumCountryCode",
                        refuge.xml_datetime(m.arrival_date) as "ArrivalDate",
                        refuge.to_progres('sex', m.sex) as "SexCode",
                        refuge.to_progres('country', m.nationality) as "NationalityCode",
                        refuge.to_progres('marital_status', m.marital_status) as "MarriageStatusCode",
                        refuge.to_progres('religion', m.religion) as "ReligionCode",
                        refuge.to_progres('ethnicity', m.ethnicity) as "EthnicityCode",
                        refuge.to_progres('education_level', m.education_level) as "EducationLevelCode",
                        m.mother_name as "MotherName", m.father_name as "FatherName"))
                    order by m.role desc, m.date_of_birth nulls last, m.number) from m),
            (select xmlagg(xmlelement(name "dataIndividualProcessGroup", xmlforest(
                        refuge.derived_uuid(c.id, m.id) as "IndividualProcessingGroupGUID", m.id as "IndividualGUID",
                        c.id as "ProcessingGroupGUID",
                        refuge.to_progres('relationship', m.rel) as "RelationshipToPrincipalRepresentative"))
                    order by m.role desc, m.date_of_birth nulls last, m.number) from m),
            xmlelement(name "dataProcessGroup", xmlforest(c.id as "ProcessingGroupGUID", c.number as "ProcessingGroupNumber",
                       (select count(*) from m) as "ProcessingGroupSize")),
            (select xmlagg(xmlelement(name "dataProcessGroupCrossReference", xmlforest(
                        refuge.derived_uuid(c.id, l.linked_id) as "ProcessingGroupCrossReferenceGUID",
                        c.id as "ProcessingGroupGUIDFrom", c.number as "ProcessingGroupNumberFrom",
                        o.id as "ProcessingGroupGUIDTo", o.number as "ProcessingGroupNumberTo")) order by o.number)
               from refuge.case_link l join refuge.process_case o on o.id = l.linked_id
              where l.case_id = c.id and l.kind = 'process_case'),
            (select xmlagg(xmlelement(name "dataAddress", xmlforest(
                        a.id as "AddressGUID", a.individual_id as "IndividualGUID",
                        refuge.to_progres('address_type', a.address_type) as "AddressType",
                        refuge.to_progres('country', a.country) as "AddressCountry",
                        a.location_level1 as "LocationLevel1Description", a.location_level2 as "LocationLevel2Description",
                        a.location_level3 as "LocationLevel3Description", a.location_level4 as "LocationLevel4Description",
                        a.location_level5 as "LocationLevel5Description", a.location_level6 as "LocationLevel6"))
                    order by a.created_at, a.id)
               from refuge.individual_address a join m on m.id = a.individual_id),
            (select xmlagg(xmlelement(name "dataAlias", xmlforest(
                        n.id as "AliasGUID", n.individual_id as "IndividualGUID",
                        coalesce(n.family_name, n.given_name) as "IndividualAliasLastName",
                        case when n.family_name is not null then n.given_name end as "IndividualAliasFirstName"))
                    order by n.created_at, n.id)
               from refuge.individual_name n join m on m.id = n.individual_id
              where n.kind in ('ALIAS', 'PREVIOUS') and coalesce(n.family_name, n.given_name) is not null),
            (select xmlagg(xmlelement(name "dataEducation", xmlforest(
                        e.id as "EducationGUID", e.individual_id as "IndividualGUID",
                        refuge.to_progres('education_level', e.level) as "EducationLevelCode",
                        refuge.to_progres('education_degree', e.degree) as "DegreeTypeCode")) order by e.created_at, e.id)
               from refuge.individual_education e join m on m.id = e.individual_id),
            (select xmlagg(xmlelement(name "dataEmployment", xmlforest(
                        w.id as "EmploymentGUID", w.individual_id as "IndividualGUID",
                        case w.kind when 'EMPLOYED' then 'E' when 'NOT_EMPLOYED' then 'NE' else 'S' end as "EmploymentTypeCode",
                        refuge.to_progres('occupation', w.occupation) as "OccupationCode",
                        coalesce(w.title, '') as "OccupationText")) order by w.created_at, w.id)
               from refuge.individual_occupation w join m on m.id = w.individual_id),
            -- relatives outside the case
            (select xmlagg(xmlelement(name "dataIndividualRelatives", xmlforest(
                        r.id as "IndividualRelativesGUID", r.individual_id as "IndividualGUID",
                        coalesce(r.family_name, r.given_name) as "FamilyName", r.second_family_name as "SecondFamilyName",
                        case when r.family_name is not null then r.given_name end as "GivenName",
                        r.middle_name as "MiddleName", r.maiden_name as "MaidenName",
                        refuge.to_progres('relationship', r.relationship) as "RelationshipCode",
                        refuge.xml_datetime(r.date_of_birth) as "DateofBirth",
                        case when r.date_of_birth is null then null when r.dob_estimated then 1 else 0 end as "DateofBirthEstimateFlag",
                        refuge.to_progres('country', r.birth_country) as "BirthCountryCode",
                        r.place_of_birth as "BirthCityTownVillage",
                        refuge.to_progres('country', r.residence_country) as "ResidenceCountryCode",
                        refuge.to_progres('sex', r.sex) as "SexCode",
                        refuge.to_progres('country', r.nationality) as "NationalityCode",
                        case when r.deceased then 1 else 0 end as "Deceased", refuge.xml_datetime(r.deceased_on) as "DeceasedDate",
                        refuge.to_progres('marital_status', r.marital_status) as "MarriageStatusCode"))
                    order by r.individual_id, r.created_at, r.id)
               from refuge.individual_relative r join m on m.id = r.individual_id),
            (select xmlagg(xmlelement(name "dataLanguage", xmlforest(
                        l.id as "LanguageGUID", l.individual_id as "IndividualGUID",
                        refuge.to_progres('language', l.language) as "LanguageCode",
                        coalesce(l.read_level, '-') as "LanguageReadCode", coalesce(l.write_level, '-') as "LanguageWriteCode",
                        coalesce(l.speak_level, '-') as "LanguageSpeakCode",
                        coalesce(l.understand_level, '-') as "LanguageUnderstandCode"))
                    order by l.individual_id, l.mother_tongue desc, l.language)
               from refuge.individual_language l join m on m.id = l.individual_id),
            -- members' face images from the HQ vault, when the server holds the key (each opening logged)
            (select xmlagg(xmlelement(name "dataPhotograph", xmlforest(
                        v.id as "PhotoGUID", v.individual_id as "IndividualGUID", 1 as "PhotoTypeCode",
                        encode(refuge.rrf_photo(v.id, c.number), 'base64') as "Photo")) order by m.number)
               from m join lateral (select b.* from refuge.biometric_vault b
                                     where b.individual_id = m.id and b.part = 'face' and keyed
                                     order by b.created_at desc limit 1) v on true),
            xmlelement(name "dataResettlement", xmlforest(c.principal_id as "IndividualGUID",
                       coalesce(c.data ->> 'submission_category', '-') as "ResettlementCriteriaCode",
                       c.data ->> 'secondary_category' as "ResettlementCriteria2Code",
                       coalesce(c.data ->> 'priority', '-') as "ResettlementPriorityCode")),
            (select xmlagg(xmlelement(name "dataVulnerability", xmlforest(
                        n.id as "VulnerabilityGUID", n.individual_id as "IndividualGUID",
                        refuge.to_progres('vulnerability', n.category) as "VulnerabilityCode")) order by n.identified_on, n.id)
               from refuge.specific_need n join m on m.id = n.individual_id where n.active)))
      into doc;
    return xmlroot(doc, version '1.0');
end
$$;
comment on function refuge.rrf_xml(uuid, text) is
    'a resettlement case as an eRRF v4 document for a resettlement state, under a sharing agreement naming it (consent checked, logged)';
grant execute on function refuge.rrf_xml(uuid, text) to refuge_resettlement;

-- reports/40_errf.sql: rrf_json (new)
create function refuge.rrf_json(case_id uuid, agreement text default null) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
    entitled boolean;
    keyed boolean;
    res jsonb;
begin
    c := refuge.rrf_case(rrf_json.case_id, 'Resettlement Registration Form', rrf_json.agreement);
    entitled := refuge.caller_is_superuser() or refuge.caller_has('refuge_supervisor');
    keyed := refuge.vault_key_loaded();
    select jsonb_build_object(
        'form', 'Resettlement Registration Form',
        'case', jsonb_strip_nulls(jsonb_build_object(
            'number', c.number, 'state', c.state, 'size', (select count(*) from refuge.case_member m where m.case_id = c.id),
            'operation', o.code, 'country_of_asylum', o.country,
            'submission_category', c.data ->> 'submission_category',
            'submission_category_label', (select p.label from refuge.progres_code p where p.domain = 'resettlement_criteria'
                                                                                  and p.code = c.data ->> 'submission_category'),
            'secondary_category', c.data ->> 'secondary_category',
            'secondary_category_label', (select p.label from refuge.progres_code p where p.domain = 'resettlement_criteria'
                                                                                 and p.code = c.data ->> 'secondary_category'),
            'priority', c.data ->> 'priority',
            'priority_label', (select p.label from refuge.progres_code p where p.domain = 'resettlement_priority'
                                                                         and p.code = c.data ->> 'priority'),
            'resettlement_country', c.data ->> 'resettlement_country',
            'linked_cases', (select jsonb_agg(x.number order by x.number) from refuge.case_link l
                               join refuge.process_case x on x.id = l.linked_id
                              where l.case_id = c.id and l.kind = 'process_case'),
            'prepared_on', to_char(current_date, 'YYYY-MM-DD'))),
        'members', (select jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                'individual_number', i.number, 'role', cm.role,
                'relationship', coalesce(cm.relationship, 'PA'),
                'relationship_label', (select r.label from refuge.relationship r where r.code = coalesce(cm.relationship, 'PA')),
                'family_name', i.family_name, 'given_name', i.given_name, 'middle_name', i.middle_name,
                'sex', i.sex, 'date_of_birth', to_char(i.date_of_birth, 'YYYY-MM-DD'),
                'date_of_birth_estimated', i.dob_precision <> 'EXACT',
                'place_of_birth', i.place_of_birth,
                'birth_country', (select k.name from refuge.country k where k.code = i.birth_country),
                'origin_country', (select k.name from refuge.country k where k.code = i.origin_country),
                'nationality', (select string_agg(k.name, ', ' order by n.is_primary desc, k.name)
                                  from refuge.individual_nationality n join refuge.country k on k.code = n.country
                                 where n.individual_id = i.id),
                'marital_status', (select v.label from refuge.marital_status v where v.code = i.marital_status),
                'religion', (select v.label from refuge.religion v where v.code = i.religion),
                'ethnicity', (select v.label from refuge.ethnicity v where v.code = i.ethnicity),
                'education_level', (select v.label from refuge.education_level v where v.code = i.education_level),
                'languages', (select string_agg(g.name || case when l.mother_tongue then ' (mother tongue)' else '' end, ', '
                                                order by l.mother_tongue desc, g.name)
                                from refuge.individual_language l join refuge.language g on g.code = l.language
                               where l.individual_id = i.id),
                'occupations', (select string_agg(coalesce(w.title, v.label), ', ')
                                  from refuge.individual_occupation w left join refuge.occupation v on v.code = w.occupation
                                 where w.individual_id = i.id),
                'specific_needs', (select jsonb_agg(jsonb_build_object('code', coalesce(n.code, n.category),
                                       'label', coalesce(sc.label, cat.label)) order by n.category, n.code)
                                     from refuge.specific_need n
                                     join refuge.specific_need_category cat on cat.code = n.category
                                     left join refuge.specific_need_code sc on sc.code = n.code
                                    where n.individual_id = i.id and n.active),
                'original_script_name', refuge.original_script_name(i.id),
                'aliases', (select string_agg(concat_ws(' ', x.given_name, x.family_name), '; ' order by x.created_at)
                              from refuge.individual_name x where x.individual_id = i.id and x.kind in ('ALIAS', 'PREVIOUS')),
                'documents', (select jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                                  'type', coalesce(dt.label, d.doc_type), 'number', d.number,
                                  'issuing_country', (select k.name from refuge.country k where k.code = d.issuing_country),
                                  'issued_on', to_char(d.issued_on, 'YYYY-MM-DD'), 'expires_on', to_char(d.expires_on, 'YYYY-MM-DD'),
                                  'status', d.status)) order by d.created_at)
                                from refuge.document d left join refuge.document_type dt on dt.code = d.doc_type
                               where d.individual_id = i.id),
                'addresses', (select jsonb_agg(concat_ws(', ', a.address_text, a.location_level3, a.location_level2,
                                  a.location_level1, (select k.name from refuge.country k where k.code = a.country))
                                  || coalesce(' (' || at.label || ')', '') order by a.created_at)
                                from refuge.individual_address a left join refuge.address_type at on at.code = a.address_type
                               where a.individual_id = i.id),
                'flight', (select jsonb_agg(concat_ws(', ', f.place, (select k.name from refuge.country k where k.code = f.country))
                               || coalesce(' arrived ' || to_char(f.arrived_on, 'YYYY-MM-DD'), '')
                               || coalesce(' left ' || to_char(f.departed_on, 'YYYY-MM-DD'), '')
                               || case when cardinality(f.reasons) > 0
                                       then ' - ' || (select string_agg(coalesce(fr.label, x), ', ') from unnest(f.reasons) x
                                                       left join refuge.flight_reason fr on fr.code = x) else '' end
                               order by f.seq)
                             from refuge.flight_leg f where f.individual_id = i.id),
                'legal_status', (select jsonb_strip_nulls(jsonb_build_object(
                                     'population_type', (select pt.label from refuge.population_type pt where pt.code = h.population_type),
                                     'legal_basis', h.legal_basis, 'recognised_by', h.recognised_by,
                                     'since', to_char(h.valid_from, 'YYYY-MM-DD')))
                                   from refuge.status_history h where h.individual_id = i.id and h.valid_to is null),
                'medical', (select jsonb_agg(coalesce(sc.label, cat.label) || coalesce(': ' || n.comment, '') order by n.category, n.code)
                              from refuge.specific_need n
                              join refuge.specific_need_category cat on cat.code = n.category
                              left join refuge.specific_need_code sc on sc.code = n.code
                             where n.individual_id = i.id and n.active and n.category in ('SM', 'DS')),
                'bid', (select jsonb_strip_nulls(jsonb_build_object('case', b.number, 'state', b.state,
                                  'decision', b.data ->> 'panel_decision', 'decided_on', b.data ->> 'panel_date',
                                  'risk_level', b.data ->> 'risk_level'))
                          from refuge.process_case b join refuge.case_member bm on bm.case_id = b.id
                         where b.module = 'BID' and bm.individual_id = i.id
                         order by b.closed, b.opened_at desc limit 1),
                'photo', case when keyed then (
                    select encode(refuge.rrf_photo(v.id, c.number), 'base64')
                      from refuge.biometric_vault v
                     where v.individual_id = i.id and v.part = 'face' and v.media_type in ('image/png', 'image/jpeg')
                     order by v.created_at desc limit 1) end,
                'photo_type', (select v.media_type from refuge.biometric_vault v
                                where keyed and v.individual_id = i.id and v.part = 'face'
                                  and v.media_type in ('image/png', 'image/jpeg')
                                order by v.created_at desc limit 1)))
                order by cm.role desc, i.date_of_birth nulls last, i.number)
            from refuge.case_member cm join refuge.individual i on i.id = cm.individual_id
           where cm.case_id = c.id),
        'relatives', (select jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                'of', i.number, 'relationship', (select v.label from refuge.relationship v where v.code = r.relationship),
                'name', concat_ws(' ', r.given_name, r.middle_name, r.family_name), 'sex', r.sex,
                'date_of_birth', to_char(r.date_of_birth, 'YYYY-MM-DD') || case when r.dob_estimated then ' (estimated)' else '' end,
                'birth_country', (select k.name from refuge.country k where k.code = r.birth_country),
                'residence_country', (select k.name from refuge.country k where k.code = r.residence_country),
                'nationality', (select k.name from refuge.country k where k.code = r.nationality),
                'deceased', case when r.deceased then coalesce(to_char(r.deceased_on, 'YYYY-MM-DD'), 'yes') end))
                order by i.number, r.created_at)
            from refuge.case_member cm join refuge.individual i on i.id = cm.individual_id
            join refuge.individual_relative r on r.individual_id = i.id
           where cm.case_id = c.id),
        -- the refugee claim: the RSD cases of the members (decision and basis, not the assessment)
        'claim', (select jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                'case', x.number, 'state', x.state, 'decision', x.data ->> 'decision',
                'appeal_decision', x.data ->> 'appeal_decision', 'legal_basis', x.data ->> 'legal_basis',
                'procedure', x.data ->> 'modality', 'closure_reason', x.data ->> 'closure_reason')) order by x.opened_at)
            from refuge.process_case x
           where x.module = 'RSD' and exists (select 1 from refuge.case_member a join refuge.case_member b on b.individual_id = a.individual_id
                                               where a.case_id = x.id and b.case_id = c.id)),
        'resettlement_needs', jsonb_strip_nulls(jsonb_build_object(
            'needs_assessment', (select e.data ->> 'needs_assessment' from refuge.case_event e
                                  where e.case_id = c.id and e.data ? 'needs_assessment' order by e.id desc limit 1),
            'justification', (select e.data ->> 'justification' from refuge.case_event e
                               where e.case_id = c.id and e.data ? 'justification' order by e.id desc limit 1))),
        'confidential', case when entitled then jsonb_build_object('included', true, 'notes',
                (select coalesce(jsonb_agg(jsonb_build_object('kind', n.kind, 'written', to_char(n.created_at, 'YYYY-MM-DD'),
                        'text', convert_from(refuge.vault_open(n.sealed, 'case_note:' || n.id), 'UTF8')) order by n.created_at), '[]')
                   from refuge.case_note n where n.case_id = c.id and n.confidential and keyed))
            else jsonb_build_object('included', false) end)
      into res
      from refuge.operation o where o.id = c.operation_id;
    return res;
end
$$;
comment on function refuge.rrf_json(uuid, text) is
    'a resettlement case''s Resettlement Registration Form as JSON, under a sharing agreement (consent checked, logged)';
grant execute on function refuge.rrf_json(uuid, text) to refuge_resettlement;

-- reports/40_errf.sql: rrf_pdf (new)
create function refuge.rrf_pdf(case_id uuid, agreement text default null) returns bytea
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    j jsonb;
    m jsonb;
    n jsonb;
    k integer := 0;
    lines text[] := '{}';
    images bytea[] := '{}';
    f text;
begin
    j := refuge.rrf_json(rrf_pdf.case_id, rrf_pdf.agreement);
    lines := lines || ('TITLE' || E'\t' || 'Resettlement Registration Form')
                   || ('SUB' || E'\t' || format('Case %s - prepared %s - %s', j #>> '{case,number}', j #>> '{case,prepared_on}',
                                                'CONFIDENTIAL: contains personal data'));
    lines := lines || ('SECTION' || E'\t' || '1. Resettlement case information');
    foreach f in array array['number', 'size', 'operation', 'country_of_asylum', 'submission_category',
                             'secondary_category', 'priority', 'resettlement_country', 'state'] loop
        if j -> 'case' ? f then
            lines := lines || format(E'FIELD\t%s\t%s', initcap(replace(f, '_', ' ')),
                (j -> 'case' ->> f) || coalesce(' - ' || (j -> 'case' ->> (f || '_label')), ''));
        end if;
    end loop;
    lines := lines || format(E'FIELD\tLinked cases\t%s',
        coalesce((select string_agg(x, ', ') from jsonb_array_elements_text(j -> 'case' -> 'linked_cases') x), 'none'));
    lines := lines || ('SECTION' || E'\t' || '2. Case members');
    for m in select * from jsonb_array_elements(j -> 'members') loop
        k := k + 1;
        lines := lines || format(E'MEMBER\t%s, %s (%s)', upper(coalesce(m ->> 'family_name', '')),
                                 coalesce(m ->> 'given_name', ''), m ->> 'relationship_label');
        if m ? 'photo' then
            images := images || decode(m ->> 'photo', 'base64');
            lines := lines || format(E'PHOTO\t%s\t%s', cardinality(images), m ->> 'photo_type');
        else
            lines := lines || ('PHOTO' || E'\t0');
        end if;
        foreach f in array array['individual_number', 'original_script_name', 'aliases', 'sex', 'date_of_birth',
                                 'place_of_birth', 'birth_country', 'origin_country', 'nationality', 'marital_status',
                                 'religion', 'ethnicity', 'education_level', 'languages', 'occupations'] loop
            if m ? f then
                lines := lines || format(E'FIELD\t%s\t%s', initcap(replace(f, '_', ' ')),
                    (m ->> f) || case when f = 'date_of_birth' and (m ->> 'date_of_birth_estimated')::boolean
                                      then ' (estimated)' else '' end);
            end if;
        end loop;
        if m ? 'legal_status' then
            lines := lines || format(E'FIELD\tLegal status\t%s', concat_ws(', ', m #>> '{legal_status,population_type}',
                coalesce('basis ' || (m #>> '{legal_status,legal_basis}'), null),
                coalesce('recognised by ' || lower(m #>> '{legal_status,recognised_by}'), null),
                coalesce('since ' || (m #>> '{legal_status,since}'), null)));
        end if;
    end loop;
    lines := lines || ('SECTION' || E'\t' || '3. Relatives outside the case');
    if j -> 'relatives' is null or jsonb_typeof(j -> 'relatives') <> 'array' then
        lines := lines || ('TEXT' || E'\t' || 'No relatives outside the case recorded.');
    else
        for n in select * from jsonb_array_elements(j -> 'relatives') loop
            lines := lines || format(E'FIELD\t%s of %s\t%s', coalesce(n ->> 'relationship', 'Relative'), n ->> 'of',
                concat_ws('; ', n ->> 'name', n ->> 'sex', 'born ' || (n ->> 'date_of_birth'),
                          'in ' || (n ->> 'birth_country'), 'lives in ' || (n ->> 'residence_country'),
                          'national of ' || (n ->> 'nationality'), 'deceased ' || (n ->> 'deceased')));
        end loop;
    end if;
    lines := lines || ('SECTION' || E'\t' || '4. Refugee claim and basis of recognition');
    if j -> 'claim' is null or jsonb_typeof(j -> 'claim') <> 'array' then
        lines := lines || ('TEXT' || E'\t' || 'No refugee status determination case of these members in Refuge; legal status as shown for each member.');
    else
        for n in select * from jsonb_array_elements(j -> 'claim') loop
            lines := lines || format(E'FIELD\tRSD case %s\t%s', n ->> 'case', concat_ws('; ', 'state ' || (n ->> 'state'),
                'first instance ' || (n ->> 'decision'), 'appeal ' || (n ->> 'appeal_decision'),
                'legal basis ' || (n ->> 'legal_basis'), 'procedure ' || (n ->> 'procedure'),
                'closed as ' || (n ->> 'closure_reason')));
        end loop;
    end if;
    lines := lines || ('SECTION' || E'\t' || '5. Addresses and flight history');
    for m in select * from jsonb_array_elements(j -> 'members') loop
        lines := lines || format(E'FIELD\t%s: addresses\t%s', m ->> 'individual_number',
            coalesce((select string_agg(x, '; ') from jsonb_array_elements_text(m -> 'addresses') x), 'none recorded'));
        lines := lines || format(E'FIELD\t%s: flight\t%s', m ->> 'individual_number',
            coalesce((select string_agg(x, ' > ') from jsonb_array_elements_text(m -> 'flight') x), 'none recorded'));
    end loop;
    lines := lines || ('SECTION' || E'\t' || '6. Documents');
    for m in select * from jsonb_array_elements(j -> 'members') loop
        lines := lines || format(E'FIELD\t%s\t%s', m ->> 'individual_number',
            coalesce((select string_agg(concat_ws(' ', x ->> 'type', x ->> 'number', '(' || (x ->> 'issuing_country') || ')',
                                                  'issued ' || (x ->> 'issued_on'), 'expires ' || (x ->> 'expires_on'),
                                                  lower(x ->> 'status')), '; ')
                        from jsonb_array_elements(m -> 'documents') x), 'no documents'));
    end loop;
    lines := lines || ('SECTION' || E'\t' || '7. Specific needs, medical and best-interests summaries');
    for m in select * from jsonb_array_elements(j -> 'members') loop
        lines := lines || format(E'FIELD\t%s: specific needs\t%s', m ->> 'individual_number',
            coalesce((select string_agg((x ->> 'code') || ' ' || (x ->> 'label'), '; ') from jsonb_array_elements(m -> 'specific_needs') x), 'none'));
        if m ? 'medical' then
            lines := lines || format(E'FIELD\t%s: medical\t%s', m ->> 'individual_number',
                (select string_agg(x, '; ') from jsonb_array_elements_text(m -> 'medical') x));
        end if;
        if m ? 'bid' then
            lines := lines || format(E'FIELD\t%s: best interests\t%s', m ->> 'individual_number',
                concat_ws('; ', 'case ' || (m #>> '{bid,case}'), 'state ' || (m #>> '{bid,state}'),
                          'risk ' || (m #>> '{bid,risk_level}'), 'BID panel decision ' || (m #>> '{bid,decision}'),
                          'on ' || (m #>> '{bid,decided_on}')));
        end if;
    end loop;
    lines := lines || ('SECTION' || E'\t' || '8. Resettlement needs and justification');
    lines := lines || ('TEXT' || E'\t' || coalesce(j #>> '{resettlement_needs,needs_assessment}', 'No needs assessment recorded.'));
    lines := lines || ('TEXT' || E'\t' || coalesce(j #>> '{resettlement_needs,justification}', 'No justification recorded.'));
    lines := lines || ('SECTION' || E'\t' || '9. Declarations and signatures');
    lines := lines || ('TEXT' || E'\t' || 'Declaration of the principal applicant: I declare that the information I have given is true and '
        || 'complete to the best of my knowledge. I understand that false information may lead to the cancellation of my '
        || 'resettlement submission. I consent to UNHCR sharing this information with the resettlement State and the '
        || 'organisations that process my case, for the purpose of resettlement.');
    lines := lines || ('TEXT' || E'\t' || 'Interpreter: I have interpreted this form faithfully to the applicant in a language they understand.');
    lines := lines || format(E'FIELD\tPrincipal applicant\t%s', 'Signature: ______________________  Date: ____________');
    lines := lines || format(E'FIELD\tInterpreter (name, language)\t%s', '______________________  Signature: ____________  Date: ________');
    lines := lines || format(E'FIELD\tInterviewing officer\t%s', '______________________  Signature: ____________  Date: ________');
    lines := lines || format(E'FIELD\tReviewing officer (UNHCR)\t%s', '______________________  Signature: ____________  Date: ________');
    lines := lines || ('SECTION' || E'\t' || '10. Confidential information');
    if (j #>> '{confidential,included}')::boolean then
        if jsonb_array_length(j #> '{confidential,notes}') = 0 then
            lines := lines || ('TEXT' || E'\t' || 'No confidential notes.');
        end if;
        for n in select * from jsonb_array_elements(j #> '{confidential,notes}') loop
            lines := lines || format(E'NOTE\t%s, %s\t%s', n ->> 'kind', n ->> 'written', n ->> 'text');
        end loop;
    else
        lines := lines || ('TEXT' || E'\t' || 'Withheld: this section is shown only to resettlement supervisors of the case.');
    end if;
    return refuge.render_pdf('Resettlement Registration Form ' || (j #>> '{case,number}'), lines, images);
end
$$;
comment on function refuge.rrf_pdf(uuid, text) is
    'a resettlement case''s Resettlement Registration Form as PDF, under a sharing agreement (consent checked, logged)';
grant execute on function refuge.rrf_pdf(uuid, text) to refuge_resettlement;

-- functions/43_demographic.sql: demographic_blocked (new)
create function refuge.demographic_blocked(p refuge.match_profile, p_window integer, p_cap integer)
    returns table (candidate_id uuid, namesakes integer)
    -- (a few dozen people: the planner must look them up by index, never scan everyone)
    rows 50
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
begin
    return query
    select y.id, y.namesakes
      from (select x.id, x.namesakes
              from (select s.id, count(*) as shared, min(s.gap) as gap, min(bn.n)::integer as namesakes
                      from unnest(p.keys) k(key)
                     cross join lateral (select case when strpos(k.key, '+') > 0 then 4 * p_cap else p_cap end as cap) c
                     cross join lateral (select array_agg(b.individual_id) as ids,
                                                array_agg(abs(b.birth_year - p.birth_year)) as gaps
                                           from (select b.individual_id, b.birth_year from refuge.match_block b
                                                  where b.key = k.key
                                                    and (p.birth_year = 0 or b.birth_year = 0
                                                         or b.birth_year between p.birth_year - p_window
                                                                             and p.birth_year + p_window)
                                                  limit c.cap + 1) b) blk
                     cross join lateral unnest(blk.ids, blk.gaps) s(id, gap)
                     cross join lateral (select cardinality(blk.ids) as n) bn
                     where cardinality(blk.ids) <= c.cap
                     group by s.id) x
             where x.id is distinct from p.individual_id
             -- the people sharing most keys, born nearest: the comparison's work is bounded
             order by x.shared desc, x.gap, x.id
             limit 80) y
     where not refuge.demographic_cleared(p.individual_id, y.id);
end
$$;

-- functions/43_demographic.sql: shared_namesakes (new)
create function refuge.shared_namesakes(p refuge.match_profile, q refuge.match_profile, p_window integer)
    returns integer
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    select min(n.c)::integer
      from unnest(p.keys) k(key)
     cross join lateral (select count(*) as c
                           from (select 1 from refuge.match_block b
                                  where b.key = k.key
                                    and (p.birth_year = 0 or b.birth_year = 0
                                         or b.birth_year between p.birth_year - p_window and p.birth_year + p_window)
                                  limit 16) z) n
     where k.key = any (q.keys);
end;

-- functions/43_demographic.sql: name_level_by_frequency (new)
create function refuge.name_level_by_frequency(level integer, namesakes integer) returns integer
    language sql immutable parallel safe
    return case when level in (4, 5) and namesakes <= 3 then level + 4
                when level in (4, 5) and namesakes <= 15 then level + 2
                else level end;
comment on function refuge.name_level_by_frequency(integer, integer) is
    'the demographic name level with the name''s frequency: 4/5 (agrees/same, more than 15 namesakes), 6/7 (4 to 15), 8/9 (3 at most)';
grant execute on function refuge.name_level_by_frequency(integer, integer) to refuge_supervisor,
    refuge_biometrics_admin, refuge_admin;

-- functions/43_demographic.sql: early_levels (new)
create function refuge.early_levels(p refuge.match_profile, pi refuge.individual, cp refuge.match_profile,
                                    c refuge.individual, namesakes integer) returns integer[]
    language sql immutable parallel safe
    return array[refuge.name_level_by_frequency(
                     case when p.names[1] = cp.names[1] and strpos(cp.names[1], ' ') > 0 then 5
                          else refuge.name_match_level(p.names, cp.names) end, namesakes),
                 refuge.birth_date_level(pi.date_of_birth, pi.dob_precision, c.date_of_birth, c.dob_precision),
                 case when pi.sex = 'U' or c.sex = 'U' then 0 when pi.sex = c.sex then 1 else 2 end,
                 case when p.place is not null and cp.place is not null
                           and (p.place = cp.place or refuge.name_match_level(array[p.place], array[cp.place]) >= 3) then 1
                      when pi.birth_country is not null and c.birth_country is not null
                           and pi.birth_country = c.birth_country then 2
                      when (pi.birth_country is not null and c.birth_country is not null)
                           or (p.place is not null and cp.place is not null) then 3
                      else 0 end,
                 case when cardinality(p.parents) = 0 or cardinality(cp.parents) = 0 then 0
                      when p.parents && cp.parents or refuge.name_match_level(p.parents, cp.parents) >= 3 then 1
                      else 2 end,
                 0, 0, 0,
                 case when c.site_id = pi.site_id and abs(c.registration_date - pi.registration_date) <= 90 then 1
                      when c.site_id = pi.site_id then 2
                      when c.operation_id = pi.operation_id then 3 else 4 end];

-- functions/43_demographic.sql: match_levels (new)
create function refuge.match_levels(a uuid, b uuid) returns integer[]
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    select e.lv[1:5] || array[refuge.family_level(a, refuge.current_group(a), b, refuge.current_group(b)),
                              refuge.document_level(a, b), refuge.phone_level(a, b)] || e.lv[9:9]
      from refuge.individual ia, refuge.individual ib, refuge.match_profile pa, refuge.match_profile pb,
           lateral (select refuge.early_levels(pa, ia, pb, ib,
                                               refuge.shared_namesakes(pa, pb, refuge.birth_year_window(ia.dob_precision))) as lv) e
     where ia.id = a and ib.id = b and pa.individual_id = a and pb.individual_id = b;
end;

alter table refuge.processing_purpose owner to refuge_owner;
revoke all on table refuge.processing_purpose from public;
alter table refuge.processing_purpose enable row level security;
alter table refuge.processing_purpose force row level security;
create policy owner_all on refuge.processing_purpose for all to refuge_owner using (true) with check (true);
create trigger no_truncate before truncate on refuge.processing_purpose
    for each statement execute function refuge.refuse_truncate();
alter table refuge.processing_purpose enable always trigger no_truncate;
alter table refuge.purpose_legal_basis owner to refuge_owner;
revoke all on table refuge.purpose_legal_basis from public;
alter table refuge.purpose_legal_basis enable row level security;
alter table refuge.purpose_legal_basis force row level security;
create policy owner_all on refuge.purpose_legal_basis for all to refuge_owner using (true) with check (true);
create trigger no_truncate before truncate on refuge.purpose_legal_basis
    for each statement execute function refuge.refuse_truncate();
alter table refuge.purpose_legal_basis enable always trigger no_truncate;
alter table refuge.consent owner to refuge_owner;
revoke all on table refuge.consent from public;
alter table refuge.consent enable row level security;
alter table refuge.consent force row level security;
create policy owner_all on refuge.consent for all to refuge_owner using (true) with check (true);
create trigger no_truncate before truncate on refuge.consent
    for each statement execute function refuge.refuse_truncate();
alter table refuge.consent enable always trigger no_truncate;
alter table refuge.information_notice owner to refuge_owner;
revoke all on table refuge.information_notice from public;
alter table refuge.information_notice enable row level security;
alter table refuge.information_notice force row level security;
create policy owner_all on refuge.information_notice for all to refuge_owner using (true) with check (true);
create trigger no_truncate before truncate on refuge.information_notice
    for each statement execute function refuge.refuse_truncate();
alter table refuge.information_notice enable always trigger no_truncate;
alter table refuge.sharing_agreement owner to refuge_owner;
revoke all on table refuge.sharing_agreement from public;
alter table refuge.sharing_agreement enable row level security;
alter table refuge.sharing_agreement force row level security;
create policy owner_all on refuge.sharing_agreement for all to refuge_owner using (true) with check (true);
create trigger no_truncate before truncate on refuge.sharing_agreement
    for each statement execute function refuge.refuse_truncate();
alter table refuge.sharing_agreement enable always trigger no_truncate;
alter table refuge.retention_rule owner to refuge_owner;
revoke all on table refuge.retention_rule from public;
alter table refuge.retention_rule enable row level security;
alter table refuge.retention_rule force row level security;
create policy owner_all on refuge.retention_rule for all to refuge_owner using (true) with check (true);
create trigger no_truncate before truncate on refuge.retention_rule
    for each statement execute function refuge.refuse_truncate();
alter table refuge.retention_rule enable always trigger no_truncate;
alter table refuge.retention_setting owner to refuge_owner;
revoke all on table refuge.retention_setting from public;
alter table refuge.retention_setting enable row level security;
alter table refuge.retention_setting force row level security;
create policy owner_all on refuge.retention_setting for all to refuge_owner using (true) with check (true);
create trigger no_truncate before truncate on refuge.retention_setting
    for each statement execute function refuge.refuse_truncate();
alter table refuge.retention_setting enable always trigger no_truncate;
alter table refuge.retention_run owner to refuge_owner;
revoke all on table refuge.retention_run from public;
alter table refuge.retention_run enable row level security;
alter table refuge.retention_run force row level security;
create policy owner_all on refuge.retention_run for all to refuge_owner using (true) with check (true);
create trigger no_truncate before truncate on refuge.retention_run
    for each statement execute function refuge.refuse_truncate();
alter table refuge.retention_run enable always trigger no_truncate;

-- how sql/99_security.sql audits the new tables
create trigger stamp before insert or update on refuge.consent for each row execute function refuge.stamp_row();
create trigger stamp before insert or update on refuge.information_notice for each row execute function refuge.stamp_row();
create trigger stamp before insert or update on refuge.sharing_agreement for each row execute function refuge.stamp_row();
create trigger stamp before insert or update on refuge.purpose_legal_basis for each row execute function refuge.stamp_row();
alter table refuge.purpose_legal_basis enable always trigger stamp;
create trigger audit after insert or update or delete on refuge.purpose_legal_basis for each row execute function refuge.audit_row('none');
create trigger audit_flush after insert or update or delete on refuge.purpose_legal_basis for each statement execute function refuge.audit_flush();
alter table refuge.purpose_legal_basis enable always trigger audit;
alter table refuge.purpose_legal_basis enable always trigger audit_flush;
create trigger audit after insert or update or delete on refuge.retention_rule for each row execute function refuge.audit_row('none');
create trigger audit_flush after insert or update or delete on refuge.retention_rule for each statement execute function refuge.audit_flush();
alter table refuge.retention_rule enable always trigger audit;
alter table refuge.retention_rule enable always trigger audit_flush;
create trigger stamp before insert or update on refuge.retention_setting for each row execute function refuge.stamp_row();
alter table refuge.retention_setting enable always trigger stamp;
create trigger audit after insert or update or delete on refuge.retention_setting for each row execute function refuge.audit_row('none');
create trigger audit_flush after insert or update or delete on refuge.retention_setting for each statement execute function refuge.audit_flush();
alter table refuge.retention_setting enable always trigger audit;
alter table refuge.retention_setting enable always trigger audit_flush;
-- the reference tables join replication (functions/90_sync.sql's wiring); a
-- field site's publication takes them when refuge.add_site runs again
create trigger sync_local before insert or update or delete on refuge.processing_purpose
    for each row execute function refuge.sync_reference_local();
create trigger sync_local before insert or update or delete on refuge.purpose_legal_basis
    for each row execute function refuge.sync_reference_local();
create trigger sync_local before insert or update or delete on refuge.sharing_agreement
    for each row execute function refuge.sync_reference_local();
create trigger a_sync_apply before insert or update or delete on refuge.processing_purpose
    for each row execute function refuge.sync_row_apply('direct', '');
create trigger a_sync_apply before insert or update or delete on refuge.purpose_legal_basis
    for each row execute function refuge.sync_row_apply('direct', '');
create trigger a_sync_apply before insert or update or delete on refuge.sharing_agreement
    for each row execute function refuge.sync_row_apply('checked', '');
alter table refuge.processing_purpose enable replica trigger a_sync_apply;
alter table refuge.purpose_legal_basis enable replica trigger a_sync_apply;
alter table refuge.sharing_agreement enable replica trigger a_sync_apply;
alter table refuge.consent enable always trigger stamp;
alter table refuge.information_notice enable always trigger stamp;
alter table refuge.sharing_agreement enable always trigger stamp;
create trigger audit after insert or update or delete on refuge.consent for each row execute function refuge.audit_row('individual');
create trigger audit after insert or update or delete on refuge.information_notice for each row execute function refuge.audit_row('individual');
create trigger audit after insert or update or delete on refuge.processing_purpose for each row execute function refuge.audit_row('none');
create trigger audit after insert or update or delete on refuge.sharing_agreement for each row execute function refuge.audit_row('none');
create trigger audit_flush after insert or update or delete on refuge.consent for each statement execute function refuge.audit_flush();
create trigger audit_flush after insert or update or delete on refuge.information_notice for each statement execute function refuge.audit_flush();
create trigger audit_flush after insert or update or delete on refuge.processing_purpose for each statement execute function refuge.audit_flush();
create trigger audit_flush after insert or update or delete on refuge.sharing_agreement for each statement execute function refuge.audit_flush();
alter table refuge.consent enable always trigger audit;
alter table refuge.information_notice enable always trigger audit;
alter table refuge.processing_purpose enable always trigger audit;
alter table refuge.sharing_agreement enable always trigger audit;
alter table refuge.consent enable always trigger audit_flush;
alter table refuge.information_notice enable always trigger audit_flush;
alter table refuge.processing_purpose enable always trigger audit_flush;
alter table refuge.sharing_agreement enable always trigger audit_flush;

-- the warehouse's new tables as sql/99_security.sql makes them
alter table refuge_warehouse.microdata_extract owner to refuge_owner;
alter table refuge_warehouse.microdata_record owner to refuge_owner;
revoke all on table refuge_warehouse.microdata_extract from public;
revoke all on table refuge_warehouse.microdata_record from public;
alter table refuge_warehouse.microdata_extract enable row level security;
alter table refuge_warehouse.microdata_extract force row level security;
alter table refuge_warehouse.microdata_record enable row level security;
alter table refuge_warehouse.microdata_record force row level security;
create policy owner_all on refuge_warehouse.microdata_extract for all to refuge_owner using (true) with check (true);
create policy owner_all on refuge_warehouse.microdata_record for all to refuge_owner using (true) with check (true);

-- every function owned by refuge_owner, none executable by PUBLIC (as sql/99_security.sql)
do $$
declare
    r record;
begin
    for r in select p.oid::regprocedure as fn from pg_catalog.pg_proc p
              where p.pronamespace in ('refuge'::regnamespace, 'refuge_warehouse'::regnamespace)
                and pg_catalog.pg_get_userbyid(p.proowner) <> 'refuge_owner'
    loop
        execute format('alter function %s owner to refuge_owner', r.fn);
    end loop;
end
$$;
revoke all on all functions in schema refuge, refuge_warehouse from public;

-- A model estimated here under 0.11.0 has no frequency levels and its
-- levels 4 and 5 meant every frequency: the shipped model is in force
-- until the DBA estimates again.
do $$
begin
    if exists (select 1 from refuge.match_weight) then
        delete from refuge.match_weight;
        delete from refuge.match_model;
        raise notice 'refuge 0.12.0: the demographic model estimated here predates name frequencies; the shipped model is in force until refuge.estimate_match_model() runs again';
    end if;
end
$$;
