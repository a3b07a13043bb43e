#!/usr/bin/env bash
# Runs the real crates.io migration corpus (285 diesel migrations, ../shared/corpora/crates_io,
# see ../shared/corpora/README.md) through the extension on a throwaway cluster:
#
#   0. reference, with plain psql, as diesel runs the corpus: in database "reference", every up
#      script in corpus order, in a transaction of its own (BEGIN; \i up.sql; COMMIT;), except the
#      7 migrations marked run_in_transaction = false (a single CREATE/DROP INDEX CONCURRENTLY),
#      which run outside a transaction (\i up.sql in autocommit mode). Its schema, their indexes
#      included, is what the extension must produce. Then every down script in reverse order, in a
#      transaction of its own, or in autocommit mode when its migration is marked
#      run_in_transaction = false or the script holds a statement that cannot run in a transaction
#      block (0225's down creates two indexes CONCURRENTLY); psql goes on after an error. Which down
#      scripts fail there (SQLSTATE, message) and the schema they leave are what the extension's
#      rollback must reproduce.
#   1. apply all: one `SELECT migrate.apply(version, up, down, name)` per migration, each in its
#      own transaction, in corpus order, with the scripts unchanged. A script with a statement that
#      cannot run in a transaction block (the 7) becomes steps that the extension's worker runs
#      after the caller's transaction commits: apply must return 'applying' for exactly those and
#      'applied' for the others. After 'applying' (or 'queued'), `CALL migrate.wait()` runs before
#      the next migration, so that each one runs in corpus order on the schema it expects, and the
#      migration must then be 'applied'.
#   2. roll back all: one `SELECT * FROM migrate.rollback(1)` per call, each in its own
#      transaction. A down script with such a statement (0222 0225 0228 0256 0285) leaves its
#      migration 'rolling back'; `CALL migrate.wait()` then waits for its steps, after which it
#      must be 'rolled back'. The schema left must equal what plain psql's rollback left.
#   3. apply all again, exactly as in phase 1.
#   4. consistency: migrate.status() and migrate.history against what was done, the schema
#      against the reference, and the server log free of crashes.
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
# Failures, and what the script does about them (the corpus README lists the facts these rely on):
# - A down script whose transactional part fails makes rollback(1) raise the statement's error;
#   the caller's transaction rolls back and the migration stays applied. Expected exactly for the
#   8 down scripts that fail under plain psql in phase 0, the README's 8 (0132 syntax error; 0235
#   0139 0059 0050 constraint does not exist; 0045 column does not exist; 0028 0027 index does not
#   exist), each with plain psql's SQLSTATE and message, and a CONTEXT that names the migration's
#   down script. The next rollback(1) would hit the same migration again, so the script then
#   re-registers it with its stored up script and an empty (no-op) down script (migrate.register on
#   an applied migration with the same checksum only updates the down script; history gets
#   'update_down'), rolls it back as a no-op and goes on. Nothing of the failed down script ran, as
#   with plain psql, so the schemas stay comparable. Any other failure, or one of the 8 that does
#   not fail, is a problem.
# - A step that fails after commit makes `CALL migrate.wait()` raise 55000 ("migration V failed at
#   step N of its up|down script: SQLSTATE: message"), and the migration is 'failed': nothing
#   queued, applied or rolled back after it runs until it is dealt with. No step of this corpus
#   may fail (plain psql runs every one of these statements), so such a failure is always a
#   problem; the script deals with it with the extension's own way out, so that it is reported
#   clearly and neither hangs the run nor hides what follows:
#     * a failed up step (phases 1 and 3): `SELECT * FROM migrate.rollback()`, which cancels what
#       is left of the run and runs the migration's down script (its steps too, waited for); then
#       the next migration;
#     * a failed down step (phase 2): the extension's only way out is `SELECT migrate.retry()`
#       after fixing the cause. migrate.rollback() refuses ("a rollback waits until it is retried
#       or rolled back"), and the empty-down-script fix-up above cannot help: the failed step is
#       queued with its own copy of its statements, which retry() runs again whatever the stored
#       down script is. This script cannot fix an unknown cause, so it retries once (that clears a
#       transient failure, such as a lock not granted) and, when the step fails again, stops the
#       run: every later rollback would be refused with 55000, and phase 3 would start from a
#       half-rolled-back schema.
#   A wait that gives up (57014 after WAIT_TIMEOUT) or fails without a failed migration stops the
#   run too.
#
# Exit status: 0 when the extension behaved as expected (or the corpus is absent: skipped),
# 1 on any inconsistency (unexpected failure, wrong state, status/history not matching what was
# done, schema different from the plain-psql reference, a crash in the server log).
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

corpus_find "crates_io corpus"

# Down scripts that fail with plain psql when everything is rolled back (corpus README); phase 0
# measures it again.
KNOWN_DOWN_FAILURES=" 0027 0028 0045 0050 0059 0132 0139 0235 "
# What rolling everything back leaves in schema public, whatever the tool: 0136's down creates the
# pre-diesel table schema_migrations that no up script creates, and 0192's up creates extension
# pgcrypto that its down does not drop.
EXPECTED_LEFTOVERS='S schema_migrations_id_seq
i schema_migrations_pkey
i schema_migrations_version_key
r schema_migrations
x pgcrypto'
# How long one CALL migrate.wait() may take (each step here builds or drops one index of a
# near-empty table: well under a second).
WAIT_TIMEOUT='5 min'
# Statements that PostgreSQL refuses in a transaction block, at the start of a line of a script
# (the corpus writes each of its CONCURRENTLY statements so): the scripts that must run as steps.
NONTX_RE='^[[:space:]]*((create|drop)[[:space:]]+(unique[[:space:]]+)?index[[:space:]]+concurrently|reindex[[:space:]].*concurrently|vacuum([[:space:]]|;|$))'

T0=$SECONDS
ms_workdir corpus_work  # WORK and the cluster, removed on exit (test/lib/common.sh)
corpus_for_server  # on 17 and later a copy with one fix (lib.sh)

PROBLEMS=()                     # inconsistencies; any entry makes the exit status 1
problem() { PROBLEMS+=("$*"); echo "  PROBLEM: $*"; }
STOPPED=                        # set when a failure leaves nothing sensible to do after it

# finish [SUMMARY]: the last lines and the exit status.
finish() {
    echo
    if [[ ${#PROBLEMS[@]} -eq 0 ]]; then
        echo "crates_io corpus: OK (${1:-}) in $((SECONDS - T0)) s"
        exit 0
    fi
    echo "crates_io corpus: FAILED, ${#PROBLEMS[@]} problem(s) in $((SECONDS - T0)) s:"
    local p
    for p in "${PROBLEMS[@]}"; do echo "  - $p"; done
    exit 1
}

# --- the corpus ------------------------------------------------------------------------------
SEQ=() VER=() NAME=() DIR=() NONTX=() UPSTEP=() DOWNSTEP=()
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
    if grep -qiE "$NONTX_RE" "$d/up.sql"; then UPSTEP+=(1); else UPSTEP+=(0); fi
    if grep -qiE "$NONTX_RE" "$d/down.sql"; then DOWNSTEP+=(1); else DOWNSTEP+=(0); fi
    IDX_OF_VER[${raw_version//-/}]=$((${#SEQ[@]} - 1))
    IDX_OF_SEQ[$seq]=$((${#SEQ[@]} - 1))
done
N=${#SEQ[@]}
N_NONTX=0 N_UPSTEP=0 N_DOWNSTEP=0
UPSTEP_LIST='' DOWNSTEP_LIST=''
for i in "${!SEQ[@]}"; do
    ((N_NONTX += NONTX[i])) || true
    if [[ ${UPSTEP[i]} -eq 1 ]]; then ((++N_UPSTEP)); UPSTEP_LIST+=" ${SEQ[i]}"; fi
    if [[ ${DOWNSTEP[i]} -eq 1 ]]; then ((++N_DOWNSTEP)); DOWNSTEP_LIST+=" ${SEQ[i]}"; fi
    [[ ${UPSTEP[i]} -eq "${NONTX[i]}" ]] \
        || ms_die "${SEQ[i]}: run_in_transaction = false is ${NONTX[i]}, but its up script has a CONCURRENTLY statement: ${UPSTEP[i]}"
done
[[ ${#IDX_OF_VER[@]} -eq $N ]] || ms_die "duplicate versions in the corpus"
echo "crates_io corpus: $CORPUS"
echo "  $N migrations, $N_NONTX marked run_in_transaction = false (up scripts that run as steps:$UPSTEP_LIST)"
echo "  down scripts with a statement that cannot run in a transaction block:$DOWNSTEP_LIST"

ms_cluster_start corpus
DB=(psql -X -q -d)

# --- SQL generation and psql-output parsing --------------------------------------------------
# Every script below runs in ONE psql session without ON_ERROR_STOP, in autocommit mode, so each
# top-level statement is its own transaction (and CALL migrate.wait() is outside a transaction
# block, as it must be). Markers (\warn) and server messages (errors with VERBOSITY verbose:
# "ERROR:  25001: message", then DETAIL/HINT/CONTEXT/LOCATION) all go to stderr, in order;
# parse_blocks turns that into one line per marked block, fields separated by US (\x1f; a tab
# would not do: `read` merges empty tab-separated fields):
#   key US outcome US sqlstate US message US context US warnings US detail (first line, of the error)
# A block that ends the session (\q, after a failure that leaves nothing to do) is keyed "stuck".
US=$'\x1f'
ALLOW_TEARDOWN="ARRAY['drop-table, drop-column -- corpus teardown: rolling everything back']"

# After an up step failed (phases 1 and 3): the extension's way out for a failed up step, then
# wait for the down script's steps. Expects :v (version) and :i (index).
UP_STEP_FAILED=$(cat <<EOF
SELECT coalesce((SELECT state FROM migrate.status() WHERE version = :'v'), '') = 'failed' AS up_failed \\gset
\\if :up_failed
\\warn @@BEGIN recover :i
SELECT * FROM migrate.rollback(allow => $ALLOW_TEARDOWN);
\\if :ERROR
\\warn @@END error
\\warn @@BEGIN stuck :i
\\warn @@END rollback of the failed migration refused
\\q
\\endif
CALL migrate.wait(timeout => :'wait_timeout');
\\if :ERROR
\\warn @@END error
\\warn @@BEGIN stuck :i
\\warn @@END the down script of the failed migration did not finish
\\q
\\endif
\\set st none
SELECT state AS st FROM migrate.status() WHERE version = :'v' \\gset
\\warn @@END rolled back, state :st
\\else
\\warn @@BEGIN stuck :i
\\warn @@END the wait failed but no migration is failed
\\q
\\endif
EOF
)

# gen_apply_all: one migrate.apply per migration, via ms_apply_sql; a wait after each that
# returned 'applying' or 'queued'.
gen_apply_all() {
    local i sql
    printf '\\set VERBOSITY verbose\n\\set SHOW_CONTEXT errors\n\\set wait_timeout %s\n' \
        "$(ms_sql_literal "$WAIT_TIMEOUT")"
    for i in "${!SEQ[@]}"; do
        sql=$(ms_apply_sql "${VER[i]}" "${DIR[i]}/up.sql" "${DIR[i]}/down.sql" "${NAME[i]}")
        sql=${sql%;}
        [[ ${OOO[i]} -eq 1 ]] && sql="${sql%)}, allow_out_of_order => true)"
        printf '\\set i %s\n\\set v %s\n\\warn @@BEGIN :i\n\\set r_apply none\n%s \\gset r_\n' \
            "$i" "${VER[i]}" "$sql"
        cat <<EOF
\\if :ERROR
\\warn @@END error
\\else
\\warn @@END :r_apply
\\endif
SELECT :'r_apply' IN ('applying', 'queued') AS must_wait \\gset
\\if :must_wait
\\warn @@BEGIN wait :i
CALL migrate.wait(timeout => :'wait_timeout');
\\if :ERROR
\\warn @@END error
$UP_STEP_FAILED
\\else
\\set st none
SELECT state AS st FROM migrate.status() WHERE version = :'v' \\gset
\\warn @@END done :st
\\endif
\\endif
EOF
    done
}

# gen_rollback_all N: N times rollback(1). When it leaves the migration 'rolling back', wait for
# its steps (if one fails: retry once, else stop). When the down script's transactional part
# fails, re-register the migration with an empty down script and roll it back as a no-op.
gen_rollback_all() {
    local k
    printf '\\set VERBOSITY verbose\n\\set SHOW_CONTEXT errors\n\\set wait_timeout %s\n' \
        "$(ms_sql_literal "$WAIT_TIMEOUT")"
    # Rolling everything back loses the rows the up scripts inserted: the teardown allows the
    # data-loss rules (each rollback that needed it is listed after the phase). The WARNING of
    # an allow that matched nothing is expected for most calls; keep it out of the log.
    printf 'SET client_min_messages = error;\n'
    for ((k = 0; k < $1; k++)); do
        cat <<EOF
\\set v none
SELECT version AS v FROM migrate.migrations WHERE state = 'applied' ORDER BY applied_seq DESC LIMIT 1 \\gset
\\warn @@BEGIN :v
\\set rb_version none
SELECT * FROM migrate.rollback(1, allow => $ALLOW_TEARDOWN) \\gset rb_
\\if :ERROR
\\warn @@END failed
\\warn @@BEGIN fixup :v
\\set reg none
SELECT migrate.register(m.version, m.up_sql, '', m.name) AS reg FROM migrate.migrations AS m WHERE m.version = :'v' \\gset
\\set rb_version none
SELECT * FROM migrate.rollback(1) \\gset rb_
\\if :ERROR
\\warn @@END error
\\else
\\warn @@END :reg :rb_version
\\endif
\\else
\\warn @@END rolled_back :rb_version
SELECT state = 'rolling back' AS must_wait FROM migrate.status() WHERE version = :'rb_version' \\gset
\\if :must_wait
\\warn @@BEGIN wait :rb_version
CALL migrate.wait(timeout => :'wait_timeout');
\\if :ERROR
\\warn @@END error
SELECT coalesce((SELECT state FROM migrate.status() WHERE version = :'rb_version'), '') = 'failed' AS down_failed \\gset
\\if :down_failed
\\warn @@BEGIN retry :rb_version
SELECT migrate.retry(:'rb_version');
CALL migrate.wait(timeout => :'wait_timeout');
\\if :ERROR
\\warn @@END error
\\warn @@BEGIN stuck :rb_version
\\warn @@END its down step failed again after migrate.retry()
\\q
\\endif
\\set st none
SELECT state AS st FROM migrate.status() WHERE version = :'rb_version' \\gset
\\warn @@END done :st
\\else
\\warn @@BEGIN stuck :rb_version
\\warn @@END the wait failed but the migration is not failed
\\q
\\endif
\\else
\\set st none
SELECT state AS st FROM migrate.status() WHERE version = :'rb_version' \\gset
\\warn @@END done :st
\\endif
\\endif
\\endif
EOF
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

# step_error MESSAGE: "SQLSTATE: message" of the step, from wait()'s 55000 message.
step_error() { sed -E 's/^.* of its (up|down) script: //' <<<"$1"; }

# --- phase 0: reference ----------------------------------------------------------------------
echo
echo "== phase 0: reference with plain psql (BEGIN; \\i up.sql; COMMIT; per migration, \\i up.sql in autocommit mode for the $N_NONTX run_in_transaction = false)"
"${DB[@]}" postgres -c 'CREATE DATABASE reference' -c 'CREATE DATABASE corpus'
{
    echo '\set ON_ERROR_STOP 1'
    for i in "${!SEQ[@]}"; do
        if [[ ${NONTX[i]} -eq 1 ]]; then
            printf '\\i %s\n' "$(ms_sql_literal "${DIR[i]}/up.sql")"
        else
            printf 'BEGIN;\n\\i %s\nCOMMIT;\n' "$(ms_sql_literal "${DIR[i]}/up.sql")"
        fi
    done
} >"$WORK/reference.sql"
"${DB[@]}" reference <"$WORK/reference.sql" >/dev/null 2>"$WORK/reference.log" \
    || { cat "$WORK/reference.log"; ms_die "plain psql could not apply the corpus (see above)"; }
corpus_schema_dump reference >"$WORK/reference.schema"
echo "  $N up scripts applied; reference schema: $(grep -c '^CREATE TABLE' "$WORK/reference.schema") tables," \
     "$(grep -c '^CREATE .*INDEX' "$WORK/reference.schema") indexes, $(grep -c '^CREATE FUNCTION' "$WORK/reference.schema") functions"

# The down scripts with plain psql, newest first: which fail, and the schema they leave.
{
    printf '\\set VERBOSITY verbose\n\\set SHOW_CONTEXT errors\n'
    for ((i = N - 1; i >= 0; i--)); do
        printf '\\warn @@BEGIN %s\n' "$i"
        if [[ ${NONTX[i]} -eq 1 || ${DOWNSTEP[i]} -eq 1 ]]; then
            printf '\\i %s\n' "$(ms_sql_literal "${DIR[i]}/down.sql")"
        else
            printf 'BEGIN;\n\\i %s\nCOMMIT;\n' "$(ms_sql_literal "${DIR[i]}/down.sql")"
        fi
        printf '\\warn @@END done\n'
    done
} >"$WORK/reference_down.sql"
run_script reference "$WORK/reference_down.sql" "$WORK/reference_down.log"
parse_blocks "$WORK/reference_down.log" >"$WORK/reference_down.tsv"
[[ $(wc -l <"$WORK/reference_down.tsv") -eq $N ]] \
    || ms_die "plain psql rollback: expected $N results, parsed $(wc -l <"$WORK/reference_down.tsv") (log: $WORK/reference_down.log)"
declare -A REF_FAIL=()          # seq -> "SQLSTATE message" of plain psql's first error
while IFS=$US read -r key outcome state msg ctx warn detail; do
    [[ -n $state ]] && REF_FAIL[${SEQ[key]}]="$state $msg"
done <"$WORK/reference_down.tsv"
corpus_schema_dump reference >"$WORK/reference_down.schema"
ref_failed=$(printf '%s\n' "${!REF_FAIL[@]}" | sort | paste -sd' ' -)
echo "  $N down scripts run, newest first (in autocommit mode:$(for i in "${!SEQ[@]}"; do
    [[ ${NONTX[i]} -eq 1 || ${DOWNSTEP[i]} -eq 1 ]] && printf ' %s' "${SEQ[i]}"; done)); ${#REF_FAIL[@]} failed: $ref_failed"
[[ " $ref_failed " == "$KNOWN_DOWN_FAILURES" ]] \
    || problem "plain psql's failing down scripts ($ref_failed) are not the corpus README's ($KNOWN_DOWN_FAILURES)"
for s in $ref_failed; do echo "    plain psql  $s ${NAME[${IDX_OF_SEQ[$s]}]}: ${REF_FAIL[$s]}"; done

"${DB[@]}" corpus -c 'CREATE EXTENSION migrations_schema'
echo "  natural order vs diesel's: version_compare('2017-08-31-230457', '20170820180453') =" \
     "$("${DB[@]}" corpus -tAc "SELECT migrate.version_compare('2017-08-31-230457', '20170820180453')")," \
     "version_compare('202512291102420000', '20260120162913') =" \
     "$("${DB[@]}" corpus -tAc "SELECT migrate.version_compare('202512291102420000', '20260120162913')")"

# Where the extension's natural version order disagrees with diesel's (diesel compares its
# dash-less versions as strings, so 202512291102420000 (from 2025-12-29-110242-0000) comes before
# 20260120162913), applying in corpus order needs allow_out_of_order => true. Asked of
# migrate.version_compare: a migration is out of order when an earlier one compares greater.
OOO=()
for i in "${!SEQ[@]}"; do
    OOO+=(0)
    printf '%s\t%s\n' "$i" "${VER[i]}"
done >"$WORK/versions.tsv"
while read -r i; do OOO[i]=1; done < <("${DB[@]}" corpus -tA \
    -c 'CREATE TEMP TABLE v (i int, version text)' \
    -c "\\copy v FROM $(ms_sql_literal "$WORK/versions.tsv")" \
    -c 'SELECT a.i FROM v a WHERE EXISTS (SELECT FROM v b WHERE b.i < a.i
          AND migrate.version_compare(a.version, b.version) < 0) ORDER BY a.i')
N_OOO=0
for i in "${!SEQ[@]}"; do
    if [[ ${OOO[i]} -eq 1 ]]; then
        ((++N_OOO))
        echo "  out of order in the extension's natural order, applied with allow_out_of_order => true: ${SEQ[i]} ${VER[i]} ${NAME[i]}"
    fi
done

# --- phases 1 and 3: apply all --------------------------------------------------------------
declare -A DOWN_WARNED=()       # migrations whose down script migrate.apply warned about
# apply_phase LABEL: runs gen_apply_all and checks every outcome.
apply_phase() {
    local label=$1 key outcome state msg ctx warn detail i applied=0 stepped=0 waited=0 failed=0 results=0
    local -a failures=() notes=()
    gen_apply_all >"$WORK/$label.sql"
    local t=$SECONDS
    run_script corpus "$WORK/$label.sql" "$WORK/$label.log"
    parse_blocks "$WORK/$label.log" >"$WORK/$label.tsv"
    while IFS=$US read -r key outcome state msg ctx warn detail; do
        case $key in
        wait\ *)
            i=${key#wait }
            if [[ $outcome == "done applied" ]]; then
                ((++waited))
                notes+=("steps    ${SEQ[i]} ${VER[i]} ${NAME[i]}: apply returned 'applying'; after CALL migrate.wait(): applied")
            else
                ((++failed))
                failures+=("FAILED   ${SEQ[i]} ${VER[i]} ${NAME[i]}: CALL migrate.wait(): ${state:-no error} $msg (outcome: $outcome)")
                problem "$label: the steps of ${SEQ[i]} ${VER[i]} did not apply: $outcome ${state:+$state $msg}"
            fi
            continue ;;
        recover\ *)
            i=${key#recover }
            failures+=("         -> rolled back with SELECT * FROM migrate.rollback(), then waited: ${outcome}${state:+ $state $msg}")
            [[ $outcome == "rolled back, state rolled back" ]] \
                || problem "$label: rolling back the failed ${SEQ[i]} ${VER[i]} did not work: $outcome $state $msg"
            continue ;;
        stuck\ *)
            i=${key#stuck }
            STOPPED="$label stopped at ${SEQ[i]} ${VER[i]} ${NAME[i]}: $outcome"
            problem "$STOPPED"
            continue ;;
        esac
        ((++results))
        local id="${SEQ[key]} ${VER[key]} ${NAME[key]}"
        if [[ $outcome == applied && ${UPSTEP[key]} -eq 0 ]]; then
            ((++applied))
        elif [[ $outcome == applying && ${UPSTEP[key]} -eq 1 ]]; then
            ((++stepped))
        else
            ((++failed))
            failures+=("FAILED   $id: outcome=$outcome $state $msg${ctx:+ (CONTEXT: $ctx)}")
            problem "$label: unexpected outcome for $id (its up script has steps: ${UPSTEP[key]}): $outcome $state $msg"
        fi
        if [[ -n $warn ]]; then
            notes+=("warning  $id: $warn")
            [[ $warn == *"down script of migration"*"cannot be run"* ]] && DOWN_WARNED[${SEQ[key]}]=1
        fi
    done <"$WORK/$label.tsv"
    [[ -n $STOPPED || $results -eq $N ]] \
        || problem "$label: expected $N results, parsed $results (log: $WORK/$label.log)"
    echo "  applied $((applied + waited)) of $N: $applied in the caller's transaction, $waited with steps after commit" \
         "(apply returned 'applying', then CALL migrate.wait()); failed $failed ($((SECONDS - t)) s)"
    [[ $applied -eq $((N - N_UPSTEP)) && $stepped -eq $N_UPSTEP && $waited -eq $N_UPSTEP ]] \
        || problem "$label: expected $((N - N_UPSTEP)) applied at once and $N_UPSTEP applying then applied"
    local f
    for f in "${failures[@]}" "${notes[@]}"; do echo "    $f"; done
}

# check_schema LABEL [REFERENCE]: the corpus database's schema must equal the reference.
check_schema() {
    local ref=${2:-reference}
    corpus_schema_dump corpus >"$WORK/$1.schema"
    if diff -u "$WORK/$ref.schema" "$WORK/$1.schema" >"$WORK/$1.diff"; then
        echo "  schema identical to the plain-psql $ref ($(wc -l <"$WORK/$1.schema") lines of pg_dump -s," \
             "$(grep -c '^CREATE .*INDEX' "$WORK/$1.schema") indexes)"
    else
        problem "$1: schema differs from the plain-psql $ref:"
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
echo "== phase 1: apply all ($N calls to migrate.apply(version, up, down, name), one transaction each; CALL migrate.wait() after 'applying')"
apply_phase apply1
[[ -n $STOPPED ]] && finish
check_schema apply1
echo "  status: $(state_counts); history: $(history_counts)"
[[ $(state_counts) == "applied=$N" ]] || problem "apply1: status should be applied=$N"
[[ $(history_counts) == "apply=$N apply_done=$N_UPSTEP" ]] \
    || problem "apply1: history should be apply=$N apply_done=$N_UPSTEP"

# --- phase 2: roll back all -------------------------------------------------------------------
echo
echo "== phase 2: roll back all (SELECT * FROM migrate.rollback(1), one transaction each; CALL migrate.wait() after 'rolling back')"
gen_rollback_all "$N" >"$WORK/rollback.sql"
t=$SECONDS
run_script corpus "$WORK/rollback.sql" "$WORK/rollback.log"
parse_blocks "$WORK/rollback.log" >"$WORK/rollback.tsv"
rolled=0 failed=0 fixed=0 stepped=0 waits=0 results=0 prev_seq=99999
declare -A FAILED_DOWN=() STEPPED_DOWN=()
FAIL_LINES=() STEP_LINES=()
while IFS=$US read -r key outcome state msg ctx warn detail; do
    case $key in
    extra)
        if [[ $state != 55000 ]]; then
            problem "rollback with nothing applied: expected 55000, got '$state $msg'"
        else
            echo "  one more rollback(1) with nothing applied: $state $msg (as expected)"
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
    wait\ *)
        v=${key#wait }
        ((++waits))
        i=${IDX_OF_VER[$v]}
        id="${SEQ[i]} ${VER[i]} ${NAME[i]}"
        if [[ $outcome == "done rolled back" ]]; then
            ((++stepped))
            STEPPED_DOWN[${SEQ[i]}]=1
            STEP_LINES+=("steps    $id: rollback(1) left it 'rolling back'; after CALL migrate.wait(): rolled back")
            [[ ${DOWNSTEP[i]} -eq 1 ]] || problem "rollback: $id has no CONCURRENTLY statement in its down script but ran steps"
        else
            FAILED_DOWN[${SEQ[i]}]=step
            FAIL_LINES+=("FAILED   $id: a down step failed: CALL migrate.wait(): ${state:-no error} $msg${detail:+ (DETAIL: $detail)}"$'\n'"             plain psql: ${REF_FAIL[${SEQ[i]}]:-no error}")
            ref=${REF_FAIL[${SEQ[i]}]:-}
            if [[ $state == 55000 && -n $ref && "$(step_error "$msg")" == "${ref/ /: }" ]]; then
                problem "rollback: a down step of $id failed as it does with plain psql ($(step_error "$msg")); the failed step blocks every later rollback"
            else
                problem "rollback: a down step of $id failed: $outcome ${state:+$state $msg}"
            fi
        fi
        continue ;;
    retry\ *)
        v=${key#retry }
        FAIL_LINES[${#FAIL_LINES[@]} - 1]+=$'\n'"             -> SELECT migrate.retry(), CALL migrate.wait(): ${outcome}${state:+ $state $msg}"
        if [[ $outcome == "done rolled back" ]]; then
            ((++stepped))
            STEPPED_DOWN[${SEQ[${IDX_OF_VER[$v]}]}]=1
        fi
        continue ;;
    stuck\ *)
        v=${key#stuck }
        STOPPED="rollback stopped at $v ${NAME[${IDX_OF_VER[$v]}]}: $outcome; nothing more can be rolled back until it is fixed and retried"
        problem "$STOPPED"
        continue ;;
    esac
    ((++results))
    v=$key
    i=${IDX_OF_VER[$v]:-}
    [[ -n $i ]] || { problem "rollback: unknown version '$v' ($outcome $state $msg)"; continue; }
    id="${SEQ[i]} ${VER[i]} ${NAME[i]}"
    ((10#${SEQ[i]} < 10#$prev_seq)) || problem "rollback order: $id came after ${prev_seq}"
    prev_seq=${SEQ[i]}
    ref=${REF_FAIL[${SEQ[i]}]:-}
    if [[ $outcome == "rolled_back $v" ]]; then
        ((++rolled))
    elif [[ $outcome == failed ]]; then
        ((++failed))
        FAILED_DOWN[${SEQ[i]}]=1
        line="failed   $id: $state $msg"
        if [[ -n $ctx ]]; then
            line+=$'\n'"             CONTEXT: $ctx"
        else
            line+=$'\n'"             (no CONTEXT) DETAIL: $detail"
        fi
        if [[ -z $ref ]]; then
            problem "rollback: unexpected failure of the down of $id: $state $msg (plain psql runs it)"
        elif [[ "$state $msg" != "$ref" ]]; then
            problem "rollback: the down of $id failed with '$state $msg', plain psql with '$ref'"
            line+=$'\n'"             plain psql: $ref"
        else
            line+=$'\n'"             as with plain psql (same SQLSTATE and message)"
        fi
        # "migration V (name) down script, statement N, line L: ..." ("migration V down script,
        # line L: ..." for a syntax error).
        [[ $ctx =~ migration\ $v(\ \([^\)]*\))?\ down\ script ]] \
            || problem "rollback: the error of $id does not name the migration's down script in its CONTEXT: '$ctx'"
        [[ -n ${DOWN_WARNED[${SEQ[i]}]:-} ]] \
            && line+=$'\n'"             (migrate.apply warned about this down script in phase 1)"
        FAIL_LINES+=("$line")
    else
        problem "rollback: unexpected outcome for $id: $outcome $state $msg"
    fi
done <"$WORK/rollback.tsv"
[[ -n $STOPPED || $results -eq $N ]] || problem "rollback: expected $N results, parsed $results (log: $WORK/rollback.log)"
echo "  rolled back $((rolled - waits)) in the caller's transaction, $stepped with steps after commit" \
     "(rollback(1) left them 'rolling back', then CALL migrate.wait()); down failed $failed" \
     "(then rolled back as no-ops: $fixed); $((rolled + fixed)) of $N in all ($((SECONDS - t)) s)"
"${DB[@]}" corpus -tA -F' ' -c "SELECT version, rule, left(message, 90) FROM migrate.findings()
     WHERE action = 'rollback' AND allowed ORDER BY history_id" >"$WORK/allowed.txt"
echo "  down scripts that lost data, allowed by the teardown's allow argument: $(wc -l <"$WORK/allowed.txt")"
sed 's/^/    allowed  /' "$WORK/allowed.txt"
for f in "${FAIL_LINES[@]}" "${STEP_LINES[@]}"; do echo "    $f"; done
[[ -n $STOPPED ]] && finish
for s in $KNOWN_DOWN_FAILURES; do
    [[ -n ${IDX_OF_SEQ[$s]:-} ]] || problem "known failing down $s is not in the corpus"
done
declare -A EXPECT_FAIL=()
for s in $KNOWN_DOWN_FAILURES "${!REF_FAIL[@]}"; do EXPECT_FAIL[$s]=1; done
for s in $(printf '%s\n' "${!EXPECT_FAIL[@]}" | sort); do
    [[ -n ${FAILED_DOWN[$s]:-} ]] || problem "the down of $s did not fail here (plain psql: ${REF_FAIL[$s]:-no error, but the corpus README lists it})"
done
for s in "${!DOWN_WARNED[@]}"; do
    [[ -n ${REF_FAIL[$s]:-} ]] || problem "migrate.apply warned about the down script of $s, which plain psql runs"
done
# Every down script with a CONCURRENTLY statement ran steps, unless its transactional part failed.
for i in "${!SEQ[@]}"; do
    [[ ${DOWNSTEP[i]} -eq 1 && -z ${STEPPED_DOWN[${SEQ[i]}]:-} && -z ${FAILED_DOWN[${SEQ[i]}]:-} ]] \
        && problem "rollback: the down script of ${SEQ[i]} has a CONCURRENTLY statement but did not run as steps"
done
echo "  status: $(state_counts); history: $(history_counts)"
[[ $(state_counts) == "rolled back=$N" ]] || problem "rollback: status should be 'rolled back=$N'"
[[ $(history_counts) == "apply=$N apply_done=$N_UPSTEP rollback=$N rollback_done=$stepped update_down=$failed" ]] \
    || problem "rollback: history should be apply=$N apply_done=$N_UPSTEP rollback=$N rollback_done=$stepped update_down=$failed"
check_schema rollback reference_down
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
[[ -n $STOPPED ]] && finish
check_schema apply3

# --- phase 4: consistency ---------------------------------------------------------------------
echo
echo "== phase 4: consistency"
sc=$(state_counts) hc=$(history_counts)
echo "  status: $sc; history: $hc"
[[ $sc == "applied=$N" ]] || problem "final status should be applied=$N"
expected_hc="apply=$((2 * N)) apply_done=$((2 * N_UPSTEP)) rollback=$N rollback_done=$stepped update_down=$failed"
[[ $hc == "$expected_hc" ]] || problem "final history should be $expected_hc"
ooo=$("${DB[@]}" corpus -tA -c "SELECT count(*) FROM migrate.history WHERE action = 'apply' AND out_of_order")
echo "  history rows with out_of_order = true: $ooo (2 x $N_OOO allowed out of order)"
[[ $ooo -eq $((2 * N_OOO)) ]] || problem "expected $((2 * N_OOO)) apply rows with out_of_order = true"
steps_left=$("${DB[@]}" corpus -tA -c "SELECT count(*) FROM migrate.steps WHERE state <> 'done'")
echo "  queue (migrate.steps): $("${DB[@]}" corpus -tA -c "SELECT count(*) FROM migrate.steps") entries, $steps_left not done"
[[ $steps_left -eq 0 ]] || problem "migrate.steps holds $steps_left entries that are not done"
# Per migration: state, history rows and stored scripts against what this script did. The down
# scripts of the no-op'd migrations are the corpus files again: the phase-3 apply passed them.
declare -A MD5=()
while read -r sum path; do MD5[$path]=$sum; done < <(md5sum "${DIR[@]/%//up.sql}" "${DIR[@]/%//down.sql}")
for i in "${!SEQ[@]}"; do
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "${VER[i]}" "${UPSTEP[i]}" "${STEPPED_DOWN[${SEQ[i]}]:-0}" \
        "${FAILED_DOWN[${SEQ[i]}]:-0}" "${OOO[i]}" "${MD5[${DIR[i]}/up.sql]}" "${MD5[${DIR[i]}/down.sql]}"
done >"$WORK/expected.tsv"
"${DB[@]}" corpus -tA -F' ' \
    -c "CREATE TEMP TABLE expected (version text, upstep int, downstep int, fixed int, ooo int, up_md5 text, down_md5 text)" \
    -c "\\copy expected FROM $(ms_sql_literal "$WORK/expected.tsv")" -c "
    SELECT e.version, coalesce(s.state, '(none)') AS state, h.n_apply, h.n_apply_done, h.n_rollback,
           h.n_rollback_done, h.n_update, h.n_ooo, h.n_other,
           md5(m.up_sql) = e.up_md5 AS same_up, md5(m.down_sql) = e.down_md5 AS same_down
      FROM expected e
      LEFT JOIN migrate.status() s USING (version)
      LEFT JOIN migrate.migrations m USING (version)
      LEFT JOIN (SELECT version, count(*) FILTER (WHERE action = 'apply') AS n_apply,
                        count(*) FILTER (WHERE action = 'apply_done') AS n_apply_done,
                        count(*) FILTER (WHERE action = 'rollback') AS n_rollback,
                        count(*) FILTER (WHERE action = 'rollback_done') AS n_rollback_done,
                        count(*) FILTER (WHERE action = 'update_down') AS n_update,
                        count(*) FILTER (WHERE action NOT IN ('apply', 'apply_done', 'rollback',
                                                              'rollback_done', 'update_down')) AS n_other,
                        count(*) FILTER (WHERE out_of_order) AS n_ooo
                   FROM migrate.history GROUP BY version) h USING (version)
     WHERE s.state IS DISTINCT FROM 'applied' OR h.n_apply IS DISTINCT FROM 2
        OR h.n_apply_done <> 2 * e.upstep OR h.n_rollback <> 1 OR h.n_rollback_done <> e.downstep
        OR h.n_update <> e.fixed OR h.n_ooo <> 2 * e.ooo OR h.n_other <> 0
        OR md5(m.up_sql) IS DISTINCT FROM e.up_md5
        OR md5(m.down_sql) IS DISTINCT FROM e.down_md5" >"$WORK/mismatch.txt"
if [[ -s $WORK/mismatch.txt ]]; then
    problem "per-migration mismatches (version state applies apply_dones rollbacks rollback_dones update_downs out_of_order others same_up same_down):"
    sed 's/^/      /' "$WORK/mismatch.txt"
else
    echo "  per migration: each of the $N has state applied, 2 apply + 1 rollback history rows," \
         "2 apply_done rows if its up ran steps, 1 rollback_done row if its down did," \
         "1 update_down row if its down was replaced by a no-op, out_of_order where allowed, no other" \
         "row, and up/down scripts byte-identical to the corpus files"
fi
corpus_server_log_check

finish "$N migrations applied, rolled back and re-applied; $N_UPSTEP up and $stepped down scripts ran as steps after commit; $failed down scripts failed as with plain psql"
