-- Documents issued to refugees: the operation's Ed25519 key read by the
-- server from refuge.document_key_dir, issue rules (kind, status,
-- population type, age), serials, renewal, loss, revocation, and
-- verify_document's answer to every kind of tampering; the reference
-- offline verifier (test/verify_document.sh) agrees with only the public key.
\set VERBOSITY terse
set client_min_messages = warning;
set search_path = public, refuge;
create function pg_temp.err(q text) returns text language plpgsql as $$
begin
    execute q;
    return 'no error';
exception when others then
    return sqlstate || ' ' || regexp_replace(regexp_replace(regexp_replace(sqlerrm,
        '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '<id>', 'g'), '\d{4}-\d\d-\d\d', '<date>', 'g'),
        '([A-Z]{3})-\d\d-(\d{6})', '\1-YY-\2', 'g');
end $$;

select refuge.create_operation('KEN', 'KEN', 'Kenya') is not null as ken;
select refuge.create_operation('UGA', 'UGA', 'Uganda') is not null as uga;
select refuge.create_site('KEN', 'KAKUMA', 'Kakuma', 'CAMP', 34.85, 3.72) is not null as kakuma;
drop role if exists dc_reg, dc_sup, dc_admin, dc_desk;
create role dc_reg;   grant refuge_registration to dc_reg;
create role dc_sup;   grant refuge_supervisor, refuge_registration to dc_sup;
create role dc_admin; grant refuge_admin to dc_admin;
create role dc_desk;  grant refuge_assistance to dc_desk;
select count(*) as assigned from (select refuge.assign_staff(r, 'KEN') from unnest(array['dc_reg', 'dc_sup', 'dc_admin', 'dc_desk']) r) x;

select (r -> 'members' -> 0 ->> 'individual_id') as ref_id, (r -> 'members' -> 1 ->> 'individual_id') as child_id
  from refuge.register_group('{"operation": "KEN", "site": "KAKUMA", "registration_level": "BASIC", "population_type": "REF",
    "members": [{"relationship": "PA", "given_name": "Ahmad", "family_name": "Othman", "sex": "M", "date_of_birth": "1985-03-01",
                 "names": [{"kind": "ORIGINAL_SCRIPT", "script": "Arab", "given_name": "أحمد", "family_name": "عثمان"}]},
                {"relationship": "SON", "given_name": "Omar", "family_name": "Othman", "sex": "M", "date_of_birth": "2020-05-05"}]}') r \gset
select (r -> 'members' -> 0 ->> 'individual_id') as asy_id
  from refuge.register_group('{"operation": "KEN", "site": "KAKUMA", "registration_level": "BASIC", "population_type": "ASY",
    "members": [{"relationship": "PA", "given_name": "Abebe", "family_name": "Kebede", "sex": "M", "date_of_birth": "1990-01-01",
                 "names": [{"kind": "ORIGINAL_SCRIPT", "script": "Ethi", "given_name": "አበበ", "family_name": "ከበደ"}]}]}') r \gset

-- no key directory yet: a clear error, nothing issued
set role dc_admin;
select pg_temp.err($q$select refuge.register_document_key('KEN')$q$);
reset role;
-- the signing keys, written by the server into its data directory (only it reads them)
select current_setting('data_directory') as keydir \gset
\set kenpem :keydir/KEN.pem
\set ugapem :keydir/UGA.pem
\set tzapem :keydir/TZA.pem
copy (select unnest(array['-----BEGIN PRIVATE KEY-----', 'MC4CAQAwBQYDK2VwBCIEIIH1UftouTI45jokusAD/SOv56slunap+DaBfO4lDdQs',
                          '-----END PRIVATE KEY-----'])) to :'kenpem';
copy (select unnest(array['-----BEGIN PRIVATE KEY-----', 'MC4CAQAwBQYDK2VwBCIEIHndjQAygiPhq8pT7BF2Bhp2Q3Q3aVpIuoM8tpmqg8gQ',
                          '-----END PRIVATE KEY-----'])) to :'ugapem';
copy (select 'not a key') to :'tzapem';
\setenv REFUGE_DOC_KEYS :keydir
\! chmod 600 "$REFUGE_DOC_KEYS/KEN.pem" "$REFUGE_DOC_KEYS/UGA.pem" "$REFUGE_DOC_KEYS/TZA.pem"
select set_config('refuge.document_key_dir', :'keydir', false) is not null as key_dir_set;
-- the setting is the superuser's; a role cannot read or set it
set role dc_admin;
select pg_temp.err($q$show refuge.document_key_dir$q$);
select pg_temp.err($q$set refuge.document_key_dir = '/tmp'$q$);
select pg_temp.err($q$select refuge.register_document_key('../etc/passwd')$q$);
select refuge.register_document_key('KEN') ->> 'key_id' as ken_key;
select refuge.register_document_key('KEN') ->> 'status' as again;
select refuge.document_public_key_pem('KEN') like '-----BEGIN PUBLIC KEY-----%' as pem;
reset role;
select refuge.create_operation('TZA', 'TZA', 'Tanzania') is not null as tza;
select pg_temp.err($q$select refuge.register_document_key('TZA')$q$);
-- no role signs arbitrary text with an operation's key, or reads the private key
set role dc_reg;
select pg_temp.err($q$select refuge.document_sign('KEN', 'anything')$q$);
select pg_temp.err($q$select refuge.document_public_key('KEN')$q$);
select pg_temp.err($q$select refuge.register_document_key('KEN')$q$);

-- issue rules
select pg_temp.err(format($q$select refuge.issue_document(%L, 'PASSPORT')$q$, :'ref_id'));
select pg_temp.err(format($q$select refuge.issue_document(%L, 'REFUGEE_ID')$q$, :'asy_id'));
select pg_temp.err(format($q$select refuge.issue_document(%L, 'REFUGEE_ID')$q$, :'child_id'));
select pg_temp.err($q$select refuge.issue_document('00000000-0000-0000-0000-000000000000', 'REFUGEE_ID')$q$);
select refuge.issue_document(:'ref_id', 'REFUGEE_ID') as card \gset
select :'card'::jsonb ->> 'serial' as serial, :'card'::jsonb ->> 'kind' as kind,
       (:'card'::jsonb ->> 'valid_to')::date - (:'card'::jsonb ->> 'valid_from')::date > 1800 as five_years,
       :'card'::jsonb ->> 'payload' ~ '^RF1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{86}$' as payload_format;
select :'card'::jsonb ->> 'payload' as payload, :'card'::jsonb ->> 'document_id' as card_id \gset
select refuge.issue_document(:'asy_id', 'PROOF_OF_REGISTRATION') ->> 'serial' as proof;
-- the printed card and page are PDFs (their content is checked with pdftotext and zbarimg in test/shell/pdf_scripts.sh)
select encode(substr(refuge.document_pdf(:'card_id'), 1, 5), 'escape') as card_pdf,
       encode(substr(refuge.document_pdf((select id from refuge.issued_document where kind = 'PROOF_OF_REGISTRATION')), 1, 5), 'escape') as page_pdf;
select refuge.issue_document(:'child_id', 'ATTESTATION') ->> 'serial' as attestation;

-- verification: genuine, then every tampering
select v ->> 'valid' as valid, v ->> 'number' ~ '^KEN-26-' as number, v ->> 'given_name' as given, v ->> 'original_name' as original,
       v ->> 'date_of_birth' as born
  from refuge.verify_document(:'payload') v;
select refuge.verify_document(null) ->> 'reason' as null_payload,
       refuge.verify_document('') ->> 'reason' as empty,
       refuge.verify_document(repeat('A', 100000)) ->> 'reason' as huge,
       refuge.verify_document('RF1.###.###') ->> 'reason' as not_base64,
       refuge.verify_document('RF1.' || refuge.b64url('a|b') || '.' || refuge.b64url('x')) ->> 'reason' as too_few_fields;
-- a changed date of birth in the body: the signature no longer holds
select refuge.verify_document('RF1.' || refuge.b64url(convert_to(replace(convert_from(refuge.b64url_decode(split_part(:'payload', '.', 2)), 'UTF8'),
           '1985-03-01', '1995-03-01'), 'UTF8')) || '.' || split_part(:'payload', '.', 3)) ->> 'reason' as forged_birth_date;
select refuge.verify_document(left(:'payload', -2) || case when right(:'payload', 2) = 'AA' then 'AB' else 'AA' end) ->> 'reason' as flipped_signature;
reset role;
-- signed with another operation's key that KEN's registry does not know
select refuge.verify_document(s || '.' || refuge.b64url(refuge.document_sign('UGA', convert_to(s, 'UTF8')))) ->> 'reason' as other_key
  from (select split_part(:'payload', '.', 1) || '.' || split_part(:'payload', '.', 2) as s) x;
-- a genuine signature on an expired validity, and on a key id swapped in
select refuge.verify_document(s || '.' || refuge.b64url(refuge.document_sign('KEN', convert_to(s, 'UTF8')))) ->> 'reason' as expired
  from (select 'RF1.' || refuge.b64url(convert_to(concat_ws('|', (select key_id from refuge.document_key), 'KEN-ID-X', 'REFUGEE_ID',
        'KEN-26-000001', 'Ahmad', 'Othman', '', '1985-03-01', 'M', '2020-01-01', '2021-01-01', ''), 'UTF8')) as s) x;
select refuge.verify_document(s || '.' || refuge.b64url(refuge.document_sign('KEN', convert_to(s, 'UTF8')))) ->> 'reason' as not_issued_here
  from (select 'RF1.' || refuge.b64url(convert_to(concat_ws('|', (select key_id from refuge.document_key), 'KEN-ID-X', 'REFUGEE_ID',
        'KEN-26-000001', 'Ahmad', 'Othman', '', '1985-03-01', 'M', '2020-01-01', '2099-01-01', ''), 'UTF8')) as s) x;

-- the reference offline verifier, with only the public key
\setenv REFUGE_DOC_PAYLOAD :payload
select refuge.document_public_key_pem('KEN') as pub_pem \gset
\setenv REFUGE_DOC_PUB :pub_pem
\! printf '%s' "$REFUGE_DOC_PUB" > /tmp/refuge_doc_test.pem; bash test/verify_document.sh /tmp/refuge_doc_test.pem "$REFUGE_DOC_PAYLOAD" | tail -1
\! bash test/verify_document.sh /tmp/refuge_doc_test.pem "${REFUGE_DOC_PAYLOAD%??}AA" | tail -1; rm -f /tmp/refuge_doc_test.pem

-- renewal replaces, loss and revocation end; each is refused twice
set role dc_reg;
select refuge.issue_document(:'ref_id', 'REFUGEE_ID') as renewed \gset
select refuge.verify_document(:'payload') ->> 'reason' as old_card;
select refuge.verify_document(:'renewed'::jsonb ->> 'payload') ->> 'valid' as new_card;
select pg_temp.err(format($q$select refuge.revoke_document(%L, 'fraud')$q$, :'renewed'::jsonb ->> 'document_id'));
select refuge.report_document_lost((:'renewed'::jsonb ->> 'document_id')::uuid, 'lost at the market') ->> 'status' as lost;
select refuge.verify_document(:'renewed'::jsonb ->> 'payload') ->> 'reason' as lost_card;
select pg_temp.err(format($q$select refuge.document_pdf(%L)$q$, :'renewed'::jsonb ->> 'document_id'));
select refuge.issue_document(:'ref_id', 'REFUGEE_ID') as third \gset
reset role;
set role dc_sup;
select pg_temp.err(format($q$select refuge.revoke_document(%L, '')$q$, :'third'::jsonb ->> 'document_id'));
select refuge.revoke_document((:'third'::jsonb ->> 'document_id')::uuid, 'obtained by fraud') ->> 'status' as revoked;
select pg_temp.err(format($q$select refuge.revoke_document(%L, 'again')$q$, :'third'::jsonb ->> 'document_id'));
select refuge.verify_document(:'third'::jsonb ->> 'payload') ->> 'reason' as revoked_card;
reset role;
select serial ~ '^KEN-ID-\d{7}$' as serial_form, status, status_reason from refuge.issued_document
 where kind = 'REFUGEE_ID' order by issued_at, serial;

-- a record that closes ends its documents: the attestation of a person who died no longer verifies
set role dc_reg;
select (refuge.register_group('{"operation": "KEN", "site": "KAKUMA", "registration_level": "BASIC", "population_type": "REF",
    "members": [{"relationship": "PA", "given_name": "Mary", "family_name": "Achan", "sex": "F", "date_of_birth": "1950-01-01"}]}')
    -> 'members' -> 0 ->> 'individual_id') as mary \gset
select refuge.issue_document(:'mary', 'REFUGEE_ID') as mary_card \gset
select refuge.request_closure(:'mary', 'DECEASED', current_date, 'died at the clinic') ->> 'status' as requested;
reset role;
set role dc_sup;
select refuge.decide_status_change((select id from refuge.status_change where status = 'REQUESTED' and individual_id = :'mary'), true) ->> 'decision' as decided;
reset role;
select refuge.verify_document(:'mary_card'::jsonb ->> 'payload') ->> 'reason' as after_death;
select status, status_reason from refuge.issued_document where individual_id = :'mary';

-- a compromised key: nothing it signed verifies; a new key signs new documents
set role dc_reg;
select refuge.issue_document(:'asy_id', 'PROOF_OF_REGISTRATION') as proof2 \gset
reset role;
set role dc_admin;
select refuge.revoke_document_key((select key_id from refuge.document_key where status = 'ACTIVE'), 'key file copied') is not null as key_revoked;
select pg_temp.err($q$select refuge.register_document_key('KEN')$q$);
reset role;
select refuge.verify_document(:'proof2'::jsonb ->> 'payload') ->> 'reason' as after_key_revoked;
set role dc_reg;
select pg_temp.err(format($q$select refuge.issue_document(%L, 'ATTESTATION')$q$, :'asy_id'));
reset role;

-- a closed record gets no document; the printed card needs a valid document
update refuge.individual set status = 'INACTIVE' where id = :'child_id';
set role dc_reg;
select pg_temp.err(format($q$select refuge.issue_document(%L, 'ATTESTATION')$q$, :'child_id'));
-- staff of other operations see nothing
reset role;
set role dc_desk;
select pg_temp.err(format($q$select refuge.issue_document(%L, 'ATTESTATION')$q$, :'asy_id'));
select refuge.verify_document(:'payload') ->> 'reason' as desk_checks_a_card;
select pg_temp.err('select count(*) from refuge.issued_document') as desk_reads_documents;
reset role;

-- leave the database as found for the next suite
reset refuge.document_key_dir;
\! rm -f "$REFUGE_DOC_KEYS/KEN.pem" "$REFUGE_DOC_KEYS/UGA.pem" "$REFUGE_DOC_KEYS/TZA.pem"
\i test/lib/reinstall.sql
drop role dc_reg, dc_sup, dc_admin, dc_desk;
