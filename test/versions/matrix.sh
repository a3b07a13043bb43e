#!/usr/bin/env bash
# Runs every test suite on each supported PostgreSQL version and ends with one line
# "N passed, N failed" (the sums):
#
#   bash test/versions/matrix.sh              15, 17 and 18
#   bash test/versions/matrix.sh 17           the versions given
#
# 15 is the README's test command itself (bash test/run_all.sh: the system's PostgreSQL 15,
# installing what is missing). 17 and 18 come from test/versions/setup.sh (fetched once, cached
# in MS_PG_CACHE); each builds in a throwaway copy of the work tree (failing on a warning),
# installs into that cached server, and runs test/run_all.sh there with its pg_config. Prints
# each version's time.
# Every version runs even when one fails; the exit status is 0 only when all passed.
set -uo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

VERSIONS=("$@")
[[ ${#VERSIONS[@]} -gt 0 ]] || VERSIONS=(15 17 18)
ms_workdir versions_matrix

passed=0
failed=0
skipped=0
summary=()

# add_result VERSION LOG SECONDS RC: adds the counts of run_all.sh's last line; a run that
# exited non-zero without a failure in it counts one.
add_result() {
    local line p=0 f=1 s=0
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$2" | tail -1)
    if [[ $line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed(,\ ([0-9]+)\ skipped)? ]]; then
        p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]} s=${BASH_REMATCH[4]:-0}
        if [[ $4 -ne 0 && $f -eq 0 ]]; then
            f=1
            line+=" (but exit status $4: 1 failure counted)"
        fi
    else
        line="no result (the run stopped early: 1 failure counted)"
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    skipped=$((skipped + s))
    summary+=("PostgreSQL $1: $line in $(($3 / 60)) min $(($3 % 60)) s")
}

for v in "${VERSIONS[@]}"; do
    log=$WORK/pg$v.log
    started=$SECONDS
    ms_log "PostgreSQL $v: every suite"
    case $v in
        15)
            bash "$MS_ROOT/test/run_all.sh" 2>&1 | tee "$log"
            rc=${PIPESTATUS[0]}
            ;;
        *)  # setup.sh knows which versions it can fetch, and refuses the others
            (
                set -e
                ms_install_deps  # the Debian packages the suites use (psql 15 among them)
                tree=$WORK/tree$v
                pgc=$(ms_build_version "$v" "$tree")  # fails on a warning
                ms_log "PostgreSQL $v: built; installing into $(dirname "$(dirname "$pgc")")"
                # nothing of an earlier install in the cached server (old upgrade scripts)
                ms_as_root rm -f "$("$pgc" --sharedir)"/extension/migrations_schema* \
                    "$("$pgc" --pkglibdir)"/migrations_schema.so "$("$pgc" --pkglibdir)"/ms_selftest.so
                ms_as_root make -C "$tree" -s PG_CONFIG="$pgc" install >/dev/null
                ms_as_root make -C "$tree/test/selftest" -s PG_CONFIG="$pgc" install >/dev/null
                # the corpus scripts find ../shared beside the tree they run from
                [[ -d $MS_ROOT/../shared && ! -e $WORK/shared ]] && ln -s "$MS_ROOT/../shared" "$WORK/shared"
                PG_CONFIG=$pgc MS_SKIP_BUILD=1 bash "$tree/test/run_all.sh"
            ) 2>&1 | tee "$log"
            rc=${PIPESTATUS[0]}
            ;;
    esac
    add_result "$v" "$log" $((SECONDS - started)) "$rc"
done

printf '%s\n' "${summary[@]}" >&2
ms_summary "$passed" "$failed" "$skipped"
[[ $failed -eq 0 ]]
