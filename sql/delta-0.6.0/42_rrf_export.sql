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

-- Does the server hold the vault key (so that photos can be opened)?
create function refuge.vault_key_loaded() returns boolean
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    perform refuge.vault_key_id();
    return true;
exception when others then
    return false;
end
$$;

create function refuge.rrf_case(p_case uuid, p_purpose text) returns refuge.process_case
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
begin
    c := refuge.case_for_update(p_case, 'rrf', false);
    if c.module <> 'RESETTLEMENT' then
        perform refuge.raise_field('22023', 'case_id', format('case %s is a %s case: a Resettlement Registration Form is made for resettlement cases', c.number, c.module));
    end if;
    perform refuge.log_sensitive_read('case_detail', c.id, c, p_purpose);
    return c;
end
$$;

create function refuge.rrf_xml(case_id uuid) returns xml
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
    asylum text;
    keyed boolean;
    doc xml;
begin
    c := refuge.rrf_case(rrf_xml.case_id, 'eRRF XML');
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
