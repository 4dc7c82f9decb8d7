-- Relatives of a registered person who are not registered with them
-- (parents, siblings, children elsewhere, a deceased spouse): what the
-- Resettlement Registration Form lists as relatives outside the case and
-- the eRRF exchanges as dataIndividualRelatives.  Functions:
-- functions/67_relatives.sql.
create table refuge.individual_relative (
    id                  uuid primary key default gen_random_uuid(),
    individual_id       uuid not null references refuge.individual on delete cascade,
    relationship        text not null,
    given_name          text check (length(given_name) <= 100),
    middle_name         text check (length(middle_name) <= 100),
    family_name         text check (length(family_name) <= 100),
    second_family_name  text check (length(second_family_name) <= 100),
    maiden_name         text check (length(maiden_name) <= 100),
    sex                 text,
    date_of_birth       date check (date_of_birth >= date '1880-01-01'),
    dob_estimated       boolean not null default false,
    birth_country       text,
    place_of_birth      text check (length(place_of_birth) <= 200),
    residence_country   text,
    nationality         text,
    marital_status      text,
    deceased            boolean not null default false,
    deceased_on         date,
    created_at          timestamptz not null default now(),
    created_by          name not null default current_user,
    updated_at          timestamptz not null default now(),
    updated_by          name not null default current_user,
    sync_owner          text not null default refuge.local_node(),
    sync_operation      uuid,
    check (coalesce(given_name, family_name) is not null),
    check (deceased or deceased_on is null)
);
create index on refuge.individual_relative (individual_id);
comment on table refuge.individual_relative is
    'relatives of a person who are not registered with them (eRRF dataIndividualRelatives): name, relationship, birth, residence, nationality, whether deceased';
create trigger check_codes before insert or update on refuge.individual_relative
    for each row execute function refuge.check_codes('relationship', 'relationship', 'sex', 'sex', 'birth_country', 'country',
        'residence_country', 'country', 'nationality', 'country', 'marital_status', 'marital_status');
alter table refuge.individual_relative replica identity full;
create policy staff_read on refuge.individual_relative for select to refuge_registration, refuge_supervisor
    using (exists (select 1 from refuge.individual i where i.id = individual_relative.individual_id));
grant select on refuge.individual_relative to refuge_registration, refuge_supervisor;
select pg_catalog.pg_extension_config_dump('refuge.individual_relative', '');
insert into refuge.sync_table (table_name, kind, up, down, route, parent_table, parent_key, shared) values
    ('individual_relative', 'personal', true, true, 'sync_operation', 'individual', 'individual_id', false);
insert into refuge.audit_scope (table_name, class) values ('individual_relative', 'registration');
