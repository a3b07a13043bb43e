#!/usr/bin/env bash
# The extension built with AddressSanitizer and UndefinedBehaviorSanitizer, under test.
#
#   bash test/sanitize.sh          (env: MS_FUZZ_CALLS for the fuzz test, default 30000)
#
# Builds a sanitized copy of the library (-fsanitize=address,undefined, no recovery: the first
# finding aborts the backend) into a private copy of the PostgreSQL 15 installation under a
# temporary directory (the system installation is not touched), whose `postgres` runs with the
# sanitizer runtime preloaded. Against it: the pg_regress and isolation suites on a throwaway
# cluster, then the fuzz test (t/007_fuzz.pl) and the crash test (t/005_crash_recovery.pl),
# which start their own clusters from the same copy. Every sanitizer report is written to a
# log file; the run fails when any suite fails or any report exists. Not part of
# test/run_all.sh (it builds a second copy of PostgreSQL's installation and runs slower).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ms_sanitize_XXXXXX")
chmod 755 "$WORK"
cleanup() {
    ms_cluster_stop
    rm -rf "$WORK"
}
trap cleanup EXIT

SYS_PGC=$(ms_pg_config)
ASAN_LIB=$(gcc -print-file-name=libasan.so)
[[ -f $ASAN_LIB ]] || ms_die "libasan.so not found (gcc's sanitizer runtime)"
ROOT=$WORK/root
REPORTS=$WORK/reports
mkdir -p "$ROOT/usr/lib/postgresql" "$ROOT/usr/share/postgresql" "$REPORTS"
chmod 777 "$REPORTS"

ms_log "copying PostgreSQL 15 into $ROOT"
cp -a "$("$SYS_PGC" --bindir)/.." "$ROOT/usr/lib/postgresql/15"
cp -a "$("$SYS_PGC" --sharedir)" "$ROOT/usr/share/postgresql/15"
PGC=$ROOT/usr/lib/postgresql/15/bin/pg_config
# The server runs with the sanitizer runtime loaded first (the library needs it); its clients
# (psql, pg_regress, perl) do not.
mv "$ROOT/usr/lib/postgresql/15/bin/postgres" "$ROOT/usr/lib/postgresql/15/bin/postgres.real"
cat >"$ROOT/usr/lib/postgresql/15/bin/postgres" <<WRAP
#!/bin/sh
export LD_PRELOAD=$ASAN_LIB
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:halt_on_error=1:log_path=$REPORTS/asan
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:abort_on_error=1:log_path=$REPORTS/ubsan
exec "\$(dirname "\$0")/postgres.real" "\$@"
WRAP
chmod 755 "$ROOT/usr/lib/postgresql/15/bin/postgres"

ms_log "building the sanitized library"
SRC=$WORK/src
mkdir -p "$SRC"
(cd "$MS_ROOT" && git ls-files -z | xargs -0 cp --parents -t "$SRC")
make -C "$SRC" -s PG_CONFIG="$SYS_PGC" SANITIZE="-fsanitize=address,undefined -fno-sanitize-recover=all" \
    >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log" >&2; ms_die "sanitized build failed"; }
make -C "$SRC" -s PG_CONFIG="$SYS_PGC" SANITIZE="-fsanitize=address,undefined" DESTDIR="$ROOT" install \
    >>"$WORK/build.log" 2>&1 || { cat "$WORK/build.log" >&2; ms_die "install into the copy failed"; }
chmod -R a+rX "$WORK"

FAILED=0
PG_CONFIG=$PGC ms_cluster_start sanitize fsync=off
PG_CONFIG=$PGC
ms_log "pg_regress and isolation suites against the sanitized server"
if ! make -C "$SRC" -s PG_CONFIG="$SYS_PGC" installcheck >"$WORK/installcheck.log" 2>&1; then
    FAILED=1
    grep -E '\.\.\. ' "$WORK/installcheck.log" >&2
    cat "$SRC/regression.diffs" "$SRC/output_iso/regression.diffs" 2>/dev/null | head -100 >&2
fi
grep -cE '\.\.\. +ok' "$WORK/installcheck.log" | sed 's/^/    suites passed: /' >&2
ms_cluster_stop

ms_log "TAP: fuzz and crash tests with the sanitized server"
pgxs=$(dirname "$("$SYS_PGC" --pgxs)")/..
chown -R "$(ms_run_user)" "$SRC" 2>/dev/null || true
for t in 007_fuzz 005_crash_recovery; do
    if ! ms_as_run_user env PATH="$ROOT/usr/lib/postgresql/15/bin:$PATH" \
        PERL5LIB="$(cd "$pgxs/test/perl" && pwd)" TESTDIR="$SRC" \
        PG_REGRESS="$pgxs/test/regress/pg_regress" MS_FUZZ_CALLS="${MS_FUZZ_CALLS:-30000}" \
        MS_SEED="${MS_SEED:-}" PGHOST= PGPORT= PGUSER= PGDATABASE= \
        bash -c "cd '$SRC' && prove -v t/$t.pl" >"$WORK/$t.log" 2>&1; then
        FAILED=1
        tail -40 "$WORK/$t.log" >&2
    fi
    grep -E '^(ok|not ok)|calls in|succeeded' "$WORK/$t.log" | sed 's/^/    /' >&2
done

n=$(find "$REPORTS" -type f | wc -l)
if [[ $n -gt 0 ]]; then
    FAILED=1
    for f in "$REPORTS"/*; do
        echo "==== $f" >&2
        head -60 "$f" >&2
    done
fi
echo "sanitizer reports: $n"
[[ $FAILED -eq 0 ]] && echo "sanitized run: OK" || echo "sanitized run: FAILED"
[[ $FAILED -eq 0 ]]
