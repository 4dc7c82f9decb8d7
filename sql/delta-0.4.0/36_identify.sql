-- 1:N identification without enrolment (MOSIP ABIS "identify"): someone
-- without documents says they are registered, or a verification exercise
-- checks a person against everyone.  Same search and fused comparison as
-- enrol_biometrics; candidates at or below refuge.target_fpir, strongest
-- first, shown as enrol_biometrics shows them (a number only when the caller
-- may see that individual).  Logged in refuge.biometric_identification.
create function refuge.identify(templates jsonb, site text, purpose text, max_results integer default 5)
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
    new_id uuid;
begin
    perform refuge.authorize_any(array['refuge_biometrics', 'refuge_biometrics_admin'], 'identify');
    select * into s from refuge.site x where x.code = identify.site
       and (refuge.in_scope(x.operation_id, x.id) or refuge.caller_has('refuge_biometrics_admin'));
    if not found then
        perform refuge.raise_field('23503', 'site', format('"%s" is not a site you are assigned to', coalesce(site, 'null')));
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
    insert into refuge.biometric_identification (operation_id, site_id, purpose, gallery_size, target_fpir, candidates,
                                                 best_fpir, device, searched_by)
    values (s.operation_id, s.id, btrim(purpose), gallery, pol.target_fpir, ids, best, p.device, refuge.caller())
    returning id into new_id;
    return jsonb_build_object('identification_id', new_id, 'gallery_size', gallery, 'target_fpir', pol.target_fpir,
                              'candidates', found_rows);
end
$$;
comment on function refuge.identify(jsonb, text, text, integer) is
    '1:N identification of a person against everyone enrolled, without enrolling (logged): ranked candidates at or below refuge.target_fpir';
