-- The warehouse: one partition per snapshot in each fact table.  Facts carry
-- pseudonyms (refuge.pseudonym: keyed HMAC), never names, numbers, dates of
-- birth, documents, contacts or biometrics.

create schema refuge_warehouse;
comment on schema refuge_warehouse is 'refuge data warehouse: frozen, pseudonymous snapshots of the live data and the views over them';

-- The pseudonym key: made by the first snapshot, kept across dump and
-- restore so that pseudonyms stay stable; no role can read it.
create table refuge.warehouse_key (
    id               integer primary key default 1 check (id = 1),
    key              bytea not null check (length(key) >= 32),
    created_at       timestamptz not null default now()
);
comment on table refuge.warehouse_key is 'the key of the warehouse pseudonyms (HMAC-SHA256); readable by no role';

create function refuge.random_bytes(n integer) returns bytea
    language c volatile strict
    as 'MODULE_PATHNAME', 'refuge_random_bytes';
create function refuge.pseudonym(key bytea, id uuid) returns uuid
    language c immutable strict parallel safe
    as 'MODULE_PATHNAME', 'refuge_pseudonym';

create table refuge_warehouse.snapshot (
    id               integer generated always as identity primary key,
    as_of            timestamptz not null unique,
    label            text,
    taken_by         name not null,
    started_at       timestamptz not null default clock_timestamp(),
    finished_at      timestamptz,
    individuals      bigint,
    families         bigint,
    cases            bigint,
    case_steps       bigint
);
comment on table refuge_warehouse.snapshot is 'snapshots taken: the moment they describe (as_of), who took them, what they hold';

create table refuge_warehouse.individual_fact (
    snapshot_id      integer not null,
    person           uuid not null,
    family           uuid,
    operation        text not null,
    asylum_country   text not null,
    site             text not null,
    sex              text not null,
    age              integer,
    age_bracket      text not null,
    population_type  text not null,
    origin_country   text,
    relationship     text,
    registration_date date not null,
    arrival_date     date,
    status           text not null,
    specific_needs   text[] not null default '{}',
    biometrics       text
) partition by list (snapshot_id);
comment on table refuge_warehouse.individual_fact is 'people at a snapshot: pseudonym, family pseudonym, operation, site, sex, age and UNHCR bracket, population type, origin, dates, status, open specific-need categories, biometric enrolment status';

-- The population cube of a snapshot, counted while the snapshot is taken:
-- trends over many snapshots read thousands of rows, not millions.
create table refuge_warehouse.population_fact (
    snapshot_id      integer not null,
    operation        text not null,
    asylum_country   text not null,
    origin_country   text,
    population_type  text not null,
    sex              text not null,
    age_bracket      text not null,
    status           text not null,
    individuals      bigint not null,
    families         bigint not null
) partition by list (snapshot_id);
comment on table refuge_warehouse.population_fact is 'people at a snapshot counted by operation, countries of asylum and origin, population type, sex, UNHCR age bracket and status (families: distinct families in the cell)';

create table refuge_warehouse.family_fact (
    snapshot_id      integer not null,
    family           uuid not null,
    operation        text not null,
    site             text not null,
    size             integer not null,
    principal_sex    text,
    principal_age_bracket text,
    population_type  text,
    registration_date date not null,
    status           text not null
) partition by list (snapshot_id);
comment on table refuge_warehouse.family_fact is 'registration groups at a snapshot: size (active members), principal representative''s sex and bracket';

create table refuge_warehouse.case_fact (
    snapshot_id      integer not null,
    case_key         uuid not null,
    module           text not null,
    operation        text not null,
    principal        uuid not null,
    family           uuid,
    members          integer not null,
    state            text not null,
    closed           boolean not null,
    opened_on        date not null,
    state_since      date not null,
    days_open        integer not null,
    days_in_state    integer not null,
    outcome          text,
    category         text,
    priority         text,
    destination      text
) partition by list (snapshot_id);
comment on table refuge_warehouse.case_fact is 'process cases at a snapshot: module, state as of the snapshot, durations, outcome (decision, closure), resettlement category, priority and destination';

create table refuge_warehouse.case_step_fact (
    snapshot_id      integer not null,
    case_key         uuid not null,
    module           text not null,
    operation        text not null,
    action           text not null,
    from_state       text,
    to_state         text not null,
    at               timestamptz not null,
    days_since_previous integer
) partition by list (snapshot_id);
comment on table refuge_warehouse.case_step_fact is 'every state change of every case up to a snapshot, with the days since the case''s previous change';

-- Frozen partitions: no row is ever inserted, changed or deleted once a
-- snapshot is taken, whoever asks (the triggers are added after the load).
create function refuge_warehouse.frozen() returns trigger
    language plpgsql
as $$
begin
    raise exception using errcode = '55000',
        message = format('%s is a frozen snapshot: its facts are never %s', tg_table_name,
                         case tg_op when 'INSERT' then 'added to' when 'UPDATE' then 'changed'
                                    when 'DELETE' then 'deleted' else 'truncated' end);
end
$$;
