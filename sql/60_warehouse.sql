-- The data warehouse: snapshots' person-level facts (DBA only) and the
-- published, disclosure-controlled tables analysts read.

-- The warehouse: one partition per snapshot in each fact table.  Facts carry
-- pseudonyms (refuge.pseudonym: keyed HMAC), never names, numbers, dates of
-- birth, documents, contacts or biometrics.
create schema refuge_warehouse;
comment on schema refuge_warehouse is 'refuge data warehouse: frozen, pseudonymous snapshots of the live data and the views over them';
alter schema refuge_warehouse owner to refuge_owner;
grant usage on schema refuge_warehouse to refuge_analyst, refuge_dba;

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

-- The pseudonym key: made by the first snapshot, kept across dump and
-- restore so that pseudonyms stay stable; no role can read it.
create table refuge.warehouse_key (
    id               integer primary key default 1 check (id = 1),
    key              bytea not null check (length(key) >= 32),
    created_at       timestamptz not null default now()
);
comment on table refuge.warehouse_key is 'the key of the warehouse pseudonyms (HMAC-SHA256); readable by no role';
select pg_catalog.pg_extension_config_dump('refuge.warehouse_key', '');

create table refuge_warehouse.snapshot (
    id               integer generated always as identity primary key,
    as_of            timestamptz not null unique,
    label            text,
    taken_by         name not null,
    started_at       timestamptz not null default clock_timestamp(),
    finished_at      timestamptz,
    individuals      integer,
    families         integer,
    cases            integer,
    case_steps       integer,
    min_cell_size    integer
);
comment on table refuge_warehouse.snapshot is 'snapshots taken: the moment they describe (as_of), who took them, what they hold';
comment on column refuge_warehouse.snapshot.min_cell_size is 'k of the published tables: no published figure describes fewer people';
create policy warehouse_read on refuge_warehouse.snapshot for select to refuge_analyst, refuge_dba using (true);
grant select on refuge_warehouse.snapshot to refuge_dba;
grant select (id, as_of, label, min_cell_size) on refuge_warehouse.snapshot to refuge_analyst;
select pg_catalog.pg_extension_config_dump('refuge_warehouse.snapshot', '');
select pg_catalog.pg_extension_config_dump('refuge_warehouse.snapshot_id_seq', '');

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
create policy dba_read on refuge_warehouse.individual_fact for select to refuge_dba
    using (true);
grant select on refuge_warehouse.individual_fact to refuge_dba;

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
    individuals      integer not null,
    families         integer not null
) partition by list (snapshot_id);
comment on table refuge_warehouse.population_fact is 'people at a snapshot counted by operation, countries of asylum and origin, population type, sex, UNHCR age bracket and status (families: distinct families in the cell)';
create policy dba_read on refuge_warehouse.population_fact for select to refuge_dba
    using (true);
grant select on refuge_warehouse.population_fact to refuge_dba;

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
create policy dba_read on refuge_warehouse.family_fact for select to refuge_dba
    using (true);
grant select on refuge_warehouse.family_fact to refuge_dba;

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
create policy dba_read on refuge_warehouse.case_fact for select to refuge_dba
    using (true);
grant select on refuge_warehouse.case_fact to refuge_dba;

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
create policy dba_read on refuge_warehouse.case_step_fact for select to refuge_dba
    using (true);
grant select on refuge_warehouse.case_step_fact to refuge_dba;

-- Taking, listing and dropping snapshots.
create function refuge_warehouse.fact_tables() returns text[]
    language sql immutable
    return array['individual_fact', 'population_fact', 'family_fact', 'case_fact', 'case_step_fact'];

-- Published tables, one partition per snapshot (filled and frozen by
-- refuge_warehouse.publish); a null figure is suppressed.
create table refuge_warehouse.population_cell (
    snapshot_id      integer not null,
    operation        text not null,
    asylum_country   text not null,
    origin_country   text,
    population_type  text not null,
    sex              text not null,
    age_bracket      text not null,
    individuals      integer,
    families         integer
) partition by list (snapshot_id);
comment on table refuge_warehouse.population_cell is 'active people at a snapshot by operation, origin, population type, sex and UNHCR age bracket (cells with people only); null = suppressed (fewer than refuge.min_cell_size, or it would give a suppressed figure away)';
create policy warehouse_read on refuge_warehouse.population_cell for select to refuge_analyst, refuge_dba
    using (true);
grant select on refuge_warehouse.population_cell to refuge_analyst, refuge_dba;

create table refuge_warehouse.population_row (
    snapshot_id      integer not null,
    operation        text not null,
    asylum_country   text not null,
    origin_country   text,
    population_type  text not null,
    female           integer,
    male             integer,
    unknown_sex      integer,
    total            integer
) partition by list (snapshot_id);
comment on table refuge_warehouse.population_row is 'totals of each operation x origin x population type: women, men, sex unknown, all; null = suppressed';
create policy warehouse_read on refuge_warehouse.population_row for select to refuge_analyst, refuge_dba
    using (true);
grant select on refuge_warehouse.population_row to refuge_analyst, refuge_dba;

create table refuge_warehouse.population_total (
    snapshot_id      integer not null,
    operation        text not null,
    asylum_country   text not null,
    individuals      integer,
    female           integer,
    male             integer,
    unknown_sex      integer,
    children         integer,
    unknown_age      integer,
    families         integer
) partition by list (snapshot_id);
comment on table refuge_warehouse.population_total is 'active people of an operation at a snapshot: all, women, men, sex unknown, children under 18, age unknown, families; null = suppressed';
create policy warehouse_read on refuge_warehouse.population_total for select to refuge_analyst, refuge_dba
    using (true);
grant select on refuge_warehouse.population_total to refuge_analyst, refuge_dba;

create table refuge_warehouse.population_band (
    snapshot_id      integer not null,
    operation        text not null,
    sex              text not null,
    band             text not null,
    individuals      integer
) partition by list (snapshot_id);
comment on table refuge_warehouse.population_band is 'women and men of an operation at a snapshot by age band (bands nest in UNHCR brackets): the population pyramid; null = suppressed';
create policy warehouse_read on refuge_warehouse.population_band for select to refuge_analyst, refuge_dba
    using (true);
grant select on refuge_warehouse.population_band to refuge_analyst, refuge_dba;

create table refuge_warehouse.case_summary (
    snapshot_id      integer not null,
    module           text not null,
    operation        text not null,
    state            text not null,
    closed           boolean not null,
    cases            integer,
    people           integer,
    mean_days_open   double precision,
    mean_days_in_state double precision
) partition by list (snapshot_id);
comment on table refuge_warehouse.case_summary is 'cases by module, operation and state at a snapshot (sensitive modules: open or closed only, state *); null = suppressed';
create policy warehouse_read on refuge_warehouse.case_summary for select to refuge_analyst, refuge_dba
    using (true);
grant select on refuge_warehouse.case_summary to refuge_analyst, refuge_dba;

create table refuge_warehouse.case_step_summary (
    snapshot_id      integer not null,
    module           text not null,
    operation        text not null,
    from_state       text,
    to_state         text not null,
    steps            integer,
    mean_days        double precision,
    median_days      double precision,
    p90_days         double precision
) partition by list (snapshot_id);
comment on table refuge_warehouse.case_step_summary is 'state changes of cases by module, operation and step up to a snapshot, with the days each took (not for sensitive modules); null = suppressed';
create policy warehouse_read on refuge_warehouse.case_step_summary for select to refuge_analyst, refuge_dba
    using (true);
grant select on refuge_warehouse.case_step_summary to refuge_analyst, refuge_dba;

create table refuge_warehouse.flow_summary (
    snapshot_id      integer not null,
    from_snapshot_id integer not null,
    operation        text not null,
    arrivals         integer,
    departures       integer,
    moved_in         integer,
    moved_out        integer,
    resettled        integer,
    returned         integer,
    naturalised      integer
) partition by list (snapshot_id);
comment on table refuge_warehouse.flow_summary is 'people who arrived, left, moved between operations, were resettled, returned or naturalised since the snapshot before (from_snapshot_id), per operation; null = suppressed';
create policy warehouse_read on refuge_warehouse.flow_summary for select to refuge_analyst, refuge_dba
    using (true);
grant select on refuge_warehouse.flow_summary to refuge_analyst, refuge_dba;

create function refuge_warehouse.published_tables() returns text[]
    language sql immutable
    return array['population_cell', 'population_row', 'population_total', 'population_band', 'case_summary',
                 'case_step_summary', 'flow_summary'];
