#!/usr/bin/env bash
# The README's first command: on a fresh Debian 12 machine (as root, or as a user with sudo),
# installs what is missing, builds and installs the extension, starts a throwaway PostgreSQL 15
# cluster and walks through applying, inspecting and rolling back the example migrations in
# examples/migrations. The cluster is stopped and removed at the end.
#
#   MS_SKIP_BUILD=1   do not build and install (use the extension already installed)
#   MS_KEEP_CLUSTER=1 keep the cluster's directory after the demo
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

step_no=0
step() {
    step_no=$((step_no + 1))
    printf '\n== %d. %s\n' "$step_no" "$1"
    shift
    local line
    for line in "$@"; do printf '   %s\n' "$line"; done
}
# show SQL: prints the query, then runs it in database demo.
show() {
    printf '\ndemo=# %s\n' "$1"
    "${MS_PSQL[@]}" -d demo -c "$1"
}

step "Installing what is missing" \
     "Debian packages: PostgreSQL 15 server and headers, a C++ compiler, make, Boost headers."
ms_install_deps
echo "   all present."

if [[ -n ${MS_SKIP_BUILD:-} ]]; then
    so=$("$(ms_pg_config)" --pkglibdir)/migrations_schema.so
    step "Building the extension: skipped (MS_SKIP_BUILD is set)" "Using the installed $so."
    [[ -f $so ]] || ms_die "the extension is not installed ($so); run without MS_SKIP_BUILD"
else
    step "Building the extension (make) and installing it into PostgreSQL 15 (make install)"
    ms_build_install
    echo "   installed."
fi

step "Starting a throwaway PostgreSQL 15 cluster" \
     "In a temporary directory, listening only on a Unix socket there; removed when the demo ends."
trap ms_cluster_stop EXIT
ms_cluster_start demo

step "Creating database demo and the extension in it" \
     "CREATE EXTENSION migrations_schema creates schema migrate: its tables and functions."
"${MS_PSQL[@]}" -d postgres -c 'CREATE DATABASE demo'
show 'CREATE EXTENSION migrations_schema'

PGM=(pg_migrate -d demo --dir "$MS_ROOT/examples/migrations")
step "Applying the example migrations with pg_migrate" \
     "pg_migrate, the extension's client, reads the folder (VERSION_name.up.sql and its" \
     ".down.sql: the sqlx / golang-migrate layout), registers every file with" \
     "migrate.register and applies the pending ones in version order (001, 002, 002a, 003," \
     "...), all in one transaction. Every rule is the database's."
for f in "$MS_ROOT"/examples/migrations/*.sql; do echo "     ${f##*/}"; done
printf '\n$ pg_migrate -d demo --dir examples/migrations status\n'
"${PGM[@]}" status
printf '\n$ pg_migrate -d demo --dir examples/migrations up\n'
"${PGM[@]}" up

step "What the database now knows about its migrations" \
     "One row per migration: state, when and by whom it was applied, how long it took, the" \
     "number of statements and the checksum of its up script."
show 'SELECT * FROM migrate.status()'
show '\dtv'

step "Rolling back the newest migration" \
     "pg_migrate down calls migrate.rollback(), which runs the down script of the newest" \
     "applied migration (005: DROP VIEW user_stats) and marks it rolled back."
printf '\n$ pg_migrate -d demo --dir examples/migrations down\n'
"${PGM[@]}" down
show "SELECT to_regclass('user_stats') AS user_stats_view_after_rollback"

step "Status again: 005 is now 'rolled back'" \
     "Its scripts stay stored; pg_migrate up (or SELECT * FROM migrate.apply()) applies it again."
printf '\n$ pg_migrate -d demo --dir examples/migrations status\n'
"${PGM[@]}" status
show 'SELECT version, name, state, applied_by, statements FROM migrate.status()'

step "The history: every apply and rollback, append-only" \
     "UPDATE, DELETE and TRUNCATE on this table are refused."
show 'SELECT * FROM migrate.history ORDER BY id'

step "The database refuses a dangerous migration" \
     "Before any statement runs, apply lints the script on the live catalog. users holds rows," \
     "so dropping one of its columns loses data: an error-level finding refuses the migration," \
     "with the safe way in the error."
"${MS_PSQL[@]}" -d demo -c "INSERT INTO users (email, name) SELECT 'u' || g || '@example.com', 'User ' || g FROM generate_series(1, 3) g" >/dev/null
printf '\ndemo=# %s\n' "SELECT migrate.apply('006', 'ALTER TABLE users DROP COLUMN created_at', name => 'drop created_at')"
"${MS_PSQL[@]}" -v ON_ERROR_STOP=0 -d demo -c "SELECT migrate.apply('006', 'ALTER TABLE users DROP COLUMN created_at', name => 'drop created_at')" 2>&1 || true

step "An override names the rule and says why; it is recorded with the migration" \
     "A line '-- migrate:allow rule -- reason' in the script (or allow => ARRAY[...] in the call)."
show "SELECT migrate.apply('006', E'-- migrate:allow drop-column -- nothing reads created_at since v2\nALTER TABLE users ADD COLUMN signed_up_at timestamptz;\nALTER TABLE users DROP COLUMN created_at', name => 'drop created_at')"
show "SELECT version, state, warnings, overrides FROM migrate.status() WHERE version = '006'"
show "SELECT version, rule, severity, allowed_by, reason FROM migrate.findings('006')"

step "Someone changes the schema by hand, outside migrations" \
     "Every DDL change is recorded in migrate.ddl_audit; migrate.drift() lists the ones" \
     "made outside migrations, and migrate.summary() says the schema drifted."
show 'CREATE INDEX users_signed_up_idx ON users (signed_up_at)'
show 'SELECT id, event, command_tag, object_identity, migration_version AS migration, migration_script AS script, left(statement, 50) AS statement FROM migrate.ddl_audit ORDER BY id DESC LIMIT 4'
show 'SELECT id, command_tag, object_identity, session_user_name, statement FROM migrate.drift()'
show 'SELECT drifted, drift_changes, audit_ok FROM migrate.summary()'

step "The audit is hash-chained" \
     "migrate.verify_audit() recomputes every row's SHA-256 and checks every link."
show 'SELECT * FROM migrate.verify_audit()'

step "Done" "The cluster is stopped and its directory removed now."
