-- Assistance: plans, cycles, entitlements, authorised collectors,
-- distributions and verified collections.

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
create policy staff_read on refuge.assistance_plan for select to refuge_supervisor, refuge_assistance
    using (operation_id = any ((select refuge.scope_operations())::uuid[]));
grant select on refuge.assistance_plan to refuge_supervisor, refuge_assistance;
select pg_catalog.pg_extension_config_dump('refuge.assistance_plan', '');

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
create policy staff_read on refuge.assistance_cycle for select to refuge_supervisor, refuge_assistance
    using (operation_id = any ((select refuge.scope_operations())::uuid[]));
grant select on refuge.assistance_cycle to refuge_supervisor, refuge_assistance;
select pg_catalog.pg_extension_config_dump('refuge.assistance_cycle', '');

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
create policy staff_read on refuge.entitlement for select to refuge_supervisor, refuge_assistance
    using ((operation_id = any ((select refuge.scope_operations())::uuid[])) or (site_id = any ((select refuge.scope_sites())::uuid[])));
grant select on refuge.entitlement to refuge_supervisor, refuge_assistance;
select pg_catalog.pg_extension_config_dump('refuge.entitlement', '');

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
create policy staff_read on refuge.collector for select to refuge_supervisor, refuge_assistance
    using ((operation_id = any ((select refuge.scope_operations())::uuid[])) or (site_id = any ((select refuge.scope_sites())::uuid[])));
grant select on refuge.collector to refuge_supervisor, refuge_assistance;
select pg_catalog.pg_extension_config_dump('refuge.collector', '');

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
create policy staff_read on refuge.distribution_event for select to refuge_supervisor, refuge_assistance
    using ((operation_id = any ((select refuge.scope_operations())::uuid[])) or (site_id = any ((select refuge.scope_sites())::uuid[])));
grant select on refuge.distribution_event to refuge_supervisor, refuge_assistance;
select pg_catalog.pg_extension_config_dump('refuge.distribution_event', '');

-- Every collection attempt, refused ones included.
create table refuge.collection (
    id               uuid primary key default gen_random_uuid(),
    entitlement_id   uuid not null references refuge.entitlement,
    event_id         uuid not null references refuge.distribution_event,
    group_id         uuid not null references refuge.registration_group,
    collector_id     uuid not null references refuge.individual,
    operation_id     uuid not null references refuge.operation,
    site_id          uuid not null,
    verification_id  uuid,
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
create unique index collection_once on refuge.collection (entitlement_id) where outcome = 'COLLECTED';
create index on refuge.collection (group_id);
comment on table refuge.collection is 'collection attempts at distributions (collected or refused, with the verification)';
create policy staff_read on refuge.collection for select to refuge_supervisor, refuge_assistance
    using ((operation_id = any ((select refuge.scope_operations())::uuid[])) or (site_id = any ((select refuge.scope_sites())::uuid[])));
grant select on refuge.collection to refuge_supervisor, refuge_assistance;
select pg_catalog.pg_extension_config_dump('refuge.collection', '');
