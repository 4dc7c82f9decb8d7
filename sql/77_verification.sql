-- Continuous registration: appointments (one mechanism for every module:
-- verification, RSD and resettlement interviews, document collection) and
-- verification exercises, in which every household of a population is
-- seen again, each person confirmed by 1:1 biometric verification or a
-- recorded fallback.  The functions are functions/66_verification.sql.

-- Slots per site and day; capacity is how many appointments a slot takes.
create table refuge.appointment_slot (
    id            uuid primary key default gen_random_uuid(),
    operation_id  uuid not null references refuge.operation,
    site_id       uuid not null,
    purpose       text not null check (purpose in ('VERIFICATION', 'RSD_INTERVIEW', 'RESETTLEMENT_INTERVIEW',
                                                   'DOCUMENT_COLLECTION', 'REGISTRATION', 'OTHER')),
    exercise_id   uuid,
    day           date not null,
    starts_at     time not null,
    ends_at       time not null,
    capacity      integer not null check (capacity between 1 and 1000),
    booked        integer not null default 0 check (booked >= 0),
    created_at    timestamptz not null default now(),
    created_by    name not null default current_user,
    updated_at    timestamptz not null default now(),
    updated_by    name not null default current_user,
    sync_owner    text not null default refuge.local_node(),
    foreign key (operation_id, site_id) references refuge.site (operation_id, id),
    check (ends_at > starts_at),
    check (booked <= capacity)
);
create index on refuge.appointment_slot (site_id, day, purpose);
create index on refuge.appointment_slot (exercise_id) where exercise_id is not null;
comment on table refuge.appointment_slot is 'appointment slots of a site and day for a purpose, each with a capacity';
alter table refuge.appointment_slot replica identity full;
create policy staff_read on refuge.appointment_slot for select to refuge_registration, refuge_supervisor
    using (operation_id = any ((select refuge.scope_operations())::uuid[])
           or site_id = any ((select refuge.scope_sites())::uuid[]));
grant select on refuge.appointment_slot to refuge_registration, refuge_supervisor;
select pg_catalog.pg_extension_config_dump('refuge.appointment_slot', '');

-- An appointment of a household (and, for an interview, a person and a
-- case).  A booked appointment whose slot has passed becomes NO_SHOW when
-- refuge.record_no_shows runs; the workflow acts on it (a case alert, an
-- absence from a verification exercise).
create table refuge.appointment (
    id             uuid primary key default gen_random_uuid(),
    slot_id        uuid not null references refuge.appointment_slot,
    operation_id   uuid not null references refuge.operation,
    site_id        uuid not null,
    purpose        text not null,
    group_id       uuid not null references refuge.registration_group,
    individual_id  uuid references refuge.individual,
    case_id        uuid references refuge.process_case,
    status         text not null default 'BOOKED' check (status in ('BOOKED', 'ATTENDED', 'NO_SHOW', 'CANCELLED')),
    reminded_at    timestamptz,
    attended_at    timestamptz,
    status_reason  text,
    booked_at      timestamptz not null default now(),
    booked_by      name not null default current_user,
    created_at     timestamptz not null default now(),
    created_by     name not null default current_user,
    updated_at     timestamptz not null default now(),
    updated_by     name not null default current_user,
    sync_owner     text not null default refuge.local_node(),
    foreign key (operation_id, site_id) references refuge.site (operation_id, id)
);
create index on refuge.appointment (slot_id);
create index on refuge.appointment (group_id);
create unique index appointment_one_booked on refuge.appointment (group_id, purpose) where status = 'BOOKED' and case_id is null;
create unique index appointment_one_booked_case on refuge.appointment (case_id, purpose) where status = 'BOOKED' and case_id is not null;
comment on table refuge.appointment is
    'appointments of households (and persons, cases) in slots: booked, attended, no-show or cancelled';
alter table refuge.appointment replica identity full;
create policy staff_read on refuge.appointment for select to refuge_registration, refuge_supervisor
    using (operation_id = any ((select refuge.scope_operations())::uuid[])
           or site_id = any ((select refuge.scope_sites())::uuid[]));
grant select on refuge.appointment to refuge_registration, refuge_supervisor;
select pg_catalog.pg_extension_config_dump('refuge.appointment', '');

-- A verification exercise: the households of a population at some sites,
-- between two dates.  absence_limit: exercises in a row a person may miss
-- before the record becomes INACTIVE when the exercise closes.
create table refuge.verification_exercise (
    id                uuid primary key default gen_random_uuid(),
    operation_id      uuid not null references refuge.operation,
    code              text not null check (code ~ '^[A-Z0-9_-]{1,30}$'),
    name              text not null,
    site_ids          uuid[] not null check (cardinality(site_ids) > 0),
    population_types  text[] not null check (cardinality(population_types) > 0),
    starts_on         date not null,
    ends_on           date not null,
    absence_limit     integer not null default 2 check (absence_limit between 1 and 10),
    status            text not null default 'OPEN' check (status in ('OPEN', 'CLOSED')),
    closed_at         timestamptz,
    closed_by         name,
    created_at        timestamptz not null default now(),
    created_by        name not null default current_user,
    updated_at        timestamptz not null default now(),
    updated_by        name not null default current_user,
    sync_owner        text not null default refuge.local_node(),
    unique (operation_id, code),
    check (ends_on >= starts_on)
);
comment on table refuge.verification_exercise is
    'verification exercises: the population and sites verified, the dates, and how many missed exercises make a record inactive';
alter table refuge.verification_exercise replica identity full;
create policy staff_read on refuge.verification_exercise for select to refuge_registration, refuge_supervisor
    using (operation_id = any ((select refuge.scope_operations())::uuid[])
           or site_ids && (select refuge.scope_sites())::uuid[]);
grant select on refuge.verification_exercise to refuge_registration, refuge_supervisor;
select pg_catalog.pg_extension_config_dump('refuge.verification_exercise', '');

-- Who is expected: each person of the population when the exercise opened,
-- with their household and site; seen_at and how once confirmed.
create table refuge.verification_subject (
    exercise_id      uuid not null references refuge.verification_exercise,
    individual_id    uuid not null references refuge.individual,
    group_id         uuid not null references refuge.registration_group,
    operation_id     uuid not null references refuge.operation,
    site_id          uuid not null,
    appointment_id   uuid references refuge.appointment,
    seen_at          timestamptz,
    method           text check (method in ('BIOMETRIC', 'FALLBACK')),
    verification_id  uuid,
    fallback_reason  text,
    decided_by       name,
    desk             text check (length(desk) <= 40),
    absent           boolean,
    sync_owner       text not null default refuge.local_node(),
    primary key (exercise_id, individual_id),
    check ((seen_at is null) = (method is null)),
    check (method is distinct from 'FALLBACK' or (fallback_reason is not null and decided_by is not null))
);
create index on refuge.verification_subject (individual_id);
create index on refuge.verification_subject (exercise_id, group_id);
comment on table refuge.verification_subject is
    'the people a verification exercise expects, and how each was confirmed present (biometric 1:1 or a recorded fallback and who decided)';
alter table refuge.verification_subject replica identity full;
create policy staff_read on refuge.verification_subject for select to refuge_registration, refuge_supervisor
    using (operation_id = any ((select refuge.scope_operations())::uuid[])
           or site_id = any ((select refuge.scope_sites())::uuid[]));
grant select on refuge.verification_subject to refuge_registration, refuge_supervisor;
select pg_catalog.pg_extension_config_dump('refuge.verification_subject', '');

insert into refuge.sync_table (table_name, kind, up, down, route, parent_table, parent_key, shared) values
    ('appointment_slot', 'personal', true, true, 'operation_id', null, null, false),
    ('appointment', 'personal', true, true, 'operation_id', null, null, false),
    ('verification_exercise', 'personal', true, true, 'operation_id', null, null, false),
    ('verification_subject', 'personal', true, true, 'operation_id', null, null, false);
insert into refuge.audit_scope (table_name, class) values
    ('appointment_slot', 'registration'), ('appointment', 'registration'),
    ('verification_exercise', 'registration'), ('verification_subject', 'registration');

-- a missed interview raises a case alert
alter table refuge.case_alert drop constraint case_alert_kind_check;
alter table refuge.case_alert add constraint case_alert_kind_check
    check (kind in ('FLAG', 'OVERDUE', 'APPROVAL', 'TRANSFER', 'REFERRAL', 'ASSIGNMENT', 'NO_SHOW'));
