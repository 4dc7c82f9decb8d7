-- The fingerprint type: construction from xyt and ISO/ANSI records, text
-- round trip, calibrated scores, operators, errors.
\set VERBOSITY terse
set client_min_messages = warning;
set search_path = public, refuge;
create function pg_temp.try(q text) returns text language plpgsql as $$
begin execute q; return 'ok'; exception when others then return sqlstate || ': ' || sqlerrm; end $$;
-- a deterministic print-like minutiae cloud (xyt: x, y up, theta, quality) for finger f,
-- optionally turned by deg degrees about the centre and moved
create function pg_temp.xyt(f int, deg float8 default 0, dx int default 0, dy int default 0) returns text language sql as $$
  select string_agg(format('%s %s %s %s',
           round(190 + (x - 190) * cos(radians(deg)) - (y - 185) * sin(radians(deg)) + dx),
           round(185 + (x - 190) * sin(radians(deg)) + (y - 185) * cos(radians(deg)) + dy),
           ((t + round(deg))::int % 360 + 360) % 360, 60), E'\n' order by i)
    from (select i, 60 + (abs(hashint4(f * 1000 + i)) % 260) as x, 60 + (abs(hashint4(f * 2000 + i)) % 250) as y,
                 abs(hashint4(f * 3000 + i)) % 360 as t
            from generate_series(1, 40) i) m $$;

create temp table finger (id int primary key, fp refuge.fingerprint);
insert into finger select f, refuge.fingerprint_from_xyt(pg_temp.xyt(f), 388, 374, 500, 2) from generate_series(1, 6) f;
select id, refuge.fingerprint_minutiae(fp), refuge.fingerprint_position(fp), refuge.fingerprint_quality(fp) from finger order by id limit 2;
select left(fp::text, 60) as text_form from finger where id = 1;
select count(*) as text_round_trips from finger where fp::text::refuge.fingerprint::text = fp::text;
-- ISO stores angles in 1.40625-degree units: ISO -> fingerprint -> ISO is exact
select count(*) as iso_round_trips from finger
 where refuge.fingerprint_to_iso(refuge.fingerprint_from_record(refuge.fingerprint_to_iso(fp))) = refuge.fingerprint_to_iso(fp);

-- scores: calibrated (20 = FMR 1 %), symmetric; the same finger turned and moved still matches
select round(refuge.fingerprint_score(fp, fp)) > 40 as self_matches from finger where id = 1;
select refuge.fingerprint_score(a.fp, refuge.fingerprint_from_xyt(pg_temp.xyt(1, 20, 15, -10), 388, 374, 500, 2)) > 40
       as turned_and_moved_matches from finger a where a.id = 1;
select bool_and(refuge.fingerprint_score(a.fp, b.fp) = refuge.fingerprint_score(b.fp, a.fp)) as symmetric from finger a, finger b;
select max(refuge.fingerprint_score(a.fp, b.fp)) < 20 as impostors_below_fmr_1pct from finger a, finger b where a.id < b.id;
select id from finger order by fp <-> refuge.fingerprint_from_xyt(pg_temp.xyt(4, -15, 5, 8), 388, 374, 500, 2) limit 1;
select count(*) filter (where a.fp % b.fp) as matches_at_40 from finger a, finger b;
select refuge.match(a.fp, a.fp, 30) as same, refuge.match(a.fp, b.fp, 30) as other from finger a, finger b where a.id = 1 and b.id = 2;
select (a.fp <-> a.fp) < 1e-4 as self_distance_is_a_tiny_fmr from finger a where a.id = 1;

-- resolution comes from the caller: the same pixels at 1000 dpi are half the size
select (refuge.fingerprint_from_xyt('100 100 90 50', 388, 374, 1000)::text) as at_1000_dpi;

-- bad input
select pg_temp.try($q$select refuge.fingerprint_from_xyt('100 100', 388, 374, 500)$q$) as two_fields;
select pg_temp.try($q$select refuge.fingerprint_from_xyt('100 999 90 50', 388, 374, 500)$q$) as y_outside;
select pg_temp.try($q$select refuge.fingerprint_from_xyt('100 100 90 50', 388, 374, 50)$q$) as bad_dpi;
select pg_temp.try($q$select refuge.fingerprint_from_record('\x464d5200')$q$) as truncated_record;
select pg_temp.try($q$select refuge.fingerprint_from_record('\x00000000000000000000000000000000')$q$) as not_a_record;
select pg_temp.try($q$select refuge.fingerprint_from_record(refuge.fingerprint_to_iso(fp), 2) from pg_temp.finger where id = 1$q$) as no_view_2;
select pg_temp.try($q$select 'pos=2'::refuge.fingerprint$q$) as bad_literal;
select pg_temp.try($q$select 'pos=11 imp=0 q=80 size=388x374 ppcm=197x197 m='::refuge.fingerprint$q$) as bad_position;
select pg_temp.try($q$select 'pos=1 imp=0 q=80 size=388x374 ppcm=197x197 m=999999:1:0:1:50'::refuge.fingerprint$q$) as minutia_outside;
select proleakproof, provolatile from pg_proc where oid in ('refuge.fingerprint_score(refuge.fingerprint, refuge.fingerprint)'::regprocedure,
  'refuge.fingerprint_match_op(refuge.fingerprint, refuge.fingerprint)'::regprocedure) order by provolatile;

-- seeded synthetic fingerprints: deterministic; impressions of a finger match
select refuge.synthetic_fingerprint(1, 42, 2)::text = refuge.synthetic_fingerprint(1, 42, 2)::text as deterministic;
select count(*) filter (where refuge.fingerprint_score(refuge.synthetic_fingerprint(1, s), refuge.synthetic_fingerprint(1, s, 1)) >= 40) as genuine_at_40,
       count(*) filter (where refuge.fingerprint_score(refuge.synthetic_fingerprint(1, s), refuge.synthetic_fingerprint(1, s + 1000)) >= 40) as impostors_at_40
  from generate_series(1, 20) s;

-- equality and an order of the stored bytes: DISTINCT, GROUP BY, UNION, btree and hash indexes
create temp table eq_fingers as select g, refuge.synthetic_fingerprint(7, g % 4, 0) as fp from generate_series(1, 20) g;
select count(distinct fp) as distinct_templates, (select count(*) from (select fp from eq_fingers group by fp) x) as groups,
       (select count(*) from (select fp from eq_fingers union select refuge.synthetic_fingerprint(7, 99, 0)) u) as union_rows
  from eq_fingers;
create index eq_fingers_btree on eq_fingers (fp);
create index eq_fingers_hash on eq_fingers using hash (fp);
set enable_seqscan = off;
select count(*) as found_by_index from eq_fingers where fp = refuge.synthetic_fingerprint(7, 2, 0);
reset enable_seqscan;
select refuge.synthetic_fingerprint(7, 1, 0) = refuge.synthetic_fingerprint(7, 1, 1) as other_impression_is_not_equal,
       refuge.synthetic_fingerprint(7, 1, 0) % refuge.synthetic_fingerprint(7, 1, 1) as but_matches;
-- byte forms: an ISO record in (bytea::fingerprint) and out (fingerprint::bytea)
select fingerprint_minutiae(refuge.synthetic_fingerprint(7, 1, 0)::bytea::refuge.fingerprint)
       = fingerprint_minutiae(refuge.synthetic_fingerprint(7, 1, 0)) as iso_round_trip,
       substr(refuge.synthetic_fingerprint(7, 1, 0)::bytea, 1, 4) = '\x464d5200' as iso_record;
select pg_temp.try($q$select '\x464d'::bytea::refuge.fingerprint$q$) as short_record;
