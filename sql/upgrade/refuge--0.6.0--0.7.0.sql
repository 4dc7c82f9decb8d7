-- refuge 0.6.0 -> 0.7.0: trustworthy under attack.  Images validated when
-- they enter and decoded only under our own error handling; reads logged by
-- a worker whose commit survives the reader's rollback; an audit trail
-- scoped like the rows it describes and guarded against TRUNCATE, replica
-- mode and back-dating; analysts limited to disclosure-controlled
-- aggregates; identifiers and names normalised; alerts without content.
-- Built from the fragments in sql/delta-0.7.0/.
\echo Use "ALTER EXTENSION refuge UPDATE TO '0.7.0'" to load this file. \quit

-- check_dates() joined the 0.1.0 install script after 0.2.0 was released;
-- the functions below call it, so a database installed from the scripts as
-- released gets it here.
create or replace function refuge.check_dates(earlier date, later date, path text, earlier_key text, later_key text)
    returns void
    language plpgsql immutable
as $$
begin
    if later < earlier then
        perform refuge.raise_field('22008', path || '.' || later_key,
            format('"%s" is before %s %s', refuge.iso(later), earlier_key, refuge.iso(earlier)));
    end if;
end
$$;
alter function refuge.check_dates(date, date, text, text, text) owner to refuge_owner;
revoke all on function refuge.check_dates(date, date, text, text, text) from public;
-- Reads that are logged leave a record that survives the reader's rollback:
-- refuge.log_durably() hands the log rows to a background worker that
-- commits them before the data is returned (extension/access_log.c).  Log
-- tables hold no foreign keys: a log row names what was read even when it
-- was created in the reader's own uncommitted transaction, or erased since.

create function refuge.log_durably(rows jsonb) returns void
    language c volatile strict
    as 'MODULE_PATHNAME', 'refuge_log_durably';
comment on function refuge.log_durably(jsonb) is
    'internal: insert log rows ({"sensitive_read": [...], "vault_access": [...], ...}) in a transaction of their own and commit them before returning';

create function refuge.preloaded() returns boolean
    language c stable parallel safe
    as 'MODULE_PATHNAME', 'refuge_preloaded';
comment on function refuge.preloaded() is 'is refuge in shared_preload_libraries (required for the vault)?';

alter table refuge.vault_access drop constraint vault_access_vault_id_fkey;
alter table refuge.vault_access drop constraint vault_access_individual_id_fkey;
alter table refuge.biometric_identification drop constraint biometric_identification_operation_id_fkey;
alter table refuge.biometric_identification drop constraint biometric_identification_operation_id_site_id_fkey;

-- The kinds of sensitive reads (tracing searches, vulnerability assessments,
-- the Resettlement Registration Form and alert details join the list).
alter table refuge.sensitive_read drop constraint sensitive_read_kind_check;
alter table refuge.sensitive_read add constraint sensitive_read_kind_check
    check (kind in ('case_note', 'case_document', 'gbv_incident', 'case_detail', 'referral', 'biometric_templates',
                    'tracing_search', 'vulnerability_assessment', 'rrf', 'document_match'));

-- The module of the case a read concerns: who may read the log of a read is
-- who may read the case (a registration supervisor must not learn from the
-- log that someone's SGBV incident was read).
alter table refuge.sensitive_read add column module text;
comment on column refuge.sensitive_read.module is 'module of the case read (null for reads outside cases, such as templates)';
alter table refuge.sensitive_read disable trigger append_only;
update refuge.sensitive_read s set module = c.module from refuge.process_case c where c.id = s.case_id;
alter table refuge.sensitive_read enable trigger append_only;

-- One sensitive read of a case's record, committed before anything is returned.
create or replace function refuge.log_sensitive_read(p_kind text, p_object uuid, c refuge.process_case, p_purpose text)
    returns void
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    if p_purpose is null or btrim(p_purpose) = '' then
        perform refuge.raise_field('22004', 'purpose', 'is required: say why this sensitive record is read');
    end if;
    perform refuge.log_durably(jsonb_build_object('sensitive_read', jsonb_build_array(jsonb_build_object(
        'actor', refuge.caller(), 'kind', p_kind, 'object_id', p_object, 'case_id', c.id, 'module', c.module,
        'individual_id', c.principal_id, 'operation_id', c.operation_id, 'purpose', left(btrim(p_purpose), 500)))));
end
$$;

create or replace function refuge.vault_image(vault_id uuid, purpose text) returns bytea
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
    perform refuge.log_durably(jsonb_build_object('vault_access', jsonb_build_array(jsonb_build_object(
        'vault_id', v.id, 'individual_id', v.individual_id, 'purpose', left(btrim(purpose), 500),
        'accessed_by', refuge.caller()))));
    return refuge.vault_open(v.sealed, format('%s|%s|%s', v.id, v.individual_id, v.part));
end
$$;

-- Members' face images for the Resettlement Registration Form: every
-- opening committed in vault_access first.
create or replace function refuge.rrf_photo(p_vault uuid, p_case_number text) returns bytea
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    v refuge.biometric_vault;
begin
    select * into v from refuge.biometric_vault b where b.id = p_vault;
    perform refuge.log_durably(jsonb_build_object('vault_access', jsonb_build_array(jsonb_build_object(
        'vault_id', v.id, 'individual_id', v.individual_id, 'accessed_by', refuge.caller(),
        'purpose', 'Resettlement Registration Form ' || p_case_number))));
    return refuge.vault_open(v.sealed, format('%s|%s|%s', v.id, v.individual_id, v.part));
end
$$;

create or replace function refuge.biometric_templates(individual_id uuid, purpose text) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    p refuge.individual;
begin
    perform refuge.authorize('refuge_biometrics_admin', 'biometric_templates');
    select * into p from refuge.individual i where i.id = biometric_templates.individual_id;
    if not found then
        perform refuge.raise_field('P0002', 'individual_id', 'not found in your operations');
    end if;
    if purpose is null or btrim(purpose) = '' then
        perform refuge.raise_field('22004', 'purpose', 'is required: say why these biometric templates are read');
    end if;
    perform refuge.log_durably(jsonb_build_object('sensitive_read', jsonb_build_array(jsonb_build_object(
        'actor', refuge.caller(), 'kind', 'biometric_templates', 'object_id', p.id, 'individual_id', p.id,
        'operation_id', p.operation_id, 'purpose', left(btrim(purpose), 500)))));
    return jsonb_build_object('individual_id', p.id, 'number', p.number,
        'fingers', coalesce((select jsonb_agg(jsonb_build_object('position', f.position, 'quality', f.quality,
                                                                 'template', f.template::text) order by f.position)
                               from refuge.biometric_finger f where f.individual_id = p.id), '[]'),
        'irises', coalesce((select jsonb_agg(jsonb_build_object('eye', i.eye, 'quality', i.quality,
                                                                'template', i.template::text) order by i.eye)
                              from refuge.biometric_iris i where i.individual_id = p.id), '[]'));
end
$$;

create type refuge.tracing_match as (individual_id uuid, number text, given_name text, family_name text, sex text,
                                     birth_year integer, operation text, score integer);
comment on type refuge.tracing_match is 'internal: one result of refuge.tracing_matches()';

-- Tracing searches cross borders: the search and the people it returned are
-- logged (committed) before the list is handed out.
create or replace function refuge.tracing_matches(case_id uuid, max_results integer default 10)
    returns table (individual_id uuid, number text, given_name text, family_name text, sex text, birth_year integer,
                   operation text, score integer)
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
    fam text;
    giv text;
    found_rows refuge.tracing_match[];
begin
    c := refuge.case_for_update(tracing_matches.case_id, 'tracing_matches', false);
    if c.module <> 'TRACING' then
        perform refuge.raise_field('22023', 'case_id', format('case %s is a %s case, not a tracing request', c.number, c.module));
    end if;
    fam := lower(c.data ->> 'sought_family_name');
    giv := lower(c.data ->> 'sought_given_name');
    select coalesce(array_agg(row(y.id, y.number, y.given_name, y.family_name, y.sex, y.yob, y.code, y.score)::refuge.tracing_match
                              order by y.score desc, y.number), '{}')
      into found_rows
      from (select x.id, x.number, x.given_name, x.family_name, x.sex, x.yob, o.code, x.score
              from (select i.id, i.number, i.given_name, i.family_name, i.sex, i.operation_id,
                           extract(year from i.date_of_birth)::integer as yob,
                           (case when lower(i.family_name) = fam then 4
                                 when left(lower(i.family_name), 4) = left(fam, 4) then 2 else 0 end
                          + case when giv is null then 0
                                 when lower(i.given_name) = giv then 3
                                 when left(lower(i.given_name), 3) = left(giv, 3) then 1 else 0 end
                          + case when c.data ? 'sought_sex' and i.sex = c.data ->> 'sought_sex' then 1 else 0 end
                          + case when not c.data ? 'sought_birth_year' or i.date_of_birth is null then 0
                                 when abs(extract(year from i.date_of_birth) - (c.data ->> 'sought_birth_year')::integer) <= 2 then 2
                                 else -2 end)::integer as score
                      from refuge.individual i
                     where i.status = 'ACTIVE'
                       and left(lower(i.family_name), 4) = left(fam, 4)
                       and not exists (select 1 from refuge.case_member cm where cm.case_id = c.id and cm.individual_id = i.id)) x
              join refuge.operation o on o.id = x.operation_id
             where x.score >= 5
             order by x.score desc, x.number
             limit greatest(1, least(coalesce(max_results, 10), 100))) y;
    perform refuge.log_durably(jsonb_build_object('sensitive_read', jsonb_build_array(jsonb_build_object(
        'actor', refuge.caller(), 'kind', 'tracing_search', 'object_id', c.id, 'case_id', c.id, 'module', c.module,
        'individual_id', c.principal_id, 'operation_id', c.operation_id,
        'purpose', format('tracing search: %s people returned%s', cardinality(found_rows),
                          coalesce(' (' || (select string_agg(f.number, ', ') from unnest(found_rows) f) || ')', ''))))));
    return query select * from unnest(found_rows);
end
$$;

-- 1:N identification: the search and its candidates are committed in
-- biometric_identification before the candidates are returned.
create or replace function refuge.identify(templates jsonb, site text, purpose text, max_results integer default 5)
    returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    p record;
    pol record;
    s refuge.site;
    gallery bigint := refuge.gallery_size();
    found_rows jsonb := '[]';
    ids uuid[] := '{}';
    best double precision;
    c record;
    rk integer := 0;
    new_id uuid := gen_random_uuid();
begin
    perform refuge.authorize_any(array['refuge_biometrics', 'refuge_biometrics_admin'], 'identify');
    select * into s from refuge.site x where x.code = identify.site
       and (refuge.in_scope(x.operation_id, x.id) or refuge.caller_has('refuge_biometrics_admin'));
    if not found then
        perform refuge.raise_field('23503', 'site', format('"%s" is not a site you are assigned to', left(coalesce(site, 'null'), 40)));
    end if;
    if nullif(btrim(purpose), '') is null then
        perform refuge.raise_field('22004', 'purpose', 'is required: say why this person is searched');
    end if;
    if max_results is null or max_results not between 1 and 50 then
        perform refuge.raise_field('22023', 'max_results', format('%s is not between 1 and 50', coalesce(max_results::text, 'null')));
    end if;
    if templates is null then
        perform refuge.raise_field('22004', 'templates', 'is required');
    end if;
    p := refuge.parse_biometrics(templates, false);
    if jsonb_array_length(p.images) > 0 then
        perform refuge.raise_field('22023', 'templates.images', 'identification takes templates only');
    end if;
    pol := refuge.dedup_settings();
    for c in select * from refuge.score_candidates(p.fingers, p.irises,
                     refuge.dedup_candidates(p.fingers, p.irises, pol.search_fingers, gallery),
                     '00000000-0000-0000-0000-000000000000', gallery) x
              where x.fpir <= pol.target_fpir limit max_results loop
        rk := rk + 1;
        best := coalesce(best, c.fpir);
        ids := ids || c.candidate_id;
        found_rows := found_rows || refuge.candidate_json(c.candidate_id, rk, c.evidence, c.modalities, c.fpir, c.scores);
    end loop;
    perform refuge.log_durably(jsonb_build_object('biometric_identification', jsonb_build_array(jsonb_build_object(
        'id', new_id, 'operation_id', s.operation_id, 'site_id', s.id, 'purpose', left(btrim(purpose), 500),
        'gallery_size', gallery, 'target_fpir', pol.target_fpir, 'candidates', ids, 'best_fpir', best,
        'device', p.device, 'searched_by', refuge.caller()))));
    return jsonb_build_object('identification_id', new_id, 'gallery_size', gallery, 'target_fpir', pol.target_fpir,
                              'candidates', found_rows);
end
$$;

-- 1:1 verifications are logged like reads: a caller who verifies the same
-- templates against record after record learns who the person is, so each
-- verification is committed by the logging worker before its answer.
alter table refuge.biometric_verification drop constraint biometric_verification_individual_id_fkey;
alter table refuge.biometric_verification drop constraint biometric_verification_identity_id_fkey;
alter table refuge.biometric_verification drop constraint biometric_verification_operation_id_fkey;
alter table refuge.biometric_verification drop constraint biometric_verification_operation_id_site_id_fkey;
-- (the collection names its verification, committed by the worker: no foreign key, which
-- a REPEATABLE READ collector's own snapshot could not see)
alter table refuge.collection drop constraint collection_verification_id_fkey;

create or replace function refuge.verify_person(ind refuge.individual, fingers refuge.fingerprint[], irises refuge.iris[],
                                     p_site uuid, purpose text, device text)
    returns refuge.biometric_verification
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    identity uuid := refuge.identity_of(ind.id);
    ev double precision;
    k integer := 0;
    sc double precision[];
    threshold double precision;
    v refuge.biometric_verification;
begin
    if identity is not null then
        select pm.evidence, pm.modalities, pm.scores into ev, k, sc
          from refuge.gallery_templates(identity) g,
               lateral refuge.person_match(fingers, irises, g.gallery_fingers, g.gallery_irises) pm;
    end if;
    if k > 0 then
        threshold := refuge.fused_threshold(1, (refuge.dedup_settings()).verify_fmr, k);
    end if;
    -- a verification tells whether this is the person: logged (committed) before the answer is given,
    -- so that repeating it over many records in a rolled-back transaction leaves a trace
    v.id := gen_random_uuid();
    v.individual_id := ind.id;
    v.identity_id := identity;
    v.operation_id := ind.operation_id;
    v.site_id := coalesce(p_site, ind.site_id);
    v.purpose := purpose;
    v.match := k > 0 and ev >= threshold;
    v.evidence := ev;
    v.threshold := threshold;
    v.modalities := k;
    v.scores := sc;
    v.device := device;
    v.verified_by := refuge.caller();
    v.verified_at := now();
    perform refuge.log_durably(jsonb_build_object('biometric_verification', jsonb_build_array(
        jsonb_strip_nulls(to_jsonb(v) - 'created_at' - 'created_by' - 'updated_at' - 'updated_by'))));
    return v;
end
$$;

drop policy supervisor_read on refuge.sensitive_read;
create policy supervisor_read on refuge.sensitive_read for select to refuge_supervisor
    using (operation_id = any ((select refuge.scope_operations())::uuid[])
           and (module is null or module = any ((select refuge.caller_modules())::text[])));
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
-- The audit trail is read as narrowly as the rows it describes.  Each audit
-- row carries the class of its table (refuge.audit_scope) and, for case
-- records, the case's module and operation; policies give supervisors the
-- registration, identity, assistance and access-log rows of their
-- operations and the case rows of the modules they work there, biometrics
-- administrators the biometric rows, administrators the configuration.
-- Case note text is recorded only as size and digest.
--
-- And it is harder to silence or forge: TRUNCATE is refused on every
-- table; audit, stamp and append-only triggers are ENABLE ALWAYS (so
-- session_replication_role = replica does not switch them off); loads
-- with row_security = off (pg_restore, a superuser's COPY) are recorded
-- per statement in refuge.audit_bulk_load and updates and deletes are
-- audited row by row whatever the settings; an audit row is dated by the
-- transaction that writes it; the chain's length is remembered so that a
-- removed tail is reported; rows dated before the seal that preceded them
-- are reported as back-dated.

create table refuge.audit_scope (
    table_name       text primary key,
    class            text not null check (class in ('registration', 'identity', 'biometric', 'assistance', 'case',
                                                    'access_log', 'config'))
);
comment on table refuge.audit_scope is 'the class of each audited table, which decides who may read its audit rows';
insert into refuge.audit_scope (table_name, class)
select t, 'registration' from unnest(array['registration_group', 'individual', 'group_membership', 'individual_name',
    'individual_nationality', 'individual_language', 'individual_education', 'individual_occupation',
    'individual_contact', 'individual_address', 'flight_leg', 'document', 'photo', 'specific_need']) t
union all
select t, 'identity' from unnest(array['biometric_enrolment', 'biometric_exception', 'biometric_verification',
    'biometric_identification', 'dedup_case', 'fraud_case', 'fraud_alert']) t
union all
select t, 'biometric' from unnest(array['biometric_capture', 'biometric_finger', 'biometric_iris', 'biometric_vault',
    'vault_access', 'dedup_candidate', 'dedup_cleared_pair']) t
union all
select t, 'assistance' from unnest(array['assistance_plan', 'assistance_cycle', 'entitlement', 'collector',
    'distribution_event', 'collection']) t
union all
select t, 'case' from unnest(array['process_case', 'case_member', 'case_event', 'case_approval', 'case_alert',
    'case_note', 'case_document', 'case_link', 'gbv_incident', 'case_transfer', 'case_referral']) t
union all
select t, 'access_log' from unnest(array['sensitive_read']) t
union all
select t, 'config' from unnest(array['operation', 'site', 'staff', 'staff_assignment', 'country', 'language', 'script',
    'sex', 'relationship', 'marital_status', 'education_level', 'education_degree', 'address_type',
    'language_proficiency', 'religion', 'ethnicity', 'occupation', 'population_type', 'age_bracket',
    'specific_need_category', 'specific_need_code', 'registration_level', 'date_precision', 'document_type',
    'flight_reason', 'contact_type', 'individual_status', 'group_status', 'site_type', 'biometric_exception_reason',
    'case_module', 'workflow_state', 'workflow_transition', 'referral_field', 'vulnerability_factor',
    'partner_organisation', 'partner_staff', 'progres_code']) t;

alter table refuge.audit_log add column class text, add column module text;
comment on column refuge.audit_log.class is 'class of the table the row describes (refuge.audit_scope): who may read it';
comment on column refuge.audit_log.module is 'case module, for rows that describe case records';

-- Rows written before 0.7.0: their class and, for case records, the module
-- of their case (columns outside the chain; the chained ones are left as
-- they are, so a case record's row without an operation stays readable by
-- superusers only).
alter table refuge.audit_log disable trigger append_only;
update refuge.audit_log a
   set class = coalesce(s.class, 'restricted'),
       module = c.module
  from refuge.audit_log x
  left join refuge.audit_scope s on s.table_name = x.table_name
  left join refuge.process_case c
         on s.class = 'case'
        and c.id = coalesce((coalesce(x.new_data, x.old_data) ->> 'case_id')::uuid,
                            case when x.table_name = 'process_case' then x.row_id end)
 where x.id = a.id;
alter table refuge.audit_log enable trigger append_only;
alter table refuge.audit_log alter column class set not null;
create index audit_log_class on refuge.audit_log (class, operation_id, at);

-- Loads with row_security = off, one row per statement and table.
create table refuge.audit_bulk_load (
    id               uuid primary key default gen_random_uuid(),
    at               timestamptz not null default now(),
    txid             bigint not null default txid_current(),
    actor            name not null,
    table_name       text not null,
    rows             bigint not null,
    sha256           bytea not null
);
comment on table refuge.audit_bulk_load is 'loads with row security off (pg_restore, a superuser''s COPY): who, when, which table, how many rows and the SHA-256 of their values';
alter table refuge.audit_bulk_load owner to refuge_owner;
alter table refuge.audit_bulk_load enable row level security;
alter table refuge.audit_bulk_load force row level security;
create policy owner_all on refuge.audit_bulk_load for all to refuge_owner using (true) with check (true);
grant select on refuge.audit_bulk_load to refuge_admin;
create policy admin_read on refuge.audit_bulk_load for select to refuge_admin using (true);
select pg_catalog.pg_extension_config_dump('refuge.audit_bulk_load', '');

-- The length the chain has reached (a removed tail is reported).
create sequence refuge.audit_chain_length minvalue 0 start 0;
alter sequence refuge.audit_chain_length owner to refuge_owner;
select pg_catalog.setval('refuge.audit_chain_length', coalesce((select max(seq) from refuge.audit_seal), 0), true);
select pg_catalog.pg_extension_config_dump('refuge.audit_chain_length', '');

create function refuge.audit_guard() returns trigger
    language c
    as 'MODULE_PATHNAME', 'refuge_audit_guard';
create function refuge.refuse_truncate() returns trigger
    language c
    as 'MODULE_PATHNAME', 'refuge_refuse_truncate';

create trigger guard before insert on refuge.audit_log
    for each row execute function refuge.audit_guard();
create trigger audit_flush after insert on refuge.audit_log
    for each statement execute function refuge.audit_flush();
create trigger append_only before update or delete on refuge.audit_bulk_load
    for each row execute function refuge.append_only();

-- Append-only means append-only, whatever row_security says.
create or replace function refuge.append_only() returns trigger
    language plpgsql
as $$
begin
    raise exception using errcode = '42501',
        message = format('%s is append-only: rows are never %s', tg_table_name,
                         case tg_op when 'DELETE' then 'deleted' else 'changed' end);
end
$$;

-- Case note text: size and digest only (notes are read through read_case_note).
drop trigger audit on refuge.case_note;
create trigger audit after insert or update or delete on refuge.case_note
    for each row execute function refuge.audit_row('none', 'sealed', 'body');

-- TRUNCATE refused everywhere; the audit triggers fire in every replication role.
do $guard$
declare
    t record;
begin
    for t in select c.relname from pg_catalog.pg_class c
              where c.relnamespace = 'refuge'::regnamespace and c.relkind in ('r', 'p')
    loop
        execute format('create trigger no_truncate before truncate on refuge.%I
                        for each statement execute function refuge.refuse_truncate()', t.relname);
    end loop;
    for t in select g.tgrelid::regclass as rel, g.tgname from pg_catalog.pg_trigger g
              join pg_catalog.pg_class c on c.oid = g.tgrelid
             where c.relnamespace = 'refuge'::regnamespace and not g.tgisinternal
               and g.tgname in ('stamp', 'audit', 'audit_flush', 'append_only', 'guard', 'no_truncate')
    loop
        execute format('alter table %s enable always trigger %I', t.rel, t.tgname);
    end loop;
end
$guard$;

-- Who reads which audit rows.
drop policy supervisor_read on refuge.audit_log;
drop policy admin_read on refuge.audit_log;
grant select on refuge.audit_log to refuge_biometrics_admin;
create policy supervisor_read on refuge.audit_log for select to refuge_supervisor
    using (operation_id = any ((select refuge.scope_operations())::uuid[])
           and ((module is null and class in ('registration', 'identity', 'assistance', 'access_log', 'config'))
                or module = any ((select refuge.caller_modules())::text[])));
create policy admin_read on refuge.audit_log for select to refuge_admin
    using (class = 'config');
create policy biometrics_read on refuge.audit_log for select to refuge_biometrics_admin
    using (class in ('identity', 'biometric'));
-- The chain notices a removed tail (refuge.audit_chain_length remembers how
-- far it reached), back-dated rows (dated more than a day before the seal
-- that preceded them) and rows whose class does not match their table, and
-- counts the bulk loads recorded in refuge.audit_bulk_load.

create or replace function refuge.seal_audit() returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    horizon bigint;
    low bigint;
    prev bytea;
    last_seq bigint;
    a refuge.audit_log;
    seqs bigint[] := '{}';
    ids bigint[] := '{}';
    hashes bytea[] := '{}';
    n bigint := 0;
begin
    perform refuge.authorize_any(array['refuge_admin', 'refuge_supervisor', 'refuge_dba']::name[], 'seal_audit');
    if current_setting('transaction_isolation') <> 'read committed' then
        raise exception using errcode = '25000',
            message = 'seal_audit: run it under READ COMMITTED (a batch must see the batch before it)';
    end if;
    perform pg_advisory_xact_lock(7306086141237891841);
    horizon := pg_snapshot_xmin(pg_current_snapshot())::text::bigint;
    select s.seq, s.hash into last_seq, prev from refuge.audit_seal s order by s.seq desc limit 1;
    low := refuge.audit_horizon();
    last_seq := coalesce(last_seq, 0);
    prev := coalesce(prev, refuge.audit_genesis());
    for a in select * from refuge.audit_log l
              where l.txid >= low and l.txid < horizon
                and not exists (select 1 from refuge.audit_seal s where s.audit_id = l.id)
              order by l.id
    loop
        last_seq := last_seq + 1;
        prev := refuge.audit_link(prev, last_seq, a);
        seqs := seqs || last_seq;
        ids := ids || a.id;
        hashes := hashes || prev;
        n := n + 1;
        if cardinality(seqs) >= 10000 then
            insert into refuge.audit_seal (seq, audit_id, cluster_id, horizon, hash)
            select s, i, refuge.cluster_id(), horizon, h from unnest(seqs, ids, hashes) as u(s, i, h);
            seqs := '{}'; ids := '{}'; hashes := '{}';
        end if;
    end loop;
    if cardinality(seqs) > 0 then
        insert into refuge.audit_seal (seq, audit_id, cluster_id, horizon, hash)
        select s, i, refuge.cluster_id(), horizon, h from unnest(seqs, ids, hashes) as u(s, i, h);
    end if;
    if n > 0 then
        raise log 'refuge audit chain head: seq % hash %', last_seq, encode(prev, 'hex');
        -- remembered outside the chain's tables, so that a removed tail is noticed
        perform setval('refuge.audit_chain_length', greatest(last_seq, (select c.last_value from refuge.audit_chain_length c)));
    end if;
    return jsonb_build_object('sealed', n, 'head_seq', last_seq, 'head_hash', encode(prev, 'hex'), 'horizon', horizon);
end
$$;

create or replace function refuge.verify_audit(anchor_seq bigint default null, anchor_hash text default null) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    problems jsonb;
    nproblems bigint;
    sealed bigint;
    pending bigint;
    top bigint;
    head refuge.audit_seal;
    sealing jsonb;
    reached bigint;
    loads bigint;
begin
    perform refuge.authorize_any(array['refuge_admin', 'refuge_supervisor', 'refuge_dba']::name[], 'verify_audit');
    if (anchor_seq is null) <> (anchor_hash is null) then
        perform refuge.raise_field('22004', 'anchor_hash', 'an anchor is a sequence number and its hash, both given');
    end if;
    if current_setting('transaction_isolation') = 'read committed' then
        sealing := refuge.seal_audit();
    end if;
    top := refuge.audit_horizon();
    select c.last_value into reached from refuge.audit_chain_length c;
    select count(*) into loads from refuge.audit_bulk_load;
    with chain as (
        select s.seq, s.audit_id, s.hash, s.horizon, s.cluster_id,
               lag(s.cluster_id) over w as prev_cluster,
               lag(s.seq) over w as prev_seq,
               coalesce(lag(s.hash) over w, refuge.audit_genesis()) as prev_hash,
               lag(s.horizon) over w as prev_horizon, s.sealed_at,
               max(s.sealed_at) over (order by s.sealed_at range between unbounded preceding
                                                                and interval '1 microsecond' preceding) as prev_sealed_at
          from refuge.audit_seal s
        window w as (order by s.seq)),
    found as (
        select c.seq, c.audit_id, 'seal missing before this one' as problem
          from chain c where c.seq <> coalesce(c.prev_seq, 0) + 1
        union all
        select c.seq, c.audit_id, 'sealed audit row deleted'
          from chain c where not exists (select 1 from refuge.audit_log a where a.id = c.audit_id)
        union all
        select c.seq, c.audit_id, 'audit row or seal changed'
          from chain c join refuge.audit_log a on a.id = c.audit_id
         where refuge.audit_link(c.prev_hash, c.seq, a) <> c.hash
            or a.txid >= c.horizon
            or (c.cluster_id = c.prev_cluster and c.horizon < c.prev_horizon)
        union all
        select null, a.id, 'audit row without a seal below the sealed horizon (inserted afterwards, or its seal deleted)'
          from refuge.audit_log a
         where a.txid < top and not exists (select 1 from refuge.audit_seal s where s.audit_id = a.id)
        union all
        select c.seq, c.audit_id, format('audit row dated %s, more than a day before the seal of %s that preceded it (back-dated?)',
                                         a.at, c.prev_sealed_at)
          from chain c join refuge.audit_log a on a.id = c.audit_id
         where a.at < c.prev_sealed_at - interval '1 day'
        union all
        select c.seq, c.audit_id, format('audit row dated %s, after its seal of %s', a.at, c.sealed_at)
          from chain c join refuge.audit_log a on a.id = c.audit_id
         where a.at > c.sealed_at + interval '5 minutes'
        union all
        select null, a.id, format('audit row of %s classed %s, not %s', a.table_name, a.class, coalesce(s.class, 'restricted'))
          from refuge.audit_log a left join refuge.audit_scope s on s.table_name = a.table_name
         where a.class is distinct from coalesce(s.class, 'restricted')
        union all
        select reached, null, format('the chain had reached seq %s; seals after seq %s are gone (removed or truncated)',
                                     reached, coalesce((select max(s.seq) from refuge.audit_seal s), 0))
         where reached > coalesce((select max(s.seq) from refuge.audit_seal s), 0)
        union all
        select anchor_seq, null, 'anchor does not match: the chain was rewritten up to it'
         where anchor_seq is not null
           and not exists (select 1 from refuge.audit_seal s where s.seq = anchor_seq
                                                            and encode(s.hash, 'hex') = lower(anchor_hash)))
    select coalesce(jsonb_agg(jsonb_build_object('seq', f.seq, 'audit_id', f.audit_id, 'problem', f.problem)
                              order by f.seq nulls last, f.audit_id) filter (where f.rn <= 100), '[]'),
           count(*)
      into problems, nproblems
      from (select *, row_number() over (order by seq nulls last, audit_id) as rn from found) f;
    select count(*) into sealed from refuge.audit_seal;
    select count(*) into pending from refuge.audit_log a
     where a.txid >= top and not exists (select 1 from refuge.audit_seal s where s.audit_id = a.id);
    select * into head from refuge.audit_seal s order by s.seq desc limit 1;
    return jsonb_build_object('intact', nproblems = 0, 'problem_count', nproblems, 'problems', problems,
                              'sealed_rows', sealed, 'unsealed_rows', pending, 'head_seq', head.seq,
                              'head_hash', encode(head.hash, 'hex'),
                              'sealed_now', coalesce((sealing ->> 'sealed')::bigint, 0),
                              'bulk_loads', loads);
end
$$;
-- Alerts carry opaque ids only: every NOTIFY payload (channels
-- refuge_case_alert and refuge_fraud_alert) is the alert's uuid, and
-- refuge.alert_details() returns what the caller may see of it under the
-- caller's own rights.  PostgreSQL has no LISTEN privilege, so a payload
-- must tell an eavesdropper nothing.
--
-- The overdue sweep is scoped: a supervisor sweeps the cases of the modules
-- they work in their operations; only the scheduler (refuge_dba) sweeps
-- everything.
--
-- Sharing follows consent at once: withdrawing an SGBV survivor's consent to
-- sharing revokes the case's active referrals, and a partner's read checks
-- the consent again.
--
-- Idempotent requests are keyed per caller (another login reusing a
-- request_id neither blocks nor reads the first), and import_rrf's "already
-- imported" lookup stays within the caller's operations.

create or replace function refuge.raise_case_alert(p_case refuge.process_case, p_kind text, p_message text, p_to_role name,
                                                   p_severity text default 'NORMAL', p_due timestamptz default null)
    returns uuid
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    new_id uuid;
begin
    insert into refuge.case_alert (case_id, operation_id, kind, severity, message, to_role, state, due_at, raised_by)
    values (p_case.id, p_case.operation_id, p_kind, p_severity, p_message, p_to_role, p_case.state, p_due, refuge.caller())
    on conflict do nothing
    returning id into new_id;
    if new_id is not null then
        perform pg_notify('refuge_case_alert', new_id::text);
    end if;
    return new_id;
end
$$;

-- What an alert is about, as far as the caller may see (security invoker:
-- row-level security decides).  Null when the caller may not see it.
create function refuge.alert_details(alert_id uuid) returns jsonb
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    select coalesce(
        (select jsonb_build_object('alert_id', a.id, 'channel', 'refuge_case_alert', 'kind', a.kind,
                                   'severity', a.severity, 'message', a.message, 'to_role', a.to_role,
                                   'case_id', a.case_id, 'case_number', c.number, 'module', c.module,
                                   'state', a.state, 'due_at', a.due_at, 'raised_by', a.raised_by,
                                   'raised_at', a.raised_at, 'acknowledged_at', a.acknowledged_at)
           from refuge.case_alert a join refuge.process_case c on c.id = a.case_id
          where a.id = alert_details.alert_id),
        (select jsonb_build_object('alert_id', f.id, 'channel', 'refuge_fraud_alert', 'kind', f.kind,
                                   'status', f.status, 'individual_id', f.individual_id, 'other_id', f.other_id,
                                   'raised_by', f.raised_by, 'raised_at', f.raised_at)
           from refuge.fraud_alert f
          where f.id = alert_details.alert_id));
end;
comment on function refuge.alert_details(uuid) is
    'details of an alert whose id arrived by NOTIFY (refuge_case_alert, refuge_fraud_alert), as far as the caller may see it; null otherwise';

-- The overdue sweep: supervisors sweep their modules in their operations;
-- refuge_dba (the scheduler) sweeps every open case.
create or replace function refuge.check_overdue() returns integer
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
    n integer := 0;
    everything boolean;
begin
    perform refuge.authorize_any(array['refuge_supervisor', 'refuge_dba']::name[], 'check_overdue');
    everything := refuge.caller_is_superuser() or refuge.caller_has('refuge_dba');
    for c in select * from refuge.process_case p
              where not p.closed and p.due_at < now()
                and (everything or refuge.may_work_case(p.module, p.operation_id, p.site_id))
                and not exists (select 1 from refuge.case_alert a where a.case_id = p.id and a.kind = 'OVERDUE'
                                                                 and a.due_at = p.due_at)
              order by p.due_at
    loop
        if refuge.raise_case_alert(c, 'OVERDUE',
               format('case %s is overdue in state %s since %s', c.number, c.state, to_char(c.due_at, 'YYYY-MM-DD HH24:MI')),
               coalesce(c.assigned_to, (select m.roles[1] from refuge.case_module m where m.code = c.module)),
               'HIGH', c.due_at) is not null then
            n := n + 1;
        end if;
    end loop;
    return n;
end
$$;
comment on function refuge.check_overdue() is
    'raise one OVERDUE alert per missed deadline: supervisors sweep the modules they work in their operations, refuge_dba every open case (schedule it with pg_cron)';

-- Referrals end when the survivor withdraws consent to sharing.
create or replace function refuge.revoke_referrals_without_consent(c refuge.process_case, p_reason text) returns integer
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    r refuge.case_referral;
    n integer := 0;
begin
    for r in select * from refuge.case_referral x where x.case_id = c.id and x.status = 'ACTIVE' for update loop
        update refuge.case_referral x set status = 'REVOKED', ended_by = refuge.caller(), ended_at = now(),
                                          end_reason = p_reason
         where x.id = r.id;
        perform refuge.note_case_event(c, 'REFERRAL_REVOKED', p_reason, jsonb_build_object('referral_id', r.id));
        n := n + 1;
    end loop;
    return n;
end
$$;

create function refuge.set_gbv_consent(case_id uuid, consent_services boolean, consent_sharing boolean, reason text)
    returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
    g refuge.gbv_incident;
    revoked integer := 0;
begin
    c := refuge.case_for_update(set_gbv_consent.case_id, 'set_gbv_consent');
    if c.module <> 'SGBV' then
        perform refuge.raise_field('22023', 'case_id', format('case %s is a %s case, not SGBV', c.number, c.module));
    end if;
    if consent_services is null or consent_sharing is null then
        perform refuge.raise_field('22004', case when consent_services is null then 'consent_services' else 'consent_sharing' end,
                                   'is required (true or false)');
    end if;
    perform refuge.require_text(reason, 'reason');
    select * into g from refuge.gbv_incident x where x.case_id = c.id for update;
    if not found then
        perform refuge.raise_field('P0002', 'case_id', format('case %s has no incident recorded', c.number));
    end if;
    update refuge.gbv_incident x set consent_services = set_gbv_consent.consent_services,
                                     consent_sharing = set_gbv_consent.consent_sharing
     where x.case_id = c.id;
    perform refuge.note_case_event(c, 'CONSENT_CHANGED', reason,
        jsonb_build_object('consent_services', consent_services, 'consent_sharing', consent_sharing));
    if not consent_sharing then
        revoked := refuge.revoke_referrals_without_consent(c, 'consent to sharing withdrawn: ' || reason);
    end if;
    return jsonb_build_object('case_id', c.id, 'number', c.number, 'consent_services', consent_services,
                              'consent_sharing', consent_sharing, 'referrals_revoked', revoked);
end
$$;
comment on function refuge.set_gbv_consent(uuid, boolean, boolean, text) is
    'record a change of an SGBV survivor''s consent; withdrawing consent to sharing revokes the case''s active referrals at once';

create or replace function refuge.record_gbv_incident(case_id uuid, incident jsonb) returns void
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
    vt text;
    details jsonb;
begin
    c := refuge.case_for_update(record_gbv_incident.case_id, 'record_gbv_incident');
    if c.module <> 'SGBV' then
        perform refuge.raise_field('22023', 'case_id', format('case %s is a %s case, not SGBV', c.number, c.module));
    end if;
    perform refuge.arg_fields(incident, 'incident', array['violence_type', 'incident_date', 'consent_services',
        'consent_sharing', 'narrative', 'location', 'perpetrator', 'reported_on']);
    vt := refuge.arg_text(incident, 'violence_type', 'incident', true, 40);
    if vt not in ('RAPE', 'SEXUAL_ASSAULT', 'PHYSICAL_ASSAULT', 'FORCED_MARRIAGE', 'DENIAL_OF_RESOURCES',
                  'PSYCHOLOGICAL_ABUSE', 'NON_GBV') then
        perform refuge.raise_field('22023', 'incident.violence_type', format('"%s" is not a GBVIMS type (RAPE, SEXUAL_ASSAULT, '
            'PHYSICAL_ASSAULT, FORCED_MARRIAGE, DENIAL_OF_RESOURCES, PSYCHOLOGICAL_ABUSE, NON_GBV)', vt));
    end if;
    if refuge.arg_bool(incident, 'consent_services', 'incident') is null then
        perform refuge.raise_field('22004', 'incident.consent_services', 'is required (true or false)');
    end if;
    if refuge.arg_bool(incident, 'consent_sharing', 'incident') is null then
        perform refuge.raise_field('22004', 'incident.consent_sharing', 'is required (true or false)');
    end if;
    details := jsonb_strip_nulls(jsonb_build_object('narrative', refuge.arg_text(incident, 'narrative', 'incident', true),
        'location', refuge.arg_text(incident, 'location', 'incident'),
        'perpetrator', refuge.arg_text(incident, 'perpetrator', 'incident')));
    insert into refuge.gbv_incident as g (case_id, violence_type, incident_date, reported_on, consent_services,
                                          consent_sharing, sealed)
    values (c.id, vt, refuge.arg_date(incident, 'incident_date', 'incident', false, false),
            coalesce(refuge.arg_date(incident, 'reported_on', 'incident', false, false), current_date),
            (incident ->> 'consent_services')::boolean, (incident ->> 'consent_sharing')::boolean,
            refuge.vault_seal(convert_to(details::text, 'UTF8'), 'gbv_incident:' || c.id))
    on conflict on constraint gbv_incident_pkey do update
       set violence_type = excluded.violence_type, incident_date = excluded.incident_date,
           reported_on = excluded.reported_on, consent_services = excluded.consent_services,
           consent_sharing = excluded.consent_sharing, sealed = excluded.sealed;
    perform refuge.note_case_event(c, 'INCIDENT_RECORDED', null,
        jsonb_build_object('violence_type', vt, 'consent_services', incident -> 'consent_services',
                           'consent_sharing', incident -> 'consent_sharing'));
    if not (incident ->> 'consent_sharing')::boolean then
        perform refuge.revoke_referrals_without_consent(c, 'no consent to sharing');
    end if;
end
$$;

create or replace function refuge.referred_case(referral_id uuid, purpose text default null) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    r refuge.case_referral;
    c refuge.process_case;
    res jsonb;
    g refuge.gbv_incident;
begin
    perform refuge.authorize('refuge_partner', 'referred_case');
    select * into r from refuge.case_referral x where x.id = referral_id;
    if not found or r.partner_id is distinct from refuge.caller_partner() then
        perform refuge.raise_field('P0002', 'referral_id', 'not found among your organisation''s referrals');
    end if;
    select * into c from refuge.process_case p where p.id = r.case_id;
    -- consent is checked at every read, not only when the case was referred
    if r.status = 'ACTIVE' and c.module = 'SGBV'
       and not coalesce((select gi.consent_sharing from refuge.gbv_incident gi where gi.case_id = c.id), false) then
        raise exception using errcode = '42501',
            message = format('referred_case: referral %s ended: the survivor has not consented to sharing', r.id);
    end if;
    if r.status <> 'ACTIVE' or (r.valid_until is not null and r.valid_until < current_date) then
        raise exception using errcode = '42501',
            message = format('referred_case: referral %s is %s', r.id,
                             case when r.status <> 'ACTIVE' then lower(r.status) else 'expired' end);
    end if;
    perform refuge.log_sensitive_read('referral', r.id, c, coalesce(purpose, r.purpose));
    res := jsonb_build_object('referral_id', r.id, 'fields', r.fields);
    if 'CASE' = any (r.fields) then
        res := res || jsonb_build_object('case_number', c.number, 'module', c.module, 'state', c.state, 'due_at', c.due_at);
    end if;
    if 'CASE_DATA' = any (r.fields) then
        res := res || jsonb_build_object('data', c.data);
    end if;
    if r.fields && array['MEMBERS', 'CONTACTS', 'SPECIFIC_NEEDS'] then
        res := res || jsonb_build_object('members', (
            select jsonb_agg(jsonb_strip_nulls(
                     case when 'MEMBERS' = any (r.fields) then
                         jsonb_build_object('given_name', i.given_name, 'family_name', i.family_name, 'sex', i.sex,
                                            'date_of_birth', i.date_of_birth, 'role', cm.role,
                                            'relationship', cm.relationship)
                     else jsonb_build_object('role', cm.role) end
                   || case when 'CONTACTS' = any (r.fields) then jsonb_build_object('contacts',
                          (select jsonb_agg(jsonb_build_object('type', k.contact_type, 'value', k.value))
                             from refuge.individual_contact k where k.individual_id = i.id and k.still_in_use))
                      else '{}' end
                   || case when 'SPECIFIC_NEEDS' = any (r.fields) then jsonb_build_object('specific_needs',
                          (select jsonb_agg(coalesce(n.code, n.category) order by n.category)
                             from refuge.specific_need n where n.individual_id = i.id and n.active))
                      else '{}' end) order by cm.role desc, i.date_of_birth)
              from refuge.case_member cm join refuge.individual i on i.id = cm.individual_id
             where cm.case_id = c.id));
    end if;
    if 'NOTES' = any (r.fields) then
        res := res || jsonb_build_object('notes', (
            select jsonb_agg(jsonb_build_object('kind', n.kind, 'at', n.created_at, 'text', n.body) order by n.created_at)
              from refuge.case_note n where n.case_id = c.id and not n.confidential));
    end if;
    if 'INCIDENT' = any (r.fields) then
        select * into g from refuge.gbv_incident x where x.case_id = c.id and x.consent_sharing;
        if found then
            res := res || jsonb_build_object('incident', jsonb_build_object('violence_type', g.violence_type,
                'incident_date', g.incident_date, 'reported_on', g.reported_on)
                || convert_from(refuge.vault_open(g.sealed, 'gbv_incident:' || c.id), 'UTF8')::jsonb);
        end if;
    end if;
    return res;
end
$$;

create or replace function refuge.referred_cases()
    returns table (referral_id uuid, case_number text, module text, fields text[], purpose text,
                   referred_at timestamptz, valid_until date)
    language sql stable security definer
    set search_path = pg_catalog, pg_temp
begin atomic
    select r.id, c.number, c.module, r.fields, r.purpose, r.referred_at, r.valid_until
      from refuge.case_referral r join refuge.process_case c on c.id = r.case_id
     where r.partner_id = refuge.caller_partner() and r.status = 'ACTIVE'
       and (r.valid_until is null or r.valid_until >= current_date)
       and (c.module <> 'SGBV'
            or coalesce((select g.consent_sharing from refuge.gbv_incident g where g.case_id = c.id), false))
     order by r.referred_at;
end;

-- Idempotent requests: keyed by caller and request id.
alter table refuge.api_request drop constraint api_request_pkey;
alter table refuge.api_request add primary key (caller, request_id);

create or replace function refuge.claim_request(p_request uuid, p_function text, p_payload jsonb) returns jsonb
    language plpgsql
as $$
declare
    h bytea := sha256(convert_to(p_payload::text, 'UTF8'));
    prior refuge.api_request;
begin
    if p_request is null then
        return null;
    end if;
    -- a concurrent twin of the same caller waits here until the first commits or aborts
    insert into refuge.api_request (request_id, function_name, caller, payload_hash, result)
    values (p_request, p_function, refuge.caller(), h, '{}')
    on conflict (caller, request_id) do nothing;
    if found then
        return null;
    end if;
    select * into prior from refuge.api_request a where a.caller = refuge.caller() and a.request_id = p_request;
    if prior.function_name <> p_function or prior.payload_hash <> h then
        perform refuge.raise_field('23505', 'request_id',
            format('%s was already used for a different request', p_request),
            'use a new request id for a new request; repeat the same payload to retry');
    end if;
    return prior.result || '{"replayed": true}';
end
$$;

create or replace function refuge.finish_request(p_request uuid, p_result jsonb) returns jsonb
    language plpgsql
as $$
begin
    if p_request is not null then
        update refuge.api_request a set result = p_result
         where a.caller = refuge.caller() and a.request_id = p_request;
    end if;
    return p_result || '{"replayed": false}';
end
$$;

create or replace function refuge.import_rrf(document xml) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    kase xml;
    ind xml;
    n xml;
    guid text;
    pg xml;
    asylum text;
    op refuge.operation;
    site_code text;
    members jsonb := '[]';
    m jsonb;
    i integer := 0;
    rel text;
    done jsonb;
    reg jsonb;
    ids jsonb;
    principal uuid;
    c jsonb;
    existing refuge.process_case;
    p text;
begin
    perform refuge.authorize('refuge_registration', 'import_rrf');
    perform refuge.authorize('refuge_resettlement', 'import_rrf');
    if document is null or not xml_is_well_formed_document(document::text) then
        perform refuge.raise_field('22023', 'document', 'is not a well-formed XML document');
    end if;
    if (xpath('local-name(/*)', document))[1]::text <> 'UNHCR_RRF' then
        perform refuge.raise_field('22023', 'document', format('the root element is %s, not UNHCR_RRF',
                                                               (xpath('local-name(/*)', document))[1]));
    end if;
    if cardinality(refuge.rrf_nodes(document, 'CASE')) <> 1 then
        perform refuge.raise_field('22023', 'UNHCR_RRF.CASE', format('%s cases in the file: import one case per call',
                                                                     cardinality(refuge.rrf_nodes(document, 'CASE'))));
    end if;
    if refuge.rrf_text((refuge.rrf_nodes(document, 'RRFBATCHTYPE'))[1], 'GroupIndividualIndicator')
       is distinct from 'Single Submission' and
       refuge.rrf_text((refuge.rrf_nodes(document, 'RRFBATCHTYPE'))[1], 'GroupIndividualIndicator')
       is distinct from 'Group Submission' then
        perform refuge.raise_field('22023', 'UNHCR_RRF.RRFBATCHTYPE.GroupIndividualIndicator',
                                   'is not "Single Submission" or "Group Submission"');
    end if;
    kase := (refuge.rrf_nodes(document, 'CASE'))[1];
    pg := (refuge.rrf_nodes(kase, 'dataProcessGroup'))[1];
    if pg is null then
        perform refuge.raise_field('22023', 'CASE.dataProcessGroup', 'is missing (required by the eRRF v4 schema)');
    end if;
    perform refuge.rrf_check(pg, 'CASE.dataProcessGroup', array['ProcessingGroupGUID', 'ProcessingGroupNumber', 'ProcessingGroupSize']);
    guid := refuge.rrf_text(pg, 'ProcessingGroupGUID');
    if guid !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
        perform refuge.raise_field('22023', 'CASE.dataProcessGroup.ProcessingGroupGUID', format('"%s" is not a GUID', guid));
    end if;
    -- the same case imported before
    select * into existing from refuge.process_case x
     where x.module = 'RESETTLEMENT' and x.data ->> 'source_case_guid' = lower(guid)
       and refuge.in_scope(x.operation_id, x.site_id);
    if found then
        return jsonb_build_object('status', 'exists', 'case_id', existing.id, 'number', existing.number);
    end if;
    if cardinality(refuge.rrf_nodes(kase, 'dataResettlement')) <> 1 then
        perform refuge.raise_field('22023', 'CASE.dataResettlement', 'must appear once (required by the eRRF v4 schema)');
    end if;
    perform refuge.rrf_check((refuge.rrf_nodes(kase, 'dataResettlement'))[1], 'CASE.dataResettlement',
                             array['IndividualGUID', 'ResettlementCriteriaCode', 'ResettlementPriorityCode']);
    if cardinality(refuge.rrf_nodes(kase, 'dataIndividual')) = 0 then
        perform refuge.raise_field('22023', 'CASE.dataIndividual', 'is missing: a case has at least one individual');
    end if;
    foreach ind in array refuge.rrf_nodes(kase, 'dataIndividual') loop
        p := format('CASE.dataIndividual[%s]', i);
        perform refuge.rrf_check(ind, p, array['IndividualGUID', 'IndividualID', 'FamilyName', 'RegistrationDate',
            'DateofBirthEstimate', 'BirthCountryCode', 'OriginCountryCode', 'AsylumCountryCode', 'SexCode', 'NationalityCode',
            'MarriageStatusCode', 'ReligionCode', 'EthnicityCode', 'EducationLevelCode'],
            array['RegistrationDate', 'DateofBirth', 'ArrivalDate'], array['DateofBirthEstimate']);
        guid := refuge.rrf_text(ind, 'IndividualGUID');
        rel := (select refuge.rrf_text(x, 'RelationshipToPrincipalRepresentative')
                  from unnest(refuge.rrf_nodes(kase, 'dataIndividualProcessGroup')) x
                 where refuge.rrf_text(x, 'IndividualGUID') = guid limit 1);
        if rel is null then
            perform refuge.raise_field('22023', p || '.IndividualGUID',
                format('%s has no dataIndividualProcessGroup (relationship to the principal representative)', guid));
        end if;
        asylum := coalesce(asylum, refuge.from_progres('country', refuge.rrf_text(ind, 'AsylumCountryCode'), p || '.AsylumCountryCode'));
        m := jsonb_strip_nulls(jsonb_build_object(
            'relationship', refuge.from_progres('relationship', rel, p || '.RelationshipToPrincipalRepresentative'),
            'family_name', refuge.rrf_text(ind, 'FamilyName'),
            'second_family_name', refuge.rrf_text(ind, 'SecondFamilyName'),
            'given_name', refuge.rrf_text(ind, 'GivenName'), 'middle_name', refuge.rrf_text(ind, 'MiddleName'),
            'maiden_name', refuge.rrf_text(ind, 'MaidenName'),
            'mother_name', refuge.rrf_text(ind, 'MotherName'), 'father_name', refuge.rrf_text(ind, 'FatherName'),
            'sex', refuge.from_progres('sex', refuge.rrf_text(ind, 'SexCode'), p || '.SexCode'),
            'date_of_birth', left(refuge.rrf_text(ind, 'DateofBirth'), 10),
            'dob_precision', case when refuge.rrf_text(ind, 'DateofBirth') is null then null
                                  when refuge.rrf_text(ind, 'DateofBirthEstimate') in ('1', 'true') then 'ESTIMATED'
                                  else 'EXACT' end,
            'place_of_birth', refuge.rrf_text(ind, 'BirthCityTownVillage'),
            'birth_country', refuge.from_progres('country', refuge.rrf_text(ind, 'BirthCountryCode'), p || '.BirthCountryCode'),
            'origin_country', refuge.from_progres('country', refuge.rrf_text(ind, 'OriginCountryCode'), p || '.OriginCountryCode'),
            'arrival_date', left(refuge.rrf_text(ind, 'ArrivalDate'), 10),
            'marital_status', refuge.from_progres('marital_status', refuge.rrf_text(ind, 'MarriageStatusCode'), p || '.MarriageStatusCode'),
            'religion', refuge.from_progres('religion', refuge.rrf_text(ind, 'ReligionCode'), p || '.ReligionCode'),
            'ethnicity', refuge.from_progres('ethnicity', refuge.rrf_text(ind, 'EthnicityCode'), p || '.EthnicityCode'),
            'education_level', refuge.from_progres('education_level', refuge.rrf_text(ind, 'EducationLevelCode'), p || '.EducationLevelCode'),
            'nationalities', (select jsonb_agg(x) from (select refuge.from_progres('country', refuge.rrf_text(ind, 'NationalityCode'),
                                                                                   p || '.NationalityCode') x) y where x is not null),
            'names', (select jsonb_agg(jsonb_strip_nulls(jsonb_build_object('kind', 'ALIAS',
                              'family_name', refuge.rrf_text(a, 'IndividualAliasLastName'),
                              'given_name', refuge.rrf_text(a, 'IndividualAliasFirstName'))))
                        from unnest(refuge.rrf_nodes(kase, 'dataAlias')) a where refuge.rrf_text(a, 'IndividualGUID') = guid),
            'languages', (select jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                              'language', refuge.from_progres('language', refuge.rrf_text(l, 'LanguageCode'), 'CASE.dataLanguage.LanguageCode'),
                              'read', refuge.from_progres('language_level', refuge.rrf_text(l, 'LanguageReadCode'), 'CASE.dataLanguage.LanguageReadCode'),
                              'write', refuge.from_progres('language_level', refuge.rrf_text(l, 'LanguageWriteCode'), 'CASE.dataLanguage.LanguageWriteCode'),
                              'speak', refuge.from_progres('language_level', refuge.rrf_text(l, 'LanguageSpeakCode'), 'CASE.dataLanguage.LanguageSpeakCode'),
                              'understand', refuge.from_progres('language_level', refuge.rrf_text(l, 'LanguageUnderstandCode'), 'CASE.dataLanguage.LanguageUnderstandCode'))))
                            from unnest(refuge.rrf_nodes(kase, 'dataLanguage')) l
                           where refuge.rrf_text(l, 'IndividualGUID') = guid
                             and refuge.from_progres('language', refuge.rrf_text(l, 'LanguageCode'), 'CASE.dataLanguage.LanguageCode') is not null),
            'education', (select jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                              'level', refuge.from_progres('education_level', refuge.rrf_text(e, 'EducationLevelCode'), 'CASE.dataEducation.EducationLevelCode'),
                              'degree', refuge.from_progres('education_degree', refuge.rrf_text(e, 'DegreeTypeCode'), 'CASE.dataEducation.DegreeTypeCode'))))
                            from unnest(refuge.rrf_nodes(kase, 'dataEducation')) e
                           where refuge.rrf_text(e, 'IndividualGUID') = guid
                             and refuge.from_progres('education_level', refuge.rrf_text(e, 'EducationLevelCode'), 'CASE.dataEducation.EducationLevelCode') is not null),
            'occupations', (select jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                              'kind', case refuge.rrf_text(w, 'EmploymentTypeCode') when 'E' then 'EMPLOYED' when 'NE' then 'NOT_EMPLOYED' else 'SKILL' end,
                              'occupation', refuge.from_progres('occupation', refuge.rrf_text(w, 'OccupationCode'), 'CASE.dataEmployment.OccupationCode'),
                              'title', refuge.rrf_text(w, 'OccupationText'))))
                              from unnest(refuge.rrf_nodes(kase, 'dataEmployment')) w where refuge.rrf_text(w, 'IndividualGUID') = guid),
            'addresses', (select jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                              'type', (select pc.code from refuge.progres_code pc where pc.domain = 'address_type'
                                        and lower(pc.progres_code) = lower(refuge.rrf_text(a, 'AddressType'))),
                              'country', refuge.from_progres('country', refuge.rrf_text(a, 'AddressCountry'), 'CASE.dataAddress.AddressCountry'),
                              'level1', refuge.rrf_text(a, 'LocationLevel1Description'), 'level2', refuge.rrf_text(a, 'LocationLevel2Description'),
                              'level3', refuge.rrf_text(a, 'LocationLevel3Description'), 'level4', refuge.rrf_text(a, 'LocationLevel4Description'),
                              'level5', refuge.rrf_text(a, 'LocationLevel5Description'), 'level6', refuge.rrf_text(a, 'LocationLevel6'))))
                            from unnest(refuge.rrf_nodes(kase, 'dataAddress')) a where refuge.rrf_text(a, 'IndividualGUID') = guid),
            'specific_needs', (select jsonb_agg(jsonb_build_object('category',
                              refuge.from_progres('vulnerability', refuge.rrf_text(v, 'VulnerabilityCode'), 'CASE.dataVulnerability.VulnerabilityCode')))
                                 from unnest(refuge.rrf_nodes(kase, 'dataVulnerability')) v
                                where refuge.rrf_text(v, 'IndividualGUID') = guid)))
            || jsonb_build_object('ref', guid);
        if m ->> 'relationship' = 'PA' then
            members := jsonb_build_array(m) || members;
        else
            members := members || m;
        end if;
        i := i + 1;
    end loop;
    -- the operation of the country of asylum the caller works in, and a site of it
    select o.* into op from refuge.operation o
     where o.country = asylum and o.active and refuge.in_scope(o.id)
     order by o.code limit 1;
    if not found then
        perform refuge.raise_field('23503', 'CASE.dataIndividual.AsylumCountryCode',
            format('no operation in %s that you are assigned to', coalesce(asylum, 'an unknown country')));
    end if;
    select s.code into site_code from refuge.site s
     where s.operation_id = op.id and s.active
     order by s.id = any (refuge.scope_sites()) desc, s.code limit 1;
    reg := refuge.register_group(jsonb_build_object(
        'request_id', refuge.derived_uuid(lower(refuge.rrf_text(pg, 'ProcessingGroupGUID'))::uuid, '00000000-0000-0000-0000-00000000e44f'),
        'operation', op.code, 'site', site_code, 'registration_level', 'COMPREHENSIVE', 'population_type', 'REF',
        'registration_date', left(refuge.rrf_text((refuge.rrf_nodes(kase, 'dataIndividual'))[1], 'RegistrationDate'), 10),
        'members', (select jsonb_agg(x - 'ref') from jsonb_array_elements(members) x)));
    -- members in the order given: the result lists them in the same order
    principal := (reg -> 'members' -> 0 ->> 'individual_id')::uuid;
    c := refuge.open_case('RESETTLEMENT', principal,
        array(select (x ->> 'individual_id')::uuid from jsonb_array_elements(reg -> 'members') x),
        jsonb_strip_nulls(jsonb_build_object(
            'submission_category', refuge.from_progres('resettlement_criteria',
                refuge.rrf_text((refuge.rrf_nodes(kase, 'dataResettlement'))[1], 'ResettlementCriteriaCode'),
                'CASE.dataResettlement.ResettlementCriteriaCode'),
            'secondary_category', refuge.from_progres('resettlement_criteria',
                refuge.rrf_text((refuge.rrf_nodes(kase, 'dataResettlement'))[1], 'ResettlementCriteria2Code'),
                'CASE.dataResettlement.ResettlementCriteria2Code'),
            'priority', refuge.from_progres('resettlement_priority',
                refuge.rrf_text((refuge.rrf_nodes(kase, 'dataResettlement'))[1], 'ResettlementPriorityCode'),
                'CASE.dataResettlement.ResettlementPriorityCode'),
            'source_case_guid', lower(refuge.rrf_text(pg, 'ProcessingGroupGUID')),
            'source_case_number', refuge.rrf_text(pg, 'ProcessingGroupNumber'),
            'identification_method', 'PARTNER_REFERRAL')),
        'imported from eRRF case ' || refuge.rrf_text(pg, 'ProcessingGroupNumber'));
    return jsonb_build_object('status', 'imported', 'case_id', c -> 'case_id', 'number', c -> 'number',
                              'group_id', reg -> 'group_id', 'operation', op.code, 'site', site_code,
                              'members', jsonb_array_length(reg -> 'members'),
                              'source_case_number', refuge.rrf_text(pg, 'ProcessingGroupNumber'));
end
$$;

-- A transfer carries its case's module, so that the receiving side's policy
-- needs no function that would tell anyone the module of any case.
alter table refuge.case_transfer add column module text;
update refuge.case_transfer t set module = c.module from refuge.process_case c where c.id = t.case_id;
alter table refuge.case_transfer alter column module set not null;
create or replace function refuge.set_transfer_module() returns trigger
    language plpgsql
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    select c.module into new.module from refuge.process_case c where c.id = new.case_id;
    return new;
end
$$;
create trigger set_module before insert on refuge.case_transfer
    for each row execute function refuge.set_transfer_module();
drop policy module_read on refuge.case_transfer;
create policy module_read on refuge.case_transfer for select
    to refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection, refuge_assistance, refuge_supervisor
    using (exists (select 1 from refuge.process_case c where c.id = case_transfer.case_id)
           or (module = any ((select refuge.caller_modules())::text[])
               and (to_operation = any ((select refuge.scope_operations())::uuid[])
                    or to_site = any ((select refuge.scope_sites())::uuid[]))));
revoke execute on function refuge.case_module_of(uuid) from refuge_rsd, refuge_resettlement, refuge_protection,
    refuge_child_protection, refuge_assistance, refuge_supervisor, refuge_partner;
-- A vulnerability assessment reads the members' specific needs: it is
-- logged (durably, before the score is shown) and the score names no need
-- category, only their combined weight (SPECIFIC_NEEDS).  The breakdown by
-- category is for those who may read specific needs: registration staff and
-- supervisors of the case's operation, through a logged read.

create or replace function refuge.vulnerability_score(case_id uuid, answers jsonb) returns jsonb
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    k text;
    v jsonb;
    factors jsonb := '{}';
    score numeric;
    adults integer;
    dependants integer;
    members integer;
begin
    if answers is null or jsonb_typeof(answers) <> 'object' then
        perform refuge.raise_field('22023', 'data.answers', 'expected an object of answers, e.g. {"NO_INCOME": true}');
    end if;
    for k, v in select * from jsonb_each(answers) loop
        if not exists (select 1 from refuge.vulnerability_factor f where f.code = k and f.kind = 'ANSWER') then
            perform refuge.raise_field('22023', 'data.answers.' || k, format('is not a question of the model (%s)',
                (select string_agg(f.code, ', ' order by f.code) from refuge.vulnerability_factor f where f.kind = 'ANSWER')));
        end if;
        if jsonb_typeof(v) <> 'boolean' then
            perform refuge.raise_field('22023', 'data.answers.' || k, 'expected true or false');
        end if;
        if v = 'true' then
            factors := factors || jsonb_build_object(k, (select f.weight from refuge.vulnerability_factor f where f.code = k));
        end if;
    end loop;
    -- members' needs count as one factor: which categories they are is for
    -- those who may read specific needs (refuge.vulnerability_factors)
    factors := factors || coalesce((select jsonb_build_object('SPECIFIC_NEEDS', sum(f.weight))
        from refuge.vulnerability_factor f
       where f.kind = 'NEED'
         and exists (select 1 from refuge.case_member cm join refuge.specific_need n on n.individual_id = cm.individual_id
                     where cm.case_id = vulnerability_score.case_id and n.category = f.code and n.active)
      having count(*) > 0), '{}');
    select count(*), count(*) filter (where a.age between 18 and 59), count(*) filter (where a.age < 18 or a.age >= 60)
      into members, adults, dependants
      from refuge.process_case c
      join refuge.group_membership gm on gm.group_id = c.group_id and gm.valid_to is null
      join refuge.individual i on i.id = gm.individual_id and i.status = 'ACTIVE',
           lateral (select extract(year from age(current_date, i.date_of_birth))::integer as age) a
     where c.id = vulnerability_score.case_id;
    if members >= 7 then
        factors := factors || (select jsonb_build_object(f.code, f.weight) from refuge.vulnerability_factor f where f.code = 'LARGE_HOUSEHOLD');
    end if;
    if dependants > 2 * greatest(adults, 0) and dependants > 0 then
        factors := factors || (select jsonb_build_object(f.code, f.weight) from refuge.vulnerability_factor f where f.code = 'HIGH_DEPENDENCY');
    end if;
    select coalesce(sum(x.value::numeric), 0) into score from jsonb_each_text(factors) x;
    return jsonb_build_object('score', score, 'factors', factors, 'household_size', members,
        'risk_level', case when score >= (select weight from refuge.vulnerability_factor where code = 'HIGH') then 'HIGH'
                           when score >= (select weight from refuge.vulnerability_factor where code = 'MEDIUM') then 'MEDIUM'
                           else 'LOW' end);
end
$$;

create or replace function refuge.apply_transition(c refuge.process_case, t refuge.workflow_transition, d jsonb, p_reason text,
                                        p_actor name, p_approval uuid)
    returns jsonb
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    computed jsonb := '{}';
    newdata jsonb;
    target refuge.workflow_state;
    r refuge.process_case;
begin
    if c.module = 'VULNERABILITY' and d ? 'answers' then
        -- the score reads the members' specific needs: logged first, rollback or not
        perform refuge.log_sensitive_read('vulnerability_assessment', c.id, c, 'vulnerability assessment ' || c.number);
        computed := refuge.vulnerability_score(c.id, d -> 'answers');
    end if;
    newdata := c.data || t.sets || d || computed;
    select * into target from refuge.workflow_state s where s.module = c.module and s.code = t.to_state;
    update refuge.process_case p
       set state = t.to_state, closed = target.closed, state_since = now(), data = newdata,
           due_at = refuge.case_due(c.module, t.to_state, d)
     where p.id = c.id
    returning * into r;
    insert into refuge.case_event (case_id, actor, action, from_state, to_state, reason, data, approval_id)
    values (c.id, p_actor, t.action, c.state, t.to_state, p_reason, t.sets || d || computed, p_approval);
    -- a missed deadline of the state left behind is no longer pending
    update refuge.case_alert a set acknowledged_by = refuge.caller(), acknowledged_at = now()
     where a.case_id = c.id and a.kind = 'OVERDUE' and a.acknowledged_at is null;
    return jsonb_build_object('case_id', r.id, 'number', r.number, 'status', 'done', 'action', t.action,
                              'from_state', c.state, 'state', r.state, 'closed', r.closed, 'due_at', r.due_at);
end
$$;

create function refuge.vulnerability_factors(case_id uuid, purpose text) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
begin
    perform refuge.authorize('refuge_registration', 'vulnerability_factors');
    select * into c from refuge.process_case p where p.id = vulnerability_factors.case_id;
    if not found or c.module <> 'VULNERABILITY' or not refuge.in_scope(c.operation_id, c.site_id) then
        perform refuge.raise_field('P0002', 'case_id', 'not found in your operations');
    end if;
    perform refuge.log_sensitive_read('vulnerability_assessment', c.id, c, purpose);
    return jsonb_build_object('case_id', c.id, 'number', c.number, 'needs',
        coalesce((select jsonb_object_agg(f.code, f.weight)
                    from refuge.vulnerability_factor f
                   where f.kind = 'NEED'
                     and exists (select 1 from refuge.case_member cm
                                   join refuge.specific_need n on n.individual_id = cm.individual_id
                                  where cm.case_id = c.id and n.category = f.code and n.active)), '{}'));
end
$$;
comment on function refuge.vulnerability_factors(uuid, text) is
    'the specific-need categories behind a vulnerability score, with their weights (registration staff and supervisors of the operation; logged)';
-- Status and legal standing are not one person's edit.  A registration
-- clerk moves a record between ACTIVE, INACTIVE and HOLD (seen again, not
-- seen at verification); closing it, reopening it, or changing its
-- population type (asylum-seeker to refugee, ...) is requested with
-- refuge.request_status_change() and takes effect when a supervisor of the
-- operation, not the requester, approves it.  A record closed as a
-- duplicate by adjudication changes only through adjudication.

create table refuge.status_change (
    id                   uuid primary key default gen_random_uuid(),
    individual_id        uuid not null references refuge.individual,
    operation_id         uuid not null references refuge.operation,
    site_id              uuid not null,
    from_status          text not null,
    to_status            text not null,
    from_population_type text not null,
    to_population_type   text not null,
    reason               text not null,
    status               text not null default 'REQUESTED' check (status in ('REQUESTED', 'APPROVED', 'REJECTED')),
    requested_by         name not null,
    requested_at         timestamptz not null default now(),
    decided_by           name,
    decided_at           timestamptz,
    decision_comment     text,
    created_at           timestamptz not null default now(),
    created_by           name not null default current_user,
    updated_at           timestamptz not null default now(),
    updated_by           name not null default current_user,
    foreign key (operation_id, site_id) references refuge.site (operation_id, id),
    check ((status = 'REQUESTED') = (decided_by is null))
);
create unique index status_change_one_pending on refuge.status_change (individual_id) where status = 'REQUESTED';
create index on refuge.status_change (operation_id, status);
comment on table refuge.status_change is 'requested changes of an individual''s status or population type, decided by a supervisor who is not the requester';
insert into refuge.audit_scope (table_name, class) values ('status_change', 'registration');
create trigger stamp before insert or update on refuge.status_change
    for each row execute function refuge.stamp_row();
create trigger audit after insert or update or delete on refuge.status_change
    for each row execute function refuge.audit_row('self');
create trigger audit_flush after insert or update or delete on refuge.status_change
    for each statement execute function refuge.audit_flush();
create trigger no_truncate before truncate on refuge.status_change
    for each statement execute function refuge.refuse_truncate();
alter table refuge.status_change enable always trigger stamp;
alter table refuge.status_change enable always trigger audit;
alter table refuge.status_change enable always trigger audit_flush;
alter table refuge.status_change enable always trigger no_truncate;
select pg_catalog.pg_extension_config_dump('refuge.status_change', '');

create function refuge.request_status_change(individual_id uuid, status text default null,
                                             population_type text default null, reason text default null)
    returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    cur refuge.individual;
    new_status text;
    new_type text;
    new_id uuid;
begin
    cur := refuge.individual_for_update(request_status_change.individual_id, 'refuge_registration', 'request_status_change');
    new_status := coalesce(status, cur.status);
    new_type := coalesce(population_type, cur.population_type);
    if not refuge.code_exists('individual_status', new_status) then
        perform refuge.raise_field('23503', 'status', format('unknown code "%s"', left(new_status, 40)));
    end if;
    if not refuge.code_exists('population_type', new_type) then
        perform refuge.raise_field('23503', 'population_type', format('unknown code "%s"', left(new_type, 40)));
    end if;
    if new_status = cur.status and new_type = cur.population_type then
        perform refuge.raise_field('22023', 'status', format('%s is already %s, %s', cur.number, cur.status, cur.population_type));
    end if;
    if cur.status = 'DUPLICATE' or new_status = 'DUPLICATE' then
        perform refuge.raise_field('42501', 'status',
            format('%s: a record closed as a duplicate changes only through adjudication (refuge.adjudicate)', cur.number));
    end if;
    perform refuge.require_text(reason, 'reason');
    insert into refuge.status_change (individual_id, operation_id, site_id, from_status, to_status, from_population_type,
                                      to_population_type, reason, requested_by)
    values (cur.id, cur.operation_id, cur.site_id, cur.status, new_status, cur.population_type, new_type,
            left(btrim(reason), 2000), refuge.caller())
    returning id into new_id;
    return jsonb_build_object('change_id', new_id, 'number', cur.number, 'status', 'requested',
                              'from', jsonb_build_object('status', cur.status, 'population_type', cur.population_type),
                              'to', jsonb_build_object('status', new_status, 'population_type', new_type));
exception when unique_violation then
    perform refuge.raise_field('23505', 'individual_id', format('%s already has a status change awaiting a decision', cur.number));
end
$$;
comment on function refuge.request_status_change(uuid, text, text, text) is
    'request a change of an individual''s status or population type; a supervisor of the operation who is not the requester decides';

create function refuge.decide_status_change(change_id uuid, approve boolean, comment text default null) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    ch refuge.status_change;
    cur refuge.individual;
begin
    perform refuge.authorize('refuge_supervisor', 'decide_status_change');
    if approve is null then
        perform refuge.raise_field('22004', 'approve', 'is required (true or false)');
    end if;
    select * into ch from refuge.status_change x where x.id = change_id;
    if not found or not refuge.in_scope(ch.operation_id, ch.site_id) then
        perform refuge.raise_field('P0002', 'change_id', 'not found in your operations');
    end if;
    cur := refuge.individual_for_update(ch.individual_id, 'refuge_supervisor', 'decide_status_change');
    select * into ch from refuge.status_change x where x.id = change_id for update;
    if ch.status <> 'REQUESTED' then
        perform refuge.raise_field('55000', 'change_id', format('already %s', lower(ch.status)));
    end if;
    if ch.requested_by = refuge.caller() then
        perform refuge.raise_field('42501', 'change_id', 'the requester may not decide their own request');
    end if;
    if approve and (cur.status <> ch.from_status or cur.population_type <> ch.from_population_type) then
        perform refuge.raise_field('55000', 'change_id',
            format('%s changed since the request (now %s, %s): reject it and request again', cur.number, cur.status, cur.population_type));
    end if;
    update refuge.status_change x set status = case when approve then 'APPROVED' else 'REJECTED' end,
           decided_by = refuge.caller(), decided_at = now(), decision_comment = comment
     where x.id = ch.id;
    if approve then
        update refuge.individual i
           set status = ch.to_status,
               status_date = case when ch.to_status <> cur.status then current_date else i.status_date end,
               status_reason = case when ch.to_status <> cur.status then ch.reason else i.status_reason end,
               population_type = ch.to_population_type,
               population_type_date = case when ch.to_population_type <> cur.population_type then current_date
                                           else i.population_type_date end
         where i.id = cur.id;
    end if;
    return jsonb_build_object('change_id', ch.id, 'number', cur.number,
                              'decision', case when approve then 'approved' else 'rejected' end);
end
$$;
comment on function refuge.decide_status_change(uuid, boolean, text) is
    'a supervisor of the operation (not the requester) approves or rejects a requested change of status or population type';

-- The record is read without a lock until the caller's scope is known.
create or replace function refuge.individual_for_update(p_individual uuid, p_role name, p_action text)
    returns refuge.individual
    language plpgsql
as $$
declare
    r refuge.individual;
begin
    perform refuge.authorize(p_role, p_action);
    if p_individual is null then
        perform refuge.raise_field('22004', 'individual_id', 'is required');
    end if;
    select * into r from refuge.individual i where i.id = p_individual;
    if not found or not refuge.in_scope(r.operation_id, r.site_id) then
        perform refuge.raise_field('P0002', 'individual_id', 'not found in your operations');
    end if;
    select * into r from refuge.individual i where i.id = p_individual for update;
    return r;
end
$$;

-- A case the caller may not work is not found, whether or not it exists
-- (the error names neither its module nor its operation).
create or replace function refuge.case_for_update(p_case uuid, p_action text, p_lock boolean default true)
    returns refuge.process_case
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
begin
    if p_case is null then
        perform refuge.raise_field('22004', 'case_id', 'is required');
    end if;
    select * into c from refuge.process_case p where p.id = p_case;
    if not found or not refuge.may_work_case(c.module, c.operation_id, c.site_id) then
        perform refuge.raise_field('P0002', 'case_id', 'not found in your operations');
    end if;
    if p_lock then
        select * into c from refuge.process_case p where p.id = p_case for update;
    end if;
    return c;
end
$$;

create or replace function refuge.update_individual(individual_id uuid, changes jsonb) returns jsonb
    language plpgsql security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    cur refuge.individual;
    r refuge.individual;
    scalars jsonb;
    collections constant text[] := array['names', 'nationalities', 'languages', 'education', 'occupations',
                                         'contacts', 'addresses', 'flight_legs', 'photo'];
begin
    cur := refuge.individual_for_update(individual_id, 'refuge_registration', 'update_individual');
    perform refuge.arg_fields(changes, 'changes',
        (select array_agg(f) from unnest(refuge.member_fields()) f
          where f not in ('ref', 'relationship', 'documents', 'specific_needs'))
        || array['status', 'status_reason']);
    scalars := changes - collections - array['status', 'status_reason'];
    r := refuge.parse_individual(to_jsonb(cur) || scalars, 'changes');
    -- a change of legal standing, or one that undoes an adjudication, is not
    -- one person's edit: refuge.request_status_change, approved by a supervisor
    if r.population_type is distinct from cur.population_type then
        perform refuge.raise_field('42501', 'changes.population_type',
            format('a change of population type (%s to %s) is requested with refuge.request_status_change and approved by a supervisor',
                   cur.population_type, r.population_type));
    end if;
    if changes ? 'status' then
        r.status := refuge.arg_code(changes, 'status', 'changes', 'individual_status', true);
        if r.status is distinct from cur.status then
            if cur.status = 'DUPLICATE' or r.status = 'DUPLICATE' then
                perform refuge.raise_field('42501', 'changes.status',
                    format('%s: a record closed as a duplicate changes only through adjudication (refuge.adjudicate)', cur.number));
            end if;
            if not (cur.status in ('ACTIVE', 'INACTIVE', 'HOLD') and r.status in ('ACTIVE', 'INACTIVE', 'HOLD')) then
                perform refuge.raise_field('42501', 'changes.status',
                    format('%s to %s is requested with refuge.request_status_change and approved by a supervisor',
                           cur.status, r.status));
            end if;
            cur.status := r.status;
            cur.status_date := current_date;
        end if;
        cur.status_reason := refuge.arg_text(changes, 'status_reason', 'changes', false, 500);
    end if;
    update refuge.individual i set
        given_name = r.given_name, middle_name = r.middle_name, family_name = r.family_name,
        second_family_name = r.second_family_name, maiden_name = r.maiden_name,
        mother_name = r.mother_name, father_name = r.father_name, sex = r.sex,
        date_of_birth = r.date_of_birth, dob_precision = r.dob_precision, place_of_birth = r.place_of_birth,
        birth_country = r.birth_country, origin_country = r.origin_country, ethnicity = r.ethnicity,
        religion = r.religion, marital_status = r.marital_status, education_level = r.education_level,
        population_type = r.population_type,
        population_type_date = case when r.population_type <> cur.population_type then current_date
                                    else cur.population_type_date end,
        registration_level = r.registration_level, arrival_date = r.arrival_date,
        status = cur.status, status_date = cur.status_date, status_reason = cur.status_reason
     where i.id = cur.id;
    perform refuge.write_collections(cur.id, changes, 'changes');
    return jsonb_build_object('individual_id', cur.id, 'number', cur.number,
                              'fields', (select jsonb_agg(k order by k) from jsonb_object_keys(changes) k));
end
$$;


-- Text as people write it.  Every text argument of the API is stored in
-- Unicode NFC, without control characters (tab and line breaks aside) or
-- bidirectional overrides; names are also one line, without invisible
-- characters other than the joiners some scripts need, and hold at least one
-- letter (extension/unicode_text.c, ICU).  Errors no longer echo what was
-- sent beyond its first 40 characters, and numbers out of range name their
-- field.  Document numbers are compared under refuge.identifier_key():
-- NFKC, case folded, confusable letters and digits of every script mapped,
-- separators and invisible characters dropped, in the duplicate check and
-- in its unique index.

create function refuge.clean_text(value text, field text) returns text
    language c immutable parallel safe
    as 'MODULE_PATHNAME', 'refuge_clean_text';
comment on function refuge.clean_text(text, text) is
    'text in Unicode NFC; an error naming field for control characters (tab and line breaks aside), bidirectional overrides, private-use or unassigned code points';
create function refuge.clean_name(value text, field text) returns text
    language c immutable parallel safe
    as 'MODULE_PATHNAME', 'refuge_clean_name';
comment on function refuge.clean_name(text, text) is
    'a name in Unicode NFC; an error naming field for line breaks, control, bidirectional or invisible characters (ZWJ and ZWNJ aside), runs of more than four combining marks, or no letter at all';
create function refuge.identifier_key(value text) returns text
    language c immutable strict parallel safe
    as 'MODULE_PATHNAME', 'refuge_identifier_key';
comment on function refuge.identifier_key(text) is
    'the key under which document numbers are compared: NFKC, upper case, letters of other scripts mapped to their Latin look-alikes (UTS #39 skeleton; a Latin O stays an O), digits of every script as 0-9, invisible characters dropped, only letters and digits';

-- Every field error is bounded, whatever value a caller sent: a message
-- quotes at most 1,000 characters (values are quoted through excerpt()).
create or replace function refuge.raise_field(sqlstate text, field text, problem text, hint text default null)
    returns void
    language plpgsql immutable
as $$
declare
    msg text := left(field, 200) || ': ' || problem;
begin
    if length(msg) > 1000 then
        msg := left(msg, 1000) || '...';
    end if;
    if hint is null then
        raise exception using errcode = sqlstate, message = msg;
    else
        raise exception using errcode = sqlstate, message = msg, hint = left(hint, 1000);
    end if;
end
$$;

-- The start of a value for an error message, never the whole of it.
create function refuge.excerpt(v text) returns text
    language sql immutable parallel safe
return case when length(v) > 40 then left(v, 40) || '... (' || length(v) || ' characters)' else v end;


create or replace function refuge.arg_text(obj jsonb, key text, path text, required boolean DEFAULT false, max_length integer DEFAULT 200)
    returns text
    language plpgsql immutable
as $$
declare
    v jsonb := obj -> key;
    s text;
begin
    if v is null or v = 'null'::jsonb then
        if required then
            perform refuge.raise_field('22004', path || '.' || key, 'is required');
        end if;
        return null;
    end if;
    if jsonb_typeof(v) <> 'string' then
        perform refuge.raise_field('22023', path || '.' || key,
                                   format('expected a string, got %s %s', jsonb_typeof(v), refuge.excerpt(v::text)));
    end if;
    s := btrim(v #>> '{}');
    if s = '' then
        if required then
            perform refuge.raise_field('22004', path || '.' || key, 'must not be empty');
        end if;
        return null;
    end if;
    if length(s) > max_length then
        perform refuge.raise_field('22023', path || '.' || key,
                                   format('is %s characters long; at most %s allowed', length(s), max_length));
    end if;
    return refuge.clean_text(s, path || '.' || key);
end
$$;

create or replace function refuge.arg_bool(obj jsonb, key text, path text, default_value boolean DEFAULT NULL::boolean)
    returns boolean
    language plpgsql immutable
as $$
declare
    v jsonb := obj -> key;
begin
    if v is null or v = 'null'::jsonb then
        return default_value;
    end if;
    if jsonb_typeof(v) <> 'boolean' then
        perform refuge.raise_field('22023', path || '.' || key,
                                   format('expected true or false, got %s %s', jsonb_typeof(v), refuge.excerpt(v::text)));
    end if;
    return v::boolean;
end
$$;

create or replace function refuge.arg_int(obj jsonb, key text, path text, min_value integer, max_value integer)
    returns integer
    language plpgsql immutable
as $$
declare
    v jsonb := obj -> key;
    n numeric;
begin
    if v is null or v = 'null'::jsonb then
        return null;
    end if;
    if jsonb_typeof(v) <> 'number' then
        perform refuge.raise_field('22023', path || '.' || key,
                                   format('expected a whole number, got %s %s', jsonb_typeof(v), refuge.excerpt(v::text)));
    end if;
    n := v::numeric;
    if n <> trunc(n) or n < min_value or n > max_value then
        perform refuge.raise_field('22023', path || '.' || key,
                                   format('%s is not a whole number from %s to %s', refuge.excerpt(v::text), min_value, max_value));
    end if;
    return n::integer;
end
$$;

create or replace function refuge.arg_point(obj jsonb, key text, path text)
    returns geometry
    language plpgsql immutable
as $$
declare
    v jsonb := obj -> key;
    p text := path || '.' || key;
    lon double precision;
    lat double precision;
begin
    if v is null or v = 'null'::jsonb then
        return null;
    end if;
    if jsonb_typeof(v) <> 'object' then
        perform refuge.raise_field('22023', p, 'expected {"lon": .., "lat": ..} or a GeoJSON Point');
    end if;
    if v ? 'type' then
        if v ->> 'type' <> 'Point' or jsonb_typeof(v -> 'coordinates') <> 'array'
           or jsonb_array_length(v -> 'coordinates') not in (2, 3) then
            perform refuge.raise_field('22023', p, 'expected a GeoJSON Point with [lon, lat] coordinates');
        end if;
        v := jsonb_build_object('lon', v -> 'coordinates' -> 0, 'lat', v -> 'coordinates' -> 1);
    else
        perform refuge.arg_fields(v, p, array['lon', 'lat']);
    end if;
    if jsonb_typeof(v -> 'lon') is distinct from 'number' or jsonb_typeof(v -> 'lat') is distinct from 'number' then
        perform refuge.raise_field('22023', p, 'lon and lat must both be numbers');
    end if;
    -- compared as numbers first: 1e400 is a JSON number but no double precision
    if (v ->> 'lon')::numeric not between -180 and 180 or (v ->> 'lat')::numeric not between -90 and 90 then
        perform refuge.raise_field('22023', p, format('(%s, %s) is not a WGS 84 longitude/latitude',
                                                      refuge.excerpt(v ->> 'lon'), refuge.excerpt(v ->> 'lat')));
    end if;
    lon := (v ->> 'lon')::double precision;
    lat := (v ->> 'lat')::double precision;
    return refuge.make_point(lon, lat);
end
$$;

-- A name: text, then the stricter rules of names.
create function refuge.arg_name(obj jsonb, key text, path text, required boolean default false,
                                max_length integer default 100) returns text
    language sql immutable
begin atomic
    select refuge.clean_name(refuge.arg_text(obj, key, path, required, max_length), path || '.' || key);
end;

create or replace function refuge.parse_individual(m jsonb, path text)
    returns refuge.individual
    language plpgsql stable
as $$
declare
    r refuge.individual;
begin
    r.given_name := refuge.arg_name(m, 'given_name', path, false, 100);
    r.middle_name := refuge.arg_name(m, 'middle_name', path, false, 100);
    r.family_name := refuge.arg_name(m, 'family_name', path, false, 100);
    r.second_family_name := refuge.arg_name(m, 'second_family_name', path, false, 100);
    r.maiden_name := refuge.arg_name(m, 'maiden_name', path, false, 100);
    r.mother_name := refuge.arg_name(m, 'mother_name', path, false, 200);
    r.father_name := refuge.arg_name(m, 'father_name', path, false, 200);
    if r.given_name is null and r.family_name is null then
        perform refuge.raise_field('22004', path || '.given_name', 'a given name or a family name is required');
    end if;
    r.sex := refuge.arg_code(m, 'sex', path, 'sex', true);
    r.date_of_birth := refuge.arg_date(m, 'date_of_birth', path);
    r.dob_precision := refuge.arg_code(m, 'dob_precision', path, 'date_precision', false, 'EXACT');
    r.place_of_birth := refuge.arg_text(m, 'place_of_birth', path, false, 200);
    r.birth_country := refuge.arg_code(m, 'birth_country', path, 'country');
    r.origin_country := refuge.arg_code(m, 'origin_country', path, 'country');
    r.ethnicity := refuge.arg_code(m, 'ethnicity', path, 'ethnicity');
    r.religion := refuge.arg_code(m, 'religion', path, 'religion');
    r.marital_status := refuge.arg_code(m, 'marital_status', path, 'marital_status');
    r.education_level := refuge.arg_code(m, 'education_level', path, 'education_level');
    r.population_type := refuge.arg_code(m, 'population_type', path, 'population_type', true);
    r.registration_level := refuge.arg_code(m, 'registration_level', path, 'registration_level', true);
    r.arrival_date := refuge.arg_date(m, 'arrival_date', path);
    if r.arrival_date < r.date_of_birth then
        perform refuge.raise_field('22008', path || '.arrival_date',
            format('"%s" is before the date of birth %s', refuge.iso(r.arrival_date), refuge.iso(r.date_of_birth)));
    end if;
    return r;
end
$$;

create or replace function refuge.collection_rows(p_individual uuid, obj jsonb, path text, p_new boolean, rows jsonb[])
    returns jsonb[]
    language plpgsql
as $$
declare
    arr jsonb;
    e jsonb;
    i integer;
    p text;
    primaries integer;
    dob date;
    d1 date;
    d2 date;
begin
    if obj ? 'names' then
        arr := refuge.arg_array(obj, 'names', path, 20);
        for i in 0 .. jsonb_array_length(arr) - 1 loop
            e := arr -> i;
            p := format('%s.names[%s]', path, i);
            perform refuge.arg_fields(e, p, array['kind', 'script', 'given_name', 'middle_name', 'family_name',
                                                  'second_family_name', 'maiden_name']);
            if coalesce(refuge.arg_name(e, 'given_name', p, false, 100), refuge.arg_name(e, 'middle_name', p, false, 100),
                        refuge.arg_name(e, 'family_name', p, false, 100), refuge.arg_name(e, 'second_family_name', p, false, 100),
                        refuge.arg_name(e, 'maiden_name', p, false, 100)) is null then
                perform refuge.raise_field('22004', p, 'at least one name part is required');
            end if;
            if coalesce(e ->> 'kind', 'ALIAS') not in ('ORIGINAL_SCRIPT', 'ALIAS', 'PREVIOUS', 'TRANSLITERATION') then
                perform refuge.raise_field('22023', p || '.kind', format('unknown kind %s', e -> 'kind'),
                                           'one of ORIGINAL_SCRIPT, ALIAS, PREVIOUS, TRANSLITERATION');
            end if;
            rows := rows || (jsonb_build_object(
                    'id', gen_random_uuid(),
                    'individual_id', p_individual,
                    'kind', coalesce(e ->> 'kind', 'ALIAS'),
                    'script', refuge.arg_code(e, 'script', p, 'script'),
                    'given_name', refuge.arg_name(e, 'given_name', p, false, 100),
                    'middle_name', refuge.arg_name(e, 'middle_name', p, false, 100),
                    'family_name', refuge.arg_name(e, 'family_name', p, false, 100),
                    'second_family_name', refuge.arg_name(e, 'second_family_name', p, false, 100),
                    'maiden_name', refuge.arg_name(e, 'maiden_name', p, false, 100)) || jsonb_build_object('_t', 'individual_name'));
        end loop;
    end if;

    if obj ? 'nationalities' then
        arr := refuge.arg_array(obj, 'nationalities', path, 10);
        primaries := 0;
        for i in 0 .. jsonb_array_length(arr) - 1 loop
            e := arr -> i;
            p := format('%s.nationalities[%s]', path, i);
            if jsonb_typeof(e) = 'string' then
                e := jsonb_build_object('country', e);
            end if;
            perform refuge.arg_fields(e, p, array['country', 'primary']);
            perform refuge.arg_code(e, 'country', p, 'country', true);
            if (select count(*) from jsonb_array_elements(arr) x
                 where coalesce(x ->> 'country', x #>> '{}') = e ->> 'country') > 1 then
                perform refuge.raise_field('22023', p || '.country', format('"%s" is listed twice', e ->> 'country'));
            end if;
            if refuge.arg_bool(e, 'primary', p, false) then
                primaries := primaries + 1;
                if primaries > 1 then
                    perform refuge.raise_field('22023', p || '.primary', 'only one nationality can be primary');
                end if;
            end if;
            rows := rows || (jsonb_build_object(
                    'id', gen_random_uuid(),
                    'individual_id', p_individual,
                    'country', e ->> 'country',
                    'is_primary', refuge.arg_bool(e, 'primary', p, false) or jsonb_array_length(arr) = 1) || jsonb_build_object('_t', 'individual_nationality'));
        end loop;
    end if;

    if obj ? 'languages' then
        arr := refuge.arg_array(obj, 'languages', path, 20);
        for i in 0 .. jsonb_array_length(arr) - 1 loop
            e := arr -> i;
            p := format('%s.languages[%s]', path, i);
            if jsonb_typeof(e) = 'string' then
                e := jsonb_build_object('language', e);
            end if;
            perform refuge.arg_fields(e, p, array['language', 'mother_tongue', 'read', 'write', 'speak', 'understand']);
            perform refuge.arg_code(e, 'language', p, 'language', true);
            if (select count(*) from jsonb_array_elements(arr) x
                 where coalesce(x ->> 'language', x #>> '{}') = e ->> 'language') > 1 then
                perform refuge.raise_field('22023', p || '.language', format('"%s" is listed twice', e ->> 'language'));
            end if;
            rows := rows || (jsonb_build_object(
                    'id', gen_random_uuid(),
                    'individual_id', p_individual,
                    'language', e ->> 'language',
                    'mother_tongue', refuge.arg_bool(e, 'mother_tongue', p, false),
                    'read_level', refuge.arg_code(e, 'read', p, 'language_proficiency'),
                    'write_level', refuge.arg_code(e, 'write', p, 'language_proficiency'),
                    'speak_level', refuge.arg_code(e, 'speak', p, 'language_proficiency'),
                    'understand_level', refuge.arg_code(e, 'understand', p, 'language_proficiency')) || jsonb_build_object('_t', 'individual_language'));
        end loop;
    end if;

    if obj ? 'education' then
        arr := refuge.arg_array(obj, 'education', path, 20);
        for i in 0 .. jsonb_array_length(arr) - 1 loop
            e := arr -> i;
            p := format('%s.education[%s]', path, i);
            perform refuge.arg_fields(e, p, array['level', 'degree', 'field', 'institution', 'country',
                                                  'year_from', 'year_to', 'completed']);
            if refuge.arg_int(e, 'year_to', p, 1900, 2100) < refuge.arg_int(e, 'year_from', p, 1900, 2100) then
                perform refuge.raise_field('22023', p || '.year_to', format('%s is before year_from %s',
                                           e -> 'year_to', e -> 'year_from'));
            end if;
            rows := rows || (jsonb_build_object(
                    'id', gen_random_uuid(),
                    'individual_id', p_individual,
                    'level', refuge.arg_code(e, 'level', p, 'education_level', true),
                    'degree', refuge.arg_code(e, 'degree', p, 'education_degree'),
                    'field', refuge.arg_text(e, 'field', p),
                    'institution', refuge.arg_text(e, 'institution', p),
                    'country', refuge.arg_code(e, 'country', p, 'country'),
                    'year_from', refuge.arg_int(e, 'year_from', p, 1900, 2100),
                    'year_to', refuge.arg_int(e, 'year_to', p, 1900, 2100),
                    'completed', refuge.arg_bool(e, 'completed', p)) || jsonb_build_object('_t', 'individual_education'));
        end loop;
    end if;

    if obj ? 'occupations' then
        arr := refuge.arg_array(obj, 'occupations', path, 30);
        for i in 0 .. jsonb_array_length(arr) - 1 loop
            e := arr -> i;
            p := format('%s.occupations[%s]', path, i);
            perform refuge.arg_fields(e, p, array['kind', 'occupation', 'title', 'employer', 'country',
                                                  'date_from', 'date_to']);
            if coalesce(e ->> 'kind', 'EMPLOYED') not in ('EMPLOYED', 'NOT_EMPLOYED', 'SKILL') then
                perform refuge.raise_field('22023', p || '.kind', format('unknown kind %s', e -> 'kind'),
                                           'one of EMPLOYED, NOT_EMPLOYED, SKILL');
            end if;
            if e ->> 'occupation' is null and e ->> 'title' is null then
                perform refuge.raise_field('22004', p, 'an occupation code or a title is required');
            end if;
            d1 := refuge.arg_date(e, 'date_from', p);
            d2 := refuge.arg_date(e, 'date_to', p);
            perform refuge.check_dates(d1, d2, p, 'date_from', 'date_to');
            rows := rows || (jsonb_build_object(
                    'id', gen_random_uuid(),
                    'individual_id', p_individual,
                    'kind', coalesce(e ->> 'kind', 'EMPLOYED'),
                    'occupation', refuge.arg_code(e, 'occupation', p, 'occupation'),
                    'title', refuge.arg_text(e, 'title', p),
                    'employer', refuge.arg_text(e, 'employer', p),
                    'country', refuge.arg_code(e, 'country', p, 'country'),
                    'date_from', d1,
                    'date_to', d2) || jsonb_build_object('_t', 'individual_occupation'));
        end loop;
    end if;

    if obj ? 'contacts' then
        arr := refuge.arg_array(obj, 'contacts', path, 20);
        for i in 0 .. jsonb_array_length(arr) - 1 loop
            e := arr -> i;
            p := format('%s.contacts[%s]', path, i);
            perform refuge.arg_fields(e, p, array['type', 'value', 'still_in_use', 'date_from', 'date_to']);
            perform refuge.check_dates(refuge.arg_date(e, 'date_from', p), refuge.arg_date(e, 'date_to', p),
                                       p, 'date_from', 'date_to');
            rows := rows || (jsonb_build_object(
                    'id', gen_random_uuid(),
                    'individual_id', p_individual,
                    'contact_type', refuge.arg_code(e, 'type', p, 'contact_type', true),
                    'value', refuge.arg_text(e, 'value', p, true, 200),
                    'still_in_use', refuge.arg_bool(e, 'still_in_use', p, true),
                    'date_from', refuge.arg_date(e, 'date_from', p),
                    'date_to', refuge.arg_date(e, 'date_to', p)) || jsonb_build_object('_t', 'individual_contact'));
        end loop;
    end if;

    if obj ? 'addresses' then
        arr := refuge.arg_array(obj, 'addresses', path, 30);
        for i in 0 .. jsonb_array_length(arr) - 1 loop
            e := arr -> i;
            p := format('%s.addresses[%s]', path, i);
            perform refuge.arg_fields(e, p, array['type', 'country', 'level1', 'level2', 'level3', 'level4', 'level5',
                                                  'level6', 'text', 'location', 'date_from', 'date_to']);
            d1 := refuge.arg_date(e, 'date_from', p);
            d2 := refuge.arg_date(e, 'date_to', p);
            perform refuge.check_dates(d1, d2, p, 'date_from', 'date_to');
            rows := rows || (jsonb_build_object(
                    'id', gen_random_uuid(),
                    'individual_id', p_individual,
                    'address_type', refuge.arg_code(e, 'type', p, 'address_type', true),
                    'country', refuge.arg_code(e, 'country', p, 'country'),
                    'location_level1', refuge.arg_text(e, 'level1', p),
                    'location_level2', refuge.arg_text(e, 'level2', p),
                    'location_level3', refuge.arg_text(e, 'level3', p),
                    'location_level4', refuge.arg_text(e, 'level4', p),
                    'location_level5', refuge.arg_text(e, 'level5', p),
                    'location_level6', refuge.arg_text(e, 'level6', p),
                    'address_text', refuge.arg_text(e, 'text', p, false, 500),
                    'location', (refuge.arg_point(e, 'location', p))::text,
                    'date_from', d1,
                    'date_to', d2) || jsonb_build_object('_t', 'individual_address'));
        end loop;
    end if;

    if obj ? 'flight_legs' then
        arr := refuge.arg_array(obj, 'flight_legs', path, 50);
        for i in 0 .. jsonb_array_length(arr) - 1 loop
            rows := rows || (refuge.flight_leg_row(p_individual, arr -> i, format('%s.flight_legs[%s]', path, i), i + 1) || jsonb_build_object('_t', 'flight_leg'));
        end loop;
    end if;

    if obj ? 'documents' then
        arr := refuge.arg_array(obj, 'documents', path, 30);
        for i in 0 .. jsonb_array_length(arr) - 1 loop
            rows := rows || (refuge.document_row(p_individual, arr -> i, format('%s.documents[%s]', path, i), rows) || jsonb_build_object('_t', 'document'));
        end loop;
    end if;

    if obj ? 'photo' and obj -> 'photo' <> 'null'::jsonb then
        if exists (select 1 from unnest(rows) b where b @> jsonb_build_object('_t', 'photo', 'individual_id', p_individual)) then
            perform refuge.raise_field('22023', path || '.photo', 'one current photo per individual');
        end if;
        e := obj -> 'photo';
        p := path || '.photo';
        perform refuge.arg_fields(e, p, array['uri', 'sha256', 'content_type', 'taken_at']);
        if e ->> 'sha256' is not null and (e ->> 'sha256') !~ '^[0-9a-fA-F]{64}$' then
            perform refuge.raise_field('22023', p || '.sha256', 'expected 64 hexadecimal digits');
        end if;
        if e ->> 'content_type' is not null and e ->> 'content_type' not in ('image/jpeg', 'image/png', 'image/jp2') then
            perform refuge.raise_field('22023', p || '.content_type', format('%s is not image/jpeg, image/png or image/jp2',
                                       e -> 'content_type'));
        end if;
        rows := rows || (jsonb_build_object(
                    'id', gen_random_uuid(),
                    'individual_id', p_individual,
                    'uri', refuge.arg_text(e, 'uri', p, true, 1000),
                    'sha256', decode(e ->> 'sha256', 'hex'),
                    'content_type', e ->> 'content_type',
                    'taken_at', (refuge.arg_date(e, 'taken_at', p))::timestamptz,
                    'is_current', true) || jsonb_build_object('_t', 'photo'));
    end if;

    if obj ? 'specific_needs' then
        arr := refuge.arg_array(obj, 'specific_needs', path, 50);
        for i in 0 .. jsonb_array_length(arr) - 1 loop
            rows := rows || (refuge.specific_need_row(p_individual, arr -> i, format('%s.specific_needs[%s]', path, i), p_new, rows) || jsonb_build_object('_t', 'specific_need'));
        end loop;
    end if;
    return rows;
end
$$;

create or replace function refuge.document_row(p_individual uuid, e jsonb, p text, batch jsonb[])
    returns jsonb
    language plpgsql
as $$
declare
    dtype text;
    num text;
    issuer text;
    d1 date;
    d2 date;
    k text;
    dup record;
begin
    perform refuge.arg_fields(e, p, array['type', 'number', 'issuing_country', 'issued_on', 'expires_on',
                                          'status', 'original_seen', 'comment']);
    dtype := refuge.arg_code(e, 'type', p, 'document_type', true);
    num := refuge.arg_text(e, 'number', p, true, 60);
    issuer := refuge.arg_code(e, 'issuing_country', p, 'country');
    d1 := refuge.arg_date(e, 'issued_on', p);
    d2 := refuge.arg_date(e, 'expires_on', p, false, false);
    perform refuge.check_dates(d1, d2, p, 'issued_on', 'expires_on');
    if coalesce(e ->> 'status', 'VALID') not in ('VALID', 'EXPIRED', 'LOST', 'CONFISCATED', 'CANCELLED') then
        perform refuge.raise_field('22023', p || '.status', format('unknown status %s', e -> 'status'),
                                   'one of VALID, EXPIRED, LOST, CONFISCATED, CANCELLED');
    end if;
    if refuge.identifier_key(num) = '' then
        perform refuge.raise_field('22023', p || '.number', 'has no letter or digit');
    end if;
    k := dtype || '/' || coalesce(issuer, '') || '/' || refuge.identifier_key(num);
    select d.id, d.individual_id, i.operation_id, i.site_id into dup
      from refuge.document d join refuge.individual i on i.id = d.individual_id
     where d.doc_type = dtype and coalesce(d.issuing_country, '') = coalesce(issuer, '')
       and refuge.identifier_key(d.number) = refuge.identifier_key(num)
     limit 1;
    if dup.id is not null and not refuge.in_scope(dup.operation_id, dup.site_id) then
        -- global deduplication must say that the document is held elsewhere: that
        -- answer is a lookup across operations, committed by the logging worker
        -- before it is given (a clerk who rolls back still leaves a trace)
        perform refuge.log_durably(jsonb_build_object('sensitive_read', jsonb_build_array(jsonb_build_object(
            'actor', refuge.caller(), 'kind', 'document_match', 'object_id', dup.id,
            'individual_id', dup.individual_id, 'operation_id', dup.operation_id,
            'purpose', 'registration refused: the document is recorded in another operation'))));
    end if;
    if dup.id is not null
       or exists (select 1 from unnest(batch) b where b @> jsonb_build_object('_t', 'document', '_key', k)) then
        perform refuge.raise_field('23505', p || '.number',
            format('%s %s%s is already recorded', dtype, refuge.excerpt(num), coalesce(' issued by ' || issuer, '')),
            'the document belongs to a registered individual; check for a double registration');
    end if;
    return jsonb_build_object('id', gen_random_uuid(), 'individual_id', p_individual, 'doc_type', dtype,
        'number', num, 'issuing_country', issuer, 'issued_on', d1, 'expires_on', d2,
        'status', coalesce(e ->> 'status', 'VALID'), 'original_seen', refuge.arg_bool(e, 'original_seen', p, false),
        'comment', refuge.arg_text(e, 'comment', p, false, 2000), '_key', k);
end
$$;

-- The duplicate check's index, under the same key.  Look-alike numbers
-- recorded before 0.7.0 cannot share a unique index: they are listed by a
-- warning and the index is then built without uniqueness (the check in
-- document_row still refuses new ones).  After an ICU upgrade, reindex it
-- (its confusable data may change).
drop index refuge.document_identity;
do $idx$
declare
    n bigint;
begin
    select count(*) into n from (
        select 1 from refuge.document d
         group by d.doc_type, coalesce(d.issuing_country, ''), refuge.identifier_key(d.number)
        having count(*) > 1) x;
    if n = 0 then
        create unique index document_identity on refuge.document
            (doc_type, coalesce(issuing_country, ''), refuge.identifier_key(number));
    else
        raise warning 'refuge: % document numbers are recorded twice under look-alike spellings; the index refuge.document_identity is built without uniqueness', n
            using hint = 'select doc_type, issuing_country, refuge.identifier_key(number), array_agg(individual_id) from refuge.document group by 1, 2, 3 having count(*) > 1';
        create index document_identity on refuge.document
            (doc_type, coalesce(issuing_country, ''), refuge.identifier_key(number));
    end if;
end
$idx$;

create or replace function refuge.case_module_row(p_module text, p_field text) returns refuge.case_module
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    m refuge.case_module;
begin
    select * into m from refuge.case_module c where c.code = p_module;
    if not found then
        perform refuge.raise_field('22023', p_field, format('"%s" is not a case module (%s)', coalesce(refuge.excerpt(p_module), 'null'),
            (select string_agg(code, ', ' order by code) from refuge.case_module)));
    end if;
    return m;
end
$$;
-- Identifiers that name hidden rows: a note, a document, a referral or a
-- linked record outside the caller's cases gets the same answer as one that
-- does not exist, so that guessing identifiers tells nothing.

create or replace function refuge.read_case_note(note_id uuid, purpose text default null) returns text
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    n refuge.case_note;
    c refuge.process_case;
begin
    select * into n from refuge.case_note x where x.id = note_id;
    select * into c from refuge.process_case p where p.id = n.case_id;
    if n.id is null or c.id is null or not refuge.may_work_case(c.module, c.operation_id, c.site_id) then
        perform refuge.raise_field('P0002', 'note_id', 'not found in your cases');
    end if;
    if n.confidential or (select m.sensitive from refuge.case_module m where m.code = c.module) then
        perform refuge.log_sensitive_read('case_note', n.id, c, purpose);
    end if;
    if not n.confidential then
        return n.body;
    end if;
    return convert_from(refuge.vault_open(n.sealed, 'case_note:' || n.id), 'UTF8');
end
$$;

create or replace function refuge.read_case_document(document_id uuid, purpose text default null) returns bytea
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    d refuge.case_document;
    c refuge.process_case;
    content bytea;
begin
    select * into d from refuge.case_document x where x.id = document_id;
    select * into c from refuge.process_case p where p.id = d.case_id;
    if d.id is null or c.id is null or not refuge.may_work_case(c.module, c.operation_id, c.site_id) then
        perform refuge.raise_field('P0002', 'document_id', 'not found in your cases');
    end if;
    if d.confidential or (select m.sensitive from refuge.case_module m where m.code = c.module) then
        perform refuge.log_sensitive_read('case_document', d.id, c, purpose);
    end if;
    content := case when d.confidential then refuge.vault_open(d.sealed, 'case_document:' || d.id) else d.content end;
    if sha256(content) <> d.sha256 then
        raise exception using errcode = 'XX001', message = format('document %s does not match its digest', d.id);
    end if;
    return content;
end
$$;

create or replace function refuge.end_referral(referral_id uuid, status text, reason text) returns void
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    r refuge.case_referral;
    c refuge.process_case;
    works_case boolean;
begin
    if status is null or status not in ('CLOSED', 'REVOKED') then
        perform refuge.raise_field('22023', 'status', format('"%s" is not CLOSED or REVOKED', refuge.excerpt(status)));
    end if;
    perform refuge.require_text(reason, 'reason');
    select * into r from refuge.case_referral x where x.id = referral_id for update;
    select * into c from refuge.process_case p where p.id = r.case_id;
    works_case := c.id is not null and refuge.may_work_case(c.module, c.operation_id, c.site_id);
    if r.id is null or not (works_case or coalesce(r.partner_id = refuge.caller_partner(), false)) then
        perform refuge.raise_field('P0002', 'referral_id', 'not found among your referrals');
    end if;
    -- the partner closes (it has finished); revoking is the case worker's
    if not works_case and status <> 'CLOSED' then
        raise exception using errcode = '42501',
            message = format('end_referral: role %s may close this referral, not revoke it', refuge.caller());
    end if;
    if r.status <> 'ACTIVE' then
        perform refuge.raise_field('55000', 'referral_id', format('is already %s', lower(r.status)));
    end if;
    update refuge.case_referral x set status = end_referral.status, ended_by = refuge.caller(), ended_at = now(),
                                      end_reason = left(reason, 2000)
     where x.id = r.id;
    perform refuge.note_case_event(c, 'REFERRAL_' || status, left(reason, 2000), jsonb_build_object('referral_id', r.id));
end
$$;

-- Links reach only what the caller may see: a case they work, or a fraud
-- alert, fraud case, deduplication case or collection in their operations.
create or replace function refuge.link_case(case_id uuid, kind text, linked_id uuid, note text default null) returns void
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
    linked refuge.process_case;
    op uuid;
    st uuid;
    visible boolean;
begin
    c := refuge.case_for_update(link_case.case_id, 'link_case');
    if kind is null or kind not in ('process_case', 'fraud_alert', 'fraud_case', 'dedup_case', 'collection') then
        perform refuge.raise_field('22023', 'kind',
            format('"%s" is not process_case, fraud_alert, fraud_case, dedup_case or collection', refuge.excerpt(kind)));
    end if;
    if kind = 'process_case' then
        select * into linked from refuge.process_case p where p.id = linked_id;
        visible := linked.id is not null and linked.id <> c.id
                   and refuge.may_work_case(linked.module, linked.operation_id, linked.site_id);
    else
        execute format('select operation_id, site_id from refuge.%I where id = $1', kind) into op, st using linked_id;
        visible := op is not null and refuge.in_scope(op, st);
    end if;
    if not coalesce(visible, false) then
        perform refuge.raise_field('P0002', 'linked_id', format('no %s in your operations', kind));
    end if;
    insert into refuge.case_link (case_id, kind, linked_id, note) values (c.id, kind, linked_id, left(note, 2000))
    on conflict do nothing;
    perform refuge.note_case_event(c, 'LINK', left(note, 2000), jsonb_build_object('kind', kind, 'linked_id', linked_id));
end
$$;

-- A confidential document's title can say what it is ("HIV test result"):
-- the case's events name the document, not its title.
create or replace function refuge.add_case_document(case_id uuid, title text, media_type text, content bytea,
                                                    confidential boolean default false)
    returns uuid
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
    new_id uuid := gen_random_uuid();
begin
    c := refuge.case_for_update(add_case_document.case_id, 'add_case_document');
    perform refuge.require_text(title, 'title');
    if length(title) > 300 then
        perform refuge.raise_field('22001', 'title', format('%s characters is more than the 300 a title may have', length(title)));
    end if;
    if media_type is null or length(media_type) > 100 or media_type !~ '^[a-z]+/[A-Za-z0-9.+-]+$' then
        perform refuge.raise_field('22023', 'media_type', format('"%s" is not a media type such as application/pdf',
                                                                  refuge.excerpt(media_type)));
    end if;
    if content is null or length(content) = 0 then
        perform refuge.raise_field('22004', 'content', 'is required');
    end if;
    if length(content) > 50 * 1024 * 1024 then
        perform refuge.raise_field('54000', 'content', format('%s bytes is more than the 50 MB an attachment may have', length(content)));
    end if;
    if confidential is null then
        perform refuge.raise_field('22004', 'confidential', 'is required');
    end if;
    insert into refuge.case_document (id, case_id, title, media_type, size_bytes, sha256, confidential, content, sealed, author)
    values (new_id, c.id, title, media_type, length(content), sha256(content), confidential,
            case when not confidential then content end,
            case when confidential then refuge.vault_seal(content, 'case_document:' || new_id) end,
            refuge.caller());
    perform refuge.note_case_event(c, 'DOCUMENT', null,
        jsonb_build_object('document_id', new_id, 'confidential', confidential)
        || case when confidential then '{}'::jsonb else jsonb_build_object('title', title) end);
    return new_id;
end
$$;
-- Identifiers of rows the caller may not see get the answer an unknown one
-- gets ("not found in your operations"), checked before any row is locked:
-- an alert's uuid arrives by NOTIFY, and a different error (or a wait on a
-- lock) for a hidden row would say it exists and what it is about.

create function refuge.require_visible(p_visible boolean, p_field text) returns void
    language plpgsql immutable
as $$
begin
    if not coalesce(p_visible, false) then
        perform refuge.raise_field('P0002', p_field, 'not found in your operations');
    end if;
end
$$;
comment on function refuge.require_visible(boolean, text) is
    'raise "<field>: not found in your operations" unless the row was found and is within the caller''s scope';

create or replace function refuge.decide_case_transfer(transfer_id uuid, decision text, reason text default null)
    returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    t refuge.case_transfer;
    c refuge.process_case;
begin
    if decision is null or decision not in ('ACCEPT', 'REJECT', 'CANCEL') then
        perform refuge.raise_field('22023', 'decision', format('"%s" is not ACCEPT, REJECT or CANCEL', refuge.excerpt(decision)));
    end if;
    select * into t from refuge.case_transfer x where x.id = transfer_id;
    select * into c from refuge.process_case p where p.id = t.case_id;
    -- who requested it, works the case, or works its module where it goes
    perform refuge.require_visible(t.id is not null and c.id is not null
        and (t.requested_by = refuge.caller() or refuge.may_work_case(c.module, c.operation_id, c.site_id)
             or refuge.may_work_case(c.module, t.to_operation, t.to_site)), 'transfer_id');
    select * into c from refuge.process_case p where p.id = t.case_id for update;
    select * into t from refuge.case_transfer x where x.id = transfer_id for update;
    if decision = 'CANCEL' then
        if t.requested_by <> refuge.caller() and not refuge.may_work_case(c.module, c.operation_id, c.site_id) then
            raise exception using errcode = '42501',
                message = format('decide_case_transfer: role %s may not cancel this transfer', refuge.caller());
        end if;
    elsif not refuge.may_work_case(c.module, t.to_operation, t.to_site) then
        raise exception using errcode = '42501',
            message = format('decide_case_transfer: role %s does not work %s cases in the receiving operation', refuge.caller(), c.module);
    end if;
    if t.status <> 'REQUESTED' then
        perform refuge.raise_field('55000', 'transfer_id', format('transfer %s is already %s', t.id, lower(t.status)));
    end if;
    update refuge.case_transfer x
       set status = case decision when 'ACCEPT' then 'ACCEPTED' when 'REJECT' then 'REJECTED' else 'CANCELLED' end,
           decided_by = refuge.caller(), decided_at = now(), decision_reason = decide_case_transfer.reason
     where x.id = t.id;
    if decision = 'ACCEPT' then
        update refuge.process_case p set operation_id = t.to_operation, site_id = t.to_site, assigned_to = null
         where p.id = c.id;
        update refuge.case_alert a set operation_id = t.to_operation where a.case_id = c.id and a.acknowledged_at is null;
    end if;
    perform refuge.note_case_event(c, 'TRANSFER_' || decision || case decision when 'CANCEL' then 'LED' else 'ED' end, reason,
        jsonb_build_object('transfer_id', t.id,
                           'from_operation', (select code from refuge.operation where id = t.from_operation),
                           'to_operation', (select code from refuge.operation where id = t.to_operation)));
    return jsonb_build_object('transfer_id', t.id, 'case_id', c.id, 'number', c.number,
                              'status', lower(decision) || case decision when 'CANCEL' then 'led' else 'ed' end);
end
$$;

create or replace function refuge.acknowledge_alert(alert_id uuid) returns void
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    a refuge.case_alert;
begin
    select * into a from refuge.case_alert x where x.id = alert_id;
    perform refuge.require_visible(a.id is not null
        and exists (select 1 from refuge.process_case c where c.id = a.case_id
                       and refuge.may_work_case(c.module, c.operation_id, c.site_id)), 'alert_id');
    perform refuge.case_for_update(a.case_id, 'acknowledge_alert');
    select * into a from refuge.case_alert x where x.id = alert_id for update;
    if a.acknowledged_at is not null then
        perform refuge.raise_field('55000', 'alert_id', format('already acknowledged by %s', a.acknowledged_by));
    end if;
    update refuge.case_alert x set acknowledged_by = refuge.caller(), acknowledged_at = now() where x.id = a.id;
end
$$;

create or replace function refuge.decide_approval(approval_id uuid, approve boolean, comment text default null)
    returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    a refuge.case_approval;
    c refuge.process_case;
    t refuge.workflow_transition;
    res jsonb;
begin
    perform refuge.authorize('refuge_supervisor', 'decide_approval');
    if approval_id is null then
        perform refuge.raise_field('22004', 'approval_id', 'is required');
    end if;
    if approve is null then
        perform refuge.raise_field('22004', 'approve', 'is required (true to approve, false to reject)');
    end if;
    select * into a from refuge.case_approval x where x.id = decide_approval.approval_id;
    perform refuge.require_visible(a.id is not null
        and exists (select 1 from refuge.process_case p where p.id = a.case_id
                       and refuge.may_work_case(p.module, p.operation_id, p.site_id)), 'approval_id');
    c := refuge.case_for_update(a.case_id, 'decide_approval');
    select * into a from refuge.case_approval x where x.id = decide_approval.approval_id for update;
    if a.status <> 'REQUESTED' then
        perform refuge.raise_field('55000', 'approval_id', format('approval %s is already %s', a.id, lower(a.status)));
    end if;
    if a.requested_by = refuge.caller() and not refuge.caller_is_superuser() then
        raise exception using errcode = '42501',
            message = format('decide_approval: %s requested this step and may not approve it', refuge.caller());
    end if;
    update refuge.case_approval x
       set status = case when approve then 'APPROVED' else 'REJECTED' end,
           decided_by = refuge.caller(), decided_at = now(), decision_comment = comment
     where x.id = a.id;
    update refuge.case_alert x set acknowledged_by = refuge.caller(), acknowledged_at = now()
     where x.case_id = c.id and x.kind = 'APPROVAL' and x.acknowledged_at is null;
    if not approve then
        insert into refuge.case_event (case_id, actor, action, from_state, to_state, reason, data, approval_id)
        values (c.id, refuge.caller(), 'APPROVAL_REJECTED', c.state, c.state, comment,
                jsonb_build_object('requested_action', a.action, 'requested_by', a.requested_by), a.id);
        return jsonb_build_object('case_id', c.id, 'number', c.number, 'status', 'rejected', 'state', c.state);
    end if;
    select * into t from refuge.workflow_transition w
     where w.module = c.module and w.action = a.action and w.from_state = a.from_state;
    if not found or c.state <> a.from_state then
        perform refuge.raise_field('55000', 'approval_id',
            format('%s is no longer allowed from state %s of case %s', a.action, c.state, c.number));
    end if;
    res := refuge.apply_transition(c, t, a.data, a.reason, a.requested_by, a.id);
    return res || jsonb_build_object('approved_by', refuge.caller());
end
$$;

create or replace function refuge.set_document_status(document_id uuid, status text) returns void
    language plpgsql security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    ind uuid;
begin
    perform refuge.authorize('refuge_registration', 'set_document_status');
    select d.individual_id into ind from refuge.document d where d.id = document_id;
    perform refuge.require_visible(exists (select 1 from refuge.individual i where i.id = ind
                                               and refuge.in_scope(i.operation_id, i.site_id)), 'document_id');
    perform refuge.individual_for_update(ind, 'refuge_registration', 'set_document_status');
    if status is null or status not in ('VALID', 'EXPIRED', 'LOST', 'CONFISCATED', 'CANCELLED') then
        perform refuge.raise_field('22023', 'status', format('unknown status %s', coalesce(quote_literal(status), 'null')),
                                   'one of VALID, EXPIRED, LOST, CONFISCATED, CANCELLED');
    end if;
    update refuge.document d set status = set_document_status.status where d.id = document_id;
end
$$;

create or replace function refuge.close_specific_need(need_id uuid, reason text, closed_on date default current_date)
    returns void
    language plpgsql security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    n refuge.specific_need;
begin
    perform refuge.authorize('refuge_registration', 'close_specific_need');
    select * into n from refuge.specific_need s where s.id = need_id;
    perform refuge.require_visible(exists (select 1 from refuge.individual i where i.id = n.individual_id
                                               and refuge.in_scope(i.operation_id, i.site_id)), 'need_id');
    perform refuge.individual_for_update(n.individual_id, 'refuge_registration', 'close_specific_need');
    if not n.active then
        perform refuge.raise_field('22023', 'need_id', format('specific need %s was already closed on %s', need_id, refuge.iso(n.closed_on)));
    end if;
    if nullif(btrim(reason), '') is null then
        perform refuge.raise_field('22004', 'reason', 'is required');
    end if;
    if closed_on is null or closed_on > current_date or closed_on < n.identified_on then
        perform refuge.raise_field('22008', 'closed_on',
            format('%s must be between the identification date %s and today', coalesce(refuge.iso(closed_on), 'null'), refuge.iso(n.identified_on)));
    end if;
    update refuge.specific_need s
       set active = false, closed_on = close_specific_need.closed_on, close_reason = btrim(reason)
     where s.id = need_id;
end
$$;

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
    select * into target from refuge.individual i where i.id = c.matched_id;
    select * into membership from refuge.group_membership m where m.individual_id = subject.id and m.valid_to is null;
    if membership.relationship = 'PA' and exists (select 1 from refuge.group_membership m
            where m.group_id = membership.group_id and m.valid_to is null and m.individual_id <> subject.id) then
        perform refuge.raise_field('55000', 'case_id',
            format('%s is the principal of a family with other members; set another principal first', subject.number));
    end if;
    select * into cap from refuge.biometric_capture b where b.id = c.capture_id;
    perform refuge.enrolment_lock();
    identity := refuge.identity_of(c.matched_id);
    insert into refuge.biometric_enrolment (individual_id, identity_id, operation_id, site_id, capture_id, status)
    values (subject.id, identity, cap.operation_id, cap.site_id, cap.id, 'MERGED');
    -- the duplicate record stays, closed, with everything attached to it
    update refuge.individual i
       set status = 'DUPLICATE', status_date = current_date,
           status_reason = format('merged into %s (adjudication case %s)', target.number, c.id)
     where i.id = subject.id;
    if membership.id is not null then
        update refuge.group_membership m
           set valid_to = now(), end_reason = 'MERGE', comment = format('duplicate of %s', target.number)
         where m.id = membership.id;
    end if;
    update refuge.dedup_case d
       set status = 'CLOSED', approval = 'approved', approved_by = refuge.caller(), approved_at = now(),
           outcome = d.outcome || jsonb_build_object('identity_id', identity, 'merged_into', target.id)
     where d.id = c.id;
    return jsonb_build_object('case_id', c.id, 'approval', 'approved', 'merged_into', target.id, 'identity_id', identity);
end
$$;

create or replace function refuge.collect(distribution_id uuid, group_id uuid, collector_id uuid, templates jsonb) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    ev refuge.distribution_event;
    ent refuge.entitlement;
    who refuge.individual;
    p record;
    v refuge.biometric_verification;
    refusal text;
    alert uuid;
    first refuge.collection;
    new_id uuid;
begin
    perform refuge.authorize('refuge_assistance', 'collect');
    select * into ev from refuge.distribution_event d where d.id = collect.distribution_id;
    perform refuge.require_visible(ev.id is not null and refuge.in_scope(ev.operation_id, ev.site_id), 'distribution_id');
    if ev.status <> 'OPEN' then
        perform refuge.raise_field('55000', 'distribution_id', 'the distribution is closed');
    end if;
    -- one desk at a time per family: the entitlement row is the lock
    select * into ent from refuge.entitlement e where e.cycle_id = ev.cycle_id and e.group_id = collect.group_id for update;
    if not found then
        perform refuge.raise_field('P0002', 'group_id', format('family %s has no entitlement in this cycle', collect.group_id));
    end if;
    select * into who from refuge.individual i where i.id = collect.collector_id;
    -- someone of the caller's operations, or the family's principal or collector (who may live elsewhere)
    perform refuge.require_visible(who.id is not null
        and (refuge.in_scope(who.operation_id, who.site_id)
             or exists (select 1 from refuge.group_membership gm where gm.group_id = ent.group_id and gm.individual_id = who.id
                           and gm.valid_to is null)
             or exists (select 1 from refuge.collector c where c.group_id = ent.group_id and c.individual_id = who.id)),
        'collector_id');
    if templates is null then
        perform refuge.raise_field('22004', 'templates', 'is required: the collector''s fingerprints or irises');
    end if;
    p := refuge.parse_biometrics(templates, false);

    if not exists (select 1 from refuge.group_membership gm where gm.group_id = ent.group_id and gm.individual_id = who.id
                    and gm.valid_to is null and gm.relationship = 'PA')
       and not exists (select 1 from refuge.collector c where c.group_id = ent.group_id and c.individual_id = who.id
                        and c.valid_from <= current_date and (c.valid_to is null or c.valid_to >= current_date)) then
        refusal := 'not_authorised';
    else
        v := refuge.verify_person(who, p.fingers, p.irises, ev.site_id, 'collection', p.device);
        if v.identity_id is null then
            refusal := 'not_enrolled';
        elsif not v.match then
            refusal := 'verification_failed';
        elsif ent.status = 'COLLECTED' then
            refusal := 'already_collected';
            select * into first from refuge.collection c where c.entitlement_id = ent.id and c.outcome = 'COLLECTED';
            alert := refuge.raise_fraud_alert('second_collection', who.id, first.collector_id, null,
                jsonb_build_object('entitlement_id', ent.id, 'group_id', ent.group_id, 'distribution_id', ev.id,
                                   'first_collection_id', first.id, 'first_collected_at', first.collected_at));
        end if;
    end if;
    insert into refuge.collection (entitlement_id, event_id, group_id, collector_id, operation_id, site_id,
                                   verification_id, outcome, refusal, alert_id, collected_by)
    values (ent.id, ev.id, ent.group_id, who.id, ev.operation_id, ev.site_id, v.id,
            case when refusal is null then 'COLLECTED' else 'REFUSED' end, refusal, alert, refuge.caller())
    returning id into new_id;
    if refusal is null then
        update refuge.entitlement e set status = 'COLLECTED' where e.id = ent.id;
    end if;
    return jsonb_strip_nulls(jsonb_build_object(
        'decision', case when refusal is null then 'collected' else 'refused' end,
        'reason', refusal, 'collection_id', new_id, 'alert_id', alert,
        'items', case when refusal is null then ent.items end,
        'verification', case when v.id is not null then refuge.verification_json(v) end));
end
$$;

create or replace function refuge.authorise_collector(group_id uuid, individual_id uuid, reason text, valid_to date default null)
    returns uuid
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    g refuge.registration_group;
    ind refuge.individual;
    new_id uuid;
begin
    perform refuge.authorize('refuge_assistance', 'authorise_collector');
    select * into g from refuge.registration_group r where r.id = authorise_collector.group_id;
    perform refuge.require_visible(g.id is not null and refuge.in_scope(g.operation_id, g.site_id), 'group_id');
    select * into ind from refuge.individual i where i.id = authorise_collector.individual_id;
    if not found or not refuge.in_scope(ind.operation_id, ind.site_id) then
        perform refuge.raise_field('P0002', 'individual_id', 'not found in your operations');
    end if;
    if ind.status <> 'ACTIVE' then
        perform refuge.raise_field('55000', 'individual_id', format('%s has status %s', ind.number, ind.status));
    end if;
    if nullif(btrim(reason), '') is null then
        perform refuge.raise_field('22004', 'reason', 'is required (why this person collects for the family)');
    end if;
    if valid_to is not null and valid_to < current_date then
        perform refuge.raise_field('22008', 'valid_to', format('%s is in the past', refuge.iso(valid_to)));
    end if;
    insert into refuge.collector (group_id, individual_id, operation_id, site_id, valid_to, reason)
    values (g.id, ind.id, g.operation_id, g.site_id, authorise_collector.valid_to, btrim(reason))
    returning id into new_id;
    return new_id;
end
$$;

create or replace function refuge.open_distribution(cycle_id uuid, site text, held_on date default current_date) returns uuid
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    c refuge.assistance_cycle;
    sid uuid;
    new_id uuid;
begin
    perform refuge.authorize('refuge_assistance', 'open_distribution');
    select * into c from refuge.assistance_cycle a where a.id = open_distribution.cycle_id;
    perform refuge.require_visible(c.id is not null and refuge.in_scope(c.operation_id), 'cycle_id');
    select s.id into sid from refuge.site s where s.operation_id = c.operation_id and s.code = open_distribution.site;
    if sid is null then
        perform refuge.raise_field('23503', 'site', format('unknown site "%s" in this operation', coalesce(refuge.excerpt(site), 'null')));
    end if;
    perform refuge.authorize('refuge_assistance', 'open_distribution', c.operation_id, sid);
    if held_on is null or held_on not between c.starts_on and c.ends_on then
        perform refuge.raise_field('22008', 'held_on',
            format('%s is outside cycle %s (%s to %s)', coalesce(refuge.iso(held_on), 'null'), c.number,
                   refuge.iso(c.starts_on), refuge.iso(c.ends_on)));
    end if;
    insert into refuge.distribution_event (cycle_id, operation_id, site_id, held_on)
    values (c.id, c.operation_id, sid, held_on)
    returning id into new_id;
    return new_id;
end
$$;

create or replace function refuge.open_assistance_cycle(plan_id uuid, starts_on date, ends_on date) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    p refuge.assistance_plan;
    cycle_id uuid;
    num integer;
    n bigint;
begin
    perform refuge.authorize('refuge_assistance', 'open_assistance_cycle');
    select * into p from refuge.assistance_plan a where a.id = open_assistance_cycle.plan_id;
    perform refuge.require_visible(p.id is not null and refuge.in_scope(p.operation_id), 'plan_id');
    select * into p from refuge.assistance_plan a where a.id = open_assistance_cycle.plan_id for update;
    if p.status <> 'ACTIVE' then
        perform refuge.raise_field('55000', 'plan_id', format('plan %s is closed', p.code));
    end if;
    if starts_on is null or ends_on is null or ends_on < starts_on then
        perform refuge.raise_field('22008', 'ends_on', 'starts_on and ends_on are required, ends_on not before starts_on');
    end if;
    if exists (select 1 from refuge.assistance_cycle c where c.plan_id = p.id
                and daterange(c.starts_on, c.ends_on, '[]') && daterange(open_assistance_cycle.starts_on, open_assistance_cycle.ends_on, '[]')) then
        perform refuge.raise_field('22008', 'starts_on', 'the cycle overlaps an existing cycle of this plan');
    end if;
    select coalesce(max(c.number), 0) + 1 into num from refuge.assistance_cycle c where c.plan_id = p.id;
    insert into refuge.assistance_cycle (plan_id, operation_id, number, starts_on, ends_on)
    values (p.id, p.operation_id, num, open_assistance_cycle.starts_on, open_assistance_cycle.ends_on)
    returning id into cycle_id;
    insert into refuge.entitlement (cycle_id, group_id, operation_id, site_id, members, items)
    select cycle_id, g.id, g.operation_id, g.site_id, m.members,
           (select jsonb_object_agg(r.key, r.value::numeric * m.members) from jsonb_each(p.ration) r)
      from refuge.registration_group g
      cross join lateral (select count(*) as members,
                                 bool_or(gm.relationship = 'PA' and i.population_type = any (p.population_types)) as targeted
                            from refuge.group_membership gm join refuge.individual i on i.id = gm.individual_id
                           where gm.group_id = g.id and gm.valid_to is null and i.status = 'ACTIVE') m
     where g.operation_id = p.operation_id and g.status = 'ACTIVE'
       and (p.site_ids is null or g.site_id = any (p.site_ids))
       and m.members > 0 and m.targeted;
    get diagnostics n = row_count;
    return jsonb_build_object('cycle_id', cycle_id, 'number', num, 'entitlements', n);
end
$$;
-- What analysts read passes statistical disclosure control.  The facts of a
-- snapshot (one row per person, family, case and case step) are for the DBA
-- role and for computing aggregates; analysts read tables published from
-- them when the snapshot is taken, in which no figure describes fewer than
-- refuge.min_cell_size people (k, default 5) and no suppressed figure can
-- be recomputed from the published totals (complementary suppression over
-- every equation that ties the published figures together, audited by
-- Gaussian elimination: extension/disclosure.c).  Ages are published in
-- UNHCR's brackets and in bands that nest in them (for pyramids), never in
-- years; sensitive modules (SGBV, child protection, fraud) only as counts of
-- open and closed cases per operation, with no state, step or person link.

create function refuge.sdc_protect(counts bigint[], eq_id integer[], eq_var integer[], eq_coef integer[], k integer,
                                   fixed boolean[] default null, forced boolean[] default null,
                                   priority integer[] default null)
    returns boolean[]
    language c immutable
    as 'MODULE_PATHNAME', 'refuge_sdc_protect';
comment on function refuge.sdc_protect(bigint[], integer[], integer[], integer[], integer, boolean[], boolean[], integer[]) is
    'cell suppression: which of the counts to suppress so that none below k is shown and none can be recomputed from the equations (eq_id, eq_var, eq_coef: sum of coef * count = 0); fixed ones are never suppressed, forced ones always, a lower priority first';

-- The age bands of population pyramids: five years wide inside UNHCR's
-- brackets, so that a band never straddles a bracket (a band that did would
-- let a difference of two published figures isolate one or two years).
create function refuge_warehouse.age_band(age integer) returns text
    language sql immutable parallel safe
return case when age is null then 'unknown'
            when age < 5 then '0-4' when age < 12 then '5-11' when age < 18 then '12-17'
            when age < 25 then '18-24' when age >= 80 then '80+'
            else (age / 5 * 5) || '-' || (age / 5 * 5 + 4) end;
create function refuge_warehouse.age_bands() returns text[]
    language sql immutable parallel safe
return array['0-4', '5-11', '12-17', '18-24', '25-29', '30-34', '35-39', '40-44', '45-49', '50-54', '55-59',
             '60-64', '65-69', '70-74', '75-79', '80+'];
create function refuge_warehouse.band_bracket(band text) returns text
    language sql immutable parallel safe
return case when band = 'unknown' then 'unknown' when band = '0-4' then '0_4' when band = '5-11' then '5_11'
            when band = '12-17' then '12_17' when band in ('60-64', '65-69', '70-74', '75-79', '80+') then '60'
            else '18_59' end;

-- Published tables, one partition per snapshot (filled and frozen by
-- refuge_warehouse.publish); a null figure is suppressed.
create table refuge_warehouse.population_cell (
    snapshot_id      integer not null,
    operation        text not null,
    asylum_country   text not null,
    origin_country   text,
    population_type  text not null,
    sex              text not null,
    age_bracket      text not null,
    individuals      bigint,
    families         bigint
) partition by list (snapshot_id);
comment on table refuge_warehouse.population_cell is 'active people at a snapshot by operation, origin, population type, sex and UNHCR age bracket (cells with people only); null = suppressed (fewer than refuge.min_cell_size, or it would give a suppressed figure away)';

create table refuge_warehouse.population_row (
    snapshot_id      integer not null,
    operation        text not null,
    asylum_country   text not null,
    origin_country   text,
    population_type  text not null,
    female           bigint,
    male             bigint,
    unknown_sex      bigint,
    total            bigint
) partition by list (snapshot_id);
comment on table refuge_warehouse.population_row is 'totals of each operation x origin x population type: women, men, sex unknown, all; null = suppressed';

create table refuge_warehouse.population_total (
    snapshot_id      integer not null,
    operation        text not null,
    asylum_country   text not null,
    individuals      bigint,
    female           bigint,
    male             bigint,
    unknown_sex      bigint,
    children         bigint,
    unknown_age      bigint,
    families         bigint
) partition by list (snapshot_id);
comment on table refuge_warehouse.population_total is 'active people of an operation at a snapshot: all, women, men, sex unknown, children under 18, age unknown, families; null = suppressed';

create table refuge_warehouse.population_band (
    snapshot_id      integer not null,
    operation        text not null,
    sex              text not null,
    band             text not null,
    individuals      bigint
) partition by list (snapshot_id);
comment on table refuge_warehouse.population_band is 'women and men of an operation at a snapshot by age band (bands nest in UNHCR brackets): the population pyramid; null = suppressed';

create table refuge_warehouse.case_summary (
    snapshot_id      integer not null,
    module           text not null,
    operation        text not null,
    state            text not null,
    closed           boolean not null,
    cases            bigint,
    people           bigint,
    mean_days_open   numeric,
    mean_days_in_state numeric
) partition by list (snapshot_id);
comment on table refuge_warehouse.case_summary is 'cases by module, operation and state at a snapshot (sensitive modules: open or closed only, state *); null = suppressed';

create table refuge_warehouse.case_step_summary (
    snapshot_id      integer not null,
    module           text not null,
    operation        text not null,
    from_state       text,
    to_state         text not null,
    steps            bigint,
    mean_days        numeric,
    median_days      double precision,
    p90_days         double precision
) partition by list (snapshot_id);
comment on table refuge_warehouse.case_step_summary is 'state changes of cases by module, operation and step up to a snapshot, with the days each took (not for sensitive modules); null = suppressed';

create table refuge_warehouse.flow_summary (
    snapshot_id      integer not null,
    from_snapshot_id integer not null,
    operation        text not null,
    arrivals         bigint,
    departures       bigint,
    moved_in         bigint,
    moved_out        bigint,
    resettled        bigint,
    returned         bigint,
    naturalised      bigint
) partition by list (snapshot_id);
comment on table refuge_warehouse.flow_summary is 'people who arrived, left, moved between operations, were resettled, returned or naturalised since the snapshot before (from_snapshot_id), per operation; null = suppressed';

create function refuge_warehouse.published_tables() returns text[]
    language sql immutable
    return array['population_cell', 'population_row', 'population_total', 'population_band', 'case_summary',
                 'case_step_summary', 'flow_summary'];

-- A published figure from its variable (array[count, suppressed]): null
-- when suppressed, 0 when there was no one (no variable).
create function refuge_warehouse.published(v bigint[]) returns bigint
    language sql immutable parallel safe
return case when v is null then 0 when v[2] = 1 then null else v[1] end;

-- The population of one operation at one snapshot, published: every figure
-- analysts will see is a variable, the equations are the sums that tie them
-- (cells to their row's sex totals, those to the row total, rows to the
-- operation's totals, brackets to the pyramid's bands, children and unknown
-- ages to their cells), and refuge.sdc_protect decides what to suppress.
create function refuge_warehouse.publish_population(sid integer, op text, k integer) returns void
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    counts bigint[];
    eid integer[];
    evar integer[];
    ecoef integer[];
    supp boolean[];
    asylum text;
begin
    select f.asylum_country into asylum from refuge_warehouse.individual_fact f
     where f.snapshot_id = sid and f.operation = op limit 1;
    create temp table pub_base on commit drop as
    select coalesce(f.origin_country, '') as origin, f.population_type as ptype, f.sex,
           refuge_warehouse.age_band(f.age) as band, count(*) as n
      from refuge_warehouse.individual_fact f
     where f.snapshot_id = sid and f.operation = op and f.status = 'ACTIVE'
     group by 1, 2, 3, 4;
    -- the variables: one per published figure with people in it
    create temp table pub_var on commit drop as
    with v as (
        select 'cell' as kind, origin, ptype, sex, refuge_warehouse.band_bracket(band) as grp, sum(n)::bigint as n
          from pub_base group by 2, 3, 4, 5
        union all select 'row_sex', origin, ptype, sex, '', sum(n)::bigint from pub_base group by 2, 3, 4
        union all select 'row', origin, ptype, '', '', sum(n)::bigint from pub_base group by 2, 3
        union all select 'op_sex', '', '', sex, '', sum(n)::bigint from pub_base group by 4
        union all select 'op', '', '', '', '', sum(n)::bigint from pub_base
        union all select 'children', '', '', '', '', sum(n)::bigint from pub_base where band in ('0-4', '5-11', '12-17')
        union all select 'unknown_age', '', '', '', '', sum(n)::bigint from pub_base where band = 'unknown'
        union all select 'band', '', '', sex, band, sum(n)::bigint from pub_base
                   where sex in ('F', 'M') and band <> 'unknown' group by 4, 5)
    select row_number() over (order by kind, origin, ptype, sex, grp)::integer as vid, * from v where n > 0;
    -- the equations: sum of coef * variable = 0
    create temp table pub_eq on commit drop as
    with e as (
        -- a row's cells of one sex add up to its sex total
        select 'rs|' || origin || '|' || ptype || '|' || sex as eq, vid, 1 as coef from pub_var where kind = 'cell'
        union all select 'rs|' || origin || '|' || ptype || '|' || sex, vid, -1 from pub_var where kind = 'row_sex'
        -- a row's sex totals add up to its total
        union all select 'r|' || origin || '|' || ptype, vid, 1 from pub_var where kind = 'row_sex'
        union all select 'r|' || origin || '|' || ptype, vid, -1 from pub_var where kind = 'row'
        -- the rows add up to the operation, by sex and in all
        union all select 'o', vid, 1 from pub_var where kind = 'row'
        union all select 'o', vid, -1 from pub_var where kind = 'op'
        union all select 'os|' || sex, vid, 1 from pub_var where kind = 'row_sex'
        union all select 'os|' || sex, vid, -1 from pub_var where kind = 'op_sex'
        -- children and unknown ages
        union all select 'c', vid, 1 from pub_var where kind = 'cell' and grp in ('0_4', '5_11', '12_17')
        union all select 'c', vid, -1 from pub_var where kind = 'children'
        union all select 'u', vid, 1 from pub_var where kind = 'cell' and grp = 'unknown'
        union all select 'u', vid, -1 from pub_var where kind = 'unknown_age'
        -- a bracket of one sex over all rows is the sum of its pyramid bands
        union all select 'b|' || sex || '|' || grp, vid, 1 from pub_var
                   where kind = 'cell' and sex in ('F', 'M') and grp <> 'unknown'
        union all select 'b|' || sex || '|' || refuge_warehouse.band_bracket(grp), vid, -1 from pub_var where kind = 'band'
        -- a sex's bands and unknown ages add up to the sex total
        union all select 'bs|' || sex, vid, 1 from pub_var where kind = 'band'
        union all select 'bs|' || sex, vid, 1 from pub_var where kind = 'cell' and sex in ('F', 'M') and grp = 'unknown'
        union all select 'bs|' || sex, vid, -1 from pub_var where kind = 'op_sex' and sex in ('F', 'M'))
    select dense_rank() over (order by eq)::integer as eid, vid, coef from e;
    select array_agg(n order by vid) into counts from pub_var;
    select array_agg(x.eid order by x.eid, x.vid), array_agg(x.vid order by x.eid, x.vid), array_agg(x.coef order by x.eid, x.vid)
      into eid, evar, ecoef from pub_eq x;
    -- the pyramid's bands give way first, then cells, then the totals they add up to
    supp := refuge.sdc_protect(coalesce(counts, '{}'), coalesce(eid, '{}'), coalesce(evar, '{}'), coalesce(ecoef, '{}'), k,
        null, null, (select array_agg(case v.kind when 'band' then 0 when 'cell' then 1 when 'row_sex' then 2
                                                  when 'op_sex' then 4 when 'op' then 5 else 3 end order by v.vid)
                       from pub_var v));
    create temp table pub_out on commit drop as
    select v.*, supp[v.vid] as suppressed from pub_var v;

    execute format($q$
        insert into refuge_warehouse.%1$I
        select $1, $2, $3, nullif(o.origin, ''), o.ptype, o.sex, o.grp, case when o.suppressed then null else o.n end,
               case when o.suppressed or fm.families < $4 then null else fm.families end
          from pub_out o
          left join (select coalesce(f.origin_country, '') as origin, f.population_type as ptype, f.sex, f.age_bracket,
                            count(distinct f.family) as families
                       from refuge_warehouse.individual_fact f
                      where f.snapshot_id = $1 and f.operation = $2 and f.status = 'ACTIVE'
                      group by 1, 2, 3, 4) fm
                 on fm.origin = o.origin and fm.ptype = o.ptype and fm.sex = o.sex and fm.age_bracket = o.grp
         where o.kind = 'cell'$q$, 'population_cell_' || sid) using sid, op, asylum, k;
    execute format($q$
        insert into refuge_warehouse.%1$I
        select $1, $2, $3, nullif(r.origin, ''), r.ptype,
               refuge_warehouse.published((select array[s.n, s.suppressed::int] from pub_out s where s.kind = 'row_sex' and s.origin = r.origin and s.ptype = r.ptype and s.sex = 'F')),
               refuge_warehouse.published((select array[s.n, s.suppressed::int] from pub_out s where s.kind = 'row_sex' and s.origin = r.origin and s.ptype = r.ptype and s.sex = 'M')),
               refuge_warehouse.published((select array[s.n, s.suppressed::int] from pub_out s where s.kind = 'row_sex' and s.origin = r.origin and s.ptype = r.ptype and s.sex = 'U')),
               case when r.suppressed then null else r.n end
          from pub_out r where r.kind = 'row'$q$, 'population_row_' || sid) using sid, op, asylum;
    execute format($q$
        insert into refuge_warehouse.%1$I
        select $1, $2, $3,
               (select case when suppressed then null else n end from pub_out where kind = 'op'),
               refuge_warehouse.published((select array[n, suppressed::int] from pub_out where kind = 'op_sex' and sex = 'F')),
               refuge_warehouse.published((select array[n, suppressed::int] from pub_out where kind = 'op_sex' and sex = 'M')),
               refuge_warehouse.published((select array[n, suppressed::int] from pub_out where kind = 'op_sex' and sex = 'U')),
               refuge_warehouse.published((select array[n, suppressed::int] from pub_out where kind = 'children')),
               refuge_warehouse.published((select array[n, suppressed::int] from pub_out where kind = 'unknown_age')),
               (select case when count(distinct f.family) < $4 then null else count(distinct f.family) end
                  from refuge_warehouse.individual_fact f
                 where f.snapshot_id = $1 and f.operation = $2 and f.status = 'ACTIVE')$q$,
        'population_total_' || sid) using sid, op, asylum, k;
    execute format($q$
        insert into refuge_warehouse.%1$I
        select $1, $2, s.sex, b.band,
               refuge_warehouse.published((select array[o.n, o.suppressed::int] from pub_out o where o.kind = 'band' and o.sex = s.sex and o.grp = b.band))
          from unnest(array['F', 'M']) s(sex), unnest(refuge_warehouse.age_bands()) b(band)$q$,
        'population_band_' || sid) using sid, op;
    drop table pub_base, pub_var, pub_eq, pub_out;
end
$$;

-- Cases of one snapshot, published.  For a module that is not sensitive, a
-- state's count of cases is also what entered it minus what left it, so the
-- counts of states and of steps are protected together.
create function refuge_warehouse.publish_cases(sid integer, k integer) returns void
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    counts bigint[];
    eid integer[];
    evar integer[];
    ecoef integer[];
    supp boolean[];
begin
    create temp table pub_case on commit drop as
    select row_number() over (order by x.module, x.operation, x.state, x.closed)::integer as vid, x.*
      from (select f.module, f.operation,
                   case when m.sensitive then '*' else f.state end as state, f.closed, count(*) as cases,
                   sum(f.members) as people, round(avg(f.days_open), 1) as mean_open, round(avg(f.days_in_state), 1) as mean_state
              from refuge_warehouse.case_fact f left join refuge.case_module m on m.code = f.module
             where f.snapshot_id = sid
             group by 1, 2, 3, 4) x;
    create temp table pub_step on commit drop as
    select (select coalesce(max(vid), 0) from pub_case) + row_number() over (order by f.module, f.operation, f.from_state, f.to_state)::integer as vid,
           f.module, f.operation, f.from_state, f.to_state, count(*) as steps,
           round(avg(f.days_since_previous), 1) as mean_days,
           percentile_cont(0.5) within group (order by f.days_since_previous) as median_days,
           percentile_cont(0.9) within group (order by f.days_since_previous) as p90_days
      from refuge_warehouse.case_step_fact f
      join refuge.case_module m on m.code = f.module and not m.sensitive
     where f.snapshot_id = sid and f.days_since_previous is not null
     group by 2, 3, 4, 5;
    -- a non-initial state holds what entered it minus what left it, and that
    -- is known of every state, also of one no case is in now (absent from the
    -- table: 0), so each such state is an equation.  The initial state also
    -- gains the cases opened, a figure not published: its equation would
    -- have an unknown of its own and tells nothing more (it is the sum of the
    -- others).
    create temp table pub_ceq on commit drop as
    with e as (
        select c.module || '|' || c.operation || '|' || c.state as eq, c.vid, -1 as coef
          from pub_case c join refuge.case_module m on m.code = c.module and not m.sensitive and m.initial_state <> c.state
        union all
        select s.module || '|' || s.operation || '|' || s.to_state, s.vid, 1
          from pub_step s join refuge.case_module m on m.code = s.module and m.initial_state <> s.to_state
        union all
        select s.module || '|' || s.operation || '|' || s.from_state, s.vid, -1
          from pub_step s join refuge.case_module m on m.code = s.module and m.initial_state <> s.from_state)
    select dense_rank() over (order by e.eq)::integer as eid, e.vid, e.coef from e;
    select array_agg(n order by vid) into counts
      from (select vid, cases as n from pub_case union all select vid, steps from pub_step) v;
    select array_agg(x.eid order by x.eid, x.vid), array_agg(x.vid order by x.eid, x.vid), array_agg(x.coef order by x.eid, x.vid)
      into eid, evar, ecoef from pub_ceq x;
    supp := refuge.sdc_protect(coalesce(counts, '{}'), coalesce(eid, '{}'), coalesce(evar, '{}'), coalesce(ecoef, '{}'), k);
    execute format($q$
        insert into refuge_warehouse.%1$I
        select $1, c.module, c.operation, c.state, c.closed,
               case when $2[c.vid] then null else c.cases end, case when $2[c.vid] then null else c.people end,
               case when $2[c.vid] then null else c.mean_open end, case when $2[c.vid] then null else c.mean_state end
          from pub_case c$q$, 'case_summary_' || sid) using sid, supp;
    execute format($q$
        insert into refuge_warehouse.%1$I
        select $1, s.module, s.operation, s.from_state, s.to_state,
               case when $2[s.vid] then null else s.steps end, case when $2[s.vid] then null else s.mean_days end,
               case when $2[s.vid] then null else s.median_days end, case when $2[s.vid] then null else s.p90_days end
          from pub_step s$q$, 'case_step_summary_' || sid) using sid, supp;
    drop table pub_case, pub_step, pub_ceq;
end
$$;

-- Publish a snapshot: the partitions of the published tables, filled from
-- its facts and frozen like them.
create function refuge_warehouse.publish(sid integer, flows_from integer) returns void
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    t text;
    op text;
    k integer := pg_catalog.current_setting('refuge.min_cell_size')::integer;
begin
    foreach t in array refuge_warehouse.published_tables() loop
        execute format('create table refuge_warehouse.%I (like refuge_warehouse.%I including defaults including constraints)',
                       t || '_' || sid, t);
    end loop;
    for op in select distinct f.operation from refuge_warehouse.individual_fact f
               where f.snapshot_id = sid and f.status = 'ACTIVE' order by 1 loop
        perform refuge_warehouse.publish_population(sid, op, k);
    end loop;
    perform refuge_warehouse.publish_cases(sid, k);
    if flows_from is not null then
        perform refuge_warehouse.publish_flows(sid, flows_from, k);
    end if;
    foreach t in array refuge_warehouse.published_tables() loop
        perform refuge_warehouse.freeze(t, sid);
    end loop;
end
$$;

-- Freeze and attach one partition of a snapshot (facts and published tables).
create function refuge_warehouse.freeze(t text, sid integer) returns void
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    execute format('alter table refuge_warehouse.%I owner to refuge_owner', t || '_' || sid);
    execute format('alter table refuge_warehouse.%I add constraint snapshot_%s check (snapshot_id = %s)',
                   t || '_' || sid, sid, sid);
    execute format('create trigger frozen before insert or update or delete on refuge_warehouse.%I
                    for each row execute function refuge_warehouse.frozen()', t || '_' || sid);
    execute format('create trigger frozen_truncate before truncate on refuge_warehouse.%I
                    for each statement execute function refuge_warehouse.frozen()', t || '_' || sid);
    execute format('alter table refuge_warehouse.%I enable always trigger frozen', t || '_' || sid);
    execute format('alter table refuge_warehouse.%I enable always trigger frozen_truncate', t || '_' || sid);
    execute format('alter table refuge_warehouse.%I enable row level security', t || '_' || sid);
    execute format('alter table refuge_warehouse.%I force row level security', t || '_' || sid);
    execute format('create policy owner_all on refuge_warehouse.%I for all to refuge_owner using (true) with check (true)',
                   t || '_' || sid);
    execute format('alter table refuge_warehouse.%I attach partition refuge_warehouse.%I for values in (%s)',
                   t, t || '_' || sid, sid);
    execute format('analyze refuge_warehouse.%I', t || '_' || sid);
end
$$;

alter table refuge_warehouse.snapshot add column min_cell_size integer;
comment on column refuge_warehouse.snapshot.min_cell_size is 'k of the published tables: no published figure describes fewer people';

create or replace function refuge.snapshot(as_of timestamptz default now(), label text default null) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    sid integer;
    day date := snapshot.as_of::date;
    k bytea;
    t text;
    n record;
    t0 timestamptz := clock_timestamp();
    existing refuge_warehouse.snapshot;
begin
    perform refuge.authorize('refuge_dba', 'snapshot');
    if snapshot.as_of is null then
        perform refuge.raise_field('22004', 'as_of', 'is required');
    end if;
    if snapshot.as_of > now() + interval '1 minute' then
        perform refuge.raise_field('22008', 'as_of', 'is in the future: a snapshot describes what has happened');
    end if;
    -- one snapshot per moment, even when two schedulers fire at once
    perform pg_advisory_xact_lock(7306086141237891842);
    select * into existing from refuge_warehouse.snapshot s where s.as_of = snapshot.as_of;
    if found then
        return jsonb_build_object('snapshot_id', existing.id, 'as_of', existing.as_of, 'status', 'exists',
                                  'individuals', existing.individuals, 'families', existing.families,
                                  'cases', existing.cases);
    end if;
    insert into refuge.warehouse_key (key) values (refuge.random_bytes(32)) on conflict do nothing;
    select w.key into k from refuge.warehouse_key w;
    insert into refuge_warehouse.snapshot (as_of, label, taken_by, min_cell_size)
    values (snapshot.as_of, snapshot.label, refuge.caller(), pg_catalog.current_setting('refuge.min_cell_size')::integer)
    returning id into sid;
    foreach t in array refuge_warehouse.fact_tables() loop
        execute format('create table refuge_warehouse.%I (like refuge_warehouse.%I including defaults including constraints)',
                       t || '_' || sid, t);
    end loop;
    raise notice 'snapshot %: copying the facts as of % (1 of 3)', sid, snapshot.as_of;
    execute format($q$
    with need as (
        select n.individual_id, array_agg(distinct n.category order by n.category) as needs
          from refuge.specific_need n
         where n.identified_on <= $2 and (n.closed_on is null or n.closed_on > $2)
         group by n.individual_id),
    member as (
        select gm.individual_id, gm.group_id, gm.relationship
          from refuge.group_membership gm
         where gm.valid_from <= $3 and (gm.valid_to is null or gm.valid_to > $3)),
    household as (
        select m.group_id, count(*) filter (where i.status = 'ACTIVE') as size,
               min(i.sex) filter (where m.relationship = 'PA') as pa_sex,
               min(i.population_type) filter (where m.relationship = 'PA') as pa_type,
               min(extract(year from age($2, i.date_of_birth))::integer) filter (where m.relationship = 'PA') as pa_years
          from member m join refuge.individual i on i.id = m.individual_id
         group by m.group_id),
    person as (
        select i.*, o.code as op_code, o.country as op_country, s.code as site_code, m.group_id, m.relationship,
               extract(year from age($2, i.date_of_birth))::integer as years
          from refuge.individual i
          join refuge.operation o on o.id = i.operation_id
          join refuge.site s on s.id = i.site_id
          left join member m on m.individual_id = i.id
         where i.created_at <= $3),
    ind as (
        insert into refuge_warehouse.%1$I
        select $1, refuge.pseudonym($4, p.id), refuge.pseudonym($4, p.group_id), p.op_code, p.op_country, p.site_code,
               p.sex, p.years, coalesce(b.code, 'unknown'), p.population_type, p.origin_country, p.relationship,
               p.registration_date, p.arrival_date, p.status, coalesce(nd.needs, '{}'), e.status
          from person p
          left join refuge.age_bracket b on b.profile = 'STD' and p.years >= b.min_age
                                        and (b.max_age is null or p.years <= b.max_age)
          left join need nd on nd.individual_id = p.id
          left join refuge.biometric_enrolment e on e.individual_id = p.id
        returning operation, asylum_country, origin_country, population_type, sex, age_bracket, status, family),
    cube as (
        insert into refuge_warehouse.%5$I
        select $1, operation, asylum_country, origin_country, population_type, sex, age_bracket, status, count(*),
               count(distinct family)
          from ind
         group by operation, asylum_country, origin_country, population_type, sex, age_bracket, status
        returning 1),
    fam as (
        insert into refuge_warehouse.%2$I
        select $1, refuge.pseudonym($4, g.id), o.code, s.code, coalesce(h.size, 0),
               h.pa_sex, coalesce(b.code, 'unknown'), h.pa_type, g.registration_date, g.status
          from refuge.registration_group g
          join refuge.operation o on o.id = g.operation_id
          join refuge.site s on s.id = g.site_id
          left join household h on h.group_id = g.id
          left join refuge.age_bracket b on b.profile = 'STD' and h.pa_years >= b.min_age
                                        and (b.max_age is null or h.pa_years <= b.max_age)
         where g.created_at <= $3
        returning 1),
    kase as (
        insert into refuge_warehouse.%3$I
        select $1, refuge.pseudonym($4, c.id), c.module, o.code, refuge.pseudonym($4, c.principal_id),
               refuge.pseudonym($4, c.group_id),
               (select count(*) from refuge.case_member cm where cm.case_id = c.id and cm.added_at <= $3),
               ev.to_state, ws.closed, c.opened_at::date, ev.at::date,
               ($2 - c.opened_at::date), ($2 - ev.at::date),
               coalesce(c.data ->> 'closure_reason', c.data ->> 'appeal_decision', c.data ->> 'decision',
                        c.data ->> 'determination', c.data ->> 'panel_decision', c.data ->> 'risk_level'),
               c.data ->> 'submission_category', c.data ->> 'priority',
               coalesce(c.data ->> 'resettlement_country', c.data ->> 'intended_return_country')
          from refuge.process_case c
          join refuge.operation o on o.id = c.operation_id
          join lateral (select e.to_state, e.at from refuge.case_event e
                         where e.case_id = c.id and e.at <= $3 and e.to_state is not null
                           and e.from_state is distinct from e.to_state
                         order by e.id desc limit 1) ev on true
          join refuge.workflow_state ws on ws.module = c.module and ws.code = ev.to_state
         where c.opened_at <= $3
        returning 1),
    step as (
        insert into refuge_warehouse.%4$I
        select $1, refuge.pseudonym($4, e.case_id), c.module, o.code, e.action, e.from_state, e.to_state, e.at,
               (e.at::date - (lag(e.at) over (partition by e.case_id order by e.id))::date)
          from refuge.case_event e
          join refuge.process_case c on c.id = e.case_id
          join refuge.operation o on o.id = c.operation_id
         where e.at <= $3 and e.to_state is not null and e.from_state is distinct from e.to_state
        returning 1)
    select (select count(*) from ind) as individuals, (select count(*) from fam) as families,
           (select count(*) from kase) as cases, (select count(*) from step) as steps, (select count(*) from cube) as cells
    $q$, 'individual_fact_' || sid, 'family_fact_' || sid, 'case_fact_' || sid, 'case_step_fact_' || sid,
         'population_fact_' || sid)
    into n using sid, day, snapshot.as_of, k;
    raise notice 'snapshot %: % people, % families, % cases, % case steps copied in % s; freezing (2 of 3)', sid,
        n.individuals, n.families, n.cases, n.steps, round(extract(epoch from clock_timestamp() - t0)::numeric, 1);
    foreach t in array refuge_warehouse.fact_tables() loop
        perform refuge_warehouse.freeze(t, sid);
    end loop;
    raise notice 'snapshot %: publishing for analysts (3 of 3)', sid;
    -- flows are published once, from the snapshot before, and only when this
    -- one comes after every other: published intervals never overlap, so no
    -- two of them differ by a suppressed one (a back-dated snapshot has none)
    perform refuge_warehouse.publish(sid,
        (select p.id from refuge_warehouse.snapshot p
          where p.id <> sid and p.finished_at is not null
            and not exists (select 1 from refuge_warehouse.snapshot q where q.id <> sid and q.as_of >= snapshot.as_of)
          order by p.as_of desc, p.id desc limit 1));
    update refuge_warehouse.snapshot s
       set finished_at = clock_timestamp(), individuals = n.individuals, families = n.families, cases = n.cases,
           case_steps = n.steps
     where s.id = sid;
    raise notice 'snapshot %: done in % s', sid, round(extract(epoch from clock_timestamp() - t0)::numeric, 1);
    return jsonb_build_object('snapshot_id', sid, 'as_of', snapshot.as_of, 'status', 'taken',
                              'individuals', n.individuals, 'families', n.families, 'cases', n.cases,
                              'case_steps', n.steps,
                              'seconds', round(extract(epoch from clock_timestamp() - t0)::numeric, 1));
end
$$;

create or replace function refuge.snapshots()
    returns table (snapshot_id integer, as_of timestamptz, label text, taken_by name, seconds numeric,
                   individuals bigint, families bigint, cases bigint, case_steps bigint, bytes bigint)
    language plpgsql stable security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    perform refuge.authorize('refuge_dba', 'snapshots');
    return query
    select s.id, s.as_of, s.label, s.taken_by,
           round(extract(epoch from s.finished_at - s.started_at)::numeric, 1),
           s.individuals, s.families, s.cases, s.case_steps,
           (select sum(pg_catalog.pg_total_relation_size(format('refuge_warehouse.%I', t || '_' || s.id)::regclass))::bigint
              from unnest(refuge_warehouse.fact_tables() || refuge_warehouse.published_tables()) t)
      from refuge_warehouse.snapshot s
     order by s.as_of;
end
$$;

create or replace function refuge.drop_snapshot(snapshot_id integer) returns void
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    t text;
begin
    perform refuge.authorize('refuge_dba', 'drop_snapshot');
    perform pg_advisory_xact_lock(7306086141237891842);
    if not exists (select 1 from refuge_warehouse.snapshot s where s.id = drop_snapshot.snapshot_id) then
        perform refuge.raise_field('P0002', 'snapshot_id', format('no snapshot %s', drop_snapshot.snapshot_id));
    end if;
    foreach t in array refuge_warehouse.fact_tables() || refuge_warehouse.published_tables() loop
        execute format('drop table if exists refuge_warehouse.%I', t || '_' || drop_snapshot.snapshot_id);
    end loop;
    delete from refuge_warehouse.snapshot s where s.id = drop_snapshot.snapshot_id;
end
$$;

-- The analysts' views, now over the published tables (the same names and
-- columns; population_statistics gains the operation and people of unknown
-- sex at its end).  A null figure is suppressed.
drop view refuge_warehouse.population, refuge_warehouse.population_trend, refuge_warehouse.population_statistics,
    refuge_warehouse.case_processing, refuge_warehouse.case_states cascade;

create view refuge_warehouse.population with (security_invoker = true) as
select s.id as snapshot_id, s.as_of, c.operation, c.asylum_country, c.origin_country, c.population_type, c.sex,
       c.age_bracket, c.individuals, c.families
  from refuge_warehouse.snapshot s
  join refuge_warehouse.population_cell c on c.snapshot_id = s.id;
comment on view refuge_warehouse.population is 'active individuals (and families) per snapshot by operation, countries of asylum and origin, population type, sex and UNHCR age bracket; null = suppressed';

create view refuge_warehouse.population_trend with (security_invoker = true) as
select s.id as snapshot_id, s.as_of, t.operation, t.individuals, t.female, t.male, t.children
  from refuge_warehouse.snapshot s
  join refuge_warehouse.population_total t on t.snapshot_id = s.id;
comment on view refuge_warehouse.population_trend is 'active individuals per snapshot and operation, women, men and children under 18; null = suppressed';

create view refuge_warehouse.population_statistics with (security_invoker = true) as
with cells as (
    select c.snapshot_id, c.operation, c.asylum_country, c.origin_country, c.population_type,
           jsonb_object_agg(c.sex || '|' || c.age_bracket, c.individuals) as n
      from refuge_warehouse.population_cell c
     group by 1, 2, 3, 4, 5)
select s.id as snapshot_id, extract(year from s.as_of)::integer as year, r.asylum_country, r.origin_country,
       r.population_type,
       case when x.n ? 'F|0_4' then (x.n ->> 'F|0_4')::bigint else 0 end as female_0_4, case when x.n ? 'F|5_11' then (x.n ->> 'F|5_11')::bigint else 0 end as female_5_11,
       case when x.n ? 'F|12_17' then (x.n ->> 'F|12_17')::bigint else 0 end as female_12_17, case when x.n ? 'F|18_59' then (x.n ->> 'F|18_59')::bigint else 0 end as female_18_59,
       case when x.n ? 'F|60' then (x.n ->> 'F|60')::bigint else 0 end as female_60, case when x.n ? 'F|unknown' then (x.n ->> 'F|unknown')::bigint else 0 end as female_unknown,
       r.female as female_total,
       case when x.n ? 'M|0_4' then (x.n ->> 'M|0_4')::bigint else 0 end as male_0_4, case when x.n ? 'M|5_11' then (x.n ->> 'M|5_11')::bigint else 0 end as male_5_11,
       case when x.n ? 'M|12_17' then (x.n ->> 'M|12_17')::bigint else 0 end as male_12_17, case when x.n ? 'M|18_59' then (x.n ->> 'M|18_59')::bigint else 0 end as male_18_59,
       case when x.n ? 'M|60' then (x.n ->> 'M|60')::bigint else 0 end as male_60, case when x.n ? 'M|unknown' then (x.n ->> 'M|unknown')::bigint else 0 end as male_unknown,
       r.male as male_total, r.total, r.operation, r.unknown_sex as unknown_sex_total
  from refuge_warehouse.snapshot s
  join refuge_warehouse.population_row r on r.snapshot_id = s.id
  left join cells x on x.snapshot_id = r.snapshot_id and x.operation = r.operation
                   and x.origin_country is not distinct from r.origin_country and x.population_type = r.population_type;
comment on view refuge_warehouse.population_statistics is 'UNHCR demographic table: per year, operation, countries of asylum and origin and population type, women and men by age bracket with totals; null = suppressed';

create view refuge_warehouse.case_processing with (security_invoker = true) as
select f.snapshot_id, f.module, f.operation, f.from_state, f.to_state, f.steps, f.mean_days, f.median_days, f.p90_days
  from refuge_warehouse.case_step_summary f;
comment on view refuge_warehouse.case_processing is 'days each step of each module takes, per snapshot and operation (not for sensitive modules); null = suppressed';

create view refuge_warehouse.case_states with (security_invoker = true) as
select f.snapshot_id, f.module, f.operation, f.state, f.closed, f.cases, f.people, f.mean_days_open,
       f.mean_days_in_state
  from refuge_warehouse.case_summary f;
comment on view refuge_warehouse.case_states is 'cases by module, operation and state per snapshot (sensitive modules: open or closed only); null = suppressed';

-- population_forecast read the trend view: defined again over the new one.
create or replace function refuge_warehouse.population_forecast(operation text default null, horizon integer default 4)
    returns table (as_of timestamptz, individuals double precision, forecast double precision,
                   lower95 double precision, upper95 double precision)
    language sql stable
    set search_path = pg_catalog, pg_temp
begin atomic
    with series as (
        select t.as_of, sum(t.individuals)::double precision as n
          from refuge_warehouse.population_trend t
         where population_forecast.operation is null or t.operation = population_forecast.operation
         group by t.as_of
        having count(*) = count(t.individuals)),
    ordered as (select array_agg(n order by as_of) as v, max(as_of) as last_at,
                       max(as_of) - (array_agg(as_of order by as_of desc))[2] as spacing from series)
    select s.as_of, s.n, null::double precision, null::double precision, null::double precision from series s
    union all
    select o.last_at + f.step * o.spacing, null, f.forecast, f.lower95, f.upper95
      from ordered o, refuge.forecast(o.v, population_forecast.horizon) f
    order by 1;
end;
comment on function refuge_warehouse.population_forecast(text, integer) is
    'the active population of an operation (or all) over the snapshots and its forecast (Holt) for the next ones';

-- Flows from the snapshot before, per operation, published with the
-- snapshot: with both snapshots' totals published, arrivals - departures +
-- moved in - moved out is known, so one suppressed flow brings another.
create function refuge_warehouse.publish_flows(sid integer, from_sid integer, k integer) returns void
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    t0 timestamptz := (select s.as_of from refuge_warehouse.snapshot s where s.id = from_sid);
    t1 timestamptz := (select s.as_of from refuge_warehouse.snapshot s where s.id = sid);
    r record;
    supp boolean[];
    n0 bigint;
    n1 bigint;
begin
    for r in
    with a as (select f.person, f.operation from refuge_warehouse.individual_fact f
                where f.snapshot_id = from_sid and f.status = 'ACTIVE'),
         b as (select f.person, f.operation from refuge_warehouse.individual_fact f
                where f.snapshot_id = sid and f.status = 'ACTIVE'),
         people as (
            select coalesce(b.operation, a.operation) as op,
                   count(*) filter (where a.person is null) as arrivals,
                   count(*) filter (where b.person is null) as departures,
                   count(*) filter (where a.person is not null and b.person is not null and a.operation <> b.operation) as moved
              from a full join b on a.person = b.person
             group by 1),
         moved_out as (
            select a.operation as op, count(*) as n from a join b on a.person = b.person and a.operation <> b.operation
             group by 1),
         solutions as (
            select s.operation as op,
                   sum(c.members) filter (where s.module = 'RESETTLEMENT' and s.to_state = 'DEPARTED') as resettled,
                   sum(c.members) filter (where s.module = 'VOLREP' and s.to_state in ('DEPARTED', 'SPONTANEOUS_DEPARTURE')) as returned,
                   sum(c.members) filter (where s.module = 'LOCAL_INTEGRATION' and s.to_state = 'NATURALISED') as naturalised
              from refuge_warehouse.case_step_fact s
              join refuge_warehouse.case_fact c on c.snapshot_id = s.snapshot_id and c.case_key = s.case_key
             where s.snapshot_id = sid and s.at > t0 and s.at <= t1
             group by 1)
    select p.op, p.arrivals, p.departures, p.moved as moved_in, coalesce(m.n, 0) as moved_out,
           coalesce(x.resettled, 0)::bigint as resettled, coalesce(x.returned, 0)::bigint as returned,
           coalesce(x.naturalised, 0)::bigint as naturalised
      from people p
      left join moved_out m on m.op = p.op
      left join solutions x on x.op = p.op
     order by p.op
    loop
        select t.individuals into n0 from refuge_warehouse.population_total t where t.snapshot_id = from_sid and t.operation = r.op;
        select t.individuals into n1 from refuge_warehouse.population_total t where t.snapshot_id = sid and t.operation = r.op;
        -- arrivals - departures + moved in - moved out - total(to) + total(from) = 0
        supp := refuge.sdc_protect(array[r.arrivals, r.departures, r.moved_in, r.moved_out,
                                         coalesce(n1, 0), coalesce(n0, 0)]::bigint[],
                                   array[1, 1, 1, 1, 1, 1], array[1, 2, 3, 4, 5, 6], array[1, -1, 1, -1, -1, 1], k,
                                   array[false, false, false, false, n1 is not null, n0 is not null],
                                   array[false, false, false, false, false, false]);
        execute format('insert into refuge_warehouse.%I values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)',
                       'flow_summary_' || sid)
          using sid, from_sid, r.op,
                case when supp[1] then null else r.arrivals end, case when supp[2] then null else r.departures end,
                case when supp[3] then null else r.moved_in end, case when supp[4] then null else r.moved_out end,
                case when r.resettled between 1 and k - 1 then null else r.resettled end,
                case when r.returned between 1 and k - 1 then null else r.returned end,
                case when r.naturalised between 1 and k - 1 then null else r.naturalised end;
    end loop;
end
$$;

-- The published flows between a snapshot and the one before it.
drop function refuge_warehouse.flows(integer, integer);
create function refuge_warehouse.flows(from_snapshot integer, to_snapshot integer)
    returns table (operation text, arrivals bigint, departures bigint, moved_in bigint, moved_out bigint,
                   resettled bigint, returned bigint, naturalised bigint)
    language plpgsql stable security definer
    set search_path = pg_catalog, pg_temp
as $$
declare
    published_from integer;
begin
    perform refuge.authorize_any(array['refuge_analyst', 'refuge_dba']::name[], 'flows');
    select f.from_snapshot_id into published_from from refuge_warehouse.flow_summary f where f.snapshot_id = to_snapshot limit 1;
    if published_from is distinct from from_snapshot then
        raise exception using errcode = '22023',
            message = format('from_snapshot: flows are published between a snapshot and the one before it when it was taken; '
                             || 'snapshot %s has %s', to_snapshot,
                             coalesce('flows from snapshot ' || published_from, 'none'));
    end if;
    return query
    select f.operation, f.arrivals, f.departures, f.moved_in, f.moved_out, f.resettled, f.returned, f.naturalised
      from refuge_warehouse.flow_summary f
     where f.snapshot_id = to_snapshot
     order by f.operation;
end
$$;
comment on function refuge_warehouse.flows(integer, integer) is
    'people who arrived, left, moved between operations, and were resettled, returned or naturalised between a snapshot and the one before it (published with the later one; other pairs are refused, since overlapping intervals would give suppressed figures away), per operation; null = suppressed';

-- The HXL export and the pyramid read only published figures.
create or replace function refuge.hxl_population_csv(snapshot_id integer, min_cell integer default 5) returns text
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    floor_cell integer := greatest(coalesce(min_cell, 1), 1);
    cols text[] := array['female_0_4', 'female_5_11', 'female_12_17', 'female_18_59', 'female_60', 'female_unknown',
                         'female_total', 'male_0_4', 'male_5_11', 'male_12_17', 'male_18_59', 'male_60', 'male_unknown',
                         'male_total', 'total'];
    body text;
begin
    if not exists (select 1 from refuge_warehouse.snapshot s where s.id = hxl_population_csv.snapshot_id) then
        raise exception using errcode = 'P0002', message = format('snapshot_id: no snapshot %s', snapshot_id);
    end if;
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
comment on function refuge.hxl_population_csv(integer, integer) is
    'the UNHCR demographic table of a snapshot as HXL-tagged CSV; suppressed figures (and any under min_cell) are empty';

create or replace function refuge.population_pyramid_svg(snapshot_id integer, operation text) returns text
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    bands text[] := refuge_warehouse.age_bands();
    nb integer := cardinality(refuge_warehouse.age_bands());
    bar_h constant integer := 22;
    top constant integer := 60;
    mid constant integer := 400;
    half constant integer := 300;
    tot refuge_warehouse.population_total;
    widest bigint;
    taken timestamptz;
    svg text;
begin
    select s.as_of into taken from refuge_warehouse.snapshot s where s.id = population_pyramid_svg.snapshot_id;
    if taken is null then
        raise exception using errcode = 'P0002', message = format('snapshot_id: no snapshot %s', snapshot_id);
    end if;
    select * into tot from refuge_warehouse.population_total t
     where t.snapshot_id = population_pyramid_svg.snapshot_id and t.operation = population_pyramid_svg.operation;
    if not found then
        raise exception using errcode = 'P0002',
            message = format('operation: no active population of "%s" in snapshot %s', left(operation, 40), snapshot_id);
    end if;
    if tot.individuals is null then
        raise exception using errcode = 'P0002',
            message = format('operation: the population of "%s" in snapshot %s is too small to publish', left(operation, 40), snapshot_id);
    end if;
    select greatest(max(b.individuals), 1) into widest from refuge_warehouse.population_band b
     where b.snapshot_id = population_pyramid_svg.snapshot_id and b.operation = population_pyramid_svg.operation;
    svg := format('<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" font-family="sans-serif" font-size="11">',
                  2 * mid, top + nb * bar_h + 50, 2 * mid, top + nb * bar_h + 50)
        || format('<title>Population pyramid, %s, %s</title>', operation, to_char(taken at time zone 'UTC', 'YYYY-MM-DD'))
        || format('<text x="%s" y="22" text-anchor="middle" font-size="15" font-weight="bold">%s: %s people, %s</text>',
                  mid, operation, tot.individuals, to_char(taken at time zone 'UTC', 'YYYY-MM-DD'))
        || format('<text x="%s" y="42" text-anchor="middle" fill="#555">men left, women right; share of the population by age group%s%s</text>',
                  mid, case when tot.unknown_age is null then '; some of unknown age not shown'
                            when tot.unknown_age > 0 then format('; %s of unknown age not shown', tot.unknown_age) else '' end,
                  case when exists (select 1 from refuge_warehouse.population_band b
                                     where b.snapshot_id = population_pyramid_svg.snapshot_id
                                       and b.operation = population_pyramid_svg.operation and b.individuals is null)
                       then '; * withheld (a small group)' else '' end)
        || (select string_agg(
               format('<text x="%s" y="%s" text-anchor="middle">%s</text>', mid, top + (nb - g) * bar_h + 15, bands[g])
            || refuge_warehouse.pyramid_bar(m.individuals, tot.individuals, widest, mid, half, top + (nb - g) * bar_h, bar_h,
                                            'men ' || bands[g], true)
            || refuge_warehouse.pyramid_bar(f.individuals, tot.individuals, widest, mid, half, top + (nb - g) * bar_h, bar_h,
                                            'women ' || bands[g], false), '' order by g)
              from generate_series(1, nb) g
              left join refuge_warehouse.population_band m on m.snapshot_id = population_pyramid_svg.snapshot_id
                    and m.operation = population_pyramid_svg.operation and m.sex = 'M' and m.band = bands[g]
              left join refuge_warehouse.population_band f on f.snapshot_id = population_pyramid_svg.snapshot_id
                    and f.operation = population_pyramid_svg.operation and f.sex = 'F' and f.band = bands[g])
        || format('<text x="%s" y="%s" text-anchor="middle" fill="#555">Men</text>', mid - half / 2, top + nb * bar_h + 25)
        || format('<text x="%s" y="%s" text-anchor="middle" fill="#555">Women</text>', mid + half / 2, top + nb * bar_h + 25)
        || '</svg>';
    return svg;
end
$$;
comment on function refuge.population_pyramid_svg(integer, text) is
    'a population pyramid of an operation at a snapshot as SVG, by age bands that nest in UNHCR''s brackets; withheld bands marked *';

create function refuge_warehouse.pyramid_bar(n bigint, total bigint, widest bigint, mid integer, half integer, y integer,
                                             bar_h integer, label text, left_side boolean)
    returns text
    language sql immutable
    set search_path = pg_catalog, pg_temp
return case
    when n is null then
        format('<text x="%s" y="%s" text-anchor="%s" fill="#333">*</text>', case when left_side then mid - 29 else mid + 29 end,
               y + 15, case when left_side then 'end' else 'start' end)
    else
        format('<rect x="%s" y="%s" width="%s" height="%s" fill="%s"><title>%s: %s</title></rect>',
               case when left_side then mid - 25 - round(half * n / widest::numeric) else mid + 25 end, y + 2,
               round(half * n / widest::numeric), bar_h - 4, case when left_side then '#3b6fb6' else '#e07b39' end, label, n)
        || format('<text x="%s" y="%s" text-anchor="%s" fill="#333">%s%%</text>',
                  case when left_side then mid - 29 - round(half * n / widest::numeric) else mid + 29 + round(half * n / widest::numeric) end,
                  y + 15, case when left_side then 'end' else 'start' end, round(100.0 * n / total, 1))
    end;

-- The population by operation, site and the usual breakdowns.  Analysts
-- read the published cells of the latest snapshot taken by the end of
-- on_date (site null): live figures, however protected, would let two calls
-- a registration apart single out the person registered.  Supervisors read
-- live figures of their operations, protected the same way as published
-- ones: each operation's and each site's total may be known, so no
-- suppressed cell may be alone in its site or operation.
create or replace function refuge.population_summary(on_date date default current_date, min_cell integer default 5)
    returns table (operation text, site text, population_type text, origin_country text, sex text,
                   age_bracket text, individuals bigint, groups bigint)
    language plpgsql stable security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    k integer;
    ops text[];
    sites text[];
    ptypes text[];
    origins text[];
    sexes text[];
    brackets text[];
    ns bigint[];
    gs bigint[];
    ncells integer;
    counts bigint[];
    fixed boolean[];
    eid integer[];
    evar integer[];
    ecoef integer[];
    supp boolean[];
begin
    if not (refuge.caller_has('refuge_analyst') or refuge.caller_has('refuge_supervisor')) then
        perform refuge.authorize('refuge_analyst', 'population_summary');
    end if;
    if not (refuge.caller_is_superuser() or refuge.caller_has('refuge_supervisor')) then
        return query
        select c.operation, null::text, c.population_type, c.origin_country, c.sex, c.age_bracket,
               case when c.individuals < coalesce(min_cell, 0) then null else c.individuals end,
               case when c.individuals < coalesce(min_cell, 0) or c.families < coalesce(min_cell, 0) then null else c.families end
          from refuge_warehouse.population_cell c
         where c.snapshot_id = (select s.id from refuge_warehouse.snapshot s
                                 where s.as_of < (on_date + 1)::timestamptz and s.finished_at is not null
                                 order by s.as_of desc, s.id desc limit 1)
         order by c.operation, c.population_type, c.origin_country, c.sex, c.age_bracket;
        return;
    end if;
    k := case when refuge.caller_is_superuser() then greatest(coalesce(min_cell, 1), 1)
              else greatest(coalesce(min_cell, 0), pg_catalog.current_setting('refuge.min_cell_size')::integer) end;
    select array_agg(x.op order by x.op, x.site_code, x.ptype, x.origin, x.sx, x.bracket),
           array_agg(x.site_code order by x.op, x.site_code, x.ptype, x.origin, x.sx, x.bracket),
           array_agg(x.ptype order by x.op, x.site_code, x.ptype, x.origin, x.sx, x.bracket),
           array_agg(x.origin order by x.op, x.site_code, x.ptype, x.origin, x.sx, x.bracket),
           array_agg(x.sx order by x.op, x.site_code, x.ptype, x.origin, x.sx, x.bracket),
           array_agg(x.bracket order by x.op, x.site_code, x.ptype, x.origin, x.sx, x.bracket),
           array_agg(x.n order by x.op, x.site_code, x.ptype, x.origin, x.sx, x.bracket),
           array_agg(x.g order by x.op, x.site_code, x.ptype, x.origin, x.sx, x.bracket)
      into ops, sites, ptypes, origins, sexes, brackets, ns, gs
      from (select o.code as op, s.code as site_code, i.population_type as ptype, i.origin_country as origin, i.sex as sx,
                   refuge.age_bracket(i.date_of_birth, on_date) as bracket, count(*) as n,
                   count(distinct gm.group_id) as g
              from refuge.individual i
              join refuge.operation o on o.id = i.operation_id
              join refuge.site s on s.id = i.site_id
              left join refuge.group_membership gm on gm.individual_id = i.id and gm.valid_to is null
             where i.status = 'ACTIVE' and i.registration_date <= on_date
               and ((select refuge.caller_is_superuser()) or i.operation_id = any ((select refuge.scope_operations())::uuid[])
                    or i.site_id = any ((select refuge.scope_sites())::uuid[]))
             group by 1, 2, 3, 4, 5, 6) x;
    ncells := coalesce(cardinality(ns), 0);
    if ncells = 0 then
        return;
    end if;
    -- variables: the cells, then each site's and operation's total (known to anyone: never suppressed)
    with cell as (select c.i, ops[c.i] as op, sites[c.i] as site_code, ns[c.i] as n from generate_series(1, ncells) c(i)),
    tot as (select row_number() over (order by t.kind, t.op, t.site_code)::integer + ncells as vid, t.*
              from (select 'site' as kind, op, site_code, sum(n)::bigint as n from cell group by op, site_code
                    union all select 'op', op, '', sum(n)::bigint from cell group by op) t),
    e as (select 's|' || c.op || '|' || c.site_code as eq, c.i as vid, 1 as coef from cell c
          union all select 's|' || t.op || '|' || t.site_code, t.vid, -1 from tot t where t.kind = 'site'
          union all select 'o|' || t.op, t.vid, 1 from tot t where t.kind = 'site'
          union all select 'o|' || t.op, t.vid, -1 from tot t where t.kind = 'op'),
    r as (select dense_rank() over (order by e.eq)::integer as eid, e.vid, e.coef from e)
    select ns || (select array_agg(t.n order by t.vid) from tot t),
           array_fill(false, array[ncells]) || (select array_agg(true) from tot t),
           (select array_agg(r.eid order by r.eid, r.vid) from r), (select array_agg(r.vid order by r.eid, r.vid) from r),
           (select array_agg(r.coef order by r.eid, r.vid) from r)
      into counts, fixed, eid, evar, ecoef;
    supp := refuge.sdc_protect(counts, eid, evar, ecoef, k, fixed);
    return query
    select ops[c.i], sites[c.i], ptypes[c.i], origins[c.i], sexes[c.i], brackets[c.i],
           case when supp[c.i] then null else ns[c.i] end,
           case when supp[c.i] or gs[c.i] < k then null else gs[c.i] end
      from generate_series(1, ncells) c(i)
     order by c.i;
end
$$;
comment on function refuge.population_summary(date, integer) is
    'active individuals by operation, site, population type, origin, sex and UNHCR age bracket.  Analysts: the published cells of the latest snapshot taken by the end of on_date (site null).  Supervisors: live figures of their operations; cells under refuge.min_cell_size (min_cell for superusers), and those that would give them away through a site''s or operation''s total, are null';

-- Analysts read published figures only; the facts are the DBA's.
do $facts$
declare
    t text;
begin
    foreach t in array array['individual_fact', 'population_fact', 'family_fact', 'case_fact', 'case_step_fact'] loop
        execute format('revoke select on refuge_warehouse.%I from refuge_analyst', t);
        execute format('drop policy warehouse_read on refuge_warehouse.%I', t);
        execute format('create policy dba_read on refuge_warehouse.%I for select to refuge_dba using (true)', t);
    end loop;
    foreach t in array refuge_warehouse.published_tables() loop
        execute format('alter table refuge_warehouse.%I owner to refuge_owner', t);
        execute format('alter table refuge_warehouse.%I enable row level security', t);
        execute format('alter table refuge_warehouse.%I force row level security', t);
        execute format('create policy owner_all on refuge_warehouse.%I for all to refuge_owner using (true) with check (true)', t);
        execute format('grant select on refuge_warehouse.%I to refuge_analyst, refuge_dba', t);
        execute format('create policy warehouse_read on refuge_warehouse.%I for select to refuge_analyst, refuge_dba using (true)', t);
    end loop;
    foreach t in array array['population', 'population_trend', 'population_statistics', 'case_processing', 'case_states'] loop
        execute format('alter view refuge_warehouse.%I owner to refuge_owner', t);
        execute format('grant select on refuge_warehouse.%I to refuge_analyst, refuge_dba', t);
    end loop;
end
$facts$;
grant select (min_cell_size) on refuge_warehouse.snapshot to refuge_analyst;

-- The snapshots taken before 0.7.0, published.  Their partitions are data,
-- not members of the extension (created here, inside its script, they would
-- be: pg_dump would leave them out and drop_snapshot could not drop them);
-- the older partitions' frozen triggers fire in every replication role, as
-- newer ones do.
do $old$
declare
    sid integer;
    prev integer;
    part record;
begin
    for sid, prev in select s.id, lag(s.id) over (order by s.as_of, s.id) from refuge_warehouse.snapshot s
                      where s.finished_at is not null order by s.as_of, s.id loop
        update refuge_warehouse.snapshot s set min_cell_size = pg_catalog.current_setting('refuge.min_cell_size')::integer
         where s.id = sid;
        perform refuge_warehouse.publish(sid, prev);
    end loop;
    for part in select c.oid::regclass as rel,
                       exists (select 1 from pg_catalog.pg_depend d
                                where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = c.oid and d.deptype = 'e') as member
                  from pg_catalog.pg_class c
                 where c.relnamespace = 'refuge_warehouse'::regnamespace and c.relispartition loop
        if part.member then
            execute format('alter extension refuge drop table %s', part.rel);
        end if;
        if exists (select 1 from pg_catalog.pg_trigger t where t.tgrelid = part.rel and t.tgname = 'frozen') then
            execute format('alter table %s enable always trigger frozen', part.rel);
            execute format('alter table %s enable always trigger frozen_truncate', part.rel);
        end if;
    end loop;
end
$old$;
-- What a deployment should have set, checked: the preload, statement
-- logging that could write personal data, background workers for logged
-- reads, the database encoding.  README, "Deployment".
create function refuge.deployment_check()
    returns table (setting text, value text, recommended text, ok boolean, why text)
    language sql stable
    set search_path = pg_catalog, pg_temp
begin atomic
    select 'shared_preload_libraries', case when refuge.preloaded() then 'includes refuge' else 'without refuge' end,
           'includes refuge', refuge.preloaded(),
           'superuser-only settings (the vault key file) hidden from the start; the vault opens only then'
    union all
    select 'log_statement', current_setting('log_statement'), 'none or ddl',
           current_setting('log_statement') in ('none', 'ddl'),
           'all and mod write every statement, personal data included, to the server log'
    union all
    select 'log_min_error_statement', current_setting('log_min_error_statement'), 'panic',
           current_setting('log_min_error_statement') = 'panic',
           'refuge hides failed API calls; other failed statements are logged with their text'
    union all
    select 'log_parameter_max_length_on_error', current_setting('log_parameter_max_length_on_error'), '0',
           current_setting('log_parameter_max_length_on_error') = '0',
           'bind values of failed statements would be logged'
    union all
    select 'max_worker_processes', current_setting('max_worker_processes'), 'at least 8 more than the parallel workers',
           current_setting('max_worker_processes')::integer >= current_setting('max_parallel_workers')::integer + 8,
           'every logged read needs a background worker for a moment; none free means the read is refused'
    union all
    select 'idle_in_transaction_session_timeout', current_setting('idle_in_transaction_session_timeout'), '1min to 1h',
           (select x.setting::bigint between 60000 and 3600000 from pg_catalog.pg_settings x
             where x.name = 'idle_in_transaction_session_timeout'),
           'refuge.seal_audit() seals only what no open transaction can still add to; a session left idle in a transaction holds the seal back'
    union all
    select 'server_encoding', current_setting('server_encoding'), 'UTF8', current_setting('server_encoding') = 'UTF8',
           'names in every script; identifiers and names are checked as Unicode';
end;
comment on function refuge.deployment_check() is
    'the settings a refuge deployment should have (README, Deployment): value, recommendation, whether it holds, and why';
-- Ownership, row-level security and privileges of what 0.7.0 adds (as in
-- the earlier releases: NOLOGIN owner, RLS enabled and forced, no PUBLIC
-- execute, the API granted by role).

do $own$
declare
    t record;
begin
    for t in select c.oid::regclass as rel from pg_catalog.pg_class c
              where c.relnamespace = 'refuge'::regnamespace and c.relkind in ('r', 'p')
                and c.relowner <> 'refuge_owner'::regrole
    loop
        execute format('alter table %s owner to refuge_owner', t.rel);
        execute format('alter table %s enable row level security', t.rel);
        execute format('alter table %s force row level security', t.rel);
        execute format('create policy owner_all on %s for all to refuge_owner using (true) with check (true)', t.rel);
    end loop;
end
$own$;

-- The audit classes: readable by every refuge role (they say nothing about anyone).
grant select on refuge.audit_scope to refuge_registration, refuge_supervisor, refuge_analyst, refuge_admin,
    refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement,
    refuge_protection, refuge_child_protection, refuge_partner, refuge_dba;
create policy read_all on refuge.audit_scope for select to refuge_registration, refuge_supervisor, refuge_analyst,
    refuge_admin, refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement,
    refuge_protection, refuge_child_protection, refuge_partner, refuge_dba using (true);

-- Functions: owned by refuge_owner, no PUBLIC execute.
do $fn$
declare
    f record;
begin
    for f in select p.oid::regprocedure as sig from pg_catalog.pg_proc p
              where p.pronamespace in ('refuge'::regnamespace, 'refuge_warehouse'::regnamespace)
                and p.proowner <> 'refuge_owner'::regrole
    loop
        execute format('alter function %s owner to refuge_owner', f.sig);
        execute format('revoke all on function %s from public', f.sig);
    end loop;
end
$fn$;
alter type refuge.tracing_match owner to refuge_owner;

-- Alerts: details under the caller's own rights; the sweep for supervisors and the scheduler.
grant execute on function refuge.alert_details(uuid) to refuge_rsd, refuge_resettlement, refuge_protection,
    refuge_child_protection, refuge_assistance, refuge_supervisor, refuge_biometrics_admin;
revoke execute on function refuge.check_overdue() from refuge_admin;
grant execute on function refuge.check_overdue() to refuge_supervisor, refuge_dba;
grant execute on function refuge.caller_modules(), refuge.may_work_case(text, uuid, uuid), refuge.scope_operations(),
    refuge.scope_sites(), refuge.in_scope(uuid, uuid) to refuge_dba;
grant execute on function refuge.set_gbv_consent(uuid, boolean, boolean, text) to refuge_rsd, refuge_resettlement,
    refuge_protection, refuge_child_protection, refuge_assistance, refuge_supervisor;

-- Status changes: requested by registration staff, decided by supervisors;
-- read like the individual they concern.
grant select on refuge.status_change to refuge_registration, refuge_supervisor;
create policy staff_read on refuge.status_change for select to refuge_registration, refuge_supervisor
    using (operation_id = any ((select refuge.scope_operations())::uuid[])
           or site_id = any ((select refuge.scope_sites())::uuid[]));
grant execute on function refuge.request_status_change(uuid, text, text, text) to refuge_registration, refuge_supervisor;
grant execute on function refuge.decide_status_change(uuid, boolean, text) to refuge_supervisor;
grant execute on function refuge.vulnerability_factors(uuid, text) to refuge_registration, refuge_supervisor;

-- The scheduler's jobs (README, "Scheduling with pg_cron"): a login that is
-- a member of refuge_dba seals the audit chain, sweeps overdue cases and
-- takes snapshots.
grant execute on function refuge.seal_audit(), refuge.verify_audit(bigint, text), refuge.audit_head() to refuge_dba;
alter function refuge_warehouse.pyramid_bar(bigint, bigint, bigint, integer, integer, integer, integer, text, boolean) owner to refuge_owner;
grant execute on function refuge_warehouse.flows(integer, integer), refuge_warehouse.population_forecast(text, integer),
    refuge_warehouse.pyramid_bar(bigint, bigint, bigint, integer, integer, integer, integer, text, boolean),
    refuge_warehouse.age_bands(), refuge_warehouse.age_band(integer), refuge_warehouse.band_bracket(text)
    to refuge_analyst, refuge_dba;
-- sdc_protect works in memory bounded by its caps, yet a caller choosing the
-- equations could still make it work hard: only the warehouse's publishing runs it
revoke execute on function refuge.sdc_protect(bigint[], integer[], integer[], integer[], integer, boolean[], boolean[], integer[])
    from public;
-- the audit classes are shipped with the extension (nothing local to dump)
select pg_catalog.pg_extension_config_dump('refuge.audit_scope', 'where false');
grant execute on function refuge.deployment_check(), refuge.preloaded() to refuge_admin, refuge_dba;
grant execute on function refuge.identifier_key(text) to refuge_registration, refuge_supervisor, refuge_biometrics,
    refuge_biometrics_admin, refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection;
-- the chain's length and head count every operation's and module's changes:
-- for administrators and the DBA's scheduler, not for supervisors
revoke execute on function refuge.seal_audit(), refuge.verify_audit(bigint, text), refuge.audit_head() from refuge_supervisor;
