-- Ownership, row-level security, privileges, audit and dump registration of
-- the case management tables (as in sql/50_rls.sql and delta 0.4.0: NOLOGIN
-- owner, RLS enabled and forced, SELECT-only grants by module and scope,
-- writes through the SECURITY DEFINER API).

do $own$
declare
    t text;
begin
    foreach t in array array['case_module', 'workflow_state', 'workflow_transition', 'process_case', 'case_member',
        'case_event', 'case_approval', 'case_alert', 'case_note', 'case_document', 'case_link', 'gbv_incident',
        'case_transfer', 'partner_organisation', 'partner_staff', 'referral_field', 'case_referral', 'sensitive_read',
        'audit_seal', 'vulnerability_factor']
    loop
        execute format('alter table refuge.%I owner to refuge_owner', t);
        execute format('alter table refuge.%I enable row level security', t);
        execute format('alter table refuge.%I force row level security', t);
        execute format('create policy owner_all on refuge.%I for all to refuge_owner using (true) with check (true)', t);
    end loop;
end
$own$;
alter sequence refuge.case_number_seq owner to refuge_owner;

-- Workflow definitions, referral fields, the scoring model, partners: read
-- by every refuge role.  The vocabularies of earlier versions: read by the
-- new roles too.
do $public$
declare
    t name;
    everyone text := 'refuge_registration, refuge_supervisor, refuge_analyst, refuge_admin, refuge_biometrics, '
                     'refuge_biometrics_admin, refuge_assistance, refuge_rsd, refuge_resettlement, refuge_protection, '
                     'refuge_child_protection, refuge_partner';
begin
    for t in select p.tablename from pg_catalog.pg_policies p
              where p.schemaname = 'refuge' and p.policyname = 'read_all'
    loop
        execute format('grant select on refuge.%I to refuge_rsd, refuge_resettlement, refuge_protection,
                        refuge_child_protection, refuge_partner', t);
        execute format('create policy read_case_roles on refuge.%I for select
                        to refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection, refuge_partner
                        using (true)', t);
    end loop;
    foreach t in array array['case_module', 'workflow_state', 'workflow_transition', 'referral_field',
                             'vulnerability_factor', 'partner_organisation']
    loop
        execute format('grant select on refuge.%I to %s', t, everyone);
        execute format('create policy read_all on refuge.%I for select to %s using (true)', t, everyone);
    end loop;
end
$public$;

-- The module of a case whatever the caller may see (for transfer policies).
create function refuge.case_module_of(p_case uuid) returns text
    language sql stable parallel safe security definer
    set search_path = pg_catalog, pg_temp
begin atomic
    select c.module from refuge.process_case c where c.id = p_case;
end;

-- Cases: staff holding a module's role, in the case's operation or site.
grant select on refuge.process_case, refuge.case_member, refuge.case_event, refuge.case_approval, refuge.case_alert,
    refuge.case_link, refuge.case_transfer, refuge.case_referral
    to refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection, refuge_assistance, refuge_supervisor;
create policy module_read on refuge.process_case for select
    to refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection, refuge_assistance, refuge_supervisor
    using (module = any ((select refuge.caller_modules())::text[])
           and (operation_id = any ((select refuge.scope_operations())::uuid[])
                or site_id = any ((select refuge.scope_sites())::uuid[])));
do $children$
declare
    t text;
begin
    foreach t in array array['case_member', 'case_event', 'case_approval', 'case_alert', 'case_link', 'case_referral']
    loop
        execute format('create policy module_read on refuge.%I for select
                        to refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection,
                           refuge_assistance, refuge_supervisor
                        using (exists (select 1 from refuge.process_case c where c.id = %I.case_id))', t, t);
    end loop;
end
$children$;
-- a transfer is seen by the sending side (the case) and the receiving side
create policy module_read on refuge.case_transfer for select
    to refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection, refuge_assistance, refuge_supervisor
    using (exists (select 1 from refuge.process_case c where c.id = case_transfer.case_id)
           or (refuge.case_module_of(case_id) = any ((select refuge.caller_modules())::text[])
               and (to_operation = any ((select refuge.scope_operations())::uuid[])
                    or to_site = any ((select refuge.scope_sites())::uuid[]))));
-- notes and documents: not their sealed bytes; for sensitive modules only
-- through the logged read functions
grant select (id, case_id, kind, confidential, body, author, created_at) on refuge.case_note
    to refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection, refuge_assistance, refuge_supervisor;
grant select (id, case_id, title, media_type, size_bytes, sha256, confidential, author, created_at) on refuge.case_document
    to refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection, refuge_assistance, refuge_supervisor;
create policy module_read on refuge.case_note for select
    to refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection, refuge_assistance, refuge_supervisor
    using (exists (select 1 from refuge.process_case c join refuge.case_module m on m.code = c.module
                    where c.id = case_note.case_id and not m.sensitive));
create policy module_read on refuge.case_document for select
    to refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection, refuge_assistance, refuge_supervisor
    using (exists (select 1 from refuge.process_case c join refuge.case_module m on m.code = c.module
                    where c.id = case_document.case_id and not m.sensitive));
-- partners: their organisation's referrals (the content through referred_case)
grant select on refuge.case_referral, refuge.partner_staff to refuge_partner;
create policy partner_read on refuge.case_referral for select to refuge_partner
    using (partner_id = (select refuge.caller_partner()));
create policy partner_read on refuge.partner_staff for select to refuge_partner
    using (role_name = refuge.caller());
grant select on refuge.partner_staff to refuge_admin;
create policy admin_read on refuge.partner_staff for select to refuge_admin using (true);
-- the sensitive-read log: supervisors of the operation
grant select on refuge.sensitive_read to refuge_supervisor;
create policy supervisor_read on refuge.sensitive_read for select to refuge_supervisor
    using (operation_id = any ((select refuge.scope_operations())::uuid[]));

-- Case officers see the people of their operations (registration data, as
-- in proGres) and the members of the cases they work wherever registered.
grant select on refuge.individual, refuge.registration_group, refuge.group_membership
    to refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection;
create policy case_staff_read on refuge.individual for select
    to refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection
    using (operation_id = any ((select refuge.scope_operations())::uuid[])
           or site_id = any ((select refuge.scope_sites())::uuid[])
           or exists (select 1 from refuge.case_member cm where cm.individual_id = individual.id));
create policy case_staff_read on refuge.registration_group for select
    to refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection
    using (operation_id = any ((select refuge.scope_operations())::uuid[])
           or site_id = any ((select refuge.scope_sites())::uuid[])
           or exists (select 1 from refuge.process_case c where c.group_id = registration_group.id));
create policy case_staff_read on refuge.group_membership for select
    to refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection
    using (exists (select 1 from refuge.individual i where i.id = group_membership.individual_id));

-- Stamps and audit; sealed text and document contents only as size and digest.
do $attach$
declare
    t record;
begin
    for t in select * from (values
        ('case_module', array['none']), ('workflow_state', array['none']), ('workflow_transition', array['none']),
        ('referral_field', array['none']), ('vulnerability_factor', array['none']),
        ('process_case', array['self']), ('case_member', array['individual']), ('case_event', array['none']),
        ('case_approval', array['none']), ('case_alert', array['self']),
        ('case_note', array['none', 'sealed']), ('case_document', array['none', 'content', 'sealed']),
        ('case_link', array['none']), ('gbv_incident', array['none', 'sealed']), ('case_transfer', array['none']),
        ('partner_organisation', array['none']), ('partner_staff', array['none']), ('case_referral', array['none']),
        ('sensitive_read', array['self'])) as v(tab, args)
    loop
        if exists (select 1 from pg_catalog.pg_attribute a where a.attrelid = format('refuge.%I', t.tab)::regclass
                    and a.attname = 'updated_at') then
            execute format('create trigger stamp before insert or update on refuge.%I
                            for each row execute function refuge.stamp_row()', t.tab);
        end if;
        execute format('create trigger audit after insert or update or delete on refuge.%I
                        for each row execute function refuge.audit_row(%s)',
                       t.tab, (select string_agg(quote_literal(a), ', ') from unnest(t.args) a));
        execute format('create trigger audit_flush after insert or update or delete on refuge.%I
                        for each statement execute function refuge.audit_flush()', t.tab);
    end loop;
end
$attach$;

-- History is never edited: events, notes, documents, read logs.
create trigger append_only before update or delete on refuge.case_event
    for each row execute function refuge.append_only();
create trigger append_only before update or delete on refuge.case_note
    for each row execute function refuge.append_only();
create trigger append_only before update or delete on refuge.case_document
    for each row execute function refuge.append_only();
create trigger append_only before update or delete on refuge.sensitive_read
    for each row execute function refuge.append_only();

-- pg_dump keeps the data (definitions shipped with the extension: local rows only).
do $dump$
declare
    t text;
begin
    foreach t in array array['process_case', 'case_member', 'case_event', 'case_approval', 'case_alert', 'case_note',
        'case_document', 'case_link', 'gbv_incident', 'case_transfer', 'partner_organisation', 'partner_staff',
        'case_referral', 'sensitive_read', 'audit_seal']
    loop
        perform pg_catalog.pg_extension_config_dump(format('refuge.%I', t)::regclass, '');
    end loop;
    foreach t in array array['case_module', 'workflow_state', 'workflow_transition', 'referral_field', 'vulnerability_factor']
    loop
        perform pg_catalog.pg_extension_config_dump(format('refuge.%I', t)::regclass, 'where not shipped');
    end loop;
end
$dump$;
select pg_catalog.pg_extension_config_dump('refuge.case_number_seq', '');
select pg_catalog.pg_extension_config_dump('refuge.case_event_id_seq', '');
select pg_catalog.pg_extension_config_dump('refuge.sensitive_read_id_seq', '');

-- Functions: owned by refuge_owner, no PUBLIC execute; the API is granted by role.
do $fn$
declare
    f record;
begin
    for f in select p.oid::regprocedure as sig from pg_catalog.pg_proc p
              where p.pronamespace = 'refuge'::regnamespace and p.proowner <> 'refuge_owner'::regrole
    loop
        execute format('alter function %s owner to refuge_owner', f.sig);
        execute format('revoke all on function %s from public', f.sig);
    end loop;
end
$fn$;

-- What policies and the API call as the invoker.
grant execute on function refuge.caller(), refuge.caller_has(name), refuge.caller_is_superuser(),
    refuge.scope_operations(), refuge.scope_sites(), refuge.in_scope(uuid, uuid)
    to refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection, refuge_partner;
grant execute on function refuge.caller_modules(), refuge.may_work_case(text, uuid, uuid), refuge.case_module_of(uuid)
    to refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection, refuge_assistance,
       refuge_supervisor, refuge_partner;
grant execute on function refuge.caller_partner() to refuge_partner, refuge_rsd, refuge_resettlement,
    refuge_protection, refuge_child_protection, refuge_assistance, refuge_supervisor;
grant execute on function refuge.open_case(text, uuid, uuid[], jsonb, text), refuge.transition_case(uuid, text, jsonb, text),
    refuge.assign_case(uuid, name, timestamptz, text), refuge.flag_case(uuid, text, name, text),
    refuge.acknowledge_alert(uuid), refuge.link_case(uuid, text, uuid, text),
    refuge.add_case_note(uuid, text, boolean, text), refuge.read_case_note(uuid, text),
    refuge.add_case_document(uuid, text, text, bytea, boolean), refuge.read_case_document(uuid, text),
    refuge.record_gbv_incident(uuid, jsonb), refuge.read_gbv_incident(uuid, text),
    refuge.request_case_transfer(uuid, text, text, text), refuge.decide_case_transfer(uuid, text, text),
    refuge.refer_case(uuid, text, text[], text, date), refuge.end_referral(uuid, text, text),
    refuge.tracing_matches(uuid, integer), refuge.add_case_member(uuid, uuid, text),
    refuge.remove_case_member(uuid, uuid, text)
    to refuge_rsd, refuge_resettlement, refuge_protection, refuge_child_protection, refuge_assistance, refuge_supervisor;
grant execute on function refuge.decide_approval(uuid, boolean, text) to refuge_supervisor;
grant execute on function refuge.check_overdue(), refuge.seal_audit(), refuge.verify_audit(bigint, text),
    refuge.audit_head() to refuge_supervisor, refuge_admin;
grant execute on function refuge.create_partner(text, text), refuge.assign_partner_staff(name, text) to refuge_admin;
grant execute on function refuge.referred_cases(), refuge.referred_case(uuid, text), refuge.end_referral(uuid, text, text)
    to refuge_partner;
grant execute on function refuge.biometric_templates(uuid, text) to refuge_biometrics_admin;
