-- Synthetic population for the demo and the benchmarks (not part of the
-- extension).  Seeded and deterministic: demo.generate(families, seed) builds
-- realistic families and registers them through refuge.register_group, so
-- the demo exercises the real API.  A share of the families is registered a
-- second time in the other operation under another spelling of the name
-- (planted duplicates); demo.duplicate_attempt keeps the truth.
create schema if not exists demo;

create table demo.origin (
    operation text, origin text, weight int,
    given_f text[], given_m text[], family text[], places text[], lon float8[], lat float8[], language text,
    religion text);
insert into demo.origin values
 ('KEN', 'SSD', 40, '{Nyakim,Nyaluak,Achol,Nyabol,Ayen,Abuk,Nyandeng,Adut}', '{Deng,Gatluak,Kuol,Majok,Garang,Chol,Lual,Mabior}',
  '{Gatdet,Deng,Malual,Kuol,Nhial,Ayuel,Bol,Makuei}', '{Bor,Malakal,Juba,Wau,Bentiu}', '{31.56,31.66,31.58,27.99,29.79}', '{6.21,9.53,4.85,7.70,9.23}', 'nus', 'CHR'),
 ('KEN', 'SOM', 35, '{Amina,Halima,Fadumo,Hodan,Sahra,Ayaan,Ifrah,Nasra}', '{Abdi,Mohamed,Hassan,Ahmed,Omar,Yusuf,Ali,Abdullahi}',
  '{Hassan,Mohamed,Ali,Warsame,Abdi,Farah,Jama,Osman}', '{Kismayo,Baidoa,Mogadishu,Afgooye}', '{42.54,43.65,45.34,45.12}', '{-0.36,3.11,2.05,2.14}', 'som', 'MUS'),
 ('KEN', 'ETH', 10, '{Almaz,Tigist,Meron,Hiwot}', '{Abebe,Dawit,Tesfaye,Bekele}', '{Tadesse,Girma,Haile,Kebede}', '{Moyale,Dolo}', '{39.06,42.07}', '{3.52,4.18}', 'orm', 'CHR'),
 ('KEN', 'COD', 15, '{Furaha,Neema,Aline,Esther}', '{Jean,Patrick,Emmanuel,Josue}', '{Mukendi,Kabila,Mumbere,Bahati}', '{Bukavu,Goma,Uvira}', '{28.86,29.22,29.14}', '{-2.49,-1.68,-3.40}', 'swh', 'CHR'),
 ('UGA', 'COD', 45, '{Furaha,Neema,Aline,Esther,Mapendo,Riziki}', '{Jean,Patrick,Emmanuel,Josue,Bienvenu,Heri}', '{Mukendi,Kabila,Mumbere,Bahati,Kasereka,Muhindo}', '{Bukavu,Goma,Uvira,Bunia,Beni}', '{28.86,29.22,29.14,30.25,29.47}', '{-2.49,-1.68,-3.40,1.56,0.49}', 'swh', 'CHR'),
 ('UGA', 'SSD', 35, '{Nyakim,Achol,Ayen,Abuk}', '{Deng,Kuol,Garang,Lual}', '{Gatdet,Deng,Bol,Makuei}', '{Yei,Kajo Keji,Torit}', '{30.68,31.66,32.57}', '{4.09,3.85,4.41}', 'kcn', 'CHR'),
 ('UGA', 'BDI', 12, '{Claudine,Diane,Aline,Chantal}', '{Jean,Eric,Pacifique,Claude}', '{Habimana,Ndayishimiye,Nshimirimana,Niyonzima}', '{Bujumbura,Gitega,Ngozi}', '{29.36,29.93,29.83}', '{-3.38,-3.43,-2.91}', 'run', 'CHR'),
 ('UGA', 'RWA', 8, '{Grace,Divine,Josiane}', '{Eric,Olivier,Innocent}', '{Mukamana,Uwase,Habimana}', '{Kigali,Rubavu}', '{30.06,29.26}', '{-1.94,-1.70}', 'kin', 'CHR');

create table demo.site (operation text, site text, weight int, lon float8, lat float8);
insert into demo.site values
 ('KEN', 'KAKUMA', 50, 34.85, 3.72), ('KEN', 'DADAAB', 35, 40.31, 0.06), ('KEN', 'NAIROBI', 15, 36.82, -1.29),
 ('UGA', 'NAKIVALE', 45, 30.95, -0.78), ('UGA', 'KYANGWALI', 35, 30.75, 1.21), ('UGA', 'KAMPALA', 20, 32.58, 0.35);

-- the truth about planted duplicates, for scoring later dedup stages
create table demo.duplicate_attempt (
    original_individual uuid, operation text, given_name text, family_name text,
    outcome text, sqlstate text, message text, duplicate_individual uuid,
    demographic text);  -- what registration's demographic check said: found (and queued), found, missed

create function demo.pick(a anyarray) returns anyelement language sql volatile as
  $$ select a[1 + floor(random() * array_length(a, 1))::int] $$;

-- a weighted choice from a table: rows of (weight) → index
create function demo.weighted(w int[]) returns int language plpgsql volatile as $$
declare
    total int := (select sum(x) from unnest(w) x);
    r int := floor(random() * total)::int;
    i int;
begin
    for i in 1 .. array_length(w, 1) loop
        r := r - w[i];
        if r < 0 then return i; end if;
    end loop;
    return array_length(w, 1);
end $$;

create function demo.birth(age_min int, age_max int, arrival date) returns jsonb language plpgsql volatile as $$
declare
    age int := age_min + floor(random() * (greatest(age_max, age_min) - age_min + 1))::int;
    d date := arrival - (age * 365 + floor(random() * 365)::int);
    p text := case when random() < 0.55 then 'EXACT' when random() < 0.6 then 'YEAR' else 'ESTIMATED' end;
begin
    if d > current_date then d := current_date - 30; end if;
    if p <> 'EXACT' then d := make_date(extract(year from d)::int, 1, 1); end if;
    return jsonb_build_object('date_of_birth', d, 'dob_precision', p);
end $$;

-- One family as a register_group payload.
create function demo.family_payload(op text) returns jsonb language plpgsql volatile as $$
declare
    o demo.origin;
    s demo.site;
    arrival date := current_date - floor(random() * 5 * 365)::int;
    registered date;
    size int := demo.weighted(array[14, 12, 14, 16, 15, 11, 8, 5, 3, 2]);
    family text;
    pa_sex text := case when random() < 0.55 then 'F' else 'M' end;
    members jsonb := '[]';
    m jsonb;
    legs jsonb;
    origin_i int;
    i int;
    age_lo int;
    age_hi int;
    sex text;
    rel text;
    needs jsonb;
    spouse boolean := random() < 0.6;
    pa_age int := 18 + floor(random() * 48)::int;
    given text;
    tries int;
begin
    select * into o from demo.origin where operation = op order by origin
     offset demo.weighted(array(select weight from demo.origin where operation = op order by origin)) - 1 limit 1;
    select * into s from demo.site where operation = op order by site
     offset demo.weighted(array(select weight from demo.site where operation = op order by site)) - 1 limit 1;
    registered := least(current_date, arrival + floor(random() * 30)::int);
    family := demo.pick(o.family);
    origin_i := 1 + floor(random() * array_length(o.places, 1))::int;
    legs := jsonb_build_array(
        jsonb_build_object('place', o.places[origin_i], 'country', o.origin,
            'location', jsonb_build_object('lon', o.lon[origin_i], 'lat', o.lat[origin_i]),
            'departed_on', arrival - 10 - floor(random() * 40)::int,
            'reasons', case when random() < 0.7 then '["ARMED_CONFLICT"]'::jsonb
                            when random() < 0.5 then '["PERSECUTION", "HUMAN_RIGHTS"]'::jsonb
                            else '["GENERALIZED_VIOLENCE", "FOOD_INSECURITY"]'::jsonb end),
        jsonb_build_object('place', s.site, 'country', op,
            'location', jsonb_build_object('lon', s.lon, 'lat', s.lat), 'arrived_on', arrival));
    for i in 1 .. size loop
        needs := '[]';
        if i = 1 then
            rel := 'PA'; sex := pa_sex; age_lo := pa_age; age_hi := pa_age;
        elsif i = 2 and spouse and size > 1 then
            rel := case when pa_sex = 'F' then 'HUS' else 'WIF' end;
            sex := case when pa_sex = 'F' then 'M' else 'F' end;
            age_lo := greatest(18, pa_age - 8); age_hi := greatest(18, pa_age + 6);
        elsif random() < 0.06 then
            sex := case when random() < 0.6 then 'F' else 'M' end;
            rel := case when sex = 'F' then 'PRF' else 'PRM' end;
            age_lo := least(95, pa_age + 18); age_hi := least(95, pa_age + 35);
        elsif random() < 0.1 then
            sex := case when random() < 0.5 then 'F' else 'M' end;
            rel := case when sex = 'F' then 'NCE' else 'NEP' end; age_lo := 3; age_hi := 17;
            if random() < 0.3 then needs := needs || '["SC-SC"]'::jsonb; end if;
        else
            sex := case when random() < 0.5 then 'F' else 'M' end;
            rel := case when sex = 'F' then 'DAU' else 'SON' end;
            age_lo := 0; age_hi := least(17, greatest(0, pa_age - 16));
        end if;
        -- siblings do not share a given name (a few tries, as names run out)
        for tries in 1 .. 6 loop
            given := demo.pick(case when sex = 'F' then o.given_f else o.given_m end);
            exit when not members @> jsonb_build_array(jsonb_build_object('given_name', given));
        end loop;
        m := jsonb_build_object('relationship', rel, 'sex', sex,
                'given_name', given,
                'family_name', family,
                'nationalities', jsonb_build_array(o.origin),
                'languages', jsonb_build_array(jsonb_build_object('language', o.language, 'mother_tongue', true)),
                'religion', o.religion)
             || demo.birth(age_lo, age_hi, arrival);
        if age_lo >= 18 then
            m := m || jsonb_build_object('marital_status', case when rel in ('HUS', 'WIF') or (rel = 'PA' and spouse) then 'MA'
                                                                 when age_lo >= 55 then 'WD' else 'SN' end);
            if random() < 0.25 then
                m := m || jsonb_build_object('documents', jsonb_build_array(jsonb_build_object(
                    'type', case when random() < 0.5 then 'NATIONAL_ID' else 'PASSPORT' end,
                    'number', o.origin || '-' || lpad((floor(random() * 1e9))::bigint::text, 9, '0'),
                    'issuing_country', o.origin)));
            end if;
        end if;
        -- specific needs at realistic rates
        if rel = 'PA' and not spouse and size > 1 and random() < 0.5 then needs := needs || '["SP-PT"]'::jsonb; end if;
        if age_lo >= 55 and random() < 0.3 then needs := needs || '["ER-NF"]'::jsonb; end if;
        if random() < 0.03 then needs := needs || to_jsonb(demo.pick(array['DS-PM', 'DS-BD', 'DS-DF', 'DS-MM'])); end if;
        if random() < 0.04 then needs := needs || to_jsonb(demo.pick(array['SM-CI', 'SM-CC', 'SM-MI'])); end if;
        if sex = 'F' and age_lo >= 18 and random() < 0.05 then needs := needs || '["WR-WR"]'::jsonb; end if;
        if age_lo = 0 and random() < 0.02 then needs := needs || '["CR-CP"]'::jsonb; end if;
        if needs <> '[]' then
            m := m || jsonb_build_object('specific_needs', needs);
        end if;
        members := members || m;
    end loop;
    return jsonb_build_object('operation', op, 'site', s.site, 'registration_date', registered, 'arrival_date', arrival,
        'registration_level', case when random() < 0.15 then 'EMERGENCY' else 'BASIC' end,
        'population_type', case when random() < 0.85 then 'REF' else 'ASY' end,
        'origin_country', o.origin, 'flight_legs', legs, 'members', members);
end $$;

-- Register `families` families, 60 % in KEN and 40 % in UGA, then plant
-- duplicates: dup_share of principal representatives come again in the other
-- operation under another spelling, keeping their date of birth and document.
create function demo.generate(families int, seed float8 default 0.42, dup_share float8 default 0.02)
    returns table (families_registered bigint, individuals bigint, duplicates_planted bigint,
                   blocked_by_document bigint, admitted bigint)
    language plpgsql as $$
declare
    i int;
    p jsonb;
    r record;
    alias text;
    state text;
    msg text;
    res jsonb;
begin
    perform setseed(seed);
    for i in 1 .. families loop
        p := demo.family_payload(case when i % 5 < 3 then 'KEN' else 'UGA' end);
        perform refuge.register_group(p || jsonb_build_object('request_id', md5('family' || seed || i)::uuid));
    end loop;
    for r in
        select ind.*, o.code as op, gm.group_id
          from refuge.individual ind
          join refuge.operation o on o.id = ind.operation_id
          join refuge.group_membership gm on gm.individual_id = ind.id and gm.valid_to is null and gm.relationship = 'PA'
         order by ind.number
    loop
        continue when random() >= dup_share;
        alias := case when random() < 0.5 then r.given_name || 'a' else left(r.given_name, -1) || 'h' end;
        p := jsonb_build_object('operation', case when r.op = 'KEN' then 'UGA' else 'KEN' end,
              'site', case when r.op = 'KEN' then 'NAKIVALE' else 'KAKUMA' end,
              'registration_level', 'EMERGENCY', 'population_type', 'ASY', 'origin_country', r.origin_country,
              'members', jsonb_build_array(jsonb_build_object('relationship', 'PA', 'given_name', alias,
                  'family_name', r.family_name, 'sex', r.sex, 'date_of_birth', r.date_of_birth,
                  'documents', coalesce((select jsonb_agg(jsonb_build_object('type', d.doc_type, 'number', d.number,
                                                   'issuing_country', d.issuing_country))
                                           from refuge.document d where d.individual_id = r.id), '[]'::jsonb))));
        begin
            res := refuge.register_group(p);
            insert into demo.duplicate_attempt values (r.id, p ->> 'operation', alias, r.family_name, 'admitted', null, null,
                (res -> 'members' -> 0 ->> 'individual_id')::uuid,
                case when not res -> 'members' -> 0 -> 'possible_duplicates' -> 'candidates'
                              @> jsonb_build_array(jsonb_build_object('individual_id', r.id)) then 'missed'
                     when res -> 'members' -> 0 -> 'possible_duplicates' ? 'case_id' then 'found, queued for adjudication'
                     else 'found' end);
        exception when others then
            get stacked diagnostics state = returned_sqlstate, msg = message_text;
            insert into demo.duplicate_attempt values (r.id, p ->> 'operation', alias, r.family_name, 'blocked', state, msg, null, null);
        end;
    end loop;
    return query
    select (select count(*) from refuge.registration_group), (select count(*) from refuge.individual),
           (select count(*) from demo.duplicate_attempt),
           (select count(*) from demo.duplicate_attempt where outcome = 'blocked'),
           (select count(*) from demo.duplicate_attempt where outcome = 'admitted');
end $$;
