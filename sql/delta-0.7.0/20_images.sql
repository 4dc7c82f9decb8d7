-- Images are checked when they enter (extension/image.c): the media type
-- against the bytes, the header, the dimensions and size against
-- refuge.max_image_bytes / refuge.max_image_pixels, a full decode of PNG
-- and JPEG, and the total of a capture against
-- refuge.max_capture_image_bytes.  Oversized base64 is refused before it is
-- decoded, and the images' bytes are not copied while a capture is parsed.

create function refuge.image_check(data bytea, media_type text, field text) returns jsonb
    language c immutable
    as 'MODULE_PATHNAME', 'refuge_image_check';
comment on function refuge.image_check(bytea, text, text) is
    'check an image as it enters (PNG, JPEG, JPEG 2000, WSQ): {media_type, width, height, bytes}, or an error naming field';

create or replace function refuge.parse_biometrics(templates jsonb, complete boolean,
                                        out fingers refuge.fingerprint[], out irises refuge.iris[],
                                        out iris_quality smallint[],
                                        out exceptions jsonb, out images jsonb, out device text,
                                        out operator text, out captured_at timestamptz, out site text)
    language plpgsql stable
as $$
declare
    arr jsonb;
    el jsonb;
    path text;
    pos integer;
    fp refuge.fingerprint;
    ir refuge.iris;
    eye text;
    part text;
    seen text[] := '{}';
    excepted text[] := '{}';
    cap jsonb;
    ts text;
    min_minutiae constant integer := 8;
    max_bytes constant bigint := pg_catalog.pg_size_bytes(pg_catalog.current_setting('refuge.max_image_bytes'));
    max_capture constant bigint := pg_catalog.pg_size_bytes(pg_catalog.current_setting('refuge.max_capture_image_bytes'));
    raw bytea;
    info jsonb;
    total bigint := 0;
begin
    perform refuge.arg_fields(templates, 'templates', array['capture', 'fingers', 'irises', 'missing', 'images']);
    fingers := '{}';
    irises := array[null, null]::refuge.iris[];
    iris_quality := array[null, null]::smallint[];
    exceptions := '[]';
    images := '[]';

    cap := templates -> 'capture';
    if cap is not null and cap <> 'null'::jsonb then
        perform refuge.arg_fields(cap, 'templates.capture', array['site', 'device', 'operator', 'captured_at']);
        site := refuge.arg_text(cap, 'site', 'templates.capture');
        device := refuge.arg_text(cap, 'device', 'templates.capture');
        operator := refuge.arg_text(cap, 'operator', 'templates.capture');
        ts := refuge.arg_text(cap, 'captured_at', 'templates.capture', false, 40);
        if ts is not null then
            begin
                captured_at := ts::timestamptz;
            exception when others then
                perform refuge.raise_field('22007', 'templates.capture.captured_at', format('"%s" is not a timestamp', ts));
            end;
            if captured_at > now() + interval '5 minutes' then
                perform refuge.raise_field('22008', 'templates.capture.captured_at', format('"%s" is in the future', ts));
            end if;
        end if;
    end if;

    -- fingers: ISO/ANSI record (base64), NIST xyt with geometry, or refuge text form
    arr := refuge.arg_array(templates, 'fingers', 'templates', 10);
    for i in 0 .. coalesce(jsonb_array_length(arr), 0) - 1 loop
        el := arr -> i;
        path := format('templates.fingers[%s]', i);
        perform refuge.arg_fields(el, path, array['position', 'record', 'view', 'xyt', 'width', 'height', 'dpi', 'template']);
        pos := refuge.arg_int(el, 'position', path, 1, 10);
        if pos is null then
            perform refuge.raise_field('22004', path || '.position', 'is required (ISO finger position 1-10)');
        end if;
        if format('finger_%s', pos) = any (seen) then
            perform refuge.raise_field('22023', path || '.position', format('finger %s is given twice', pos));
        end if;
        if (el ? 'record')::int + (el ? 'xyt')::int + (el ? 'template')::int <> 1 then
            perform refuge.raise_field('22023', path, 'exactly one of record, xyt or template is required');
        end if;
        begin
            if el ? 'record' then
                part := 'record';
                fp := refuge.fingerprint_from_record(refuge.arg_base64(el, 'record', path, true),
                                                     coalesce(refuge.arg_int(el, 'view', path, 1, 255), 1));
            elsif el ? 'xyt' then
                part := 'xyt';
                fp := refuge.fingerprint_from_xyt(refuge.arg_text(el, 'xyt', path, true, 100000),
                                                  refuge.arg_int(el, 'width', path, 1, 65535),
                                                  refuge.arg_int(el, 'height', path, 1, 65535),
                                                  coalesce(refuge.arg_int(el, 'dpi', path, 1, 10000), 500), pos);
                if fp is null then
                    perform refuge.raise_field('22004', path, 'xyt needs width and height');
                end if;
            else
                part := 'template';
                fp := refuge.arg_text(el, 'template', path, true, 100000)::refuge.fingerprint;
            end if;
        exception when others then
            if sqlerrm like path || '%' then
                raise;
            end if;
            perform refuge.raise_field(sqlstate, path || '.' || part, sqlerrm);
        end;
        if refuge.fingerprint_position(fp) = 0 then
            -- the record leaves the position open: the capture says which finger it is
            fp := pg_catalog.regexp_replace(fp::text, '^pos=0 ', format('pos=%s ', pos))::refuge.fingerprint;
        elsif refuge.fingerprint_position(fp) <> pos then
            perform refuge.raise_field('22023', path || '.position',
                format('is %s but the template says finger %s', pos, refuge.fingerprint_position(fp)));
        end if;
        if refuge.fingerprint_minutiae(fp) < min_minutiae then
            perform refuge.raise_field('22023', path,
                format('%s minutiae; at least %s are needed (recapture, or list finger_%s in missing)',
                       refuge.fingerprint_minutiae(fp), min_minutiae, pos));
        end if;
        fingers := fingers || fp;
        seen := seen || format('finger_%s', pos);
    end loop;

    -- irises: packed code and mask (base64) with geometry, or refuge text form
    arr := refuge.arg_array(templates, 'irises', 'templates', 2);
    for i in 0 .. coalesce(jsonb_array_length(arr), 0) - 1 loop
        el := arr -> i;
        path := format('templates.irises[%s]', i);
        perform refuge.arg_fields(el, path, array['eye', 'code', 'mask', 'rows', 'cols', 'bits_per_cell', 'template', 'quality']);
        eye := refuge.arg_text(el, 'eye', path, true, 10);
        if eye not in ('right', 'left') then
            perform refuge.raise_field('22023', path || '.eye', format('"%s" is not right or left', eye));
        end if;
        if 'iris_' || eye = any (seen) then
            perform refuge.raise_field('22023', path || '.eye', format('the %s eye is given twice', eye));
        end if;
        if (el ? 'code')::int + (el ? 'template')::int <> 1 then
            perform refuge.raise_field('22023', path, 'exactly one of code (with mask and geometry) or template is required');
        end if;
        begin
            if el ? 'code' then
                part := 'code';
                ir := refuge.iris_from_bytes(refuge.arg_base64(el, 'code', path, true),
                                             refuge.arg_base64(el, 'mask', path, true),
                                             coalesce(refuge.arg_int(el, 'rows', path, 1, 256), 8),
                                             coalesce(refuge.arg_int(el, 'cols', path, 1, 4096), 128),
                                             coalesce(refuge.arg_int(el, 'bits_per_cell', path, 1, 8), 2));
            else
                part := 'template';
                ir := refuge.arg_text(el, 'template', path, true, 100000)::refuge.iris;
            end if;
        exception when others then
            if sqlerrm like path || '%' then
                raise;
            end if;
            perform refuge.raise_field(sqlstate, path || '.' || part, sqlerrm);
        end;
        if refuge.iris_valid_bits(ir) < 256 then
            perform refuge.raise_field('22023', path,
                format('only %s usable bits; at least 256 are needed (recapture, or list iris_%s in missing)',
                       refuge.iris_valid_bits(ir), eye));
        end if;
        irises[case eye when 'right' then 1 else 2 end] := ir;
        iris_quality[case eye when 'right' then 1 else 2 end] := refuge.arg_int(el, 'quality', path, 0, 100);
        seen := seen || ('iris_' || eye);
    end loop;

    -- parts not captured, each with a coded reason
    arr := refuge.arg_array(templates, 'missing', 'templates', 13);
    for i in 0 .. coalesce(jsonb_array_length(arr), 0) - 1 loop
        el := arr -> i;
        path := format('templates.missing[%s]', i);
        perform refuge.arg_fields(el, path, array['part', 'reason']);
        part := refuge.arg_text(el, 'part', path, true, 20);
        if part <> all (refuge.biometric_parts()) then
            perform refuge.raise_field('22023', path || '.part', format('"%s" is not one of finger_1 .. finger_10, iris_right, iris_left, face', part));
        end if;
        if part = any (seen) then
            perform refuge.raise_field('22023', path || '.part', format('%s is captured, so it cannot be missing', part));
        end if;
        if part = any (excepted) then
            perform refuge.raise_field('22023', path || '.part', format('%s is listed twice', part));
        end if;
        perform refuge.arg_code(el, 'reason', path, 'biometric_exception_reason', true);
        excepted := excepted || part;
        exceptions := exceptions || jsonb_build_object('part', part, 'reason', el ->> 'reason');
    end loop;

    -- source images, for the HQ vault only: each checked (format, header,
    -- dimensions, a full decode for PNG and JPEG) and sized before anything
    -- is kept; the result names each image by its index in templates.images
    -- so that its bytes are decoded once more only where they are sealed
    arr := refuge.arg_array(templates, 'images', 'templates', 13);
    for i in 0 .. coalesce(jsonb_array_length(arr), 0) - 1 loop
        el := arr -> i;
        path := format('templates.images[%s]', i);
        perform refuge.arg_fields(el, path, array['part', 'media_type', 'data']);
        part := refuge.arg_text(el, 'part', path, true, 20);
        if part <> all (refuge.biometric_parts()) then
            perform refuge.raise_field('22023', path || '.part', format('"%s" is not one of finger_1 .. finger_10, iris_right, iris_left, face', part));
        end if;
        if exists (select 1 from jsonb_array_elements(images) x where x ->> 'part' = part) then
            perform refuge.raise_field('22023', path || '.part', format('%s has two images', part));
        end if;
        if jsonb_typeof(el -> 'data') is distinct from 'string' then
            perform refuge.raise_field('22004', path || '.data', 'is required: the image as base64');
        end if;
        -- refuse an oversized image before decoding it
        if length(el ->> 'data') > max_bytes / 3 * 4 + max_bytes / 38 + 16 then
            perform refuge.raise_field('54000', path || '.data',
                format('about %s bytes is more than the %s an image may have (refuge.max_image_bytes)',
                       length(el ->> 'data') / 4 * 3, max_bytes));
        end if;
        begin
            raw := pg_catalog.decode(el ->> 'data', 'base64');
        exception when others then
            perform refuge.raise_field('22023', path || '.data', 'is not base64');
        end;
        info := refuge.image_check(raw, refuge.arg_text(el, 'media_type', path, false, 100), path || '.data');
        total := total + length(raw);
        if total > max_capture then
            perform refuge.raise_field('54000', path || '.data',
                format('the images of this capture reach %s bytes; at most %s (refuge.max_capture_image_bytes)',
                       total, max_capture));
        end if;
        raw := null;
        images := images || jsonb_build_object('part', part, 'media_type', info ->> 'media_type', 'index', i,
                                               'width', info -> 'width', 'height', info -> 'height',
                                               'bytes', info -> 'bytes');
    end loop;

    if complete then
        -- an enrolment accounts for every finger and both eyes
        select string_agg(p, ', ') into part
          from unnest(refuge.biometric_parts()) p
         where p <> 'face' and p <> all (seen) and p <> all (excepted);
        if part is not null then
            perform refuge.raise_field('22023', 'templates.missing',
                format('%s neither captured nor listed with a reason', part));
        end if;
    end if;
    if cardinality(fingers) = 0 and irises[1] is null and irises[2] is null then
        perform refuge.raise_field('22023', 'templates', 'no fingerprint or iris to match');
    end if;
end
$$;

create or replace function refuge.enrol_biometrics(individual_id uuid, templates jsonb) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    ind refuge.individual;
    pol record;
    p record;
    site_id uuid;
    cap_id uuid;
    hw bigint;
    gallery bigint;
    cands uuid[];
    decision jsonb;
    existing refuge.biometric_enrolment;
    open_case uuid;
    img jsonb;
    vault_id uuid;
    key_id text;
begin
    ind := refuge.individual_for_update(enrol_biometrics.individual_id, 'refuge_biometrics', 'enrol_biometrics');
    pol := refuge.dedup_settings();
    if ind.status <> 'ACTIVE' then
        perform refuge.raise_field('55000', 'individual_id',
            format('%s has status %s; only active individuals are enrolled', ind.number, ind.status));
    end if;
    if ind.date_of_birth is not null
       and ind.date_of_birth > current_date - make_interval(years => pol.min_age) then
        perform refuge.raise_field('22023', 'individual_id',
            format('%s is under %s (born %s); biometrics are taken from age %s (refuge.biometric_min_age)',
                   ind.number, pol.min_age, refuge.iso(ind.date_of_birth), pol.min_age));
    end if;
    select * into existing from refuge.biometric_enrolment e where e.individual_id = ind.id;
    if found then
        perform refuge.raise_field('23505', 'individual_id',
            format('%s is already enrolled (%s since %s)', ind.number, lower(existing.status), refuge.iso(existing.enrolled_at::date)));
    end if;
    select d.id into open_case from refuge.dedup_case d where d.individual_id = ind.id and d.status <> 'CLOSED';
    if found then
        perform refuge.raise_field('55000', 'individual_id',
            format('%s has an enrolment awaiting adjudication (case %s)', ind.number, open_case));
    end if;
    if templates is null then
        perform refuge.raise_field('22004', 'templates', 'is required');
    end if;
    p := refuge.parse_biometrics(templates, true);
    site_id := ind.site_id;
    if p.site is not null then
        select s.id into site_id from refuge.site s where s.operation_id = ind.operation_id and s.code = p.site;
        if site_id is null or not refuge.in_scope(ind.operation_id, site_id) then
            perform refuge.raise_field('23503', 'templates.capture.site',
                format('"%s" is not a site of this operation assigned to you', p.site));
        end if;
    end if;

    -- mark first, then search (see the head of this file)
    select coalesce(max(e.seq), 0) into hw from refuge.biometric_enrolment e;
    gallery := refuge.gallery_size();
    cands := refuge.dedup_candidates(p.fingers, p.irises, pol.search_fingers, gallery);

    insert into refuge.biometric_capture (individual_id, operation_id, site_id, device, operator, captured_at,
                                          fingers, irises, iris_quality, gallery_size, target_fpir, block_fpir,
                                          gallery_seq, decision)
    values (ind.id, ind.operation_id, site_id, p.device, coalesce(p.operator, refuge.caller()),
            coalesce(p.captured_at, now()), p.fingers, p.irises, p.iris_quality, gallery, pol.target_fpir,
            pol.block_fpir, hw, 'adjudication')
    returning id into cap_id;
    insert into refuge.biometric_exception (capture_id, individual_id, operation_id, site_id, part, reason)
    select cap_id, ind.id, ind.operation_id, site_id, x ->> 'part', x ->> 'reason'
      from jsonb_array_elements(p.exceptions) x;
    if jsonb_array_length(p.images) > 0 then
        key_id := refuge.vault_key_id();
        for img in select * from jsonb_array_elements(p.images) loop
            vault_id := gen_random_uuid();
            insert into refuge.biometric_vault (id, capture_id, individual_id, part, media_type, key_id, sealed)
            values (vault_id, cap_id, ind.id, img ->> 'part', img ->> 'media_type', key_id,
                    refuge.vault_seal(decode(templates -> 'images' -> (img ->> 'index')::integer ->> 'data', 'base64'),
                                      format('%s|%s|%s', vault_id, ind.id, img ->> 'part')));
        end loop;
    end if;
    decision := refuge.enrol_decide(cap_id, cands);
    -- an enrolment is a 1:N search whose answer names who matched: committed
    -- by the logging worker before the answer, like refuge.identify, so that a
    -- probe enrolled and rolled back leaves its trace
    perform refuge.log_durably(jsonb_build_object('biometric_identification', jsonb_build_array(jsonb_build_object(
        'operation_id', ind.operation_id, 'site_id', site_id, 'purpose', 'enrolment of ' || ind.number,
        'gallery_size', gallery, 'target_fpir', pol.target_fpir, 'candidates', coalesce(cands, '{}'),
        'device', p.device, 'searched_by', refuge.caller()))));
    return decision;
end
$$;
