-- migrate.lint(sql): safety findings for a migration script, judged on the parse trees and
-- the live catalog. Every rule: a case where it fires, the safe alternative where it does not,
-- and for size-dependent rules the same statement on an empty and on a large table.

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

-- size-dependent findings also bring T501 (require-lock-timeout) unless a lock_timeout is in
-- effect; T501 is shown in its own section, here the session has one so it stays out
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
-- R109 cluster-rewrite
------------------------------------------------------------------------------------------
SELECT * FROM lt('CLUSTER lt_big USING lt_big_c_idx;');
SELECT * FROM lt('CLUSTER lt_empty USING lt_empty_c_idx;');
SET migrations_schema.lint_error_rows = 10000;
SELECT * FROM lt('CLUSTER lt_big USING lt_big_c_idx;');
RESET migrations_schema.lint_error_rows;
-- plain VACUUM and ANALYZE rewrite nothing
SELECT * FROM lt('VACUUM lt_big; ANALYZE lt_big;');

------------------------------------------------------------------------------------------
-- C201 check-without-not-valid, C203 validate-in-same-transaction
------------------------------------------------------------------------------------------
SELECT * FROM lt('ALTER TABLE lt_big ADD CONSTRAINT x_check CHECK (c < 100000);');
SELECT * FROM lt('ALTER TABLE lt_big ADD CONSTRAINT x_check CHECK (c < 100000) NOT VALID;');
SELECT * FROM lt('ALTER TABLE lt_empty ADD CONSTRAINT x_check CHECK (c < 100000);');
SET migrations_schema.lint_error_rows = 10000;
SELECT * FROM lt('ALTER TABLE lt_big ADD CONSTRAINT x_check CHECK (c < 100000);');
RESET migrations_schema.lint_error_rows;
SELECT * FROM lt($$
ALTER TABLE lt_big ADD CONSTRAINT x_check CHECK (c < 100000) NOT VALID;
ALTER TABLE lt_big VALIDATE CONSTRAINT x_check;
$$);
-- VALIDATE in its own migration: fine
SELECT * FROM lt('ALTER TABLE lt_big VALIDATE CONSTRAINT lt_big_nv_check;');

------------------------------------------------------------------------------------------
-- C202 foreign-key-without-not-valid (c has an index, so no I306 here)
------------------------------------------------------------------------------------------
SELECT * FROM lt('ALTER TABLE lt_big ADD CONSTRAINT x_fk FOREIGN KEY (c) REFERENCES lt_parent (id);');
SELECT * FROM lt('ALTER TABLE lt_big ADD CONSTRAINT x_fk FOREIGN KEY (c) REFERENCES lt_parent (id) NOT VALID;');
SELECT * FROM lt('ALTER TABLE lt_empty ADD CONSTRAINT x_fk FOREIGN KEY (c) REFERENCES lt_parent (id);');
SET migrations_schema.lint_error_rows = 10000;
SELECT * FROM lt('ALTER TABLE lt_big ADD CONSTRAINT x_fk FOREIGN KEY (c) REFERENCES lt_parent (id);');
RESET migrations_schema.lint_error_rows;

------------------------------------------------------------------------------------------
-- C204 unique-constraint-builds-index, C205 primary-key-builds-index
------------------------------------------------------------------------------------------
SELECT * FROM lt('ALTER TABLE lt_big ADD CONSTRAINT x_key UNIQUE (c);');
SELECT * FROM lt('ALTER TABLE lt_big ADD CONSTRAINT x_key UNIQUE USING INDEX lt_big_id_idx;');
SELECT * FROM lt('ALTER TABLE lt_empty ADD CONSTRAINT x_key UNIQUE (c);');
SELECT * FROM lt('ALTER TABLE lt_big ADD PRIMARY KEY (id);');
SELECT * FROM lt('ALTER TABLE lt_big ADD CONSTRAINT x_pkey PRIMARY KEY USING INDEX lt_big_id_idx;');
SELECT * FROM lt('ALTER TABLE lt_empty ADD PRIMARY KEY (id);');
SET migrations_schema.lint_error_rows = 10000;
SELECT * FROM lt('ALTER TABLE lt_big ADD CONSTRAINT x_key UNIQUE (c);');
SELECT * FROM lt('ALTER TABLE lt_big ADD PRIMARY KEY (id);');
RESET migrations_schema.lint_error_rows;

------------------------------------------------------------------------------------------
-- C207 exclusion-constraint
------------------------------------------------------------------------------------------
SELECT * FROM lt('ALTER TABLE lt_big ADD CONSTRAINT x_excl EXCLUDE USING btree (id WITH =);');
SELECT * FROM lt('ALTER TABLE lt_empty ADD CONSTRAINT x_excl EXCLUDE USING btree (id WITH =);');
SELECT * FROM lt($$
CREATE TABLE lt_new (id bigint);
ALTER TABLE lt_new ADD CONSTRAINT x_excl EXCLUDE USING btree (id WITH =);
$$);
SET migrations_schema.lint_error_rows = 10000;
SELECT * FROM lt('ALTER TABLE lt_big ADD CONSTRAINT x_excl EXCLUDE USING btree (id WITH =);');
RESET migrations_schema.lint_error_rows;

------------------------------------------------------------------------------------------
-- C208 domain-check-constraint
------------------------------------------------------------------------------------------
SELECT * FROM lt('CREATE DOMAIN lt_pos AS int CHECK (VALUE > 0);');
SELECT * FROM lt('CREATE DOMAIN lt_pos AS int NOT NULL;');
SELECT * FROM lt('ALTER DOMAIN lt_dom ADD CONSTRAINT lt_dom_check CHECK (VALUE > 0);');
SELECT * FROM lt('ALTER DOMAIN lt_dom ADD CONSTRAINT lt_dom_check CHECK (VALUE > 0) NOT VALID;');

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

------------------------------------------------------------------------------------------
-- I302 drop-index-not-concurrent
------------------------------------------------------------------------------------------
SELECT * FROM lt('DROP INDEX lt_big_c_idx;');
SELECT * FROM lt('DROP INDEX CONCURRENTLY lt_big_c_idx;');

------------------------------------------------------------------------------------------
-- I305 reindex-not-concurrent
------------------------------------------------------------------------------------------
SELECT * FROM lt('REINDEX TABLE lt_big;');
SELECT * FROM lt('REINDEX INDEX lt_big_c_idx;');
SELECT * FROM lt('REINDEX TABLE CONCURRENTLY lt_big;');
SELECT * FROM lt('REINDEX (CONCURRENTLY) INDEX lt_big_c_idx;');

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
-- B402 drop-table / drop-schema
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
-- B403 rename-column, B404 rename-table / rename-schema
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
-- B406 truncate / truncate-cascade
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
-- O801 foreign-key-without-on-delete, O802 tenant-table-without-rls,
-- O803 table-without-primary-key: opt-in only
------------------------------------------------------------------------------------------
SELECT * FROM lt($$
CREATE TABLE lt_new (tenant_id bigint, parent_id int REFERENCES lt_parent (id));
CREATE INDEX lt_new_parent_idx ON lt_new (parent_id);
$$);
SET migrations_schema.lint_opt_in = 'fk_on_delete, tenant_rls, require_primary_key';
SELECT * FROM lt($$
CREATE TABLE lt_new (tenant_id bigint, parent_id int REFERENCES lt_parent (id));
CREATE INDEX lt_new_parent_idx ON lt_new (parent_id);
$$);
-- RLS enabled under the unqualified name of a table created schema-qualified
SELECT * FROM lt($$
CREATE TABLE public.lt_new (id bigint PRIMARY KEY, tenant_id bigint);
ALTER TABLE lt_new ENABLE ROW LEVEL SECURITY;
$$);
-- a table-level PRIMARY KEY is a primary key too
SELECT * FROM lt('CREATE TABLE lt_new (id bigint, PRIMARY KEY (id));');
-- the safe alternatives: ON DELETE, row-level security, a primary key
SELECT * FROM lt($$
CREATE TABLE lt_new (id bigint PRIMARY KEY, tenant_id bigint,
                     parent_id int REFERENCES lt_parent (id) ON DELETE CASCADE);
CREATE INDEX lt_new_parent_idx ON lt_new (parent_id);
ALTER TABLE lt_new ENABLE ROW LEVEL SECURITY;
$$);
-- ALTER TABLE ... ADD FOREIGN KEY is covered too
SELECT * FROM lt('ALTER TABLE lt_big ADD CONSTRAINT x_fk FOREIGN KEY (c) REFERENCES lt_parent (id) NOT VALID;');
SELECT * FROM lt('ALTER TABLE lt_big ADD CONSTRAINT x_fk FOREIGN KEY (c) REFERENCES lt_parent (id) ON DELETE SET NULL NOT VALID;');
-- only the named rules
SET migrations_schema.lint_opt_in = 'require_primary_key';
SELECT * FROM lt('CREATE TABLE lt_new (tenant_id bigint, parent_id int REFERENCES lt_parent (id));');
RESET migrations_schema.lint_opt_in;

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

DROP MATERIALIZED VIEW lt_mv, lt_mv_empty;
DROP TABLE lt_big, lt_empty, lt_small, lt_parent, lt_part, lt_part_big, lt_part_empty;
DROP TYPE lt_mood;
DROP DOMAIN lt_dom;
DROP FUNCTION lt(text);
