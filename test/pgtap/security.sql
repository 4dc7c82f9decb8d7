-- Structural security rules that every object of the extension must follow.
begin;
select plan(13);

select is((select array_agg(relname order by relname) from pg_class
            where relnamespace = 'refuge'::regnamespace and relkind in ('r', 'p')
              and not (relrowsecurity and relforcerowsecurity)), null,
          'every table has row-level security enabled and forced');
select is((select array_agg(relname order by relname) from pg_class
            where relnamespace = 'refuge'::regnamespace and relkind in ('r', 'p', 'v', 'S')
              and relowner <> 'refuge_owner'::regrole), null,
          'every table, view and sequence belongs to refuge_owner');
select is((select array_agg(c.relname order by c.relname) from pg_class c
            where c.relnamespace = 'refuge'::regnamespace and c.relkind = 'v'
              and not coalesce(c.reloptions @> array['security_invoker=true'], false)), null,
          'every view is security_invoker');
select is((select array_agg(p.oid::regprocedure::text order by 1) from pg_proc p
            where p.pronamespace = 'refuge'::regnamespace and p.prosecdef
              and not exists (select 1 from unnest(p.proconfig) c where c like 'search_path=pg_catalog, %pg_temp')), null,
          'every SECURITY DEFINER function pins search_path (pg_catalog first, pg_temp last)');
select is((select array_agg(p.oid::regprocedure::text order by 1) from pg_proc p
            where p.pronamespace = 'refuge'::regnamespace and p.proowner <> 'refuge_owner'::regrole), null,
          'every function belongs to refuge_owner');
select is((select array_agg(p.oid::regprocedure::text order by 1) from pg_proc p
            where p.pronamespace = 'refuge'::regnamespace
              and exists (select 1 from aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a where a.grantee = 0)), null,
          'no function is executable by PUBLIC');
select ok((select not rolcanlogin and not rolsuper and not rolbypassrls and not rolcreaterole
             from pg_roles where rolname = 'refuge_owner'), 'refuge_owner cannot log in and has no special powers');
select is((select count(*)::int from pg_auth_members where roleid = 'refuge_owner'::regrole), 0, 'nobody is a member of refuge_owner');
select is((select array_agg(rolname order by rolname) from pg_roles
            where rolname like 'refuge\_%' and (rolcanlogin or rolsuper or rolbypassrls)), null,
          'the refuge group roles are NOLOGIN without special powers');
select is((select array_agg(c.relname order by c.relname) from pg_class c
            where c.relnamespace = 'refuge'::regnamespace and c.relkind = 'r'
              and c.oid <> all ((select extconfig from pg_extension where extname = 'refuge')::oid[])), null,
          'every table is registered with pg_extension_config_dump');
select is((select array_agg(c.relname order by c.relname) from pg_class c
            where c.relnamespace = 'refuge'::regnamespace and c.relkind in ('r', 'p')
              and (has_table_privilege('refuge_registration', c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')
                or has_table_privilege('refuge_supervisor', c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')
                or has_table_privilege('refuge_analyst', c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')
                or has_table_privilege('refuge_admin', c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE'))), null,
          'no staff role can write any table directly (writes go through the API)');
select is((select array_agg(c.relname order by c.relname) from pg_class c
            where c.relnamespace = 'refuge'::regnamespace and c.relkind = 'r'
              and exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'individual_id')
              -- (match_profile and match_block are derived from audited tables: a second copy of every name in the audit trail would only widen what erasure must reach)
              -- (person_key holds keys: the trail must never carry them, even wrapped)
              and c.relname not in ('api_request', 'match_profile', 'match_block', 'person_key')
              and not exists (select 1 from pg_trigger t where t.tgrelid = c.oid and t.tgname = 'audit')), null,
          'every table about individuals is audited');
select is(refuge.lib_version(), (select extversion from pg_extension where extname = 'refuge'),
          'the loaded library matches the installed extension version');

select * from finish();
rollback;
