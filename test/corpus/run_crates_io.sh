#!/usr/bin/env bash
# Runs the real crates.io migration corpus (285 diesel migrations, ../shared/corpora/crates_io,
# see ../shared/corpora/README.md) through the extension on a throwaway cluster:
#
#   0. reference: every transactional up script applied with plain psql (BEGIN; \i up.sql; COMMIT;)
#      into database "reference"; its schema is what the extension must produce.
#   1. apply all: one `SELECT migrate.apply(version, up, down, name)` per migration, each in its
#      own transaction, in corpus order.
#   2. roll back all: one `SELECT * FROM migrate.rollback(1)` per call, each in its own transaction.
#   3. apply all again, exactly as in phase 1.
#   4. consistency: migrate.status() and migrate.history against what was done, and the schema
#      against the reference.
#
# Versions are diesel's own: the directory's version field with its dashes removed (diesel stores
# 2017-08-31-230457 as 20170831230457 and orders versions as strings). Names are the rest.
# The extension orders versions naturally (runs of digits as numbers), which disagrees with
# diesel's string order in one place either way:
# - kept with dashes, every dashed version (0146 on, 2017-08-31-230457) compares below the
#   14-digit ones before it (2017 < 20170820180453): 140 migrations would be out of order;
# - without dashes, the 18-digit versions from the "-0000" suffix (0259 2025-11-19-091444-0000 ->
#   202511190914440000) compare above the later 14-digit ones (0261 20260120162913, 0262, 0266).
# So the script asks migrate.version_compare which migrations come before an earlier one and
# applies those (3) with allow_out_of_order => true; rollbacks follow the order of application.
#
# Strategies (the corpus README lists the facts these rely on):
# - The 7 migrations marked run_in_transaction = false (a single CREATE/DROP INDEX CONCURRENTLY)
#   must be refused with SQLSTATE 25001 before anything runs. A refused migration is not
#   recorded, so the next ones still apply. We do not run them outside the extension either:
#   nothing later in the corpus uses the indexes they create or drop (0049's down drops
#   index_follows_user_id, which 0219 would have dropped already), and the reference skips them too.
# - A down script that fails leaves its migration applied, so the next rollback(1) would hit it
#   again. We record the failure (SQLSTATE, message, CONTEXT), then re-register that migration
#   with its stored up script and an empty (no-op) down script (migrate.register on an applied
#   migration with the same checksum only updates the down script; history gets 'update_down'),
#   roll it back as a no-op and go on. Exception first: a down script refused with 25001 (0225's
#   creates indexes CONCURRENTLY; migrate.apply warned about it) is first run by hand with psql
#   in autocommit mode, as the extension's hint says, so the older down scripts find the schema
#   they expect. Expected failures: the 8 of the README (0132 0235 0139 0059 0050 0045 0028 0027,
#   measured with plain psql) minus 0235, never applied here, plus every down script migrate.apply
#   warned about (0132, 0225). Any other failure, or an expected one that does not fail, is a
#   problem.
#
# Exit status: 0 when the extension behaved as expected (or the corpus is absent: skipped),
# 1 on any inconsistency (unexpected refusal or failure, status/history not matching what was
# done, schema different from the plain-psql reference).
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

CORPUS=$MS_ROOT/../shared/corpora/crates_io
if [[ ! -d $CORPUS ]]; then
    echo "crates_io corpus: corpus not found at $CORPUS, skipped"
    exit 0
fi
CORPUS=$(cd "$CORPUS" && pwd)

# Down scripts that fail with plain psql when everything is rolled back (corpus README).
KNOWN_DOWN_FAILURES=" 0027 0028 0045 0050 0059 0132 0139 0235 "
# What rolling everything back leaves in schema public, whatever the tool: 0136's down creates the
# pre-diesel table schema_migrations that no up script creates, and 0192's up creates extension
# pgcrypto that its down does not drop.
EXPECTED_LEFTOVERS='S schema_migrations_id_seq
i schema_migrations_pkey
i schema_migrations_version_key
r schema_migrations
x pgcrypto'

T0=$SECONDS
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ms_corpus_work_XXXXXX")
chmod 755 "$WORK"
# shellcheck disable=SC2317  # called from the EXIT trap
cleanup() { ms_cluster_stop; rm -rf "$WORK"; }
trap cleanup EXIT

PROBLEMS=()                     # inconsistencies; any entry makes the exit status 1
problem() { PROBLEMS+=("$*"); echo "  PROBLEM: $*"; }

# --- the corpus ------------------------------------------------------------------------------
SEQ=() VER=() NAME=() DIR=() NONTX=()
declare -A IDX_OF_VER=() IDX_OF_SEQ=()
for d in "$CORPUS"/[0-9][0-9][0-9][0-9]_*/; do
    d=${d%/}
    base=${d##*/}
    seq=${base%%_*}
    rest=${base#*_}
    raw_version=${rest%%_*}
    SEQ+=("$seq")
    VER+=("${raw_version//-/}")
    NAME+=("${rest#*_}")
    DIR+=("$d")
    if grep -qsE '^[[:space:]]*run_in_transaction[[:space:]]*=[[:space:]]*false' "$d/metadata.toml"; then
        NONTX+=(1)
    else
        NONTX+=(0)
    fi
    IDX_OF_VER[${raw_version//-/}]=$((${#SEQ[@]} - 1))
    IDX_OF_SEQ[$seq]=$((${#SEQ[@]} - 1))
done
N=${#SEQ[@]}
N_NONTX=0
for i in "${!SEQ[@]}"; do ((N_NONTX += NONTX[i])) || true; done
N_TX=$((N - N_NONTX))
[[ ${#IDX_OF_VER[@]} -eq $N ]] || ms_die "duplicate versions in the corpus"
echo "crates_io corpus: $CORPUS"
echo "  $N migrations, $N_NONTX marked run_in_transaction = false"

ms_cluster_start corpus
DB=(psql -X -q -d)

# --- SQL generation and psql-output parsing --------------------------------------------------
# Every script below runs in ONE psql session without ON_ERROR_STOP, in autocommit mode, so each
# top-level statement is its own transaction. Markers (\warn) and server messages (errors with
# VERBOSITY verbose: "ERROR:  25001: message", then DETAIL/HINT/CONTEXT/LOCATION) all go to
# stderr, in order; parse_blocks turns that into one line per marked block, fields separated by
# US (\x1f; a tab would not do: `read` merges empty tab-separated fields):
#   key US outcome US sqlstate US message US context US warnings US detail (first line, of the error)
US=$'\x1f'

# gen_apply_all: one migrate.apply per migration, via ms_apply_sql.
gen_apply_all() {
    local i sql
    printf '\\set VERBOSITY verbose\n\\set SHOW_CONTEXT errors\n'
    for i in "${!SEQ[@]}"; do
        sql=$(ms_apply_sql "${VER[i]}" "${DIR[i]}/up.sql" "${DIR[i]}/down.sql" "${NAME[i]}")
        sql=${sql%;}
        [[ ${OOO[i]} -eq 1 ]] && sql="${sql%)}, allow_out_of_order => true)"
        printf '\\warn @@BEGIN %s\n\\unset r_apply\n%s \\gset r_\n' "$i" "$sql"
        printf '\\if :ERROR\n\\warn @@END error\n\\else\n\\warn @@END :r_apply\n\\endif\n'
    done
}

# gen_rollback_all N: N times rollback(1). When a down script fails: if it was refused with 25001
# (a CONCURRENTLY statement), run its file by hand with plain psql in autocommit mode, as the
# extension's hint says; then, in every case, re-register the migration with an empty down script
# and roll it back as a no-op. Table pg_temp.downfile (loaded first) maps versions to down.sql.
gen_rollback_all() {
    local k
    printf '\\set VERBOSITY verbose\n\\set SHOW_CONTEXT errors\n'
    # Rolling everything back loses the rows the up scripts inserted: the teardown allows the
    # data-loss rules (each rollback that needed it is listed after the phase). The WARNING of
    # an allow that matched nothing is expected for most calls; keep it out of the log.
    printf 'SET client_min_messages = error;\n'
    printf 'CREATE TEMP TABLE downfile (version text, path text);\n\\copy downfile FROM %s\n' \
        "$(ms_sql_literal "$WORK/downfile.tsv")"
    for ((k = 0; k < $1; k++)); do
        cat <<'EOF2'
\unset v
SELECT version AS v FROM migrate.migrations WHERE state = 'applied' ORDER BY applied_seq DESC LIMIT 1 \gset
\warn @@BEGIN :v
\unset rb_version
SELECT * FROM migrate.rollback(1, allow => ARRAY['drop-table, drop-column -- corpus teardown: rolling everything back']) \gset rb_
\if :ERROR
\warn @@END failed
SELECT :'LAST_ERROR_SQLSTATE' = '25001' AS by_hand, path AS downfile FROM downfile WHERE version = :'v' \gset
\if :by_hand
\warn @@BEGIN byhand :v
\i :downfile
\warn @@END done
\endif
\warn @@BEGIN fixup :v
\unset reg
SELECT migrate.register(m.version, m.up_sql, '', m.name) AS reg FROM migrate.migrations AS m WHERE m.version = :'v' \gset
\unset rb_version
SELECT * FROM migrate.rollback(1) \gset rb_
\if :ERROR
\warn @@END error
\else
\warn @@END :reg :rb_version
\endif
\else
\warn @@END rolled_back :rb_version
\endif
EOF2
    done
    # One more: nothing is applied any more, this must be refused with 55000.
    printf '\\warn @@BEGIN extra\nSELECT * FROM migrate.rollback(1);\n\\warn @@END done\n'
}

parse_blocks() {
    sed -E 's/^psql:.*:[0-9]+: (ERROR|WARNING|NOTICE|INFO|FATAL):/\1:/' "$1" | awk '
        function flush() {
            if (key != "") {
                printf "%s\037%s\037%s\037%s\037%s\037%s\037%s\n", key, outcome, state, msg, ctx, warn, detail
            }
            key = ""; outcome = ""; state = ""; msg = ""; ctx = ""; warn = ""; detail = ""; field = ""
        }
        /^@@BEGIN / { flush(); key = substr($0, 9); next }
        /^@@END /   { outcome = substr($0, 7); flush(); next }
        /^ERROR:  / {
            if (state == "") { state = substr($0, 9, 5); msg = substr($0, 16) }
            field = "error"; next
        }
        /^WARNING:  / { warn = warn (warn == "" ? "" : " | ") substr($0, 11); field = "warning"; next }
        /^CONTEXT:  / { if (ctx == "") { ctx = substr($0, 11) } else { ctx = ctx " | " substr($0, 11) }
                        field = "context"; next }
        /^DETAIL:  / { if (field == "error" && detail == "") detail = substr($0, 10); field = "other"; next }
        /^(DETAIL|HINT|LOCATION|NOTICE|INFO|STATEMENT|QUERY):  / { field = "other"; next }
        /^(DETAIL|HINT|LOCATION|NOTICE|INFO|STATEMENT|QUERY):/ { field = "other"; next }
        { if (field == "context") ctx = ctx " | " $0 }
        END { flush() }'
}

# run_script DB SQLFILE LOG: runs a generated script in one session; stderr to LOG.
run_script() {
    "${DB[@]}" "$1" -v ON_ERROR_STOP=0 <"$2" >/dev/null 2>"$3" || true
}

# schema_dump DB: the schema outside the extension, comparable between databases.
schema_dump() {
    pg_dump -s -N migrate -d "$1" | grep -vE '^(--|SET |SELECT pg_catalog.set_config|\\(un)?restrict )' \
        | grep -v 'migrations_schema' | sed '/^$/d'
}

# --- phase 0: reference ----------------------------------------------------------------------
echo
echo "== phase 0: reference schema with plain psql (BEGIN; \\i up.sql; COMMIT; per migration)"
"${DB[@]}" postgres -c 'CREATE DATABASE reference' -c 'CREATE DATABASE corpus'
{
    echo '\set ON_ERROR_STOP 1'
    for i in "${!SEQ[@]}"; do
        [[ ${NONTX[i]} -eq 1 ]] && continue
        printf 'BEGIN;\n\\i %s\nCOMMIT;\n' "$(ms_sql_literal "${DIR[i]}/up.sql")"
    done
} >"$WORK/reference.sql"
"${DB[@]}" reference <"$WORK/reference.sql" >/dev/null 2>"$WORK/reference.log" \
    || { cat "$WORK/reference.log"; ms_die "plain psql could not apply the corpus (see above)"; }
schema_dump reference >"$WORK/reference.schema"
echo "  $N_TX up scripts applied; reference schema: $(grep -c '^CREATE TABLE' "$WORK/reference.schema") tables," \
     "$(grep -c '^CREATE .*INDEX' "$WORK/reference.schema") indexes, $(grep -c '^CREATE FUNCTION' "$WORK/reference.schema") functions"

"${DB[@]}" corpus -c 'CREATE EXTENSION migrations_schema'
echo "  natural order vs diesel's: version_compare('2017-08-31-230457', '20170820180453') =" \
     "$("${DB[@]}" corpus -tAc "SELECT migrate.version_compare('2017-08-31-230457', '20170820180453')")," \
     "version_compare('202512291102420000', '20260120162913') =" \
     "$("${DB[@]}" corpus -tAc "SELECT migrate.version_compare('202512291102420000', '20260120162913')")"

# Where the extension's natural version order disagrees with diesel's (diesel compares its
# dash-less versions as strings, so 202512291102420000 (from 2025-12-29-110242-0000) comes before
# 20260120162913), applying in corpus order needs allow_out_of_order => true. Asked of
# migrate.version_compare: a migration is out of order when an earlier transactional one compares
# greater.
OOO=()
for i in "${!SEQ[@]}"; do
    OOO+=(0)
    printf '%s\t%s\t%s\n' "$i" "${VER[i]}" "${NONTX[i]}"
done >"$WORK/versions.tsv"
while read -r i; do OOO[i]=1; done < <("${DB[@]}" corpus -tA \
    -c 'CREATE TEMP TABLE v (i int, version text, nontx int)' \
    -c "\\copy v FROM $(ms_sql_literal "$WORK/versions.tsv")" \
    -c 'SELECT a.i FROM v a WHERE a.nontx = 0 AND EXISTS (SELECT FROM v b WHERE b.i < a.i AND b.nontx = 0
          AND migrate.version_compare(a.version, b.version) < 0) ORDER BY a.i')
N_OOO=0
for i in "${!SEQ[@]}"; do
    if [[ ${OOO[i]} -eq 1 ]]; then
        ((++N_OOO))
        echo "  out of order in the extension's natural order, applied with allow_out_of_order => true: ${SEQ[i]} ${VER[i]} ${NAME[i]}"
    fi
done
for i in "${!SEQ[@]}"; do printf '%s\t%s\n' "${VER[i]}" "${DIR[i]}/down.sql"; done >"$WORK/downfile.tsv"

# --- phases 1 and 3: apply all --------------------------------------------------------------
declare -A DOWN_WARNED=()       # migrations whose down script migrate.apply warned about
# apply_phase LABEL: runs gen_apply_all and checks every outcome.
apply_phase() {
    local label=$1 key outcome state msg ctx warn applied=0 refused=0 failed=0
    local -a failures=() notes=()
    gen_apply_all >"$WORK/$label.sql"
    local t=$SECONDS
    run_script corpus "$WORK/$label.sql" "$WORK/$label.log"
    parse_blocks "$WORK/$label.log" >"$WORK/$label.tsv"
    [[ $(wc -l <"$WORK/$label.tsv") -eq $N ]] \
        || problem "$label: expected $N results, parsed $(wc -l <"$WORK/$label.tsv") (log: $WORK/$label.log)"
    while IFS=$US read -r key outcome state msg ctx warn detail; do
        local id="${SEQ[key]} ${VER[key]} ${NAME[key]}"
        if [[ $outcome == applied ]]; then
            ((++applied))
            [[ ${NONTX[key]} -eq 1 ]] && problem "$label: $id is CONCURRENTLY but was applied"
        elif [[ $outcome == error && ${NONTX[key]} -eq 1 && $state == 25001 ]]; then
            ((++refused))
            failures+=("refused  $id: $state $msg")
        else
            ((++failed))
            failures+=("FAILED   $id: outcome=$outcome $state $msg${ctx:+ (CONTEXT: $ctx)}")
            problem "$label: unexpected outcome for $id: $outcome $state $msg"
        fi
        if [[ -n $warn ]]; then
            notes+=("warning  $id: $warn")
            [[ $warn == *"down script of migration"*"cannot be run"* ]] && DOWN_WARNED[${SEQ[key]}]=1
        fi
    done <"$WORK/$label.tsv"
    echo "  applied $applied, refused $refused, failed $failed ($((SECONDS - t)) s)"
    [[ $applied -eq $N_TX && $refused -eq $N_NONTX ]] \
        || problem "$label: expected $N_TX applied and $N_NONTX refused"
    local f
    for f in "${failures[@]}" "${notes[@]}"; do echo "    $f"; done
}

# check_schema LABEL: the corpus database's schema must equal the reference.
check_schema() {
    schema_dump corpus >"$WORK/$1.schema"
    if diff -u "$WORK/reference.schema" "$WORK/$1.schema" >"$WORK/$1.diff"; then
        echo "  schema identical to the plain-psql reference ($(wc -l <"$WORK/$1.schema") lines of pg_dump -s)"
    else
        problem "$1: schema differs from the plain-psql reference:"
        head -40 "$WORK/$1.diff" | sed 's/^/      /'
    fi
}

# state_counts: "applied=N pending=N rolled back=N" from migrate.status().
state_counts() {
    "${DB[@]}" corpus -tA -F= -c "SELECT state, count(*) FROM migrate.status() GROUP BY state ORDER BY state" \
        | paste -sd' ' -
}
history_counts() {
    "${DB[@]}" corpus -tA -F= -c "SELECT action, count(*) FROM migrate.history GROUP BY action ORDER BY action" \
        | paste -sd' ' -
}

echo
echo "== phase 1: apply all ($N calls to migrate.apply(version, up, down, name), one transaction each)"
apply_phase apply1
check_schema apply1
echo "  status: $(state_counts); history: $(history_counts)"
[[ $(state_counts) == "applied=$N_TX" ]] || problem "apply1: status should be applied=$N_TX"
[[ $(history_counts) == "apply=$N_TX" ]] || problem "apply1: history should be apply=$N_TX"

# --- phase 2: roll back all -------------------------------------------------------------------
echo
echo "== phase 2: roll back all (SELECT * FROM migrate.rollback(1), one transaction each)"
gen_rollback_all "$N_TX" >"$WORK/rollback.sql"
t=$SECONDS
run_script corpus "$WORK/rollback.sql" "$WORK/rollback.log"
parse_blocks "$WORK/rollback.log" >"$WORK/rollback.tsv"
rolled=0 failed=0 fixed=0 byhand=0 prev_seq=99999
declare -A FAILED_DOWN=()
FAIL_LINES=()
while IFS=$US read -r key outcome state msg ctx warn detail; do
    case $key in
    extra)
        if [[ $state != 55000 ]]; then
            problem "rollback with nothing applied: expected 55000, got '$state $msg'"
        else
            echo "  one more rollback(1) with nothing applied: $state $msg (as expected)"
        fi
        continue ;;
    byhand\ *)
        v=${key#byhand }
        if [[ -z $state ]]; then
            ((++byhand))
            FAIL_LINES[${#FAIL_LINES[@]} - 1]+=$'\n'"             -> ran its down.sql by hand with psql in autocommit mode: ok"
        else
            problem "running the down of $v by hand failed: $state $msg"
        fi
        continue ;;
    fixup\ *)
        v=${key#fixup }
        read -r reg rbv <<<"$outcome"
        if [[ $reg == updated && $rbv == "$v" ]]; then
            ((++fixed))
            FAIL_LINES[${#FAIL_LINES[@]} - 1]+=$'\n'"             -> re-registered with an empty down script (register: $reg), rolled back as a no-op"
        else
            problem "fix-up of $v did not work: '$outcome' $state $msg"
        fi
        continue ;;
    esac
    v=$key
    i=${IDX_OF_VER[$v]:-}
    [[ -n $i ]] || { problem "rollback: unknown version '$v' ($outcome $state $msg)"; continue; }
    id="${SEQ[i]} ${VER[i]} ${NAME[i]}"
    ((10#${SEQ[i]} < 10#$prev_seq)) || problem "rollback order: $id came after ${prev_seq}"
    prev_seq=${SEQ[i]}
    if [[ $outcome == "rolled_back $v" ]]; then
        ((++rolled))
        [[ $KNOWN_DOWN_FAILURES == *" ${SEQ[i]} "* || -n ${DOWN_WARNED[${SEQ[i]}]:-} ]] \
            && problem "rollback: down of $id is known to fail but succeeded"
    elif [[ $outcome == failed ]]; then
        ((++failed))
        FAILED_DOWN[${SEQ[i]}]=1
        if [[ -n $ctx ]]; then
            FAIL_LINES+=("failed   $id: $state $msg"$'\n'"             CONTEXT: $ctx")
        else
            FAIL_LINES+=("failed   $id: $state $msg"$'\n'"             (no CONTEXT) DETAIL: $detail")
        fi
        if [[ -n ${DOWN_WARNED[${SEQ[i]}]:-} ]]; then
            FAIL_LINES[${#FAIL_LINES[@]} - 1]+=$'\n'"             (migrate.apply warned about this down script in phase 1)"
        fi
        [[ $KNOWN_DOWN_FAILURES == *" ${SEQ[i]} "* || -n ${DOWN_WARNED[${SEQ[i]}]:-} ]] \
            || problem "rollback: unexpected failure of the down of $id"
    else
        problem "rollback: unexpected outcome for $id: $outcome $state $msg"
    fi
done <"$WORK/rollback.tsv"
echo "  rolled back $rolled, down failed $failed (then rolled back as no-ops: $fixed), $((rolled + fixed)) of $N_TX in all ($((SECONDS - t)) s)"
"${DB[@]}" corpus -tA -F' ' -c "SELECT version, rule, left(message, 90) FROM migrate.findings()
     WHERE action = 'rollback' AND allowed ORDER BY history_id" >"$WORK/allowed.txt"
echo "  down scripts that lost data, allowed by the teardown's allow argument: $(wc -l <"$WORK/allowed.txt")"
sed 's/^/    allowed  /' "$WORK/allowed.txt"
for f in "${FAIL_LINES[@]}"; do echo "    $f"; done
for s in $KNOWN_DOWN_FAILURES; do
    i=${IDX_OF_SEQ[$s]:-}
    [[ -n $i ]] || { problem "known failing down $s is not in the corpus"; continue; }
    if [[ ${NONTX[i]} -eq 1 ]]; then
        echo "    (known failing down $s ${NAME[i]}: never applied here, refused as CONCURRENTLY)"
    elif [[ -z ${FAILED_DOWN[$s]:-} ]]; then
        problem "known failing down $s did not fail"
    fi
done
echo "  status: $(state_counts); history: $(history_counts)"
[[ $(state_counts) == "rolled back=$N_TX" ]] || problem "rollback: status should be 'rolled back=$N_TX'"
[[ $(history_counts) == "apply=$N_TX rollback=$N_TX update_down=$failed" ]] \
    || problem "rollback: history should be apply=$N_TX rollback=$N_TX update_down=$failed"
left=$("${DB[@]}" corpus -tA -c "
    SELECT c.relkind::text || ' ' || c.oid::regclass FROM pg_class c
     WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'v', 'm', 'S', 'i')
    UNION ALL
    SELECT 'f ' || p.oid::regprocedure FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
    UNION ALL
    SELECT 'T ' || t.oid::regtype FROM pg_type t WHERE t.typnamespace = 'public'::regnamespace
      AND t.typtype IN ('e', 'd', 'c') AND t.typrelid = 0
      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = t.oid AND d.deptype = 'e')
    UNION ALL
    SELECT 'x ' || extname FROM pg_extension WHERE extname <> 'plpgsql' AND extname <> 'migrations_schema'
    ORDER BY 1")
echo "  left in schema public after rolling everything back (r table, i index, S sequence, f function, T type, x extension):"
printf '      %s\n' "${left:-(nothing)}" | sed '2,$s/^/      /'
if [[ $left == "$EXPECTED_LEFTOVERS" ]]; then
    echo "    as expected: 0136's down creates schema_migrations (no up creates it), 0192's down does not drop pgcrypto"
else
    problem "rollback: expected these leftovers: $(paste -sd, - <<<"$EXPECTED_LEFTOVERS")"
fi

# --- phase 3: apply all again -----------------------------------------------------------------
echo
echo "== phase 3: apply all again (same calls as phase 1)"
apply_phase apply3
check_schema apply3

# --- phase 4: consistency ---------------------------------------------------------------------
echo
echo "== phase 4: consistency"
sc=$(state_counts) hc=$(history_counts)
echo "  status: $sc; history: $hc"
[[ $sc == "applied=$N_TX" ]] || problem "final status should be applied=$N_TX"
[[ $hc == "apply=$((2 * N_TX)) rollback=$N_TX update_down=$failed" ]] \
    || problem "final history should be apply=$((2 * N_TX)) rollback=$N_TX update_down=$failed"
ooo=$("${DB[@]}" corpus -tA -c "SELECT count(*) FROM migrate.history WHERE action = 'apply' AND out_of_order")
echo "  history rows with out_of_order = true: $ooo (2 x $N_OOO allowed out of order)"
[[ $ooo -eq $((2 * N_OOO)) ]] || problem "expected $((2 * N_OOO)) apply rows with out_of_order = true"
# Per migration: state, history rows and stored scripts against what this script did. The down
# scripts of the no-op'd migrations are the corpus files again: the phase-3 apply passed them.
for i in "${!SEQ[@]}"; do
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "${VER[i]}" "${NONTX[i]}" "${FAILED_DOWN[${SEQ[i]}]:-0}" "${OOO[i]}" \
        "$(md5sum <"${DIR[i]}/up.sql" | cut -c1-32)" "$(md5sum <"${DIR[i]}/down.sql" | cut -c1-32)"
done >"$WORK/expected.tsv"
"${DB[@]}" corpus -tA -F' ' \
    -c "CREATE TEMP TABLE expected (version text, nontx int, fixed int, ooo int, up_md5 text, down_md5 text)" \
    -c "\\copy expected FROM $(ms_sql_literal "$WORK/expected.tsv")" -c "
    SELECT e.version, coalesce(s.state, '(none)') AS state, h.n_apply, h.n_rollback, h.n_update, h.n_ooo,
           md5(m.up_sql) = e.up_md5 AS same_up, md5(m.down_sql) = e.down_md5 AS same_down
      FROM expected e
      LEFT JOIN migrate.status() s USING (version)
      LEFT JOIN migrate.migrations m USING (version)
      LEFT JOIN (SELECT version, count(*) FILTER (WHERE action = 'apply') AS n_apply,
                        count(*) FILTER (WHERE action = 'rollback') AS n_rollback,
                        count(*) FILTER (WHERE action = 'update_down') AS n_update,
                        count(*) FILTER (WHERE out_of_order) AS n_ooo
                   FROM migrate.history GROUP BY version) h USING (version)
     WHERE CASE WHEN e.nontx = 1 THEN s.version IS NOT NULL OR h.version IS NOT NULL
                ELSE s.state IS DISTINCT FROM 'applied' OR h.n_apply <> 2 OR h.n_rollback <> 1
                     OR h.n_update <> e.fixed OR h.n_ooo <> 2 * e.ooo
                     OR md5(m.up_sql) IS DISTINCT FROM e.up_md5
                     OR md5(m.down_sql) IS DISTINCT FROM e.down_md5 END" >"$WORK/mismatch.txt"
if [[ -s $WORK/mismatch.txt ]]; then
    problem "per-migration mismatches (version state applies rollbacks update_downs out_of_order same_up same_down):"
    sed 's/^/      /' "$WORK/mismatch.txt"
else
    echo "  per migration: each of the $N_TX has state applied, 2 apply + 1 rollback history rows," \
         "1 update_down row if its down was replaced by a no-op, out_of_order where allowed, and up/down" \
         "scripts byte-identical to the corpus files; the $N_NONTX CONCURRENTLY ones are unknown to the extension"
fi

echo
if [[ ${#PROBLEMS[@]} -eq 0 ]]; then
    echo "crates_io corpus: OK ($N migrations: $N_TX applied, rolled back and re-applied, $N_NONTX refused as CONCURRENTLY, $failed down scripts failed as expected, $byhand of them run by hand) in $((SECONDS - T0)) s"
    exit 0
fi
echo "crates_io corpus: FAILED, ${#PROBLEMS[@]} problem(s) in $((SECONDS - T0)) s:"
for p in "${PROBLEMS[@]}"; do echo "  - $p"; done
exit 1
