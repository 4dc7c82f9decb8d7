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
