\echo Use "CREATE EXTENSION refuge CASCADE" to load this file. \quit

comment on schema refuge is 'Refuge: refugee registration, case management and biometric identity management';

-- C entry points of the shared library.
create function refuge.lib_version() returns text
    language c immutable strict parallel safe
    as 'MODULE_PATHNAME', 'refuge_lib_version';
grant execute on function refuge.lib_version() to refuge_registration, refuge_supervisor, refuge_analyst,
    refuge_admin;
