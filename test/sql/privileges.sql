-- Privileges: PUBLIC gets nothing; what changes anything needs an explicit grant; the
-- bookkeeping tables cannot be written directly by ordinary roles.

-- nothing in schema migrate is executable by PUBLIC, nothing is writable by PUBLIC
SELECT p.oid::regprocedure AS function_executable_by_public
  FROM pg_proc p
 WHERE p.pronamespace = 'migrate'::regnamespace
   AND (p.proacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(p.proacl) a WHERE a.grantee = 0));
SELECT c.relname, a.privilege_type
  FROM pg_class c, aclexplode(c.relacl) a
 WHERE c.relnamespace = 'migrate'::regnamespace AND a.grantee = 0;
SELECT nspacl IS NULL OR NOT EXISTS (SELECT 1 FROM aclexplode(nspacl) a WHERE a.grantee = 0)
    AS schema_private
  FROM pg_namespace WHERE nspname = 'migrate';
-- functions written in SQL pin their search_path
SELECT p.oid::regprocedure, p.proconfig FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.pronamespace = 'migrate'::regnamespace AND l.lanname <> 'c'
 ORDER BY p.proname;

CREATE ROLE ms_nobody LOGIN;
CREATE ROLE ms_deploy LOGIN;
CREATE ROLE ms_reader LOGIN;
CREATE SCHEMA ms_app AUTHORIZATION ms_deploy;

-- an unprivileged role is refused everything
SET ROLE ms_nobody;
SELECT migrate.apply('001', 'CREATE TABLE ms_app.t1 (id int);');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate.status();
SELECT * FROM migrate.history;
RESET ROLE;
GRANT USAGE ON SCHEMA migrate TO ms_nobody;
SET ROLE ms_nobody;
SELECT migrate.apply('001', 'CREATE TABLE ms_app.t1 (id int);');
\echo :LAST_ERROR_SQLSTATE
SELECT migrate.register('001', 'CREATE TABLE ms_app.t1 (id int);');
SELECT * FROM migrate.apply();
SELECT * FROM migrate.rollback();
SELECT * FROM migrate.rollback('001');
SELECT * FROM migrate.status();
INSERT INTO migrate.history (version, action, checksum, performed_at, performed_by)
VALUES ('001', 'apply', 'x', now(), 'me');
\echo :LAST_ERROR_SQLSTATE
UPDATE migrate.migrations SET state = 'applied';
DELETE FROM migrate.migrations;
RESET ROLE;

-- a deploy role: USAGE on the schema and EXECUTE on the functions that change things. It
-- needs no privilege on the bookkeeping tables: the extension writes them itself.
GRANT USAGE ON SCHEMA migrate TO ms_deploy;
GRANT EXECUTE ON FUNCTION migrate.apply(text, text, text, text, boolean, text[], boolean),
                          migrate.register(text, text, text, text, text),
                          migrate.apply(text, boolean, text[], boolean),
                          migrate.rollback(integer, text[]),
                          migrate.rollback(text, text[]) TO ms_deploy;
SET ROLE ms_deploy;
SELECT migrate.apply('001', 'CREATE TABLE ms_app.t1 (id int);', 'DROP TABLE ms_app.t1;', 't1');
SELECT migrate.register('002', 'CREATE TABLE ms_app.t2 (id int);', 'DROP TABLE ms_app.t2;', 't2');
SELECT version FROM migrate.apply();
SELECT version FROM migrate.rollback();
-- the migration's statements run as the caller, with the caller's privileges
SELECT migrate.apply('003', 'CREATE TABLE public.not_mine (id int);');
\echo :LAST_ERROR_SQLSTATE
-- but the deploy role still cannot touch the bookkeeping directly
SELECT * FROM migrate.history;
UPDATE migrate.migrations SET state = 'pending';
RESET ROLE;
SELECT relname, pg_get_userbyid(relowner) AS owner FROM pg_class
 WHERE relnamespace = 'ms_app'::regnamespace ORDER BY 1;
SELECT version, state, applied_by FROM migrate.status();
SELECT version, action, performed_by FROM migrate.history ORDER BY id;

-- a reader role: status and history, nothing else
GRANT USAGE ON SCHEMA migrate TO ms_reader;
GRANT EXECUTE ON FUNCTION migrate.status() TO ms_reader;
GRANT SELECT ON migrate.migrations, migrate.history, migrate.steps, migrate.repeatables TO ms_reader;
SET ROLE ms_reader;
SELECT version, state FROM migrate.status();
SELECT count(*) FROM migrate.history;
SELECT migrate.apply('004', 'SELECT 1');
RESET ROLE;

-- the status function ignores the caller's search_path
CREATE SCHEMA evil;
CREATE TABLE evil.migrations (version text, sort_key bytea, name text, state text,
                              applied_at timestamptz, applied_by text, duration_ms float8,
                              statements int, checksum text);
INSERT INTO evil.migrations VALUES ('666', '', 'fake', 'applied');
SET search_path = evil, public;
SELECT version FROM migrate.status();
RESET search_path;

DROP SCHEMA evil CASCADE;
DROP SCHEMA ms_app CASCADE;
DROP EXTENSION migrations_schema;
REVOKE USAGE ON SCHEMA migrate FROM ms_nobody, ms_deploy, ms_reader;

-- Default privileges grant nothing on the extension's objects: write access to its tables
-- (a down script, a queued step) would be the power to run SQL as the next one to migrate.
ALTER DEFAULT PRIVILEGES GRANT ALL ON TABLES TO ms_nobody;
ALTER DEFAULT PRIVILEGES GRANT ALL ON SEQUENCES TO ms_nobody;
ALTER DEFAULT PRIVILEGES GRANT ALL ON FUNCTIONS TO ms_nobody;
ALTER DEFAULT PRIVILEGES GRANT ALL ON SCHEMAS TO ms_nobody;
CREATE EXTENSION migrations_schema;
SELECT c.relname, has_table_privilege('ms_nobody', c.oid,
           'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER') AS any_privilege
  FROM pg_class c
 WHERE c.relnamespace = 'migrate'::regnamespace AND c.relkind IN ('r', 'S')
 ORDER BY 1;
SELECT count(*) AS functions_ms_nobody_may_execute
  FROM pg_proc p
 WHERE p.pronamespace = 'migrate'::regnamespace
   AND has_function_privilege('ms_nobody', p.oid, 'EXECUTE')
   AND p.proname <> 'audit_preloaded';
SELECT has_schema_privilege('ms_nobody', 'migrate', 'USAGE') AS usage,
       has_schema_privilege('ms_nobody', 'migrate', 'CREATE') AS "create";
GRANT USAGE ON SCHEMA migrate TO ms_nobody;
SET ROLE ms_nobody;
INSERT INTO migrate.steps (queue_seq, position, version, direction, run_as, search_path,
                           lock_timeout, lock_retries, lock_retry_delay)
VALUES (1, 1, '1', 'up', 'postgres', 'public', 1, 1, 1);
UPDATE migrate.migrations SET down_sql = 'ALTER ROLE ms_nobody SUPERUSER';
RESET ROLE;
ALTER DEFAULT PRIVILEGES REVOKE ALL ON TABLES FROM ms_nobody;
ALTER DEFAULT PRIVILEGES REVOKE ALL ON SEQUENCES FROM ms_nobody;
ALTER DEFAULT PRIVILEGES REVOKE ALL ON FUNCTIONS FROM ms_nobody;
ALTER DEFAULT PRIVILEGES REVOKE ALL ON SCHEMAS FROM ms_nobody;
REVOKE USAGE ON SCHEMA migrate FROM ms_nobody;
DROP EXTENSION migrations_schema;
DROP ROLE ms_nobody, ms_deploy, ms_reader;
CREATE EXTENSION migrations_schema;
