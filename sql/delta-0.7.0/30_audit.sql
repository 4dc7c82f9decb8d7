-- The audit trail is read as narrowly as the rows it describes.  Each audit
-- row carries the class of its table (refuge.audit_scope) and, for case
-- records, the case's module and operation; policies give supervisors the
-- registration, identity, assistance and access-log rows of their
-- operations and the case rows of the modules they work there, biometrics
-- administrators the biometric rows, administrators the configuration.
-- Case note text is recorded only as size and digest.
--
-- And it is harder to silence or forge: TRUNCATE is refused on every
-- table; audit, stamp and append-only triggers are ENABLE ALWAYS (so
-- session_replication_role = replica does not switch them off); loads
-- with row_security = off (pg_restore, a superuser's COPY) are recorded
-- per statement in refuge.audit_bulk_load and updates and deletes are
-- audited row by row whatever the settings; an audit row is dated by the
-- transaction that writes it; the chain's length is remembered so that a
-- removed tail is reported; rows dated before the seal that preceded them
-- are reported as back-dated.

create table refuge.audit_scope (
    table_name       text primary key,
    class            text not null check (class in ('registration', 'identity', 'biometric', 'assistance', 'case',
                                                    'access_log', 'config'))
);
comment on table refuge.audit_scope is 'the class of each audited table, which decides who may read its audit rows';
insert into refuge.audit_scope (table_name, class)
select t, 'registration' from unnest(array['registration_group', 'individual', 'group_membership', 'individual_name',
    'individual_nationality', 'individual_language', 'individual_education', 'individual_occupation',
    'individual_contact', 'individual_address', 'flight_leg', 'document', 'photo', 'specific_need']) t
union all
select t, 'identity' from unnest(array['biometric_enrolment', 'biometric_exception', 'biometric_verification',
    'biometric_identification', 'dedup_case', 'fraud_case', 'fraud_alert']) t
union all
select t, 'biometric' from unnest(array['biometric_capture', 'biometric_finger', 'biometric_iris', 'biometric_vault',
    'vault_access', 'dedup_candidate', 'dedup_cleared_pair']) t
union all
select t, 'assistance' from unnest(array['assistance_plan', 'assistance_cycle', 'entitlement', 'collector',
    'distribution_event', 'collection']) t
union all
select t, 'case' from unnest(array['process_case', 'case_member', 'case_event', 'case_approval', 'case_alert',
    'case_note', 'case_document', 'case_link', 'gbv_incident', 'case_transfer', 'case_referral']) t
union all
select t, 'access_log' from unnest(array['sensitive_read']) t
union all
select t, 'config' from unnest(array['operation', 'site', 'staff', 'staff_assignment', 'country', 'language', 'script',
    'sex', 'relationship', 'marital_status', 'education_level', 'education_degree', 'address_type',
    'language_proficiency', 'religion', 'ethnicity', 'occupation', 'population_type', 'age_bracket',
    'specific_need_category', 'specific_need_code', 'registration_level', 'date_precision', 'document_type',
    'flight_reason', 'contact_type', 'individual_status', 'group_status', 'site_type', 'biometric_exception_reason',
    'case_module', 'workflow_state', 'workflow_transition', 'referral_field', 'vulnerability_factor',
    'partner_organisation', 'partner_staff', 'progres_code']) t;

alter table refuge.audit_log add column class text, add column module text;
comment on column refuge.audit_log.class is 'class of the table the row describes (refuge.audit_scope): who may read it';
comment on column refuge.audit_log.module is 'case module, for rows that describe case records';

-- Rows written before 0.7.0: their class and, for case records, the module
-- of their case (columns outside the chain; the chained ones are left as
-- they are, so a case record's row without an operation stays readable by
-- superusers only).
alter table refuge.audit_log disable trigger append_only;
update refuge.audit_log a
   set class = coalesce(s.class, 'restricted'),
       module = c.module
  from refuge.audit_log x
  left join refuge.audit_scope s on s.table_name = x.table_name
  left join refuge.process_case c
         on s.class = 'case'
        and c.id = coalesce((coalesce(x.new_data, x.old_data) ->> 'case_id')::uuid,
                            case when x.table_name = 'process_case' then x.row_id end)
 where x.id = a.id;
alter table refuge.audit_log enable trigger append_only;
alter table refuge.audit_log alter column class set not null;
create index audit_log_class on refuge.audit_log (class, operation_id, at);

-- Loads with row_security = off, one row per statement and table.
create table refuge.audit_bulk_load (
    id               uuid primary key default gen_random_uuid(),
    at               timestamptz not null default now(),
    txid             bigint not null default txid_current(),
    actor            name not null,
    table_name       text not null,
    rows             bigint not null,
    sha256           bytea not null
);
comment on table refuge.audit_bulk_load is 'loads with row security off (pg_restore, a superuser''s COPY): who, when, which table, how many rows and the SHA-256 of their values';
alter table refuge.audit_bulk_load owner to refuge_owner;
alter table refuge.audit_bulk_load enable row level security;
alter table refuge.audit_bulk_load force row level security;
create policy owner_all on refuge.audit_bulk_load for all to refuge_owner using (true) with check (true);
grant select on refuge.audit_bulk_load to refuge_admin;
create policy admin_read on refuge.audit_bulk_load for select to refuge_admin using (true);
select pg_catalog.pg_extension_config_dump('refuge.audit_bulk_load', '');

-- The length the chain has reached (a removed tail is reported).
create sequence refuge.audit_chain_length minvalue 0 start 0;
alter sequence refuge.audit_chain_length owner to refuge_owner;
select pg_catalog.setval('refuge.audit_chain_length', coalesce((select max(seq) from refuge.audit_seal), 0), true);
select pg_catalog.pg_extension_config_dump('refuge.audit_chain_length', '');

create function refuge.audit_guard() returns trigger
    language c
    as 'MODULE_PATHNAME', 'refuge_audit_guard';
create function refuge.refuse_truncate() returns trigger
    language c
    as 'MODULE_PATHNAME', 'refuge_refuse_truncate';

create trigger guard before insert on refuge.audit_log
    for each row execute function refuge.audit_guard();
create trigger audit_flush after insert on refuge.audit_log
    for each statement execute function refuge.audit_flush();
create trigger append_only before update or delete on refuge.audit_bulk_load
    for each row execute function refuge.append_only();

-- Append-only means append-only, whatever row_security says.
create or replace function refuge.append_only() returns trigger
    language plpgsql
as $$
begin
    raise exception using errcode = '42501',
        message = format('%s is append-only: rows are never %s', tg_table_name,
                         case tg_op when 'DELETE' then 'deleted' else 'changed' end);
end
$$;

-- Case note text: size and digest only (notes are read through read_case_note).
drop trigger audit on refuge.case_note;
create trigger audit after insert or update or delete on refuge.case_note
    for each row execute function refuge.audit_row('none', 'sealed', 'body');

-- TRUNCATE refused everywhere; the audit triggers fire in every replication role.
do $guard$
declare
    t record;
begin
    for t in select c.relname from pg_catalog.pg_class c
              where c.relnamespace = 'refuge'::regnamespace and c.relkind in ('r', 'p')
    loop
        execute format('create trigger no_truncate before truncate on refuge.%I
                        for each statement execute function refuge.refuse_truncate()', t.relname);
    end loop;
    for t in select g.tgrelid::regclass as rel, g.tgname from pg_catalog.pg_trigger g
              join pg_catalog.pg_class c on c.oid = g.tgrelid
             where c.relnamespace = 'refuge'::regnamespace and not g.tgisinternal
               and g.tgname in ('stamp', 'audit', 'audit_flush', 'append_only', 'guard', 'no_truncate')
    loop
        execute format('alter table %s enable always trigger %I', t.rel, t.tgname);
    end loop;
end
$guard$;

-- Who reads which audit rows.
drop policy supervisor_read on refuge.audit_log;
drop policy admin_read on refuge.audit_log;
grant select on refuge.audit_log to refuge_biometrics_admin;
create policy supervisor_read on refuge.audit_log for select to refuge_supervisor
    using (operation_id = any ((select refuge.scope_operations())::uuid[])
           and ((module is null and class in ('registration', 'identity', 'assistance', 'access_log', 'config'))
                or module = any ((select refuge.caller_modules())::text[])));
create policy admin_read on refuge.audit_log for select to refuge_admin
    using (class = 'config');
create policy biometrics_read on refuge.audit_log for select to refuge_biometrics_admin
    using (class in ('identity', 'biometric'));
