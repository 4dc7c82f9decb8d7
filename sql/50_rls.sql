-- Ownership, privileges and row-level security for every table.
--
-- Tables belong to the NOLOGIN role refuge_owner and have RLS enabled and
-- forced, so even the owner (as which SECURITY DEFINER functions run) goes
-- through a policy.  Staff roles get SELECT only: every write goes through
-- the API functions, which authorise the caller and audit the change.

do $own$
declare
    t record;
begin
    for t in select c.relname from pg_catalog.pg_class c
              where c.relnamespace = 'refuge'::regnamespace and c.relkind in ('r', 'p')
    loop
        execute format('alter table refuge.%I owner to refuge_owner', t.relname);
        execute format('alter table refuge.%I enable row level security', t.relname);
        execute format('alter table refuge.%I force row level security', t.relname);
        -- API functions run as the owner and authorise the caller themselves.
        execute format('create policy owner_all on refuge.%I for all to refuge_owner using (true) with check (true)',
                       t.relname);
    end loop;
end
$own$;

-- Vocabularies, operations and sites: readable by every refuge role.
do $public$
declare
    t text;
begin
    foreach t in array array['country', 'language', 'script', 'sex', 'relationship', 'marital_status',
        'education_level', 'education_degree', 'address_type', 'language_proficiency', 'religion',
        'ethnicity', 'occupation', 'population_type', 'age_bracket', 'specific_need_category',
        'specific_need_code', 'registration_level', 'date_precision', 'document_type',
        'flight_reason', 'contact_type', 'individual_status', 'group_status', 'site_type',
        'operation', 'site']
    loop
        execute format('grant select on refuge.%I to refuge_registration, refuge_supervisor, refuge_analyst, refuge_admin', t);
        execute format('create policy read_all on refuge.%I for select
                        to refuge_registration, refuge_supervisor, refuge_analyst, refuge_admin using (true)', t);
    end loop;
end
$public$;

-- Staff directory and assignments: administrators see all; supervisors see
-- the staff of their operations; everyone sees their own entries.
grant select on refuge.staff, refuge.staff_assignment to refuge_registration, refuge_supervisor, refuge_admin;

create policy admin_read on refuge.staff for select to refuge_admin using (true);
create policy own_read on refuge.staff for select to refuge_registration using (role_name = refuge.caller());
create policy supervisor_read on refuge.staff for select to refuge_supervisor
    using (exists (select 1 from refuge.staff_assignment a where a.role_name = staff.role_name));

create policy admin_read on refuge.staff_assignment for select to refuge_admin using (true);
create policy own_read on refuge.staff_assignment for select to refuge_registration
    using (role_name = refuge.caller());
create policy supervisor_read on refuge.staff_assignment for select to refuge_supervisor
    using (operation_id = any ((select refuge.scope_operations())::uuid[]));

-- Registration data: registration staff and supervisors of the operation
-- (or of the site).  The scope arrays are computed once per query.
grant select on refuge.registration_group, refuge.individual to refuge_registration, refuge_supervisor;

create policy staff_read on refuge.registration_group for select to refuge_registration, refuge_supervisor
    using (operation_id = any ((select refuge.scope_operations())::uuid[])
           or site_id = any ((select refuge.scope_sites())::uuid[]));
create policy staff_read on refuge.individual for select to refuge_registration, refuge_supervisor
    using (operation_id = any ((select refuge.scope_operations())::uuid[])
           or site_id = any ((select refuge.scope_sites())::uuid[]));

-- Everything hanging off an individual is visible exactly when the
-- individual is (the subquery is itself filtered by individual's policy).
do $child$
declare
    t text;
begin
    foreach t in array array['group_membership', 'individual_name', 'individual_nationality',
        'individual_language', 'individual_education', 'individual_occupation', 'individual_contact',
        'individual_address', 'flight_leg', 'document', 'photo', 'specific_need']
    loop
        execute format('grant select on refuge.%I to refuge_registration, refuge_supervisor', t);
        execute format('create policy staff_read on refuge.%I for select to refuge_registration, refuge_supervisor
                        using (exists (select 1 from refuge.individual i where i.id = %I.individual_id))', t, t);
    end loop;
end
$child$;

-- The audit trail of an operation: its supervisors.  Configuration changes
-- (no operation): administrators.
grant select on refuge.audit_log to refuge_supervisor, refuge_admin;
create policy supervisor_read on refuge.audit_log for select to refuge_supervisor
    using (operation_id = any ((select refuge.scope_operations())::uuid[]));
create policy admin_read on refuge.audit_log for select to refuge_admin
    using (operation_id is null);

-- api_request: no direct access (owner only).
