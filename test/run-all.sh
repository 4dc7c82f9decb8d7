#!/usr/bin/env bash
# The README test command (make test): sets itself up on a fresh Debian 12
# machine, builds and installs refuge, starts a throwaway cluster, runs every
# suite, stops the cluster and ends with "N passed, N failed".
set -u
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$REFUGE_ROOT"

PASSED=0
FAILED=0
FAILURES=()
OUT="$REFUGE_ROOT/.run"
mkdir -p "$OUT"

# each suite's seconds: from the log line that announces it to its count
SUITE_START=$SECONDS
log() { SUITE_START=$SECONDS; printf '== %s\n' "$*" >&2; }

count() {   # count SUITE PASSED FAILED
    PASSED=$((PASSED + $2))
    FAILED=$((FAILED + $3))
    printf '   %-30s %4d passed, %d failed  (%d s)\n' "$1" "$2" "$3" $((SECONDS - SUITE_START))
    [ "$3" -eq 0 ] || FAILURES+=("$1")
}

tally() {   # tally SUITE LOG EXIT-STATUS: count a TAP log's "ok N"/"not ok N" lines
    local p f
    p=$(grep -cE '^ok [0-9]+' "$2" || true)
    f=$(grep -cE '^not ok [0-9]+' "$2" || true)
    # a runner that failed without a failing assertion (crash, missed plan) fails
    if [ "$3" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    count "$1" "$p" "$f"
    [ "$f" -eq 0 ]
}

ensure_packages
build_install
cluster_start cluster "${REFUGE_TEST_PORT:-54329}"
trap cluster_stop EXIT

# 1. pg_regress and isolation suites (test/sql, test/specs)
log "pg_regress and isolation suites"
make -s installcheck PG_CONFIG="$PGBIN/pg_config" > "$OUT/installcheck.log" 2>&1
p=$(grep -cE '\.\.\. ok' "$OUT/installcheck.log" || true)
f=$(grep -cE '\.\.\. FAILED|\.\.\. failed' "$OUT/installcheck.log" || true)
if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; fi   # the runner itself failed
count "pg_regress+isolation" "$p" "$f"
if [ "$f" -ne 0 ]; then
    tail -20 "$OUT/installcheck.log"
    [ -f regression.diffs ] && head -150 regression.diffs
    [ -f output_iso/regression.diffs ] && head -150 output_iso/regression.diffs
fi

# 1b. the same pg_regress suites against a database created at the oldest
# release and updated (each suite's reinstall goes through the updates too)
log "pg_regress suites on a database updated from the oldest release"
make -s installcheck-upgraded PG_CONFIG="$PGBIN/pg_config" > "$OUT/installcheck-upgraded.log" 2>&1
p=$(grep -cE '\.\.\. ok' "$OUT/installcheck-upgraded.log" || true)
f=$(grep -cE '\.\.\. FAILED|\.\.\. failed' "$OUT/installcheck-upgraded.log" || true)
if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; fi
count "pg_regress (updated database)" "$p" "$f"
if [ "$f" -ne 0 ]; then
    tail -20 "$OUT/installcheck-upgraded.log"
    [ -f regression.diffs ] && head -100 regression.diffs
fi

# 2. pgTAP suites (test/pgtap), each file in a rolled-back transaction
log "pgTAP suites"
PGOPTIONS="-c client_min_messages=warning" psql -qX -v ON_ERROR_STOP=1 -c "drop database if exists refuge_tap" -c "create database refuge_tap" >/dev/null
psql -qX -v ON_ERROR_STOP=1 -d refuge_tap -c "create extension pgtap" -c "create extension refuge cascade" \
    >/dev/null 2>"$OUT/pgtap-setup.log" || { cat "$OUT/pgtap-setup.log"; }
pg_prove -v -d refuge_tap --pset tuples_only=1 test/pgtap/*.sql > "$OUT/pgtap.log" 2>&1
p=$(grep -cE '^ *ok [0-9]+' "$OUT/pgtap.log" || true)
f=$(grep -cE '^ *not ok [0-9]+' "$OUT/pgtap.log" || true)
# a file that died or missed its plan fails even if no assertion did
if ! grep -q '^Result: PASS' "$OUT/pgtap.log" && [ "$f" -eq 0 ]; then f=1; fi
count "pgTAP" "$p" "$f"
[ "$f" -eq 0 ] || grep -E 'not ok|^#|Dubious|Failed|ERROR|Parse errors|Bad plan' "$OUT/pgtap.log" | head -60

# 3. matcher unit tests (test/matcher), built optimised and with ASan/UBSan
log "matcher unit tests"
make -s -C test/matcher check > "$OUT/matcher.log" 2>&1
tally "matcher" "$OUT/matcher.log" $? || grep -E 'not ok|^#|error|ERROR|Sanitizer' "$OUT/matcher.log" | head -40

# 4. fuzzers: replay the saved corpora, then fuzz each target briefly
log "fuzz targets (corpus replay, ${REFUGE_FUZZ_SECONDS:-10} s each)"
make -s -C test/matcher fuzz-check FUZZ_SECONDS="${REFUGE_FUZZ_SECONDS:-10}" > "$OUT/fuzz.log" 2>&1
tally "fuzz" "$OUT/fuzz.log" $? || tail -30 "$OUT/fuzz.log"

# 5. shell suites (test/shell): upgrade, dump/restore, ... ("ok"/"not ok" lines)
for t in test/shell/*.sh; do
    name=$(basename "$t" .sh)
    log "shell suite $name"
    bash "$t" > "$OUT/$name.log" 2>&1
    tally "$name" "$OUT/$name.log" $? || tail -30 "$OUT/$name.log"
done

# 6. Perl TAP suites (test/t, PostgreSQL::Test::Cluster): each makes its own
# clusters, so they run as the postgres user from a copy it can read
log "Perl TAP suites"
TAPDIR=$(mktemp -d /tmp/refuge-tap.XXXXXX)
cp -r test/t "$TAPDIR/" && cp README.md "$TAPDIR/" && chown -R postgres "$TAPDIR"
( cd "$TAPDIR" && runuser -u postgres -- env PATH="$PGBIN:$PATH" TESTDIR="$TAPDIR" REFUGE_README="$TAPDIR/README.md" \
      PG_REGRESS="$("$PGBIN/pg_config" --pgxs | xargs dirname)/../test/regress/pg_regress" \
      prove -v -I "$("$PGBIN/pg_config" --pgxs | xargs dirname)/../test/perl" t/*.pl ) > "$OUT/tap.log" 2>&1
tally "perl TAP" "$OUT/tap.log" $? || { tail -30 "$OUT/tap.log"; cp -r "$TAPDIR/tmp_check/log" "$OUT/tap-log" 2>/dev/null; }
rm -rf "$TAPDIR"

cluster_stop
trap - EXIT
if [ ${#FAILURES[@]} -ne 0 ]; then
    echo "failing suites: ${FAILURES[*]} (logs in .run/)"
fi
echo "(all suites: $SECONDS s)"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
