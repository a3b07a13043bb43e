-- Safety checks enforced by apply and rollback: error-level lint findings refuse the
-- migration before any statement runs, overrides (argument or directive) allow named rules
-- and are recorded, warnings are NOTICEs stored with the migration, down scripts are linted
-- at rollback, and the table_rewrite guard stops rewrites of large tables.
SET client_min_messages = warning;
DROP EXTENSION migrations_schema;
CREATE EXTENSION migrations_schema;
SET client_min_messages = notice;
SET migrations_schema.lint_error_rows = 1000;
SET migrations_schema.lint_warning_rows = 100;

CREATE TABLE en_big (id bigint PRIMARY KEY, v text, n int);
INSERT INTO en_big SELECT g, 'v' || g, g FROM generate_series(1, 2000) AS g;
CREATE TABLE en_small (id bigint PRIMARY KEY, v text);
INSERT INTO en_small SELECT g, 'v' FROM generate_series(1, 10) AS g;
ANALYZE en_big, en_small;
SELECT coalesce(max(id), 0) AS audit_start FROM migrate.ddl_audit \gset

-- 1. Error-level findings refuse the migration before any statement runs; the error lists
--    every finding (errors and warnings), and the hint names the first refused rule.
SELECT migrate.apply('001', $$
CREATE TABLE en_new (id bigint PRIMARY KEY);
ALTER TABLE en_big ALTER COLUMN n TYPE text;
CREATE INDEX en_big_v ON en_big (v);
ALTER TABLE en_small RENAME COLUMN v TO w;
$$);
\echo :LAST_ERROR_SQLSTATE
-- nothing ran: no table, no migration, no history, no audit row
SELECT to_regclass('en_new') AS en_new, pg_typeof(n) AS n_type FROM en_big LIMIT 1;
SELECT count(*) AS migrations FROM migrate.migrations;
SELECT count(*) AS history FROM migrate.history;
SELECT count(*) AS audit_rows FROM migrate.ddl_audit WHERE id > :audit_start;

-- 2. Overrides: a directive (any spelling of the rule: name, id, '_' for '-', any case) and an
--    argument, each with a reason. The warning that is not allowed is a NOTICE.
SELECT migrate.apply('001', $$
-- migrate:allow ALTER_COLUMN_TYPE_REWRITE -- en_big is small enough tonight
CREATE TABLE en_new (id bigint PRIMARY KEY);
ALTER TABLE en_big ALTER COLUMN n TYPE text;
CREATE INDEX en_big_v ON en_big (v);
ALTER TABLE en_small RENAME COLUMN v TO w;
$$, allow => ARRAY['i301 -- built in the maintenance window']);
SELECT version, state, warnings, overrides FROM migrate.status();
SELECT script, statement, line, rule_id, rule, severity, allowed, allowed_by, reason
  FROM migrate.findings('001');
SELECT jsonb_pretty(overrides) FROM migrate.history WHERE version = '001';
-- the migration's own rows equal its history row's
SELECT m.findings = h.findings AND m.overrides = h.overrides AS same_record
  FROM migrate.migrations m JOIN migrate.history h USING (version) WHERE version = '001';

-- 3. Bad overrides are refused before anything runs: unknown rule, NULL element, no rule,
--    a directive naming no rule; a 2-D array.
SELECT migrate.apply('002', 'CREATE TABLE en_t2 (id int)', allow => ARRAY['no-such-rule']);
SELECT migrate.apply('002', 'CREATE TABLE en_t2 (id int)', allow => ARRAY[NULL]);
SELECT migrate.apply('002', 'CREATE TABLE en_t2 (id int)', allow => ARRAY['-- only a reason']);
SELECT migrate.apply('002', 'CREATE TABLE en_t2 (id int)', allow => ARRAY[['a', 'b']]);
SELECT migrate.apply('002', E'-- migrate:allow\nCREATE TABLE en_t2 (id int)');
SELECT migrate.apply('002', E'CREATE TABLE en_t2 (id int); -- migrate:allow drop-colum -- typo');
SELECT migrate.register('002', E'-- migrate:allow bogus\nCREATE TABLE en_t2 (id int)');
SELECT to_regclass('en_t2') AS en_t2, count(*) AS migrations FROM migrate.migrations;

-- 4. An override that matches nothing is reported (WARNING) and recorded as unmatched; NULL
--    allow means none. Several rules in one directive.
SELECT migrate.apply('002', $$
-- migrate:allow drop-column, B402 -- cleanup
CREATE TABLE en_t2 (id int);
$$, allow => ARRAY['truncate']);
SELECT rule, source, reason, matched FROM jsonb_to_recordset(
    (SELECT overrides FROM migrate.migrations WHERE version = '002'))
    AS o(rule text, source text, reason text, matched boolean);
SELECT migrate.apply('003', 'CREATE TABLE en_t3 (id int)', allow => NULL);

-- 5. Directive-looking text that is not a line comment of the script is not a directive:
--    inside a string, a quoted identifier, a dollar-quoted body, a block comment; dbmate's
--    own "-- migrate:up" is ignored.
SELECT migrate.apply('004', $$
-- migrate:up
SELECT '-- migrate:allow drop-column -- in a string';
CREATE FUNCTION en_f() RETURNS int LANGUAGE sql AS $f$
-- migrate:allow drop-column -- in a function body
SELECT 1 $f$;
/* -- migrate:allow drop-column -- in a block comment /* nested */ still */
ALTER TABLE en_big DROP COLUMN v;
$$);
SELECT count(*) AS migrations_004 FROM migrate.migrations WHERE version = '004';

-- 6. apply(): pending migrations are linted one by one just before each runs; an argument
--    override covers all of them; directives of registered scripts count.
SELECT migrate.register('005', 'CREATE INDEX en_big_n ON en_big (n)', 'DROP INDEX en_big_n');
SELECT migrate.register('006', E'-- migrate:allow set-not-null-scan -- checked by hand\nALTER TABLE en_big ALTER COLUMN n SET NOT NULL',
                        'ALTER TABLE en_big ALTER COLUMN n DROP NOT NULL');
SELECT * FROM migrate.apply();
SELECT version, state FROM migrate.status() WHERE version IN ('005', '006');
SELECT version, statements FROM migrate.apply(allow => ARRAY['create-index-not-concurrent -- quiet hour']);
SELECT version, state, overrides FROM migrate.status() WHERE version >= '005';

-- 7. Down scripts are linted at rollback: dropping a table that holds rows is refused (data
--    loss), an empty one passes silently (no breaking-change warning for what the up script
--    made); the override comes from rollback's allow or from a directive in the down script.
SELECT migrate.apply('007', 'CREATE TABLE en_keep (id int)', 'DROP TABLE en_keep');
SELECT migrate.apply('008', 'CREATE TABLE en_empty (id int)', 'DROP TABLE en_empty');
INSERT INTO en_keep VALUES (1);
SELECT * FROM migrate.rollback(2);
SELECT to_regclass('en_keep') AS en_keep, to_regclass('en_empty') AS en_empty;
SELECT version FROM migrate.rollback(1);
SELECT version FROM migrate.rollback(1);
SELECT version FROM migrate.rollback(1, allow => ARRAY['drop-table -- copied to the archive']);
SELECT rule, severity, allowed, allowed_by, reason FROM migrate.findings('007')
 WHERE action = 'rollback';
SELECT migrate.apply('007', 'CREATE TABLE en_keep (id int)', 'DROP TABLE en_keep');
INSERT INTO en_keep VALUES (1);
SELECT migrate.register('007', 'CREATE TABLE en_keep (id int)',
                        E'-- migrate:allow drop-table -- archived\nDROP TABLE en_keep');
SELECT version FROM migrate.rollback('006');
SELECT to_regclass('en_keep') AS en_keep;

-- a column added by the up script and still empty is dropped silently by its down script; once
-- it holds values, dropping it is data loss
SELECT migrate.apply('007', 'ALTER TABLE en_small ADD COLUMN note text', 'ALTER TABLE en_small DROP COLUMN note');
SELECT version FROM migrate.rollback(1);
SELECT migrate.apply('007', 'ALTER TABLE en_small ADD COLUMN note text', 'ALTER TABLE en_small DROP COLUMN note');
UPDATE en_small SET note = 'kept' WHERE id = 3;
SELECT version FROM migrate.rollback(1);
SELECT version FROM migrate.rollback(1, allow => ARRAY['B401 -- the note was a test']);

-- 8. apply bounds lock waits itself: T501 (require-lock-timeout) is for migrate.lint only.
SELECT rule_id FROM migrate.lint('ALTER TABLE en_small ADD COLUMN z int') WHERE rule_id = 'T501';
SELECT migrate.apply('009', 'ALTER TABLE en_small ADD COLUMN z int', 'ALTER TABLE en_small DROP COLUMN z');
SELECT count(*) AS t501 FROM migrate.findings('009') WHERE rule_id = 'T501';
-- the bound is migrations_schema.lock_timeout for every statement, also after a script sets
-- lock_timeout = 0; the session's own setting is back afterwards
SET lock_timeout = 0;
SET migrations_schema.lock_timeout = '3s';
SELECT migrate.apply('010', $$
DO $d$ BEGIN RAISE NOTICE 'first statement: lock_timeout %', current_setting('lock_timeout'); END $d$;
SET LOCAL lock_timeout = 0;
DO $d$ BEGIN RAISE NOTICE 'after SET LOCAL 0: lock_timeout %', current_setting('lock_timeout'); END $d$;
SET LOCAL lock_timeout = '10s';
DO $d$ BEGIN RAISE NOTICE 'after SET LOCAL 10s: lock_timeout %', current_setting('lock_timeout'); END $d$;
$$);
SHOW lock_timeout;
RESET lock_timeout;
RESET migrations_schema.lock_timeout;

-- 9. The table_rewrite guard: a rewrite of a table larger than max_rewrite_size is stopped
--    (lint's own verdict aside), naming the table, its size and PostgreSQL's reason.
SET migrations_schema.lint_enforce = off;
SET migrations_schema.max_rewrite_size = '64kB';
SELECT pg_total_relation_size('en_big') > 64 * 1024 AS big_enough;
-- The message names the table's size (pg_total_relation_size when the rewrite starts), which
-- is not the same on every PostgreSQL version: refused() shows the error with it as <size>.
CREATE FUNCTION pg_temp.refused(call text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    state text; message text; detail text; hint text; context text;
BEGIN
    EXECUTE call;
    RAISE NOTICE 'not refused';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT,
                            context = PG_EXCEPTION_CONTEXT;
    RAISE NOTICE E'%: %\nDETAIL: %\nHINT: %\nCONTEXT: %', state,
        regexp_replace(message, '\(\d+ kB\)', '(<size>)'), detail, hint,
        (SELECT string_agg(line, E'\n') FROM regexp_split_to_table(context, E'\n') AS line
          WHERE line LIKE 'migration %');
END $$;
SELECT pg_temp.refused($$SELECT migrate.apply('011', 'ALTER TABLE en_big ALTER COLUMN id TYPE numeric')$$);
SELECT pg_typeof(id) FROM en_big LIMIT 1;
SELECT count(*) AS audit_rows_011 FROM migrate.ddl_audit WHERE migration_version = '011';
-- outside migrations the guard does not apply; a small table passes; -1 disables it
BEGIN;
ALTER TABLE en_big ALTER COLUMN id TYPE numeric;
ROLLBACK;
SELECT migrate.apply('011', 'ALTER TABLE en_small ALTER COLUMN id TYPE numeric');
SET migrations_schema.max_rewrite_size = -1;
BEGIN;
SELECT migrate.apply('012', 'ALTER TABLE en_big ALTER COLUMN id TYPE numeric');
ROLLBACK;
SET migrations_schema.max_rewrite_size = '64kB';
-- allowed by the guard's own rule, or by an allowed rewrite finding of the same statement
SELECT migrate.apply('012', 'ALTER TABLE en_big ALTER COLUMN id TYPE numeric',
                     allow => ARRAY['large-table-rewrite -- window booked']);
SELECT rule, severity, allowed, allowed_by, reason FROM migrate.findings('012');
SET migrations_schema.lint_enforce = on;
SELECT migrate.apply('013', 'ALTER TABLE en_big ALTER COLUMN id TYPE bigint',
                     allow => ARRAY['R104 -- window booked']);
SELECT rule, allowed, reason FROM migrate.findings('013');
-- the guard also watches down scripts
SELECT migrate.register('013', 'ALTER TABLE en_big ALTER COLUMN id TYPE bigint',
                        'ALTER TABLE en_big ALTER COLUMN id TYPE numeric');
SET migrations_schema.lint_enforce = off;
SELECT pg_temp.refused('SELECT version FROM migrate.rollback(1)');
RESET migrations_schema.lint_enforce;
RESET migrations_schema.max_rewrite_size;

-- 10. Enforcement and thresholds are for superusers to change; a deploy role cannot turn
--     them off for itself.
CREATE ROLE en_deploy;
SET ROLE en_deploy;
SET migrations_schema.lint_enforce = off;
SET migrations_schema.lint_error_rows = 1e12;
SET migrations_schema.max_rewrite_size = -1;
-- the lock settings are its own to tune
SET migrations_schema.lock_timeout = '1s';
SET migrations_schema.lock_retries = 5;
SET migrations_schema.lock_retry_delay = '200ms';
RESET ROLE;
DROP ROLE en_deploy;

-- 11. Every rule that lint reports is listed by migrate.lint_rules(), with a known family.
SELECT count(*) AS rules, count(DISTINCT rule) AS names FROM migrate.lint_rules();
SELECT DISTINCT family FROM migrate.lint_rules() ORDER BY 1;
SELECT count(DISTINCT f.rule) AS fired,
       count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM migrate.lint_rules() r
                                           WHERE r.rule_id = f.rule_id AND r.rule = f.rule))
           AS unregistered
  FROM migrate.lint($$
CREATE TABLE lr (id int PRIMARY KEY, j json, s varchar(10), t timestamp);
ALTER TABLE en_big ADD COLUMN r float DEFAULT random();
ALTER TABLE en_big ADD COLUMN g int GENERATED ALWAYS AS (1) STORED;
ALTER TABLE en_big ADD COLUMN q bigserial;
ALTER TABLE en_big ALTER COLUMN n TYPE int USING 0;
ALTER TABLE en_big ALTER COLUMN n SET NOT NULL;
ALTER TABLE en_big ADD COLUMN k int NOT NULL;
ALTER TABLE en_big SET UNLOGGED;
ALTER TABLE en_big ADD CHECK (n > 0);
ALTER TABLE en_big ADD FOREIGN KEY (n) REFERENCES en_small (id);
ALTER TABLE en_big ADD UNIQUE (n);
CREATE INDEX ON en_big (n);
DROP INDEX en_big_v;
REINDEX TABLE en_big;
ALTER TABLE en_big DROP COLUMN n;
DROP TABLE en_small;
ALTER TABLE en_big RENAME COLUMN v TO vv;
ALTER TABLE en_big RENAME TO en_bigger;
ALTER TABLE en_big ALTER COLUMN v DROP NOT NULL;
TRUNCATE en_big CASCADE;
CLUSTER en_big USING en_big_pkey;
UPDATE en_big SET v = 'x';
$$) AS f;

-- 12. T506 large-data-change: an UPDATE or DELETE judged by its target rows (planner estimate
--     with a WHERE), also in a migration without DDL: a warning is a NOTICE stored with the
--     migration, an error refuses it; nothing for a small batch.
ANALYZE en_big;
SELECT migrate.apply('014', 'UPDATE en_big SET v = v || $x$!$x$ WHERE id <= 500', 'SELECT 1');
SELECT rule_id, rule, severity, allowed FROM migrate.findings('014');
SELECT migrate.apply('015', 'DELETE FROM en_big', 'SELECT 1');
\echo :LAST_ERROR_SQLSTATE
SELECT migrate.apply('015', 'DELETE FROM en_big WHERE id <= 50', 'SELECT 1');
SELECT count(*) AS findings_015 FROM migrate.findings('015');

SELECT valid, problem FROM migrate.verify_audit();
