-- refuge_iris: the index answers ORDER BY code <-> probe exactly, like a
-- sequential scan, and keeps up with inserts, deletes, VACUUM and REINDEX.
\set VERBOSITY terse
set client_min_messages = warning;
set search_path = public, refuge;
create table eyes (id int primary key, code refuge.iris);
insert into eyes select i, refuge.synthetic_iris(7, i) from generate_series(1, 1500) i;
create index eyes_code on eyes using refuge_iris (code);
analyze eyes;

set enable_seqscan = off;
explain (costs off) select id from eyes order by code <-> (select code from eyes where id = 77) limit 5;
reset enable_seqscan;
-- a re-capture of eye 77 finds it first
select id, round((code <-> refuge.synthetic_iris(7, 77, 2))::numeric, 3) as d
  from eyes order by code <-> refuge.synthetic_iris(7, 77, 2) limit 3;

-- the same order as a sequential scan, for 20 probes: the same mate first and
-- the same ten nearest distances (ids of equally distant impostors may differ)
create function pg_temp.top(probe refuge.iris, via_index boolean) returns text language plpgsql as $$
declare r text;
begin
  if via_index then
    set local enable_seqscan = off;
  else
    set local enable_indexscan = off;
  end if;
  select (array_agg(id))[1] || ' ' || array_agg(round(d::numeric, 6))::text into r
    from (select id, code <-> probe as d from eyes order by code <-> probe limit 10) s;
  return r;
end $$;
select count(*) filter (where pg_temp.top(refuge.synthetic_iris(7, p, 1), true) = pg_temp.top(refuge.synthetic_iris(7, p, 1), false))
       as same_top10_as_seqscan,
       count(*) filter (where split_part(pg_temp.top(refuge.synthetic_iris(7, p, 1), true), ' ', 1) = p::text) as mate_first
  from generate_series(1, 20) p;

-- (from here on, through the index)
set enable_seqscan = off;
-- inserts after the build are found; deleted rows are not returned
insert into eyes select i, refuge.synthetic_iris(7, i) from generate_series(1501, 1600) i;
select id from eyes order by code <-> refuge.synthetic_iris(7, 1555, 1) limit 1;
delete from eyes where id = 77;
select id from eyes order by code <-> refuge.synthetic_iris(7, 77, 2) limit 1;
vacuum eyes;
select id from eyes order by code <-> refuge.synthetic_iris(7, 77, 2) limit 1;
select count(*) as rows_via_index from (select id from eyes order by code <-> refuge.synthetic_iris(7, 5) limit 100000) s;
-- a scan keeps the best 1,024 hits, then makes a larger pass resuming after the
-- last row handed out: the order across that seam is a sequential scan's
create function pg_temp.seam(via_index boolean) returns text language plpgsql as $$
declare r text;
begin
    execute format('set local enable_indexscan = %s', via_index);
    execute format('set local enable_seqscan = %s', not via_index);
    select string_agg(round(d::numeric, 6)::text, ' ') into r
      from (select code <-> refuge.synthetic_iris(7, 5) as d from eyes
             order by code <-> refuge.synthetic_iris(7, 5) offset 1018 limit 12) s;
    return r;
end $$;
select pg_temp.seam(true) = pg_temp.seam(false) as same_order_across_passes;
reindex index eyes_code;
select id from eyes order by code <-> refuge.synthetic_iris(7, 1234, 3) limit 1;

-- NULL codes are indexed and come last, as in a sort; a NULL probe returns
-- every row; so an index scan never drops rows a sequential scan would return
insert into eyes values (2000, null), (2001, null);
set enable_seqscan = off;
explain (costs off) select id from eyes order by code <-> (select code from eyes where id = 42);
select id from eyes order by code <-> refuge.synthetic_iris(7, 42, 1) limit 1;
select count(*) as all_rows, array_agg(id order by id) filter (where code is null) as nulls_seen,
       bool_and(code is null) filter (where n > 1599) as nulls_last
  from (select id, code, row_number() over () as n
          from (select id, code from eyes order by code <-> refuge.synthetic_iris(7, 42, 1)) o) s;
select count(*) as rows_for_null_probe from (select id from eyes order by code <-> null::refuge.iris) s;
-- another geometry is at distance 1, never an error, never first
insert into eyes values (3000, refuge.iris_from_bytes(decode(repeat('ff', 16), 'hex'), decode(repeat('ff', 16), 'hex'), 8, 16, 1));
select id, code <-> refuge.synthetic_iris(7, 42, 1) as d
  from eyes order by code <-> refuge.synthetic_iris(7, 42, 1) offset 1599 limit 3;
-- WHERE code % probe through the index: the rows within refuge.iris_threshold,
-- the same as a sequential scan, at the threshold in force when it runs
explain (costs off) select id from eyes where code % (select code from eyes where id = 42);
insert into eyes select 5000 + c, refuge.synthetic_iris(7, 42, c) from generate_series(1, 3) c;
select array_agg(id order by id) as matches from eyes where code % refuge.synthetic_iris(7, 42, 9);
set refuge.iris_threshold = 0.175;
select array_agg(id order by id) as matches_at_0_175 from eyes where code % refuge.synthetic_iris(7, 42, 9);
reset refuge.iris_threshold;
select array_agg(id order by id) as matches_null_probe from eyes where code % null::refuge.iris;
-- % and ORDER BY on the same probe: filtered in the index; on another: rechecked
explain (costs off) select id from eyes where code % (select code from eyes where id = 42)
  order by code <-> (select code from eyes where id = 42) limit 3;
select array_agg(id) as nearest_matches from (select id from eyes where code % refuge.synthetic_iris(7, 42, 9)
  order by code <-> refuge.synthetic_iris(7, 42, 9) limit 3) s;
select array_agg(id) as other_probe from (select id from eyes where code % refuge.synthetic_iris(7, 42, 9)
  order by code <-> refuge.synthetic_iris(7, 43, 1) limit 10) s;
reset enable_seqscan;
set enable_indexscan = off;
select array_agg(id order by id) as seqscan_matches from eyes where code % refuge.synthetic_iris(7, 42, 9);
reset enable_indexscan;
delete from eyes where id > 5000;
-- an index scan with neither ORDER BY <-> nor % is never chosen
explain (costs off) select id from eyes where id = 5;
drop table eyes;

-- refuge.iris_index_verify: structure and table agree; rows the index lacks
-- are found (simulated by inserting while the index is not ready)
create table eyes (id int primary key, code refuge.iris);
insert into eyes select i, refuge.synthetic_iris(7, i) from generate_series(1, 300) i;
insert into eyes values (301, null);
create index eyes_code on eyes using refuge_iris (code);
select refuge.iris_index_verify('eyes_code') as rows_checked;
delete from eyes where id <= 10;
update eyes set code = refuge.synthetic_iris(7, 1000) where id = 20;
select refuge.iris_index_verify('eyes_code') as rows_checked_after_delete_update;
vacuum eyes;
select refuge.iris_index_verify('eyes_code') as rows_checked_after_vacuum;
select count(*) as entries, count(*) filter (where code is null) as null_entries from refuge.iris_index_items('eyes_code');
update pg_catalog.pg_index set indisready = false where indexrelid = 'eyes_code'::regclass;
insert into eyes values (400, refuge.synthetic_iris(7, 400)), (401, refuge.synthetic_iris(7, 401));
update pg_catalog.pg_index set indisready = true where indexrelid = 'eyes_code'::regclass;
select refuge.iris_index_verify('eyes_code');
reindex index eyes_code;
select refuge.iris_index_verify('eyes_code') as rows_checked_after_reindex;
select refuge.iris_index_verify('eyes_pkey');
select refuge.iris_index_items('eyes_pkey');
-- the entries are the table's codes: a role that may not read them all may not list them
set role refuge_registration;
select count(*) from refuge.iris_index_items('eyes_code');
reset role;
drop table eyes;

-- under row-level security the index serves a role only the rows it may see:
-- the leakproof operator lets the planner keep the index with the policy
create table eyes_rls (id int primary key, site text not null, code refuge.iris);
insert into eyes_rls select i, case when i % 2 = 0 then 'A' else 'B' end, refuge.synthetic_iris(7, i) from generate_series(1, 400) i;
create index eyes_rls_code on eyes_rls using refuge_iris (code);
alter table eyes_rls enable row level security;
create policy site_a on eyes_rls for select to refuge_registration using (site = 'A');
grant select on eyes_rls to refuge_registration;
create table rls_probe as select n, refuge.synthetic_iris(7, n, 1) as code from generate_series(41, 42) n;
grant select on rls_probe to refuge_registration;
set role refuge_registration;
set enable_seqscan = off;
explain (costs off) select id from eyes_rls order by code <-> (select code from eyes_rls where id = 42) limit 1;
-- eye 41 is at site B: its mate is invisible, the nearest visible eye comes back instead
select id, site from eyes_rls order by code <-> (select code from rls_probe where n = 41) limit 1;
select id, site from eyes_rls order by code <-> (select code from rls_probe where n = 42) limit 1;
select count(*) as visible_via_index, bool_and(site = 'A') as only_site_a
  from (select id, site from eyes_rls order by code <-> (select code from rls_probe where n = 42)) s;
reset enable_seqscan;
reset role;
drop table eyes_rls, rls_probe;

-- amvalidate: the shipped operator classes are valid, a wrong one is refused with the reasons
select opcname, amvalidate(oid) from pg_opclass where opcname in ('iris_ops', 'fingerprint_ops') order by 1;
create operator family public.bad_iris_ops using refuge_iris;
create operator class public.bad_iris_ops for type refuge.iris using refuge_iris family public.bad_iris_ops as
    operator 1 refuge.% (refuge.iris, refuge.iris),
    function 1 refuge.iris_valid_bits(refuge.iris);
select amvalidate(oid) as valid from pg_opclass where opcname = 'bad_iris_ops';
drop operator family public.bad_iris_ops using refuge_iris;
-- a class that is right in every other way but indexes another type: the
-- method's pages hold iris bytes
create operator family public.fp_on_iris_ops using refuge_iris;
create operator class public.fp_on_iris_ops for type refuge.fingerprint using refuge_iris family public.fp_on_iris_ops as
    operator 1 refuge.<-> (refuge.fingerprint, refuge.fingerprint) for order by float_ops,
    operator 2 refuge.% (refuge.fingerprint, refuge.fingerprint),
    function 1 refuge.fingerprint_distance(refuge.fingerprint, refuge.fingerprint);
select amvalidate(oid) as valid from pg_opclass where opcname = 'fp_on_iris_ops';
select amvalidate(oid) as valid from pg_opclass where opcname = 'fingerprint_ops' and opcmethod = (select oid from pg_am where amname = 'refuge_fingerprint');
drop operator family public.fp_on_iris_ops using refuge_iris;
