-- 1:1 verification: is this the person enrolled as individual_id?  The
-- threshold follows from refuge.verify_fmr and the parts compared (a gallery
-- of one).  Every verification is logged with who, where and when.

create function refuge.verify_person(ind refuge.individual, fingers refuge.fingerprint[], irises refuge.iris[],
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
    insert into refuge.biometric_verification (individual_id, identity_id, operation_id, site_id, purpose, match,
                                               evidence, threshold, modalities, scores, device, verified_by)
    values (ind.id, identity, ind.operation_id, coalesce(p_site, ind.site_id), purpose,
            k > 0 and ev >= threshold, ev, threshold, k, sc, device, refuge.caller())
    returning * into v;
    return v;
end
$$;

create function refuge.verification_json(v refuge.biometric_verification) returns jsonb
    language sql immutable
begin atomic
    select jsonb_strip_nulls(jsonb_build_object('verification_id', v.id, 'match', v.match,
        'score', round(v.evidence::numeric, 2), 'threshold', round(v.threshold::numeric, 2),
        'modalities', v.modalities,
        'fmr', case when v.modalities > 0 then round(greatest(refuge.fused_fpir(v.evidence, v.modalities, 1), 1e-15)::numeric, 15) end,
        'reason', case when v.identity_id is null then 'not_enrolled'
                       when v.modalities = 0 then 'no_common_parts' end));
end;

create function refuge.verify(individual_id uuid, templates jsonb) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    ind refuge.individual;
    p record;
    site_id uuid;
begin
    perform refuge.authorize_any(array['refuge_biometrics', 'refuge_assistance'], 'verify');
    if verify.individual_id is null then
        perform refuge.raise_field('22004', 'individual_id', 'is required');
    end if;
    select * into ind from refuge.individual i where i.id = verify.individual_id;
    if not found or not refuge.in_scope(ind.operation_id, ind.site_id) then
        perform refuge.raise_field('P0002', 'individual_id', format('no individual %s in your operations', verify.individual_id));
    end if;
    if templates is null then
        perform refuge.raise_field('22004', 'templates', 'is required');
    end if;
    p := refuge.parse_biometrics(templates, false);
    if jsonb_array_length(p.images) > 0 then
        perform refuge.raise_field('22023', 'templates.images', 'verification takes templates only; images go to the vault at enrolment');
    end if;
    if p.site is not null then
        select s.id into site_id from refuge.site s where s.operation_id = ind.operation_id and s.code = p.site;
        if site_id is null then
            perform refuge.raise_field('23503', 'templates.capture.site', format('"%s" is not a site of this operation', p.site));
        end if;
    end if;
    return refuge.verification_json(refuge.verify_person(ind, p.fingers, p.irises, site_id, 'verify', p.device));
end
$$;
comment on function refuge.verify(uuid, jsonb) is
    '1:1 biometric verification of an individual (logged): match, score (fused evidence), threshold from refuge.verify_fmr';
