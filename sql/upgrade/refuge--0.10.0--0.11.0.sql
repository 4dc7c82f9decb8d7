-- refuge 0.10.0 -> 0.11.0: demographic deduplication and names across
-- scripts (canonical names, phonetic keys, blocking, a Fellegi-Sunter score
-- with thresholds from a target false-candidate rate, the check at
-- registration, demographic adjudication cases, tracing on the same engine)
\echo Use "ALTER EXTENSION refuge UPDATE TO '0.11.0'" to load this file. \quit

-- refuge 0.10.0 -> 0.11.0, before the new objects: the read log's new kind
alter table refuge.sensitive_read drop constraint sensitive_read_kind_check;
alter table refuge.sensitive_read add constraint sensitive_read_kind_check
    check (kind in ('case_note', 'case_document', 'gbv_incident', 'case_detail', 'referral', 'biometric_templates',
                    'tracing_search', 'vulnerability_assessment', 'rrf', 'document_match', 'possible_duplicates'));
comment on table refuge.dedup_case is 'adjudication case: an enrolment whose best matches fell in the grey zone (biometric), or a registration whose demographic comparison reached the case threshold (demographic, sql/82_demographic.sql), with the reviewer''s decision';

-- sql/82_demographic.sql
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
    updated_at      timestamptz not null default now()
);
comment on table refuge.match_profile is
    'internal: each person''s names in canonical form and blocking keys (refuge.name_canonical, refuge.name_block_keys), kept by triggers';
comment on column refuge.match_profile.birth_year is 'year of birth, 0 when unknown';
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
    'internal: blocking keys of the demographic search (name keys and pairs of them, by birth year)';
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
-- a supervisor sees a demographic case's candidates in scope only: levels
-- and reasons would tell what a hidden record holds
alter policy supervisor_read on refuge.dedup_candidate
    using (exists (select 1 from refuge.dedup_case c where c.id = dedup_candidate.case_id)
           and (exists (select 1 from refuge.dedup_case c where c.id = dedup_candidate.case_id and c.kind = 'biometric')
                or exists (select 1 from refuge.individual i where i.id = dedup_candidate.candidate_id)));

-- functions/43_demographic.sql
-- Demographic deduplication: names across scripts (extension/names.c,
-- matcher/names.c), each person's match profile and blocking keys, the
-- Fellegi-Sunter comparison with weights estimated from the data, its
-- thresholds from a target false-candidate rate, the search
-- (refuge.possible_duplicates), the check at registration and the
-- adjudication queue it feeds.  Tables: sql/34_demographic.sql.

create function refuge.name_fold(name text) returns text
    language c immutable strict parallel safe as 'MODULE_PATHNAME', 'refuge_name_fold';
comment on function refuge.name_fold(text) is
    'a name in any script as lower-case ASCII Latin: Arabic letter variants unified, transliterated (ICU), diacritics and case folded';

create function refuge.name_canonical(name text) returns text
    language c immutable strict parallel safe as 'MODULE_PATHNAME', 'refuge_name_canonical';
comment on function refuge.name_canonical(text) is
    'the canonical tokens of a name in any script: folded, titles and connectors dropped, Abd compounds joined, spellings folded (null when nothing is left)';

create function refuge.name_keys(name text) returns text[]
    language c immutable strict parallel safe as 'MODULE_PATHNAME', 'refuge_name_keys';
comment on function refuge.name_keys(text) is
    'phonetic keys of each part of a name in any script (consonant classes for the names of the populations served; several readings of ambiguous letters)';

create function refuge.name_block_keys(forms text[]) returns text[]
    language c immutable strict parallel safe as 'MODULE_PATHNAME', 'refuge_name_block_keys';
comment on function refuge.name_block_keys(text[]) is
    'blocking keys of canonical name forms: each part''s keys and each pair of parts'' keys';

create function refuge.jaro_winkler(a text, b text) returns double precision
    language c immutable strict parallel safe as 'MODULE_PATHNAME', 'refuge_jaro_winkler';
comment on function refuge.jaro_winkler(text, text) is 'Jaro-Winkler similarity of two strings (bytes), 0 to 1';

create function refuge.name_match_level(a text[], b text[]) returns integer
    language c immutable strict parallel safe as 'MODULE_PATHNAME', 'refuge_name_match_level';
comment on function refuge.name_match_level(text[], text[]) is
    'best comparison level (0-5) of two people''s canonical name forms, parts aligned in any order';

grant execute on function refuge.name_fold(text), refuge.name_canonical(text), refuge.name_keys(text),
    refuge.name_block_keys(text[]), refuge.jaro_winkler(text, text), refuge.name_match_level(text[], text[])
    to refuge_registration, refuge_supervisor, refuge_biometrics, refuge_biometrics_admin,
       refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection;

-- The compared features, in the order of a comparison's levels.
create function refuge.match_features() returns text[]
    language sql immutable parallel safe
    return array['name', 'birth_date', 'sex', 'birth_place', 'parents', 'family', 'document', 'phone', 'registration'];
comment on function refuge.match_features() is
    'the features a demographic comparison scores, in the order of its levels array';
grant execute on function refuge.match_features() to refuge_registration, refuge_supervisor,
    refuge_biometrics_admin, refuge_protection;

-- The shipped model: m and u estimated by refuge.estimate_match_model() on
-- the labelled synthetic population of test/bench/demographic.sh (104,481
-- people, seed 0.5; m from the even half of the planted duplicates, u from
-- the pairs 5,000 searches compared; 2026-12-07).  Documents: that
-- population holds none, so their two levels keep the prior (a number in
-- common is rare between two people).  An operation estimates its own from
-- its data; until then this one is in force.
create function refuge.default_match_weights()
    returns table (feature text, level smallint, label text, m double precision, u double precision)
    language sql immutable parallel safe
begin atomic
    select v.feature, v.level::smallint, v.label, v.m, v.u
      from (values
        ('name', 1, 'a part similar (>= 0.80)', 0.000303, 0.000303),
        ('name', 2, 'one part agrees', 0.003330, 0.633018),
        ('name', 3, 'all parts but one agree, or all similar', 0.050560, 0.169137),
        ('name', 4, 'every part agrees (spelling, transliteration)', 0.327278, 0.095025),
        ('name', 5, 'every part the same', 0.618529, 0.102819),
        ('birth_date', 1, 'same day', 0.332022, 0.001108),
        ('birth_date', 2, 'same within its precision', 0.407688, 0.318293),
        ('birth_date', 3, 'a year apart', 0.155266, 0.547462),
        ('birth_date', 4, 'two or three years apart', 0.023305, 0.132186),
        ('birth_date', 5, 'further apart', 0.000303, 0.000303),
        ('birth_date', 6, 'same day and month, the year off by one or two', 0.081416, 0.000949),
        ('sex', 1, 'same', 0.999697, 0.872409),
        ('sex', 2, 'different', 0.000303, 0.127591),
        ('birth_place', 1, 'same place', 0.800924, 0.106264),
        ('birth_place', 2, 'same country', 0.194453, 0.591243),
        ('birth_place', 3, 'different', 0.004622, 0.302493),
        ('parents', 1, 'a parent''s name agrees', 0.999545, 0.622429),
        ('parents', 2, 'parents'' names differ', 0.000455, 0.377571),
        ('family', 1, 'two or more other members match members of the other household', 0.914948, 0.005405),
        ('family', 2, 'same household', 0.000368, 0.004786),
        ('family', 3, 'one other member matches a member of the other household', 0.075479, 0.047461),
        ('family', 4, 'other members, none matching', 0.009205, 0.942348),
        ('document', 1, 'same document number', 0.9, 0.0001),
        ('document', 2, 'different numbers of the same kind', 0.1, 0.9999),
        ('phone', 1, 'a phone number shared', 0.650510, 0.000203),
        ('phone', 2, 'no phone number shared', 0.349490, 0.999797),
        ('registration', 1, 'same site within 90 days', 0.030588, 0.042797),
        ('registration', 2, 'same site', 0.072380, 0.169808),
        ('registration', 3, 'same operation, another site', 0.284373, 0.300783),
        ('registration', 4, 'another operation', 0.612659, 0.486612)) v(feature, level, label, m, u);
end;
comment on function refuge.default_match_weights() is
    'the shipped demographic comparison model (m, u per feature and level), in force until refuge.estimate_match_model() runs';
grant execute on function refuge.default_match_weights() to refuge_supervisor, refuge_biometrics_admin, refuge_admin;

-- The model in force: the operation's estimate, else the shipped one.
create function refuge.match_weights_in_force()
    returns table (feature text, level smallint, label text, m double precision, u double precision,
                   weight double precision)
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    return query
    select w.feature, w.level, w.label, w.m, w.u, log(w.m / w.u)
      from refuge.match_weight w
    union all
    select d.feature, d.level, d.label, d.m, d.u, log(d.m / d.u)
      from refuge.default_match_weights() d
     where not exists (select 1 from refuge.match_weight);
end
$$;

-- The weights as one array: element (feature - 1) * 10 + level + 1; level 0
-- (not known on one side) weighs nothing.
create function refuge.match_weight_vector() returns double precision[]
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    return (select array_agg(coalesce(w.weight, 0) order by f.ord, l.level)
      from unnest(refuge.match_features()) with ordinality f(name, ord)
     cross join generate_series(0, 9) l(level)
      left join refuge.match_weights_in_force() w on w.feature = f.name and w.level = l.level and l.level > 0);
end
$$;

-- The false candidates per search the model in force expects at each
-- score: the operation's estimate, else the curve measured with the shipped
-- model on the benchmark population (5000 searches, 232671 compared pairs).
create function refuge.match_rate_curve(out scores double precision[], out rates double precision[], out source text)
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    select x.a, x.b, x.c into scores, rates, source
      from (select m.curve_scores as a, m.curve_rates as b, m.source as c from refuge.match_model m
    union all
    select '{-13.05,-12.80,-12.70,-12.60,-12.55,-12.45,-12.35,-12.25,-12.10,-11.95,-11.90,-11.70,-11.60,-11.45,-11.35,-11.25,-11.10,-11.05,-11.00,-10.90,-10.85,-10.80,-10.70,-10.60,-10.55,-10.50,-10.45,-10.40,-10.35,-10.30,-10.25,-10.15,-10.10,-10.05,-10.00,-9.90,-9.85,-9.80,-9.75,-9.70,-9.65,-9.60,-9.55,-9.50,-9.45,-9.40,-9.35,-9.30,-9.25,-9.20,-9.15,-9.10,-9.05,-9.00,-8.90,-8.85,-8.80,-8.75,-8.70,-8.65,-8.60,-8.55,-8.50,-8.45,-8.40,-8.35,-8.30,-8.25,-8.20,-8.15,-8.10,-8.05,-8.00,-7.95,-7.90,-7.85,-7.80,-7.75,-7.70,-7.65,-7.60,-7.55,-7.50,-7.45,-7.40,-7.35,-7.30,-7.25,-7.20,-7.15,-7.10,-7.05,-7.00,-6.95,-6.90,-6.85,-6.80,-6.75,-6.70,-6.65,-6.60,-6.55,-6.50,-6.45,-6.40,-6.35,-6.30,-6.25,-6.20,-6.15,-6.10,-6.05,-6.00,-5.95,-5.90,-5.85,-5.80,-5.75,-5.70,-5.65,-5.60,-5.55,-5.50,-5.45,-5.40,-5.35,-5.30,-5.25,-5.20,-5.15,-5.10,-5.05,-5.00,-4.95,-4.90,-4.85,-4.80,-4.75,-4.70,-4.65,-4.60,-4.55,-4.50,-4.45,-4.40,-4.35,-4.30,-4.25,-4.20,-4.15,-4.10,-4.05,-4.00,-3.95,-3.90,-3.85,-3.80,-3.75,-3.70,-3.65,-3.60,-3.55,-3.50,-3.45,-3.40,-3.35,-3.30,-3.25,-3.20,-3.15,-3.10,-3.05,-3.00,-2.95,-2.90,-2.85,-2.80,-2.75,-2.70,-2.65,-2.60,-2.55,-2.50,-2.45,-2.40,-2.35,-2.30,-2.25,-2.20,-2.15,-2.10,-2.05,-2.00,-1.95,-1.90,-1.85,-1.80,-1.75,-1.70,-1.65,-1.60,-1.55,-1.50,-1.45,-1.40,-1.35,-1.30,-1.25,-1.20,-1.15,-1.10,-1.05,-1.00,-0.95,-0.90,-0.85,-0.80,-0.75,-0.70,-0.65,-0.60,-0.55,-0.50,-0.45,-0.40,-0.35,-0.30,-0.25,-0.20,-0.15,-0.10,-0.05,0.00,0.05,0.10,0.15,0.20,0.25,0.30,0.35,0.40,0.45,0.50,0.55,0.60,0.65,0.70,0.75,0.80,0.85,0.90,0.95,1.00,1.05,1.10,1.15,1.20,1.25,1.30,1.35,1.40,1.45,1.50,1.55,1.60,1.65,1.70,1.75,1.80,1.85,1.90,1.95,2.00,2.05,2.10,2.15,2.20,2.25,2.30,2.35,2.50,2.55,2.60,2.65,2.70,2.75,2.80,2.85,2.95,3.00,3.05,3.10,3.15,3.20,3.25,3.35,3.45,3.55,3.60,3.70,3.75,3.80,3.85,3.90,3.95,4.00,4.05,4.10,4.15,4.20,4.25,4.35,4.45,4.60,4.65,4.75,4.80,4.95,5.00,5.10,5.15,5.25,5.35,5.40,5.50,5.55,5.60,5.70,5.80,5.90,6.00,6.05,6.15,6.25,6.30,6.35,6.45,6.50,6.55,6.60,6.70,6.75,7.00,7.50,7.55,7.60,7.75,8.00,9.45,9.90,10.20}'::double precision[],
           '{46.472600,46.471200,46.468000,46.467800,46.444400,46.444000,46.438400,46.421200,46.375800,46.270200,46.262200,46.261400,46.259200,46.239400,46.200800,46.200600,46.150800,46.140600,46.125200,46.110000,46.046400,46.045000,45.946000,45.944400,45.927000,45.926400,45.923800,45.923600,45.919800,45.911600,45.910200,45.880200,45.847200,45.825000,45.824200,45.821800,45.726000,45.722400,45.717200,45.689400,45.673600,45.575400,45.574200,45.383800,45.379000,44.859400,44.824400,44.766800,44.758400,44.710800,44.579000,44.570200,44.525000,44.493400,44.367200,44.188400,44.187800,43.712000,43.700400,43.697200,43.659800,43.650800,43.233600,43.231600,43.099200,43.092400,42.856000,42.696400,42.146600,42.109600,41.986600,40.686400,40.684000,40.551800,40.535200,40.288000,40.052800,39.793000,39.784400,39.588800,39.174400,39.167600,38.607400,38.526600,37.625200,37.592600,37.522400,37.491800,37.413200,37.086200,36.927000,36.850600,36.778400,36.379600,36.253200,36.243000,35.882000,35.595200,35.134000,34.853200,34.504600,34.326600,34.108600,33.286200,32.611000,32.489600,32.139600,31.231400,31.198600,31.042600,30.883200,30.547400,30.471000,30.124200,29.991600,29.846200,29.017000,28.709200,28.556400,28.385400,27.300800,27.258600,27.219400,26.890800,26.074800,25.587600,25.555000,24.604600,24.270200,22.834400,22.691600,21.757200,21.500200,19.744800,19.637400,19.470400,19.380200,18.945600,18.622000,18.365400,17.770600,17.689600,16.551600,16.293000,15.876800,15.746200,15.619400,14.788400,14.692400,14.665800,14.501400,14.194000,13.889800,13.805800,13.529200,13.046600,12.556800,12.502400,12.282800,11.775400,11.447200,11.030400,10.813600,10.439200,9.878600,9.644400,9.351800,9.055600,8.781800,8.329200,7.896200,7.786600,7.497000,7.394800,7.072600,6.925400,6.624800,6.382400,6.264200,5.983200,5.803000,5.518200,5.233000,4.991200,4.894200,4.661400,4.408000,4.256800,4.083800,4.007600,3.646800,3.573000,3.287600,3.174600,3.104800,2.762800,2.679200,2.586800,2.460000,2.321600,2.225000,2.162600,2.107200,1.966200,1.887800,1.690800,1.639200,1.591400,1.425800,1.359800,1.274200,1.260200,1.198800,1.149800,1.118200,1.077800,1.037800,0.997400,0.923800,0.880400,0.856600,0.813400,0.762200,0.708200,0.691000,0.649800,0.606200,0.573400,0.538400,0.509200,0.480400,0.436400,0.408000,0.405600,0.376800,0.340200,0.299800,0.291800,0.280600,0.248400,0.234800,0.227800,0.217200,0.211000,0.188000,0.171800,0.170400,0.162400,0.148000,0.128200,0.126600,0.115400,0.098800,0.084400,0.083200,0.079400,0.078400,0.071200,0.067400,0.064800,0.064400,0.057200,0.055200,0.054200,0.048600,0.046200,0.037200,0.037000,0.035600,0.035200,0.030200,0.029200,0.027400,0.026400,0.025000,0.022000,0.021200,0.017400,0.016400,0.012200,0.010800,0.009000,0.008800,0.007800,0.007600,0.007600,0.006000,0.005800,0.004600,0.003000,0.002600,0.002400,0.002400,0.002400,0.002400,0.002200,0.002200,0.002200,0.001600,0.001400,0.001400,0.001400,0.001400,0.001000,0.001000,0.001000,0.000800,0.000800,0.000600,0.000600,0.000200,0.000200,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000}'::double precision[],
           'shipped: measured by test/bench/demographic.sh on 104,481 synthetic people'
     where not exists (select 1 from refuge.match_model)) x
    limit 1;
end
$$;

-- The score at which the model in force expects `rate` false candidates
-- per search: the lowest score of its curve whose rate is at most that.
create function refuge.demographic_threshold(rate double precision) returns double precision
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    return (select coalesce(min(c.s) filter (where c.r <= rate), max(c.s) + 0.1)
      from refuge.match_rate_curve() m, unnest(m.scores, m.rates) c(s, r));
end
$$;
comment on function refuge.demographic_threshold(double precision) is
    'the demographic score (log10 likelihood ratio) at which the model in force expects this many false candidates per search';
grant execute on function refuge.demographic_threshold(double precision) to refuge_registration, refuge_supervisor,
    refuge_biometrics_admin, refuge_admin, refuge_protection;

-- The thresholds in force (settings refuge.demographic_candidate_rate and
-- refuge.demographic_case_rate through the model's non-matching scores).
create function refuge.demographic_thresholds(out candidate_threshold double precision, out case_threshold double precision,
                                              out candidate_rate double precision, out case_rate double precision,
                                              out model text)
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    candidate_rate := current_setting('refuge.demographic_candidate_rate')::double precision;
    case_rate := current_setting('refuge.demographic_case_rate')::double precision;
    candidate_threshold := refuge.demographic_threshold(candidate_rate);
    case_threshold := greatest(refuge.demographic_threshold(case_rate), candidate_threshold);
    model := (select c.source from refuge.match_rate_curve() c);
end
$$;
comment on function refuge.demographic_thresholds() is
    'the demographic candidate and adjudication thresholds in force, the rates they come from and the model''s source';
grant execute on function refuge.demographic_thresholds() to refuge_registration, refuge_supervisor,
    refuge_biometrics_admin, refuge_admin, refuge_protection;

-- Each person's canonical name forms (as registered, the maiden name in
-- place of the family name, every row of individual_name), parents' names
-- and place of birth.
create function refuge.match_profile_rows(ids uuid[]) returns setof refuge.match_profile
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    select i.id, f.names, refuge.name_block_keys(f.names),
           coalesce(extract(year from i.date_of_birth)::smallint, 0::smallint),
           array_remove(array[refuge.name_canonical(i.mother_name), refuge.name_canonical(i.father_name)], null),
           refuge.name_canonical(i.place_of_birth), now()
      from refuge.individual i
     cross join lateral (
        -- the registered name first, then its other forms, 16 at most
        select coalesce(array_agg(y.c order by y.ord), '{}') as names
          from (select x.c, min(x.ord) as ord
                  from (select 1::bigint as ord,
                               refuge.name_canonical(concat_ws(' ', i.given_name, i.middle_name, i.family_name,
                                                               i.second_family_name)) as c
                        union all
                        select 2, refuge.name_canonical(concat_ws(' ', i.given_name, i.middle_name, i.maiden_name))
                         where i.maiden_name is not null
                        union all
                        select 2 + 2 * row_number() over (order by n.created_at, n.id),
                               refuge.name_canonical(concat_ws(' ', n.given_name, n.middle_name, n.family_name,
                                                               n.second_family_name))
                          from refuge.individual_name n where n.individual_id = i.id
                        union all
                        select 3 + 2 * row_number() over (order by n.created_at, n.id),
                               refuge.name_canonical(concat_ws(' ', n.given_name, n.middle_name, n.maiden_name))
                          from refuge.individual_name n where n.individual_id = i.id and n.maiden_name is not null) x
                 where x.c is not null
                 group by x.c order by 2 limit 16) y) f
     where i.id in (select unnest(ids));
end;

-- Recompute the match profiles and blocking keys of these people.
create function refuge.refresh_match_profiles(ids uuid[]) returns void
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    -- the owner's policies apply even where a superuser turned row security off
    set row_security = on
as $$
begin
    delete from refuge.match_block b
     using (select p.individual_id, p.birth_year, k.key
              from refuge.match_profile p cross join unnest(p.keys) k(key)
             where p.individual_id in (select unnest(ids))) o
     where b.key = o.key and b.birth_year = o.birth_year and b.individual_id = o.individual_id;
    insert into refuge.match_profile as p
    select * from refuge.match_profile_rows(ids)
    on conflict (individual_id) do update
       set names = excluded.names, keys = excluded.keys, birth_year = excluded.birth_year,
           parents = excluded.parents, place = excluded.place, updated_at = excluded.updated_at;
    insert into refuge.match_block (key, birth_year, individual_id)
    select distinct k.key, p.birth_year, p.individual_id
      from refuge.match_profile p cross join unnest(p.keys) k(key)
     where p.individual_id in (select unnest(ids))
    on conflict do nothing;
end
$$;

-- Every profile again (after a bulk load with row security off, which the
-- triggers leave to the dump it restores, or a change of the name rules).
create function refuge.rebuild_match_profiles() returns bigint
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    batch uuid[];
    n bigint := 0;
begin
    perform refuge.authorize('refuge_dba', 'rebuild_match_profiles');
    delete from refuge.match_block;
    delete from refuge.match_profile;
    for batch in select array_agg(x.id) from (select i.id, (row_number() over (order by i.id) - 1) / 5000 as b
                                                 from refuge.individual i) x group by x.b loop
        perform refuge.refresh_match_profiles(batch);
        n := n + cardinality(batch);
    end loop;
    return n;
end
$$;
comment on function refuge.rebuild_match_profiles() is
    'recompute every person''s canonical names and blocking keys (after a bulk load with row security off, or an ICU upgrade); returns how many';
grant execute on function refuge.rebuild_match_profiles() to refuge_dba;

-- Triggers: profiles follow individual and individual_name.  Statement
-- triggers for the API's set-wise writes; a row trigger for rows a logical
-- replication worker applies (it fires no statement triggers).  Rows loaded
-- with row security off (pg_restore) bring their profiles with the dump.
create function refuge.match_profile_sync() returns trigger
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    ids uuid[];
begin
    -- a restore (row security off) brings the profiles with the dump
    if current_setting('row_security') = 'off' and tg_op = 'INSERT' then
        return null;
    end if;
    if tg_level = 'ROW' and tg_table_name = 'individual' then
        ids := array[new.id];
    elsif tg_level = 'ROW' and tg_op = 'DELETE' then
        ids := array[old.individual_id];
    elsif tg_level = 'ROW' then
        ids := array[new.individual_id];
    elsif tg_table_name = 'individual' and tg_op = 'INSERT' then
        ids := array(select n.id from new_rows n);
    elsif tg_table_name = 'individual' then
        ids := array(select n.id from new_rows n join old_rows o on o.id = n.id
                      where (n.given_name, n.middle_name, n.family_name, n.second_family_name, n.maiden_name,
                             n.mother_name, n.father_name, n.date_of_birth, n.place_of_birth)
                            is distinct from
                            (o.given_name, o.middle_name, o.family_name, o.second_family_name, o.maiden_name,
                             o.mother_name, o.father_name, o.date_of_birth, o.place_of_birth));
    elsif tg_op = 'INSERT' then
        ids := array(select distinct n.individual_id from new_rows n);
    elsif tg_op = 'UPDATE' then
        ids := array(select n.individual_id from new_rows n union select o.individual_id from old_rows o);
    else
        ids := array(select distinct o.individual_id from old_rows o);
    end if;
    if cardinality(ids) > 0 then
        perform refuge.refresh_match_profiles(ids);
    end if;
    return null;
end
$$;

create trigger match_profile_insert after insert on refuge.individual
    referencing new table as new_rows for each statement execute function refuge.match_profile_sync();
create trigger match_profile_update after update on refuge.individual
    referencing old table as old_rows new table as new_rows for each statement execute function refuge.match_profile_sync();
create trigger match_profile_applied after insert or update on refuge.individual
    for each row when (pg_catalog.current_setting('session_replication_role') = 'replica')
    execute function refuge.match_profile_sync();
create trigger match_profile_insert after insert on refuge.individual_name
    referencing new table as new_rows for each statement execute function refuge.match_profile_sync();
create trigger match_profile_update after update on refuge.individual_name
    referencing old table as old_rows new table as new_rows for each statement execute function refuge.match_profile_sync();
create trigger match_profile_delete after delete on refuge.individual_name
    referencing old table as old_rows for each statement execute function refuge.match_profile_sync();
create trigger match_profile_applied after insert or update or delete on refuge.individual_name
    for each row when (pg_catalog.current_setting('session_replication_role') = 'replica')
    execute function refuge.match_profile_sync();
alter table refuge.individual enable always trigger match_profile_insert;
alter table refuge.individual enable always trigger match_profile_update;
alter table refuge.individual enable always trigger match_profile_applied;
alter table refuge.individual_name enable always trigger match_profile_insert;
alter table refuge.individual_name enable always trigger match_profile_update;
alter table refuge.individual_name enable always trigger match_profile_delete;
alter table refuge.individual_name enable always trigger match_profile_applied;

-- Half-width of the birth-year window a person is searched in, from the
-- precision of their date of birth.
create function refuge.birth_year_window(dob_precision text) returns integer
    language sql immutable parallel safe
    return case dob_precision when 'EXACT' then 1 when 'MONTH' then 1 when 'YEAR' then 2 else 3 end;
comment on function refuge.birth_year_window(text) is
    'years either side of the birth year that the demographic search looks in, by the precision of the date of birth';
grant execute on function refuge.birth_year_window(text) to refuge_registration, refuge_supervisor,
    refuge_biometrics_admin, refuge_protection;

-- Comparison level of two dates of birth, their precisions considered.
create function refuge.birth_date_level(a date, a_precision text, b date, b_precision text) returns integer
    language sql immutable parallel safe
    return case
        when a is null or b is null then 0
        when a = b and a_precision = 'EXACT' and b_precision = 'EXACT' then 1
        when extract(year from a) = extract(year from b)
             and (a_precision not in ('EXACT', 'MONTH') or b_precision not in ('EXACT', 'MONTH')
                  or abs(a - b) <= 31
                  or (extract(day from a) = extract(month from b) and extract(month from a) = extract(day from b)))
            then 2
        -- a year typed wrong: the same day and month
        when a_precision = 'EXACT' and b_precision = 'EXACT' and extract(month from a) = extract(month from b)
             and extract(day from a) = extract(day from b) and abs(extract(year from a) - extract(year from b)) <= 2 then 6
        when abs(extract(year from a) - extract(year from b)) <= 1 then 3
        when abs(extract(year from a) - extract(year from b)) <= 3 then 4
        else 5 end;
comment on function refuge.birth_date_level(date, text, date, text) is
    'demographic comparison of two dates of birth: 1 same day, 2 same within their precision (or day and month swapped), 6 the same day and month one or two years apart, 3 a year apart, 4 up to three, 5 further, 0 unknown';
grant execute on function refuge.birth_date_level(date, text, date, text) to refuge_registration, refuge_supervisor,
    refuge_biometrics_admin, refuge_protection;

-- A phone number as compared: its last nine digits.
create function refuge.phone_key(value text) returns text
    language sql immutable parallel safe
    return nullif(right(regexp_replace(value, '[^0-9]', '', 'g'), 9), '');

-- Was this pair decided to be two different people?  Biometrically (a
-- cleared pair), or by a reviewer of a demographic case either way round.
create function refuge.demographic_cleared(a uuid, b uuid) returns boolean
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    select a is not null and b is not null and (
           exists (select 1 from refuge.dedup_cleared_pair c
                    where c.individual_a = least(a, b) and c.individual_b = greatest(a, b))
        or exists (select 1 from refuge.dedup_case dc join refuge.dedup_candidate d on d.case_id = dc.id
                    where dc.kind = 'demographic' and dc.decision = 'different'
                      and ((dc.individual_id = a and d.candidate_id = b) or (dc.individual_id = b and d.candidate_id = a))));
end;

-- The blocked candidates of one person: people under one of their keys
-- within the birth-year window (or with no birth year), a key's block
-- taken whole or not at all: p_cap people for a part's key, four times as
-- many for a pair's (a part as common as Mohamed is found through its
-- pairs); of those, the 80 sharing most keys, born nearest, are
-- compared (this bounds the work of a search whatever the names); not the
-- person, not a pair decided to be different people.
create function refuge.demographic_blocked(p refuge.match_profile, p_window integer, p_cap integer)
    returns setof uuid
    -- (a few dozen people: the planner must look them up by index, never scan everyone)
    rows 50
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
begin
    return query
    select y.id
      from (select x.id
              from (select s.id, count(*) as shared, min(s.gap) as gap
                      from unnest(p.keys) k(key)
                     cross join lateral (select case when strpos(k.key, '+') > 0 then 4 * p_cap else p_cap end as cap) c
                     cross join lateral (select array_agg(b.individual_id) as ids,
                                                array_agg(abs(b.birth_year - p.birth_year)) as gaps
                                           from (select b.individual_id, b.birth_year from refuge.match_block b
                                                  where b.key = k.key
                                                    and (p.birth_year = 0 or b.birth_year = 0
                                                         or b.birth_year between p.birth_year - p_window
                                                                             and p.birth_year + p_window)
                                                  limit c.cap + 1) b) blk
                     cross join lateral unnest(blk.ids, blk.gaps) s(id, gap)
                     where cardinality(blk.ids) <= c.cap
                     group by s.id) x
             where x.id is distinct from p.individual_id
             -- the people sharing most keys, born nearest: the comparison's work is bounded
             order by x.shared desc, x.gap, x.id
             limit 80) y
     where not refuge.demographic_cleared(p.individual_id, y.id);
end
$$;

-- The household a person belongs to now.
create function refuge.current_group(p_individual uuid) returns uuid
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
    return (select m.group_id from refuge.group_membership m
             where m.individual_id = p_individual and m.valid_to is null limit 1);

-- Family context of a pair: 1 two or more other members of one household
-- match members of the other (the same mother and children registered
-- again), 3 one of them does, 4 other members and none matching, 2 the
-- same household (twins, siblings), 0 nothing to compare.  Members match
-- when every part of their names is similar and they were born within a
-- year (or either birth date is unknown).
create function refuge.family_level(a uuid, a_group uuid, b uuid, b_group uuid) returns integer
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    select case
        when a_group is null or b_group is null then 0
        when a_group = b_group then 2
        when not exists (select 1 from refuge.group_membership m
                          where m.group_id = a_group and m.valid_to is null and m.individual_id <> a)
          or not exists (select 1 from refuge.group_membership m
                          where m.group_id = b_group and m.valid_to is null and m.individual_id <> b) then 0
        else (select case when count(distinct x.ma) >= 2 then 1 when count(*) = 1 then 3 else 4 end
                from (select ma.individual_id as ma
                        from refuge.group_membership ma
                        join refuge.match_profile pa on pa.individual_id = ma.individual_id
                        join refuge.group_membership mb on mb.group_id = b_group and mb.valid_to is null
                                                         and mb.individual_id <> b
                        join refuge.match_profile pb on pb.individual_id = mb.individual_id
                       where ma.group_id = a_group and ma.valid_to is null and ma.individual_id <> a
                         and (pa.birth_year = 0 or pb.birth_year = 0 or abs(pa.birth_year - pb.birth_year) <= 1)
                         and refuge.name_match_level(pa.names, pb.names) >= 4
                       limit 2) x) end;
end;

-- Documents and phones: 1 a number shared, 2 both have some and none is
-- shared, 0 otherwise.
create function refuge.document_level(a uuid, b uuid) returns integer
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    select case
        when exists (select 1 from refuge.document da join refuge.document db
                        on refuge.identifier_key(db.number) = refuge.identifier_key(da.number)
                     where da.individual_id = a and db.individual_id = b) then 1
        when exists (select 1 from refuge.document da join refuge.document db
                        on db.doc_type = da.doc_type and db.issuing_country is not distinct from da.issuing_country
                     where da.individual_id = a and db.individual_id = b) then 2
        else 0 end;
end;

create function refuge.phone_level(a uuid, b uuid) returns integer
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    select case
        when not exists (select 1 from refuge.individual_contact c where c.individual_id = a
                            and c.contact_type in ('PHONE', 'MOBILE', 'MESSAGING'))
          or not exists (select 1 from refuge.individual_contact c where c.individual_id = b
                            and c.contact_type in ('PHONE', 'MOBILE', 'MESSAGING')) then 0
        when exists (select 1 from refuge.individual_contact ca join refuge.individual_contact cb
                        on refuge.phone_key(cb.value) = refuge.phone_key(ca.value)
                     where ca.individual_id = a and cb.individual_id = b
                       and ca.contact_type in ('PHONE', 'MOBILE', 'MESSAGING')
                       and cb.contact_type in ('PHONE', 'MOBILE', 'MESSAGING')) then 1
        else 2 end;
end;

-- Why a pair scored: the labels of its levels that weigh for a match.
create function refuge.match_reasons(levels integer[], w double precision[]) returns text[]
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    return (select coalesce(array_agg(f.name || ': ' || wf.label order by w[(f.ord - 1) * 10 + levels[f.ord] + 1] desc), '{}')
      from unnest(refuge.match_features()) with ordinality f(name, ord)
      join refuge.match_weights_in_force() wf on wf.feature = f.name and wf.level = levels[f.ord]
     where levels[f.ord] > 0 and w[(f.ord - 1) * 10 + levels[f.ord] + 1] > 0);
end
$$;

-- The score of a comparison: the sum of the weights of its levels.
create function refuge.match_score(lv integer[], w double precision[]) returns double precision
    language sql immutable parallel safe
    return w[lv[1] + 1] + w[lv[2] + 11] + w[lv[3] + 21] + w[lv[4] + 31] + w[lv[5] + 41] + w[lv[6] + 51]
         + w[lv[7] + 61] + w[lv[8] + 71] + w[lv[9] + 81];
comment on function refuge.match_score(integer[], double precision[]) is
    'demographic score of a comparison''s levels under a weight vector (refuge.match_weight_vector)';
grant execute on function refuge.match_score(integer[], double precision[]) to refuge_supervisor,
    refuge_biometrics_admin, refuge_admin;

-- The levels of a pair on the features a search compares for every
-- candidate (family, document and phone, 0 here, only for the strongest):
-- one definition for the search and the estimator.  Identical first name
-- forms, places and a parent's name short-cut the C comparison to the level
-- it would give.
create function refuge.early_levels(p refuge.match_profile, pi refuge.individual, cp refuge.match_profile,
                                    c refuge.individual) returns integer[]
    language sql immutable parallel safe
    return array[case when p.names[1] = cp.names[1] and strpos(cp.names[1], ' ') > 0 then 5
                      else refuge.name_match_level(p.names, cp.names) end,
                 refuge.birth_date_level(pi.date_of_birth, pi.dob_precision, c.date_of_birth, c.dob_precision),
                 case when pi.sex = 'U' or c.sex = 'U' then 0 when pi.sex = c.sex then 1 else 2 end,
                 case when p.place is not null and cp.place is not null
                           and (p.place = cp.place or refuge.name_match_level(array[p.place], array[cp.place]) >= 3) then 1
                      when pi.birth_country is not null and c.birth_country is not null
                           and pi.birth_country = c.birth_country then 2
                      when (pi.birth_country is not null and c.birth_country is not null)
                           or (p.place is not null and cp.place is not null) then 3
                      else 0 end,
                 case when cardinality(p.parents) = 0 or cardinality(cp.parents) = 0 then 0
                      when p.parents && cp.parents or refuge.name_match_level(p.parents, cp.parents) >= 3 then 1
                      else 2 end,
                 0, 0, 0,
                 case when c.site_id = pi.site_id and abs(c.registration_date - pi.registration_date) <= 90 then 1
                      when c.site_id = pi.site_id then 2
                      when c.operation_id = pi.operation_id then 3 else 4 end];

-- The demographic search: blocked candidates of each person compared on
-- every feature, scored as the sum of the model's weights (log10 of how
-- much more likely the levels are for the same person than for two), those
-- at or above min_score, strongest first, at most p_limit per person.  One
-- statement for all the people of a registration.  Cheap features first;
-- households, documents and phones only for each person's strongest
-- candidates that they could lift over min_score (p_limit + 10 of them),
-- and only those the person can reach (a household with other members,
-- documents, phones).  Internal: callers check who may see what.
create function refuge.demographic_search_many(p_ids uuid[], p_min_score double precision, p_limit integer,
                                               p_weights double precision[] default null)
    returns table (individual_id uuid, candidate_id uuid, score double precision, levels integer[])
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
    -- (PL/pgSQL keeps the plan of this long statement: an SQL function would plan it on every call)
    set plan_cache_mode = force_generic_plan
as $$
begin
    return query
    with wv as materialized (
        select coalesce(p_weights, refuge.match_weight_vector()) as w),
    probe as materialized (
        select pi.id, pi as ind, pp as profile, g.grp, g.has_co,
               (case when g.has_co then (select max(wv.w[50 + l]) from generate_series(1, 10) l) else 0 end
                + case when exists (select 1 from refuge.document d where d.individual_id = pi.id)
                       then (select max(wv.w[60 + l]) from generate_series(1, 10) l) else 0 end
                + case when exists (select 1 from refuge.individual_contact c where c.individual_id = pi.id)
                       then (select max(wv.w[70 + l]) from generate_series(1, 10) l) else 0 end) as late_max
          from unnest(p_ids) x(id)
          join refuge.individual pi on pi.id = x.id
          join refuge.match_profile pp on pp.individual_id = x.id
         cross join lateral (select y.grp,
                                    exists (select 1 from refuge.group_membership m
                                             where m.group_id = y.grp and m.valid_to is null and m.individual_id <> pi.id)
                                        as has_co
                               from (select refuge.current_group(pi.id) as grp) y) g
         cross join wv
         where cardinality(pp.names) > 0),
    cand as materialized (
        select pr.id as probe, c.id, refuge.early_levels(pr.profile, pr.ind, cp, c) as lv
          from probe pr
         cross join lateral refuge.demographic_blocked(pr.profile, refuge.birth_year_window((pr.ind).dob_precision), 500) b(id)
          join refuge.individual c on c.id = b.id
          join refuge.match_profile cp on cp.individual_id = b.id
         where c.status <> 'DUPLICATE'),
    ranked as materialized (
        select c.probe, c.id, c.lv,
               row_number() over (partition by c.probe order by refuge.match_score(c.lv, wv.w) desc, c.id) as rn
          from cand c join probe pr on pr.id = c.probe cross join wv
         where refuge.match_score(c.lv, wv.w) + pr.late_max >= p_min_score),
    late as materialized (
        select r.probe, r.id,
               r.lv[1:5] || array[case when pr.has_co then refuge.family_level(r.probe, pr.grp, r.id, refuge.current_group(r.id))
                                       else 0 end,
                                  refuge.document_level(r.probe, r.id),
                                  refuge.phone_level(r.probe, r.id)] || r.lv[9:9] as lv
          from ranked r join probe pr on pr.id = r.probe
         where r.rn <= greatest(p_limit, 1) + 10),
    scored as (
        select l.probe, l.id, refuge.match_score(l.lv, wv.w) as s, l.lv,
               row_number() over (partition by l.probe order by refuge.match_score(l.lv, wv.w) desc, l.id) as rn
          from late l cross join wv
         where refuge.match_score(l.lv, wv.w) >= p_min_score)
    select sc.probe, sc.id, sc.s, sc.lv from scored sc where sc.rn <= p_limit order by sc.probe, sc.s desc, sc.id;
end
$$;

-- The demographic search of one person (refuge.demographic_search_many).
create function refuge.demographic_search(p_individual uuid, p_min_score double precision, p_limit integer,
                                          p_weights double precision[] default null)
    returns table (candidate_id uuid, score double precision, levels integer[])
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    select s.candidate_id, s.score, s.levels
      from refuge.demographic_search_many(array[p_individual], p_min_score, p_limit, p_weights) s
     order by s.score desc, s.candidate_id;
end;

-- What a search was for, as the read log keeps it: the canonical names and
-- birth year searched (the record searched may be rolled back).
create function refuge.match_probe_text(p_individual uuid) returns text
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    select coalesce(array_to_string(p.names, ' / '), '?') || ', born ' ||
           coalesce(nullif(p.birth_year, 0)::text, 'unknown')
      from refuge.match_profile p where p.individual_id = p_individual;
end;

-- Possible duplicates of one person among everyone held here.  Candidates
-- outside the caller's scope come as a row with no id: counted, not named.
create function refuge.possible_duplicates(individual_id uuid, max_results integer default 10)
    returns table (candidate_id uuid, score double precision, reasons text[])
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    ind refuge.individual;
    found_rows jsonb;
    w double precision[] := refuge.match_weight_vector();
begin
    perform refuge.authorize_any(array['refuge_registration', 'refuge_supervisor', 'refuge_biometrics_admin',
                                       'refuge_protection']::name[], 'possible_duplicates');
    if possible_duplicates.individual_id is null then
        perform refuge.raise_field('22004', 'individual_id', 'is required');
    end if;
    if max_results is null or max_results < 1 or max_results > 100 then
        perform refuge.raise_field('22023', 'max_results', format('%s is not between 1 and 100', coalesce(max_results::text, 'null')));
    end if;
    select * into ind from refuge.individual i where i.id = possible_duplicates.individual_id;
    perform refuge.require_visible(ind.id is not null and refuge.may_see(ind.operation_id, ind.site_id), 'individual_id');
    -- a candidate outside the caller's scope: counted, with neither id nor
    -- score nor reasons (they would tell what the hidden record holds)
    select coalesce(jsonb_agg(jsonb_build_object(
               'id', case when refuge.may_see(c.operation_id, c.site_id) then s.candidate_id end,
               'held', s.candidate_id,
               'score', case when refuge.may_see(c.operation_id, c.site_id) then s.score end, 'reasons',
               case when refuge.may_see(c.operation_id, c.site_id) then to_jsonb(refuge.match_reasons(s.levels, w))
                    else '["held outside your operations: ask HQ''s biometrics administrators"]'::jsonb end)
               order by refuge.may_see(c.operation_id, c.site_id) desc, s.score desc, s.candidate_id), '[]')
      into found_rows
      from refuge.demographic_search(ind.id, (refuge.demographic_thresholds()).candidate_threshold, max_results, w) s
      join refuge.individual c on c.id = s.candidate_id;
    -- the log names every candidate, hidden ones too, and what was searched
    perform refuge.log_durably(jsonb_build_object('sensitive_read', jsonb_build_array(jsonb_build_object(
        'actor', refuge.caller(), 'kind', 'possible_duplicates', 'object_id', ind.id, 'individual_id', ind.id,
        'operation_id', ind.operation_id,
        'purpose', format('demographic duplicate search: %s candidates (%s) for %s',
                          jsonb_array_length(found_rows),
                          coalesce((select string_agg(e ->> 'held' || case when e ->> 'id' is null then ' (outside scope)' else '' end, ', ')
                                      from jsonb_array_elements(found_rows) e), ''),
                          refuge.match_probe_text(ind.id))))));
    return query
    select (e ->> 'id')::uuid, (e ->> 'score')::double precision,
           array(select jsonb_array_elements_text(e -> 'reasons'))
      from jsonb_array_elements(found_rows) e;
end
$$;
comment on function refuge.possible_duplicates(uuid, integer) is
    'people who may be this person registered again (demographic comparison at or above the candidate threshold), strongest first; outside your scope: counted, no id, score or reasons; logged';
grant execute on function refuge.possible_duplicates(uuid, integer) to refuge_registration, refuge_supervisor,
    refuge_biometrics_admin, refuge_protection;

-- The check a registration runs for the people it wrote or changed: per
-- person, the candidates the caller may see (number, score, reasons), how
-- many others there are, and the adjudication case opened when the
-- strongest reaches the case threshold (with every candidate, so that a
-- decision "different" clears them all).  A person with an open
-- demographic case gets no second one.
create function refuge.demographic_check(ids uuid[]) returns jsonb
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    t record;
    w double precision[];
    res jsonb := '{}';
    pid uuid;
    ind refuge.individual;
    found_rows jsonb;
    found_all jsonb;
    reads jsonb := '[]';
    case_id uuid;
    rk integer;
    s record;
begin
    if cardinality(ids) = 0 then
        return res;
    end if;
    t := refuge.demographic_thresholds();
    w := refuge.match_weight_vector();
    select coalesce(jsonb_agg(jsonb_build_object('i', f.individual_id, 'c', f.candidate_id, 's', f.score, 'l', f.levels)), '[]')
      into found_all
      from refuge.demographic_search_many(ids, t.candidate_threshold, 10, w) f;
    if jsonb_array_length(found_all) = 0 then
        return res;
    end if;
    foreach pid in array ids loop
        found_rows := '[]';
        case_id := null;
        rk := 0;
        continue when not found_all @> jsonb_build_array(jsonb_build_object('i', pid));
        select * into ind from refuge.individual i where i.id = pid;
        for s in select (e ->> 'c')::uuid as candidate_id, (e ->> 's')::double precision as score,
                        array(select jsonb_array_elements_text(e -> 'l'))::integer[] as levels,
                        c.number, c.operation_id, c.site_id
                   from jsonb_array_elements(found_all) e
                   join refuge.individual c on c.id = (e ->> 'c')::uuid
                  where (e ->> 'i')::uuid = pid
                  order by 2 desc, 1 loop
            rk := rk + 1;
            if rk = 1 and s.score >= t.case_threshold
               and not exists (select 1 from refuge.dedup_case dc
                                where dc.individual_id = pid and dc.kind = 'demographic' and dc.status <> 'CLOSED') then
                insert into refuge.dedup_case (kind, capture_id, individual_id, operation_id, site_id)
                values ('demographic', null, pid, ind.operation_id, ind.site_id)
                returning dedup_case.id into case_id;
            end if;
            if case_id is not null then
                insert into refuge.dedup_candidate (case_id, candidate_id, rank, evidence, modalities, fpir, scores, reasons)
                values (case_id, s.candidate_id, rk, s.score, 0, 0, s.levels::double precision[],
                        refuge.match_reasons(s.levels, w));
            end if;
            found_rows := found_rows || jsonb_build_object(
                'held', s.candidate_id, 'visible', refuge.may_see(s.operation_id, s.site_id),
                'individual_id', s.candidate_id, 'number', s.number,
                'score', round(s.score::numeric, 2), 'reasons', to_jsonb(refuge.match_reasons(s.levels, w)));
        end loop;
        -- candidates were found: a logged read naming every one (hidden ones
        -- too) and what was searched, whether or not the clerk sees them
        reads := reads || jsonb_build_object(
            'actor', refuge.caller(), 'kind', 'possible_duplicates', 'object_id', pid, 'individual_id', pid,
            'operation_id', ind.operation_id,
            'purpose', format('registration duplicate check: %s for %s',
                              (select string_agg(case when (e ->> 'visible')::boolean then e ->> 'number'
                                                      else (e ->> 'held') || ' (outside scope)' end, ', ')
                                 from jsonb_array_elements(found_rows) e),
                              refuge.match_probe_text(pid)));
        -- the clerk sees the candidates in scope; the others only counted
        -- (no score, and no case that would tell one of them is strong)
        res := res || jsonb_build_object(pid::text, jsonb_strip_nulls(jsonb_build_object(
            'candidates', (select coalesce(jsonb_agg(e - 'held' - 'visible'), '[]') from jsonb_array_elements(found_rows) e
                            where (e ->> 'visible')::boolean),
            'outside_scope', (select count(*) from jsonb_array_elements(found_rows) e where not (e ->> 'visible')::boolean),
            'case_id', case when not exists (select 1 from jsonb_array_elements(found_rows) e
                                              where not (e ->> 'visible')::boolean) then case_id end)));
    end loop;
    if jsonb_array_length(reads) > 0 then
        perform refuge.log_durably(jsonb_build_object('sensitive_read', reads));
    end if;
    return res;
end
$$;

-- Registration results (objects with an individual_id) with each person's
-- possible_duplicates: {"candidates": [{individual_id, number, score,
-- reasons}], "outside_scope": n, "case_id": the adjudication case opened}.
create function refuge.with_possible_duplicates(results jsonb) returns jsonb
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    dups jsonb;
begin
    if not current_setting('refuge.demographic_check')::boolean then
        return results;
    end if;
    dups := refuge.demographic_check(array(select (r ->> 'individual_id')::uuid from jsonb_array_elements(results) r));
    return (select jsonb_agg(x.r || jsonb_build_object('possible_duplicates',
                                 coalesce(dups -> (x.r ->> 'individual_id'), '{"candidates": [], "outside_scope": 0}'))
                             order by x.ord)
              from jsonb_array_elements(results) with ordinality x(r, ord));
end
$$;

-- The comparison levels of given pairs of people (all features).
create function refuge.match_levels(a uuid, b uuid) returns integer[]
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    select e.lv[1:5] || array[refuge.family_level(a, refuge.current_group(a), b, refuge.current_group(b)),
                              refuge.document_level(a, b), refuge.phone_level(a, b)] || e.lv[9:9]
      from refuge.individual ia, refuge.individual ib, refuge.match_profile pa, refuge.match_profile pb,
           lateral (select refuge.early_levels(pa, ia, pb, ib) as lv) e
     where ia.id = a and ib.id = b and pa.individual_id = a and pb.individual_id = b;
end;

-- Estimate the comparison model from the data (Fellegi-Sunter): a random
-- sample of people is searched as registrations are; m, the levels'
-- probabilities for two records of the same person, comes from labelled
-- pairs (the caller's, else the pairs reviewers decided were one person,
-- else m stays that of the model in force); u, for two different people,
-- from the compared pairs not known to be one person (blocking chose them
-- for their names, so u is what agrees by chance among namesakes, which is
-- what a candidate must be told apart from).  Each compared pair's score
-- then gives the false candidates per search at each score, and the
-- thresholds for a target rate follow (refuge.demographic_thresholds).
-- Writes refuge.match_weight and refuge.match_model; a DBA schedules it
-- (README).
create function refuge.estimate_match_model_from(sample integer, same_a uuid[], same_b uuid[], known_a uuid[],
                                                known_b uuid[], m_from text)
    returns jsonb
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    nlev constant integer[] := array[5, 6, 2, 3, 2, 4, 2, 2, 4];
    probes integer;
    pairs bigint;
    same_pairs bigint := 0;
    m_source text;
    lambda double precision;
    w double precision[];
    scores double precision[];
    sweights double precision[];
    chunk uuid[];
begin
    perform refuge.authorize('refuge_dba', 'estimate_match_model');
    if sample is null or sample < 100 or sample > 1000000 then
        perform refuge.raise_field('22023', 'sample', format('%s is not between 100 and 1000000', coalesce(sample::text, 'null')));
    end if;
    probes := least(sample, (select count(*) from refuge.match_profile))::integer;
    if probes < 100 then
        perform refuge.raise_field('55000', 'sample',
            format('%s people hold a match profile: at least 100 are needed to estimate a model', probes));
    end if;
    create temp table if not exists match_estimate_level (kind text, levels integer[]) on commit drop;
    truncate match_estimate_level;

    -- m: labelled pairs of the same person, else the reviewers' decisions;
    -- known: every pair known to be one person (not counted as false below)
    create temp table if not exists match_estimate_known (a uuid, b uuid) on commit drop;
    truncate match_estimate_known;
    if same_a is not null then
        if cardinality(same_a) is distinct from cardinality(same_b)
           or cardinality(known_a) is distinct from cardinality(known_b) then
            perform refuge.raise_field('22023', 'same_b', 'must have as many elements as same_a (known_b as known_a)');
        end if;
        insert into match_estimate_level
        select 'same', refuge.match_levels(l.a, l.b) from unnest(same_a, same_b) l(a, b) where l.a <> l.b;
        insert into match_estimate_known
        select l.a, l.b from unnest(coalesce(known_a, same_a), coalesce(known_b, same_b)) l(a, b);
        m_source := coalesce(m_from, 'labelled pairs');
    else
        insert into match_estimate_known
        select c.individual_id, c.matched_id
          from refuge.dedup_case c
         where c.decision in ('link', 'merge') and c.matched_id is not null
           and (c.decision = 'link' or c.approval = 'approved');
        insert into match_estimate_level select 'same', refuge.match_levels(k.a, k.b) from match_estimate_known k;
        m_source := 'adjudicated decisions (same person)';
    end if;
    insert into match_estimate_known select k.b, k.a from match_estimate_known k;
    delete from match_estimate_level where levels is null;
    select count(*) into same_pairs from match_estimate_level where kind = 'same';
    if same_pairs < 50 then
        m_source := format('the model in force (only %s pairs known to be the same person)', same_pairs);
    end if;

    -- the searches, as registrations run them (with the model in force), of
    -- a random sample: every blocked pair, each person's 50 strongest
    -- (the false candidates that matter are near the top), 500 people a
    -- statement
    create temp table if not exists match_estimate_pair (levels integer[], known boolean) on commit drop;
    truncate match_estimate_pair;
    w := refuge.match_weight_vector();
    for chunk in select array_agg(x.id) from (select y.id, (row_number() over () - 1) / 500 as b
                                                  from (select p.individual_id as id from refuge.match_profile p
                                                         order by random() limit probes) y) x group by x.b loop
        insert into match_estimate_pair
        select s.levels, exists (select 1 from match_estimate_known k where k.a = s.individual_id and k.b = s.candidate_id)
          from refuge.demographic_search_many(chunk, '-Infinity'::double precision, 50, w) s;
    end loop;
    select count(*) into pairs from match_estimate_pair;

    -- u: the levels of different people among the pairs a search compares
    -- (blocking chose them for their names: what agrees by chance there,
    -- parents' names and households of common names above all, is worth
    -- less than between two people drawn at random); m: of the same person
    create temp table if not exists match_estimate_weight (feature text, level smallint, label text,
        m double precision, u double precision) on commit drop;
    truncate match_estimate_weight;
    insert into match_estimate_weight
    select x.feature, x.level, x.label,
           -- a level seen fewer than 20 times both among pairs of one person
           -- and among compared pairs tells nothing here: the model in force
           -- keeps it (documents, where the sample holds none)
           case when x.un < 20 and x.mn < 20 then x.m0 else x.m end,
           case when x.un < 20 and x.mn < 20 then x.u0 else x.u end
      from (select dd.feature, dd.level, dd.label, coalesce(d.m, dd.m) as m0, coalesce(d.u, dd.u) as u0,
                   case when same_pairs < 50 then coalesce(d.m, dd.m)
                        else (coalesce(ms.n, 0) + 0.5) / (ms.total + 0.5 * nlev[f.ord]) end as m,
                   case when same_pairs < 50 then 20 else coalesce(ms.n, 0) end as mn,
                   (coalesce(us.n, 0) + 0.5) / (us.total + 0.5 * nlev[f.ord]) as u, coalesce(us.n, 0) as un
              from refuge.default_match_weights() dd
              join unnest(refuge.match_features()) with ordinality f(name, ord) on f.name = dd.feature
              left join refuge.match_weights_in_force() d on d.feature = dd.feature and d.level = dd.level
              left join lateral (select count(*) filter (where e.levels[f.ord] = dd.level) as n,
                                        count(*) filter (where e.levels[f.ord] > 0) as total
                                   from match_estimate_level e where e.kind = 'same') ms on true
              left join lateral (select count(*) filter (where e.levels[f.ord] = dd.level) as n,
                                        count(*) filter (where e.levels[f.ord] > 0) as total
                                   from match_estimate_pair e where not e.known) us on true) x;
    delete from refuge.match_weight;
    insert into refuge.match_weight (feature, level, label, m, u)
    select e.feature, e.level, e.label, e.m, e.u from match_estimate_weight e;
    w := refuge.match_weight_vector();

    -- the share of the compared pairs known to be one person
    lambda := greatest((select count(*) filter (where t.known)::double precision / greatest(count(*), 1)
                          from match_estimate_pair t), 1e-9);
    -- the curve: false candidates per search at or above each score, on a
    -- grid of 0.05 (a pair counts at the grid point at or below its score).
    -- Every pair not known to be one person counts as false: the model's
    -- own posterior would trust the independence of features that common
    -- names and estimated birth dates break (and thresholds would be too
    -- low); unlabelled duplicates in the sample err towards fewer false
    -- candidates.  Reviewers' decisions sharpen it.
    select array_agg(g.s order by g.s), array_agg(g.r order by g.s)
      into scores, sweights
      from (select b.s, sum(b.q) over (order by b.s desc) / probes as r
              from (select floor(refuge.match_score(t.levels, w) * 20) / 20 as s,
                           count(*) filter (where not t.known)::double precision as q
                      from match_estimate_pair t group by 1) b) g;
    insert into refuge.match_model as mm (singleton, estimated_at, estimated_by, source, probes, pairs, match_share,
                                          iterations, curve_scores, curve_rates)
    values (true, now(), refuge.caller(),
            format('m from %s; u and thresholds from the %s pairs that searches of %s people here compared',
                   m_source, pairs, probes),
            probes, pairs, lambda, 0, coalesce(scores, '{0}'), coalesce(sweights, '{0}'))
    on conflict (singleton) do update
       set estimated_at = excluded.estimated_at, estimated_by = excluded.estimated_by, source = excluded.source,
           probes = excluded.probes, pairs = excluded.pairs, match_share = excluded.match_share,
           iterations = excluded.iterations, curve_scores = excluded.curve_scores, curve_rates = excluded.curve_rates;
    return jsonb_build_object('probes', probes, 'pairs', pairs, 'same_person_pairs', same_pairs, 'm_from', m_source,
        'match_share', round(lambda::numeric, 6),
        'thresholds', (select to_jsonb(t) from refuge.demographic_thresholds() t),
        'weights', (select jsonb_object_agg(wf.feature || ':' || wf.level, round(wf.weight::numeric, 3))
                      from refuge.match_weights_in_force() wf));
end
$$;
comment on function refuge.estimate_match_model_from(integer, uuid[], uuid[], uuid[], uuid[], text) is
    'estimate the demographic comparison model from given pairs of the same person for m and all pairs known to be one person (refuge.estimate_match_model reads them)';
grant execute on function refuge.estimate_match_model_from(integer, uuid[], uuid[], uuid[], uuid[], text) to refuge_dba;

-- The same, reading the labelled pairs (a uuid, b uuid, same boolean, and
-- optionally train boolean: only those inform m) from a table or view as
-- the caller (never as the owner: whatever the relation runs, it runs with
-- the caller's rights).
create function refuge.estimate_match_model(sample integer default 5000, labelled regclass default null)
    returns jsonb
    language plpgsql volatile
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    a uuid[];
    b uuid[];
    ka uuid[];
    kb uuid[];
    train boolean;
begin
    -- (EXECUTE is refuge_dba's; refuge.estimate_match_model_from authorises again)
    if labelled is null then
        return refuge.estimate_match_model_from(sample, null, null, null, null, null);
    end if;
    if not exists (select 1 from pg_catalog.pg_attribute t where t.attrelid = labelled and t.attname = 'same'
                      and t.atttypid = 'boolean'::regtype and not t.attisdropped)
       or (select count(*) from pg_catalog.pg_attribute t where t.attrelid = labelled and not t.attisdropped
              and t.attname in ('a', 'b') and t.atttypid = 'uuid'::regtype) <> 2 then
        raise exception using errcode = '22023', schema = 'refuge',
            message = format('labelled: %s needs columns a uuid, b uuid, same boolean', labelled);
    end if;
    -- an optional column train: only its pairs inform m (the others are held
    -- out for measuring), all are known to be one person
    train := exists (select 1 from pg_catalog.pg_attribute t where t.attrelid = labelled and t.attname = 'train'
                        and t.atttypid = 'boolean'::regtype and not t.attisdropped);
    execute format('select array_agg(l.a) filter (where %s), array_agg(l.b) filter (where %s), array_agg(l.a), array_agg(l.b)
                      from %s l where l.same and l.a is not null and l.b is not null',
                   case when train then 'l.train' else 'true' end, case when train then 'l.train' else 'true' end, labelled)
       into a, b, ka, kb;
    return refuge.estimate_match_model_from(sample, coalesce(a, '{}'), coalesce(b, '{}'), coalesce(ka, '{}'), coalesce(kb, '{}'),
                                            format('labelled pairs of %s', labelled));
end
$$;
comment on function refuge.estimate_match_model(integer, regclass) is
    'estimate the demographic comparison model: u from random pairs, m from labelled pairs (a table read as the caller, else adjudicated decisions), the false-candidate curve from a sample of searches; replaces the model in force';
grant execute on function refuge.estimate_match_model(integer, regclass) to refuge_dba;

-- functions/30_registration.sql: register_group
create or replace function refuge.register_group(payload jsonb) returns jsonb
    language plpgsql security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    req uuid;
    prior jsonb;
    op_id uuid;
    site_id uuid;
    members jsonb;
    n integer;
    principals integer;
    defaults jsonb;
    numbers text[];
    gid uuid;
    results jsonb;
    rows jsonb[];
    reg_date date;
    arrival date;
    i integer;
begin
    perform refuge.authorize('refuge_registration', 'register_group');
    perform refuge.arg_fields(payload, 'payload', array['request_id', 'operation', 'site', 'registration_date',
        'arrival_date', 'registration_level', 'population_type', 'origin_country', 'flight_legs', 'addresses',
        'members', 'pre_registration']);
    req := refuge.arg_uuid(payload, 'request_id', 'payload');
    select o.id into op_id from refuge.operation o
     where o.code = refuge.arg_text(payload, 'operation', 'payload', true, 10) and o.active;
    if op_id is null then
        perform refuge.raise_field('23503', 'payload.operation', format('unknown operation %s', payload -> 'operation'));
    end if;
    select s.id into site_id from refuge.site s
     where s.operation_id = op_id and s.code = refuge.arg_text(payload, 'site', 'payload', true, 20) and s.active;
    if site_id is null then
        perform refuge.raise_field('23503', 'payload.site',
            format('unknown site %s in operation %s', payload -> 'site', payload ->> 'operation'));
    end if;
    perform refuge.authorize('refuge_registration', 'register_group', op_id, site_id);

    prior := refuge.claim_request(req, 'register_group', payload);
    if prior is not null then
        return prior;
    end if;

    members := refuge.arg_array(payload, 'members', 'payload', 100);
    n := jsonb_array_length(members);
    if n = 0 then
        perform refuge.raise_field('22004', 'payload.members', 'at least one member is required');
    end if;
    for i in 0 .. n - 1 loop
        if jsonb_typeof(members -> i) <> 'object' then
            perform refuge.raise_field('22023', format('payload.members[%s]', i),
                                       format('expected an object, got %s', jsonb_typeof(members -> i)));
        end if;
    end loop;
    select count(*) into principals from jsonb_array_elements(members) m where m ->> 'relationship' = 'PA';
    if principals <> 1 then
        perform refuge.raise_field('23514', 'payload.members',
            format('a group needs exactly one principal representative (relationship "PA"); found %s', principals));
    end if;

    reg_date := coalesce(refuge.arg_date(payload, 'registration_date', 'payload'), current_date);
    arrival := refuge.arg_date(payload, 'arrival_date', 'payload');
    defaults := jsonb_strip_nulls(jsonb_build_object(
        'registration_level', refuge.arg_code(payload, 'registration_level', 'payload', 'registration_level'),
        'population_type', refuge.arg_code(payload, 'population_type', 'payload', 'population_type'),
        'origin_country', refuge.arg_code(payload, 'origin_country', 'payload', 'country'),
        'arrival_date', arrival,
        'registration_date', reg_date,
        'flight_legs', case when payload ? 'flight_legs' then refuge.arg_array(payload, 'flight_legs', 'payload', 50) end,
        'addresses', case when payload ? 'addresses' then refuge.arg_array(payload, 'addresses', 'payload', 30) end));

    numbers := refuge.next_numbers(op_id, n + 1);
    gid := gen_random_uuid();
    rows := refuge.add_row('{}', 'registration_group', jsonb_build_object(
        'id', gid, 'number', numbers[1], 'operation_id', op_id, 'site_id', site_id, 'status', 'ACTIVE',
        'status_date', reg_date, 'registration_date', reg_date, 'arrival_date', arrival, 'request_id', req));
    for i in 0 .. n - 1 loop
        rows := refuge.member_rows(gid, op_id, site_id, members -> i, format('payload.members[%s]', i), defaults,
                                   numbers[i + 2], 'REGISTRATION', rows);
    end loop;
    -- everything validated: write the family, one statement per table
    perform refuge.insert_rows(rows);
    results := (select jsonb_agg(x.r - '_t' order by x.ord) from unnest(rows) with ordinality x(r, ord)
                 where x.r ->> '_t' = '_result');
    -- each member holds what the registration level requires
    for i in 0 .. n - 1 loop
        perform refuge.require_level((results -> i ->> 'individual_id')::uuid, format('payload.members[%s]', i));
    end loop;
    -- the same people registered before? (demographic comparison)
    results := refuge.with_possible_duplicates(results);
    -- a group pre-registered by head count: its token is used up
    if payload ? 'pre_registration' then
        update refuge.pre_registration p set group_id = gid, registered_at = now()
         where p.token = refuge.arg_text(payload, 'pre_registration', 'payload', true, 30)
           and p.operation_id = op_id and p.group_id is null;
        if not found then
            perform refuge.raise_field('P0002', 'payload.pre_registration',
                format('no unused pre-registration token %s in operation %s', refuge.excerpt(payload ->> 'pre_registration'),
                       payload ->> 'operation'));
        end if;
    end if;
    return refuge.finish_request(req, jsonb_build_object(
        'request_id', req, 'group_id', gid, 'group_number', numbers[1], 'members', results));
end
$$;

-- functions/30_registration.sql: add_individual
create or replace function refuge.add_individual(group_id uuid, member jsonb, request_id uuid default null) returns jsonb
    language plpgsql security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    g refuge.registration_group;
    prior jsonb;
    defaults jsonb;
    num text;
    rows jsonb[];
begin
    perform refuge.authorize('refuge_registration', 'add_individual');
    select * into g from refuge.registration_group rg where rg.id = add_individual.group_id for update;
    if not found or not refuge.in_scope(g.operation_id, g.site_id) then
        perform refuge.raise_field('P0002', 'group_id', format('no registration group %s in your operations', group_id));
    end if;
    if g.status <> 'ACTIVE' then
        perform refuge.raise_field('22023', 'group_id', format('group %s is %s', g.number, g.status));
    end if;
    prior := refuge.claim_request(request_id, 'add_individual',
                                  jsonb_build_object('group_id', group_id, 'member', member));
    if prior is not null then
        return prior;
    end if;
    if jsonb_typeof(member) is distinct from 'object' then
        perform refuge.raise_field('22023', 'member', format('expected an object, got %s', coalesce(jsonb_typeof(member), 'null')));
    end if;
    if member ->> 'relationship' = 'PA' and exists (
        select 1 from refuge.group_membership gm
         where gm.group_id = g.id and gm.valid_to is null and gm.relationship = 'PA') then
        perform refuge.raise_field('23514', 'member.relationship', format('group %s already has a principal representative', g.number));
    end if;
    -- the group's principal representative supplies the defaults
    select jsonb_strip_nulls(jsonb_build_object('registration_level', i.registration_level,
               'population_type', i.population_type, 'origin_country', i.origin_country))
      into defaults
      from refuge.group_membership gm join refuge.individual i on i.id = gm.individual_id
     where gm.group_id = g.id and gm.valid_to is null
     order by gm.relationship = 'PA' desc
     limit 1;
    num := (refuge.next_numbers(g.operation_id, 1))[1];
    rows := refuge.member_rows(g.id, g.operation_id, g.site_id, member, 'member', coalesce(defaults, '{}'), num,
                               'ADDITION', '{}');
    perform refuge.insert_rows(rows);
    perform refuge.require_level((select (r ->> 'individual_id')::uuid from unnest(rows) r where r ->> '_t' = '_result'),
                                 'member');
    return refuge.finish_request(request_id,
        (refuge.with_possible_duplicates((select jsonb_agg(r - '_t') from unnest(rows) r where r ->> '_t' = '_result')) -> 0)
        || jsonb_build_object('group_id', g.id));
end
$$;

-- functions/30_registration.sql: update_individual
create or replace function refuge.update_individual(individual_id uuid, changes jsonb) returns jsonb
    language plpgsql security definer
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    cur refuge.individual;
    r refuge.individual;
    scalars jsonb;
    collections constant text[] := array['names', 'nationalities', 'languages', 'education', 'occupations',
                                         'contacts', 'addresses', 'flight_legs', 'photo'];
begin
    cur := refuge.individual_for_update(individual_id, 'refuge_registration', 'update_individual');
    perform refuge.arg_fields(changes, 'changes',
        (select array_agg(f) from unnest(refuge.member_fields()) f
          where f not in ('ref', 'relationship', 'documents', 'specific_needs'))
        || array['status', 'status_reason']);
    scalars := changes - collections - array['status', 'status_reason'];
    r := refuge.parse_individual(to_jsonb(cur) || scalars, 'changes');
    -- a change of legal standing, or one that undoes an adjudication, is not
    -- one person's edit: refuge.request_status_change, approved by a supervisor
    if r.population_type is distinct from cur.population_type then
        perform refuge.raise_field('42501', 'changes.population_type',
            format('a change of population type (%s to %s) is requested with refuge.request_status_change and approved by a supervisor',
                   cur.population_type, r.population_type));
    end if;
    if changes ? 'status' then
        r.status := refuge.arg_code(changes, 'status', 'changes', 'individual_status', true);
        if r.status is distinct from cur.status then
            if cur.status = 'DUPLICATE' or r.status = 'DUPLICATE' then
                perform refuge.raise_field('42501', 'changes.status',
                    format('%s: a record closed as a duplicate changes only through adjudication (refuge.adjudicate)', cur.number));
            end if;
            -- made inactive by verification exercises and not active since: a supervised reactivation
            if cur.status = 'INACTIVE' and exists (
                    select 1 from refuge.status_history v
                     where v.individual_id = cur.id and v.source = 'VERIFICATION' and v.status = 'INACTIVE'
                       and not exists (select 1 from refuge.status_history a where a.individual_id = cur.id
                                          and a.status = 'ACTIVE' and a.recorded_at > v.recorded_at)) then
                perform refuge.raise_field('42501', 'changes.status',
                    format('%s was made inactive by verification exercises: reactivation is requested with refuge.request_status_change and approved by a supervisor',
                           cur.number));
            end if;
            if not (cur.status in ('ACTIVE', 'INACTIVE', 'HOLD') and r.status in ('ACTIVE', 'INACTIVE', 'HOLD')) then
                perform refuge.raise_field('42501', 'changes.status',
                    format('%s to %s is requested with refuge.request_status_change and approved by a supervisor',
                           cur.status, r.status));
            end if;
            cur.status := r.status;
            cur.status_date := current_date;
        end if;
        cur.status_reason := refuge.arg_text(changes, 'status_reason', 'changes', false, 500);
    end if;
    perform refuge.set_status_context(jsonb_strip_nulls(jsonb_build_object('source', 'UPDATE', 'reason', cur.status_reason))::text);
    update refuge.individual i set
        given_name = r.given_name, middle_name = r.middle_name, family_name = r.family_name,
        second_family_name = r.second_family_name, maiden_name = r.maiden_name,
        mother_name = r.mother_name, father_name = r.father_name, sex = r.sex,
        date_of_birth = r.date_of_birth, dob_precision = r.dob_precision, place_of_birth = r.place_of_birth,
        birth_country = r.birth_country, origin_country = r.origin_country, ethnicity = r.ethnicity,
        religion = r.religion, marital_status = r.marital_status, education_level = r.education_level,
        population_type = r.population_type,
        population_type_date = case when r.population_type <> cur.population_type then current_date
                                    else cur.population_type_date end,
        registration_level = r.registration_level, arrival_date = r.arrival_date,
        status = cur.status, status_date = cur.status_date, status_reason = cur.status_reason
     where i.id = cur.id;
    perform refuge.set_status_context(null);
    perform refuge.write_collections(cur.id, changes, 'changes');
    -- moving to another registration level: the record must hold what it requires
    if r.registration_level is distinct from cur.registration_level then
        perform refuge.require_level(cur.id, 'changes');
    end if;
    -- names or date of birth changed: compared again
    if changes ? 'names' or (r.given_name, r.middle_name, r.family_name, r.second_family_name, r.maiden_name,
                             r.date_of_birth, r.dob_precision)
                            is distinct from
                            (cur.given_name, cur.middle_name, cur.family_name, cur.second_family_name, cur.maiden_name,
                             cur.date_of_birth, cur.dob_precision) then
        return refuge.with_possible_duplicates(jsonb_build_array(jsonb_build_object(
            'individual_id', cur.id, 'number', cur.number,
            'fields', (select jsonb_agg(k order by k) from jsonb_object_keys(changes) k)))) -> 0;
    end if;
    return jsonb_build_object('individual_id', cur.id, 'number', cur.number,
                              'fields', (select jsonb_agg(k order by k) from jsonb_object_keys(changes) k));
end
$$;

-- functions/41_identity.sql: enrol_biometrics
create or replace function refuge.enrol_biometrics(individual_id uuid, templates jsonb) returns jsonb
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
    decision jsonb;
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
    select d.id into open_case from refuge.dedup_case d
     where d.individual_id = ind.id and d.kind = 'biometric' and d.status <> 'CLOSED';
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
                    refuge.vault_seal(decode(templates -> 'images' -> (img ->> 'index')::integer ->> 'data', 'base64'),
                                      format('%s|%s|%s', vault_id, ind.id, img ->> 'part')));
        end loop;
    end if;
    decision := refuge.enrol_decide(cap_id, cands);
    -- an enrolment is a 1:N search whose answer names who matched: committed
    -- by the logging worker before the answer, like refuge.identify, so that a
    -- probe enrolled and rolled back leaves its trace
    perform refuge.log_durably(jsonb_build_object('biometric_identification', jsonb_build_array(jsonb_build_object(
        'operation_id', ind.operation_id, 'site_id', site_id, 'purpose', 'enrolment of ' || ind.number,
        'gallery_size', gallery, 'target_fpir', pol.target_fpir, 'candidates', coalesce(cands, '{}'),
        'device', p.device, 'searched_by', refuge.caller()))));
    return decision;
end
$$;

-- functions/41_identity.sql: adjudicate
create or replace function refuge.adjudicate(case_id uuid, decision text, matched_id uuid default null, reason text default null)
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
    if c.kind = 'demographic' and decision = 'link' then
        perform refuge.raise_field('22023', 'decision',
            'link joins biometric enrolments: a demographic case is decided merge (same person), different or fraud');
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
    elsif c.kind = 'demographic' then
        -- the decision itself clears the pairs for the demographic search
        -- (refuge.demographic_cleared); a decision on names alone does not
        -- stop a biometric match later
        update refuge.dedup_case d set status = 'CLOSED' where d.id = c.id;
        res := jsonb_build_object('decision', 'different');
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

-- functions/41_identity.sql: approve_merge
create or replace function refuge.approve_merge(case_id uuid, approve boolean, reason text default null) returns jsonb
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
    select * into c from refuge.dedup_case d where d.id = approve_merge.case_id;
    perform refuge.require_visible(c.id is not null and refuge.in_scope(c.operation_id, c.site_id), 'case_id');
    c := refuge.dedup_case_for_update(approve_merge.case_id);
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
    select * into target from refuge.individual i where i.id = c.matched_id for update;
    -- two merges must not retire both records of one person
    if target.status = 'DUPLICATE' or subject.status = 'DUPLICATE' then
        perform refuge.raise_field('55000', 'case_id',
            format('%s is already closed as a duplicate: reject this merge and decide the case again',
                   case when target.status = 'DUPLICATE' then target.number else subject.number end));
    end if;
    select * into membership from refuge.group_membership m where m.individual_id = subject.id and m.valid_to is null;
    if membership.relationship = 'PA' and exists (select 1 from refuge.group_membership m
            where m.group_id = membership.group_id and m.valid_to is null and m.individual_id <> subject.id) then
        perform refuge.raise_field('55000', 'case_id',
            format('%s is the principal of a family with other members; set another principal first', subject.number));
    end if;
    select * into cap from refuge.biometric_capture b where b.id = c.capture_id;
    -- a biometric merge joins the subject's enrolment to the identity; a
    -- demographic one has no capture, and the matched identity (if any) stays
    if c.kind = 'biometric' then
        perform refuge.enrolment_lock();
        identity := refuge.identity_of(c.matched_id);
        insert into refuge.biometric_enrolment (individual_id, identity_id, operation_id, site_id, capture_id, status)
        values (subject.id, identity, cap.operation_id, cap.site_id, cap.id, 'MERGED');
    end if;
    -- the duplicate record stays, closed, with everything attached to it
    perform refuge.set_individual_status(subject, 'DUPLICATE', null,
        format('merged into %s (adjudication case %s)', target.number, c.id), 'ADJUDICATION', c.id, refuge.caller());
    if membership.id is not null then
        update refuge.group_membership m
           set valid_to = now(), end_reason = 'MERGE', comment = format('duplicate of %s', target.number)
         where m.id = membership.id;
    end if;
    update refuge.dedup_case d
       set status = 'CLOSED', approval = 'approved', approved_by = refuge.caller(), approved_at = now(),
           outcome = d.outcome || jsonb_build_object('identity_id', identity, 'merged_into', target.id)
     where d.id = c.id;
    -- the subject's other open cases (biometric or demographic) are moot now
    update refuge.dedup_case d
       set status = 'CLOSED', outcome = jsonb_build_object('superseded_by', c.id, 'merged_into', target.id)
     where d.individual_id = subject.id and d.id <> c.id and d.status <> 'CLOSED';
    return jsonb_build_object('case_id', c.id, 'approval', 'approved', 'merged_into', target.id, 'identity_id', identity);
end
$$;

-- functions/60_cases.sql: tracing_matches
create or replace function refuge.tracing_matches(case_id uuid, max_results integer default 10)
    returns table (individual_id uuid, number text, given_name text, family_name text, sex text, birth_year integer,
                   operation text, score integer)
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    c refuge.process_case;
    probe refuge.match_profile;
    yob integer;
    sought_sex text;
    w double precision[] := refuge.match_weight_vector();
    found_rows refuge.tracing_match[];
begin
    c := refuge.case_for_update(tracing_matches.case_id, 'tracing_matches', false);
    if c.module <> 'TRACING' then
        perform refuge.raise_field('22023', 'case_id', format('case %s is a %s case, not a tracing request', c.number, c.module));
    end if;
    -- the sought person as a match profile: the demographic engine's names,
    -- keys and blocking, everywhere this server holds people
    probe.names := array_remove(array[refuge.name_canonical(concat_ws(' ', c.data ->> 'sought_given_name',
                                                                         c.data ->> 'sought_family_name'))], null);
    probe.keys := refuge.name_block_keys(probe.names);
    yob := case when c.data ->> 'sought_birth_year' ~ '^[0-9]{4}$' then (c.data ->> 'sought_birth_year')::integer end;
    probe.birth_year := coalesce(yob, 0);
    sought_sex := c.data ->> 'sought_sex';
    select coalesce(array_agg(row(y.id, y.number, y.given_name, y.family_name, y.sex, y.yob, y.code, y.score)::refuge.tracing_match
                              order by y.score desc, y.number), '{}')
      into found_rows
      from (select x.id, x.number, x.given_name, x.family_name, x.sex, x.yob, o.code,
                   round(10 * (w[x.name_level + 1] + w[x.dob_level + 11] + w[x.sex_level + 21]))::integer as score
              from (select i.id, i.number, i.given_name, i.family_name, i.sex, i.operation_id,
                           extract(year from i.date_of_birth)::integer as yob,
                           refuge.name_match_level(probe.names, mp.names) as name_level,
                           case when yob is null or i.date_of_birth is null then 0
                                when abs(extract(year from i.date_of_birth) - yob) = 0 then 2
                                when abs(extract(year from i.date_of_birth) - yob) <= 1 then 3
                                when abs(extract(year from i.date_of_birth) - yob) <= 3 then 4
                                else 5 end as dob_level,
                           case when sought_sex is null or i.sex = 'U' then 0 when i.sex = sought_sex then 1 else 2 end
                               as sex_level
                      from refuge.demographic_blocked(probe, 3, 500) b(id)
                      join refuge.individual i on i.id = b.id
                      join refuge.match_profile mp on mp.individual_id = i.id
                     where i.status = 'ACTIVE'
                       and not exists (select 1 from refuge.case_member cm where cm.case_id = c.id and cm.individual_id = i.id)) x
              join refuge.operation o on o.id = x.operation_id
             where x.name_level >= 2
               and w[x.name_level + 1] + w[x.dob_level + 11] + w[x.sex_level + 21] > 0
             order by 8 desc, x.number
             limit greatest(1, least(coalesce(max_results, 10), 100))) y;
    perform refuge.log_durably(jsonb_build_object('sensitive_read', jsonb_build_array(jsonb_build_object(
        'actor', refuge.caller(), 'kind', 'tracing_search', 'object_id', c.id, 'case_id', c.id, 'module', c.module,
        'individual_id', c.principal_id, 'operation_id', c.operation_id,
        'purpose', format('tracing search: %s people returned%s', cardinality(found_rows),
                          coalesce(' (' || (select string_agg(f.number, ', ') from unnest(found_rows) f) || ')', ''))))));
    return query select * from unnest(found_rows);
end
$$;

alter table refuge.match_profile owner to refuge_owner;
revoke all on table refuge.match_profile from public;
alter table refuge.match_profile enable row level security;
alter table refuge.match_profile force row level security;
create policy owner_all on refuge.match_profile for all to refuge_owner using (true) with check (true);
create trigger no_truncate before truncate on refuge.match_profile
    for each statement execute function refuge.refuse_truncate();
alter table refuge.match_profile enable always trigger no_truncate;
alter table refuge.match_block owner to refuge_owner;
revoke all on table refuge.match_block from public;
alter table refuge.match_block enable row level security;
alter table refuge.match_block force row level security;
create policy owner_all on refuge.match_block for all to refuge_owner using (true) with check (true);
create trigger no_truncate before truncate on refuge.match_block
    for each statement execute function refuge.refuse_truncate();
alter table refuge.match_block enable always trigger no_truncate;
alter table refuge.match_weight owner to refuge_owner;
revoke all on table refuge.match_weight from public;
alter table refuge.match_weight enable row level security;
alter table refuge.match_weight force row level security;
create policy owner_all on refuge.match_weight for all to refuge_owner using (true) with check (true);
create trigger no_truncate before truncate on refuge.match_weight
    for each statement execute function refuge.refuse_truncate();
alter table refuge.match_weight enable always trigger no_truncate;
alter table refuge.match_model owner to refuge_owner;
revoke all on table refuge.match_model from public;
alter table refuge.match_model enable row level security;
alter table refuge.match_model force row level security;
create policy owner_all on refuge.match_model for all to refuge_owner using (true) with check (true);
create trigger no_truncate before truncate on refuge.match_model
    for each statement execute function refuge.refuse_truncate();
alter table refuge.match_model enable always trigger no_truncate;

do $security$
declare
    r record;
begin
    for r in select p.oid::regprocedure as fn from pg_catalog.pg_proc p
              where p.pronamespace = 'refuge'::regnamespace
    loop
        execute format('alter function %s owner to refuge_owner', r.fn);
    end loop;
end
$security$;
revoke all on all functions in schema refuge, refuge_warehouse from public;

-- everyone already registered gets a match profile (refuge.rebuild_match_profiles, by batches)
select refuge.rebuild_match_profiles();
comment on function refuge.adjudicate(uuid, text, uuid, text) is
    'decide an adjudication case: link (biometric only), merge (then approve_merge), different (pairs cleared: a biometric enrolment is decided again; a demographic pair is not raised again) or fraud';
comment on function refuge.tracing_matches(uuid, integer) is
    'people who may be the person a tracing case seeks, through the demographic engine (names in any script and spelling, birth year, sex; score in tenths of the log10 likelihood ratio), logged';
