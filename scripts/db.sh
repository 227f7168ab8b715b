# Sourced by run.sh and test.sh: `parley_db NAME [--fresh]` makes sure a PostgreSQL server is
# reachable and exports DATABASE_URL for database NAME (created if missing; dropped and
# created again with --fresh).
#
# When DATABASE_URL was set by the caller, it is used as is for everything. Otherwise this starts the embedded
# default: a private PostgreSQL 15 cluster for this checkout. Its data lives under /var/tmp
# (the postgres user must be able to traverse every parent folder, which a checkout under a
# private home folder does not allow), linked from the git-ignored .data/ folder. The port is
# derived from the checkout's path, so two checkouts never collide, nor with a server on 5432.

PARLEY_USER_DATABASE_URL="${DATABASE_URL:-}"

parley_db() {
    local db_name="$1" fresh="${2:-}"
    if [ -n "$PARLEY_USER_DATABASE_URL" ]; then
        echo "==> using DATABASE_URL from the environment"
        export DATABASE_URL="$PARLEY_USER_DATABASE_URL"
        return 0
    fi
    local root bin hash port dir
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    bin=/usr/lib/postgresql/15/bin
    hash="$(printf '%s' "$root" | cksum | cut -d' ' -f1)"
    port=$((54000 + hash % 1000))
    dir="/var/tmp/parley-pg-$hash"

    as_pg() {
        if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
    }

    if [ ! -s "$dir/data/PG_VERSION" ]; then
        echo "==> creating a private PostgreSQL cluster in $dir (port $port)"
        rm -rf "$dir"
        if [ "$(id -u)" = 0 ]; then install -d -o postgres -g postgres "$dir"; else mkdir -p "$dir"; fi
        as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/../parley-initdb-$hash.log" 2>&1 \
            || { cat "$dir/../parley-initdb-$hash.log"; return 1; }
    fi
    mkdir -p "$root/.data"
    ln -sfn "$dir" "$root/.data/pg"

    if as_pg "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        # Already running (an earlier run): on the port it was started with.
        port="$(sed -n 4p "$dir/data/postmaster.pid")"
    else
        # Two checkouts' paths can derive the same port (one in a thousand): take the next
        # free one rather than fail.
        local tries=0
        while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
            tries=$((tries + 1))
            [ "$tries" -lt 100 ] || { echo "no free port near $port" >&2; return 1; }
            port=$((port + 1))
        done
        echo "==> starting PostgreSQL on 127.0.0.1:$port"
        as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
            -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null \
            || { tail -n 20 "$dir/server.log"; return 1; }
        PARLEY_PG_STARTED=1
    fi
    PARLEY_PG_DIR="$dir"
    PARLEY_PG_PORT="$port"
    local admin="postgres://postgres@127.0.0.1:$port/postgres"
    if [ "$fresh" = --fresh ]; then
        psql "$admin" -qc "DROP DATABASE IF EXISTS \"$db_name\" WITH (FORCE)" >/dev/null
    fi
    if ! psql "$admin" -tAc "SELECT 1 FROM pg_database WHERE datname = '$db_name'" | grep -q 1; then
        psql "$admin" -qc "CREATE DATABASE \"$db_name\"" >/dev/null
    fi
    # The first version kept its tables unprefixed under sqlx's default migrations table; the
    # chat's tables are now `chat_*` under `chat_migrations` and the demo's accounts are its
    # own. A local database of that version holds only demo data: start it afresh.
    if psql "postgres://postgres@127.0.0.1:$port/$db_name" -tAc \
        "SELECT 1 FROM pg_tables WHERE tablename = '_sqlx_migrations'" 2>/dev/null | grep -q 1 \
        && psql "postgres://postgres@127.0.0.1:$port/$db_name" -tAc \
        "SELECT 1 FROM _sqlx_migrations WHERE version = 20261128000001" 2>/dev/null | grep -q 1; then
        echo "==> $db_name holds the first version's schema (demo data only): recreating it"
        psql "$admin" -qc "DROP DATABASE \"$db_name\" WITH (FORCE)" >/dev/null
        psql "$admin" -qc "CREATE DATABASE \"$db_name\"" >/dev/null
    fi
    export DATABASE_URL="postgres://postgres@127.0.0.1:$port/$db_name"
    echo "==> DATABASE_URL=$DATABASE_URL"
}

# Applies the chat's and the demo's migrations to $DATABASE_URL with sqlx-cli, for the
# compile-time query checks (`cargo sqlx prepare`). The servers apply their own at start-up,
# each with its own migrations table; here both go to sqlx-cli's, hence --ignore-missing.
parley_db_schema() {
    cargo sqlx migrate run --source migrations --ignore-missing
    cargo sqlx migrate run --source demo/migrations --ignore-missing
}

# Stops the private cluster, if this shell started it.
parley_db_stop() {
    if [ -n "${PARLEY_PG_STARTED:-}" ] && [ -n "${PARLEY_PG_DIR:-}" ]; then
        if [ "$(id -u)" = 0 ]; then
            runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$PARLEY_PG_DIR/data" -m fast stop >/dev/null 2>&1 || true
        else
            /usr/lib/postgresql/15/bin/pg_ctl -D "$PARLEY_PG_DIR/data" -m fast stop >/dev/null 2>&1 || true
        fi
    fi
}
