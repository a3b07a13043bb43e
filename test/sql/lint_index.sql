-- migrate.lint(sql), index rules (I3xx): index builds and drops without CONCURRENTLY,
-- CONCURRENTLY inside the migration transaction, and foreign keys without an index.

-- the fixtures (and lt()) shared by the lint suites: test/sql/lint_fixtures.sql
\getenv abs_srcdir PG_ABS_SRCDIR
\set fixtures :abs_srcdir '/sql/lint_fixtures.sql'
\i :fixtures

-- size-dependent findings also bring T501 (require-lock-timeout) unless a lock_timeout is in
-- effect; T501 is shown in lint_transaction, here the session has one so it stays out
SET lock_timeout = '10s';

------------------------------------------------------------------------------------------
-- I301 create-index-not-concurrent, I303 concurrently-in-transaction
------------------------------------------------------------------------------------------
SELECT * FROM lt('CREATE INDEX x_idx ON lt_big (r);');
SELECT * FROM lt('CREATE INDEX x_idx ON lt_empty (r);');
SELECT * FROM lt($$
CREATE TABLE lt_new (id bigint);
CREATE INDEX x_idx ON lt_new (id);
$$);
SET migrations_schema.lint_error_rows = 10000;
SELECT * FROM lt('CREATE INDEX x_idx ON lt_big (r);');
RESET migrations_schema.lint_error_rows;
-- a partitioned table: its rows are in its partitions (20000 in lt_part_1), and the index is
-- built on every partition
SELECT * FROM lt('CREATE INDEX x_idx ON lt_part (id);');
-- CONCURRENTLY avoids I301 but cannot run in the migration's transaction (I303)
SELECT * FROM lt('CREATE INDEX CONCURRENTLY x_idx ON lt_big (r);');
-- I303: CONCURRENTLY inside the script's own BEGIN ... COMMIT block (apply refuses that)
SELECT * FROM lt('BEGIN; CREATE INDEX CONCURRENTLY x_idx ON lt_big (r); COMMIT;');
SELECT * FROM lt('BEGIN; SELECT 1; COMMIT; DROP INDEX CONCURRENTLY lt_big_c_idx;');

------------------------------------------------------------------------------------------
-- I302 drop-index-not-concurrent (by the size of the index's table)
------------------------------------------------------------------------------------------
SELECT * FROM lt('DROP INDEX lt_big_c_idx;');
SELECT * FROM lt('DROP INDEX CONCURRENTLY lt_big_c_idx;');
-- an index of an empty table, a missing index: nothing; one finding per index
SELECT * FROM lt('DROP INDEX lt_empty_c_idx;');
SELECT * FROM lt('DROP INDEX IF EXISTS lt_missing_idx;');
SELECT * FROM lt('DROP INDEX lt_empty_c_idx, public.lt_big_c_idx, lt_big_id_idx;');
-- a small table: info; with lint_error_rows at 10000, lt_big's: an error
CREATE INDEX lt_small_c_idx ON lt_small (c);
SELECT * FROM lt('DROP INDEX lt_small_c_idx;');
SET migrations_schema.lint_error_rows = 10000;
SELECT * FROM lt('DROP INDEX lt_big_c_idx;');
RESET migrations_schema.lint_error_rows;
DROP INDEX lt_small_c_idx;
-- the down script of a seed-style migration: policies, triggers, four indexes, then the
-- empty table. No I302 (nor any other finding about the indexes): only B402, a warning for
-- an empty table
CREATE TABLE lt_seed (id bigint PRIMARY KEY, tenant_id int, name text, code text,
                      at timestamptz);
CREATE INDEX lt_seed_tenant_idx ON lt_seed (tenant_id);
CREATE INDEX lt_seed_name_idx ON lt_seed (name);
CREATE INDEX lt_seed_code_idx ON lt_seed (code);
CREATE INDEX lt_seed_at_idx ON lt_seed (at);
ALTER TABLE lt_seed ENABLE ROW LEVEL SECURITY;
CREATE POLICY lt_seed_tenant ON lt_seed USING (tenant_id = 1);
CREATE FUNCTION lt_seed_touch() RETURNS trigger LANGUAGE plpgsql AS $f$BEGIN RETURN NEW; END$f$;
CREATE TRIGGER lt_seed_touch BEFORE UPDATE ON lt_seed
    FOR EACH ROW EXECUTE FUNCTION lt_seed_touch();
\set seed_down 'DROP POLICY lt_seed_tenant ON lt_seed; DROP TRIGGER lt_seed_touch ON lt_seed; DROP INDEX lt_seed_tenant_idx; DROP INDEX lt_seed_name_idx; DROP INDEX lt_seed_code_idx; DROP INDEX lt_seed_at_idx; DROP TABLE lt_seed;'
SELECT * FROM lt(:'seed_down');
-- with rows, the DROP INDEX statements would warn, but the script drops the table next: only
-- the DROP TABLE's own finding (B402, an error: the rows are lost)
INSERT INTO lt_seed SELECT g, 1, 'n', 'c', now() FROM generate_series(1, 20000) g;
ANALYZE lt_seed;
SELECT * FROM lt(:'seed_down');
-- without the DROP TABLE they are reported
SELECT * FROM lt('DROP INDEX lt_seed_tenant_idx; DROP INDEX lt_seed_name_idx;');
DROP TABLE lt_seed;
DROP FUNCTION lt_seed_touch();

------------------------------------------------------------------------------------------
-- I305 reindex-not-concurrent
------------------------------------------------------------------------------------------
SELECT * FROM lt('REINDEX TABLE lt_big;');
SELECT * FROM lt('REINDEX INDEX lt_big_c_idx;');
SELECT * FROM lt('REINDEX TABLE CONCURRENTLY lt_big;');
SELECT * FROM lt('REINDEX (CONCURRENTLY) INDEX lt_big_c_idx;');
-- an option set to false is off: not concurrent
SELECT * FROM lt('REINDEX (CONCURRENTLY false) TABLE lt_big;');

------------------------------------------------------------------------------------------
-- I306 foreign-key-without-index (NOT VALID, so C202 stays out)
------------------------------------------------------------------------------------------
SELECT * FROM lt('ALTER TABLE lt_big ADD CONSTRAINT x_fk FOREIGN KEY (r) REFERENCES lt_parent (id) NOT VALID;');
-- an existing index on the column
SELECT * FROM lt('ALTER TABLE lt_big ADD CONSTRAINT x_fk FOREIGN KEY (c) REFERENCES lt_parent (id) NOT VALID;');
-- an index created later in the same script
SELECT * FROM lt($$
ALTER TABLE lt_big ADD CONSTRAINT x_fk FOREIGN KEY (r) REFERENCES lt_parent (id) NOT VALID;
CREATE INDEX CONCURRENTLY lt_big_r_idx ON lt_big (r);
$$);
-- a partial index does not support it
SELECT * FROM lt($$
ALTER TABLE lt_big ADD CONSTRAINT x_fk FOREIGN KEY (r) REFERENCES lt_parent (id) NOT VALID;
CREATE INDEX CONCURRENTLY lt_big_r_idx ON lt_big (r) WHERE r > 0;
$$);
-- new tables: inline REFERENCES without and with an index
SELECT * FROM lt($$
CREATE TABLE lt_child (id bigint PRIMARY KEY, parent_id int REFERENCES lt_parent (id));
$$);
SELECT * FROM lt($$
CREATE TABLE lt_child (id bigint PRIMARY KEY, parent_id int REFERENCES lt_parent (id));
CREATE INDEX lt_child_parent_idx ON lt_child (parent_id);
$$);
-- a table-level FOREIGN KEY in CREATE TABLE, without and with a supporting index
SELECT * FROM lt($$
CREATE TABLE lt_child (id bigint PRIMARY KEY, a int, b int,
                       FOREIGN KEY (a, b) REFERENCES lt_pair (a, b));
$$);
SELECT * FROM lt($$
CREATE TABLE lt_child (id bigint PRIMARY KEY, a int, b int,
                       FOREIGN KEY (a, b) REFERENCES lt_pair (a, b));
CREATE INDEX lt_child_ba_idx ON lt_child (b, a, id);
$$);
-- the new table's own primary key or unique constraint supports the foreign key (inline or
-- table-level); a key that does not lead with the columns does not
SELECT * FROM lt($$
CREATE TABLE lt_child (id int PRIMARY KEY REFERENCES lt_parent (id));
$$);
SELECT * FROM lt($$
CREATE TABLE lt_child (id bigint PRIMARY KEY, a int, b int, UNIQUE (b, a),
                       FOREIGN KEY (a, b) REFERENCES lt_pair (a, b));
$$);
SELECT * FROM lt($$
CREATE TABLE lt_child (id bigint, a int UNIQUE REFERENCES lt_parent (id), b int);
$$);
SELECT * FROM lt($$
CREATE TABLE lt_child (id bigint, a int REFERENCES lt_parent (id), PRIMARY KEY (id, a));
$$);

RESET lock_timeout;
DROP MATERIALIZED VIEW lt_mv, lt_mv_empty;
DROP TABLE lt_big, lt_empty, lt_small, lt_parent, lt_part, lt_part_big, lt_part_empty;
DROP TYPE lt_mood;
DROP DOMAIN lt_dom;
DROP FUNCTION lt(text);
