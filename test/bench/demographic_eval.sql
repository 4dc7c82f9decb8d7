-- Evaluation of the demographic search on the loaded labelled population
-- (test/bench/demographic.sh): every planted duplicate of the test half
-- and a sample of ordinary registrations are searched; a candidate is right
-- when it is a record of the same generated person.  The same probes go
-- through the trigram baseline (pg_trgm similarity >= 0.65 on the full
-- name, same birth year).  Results in bench.summary (name, value).
\set ON_ERROR_STOP 1
set client_min_messages = warning;
drop table if exists bench.probe, bench.res, bench.base, bench.fullname, bench.summary, bench.curve, bench.timing;

create table bench.summary (ord serial, name text, value text);
create or replace function bench.put(n text, v anyelement) returns void language sql as
  $$ insert into bench.summary (name, value) values (n, v::text) $$;

-- the generated person each record stands for
create or replace view bench.root as
select m.iid, coalesce(p.dup_of, p.pid) as root, p.dup_of is not null as is_dup, p.pid, p.variant,
       p.dob > current_date - interval '5 years' as under_five
  from bench.map m join dgen.person p on p.pid = m.pid;

-- probes: duplicates of the test half (odd pids; the even half labelled
-- the model) and 5,000 ordinary registrations
select setseed(0.17);
create table bench.probe as
select r.iid, r.root, r.is_dup, r.variant, r.under_five from bench.root r where r.is_dup and r.pid % 2 = 1
union all
(select r.iid, r.root, r.is_dup, r.variant, r.under_five from bench.root r where not r.is_dup order by random() limit 5000);
-- the planted duplicates whose original (or another record of the same person) is held
delete from bench.probe p where p.is_dup
   and not exists (select 1 from bench.root o where o.root = p.root and o.iid <> p.iid);
analyze bench.probe;

-- the engine, down to a low score so that the whole curve is known
create table bench.res as
select p.iid as probe, s.candidate_id as cand, s.score, (select o.root from bench.root o where o.iid = s.candidate_id) = p.root as same
  from bench.probe p cross join lateral refuge.demographic_search(p.iid, -3, 20) s;

-- the baseline: trigram similarity on the full name, same birth year
create extension if not exists pg_trgm;
create table bench.fullname as
select i.id as iid, lower(concat_ws(' ', i.given_name, i.middle_name, i.family_name)) as nm,
       extract(year from i.date_of_birth)::int as yob
  from refuge.individual i;
create index on bench.fullname using gin (nm gin_trgm_ops);
create index on bench.fullname (iid);
analyze bench.fullname;
set pg_trgm.similarity_threshold = 0.65;
create table bench.base as
select p.iid as probe, c.iid as cand, (select o.root from bench.root o where o.iid = c.iid) = p.root as same
  from bench.probe p
  join bench.fullname f on f.iid = p.iid
  join bench.fullname c on c.nm % f.nm and c.yob = f.yob and c.iid <> p.iid;

-- recall (duplicates with a right candidate) and false candidates per search, by threshold
create table bench.curve as
select t.t,
       (select count(distinct r.probe) from bench.res r join bench.probe p on p.iid = r.probe
         where p.is_dup and r.same and r.score >= t.t)::float8 / (select count(*) from bench.probe where is_dup) as recall,
       (select count(*) from bench.res r where not r.same and r.score >= t.t)::float8 / (select count(*) from bench.probe) as fcr
  from generate_series(-3.0, 12.0, 0.1) t(t);

select bench.put('people', (select count(*) from refuge.individual));
select bench.put('planted duplicates searched', (select count(*) from bench.probe where is_dup));
select bench.put('ordinary registrations searched', (select count(*) from bench.probe where not is_dup));
select bench.put('candidate threshold', round((refuge.demographic_thresholds()).candidate_threshold::numeric, 2));
select bench.put('case threshold', round((refuge.demographic_thresholds()).case_threshold::numeric, 2));
select bench.put('engine recall', round(c.recall::numeric, 4)), bench.put('engine false candidates per search', round(c.fcr::numeric, 4))
  from bench.curve c where c.t = (select max(t) from bench.curve where t <= (refuge.demographic_thresholds()).candidate_threshold);
-- exactly at the threshold in force (the curve is on a 0.1 grid)
select bench.put('engine recall at threshold',
        round(((select count(distinct r.probe) from bench.res r join bench.probe p on p.iid = r.probe
                 where p.is_dup and r.same and r.score >= (refuge.demographic_thresholds()).candidate_threshold)::float8
               / (select count(*) from bench.probe where is_dup))::numeric, 4));
select bench.put('engine false candidates per search at threshold',
        round(((select count(*) from bench.res r where not r.same and r.score >= (refuge.demographic_thresholds()).candidate_threshold)::float8
               / (select count(*) from bench.probe))::numeric, 4));
select bench.put('engine recall at case threshold',
        round(((select count(distinct r.probe) from bench.res r join bench.probe p on p.iid = r.probe
                 where p.is_dup and r.same and r.score >= (refuge.demographic_thresholds()).case_threshold)::float8
               / (select count(*) from bench.probe where is_dup))::numeric, 4));
select bench.put('baseline recall', round(((select count(distinct b.probe) from bench.base b join bench.probe p on p.iid = b.probe
                                              where p.is_dup and b.same)::float8 / (select count(*) from bench.probe where is_dup))::numeric, 4));
select bench.put('baseline false candidates per search',
        round(((select count(*) from bench.base b where not b.same)::float8 / (select count(*) from bench.probe))::numeric, 4));
-- the engine at the baseline's false-candidate rate
select bench.put('engine recall at the baseline''s false-candidate rate',
        round((select max(c.recall) from bench.curve c
                where c.fcr <= (select count(*) from bench.base b where not b.same)::float8 / (select count(*) from bench.probe))::numeric, 4));
-- by kind of change
select bench.put('recall by variant: ' || k.kind, format('%s of %s (%s)', k.hit, k.n, round(k.hit::numeric / k.n, 3)))
  from (select v.kind, count(*) as n,
               count(*) filter (where exists (select 1 from bench.res r where r.probe = p.iid and r.same
                                                and r.score >= (refuge.demographic_thresholds()).candidate_threshold)) as hit
          from bench.probe p cross join lateral unnest(string_to_array(coalesce(nullif(p.variant, ''), 'none'), ',')) v(kind)
         where p.is_dup group by v.kind) k order by k.kind;
select bench.put('recall of children under five', format('%s of %s', count(*) filter (where exists (
           select 1 from bench.res r where r.probe = p.iid and r.same and r.score >= (refuge.demographic_thresholds()).candidate_threshold)),
           count(*)))
  from bench.probe p where p.is_dup and p.under_five;
select bench.put('baseline recall by variant: ' || k.kind, format('%s of %s', k.hit, k.n))
  from (select v.kind, count(*) as n,
               count(*) filter (where exists (select 1 from bench.base b where b.probe = p.iid and b.same)) as hit
          from bench.probe p cross join lateral unnest(string_to_array(coalesce(nullif(p.variant, ''), 'none'), ',')) v(kind)
         where p.is_dup group by v.kind) k order by k.kind;

-- time of one candidate search at the threshold in force (1,000 probes)
create table bench.timing (ms float8);
do $$
declare
    r record;
    t0 timestamptz;
    th float8 := (refuge.demographic_thresholds()).candidate_threshold;
begin
    for r in select p.iid from bench.probe p order by random() limit 1000 loop
        t0 := clock_timestamp();
        perform count(*) from refuge.demographic_search(r.iid, th, 10);
        insert into bench.timing values (extract(epoch from clock_timestamp() - t0) * 1000);
    end loop;
end $$;
select bench.put('search ms p50', round(percentile_cont(0.5) within group (order by ms)::numeric, 2)),
       bench.put('search ms p95', round(percentile_cont(0.95) within group (order by ms)::numeric, 2)),
       bench.put('search ms p99', round(percentile_cont(0.99) within group (order by ms)::numeric, 2))
  from bench.timing;
