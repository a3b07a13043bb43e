-- migrate.lint(sql), rewrite rules (R1xx): statements that rewrite or scan a whole table under
-- an ACCESS EXCLUSIVE lock. Every rule: a case where it fires, the safe alternative where it
-- does not, the same statement on an empty and on a large table, and the thresholds.

-- the fixtures (and lt()) shared by the lint suites: test/sql/lint_fixtures.sql
\getenv abs_srcdir PG_ABS_SRCDIR
\set fixtures :abs_srcdir '/sql/lint_fixtures.sql'
\i :fixtures

-- size-dependent findings also bring T501 (require-lock-timeout) unless a lock_timeout is in
-- effect; T501 is shown in lint_transaction, here the session has one so it stays out
SET lock_timeout = '10s';

------------------------------------------------------------------------------------------
-- R101 add-column-volatile-default
------------------------------------------------------------------------------------------
SELECT * FROM lt('ALTER TABLE lt_big ADD COLUMN x float8 DEFAULT random();');
SELECT * FROM lt('ALTER TABLE lt_big ADD COLUMN x timestamptz DEFAULT clock_timestamp();');
SELECT * FROM lt('ALTER TABLE lt_big ADD COLUMN x uuid DEFAULT gen_random_uuid();');
-- safe: a stable or constant default is metadata-only
SELECT * FROM lt('ALTER TABLE lt_big ADD COLUMN x timestamptz DEFAULT now();');
SELECT * FROM lt('ALTER TABLE lt_big ADD COLUMN x int DEFAULT 42;');
-- empty table, small table (info), and a table created earlier in the script
SELECT * FROM lt('ALTER TABLE lt_empty ADD COLUMN x float8 DEFAULT random();');
SELECT * FROM lt('ALTER TABLE lt_small ADD COLUMN x float8 DEFAULT random();');
SELECT * FROM lt($$
CREATE TABLE lt_new (id bigint);
ALTER TABLE lt_new ADD COLUMN x float8 DEFAULT random();
$$);
-- thresholds: error at lint_error_rows, info below lint_warning_rows
SET migrations_schema.lint_error_rows = 10000;
SELECT * FROM lt('ALTER TABLE lt_big ADD COLUMN x float8 DEFAULT random();');
SET migrations_schema.lint_warning_rows = 50000;
RESET migrations_schema.lint_error_rows;
SELECT * FROM lt('ALTER TABLE lt_big ADD COLUMN x float8 DEFAULT random();');
RESET migrations_schema.lint_warning_rows;

------------------------------------------------------------------------------------------
-- R102 add-column-stored-generated
------------------------------------------------------------------------------------------
SELECT * FROM lt('ALTER TABLE lt_big ADD COLUMN x int GENERATED ALWAYS AS (id * 2) STORED;');
SELECT * FROM lt('ALTER TABLE lt_big ADD COLUMN x int;');
SELECT * FROM lt('ALTER TABLE lt_empty ADD COLUMN x int GENERATED ALWAYS AS (id * 2) STORED;');
SET migrations_schema.lint_error_rows = 10000;
SELECT * FROM lt('ALTER TABLE lt_big ADD COLUMN x int GENERATED ALWAYS AS (id * 2) STORED;');
RESET migrations_schema.lint_error_rows;

------------------------------------------------------------------------------------------
-- R103 add-column-serial-or-identity
------------------------------------------------------------------------------------------
SELECT * FROM lt('ALTER TABLE lt_big ADD COLUMN x bigserial;');
SELECT * FROM lt('ALTER TABLE lt_big ADD COLUMN x bigint GENERATED ALWAYS AS IDENTITY;');
SELECT * FROM lt('ALTER TABLE lt_big ADD COLUMN x bigint;');
SELECT * FROM lt('ALTER TABLE lt_empty ADD COLUMN x bigserial;');
SET migrations_schema.lint_error_rows = 10000;
SELECT * FROM lt('ALTER TABLE lt_big ADD COLUMN x bigint GENERATED ALWAYS AS IDENTITY;');
RESET migrations_schema.lint_error_rows;

------------------------------------------------------------------------------------------
-- R104 alter-column-type-rewrite
------------------------------------------------------------------------------------------
-- no rewrite: longer varchar, varchar to text, more numeric precision at the same scale
SELECT * FROM lt('ALTER TABLE lt_big ALTER COLUMN v TYPE varchar(20);');
SELECT * FROM lt('ALTER TABLE lt_big ALTER COLUMN v TYPE text;');
SELECT * FROM lt('ALTER TABLE lt_big ALTER COLUMN n TYPE numeric(12,2);');
-- rewrite: int to bigint, shorter varchar
SELECT * FROM lt('ALTER TABLE lt_big ALTER COLUMN id TYPE bigint;');
SELECT * FROM lt('ALTER TABLE lt_big ALTER COLUMN w TYPE varchar(10);');
SELECT * FROM lt('ALTER TABLE lt_empty ALTER COLUMN id TYPE bigint;');
SET migrations_schema.lint_error_rows = 10000;
SELECT * FROM lt('ALTER TABLE lt_big ALTER COLUMN id TYPE bigint;');
RESET migrations_schema.lint_error_rows;

------------------------------------------------------------------------------------------
-- R106 set-not-null-scan
------------------------------------------------------------------------------------------
SELECT * FROM lt('ALTER TABLE lt_big ALTER COLUMN c SET NOT NULL;');
-- a validated CHECK (nn IS NOT NULL) proves it: no scan
SELECT * FROM lt('ALTER TABLE lt_big ALTER COLUMN nn SET NOT NULL;');
-- the CHECK on nv is NOT VALID: it proves nothing
SELECT * FROM lt('ALTER TABLE lt_big ALTER COLUMN nv SET NOT NULL;');
SELECT * FROM lt('ALTER TABLE lt_empty ALTER COLUMN c SET NOT NULL;');
SET migrations_schema.lint_error_rows = 10000;
SELECT * FROM lt('ALTER TABLE lt_big ALTER COLUMN c SET NOT NULL;');
RESET migrations_schema.lint_error_rows;

------------------------------------------------------------------------------------------
-- R107 add-required-column (always an error on a non-empty table: the ADD fails)
------------------------------------------------------------------------------------------
SELECT * FROM lt('ALTER TABLE lt_big ADD COLUMN x int NOT NULL;');
SELECT * FROM lt('ALTER TABLE lt_small ADD COLUMN x int NOT NULL;');
SELECT * FROM lt('ALTER TABLE lt_big ADD COLUMN x int NOT NULL DEFAULT 0;');
SELECT * FROM lt('ALTER TABLE lt_empty ADD COLUMN x int NOT NULL;');

------------------------------------------------------------------------------------------
-- R108 table-rewrite-option
------------------------------------------------------------------------------------------
SELECT * FROM lt('ALTER TABLE lt_big SET UNLOGGED;');
SELECT * FROM lt('ALTER TABLE lt_big SET TABLESPACE pg_default;');
SELECT * FROM lt('ALTER TABLE lt_empty SET UNLOGGED;');
SET migrations_schema.lint_error_rows = 10000;
SELECT * FROM lt('ALTER TABLE lt_big SET LOGGED;');
RESET migrations_schema.lint_error_rows;

------------------------------------------------------------------------------------------
-- R109 vacuum-full-rewrite, R111 cluster-rewrite
------------------------------------------------------------------------------------------
SELECT * FROM lt('CLUSTER lt_big USING lt_big_c_idx;');
SELECT * FROM lt('CLUSTER lt_empty USING lt_empty_c_idx;');
SET migrations_schema.lint_error_rows = 10000;
SELECT * FROM lt('CLUSTER lt_big USING lt_big_c_idx;');
RESET migrations_schema.lint_error_rows;
-- VACUUM FULL rewrites every table it names, and cannot run in a migration's transaction
SELECT * FROM lt('VACUUM FULL lt_big;');
SELECT * FROM lt('VACUUM (FULL, ANALYZE);');
SELECT * FROM lt('VACUUM (FULL false) lt_big;');  -- FULL off: a plain VACUUM
-- plain VACUUM and ANALYZE rewrite nothing
SELECT * FROM lt('VACUUM lt_big; ANALYZE lt_big;');

RESET lock_timeout;
DROP MATERIALIZED VIEW lt_mv, lt_mv_empty;
DROP TABLE lt_big, lt_empty, lt_small, lt_parent, lt_part, lt_part_big, lt_part_empty;
DROP TYPE lt_mood;
DROP DOMAIN lt_dom;
DROP FUNCTION lt(text);
