-- Every logged read leaves a record that survives the reader's rollback:
-- each read below runs in a transaction that is rolled back, and its log
-- row (sensitive_read, vault_access, biometric_identification) is there
-- afterwards, committed by the logging worker before the data was handed
-- out.  A read whose record cannot be written returns nothing.
\set VERBOSITY terse
set client_min_messages = warning;
set search_path = public, refuge;
create function pg_temp.err(q text) returns text language plpgsql as $$
begin
    execute q;
    return 'no error';
exception when others then
    return sqlstate || ' ' || regexp_replace(sqlerrm, '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '<id>', 'g');
end $$;
-- log rows by kind (all log tables)
create function pg_temp.logged() returns table (log text, n bigint) language sql as $$
    select 'sensitive_read ' || kind, count(*) from refuge.sensitive_read group by kind
    union all select 'vault_access', count(*) from refuge.vault_access
    union all select 'biometric_identification', count(*) from refuge.biometric_identification
    union all select 'biometric_verification', count(*) from refuge.biometric_verification
$$;
create table pg_temp.before as select * from pg_temp.logged();
create function pg_temp.new_logs() returns text language sql as $$
    select coalesce(string_agg(l.log || ' +' || (l.n - coalesce(b.n, 0)), ', ' order by l.log), 'none')
      from pg_temp.logged() l left join pg_temp.before b using (log) where l.n > coalesce(b.n, 0)
$$;
create function pg_temp.mark() returns void language sql as $$
    delete from pg_temp.before; insert into pg_temp.before select * from pg_temp.logged();
$$;

select refuge.create_operation('KEN', 'KEN', 'Kenya') is not null as ken;
select refuge.create_site('KEN', 'KAKUMA', 'Kakuma', 'CAMP') is not null as kakuma;
drop role if exists lr_rsd, lr_prot, lr_rst, lr_bio, lr_bioadm, lr_partner, lr_reg, lr_assist, lr_reg_uga;
create role lr_rsd;     grant refuge_rsd to lr_rsd;
create role lr_prot;    grant refuge_protection to lr_prot;
create role lr_rst;     grant refuge_resettlement, refuge_supervisor to lr_rst;
create role lr_bio;     grant refuge_biometrics to lr_bio;
create role lr_bioadm;  grant refuge_biometrics_admin to lr_bioadm;
create role lr_partner; grant refuge_partner to lr_partner;
create role lr_reg;     grant refuge_registration to lr_reg;
create role lr_assist;  grant refuge_assistance to lr_assist;
select count(*) as assigned from (select refuge.assign_staff(r, 'KEN')
    from unnest(array['lr_rsd', 'lr_prot', 'lr_rst', 'lr_bio', 'lr_reg', 'lr_assist']) r) x;
select refuge.create_partner('IRC', 'International Rescue Committee') is not null as partner;
select refuge.assign_partner_staff('lr_partner', 'IRC');
-- the sharing agreements referrals and resettlement submissions name (issue 18)
select refuge.define_agreement(jsonb_build_object('code', 'IRC-REF', 'title', 'IRC referrals', 'party_kind', 'PARTNER',
           'partner', 'IRC', 'party_name', 'International Rescue Committee', 'purposes', array['REFERRAL'],
           'fields', array['CASE', 'INCIDENT'], 'legal_basis', 'CONSENT', 'valid_from', '2026-01-01', 'valid_until', '2030-12-31',
           'security_terms', 'need-to-know access', 'signed_by', 'Representative', 'signed_on', '2026-01-01')) is not null as irc,
       refuge.define_agreement(jsonb_build_object('code', 'CAN-RST', 'title', 'Resettlement to Canada', 'party_kind', 'RESETTLEMENT_STATE',
           'country', 'CAN', 'party_name', 'Immigration, Refugees and Citizenship Canada', 'purposes', array['RESETTLEMENT_SUBMISSION'],
           'fields', array['RRF'], 'legal_basis', 'CONSENT', 'valid_from', '2026-01-01', 'valid_until', '2030-12-31',
           'security_terms', 'encrypted channel', 'signed_by', 'Representative', 'signed_on', '2026-01-01')) is not null as canada;

-- the vault key, readable by the server only
select current_setting('data_directory') || '/refuge_logged_reads.key' as keypath \gset
do $$
begin
    execute format('copy (select encode(%L::bytea, %L)) to %L',
                   decode('202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f', 'hex'), 'hex',
                   current_setting('data_directory') || '/refuge_logged_reads.key');
end $$;
\setenv REFUGE_TEST_KEY :keypath
\! chmod 600 "$REFUGE_TEST_KEY"
select set_config('refuge.vault_key_file', :'keypath', false) is not null as key_file_set;

-- a family, its mother enrolled with a face photo
create table fam as
select (r -> 'members' -> 0 ->> 'individual_id')::uuid as mother, (r -> 'members' -> 1 ->> 'individual_id')::uuid as son
  from refuge.register_group('{"operation": "KEN", "site": "KAKUMA", "registration_level": "BASIC",
        "population_type": "REF", "origin_country": "SSD", "members": [
        {"relationship": "PA", "given_name": "Nyakim", "family_name": "Gatdet", "sex": "F", "date_of_birth": "1988-04-02",
         "specific_needs": [{"category": "WR"}]},
        {"relationship": "SON", "given_name": "Deng", "family_name": "Gatdet", "sex": "M", "date_of_birth": "2012-07-01"}]}') r;
grant select on fam to public;
set role lr_bio;
select refuge.enrol_biometrics(mother, refuge.synthetic_templates(11, 1) || jsonb_build_object('images', jsonb_build_array(
    jsonb_build_object('part', 'face', 'media_type', 'image/png',
    'data', 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==')))) ->> 'decision'
  from fam;
reset role;
-- cases: RSD with a confidential note and document, SGBV referred with consent, tracing, resettlement, vulnerability
set role lr_rsd;
select (refuge.open_case('RSD', mother) ->> 'case_id') as rsd from fam \gset
select refuge.add_case_note(:'rsd', 'Detained twice at the border.', true, 'INTERVIEW_TRANSCRIPT') as note \gset
select refuge.add_case_document(:'rsd', 'Medical report', 'application/pdf', '\x255044462d', true) as doc \gset
reset role;
set role lr_prot;
select refuge.record_consent(mother, 'SGBV') is not null as sgbv_consent, refuge.record_consent(mother, 'REFERRAL') is not null as referral_consent from fam;
select (refuge.open_case('SGBV', mother) ->> 'case_id') as sgbv from fam \gset
select refuge.record_gbv_incident(:'sgbv', '{"violence_type": "PHYSICAL_ASSAULT", "incident_date": "2026-10-02",
    "consent_services": true, "consent_sharing": true, "narrative": "Assaulted at the water point"}');
select refuge.refer_case(:'sgbv', 'IRC', array['CASE', 'INCIDENT'], 'psychosocial support', agreement => 'IRC-REF') as referral \gset
select (refuge.open_case('TRACING', son, '{}', '{"sought_family_name": "Gatdet", "sought_given_name": "Nyakim"}') ->> 'case_id') as tracing
  from fam \gset
select (refuge.open_case('VULNERABILITY', mother) ->> 'case_id') as vul from fam \gset
reset role;
set role lr_rst;
select (refuge.open_case('RESETTLEMENT', mother, array[son]) ->> 'case_id') as rst from fam \gset
select refuge.record_consent(mother, 'RESETTLEMENT_SUBMISSION', 'WRITTEN') is not null as rst_consent,
       refuge.record_consent(son, 'RESETTLEMENT_SUBMISSION', 'WRITTEN', 'PARENT', mother) is not null as son_consent from fam;
reset role;
select id as vault from refuge.biometric_vault \gset
select pg_temp.mark();

-- each read, rolled back: the record stays
begin;
set local role lr_rsd;
select refuge.read_case_note(:'note', 'appeal hearing') is not null as read_note;
rollback;
select pg_temp.new_logs() as after_read_case_note;
select pg_temp.mark();

begin;
set local role lr_rsd;
select length(refuge.read_case_document(:'doc', 'appeal hearing')) as read_document;
rollback;
select pg_temp.new_logs() as after_read_case_document;
select pg_temp.mark();

begin;
set local role lr_prot;
select refuge.read_gbv_incident(:'sgbv', 'case conference') ->> 'violence_type' as read_incident;
rollback;
select pg_temp.new_logs() as after_read_gbv_incident;
select pg_temp.mark();

begin;
set local role lr_partner;
select refuge.referred_case(:'referral', 'intake') -> 'incident' ->> 'violence_type' as partner_read;
rollback;
select pg_temp.new_logs() as after_referred_case;
select pg_temp.mark();

begin;
set local role lr_bioadm;
select jsonb_array_length(refuge.biometric_templates(mother, 'adjudication review') -> 'fingers') as fingers from fam;
rollback;
select pg_temp.new_logs() as after_biometric_templates;
select pg_temp.mark();

begin;
set local role lr_bioadm;
select length(refuge.vault_image(:'vault', 'adjudication review')) as image_bytes;
rollback;
select pg_temp.new_logs() as after_vault_image;
select pg_temp.mark();

begin;
set local role lr_prot;
select count(*) as tracing_results from refuge.tracing_matches(:'tracing');
rollback;
select pg_temp.new_logs() as after_tracing_matches;
select pg_temp.mark();

begin;
set local role lr_bio;
select jsonb_array_length(refuge.identify(refuge.synthetic_templates(11, 1, 1), 'KAKUMA', 'person without documents') -> 'candidates')
    as candidates;
rollback;
select pg_temp.new_logs() as after_identify;
select pg_temp.mark();

-- an enrolment searches the gallery 1:N: a probe enrolled (the mother's fingers on her son's
-- record) and rolled back still leaves its search
begin;
set local role lr_bio;
select refuge.enrol_biometrics(son, refuge.synthetic_templates(11, 1, 2)) ->> 'decision' as probe from fam;
rollback;
select pg_temp.new_logs() as after_enrolment_rolled_back;
select purpose like 'enrolment of %' as enrolment_logged, cardinality(candidates) as candidates
  from refuge.biometric_identification order by searched_at desc limit 1;
select pg_temp.mark();

-- a clerk in another operation registering someone whose document is already recorded learns
-- that it is (global deduplication must say so): that answer is a logged lookup
select refuge.create_operation('UGA', 'UGA', 'Uganda') is not null as uga;
select refuge.create_site('UGA', 'NAKIVALE', 'Nakivale', 'CAMP') is not null as nakivale;
create role lr_reg_uga; grant refuge_registration to lr_reg_uga;
select refuge.assign_staff('lr_reg_uga', 'UGA') is not null as assigned;
select refuge.add_document(mother, '{"type": "NATIONAL_ID", "number": "SS-77-4410", "issuing_country": "SSD"}') is not null
    as documented from fam;
select pg_temp.mark();
begin;
set local role lr_reg_uga;
select pg_temp.err($q$select refuge.register_group('{"operation": "UGA", "site": "NAKIVALE", "registration_level": "BASIC",
    "population_type": "REF", "members": [{"relationship": "PA", "given_name": "Nyakim", "sex": "F",
    "documents": [{"type": "NATIONAL_ID", "number": "SS 77 4410", "issuing_country": "SSD"}]}]}')$q$) as refused;
rollback;
select pg_temp.new_logs() as after_document_match;
select pg_temp.mark();

-- a 1:1 verification answers "is this the person": repeated over many records it
-- identifies, so it is recorded like a read
begin;
set local role lr_bio;
select refuge.verify(mother, refuge.synthetic_templates(11, 1, 2)) ->> 'match' as verified from fam;
rollback;
select pg_temp.new_logs() as after_verify;
select verified_by, purpose, match from refuge.biometric_verification;
select pg_temp.mark();

begin;
set local role lr_rst;
select refuge.rrf_json(:'rst', 'CAN-RST') -> 'case' ->> 'state' as rrf_json;
rollback;
select pg_temp.new_logs() as after_rrf_json;
select pg_temp.mark();

begin;
set local role lr_rst;
select length(refuge.rrf_pdf(:'rst', 'CAN-RST')) > 1000 as rrf_pdf;
rollback;
select pg_temp.new_logs() as after_rrf_pdf;
select pg_temp.mark();

begin;
set local role lr_rst;
select refuge.rrf_xml(:'rst', 'CAN-RST') is not null as rrf_xml;
rollback;
select pg_temp.new_logs() as after_rrf_xml;
select pg_temp.mark();

-- a vulnerability assessment reads the family's needs: logged, and the score
-- names no need category (assistance staff work these cases too)
begin;
set local role lr_assist;
select refuge.transition_case(:'vul', 'ASSESS', '{"answers": {"NO_INCOME": true}}') ->> 'state' as assessed;
select data -> 'factors' as factors from refuge.process_case where id = :'vul';
rollback;
select pg_temp.new_logs() as after_assessment;
select pg_temp.mark();
set role lr_assist;
select pg_temp.err(format($q$select refuge.vulnerability_factors(%L, 'curious')$q$, :'vul')) as assistance_staff_see_no_categories;
reset role;
begin;
set local role lr_reg;
select refuge.vulnerability_factors(:'vul', 'needs review') -> 'needs' as needs;
rollback;
select pg_temp.new_logs() as after_vulnerability_factors;
select pg_temp.mark();

-- who read what, and why: the log rows name the reader, even after the rollback
select actor, kind, regexp_replace(purpose, '-\d\d-(\d{6})', '-YY-\1', 'g') as purpose from refuge.sensitive_read order by id;
select accessed_by, regexp_replace(purpose, '-\d\d-(\d{6})', '-YY-\1', 'g') as purpose from refuge.vault_access order by id;
select searched_by, regexp_replace(purpose, '-\d\d-', '-YY-') as purpose from refuge.biometric_identification order by searched_at;

-- nothing is handed out when the record cannot be written (a read-only transaction: the worker's insert still
-- commits, so it is the standby case that refuses; here a log row naming a column that does not exist)
select pg_temp.err($q$select refuge.log_durably('{"sensitive_read": [{"actor": "x", "no_such_column": 1}]}')$q$) as bad_log_row;
select pg_temp.err($q$select refuge.log_durably('{"individual": [{"given_name": "x"}]}')$q$) as not_a_log_table;
select pg_temp.err($q$set role lr_rsd; select refuge.log_durably('{"sensitive_read": []}')$q$) as callers_cannot_log;
reset role;

-- leave the database as found for the next suite
reset refuge.vault_key_file;
\! rm -f "$REFUGE_TEST_KEY"
drop table fam;
\i test/lib/reinstall.sql
drop role lr_rsd, lr_prot, lr_rst, lr_bio, lr_bioadm, lr_partner, lr_reg, lr_assist, lr_reg_uga;
