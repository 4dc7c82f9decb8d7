-- Importing eRRF files (resettlement cases from proGres).

-- The text of a child element of an eRRF node (namespace or not); null when absent.
create function refuge.rrf_text(node xml, element text) returns text
    language sql immutable parallel safe
return nullif(btrim((xpath(format('string(/*/*[local-name()=%L])', element), node))[1]::text), '');

create function refuge.rrf_nodes(doc xml, element text) returns xml[]
    language sql immutable parallel safe
return xpath(format('//*[local-name()=%L]', element), doc);

-- Check one element against what the v4 schema says of it.
create function refuge.rrf_check(node xml, path text, required text[], dates text[] default '{}',
                                 flags text[] default '{}')
    returns void
    language plpgsql immutable
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    e text;
    v text;
begin
    foreach e in array required loop
        if not (xpath(format('count(/*/*[local-name()=%L]) > 0', e), node))[1]::text::boolean then
            perform refuge.raise_field('22023', path || '.' || e, 'is missing (required by the eRRF v4 schema)');
        end if;
    end loop;
    foreach e in array dates loop
        v := refuge.rrf_text(node, e);
        if v is not null and v !~ '^\d{4}-\d\d-\d\d(T\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?)?$' then
            perform refuge.raise_field('22007', path || '.' || e, format('"%s" is not an xs:dateTime', v));
        end if;
    end loop;
    foreach e in array flags loop
        v := refuge.rrf_text(node, e);
        if v is not null and v not in ('0', '1', 'true', 'false') then
            perform refuge.raise_field('22023', path || '.' || e, format('"%s" is not an xs:boolean', v));
        end if;
    end loop;
end
$$;

create function refuge.import_rrf(document xml) returns jsonb
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
    -- each kind of element parsed once (a lookup per member had made the import quadratic)
    n_ipg xml[];
    n_alias xml[];
    n_language xml[];
    n_education xml[];
    n_employment xml[];
    n_address xml[];
    n_vulnerability xml[];
    n_relatives xml[];
    rel_node xml;
    r refuge.individual_relative;
    n_individual xml[];
begin
    perform refuge.authorize('refuge_registration', 'import_rrf');
    perform refuge.authorize('refuge_resettlement', 'import_rrf');
    if document is null then
        perform refuge.raise_field('22004', 'document', 'is required');
    end if;
    if octet_length(document::text) > 20 * 1024 * 1024 then
        perform refuge.raise_field('54000', 'document', format('%s bytes is more than the 20 MB an eRRF file may have',
                                                               octet_length(document::text)));
    end if;
    -- eRRF files declare no DTD; entity declarations are refused, not expanded
    if strpos(document::text, '<!DOCTYPE') > 0 then
        perform refuge.raise_field('22023', 'document', 'has a DOCTYPE declaration, which an eRRF file does not');
    end if;
    if not xml_is_well_formed_document(document::text) then
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
    n_individual := refuge.rrf_nodes(kase, 'dataIndividual');
    if cardinality(n_individual) = 0 then
        perform refuge.raise_field('22023', 'CASE.dataIndividual', 'is missing: a case has at least one individual');
    end if;
    if cardinality(n_individual) > 100 then
        perform refuge.raise_field('54000', 'CASE.dataIndividual',
                                   format('%s individuals; a case holds at most 100', cardinality(n_individual)));
    end if;
    n_ipg := refuge.rrf_nodes(kase, 'dataIndividualProcessGroup');
    n_alias := refuge.rrf_nodes(kase, 'dataAlias');
    n_language := refuge.rrf_nodes(kase, 'dataLanguage');
    n_education := refuge.rrf_nodes(kase, 'dataEducation');
    n_employment := refuge.rrf_nodes(kase, 'dataEmployment');
    n_address := refuge.rrf_nodes(kase, 'dataAddress');
    n_vulnerability := refuge.rrf_nodes(kase, 'dataVulnerability');
    n_relatives := refuge.rrf_nodes(kase, 'dataIndividualRelatives');
    if cardinality(n_ipg) + cardinality(n_alias) + cardinality(n_language) + cardinality(n_education)
       + cardinality(n_employment) + cardinality(n_address) + cardinality(n_vulnerability) + cardinality(n_relatives) > 5000 then
        perform refuge.raise_field('54000', 'CASE', 'holds more than 5,000 detail elements (aliases, languages, addresses ...)');
    end if;
    foreach ind in array n_individual loop
        p := format('CASE.dataIndividual[%s]', i);
        perform refuge.rrf_check(ind, p, array['IndividualGUID', 'IndividualID', 'FamilyName', 'RegistrationDate',
            'DateofBirthEstimate', 'BirthCountryCode', 'OriginCountryCode', 'AsylumCountryCode', 'SexCode', 'NationalityCode',
            'MarriageStatusCode', 'ReligionCode', 'EthnicityCode', 'EducationLevelCode'],
            array['RegistrationDate', 'DateofBirth', 'ArrivalDate'], array['DateofBirthEstimate']);
        guid := refuge.rrf_text(ind, 'IndividualGUID');
        rel := (select refuge.rrf_text(x, 'RelationshipToPrincipalRepresentative')
                  from unnest(n_ipg) x
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
                        from unnest(n_alias) a where refuge.rrf_text(a, 'IndividualGUID') = guid),
            'languages', (select jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                              'language', refuge.from_progres('language', refuge.rrf_text(l, 'LanguageCode'), 'CASE.dataLanguage.LanguageCode'),
                              'read', refuge.from_progres('language_level', refuge.rrf_text(l, 'LanguageReadCode'), 'CASE.dataLanguage.LanguageReadCode'),
                              'write', refuge.from_progres('language_level', refuge.rrf_text(l, 'LanguageWriteCode'), 'CASE.dataLanguage.LanguageWriteCode'),
                              'speak', refuge.from_progres('language_level', refuge.rrf_text(l, 'LanguageSpeakCode'), 'CASE.dataLanguage.LanguageSpeakCode'),
                              'understand', refuge.from_progres('language_level', refuge.rrf_text(l, 'LanguageUnderstandCode'), 'CASE.dataLanguage.LanguageUnderstandCode'))))
                            from unnest(n_language) l
                           where refuge.rrf_text(l, 'IndividualGUID') = guid
                             and refuge.from_progres('language', refuge.rrf_text(l, 'LanguageCode'), 'CASE.dataLanguage.LanguageCode') is not null),
            'education', (select jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                              'level', refuge.from_progres('education_level', refuge.rrf_text(e, 'EducationLevelCode'), 'CASE.dataEducation.EducationLevelCode'),
                              'degree', refuge.from_progres('education_degree', refuge.rrf_text(e, 'DegreeTypeCode'), 'CASE.dataEducation.DegreeTypeCode'))))
                            from unnest(n_education) e
                           where refuge.rrf_text(e, 'IndividualGUID') = guid
                             and refuge.from_progres('education_level', refuge.rrf_text(e, 'EducationLevelCode'), 'CASE.dataEducation.EducationLevelCode') is not null),
            'occupations', (select jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                              'kind', case refuge.rrf_text(w, 'EmploymentTypeCode') when 'E' then 'EMPLOYED' when 'NE' then 'NOT_EMPLOYED' else 'SKILL' end,
                              'occupation', refuge.from_progres('occupation', refuge.rrf_text(w, 'OccupationCode'), 'CASE.dataEmployment.OccupationCode'),
                              'title', refuge.rrf_text(w, 'OccupationText'))))
                              from unnest(n_employment) w where refuge.rrf_text(w, 'IndividualGUID') = guid),
            'addresses', (select jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                              'type', (select pc.code from refuge.progres_code pc where pc.domain = 'address_type'
                                        and lower(pc.progres_code) = lower(refuge.rrf_text(a, 'AddressType'))),
                              'country', refuge.from_progres('country', refuge.rrf_text(a, 'AddressCountry'), 'CASE.dataAddress.AddressCountry'),
                              'level1', refuge.rrf_text(a, 'LocationLevel1Description'), 'level2', refuge.rrf_text(a, 'LocationLevel2Description'),
                              'level3', refuge.rrf_text(a, 'LocationLevel3Description'), 'level4', refuge.rrf_text(a, 'LocationLevel4Description'),
                              'level5', refuge.rrf_text(a, 'LocationLevel5Description'), 'level6', refuge.rrf_text(a, 'LocationLevel6'))))
                            from unnest(n_address) a where refuge.rrf_text(a, 'IndividualGUID') = guid),
            'specific_needs', (select jsonb_agg(jsonb_build_object('category',
                              refuge.from_progres('vulnerability', refuge.rrf_text(v, 'VulnerabilityCode'), 'CASE.dataVulnerability.VulnerabilityCode')))
                                 from unnest(n_vulnerability) v
                                where refuge.rrf_text(v, 'IndividualGUID') = guid)))
            || jsonb_build_object('ref', guid);
        if m ->> 'relationship' = 'PA' then
            members := jsonb_build_array(m) || members;
        else
            members := members || m;
        end if;
        i := i + 1;
    end loop;
    -- relatives outside the case: each names a member, at most 100 per member, as the schema requires
    foreach rel_node in array n_relatives loop
        p := format('CASE.dataIndividualRelatives[%s]', coalesce(left(refuge.rrf_text(rel_node, 'IndividualRelativesGUID'), 40), '?'));
        perform refuge.rrf_check(rel_node, p, array['IndividualRelativesGUID', 'IndividualGUID', 'FamilyName',
            'RelationshipCode', 'BirthCountryCode', 'ResidenceCountryCode', 'SexCode', 'NationalityCode', 'Deceased',
            'MarriageStatusCode'], array['DateofBirth', 'DeceasedDate'], array['DateofBirthEstimateFlag', 'Deceased']);
        if not exists (select 1 from jsonb_array_elements(members) x where x ->> 'ref' = refuge.rrf_text(rel_node, 'IndividualGUID')) then
            perform refuge.raise_field('22023', p || '.IndividualGUID',
                format('"%s" names no member of the case', left(refuge.rrf_text(rel_node, 'IndividualGUID'), 40)));
        end if;
    end loop;
    if exists (select 1 from unnest(n_relatives) x group by refuge.rrf_text(x, 'IndividualGUID') having count(*) > 100) then
        perform refuge.raise_field('54000', 'CASE.dataIndividualRelatives', 'a member has more than 100 relatives');
    end if;
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
        -- basic: an eRRF carries no contacts or flight history, which comprehensive registration requires
        'operation', op.code, 'site', site_code, 'registration_level', 'BASIC', 'population_type', 'REF',
        'registration_date', left(refuge.rrf_text(n_individual[1], 'RegistrationDate'), 10),
        'members', (select jsonb_agg(x - 'ref') from jsonb_array_elements(members) x)));
    -- members in the order given: the result lists them in the same order
    principal := (reg -> 'members' -> 0 ->> 'individual_id')::uuid;
    -- relatives outside the case, each attached to the member it names
    for i in 0 .. jsonb_array_length(members) - 1 loop
        for rel_node in select x from unnest(n_relatives) x where refuge.rrf_text(x, 'IndividualGUID') = members -> i ->> 'ref' loop
            p := format('CASE.dataIndividualRelatives[%s]', refuge.rrf_text(rel_node, 'IndividualRelativesGUID'));
            r := refuge.relative_row((reg -> 'members' -> i ->> 'individual_id')::uuid, jsonb_strip_nulls(jsonb_build_object(
                'relationship', coalesce(refuge.from_progres('relationship', refuge.rrf_text(rel_node, 'RelationshipCode'), p || '.RelationshipCode'), 'U'),
                'family_name', refuge.rrf_text(rel_node, 'FamilyName'),
                'second_family_name', refuge.rrf_text(rel_node, 'SecondFamilyName'),
                'given_name', refuge.rrf_text(rel_node, 'GivenName'), 'middle_name', refuge.rrf_text(rel_node, 'MiddleName'),
                'maiden_name', refuge.rrf_text(rel_node, 'MaidenName'),
                'date_of_birth', left(refuge.rrf_text(rel_node, 'DateofBirth'), 10),
                'dob_estimated', refuge.rrf_text(rel_node, 'DateofBirthEstimateFlag') in ('1', 'true'),
                'birth_country', refuge.from_progres('country', refuge.rrf_text(rel_node, 'BirthCountryCode'), p || '.BirthCountryCode'),
                'place_of_birth', refuge.rrf_text(rel_node, 'BirthCityTownVillage'),
                'residence_country', refuge.from_progres('country', refuge.rrf_text(rel_node, 'ResidenceCountryCode'), p || '.ResidenceCountryCode'),
                'sex', refuge.from_progres('sex', refuge.rrf_text(rel_node, 'SexCode'), p || '.SexCode'),
                'nationality', refuge.from_progres('country', refuge.rrf_text(rel_node, 'NationalityCode'), p || '.NationalityCode'),
                'marital_status', refuge.from_progres('marital_status', refuge.rrf_text(rel_node, 'MarriageStatusCode'), p || '.MarriageStatusCode'),
                'deceased', refuge.rrf_text(rel_node, 'Deceased') in ('1', 'true'),
                'deceased_on', case when refuge.rrf_text(rel_node, 'Deceased') in ('1', 'true')
                                    then left(refuge.rrf_text(rel_node, 'DeceasedDate'), 10) end)), p);
            perform refuge.insert_relative(r);
        end loop;
    end loop;
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
comment on function refuge.import_rrf(xml) is
    'import an eRRF v4 resettlement case (family and case) into the caller''s operation; the caller needs both refuge_registration and refuge_resettlement; idempotent per file';
grant execute on function refuge.import_rrf(xml) to refuge_registration, refuge_resettlement;

-- The files users have: the bytes of a file (UTF-8, with or without the
-- byte-order mark that the xml type refuses) or its text.  Both end in the
-- function above.
create function refuge.import_rrf(document text) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    if document is null then
        perform refuge.raise_field('22004', 'document', 'is required');
    end if;
    if length(document) > 20 * 1024 * 1024 then
        perform refuge.raise_field('54000', 'document', format('%s characters is more than the 20 MB an eRRF file may have',
                                                               length(document)));
    end if;
    document := regexp_replace(document, '^\uFEFF', '');
    if strpos(document, '<!DOCTYPE') > 0 then
        perform refuge.raise_field('22023', 'document', 'has a DOCTYPE declaration, which an eRRF file does not');
    end if;
    if not xml_is_well_formed_document(document) then
        perform refuge.raise_field('22023', 'document', 'is not a well-formed XML document');
    end if;
    return refuge.import_rrf(document::xml);
end
$$;
comment on function refuge.import_rrf(text) is
    'import an eRRF v4 file given as text (a leading byte-order mark is ignored): as import_rrf(xml)';
grant execute on function refuge.import_rrf(text) to refuge_registration, refuge_resettlement;

create function refuge.import_rrf(document bytea) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    t text;
begin
    if document is null then
        perform refuge.raise_field('22004', 'document', 'is required');
    end if;
    if length(document) > 20 * 1024 * 1024 then
        perform refuge.raise_field('54000', 'document', format('%s bytes is more than the 20 MB an eRRF file may have',
                                                               length(document)));
    end if;
    if substr(document, 1, 3) = '\xefbbbf'::bytea then
        document := substr(document, 4);
    end if;
    begin
        t := convert_from(document, 'UTF8');
    exception when character_not_in_repertoire or untranslatable_character then
        perform refuge.raise_field('22021', 'document', 'is not UTF-8 text (eRRF files are UTF-8)');
    end;
    return refuge.import_rrf(t);
end
$$;
comment on function refuge.import_rrf(bytea) is
    'import an eRRF v4 file given as its bytes (UTF-8, with or without a byte-order mark): as import_rrf(xml)';
grant execute on function refuge.import_rrf(bytea) to refuge_registration, refuge_resettlement;
