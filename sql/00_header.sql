-- refuge install script, built from sql/, functions/ and reports/ fragments.
\echo Use "CREATE EXTENSION refuge CASCADE" to load this file. \quit

-- C entry points of the shared library.
create function refuge.lib_version() returns text
    language c immutable strict parallel safe
    as 'MODULE_PATHNAME', 'refuge_lib_version';

comment on schema refuge is 'Refuge: refugee registration, case management and biometric identity management';
