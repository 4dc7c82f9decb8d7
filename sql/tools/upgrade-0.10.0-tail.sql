alter sequence refuge.document_serial_seq owner to refuge_owner;
revoke all on sequence refuge.document_serial_seq from public;

-- collection refusals of closed records
alter table refuge.collection drop constraint collection_refusal_check;
alter table refuge.collection add constraint collection_refusal_check
    check (refusal in ('not_authorised', 'verification_failed', 'not_enrolled', 'already_collected', 'global_check_pending',
                       'entitlement_cancelled', 'collector_not_active'));

-- history begins with this release: one period per person, from registration
insert into refuge.status_history (individual_id, operation_id, site_id, status, population_type, valid_from, reason,
                                   source, actor, sync_owner)
select i.id, i.operation_id, i.site_id, i.status, i.population_type, least(i.registration_date, current_date),
       i.status_reason, 'UPGRADE', current_user, i.sync_owner
  from refuge.individual i;

-- the new tables join replication as functions/90_sync.sql joins every table
do $sync_wiring$
declare
    t refuge.sync_table;
    checked boolean;
begin
    for t in select * from refuge.sync_table
              where table_name in ('status_history', 'status_rule', 'document_kind', 'document_key', 'issued_document',
                                   'pre_registration', 'level_requirement', 'appointment_slot', 'appointment',
                                   'verification_exercise', 'verification_subject', 'individual_relative')
              order by table_name loop
        checked := exists (select 1 from pg_catalog.pg_index i
                            where i.indrelid = ('refuge.' || quote_ident(t.table_name))::regclass
                              and i.indisunique and not i.indisprimary);
        if t.kind = 'personal' then
            execute format('create trigger sync_local before insert or update or delete on refuge.%I
                            for each row execute function refuge.sync_row_local(%L, %L, %L, %L)',
                           t.table_name, t.route, coalesce(t.parent_table, ''), coalesce(t.parent_key, ''), t.shared);
        else
            execute format('create trigger sync_local before insert or update or delete on refuge.%I
                            for each row execute function refuge.sync_reference_local()', t.table_name);
        end if;
        execute format('create trigger a_sync_apply before insert or update or delete on refuge.%I
                        for each row execute function refuge.sync_row_apply(%L, %L)',
                       t.table_name, case when checked then 'checked' else 'direct' end,
                       case when t.shared then 'shared' else '' end);
        execute format('alter table refuge.%I enable replica trigger a_sync_apply', t.table_name);
    end loop;
end
$sync_wiring$;

do $security$
declare
    r record;
begin
    for r in select p.oid::regprocedure as fn from pg_catalog.pg_proc p
              where p.pronamespace = 'refuge'::regnamespace
    loop
        execute format('alter function %s owner to refuge_owner', r.fn);
    end loop;
end
$security$;
revoke all on all functions in schema refuge, refuge_warehouse from public;

do $audit$
declare
    t record;
begin
    for t in select * from (values
        ('status_history', array['self'], false),
        ('status_rule', array['none'], false),
        ('issued_document', array['self'], true),
        ('document_kind', array['none'], false),
        ('document_key', array['none'], false),
        ('pre_registration', array['self'], true),
        ('level_requirement', array['none'], false),
        ('appointment_slot', array['self'], true),
        ('appointment', array['self'], true),
        ('verification_exercise', array['self'], true),
        ('verification_subject', array['self'], false),
        ('individual_relative', array['individual'], true)) v(tab, audit_args, stamped)
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
