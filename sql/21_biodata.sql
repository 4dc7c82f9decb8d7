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
create index on refuge.individual_education (individual_id);

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
create index on refuge.individual_occupation (individual_id);

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
create index on refuge.individual_contact (individual_id);

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
