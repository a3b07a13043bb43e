#!/usr/bin/env bash
# Benchmark: lint throughput. A script of N (default 10,000) mixed statements (CREATE TABLE,
# CREATE INDEX, ALTER TABLE ADD COLUMN / ALTER COLUMN TYPE / SET NOT NULL / ADD CONSTRAINT,
# UPDATE, DROP, RENAME, comments) over tables that exist in the database (so every statement
# is judged on the live catalog), linted by one migrate.lint() call, REPS (default 5) times;
# prints statements per second (median) against a baseline measured in the same run: the
# same script only parsed, by migrate.split() (PostgreSQL's raw parser plus locating every
# statement), so the ratio is what the rules and catalog lookups add to parsing.
# Target: at least 50,000 statements per second. A benchmark, not a test: exit 0 either way.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N=${N:-10000}
REPS=${REPS:-5}
TARGET=50000
[[ $N =~ ^[1-9][0-9]*$ && $REPS =~ ^[1-9][0-9]*$ ]] || ms_die "N and REPS must be positive integers"

# throwaway work dir and cluster, both removed on exit (test/lib/common.sh)
ms_workdir bench_lint

ms_cluster_start bench_lint
"${MS_PSQL[@]}" -d postgres -c 'CREATE EXTENSION migrations_schema'
# 50 existing tables, 10,000 rows each (analyzed), for the catalog-dependent rules.
"${MS_PSQL[@]}" -d postgres >/dev/null <<'SQL'
DO $$
BEGIN
    FOR i IN 1..50 LOOP
        EXECUTE format('CREATE TABLE t%s (id bigint PRIMARY KEY, a text, b integer, c varchar(20), ref bigint)', i);
        EXECUTE format('INSERT INTO t%s SELECT g, ''x'', g, ''y'', g FROM generate_series(1, 10000) g', i);
    END LOOP;
END $$;
ANALYZE;
SQL

awk -v n="$N" 'BEGIN {
    for (i = 0; i < n; i++) {
        t = i % 50 + 1
        k = i % 10
        if (k == 0) printf "CREATE TABLE n%d (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, payload jsonb, created timestamptz DEFAULT now());\n", i
        else if (k == 1) printf "CREATE INDEX ON t%d (b);\n", t
        else if (k == 2) printf "ALTER TABLE t%d ADD COLUMN x%d timestamptz DEFAULT clock_timestamp();\n", t, i
        else if (k == 3) printf "ALTER TABLE t%d ALTER COLUMN c TYPE varchar(40);\n", t
        else if (k == 4) printf "ALTER TABLE t%d ALTER COLUMN a SET NOT NULL;\n", t
        else if (k == 5) printf "ALTER TABLE t%d ADD CONSTRAINT fk%d FOREIGN KEY (ref) REFERENCES t1 (id);\n", t, i
        else if (k == 6) printf "-- backfill\nUPDATE t%d SET b = b + 1 WHERE id < 100;\n", t
        else if (k == 7) printf "ALTER TABLE t%d RENAME COLUMN b TO b%d;\n", t, i
        else if (k == 8) printf "CREATE VIEW v%d AS SELECT id, a FROM t%d;\n", i, t
        else printf "DROP TABLE IF EXISTS gone%d;\n", i
    }
}' >"$WORK/script.sql"

run() { # run FUNCTION: seconds for one call over the script
    local f=$1 t0 t1
    {
        printf 'SELECT count(*) FROM %s(' "$f"
        ms_dollar_quote "$WORK/script.sql"
        printf ');\n'
    } >"$WORK/call_$f.sql"
    t0=$EPOCHREALTIME
    "${MS_PSQL[@]}" -d postgres -At -f "$WORK/call_$f.sql" >"$WORK/out_$f.txt"
    t1=$EPOCHREALTIME
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }'
}

run migrate.lint >/dev/null   # warm-up
lint=() split=()
for _ in $(seq "$REPS"); do
    split+=("$(run migrate.split)")
    lint+=("$(run migrate.lint)")
done
ls=$(bench_median "${lint[@]}") ss=$(bench_median "${split[@]}")
findings=$(cat "$WORK/out_migrate.lint.txt") statements=$(cat "$WORK/out_migrate.split.txt")
[[ $statements -eq $N ]] || ms_die "split found $statements statements, expected $N"
awk -v n="$N" -v l="$ls" -v s="$ss" -v f="$findings" -v t="$TARGET" -v r="$REPS" 'BEGIN {
    printf "bench_lint: one call over a script of %d mixed statements (50 existing tables of 10,000 rows), median of %d, psql round trip included\n", n, r
    printf "  migrate.split (parse only)  %8.3f s  %9.0f statements/s\n", s, n / s
    printf "  migrate.lint                %8.3f s  %9.0f statements/s  (%d findings)  ratio to parse %.2f\n", l, n / l, f, l / s
    printf "target: at least %d statements/s: %s\n", t, (n / l >= t ? "PASS" : "OVER")
}'
