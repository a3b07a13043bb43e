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
