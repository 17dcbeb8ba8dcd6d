#!/usr/bin/env bash
# A throw-away PostgreSQL server on 127.0.0.1 for the tuning tests (CI and developers alike).
#
#   url="$(.ci/start_postgres.sh)"        # start (installing Debian's postgresql if absent); prints the URL
#   .ci/start_postgres.sh stop            # stop it and delete its cluster
#
# The cluster lives in $MMHN_PG_DIR (default /tmp/mmhn-postgres-$PORT), listens on 127.0.0.1:$MMHN_PG_PORT
# (default 55432) only, trusts local connections, and holds one database, mmhn_test. initdb refuses
# to run as root, so under root (CI) the server runs as the `postgres` user the Debian package creates.
# Starting twice reuses the running server. Messages go to stderr; stdout is only the URL.
set -euo pipefail

PORT="${MMHN_PG_PORT:-55432}"
DIR="${MMHN_PG_DIR:-/tmp/mmhn-postgres-$PORT}"
DB=mmhn_test
ROLE=mmhn
URL="postgresql://$ROLE@127.0.0.1:$PORT/$DB"

pg_bin() {
    local found
    found="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    if [ -z "$found" ]; then
        echo "start_postgres: installing Debian's postgresql" >&2
        if [ "$(id -u)" -ne 0 ]; then
            echo "start_postgres: postgresql is not installed and this user cannot apt-get install it" >&2
            exit 1
        fi
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
        found="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
    fi
    echo "$found"
}

as_owner() {  # run a command as the cluster's owner (never root)
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

BIN="$(pg_bin)"

if [ "${1:-start}" = "stop" ]; then
    if [ -d "$DIR" ]; then
        as_owner "$BIN/pg_ctl" -D "$DIR/data" -m immediate stop >&2 || true
        rm -rf "$DIR"
    fi
    exit 0
fi

if [ -f "$DIR/data/postmaster.pid" ] && as_owner "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
    echo "start_postgres: reusing the server in $DIR" >&2
    echo "$URL"
    exit 0
fi

rm -rf "$DIR"
mkdir -p "$DIR"
[ "$(id -u)" -eq 0 ] && chown postgres: "$DIR"
as_owner "$BIN/initdb" -D "$DIR/data" -U "$ROLE" --auth=trust --encoding=UTF8 --no-locale >"$DIR.initdb.log" 2>&1 \
    || { cat "$DIR.initdb.log" >&2; exit 1; }
as_owner "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=off -c max_connections=200" start >&2 \
    || { cat "$DIR/server.log" >&2; exit 1; }
as_owner "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U "$ROLE" "$DB" >&2
echo "start_postgres: PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT ($DIR)" >&2
echo "$URL"
