-- Demo, case management: Kenya's RSD and resettlement units work cases of
-- the registered families; each step is taken by the login that would take
-- it (officers, a second officer for appeals, supervisors approving), so
-- the case history and the audit trail name real actors.

create table demo.rsd_case (n int primary key, case_id uuid not null, officer text not null, other text not null);

create procedure demo.as_role(r text, q text) language plpgsql as $$
begin
    execute format('set role %I', r);
    execute q;
    reset role;
exception when others then
    reset role;
    raise;
end $$;

create function demo.step(r text, case_id uuid, action text, data jsonb default '{}', reason text default null)
    returns jsonb language plpgsql as $$
declare
    res jsonb;
begin
    execute format('set role %I', r);
    res := refuge.transition_case(case_id, action, data, reason);
    reset role;
    return res;
end $$;

create function demo.approve(r text, case_id uuid, ok boolean default true, comment text default null)
    returns jsonb language plpgsql as $$
declare
    res jsonb;
begin
    execute format('set role %I', r);
    res := refuge.decide_approval((select a.id from refuge.case_approval a where a.case_id = approve.case_id
                                                                         and a.status = 'REQUESTED'), ok, comment);
    reset role;
    return res;
end $$;

-- RSD: 40 asylum-seekers' principal applicants in Kenya, two eligibility officers.
create procedure demo.run_rsd() language plpgsql as $$
declare
    p record;
    c uuid;
    officer text;
    other text;
    decision text;
begin
    for p in select i.id, row_number() over (order by i.number)::int as n
               from refuge.individual i
               join refuge.operation o on o.id = i.operation_id and o.code = 'KEN'
               join refuge.group_membership gm on gm.individual_id = i.id and gm.valid_to is null and gm.relationship = 'PA'
              where i.status = 'ACTIVE'
              order by i.number limit 40
    loop
        officer := case when p.n % 2 = 1 then 'rsd_ken1' else 'rsd_ken2' end;
        other := case when p.n % 2 = 1 then 'rsd_ken2' else 'rsd_ken1' end;
        execute format('set role %I', officer);
        c := (refuge.open_case('RSD', p.id, (select array_agg(gm.individual_id) from refuge.group_membership gm
                                               where gm.group_id = (select group_id from refuge.group_membership
                                                                     where individual_id = p.id and valid_to is null)
                                                 and gm.valid_to is null),
                               '{"application_type": "NEW", "procedure_type": "U"}', 'walk-in at Kakuma reception') ->> 'case_id')::uuid;
        reset role;
        insert into demo.rsd_case values (p.n, c, officer, other);
        perform demo.step(officer, c, 'ASSIGN_MODALITY',
                          jsonb_build_object('modality', case when p.n % 5 = 0 then 'SIMPLIFIED' else 'REGULAR' end));
        perform demo.step(officer, c, 'SCHEDULE_INTERVIEW',
                          jsonb_build_object('interview_date', current_date + (p.n % 7) - 5, 'interpreter_language', 'din'));
        continue when p.n % 10 = 3;                       -- interview date passed, not held: overdue
        if p.n % 10 in (1, 2) then
            perform demo.step(officer, c, 'RECORD_NO_SHOW');
            if p.n % 10 = 1 then
                perform demo.step(officer, c, 'ABANDON', '{}', 'no show and no contact for six weeks');
            end if;
            continue;
        end if;
        perform demo.step(officer, c, 'HOLD_INTERVIEW');
        execute format('set role %I', officer);
        perform refuge.add_case_note(c, 'Interview held with interpreter; account consistent with country information.',
                                     false, 'NOTE');
        if p.n % 4 = 0 then
            perform refuge.add_case_note(c, 'Applicant disclosed torture in detention; refer for medical documentation.',
                                         true, 'INTERVIEW_TRANSCRIPT');
        end if;
        reset role;
        perform demo.step(officer, c, 'WRITE_ASSESSMENT', '{"legal_basis": "1951_CONVENTION"}');
        decision := case when p.n % 3 = 0 then 'REJECTED' else 'RECOGNIZED' end;
        perform demo.step(officer, c, 'DECIDE', jsonb_build_object('decision', decision));
        if p.n = 9 then                                   -- the supervisor sends one back
            perform demo.approve('rsd_sup_ken', c, false, 'credibility findings need country evidence');
            continue;
        end if;
        perform demo.approve('rsd_sup_ken', c, true, 'reviewed');
        perform demo.step(officer, c, 'NOTIFY', jsonb_build_object('notified_on', current_date));
        if decision = 'RECOGNIZED' then
            perform demo.step(officer, c, 'CLOSE', '{"closure_reason": "RECOGNIZED"}');
        elsif p.n % 2 = 0 then                            -- appealed: decided by the other officer
            perform demo.step(officer, c, 'LODGE_APPEAL', jsonb_build_object('appeal_lodged_on', current_date));
            perform demo.step(other, c, 'DECIDE_APPEAL',
                              jsonb_build_object('appeal_decision', case when p.n % 4 = 0 then 'RECOGNIZED' else 'REJECTED' end));
            perform demo.approve('rsd_sup_ken', c, true);
            perform demo.step(other, c, 'CLOSE', jsonb_build_object('closure_reason',
                              case when p.n % 4 = 0 then 'RECOGNIZED' else 'FINAL_REJECTION' end));
        else
            perform demo.step(officer, c, 'CLOSE', '{"closure_reason": "NO_APPEAL"}');
        end if;
    end loop;
end $$;

-- Resettlement: the first ten recognised families, through hub review,
-- submission (approved) and the States' decisions to departure.
create procedure demo.run_resettlement() language plpgsql as $$
declare
    r record;
    c uuid;
    k int := 0;
begin
    for r in select pc.principal_id, pc.group_id from demo.rsd_case d join refuge.process_case pc on pc.id = d.case_id
              where pc.data ->> 'closure_reason' = 'RECOGNIZED' order by d.n limit 10
    loop
        k := k + 1;
        set role rst_ken;
        c := (refuge.open_case('RESETTLEMENT', r.principal_id,
                  (select array_agg(individual_id) from refuge.group_membership where group_id = r.group_id and valid_to is null),
                  '{"identification_method": "PROGRES_DATA"}') ->> 'case_id')::uuid;
        reset role;
        perform demo.step('rst_ken', c, 'ASSESS', '{"needs_assessment": "protection risks in the country of asylum"}');
        continue when k = 10;
        perform demo.step('rst_ken', c, 'INTERVIEW', jsonb_build_object('interview_date', current_date));
        perform demo.step('rst_ken', c, 'PREPARE_RRF', jsonb_build_object(
            'submission_category', (array['LPN', 'SVT', 'MED', 'AWR', 'FAM'])[1 + k % 5],
            'priority', (array['NR', 'NR', 'UG', 'EM'])[1 + k % 4],
            'justification', 'No prospect of local integration; specific protection needs documented'));
        continue when k = 9;
        perform demo.step('rst_ken', c, 'REFER_HUB');
        perform demo.step('rst_ken', c, 'SUBMIT', jsonb_build_object('resettlement_country', (array['USA', 'CAN', 'AUS', 'NOR'])[1 + k % 4]));
        perform demo.approve('rst_sup_ken', c);
        continue when k = 8;
        if k = 7 then
            perform demo.step('rst_ken', c, 'STATE_REJECT', jsonb_build_object('state_decision_on', current_date));
            continue;
        end if;
        perform demo.step('rst_ken', c, 'STATE_ACCEPT', jsonb_build_object('state_decision_on', current_date));
        continue when k > 3;
        perform demo.step('rst_ken', c, 'CONFIRM_DEPARTURE', jsonb_build_object('departure_date', current_date));
    end loop;
end $$;

-- Protection: an SGBV incident in Kakuma, referred to a partner with consent.
create procedure demo.run_protection() language plpgsql as $$
declare
    w uuid;
    c uuid;
begin
    select i.id into w from refuge.individual i join refuge.site s on s.id = i.site_id and s.code = 'KAKUMA'
     where i.sex = 'F' and i.date_of_birth < current_date - interval '18 years' and i.status = 'ACTIVE'
     order by i.number desc limit 1;
    set role prot_kakuma;
    -- SGBV case management and the referral rest on the survivor's consent
    perform refuge.record_consent(w, 'SGBV', 'ORAL', notice_version => 'GBV-NOTICE-2026');
    perform refuge.record_consent(w, 'REFERRAL', 'ORAL', agreement => 'IRC-KEN-2026');
    c := (refuge.open_case('SGBV', w) ->> 'case_id')::uuid;
    perform refuge.record_gbv_incident(c, jsonb_build_object('violence_type', 'PHYSICAL_ASSAULT',
        'incident_date', current_date - 3, 'consent_services', true, 'consent_sharing', true,
        'narrative', 'Assaulted on the way to the water point', 'location', 'Kakuma 3, block 12'));
    perform refuge.transition_case(c, 'RECORD_CONSENT');
    perform refuge.transition_case(c, 'ASSESS', '{"risk_level": "HIGH"}');
    perform refuge.refer_case(c, 'IRC', array['CASE', 'INCIDENT', 'MEMBERS'], 'medical care and psychosocial support',
                              agreement => 'IRC-KEN-2026');
    perform refuge.flag_case(c, 'Perpetrator lives in the same block: consider relocation', 'refuge_protection', 'CRITICAL');
    perform refuge.read_gbv_incident(c, 'case conference on relocation');
    reset role;
    -- an eligibility officer rereads a confidential transcript before the appeal hearing
    set role rsd_ken2;
    perform refuge.read_case_note((select n.id from refuge.case_note n join refuge.process_case pc on pc.id = n.case_id
                                    where n.confidential and pc.data ? 'appeal_decision' order by n.created_at limit 1),
                                  'preparing the appeal hearing');
    reset role;
end $$;
