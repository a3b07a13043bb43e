#!/usr/bin/env bash
# Builds the extension (and pg_migrate) against PostgreSQL 17 and 18 (or the versions given),
# each in a throwaway copy of the work tree, and fails on any compiler warning or error:
#
#   bash test/versions/build.sh [17] [18]
#
# The servers and headers come from test/versions/setup.sh (cached). Nothing is installed.
# test/versions/matrix.sh runs every suite there too; docs/versions.md says what differs.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

VERSIONS=("$@")
[[ ${#VERSIONS[@]} -gt 0 ]] || VERSIONS=(17 18)
ms_workdir versions_build
failed=0
for v in "${VERSIONS[@]}"; do
    started=$SECONDS
    if ms_build_version "$v" "$WORK/tree$v" >/dev/null; then
        ms_log "PostgreSQL $v: built without warnings in $((SECONDS - started)) s"
    else
        ms_log "PostgreSQL $v: FAILED"
        failed=1
    fi
done
exit "$failed"
