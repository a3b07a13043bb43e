-- migrate.lint(sql), convention rules (O8xx): opt-in only, through
-- migrations_schema.lint_opt_in.

-- the fixtures (and lt()) shared by the lint suites: test/sql/lint_fixtures.sql
\getenv abs_srcdir PG_ABS_SRCDIR
\set fixtures :abs_srcdir '/sql/lint_fixtures.sql'
\i :fixtures

-- size-dependent findings also bring T501 (require-lock-timeout) unless a lock_timeout is in
-- effect; T501 is shown in lint_transaction, here the session has one so it stays out
SET lock_timeout = '2s';

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
-- migrations_schema.lint_opt_in is checked when it is set: an unknown name is refused (22023)
-- with the valid names in the hint, and the setting keeps its value
------------------------------------------------------------------------------------------
SET migrations_schema.lint_opt_in = 'fk_on_delet';
\echo :LAST_ERROR_SQLSTATE
SET migrations_schema.lint_opt_in = 'fk_on_delete, tenant-rls';
\echo :LAST_ERROR_SQLSTATE
SELECT set_config('migrations_schema.lint_opt_in', 'require_primary_key,O803', false);
\echo :LAST_ERROR_SQLSTATE
SHOW migrations_schema.lint_opt_in;
-- a valid list: names separated by commas and/or spaces, any case
SET migrations_schema.lint_opt_in = 'Require_Primary_Key fk_on_delete,,';
SHOW migrations_schema.lint_opt_in;
SELECT * FROM lt('CREATE TABLE lt_new (tenant_id bigint, parent_id int REFERENCES lt_parent (id));');
-- the empty string: no opt-in rule
SET migrations_schema.lint_opt_in = '';
SELECT * FROM lt('CREATE TABLE lt_new (tenant_id bigint, parent_id int REFERENCES lt_parent (id));');
-- a function's own setting is checked too, and applies while it runs
CREATE FUNCTION lt_opt_in_pk() RETURNS SETOF text LANGUAGE sql
    SET migrations_schema.lint_opt_in = 'require_primary_key'
    AS $$ SELECT rule_id FROM migrate.lint('CREATE TABLE lt_new (id bigint)') $$;
SELECT * FROM lt_opt_in_pk();
SELECT count(*) AS findings FROM migrate.lint('CREATE TABLE lt_new (id bigint)');
DROP FUNCTION lt_opt_in_pk();
CREATE FUNCTION lt_opt_in_bad() RETURNS int LANGUAGE sql
    SET migrations_schema.lint_opt_in = 'no_such_rule' AS $$ SELECT 1 $$;
\echo :LAST_ERROR_SQLSTATE
RESET migrations_schema.lint_opt_in;

RESET lock_timeout;
DROP MATERIALIZED VIEW lt_mv, lt_mv_empty;
DROP TABLE lt_big, lt_empty, lt_small, lt_parent, lt_part, lt_part_big, lt_part_empty;
DROP TYPE lt_mood;
DROP DOMAIN lt_dom;
DROP FUNCTION lt(text);
