-- Identity management: enrolment with fused 1:N dedup (enrolled / blocked /
-- adjudication), what the caller is told about a match, bad input, the
-- adjudication decisions, 1:1 verification, the vault, and the audit trail.
\set VERBOSITY terse
set client_min_messages = notice;
set search_path = public, refuge;
-- an error with its ids blanked (they differ from run to run)
create function pg_temp.err(q text) returns text language plpgsql as $$
begin
    execute q;
    return 'no error';
exception when others then
    return sqlstate || ' ' || regexp_replace(sqlerrm, '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '<id>', 'g');
end $$;

select refuge.create_operation('KEN', 'KEN', 'Kenya') is not null as ken;
select refuge.create_operation('UGA', 'UGA', 'Uganda') is not null as uga;
select refuge.create_site('KEN', 'KAKUMA', 'Kakuma', 'CAMP', 34.85, 3.72) is not null as kakuma;
select refuge.create_site('UGA', 'NAKIVALE', 'Nakivale', 'CAMP', 30.95, -0.78) is not null as nakivale;
drop role if exists id_bio_ken, id_reg_ken, id_hq, id_hq2, id_sup_ken, id_sup_uga;
create role id_bio_ken;      grant refuge_biometrics to id_bio_ken;
create role id_reg_ken;      grant refuge_registration to id_reg_ken;
create role id_hq;           grant refuge_biometrics_admin to id_hq;
create role id_hq2;          grant refuge_biometrics_admin to id_hq2;
create role id_sup_ken;      grant refuge_supervisor to id_sup_ken;
create role id_sup_uga;      grant refuge_supervisor to id_sup_uga;
select refuge.assign_staff('id_bio_ken', 'KEN') is not null as a1;
select refuge.assign_staff('id_reg_ken', 'KEN') is not null as a2;
select refuge.assign_staff('id_sup_ken', 'KEN') is not null as a3;
select refuge.assign_staff('id_sup_uga', 'UGA') is not null as a4;

-- 40 one-person families, alternating KEN and UGA; person n is synthetic person n
create table ppl (n int primary key, id uuid, op text);
insert into ppl
select n, (refuge.register_group(jsonb_build_object('operation', op, 'site', site, 'registration_level', 'BASIC',
          'population_type', 'REF', 'members', jsonb_build_array(jsonb_build_object('relationship', 'PA',
          'given_name', 'Person' || n, 'sex', 'F', 'date_of_birth', '1985-05-05')))) -> 'members' -> 0 ->> 'individual_id')::uuid, op
  from (select n, case when n % 2 = 0 then 'KEN' else 'UGA' end op,
               case when n % 2 = 0 then 'KAKUMA' else 'NAKIVALE' end site from generate_series(1, 40) n) x;
grant select on ppl to public;
select count(*) as people, count(id) as with_id from ppl;

-- a synthetic person's templates: 10 fingers and 2 irises
select jsonb_array_length(t -> 'fingers') as fingers, jsonb_array_length(t -> 'irises') as irises
  from refuge.synthetic_templates(7, 1) t;

-- 1..20 enrol as new identities
select n, refuge.enrol_biometrics(id, refuge.synthetic_templates(7, n)) ->> 'decision' as decision
  from ppl where n <= 20 order by n;
select count(*) as enrolled, count(*) filter (where status = 'ENROLLED') as own_templates from refuge.biometric_enrolment;
select count(*) as fingers from refuge.biometric_finger;
select count(*) as irises from refuge.biometric_iris;

-- 21..24 are people 1..4 again (a re-capture), under another name: blocked,
-- with a fraud alert; the match is person n - 20
select p.n, r ->> 'decision' as decision, (r -> 'match' ->> 'individual_id')::uuid = m.id as names_the_match,
       (r -> 'match' ->> 'modalities')::int as parts, (r ->> 'alert_id') is not null as alert
  from ppl p join ppl m on m.n = p.n - 20,
       lateral refuge.enrol_biometrics(p.id, refuge.synthetic_templates(7, p.n - 20, 1)) r
 where p.n between 21 and 24 order by p.n;
select kind, count(*) from refuge.fraud_alert group by kind;
select count(*) as blocked_not_enrolled from refuge.biometric_enrolment e join ppl p on p.id = e.individual_id
 where p.n between 21 and 24;
-- the attempt is kept, templates included
select decision, count(*), min(cardinality(fingers)) as fingers from refuge.biometric_capture group by decision order by 1;

-- staff of KEN enrolling a duplicate of a UGA person learn only that a match exists
set role id_bio_ken;
select r ->> 'decision' as decision, r -> 'match' ->> 'visible' as visible, r -> 'match' ? 'number' as has_number,
       r -> 'match' ->> 'individual_id' as individual_id
  from ppl p, lateral refuge.enrol_biometrics(p.id, refuge.synthetic_templates(7, 5, 2)) r where p.n = 26;
-- ... and the number when they may see the match (person 6 is in KEN)
select r ->> 'decision' as decision, r -> 'match' ->> 'visible' as visible, r -> 'match' ->> 'number' is not null as has_number
  from ppl p, lateral refuge.enrol_biometrics(p.id, refuge.synthetic_templates(7, 6, 2)) r where p.n = 28;
-- an operator cannot enrol someone outside their operations, nor read templates
select pg_temp.err($q$select refuge.enrol_biometrics(id, refuge.synthetic_templates(7, 29)) from ppl where n = 29$q$);
select count(*) from refuge.biometric_finger;
reset role;
set role id_reg_ken;
select refuge.enrol_biometrics(id, refuge.synthetic_templates(7, 30)) from ppl where n = 30;
reset role;

-- bad input: a clear error naming the field, and nothing written
create function pg_temp.try(p_n int, t jsonb) returns text language plpgsql as $$
begin
    perform refuge.enrol_biometrics((select id from ppl where n = p_n), t);
    return 'accepted';
exception when others then
    return sqlstate || ' ' || sqlerrm;
end $$;
create function pg_temp.fingers_but(t jsonb, i int, f jsonb) returns jsonb language sql as $$
    select jsonb_set(t, array['fingers', i::text], f) $$;
select count(*) as captures_before from refuge.biometric_capture \gset
select pg_temp.try(31, null);
select pg_temp.try(31, '[]');
select pg_temp.try(31, '{"fingers": [], "irises": [], "colour": "blue"}');
select pg_temp.try(31, '{"fingers": [], "irises": []}');
select pg_temp.try(31, refuge.synthetic_templates(7, 31) - 'irises');
select pg_temp.try(31, pg_temp.fingers_but(refuge.synthetic_templates(7, 31), 0, '{"position": 1, "record": "%%%"}'));
select pg_temp.try(31, pg_temp.fingers_but(refuge.synthetic_templates(7, 31), 0, '{"position": 1, "record": "Rk1SACAyMAA="}'));
select pg_temp.try(31, pg_temp.fingers_but(refuge.synthetic_templates(7, 31), 0, '{"position": 11, "template": "x"}'));
select pg_temp.try(31, pg_temp.fingers_but(refuge.synthetic_templates(7, 31), 1,
                       jsonb_build_object('position', 1, 'template', refuge.synthetic_fingerprint(7, 310, 0)::text)));
select pg_temp.try(31, pg_temp.fingers_but(refuge.synthetic_templates(7, 31), 0,
                       '{"position": 1, "template": "pos=3 imp=0 q=0 size=500x500 ppcm=197x197 m=100:100:0:1:50"}'));
select pg_temp.try(31, pg_temp.fingers_but(refuge.synthetic_templates(7, 31), 0,
                       '{"position": 1, "template": "pos=0 imp=0 q=0 size=500x500 ppcm=197x197 m=100:100:0:1:50 900:900:0:1:50"}'));
select pg_temp.try(31, pg_temp.fingers_but(refuge.synthetic_templates(7, 31), 0,
                       '{"position": 1, "xyt": "10 10 45 50\n20 20 90 40", "dpi": 500}'));
select pg_temp.try(31, jsonb_set(refuge.synthetic_templates(7, 31), '{irises,0,eye}', '"middle"'));
select pg_temp.try(31, jsonb_set(refuge.synthetic_templates(7, 31), '{irises,0}', '{"eye": "right", "code": "AAAA", "mask": "AAAA"}'));
select pg_temp.try(31, jsonb_set(refuge.synthetic_templates(7, 31), '{missing}', '[{"part": "finger_1", "reason": "AMPUTATED"}]'));
select pg_temp.try(31, jsonb_set(refuge.synthetic_templates(7, 31) #- '{fingers,0}', '{missing}', '[{"part": "finger_1", "reason": "LOST"}]'));
select pg_temp.try(31, jsonb_set(refuge.synthetic_templates(7, 31), '{capture}', '{"site": "NOWHERE"}'));
select pg_temp.try(31, jsonb_set(refuge.synthetic_templates(7, 31), '{capture}', '{"captured_at": "yesterday-ish"}'));
select pg_temp.try(31, jsonb_set(refuge.synthetic_templates(7, 31), '{images}', '[{"part": "face", "data": "!!"}]'));
select regexp_replace(pg_temp.try(1, refuge.synthetic_templates(7, 1)), '[A-Z]{3}-\d\d-\d+|\d{4}-\d\d-\d\d', 'N', 'g') as again;
update refuge.individual set date_of_birth = current_date - 365 * 3 where id = (select id from ppl where n = 32);
select regexp_replace(pg_temp.try(32, refuge.synthetic_templates(7, 32)), '[A-Z]{3}-\d\d-\d+|\d{4}-\d\d-\d\d', 'N', 'g') as under_age;
select pg_temp.try(33, jsonb_set(refuge.synthetic_templates(7, 33), '{images}', '[{"part": "face", "media_type": "image/jpeg", "data": "/9j/4AAQ"}]'));
select count(*) - :captures_before as captures_written from refuge.biometric_capture;

-- missing parts with reasons are accepted and recorded; the person is matched on what was captured
select r ->> 'decision' as decision
  from ppl p, lateral refuge.enrol_biometrics(p.id,
       jsonb_set(jsonb_set(refuge.synthetic_templates(7, 34) #- '{fingers,9}' #- '{irises,1}', '{missing}',
                 '[{"part": "finger_10", "reason": "AMPUTATED"}, {"part": "iris_left", "reason": "MEDICAL"}]'),
                 '{irises,0,quality}', '88')) r
 where p.n = 34;
select part, reason from refuge.biometric_exception order by part;
select eye, quality from refuge.biometric_iris i join ppl p on p.id = i.individual_id where p.n = 34;
select count(*) as fingers_of_34 from refuge.biometric_finger f join ppl p on p.id = f.individual_id where p.n = 34;

-- thresholds follow from the gallery size and the target FPIR
select round(refuge.fused_threshold(1e3, 1e-3, 12)::numeric, 2) as t_1k,
       round(refuge.fused_threshold(1e6, 1e-3, 12)::numeric, 2) as t_1m,
       round(refuge.fused_threshold(1e6, 1e-3, 1)::numeric, 2) as t_1m_one_part;
select refuge.fused_threshold(1e6, 0, 12);

-- the grey zone: only one finger presented, the rest bandaged; with
-- automatic blocking set aside this goes to a reviewer
set refuge.block_fpir = 1e-15;
create function pg_temp.one_finger(person int, capture int) returns jsonb language sql as $$
    select jsonb_build_object('fingers', jsonb_build_array(refuge.synthetic_templates(7, person, capture) -> 'fingers' -> 1),
        'missing', (select jsonb_agg(jsonb_build_object('part', p, 'reason', 'BANDAGED'))
                      from unnest(array['finger_1', 'finger_3', 'finger_4', 'finger_5', 'finger_6', 'finger_7',
                                        'finger_8', 'finger_9', 'finger_10', 'iris_right', 'iris_left']) p)) $$;
create table cases (n int, r jsonb);
grant select on cases to public;
insert into cases select n, refuge.enrol_biometrics(id, pg_temp.one_finger(n - 30, 3)) from ppl where n in (35, 36, 37, 38);
reset refuge.block_fpir;
select n, r ->> 'decision' as decision, jsonb_array_length(r -> 'candidates') >= 1 as has_candidates,
       (r -> 'candidates' -> 0 ->> 'individual_id')::uuid = (select id from ppl where ppl.n = cases.n - 30) as true_mate_first,
       r -> 'candidates' -> 0 -> 'fingers' ? '2' as finger_2_scored
  from cases order by n;
select status, count(*) from refuge.dedup_case group by status;
-- the reviewers' queue (as HQ sees it; a Kenya supervisor sees Kenya's cases)
set role id_hq;
select status, operation, candidates, best_modalities, best_fpir < 0.001 as flagged from refuge.adjudication_queue order by subject_number;
reset role;
set role id_sup_ken;
select count(*) as kenya_cases from refuge.adjudication_queue;
reset role;
-- the enrolment of a person under adjudication waits for the decision
select regexp_replace(pg_temp.try(35, pg_temp.one_finger(5, 3)), '[A-Z]{3}-\d\d-\d+|\(case .*\)', 'N', 'g') as waits;

-- decisions: only biometrics administrators decide; a reason is required
set role id_bio_ken;
select refuge.adjudicate((select r ->> 'case_id' from cases where n = 35)::uuid, 'different', null, 'x');
reset role;
set role id_hq;
select refuge.adjudicate((select r ->> 'case_id' from cases where n = 35)::uuid, 'different', null, '');
select refuge.adjudicate((select r ->> 'case_id' from cases where n = 35)::uuid, 'maybe', null, 'unsure');
select pg_temp.err($q$select refuge.adjudicate((select r ->> 'case_id' from cases where n = 35)::uuid, 'link', (select id from ppl where n = 40), 'looks alike')$q$);
-- different people: the pair is cleared and the enrolment decided again
select r ->> 'decision' as decision, r -> 'enrolment' ->> 'decision' as enrolment
  from refuge.adjudicate((select r ->> 'case_id' from cases where n = 35)::uuid, 'different', null, 'different faces, ages 20 years apart') r;
select pg_temp.err($q$select refuge.adjudicate((select r ->> 'case_id' from cases where n = 35)::uuid, 'different', null, 'again')$q$);
-- fraud: a fraud case, no enrolment
select r ->> 'decision' as decision, (r ->> 'fraud_case_id') is not null as fraud_case
  from refuge.adjudicate((select r ->> 'case_id' from cases where n = 36)::uuid, 'fraud', null, 'same person, third registration') r;
-- link: the two records share one biometric identity
select r ->> 'decision' as decision, (r ->> 'identity_id')::uuid = (select id from ppl where n = 7) as identity_is_person_7
  from refuge.adjudicate((select r ->> 'case_id' from cases where n = 37)::uuid, 'link', (select id from ppl where n = 7),
                         'transferred from Kakuma, same person') r;
-- merge: proposed by a reviewer, approved by a supervisor of the operation
select r ->> 'decision' as decision, r ->> 'status' as status
  from refuge.adjudicate((select r ->> 'case_id' from cases where n = 38)::uuid, 'merge', (select id from ppl where n = 8),
                         'same person registered twice') r;
reset role;
set role id_sup_uga;
select pg_temp.err($q$select refuge.approve_merge((select r ->> 'case_id' from cases where n = 38)::uuid, true, 'ok')$q$);
reset role;
set role id_sup_ken;
select refuge.approve_merge((select r ->> 'case_id' from cases where n = 38)::uuid, false, null);
select refuge.approve_merge((select r ->> 'case_id' from cases where n = 38)::uuid, true, 'checked the photographs') ->> 'approval' as approval;
reset role;
select p.n, i.status, e.status as biometric, e.identity_id = (select id from ppl where n = p.n - 30) as shares_identity
  from ppl p join refuge.individual i on i.id = p.id left join refuge.biometric_enrolment e on e.individual_id = p.id
 where p.n between 35 and 38 order by p.n;
select count(*) as current_memberships from refuge.group_membership where individual_id = (select id from ppl where n = 38) and valid_to is null;
select decision, approval, status from refuge.dedup_case order by decided_at nulls last, decision;
select count(*) as cleared_pairs from refuge.dedup_cleared_pair;
-- a cleared pair is never raised again: 35 against 5 is no longer a candidate, 35 against 15 would be
select count(*) filter (where candidate_id = (select id from ppl where n = 5)) as pair_5_35_raised,
       count(*) filter (where candidate_id = (select id from ppl where n = 15)) as pair_15_35_compared
  from refuge.score_candidates((select fingers from refuge.biometric_capture c join ppl p on p.id = c.individual_id where p.n = 35),
                               '{}', array[(select id from ppl where n = 5), (select id from ppl where n = 15)],
                               (select id from ppl where n = 35), 100);
select count(*) as fraud_cases from refuge.fraud_case;

-- 1:1 verification: logged with who, where, when
set role id_bio_ken;
select r ->> 'match' as match, (r ->> 'score')::numeric > (r ->> 'threshold')::numeric as above_threshold, r ->> 'modalities' as parts
  from ppl p, lateral refuge.verify(p.id, refuge.synthetic_templates(7, 2, 4)) r where p.n = 2;
select r ->> 'match' as match, r ->> 'modalities' as parts
  from ppl p, lateral refuge.verify(p.id, refuge.synthetic_templates(7, 3, 4)) r where p.n = 2;
select r ->> 'match' as match, r ->> 'reason' as reason from ppl p, lateral refuge.verify(p.id, refuge.synthetic_templates(7, 10, 4)) r where p.n = 40;
select refuge.verify(id, '{"fingers": []}') from ppl where n = 2;
-- out of scope (UGA)
select pg_temp.err($q$select refuge.verify(id, refuge.synthetic_templates(7, 1, 4)) from ppl where n = 1$q$);
reset role;
-- a linked record verifies as the person it is linked to
select r ->> 'match' as match from ppl p, lateral refuge.verify(p.id, refuge.synthetic_templates(7, 7, 4)) r where p.n = 37;
select purpose, match, verified_by, modalities from refuge.biometric_verification order by verified_at, match desc;

-- 1:N identification without enrolment: a person without documents (person 6, in KEN)
set role id_bio_ken;
select jsonb_array_length(r -> 'candidates') as candidates, (r -> 'candidates' -> 0 ->> 'individual_id')::uuid = (select id from ppl where n = 6) as found,
       r -> 'candidates' -> 0 ->> 'modalities' as parts
  from refuge.identify(refuge.synthetic_templates(7, 6, 6), 'KAKUMA', 'no documents at the gate') r;
-- someone never enrolled: no candidate
select jsonb_array_length(r -> 'candidates') as candidates from refuge.identify(refuge.synthetic_templates(7, 999, 0), 'KAKUMA', 'check') r;
select pg_temp.err($q$select refuge.identify(refuge.synthetic_templates(7, 6, 6), 'NAKIVALE', 'x')$q$);
select pg_temp.err($q$select refuge.identify(refuge.synthetic_templates(7, 6, 6), 'KAKUMA', '')$q$);
select pg_temp.err($q$select refuge.identify(refuge.synthetic_templates(7, 6, 6), 'KAKUMA', 'x', 0)$q$);
select purpose, cardinality(candidates) as candidates, searched_by from refuge.biometric_identification
 where purpose not like 'enrolment of %' order by searched_at;
reset role;
-- every enrolment's search is logged too
select count(*) = (select count(*) from refuge.biometric_capture) as each_enrolment_logged
  from refuge.biometric_identification where purpose like 'enrolment of %';
set role id_bio_ken;
reset role;
set role id_reg_ken;
select pg_temp.err($q$select refuge.identify(refuge.synthetic_templates(7, 6, 6), 'KAKUMA', 'x')$q$);
reset role;

-- the vault: images are sealed with the key of a superuser-only setting
set role id_bio_ken;
set refuge.vault_key_file = '/tmp/x';
reset role;
select current_setting('data_directory') || '/refuge_vault_test.key' as keypath \gset
do $$
begin
    execute format('copy (select encode(%L::bytea, %L)) to %L',
                   decode('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex'), 'hex',
                   current_setting('data_directory') || '/refuge_vault_test.key');
end $$;
select set_config('refuge.vault_key_file', :'keypath', false) is not null as key_file_set;
-- COPY leaves the file readable by others: refused
do $$ begin perform refuge.vault_key_id(); exception when others then raise notice '%', sqlstate; end $$;
\setenv REFUGE_TEST_KEY :keypath
\! chmod 600 "$REFUGE_TEST_KEY"
select refuge.vault_key_id();
select r ->> 'decision' as decision
  from ppl p, lateral refuge.enrol_biometrics(p.id, jsonb_set(refuge.synthetic_templates(7, 33), '{images}',
       '[{"part": "face", "media_type": "image/jpeg", "data": "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4UG1RV19iZ2hnPk1xeXBkeFxlZ2P/2wBDARESEhgVGC8aGi9jQjhCY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2P/wAARCAAQABADASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwDn7ex6cVp29j04rSt7HpxWnb2PTiqq4sMvx22p/9k="},
         {"part": "iris_right", "media_type": "image/png", "data": "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAABlklEQVR42g3LQQEAIQgAQRsQwQhEIIIR/OyfCEYwAhGIYAQjGIEKd/Of1hrS6A1tWGM0ZsMbq7Eb0cjGadzGa1SjNUGELqhgwhCm4MISthBCCke4whNK/tCRTu9oxzqjMzveWZ3diU52Tud2Xqf6HxRRuqKKKUOZiitL2UooqRzlKk8p/YMhRjfUMGMY03BjGdsII41jXOMZZX8YyKAPdGCDMZgDH6zBHsQgB2dwB29Q4w8TmfSJTmwyJnPikzXZk5jk5Ezu5E1q/sERpzvqmDOc6biznO2Ek85xrvOc8j8sZNEXurDFWMyFL9ZiL2KRi7O4i7eo9YeNbPpGN7YZm7nxzdrsTWxyczZ38za1/xBI0AMNLBjBDDxYwQ4iyOAEN3hBxR8SSXqiiSUjmYknK9lJJJmc5CYvqfzDQQ79oAc7jMM8+GEd9iEOeTiHe3iHOn+4yKVf9GKXcZkXv6zLvsQlL+dyL+9S9w8PefSHPuwxHvPhj/XYj3jk4zzu4z3q/aGQohdaWDGKWXixil1EkcUpbvGKKj75wFIwxJBy3wAAAABJRU5ErkJggg=="}]')) r where p.n = 33;
select part, media_type, key_id, length(sealed) as sealed_bytes, position('\xffd8ffe0'::bytea in sealed) = 0 as no_plaintext
  from refuge.biometric_vault order by part;
select id as face_id from refuge.biometric_vault where part = 'face' \gset
select id as iris_id from refuge.biometric_vault where part = 'iris_right' \gset
set role id_bio_ken;
select count(*) from refuge.biometric_vault;
select refuge.vault_image(:'face_id', 'review');
reset role;
set role id_hq;
select refuge.vault_image(:'face_id', '');
select md5(refuge.vault_image(:'face_id', 'adjudication of case X')) = md5(decode('/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4UG1RV19iZ2hnPk1xeXBkeFxlZ2P/2wBDARESEhgVGC8aGi9jQjhCY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2P/wAARCAAQABADASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwDn7ex6cVp29j04rSt7HpxWnb2PTiqq4sMvx22p/9k=', 'base64')) as face_opens;
select count(*) as vault_rows_readable from refuge.biometric_vault;
select part, bytes from refuge.vault_contents((select id from ppl where n = 33)) order by part;
reset role;
select purpose, accessed_by from refuge.vault_access;
-- a tampered value, or one moved to another row, does not open
update refuge.biometric_vault set sealed = set_byte(sealed, 45, get_byte(sealed, 45) # 1) where part = 'iris_right';
set role id_hq;
select refuge.vault_image(:'iris_id', 'check');
reset role;
update refuge.biometric_vault set sealed = (select sealed from refuge.biometric_vault where part = 'face') where part = 'iris_right';
set role id_hq;
select refuge.vault_image(:'iris_id', 'check');
reset role;
-- the access log is append-only
delete from refuge.vault_access;
-- another key (a rotation not carried out): refused by name, not as corruption
do $$
begin
    execute format('copy (select repeat(%L, 32)) to %L', 'ab', current_setting('data_directory') || '/refuge_vault_test.key');
end $$;
\! chmod 600 "$REFUGE_TEST_KEY"
set role id_hq;
select refuge.vault_image(:'face_id', 'after rotation');
reset role;
reset refuge.vault_key_file;
\! rm -f "$REFUGE_TEST_KEY"

-- the audit trail records templates and images by size and digest only
select table_name, count(*) from refuge.audit_log
 where table_name in ('biometric_finger', 'biometric_iris', 'biometric_capture', 'biometric_vault') group by 1 order by 1;
select count(*) as leaked from refuge.audit_log
 where table_name in ('biometric_finger', 'biometric_iris', 'biometric_capture', 'biometric_vault')
   and (new_data::text like '%pos=%' or new_data::text like '%8x128x2:%' or new_data::text like '%RFV1%'
        or new_data ->> 'template' not like 'redacted % bytes sha256:%');
select count(*) as decisions_audited from refuge.audit_log where table_name = 'dedup_case' and action = 'U';

-- the policy settings are superuser-only and checked
set role id_hq;
set refuge.target_fpir = 0.5;
reset role;
set refuge.block_fpir = 0.01;
select refuge.dedup_settings();
reset refuge.block_fpir;
set refuge.dedup_fingers = '1,12';
select refuge.dedup_settings();
reset refuge.dedup_fingers;
select target_fpir, block_fpir, verify_fmr, min_age, search_fingers from refuge.dedup_settings();

-- the gallery indexes agree with their tables
select refuge.iris_index_verify('refuge.biometric_iris_search') > 0 as iris_index_ok;
select refuge.fingerprint_index_verify('refuge.biometric_finger_search_2') > 0 as finger_index_ok;
drop table ppl, cases;
drop role id_bio_ken, id_reg_ken, id_hq, id_hq2, id_sup_ken, id_sup_uga;

-- leave the database as found for the next suite
set client_min_messages = warning;
-- (TRUNCATE is refused on refuge's tables: the extension is installed anew)
\i test/lib/reinstall.sql
