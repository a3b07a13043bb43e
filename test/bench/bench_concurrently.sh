#!/usr/bin/env bash
# Benchmark: what a migration that adds an index does to a live writer, with the index built
# CONCURRENTLY by a step after commit (migrate.apply returns 'applying', CALL migrate.wait()
# waits for the step) against a plain CREATE INDEX inside the apply() transaction.
#
#   test/bench/bench_concurrently.sh     defaults: ROWS=2000000 REPS=3 (2-3 minutes on 2 cores)
#
# Env knobs:
#   ROWS           rows of the table (default 2000000; about 100 bytes a row)
#   REPS           repetitions, interleaved, order rotated each repetition (default 3)
#   WARMUP         seconds the writer runs before the apply call (default 6); the writer's
#                  baseline is this window without its first second
#   TAIL           seconds the writer keeps running after the index is ready (default 2)
#   CLIENTS        writer connections (default 2)
#   RATE           writer transactions per second, all clients together (pgbench -R);
#                  empty (default): as fast as it can. With RATE, pgbench counts a
#                  transaction's latency from its scheduled start: lag behind the schedule is in it
#   BUILD_TIMEOUT  seconds the apply session may take before the run is aborted (default 600)
#
# One throwaway cluster (default settings, fsync on: the writer's commits wait for the disk as
# in production) serves every measurement. Untimed: a template database holds
#   big (id bigint PRIMARY KEY, k int, payload text)   ROWS rows, fixed values, frozen, analyzed
# and every measurement gets a fresh copy of it (CREATE DATABASE ... STRATEGY file_copy, which
# checkpoints), the extension, a read of the whole table (OS cache) and a CHECKPOINT.
#
# Then the writer starts: pgbench -c CLIENTS, one transaction = UPDATE of a random row's k + INSERT
# of a new row (fixed random seed), --log (every transaction's latency and end time) and -P 1.
# After WARMUP seconds ONE psql session runs
#   concurrently  SELECT migrate.apply('1', 'CREATE INDEX CONCURRENTLY big_k ON big (k);',
#                                      'DROP INDEX CONCURRENTLY big_k;');   -- 'applying'
#                 CALL migrate.wait();
#   plain         SELECT migrate.apply('1', 'CREATE INDEX big_k ON big (k);',
#                                      'DROP INDEX CONCURRENTLY big_k;',
#                                      allow => ARRAY['create-index-not-concurrent -- benchmark']);
#                 CALL migrate.wait();                                         -- returns at once
# (the lint refuses the plain CREATE INDEX on a table this size with one error-level finding,
# I301 create-index-not-concurrent; allowing that rule is all it takes). The session notes the
# server clock before apply, when apply returns and when wait returns: the build window is
# [before apply, wait returned]. The writer runs TAIL more seconds and is stopped with SIGALRM
# (pgbench's own end-of-duration signal: it finishes cleanly and closes its log).
#
# Measured, per variant (median over the repetitions; ratios are concurrently / plain):
#   apply() returns     seconds from the apply call until it returns (its transaction committed)
#   index ready         seconds from the apply call until wait() returned (the index is valid)
#   worst / p99 latency of the writer's transactions that overlap the build window (a plain
#                       build blocks them for the whole build: their latency is the build)
#   tps before / during transactions committed per second in the baseline window / the build
#                       window, and during / before
#   apply session CPU   CPU time of the apply session's backend (/proc/PID/schedstat), as in the
#                       other benchmarks; with CONCURRENTLY the build is not in that backend but in
#                       the extension's worker, and either build may use parallel workers, so:
#   build CPU           CPU of every process of the cluster during the build window (the
#                       postmaster's children, live ones and reaped ones, from /proc/PID/stat)
#                       minus that of the writer's backends: the build, its parallel workers, the
#                       step worker, WAL writer, checkpointer... (10 ms ticks)
#   and for CONCURRENTLY, where its time until ready goes: apply() returned -> step started,
#   the step, step finished -> wait() returned (migrate.steps.started_at / finished_at: now()
#   of the worker's bookkeeping transactions around the step)
#
# Checks (untimed) after every run, a failure aborts the run (exit 1): pgbench exited 0 with no
# failed transaction and committed transactions after the index was ready (the writer was
# running the whole window); apply returned 'applying' (concurrently) or 'applied' (plain);
# migrate.status() shows migration 1 'applied' and nothing else; big has exactly big_pkey and
# big_k, big_k is valid and ready, on (k); no invalid index anywhere in the database;
# amcheck's bt_index_check(big_k, heapallindexed) finds every row of big in the index; big
# holds ROWS + (transactions committed by the writer) rows, up to CLIENTS in flight at the stop;
# the server logged no ERROR, FATAL, PANIC or crashed process during the run.
# Being over a target does not fail: this is a benchmark, not a test; it prints PASS/OVER.
#
# Not part of test/run_all.sh.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROWS=${ROWS:-2000000}
REPS=${REPS:-3}
WARMUP=${WARMUP:-6}
TAIL=${TAIL:-2}
CLIENTS=${CLIENTS:-2}
RATE=${RATE:-}
BUILD_TIMEOUT=${BUILD_TIMEOUT:-600}
for v in ROWS REPS WARMUP TAIL CLIENTS BUILD_TIMEOUT; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || ms_die "$v must be a positive integer (got '${!v}')"
done
[[ $WARMUP -ge 2 ]] || ms_die "WARMUP must be at least 2 (its first second is not part of the baseline)"
[[ -z $RATE || $RATE =~ ^[1-9][0-9]*$ ]] || ms_die "RATE must be empty or a positive integer (got '$RATE')"

# Targets (PASS/OVER) for the CONCURRENTLY variant.
T_WORST=0.25      # its worst writer latency at most this fraction of the plain build's
T_APPLY=0.10      # apply() returns in at most this fraction of the plain apply()'s time
T_TPS=0.50        # the writer keeps at least this fraction of its baseline throughput

[[ -x $(ms_pgbin)/initdb ]] || ms_die "PostgreSQL 15 server binaries not found in $(ms_pgbin)"
[[ -x $(ms_pgbin)/pgbench ]] || ms_die "pgbench not found in $(ms_pgbin)"
[[ -r /proc/self/schedstat ]] || ms_log "note: /proc/PID/schedstat not readable; CPU times will be NA"

# ---- throwaway work dir and cluster, both removed on exit (also on failure or Ctrl-C)
WRITER_PID=
stop_writer() {
    if [[ -n $WRITER_PID ]] && kill -0 "$WRITER_PID" 2>/dev/null; then
        kill -TERM "$WRITER_PID" 2>/dev/null || true
        wait "$WRITER_PID" 2>/dev/null || true
    fi
}
ms_workdir bench_concurrently stop_writer  # test/lib/common.sh: the writer is stopped first

ms_cluster_start bench_concurrently
PM_PID=$(head -1 "$MS_CLUSTER_DIR/data/postmaster.pid")
# The cluster, psql and pgbench must be those of $(ms_pg_config), not whatever is on the PATH.
for b in psql pgbench createdb; do
    [[ $(command -v "$b") == "$(ms_pgbin)/$b" ]] || ms_die "$b is $(command -v "$b"), not $(ms_pgbin)/$b"
done
if [[ -r /proc/$PM_PID/exe ]]; then
    [[ $(readlink -f "/proc/$PM_PID/exe") == "$(readlink -f "$(ms_pgbin)/postgres")" ]] ||
        ms_die "the server runs $(readlink -f "/proc/$PM_PID/exe"), not $(ms_pgbin)/postgres"
fi
TICK=$(getconf CLK_TCK)

Q() { "${MS_PSQL[@]}" -At "$@"; }   # one query's bare output

# ---- helpers

# median of a space-separated list that may hold NA
med() {
    # shellcheck disable=SC2086  # word splitting intended
    if [[ " $1 " == *" NA "* ]]; then echo NA; else bench_median $1; fi
}

# The writer: one transaction = move a random row to another k, insert a new row.
cat >"$WORK/writer.sql" <<SQL
\\set id random(1, $ROWS)
\\set nk random(0, 999999)
BEGIN;
UPDATE big SET k = :nk WHERE id = :id;
INSERT INTO big (id, k, payload) VALUES (nextval('big_new_id'), :nk, 'row inserted by the benchmark writer while an index is built...');
END;
SQL

# CPU sample, run by the apply session (psql \!) right before its first and after its last
# timestamp: appends "LABEL server_ticks writer_ticks apply_ns" to $BENCH_RUN_DIR/cpu.
# server_ticks: utime+stime+cutime+cstime of the postmaster and of each of its live children
# (cutime of the postmaster: its reaped children). writer_ticks: the writer's backends.
cat >"$WORK/sample.sh" <<'SH'
set -u
label=$1 server=0 writer=0 line="" rest="" pid="" f=""
pm=$BENCH_PM_PID
declare -A wr=()
for pid in $(cat "$BENCH_RUN_DIR/writer_pids"); do wr[$pid]=1; done
for f in /proc/[0-9]*/stat; do
    read -r line <"$f" 2>/dev/null || continue
    pid=${f#/proc/}
    pid=${pid%/stat}
    # shellcheck disable=SC2086  # fields after "pid (comm) ": $1 state, $2 ppid, $12.. times
    rest=${line##*') '}
    set -- $rest
    if [[ $pid == "$pm" || $2 == "$pm" ]]; then
        server=$((server + ${12} + ${13} + ${14} + ${15}))
        [[ -n ${wr[$pid]:-} ]] && writer=$((writer + ${12} + ${13}))
    fi
done
apply=$(cut -d' ' -f1 "/proc/$BENCH_PID/schedstat" 2>/dev/null || echo NA)
echo "$label $server $writer $apply" >>"$BENCH_RUN_DIR/cpu"
SH

# The apply session of a variant; prints "times T_START T_APPLIED T_READY RESULT" (server clock,
# epoch seconds) on its last line.
apply_sql() {
    local v=$1 call
    if [[ $v == concurrently ]]; then
        call="SELECT migrate.apply('1', 'CREATE INDEX CONCURRENTLY big_k ON big (k);', 'DROP INDEX CONCURRENTLY big_k;') AS result \\gset"
    else
        call="SELECT migrate.apply('1', 'CREATE INDEX big_k ON big (k);', 'DROP INDEX CONCURRENTLY big_k;', allow => ARRAY['create-index-not-concurrent -- benchmark']) AS result \\gset"
    fi
    cat <<SQL
SELECT pg_backend_pid() AS bench_pid \\gset
\\setenv BENCH_PID :bench_pid
\\! bash "\$BENCH_WORK/sample.sh" start
SELECT extract(epoch FROM clock_timestamp()) AS t_start \\gset
$call
SELECT extract(epoch FROM clock_timestamp()) AS t_applied \\gset
CALL migrate.wait();
SELECT extract(epoch FROM clock_timestamp()) AS t_ready \\gset
\\! bash "\$BENCH_WORK/sample.sh" end
\\echo times :t_start :t_applied :t_ready :result
SQL
}

# writer_stats LOGFILES... with T_BASE T_START T_READY in the environment: prints
#   base_tps build_tps base_p99_ms base_max_ms build_p99_ms build_max_ms build_n after_n
# pgbench --log lines: client tx latency_us script epoch_s epoch_us [...]; a transaction ends
# at epoch_s.epoch_us and began latency_us before. Build window: transactions that overlap
# [T_START, T_READY]; throughput: transactions that end inside a window / its length.
writer_stats() {
    local lat_b lat_w
    lat_b=$(mktemp "$WORK/lat_XXXX") lat_w=$(mktemp "$WORK/lat_XXXX")
    # shellcheck disable=SC2016
    awk -v tb="$T_BASE" -v ts="$T_START" -v tr="$T_READY" -v fb="$lat_b" -v fw="$lat_w" '
        $3 ~ /^[0-9]+$/ {
            e = $5 + $6 / 1e6; l = $3 / 1e6; s = e - l
            if (e > tb && e <= ts) { nb++; print $3 > fb }
            if (e > ts && e <= tr) nw++
            if (e > ts && s < tr) { no++; print $3 > fw }
            if (e > tr) na++
        }
        END { printf "%.1f %.1f %d %d\n", nb / (ts - tb), nw / (tr - ts), no, na }' "$@" >"$WORK/ws"
    read -r base_tps build_tps build_n after_n <"$WORK/ws"
    # p99 (nearest rank) and maximum, in ms
    pct() { sort -g "$1" | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "NA NA"; exit }
        i = int(NR * 0.99); if (i < NR * 0.99) i++; printf "%.1f %.1f\n", v[i] / 1000, v[NR] / 1000 }'; }
    echo "$base_tps $build_tps $(pct "$lat_b") $(pct "$lat_w") $build_n $after_n"
    rm -f "$lat_b" "$lat_w"
}

# sessions other than ours on DB
others() { Q -d postgres -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$1' AND pid <> pg_backend_pid()"; }

diagnose() { # prints what may explain a hang or a failure
    echo "--- pg_stat_activity" >&2
    Q -d postgres -c "SELECT pid, datname, backend_type, state, wait_event_type, wait_event, left(query, 100)
                        FROM pg_stat_activity WHERE backend_type <> 'background writer'" >&2 || true
    echo "--- migrate.status()/steps" >&2
    Q -d bench_run -c "SELECT version, state, steps_done, steps_total, step, phase, error FROM migrate.status()" >&2 || true
    Q -d bench_run -c "SELECT queue_seq, position, state, error FROM migrate.steps" >&2 || true
    echo "--- server log (tail)" >&2
    tail -30 "$MS_CLUSTER_DIR/server.log" >&2 || true
}

# ---- the template database, built once
ms_log "building the template: $ROWS rows"
t0=$EPOCHREALTIME
createdb bench_tpl
"${MS_PSQL[@]}" -d bench_tpl >/dev/null <<SQL
CREATE TABLE big (id bigint PRIMARY KEY, k int, payload text);
INSERT INTO big
SELECT g, ((g * 2654435761) % 1000000)::int, md5(g::text) || md5((g + 1)::text)
  FROM generate_series(1, $ROWS) g;
CREATE SEQUENCE big_new_id START WITH $((ROWS + 1));
VACUUM (FREEZE, ANALYZE) big;
SQL
IFS='|' read -r TABLE_SIZE ROW_BYTES < <(Q -d bench_tpl -c "SELECT pg_size_pretty(pg_table_size('big')),
    round(pg_table_size('big')::numeric / $ROWS) FROM big LIMIT 1")
ms_log "template ready in $(bench_elapsed "$t0" "$EPOCHREALTIME") s: big is $TABLE_SIZE ($ROW_BYTES bytes a row with overhead)"

# ---- one measurement
declare -A M=()   # M[variant.metric] = values in repetition order
add() { M[$1.$2]="${M[$1.$2]:-}${M[$1.$2]:+ }$3"; }
db=bench_run

run_variant() {
    local v=$1 dir n rc res
    dir=$WORK/$v.$rep
    mkdir -p "$dir"
    chmod 777 "$dir"
    local log_from
    log_from=$(($(wc -l <"$MS_CLUSTER_DIR/server.log") + 1))
    Q -d postgres -c "CREATE DATABASE $db TEMPLATE bench_tpl STRATEGY file_copy" >/dev/null
    Q -d "$db" -c 'CREATE EXTENSION migrations_schema' -c 'CREATE EXTENSION amcheck' \
        -c 'SELECT count(*) FROM big' -c 'CHECKPOINT' >/dev/null
    n=$(Q -d "$db" -c "SELECT string_agg(indexrelid::regclass::text, ',') FROM pg_index WHERE indrelid = 'big'::regclass")
    [[ $n == big_pkey ]] || ms_die "$v: fresh database has indexes $n on big"
    apply_sql "$v" >"$dir/apply.sql"

    # the writer
    local rate_opt=()
    [[ -n $RATE ]] && rate_opt=(-R "$RATE")
    (cd "$dir" && exec pgbench -n -f "$WORK/writer.sql" -c "$CLIENTS" -j 1 -T 3600 -P 1 --log \
        --log-prefix=writer --random-seed=42 "${rate_opt[@]}" "$db" >pgbench.out 2>pgbench.err) &
    WRITER_PID=$!
    for ((n = 0; n < 100; n++)); do
        [[ $(Q -d postgres -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgbench' AND datname = '$db'") == "$CLIENTS" ]] && break
        kill -0 "$WRITER_PID" 2>/dev/null || { cat "$dir/pgbench.err" >&2; ms_die "$v: the writer did not start"; }
        sleep 0.1
    done
    Q -d postgres -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgbench' AND datname = '$db'" >"$dir/writer_pids"
    [[ $(wc -l <"$dir/writer_pids") == "$CLIENTS" ]] || ms_die "$v: the writer's $CLIENTS connections did not show up"
    T_BASE=$(awk -v t="$EPOCHREALTIME" 'BEGIN { printf "%.6f", t + 1 }')
    sleep "$WARMUP"

    # the migration
    rc=0
    BENCH_WORK=$WORK BENCH_RUN_DIR=$dir BENCH_PM_PID=$PM_PID \
        timeout "$BUILD_TIMEOUT" "${MS_PSQL[@]}" -d "$db" -f "$dir/apply.sql" >"$dir/apply.out" 2>"$dir/apply.err" || rc=$?
    if [[ $rc != 0 ]]; then
        cat "$dir/apply.err" >&2
        [[ $rc == 124 ]] && ms_log "$v: the apply session did not finish within $BUILD_TIMEOUT s"
        diagnose
        ms_die "$v: the apply session failed (exit $rc)"
    fi
    sleep "$TAIL"
    kill -ALRM "$WRITER_PID"
    rc=0
    wait "$WRITER_PID" || rc=$?
    WRITER_PID=
    [[ $rc == 0 ]] || { tail -20 "$dir/pgbench.err" >&2; ms_die "$v: the writer (pgbench) exited with $rc"; }
    grep -q '^number of failed transactions: 0 ' "$dir/pgbench.out" ||
        { cat "$dir/pgbench.out" >&2; ms_die "$v: the writer had failed transactions"; }

    # ---- checks (untimed)
    grep -q '^times ' "$dir/apply.out" || { cat "$dir/apply.out" "$dir/apply.err" >&2; ms_die "$v: no times from the apply session"; }
    read -r _ T_START T_APPLIED T_READY res < <(grep '^times ' "$dir/apply.out")
    local want=applied
    [[ $v == concurrently ]] && want=applying
    [[ $res == "$want" ]] || ms_die "$v: apply() returned '$res', expected '$want'"
    res=$(Q -d "$db" -c "SELECT string_agg(version || ':' || state, ',') FROM migrate.status()")
    [[ $res == 1:applied ]] || ms_die "$v: migrate.status() says $res, expected 1:applied"
    res=$(Q -d "$db" -c "SELECT string_agg(c.relname || ':' || i.indisvalid || ':' || i.indisready, ',' ORDER BY c.relname)
                           FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = 'big'::regclass")
    [[ $res == big_k:true:true,big_pkey:true:true ]] || ms_die "$v: indexes on big: $res (expected big_k and big_pkey, valid and ready)"
    res=$(Q -d "$db" -c "SELECT pg_get_indexdef('big_k'::regclass)")
    [[ $res == 'CREATE INDEX big_k ON public.big USING btree (k)' ]] || ms_die "$v: big_k is: $res"
    res=$(Q -d "$db" -c "SELECT count(*) FROM pg_index WHERE NOT indisvalid OR NOT indisready")
    [[ $res == 0 ]] || ms_die "$v: $res invalid or unready indexes left in the database"
    Q -d "$db" -c "SELECT bt_index_check('big_k', true)" >/dev/null ||
        ms_die "$v: amcheck: big_k does not index every row of big"
    res=$(tail -n "+$log_from" "$MS_CLUSTER_DIR/server.log" |
        grep -E '(ERROR|FATAL|PANIC):|terminated by signal|exited with exit code [1-9]' || true)
    [[ -z $res ]] || { echo "$res" >&2; ms_die "$v: the server logged errors during the run (above)"; }
    local committed rows
    committed=$(cat "$dir"/writer.* | awk '$3 ~ /^[0-9]+$/ { n++ } END { print n + 0 }')
    rows=$(Q -d "$db" -c "SELECT count(*) FROM big")
    ((rows >= ROWS + committed && rows <= ROWS + committed + CLIENTS)) ||
        ms_die "$v: big holds $rows rows, the writer committed $committed inserts on $ROWS rows"

    # ---- figures
    local stats base_tps build_tps bp99 bmax wp99 wmax wn an
    stats=$(T_BASE=$T_BASE T_START=$T_START T_READY=$T_READY writer_stats "$dir"/writer.*)
    read -r base_tps build_tps bp99 bmax wp99 wmax wn an <<<"$stats"
    ((an > 0)) || ms_die "$v: the writer committed nothing after the index was ready: the window is not covered"
    local s_srv s_wr s_app e_srv e_wr e_app apply_cpu build_cpu
    [[ $(grep -c -E '^(start|end) ' "$dir/cpu" 2>/dev/null) == 2 ]] ||
        { cat "$dir/apply.err" >&2; ms_die "$v: the apply session's CPU samples are missing"; }
    read -r _ s_srv s_wr s_app < <(grep '^start ' "$dir/cpu")
    read -r _ e_srv e_wr e_app < <(grep '^end ' "$dir/cpu")
    if [[ $s_app =~ ^[0-9]+$ && $e_app =~ ^[0-9]+$ ]]; then
        apply_cpu=$(awk -v a="$s_app" -v b="$e_app" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
    else
        apply_cpu=NA
    fi
    build_cpu=$(awk -v a="$s_srv" -v b="$e_srv" -v c="$s_wr" -v d="$e_wr" -v t="$TICK" \
        'BEGIN { printf "%.2f", ((b - a) - (d - c)) / t }')
    add "$v" apply "$(awk -v a="$T_START" -v b="$T_APPLIED" 'BEGIN { printf "%.3f", b - a }')"
    add "$v" ready "$(awk -v a="$T_START" -v b="$T_READY" 'BEGIN { printf "%.3f", b - a }')"
    add "$v" worst "$wmax"
    add "$v" p99 "$wp99"
    add "$v" base_p99 "$bp99"
    add "$v" base_max "$bmax"
    add "$v" base_tps "$base_tps"
    add "$v" build_tps "$build_tps"
    add "$v" tps_ratio "$(bench_ratio "$build_tps" "$base_tps")"
    add "$v" build_n "$wn"
    add "$v" apply_cpu "$apply_cpu"
    add "$v" build_cpu "$build_cpu"
    if [[ $v == concurrently ]]; then
        # where the time to ready goes: commit -> step started (worker start-up), the step,
        # step done -> wait() returned (now() of the worker's bookkeeping transactions)
        local st fin
        read -r st fin < <(Q -d "$db" -F ' ' -c "SELECT extract(epoch FROM started_at), extract(epoch FROM finished_at)
                                                 FROM migrate.steps WHERE version = '1' AND position = 1 AND state = 'done'")
        [[ -n $fin ]] || ms_die "$v: migrate.steps has no finished step 1 of migration 1"
        add "$v" to_start "$(awk -v a="$T_APPLIED" -v b="$st" 'BEGIN { printf "%.3f", b - a }')"
        add "$v" step "$(awk -v a="$st" -v b="$fin" 'BEGIN { printf "%.3f", b - a }')"
        add "$v" to_wait "$(awk -v a="$fin" -v b="$T_READY" 'BEGIN { printf "%.3f", b - a }')"
    fi
    ms_log "  $(printf '%-12s' "$v") apply() $(awk -v a="$T_START" -v b="$T_APPLIED" 'BEGIN { printf "%.3f", b - a }') s, ready $(awk -v a="$T_START" -v b="$T_READY" 'BEGIN { printf "%.3f", b - a }') s; writer worst ${wmax} ms, p99 ${wp99} ms, tps ${base_tps} -> ${build_tps}; CPU apply session ${apply_cpu} s, build ${build_cpu} s"

    # ---- drop the database; the step worker may still be on its way out
    for ((n = 0; n < 100; n++)); do
        [[ $(others "$db") == 0 ]] && break
        sleep 0.1
    done
    [[ $(others "$db") == 0 ]] || { diagnose; ms_die "$v: sessions still connected to $db 10 s after the run"; }
    Q -d postgres -c "DROP DATABASE $db" >/dev/null
}

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
LOADS=()
T_RUN0=$EPOCHREALTIME
for ((rep = 1; rep <= REPS; rep++)); do
    LOADS+=("$(bench_load1)")
    ORDER=$(bench_rotate $((rep - 1)) concurrently plain)
    ms_log "repetition $rep/$REPS (load $(bench_load1)): $ORDER"
    for v in $ORDER; do run_variant "$v"; done
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- report
row() { # row LABEL METRIC [FORMAT]: medians of both variants and their ratio
    local c p
    c=$(med "${M[concurrently.$2]}") p=$(med "${M[plain.$2]}")
    printf '%-44s %12s %12s %10s\n' "$1" "$c" "$p" "$(bench_ratio "$c" "$p")"
}
echo
echo "bench_concurrently: migration adding an index on big (k) while a writer runs; median of $REPS repetitions"
echo "  PostgreSQL $(Q -d postgres -c 'SHOW server_version'), fsync $(Q -d postgres -c 'SHOW fsync'), max_parallel_maintenance_workers $(Q -d postgres -c 'SHOW max_parallel_maintenance_workers'), binaries $(ms_pgbin)"
echo "  big: $ROWS rows, $TABLE_SIZE; writer: pgbench -c $CLIENTS, UPDATE + INSERT per transaction, ${RATE:-unthrottled}${RATE:+ tps}; baseline $((WARMUP - 1)) s before the build"
printf '%-44s %12s %12s %10s\n' "" concurrently plain "ratio c/p"
row "apply() returns after (s)" apply
row "index ready (wait() returned) after (s)" ready
row "writer worst latency during the build (ms)" worst
row "writer p99 latency during the build (ms)" p99
row "writer transactions overlapping the build" build_n
row "writer tps before the build" base_tps
row "writer tps during the build" build_tps
row "  during / before" tps_ratio
row "writer p99 latency before the build (ms)" base_p99
row "writer worst latency before the build (ms)" base_max
row "apply session backend CPU (s)" apply_cpu
row "build CPU: cluster minus writer backends (s)" build_cpu
echo "concurrently, where the time until ready goes (s; median; from migrate.steps.started_at/finished_at):"
printf '  %-42s %12s\n' "apply() returned -> step started (worker)" "$(med "${M[concurrently.to_start]}")" \
    "the step (CREATE INDEX CONCURRENTLY)" "$(med "${M[concurrently.step]}")" \
    "step finished -> wait() returned" "$(med "${M[concurrently.to_wait]}")"
echo "targets for concurrently (PASS/OVER; exit status 0 either way):"
r=$(bench_ratio "$(med "${M[concurrently.worst]}")" "$(med "${M[plain.worst]}")")
printf '  %-66s %5s  %s\n' "worst writer latency <= $T_WORST x plain's" "$r" "$(bench_verdict "$r" le "$T_WORST")"
r=$(bench_ratio "$(med "${M[concurrently.apply]}")" "$(med "${M[plain.apply]}")")
printf '  %-66s %5s  %s\n' "apply() returns in <= $T_APPLY x plain's time" "$r" "$(bench_verdict "$r" le "$T_APPLY")"
r=$(med "${M[concurrently.tps_ratio]}")
printf '  %-66s %5s  %s\n' "writer tps during the build >= $T_TPS x before" "$r" "$(bench_verdict "$r" ge "$T_TPS")"
echo "per repetition (in repetition order):"
for v in concurrently plain; do
    for m in apply ready worst p99 base_tps build_tps apply_cpu build_cpu to_start step to_wait; do
        [[ -n ${M[$v.$m]:-} ]] && printf '  %-12s %-10s %s\n' "$v" "$m" "${M[$v.$m]}"
    done
done
echo "load average: start $LOAD_START, end $LOAD_END; 1-min load at each repetition: ${LOADS[*]}"
echo "measurements took $(bench_elapsed "$T_RUN0" "$EPOCHREALTIME") s"
