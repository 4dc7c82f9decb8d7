-- Appointments and verification exercises (tables: sql/77_verification.sql).

-- Slots of a site for a day: from starts to ends, slot_minutes each,
-- capacity appointments per slot.  Returns the number of slots made.
create function refuge.create_appointment_slots(operation text, site text, purpose text, day date, starts time,
                                                ends time, slot_minutes integer, capacity integer,
                                                exercise_id uuid default null)
    returns integer
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    op uuid;
    st uuid;
    n integer;
begin
    perform refuge.authorize_any(array['refuge_registration', 'refuge_supervisor', 'refuge_rsd',
                                       'refuge_resettlement']::name[], 'create_appointment_slots');
    select o.id into op from refuge.operation o where o.code = create_appointment_slots.operation and o.active;
    perform refuge.require_visible(op is not null and refuge.in_scope(op), 'operation');
    select s.id into st from refuge.site s where s.operation_id = op and s.code = create_appointment_slots.site and s.active;
    perform refuge.require_visible(st is not null and refuge.in_scope(op, st), 'site');
    if purpose is null or purpose not in ('VERIFICATION', 'RSD_INTERVIEW', 'RESETTLEMENT_INTERVIEW', 'DOCUMENT_COLLECTION',
                                          'REGISTRATION', 'OTHER') then
        perform refuge.raise_field('22023', 'purpose', format('"%s" is not VERIFICATION, RSD_INTERVIEW, RESETTLEMENT_INTERVIEW, DOCUMENT_COLLECTION, REGISTRATION or OTHER',
                                                             coalesce(refuge.excerpt(purpose), 'null')));
    end if;
    if day is null or day < current_date or day > current_date + 366 then
        perform refuge.raise_field('22008', 'day', 'is required, from today to a year ahead');
    end if;
    if starts is null or ends is null or ends <= starts then
        perform refuge.raise_field('22008', 'ends', 'starts and ends are required, ends after starts');
    end if;
    if slot_minutes is null or slot_minutes < 5 or slot_minutes > 480 then
        perform refuge.raise_field('22023', 'slot_minutes', 'is 5 to 480 minutes');
    end if;
    if capacity is null or capacity < 1 or capacity > 1000 then
        perform refuge.raise_field('22023', 'capacity', 'is 1 to 1000 appointments per slot');
    end if;
    if exercise_id is not null and not exists (select 1 from refuge.verification_exercise e
            where e.id = create_appointment_slots.exercise_id and e.operation_id = op and st = any (e.site_ids)
              and e.status = 'OPEN' and create_appointment_slots.day between e.starts_on and e.ends_on) then
        perform refuge.raise_field('P0002', 'exercise_id', 'no open exercise of this operation and site on that day');
    end if;
    insert into refuge.appointment_slot (operation_id, site_id, purpose, exercise_id, day, starts_at, ends_at, capacity)
    select op, st, create_appointment_slots.purpose, create_appointment_slots.exercise_id, create_appointment_slots.day,
           t::time, (t + make_interval(mins => slot_minutes))::time, create_appointment_slots.capacity
      from generate_series(create_appointment_slots.day + starts,
                           create_appointment_slots.day + ends - make_interval(mins => slot_minutes),
                           make_interval(mins => slot_minutes)) t;
    get diagnostics n = row_count;
    return n;
end
$$;
comment on function refuge.create_appointment_slots(text, text, text, date, time, time, integer, integer, uuid) is
    'make the appointment slots of a site and day for a purpose (slot length, capacity per slot; optionally for a verification exercise)';
grant execute on function refuge.create_appointment_slots(text, text, text, date, time, time, integer, integer, uuid)
    to refuge_registration, refuge_supervisor, refuge_rsd, refuge_resettlement;

-- The slots of a site for a purpose between two days, with the room left
-- (what case officers, who do not read the slot table, book from).
create function refuge.appointment_slots(operation text, site text, purpose text, from_day date, to_day date)
    returns table (slot_id uuid, day date, starts_at time, ends_at time, capacity integer, booked integer, free integer)
    language plpgsql stable security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    perform refuge.authorize_any(array['refuge_registration', 'refuge_supervisor', 'refuge_rsd',
                                       'refuge_resettlement']::name[], 'appointment_slots');
    if from_day is null or to_day is null or to_day < from_day or to_day > from_day + 92 then
        perform refuge.raise_field('22008', 'to_day', 'from_day and to_day are required, at most 92 days apart');
    end if;
    return query
    select s.id, s.day, s.starts_at, s.ends_at, s.capacity, s.booked, s.capacity - s.booked
      from refuge.appointment_slot s
      join refuge.operation o on o.id = s.operation_id and o.code = appointment_slots.operation
      join refuge.site st on st.id = s.site_id and st.code = appointment_slots.site
     where s.purpose = appointment_slots.purpose and s.day between from_day and to_day
       and refuge.in_scope(s.operation_id, s.site_id)
     order by s.day, s.starts_at;
end
$$;
comment on function refuge.appointment_slots(text, text, text, date, date) is
    'the appointment slots of a site for a purpose between two days (at most 92), with the room left';
grant execute on function refuge.appointment_slots(text, text, text, date, date)
    to refuge_registration, refuge_supervisor, refuge_rsd, refuge_resettlement;

-- Book a household (and a person, a case) into a slot with room left.
create function refuge.book_appointment(slot_id uuid, group_id uuid, individual_id uuid default null,
                                        case_id uuid default null)
    returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    s refuge.appointment_slot;
    g refuge.registration_group;
    new_id uuid;
begin
    perform refuge.authorize_any(array['refuge_registration', 'refuge_supervisor', 'refuge_rsd',
                                       'refuge_resettlement']::name[], 'book_appointment');
    select * into s from refuge.appointment_slot x where x.id = book_appointment.slot_id for update;
    perform refuge.require_visible(s.id is not null and refuge.in_scope(s.operation_id, s.site_id), 'slot_id');
    select * into g from refuge.registration_group x where x.id = book_appointment.group_id;
    perform refuge.require_visible(g.id is not null and g.operation_id = s.operation_id, 'group_id');
    if g.status <> 'ACTIVE' then
        perform refuge.raise_field('55000', 'group_id', format('family %s is %s', g.number, lower(g.status)));
    end if;
    if individual_id is not null and not exists (select 1 from refuge.group_membership m
            where m.group_id = g.id and m.individual_id = book_appointment.individual_id and m.valid_to is null) then
        perform refuge.raise_field('22023', 'individual_id', format('is not a member of family %s', g.number));
    end if;
    if case_id is not null and not exists (select 1 from refuge.process_case c where c.id = book_appointment.case_id
            and c.operation_id = s.operation_id and not c.closed
            and refuge.may_work_case(c.module, c.operation_id, c.site_id)) then
        perform refuge.raise_field('P0002', 'case_id', 'no open case of yours in this operation');
    end if;
    -- the case is this household's (and the person, if named, is of the case)
    if case_id is not null and not exists (
            select 1 from refuge.case_member cm join refuge.group_membership m on m.individual_id = cm.individual_id
             where cm.case_id = book_appointment.case_id and m.group_id = g.id and m.valid_to is null
               and (book_appointment.individual_id is null or cm.individual_id = book_appointment.individual_id)) then
        perform refuge.raise_field('22023', 'case_id', format('the case is not one of family %s%s', g.number,
            case when book_appointment.individual_id is not null then ' and this person' else '' end));
    end if;
    if s.day + s.starts_at < now()::timestamp then
        perform refuge.raise_field('55000', 'slot_id', 'the slot has begun or passed');
    end if;
    if s.booked >= s.capacity then
        perform refuge.raise_field('53400', 'slot_id', format('the slot is full (%s appointments)', s.capacity));
    end if;
    insert into refuge.appointment (slot_id, operation_id, site_id, purpose, group_id, individual_id, case_id)
    values (s.id, s.operation_id, s.site_id, s.purpose, g.id, book_appointment.individual_id, book_appointment.case_id)
    returning id into new_id;
    update refuge.appointment_slot x set booked = x.booked + 1 where x.id = s.id;
    if s.exercise_id is not null then
        update refuge.verification_subject v set appointment_id = new_id
         where v.exercise_id = s.exercise_id and v.group_id = g.id;
    end if;
    return jsonb_build_object('appointment_id', new_id, 'day', s.day, 'starts_at', s.starts_at, 'purpose', s.purpose);
exception when unique_violation then
    perform refuge.raise_field('23505', 'group_id', format('family %s already has a %s appointment booked', g.number, lower(s.purpose)));
end
$$;
comment on function refuge.book_appointment(uuid, uuid, uuid, uuid) is
    'book a household (optionally a person and a case) into an appointment slot with room left';
grant execute on function refuge.book_appointment(uuid, uuid, uuid, uuid)
    to refuge_registration, refuge_supervisor, refuge_rsd, refuge_resettlement;

create function refuge.cancel_appointment(appointment_id uuid, reason text) returns void
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    a refuge.appointment;
begin
    perform refuge.authorize_any(array['refuge_registration', 'refuge_supervisor', 'refuge_rsd',
                                       'refuge_resettlement']::name[], 'cancel_appointment');
    perform refuge.require_text(reason, 'reason');
    select * into a from refuge.appointment x where x.id = cancel_appointment.appointment_id for update;
    perform refuge.require_visible(a.id is not null and refuge.in_scope(a.operation_id, a.site_id), 'appointment_id');
    if a.status <> 'BOOKED' then
        perform refuge.raise_field('55000', 'appointment_id', format('the appointment is %s', lower(a.status)));
    end if;
    update refuge.appointment x set status = 'CANCELLED', status_reason = left(btrim(reason), 500) where x.id = a.id;
    update refuge.appointment_slot s set booked = s.booked - 1 where s.id = a.slot_id;
end
$$;
comment on function refuge.cancel_appointment(uuid, text) is 'cancel a booked appointment (its place in the slot is freed)';
grant execute on function refuge.cancel_appointment(uuid, text)
    to refuge_registration, refuge_supervisor, refuge_rsd, refuge_resettlement;

-- Reminders: the appointments of the coming days not yet reminded are
-- marked and announced on channel refuge_appointment_reminder with their
-- ids only (an SMS gateway listening reads the rest under its own rights).
create function refuge.send_appointment_reminders(days_ahead integer default 1) returns integer
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    n integer := 0;
    a record;
begin
    perform refuge.authorize_any(array['refuge_supervisor', 'refuge_dba']::name[], 'send_appointment_reminders');
    if days_ahead is null or days_ahead < 0 or days_ahead > 14 then
        perform refuge.raise_field('22023', 'days_ahead', 'is 0 to 14');
    end if;
    for a in update refuge.appointment x set reminded_at = now()
               from refuge.appointment_slot s
              where s.id = x.slot_id and x.status = 'BOOKED' and x.reminded_at is null
                and s.day between current_date and current_date + days_ahead
                and ((refuge.caller_is_superuser() or refuge.caller_has('refuge_dba')) or refuge.in_scope(x.operation_id, x.site_id))
          returning x.id
    loop
        perform pg_notify('refuge_appointment_reminder', a.id::text);
        n := n + 1;
    end loop;
    return n;
end
$$;
comment on function refuge.send_appointment_reminders(integer) is
    'mark the booked appointments of the coming days as reminded and NOTIFY refuge_appointment_reminder with each appointment id';
grant execute on function refuge.send_appointment_reminders(integer) to refuge_supervisor, refuge_dba;

-- Booked appointments whose slot has ended become NO_SHOW; the workflow
-- acts: an alert on the case of an interview, an absence for a
-- verification exercise (counted when the exercise closes).
create function refuge.record_no_shows() returns integer
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    n integer := 0;
    a record;
    c refuge.process_case;
begin
    perform refuge.authorize_any(array['refuge_supervisor', 'refuge_dba']::name[], 'record_no_shows');
    for a in update refuge.appointment x set status = 'NO_SHOW', status_reason = 'did not come'
               from refuge.appointment_slot s
              where s.id = x.slot_id and x.status = 'BOOKED' and s.day + s.ends_at < now()::timestamp
                and ((refuge.caller_is_superuser() or refuge.caller_has('refuge_dba')) or refuge.in_scope(x.operation_id, x.site_id))
          returning x.id, x.case_id, x.purpose, s.day
    loop
        n := n + 1;
        if a.case_id is not null then
            select * into c from refuge.process_case p where p.id = a.case_id;
            if found and not c.closed then
                perform refuge.raise_case_alert(c, 'NO_SHOW', format('no-show at the %s appointment of %s on case %s',
                                                lower(replace(a.purpose, '_', ' ')), a.day, c.number),
                                                coalesce(c.assigned_to, (select m.roles[1] from refuge.case_module m where m.code = c.module)));
            end if;
        end if;
    end loop;
    return n;
end
$$;
comment on function refuge.record_no_shows() is
    'booked appointments whose slot has ended become NO_SHOW; an interview''s case gets an alert (schedule with pg_cron)';
grant execute on function refuge.record_no_shows() to refuge_supervisor, refuge_dba;

-- Open a verification exercise: every active person of the population at
-- the sites is expected, with their household.
create function refuge.create_verification_exercise(operation text, code text, name text, sites text[],
                                                    population_types text[], starts_on date, ends_on date,
                                                    absence_limit integer default 2)
    returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    op uuid;
    sids uuid[];
    ex uuid;
    n bigint;
    households bigint;
begin
    perform refuge.authorize('refuge_supervisor', 'create_verification_exercise');
    select o.id into op from refuge.operation o where o.code = create_verification_exercise.operation and o.active;
    perform refuge.require_visible(op is not null and refuge.in_scope(op), 'operation');
    if code is null or code !~ '^[A-Z0-9_-]{1,30}$' then
        perform refuge.raise_field('22023', 'code', 'is 1 to 30 capital letters, digits, _ or -');
    end if;
    perform refuge.require_text(name, 'name');
    select array_agg(s.id order by s.code) into sids from refuge.site s
     where s.operation_id = op and s.code = any (create_verification_exercise.sites);
    if sids is null or cardinality(sids) <> (select count(distinct x) from unnest(create_verification_exercise.sites) x) then
        perform refuge.raise_field('23503', 'sites', 'every site must be a site of the operation');
    end if;
    if population_types is null or cardinality(population_types) = 0
       or exists (select 1 from unnest(population_types) t where not refuge.code_exists('population_type', t)) then
        perform refuge.raise_field('23503', 'population_types', 'population type codes are required');
    end if;
    if starts_on is null or ends_on is null or ends_on < starts_on or ends_on > starts_on + 366 then
        perform refuge.raise_field('22008', 'ends_on', 'starts_on and ends_on are required, at most a year apart');
    end if;
    if absence_limit is null or absence_limit not between 1 and 10 then
        perform refuge.raise_field('22023', 'absence_limit', 'is 1 to 10 exercises');
    end if;
    insert into refuge.verification_exercise (operation_id, code, name, site_ids, population_types, starts_on, ends_on,
                                              absence_limit)
    values (op, create_verification_exercise.code, left(btrim(name), 200), sids, population_types,
            create_verification_exercise.starts_on, create_verification_exercise.ends_on, absence_limit)
    returning id into ex;
    insert into refuge.verification_subject (exercise_id, individual_id, group_id, operation_id, site_id)
    select ex, i.id, m.group_id, i.operation_id, g.site_id
      from refuge.registration_group g
      join refuge.group_membership m on m.group_id = g.id and m.valid_to is null
      join refuge.individual i on i.id = m.individual_id
     where g.operation_id = op and g.site_id = any (sids) and g.status = 'ACTIVE'
       and i.status = 'ACTIVE' and i.population_type = any (population_types);
    get diagnostics n = row_count;
    select count(distinct v.group_id) into households from refuge.verification_subject v where v.exercise_id = ex;
    return jsonb_build_object('exercise_id', ex, 'people', n, 'households', households);
exception when unique_violation then
    perform refuge.raise_field('23505', 'code', format('operation %s already has an exercise %s', operation, code));
end
$$;
comment on function refuge.create_verification_exercise(text, text, text, text[], text[], date, date, integer) is
    'open a verification exercise: every active person of the population types at the sites is expected (absence_limit: missed exercises in a row before INACTIVE)';
grant execute on function refuge.create_verification_exercise(text, text, text, text[], text[], date, date, integer)
    to refuge_supervisor;

-- Book every expected household of an exercise at a site into the
-- exercise's slots of that site, in order of family number, as far as the
-- slots go.  Returns the households booked.
create function refuge.schedule_verification(exercise_id uuid, site text) returns integer
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    e refuge.verification_exercise;
    st uuid;
    n integer;
begin
    perform refuge.authorize('refuge_supervisor', 'schedule_verification');
    select * into e from refuge.verification_exercise x where x.id = schedule_verification.exercise_id for update;
    perform refuge.require_visible(e.id is not null and refuge.in_scope(e.operation_id), 'exercise_id');
    select s.id into st from refuge.site s where s.operation_id = e.operation_id and s.code = schedule_verification.site;
    perform refuge.require_visible(st is not null and st = any (e.site_ids), 'site');
    with need as (
        select g.id as group_id, row_number() over (order by g.number) as k
          from refuge.registration_group g
         where g.id in (select v.group_id from refuge.verification_subject v
                         where v.exercise_id = e.id and v.site_id = st and v.appointment_id is null)
           and not exists (select 1 from refuge.appointment a where a.group_id = g.id and a.purpose = 'VERIFICATION'
                                                             and a.status = 'BOOKED')),
    places as (
        select s.id as slot_id, row_number() over (order by s.day, s.starts_at, s.id, p) as k
          from refuge.appointment_slot s, generate_series(1, s.capacity - s.booked) p
         where s.exercise_id = e.id and s.site_id = st and s.day + s.starts_at >= now()::timestamp),
    booked as (
        insert into refuge.appointment (slot_id, operation_id, site_id, purpose, group_id)
        select p.slot_id, e.operation_id, st, 'VERIFICATION', n.group_id
          from need n join places p using (k)
        returning id, slot_id, group_id),
    counted as (
        update refuge.appointment_slot s set booked = s.booked + b.n
          from (select slot_id, count(*) as n from booked group by slot_id) b
         where s.id = b.slot_id
        returning 1)
    update refuge.verification_subject v set appointment_id = b.id
      from booked b
     where v.exercise_id = e.id and v.group_id = b.group_id;
    select count(distinct v.group_id) into n from refuge.verification_subject v
     where v.exercise_id = e.id and v.site_id = st and v.appointment_id is not null;
    return n;
end
$$;
comment on function refuge.schedule_verification(uuid, text) is
    'book the expected households of an exercise at a site into its slots, by family number, as far as the slots go';
grant execute on function refuge.schedule_verification(uuid, text) to refuge_supervisor;

-- The person expected at a running exercise, locked: one desk at a time per
-- person (check_in, check_in_fallback).
create function refuge.exercise_subject_for_update(p_exercise uuid, p_individual uuid)
    returns refuge.verification_subject
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    e refuge.verification_exercise;
    subj refuge.verification_subject;
begin
    select * into e from refuge.verification_exercise x where x.id = p_exercise;
    perform refuge.require_visible(e.id is not null and refuge.in_scope(e.operation_id), 'exercise_id');
    if e.status <> 'OPEN' or current_date not between e.starts_on and e.ends_on then
        perform refuge.raise_field('55000', 'exercise_id', format('exercise %s is not running today', e.code));
    end if;
    select * into subj from refuge.verification_subject x
     where x.exercise_id = e.id and x.individual_id = p_individual for update;
    if not found or not refuge.in_scope(subj.operation_id, subj.site_id) then
        perform refuge.raise_field('P0002', 'individual_id', format('not expected at exercise %s', e.code));
    end if;
    return subj;
end
$$;
comment on function refuge.exercise_subject_for_update(uuid, uuid) is
    'internal: the person expected at a running verification exercise, locked';

-- Record a person present (biometric or fallback) and their appointment attended.
create function refuge.mark_present(subj refuge.verification_subject, p_method text, p_verification uuid,
                                    p_reason text, p_desk text)
    returns void
    language sql volatile
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    update refuge.verification_subject x
       set seen_at = now(), method = p_method, verification_id = p_verification, fallback_reason = p_reason,
           decided_by = refuge.caller(), desk = left(p_desk, 40)
     where x.exercise_id = subj.exercise_id and x.individual_id = subj.individual_id;
    update refuge.appointment a set status = 'ATTENDED', attended_at = now()
     where a.id = subj.appointment_id and a.status in ('BOOKED', 'NO_SHOW');
end;
comment on function refuge.mark_present(refuge.verification_subject, text, uuid, text, text) is
    'internal: a person confirmed present at a verification exercise, and their appointment attended';

-- Confirm a person present: 1:1 biometric verification against their own
-- enrolment.  Answers verified, not_verified (the capture did not match;
-- nothing recorded as present), or needs_fallback (not enrolled).
create function refuge.check_in(exercise_id uuid, individual_id uuid, templates jsonb, desk text default null)
    returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    subj refuge.verification_subject;
    ind refuge.individual;
    p record;
    v refuge.biometric_verification;
begin
    perform refuge.authorize('refuge_registration', 'check_in');
    subj := refuge.exercise_subject_for_update(check_in.exercise_id, check_in.individual_id);
    if subj.seen_at is not null then
        return jsonb_build_object('decision', 'already_verified', 'seen_at', subj.seen_at, 'method', subj.method);
    end if;
    if templates is null then
        perform refuge.raise_field('22004', 'templates', 'is required: the person''s fingerprints or irises');
    end if;
    p := refuge.parse_biometrics(templates, false);
    select * into ind from refuge.individual i where i.id = subj.individual_id;
    v := refuge.verify_person(ind, p.fingers, p.irises, subj.site_id, 'verification_exercise', p.device);
    if v.identity_id is null then
        return jsonb_build_object('decision', 'needs_fallback', 'reason', 'not_enrolled');
    end if;
    if not v.match then
        return jsonb_build_object('decision', 'not_verified', 'verification', refuge.verification_json(v));
    end if;
    perform refuge.mark_present(subj, 'BIOMETRIC', v.id, null, desk);
    return jsonb_build_object('decision', 'verified', 'verification', refuge.verification_json(v));
end
$$;
comment on function refuge.check_in(uuid, uuid, jsonb, text) is
    'confirm a person present at a verification exercise by 1:1 biometric verification (verified, not_verified, needs_fallback)';
grant execute on function refuge.check_in(uuid, uuid, jsonb, text) to refuge_registration;

-- When biometrics fail or cannot be taken: a supervisor confirms the
-- person present, with the reason; recorded with who decided.
create function refuge.check_in_fallback(exercise_id uuid, individual_id uuid, reason text, desk text default null)
    returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    subj refuge.verification_subject;
    reasons constant text[] := array['UNDER_BIOMETRIC_AGE', 'NOT_ENROLLED', 'CAPTURE_FAILED', 'DISABILITY',
                                     'DEVICE_FAILURE', 'KNOWN_TO_STAFF_WITH_DOCUMENT'];
begin
    perform refuge.authorize('refuge_supervisor', 'check_in_fallback');
    if reason is null or not reason = any (reasons) then
        perform refuge.raise_field('22023', 'reason', format('"%s" is not one of %s', coalesce(refuge.excerpt(reason), 'null'),
                                                             array_to_string(reasons, ', ')));
    end if;
    subj := refuge.exercise_subject_for_update(check_in_fallback.exercise_id, check_in_fallback.individual_id);
    if subj.seen_at is not null then
        return jsonb_build_object('decision', 'already_verified', 'seen_at', subj.seen_at, 'method', subj.method);
    end if;
    perform refuge.mark_present(subj, 'FALLBACK', null, reason, desk);
    return jsonb_build_object('decision', 'verified', 'method', 'FALLBACK', 'reason', reason,
                              'decided_by', refuge.caller());
end
$$;
comment on function refuge.check_in_fallback(uuid, uuid, text, text) is
    'a supervisor confirms a person present without biometrics (UNDER_BIOMETRIC_AGE, NOT_ENROLLED, CAPTURE_FAILED, DISABILITY, DEVICE_FAILURE, KNOWN_TO_STAFF_WITH_DOCUMENT), recorded with who decided';
grant execute on function refuge.check_in_fallback(uuid, uuid, text, text) to refuge_supervisor;

-- Close an exercise: whoever was expected and not seen is absent; a person
-- absent from absence_limit exercises in a row (closed exercises that
-- expected them, this one included) becomes INACTIVE.  They come back
-- through refuge.request_status_change, approved by a supervisor.
create function refuge.close_verification_exercise(exercise_id uuid) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    e refuge.verification_exercise;
    ind refuge.individual;
    absent_n bigint;
    inactivated integer := 0;
begin
    perform refuge.authorize('refuge_supervisor', 'close_verification_exercise');
    select * into e from refuge.verification_exercise x where x.id = close_verification_exercise.exercise_id for update;
    perform refuge.require_visible(e.id is not null and refuge.in_scope(e.operation_id), 'exercise_id');
    if e.status <> 'OPEN' then
        perform refuge.raise_field('55000', 'exercise_id', format('exercise %s is already closed', e.code));
    end if;
    -- nobody is absent from an exercise that has not run its course
    if current_date < e.ends_on then
        perform refuge.raise_field('55000', 'exercise_id',
            format('exercise %s runs until %s: it is closed after its last day', e.code, to_char(e.ends_on, 'YYYY-MM-DD')));
    end if;
    update refuge.verification_subject v set absent = (v.seen_at is null) where v.exercise_id = e.id;
    select count(*) into absent_n from refuge.verification_subject v where v.exercise_id = e.id and v.absent;
    update refuge.verification_exercise x set status = 'CLOSED', closed_at = now(), closed_by = refuge.caller()
     where x.id = e.id;
    for ind in
        select i.* from refuge.verification_subject v join refuge.individual i on i.id = v.individual_id
         where v.exercise_id = e.id and v.absent and i.status = 'ACTIVE'
           and (select bool_and(w.absent) from (
                    select s.absent from refuge.verification_subject s
                      join refuge.verification_exercise x on x.id = s.exercise_id and x.status = 'CLOSED'
                     where s.individual_id = i.id
                     order by x.ends_on desc, x.closed_at desc limit e.absence_limit) w)
           and (select count(*) from refuge.verification_subject s
                  join refuge.verification_exercise x on x.id = s.exercise_id and x.status = 'CLOSED'
                 where s.individual_id = i.id) >= e.absence_limit
         order by i.id for update of i
    loop
        if refuge.set_individual_status(ind, 'INACTIVE', null,
               format('absent from %s verification exercises in a row (last: %s)', e.absence_limit, e.code),
               'VERIFICATION', e.id, null) then
            inactivated := inactivated + 1;
        end if;
    end loop;
    return jsonb_build_object('exercise_id', e.id, 'expected', (select count(*) from refuge.verification_subject v
                                                                 where v.exercise_id = e.id),
                              'absent', absent_n, 'inactivated', inactivated);
end
$$;
comment on function refuge.close_verification_exercise(uuid) is
    'close an exercise: those not seen are absent; absent from absence_limit exercises in a row makes a record INACTIVE (reactivation is a supervised status change)';
grant execute on function refuge.close_verification_exercise(uuid) to refuge_supervisor;

-- Coverage per site and day: households and people expected, seen that day
-- and so far, by biometric verification or fallback.
create function refuge.verification_coverage(exercise_id uuid)
    returns table (site text, day date, households_expected bigint, people_expected bigint, seen_that_day bigint,
                   biometric bigint, fallback bigint, people_seen bigint, households_seen bigint, coverage numeric)
    language plpgsql stable security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    e refuge.verification_exercise;
begin
    perform refuge.authorize_any(array['refuge_registration', 'refuge_supervisor']::name[], 'verification_coverage');
    select * into e from refuge.verification_exercise x where x.id = verification_coverage.exercise_id;
    perform refuge.require_visible(e.id is not null and refuge.in_scope(e.operation_id), 'exercise_id');
    return query
    with subj as (
        select v.*, v.seen_at::date as seen_day
          from refuge.verification_subject v where v.exercise_id = e.id and refuge.in_scope(v.operation_id, v.site_id)),
    days as (
        select s.site_id, d::date as day
          from (select distinct x.site_id from subj x) s,
               generate_series(e.starts_on, least(e.ends_on, current_date), interval '1 day') d),
    expected as (
        select x.site_id, count(distinct x.group_id) as households, count(*) as people from subj x group by x.site_id)
    select st.code, d.day, ex.households, ex.people,
           count(x.*) filter (where x.seen_day = d.day),
           count(x.*) filter (where x.seen_day = d.day and x.method = 'BIOMETRIC'),
           count(x.*) filter (where x.seen_day = d.day and x.method = 'FALLBACK'),
           count(x.*) filter (where x.seen_day <= d.day),
           count(distinct x.group_id) filter (where x.seen_day <= d.day),
           round(100.0 * count(x.*) filter (where x.seen_day <= d.day) / nullif(ex.people, 0), 1)
      from days d
      join refuge.site st on st.id = d.site_id
      join expected ex on ex.site_id = d.site_id
      left join subj x on x.site_id = d.site_id
     group by st.code, d.day, ex.households, ex.people
     order by st.code, d.day;
end
$$;
comment on function refuge.verification_coverage(uuid) is
    'coverage of a verification exercise per site and day: households and people expected, seen that day (biometric, fallback) and so far';
grant execute on function refuge.verification_coverage(uuid) to refuge_registration, refuge_supervisor;
