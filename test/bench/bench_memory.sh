#!/usr/bin/env bash
# Benchmark: the backend's memory while applying and rolling back many migrations.
#
#   test/bench/bench_memory.sh          N=1000 by default (env: N, at least 100)
#
# Each migration creates a table with a primary key, an index, a comment and an added column;
# its down script drops the table. On one throwaway cluster (default settings), fresh database
# per scenario:
#
#   one call      register N migrations, then ONE `SELECT count(*) FROM migrate.apply()` applies
#                 them all (one transaction), then ONE `migrate.rollback(N)` rolls them all back.
#                 Baseline: the same up scripts run by plain psql in one BEGIN/COMMIT, then the
#                 down scripts in another. Measured: the backend's peak anonymous memory
#                 (RssAnon of /proc/PID/status, sampled every 10 ms from outside while the call
#                 runs; shared buffers are not anonymous memory) and, after the call, the total
#                 of its memory contexts (pg_backend_memory_contexts). The same with N/10, to show
#                 how the peak grows with the number of migrations.
#   many calls    ONE session sends N `SELECT migrate.apply(version, up, down)` (one transaction
#                 each), then N `SELECT * FROM migrate.rollback(1)`; after every N/10 calls it
#                 reads its memory-context total and RssAnon. Baseline: one psql session running
#                 the same scripts, each in BEGIN/COMMIT.
#
# PostgreSQL itself keeps a cache entry for every table a session has touched (CacheMemoryContext),
# so memory grows in both columns; the figure that matters is the difference between the
# extension and the baseline, and whether it grows with N. Prints the figures and the ratios
# extension / baseline; exits non-zero only when a step fails.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N=${N:-1000}
[[ $N =~ ^[1-9][0-9]*$ && $N -ge 100 ]] || ms_die "N must be an integer >= 100 (got '$N')"

SAMPLER=
stop_sampler() { if [[ -n $SAMPLER ]]; then kill "$SAMPLER" 2>/dev/null || true; fi; }
# throwaway work dir and cluster, both removed on exit, the sampler stopped first (test/lib/common.sh)
ms_workdir bench_memory stop_sampler
ms_cluster_start bench_memory


up_sql() { # up_sql I
    printf 'CREATE TABLE m_%d (id bigint PRIMARY KEY, v text);\n' "$1"
    printf 'CREATE INDEX m_%d_v ON m_%d (v);\n' "$1" "$1"
    printf "COMMENT ON TABLE m_%d IS 'migration %d';\n" "$1" "$1"
    printf 'ALTER TABLE m_%d ADD COLUMN w int;\n' "$1"
}
down_sql() { printf 'DROP TABLE m_%d;\n' "$1"; }
lit() { ms_sql_literal "$1"; }

# kB of anonymous memory of process PID now
rss_anon() { awk '/^RssAnon:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# sample_peak PID OUTFILE: writes the largest RssAnon seen until killed
sample_peak() {
    local pid=$1 out=$2 max=0 v
    while kill -0 "$pid" 2>/dev/null; do
        v=$(rss_anon "$pid")
        [[ $v -gt $max ]] && { max=$v; echo "$max" >"$out"; }
        sleep 0.01
    done
}

# run_measured DB SQLFILE LABEL: runs SQLFILE in one session whose first statement publishes the
# backend pid; samples the peak RssAnon while the rest runs; prints "LABEL peak_kB contexts_kB".
run_measured() {
    local db=$1 file=$2 label=$3 pid peak ctx
    mkfifo "$WORK/go"
    {
        "${MS_PSQL[@]}" -At -d "$db" -f "$WORK/wait.sql" -f "$file" \
            -c 'SELECT sum(total_bytes) / 1024 FROM pg_backend_memory_contexts' >"$WORK/out"
    } &
    local psql_pid=$!
    pid=$(head -1 "$WORK/go")
    echo 0 >"$WORK/peak"
    sample_peak "$pid" "$WORK/peak" &
    SAMPLER=$!
    rm -f "$WORK/go"
    wait "$psql_pid" || ms_die "psql -f $file failed on $db"
    kill "$SAMPLER" 2>/dev/null || true
    wait "$SAMPLER" 2>/dev/null || true
    SAMPLER=
    peak=$(cat "$WORK/peak")
    ctx=$(tail -1 "$WORK/out")
    echo "$label $peak $ctx"
}
# The session writes its pid into the fifo (read by run_measured) before the measured part.
# shellcheck disable=SC2016
printf '%s\n' 'SELECT pg_backend_pid() AS pid \gset' '\setenv MEM_PID :pid' \
    "\\! echo \$MEM_PID > $WORK/go" >"$WORK/wait.sql"

# ---- scripts
gen_register() { # gen_register COUNT FILE
    local i
    : >"$2"
    for ((i = 1; i <= $1; i++)); do
        printf 'SELECT migrate.register(%s, %s, %s);\n' "$(lit "$(printf '%05d' "$i")")" \
            "$(lit "$(up_sql "$i")")" "$(lit "$(down_sql "$i")")" >>"$2"
    done
}
gen_plain() { # gen_plain COUNT UPFILE DOWNFILE (one transaction each)
    local i
    { echo 'BEGIN;'; for ((i = 1; i <= $1; i++)); do up_sql "$i"; done; echo 'COMMIT;'; } >"$2"
    { echo 'BEGIN;'; for ((i = $1; i >= 1; i--)); do down_sql "$i"; done; echo 'COMMIT;'; } >"$3"
}

one_call() { # one_call COUNT
    local n=$1
    gen_register "$n" "$WORK/register.sql"
    gen_plain "$n" "$WORK/plain_up.sql" "$WORK/plain_down.sql"
    echo 'SELECT count(*) FROM migrate.apply();' >"$WORK/apply_all.sql"
    echo "SELECT count(*) FROM migrate.rollback($n);" >"$WORK/rollback_all.sql"

    fresh_db mem_ext
    "${MS_PSQL[@]}" -d mem_ext -c 'CREATE EXTENSION migrations_schema' -f "$WORK/register.sql" >/dev/null
    local a r
    a=$(run_measured mem_ext "$WORK/apply_all.sql" "ext_apply_$n")
    r=$(run_measured mem_ext "$WORK/rollback_all.sql" "ext_rollback_$n")
    local applied
    applied=$("${MS_PSQL[@]}" -At -d mem_ext -c "SELECT count(*) FROM migrate.history WHERE action = 'apply'")
    [[ $applied -eq $n ]] || ms_die "expected $n applies in history, found $applied"

    fresh_db mem_plain
    local pa pr
    pa=$(run_measured mem_plain "$WORK/plain_up.sql" "plain_up_$n")
    pr=$(run_measured mem_plain "$WORK/plain_down.sql" "plain_down_$n")
    echo "$a" "$pa"
    echo "$r" "$pr"
}

many_calls() { # many_calls COUNT: one session, COUNT applies then COUNT rollbacks
    local n=$1 step=$(($1 / 10)) i
    local probe="SELECT 'probe', %d, (SELECT sum(total_bytes) / 1024 FROM pg_backend_memory_contexts), (SELECT trim(split_part(split_part(pg_read_file('/proc/self/status'), 'RssAnon:', 2), 'kB', 1)));\n"
    {
        printf "$probe" 0
        for ((i = 1; i <= n; i++)); do
            printf 'SELECT migrate.apply(%s, %s, %s);\n' "$(lit "$(printf '%05d' "$i")")" \
                "$(lit "$(up_sql "$i")")" "$(lit "$(down_sql "$i")")"
            ((i % step == 0)) && printf "$probe" "$i"
        done
        for ((i = 1; i <= n; i++)); do
            echo 'SELECT count(*) FROM migrate.rollback(1);'
            ((i % step == 0)) && printf "$probe" $((n + i))
        done
    } >"$WORK/many_ext.sql"
    {
        printf "$probe" 0
        for ((i = 1; i <= n; i++)); do
            echo 'BEGIN;'
            up_sql "$i"
            echo 'COMMIT;'
            ((i % step == 0)) && printf "$probe" "$i"
        done
        for ((i = n; i >= 1; i--)); do
            printf 'BEGIN;\n%sCOMMIT;\n' "$(down_sql "$i")"
            (((n - i + 1) % step == 0)) && printf "$probe" $((2 * n - i + 1))
        done
    } >"$WORK/many_plain.sql"
    fresh_db mem_ext
    "${MS_PSQL[@]}" -d mem_ext -c 'CREATE EXTENSION migrations_schema' >/dev/null
    "${MS_PSQL[@]}" -At -F ' ' -d mem_ext -f "$WORK/many_ext.sql" | grep '^probe' >"$WORK/probe_ext"
    fresh_db mem_plain
    "${MS_PSQL[@]}" -At -F ' ' -d mem_plain -f "$WORK/many_plain.sql" | grep '^probe' >"$WORK/probe_plain"
    echo "calls (apply, then rollback)  ext contexts kB  ext RssAnon kB  plain contexts kB  plain RssAnon kB  ext-plain contexts kB"
    paste -d ' ' "$WORK/probe_ext" "$WORK/probe_plain" |
        awk '{ printf "%29d  %15d  %14d  %17d  %16d  %21d\n", $2, $3, $4, $7, $8, $3 - $7 }'
}

ms_log "one call: apply() of N/10 and N registered migrations, rollback(N) (N=$N)"
{
    one_call $((N / 10))
    one_call "$N"
} >"$WORK/one"
echo
echo "one call                    ext peak RssAnon kB  ext contexts after kB   plain peak RssAnon kB  plain contexts after kB  peak ratio"
awk '{ printf "%-26s  %20d  %20d  %22d  %23d  %10.2f\n", $1, $2, $3, $5, $6, ($5 > 0 ? $2 / $5 : 0) }' "$WORK/one"
echo
ms_log "many calls: $N applies and $N rollbacks in one session, probed every $((N / 10))"
many_calls "$N"
