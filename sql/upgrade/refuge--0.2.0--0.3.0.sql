-- refuge 0.2.0 -> 0.3.0: the refuge_fingerprint candidate index; index build
-- progress; one verification routine for both biometric indexes.
\echo Use "ALTER EXTENSION refuge UPDATE TO '0.3.0'" to load this file. \quit

-- A fingerprint comparison builds the matcher's template of each side it has
-- not seen before, about a millisecond: some four thousand operator costs.
-- Telling the planner so is what makes it prefer an index to a scan that
-- would compare every row.
alter function refuge.fingerprint_score(refuge.fingerprint, refuge.fingerprint) cost 4000;
alter function refuge.fingerprint_distance(refuge.fingerprint, refuge.fingerprint) cost 4000;
alter function refuge.match(refuge.fingerprint, refuge.fingerprint, double precision) cost 4000;
alter function refuge.fingerprint_match_op(refuge.fingerprint, refuge.fingerprint) cost 4000;

-- refuge_fingerprint: 1:N fingerprint search in two stages, cylinder min-hash
-- keys to pick refuge.fingerprint_candidates candidates, then the full
-- matcher on those (extension/fingerprint_index.c).  Not exact: how often
-- the first stage loses a true mate is measured in test/bench/fp_index.sh.
create function refuge.fingerprint_index_handler(internal) returns index_am_handler
    language c as 'MODULE_PATHNAME', 'refuge_fingerprint_index_handler';
create access method refuge_fingerprint type index handler refuge.fingerprint_index_handler;
comment on access method refuge_fingerprint is
    '1:N fingerprint search: cylinder min-hash candidates re-scored by the full matcher, ORDER BY fp <-> probe and WHERE fp % probe';
create operator class refuge.fingerprint_ops default for type refuge.fingerprint using refuge_fingerprint as
    operator 1 refuge.<-> (refuge.fingerprint, refuge.fingerprint) for order by pg_catalog.float_ops,
    operator 2 refuge.% (refuge.fingerprint, refuge.fingerprint),
    function 1 refuge.fingerprint_distance(refuge.fingerprint, refuge.fingerprint);

create function refuge.fingerprint_index_items(index regclass)
    returns table (heap_tid tid, fp refuge.fingerprint)
    language c strict as 'MODULE_PATHNAME', 'refuge_fingerprint_index_items';
comment on function refuge.fingerprint_index_items(regclass) is
    'every entry of a refuge_fingerprint index, checking its structure and keys; needs SELECT on the table and no row-level security in the way';

-- Checking a biometric index against its table, in the spirit of amcheck:
-- the entries function checks the structure while reading, then every row
-- the caller can see with a non-NULL value (refuge_iris also indexes NULLs)
-- must be in the index with the same value, and no heap TID may appear
-- twice.  Returns the rows checked; raises index_corrupted (XX002).
create function refuge.biometric_index_verify(index regclass, method name) returns bigint
    language plpgsql set search_path = pg_catalog, pg_temp as $$
declare
    tbl regclass;
    col name;
    items text := case method when 'refuge_iris' then 'refuge.iris_index_items'
                              when 'refuge_fingerprint' then 'refuge.fingerprint_index_items' end;
    checked bigint;
    missing bigint;
    twice bigint;
begin
    select i.indrelid::regclass, a.attname into tbl, col
      from pg_catalog.pg_index i
      join pg_catalog.pg_class c on c.oid = i.indexrelid
      join pg_catalog.pg_am am on am.oid = c.relam and am.amname = method
      left join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
     where i.indexrelid = index;
    if tbl is null or items is null then
        raise exception 'index: % is not a % index', index, method using errcode = 'wrong_object_type';
    end if;
    if col is null then
        raise exception 'index: % is on an expression; only column indexes can be verified', index
            using errcode = 'feature_not_supported';
    end if;
    execute format('with i as materialized (select heap_tid, v::text as v from %3$s($1) as e(heap_tid, v))
                    select count(*), count(*) filter (where i.heap_tid is null or i.v is distinct from t.%1$I::text),
                           (select count(*) from (select heap_tid from i group by heap_tid having count(*) > 1) d)
                      from %2$s t left join i on i.heap_tid = t.ctid
                     where %4$s', col, tbl, items,
                   case method when 'refuge_fingerprint' then format('t.%I is not null', col) else 'true' end)
       into checked, missing, twice using index;
    if missing > 0 or twice > 0 then
        raise exception 'index %: % of % rows of % missing or with a different value, % heap TIDs indexed twice',
            index, missing, checked, tbl, twice using errcode = 'index_corrupted';
    end if;
    return checked;
end $$;
comment on function refuge.biometric_index_verify(regclass, name) is
    'the check behind iris_index_verify and fingerprint_index_verify';

create or replace function refuge.iris_index_verify(index regclass) returns bigint
    language sql set search_path = pg_catalog, pg_temp
    return refuge.biometric_index_verify(index, 'refuge_iris');
create function refuge.fingerprint_index_verify(index regclass) returns bigint
    language sql set search_path = pg_catalog, pg_temp
    return refuge.biometric_index_verify(index, 'refuge_fingerprint');
comment on function refuge.fingerprint_index_verify(regclass) is
    'checks a refuge_fingerprint index against its table: structure, keys, every visible non-NULL row present with its value; returns rows checked';

-- Ownership and privileges, as for every refuge object.
do $own$
declare
    f record;
begin
    for f in select p.oid::regprocedure as sig from pg_catalog.pg_proc p
              where p.pronamespace = 'refuge'::regnamespace and p.proowner <> 'refuge_owner'::regrole
    loop
        execute format('alter function %s owner to refuge_owner', f.sig);
        execute format('revoke all on function %s from public', f.sig);
    end loop;
end
$own$;
grant execute on function refuge.fingerprint_index_items(regclass), refuge.fingerprint_index_verify(regclass),
    refuge.biometric_index_verify(regclass, name) to refuge_admin;
