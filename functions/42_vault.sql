-- The vault: images sealed with AES-256-GCM under a key the server reads
-- from a file; every opening logged.

-- The vault (extension/vault.c).  Internal: only the API functions call them.
create function refuge.vault_seal(plain bytea, aad text) returns bytea
    language c volatile strict as 'MODULE_PATHNAME', 'refuge_vault_seal';

create function refuge.vault_open(sealed bytea, aad text) returns bytea
    language c volatile strict as 'MODULE_PATHNAME', 'refuge_vault_open';

create function refuge.vault_key_id() returns text
    language c volatile strict as 'MODULE_PATHNAME', 'refuge_vault_key_id';
comment on function refuge.vault_key_id() is 'id (start of SHA-256) of the key in refuge.vault_key_file; never the key';

-- Open one sealed image: the access is committed in vault_access first
-- (it survives the caller's rollback), then the image is decrypted.
create function refuge.vault_open_logged(v refuge.biometric_vault, purpose text) returns bytea
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    perform refuge.log_durably(jsonb_build_object('vault_access', jsonb_build_array(jsonb_build_object(
        'vault_id', v.id, 'individual_id', v.individual_id, 'purpose', left(btrim(purpose), 500),
        'accessed_by', refuge.caller()))));
    return refuge.vault_open(v.sealed, format('%s|%s|%s', v.id, v.individual_id, v.part));
end
$$;
comment on function refuge.vault_open_logged(refuge.biometric_vault, text) is
    'internal: decrypt a vault image after committing its access in vault_access';

create function refuge.vault_image(vault_id uuid, purpose text) returns bytea
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    v refuge.biometric_vault;
begin
    perform refuge.authorize('refuge_biometrics_admin', 'vault_image');
    if nullif(btrim(purpose), '') is null then
        perform refuge.raise_field('22004', 'purpose', 'is required: say why the image is opened');
    end if;
    select * into v from refuge.biometric_vault b where b.id = vault_image.vault_id;
    if not found then
        perform refuge.raise_field('P0002', 'vault_id', 'no such vault image');
    end if;
    return refuge.vault_open_logged(v, purpose);
end
$$;
comment on function refuge.vault_image(uuid, text) is
    'decrypt one source image from the HQ vault (biometrics administrators; logged with the purpose)';
grant execute on function refuge.vault_image(uuid, text) to refuge_biometrics_admin;

-- What the vault holds for an individual, without opening anything.
create function refuge.vault_contents(individual_id uuid)
    returns table (vault_id uuid, capture_id uuid, part text, media_type text, bytes integer, key_id text,
                   created_at timestamptz)
    language plpgsql stable security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    perform refuge.authorize('refuge_biometrics_admin', 'vault_contents');
    return query select b.id, b.capture_id, b.part, b.media_type, length(b.sealed) - 40, b.key_id, b.created_at
                   from refuge.biometric_vault b where b.individual_id = vault_contents.individual_id
                  order by b.created_at, b.part;
end
$$;
comment on function refuge.vault_contents(uuid) is
    'the sealed images of a person in the vault (no image data)';
grant execute on function refuge.vault_contents(uuid) to refuge_biometrics_admin;

-- Does the server hold the vault key (so that photos can be opened)?
create function refuge.vault_key_loaded() returns boolean
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    perform refuge.vault_key_id();
    return true;
exception when others then
    return false;
end
$$;

-- Rotate the vault key (refuge_dba; the superuser first names the new key
-- in refuge.vault_key_file and the old one in refuge.vault_previous_key_file,
-- on every node that holds sealed values).  The first batch retires the old
-- key: nothing new is sealed under it from then on.  Each batch wraps
-- person keys again and seals images, confidential notes and documents and
-- SGBV narratives this node owns again under the new key; it returns what
-- was done, what remains here, what awaits other nodes (they rotate their
-- own, which then arrive sealed anew) and what opens under neither key.
-- Run it until nothing remains, then unset the previous key.
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
