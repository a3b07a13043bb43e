# shellcheck shell=bash
# Shared by the benchmarks in test/bench (sourced after test/lib/common.sh).

# bench_elapsed T0 T1: seconds between two $EPOCHREALTIME readings, 3 decimals.
bench_elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# bench_median X...: the median of numbers (the upper one of the two middle ones).
bench_median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# bench_time_psql DB SQLFILE: runs $WORK/pid.sql, SQLFILE and $WORK/cpu.sql in ONE psql session
# and prints its wall time in seconds. The two scripts around it (each benchmark writes its
# own) note the backend's pid and save the CPU time that backend used to $BENCH_CPU_FILE.
# Query output is discarded; messages go to $WORK/psql.log, whose tail is shown on failure.
bench_time_psql() {
    local db=$1 file=$2 t0 t1
    rm -f "$BENCH_CPU_FILE"
    t0=$EPOCHREALTIME
    if ! "${MS_PSQL[@]}" -d "$db" -f "$WORK/pid.sql" -f "$file" -f "$WORK/cpu.sql" \
        >/dev/null 2>>"$WORK/psql.log"; then
        tail -20 "$WORK/psql.log" >&2
        ms_die "psql -f $file failed on database $db"
    fi
    t1=$EPOCHREALTIME
    bench_elapsed "$t0" "$t1"
}

# fresh_db NAME: drops the database NAME if it exists and creates it empty.
fresh_db() {
    PGOPTIONS='-c client_min_messages=warning' dropdb --if-exists "$1"
    createdb "$1"
}

# bench_ratio A B: A / B with 2 decimals; NA when either is NA or B is 0.
bench_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "NA" || b == "NA" || b == 0) print "NA"; else printf "%.2f", a / b }'; }

# bench_verdict RATIO le|ge TARGET: PASS when RATIO <= (le) or >= (ge) TARGET, else OVER.
bench_verdict() {
    awk -v r="$1" -v op="$2" -v t="$3" 'BEGIN {
        if (r == "NA") print "NA"; else print ((op == "le" ? r <= t : r >= t) ? "PASS" : "OVER") }'
}

# bench_rotate K WORD...: the words rotated left by K (`bench_rotate 1 a b c` -> b c a), so that
# each repetition runs the variants in another order.
bench_rotate() { local k=$1; shift; local a=("$@"); k=$((k % ${#a[@]})); echo "${a[@]:k}" "${a[@]:0:k}"; }

# bench_load1: the 1-minute load average.
bench_load1() { cut -d' ' -f1 /proc/loadavg; }

# bench_repetitions NAME...: REPS repetitions, each calling run_NAME for every NAME, in an order
# rotated between repetitions. Sets LOAD_START, LOAD_END (load averages) and LOADS (the 1-minute
# load at each repetition) for bench_load_line.
bench_repetitions() {
    local rep seq
    LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
    LOADS=()
    for ((rep = 1; rep <= REPS; rep++)); do
        LOADS+=("$(bench_load1)")
        ms_log "repetition $rep/$REPS (load $(bench_load1))"
        for seq in $(bench_rotate $((rep - 1)) "$@"); do "run_$seq"; done
    done
    LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
}

# bench_load_line: what bench_repetitions saw of the machine's load.
bench_load_line() {
    echo "load average: start $LOAD_START, end $LOAD_END; 1-min load at each repetition: ${LOADS[*]}"
}

# bench_session_files: the $WORK/pid.sql and $WORK/cpu.sql that bench_time_psql runs around a
# script: the backend's pid, then its CPU time (/proc/PID/schedstat) into $BENCH_CPU_FILE.
bench_session_files() {
    export BENCH_CPU_FILE=$WORK/cpu
    printf '%s\n' 'SELECT pg_backend_pid() AS bench_pid \gset' '\setenv BENCH_PID :bench_pid' >"$WORK/pid.sql"
    # shellcheck disable=SC2016  # expanded by the shell that psql's \! starts
    printf '%s\n' '\! cat "/proc/$BENCH_PID/schedstat" >"$BENCH_CPU_FILE" 2>/dev/null || true' >"$WORK/cpu.sql"
}

# bench_last_cpu: backend CPU seconds of the last bench_time_psql run (NA when
# /proc/PID/schedstat is unavailable).
bench_last_cpu() {
    local ns
    ns=$(cut -d' ' -f1 "$BENCH_CPU_FILE" 2>/dev/null || true)
    if [[ $ns =~ ^[0-9]+$ ]]; then awk -v n="$ns" 'BEGIN { printf "%.3f", n / 1e9 }'; else echo NA; fi
}
