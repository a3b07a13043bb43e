-- DDL audit, trust: migrate.ddl_audit is append-only for every role, private, and
-- hash-chained; migrate.verify_audit() finds any changed, missing or relinked row; only
-- migrate.purge_audit() removes rows, and records that it did; no DDL commits without its
-- audit row; migrate.audit_health() says when the capture is switched off.
-- Ids, times, hashes and oids are never printed: a row id is shown relative to a saved one.

LOAD 'migrations_schema';
SELECT current_user AS superuser \gset
SELECT coalesce(max(id), 0) AS start FROM migrate.ddl_audit \gset
-- a problem text with the ids around row v shown as V-1, V, V+1
CREATE FUNCTION pg_temp.masked(problem text, v bigint) RETURNS text LANGUAGE sql IMMUTABLE
    AS $$ SELECT regexp_replace(regexp_replace(regexp_replace(problem,
                 '\m' || (v - 1) || '\M', 'V-1', 'g'),
                 '\m' || (v + 1) || '\M', 'V+1', 'g'),
                 '\m' || v || '\M', 'V', 'g') $$;

------------------------------------------------------------------------------------------
-- Append-only: UPDATE, DELETE and TRUNCATE are refused for the owner and superusers, also
-- under session_replication_role = replica
------------------------------------------------------------------------------------------
CREATE TABLE trust_t (a int);
SELECT max(id) AS newest FROM migrate.ddl_audit \gset
SELECT pg_get_userbyid(relowner) = current_user AS owner_is_me, current_setting('is_superuser')
    AS superuser
  FROM pg_class WHERE oid = 'migrate.ddl_audit'::regclass;
UPDATE migrate.ddl_audit SET statement = 'CREATE TABLE innocent (a int)' WHERE id = :newest;
\echo :LAST_ERROR_SQLSTATE
DELETE FROM migrate.ddl_audit WHERE id = :newest;
\echo :LAST_ERROR_SQLSTATE
TRUNCATE migrate.ddl_audit;
\echo :LAST_ERROR_SQLSTATE
SET session_replication_role = replica;
UPDATE migrate.ddl_audit SET statement = 'CREATE TABLE innocent (a int)' WHERE id = :newest;
DELETE FROM migrate.ddl_audit;
TRUNCATE migrate.ddl_audit;
RESET session_replication_role;
-- an extension member: it cannot be dropped on its own either
DROP TABLE migrate.ddl_audit;
SELECT statement FROM migrate.ddl_audit WHERE id = :newest;

------------------------------------------------------------------------------------------
-- Privileges: nothing for PUBLIC
------------------------------------------------------------------------------------------
CREATE ROLE ms_audit_nobody;
SET ROLE ms_audit_nobody;
SELECT count(*) FROM migrate.ddl_audit;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- with USAGE on the schema, every object still refuses it
GRANT USAGE ON SCHEMA migrate TO ms_audit_nobody;
SET ROLE ms_audit_nobody;
SELECT count(*) FROM migrate.ddl_audit;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO migrate.ddl_audit (id, statement_time, txid, backend_pid, session_user_name,
                               current_user_name, event, command_tag, in_extension,
                               statement_exact, hash)
VALUES (1000000, now(), '1', 1, 'x', 'x', 'create', 'CREATE TABLE', false, true, '\x00');
\echo :LAST_ERROR_SQLSTATE
UPDATE migrate.ddl_audit SET statement = NULL;
DELETE FROM migrate.ddl_audit;
TRUNCATE migrate.ddl_audit;
SELECT * FROM migrate.verify_audit();
\echo :LAST_ERROR_SQLSTATE
SELECT migrate.purge_audit(now());
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM migrate.drift();
SELECT count(*) FROM migrate.summary();
SELECT count(*) FROM migrate.audit_health();
-- the event trigger functions: not for PUBLIC either
SELECT migrate.audit_ddl_command_end();
SELECT migrate.audit_sql_drop();
SELECT migrate.audit_table_rewrite();
RESET ROLE;
-- and called directly, even by a superuser, they refuse: they are event trigger functions
SELECT migrate.audit_ddl_command_end();
\echo :LAST_ERROR_SQLSTATE
SELECT migrate.audit_sql_drop();
SELECT migrate.audit_table_rewrite();

-- a reader: SELECT on the table lets it read, and nothing more
CREATE ROLE ms_audit_reader;
GRANT USAGE ON SCHEMA migrate TO ms_audit_reader;
GRANT SELECT ON migrate.ddl_audit TO ms_audit_reader;
SET ROLE ms_audit_reader;
SELECT statement FROM migrate.ddl_audit WHERE id = :newest;
UPDATE migrate.ddl_audit SET statement = NULL WHERE id = :newest;
DELETE FROM migrate.ddl_audit WHERE id = :newest;
TRUNCATE migrate.ddl_audit;
INSERT INTO migrate.ddl_audit SELECT * FROM migrate.ddl_audit WHERE id = :newest;
SELECT * FROM migrate.verify_audit();
RESET ROLE;
-- verify_audit() granted on its own works without SELECT on the table
REVOKE SELECT ON migrate.ddl_audit FROM ms_audit_reader;
GRANT EXECUTE ON FUNCTION migrate.verify_audit() TO ms_audit_reader;
SET ROLE ms_audit_reader;
SELECT valid, problem FROM migrate.verify_audit();
SELECT count(*) FROM migrate.ddl_audit;
RESET ROLE;
-- a role granted write privileges on the table by mistake is still refused by the triggers
GRANT SELECT, UPDATE, DELETE, TRUNCATE ON migrate.ddl_audit TO ms_audit_reader;
SET ROLE ms_audit_reader;
UPDATE migrate.ddl_audit SET statement = NULL WHERE id = :newest;
DELETE FROM migrate.ddl_audit WHERE id = :newest;
TRUNCATE migrate.ddl_audit;
RESET ROLE;
SELECT statement FROM migrate.ddl_audit WHERE id = :newest;

------------------------------------------------------------------------------------------
-- The chain: every row's hash is SHA-256 over a canonical form of all its other columns,
-- prev_hash included. Recomputed here in SQL from the documented form (audit.cpp): a
-- prefix, then per column 0x00 for NULL or 0x01, a 4-byte length and the value (integers,
-- oids, xid8 and timestamps big-endian, text as bytes, bool one byte, inet and jsonb as text).
------------------------------------------------------------------------------------------
CREATE FUNCTION pg_temp.part(b bytea) RETURNS bytea LANGUAGE sql IMMUTABLE
    AS $$ SELECT CASE WHEN b IS NULL THEN '\x00'::bytea
                      ELSE '\x01'::bytea || int4send(length(b)) || b END $$;
CREATE FUNCTION pg_temp.row_hash(a migrate.ddl_audit) RETURNS bytea LANGUAGE sql STABLE AS $$
    SELECT sha256(convert_to(E'migrations_schema ddl_audit v1\n', 'SQL_ASCII')
        || pg_temp.part(int8send(a.id))
        || pg_temp.part(timestamptz_send(a.statement_time))
        || pg_temp.part(xid8send(a.txid))
        || pg_temp.part(int4send(a.backend_pid))
        || pg_temp.part(textsend(a.session_user_name::text))
        || pg_temp.part(textsend(a.current_user_name::text))
        || pg_temp.part(textsend(a.application_name))
        || pg_temp.part(textsend(CASE WHEN a.client_addr IS NOT NULL
                                      THEN format('%s', a.client_addr) END))
        || pg_temp.part(textsend(a.event))
        || pg_temp.part(textsend(a.command_tag))
        || pg_temp.part(textsend(a.object_type))
        || pg_temp.part(textsend(a.schema_name))
        || pg_temp.part(textsend(a.object_identity))
        || pg_temp.part(oidsend(a.classid))
        || pg_temp.part(oidsend(a.objid))
        || pg_temp.part(int4send(a.objsubid))
        || pg_temp.part(boolsend(a.in_extension))
        || pg_temp.part(textsend(a.statement))
        || pg_temp.part(boolsend(a.statement_exact))
        || pg_temp.part(textsend(a.migration_version))
        || pg_temp.part(textsend(a.migration_script))
        || pg_temp.part(textsend(a.detail::text))
        || pg_temp.part(a.prev_hash))
$$;
SELECT count(*) > 0 AS has_rows,
       count(*) FILTER (WHERE pg_temp.row_hash(a) <> a.hash) AS hash_mismatches,
       count(*) FILTER (WHERE a.prev_hash IS DISTINCT FROM
                              (SELECT p.hash FROM migrate.ddl_audit p WHERE p.id = a.id - 1)
                          AND a.id > (SELECT min(id) FROM migrate.ddl_audit)) AS link_mismatches,
       count(*) FILTER (WHERE length(a.hash) <> 32) AS bad_hash_lengths
  FROM migrate.ddl_audit a;
-- rows are numbered 1, 2, 3, ... without gaps, and the chain is valid
SELECT valid, rows_checked = (SELECT count(*) FROM migrate.ddl_audit) AS all_rows_checked,
       first_id = (SELECT min(id) FROM migrate.ddl_audit) AS first_ok,
       last_id = (SELECT max(id) FROM migrate.ddl_audit) AS last_ok,
       last_id - first_id + 1 = rows_checked AS no_gaps, broken_id, problem
  FROM migrate.verify_audit();

------------------------------------------------------------------------------------------
-- Tampering. A superuser can switch the append-only trigger off; the switch is itself DDL
-- and is recorded, and verify_audit() names the changed row.
------------------------------------------------------------------------------------------
CREATE TABLE trust_before (a int);
CREATE TABLE trust_victim (a int);
CREATE TABLE trust_after (a int);
SELECT id AS victim, statement AS victim_statement FROM migrate.ddl_audit
 WHERE id > :start AND object_identity = 'public.trust_victim' \gset
SELECT coalesce(max(id), 0) AS mark FROM migrate.ddl_audit \gset
BEGIN;
ALTER TABLE migrate.ddl_audit DISABLE TRIGGER ddl_audit_append_only;
-- while it is off, audit_health() says so
SELECT component, ok, detail FROM migrate.audit_health() WHERE NOT ok;
UPDATE migrate.ddl_audit SET statement = 'CREATE TABLE innocent (a int)' WHERE id = :victim;
ALTER TABLE migrate.ddl_audit ENABLE ALWAYS TRIGGER ddl_audit_append_only;
COMMIT;
SELECT valid, broken_id = :victim AS broken_is_victim, pg_temp.masked(problem, :victim) AS problem
  FROM migrate.verify_audit();
-- the audit recorded the switch, off and on again
SELECT event, command_tag, object_type, object_identity, statement
  FROM migrate.ddl_audit WHERE id > :mark ORDER BY id;
-- putting the original value back makes the chain valid again
BEGIN;
ALTER TABLE migrate.ddl_audit DISABLE TRIGGER ddl_audit_append_only;
UPDATE migrate.ddl_audit SET statement = :'victim_statement' WHERE id = :victim;
ALTER TABLE migrate.ddl_audit ENABLE ALWAYS TRIGGER ddl_audit_append_only;
COMMIT;
SELECT valid, broken_id, problem FROM migrate.verify_audit();

-- a deleted row in the middle: the chain jumps over it
CREATE TEMP TABLE saved AS SELECT * FROM migrate.ddl_audit WHERE id = :victim;
BEGIN;
ALTER TABLE migrate.ddl_audit DISABLE TRIGGER ddl_audit_append_only;
DELETE FROM migrate.ddl_audit WHERE id = :victim;
ALTER TABLE migrate.ddl_audit ENABLE ALWAYS TRIGGER ddl_audit_append_only;
COMMIT;
SELECT valid, broken_id - :victim AS broken_offset, pg_temp.masked(problem, :victim) AS problem
  FROM migrate.verify_audit();
-- rows are loaded directly only by a restore into a new database: this audit holds rows of
-- other sessions (the oldest made by the upgrade test's CREATE EXTENSION), so putting the row
-- back needs the load check switched off too (recorded as well)
INSERT INTO migrate.ddl_audit SELECT * FROM saved;
\echo :LAST_ERROR_SQLSTATE
BEGIN;
ALTER TABLE migrate.ddl_audit DISABLE TRIGGER ddl_audit_load_check;
INSERT INTO migrate.ddl_audit SELECT * FROM saved;
ALTER TABLE migrate.ddl_audit ENABLE ALWAYS TRIGGER ddl_audit_load_check;
COMMIT;
SELECT valid, broken_id, problem FROM migrate.verify_audit();

-- a changed prev_hash changes the row's own hash: the row is reported as changed
BEGIN;
ALTER TABLE migrate.ddl_audit DISABLE TRIGGER ddl_audit_append_only;
UPDATE migrate.ddl_audit SET prev_hash = sha256('forged') WHERE id = :victim;
ALTER TABLE migrate.ddl_audit ENABLE ALWAYS TRIGGER ddl_audit_append_only;
COMMIT;
SELECT valid, broken_id = :victim AS broken_is_victim, pg_temp.masked(problem, :victim) AS problem
  FROM migrate.verify_audit();
-- and with the row's hash recomputed to match, the broken link itself is reported
BEGIN;
ALTER TABLE migrate.ddl_audit DISABLE TRIGGER ddl_audit_append_only;
UPDATE migrate.ddl_audit a SET hash = pg_temp.row_hash(a) WHERE id = :victim;
ALTER TABLE migrate.ddl_audit ENABLE ALWAYS TRIGGER ddl_audit_append_only;
COMMIT;
SELECT valid, broken_id = :victim AS broken_is_victim, pg_temp.masked(problem, :victim) AS problem
  FROM migrate.verify_audit();
-- restored from the saved copy
BEGIN;
ALTER TABLE migrate.ddl_audit DISABLE TRIGGER ddl_audit_append_only;
UPDATE migrate.ddl_audit a SET prev_hash = s.prev_hash, hash = s.hash FROM saved s
 WHERE a.id = s.id;
ALTER TABLE migrate.ddl_audit ENABLE ALWAYS TRIGGER ddl_audit_append_only;
COMMIT;
SELECT valid, broken_id, problem FROM migrate.verify_audit();
SELECT count(*) AS rows_differing_from_saved
  FROM saved s JOIN migrate.ddl_audit a USING (id) WHERE (a.*)::text <> (s.*)::text;

-- rows deleted from the start of the chain without a purge: reported as missing
CREATE TEMP TABLE saved_head AS
    SELECT * FROM migrate.ddl_audit WHERE id <= (SELECT min(id) + 1 FROM migrate.ddl_audit);
SELECT min(id) + 2 AS new_first FROM migrate.ddl_audit \gset
BEGIN;
ALTER TABLE migrate.ddl_audit DISABLE TRIGGER ddl_audit_append_only;
DELETE FROM migrate.ddl_audit WHERE id IN (SELECT id FROM saved_head);
ALTER TABLE migrate.ddl_audit ENABLE ALWAYS TRIGGER ddl_audit_append_only;
COMMIT;
SELECT valid, broken_id = :new_first AS broken_is_new_first,
       pg_temp.masked(problem, :new_first) AS problem
  FROM migrate.verify_audit();
BEGIN;
ALTER TABLE migrate.ddl_audit DISABLE TRIGGER ddl_audit_load_check;
INSERT INTO migrate.ddl_audit SELECT * FROM saved_head;
ALTER TABLE migrate.ddl_audit ENABLE ALWAYS TRIGGER ddl_audit_load_check;
COMMIT;
SELECT valid, broken_id, problem FROM migrate.verify_audit();

------------------------------------------------------------------------------------------
-- No DDL commits without its audit row: when the row cannot be written, the commit fails
-- and the DDL is undone
------------------------------------------------------------------------------------------
ALTER TABLE migrate.ddl_audit ADD CONSTRAINT no_forbidden
    CHECK (object_identity IS DISTINCT FROM 'public.forbidden');
SELECT coalesce(max(id), 0) AS mark FROM migrate.ddl_audit \gset
\set VERBOSITY terse
CREATE TABLE forbidden (a int);
\echo :LAST_ERROR_SQLSTATE
SELECT to_regclass('forbidden') AS forbidden;
-- in a transaction block the COMMIT fails, and the other DDL of the transaction goes too
BEGIN;
CREATE TABLE allowed (a int);
CREATE TABLE forbidden (a int);
COMMIT;
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
SELECT to_regclass('allowed') AS allowed, to_regclass('forbidden') AS forbidden;
SELECT count(*) AS rows_written FROM migrate.ddl_audit WHERE id > :mark;
ALTER TABLE migrate.ddl_audit DROP CONSTRAINT no_forbidden;
-- no id was used up by the failed commits
SELECT valid, last_id - first_id + 1 = rows_checked AS no_gaps FROM migrate.verify_audit();
SELECT object_identity, statement FROM migrate.ddl_audit WHERE id > :mark ORDER BY id;

------------------------------------------------------------------------------------------
-- purge_audit(older_than): superusers only, never NULL; deletes the oldest rows (never the
-- newest) and appends a 'purge' row that lets verify_audit() accept the new start
------------------------------------------------------------------------------------------
SELECT migrate.purge_audit(NULL);
\echo :LAST_ERROR_SQLSTATE
GRANT EXECUTE ON FUNCTION migrate.purge_audit(timestamptz) TO ms_audit_reader;
SET ROLE ms_audit_reader;
SELECT migrate.purge_audit(now());
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
REVOKE EXECUTE ON FUNCTION migrate.purge_audit(timestamptz) FROM ms_audit_reader;
-- a purge rolled back deletes nothing and records nothing
SELECT count(*) AS rows_before FROM migrate.ddl_audit \gset
BEGIN;
SELECT migrate.purge_audit(now()) > 0 AS deleted_some;
ROLLBACK;
SELECT count(*) = :rows_before AS nothing_deleted FROM migrate.ddl_audit;

-- two batches of DDL with a cut between them
CREATE TABLE purge_old (a int);
SELECT clock_timestamp() AS cut \gset
CREATE TABLE purge_new (a int);
ALTER TABLE purge_new ADD COLUMN b int;
SELECT min(id) AS first_before FROM migrate.ddl_audit \gset
SELECT id AS first_kept FROM migrate.ddl_audit
 WHERE id > :start AND object_identity = 'public.purge_new' AND event = 'create' \gset
SELECT max(id) AS last_before FROM migrate.ddl_audit \gset
SELECT migrate.purge_audit(:'cut') = :first_kept - :first_before AS deleted_everything_older;
SELECT min(id) = :first_kept AS first_is_first_kept, max(id) = :last_before + 1 AS one_row_added
  FROM migrate.ddl_audit;
-- the purge row: what, who, and the range deleted with the hash of its last row
SELECT event, command_tag, object_type, schema_name, object_identity, statement_exact,
       statement LIKE 'SELECT migrate.purge_audit(%' AS statement_is_the_call, in_extension,
       migration_version
  FROM migrate.ddl_audit WHERE id = :last_before + 1;
SELECT jsonb_object_keys(detail) AS detail_key FROM migrate.ddl_audit WHERE id = :last_before + 1
 ORDER BY 1;
SELECT (detail ->> 'deleted')::bigint = :first_kept - :first_before AS deleted_ok,
       (detail ->> 'first_deleted_id')::bigint = :first_before AS first_ok,
       (detail ->> 'last_deleted_id')::bigint = :first_kept - 1 AS last_ok,
       (detail ->> 'older_than')::timestamptz = :'cut' AS older_than_ok,
       detail ->> 'last_deleted_hash' ~ '^[0-9a-f]{64}$' AS hash_is_hex
  FROM migrate.ddl_audit WHERE id = :last_before + 1;
SELECT valid, first_id = :first_kept AS first_is_first_kept, broken_id, problem
  FROM migrate.verify_audit();
-- the purge row accounts for exactly the rows it deleted: one more missing row is reported
CREATE TEMP TABLE saved_kept AS SELECT * FROM migrate.ddl_audit WHERE id = :first_kept;
BEGIN;
ALTER TABLE migrate.ddl_audit DISABLE TRIGGER ddl_audit_append_only;
DELETE FROM migrate.ddl_audit WHERE id = :first_kept;
ALTER TABLE migrate.ddl_audit ENABLE ALWAYS TRIGGER ddl_audit_append_only;
COMMIT;
SELECT valid, broken_id - :first_kept AS broken_offset,
       pg_temp.masked(problem, :first_kept + 1) AS problem
  FROM migrate.verify_audit();
BEGIN;
ALTER TABLE migrate.ddl_audit DISABLE TRIGGER ddl_audit_load_check;
INSERT INTO migrate.ddl_audit SELECT * FROM saved_kept;
ALTER TABLE migrate.ddl_audit ENABLE ALWAYS TRIGGER ddl_audit_load_check;
COMMIT;
SELECT valid, broken_id, problem FROM migrate.verify_audit();
-- the purge row is not drift
SELECT count(*) AS purge_rows_in_drift FROM migrate.drift() WHERE event = 'purge';

-- a purge of everything keeps the newest row: the head the next row links to
SELECT max(id) AS newest FROM migrate.ddl_audit \gset
SELECT migrate.purge_audit(now() + interval '1 day') = :newest - :first_kept AS deleted_all_but_newest;
SELECT id - :newest AS id_offset, event FROM migrate.ddl_audit ORDER BY id;
SELECT valid, rows_checked, first_id = :newest AS first_is_newest, broken_id, problem
  FROM migrate.verify_audit();
-- nothing left to delete: 0, still recorded, chain still valid
SELECT migrate.purge_audit(now() - interval '1 day') AS deleted;
SELECT event, detail - 'older_than' AS detail FROM migrate.ddl_audit
 WHERE id = (SELECT max(id) FROM migrate.ddl_audit);
SELECT valid, rows_checked, broken_id, problem FROM migrate.verify_audit();
-- and the chain goes on from there
DROP TABLE purge_old, purge_new;
SELECT valid, rows_checked, broken_id, problem FROM migrate.verify_audit();

------------------------------------------------------------------------------------------
-- migrations_schema.audit: a superuser may switch the audit off for a session (a restore);
-- nobody else can, not even by setting it before the library is loaded
------------------------------------------------------------------------------------------
SELECT coalesce(max(id), 0) AS mark FROM migrate.ddl_audit \gset
SET migrations_schema.audit = off;
SELECT component, ok, detail FROM migrate.audit_health() WHERE NOT ok;
SELECT audit_ok FROM migrate.summary();
CREATE TABLE trust_unaudited (a int);
RESET migrations_schema.audit;
DROP TABLE trust_unaudited;
SELECT event, object_identity FROM migrate.ddl_audit WHERE id > :mark ORDER BY id;
GRANT CREATE ON SCHEMA public TO ms_audit_nobody;
SET ROLE ms_audit_nobody;
SET migrations_schema.audit = off;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- in a new session, before the library is loaded, the setting is only a placeholder: when the
-- library loads (at the first DDL) the role's value is refused (a WARNING, hidden here) and
-- the DDL is recorded
\c -
SET client_min_messages = error;
SET ROLE ms_audit_nobody;
DO $$
BEGIN
    PERFORM set_config('migrations_schema.audit', 'off', false);
EXCEPTION WHEN insufficient_privilege THEN
    NULL;
END
$$;
CREATE TABLE trust_sneaky (a int);
SHOW migrations_schema.audit;
RESET ROLE;
RESET client_min_messages;
SELECT event, object_identity, current_user_name FROM migrate.ddl_audit
 WHERE id > :mark AND object_identity LIKE 'public.trust%' AND current_user_name <> :'superuser'
 ORDER BY id;
DROP TABLE trust_sneaky;
REVOKE CREATE ON SCHEMA public FROM ms_audit_nobody;
LOAD 'migrations_schema';

------------------------------------------------------------------------------------------
-- audit_health(): every component ok; a disabled event trigger, or one enabled only in
-- origin mode, or an append-only trigger not enabled always, is reported
------------------------------------------------------------------------------------------
SELECT component, ok, detail FROM migrate.audit_health() WHERE component <> 'statement capture';
SELECT audit_ok FROM migrate.summary();
SELECT coalesce(max(id), 0) AS mark FROM migrate.ddl_audit \gset
ALTER EVENT TRIGGER migrate_audit_sql_drop DISABLE;
SELECT component, ok, detail FROM migrate.audit_health() WHERE NOT ok;
SELECT audit_ok FROM migrate.summary();
-- which is why it matters: drops are not recorded now
DROP TABLE trust_t;
SELECT count(*) AS rows_while_disabled FROM migrate.ddl_audit WHERE id > :mark;
ALTER EVENT TRIGGER migrate_audit_sql_drop ENABLE ALWAYS;
SELECT component, ok, detail FROM migrate.audit_health() WHERE NOT ok;
-- enabled in origin mode only: DDL under session_replication_role = replica is not recorded
ALTER EVENT TRIGGER migrate_audit_sql_drop ENABLE;
SELECT component, ok, detail FROM migrate.audit_health() WHERE NOT ok;
SET session_replication_role = replica;
DROP TABLE trust_before;
RESET session_replication_role;
DROP TABLE trust_after;
SELECT event, object_identity FROM migrate.ddl_audit WHERE id > :mark ORDER BY id;
ALTER EVENT TRIGGER migrate_audit_sql_drop ENABLE REPLICA;
SELECT component, ok, detail FROM migrate.audit_health() WHERE NOT ok;
ALTER EVENT TRIGGER migrate_audit_sql_drop ENABLE ALWAYS;
-- the append-only triggers
ALTER TABLE migrate.ddl_audit ENABLE TRIGGER ddl_audit_no_truncate;
SELECT component, ok, detail FROM migrate.audit_health() WHERE NOT ok;
ALTER TABLE migrate.ddl_audit ENABLE ALWAYS TRIGGER ddl_audit_no_truncate;
ALTER TABLE migrate.ddl_audit DISABLE TRIGGER ddl_audit_load_check;
SELECT component, ok, detail FROM migrate.audit_health() WHERE NOT ok;
ALTER TABLE migrate.ddl_audit ENABLE ALWAYS TRIGGER ddl_audit_load_check;
SELECT bool_and(ok) AS all_ok FROM migrate.audit_health();
SELECT audit_ok FROM migrate.summary();

SELECT valid, broken_id, problem FROM migrate.verify_audit();
DROP TABLE trust_victim;
REVOKE ALL ON migrate.ddl_audit FROM ms_audit_reader;
REVOKE ALL ON FUNCTION migrate.verify_audit() FROM ms_audit_reader;
REVOKE USAGE ON SCHEMA migrate FROM ms_audit_nobody, ms_audit_reader;
DROP ROLE ms_audit_nobody, ms_audit_reader;
