-- Fixtures of the lint suites (test/sql/lint_*.sql), included by each of them: lt(), a
-- readable view of migrate.lint(); a large table (20000 rows), an empty one, a small one (100
-- rows), partitions, materialized views, an enum and a domain. Deterministic data and ANALYZE,
-- so the row estimates are exact. Each suite drops them at its end. Not a suite itself.

-- readable output: statement, line, rule, severity and the start of the message
CREATE FUNCTION lt(sql text)
RETURNS TABLE (statement integer, line integer, rule_id text, severity text, message text)
LANGUAGE sql AS $$
    SELECT statement, line, rule_id, severity, left(message, 60) FROM migrate.lint(sql)
$$;

-- fixtures: a large table (20000 rows), an empty one, a small one (100 rows); deterministic
-- data and ANALYZE, so the row estimates are exact
CREATE TABLE lt_big (id int, v varchar(10), w varchar(20), n numeric(10,2), t text,
                     c int, r int, nn int, nv int, ts timestamptz);
INSERT INTO lt_big SELECT g, 'x', 'y', 1, 't', g, g, g, g, now() FROM generate_series(1, 20000) g;
ALTER TABLE lt_big ADD CONSTRAINT lt_big_nn_check CHECK (nn IS NOT NULL);
ALTER TABLE lt_big ADD CONSTRAINT lt_big_nv_check CHECK (nv IS NOT NULL) NOT VALID;
ALTER TABLE lt_big ADD CONSTRAINT lt_big_c_check CHECK (c > 0);
CREATE INDEX lt_big_c_idx ON lt_big (c);
CREATE UNIQUE INDEX lt_big_id_idx ON lt_big (id);
CREATE TABLE lt_empty (LIKE lt_big INCLUDING ALL);
CREATE TABLE lt_small (LIKE lt_big);
INSERT INTO lt_small SELECT * FROM lt_big WHERE id <= 100;
CREATE TABLE lt_parent (id int PRIMARY KEY);
INSERT INTO lt_parent SELECT generate_series(1, 20000);
CREATE TABLE lt_part (id int) PARTITION BY RANGE (id);
CREATE TABLE lt_part_1 PARTITION OF lt_part FOR VALUES FROM (0) TO (100000);
INSERT INTO lt_part SELECT generate_series(1, 20000);
CREATE TABLE lt_part_big (id int);
INSERT INTO lt_part_big SELECT generate_series(100000, 119999);
CREATE TABLE lt_part_empty (id int);
CREATE MATERIALIZED VIEW lt_mv AS SELECT id FROM lt_big;
CREATE MATERIALIZED VIEW lt_mv_empty AS SELECT id FROM lt_big WHERE false;
CREATE TYPE lt_mood AS ENUM ('sad', 'ok');
CREATE DOMAIN lt_dom AS int;
ANALYZE lt_big, lt_small, lt_parent, lt_part_1, lt_part_big, lt_mv;
SELECT relname, reltuples FROM pg_class
 WHERE relname IN ('lt_big', 'lt_small', 'lt_empty', 'lt_part_big', 'lt_part_empty', 'lt_mv',
                   'lt_mv_empty')
 ORDER BY relname;
