#!/usr/bin/env bash
# Writes sql/upgrade/refuge--0.12.0--0.13.0.sql from the sources (until 0.13.0
# is released; then the script is history and this file goes with it).
set -eu
cd "$(dirname "$0")/../.."
{
cat <<'HEAD'
-- refuge 0.12.0 -> 0.13.0: a key per person sealing their values in the
-- audit trail, and erasure at the person's request (refuge.erase_individual)
\echo Use "ALTER EXTENSION refuge UPDATE TO '0.13.0'" to load this file. \quit

-- the HXL export is for publication: it names an agreement with the public
drop function refuge.hxl_population_csv(integer, integer);
alter table refuge.sharing_agreement drop constraint sharing_agreement_party_kind_check;
alter table refuge.sharing_agreement add constraint sharing_agreement_party_kind_check
    check (party_kind in ('PARTNER', 'GOVERNMENT', 'RESETTLEMENT_STATE', 'RESEARCHER', 'PUBLIC'));
insert into refuge.processing_purpose (code, label, legal_basis, sharing, description, shipped) values
  ('STATISTICS', 'Publication of aggregate statistics', 'PUBLIC_INTEREST', true,
   'aggregated figures with small cells suppressed (the HXL export), under an agreement', true);

-- consents and notices replicate with the person's record (a field site's
-- publications take them when refuge.add_field_site runs again at HQ)
alter table refuge.consent add column sync_owner text not null default refuge.local_node(),
                           add column sync_operation uuid;
alter table refuge.information_notice add column sync_owner text not null default refuge.local_node(),
                                      add column sync_operation uuid;
update refuge.consent c set sync_operation = i.operation_id from refuge.individual i where i.id = c.individual_id;
update refuge.information_notice n set sync_operation = i.operation_id from refuge.individual i where i.id = n.individual_id;
alter table refuge.consent replica identity full;
alter table refuge.information_notice replica identity full;
insert into refuge.sync_table (table_name, kind, up, down, route, parent_table, parent_key, shared) values
    ('consent', 'personal', true, true, 'sync_operation', 'individual', 'individual_id', false),
    ('information_notice', 'personal', true, true, 'sync_operation', 'individual', 'individual_id', false);
create trigger sync_local before insert or update or delete on refuge.consent
    for each row execute function refuge.sync_row_local('sync_operation', 'individual', 'individual_id', 'f');
create trigger sync_local before insert or update or delete on refuge.information_notice
    for each row execute function refuge.sync_row_local('sync_operation', 'individual', 'individual_id', 'f');
create trigger a_sync_apply before insert or update or delete on refuge.consent
    for each row execute function refuge.sync_row_apply('direct', '');
create trigger a_sync_apply before insert or update or delete on refuge.information_notice
    for each row execute function refuge.sync_row_apply('direct', '');
alter table refuge.consent enable replica trigger a_sync_apply;
alter table refuge.information_notice enable replica trigger a_sync_apply;

HEAD
# the record of publications (sql/84_data_protection.sql)
python3 - <<'PY'
src = open('sql/84_data_protection.sql', encoding='utf-8').read()
start = src.index('-- Aggregate statistics handed out for publication')
print(src[start:src.index("-- Consents and notices go where", start)])
PY
python3 sql/tools/gen_upgrade.py \
  --part sql/86_erasure.sql --part functions/46_erasure.sql \
  --tables person_key,erasure,publication,vault_key_retired \
  --replace sql/15_audit.sql:append_only \
  --replace functions/45_data_protection.sql:shareable_fields --replace functions/45_data_protection.sql:define_agreement \
  --new functions/45_data_protection.sql:statistics_agreement --new reports/30_hxl_pyramid.sql:hxl_population_csv \
  --new functions/42_vault.sql:rotate_vault_key \
  --replace functions/45_data_protection.sql:person_in_reach --replace functions/41_identity.sql:adjudicate \
  --replace functions/41_identity.sql:approve_merge --replace functions/65_lifecycle.sql:apply_status_rules
cat <<'TAIL'
-- how sql/99_security.sql audits the new table
create trigger stamp before insert or update on refuge.erasure for each row execute function refuge.stamp_row();
alter table refuge.erasure enable always trigger stamp;
create trigger audit after insert or update or delete on refuge.erasure for each row execute function refuge.audit_row('self');
create trigger audit_flush after insert or update or delete on refuge.erasure for each statement execute function refuge.audit_flush();
alter table refuge.erasure enable always trigger audit;
alter table refuge.erasure enable always trigger audit_flush;
-- values requested of another node or in conflict are kept in the audit as digests
drop trigger audit on refuge.sync_change;
drop trigger audit on refuge.sync_conflict;
create trigger audit after insert or update or delete on refuge.sync_change for each row execute function refuge.audit_row('self', 'old_values', 'new_values');
create trigger audit after insert or update or delete on refuge.sync_conflict for each row execute function refuge.audit_row('self', 'kept_values', 'lost_values', 'base_values');
alter table refuge.sync_change enable always trigger audit;
alter table refuge.sync_conflict enable always trigger audit;
-- a reader's purpose is kept in the audit as a digest (it can name the person)
drop trigger audit on refuge.sensitive_read;
drop trigger audit on refuge.vault_access;
create trigger audit after insert or update or delete on refuge.sensitive_read for each row execute function refuge.audit_row('self', 'purpose');
create trigger audit after insert or update or delete on refuge.vault_access for each row execute function refuge.audit_row('individual', 'purpose');
alter table refuge.sensitive_read enable always trigger audit;
alter table refuge.vault_access enable always trigger audit;
-- replication requests and conflicts of consents and notices are not for supervisors
drop policy scope_read on refuge.sync_change;
drop policy scope_read on refuge.sync_conflict;
create policy scope_read on refuge.sync_change for select to refuge_supervisor, refuge_admin
    using (operation_id = any ((select refuge.scope_operations())::uuid[])
           and table_name not in ('consent', 'information_notice'));
create policy scope_read on refuge.sync_conflict for select to refuge_supervisor, refuge_admin
    using (operation_id = any ((select refuge.scope_operations())::uuid[])
           and table_name not in ('consent', 'information_notice'));
-- erasures replicate both ways (functions/90_sync.sql's wiring); a field
-- site's publications take the table when refuge.add_site runs again
create trigger sync_local before insert or update or delete on refuge.erasure
    for each row execute function refuge.sync_row_local('operation_id', '', '', 'f');
create trigger a_sync_apply before insert or update or delete on refuge.erasure
    for each row execute function refuge.sync_row_apply('checked', '');
alter table refuge.erasure enable replica trigger a_sync_apply;

-- every function owned by refuge_owner, none executable by PUBLIC (as sql/99_security.sql)
do $$
declare
    r record;
begin
    for r in select p.oid::regprocedure as fn from pg_catalog.pg_proc p
              where p.pronamespace in ('refuge'::regnamespace, 'refuge_warehouse'::regnamespace)
                and pg_catalog.pg_get_userbyid(p.proowner) <> 'refuge_owner'
    loop
        execute format('alter function %s owner to refuge_owner', r.fn);
    end loop;
end
$$;
revoke all on all functions in schema refuge, refuge_warehouse from public;
TAIL
} > sql/upgrade/refuge--0.12.0--0.13.0.sql
