-- What a hostile caller tried, and what now happens: look-alike document
-- numbers, names of invisible or overriding characters, a clerk undoing an
-- adjudication, huge values echoed back, out-of-range coordinates, a
-- withdrawn consent, a truncated or silenced audit trail, a back-dated or
-- shortened chain, lossy binary templates.
\set VERBOSITY terse
set client_min_messages = warning;
set search_path = public, refuge;
create function pg_temp.err(q text) returns text language plpgsql as $$
begin
    execute q;
    return 'no error';
exception when others then
    return sqlstate || ' ' || regexp_replace(regexp_replace(sqlerrm, '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '<id>', 'g'),
                                             '[A-Z]{3}-\d\d-\d{6}', '<number>', 'g');
end $$;
create function pg_temp.member(extra jsonb) returns jsonb language sql as $$
    select jsonb_build_object('operation', 'KEN', 'site', 'KAKUMA', 'registration_level', 'BASIC', 'population_type', 'REF',
        'members', jsonb_build_array(jsonb_build_object('relationship', 'PA', 'given_name', 'Amina', 'sex', 'F') || extra))
$$;
select refuge.create_operation('KEN', 'KEN', 'Kenya') is not null as ken;
select refuge.create_site('KEN', 'KAKUMA', 'Kakuma', 'CAMP') is not null as kakuma;
drop role if exists ho_clerk, ho_sup, ho_sup2;
create role ho_clerk; grant refuge_registration to ho_clerk;
create role ho_sup;   grant refuge_supervisor to ho_sup;
create role ho_sup2;  grant refuge_supervisor to ho_sup2;
select count(refuge.assign_staff(r, 'KEN')) as assigned from unnest(array['ho_clerk', 'ho_sup', 'ho_sup2']) r;

-- 6. look-alike document numbers meet the first one
set role ho_clerk;
select refuge.register_group(pg_temp.member('{"documents": [{"type": "NATIONAL_ID", "number": "SS-88-001", "issuing_country": "SSD"}]}'))
    is not null as first_registration;
select n as spelling, pg_temp.err(format('select refuge.register_group(%L)',
           pg_temp.member(jsonb_build_object('given_name', 'Other', 'documents',
               jsonb_build_array(jsonb_build_object('type', 'NATIONAL_ID', 'number', n, 'issuing_country', 'SSD'))))))
  from unnest(array[E'SS-88-00\u200B1', E'SS\u201388\u2013001', E'SS-８８-００１', E'ЅЅ-88-001', 'SS-88-001.', 'ss 88 001',
                    E'SS-\u0668\u0668-\u0660\u0660\u0661', 'SS/88/001', E'SS-88-\u3164001']) n;
reset role;
select refuge.identifier_key('SS-88-001') as key;
-- look-alikes fold only across scripts: a Latin O is not a zero, nor l a one
select k, refuge.identifier_key(k) as key, refuge.identifier_key(k) = refuge.identifier_key('SS-88-001') as same
  from unnest(array['SS-88-OO1', 'SS-88-00l', 'SS-88-0001', E'\u0405\u0405-88-001', E'\uA731\uA731-88-001',
                    E'\u0399D1234567', 'LD1234567', E'SS-88-\u09E6\u09E6\u09E7']) k;
set role ho_clerk;
select pg_temp.err(format('select refuge.register_group(%L)', pg_temp.member(
    '{"given_name": "Empty", "documents": [{"type": "NATIONAL_ID", "number": "--..", "issuing_country": "SSD"}]}')));

-- 15. names as people write them: NFC, no overrides, no invisible-only names
select pg_temp.err(format('select refuge.register_group(%L)', pg_temp.member(jsonb_build_object('given_name', n))))
  from unnest(array[E'\u202EanimA', E'\u0301\u0301', E'\u200B\u200B', E'Ami\nna', E'A\u0007mina', E'\uE000bc',
                    E'x\u0301\u0302\u0303\u0304\u0305\u0306', E'\u3164\u3164', E'Ami\u115Fna', E'Ami\u00ADna',
                    E'\u200DAmina', E'Ami\u2028na', E'\u2800Amina', E'Ami\uFFFDna']) n;
-- spaces of every kind become one space between words; joiners stay inside Persian words
reset role;
select refuge.clean_name(E' Amina\u00A0\u3000Bint  ', 'n') as spaces,
       refuge.clean_name(E'\u0645\u062D\u0645\u062F\u200C\u0631\u0636\u0627', 'n') = E'\u0645\u062D\u0645\u062F\u200C\u0631\u0636\u0627' as persian_joiner_kept;
set role ho_clerk;
select refuge.register_group(pg_temp.member(jsonb_build_object('given_name', E'Aminata\u0301', 'family_name', E'محمد\u200Cرضا')))
    ->> 'group_number' is not null as registered;
select given_name = E'Aminat\u00e1' as stored_composed, length(given_name) as characters, family_name
  from refuge.individual where family_name is not null;
select pg_temp.err($q$select refuge.register_group(pg_temp.member('{"place_of_birth": "Bor\u202Eevil"}'))$q$) as bidi_in_text,
       pg_temp.err($q$select refuge.register_group(pg_temp.member('{"place_of_birth": "Bor\u2066evil"}'))$q$) as isolate_in_text;

-- 14. errors quote at most 40 characters; numbers out of range name their field
select length(pg_temp.err(format('select refuge.register_group(%L)', pg_temp.member(jsonb_build_object('given_name',
       jsonb_build_object('x', repeat('a', 5000000))))))) < 200 as short_error;
select pg_temp.err(format('select refuge.register_group(%L)', pg_temp.member(
    '{"flight_legs": [{"country": "SSD", "location": {"lon": 1e400, "lat": 2}}]}'::jsonb)));

-- 7. a record closed as a duplicate changes only through adjudication; legal
--    status changes are requested and approved by a second person
select id as amina from refuge.individual where given_name = 'Amina' \gset
reset role;
alter table refuge.individual disable trigger audit;   -- (as adjudication would: the record closed as a duplicate)
update refuge.individual set status = 'DUPLICATE' where id = :'amina';
alter table refuge.individual enable always trigger audit;
set role ho_clerk;
select pg_temp.err(format($q$select refuge.update_individual(%L, '{"status": "ACTIVE"}')$q$, :'amina')) as undo_duplicate;
select pg_temp.err(format($q$select refuge.request_status_change(%L, 'ACTIVE', null, 'seen again')$q$, :'amina')) as request_undo;
select id as other from refuge.individual where family_name is not null \gset
select pg_temp.err(format($q$select refuge.update_individual(%L, '{"population_type": "ASY"}')$q$, :'other')) as clerk_changes_legal_status;
select pg_temp.err(format($q$select refuge.update_individual(%L, '{"status": "CLOSED"}')$q$, :'other')) as clerk_closes;
select refuge.update_individual(:'other', '{"status": "HOLD"}') ->> 'number' is not null as clerk_puts_on_hold;
select refuge.request_status_change(:'other', null, 'ASY', 'claim reassessed') ->> 'status' as requested;
select (select id from refuge.status_change where individual_id = :'other') as change \gset
select pg_temp.err(format($q$select refuge.decide_status_change(%L, true)$q$, :'change')) as clerk_decides;
reset role;
set role ho_sup;
select refuge.decide_status_change(:'change', true, 'checked') ->> 'decision' as decided;
reset role;
select population_type, status from refuge.individual where id = :'other';
select table_name, action, actor from refuge.audit_log where table_name = 'status_change' order by id;

-- 13. TRUNCATE is refused; replica mode and row_security = off do not silence the audit
select pg_temp.err('truncate refuge.audit_log') as truncate_audit;
select pg_temp.err('truncate refuge.individual cascade') as truncate_people;
select pg_temp.err('truncate refuge.audit_seal') as truncate_seals;
select count(*) as audit_rows_before from refuge.audit_log \gset
set session_replication_role = replica;
update refuge.individual set middle_name = 'Replica' where id = :'other';
reset session_replication_role;
select actor, old_data, new_data from refuge.audit_log where id > :audit_rows_before order by id;
set row_security = off;
insert into refuge.staff (role_name, full_name) values ('ho_ghost', 'Ghost');
update refuge.individual set middle_name = 'Offrls' where id = :'other';
reset row_security;
select table_name, rows, actor from refuge.audit_bulk_load order by at;
select actor, old_data ->> 'middle_name' as old, new_data ->> 'middle_name' as new from refuge.audit_log
 where table_name = 'individual' and action = 'U' order by id desc limit 1;
-- a forged audit row is dated by its own transaction and names who wrote it
insert into refuge.audit_log (at, actor, table_name, action, class, new_data)
values (now() - interval '30 days', 'ho_clerk', 'individual', 'U', 'registration', '{"given_name": "forged"}');
select at > now() - interval '1 minute' as dated_now, actor = current_user as attributed from refuge.audit_log order by id desc limit 1;
-- the chain: sealed, then its tail removed and a back-dated row slipped in under DDL
select (refuge.verify_audit() ->> 'intact')::boolean as intact_before;
alter table refuge.audit_log disable trigger guard;
insert into refuge.audit_log (at, actor, table_name, action, class, new_data, txid)
values (now() - interval '30 days', 'ho_clerk', 'individual', 'U', 'registration', '{"given_name": "backdated"}', txid_current());
alter table refuge.audit_log enable always trigger guard;
select (refuge.seal_audit() ->> 'sealed')::int > 0 as sealed_it;
alter table refuge.audit_seal disable trigger append_only;
delete from refuge.audit_seal where seq > (select max(seq) - 3 from refuge.audit_seal);
alter table refuge.audit_seal enable always trigger append_only;
select regexp_replace(p ->> 'problem', 'dated .* before the seal of .* that', 'dated <at>, more than a day before the seal of <sealed_at> that')
       as problem
  from jsonb_array_elements(refuge.verify_audit() -> 'problems') p
 where p ->> 'problem' ~ 'back-dated|are gone' order by 1;

-- lossless binary templates: 20,020 fingerprints through binary COPY, unchanged
create table fp as select i, refuge.synthetic_fingerprint(7, i, 0) as f from generate_series(1, 20020) i;
select current_setting('data_directory') || '/refuge_hostile_fp.bin' as fpfile \gset
copy fp to :'fpfile' with (format binary);
create table fp2 (like fp);
copy fp2 from :'fpfile' with (format binary);
select count(*) filter (where a.f::text = b.f::text) as identical, count(*) as templates from fp a join fp2 b using (i);
\setenv REFUGE_FP_FILE :fpfile
\! rm -f "$REFUGE_FP_FILE"
drop table fp, fp2;

-- leave the database as found for the next suite
\i test/lib/reinstall.sql
drop role ho_clerk, ho_sup, ho_sup2;

-- what a deployment should have set, checked (values differ by cluster: the recommendations do not)
select setting, recommended from refuge.deployment_check() order by setting;
