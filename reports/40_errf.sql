-- The Resettlement Registration Form: eRRF XML, JSON and PDF.

-- The proGres code of a Refuge code ('-' when unknown or without equivalent).
create function refuge.to_progres(domain text, code text) returns text
    language sql stable parallel safe
    set search_path = pg_catalog, pg_temp
return coalesce((select p.progres_code from refuge.progres_code p
                  where p.domain = to_progres.domain and p.code = to_progres.code and p.preferred), '-');

-- The Refuge code of a proGres code (null for '-', unknown codes raise).
create function refuge.from_progres(domain text, progres_code text, field text) returns text
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    r refuge.progres_code;
begin
    if progres_code is null or btrim(progres_code) in ('', '-') then
        return null;
    end if;
    select * into r from refuge.progres_code p where p.domain = from_progres.domain and upper(p.progres_code) = upper(btrim(from_progres.progres_code));
    if not found then
        perform refuge.raise_field('23503', field, format('"%s" is not a proGres %s code', progres_code, replace(domain, '_', ' ')));
    end if;
    return r.code;
end
$$;

-- The Resettlement Registration Form of a resettlement case: as an eRRF v4
-- XML document (what resettlement States receive) and as JSON (the content
-- of the printable form).  Only staff who work the case may produce it, and
-- every production is logged as a sensitive read.
create function refuge.xml_datetime(d date) returns text
    language sql immutable parallel safe
return to_char(d, 'YYYY-MM-DD') || 'T00:00:00Z';

-- A stable uuid for records Refuge keeps without one (case membership, links).
create function refuge.derived_uuid(a uuid, b uuid) returns uuid
    language sql immutable parallel safe
return md5(a::text || '/' || b::text)::uuid;

-- The case a Resettlement Registration Form is made of, under a sharing
-- agreement with a resettlement state covering RESETTLEMENT_SUBMISSION and
-- the form (RRF), with the consent of the principal and of every adult
-- member (when that purpose rests on consent); the read is logged with the
-- agreement.
create function refuge.rrf_case(p_case uuid, p_purpose text, p_agreement text) returns refuge.process_case
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
    a refuge.sharing_agreement;
    m uuid;
begin
    c := refuge.case_for_update(p_case, 'rrf', false);
    if c.module <> 'RESETTLEMENT' then
        perform refuge.raise_field('22023', 'case_id', format('case %s is a %s case: a Resettlement Registration Form is made for resettlement cases', c.number, c.module));
    end if;
    a := refuge.agreement_for(p_agreement, 'RESETTLEMENT_STATE', null, 'RESETTLEMENT_SUBMISSION', array['RRF'], 'agreement');
    -- a case submitted to a state goes under that state's agreement only
    if c.data ->> 'resettlement_country' is not null and c.data ->> 'resettlement_country' <> a.country then
        perform refuge.raise_field('22023', 'agreement', format('%s is with %s (%s); case %s is submitted to %s', a.code,
                                                              a.party_name, a.country, c.number, c.data ->> 'resettlement_country'));
    end if;
    for m in select cm.individual_id from refuge.case_member cm join refuge.individual i on i.id = cm.individual_id
              where cm.case_id = c.id
                and (cm.individual_id = c.principal_id or i.date_of_birth is null or i.date_of_birth <= current_date - interval '18 years')
              order by cm.individual_id = c.principal_id desc, i.number loop
        perform refuge.require_consent(m, 'RESETTLEMENT_SUBMISSION', 'case_id', a.id);
    end loop;
    perform refuge.log_sensitive_read('case_detail', c.id, c,
        format('%s for %s under agreement %s', p_purpose, a.party_name, a.code));
    return c;
end
$$;

create function refuge.rrf_xml(case_id uuid, agreement text default null) returns xml
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
    asylum text;
    keyed boolean;
    doc xml;
begin
    c := refuge.rrf_case(rrf_xml.case_id, 'eRRF XML', rrf_xml.agreement);
    select o.country into asylum from refuge.operation o where o.id = c.operation_id;
    keyed := refuge.vault_key_loaded();
    with m as (
        select i.*, cm.role, coalesce(cm.relationship, 'PA') as rel,
               (select n.country from refuge.individual_nationality n where n.individual_id = i.id
                 order by n.is_primary desc, n.created_at limit 1) as nationality
          from refuge.case_member cm join refuge.individual i on i.id = cm.individual_id
         where cm.case_id = c.id)
    select xmlelement(name "UNHCR_RRF", xmlattributes('http://tempuri.org/ElectronicRRF.xsd' as xmlns),
        xmlelement(name "RRFBATCHTYPE", xmlelement(name "GroupIndividualIndicator",
            case when (select count(*) from m) > 1 then 'Group Submission' else 'Single Submission' end)),
        xmlelement(name "CASE",
            (select xmlagg(xmlelement(name "dataIndividual", xmlforest(
                        m.id as "IndividualGUID", m.number as "IndividualID",
                        coalesce(m.family_name, m.given_name) as "FamilyName", m.second_family_name as "SecondFamilyName",
                        case when m.family_name is not null then m.given_name end as "GivenName",
                        m.middle_name as "MiddleName", m.maiden_name as "MaidenName",
                        refuge.xml_datetime(m.registration_date) as "RegistrationDate",
                        refuge.xml_datetime(m.date_of_birth) as "DateofBirth",
                        case when m.dob_precision = 'EXACT' then 0 else 1 end as "DateofBirthEstimate",
                        refuge.to_progres('country', m.birth_country) as "BirthCountryCode",
                        m.place_of_birth as "BirthCityTownVillage",
                        refuge.to_progres('country', m.origin_country) as "OriginCountryCode",
                        refuge.to_progres('country', asylum) as "AsylumCountryCode",
                        refuge.xml_datetime(m.arrival_date) as "ArrivalDate",
                        refuge.to_progres('sex', m.sex) as "SexCode",
                        refuge.to_progres('country', m.nationality) as "NationalityCode",
                        refuge.to_progres('marital_status', m.marital_status) as "MarriageStatusCode",
                        refuge.to_progres('religion', m.religion) as "ReligionCode",
                        refuge.to_progres('ethnicity', m.ethnicity) as "EthnicityCode",
                        refuge.to_progres('education_level', m.education_level) as "EducationLevelCode",
                        m.mother_name as "MotherName", m.father_name as "FatherName"))
                    order by m.role desc, m.date_of_birth nulls last, m.number) from m),
            (select xmlagg(xmlelement(name "dataIndividualProcessGroup", xmlforest(
                        refuge.derived_uuid(c.id, m.id) as "IndividualProcessingGroupGUID", m.id as "IndividualGUID",
                        c.id as "ProcessingGroupGUID",
                        refuge.to_progres('relationship', m.rel) as "RelationshipToPrincipalRepresentative"))
                    order by m.role desc, m.date_of_birth nulls last, m.number) from m),
            xmlelement(name "dataProcessGroup", xmlforest(c.id as "ProcessingGroupGUID", c.number as "ProcessingGroupNumber",
                       (select count(*) from m) as "ProcessingGroupSize")),
            (select xmlagg(xmlelement(name "dataProcessGroupCrossReference", xmlforest(
                        refuge.derived_uuid(c.id, l.linked_id) as "ProcessingGroupCrossReferenceGUID",
                        c.id as "ProcessingGroupGUIDFrom", c.number as "ProcessingGroupNumberFrom",
                        o.id as "ProcessingGroupGUIDTo", o.number as "ProcessingGroupNumberTo")) order by o.number)
               from refuge.case_link l join refuge.process_case o on o.id = l.linked_id
              where l.case_id = c.id and l.kind = 'process_case'),
            (select xmlagg(xmlelement(name "dataAddress", xmlforest(
                        a.id as "AddressGUID", a.individual_id as "IndividualGUID",
                        refuge.to_progres('address_type', a.address_type) as "AddressType",
                        refuge.to_progres('country', a.country) as "AddressCountry",
                        a.location_level1 as "LocationLevel1Description", a.location_level2 as "LocationLevel2Description",
                        a.location_level3 as "LocationLevel3Description", a.location_level4 as "LocationLevel4Description",
                        a.location_level5 as "LocationLevel5Description", a.location_level6 as "LocationLevel6"))
                    order by a.created_at, a.id)
               from refuge.individual_address a join m on m.id = a.individual_id),
            (select xmlagg(xmlelement(name "dataAlias", xmlforest(
                        n.id as "AliasGUID", n.individual_id as "IndividualGUID",
                        coalesce(n.family_name, n.given_name) as "IndividualAliasLastName",
                        case when n.family_name is not null then n.given_name end as "IndividualAliasFirstName"))
                    order by n.created_at, n.id)
               from refuge.individual_name n join m on m.id = n.individual_id
              where n.kind in ('ALIAS', 'PREVIOUS') and coalesce(n.family_name, n.given_name) is not null),
            (select xmlagg(xmlelement(name "dataEducation", xmlforest(
                        e.id as "EducationGUID", e.individual_id as "IndividualGUID",
                        refuge.to_progres('education_level', e.level) as "EducationLevelCode",
                        refuge.to_progres('education_degree', e.degree) as "DegreeTypeCode")) order by e.created_at, e.id)
               from refuge.individual_education e join m on m.id = e.individual_id),
            (select xmlagg(xmlelement(name "dataEmployment", xmlforest(
                        w.id as "EmploymentGUID", w.individual_id as "IndividualGUID",
                        case w.kind when 'EMPLOYED' then 'E' when 'NOT_EMPLOYED' then 'NE' else 'S' end as "EmploymentTypeCode",
                        refuge.to_progres('occupation', w.occupation) as "OccupationCode",
                        coalesce(w.title, '') as "OccupationText")) order by w.created_at, w.id)
               from refuge.individual_occupation w join m on m.id = w.individual_id),
            -- relatives outside the case
            (select xmlagg(xmlelement(name "dataIndividualRelatives", xmlforest(
                        r.id as "IndividualRelativesGUID", r.individual_id as "IndividualGUID",
                        coalesce(r.family_name, r.given_name) as "FamilyName", r.second_family_name as "SecondFamilyName",
                        case when r.family_name is not null then r.given_name end as "GivenName",
                        r.middle_name as "MiddleName", r.maiden_name as "MaidenName",
                        refuge.to_progres('relationship', r.relationship) as "RelationshipCode",
                        refuge.xml_datetime(r.date_of_birth) as "DateofBirth",
                        case when r.date_of_birth is null then null when r.dob_estimated then 1 else 0 end as "DateofBirthEstimateFlag",
                        refuge.to_progres('country', r.birth_country) as "BirthCountryCode",
                        r.place_of_birth as "BirthCityTownVillage",
                        refuge.to_progres('country', r.residence_country) as "ResidenceCountryCode",
                        refuge.to_progres('sex', r.sex) as "SexCode",
                        refuge.to_progres('country', r.nationality) as "NationalityCode",
                        case when r.deceased then 1 else 0 end as "Deceased", refuge.xml_datetime(r.deceased_on) as "DeceasedDate",
                        refuge.to_progres('marital_status', r.marital_status) as "MarriageStatusCode"))
                    order by r.individual_id, r.created_at, r.id)
               from refuge.individual_relative r join m on m.id = r.individual_id),
            (select xmlagg(xmlelement(name "dataLanguage", xmlforest(
                        l.id as "LanguageGUID", l.individual_id as "IndividualGUID",
                        refuge.to_progres('language', l.language) as "LanguageCode",
                        coalesce(l.read_level, '-') as "LanguageReadCode", coalesce(l.write_level, '-') as "LanguageWriteCode",
                        coalesce(l.speak_level, '-') as "LanguageSpeakCode",
                        coalesce(l.understand_level, '-') as "LanguageUnderstandCode"))
                    order by l.individual_id, l.mother_tongue desc, l.language)
               from refuge.individual_language l join m on m.id = l.individual_id),
            -- members' face images from the HQ vault, when the server holds the key (each opening logged)
            (select xmlagg(xmlelement(name "dataPhotograph", xmlforest(
                        v.id as "PhotoGUID", v.individual_id as "IndividualGUID", 1 as "PhotoTypeCode",
                        encode(refuge.rrf_photo(v.id, c.number), 'base64') as "Photo")) order by m.number)
               from m join lateral (select b.* from refuge.biometric_vault b
                                     where b.individual_id = m.id and b.part = 'face' and keyed
                                     order by b.created_at desc limit 1) v on true),
            xmlelement(name "dataResettlement", xmlforest(c.principal_id as "IndividualGUID",
                       coalesce(c.data ->> 'submission_category', '-') as "ResettlementCriteriaCode",
                       c.data ->> 'secondary_category' as "ResettlementCriteria2Code",
                       coalesce(c.data ->> 'priority', '-') as "ResettlementPriorityCode")),
            (select xmlagg(xmlelement(name "dataVulnerability", xmlforest(
                        n.id as "VulnerabilityGUID", n.individual_id as "IndividualGUID",
                        refuge.to_progres('vulnerability', n.category) as "VulnerabilityCode")) order by n.identified_on, n.id)
               from refuge.specific_need n join m on m.id = n.individual_id where n.active)))
      into doc;
    return xmlroot(doc, version '1.0');
end
$$;
comment on function refuge.rrf_xml(uuid, text) is
    'a resettlement case as an eRRF v4 document for a resettlement state, under a sharing agreement naming it (consent checked, logged)';
grant execute on function refuge.rrf_xml(uuid, text) to refuge_resettlement;

-- The printable Resettlement Registration Form: refuge.rrf_json() gathers
-- its content (case information, each member's biodata and photo, specific
-- needs, the resettlement needs and justification, and the confidential
-- section for those entitled to it); refuge.rrf_pdf() lays it out as PDF in
-- C with libharu (extension/pdf.c).  Members' photos are the face images of
-- the HQ vault, opened only when the server holds the vault key, each
-- opening logged in vault_access.  Confidential notes are shown to
-- resettlement supervisors of the case; others see that a section was
-- withheld.
create function refuge.rrf_json(case_id uuid, agreement text default null) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
    entitled boolean;
    keyed boolean;
    res jsonb;
begin
    c := refuge.rrf_case(rrf_json.case_id, 'Resettlement Registration Form', rrf_json.agreement);
    entitled := refuge.caller_is_superuser() or refuge.caller_has('refuge_supervisor');
    keyed := refuge.vault_key_loaded();
    select jsonb_build_object(
        'form', 'Resettlement Registration Form',
        'case', jsonb_strip_nulls(jsonb_build_object(
            'number', c.number, 'state', c.state, 'size', (select count(*) from refuge.case_member m where m.case_id = c.id),
            'operation', o.code, 'country_of_asylum', o.country,
            'submission_category', c.data ->> 'submission_category',
            'submission_category_label', (select p.label from refuge.progres_code p where p.domain = 'resettlement_criteria'
                                                                                  and p.code = c.data ->> 'submission_category'),
            'secondary_category', c.data ->> 'secondary_category',
            'secondary_category_label', (select p.label from refuge.progres_code p where p.domain = 'resettlement_criteria'
                                                                                 and p.code = c.data ->> 'secondary_category'),
            'priority', c.data ->> 'priority',
            'priority_label', (select p.label from refuge.progres_code p where p.domain = 'resettlement_priority'
                                                                         and p.code = c.data ->> 'priority'),
            'resettlement_country', c.data ->> 'resettlement_country',
            'linked_cases', (select jsonb_agg(x.number order by x.number) from refuge.case_link l
                               join refuge.process_case x on x.id = l.linked_id
                              where l.case_id = c.id and l.kind = 'process_case'),
            'prepared_on', to_char(current_date, 'YYYY-MM-DD'))),
        'members', (select jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                'individual_number', i.number, 'role', cm.role,
                'relationship', coalesce(cm.relationship, 'PA'),
                'relationship_label', (select r.label from refuge.relationship r where r.code = coalesce(cm.relationship, 'PA')),
                'family_name', i.family_name, 'given_name', i.given_name, 'middle_name', i.middle_name,
                'sex', i.sex, 'date_of_birth', to_char(i.date_of_birth, 'YYYY-MM-DD'),
                'date_of_birth_estimated', i.dob_precision <> 'EXACT',
                'place_of_birth', i.place_of_birth,
                'birth_country', (select k.name from refuge.country k where k.code = i.birth_country),
                'origin_country', (select k.name from refuge.country k where k.code = i.origin_country),
                'nationality', (select string_agg(k.name, ', ' order by n.is_primary desc, k.name)
                                  from refuge.individual_nationality n join refuge.country k on k.code = n.country
                                 where n.individual_id = i.id),
                'marital_status', (select v.label from refuge.marital_status v where v.code = i.marital_status),
                'religion', (select v.label from refuge.religion v where v.code = i.religion),
                'ethnicity', (select v.label from refuge.ethnicity v where v.code = i.ethnicity),
                'education_level', (select v.label from refuge.education_level v where v.code = i.education_level),
                'languages', (select string_agg(g.name || case when l.mother_tongue then ' (mother tongue)' else '' end, ', '
                                                order by l.mother_tongue desc, g.name)
                                from refuge.individual_language l join refuge.language g on g.code = l.language
                               where l.individual_id = i.id),
                'occupations', (select string_agg(coalesce(w.title, v.label), ', ')
                                  from refuge.individual_occupation w left join refuge.occupation v on v.code = w.occupation
                                 where w.individual_id = i.id),
                'specific_needs', (select jsonb_agg(jsonb_build_object('code', coalesce(n.code, n.category),
                                       'label', coalesce(sc.label, cat.label)) order by n.category, n.code)
                                     from refuge.specific_need n
                                     join refuge.specific_need_category cat on cat.code = n.category
                                     left join refuge.specific_need_code sc on sc.code = n.code
                                    where n.individual_id = i.id and n.active),
                'original_script_name', refuge.original_script_name(i.id),
                'aliases', (select string_agg(concat_ws(' ', x.given_name, x.family_name), '; ' order by x.created_at)
                              from refuge.individual_name x where x.individual_id = i.id and x.kind in ('ALIAS', 'PREVIOUS')),
                'documents', (select jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                                  'type', coalesce(dt.label, d.doc_type), 'number', d.number,
                                  'issuing_country', (select k.name from refuge.country k where k.code = d.issuing_country),
                                  'issued_on', to_char(d.issued_on, 'YYYY-MM-DD'), 'expires_on', to_char(d.expires_on, 'YYYY-MM-DD'),
                                  'status', d.status)) order by d.created_at)
                                from refuge.document d left join refuge.document_type dt on dt.code = d.doc_type
                               where d.individual_id = i.id),
                'addresses', (select jsonb_agg(concat_ws(', ', a.address_text, a.location_level3, a.location_level2,
                                  a.location_level1, (select k.name from refuge.country k where k.code = a.country))
                                  || coalesce(' (' || at.label || ')', '') order by a.created_at)
                                from refuge.individual_address a left join refuge.address_type at on at.code = a.address_type
                               where a.individual_id = i.id),
                'flight', (select jsonb_agg(concat_ws(', ', f.place, (select k.name from refuge.country k where k.code = f.country))
                               || coalesce(' arrived ' || to_char(f.arrived_on, 'YYYY-MM-DD'), '')
                               || coalesce(' left ' || to_char(f.departed_on, 'YYYY-MM-DD'), '')
                               || case when cardinality(f.reasons) > 0
                                       then ' - ' || (select string_agg(coalesce(fr.label, x), ', ') from unnest(f.reasons) x
                                                       left join refuge.flight_reason fr on fr.code = x) else '' end
                               order by f.seq)
                             from refuge.flight_leg f where f.individual_id = i.id),
                'legal_status', (select jsonb_strip_nulls(jsonb_build_object(
                                     'population_type', (select pt.label from refuge.population_type pt where pt.code = h.population_type),
                                     'legal_basis', h.legal_basis, 'recognised_by', h.recognised_by,
                                     'since', to_char(h.valid_from, 'YYYY-MM-DD')))
                                   from refuge.status_history h where h.individual_id = i.id and h.valid_to is null),
                'medical', (select jsonb_agg(coalesce(sc.label, cat.label) || coalesce(': ' || n.comment, '') order by n.category, n.code)
                              from refuge.specific_need n
                              join refuge.specific_need_category cat on cat.code = n.category
                              left join refuge.specific_need_code sc on sc.code = n.code
                             where n.individual_id = i.id and n.active and n.category in ('SM', 'DS')),
                'bid', (select jsonb_strip_nulls(jsonb_build_object('case', b.number, 'state', b.state,
                                  'decision', b.data ->> 'panel_decision', 'decided_on', b.data ->> 'panel_date',
                                  'risk_level', b.data ->> 'risk_level'))
                          from refuge.process_case b join refuge.case_member bm on bm.case_id = b.id
                         where b.module = 'BID' and bm.individual_id = i.id
                         order by b.closed, b.opened_at desc limit 1),
                'photo', case when keyed then (
                    select encode(refuge.rrf_photo(v.id, c.number), 'base64')
                      from refuge.biometric_vault v
                     where v.individual_id = i.id and v.part = 'face' and v.media_type in ('image/png', 'image/jpeg')
                     order by v.created_at desc limit 1) end,
                'photo_type', (select v.media_type from refuge.biometric_vault v
                                where keyed and v.individual_id = i.id and v.part = 'face'
                                  and v.media_type in ('image/png', 'image/jpeg')
                                order by v.created_at desc limit 1)))
                order by cm.role desc, i.date_of_birth nulls last, i.number)
            from refuge.case_member cm join refuge.individual i on i.id = cm.individual_id
           where cm.case_id = c.id),
        'relatives', (select jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                'of', i.number, 'relationship', (select v.label from refuge.relationship v where v.code = r.relationship),
                'name', concat_ws(' ', r.given_name, r.middle_name, r.family_name), 'sex', r.sex,
                'date_of_birth', to_char(r.date_of_birth, 'YYYY-MM-DD') || case when r.dob_estimated then ' (estimated)' else '' end,
                'birth_country', (select k.name from refuge.country k where k.code = r.birth_country),
                'residence_country', (select k.name from refuge.country k where k.code = r.residence_country),
                'nationality', (select k.name from refuge.country k where k.code = r.nationality),
                'deceased', case when r.deceased then coalesce(to_char(r.deceased_on, 'YYYY-MM-DD'), 'yes') end))
                order by i.number, r.created_at)
            from refuge.case_member cm join refuge.individual i on i.id = cm.individual_id
            join refuge.individual_relative r on r.individual_id = i.id
           where cm.case_id = c.id),
        -- the refugee claim: the RSD cases of the members (decision and basis, not the assessment)
        'claim', (select jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                'case', x.number, 'state', x.state, 'decision', x.data ->> 'decision',
                'appeal_decision', x.data ->> 'appeal_decision', 'legal_basis', x.data ->> 'legal_basis',
                'procedure', x.data ->> 'modality', 'closure_reason', x.data ->> 'closure_reason')) order by x.opened_at)
            from refuge.process_case x
           where x.module = 'RSD' and exists (select 1 from refuge.case_member a join refuge.case_member b on b.individual_id = a.individual_id
                                               where a.case_id = x.id and b.case_id = c.id)),
        'resettlement_needs', jsonb_strip_nulls(jsonb_build_object(
            'needs_assessment', (select e.data ->> 'needs_assessment' from refuge.case_event e
                                  where e.case_id = c.id and e.data ? 'needs_assessment' order by e.id desc limit 1),
            'justification', (select e.data ->> 'justification' from refuge.case_event e
                               where e.case_id = c.id and e.data ? 'justification' order by e.id desc limit 1))),
        'confidential', case when entitled then jsonb_build_object('included', true, 'notes',
                (select coalesce(jsonb_agg(jsonb_build_object('kind', n.kind, 'written', to_char(n.created_at, 'YYYY-MM-DD'),
                        'text', convert_from(refuge.vault_open(n.sealed, 'case_note:' || n.id), 'UTF8')) order by n.created_at), '[]')
                   from refuge.case_note n where n.case_id = c.id and n.confidential and keyed))
            else jsonb_build_object('included', false) end)
      into res
      from refuge.operation o where o.id = c.operation_id;
    return res;
end
$$;
comment on function refuge.rrf_json(uuid, text) is
    'a resettlement case''s Resettlement Registration Form as JSON, under a sharing agreement (consent checked, logged)';
grant execute on function refuge.rrf_json(uuid, text) to refuge_resettlement;

-- Members' face images for the Resettlement Registration Form: every
-- opening committed in vault_access first.
create function refuge.rrf_photo(p_vault uuid, p_case_number text) returns bytea
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    v refuge.biometric_vault;
begin
    select * into v from refuge.biometric_vault b where b.id = p_vault;
    return refuge.vault_open_logged(v, 'Resettlement Registration Form ' || p_case_number);
end
$$;

-- Lay out a document: lines of "KIND<tab>text[<tab>text]" (TITLE, SUB,
-- SECTION, FIELD label value, TEXT, MEMBER, PHOTO index, NOTE), images by index.
create function refuge.render_pdf(title text, lines text[], images bytea[]) returns bytea
    language c volatile
    as 'MODULE_PATHNAME', 'refuge_render_pdf';

create function refuge.rrf_pdf(case_id uuid, agreement text default null) returns bytea
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    j jsonb;
    m jsonb;
    n jsonb;
    k integer := 0;
    lines text[] := '{}';
    images bytea[] := '{}';
    f text;
begin
    j := refuge.rrf_json(rrf_pdf.case_id, rrf_pdf.agreement);
    lines := lines || ('TITLE' || E'\t' || 'Resettlement Registration Form')
                   || ('SUB' || E'\t' || format('Case %s - prepared %s - %s', j #>> '{case,number}', j #>> '{case,prepared_on}',
                                                'CONFIDENTIAL: contains personal data'));
    lines := lines || ('SECTION' || E'\t' || '1. Resettlement case information');
    foreach f in array array['number', 'size', 'operation', 'country_of_asylum', 'submission_category',
                             'secondary_category', 'priority', 'resettlement_country', 'state'] loop
        if j -> 'case' ? f then
            lines := lines || format(E'FIELD\t%s\t%s', initcap(replace(f, '_', ' ')),
                (j -> 'case' ->> f) || coalesce(' - ' || (j -> 'case' ->> (f || '_label')), ''));
        end if;
    end loop;
    lines := lines || format(E'FIELD\tLinked cases\t%s',
        coalesce((select string_agg(x, ', ') from jsonb_array_elements_text(j -> 'case' -> 'linked_cases') x), 'none'));
    lines := lines || ('SECTION' || E'\t' || '2. Case members');
    for m in select * from jsonb_array_elements(j -> 'members') loop
        k := k + 1;
        lines := lines || format(E'MEMBER\t%s, %s (%s)', upper(coalesce(m ->> 'family_name', '')),
                                 coalesce(m ->> 'given_name', ''), m ->> 'relationship_label');
        if m ? 'photo' then
            images := images || decode(m ->> 'photo', 'base64');
            lines := lines || format(E'PHOTO\t%s\t%s', cardinality(images), m ->> 'photo_type');
        else
            lines := lines || ('PHOTO' || E'\t0');
        end if;
        foreach f in array array['individual_number', 'original_script_name', 'aliases', 'sex', 'date_of_birth',
                                 'place_of_birth', 'birth_country', 'origin_country', 'nationality', 'marital_status',
                                 'religion', 'ethnicity', 'education_level', 'languages', 'occupations'] loop
            if m ? f then
                lines := lines || format(E'FIELD\t%s\t%s', initcap(replace(f, '_', ' ')),
                    (m ->> f) || case when f = 'date_of_birth' and (m ->> 'date_of_birth_estimated')::boolean
                                      then ' (estimated)' else '' end);
            end if;
        end loop;
        if m ? 'legal_status' then
            lines := lines || format(E'FIELD\tLegal status\t%s', concat_ws(', ', m #>> '{legal_status,population_type}',
                coalesce('basis ' || (m #>> '{legal_status,legal_basis}'), null),
                coalesce('recognised by ' || lower(m #>> '{legal_status,recognised_by}'), null),
                coalesce('since ' || (m #>> '{legal_status,since}'), null)));
        end if;
    end loop;
    lines := lines || ('SECTION' || E'\t' || '3. Relatives outside the case');
    if j -> 'relatives' is null or jsonb_typeof(j -> 'relatives') <> 'array' then
        lines := lines || ('TEXT' || E'\t' || 'No relatives outside the case recorded.');
    else
        for n in select * from jsonb_array_elements(j -> 'relatives') loop
            lines := lines || format(E'FIELD\t%s of %s\t%s', coalesce(n ->> 'relationship', 'Relative'), n ->> 'of',
                concat_ws('; ', n ->> 'name', n ->> 'sex', 'born ' || (n ->> 'date_of_birth'),
                          'in ' || (n ->> 'birth_country'), 'lives in ' || (n ->> 'residence_country'),
                          'national of ' || (n ->> 'nationality'), 'deceased ' || (n ->> 'deceased')));
        end loop;
    end if;
    lines := lines || ('SECTION' || E'\t' || '4. Refugee claim and basis of recognition');
    if j -> 'claim' is null or jsonb_typeof(j -> 'claim') <> 'array' then
        lines := lines || ('TEXT' || E'\t' || 'No refugee status determination case of these members in Refuge; legal status as shown for each member.');
    else
        for n in select * from jsonb_array_elements(j -> 'claim') loop
            lines := lines || format(E'FIELD\tRSD case %s\t%s', n ->> 'case', concat_ws('; ', 'state ' || (n ->> 'state'),
                'first instance ' || (n ->> 'decision'), 'appeal ' || (n ->> 'appeal_decision'),
                'legal basis ' || (n ->> 'legal_basis'), 'procedure ' || (n ->> 'procedure'),
                'closed as ' || (n ->> 'closure_reason')));
        end loop;
    end if;
    lines := lines || ('SECTION' || E'\t' || '5. Addresses and flight history');
    for m in select * from jsonb_array_elements(j -> 'members') loop
        lines := lines || format(E'FIELD\t%s: addresses\t%s', m ->> 'individual_number',
            coalesce((select string_agg(x, '; ') from jsonb_array_elements_text(m -> 'addresses') x), 'none recorded'));
        lines := lines || format(E'FIELD\t%s: flight\t%s', m ->> 'individual_number',
            coalesce((select string_agg(x, ' > ') from jsonb_array_elements_text(m -> 'flight') x), 'none recorded'));
    end loop;
    lines := lines || ('SECTION' || E'\t' || '6. Documents');
    for m in select * from jsonb_array_elements(j -> 'members') loop
        lines := lines || format(E'FIELD\t%s\t%s', m ->> 'individual_number',
            coalesce((select string_agg(concat_ws(' ', x ->> 'type', x ->> 'number', '(' || (x ->> 'issuing_country') || ')',
                                                  'issued ' || (x ->> 'issued_on'), 'expires ' || (x ->> 'expires_on'),
                                                  lower(x ->> 'status')), '; ')
                        from jsonb_array_elements(m -> 'documents') x), 'no documents'));
    end loop;
    lines := lines || ('SECTION' || E'\t' || '7. Specific needs, medical and best-interests summaries');
    for m in select * from jsonb_array_elements(j -> 'members') loop
        lines := lines || format(E'FIELD\t%s: specific needs\t%s', m ->> 'individual_number',
            coalesce((select string_agg((x ->> 'code') || ' ' || (x ->> 'label'), '; ') from jsonb_array_elements(m -> 'specific_needs') x), 'none'));
        if m ? 'medical' then
            lines := lines || format(E'FIELD\t%s: medical\t%s', m ->> 'individual_number',
                (select string_agg(x, '; ') from jsonb_array_elements_text(m -> 'medical') x));
        end if;
        if m ? 'bid' then
            lines := lines || format(E'FIELD\t%s: best interests\t%s', m ->> 'individual_number',
                concat_ws('; ', 'case ' || (m #>> '{bid,case}'), 'state ' || (m #>> '{bid,state}'),
                          'risk ' || (m #>> '{bid,risk_level}'), 'BID panel decision ' || (m #>> '{bid,decision}'),
                          'on ' || (m #>> '{bid,decided_on}')));
        end if;
    end loop;
    lines := lines || ('SECTION' || E'\t' || '8. Resettlement needs and justification');
    lines := lines || ('TEXT' || E'\t' || coalesce(j #>> '{resettlement_needs,needs_assessment}', 'No needs assessment recorded.'));
    lines := lines || ('TEXT' || E'\t' || coalesce(j #>> '{resettlement_needs,justification}', 'No justification recorded.'));
    lines := lines || ('SECTION' || E'\t' || '9. Declarations and signatures');
    lines := lines || ('TEXT' || E'\t' || 'Declaration of the principal applicant: I declare that the information I have given is true and '
        || 'complete to the best of my knowledge. I understand that false information may lead to the cancellation of my '
        || 'resettlement submission. I consent to UNHCR sharing this information with the resettlement State and the '
        || 'organisations that process my case, for the purpose of resettlement.');
    lines := lines || ('TEXT' || E'\t' || 'Interpreter: I have interpreted this form faithfully to the applicant in a language they understand.');
    lines := lines || format(E'FIELD\tPrincipal applicant\t%s', 'Signature: ______________________  Date: ____________');
    lines := lines || format(E'FIELD\tInterpreter (name, language)\t%s', '______________________  Signature: ____________  Date: ________');
    lines := lines || format(E'FIELD\tInterviewing officer\t%s', '______________________  Signature: ____________  Date: ________');
    lines := lines || format(E'FIELD\tReviewing officer (UNHCR)\t%s', '______________________  Signature: ____________  Date: ________');
    lines := lines || ('SECTION' || E'\t' || '10. Confidential information');
    if (j #>> '{confidential,included}')::boolean then
        if jsonb_array_length(j #> '{confidential,notes}') = 0 then
            lines := lines || ('TEXT' || E'\t' || 'No confidential notes.');
        end if;
        for n in select * from jsonb_array_elements(j #> '{confidential,notes}') loop
            lines := lines || format(E'NOTE\t%s, %s\t%s', n ->> 'kind', n ->> 'written', n ->> 'text');
        end loop;
    else
        lines := lines || ('TEXT' || E'\t' || 'Withheld: this section is shown only to resettlement supervisors of the case.');
    end if;
    return refuge.render_pdf('Resettlement Registration Form ' || (j #>> '{case,number}'), lines, images);
end
$$;
comment on function refuge.rrf_pdf(uuid, text) is
    'a resettlement case''s Resettlement Registration Form as PDF, under a sharing agreement (consent checked, logged)';
grant execute on function refuge.rrf_pdf(uuid, text) to refuge_resettlement;
