-- Index verification learns partial indexes (the gallery has one fingerprint
-- index per searched finger position): only rows of the predicate are due.
create or replace function refuge.biometric_index_verify(index regclass, method name) returns bigint
    language plpgsql set search_path = pg_catalog, pg_temp as $$
declare
    tbl regclass;
    col name;
    items text := case method when 'refuge_iris' then 'refuge.iris_index_items'
                              when 'refuge_fingerprint' then 'refuge.fingerprint_index_items' end;
    checked bigint;
    missing bigint;
    twice bigint;
    pred text;
begin
    select i.indrelid::regclass, a.attname, pg_catalog.pg_get_expr(i.indpred, i.indrelid) into tbl, col, pred
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
                   case method when 'refuge_fingerprint' then format('t.%I is not null', col) else 'true' end
                   -- a partial index holds the rows of its predicate only
                   || coalesce(' and (' || pred || ')', ''))
       into checked, missing, twice using index;
    if missing > 0 or twice > 0 then
        raise exception 'index %: % of % rows of % missing or with a different value, % heap TIDs indexed twice',
            index, missing, checked, tbl, twice using errcode = 'index_corrupted';
    end if;
    return checked;
end $$;
