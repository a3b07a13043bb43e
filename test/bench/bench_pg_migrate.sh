#!/usr/bin/env bash
# Benchmark: the pg_migrate client applying a folder of N generated migrations, against plain
# psql (the "physical limit") and dbmate on the same files, in the same run.
#
#   bash test/bench/bench_pg_migrate.sh      as root; REPS=3 and N=1000 by default (env: REPS, N)
#
# Targets (from the issue): pg_migrate at most 1.10x the psql baseline, and dbmate at least 1.3x
# slower than pg_migrate. Both are judged on the default `pg_migrate up` (one transaction for
# the whole folder); the --per-migration figures are printed next to them for information.
#
# The migrations come from the shared benchmark harness ($MS_ROOT/../shared/bench,
# gen_migrations.py: OUTDIR/NNNN_name/{up,down,verify}.sql), which must exist next to this
# repository (exit 2 when it does not). They are converted once, before anything is timed, into
#
#   updown/   NNNN_name.up.sql + NNNN_name.down.sql (the sqlx / golang-migrate layout), byte for
#             byte the generated scripts, for pg_migrate;
#   dbmate/   NNNN_name.sql with a `-- migrate:up` and a `-- migrate:down` section;
#   psql_up.sql  every up script in its own BEGIN/COMMIT, in version order.
#
# One throwaway cluster (default settings, fsync on, run as `postgres`) serves every
# measurement; every measurement gets a fresh database (CREATE DATABASE, and for pg_migrate
# CREATE EXTENSION migrations_schema, both untimed). Each repetition runs, interleaved and with
# the order rotated from one repetition to the next:
#
#   psql          one `psql -X -q -v ON_ERROR_STOP=1` process runs psql_up.sql: no bookkeeping;
#   dbmate        dbmate 2.36.0 (the Go binary of the npm package, called directly, not through
#                 the node wrapper): `dbmate --url postgres://postgres@/DB?socket=..&port=..
#                 --no-dump-schema --migrations-dir dbmate/ up` (a transaction per migration,
#                 bookkeeping in public.schema_migrations);
#   pg_migrate    `pg_migrate -d "host=.. port=.. dbname=DB" --dir updown/ --quiet up`
#                 (default: one transaction), and the same with --per-migration.
#
# Wall time: the tool's process, start to exit (connection start-up included), median over the
# repetitions. Backend CPU: the CPU time (user + system) of the server processes that served
# the tool. The tools are separate programs, so the trick of bench_apply.sh (the session reads
# /proc/PID/schedstat of its own backend before it ends) cannot be used for dbmate and
# pg_migrate; instead, once the tool has exited and its backends have been reaped, the script
# reads how much the postmaster's reaped-children time (cutime + cstime of /proc/PID/stat, in
# clock ticks) grew. That counts every connection the tool made, plus any
# autovacuum worker that happened to end meanwhile. For psql the session also reads its
# backend's schedstat like bench_apply.sh; both figures are shown as a cross-check.
#
# Checks (untimed) after every run: `pg_dump --schema-only -n public` (dbmate's
# public.schema_migrations excluded) must equal the plain psql baseline's, and the tool's own
# bookkeeping must list N migrations. A run that fails (the tool exits non-zero, or a check
# fails) is reported as failed and left out of the median; the script then exits 1 after
# printing the table. Being over a target does not change the exit status (PASS/OVER only):
# this is a benchmark, not a test. When npm or dbmate cannot be installed, dbmate is reported
# as unavailable and the rest still runs.
#
# dbmate is installed once with `npm install --no-save dbmate@$MS_DBMATE_VERSION` (ms_dbmate in
# test/lib/common.sh, the copy the tests use) and reused from there. pg_migrate is taken
# from $PG_MIGRATE, else from PostgreSQL's bindir, else from the build tree ($MS_ROOT/pg_migrate);
# the migrations_schema extension must be installed.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REPS=${REPS:-3}
N=${N:-1000}
TARGET_PSQL=1.10     # pg_migrate / psql must stay at or under this
TARGET_DBMATE=1.3    # dbmate / pg_migrate must reach at least this
DBMATE_VERSION=$MS_DBMATE_VERSION  # test/lib/common.sh
TOOL_TIMEOUT=${TOOL_TIMEOUT:-900}   # seconds one tool run may take before it counts as failed
[[ $REPS =~ ^[1-9][0-9]*$ ]] || ms_die "REPS must be a positive integer (got '$REPS')"
[[ $N =~ ^[1-9][0-9]*$ ]] || ms_die "N must be a positive integer (got '$N')"

SHARED_BENCH=$MS_ROOT/../shared/bench
GEN=$SHARED_BENCH/gen_migrations.py
if [[ ! -f $GEN ]]; then
    ms_log "ERROR: $GEN not found: this benchmark needs the shared benchmark harness (shared/bench) checked out next to the repository"
    exit 2
fi
command -v python3 >/dev/null || ms_die "python3 is required (it runs $GEN)"
[[ -x $(ms_pgbin)/initdb ]] || ms_die "PostgreSQL 15 server binaries not found in $(ms_pgbin)"
[[ -f $("$(ms_pg_config)" --sharedir)/extension/migrations_schema.control ]] ||
    ms_die "the migrations_schema extension is not installed: build and install it first"

PG_MIGRATE=${PG_MIGRATE:-}
if [[ -z $PG_MIGRATE ]]; then
    for c in "$(ms_pgbin)/pg_migrate" "$MS_ROOT/pg_migrate"; do
        [[ -x $c ]] && { PG_MIGRATE=$c; break; }
    done
fi
[[ -n $PG_MIGRATE && -x $PG_MIGRATE ]] ||
    ms_die "pg_migrate not found (looked in $(ms_pgbin) and $MS_ROOT; or set PG_MIGRATE)"

# ---- dbmate: installed once into the tests' cache (test/lib/common.sh), then reused. DBMATE
# stays empty when unavailable.
DBMATE=$(ms_dbmate)
DBMATE_NOTE="npm missing, or dbmate@$DBMATE_VERSION could not be installed"
if [[ -n $DBMATE ]] && ! "$DBMATE" --version 2>/dev/null | grep -qF "$DBMATE_VERSION"; then
    DBMATE_NOTE="$DBMATE is not dbmate $DBMATE_VERSION"
    DBMATE=
fi
if [[ -n $DBMATE ]]; then
    ms_log "dbmate: $DBMATE"
else
    ms_log "dbmate unavailable: $DBMATE_NOTE (measuring the other tools only)"
fi
ms_log "pg_migrate: $PG_MIGRATE"

# ---- throwaway work dir and cluster, both removed on exit (also on failure or Ctrl-C)
ms_workdir bench_pg_migrate  # test/lib/common.sh

ms_cluster_start bench_pg_migrate
PM_PID=$(head -1 "$MS_CLUSTER_DIR/data/postmaster.pid")
CLK_TCK=$(getconf CLK_TCK)
bench_session_files  # the psql baseline's backend CPU, as in bench_apply.sh (lib.sh)


# ---- helpers


# CPU seconds (user + system) of the postmaster's children that have exited and been reaped.
reaped_cpu() { awk -v hz="$CLK_TCK" '{ printf "%.3f", ($16 + $17) / hz }' "/proc/$PM_PID/stat" 2>/dev/null || echo NA; }

# Number of postmaster children other than its fixed background processes: client backends
# (running, or exited and not yet reaped: zombies have an empty command line) and autovacuum
# workers.
transient_children() {
    local c cmd n=0 kids=()
    read -ra kids <"/proc/$PM_PID/task/$PM_PID/children" 2>/dev/null || true
    for c in "${kids[@]}"; do
        cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$c/cmdline") || continue
        [[ $cmd =~ ^postgres:\ (checkpointer|background\ writer|walwriter|autovacuum\ launcher|logical\ replication\ launcher) ]] ||
            n=$((n + 1))
    done
    echo "$n"
}
# Waits (at most 10 s) until every backend has exited and been reaped.
wait_backends_gone() {
    local i
    for ((i = 0; i < 1000; i++)); do
        [[ $(transient_children) == 0 ]] && return 0
        sleep 0.01
    done
    ms_log "warning: server processes still running after 10 s; backend CPU may be off"
}

# Schema-only dump of public without dbmate's bookkeeping and the lines that differ between runs.
dump_public() {
    pg_dump --schema-only -n public -T public.schema_migrations "$1" |
        grep -v -E '^(-- Dumped (from|by)|\\(un)?restrict )'
}

# ---- inputs, all built before anything is timed
ms_log "generating $N migrations"
python3 "$GEN" "$N" "$WORK/migrations" >"$WORK/gen.log" 2>&1 || { cat "$WORK/gen.log" >&2; ms_die "generator failed"; }
mapfile -t DIRS < <(find "$WORK/migrations" -mindepth 1 -maxdepth 1 -type d | sort)
[[ ${#DIRS[@]} -eq $N ]] || ms_die "expected $N migration directories, found ${#DIRS[@]}"

ms_log "converting them (updown folder for pg_migrate, dbmate folder, one psql file)"
mkdir "$WORK/updown" "$WORK/dbmate"
# Builtins only (read -d '' keeps a file's exact text, trailing newlines included; the scripts
# hold no NUL byte): a fork per file costs minutes on a small VM at N=1000.
for d in "${DIRS[@]}"; do
    base=${d##*/}                 # NNNN_name
    [[ -f $d/up.sql && -f $d/down.sql ]] || ms_die "$d lacks up.sql or down.sql"
    IFS= read -r -d '' up <"$d/up.sql" || true
    IFS= read -r -d '' down <"$d/down.sql" || true
    printf '%s' "$up" >"$WORK/updown/$base.up.sql"
    printf '%s' "$down" >"$WORK/updown/$base.down.sql"
    printf -- '-- migrate:up\n%s\n-- migrate:down\n%s' "$up" "$down" >"$WORK/dbmate/$base.sql"
    printf 'BEGIN;\n%s\nCOMMIT;\n' "$up"
done >"$WORK/psql_up.sql"
# The pg_migrate folder must hold the generated scripts byte for byte.
for s in up down; do
    [[ $(cat "${DIRS[@]/%//$s.sql}" | md5sum) == $(cat "$WORK"/updown/*."$s".sql | md5sum) ]] ||
        ms_die "the $s scripts of $WORK/updown differ from the generated ones"
done

# Reference schema: public after a plain psql apply (untimed).
fresh_db bench_ref
"${MS_PSQL[@]}" -d bench_ref -f "$WORK/psql_up.sql" >/dev/null 2>"$WORK/ref.log" ||
    { tail -20 "$WORK/ref.log" >&2; ms_die "the plain psql apply of the reference failed"; }
dump_public bench_ref >"$WORK/reference.dump"
dropdb bench_ref

# ---- one timed run
TOOLS=(psql)
[[ -n $DBMATE ]] && TOOLS+=(dbmate)
TOOLS+=(pg_migrate pg_migrate_per)
declare -A LABEL=(
    [psql]="psql, one session (baseline)"
    [dbmate]="dbmate $DBMATE_VERSION"
    [pg_migrate]="pg_migrate up (one transaction)"
    [pg_migrate_per]="pg_migrate up --per-migration"
)
declare -A WALLS=() CPUS=() OK=() PER_REP=()   # space-separated lists per tool
PSQL_SCHEDSTAT=()
FAILURES=0

# tool_cmd TOOL DB: prints nothing; fills the array CMD with the command that applies all N.
tool_cmd() {
    local db=$2
    case $1 in
        psql) CMD=("${MS_PSQL[@]}" -d "$db" -f "$WORK/pid.sql" -f "$WORK/psql_up.sql" -f "$WORK/cpu.sql") ;;
        dbmate) CMD=("$DBMATE" --url "postgres://$PGUSER@/$db?socket=$PGHOST&port=$PGPORT&sslmode=disable"
                     --no-dump-schema --migrations-dir "$WORK/dbmate" up) ;;
        pg_migrate) CMD=("$PG_MIGRATE" -d "host=$PGHOST port=$PGPORT dbname=$db" --dir "$WORK/updown" --quiet up) ;;
        pg_migrate_per) CMD=("$PG_MIGRATE" -d "host=$PGHOST port=$PGPORT dbname=$db" --dir "$WORK/updown"
                             --quiet --per-migration up) ;;
    esac
}

# check TOOL DB: prints why the run is wrong, or nothing.
check() {
    local tool=$1 db=$2 n
    dump_public "$db" >"$WORK/$tool.dump" 2>>"$WORK/$tool.log" || { echo "pg_dump failed"; return; }
    if ! cmp -s "$WORK/reference.dump" "$WORK/$tool.dump"; then
        diff -u "$WORK/reference.dump" "$WORK/$tool.dump" | head -40 >>"$WORK/$tool.log"
        echo "schema of public differs from the plain psql baseline's ($(diff "$WORK/reference.dump" "$WORK/$tool.dump" | grep -c '^[<>]') lines)"
        return
    fi
    case $tool in
        dbmate) n=$("${MS_PSQL[@]}" -At -d "$db" -c 'SELECT count(*) FROM public.schema_migrations' 2>&1) ;;
        pg_migrate*) n=$("${MS_PSQL[@]}" -At -d "$db" -c "SELECT count(*) FROM migrate.status() WHERE state = 'applied'" 2>&1) ;;
        *) n=$N ;;
    esac
    [[ $n == "$N" ]] || echo "the tool's bookkeeping lists '$n' applied migrations, expected $N"
}

run_tool() {
    local tool=$1 db=bench_$1 t0 t1 c0 c1 rc=0 wall cpu why
    fresh_db "$db"
    if [[ $tool == pg_migrate* ]]; then
        "${MS_PSQL[@]}" -d "$db" -c 'CREATE EXTENSION migrations_schema'
    fi
    tool_cmd "$tool" "$db"
    : >"$WORK/$tool.log"
    rm -f "$BENCH_CPU_FILE"
    wait_backends_gone
    c0=$(reaped_cpu)
    t0=$EPOCHREALTIME
    timeout "$TOOL_TIMEOUT" "${CMD[@]}" >>"$WORK/$tool.log" 2>&1 || rc=$?
    t1=$EPOCHREALTIME
    wait_backends_gone
    c1=$(reaped_cpu)
    wall=$(bench_elapsed "$t0" "$t1")
    if [[ $c0 == NA || $c1 == NA ]]; then cpu=NA; else cpu=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.3f", b - a }'); fi
    [[ $tool == psql ]] && PSQL_SCHEDSTAT+=("$(bench_last_cpu)")
    if [[ $rc -ne 0 ]]; then
        why="exit status $rc"
        [[ $rc == 124 ]] && why+=" (timed out after $TOOL_TIMEOUT s)"
    else
        why=$(check "$tool" "$db")
    fi
    if [[ -n $why ]]; then
        FAILURES=$((FAILURES + 1))
        PER_REP[$tool]+=" FAILED"
        ms_log "  ${LABEL[$tool]}: FAILED after $wall s: $why; last lines of its output:"
        tail -15 "$WORK/$tool.log" | sed 's/^/      /' >&2
        cp "$WORK/$tool.log" "$WORK/$tool.failed.log"
    else
        WALLS[$tool]+=" $wall" CPUS[$tool]+=" $cpu" OK[$tool]+="x"
        PER_REP[$tool]+=" $wall [$cpu]"
        ms_log "  $(printf '%-32s' "${LABEL[$tool]}") $wall s, backend CPU $cpu s$([[ $tool == psql ]] && echo " (schedstat ${PSQL_SCHEDSTAT[-1]} s)")"
    fi
    dropdb "$db"
}

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
LOADS=()
for ((rep = 1; rep <= REPS; rep++)); do
    LOADS+=("$(bench_load1)")
    ms_log "repetition $rep/$REPS (load $(bench_load1))"
    for tool in $(bench_rotate $((rep - 1)) "${TOOLS[@]}"); do
        run_tool "$tool"
    done
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- report
declare -A MW=() MC=()
for tool in "${TOOLS[@]}"; do
    if [[ -n ${OK[$tool]:-} ]]; then
        # shellcheck disable=SC2086  # word splitting of the lists is intended
        MW[$tool]=$(bench_median ${WALLS[$tool]})
        if [[ " ${CPUS[$tool]} " == *" NA "* ]]; then MC[$tool]=NA; else
            # shellcheck disable=SC2086
            MC[$tool]=$(bench_median ${CPUS[$tool]})
        fi
    fi
done
have() { [[ -n ${MW[$1]:-} ]]; }
cpu_ratio() { [[ ${MC[$1]} != NA && ${MC[$2]} != NA ]] && bench_ratio "${MC[$1]}" "${MC[$2]}" || echo NA; }

echo
echo "bench_pg_migrate: $N migrations from one folder, median of $REPS repetitions (PostgreSQL $(psql -XAtc 'SHOW server_version'), fsync $(psql -XAtc 'SHOW fsync'))"
printf '%-34s %9s %15s %10s %10s %8s\n' tool "wall s" "backend CPU s" "wall/psql" "CPU/psql" "runs ok"
for tool in psql dbmate pg_migrate pg_migrate_per; do
    if [[ $tool == dbmate && -z $DBMATE ]]; then
        printf '%-34s %s\n' "dbmate $DBMATE_VERSION" "unavailable: $DBMATE_NOTE"
        continue
    fi
    okn=${OK[$tool]:-}
    okn=${#okn}
    if have "$tool"; then
        if have psql; then r=$(bench_ratio "${MW[$tool]}" "${MW[psql]}") rc=$(cpu_ratio "$tool" psql); else r=NA rc=NA; fi
        printf '%-34s %9.3f %15s %10s %10s %8s\n' "${LABEL[$tool]}" "${MW[$tool]}" "${MC[$tool]}" "$r" "$rc" "$okn/$REPS"
    else
        printf '%-34s %9s %15s %10s %10s %8s\n' "${LABEL[$tool]}" failed - - - "0/$REPS"
    fi
done

echo "targets (pg_migrate = the default one-transaction up; exit status 0 either way):"
if have pg_migrate && have psql; then
    r=$(bench_ratio "${MW[pg_migrate]}" "${MW[psql]}")
    printf '  %-24s %5s <= %-5s %s\n' "pg_migrate / psql" "$r" "$TARGET_PSQL" "$(bench_verdict "$r" le "$TARGET_PSQL")"
else
    echo "  pg_migrate / psql        n/a (no successful run)"
fi
if [[ -z $DBMATE ]]; then
    echo "  dbmate / pg_migrate      n/a (dbmate unavailable)"
elif have pg_migrate && have dbmate; then
    r=$(bench_ratio "${MW[dbmate]}" "${MW[pg_migrate]}")
    printf '  %-24s %5s >= %-5s %s\n' "dbmate / pg_migrate" "$r" "$TARGET_DBMATE" "$(bench_verdict "$r" ge "$TARGET_DBMATE")"
else
    echo "  dbmate / pg_migrate      n/a (no successful run)"
fi
if have pg_migrate_per; then
    line="  for information, --per-migration (a commit per migration, like psql and dbmate):"
    have psql && line+=" pg_migrate / psql $(bench_ratio "${MW[pg_migrate_per]}" "${MW[psql]}")"
    have dbmate && line+=", dbmate / pg_migrate $(bench_ratio "${MW[dbmate]}" "${MW[pg_migrate_per]}")"
    echo "$line"
fi
echo "per-repetition wall seconds (in repetition order; backend CPU in brackets):"
for tool in "${TOOLS[@]}"; do
    printf '  %-32s%s\n' "${LABEL[$tool]}" "${PER_REP[$tool]:-}"
done
echo "  psql backend CPU read by the session itself (/proc/PID/schedstat, as bench_apply.sh):${PSQL_SCHEDSTAT[*]/#/ }"
echo "load average: start $LOAD_START, end $LOAD_END; 1-min load at each repetition: ${LOADS[*]}"

if [[ $FAILURES -gt 0 ]]; then
    ms_log "ERROR: $FAILURES run(s) failed (see above); their figures are left out of the medians"
    exit 1
fi
