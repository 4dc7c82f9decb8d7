-- The iris type: input and output, constructors, distance, operators, thresholds.
\set VERBOSITY terse
set client_min_messages = warning;
-- the operators live in schema refuge, like everything of the extension
set search_path = public, refuge;
create function pg_temp.try(q text) returns text language plpgsql as $$
begin execute q; return 'ok'; exception when others then return sqlstate || ': ' || sqlerrm; end $$;
-- 256 pseudo-random bytes from a seed, and a mask with the outer ring's top covered
create function pg_temp.bytes(seed text) returns bytea language sql as $$
  select decode(string_agg(md5(seed || i), '' order by i), 'hex') from generate_series(1, 16) i $$;
create function pg_temp.mask() returns bytea language sql as $$
  select decode(repeat('ff', 224) || repeat('00', 16) || repeat('ff', 16), 'hex') $$;
-- flip the first n bits of a code (a noisy re-capture)
create function pg_temp.noisy(b bytea, n int) returns bytea language plpgsql as $$
declare r bytea := b; begin
  for i in 0 .. n - 1 loop r := set_bit(r, i * 7 % 2048, 1 - get_bit(r, i * 7 % 2048)); end loop; return r; end $$;

create temp table eye (id int primary key, code refuge.iris);
insert into eye select i, refuge.iris_from_bytes(pg_temp.bytes('eye' || i), pg_temp.mask(), 8, 128, 2) from generate_series(1, 20) i;
select count(*), min(refuge.iris_valid_bits(code)), max(refuge.iris_valid_bits(code)) from eye;

-- text form round-trips exactly
select count(*) as round_trips from eye where code::text::refuge.iris::text = code::text;
select left(code::text, 20) as text_form from eye where id = 1;

-- distance: 0 to itself, symmetric, impostors near 0.5, a noisy copy close
select refuge.iris_distance(code, code) as self from eye where id = 1;
select bool_and(a.code <-> b.code = b.code <-> a.code) as symmetric from eye a, eye b;
select round(avg(a.code <-> b.code)::numeric, 2) as impostor_mean from eye a, eye b where a.id < b.id;
select round((e.code <-> refuge.iris_from_bytes(pg_temp.noisy(pg_temp.bytes('eye7'), 400), pg_temp.mask(), 8, 128, 2))::numeric, 3)
       as genuine from eye e where e.id = 7;
-- nearest neighbours of a noisy re-capture of eye 7
select id, round((code <-> refuge.iris_from_bytes(pg_temp.noisy(pg_temp.bytes('eye7'), 400), pg_temp.mask(), 8, 128, 2))::numeric, 3) as d
  from eye order by code <-> refuge.iris_from_bytes(pg_temp.noisy(pg_temp.bytes('eye7'), 400), pg_temp.mask(), 8, 128, 2), id limit 3;

-- % at refuge.iris_threshold, match() at a given threshold
select count(*) filter (where a.code % b.code) as matches_at_032 from eye a, eye b;
set refuge.iris_threshold = 0.6;
select count(*) filter (where a.code % b.code) as matches_at_06 from eye a, eye b;
reset refuge.iris_threshold;
select refuge.match(a.code, b.code, 0.32) as same_eye, refuge.match(a.code, c.code, 0.32) as other_eye
  from eye a, eye b, eye c where a.id = 1 and b.id = 1 and c.id = 2;
select pg_temp.try($q$set refuge.iris_threshhold = 0.3$q$) as misspelt_setting;
select pg_temp.try($q$set refuge.iris_threshold = 2$q$) as out_of_range;

-- thresholds from gallery size and FPIR (binomial model)
select round(refuge.iris_threshold_for(1e6, 0.001)::numeric, 4) as t_1m, round(refuge.iris_threshold_for(1e7, 0.001)::numeric, 4) as t_10m;
select pg_temp.try($q$select refuge.iris_threshold_for(1e6, 0)$q$) as bad_fpir;

-- other geometry: not comparable, distance 1, no error
select refuge.iris_distance(e.code, refuge.iris_from_bytes(pg_temp.bytes('x'), decode(repeat('ff', 256), 'hex'), 16, 64, 2)) as other_geometry
  from eye e where e.id = 1;

-- bad input: SQLSTATE and what is wrong
select pg_temp.try($q$select refuge.iris_from_bytes('\x00', '\x00', 8, 128, 2)$q$) as short_code;
select pg_temp.try($q$select refuge.iris_from_bytes(decode(repeat('00', 256), 'hex'), decode(repeat('00', 256), 'hex'), 8, 128, 2)$q$) as empty_mask;
select pg_temp.try($q$select refuge.iris_from_bytes('\x00', '\x00', 0, 128, 2)$q$) as bad_geometry;
select pg_temp.try($q$select 'hello'::refuge.iris$q$) as not_an_iris;
select pg_temp.try($q$select '2x8x1:zz00:ffff'::refuge.iris$q$) as bad_hex;
select pg_temp.try($q$select '2x8x1:ffff'::refuge.iris$q$) as no_mask;
select pg_temp.try($q$select '2x8x1:ffff:ffffff'::refuge.iris$q$) as long_mask;
select pg_temp.try($q$select '2x8x1:ffff:ffff'::refuge.iris$q$) as too_few_bits;
select '4x32x1:ffffffffffffffffffffffffffffffff:ffffffffffffffffffffffffffffffff'::refuge.iris as small_ok;
select '4x32x1:ffffffffffffffffffffffffffffffff:0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f'::refuge.iris::text as masked_bits_dropped;
select proleakproof, provolatile from pg_proc where oid in ('refuge.iris_distance(refuge.iris, refuge.iris)'::regprocedure,
  'refuge.iris_match_op(refuge.iris, refuge.iris)'::regprocedure) order by provolatile;

-- seeded synthetic irises: deterministic; re-captures close, other eyes far
select refuge.synthetic_iris(1, 42)::text = refuge.synthetic_iris(1, 42)::text as deterministic;
select round(avg(refuge.synthetic_iris(1, s) <-> refuge.synthetic_iris(1, s, 1))::numeric, 1) as genuine_mean,
       round(avg(refuge.synthetic_iris(1, s) <-> refuge.synthetic_iris(1, s + 1000))::numeric, 1) as impostor_mean
  from generate_series(1, 50) s;
select count(*) as recaptures_under_threshold from generate_series(1, 50) s
 where refuge.synthetic_iris(1, s) <-> refuge.synthetic_iris(1, s, 3) <= refuge.iris_threshold_for(50, 0.001);

-- equality and an order of the stored bytes: DISTINCT, GROUP BY, UNION, btree and hash indexes
create temp table eq_eyes as select g, refuge.synthetic_iris(7, g % 5, 0) as code from generate_series(1, 20) g;
select count(distinct code) as distinct_codes, (select count(*) from (select code from eq_eyes group by code) x) as groups,
       (select count(*) from (select code from eq_eyes union select refuge.synthetic_iris(7, 99, 0)) u) as union_rows
  from eq_eyes;
create index eq_eyes_btree on eq_eyes (code);
create index eq_eyes_hash on eq_eyes using hash (code);
set enable_seqscan = off;
select count(*) as found_by_btree from eq_eyes where code = refuge.synthetic_iris(7, 3, 0);
set enable_bitmapscan = off;
select count(*) as found_by_hash from eq_eyes where code operator(refuge.=) refuge.synthetic_iris(7, 3, 0) and g > 0;
reset enable_seqscan;
reset enable_bitmapscan;
select refuge.synthetic_iris(7, 1, 0) = refuge.synthetic_iris(7, 1, 1) as other_capture_is_not_equal,
       refuge.synthetic_iris(7, 1, 0) % refuge.synthetic_iris(7, 1, 1) as but_matches;
-- the byte layout: bytea::iris and back
select (refuge.synthetic_iris(7, 1, 0)::bytea)::refuge.iris = refuge.synthetic_iris(7, 1, 0) as layout_round_trip,
       length(refuge.synthetic_iris(7, 1, 0)::bytea) as layout_bytes;
select pg_temp.try($q$select '\x0102'::bytea::refuge.iris$q$) as short_layout;
