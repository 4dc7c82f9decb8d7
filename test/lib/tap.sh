# Helpers for shell suites: TAP-style "ok"/"not ok" lines, run by test/run-all.sh
# with PGHOST/PGPORT/PGUSER pointing at the throwaway cluster.
N=0
ok() {      # ok CONDITION-EXIT-STATUS DESCRIPTION
    N=$((N + 1))
    if [ "$1" -eq 0 ]; then echo "ok $N - $2"; else echo "not ok $N - $2"; fi
}
is() {      # is GOT WANT DESCRIPTION
    N=$((N + 1))
    if [ "$1" = "$2" ]; then echo "ok $N - $3"; else echo "not ok $N - $3"; echo "#   got:  $1"; echo "#   want: $2"; return 1; fi
}
q() { psql -X -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }
fresh_db() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -c "drop database if exists $1" -c "create database $1" >/dev/null; }
# A vault key file for tests (a fixed key, 0600, readable by the server).
test_vault_key() {
    local f=$1
    printf '%s' 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f > "$f"
    chmod 600 "$f"
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$f"; fi
}
