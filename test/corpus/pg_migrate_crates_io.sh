#!/usr/bin/env bash
# The real crates.io corpus (285 diesel migrations, ../shared/corpora/crates_io) through
# pg_migrate, in its own diesel layout, with no option: the shared copy is renamed with a
# position prefix (0001_...), so this script rebuilds diesel's names (VERSION_name/up.sql,
# down.sql, metadata.toml) in a work folder, the files byte for byte.
#
#   0. reference: plain psql, each up script in a transaction of its own (the 7
#      run_in_transaction = false ones in autocommit mode), in corpus order;
#   1. `pg_migrate up`: all 285 applied in diesel's order (string order of dash-stripped
#      versions: no migration out of order, no allow_out_of_order), the 7 CONCURRENTLY ones as
#      steps after commit, waited for; the schema equals the reference;
#   2. `pg_migrate down 285`: refused, nothing rolled back: the extension prepares every down
#      script before it runs one, and 0132's has a syntax error (it fails under plain psql too),
#      named by its file and line;
#   3. the equivalent copy: the 8 down scripts that fail under plain psql (corpus README) made
#      empty; `pg_migrate down 285` rolls everything back (the CONCURRENTLY down steps waited
#      for), `pg_migrate status` shows every migration rolled back;
#   4. `pg_migrate up` again: the same schema as in 1.
#   5. `pg_migrate verify` in a new database where the folder is registered and its first
#      migration applied (`up --to`; the 8 down scripts of 3 stay empty): exit status 1 (some
#      down scripts do not undo their up), the same verdicts per version (reversible,
#      rerunnable, an error or not) as `migrate.verify()` called through SQL on the same
#      database, and nothing remains (status, history, the schema).
# Exit status 0 when all of that holds (or the corpus is absent: skipped), 1 otherwise.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

corpus_find "crates_io corpus through pg_migrate"
KNOWN_DOWN_FAILURES="0027 0028 0045 0050 0059 0132 0139 0235"
ALLOW='drop-table, drop-column -- corpus teardown: rolling everything back'

T0=$SECONDS
ms_workdir corpus_pgm  # WORK and the cluster, removed on exit (test/lib/common.sh)
corpus_for_server  # on 17 and later a copy with one fix (lib.sh)
PROBLEMS=0
problem() { PROBLEMS=$((PROBLEMS + 1)); echo "  PROBLEM: $*"; }

# diesel's own names: 0001_00000000000000_diesel_initial_setup -> 00000000000000_diesel_initial_setup
mkdir -p "$WORK/migrations"
declare -A DIR_OF_SEQ=()
n=0
for d in "$CORPUS"/[0-9][0-9][0-9][0-9]_*/; do
    d=${d%/}
    base=${d##*/}
    cp -r "$d" "$WORK/migrations/${base#*_}"
    DIR_OF_SEQ[${base%%_*}]=${base#*_}
    n=$((n + 1))
done
echo "crates_io corpus through pg_migrate: $n migrations in diesel's layout ($WORK/migrations)"

ms_cluster_start corpus_pgm
"${MS_PSQL[@]}" -c 'CREATE DATABASE reference' -c 'CREATE DATABASE corpus'
"${MS_PSQL[@]}" -d corpus -c 'CREATE EXTENSION migrations_schema'
PGM=(pg_migrate -d "dbname=corpus" --dir "$WORK/migrations")

states() { "${MS_PSQL[@]}" -d corpus -F ' ' -Atc "SELECT state, count(*) FROM migrate.status() GROUP BY 1 ORDER BY 1" | paste -sd' ' -; }

echo "== 0. reference: plain psql, in corpus order"
{
    echo '\set ON_ERROR_STOP 1'
    for d in "$CORPUS"/[0-9][0-9][0-9][0-9]_*/; do
        if grep -qsE '^[[:space:]]*run_in_transaction[[:space:]]*=[[:space:]]*false' "$d/metadata.toml"; then
            printf '\\i %s\n' "$(ms_sql_literal "${d}up.sql")"
        else
            printf 'BEGIN;\n\\i %s\nCOMMIT;\n' "$(ms_sql_literal "${d}up.sql")"
        fi
    done
} >"$WORK/reference.sql"
"${MS_PSQL[@]}" -d reference <"$WORK/reference.sql" >/dev/null 2>"$WORK/reference.log" \
    || { cat "$WORK/reference.log"; ms_die "plain psql could not apply the corpus"; }
corpus_schema_dump reference >"$WORK/reference.schema"

echo "== 1. pg_migrate up"
t=$SECONDS
if "${PGM[@]}" --quiet up 2>"$WORK/up1.err"; then
    echo "  applied in $((SECONDS - t)) s: $(states)"
else
    problem "pg_migrate up failed: $(cat "$WORK/up1.err")"
fi
[[ $(states) == "applied $n" ]] || problem "after up: $(states), expected applied $n"
ooo=$("${MS_PSQL[@]}" -d corpus -Atc "SELECT count(*) FROM migrate.migrations WHERE out_of_order")
[[ $ooo == 0 ]] || problem "$ooo migrations applied out of order"
steps=$("${MS_PSQL[@]}" -d corpus -Atc "SELECT count(DISTINCT version) FROM migrate.steps WHERE direction = 'up' AND position > 0")
[[ $steps == 7 ]] || problem "$steps migrations ran steps after commit, expected 7"
corpus_schema_dump corpus >"$WORK/up1.schema"
if diff -q "$WORK/reference.schema" "$WORK/up1.schema" >/dev/null; then
    echo "  schema identical to plain psql's ($(wc -l <"$WORK/up1.schema") lines of pg_dump -s)"
else
    problem "schema differs from plain psql's: $(diff "$WORK/reference.schema" "$WORK/up1.schema" | head -5)"
fi

echo "== 2. pg_migrate down $n: refused, as plain psql fails on 8 down scripts"
# rollback prepares every down script before it runs one: 0132's syntax error comes first
first=${DIR_OF_SEQ[0132]}
if "${PGM[@]}" --quiet --allow "$ALLOW" down "$n" 2>"$WORK/down1.err"; then
    problem "down $n succeeded, though 0132's down script fails under plain psql"
else
    rc=$?
    head -1 "$WORK/down1.err" | sed 's/^/  /'
    [[ $rc -eq 1 ]] || problem "down exit status $rc, expected 1"
    grep -q "$first/down.sql:[0-9]*: ERROR 42601: syntax error" "$WORK/down1.err" \
        || problem "the error does not name $first/down.sql: $(head -1 "$WORK/down1.err")"
fi
[[ $(states) == "applied $n" ]] || problem "after the refused down: $(states), expected applied $n"

echo "== 3. the equivalent copy (the 8 failing down scripts empty): pg_migrate down $n"
for s in $KNOWN_DOWN_FAILURES; do : >"$WORK/migrations/${DIR_OF_SEQ[$s]}/down.sql"; done
t=$SECONDS
if "${PGM[@]}" --quiet --allow "$ALLOW" down "$n" 2>"$WORK/down2.err"; then
    echo "  rolled back in $((SECONDS - t)) s: $(states)"
else
    problem "pg_migrate down failed: $(cat "$WORK/down2.err")"
fi
[[ $(states) == "rolled back $n" ]] || problem "after down: $(states), expected rolled back $n"
"${PGM[@]}" status >"$WORK/status.out" 2>&1 || problem "status after down: exit $? ($(tail -1 "$WORK/status.out"))"
tail -1 "$WORK/status.out" | sed 's/^/  /'

echo "== 4. pg_migrate up again"
t=$SECONDS
"${PGM[@]}" --quiet up 2>"$WORK/up2.err" || problem "second up failed: $(cat "$WORK/up2.err")"
echo "  applied in $((SECONDS - t)) s: $(states)"
corpus_schema_dump corpus >"$WORK/up2.schema"
diff -q "$WORK/up1.schema" "$WORK/up2.schema" >/dev/null \
    || problem "the schema after the second up differs from the first: $(diff "$WORK/up1.schema" "$WORK/up2.schema" | head -5)"

echo "== 5. pg_migrate verify: the verdicts of migrate.verify(), nothing remains"
"${MS_PSQL[@]}" -c 'CREATE DATABASE verify'
"${MS_PSQL[@]}" -d verify -c 'CREATE EXTENSION migrations_schema'
PGV=(pg_migrate -d "dbname=verify" --dir "$WORK/migrations")
first=${DIR_OF_SEQ[0001]}
"${PGV[@]}" --quiet up --to "${first%%_*}" 2>"$WORK/up_first.err" \
    || problem "up --to ${first%%_*} failed: $(cat "$WORK/up_first.err")"
vstate() {
    "${MS_PSQL[@]}" -d verify -Atc "SELECT state || ' ' || count(*) FROM migrate.status() GROUP BY state
        UNION ALL SELECT 'history ' || count(*) FROM migrate.history ORDER BY 1" | paste -sd' ' -
}
before=$(vstate)
corpus_schema_dump verify >"$WORK/verify_before.schema"
PGOPTIONS='-c client_min_messages=warning' "${MS_PSQL[@]}" -d verify -F ' ' -Atc "SELECT version, coalesce(reversible::text, 'null'),
    coalesce(rerunnable::text, 'null'), (error IS NOT NULL)::text FROM migrate.verify()
    ORDER BY version COLLATE \"C\"" >"$WORK/verify_sql.out"
t=$SECONDS
rc=0
"${PGV[@]}" --json verify >"$WORK/verify_client.json" 2>"$WORK/verify_client.err" || rc=$?
[[ $rc -eq 1 ]] || problem "pg_migrate verify exit status $rc, expected 1 (some down scripts do not undo their up): $(head -3 "$WORK/verify_client.err")"
python3 -c '
import json, sys
out = json.load(open(sys.argv[1]))
if "migrations" not in out:
    sys.exit("no verdicts: %s" % json.dumps(out.get("error", out)))
for m in sorted(out["migrations"], key=lambda m: m["version"].encode()):
    print(m["version"], json.dumps(m["reversible"]), json.dumps(m["rerunnable"]),
          json.dumps(m["error"] is not None))
' "$WORK/verify_client.json" >"$WORK/verify_client.out" 2>"$WORK/verify_client.py.err" \
    || problem "pg_migrate verify --json: $(tail -1 "$WORK/verify_client.py.err")"
v_all=$(wc -l <"$WORK/verify_sql.out") v_bad=$(grep -cv ' true true false$' "$WORK/verify_sql.out" || true)
echo "  $v_all migrations verified in $((SECONDS - t)) s, $v_bad with a problem (not reversible, not rerunnable or failed)"
[[ $v_all -eq $((n - 1)) ]] || problem "migrate.verify() gave $v_all rows, expected $((n - 1))"
[[ $v_bad -gt 0 ]] || problem "no migration with a problem: the corpus has down scripts that do not undo their up"
diff -q "$WORK/verify_sql.out" "$WORK/verify_client.out" >/dev/null \
    || problem "pg_migrate verify and migrate.verify() differ: $(diff "$WORK/verify_sql.out" "$WORK/verify_client.out" | head -5)"
[[ $(vstate) == "$before" ]] || problem "after verify: $(vstate), before: $before"
corpus_schema_dump verify >"$WORK/verify_after.schema"
diff -q "$WORK/verify_before.schema" "$WORK/verify_after.schema" >/dev/null \
    || problem "the schema changed during pg_migrate verify: $(diff "$WORK/verify_before.schema" "$WORK/verify_after.schema" | head -5)"

corpus_server_log_check
echo
if [[ $PROBLEMS -eq 0 ]]; then
    echo "crates_io corpus through pg_migrate: OK in $((SECONDS - T0)) s"
    exit 0
fi
echo "crates_io corpus through pg_migrate: FAILED, $PROBLEMS problem(s) in $((SECONDS - T0)) s"
exit 1
