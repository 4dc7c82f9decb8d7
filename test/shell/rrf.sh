#!/usr/bin/env bash
# The Resettlement Registration Form as eRRF v4 XML: an exported case
# validates against the real schema (xmllint, as ../shared/data/errf/README.md
# shows); the sample cases import into a family and a resettlement case, and
# exporting them again gives back their data; invalid files are refused with
# the element and the problem, and nothing is written; a caller without
# rights gets an error, not a document.  Needs ../shared (REFUGE_SHARED).
set -u
source "$(dirname "$0")/../lib/tap.sh"
SHARED=${REFUGE_SHARED:-$(cd "$(dirname "$0")/../../.." && pwd)/shared}
ERRF="$SHARED/data/errf"
DB=refuge_rrf
if [ ! -f "$ERRF/xsd/rrf-v4.xsd" ]; then
    echo "# $ERRF not found: the eRRF schema and sample cases are not available here, skipped"
    echo "ok 1 # skip no eRRF material"
    exit 0
fi
validate() { sed 's/ xmlns="[^"]*"//' "$1" | xmllint --noout --schema "$ERRF/xsd/rrf-v4.xsd" - 2>&1; }
setup() {
    fresh_db $DB
    q $DB "create extension refuge cascade" >/dev/null 2>&1
    psql -X -q -v ON_ERROR_STOP=1 -d $DB >/dev/null <<'SQL'
set client_min_messages = warning;
do $$ begin
  if not exists (select 1 from pg_roles where rolname = 'rrf_officer') then create role rrf_officer; end if;
  if not exists (select 1 from pg_roles where rolname = 'rrf_clerk') then create role rrf_clerk; end if;
end $$;
grant refuge_resettlement, refuge_registration to rrf_officer;
grant refuge_registration to rrf_clerk;
create table public.rrf_in (doc xml);
grant select on public.rrf_in to public;
select refuge.create_operation('KEN', 'KEN', 'Kenya');
select refuge.create_site('KEN', 'KAKUMA', 'Kakuma', 'CAMP');
select refuge.create_operation('TUR', 'TUR', 'Turkey');
select refuge.create_site('TUR', 'ANKARA', 'Ankara', 'URBAN');
select refuge.assign_staff(r, o) from unnest(array['rrf_officer', 'rrf_clerk']) r, unnest(array['KEN', 'TUR']) o;
-- exports go to a resettlement state under a sharing agreement (issue 18), with the members' consent
select refuge.define_agreement('{"code": "RST-CAN", "title": "Resettlement submissions to Canada", "party_kind": "RESETTLEMENT_STATE",
    "country": "CAN", "party_name": "IRCC", "purposes": ["RESETTLEMENT_SUBMISSION"], "fields": ["RRF"], "legal_basis": "CONSENT",
    "valid_from": "2026-01-01", "valid_until": "2030-12-31", "security_terms": "encrypted channel", "signed_by": "Representative",
    "signed_on": "2026-01-01"}');
-- before an export: an agreement with each case's resettlement state, and the members' consent
create function public.consent_all() returns bigint language sql as $f$
  select count(refuge.define_agreement(jsonb_build_object('code', 'RST-' || x.country, 'title', 'Resettlement to ' || x.country,
             'party_kind', 'RESETTLEMENT_STATE', 'country', x.country, 'party_name', 'IRCC', 'purposes', array['RESETTLEMENT_SUBMISSION'],
             'fields', array['RRF'], 'legal_basis', 'CONSENT', 'valid_from', '2026-01-01', 'valid_until', '2030-12-31',
             'security_terms', 'encrypted channel', 'signed_by', 'Representative', 'signed_on', '2026-01-01')))
    from (select distinct c.data ->> 'resettlement_country' as country from refuge.process_case c
           where c.data ->> 'resettlement_country' is not null) x
   where not exists (select 1 from refuge.sharing_agreement a where a.code = 'RST-' || x.country);
  select count(refuge.record_consent(cm.individual_id, 'RESETTLEMENT_SUBMISSION', 'WRITTEN'))
    from (select distinct individual_id from refuge.case_member) cm
   where not refuge.valid_consent(cm.individual_id, 'RESETTLEMENT_SUBMISSION') $f$;
-- the fields of an eRRF document that must survive an import and an export
-- (GUIDs and numbers are the receiving system's own)
create function public.rrf_fields(doc xml) returns text[] language sql as $f$
  select array_agg(x order by x) from (
    select 'individual ' || string_agg(coalesce(f.v, ''), '|' order by f.k) as x
      from unnest(xpath('//*[local-name()="dataIndividual"]', doc)) with ordinality i(n, o),
           lateral (select k, left(nullif(btrim((xpath('string(/*/*[local-name()="' || k || '"])', i.n))[1]::text), ''),
                                   case when k in ('DateofBirth', 'ArrivalDate') then 10 else 200 end) as v
                      from unnest(array['FamilyName', 'SecondFamilyName', 'GivenName', 'MiddleName', 'MaidenName',
                                        'DateofBirth', 'BirthCountryCode', 'BirthCityTownVillage', 'OriginCountryCode',
                                        'AsylumCountryCode', 'ArrivalDate', 'SexCode', 'NationalityCode',
                                        'MarriageStatusCode', 'ReligionCode', 'EthnicityCode', 'EducationLevelCode',
                                        'MotherName', 'FatherName']) k) f
     group by i.o
    union all
    select e || ' ' || string_agg(coalesce(nullif(btrim((xpath('string(/*/*[local-name()="' || k || '"])', n))[1]::text), ''), ''), '|' order by k)
      from (values ('dataIndividualProcessGroup', array['RelationshipToPrincipalRepresentative']),
                   ('dataResettlement', array['ResettlementCriteriaCode', 'ResettlementCriteria2Code', 'ResettlementPriorityCode']),
                   ('dataVulnerability', array['VulnerabilityCode']),
                   ('dataLanguage', array['LanguageCode', 'LanguageReadCode', 'LanguageWriteCode', 'LanguageSpeakCode', 'LanguageUnderstandCode']),
                   ('dataAlias', array['IndividualAliasLastName', 'IndividualAliasFirstName']),
                   ('dataEducation', array['EducationLevelCode', 'DegreeTypeCode']),
                   ('dataEmployment', array['EmploymentTypeCode', 'OccupationCode', 'OccupationText']),
                   -- (a residence country 'U', unknown, comes back as '-')
                   ('dataIndividualRelatives', array['FamilyName', 'GivenName', 'RelationshipCode', 'BirthCountryCode',
                                                     'BirthCityTownVillage', 'SexCode', 'NationalityCode', 'Deceased',
                                                     'MarriageStatusCode'])) s(e, ks),
           lateral unnest(xpath('//*[local-name()="' || e || '"]', doc)) with ordinality d(n, o),
           lateral unnest(ks) k
     group by e, d.o) t
$f$;
SQL
}
load() { echo "xmlparse(document ltrim(convert_from(pg_read_binary_file('$1'), 'UTF8'), E'\\uFEFF'))"; }
# stage FILE: the file as the one row of public.rrf_in (read by the superuser, imported by staff)
stage() { q $DB "truncate public.rrf_in; insert into public.rrf_in select $(load "$1")" >/dev/null; }

# 1. an export of a case registered here validates against the schema
setup
psql -X -q -v ON_ERROR_STOP=1 -d $DB >/dev/null <<'SQL'
set role rrf_officer;
select refuge.register_group('{"operation": "KEN", "site": "KAKUMA", "registration_level": "BASIC", "population_type": "REF",
  "origin_country": "SSD", "members": [
    {"relationship": "PA", "given_name": "Nyakim", "family_name": "Gatdet", "sex": "F", "date_of_birth": "1988-04-02",
     "marital_status": "WD", "religion": "CHR", "birth_country": "SSD", "place_of_birth": "Bor", "nationalities": ["SSD"],
     "names": [{"kind": "ALIAS", "given_name": "Nya", "family_name": "Gat"}],
     "languages": [{"language": "nus", "mother_tongue": true, "speak": "E"}, {"language": "eng", "read": "N"}],
     "education": [{"level": "6"}], "occupations": [{"kind": "SKILL", "title": "baker"}],
     "addresses": [{"type": "CoO", "country": "SSD", "level1": "Jonglei"}], "specific_needs": [{"category": "WR"}, {"category": "SM"}]},
    {"relationship": "SON", "given_name": "Deng", "family_name": "Gatdet", "sex": "M", "date_of_birth": "2012-07-01"}]}');
select refuge.add_relative(id, '{"relationship": "PRM", "given_name": "Chuol", "family_name": "Gatdet", "sex": "M",
    "date_of_birth": "1960-01-01", "dob_estimated": true, "birth_country": "SSD", "residence_country": "ETH",
    "nationality": "SSD", "marital_status": "MA"}') from refuge.individual where given_name = 'Nyakim';
select refuge.open_case('RESETTLEMENT', i.id, array(select individual_id from refuge.group_membership where group_id = gm.group_id))
  from refuge.individual i join refuge.group_membership gm on gm.individual_id = i.id where i.given_name = 'Nyakim';
select refuge.transition_case(id, 'ASSESS', '{"needs_assessment": "woman at risk"}') from refuge.process_case;
select refuge.transition_case(id, 'INTERVIEW', '{"interview_date": "2026-11-01"}') from refuge.process_case;
select refuge.transition_case(id, 'PREPARE_RRF', '{"submission_category": "AWR", "secondary_category": "MED", "priority": "UG",
    "justification": "woman at risk with a serious medical condition"}') from refuge.process_case;
SQL
q $DB "select public.consent_all()" >/dev/null
PGOPTIONS="-c role=rrf_officer" q $DB "select refuge.rrf_xml(id, 'RST-' || coalesce(data ->> 'resettlement_country', 'CAN')) from refuge.process_case" > /tmp/refuge_rrf_out.xml
out=$(validate /tmp/refuge_rrf_out.xml)
is "$out" "- validates" "an exported case validates against rrf-v4.xsd"
is "$(q $DB "select (xpath('count(//*[local-name()=''dataIndividual''])', refuge.rrf_xml(id, 'RST-' || coalesce(data ->> 'resettlement_country', 'CAN'))))[1]::text || ' ' ||
               (xpath('string(//*[local-name()=''ResettlementCriteriaCode''])', refuge.rrf_xml(id, 'RST-' || coalesce(data ->> 'resettlement_country', 'CAN'))))[1]::text || ' ' ||
               (xpath('string(//*[local-name()=''LanguageCode''])', refuge.rrf_xml(id, 'RST-' || coalesce(data ->> 'resettlement_country', 'CAN'))))[1]::text
          from refuge.process_case")" "2 AWR NUS" "members, the submission category and proGres language codes are in it"
is "$(q $DB "select (xpath('string(//*[local-name()=''dataIndividualRelatives'']/*[local-name()=''RelationshipCode''])', refuge.rrf_xml(id, 'RST-' || coalesce(data ->> 'resettlement_country', 'CAN'))))[1]::text
               || ' ' || (xpath('string(//*[local-name()=''dataIndividualRelatives'']/*[local-name()=''ResidenceCountryCode''])', refuge.rrf_xml(id, 'RST-' || coalesce(data ->> 'resettlement_country', 'CAN'))))[1]::text
          from refuge.process_case")" "PRM ETH" "a relative outside the case is exported as dataIndividualRelatives"
is "$(q $DB "select count(*) from refuge.sensitive_read where purpose like 'eRRF XML for IRCC under agreement RST-%'")" "6" "each production is logged, with the agreement"
case_id=$(q $DB "select id from refuge.process_case")
is "$(PGOPTIONS="-c role=rrf_clerk" q $DB "select refuge.rrf_xml('$case_id')" 2>&1 | grep -o 'permission denied for function rrf_xml')" \
   "permission denied for function rrf_xml" "registration staff get an error, not a document"

# 2. each sample case: import, export, validate, same data
for f in "$ERRF"/cases/V4-*.xml; do
    name=$(basename "$f" .xml)
    setup
    stage "$f"
    r=$(PGOPTIONS="-c role=rrf_officer" q $DB "select refuge.import_rrf(doc) ->> 'status' from public.rrf_in" 2>&1)
    is "$r" "imported" "$name imports"
    is "$(PGOPTIONS="-c role=rrf_officer" q $DB "select refuge.import_rrf(doc) ->> 'status' from public.rrf_in" 2>&1)" "exists" \
       "$name imported again returns the same case"
    q $DB "select public.consent_all()" >/dev/null
    PGOPTIONS="-c role=rrf_officer" q $DB "select refuge.rrf_xml(id, 'RST-' || coalesce(data ->> 'resettlement_country', 'CAN')) from refuge.process_case" > /tmp/refuge_rrf_rt.xml
    is "$(validate /tmp/refuge_rrf_rt.xml)" "- validates" "$name exported again validates"
    is "$(q $DB "select public.rrf_fields(xmlparse(document pg_read_file('/tmp/refuge_rrf_rt.xml'))) = public.rrf_fields(doc) from public.rrf_in")" "t" \
       "$name round-trips its data (names, dates, codes, relationships, needs, languages, aliases, education, employment, relatives, resettlement)"
done

# 3. invalid files are refused, naming the element, and nothing is written
setup
sample="$ERRF/cases/V4-TEST-Minimal.xml"
bad() {   # bad SED-EXPRESSION: import the minimal sample edited by it; print the error
    sed -e 's/^\xEF\xBB\xBF//' -e "$1" "$sample" > /tmp/refuge_rrf_bad.xml
    chmod 644 /tmp/refuge_rrf_bad.xml
    stage /tmp/refuge_rrf_bad.xml
    PGOPTIONS="-c role=rrf_officer" q $DB "select refuge.import_rrf(doc) from public.rrf_in" 2>&1 \
        | sed -n 's/^ERROR:  //p' | head -1
}
is "$(bad 's#<FamilyName>AAA</FamilyName>##')" "CASE.dataIndividual[0].FamilyName: is missing (required by the eRRF v4 schema)" \
   "a missing required element is named"
is "$(bad 's#<SexCode>F</SexCode>#<SexCode>Q</SexCode>#')" 'CASE.dataIndividual[0].SexCode: "Q" is not a proGres sex code' \
   "an unknown code is named"
is "$(bad 's#^<!--      <DateofBirth>1980-08-01T00:00:00+02:00</DateofBirth>-->#      <DateofBirth>01/08/1980</DateofBirth>#')" \
   'CASE.dataIndividual[0].DateofBirth: "01/08/1980" is not an xs:dateTime' "a malformed date is named"
is "$(bad 's#<ResettlementCriteriaCode>AWR</ResettlementCriteriaCode>#<ResettlementCriteriaCode>XYZ</ResettlementCriteriaCode>#')" \
   'CASE.dataResettlement.ResettlementCriteriaCode: "XYZ" is not a proGres resettlement criteria code' \
   "an unknown resettlement category is named"
is "$(bad '/<IndividualRelativesGUID>/{n;s#<IndividualGUID>[^<]*#<IndividualGUID>00000000-0000-0000-0000-000000000000#}')" \
   'CASE.dataIndividualRelatives[e25f9013-7db4-ea11-8122-00155d78e3a3].IndividualGUID: "00000000-0000-0000-0000-000000000000" names no member of the case' \
   "a relative naming no member of the case is refused"
is "$(bad '/<IndividualRelativesGUID>/,/<\/dataIndividualRelatives>/s#<RelationshipCode>[^<]*#<RelationshipCode>ZZZ#')" \
   'CASE.dataIndividualRelatives[e25f9013-7db4-ea11-8122-00155d78e3a3].RelationshipCode: "ZZZ" is not a proGres relationship code' \
   "a relative's unknown relationship code is named"
is "$(bad 's#<AsylumCountryCode>TUR</AsylumCountryCode>#<AsylumCountryCode>NOR</AsylumCountryCode>#')" \
   "CASE.dataIndividual.AsylumCountryCode: no operation in NOR that you are assigned to" "a country without an operation is refused"
is "$(bad 's#^<UNHCR_RRF #<!DOCTYPE UNHCR_RRF [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "\&a;\&a;\&a;\&a;">]><UNHCR_RRF #')" \
   "document: has a DOCTYPE declaration, which an eRRF file does not" "a DOCTYPE (entity declarations) is refused, as xml"
is "$(PGOPTIONS="-c role=rrf_officer" q $DB "select refuge.import_rrf(doc::text) from public.rrf_in" 2>&1 | sed -n 's/^ERROR:  //p')" \
   "document: has a DOCTYPE declaration, which an eRRF file does not" "and as text, before it is parsed"
stage "$sample"
is "$(PGOPTIONS="-c role=rrf_officer" q $DB "select refuge.import_rrf(regexp_replace(doc::text, '(<dataIndividual>.*?</dataIndividual>)',
                                                                     repeat('\\1', 101)))
                                            from public.rrf_in" 2>&1 | sed -n 's/^ERROR:  //p')" \
   "CASE.dataIndividual: 101 individuals; a case holds at most 100" "a case of more than 100 individuals is refused (the import is bounded)"
is "$(q $DB "select (select count(*) from refuge.individual) || ' ' || (select count(*) from refuge.process_case)")" "0 0" \
   "nothing was written by the refused files"
stage "$sample"
is "$(PGOPTIONS="-c role=rrf_clerk" q $DB "select refuge.import_rrf(doc) from public.rrf_in" 2>&1 | sed -n 's/^ERROR:  //p')" \
   "import_rrf: role rrf_clerk is not a member of refuge_resettlement" "registration staff alone may not import a case"

# 4. another operation's officer: the import's request id (derived from the
#    file) taken first does not block the import, and the "already imported"
#    lookup does not answer with another operation's case
is "$(PGOPTIONS="-c role=rrf_officer" q $DB "select refuge.import_rrf(doc) ->> 'status' from public.rrf_in")" "imported" \
   "the minimal case is imported in Turkey"
first=$(q $DB "select number from refuge.process_case")
psql -X -q -v ON_ERROR_STOP=1 -d $DB >/dev/null <<'SQL'
set client_min_messages = warning;
do $$ begin
  if not exists (select 1 from pg_roles where rolname = 'rrf_officer2') then create role rrf_officer2; end if;
  if not exists (select 1 from pg_roles where rolname = 'rrf_clerk2') then create role rrf_clerk2; end if;
end $$;
grant refuge_resettlement, refuge_registration to rrf_officer2;
grant refuge_registration to rrf_clerk2;
select refuge.create_operation('TU2', 'TUR', 'Turkey, south-east');
select refuge.create_site('TU2', 'GAZIANTEP', 'Gaziantep', 'URBAN');
select refuge.assign_staff(r, 'TU2') from unnest(array['rrf_officer2', 'rrf_clerk2']) r;
SQL
request=$(q $DB "select refuge.derived_uuid(lower((xpath('//*[local-name()=\"ProcessingGroupGUID\"]/text()', doc))[1]::text)::uuid,
                                            '00000000-0000-0000-0000-00000000e44f') from public.rrf_in")
is "$(PGOPTIONS="-c role=rrf_clerk2" q $DB "select refuge.register_group('{\"request_id\": \"$request\", \"operation\": \"TU2\",
      \"site\": \"GAZIANTEP\", \"registration_level\": \"BASIC\", \"population_type\": \"REF\",
      \"members\": [{\"relationship\": \"PA\", \"given_name\": \"Squatter\", \"sex\": \"M\"}]}') ->> 'replayed'" 2>&1)" "false" \
   "a clerk registering a family under the import's request id takes nothing from anyone"
r=$(PGOPTIONS="-c role=rrf_officer2" q $DB "select (x ->> 'status') || ' ' || (x ->> 'operation') || ' ' || (x ->> 'number')
                                          from public.rrf_in, refuge.import_rrf(doc) x" 2>&1)
is "${r% *}" "imported TU2" "the second operation's officer imports the file into their operation"
isnt_first=$([ "${r##* }" != "$first" ] && echo yes || echo "no: $r")
is "$isnt_first" "yes" "and is not told the other operation's case number"

# 5. the files users have: the bytes of a file (UTF-8 with its byte-order mark,
#    which the xml type refuses) and its text
setup
cp "$sample" /tmp/refuge_rrf_bom.xml; chmod 644 /tmp/refuge_rrf_bom.xml
is "$(head -c 3 /tmp/refuge_rrf_bom.xml | od -An -tx1 | tr -d ' ')" "efbbbf" "(the sample file starts with a UTF-8 byte-order mark)"
q $DB "create table public.rrf_bytes as select pg_read_binary_file('/tmp/refuge_rrf_bom.xml') as doc;
       grant select on public.rrf_bytes to public" >/dev/null
is "$(q $DB "select convert_from(doc, 'UTF8')::xml is not null from public.rrf_bytes" 2>&1 | grep -c 'invalid XML')" "1" \
   "the file's text does not cast to xml as it is"
is "$(PGOPTIONS="-c role=rrf_officer" q $DB "select refuge.import_rrf(doc) ->> 'status' from public.rrf_bytes" 2>&1)" "imported" \
   "import_rrf takes the file's bytes, byte-order mark and all"
is "$(PGOPTIONS="-c role=rrf_officer" q $DB "select refuge.import_rrf(convert_from(doc, 'UTF8')) ->> 'status' from public.rrf_bytes" 2>&1)" \
   "exists" "and its text (the same case: already imported)"
is "$(PGOPTIONS="-c role=rrf_officer" q $DB "select refuge.import_rrf('\\xff3c613e'::bytea)" 2>&1 | sed -n 's/^ERROR:  //p')" \
   "document: is not UTF-8 text (eRRF files are UTF-8)" "bytes that are not UTF-8 are refused, naming the field"
is "$(PGOPTIONS="-c role=rrf_officer" q $DB "select refuge.import_rrf('<a>'::text)" 2>&1 | sed -n 's/^ERROR:  //p')" \
   "document: is not a well-formed XML document" "text that is not XML is refused"

rm -f /tmp/refuge_rrf_out.xml /tmp/refuge_rrf_rt.xml /tmp/refuge_rrf_bad.xml /tmp/refuge_rrf_bom.xml
q postgres "drop database $DB" >/dev/null
exit 0
