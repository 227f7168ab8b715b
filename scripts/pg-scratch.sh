#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster that a test may stop and start at will (the database
# outage test). Usage: pg-scratch.sh start DIR PORT | stop DIR | remove DIR
# DIR must be traversable by the postgres user (e.g. under /var/tmp) when run as root.
set -euo pipefail
bin=/usr/lib/postgresql/15/bin
as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case "$1" in
    start)
        dir="$2" port="$3"
        if [ ! -s "$dir/data/PG_VERSION" ]; then
            if [ "$(id -u)" = 0 ]; then install -d -o postgres -g postgres "$dir"; else mkdir -p "$dir"; fi
            as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1
        fi
        as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
            -o "-p $port -k $dir -c listen_addresses=127.0.0.1" start >/dev/null
        ;;
    stop)
        as_pg "$bin/pg_ctl" -D "$2/data" -m fast -w stop >/dev/null
        ;;
    remove)
        as_pg "$bin/pg_ctl" -D "$2/data" -m immediate -w stop >/dev/null 2>&1 || true
        rm -rf "$2"
        ;;
esac
