-- Demographic deduplication: what the search reads (each person's names in
-- canonical form and their blocking keys, kept by triggers from individual
-- and individual_name) and the comparison model (Fellegi-Sunter weights
-- estimated from the data, and the scores of non-matching pairs from which
-- thresholds follow).  The functions are functions/43_demographic.sql.

-- One row per person: canonical name forms (the name as registered, in
-- original script, aliases, earlier names, the maiden name), blocking keys,
-- parents' names and place of birth in canonical form.  Derived from audited
-- tables (not audited itself, so that the audit trail holds no second copy
-- of every name); a dump carries it.
create table refuge.match_profile (
    individual_id   uuid primary key references refuge.individual on delete cascade,
    names           text[] not null,
    keys            text[] not null,
    birth_year      smallint not null,
    parents         text[] not null default '{}',
    place           text,
    updated_at      timestamptz not null default now(),
    -- the other facts the search compares, copied from individual so that a
    -- candidate is one lookup, not two (since 0.15.0)
    dob             date,
    dob_precision   text,
    sex             text,
    birth_country   text,
    site            uuid,
    operation       uuid,
    registered_on   date,
    record_status   text,
    -- keys of the household: the person's given name with each other
    -- member's (since 0.15.0), refuge.household_keys_of
    household_keys  text[] not null default '{}'
);
comment on table refuge.match_profile is
    'internal: each person''s names in canonical form and blocking keys (refuge.name_canonical, refuge.name_block_keys), and the facts the search compares, kept by triggers';
comment on column refuge.match_profile.birth_year is 'year of birth, 0 when unknown';
comment on column refuge.match_profile.dob is 'individual.date_of_birth (as are dob_precision, sex, birth_country, site = site_id, operation = operation_id, registered_on = registration_date, record_status = status)';
comment on column refuge.match_profile.household_keys is 'blocking keys of the household (refuge.household_keys_of): the person''s given name with each other member''s, so that a family registered again is found however common its names';
select pg_catalog.pg_extension_config_dump('refuge.match_profile', '');

-- The blocking index: a person under each key of their names and their
-- birth year (0: unknown).  Searched by key and a window of years.
create table refuge.match_block (
    key             text not null,
    birth_year      smallint not null,
    individual_id   uuid not null,
    primary key (key, birth_year, individual_id)
);
comment on table refuge.match_block is
    'internal: blocking keys of the demographic search (name keys and pairs of them, household keys, by birth year)';
select pg_catalog.pg_extension_config_dump('refuge.match_block', '');

-- The comparison model: for each compared feature and level, the
-- probability of that level among pairs of records of the same person (m)
-- and of different people (u), estimated by refuge.estimate_match_model().
create table refuge.match_weight (
    feature         text not null check (feature in ('name', 'birth_date', 'sex', 'birth_place', 'parents',
                                                    'family', 'document', 'phone', 'registration')),
    level           smallint not null check (level between 0 and 9),
    label           text not null,
    m               double precision not null check (m > 0 and m <= 1),
    u               double precision not null check (u > 0 and u <= 1),
    primary key (feature, level)
);
comment on table refuge.match_weight is
    'demographic comparison model: P(level | same person) m and P(level | different people) u per feature; weight log10(m/u)';
select pg_catalog.pg_extension_config_dump('refuge.match_weight', '');

-- How the model in force was estimated, and the false candidates per
-- search it expects at each score (from the non-matching pairs of the
-- searches it ran), from which the thresholds for a target rate follow.
create table refuge.match_model (
    singleton        boolean primary key default true check (singleton),
    estimated_at     timestamptz not null default now(),
    estimated_by     name not null default current_user,
    source           text not null,
    probes           integer not null check (probes > 0),
    pairs            bigint not null,
    match_share      double precision not null check (match_share > 0 and match_share < 1),
    iterations       integer not null,
    curve_scores     double precision[] not null,
    curve_rates      double precision[] not null,
    check (cardinality(curve_scores) = cardinality(curve_rates) and cardinality(curve_scores) > 0)
);
comment on column refuge.match_model.curve_scores is 'scores, ascending, at which curve_rates are measured';
comment on column refuge.match_model.curve_rates is 'expected false candidates per search at or above each score (non-increasing)';
comment on table refuge.match_model is
    'the demographic model in force: when and from what it was estimated, and the false candidates per search it expects at each score';
select pg_catalog.pg_extension_config_dump('refuge.match_model', '');

-- The adjudication queue takes demographic cases too: no capture, the
-- candidates' levels and reasons instead of per-part scores.
alter table refuge.dedup_case add column kind text not null default 'biometric'
    check (kind in ('biometric', 'demographic'));
alter table refuge.dedup_case alter column capture_id drop not null;
alter table refuge.dedup_case add constraint dedup_case_capture_check check ((kind = 'biometric') = (capture_id is not null));
alter table refuge.dedup_case add constraint dedup_case_link_check check (kind = 'biometric' or decision is distinct from 'link');
comment on column refuge.dedup_case.kind is
    'biometric: an enrolment''s grey-zone matches; demographic: a registration whose comparison reached the case threshold';
alter table refuge.dedup_candidate add column reasons text[];
comment on column refuge.dedup_candidate.reasons is
    'demographic candidates: what weighed for the match (evidence is then the score, scores the levels of refuge.match_features())';
-- (the demographic search looks a decided pair up from either side)
create index on refuge.dedup_candidate (candidate_id);
-- (and a cleared pair from its second member: refuge.demographic_cleared_of)
create index on refuge.dedup_cleared_pair (individual_b);
-- a supervisor sees a demographic case's candidates in scope only: levels
-- and reasons would tell what a hidden record holds
alter policy supervisor_read on refuge.dedup_candidate
    using (exists (select 1 from refuge.dedup_case c where c.id = dedup_candidate.case_id)
           and (exists (select 1 from refuge.dedup_case c where c.id = dedup_candidate.case_id and c.kind = 'biometric')
                or exists (select 1 from refuge.individual i where i.id = dedup_candidate.candidate_id)));
