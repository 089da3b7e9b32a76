# Source this file (bash): it makes sure a local PostgreSQL is installed and running, creates
# the `exportgate` role and database, and exports EXPORTGATE_TEST_POSTGRES_URL for the ledger's
# conformance, workload and tamper tests. Idempotent: safe to source again.
#   source .ci/postgres.sh && cargo test -p exportgate-store
# Only loopback is used. The password is a throwaway for a local test cluster.

eg_pg_log() { echo "postgres.sh: $*" >&2; }

# Root runs commands directly; anyone else through sudo (as scripts/browser-setup.sh does).
if [ "$(id -u)" -eq 0 ]; then EG_PG_SUDO=(); else EG_PG_SUDO=(sudo); fi
eg_pg_as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then su postgres -c "$1"; else sudo -u postgres sh -c "$1"; fi
}

eg_pg_setup() {
    if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
        eg_pg_log "installing postgresql from Debian packages"
        export DEBIAN_FRONTEND=noninteractive
        "${EG_PG_SUDO[@]}" apt-get update -qq >/dev/null &&
            "${EG_PG_SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-contrib >/dev/null || {
            eg_pg_log "could not install postgresql"; return 1; }
    fi
    local version
    version=$(ls /usr/lib/postgresql | sort -n | tail -1)
    if command -v pg_lsclusters >/dev/null 2>&1; then
        if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$version main"; then
            "${EG_PG_SUDO[@]}" pg_createcluster "$version" main >/dev/null || return 1
        fi
        if ! pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $4}' | grep -qx online; then
            "${EG_PG_SUDO[@]}" pg_ctlcluster "$version" main start || return 1
        fi
    else
        local data=/var/lib/postgresql/eg-data
        if [ ! -d "$data" ]; then
            "${EG_PG_SUDO[@]}" mkdir -p "$data" && "${EG_PG_SUDO[@]}" chown postgres:postgres "$data"
            eg_pg_as_postgres "/usr/lib/postgresql/$version/bin/initdb -D $data" >/dev/null || return 1
        fi
        eg_pg_as_postgres "/usr/lib/postgresql/$version/bin/pg_ctl -D $data -l $data/log -w status" >/dev/null 2>&1 ||
            eg_pg_as_postgres "/usr/lib/postgresql/$version/bin/pg_ctl -D $data -l $data/log -w start" >/dev/null || return 1
    fi
    local port
    port=$(pg_lsclusters -h 2>/dev/null | awk -v v="$version" '$1==v && $2=="main" {print $3}')
    port=${port:-5432}
    for _ in $(seq 1 30); do
        eg_pg_as_postgres "psql -p $port -qAtc 'SELECT 1'" >/dev/null 2>&1 && break
        sleep 1
    done
    eg_pg_as_postgres "psql -p $port -qAtc \"SELECT 1 FROM pg_roles WHERE rolname = 'exportgate'\"" | grep -q 1 ||
        eg_pg_as_postgres "psql -p $port -qc \"CREATE ROLE exportgate LOGIN PASSWORD 'exportgate'\"" || return 1
    eg_pg_as_postgres "psql -p $port -qAtc \"SELECT 1 FROM pg_database WHERE datname = 'exportgate_test'\"" | grep -q 1 ||
        eg_pg_as_postgres "psql -p $port -qc 'CREATE DATABASE exportgate_test OWNER exportgate'" || return 1
    export EXPORTGATE_TEST_POSTGRES_URL="postgres://exportgate:exportgate@127.0.0.1:$port/exportgate_test"
    eg_pg_log "EXPORTGATE_TEST_POSTGRES_URL=postgres://exportgate:***@127.0.0.1:$port/exportgate_test"
}

# Drops the schemas that earlier test runs left in the test database (each PostgreSQL test
# works in a schema of its own and drops it, but a run that was killed cannot). Only the
# throwaway `exportgate_test` database is touched.
eg_pg_clean_test_schemas() {
    [ -n "${EXPORTGATE_TEST_POSTGRES_URL:-}" ] || return 0
    local schemas
    schemas=$(psql "$EXPORTGATE_TEST_POSTGRES_URL" -qAtc "SELECT quote_ident(nspname) FROM pg_namespace
        WHERE nspowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)
          AND nspname <> 'public' AND nspname NOT LIKE 'pg\\_%'" 2>/dev/null) || return 0
    [ -n "$schemas" ] || return 0
    local count=0 schema
    for schema in $schemas; do
        psql "$EXPORTGATE_TEST_POSTGRES_URL" -qc "DROP SCHEMA $schema CASCADE" >/dev/null 2>&1 && count=$((count + 1))
    done
    eg_pg_log "dropped $count test schemas left by earlier runs"
}

eg_pg_setup || eg_pg_log "PostgreSQL setup failed; the PostgreSQL tests will not run"
