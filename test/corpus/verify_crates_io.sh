#!/usr/bin/env bash
# migrate.verify() on the real crates.io corpus (285 diesel migrations, ../shared/corpora/crates_io,
# see ../shared/corpora/README.md), against a ground truth computed with plain psql and pg_dump,
# independently of the extension.
#
#   1. verify: in database "verify" (fresh, CREATE EXTENSION migrations_schema), register all 285
#      migrations (migrate.register(version, up, down, name, order_key), the scripts unchanged;
#      versions are diesel's, dashes removed, as in run_crates_io.sh; order_key is the corpus
#      position NNNN, diesel's order, so no migration is out of order), then ONE
#      `SELECT * FROM migrate.verify()`: every pending migration, cumulatively (each one's up
#      script stays for the next, its down and its up again are rolled back). The database must
#      be unchanged by it: migrate.schema(), pg_dump -s of everything but schema migrate,
#      migrate.status() (every migration still pending, nothing verified), and the row counts of
#      migrate.history and migrate.ddl_audit, before and after.
#   2. ground truth, with plain psql in databases WITHOUT the extension: for each migration i,
#      A_i = pg_dump --schema-only of the database with the up scripts 1..i-1 applied (the schema
#      verify starts migration i from), then up_i and down_i, each in a transaction of its own
#      (in autocommit mode when the migration is marked run_in_transaction = false or the script
#      holds a CONCURRENTLY statement, as run_crates_io.sh runs them), then B_i = pg_dump
#      --schema-only again; psql goes on after an error (a failing down script leaves its
#      migration applied, as its transaction rolls back). The down "restores the schema" when
#      norm(A_i) = norm(B_i). The chain then goes on from the schema after up_i alone: when
#      A_i = B_i, up_i runs again (it must succeed); otherwise (or when that fails) the database is
#      re-created from a twin database to which only the up scripts were applied, in lockstep.
#      The corpus is cut into PARALLEL contiguous ranges (default: the CPU count, 2 to 4), each
#      in its own pair of databases that first apply the ups before its range without dumps.
#   3. comparison: every migration whose down does not restore the schema by pg_dump (its down
#      failed, or A_i != B_i) must be reported reversible = false by verify, and no migration
#      whose down restores it by pg_dump may be reported reversible = false. A mismatch prints
#      both sides' evidence (verify's differences or error, pg_dump's normalised diff), and is a
#      problem unless it is listed in KNOWN_DISAGREEMENTS below with its reason.
#
# What norm() does to pg_dump -s output (the same for both sides):
#   - drops comment lines (^--), SET lines (^SET ), `SELECT pg_catalog.set_config(...)`, psql's
#     \restrict / \unrestrict lines (a random key per dump) and blank lines;
#   - drops the extension's own objects: pg_dump runs with -N migrate, and lines naming
#     migrations_schema are dropped (the ground-truth databases do not have the extension anyway);
#   - drops the per-column option pg_attver=N that this patched server stamps on columns, should
#     pg_dump print it (`ALTER TABLE ... ALTER COLUMN ... SET (pg_attver=N)`): the option is removed
#     from the SET list, and the statement when nothing is left;
#   - sorts pg_dump's TOC entries (the blocks that its "-- Name: ...; Type: ..." comments start):
#     their order follows OIDs and dependencies, not the schema. Nothing inside an entry is
#     reordered (a table's column order still counts).
#
# Exit status 0 when everything agrees (or the corpus is absent: skipped), 1 otherwise.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

corpus_find "crates_io corpus through migrate.verify()"

# Disagreements between verify and pg_dump that are understood, by corpus position, with the
# reason; they are reported but not counted as problems. Empty: none known.
declare -A KNOWN_DISAGREEMENTS=()

PARALLEL=${PARALLEL:-$(nproc 2>/dev/null || echo 2)}
((PARALLEL < 2)) && PARALLEL=2
((PARALLEL > 4)) && PARALLEL=4

T0=$SECONDS
ms_workdir corpus_verify  # WORK and the cluster, removed on exit (test/lib/common.sh)
corpus_for_server  # on 17 and later a copy with one fix (lib.sh)
PROBLEMS=()
problem() { PROBLEMS+=("$*"); echo "  PROBLEM: $*"; }

# --- the corpus ------------------------------------------------------------------------------
NONTX_RE='^[[:space:]]*((create|drop)[[:space:]]+(unique[[:space:]]+)?index[[:space:]]+concurrently|reindex[[:space:]].*concurrently|vacuum([[:space:]]|;|$))'
SEQ=() VER=() NAME=() DIR=() UPAUTO=() DOWNAUTO=()
declare -A IDX_OF_VER=()
for d in "$CORPUS"/[0-9][0-9][0-9][0-9]_*/; do
    d=${d%/}
    base=${d##*/}
    rest=${base#*_}
    raw_version=${rest%%_*}
    SEQ+=("${base%%_*}")
    VER+=("${raw_version//-/}")
    NAME+=("${rest#*_}")
    DIR+=("$d")
    marked=0
    grep -qsE '^[[:space:]]*run_in_transaction[[:space:]]*=[[:space:]]*false' "$d/metadata.toml" && marked=1
    if [[ $marked -eq 1 ]] || grep -qiE "$NONTX_RE" "$d/up.sql"; then UPAUTO+=(1); else UPAUTO+=(0); fi
    if [[ $marked -eq 1 ]] || grep -qiE "$NONTX_RE" "$d/down.sql"; then DOWNAUTO+=(1); else DOWNAUTO+=(0); fi
    IDX_OF_VER[${raw_version//-/}]=$((${#SEQ[@]} - 1))
done
N=${#SEQ[@]}
[[ ${#IDX_OF_VER[@]} -eq $N ]] || ms_die "duplicate versions in the corpus"
echo "crates_io corpus through migrate.verify(): $CORPUS, $N migrations"

ms_cluster_start corpus_verify fsync=off
PSQL=(psql -X -q -v ON_ERROR_STOP=1)
export PGOPTIONS='-c client_min_messages=warning'

# --- 1. verify -------------------------------------------------------------------------------
echo
echo "== 1. register all $N, then SELECT * FROM migrate.verify() (the pending ones, cumulatively)"
"${PSQL[@]}" -c 'CREATE DATABASE verify'
"${PSQL[@]}" -d verify -c 'CREATE EXTENSION migrations_schema'
for i in "${!SEQ[@]}"; do
    sql=$(ms_apply_sql "${VER[i]}" "${DIR[i]}/up.sql" "${DIR[i]}/down.sql" "${NAME[i]}")
    sql=${sql#SELECT migrate.apply(}
    printf 'SELECT migrate.register(%s, order_key => %s);\n' "${sql%);}" "$(ms_sql_literal "${SEQ[i]}")"
done >"$WORK/register.sql"
# The down script of 0132 has a syntax error: register warns and accepts it.
"${PSQL[@]}" -d verify -f "$WORK/register.sql" >"$WORK/register.out" 2>"$WORK/register.err"
registered=$(grep -c '^ registered$' "$WORK/register.out" || true)
echo "  registered $registered; warnings: $(grep -c '^psql:.*WARNING' "$WORK/register.err" || true)"
[[ $registered -eq $N ]] || problem "register: expected $N 'registered', got $registered"

# state_of_verify_db LABEL: what verify must not change.
state_of_verify_db() {
    "${PSQL[@]}" -d verify -At -c "
        SELECT 'schema() md5 ' || md5(migrate.schema()) || ', ' || length(migrate.schema()) || ' chars'
        UNION ALL SELECT 'status ' || string_agg(state || '=' || n, ' ' ORDER BY state)
            FROM (SELECT state, count(*) AS n FROM migrate.status() GROUP BY state) s
        UNION ALL SELECT 'verified non-null ' || count(*) FROM migrate.migrations WHERE verified IS NOT NULL
        UNION ALL SELECT 'history rows ' || count(*) FROM migrate.history
        UNION ALL SELECT 'ddl_audit rows ' || count(*) FROM migrate.ddl_audit" >"$WORK/$1.state"
    corpus_schema_dump verify >"$WORK/$1.dump"
}
state_of_verify_db before_verify
US=$'\x1f'
t=$EPOCHREALTIME
"${PSQL[@]}" -d verify -At -F "$US" -c "
    SELECT v.version, v.reversible, v.rerunnable, replace(v.error, E'\n', ' '), v.differences,
           (SELECT string_agg((d->>'object') || ' ' || (d->>'property'), '; ')
              FROM jsonb_array_elements(v.differences) AS d WHERE d->>'check' = 'down')
      FROM migrate.verify() WITH ORDINALITY AS v" >"$WORK/verify.out" 2>"$WORK/verify.err" \
    || { cat "$WORK/verify.err"; ms_die "migrate.verify() failed"; }
VERIFY_SECONDS=$(awk -v a="$t" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
state_of_verify_db after_verify
echo "  verify: $(wc -l <"$WORK/verify.out") rows in $VERIFY_SECONDS s"
sed 's/^/  before and after verify: /' "$WORK/after_verify.state"
if ! diff -u "$WORK/before_verify.state" "$WORK/after_verify.state" >"$WORK/verify_state.diff"; then
    problem "migrate.verify() changed the database:"
    sed 's/^/      /' "$WORK/verify_state.diff"
fi
if ! diff -u "$WORK/before_verify.dump" "$WORK/after_verify.dump" >"$WORK/verify_dump.diff"; then
    problem "migrate.verify() changed the schema (pg_dump -s -N migrate):"
    head -30 "$WORK/verify_dump.diff" | sed 's/^/      /'
else
    echo "  pg_dump -s -N migrate of database verify: identical before and after ($(wc -l <"$WORK/after_verify.dump") lines)"
fi
grep -q '^status pending='"$N"'$' "$WORK/after_verify.state" || problem "after verify: not every migration is pending"

declare -A V_REV=() V_RERUN=() V_ERR=() V_DIFF=() V_DOWN=()
rows=0
while IFS=$US read -r version rev rerun err diffs down; do
    i=${IDX_OF_VER[$version]:-}
    [[ -n $i ]] || { problem "verify returned an unknown version '$version'"; continue; }
    [[ -z ${V_REV[$i]+x} ]] || problem "verify returned $version twice"
    ((++rows))
    V_REV[$i]=${rev:-null} V_RERUN[$i]=${rerun:-null} V_ERR[$i]=$err V_DIFF[$i]=$diffs V_DOWN[$i]=$down
done <"$WORK/verify.out"
[[ $rows -eq $N ]] || problem "verify: expected $N rows, got $rows"

# --- 2. ground truth --------------------------------------------------------------------------
echo
echo "== 2. ground truth: plain psql and pg_dump --schema-only around each up+down, $PARALLEL ranges in parallel"
mkdir -p "$WORK/dumps" "$WORK/up"
chmod 777 "$WORK/dumps"
# A fixed \restrict key (pg_dump 15.14 and later print a random one otherwise): the raw dumps of
# one schema are then byte-identical.
DUMP_OPTS=(--schema-only -N migrate)
[[ $(pg_dump --help) == *--restrict-key* ]] && DUMP_OPTS+=(--restrict-key=verifycorpus)

# norm FILE: pg_dump -s output normalised (see the header).
cat >"$WORK/norm.sh" <<'EOF'
#!/usr/bin/env bash
# norm.sh DUMP: prints the normalised dump; norm.sh A B: "true" when norm(A) = norm(B), else
# "false" (and leaves A.norm and B.norm).
set -euo pipefail
norm() {
    awk '
        /^-- Name: / { if (block != "") print block; block = ""; next }
        /^--/ || /^SET / || /^SELECT pg_catalog\.set_config/ || /^\\(un)?restrict / || /^[[:space:]]*$/ { next }
        /migrations_schema/ { next }
        {
            line = $0
            if (line ~ /ALTER COLUMN .* SET \(.*pg_attver=/) {
                gsub(/pg_attver=[0-9]+(, )?/, "", line); sub(/, \)/, ")", line)
                if (line ~ /SET \(\);$/) next
            }
            block = block (block == "" ? "" : "\001") line
        }
        END { if (block != "") print block }' "$1" | LC_ALL=C sort | tr '\001' '\n'
}
if [[ $# -eq 1 ]]; then norm "$1"; exit 0; fi
norm "$1" >"$1.norm"
norm "$2" >"$2.norm"
if cmp -s "$1.norm" "$2.norm"; then echo true; else echo false; fi
EOF
chmod 755 "$WORK/norm.sh"

# script_line MODE FILE: a script in a transaction of its own, or in autocommit mode (MODE 1).
script_line() {
    if [[ $1 -eq 1 ]]; then
        printf '\\i %s\n' "$(ms_sql_literal "$2")"
    else
        printf 'BEGIN;\n\\i %s\nCOMMIT;\n' "$(ms_sql_literal "$2")"
    fi
}

# gen_range K LO HI: the psql script of range K (migrations LO..HI), run connected to postgres.
# Database gt_K is the chain; tw_K, its twin, gets only up scripts, lazily: the ones the chain
# ran since the last re-creation wait in $WORK/twin_K.sql until the chain needs the twin. The
# decision to run up_i again is taken on the raw dumps (cmp), stricter than norm(): a dump that
# differs only in what norm() drops sends the chain to its twin, which is slower but as exact.
# On stderr: "@@U i" before up_i, "@@D i" before down_i, "@@E i" after it, "@@T i" before the
# twin catches up, with the errors in between; then "@@M i|RAW_SAME|REDO".
# shellcheck disable=SC2016  # the backquotes are psql's, run by the shell psql starts
gen_range() {
    local k=$1 lo=$2 hi=$3 i a b pending
    pending=$WORK/twin_$k.sql
    printf '\\set VERBOSITY verbose\n\\set SHOW_CONTEXT never\n'
    printf 'CREATE DATABASE gt_%s;\n\\c gt_%s\n\\set ON_ERROR_STOP 1\n' "$k" "$k"
    for ((i = 0; i < lo; i++)); do script_line "${UPAUTO[i]}" "${DIR[i]}/up.sql"; done
    printf '\\c postgres\nCREATE DATABASE tw_%s TEMPLATE gt_%s;\n\\c gt_%s\n' "$k" "$k" "$k"
    printf '\\set ON_ERROR_STOP 0\n\\! : >%s\n' "$pending"
    for ((i = lo; i <= hi; i++)); do
        a=$WORK/dumps/$i.a b=$WORK/dumps/$i.b
        script_line "${UPAUTO[i]}" "${DIR[i]}/up.sql" >"$WORK/up/$i.sql"
        printf '\\! pg_dump %s -d gt_%s -f %s\n' "${DUMP_OPTS[*]}" "$k" "$a"
        printf '\\warn @@U %s\n' "$i"
        cat "$WORK/up/$i.sql"
        printf '\\warn @@D %s\n' "$i"
        printf '\\! echo %s >>%s\n' "'\\i $WORK/up/$i.sql'" "$pending"
        script_line "${DOWNAUTO[i]}" "${DIR[i]}/down.sql"
        printf '\\warn @@E %s\n' "$i"
        printf '\\! pg_dump %s -d gt_%s -f %s\n' "${DUMP_OPTS[*]}" "$k" "$b"
        printf '\\set same `cmp -s %s %s && echo true || echo false`\n' "$a" "$b"
        # Back to the schema after up_i alone: run up_i again when the down restored the schema
        # (by the raw dumps), else (or when that fails) re-create the chain from its twin.
        printf '\\set redo twin\n\\if :same\n\\set LAST_ERROR_SQLSTATE 00000\n'
        cat "$WORK/up/$i.sql"
        printf '\\if `test :LAST_ERROR_SQLSTATE = 00000 && echo true || echo false`\n'
        printf '\\set redo up_again\n\\else\n\\set redo up_again_failed_twin\n\\endif\n\\endif\n'
        printf '\\if `test :redo = up_again && echo false || echo true`\n'
        printf '\\warn @@T %s\n\\c tw_%s\n\\i %s\n\\! : >%s\n' "$i" "$k" "$pending" "$pending"
        printf '\\c postgres\nDROP DATABASE gt_%s;\nCREATE DATABASE gt_%s TEMPLATE tw_%s;\n\\c gt_%s\n' \
            "$k" "$k" "$k" "$k"
        printf '\\endif\n\\warn @@M %s|:same|:redo\n' "$i"
    done
    printf '\\c postgres\nDROP DATABASE gt_%s;\nDROP DATABASE tw_%s;\n' "$k" "$k"
}

# block_errors LOG: "U|D|T i|first error" for each block of the markers above holding an error.
block_errors() {
    sed -E 's/^psql:.*:[0-9]+: (ERROR|WARNING|NOTICE):/\1:/' "$1" | awk '
        /^@@[UDET] / { blk = substr($1, 3); i = $2; seen = 0; next }
        /^@@M / { blk = ""; next }
        /^ERROR:  / { if ((blk == "U" || blk == "D" || blk == "T") && !seen) { print blk "|" i "|" substr($0, 9); seen = 1 } }'
}

t=$SECONDS
pids=()
for ((k = 0; k < PARALLEL; k++)); do
    lo=$((k * N / PARALLEL)) hi=$(((k + 1) * N / PARALLEL - 1))
    gen_range "$k" "$lo" "$hi" >"$WORK/range_$k.sql"
    psql -X -q -d postgres -f "$WORK/range_$k.sql" >"$WORK/range_$k.out" 2>"$WORK/range_$k.log" &
    pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || problem "a ground-truth range (psql) failed: see $WORK/range_*.log"; done
GT_SECONDS=$((SECONDS - t))
t=$SECONDS

declare -A G_RAW=() G_SAME=() G_DOWNERR=() G_REDO=()
while IFS='|' read -r i same redo; do
    i=${i#@@M }
    G_RAW[$i]=$same G_REDO[$i]=$redo
done < <(grep -h '^@@M ' "$WORK"/range_*.log)
for ((k = 0; k < PARALLEL; k++)); do block_errors "$WORK/range_$k.log"; done >"$WORK/gt_errors.txt"
while IFS='|' read -r blk i err; do
    case $blk in
    D) G_DOWNERR[$i]=$err ;;
    U) problem "ground truth: the up script of ${SEQ[i]} ${VER[i]} failed with plain psql: $err" ;;
    T) problem "ground truth: an up script failed in the twin database while catching up at ${SEQ[i]}: $err" ;;
    esac
done <"$WORK/gt_errors.txt"
n_twin=0 n_redo=0
for i in "${!G_REDO[@]}"; do
    if [[ ${G_REDO[$i]} == up_again ]]; then ((++n_redo)); else ((++n_twin)); fi
done
echo "  $((2 * N)) dumps in $GT_SECONDS s; back to the schema after the up script: $n_redo by running it again," \
     "$n_twin from the twin database"
# norm(A_i) = norm(B_i): true without normalising when the raw dumps are identical; the others
# in parallel.
for ((i = 0; i < N; i++)); do
    [[ ${G_RAW[$i]:-} == true ]] && echo "$i true"
done >"$WORK/same.txt"
for ((i = 0; i < N; i++)); do
    [[ ${G_RAW[$i]:-} == true ]] || echo "$i"
done | xargs -r -P "$PARALLEL" -I{} sh -c \
    "printf '%s %s\n' {} \"\$('$WORK/norm.sh' '$WORK/dumps/{}.a' '$WORK/dumps/{}.b')\"" >>"$WORK/same.txt"
while read -r i same; do
    G_SAME[$i]=$same
    [[ ${G_RAW[$i]:-} == false && $same == true ]] \
        && echo "  ${SEQ[i]}: the raw dumps differ only in what norm() drops"
done <"$WORK/same.txt"
n_dumps=$(find "$WORK/dumps" -name '*.[ab]' | wc -l)
[[ $n_dumps -eq $((2 * N)) ]] || problem "ground truth: $n_dumps dumps, expected $((2 * N))"
while read -r f; do
    problem "ground truth: the dump $f is incomplete"
done < <(find "$WORK/dumps" -name '*.[ab]' -exec grep -L '^-- PostgreSQL database dump complete' {} +)
echo "  normalised and compared in $((SECONDS - t)) s"
[[ ${#G_SAME[@]} -eq $N ]] || problem "ground truth: expected $N results, got ${#G_SAME[@]} (logs: $WORK/range_*.log)"

# --- 3. comparison ----------------------------------------------------------------------------
echo
echo "== 3. verify against pg_dump"
v_rev=0 v_irr=0 v_err=0 v_null=0 v_rerun=0 g_rev=0 g_irr=0 g_err=0 mism=0 known=0
for ((i = 0; i < N; i++)); do
    id="${SEQ[i]} ${VER[i]} ${NAME[i]}"
    rev=${V_REV[$i]:-missing} err=${V_ERR[$i]:-}
    case $rev in t) ((++v_rev)) ;; f) ((++v_irr)) ;; *) ((++v_null)) ;; esac
    [[ -n $err ]] && ((++v_err))
    [[ ${V_RERUN[$i]:-} == t ]] && ((++v_rerun))
    same=${G_SAME[$i]:-missing} derr=${G_DOWNERR[$i]:-}
    if [[ -n $derr ]]; then ((++g_err)); elif [[ $same == true ]]; then ((++g_rev)); else ((++g_irr)); fi
    restored=0
    [[ -z $derr && $same == true ]] && restored=1
    bad=
    if [[ $restored -eq 0 && $rev != f ]]; then
        bad="pg_dump: the down does not restore the schema${derr:+ (it fails: $derr)}; verify: reversible = $rev"
    elif [[ $restored -eq 1 && $rev == f ]]; then
        bad="pg_dump: the down restores the schema; verify: reversible = false"
    fi
    [[ -n $bad ]] || continue
    ((++mism))
    if [[ -n ${KNOWN_DISAGREEMENTS[${SEQ[i]}]:-} ]]; then
        ((++known))
        echo "  known disagreement $id: $bad (${KNOWN_DISAGREEMENTS[${SEQ[i]}]})"
    else
        problem "$id: $bad"
    fi
    echo "      verify: error ${err:-none}; differences ${V_DIFF[$i]:-}" | cut -c1-2000
    echo "      pg_dump (normalised, before the up script -> after up and down):"
    for f in "$WORK/dumps/$i.a" "$WORK/dumps/$i.b"; do
        [[ -f $f.norm ]] || "$WORK/norm.sh" "$f" >"$f.norm"
    done
    diff "$WORK/dumps/$i.a.norm" "$WORK/dumps/$i.b.norm" | head -30 | sed 's/^/        /' || true
done
for s in "${!KNOWN_DISAGREEMENTS[@]}"; do
    found=0
    for ((i = 0; i < N; i++)); do [[ ${SEQ[i]} == "$s" ]] && found=1; done
    [[ $found -eq 1 ]] || problem "KNOWN_DISAGREEMENTS lists $s, which is not in the corpus"
done
echo "  verify:  reversible $v_rev, irreversible $v_irr (of which with an error $v_err), reversible null $v_null;" \
     "rerunnable $v_rerun"
echo "  pg_dump: reversible $g_rev, irreversible $g_irr, down script failed $g_err"
echo "  verify's errors:"
for ((i = 0; i < N; i++)); do
    [[ -n ${V_ERR[$i]:-} ]] && echo "    ${SEQ[i]} ${VER[i]} ${NAME[i]}: reversible ${V_REV[$i]}, rerunnable ${V_RERUN[$i]}: ${V_ERR[$i]}"
done
echo "  down scripts that fail under plain psql right after their up:"
for ((i = 0; i < N; i++)); do
    [[ -n ${G_DOWNERR[$i]:-} ]] && echo "    ${SEQ[i]} ${VER[i]} ${NAME[i]}: ${G_DOWNERR[$i]}"
done
echo "  irreversible by pg_dump:$(for ((i = 0; i < N; i++)); do
    [[ -z ${G_DOWNERR[$i]:-} && ${G_SAME[$i]:-} != true ]] && printf ' %s' "${SEQ[i]}"; done)"
echo "  each side's evidence for the migrations whose down does not restore the schema (verify: its"
echo "  differences of the down check, object and property; pg_dump: lines only before (<) / only after (>)):"
for ((i = 0; i < N; i++)); do
    [[ -z ${G_DOWNERR[$i]:-} && ${G_SAME[$i]:-} == true ]] && continue
    ev=${V_DOWN[$i]:-}
    d=$(diff "$WORK/dumps/$i.a.norm" "$WORK/dumps/$i.b.norm" || true)
    printf '    %s %s: verify: %s | pg_dump: %s<, %s>\n' "${SEQ[i]}" "${NAME[i]}" \
        "${ev:-${V_ERR[$i]:-}}" "$(grep -c '^<' <<<"$d" || true)" "$(grep -c '^>' <<<"$d" || true)"
done
echo "  mismatches: $mism ($known known)"
corpus_server_log_check

echo
if [[ ${#PROBLEMS[@]} -eq 0 ]]; then
    echo "crates_io corpus through migrate.verify(): OK ($N migrations; verify ${VERIFY_SECONDS} s," \
         "ground truth $GT_SECONDS s) in $((SECONDS - T0)) s"
    exit 0
fi
echo "crates_io corpus through migrate.verify(): FAILED, ${#PROBLEMS[@]} problem(s) in $((SECONDS - T0)) s:"
for p in "${PROBLEMS[@]}"; do echo "  - $p"; done
exit 1
