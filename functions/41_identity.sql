-- Identity management: enrolment with deduplication, adjudication, 1:1
-- verification and 1:N identification (both logged), template reads.

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
        -- a field site holds only the templates of nearby operations' people:
        -- a match with one of them is decided at HQ (refuge.global_decision)
        if refuge.local_node() <> 'HQ' and not exists (select 1 from refuge.individual i where i.id = c.candidate_id) then
            if rk = 1 then
                res := res || jsonb_build_object('decision', case when c.fpir <= cap.block_fpir then 'blocked' else 'adjudication' end,
                    'decided_at', 'HQ',
                    'match', refuge.candidate_json(c.candidate_id, 1, c.evidence, c.modalities, c.fpir, c.scores));
                exit;
            end if;
            continue;
        end if;
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
    if res ? 'decided_at' then
        null;
    elsif case_id is not null then
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
    -- where an operation bases biometrics on consent, none is taken without it
    perform refuge.require_consent(ind.id, 'BIOMETRICS', 'individual_id');
    select * into existing from refuge.biometric_enrolment e where e.individual_id = ind.id;
    if found then
        perform refuge.raise_field('23505', 'individual_id',
            format('%s is already enrolled (%s since %s)', ind.number, lower(existing.status), refuge.iso(existing.enrolled_at::date)));
    end if;
    select d.id into open_case from refuge.dedup_case d
     where d.individual_id = ind.id and d.kind = 'biometric' and d.status <> 'CLOSED';
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
comment on function refuge.enrol_biometrics(uuid, jsonb) is
    'enrol a person''s fingerprints and irises after a fused 1:N search of everyone enrolled: decision enrolled, blocked or adjudication';
grant execute on function refuge.enrol_biometrics(uuid, jsonb) to refuge_biometrics;

-- Adjudication of grey-zone enrolments (MOSIP's "manual adjudication").
-- A biometrics administrator decides each case:
--   link       same person, both records kept; the subject shares the
--              candidate's biometric identity
--   merge      same person, the subject is a duplicate record: closed as
--              DUPLICATE once a supervisor of its operation approves
--   different  different people: every candidate pair of the case is cleared
--              (never raised again) and the enrolment is decided afresh
--   fraud      a deliberate double registration: a fraud case is opened and
--              the subject is not enrolled
-- Every decision is in the audit trail (dedup_case and what it changes).
create function refuge.dedup_case_for_update(p_case uuid) returns refuge.dedup_case
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.dedup_case;
begin
    if p_case is null then
        perform refuge.raise_field('22004', 'case_id', 'is required');
    end if;
    select * into c from refuge.dedup_case d where d.id = p_case for update;
    if not found then
        perform refuge.raise_field('P0002', 'case_id', format('no adjudication case %s', p_case));
    end if;
    return c;
end
$$;

-- The identity a candidate stands for now (it may have been merged or linked since).
create function refuge.identity_of(p_individual uuid) returns uuid
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
    return (select e.identity_id from refuge.biometric_enrolment e where e.individual_id = p_individual);

create function refuge.adjudicate(case_id uuid, decision text, matched_id uuid default null, reason text default null)
    returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    c refuge.dedup_case;
    cap refuge.biometric_capture;
    identity uuid;
    fraud uuid;
    res jsonb;
    hw bigint;
    gallery bigint;
begin
    perform refuge.authorize('refuge_biometrics_admin', 'adjudicate');
    c := refuge.dedup_case_for_update(adjudicate.case_id);
    if c.status <> 'OPEN' then
        perform refuge.raise_field('55000', 'case_id', format('case %s is %s, not open', c.id, lower(c.status)));
    end if;
    if decision is null or decision not in ('link', 'merge', 'different', 'fraud') then
        perform refuge.raise_field('22023', 'decision',
            format('"%s" is not one of link, merge, different, fraud', coalesce(decision, 'null')));
    end if;
    if nullif(btrim(reason), '') is null then
        perform refuge.raise_field('22004', 'reason', 'is required: say what the decision rests on');
    end if;
    if decision in ('link', 'merge', 'fraud') then
        if matched_id is null and decision = 'fraud' then
            select d.candidate_id into matched_id from refuge.dedup_candidate d where d.case_id = c.id and d.rank = 1;
        end if;
        if matched_id is null then
            perform refuge.raise_field('22004', 'matched_id', format('is required for %s', decision));
        end if;
        if not exists (select 1 from refuge.dedup_candidate d where d.case_id = c.id and d.candidate_id = matched_id) then
            perform refuge.raise_field('22023', 'matched_id', format('%s is not a candidate of case %s', matched_id, c.id));
        end if;
        -- nobody is merged into, or linked to, a record erased at the person's request
        if exists (select 1 from refuge.individual i where i.id in (matched_id, c.individual_id) and i.status = 'ERASED') then
            perform refuge.raise_field('55000', 'matched_id', 'one of the records was erased at the person''s request: decide different');
        end if;
    elsif matched_id is not null then
        perform refuge.raise_field('22023', 'matched_id', 'must be empty when the people are different');
    end if;
    if c.kind = 'demographic' and decision = 'link' then
        perform refuge.raise_field('22023', 'decision',
            'link joins biometric enrolments: a demographic case is decided merge (same person), different or fraud');
    end if;
    select * into cap from refuge.biometric_capture b where b.id = c.capture_id;

    if decision = 'link' then
        perform refuge.enrolment_lock();
        identity := refuge.identity_of(matched_id);
        insert into refuge.biometric_enrolment (individual_id, identity_id, operation_id, site_id, capture_id, status)
        values (c.individual_id, identity, cap.operation_id, cap.site_id, cap.id, 'LINKED');
        res := jsonb_build_object('decision', 'link', 'identity_id', identity);
        update refuge.dedup_case d set status = 'CLOSED' where d.id = c.id;
    elsif decision = 'merge' then
        res := jsonb_build_object('decision', 'merge', 'status', 'awaiting supervisor approval');
        update refuge.dedup_case d set status = 'AWAITING_APPROVAL' where d.id = c.id;
    elsif decision = 'fraud' then
        insert into refuge.fraud_case (individual_id, other_id, operation_id, site_id, source, dedup_case_id, summary, opened_by)
        values (c.individual_id, matched_id, c.operation_id, c.site_id, 'adjudication', c.id, btrim(reason), refuge.caller())
        returning id into fraud;
        res := jsonb_build_object('decision', 'fraud', 'fraud_case_id', fraud);
        update refuge.dedup_case d set status = 'CLOSED' where d.id = c.id;
    elsif c.kind = 'demographic' then
        -- the decision itself clears the pairs for the demographic search
        -- (refuge.demographic_cleared); a decision on names alone does not
        -- stop a biometric match later
        update refuge.dedup_case d set status = 'CLOSED' where d.id = c.id;
        res := jsonb_build_object('decision', 'different');
    else
        insert into refuge.dedup_cleared_pair (individual_a, individual_b, case_id, cleared_by)
        select least(c.individual_id, d.candidate_id), greatest(c.individual_id, d.candidate_id), c.id, refuge.caller()
          from refuge.dedup_candidate d where d.case_id = c.id
        on conflict do nothing;
        update refuge.dedup_case d set status = 'CLOSED' where d.id = c.id;
        -- the gallery has grown since the capture: search again, then decide
        select coalesce(max(e.seq), 0) into hw from refuge.biometric_enrolment e;
        gallery := refuge.gallery_size();
        update refuge.biometric_capture b set gallery_seq = hw, gallery_size = gallery where b.id = cap.id;
        res := jsonb_build_object('decision', 'different',
            'enrolment', refuge.enrol_decide(cap.id, refuge.dedup_candidates(cap.fingers, cap.irises,
                                                 (refuge.dedup_settings()).search_fingers, gallery)));
    end if;
    update refuge.dedup_case d
       set decision = adjudicate.decision, matched_id = adjudicate.matched_id, reason = btrim(adjudicate.reason),
           decided_by = refuge.caller(), decided_at = now(), outcome = res
     where d.id = c.id;
    return res || jsonb_build_object('case_id', c.id);
end
$$;
comment on function refuge.adjudicate(uuid, text, uuid, text) is
    'decide an adjudication case: link (biometric only), merge (then approve_merge), different (pairs cleared: a biometric enrolment is decided again; a demographic pair is not raised again) or fraud';
grant execute on function refuge.adjudicate(uuid, text, uuid, text) to refuge_biometrics_admin;

create function refuge.approve_merge(case_id uuid, approve boolean, reason text default null) returns jsonb
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
    select * into target from refuge.individual i where i.id = c.matched_id for update;
    if target.status = 'ERASED' or subject.status = 'ERASED' then
        perform refuge.raise_field('55000', 'case_id', 'one of the records was erased at the person''s request: reject this merge');
    end if;
    -- two merges must not retire both records of one person
    if target.status = 'DUPLICATE' or subject.status = 'DUPLICATE' then
        perform refuge.raise_field('55000', 'case_id',
            format('%s is already closed as a duplicate: reject this merge and decide the case again',
                   case when target.status = 'DUPLICATE' then target.number else subject.number end));
    end if;
    select * into membership from refuge.group_membership m where m.individual_id = subject.id and m.valid_to is null;
    if membership.relationship = 'PA' and exists (select 1 from refuge.group_membership m
            where m.group_id = membership.group_id and m.valid_to is null and m.individual_id <> subject.id) then
        perform refuge.raise_field('55000', 'case_id',
            format('%s is the principal of a family with other members; set another principal first', subject.number));
    end if;
    select * into cap from refuge.biometric_capture b where b.id = c.capture_id;
    -- a biometric merge joins the subject's enrolment to the identity; a
    -- demographic one has no capture, and the matched identity (if any) stays
    if c.kind = 'biometric' then
        perform refuge.enrolment_lock();
        identity := refuge.identity_of(c.matched_id);
        insert into refuge.biometric_enrolment (individual_id, identity_id, operation_id, site_id, capture_id, status)
        values (subject.id, identity, cap.operation_id, cap.site_id, cap.id, 'MERGED');
    end if;
    -- the duplicate record stays, closed, with everything attached to it
    perform refuge.set_individual_status(subject, 'DUPLICATE', null,
        format('merged into %s (adjudication case %s)', target.number, c.id), 'ADJUDICATION', c.id, refuge.caller());
    if membership.id is not null then
        update refuge.group_membership m
           set valid_to = now(), end_reason = 'MERGE', comment = format('duplicate of %s', target.number)
         where m.id = membership.id;
    end if;
    update refuge.dedup_case d
       set status = 'CLOSED', approval = 'approved', approved_by = refuge.caller(), approved_at = now(),
           outcome = d.outcome || jsonb_build_object('identity_id', identity, 'merged_into', target.id)
     where d.id = c.id;
    -- the subject's other open cases (biometric or demographic) are moot now
    update refuge.dedup_case d
       set status = 'CLOSED', outcome = jsonb_build_object('superseded_by', c.id, 'merged_into', target.id)
     where d.individual_id = subject.id and d.id <> c.id and d.status <> 'CLOSED';
    return jsonb_build_object('case_id', c.id, 'approval', 'approved', 'merged_into', target.id, 'identity_id', identity);
end
$$;
comment on function refuge.approve_merge(uuid, boolean, text) is
    'a supervisor (not the reviewer) approves or rejects a proposed merge; approval closes the subject as DUPLICATE';
grant execute on function refuge.approve_merge(uuid, boolean, text) to refuge_supervisor;

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
grant execute on function refuge.verify(uuid, jsonb) to refuge_biometrics, refuge_assistance;

-- 1:N identification: the search and its candidates are committed in
-- biometric_identification before the candidates are returned.
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
comment on function refuge.identify(jsonb, text, text, integer) is
    '1:N identification of a person against everyone enrolled, without enrolling (logged): ranked candidates at or below refuge.target_fpir';
grant execute on function refuge.identify(jsonb, text, text, integer) to refuge_biometrics,
    refuge_biometrics_admin;

create function refuge.biometric_templates(individual_id uuid, purpose text) returns jsonb
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
comment on function refuge.biometric_templates(uuid, text) is
    'an enrolled person''s fingerprint and iris templates, for HQ review; each read logged with its purpose';
grant execute on function refuge.biometric_templates(uuid, text) to refuge_biometrics_admin;
