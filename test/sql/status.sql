-- migrate.status() and migrate.history: what is known, what happened.
SELECT * FROM migrate.status();

SELECT migrate.register('002', 'CREATE TABLE s2 (id int);', 'DROP TABLE s2;', 'second');
SELECT migrate.apply('001', 'CREATE TABLE s1 (id int); CREATE INDEX ON s1 (id);', 'DROP TABLE s1;', 'first');
SELECT migrate.register('003', 'CREATE TABLE s3 (id int);', 'DROP TABLE s3;', 'third');
SELECT version FROM migrate.apply(to_version => '002');
SELECT version FROM migrate.rollback();
-- one row per known migration in version order, with state, who/when, duration, statements
SELECT version, name, state, applied_at IS NOT NULL AS has_applied_at, applied_by,
       duration_ms >= 0 AS has_duration, statements, checksum
  FROM migrate.status();
SELECT pg_typeof(applied_at) AS applied_at, pg_typeof(duration_ms) AS duration_ms,
       applied_at = date_trunc('second', applied_at) AS whole_seconds
  FROM migrate.status() WHERE state = 'applied';

-- history: what, who, when, how long, which transaction
SELECT id, version, name, action, performed_by, statements, out_of_order,
       performed_at <= now() AS performed_at_ok, duration_ms >= 0 AS has_duration,
       txid IS NOT NULL AS has_txid
  FROM migrate.history ORDER BY id;
BEGIN;
SELECT migrate.apply('003', 'CREATE TABLE s3 (id int);', 'DROP TABLE s3;', 'third');
SELECT txid = pg_current_xact_id() AS same_transaction FROM migrate.history
 WHERE version = '003';
COMMIT;

-- history is append-only, for every role, the owner and superusers included
UPDATE migrate.history SET performed_by = 'someone else';
\echo :LAST_ERROR_SQLSTATE
DELETE FROM migrate.history WHERE version = '003';
TRUNCATE migrate.history;
SET session_replication_role = replica;
DELETE FROM migrate.history;
RESET session_replication_role;
SELECT count(*) AS history_rows FROM migrate.history;

-- pg_dump keeps the history: both tables and the id sequence are extension configuration
SELECT unnest(extconfig)::regclass AS dumped FROM pg_extension
 WHERE extname = 'migrations_schema' ORDER BY 1;

DROP TABLE s1, s3;
DROP EXTENSION migrations_schema;
CREATE EXTENSION migrations_schema;
