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

create table refuge.language (
    code        text primary key check (code ~ '^[a-z]{3}$'),
    name        text not null,
    active      boolean not null default true,
    shipped     boolean not null default false
);
comment on table refuge.language is 'ISO 639-3 languages';

create table refuge.script (
    code        text primary key check (code ~ '^[A-Z][a-z]{3}$'),
    name        text not null,
    active      boolean not null default true,
    shipped     boolean not null default false
);
comment on table refuge.script is 'ISO 15924 writing systems, for names recorded in their original script';

create table refuge.sex (
    code text primary key, label text not null,
    active boolean not null default true, shipped boolean not null default false);
create table refuge.relationship (
    code text primary key, label text not null,
    active boolean not null default true, shipped boolean not null default false);
comment on table refuge.relationship is 'relationship to the principal representative (proGres/eRRF codes); PA is the principal representative';
create table refuge.marital_status (
    code text primary key, label text not null,
    active boolean not null default true, shipped boolean not null default false);
create table refuge.education_level (
    code text primary key, label text not null,
    active boolean not null default true, shipped boolean not null default false);
create table refuge.education_degree (
    code text primary key, label text not null,
    active boolean not null default true, shipped boolean not null default false);
create table refuge.address_type (
    code text primary key, label text not null,
    active boolean not null default true, shipped boolean not null default false);
create table refuge.language_proficiency (
    code text primary key, label text not null,
    active boolean not null default true, shipped boolean not null default false);
create table refuge.religion (
    code text primary key, label text not null,
    active boolean not null default true, shipped boolean not null default false);
create table refuge.ethnicity (
    code text primary key, label text not null,
    active boolean not null default true, shipped boolean not null default false);
create table refuge.occupation (
    code text primary key, label text not null,
    active boolean not null default true, shipped boolean not null default false);
comment on table refuge.occupation is 'occupation codes used by proGres/eRRF (ISCO-based hierarchy)';

create table refuge.population_type (
    code        text primary key,
    kind        text not null check (kind in ('population', 'solution')),
    label       text not null,
    definition  text,
    hxl_tag     text,
    active      boolean not null default true,
    shipped     boolean not null default false
);

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

create table refuge.specific_need_category (
    code text primary key, label text not null,
    active boolean not null default true, shipped boolean not null default false);
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

-- Lists that no shared source defines; the codes are refuge's own.
create table refuge.registration_level (
    code text primary key, label text not null, rank integer not null,
    active boolean not null default true, shipped boolean not null default false);
create table refuge.date_precision (
    code text primary key, label text not null,
    active boolean not null default true, shipped boolean not null default false);
create table refuge.document_type (
    code text primary key, label text not null,
    active boolean not null default true, shipped boolean not null default false);
create table refuge.flight_reason (
    code text primary key, label text not null,
    active boolean not null default true, shipped boolean not null default false);
create table refuge.contact_type (
    code text primary key, label text not null,
    active boolean not null default true, shipped boolean not null default false);
create table refuge.individual_status (
    code text primary key, label text not null,
    active boolean not null default true, shipped boolean not null default false);
create table refuge.group_status (
    code text primary key, label text not null,
    active boolean not null default true, shipped boolean not null default false);
create table refuge.site_type (
    code text primary key, label text not null,
    active boolean not null default true, shipped boolean not null default false);

insert into refuge.registration_level (code, label, rank, shipped) values
  ('GROUP_PRE', 'Group pre-registration (not formal registration)', 0, true),
  ('EMERGENCY', 'Individual emergency registration (IER)', 1, true),
  ('BASIC', 'Individual basic registration (IBR)', 2, true),
  ('COMPREHENSIVE', 'Individual comprehensive registration (ICR)', 3, true);

insert into refuge.date_precision (code, label, shipped) values
  ('EXACT', 'Exact date', true),
  ('MONTH', 'Month and year known; day unknown', true),
  ('YEAR', 'Year known; month and day unknown', true),
  ('ESTIMATED', 'Estimated (e.g. from apparent age)', true);

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

insert into refuge.contact_type (code, label, shipped) values
  ('PHONE', 'Telephone', true), ('MOBILE', 'Mobile telephone', true),
  ('EMAIL', 'E-mail', true), ('MESSAGING', 'Messaging application', true),
  ('OTHER', 'Other', true);

insert into refuge.individual_status (code, label, shipped) values
  ('ACTIVE', 'Active', true),
  ('INACTIVE', 'Inactive (not seen at verification)', true),
  ('HOLD', 'On hold', true),
  ('CLOSED', 'Closed (durable solution, departure or other reason)', true),
  ('DECEASED', 'Deceased', true),
  ('DUPLICATE', 'Closed as a duplicate of another record', true);

insert into refuge.group_status (code, label, shipped) values
  ('ACTIVE', 'Active', true),
  ('INACTIVE', 'Inactive', true),
  ('CLOSED', 'Closed (no members left, merged or departed)', true);

insert into refuge.site_type (code, label, shipped) values
  ('CAMP', 'Camp or settlement', true),
  ('URBAN', 'Urban area', true),
  ('OFFICE', 'Registration or field office', true),
  ('TRANSIT', 'Transit or reception centre', true),
  ('BORDER', 'Border point', true);
