#!/usr/bin/env bash
# Coverage of the lint rules: every rule of src/lint/rules.def (what migrate.lint_rules() lists)
#   - has its page, docs/rules/<ID>-<name>.md, linked from docs/rules/README.md;
#   - has its check, src/lint/rules/<ID>_<name with _>.cpp (not the guard, which runs in safety/);
#   - is exercised: some expected output of the suites (test/expected/*.out) shows it REPORTED,
#     that is its id or name in a result row that also has a severity (info, warning, error),
#     or in a finding line "<severity> <ID> <name>: ..." (apply's NOTICE and DETAIL lines).
#     A mention in an echoed comment, or a row of lint_rules(), does not count.
# And every page of docs/rules/ belongs to a rule. Needs no server.
#
#   bash test/check_rules.sh        exits 1 and names what is missing, else prints a summary
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEF=$ROOT/src/lint/rules.def
DOCS=$ROOT/docs/rules

# Rules no test can exercise, with the reason (keep this short, and explained in the rule's page).
declare -A KNOWN=(
    [Y705]="PostgreSQL's scanner truncates long identifiers before lint sees them"
)

# id name family, one rule a line, from the MS_RULE lines of rules.def
mapfile -t RULES < <(sed -n 's/^MS_RULE([a-z_]*, *"\([A-Z][0-9]*\)", *"\([a-z-]*\)", *"\([a-z]*\)".*/\1 \2 \3/p' "$DEF")
if [[ ${#RULES[@]} -eq 0 ]]; then
    echo "check_rules: no MS_RULE line found in $DEF" >&2
    exit 1
fi

# Every id or name reported with a severity in an expected output, one a line.
REPORTED=$(awk '
    /\|/ && !/^--/ {
        n = split($0, cell, "|"); severity = 0
        for (i = 1; i <= n; i++) {
            gsub(/^[ \t]+|[ \t]+$/, "", cell[i])
            if (cell[i] ~ /^(info|warning|error)$/) severity = 1
        }
        if (severity) for (i = 1; i <= n; i++) if (cell[i] != "") print cell[i]
    }
    {
        line = $0
        while (match(line, /(info|warning|error) [A-Z][0-9][0-9][0-9] [a-z-]+:/)) {
            split(substr(line, RSTART, RLENGTH - 1), w, " ")
            print w[2]; print w[3]
            line = substr(line, RSTART + RLENGTH)
        }
    }' "$ROOT"/test/expected/*.out | sort -u)

problems=0
missing() {
    echo "missing: $*"
    problems=$((problems + 1))
}

declare -A PAGE_OF
for r in "${RULES[@]}"; do
    read -r id name family <<<"$r"
    page=$DOCS/$id-$name.md
    PAGE_OF[$id-$name.md]=1
    if [[ ! -f $page ]]; then
        others=$(cd "$DOCS" 2>/dev/null && ls "$id"-*.md 2>/dev/null | tr '\n' ' ')
        missing "$id $name: no page docs/rules/$id-$name.md${others:+ (found: $others)}"
    elif ! grep -q "]($id-$name.md)" "$DOCS/README.md" 2>/dev/null; then
        missing "$id $name: docs/rules/README.md does not link to $id-$name.md"
    fi
    if [[ $family != guard && ! -f $ROOT/src/lint/rules/${id}_${name//-/_}.cpp ]]; then
        missing "$id $name: no check src/lint/rules/${id}_${name//-/_}.cpp"
    fi
    if grep -qxF -e "$id" -e "$name" <<<"$REPORTED"; then
        [[ -n ${KNOWN[$id]:-} ]] &&
            echo "note: $id $name is exercised now: remove it from KNOWN in test/check_rules.sh"
    elif [[ -n ${KNOWN[$id]:-} ]]; then
        echo "note: $id $name is not exercised by any test (known: ${KNOWN[$id]})"
    else
        missing "$id $name: no test reports it (no expected output in test/expected shows a finding of it)"
    fi
done

for f in "$DOCS"/*.md; do
    base=$(basename "$f")
    [[ $base == README.md || -n ${PAGE_OF[$base]:-} ]] && continue
    missing "docs/rules/$base: a page of no rule in src/lint/rules.def"
done

if [[ $problems -gt 0 ]]; then
    echo "check_rules: $problems problem(s) in ${#RULES[@]} rules" >&2
    exit 1
fi
echo "check_rules: ${#RULES[@]} rules, each with a page, a check and a test"
