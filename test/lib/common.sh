# Shared set-up for the README commands (make demo, make test): packages,
# build, install, and a throwaway cluster in an ignored folder of the checkout.
# Source it; it defines functions and sets PGHOST/PGPORT/PGUSER.

set -o pipefail

REFUGE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

# Debian packages the build, the tests and the demo need.
REFUGE_PACKAGES="postgresql-15 postgresql-server-dev-15 postgresql-15-postgis-3 postgresql-15-pgtap
 libtap-parser-sourcehandler-pgtap-perl libipc-run-perl libssl-dev libhpdf-dev clang libclang-rt-14-dev
 libxml2-utils poppler-utils iso-codes make gcc postgresql-15-cron libpng-dev libjpeg-dev libicu-dev python3
 libqrencode-dev libfribidi-dev fonts-noto-core zbar-tools"

log() { printf '== %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

ensure_packages() {
    local missing=() p
    for p in $REFUGE_PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        die "missing Debian packages (run as root or install them): ${missing[*]}"
    fi
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null || die "apt-get update failed"
    # the packaged server must not start a system cluster we would then leave running
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
        REFUGE_REMOVE_POLICY=1
    fi
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null || die "apt-get install failed"
    [ -n "${REFUGE_REMOVE_POLICY:-}" ] && rm -f /usr/sbin/policy-rc.d
    return 0
}

# Build with warnings as errors and install into the PostgreSQL 15 tree.
build_install() {
    log "building refuge"
    make -C "$REFUGE_ROOT" -s PG_CONFIG="$PGBIN/pg_config" \
        PG_CFLAGS="-Wall -Wextra -Werror -Wno-unused-parameter -Wno-sign-compare -Wno-missing-field-initializers" \
        >/dev/null || die "build failed"
    if [ "$(id -u)" -eq 0 ] || [ -w "$("$PGBIN/pg_config" --pkglibdir)" ]; then
        make -C "$REFUGE_ROOT" -s PG_CONFIG="$PGBIN/pg_config" install >/dev/null || die "install failed"
    else
        sudo make -C "$REFUGE_ROOT" -s PG_CONFIG="$PGBIN/pg_config" install >/dev/null || die "install failed"
    fi
}

# Run a server command as the cluster owner (the server refuses to run as root).
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        # from /: the checkout may be a folder the postgres user cannot enter
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

# cluster_start NAME PORT: initdb (first time) in $REFUGE_ROOT/.NAME, or in
# /tmp when the postgres user cannot reach the checkout, and start it on a
# private unix socket.  Sets PGHOST, PGPORT, PGUSER, REFUGE_CLUSTER.
cluster_start() {
    local name=$1 port=$2 dir
    dir="$REFUGE_ROOT/.$name"
    mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$dir"
        if ! runuser -u postgres -- test -w "$dir"; then
            dir="/tmp/refuge-$name-$(printf '%s' "$REFUGE_ROOT" | md5sum | cut -c1-8)"
            mkdir -p "$dir" && chown postgres: "$dir"
            log "postgres cannot reach the checkout; cluster lives in $dir"
        fi
    fi
    REFUGE_CLUSTER=$dir
    export PGHOST="$dir/socket" PGPORT=$port PGUSER=postgres PGDATABASE=postgres
    as_owner mkdir -p "$dir/socket"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        log "initdb $dir/data"
        as_owner "$PGBIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null \
            || die "initdb failed"
    fi
    if as_owner "$PGBIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        # refuge is preloaded: a server started before the library was
        # installed keeps the old one until it restarts
        if [ "$("$PGBIN/pg_config" --pkglibdir)/refuge.so" -nt "$dir/data/postmaster.pid" ]; then
            log "restarting the cluster on $dir: refuge.so is newer than the server"
            as_owner "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
        else
            return 0
        fi
    fi
    log "starting cluster on socket $PGHOST port $PGPORT"
    as_owner "$PGBIN/pg_ctl" -D "$dir/data" -w -t 60 -l "$dir/server.log" \
        -o "-p $port -k $dir/socket -c listen_addresses='' -c max_connections=60 -c shared_buffers=512MB -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_prepared_transactions=10 -c shared_preload_libraries=${REFUGE_PRELOAD:-refuge} -c max_worker_processes=16 -c log_min_error_statement=panic ${REFUGE_SERVER_OPTS:-}" \
        start >/dev/null || { tail -20 "$dir/server.log" >&2; die "server did not start"; }
}

cluster_stop() {
    [ -n "${REFUGE_CLUSTER:-}" ] || return 0
    as_owner "$PGBIN/pg_ctl" -D "$REFUGE_CLUSTER/data" -m fast -w stop >/dev/null 2>&1 || true
}

# timed_sql DB SQL: wall-clock seconds of one psql call (benchmarks)
timed_sql() {
    local s e
    s=$(date +%s.%N); psql -qXAt -d "$1" -c "$2" >/dev/null || die "failed: $2"; e=$(date +%s.%N)
    awk -v a="$e" -v b="$s" 'BEGIN {printf "%.2f", a - b}'
}
