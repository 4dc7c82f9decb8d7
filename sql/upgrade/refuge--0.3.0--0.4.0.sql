-- refuge 0.3.0 -> 0.4.0: identity management.  Person-level biometric
-- enrolment with race-free deduplication, adjudication, 1:1 verification, the
-- encrypted HQ vault of source images, and assistance distributions with
-- verified collection.  Built from the fragments in sql/delta-0.4.0/.
\echo Use "ALTER EXTENSION refuge UPDATE TO '0.4.0'" to load this file. \quit
-- Roles of identity management and assistance (cluster-wide, created once).
do $roles$
declare
    r text;
begin
    foreach r in array array['refuge_biometrics', 'refuge_biometrics_admin', 'refuge_assistance']
    loop
        if not exists (select 1 from pg_catalog.pg_roles where rolname = r) then
            execute pg_catalog.format('create role %I nologin', r);
        end if;
    end loop;
end
$roles$;

comment on role refuge_biometrics is 'refuge: biometric enrolment operators (enrol, verify; enrolment status in their operations; no templates)';
comment on role refuge_biometrics_admin is 'refuge: HQ biometrics administrators (adjudication, templates, vault images with logged decryption; all operations)';
comment on role refuge_assistance is 'refuge: assistance staff (plans, cycles, distributions, verified collection in their operations)';

grant usage on schema refuge to refuge_biometrics, refuge_biometrics_admin, refuge_assistance;

-- The group roles of the extension: staff are assigned their own roles.
create function refuge.group_roles() returns name[]
    language sql immutable parallel safe
    return array['refuge_owner', 'refuge_registration', 'refuge_supervisor', 'refuge_analyst', 'refuge_admin',
                 'refuge_biometrics', 'refuge_biometrics_admin', 'refuge_assistance']::name[];

create or replace function refuge.assign_staff(role_name name, operation text, site text default null,
                                               full_name text default null, valid_to date default null)
    returns uuid
    language plpgsql security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    op_id uuid;
    site_id uuid;
    new_id uuid;
begin
    perform refuge.authorize('refuge_admin', 'assign_staff');
    if not exists (select 1 from pg_catalog.pg_roles r where r.rolname = assign_staff.role_name) then
        perform refuge.raise_field('23503', 'role_name', format('role "%s" does not exist', assign_staff.role_name));
    end if;
    if assign_staff.role_name = any (refuge.group_roles()) then
        perform refuge.raise_field('22023', 'role_name',
            format('"%s" is a group role; assign the staff member''s own role', assign_staff.role_name));
    end if;
    select o.id into op_id from refuge.operation o where o.code = assign_staff.operation;
    if op_id is null then
        perform refuge.raise_field('23503', 'operation', format('unknown operation "%s"', assign_staff.operation));
    end if;
    if site is not null then
        select s.id into site_id from refuge.site s where s.operation_id = op_id and s.code = assign_staff.site;
        if site_id is null then
            perform refuge.raise_field('23503', 'site', format('unknown site "%s" in operation %s', site, operation));
        end if;
    end if;
    insert into refuge.staff (role_name, full_name)
    values (assign_staff.role_name, coalesce(full_name, assign_staff.role_name))
    on conflict on constraint staff_pkey do update
        set full_name = coalesce(assign_staff.full_name, staff.full_name), active = true;
    insert into refuge.staff_assignment (role_name, operation_id, site_id, valid_to)
    values (assign_staff.role_name, op_id, site_id, valid_to)
    returning id into new_id;
    return new_id;
end
$$;

-- refuge.authorize for an action open to several roles: raise
-- insufficient_privilege unless the caller holds one of them.
create function refuge.authorize_any(p_roles name[], p_action text) returns void
    language plpgsql stable
as $$
begin
    if refuge.caller_is_superuser() or exists (select 1 from unnest(p_roles) r where refuge.caller_has(r)) then
        return;
    end if;
    raise exception using errcode = '42501',
        message = format('%s: role %s is not a member of %s', p_action, refuge.caller(), array_to_string(p_roles, ' or '));
end
$$;
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
insert into refuge.biometric_exception_reason (code, label, shipped) values
  ('AMPUTATED', 'Amputated or missing at birth', true),
  ('BANDAGED', 'Bandaged or injured (temporary)', true),
  ('UNREADABLE', 'Captured but unreadable (worn, scarred)', true),
  ('NOT_CAPTURED', 'Not captured (device or operator problem)', true),
  ('MEDICAL', 'Medical condition (eye disease, prosthesis)', true),
  ('REFUSED', 'Refused by the person (recorded, reviewed)', true);
comment on table refuge.biometric_exception_reason is 'why a finger or an eye was not captured';

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

-- One row per enrolled individual.  identity_id is the individual whose
-- templates stand for the person: itself when ENROLLED, the other record
-- when LINKED (same person, both records kept) or MERGED (this record closed
-- as a duplicate).  seq orders enrolments for the race-free dedup check.
create sequence refuge.biometric_enrolment_seq;
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
comment on table refuge.biometric_finger is 'fingerprint gallery: one template per finger position of each enrolled identity';

-- 1:N search per position (refuge.dedup_fingers): one candidate index each.
create index biometric_finger_search_1 on refuge.biometric_finger using refuge_fingerprint (template) where position = 1;
create index biometric_finger_search_2 on refuge.biometric_finger using refuge_fingerprint (template) where position = 2;
create index biometric_finger_search_6 on refuge.biometric_finger using refuge_fingerprint (template) where position = 6;
create index biometric_finger_search_7 on refuge.biometric_finger using refuge_fingerprint (template) where position = 7;

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
-- exact 1:N over both eyes (a swapped eye label cannot hide a duplicate)
create index biometric_iris_search on refuge.biometric_iris using refuge_iris (template);
comment on table refuge.biometric_iris is 'iris gallery: one code per eye of each enrolled identity';

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

create table refuge.vault_access (
    id               bigint generated always as identity primary key,
    vault_id         uuid not null references refuge.biometric_vault,
    individual_id    uuid not null references refuge.individual,
    purpose          text not null,
    accessed_by      name not null,
    accessed_at      timestamptz not null default now()
);
create index on refuge.vault_access (individual_id);
comment on table refuge.vault_access is 'every decryption of a vault image: who, when, why';

-- 1:1 verifications (refuge.verify and collection at distributions).
create table refuge.biometric_verification (
    id               uuid primary key default gen_random_uuid(),
    individual_id    uuid not null references refuge.individual,
    identity_id      uuid references refuge.individual,
    operation_id     uuid not null references refuge.operation,
    site_id          uuid not null,
    purpose          text not null,
    match            boolean not null,
    evidence         double precision,
    threshold        double precision,
    modalities       integer not null,
    scores           double precision[],
    device           text,
    verified_by      name not null,
    verified_at      timestamptz not null default now(),
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    updated_at       timestamptz not null default now(),
    updated_by       name not null default current_user,
    foreign key (operation_id, site_id) references refuge.site (operation_id, id)
);
create index on refuge.biometric_verification (individual_id);
comment on table refuge.biometric_verification is '1:1 biometric verifications: who was checked, by whom, where, when, with what result';

-- 1:N identifications (refuge.identify): who searched, where, when, and who came up.
create table refuge.biometric_identification (
    id               uuid primary key default gen_random_uuid(),
    operation_id     uuid not null references refuge.operation,
    site_id          uuid not null,
    purpose          text not null,
    gallery_size     bigint not null,
    target_fpir      double precision not null,
    candidates       uuid[] not null,
    best_fpir        double precision,
    device           text,
    searched_by      name not null,
    searched_at      timestamptz not null default now(),
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    updated_at       timestamptz not null default now(),
    updated_by       name not null default current_user,
    foreign key (operation_id, site_id) references refuge.site (operation_id, id)
);
create index on refuge.biometric_identification (operation_id, searched_at);
comment on table refuge.biometric_identification is '1:N identifications: who searched, where, when, the candidates returned';
-- Adjudication of grey-zone matches, cleared pairs, fraud alerts and cases.

create table refuge.dedup_case (
    id               uuid primary key default gen_random_uuid(),
    capture_id       uuid not null references refuge.biometric_capture,
    individual_id    uuid not null references refuge.individual,
    operation_id     uuid not null references refuge.operation,
    site_id          uuid not null,
    status           text not null default 'OPEN'
                     check (status in ('OPEN', 'AWAITING_APPROVAL', 'CLOSED')),
    decision         text check (decision in ('link', 'merge', 'different', 'fraud')),
    matched_id       uuid references refuge.individual,
    reason           text,
    decided_by       name,
    decided_at       timestamptz,
    approved_by      name,
    approved_at      timestamptz,
    approval         text check (approval in ('approved', 'rejected')),
    outcome          jsonb,
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    updated_at       timestamptz not null default now(),
    updated_by       name not null default current_user,
    foreign key (operation_id, site_id) references refuge.site (operation_id, id),
    check ((decision is null) = (decided_by is null)),
    check (decision not in ('link', 'merge') or matched_id is not null)
);
create index on refuge.dedup_case (individual_id);
create index on refuge.dedup_case (capture_id);
create index on refuge.dedup_case (status) where status <> 'CLOSED';
comment on table refuge.dedup_case is 'adjudication case: an enrolment whose best matches fell in the grey zone, with the reviewer''s decision';

create table refuge.dedup_candidate (
    case_id          uuid not null references refuge.dedup_case,
    candidate_id     uuid not null references refuge.individual,
    rank             integer not null,
    evidence         double precision not null,
    modalities       integer not null,
    fpir             double precision not null,
    scores           double precision[] not null,
    primary key (case_id, candidate_id),
    unique (case_id, rank)
);
comment on table refuge.dedup_candidate is 'ranked candidates of an adjudication case: fused evidence (decades), its FPIR at the gallery size, per-part scores (fingers 1-10, right and left iris)';

-- Pairs a reviewer declared different people: never raised again.
create table refuge.dedup_cleared_pair (
    individual_a     uuid not null references refuge.individual,
    individual_b     uuid not null references refuge.individual,
    case_id          uuid not null references refuge.dedup_case,
    cleared_by       name not null,
    cleared_at       timestamptz not null default now(),
    primary key (individual_a, individual_b),
    check (individual_a < individual_b)
);
comment on table refuge.dedup_cleared_pair is 'pairs of individuals adjudicated as different people (ordered a < b)';

create table refuge.fraud_case (
    id               uuid primary key default gen_random_uuid(),
    individual_id    uuid not null references refuge.individual,
    other_id         uuid references refuge.individual,
    operation_id     uuid not null references refuge.operation,
    site_id          uuid not null,
    source           text not null check (source in ('adjudication', 'alert')),
    dedup_case_id    uuid references refuge.dedup_case,
    status           text not null default 'OPEN' check (status in ('OPEN', 'CLOSED')),
    summary          text not null,
    opened_by        name not null,
    opened_at        timestamptz not null default now(),
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    updated_at       timestamptz not null default now(),
    updated_by       name not null default current_user,
    foreign key (operation_id, site_id) references refuge.site (operation_id, id)
);
create index on refuge.fraud_case (individual_id);
comment on table refuge.fraud_case is 'fraud investigations opened from adjudication or alerts';

-- Alerts are rows plus a NOTIFY on channel refuge_fraud_alert (payload: id).
create table refuge.fraud_alert (
    id               uuid primary key default gen_random_uuid(),
    kind             text not null check (kind in ('duplicate_enrolment', 'second_collection')),
    individual_id    uuid not null references refuge.individual,
    other_id         uuid references refuge.individual,
    operation_id     uuid not null references refuge.operation,
    site_id          uuid not null,
    capture_id       uuid references refuge.biometric_capture,
    details          jsonb not null default '{}',
    status           text not null default 'OPEN' check (status in ('OPEN', 'CLOSED')),
    fraud_case_id    uuid references refuge.fraud_case,
    raised_by        name not null,
    raised_at        timestamptz not null default now(),
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    updated_at       timestamptz not null default now(),
    updated_by       name not null default current_user,
    foreign key (operation_id, site_id) references refuge.site (operation_id, id)
);
create index on refuge.fraud_alert (individual_id);
create index on refuge.fraud_alert (operation_id, raised_at);
comment on table refuge.fraud_alert is 'fraud alerts: blocked duplicate enrolments, second collections in a cycle';
-- Assistance: plans with a target population and a ration, cycles with an
-- entitlement per family, distribution events at sites, and collections by a
-- biometrically verified collector.  At most one collection per entitlement.

create table refuge.assistance_plan (
    id               uuid primary key default gen_random_uuid(),
    operation_id     uuid not null references refuge.operation,
    code             text not null,
    name             text not null,
    modality         text not null check (modality in ('IN_KIND', 'CASH', 'VOUCHER')),
    -- per person per cycle, e.g. {"maize_kg": 12, "oil_l": 0.9} or {"cash_usd": 15}
    ration           jsonb not null check (jsonb_typeof(ration) = 'object'),
    population_types text[] not null,
    site_ids         uuid[],
    starts_on        date not null,
    ends_on          date,
    status           text not null default 'ACTIVE' check (status in ('ACTIVE', 'CLOSED')),
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    updated_at       timestamptz not null default now(),
    updated_by       name not null default current_user,
    unique (operation_id, code),
    check (ends_on is null or ends_on >= starts_on)
);
comment on table refuge.assistance_plan is 'an assistance plan: who is targeted (population types, sites) and the ration per person per cycle';

create table refuge.assistance_cycle (
    id               uuid primary key default gen_random_uuid(),
    plan_id          uuid not null references refuge.assistance_plan,
    operation_id     uuid not null references refuge.operation,
    number           integer not null,
    starts_on        date not null,
    ends_on          date not null,
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    updated_at       timestamptz not null default now(),
    updated_by       name not null default current_user,
    unique (plan_id, number),
    check (ends_on >= starts_on)
);
comment on table refuge.assistance_cycle is 'a distribution cycle of a plan';

create table refuge.entitlement (
    id               uuid primary key default gen_random_uuid(),
    cycle_id         uuid not null references refuge.assistance_cycle,
    group_id         uuid not null references refuge.registration_group,
    operation_id     uuid not null references refuge.operation,
    site_id          uuid not null,
    members          integer not null check (members > 0),
    items            jsonb not null,
    status           text not null default 'OPEN' check (status in ('OPEN', 'COLLECTED', 'CANCELLED')),
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    updated_at       timestamptz not null default now(),
    updated_by       name not null default current_user,
    unique (cycle_id, group_id),
    foreign key (operation_id, site_id) references refuge.site (operation_id, id)
);
create index on refuge.entitlement (group_id);
comment on table refuge.entitlement is 'what a family is entitled to in a cycle (ration x members at the cycle''s opening)';

-- Alternates authorised to collect for a family (the principal always may).
create table refuge.collector (
    id               uuid primary key default gen_random_uuid(),
    group_id         uuid not null references refuge.registration_group,
    individual_id    uuid not null references refuge.individual,
    operation_id     uuid not null references refuge.operation,
    site_id          uuid not null,
    valid_from       date not null default current_date,
    valid_to         date,
    reason           text not null,
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    updated_at       timestamptz not null default now(),
    updated_by       name not null default current_user,
    check (valid_to is null or valid_to >= valid_from),
    foreign key (operation_id, site_id) references refuge.site (operation_id, id)
);
create index on refuge.collector (group_id);
comment on table refuge.collector is 'alternate collectors authorised for a family, with validity';

create table refuge.distribution_event (
    id               uuid primary key default gen_random_uuid(),
    cycle_id         uuid not null references refuge.assistance_cycle,
    operation_id     uuid not null references refuge.operation,
    site_id          uuid not null,
    held_on          date not null,
    status           text not null default 'OPEN' check (status in ('OPEN', 'CLOSED')),
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    updated_at       timestamptz not null default now(),
    updated_by       name not null default current_user,
    foreign key (operation_id, site_id) references refuge.site (operation_id, id)
);
comment on table refuge.distribution_event is 'a distribution at a site on a day, within a cycle';

-- Every collection attempt, refused ones included.
create table refuge.collection (
    id               uuid primary key default gen_random_uuid(),
    entitlement_id   uuid not null references refuge.entitlement,
    event_id         uuid not null references refuge.distribution_event,
    group_id         uuid not null references refuge.registration_group,
    collector_id     uuid not null references refuge.individual,
    operation_id     uuid not null references refuge.operation,
    site_id          uuid not null,
    verification_id  uuid references refuge.biometric_verification,
    outcome          text not null check (outcome in ('COLLECTED', 'REFUSED')),
    refusal          text check (refusal in ('not_authorised', 'verification_failed', 'not_enrolled', 'already_collected')),
    alert_id         uuid references refuge.fraud_alert,
    collected_by     name not null,
    collected_at     timestamptz not null default now(),
    created_at       timestamptz not null default now(),
    created_by       name not null default current_user,
    updated_at       timestamptz not null default now(),
    updated_by       name not null default current_user,
    check ((outcome = 'REFUSED') = (refusal is not null)),
    foreign key (operation_id, site_id) references refuge.site (operation_id, id)
);
-- the rule itself: one collection per family per cycle
create unique index collection_once on refuge.collection (entitlement_id) where outcome = 'COLLECTED';
create index on refuge.collection (group_id);
comment on table refuge.collection is 'collection attempts at distributions (collected or refused, with the verification)';
-- Person-level matching (extension/identity.c, matcher/fusion.c).

-- The dedup policy in force (superuser-only settings), checked.
create function refuge.dedup_settings(out target_fpir double precision, out block_fpir double precision,
                                      out verify_fmr double precision, out min_age integer,
                                      out search_fingers smallint[], out finger_candidates integer)
    language c stable parallel safe as 'MODULE_PATHNAME', 'refuge_dedup_settings';
comment on function refuge.dedup_settings() is
    'refuge.target_fpir, refuge.block_fpir, refuge.verify_fmr, refuge.biometric_min_age, refuge.dedup_fingers and refuge.dedup_finger_candidates, validated';

-- Fused evidence (decades) needed over `modalities` compared parts for a
-- person-level false-positive identification rate fpir in a gallery of
-- gallery_size people.  gallery_size 1 gives the 1:1 threshold for an FMR.
create function refuge.fused_threshold(gallery_size double precision, fpir double precision, modalities integer)
    returns double precision
    language c immutable strict parallel safe as 'MODULE_PATHNAME', 'refuge_fused_threshold';
comment on function refuge.fused_threshold(double precision, double precision, integer) is
    'evidence (decades) at which a gallery of this size produces a false candidate at rate fpir';

-- The rate at which a gallery of gallery_size people would produce evidence
-- this strong by chance.
create function refuge.fused_fpir(evidence double precision, modalities integer, gallery_size double precision)
    returns double precision
    language c immutable strict parallel safe as 'MODULE_PATHNAME', 'refuge_fused_fpir';
comment on function refuge.fused_fpir(double precision, integer, double precision) is
    'false-positive identification rate of fused evidence over this many parts in a gallery of this size';

-- Evidence (decades) of one iris distance (best of the default 7 shifts).
create function refuge.iris_evidence(hd double precision) returns double precision
    language c immutable strict parallel safe as 'MODULE_PATHNAME', 'refuge_iris_evidence';

-- One person against another: every finger position and eye captured on
-- both sides.  scores[1..10]: calibrated fingerprint scores; [11], [12]:
-- normalised iris distances (right, left); NULL where not compared.
create function refuge.person_match(probe_fingers refuge.fingerprint[], probe_irises refuge.iris[],
                                    gallery_fingers refuge.fingerprint[], gallery_irises refuge.iris[],
                                    out scores double precision[], out evidence double precision,
                                    out modalities integer)
    language c immutable parallel safe cost 20000 as 'MODULE_PATHNAME', 'refuge_person_match';
comment on function refuge.person_match(refuge.fingerprint[], refuge.iris[], refuge.fingerprint[], refuge.iris[]) is
    'fused comparison of two people (all fingers by position, irises by eye): per-part scores, evidence in decades, parts compared';

-- The vault (extension/vault.c).  Internal: only the API functions call them.
create function refuge.vault_seal(plain bytea, aad text) returns bytea
    language c volatile strict as 'MODULE_PATHNAME', 'refuge_vault_seal';
create function refuge.vault_open(sealed bytea, aad text) returns bytea
    language c volatile strict as 'MODULE_PATHNAME', 'refuge_vault_open';
create function refuge.vault_key_id() returns text
    language c volatile strict as 'MODULE_PATHNAME', 'refuge_vault_key_id';
comment on function refuge.vault_key_id() is 'id (start of SHA-256) of the key in refuge.vault_key_file; never the key';

-- The last enrolment committed, seen with a fresh snapshot (also under
-- REPEATABLE READ); internal to enrol_biometrics.
create function refuge.gallery_seq_latest() returns bigint
    language c volatile strict as 'MODULE_PATHNAME', 'refuge_gallery_seq_latest';

-- People enrolled (the gallery's size for thresholds): exact while small,
-- the planner's estimate once large (thresholds move by log10 of it).
create function refuge.gallery_size() returns bigint
    language plpgsql stable security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    est bigint;
begin
    select c.reltuples::bigint into est from pg_catalog.pg_class c where c.oid = 'refuge.biometric_enrolment'::regclass;
    if est is null or est < 100000 then
        select count(*) into est from refuge.biometric_enrolment e where e.status = 'ENROLLED';
    end if;
    return greatest(est, 1);
end
$$;

-- A synthetic person's templates in the shape enrol_biometrics and verify
-- take (10 fingers, 2 irises), for training, demos and load tests: person p
-- has fingers (p * 10 + position - 1) and eyes (p * 2, p * 2 + 1) of the
-- seeded generators; capture 0 is the enrolment, others are re-captures.
create function refuge.synthetic_templates(seed bigint, person bigint, capture integer default 0) returns jsonb
    language sql immutable strict parallel safe
begin atomic
    select jsonb_build_object(
        'fingers', (select jsonb_agg(jsonb_build_object('position', p,
                        'template', refuge.synthetic_fingerprint(seed, person * 10 + p - 1, capture)::text) order by p)
                      from generate_series(1, 10) p),
        'irises', jsonb_build_array(
            jsonb_build_object('eye', 'right', 'template', refuge.synthetic_iris(seed, person * 2, capture)::text),
            jsonb_build_object('eye', 'left', 'template', refuge.synthetic_iris(seed, person * 2 + 1, capture)::text)));
end;
-- Index verification learns partial indexes (the gallery has one fingerprint
-- index per searched finger position): only rows of the predicate are due.
create or replace function refuge.biometric_index_verify(index regclass, method name) returns bigint
    language plpgsql set search_path = pg_catalog, pg_temp as $$
declare
    tbl regclass;
    col name;
    items text := case method when 'refuge_iris' then 'refuge.iris_index_items'
                              when 'refuge_fingerprint' then 'refuge.fingerprint_index_items' end;
    checked bigint;
    missing bigint;
    twice bigint;
    pred text;
begin
    select i.indrelid::regclass, a.attname, pg_catalog.pg_get_expr(i.indpred, i.indrelid) into tbl, col, pred
      from pg_catalog.pg_index i
      join pg_catalog.pg_class c on c.oid = i.indexrelid
      join pg_catalog.pg_am am on am.oid = c.relam and am.amname = method
      left join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
     where i.indexrelid = index;
    if tbl is null or items is null then
        raise exception 'index: % is not a % index', index, method using errcode = 'wrong_object_type';
    end if;
    if col is null then
        raise exception 'index: % is on an expression; only column indexes can be verified', index
            using errcode = 'feature_not_supported';
    end if;
    execute format('with i as materialized (select heap_tid, v::text as v from %3$s($1) as e(heap_tid, v))
                    select count(*), count(*) filter (where i.heap_tid is null or i.v is distinct from t.%1$I::text),
                           (select count(*) from (select heap_tid from i group by heap_tid having count(*) > 1) d)
                      from %2$s t left join i on i.heap_tid = t.ctid
                     where %4$s', col, tbl, items,
                   case method when 'refuge_fingerprint' then format('t.%I is not null', col) else 'true' end
                   -- a partial index holds the rows of its predicate only
                   || coalesce(' and (' || pred || ')', ''))
       into checked, missing, twice using index;
    if missing > 0 or twice > 0 then
        raise exception 'index %: % of % rows of % missing or with a different value, % heap TIDs indexed twice',
            index, missing, checked, tbl, twice using errcode = 'index_corrupted';
    end if;
    return checked;
end $$;
-- Reading the templates argument of enrol_biometrics and verify (shape in
-- README.md, "Biometric templates").  Errors name the field, e.g.
--   templates.fingers[3].record: fingerprint record: ... at byte 26

create function refuge.arg_base64(obj jsonb, key text, path text, required boolean default false) returns bytea
    language plpgsql immutable
as $$
declare
    s text := refuge.arg_text(obj, key, path, required, 10000000);
begin
    if s is null then
        return null;
    end if;
    begin
        return pg_catalog.decode(s, 'base64');
    exception when others then
        perform refuge.raise_field('22023', path || '.' || key, 'is not base64: ' || sqlerrm);
    end;
end
$$;

-- The biometric part names used in exceptions, images and the vault.
create function refuge.biometric_parts() returns text[]
    language sql immutable parallel safe
    return array['finger_1', 'finger_2', 'finger_3', 'finger_4', 'finger_5', 'finger_6', 'finger_7',
                 'finger_8', 'finger_9', 'finger_10', 'iris_right', 'iris_left', 'face'];

create function refuge.parse_biometrics(templates jsonb, complete boolean,
                                        out fingers refuge.fingerprint[], out irises refuge.iris[],
                                        out iris_quality smallint[],
                                        out exceptions jsonb, out images jsonb, out device text,
                                        out operator text, out captured_at timestamptz, out site text)
    language plpgsql stable
as $$
declare
    arr jsonb;
    el jsonb;
    path text;
    pos integer;
    fp refuge.fingerprint;
    ir refuge.iris;
    eye text;
    part text;
    seen text[] := '{}';
    excepted text[] := '{}';
    cap jsonb;
    ts text;
    min_minutiae constant integer := 8;
begin
    perform refuge.arg_fields(templates, 'templates', array['capture', 'fingers', 'irises', 'missing', 'images']);
    fingers := '{}';
    irises := array[null, null]::refuge.iris[];
    iris_quality := array[null, null]::smallint[];
    exceptions := '[]';
    images := '[]';

    cap := templates -> 'capture';
    if cap is not null and cap <> 'null'::jsonb then
        perform refuge.arg_fields(cap, 'templates.capture', array['site', 'device', 'operator', 'captured_at']);
        site := refuge.arg_text(cap, 'site', 'templates.capture');
        device := refuge.arg_text(cap, 'device', 'templates.capture');
        operator := refuge.arg_text(cap, 'operator', 'templates.capture');
        ts := refuge.arg_text(cap, 'captured_at', 'templates.capture', false, 40);
        if ts is not null then
            begin
                captured_at := ts::timestamptz;
            exception when others then
                perform refuge.raise_field('22007', 'templates.capture.captured_at', format('"%s" is not a timestamp', ts));
            end;
            if captured_at > now() + interval '5 minutes' then
                perform refuge.raise_field('22008', 'templates.capture.captured_at', format('"%s" is in the future', ts));
            end if;
        end if;
    end if;

    -- fingers: ISO/ANSI record (base64), NIST xyt with geometry, or refuge text form
    arr := refuge.arg_array(templates, 'fingers', 'templates', 10);
    for i in 0 .. coalesce(jsonb_array_length(arr), 0) - 1 loop
        el := arr -> i;
        path := format('templates.fingers[%s]', i);
        perform refuge.arg_fields(el, path, array['position', 'record', 'view', 'xyt', 'width', 'height', 'dpi', 'template']);
        pos := refuge.arg_int(el, 'position', path, 1, 10);
        if pos is null then
            perform refuge.raise_field('22004', path || '.position', 'is required (ISO finger position 1-10)');
        end if;
        if format('finger_%s', pos) = any (seen) then
            perform refuge.raise_field('22023', path || '.position', format('finger %s is given twice', pos));
        end if;
        if (el ? 'record')::int + (el ? 'xyt')::int + (el ? 'template')::int <> 1 then
            perform refuge.raise_field('22023', path, 'exactly one of record, xyt or template is required');
        end if;
        begin
            if el ? 'record' then
                part := 'record';
                fp := refuge.fingerprint_from_record(refuge.arg_base64(el, 'record', path, true),
                                                     coalesce(refuge.arg_int(el, 'view', path, 1, 255), 1));
            elsif el ? 'xyt' then
                part := 'xyt';
                fp := refuge.fingerprint_from_xyt(refuge.arg_text(el, 'xyt', path, true, 100000),
                                                  refuge.arg_int(el, 'width', path, 1, 65535),
                                                  refuge.arg_int(el, 'height', path, 1, 65535),
                                                  coalesce(refuge.arg_int(el, 'dpi', path, 1, 10000), 500), pos);
                if fp is null then
                    perform refuge.raise_field('22004', path, 'xyt needs width and height');
                end if;
            else
                part := 'template';
                fp := refuge.arg_text(el, 'template', path, true, 100000)::refuge.fingerprint;
            end if;
        exception when others then
            if sqlerrm like path || '%' then
                raise;
            end if;
            perform refuge.raise_field(sqlstate, path || '.' || part, sqlerrm);
        end;
        if refuge.fingerprint_position(fp) = 0 then
            -- the record leaves the position open: the capture says which finger it is
            fp := pg_catalog.regexp_replace(fp::text, '^pos=0 ', format('pos=%s ', pos))::refuge.fingerprint;
        elsif refuge.fingerprint_position(fp) <> pos then
            perform refuge.raise_field('22023', path || '.position',
                format('is %s but the template says finger %s', pos, refuge.fingerprint_position(fp)));
        end if;
        if refuge.fingerprint_minutiae(fp) < min_minutiae then
            perform refuge.raise_field('22023', path,
                format('%s minutiae; at least %s are needed (recapture, or list finger_%s in missing)',
                       refuge.fingerprint_minutiae(fp), min_minutiae, pos));
        end if;
        fingers := fingers || fp;
        seen := seen || format('finger_%s', pos);
    end loop;

    -- irises: packed code and mask (base64) with geometry, or refuge text form
    arr := refuge.arg_array(templates, 'irises', 'templates', 2);
    for i in 0 .. coalesce(jsonb_array_length(arr), 0) - 1 loop
        el := arr -> i;
        path := format('templates.irises[%s]', i);
        perform refuge.arg_fields(el, path, array['eye', 'code', 'mask', 'rows', 'cols', 'bits_per_cell', 'template', 'quality']);
        eye := refuge.arg_text(el, 'eye', path, true, 10);
        if eye not in ('right', 'left') then
            perform refuge.raise_field('22023', path || '.eye', format('"%s" is not right or left', eye));
        end if;
        if 'iris_' || eye = any (seen) then
            perform refuge.raise_field('22023', path || '.eye', format('the %s eye is given twice', eye));
        end if;
        if (el ? 'code')::int + (el ? 'template')::int <> 1 then
            perform refuge.raise_field('22023', path, 'exactly one of code (with mask and geometry) or template is required');
        end if;
        begin
            if el ? 'code' then
                part := 'code';
                ir := refuge.iris_from_bytes(refuge.arg_base64(el, 'code', path, true),
                                             refuge.arg_base64(el, 'mask', path, true),
                                             coalesce(refuge.arg_int(el, 'rows', path, 1, 256), 8),
                                             coalesce(refuge.arg_int(el, 'cols', path, 1, 4096), 128),
                                             coalesce(refuge.arg_int(el, 'bits_per_cell', path, 1, 8), 2));
            else
                part := 'template';
                ir := refuge.arg_text(el, 'template', path, true, 100000)::refuge.iris;
            end if;
        exception when others then
            if sqlerrm like path || '%' then
                raise;
            end if;
            perform refuge.raise_field(sqlstate, path || '.' || part, sqlerrm);
        end;
        if refuge.iris_valid_bits(ir) < 256 then
            perform refuge.raise_field('22023', path,
                format('only %s usable bits; at least 256 are needed (recapture, or list iris_%s in missing)',
                       refuge.iris_valid_bits(ir), eye));
        end if;
        irises[case eye when 'right' then 1 else 2 end] := ir;
        iris_quality[case eye when 'right' then 1 else 2 end] := refuge.arg_int(el, 'quality', path, 0, 100);
        seen := seen || ('iris_' || eye);
    end loop;

    -- parts not captured, each with a coded reason
    arr := refuge.arg_array(templates, 'missing', 'templates', 13);
    for i in 0 .. coalesce(jsonb_array_length(arr), 0) - 1 loop
        el := arr -> i;
        path := format('templates.missing[%s]', i);
        perform refuge.arg_fields(el, path, array['part', 'reason']);
        part := refuge.arg_text(el, 'part', path, true, 20);
        if part <> all (refuge.biometric_parts()) then
            perform refuge.raise_field('22023', path || '.part', format('"%s" is not one of finger_1 .. finger_10, iris_right, iris_left, face', part));
        end if;
        if part = any (seen) then
            perform refuge.raise_field('22023', path || '.part', format('%s is captured, so it cannot be missing', part));
        end if;
        if part = any (excepted) then
            perform refuge.raise_field('22023', path || '.part', format('%s is listed twice', part));
        end if;
        perform refuge.arg_code(el, 'reason', path, 'biometric_exception_reason', true);
        excepted := excepted || part;
        exceptions := exceptions || jsonb_build_object('part', part, 'reason', el ->> 'reason');
    end loop;

    -- source images, for the HQ vault only
    arr := refuge.arg_array(templates, 'images', 'templates', 13);
    for i in 0 .. coalesce(jsonb_array_length(arr), 0) - 1 loop
        el := arr -> i;
        path := format('templates.images[%s]', i);
        perform refuge.arg_fields(el, path, array['part', 'media_type', 'data']);
        part := refuge.arg_text(el, 'part', path, true, 20);
        if part <> all (refuge.biometric_parts()) then
            perform refuge.raise_field('22023', path || '.part', format('"%s" is not one of finger_1 .. finger_10, iris_right, iris_left, face', part));
        end if;
        if exists (select 1 from jsonb_array_elements(images) x where x ->> 'part' = part) then
            perform refuge.raise_field('22023', path || '.part', format('%s has two images', part));
        end if;
        images := images || jsonb_build_object('part', part,
            'media_type', coalesce(refuge.arg_text(el, 'media_type', path, false, 100), 'application/octet-stream'),
            'data', encode(refuge.arg_base64(el, 'data', path, true), 'base64'));
    end loop;

    if complete then
        -- an enrolment accounts for every finger and both eyes
        select string_agg(p, ', ') into part
          from unnest(refuge.biometric_parts()) p
         where p <> 'face' and p <> all (seen) and p <> all (excepted);
        if part is not null then
            perform refuge.raise_field('22023', 'templates.missing',
                format('%s neither captured nor listed with a reason', part));
        end if;
    end if;
    if cardinality(fingers) = 0 and irises[1] is null and irises[2] is null then
        perform refuge.raise_field('22023', 'templates', 'no fingerprint or iris to match');
    end if;
end
$$;
-- Enrolment with deduplication.
--
-- 1. The probe is searched 1:N without any lock: both eyes against every
--    iris (exact index), the fingers of refuge.dedup_fingers against their
--    position's candidate index.  The best few people of each search become
--    candidates.
-- 2. The enrolment lock is taken (one transaction-level advisory lock for the
--    whole gallery, held to commit).  People enrolled after step 1 began
--    (biometric_enrolment.seq above the mark read first) are added to the
--    candidates: the lock guarantees that they have committed, and READ
--    COMMITTED lets the next statement see them.  Under REPEATABLE READ or
--    SERIALIZABLE they cannot be seen: if a fresh snapshot shows any such
--    enrolment, this one fails with 40001 and the client retries.  Two sessions enrolling one person at the same
--    moment therefore yield one identity and one blocked (or adjudicated)
--    attempt, while the costly searches still run in parallel.
-- 3. Each candidate is compared with the probe on every finger and eye both
--    have (refuge.person_match; the searched ones before the lock is taken,
--    so that it is held only briefly); fused evidence gives the rate at which a
--    gallery of this size would produce such a match by chance.  At or below
--    refuge.block_fpir the enrolment is blocked; at or below
--    refuge.target_fpir it goes to adjudication; otherwise it is enrolled.

create function refuge.enrolment_lock() returns void
    language sql volatile
    -- key ('RFG', 1): one lock for the gallery
    return pg_catalog.pg_advisory_xact_lock(5392967, 1);

-- Whether the caller may see an individual's identifying data.
create function refuge.may_see(p_operation uuid, p_site uuid) returns boolean
    language sql stable
    return refuge.in_scope(p_operation, p_site) or refuge.caller_has('refuge_biometrics_admin');

-- Candidate identities for a probe: the best few of each 1:N search (both
-- eyes against every iris; each finger of refuge.dedup_fingers against its
-- position), kept when the evidence of the searches in which a person came
-- up would be produced by chance in fewer than half of all such searches of
-- a gallery this size.  The full comparison (score_candidates) then looks
-- at every part; this only spares it the best chance hits of each search.
create function refuge.dedup_candidates(fingers refuge.fingerprint[], irises refuge.iris[],
                                        search_fingers smallint[], gallery bigint, per_search integer default 3)
    returns uuid[]
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
    -- scopes the change below to this function
    set refuge.fingerprint_candidates = 100
as $$
declare
    hits jsonb := '[]';
    found_hits jsonb;
    probe refuge.fingerprint;
begin
    perform pg_catalog.set_config('refuge.fingerprint_candidates',
                                  greatest((refuge.dedup_settings()).finger_candidates, per_search)::text, true);
    for e in 1 .. 2 loop
        continue when irises[e] is null;
        select jsonb_agg(jsonb_build_object('id', b.individual_id, 'e', refuge.iris_evidence(b.d))) into found_hits
          from (select i.individual_id, i.template <-> irises[e] as d from refuge.biometric_iris i
                 order by i.template <-> irises[e] limit per_search) b;
        hits := hits || coalesce(found_hits, '[]');
    end loop;
    foreach probe in array fingers loop
        continue when refuge.fingerprint_position(probe) <> all (search_fingers);
        -- the position is a literal so that the partial index of that position is chosen
        execute format('select jsonb_agg(jsonb_build_object(''id'', b.individual_id,
                               ''e'', least(10, greatest(0, -log(greatest(b.d, 1e-300))))))
                          from (select f.individual_id, f.template <-> $1 as d from refuge.biometric_finger f
                                 where f.position = %s order by f.template <-> $1 limit %s) b',
                       refuge.fingerprint_position(probe), per_search)
           into found_hits using probe;
        hits := hits || coalesce(found_hits, '[]');
    end loop;
    return array(select (h ->> 'id')::uuid from jsonb_array_elements(hits) h
                  group by h ->> 'id'
                 having refuge.fused_fpir(sum((h ->> 'e')::float8), count(*)::int, gallery::float8) <= 0.5);
end
$$;

-- An identity's gallery templates: fingers by position, irises [right, left].
create function refuge.gallery_templates(identity uuid, out gallery_fingers refuge.fingerprint[],
                                         out gallery_irises refuge.iris[])
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    select coalesce((select array_agg(f.template order by f.position) from refuge.biometric_finger f
                      where f.individual_id = identity), '{}'),
           array[(select i.template from refuge.biometric_iris i where i.individual_id = identity and i.eye = 'right'),
                 (select i.template from refuge.biometric_iris i where i.individual_id = identity and i.eye = 'left')];
end;

-- Fused comparison of a probe with candidate identities, strongest first.
create function refuge.score_candidates(fingers refuge.fingerprint[], irises refuge.iris[], candidates uuid[],
                                        subject uuid, gallery bigint)
    returns table (candidate_id uuid, evidence double precision, modalities integer, fpir double precision,
                   scores double precision[])
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    select c.id, m.evidence, m.modalities, refuge.fused_fpir(m.evidence, m.modalities, gallery::double precision), m.scores
      from unnest(candidates) c(id)
      cross join lateral refuge.gallery_templates(c.id) g
      cross join lateral refuge.person_match(fingers, irises, g.gallery_fingers, g.gallery_irises) m
     where c.id <> subject
       and m.modalities > 0
       and not exists (select 1 from refuge.dedup_cleared_pair p
                        where p.individual_a = least(subject, c.id) and p.individual_b = greatest(subject, c.id))
     order by 4, m.evidence desc;
end;

-- A candidate as shown to the caller: the record's number only when the
-- caller may see that individual.
create function refuge.candidate_json(candidate uuid, rank integer, evidence double precision, modalities integer,
                                      fpir double precision, scores double precision[])
    returns jsonb
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    select jsonb_strip_nulls(jsonb_build_object('rank', rank, 'visible', refuge.may_see(i.operation_id, i.site_id),
               'individual_id', case when refuge.may_see(i.operation_id, i.site_id) then i.id end,
               'number', case when refuge.may_see(i.operation_id, i.site_id) then i.number end,
               'evidence', round(evidence::numeric, 2), 'modalities', modalities,
               'fpir', round(greatest(fpir, 1e-15)::numeric, 15),
               'fingers', (select jsonb_object_agg(p, round(scores[p]::numeric, 1)) from generate_series(1, 10) p
                            where scores[p] is not null),
               'irises', jsonb_strip_nulls(jsonb_build_object('right', round(scores[11]::numeric, 4),
                                                               'left', round(scores[12]::numeric, 4)))))
      from refuge.individual i where i.id = candidate;
end;

create function refuge.raise_fraud_alert(kind text, subject uuid, other uuid, capture uuid, details jsonb)
    returns uuid
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    ind refuge.individual;
    new_id uuid;
begin
    select * into ind from refuge.individual i where i.id = subject;
    insert into refuge.fraud_alert (kind, individual_id, other_id, operation_id, site_id, capture_id, details, raised_by)
    values (kind, subject, other, ind.operation_id, ind.site_id, capture, details, refuge.caller())
    returning id into new_id;
    perform pg_catalog.pg_notify('refuge_fraud_alert', new_id::text);
    return new_id;
end
$$;

-- Put a capture's templates into the gallery under its individual.
create function refuge.gallery_insert(cap refuge.biometric_capture) returns void
    language sql volatile
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    insert into refuge.biometric_enrolment (individual_id, identity_id, operation_id, site_id, capture_id, status)
    values (cap.individual_id, cap.individual_id, cap.operation_id, cap.site_id, cap.id, 'ENROLLED');
    insert into refuge.biometric_finger (individual_id, position, template, quality, capture_id)
    select cap.individual_id, refuge.fingerprint_position(f), f, refuge.fingerprint_quality(f), cap.id
      from unnest(cap.fingers) f;
    insert into refuge.biometric_iris (individual_id, eye, template, quality, capture_id)
    select cap.individual_id, case u.ord when 1 then 'right' else 'left' end, u.t, cap.iris_quality[u.ord], cap.id
      from unnest(cap.irises) with ordinality u(t, ord)
     where u.t is not null;
end;

-- Steps 2 and 3 for a stored capture: lock, late enrolments, fused scores,
-- decision, and its records.  Returns the result of enrol_biometrics.
create function refuge.enrol_decide(capture_id uuid, candidates uuid[]) returns jsonb
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    cap refuge.biometric_capture;
    late uuid[];
    scored jsonb;
    gallery bigint;
    flagged jsonb := '[]';
    rk integer := 0;
    c record;
    alert uuid;
    case_id uuid;
    res jsonb;
begin
    select * into cap from refuge.biometric_capture b where b.id = enrol_decide.capture_id;
    gallery := greatest(cap.gallery_size, 1);
    -- the searched candidates are compared before the lock: it is held only
    -- for those enrolled meanwhile, the decision and the writes
    select coalesce(jsonb_agg(to_jsonb(s)), '[]') into scored
      from refuge.score_candidates(cap.fingers, cap.irises, candidates, cap.individual_id, gallery) s;
    perform refuge.enrolment_lock();
    if current_setting('transaction_isolation') <> 'read committed'
       and refuge.gallery_seq_latest() > (select coalesce(max(e.seq), 0) from refuge.biometric_enrolment e) then
        raise exception using errcode = '40001',
            message = 'enrol_biometrics: another enrolment committed after this transaction''s snapshot',
            hint = 'Retry the transaction (or enrol at READ COMMITTED, which re-reads the gallery under the enrolment lock).';
    end if;
    late := array(select e.individual_id from refuge.biometric_enrolment e
                   where e.seq > cap.gallery_seq and e.status = 'ENROLLED' and e.individual_id <> all (candidates));
    if cardinality(late) > 0 then
        select scored || coalesce(jsonb_agg(to_jsonb(s)), '[]') into scored
          from refuge.score_candidates(cap.fingers, cap.irises, late, cap.individual_id, gallery) s;
    end if;

    res := jsonb_build_object('capture_id', cap.id, 'individual_id', cap.individual_id,
                                 'gallery_size', gallery,
                                 'candidates_compared', cardinality(candidates) + cardinality(late),
                                 'target_fpir', cap.target_fpir, 'block_fpir', cap.block_fpir);
    for c in select * from jsonb_to_recordset(scored) as s(candidate_id uuid, evidence double precision,
                               modalities integer, fpir double precision, scores double precision[])
              where s.fpir <= cap.target_fpir order by s.fpir, s.evidence desc limit 10 loop
        rk := rk + 1;
        if rk = 1 and c.fpir <= cap.block_fpir then
            alert := refuge.raise_fraud_alert('duplicate_enrolment', cap.individual_id, c.candidate_id, cap.id,
                         jsonb_build_object('evidence', c.evidence, 'modalities', c.modalities, 'fpir', greatest(c.fpir, 1e-15)));
            res := res || jsonb_build_object('decision', 'blocked', 'alert_id', alert,
                'match', refuge.candidate_json(c.candidate_id, 1, c.evidence, c.modalities, c.fpir, c.scores));
            exit;
        elsif rk = 1 then
            insert into refuge.dedup_case (capture_id, individual_id, operation_id, site_id)
            values (cap.id, cap.individual_id, cap.operation_id, cap.site_id)
            returning id into case_id;
        end if;
        insert into refuge.dedup_candidate (case_id, candidate_id, rank, evidence, modalities, fpir, scores)
        values (case_id, c.candidate_id, rk, c.evidence, c.modalities, c.fpir, c.scores);
        flagged := flagged || refuge.candidate_json(c.candidate_id, rk, c.evidence, c.modalities, c.fpir, c.scores);
    end loop;
    if case_id is not null then
        res := res || jsonb_build_object('decision', 'adjudication', 'case_id', case_id, 'candidates', flagged);
    elsif rk = 0 then
        perform refuge.gallery_insert(cap);
        res := res || jsonb_build_object('decision', 'enrolled');
    end if;
    update refuge.biometric_capture b set decision = res ->> 'decision', result = res
     where b.id = cap.id;
    return res;
end
$$;

create function refuge.enrol_biometrics(individual_id uuid, templates jsonb) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    ind refuge.individual;
    pol record;
    p record;
    site_id uuid;
    cap_id uuid;
    hw bigint;
    gallery bigint;
    cands uuid[];
    existing refuge.biometric_enrolment;
    open_case uuid;
    img jsonb;
    vault_id uuid;
    key_id text;
begin
    ind := refuge.individual_for_update(enrol_biometrics.individual_id, 'refuge_biometrics', 'enrol_biometrics');
    pol := refuge.dedup_settings();
    if ind.status <> 'ACTIVE' then
        perform refuge.raise_field('55000', 'individual_id',
            format('%s has status %s; only active individuals are enrolled', ind.number, ind.status));
    end if;
    if ind.date_of_birth is not null
       and ind.date_of_birth > current_date - make_interval(years => pol.min_age) then
        perform refuge.raise_field('22023', 'individual_id',
            format('%s is under %s (born %s); biometrics are taken from age %s (refuge.biometric_min_age)',
                   ind.number, pol.min_age, refuge.iso(ind.date_of_birth), pol.min_age));
    end if;
    select * into existing from refuge.biometric_enrolment e where e.individual_id = ind.id;
    if found then
        perform refuge.raise_field('23505', 'individual_id',
            format('%s is already enrolled (%s since %s)', ind.number, lower(existing.status), refuge.iso(existing.enrolled_at::date)));
    end if;
    select d.id into open_case from refuge.dedup_case d where d.individual_id = ind.id and d.status <> 'CLOSED';
    if found then
        perform refuge.raise_field('55000', 'individual_id',
            format('%s has an enrolment awaiting adjudication (case %s)', ind.number, open_case));
    end if;
    if templates is null then
        perform refuge.raise_field('22004', 'templates', 'is required');
    end if;
    p := refuge.parse_biometrics(templates, true);
    site_id := ind.site_id;
    if p.site is not null then
        select s.id into site_id from refuge.site s where s.operation_id = ind.operation_id and s.code = p.site;
        if site_id is null or not refuge.in_scope(ind.operation_id, site_id) then
            perform refuge.raise_field('23503', 'templates.capture.site',
                format('"%s" is not a site of this operation assigned to you', p.site));
        end if;
    end if;

    -- mark first, then search (see the head of this file)
    select coalesce(max(e.seq), 0) into hw from refuge.biometric_enrolment e;
    gallery := refuge.gallery_size();
    cands := refuge.dedup_candidates(p.fingers, p.irises, pol.search_fingers, gallery);

    insert into refuge.biometric_capture (individual_id, operation_id, site_id, device, operator, captured_at,
                                          fingers, irises, iris_quality, gallery_size, target_fpir, block_fpir,
                                          gallery_seq, decision)
    values (ind.id, ind.operation_id, site_id, p.device, coalesce(p.operator, refuge.caller()),
            coalesce(p.captured_at, now()), p.fingers, p.irises, p.iris_quality, gallery, pol.target_fpir,
            pol.block_fpir, hw, 'adjudication')
    returning id into cap_id;
    insert into refuge.biometric_exception (capture_id, individual_id, operation_id, site_id, part, reason)
    select cap_id, ind.id, ind.operation_id, site_id, x ->> 'part', x ->> 'reason'
      from jsonb_array_elements(p.exceptions) x;
    if jsonb_array_length(p.images) > 0 then
        key_id := refuge.vault_key_id();
        for img in select * from jsonb_array_elements(p.images) loop
            vault_id := gen_random_uuid();
            insert into refuge.biometric_vault (id, capture_id, individual_id, part, media_type, key_id, sealed)
            values (vault_id, cap_id, ind.id, img ->> 'part', img ->> 'media_type', key_id,
                    refuge.vault_seal(decode(img ->> 'data', 'base64'),
                                      format('%s|%s|%s', vault_id, ind.id, img ->> 'part')));
        end loop;
    end if;
    return refuge.enrol_decide(cap_id, cands);
end
$$;
comment on function refuge.enrol_biometrics(uuid, jsonb) is
    'enrol a person''s fingerprints and irises after a fused 1:N search of everyone enrolled: decision enrolled, blocked or adjudication';
-- Adjudication of grey-zone enrolments (MOSIP's "manual adjudication").
-- A biometrics administrator decides each case:
--   link       same person, both records kept; the subject shares the
--              candidate's biometric identity
--   merge      same person, the subject is a duplicate record: closed as
--              DUPLICATE once a supervisor of its operation approves
--   different  different people: every candidate pair of the case is cleared
--              (never raised again) and the enrolment is decided afresh
--   fraud      a deliberate double registration: a fraud case is opened and
--              the subject is not enrolled
-- Every decision is in the audit trail (dedup_case and what it changes).

create function refuge.dedup_case_for_update(p_case uuid) returns refuge.dedup_case
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.dedup_case;
begin
    if p_case is null then
        perform refuge.raise_field('22004', 'case_id', 'is required');
    end if;
    select * into c from refuge.dedup_case d where d.id = p_case for update;
    if not found then
        perform refuge.raise_field('P0002', 'case_id', format('no adjudication case %s', p_case));
    end if;
    return c;
end
$$;

-- The identity a candidate stands for now (it may have been merged or linked since).
create function refuge.identity_of(p_individual uuid) returns uuid
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
    return (select e.identity_id from refuge.biometric_enrolment e where e.individual_id = p_individual);

create function refuge.adjudicate(case_id uuid, decision text, matched_id uuid default null, reason text default null)
    returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    c refuge.dedup_case;
    cap refuge.biometric_capture;
    identity uuid;
    fraud uuid;
    res jsonb;
    hw bigint;
    gallery bigint;
begin
    perform refuge.authorize('refuge_biometrics_admin', 'adjudicate');
    c := refuge.dedup_case_for_update(adjudicate.case_id);
    if c.status <> 'OPEN' then
        perform refuge.raise_field('55000', 'case_id', format('case %s is %s, not open', c.id, lower(c.status)));
    end if;
    if decision is null or decision not in ('link', 'merge', 'different', 'fraud') then
        perform refuge.raise_field('22023', 'decision',
            format('"%s" is not one of link, merge, different, fraud', coalesce(decision, 'null')));
    end if;
    if nullif(btrim(reason), '') is null then
        perform refuge.raise_field('22004', 'reason', 'is required: say what the decision rests on');
    end if;
    if decision in ('link', 'merge', 'fraud') then
        if matched_id is null and decision = 'fraud' then
            select d.candidate_id into matched_id from refuge.dedup_candidate d where d.case_id = c.id and d.rank = 1;
        end if;
        if matched_id is null then
            perform refuge.raise_field('22004', 'matched_id', format('is required for %s', decision));
        end if;
        if not exists (select 1 from refuge.dedup_candidate d where d.case_id = c.id and d.candidate_id = matched_id) then
            perform refuge.raise_field('22023', 'matched_id', format('%s is not a candidate of case %s', matched_id, c.id));
        end if;
    elsif matched_id is not null then
        perform refuge.raise_field('22023', 'matched_id', 'must be empty when the people are different');
    end if;
    select * into cap from refuge.biometric_capture b where b.id = c.capture_id;

    if decision = 'link' then
        perform refuge.enrolment_lock();
        identity := refuge.identity_of(matched_id);
        insert into refuge.biometric_enrolment (individual_id, identity_id, operation_id, site_id, capture_id, status)
        values (c.individual_id, identity, cap.operation_id, cap.site_id, cap.id, 'LINKED');
        res := jsonb_build_object('decision', 'link', 'identity_id', identity);
        update refuge.dedup_case d set status = 'CLOSED' where d.id = c.id;
    elsif decision = 'merge' then
        res := jsonb_build_object('decision', 'merge', 'status', 'awaiting supervisor approval');
        update refuge.dedup_case d set status = 'AWAITING_APPROVAL' where d.id = c.id;
    elsif decision = 'fraud' then
        insert into refuge.fraud_case (individual_id, other_id, operation_id, site_id, source, dedup_case_id, summary, opened_by)
        values (c.individual_id, matched_id, c.operation_id, c.site_id, 'adjudication', c.id, btrim(reason), refuge.caller())
        returning id into fraud;
        res := jsonb_build_object('decision', 'fraud', 'fraud_case_id', fraud);
        update refuge.dedup_case d set status = 'CLOSED' where d.id = c.id;
    else
        insert into refuge.dedup_cleared_pair (individual_a, individual_b, case_id, cleared_by)
        select least(c.individual_id, d.candidate_id), greatest(c.individual_id, d.candidate_id), c.id, refuge.caller()
          from refuge.dedup_candidate d where d.case_id = c.id
        on conflict do nothing;
        update refuge.dedup_case d set status = 'CLOSED' where d.id = c.id;
        -- the gallery has grown since the capture: search again, then decide
        select coalesce(max(e.seq), 0) into hw from refuge.biometric_enrolment e;
        gallery := refuge.gallery_size();
        update refuge.biometric_capture b set gallery_seq = hw, gallery_size = gallery where b.id = cap.id;
        res := jsonb_build_object('decision', 'different',
            'enrolment', refuge.enrol_decide(cap.id, refuge.dedup_candidates(cap.fingers, cap.irises,
                                                 (refuge.dedup_settings()).search_fingers, gallery)));
    end if;
    update refuge.dedup_case d
       set decision = adjudicate.decision, matched_id = adjudicate.matched_id, reason = btrim(adjudicate.reason),
           decided_by = refuge.caller(), decided_at = now(), outcome = res
     where d.id = c.id;
    return res || jsonb_build_object('case_id', c.id);
end
$$;
comment on function refuge.adjudicate(uuid, text, uuid, text) is
    'decide an adjudication case: link, merge (then approve_merge), different (pair cleared, enrolment decided again) or fraud';

create function refuge.approve_merge(case_id uuid, approve boolean, reason text default null) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    c refuge.dedup_case;
    cap refuge.biometric_capture;
    subject refuge.individual;
    target refuge.individual;
    membership refuge.group_membership;
    identity uuid;
begin
    perform refuge.authorize('refuge_supervisor', 'approve_merge');
    c := refuge.dedup_case_for_update(approve_merge.case_id);
    if not refuge.in_scope(c.operation_id, c.site_id) then
        perform refuge.raise_field('P0002', 'case_id', format('no adjudication case %s in your operations', c.id));
    end if;
    if c.status <> 'AWAITING_APPROVAL' then
        perform refuge.raise_field('55000', 'case_id', format('case %s is %s, not awaiting approval', c.id, lower(c.status)));
    end if;
    if approve is null then
        perform refuge.raise_field('22004', 'approve', 'is required (true or false)');
    end if;
    if c.decided_by = refuge.caller() and not refuge.caller_is_superuser() then
        perform refuge.raise_field('42501', 'case_id', 'the reviewer who proposed the merge cannot approve it');
    end if;
    if not approve then
        if nullif(btrim(reason), '') is null then
            perform refuge.raise_field('22004', 'reason', 'is required when a merge is rejected');
        end if;
        -- back to the reviewers, with the rejection on record
        update refuge.dedup_case d
           set status = 'OPEN', decision = null, decided_by = null, decided_at = null, matched_id = null,
               approval = 'rejected', approved_by = refuge.caller(), approved_at = now(),
               outcome = jsonb_build_object('rejected', btrim(reason))
         where d.id = c.id;
        return jsonb_build_object('case_id', c.id, 'approval', 'rejected', 'status', 'open');
    end if;

    select * into subject from refuge.individual i where i.id = c.individual_id for update;
    select * into target from refuge.individual i where i.id = c.matched_id;
    select * into membership from refuge.group_membership m where m.individual_id = subject.id and m.valid_to is null;
    if membership.relationship = 'PA' and exists (select 1 from refuge.group_membership m
            where m.group_id = membership.group_id and m.valid_to is null and m.individual_id <> subject.id) then
        perform refuge.raise_field('55000', 'case_id',
            format('%s is the principal of a family with other members; set another principal first', subject.number));
    end if;
    select * into cap from refuge.biometric_capture b where b.id = c.capture_id;
    perform refuge.enrolment_lock();
    identity := refuge.identity_of(c.matched_id);
    insert into refuge.biometric_enrolment (individual_id, identity_id, operation_id, site_id, capture_id, status)
    values (subject.id, identity, cap.operation_id, cap.site_id, cap.id, 'MERGED');
    -- the duplicate record stays, closed, with everything attached to it
    update refuge.individual i
       set status = 'DUPLICATE', status_date = current_date,
           status_reason = format('merged into %s (adjudication case %s)', target.number, c.id)
     where i.id = subject.id;
    if membership.id is not null then
        update refuge.group_membership m
           set valid_to = now(), end_reason = 'MERGE', comment = format('duplicate of %s', target.number)
         where m.id = membership.id;
    end if;
    update refuge.dedup_case d
       set status = 'CLOSED', approval = 'approved', approved_by = refuge.caller(), approved_at = now(),
           outcome = d.outcome || jsonb_build_object('identity_id', identity, 'merged_into', target.id)
     where d.id = c.id;
    return jsonb_build_object('case_id', c.id, 'approval', 'approved', 'merged_into', target.id, 'identity_id', identity);
end
$$;
comment on function refuge.approve_merge(uuid, boolean, text) is
    'a supervisor (not the reviewer) approves or rejects a proposed merge; approval closes the subject as DUPLICATE';

-- The reviewers' queue: open and awaiting cases, oldest first, with the best
-- candidate.  security_invoker: each role sees the cases its policies allow.
create view refuge.adjudication_queue with (security_invoker = true) as
select c.id as case_id, c.status, c.created_at as raised_at, o.code as operation, s.code as site,
       i.number as subject_number, c.individual_id as subject_id,
       (select count(*) from refuge.dedup_candidate d where d.case_id = c.id) as candidates,
       b.candidate_id as best_candidate_id, b.evidence as best_evidence, b.modalities as best_modalities,
       b.fpir as best_fpir, c.decision as proposed, c.decided_by as proposed_by
  from refuge.dedup_case c
  join refuge.operation o on o.id = c.operation_id
  join refuge.site s on s.id = c.site_id
  join refuge.individual i on i.id = c.individual_id
  left join refuge.dedup_candidate b on b.case_id = c.id and b.rank = 1
 where c.status <> 'CLOSED'
 order by c.created_at;
comment on view refuge.adjudication_queue is 'adjudication cases not yet closed, oldest first, with the best candidate';
alter view refuge.adjudication_queue owner to refuge_owner;
grant select on refuge.adjudication_queue to refuge_biometrics_admin, refuge_supervisor;
-- 1:1 verification: is this the person enrolled as individual_id?  The
-- threshold follows from refuge.verify_fmr and the parts compared (a gallery
-- of one).  Every verification is logged with who, where and when.

create function refuge.verify_person(ind refuge.individual, fingers refuge.fingerprint[], irises refuge.iris[],
                                     p_site uuid, purpose text, device text)
    returns refuge.biometric_verification
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    identity uuid := refuge.identity_of(ind.id);
    ev double precision;
    k integer := 0;
    sc double precision[];
    threshold double precision;
    v refuge.biometric_verification;
begin
    if identity is not null then
        select pm.evidence, pm.modalities, pm.scores into ev, k, sc
          from refuge.gallery_templates(identity) g,
               lateral refuge.person_match(fingers, irises, g.gallery_fingers, g.gallery_irises) pm;
    end if;
    if k > 0 then
        threshold := refuge.fused_threshold(1, (refuge.dedup_settings()).verify_fmr, k);
    end if;
    insert into refuge.biometric_verification (individual_id, identity_id, operation_id, site_id, purpose, match,
                                               evidence, threshold, modalities, scores, device, verified_by)
    values (ind.id, identity, ind.operation_id, coalesce(p_site, ind.site_id), purpose,
            k > 0 and ev >= threshold, ev, threshold, k, sc, device, refuge.caller())
    returning * into v;
    return v;
end
$$;

create function refuge.verification_json(v refuge.biometric_verification) returns jsonb
    language sql immutable
begin atomic
    select jsonb_strip_nulls(jsonb_build_object('verification_id', v.id, 'match', v.match,
        'score', round(v.evidence::numeric, 2), 'threshold', round(v.threshold::numeric, 2),
        'modalities', v.modalities,
        'fmr', case when v.modalities > 0 then round(greatest(refuge.fused_fpir(v.evidence, v.modalities, 1), 1e-15)::numeric, 15) end,
        'reason', case when v.identity_id is null then 'not_enrolled'
                       when v.modalities = 0 then 'no_common_parts' end));
end;

create function refuge.verify(individual_id uuid, templates jsonb) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    ind refuge.individual;
    p record;
    site_id uuid;
begin
    perform refuge.authorize_any(array['refuge_biometrics', 'refuge_assistance'], 'verify');
    if verify.individual_id is null then
        perform refuge.raise_field('22004', 'individual_id', 'is required');
    end if;
    select * into ind from refuge.individual i where i.id = verify.individual_id;
    if not found or not refuge.in_scope(ind.operation_id, ind.site_id) then
        perform refuge.raise_field('P0002', 'individual_id', format('no individual %s in your operations', verify.individual_id));
    end if;
    if templates is null then
        perform refuge.raise_field('22004', 'templates', 'is required');
    end if;
    p := refuge.parse_biometrics(templates, false);
    if jsonb_array_length(p.images) > 0 then
        perform refuge.raise_field('22023', 'templates.images', 'verification takes templates only; images go to the vault at enrolment');
    end if;
    if p.site is not null then
        select s.id into site_id from refuge.site s where s.operation_id = ind.operation_id and s.code = p.site;
        if site_id is null then
            perform refuge.raise_field('23503', 'templates.capture.site', format('"%s" is not a site of this operation', p.site));
        end if;
    end if;
    return refuge.verification_json(refuge.verify_person(ind, p.fingers, p.irises, site_id, 'verify', p.device));
end
$$;
comment on function refuge.verify(uuid, jsonb) is
    '1:1 biometric verification of an individual (logged): match, score (fused evidence), threshold from refuge.verify_fmr';
-- Opening one vault image: biometrics administrators only, with a stated
-- purpose, and every opening logged in vault_access (same transaction: no
-- log, no image).
create function refuge.vault_image(vault_id uuid, purpose text) returns bytea
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    v refuge.biometric_vault;
    plain bytea;
begin
    perform refuge.authorize('refuge_biometrics_admin', 'vault_image');
    if nullif(btrim(purpose), '') is null then
        perform refuge.raise_field('22004', 'purpose', 'is required: say why the image is opened');
    end if;
    select * into v from refuge.biometric_vault b where b.id = vault_image.vault_id;
    if not found then
        perform refuge.raise_field('P0002', 'vault_id', format('no vault image %s', vault_image.vault_id));
    end if;
    plain := refuge.vault_open(v.sealed, format('%s|%s|%s', v.id, v.individual_id, v.part));
    insert into refuge.vault_access (vault_id, individual_id, purpose, accessed_by)
    values (v.id, v.individual_id, btrim(purpose), refuge.caller());
    return plain;
end
$$;
comment on function refuge.vault_image(uuid, text) is
    'decrypt one source image from the HQ vault (biometrics administrators; logged with the purpose)';

-- What the vault holds for an individual, without opening anything.
create function refuge.vault_contents(individual_id uuid)
    returns table (vault_id uuid, capture_id uuid, part text, media_type text, bytes integer, key_id text,
                   created_at timestamptz)
    language plpgsql stable security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    perform refuge.authorize('refuge_biometrics_admin', 'vault_contents');
    return query select b.id, b.capture_id, b.part, b.media_type, length(b.sealed) - 40, b.key_id, b.created_at
                   from refuge.biometric_vault b where b.individual_id = vault_contents.individual_id
                  order by b.created_at, b.part;
end
$$;
-- Assistance: plans, cycles with entitlements, distributions, and collection
-- by a biometrically verified collector (the family's principal
-- representative or an authorised alternate).  A second collection in the
-- same cycle is refused and raises a fraud alert.

create function refuge.create_assistance_plan(plan jsonb) returns uuid
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    op refuge.operation;
    op_code text;
    modality text;
    ration jsonb;
    k text;
    v jsonb;
    types text[];
    sites uuid[];
    site_code text;
    sid uuid;
    new_id uuid;
begin
    perform refuge.arg_fields(plan, 'plan', array['operation', 'code', 'name', 'modality', 'ration', 'population_types',
                                                  'sites', 'starts_on', 'ends_on']);
    op_code := refuge.arg_text(plan, 'operation', 'plan', true, 10);
    select * into op from refuge.operation o where o.code = op_code;
    if not found then
        perform refuge.raise_field('23503', 'plan.operation', format('unknown operation "%s"', op_code));
    end if;
    perform refuge.authorize('refuge_assistance', 'create_assistance_plan', op.id);
    modality := coalesce(refuge.arg_text(plan, 'modality', 'plan', false, 20), 'IN_KIND');
    if modality not in ('IN_KIND', 'CASH', 'VOUCHER') then
        perform refuge.raise_field('22023', 'plan.modality', format('"%s" is not IN_KIND, CASH or VOUCHER', modality));
    end if;
    ration := plan -> 'ration';
    if ration is null or jsonb_typeof(ration) <> 'object' or ration = '{}' then
        perform refuge.raise_field('22023', 'plan.ration', 'expected an object of quantities per person, e.g. {"maize_kg": 12}');
    end if;
    for k, v in select * from jsonb_each(ration) loop
        if jsonb_typeof(v) <> 'number' or v::numeric <= 0 then
            perform refuge.raise_field('22023', 'plan.ration.' || k, format('%s is not a positive quantity', v));
        end if;
    end loop;
    if jsonb_typeof(plan -> 'population_types') is distinct from 'array' or jsonb_array_length(plan -> 'population_types') = 0 then
        perform refuge.raise_field('22004', 'plan.population_types', 'is required: the population types targeted');
    end if;
    for i in 0 .. jsonb_array_length(plan -> 'population_types') - 1 loop
        perform refuge.arg_code(jsonb_build_object('t', plan -> 'population_types' -> i), 't',
                                format('plan.population_types[%s]', i), 'population_type', true);
        types := types || (plan -> 'population_types' ->> i);
    end loop;
    if plan ? 'sites' then
        for i in 0 .. coalesce(jsonb_array_length(refuge.arg_array(plan, 'sites', 'plan', 1000)), 0) - 1 loop
            site_code := plan -> 'sites' ->> i;
            select s.id into sid from refuge.site s where s.operation_id = op.id and s.code = site_code;
            if sid is null then
                perform refuge.raise_field('23503', format('plan.sites[%s]', i), format('unknown site "%s" in %s', site_code, op.code));
            end if;
            sites := sites || sid;
        end loop;
    end if;
    insert into refuge.assistance_plan (operation_id, code, name, modality, ration, population_types, site_ids,
                                        starts_on, ends_on)
    values (op.id, refuge.arg_text(plan, 'code', 'plan', true, 40), refuge.arg_text(plan, 'name', 'plan', true),
            modality, ration, types, sites,
            coalesce(refuge.arg_date(plan, 'starts_on', 'plan', false, false), current_date),
            refuge.arg_date(plan, 'ends_on', 'plan', false, false))
    returning id into new_id;
    return new_id;
exception when unique_violation then
    perform refuge.raise_field('23505', 'plan.code', format('"%s" already exists in %s', plan ->> 'code', op.code));
end
$$;

-- Open the next cycle of a plan: one entitlement per targeted family, the
-- ration times the family's active members today.
create function refuge.open_assistance_cycle(plan_id uuid, starts_on date, ends_on date) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    p refuge.assistance_plan;
    cycle_id uuid;
    num integer;
    n bigint;
begin
    select * into p from refuge.assistance_plan a where a.id = open_assistance_cycle.plan_id for update;
    if not found then
        perform refuge.raise_field('P0002', 'plan_id', format('no assistance plan %s', plan_id));
    end if;
    perform refuge.authorize('refuge_assistance', 'open_assistance_cycle', p.operation_id);
    if p.status <> 'ACTIVE' then
        perform refuge.raise_field('55000', 'plan_id', format('plan %s is closed', p.code));
    end if;
    if starts_on is null or ends_on is null or ends_on < starts_on then
        perform refuge.raise_field('22008', 'ends_on', 'starts_on and ends_on are required, ends_on not before starts_on');
    end if;
    if exists (select 1 from refuge.assistance_cycle c where c.plan_id = p.id
                and daterange(c.starts_on, c.ends_on, '[]') && daterange(open_assistance_cycle.starts_on, open_assistance_cycle.ends_on, '[]')) then
        perform refuge.raise_field('22008', 'starts_on', 'the cycle overlaps an existing cycle of this plan');
    end if;
    select coalesce(max(c.number), 0) + 1 into num from refuge.assistance_cycle c where c.plan_id = p.id;
    insert into refuge.assistance_cycle (plan_id, operation_id, number, starts_on, ends_on)
    values (p.id, p.operation_id, num, open_assistance_cycle.starts_on, open_assistance_cycle.ends_on)
    returning id into cycle_id;
    insert into refuge.entitlement (cycle_id, group_id, operation_id, site_id, members, items)
    select cycle_id, g.id, g.operation_id, g.site_id, m.members,
           (select jsonb_object_agg(r.key, r.value::numeric * m.members) from jsonb_each(p.ration) r)
      from refuge.registration_group g
      cross join lateral (select count(*) as members,
                                 bool_or(gm.relationship = 'PA' and i.population_type = any (p.population_types)) as targeted
                            from refuge.group_membership gm join refuge.individual i on i.id = gm.individual_id
                           where gm.group_id = g.id and gm.valid_to is null and i.status = 'ACTIVE') m
     where g.operation_id = p.operation_id and g.status = 'ACTIVE'
       and (p.site_ids is null or g.site_id = any (p.site_ids))
       and m.members > 0 and m.targeted;
    get diagnostics n = row_count;
    return jsonb_build_object('cycle_id', cycle_id, 'number', num, 'entitlements', n);
end
$$;

create function refuge.authorise_collector(group_id uuid, individual_id uuid, reason text, valid_to date default null)
    returns uuid
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    g refuge.registration_group;
    ind refuge.individual;
    new_id uuid;
begin
    select * into g from refuge.registration_group r where r.id = authorise_collector.group_id;
    if not found then
        perform refuge.raise_field('P0002', 'group_id', format('no registration group %s', authorise_collector.group_id));
    end if;
    perform refuge.authorize('refuge_assistance', 'authorise_collector', g.operation_id, g.site_id);
    select * into ind from refuge.individual i where i.id = authorise_collector.individual_id;
    if not found or not refuge.in_scope(ind.operation_id, ind.site_id) then
        perform refuge.raise_field('P0002', 'individual_id', format('no individual %s in your operations', authorise_collector.individual_id));
    end if;
    if ind.status <> 'ACTIVE' then
        perform refuge.raise_field('55000', 'individual_id', format('%s has status %s', ind.number, ind.status));
    end if;
    if nullif(btrim(reason), '') is null then
        perform refuge.raise_field('22004', 'reason', 'is required (why this person collects for the family)');
    end if;
    if valid_to is not null and valid_to < current_date then
        perform refuge.raise_field('22008', 'valid_to', format('%s is in the past', refuge.iso(valid_to)));
    end if;
    insert into refuge.collector (group_id, individual_id, operation_id, site_id, valid_to, reason)
    values (g.id, ind.id, g.operation_id, g.site_id, authorise_collector.valid_to, btrim(reason))
    returning id into new_id;
    return new_id;
end
$$;

create function refuge.open_distribution(cycle_id uuid, site text, held_on date default current_date) returns uuid
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    c refuge.assistance_cycle;
    sid uuid;
    new_id uuid;
begin
    select * into c from refuge.assistance_cycle a where a.id = open_distribution.cycle_id;
    if not found then
        perform refuge.raise_field('P0002', 'cycle_id', format('no assistance cycle %s', open_distribution.cycle_id));
    end if;
    select s.id into sid from refuge.site s where s.operation_id = c.operation_id and s.code = open_distribution.site;
    if sid is null then
        perform refuge.raise_field('23503', 'site', format('unknown site "%s" in this operation', coalesce(site, 'null')));
    end if;
    perform refuge.authorize('refuge_assistance', 'open_distribution', c.operation_id, sid);
    if held_on is null or held_on not between c.starts_on and c.ends_on then
        perform refuge.raise_field('22008', 'held_on',
            format('%s is outside cycle %s (%s to %s)', coalesce(refuge.iso(held_on), 'null'), c.number,
                   refuge.iso(c.starts_on), refuge.iso(c.ends_on)));
    end if;
    insert into refuge.distribution_event (cycle_id, operation_id, site_id, held_on)
    values (c.id, c.operation_id, sid, held_on)
    returning id into new_id;
    return new_id;
end
$$;

create function refuge.collect(distribution_id uuid, group_id uuid, collector_id uuid, templates jsonb) returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    ev refuge.distribution_event;
    ent refuge.entitlement;
    who refuge.individual;
    p record;
    v refuge.biometric_verification;
    refusal text;
    alert uuid;
    first refuge.collection;
    new_id uuid;
begin
    select * into ev from refuge.distribution_event d where d.id = collect.distribution_id;
    if not found then
        perform refuge.raise_field('P0002', 'distribution_id', format('no distribution %s', collect.distribution_id));
    end if;
    perform refuge.authorize('refuge_assistance', 'collect', ev.operation_id, ev.site_id);
    if ev.status <> 'OPEN' then
        perform refuge.raise_field('55000', 'distribution_id', 'the distribution is closed');
    end if;
    -- one desk at a time per family: the entitlement row is the lock
    select * into ent from refuge.entitlement e where e.cycle_id = ev.cycle_id and e.group_id = collect.group_id for update;
    if not found then
        perform refuge.raise_field('P0002', 'group_id', format('family %s has no entitlement in this cycle', collect.group_id));
    end if;
    select * into who from refuge.individual i where i.id = collect.collector_id;
    if not found then
        perform refuge.raise_field('P0002', 'collector_id', format('no individual %s', collect.collector_id));
    end if;
    if templates is null then
        perform refuge.raise_field('22004', 'templates', 'is required: the collector''s fingerprints or irises');
    end if;
    p := refuge.parse_biometrics(templates, false);

    if not exists (select 1 from refuge.group_membership gm where gm.group_id = ent.group_id and gm.individual_id = who.id
                    and gm.valid_to is null and gm.relationship = 'PA')
       and not exists (select 1 from refuge.collector c where c.group_id = ent.group_id and c.individual_id = who.id
                        and c.valid_from <= current_date and (c.valid_to is null or c.valid_to >= current_date)) then
        refusal := 'not_authorised';
    else
        v := refuge.verify_person(who, p.fingers, p.irises, ev.site_id, 'collection', p.device);
        if v.identity_id is null then
            refusal := 'not_enrolled';
        elsif not v.match then
            refusal := 'verification_failed';
        elsif ent.status = 'COLLECTED' then
            refusal := 'already_collected';
            select * into first from refuge.collection c where c.entitlement_id = ent.id and c.outcome = 'COLLECTED';
            alert := refuge.raise_fraud_alert('second_collection', who.id, first.collector_id, null,
                jsonb_build_object('entitlement_id', ent.id, 'group_id', ent.group_id, 'distribution_id', ev.id,
                                   'first_collection_id', first.id, 'first_collected_at', first.collected_at));
        end if;
    end if;
    insert into refuge.collection (entitlement_id, event_id, group_id, collector_id, operation_id, site_id,
                                   verification_id, outcome, refusal, alert_id, collected_by)
    values (ent.id, ev.id, ent.group_id, who.id, ev.operation_id, ev.site_id, v.id,
            case when refusal is null then 'COLLECTED' else 'REFUSED' end, refusal, alert, refuge.caller())
    returning id into new_id;
    if refusal is null then
        update refuge.entitlement e set status = 'COLLECTED' where e.id = ent.id;
    end if;
    return jsonb_strip_nulls(jsonb_build_object(
        'decision', case when refusal is null then 'collected' else 'refused' end,
        'reason', refusal, 'collection_id', new_id, 'alert_id', alert,
        'items', case when refusal is null then ent.items end,
        'verification', case when v.id is not null then refuge.verification_json(v) end));
end
$$;
comment on function refuge.collect(uuid, uuid, uuid, jsonb) is
    'collection at a distribution: the collector must be the principal or an authorised alternate and pass 1:1 verification; a second collection in the cycle is refused with a fraud alert';
-- 1:N identification without enrolment (MOSIP ABIS "identify"): someone
-- without documents says they are registered, or a verification exercise
-- checks a person against everyone.  Same search and fused comparison as
-- enrol_biometrics; candidates at or below refuge.target_fpir, strongest
-- first, shown as enrol_biometrics shows them (a number only when the caller
-- may see that individual).  Logged in refuge.biometric_identification.
create function refuge.identify(templates jsonb, site text, purpose text, max_results integer default 5)
    returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    p record;
    pol record;
    s refuge.site;
    gallery bigint := refuge.gallery_size();
    found_rows jsonb := '[]';
    ids uuid[] := '{}';
    best double precision;
    c record;
    rk integer := 0;
    new_id uuid;
begin
    perform refuge.authorize_any(array['refuge_biometrics', 'refuge_biometrics_admin'], 'identify');
    select * into s from refuge.site x where x.code = identify.site
       and (refuge.in_scope(x.operation_id, x.id) or refuge.caller_has('refuge_biometrics_admin'));
    if not found then
        perform refuge.raise_field('23503', 'site', format('"%s" is not a site you are assigned to', coalesce(site, 'null')));
    end if;
    if nullif(btrim(purpose), '') is null then
        perform refuge.raise_field('22004', 'purpose', 'is required: say why this person is searched');
    end if;
    if max_results is null or max_results not between 1 and 50 then
        perform refuge.raise_field('22023', 'max_results', format('%s is not between 1 and 50', coalesce(max_results::text, 'null')));
    end if;
    if templates is null then
        perform refuge.raise_field('22004', 'templates', 'is required');
    end if;
    p := refuge.parse_biometrics(templates, false);
    if jsonb_array_length(p.images) > 0 then
        perform refuge.raise_field('22023', 'templates.images', 'identification takes templates only');
    end if;
    pol := refuge.dedup_settings();
    for c in select * from refuge.score_candidates(p.fingers, p.irises,
                     refuge.dedup_candidates(p.fingers, p.irises, pol.search_fingers, gallery),
                     '00000000-0000-0000-0000-000000000000', gallery) x
              where x.fpir <= pol.target_fpir limit max_results loop
        rk := rk + 1;
        best := coalesce(best, c.fpir);
        ids := ids || c.candidate_id;
        found_rows := found_rows || refuge.candidate_json(c.candidate_id, rk, c.evidence, c.modalities, c.fpir, c.scores);
    end loop;
    insert into refuge.biometric_identification (operation_id, site_id, purpose, gallery_size, target_fpir, candidates,
                                                 best_fpir, device, searched_by)
    values (s.operation_id, s.id, btrim(purpose), gallery, pol.target_fpir, ids, best, p.device, refuge.caller())
    returning id into new_id;
    return jsonb_build_object('identification_id', new_id, 'gallery_size', gallery, 'target_fpir', pol.target_fpir,
                              'candidates', found_rows);
end
$$;
comment on function refuge.identify(jsonb, text, text, integer) is
    '1:N identification of a person against everyone enrolled, without enrolling (logged): ranked candidates at or below refuge.target_fpir';
-- Ownership, row-level security, privileges, codes, audit and dump
-- registration of the identity and assistance tables (as in sql/50_rls.sql:
-- NOLOGIN owner, RLS enabled and forced, SELECT-only grants, writes through
-- the SECURITY DEFINER API).

do $own$
declare
    t text;
begin
    foreach t in array array['biometric_exception_reason', 'biometric_capture', 'biometric_enrolment',
        'biometric_finger', 'biometric_iris', 'biometric_exception', 'biometric_vault', 'vault_access',
        'biometric_verification', 'biometric_identification', 'dedup_case', 'dedup_candidate', 'dedup_cleared_pair',
        'fraud_case', 'fraud_alert', 'assistance_plan', 'assistance_cycle', 'entitlement', 'collector', 'distribution_event',
        'collection']
    loop
        execute format('alter table refuge.%I owner to refuge_owner', t);
        execute format('alter table refuge.%I enable row level security', t);
        execute format('alter table refuge.%I force row level security', t);
        execute format('create policy owner_all on refuge.%I for all to refuge_owner using (true) with check (true)', t);
    end loop;
end
$own$;

-- The new vocabulary: readable by every refuge role, guarded like the others.
grant select on refuge.biometric_exception_reason to refuge_registration, refuge_supervisor, refuge_analyst,
    refuge_admin, refuge_biometrics, refuge_biometrics_admin, refuge_assistance;
create policy read_all on refuge.biometric_exception_reason for select
    to refuge_registration, refuge_supervisor, refuge_analyst, refuge_admin, refuge_biometrics,
       refuge_biometrics_admin, refuge_assistance
    using (true);
create trigger vocab_guard before delete or update of code on refuge.biometric_exception_reason
    for each row execute function refuge.vocab_guard();
create trigger vocab_changed after insert or update on refuge.biometric_exception_reason
    for each statement execute function refuge.vocab_changed();
create trigger check_codes before insert or update on refuge.biometric_exception
    for each row execute function refuge.check_codes('reason', 'biometric_exception_reason');

-- The new roles read what every refuge role reads (vocabularies, operations,
-- sites): the tables given a read_all policy by sql/50_rls.sql.
do $public$
declare
    t name;
begin
    for t in select p.tablename from pg_catalog.pg_policies p
              where p.schemaname = 'refuge' and p.policyname = 'read_all'
                and p.tablename <> 'biometric_exception_reason'
    loop
        execute format('grant select on refuge.%I to refuge_biometrics, refuge_biometrics_admin, refuge_assistance', t);
        execute format('create policy read_identity_roles on refuge.%I for select
                        to refuge_biometrics, refuge_biometrics_admin, refuge_assistance using (true)', t);
    end loop;
end
$public$;

-- Field staff of the operation (or site): enrolment status and exceptions,
-- verifications, assistance.  HQ biometrics administrators: all of
-- identity management.  Supervisors: adjudication (merge approval), fraud.
-- Templates and captures: HQ only.  The vault: nobody (vault_image()).
do $policies$
declare
    t record;
begin
    for t in select * from (values
        ('biometric_enrolment', 'refuge_registration, refuge_supervisor, refuge_biometrics, refuge_assistance', true),
        ('biometric_exception', 'refuge_registration, refuge_supervisor, refuge_biometrics', true),
        ('biometric_verification', 'refuge_supervisor, refuge_biometrics, refuge_assistance', true),
        ('biometric_identification', 'refuge_supervisor, refuge_biometrics', true),
        ('dedup_case', 'refuge_supervisor', true),
        ('fraud_alert', 'refuge_supervisor', true),
        ('fraud_case', 'refuge_supervisor', true),
        ('biometric_capture', null, true),
        ('biometric_finger', null, true),
        ('biometric_iris', null, true),
        ('vault_access', null, true),
        ('dedup_candidate', null, true),
        ('dedup_cleared_pair', null, true),
        ('entitlement', 'refuge_assistance, refuge_supervisor', false),
        ('collector', 'refuge_assistance, refuge_supervisor', false),
        ('collection', 'refuge_assistance, refuge_supervisor', false),
        ('distribution_event', 'refuge_assistance, refuge_supervisor', false),
        ('assistance_plan', 'refuge_assistance, refuge_supervisor', false),
        ('assistance_cycle', 'refuge_assistance, refuge_supervisor', false)) as v(tab, staff, hq)
    loop
        if t.staff is not null then
            execute format('grant select on refuge.%I to %s', t.tab, t.staff);
            if exists (select 1 from pg_catalog.pg_attribute a where a.attrelid = format('refuge.%I', t.tab)::regclass
                        and a.attname = 'site_id') then
                execute format('create policy staff_read on refuge.%I for select to %s
                                using (operation_id = any ((select refuge.scope_operations())::uuid[])
                                       or site_id = any ((select refuge.scope_sites())::uuid[]))', t.tab, t.staff);
            else
                execute format('create policy staff_read on refuge.%I for select to %s
                                using (operation_id = any ((select refuge.scope_operations())::uuid[]))', t.tab, t.staff);
            end if;
        end if;
        if t.hq then
            execute format('grant select on refuge.%I to refuge_biometrics_admin', t.tab);
            execute format('create policy hq_read on refuge.%I for select to refuge_biometrics_admin using (true)', t.tab);
        end if;
    end loop;
end
$policies$;

-- Supervisors approving a merge see the candidates of the cases of their operations.
grant select on refuge.dedup_candidate to refuge_supervisor;
create policy supervisor_read on refuge.dedup_candidate for select to refuge_supervisor
    using (exists (select 1 from refuge.dedup_case c where c.id = dedup_candidate.case_id));

-- Stamps and audit.  Templates and sealed images are recorded in the audit
-- trail only as size and digest (trigger arguments after the first).
do $attach$
declare
    t record;
begin
    for t in select * from (values
        ('biometric_capture', array['self', 'fingers', 'irises']),
        ('biometric_enrolment', array['self']),
        ('biometric_finger', array['individual', 'template']),
        ('biometric_iris', array['individual', 'template']),
        ('biometric_exception', array['self']),
        ('biometric_vault', array['individual', 'sealed']),
        ('vault_access', array['individual']),
        ('biometric_verification', array['self']),
        ('biometric_identification', array['self']),
        ('dedup_case', array['self']),
        ('dedup_candidate', array['none']),
        ('dedup_cleared_pair', array['none']),
        ('fraud_case', array['self']),
        ('fraud_alert', array['self']),
        ('assistance_plan', array['self']),
        ('assistance_cycle', array['self']),
        ('entitlement', array['self']),
        ('collector', array['self']),
        ('distribution_event', array['self']),
        ('collection', array['self']),
        ('biometric_exception_reason', array['none'])) as v(tab, args)
    loop
        if exists (select 1 from pg_catalog.pg_attribute a where a.attrelid = format('refuge.%I', t.tab)::regclass
                    and a.attname = 'updated_at') then
            execute format('create trigger stamp before insert or update on refuge.%I
                            for each row execute function refuge.stamp_row()', t.tab);
        end if;
        execute format('create trigger audit after insert or update or delete on refuge.%I
                        for each row execute function refuge.audit_row(%s)',
                       t.tab, (select string_agg(quote_literal(a), ', ') from unnest(t.args) a));
        execute format('create trigger audit_flush after insert or update or delete on refuge.%I
                        for each statement execute function refuge.audit_flush()', t.tab);
    end loop;
end
$attach$;

-- Alerts, access logs and cleared pairs are history: never edited, never deleted.
create function refuge.append_only() returns trigger
    language plpgsql
as $$
begin
    if current_setting('row_security') = 'off' then
        return null;   -- restoring a dump: let pg_restore manage the table
    end if;
    raise exception using errcode = '42501',
        message = format('%s is append-only: rows are never %s', tg_table_name,
                         case tg_op when 'DELETE' then 'deleted' else 'changed' end);
end
$$;
create trigger append_only before update or delete on refuge.vault_access
    for each row execute function refuge.append_only();
create trigger append_only before update or delete on refuge.dedup_cleared_pair
    for each row execute function refuge.append_only();
create trigger append_only before update or delete on refuge.biometric_verification
    for each row execute function refuge.append_only();
create trigger append_only before update or delete on refuge.biometric_identification
    for each row execute function refuge.append_only();
create trigger append_only before delete on refuge.biometric_capture
    for each row execute function refuge.append_only();

-- pg_dump keeps the data of these extension tables (vocabulary: local codes only).
do $dump$
declare
    t text;
begin
    foreach t in array array['biometric_capture', 'biometric_enrolment', 'biometric_finger', 'biometric_iris',
        'biometric_exception', 'biometric_vault', 'vault_access', 'biometric_verification', 'biometric_identification',
        'dedup_case',
        'dedup_candidate', 'dedup_cleared_pair', 'fraud_case', 'fraud_alert', 'assistance_plan',
        'assistance_cycle', 'entitlement', 'collector', 'distribution_event', 'collection']
    loop
        perform pg_catalog.pg_extension_config_dump(format('refuge.%I', t)::regclass, '');
    end loop;
end
$dump$;
select pg_catalog.pg_extension_config_dump('refuge.biometric_exception_reason', 'where not shipped');
select pg_catalog.pg_extension_config_dump('refuge.biometric_enrolment_seq', '');
select pg_catalog.pg_extension_config_dump('refuge.vault_access_id_seq', '');

-- Functions: owned by refuge_owner, no PUBLIC execute; the API is granted by role.
do $fn$
declare
    f record;
begin
    for f in select p.oid::regprocedure as sig from pg_catalog.pg_proc p
              where p.pronamespace = 'refuge'::regnamespace and p.proowner <> 'refuge_owner'::regrole
    loop
        execute format('alter function %s owner to refuge_owner', f.sig);
        execute format('revoke all on function %s from public', f.sig);
    end loop;
end
$fn$;

-- What policies and the API call as the invoker.
grant execute on function refuge.caller(), refuge.caller_has(name), refuge.caller_is_superuser(),
    refuge.scope_operations(), refuge.scope_sites(), refuge.in_scope(uuid, uuid)
    to refuge_biometrics, refuge_biometrics_admin, refuge_assistance;
grant execute on function refuge.enrol_biometrics(uuid, jsonb) to refuge_biometrics;
grant execute on function refuge.verify(uuid, jsonb) to refuge_biometrics, refuge_assistance;
grant execute on function refuge.identify(jsonb, text, text, integer) to refuge_biometrics, refuge_biometrics_admin;
grant execute on function refuge.adjudicate(uuid, text, uuid, text), refuge.vault_image(uuid, text),
    refuge.vault_contents(uuid) to refuge_biometrics_admin;
grant execute on function refuge.approve_merge(uuid, boolean, text) to refuge_supervisor;
grant execute on function refuge.create_assistance_plan(jsonb), refuge.open_assistance_cycle(uuid, date, date),
    refuge.authorise_collector(uuid, uuid, text, date), refuge.open_distribution(uuid, text, date),
    refuge.collect(uuid, uuid, uuid, jsonb) to refuge_assistance;
-- pure functions anyone in refuge may use for analysis
grant execute on function refuge.fused_threshold(double precision, double precision, integer),
    refuge.fused_fpir(double precision, integer, double precision), refuge.dedup_settings()
    to refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_supervisor, refuge_analyst;
grant execute on function refuge.person_match(refuge.fingerprint[], refuge.iris[], refuge.fingerprint[], refuge.iris[])
    to refuge_biometrics_admin;

-- Who is being enrolled, verified or served: operators and assistance staff
-- see the people and families of their operations; HQ adjudicators see every
-- record they may have to compare.
grant select on refuge.individual, refuge.registration_group, refuge.group_membership
    to refuge_biometrics, refuge_assistance, refuge_biometrics_admin;
create policy identity_staff_read on refuge.individual for select to refuge_biometrics, refuge_assistance
    using (operation_id = any ((select refuge.scope_operations())::uuid[])
           or site_id = any ((select refuge.scope_sites())::uuid[]));
create policy identity_staff_read on refuge.registration_group for select to refuge_biometrics, refuge_assistance
    using (operation_id = any ((select refuge.scope_operations())::uuid[])
           or site_id = any ((select refuge.scope_sites())::uuid[]));
create policy identity_staff_read on refuge.group_membership for select to refuge_biometrics, refuge_assistance
    using (exists (select 1 from refuge.individual i where i.id = group_membership.individual_id));
create policy hq_read on refuge.individual for select to refuge_biometrics_admin using (true);
create policy hq_read on refuge.registration_group for select to refuge_biometrics_admin using (true);
create policy hq_read on refuge.group_membership for select to refuge_biometrics_admin using (true);
-- synthetic biometrics are training material: anyone in refuge may generate them
grant execute on function refuge.synthetic_templates(bigint, bigint, integer),
    refuge.synthetic_fingerprint(bigint, bigint, integer), refuge.synthetic_iris(bigint, bigint, integer)
    to refuge_registration, refuge_supervisor, refuge_biometrics, refuge_biometrics_admin, refuge_assistance;
