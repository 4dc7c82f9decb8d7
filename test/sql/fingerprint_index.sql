-- refuge_fingerprint: cylinder min-hash candidates re-scored by the full
-- matcher.  The distances it returns are exactly fp <-> probe; the mate of a
-- genuine probe comes first; it keeps up with inserts, deletes, VACUUM and
-- REINDEX; the verify function catches an entry that is missing.
\set VERBOSITY terse
set client_min_messages = warning;
set search_path = public, refuge;
create table fingers (id int primary key, fp refuge.fingerprint);
insert into fingers select i, refuge.synthetic_fingerprint(7, i, 0) from generate_series(1, 600) i;
insert into fingers values (0, null);
-- the default operator class: no opclass name needed
create index fingers_fp on fingers using refuge_fingerprint (fp);
analyze fingers;
select opcname, amname from pg_opclass c join pg_am a on a.oid = c.opcmethod
 where opcintype = 'refuge.fingerprint'::regtype and opcdefault order by opcname;
select pg_indexam_progress_phasename(oid, 2) as load_phase, pg_indexam_progress_phasename(oid, 3) as log_phase
  from pg_am where amname = 'refuge_fingerprint';

-- the planner takes the index by itself: a full comparison is costly
explain (costs off) select id from fingers order by fp <-> refuge.synthetic_fingerprint(7, 77, 1) limit 5;
explain (costs off) select id from fingers where fp % refuge.synthetic_fingerprint(7, 77, 1);

-- re-captures of 12 fingers find their mate first, with the distance the
-- operator gives; the same as a sequential scan's first row
create function pg_temp.top(probe refuge.fingerprint, via_index boolean) returns text language plpgsql as $$
declare r text;
begin
    execute format('set local enable_indexscan = %s', via_index);
    execute format('set local enable_seqscan = %s', not via_index);
    select id || ' ' || (fp <-> probe)::text into r from fingers order by fp <-> probe limit 1;
    return r;
end $$;
select count(*) as probes,
       count(*) filter (where split_part(pg_temp.top(refuge.synthetic_fingerprint(7, n, 1), true), ' ', 1) = n::text) as mate_first,
       count(*) filter (where pg_temp.top(refuge.synthetic_fingerprint(7, n, 1), true)
                            = pg_temp.top(refuge.synthetic_fingerprint(7, n, 1), false)) as same_as_seqscan
  from generate_series(1, 600, 50) n;

-- the distances come back in order and equal the operator's (without a
-- LIMIT the planner sorts a full scan: it has to compare every row anyway)
select bool_and(d = d2) as exact, bool_and(d >= lag_d) as ordered, count(*) as returned
  from (select fp <-> refuge.synthetic_fingerprint(7, 500, 2) as d, refuge.fingerprint_distance(fp, refuge.synthetic_fingerprint(7, 500, 2)) as d2,
               lag(fp <-> refuge.synthetic_fingerprint(7, 500, 2), 1, 0::float8) over () as lag_d
          from (select fp from fingers order by fp <-> refuge.synthetic_fingerprint(7, 500, 2) limit 60) s) t;

-- refuge.fingerprint_candidates bounds what an index scan returns
set refuge.fingerprint_candidates = 7;
select count(*) from (select id from fingers order by fp <-> refuge.synthetic_fingerprint(7, 500, 2) limit 20) s;
reset refuge.fingerprint_candidates;
set refuge.fingerprint_candidates = 0;

-- % through the index: the mate, at the threshold the operator reads
select id from fingers where fp % refuge.synthetic_fingerprint(7, 321, 3);
set refuge.fingerprint_threshold = 1000;
select count(*) from fingers where fp % refuge.synthetic_fingerprint(7, 321, 3);
reset refuge.fingerprint_threshold;
-- % with one probe and ORDER BY another: candidates of the ORDER BY probe, % rechecked
select id from fingers where fp % refuge.synthetic_fingerprint(7, 321, 3)
 order by fp <-> refuge.synthetic_fingerprint(7, 321, 4) limit 3;
-- NULL probes: % matches nothing; ORDER BY gives NULL distances
select count(*) from fingers where fp % null::refuge.fingerprint;
select count(*), count(d) from (select fp <-> null::refuge.fingerprint d from fingers order by fp <-> null::refuge.fingerprint limit 4) s;

-- inserts after the build, deletes, VACUUM, REINDEX
insert into fingers select i, refuge.synthetic_fingerprint(7, i, 0) from generate_series(601, 660) i;
select id from fingers order by fp <-> refuge.synthetic_fingerprint(7, 650, 1) limit 1;
delete from fingers where id = 650;
select id = 650 as deleted_row_found from fingers order by fp <-> refuge.synthetic_fingerprint(7, 650, 1) limit 1;
vacuum fingers;
select refuge.fingerprint_index_verify('fingers_fp') as rows_checked_after_vacuum;
select count(*) as entries from refuge.fingerprint_index_items('fingers_fp');
-- an entry the index never got is reported
update pg_catalog.pg_index set indisready = false where indexrelid = 'fingers_fp'::regclass;
insert into fingers values (2000, refuge.synthetic_fingerprint(7, 2000, 0));
update pg_catalog.pg_index set indisready = true where indexrelid = 'fingers_fp'::regclass;
select refuge.fingerprint_index_verify('fingers_fp');
reindex index fingers_fp;
select refuge.fingerprint_index_verify('fingers_fp') as rows_checked_after_reindex;
select refuge.fingerprint_index_verify('fingers_pkey');
select refuge.iris_index_verify('fingers_fp');
select refuge.fingerprint_index_items('fingers_pkey');
set role refuge_registration;
select count(*) from refuge.fingerprint_index_items('fingers_fp');
reset role;

-- under row-level security a role gets only the candidates it may see
create table fingers_rls (id int primary key, site text not null, fp refuge.fingerprint);
insert into fingers_rls select i, case when i % 2 = 0 then 'A' else 'B' end, refuge.synthetic_fingerprint(7, i, 0)
  from generate_series(1, 200) i;
create index fingers_rls_fp on fingers_rls using refuge_fingerprint (fp);
alter table fingers_rls enable row level security;
create policy site_a on fingers_rls for select to refuge_registration using (site = 'A');
grant select on fingers_rls to refuge_registration;
create table rls_probe as select n, refuge.synthetic_fingerprint(7, n, 1) as fp from generate_series(41, 42) n;
grant select on rls_probe to refuge_registration;
set role refuge_registration;
set enable_seqscan = off;
explain (costs off) select id from fingers_rls order by fp <-> (select fp from rls_probe where n = 42) limit 1;
select id, site from fingers_rls order by fp <-> (select fp from rls_probe where n = 42) limit 1;
-- finger 41 is at site B: its mate is not returned
select count(*) filter (where id = 41) as mate_41_seen, bool_and(site = 'A') as only_site_a
  from (select id, site from fingers_rls order by fp <-> (select fp from rls_probe where n = 41) limit 50) s;
reset enable_seqscan;
reset role;
drop table fingers, fingers_rls, rls_probe;
