-- Erasure (issue 18): a key per person for the personal values of the audit
-- trail, and the record of each erasure (functions/46_erasure.sql).

-- Each person's key, wrapped under the vault key (extension/person_key.c).
-- No role may read or write it: the C code works on it as its owner.  A row
-- whose key is gone stays, so that no new key is ever made for the person.
-- Keys are node-local (never replicated): each node seals the audit rows it
-- writes under its own.
create table refuge.person_key (
    individual_id  uuid primary key,
    key_id         text,
    wrapped        bytea,
    created_at     timestamptz not null default now(),
    erased_at      timestamptz,
    check ((wrapped is null) = (erased_at is not null)),
    check ((wrapped is null) = (key_id is null))
);
comment on table refuge.person_key is
    'per-person keys sealing the personal values of the audit trail, wrapped under the vault key; erasure destroys the key (no role reads this table)';
comment on column refuge.person_key.key_id is 'the vault key that wraps it (start of its SHA-256, hex)';
select pg_catalog.pg_extension_config_dump('refuge.person_key', '');

-- A key is only ever made or destroyed, never changed back or removed.
create function refuge.person_key_guard() returns trigger
    language plpgsql
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    if tg_op = 'DELETE' then
        raise exception using errcode = '42501', message = 'person_key: keys are destroyed, never deleted';
    end if;
    if OLD.wrapped is null and (NEW.wrapped is not null or NEW.erased_at is distinct from OLD.erased_at) then
        raise exception using errcode = '42501', message = 'person_key: a destroyed key stays destroyed';
    end if;
    -- (wrapped again under a new vault key: refuge.rotate_vault_key)
    if OLD.wrapped is not null and NEW.wrapped is not null and NEW.key_id is not distinct from OLD.key_id then
        raise exception using errcode = '42501', message = 'person_key: a key is never changed';
    end if;
    return NEW;
end
$$;
create trigger guard before update or delete on refuge.person_key
    for each row execute function refuge.person_key_guard();
alter table refuge.person_key enable always trigger guard;

-- The seal of the audit trail's personal values and its opening.
create function refuge.destroy_person_key(individual_id uuid) returns boolean
    language c volatile strict
    set search_path = pg_catalog, pg_temp
    as 'MODULE_PATHNAME', 'refuge_destroy_person_key';
comment on function refuge.destroy_person_key(uuid) is
    'internal: destroy a person''s key (refuge.erase_individual, and an erasure arriving by replication)';

-- Vault keys a rotation retired (refuge.rotate_vault_key): nothing new is
-- sealed or wrapped under them, so a session still reading the old key
-- file fails (and reconnects) instead of leaving values under a key about
-- to be destroyed.  Ids only (the start of the key's SHA-256).
create table refuge.vault_key_retired (
    key_id         text primary key check (key_id ~ '^[0-9a-f]{16}$'),
    retired_at     timestamptz not null default now(),
    retired_by     name not null
);
comment on table refuge.vault_key_retired is
    'vault keys retired by a rotation (ids only): nothing new is sealed or wrapped under them';
select pg_catalog.pg_extension_config_dump('refuge.vault_key_retired', '');

create function refuge.vault_previous_key_id() returns text
    language c volatile as 'MODULE_PATHNAME', 'refuge_vault_previous_key_id';
comment on function refuge.vault_previous_key_id() is
    'id (start of SHA-256) of the key in refuge.vault_previous_key_file, or null; never the key';

create function refuge.rewrap_person_keys(max_keys integer) returns bigint
    language c volatile strict
    set search_path = pg_catalog, pg_temp
    as 'MODULE_PATHNAME', 'refuge_rewrap_person_keys';
comment on function refuge.rewrap_person_keys(integer) is
    'internal: wrap again under refuge.vault_key_file up to max_keys person keys wrapped under refuge.vault_previous_key_file';

-- Reads the audit row under the caller's row-level security: only a row the
-- caller may read opens (a sealed value copied elsewhere does not).
create function refuge.audit_unseal(audit_id bigint, side text) returns jsonb
    language c volatile strict
    set search_path = pg_catalog, pg_temp
    as 'MODULE_PATHNAME', 'refuge_audit_unseal';
comment on function refuge.audit_unseal(bigint, text) is
    'the sealed personal values of one side (old or new) of an audit row the caller may read; null once the person was erased';

-- Statuses: an erased record is a tombstone.
insert into refuge.individual_status (code, label, shipped) values
    ('ERASED', 'Erased at the person''s request (tombstone: number, operation, dates)', true);

-- One row per person erased: who, when, why, what was removed.  Replicated
-- both ways, so that every node destroys its own key of the person when it
-- arrives.  The reason must not name the person (it is kept in clear).
create table refuge.erasure (
    id                   uuid primary key default gen_random_uuid(),
    individual_id        uuid not null unique,
    operation_id         uuid not null,
    reason               text not null check (length(reason) between 1 and 500),
    removed              jsonb not null,
    audit_in_clear       boolean not null,
    erased_at            timestamptz not null default now(),
    erased_by            name not null,
    created_at           timestamptz not null default now(),
    created_by           name not null default current_user,
    updated_at           timestamptz not null default now(),
    updated_by           name not null default current_user,
    sync_owner           text not null default refuge.local_node()
);
create index on refuge.erasure (operation_id, erased_at);
comment on table refuge.erasure is
    'erasures of individuals at their request: who, when, why, how many rows of each kind were removed (never the data)';
comment on column refuge.erasure.audit_in_clear is
    'some of the person''s audit rows were written before their key existed (no vault key then): those stay readable';
alter table refuge.erasure replica identity full;
create trigger append_only before delete or update on refuge.erasure
    for each row execute function refuge.append_only();
alter table refuge.erasure enable always trigger append_only;
create policy staff_read on refuge.erasure for select to refuge_admin, refuge_supervisor
    using (operation_id = any ((select refuge.scope_operations())::uuid[]));
create policy dba_read on refuge.erasure for select to refuge_dba using (true);
grant select on refuge.erasure to refuge_admin, refuge_supervisor, refuge_dba;
select pg_catalog.pg_extension_config_dump('refuge.erasure', '');

-- Wherever an erasure is written or arrives, the node's key of the person goes.
create function refuge.erasure_arrived() returns trigger
    language plpgsql
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    perform refuge.destroy_person_key(NEW.individual_id);
    -- arrived from the node that erased: the person's rows this node owns go
    -- too, and its demographic keys of them
    if NEW.sync_owner <> refuge.local_node() then
        perform refuge.erase_rows(NEW.individual_id, true);
        delete from refuge.match_block b where b.individual_id = NEW.individual_id;
        delete from refuge.match_profile m where m.individual_id = NEW.individual_id;
    end if;
    -- what readers of the person's records wrote as their purpose can name
    -- them (a demographic search logs the names searched): this node's
    -- rows keep who, when and what kind, not why
    update refuge.sensitive_read r set purpose = '(erased with the record)'
     where r.individual_id = NEW.individual_id and r.sync_owner = refuge.local_node()
       and r.purpose <> '(erased with the record)';
    update refuge.vault_access r set purpose = '(erased with the record)'
     where r.individual_id = NEW.individual_id and r.sync_owner = refuge.local_node()
       and r.purpose <> '(erased with the record)';
    -- the case files of erased people alone: their text and this node's
    -- keys of them
    perform refuge.erase_case_files(NEW.individual_id);
    return NEW;
end
$$;
create trigger destroy_key after insert on refuge.erasure
    for each row execute function refuge.erasure_arrived();
alter table refuge.erasure enable always trigger destroy_key;

insert into refuge.sync_table (table_name, kind, up, down, route, parent_table, parent_key, shared) values
    ('erasure', 'personal', true, true, 'operation_id', null, null, false);
insert into refuge.audit_scope (table_name, class) values ('erasure', 'registration');

-- A read logged after the erasure (a reader whose snapshot predates it)
-- keeps no purpose either.
create function refuge.read_of_erased() returns trigger
    language plpgsql
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    if NEW.individual_id is not null
       and exists (select 1 from refuge.individual i where i.id = NEW.individual_id and i.status = 'ERASED') then
        NEW.purpose := '(erased with the record)';
    end if;
    return NEW;
end
$$;
create trigger read_of_erased before insert on refuge.sensitive_read
    for each row execute function refuge.read_of_erased();
alter table refuge.sensitive_read enable always trigger read_of_erased;
create trigger read_of_erased before insert on refuge.vault_access
    for each row execute function refuge.read_of_erased();
alter table refuge.vault_access enable always trigger read_of_erased;
