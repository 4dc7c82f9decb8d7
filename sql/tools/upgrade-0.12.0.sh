#!/usr/bin/env bash
# Writes sql/upgrade/refuge--0.11.0--0.12.0.sql from the sources (until 0.12.0
# is released; then the script is history and this file goes with it).
set -eu
cd "$(dirname "$0")/../.."
{
cat <<'HEAD'
-- refuge 0.11.0 -> 0.12.0: value-specific name weights in the demographic
-- comparison (how many people share the name a pair agrees on); processing
-- purposes, consent and information notices, data-sharing agreements named
-- by every referral and eRRF export
\echo Use "ALTER EXTENSION refuge UPDATE TO '0.12.0'" to load this file. \quit

-- signatures that change: match_levels (a SQL-standard body) depends on
-- early_levels, so it goes first
drop function refuge.match_levels(uuid, uuid);
drop function refuge.early_levels(refuge.match_profile, refuge.individual, refuge.match_profile, refuge.individual);
drop function refuge.demographic_blocked(refuge.match_profile, integer, integer);
-- a referral and an export name their agreement now
drop function refuge.refer_case(uuid, text, text[], text, date);
drop function refuge.rrf_pdf(uuid);
drop function refuge.rrf_json(uuid);
drop function refuge.rrf_xml(uuid);
drop function refuge.rrf_case(uuid, text);
-- subject access requests and microdata extracts are logged reads
alter table refuge.sensitive_read drop constraint sensitive_read_kind_check;
alter table refuge.sensitive_read add constraint sensitive_read_kind_check
    check (kind in ('case_note', 'case_document', 'gbv_incident', 'case_detail', 'referral', 'biometric_templates',
                    'tracing_search', 'vulnerability_assessment', 'rrf', 'document_match', 'possible_duplicates',
                    'subject_access', 'microdata_extract'));

HEAD
python3 sql/tools/gen_upgrade.py \
  --part sql/84_data_protection.sql --part functions/45_data_protection.sql --part reports/50_microdata.sql \
  --new functions/62_sharing.sql:refer_case --new reports/40_errf.sql:rrf_case --new reports/40_errf.sql:rrf_xml \
  --new reports/40_errf.sql:rrf_json --new reports/40_errf.sql:rrf_pdf \
  --replace functions/62_sharing.sql:referred_cases --replace functions/62_sharing.sql:referred_case \
  --replace functions/60_cases.sql:open_case --replace functions/50_assistance.sql:collect \
  --replace functions/41_identity.sql:enrol_biometrics --replace functions/61_case_records.sql:set_gbv_consent --replace functions/61_case_records.sql:record_gbv_incident \
  --tables processing_purpose,purpose_legal_basis,consent,information_notice,sharing_agreement,retention_rule,retention_setting,retention_run \
  --new functions/43_demographic.sql:demographic_blocked --new functions/43_demographic.sql:shared_namesakes \
  --new functions/43_demographic.sql:name_level_by_frequency --new functions/43_demographic.sql:early_levels \
  --new functions/43_demographic.sql:match_levels \
  --replace functions/43_demographic.sql:default_match_weights --replace functions/43_demographic.sql:birth_date_level \
  --replace functions/43_demographic.sql:match_rate_curve \
  --replace functions/43_demographic.sql:demographic_search_many \
  --replace functions/43_demographic.sql:estimate_match_model_from \
  --replace functions/60_cases.sql:tracing_matches
cat <<'TAIL'
-- how sql/99_security.sql audits the new tables
create trigger stamp before insert or update on refuge.consent for each row execute function refuge.stamp_row();
create trigger stamp before insert or update on refuge.information_notice for each row execute function refuge.stamp_row();
create trigger stamp before insert or update on refuge.sharing_agreement for each row execute function refuge.stamp_row();
create trigger stamp before insert or update on refuge.purpose_legal_basis for each row execute function refuge.stamp_row();
alter table refuge.purpose_legal_basis enable always trigger stamp;
create trigger audit after insert or update or delete on refuge.purpose_legal_basis for each row execute function refuge.audit_row('none');
create trigger audit_flush after insert or update or delete on refuge.purpose_legal_basis for each statement execute function refuge.audit_flush();
alter table refuge.purpose_legal_basis enable always trigger audit;
alter table refuge.purpose_legal_basis enable always trigger audit_flush;
create trigger audit after insert or update or delete on refuge.retention_rule for each row execute function refuge.audit_row('none');
create trigger audit_flush after insert or update or delete on refuge.retention_rule for each statement execute function refuge.audit_flush();
alter table refuge.retention_rule enable always trigger audit;
alter table refuge.retention_rule enable always trigger audit_flush;
create trigger stamp before insert or update on refuge.retention_setting for each row execute function refuge.stamp_row();
alter table refuge.retention_setting enable always trigger stamp;
create trigger audit after insert or update or delete on refuge.retention_setting for each row execute function refuge.audit_row('none');
create trigger audit_flush after insert or update or delete on refuge.retention_setting for each statement execute function refuge.audit_flush();
alter table refuge.retention_setting enable always trigger audit;
alter table refuge.retention_setting enable always trigger audit_flush;
-- the reference tables join replication (functions/90_sync.sql's wiring); a
-- field site's publication takes them when refuge.add_site runs again
create trigger sync_local before insert or update or delete on refuge.processing_purpose
    for each row execute function refuge.sync_reference_local();
create trigger sync_local before insert or update or delete on refuge.purpose_legal_basis
    for each row execute function refuge.sync_reference_local();
create trigger sync_local before insert or update or delete on refuge.sharing_agreement
    for each row execute function refuge.sync_reference_local();
create trigger a_sync_apply before insert or update or delete on refuge.processing_purpose
    for each row execute function refuge.sync_row_apply('direct', '');
create trigger a_sync_apply before insert or update or delete on refuge.purpose_legal_basis
    for each row execute function refuge.sync_row_apply('direct', '');
create trigger a_sync_apply before insert or update or delete on refuge.sharing_agreement
    for each row execute function refuge.sync_row_apply('checked', '');
alter table refuge.processing_purpose enable replica trigger a_sync_apply;
alter table refuge.purpose_legal_basis enable replica trigger a_sync_apply;
alter table refuge.sharing_agreement enable replica trigger a_sync_apply;
alter table refuge.consent enable always trigger stamp;
alter table refuge.information_notice enable always trigger stamp;
alter table refuge.sharing_agreement enable always trigger stamp;
create trigger audit after insert or update or delete on refuge.consent for each row execute function refuge.audit_row('individual');
create trigger audit after insert or update or delete on refuge.information_notice for each row execute function refuge.audit_row('individual');
create trigger audit after insert or update or delete on refuge.processing_purpose for each row execute function refuge.audit_row('none');
create trigger audit after insert or update or delete on refuge.sharing_agreement for each row execute function refuge.audit_row('none');
create trigger audit_flush after insert or update or delete on refuge.consent for each statement execute function refuge.audit_flush();
create trigger audit_flush after insert or update or delete on refuge.information_notice for each statement execute function refuge.audit_flush();
create trigger audit_flush after insert or update or delete on refuge.processing_purpose for each statement execute function refuge.audit_flush();
create trigger audit_flush after insert or update or delete on refuge.sharing_agreement for each statement execute function refuge.audit_flush();
alter table refuge.consent enable always trigger audit;
alter table refuge.information_notice enable always trigger audit;
alter table refuge.processing_purpose enable always trigger audit;
alter table refuge.sharing_agreement enable always trigger audit;
alter table refuge.consent enable always trigger audit_flush;
alter table refuge.information_notice enable always trigger audit_flush;
alter table refuge.processing_purpose enable always trigger audit_flush;
alter table refuge.sharing_agreement enable always trigger audit_flush;

-- the warehouse's new tables as sql/99_security.sql makes them
alter table refuge_warehouse.microdata_extract owner to refuge_owner;
alter table refuge_warehouse.microdata_record owner to refuge_owner;
revoke all on table refuge_warehouse.microdata_extract from public;
revoke all on table refuge_warehouse.microdata_record from public;
alter table refuge_warehouse.microdata_extract enable row level security;
alter table refuge_warehouse.microdata_extract force row level security;
alter table refuge_warehouse.microdata_record enable row level security;
alter table refuge_warehouse.microdata_record force row level security;
create policy owner_all on refuge_warehouse.microdata_extract for all to refuge_owner using (true) with check (true);
create policy owner_all on refuge_warehouse.microdata_record for all to refuge_owner using (true) with check (true);

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

-- A model estimated here under 0.11.0 has no frequency levels and its
-- levels 4 and 5 meant every frequency: the shipped model is in force
-- until the DBA estimates again.
do $$
begin
    if exists (select 1 from refuge.match_weight) then
        delete from refuge.match_weight;
        delete from refuge.match_model;
        raise notice 'refuge 0.12.0: the demographic model estimated here predates name frequencies; the shipped model is in force until refuge.estimate_match_model() runs again';
    end if;
end
$$;
TAIL
} > sql/upgrade/refuge--0.11.0--0.12.0.sql
