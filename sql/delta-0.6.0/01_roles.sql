-- The DBA who takes, lists and drops snapshots (cluster-wide, created once).
do $roles$
begin
    if not exists (select 1 from pg_catalog.pg_roles where rolname = 'refuge_dba') then
        create role refuge_dba nologin;
    end if;
end
$roles$;
comment on role refuge_dba is 'refuge: database administrators of the warehouse (take, list and drop snapshots; schedule them)';
grant usage on schema refuge to refuge_dba;

create or replace function refuge.group_roles() returns name[]
    language sql immutable parallel safe
    return array['refuge_owner', 'refuge_registration', 'refuge_supervisor', 'refuge_analyst', 'refuge_admin',
                 'refuge_biometrics', 'refuge_biometrics_admin', 'refuge_assistance', 'refuge_rsd',
                 'refuge_resettlement', 'refuge_protection', 'refuge_child_protection', 'refuge_partner',
                 'refuge_dba']::name[];
