#!/usr/bin/env bash
# Runs every test suite of migrations_schema and ends with one line "N passed, N failed".
#
#   bash test/run_all.sh                 install what is missing, build, install, run everything
#   bash test/run_all.sh --suite regress one suite: layout | regress | isolation | tap | corpus
#   MS_TAP_ONLY=005 bash test/run_all.sh --suite tap   only the TAP files whose name matches
#
# Robustness tests (TAP, test/t) add their counts to a stats file (MS_STATS_FILE, lines "key N"); the
# run prints their sums (trials, calls, crashes, inconsistencies) before the final line.
#
# Works as root (CI) and as an ordinary user with sudo. Every server it uses is a throwaway
# cluster it starts itself (as the non-root `postgres` OS user when run as root) and removes at
# exit. MS_SKIP_BUILD=1 skips installing packages and building (use what is installed).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

SUITES=(layout regress isolation tap corpus)
if [[ ${1:-} == --suite ]]; then
    [[ -n ${2:-} ]] || ms_die "usage: $0 [--suite layout|regress|isolation|tap|corpus]"
    SUITES=("$2")
fi

PASSED=0
FAILED=0
SKIPPED=0
FAILURES=()
LOGDIR=$(mktemp -d "${TMPDIR:-/tmp}/ms_tests_XXXXXX")
chmod 755 "$LOGDIR"
export MS_STATS_FILE="$LOGDIR/stats"
: >"$MS_STATS_FILE"
chmod 666 "$MS_STATS_FILE"

cleanup() {
    ms_cluster_stop
    rm -rf "$LOGDIR"
}
trap cleanup EXIT

count() { # count NAME ok|fail
    if [[ $2 == ok ]]; then
        PASSED=$((PASSED + 1))
    else
        FAILED=$((FAILED + 1))
        FAILURES+=("$1")
    fi
}

# pg_regress and pg_isolation_regress print one line per test: "test NAME ... ok|FAILED" up to
# 15, "ok N - NAME" or "not ok N - NAME" (TAP; "+" in a parallel group) since 16.
count_pg_regress() { # count_pg_regress SUITE LOGFILE
    local line
    while IFS= read -r line; do
        if [[ $line =~ ^test\ ([^ ]+)\ .*\.\.\.\ (ok|FAILED|failed) ]]; then
            if [[ ${BASH_REMATCH[2]} == ok ]]; then count "$1/${BASH_REMATCH[1]}" ok; else count "$1/${BASH_REMATCH[1]}" fail; fi
        elif [[ $line =~ ^ok\ [0-9]+\ +[-+]\ +([^ ]+) ]]; then
            count "$1/${BASH_REMATCH[1]}" ok
        elif [[ $line =~ ^not\ ok\ [0-9]+\ +[-+]\ +([^ ]+) ]]; then
            count "$1/${BASH_REMATCH[1]}" fail
        elif [[ $line =~ \.\.\.\  ]]; then
            count "$1/$(awk '{print $2}' <<<"$line")" fail  # a result line of another form
        fi
    done < <(grep -E '^(ok|not ok|test) ' "$2" || true)
}

run_make_check() { # run_make_check SUITE MAKE-ARGS...
    local suite=$1 log="$LOGDIR/$1.log"
    shift
    ms_log "suite $suite"
    make -C "$MS_ROOT" -s PG_CONFIG="$(ms_pg_config)" installcheck "$@" >"$log" 2>&1
    local rc=$?
    grep -E '^(ok|not ok|test) ' "$log" | sed 's/^/    /' >&2
    local before=$((PASSED + FAILED)) failed_before=$FAILED
    count_pg_regress "$suite" "$log"
    if [[ $rc -ne 0 ]]; then
        # show what differed
        local diffs
        for diffs in "$MS_ROOT/regression.diffs" "$MS_ROOT/output_iso/regression.diffs"; do
            [[ -s $diffs ]] && head -150 "$diffs" >&2
        done
        # a failure before any test ran (no server, build problem), or one that no test line
        # shows, counts as one failure
        if [[ $((PASSED + FAILED)) -eq $before || $FAILED -eq $failed_before ]]; then
            tail -20 "$log" >&2
            count "$suite" fail
        fi
    fi
}

# The shape of the source tree and the lint rules' pages and tests: no server needed.
suite_layout() {
    ms_log "suite layout"
    local check name
    for check in "$MS_ROOT"/test/check_*.sh; do
        name=$(basename "$check" .sh)
        if bash "$check" >"$LOGDIR/$name.log" 2>&1; then
            count "layout/$name" ok
        else
            count "layout/$name" fail
        fi
        sed 's/^/    /' "$LOGDIR/$name.log" >&2
    done
}

suite_regress() {
    run_make_check regress ISOLATION=
}

suite_isolation() {
    run_make_check isolation REGRESS=
}

# TAP tests (test/t/*.pl) use PostgreSQL::Test::Cluster, which starts its own nodes and refuses to
# run as root: run prove as the non-root user, from a copy of the tests it can read.
suite_tap() {
    ms_log "suite tap"
    local pgxs perl5 tapdir f rc log started dbmate npgm
    pgxs=$(dirname "$("$(ms_pg_config)" --pgxs)")/..
    dbmate=$(ms_dbmate)  # pg_migrate's test makes its dbmate folder with dbmate itself
    npgm=$(ms_node_pg_migrate)  # 012 lets node-pg-migrate migrate a database, then adopts it
    perl5=$(cd "$pgxs/test/perl" && pwd)
    tapdir=$(mktemp -d "${TMPDIR:-/tmp}/ms_tap_XXXXXX")
    cp -r "$MS_ROOT/test/t" "$tapdir/t"
    chmod -R a+rX "$tapdir"
    chown -R "$(ms_run_user)" "$tapdir" 2>/dev/null || true
    for f in "$tapdir"/t/*.pl; do
        [[ -n ${MS_TAP_ONLY:-} && $(basename "$f") != *"$MS_TAP_ONLY"* ]] && continue
        log="$LOGDIR/tap_$(basename "$f" .pl).log"
        started=$SECONDS
        ms_as_run_user env PATH="$(ms_pgbin):$PATH" PERL5LIB="$perl5" TESTDIR="$tapdir" \
            PG_REGRESS="$pgxs/test/regress/pg_regress" MS_DBMATE="$dbmate" MS_NODE_PG_MIGRATE="$npgm" PG_MIGRATE_ALEMBIC="/usr/bin/python3 -m alembic" MS_FUZZ_SAVE="${MS_FUZZ_SAVE:-}" MS_SEED="${MS_SEED:-}" MS_FUZZ_CALLS="${MS_FUZZ_CALLS:-}" MS_STATS_FILE="$MS_STATS_FILE" PGHOST= PGPORT= PGUSER= PGDATABASE= \
            bash -c "cd '$tapdir' && prove -v 't/$(basename "$f")'" >"$log" 2>&1
        rc=$?
        grep -E '^(ok|not ok)' "$log" | sed 's/^/    /' >&2
        ms_log "tap/$(basename "$f"): $((SECONDS - started)) s"
        if [[ $rc -eq 0 ]]; then
            count "tap/$(basename "$f")" ok
        else
            # the test's notes and diagnostics (seed, what disagreed), then how it ended
            grep -E '^# ' "$log" | head -100 | sed 's/^/    /' >&2
            tail -40 "$log" >&2
            count "tap/$(basename "$f")" fail
        fi
    done
    rm -rf "$tapdir"
}

# The real corpus (../shared/corpora/crates_io): apply all, roll back all, apply all again; by
# SQL calls, then with pg_migrate on the corpus in its own diesel layout; then migrate.verify()
# of every migration against a pg_dump ground truth.
suite_corpus() {
    ms_log "suite corpus"
    run_corpus crates_io run_crates_io.sh
    # the same corpus in its own diesel layout, through pg_migrate
    run_corpus crates_io_pg_migrate pg_migrate_crates_io.sh
    # migrate.verify() of every migration against pg_dump around its up and down scripts
    run_corpus crates_io_verify verify_crates_io.sh
    # verify() with incremental snapshots against full ones (corpus and the regress cases)
    run_corpus verify_incremental verify_incremental.sh
}

# run_corpus NAME SCRIPT: one corpus script; skipped when it says the corpus is absent.
run_corpus() {
    local log="$LOGDIR/corpus_$1.log" rc
    bash "$MS_ROOT/test/corpus/$2" >"$log" 2>&1
    rc=$?
    sed 's/^/    /' "$log" >&2
    if [[ $rc -eq 0 ]] && grep -q 'corpus not found' "$log"; then
        SKIPPED=$((SKIPPED + 1))
    elif [[ $rc -eq 0 ]]; then
        count "corpus/$1" ok
    else
        count "corpus/$1" fail
    fi
}

if [[ -z ${MS_SKIP_BUILD:-} ]]; then
    ms_install_deps
    ms_build_install
    ms_build_install_tests
elif [[ ! -f $("$(ms_pg_config)" --pkglibdir)/ms_selftest.so ]]; then
    ms_build_install_tests  # the suites need the test module even when the build is skipped
fi
ms_cluster_start tests fsync=off

for s in "${SUITES[@]}"; do
    case $s in
        layout | regress | isolation | tap | corpus) "suite_$s" ;;
        *) ms_die "unknown suite: $s" ;;
    esac
done

# robustness figures reported by the tests ("key N" lines), summed
if [[ -s $MS_STATS_FILE ]]; then
    awk '{ sum[$1] += $2 }
         END { printf "robustness: %d trials, %d calls, %d crashes, %d inconsistencies\n",
                      sum["trials"], sum["calls"], sum["crashes"], sum["inconsistencies"] }' \
        "$MS_STATS_FILE"
fi

if [[ ${#FAILURES[@]} -gt 0 ]]; then
    ms_log "failed: ${FAILURES[*]}"
fi
ms_summary "$PASSED" "$FAILED" "$SKIPPED"
[[ $FAILED -eq 0 ]]
