-- refuge 0.12.0 -> 0.13.0: a key per person sealing their values in the
-- audit trail, and erasure at the person's request (refuge.erase_individual)
\echo Use "ALTER EXTENSION refuge UPDATE TO '0.13.0'" to load this file. \quit

-- the HXL export is for publication: it names an agreement with the public
drop function refuge.hxl_population_csv(integer, integer);
alter table refuge.sharing_agreement drop constraint sharing_agreement_party_kind_check;
alter table refuge.sharing_agreement add constraint sharing_agreement_party_kind_check
    check (party_kind in ('PARTNER', 'GOVERNMENT', 'RESETTLEMENT_STATE', 'RESEARCHER', 'PUBLIC'));
insert into refuge.processing_purpose (code, label, legal_basis, sharing, description, shipped) values
  ('STATISTICS', 'Publication of aggregate statistics', 'PUBLIC_INTEREST', true,
   'aggregated figures with small cells suppressed (the HXL export), under an agreement', true);

-- consents and notices replicate with the person's record (a field site's
-- publications take them when refuge.add_field_site runs again at HQ)
alter table refuge.consent add column sync_owner text not null default refuge.local_node(),
                           add column sync_operation uuid;
alter table refuge.information_notice add column sync_owner text not null default refuge.local_node(),
                                      add column sync_operation uuid;
update refuge.consent c set sync_operation = i.operation_id from refuge.individual i where i.id = c.individual_id;
update refuge.information_notice n set sync_operation = i.operation_id from refuge.individual i where i.id = n.individual_id;
alter table refuge.consent replica identity full;
alter table refuge.information_notice replica identity full;
insert into refuge.sync_table (table_name, kind, up, down, route, parent_table, parent_key, shared) values
    ('consent', 'personal', true, true, 'sync_operation', 'individual', 'individual_id', false),
    ('information_notice', 'personal', true, true, 'sync_operation', 'individual', 'individual_id', false);
create trigger sync_local before insert or update or delete on refuge.consent
    for each row execute function refuge.sync_row_local('sync_operation', 'individual', 'individual_id', 'f');
create trigger sync_local before insert or update or delete on refuge.information_notice
    for each row execute function refuge.sync_row_local('sync_operation', 'individual', 'individual_id', 'f');
create trigger a_sync_apply before insert or update or delete on refuge.consent
    for each row execute function refuge.sync_row_apply('direct', '');
create trigger a_sync_apply before insert or update or delete on refuge.information_notice
    for each row execute function refuge.sync_row_apply('direct', '');
alter table refuge.consent enable replica trigger a_sync_apply;
alter table refuge.information_notice enable replica trigger a_sync_apply;

-- Aggregate statistics handed out for publication (the HXL export): which
-- snapshot, under which agreement, by whom, when.  Committed by the
-- logging worker before the figures are returned (a rollback keeps it).
create table refuge.publication (
    id               bigint generated always as identity primary key,
    at               timestamptz not null default now(),
    actor            name not null,
    kind             text not null check (kind in ('HXL_POPULATION')),
    snapshot_id      integer not null,
    agreement_id     uuid not null,
    min_cell         integer not null
);
comment on table refuge.publication is
    'aggregate statistics handed out for publication: what, which snapshot, under which agreement, by whom, when';
create trigger append_only before delete or update on refuge.publication
    for each row execute function refuge.append_only();
alter table refuge.publication enable always trigger append_only;
create policy staff_read on refuge.publication for select to refuge_admin, refuge_dba using (true);
grant select on refuge.publication to refuge_admin, refuge_dba;
select pg_catalog.pg_extension_config_dump('refuge.publication', '');
select pg_catalog.pg_extension_config_dump('refuge.publication_id_seq', '');


-- sql/86_erasure.sql
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

-- functions/46_erasure.sql
-- Erasure at the person's request (issue 18): refuge.erase_individual, and
-- the reading of the audit trail's sealed values (sql/86_erasure.sql,
-- extension/person_key.c).

-- An audit row's values with the person's sealed values opened: "$sealed"
-- and "$subject" give way to the columns they hold, or to "$erased": true
-- once the person was erased.
create function refuge.audit_opened(data jsonb, opened jsonb) returns jsonb
    language sql immutable parallel safe
return case when data ? '$sealed'
            then (data - '$sealed' - '$subject') || coalesce(opened, '{"$erased": true}'::jsonb)
            else data end;
comment on function refuge.audit_opened(jsonb, jsonb) is
    'an audit row''s values with the opened personal values in place of the sealed ones';

-- The row is read again by its id under the caller's row-level security
-- (the values passed in are not trusted).
create function refuge.audit_values(entry refuge.audit_log, out old_data jsonb, out new_data jsonb)
    language sql volatile
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    select refuge.audit_opened(a.old_data, refuge.audit_unseal(a.id, 'old')),
           refuge.audit_opened(a.new_data, refuge.audit_unseal(a.id, 'new'))
      from refuge.audit_log a where a.id = entry.id;
end;
comment on function refuge.audit_values(refuge.audit_log) is
    'the old and new values of an audit row the caller may read, personal values opened with the person''s key (unless erased)';

-- Tables whose rows are all about one person and go when they are erased
-- (individual_id names the person).  The order respects foreign keys;
-- the demographic keys go after the tombstone is written.
create function refuge.erasable_tables() returns text[]
    language sql immutable parallel safe
    return array['individual_name', 'individual_contact', 'individual_address', 'individual_nationality',
                 'individual_language', 'individual_education', 'individual_occupation', 'individual_relative',
                 'document', 'flight_leg', 'specific_need', 'photo', 'biometric_vault', 'biometric_finger',
                 'biometric_iris'];

-- Has any audit row of the person's current rows kept its values in clear
-- (written before the vault key was set)?  Generated from the catalogue:
-- every table with an individual_id and a uuid id (a standard SQL body: its
-- names are bound when it is made, and it is inlined where it is called).
do $in_clear$
declare
    q text;
begin
    select string_agg(format('select 1 from refuge.%I x join refuge.audit_log a on a.table_name = %L and a.row_id = x.id
                               where x.individual_id = p_individual
                                 and not coalesce(a.new_data ? ''$subject'', a.old_data ? ''$subject'', false)',
                             c.relname, c.relname), E'\n                union all ' order by c.relname)
      into q
      from pg_catalog.pg_class c
     where c.relnamespace = 'refuge'::regnamespace and c.relkind = 'r'
       and c.relname not in ('person_key', 'erasure', 'match_profile', 'match_block')
       and exists (select 1 from pg_catalog.pg_attribute a where a.attrelid = c.oid
                      and a.attname = 'individual_id' and not a.attisdropped)
       and exists (select 1 from pg_catalog.pg_attribute a where a.attrelid = c.oid
                      and a.attname = 'id' and a.atttypid = 'uuid'::regtype and not a.attisdropped);
    execute format($f$
create function refuge.audit_in_clear(p_individual uuid) returns boolean
    language sql stable
return exists (select 1 from refuge.audit_log a
                where a.table_name = 'individual' and a.row_id = p_individual
                  and not coalesce(a.new_data ? '$subject', a.old_data ? '$subject', false))
    or exists (%s)$f$, q);
end
$in_clear$;
comment on function refuge.audit_in_clear(uuid) is
    'internal: has any audit row of the person''s rows kept its values in clear (written without the vault key)?';

-- The person's rows go (refuge.erase_individual, where the record is owned;
-- and refuge.erasure_arrived on every other node, for the rows that node
-- owns, so that what was written about the person elsewhere goes too).
-- Returns how many rows of each kind.
create function refuge.erase_rows(p_individual uuid, p_local_only boolean) returns jsonb
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    removed jsonb := '{}';
    n bigint;
    docs bigint;
begin
    -- (one static statement per table: planned once per session)
    delete from refuge.individual_name x where x.individual_id = p_individual
       and (not p_local_only or x.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then removed := removed || jsonb_build_object('individual_name', n); end if;
    delete from refuge.individual_contact x where x.individual_id = p_individual
       and (not p_local_only or x.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then removed := removed || jsonb_build_object('individual_contact', n); end if;
    delete from refuge.individual_address x where x.individual_id = p_individual
       and (not p_local_only or x.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then removed := removed || jsonb_build_object('individual_address', n); end if;
    delete from refuge.individual_nationality x where x.individual_id = p_individual
       and (not p_local_only or x.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then removed := removed || jsonb_build_object('individual_nationality', n); end if;
    delete from refuge.individual_language x where x.individual_id = p_individual
       and (not p_local_only or x.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then removed := removed || jsonb_build_object('individual_language', n); end if;
    delete from refuge.individual_education x where x.individual_id = p_individual
       and (not p_local_only or x.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then removed := removed || jsonb_build_object('individual_education', n); end if;
    delete from refuge.individual_occupation x where x.individual_id = p_individual
       and (not p_local_only or x.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then removed := removed || jsonb_build_object('individual_occupation', n); end if;
    delete from refuge.individual_relative x where x.individual_id = p_individual
       and (not p_local_only or x.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then removed := removed || jsonb_build_object('individual_relative', n); end if;
    delete from refuge.document x where x.individual_id = p_individual
       and (not p_local_only or x.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then removed := removed || jsonb_build_object('document', n); end if;
    delete from refuge.flight_leg x where x.individual_id = p_individual
       and (not p_local_only or x.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then removed := removed || jsonb_build_object('flight_leg', n); end if;
    delete from refuge.specific_need x where x.individual_id = p_individual
       and (not p_local_only or x.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then removed := removed || jsonb_build_object('specific_need', n); end if;
    delete from refuge.photo x where x.individual_id = p_individual
       and (not p_local_only or x.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then removed := removed || jsonb_build_object('photo', n); end if;
    delete from refuge.biometric_vault x where x.individual_id = p_individual
       and (not p_local_only or x.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then removed := removed || jsonb_build_object('biometric_vault', n); end if;
    delete from refuge.biometric_finger x where x.individual_id = p_individual
       and (not p_local_only or x.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then removed := removed || jsonb_build_object('biometric_finger', n); end if;
    delete from refuge.biometric_iris x where x.individual_id = p_individual
       and (not p_local_only or x.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then removed := removed || jsonb_build_object('biometric_iris', n); end if;
    update refuge.issued_document d
       set status = case when d.status = 'VALID' then 'REVOKED' else d.status end,
           ended_at = coalesce(d.ended_at, now()), ended_by = coalesce(d.ended_by, refuge.caller()),
           status_reason = case when d.status = 'VALID' then 'holder''s record erased' else d.status_reason end,
           payload = '', photo_digest = null
     where d.individual_id = p_individual and (not p_local_only or d.sync_owner = refuge.local_node());
    get diagnostics docs = row_count;
    if docs > 0 then
        removed := removed || jsonb_build_object('issued_document', docs);
    end if;
    -- the templates kept with each capture
    update refuge.biometric_capture b set fingers = '{}', irises = '{}', iris_quality = null
     where b.individual_id = p_individual and (cardinality(b.fingers) > 0 or cardinality(b.irises) > 0)
       and (not p_local_only or b.sync_owner = refuge.local_node());
    get diagnostics n = row_count;
    if n > 0 then
        removed := removed || jsonb_build_object('biometric_capture_templates', n);
    end if;
    -- changes to the person's rows sent to other nodes keep their values:
    -- this node's earlier ones go (each node deletes its own when the
    -- erasure arrives: deleting another's would send its values as a
    -- request); the removals just requested of rows another node owns
    -- (applied by key, on arrival) keep no values
    delete from refuge.sync_change c
     where c.requested_at < now() and c.sync_owner = refuge.local_node()
       and (c.row_key ->> 'id' = p_individual::text or c.row_key ->> 'individual_id' = p_individual::text
            or c.new_values ->> 'individual_id' = p_individual::text or c.old_values ->> 'individual_id' = p_individual::text);
    update refuge.sync_change c set old_values = null
     where c.sync_owner = refuge.local_node() and c.requested_at = now() and c.action = 'DELETE' and c.old_values ->> 'individual_id' = p_individual::text;
    delete from refuge.sync_conflict c
     where c.sync_owner = refuge.local_node()
       and (c.row_key ->> 'id' = p_individual::text or c.kept_values ->> 'individual_id' = p_individual::text
        or c.lost_values ->> 'individual_id' = p_individual::text or c.base_values ->> 'individual_id' = p_individual::text);

    -- free text about the person: reasons given for status changes and
    -- withdrawals; pending status requests are rejected
    update refuge.status_change x
       set status = case when x.status = 'REQUESTED' then 'REJECTED' else x.status end,
           decided_by = coalesce(x.decided_by, refuge.caller()), decided_at = coalesce(x.decided_at, now()),
           reason = '(erased with the record)',
           decision_comment = case when x.decision_comment is not null or x.status = 'REQUESTED'
                                   then '(erased with the record)' end
     where x.individual_id = p_individual and (not p_local_only or x.sync_owner = refuge.local_node())
       and (x.reason <> '(erased with the record)' or x.status = 'REQUESTED');
    update refuge.status_history x set reason = '(erased with the record)'
     where x.individual_id = p_individual and x.reason is not null and x.reason <> '(erased with the record)'
       and (not p_local_only or x.sync_owner = refuge.local_node());
    update refuge.consent x set withdrawal_reason = null
     where x.individual_id = p_individual and x.withdrawal_reason is not null
       and (not p_local_only or x.sync_owner = refuge.local_node());
    -- the person leaves their household (family ties of the others stay as ids)
    update refuge.group_membership x set valid_to = greatest(now(), x.valid_from), end_reason = 'CLOSURE'
     where x.individual_id = p_individual and x.valid_to is null
       and (not p_local_only or x.sync_owner = refuge.local_node());
    return removed;
end
$$;
comment on function refuge.erase_rows(uuid, boolean) is
    'internal: remove the rows about one person alone (of this node only, when local_only), revoke their documents, clear their capture templates';

-- Erase a person at their request (refuge_admin, in the person's
-- operation, where the record is owned).  What it does, in one transaction:
--  * removes every row about the person alone (names and aliases, contacts,
--    addresses, nationalities, languages, education, occupations, relatives
--    they declared, identity documents, flight, specific needs, photos, the
--    vault's images, fingerprint and iris templates, demographic keys);
--  * revokes the documents issued to them and blanks what they print;
--  * leaves the record as a tombstone: its id, number, operation, site, sex,
--    population type and the dates of registration and erasure, status
--    ERASED, names and birth date gone (family ties and case membership are
--    kept as ids, since they are also the others' records);
--  * records the erasure (refuge.erasure), which destroys the person's key
--    here and, arriving by replication, at every other node: the audit
--    trail's values of the person, sealed under that key, become unreadable
--    while refuge.verify_audit() still verifies (the chain is over what is
--    stored).
-- The tombstone does not block a new biometric enrolment of the person:
-- that would need their templates, which are what erasure removes.  A held
-- record (an open fraud investigation) is refused.
create function refuge.erase_individual(individual_id uuid, reason text) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    p refuge.individual;
    why text := btrim(reason);
    removed jsonb;
    in_clear boolean;
begin
    perform refuge.authorize('refuge_admin', 'erase_individual');
    if erase_individual.individual_id is null then
        perform refuge.raise_field('22004', 'individual_id', 'is required');
    end if;
    if why is null or why = '' then
        perform refuge.raise_field('22004', 'reason', 'is required');
    end if;
    if length(why) > 500 then
        perform refuge.raise_field('22001', 'reason', format('is %s characters long; at most 500', length(why)));
    end if;
    select * into p from refuge.individual i where i.id = erase_individual.individual_id;
    perform refuge.require_visible(p.id is not null and refuge.in_scope(p.operation_id, p.site_id), 'individual_id');
    select * into p from refuge.individual i where i.id = p.id for update;
    if p.status = 'ERASED' then
        perform refuge.raise_field('55000', 'individual_id', format('the record %s was already erased', p.number));
    end if;
    if p.sync_owner <> refuge.local_node() then
        perform refuge.raise_field('55000', 'individual_id',
            format('the record %s is owned by node %s; erase it there (the erasure reaches every node)',
                   p.number, p.sync_owner));
    end if;
    -- (one answer for every hold: the caller may not see the case or the investigation)
    if exists (select 1 from refuge.fraud_case f
                where (f.individual_id = p.id or f.other_id = p.id) and f.status = 'OPEN')
       or exists (select 1 from refuge.case_member cm join refuge.process_case c on c.id = cm.case_id
                   where cm.individual_id = p.id and not c.closed) then
        perform refuge.raise_field('55000', 'individual_id',
            format('the record %s is held by open work on it (a case or an investigation): it is erased once that is closed',
                   p.number));
    end if;
    if exists (select 1 from refuge.group_membership m
                where m.individual_id = p.id and m.valid_to is null and m.relationship = 'PA'
                  and exists (select 1 from refuge.group_membership o
                               where o.group_id = m.group_id and o.valid_to is null and o.individual_id <> p.id)) then
        perform refuge.raise_field('55000', 'individual_id',
            format('the record %s is the principal applicant of a household with other members: make another member principal first (refuge.set_principal)',
                   p.number));
    end if;
    if not refuge.vault_key_loaded() then
        perform refuge.raise_field('55000', 'individual_id',
            'the vault key is not loaded here: the audit trail''s values of the person could not be made unreadable',
            'A superuser sets refuge.vault_key_file (README, Data protection).');
    end if;

    -- audit rows of the person's rows written without their key (before the
    -- vault key was set) hold their values in clear
    in_clear := refuge.audit_in_clear(p.id);

    removed := refuge.erase_rows(p.id, false);

    update refuge.individual i
       set given_name = null, middle_name = null, family_name = '[erased]', second_family_name = null,
           maiden_name = null, mother_name = null, father_name = null, date_of_birth = null,
           dob_precision = 'ESTIMATED', place_of_birth = null, birth_country = null, ethnicity = null,
           religion = null, marital_status = null, education_level = null, arrival_date = null,
           status = 'ERASED', status_date = current_date, status_reason = null
     where i.id = p.id;

    -- after the tombstone, whose names would otherwise make new demographic keys
    delete from refuge.match_block b where b.individual_id = p.id;
    delete from refuge.match_profile m where m.individual_id = p.id;

    insert into refuge.erasure (individual_id, operation_id, reason, removed, audit_in_clear, erased_by)
    values (p.id, p.operation_id, why, removed, in_clear, refuge.caller());

    return jsonb_build_object('individual_id', p.id, 'number', p.number, 'erased_at', now(), 'removed', removed,
                              'audit_in_clear', in_clear, 'tombstone', true, 'reenrolment_blocked', false);
end
$$;
comment on function refuge.erase_individual(uuid, text) is
    'admin: erase a person at their request: their data removed, the record left as a tombstone, their key destroyed so that the audit trail''s values of them become unreadable (verify_audit still verifies)';
grant execute on function refuge.erase_individual(uuid, text) to refuge_admin;
grant execute on function refuge.audit_values(refuge.audit_log) to refuge_supervisor, refuge_admin,
    refuge_biometrics_admin, refuge_dba;
grant execute on function refuge.audit_opened(jsonb, jsonb) to refuge_supervisor, refuge_admin,
    refuge_biometrics_admin, refuge_dba;
grant execute on function refuge.audit_unseal(bigint, text) to refuge_supervisor, refuge_admin,
    refuge_biometrics_admin, refuge_dba;

-- A tombstone stays one: nothing writes personal data back into it (an
-- owner's changes arriving by replication still apply).
create function refuge.tombstone_guard() returns trigger
    language plpgsql
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    if OLD.status = 'ERASED' and not refuge.sync_applying() then
        raise exception using errcode = '55000', schema = 'refuge',
            message = format('individual_id: the record %s was erased at the person''s request', OLD.number);
    end if;
    return NEW;
end
$$;
create trigger tombstone before update on refuge.individual
    for each row execute function refuge.tombstone_guard();
alter table refuge.individual enable always trigger tombstone;

-- Nor do the tables about the person alone take rows for a tombstone
-- (documents, names, templates, ...): a caller gets the same error.
create function refuge.tombstone_child_guard() returns trigger
    language plpgsql
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    n text;
begin
    if refuge.sync_applying() then
        return NEW;
    end if;
    select i.number into n from refuge.individual i where i.id = NEW.individual_id and i.status = 'ERASED';
    if found then
        raise exception using errcode = '55000', schema = 'refuge',
            message = format('individual_id: the record %s was erased at the person''s request', n);
    end if;
    return NEW;
end
$$;
-- Every table with rows about a person takes no new row for a tombstone;
-- those about the person alone, consents and notices take no change
-- either.  (Family, case, deduplication and status records stay workable:
-- they are the others' too.)  Not the logs that
-- record what happens to the record (status history, reads, the vault's
-- accesses), nor the erasure's own tables.
do $tombstone$
declare
    t text;
begin
    for t in select c.relname from pg_catalog.pg_class c
              where c.relnamespace = 'refuge'::regnamespace and c.relkind = 'r'
                and c.relname not in ('person_key', 'erasure', 'match_profile', 'match_block', 'status_history',
                                      'sensitive_read', 'vault_access')
                and exists (select 1 from pg_catalog.pg_attribute a where a.attrelid = c.oid
                               and a.attname = 'individual_id' and not a.attisdropped)
              order by c.relname
    loop
        execute format('create trigger tombstone before insert%s on refuge.%I
                        for each row execute function refuge.tombstone_child_guard()',
                       case when t = any (refuge.erasable_tables() || array['consent', 'information_notice'])
                            then ' or update' else '' end, t);
        execute format('alter table refuge.%I enable always trigger tombstone', t);
    end loop;
end
$tombstone$;

-- sql/15_audit.sql: append_only
create or replace function refuge.append_only() returns trigger
    language plpgsql
as $$
begin
    -- the owner's copy was guarded where it was written; a copy follows it
    if refuge.sync_applying() or (tg_op = 'DELETE' and refuge.sync_purging()) then
        return coalesce(NEW, OLD);
    end if;
    -- a case moving to another operation re-routes its events, HQ takes over
    -- the rows of a field site that closed; their content stays
    if tg_op = 'UPDATE' and to_jsonb(NEW) - array['sync_operation', 'sync_shared', 'sync_owner', 'updated_at', 'updated_by']
                            = to_jsonb(OLD) - array['sync_operation', 'sync_shared', 'sync_owner', 'updated_at', 'updated_by'] then
        return NEW;
    end if;
    -- a sealed note or document sealed again under a new vault key
    -- (refuge.rotate_vault_key): the same content, verified
    if tg_op = 'UPDATE' and tg_table_name in ('case_note', 'case_document') then
        if to_jsonb(NEW) - array['sealed', 'updated_at', 'updated_by'] = to_jsonb(OLD) - array['sealed', 'updated_at', 'updated_by']
           and NEW.sealed is not null and OLD.sealed is not null
           and refuge.vault_open(NEW.sealed, tg_table_name || ':' || NEW.id)
               = refuge.vault_open(OLD.sealed, tg_table_name || ':' || OLD.id) then
            return NEW;
        end if;
    end if;
    -- the purpose a reader gave, replaced once the person read about was
    -- erased (refuge.erasure_arrived): it can name them
    if tg_op = 'UPDATE' and tg_table_name in ('sensitive_read', 'vault_access') then
        if NEW.purpose = '(erased with the record)' and to_jsonb(NEW) - 'purpose' = to_jsonb(OLD) - 'purpose'
           and exists (select 1 from refuge.individual i where i.id = NEW.individual_id and i.status = 'ERASED') then
            return NEW;
        end if;
    end if;
    raise exception using errcode = '42501',
        message = format('%s is append-only: rows are never %s', tg_table_name,
                         case tg_op when 'DELETE' then 'deleted' else 'changed' end);
end
$$;

-- functions/45_data_protection.sql: shareable_fields
create or replace function refuge.shareable_fields() returns text[]
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    select array_agg(x.code order by x.code)
      from (select f.code from refuge.referral_field f union select 'RRF' union select 'MICRODATA'
            union select 'AGGREGATE_STATISTICS') x;
end;

-- functions/45_data_protection.sql: define_agreement
create or replace function refuge.define_agreement(agreement jsonb) returns uuid
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    a refuge.sharing_agreement;
    k text;
    x text;
    new_id uuid;
begin
    perform refuge.authorize('refuge_admin', 'define_agreement');
    if agreement is null or jsonb_typeof(agreement) <> 'object' then
        perform refuge.raise_field('22023', 'agreement', 'must be a JSON object');
    end if;
    for k in select jsonb_object_keys(agreement) loop
        if k not in ('code', 'title', 'party_kind', 'partner', 'country', 'party_name', 'purposes', 'fields', 'legal_basis',
                     'valid_from', 'valid_until', 'security_terms', 'signed_by', 'signed_on') then
            perform refuge.raise_field('22023', 'agreement.' || refuge.excerpt(k), 'is not a field of an agreement');
        end if;
    end loop;
    foreach k in array array['code', 'title', 'party_kind', 'party_name', 'legal_basis', 'valid_from', 'valid_until',
                             'security_terms', 'signed_by', 'signed_on'] loop
        if jsonb_typeof(agreement -> k) is distinct from 'string' or btrim(agreement ->> k) = '' then
            perform refuge.raise_field('22004', 'agreement.' || k, 'is required (a string)');
        end if;
    end loop;
    a.code := agreement ->> 'code';
    if a.code !~ '^[A-Z0-9][A-Z0-9_-]{1,39}$' then
        perform refuge.raise_field('22023', 'agreement.code', format('"%s" is not 2 to 40 capital letters, digits, - or _', refuge.excerpt(a.code)));
    end if;
    if exists (select 1 from refuge.sharing_agreement s where s.code = a.code) then
        perform refuge.raise_field('23505', 'agreement.code', format('%s exists already', a.code));
    end if;
    foreach k in array array['title', 'party_name', 'signed_by', 'security_terms'] loop
        if length(agreement ->> k) > (case when k = 'security_terms' then 4000 else 200 end) then
            perform refuge.raise_field('22001', 'agreement.' || k, format('is longer than %s characters',
                                       (case when k = 'security_terms' then 4000 else 200 end)));
        end if;
    end loop;
    a.title := agreement ->> 'title';
    a.party_kind := agreement ->> 'party_kind';
    if a.party_kind not in ('PARTNER', 'GOVERNMENT', 'RESETTLEMENT_STATE', 'RESEARCHER', 'PUBLIC') then
        perform refuge.raise_field('22023', 'agreement.party_kind', format('"%s" is not PARTNER, GOVERNMENT, RESETTLEMENT_STATE, RESEARCHER or PUBLIC',
                                                                        refuge.excerpt(a.party_kind)));
    end if;
    if a.party_kind = 'PUBLIC' and (agreement -> 'purposes' <> '["STATISTICS"]'::jsonb
                                    or agreement -> 'fields' <> '["AGGREGATE_STATISTICS"]'::jsonb) then
        perform refuge.raise_field('22023', 'agreement.party_kind',
            'an agreement with the public covers purpose STATISTICS and field AGGREGATE_STATISTICS only (published aggregates)');
    end if;
    if a.party_kind = 'PARTNER' then
        select p.id into a.partner_id from refuge.partner_organisation p where p.code = agreement ->> 'partner';
        if a.partner_id is null then
            perform refuge.raise_field('23503', 'agreement.partner', format('unknown partner "%s"', refuge.excerpt(agreement ->> 'partner')));
        end if;
    elsif agreement ? 'partner' then
        perform refuge.raise_field('22023', 'agreement.partner', format('is for a PARTNER agreement, not %s', a.party_kind));
    end if;
    a.country := agreement ->> 'country';
    if a.party_kind in ('GOVERNMENT', 'RESETTLEMENT_STATE') and a.country is null then
        perform refuge.raise_field('22004', 'agreement.country', format('is required for a %s agreement (ISO 3166 alpha-3)', a.party_kind));
    end if;
    if a.party_kind in ('GOVERNMENT', 'RESETTLEMENT_STATE') and not refuge.code_exists('country', a.country) then
        perform refuge.raise_field('22023', 'agreement.country', format('"%s" is not a country code (ISO 3166 alpha-3)', refuge.excerpt(a.country)));
    end if;
    a.party_name := agreement ->> 'party_name';
    if jsonb_typeof(agreement -> 'purposes') is distinct from 'array' or jsonb_array_length(agreement -> 'purposes') = 0 then
        perform refuge.raise_field('22004', 'agreement.purposes', 'is required (a non-empty list of purposes)');
    end if;
    for x in select jsonb_array_elements_text(agreement -> 'purposes') loop
        if not exists (select 1 from refuge.processing_purpose p where p.code = x and p.sharing) then
            perform refuge.raise_field('22023', 'agreement.purposes', format('"%s" is not a sharing purpose (%s)', refuge.excerpt(x),
                (select string_agg(p.code, ', ' order by p.code) from refuge.processing_purpose p where p.sharing)));
        end if;
    end loop;
    a.purposes := array(select distinct jsonb_array_elements_text(agreement -> 'purposes') order by 1);
    if jsonb_typeof(agreement -> 'fields') is distinct from 'array' or jsonb_array_length(agreement -> 'fields') = 0 then
        perform refuge.raise_field('22004', 'agreement.fields', 'is required (a non-empty list of fields)');
    end if;
    for x in select jsonb_array_elements_text(agreement -> 'fields') loop
        if not x = any (refuge.shareable_fields()) then
            perform refuge.raise_field('22023', 'agreement.fields', format('"%s" is not one of %s', refuge.excerpt(x),
                                                                         array_to_string(refuge.shareable_fields(), ', ')));
        end if;
    end loop;
    a.fields := array(select distinct jsonb_array_elements_text(agreement -> 'fields') order by 1);
    a.legal_basis := agreement ->> 'legal_basis';
    if a.legal_basis not in ('CONSENT', 'VITAL_INTEREST', 'MANDATE', 'LEGAL_OBLIGATION', 'PUBLIC_INTEREST', 'LEGITIMATE_INTEREST') then
        perform refuge.raise_field('22023', 'agreement.legal_basis', format('"%s" is not one of CONSENT, VITAL_INTEREST, MANDATE, '
            'LEGAL_OBLIGATION, PUBLIC_INTEREST, LEGITIMATE_INTEREST', refuge.excerpt(a.legal_basis)));
    end if;
    a.valid_from := refuge.arg_date(agreement, 'valid_from', 'agreement', true, false);
    a.valid_until := refuge.arg_date(agreement, 'valid_until', 'agreement', true, false);
    a.signed_on := refuge.arg_date(agreement, 'signed_on', 'agreement', true, true);
    if a.valid_until < a.valid_from then
        perform refuge.raise_field('22008', 'agreement.valid_until', format('%s is before valid_from', refuge.iso(a.valid_until)));
    end if;
    if a.valid_until < current_date then
        perform refuge.raise_field('22008', 'agreement.valid_until', format('%s is in the past', refuge.iso(a.valid_until)));
    end if;
    a.security_terms := agreement ->> 'security_terms';
    a.signed_by := agreement ->> 'signed_by';
    insert into refuge.sharing_agreement (code, title, party_kind, partner_id, country, party_name, purposes, fields,
                                          legal_basis, valid_from, valid_until, security_terms, signed_by, signed_on)
    values (a.code, a.title, a.party_kind, a.partner_id, case when a.party_kind in ('GOVERNMENT', 'RESETTLEMENT_STATE') then a.country end,
            a.party_name, a.purposes, a.fields, a.legal_basis, a.valid_from, a.valid_until, a.security_terms, a.signed_by,
            a.signed_on)
    returning id into new_id;
    return new_id;
end
$$;

-- functions/45_data_protection.sql: person_in_reach
create or replace function refuge.person_in_reach(p_individual uuid, p_field text) returns refuge.individual
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    p refuge.individual;
begin
    if p_individual is null then
        perform refuge.raise_field('22004', p_field, 'is required');
    end if;
    select * into p from refuge.individual i where i.id = p_individual;
    perform refuge.require_visible(p.id is not null and (refuge.in_scope(p.operation_id, p.site_id)
        or exists (select 1 from refuge.case_member cm join refuge.process_case c on c.id = cm.case_id
                    where cm.individual_id = p.id and refuge.may_work_case(c.module, c.operation_id, c.site_id))), p_field);
    if p.status = 'ERASED' then
        perform refuge.raise_field('55000', p_field, format('the record %s was erased at the person''s request', p.number));
    end if;
    return p;
end
$$;

-- functions/41_identity.sql: adjudicate
create or replace function refuge.adjudicate(case_id uuid, decision text, matched_id uuid default null, reason text default null)
    returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    c refuge.dedup_case;
    cap refuge.biometric_capture;
    identity uuid;
    fraud uuid;
    res jsonb;
    hw bigint;
    gallery bigint;
begin
    perform refuge.authorize('refuge_biometrics_admin', 'adjudicate');
    c := refuge.dedup_case_for_update(adjudicate.case_id);
    if c.status <> 'OPEN' then
        perform refuge.raise_field('55000', 'case_id', format('case %s is %s, not open', c.id, lower(c.status)));
    end if;
    if decision is null or decision not in ('link', 'merge', 'different', 'fraud') then
        perform refuge.raise_field('22023', 'decision',
            format('"%s" is not one of link, merge, different, fraud', coalesce(decision, 'null')));
    end if;
    if nullif(btrim(reason), '') is null then
        perform refuge.raise_field('22004', 'reason', 'is required: say what the decision rests on');
    end if;
    if decision in ('link', 'merge', 'fraud') then
        if matched_id is null and decision = 'fraud' then
            select d.candidate_id into matched_id from refuge.dedup_candidate d where d.case_id = c.id and d.rank = 1;
        end if;
        if matched_id is null then
            perform refuge.raise_field('22004', 'matched_id', format('is required for %s', decision));
        end if;
        if not exists (select 1 from refuge.dedup_candidate d where d.case_id = c.id and d.candidate_id = matched_id) then
            perform refuge.raise_field('22023', 'matched_id', format('%s is not a candidate of case %s', matched_id, c.id));
        end if;
        -- nobody is merged into, or linked to, a record erased at the person's request
        if exists (select 1 from refuge.individual i where i.id in (matched_id, c.individual_id) and i.status = 'ERASED') then
            perform refuge.raise_field('55000', 'matched_id', 'one of the records was erased at the person''s request: decide different');
        end if;
    elsif matched_id is not null then
        perform refuge.raise_field('22023', 'matched_id', 'must be empty when the people are different');
    end if;
    if c.kind = 'demographic' and decision = 'link' then
        perform refuge.raise_field('22023', 'decision',
            'link joins biometric enrolments: a demographic case is decided merge (same person), different or fraud');
    end if;
    select * into cap from refuge.biometric_capture b where b.id = c.capture_id;

    if decision = 'link' then
        perform refuge.enrolment_lock();
        identity := refuge.identity_of(matched_id);
        insert into refuge.biometric_enrolment (individual_id, identity_id, operation_id, site_id, capture_id, status)
        values (c.individual_id, identity, cap.operation_id, cap.site_id, cap.id, 'LINKED');
        res := jsonb_build_object('decision', 'link', 'identity_id', identity);
        update refuge.dedup_case d set status = 'CLOSED' where d.id = c.id;
    elsif decision = 'merge' then
        res := jsonb_build_object('decision', 'merge', 'status', 'awaiting supervisor approval');
        update refuge.dedup_case d set status = 'AWAITING_APPROVAL' where d.id = c.id;
    elsif decision = 'fraud' then
        insert into refuge.fraud_case (individual_id, other_id, operation_id, site_id, source, dedup_case_id, summary, opened_by)
        values (c.individual_id, matched_id, c.operation_id, c.site_id, 'adjudication', c.id, btrim(reason), refuge.caller())
        returning id into fraud;
        res := jsonb_build_object('decision', 'fraud', 'fraud_case_id', fraud);
        update refuge.dedup_case d set status = 'CLOSED' where d.id = c.id;
    elsif c.kind = 'demographic' then
        -- the decision itself clears the pairs for the demographic search
        -- (refuge.demographic_cleared); a decision on names alone does not
        -- stop a biometric match later
        update refuge.dedup_case d set status = 'CLOSED' where d.id = c.id;
        res := jsonb_build_object('decision', 'different');
    else
        insert into refuge.dedup_cleared_pair (individual_a, individual_b, case_id, cleared_by)
        select least(c.individual_id, d.candidate_id), greatest(c.individual_id, d.candidate_id), c.id, refuge.caller()
          from refuge.dedup_candidate d where d.case_id = c.id
        on conflict do nothing;
        update refuge.dedup_case d set status = 'CLOSED' where d.id = c.id;
        -- the gallery has grown since the capture: search again, then decide
        select coalesce(max(e.seq), 0) into hw from refuge.biometric_enrolment e;
        gallery := refuge.gallery_size();
        update refuge.biometric_capture b set gallery_seq = hw, gallery_size = gallery where b.id = cap.id;
        res := jsonb_build_object('decision', 'different',
            'enrolment', refuge.enrol_decide(cap.id, refuge.dedup_candidates(cap.fingers, cap.irises,
                                                 (refuge.dedup_settings()).search_fingers, gallery)));
    end if;
    update refuge.dedup_case d
       set decision = adjudicate.decision, matched_id = adjudicate.matched_id, reason = btrim(adjudicate.reason),
           decided_by = refuge.caller(), decided_at = now(), outcome = res
     where d.id = c.id;
    return res || jsonb_build_object('case_id', c.id);
end
$$;

-- functions/41_identity.sql: approve_merge
create or replace function refuge.approve_merge(case_id uuid, approve boolean, reason text default null) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    c refuge.dedup_case;
    cap refuge.biometric_capture;
    subject refuge.individual;
    target refuge.individual;
    membership refuge.group_membership;
    identity uuid;
begin
    perform refuge.authorize('refuge_supervisor', 'approve_merge');
    select * into c from refuge.dedup_case d where d.id = approve_merge.case_id;
    perform refuge.require_visible(c.id is not null and refuge.in_scope(c.operation_id, c.site_id), 'case_id');
    c := refuge.dedup_case_for_update(approve_merge.case_id);
    if c.status <> 'AWAITING_APPROVAL' then
        perform refuge.raise_field('55000', 'case_id', format('case %s is %s, not awaiting approval', c.id, lower(c.status)));
    end if;
    if approve is null then
        perform refuge.raise_field('22004', 'approve', 'is required (true or false)');
    end if;
    if c.decided_by = refuge.caller() and not refuge.caller_is_superuser() then
        perform refuge.raise_field('42501', 'case_id', 'the reviewer who proposed the merge cannot approve it');
    end if;
    if not approve then
        if nullif(btrim(reason), '') is null then
            perform refuge.raise_field('22004', 'reason', 'is required when a merge is rejected');
        end if;
        -- back to the reviewers, with the rejection on record
        update refuge.dedup_case d
           set status = 'OPEN', decision = null, decided_by = null, decided_at = null, matched_id = null,
               approval = 'rejected', approved_by = refuge.caller(), approved_at = now(),
               outcome = jsonb_build_object('rejected', btrim(reason))
         where d.id = c.id;
        return jsonb_build_object('case_id', c.id, 'approval', 'rejected', 'status', 'open');
    end if;

    select * into subject from refuge.individual i where i.id = c.individual_id for update;
    select * into target from refuge.individual i where i.id = c.matched_id for update;
    if target.status = 'ERASED' or subject.status = 'ERASED' then
        perform refuge.raise_field('55000', 'case_id', 'one of the records was erased at the person''s request: reject this merge');
    end if;
    -- two merges must not retire both records of one person
    if target.status = 'DUPLICATE' or subject.status = 'DUPLICATE' then
        perform refuge.raise_field('55000', 'case_id',
            format('%s is already closed as a duplicate: reject this merge and decide the case again',
                   case when target.status = 'DUPLICATE' then target.number else subject.number end));
    end if;
    select * into membership from refuge.group_membership m where m.individual_id = subject.id and m.valid_to is null;
    if membership.relationship = 'PA' and exists (select 1 from refuge.group_membership m
            where m.group_id = membership.group_id and m.valid_to is null and m.individual_id <> subject.id) then
        perform refuge.raise_field('55000', 'case_id',
            format('%s is the principal of a family with other members; set another principal first', subject.number));
    end if;
    select * into cap from refuge.biometric_capture b where b.id = c.capture_id;
    -- a biometric merge joins the subject's enrolment to the identity; a
    -- demographic one has no capture, and the matched identity (if any) stays
    if c.kind = 'biometric' then
        perform refuge.enrolment_lock();
        identity := refuge.identity_of(c.matched_id);
        insert into refuge.biometric_enrolment (individual_id, identity_id, operation_id, site_id, capture_id, status)
        values (subject.id, identity, cap.operation_id, cap.site_id, cap.id, 'MERGED');
    end if;
    -- the duplicate record stays, closed, with everything attached to it
    perform refuge.set_individual_status(subject, 'DUPLICATE', null,
        format('merged into %s (adjudication case %s)', target.number, c.id), 'ADJUDICATION', c.id, refuge.caller());
    if membership.id is not null then
        update refuge.group_membership m
           set valid_to = now(), end_reason = 'MERGE', comment = format('duplicate of %s', target.number)
         where m.id = membership.id;
    end if;
    update refuge.dedup_case d
       set status = 'CLOSED', approval = 'approved', approved_by = refuge.caller(), approved_at = now(),
           outcome = d.outcome || jsonb_build_object('identity_id', identity, 'merged_into', target.id)
     where d.id = c.id;
    -- the subject's other open cases (biometric or demographic) are moot now
    update refuge.dedup_case d
       set status = 'CLOSED', outcome = jsonb_build_object('superseded_by', c.id, 'merged_into', target.id)
     where d.individual_id = subject.id and d.id <> c.id and d.status <> 'CLOSED';
    return jsonb_build_object('case_id', c.id, 'approval', 'approved', 'merged_into', target.id, 'identity_id', identity);
end
$$;

-- functions/65_lifecycle.sql: apply_status_rules
create or replace function refuge.apply_status_rules(c refuge.process_case, p_action text, p_data jsonb, p_actor name,
                                          p_approval uuid)
    returns integer
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    rule refuge.status_rule;
    m refuge.individual;
    approver name;
    basis text;
    authority text;
    eff date;
    n integer := 0;
begin
    for rule in
        select distinct on (r.when_data) r.* from refuge.status_rule r
         where r.module = c.module and r.action = p_action
           and (r.operation_id is null or r.operation_id = c.operation_id)
           and not exists (select 1 from jsonb_each(r.when_data) w
                            where jsonb_typeof(w.value) <> 'array' or not (w.value ? coalesce(p_data ->> w.key, '')))
         order by r.when_data, r.operation_id nulls last
    loop
        -- the second person: who approved this step, or the decision it carries out
        approver := null;
        if p_approval is not null then
            select a.decided_by into approver from refuge.case_approval a where a.id = p_approval;
        elsif rule.approved_step is not null then
            select a.decided_by into approver from refuge.case_approval a
             where a.case_id = c.id and a.action = rule.approved_step and a.status = 'APPROVED' and a.decided_by <> p_actor
             order by a.decided_at desc limit 1;
        end if;
        basis := case when rule.to_population_type = 'REF'
                      then coalesce(p_data ->> rule.legal_basis_key, rule.default_legal_basis) end;
        authority := case when rule.to_population_type = 'REF'
                          then (select o.rsd_authority from refuge.operation o where o.id = c.operation_id) end;
        eff := case when rule.effective_key is not null and p_data ->> rule.effective_key ~ '^\d{4}-\d{2}-\d{2}$'
                    then (p_data ->> rule.effective_key)::date end;
        for m in select i.* from refuge.case_member cm join refuge.individual i on i.id = cm.individual_id
                  where cm.case_id = c.id order by i.id for update of i
        loop
            -- a record already closed (deceased, departed, a duplicate, erased) keeps its ending
            if m.status in ('CLOSED', 'DECEASED', 'DUPLICATE', 'ERASED') then
                continue;
            end if;
            if rule.to_population_type is not null and rule.to_population_type <> m.population_type
               and approver is null then
                if not exists (select 1 from refuge.status_change s where s.individual_id = m.id and s.status = 'REQUESTED') then
                    insert into refuge.status_change (individual_id, operation_id, site_id, from_status, to_status,
                                                      from_population_type, to_population_type, reason, requested_by,
                                                      effective_date, legal_basis)
                    values (m.id, m.operation_id, m.site_id, m.status, coalesce(rule.to_status, m.status), m.population_type,
                            rule.to_population_type, format('%s (case %s, %s)', rule.reason, c.number, p_action),
                            p_actor, eff, basis);
                end if;
                continue;
            end if;
            if refuge.set_individual_status(m, rule.to_status, rule.to_population_type,
                                            format('%s (case %s)', rule.reason, c.number), 'CASE', c.id,
                                            approver, eff, basis, authority, p_actor) then
                n := n + 1;
            end if;
        end loop;
    end loop;
    return n;
end
$$;

-- functions/45_data_protection.sql: statistics_agreement (new)
create function refuge.statistics_agreement(agreement text) returns refuge.sharing_agreement
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    a refuge.sharing_agreement;
begin
    if agreement is null then
        perform refuge.raise_field('22004', 'agreement', 'is required: name the agreement with the public that covers STATISTICS',
                                   'refuge_admin defines agreements with refuge.define_agreement');
    end if;
    -- the checks every transfer makes (refuge.agreement_for), with one answer
    begin
        a := refuge.agreement_for(agreement, 'PUBLIC', null, 'STATISTICS', array['AGGREGATE_STATISTICS'], 'agreement');
    exception when others then
        perform refuge.raise_field('55000', 'agreement',
            format('"%s" is not an agreement with the public in force for STATISTICS (AGGREGATE_STATISTICS)', refuge.excerpt(agreement)));
    end;
    return a;
end
$$;
comment on function refuge.statistics_agreement(text) is
    'internal: the agreement an aggregate-statistics export names (with the public, for STATISTICS, covering AGGREGATE_STATISTICS, in force)';

-- reports/30_hxl_pyramid.sql: hxl_population_csv (new)
create function refuge.hxl_population_csv(snapshot_id integer, agreement text, min_cell integer default 5) returns text
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    floor_cell integer := greatest(coalesce(min_cell, 1), 1);
    cols text[] := array['female_0_4', 'female_5_11', 'female_12_17', 'female_18_59', 'female_60', 'female_unknown',
                         'female_total', 'male_0_4', 'male_5_11', 'male_12_17', 'male_18_59', 'male_60', 'male_unknown',
                         'male_total', 'total'];
    body text;
    a refuge.sharing_agreement;
begin
    perform refuge.authorize_any(array['refuge_analyst', 'refuge_dba']::name[], 'hxl_population_csv');
    a := refuge.statistics_agreement(agreement);
    if not exists (select 1 from refuge_warehouse.snapshot s where s.id = hxl_population_csv.snapshot_id) then
        raise exception using errcode = 'P0002', message = format('snapshot_id: no snapshot %s', snapshot_id);
    end if;
    -- what was handed out for publication, under which agreement, before it is
    perform refuge.log_durably(jsonb_build_object('publication', jsonb_build_array(jsonb_build_object(
        'actor', refuge.caller(), 'kind', 'HXL_POPULATION', 'snapshot_id', snapshot_id, 'agreement_id', a.id,
        'min_cell', floor_cell))));
    -- suppressed figures (null) are empty; a figure under min_cell too
    execute format($q$
        select string_agg(concat_ws(',', p.year, p.origin_country, p.asylum_country, p.population_type, %s), E'\n'
                          order by p.asylum_country, p.origin_country, p.population_type, p.operation)
          from refuge_warehouse.population_statistics p where p.snapshot_id = $1$q$,
        (select string_agg(format('case when p.%1$I = 0 or p.%1$I >= $2 then p.%1$I::text else %2$L end', c, ''), ', ')
           from unnest(cols) c))
        into body using snapshot_id, floor_cell;
    return 'Year,Country of origin,Country of asylum,Population type,'
        || 'Female 0-4,Female 5-11,Female 12-17,Female 18-59,Female 60+,Female unknown age,Female total,'
        || 'Male 0-4,Male 5-11,Male 12-17,Male 18-59,Male 60+,Male unknown age,Male total,Total' || E'\n'
        || '#date+year,#country+code+origin,#country+code+asylum,#indicator+population_type,'
        || '#affected+f+infants+age_0_4,#affected+f+children+age_5_11,#affected+f+adolescents+age_12_17,'
        || '#affected+f+adults+age_18_59,#affected+f+elderly+age_60,#affected+f+unknown_age,#affected+f+total,'
        || '#affected+m+infants+age_0_4,#affected+m+children+age_5_11,#affected+m+adolescents+age_12_17,'
        || '#affected+m+adults+age_18_59,#affected+m+elderly+age_60,#affected+m+unknown_age,#affected+m+total,'
        || '#affected+all+total' || E'\n'
        || coalesce(body || E'\n', '');
end
$$;
comment on function refuge.hxl_population_csv(integer, text, integer) is
    'the UNHCR demographic table of a snapshot as HXL-tagged CSV for publication under an agreement (STATISTICS, AGGREGATE_STATISTICS); suppressed figures (and any under min_cell) are empty';
grant execute on function refuge.hxl_population_csv(integer, text, integer) to refuge_analyst, refuge_dba;

-- functions/42_vault.sql: rotate_vault_key (new)
create function refuge.rotate_vault_key(batch integer default 10000) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    cur text;
    prev text;
    prev_id bytea;
    cur_id bytea;
    keys bigint;
    images bigint;
    notes bigint;
    docs bigint;
    incidents bigint;
begin
    perform refuge.authorize('refuge_dba', 'rotate_vault_key');
    if batch is null or batch < 1 or batch > 1000000 then
        perform refuge.raise_field('22023', 'batch', format('%s is not between 1 and 1000000', coalesce(batch::text, 'null')));
    end if;
    cur := refuge.vault_key_id();
    prev := refuge.vault_previous_key_id();
    if prev is null then
        perform refuge.raise_field('55000', 'refuge.vault_previous_key_file', 'is not set: a superuser names the key being rotated out there');
    end if;
    if prev = cur then
        perform refuge.raise_field('22023', 'refuge.vault_previous_key_file', 'names the current key: name the key being rotated out');
    end if;
    -- one rotation at a time
    perform pg_advisory_xact_lock(hashtext('refuge.rotate_vault_key'));
    if exists (select 1 from refuge.vault_key_retired r where r.key_id = cur) then
        perform refuge.raise_field('55000', 'refuge.vault_key_file', format('key %s was retired by an earlier rotation: choose a new key', cur));
    end if;
    -- from now on nothing new is sealed under the old key (stale sessions fail and reconnect)
    insert into refuge.vault_key_retired (key_id, retired_by) values (prev, refuge.caller()) on conflict do nothing;
    cur_id := decode(cur, 'hex');
    prev_id := decode(prev, 'hex');
    keys := refuge.rewrap_person_keys(batch);
    update refuge.biometric_vault v
       set sealed = refuge.vault_seal(refuge.vault_open(v.sealed, format('%s|%s|%s', v.id, v.individual_id, v.part)),
                                      format('%s|%s|%s', v.id, v.individual_id, v.part)),
           key_id = cur
     where v.id in (select x.id from refuge.biometric_vault x
                     where substring(x.sealed from 5 for 8) = prev_id and x.sync_owner = refuge.local_node()
                     limit batch);
    get diagnostics images = row_count;
    update refuge.case_note n
       set sealed = refuge.vault_seal(refuge.vault_open(n.sealed, 'case_note:' || n.id), 'case_note:' || n.id)
     where n.id in (select x.id from refuge.case_note x
                     where substring(x.sealed from 5 for 8) = prev_id and x.sync_owner = refuge.local_node()
                     limit batch);
    get diagnostics notes = row_count;
    update refuge.case_document d
       set sealed = refuge.vault_seal(refuge.vault_open(d.sealed, 'case_document:' || d.id), 'case_document:' || d.id)
     where d.id in (select x.id from refuge.case_document x
                     where substring(x.sealed from 5 for 8) = prev_id and x.sync_owner = refuge.local_node()
                     limit batch);
    get diagnostics docs = row_count;
    update refuge.gbv_incident g
       set sealed = refuge.vault_seal(refuge.vault_open(g.sealed, 'gbv_incident:' || g.case_id), 'gbv_incident:' || g.case_id)
     where g.case_id in (select x.case_id from refuge.gbv_incident x
                          where substring(x.sealed from 5 for 8) = prev_id and x.sync_owner = refuge.local_node()
                          limit batch);
    get diagnostics incidents = row_count;
    return jsonb_build_object('key_id', cur, 'previous_key_id', prev,
        'done', jsonb_build_object('person_keys', keys, 'images', images, 'notes', notes, 'documents', docs,
                                   'incidents', incidents),
        -- under the previous key, owned here: the next batches
        'remaining', jsonb_build_object(
            'person_keys', (select count(*) from refuge.person_key k where k.wrapped is not null and k.key_id = prev),
            'images', (select count(*) from refuge.biometric_vault x
                        where substring(x.sealed from 5 for 8) = prev_id and x.sync_owner = refuge.local_node()),
            'notes', (select count(*) from refuge.case_note x
                        where substring(x.sealed from 5 for 8) = prev_id and x.sync_owner = refuge.local_node()),
            'documents', (select count(*) from refuge.case_document x
                        where substring(x.sealed from 5 for 8) = prev_id and x.sync_owner = refuge.local_node()),
            'incidents', (select count(*) from refuge.gbv_incident x
                        where substring(x.sealed from 5 for 8) = prev_id and x.sync_owner = refuge.local_node())),
        -- under the previous key, owned by other nodes: rotated there, they arrive sealed anew
        'awaiting_other_nodes',
            (select count(*) from refuge.biometric_vault x
              where substring(x.sealed from 5 for 8) = prev_id and x.sync_owner <> refuge.local_node())
          + (select count(*) from refuge.case_note x
              where substring(x.sealed from 5 for 8) = prev_id and x.sync_owner <> refuge.local_node())
          + (select count(*) from refuge.case_document x
              where substring(x.sealed from 5 for 8) = prev_id and x.sync_owner <> refuge.local_node())
          + (select count(*) from refuge.gbv_incident x
              where substring(x.sealed from 5 for 8) = prev_id and x.sync_owner <> refuge.local_node()),
        -- under neither key: an older rotation left them, they do not open here
        'unopenable',
            (select count(*) from refuge.person_key k where k.wrapped is not null and k.key_id not in (cur, prev))
          + (select count(*) from refuge.biometric_vault x where substring(x.sealed from 5 for 8) not in (cur_id, prev_id))
          + (select count(*) from refuge.case_note x where substring(x.sealed from 5 for 8) not in (cur_id, prev_id))
          + (select count(*) from refuge.case_document x where substring(x.sealed from 5 for 8) not in (cur_id, prev_id))
          + (select count(*) from refuge.gbv_incident x where substring(x.sealed from 5 for 8) not in (cur_id, prev_id)));
end
$$;
comment on function refuge.rotate_vault_key(integer) is
    'dba: one batch of a vault key rotation (person keys wrapped again; images, confidential notes and documents, SGBV narratives sealed again under refuge.vault_key_file); returns what was done and what remains';
grant execute on function refuge.rotate_vault_key(integer) to refuge_dba;

alter table refuge.person_key owner to refuge_owner;
revoke all on table refuge.person_key from public;
alter table refuge.person_key enable row level security;
alter table refuge.person_key force row level security;
create policy owner_all on refuge.person_key for all to refuge_owner using (true) with check (true);
create trigger no_truncate before truncate on refuge.person_key
    for each statement execute function refuge.refuse_truncate();
alter table refuge.person_key enable always trigger no_truncate;
alter table refuge.erasure owner to refuge_owner;
revoke all on table refuge.erasure from public;
alter table refuge.erasure enable row level security;
alter table refuge.erasure force row level security;
create policy owner_all on refuge.erasure for all to refuge_owner using (true) with check (true);
create trigger no_truncate before truncate on refuge.erasure
    for each statement execute function refuge.refuse_truncate();
alter table refuge.erasure enable always trigger no_truncate;
alter table refuge.publication owner to refuge_owner;
revoke all on table refuge.publication from public;
alter table refuge.publication enable row level security;
alter table refuge.publication force row level security;
create policy owner_all on refuge.publication for all to refuge_owner using (true) with check (true);
create trigger no_truncate before truncate on refuge.publication
    for each statement execute function refuge.refuse_truncate();
alter table refuge.publication enable always trigger no_truncate;
alter table refuge.vault_key_retired owner to refuge_owner;
revoke all on table refuge.vault_key_retired from public;
alter table refuge.vault_key_retired enable row level security;
alter table refuge.vault_key_retired force row level security;
create policy owner_all on refuge.vault_key_retired for all to refuge_owner using (true) with check (true);
create trigger no_truncate before truncate on refuge.vault_key_retired
    for each statement execute function refuge.refuse_truncate();
alter table refuge.vault_key_retired enable always trigger no_truncate;

-- how sql/99_security.sql audits the new table
create trigger stamp before insert or update on refuge.erasure for each row execute function refuge.stamp_row();
alter table refuge.erasure enable always trigger stamp;
create trigger audit after insert or update or delete on refuge.erasure for each row execute function refuge.audit_row('self');
create trigger audit_flush after insert or update or delete on refuge.erasure for each statement execute function refuge.audit_flush();
alter table refuge.erasure enable always trigger audit;
alter table refuge.erasure enable always trigger audit_flush;
-- values requested of another node or in conflict are kept in the audit as digests
drop trigger audit on refuge.sync_change;
drop trigger audit on refuge.sync_conflict;
create trigger audit after insert or update or delete on refuge.sync_change for each row execute function refuge.audit_row('self', 'old_values', 'new_values');
create trigger audit after insert or update or delete on refuge.sync_conflict for each row execute function refuge.audit_row('self', 'kept_values', 'lost_values', 'base_values');
alter table refuge.sync_change enable always trigger audit;
alter table refuge.sync_conflict enable always trigger audit;
-- a reader's purpose is kept in the audit as a digest (it can name the person)
drop trigger audit on refuge.sensitive_read;
drop trigger audit on refuge.vault_access;
create trigger audit after insert or update or delete on refuge.sensitive_read for each row execute function refuge.audit_row('self', 'purpose');
create trigger audit after insert or update or delete on refuge.vault_access for each row execute function refuge.audit_row('individual', 'purpose');
alter table refuge.sensitive_read enable always trigger audit;
alter table refuge.vault_access enable always trigger audit;
-- replication requests and conflicts of consents and notices are not for supervisors
drop policy scope_read on refuge.sync_change;
drop policy scope_read on refuge.sync_conflict;
create policy scope_read on refuge.sync_change for select to refuge_supervisor, refuge_admin
    using (operation_id = any ((select refuge.scope_operations())::uuid[])
           and table_name not in ('consent', 'information_notice'));
create policy scope_read on refuge.sync_conflict for select to refuge_supervisor, refuge_admin
    using (operation_id = any ((select refuge.scope_operations())::uuid[])
           and table_name not in ('consent', 'information_notice'));
-- erasures replicate both ways (functions/90_sync.sql's wiring); a field
-- site's publications take the table when refuge.add_site runs again
create trigger sync_local before insert or update or delete on refuge.erasure
    for each row execute function refuge.sync_row_local('operation_id', '', '', 'f');
create trigger a_sync_apply before insert or update or delete on refuge.erasure
    for each row execute function refuge.sync_row_apply('checked', '');
alter table refuge.erasure enable replica trigger a_sync_apply;

-- every function owned by refuge_owner, none executable by PUBLIC (as sql/99_security.sql)
do $$
declare
    r record;
begin
    for r in select p.oid::regprocedure as fn from pg_catalog.pg_proc p
              where p.pronamespace in ('refuge'::regnamespace, 'refuge_warehouse'::regnamespace)
                and pg_catalog.pg_get_userbyid(p.proowner) <> 'refuge_owner'
    loop
        execute format('alter function %s owner to refuge_owner', r.fn);
    end loop;
end
$$;
revoke all on all functions in schema refuge, refuge_warehouse from public;
