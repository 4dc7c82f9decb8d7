#!/usr/bin/env bash
# The printable Resettlement Registration Form (refuge.rrf_pdf, libharu):
# it opens with pdfinfo and pdftotext, names the case and every member,
# carries a member's photo from the vault, shows the confidential section to
# a resettlement supervisor only, and refuses a caller without rights; the
# JSON form holds the same content.
set -u
source "$(dirname "$0")/../lib/tap.sh"
DB=refuge_rrf_pdf
KEY=$(mktemp /tmp/refuge-vault-key.XXXXXX)
test_vault_key "$KEY"
PDF=$(mktemp /tmp/refuge-rrf.XXXXXX)
fresh_db $DB
q $DB "create extension refuge cascade" >/dev/null 2>&1
PGOPTIONS="-c refuge.vault_key_file=$KEY" psql -X -q -v ON_ERROR_STOP=1 -d $DB >/dev/null <<'SQL'
set client_min_messages = warning;
do $$ declare r text; begin
  foreach r in array array['pdf_officer', 'pdf_supervisor', 'pdf_clerk'] loop
    if not exists (select 1 from pg_roles where rolname = r) then execute format('create role %I', r); end if;
  end loop;
end $$;
grant refuge_resettlement to pdf_officer, pdf_supervisor;
grant refuge_supervisor to pdf_supervisor;
grant refuge_registration to pdf_clerk;
select refuge.create_operation('KEN', 'KEN', 'Kenya');
select refuge.create_site('KEN', 'KAKUMA', 'Kakuma', 'CAMP');
select refuge.assign_staff(r, 'KEN') from unnest(array['pdf_officer', 'pdf_supervisor', 'pdf_clerk']) r;
-- exports go to a resettlement state under a sharing agreement, with the principal's consent (issue 18)
select refuge.define_agreement('{"code": "RST-CAN", "title": "Resettlement submissions to Canada", "party_kind": "RESETTLEMENT_STATE",
    "country": "CAN", "party_name": "IRCC", "purposes": ["RESETTLEMENT_SUBMISSION"], "fields": ["RRF"], "legal_basis": "CONSENT",
    "valid_from": "2026-01-01", "valid_until": "2030-12-31", "security_terms": "encrypted channel", "signed_by": "Representative",
    "signed_on": "2026-01-01"}');
select refuge.register_group('{"operation": "KEN", "site": "KAKUMA", "registration_level": "BASIC", "population_type": "REF",
  "origin_country": "SSD", "members": [
    {"relationship": "PA", "given_name": "Nyakim", "family_name": "Gatdet", "sex": "F", "date_of_birth": "1988-04-02",
     "nationalities": ["SSD"], "languages": [{"language": "nus", "mother_tongue": true}], "specific_needs": [{"category": "WR"}]},
    {"relationship": "SON", "given_name": "Deng", "family_name": "Gatdet", "sex": "M", "date_of_birth": "2012-07-01"},
    {"relationship": "DAU", "given_name": "Achol", "family_name": "Gatdet", "sex": "F", "date_of_birth": "2015-03-09"}]}');
-- the principal's face image, sealed in the vault at enrolment (a 1x1 PNG)
select refuge.enrol_biometrics(id, jsonb_set(refuge.synthetic_templates(5, 1), '{images}',
    '[{"part": "face", "media_type": "image/png", "data": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="}]'))
  from refuge.individual where given_name = 'Nyakim';
set role pdf_officer;
select refuge.open_case('RESETTLEMENT', i.id, array(select individual_id from refuge.group_membership where group_id = gm.group_id))
  from refuge.individual i join refuge.group_membership gm on gm.individual_id = i.id where i.given_name = 'Nyakim';
select refuge.transition_case(id, 'ASSESS', '{"needs_assessment": "Woman at risk, threatened by her late husband''s clan"}') from refuge.process_case;
select refuge.transition_case(id, 'INTERVIEW', '{"interview_date": "2026-11-01"}') from refuge.process_case;
select refuge.transition_case(id, 'PREPARE_RRF', '{"submission_category": "AWR", "priority": "UG",
    "justification": "No prospect of safety in Kakuma; the family cannot return to Jonglei"}') from refuge.process_case;
select refuge.add_case_note(id, 'Nyakim asked that the threats not be discussed in front of her children', true, 'INTERVIEW_TRANSCRIPT')
  from refuge.process_case;
select refuge.record_consent(id, 'RESETTLEMENT_SUBMISSION', 'WRITTEN') from refuge.individual where given_name = 'Nyakim';
-- what the full form carries beyond the biodata: a relative outside the case, a name in Arabic script,
-- a document, flight history
reset role;
select refuge.add_relative(id, '{"relationship": "PRF", "given_name": "Nyachuol", "family_name": "Kuol", "sex": "F",
    "residence_country": "ETH", "nationality": "SSD", "deceased": false}') from refuge.individual where given_name = 'Nyakim';
select refuge.update_individual(id, '{"names": [{"kind": "ORIGINAL_SCRIPT", "script": "Arab", "given_name": "نياكيم", "family_name": "قاتديت"}],
    "flight_legs": [{"place": "Bor", "country": "SSD", "departed_on": "2024-02-10"}, {"place": "Kakuma", "country": "KEN", "arrived_on": "2024-03-02"}]}')
  from refuge.individual where given_name = 'Nyakim';
select refuge.add_document(id, '{"type": "NATIONAL_ID", "number": "SS-61-204", "issuing_country": "SSD"}')
  from refuge.individual where given_name = 'Nyakim';
SQL
pdf() {   # pdf ROLE: the form as ROLE sees it, in $PDF
    PGOPTIONS="-c refuge.vault_key_file=$KEY -c role=$1" q $DB "select encode(refuge.rrf_pdf(id, 'RST-CAN'), 'base64') from refuge.process_case" \
        | base64 -d > "$PDF"
}
pdf pdf_officer
number=$(q $DB "select number from refuge.process_case")
pdfinfo "$PDF" > /tmp/refuge_rrf_info 2>&1
ok $? "the form opens with pdfinfo"
grep -q "^Title: *Resettlement Registration Form $number" /tmp/refuge_rrf_info
ok $? "its title names the case"
text=$(pdftotext -layout "$PDF" - 2>/dev/null)
echo "$text" | grep -q "$number"
ok $? "pdftotext finds the case number"
for who in "GATDET, Nyakim" "GATDET, Deng" "GATDET, Achol"; do
    echo "$text" | grep -q "$who"
    ok $? "pdftotext finds member $who"
done
echo "$text" | grep -q "AWR - Women-at-risk" && echo "$text" | grep -q "UG - Urgent"
ok $? "the submission category and priority are spelt out"
echo "$text" | grep -q "No prospect of safety in Kakuma"
ok $? "the resettlement justification is printed"
echo "$text" | grep -q "WR Woman at risk"
ok $? "specific needs are printed"
for s in "1. Resettlement case information" "2. Case members" "3. Relatives outside the case" \
         "4. Refugee claim and basis of recognition" "5. Addresses and flight history" "6. Documents" \
         "7. Specific needs, medical and best-interests summaries" "8. Resettlement needs and justification" \
         "9. Declarations and signatures" "10. Confidential information"; do
    echo "$text" | grep -qF "$s"
    ok $? "the form has section $s"
done
echo "$text" | grep -q "Nyachuol Kuol" && echo "$text" | grep -q "Mother of"
ok $? "a relative outside the case is listed with the relationship"
echo "$text" | grep -q "SS-61-204"
ok $? "documents are listed"
echo "$text" | grep -q "Bor, South Sudan"
ok $? "the flight history is printed"
echo "$text" | grep -q "Principal applicant" && echo "$text" | grep -q "Interpreter"
ok $? "declarations and signature blocks are printed"
python3 -c "import sys, unicodedata; t = unicodedata.normalize('NFKC', sys.stdin.read()); sys.exit(0 if ('نياكيم' in t or 'نياكيم'[::-1] in t) else 1)" <<<"$text"
ok $? "the name in Arabic script is printed (extracted text, NFKC)"
is "$(pdfimages -list "$PDF" 2>/dev/null | awk 'NR > 2 && $3 == "image"' | wc -l)" "1" "the principal's photo from the vault is in the form"
is "$(q $DB "select count(*) from refuge.vault_access where purpose = 'Resettlement Registration Form $number'")" "1" \
   "opening the photo for the form is logged"
echo "$text" | grep -q "Withheld: this section is shown only to resettlement supervisors"
ok $? "an officer's form withholds the confidential section"
echo "$text" | grep -q "not be discussed"
ok $(( ! $? )) "and does not contain the confidential note"
pdf pdf_supervisor
pdftotext -layout "$PDF" - 2>/dev/null | grep -q "not be discussed in front of her children"
ok $? "a resettlement supervisor's form contains the confidential note"
case_id=$(q $DB "select id from refuge.process_case")
is "$(PGOPTIONS="-c role=pdf_clerk" q $DB "select refuge.rrf_pdf('$case_id')" 2>&1 | sed -n 's/^ERROR:  //p')" \
   "permission denied for function rrf_pdf" "registration staff get an error, not a document"
is "$(PGOPTIONS="-c role=pdf_officer" q $DB "select j #>> '{case,number}' || ' ' || jsonb_array_length(j -> 'members') || ' ' ||
        (j #>> '{confidential,included}') || ' ' || (j #>> '{members,0,given_name}')
        from (select refuge.rrf_json(id, 'RST-CAN') j from refuge.process_case) x")" "$number 3 false Nyakim" \
   "rrf_json holds the same content"
is "$(q $DB "select count(*) from refuge.sensitive_read where purpose = 'Resettlement Registration Form for IRCC under agreement RST-CAN'")" "3" \
   "every production of the form is logged as a sensitive read, with the agreement"
# the eRRF XML carries the same photo (dataPhotograph), and still validates where the schema is at hand
PGOPTIONS="-c refuge.vault_key_file=$KEY -c role=pdf_officer" q $DB "select refuge.rrf_xml(id, 'RST-CAN') from refuge.process_case" > "$PDF.xml"
is "$(q $DB "select (xpath('count(//*[local-name()=''dataPhotograph''])', pg_read_file('$PDF.xml')::xml))[1]")" "1" \
   "the eRRF XML carries the principal's photo"
XSD="${REFUGE_SHARED:-$(cd "$(dirname "$0")/../../.." && pwd)/shared}/data/errf/xsd/rrf-v4.xsd"
if [ -f "$XSD" ]; then
    is "$(sed 's/ xmlns="[^"]*"//' "$PDF.xml" | xmllint --noout --schema "$XSD" - 2>&1)" "- validates" \
       "with the photo it validates against rrf-v4.xsd"
else
    N=$((N + 1)); echo "ok $N # skip rrf-v4.xsd not at hand"
fi
rm -f "$PDF" "$PDF.xml" "$KEY" /tmp/refuge_rrf_info
q postgres "drop database $DB" >/dev/null
exit 0
