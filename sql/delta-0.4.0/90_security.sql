-- Ownership, row-level security, privileges, codes, audit and dump
-- registration of the identity and assistance tables (as in sql/50_rls.sql:
-- NOLOGIN owner, RLS enabled and forced, SELECT-only grants, writes through
-- the SECURITY DEFINER API).

do $own$
declare
    t text;
begin
    foreach t in array array['biometric_exception_reason', 'biometric_capture', 'biometric_enrolment',
        'biometric_finger', 'biometric_iris', 'biometric_exception', 'biometric_vault', 'vault_access',
        'biometric_verification', 'biometric_identification', 'dedup_case', 'dedup_candidate', 'dedup_cleared_pair',
        'fraud_case', 'fraud_alert', 'assistance_plan', 'assistance_cycle', 'entitlement', 'collector', 'distribution_event',
        'collection']
    loop
        execute format('alter table refuge.%I owner to refuge_owner', t);
        execute format('alter table refuge.%I enable row level security', t);
        execute format('alter table refuge.%I force row level security', t);
        execute format('create policy owner_all on refuge.%I for all to refuge_owner using (true) with check (true)', t);
    end loop;
end
$own$;

-- The new vocabulary: readable by every refuge role, guarded like the others.
grant select on refuge.biometric_exception_reason to refuge_registration, refuge_supervisor, refuge_analyst,
    refuge_admin, refuge_biometrics, refuge_biometrics_admin, refuge_assistance;
create policy read_all on refuge.biometric_exception_reason for select
    to refuge_registration, refuge_supervisor, refuge_analyst, refuge_admin, refuge_biometrics,
       refuge_biometrics_admin, refuge_assistance
    using (true);
create trigger vocab_guard before delete or update of code on refuge.biometric_exception_reason
    for each row execute function refuge.vocab_guard();
create trigger vocab_changed after insert or update on refuge.biometric_exception_reason
    for each statement execute function refuge.vocab_changed();
create trigger check_codes before insert or update on refuge.biometric_exception
    for each row execute function refuge.check_codes('reason', 'biometric_exception_reason');

-- The new roles read what every refuge role reads (vocabularies, operations,
-- sites): the tables given a read_all policy by sql/50_rls.sql.
do $public$
declare
    t name;
begin
    for t in select p.tablename from pg_catalog.pg_policies p
              where p.schemaname = 'refuge' and p.policyname = 'read_all'
                and p.tablename <> 'biometric_exception_reason'
    loop
        execute format('grant select on refuge.%I to refuge_biometrics, refuge_biometrics_admin, refuge_assistance', t);
        execute format('create policy read_identity_roles on refuge.%I for select
                        to refuge_biometrics, refuge_biometrics_admin, refuge_assistance using (true)', t);
    end loop;
end
$public$;

-- Field staff of the operation (or site): enrolment status and exceptions,
-- verifications, assistance.  HQ biometrics administrators: all of
-- identity management.  Supervisors: adjudication (merge approval), fraud.
-- Templates and captures: HQ only.  The vault: nobody (vault_image()).
do $policies$
declare
    t record;
begin
    for t in select * from (values
        ('biometric_enrolment', 'refuge_registration, refuge_supervisor, refuge_biometrics, refuge_assistance', true),
        ('biometric_exception', 'refuge_registration, refuge_supervisor, refuge_biometrics', true),
        ('biometric_verification', 'refuge_supervisor, refuge_biometrics, refuge_assistance', true),
        ('biometric_identification', 'refuge_supervisor, refuge_biometrics', true),
        ('dedup_case', 'refuge_supervisor', true),
        ('fraud_alert', 'refuge_supervisor', true),
        ('fraud_case', 'refuge_supervisor', true),
        ('biometric_capture', null, true),
        ('biometric_finger', null, true),
        ('biometric_iris', null, true),
        ('vault_access', null, true),
        ('dedup_candidate', null, true),
        ('dedup_cleared_pair', null, true),
        ('entitlement', 'refuge_assistance, refuge_supervisor', false),
        ('collector', 'refuge_assistance, refuge_supervisor', false),
        ('collection', 'refuge_assistance, refuge_supervisor', false),
        ('distribution_event', 'refuge_assistance, refuge_supervisor', false),
        ('assistance_plan', 'refuge_assistance, refuge_supervisor', false),
        ('assistance_cycle', 'refuge_assistance, refuge_supervisor', false)) as v(tab, staff, hq)
    loop
        if t.staff is not null then
            execute format('grant select on refuge.%I to %s', t.tab, t.staff);
            if exists (select 1 from pg_catalog.pg_attribute a where a.attrelid = format('refuge.%I', t.tab)::regclass
                        and a.attname = 'site_id') then
                execute format('create policy staff_read on refuge.%I for select to %s
                                using (operation_id = any ((select refuge.scope_operations())::uuid[])
                                       or site_id = any ((select refuge.scope_sites())::uuid[]))', t.tab, t.staff);
            else
                execute format('create policy staff_read on refuge.%I for select to %s
                                using (operation_id = any ((select refuge.scope_operations())::uuid[]))', t.tab, t.staff);
            end if;
        end if;
        if t.hq then
            execute format('grant select on refuge.%I to refuge_biometrics_admin', t.tab);
            execute format('create policy hq_read on refuge.%I for select to refuge_biometrics_admin using (true)', t.tab);
        end if;
    end loop;
end
$policies$;

-- Supervisors approving a merge see the candidates of the cases of their operations.
grant select on refuge.dedup_candidate to refuge_supervisor;
create policy supervisor_read on refuge.dedup_candidate for select to refuge_supervisor
    using (exists (select 1 from refuge.dedup_case c where c.id = dedup_candidate.case_id));

-- Stamps and audit.  Templates and sealed images are recorded in the audit
-- trail only as size and digest (trigger arguments after the first).
do $attach$
declare
    t record;
begin
    for t in select * from (values
        ('biometric_capture', array['self', 'fingers', 'irises']),
        ('biometric_enrolment', array['self']),
        ('biometric_finger', array['individual', 'template']),
        ('biometric_iris', array['individual', 'template']),
        ('biometric_exception', array['self']),
        ('biometric_vault', array['individual', 'sealed']),
        ('vault_access', array['individual']),
        ('biometric_verification', array['self']),
        ('biometric_identification', array['self']),
        ('dedup_case', array['self']),
        ('dedup_candidate', array['none']),
        ('dedup_cleared_pair', array['none']),
        ('fraud_case', array['self']),
        ('fraud_alert', array['self']),
        ('assistance_plan', array['self']),
        ('assistance_cycle', array['self']),
        ('entitlement', array['self']),
        ('collector', array['self']),
        ('distribution_event', array['self']),
        ('collection', array['self']),
        ('biometric_exception_reason', array['none'])) as v(tab, args)
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

-- Alerts, access logs and cleared pairs are history: never edited, never deleted.
create function refuge.append_only() returns trigger
    language plpgsql
as $$
begin
    if current_setting('row_security') = 'off' then
        return null;   -- restoring a dump: let pg_restore manage the table
    end if;
    raise exception using errcode = '42501',
        message = format('%s is append-only: rows are never %s', tg_table_name,
                         case tg_op when 'DELETE' then 'deleted' else 'changed' end);
end
$$;
create trigger append_only before update or delete on refuge.vault_access
    for each row execute function refuge.append_only();
create trigger append_only before update or delete on refuge.dedup_cleared_pair
    for each row execute function refuge.append_only();
create trigger append_only before update or delete on refuge.biometric_verification
    for each row execute function refuge.append_only();
create trigger append_only before update or delete on refuge.biometric_identification
    for each row execute function refuge.append_only();
create trigger append_only before delete on refuge.biometric_capture
    for each row execute function refuge.append_only();

-- pg_dump keeps the data of these extension tables (vocabulary: local codes only).
do $dump$
declare
    t text;
begin
    foreach t in array array['biometric_capture', 'biometric_enrolment', 'biometric_finger', 'biometric_iris',
        'biometric_exception', 'biometric_vault', 'vault_access', 'biometric_verification', 'biometric_identification',
        'dedup_case',
        'dedup_candidate', 'dedup_cleared_pair', 'fraud_case', 'fraud_alert', 'assistance_plan',
        'assistance_cycle', 'entitlement', 'collector', 'distribution_event', 'collection']
    loop
        perform pg_catalog.pg_extension_config_dump(format('refuge.%I', t)::regclass, '');
    end loop;
end
$dump$;
select pg_catalog.pg_extension_config_dump('refuge.biometric_exception_reason', 'where not shipped');
select pg_catalog.pg_extension_config_dump('refuge.biometric_enrolment_seq', '');
select pg_catalog.pg_extension_config_dump('refuge.vault_access_id_seq', '');

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
    to refuge_biometrics, refuge_biometrics_admin, refuge_assistance;
grant execute on function refuge.enrol_biometrics(uuid, jsonb) to refuge_biometrics;
grant execute on function refuge.verify(uuid, jsonb) to refuge_biometrics, refuge_assistance;
grant execute on function refuge.identify(jsonb, text, text, integer) to refuge_biometrics, refuge_biometrics_admin;
grant execute on function refuge.adjudicate(uuid, text, uuid, text), refuge.vault_image(uuid, text),
    refuge.vault_contents(uuid) to refuge_biometrics_admin;
grant execute on function refuge.approve_merge(uuid, boolean, text) to refuge_supervisor;
grant execute on function refuge.create_assistance_plan(jsonb), refuge.open_assistance_cycle(uuid, date, date),
    refuge.authorise_collector(uuid, uuid, text, date), refuge.open_distribution(uuid, text, date),
    refuge.collect(uuid, uuid, uuid, jsonb) to refuge_assistance;
-- pure functions anyone in refuge may use for analysis
grant execute on function refuge.fused_threshold(double precision, double precision, integer),
    refuge.fused_fpir(double precision, integer, double precision), refuge.dedup_settings()
    to refuge_biometrics, refuge_biometrics_admin, refuge_assistance, refuge_supervisor, refuge_analyst;
grant execute on function refuge.person_match(refuge.fingerprint[], refuge.iris[], refuge.fingerprint[], refuge.iris[])
    to refuge_biometrics_admin;

-- Who is being enrolled, verified or served: operators and assistance staff
-- see the people and families of their operations; HQ adjudicators see every
-- record they may have to compare.
grant select on refuge.individual, refuge.registration_group, refuge.group_membership
    to refuge_biometrics, refuge_assistance, refuge_biometrics_admin;
create policy identity_staff_read on refuge.individual for select to refuge_biometrics, refuge_assistance
    using (operation_id = any ((select refuge.scope_operations())::uuid[])
           or site_id = any ((select refuge.scope_sites())::uuid[]));
create policy identity_staff_read on refuge.registration_group for select to refuge_biometrics, refuge_assistance
    using (operation_id = any ((select refuge.scope_operations())::uuid[])
           or site_id = any ((select refuge.scope_sites())::uuid[]));
create policy identity_staff_read on refuge.group_membership for select to refuge_biometrics, refuge_assistance
    using (exists (select 1 from refuge.individual i where i.id = group_membership.individual_id));
create policy hq_read on refuge.individual for select to refuge_biometrics_admin using (true);
create policy hq_read on refuge.registration_group for select to refuge_biometrics_admin using (true);
create policy hq_read on refuge.group_membership for select to refuge_biometrics_admin using (true);
-- synthetic biometrics are training material: anyone in refuge may generate them
grant execute on function refuge.synthetic_templates(bigint, bigint, integer),
    refuge.synthetic_fingerprint(bigint, bigint, integer), refuge.synthetic_iris(bigint, bigint, integer)
    to refuge_registration, refuge_supervisor, refuge_biometrics, refuge_biometrics_admin, refuge_assistance;
