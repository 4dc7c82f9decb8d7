#!/usr/bin/env bash
# Writes sql/upgrade/refuge--0.9.0--0.10.0.sql from the sources (until 0.10.0
# is released; then the script is history and this file goes with it).
set -eu
cd "$(dirname "$0")/../.."
{
cat <<'EOF'
-- refuge 0.9.0 -> 0.10.0: the record over a refugee's life (status that
-- follows decisions, with a dated history; registration levels as data and
-- group pre-registration) and documents issued to refugees with a signed QR code
\echo Use "ALTER EXTENSION refuge UPDATE TO '0.10.0'" to load this file. \quit

EOF
python3 sql/tools/gen_upgrade.py --part sql/75_lifecycle.sql --part sql/77_verification.sql --part sql/79_relatives.sql \
  --part sql/80_documents.sql \
  --replace functions/30_registration.sql:register_group --replace functions/30_registration.sql:add_individual \
  --replace functions/30_registration.sql:update_individual --replace functions/30_registration.sql:decide_status_change \
  --replace functions/41_identity.sql:approve_merge --replace functions/50_assistance.sql:collect \
  --replace functions/60_cases.sql:apply_transition --replace functions/80_warehouse.sql:snapshot \
  --replace functions/60_cases.sql:open_case --replace functions/60_cases.sql:add_case_member \
  --replace functions/63_rrf_import.sql:import_rrf --replace reports/40_errf.sql:rrf_xml \
  --new functions/42_vault.sql:vault_open_logged --replace functions/42_vault.sql:vault_image \
  --replace reports/40_errf.sql:rrf_photo --new functions/30_registration.sql:original_script_name \
  --replace reports/40_errf.sql:rrf_json --replace reports/40_errf.sql:rrf_pdf \
  --part functions/65_lifecycle.sql --part functions/66_verification.sql --part functions/67_relatives.sql \
  --part functions/95_documents.sql \
  --tables status_history,status_rule,document_kind,document_key,issued_document,pre_registration,level_requirement,appointment_slot,appointment,verification_exercise,verification_subject,individual_relative
cat sql/tools/upgrade-0.10.0-tail.sql
} > sql/upgrade/refuge--0.9.0--0.10.0.sql
