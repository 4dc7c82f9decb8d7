-- Group roles.  Roles are cluster-wide, so they are created only when missing
-- and survive DROP EXTENSION (other databases of the cluster may use them).
-- refuge_owner owns every table and SECURITY DEFINER function; it cannot log in.
do $roles$
declare
    r text;
begin
    foreach r in array array['refuge_owner', 'refuge_registration', 'refuge_supervisor',
                             'refuge_analyst', 'refuge_admin']
    loop
        if not exists (select 1 from pg_catalog.pg_roles where rolname = r) then
            execute pg_catalog.format('create role %I nologin', r);
        end if;
    end loop;
end
$roles$;

alter role refuge_owner nologin nosuperuser nocreatedb nocreaterole noreplication nobypassrls;

comment on role refuge_owner is 'refuge: owns tables and SECURITY DEFINER API functions; never logs in';
comment on role refuge_registration is 'refuge: registration staff (register families, update biodata, needs, documents)';
comment on role refuge_supervisor is 'refuge: registration supervisors (as registration, plus group splits/merges, audit trail of their operations)';
comment on role refuge_analyst is 'refuge: analysts (vocabularies, operations, aggregate statistics; nothing identifiable)';
comment on role refuge_admin is 'refuge: administrators (operations, sites, staff mapping, local codes; no personal data)';

-- A supervisor may do everything registration staff may.  Membership is
-- noinherit-safe: functions test membership with pg_has_role(..., 'MEMBER').
grant refuge_registration to refuge_supervisor;

grant usage on schema refuge to refuge_registration, refuge_supervisor, refuge_analyst, refuge_admin;
