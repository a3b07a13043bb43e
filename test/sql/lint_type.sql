-- migrate.lint(sql), column type rules (Y7xx): advice on types chosen in CREATE TABLE and ADD
-- COLUMN (info).

-- the fixtures (and lt()) shared by the lint suites: test/sql/lint_fixtures.sql
\getenv abs_srcdir PG_ABS_SRCDIR
\set fixtures :abs_srcdir '/sql/lint_fixtures.sql'
\i :fixtures

-- size-dependent findings also bring T501 (require-lock-timeout) unless a lock_timeout is in
-- effect; T501 is shown in lint_transaction, here the session has one so it stays out
SET lock_timeout = '2s';

------------------------------------------------------------------------------------------
-- Y701 prefer-jsonb, Y702 prefer-bigint-key, Y703 prefer-text, Y704 prefer-timestamptz
------------------------------------------------------------------------------------------
SELECT * FROM lt($$
CREATE TABLE lt_new (id int PRIMARY KEY, doc json, code varchar(10), flag char(1),
                     at timestamp);
$$);
SELECT * FROM lt($$
CREATE TABLE lt_new (id bigint PRIMARY KEY);
ALTER TABLE lt_big ADD COLUMN doc json, ADD COLUMN code varchar(5), ADD COLUMN at timestamp;
$$);
-- key columns named by a table-level PRIMARY KEY
SELECT * FROM lt($$
CREATE TABLE lt_new (id serial, k smallint, PRIMARY KEY (id, k));
$$);
-- the safe types
SELECT * FROM lt($$
CREATE TABLE lt_new (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, doc jsonb, code text,
                     name varchar, n int, at timestamptz);
$$);

------------------------------------------------------------------------------------------
-- Y705 identifier-too-long. PostgreSQL's scanner truncates an identifier of 64 bytes or more
-- to 63 bytes (with a NOTICE) before lint sees the parse tree, so the rule cannot fire on
-- PostgreSQL 15: the long name gives the NOTICE and no finding
------------------------------------------------------------------------------------------
SELECT * FROM lt('CREATE TABLE lt_new (id bigint, a_column_name_that_is_much_longer_than_sixty_three_bytes_xxxxxxxxxxxx int);');
SELECT * FROM lt('ALTER TABLE lt_big ADD COLUMN "A_quoted_column_name_that_is_much_longer_than_sixty_three_bytes_xxxxxxx" int;');

RESET lock_timeout;
DROP MATERIALIZED VIEW lt_mv, lt_mv_empty;
DROP TABLE lt_big, lt_empty, lt_small, lt_parent, lt_part, lt_part_big, lt_part_empty;
DROP TYPE lt_mood;
DROP DOMAIN lt_dom;
DROP FUNCTION lt(text);
