#!/usr/bin/env bash
# Writes sql/upgrade/refuge--0.10.0--0.11.0.sql from the sources (until 0.11.0
# is released; then the script is history and this file goes with it).
set -eu
cd "$(dirname "$0")/../.."
{
cat <<'HEAD'
-- refuge 0.10.0 -> 0.11.0: demographic deduplication and names across
-- scripts (canonical names, phonetic keys, blocking, a Fellegi-Sunter score
-- with thresholds from a target false-candidate rate, the check at
-- registration, demographic adjudication cases, tracing on the same engine)
\echo Use "ALTER EXTENSION refuge UPDATE TO '0.11.0'" to load this file. \quit

HEAD
cat sql/tools/upgrade-0.11.0-head.sql
python3 sql/tools/gen_upgrade.py --part sql/82_demographic.sql \
  --part functions/43_demographic.sql \
  --replace functions/30_registration.sql:register_group --replace functions/30_registration.sql:add_individual \
  --replace functions/30_registration.sql:update_individual \
  --replace functions/41_identity.sql:enrol_biometrics --replace functions/41_identity.sql:adjudicate \
  --replace functions/41_identity.sql:approve_merge --replace functions/60_cases.sql:tracing_matches \
  --tables match_profile,match_block,match_weight,match_model
cat sql/tools/upgrade-0.11.0-tail.sql
# the replaced functions' new comments
python3 - <<'PY'
import re
for path, name in [('functions/41_identity.sql', 'adjudicate'), ('functions/60_cases.sql', 'tracing_matches')]:
    m = re.search(r'^comment on function refuge\.%s\(.*?;\n' % name, open(path).read(), re.M | re.S)
    print(m.group(0), end='')
PY
} > sql/upgrade/refuge--0.10.0--0.11.0.sql
