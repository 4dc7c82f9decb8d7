\echo Use "CREATE EXTENSION refuge CASCADE" to load this file. \quit

comment on schema refuge is 'Refuge: refugee registration, case management and biometric identity management';
