# Helpers for shell suites: TAP-style "ok"/"not ok" lines, run by test/run-all.sh
# with PGHOST/PGPORT/PGUSER pointing at the throwaway cluster.
N=0
ok() {      # ok CONDITION-EXIT-STATUS DESCRIPTION
    N=$((N + 1))
    if [ "$1" -eq 0 ]; then echo "ok $N - $2"; else echo "not ok $N - $2"; fi
}
is() {      # is GOT WANT DESCRIPTION
    N=$((N + 1))
    if [ "$1" = "$2" ]; then echo "ok $N - $3"; else echo "not ok $N - $3"; echo "#   got:  $1"; echo "#   want: $2"; fi
}
q() { psql -X -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }
fresh_db() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -c "drop database if exists $1" -c "create database $1" >/dev/null; }
