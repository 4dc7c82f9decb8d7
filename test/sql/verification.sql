-- Appointments and verification exercises: slots and booking (capacity,
-- one booking per household and purpose), reminders by NOTIFY with ids
-- only, no-shows acted on (a case alert); an exercise expects the active
-- population, books households, confirms presence by 1:1 biometrics or a
-- supervisor's recorded fallback, reports coverage per site and day, and
-- when closed makes people absent from N exercises in a row INACTIVE, who
-- come back only through a supervised status change.
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
select refuge.create_site('KEN', 'KAKUMA', 'Kakuma', 'CAMP', 34.85, 3.72) is not null as kakuma;
select refuge.create_site('KEN', 'KALOBEYEI', 'Kalobeyei', 'CAMP', 34.78, 3.78) is not null as kalobeyei;
drop role if exists vx_reg, vx_sup, vx_rsd, vx_desk;
create role vx_reg;  grant refuge_registration to vx_reg;
create role vx_sup;  grant refuge_supervisor, refuge_registration to vx_sup;
create role vx_rsd;  grant refuge_rsd to vx_rsd;
create role vx_desk; grant refuge_assistance to vx_desk;
select count(*) as assigned from (select refuge.assign_staff(r, 'KEN') from unnest(array['vx_reg', 'vx_sup', 'vx_rsd', 'vx_desk']) r) x;

-- four families of refugees in Kakuma (person k of family f is synthetic person f * 10 + k), one in Kalobeyei
create table fam (f int primary key, gid uuid, pa uuid, child uuid);
grant select on fam to public;
insert into fam
select f, (r ->> 'group_id')::uuid, (r -> 'members' -> 0 ->> 'individual_id')::uuid, (r -> 'members' -> 1 ->> 'individual_id')::uuid
  from (select f, refuge.register_group(jsonb_build_object('operation', 'KEN', 'site', case when f = 5 then 'KALOBEYEI' else 'KAKUMA' end,
          'registration_level', 'BASIC', 'population_type', 'REF',
          'members', jsonb_build_array(
              jsonb_build_object('relationship', 'PA', 'given_name', 'Head' || f, 'sex', 'F', 'date_of_birth', '1980-01-01'),
              jsonb_build_object('relationship', 'DAU', 'given_name', 'Girl' || f, 'sex', 'F', 'date_of_birth', '2023-01-01')))) r
          from generate_series(1, 5) f) x;
select f, refuge.enrol_biometrics(pa, refuge.synthetic_templates(31, f * 10)) ->> 'decision' as head from fam order by f;

-- 1. appointments: slots, capacity, booking, reminders, cancellation
set role vx_reg;
select pg_temp.err($q$select refuge.create_appointment_slots('KEN', 'KAKUMA', 'PICNIC', current_date + 1, '08:00', '12:00', 30, 5)$q$);
select pg_temp.err($q$select refuge.create_appointment_slots('KEN', 'KAKUMA', 'RSD_INTERVIEW', current_date - 1, '08:00', '12:00', 30, 5)$q$);
select pg_temp.err($q$select refuge.create_appointment_slots('KEN', 'KAKUMA', 'RSD_INTERVIEW', current_date + 1, '12:00', '08:00', 30, 5)$q$);
select pg_temp.err($q$select refuge.create_appointment_slots('KEN', 'KAKUMA', 'RSD_INTERVIEW', current_date + 1, '08:00', '12:00', 1, 5)$q$);
select refuge.create_appointment_slots('KEN', 'KAKUMA', 'DOCUMENT_COLLECTION', current_date + 1, '08:00', '10:00', 60, 1) as slots;
select id as slot from refuge.appointment_slot where purpose = 'DOCUMENT_COLLECTION' order by starts_at limit 1 \gset
select refuge.book_appointment(:'slot', gid) ->> 'purpose' as booked from fam where f = 1;
select pg_temp.err(format($q$select refuge.book_appointment(%L, %L)$q$, :'slot', (select gid from fam where f = 2))) as full_slot;
select pg_temp.err(format($q$select refuge.book_appointment(%L, %L)$q$,
    (select id from refuge.appointment_slot where purpose = 'DOCUMENT_COLLECTION' order by starts_at offset 1 limit 1),
    (select gid from fam where f = 1))) as booked_twice;
select pg_temp.err(format($q$select refuge.book_appointment(%L, %L, %L)$q$, :'slot', (select gid from fam where f = 2),
    (select pa from fam where f = 3))) as not_a_member;
select refuge.cancel_appointment(a.id, 'family asked for another day') is not null as cancelled
  from refuge.appointment a where a.group_id = (select gid from fam where f = 1);
select booked from refuge.appointment_slot where id = :'slot';
select refuge.book_appointment(:'slot', gid) ->> 'purpose' as booked_again from fam where f = 2;
reset role;
-- reminders (NOTIFY refuge_appointment_reminder with the appointment id only), once each
set role vx_sup;
select refuge.send_appointment_reminders(1) as reminded, refuge.send_appointment_reminders(1) as not_twice;
reset role;
select count(*) filter (where reminded_at is not null) as reminded_rows from refuge.appointment;

-- a no-show at an RSD interview raises an alert on the case
set role vx_rsd;
select (refuge.open_case('RSD', pa) ->> 'case_id') as rsd from fam where f = 3 \gset
reset role;
insert into refuge.appointment_slot (operation_id, site_id, purpose, day, starts_at, ends_at, capacity, booked)
select o.id, s.id, 'RSD_INTERVIEW', current_date - 1, '08:00', '09:00', 2, 1
  from refuge.operation o join refuge.site s on s.operation_id = o.id and s.code = 'KAKUMA';
insert into refuge.appointment (slot_id, operation_id, site_id, purpose, group_id, individual_id, case_id)
select sl.id, sl.operation_id, sl.site_id, 'RSD_INTERVIEW', f.gid, f.pa, :'rsd'
  from refuge.appointment_slot sl, fam f where sl.purpose = 'RSD_INTERVIEW' and f.f = 3;
set role vx_sup;
select refuge.record_no_shows() as no_shows;
reset role;
-- an interview booked on a case must be for the case's household
set role vx_rsd;
select refuge.create_appointment_slots('KEN', 'KAKUMA', 'RSD_INTERVIEW', current_date + 2, '08:00', '09:00', 60, 5) as rsd_slots;
select capacity, booked, free from refuge.appointment_slots('KEN', 'KAKUMA', 'RSD_INTERVIEW', current_date + 2, current_date + 2);
select pg_temp.err($q$select * from refuge.appointment_slots('KEN', 'KAKUMA', 'RSD_INTERVIEW', current_date, current_date + 400)$q$) as long_range;
select pg_temp.err(format($q$select refuge.book_appointment(%L, %L, null, %L)$q$,
    (select slot_id from refuge.appointment_slots('KEN', 'KAKUMA', 'RSD_INTERVIEW', current_date + 2, current_date + 2)),
    (select gid from fam where f = 2), :'rsd')) as another_familys_case;
reset role;
select kind, message like 'no-show at the rsd interview appointment%' as message from refuge.case_alert where case_id = :'rsd';

-- 2. a verification exercise of the refugees in Kakuma
set role vx_reg;
select pg_temp.err($q$select refuge.create_verification_exercise('KEN', 'V1', 'x', '{KAKUMA}', '{REF}', current_date, current_date)$q$) as clerk;
reset role;
set role vx_sup;
select pg_temp.err($q$select refuge.create_verification_exercise('KEN', 'V1', 'x', '{NOWHERE}', '{REF}', current_date, current_date)$q$) as bad_site;
select pg_temp.err($q$select refuge.create_verification_exercise('KEN', 'V1', 'x', '{KAKUMA}', '{XXX}', current_date, current_date)$q$) as bad_type;
select pg_temp.err($q$select refuge.create_verification_exercise('KEN', 'V1', 'x', '{KAKUMA}', '{REF}', current_date, current_date - 1)$q$) as bad_dates;
select r ->> 'people' as people, r ->> 'households' as households
  from refuge.create_verification_exercise('KEN', 'V1', 'Kakuma verification 2026', '{KAKUMA}', '{REF}',
                                           current_date, current_date + 30, 2) r;
select id as ex from refuge.verification_exercise where code = 'V1' \gset
select pg_temp.err($q$select refuge.create_verification_exercise('KEN', 'V1', 'again', '{KAKUMA}', '{REF}', current_date, current_date)$q$) as same_code;
select refuge.create_appointment_slots('KEN', 'KAKUMA', 'VERIFICATION', current_date + 1, '08:00', '09:00', 30, 1, :'ex') as exercise_slots;
select refuge.schedule_verification(:'ex', 'KAKUMA') as households_booked;
select count(*) filter (where appointment_id is not null) as with_appointment, count(*) as expected from refuge.verification_subject;
reset role;

-- check-in at the desk: the head of family 1 verified, an impostor not, a child needs the fallback
set role vx_reg;
select r ->> 'decision' as decision, r -> 'verification' ->> 'match' as match
  from fam, lateral refuge.check_in(:'ex', pa, refuge.synthetic_templates(31, 10, 7), 'DESK-1') r where f = 1;
select r ->> 'decision' as again from fam, lateral refuge.check_in(:'ex', pa, refuge.synthetic_templates(31, 10, 8), 'DESK-2') r where f = 1;
select r ->> 'decision' as impostor from fam, lateral refuge.check_in(:'ex', pa, refuge.synthetic_templates(31, 99, 7), 'DESK-2') r where f = 2;
select r ->> 'decision' as child, r ->> 'reason' as reason from fam, lateral refuge.check_in(:'ex', child, refuge.synthetic_templates(31, 11, 7)) r where f = 1;
select pg_temp.err(format($q$select refuge.check_in(%L, %L, refuge.synthetic_templates(31, 50, 7))$q$, :'ex', (select pa from fam where f = 5))) as other_site;
select pg_temp.err(format($q$select refuge.check_in(%L, %L, null)$q$, :'ex', (select pa from fam where f = 2))) as no_templates;
select pg_temp.err(format($q$select refuge.check_in_fallback(%L, %L, 'UNDER_BIOMETRIC_AGE')$q$, :'ex', (select child from fam where f = 1))) as clerk_fallback;
reset role;
set role vx_sup;
select pg_temp.err(format($q$select refuge.check_in_fallback(%L, %L, 'LOOKS_FAMILIAR')$q$, :'ex', (select child from fam where f = 1))) as bad_reason;
select r ->> 'decision' as decision, r ->> 'method' as method, r ->> 'decided_by' as decided_by
  from fam, lateral refuge.check_in_fallback(:'ex', child, 'UNDER_BIOMETRIC_AGE', 'DESK-1') r where f = 1;
select r ->> 'decision' as family_2 from fam, lateral refuge.check_in(:'ex', pa, refuge.synthetic_templates(31, 20, 7)) r where f = 2;
select site, households_expected, people_expected, seen_that_day, biometric, fallback, people_seen, households_seen, coverage
  from refuge.verification_coverage(:'ex') where day = current_date;
select count(*) as verification_rows from refuge.biometric_verification where purpose = 'verification_exercise';
reset role;
select a.status, count(*) from refuge.appointment a where a.purpose = 'VERIFICATION' group by 1 order by 1;

-- 3. absence: an exercise is closed after its last day (nobody is absent from one still running);
-- closing marks absentees; a second missed exercise makes them INACTIVE
set role vx_sup;
select pg_temp.err(format($q$select refuge.close_verification_exercise(%L)$q$, :'ex')) as before_its_end;
reset role;
update refuge.verification_exercise set ends_on = current_date where code = 'V1';  -- (the month has passed)
set role vx_sup;
select r ->> 'expected' as expected, r ->> 'absent' as absent, r ->> 'inactivated' as inactivated
  from refuge.close_verification_exercise(:'ex') r;
select pg_temp.err(format($q$select refuge.close_verification_exercise(%L)$q$, :'ex')) as closed_twice;
select pg_temp.err(format($q$select refuge.check_in(%L, %L, refuge.synthetic_templates(31, 30, 7))$q$, :'ex', (select pa from fam where f = 3))) as after_close;
select refuge.create_verification_exercise('KEN', 'V2', 'Kakuma verification 2027', '{KAKUMA}', '{REF}', current_date, current_date, 2) ->> 'people' as people;
select id as ex2 from refuge.verification_exercise where code = 'V2' \gset
select refuge.check_in(:'ex2', pa, refuge.synthetic_templates(31, 30, 8)) ->> 'decision' as family_3_comes from fam where f = 3;
select r ->> 'absent' as absent, r ->> 'inactivated' as inactivated from refuge.close_verification_exercise(:'ex2') r;
reset role;
select f.f, i.given_name, i.status, h.source, h.reason like 'absent from 2 verification exercises in a row%' as reason
  from fam f join refuge.individual i on i.id in (f.pa, f.child)
  join refuge.status_history h on h.individual_id = i.id and h.valid_to is null
 where f.f <= 4 order by f.f, i.given_name;

-- 4. reactivation is a supervised status change, never a clerk's edit
set role vx_reg;
select pg_temp.err(format($q$select refuge.update_individual(%L, '{"status": "ACTIVE"}')$q$, (select pa from fam where f = 4))) as clerk_reactivates;
select refuge.request_status_change(pa, 'ACTIVE', reason => 'came to the office with her card, verified') ->> 'status' as requested from fam where f = 4;
reset role;
set role vx_sup;
select refuge.decide_status_change((select id from refuge.status_change where status = 'REQUESTED'), true) ->> 'decision' as decision;
reset role;
select i.status, h.source, h.approved_by from refuge.individual i
  join refuge.status_history h on h.individual_id = i.id and h.valid_to is null where i.id = (select pa from fam where f = 4);

-- staff of other roles see neither exercises nor appointments
set role vx_desk;
select pg_temp.err('select count(*) from refuge.verification_subject') as desk_subjects;
select pg_temp.err(format($q$select refuge.check_in(%L, %L, refuge.synthetic_templates(31, 30, 7))$q$, :'ex2', (select pa from fam where f = 3))) as desk_check_in;
reset role;

-- leave the database as found for the next suite
drop table fam;
\i test/lib/reinstall.sql
drop role vx_reg, vx_sup, vx_rsd, vx_desk;
