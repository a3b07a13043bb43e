#!/usr/bin/env bash
# The shape of the source tree (docs/design.md), checked without a server:
#   - PostgreSQL headers are included by src/pg/pg.hpp only;
#   - a pure C++ file (one that includes common/pure.hpp) includes it first, and includes no
#     header of a room that reaches PostgreSQL (only common/, and pure headers of other rooms);
#   - no source file is longer than 600 lines;
#   - sql/ holds only the current schema and the install and update scripts;
#   - every room's includes point down the layers: api -> worker -> migrate -> safety ->
#     lint, audit -> script -> pg -> common (audit does not know safety, lint, migrate);
#     snapshot -> pg -> common (migrate and above may use it).
# Prints each problem and exits 1 when there is one.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2

problems=0
problem() { echo "layout: $*"; problems=$((problems + 1)); }

# PostgreSQL's headers: any include of a .h file that is not ours (ours are .hpp).
while IFS= read -r hit; do
    [[ $hit == src/pg/pg.hpp:* ]] && continue
    [[ $hit == src/client/* ]] && continue  # a client program: system headers (checked below)
    problem "PostgreSQL header outside src/pg/pg.hpp: $hit"
done < <(grep -rn --include='*.cpp' --include='*.hpp' -E '^#include\s+["<][a-z_/]+\.h[">]' src)

# Pure files.
for f in $(grep -rl --include='*.cpp' --include='*.hpp' '#include "common/pure.hpp"' src); do
    first=$(grep -m1 -E '^#include' "$f")
    [[ $first == '#include "common/pure.hpp"' ]] || problem "$f: common/pure.hpp is not its first include"
    while IFS= read -r inc; do
        header=${inc#*\"}
        header=${header%\"}
        [[ $header == common/* ]] && continue
        [[ -f src/$header ]] || continue
        # A header a pure file may include is pure itself: it includes only standard headers,
        # common/ and other such headers.
        if grep -qE '^#include\s+"(pg/|script/script|lint/lint|audit/|safety/check|migrate/store)' "src/$header"; then
            problem "$f (pure) includes $header, which reaches PostgreSQL"
        fi
    done < <(grep -E '^#include\s+"' "$f")
done

# File length.
while read -r n f; do
    [[ $f == total ]] && continue
    ((n > 600)) && problem "$f has $n lines (more than 600)"
done < <(wc -l $(find src -name '*.cpp' -o -name '*.hpp') | sort -n)

# sql/: the current schema, install and update scripts only.
for f in sql/*; do
    case ${f##*/} in
        migrations_schema.sql | migrations_schema--*.sql) ;;
        *) problem "$f does not belong in sql/ (tests go under test/)" ;;
    esac
done

# Layers: a room may include headers of the rooms below it only.
declare -A below=(
    [common]=""
    [pg]="common"
    [script]="common pg"
    [audit]="common pg script"
    [lint]="common pg script"
    [snapshot]="common pg"
    [safety]="common pg script lint audit"
    [migrate]="common pg script lint audit safety snapshot"
    [worker]="common pg script lint audit safety migrate snapshot"
    [api]="common pg script lint audit safety migrate worker snapshot"
    [client]="common migrate"  # pg_migrate: only the pure migrate/version.hpp (checked below)
)
for room in "${!below[@]}"; do
    [[ -d src/$room ]] || continue
    while IFS= read -r hit; do
        file=${hit%%:*}
        header=${hit#*\"}
        header=${header%%/*}
        [[ $header == "$room" ]] && continue
        [[ " ${below[$room]} " == *" $header "* ]] && continue
        problem "$file ($room) includes a header of $header, which is not below it"
    done < <(grep -rn -E '^#include\s+"[a-z]+/[a-z_]+\.hpp"' "src/$room")
done

# pg_migrate (src/client) is a program of its own on libpq: of the extension it shares only the
# pure natural order of versions, never a header that reaches the server.
while IFS= read -r hit; do
    header=${hit#*\"}
    header=${header%\"}
    [[ $header == client/* || $header == common/* || $header == migrate/version.hpp ]] && continue
    problem "${hit%%:*} (client) includes $header: only client/, common/ and migrate/version.hpp"
done < <(grep -rn -E '^#include\s+"' src/client 2>/dev/null)
while IFS= read -r hit; do
    header=${hit#*<}
    header=${header%>}
    [[ $header == libpq-fe.h || $header == sys/* || $header != */* ]] && [[ $header != postgres*.h && $header != fmgr.h ]] && continue
    problem "${hit%%:*} (client) includes <$header>, a server header"
done < <(grep -rn -E '^#include\s+<[^>]+\.h>' src/client 2>/dev/null)

if ((problems > 0)); then
    echo "layout: $problems problem(s)"
    exit 1
fi
echo "layout: ok ($(find src -name '*.cpp' -o -name '*.hpp' | wc -l) source files)"
