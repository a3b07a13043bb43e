-- migrate.lint(sql), partition and materialized-view rules (P6xx).

-- the fixtures (and lt()) shared by the lint suites: test/sql/lint_fixtures.sql
\getenv abs_srcdir PG_ABS_SRCDIR
\set fixtures :abs_srcdir '/sql/lint_fixtures.sql'
\i :fixtures

-- size-dependent findings also bring T501 (require-lock-timeout) unless a lock_timeout is in
-- effect; T501 is shown in lint_transaction, here the session has one so it stays out
SET lock_timeout = '2s';

------------------------------------------------------------------------------------------
-- P601 detach-partition-blocking, P602 attach-partition-scan, P603 refresh-matview-blocking
------------------------------------------------------------------------------------------
SELECT * FROM lt('ALTER TABLE lt_part DETACH PARTITION lt_part_1;');
SELECT * FROM lt('ALTER TABLE lt_part DETACH PARTITION lt_part_1 CONCURRENTLY;');
SELECT * FROM lt('ALTER TABLE lt_part ATTACH PARTITION lt_part_big FOR VALUES FROM (100000) TO (200000);');
SELECT * FROM lt('ALTER TABLE lt_part ATTACH PARTITION lt_part_empty FOR VALUES FROM (100000) TO (200000);');
SET migrations_schema.lint_error_rows = 10000;
SELECT * FROM lt('ALTER TABLE lt_part ATTACH PARTITION lt_part_big FOR VALUES FROM (100000) TO (200000);');
RESET migrations_schema.lint_error_rows;
SELECT * FROM lt('REFRESH MATERIALIZED VIEW lt_mv;');
SELECT * FROM lt('REFRESH MATERIALIZED VIEW CONCURRENTLY lt_mv;');
SELECT * FROM lt('REFRESH MATERIALIZED VIEW lt_mv WITH NO DATA;');
SELECT * FROM lt('REFRESH MATERIALIZED VIEW lt_mv_empty;');
SET migrations_schema.lint_error_rows = 10000;
SELECT * FROM lt('REFRESH MATERIALIZED VIEW lt_mv;');
RESET migrations_schema.lint_error_rows;

RESET lock_timeout;
DROP MATERIALIZED VIEW lt_mv, lt_mv_empty;
DROP TABLE lt_big, lt_empty, lt_small, lt_parent, lt_part, lt_part_big, lt_part_empty;
DROP TYPE lt_mood;
DROP DOMAIN lt_dom;
DROP FUNCTION lt(text);
