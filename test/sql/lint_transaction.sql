-- migrate.lint(sql), transaction rules (T5xx): lock_timeout, several ALTER TABLE of one
-- table, backfills in the DDL transaction.

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
-- T505 backfill-in-ddl-transaction
------------------------------------------------------------------------------------------
SELECT * FROM lt($$
ALTER TABLE lt_big ADD COLUMN x int;
UPDATE lt_big SET x = 0;
DELETE FROM lt_small;
$$);
-- batched, or without DDL in the script, or on a table created in the script
SELECT * FROM lt($$
ALTER TABLE lt_big ADD COLUMN x int;
UPDATE lt_big SET x = 0 WHERE id <= 1000;
$$);
SELECT * FROM lt('UPDATE lt_big SET t = $x$y$x$;');
SELECT * FROM lt($$
CREATE TABLE lt_new (id bigint, x int);
UPDATE lt_new SET x = 0;
$$);

RESET lock_timeout;
DROP MATERIALIZED VIEW lt_mv, lt_mv_empty;
DROP TABLE lt_big, lt_empty, lt_small, lt_parent, lt_part, lt_part_big, lt_part_empty;
DROP TYPE lt_mood;
DROP DOMAIN lt_dom;
DROP FUNCTION lt(text);
