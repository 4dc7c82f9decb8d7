-- Module roles and partners (cluster-wide, created once).
do $roles$
declare
    r text;
begin
    foreach r in array array['refuge_rsd', 'refuge_resettlement', 'refuge_protection', 'refuge_child_protection',
                             'refuge_partner']
    loop
        if not exists (select 1 from pg_catalog.pg_roles where rolname = r) then
            execute pg_catalog.format('create role %I nologin', r);
        end if;
    end loop;
end
$roles$;

comment on role refuge_rsd is 'refuge: RSD eligibility officers (RSD cases of their operations)';
comment on role refuge_resettlement is 'refuge: resettlement officers (resettlement cases of their operations)';
comment on role refuge_protection is 'refuge: protection officers (SGBV, statelessness, tracing, vulnerability, voluntary repatriation, local integration cases)';
comment on role refuge_child_protection is 'refuge: child protection officers (BIA/BID and tracing cases)';
comment on role refuge_partner is 'refuge: partner organisation staff (only the fields of the cases referred to their organisation)';

grant usage on schema refuge to refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection,
    refuge_partner;

create or replace function refuge.group_roles() returns name[]
    language sql immutable parallel safe
    return array['refuge_owner', 'refuge_registration', 'refuge_supervisor', 'refuge_analyst', 'refuge_admin',
                 'refuge_biometrics', 'refuge_biometrics_admin', 'refuge_assistance', 'refuge_rsd',
                 'refuge_resettlement', 'refuge_protection', 'refuge_child_protection', 'refuge_partner']::name[];

-- Roles that work cases (the partner role reads referrals only).
create function refuge.case_roles() returns name[]
    language sql immutable parallel safe
    return array['refuge_rsd', 'refuge_resettlement', 'refuge_protection', 'refuge_child_protection',
                 'refuge_assistance', 'refuge_supervisor']::name[];
