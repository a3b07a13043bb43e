#!/usr/bin/env bash
# The extension under UndefinedBehaviorSanitizer and under valgrind (memcheck).
#
#   bash test/sanitize.sh          (env: MS_FUZZ_CALLS, default 20000, for the UBSan fuzz run;
#                                   MS_VALGRIND_CALLS, default 3000, for the valgrind one)
#
# Both run in a private copy of the PostgreSQL 15 installation under a temporary directory (the
# system installation is not touched), whose `postgres` is a wrapper:
#
# 1. UBSan: the library built with -fsanitize=undefined -fno-sanitize-recover=all (the first
#    finding aborts the backend, which the tests see as a crash). Against it: the pg_regress and
#    isolation suites, the fuzz test (test/t/007_fuzz.pl) and the crash test (test/t/005).
# 2. valgrind: the ordinary library, every server process run by valgrind --tool=memcheck. The
#    pg_regress suites and a lighter fuzz run (no 10 MB inputs). PostgreSQL itself is not built
#    for valgrind (its palloc chunks are not tracked, and it writes uninitialised padding to
#    files), so only the reports with a frame in migrations_schema.so count.
#
# AddressSanitizer is not used: a PostgreSQL that is not built with it must preload its runtime,
# and on Debian 12 that postgres deadlocks at start-up (glibc's bindtextdomain lock, taken again
# through the runtime's interceptors), before it runs any of our code.
#
# Not part of test/run_all.sh (it copies the installation and runs slower). Fails when a suite
# fails or a report exists.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ms_sanitize_XXXXXX")
chmod 755 "$WORK"
cleanup() {
    ms_cluster_stop
    rm -rf "$WORK"
}
trap cleanup EXIT

command -v valgrind >/dev/null || ms_as_root apt-get install -y valgrind >/dev/null 2>&1 ||
    ms_die "valgrind is missing and could not be installed"
SYS_PGC=$(ms_pg_config)
pgxs=$(dirname "$("$SYS_PGC" --pgxs)")/..
FAILED=0

# install_copy NAME SANITIZE WRAPPER-BODY: a copy of PostgreSQL with the library built with
# SANITIZE flags and a `postgres` wrapper that runs postgres.real as WRAPPER-BODY says.
install_copy() {
    local name=$1 flags=$2 body=$3 root=$WORK/$1/root src=$WORK/$1/src
    mkdir -p "$root/usr/lib/postgresql" "$root/usr/share/postgresql" "$src" "$WORK/$name/reports"
    chmod 777 "$WORK/$name/reports"
    cp -a "$("$SYS_PGC" --bindir)/.." "$root/usr/lib/postgresql/15"
    cp -a "$("$SYS_PGC" --sharedir)" "$root/usr/share/postgresql/15"
    mv "$root/usr/lib/postgresql/15/bin/postgres" "$root/usr/lib/postgresql/15/bin/postgres.real"
    printf '#!/bin/sh\nREAL="$(dirname "$0")/postgres.real"\n%s\n' "$body" \
        >"$root/usr/lib/postgresql/15/bin/postgres"
    chmod 755 "$root/usr/lib/postgresql/15/bin/postgres"
    (cd "$MS_ROOT" && git ls-files -z | xargs -0 cp --parents -t "$src")
    make -C "$src" -s PG_CONFIG="$SYS_PGC" SANITIZE="$flags" >"$WORK/$name/build.log" 2>&1 &&
        make -C "$src" -s PG_CONFIG="$SYS_PGC" SANITIZE="$flags" DESTDIR="$root" install \
            >>"$WORK/$name/build.log" 2>&1 &&
        make -C "$src/test/selftest" -s PG_CONFIG="$SYS_PGC" >>"$WORK/$name/build.log" 2>&1 &&
        make -C "$src/test/selftest" -s PG_CONFIG="$SYS_PGC" DESTDIR="$root" install \
            >>"$WORK/$name/build.log" 2>&1 || { cat "$WORK/$name/build.log" >&2; ms_die "$name build failed"; }
    chmod -R a+rX "$WORK"
    chown -R "$(ms_run_user)" "$src" 2>/dev/null || true
}

# run_regress NAME MAKE-ARGS...: pg_regress/isolation against a cluster of the copy
run_regress() {
    local name=$1
    shift
    PG_CONFIG=$WORK/$name/root/usr/lib/postgresql/15/bin/pg_config ms_cluster_start "$name" fsync=off
    if ! make -C "$WORK/$name/src" -s PG_CONFIG="$SYS_PGC" installcheck "$@" >"$WORK/$name/installcheck.log" 2>&1; then
        FAILED=1
        cat "$WORK/$name/src/regression.diffs" "$WORK/$name/src/output_iso/regression.diffs" 2>/dev/null | head -100 >&2
    fi
    grep -E '\.\.\. ' "$WORK/$name/installcheck.log" | sed 's/^/    /' >&2
    PG_CONFIG=$WORK/$name/root/usr/lib/postgresql/15/bin/pg_config ms_cluster_stop
}

# run_tap NAME TEST [ENV...]: one TAP test with the copy's binaries first in PATH
run_tap() {
    local name=$1 t=$2
    shift 2
    if ! ms_as_run_user env PATH="$WORK/$name/root/usr/lib/postgresql/15/bin:$PATH" \
        PERL5LIB="$(cd "$pgxs/test/perl" && pwd)" TESTDIR="$WORK/$name/src/test" \
        PG_REGRESS="$pgxs/test/regress/pg_regress" MS_SEED="${MS_SEED:-}" "$@" \
        PGHOST= PGPORT= PGUSER= PGDATABASE= \
        bash -c "cd '$WORK/$name/src/test' && prove -v t/$t.pl" >"$WORK/$name/$t.log" 2>&1; then
        FAILED=1
        tail -40 "$WORK/$name/$t.log" >&2
    fi
    grep -E '^(ok|not ok)|calls in|succeeded' "$WORK/$name/$t.log" | sed 's/^/    /' >&2
}

ms_log "UBSan: building"
install_copy ubsan "-fsanitize=undefined -fno-sanitize-recover=all" \
    "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$WORK/ubsan/reports/ubsan exec \"\$REAL\" \"\$@\""
ms_log "UBSan: pg_regress and isolation"
run_regress ubsan
ms_log "UBSan: fuzz and crash tests"
run_tap ubsan 007_fuzz MS_FUZZ_CALLS="${MS_FUZZ_CALLS:-20000}" MS_FUZZ_MIN="${MS_FUZZ_CALLS:-20000}"
run_tap ubsan 005_crash_recovery
ubsan_reports=$(find "$WORK/ubsan/reports" -type f | wc -l)
for f in "$WORK"/ubsan/reports/*; do [[ -f $f ]] && { echo "==== $f" >&2; head -40 "$f" >&2; }; done

ms_log "valgrind: building"
install_copy valgrind "" \
    "exec valgrind --quiet --tool=memcheck --trace-children=no --num-callers=30 --log-file=$WORK/valgrind/reports/vg.%p \"\$REAL\" \"\$@\""
# The isolation suites are left out (slow under valgrind), and so is `boundary`: its RSS check
# would measure valgrind's own memory.
ms_log "valgrind: pg_regress but boundary"
regress=$(make -s -C "$WORK/valgrind/src" PG_CONFIG="$SYS_PGC" --eval 'print-regress: ; @echo $(REGRESS)' print-regress)
run_regress valgrind ISOLATION= REGRESS="${regress/boundary /}"
ms_log "valgrind: fuzz"
run_tap valgrind 007_fuzz MS_FUZZ_CALLS="${MS_VALGRIND_CALLS:-3000}" \
    MS_FUZZ_MIN="${MS_VALGRIND_CALLS:-3000}" MS_FUZZ_LIGHT=1
# A report counts when one of its frames is in our library.
vg_reports=0
vg_all=0
for f in "$WORK"/valgrind/reports/vg.*; do
    [[ -s $f ]] || continue
    vg_all=$((vg_all + $(grep -c '^==[0-9]*== [A-Z]' "$f" || true)))
    if grep -q 'migrations_schema' "$f"; then
        vg_reports=$((vg_reports + 1))
        echo "==== $f" >&2
        head -60 "$f" >&2
    fi
done
echo "UBSan reports: $ubsan_reports"
echo "valgrind: $vg_reports process logs with a report in migrations_schema.so ($vg_all report lines in all, PostgreSQL's own included)"
[[ $ubsan_reports -eq 0 && $vg_reports -eq 0 ]] || FAILED=1
if [[ $FAILED -eq 0 ]]; then echo "sanitized runs: OK"; else echo "sanitized runs: FAILED"; fi
[[ $FAILED -eq 0 ]]
