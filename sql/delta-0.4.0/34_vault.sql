-- Opening one vault image: biometrics administrators only, with a stated
-- purpose, and every opening logged in vault_access (same transaction: no
-- log, no image).
create function refuge.vault_image(vault_id uuid, purpose text) returns bytea
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    v refuge.biometric_vault;
    plain bytea;
begin
    perform refuge.authorize('refuge_biometrics_admin', 'vault_image');
    if nullif(btrim(purpose), '') is null then
        perform refuge.raise_field('22004', 'purpose', 'is required: say why the image is opened');
    end if;
    select * into v from refuge.biometric_vault b where b.id = vault_image.vault_id;
    if not found then
        perform refuge.raise_field('P0002', 'vault_id', format('no vault image %s', vault_image.vault_id));
    end if;
    plain := refuge.vault_open(v.sealed, format('%s|%s|%s', v.id, v.individual_id, v.part));
    insert into refuge.vault_access (vault_id, individual_id, purpose, accessed_by)
    values (v.id, v.individual_id, btrim(purpose), refuge.caller());
    return plain;
end
$$;
comment on function refuge.vault_image(uuid, text) is
    'decrypt one source image from the HQ vault (biometrics administrators; logged with the purpose)';

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
