-- Registration: families (registration groups), individuals and their
-- biodata, documents, photos, specific needs, flight legs and requested
-- status changes.

-- Registration groups (families) and individuals.  A person belongs to one
-- group at a time; group_membership keeps the history of moves, splits and
-- merges (valid_to is null for the current membership).
create table refuge.registration_group (
    id                 uuid primary key default gen_random_uuid(),
    number             text not null unique,
    operation_id       uuid not null references refuge.operation,
    site_id            uuid not null,
    status             text not null default 'ACTIVE',
    status_date        date not null default current_date,
    registration_date  date not null default current_date,
    arrival_date       date,
    request_id         uuid,
    created_at         timestamptz not null default now(),
    created_by         name not null default current_user,
    updated_at         timestamptz not null default now(),
    updated_by         name not null default current_user,
    foreign key (operation_id, site_id) references refuge.site (operation_id, id)
);
create index on refuge.registration_group (operation_id, site_id);
comment on table refuge.registration_group is 'a registration group (family or household); processes open their own cases without changing it';
create trigger check_codes before insert or update on refuge.registration_group
    for each row execute function refuge.check_codes('status', 'group_status');
create policy hq_read on refuge.registration_group for select to refuge_biometrics_admin using (true);
create policy identity_staff_read on refuge.registration_group for select to refuge_biometrics, refuge_assistance
    using (operation_id = any ((select refuge.scope_operations())::uuid[])
           or site_id = any ((select refuge.scope_sites())::uuid[]));
create policy staff_read on refuge.registration_group for select to refuge_registration, refuge_supervisor
    using (operation_id = any ((select refuge.scope_operations())::uuid[])
           or site_id = any ((select refuge.scope_sites())::uuid[]));
grant select on refuge.registration_group to refuge_registration, refuge_supervisor, refuge_biometrics,
    refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection,
    refuge_child_protection;
select pg_catalog.pg_extension_config_dump('refuge.registration_group', '');

create table refuge.individual (
    id                    uuid primary key default gen_random_uuid(),
    number                text not null unique,
    operation_id          uuid not null references refuge.operation,
    site_id               uuid not null,
    -- names in Latin script; other scripts and aliases are in individual_name
    given_name            text,
    middle_name           text,
    family_name           text,
    second_family_name    text,
    maiden_name           text,
    mother_name           text,
    father_name           text,
    sex                   text not null,
    date_of_birth         date,
    dob_precision         text not null default 'EXACT',
    place_of_birth        text,
    birth_country         text,
    origin_country        text,
    ethnicity             text,
    religion              text,
    marital_status        text,
    education_level       text,
    population_type       text not null,
    population_type_date  date not null default current_date,
    registration_level    text not null,
    registration_date     date not null default current_date,
    arrival_date          date,
    status                text not null default 'ACTIVE',
    status_date           date not null default current_date,
    status_reason         text,
    created_at            timestamptz not null default now(),
    created_by            name not null default current_user,
    updated_at            timestamptz not null default now(),
    updated_by            name not null default current_user,
    foreign key (operation_id, site_id) references refuge.site (operation_id, id),
    check (given_name is not null or family_name is not null),
    check (date_of_birth is null or date_of_birth >= date '1880-01-01'),
    check (arrival_date is null or date_of_birth is null or arrival_date >= date_of_birth)
);
comment on table refuge.individual is 'registered individuals: biodata, legal status (population type), registration level and status';
create index on refuge.individual (operation_id, site_id);
create index on refuge.individual (family_name, given_name);
create index on refuge.individual (date_of_birth);
create trigger check_codes before insert or update on refuge.individual
    for each row execute function refuge.check_codes('sex', 'sex', 'dob_precision', 'date_precision', 'birth_country', 'country', 'origin_country', 'country', 'ethnicity', 'ethnicity', 'religion', 'religion', 'marital_status', 'marital_status', 'education_level', 'education_level', 'population_type', 'population_type', 'registration_level', 'registration_level', 'status', 'individual_status');
create policy hq_read on refuge.individual for select to refuge_biometrics_admin using (true);
create policy identity_staff_read on refuge.individual for select to refuge_biometrics, refuge_assistance
    using (operation_id = any ((select refuge.scope_operations())::uuid[])
           or site_id = any ((select refuge.scope_sites())::uuid[]));
create policy staff_read on refuge.individual for select to refuge_registration, refuge_supervisor
    using (operation_id = any ((select refuge.scope_operations())::uuid[])
           or site_id = any ((select refuge.scope_sites())::uuid[]));
grant select on refuge.individual to refuge_registration, refuge_supervisor, refuge_biometrics,
    refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection,
    refuge_child_protection;
select pg_catalog.pg_extension_config_dump('refuge.individual', '');

create table refuge.group_membership (
    id              uuid primary key default gen_random_uuid(),
    group_id        uuid not null references refuge.registration_group,
    individual_id   uuid not null references refuge.individual,
    relationship    text not null,
    valid_from      timestamptz not null default now(),
    valid_to        timestamptz,
    start_reason    text not null default 'REGISTRATION'
                    check (start_reason in ('REGISTRATION', 'ADDITION', 'MOVE', 'SPLIT', 'MERGE', 'CORRECTION')),
    end_reason      text check (end_reason in ('MOVE', 'SPLIT', 'MERGE', 'CORRECTION', 'CLOSURE')),
    comment         text,
    created_at      timestamptz not null default now(),
    created_by      name not null default current_user,
    updated_at      timestamptz not null default now(),
    updated_by      name not null default current_user,
    check (valid_to is null or valid_to >= valid_from),
    check ((valid_to is null) = (end_reason is null))
);
create unique index group_membership_current_individual
    on refuge.group_membership (individual_id) where valid_to is null;
create unique index group_membership_one_principal
    on refuge.group_membership (group_id) where valid_to is null and relationship = 'PA';
create index on refuge.group_membership (group_id) where valid_to is null;
create index on refuge.group_membership (individual_id);
comment on table refuge.group_membership is 'membership of individuals in registration groups with history (valid_to null = current)';
create trigger check_codes before insert or update on refuge.group_membership
    for each row execute function refuge.check_codes('relationship', 'relationship');
create policy case_staff_read on refuge.group_membership for select
    to refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection
    using (exists (select 1 from refuge.individual i where i.id = group_membership.individual_id));
create policy hq_read on refuge.group_membership for select to refuge_biometrics_admin using (true);
create policy identity_staff_read on refuge.group_membership for select to refuge_biometrics, refuge_assistance
    using (exists (select 1 from refuge.individual i where i.id = group_membership.individual_id));
create policy staff_read on refuge.group_membership for select to refuge_registration, refuge_supervisor
    using (exists (select 1 from refuge.individual i where (i.id = group_membership.individual_id)));
grant select on refuge.group_membership to refuge_registration, refuge_supervisor, refuge_biometrics,
    refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection,
    refuge_child_protection;
select pg_catalog.pg_extension_config_dump('refuge.group_membership', '');

-- Biodata that a person can have several of.  Collections are replaced as a
-- whole through the API; the audit trail keeps what they were.
create table refuge.individual_name (
    id                  uuid primary key default gen_random_uuid(),
    individual_id       uuid not null references refuge.individual on delete cascade,
    kind                text not null check (kind in ('ORIGINAL_SCRIPT', 'ALIAS', 'PREVIOUS', 'TRANSLITERATION')),
    script              text,
    given_name          text,
    middle_name         text,
    family_name         text,
    second_family_name  text,
    maiden_name         text,
    created_at          timestamptz not null default now(),
    created_by          name not null default current_user,
    updated_at          timestamptz not null default now(),
    updated_by          name not null default current_user,
    check (coalesce(given_name, middle_name, family_name, second_family_name, maiden_name) is not null)
);
create index on refuge.individual_name (individual_id);
create index on refuge.individual_name (family_name, given_name);
comment on table refuge.individual_name is 'names in original script, aliases and earlier names';
create trigger check_codes before insert or update on refuge.individual_name
    for each row execute function refuge.check_codes('script', 'script');
create policy staff_read on refuge.individual_name for select to refuge_registration, refuge_supervisor
    using (exists (select 1 from refuge.individual i where (i.id = individual_name.individual_id)));
grant select on refuge.individual_name to refuge_registration, refuge_supervisor;
select pg_catalog.pg_extension_config_dump('refuge.individual_name', '');

create table refuge.individual_nationality (
    id              uuid primary key default gen_random_uuid(),
    individual_id   uuid not null references refuge.individual on delete cascade,
    country         text not null,
    is_primary      boolean not null default false,
    created_at      timestamptz not null default now(),
    created_by      name not null default current_user,
    updated_at      timestamptz not null default now(),
    updated_by      name not null default current_user,
    unique (individual_id, country)
);
create unique index individual_nationality_one_primary
    on refuge.individual_nationality (individual_id) where is_primary;
comment on table refuge.individual_nationality is 'nationalities; none recorded and population type STA means stateless';
create trigger check_codes before insert or update on refuge.individual_nationality
    for each row execute function refuge.check_codes('country', 'country');
create policy staff_read on refuge.individual_nationality for select to refuge_registration, refuge_supervisor
    using (exists (select 1 from refuge.individual i where (i.id = individual_nationality.individual_id)));
grant select on refuge.individual_nationality to refuge_registration, refuge_supervisor;
select pg_catalog.pg_extension_config_dump('refuge.individual_nationality', '');

create table refuge.individual_language (
    id              uuid primary key default gen_random_uuid(),
    individual_id   uuid not null references refuge.individual on delete cascade,
    language        text not null,
    mother_tongue   boolean not null default false,
    read_level      text,
    write_level     text,
    speak_level     text,
    understand_level text,
    created_at      timestamptz not null default now(),
    created_by      name not null default current_user,
    updated_at      timestamptz not null default now(),
    updated_by      name not null default current_user,
    unique (individual_id, language)
);
comment on table refuge.individual_language is 'languages of individuals with proficiency';
create trigger check_codes before insert or update on refuge.individual_language
    for each row execute function refuge.check_codes('language', 'language', 'read_level', 'language_proficiency', 'write_level', 'language_proficiency', 'speak_level', 'language_proficiency', 'understand_level', 'language_proficiency');
create policy staff_read on refuge.individual_language for select to refuge_registration, refuge_supervisor
    using (exists (select 1 from refuge.individual i where (i.id = individual_language.individual_id)));
grant select on refuge.individual_language to refuge_registration, refuge_supervisor;
select pg_catalog.pg_extension_config_dump('refuge.individual_language', '');

create table refuge.individual_education (
    id              uuid primary key default gen_random_uuid(),
    individual_id   uuid not null references refuge.individual on delete cascade,
    level           text not null,
    degree          text,
    field           text,
    institution     text,
    country         text,
    year_from       integer check (year_from between 1900 and 2100),
    year_to         integer check (year_to between 1900 and 2100),
    completed       boolean,
    created_at      timestamptz not null default now(),
    created_by      name not null default current_user,
    updated_at      timestamptz not null default now(),
    updated_by      name not null default current_user,
    check (year_to is null or year_from is null or year_to >= year_from)
);
comment on table refuge.individual_education is 'education of individuals';
create index on refuge.individual_education (individual_id);
create trigger check_codes before insert or update on refuge.individual_education
    for each row execute function refuge.check_codes('level', 'education_level', 'degree', 'education_degree', 'country', 'country');
create policy staff_read on refuge.individual_education for select to refuge_registration, refuge_supervisor
    using (exists (select 1 from refuge.individual i where (i.id = individual_education.individual_id)));
grant select on refuge.individual_education to refuge_registration, refuge_supervisor;
select pg_catalog.pg_extension_config_dump('refuge.individual_education', '');

-- Occupation, skills and work experience (eRRF employment types E, NE, S).
create table refuge.individual_occupation (
    id              uuid primary key default gen_random_uuid(),
    individual_id   uuid not null references refuge.individual on delete cascade,
    kind            text not null check (kind in ('EMPLOYED', 'NOT_EMPLOYED', 'SKILL')),
    occupation      text,
    title           text,
    employer        text,
    country         text,
    date_from       date,
    date_to         date,
    created_at      timestamptz not null default now(),
    created_by      name not null default current_user,
    updated_at      timestamptz not null default now(),
    updated_by      name not null default current_user,
    check (occupation is not null or title is not null),
    check (date_to is null or date_from is null or date_to >= date_from)
);
comment on table refuge.individual_occupation is 'occupations and skills of individuals';
create index on refuge.individual_occupation (individual_id);
create trigger check_codes before insert or update on refuge.individual_occupation
    for each row execute function refuge.check_codes('occupation', 'occupation', 'country', 'country');
create policy staff_read on refuge.individual_occupation for select to refuge_registration, refuge_supervisor
    using (exists (select 1 from refuge.individual i where (i.id = individual_occupation.individual_id)));
grant select on refuge.individual_occupation to refuge_registration, refuge_supervisor;
select pg_catalog.pg_extension_config_dump('refuge.individual_occupation', '');

create table refuge.individual_contact (
    id              uuid primary key default gen_random_uuid(),
    individual_id   uuid not null references refuge.individual on delete cascade,
    contact_type    text not null,
    value           text not null check (length(value) between 1 and 200),
    still_in_use    boolean not null default true,
    date_from       date,
    date_to         date,
    created_at      timestamptz not null default now(),
    created_by      name not null default current_user,
    updated_at      timestamptz not null default now(),
    updated_by      name not null default current_user
);
comment on table refuge.individual_contact is 'contacts of individuals (phones, emails), with validity';
create index on refuge.individual_contact (individual_id);
create trigger check_codes before insert or update on refuge.individual_contact
    for each row execute function refuge.check_codes('contact_type', 'contact_type');
create policy staff_read on refuge.individual_contact for select to refuge_registration, refuge_supervisor
    using (exists (select 1 from refuge.individual i where (i.id = individual_contact.individual_id)));
grant select on refuge.individual_contact to refuge_registration, refuge_supervisor;
select pg_catalog.pg_extension_config_dump('refuge.individual_contact', '');

create table refuge.individual_address (
    id              uuid primary key default gen_random_uuid(),
    individual_id   uuid not null references refuge.individual on delete cascade,
    address_type    text not null,
    country         text,
    location_level1 text,
    location_level2 text,
    location_level3 text,
    location_level4 text,
    location_level5 text,
    location_level6 text,
    address_text    text,
    location        geometry(Point, 4326),
    date_from       date,
    date_to         date,
    created_at      timestamptz not null default now(),
    created_by      name not null default current_user,
    updated_at      timestamptz not null default now(),
    updated_by      name not null default current_user,
    check (date_to is null or date_from is null or date_to >= date_from)
);
create index on refuge.individual_address (individual_id);
comment on table refuge.individual_address is 'addresses by type (CoO origin, CoA asylum, Trans transit, ...), administrative levels 1-6 and a point';
create trigger check_codes before insert or update on refuge.individual_address
    for each row execute function refuge.check_codes('address_type', 'address_type', 'country', 'country');
create policy staff_read on refuge.individual_address for select to refuge_registration, refuge_supervisor
    using (exists (select 1 from refuge.individual i where (i.id = individual_address.individual_id)));
grant select on refuge.individual_address to refuge_registration, refuge_supervisor;
select pg_catalog.pg_extension_config_dump('refuge.individual_address', '');

-- Flight history: each leg of the journey with place, country, dates and the
-- coded reasons for leaving.  refuge.flight_route() draws the route.
create table refuge.flight_leg (
    id              uuid primary key default gen_random_uuid(),
    individual_id   uuid not null references refuge.individual on delete cascade,
    seq             integer not null check (seq >= 1),
    place           text,
    country         text not null,
    location        geometry(Point, 4326),
    arrived_on      date,
    departed_on     date,
    date_precision  text not null default 'EXACT',
    reasons         text[] not null default '{}',
    comment         text,
    created_at      timestamptz not null default now(),
    created_by      name not null default current_user,
    updated_at      timestamptz not null default now(),
    updated_by      name not null default current_user,
    unique (individual_id, seq),
    check (departed_on is null or arrived_on is null or departed_on >= arrived_on)
);
comment on table refuge.flight_leg is 'one stop of a journey: seq 1 is where the person fled from, the last where they arrived';
comment on column refuge.flight_leg.reasons is 'codes of refuge.flight_reason for leaving this place';
create trigger check_codes before insert or update on refuge.flight_leg
    for each row execute function refuge.check_codes('country', 'country', 'date_precision', 'date_precision', 'reasons', 'flight_reason');
create policy staff_read on refuge.flight_leg for select to refuge_registration, refuge_supervisor
    using (exists (select 1 from refuge.individual i where (i.id = flight_leg.individual_id)));
grant select on refuge.flight_leg to refuge_registration, refuge_supervisor;
select pg_catalog.pg_extension_config_dump('refuge.flight_leg', '');

-- Identity and civil documents, and references to photographs.  Photo
-- images themselves are not stored here (biometric images go to the HQ vault).
create table refuge.document (
    id              uuid primary key default gen_random_uuid(),
    individual_id   uuid not null references refuge.individual on delete cascade,
    doc_type        text not null,
    number          text not null check (length(number) between 1 and 60),
    issuing_country text,
    issued_on       date,
    expires_on      date,
    status          text not null default 'VALID'
                    check (status in ('VALID', 'EXPIRED', 'LOST', 'CONFISCATED', 'CANCELLED')),
    original_seen   boolean not null default false,
    comment         text,
    created_at      timestamptz not null default now(),
    created_by      name not null default current_user,
    updated_at      timestamptz not null default now(),
    updated_by      name not null default current_user,
    check (expires_on is null or issued_on is null or expires_on >= issued_on)
);
comment on table refuge.document is 'identity and civil documents of individuals; numbers unique per type and issuer under refuge.identifier_key';
create index on refuge.document (individual_id);
-- The duplicate check's index: a document number under its identifier key
-- (refuge.identifier_key: look-alike characters and separators fold).  After
-- an ICU upgrade, reindex it (its confusable data may change).
create unique index document_identity on refuge.document (doc_type, coalesce(issuing_country, ''), refuge.identifier_key(number));
create trigger check_codes before insert or update on refuge.document
    for each row execute function refuge.check_codes('doc_type', 'document_type', 'issuing_country', 'country');
create policy staff_read on refuge.document for select to refuge_registration, refuge_supervisor
    using (exists (select 1 from refuge.individual i where (i.id = document.individual_id)));
grant select on refuge.document to refuge_registration, refuge_supervisor;
select pg_catalog.pg_extension_config_dump('refuge.document', '');

create table refuge.photo (
    id              uuid primary key default gen_random_uuid(),
    individual_id   uuid not null references refuge.individual on delete cascade,
    uri             text not null,
    sha256          bytea check (sha256 is null or length(sha256) = 32),
    content_type    text check (content_type in ('image/jpeg', 'image/png', 'image/jp2')),
    taken_at        timestamptz,
    is_current      boolean not null default true,
    created_at      timestamptz not null default now(),
    created_by      name not null default current_user,
    updated_at      timestamptz not null default now(),
    updated_by      name not null default current_user
);
comment on table refuge.photo is 'references to photographs of individuals (images themselves go to the vault)';
create index on refuge.photo (individual_id);
create unique index photo_one_current on refuge.photo (individual_id) where is_current;
create policy staff_read on refuge.photo for select to refuge_registration, refuge_supervisor
    using (exists (select 1 from refuge.individual i where (i.id = photo.individual_id)));
grant select on refuge.photo to refuge_registration, refuge_supervisor;
select pg_catalog.pg_extension_config_dump('refuge.photo', '');

-- Specific needs: UNHCR category + sub-code per individual.  A need is never
-- deleted: closing it sets active = false with the date and reason.
create table refuge.specific_need (
    id              uuid primary key default gen_random_uuid(),
    individual_id   uuid not null references refuge.individual on delete cascade,
    category        text not null,
    code            text,
    active          boolean not null default true,
    identified_on   date not null default current_date,
    closed_on       date,
    close_reason    text,
    comment         text,
    created_at      timestamptz not null default now(),
    created_by      name not null default current_user,
    updated_at      timestamptz not null default now(),
    updated_by      name not null default current_user,
    check (closed_on is null or closed_on >= identified_on),
    check (active = (closed_on is null)),
    check (code is null or code like category || '-%')
);
comment on table refuge.specific_need is 'specific needs of individuals (UNHCR categories and codes), open or closed';
create index on refuge.specific_need (individual_id);
create unique index specific_need_one_open
    on refuge.specific_need (individual_id, category, coalesce(code, '')) where active;
create trigger check_codes before insert or update on refuge.specific_need
    for each row execute function refuge.check_codes('category', 'specific_need_category', 'code', 'specific_need_code');
create policy staff_read on refuge.specific_need for select to refuge_registration, refuge_supervisor
    using (exists (select 1 from refuge.individual i where (i.id = specific_need.individual_id)));
grant select on refuge.specific_need to refuge_registration, refuge_supervisor;
select pg_catalog.pg_extension_config_dump('refuge.specific_need', '');

-- Convenience views for SQL users.  security_invoker: the caller's
-- row-level security applies, exactly as on the tables.
create view refuge.current_member with (security_invoker = true) as
select g.id as group_id, g.number as group_number, g.operation_id, g.site_id,
       i.id as individual_id, i.number as individual_number, gm.relationship,
       i.given_name, i.middle_name, i.family_name, i.sex, i.date_of_birth, i.dob_precision,
       date_part('year', age(current_date, i.date_of_birth))::integer as age,
       i.population_type, i.registration_level, i.status, gm.valid_from as member_since
  from refuge.group_membership gm
  join refuge.registration_group g on g.id = gm.group_id
  join refuge.individual i on i.id = gm.individual_id
 where gm.valid_to is null;
comment on view refuge.current_member is 'current members of registration groups, principal representative first when ordered by relationship = ''PA'' desc';
grant select on refuge.current_member to refuge_registration;

-- Status and legal standing are not one person's edit.  A registration
-- clerk moves a record between ACTIVE, INACTIVE and HOLD (seen again, not
-- seen at verification); closing it, reopening it, or changing its
-- population type (asylum-seeker to refugee, ...) is requested with
-- refuge.request_status_change() and takes effect when a supervisor of the
-- operation, not the requester, approves it.  A record closed as a
-- duplicate by adjudication changes only through adjudication.
create table refuge.status_change (
    id                   uuid primary key default gen_random_uuid(),
    individual_id        uuid not null references refuge.individual,
    operation_id         uuid not null references refuge.operation,
    site_id              uuid not null,
    from_status          text not null,
    to_status            text not null,
    from_population_type text not null,
    to_population_type   text not null,
    reason               text not null,
    status               text not null default 'REQUESTED' check (status in ('REQUESTED', 'APPROVED', 'REJECTED')),
    requested_by         name not null,
    requested_at         timestamptz not null default now(),
    decided_by           name,
    decided_at           timestamptz,
    decision_comment     text,
    created_at           timestamptz not null default now(),
    created_by           name not null default current_user,
    updated_at           timestamptz not null default now(),
    updated_by           name not null default current_user,
    foreign key (operation_id, site_id) references refuge.site (operation_id, id),
    check ((status = 'REQUESTED') = (decided_by is null))
);
create unique index status_change_one_pending on refuge.status_change (individual_id) where status = 'REQUESTED';
create index on refuge.status_change (operation_id, status);
comment on table refuge.status_change is 'requested changes of an individual''s status or population type, decided by a supervisor who is not the requester';
create policy staff_read on refuge.status_change for select to refuge_registration, refuge_supervisor
    using (operation_id = any ((select refuge.scope_operations())::uuid[])
           or site_id = any ((select refuge.scope_sites())::uuid[]));
grant select on refuge.status_change to refuge_registration, refuge_supervisor;
select pg_catalog.pg_extension_config_dump('refuge.status_change', '');
