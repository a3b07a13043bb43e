-- migrate.apply(version, up_sql, down_sql, name): one migration, in the caller's transaction.

SELECT migrate.apply('001', $$
CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL);
CREATE INDEX users_email_idx ON users (email);
$$, 'DROP TABLE users;', 'create users');
SELECT version, name, state, applied_by, statements FROM migrate.status();
SELECT to_regclass('users') AS users, to_regclass('users_email_idx') AS idx;

-- the same version with the same script again: a no-op that says so
SELECT migrate.apply('001', $$
CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL);
CREATE INDEX users_email_idx ON users (email);
$$, 'DROP TABLE users;', 'create users');

-- the same version with another script: edited after it was applied
SELECT migrate.apply('001', 'CREATE TABLE users (id int);', 'DROP TABLE users;', 'create users');
SELECT count(*) AS history_rows FROM migrate.history;

-- a failing statement undoes the whole migration; the error keeps SQLSTATE and message and
-- names the version, the statement number, its line and its first line
SELECT migrate.apply('002', $$
CREATE TABLE orders (id int PRIMARY KEY);
INSERT INTO orders VALUES (1);

ALTER TABLE orders
    ADD COLUMN user_id bigint REFERENCES no_such_table (id);
$$, 'DROP TABLE orders;', 'orders');
\echo :LAST_ERROR_SQLSTATE
SELECT to_regclass('orders') AS orders;
SELECT version, state FROM migrate.status();
SELECT count(*) AS history_rows FROM migrate.history;

-- runtime errors inside functions and DO blocks are reported the same way
SELECT migrate.apply('002', $$
CREATE TABLE orders (id int PRIMARY KEY);
DO $do$
BEGIN
    INSERT INTO orders VALUES (1), (1);
END
$do$;
$$);
\echo :LAST_ERROR_SQLSTATE
SELECT to_regclass('orders') AS orders;

-- a script's own BEGIN; ... COMMIT; is accepted
SELECT migrate.apply('002', $$BEGIN;
CREATE TABLE orders (id int PRIMARY KEY, user_id bigint REFERENCES users (id));
COMMIT;
$$, $$BEGIN; DROP TABLE orders; COMMIT;$$, 'orders');
SELECT version, state, statements FROM migrate.status();

-- other transaction control, or a statement that cannot run in a transaction: refused
-- before anything runs
SELECT migrate.apply('003', $$
CREATE TABLE t3 (id int);
COMMIT;
CREATE TABLE t3b (id int);
$$);
\echo :LAST_ERROR_SQLSTATE
SELECT migrate.apply('003', $$
CREATE TABLE t3 (id int);
ALTER SYSTEM SET work_mem = '8MB';
$$);
\echo :LAST_ERROR_SQLSTATE
SELECT to_regclass('t3') AS t3;

-- syntax errors name the line of the up script
SELECT migrate.apply('003', E'CREATE TABLE t3 (id int);\n\nCREATE TABLE t3b (id int,);');
\echo :LAST_ERROR_SQLSTATE

-- it is the caller's transaction: rolling it back undoes the migration and its record
BEGIN;
SELECT migrate.apply('003', 'CREATE TABLE t3 (id int);', 'DROP TABLE t3;', 't3');
SELECT version, state FROM migrate.status() WHERE version = '003';
ROLLBACK;
SELECT to_regclass('t3') AS t3, count(*) AS rows_for_003
  FROM migrate.status() WHERE version = '003';

-- statements run with the caller's search_path and as the caller
CREATE SCHEMA app;
SET search_path = app, public;
SELECT migrate.apply('003', 'CREATE TABLE t3 (id int); CREATE TABLE t3_owner AS SELECT current_user AS who;',
                     'DROP TABLE t3, t3_owner;', 't3');
RESET search_path;
SELECT to_regclass('app.t3') AS app_t3, to_regclass('public.t3') AS public_t3;
SELECT who FROM app.t3_owner;

-- a version lower than the newest applied one is refused unless explicitly allowed
SELECT migrate.apply('000', 'CREATE TABLE t0 (id int);', 'DROP TABLE t0;');
\echo :LAST_ERROR_SQLSTATE
SELECT migrate.apply('002a', 'CREATE TABLE t2a (id int);', 'DROP TABLE t2a;');
SELECT migrate.apply('002a', 'CREATE TABLE t2a (id int);', 'DROP TABLE t2a;',
                     allow_out_of_order => true);
SELECT version, state, out_of_order FROM migrate.migrations ORDER BY sort_key;

-- empty or NULL scripts
SELECT migrate.apply('004', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT migrate.apply('004', '');
\echo :LAST_ERROR_SQLSTATE
SELECT migrate.apply('004', E'  -- nothing but a comment\n');
SELECT migrate.apply('004', 'BEGIN; COMMIT;');
SELECT migrate.apply('004', 'SELECT 1', NULL, NULL, NULL);

-- a down script that cannot run is accepted with a WARNING (the rollback would fail)
SELECT migrate.apply('004', 'CREATE TABLE t4 (id int);', 'DROP TABLE t4', 't4');
SELECT migrate.apply('005', 'CREATE TABLE t5 (id int);', 'DROP TABLEE t5;', 't5');
SELECT migrate.apply('006', 'CREATE TABLE t6 (id int);', 'VACUUM t6;', 't6');
SELECT version, state FROM migrate.status() WHERE version >= '004';

-- migrate functions cannot be called from inside a migration
SELECT migrate.apply('007', $$SELECT migrate.apply('008', 'SELECT 1')$$);
\echo :LAST_ERROR_SQLSTATE
SELECT migrate.apply('007', $$SELECT * FROM migrate.rollback()$$);

-- a migration may hold thousands of statements
SELECT migrate.apply('007', (SELECT string_agg(format('CREATE TABLE many_%s (id int);', i), E'\n')
                               FROM generate_series(1, 2000) i), NULL, 'many tables');
SELECT statements FROM migrate.status() WHERE version = '007';
SELECT count(*) FROM pg_class WHERE relname LIKE 'many\_%';

-- apply stores its history
SELECT id, version, name, action, performed_by, statements, out_of_order
  FROM migrate.history ORDER BY id;

-- clean up
DROP EXTENSION migrations_schema;
DROP SCHEMA app CASCADE;
DROP TABLE orders, users, t2a, t4, t5, t6;
DO $$
BEGIN
    EXECUTE (SELECT format('DROP TABLE %s', string_agg(quote_ident(relname), ', '))
               FROM pg_class WHERE relname LIKE 'many\_%' AND relkind = 'r');
END
$$;
CREATE EXTENSION migrations_schema;
