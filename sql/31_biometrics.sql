-- The biometric gallery: captures, enrolments, finger and iris templates,
-- exceptions and the vault of sealed images.

-- Biometric records.  A capture is every submission to enrol_biometrics
-- (kept whatever the decision, as evidence); the gallery is the templates of
-- enrolled identities, which every enrolment is searched against.  Source
-- images never enter these tables: they go sealed into biometric_vault.
create table refuge.biometric_exception_reason (
    code     text primary key,
    label    text not null,
    active   boolean not null default true,
    shipped  boolean not null default false
);
comment on table refuge.biometric_exception_reason is 'why a finger or an eye was not captured';
create trigger vocab_changed after insert or update on refuge.biometric_exception_reason
    for each statement execute function refuge.vocab_changed();
create trigger vocab_guard before delete or update of code on refuge.biometric_exception_reason
    for each row execute function refuge.vocab_guard();
create policy read_all on refuge.biometric_exception_reason for select
    to refuge_registration, refuge_supervisor, refuge_analyst, refuge_admin, refuge_biometrics,
       refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection,
       refuge_child_protection, refuge_partner
    using (true);
grant select on refuge.biometric_exception_reason to refuge_registration, refuge_supervisor, refuge_analyst,
    refuge_admin, refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd,
    refuge_resettlement, refuge_protection, refuge_child_protection, refuge_partner;
select pg_catalog.pg_extension_config_dump('refuge.biometric_exception_reason', 'where not shipped');
insert into refuge.biometric_exception_reason (code, label, shipped) values
  ('AMPUTATED', 'Amputated or missing at birth', true),
  ('BANDAGED', 'Bandaged or injured (temporary)', true),
  ('UNREADABLE', 'Captured but unreadable (worn, scarred)', true),
  ('NOT_CAPTURED', 'Not captured (device or operator problem)', true),
  ('MEDICAL', 'Medical condition (eye disease, prosthesis)', true),
  ('REFUSED', 'Refused by the person (recorded, reviewed)', true);

create table refuge.biometric_capture (
    id               uuid primary key default gen_random_uuid(),
    individual_id    uuid not null references refuge.individual,
    operation_id     uuid not null references refuge.operation,
    site_id          uuid not null,
    device           text,
    operator         text,
    captured_at      timestamptz not null,
    -- the templates as submitted (fingers by position; irises [right, left])
    fingers          refuge.fingerprint[] not null default '{}',
    irises           refuge.iris[] not null default '{}',
    iris_quality     smallint[],
    -- policy in force for the decision: gallery size and rates
    gallery_size     bigint not null,
    target_fpir      double precision not null,
    block_fpir       double precision not null,
    gallery_seq      bigint not null,
    decision         text not null check (decision in ('enrolled', 'blocked', 'adjudication')),
    result           jsonb not null default '{}',
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    updated_at       timestamptz not null default now(),
    updated_by       name not null default current_user,
    foreign key (operation_id, site_id) references refuge.site (operation_id, id)
);
create index on refuge.biometric_capture (individual_id);
create index on refuge.biometric_capture (operation_id, site_id);
comment on table refuge.biometric_capture is 'every biometric enrolment attempt with its templates, the policy applied and the decision';
create trigger append_only before delete on refuge.biometric_capture
    for each row execute function refuge.append_only();
alter table refuge.biometric_capture enable always trigger append_only;
select pg_catalog.pg_extension_config_dump('refuge.biometric_capture', '');

-- One row per enrolled individual.  identity_id is the individual whose
-- templates stand for the person: itself when ENROLLED, the other record
-- when LINKED (same person, both records kept) or MERGED (this record closed
-- as a duplicate).  seq orders enrolments for the race-free dedup check.
create sequence refuge.biometric_enrolment_seq;
select pg_catalog.pg_extension_config_dump('refuge.biometric_enrolment_seq', '');

create table refuge.biometric_enrolment (
    individual_id    uuid primary key references refuge.individual,
    identity_id      uuid not null references refuge.individual,
    operation_id     uuid not null references refuge.operation,
    site_id          uuid not null,
    capture_id       uuid not null references refuge.biometric_capture,
    status           text not null check (status in ('ENROLLED', 'LINKED', 'MERGED')),
    seq              bigint not null unique default nextval('refuge.biometric_enrolment_seq'),
    enrolled_at      timestamptz not null default now(),
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    updated_at       timestamptz not null default now(),
    updated_by       name not null default current_user,
    foreign key (operation_id, site_id) references refuge.site (operation_id, id),
    check ((status = 'ENROLLED') = (identity_id = individual_id))
);
alter sequence refuge.biometric_enrolment_seq owned by refuge.biometric_enrolment.seq;
create index on refuge.biometric_enrolment (identity_id);
create index on refuge.biometric_enrolment (operation_id, site_id);
comment on table refuge.biometric_enrolment is 'biometric identity of each enrolled individual (ENROLLED: own templates; LINKED/MERGED: another record''s)';
create policy hq_read on refuge.biometric_enrolment for select to refuge_biometrics_admin
    using (true);
create policy staff_read on refuge.biometric_enrolment for select to refuge_registration, refuge_supervisor, refuge_biometrics, refuge_assistance
    using ((operation_id = any ((select refuge.scope_operations())::uuid[])) or (site_id = any ((select refuge.scope_sites())::uuid[])));
grant select on refuge.biometric_enrolment to refuge_registration, refuge_supervisor, refuge_biometrics,
    refuge_biometrics_admin, refuge_assistance;
select pg_catalog.pg_extension_config_dump('refuge.biometric_enrolment', '');

-- Gallery: templates of ENROLLED identities only.
create table refuge.biometric_finger (
    individual_id    uuid not null references refuge.biometric_enrolment,
    position         smallint not null check (position between 1 and 10),
    template         refuge.fingerprint not null,
    quality          smallint check (quality between 0 and 100),
    capture_id       uuid not null references refuge.biometric_capture,
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    updated_at       timestamptz not null default now(),
    updated_by       name not null default current_user,
    primary key (individual_id, position),
    check (refuge.fingerprint_position(template) = position)
);
create index biometric_finger_search_1 on refuge.biometric_finger using refuge_fingerprint (template) where position = 1;
create index biometric_finger_search_2 on refuge.biometric_finger using refuge_fingerprint (template) where position = 2;
create index biometric_finger_search_6 on refuge.biometric_finger using refuge_fingerprint (template) where position = 6;
create index biometric_finger_search_7 on refuge.biometric_finger using refuge_fingerprint (template) where position = 7;
comment on table refuge.biometric_finger is 'fingerprint gallery: one template per finger position of each enrolled identity';
select pg_catalog.pg_extension_config_dump('refuge.biometric_finger', '');

create table refuge.biometric_iris (
    individual_id    uuid not null references refuge.biometric_enrolment,
    eye              text not null check (eye in ('right', 'left')),
    template         refuge.iris not null,
    quality          smallint check (quality between 0 and 100),
    capture_id       uuid not null references refuge.biometric_capture,
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    updated_at       timestamptz not null default now(),
    updated_by       name not null default current_user,
    primary key (individual_id, eye)
);
create index biometric_iris_search on refuge.biometric_iris using refuge_iris (template);
comment on table refuge.biometric_iris is 'iris gallery: one code per eye of each enrolled identity';
select pg_catalog.pg_extension_config_dump('refuge.biometric_iris', '');

-- Fingers and eyes not captured, with the reason (per capture).
create table refuge.biometric_exception (
    id               uuid primary key default gen_random_uuid(),
    capture_id       uuid not null references refuge.biometric_capture,
    individual_id    uuid not null references refuge.individual,
    operation_id     uuid not null references refuge.operation,
    site_id          uuid not null,
    part             text not null check (part ~ '^(finger_([1-9]|10)|iris_(right|left)|face)$'),
    reason           text not null,
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    updated_at       timestamptz not null default now(),
    updated_by       name not null default current_user,
    unique (capture_id, part),
    foreign key (operation_id, site_id) references refuge.site (operation_id, id)
);
create index on refuge.biometric_exception (individual_id);
comment on table refuge.biometric_exception is 'fingers, eyes or face not captured at a capture, with the reason';
create trigger check_codes before insert or update on refuge.biometric_exception
    for each row execute function refuge.check_codes('reason', 'biometric_exception_reason');
create policy hq_read on refuge.biometric_exception for select to refuge_biometrics_admin
    using (true);
create policy staff_read on refuge.biometric_exception for select to refuge_registration, refuge_supervisor, refuge_biometrics
    using ((operation_id = any ((select refuge.scope_operations())::uuid[])) or (site_id = any ((select refuge.scope_sites())::uuid[])));
grant select on refuge.biometric_exception to refuge_registration, refuge_supervisor, refuge_biometrics,
    refuge_biometrics_admin;
select pg_catalog.pg_extension_config_dump('refuge.biometric_exception', '');

-- HQ vault: source images, AES-256-GCM sealed (extension/vault.c), bound to
-- their row by the additional data id|individual|part.  Nobody reads this
-- table; refuge.vault_image() opens one image for the biometrics
-- administrators and logs it.
create table refuge.biometric_vault (
    id               uuid primary key default gen_random_uuid(),
    capture_id       uuid not null references refuge.biometric_capture,
    individual_id    uuid not null references refuge.individual,
    part             text not null check (part ~ '^(finger_([1-9]|10)|iris_(right|left)|face)$'),
    media_type       text not null,
    key_id           text not null,
    sealed           bytea not null,
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    updated_at       timestamptz not null default now(),
    updated_by       name not null default current_user,
    unique (capture_id, part)
);
create index on refuge.biometric_vault (individual_id);
comment on table refuge.biometric_vault is 'encrypted source images (face, fingers, irises) of each capture; HQ only';
select pg_catalog.pg_extension_config_dump('refuge.biometric_vault', '');
