-- migrate.lint(sql), breaking-change rules (B4xx): drops, renames and truncates that break
-- running code or lose data; errors where data is lost.

-- the fixtures (and lt()) shared by the lint suites: test/sql/lint_fixtures.sql
\getenv abs_srcdir PG_ABS_SRCDIR
\set fixtures :abs_srcdir '/sql/lint_fixtures.sql'
\i :fixtures

-- size-dependent findings also bring T501 (require-lock-timeout) unless a lock_timeout is in
-- effect; T501 is shown in lint_transaction, here the session has one so it stays out
SET lock_timeout = '10s';

------------------------------------------------------------------------------------------
-- B401 drop-column
------------------------------------------------------------------------------------------
SELECT * FROM lt('ALTER TABLE lt_big DROP COLUMN t;');
SELECT * FROM lt('ALTER TABLE lt_empty DROP COLUMN t;');
SELECT * FROM lt($$
CREATE TABLE lt_new (id bigint, t text);
ALTER TABLE lt_new DROP COLUMN t;
$$);

------------------------------------------------------------------------------------------
-- B402 drop-table, B409 drop-schema
------------------------------------------------------------------------------------------
SELECT * FROM lt('DROP TABLE lt_big;');
SELECT * FROM lt('DROP TABLE lt_empty CASCADE;');
SELECT * FROM lt('DROP TABLE IF EXISTS lt_no_such_table;');
SELECT * FROM lt($$
CREATE TABLE lt_new (id bigint);
DROP TABLE lt_new;
$$);
SELECT * FROM lt('DROP SCHEMA lt_s;');
SELECT * FROM lt('DROP SCHEMA lt_s CASCADE;');

------------------------------------------------------------------------------------------
-- B403 rename-column, B404 rename-table, B410 rename-schema
------------------------------------------------------------------------------------------
SELECT * FROM lt('ALTER TABLE lt_big RENAME COLUMN t TO t2;');
SELECT * FROM lt('ALTER TABLE lt_big RENAME TO lt_big2;');
SELECT * FROM lt('ALTER SCHEMA public RENAME TO public2;');
SELECT * FROM lt($$
CREATE TABLE lt_new (id bigint, t text);
ALTER TABLE lt_new RENAME COLUMN t TO t2;
ALTER TABLE lt_new RENAME TO lt_new2;
$$);

------------------------------------------------------------------------------------------
-- B405 drop-not-null
------------------------------------------------------------------------------------------
SELECT * FROM lt('ALTER TABLE lt_parent ALTER COLUMN id DROP NOT NULL;');
SELECT * FROM lt($$
CREATE TABLE lt_new (id bigint NOT NULL);
ALTER TABLE lt_new ALTER COLUMN id DROP NOT NULL;
$$);

------------------------------------------------------------------------------------------
-- B406 truncate, B411 truncate-cascade
------------------------------------------------------------------------------------------
SELECT * FROM lt('TRUNCATE lt_big;');
SELECT * FROM lt('TRUNCATE lt_big CASCADE;');
-- a batched DELETE instead
SELECT * FROM lt('DELETE FROM lt_big WHERE id <= 1000;');

------------------------------------------------------------------------------------------
-- B407 rename-enum-value
------------------------------------------------------------------------------------------
SELECT * FROM lt($$ALTER TYPE lt_mood RENAME VALUE 'ok' TO 'fine';$$);
SELECT * FROM lt($$ALTER TYPE lt_mood ADD VALUE 'happy' AFTER 'ok';$$);

------------------------------------------------------------------------------------------
-- B408 drop-constraint
------------------------------------------------------------------------------------------
SELECT * FROM lt('ALTER TABLE lt_big DROP CONSTRAINT lt_big_c_check;');
SELECT * FROM lt($$
CREATE TABLE lt_new (id bigint CONSTRAINT lt_new_check CHECK (id > 0));
ALTER TABLE lt_new DROP CONSTRAINT lt_new_check;
$$);

RESET lock_timeout;
DROP MATERIALIZED VIEW lt_mv, lt_mv_empty;
DROP TABLE lt_big, lt_empty, lt_small, lt_parent, lt_part, lt_part_big, lt_part_empty;
DROP TYPE lt_mood;
DROP DOMAIN lt_dom;
DROP FUNCTION lt(text);
