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
    elsif matched_id is not null then
        perform refuge.raise_field('22023', 'matched_id', 'must be empty when the people are different');
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
    'decide an adjudication case: link, merge (then approve_merge), different (pair cleared, enrolment decided again) or fraud';

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
    c := refuge.dedup_case_for_update(approve_merge.case_id);
    if not refuge.in_scope(c.operation_id, c.site_id) then
        perform refuge.raise_field('P0002', 'case_id', format('no adjudication case %s in your operations', c.id));
    end if;
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
comment on function refuge.approve_merge(uuid, boolean, text) is
    'a supervisor (not the reviewer) approves or rejects a proposed merge; approval closes the subject as DUPLICATE';

-- The reviewers' queue: open and awaiting cases, oldest first, with the best
-- candidate.  security_invoker: each role sees the cases its policies allow.
create view refuge.adjudication_queue with (security_invoker = true) as
select c.id as case_id, c.status, c.created_at as raised_at, o.code as operation, s.code as site,
       i.number as subject_number, c.individual_id as subject_id,
       (select count(*) from refuge.dedup_candidate d where d.case_id = c.id) as candidates,
       b.candidate_id as best_candidate_id, b.evidence as best_evidence, b.modalities as best_modalities,
       b.fpir as best_fpir, c.decision as proposed, c.decided_by as proposed_by
  from refuge.dedup_case c
  join refuge.operation o on o.id = c.operation_id
  join refuge.site s on s.id = c.site_id
  join refuge.individual i on i.id = c.individual_id
  left join refuge.dedup_candidate b on b.case_id = c.id and b.rank = 1
 where c.status <> 'CLOSED'
 order by c.created_at;
comment on view refuge.adjudication_queue is 'adjudication cases not yet closed, oldest first, with the best candidate';
alter view refuge.adjudication_queue owner to refuge_owner;
grant select on refuge.adjudication_queue to refuge_biometrics_admin, refuge_supervisor;
