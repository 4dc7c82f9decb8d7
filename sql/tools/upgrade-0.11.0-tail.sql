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

-- everyone already registered gets a match profile (refuge.rebuild_match_profiles, by batches)
select refuge.rebuild_match_profiles();
