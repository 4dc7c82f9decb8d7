-- Documents issued to refugees (tables: sql/80_documents.sql).
--
-- The QR payload is ASCII:  RF1.<body>.<signature>
--   body       base64url (no padding) of the UTF-8 text
--              key_id|serial|kind|number|given names|family name|name in original script|
--              date of birth|sex|valid_from|valid_to|photo digest
--              (dates YYYY-MM-DD; '|' never occurs in a field; photo digest:
--              base64url of the first 16 bytes of SHA-256 of the face image, or empty)
--   signature  base64url of the Ed25519 signature of the ASCII bytes "RF1.<body>"
-- test/verify_document.sh checks one with nothing but the public key.

create function refuge.b64url(data bytea) returns text
    language sql immutable strict parallel safe
    set search_path = pg_catalog, pg_temp
    return rtrim(translate(encode(data, 'base64'), E'+/\n', '-_'), '=');
comment on function refuge.b64url(bytea) is 'base64url without padding (RFC 4648 section 5)';
grant execute on function refuge.b64url(bytea) to refuge_registration, refuge_supervisor, refuge_admin,
    refuge_assistance, refuge_protection, refuge_partner;

create function refuge.b64url_decode(txt text) returns bytea
    language plpgsql immutable strict parallel safe
    set search_path = pg_catalog, pg_temp
as $$
begin
    if txt !~ '^[A-Za-z0-9_-]*$' or length(txt) % 4 = 1 then
        return null;
    end if;
    return decode(rpad(translate(txt, '-_', '+/'), (length(txt) + 3) / 4 * 4, '='), 'base64');
end
$$;
comment on function refuge.b64url_decode(text) is 'decodes base64url without padding; null when the text is not base64url';
grant execute on function refuge.b64url_decode(text) to refuge_registration, refuge_supervisor, refuge_admin,
    refuge_assistance, refuge_protection, refuge_partner;

-- The public key in the PEM form offline verifiers read (SubjectPublicKeyInfo).
create function refuge.ed25519_public_pem(public_key bytea) returns text
    language sql immutable strict parallel safe
    set search_path = pg_catalog, pg_temp
    return E'-----BEGIN PUBLIC KEY-----\n'
           || encode(decode('302a300506032b6570032100', 'hex') || public_key, 'base64')
           || E'\n-----END PUBLIC KEY-----\n';
comment on function refuge.ed25519_public_pem(bytea) is 'an Ed25519 public key (32 bytes) as a PEM SubjectPublicKeyInfo';

-- Register the operation's signing key (read by the server from
-- refuge.document_key_dir): its public key becomes the one new documents
-- are signed with; the previous key is retired (it still verifies).
create function refuge.register_document_key(operation text) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    op refuge.operation;
    pub bytea;
    kid text;
    existing refuge.document_key;
begin
    perform refuge.authorize('refuge_admin', 'register_document_key');
    select * into op from refuge.operation o where o.code = register_document_key.operation;
    perform refuge.require_visible(op.id is not null and refuge.in_scope(op.id), 'operation');
    pub := refuge.document_public_key(op.code);
    kid := left(encode(sha256(pub), 'hex'), 16);
    select * into existing from refuge.document_key k where k.key_id = kid;
    if found then
        if existing.status <> 'ACTIVE' then
            perform refuge.raise_field('55000', 'operation',
                format('the key file of %s holds key %s, which is %s: install a new key', op.code, kid, lower(existing.status)));
        end if;
        return jsonb_build_object('key_id', kid, 'status', 'registered', 'public_key_pem', refuge.ed25519_public_pem(pub));
    end if;
    update refuge.document_key k set status = 'RETIRED', retired_at = now()
     where k.operation_id = op.id and k.status = 'ACTIVE';
    insert into refuge.document_key (key_id, operation_id, public_key) values (kid, op.id, pub);
    return jsonb_build_object('key_id', kid, 'status', 'registered', 'public_key_pem', refuge.ed25519_public_pem(pub));
end
$$;
comment on function refuge.register_document_key(text) is
    'register the operation''s document signing key (the file in refuge.document_key_dir); the previous key is retired';
grant execute on function refuge.register_document_key(text) to refuge_admin;

-- A compromised key: nothing it signed verifies any more.
create function refuge.revoke_document_key(key_id text, reason text) returns void
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    k refuge.document_key;
begin
    perform refuge.authorize('refuge_admin', 'revoke_document_key');
    perform refuge.require_text(reason, 'reason');
    select * into k from refuge.document_key d where d.key_id = revoke_document_key.key_id for update;
    perform refuge.require_visible(k.key_id is not null and refuge.in_scope(k.operation_id), 'key_id');
    update refuge.document_key d set status = 'REVOKED', retired_at = coalesce(d.retired_at, now())
     where d.key_id = k.key_id;
end
$$;
comment on function refuge.revoke_document_key(text, text) is
    'revoke a compromised signing key: no document it signed verifies any more';
grant execute on function refuge.revoke_document_key(text, text) to refuge_admin;

create function refuge.document_public_key_pem(operation text) returns text
    language sql stable security definer
    set search_path = pg_catalog, refuge, pg_temp
    return (select refuge.ed25519_public_pem(k.public_key) from refuge.document_key k
              join refuge.operation o on o.id = k.operation_id
             where o.code = document_public_key_pem.operation and k.status = 'ACTIVE');
comment on function refuge.document_public_key_pem(text) is
    'the public key (PEM) that verifies the operation''s new documents, for offline checkers';
grant execute on function refuge.document_public_key_pem(text) to refuge_registration, refuge_supervisor,
    refuge_admin, refuge_assistance, refuge_protection, refuge_partner;

-- The face image of a person for a document, each opening logged first
-- (null without the vault key or a face image).
create function refuge.document_photo(p_individual uuid, p_purpose text) returns refuge.biometric_vault
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    v refuge.biometric_vault;
begin
    if not refuge.vault_key_loaded() then
        return null;
    end if;
    select * into v from refuge.biometric_vault b where b.individual_id = p_individual and b.part = 'face'
     order by b.created_at desc limit 1;
    if not found then
        return null;
    end if;
    v.sealed := refuge.vault_open_logged(v, p_purpose);
    return v;
end
$$;
comment on function refuge.document_photo(uuid, text) is
    'internal: the person''s latest face image from the vault (opened, the access logged durably), for a document';

-- A field of the payload: no separator, no line break, bounded.
create function refuge.payload_field(v text) returns text
    language sql immutable parallel safe
    set search_path = pg_catalog, pg_temp
    return left(regexp_replace(coalesce(v, ''), '[|\r\n\t]', ' ', 'g'), 80);

create function refuge.issue_document(individual_id uuid, kind text) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    ind refuge.individual;
    k refuge.document_kind;
    op refuge.operation;
    key refuge.document_key;
    prev refuge.issued_document;
    photo refuge.biometric_vault;
    orig text;
    v_serial text;
    body text;
    signed text;
    payload text;
    digest text;
    from_day date := current_date;
    to_day date;
    new_id uuid := gen_random_uuid();
begin
    ind := refuge.individual_for_update(issue_document.individual_id, 'refuge_registration', 'issue_document');
    select * into k from refuge.document_kind d where d.code = issue_document.kind;
    if not found then
        perform refuge.raise_field('22023', 'kind', format('"%s" is not a kind of document (%s)',
            coalesce(refuge.excerpt(issue_document.kind), 'null'),
            (select string_agg(d.code, ', ' order by d.code) from refuge.document_kind d)));
    end if;
    if ind.status <> 'ACTIVE' then
        perform refuge.raise_field('55000', 'individual_id',
            format('%s is %s: documents are issued to active records only', ind.number, lower(ind.status)));
    end if;
    if k.population_types is not null and not ind.population_type = any (k.population_types) then
        perform refuge.raise_field('55000', 'kind', format('%s is issued to %s, and %s is %s', k.code,
            array_to_string(k.population_types, ', '), ind.number, ind.population_type));
    end if;
    if k.min_age > 0 and (ind.date_of_birth is null or age(current_date, ind.date_of_birth) < make_interval(years => k.min_age)) then
        perform refuge.raise_field('55000', 'kind', format('%s is issued from the age of %s', k.code, k.min_age));
    end if;
    select * into op from refuge.operation o where o.id = ind.operation_id;
    select * into key from refuge.document_key d where d.operation_id = op.id and d.status = 'ACTIVE';
    if not found then
        perform refuge.raise_field('55000', 'individual_id',
            format('operation %s has no document signing key (refuge.register_document_key)', op.code));
    end if;
    v_serial := format('%s-%s-%s%s', op.code, k.serial_prefix, refuge.local_series(),
                     lpad(nextval('refuge.document_serial_seq')::text, 7, '0'));
    photo := refuge.document_photo(ind.id, 'document ' || v_serial);
    if photo.sealed is not null then
        digest := refuge.b64url(substr(sha256(photo.sealed), 1, 16));
    end if;
    orig := refuge.original_script_name(ind.id);
    to_day := (from_day + k.validity)::date;
    body := concat_ws('|', key.key_id, v_serial, k.code, ind.number,
                      refuge.payload_field(concat_ws(' ', ind.given_name, ind.middle_name)),
                      refuge.payload_field(ind.family_name), refuge.payload_field(orig),
                      coalesce(to_char(ind.date_of_birth, 'YYYY-MM-DD'), ''), ind.sex,
                      to_char(from_day, 'YYYY-MM-DD'), to_char(to_day, 'YYYY-MM-DD'), coalesce(digest, ''));
    signed := 'RF1.' || refuge.b64url(convert_to(body, 'UTF8'));
    payload := signed || '.' || refuge.b64url(refuge.document_sign(op.code, convert_to(signed, 'UTF8')));
    -- a new document of a kind replaces the one the person holds (renewal)
    select * into prev from refuge.issued_document d
     where d.individual_id = ind.id and d.kind = k.code and d.status = 'VALID' for update;
    if found then
        update refuge.issued_document d set status = 'REPLACED', status_reason = 'replaced by ' || v_serial,
               ended_at = now(), ended_by = refuge.caller()
         where d.id = prev.id;
    end if;
    insert into refuge.issued_document (id, serial, kind, individual_id, operation_id, site_id, valid_from, valid_to,
                                        key_id, payload, photo_digest, replaces, issued_by)
    values (new_id, v_serial, k.code, ind.id, ind.operation_id, ind.site_id, from_day, to_day, key.key_id, payload,
            digest, prev.id, refuge.caller());
    return jsonb_strip_nulls(jsonb_build_object(
        'document_id', new_id, 'serial', v_serial, 'kind', k.code, 'number', ind.number, 'payload', payload,
        'valid_from', from_day, 'valid_to', to_day, 'key_id', key.key_id, 'replaces', prev.serial,
        'photo', photo.sealed is not null));
end
$$;
comment on function refuge.issue_document(uuid, text) is
    'issue a PROOF_OF_REGISTRATION, REFUGEE_ID or ATTESTATION to an active person: a serial, validity and the signed QR payload; replaces the one held';
grant execute on function refuge.issue_document(uuid, text) to refuge_registration;

-- Revocation (a supervisor's decision) and loss (reported at the desk):
-- either way the document no longer verifies.
create function refuge.end_document(p_document uuid, p_status text, p_reason text, p_role name, p_action text)
    returns jsonb
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    d refuge.issued_document;
begin
    perform refuge.authorize(p_role, p_action);
    perform refuge.require_text(p_reason, 'reason');
    select * into d from refuge.issued_document x where x.id = p_document;
    perform refuge.require_visible(d.id is not null and refuge.in_scope(d.operation_id, d.site_id), 'document_id');
    select * into d from refuge.issued_document x where x.id = p_document for update;
    if d.status <> 'VALID' then
        perform refuge.raise_field('55000', 'document_id', format('%s is already %s', d.serial, lower(d.status)));
    end if;
    update refuge.issued_document x set status = p_status, status_reason = left(btrim(p_reason), 500),
           ended_at = now(), ended_by = refuge.caller()
     where x.id = d.id;
    return jsonb_build_object('document_id', d.id, 'serial', d.serial, 'status', p_status);
end
$$;
comment on function refuge.end_document(uuid, text, text, name, text) is 'internal: revoke a document or record its loss';

create function refuge.revoke_document(document_id uuid, reason text) returns jsonb
    language sql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    return refuge.end_document(document_id, 'REVOKED', reason, 'refuge_supervisor', 'revoke_document');
comment on function refuge.revoke_document(uuid, text) is
    'revoke an issued document (a supervisor of the operation); it no longer verifies';
grant execute on function refuge.revoke_document(uuid, text) to refuge_supervisor;

create function refuge.report_document_lost(document_id uuid, note text) returns jsonb
    language sql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    return refuge.end_document(document_id, 'LOST', note, 'refuge_registration', 'report_document_lost');
comment on function refuge.report_document_lost(uuid, text) is
    'record that an issued document was lost (it no longer verifies); issue a new one with refuge.issue_document';
grant execute on function refuge.report_document_lost(uuid, text) to refuge_registration;

-- Check a QR payload: format, key, signature, expiry, then the document's
-- state here.  Answers with valid and, when false, the reason; the fields
-- are echoed only when the signature holds.
create function refuge.verify_document(payload text) returns jsonb
    language plpgsql stable security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    parts text[];
    body bytea;
    sig bytea;
    f text[];
    key refuge.document_key;
    d refuge.issued_document;
    fields jsonb;
    vfrom date;
    vto date;
begin
    perform refuge.authorize_any(array['refuge_registration', 'refuge_supervisor', 'refuge_admin', 'refuge_assistance',
                                       'refuge_protection', 'refuge_partner']::name[], 'verify_document');
    if payload is null or length(payload) > 2000 or payload !~ '^RF1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$' then
        return jsonb_build_object('valid', false, 'reason', 'malformed');
    end if;
    parts := string_to_array(payload, '.');
    body := refuge.b64url_decode(parts[2]);
    sig := refuge.b64url_decode(parts[3]);
    if body is null or sig is null then
        return jsonb_build_object('valid', false, 'reason', 'malformed');
    end if;
    begin
        f := string_to_array(convert_from(body, 'UTF8'), '|');
    exception when others then
        return jsonb_build_object('valid', false, 'reason', 'malformed');
    end;
    if cardinality(f) <> 12 or f[1] !~ '^[0-9a-f]{16}$' or f[10] !~ '^\d{4}-\d\d-\d\d$' or f[11] !~ '^\d{4}-\d\d-\d\d$' then
        return jsonb_build_object('valid', false, 'reason', 'malformed');
    end if;
    select * into key from refuge.document_key k where k.key_id = f[1];
    if not found then
        return jsonb_build_object('valid', false, 'reason', 'unknown key');
    end if;
    if not refuge.ed25519_verify(key.public_key, convert_to('RF1.' || parts[2], 'UTF8'), sig) then
        return jsonb_build_object('valid', false, 'reason', 'bad signature');
    end if;
    vfrom := f[10]::date;
    vto := f[11]::date;
    fields := jsonb_build_object('serial', f[2], 'kind', f[3], 'number', f[4], 'given_name', f[5], 'family_name', f[6],
                                 'original_name', nullif(f[7], ''), 'date_of_birth', nullif(f[8], ''), 'sex', f[9],
                                 'valid_from', vfrom, 'valid_to', vto, 'photo_digest', nullif(f[12], ''));
    if key.status = 'REVOKED' then
        return jsonb_build_object('valid', false, 'reason', 'revoked key') || fields;
    end if;
    if vto < current_date then
        return jsonb_build_object('valid', false, 'reason', 'expired') || fields;
    end if;
    if vfrom > current_date then
        return jsonb_build_object('valid', false, 'reason', 'not yet valid') || fields;
    end if;
    select * into d from refuge.issued_document x where x.serial = f[2];
    if not found or d.payload <> verify_document.payload then
        -- genuine, but not (yet) in this database: issued at a field site not yet replicated
        return jsonb_build_object('valid', false, 'reason', 'unknown document') || fields;
    end if;
    if d.status <> 'VALID' then
        return jsonb_build_object('valid', false, 'reason', lower(d.status)) || fields;
    end if;
    return jsonb_build_object('valid', true) || fields;
end
$$;
comment on function refuge.verify_document(text) is
    'check a document''s QR payload: valid, or the reason (malformed, unknown key, bad signature, revoked key, expired, not yet valid, unknown document, revoked, lost, replaced)';
grant execute on function refuge.verify_document(text) to refuge_registration, refuge_supervisor, refuge_admin,
    refuge_assistance, refuge_protection, refuge_partner;

-- The printable document: an ID-1 card (front and back) or an A4 page,
-- with the photo from the vault (logged), names in their original script
-- and the QR code (extension/pdf.c lays it out).
create function refuge.document_pdf(document_id uuid) returns bytea
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    d refuge.issued_document;
    k refuge.document_kind;
    ind refuge.individual;
    op refuge.operation;
    photo refuge.biometric_vault;
    orig text;
    ptype text;
    lines text[];
    images bytea[] := '{}';
begin
    perform refuge.authorize('refuge_registration', 'document_pdf');
    select * into d from refuge.issued_document x where x.id = document_pdf.document_id;
    perform refuge.require_visible(d.id is not null and refuge.in_scope(d.operation_id, d.site_id), 'document_id');
    if d.status <> 'VALID' then
        perform refuge.raise_field('55000', 'document_id', format('%s is %s: issue a new one', d.serial, lower(d.status)));
    end if;
    select * into k from refuge.document_kind x where x.code = d.kind;
    select * into ind from refuge.individual i where i.id = d.individual_id;
    select * into op from refuge.operation o where o.id = d.operation_id;
    orig := refuge.original_script_name(ind.id);
    photo := refuge.document_photo(ind.id, 'print ' || d.serial);
    ptype := (select p.label from refuge.population_type p where p.code = ind.population_type);
    lines := array[format(E'PAGE\t%s', k.layout), format(E'TITLE\t%s', k.label),
                   format(E'SUB\t%s (%s)', op.name, op.code)];
    if photo.sealed is not null then
        images := array[photo.sealed];
        lines := lines || format(E'PHOTO\t1\t%s', photo.media_type);
    end if;
    lines := lines || array[
        format(E'FIELD\tName\t%s', concat_ws(' ', ind.given_name, ind.middle_name, ind.family_name))]
        || case when orig is not null then array[format(E'FIELD\tName (original script)\t%s', orig)] else '{}' end
        || array[format(E'FIELD\tRegistration number\t%s', ind.number),
                 format(E'FIELD\tDate of birth, sex\t%s, %s', coalesce(to_char(ind.date_of_birth, 'YYYY-MM-DD'), 'unknown'), ind.sex),
                 format(E'FIELD\tValid\t%s to %s', to_char(d.valid_from, 'YYYY-MM-DD'), to_char(d.valid_to, 'YYYY-MM-DD'))];
    if k.layout = 'CARD' then
        lines := lines || 'BACK'::text;
    else
        lines := lines || format(E'TEXT\tThis is to certify that the person named above is registered with UNHCR in %s '
                                 'under the number shown, as %s. Check this document by scanning its QR code.',
                                 op.name, ptype);
    end if;
    lines := lines || format(E'QR\t%s', d.payload)
                   || format(E'TEXT\tSerial %s, signed with key %s. %s, %s.', d.serial, d.key_id, op.name, ptype);
    return refuge.render_pdf(k.label || ' ' || d.serial, lines, images);
end
$$;
comment on function refuge.document_pdf(uuid) is
    'the printable document (PDF): card or A4 page with photo (vault access logged), names in their original script and the QR code';
grant execute on function refuge.document_pdf(uuid) to refuge_registration;
