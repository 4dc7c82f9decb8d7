-- Identity management: deduplication cases and their candidates, cleared
-- pairs, fraud cases and alerts, the adjudication queue.

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
comment on table refuge.dedup_case is 'adjudication case: an enrolment whose best matches fell in the grey zone (biometric), or a registration whose demographic comparison reached the case threshold (demographic, sql/82_demographic.sql), with the reviewer''s decision';
create policy hq_read on refuge.dedup_case for select to refuge_biometrics_admin
    using (true);
create policy staff_read on refuge.dedup_case for select to refuge_supervisor
    using ((operation_id = any ((select refuge.scope_operations())::uuid[])) or (site_id = any ((select refuge.scope_sites())::uuid[])));
grant select on refuge.dedup_case to refuge_supervisor, refuge_biometrics_admin;
select pg_catalog.pg_extension_config_dump('refuge.dedup_case', '');

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
create policy hq_read on refuge.dedup_candidate for select to refuge_biometrics_admin
    using (true);
create policy supervisor_read on refuge.dedup_candidate for select to refuge_supervisor
    using (exists (select 1 from refuge.dedup_case c where c.id = dedup_candidate.case_id));
grant select on refuge.dedup_candidate to refuge_supervisor, refuge_biometrics_admin;
select pg_catalog.pg_extension_config_dump('refuge.dedup_candidate', '');

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
create trigger append_only before delete or update on refuge.dedup_cleared_pair
    for each row execute function refuge.append_only();
alter table refuge.dedup_cleared_pair enable always trigger append_only;
create policy hq_read on refuge.dedup_cleared_pair for select to refuge_biometrics_admin
    using (true);
grant select on refuge.dedup_cleared_pair to refuge_biometrics_admin;
select pg_catalog.pg_extension_config_dump('refuge.dedup_cleared_pair', '');

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
create policy hq_read on refuge.fraud_case for select to refuge_biometrics_admin
    using (true);
create policy staff_read on refuge.fraud_case for select to refuge_supervisor
    using ((operation_id = any ((select refuge.scope_operations())::uuid[])) or (site_id = any ((select refuge.scope_sites())::uuid[])));
grant select on refuge.fraud_case to refuge_supervisor, refuge_biometrics_admin;
select pg_catalog.pg_extension_config_dump('refuge.fraud_case', '');

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
create policy hq_read on refuge.fraud_alert for select to refuge_biometrics_admin
    using (true);
create policy staff_read on refuge.fraud_alert for select to refuge_supervisor
    using ((operation_id = any ((select refuge.scope_operations())::uuid[])) or (site_id = any ((select refuge.scope_sites())::uuid[])));
grant select on refuge.fraud_alert to refuge_supervisor, refuge_biometrics_admin;
select pg_catalog.pg_extension_config_dump('refuge.fraud_alert', '');

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
grant select on refuge.adjudication_queue to refuge_supervisor, refuge_biometrics_admin;
