#!/usr/bin/env bash
# Benchmark: applying and rolling back 200 generated migrations through the extension, against
# the "physical limit" baseline (plain psql, one session, each migration in BEGIN/COMMIT, no
# bookkeeping at all).
#
#   test/bench/bench_apply.sh            REPS=5 and N=200 by default (env: REPS, N)
#
# One throwaway cluster (default settings, fsync on) serves every measurement; every measurement
# gets a fresh database. Each repetition runs three sequences, interleaved and with their order
# rotated from one repetition to the next:
#
#   psql       baseline: one psql process applies all up.sql (each in BEGIN/COMMIT), then one
#              psql process runs all down.sql newest first (each in BEGIN/COMMIT).
#   ext        CREATE EXTENSION (untimed), then one psql process sends one
#              `SELECT migrate.apply(version, up, down, name);` per migration (autocommit: one
#              transaction each); rollback is one psql process sending
#              `SELECT * FROM migrate.rollback(1, allow => ...);` N times (one transaction each).
#   ext_batch  extra rows: one psql process registers all N migrations, then one
#              `SELECT * FROM migrate.apply()` applies them in one call; rollback is one
#              `SELECT * FROM migrate.rollback(N)` call.
#
# Every safety check of the extension is on (its defaults): each script is linted on the live
# catalog before it runs, each statement runs in a subtransaction under the bounded lock_timeout,
# the table_rewrite guard watches. The rollbacks pass allow => ARRAY['drop-column, drop-table
# -- benchmark teardown'], since the down scripts drop columns that hold rows.
#
# Times are the wall time of the psql process (connection start-up included, as for the
# baseline), median over the repetitions. The backend's CPU time (/proc/PID/schedstat) is
# printed as well, for information: other work on a shared machine disturbs it much less.
#
# Checks (untimed) after every apply: `pg_dump --schema-only -n public` equals the baseline's,
# and migrate.status() says every migration is applied; after every rollback: public holds no
# tables, views, sequences, functions or types, and no migration is still applied. A failed
# check aborts the run (exit 1). Being over the speed target does not: this is a benchmark, not
# a test, so it only prints PASS/OVER.
#
# The migrations come from the shared benchmark harness ($MS_ROOT/../shared/bench), which must
# exist next to this repository.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REPS=${REPS:-5}
N=${N:-200}
TARGET=1.15          # extension / baseline ratio we aim to stay under
[[ $REPS =~ ^[1-9][0-9]*$ ]] || ms_die "REPS must be a positive integer (got '$REPS')"
[[ $N =~ ^[1-9][0-9]*$ ]] || ms_die "N must be a positive integer (got '$N')"

SHARED_BENCH=$MS_ROOT/../shared/bench
GEN=$SHARED_BENCH/gen_migrations.py
[[ -d $MS_ROOT/../shared ]] ||
    ms_die "$MS_ROOT/../shared does not exist: this benchmark needs the shared benchmark harness (shared/bench/gen_migrations.py) checked out next to the repository"
[[ -f $GEN ]] || ms_die "$GEN not found: the shared benchmark harness is incomplete"

command -v python3 >/dev/null || ms_die "python3 is required (it runs $GEN)"
[[ -x $(ms_pgbin)/initdb ]] || ms_die "PostgreSQL 15 server binaries not found in $(ms_pgbin)"

# ---- throwaway work dir and cluster, both removed on exit (also on failure or Ctrl-C)
ms_workdir bench_apply  # test/lib/common.sh

ms_cluster_start bench
bench_session_files  # the backend CPU time of bench_time_psql (test/bench/lib.sh)


# ---- helpers

# pairs WALL... -- CPU...: prints " wall [cpu]" for each repetition.
pairs() {
    local -a w=() c=()
    local i
    while [[ $1 != -- ]]; do w+=("$1"); shift; done
    shift
    c=("$@")
    for ((i = 0; i < ${#w[@]}; i++)); do printf ' %s [%s]' "${w[i]}" "${c[i]}"; done
    echo
}

# Schema-only dump of public without the lines that differ between runs.
dump_public() {
    pg_dump --schema-only -n public "$1" | grep -v -E '^(-- Dumped (from|by)|\\(un)?restrict )'
}

# User objects left in public: tables, views, matviews, sequences, foreign tables, functions,
# and stand-alone types (enums, domains, composites, ranges).
count_public_objects() {
    "${MS_PSQL[@]}" -At -d "$1" -c "
        SELECT (SELECT count(*) FROM pg_class
                 WHERE relnamespace = 'public'::regnamespace
                   AND relkind IN ('r', 'p', 'v', 'm', 'S', 'f'))
             + (SELECT count(*) FROM pg_proc WHERE pronamespace = 'public'::regnamespace)
             + (SELECT count(*) FROM pg_type t
                 WHERE t.typnamespace = 'public'::regnamespace
                   AND t.typtype IN ('e', 'd', 'c', 'r', 'm')
                   AND (t.typrelid = 0
                        OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))"
}

# check_applied LABEL DB: public must dump exactly like the baseline's; with the extension, every
# migration must be recorded as applied.
check_applied() {
    local label=$1 db=$2 ext=${3:-}
    dump_public "$db" >"$WORK/$label.dump"
    if ! cmp -s "$WORK/reference.dump" "$WORK/$label.dump"; then
        diff -u "$WORK/reference.dump" "$WORK/$label.dump" | head -40 >&2
        ms_die "$label: schema of public after apply differs from the plain psql baseline"
    fi
    if [[ -n $ext ]]; then
        local n
        n=$("${MS_PSQL[@]}" -At -d "$db" -c "SELECT count(*) FROM migrate.status() WHERE state = 'applied'")
        [[ $n == "$N" ]] || ms_die "$label: migrate.status() shows $n applied migrations, expected $N"
    fi
}

# check_rolled_back LABEL DB [ext]: public must be empty again; with the extension, no migration
# may still be recorded as applied.
check_rolled_back() {
    local label=$1 db=$2 ext=${3:-} n
    n=$(count_public_objects "$db")
    [[ $n == 0 ]] || ms_die "$label: $n tables/views/sequences/functions/types left in public after rollback"
    if [[ -n $ext ]]; then
        n=$("${MS_PSQL[@]}" -At -d "$db" -c "SELECT count(*) FROM migrate.status() WHERE state <> 'rolled back'")
        [[ $n == 0 ]] || ms_die "$label: migrate.status() shows $n migrations not rolled back"
    fi
}

# ---- inputs, all built before anything is timed
ms_log "generating $N migrations"
python3 "$GEN" "$N" "$WORK/migrations" 2>>"$WORK/gen.log" || { cat "$WORK/gen.log" >&2; ms_die "generator failed"; }
mapfile -t DIRS < <(find "$WORK/migrations" -mindepth 1 -maxdepth 1 -type d | sort)
[[ ${#DIRS[@]} -eq $N ]] || ms_die "expected $N migration directories, found ${#DIRS[@]}"

ms_log "building the SQL files"
: >"$WORK/psql_up.sql"
: >"$WORK/psql_down.sql"
: >"$WORK/ext_apply.sql"
: >"$WORK/ext_register.sql"
for ((i = 0; i < N; i++)); do
    d=${DIRS[i]}
    base=${d##*/}                 # NNNN_name
    version=${base%%_*} name=${base#*_}
    { printf 'BEGIN;\n'; cat "$d/up.sql"; printf 'COMMIT;\n'; } >>"$WORK/psql_up.sql"
    stmt=$(ms_apply_sql "$version" "$d/up.sql" "$d/down.sql" "$name")
    printf '%s\n' "$stmt" >>"$WORK/ext_apply.sql"
    # migrate.register takes the same arguments as the per-migration migrate.apply.
    printf 'SELECT migrate.register(%s\n' "${stmt#SELECT migrate.apply(}" >>"$WORK/ext_register.sql"
done
for ((i = N - 1; i >= 0; i--)); do
    { printf 'BEGIN;\n'; cat "${DIRS[i]}/down.sql"; printf 'COMMIT;\n'; } >>"$WORK/psql_down.sql"
done
# Every safety check is on (the defaults). Rolling everything back drops columns that hold rows
# (data loss, refused unless allowed): the teardown allows it, as an operator would.
ALLOW="allow => ARRAY['drop-column, drop-table -- benchmark teardown']"
for ((i = 0; i < N; i++)); do echo "SELECT * FROM migrate.rollback(1, $ALLOW);"; done >"$WORK/ext_rollback1.sql"
echo 'SELECT * FROM migrate.apply();' >"$WORK/ext_apply_all.sql"
echo "SELECT * FROM migrate.rollback($N, $ALLOW);" >"$WORK/ext_rollback_all.sql"
[[ $(grep -c '^SELECT migrate.register(' "$WORK/ext_register.sql") -eq $N ]] ||
    ms_die "building the register file failed"

# Reference schema: public after a plain psql apply.
fresh_db bench_ref
"${MS_PSQL[@]}" -d bench_ref -f "$WORK/psql_up.sql" >/dev/null
dump_public bench_ref >"$WORK/reference.dump"
dropdb bench_ref

# ---- the three sequences; each appends its times to the arrays below
declare -a T_PSQL_UP=() T_PSQL_DOWN=() T_EXT_UP=() T_EXT_DOWN=()
declare -a C_PSQL_UP=() C_PSQL_DOWN=() C_EXT_UP=() C_EXT_DOWN=()    # backend CPU
declare -a T_REG=() T_APPLY_ALL=() T_REG_APPLY=() T_ROLLBACK_ALL=()

run_psql() {
    local db=bench_psql up down
    fresh_db "$db"
    up=$(bench_time_psql "$db" "$WORK/psql_up.sql")
    C_PSQL_UP+=("$(bench_last_cpu)")
    check_applied psql "$db"
    down=$(bench_time_psql "$db" "$WORK/psql_down.sql")
    C_PSQL_DOWN+=("$(bench_last_cpu)")
    check_rolled_back psql "$db"
    dropdb "$db"
    T_PSQL_UP+=("$up") T_PSQL_DOWN+=("$down")
    ms_log "  psql       apply ${up} s, rollback ${down} s (backend CPU ${C_PSQL_UP[-1]} s, ${C_PSQL_DOWN[-1]} s)"
}

run_ext() {
    local db=bench_ext up down
    fresh_db "$db"
    "${MS_PSQL[@]}" -d "$db" -c 'CREATE EXTENSION migrations_schema'
    up=$(bench_time_psql "$db" "$WORK/ext_apply.sql")
    C_EXT_UP+=("$(bench_last_cpu)")
    check_applied ext "$db" ext
    down=$(bench_time_psql "$db" "$WORK/ext_rollback1.sql")
    C_EXT_DOWN+=("$(bench_last_cpu)")
    check_rolled_back ext "$db" ext
    dropdb "$db"
    T_EXT_UP+=("$up") T_EXT_DOWN+=("$down")
    ms_log "  extension  apply ${up} s, rollback ${down} s (backend CPU ${C_EXT_UP[-1]} s, ${C_EXT_DOWN[-1]} s)"
}

run_ext_batch() {
    local db=bench_ext_batch reg up down
    fresh_db "$db"
    "${MS_PSQL[@]}" -d "$db" -c 'CREATE EXTENSION migrations_schema'
    reg=$(bench_time_psql "$db" "$WORK/ext_register.sql")
    up=$(bench_time_psql "$db" "$WORK/ext_apply_all.sql")
    check_applied ext_batch "$db" ext
    down=$(bench_time_psql "$db" "$WORK/ext_rollback_all.sql")
    check_rolled_back ext_batch "$db" ext
    dropdb "$db"
    T_REG+=("$reg") T_APPLY_ALL+=("$up") T_ROLLBACK_ALL+=("$down")
    T_REG_APPLY+=("$(awk -v a="$reg" -v b="$up" 'BEGIN { printf "%.3f", a + b }')")
    ms_log "  ext batch  register ${reg} s + apply() ${up} s, rollback($N) ${down} s"
}

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
LOADS=()
for ((rep = 1; rep <= REPS; rep++)); do
    LOADS+=("$(bench_load1)")
    ms_log "repetition $rep/$REPS (load $(bench_load1))"
    for seq in $(bench_rotate $((rep - 1)) psql ext ext_batch); do
        "run_$seq"
    done
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- report
m_pu=$(bench_median "${T_PSQL_UP[@]}")   m_pd=$(bench_median "${T_PSQL_DOWN[@]}")
m_eu=$(bench_median "${T_EXT_UP[@]}")    m_ed=$(bench_median "${T_EXT_DOWN[@]}")
m_reg=$(bench_median "${T_REG[@]}")      m_aa=$(bench_median "${T_APPLY_ALL[@]}")
m_ra=$(bench_median "${T_REG_APPLY[@]}") m_rb=$(bench_median "${T_ROLLBACK_ALL[@]}")
r_up=$(bench_ratio "$m_eu" "$m_pu")      r_down=$(bench_ratio "$m_ed" "$m_pd")

echo
echo "bench_apply: $N migrations, median of $REPS repetitions (PostgreSQL $(psql -XAtc 'SHOW server_version'), fsync $(psql -XAtc 'SHOW fsync'))"
printf '%-34s psql %7.3f s  extension %7.3f s  ratio %5.2f  %s\n' \
    "apply" "$m_pu" "$m_eu" "$r_up" "$(bench_verdict "$r_up" le "$TARGET")" \
    "rollback" "$m_pd" "$m_ed" "$r_down" "$(bench_verdict "$r_down" le "$TARGET")"
echo "extra rows (one apply()/rollback() call is ONE transaction for all $N migrations, the baseline commits"
echo "$N times; registering is $N transactions; not held to the target):"
printf '%-34s psql %7.3f s  extension %7.3f s  ratio %5.2f  (register %.3f s + apply() %.3f s)\n' \
    "register all + apply() in one call" "$m_pu" "$m_ra" "$(bench_ratio "$m_ra" "$m_pu")" "$m_reg" "$m_aa"
printf '%-34s psql %7.3f s  extension %7.3f s  ratio %5.2f\n' \
    "rollback($N) in one call" "$m_pd" "$m_rb" "$(bench_ratio "$m_rb" "$m_pd")"
echo "target: ratio <= $TARGET for apply and rollback (PASS/OVER; exit status 0 either way)"
# Backend CPU: less sensitive to other load on the machine; excludes fsync waits and psql.
if [[ ! " ${C_PSQL_UP[*]} ${C_PSQL_DOWN[*]} ${C_EXT_UP[*]} ${C_EXT_DOWN[*]} " =~ " NA " ]]; then
    c_pu=$(bench_median "${C_PSQL_UP[@]}") c_pd=$(bench_median "${C_PSQL_DOWN[@]}")
    c_eu=$(bench_median "${C_EXT_UP[@]}")  c_ed=$(bench_median "${C_EXT_DOWN[@]}")
    echo "backend CPU time (median; less noisy than wall time, leaves out fsync waits; informational):"
    printf '%-34s psql %7.3f s  extension %7.3f s  ratio %5.2f\n' \
        "apply" "$c_pu" "$c_eu" "$(bench_ratio "$c_eu" "$c_pu")" \
        "rollback" "$c_pd" "$c_ed" "$(bench_ratio "$c_ed" "$c_pd")"
else
    echo "backend CPU time: not available (/proc/PID/schedstat not readable)"
fi
echo "per-repetition wall seconds (in repetition order; backend CPU in brackets):"
echo "  psql apply     $(pairs "${T_PSQL_UP[@]}" -- "${C_PSQL_UP[@]}")"
echo "  ext apply      $(pairs "${T_EXT_UP[@]}" -- "${C_EXT_UP[@]}")"
echo "  psql rollback  $(pairs "${T_PSQL_DOWN[@]}" -- "${C_PSQL_DOWN[@]}")"
echo "  ext rollback   $(pairs "${T_EXT_DOWN[@]}" -- "${C_EXT_DOWN[@]}")"
echo "load average: start $LOAD_START, end $LOAD_END; 1-min load at each repetition: ${LOADS[*]}"
