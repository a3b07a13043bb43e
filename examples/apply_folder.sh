#!/usr/bin/env bash
# apply_folder.sh DB DIR: applies a folder of migration files through the migrations_schema
# extension, from psql.
#
#   DIR/<version>_<name>.up.sql     the migration (required)
#   DIR/<version>_<name>.down.sql   how to roll it back (optional; without it, the migration
#                                   is registered with a NULL down script: it cannot be rolled back)
#
# version is the file name up to the first `_` (001, 002a, 20250108000000, 1.2.10, ...), name the
# rest without `.up.sql`. Other files are ignored.
#
# In one psql session and one transaction: every file is registered with migrate.register (the
# scripts sent byte for byte, dollar-quoted), then `SELECT * FROM migrate.apply()` applies every
# pending migration in the extension's natural version order (002 < 002a < 003 < 010), so file
# listing order does not matter. Anything failing rolls the whole transaction back: nothing is
# registered or applied. Running it again is harmless: unchanged files register as 'unchanged'
# and apply() says there is nothing to apply; an edited, already applied file is refused.
#
# Connection: libpq environment (PGHOST, PGPORT, PGUSER, ...); DB is the database name.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../test/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../test/lib/common.sh"

[[ $# -eq 2 ]] || { echo "usage: $0 DB DIR" >&2; exit 2; }
db=$1
dir=${2%/}
[[ -d $dir ]] || ms_die "not a directory: $dir"

shopt -s nullglob
ups=("$dir"/*.up.sql)
shopt -u nullglob
[[ ${#ups[@]} -gt 0 ]] || ms_die "no *.up.sql files in $dir"

sql=$(mktemp "${TMPDIR:-/tmp}/apply_folder_XXXXXX.sql")
trap 'rm -f "$sql"' EXIT

{
    echo 'BEGIN;'
    echo 'SELECT r.version, r.name, r.result AS register'
    echo '  FROM (VALUES'
    sep=' '
    n=0
    for up in "${ups[@]}"; do
        base=${up##*/}
        stem=${base%.up.sql}
        if [[ $stem == *_* ]]; then
            version=${stem%%_*}
            name=${stem#*_}
        else
            version=$stem
            name=
        fi
        [[ -n $version ]] || ms_die "no version in file name: $base"
        down=$dir/$stem.down.sql
        n=$((n + 1))
        printf '   %s(%d, %s, %s, migrate.register(%s, ' "$sep" "$n" "$(ms_sql_literal "$version")" \
            "$([[ -n $name ]] && ms_sql_literal "$name" || echo 'NULL::text')" "$(ms_sql_literal "$version")"
        ms_dollar_quote "$up"
        printf ', '
        if [[ -f $down ]]; then ms_dollar_quote "$down"; else printf 'NULL'; fi
        printf ', %s))\n' "$([[ -n $name ]] && ms_sql_literal "$name" || echo NULL)"
        sep=','
    done
    echo '       ) AS r(n, version, name, result)'
    echo ' ORDER BY r.n;'
    echo 'SELECT * FROM migrate.apply();'
    echo 'COMMIT;'
} >"$sql"

ms_log "registering ${#ups[@]} migration(s) from $dir and applying the pending ones (database $db)"
"${MS_PSQL[@]}" -d "$db" <"$sql"
