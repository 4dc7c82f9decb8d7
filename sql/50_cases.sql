-- Case management: workflow definitions (data), cases, members, events,
-- approvals, alerts, notes, documents, links, SGBV incidents, transfers,
-- partners and referrals, vulnerability factors; the shipped workflows.

-- A workflow definition the engine could not run is refused when written:
-- field types it knows, lists of codes, conditions as lists.
create function refuge.check_workflow_fields() returns trigger
    language plpgsql
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    r jsonb := to_jsonb(new);
    spec jsonb;
    lists_only boolean;
    k text;
    v jsonb;
begin
    for spec, lists_only in select * from (values (r -> 'open_fields', false), (r -> 'fields', false),
                                                  (r -> 'requires_data', true)) x(s, l) where s is not null
    loop
        if jsonb_typeof(spec) <> 'object' then
            raise exception using errcode = '22023', message = format('%s: a field specification is a JSON object', tg_table_name);
        end if;
        for k, v in select * from jsonb_each(spec) loop
            if not ((jsonb_typeof(v) = 'array' and jsonb_array_length(v) > 0
                     and not exists (select 1 from jsonb_array_elements(v) x where jsonb_typeof(x) <> 'string'))
                    or (not lists_only
                        and v #>> '{}' in ('date', 'text', 'integer', 'object', 'country', 'uuid', 'individual'))) then
                raise exception using errcode = '22023',
                    message = format(case when lists_only then '%s.%s: %s is not a list of codes (a condition on the case''s data)'
                                          else '%s.%s: %s is neither a list of codes nor one of date, text, integer, object, '
                                               'country, uuid, individual' end, tg_table_name, k, v);
            end if;
        end loop;
    end loop;
    return new;
end
$$;

create function refuge.set_transfer_module() returns trigger
    language plpgsql
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    select c.module into new.module from refuge.process_case c where c.id = new.case_id;
    return new;
end
$$;

-- Workflow definitions: data, not code.  A module (RSD, resettlement, ...)
-- has states and transitions; a transition names the data it requires (and
-- the values allowed), whether a supervisor must approve it, conditions on
-- the case's data, and an officer who must not be the one who did an
-- earlier step (an appeal is decided by another officer).
create table refuge.case_module (
    code             text primary key,
    label            text not null,
    prefix           text not null unique check (prefix ~ '^[A-Z]{3}$'),
    roles            name[] not null,
    sensitive        boolean not null default false,
    initial_state    text not null,
    open_fields      jsonb not null default '{}',
    shipped          boolean not null default false
);
comment on table refuge.case_module is 'case management modules: who works them (group roles), whether their records are sensitive (reads logged), the state a case opens in';
comment on column refuge.case_module.sensitive is 'case details and notes of this module are read through logged functions only';
create trigger check_fields before insert or update on refuge.case_module
    for each row execute function refuge.check_workflow_fields();
create policy read_all on refuge.case_module for select to refuge_registration, refuge_supervisor, refuge_analyst, refuge_admin, refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection, refuge_partner
    using (true);
grant select on refuge.case_module to refuge_registration, refuge_supervisor, refuge_analyst, refuge_admin,
    refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement,
    refuge_protection, refuge_child_protection, refuge_partner;
select pg_catalog.pg_extension_config_dump('refuge.case_module', 'where not shipped');
insert into refuge.case_module (code, label, prefix, roles, sensitive, initial_state, open_fields, shipped) values
  ('RSD', 'Refugee status determination', 'RSD', '{refuge_rsd}', false, 'REGISTERED',
   '{"application_type?": ["NEW", "REPEAT"], "procedure_type?": ["U", "G", "J"]}', true),
  ('RESETTLEMENT', 'Resettlement', 'RST', '{refuge_resettlement}', false, 'IDENTIFIED',
   '{"identification_method?": ["PROGRES_DATA", "PARTNER_REFERRAL", "PROTECTION_STAFF", "SELF_REFERRAL"]}', true),
  ('BID', 'Best interests procedure (BIA/BID) for children at risk', 'BIP', '{refuge_child_protection}', true, 'IDENTIFIED',
   '{"child_status": ["UNACCOMPANIED", "SEPARATED", "AT_RISK"]}', true),
  ('SGBV', 'Protection: SGBV incident management', 'GBV', '{refuge_protection}', true, 'REPORTED', '{}', true),
  ('STATELESSNESS', 'Statelessness determination', 'SDP', '{refuge_protection}', false, 'APPLICATION_RECEIVED',
   '{"claimed_link_countries?": "text"}', true),
  ('TRACING', 'Family tracing', 'TRC', '{refuge_protection,refuge_child_protection}', false, 'OPEN',
   '{"sought_family_name": "text", "sought_given_name?": "text", "sought_sex?": ["F", "M"], "sought_birth_year?": "integer", "sought_relationship?": "text", "last_seen_place?": "text"}', true),
  ('VULNERABILITY', 'Vulnerability assessment', 'VUL', '{refuge_protection,refuge_assistance}', false, 'REQUESTED', '{}', true),
  ('VOLREP', 'Voluntary repatriation', 'VRP', '{refuge_protection}', false, 'COUNSELLING', '{}', true),
  ('LOCAL_INTEGRATION', 'Local integration', 'LIN', '{refuge_protection}', false, 'IDENTIFIED', '{}', true),
  ('FRAUD', 'Fraud investigation', 'FRD', '{refuge_supervisor}', true, 'REPORTED',
   '{"fraud_alert_id?": "uuid", "fraud_case_id?": "uuid", "dedup_case_id?": "uuid", "allegation?": "text"}', true);
update refuge.case_module
   set open_fields = open_fields || '{"submission_category?": ["LPN", "SVT", "MED", "AWR", "FAM", "CHL", "LAS"],
       "secondary_category?": ["LPN", "SVT", "MED", "AWR", "FAM", "CHL", "LAS"], "priority?": ["EM", "UG", "NR"],
       "source_case_guid?": "uuid", "source_case_number?": "text"}'
 where code = 'RESETTLEMENT';

create table refuge.workflow_state (
    module           text not null references refuge.case_module,
    code             text not null,
    label            text not null,
    step_order       integer not null,
    closed           boolean not null default false,
    due_days         integer check (due_days > 0),
    shipped          boolean not null default false,
    primary key (module, code)
);
comment on table refuge.workflow_state is 'states of a module''s cases; due_days: time allowed in the state before the case is overdue';
create policy read_all on refuge.workflow_state for select to refuge_registration, refuge_supervisor, refuge_analyst, refuge_admin, refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection, refuge_partner
    using (true);
grant select on refuge.workflow_state to refuge_registration, refuge_supervisor, refuge_analyst, refuge_admin,
    refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement,
    refuge_protection, refuge_child_protection, refuge_partner;
select pg_catalog.pg_extension_config_dump('refuge.workflow_state', 'where not shipped');
insert into refuge.workflow_state (module, code, label, step_order, closed, due_days, shipped)
select module, code, label, step_order, closed, due_days, true from (values
  ('RSD', 'REGISTERED', 'Registered for RSD, file opened', 1, false, 14),
  ('RSD', 'MODALITY_ASSIGNED', 'Processing modality assigned', 2, false, 30),
  ('RSD', 'INTERVIEW_SCHEDULED', 'RSD interview scheduled', 3, false, null),
  ('RSD', 'INTERVIEWED', 'RSD interview held', 4, false, 30),
  ('RSD', 'ASSESSED', 'Assessment written', 5, false, 14),
  ('RSD', 'DECIDED', 'First-instance decision', 6, false, 7),
  ('RSD', 'NOTIFIED', 'Decision notified', 7, false, 30),
  ('RSD', 'APPEAL_LODGED', 'Appeal lodged', 8, false, 60),
  ('RSD', 'APPEAL_DECIDED', 'Appeal decided', 9, false, 7),
  ('RSD', 'CLOSED', 'File closed', 10, true, null),
  ('RSD', 'STATUS_ENDED', 'Cancellation, revocation or cessation', 11, true, null),

  ('RESETTLEMENT', 'IDENTIFIED', 'Identified for resettlement consideration (RST01)', 1, false, 30),
  ('RESETTLEMENT', 'ASSESSED', 'Case verified, resettlement needs assessed', 2, false, 30),
  ('RESETTLEMENT', 'NOT_QUALIFIED', 'Not qualified (RST04)', 3, true, null),
  ('RESETTLEMENT', 'INTERVIEWED', 'Resettlement interview (RST06)', 4, false, 30),
  ('RESETTLEMENT', 'RRF_PREPARED', 'Assessment complete, RRF prepared (RST09)', 5, false, 14),
  ('RESETTLEMENT', 'HUB_REVIEW', 'Referred to hub / regional review (RST43)', 6, false, 30),
  ('RESETTLEMENT', 'SUBMITTED', 'Submitted to a resettlement State (RST18)', 7, false, 180),
  ('RESETTLEMENT', 'ACCEPTED', 'Accepted by the State (RST19)', 8, false, 120),
  ('RESETTLEMENT', 'STATE_REJECTED', 'Rejected by the State', 9, false, 60),
  ('RESETTLEMENT', 'DEPARTED', 'Departure confirmed (RST33)', 10, true, null),
  ('RESETTLEMENT', 'WITHDRAWN', 'Withdrawn', 11, true, null),

  ('BID', 'IDENTIFIED', 'Child at risk identified', 1, false, 7),
  ('BID', 'BIA_COMPLETED', 'Best interests assessment completed', 2, false, 14),
  ('BID', 'CASE_PLAN_AGREED', 'Case plan agreed', 3, false, 30),
  ('BID', 'IMPLEMENTATION', 'Implementation and follow-up', 4, false, 90),
  ('BID', 'BID_INFO_GATHERING', 'BID information gathering and report', 5, false, 30),
  ('BID', 'BID_PANEL_DECIDED', 'BID panel decision', 6, false, 14),
  ('BID', 'BID_IMPLEMENTATION', 'Implementation of the BID decision', 7, false, 90),
  ('BID', 'CLOSED', 'Case closed', 8, true, null),

  ('SGBV', 'REPORTED', 'Incident reported', 1, false, 3),
  ('SGBV', 'CONSENTED', 'Informed consent obtained', 2, false, 7),
  ('SGBV', 'ASSESSED', 'Survivor''s needs assessed', 3, false, 7),
  ('SGBV', 'ACTION_PLAN', 'Action plan agreed, services provided', 4, false, 30),
  ('SGBV', 'FOLLOW_UP', 'Follow-up', 5, false, 30),
  ('SGBV', 'CLOSED', 'Case closed', 6, true, null),

  ('STATELESSNESS', 'APPLICATION_RECEIVED', 'Application received', 1, false, 30),
  ('STATELESSNESS', 'INTERVIEW_SCHEDULED', 'Interview scheduled', 2, false, null),
  ('STATELESSNESS', 'INTERVIEWED', 'Interviewed, evidence gathered', 3, false, 60),
  ('STATELESSNESS', 'DETERMINED', 'Determination made', 4, false, 30),
  ('STATELESSNESS', 'APPEAL_LODGED', 'Appeal lodged', 5, false, 60),
  ('STATELESSNESS', 'APPEAL_DECIDED', 'Appeal decided', 6, false, 7),
  ('STATELESSNESS', 'CLOSED', 'Closed', 7, true, null),

  ('TRACING', 'OPEN', 'Tracing request open', 1, false, 14),
  ('TRACING', 'TRACING_IN_PROGRESS', 'Tracing in progress', 2, false, 60),
  ('TRACING', 'VERIFIED', 'Match verified', 3, false, 30),
  ('TRACING', 'REUNIFIED', 'Reunified', 4, true, null),
  ('TRACING', 'CLOSED', 'Closed', 5, true, null),

  ('VULNERABILITY', 'REQUESTED', 'Assessment requested', 1, false, 14),
  ('VULNERABILITY', 'ASSESSED', 'Assessed and scored', 2, false, 7),
  ('VULNERABILITY', 'REVIEWED', 'Score reviewed', 3, false, 180),
  ('VULNERABILITY', 'CLOSED', 'Closed', 4, true, null),

  ('VOLREP', 'COUNSELLING', 'Protection counselling', 1, false, 30),
  ('VOLREP', 'VRF_SIGNED', 'Voluntary Repatriation Form signed', 2, false, 30),
  ('VOLREP', 'CLEARED', 'Cleared by the authorities', 3, false, 30),
  ('VOLREP', 'RECONFIRMED', 'Decision reconfirmed, departure date agreed', 4, false, 30),
  ('VOLREP', 'DEPARTED', 'Departure confirmed (VOL26)', 5, true, null),
  ('VOLREP', 'WITHDRAWN', 'Request withdrawn', 6, true, null),
  ('VOLREP', 'SPONTANEOUS_DEPARTURE', 'Spontaneous departure (REG38)', 7, true, null),

  ('LOCAL_INTEGRATION', 'IDENTIFIED', 'Identified for local integration', 1, false, 30),
  ('LOCAL_INTEGRATION', 'ASSESSED', 'Prospects assessed', 2, false, 60),
  ('LOCAL_INTEGRATION', 'RESIDENCE_APPLIED', 'Residence permit applied for', 3, false, 180),
  ('LOCAL_INTEGRATION', 'RESIDENCE_GRANTED', 'Permanent residence granted', 4, false, 365),
  ('LOCAL_INTEGRATION', 'NATURALISATION_APPLIED', 'Naturalisation applied for', 5, false, 365),
  ('LOCAL_INTEGRATION', 'NATURALISED', 'Naturalised', 6, true, null),
  ('LOCAL_INTEGRATION', 'CLOSED', 'Closed', 7, true, null),

  ('FRAUD', 'REPORTED', 'Allegation or alert received', 1, false, 7),
  ('FRAUD', 'INVESTIGATION', 'Under investigation', 2, false, 60),
  ('FRAUD', 'FINDINGS', 'Findings reported', 3, false, 14),
  ('FRAUD', 'DECIDED', 'Decision taken', 4, false, 30),
  ('FRAUD', 'CLOSED', 'Closed', 5, true, null)
) as v(module, code, label, step_order, closed, due_days);

create table refuge.workflow_transition (
    module           text not null,
    action           text not null,
    from_state       text not null,
    to_state         text not null,
    label            text not null,
    fields           jsonb not null default '{}',
    sets             jsonb not null default '{}',
    requires_data    jsonb not null default '{}',
    approval         boolean not null default false,
    other_officer_than text,
    shipped          boolean not null default false,
    primary key (module, action, from_state),
    foreign key (module, from_state) references refuge.workflow_state (module, code),
    foreign key (module, to_state) references refuge.workflow_state (module, code),
    check (jsonb_typeof(fields) = 'object' and jsonb_typeof(sets) = 'object' and jsonb_typeof(requires_data) = 'object')
);
comment on table refuge.workflow_transition is 'allowed transitions: the data each requires (fields: key -> "date" | "text" | "integer" | "country" | "individual" | [allowed codes]; a key ending in ? is optional), data it sets, conditions on the case data, supervisor approval, and the action whose officer may not take this one';
create trigger check_fields before insert or update on refuge.workflow_transition
    for each row execute function refuge.check_workflow_fields();
create policy read_all on refuge.workflow_transition for select to refuge_registration, refuge_supervisor, refuge_analyst, refuge_admin, refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection, refuge_partner
    using (true);
grant select on refuge.workflow_transition to refuge_registration, refuge_supervisor, refuge_analyst,
    refuge_admin, refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd,
    refuge_resettlement, refuge_protection, refuge_child_protection, refuge_partner;
select pg_catalog.pg_extension_config_dump('refuge.workflow_transition', 'where not shipped');
insert into refuge.workflow_transition (module, action, from_state, to_state, label, fields, sets, requires_data,
                                        approval, other_officer_than, shipped)
with wf (module, action, from_state, to_state, label, fields, sets, requires_data, approval, other_officer_than) as (values
  -- RSD
  ('RSD', 'ASSIGN_MODALITY', 'REGISTERED', 'MODALITY_ASSIGNED', 'Assign the processing modality',
   '{"modality": ["REGULAR", "ACCELERATED", "SIMPLIFIED", "MERGED_REG_RSD", "MERGED_RSD_RST"], "procedure_type?": ["U", "G", "J"]}', '{}', '{}', false, null),
  ('RSD', 'SCHEDULE_INTERVIEW', 'MODALITY_ASSIGNED', 'INTERVIEW_SCHEDULED', 'Schedule the RSD interview',
   '{"interview_date": "date", "interpreter_language?": "text"}', '{}', '{}', false, null),
  ('RSD', 'RESCHEDULE_INTERVIEW', 'INTERVIEW_SCHEDULED', 'INTERVIEW_SCHEDULED', 'Reschedule the interview',
   '{"interview_date": "date"}', '{}', '{}', false, null),
  ('RSD', 'RECORD_NO_SHOW', 'INTERVIEW_SCHEDULED', 'MODALITY_ASSIGNED', 'Applicant did not come to the interview',
   '{}', '{"last_no_show": true}', '{}', false, null),
  ('RSD', 'HOLD_INTERVIEW', 'INTERVIEW_SCHEDULED', 'INTERVIEWED', 'Interview held', '{}', '{}', '{}', false, null),
  ('RSD', 'WRITE_ASSESSMENT', 'INTERVIEWED', 'ASSESSED', 'Assessment written',
   '{"legal_basis?": ["1951_CONVENTION", "OAU_1969", "CARTAGENA", "MANDATE", "COMPLEMENTARY"]}', '{}', '{}', false, null),
  ('RSD', 'DECIDE', 'ASSESSED', 'DECIDED', 'First-instance decision (reviewed by a supervisor)',
   '{"decision": ["RECOGNIZED", "COMPLEMENTARY_PROTECTION", "REJECTED", "OTHERWISE_CLOSED"]}', '{}', '{}', true, null),
  ('RSD', 'NOTIFY', 'DECIDED', 'NOTIFIED', 'Notify the applicant of the decision (with reasons if rejected)',
   '{"notified_on": "date"}', '{}', '{}', false, null),
  ('RSD', 'LODGE_APPEAL', 'NOTIFIED', 'APPEAL_LODGED', 'Appeal lodged against a rejection',
   '{"appeal_lodged_on": "date", "late_accepted?": ["YES"]}', '{}', '{"decision": ["REJECTED"]}', false, null),
  ('RSD', 'DECIDE_APPEAL', 'APPEAL_LODGED', 'APPEAL_DECIDED', 'Appeal decided by an officer other than the first-instance officer',
   '{"appeal_decision": ["RECOGNIZED", "COMPLEMENTARY_PROTECTION", "REJECTED"]}', '{}', '{}', true, 'DECIDE'),
  ('RSD', 'CLOSE', 'NOTIFIED', 'CLOSED', 'Close the file (recognised, or no appeal lodged)',
   '{"closure_reason": ["RECOGNIZED", "COMPLEMENTARY_PROTECTION", "NO_APPEAL", "OTHERWISE_CLOSED"]}', '{}', '{}', false, null),
  ('RSD', 'CLOSE', 'APPEAL_DECIDED', 'CLOSED', 'Close the file after the appeal',
   '{"closure_reason": ["RECOGNIZED", "COMPLEMENTARY_PROTECTION", "FINAL_REJECTION"]}', '{}', '{}', false, null),
  ('RSD', 'ABANDON', 'MODALITY_ASSIGNED', 'CLOSED', 'Close as abandoned (no show and no contact for six weeks)',
   '{}', '{"closure_reason": "ABANDONED"}', '{}', false, null),
  ('RSD', 'ABANDON', 'INTERVIEW_SCHEDULED', 'CLOSED', 'Close as abandoned (no show and no contact for six weeks)',
   '{}', '{"closure_reason": "ABANDONED"}', '{}', false, null),
  ('RSD', 'REOPEN', 'CLOSED', 'REGISTERED', 'Re-open the file',
   '{"reopen_ground": ["CHANGED_CIRCUMSTANCES", "NEW_EVIDENCE", "IMPROPERLY_DECIDED"]}', '{}', '{}', true, null),
  ('RSD', 'END_STATUS', 'CLOSED', 'STATUS_ENDED', 'Cancel, revoke or cease refugee status',
   '{"ending": ["CANCELLED", "REVOKED", "CEASED"]}', '{}', '{"closure_reason": ["RECOGNIZED"]}', true, null),
  -- resettlement
  ('RESETTLEMENT', 'ASSESS', 'IDENTIFIED', 'ASSESSED', 'Verify the case and assess resettlement needs',
   '{"needs_assessment": "text", "bid_required?": ["YES", "NO"], "medical_assessment?": ["YES", "NO"]}', '{}', '{}', false, null),
  ('RESETTLEMENT', 'NOT_QUALIFIED', 'IDENTIFIED', 'NOT_QUALIFIED', 'Assessed as not qualifying', '{}', '{}', '{}', false, null),
  ('RESETTLEMENT', 'NOT_QUALIFIED', 'ASSESSED', 'NOT_QUALIFIED', 'Assessed as not qualifying', '{}', '{}', '{}', false, null),
  ('RESETTLEMENT', 'INTERVIEW', 'ASSESSED', 'INTERVIEWED', 'Resettlement interview held',
   '{"interview_date": "date"}', '{}', '{}', false, null),
  ('RESETTLEMENT', 'PREPARE_RRF', 'INTERVIEWED', 'RRF_PREPARED', 'Prepare the Resettlement Registration Form',
   '{"submission_category": ["LPN", "SVT", "MED", "AWR", "FAM", "CHL", "LAS"], "secondary_category?": ["LPN", "SVT", "MED", "AWR", "FAM", "CHL", "LAS"], "priority": ["EM", "UG", "NR"], "justification": "text"}', '{}', '{}', false, null),
  ('RESETTLEMENT', 'REFER_HUB', 'RRF_PREPARED', 'HUB_REVIEW', 'Refer to the resettlement hub for review', '{}', '{}', '{}', false, null),
  ('RESETTLEMENT', 'SUBMIT', 'HUB_REVIEW', 'SUBMITTED', 'Submit to a resettlement State (submission decision approved)',
   '{"resettlement_country": "country"}', '{}', '{}', true, null),
  ('RESETTLEMENT', 'STATE_ACCEPT', 'SUBMITTED', 'ACCEPTED', 'Accepted by the resettlement State',
   '{"state_decision_on": "date"}', '{}', '{}', false, null),
  ('RESETTLEMENT', 'STATE_REJECT', 'SUBMITTED', 'STATE_REJECTED', 'Rejected by the resettlement State',
   '{"state_decision_on": "date"}', '{}', '{}', false, null),
  ('RESETTLEMENT', 'RESUBMIT', 'STATE_REJECTED', 'SUBMITTED', 'Resubmit to another State (approved)',
   '{"resettlement_country": "country"}', '{}', '{}', true, null),
  ('RESETTLEMENT', 'CONFIRM_DEPARTURE', 'ACCEPTED', 'DEPARTED', 'Departure confirmed',
   '{"departure_date": "date"}', '{}', '{}', false, null),
  ('RESETTLEMENT', 'WITHDRAW', '*', 'WITHDRAWN', 'Withdraw the case', '{}', '{}', '{}', false, null),
  -- BIA / BID
  ('BID', 'COMPLETE_BIA', 'IDENTIFIED', 'BIA_COMPLETED', 'Best interests assessment (approved)',
   '{"risk_level": ["HIGH", "MEDIUM", "LOW"], "care_arrangement?": "text"}', '{}', '{}', true, null),
  ('BID', 'AGREE_CASE_PLAN', 'BIA_COMPLETED', 'CASE_PLAN_AGREED', 'Agree the case plan (approved)',
   '{"plan": "text"}', '{}', '{}', true, null),
  ('BID', 'START_IMPLEMENTATION', 'CASE_PLAN_AGREED', 'IMPLEMENTATION', 'Start implementation and follow-up', '{}', '{}', '{}', false, null),
  ('BID', 'TRIGGER_BID', 'IMPLEMENTATION', 'BID_INFO_GATHERING', 'A formal BID is required',
   '{"bid_reason": ["DURABLE_SOLUTION", "TEMPORARY_CARE", "SEPARATION_FROM_PARENTS"]}', '{}', '{}', false, null),
  ('BID', 'PANEL_DECISION', 'BID_INFO_GATHERING', 'BID_PANEL_DECIDED', 'BID panel decision',
   '{"panel_decision": ["RESETTLEMENT", "REUNIFICATION", "LOCAL_INTEGRATION", "VOLUNTARY_REPATRIATION", "CARE_ARRANGEMENT"], "panel_date": "date", "panel_members": "text"}', '{}', '{}', true, null),
  ('BID', 'IMPLEMENT_BID', 'BID_PANEL_DECIDED', 'BID_IMPLEMENTATION', 'Implement the BID decision', '{}', '{}', '{}', false, null),
  ('BID', 'CLOSE', 'IMPLEMENTATION', 'CLOSED', 'Close the case (approved)',
   '{"closure_reason": ["NEEDS_MET", "DURABLE_SOLUTION", "TURNED_18", "DEPARTED", "DECEASED"]}', '{}', '{}', true, null),
  ('BID', 'CLOSE', 'BID_IMPLEMENTATION', 'CLOSED', 'Close the case (approved)',
   '{"closure_reason": ["NEEDS_MET", "DURABLE_SOLUTION", "TURNED_18", "DEPARTED", "DECEASED"]}', '{}', '{}', true, null),
  ('BID', 'REOPEN', 'CLOSED', 'IMPLEMENTATION', 'Re-open the case', '{}', '{}', '{}', false, null),
  -- SGBV
  ('SGBV', 'RECORD_CONSENT', 'REPORTED', 'CONSENTED', 'Informed consent to services obtained', '{}', '{}', '{}', false, null),
  ('SGBV', 'DECLINE_SERVICES', 'REPORTED', 'CLOSED', 'Survivor declines services', '{}', '{"closure_reason": "DECLINED"}', '{}', false, null),
  ('SGBV', 'ASSESS', 'CONSENTED', 'ASSESSED', 'Assess the survivor''s needs',
   '{"risk_level": ["HIGH", "MEDIUM", "LOW"]}', '{}', '{}', false, null),
  ('SGBV', 'AGREE_ACTION_PLAN', 'ASSESSED', 'ACTION_PLAN', 'Agree the action plan (approved)',
   '{"services": "text"}', '{}', '{}', true, null),
  ('SGBV', 'FOLLOW_UP', 'ACTION_PLAN', 'FOLLOW_UP', 'Follow up', '{}', '{}', '{}', false, null),
  ('SGBV', 'CLOSE', 'FOLLOW_UP', 'CLOSED', 'Close the case (approved)',
   '{"closure_reason": ["NEEDS_MET", "SURVIVOR_REQUEST", "RELOCATED", "NO_CONTACT"]}', '{}', '{}', true, null),
  -- statelessness
  ('STATELESSNESS', 'SCHEDULE_INTERVIEW', 'APPLICATION_RECEIVED', 'INTERVIEW_SCHEDULED', 'Schedule the interview',
   '{"interview_date": "date"}', '{}', '{}', false, null),
  ('STATELESSNESS', 'HOLD_INTERVIEW', 'INTERVIEW_SCHEDULED', 'INTERVIEWED', 'Interview held; evidence requested from States',
   '{"states_consulted?": "text"}', '{}', '{}', false, null),
  ('STATELESSNESS', 'DETERMINE', 'INTERVIEWED', 'DETERMINED', 'Determination (approved)',
   '{"determination": ["STATELESS", "NOT_STATELESS", "NATIONALITY_CONFIRMED"]}', '{}', '{}', true, null),
  ('STATELESSNESS', 'LODGE_APPEAL', 'DETERMINED', 'APPEAL_LODGED', 'Appeal lodged',
   '{"appeal_lodged_on": "date"}', '{}', '{"determination": ["NOT_STATELESS", "NATIONALITY_CONFIRMED"]}', false, null),
  ('STATELESSNESS', 'DECIDE_APPEAL', 'APPEAL_LODGED', 'APPEAL_DECIDED', 'Appeal decided by another officer',
   '{"appeal_decision": ["STATELESS", "NOT_STATELESS"]}', '{}', '{}', true, 'DETERMINE'),
  ('STATELESSNESS', 'CLOSE', 'DETERMINED', 'CLOSED', 'Close', '{}', '{}', '{}', false, null),
  ('STATELESSNESS', 'CLOSE', 'APPEAL_DECIDED', 'CLOSED', 'Close', '{}', '{}', '{}', false, null),
  -- tracing
  ('TRACING', 'START_TRACING', 'OPEN', 'TRACING_IN_PROGRESS', 'Start tracing', '{}', '{}', '{}', false, null),
  ('TRACING', 'VERIFY_MATCH', 'TRACING_IN_PROGRESS', 'VERIFIED', 'A match is verified with both sides',
   '{"matched_individual": "individual"}', '{}', '{}', false, null),
  ('TRACING', 'REJECT_MATCH', 'VERIFIED', 'TRACING_IN_PROGRESS', 'The match was not confirmed', '{}', '{}', '{}', false, null),
  ('TRACING', 'REUNIFY', 'VERIFIED', 'REUNIFIED', 'Family reunified', '{"reunified_on": "date"}', '{}', '{}', false, null),
  ('TRACING', 'CLOSE', '*', 'CLOSED', 'Close the request',
   '{"closure_reason": ["FOUND_DECEASED", "REQUESTER_WITHDREW", "NOT_FOUND"]}', '{}', '{}', false, null),
  -- vulnerability
  ('VULNERABILITY', 'ASSESS', 'REQUESTED', 'ASSESSED', 'Assess (the score is computed by refuge.vulnerability_score)',
   '{"answers": "object"}', '{}', '{}', false, null),
  ('VULNERABILITY', 'REVIEW', 'ASSESSED', 'REVIEWED', 'Review the score (approved)', '{}', '{}', '{}', true, null),
  ('VULNERABILITY', 'REASSESS', 'REVIEWED', 'ASSESSED', 'Reassess', '{"answers": "object"}', '{}', '{}', false, null),
  ('VULNERABILITY', 'CLOSE', '*', 'CLOSED', 'Close', '{}', '{}', '{}', false, null),
  -- voluntary repatriation
  ('VOLREP', 'SIGN_VRF', 'COUNSELLING', 'VRF_SIGNED', 'The household signs the Voluntary Repatriation Form',
   '{"vrf_signed_on": "date", "intended_return_country": "country", "intended_return_place?": "text"}', '{}', '{}', false, null),
  ('VOLREP', 'CLEAR', 'VRF_SIGNED', 'CLEARED', 'Cleared by both governments', '{"cleared_on": "date"}', '{}', '{}', false, null),
  ('VOLREP', 'RECONFIRM', 'CLEARED', 'RECONFIRMED', 'Voluntary decision reconfirmed; departure date agreed',
   '{"departure_date": "date"}', '{}', '{}', false, null),
  ('VOLREP', 'CONFIRM_DEPARTURE', 'RECONFIRMED', 'DEPARTED', 'Departure confirmed', '{"departed_on": "date"}', '{}', '{}', false, null),
  ('VOLREP', 'WITHDRAW', '*', 'WITHDRAWN', 'The household withdraws its request', '{}', '{}', '{}', false, null),
  ('VOLREP', 'SPONTANEOUS_DEPARTURE', '*', 'SPONTANEOUS_DEPARTURE', 'Left outside the facilitated process', '{}', '{}', '{}', false, null),
  -- local integration
  ('LOCAL_INTEGRATION', 'ASSESS', 'IDENTIFIED', 'ASSESSED', 'Assess integration prospects', '{"assessment": "text"}', '{}', '{}', false, null),
  ('LOCAL_INTEGRATION', 'APPLY_RESIDENCE', 'ASSESSED', 'RESIDENCE_APPLIED', 'Apply for a residence permit',
   '{"applied_on": "date"}', '{}', '{}', false, null),
  ('LOCAL_INTEGRATION', 'GRANT_RESIDENCE', 'RESIDENCE_APPLIED', 'RESIDENCE_GRANTED', 'Permanent residence granted',
   '{"granted_on": "date", "permit_number?": "text"}', '{}', '{}', false, null),
  ('LOCAL_INTEGRATION', 'APPLY_NATURALISATION', 'RESIDENCE_GRANTED', 'NATURALISATION_APPLIED', 'Apply for naturalisation',
   '{"applied_on": "date"}', '{}', '{}', false, null),
  ('LOCAL_INTEGRATION', 'NATURALISE', 'NATURALISATION_APPLIED', 'NATURALISED', 'Naturalised (approved)',
   '{"naturalised_on": "date"}', '{}', '{}', true, null),
  ('LOCAL_INTEGRATION', 'CLOSE', '*', 'CLOSED', 'Close', '{"closure_reason": "text"}', '{}', '{}', false, null),
  -- fraud
  ('FRAUD', 'OPEN_INVESTIGATION', 'REPORTED', 'INVESTIGATION', 'Open the investigation', '{"allegation": "text"}', '{}', '{}', false, null),
  ('FRAUD', 'REPORT_FINDINGS', 'INVESTIGATION', 'FINDINGS', 'Report the findings', '{"findings": "text"}', '{}', '{}', false, null),
  ('FRAUD', 'DECIDE', 'FINDINGS', 'DECIDED', 'Decide (by a supervisor other than the investigator)',
   '{"decision": ["SUBSTANTIATED", "UNSUBSTANTIATED"], "measures?": "text"}', '{}', '{}', true, 'REPORT_FINDINGS'),
  ('FRAUD', 'CLOSE', 'DECIDED', 'CLOSED', 'Close', '{}', '{}', '{}', false, null),
  ('FRAUD', 'DISMISS', 'REPORTED', 'CLOSED', 'Dismiss an unfounded report', '{"reason_dismissed": "text"}', '{}', '{}', false, null))
select w.module, w.action, s.code, w.to_state, w.label, w.fields::jsonb, w.sets::jsonb, w.requires_data::jsonb,
       w.approval, w.other_officer_than, true
  from wf w
  join refuge.workflow_state s on s.module = w.module
                               and (s.code = w.from_state or (w.from_state = '*' and not s.closed and s.code <> w.to_state));

-- Serials of case numbers (KEN-RSD-26-000123): concurrent openings do not wait.
create sequence refuge.case_number_seq;
select pg_catalog.pg_extension_config_dump('refuge.case_number_seq', '');

-- A case of one process for members of a family; the family is not changed.
create table refuge.process_case (
    id               uuid primary key default gen_random_uuid(),
    number           text not null unique,
    module           text not null references refuge.case_module,
    operation_id     uuid not null references refuge.operation,
    site_id          uuid,
    group_id         uuid references refuge.registration_group,
    principal_id     uuid not null references refuge.individual,
    state            text not null,
    closed           boolean not null default false,
    state_since      timestamptz not null default now(),
    due_at           timestamptz,
    assigned_to      name,
    data             jsonb not null default '{}',
    opened_at        timestamptz not null default now(),
    opened_by        name not null default current_user,
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    updated_at       timestamptz not null default now(),
    updated_by       name not null default current_user,
    foreign key (module, state) references refuge.workflow_state (module, code),
    foreign key (operation_id, site_id) references refuge.site (operation_id, id)
);
create index on refuge.process_case (operation_id, module, state);
create index on refuge.process_case (principal_id);
create unique index process_case_one_open on refuge.process_case (module, principal_id) where not closed;
create index on refuge.process_case (due_at) where not closed and due_at is not null;
create index on refuge.process_case (assigned_to) where not closed;
comment on table refuge.process_case is 'a process case (RSD, resettlement, BID, ...) for members of a registration group';
grant select on refuge.process_case to refuge_supervisor, refuge_assistance, refuge_rsd, refuge_resettlement,
    refuge_protection, refuge_child_protection;
select pg_catalog.pg_extension_config_dump('refuge.process_case', '');

create policy case_staff_read on refuge.registration_group for select
    to refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection
    using (operation_id = any ((select refuge.scope_operations())::uuid[])
           or site_id = any ((select refuge.scope_sites())::uuid[])
           or exists (select 1 from refuge.process_case c where c.group_id = registration_group.id));

create table refuge.case_member (
    case_id          uuid not null references refuge.process_case,
    individual_id    uuid not null references refuge.individual,
    role             text not null check (role in ('PRINCIPAL', 'DEPENDANT')),
    relationship     text,
    added_at         timestamptz not null default now(),
    added_by         name not null default current_user,
    primary key (case_id, individual_id)
);
create index on refuge.case_member (individual_id);
create unique index case_member_one_principal on refuge.case_member (case_id) where role = 'PRINCIPAL';
comment on table refuge.case_member is 'members of a process case (the family grouping is unchanged)';
create policy module_read on refuge.case_member for select to refuge_supervisor, refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection
    using (exists (select 1 from refuge.process_case c where (c.id = case_member.case_id)));
grant select on refuge.case_member to refuge_supervisor, refuge_assistance, refuge_rsd, refuge_resettlement,
    refuge_protection, refuge_child_protection;
select pg_catalog.pg_extension_config_dump('refuge.case_member', '');

create policy case_staff_read on refuge.individual for select
    to refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection
    using (operation_id = any ((select refuge.scope_operations())::uuid[])
           or site_id = any ((select refuge.scope_sites())::uuid[])
           or exists (select 1 from refuge.case_member cm where cm.individual_id = individual.id));

-- The case's history: one row per action, never changed.
create table refuge.case_event (
    id               bigint generated always as identity primary key,
    case_id          uuid not null references refuge.process_case,
    at               timestamptz not null default now(),
    actor            name not null,
    action           text not null,
    from_state       text,
    to_state         text,
    reason           text,
    data             jsonb not null default '{}',
    approval_id      uuid
);
create index on refuge.case_event (case_id, id);
comment on table refuge.case_event is 'append-only history of a case: who, when, the action, from and to state, reason and data';
create trigger append_only before delete or update on refuge.case_event
    for each row execute function refuge.append_only();
alter table refuge.case_event enable always trigger append_only;
create policy module_read on refuge.case_event for select to refuge_supervisor, refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection
    using (exists (select 1 from refuge.process_case c where (c.id = case_event.case_id)));
grant select on refuge.case_event to refuge_supervisor, refuge_assistance, refuge_rsd, refuge_resettlement,
    refuge_protection, refuge_child_protection;
select pg_catalog.pg_extension_config_dump('refuge.case_event', '');
select pg_catalog.pg_extension_config_dump('refuge.case_event_id_seq', '');

create table refuge.case_approval (
    id               uuid primary key default gen_random_uuid(),
    case_id          uuid not null references refuge.process_case,
    action           text not null,
    from_state       text not null,
    data             jsonb not null default '{}',
    reason           text,
    status           text not null default 'REQUESTED' check (status in ('REQUESTED', 'APPROVED', 'REJECTED')),
    requested_by     name not null,
    requested_at     timestamptz not null default now(),
    decided_by       name,
    decided_at       timestamptz,
    decision_comment text,
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    updated_at       timestamptz not null default now(),
    updated_by       name not null default current_user,
    check ((status = 'REQUESTED') = (decided_by is null))
);
create unique index case_approval_one_pending on refuge.case_approval (case_id) where status = 'REQUESTED';
comment on table refuge.case_approval is 'a transition awaiting a supervisor''s approval (four eyes: never the requester)';
create policy module_read on refuge.case_approval for select to refuge_supervisor, refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection
    using (exists (select 1 from refuge.process_case c where (c.id = case_approval.case_id)));
grant select on refuge.case_approval to refuge_supervisor, refuge_assistance, refuge_rsd, refuge_resettlement,
    refuge_protection, refuge_child_protection;
select pg_catalog.pg_extension_config_dump('refuge.case_approval', '');

create table refuge.case_alert (
    id               uuid primary key default gen_random_uuid(),
    case_id          uuid not null references refuge.process_case,
    operation_id     uuid not null references refuge.operation,
    kind             text not null check (kind in ('FLAG', 'OVERDUE', 'APPROVAL', 'TRANSFER', 'REFERRAL', 'ASSIGNMENT')),
    severity         text not null default 'NORMAL' check (severity in ('NORMAL', 'HIGH', 'CRITICAL')),
    message          text not null,
    to_role          name,
    state            text,
    due_at           timestamptz,
    raised_by        name not null,
    raised_at        timestamptz not null default now(),
    acknowledged_by  name,
    acknowledged_at  timestamptz,
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    updated_at       timestamptz not null default now(),
    updated_by       name not null default current_user
);
create index on refuge.case_alert (operation_id, raised_at) where acknowledged_at is null;
create unique index case_alert_one_overdue on refuge.case_alert (case_id, due_at) where kind = 'OVERDUE';
comment on table refuge.case_alert is 'alerts on cases (flags raised by staff, overdue steps, approvals, transfers, referrals); each is also sent with NOTIFY refuge_case_alert';
create policy module_read on refuge.case_alert for select to refuge_supervisor, refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection
    using (exists (select 1 from refuge.process_case c where (c.id = case_alert.case_id)));
grant select on refuge.case_alert to refuge_supervisor, refuge_assistance, refuge_rsd, refuge_resettlement,
    refuge_protection, refuge_child_protection;
select pg_catalog.pg_extension_config_dump('refuge.case_alert', '');

-- Notes and interview transcripts.  Confidential text is sealed with the
-- vault key (AES-256-GCM, extension/vault.c) and read through
-- refuge.read_case_note(), which logs the read.
create table refuge.case_note (
    id               uuid primary key default gen_random_uuid(),
    case_id          uuid not null references refuge.process_case,
    kind             text not null check (kind in ('NOTE', 'INTERVIEW_TRANSCRIPT', 'ASSESSMENT', 'DECISION')),
    confidential     boolean not null,
    body             text,
    sealed           bytea,
    author           name not null,
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    check (confidential = (body is null)),
    check (confidential = (sealed is not null))
);
create index on refuge.case_note (case_id);
comment on table refuge.case_note is 'case notes and interview transcripts; confidential text is stored only sealed';
create trigger append_only before delete or update on refuge.case_note
    for each row execute function refuge.append_only();
alter table refuge.case_note enable always trigger append_only;
create policy module_read on refuge.case_note for select
    to refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection, refuge_assistance, refuge_supervisor
    using (exists (select 1 from refuge.process_case c join refuge.case_module m on m.code = c.module
                    where c.id = case_note.case_id and not m.sensitive));
grant select (id, case_id, kind, confidential, body, author, created_at) on refuge.case_note to
    refuge_supervisor, refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection,
    refuge_child_protection;
select pg_catalog.pg_extension_config_dump('refuge.case_note', '');

create table refuge.case_document (
    id               uuid primary key default gen_random_uuid(),
    case_id          uuid not null references refuge.process_case,
    title            text not null,
    media_type       text not null,
    size_bytes       integer not null,
    sha256           bytea not null,
    confidential     boolean not null,
    content          bytea,
    sealed           bytea,
    author           name not null,
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    check (confidential = (content is null)),
    check (confidential = (sealed is not null))
);
create index on refuge.case_document (case_id);
comment on table refuge.case_document is 'attachments of a case (digest of the original; confidential ones sealed)';
create trigger append_only before delete or update on refuge.case_document
    for each row execute function refuge.append_only();
alter table refuge.case_document enable always trigger append_only;
create policy module_read on refuge.case_document for select
    to refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection, refuge_assistance, refuge_supervisor
    using (exists (select 1 from refuge.process_case c join refuge.case_module m on m.code = c.module
                    where c.id = case_document.case_id and not m.sensitive));
grant select (id, case_id, title, media_type, size_bytes, sha256, confidential, author, created_at) on
    refuge.case_document to refuge_supervisor, refuge_assistance, refuge_rsd, refuge_resettlement,
    refuge_protection, refuge_child_protection;
select pg_catalog.pg_extension_config_dump('refuge.case_document', '');

-- Cross references between cases and to identity records (fraud alerts,
-- adjudication cases): the eRRF "linked cases", the fraud file's evidence.
create table refuge.case_link (
    case_id          uuid not null references refuge.process_case,
    kind             text not null check (kind in ('process_case', 'fraud_alert', 'fraud_case', 'dedup_case', 'collection')),
    linked_id        uuid not null,
    note             text,
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    primary key (case_id, kind, linked_id)
);
comment on table refuge.case_link is 'links from a case to other cases and to fraud alerts, fraud cases, adjudication cases and collections';
create policy module_read on refuge.case_link for select to refuge_supervisor, refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection
    using (exists (select 1 from refuge.process_case c where (c.id = case_link.case_id)));
grant select on refuge.case_link to refuge_supervisor, refuge_assistance, refuge_rsd, refuge_resettlement,
    refuge_protection, refuge_child_protection;
select pg_catalog.pg_extension_config_dump('refuge.case_link', '');

-- SGBV incidents (GBVIMS classification) with the survivor's consent.
-- Details are sealed; the record is read through refuge.read_gbv_incident().
create table refuge.gbv_incident (
    case_id          uuid primary key references refuge.process_case,
    violence_type    text not null check (violence_type in ('RAPE', 'SEXUAL_ASSAULT', 'PHYSICAL_ASSAULT', 'FORCED_MARRIAGE',
                                                           'DENIAL_OF_RESOURCES', 'PSYCHOLOGICAL_ABUSE', 'NON_GBV')),
    incident_date    date,
    reported_on      date not null default current_date,
    consent_services boolean not null,
    consent_sharing  boolean not null,
    sealed           bytea not null,
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    updated_at       timestamptz not null default now(),
    updated_by       name not null default current_user
);
comment on table refuge.gbv_incident is 'SGBV incident: GBVIMS classification, consent to services and to information sharing; the narrative sealed';
select pg_catalog.pg_extension_config_dump('refuge.gbv_incident', '');

-- Transfers between operations or sites: request, accept or reject.
create table refuge.case_transfer (
    id               uuid primary key default gen_random_uuid(),
    case_id          uuid not null references refuge.process_case,
    from_operation   uuid not null references refuge.operation,
    from_site        uuid,
    to_operation     uuid not null references refuge.operation,
    to_site          uuid,
    reason           text not null,
    status           text not null default 'REQUESTED' check (status in ('REQUESTED', 'ACCEPTED', 'REJECTED', 'CANCELLED')),
    requested_by     name not null,
    requested_at     timestamptz not null default now(),
    decided_by       name,
    decided_at       timestamptz,
    decision_reason  text,
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    updated_at       timestamptz not null default now(),
    updated_by       name not null default current_user,
    module           text not null,
    foreign key (to_operation, to_site) references refuge.site (operation_id, id),
    check ((status = 'REQUESTED') = (decided_by is null))
);
create unique index case_transfer_one_pending on refuge.case_transfer (case_id) where status = 'REQUESTED';
comment on table refuge.case_transfer is 'transfers of cases between operations and sites; access follows the case to its new owner';
create trigger set_module before insert on refuge.case_transfer
    for each row execute function refuge.set_transfer_module();
grant select on refuge.case_transfer to refuge_supervisor, refuge_assistance, refuge_rsd, refuge_resettlement,
    refuge_protection, refuge_child_protection;
select pg_catalog.pg_extension_config_dump('refuge.case_transfer', '');

-- Partners: organisations, their staff, and referrals sharing chosen fields.
create table refuge.partner_organisation (
    id               uuid primary key default gen_random_uuid(),
    code             text not null unique,
    name             text not null,
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    updated_at       timestamptz not null default now(),
    updated_by       name not null default current_user
);
comment on table refuge.partner_organisation is 'partner organisations to which cases can be referred';
create policy read_all on refuge.partner_organisation for select to refuge_registration, refuge_supervisor, refuge_analyst, refuge_admin, refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection, refuge_partner
    using (true);
grant select on refuge.partner_organisation to refuge_registration, refuge_supervisor, refuge_analyst,
    refuge_admin, refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd,
    refuge_resettlement, refuge_protection, refuge_child_protection, refuge_partner;
select pg_catalog.pg_extension_config_dump('refuge.partner_organisation', '');

create table refuge.partner_staff (
    role_name        name primary key,
    partner_id       uuid not null references refuge.partner_organisation,
    active           boolean not null default true,
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    updated_at       timestamptz not null default now(),
    updated_by       name not null default current_user
);
comment on table refuge.partner_staff is 'which organisation a partner staff member''s role works for';
create policy admin_read on refuge.partner_staff for select to refuge_admin using (true);
create policy partner_read on refuge.partner_staff for select to refuge_partner
    using (role_name = refuge.caller());
grant select on refuge.partner_staff to refuge_admin, refuge_partner;
select pg_catalog.pg_extension_config_dump('refuge.partner_staff', '');

create table refuge.referral_field (
    code             text primary key,
    label            text not null,
    shipped          boolean not null default false
);
comment on table refuge.referral_field is 'the parts of a case a referral can share with a partner';
create policy read_all on refuge.referral_field for select to refuge_registration, refuge_supervisor, refuge_analyst, refuge_admin, refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection, refuge_partner
    using (true);
grant select on refuge.referral_field to refuge_registration, refuge_supervisor, refuge_analyst, refuge_admin,
    refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement,
    refuge_protection, refuge_child_protection, refuge_partner;
select pg_catalog.pg_extension_config_dump('refuge.referral_field', 'where not shipped');
insert into refuge.referral_field (code, label, shipped) values
  ('CASE', 'case number, module, state and due date', true),
  ('MEMBERS', 'members'' names, sex, date of birth and relationship', true),
  ('CONTACTS', 'members'' contacts', true),
  ('SPECIFIC_NEEDS', 'members'' active specific needs', true),
  ('CASE_DATA', 'the case''s data (decisions, dates, categories)', true),
  ('NOTES', 'notes that are not confidential', true),
  ('INCIDENT', 'the SGBV incident (only with the survivor''s consent to sharing)', true);

create table refuge.case_referral (
    id               uuid primary key default gen_random_uuid(),
    case_id          uuid not null references refuge.process_case,
    partner_id       uuid not null references refuge.partner_organisation,
    fields           text[] not null check (cardinality(fields) > 0),
    purpose          text not null,
    status           text not null default 'ACTIVE' check (status in ('ACTIVE', 'CLOSED', 'REVOKED')),
    valid_until      date,
    referred_by      name not null,
    referred_at      timestamptz not null default now(),
    ended_by         name,
    ended_at         timestamptz,
    end_reason       text,
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    updated_at       timestamptz not null default now(),
    updated_by       name not null default current_user,
    check ((status = 'ACTIVE') = (ended_by is null))
);
create index on refuge.case_referral (partner_id) where status = 'ACTIVE';
create index on refuge.case_referral (case_id);
comment on table refuge.case_referral is 'a case referred to a partner: the fields shared, until closed, revoked or expired';
create policy module_read on refuge.case_referral for select to refuge_supervisor, refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection
    using (exists (select 1 from refuge.process_case c where (c.id = case_referral.case_id)));
grant select on refuge.case_referral to refuge_supervisor, refuge_assistance, refuge_rsd, refuge_resettlement,
    refuge_protection, refuge_child_protection, refuge_partner;
select pg_catalog.pg_extension_config_dump('refuge.case_referral', '');

-- The vulnerability scoring model: weights of members' specific-need
-- categories, of household facts and of the assessment's answers; the
-- thresholds of the risk levels (kind THRESHOLD, codes HIGH and MEDIUM).
create table refuge.vulnerability_factor (
    code             text primary key,
    kind             text not null check (kind in ('NEED', 'HOUSEHOLD', 'ANSWER', 'THRESHOLD')),
    label            text not null,
    weight           numeric not null check (weight >= 0),
    shipped          boolean not null default false
);
comment on table refuge.vulnerability_factor is 'vulnerability scoring model: weights (needs by category, household facts, answers) and risk thresholds';
create policy read_all on refuge.vulnerability_factor for select to refuge_registration, refuge_supervisor, refuge_analyst, refuge_admin, refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection, refuge_partner
    using (true);
grant select on refuge.vulnerability_factor to refuge_registration, refuge_supervisor, refuge_analyst,
    refuge_admin, refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd,
    refuge_resettlement, refuge_protection, refuge_child_protection, refuge_partner;
select pg_catalog.pg_extension_config_dump('refuge.vulnerability_factor', 'where not shipped');
insert into refuge.vulnerability_factor (code, kind, label, weight, shipped) values
  ('SC', 'NEED', 'Unaccompanied or separated child', 4, true),
  ('CR', 'NEED', 'Child at risk', 3, true),
  ('SV', 'NEED', 'SGBV', 4, true),
  ('TR', 'NEED', 'Torture', 3, true),
  ('WR', 'NEED', 'Woman at risk', 3, true),
  ('LP', 'NEED', 'Specific legal and physical protection needs', 3, true),
  ('SM', 'NEED', 'Serious medical condition', 3, true),
  ('DS', 'NEED', 'Disability', 2, true),
  ('ER', 'NEED', 'Older person at risk', 2, true),
  ('SP', 'NEED', 'Single parent or caregiver', 2, true),
  ('PG', 'NEED', 'Pregnant or lactating', 1, true),
  ('FU', 'NEED', 'Family unity', 1, true),
  ('LARGE_HOUSEHOLD', 'HOUSEHOLD', 'Seven or more members', 1, true),
  ('HIGH_DEPENDENCY', 'HOUSEHOLD', 'More than two dependants (under 18 or 60 and over) per adult aged 18-59', 2, true),
  ('NO_INCOME', 'ANSWER', 'No member earns an income', 3, true),
  ('FOOD_INSECURE', 'ANSWER', 'Skips meals for lack of food', 3, true),
  ('INADEQUATE_SHELTER', 'ANSWER', 'No adequate shelter', 2, true),
  ('DEBT', 'ANSWER', 'Debt beyond the means to repay', 1, true),
  ('CHILD_LABOUR', 'ANSWER', 'A child works to support the household', 2, true),
  ('NO_SCHOOL', 'ANSWER', 'School-age children out of school', 1, true),
  ('HIGH', 'THRESHOLD', 'High risk from this score', 8, true),
  ('MEDIUM', 'THRESHOLD', 'Medium risk from this score', 4, true);

-- Modules whose roles the caller holds (policies use it as an initplan).
create function refuge.caller_modules() returns text[]
    language sql stable parallel safe security definer
    set search_path = pg_catalog, pg_temp
begin atomic
    select coalesce(pg_catalog.array_agg(m.code), '{}')
      from refuge.case_module m
     where refuge.caller_is_superuser()
        or exists (select 1 from pg_catalog.unnest(m.roles) r where refuge.caller_has(r));
end;
comment on function refuge.caller_modules() is
    'the case modules the caller works, from their module roles';
grant execute on function refuge.caller_modules() to refuge_supervisor, refuge_assistance, refuge_rsd,
    refuge_resettlement, refuge_protection, refuge_child_protection, refuge_partner, refuge_dba;

create policy supervisor_read on refuge.audit_log for select to refuge_supervisor
    using (operation_id = any ((select refuge.scope_operations())::uuid[])
           and ((module is null and class in ('registration', 'identity', 'assistance', 'access_log', 'config'))
                or module = any ((select refuge.caller_modules())::text[])));

create policy supervisor_read on refuge.sensitive_read for select to refuge_supervisor
    using (operation_id = any ((select refuge.scope_operations())::uuid[])
           and (module is null or module = any ((select refuge.caller_modules())::text[])));

create policy module_read on refuge.process_case for select
    to refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection, refuge_assistance, refuge_supervisor
    using (module = any ((select refuge.caller_modules())::text[])
           and (operation_id = any ((select refuge.scope_operations())::uuid[])
                or site_id = any ((select refuge.scope_sites())::uuid[])));

create policy module_read on refuge.case_transfer for select
    to refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection, refuge_assistance, refuge_supervisor
    using (exists (select 1 from refuge.process_case c where c.id = case_transfer.case_id)
           or (module = any ((select refuge.caller_modules())::text[])
               and (to_operation = any ((select refuge.scope_operations())::uuid[])
                    or to_site = any ((select refuge.scope_sites())::uuid[]))));

-- May the caller work cases of this module in this operation (and site)?
create function refuge.may_work_case(p_module text, p_operation uuid, p_site uuid) returns boolean
    language sql stable parallel safe
begin atomic
    select p_module = any (refuge.caller_modules()) and refuge.in_scope(p_operation, p_site);
end;
comment on function refuge.may_work_case(text, uuid, uuid) is
    'may the caller work cases of this module in this operation and site?';
grant execute on function refuge.may_work_case(text, uuid, uuid) to refuge_supervisor, refuge_assistance,
    refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection, refuge_partner, refuge_dba;

-- The caller's partner organisation (null for everyone else).
create function refuge.caller_partner() returns uuid
    language sql stable parallel safe security definer
    set search_path = pg_catalog, pg_temp
begin atomic
    select ps.partner_id from refuge.partner_staff ps
     where ps.role_name = refuge.caller() and ps.active and refuge.caller_has('refuge_partner');
end;
comment on function refuge.caller_partner() is
    'the partner organisation the caller works for, if any';
grant execute on function refuge.caller_partner() to refuge_supervisor, refuge_assistance, refuge_rsd,
    refuge_resettlement, refuge_protection, refuge_child_protection, refuge_partner;

create policy partner_read on refuge.case_referral for select to refuge_partner
    using (partner_id = (select refuge.caller_partner()));

create type refuge.tracing_match as (individual_id uuid, number text, given_name text, family_name text, sex text,
                                     birth_year integer, operation text, score integer);
comment on type refuge.tracing_match is 'internal: one result of refuge.tracing_matches()';
