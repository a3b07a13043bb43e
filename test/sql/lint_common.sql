-- migrate.lint(sql): safety findings for a migration script, judged on the parse trees and
-- the live catalog. This suite: bad input, and a whole migration (several rules, in statement
-- order). Each family of rules has its own suite (lint_rewrite, lint_constraint, lint_index,
-- lint_breaking, lint_transaction, lint_partition, lint_type, lint_convention): for every rule
-- a case where it fires, the safe alternative where it does not, and for size-dependent rules
-- the same statement on an empty and on a large table.

-- the fixtures (and lt()) shared by the lint suites: test/sql/lint_fixtures.sql
\getenv abs_srcdir PG_ABS_SRCDIR
\set fixtures :abs_srcdir '/sql/lint_fixtures.sql'
\i :fixtures

------------------------------------------------------------------------------------------
-- bad input
------------------------------------------------------------------------------------------
SELECT * FROM migrate.lint(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS findings FROM migrate.lint('');
SELECT * FROM migrate.lint($$
ALTER TABLE lt_big ADD COLUMN x int;
ALTER TABLE lt_big ADDD COLUMN y int;
$$);
SELECT count(*) AS findings FROM migrate.lint($$
-- only a comment
/* and a block comment */
$$);

------------------------------------------------------------------------------------------
-- a whole migration: several findings, in statement order, with their lines
------------------------------------------------------------------------------------------
RESET lock_timeout;
SELECT * FROM lt($$
BEGIN;
CREATE TABLE lt_new (id bigint PRIMARY KEY, big_id int);
CREATE INDEX lt_new_big_idx ON lt_new (big_id);

ALTER TABLE lt_big ADD COLUMN x float8 DEFAULT random(),
                   ALTER COLUMN v TYPE varchar(20);
CREATE INDEX lt_big_r_idx ON lt_big (r);
COMMIT;
$$);
SELECT statement, rule_id, rule, safe_alternative FROM migrate.lint(
    'ALTER TABLE lt_big ADD CONSTRAINT x_check CHECK (c < 100000);') ORDER BY rule_id;

-- the linter changed nothing
SELECT count(*) AS rows, count(*) FILTER (WHERE c IS NULL) AS null_c FROM lt_big;
SELECT to_regclass('lt_new') AS lt_new, to_regclass('x_idx') AS x_idx;

RESET lock_timeout;
DROP MATERIALIZED VIEW lt_mv, lt_mv_empty;
DROP TABLE lt_big, lt_empty, lt_small, lt_parent, lt_part, lt_part_big, lt_part_empty;
DROP TYPE lt_mood;
DROP DOMAIN lt_dom;
DROP FUNCTION lt(text);
