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
        ('name', 2, 'one part agrees', 0.003326, 0.624100),
        ('name', 3, 'all parts but one agree, or all similar', 0.050499, 0.182275),
        ('name', 4, 'every part agrees (spelling, transliteration), a common name (over 15 namesakes)', 0.090414, 0.081372),
        ('name', 5, 'every part the same, a common name (over 15 namesakes)', 0.098276, 0.077152),
        ('name', 6, 'every part agrees (spelling, transliteration), 4 to 15 namesakes', 0.080738, 0.013217),
        ('name', 7, 'every part the same, 4 to 15 namesakes', 0.172059, 0.016235),
        ('name', 8, 'every part agrees (spelling, transliteration), 3 namesakes at most', 0.156335, 0.002050),
        ('name', 9, 'every part the same, 3 namesakes at most', 0.348050, 0.003597),
        ('birth_date', 1, 'same day', 0.331921, 0.000774),
        ('birth_date', 2, 'same within its precision', 0.381543, 0.383537),
        ('birth_date', 3, 'a year apart', 0.155219, 0.487359),
        ('birth_date', 4, 'two or three years apart', 0.023298, 0.084605),
        ('birth_date', 5, 'further apart', 0.000303, 0.000303),
        ('birth_date', 6, 'same day and month, the year off by one or two', 0.081392, 0.000437),
        ('birth_date', 7, 'both exact, within a month or day and month swapped', 0.026324, 0.043286),
        ('sex', 1, 'same', 0.999697, 0.804502),
        ('sex', 2, 'different', 0.000303, 0.195498),
        ('birth_place', 1, 'same place', 0.800924, 0.077007),
        ('birth_place', 2, 'same country', 0.194453, 0.544208),
        ('birth_place', 3, 'different', 0.004622, 0.378786),
        ('parents', 1, 'a parent''s name agrees', 0.999545, 0.456454),
        ('parents', 2, 'parents'' names differ', 0.000455, 0.543546),
        ('family', 1, 'two or more other members match members of the other household', 0.914948, 0.004687),
        ('family', 2, 'same household', 0.000368, 0.003134),
        ('family', 3, 'one other member matches a member of the other household', 0.075479, 0.040069),
        ('family', 4, 'other members, none matching', 0.009205, 0.952110),
        ('document', 1, 'same document number', 0.9, 0.0001),
        ('document', 2, 'different numbers of the same kind', 0.1, 0.9999),
        ('phone', 1, 'a phone number shared', 0.650510, 0.000058),
        ('phone', 2, 'no phone number shared', 0.349490, 0.999942),
        ('registration', 1, 'same site within 90 days', 0.030588, 0.040506),
        ('registration', 2, 'same site', 0.072380, 0.185458),
        ('registration', 3, 'same operation, another site', 0.284373, 0.315790),
        ('registration', 4, 'another operation', 0.612659, 0.458246)) v(feature, level, label, m, u);
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
-- model on the benchmark population (5000 searches, 232292 compared pairs).
create function refuge.match_rate_curve(out scores double precision[], out rates double precision[], out source text)
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    select x.a, x.b, x.c into scores, rates, source
      from (select m.curve_scores as a, m.curve_rates as b, m.source as c from refuge.match_model m
    union all
    select '{-13.50,-13.10,-13.00,-12.95,-12.80,-12.75,-12.70,-12.65,-12.55,-12.50,-12.45,-12.40,-12.25,-12.20,-12.15,-12.05,-12.00,-11.70,-11.65,-11.60,-11.55,-11.45,-11.35,-11.30,-11.25,-11.20,-11.10,-11.05,-11.00,-10.95,-10.90,-10.85,-10.80,-10.75,-10.70,-10.65,-10.60,-10.55,-10.50,-10.45,-10.40,-10.35,-10.30,-10.25,-10.20,-10.15,-10.10,-10.05,-10.00,-9.95,-9.90,-9.85,-9.80,-9.75,-9.70,-9.65,-9.60,-9.55,-9.50,-9.45,-9.40,-9.35,-9.30,-9.25,-9.20,-9.15,-9.10,-9.05,-9.00,-8.95,-8.90,-8.85,-8.80,-8.75,-8.70,-8.65,-8.60,-8.55,-8.50,-8.45,-8.40,-8.35,-8.30,-8.25,-8.20,-8.15,-8.10,-8.05,-8.00,-7.95,-7.90,-7.85,-7.80,-7.75,-7.70,-7.65,-7.60,-7.55,-7.50,-7.45,-7.40,-7.35,-7.30,-7.25,-7.20,-7.15,-7.10,-7.05,-7.00,-6.95,-6.90,-6.85,-6.80,-6.75,-6.70,-6.65,-6.60,-6.55,-6.50,-6.45,-6.40,-6.35,-6.30,-6.25,-6.20,-6.15,-6.10,-6.05,-6.00,-5.95,-5.90,-5.85,-5.80,-5.75,-5.70,-5.65,-5.60,-5.55,-5.50,-5.45,-5.40,-5.35,-5.30,-5.25,-5.20,-5.15,-5.10,-5.05,-5.00,-4.95,-4.90,-4.85,-4.80,-4.75,-4.70,-4.65,-4.60,-4.55,-4.50,-4.45,-4.40,-4.35,-4.30,-4.25,-4.20,-4.15,-4.10,-4.05,-4.00,-3.95,-3.90,-3.85,-3.80,-3.75,-3.70,-3.65,-3.60,-3.55,-3.50,-3.45,-3.40,-3.35,-3.30,-3.25,-3.20,-3.15,-3.10,-3.05,-3.00,-2.95,-2.90,-2.85,-2.80,-2.75,-2.70,-2.65,-2.60,-2.55,-2.50,-2.45,-2.40,-2.35,-2.30,-2.25,-2.20,-2.15,-2.10,-2.05,-2.00,-1.95,-1.90,-1.85,-1.80,-1.75,-1.70,-1.65,-1.60,-1.55,-1.50,-1.45,-1.40,-1.35,-1.30,-1.25,-1.20,-1.15,-1.10,-1.05,-1.00,-0.95,-0.90,-0.85,-0.80,-0.75,-0.70,-0.65,-0.60,-0.55,-0.50,-0.45,-0.40,-0.35,-0.30,-0.25,-0.20,-0.15,-0.10,-0.05,0.00,0.05,0.10,0.15,0.20,0.25,0.30,0.35,0.40,0.45,0.50,0.55,0.60,0.65,0.70,0.75,0.80,0.85,0.90,0.95,1.00,1.05,1.10,1.15,1.20,1.25,1.30,1.35,1.40,1.45,1.50,1.55,1.60,1.65,1.70,1.75,1.80,1.85,1.90,1.95,2.00,2.05,2.10,2.15,2.20,2.25,2.30,2.35,2.40,2.45,2.50,2.60,2.65,2.70,2.75,2.80,2.85,2.90,3.00,3.05,3.10,3.20,3.30,3.35,3.40,3.45,3.55,3.60,3.65,3.70,3.75,3.80,3.85,3.90,3.95,4.00,4.15,4.20,4.25,4.30,4.35,4.45,4.55,4.70,4.80,4.85,4.90,4.95,5.00,5.05,5.10,5.15,5.20,5.25,5.30,5.35,5.40,5.45,5.50,5.55,5.60,5.65,5.70,5.80,5.85,5.90,6.00,6.05,6.15,6.20,6.25,6.35,6.40,6.60,6.65,6.70,6.75,6.85,6.90,6.95,7.00,7.05,7.10,7.25,7.35,7.50,7.60,7.70,7.80,7.85,7.95,8.00,8.05,8.10,8.20,8.30,8.35,8.45,9.00,9.15,9.20,9.25,9.50,9.55,10.25,10.95,11.05}'::double precision[],
           '{46.399800,46.399600,46.396200,46.372400,46.372200,46.372000,46.362800,46.356600,46.308600,46.292200,46.174400,46.172000,46.159800,46.157200,46.136800,46.096200,46.096000,45.977000,45.976600,45.976000,45.969000,45.915800,45.915000,45.912800,45.911200,45.878400,45.805000,45.792000,45.752800,45.607400,45.603600,45.580000,45.578800,45.577400,45.532600,45.467800,45.465400,45.465200,45.463400,45.335400,45.330400,45.327000,45.320800,45.319600,45.308800,45.297800,45.289800,45.151600,45.145200,45.136000,45.112800,45.105200,45.012000,44.973000,44.582400,44.576000,44.498800,43.350000,43.273600,43.270800,43.121800,43.023800,42.957000,42.764600,42.148200,42.144000,42.120600,41.128000,40.920800,40.899200,40.874200,40.757800,40.745600,40.692600,40.584800,40.525200,40.007200,40.002600,39.821400,39.738400,39.714600,39.664200,39.403200,38.585800,38.566600,38.404200,37.762800,36.297000,36.190800,35.937400,35.687200,35.619400,35.130200,34.368800,34.113200,34.076200,33.888600,32.320800,32.209000,32.088200,31.764800,31.694400,31.395600,31.093600,30.917400,30.714600,30.651200,30.293400,30.037200,29.914800,29.591400,29.445000,29.345600,29.158000,28.830000,28.551200,27.800400,27.765600,27.197000,26.416800,26.136200,25.635600,25.244800,25.167800,24.998800,24.338200,23.794600,23.587600,23.380000,22.633600,22.435400,21.953600,21.718200,21.478000,21.284400,21.260400,20.843200,20.733600,20.182400,20.040800,19.888200,19.720800,19.644600,19.391600,18.936000,18.370800,18.280000,17.679600,16.844200,16.540400,16.200800,16.148200,15.742800,15.408200,15.084400,14.047000,13.878400,13.573600,12.899000,12.636400,12.113600,11.929600,11.540800,11.283000,11.204000,10.662200,10.475400,10.167800,10.105000,9.777600,9.471800,9.328600,8.862600,8.633000,8.502800,8.365800,8.264400,8.114600,7.857000,7.392600,7.283000,7.158400,6.894800,6.633600,6.331600,6.126200,5.901400,5.744400,5.588800,4.999200,4.901000,4.715400,4.443000,4.386800,4.239200,4.009000,3.825000,3.769200,3.532800,3.279800,3.212600,2.993000,2.842400,2.639400,2.595000,2.517600,2.379600,2.316200,2.210400,2.109800,2.061400,1.960800,1.889200,1.770600,1.699400,1.657200,1.566800,1.523000,1.408000,1.322800,1.279400,1.199400,1.150400,1.106600,1.026600,0.993400,0.974000,0.949600,0.887800,0.837800,0.803000,0.760600,0.705600,0.666400,0.639800,0.581200,0.561600,0.538600,0.498800,0.488000,0.454200,0.433400,0.404000,0.385200,0.370800,0.332200,0.310400,0.290200,0.260800,0.250000,0.235200,0.224000,0.216800,0.206400,0.197000,0.181800,0.173400,0.163600,0.151400,0.143400,0.139600,0.130600,0.124200,0.118400,0.104800,0.096800,0.091400,0.084800,0.080600,0.077000,0.074400,0.070400,0.065000,0.061200,0.056800,0.054000,0.050400,0.046600,0.040800,0.038400,0.036200,0.034000,0.031600,0.030200,0.027400,0.022200,0.020200,0.018400,0.017000,0.014800,0.014200,0.013400,0.012800,0.012600,0.010400,0.009400,0.008400,0.008200,0.008200,0.006400,0.005800,0.005600,0.005400,0.004600,0.004000,0.003600,0.002800,0.002600,0.002400,0.002200,0.002000,0.001800,0.001600,0.001400,0.001200,0.001200,0.001200,0.001000,0.000800,0.000600,0.000600,0.000600,0.000600,0.000400,0.000400,0.000200,0.000200,0.000200,0.000200,0.000200,0.000200,0.000200,0.000200,0.000200,0.000200,0.000200,0.000200,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000}'::double precision[],
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
           refuge.name_canonical(i.place_of_birth), now(),
           i.date_of_birth, i.dob_precision, i.sex, i.birth_country, i.site_id, i.operation_id, i.registration_date,
           i.status, '{}'::text[]
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
     where i.id in (select unnest(ids))
       -- (a tombstone is nobody's duplicate: erase_individual removed its profile)
       and i.status <> 'ERASED';
end;

-- Whether a household has household keys: 30 current members at most (a
-- larger group, a collective site or an institution, has none: they would
-- say little, and cost in the square of its size each time it changes).
create function refuge.household_keyed(group_id uuid) returns boolean
    language sql stable
    return (select count(*) from (select 1 from refuge.group_membership c
                                   where c.group_id = household_keyed.group_id and c.valid_to is null limit 31) z) <= 30;
comment on function refuge.household_keyed(uuid) is
    'internal: whether a household has household blocking keys (30 current members at most)';

-- Household blocking keys, 24 at most (none in a group of more than 30):
-- 'h', the key of the person's given
-- name (the first part of their first form), '|', the key of another
-- current member's; and 'h', the keys of two other members' given names,
-- neighbours in the order of the keys (a chain, so that one member more or
-- less breaks one link), so that a misspelt given name of the person still
-- meets its household.  A family registered again shares them with its
-- first registration however common its names: every Mohamed Ahmed born
-- that year is not a block worth reading, the Mohamed Ahmed with a Hinda
-- at home is.  Not name keys: they never count as namesakes.
create function refuge.household_keys_of(ids uuid[]) returns table (individual_id uuid, keys text[])
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    return query
    with person as (
        select x.id, m.group_id
          from unnest(ids) x(id)
          left join refuge.group_membership m on m.individual_id = x.id and m.valid_to is null
         where exists (select 1 from refuge.match_profile p where p.individual_id = x.id)),
    household_group as materialized (
        select g.group_id
          from (select distinct person.group_id from person where person.group_id is not null) g
         where refuge.household_keyed(g.group_id)),
    -- each member's given-name key, once per household
    member as materialized (
        select o.group_id, o.individual_id,
               (refuge.name_block_keys(array[split_part(q.names[1], ' ', 1)]))[1] as k
          from refuge.group_membership o
          join refuge.match_profile q on q.individual_id = o.individual_id
         where o.group_id in (select household_group.group_id from household_group) and o.valid_to is null),
    household as (
        select p.id, max(m.k) filter (where m.individual_id = p.id) as own,
               coalesce(array_agg(distinct m.k order by m.k) filter (where m.individual_id <> p.id and m.k is not null),
                        '{}') as ks
          from person p left join member m on m.group_id = p.group_id
         group by p.id)
    select h.id,
           -- (the person's own name with the others' first, then the chain)
           array(select hk.key
                   from (select 'h' || h.own || '|' || c.k as key, 1 as kind
                           from unnest(h.ks) c(k)
                         union all
                         select 'h' || h.ks[i] || '|' || h.ks[i + 1], 2
                           from generate_series(1, cardinality(h.ks) - 1) i) hk
                  where hk.key is not null
                  group by hk.key order by min(hk.kind), hk.key limit 24)
      from household h;
end
$$;
comment on function refuge.household_keys_of(uuid[]) is
    'internal: the household blocking keys of these people (the given name''s key with each other current member''s)';

-- Recompute the household keys of these people and of everyone who lives
-- with them now, and of the households given (those some of them left): a
-- member came or left, or was renamed.  Of a household of more than 30
-- (which has none), only these people and those still holding keys.
create function refuge.refresh_household_keys(ids uuid[], groups uuid[] default '{}') returns void
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    -- the owner's policies apply even where a superuser turned row security off
    set row_security = on
as $$
declare
    affected uuid[];
    small uuid[];
    people uuid[];
    fresh jsonb;
begin
    if coalesce(cardinality(ids), 0) = 0 and coalesce(cardinality(groups), 0) = 0 then
        return;
    end if;
    affected := array(select x from unnest(groups) x where x is not null
                      union
                      select m.group_id from refuge.group_membership m
                       where m.individual_id = any (ids) and m.valid_to is null);
    -- one change to a household's keys at a time: of two sessions changing
    -- one household (a member added while another is erased or renamed),
    -- the second computes the keys once the first has committed (the
    -- statements below take their snapshots after the lock)
    perform 1 from refuge.registration_group g where g.id = any (affected) order by g.id for no key update;
    small := array(select x from unnest(affected) x where refuge.household_keyed(x));
    people := array(select x from unnest(ids) x where x is not null
                    union
                    select m.individual_id from refuge.group_membership m
                     where m.group_id = any (small) and m.valid_to is null
                    union
                    select m.individual_id from refuge.group_membership m
                      join refuge.match_profile p on p.individual_id = m.individual_id
                     where m.group_id = any (affected) and m.valid_to is null and cardinality(p.household_keys) > 0);
    -- the keys where they changed
    select jsonb_object_agg(h.individual_id, to_jsonb(h.keys)) into fresh
      from refuge.household_keys_of(people) h
      join refuge.match_profile p on p.individual_id = h.individual_id
     where p.household_keys is distinct from h.keys;
    if fresh is null then
        return;
    end if;
    -- the blocks of the keys gone, then those of the keys new
    delete from refuge.match_block b
     using (select p.individual_id, p.birth_year, k.key
              from jsonb_each(fresh) f
              join refuge.match_profile p on p.individual_id = f.key::uuid
             cross join unnest(p.household_keys) k(key)
             where not f.value ? k.key) o
     where b.key = o.key and b.birth_year = o.birth_year and b.individual_id = o.individual_id;
    insert into refuge.match_block (key, birth_year, individual_id)
    select k.key, p.birth_year, p.individual_id
      from jsonb_each(fresh) f
      join refuge.match_profile p on p.individual_id = f.key::uuid
     cross join jsonb_array_elements_text(f.value) k(key)
     where k.key <> all (p.household_keys)
    on conflict do nothing;
    update refuge.match_profile p set household_keys = array(select jsonb_array_elements_text(f.value))
      from jsonb_each(fresh) f
     where p.individual_id = f.key::uuid;
end
$$;
comment on function refuge.refresh_household_keys(uuid[], uuid[]) is
    'internal: recompute the household blocking keys of these people and of those who live with them';

-- Recompute the match profiles and blocking keys of these people (and the
-- household keys of those who live with them, which hold their given name).
create function refuge.refresh_match_profiles(ids uuid[]) returns void
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    -- the owner's policies apply even where a superuser turned row security off
    set row_security = on
as $$
begin
    delete from refuge.match_block b
     using (select p.individual_id, p.birth_year, k.key
              from refuge.match_profile p cross join unnest(p.keys || p.household_keys) k(key)
             where p.individual_id in (select unnest(ids))) o
     where b.key = o.key and b.birth_year = o.birth_year and b.individual_id = o.individual_id;
    insert into refuge.match_profile as p
    select * from refuge.match_profile_rows(ids)
    on conflict (individual_id) do update
       set names = excluded.names, keys = excluded.keys, birth_year = excluded.birth_year,
           parents = excluded.parents, place = excluded.place, updated_at = excluded.updated_at,
           dob = excluded.dob, dob_precision = excluded.dob_precision, sex = excluded.sex,
           birth_country = excluded.birth_country, site = excluded.site, operation = excluded.operation,
           registered_on = excluded.registered_on, record_status = excluded.record_status,
           household_keys = '{}';
    insert into refuge.match_block (key, birth_year, individual_id)
    select distinct k.key, p.birth_year, p.individual_id
      from refuge.match_profile p cross join unnest(p.keys) k(key)
     where p.individual_id in (select unnest(ids))
    on conflict do nothing;
    -- (a person registered is in no household yet: group_membership's
    -- trigger makes the keys when they join one)
    perform refuge.refresh_household_keys(array(
        select m.individual_id from refuge.group_membership m
         where m.individual_id = any (ids) and m.valid_to is null));
end
$$;

-- The profiles' copy of the facts the search compares, alone (a status or
-- a transfer changed, not a name or a birth date).
create function refuge.refresh_match_facts(ids uuid[]) returns void
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
    -- the owner's policies apply even where a superuser turned row security off
    set row_security = on
as $$
begin
    if cardinality(ids) = 0 then
        return;
    end if;
    update refuge.match_profile p
       set dob = i.date_of_birth, dob_precision = i.dob_precision, sex = i.sex, birth_country = i.birth_country,
           site = i.site_id, operation = i.operation_id, registered_on = i.registration_date, record_status = i.status
      from refuge.individual i
     where i.id = p.individual_id and p.individual_id = any (ids);
end
$$;
comment on function refuge.refresh_match_facts(uuid[]) is
    'internal: copy the facts the demographic search compares from these people''s records into their profiles';

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

-- Triggers: profiles follow individual and individual_name, household
-- keys group_membership.  Statement
-- triggers for the API's set-wise writes; a row trigger for rows a logical
-- replication worker applies (it fires no statement triggers).  Rows loaded
-- with row security off (pg_restore) bring their profiles with the dump.
create function refuge.match_profile_sync() returns trigger
    language plpgsql volatile security definer
    set search_path = pg_catalog, refuge, pg_temp
as $$
declare
    ids uuid[];
    grps uuid[];
begin
    -- a restore (row security off) brings the profiles with the dump
    if current_setting('row_security') = 'off' and tg_op = 'INSERT' then
        return null;
    end if;
    -- a member came or left: the household keys of the people of the
    -- households concerned (those who left among them)
    if tg_table_name = 'group_membership' then
        if tg_level = 'ROW' then
            ids := '{}';
            grps := '{}';
            if tg_op <> 'DELETE' then
                ids := ids || new.individual_id;
                grps := grps || new.group_id;
            end if;
            if tg_op <> 'INSERT' then
                ids := ids || old.individual_id;
                grps := grps || old.group_id;
            end if;
        elsif tg_op = 'INSERT' then
            select array_agg(n.individual_id), array_agg(distinct n.group_id) into ids, grps from new_rows n;
        elsif tg_op = 'UPDATE' then
            -- (only rows whose household, person or end changed)
            select array_agg(x.individual_id), array_agg(distinct x.group_id) into ids, grps
              from new_rows n join old_rows o on o.id = n.id,
                   unnest(array[n.individual_id, o.individual_id], array[n.group_id, o.group_id]) x(individual_id, group_id)
             where (n.group_id, n.individual_id, n.valid_to) is distinct from (o.group_id, o.individual_id, o.valid_to);
        else
            select array_agg(o.individual_id), array_agg(distinct o.group_id) into ids, grps from old_rows o;
        end if;
        perform refuge.refresh_household_keys(ids, grps);
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
        -- the other compared facts changed alone (a status, a transfer): the
        -- profile's copy of them, without touching the blocking keys
        perform refuge.refresh_match_facts(array(
            select n.id from new_rows n join old_rows o on o.id = n.id
             where n.id <> all (ids)
               and (n.dob_precision, n.sex, n.birth_country, n.site_id, n.operation_id, n.registration_date, n.status)
                   is distinct from
                   (o.dob_precision, o.sex, o.birth_country, o.site_id, o.operation_id, o.registration_date, o.status)));
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
create trigger match_profile_insert after insert on refuge.group_membership
    referencing new table as new_rows for each statement execute function refuge.match_profile_sync();
create trigger match_profile_update after update on refuge.group_membership
    referencing old table as old_rows new table as new_rows for each statement execute function refuge.match_profile_sync();
create trigger match_profile_delete after delete on refuge.group_membership
    referencing old table as old_rows for each statement execute function refuge.match_profile_sync();
create trigger match_profile_applied after insert or delete on refuge.group_membership
    for each row when (pg_catalog.current_setting('session_replication_role') = 'replica')
    execute function refuge.match_profile_sync();
-- (an update that changes neither the household, the person nor the end changes no key)
create trigger match_profile_applied_update after update on refuge.group_membership
    for each row when (pg_catalog.current_setting('session_replication_role') = 'replica'
                       and (old.group_id, old.individual_id, old.valid_to) is distinct from
                           (new.group_id, new.individual_id, new.valid_to))
    execute function refuge.match_profile_sync();
alter table refuge.group_membership enable always trigger match_profile_insert;
alter table refuge.group_membership enable always trigger match_profile_update;
alter table refuge.group_membership enable always trigger match_profile_delete;
alter table refuge.group_membership enable always trigger match_profile_applied;
alter table refuge.group_membership enable always trigger match_profile_applied_update;

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
        -- both exact and nearly the same: a day typed wrong, day and month swapped
        when a_precision = 'EXACT' and b_precision = 'EXACT' and extract(year from a) = extract(year from b)
             and (abs(a - b) <= 31
                  or (extract(day from a) = extract(month from b) and extract(month from a) = extract(day from b)))
            then 7
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

-- The people a person was decided not to be: biometrically (a cleared
-- pair), or by a reviewer of a demographic case either way round.  The
-- search leaves them out.
create function refuge.demographic_cleared_of(p uuid) returns uuid[]
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    return array(select c.individual_b from refuge.dedup_cleared_pair c where c.individual_a = p
                 union all
                 select c.individual_a from refuge.dedup_cleared_pair c where c.individual_b = p
                 union all
                 select d.candidate_id from refuge.dedup_case dc join refuge.dedup_candidate d on d.case_id = dc.id
                  where dc.kind = 'demographic' and dc.decision = 'different' and dc.individual_id = p
                 union all
                 select dc.individual_id from refuge.dedup_candidate d join refuge.dedup_case dc on dc.id = d.case_id
                  where dc.kind = 'demographic' and dc.decision = 'different' and d.candidate_id = p);
end
$$;

-- The blocked candidates of one person: people under one of their keys
-- (of their names, and of their household: refuge.household_keys_of)
-- within the birth-year window (or with no birth year), a key's block
-- taken whole or not at all: p_cap people for a part's key, four times as
-- many for a pair's (a part as common as Mohamed is found through its
-- pairs); of those, the 80 sharing most keys, born nearest, are
-- compared (this bounds the work of a search whatever the names); not the
-- person, not a pair decided to be different people.  With each, how many
-- people stand under the smallest name block the pair shares (both of them
-- included): how common the name they agree on is.  The blocks are read in
-- C (extension/demographic.c).
create function refuge.demographic_block_scan(keys text[], birth_year integer, year_window integer, cap integer,
                                              self uuid, max_candidates integer)
    returns table (candidate_id uuid, shared integer, gap integer, namesakes integer)
    rows 50
    language c stable parallel safe
    as 'MODULE_PATHNAME', 'refuge_demographic_block_scan';
comment on function refuge.demographic_block_scan(text[], integer, integer, integer, uuid, integer) is
    'internal: the blocking stage of the demographic search over refuge.match_block (its owner only)';

create function refuge.demographic_blocked(p refuge.match_profile, p_window integer, p_cap integer)
    returns table (candidate_id uuid, namesakes integer)
    -- (a few dozen people: the planner must look them up by index, never scan everyone)
    rows 50
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    cleared uuid[] := refuge.demographic_cleared_of(p.individual_id);
begin
    return query
    select b.candidate_id, b.namesakes
      from refuge.demographic_block_scan(p.keys || p.household_keys, p.birth_year, p_window, p_cap, p.individual_id, 80) b
     where b.candidate_id <> all (cleared)
     order by b.shared desc, b.gap, b.candidate_id;
end
$$;

-- The blocked candidates of one person (as refuge.demographic_blocked: the
-- 80 sharing most keys, not the person, not a pair decided to be two
-- people), those not marked DUPLICATE, each with the levels of
-- refuge.early_levels: blocking and comparison in one pass in C.
create function refuge.demographic_compare_blocked(p refuge.match_profile, pi refuge.individual, year_window integer,
                                                   cap integer, max_candidates integer)
    returns table (candidate_id uuid, namesakes integer, levels integer[])
    rows 50
    language c stable parallel safe
    as 'MODULE_PATHNAME', 'refuge_demographic_compare_blocked';
comment on function refuge.demographic_compare_blocked(refuge.match_profile, refuge.individual, integer, integer, integer) is
    'internal: the blocking and first comparison of the demographic search (its owner only)';

create function refuge.demographic_compared(p refuge.match_profile, pi refuge.individual, p_window integer, p_cap integer)
    returns table (candidate_id uuid, levels integer[])
    rows 50
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
    set plan_cache_mode = force_generic_plan
as $$
declare
    cleared uuid[] := refuge.demographic_cleared_of(p.individual_id);
begin
    -- the blocks of the household too (they never count as namesakes)
    p.keys := p.keys || p.household_keys;
    -- (in the order of the blocking: the callers rank ties by it)
    return query
    select b.candidate_id, b.levels
      from refuge.demographic_compare_blocked(p, pi, p_window, p_cap, 80) b
     where b.candidate_id <> all (cleared);
end
$$;

-- The same count for a given pair (refuge.match_levels): people under the
-- smallest block of p's window that p and q share, at most 16 counted.
create function refuge.shared_namesakes(p refuge.match_profile, q refuge.match_profile, p_window integer)
    returns integer
    language sql stable
    set search_path = pg_catalog, refuge, pg_temp
begin atomic
    select min(n.c)::integer
      from unnest(p.keys) k(key)
     cross join lateral (select count(*) as c
                           from (select 1 from refuge.match_block b
                                  where b.key = k.key
                                    and (p.birth_year = 0 or b.birth_year = 0
                                         or b.birth_year between p.birth_year - p_window and p.birth_year + p_window)
                                  limit 16) z) n
     where k.key = any (q.keys);
end;

-- A name level with the frequency of the name agreed on (value-specific
-- weights, as in Winkler's frequency-based matching): every part agreeing
-- on a name two or three people share says more than on a name twenty
-- share.  Levels 4 and 5 (common: more than 15 under the smallest shared
-- block) become 6 and 7 (4 to 15) or 8 and 9 (3 at most).
create function refuge.name_level_by_frequency(level integer, namesakes integer) returns integer
    language sql immutable parallel safe
    return case when level in (4, 5) and namesakes <= 3 then level + 4
                when level in (4, 5) and namesakes <= 15 then level + 2
                else level end;
comment on function refuge.name_level_by_frequency(integer, integer) is
    'the demographic name level with the name''s frequency: 4/5 (agrees/same, more than 15 namesakes), 6/7 (4 to 15), 8/9 (3 at most)';
grant execute on function refuge.name_level_by_frequency(integer, integer) to refuge_supervisor,
    refuge_biometrics_admin, refuge_admin;

-- The household a person belongs to now.
create function refuge.current_group(p_individual uuid) returns uuid
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    return (select m.group_id from refuge.group_membership m
             where m.individual_id = p_individual and m.valid_to is null limit 1);
end
$$;

-- Family context of a pair: 1 two or more other members of one household
-- match members of the other (the same mother and children registered
-- again), 3 one of them does, 4 other members and none matching, 2 the
-- same household (twins, siblings), 0 nothing to compare.  Members match
-- when every part of their names is similar and they were born within a
-- year (or either birth date is unknown).
create function refuge.family_level(a uuid, a_group uuid, b uuid, b_group uuid) returns integer
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    return (select case
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
                           limit 2) x) end);
end
$$;

-- Documents and phones: 1 a number shared, 2 both have some and none is
-- shared, 0 otherwise.
create function refuge.document_level(a uuid, b uuid) returns integer
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    return (select case
            when exists (select 1 from refuge.document da join refuge.document db
                            on refuge.identifier_key(db.number) = refuge.identifier_key(da.number)
                         where da.individual_id = a and db.individual_id = b) then 1
            when exists (select 1 from refuge.document da join refuge.document db
                            on db.doc_type = da.doc_type and db.issuing_country is not distinct from da.issuing_country
                         where da.individual_id = a and db.individual_id = b) then 2
            else 0 end);
end
$$;

create function refuge.phone_level(a uuid, b uuid) returns integer
    language plpgsql stable
    set search_path = pg_catalog, refuge, pg_temp
as $$
begin
    return (select case
            when not exists (select 1 from refuge.individual_contact c where c.individual_id = a
                                and c.contact_type in ('PHONE', 'MOBILE', 'MESSAGING'))
              or not exists (select 1 from refuge.individual_contact c where c.individual_id = b
                                and c.contact_type in ('PHONE', 'MOBILE', 'MESSAGING')) then 0
            when exists (select 1 from refuge.individual_contact ca join refuge.individual_contact cb
                            on refuge.phone_key(cb.value) = refuge.phone_key(ca.value)
                         where ca.individual_id = a and cb.individual_id = b
                           and ca.contact_type in ('PHONE', 'MOBILE', 'MESSAGING')
                           and cb.contact_type in ('PHONE', 'MOBILE', 'MESSAGING')) then 1
            else 2 end);
end
$$;

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
-- name (the same first form of two or more parts is level 5 without
-- comparing further), birth date (refuge.birth_date_level), sex, place or
-- country of birth, parents' names, registration site and date.  One
-- definition in C (extension/demographic.c) for the search
-- (refuge.demographic_compare_blocked) and the estimator.
create function refuge.early_levels(p refuge.match_profile, pi refuge.individual, cp refuge.match_profile,
                                    c refuge.individual, namesakes integer) returns integer[]
    language c immutable parallel safe
    as 'MODULE_PATHNAME', 'refuge_early_levels';

-- The demographic search: blocked candidates of each person compared on
-- every feature, scored as the sum of the model's weights (log10 of how
-- much more likely the levels are for the same person than for two), those
-- at or above min_score, strongest first, at most p_limit per person.  One
-- statement for all the people of a registration.  Cheap features first;
-- households, documents and phones only for each person's strongest
-- candidates that they could lift over min_score (p_limit + 10 of them),
-- and only those the person can reach (a household with other members,
-- documents, phones).  Of the members of one household, only the
-- strongest.  Internal: callers check who may see what.
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
        select pi.id, pi as ind, pp as profile, g.grp, g.has_co, g.has_doc, g.has_phone,
               (case when g.has_co then (select max(wv.w[50 + l]) from generate_series(1, 10) l) else 0 end
                + case when g.has_doc then (select max(wv.w[60 + l]) from generate_series(1, 10) l) else 0 end
                + case when g.has_phone then (select max(wv.w[70 + l]) from generate_series(1, 10) l) else 0 end) as late_max
          from unnest(p_ids) x(id)
          join refuge.individual pi on pi.id = x.id
          join refuge.match_profile pp on pp.individual_id = x.id
         cross join lateral (select y.grp,
                                    exists (select 1 from refuge.group_membership m
                                             where m.group_id = y.grp and m.valid_to is null and m.individual_id <> pi.id)
                                        as has_co,
                                    exists (select 1 from refuge.document d where d.individual_id = pi.id) as has_doc,
                                    exists (select 1 from refuge.individual_contact c where c.individual_id = pi.id)
                                        as has_phone
                               from (select refuge.current_group(pi.id) as grp) y) g
         cross join wv
         where cardinality(pp.names) > 0),
    cand as materialized (
        select pr.id as probe, b.candidate_id as id, b.levels as lv, b.ord
          from probe pr
         cross join lateral refuge.demographic_compared(pr.profile, pr.ind,
                                                        refuge.birth_year_window((pr.ind).dob_precision), 500)
                            with ordinality b(candidate_id, levels, ord)),
    -- (ties, many namesakes alike, in the order of the blocking: those
    -- sharing most keys, a household's among them, are compared further)
    ranked as materialized (
        select c.probe, c.id, c.lv,
               row_number() over (partition by c.probe order by refuge.match_score(c.lv, wv.w) desc, c.ord) as rn
          from cand c join probe pr on pr.id = c.probe cross join wv
         where refuge.match_score(c.lv, wv.w) + pr.late_max >= p_min_score),
    -- (the household, document and phone comparisons only where the probe
    -- has co-members, documents, contacts: otherwise they are 0 anyway)
    late as materialized (
        select r.probe, r.id, cg.grp,
               r.lv[1:5] || array[case when pr.has_co then refuge.family_level(r.probe, pr.grp, r.id, cg.grp) else 0 end,
                                  case when pr.has_doc then refuge.document_level(r.probe, r.id) else 0 end,
                                  case when pr.has_phone then refuge.phone_level(r.probe, r.id) else 0 end] || r.lv[9:9] as lv
          from ranked r join probe pr on pr.id = r.probe
         cross join lateral (select refuge.current_group(r.id) as grp offset 0) cg
         where r.rn <= greatest(p_limit, 1) + 10),
    scored as (
        select l.probe, l.id, refuge.match_score(l.lv, wv.w) as s, l.lv,
               -- one person is at most one member of a household: the best
               -- of a household's members explains the others (siblings of
               -- a household registered twice)
               row_number() over (partition by l.probe, coalesce(l.grp, l.id)
                                  order by refuge.match_score(l.lv, wv.w) desc, l.id) as in_household
          from late l cross join wv
         where refuge.match_score(l.lv, wv.w) >= p_min_score),
    kept as (
        select sc.probe, sc.id, sc.s, sc.lv, row_number() over (partition by sc.probe order by sc.s desc, sc.id) as rn
          from scored sc where sc.in_household = 1)
    select k.probe, k.id, k.s, k.lv from kept k where k.rn <= p_limit order by k.probe, k.s desc, k.id;
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
           lateral (select refuge.early_levels(pa, ia, pb, ib,
                                               refuge.shared_namesakes(pa, pb, refuge.birth_year_window(ia.dob_precision))) as lv) e
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
    nlev constant integer[] := array[9, 7, 2, 3, 2, 4, 2, 2, 4];
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
    -- (never "if not exists": a table the caller made beforehand, with
    -- triggers of theirs, would run them with the owner's rights; dropped
    -- at the end so that the estimate can run again in one transaction)
    create temp table match_estimate_level (kind text, levels integer[]) on commit drop;

    -- m: labelled pairs of the same person, else the reviewers' decisions;
    -- known: every pair known to be one person (not counted as false below)
    create temp table match_estimate_known (a uuid, b uuid) on commit drop;
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
    create temp table match_estimate_pair (levels integer[], known boolean) on commit drop;
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
    create temp table match_estimate_weight (feature text, level smallint, label text,
        m double precision, u double precision) on commit drop;
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
    drop table match_estimate_level, match_estimate_known, match_estimate_pair, match_estimate_weight;
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
