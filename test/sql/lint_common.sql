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

------------------------------------------------------------------------------------------
-- findings about a relation that a later statement of the script drops are not raised
------------------------------------------------------------------------------------------
SET lock_timeout = '10s';  -- T501 (about the script, never removed) stays out here
-- lt_big's findings before DROP TABLE lt_big go (by any name of it: schema-qualified, IF
-- EXISTS, among several names); lt_small's stay; the DROP's own finding (B402) stays
SELECT * FROM lt($$
ALTER TABLE lt_big ALTER COLUMN c SET NOT NULL;
CREATE INDEX lt_big_r_idx ON lt_big (r);
UPDATE lt_big SET t = 'u';
ALTER TABLE lt_small ADD CONSTRAINT x_check CHECK (c > 0);
ALTER TABLE lt_big RENAME COLUMN v TO vv;
DROP TABLE IF EXISTS lt_missing, public.lt_big;
$$);
-- a finding about several tables goes only when all of them are dropped later
SELECT * FROM lt($$
TRUNCATE lt_big, lt_small;
DROP TABLE lt_big;
$$);
SELECT * FROM lt($$
TRUNCATE lt_big, lt_small;
DROP TABLE lt_big, lt_small;
$$);
-- findings after the DROP are kept; so are those about another relation of the same name
-- in another schema
CREATE SCHEMA lt_other;
CREATE TABLE lt_other.lt_big (id int);
INSERT INTO lt_other.lt_big SELECT generate_series(1, 20000);
ANALYZE lt_other.lt_big;
SELECT * FROM lt($$
CREATE INDEX x_idx ON lt_other.lt_big (id);
DROP TABLE lt_big;
CREATE INDEX y_idx ON lt_other.lt_big (id);
$$);
DROP SCHEMA lt_other CASCADE;
-- an index: findings about it go with a later DROP INDEX of it, or of its table
SELECT * FROM lt($$
REINDEX INDEX lt_big_c_idx;
DROP INDEX lt_big_c_idx;
$$);
SELECT * FROM lt($$
REINDEX INDEX lt_big_c_idx;
DROP TABLE lt_big;
$$);
-- a table the script creates, then drops: its findings go too
SET migrations_schema.lint_opt_in = 'require_primary_key';
SELECT * FROM lt($$
CREATE TABLE lt_tmp (id int, j json);
DROP TABLE lt_tmp;
CREATE TABLE lt_kept (id int, j json);
$$);
RESET migrations_schema.lint_opt_in;
RESET lock_timeout;

-- the linter changed nothing
SELECT count(*) AS rows, count(*) FILTER (WHERE c IS NULL) AS null_c FROM lt_big;
SELECT to_regclass('lt_new') AS lt_new, to_regclass('x_idx') AS x_idx;

RESET lock_timeout;
DROP MATERIALIZED VIEW lt_mv, lt_mv_empty;
DROP TABLE lt_big, lt_empty, lt_small, lt_parent, lt_part, lt_part_big, lt_part_empty;
DROP TYPE lt_mood;
DROP DOMAIN lt_dom;
DROP FUNCTION lt(text);
