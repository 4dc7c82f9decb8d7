-- Vocabularies: the code lists of registration (UNHCR, ISO), shipped rows
-- marked shipped; operations may add local codes.  Their rows are in
-- sql/04_vocabulary_data.sql (generated).

-- Vocabularies.  Shipped codes (shipped = true) come with the extension;
-- operations may add local codes, which pg_dump keeps (see 90_config_dump.sql).
create table refuge.country (
    code        text primary key check (code ~ '^[A-Z]{3}$'),
    alpha2      text,
    name        text not null,
    active      boolean not null default true,
    shipped     boolean not null default false
);
comment on table refuge.country is 'ISO 3166-1 countries (alpha-3 codes are stored everywhere; proGres codes only in import/export crosswalks)';
select pg_catalog.pg_extension_config_dump('refuge.country', 'where not shipped');

create table refuge.language (
    code        text primary key check (code ~ '^[a-z]{3}$'),
    name        text not null,
    active      boolean not null default true,
    shipped     boolean not null default false
);
comment on table refuge.language is 'ISO 639-3 languages';
select pg_catalog.pg_extension_config_dump('refuge.language', 'where not shipped');

create table refuge.script (
    code        text primary key check (code ~ '^[A-Z][a-z]{3}$'),
    name        text not null,
    active      boolean not null default true,
    shipped     boolean not null default false
);
comment on table refuge.script is 'ISO 15924 writing systems, for names recorded in their original script';
select pg_catalog.pg_extension_config_dump('refuge.script', 'where not shipped');

create table refuge.sex (
    code text primary key, label text not null,
    active boolean not null default true, shipped boolean not null default false);
comment on table refuge.sex is 'vocabulary: sex (F, M, U)';
select pg_catalog.pg_extension_config_dump('refuge.sex', 'where not shipped');

create table refuge.relationship (
    code text primary key, label text not null,
    active boolean not null default true, shipped boolean not null default false);
comment on table refuge.relationship is 'relationship to the principal representative (proGres/eRRF codes); PA is the principal representative';
select pg_catalog.pg_extension_config_dump('refuge.relationship', 'where not shipped');

create table refuge.marital_status (
    code text primary key, label text not null,
    active boolean not null default true, shipped boolean not null default false);
comment on table refuge.marital_status is 'vocabulary: marital statuses (UNHCR)';
select pg_catalog.pg_extension_config_dump('refuge.marital_status', 'where not shipped');

create table refuge.education_level (
    code text primary key, label text not null,
    active boolean not null default true, shipped boolean not null default false);
comment on table refuge.education_level is 'vocabulary: education levels (UNHCR)';
select pg_catalog.pg_extension_config_dump('refuge.education_level', 'where not shipped');

create table refuge.education_degree (
    code text primary key, label text not null,
    active boolean not null default true, shipped boolean not null default false);
comment on table refuge.education_degree is 'vocabulary: degrees (proGres codes)';
select pg_catalog.pg_extension_config_dump('refuge.education_degree', 'where not shipped');

create table refuge.address_type (
    code text primary key, label text not null,
    active boolean not null default true, shipped boolean not null default false);
comment on table refuge.address_type is 'vocabulary: kinds of address (UNHCR)';
select pg_catalog.pg_extension_config_dump('refuge.address_type', 'where not shipped');

create table refuge.language_proficiency (
    code text primary key, label text not null,
    active boolean not null default true, shipped boolean not null default false);
comment on table refuge.language_proficiency is 'vocabulary: language proficiency levels';
select pg_catalog.pg_extension_config_dump('refuge.language_proficiency', 'where not shipped');

create table refuge.religion (
    code text primary key, label text not null,
    active boolean not null default true, shipped boolean not null default false);
comment on table refuge.religion is 'vocabulary: religions (proGres codes)';
select pg_catalog.pg_extension_config_dump('refuge.religion', 'where not shipped');

create table refuge.ethnicity (
    code text primary key, label text not null,
    active boolean not null default true, shipped boolean not null default false);
comment on table refuge.ethnicity is 'vocabulary: ethnicities (proGres codes)';
select pg_catalog.pg_extension_config_dump('refuge.ethnicity', 'where not shipped');

create table refuge.occupation (
    code text primary key, label text not null,
    active boolean not null default true, shipped boolean not null default false);
comment on table refuge.occupation is 'occupation codes used by proGres/eRRF (ISCO-based hierarchy)';
select pg_catalog.pg_extension_config_dump('refuge.occupation', 'where not shipped');

create table refuge.population_type (
    code        text primary key,
    kind        text not null check (kind in ('population', 'solution')),
    label       text not null,
    definition  text,
    hxl_tag     text,
    active      boolean not null default true,
    shipped     boolean not null default false
);
comment on table refuge.population_type is 'vocabulary: population types (refugee, asylum-seeker, stateless ...) with their HXL tags';
select pg_catalog.pg_extension_config_dump('refuge.population_type', 'where not shipped');

create table refuge.age_bracket (
    profile         text not null,
    code            text not null,
    label           text not null,
    min_age         integer,
    max_age         integer,
    hxl_attributes  text,
    shipped         boolean not null default false,
    primary key (profile, code)
);
comment on table refuge.age_bracket is 'UNHCR age profiles: STD (0-4, 5-11, 12-17, 18-59, 60+) and the pre-2006 STD1';
select pg_catalog.pg_extension_config_dump('refuge.age_bracket', 'where not shipped');

create table refuge.specific_need_category (
    code text primary key, label text not null,
    active boolean not null default true, shipped boolean not null default false);
comment on table refuge.specific_need_category is 'vocabulary: UNHCR specific-need categories';
select pg_catalog.pg_extension_config_dump('refuge.specific_need_category', 'where not shipped');

create table refuge.specific_need_code (
    code        text primary key,
    category    text not null references refuge.specific_need_category,
    label       text not null,
    note        text,
    active      boolean not null default true,
    shipped     boolean not null default false,
    check (code like category || '-%')
);
comment on table refuge.specific_need_code is 'UNHCR specific-needs sub-codes (category-subcode, e.g. SC-UC)';
select pg_catalog.pg_extension_config_dump('refuge.specific_need_code', 'where not shipped');

-- Lists that no shared source defines; the codes are refuge's own.
create table refuge.registration_level (
    code text primary key, label text not null, rank integer not null,
    active boolean not null default true, shipped boolean not null default false);
comment on table refuge.registration_level is 'vocabulary: registration levels (group pre-registration, emergency, basic, comprehensive)';
select pg_catalog.pg_extension_config_dump('refuge.registration_level', 'where not shipped');
insert into refuge.registration_level (code, label, rank, shipped) values
  ('GROUP_PRE', 'Group pre-registration (not formal registration)', 0, true),
  ('EMERGENCY', 'Individual emergency registration (IER)', 1, true),
  ('BASIC', 'Individual basic registration (IBR)', 2, true),
  ('COMPREHENSIVE', 'Individual comprehensive registration (ICR)', 3, true);

create table refuge.date_precision (
    code text primary key, label text not null,
    active boolean not null default true, shipped boolean not null default false);
comment on table refuge.date_precision is 'vocabulary: how exact a date is (exact, month, year, estimated)';
select pg_catalog.pg_extension_config_dump('refuge.date_precision', 'where not shipped');
insert into refuge.date_precision (code, label, shipped) values
  ('EXACT', 'Exact date', true),
  ('MONTH', 'Month and year known; day unknown', true),
  ('YEAR', 'Year known; month and day unknown', true),
  ('ESTIMATED', 'Estimated (e.g. from apparent age)', true);

create table refuge.document_type (
    code text primary key, label text not null,
    active boolean not null default true, shipped boolean not null default false);
comment on table refuge.document_type is 'vocabulary: document types (national ID, passport, UNHCR certificate ...)';
select pg_catalog.pg_extension_config_dump('refuge.document_type', 'where not shipped');
insert into refuge.document_type (code, label, shipped) values
  ('PASSPORT', 'Passport', true),
  ('NATIONAL_ID', 'National identity card', true),
  ('BIRTH_CERT', 'Birth certificate', true),
  ('MARRIAGE_CERT', 'Marriage certificate', true),
  ('DEATH_CERT', 'Death certificate', true),
  ('DIVORCE_CERT', 'Divorce certificate', true),
  ('REFUGEE_ID', 'Refugee identity card issued by the host state', true),
  ('ASYLUM_SEEKER_CERT', 'Asylum-seeker certificate', true),
  ('UNHCR_ATTESTATION', 'UNHCR attestation / certificate', true),
  ('RATION_CARD', 'Ration or assistance card', true),
  ('TRAVEL_DOC', 'Convention travel document', true),
  ('DRIVING_LICENCE', 'Driving licence', true),
  ('MILITARY_ID', 'Military identity or service book', true),
  ('SCHOOL_CERT', 'School or diploma certificate', true),
  ('OTHER', 'Other document', true);

create table refuge.flight_reason (
    code text primary key, label text not null,
    active boolean not null default true, shipped boolean not null default false);
comment on table refuge.flight_reason is 'vocabulary: reasons of flight';
select pg_catalog.pg_extension_config_dump('refuge.flight_reason', 'where not shipped');
insert into refuge.flight_reason (code, label, shipped) values
  ('PERSECUTION', 'Persecution (race, religion, nationality, political opinion, social group)', true),
  ('ARMED_CONFLICT', 'Armed conflict', true),
  ('GENERALIZED_VIOLENCE', 'Generalized violence', true),
  ('HUMAN_RIGHTS', 'Serious human rights violations', true),
  ('PUBLIC_ORDER', 'Events seriously disturbing public order', true),
  ('GBV', 'Gender-based violence or threat of it', true),
  ('FORCED_RECRUITMENT', 'Forced recruitment', true),
  ('NATURAL_DISASTER', 'Natural disaster or climate event', true),
  ('FOOD_INSECURITY', 'Food insecurity or famine', true),
  ('FAMILY_REUNIFICATION', 'Joining family members', true),
  ('LACK_OF_SERVICES', 'Lack of access to basic services', true),
  ('ECONOMIC', 'Economic reasons', true),
  ('ONWARD_MOVEMENT', 'Onward movement from a first country of asylum', true),
  ('OTHER', 'Other reason', true),
  ('UNKNOWN', 'Unknown', true);

create table refuge.contact_type (
    code text primary key, label text not null,
    active boolean not null default true, shipped boolean not null default false);
comment on table refuge.contact_type is 'vocabulary: kinds of contact (telephone, mobile, e-mail, messaging application)';
select pg_catalog.pg_extension_config_dump('refuge.contact_type', 'where not shipped');
insert into refuge.contact_type (code, label, shipped) values
  ('PHONE', 'Telephone', true), ('MOBILE', 'Mobile telephone', true),
  ('EMAIL', 'E-mail', true), ('MESSAGING', 'Messaging application', true),
  ('OTHER', 'Other', true);

create table refuge.individual_status (
    code text primary key, label text not null,
    active boolean not null default true, shipped boolean not null default false);
comment on table refuge.individual_status is 'vocabulary: statuses of an individual record (active, inactive, hold, closed, deceased, duplicate)';
select pg_catalog.pg_extension_config_dump('refuge.individual_status', 'where not shipped');
insert into refuge.individual_status (code, label, shipped) values
  ('ACTIVE', 'Active', true),
  ('INACTIVE', 'Inactive (not seen at verification)', true),
  ('HOLD', 'On hold', true),
  ('CLOSED', 'Closed (durable solution, departure or other reason)', true),
  ('DECEASED', 'Deceased', true),
  ('DUPLICATE', 'Closed as a duplicate of another record', true);

create table refuge.group_status (
    code text primary key, label text not null,
    active boolean not null default true, shipped boolean not null default false);
comment on table refuge.group_status is 'vocabulary: statuses of a registration group';
select pg_catalog.pg_extension_config_dump('refuge.group_status', 'where not shipped');
insert into refuge.group_status (code, label, shipped) values
  ('ACTIVE', 'Active', true),
  ('INACTIVE', 'Inactive', true),
  ('CLOSED', 'Closed (no members left, merged or departed)', true);

create table refuge.site_type (
    code text primary key, label text not null,
    active boolean not null default true, shipped boolean not null default false);
comment on table refuge.site_type is 'vocabulary: kinds of site (camp, urban, office, transit, border)';
select pg_catalog.pg_extension_config_dump('refuge.site_type', 'where not shipped');
insert into refuge.site_type (code, label, shipped) values
  ('CAMP', 'Camp or settlement', true),
  ('URBAN', 'Urban area', true),
  ('OFFICE', 'Registration or field office', true),
  ('TRANSIT', 'Transit or reception centre', true),
  ('BORDER', 'Border point', true);

-- What every vocabulary shares: its codes are never renamed or deleted
-- while rows use them (vocab_guard), a change refreshes the backends' code
-- cache (vocab_changed), and every staff role reads it.
do $vocabularies$
declare
    t text;
begin
    foreach t in array array['country', 'language', 'script', 'sex', 'relationship', 'marital_status', 'education_level',
                             'education_degree', 'address_type', 'language_proficiency', 'religion', 'ethnicity',
                             'occupation', 'population_type', 'age_bracket', 'specific_need_category', 'specific_need_code',
                             'registration_level', 'date_precision', 'document_type', 'flight_reason', 'contact_type',
                             'individual_status', 'group_status', 'site_type']
    loop
        execute format('create trigger vocab_guard before update of code or delete on refuge.%I
                        for each row execute function refuge.vocab_guard()', t);
        execute format('create trigger vocab_changed after insert or update on refuge.%I
                        for each statement execute function refuge.vocab_changed()', t);
        execute format('grant select on refuge.%I to refuge_registration, refuge_supervisor, refuge_analyst, refuge_admin, refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection, refuge_partner', t);
        execute format('create policy read_all on refuge.%I for select to refuge_registration, refuge_supervisor, refuge_analyst, refuge_admin, refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection, refuge_partner using (true)', t);
    end loop;
end
$vocabularies$;
