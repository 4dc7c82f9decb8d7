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
