-- Operations (country programmes), their sites and offices, and which staff
-- may work where.  Row-level security reads staff_assignment, never a
-- user-settable setting.

create table refuge.operation (
    id          uuid primary key default gen_random_uuid(),
    code        text not null unique check (code ~ '^[A-Z0-9]{2,10}$'),
    country     text not null,
    name        text not null,
    area        geometry(MultiPolygon, 4326),
    active      boolean not null default true,
    created_at  timestamptz not null default now(),
    created_by  name not null default current_user,
    updated_at  timestamptz not null default now(),
    updated_by  name not null default current_user
);
comment on table refuge.operation is 'a country programme; its code prefixes the readable numbers it issues (e.g. KEN-26-000123)';

create table refuge.site (
    id            uuid primary key default gen_random_uuid(),
    operation_id  uuid not null references refuge.operation,
    code          text not null check (code ~ '^[A-Z0-9_-]{1,20}$'),
    name          text not null,
    site_type     text not null,
    location      geometry(Point, 4326),
    active        boolean not null default true,
    created_at    timestamptz not null default now(),
    created_by    name not null default current_user,
    updated_at    timestamptz not null default now(),
    updated_by    name not null default current_user,
    unique (operation_id, code),
    unique (operation_id, id)
);
comment on table refuge.site is 'camps, urban areas and offices of an operation';

-- Staff are database roles (usually LOGIN roles that are members of one of
-- the refuge_* group roles).  Keyed by name so the mapping survives dump and
-- restore into another cluster.
create table refuge.staff (
    role_name   name primary key,
    full_name   text not null,
    email       text,
    active      boolean not null default true,
    created_at  timestamptz not null default now(),
    created_by  name not null default current_user,
    updated_at  timestamptz not null default now(),
    updated_by  name not null default current_user
);

-- Where a member of staff may work: a whole operation (site_id null) or one
-- site of it, during a validity window.
create table refuge.staff_assignment (
    id            uuid primary key default gen_random_uuid(),
    role_name     name not null references refuge.staff on update cascade,
    operation_id  uuid not null references refuge.operation,
    site_id       uuid,
    valid_from    date not null default current_date,
    valid_to      date,
    created_at    timestamptz not null default now(),
    created_by    name not null default current_user,
    updated_at    timestamptz not null default now(),
    updated_by    name not null default current_user,
    foreign key (operation_id, site_id) references refuge.site (operation_id, id),
    check (valid_to is null or valid_to >= valid_from)
);
create index on refuge.staff_assignment (role_name);

-- Readable numbers (KEN-26-000123) take their serial part from one sequence:
-- registrations never wait for each other, numbers are unique across groups,
-- individuals and operations, and a rolled-back registration leaves a gap.
create sequence refuge.number_seq;
