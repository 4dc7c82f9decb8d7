-- Biometric input and matching policy: templates and images parsed and
-- checked, fused person-level scores and thresholds.

-- The dedup policy in force (superuser-only settings), checked.
create function refuge.dedup_settings(out target_fpir double precision, out block_fpir double precision,
                                      out verify_fmr double precision, out min_age integer,
                                      out search_fingers smallint[], out finger_candidates integer)
    language c stable parallel safe as 'MODULE_PATHNAME', 'refuge_dedup_settings';
comment on function refuge.dedup_settings() is
    'refuge.target_fpir, refuge.block_fpir, refuge.verify_fmr, refuge.biometric_min_age, refuge.dedup_fingers and refuge.dedup_finger_candidates, validated';
grant execute on function refuge.dedup_settings() to refuge_supervisor, refuge_analyst, refuge_biometrics,
    refuge_biometrics_admin, refuge_assistance;

-- Fused evidence (decades) needed over `modalities` compared parts for a
-- person-level false-positive identification rate fpir in a gallery of
-- gallery_size people.  gallery_size 1 gives the 1:1 threshold for an FMR.
create function refuge.fused_threshold(gallery_size double precision, fpir double precision, modalities integer)
    returns double precision
    language c immutable strict parallel safe as 'MODULE_PATHNAME', 'refuge_fused_threshold';
comment on function refuge.fused_threshold(double precision, double precision, integer) is
    'evidence (decades) at which a gallery of this size produces a false candidate at rate fpir';
grant execute on function refuge.fused_threshold(double precision, double precision, integer) to
    refuge_supervisor, refuge_analyst, refuge_biometrics, refuge_biometrics_admin, refuge_assistance;

-- The rate at which a gallery of gallery_size people would produce evidence
-- this strong by chance.
create function refuge.fused_fpir(evidence double precision, modalities integer, gallery_size double precision)
    returns double precision
    language c immutable strict parallel safe as 'MODULE_PATHNAME', 'refuge_fused_fpir';
comment on function refuge.fused_fpir(double precision, integer, double precision) is
    'false-positive identification rate of fused evidence over this many parts in a gallery of this size';
grant execute on function refuge.fused_fpir(double precision, integer, double precision) to refuge_supervisor,
    refuge_analyst, refuge_biometrics, refuge_biometrics_admin, refuge_assistance;

-- Evidence (decades) of one iris distance (best of the default 7 shifts).
create function refuge.iris_evidence(hd double precision) returns double precision
    language c immutable strict parallel safe as 'MODULE_PATHNAME', 'refuge_iris_evidence';

-- One person against another: every finger position and eye captured on
-- both sides.  scores[1..10]: calibrated fingerprint scores; [11], [12]:
-- normalised iris distances (right, left); NULL where not compared.
create function refuge.person_match(probe_fingers refuge.fingerprint[], probe_irises refuge.iris[],
                                    gallery_fingers refuge.fingerprint[], gallery_irises refuge.iris[],
                                    out scores double precision[], out evidence double precision,
                                    out modalities integer)
    language c immutable parallel safe cost 20000 as 'MODULE_PATHNAME', 'refuge_person_match';
comment on function refuge.person_match(refuge.fingerprint[], refuge.iris[], refuge.fingerprint[], refuge.iris[]) is
    'fused comparison of two people (all fingers by position, irises by eye): per-part scores, evidence in decades, parts compared';
grant execute on function refuge.person_match(refuge.fingerprint[], refuge.iris[], refuge.fingerprint[],
    refuge.iris[]) to refuge_biometrics_admin;

-- The last enrolment committed, seen with a fresh snapshot (also under
-- REPEATABLE READ); internal to enrol_biometrics.
create function refuge.gallery_seq_latest() returns bigint
    language c volatile strict as 'MODULE_PATHNAME', 'refuge_gallery_seq_latest';

-- People enrolled (the gallery's size for thresholds): exact while small,
-- the planner's estimate once large (thresholds move by log10 of it).
create function refuge.gallery_size() returns bigint
    language plpgsql stable security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    est bigint;
begin
    select c.reltuples::bigint into est from pg_catalog.pg_class c where c.oid = 'refuge.biometric_enrolment'::regclass;
    if est is null or est < 100000 then
        select count(*) into est from refuge.biometric_enrolment e where e.status = 'ENROLLED';
    end if;
    return greatest(est, 1);
end
$$;

-- A synthetic person's templates in the shape enrol_biometrics and verify
-- take (10 fingers, 2 irises), for training, demos and load tests: person p
-- has fingers (p * 10 + position - 1) and eyes (p * 2, p * 2 + 1) of the
-- seeded generators; capture 0 is the enrolment, others are re-captures.
create function refuge.synthetic_templates(seed bigint, person bigint, capture integer default 0) returns jsonb
    language sql immutable strict parallel safe
begin atomic
    select jsonb_build_object(
        'fingers', (select jsonb_agg(jsonb_build_object('position', p,
                        'template', refuge.synthetic_fingerprint(seed, person * 10 + p - 1, capture)::text) order by p)
                      from generate_series(1, 10) p),
        'irises', jsonb_build_array(
            jsonb_build_object('eye', 'right', 'template', refuge.synthetic_iris(seed, person * 2, capture)::text),
            jsonb_build_object('eye', 'left', 'template', refuge.synthetic_iris(seed, person * 2 + 1, capture)::text)));
end;
comment on function refuge.synthetic_templates(bigint, bigint, integer) is
    'synthetic templates of a person in enrol_biometrics'' shape (seed, person, capture)';
grant execute on function refuge.synthetic_templates(bigint, bigint, integer) to refuge_registration,
    refuge_supervisor, refuge_biometrics, refuge_biometrics_admin, refuge_assistance;

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
