-- What every table and function of the extension shares, in one place:
-- owned by refuge_owner (NOLOGIN), row-level security enabled and forced
-- with the owner's policy (SECURITY DEFINER functions run as the owner and
-- authorise the caller themselves), TRUNCATE refused, no EXECUTE for
-- PUBLIC; and how each table is audited.
do $security$
declare
    r record;
begin
    for r in select c.oid::regclass as rel, c.relkind, c.relnamespace = 'refuge'::regnamespace as own_schema
               from pg_catalog.pg_class c
              where c.relnamespace in ('refuge'::regnamespace, 'refuge_warehouse'::regnamespace)
                and c.relkind in ('r', 'p', 'v', 'S') and not c.relispartition
                -- (a sequence owned by a column follows its table)
                and not (c.relkind = 'S' and exists (select 1 from pg_catalog.pg_depend d
                                                        where d.classid = 'pg_catalog.pg_class'::regclass
                                                          and d.objid = c.oid and d.deptype in ('a', 'i')))
              order by c.oid
    loop
        execute format('alter %s %s owner to refuge_owner',
                       case r.relkind when 'v' then 'view' when 'S' then 'sequence' else 'table' end, r.rel);
        -- ALTER OWNER leaves pg_init_privs as the grants were made (by the
        -- installing role); a GRANT or REVOKE records them again, owner
        -- included, so pg_dump prints no REVOKE/GRANT pairs for them
        execute format('revoke all on %s %s from public', case r.relkind when 'S' then 'sequence' else 'table' end, r.rel);
        if r.relkind in ('r', 'p') then
            execute format('alter table %s enable row level security', r.rel);
            execute format('alter table %s force row level security', r.rel);
            execute format('create policy owner_all on %s for all to refuge_owner using (true) with check (true)', r.rel);
        end if;
        if r.relkind in ('r', 'p') and r.own_schema then
            execute format('create trigger no_truncate before truncate on %s
                            for each statement execute function refuge.refuse_truncate()', r.rel);
            execute format('alter table %s enable always trigger no_truncate', r.rel);
        end if;
    end loop;
    for r in select p.oid::regprocedure as fn from pg_catalog.pg_proc p
              where p.pronamespace in ('refuge'::regnamespace, 'refuge_warehouse'::regnamespace)
    loop
        execute format('alter function %s owner to refuge_owner', r.fn);
    end loop;
    for r in select t.oid::regtype as typ from pg_catalog.pg_type t
              where t.typnamespace = 'refuge'::regnamespace and ((t.typtype = 'b' and t.typcategory <> 'A') or (t.typtype = 'c'
                    and exists (select 1 from pg_catalog.pg_class c where c.oid = t.typrelid and c.relkind = 'c')))
    loop
        execute format('alter type %s owner to refuge_owner', r.typ);
    end loop;
end
$security$;
revoke all on all functions in schema refuge, refuge_warehouse from public;

-- How each table is audited: refuge.audit_row(scope, redacted columns...)
-- writes every change (scope: the row is the individual's, its own, or
-- neither; redacted columns are kept as size and digest; '@case': a case
-- file's row, its values sealed under the case's key), refuge.stamp_row
-- keeps who changed a row last; both fire in every replication role.
do $audit$
declare
    t record;
begin
    for t in select * from (values
        ('address_type', array['none'], false),
        ('age_bracket', array['none'], false),
        ('assistance_cycle', array['self'], true),
        ('assistance_plan', array['self'], true),
        ('biometric_capture', array['self', 'fingers', 'irises'], true),
        ('biometric_enrolment', array['self'], true),
        ('biometric_exception', array['self'], true),
        ('biometric_exception_reason', array['none'], false),
        ('biometric_finger', array['individual', 'template'], true),
        ('biometric_identification', array['self'], true),
        ('biometric_iris', array['individual', 'template'], true),
        ('biometric_vault', array['individual', 'sealed'], true),
        ('biometric_verification', array['self'], true),
        ('case_alert', array['self', '@case'], true),
        ('case_approval', array['none', '@case'], true),
        ('case_document', array['none', 'content', 'sealed', '@case'], false),
        ('case_event', array['none', '@case'], false),
        ('case_link', array['none', '@case'], false),
        ('case_member', array['individual'], false),
        ('case_module', array['none'], false),
        ('case_note', array['none', 'sealed', 'body', '@case'], false),
        ('case_referral', array['none', '@case'], true),
        ('case_transfer', array['none', '@case'], true),
        ('collection', array['self'], true),
        ('collector', array['self'], true),
        ('consent', array['individual'], true),
        ('contact_type', array['none'], false),
        ('country', array['none'], false),
        ('date_precision', array['none'], false),
        ('dedup_candidate', array['none'], false),
        ('dedup_case', array['self'], true),
        ('dedup_cleared_pair', array['none'], false),
        ('distribution_event', array['self'], true),
        ('document', array['individual'], true),
        ('document_type', array['none'], false),
        ('gallery_shard', array['none'], false),
        ('education_degree', array['none'], false),
        ('education_level', array['none'], false),
        ('entitlement', array['self'], true),
        ('erasure', array['self'], true),
        ('ethnicity', array['none'], false),
        ('flight_leg', array['individual'], true),
        ('flight_reason', array['none'], false),
        ('fraud_alert', array['self'], true),
        ('fraud_case', array['self'], true),
        ('gbv_incident', array['none', 'sealed', '@case'], true),
        ('group_membership', array['individual'], true),
        ('group_status', array['none'], false),
        ('individual', array['self'], true),
        ('individual_address', array['individual'], true),
        ('individual_contact', array['individual'], true),
        ('individual_education', array['individual'], true),
        ('individual_language', array['individual'], true),
        ('individual_name', array['individual'], true),
        ('individual_nationality', array['individual'], true),
        ('individual_occupation', array['individual'], true),
        ('individual_status', array['none'], false),
        ('information_notice', array['individual'], true),
        ('language', array['none'], false),
        ('language_proficiency', array['none'], false),
        ('marital_status', array['none'], false),
        ('occupation', array['none'], false),
        ('operation', array['self'], true),
        ('partner_organisation', array['none'], true),
        ('partner_staff', array['none'], true),
        ('photo', array['individual'], true),
        ('population_type', array['none'], false),
        ('processing_purpose', array['none'], false),
        ('purpose_legal_basis', array['none'], true),
        ('process_case', array['self', '@case'], true),
        ('progres_code', array['none'], false),
        ('referral_field', array['none'], false),
        ('retention_rule', array['none'], false),
        ('retention_setting', array['none'], true),
        ('registration_group', array['self'], true),
        ('registration_level', array['none'], false),
        ('relationship', array['none'], false),
        ('religion', array['none'], false),
        ('script', array['none'], false),
        -- (a reader's purpose can name the person: kept as a digest)
        ('sensitive_read', array['self', 'purpose'], false),
        ('sex', array['none'], false),
        ('sharing_agreement', array['none'], true),
        -- (values requested or in conflict can be a person's: kept as digests)
        ('sync_change', array['self', 'old_values', 'new_values'], false),
        ('sync_conflict', array['self', 'kept_values', 'lost_values', 'base_values'], true),
        ('sync_local', array['none'], false),
        ('sync_nearby', array['none'], false),
        ('sync_node', array['none'], false),
        ('sync_table', array['none'], false),
        ('global_check', array['self'], false),
        ('site', array['self'], true),
        ('site_type', array['none'], false),
        ('specific_need', array['individual'], true),
        ('specific_need_category', array['none'], false),
        ('specific_need_code', array['none'], false),
        ('staff', array['none'], true),
        ('staff_assignment', array['self'], true),
        ('status_change', array['self'], true),
        ('individual_relative', array['individual'], true),
        ('appointment_slot', array['self'], true),
        ('appointment', array['self'], true),
        ('verification_exercise', array['self'], true),
        ('verification_subject', array['self'], false),
        ('pre_registration', array['self'], true),
        ('level_requirement', array['none'], false),
        ('issued_document', array['self'], true),
        ('document_kind', array['none'], false),
        ('document_key', array['none'], false),
        ('status_history', array['self'], false),
        ('status_rule', array['none'], false),
        ('vault_access', array['individual', 'purpose'], false),
        ('vulnerability_factor', array['none'], false),
        ('workflow_state', array['none'], false),
        ('workflow_transition', array['none'], false)) v(tab, audit_args, stamped)
    loop
        if t.stamped then
            execute format('create trigger stamp before insert or update on refuge.%I
                            for each row execute function refuge.stamp_row()', t.tab);
            execute format('alter table refuge.%I enable always trigger stamp', t.tab);
        end if;
        execute format('create trigger audit after insert or update or delete on refuge.%I
                        for each row execute function refuge.audit_row(%s)', t.tab,
                       (select string_agg(quote_literal(a), ', ') from unnest(t.audit_args) a));
        execute format('create trigger audit_flush after insert or update or delete on refuge.%I
                        for each statement execute function refuge.audit_flush()', t.tab);
        execute format('alter table refuge.%I enable always trigger audit', t.tab);
        execute format('alter table refuge.%I enable always trigger audit_flush', t.tab);
    end loop;
end
$audit$;
