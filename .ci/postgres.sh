# Source this file (bash): it makes sure a local PostgreSQL is installed and running, creates
# the `exportgate` role and database, and exports EXPORTGATE_TEST_POSTGRES_URL for the ledger's
# conformance, workload and tamper tests. Idempotent: safe to source again.
#   source .ci/postgres.sh && cargo test -p exportgate-store
# Only loopback is used. The password is a throwaway for a local test cluster.

eg_pg_log() { echo "postgres.sh: $*" >&2; }

eg_pg_setup() {
    if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
        eg_pg_log "installing postgresql from Debian packages"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null && apt-get install -y -qq postgresql postgresql-contrib >/dev/null || {
            eg_pg_log "could not install postgresql"; return 1; }
    fi
    local version
    version=$(ls /usr/lib/postgresql | sort -n | tail -1)
    if command -v pg_lsclusters >/dev/null 2>&1; then
        if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$version main"; then
            pg_createcluster "$version" main >/dev/null || return 1
        fi
        if ! pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $4}' | grep -qx online; then
            pg_ctlcluster "$version" main start || return 1
        fi
    else
        local data=/var/lib/postgresql/eg-data
        if [ ! -d "$data" ]; then
            mkdir -p "$data" && chown postgres:postgres "$data"
            su postgres -c "/usr/lib/postgresql/$version/bin/initdb -D $data" >/dev/null || return 1
        fi
        su postgres -c "/usr/lib/postgresql/$version/bin/pg_ctl -D $data -l $data/log -w status" >/dev/null 2>&1 ||
            su postgres -c "/usr/lib/postgresql/$version/bin/pg_ctl -D $data -l $data/log -w start" >/dev/null || return 1
    fi
    local port
    port=$(pg_lsclusters -h 2>/dev/null | awk -v v="$version" '$1==v && $2=="main" {print $3}')
    port=${port:-5432}
    for _ in $(seq 1 30); do
        su postgres -c "psql -p $port -qAtc 'SELECT 1'" >/dev/null 2>&1 && break
        sleep 1
    done
    su postgres -c "psql -p $port -qAtc \"SELECT 1 FROM pg_roles WHERE rolname = 'exportgate'\"" | grep -q 1 ||
        su postgres -c "psql -p $port -qc \"CREATE ROLE exportgate LOGIN PASSWORD 'exportgate'\"" || return 1
    su postgres -c "psql -p $port -qAtc \"SELECT 1 FROM pg_database WHERE datname = 'exportgate_test'\"" | grep -q 1 ||
        su postgres -c "psql -p $port -qc 'CREATE DATABASE exportgate_test OWNER exportgate'" || return 1
    export EXPORTGATE_TEST_POSTGRES_URL="postgres://exportgate:exportgate@127.0.0.1:$port/exportgate_test"
    eg_pg_log "EXPORTGATE_TEST_POSTGRES_URL=postgres://exportgate:***@127.0.0.1:$port/exportgate_test"
}

eg_pg_setup || eg_pg_log "PostgreSQL setup failed; the PostgreSQL tests will not run"
