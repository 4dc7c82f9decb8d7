\set ECHO none
-- Leave the database as found for the next suite: refuge installed anew
-- (TRUNCATE is refused on its tables).  At the current version, or, when
-- refuge_test.install_from names a release (make installcheck-upgraded), at
-- that release and then updated: the whole suite runs against an updated
-- database too.
set client_min_messages = warning;
drop extension refuge cascade;
select format('create extension refuge version %L',
              coalesce(nullif(current_setting('refuge_test.install_from', true), ''),
                       (select default_version from pg_catalog.pg_available_extensions where name = 'refuge'))) \gexec
alter extension refuge update;
reset client_min_messages;
\set ECHO all
