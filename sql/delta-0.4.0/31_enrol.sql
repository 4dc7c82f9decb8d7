-- Enrolment with deduplication.
--
-- 1. The probe is searched 1:N without any lock: both eyes against every
--    iris (exact index), the fingers of refuge.dedup_fingers against their
--    position's candidate index.  The best few people of each search become
--    candidates.
-- 2. The enrolment lock is taken (one transaction-level advisory lock for the
--    whole gallery, held to commit).  People enrolled after step 1 began
--    (biometric_enrolment.seq above the mark read first) are added to the
--    candidates: the lock guarantees that they have committed, and READ
--    COMMITTED lets the next statement see them.  Under REPEATABLE READ or
--    SERIALIZABLE they cannot be seen: if a fresh snapshot shows any such
--    enrolment, this one fails with 40001 and the client retries.  Two sessions enrolling one person at the same
--    moment therefore yield one identity and one blocked (or adjudicated)
--    attempt, while the costly searches still run in parallel.
-- 3. Each candidate is compared with the probe on every finger and eye both
--    have (refuge.person_match; the searched ones before the lock is taken,
--    so that it is held only briefly); fused evidence gives the rate at which a
--    gallery of this size would produce such a match by chance.  At or below
--    refuge.block_fpir the enrolment is blocked; at or below
--    refuge.target_fpir it goes to adjudication; otherwise it is enrolled.

create function refuge.enrolment_lock() returns void
    language sql volatile
    -- key ('RFG', 1): one lock for the gallery
    return pg_catalog.pg_advisory_xact_lock(5392967, 1);

-- Whether the caller may see an individual's identifying data.
create function refuge.may_see(p_operation uuid, p_site uuid) returns boolean
    language sql stable
    return refuge.in_scope(p_operation, p_site) or refuge.caller_has('refuge_biometrics_admin');

-- Candidate identities for a probe: the best few of each 1:N search (both
-- eyes against every iris; each finger of refuge.dedup_fingers against its
-- position), kept when the evidence of the searches in which a person came
-- up would be produced by chance in fewer than half of all such searches of
-- a gallery this size.  The full comparison (score_candidates) then looks
-- at every part; this only spares it the best chance hits of each search.
create function refuge.dedup_candidates(fingers refuge.fingerprint[], irises refuge.iris[],
                                        search_fingers smallint[], gallery bigint, per_search integer default 3)
    returns uuid[]
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
    -- scopes the change below to this function
    set refuge.fingerprint_candidates = 100
as $$
declare
    hits jsonb := '[]';
    found_hits jsonb;
    probe refuge.fingerprint;
begin
    perform pg_catalog.set_config('refuge.fingerprint_candidates',
                                  greatest((refuge.dedup_settings()).finger_candidates, per_search)::text, true);
    for e in 1 .. 2 loop
        continue when irises[e] is null;
        select jsonb_agg(jsonb_build_object('id', b.individual_id, 'e', refuge.iris_evidence(b.d))) into found_hits
          from (select i.individual_id, i.template <-> irises[e] as d from refuge.biometric_iris i
                 order by i.template <-> irises[e] limit per_search) b;
        hits := hits || coalesce(found_hits, '[]');
    end loop;
    foreach probe in array fingers loop
        continue when refuge.fingerprint_position(probe) <> all (search_fingers);
        -- the position is a literal so that the partial index of that position is chosen
        execute format('select jsonb_agg(jsonb_build_object(''id'', b.individual_id,
                               ''e'', least(10, greatest(0, -log(greatest(b.d, 1e-300))))))
                          from (select f.individual_id, f.template <-> $1 as d from refuge.biometric_finger f
                                 where f.position = %s order by f.template <-> $1 limit %s) b',
                       refuge.fingerprint_position(probe), per_search)
           into found_hits using probe;
        hits := hits || coalesce(found_hits, '[]');
    end loop;
    return array(select (h ->> 'id')::uuid from jsonb_array_elements(hits) h
                  group by h ->> 'id'
                 having refuge.fused_fpir(sum((h ->> 'e')::float8), count(*)::int, gallery::float8) <= 0.5);
end
$$;

-- An identity's gallery templates: fingers by position, irises [right, left].
create function refuge.gallery_templates(identity uuid, out gallery_fingers refuge.fingerprint[],
                                         out gallery_irises refuge.iris[])
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    select coalesce((select array_agg(f.template order by f.position) from refuge.biometric_finger f
                      where f.individual_id = identity), '{}'),
           array[(select i.template from refuge.biometric_iris i where i.individual_id = identity and i.eye = 'right'),
                 (select i.template from refuge.biometric_iris i where i.individual_id = identity and i.eye = 'left')];
end;

-- Fused comparison of a probe with candidate identities, strongest first.
create function refuge.score_candidates(fingers refuge.fingerprint[], irises refuge.iris[], candidates uuid[],
                                        subject uuid, gallery bigint)
    returns table (candidate_id uuid, evidence double precision, modalities integer, fpir double precision,
                   scores double precision[])
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    select c.id, m.evidence, m.modalities, refuge.fused_fpir(m.evidence, m.modalities, gallery::double precision), m.scores
      from unnest(candidates) c(id)
      cross join lateral refuge.gallery_templates(c.id) g
      cross join lateral refuge.person_match(fingers, irises, g.gallery_fingers, g.gallery_irises) m
     where c.id <> subject
       and m.modalities > 0
       and not exists (select 1 from refuge.dedup_cleared_pair p
                        where p.individual_a = least(subject, c.id) and p.individual_b = greatest(subject, c.id))
     order by 4, m.evidence desc;
end;

-- A candidate as shown to the caller: the record's number only when the
-- caller may see that individual.
create function refuge.candidate_json(candidate uuid, rank integer, evidence double precision, modalities integer,
                                      fpir double precision, scores double precision[])
    returns jsonb
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    select jsonb_strip_nulls(jsonb_build_object('rank', rank, 'visible', refuge.may_see(i.operation_id, i.site_id),
               'individual_id', case when refuge.may_see(i.operation_id, i.site_id) then i.id end,
               'number', case when refuge.may_see(i.operation_id, i.site_id) then i.number end,
               'evidence', round(evidence::numeric, 2), 'modalities', modalities,
               'fpir', round(greatest(fpir, 1e-15)::numeric, 15),
               'fingers', (select jsonb_object_agg(p, round(scores[p]::numeric, 1)) from generate_series(1, 10) p
                            where scores[p] is not null),
               'irises', jsonb_strip_nulls(jsonb_build_object('right', round(scores[11]::numeric, 4),
                                                               'left', round(scores[12]::numeric, 4)))))
      from refuge.individual i where i.id = candidate;
end;

create function refuge.raise_fraud_alert(kind text, subject uuid, other uuid, capture uuid, details jsonb)
    returns uuid
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    ind refuge.individual;
    new_id uuid;
begin
    select * into ind from refuge.individual i where i.id = subject;
    insert into refuge.fraud_alert (kind, individual_id, other_id, operation_id, site_id, capture_id, details, raised_by)
    values (kind, subject, other, ind.operation_id, ind.site_id, capture, details, refuge.caller())
    returning id into new_id;
    perform pg_catalog.pg_notify('refuge_fraud_alert', new_id::text);
    return new_id;
end
$$;

-- Put a capture's templates into the gallery under its individual.
create function refuge.gallery_insert(cap refuge.biometric_capture) returns void
    language sql volatile
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    insert into refuge.biometric_enrolment (individual_id, identity_id, operation_id, site_id, capture_id, status)
    values (cap.individual_id, cap.individual_id, cap.operation_id, cap.site_id, cap.id, 'ENROLLED');
    insert into refuge.biometric_finger (individual_id, position, template, quality, capture_id)
    select cap.individual_id, refuge.fingerprint_position(f), f, refuge.fingerprint_quality(f), cap.id
      from unnest(cap.fingers) f;
    insert into refuge.biometric_iris (individual_id, eye, template, quality, capture_id)
    select cap.individual_id, case u.ord when 1 then 'right' else 'left' end, u.t, cap.iris_quality[u.ord], cap.id
      from unnest(cap.irises) with ordinality u(t, ord)
     where u.t is not null;
end;

-- Steps 2 and 3 for a stored capture: lock, late enrolments, fused scores,
-- decision, and its records.  Returns the result of enrol_biometrics.
create function refuge.enrol_decide(capture_id uuid, candidates uuid[]) returns jsonb
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    cap refuge.biometric_capture;
    late uuid[];
    scored jsonb;
    gallery bigint;
    flagged jsonb := '[]';
    rk integer := 0;
    c record;
    alert uuid;
    case_id uuid;
    res jsonb;
begin
    select * into cap from refuge.biometric_capture b where b.id = enrol_decide.capture_id;
    gallery := greatest(cap.gallery_size, 1);
    -- the searched candidates are compared before the lock: it is held only
    -- for those enrolled meanwhile, the decision and the writes
    select coalesce(jsonb_agg(to_jsonb(s)), '[]') into scored
      from refuge.score_candidates(cap.fingers, cap.irises, candidates, cap.individual_id, gallery) s;
    perform refuge.enrolment_lock();
    if current_setting('transaction_isolation') <> 'read committed'
       and refuge.gallery_seq_latest() > (select coalesce(max(e.seq), 0) from refuge.biometric_enrolment e) then
        raise exception using errcode = '40001',
            message = 'enrol_biometrics: another enrolment committed after this transaction''s snapshot',
            hint = 'Retry the transaction (or enrol at READ COMMITTED, which re-reads the gallery under the enrolment lock).';
    end if;
    late := array(select e.individual_id from refuge.biometric_enrolment e
                   where e.seq > cap.gallery_seq and e.status = 'ENROLLED' and e.individual_id <> all (candidates));
    if cardinality(late) > 0 then
        select scored || coalesce(jsonb_agg(to_jsonb(s)), '[]') into scored
          from refuge.score_candidates(cap.fingers, cap.irises, late, cap.individual_id, gallery) s;
    end if;

    res := jsonb_build_object('capture_id', cap.id, 'individual_id', cap.individual_id,
                                 'gallery_size', gallery,
                                 'candidates_compared', cardinality(candidates) + cardinality(late),
                                 'target_fpir', cap.target_fpir, 'block_fpir', cap.block_fpir);
    for c in select * from jsonb_to_recordset(scored) as s(candidate_id uuid, evidence double precision,
                               modalities integer, fpir double precision, scores double precision[])
              where s.fpir <= cap.target_fpir order by s.fpir, s.evidence desc limit 10 loop
        rk := rk + 1;
        if rk = 1 and c.fpir <= cap.block_fpir then
            alert := refuge.raise_fraud_alert('duplicate_enrolment', cap.individual_id, c.candidate_id, cap.id,
                         jsonb_build_object('evidence', c.evidence, 'modalities', c.modalities, 'fpir', greatest(c.fpir, 1e-15)));
            res := res || jsonb_build_object('decision', 'blocked', 'alert_id', alert,
                'match', refuge.candidate_json(c.candidate_id, 1, c.evidence, c.modalities, c.fpir, c.scores));
            exit;
        elsif rk = 1 then
            insert into refuge.dedup_case (capture_id, individual_id, operation_id, site_id)
            values (cap.id, cap.individual_id, cap.operation_id, cap.site_id)
            returning id into case_id;
        end if;
        insert into refuge.dedup_candidate (case_id, candidate_id, rank, evidence, modalities, fpir, scores)
        values (case_id, c.candidate_id, rk, c.evidence, c.modalities, c.fpir, c.scores);
        flagged := flagged || refuge.candidate_json(c.candidate_id, rk, c.evidence, c.modalities, c.fpir, c.scores);
    end loop;
    if case_id is not null then
        res := res || jsonb_build_object('decision', 'adjudication', 'case_id', case_id, 'candidates', flagged);
    elsif rk = 0 then
        perform refuge.gallery_insert(cap);
        res := res || jsonb_build_object('decision', 'enrolled');
    end if;
    update refuge.biometric_capture b set decision = res ->> 'decision', result = res
     where b.id = cap.id;
    return res;
end
$$;

create function refuge.enrol_biometrics(individual_id uuid, templates jsonb) returns jsonb
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
                    refuge.vault_seal(decode(img ->> 'data', 'base64'),
                                      format('%s|%s|%s', vault_id, ind.id, img ->> 'part')));
        end loop;
    end if;
    return refuge.enrol_decide(cap_id, cands);
end
$$;
comment on function refuge.enrol_biometrics(uuid, jsonb) is
    'enrol a person''s fingerprints and irises after a fused 1:N search of everyone enrolled: decision enrolled, blocked or adjudication';
