#!/usr/bin/env bash
# Benchmark: migrate.verify() of the 285 crates.io migrations (../shared/corpora/crates_io)
# against the baseline of applying them and rolling them all back through the extension.
#
#   test/bench/bench_verify.sh           REPS=3 by default (env: REPS)
#
# One throwaway cluster (default settings, fsync on); every measurement gets a fresh database
# with the extension and the 285 migrations registered (untimed; migrate.register(version, up,
# down, name, order_key => corpus position), as test/corpus/verify_crates_io.sh does). Input for
# both sides: the corpus with the 8 down scripts that fail when everything is rolled back
# (corpus README: 0027 0028 0045 0050 0059 0132 0139 0235) replaced by empty ones, as
# pg_migrate_crates_io.sh does, since rollback(285) refuses to start with 0132's syntax error.
# Each repetition runs, in rotated order:
#
#   baseline  one psql session: `SELECT count(*) FROM migrate.apply()`, `CALL migrate.wait()`
#             (the 7 CONCURRENTLY up scripts run as steps after commit, and the migrations
#             queued behind them), then `SELECT count(*) FROM migrate.rollback(285, allow =>
#             ...)` and `CALL migrate.wait()` (down scripts with CONCURRENTLY steps). Checked
#             (untimed): all 285 applied after the first half, all rolled back after the second.
#   verify    one psql session: `SELECT count(*) FROM migrate.verify()` (every pending
#             migration: up, down, up again, with four catalog snapshots, in subtransactions that
#             are rolled back); the session fails unless it returns 285. Checked (untimed): all
#             285 still pending.
#
# Times are the wall time of the psql process (connection start-up included), median over the
# repetitions, with the backend's CPU time (/proc/PID/schedstat) next to them; the baseline's
# steps run in a background worker whose CPU is not in that figure. Target: verify <= 2x the
# baseline (PASS/FAIL; exit status 0 either way: a benchmark, not a test).
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=../corpus/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../corpus/lib.sh"

REPS=${REPS:-3}
TARGET=2.0
[[ $REPS =~ ^[1-9][0-9]*$ ]] || ms_die "REPS must be a positive integer (got '$REPS')"
corpus_find "bench_verify"
EMPTIED=" 0027 0028 0045 0050 0059 0132 0139 0235 "

ms_workdir bench_verify
ms_cluster_start bench_verify
bench_session_files
export PGOPTIONS='-c client_min_messages=warning'

# ---- inputs
: >"$WORK/empty.sql"
N=0
for d in "$CORPUS"/[0-9][0-9][0-9][0-9]_*/; do
    d=${d%/}
    base=${d##*/}
    seq=${base%%_*} rest=${base#*_}
    version=${rest%%_*}
    down=$d/down.sql
    [[ $EMPTIED == *" $seq "* ]] && down=$WORK/empty.sql
    sql=$(ms_apply_sql "${version//-/}" "$d/up.sql" "$down" "${rest#*_}")
    sql=${sql#SELECT migrate.apply(}
    printf 'SELECT migrate.register(%s, order_key => %s);\n' "${sql%);}" "$(ms_sql_literal "$seq")"
    N=$((N + 1))
done >"$WORK/register.sql"
ALLOW="allow => ARRAY['drop-table, drop-column -- benchmark teardown']"
printf '%s\n' 'SELECT count(*) FROM migrate.apply();' 'CALL migrate.wait();' >"$WORK/apply.sql"
printf '%s\n' "SELECT count(*) FROM migrate.rollback($N, $ALLOW);" 'CALL migrate.wait();' >"$WORK/rollback.sql"
cat >"$WORK/verify.sql" <<EOF
SELECT count(*) = $N AS verify_ok FROM migrate.verify() \\gset
\\if :verify_ok
\\else
SELECT 'migrate.verify() did not return $N rows' AS failure WHERE 1/0 = 1;
\\endif
EOF

setup_db() {
    fresh_db "$1"
    "${MS_PSQL[@]}" -d "$1" -c 'CREATE EXTENSION migrations_schema'
    "${MS_PSQL[@]}" -d "$1" -f "$WORK/register.sql" >/dev/null 2>>"$WORK/register.log"
}
states() {
    "${MS_PSQL[@]}" -d "$1" -At -c "SELECT string_agg(state || '=' || n, ' ' ORDER BY state)
        FROM (SELECT state, count(*) AS n FROM migrate.status() GROUP BY state) s"
}

declare -a T_APPLY=() T_ROLLBACK=() T_BASE=() T_VERIFY=() C_APPLY=() C_ROLLBACK=() C_BASE=() C_VERIFY=()

run_baseline() {
    local db=bench_base up down s
    setup_db "$db"
    up=$(bench_time_psql "$db" "$WORK/apply.sql")
    C_APPLY+=("$(bench_last_cpu)")
    s=$(states "$db")
    [[ $s == "applied=$N" ]] || ms_die "baseline: after apply() and wait(): $s, expected applied=$N"
    down=$(bench_time_psql "$db" "$WORK/rollback.sql")
    C_ROLLBACK+=("$(bench_last_cpu)")
    s=$(states "$db")
    [[ $s == "rolled back=$N" ]] || ms_die "baseline: after rollback($N) and wait(): $s, expected rolled back=$N"
    dropdb "$db"
    T_APPLY+=("$up") T_ROLLBACK+=("$down")
    T_BASE+=("$(awk -v a="$up" -v b="$down" 'BEGIN { printf "%.3f", a + b }')")
    C_BASE+=("$(awk -v a="${C_APPLY[-1]}" -v b="${C_ROLLBACK[-1]}" 'BEGIN { if (a == "NA" || b == "NA") print "NA"; else printf "%.3f", a + b }')")
    ms_log "  baseline  apply ${up} s + rollback ${down} s (backend CPU ${C_APPLY[-1]} s + ${C_ROLLBACK[-1]} s)"
}

run_verify() {
    local db=bench_verify t s
    setup_db "$db"
    t=$(bench_time_psql "$db" "$WORK/verify.sql")
    C_VERIFY+=("$(bench_last_cpu)")
    s=$(states "$db")
    [[ $s == "pending=$N" ]] || ms_die "verify: afterwards $s, expected pending=$N"
    dropdb "$db"
    T_VERIFY+=("$t")
    ms_log "  verify    ${t} s (backend CPU ${C_VERIFY[-1]} s)"
}

bench_repetitions baseline verify

m_a=$(bench_median "${T_APPLY[@]}") m_r=$(bench_median "${T_ROLLBACK[@]}")
m_b=$(bench_median "${T_BASE[@]}") m_v=$(bench_median "${T_VERIFY[@]}")
ratio=$(bench_ratio "$m_v" "$m_b")
verdict=$(bench_verdict "$ratio" le "$TARGET")
[[ $verdict == OVER ]] && verdict=FAIL
echo
echo "bench_verify: $N crates.io migrations, median of $REPS repetitions (PostgreSQL $(psql -XAtc 'SHOW server_version'), fsync $(psql -XAtc 'SHOW fsync'))"
printf '%-44s %8.3f s\n' "baseline: apply() + wait()" "$m_a" \
    "baseline: rollback($N) + wait()" "$m_r"
printf '%-44s %8.3f s (median of the sums)\n' "baseline: apply + rollback" "$m_b"
printf '%-44s %8.3f s\n' "verify(): $N migrations" "$m_v"
printf 'ratio verify / baseline %.2f  target <= %s  %s\n' "$ratio" "$TARGET" "$verdict"
if [[ ! " ${C_BASE[*]} ${C_VERIFY[*]} " =~ " NA " ]]; then
    c_b=$(bench_median "${C_BASE[@]}") c_v=$(bench_median "${C_VERIFY[@]}")
    printf 'backend CPU (median; the baseline'"'"'s background steps not included): baseline %.3f s  verify %.3f s  ratio %s\n' \
        "$c_b" "$c_v" "$(bench_ratio "$c_v" "$c_b")"
else
    echo "backend CPU time: not available (/proc/PID/schedstat not readable)"
fi
echo "per-repetition wall seconds (in repetition order; backend CPU in brackets):"
line() { local -n w=$1 c=$2; local i; for ((i = 0; i < ${#w[@]}; i++)); do printf ' %s [%s]' "${w[i]}" "${c[i]}"; done; echo; }
echo "  baseline apply    $(line T_APPLY C_APPLY)"
echo "  baseline rollback $(line T_ROLLBACK C_ROLLBACK)"
echo "  verify            $(line T_VERIFY C_VERIFY)"
bench_load_line
