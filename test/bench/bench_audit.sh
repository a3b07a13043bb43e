#!/usr/bin/env bash
# Benchmark: what auditing every DDL statement costs, the extension's audit (migrate.ddl_audit)
# side by side with no auditing, a PL/pgSQL event-trigger audit and pgaudit.
#
#   test/bench/bench_audit.sh     REPS=5, TABLES=2000, BATCH=100, KIND=tables by default
#                                 (env: REPS, TABLES, BATCH, MODES = a subset of the modes below,
#                                 `none` always included)
#
# Workload, one psql session for the whole file (psql -X -q -v ON_ERROR_STOP=1 -f):
#   TABLES x (CREATE TABLE with 5 columns incl. a PK, CREATE INDEX, COMMENT ON TABLE,
#   ALTER TABLE ADD COLUMN), then TABLES x DROP TABLE, BATCH tables per transaction
#   (BEGIN/COMMIT around each batch, so commit cost does not hide the audit):
#   5 x TABLES DDL statements. (ADD COLUMN adds a nullable column: no table rewrite.)
#
# KIND=catalog runs a second workload without any storage (so no file creation or removal in
# the kernel, whose time varies more than the audit costs): TABLES x (CREATE VIEW, CREATE
# FUNCTION, COMMENT ON FUNCTION, ALTER VIEW RENAME COLUMN), then TABLES x DROP VIEW.
#
# Modes:
#   none         no auditing at all.
#   ext          CREATE EXTENSION migrations_schema: its event triggers audit every DDL into
#                migrate.ddl_audit. Server started WITHOUT shared_preload_libraries.
#   ext_preload  the same with shared_preload_libraries=migrations_schema (the extension then
#                takes the exact per-statement text from its ProcessUtility hook).
#   plpgsql      a PL/pgSQL event-trigger audit into a plain table with the same kind of columns
#                (statement time, txid, pid, session/current user, application_name, client
#                address, command tag, object type, schema, identity, classid/objid/objsubid,
#                current_query(), in_extension): ddl_command_end inserts one row per
#                pg_event_trigger_ddl_commands() entry, sql_drop one row per non-temporary
#                pg_event_trigger_dropped_objects() entry, table_rewrite one row; each is a single
#                INSERT ... SELECT into a table with an identity primary key.
#   pgaudit      shared_preload_libraries=pgaudit, CREATE EXTENSION pgaudit,
#                ALTER DATABASE ... SET pgaudit.log = 'ddl' (log lines go to the server log).
#
# Method: one throwaway cluster, default settings except fsync=off (env BENCH_FSYNC=on to
# keep it). Every CREATE INDEX (the primary keys' included) syncs its new file to disk: with
# fsync on, 4 x TABLES fsyncs put the backend in I/O wait and kernel time that varies by more
# than the whole audit costs (backend CPU of identical `none` runs spread 9.5 to 13.6 s on this
# VM); the audit's cost is CPU, and fsync=off removes the same I/O from every mode, as the
# batches of 100 tables per transaction remove the commit cost. Before every measurement it is
# restarted with the mode's shared_preload_libraries (empty for none/ext/plpgsql), so every mode
# starts from the same freshly started server; then a fresh database, the mode's set-up and a
# CHECKPOINT (all untimed), then the timed psql run. One untimed warm-up run of the workload
# comes first. Each repetition runs every mode once, the order rotated from one repetition to
# the next; the report gives medians.
#
# Two figures per run: the wall time of the psql process, and the backend's CPU time
# (user + sys from /proc/<backend pid>/stat, read from inside the same psql session via
# \gset, \setenv and \!). The PASS/OVER verdicts use the BACKEND CPU time: this runs on a
# noisy 2-core VM, where the wall time moves with whatever else the machine does; the CPU time
# covers exactly the work the audit adds to the session (for pgaudit, writing its log lines
# included). Wall-time figures are printed next to them.
#
# Comparisons with `none` are paired by repetition: each mode's ratio CPU(mode) / CPU(none) and
# overhead per DDL statement (CPU(mode) - CPU(none)) / (5 x TABLES) are computed against the
# `none` run of the same repetition, then the median over the repetitions is reported (the
# machine's speed drifts between repetitions more than the audit costs).
#
# Targets (PASS/OVER; this is a benchmark, not a test: exit status 0 either way):
#   (1) ext adds at most 10% to the workload: ratio CPU(ext) / CPU(none) <= 1.10 (the same is
#       shown for ext_preload);
#   (2) ext's overhead is less than half the PL/pgSQL trigger's: overhead(ext) /
#       overhead(plpgsql) < 0.5, both the medians above (the same is shown for ext_preload).
#
# Checks (untimed; a failure aborts with exit 1): the workload leaves no table in public; ext
# modes: migrate.ddl_audit gained rows and `SELECT valid FROM migrate.verify_audit()` returns
# exactly one row, true; plpgsql: its audit table gained rows; pgaudit: the server log got
# 'AUDIT: SESSION' lines during the run; ext_preload/pgaudit: the library is really preloaded.
#
# Installs postgresql-15-pgaudit (and the server/client packages) when missing, like
# ms_install_deps does for the test suites; migrations_schema must already be installed.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REPS=${REPS:-5}
TABLES=${TABLES:-2000}
KIND=${KIND:-tables}
BATCH=${BATCH:-100}
ALL_MODES=(none ext ext_preload plpgsql pgaudit)
read -r -a MODE_LIST <<<"${MODES:-${ALL_MODES[*]}}"
TARGET_RATIO=1.10    # (1) ext / none, backend CPU
TARGET_SHARE=0.5     # (2) overhead(ext) / overhead(plpgsql), backend CPU, strictly below
[[ $REPS =~ ^[1-9][0-9]*$ ]] || ms_die "REPS must be a positive integer (got '$REPS')"
[[ $TABLES =~ ^[1-9][0-9]*$ ]] || ms_die "TABLES must be a positive integer (got '$TABLES')"
[[ $BATCH =~ ^[1-9][0-9]*$ ]] || ms_die "BATCH must be a positive integer (got '$BATCH')"
for m in "${MODE_LIST[@]}"; do
    [[ " ${ALL_MODES[*]} " == *" $m "* ]] || ms_die "unknown mode '$m' in MODES (known: ${ALL_MODES[*]})"
done
[[ " ${MODE_LIST[*]} " == *" none "* ]] || ms_die "MODES must include 'none' (the baseline)"
has_mode() { [[ " ${MODE_LIST[*]} " == *" $1 "* ]]; }
# Every path below is absolute; leave a current directory the server's OS user may not be able
# to enter (pg_ctl run as `postgres` by root would warn about it).
cd /

# The packages this benchmark needs (pgaudit included), installed the way the test suites do.
MS_PACKAGES=(postgresql-15 postgresql-client-15 postgresql-15-pgaudit)
ms_install_deps
[[ -x $(ms_pgbin)/initdb ]] || ms_die "PostgreSQL 15 server binaries not found in $(ms_pgbin)"
SHAREDIR=$("$(ms_pg_config)" --sharedir)
PKGLIBDIR=$("$(ms_pg_config)" --pkglibdir)
if has_mode ext || has_mode ext_preload; then
    [[ -f $SHAREDIR/extension/migrations_schema.control ]] ||
        ms_die "migrations_schema is not installed (no $SHAREDIR/extension/migrations_schema.control): build and install it first"
fi
if has_mode pgaudit; then
    [[ -f $PKGLIBDIR/pgaudit.so ]] || ms_die "pgaudit.so not found in $PKGLIBDIR"
fi
HZ=$(getconf CLK_TCK)
[[ -r /proc/self/stat ]] || ms_die "/proc/PID/stat is not readable: this benchmark needs Linux /proc"

# ---- throwaway work dir and cluster, both removed on exit (also on failure or Ctrl-C)
ms_workdir bench_audit  # test/lib/common.sh

BENCH_FSYNC=${BENCH_FSYNC:-off}
[[ $BENCH_FSYNC == on || $BENCH_FSYNC == off ]] || ms_die "BENCH_FSYNC must be on or off (got '$BENCH_FSYNC')"
ms_cluster_start bench_audit "fsync=$BENCH_FSYNC"
SERVER_LOG=$MS_CLUSTER_DIR/server.log

# restart_with PRELOAD: restart the cluster started above (by its own data directory) with
# shared_preload_libraries=PRELOAD (empty: none), same port, socket directory and log file.
restart_with() {
    local preload=$1 opts
    opts="-p $PGPORT -k $MS_CLUSTER_DIR -c listen_addresses='' -c fsync=$BENCH_FSYNC"
    [[ -n $preload ]] && opts+=" -c shared_preload_libraries=$preload"
    ms_as_run_user "$(ms_pgbin)/pg_ctl" -D "$MS_CLUSTER_DIR/data" -m fast -w stop >/dev/null ||
        ms_die "could not stop the cluster in $MS_CLUSTER_DIR"
    ms_as_run_user "$(ms_pgbin)/pg_ctl" -D "$MS_CLUSTER_DIR/data" -l "$SERVER_LOG" -w \
        -o "$opts" start >/dev/null ||
        { tail -20 "$SERVER_LOG" >&2; ms_die "could not restart the cluster with shared_preload_libraries='$preload'"; }
    local got
    got=$("${MS_PSQL[@]}" -At -d postgres -c 'SHOW shared_preload_libraries')
    [[ $got == "$preload" ]] || ms_die "shared_preload_libraries is '$got', expected '$preload'"
}

# ---- helpers

sql() { "${MS_PSQL[@]}" -At -d "$1" -c "$2"; }

# ---- the workload and the session wrapper, all built before anything is timed
WORKLOAD=$WORK/workload.sql
case $KIND in
tables) awk -v n="$TABLES" -v b="$BATCH" 'BEGIN {
    for (i = 1; i <= n; i++) {
        if ((i - 1) % b == 0) print "BEGIN;"
        printf "CREATE TABLE w_%d (id bigint PRIMARY KEY, name text NOT NULL, qty integer NOT NULL DEFAULT 0, price numeric(10,2), created_at timestamptz NOT NULL DEFAULT now());\n", i
        printf "CREATE INDEX w_%d_name_idx ON w_%d (name);\n", i, i
        printf "COMMENT ON TABLE w_%d IS %cworkload table %d%c;\n", i, 39, i, 39
        printf "ALTER TABLE w_%d ADD COLUMN note text;\n", i
        if (i % b == 0 || i == n) print "COMMIT;"
    }
    for (i = 1; i <= n; i++) {
        if ((i - 1) % b == 0) print "BEGIN;"
        printf "DROP TABLE w_%d;\n", i
        if (i % b == 0 || i == n) print "COMMIT;"
    }
}' >"$WORKLOAD" ;;
catalog) awk -v n="$TABLES" -v b="$BATCH" 'BEGIN {
    for (i = 1; i <= n; i++) {
        if ((i - 1) % b == 0) print "BEGIN;"
        printf "CREATE VIEW v_%d AS SELECT %d AS id, %cx%c::text AS name;\n", i, i, 39, 39
        printf "CREATE FUNCTION f_%d(a integer) RETURNS integer LANGUAGE sql IMMUTABLE AS %cSELECT a + %d%c;\n", i, 39, i, 39
        printf "COMMENT ON FUNCTION f_%d(integer) IS %cworkload function %d%c;\n", i, 39, i, 39
        printf "ALTER VIEW v_%d RENAME COLUMN name TO label;\n", i
        if (i % b == 0 || i == n) print "COMMIT;"
    }
    for (i = 1; i <= n; i++) {
        if ((i - 1) % b == 0) print "BEGIN;"
        printf "DROP VIEW v_%d;\n", i
        if (i % b == 0 || i == n) print "COMMIT;"
    }
}' >"$WORKLOAD" ;;
*) ms_die "KIND must be tables or catalog (got '$KIND')" ;;
esac
N_DDL=$(grep -cvE '^(BEGIN|COMMIT);$' "$WORKLOAD")
[[ $N_DDL -eq $((5 * TABLES)) ]] || ms_die "workload has $N_DDL DDL statements, expected $((5 * TABLES))"

# The timed session runs pid.sql, the workload and cpu.sql: the first notes the backend's pid,
# the last saves that backend's utime and stime (clock ticks, /proc/PID/stat fields 14 and 15;
# the awk drops everything up to the ") " that closes the command name) to $BENCH_CPU_FILE.
export BENCH_CPU_FILE=$WORK/cpu
printf '%s\n' 'SELECT pg_backend_pid() AS bench_pid \gset' '\setenv BENCH_PID :bench_pid' >"$WORK/pid.sql"
# shellcheck disable=SC2016  # expanded by the shell that psql's \! starts
printf '%s\n' '\! awk '\''{ sub(/^.*\) /, ""); print $12, $13 }'\'' "/proc/$BENCH_PID/stat" >"$BENCH_CPU_FILE"' \
    >"$WORK/cpu.sql"

# The PL/pgSQL audit: one INSERT ... SELECT per event, schema-qualified (no SET search_path on
# the functions, which would cost a GUC save/restore per call).
PLPGSQL_SETUP=$(cat <<'SQL'
CREATE SCHEMA plpgsql_audit;
CREATE TABLE plpgsql_audit.ddl_audit (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stmt_time         timestamptz NOT NULL,
    txid              bigint NOT NULL,
    pid               integer NOT NULL,
    session_user_name name NOT NULL,
    current_user_name name NOT NULL,
    application_name  text,
    client_addr       inet,
    command_tag       text NOT NULL,
    object_type       text,
    schema_name       text,
    object_identity   text,
    classid           oid,
    objid             oid,
    objsubid          integer,
    statement         text,
    in_extension      boolean
);
CREATE FUNCTION plpgsql_audit.on_ddl_command_end() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO plpgsql_audit.ddl_audit (stmt_time, txid, pid, session_user_name, current_user_name,
        application_name, client_addr, command_tag, object_type, schema_name, object_identity,
        classid, objid, objsubid, statement, in_extension)
    SELECT statement_timestamp(), txid_current(), pg_backend_pid(), session_user, current_user,
           current_setting('application_name'), inet_client_addr(), c.command_tag, c.object_type,
           c.schema_name, c.object_identity, c.classid, c.objid, c.objsubid, current_query(),
           c.in_extension
      FROM pg_event_trigger_ddl_commands() AS c;
END $$;
CREATE FUNCTION plpgsql_audit.on_sql_drop() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO plpgsql_audit.ddl_audit (stmt_time, txid, pid, session_user_name, current_user_name,
        application_name, client_addr, command_tag, object_type, schema_name, object_identity,
        classid, objid, objsubid, statement, in_extension)
    SELECT statement_timestamp(), txid_current(), pg_backend_pid(), session_user, current_user,
           current_setting('application_name'), inet_client_addr(), tg_tag, d.object_type,
           d.schema_name, d.object_identity, d.classid, d.objid, d.objsubid, current_query(),
           NULL   -- pg_event_trigger_dropped_objects() does not report it
      FROM pg_event_trigger_dropped_objects() AS d
     WHERE NOT d.is_temporary;
END $$;
CREATE FUNCTION plpgsql_audit.on_table_rewrite() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO plpgsql_audit.ddl_audit (stmt_time, txid, pid, session_user_name, current_user_name,
        application_name, client_addr, command_tag, object_type, schema_name, object_identity,
        classid, objid, objsubid, statement, in_extension)
    SELECT statement_timestamp(), txid_current(), pg_backend_pid(), session_user, current_user,
           current_setting('application_name'), inet_client_addr(), tg_tag, 'table',
           n.nspname, r.oid::regclass::text, 'pg_class'::regclass, r.oid, 0, current_query(), NULL
      FROM pg_class AS r JOIN pg_namespace AS n ON n.oid = r.relnamespace
     WHERE r.oid = pg_event_trigger_table_rewrite_oid();
END $$;
CREATE EVENT TRIGGER plpgsql_audit_ddl_command_end ON ddl_command_end
    EXECUTE FUNCTION plpgsql_audit.on_ddl_command_end();
CREATE EVENT TRIGGER plpgsql_audit_sql_drop ON sql_drop
    EXECUTE FUNCTION plpgsql_audit.on_sql_drop();
CREATE EVENT TRIGGER plpgsql_audit_table_rewrite ON table_rewrite
    EXECUTE FUNCTION plpgsql_audit.on_table_rewrite();
SQL
)

# ---- one measurement

# Per mode (associative arrays keyed by mode): space-separated per-repetition figures.
declare -A WALL=() CPU=() AUDIT=()

# Backend CPU seconds (user + sys) of the last bench_time_psql run.
last_cpu() {
    local u="" s=""
    { read -r u s <"$BENCH_CPU_FILE"; } 2>/dev/null || true
    [[ ${u:-} =~ ^[0-9]+$ && ${s:-} =~ ^[0-9]+$ ]] ||
        ms_die "could not read the backend's CPU time ($BENCH_CPU_FILE: '$(cat "$BENCH_CPU_FILE" 2>/dev/null)')"
    awk -v u="$u" -v s="$s" -v hz="$HZ" 'BEGIN { printf "%.2f", (u + s) / hz }'
}

# audit_count MODE DB: rows of the mode's audit table (0 for none and pgaudit).
audit_count() {
    case $1 in
        ext | ext_preload) sql "$2" 'SELECT count(*) FROM migrate.ddl_audit' ;;
        plpgsql) sql "$2" 'SELECT count(*) FROM plpgsql_audit.ddl_audit' ;;
        *) echo 0 ;;
    esac
}

run_mode() {
    local mode=$1 db=bench_audit preload="" before log_before wall cpu records n load
    case $mode in
        ext_preload) preload=migrations_schema ;;
        pgaudit) preload=pgaudit ;;
    esac
    restart_with "$preload"
    fresh_db "$db"
    case $mode in
        ext | ext_preload)
            sql "$db" 'CREATE EXTENSION migrations_schema' >/dev/null
            [[ $(sql "$db" "SELECT to_regclass('migrate.ddl_audit') IS NOT NULL") == t ]] ||
                ms_die "$mode: CREATE EXTENSION migrations_schema created no table migrate.ddl_audit (is the audit version installed?)"
            ;;
        plpgsql) "${MS_PSQL[@]}" -d "$db" -c "$PLPGSQL_SETUP" ;;
        pgaudit)
            sql "$db" 'CREATE EXTENSION pgaudit' >/dev/null
            sql "$db" "ALTER DATABASE $db SET pgaudit.log = 'ddl'" >/dev/null
            ;;
    esac
    before=$(audit_count "$mode" "$db")
    sql "$db" 'CHECKPOINT' >/dev/null
    log_before=$(stat -c %s "$SERVER_LOG")
    load=$(bench_load1)

    wall=$(bench_time_psql "$db" "$WORKLOAD")
    cpu=$(last_cpu)

    # Untimed checks.
    n=$(sql "$db" "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace")
    [[ $n == 0 ]] || ms_die "$mode: $n relations left in public after the workload"
    case $mode in
        ext | ext_preload | plpgsql)
            records=$(( $(audit_count "$mode" "$db") - before ))
            [[ $records -gt 0 ]] || ms_die "$mode: the workload added no row to the audit table"
            ;;
        pgaudit)
            records=$(tail -c +"$((log_before + 1))" "$SERVER_LOG" | grep -c 'AUDIT: SESSION' || true)
            [[ $records -gt 0 ]] || ms_die "pgaudit: no 'AUDIT: SESSION' line in the server log during the run"
            ;;
        *) records=0 ;;
    esac
    if [[ $mode == ext || $mode == ext_preload ]]; then
        local valid
        valid=$("${MS_PSQL[@]}" -At -d "$db" -c 'SELECT valid FROM migrate.verify_audit()' 2>&1) ||
            ms_die "$mode: SELECT valid FROM migrate.verify_audit() failed: $valid"
        if [[ $valid != t ]]; then
            "${MS_PSQL[@]}" -d "$db" -c 'SELECT * FROM migrate.verify_audit()' >&2 || true
            ms_die "$mode: migrate.verify_audit() did not return exactly one row with valid = true (got '$valid')"
        fi
    fi
    PGOPTIONS='-c client_min_messages=warning' dropdb "$db"

    WALL[$mode]+="$wall " CPU[$mode]+="$cpu " AUDIT[$mode]+="$records "
    ms_log "  $(printf '%-11s' "$mode") ${wall} s wall, ${cpu} s backend CPU, $records audit records (load $load)"
}

# ---- the measurements
ms_log "workload: $TABLES tables, $N_DDL DDL statements, $BATCH tables per transaction; modes: ${MODE_LIST[*]}"
# One untimed run first (plain server, fresh database): the first run on a new cluster would
# also create its WAL segments and fill the OS caches.
ms_log "warm-up run (untimed)"
fresh_db bench_audit
bench_time_psql bench_audit "$WORKLOAD" >/dev/null
PGOPTIONS='-c client_min_messages=warning' dropdb bench_audit
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
for ((rep = 1; rep <= REPS; rep++)); do
    ms_log "repetition $rep/$REPS (load $(bench_load1))"
    for mode in $(bench_rotate $((rep - 1)) "${MODE_LIST[@]}"); do
        run_mode "$mode"
    done
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
PG_VERSION=$(sql postgres 'SHOW server_version')
FSYNC=$(sql postgres 'SHOW fsync')

# ---- report
# Medians per mode, and the comparisons with `none`, paired by repetition: the overhead per DDL
# statement (µs) and the ratio are computed for each repetition against that repetition's own
# `none` run, then the median is taken. This cancels the slow drift of the machine's speed from
# one repetition to the next, which on a shared VM is larger than the differences measured.
# paired ov|ratio MODE_FIGURES NONE_FIGURES: median over repetitions of the per-repetition
# overhead per DDL statement in µs (1 decimal) or ratio (2 decimals).
paired() {
    awk -v op="$1" -v m="$2" -v b="$3" -v n="$N_DDL" 'BEGIN {
        k = split(m, x, " "); split(b, y, " ")
        for (i = 1; i <= k; i++) v[i] = (op == "ov") ? (x[i] - y[i]) / n * 1e6 : x[i] / y[i]
        for (i = 2; i <= k; i++) { t = v[i]; for (j = i - 1; j >= 1 && v[j] > t; j--) v[j + 1] = v[j]; v[j + 1] = t }
        printf (op == "ov" ? "%.1f" : "%.2f"), v[int((k + 1) / 2)]
    }'
}
declare -A MW=() MC=() MA=() OW=() OC=() RW=() RC=()
for mode in "${MODE_LIST[@]}"; do
    # shellcheck disable=SC2086  # word splitting of the per-repetition lists is intended
    MW[$mode]=$(bench_median ${WALL[$mode]}) MC[$mode]=$(bench_median ${CPU[$mode]}) MA[$mode]=$(bench_median ${AUDIT[$mode]})
    OW[$mode]=$(paired ov "${WALL[$mode]}" "${WALL[none]}") OC[$mode]=$(paired ov "${CPU[$mode]}" "${CPU[none]}")
    RW[$mode]=$(paired ratio "${WALL[$mode]}" "${WALL[none]}") RC[$mode]=$(paired ratio "${CPU[$mode]}" "${CPU[none]}")
done

echo
if [[ $KIND == tables ]]; then
    echo "bench_audit: $TABLES tables x (CREATE TABLE, CREATE INDEX, COMMENT ON TABLE, ALTER TABLE ADD COLUMN,"
    echo "DROP TABLE) = $N_DDL DDL statements, $BATCH tables per transaction, one psql session;"
else
    echo "bench_audit (catalog-only DDL): $TABLES x (CREATE VIEW, CREATE FUNCTION, COMMENT ON FUNCTION,"
    echo "ALTER VIEW RENAME COLUMN, DROP VIEW) = $N_DDL DDL statements, $BATCH per transaction, one psql session;"
fi
echo "median of $REPS repetitions (PostgreSQL $PG_VERSION, fsync $FSYNC, $(nproc) CPUs)"
printf '%-12s %9s %9s %7s %9s %17s %17s\n' "" "wall" "backend" "DDL" "audit" "overhead/DDL µs" "ratio to none"
printf '%-12s %9s %9s %7s %9s %8s %8s %8s %8s\n' "mode" "s" "CPU s" "stmts" "records" "wall" "CPU" "wall" "CPU"
for mode in "${MODE_LIST[@]}"; do
    printf '%-12s %9.3f %9.2f %7d %9d %8s %8s %8s %8s\n' "$mode" "${MW[$mode]}" "${MC[$mode]}" "$N_DDL" \
        "${MA[$mode]}" "${OW[$mode]}" "${OC[$mode]}" "${RW[$mode]}" "${RC[$mode]}"
done
echo "(audit records: rows added to the audit table; for pgaudit, 'AUDIT: SESSION' lines in the server log."
echo " overhead and ratio: per repetition against that repetition's none run, then the median)"

echo
echo "targets, judged on backend CPU time (wall time in brackets, for information); PASS/OVER, exit status 0 either way:"
for mode in ext ext_preload; do
    has_mode "$mode" || { echo "  (1) $mode: not measured (MODES)"; continue; }
    printf '  (1) %-11s adds at most 10%%:            CPU ratio %5s <= %s  %-4s  [wall ratio %s]\n' \
        "$mode" "${RC[$mode]}" "$TARGET_RATIO" \
        "$(awk -v r="${RC[$mode]}" -v t="$TARGET_RATIO" 'BEGIN { print (r <= t ? "PASS" : "OVER") }')" "${RW[$mode]}"
done
# share OVERHEAD_MODE OVERHEAD_PLPGSQL: the quotient with 2 decimals, or n/a when the PL/pgSQL
# overhead is not positive (then the measurement says nothing).
share() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) print "n/a"; else printf "%.2f", a / b }'; }
for mode in ext ext_preload; do
    if ! has_mode "$mode" || ! has_mode plpgsql; then
        echo "  (2) $mode: not measured (MODES must include $mode and plpgsql)"
        continue
    fi
    sc=$(share "${OC[$mode]}" "${OC[plpgsql]}") sw=$(share "${OW[$mode]}" "${OW[plpgsql]}")
    if [[ $sc == n/a ]]; then
        v="n/a (PL/pgSQL overhead not positive)"
    else
        v=$(awk -v r="$sc" -v t="$TARGET_SHARE" 'BEGIN { print (r < t ? "PASS" : "OVER") }')
    fi
    printf '  (2) %-11s overhead < half of plpgsql:  CPU %s / %s µs = %s < %s  %-4s  [wall %s / %s µs = %s]\n' \
        "$mode" "${OC[$mode]}" "${OC[plpgsql]}" "$sc" "$TARGET_SHARE" "$v" "${OW[$mode]}" "${OW[plpgsql]}" "$sw"
done

echo
echo "per-repetition figures, in repetition order: wall s [backend CPU s] audit records"
for mode in "${MODE_LIST[@]}"; do
    read -r -a w <<<"${WALL[$mode]}"
    read -r -a c <<<"${CPU[$mode]}"
    read -r -a a <<<"${AUDIT[$mode]}"
    line=""
    for ((i = 0; i < ${#w[@]}; i++)); do line+=" ${w[i]} [${c[i]}] ${a[i]};"; done
    printf '  %-12s%s\n' "$mode" "${line%;}"
done
echo "load average: start $LOAD_START, end $LOAD_END"
