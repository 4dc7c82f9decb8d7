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

-- everyone already registered gets a match profile (5,000 people a statement)
do $profiles$
declare
    batch uuid[];
begin
    for batch in select array_agg(x.id) from (select i.id, (row_number() over (order by i.id) - 1) / 5000 as b
                                                 from refuge.individual i) x group by x.b loop
        perform refuge.refresh_match_profiles(batch);
    end loop;
end
$profiles$;
