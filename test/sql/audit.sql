-- Every write is attributed to the calling role (not the function owner),
-- with old and new values; who/when columns cannot be forged.
\set VERBOSITY terse
set client_min_messages = warning;
do $$ begin
  if not exists (select 1 from pg_roles where rolname = 'regress_clerk') then create role regress_clerk; end if;
  if not exists (select 1 from pg_roles where rolname = 'regress_admin') then create role regress_admin; end if;
end $$;
grant refuge_registration to regress_clerk;
grant refuge_admin to regress_admin;

set role regress_admin;
select refuge.create_operation('SDN', 'SDN', 'Sudan') is not null;
select refuge.create_site('SDN', 'KASSALA', 'Kassala', 'CAMP') is not null;
select refuge.assign_staff('regress_clerk', 'SDN', full_name => 'Clerk in Sudan') is not null;
reset role;

set role regress_clerk;
select refuge.register_group('{"operation": "SDN", "site": "KASSALA", "registration_level": "EMERGENCY",
  "population_type": "ASY", "members": [{"relationship": "PA", "given_name": "Semhar", "family_name": "Tesfay", "sex": "F",
  "date_of_birth": "1995-05-05"}]}') is not null as registered;
select refuge.update_individual(id, '{"family_name": "Tesfaye", "marital_status": "SN"}') is not null
  from refuge.individual where given_name = 'Semhar';
reset role;

select created_by, updated_by, created_at = updated_at as never_updated from refuge.registration_group;
select created_by, updated_by from refuge.individual;
select actor, table_name, action from refuge.audit_log order by id;
select old_data, new_data from refuge.audit_log where table_name = 'individual' and action = 'U';
select count(*) as audit_rows_with_operation from refuge.audit_log where table_name in ('individual', 'group_membership')
   and operation_id = (select id from refuge.operation where code = 'SDN');

-- a direct update by a superuser is still audited and stamped with its role
update refuge.individual set place_of_birth = 'Asmara' where given_name = 'Semhar';
select actor, new_data from refuge.audit_log where table_name = 'individual' order by id desc limit 1;
-- who/when columns are set by the trigger, whatever the statement says
update refuge.individual set updated_by = 'somebody_else', created_by = 'forger' where given_name = 'Semhar';
select created_by, updated_by from refuge.individual;

reset role;
revoke refuge_registration from regress_clerk;
revoke refuge_admin from regress_admin;

-- leave the database as found for the next suite
-- (TRUNCATE is refused on refuge's tables: the extension is installed anew)
\i test/lib/reinstall.sql
