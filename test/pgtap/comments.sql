-- Every function, table, view, type and operator a refuge role may use says
-- what it is (COMMENT ON): \df+ and \d+ are a reference, drivers and tools
-- show the comments.
begin;
select plan(4);

create temp view staff_roles as
    select oid from pg_roles where rolname like 'refuge\_%' and rolname <> 'refuge_owner';

select is((select array_agg(p.oid::regprocedure::text order by 1) from pg_proc p
            where p.pronamespace in ('refuge'::regnamespace, 'refuge_warehouse'::regnamespace)
              and exists (select 1 from staff_roles r where has_function_privilege(r.oid, p.oid, 'execute'))
              and obj_description(p.oid, 'pg_proc') is null), null,
          'every function a refuge role may execute has a comment');
select is((select array_agg(c.oid::regclass::text order by 1) from pg_class c
            where c.relnamespace in ('refuge'::regnamespace, 'refuge_warehouse'::regnamespace)
              and c.relkind in ('r', 'p', 'v', 'm') and not c.relispartition
              and exists (select 1 from staff_roles r
                           where has_table_privilege(r.oid, c.oid, 'select')
                              or exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attnum > 0
                                            and has_column_privilege(r.oid, c.oid, a.attnum, 'select')))
              and obj_description(c.oid, 'pg_class') is null), null,
          'every table and view a refuge role may read has a comment');
select is((select array_agg(t.oid::regtype::text order by 1) from pg_type t
            where t.typnamespace = 'refuge'::regnamespace and t.typtype in ('b', 'c', 'd', 'e') and t.typcategory <> 'A'
              and (t.typtype <> 'c' or exists (select 1 from pg_class c where c.oid = t.typrelid and c.relkind = 'c'))
              and obj_description(t.oid, 'pg_type') is null), null,
          'every type has a comment');
select is((select array_agg(o.oid::regoperator::text order by 1) from pg_operator o
            where o.oprnamespace = 'refuge'::regnamespace and obj_description(o.oid, 'pg_operator') is null), null,
          'every operator has a comment');

select * from finish();
rollback;
