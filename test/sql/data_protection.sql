-- Data protection (issue 18): purposes and their legal basis, consent gates
-- naming the purpose, withdrawal taking effect at once (referrals, exports,
-- openings), information notices, sharing agreements (party, purpose,
-- fields, validity; suspension, expiry and termination ending access),
-- who reads what.
\set VERBOSITY terse
set client_min_messages = warning;
set search_path = public, refuge;
create function pg_temp.err(q text) returns text language plpgsql as $$
begin
    execute q;
    return 'no error';
exception when others then
    return sqlstate || ' ' || regexp_replace(regexp_replace(sqlerrm,
        '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '<id>', 'g'), '([A-Z]{3})-\d\d-(\d{6})', '\1-YY-\2', 'g');
end $$;

select refuge.create_operation('KEN', 'KEN', 'Kenya') is not null as ken, refuge.create_operation('UGA', 'UGA', 'Uganda') is not null as uga;
select refuge.create_site('KEN', 'KAKUMA', 'Kakuma', 'CAMP', 34.85, 3.72) is not null as kakuma;
select refuge.create_partner('IRC', 'International Rescue Committee') is not null as irc, refuge.create_partner('MSF', 'MSF') is not null as msf;
drop role if exists dp_reg, dp_reg_uga, dp_prot, dp_rst, dp_admin, dp_irc, dp_msf, dp_sup, dp_sup_uga, dp_dba, dp_analyst, dp_bio, dp_cp;
create role dp_reg;     grant refuge_registration to dp_reg;
create role dp_reg_uga; grant refuge_registration to dp_reg_uga;
create role dp_prot;    grant refuge_protection to dp_prot;
create role dp_rst;     grant refuge_resettlement to dp_rst;
create role dp_admin;   grant refuge_admin to dp_admin;
create role dp_irc;     grant refuge_partner to dp_irc;
create role dp_msf;     grant refuge_partner to dp_msf;
create role dp_sup;     grant refuge_supervisor to dp_sup;
create role dp_sup_uga; grant refuge_supervisor to dp_sup_uga;
create role dp_dba;     grant refuge_dba to dp_dba;
create role dp_analyst; grant refuge_analyst to dp_analyst;
create role dp_bio;     grant refuge_biometrics to dp_bio;
create role dp_cp;      grant refuge_child_protection to dp_cp;
select count(*) as assigned from (select refuge.assign_staff('dp_reg', 'KEN'), refuge.assign_staff('dp_reg_uga', 'UGA'),
       refuge.assign_staff('dp_prot', 'KEN'), refuge.assign_staff('dp_rst', 'KEN'),
       refuge.assign_partner_staff('dp_irc', 'IRC'), refuge.assign_partner_staff('dp_msf', 'MSF'),
       refuge.assign_staff('dp_sup', 'KEN'), refuge.assign_staff('dp_sup_uga', 'UGA'), refuge.assign_staff('dp_bio', 'KEN'), refuge.assign_staff('dp_cp', 'KEN')) x;

create table fam (k text primary key, mother uuid, daughter uuid, son uuid);
grant select, insert on fam to public;
set role dp_reg;
insert into fam
select 'a', (r -> 'members' -> 0 ->> 'individual_id')::uuid, (r -> 'members' -> 1 ->> 'individual_id')::uuid,
       (r -> 'members' -> 2 ->> 'individual_id')::uuid
  from (select refuge.register_group('{"operation": "KEN", "site": "KAKUMA", "registration_level": "BASIC", "population_type": "REF",
          "origin_country": "SSD", "members": [
            {"relationship": "PA", "given_name": "Nyakim", "family_name": "Gatdet", "sex": "F", "date_of_birth": "1985-04-02"},
            {"relationship": "DAU", "given_name": "Nyaluak", "family_name": "Gatdet", "sex": "F", "date_of_birth": "2004-06-11"},
            {"relationship": "SON", "given_name": "Gatluak", "family_name": "Gatdet", "sex": "M", "date_of_birth": "2016-01-20"}]}') r) x;
reset role;

-- 1. purposes and their legal basis: data, shipped and the operation's own
select code, legal_basis, sharing from refuge.processing_purpose order by code;
set role dp_reg;
select pg_temp.err($$select refuge.define_purpose('CASH_PILOT', 'Cash pilot', 'CONSENT')$$) as clerk_defines;
reset role;
set role dp_admin;
select refuge.define_purpose('CASH_PILOT', 'Cash transfers pilot (mobile money)', 'CONSENT', false, 'a pilot with a mobile operator');
select pg_temp.err($$select refuge.define_purpose('SGBV', 'x', 'MANDATE')$$) as shipped_changed,
       pg_temp.err($$select refuge.define_purpose('cash', 'x', 'CONSENT')$$) as bad_code,
       pg_temp.err($$select refuge.define_purpose('CASH2', 'x', 'BECAUSE')$$) as bad_basis;
reset role;

-- 2. consent: recorded with who, how, after which notice; refused when wrong
set role dp_reg;
select pg_temp.err(format($q$select refuge.record_consent(%L, 'NOPE')$q$, mother)) as unknown_purpose,
       pg_temp.err(format($q$select refuge.record_consent(%L, 'REFERRAL', 'SMOKE')$q$, mother)) as bad_method,
       pg_temp.err(format($q$select refuge.record_consent(%L, 'REFERRAL', 'ORAL', 'PARENT')$q$, son)) as parent_unnamed,
       pg_temp.err(format($q$select refuge.record_consent(%L, 'REFERRAL', 'ORAL', 'SELF', %L)$q$, son, mother)) as self_with_guardian,
       pg_temp.err(format($q$select refuge.record_consent(%L, 'REFERRAL', valid_until => '2020-01-01')$q$, mother)) as past,
       pg_temp.err(format($q$select refuge.record_consent(%L, 'REFERRAL')$q$, gen_random_uuid())) as unknown_person
  from fam;
reset role;
-- who consents for another must be plausible: an adult is not consented
-- for by a parent; a guardian is 15 or older and older than the person; a
-- parent by 12 years at least; a closed record consents for no one
set role dp_reg;
select pg_temp.err(format($q$select refuge.record_consent(%L, 'REFERRAL', 'ORAL', 'PARENT', %L)$q$, daughter, mother)) as parent_of_adult,
       pg_temp.err(format($q$select refuge.record_consent(%L, 'REFERRAL', 'ORAL', 'GUARDIAN', %L)$q$, mother, son)) as child_guardian,
       pg_temp.err(format($q$select refuge.record_consent(%L, 'REFERRAL', 'ORAL', 'PARENT', %L)$q$, son, daughter)) as sister_as_parent,
       pg_temp.err(format($q$select refuge.record_consent(%L, 'REFERRAL', 'ORAL', 'GUARDIAN', %L)$q$, son, son)) as own_guardian
  from fam;
reset role;
begin;
update refuge.individual set status = 'DECEASED' where id = (select mother from fam);
set local role dp_reg;
select pg_temp.err(format($q$select refuge.record_consent(%L, 'REFERRAL', 'ORAL', 'PARENT', %L)$q$, son, mother)) as deceased_parent
  from fam;
rollback;
-- a clerk of another operation cannot record consents of people they do not serve
set role dp_reg_uga;
select pg_temp.err(format($q$select refuge.record_consent(%L, 'REFERRAL')$q$, mother)) as out_of_scope from fam;
select pg_temp.err(format($q$select * from refuge.consents(%L)$q$, mother)) as out_of_scope_list from fam;
reset role;

-- 3. a consent-based purpose is refused without consent, naming it; allowed with it
set role dp_prot;
select pg_temp.err(format($q$select refuge.open_case('SGBV', %L)$q$, mother)) as sgbv_without_consent from fam;
select refuge.record_consent(mother, 'SGBV', 'ORAL', notice_version => 'GBV-NOTICE-2026') is not null as consented from fam;
select refuge.open_case('SGBV', mother) ->> 'state' as sgbv_opened from fam;
-- a mandate-based module needs none
select refuge.open_case('VULNERABILITY', mother) ->> 'state' as vulnerability_opened from fam;
select purpose, legal_basis, status, given_by, method, notice_version from refuge.consents((select mother from fam));
reset role;
-- the notice is on record
select purpose, notice_version from refuge.information_notice order by purpose;
set role dp_reg;
select pg_temp.err(format($q$select refuge.record_notice(%L, 'REGISTRATION', 'REG-1', 'klingon!')$q$, mother)) as bad_language,
       refuge.record_notice(mother, 'REGISTRATION', 'REG-NOTICE-2026', 'nus') is not null as notice
  from fam;
reset role;

-- a consent to SGBV case management would tell who is a survivor: the
-- registration clerk neither reads it nor records or withdraws one
set role dp_reg;
select count(*) filter (where purpose = 'SGBV') as sgbv_rows_seen, count(*) as rows_seen
  from refuge.consent where individual_id = (select mother from fam);
select array(select purpose from refuge.consents((select mother from fam))) as purposes_listed;
select pg_temp.err(format($q$select refuge.record_consent(%L, 'SGBV')$q$, daughter)) as clerk_records_sgbv,
       pg_temp.err(format($q$select refuge.withdraw_consent(%L, 'SGBV', 'x')$q$, mother)) as clerk_withdraws_sgbv
  from fam;
reset role;

-- an operation bases a shipped purpose on consent: biometrics for a pilot
set role dp_admin;
select pg_temp.err($$select refuge.set_legal_basis('BIOMETRICS', 'CONSENT', '')$$) as no_reason;
select refuge.set_legal_basis('BIOMETRICS', 'CONSENT', 'pilot: biometrics only with consent in Kakuma') as basis;
reset role;
set role dp_bio;
select pg_temp.err(format($q$select refuge.enrol_biometrics(%L, refuge.synthetic_templates(11, 1))$q$, daughter)) as enrol_without_consent
  from fam;
reset role;
set role dp_admin;
select refuge.set_legal_basis('BIOMETRICS', null, 'pilot over') as restored;
-- what rests on consent as shipped stays so (withdrawn consents would count again)
select pg_temp.err($$select refuge.set_legal_basis('SGBV', 'MANDATE', 'simpler')$$) as sgbv_off_consent,
       pg_temp.err($$select refuge.set_legal_basis('REFERRAL', 'LEGITIMATE_INTEREST', 'simpler')$$) as referral_off_consent;
reset role;

-- 4. sharing agreements: only an administrator defines them, validated field by field
set role dp_reg;
select pg_temp.err($$select refuge.define_agreement('{}')$$) as clerk_defines_agreement;
reset role;
set role dp_admin;
select pg_temp.err($$select refuge.define_agreement('{"code": "X", "nonsense": 1}')$$) as unknown_key,
       pg_temp.err($$select refuge.define_agreement('{"code": "IRC-1", "title": "t", "party_kind": "PARTNER", "partner": "NOBODY",
           "party_name": "p", "purposes": ["REFERRAL"], "fields": ["CASE"], "legal_basis": "CONSENT", "valid_from": "2026-01-01",
           "valid_until": "2030-01-01", "security_terms": "s", "signed_by": "s", "signed_on": "2026-01-01"}')$$) as unknown_partner,
       pg_temp.err($$select refuge.define_agreement('{"code": "IRC-1", "title": "t", "party_kind": "PARTNER", "partner": "IRC",
           "party_name": "p", "purposes": ["SGBV"], "fields": ["CASE"], "legal_basis": "CONSENT", "valid_from": "2026-01-01",
           "valid_until": "2030-01-01", "security_terms": "s", "signed_by": "s", "signed_on": "2026-01-01"}')$$) as not_sharing_purpose,
       pg_temp.err($$select refuge.define_agreement('{"code": "IRC-1", "title": "t", "party_kind": "PARTNER", "partner": "IRC",
           "party_name": "p", "purposes": ["REFERRAL"], "fields": ["PASSWORDS"], "legal_basis": "CONSENT", "valid_from": "2026-01-01",
           "valid_until": "2030-01-01", "security_terms": "s", "signed_by": "s", "signed_on": "2026-01-01"}')$$) as unknown_field,
       pg_temp.err($$select refuge.define_agreement('{"code": "GOV-1", "title": "t", "party_kind": "GOVERNMENT",
           "party_name": "p", "purposes": ["GOVERNMENT_SHARING"], "fields": ["CASE"], "legal_basis": "LEGAL_OBLIGATION",
           "valid_from": "2026-01-01", "valid_until": "2030-01-01", "security_terms": "s", "signed_by": "s",
           "signed_on": "2026-01-01"}')$$) as government_without_country,
       pg_temp.err($$select refuge.define_agreement('{"code": "IRC-1", "title": "t", "party_kind": "PARTNER", "partner": "IRC",
           "party_name": "p", "purposes": ["REFERRAL"], "fields": ["CASE"], "legal_basis": "CONSENT", "valid_from": "2026-01-01",
           "valid_until": "2020-01-01", "security_terms": "s", "signed_by": "s", "signed_on": "2026-01-01"}')$$) as ends_before_start;
select refuge.define_agreement('{"code": "IRC-2026", "title": "IRC protection referrals", "party_kind": "PARTNER", "partner": "IRC",
    "party_name": "International Rescue Committee", "purposes": ["REFERRAL"], "fields": ["CASE", "MEMBERS"],
    "legal_basis": "CONSENT", "valid_from": "2026-01-01", "valid_until": "2030-12-31",
    "security_terms": "encrypted transfer; need-to-know; deletion at closure", "signed_by": "Representative, Kenya",
    "signed_on": "2026-01-05"}') is not null as irc_agreement;
select refuge.define_agreement('{"code": "MSF-2026", "title": "MSF medical referrals", "party_kind": "PARTNER", "partner": "MSF",
    "party_name": "Medecins Sans Frontieres", "purposes": ["REFERRAL"], "fields": ["CASE"], "legal_basis": "CONSENT",
    "valid_from": "2026-01-01", "valid_until": "2030-12-31", "security_terms": "s", "signed_by": "s",
    "signed_on": "2026-01-05"}') is not null as msf_agreement;
select refuge.define_agreement('{"code": "CAN-RST", "title": "Resettlement submissions to Canada", "party_kind": "RESETTLEMENT_STATE",
    "country": "CAN", "party_name": "IRCC", "purposes": ["RESETTLEMENT_SUBMISSION"], "fields": ["RRF"], "legal_basis": "CONSENT",
    "valid_from": "2026-01-01", "valid_until": "2030-12-31", "security_terms": "encrypted channel", "signed_by": "s",
    "signed_on": "2026-01-05"}') is not null as canada;
select pg_temp.err($$select refuge.define_agreement('{"code": "CAN-RST", "title": "t", "party_kind": "RESETTLEMENT_STATE", "country": "CAN",
    "party_name": "p", "purposes": ["RESETTLEMENT_SUBMISSION"], "fields": ["RRF"], "legal_basis": "CONSENT", "valid_from": "2026-01-01",
    "valid_until": "2030-01-01", "security_terms": "s", "signed_by": "s", "signed_on": "2026-01-01"}')$$) as duplicate_code;
reset role;
-- partners read their own organisation's agreements only; staff read all
set role dp_irc;
select code from refuge.sharing_agreement order by code;
reset role;
set role dp_prot;
select code, party_kind, in_force from refuge.agreements() order by code;
reset role;

-- 5. a referral names an agreement with that partner covering REFERRAL and
-- the fields, and needs the principal's consent to referral
set role dp_prot;
select (refuge.open_case('VULNERABILITY', daughter) ->> 'case_id') as vul from fam \gset
select id as vul_mother from refuge.process_case where module = 'VULNERABILITY' and principal_id = (select mother from fam) \gset
select pg_temp.err(format($q$select refuge.refer_case(%L, 'IRC', array['CASE'], 'shelter')$q$, :'vul_mother')) as no_agreement,
       pg_temp.err(format($q$select refuge.refer_case(%L, 'IRC', array['CASE'], 'shelter', agreement => 'NOPE')$q$, :'vul_mother')) as unknown,
       pg_temp.err(format($q$select refuge.refer_case(%L, 'IRC', array['CASE'], 'shelter', agreement => 'MSF-2026')$q$, :'vul_mother')) as other_partner,
       pg_temp.err(format($q$select refuge.refer_case(%L, 'IRC', array['CASE', 'NOTES'], 'shelter', agreement => 'IRC-2026')$q$, :'vul_mother')) as field_not_covered,
       pg_temp.err(format($q$select refuge.refer_case(%L, 'IRC', array['CASE'], 'shelter', agreement => 'CAN-RST')$q$, :'vul_mother')) as state_agreement,
       pg_temp.err(format($q$select refuge.refer_case(%L, 'IRC', array['CASE'], 'shelter', agreement => 'IRC-2026')$q$, :'vul_mother')) as no_consent;
select refuge.record_consent(mother, 'REFERRAL', 'THUMBPRINT', agreement => 'IRC-2026') is not null as consent_irc_only from fam;
-- a consent limited to IRC's agreement does not cover MSF
select pg_temp.err(format($q$select refuge.refer_case(%L, 'MSF', array['CASE'], 'clinic', agreement => 'MSF-2026')$q$, :'vul_mother')) as msf_not_consented,
       pg_temp.err(format($q$select refuge.refer_case(%L, 'IRC', array['CASE'], 'shelter', '2031-06-01', 'IRC-2026')$q$, :'vul_mother')) as beyond_agreement;
select refuge.refer_case(:'vul_mother', 'IRC', array['CASE', 'MEMBERS'], 'shelter', agreement => 'IRC-2026') as ref1 \gset
select valid_until, (select code from refuge.sharing_agreement a where a.id = agreement_id) as agreement
  from refuge.case_referral where id = :'ref1';
reset role;
set role dp_irc;
select count(*) as irc_sees from refuge.referred_cases();
select refuge.referred_case(:'ref1', 'shelter intake') ->> 'module' as irc_reads;
reset role;

-- 6. withdrawal takes effect at once: the referral is revoked, the partner
-- reads nothing more, a new referral is refused
set role dp_prot;
select pg_temp.err(format($q$select refuge.withdraw_consent(%L, 'REFERRAL', '')$q$, mother)) as no_reason from fam;
select refuge.withdraw_consent(mother, 'REFERRAL', 'she asked us to stop sharing') - 'individual_id' as withdrawn from fam;
select status, end_reason from refuge.case_referral where id = :'ref1';
select pg_temp.err(format($q$select refuge.refer_case(%L, 'IRC', array['CASE'], 'shelter', agreement => 'IRC-2026')$q$, :'vul_mother')) as refer_again;
select pg_temp.err(format($q$select refuge.withdraw_consent(%L, 'REFERRAL', 'again')$q$, mother)) as nothing_left from fam;
select purpose, status from refuge.consents((select mother from fam)) order by purpose, status;
reset role;
set role dp_irc;
select count(*) as irc_sees_after from refuge.referred_cases();
select pg_temp.err(format($q$select refuge.referred_case(%L)$q$, :'ref1')) as irc_reads_after;
reset role;

-- 7. agreements end access: suspended (reads refused, resumed later),
-- expired (by date), terminated (referrals revoked)
set role dp_prot;
select refuge.record_consent(mother, 'REFERRAL', 'WRITTEN') is not null as consent_again from fam;
select refuge.refer_case(:'vul_mother', 'IRC', array['CASE'], 'shelter', agreement => 'IRC-2026') as ref2 \gset
reset role;
set role dp_admin;
select refuge.set_agreement_status('IRC-2026', 'SUSPENDED', 'audit of the partner''s storage') - 'agreement' as suspended;
reset role;
set role dp_irc;
select count(*) as while_suspended from refuge.referred_cases();
select pg_temp.err(format($q$select refuge.referred_case(%L)$q$, :'ref2')) as read_while_suspended;
reset role;
set role dp_prot;
select pg_temp.err(format($q$select refuge.refer_case(%L, 'IRC', array['CASE'], 'x', agreement => 'IRC-2026')$q$, :'vul_mother')) as refer_while_suspended;
reset role;
set role dp_admin;
select refuge.set_agreement_status('IRC-2026', 'ACTIVE', 'audit passed') - 'agreement' as resumed;
reset role;
set role dp_irc;
select count(*) as after_resume from refuge.referred_cases();
reset role;
-- the agreement's end date passes (simulated by the superuser moving it)
begin;
alter table refuge.sharing_agreement disable trigger audit;
update refuge.sharing_agreement set valid_from = '2020-01-01', valid_until = '2021-01-01' where code = 'IRC-2026';
set local role dp_irc;
select count(*) as after_expiry from refuge.referred_cases();
select pg_temp.err(format($q$select refuge.referred_case(%L)$q$, :'ref2')) as read_after_expiry;
rollback;
set role dp_admin;
select refuge.set_agreement_status('IRC-2026', 'TERMINATED', 'partner left the country') - 'agreement' as terminated;
select pg_temp.err($$select refuge.set_agreement_status('IRC-2026', 'ACTIVE', 'x')$$) as resume_terminated;
reset role;
select status, end_reason from refuge.case_referral where id = :'ref2';

-- 8. eRRF exports: an agreement with a resettlement state, and the consent
-- of the principal and every adult member
set role dp_rst;
select (refuge.open_case('RESETTLEMENT', mother, array[daughter, son]) ->> 'case_id') as rst from fam \gset
select pg_temp.err(format($q$select refuge.rrf_json(%L)$q$, :'rst')) as no_agreement,
       pg_temp.err(format($q$select refuge.rrf_json(%L, 'MSF-2026')$q$, :'rst')) as partner_agreement,
       pg_temp.err(format($q$select refuge.rrf_xml(%L, 'CAN-RST')$q$, :'rst')) as no_consent;
select refuge.record_consent(mother, 'RESETTLEMENT_SUBMISSION', 'WRITTEN') is not null as mother_consents from fam;
-- the daughter is an adult: her own consent is needed
select pg_temp.err(format($q$select refuge.rrf_xml(%L, 'CAN-RST')$q$, :'rst')) as adult_daughter;
select refuge.record_consent(daughter, 'RESETTLEMENT_SUBMISSION', 'WRITTEN') is not null as daughter_consents from fam;
select refuge.rrf_json(:'rst', 'CAN-RST') -> 'case' ->> 'state' as exported;
-- withdrawal stops the next export at once
select refuge.withdraw_consent(daughter, 'RESETTLEMENT_SUBMISSION', 'changed her mind') ->> 'consents_withdrawn' as withdrawn from fam;
select pg_temp.err(format($q$select refuge.rrf_pdf(%L, 'CAN-RST')$q$, :'rst')) as after_withdrawal;
reset role;
-- a referral sharing members' details needs every adult member's consent;
-- an adult member withdrawing ends it
reset role;
set role dp_admin;
select refuge.define_agreement('{"code": "IRC-2027", "title": "IRC referrals", "party_kind": "PARTNER", "partner": "IRC",
    "party_name": "International Rescue Committee", "purposes": ["REFERRAL"], "fields": ["CASE", "MEMBERS"], "legal_basis": "CONSENT",
    "valid_from": "2026-01-01", "valid_until": "2030-12-31", "security_terms": "s", "signed_by": "s", "signed_on": "2026-01-05"}') is not null as irc_2027;
reset role;
set role dp_rst;
select pg_temp.err(format($q$select refuge.refer_case(%L, 'IRC', array['CASE', 'MEMBERS'], 'legal aid', agreement => 'IRC-2027')$q$, :'rst')) as daughter_not_consented;
select refuge.record_consent(daughter, 'REFERRAL', 'WRITTEN') is not null as daughter_consents_referral from fam;
select refuge.refer_case(:'rst', 'IRC', array['CASE', 'MEMBERS'], 'legal aid', agreement => 'IRC-2027') as ref3 \gset
select refuge.withdraw_consent(daughter, 'REFERRAL', 'private reasons') ->> 'referrals_revoked' as revoked_by_member from fam;
-- the partner learns that consent was withdrawn, not why
select status, end_reason from refuge.case_referral where id = :'ref3';
reset role;
-- the export's logged read names the agreement and the state
select kind, purpose from refuge.sensitive_read where case_id = :'rst' order by at;

-- 9. consents and agreements are audited like everything else
select table_name, action, count(*) from refuge.audit_log
 where table_name in ('consent', 'sharing_agreement', 'processing_purpose', 'information_notice')
 group by 1, 2 order by 1, 2;

-- 10. subject access: everything held on a person, in a documented
-- structure; the cases of others' sensitive modules left out; the request
-- logged even when rolled back; a PDF to hand over
set role dp_cp;
select (refuge.open_case('BID', son, array[mother], '{"child_status": "AT_RISK"}') ->> 'case_id') is not null as bid_of_the_son from fam;
reset role;
set role dp_sup_uga;
select pg_temp.err(format($q$select refuge.subject_access(%L)$q$, mother)) as out_of_scope from fam;
reset role;
set role dp_reg;
select pg_temp.err(format($q$select refuge.subject_access(%L)$q$, mother)) as clerk from fam;
reset role;
begin;
set local role dp_sup;
select array(select jsonb_object_keys(refuge.subject_access(mother))) as sections from fam;
select j -> 'person' ->> 'given_name' as given_name, j -> 'request' ->> 'number' ~ '^KEN-' as numbered,
       jsonb_array_length(j -> 'household' -> 'members') as household_members,
       (select array_agg(c ->> 'module' order by c ->> 'module') from jsonb_array_elements(j -> 'cases') c) as cases,
       (select array_agg(distinct c ->> 'purpose') from jsonb_array_elements(j -> 'consents') c) as consents,
       jsonb_array_length(j -> 'referrals') as referrals,
       j -> 'biometrics' ->> 'enrolled' as enrolled,
       jsonb_array_length(j -> 'reads_of_sensitive_records') > 0 as reads_listed,
       j::text !~ 'sealed|template' as no_secrets
  from (select refuge.subject_access(mother) as j from fam) x;
-- the son's own access shows his BID case; his mother's does not (she is a member, not its subject)
select (select array_agg(c ->> 'module') from jsonb_array_elements(refuge.subject_access(son) -> 'cases') c) as son_cases from fam;
select substr(encode(refuge.subject_access_pdf(daughter), 'escape'), 1, 5) as pdf from fam;
-- a long history still prints (20,000 reads of her record: the most recent,
-- the counts by kind; all of them in the electronic copy)
reset role;
insert into refuge.sensitive_read (actor, kind, object_id, individual_id, operation_id, purpose)
select 'dp_sup', case when g % 4 = 0 then 'case_detail' else 'possible_duplicates' end, f.daughter, f.daughter, i.operation_id, 'search'
  from fam f join refuge.individual i on i.id = f.daughter, generate_series(1, 20000) g;
set local role dp_sup;
select jsonb_array_length(refuge.subject_access(daughter) -> 'reads_of_sensitive_records') >= 20000 as all_in_json,
       substr(encode(refuge.subject_access_pdf(daughter), 'escape'), 1, 5) as long_pdf from fam;
rollback;
select kind, count(*) as logged_after_rollback from refuge.sensitive_read where kind = 'subject_access' group by kind;

-- 11. microdata for researchers: k-anonymous and l-diverse, checked here
-- independently of the code that made it
set role dp_reg;
select count(refuge.register_group(jsonb_build_object('operation', 'KEN', 'site', 'KAKUMA', 'registration_level', 'BASIC',
           'population_type', case when g % 7 = 0 then 'ASY' else 'REF' end,
           'origin_country', (array['SSD', 'SOM', 'COD', 'ETH', 'BDI'])[1 + g % 5], 'members', jsonb_build_array(
           jsonb_build_object('relationship', 'PA', 'given_name', 'P' || g, 'family_name', 'F' || g, 'sex', (array['F', 'M'])[1 + g % 2],
                              'date_of_birth', to_char(date '1960-01-01' + (g * 211) % 15000, 'YYYY-MM-DD'),
                              'arrival_date', to_char(date '1998-01-01' + (g * 97) % 9000, 'YYYY-MM-DD'),
                              'specific_needs', case when g % 3 = 0 then '[{"category": "SM"}]'::jsonb when g % 5 = 0 then '[{"category": "DS"}]'::jsonb else '[]'::jsonb end),
           jsonb_build_object('relationship', 'SON', 'given_name', 'S' || g, 'family_name', 'F' || g, 'sex', 'M',
                              'date_of_birth', to_char(date '2010-01-01' + (g * 37) % 5000, 'YYYY-MM-DD'))))))
  from generate_series(1, 120) g;
reset role;
set role dp_dba;
select refuge.snapshot(now(), 'for research') ->> 'snapshot_id' as snap \gset
select pg_temp.err(format('select refuge.microdata_extract(%s, null)', :snap)) as no_agreement,
       pg_temp.err(format('select refuge.microdata_extract(%s, ''MSF-2026'')', :snap)) as partner_agreement,
       pg_temp.err(format('select refuge.microdata_extract(%s, ''X'', 1)', :snap)) as k_too_small,
       pg_temp.err('select refuge.microdata_extract(99999, ''X'')') as no_snapshot;
reset role;
set role dp_admin;
select refuge.define_agreement('{"code": "UNI-RESEARCH", "title": "Livelihoods study", "party_kind": "RESEARCHER",
    "party_name": "A university", "purposes": ["RESEARCH"], "fields": ["MICRODATA"], "legal_basis": "PUBLIC_INTEREST",
    "valid_from": "2026-01-01", "valid_until": "2027-12-31", "security_terms": "no linkage, no re-identification attempts",
    "signed_by": "Head of statistics", "signed_on": "2026-02-01"}') is not null as research_agreement;
reset role;
set role dp_dba;
select refuge.microdata_extract(:snap, 'UNI-RESEARCH', 3, 2) as report \gset
select (:'report'::jsonb ->> 'records_in')::int > 200 as records_in,
       (:'report'::jsonb ->> 'smallest_class')::int >= 3 as reported_k,
       :'report'::jsonb - array['extract_id', 'agreement', 'quasi_identifiers', 'recoding', 'sensitive', 'records_in',
                                'mean_individual_risk', 'max_individual_risk'] as report;
-- without suppression this population is not 3-anonymous: the check below is not vacuous
select (:'report'::jsonb -> 'values_suppressed' ->> 'arrival_year')::int > 0 as something_was_suppressed;
reset role;
set role dp_dba;
-- k-anonymity: every combination of the quasi-identifiers (a suppressed value as a value) at least k times
select min(n) >= 3 as k_anonymous, count(*) as classes
  from (select count(*) as n from refuge_warehouse.microdata_record
         where extract_id = (:'report'::jsonb ->> 'extract_id')::int
         group by operation, sex, age_band, origin_country, family_size, arrival_year, population_type) c;
-- l-diversity: in every class at least l distinct specific-need values, or none released
select bool_and(d >= 2 or all_suppressed) as l_diverse
  from (select count(distinct specific_needs) as d, bool_and(specific_needs is null) as all_suppressed
          from refuge_warehouse.microdata_record where extract_id = (:'report'::jsonb ->> 'extract_id')::int
         group by operation, sex, age_band, origin_country, family_size, arrival_year, population_type) c;
-- the report tells what was released; nothing identifies anyone
select (select count(*) from refuge_warehouse.microdata_record where extract_id = (:'report'::jsonb ->> 'extract_id')::int)
       = (:'report'::jsonb ->> 'records_released')::int as report_counts,
       (select count(*) from refuge_warehouse.microdata_record where extract_id = (:'report'::jsonb ->> 'extract_id')::int
           and (age_band !~ '^([0-9]+-[0-9]+|60\+)$' or arrival_year !~ '^([0-9]{4}|2000 or before)$')) as unrecoded;
reset role;
set role dp_reg;
select pg_temp.err('select count(*) from refuge_warehouse.microdata_record') as clerk_reads_microdata;
reset role;
set role dp_analyst;
select pg_temp.err('select count(*) from refuge_warehouse.microdata_record') as analyst_reads_microdata;
reset role;
select kind, purpose ~ 'UNI-RESEARCH' as names_agreement from refuge.sensitive_read where kind = 'microdata_extract';

-- 12. retention: periods set by the data protection officer, a dry run
-- that lists and a run that erases, both recorded; the audit chain still
-- verifies
select current_setting('data_directory') || '/refuge_dp.key' as keypath \gset
do $$
begin
    execute format('copy (select encode(%L::bytea, %L)) to %L',
                   decode('505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f', 'hex'), 'hex',
                   current_setting('data_directory') || '/refuge_dp.key');
end $$;
\setenv REFUGE_TEST_KEY :keypath
\! chmod 600 "$REFUGE_TEST_KEY"
select set_config('refuge.vault_key_file', :'keypath', false) is not null as key_file_set;
set role dp_prot;
select refuge.record_gbv_incident(id, '{"violence_type": "PHYSICAL_ASSAULT", "consent_services": false, "consent_sharing": false,
    "narrative": "NARRATIVE-RETENTION-4411"}') from refuge.process_case where module = 'SGBV';
select refuge.transition_case(id, 'DECLINE_SERVICES') ->> 'state' as closed
  from refuge.process_case where module = 'SGBV';
reset role;
set role dp_bio;
select refuge.enrol_biometrics(daughter, refuge.synthetic_templates(13, 1) || jsonb_build_object('images', jsonb_build_array(
    jsonb_build_object('part', 'face', 'media_type', 'image/png', 'data', 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=='),
    jsonb_build_object('part', 'finger_1', 'media_type', 'image/png', 'data', 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==')))) ->> 'decision' as enrolled
  from fam;
reset role;
set role dp_reg;
select pg_temp.err($$select refuge.set_retention('SGBV_NARRATIVES', '1 day', true)$$) as clerk_sets_retention;
reset role;
set role dp_admin;
select pg_temp.err($$select refuge.set_retention('EVERYTHING', '1 day', true)$$) as unknown_category,
       pg_temp.err($$select refuge.set_retention('SGBV_NARRATIVES', '1 hour', true)$$) as too_short;
select refuge.set_retention('SGBV_NARRATIVES', '1 day', true), refuge.set_retention('BIOMETRIC_SOURCE_IMAGES', '1 day', true);
reset role;
set role dp_dba;
select category, affected from refuge.apply_retention() order by 1;
reset role;
-- two days pass (the superuser moves the clock of the case and the images back)
begin;
alter table refuge.process_case disable trigger stamp;
alter table refuge.biometric_vault disable trigger stamp;
update refuge.process_case set updated_at = now() - interval '2 days' where module = 'SGBV';
update refuge.biometric_vault set created_at = now() - interval '2 days';
alter table refuge.process_case enable trigger stamp;
alter table refuge.biometric_vault enable trigger stamp;
commit;
set role dp_dba;
select category, affected, reason from refuge.apply_retention(true) order by 1;
select category, affected from refuge.apply_retention(false) order by 1;
select category, affected from refuge.apply_retention(false) order by 1;
select dry_run, category, affected from refuge.retention_run order by id;
select pg_temp.err('delete from refuge.retention_run') as run_log_kept;
reset role;
-- the face stays (she is active), the finger image is gone; the narrative is no more, its classification stays
select part from refuge.biometric_vault order by part;
set role dp_prot;
select refuge.read_gbv_incident(id, 'retention check') ? 'narrative' as narrative_left,
       refuge.read_gbv_incident(id, 'retention check') ->> 'violence_type' as classification
  from refuge.process_case where module = 'SGBV';
reset role;
select refuge.seal_audit() is not null as sealed, refuge.verify_audit() ->> 'intact' as audit_intact;
reset refuge.vault_key_file;

-- leave the database as found for the next suite
drop table fam;
\i test/lib/reinstall.sql
drop role dp_reg, dp_reg_uga, dp_prot, dp_rst, dp_admin, dp_irc, dp_msf, dp_sup, dp_sup_uga, dp_dba, dp_analyst, dp_bio, dp_cp;
