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
