-- Steps after commit: statements PostgreSQL refuses in a transaction block (CREATE INDEX
-- CONCURRENTLY and friends), and everything after the first of them in a script, run in the
-- migrations_schema worker after the caller's transaction commits, each in a transaction of
-- its own. CALL migrate.wait() waits for them.
SET client_min_messages = notice;
CREATE TABLE st_t (id int PRIMARY KEY, v int, w text);
INSERT INTO st_t SELECT g, g % 100, 'x' || g FROM generate_series(1, 5000) g;
CREATE FUNCTION st_status() RETURNS TABLE (version text, state text, done int, total int,
                                           error text)
    LANGUAGE sql AS $$
        SELECT version, state, steps_done, steps_total, error FROM migrate.status()
    $$;
CREATE FUNCTION st_indexes() RETURNS TABLE (index name, valid boolean)
    LANGUAGE sql AS $$
        SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
         WHERE i.indrelid = 'st_t'::regclass ORDER BY 1
    $$;

-- 1. Where each statement runs
SELECT statement, command, runs FROM migrate.split($$
CREATE TABLE st_a (id int);
BEGIN;
ALTER TABLE st_a ADD b int;
COMMIT;
SET lock_timeout = '3s';
CREATE INDEX CONCURRENTLY st_t_v ON st_t (v);
ALTER TABLE st_a ADD c int;
BEGIN;
ALTER TABLE st_a ADD d int;
ALTER TABLE st_a ADD e int;
COMMIT;
VACUUM st_a;
$$);
-- CONCURRENTLY inside a block, nested blocks, an open block, other transaction control
SELECT * FROM migrate.split('BEGIN; CREATE INDEX CONCURRENTLY x ON st_t (v); COMMIT;');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate.split('BEGIN; BEGIN; SELECT 1; COMMIT; COMMIT;');
SELECT * FROM migrate.split('VACUUM st_t; BEGIN; SELECT 1;');
SELECT * FROM migrate.split('CREATE INDEX CONCURRENTLY x ON st_t (v); SAVEPOINT s;');

-- 2. A migration with steps: its transactional part in the caller's transaction, its steps
--    after commit. apply() says 'applying'; status() shows the steps.
--    (Looked at before COMMIT: the worker starts at commit and could otherwise be faster.)
BEGIN;
SELECT migrate.apply('001', $$
CREATE TABLE st_a (id int);
SET lock_timeout = '3s';
CREATE INDEX CONCURRENTLY st_t_v ON st_t (v);
ALTER TABLE st_a ADD b int;
$$, $$
DROP INDEX CONCURRENTLY st_t_v;
DROP TABLE st_a;
$$, 'steps');
SELECT version, state, total FROM st_status();
SELECT position, state, statements, numbers, lines, settings, run_as, lock_timeout
  FROM migrate.steps ORDER BY position;
COMMIT;
CALL migrate.wait();
SELECT * FROM st_status();
SELECT * FROM st_indexes();
SELECT attname FROM pg_attribute WHERE attrelid = 'st_a'::regclass AND attnum > 0 ORDER BY 1;
SELECT version, action FROM migrate.history ORDER BY id;
-- the audit records the steps' DDL with the migration
SELECT command_tag, object_identity, migration_version, migration_script, statement
  FROM migrate.ddl_audit WHERE migration_version = '001' ORDER BY id;

-- 3. Waiting inside a transaction block would wait for ever: CREATE INDEX CONCURRENTLY waits
--    for every older transaction, the waiting one included. Refused.
BEGIN;
CALL migrate.wait();
ROLLBACK;
\echo :LAST_ERROR_SQLSTATE

-- 4. One call, several migrations: those after a migration with steps are queued behind its
--    steps and run after them, in version order.
SELECT migrate.register('002', 'CREATE INDEX CONCURRENTLY st_t_w ON st_t (w);',
                        'DROP INDEX CONCURRENTLY st_t_w;', 'w index');
SELECT migrate.register('003', 'CREATE TABLE st_c (id int);', 'DROP TABLE st_c;', 'c');
SELECT migrate.register('004', 'ALTER TABLE st_c ADD x int;', 'ALTER TABLE st_c DROP x;', 'x');
BEGIN;
SELECT version, statements FROM migrate.apply();
SELECT version, state FROM st_status();
COMMIT;
CALL migrate.wait();
SELECT version, state FROM st_status();
SELECT queue_seq, position, version, state FROM migrate.steps ORDER BY queue_seq, position;
SELECT version, action FROM migrate.history WHERE version > '001' ORDER BY id;
-- a migration applied while others are on their way is queued too (005's second step waits
-- for an advisory lock this session holds, so that its steps are still on their way)
SELECT pg_advisory_lock(7, 5);
SELECT migrate.apply('005', $$CREATE INDEX CONCURRENTLY st_t_vw ON st_t (v, w);
SELECT pg_advisory_xact_lock(7, 5);$$, 'DROP INDEX CONCURRENTLY st_t_vw;');
SELECT migrate.apply('006', 'CREATE TABLE st_d (id int);', 'DROP TABLE st_d;');
SELECT migrate.apply('005', $$CREATE INDEX CONCURRENTLY st_t_vw ON st_t (v, w);
SELECT pg_advisory_xact_lock(7, 5);$$);
SELECT pg_advisory_unlock(7, 5);
CALL migrate.wait('006');
SELECT version, state FROM st_status() WHERE version >= '005';

-- 5. A failing step: a unique index over duplicates. No INVALID index is left, the migration
--    is failed with the error, and later migrations wait until it is retried or rolled back.
SELECT migrate.apply('007', 'CREATE UNIQUE INDEX CONCURRENTLY st_t_v_key ON st_t (v);',
                     'DROP INDEX CONCURRENTLY st_t_v_key;', 'unique v');
CALL migrate.wait();
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM st_status() WHERE version = '007';
SELECT * FROM st_indexes();
SELECT error->>'sqlstate' AS sqlstate, error->>'statement' AS statement, error->>'sql' AS sql
  FROM migrate.steps WHERE state = 'failed';
SELECT migrate.apply('008', 'CREATE TABLE st_e (id int);');
\echo :LAST_ERROR_SQLSTATE
-- fix the data, retry: it builds, and the migration is applied
UPDATE st_t SET v = id;
SELECT migrate.retry();
CALL migrate.wait();
SELECT * FROM st_status() WHERE version = '007';
SELECT * FROM st_indexes();
SELECT version, action FROM migrate.history WHERE version = '007' ORDER BY id;
SELECT migrate.retry();
\echo :LAST_ERROR_SQLSTATE

-- 6. A failed migration rolled back instead: what was queued behind it goes back to pending,
--    and its down script runs (its steps too).
UPDATE st_t SET w = 'same' WHERE id < 3;
BEGIN;
SELECT migrate.apply('008', 'CREATE UNIQUE INDEX CONCURRENTLY st_t_w_key ON st_t (w);',
                     'DROP INDEX CONCURRENTLY IF EXISTS st_t_w_key;');
SELECT migrate.apply('009', 'CREATE TABLE st_f (id int);', 'DROP TABLE st_f;');
COMMIT;
CALL migrate.wait();
SELECT version, state, error FROM st_status() WHERE version >= '008';
SELECT version FROM migrate.rollback();
CALL migrate.wait();
SELECT version, state FROM st_status() WHERE version >= '008';
SELECT * FROM st_indexes();

-- 7. A new enum value used in the same script: PostgreSQL refuses it before it commits
--    (55P04), so the statement that uses it, and what follows, run after commit.
CREATE TYPE st_mood AS ENUM ('sad', 'ok');
CREATE TABLE st_m (id int, mood st_mood);
SELECT migrate.apply('010', $$
ALTER TYPE st_mood ADD VALUE 'happy';
INSERT INTO st_m VALUES (1, 'happy');
UPDATE st_m SET mood = 'happy' WHERE mood = 'ok';
$$);
CALL migrate.wait();
SELECT * FROM st_m;
SELECT position, statements FROM migrate.steps WHERE version = '010' ORDER BY position;

-- 8. The steps run as the role that applied the migration, with its search_path.
CREATE ROLE st_deploy;
CREATE SCHEMA st_app AUTHORIZATION st_deploy;
GRANT USAGE ON SCHEMA migrate TO st_deploy;
GRANT EXECUTE ON FUNCTION migrate.apply(text, text, text, text, boolean, text[], boolean) TO st_deploy;
SET ROLE st_deploy;
SET search_path = st_app, public;
SELECT migrate.apply('011', $$
CREATE TABLE st_owned (id int);
CREATE INDEX CONCURRENTLY st_owned_id ON st_owned (id);
CREATE TABLE st_after (id int);
$$);
-- nobody but the extension writes the queue
INSERT INTO migrate.steps (queue_seq, position, version, direction, run_as, search_path,
                           lock_timeout, lock_retries, lock_retry_delay)
VALUES (1, 9, '011', 'up', 'postgres', 'public', 1, 1, 1);
UPDATE migrate.steps SET run_as = 'postgres';
RESET ROLE;
RESET search_path;
CALL migrate.wait();
SELECT c.relname, pg_get_userbyid(c.relowner) AS owner, n.nspname
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relname IN ('st_owned', 'st_owned_id', 'st_after') ORDER BY 1;
SELECT DISTINCT current_user_name FROM migrate.ddl_audit WHERE migration_version = '011';

-- 9. statement_timeout: the caller's does not cut a step short (the step sleeps longer than
--    the caller's timeout); the script's own does.
SET statement_timeout = '100ms';
SELECT migrate.apply('013', $$CREATE INDEX CONCURRENTLY st_t_id_w ON st_t (id, w);
SELECT pg_sleep(0.3);$$);
RESET statement_timeout;
CALL migrate.wait('013');
SELECT version, state, error FROM st_status() WHERE version = '013';
SELECT migrate.apply('014', $$
SET statement_timeout = '1ms';
CREATE INDEX CONCURRENTLY st_t_w_id ON st_t (w, id);
$$, 'DROP INDEX CONCURRENTLY IF EXISTS st_t_w_id;');
-- (a script's plain SET stays in the caller's session, as any function's does)
RESET statement_timeout;
CALL migrate.wait('014');
SELECT version, state, error FROM st_status() WHERE version = '014';
SELECT to_regclass('st_t_w_id') AS no_invalid_index;
SELECT version FROM migrate.rollback();
CALL migrate.wait();

-- 10. A transaction that queued steps cannot be prepared (two-phase commit).
BEGIN;
SELECT migrate.apply('015', 'VACUUM st_t;');
PREPARE TRANSACTION 'st_2pc';
SELECT count(*) AS steps_of_015 FROM migrate.steps WHERE version = '015';

-- 11. A rolled-back caller starts nothing and leaves nothing.
BEGIN;
SELECT migrate.apply('016', 'CREATE INDEX CONCURRENTLY st_t_w2 ON st_t (w);');
ROLLBACK;
SELECT count(*) AS steps_of_016 FROM migrate.steps WHERE version = '016';
SELECT to_regclass('st_t_w2') AS index_016;

-- 12. A failed down step: only retry() gets it out (rolling back again would run the same
--     down script), and its down script cannot change while its steps hold a copy of it.
SELECT migrate.apply('017', 'CREATE INDEX CONCURRENTLY st_t_17 ON st_t (id);',
                     'DROP INDEX CONCURRENTLY st_t_17_typo;', 'seventeen');
CALL migrate.wait();
SELECT version FROM migrate.rollback();
CALL migrate.wait();
\echo :LAST_ERROR_SQLSTATE
SELECT version, state, error FROM st_status() WHERE version = '017';
SELECT version FROM migrate.rollback();
\echo :LAST_ERROR_SQLSTATE
SELECT migrate.register('017', 'CREATE INDEX CONCURRENTLY st_t_17 ON st_t (id);',
                        'DROP INDEX CONCURRENTLY st_t_17;');
\echo :LAST_ERROR_SQLSTATE
SELECT migrate.register('017', 'CREATE INDEX CONCURRENTLY st_t_17 ON st_t (id);');
CREATE INDEX st_t_17_typo ON st_t (id);
SELECT migrate.retry();
CALL migrate.wait();
SELECT version, state FROM st_status() WHERE version = '017';
SELECT to_regclass('st_t_17') AS index_017_kept, to_regclass('st_t_17_typo') AS typo_dropped;
-- rolled back: a new down script may be stored again
SELECT migrate.register('017', 'CREATE INDEX CONCURRENTLY st_t_17 ON st_t (id);',
                        'DROP INDEX CONCURRENTLY st_t_17;');
DROP INDEX st_t_17;

-- 13. The index of a failed step is found with the step's own search_path: a table named
--     without its schema, in a schema only the caller's search_path has.
CREATE SCHEMA st_sp;
CREATE TABLE st_sp.d (x int);
INSERT INTO st_sp.d VALUES (1), (1);
SET search_path = st_sp;
SELECT migrate.apply('018', 'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS d_x ON d (x);');
RESET search_path;
CALL migrate.wait();
SELECT count(*) AS indexes_left FROM pg_index WHERE indrelid = 'st_sp.d'::regclass;
DELETE FROM st_sp.d WHERE ctid = (SELECT max(ctid) FROM st_sp.d);
SELECT migrate.retry();
CALL migrate.wait();
SELECT version, state FROM st_status() WHERE version = '018';
SELECT indexrelid::regclass AS index, indisvalid FROM pg_index WHERE indrelid = 'st_sp.d'::regclass;
DROP SCHEMA st_sp CASCADE;

-- 14. A migration queued for rollback behind another one's down steps keeps the down script
--     queued with it: register() refuses a new one until it is rolled back.
SELECT migrate.apply('019', 'CREATE TABLE st_19 (id int);', 'DROP TABLE st_19;');
SELECT migrate.apply('020', 'CREATE INDEX CONCURRENTLY st_19_id ON st_19 (id);',
                     'DROP INDEX CONCURRENTLY st_19_id;');
CALL migrate.wait();
BEGIN;
SELECT version FROM migrate.rollback(2);
SELECT version, state FROM st_status() WHERE version IN ('019', '020');
SELECT migrate.register('019', 'CREATE TABLE st_19 (id int);', 'SELECT 1/0;');
ROLLBACK;
SELECT version FROM migrate.rollback(2);
CALL migrate.wait();
SELECT version, state FROM st_status() WHERE version IN ('019', '020');
SELECT to_regclass('st_19') AS table_19;

-- 15. Bad input
CALL migrate.wait('999');
CALL migrate.wait(timeout => '-1 s');
CALL migrate.wait(NULL, NULL);
SELECT migrate.retry('999');

DROP SCHEMA st_app CASCADE;
REVOKE ALL ON SCHEMA migrate FROM st_deploy;
REVOKE ALL ON FUNCTION migrate.apply(text, text, text, text, boolean, text[], boolean) FROM st_deploy;
DROP ROLE st_deploy;
