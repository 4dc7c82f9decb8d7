-- Ownership, row-level security, privileges and dump registration of the
-- warehouse.  Analysts and DBAs read the facts through the partitioned
-- parents (the partitions are not granted); nobody writes them but
-- refuge.snapshot(); nobody reads the pseudonym key.

alter schema refuge_warehouse owner to refuge_owner;
grant usage on schema refuge_warehouse to refuge_analyst, refuge_dba;

do $own$
declare
    t text;
begin
    foreach t in array array['refuge.warehouse_key', 'refuge_warehouse.snapshot', 'refuge_warehouse.individual_fact',
                             'refuge_warehouse.family_fact', 'refuge_warehouse.case_fact', 'refuge_warehouse.case_step_fact',
                             'refuge_warehouse.population_fact']
    loop
        execute format('alter table %s owner to refuge_owner', t);
        execute format('alter table %s enable row level security', t);
        execute format('alter table %s force row level security', t);
        execute format('create policy owner_all on %s for all to refuge_owner using (true) with check (true)', t);
    end loop;
    foreach t in array array['individual_fact', 'population_fact', 'family_fact', 'case_fact', 'case_step_fact'] loop
        execute format('grant select on refuge_warehouse.%I to refuge_analyst, refuge_dba', t);
        execute format('create policy warehouse_read on refuge_warehouse.%I for select to refuge_analyst, refuge_dba
                        using (true)', t);
    end loop;
end
$own$;
-- analysts see when each snapshot was taken for; DBAs see everything about it
grant select (id, as_of, label) on refuge_warehouse.snapshot to refuge_analyst;
grant select on refuge_warehouse.snapshot to refuge_dba;
create policy warehouse_read on refuge_warehouse.snapshot for select to refuge_analyst, refuge_dba using (true);

do $views$
declare
    v text;
begin
    foreach v in array array['population', 'population_trend', 'population_statistics', 'case_processing', 'case_states']
    loop
        execute format('alter view refuge_warehouse.%I owner to refuge_owner', v);
        execute format('grant select on refuge_warehouse.%I to refuge_analyst, refuge_dba', v);
    end loop;
end
$views$;

-- pg_dump keeps the key and the list of snapshots (the partitions, created
-- at run time, are ordinary tables to pg_dump).
select pg_catalog.pg_extension_config_dump('refuge.warehouse_key', '');
select pg_catalog.pg_extension_config_dump('refuge_warehouse.snapshot', '');
select pg_catalog.pg_extension_config_dump('refuge_warehouse.snapshot_id_seq', '');

-- Functions: owned by refuge_owner, no PUBLIC execute; granted by role.
do $fn$
declare
    f record;
begin
    for f in select p.oid::regprocedure as sig from pg_catalog.pg_proc p
              where p.pronamespace in ('refuge'::regnamespace, 'refuge_warehouse'::regnamespace)
                and p.proowner <> 'refuge_owner'::regrole
    loop
        execute format('alter function %s owner to refuge_owner', f.sig);
        execute format('revoke all on function %s from public', f.sig);
    end loop;
end
$fn$;

grant execute on function refuge.caller(), refuge.caller_has(name), refuge.caller_is_superuser() to refuge_dba;
grant execute on function refuge.snapshot(timestamptz, text), refuge.snapshots(), refuge.drop_snapshot(integer)
    to refuge_dba;
grant execute on function refuge.forecast(double precision[], integer, double precision, double precision),
    refuge.hxl_population_csv(integer, integer), refuge.population_pyramid_svg(integer, text),
    refuge_warehouse.flows(integer, integer), refuge_warehouse.population_forecast(text, integer)
    to refuge_analyst, refuge_dba;

-- The proGres crosswalk: readable by every refuge role, guarded like a vocabulary.
alter table refuge.progres_code owner to refuge_owner;
alter table refuge.progres_code enable row level security;
alter table refuge.progres_code force row level security;
create policy owner_all on refuge.progres_code for all to refuge_owner using (true) with check (true);
grant select on refuge.progres_code to refuge_registration, refuge_supervisor, refuge_analyst, refuge_admin,
    refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement,
    refuge_protection, refuge_child_protection, refuge_partner, refuge_dba;
create policy read_all on refuge.progres_code for select to refuge_registration, refuge_supervisor, refuge_analyst,
    refuge_admin, refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement,
    refuge_protection, refuge_child_protection, refuge_partner, refuge_dba using (true);
create trigger audit after insert or update or delete on refuge.progres_code
    for each row execute function refuge.audit_row('none');
create trigger audit_flush after insert or update or delete on refuge.progres_code
    for each statement execute function refuge.audit_flush();
select pg_catalog.pg_extension_config_dump('refuge.progres_code', 'where not shipped');

-- The Resettlement Registration Form: resettlement staff of the case.
grant execute on function refuge.rrf_xml(uuid) to refuge_resettlement;
grant execute on function refuge.import_rrf(xml) to refuge_resettlement, refuge_registration;
grant execute on function refuge.rrf_json(uuid), refuge.rrf_pdf(uuid) to refuge_resettlement;
