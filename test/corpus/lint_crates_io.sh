#!/usr/bin/env bash
# Lints the 285 real up scripts of crates.io (../shared/corpora/crates_io) with migrate.lint,
# against a database in which the corpus's schema grows as it would in production: each
# script is linted, then applied (when it can be), so every migration is judged on the tables
# the earlier ones created. Tables are empty here, so size-dependent rules stay silent unless
# LARGE_ROWS is set: then every table is given that many rows in its statistics
# (pg_class.reltuples) before the next script is linted, as on a production database.
#
#   test/corpus/lint_crates_io.sh                  findings per rule, empty tables
#   LARGE_ROWS=5000000 test/corpus/lint_crates_io.sh
#
# Prints one line per finding (version, statement, line, rule, severity, message) to
# $OUT (default: a temporary file, shown at the end) and a summary: findings per rule and
# severity.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
corpus_find "crates_io corpus"
LARGE_ROWS=${LARGE_ROWS:-0}
[[ $LARGE_ROWS =~ ^[0-9]+$ ]] || ms_die "LARGE_ROWS must be a number of rows"

ms_workdir lint_corpus  # WORK and the cluster, removed on exit (test/lib/common.sh)
OUT=${OUT:-$WORK/findings.tsv}

ms_cluster_start lint_corpus
"${MS_PSQL[@]}" -d postgres -c 'CREATE DATABASE lintdb' -c '\c lintdb' -c 'CREATE EXTENSION migrations_schema'

: >"$OUT"
n=0
for dir in "$CORPUS"/*/; do
    dir=${dir%/}
    base=${dir##*/}
    version=${base%%_*}
    up=$dir/up.sql
    [[ -f $up ]] || continue
    n=$((n + 1))
    # Diesel's own comment lines at the top are kept: the linter must cope with them.
    {
        printf 'COPY (SELECT %s, statement, line, rule_id, severity, message FROM migrate.lint(' \
            "$(ms_sql_literal "$version")"
        ms_dollar_quote "$up"
        printf ')) TO STDOUT;\n'
    } >"$WORK/lint.sql"
    "${MS_PSQL[@]}" -d lintdb -f "$WORK/lint.sql" >>"$OUT"
    # Then apply it as plain SQL, so that the next scripts see its tables (those that cannot
    # run in a transaction, CONCURRENTLY, run as they are).
    "${MS_PSQL[@]}" -d lintdb -f "$up" >/dev/null 2>&1 || true
    if [[ $LARGE_ROWS -gt 0 ]]; then
        "${MS_PSQL[@]}" -d lintdb -c "UPDATE pg_class SET reltuples = $LARGE_ROWS, relpages = $((LARGE_ROWS / 100))
                                       WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'" >/dev/null
    fi
done

echo "linted $n up scripts of crates.io$([[ $LARGE_ROWS -gt 0 ]] && echo ", every table given $LARGE_ROWS rows")"
echo "findings per rule and severity:"
awk -F'\t' '{ c[$4 " " $5]++; t++ } END { for (k in c) printf "  %-22s %5d\n", k, c[k]; printf "  %-22s %5d\n", "total", t }' "$OUT" | sort
echo "scripts with at least one error-level finding: $(awk -F'\t' '$5 == "error" { print $1 }' "$OUT" | sort -u | wc -l)"
[[ -n ${KEEP:-} ]] && cp "$OUT" "$KEEP"
exit 0
