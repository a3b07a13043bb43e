-- migrate.lint(sql), logical replication rules (L0xx): L001 published-table-change, DDL on a
-- table a publication publishes. Which publications reach a table (FOR TABLE, FOR TABLES IN
-- SCHEMA, FOR ALL TABLES, a partition through its ancestors, partitions and inheritance
-- children through ALTER TABLE without ONLY), which changes are flagged with which order, and
-- what is not flagged. The publisher and subscriber at work: test/t/014_logical_replication.pl.

-- lock_timeout keeps T501 out; the WARNING about wal_level of CREATE PUBLICATION is hidden
SET lock_timeout = '2s';
SET client_min_messages = error;

-- findings of L001 only: statement, severity, message, safe alternative
CREATE FUNCTION lr(sql text)
RETURNS TABLE (statement integer, severity text, message text, safe_alternative text)
LANGUAGE sql AS $$
    SELECT statement, severity, message, safe_alternative FROM migrate.lint(sql)
     WHERE rule_id = 'L001'
$$;

CREATE SCHEMA lr_pub;
CREATE SCHEMA lr_other;
CREATE TABLE lr_t (id bigint PRIMARY KEY, a int, b text NOT NULL, CONSTRAINT lr_t_a_check CHECK (a > 0));
CREATE TABLE lr_unpublished (id bigint PRIMARY KEY, a int);
CREATE TABLE lr_pub.s (id bigint PRIMARY KEY, a int);
CREATE TABLE lr_parted (id bigint, at date, a int) PARTITION BY RANGE (at);
CREATE TABLE lr_parted_2024 PARTITION OF lr_parted FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE lr_inh_parent (id bigint, a int);
CREATE TABLE lr_inh_child (b int) INHERITS (lr_inh_parent);
CREATE UNLOGGED TABLE lr_unlogged (id bigint, a int);
CREATE PUBLICATION lr_p1 FOR TABLE lr_t;
CREATE PUBLICATION lr_p2 FOR TABLE lr_t WITH (publish = 'insert');
CREATE PUBLICATION lr_schema FOR TABLES IN SCHEMA lr_pub;
CREATE PUBLICATION lr_root FOR TABLE lr_parted WITH (publish_via_partition_root = true);
CREATE PUBLICATION lr_child FOR TABLE ONLY lr_inh_child;

------------------------------------------------------------------------------------------
-- every kind of change, with the order to follow
------------------------------------------------------------------------------------------
SELECT * FROM lr($$
ALTER TABLE lr_t ADD COLUMN c int;
ALTER TABLE lr_t DROP COLUMN a;
ALTER TABLE lr_t ALTER COLUMN b TYPE varchar(10);
ALTER TABLE lr_t ALTER COLUMN b DROP NOT NULL;
ALTER TABLE lr_t ALTER COLUMN a SET NOT NULL;
ALTER TABLE lr_t ADD CONSTRAINT lr_t_b_check CHECK (b <> '') NOT VALID;
ALTER TABLE lr_t DROP CONSTRAINT lr_t_a_check;
ALTER TABLE lr_t RENAME COLUMN b TO bb;
ALTER TABLE lr_t REPLICA IDENTITY FULL;
ALTER TABLE lr_t RENAME TO lr_t2;
ALTER TABLE lr_t SET SCHEMA lr_other;
$$);
-- one statement with several changes: one finding each
SELECT statement, severity, left(message, 40) FROM lr(
  'ALTER TABLE lr_t ADD COLUMN c int, ALTER COLUMN b SET DEFAULT ''x'', DROP COLUMN a');
-- DROP TABLE (with a table no publication publishes: no finding for it)
SELECT * FROM lr('DROP TABLE lr_unpublished, lr_t');

------------------------------------------------------------------------------------------
-- errors: the publisher's own UPDATE and DELETE would fail
------------------------------------------------------------------------------------------
-- lr_p1 publishes updates and deletes: REPLICA IDENTITY NOTHING, dropping the primary key
-- (the replica identity by default)
SELECT * FROM lr('ALTER TABLE lr_t REPLICA IDENTITY NOTHING');
SELECT statement, severity, message FROM lr('ALTER TABLE lr_t DROP CONSTRAINT lr_t_pkey');
-- published for inserts only: the replica identity is not used (no finding), dropping the
-- key is a plain DROP CONSTRAINT (a warning)
ALTER PUBLICATION lr_p1 SET (publish = 'insert');
SELECT statement, severity, left(message, 75) FROM lr('ALTER TABLE lr_t REPLICA IDENTITY NOTHING');
SELECT statement, severity, left(message, 75) FROM lr('ALTER TABLE lr_t DROP CONSTRAINT lr_t_pkey');
ALTER PUBLICATION lr_p1 SET (publish = 'insert, update, delete, truncate');
-- REPLICA IDENTITY USING INDEX: dropping that index's constraint is the error now
CREATE UNIQUE INDEX lr_t_b_idx ON lr_t (b);
ALTER TABLE lr_t ADD CONSTRAINT lr_t_b_key UNIQUE USING INDEX lr_t_b_idx;
ALTER TABLE lr_t REPLICA IDENTITY USING INDEX lr_t_b_key;
SELECT statement, severity, left(message, 75) FROM lr($$
ALTER TABLE lr_t DROP CONSTRAINT lr_t_b_key;
ALTER TABLE lr_t DROP CONSTRAINT lr_t_pkey;
$$);
ALTER TABLE lr_t REPLICA IDENTITY DEFAULT;

------------------------------------------------------------------------------------------
-- which publications reach a table
------------------------------------------------------------------------------------------
-- FOR TABLES IN SCHEMA; and CREATE TABLE in that schema (published at once), not elsewhere
SELECT statement, severity, message FROM lr($$
ALTER TABLE lr_pub.s ADD COLUMN c int;
CREATE TABLE lr_pub.n (id int);
CREATE TABLE lr_other.n (id int);
$$);
-- a partition through its root, and the root's partitions through it
SELECT statement, severity, left(message, 80) FROM lr($$
ALTER TABLE lr_parted_2024 ADD CONSTRAINT lr_c CHECK (a > 0);
ALTER TABLE lr_parted ADD COLUMN c int;
$$);
-- a new partition of a root published through the root: its rows go as the root's (no
-- finding); as itself (publish_via_partition_root off): a finding
SELECT * FROM lr($$
CREATE TABLE lr_parted_2025 PARTITION OF lr_parted FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
$$);
ALTER PUBLICATION lr_root SET (publish_via_partition_root = false);
SELECT statement, severity, left(message, 80) FROM lr($$
CREATE TABLE lr_parted_2025 PARTITION OF lr_parted FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
$$);
-- inheritance: ALTER TABLE of the parent reaches the published child; ONLY does not
SELECT statement, severity, left(message, 80) FROM lr($$
ALTER TABLE lr_inh_parent ADD CONSTRAINT lr_inh_check CHECK (a > 0) NOT VALID;
ALTER TABLE ONLY lr_inh_parent ADD CONSTRAINT lr_inh_check2 CHECK (a > 0) NOT VALID;
$$);
-- FOR ALL TABLES reaches every permanent table, and every new one; not temporary or unlogged
-- ones, not views
CREATE PUBLICATION lr_all FOR ALL TABLES;
SELECT statement, severity, left(message, 80) FROM lr($$
ALTER TABLE lr_unpublished ADD COLUMN c int;
CREATE TABLE lr_new (id int);
CREATE TEMP TABLE lr_temp (id int);
CREATE UNLOGGED TABLE lr_unlogged2 (id int);
ALTER TABLE lr_unlogged ADD COLUMN c int;
$$);
DROP PUBLICATION lr_all;

------------------------------------------------------------------------------------------
-- not flagged
------------------------------------------------------------------------------------------
-- no publication; a table the script creates; changes subscribers do not see (SET DEFAULT,
-- statistics, a comment); a missing table
SELECT count(*) FROM lr($$
ALTER TABLE lr_unpublished ADD COLUMN c int, DROP COLUMN a;
CREATE TABLE lr_made (id int);
ALTER TABLE lr_made ADD COLUMN c int;
ALTER TABLE lr_t ALTER COLUMN b SET DEFAULT 'x', ALTER COLUMN a SET STATISTICS 100;
COMMENT ON TABLE lr_t IS 'published';
ALTER TABLE IF EXISTS lr_missing ADD COLUMN c int;
$$);
-- a later DROP of the table makes the findings about its earlier changes moot (the DROP's
-- own finding stays)
SELECT statement, severity, left(message, 40) FROM lr($$
ALTER TABLE lr_t ADD COLUMN c int;
DROP TABLE lr_t;
$$);

------------------------------------------------------------------------------------------
-- apply and rollback: a warning is raised as a NOTICE and recorded; the error refuses; a
-- down script gets them too (not suppressed like breaking-change warnings)
------------------------------------------------------------------------------------------
SET client_min_messages = notice;
SELECT migrate.apply('lr1', 'ALTER TABLE lr_t ADD COLUMN c int;', 'ALTER TABLE lr_t DROP COLUMN c;');
SELECT version, action, script, rule_id, severity FROM migrate.findings('lr1');
SELECT migrate.apply('lr2', 'ALTER TABLE lr_t REPLICA IDENTITY NOTHING;');
SELECT version FROM migrate.rollback();
SELECT migrate.apply('lr2', '-- migrate:allow published-table-change -- inserts only soon
ALTER TABLE lr_t REPLICA IDENTITY NOTHING;', 'ALTER TABLE lr_t REPLICA IDENTITY DEFAULT;');
SELECT version FROM migrate.rollback();
SET client_min_messages = error;

-- the rule in lint_rules()
SELECT * FROM migrate.lint_rules() WHERE rule_id LIKE 'L%';

DROP PUBLICATION lr_p1, lr_p2, lr_schema, lr_root, lr_child;
DROP TABLE lr_t, lr_unpublished, lr_pub.s, lr_parted, lr_inh_child, lr_inh_parent, lr_unlogged;
DROP SCHEMA lr_pub, lr_other;
DROP FUNCTION lr(text);
RESET client_min_messages;
