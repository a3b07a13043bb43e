-- migrate.lint(sql), transaction rules (T5xx): lock_timeout, several ALTER TABLE of one
-- table, backfills in the DDL transaction, large UPDATEs and DELETEs.

-- the fixtures (and lt()) shared by the lint suites: test/sql/lint_fixtures.sql
\getenv abs_srcdir PG_ABS_SRCDIR
\set fixtures :abs_srcdir '/sql/lint_fixtures.sql'
\i :fixtures

------------------------------------------------------------------------------------------
-- T501 require-lock-timeout (once per script, with a strong lock on a pre-existing table)
------------------------------------------------------------------------------------------
RESET lock_timeout;
SELECT * FROM lt($$
ALTER TABLE lt_big ALTER COLUMN c SET NOT NULL;
ALTER TABLE lt_big ALTER COLUMN id TYPE bigint;
$$);
-- SET LOCAL lock_timeout in the script
SELECT * FROM lt($$
SET LOCAL lock_timeout = '2s';
ALTER TABLE lt_big ALTER COLUMN c SET NOT NULL;
$$);
-- set only after the first strong lock: too late
SELECT * FROM lt($$
ALTER TABLE lt_big ALTER COLUMN c SET NOT NULL;
SET LOCAL lock_timeout = '2s';
$$);
-- lock_timeout = 0 disables the timeout
SELECT * FROM lt($$
SET LOCAL lock_timeout = 0;
ALTER TABLE lt_big ALTER COLUMN c SET NOT NULL;
$$);
-- an empty table: no size finding, but its lock is still taken and can queue: T501
SELECT * FROM lt('ALTER TABLE lt_empty ALTER COLUMN c SET NOT NULL;');
SELECT * FROM lt($$
CREATE TABLE lt_new (id bigint);
ALTER TABLE lt_new ALTER COLUMN id SET NOT NULL;
$$);
-- lock_timeout set in the session
SET lock_timeout = '2s';
SELECT * FROM lt('ALTER TABLE lt_big ALTER COLUMN c SET NOT NULL;');

------------------------------------------------------------------------------------------
-- T504 multiple-alters-of-one-table
------------------------------------------------------------------------------------------
SELECT * FROM lt($$
ALTER TABLE lt_big ADD COLUMN x int;
ALTER TABLE lt_big ADD COLUMN y int;
ALTER TABLE lt_big ADD COLUMN z int;
$$);
SELECT * FROM lt('ALTER TABLE lt_big ADD COLUMN x int, ADD COLUMN y int, ADD COLUMN z int;');
SELECT * FROM lt($$
CREATE TABLE lt_new (id bigint);
ALTER TABLE lt_new ADD COLUMN x int;
ALTER TABLE lt_new ADD COLUMN y int;
$$);

------------------------------------------------------------------------------------------
-- T505 backfill-in-ddl-transaction (by the table's size), T506 large-data-change
------------------------------------------------------------------------------------------
-- lt_big (20000 rows) is above lint_warning_rows: T506 reports it and T505 does not as well;
-- lt_small (100 rows) is below: T505, info
SELECT * FROM lt($$
ALTER TABLE lt_big ADD COLUMN x int;
UPDATE lt_big SET x = 0;
DELETE FROM lt_small;
$$);
-- an empty table, a table created in the script, a missing one: nothing
SELECT * FROM lt($$
ALTER TABLE lt_empty ADD COLUMN x int;
UPDATE lt_empty SET x = 0;
DELETE FROM lt_empty;
$$);
SELECT * FROM lt($$
CREATE TABLE lt_new (id bigint, x int);
UPDATE lt_new SET x = 0;
DELETE FROM lt_new;
$$);
SELECT * FROM lt($$
ALTER TABLE lt_big ADD COLUMN x int;
UPDATE lt_missing SET x = 0;
$$);
-- batched: the planner's estimate (about 1000 rows) is below the threshold; the SET names a
-- column the script adds first, so the rows are planned as the DELETE of the same rows
SELECT * FROM lt($$
ALTER TABLE lt_big ADD COLUMN x int;
UPDATE lt_big SET x = 0 WHERE id <= 1000;
$$);
-- T506 is judged by size with or without DDL in the script
SELECT * FROM lt('UPDATE lt_big SET t = $x$y$x$;');
SELECT * FROM lt('DELETE FROM lt_small;');
-- the whole finding: the table, its rows, and the batched alternative (with DDL: outside the
-- DDL migration)
SELECT rule_id, severity, message, safe_alternative FROM migrate.lint('DELETE FROM lt_big;');
SELECT rule_id, severity, message, safe_alternative FROM migrate.lint($$
ALTER TABLE lt_big ADD COLUMN x int;
UPDATE lt_big SET x = 0;
$$);

-- with small thresholds: lt_small (100 rows) below lint_warning_rows (500), lt_big
-- (20000 rows) above lint_error_rows (15000)
SET migrations_schema.lint_warning_rows = 500;
SET migrations_schema.lint_error_rows = 15000;
-- without WHERE: the table's rows
SELECT * FROM lt('UPDATE lt_big SET t = $x$y$x$;');
SELECT * FROM lt('DELETE FROM lt_small;');
-- with WHERE (or FROM / USING): PostgreSQL's planner estimate of the rows touched
SELECT * FROM lt('UPDATE lt_big SET t = $x$y$x$ WHERE id <= 100;');
SELECT * FROM lt('UPDATE lt_big SET t = $x$y$x$ WHERE id <= 5000;');
SELECT * FROM lt('DELETE FROM lt_big WHERE id > 2000;');
SELECT * FROM lt('UPDATE lt_big SET t = s.t FROM lt_small s WHERE s.id = lt_big.id;');
SELECT * FROM lt('DELETE FROM lt_big USING lt_small s WHERE s.id = lt_big.id;');
-- a WHERE on a column the script adds first cannot be planned: the table's rows
SELECT * FROM lt($$
ALTER TABLE lt_big ADD COLUMN x int;
UPDATE lt_big SET x = 0 WHERE x IS NULL AND id <= 100;
$$);
-- a table below the threshold is not planned: nothing
SELECT * FROM lt('DELETE FROM lt_small WHERE id > 0;');
RESET migrations_schema.lint_warning_rows;
RESET migrations_schema.lint_error_rows;

RESET lock_timeout;
DROP MATERIALIZED VIEW lt_mv, lt_mv_empty;
DROP TABLE lt_big, lt_empty, lt_small, lt_parent, lt_part, lt_part_big, lt_part_empty;
DROP TYPE lt_mood;
DROP DOMAIN lt_dom;
DROP FUNCTION lt(text);
