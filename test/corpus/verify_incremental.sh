#!/usr/bin/env bash
# The incremental snapshot of migrate.verify() (docs/performance.md) against the full one: the
# same calls with migrations_schema.snapshot_incremental on and off must give byte-identical
# results.
#
#   1. the regress suite's verify cases: test/sql/verify.sql through psql (echoing every
#      statement and its result), once in a fresh database with the setting off and once with
#      it on; the two outputs must be identical.
#   2. the crates.io corpus (../shared/corpora/crates_io; skipped without it): its 285
#      migrations registered in a fresh database, then `SELECT version, reversible, rerunnable,
#      differences, error FROM migrate.verify()` (every pending migration) with the setting off
#      and on; then all of them applied (apply(), CALL migrate.wait()) and the same with
#      verify(applied => true). Each pair must be identical.
#
# With the setting on, the snapshots verify patched, found unchanged or read in full (and why)
# are counted from its DEBUG1 messages and printed. Exit status 0 when everything is identical,
# 1 otherwise.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ms_workdir corpus_incremental
ms_cluster_start corpus_incremental fsync=off
PSQL=(psql -X -q -v ON_ERROR_STOP=1)
export PGOPTIONS='-c client_min_messages=warning'
PROBLEMS=0
problem() { PROBLEMS=$((PROBLEMS + 1)); echo "  PROBLEM: $*"; }

# same LABEL A B: A and B must be identical files.
same() {
    if cmp -s "$2" "$3"; then
        echo "  $1: identical ($(wc -l <"$2") lines)"
    else
        problem "$1: the outputs differ (incremental off: $2, on: $3):"
        diff -u "$2" "$3" | head -40 | sed 's/^/      /'
    fi
}

# tally FILE: what the incremental snapshot did, from its DEBUG1 messages in FILE.
tally() {
    grep -o 'migrations_schema: snapshot .*' "$1" | sed 's/ ([0-9]* relations)$//' \
        | sort | uniq -c | sort -rn | sed 's/^/      /' || true
}

# --- 1. the regress suite's verify cases ------------------------------------------------------
echo "== 1. test/sql/verify.sql with migrations_schema.snapshot_incremental off and on"
for mode in off on; do
    "${PSQL[@]}" -c "CREATE DATABASE regress_$mode"
    "${PSQL[@]}" -d "regress_$mode" -c 'CREATE EXTENSION migrations_schema'
    # The script's own errors are part of its output (as in pg_regress): no ON_ERROR_STOP.
    PGOPTIONS="-c client_min_messages=warning -c migrations_schema.snapshot_incremental=$mode" \
        psql -X -a -d "regress_$mode" -f "$MS_ROOT/test/sql/verify.sql" >"$WORK/regress_$mode.out" 2>&1 || true
    "${PSQL[@]}" -c "DROP DATABASE regress_$mode"
done
# The database's name is in some messages.
sed -i 's/regress_o[nf]*/regress_X/g' "$WORK/regress_off.out" "$WORK/regress_on.out"
same "verify.sql" "$WORK/regress_off.out" "$WORK/regress_on.out"

# --- 2. the crates.io corpus ----------------------------------------------------------------
CORPUS=$MS_ROOT/../shared/corpora/crates_io
if [[ ! -d $CORPUS ]]; then
    echo "crates_io corpus not found at $CORPUS: part 2 skipped"
else
    echo "== 2. the crates.io corpus: verify() with the setting off and on"
    for d in "$CORPUS"/[0-9][0-9][0-9][0-9]_*/; do
        d=${d%/}
        base=${d##*/}
        rest=${base#*_}
        version=${rest%%_*}
        sql=$(ms_apply_sql "${version//-/}" "$d/up.sql" "$d/down.sql" "${rest#*_}")
        sql=${sql#SELECT migrate.apply(}
        printf 'SELECT migrate.register(%s, order_key => %s);\n' "${sql%);}" "$(ms_sql_literal "${base%%_*}")"
    done >"$WORK/register.sql"
    "${PSQL[@]}" -c 'CREATE DATABASE corpus'
    "${PSQL[@]}" -d corpus -c 'CREATE EXTENSION migrations_schema'
    "${PSQL[@]}" -d corpus -f "$WORK/register.sql" >/dev/null 2>"$WORK/register.err"
    QUERY='SELECT version, reversible, rerunnable, differences, error FROM migrate.verify'
    # verify_as MODE ARGS OUT: one verify() call with the setting MODE; DEBUG1 messages to OUT.log.
    verify_as() {
        PGOPTIONS="-c client_min_messages=debug1 -c migrations_schema.snapshot_incremental=$1" \
            "${PSQL[@]}" -d corpus -At -c "$QUERY($2)" >"$3" 2>"$3.log" \
            || { tail -5 "$3.log"; problem "verify($2) failed with the setting $1"; }
    }
    for mode in off on; do verify_as "$mode" "" "$WORK/pending_$mode.out"; done
    same "verify() of the $(wc -l <"$WORK/pending_on.out") pending migrations" \
        "$WORK/pending_off.out" "$WORK/pending_on.out"
    echo "    with the setting on, the snapshots after each script:"
    tally "$WORK/pending_on.out.log"
    "${PSQL[@]}" -d corpus -c 'SELECT count(*) FROM migrate.apply()' -c 'CALL migrate.wait()' >/dev/null \
        2>"$WORK/apply.err" || { tail -5 "$WORK/apply.err"; problem "apply() of the corpus failed"; }
    for mode in off on; do verify_as "$mode" "applied => true" "$WORK/applied_$mode.out"; done
    same "verify(applied => true) of the $(wc -l <"$WORK/applied_on.out") applied migrations" \
        "$WORK/applied_off.out" "$WORK/applied_on.out"
    echo "    with the setting on, the snapshots after each script:"
    tally "$WORK/applied_on.out.log"
fi

if ((PROBLEMS > 0)); then
    echo "verify_incremental: $PROBLEMS problem(s)"
    exit 1
fi
echo "verify_incremental: incremental and full snapshots agree"
