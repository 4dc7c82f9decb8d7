-- Reading the templates argument of enrol_biometrics and verify (shape in
-- README.md, "Biometric templates").  Errors name the field, e.g.
--   templates.fingers[3].record: fingerprint record: ... at byte 26

create function refuge.arg_base64(obj jsonb, key text, path text, required boolean default false) returns bytea
    language plpgsql immutable
as $$
declare
    s text := refuge.arg_text(obj, key, path, required, 10000000);
begin
    if s is null then
        return null;
    end if;
    begin
        return pg_catalog.decode(s, 'base64');
    exception when others then
        perform refuge.raise_field('22023', path || '.' || key, 'is not base64: ' || sqlerrm);
    end;
end
$$;

-- The biometric part names used in exceptions, images and the vault.
create function refuge.biometric_parts() returns text[]
    language sql immutable parallel safe
    return array['finger_1', 'finger_2', 'finger_3', 'finger_4', 'finger_5', 'finger_6', 'finger_7',
                 'finger_8', 'finger_9', 'finger_10', 'iris_right', 'iris_left', 'face'];

create function refuge.parse_biometrics(templates jsonb, complete boolean,
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

    -- source images, for the HQ vault only
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
        images := images || jsonb_build_object('part', part,
            'media_type', coalesce(refuge.arg_text(el, 'media_type', path, false, 100), 'application/octet-stream'),
            'data', encode(refuge.arg_base64(el, 'data', path, true), 'base64'));
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
