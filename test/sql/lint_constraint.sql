-- migrate.lint(sql), constraint rules (C2xx): constraints that scan or build an index
-- while holding strong locks, and their NOT VALID / USING INDEX alternatives.

-- the fixtures (and lt()) shared by the lint suites: test/sql/lint_fixtures.sql
\getenv abs_srcdir PG_ABS_SRCDIR
\set fixtures :abs_srcdir '/sql/lint_fixtures.sql'
\i :fixtures

-- size-dependent findings also bring T501 (require-lock-timeout) unless a lock_timeout is in
-- effect; T501 is shown in lint_transaction, here the session has one so it stays out
SET lock_timeout = '10s';

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

RESET lock_timeout;
DROP MATERIALIZED VIEW lt_mv, lt_mv_empty;
DROP TABLE lt_big, lt_empty, lt_small, lt_parent, lt_part, lt_part_big, lt_part_empty;
DROP TYPE lt_mood;
DROP DOMAIN lt_dom;
DROP FUNCTION lt(text);
