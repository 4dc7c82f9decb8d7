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
create index on refuge.individual (operation_id, site_id);
create index on refuge.individual (family_name, given_name);
create index on refuge.individual (date_of_birth);

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
-- one group at a time; one principal representative per group
create unique index group_membership_current_individual
    on refuge.group_membership (individual_id) where valid_to is null;
create unique index group_membership_one_principal
    on refuge.group_membership (group_id) where valid_to is null and relationship = 'PA';
create index on refuge.group_membership (group_id) where valid_to is null;
create index on refuge.group_membership (individual_id);
comment on table refuge.group_membership is 'membership of individuals in registration groups with history (valid_to null = current)';
