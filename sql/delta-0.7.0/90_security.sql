-- Ownership, row-level security and privileges of what 0.7.0 adds (as in
-- the earlier releases: NOLOGIN owner, RLS enabled and forced, no PUBLIC
-- execute, the API granted by role).

do $own$
declare
    t record;
begin
    for t in select c.oid::regclass as rel from pg_catalog.pg_class c
              where c.relnamespace = 'refuge'::regnamespace and c.relkind in ('r', 'p')
                and c.relowner <> 'refuge_owner'::regrole
    loop
        execute format('alter table %s owner to refuge_owner', t.rel);
        execute format('alter table %s enable row level security', t.rel);
        execute format('alter table %s force row level security', t.rel);
        execute format('create policy owner_all on %s for all to refuge_owner using (true) with check (true)', t.rel);
    end loop;
end
$own$;

-- The audit classes: readable by every refuge role (they say nothing about anyone).
grant select on refuge.audit_scope to refuge_registration, refuge_supervisor, refuge_analyst, refuge_admin,
    refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement,
    refuge_protection, refuge_child_protection, refuge_partner, refuge_dba;
create policy read_all on refuge.audit_scope for select to refuge_registration, refuge_supervisor, refuge_analyst,
    refuge_admin, refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement,
    refuge_protection, refuge_child_protection, refuge_partner, refuge_dba using (true);

-- Functions: owned by refuge_owner, no PUBLIC execute.
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
alter type refuge.tracing_match owner to refuge_owner;

-- Alerts: details under the caller's own rights; the sweep for supervisors and the scheduler.
grant execute on function refuge.alert_details(uuid) to refuge_rsd, refuge_resettlement, refuge_protection,
    refuge_child_protection, refuge_assistance, refuge_supervisor, refuge_biometrics_admin;
revoke execute on function refuge.check_overdue() from refuge_admin;
grant execute on function refuge.check_overdue() to refuge_supervisor, refuge_dba;
grant execute on function refuge.caller_modules(), refuge.may_work_case(text, uuid, uuid), refuge.scope_operations(),
    refuge.scope_sites(), refuge.in_scope(uuid, uuid) to refuge_dba;
grant execute on function refuge.set_gbv_consent(uuid, boolean, boolean, text) to refuge_rsd, refuge_resettlement,
    refuge_protection, refuge_child_protection, refuge_assistance, refuge_supervisor;

-- Status changes: requested by registration staff, decided by supervisors;
-- read like the individual they concern.
grant select on refuge.status_change to refuge_registration, refuge_supervisor;
create policy staff_read on refuge.status_change for select to refuge_registration, refuge_supervisor
    using (operation_id = any ((select refuge.scope_operations())::uuid[])
           or site_id = any ((select refuge.scope_sites())::uuid[]));
grant execute on function refuge.request_status_change(uuid, text, text, text) to refuge_registration, refuge_supervisor;
grant execute on function refuge.decide_status_change(uuid, boolean, text) to refuge_supervisor;
grant execute on function refuge.vulnerability_factors(uuid, text) to refuge_registration, refuge_supervisor;

-- The scheduler's jobs (README, "Scheduling with pg_cron"): a login that is
-- a member of refuge_dba seals the audit chain, sweeps overdue cases and
-- takes snapshots.
grant execute on function refuge.seal_audit(), refuge.verify_audit(bigint, text), refuge.audit_head() to refuge_dba;
alter function refuge_warehouse.pyramid_bar(bigint, bigint, bigint, integer, integer, integer, integer, text, boolean) owner to refuge_owner;
grant execute on function refuge_warehouse.flows(integer, integer), refuge_warehouse.population_forecast(text, integer),
    refuge_warehouse.pyramid_bar(bigint, bigint, bigint, integer, integer, integer, integer, text, boolean),
    refuge_warehouse.age_bands(), refuge_warehouse.age_band(integer), refuge_warehouse.band_bracket(text)
    to refuge_analyst, refuge_dba;
-- sdc_protect works in memory bounded by its caps, yet a caller choosing the
-- equations could still make it work hard: only the warehouse's publishing runs it
revoke execute on function refuge.sdc_protect(bigint[], integer[], integer[], integer[], integer, boolean[], boolean[], integer[])
    from public;
-- the audit classes are shipped with the extension (nothing local to dump)
select pg_catalog.pg_extension_config_dump('refuge.audit_scope', 'where false');
grant execute on function refuge.deployment_check(), refuge.preloaded() to refuge_admin, refuge_dba;
grant execute on function refuge.identifier_key(text) to refuge_registration, refuge_supervisor, refuge_biometrics,
    refuge_biometrics_admin, refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection;
-- the chain's length and head count every operation's and module's changes:
-- for administrators and the DBA's scheduler, not for supervisors
revoke execute on function refuge.seal_audit(), refuge.verify_audit(bigint, text), refuge.audit_head() from refuge_supervisor;
