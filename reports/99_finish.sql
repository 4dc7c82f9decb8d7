-- Last fragment: ownership and EXECUTE privileges of every function.
-- Nothing is executable by PUBLIC unless granted here.

do $own$
declare
    f record;
begin
    for f in select p.oid::regprocedure as sig from pg_catalog.pg_proc p
              where p.pronamespace = 'refuge'::regnamespace
    loop
        execute format('alter function %s owner to refuge_owner', f.sig);
        execute format('revoke all on function %s from public', f.sig);
    end loop;
    for f in select c.oid::regclass as rel from pg_catalog.pg_class c
              where c.relnamespace = 'refuge'::regnamespace and c.relkind in ('v', 'S')
    loop
        execute format('alter table %s owner to refuge_owner', f.rel);
    end loop;
end
$own$;
grant usage on schema refuge to refuge_owner;

-- used inside row-level security policies and by everyone
grant execute on function refuge.caller(), refuge.caller_has(name), refuge.scope_operations(),
    refuge.scope_sites(), refuge.caller_is_superuser(), refuge.in_scope(uuid, uuid), refuge.lib_version(),
    refuge.age_bracket(date, date, text), refuge.make_line(geometry[])
    to refuge_registration, refuge_supervisor, refuge_analyst, refuge_admin;

-- registration staff (supervisors inherit through membership)
grant execute on function
    refuge.register_group(jsonb), refuge.add_individual(uuid, jsonb, uuid), refuge.update_individual(uuid, jsonb),
    refuge.add_flight_leg(uuid, jsonb, integer), refuge.add_document(uuid, jsonb),
    refuge.set_document_status(uuid, text), refuge.add_specific_need(uuid, jsonb),
    refuge.close_specific_need(uuid, text, date), refuge.set_principal(uuid, uuid, text),
    refuge.flight_route(uuid)
    to refuge_registration;
grant select on refuge.current_member to refuge_registration;

grant execute on function
    refuge.split_group(uuid, jsonb, text), refuge.merge_groups(uuid, uuid, jsonb, text),
    refuge.move_individual(uuid, uuid, text, text), refuge.population_summary(date, integer)
    to refuge_supervisor;

grant execute on function refuge.population_summary(date, integer) to refuge_analyst;

grant execute on function
    refuge.create_operation(text, text, text, jsonb), refuge.create_site(text, text, text, text, double precision, double precision),
    refuge.assign_staff(name, text, text, text, date), refuge.end_staff_assignment(uuid)
    to refuge_admin;
