-- DDL audit, capture: every DDL change is recorded in migrate.ddl_audit at commit, one row per
-- object, with the statement that did it, who did it and, inside a migration, which one.
-- Each case takes the newest id first (\gset start) and looks only at the rows after it; no
-- time, transaction id, pid, hash or oid is printed.

------------------------------------------------------------------------------------------
-- The statement text of the first DDL of a session. Unless the library is preloaded, it is
-- loaded on first use: in a new session that is the first event trigger call, after the first
-- DDL statement has started, so the ProcessUtility hook did not see that statement. The
-- statement is then looked for in the client's query string by its parse tree; when that is
-- ambiguous (here: two CREATE TABLE in one string) the row holds the whole client string with
-- statement_exact = false. With the library preloaded the text is exact. The checks below hold
-- either way: every row either carries exactly the statement that made it, or says it does not.
-- Each case runs in a new session (\c -).
------------------------------------------------------------------------------------------
SELECT coalesce(max(id), 0) AS start FROM migrate.ddl_audit \gset
CREATE TABLE cap_first (a int) \; CREATE TABLE cap_second (a int);
SELECT object_identity,
       CASE WHEN statement_exact THEN statement = 'CREATE TABLE ' || relname || ' (a int)'
            ELSE statement = 'CREATE TABLE cap_first (a int) ; CREATE TABLE cap_second (a int)'
       END AS text_agrees_with_flag
  FROM migrate.ddl_audit, split_part(object_identity, '.', 2) AS relname
 WHERE id > :start ORDER BY id;
-- the second statement ran after the library was loaded: exact in any case
SELECT statement_exact, statement FROM migrate.ddl_audit
 WHERE id > :start AND object_identity = 'public.cap_second';

-- a function that makes DDL, for the sessions below
CREATE FUNCTION cap_make_table(n text) RETURNS void LANGUAGE plpgsql
    AS $$BEGIN EXECUTE format('CREATE TABLE %I (a int)', n); END$$;

-- not ambiguous: the first DDL of the string is found by its parse tree (a COMMENT keeps its
-- tree as parsed; a CREATE TABLE would not: it fills in its schema while it runs); exact
-- either way
CREATE TABLE cap_unambiguous (a int);
\c -
SELECT coalesce(max(id), 0) AS start FROM migrate.ddl_audit \gset
SELECT 1 AS one \; COMMENT ON TABLE cap_unambiguous IS 'found' \; CREATE INDEX cap_unambiguous_a ON cap_unambiguous (a);
SELECT object_identity, statement_exact, statement FROM migrate.ddl_audit
 WHERE id > :start ORDER BY id;

-- the first DDL of a session made inside a DO block: the client's string is one statement,
-- but not the statement that made the table, so it is not exact
\c -
SELECT coalesce(max(id), 0) AS start FROM migrate.ddl_audit \gset
DO $$BEGIN EXECUTE 'CREATE TABLE cap_do_first (a int)'; END$$;
SELECT object_identity,
       statement = 'CREATE TABLE cap_do_first (a int)' OR NOT statement_exact
           AS text_agrees_with_flag
  FROM migrate.ddl_audit WHERE id > :start ORDER BY id;

-- the same for the first DDL of a session made by a function called from a SELECT
\c -
SELECT coalesce(max(id), 0) AS start FROM migrate.ddl_audit \gset
SELECT cap_make_table('cap_fn_first');
SELECT object_identity,
       statement = 'CREATE TABLE cap_fn_first (a int)' OR NOT statement_exact
           AS text_agrees_with_flag
  FROM migrate.ddl_audit WHERE id > :start ORDER BY id;

-- and when the string also holds another statement of the same kind, the function's table
-- must not be given that statement's text
\c -
SELECT coalesce(max(id), 0) AS start FROM migrate.ddl_audit \gset
SELECT cap_make_table('cap_fn_first2') \; CREATE TABLE cap_other (a int);
SELECT object_identity,
       statement = 'CREATE TABLE ' || split_part(object_identity, '.', 2) || ' (a int)'
           OR NOT statement_exact AS text_agrees_with_flag
  FROM migrate.ddl_audit WHERE id > :start ORDER BY id;

-- From here on the library is loaded before any DDL: every statement text is exact.
LOAD 'migrations_schema';
DROP TABLE cap_first, cap_second, cap_unambiguous, cap_do_first, cap_fn_first, cap_fn_first2,
           cap_other;
DROP FUNCTION cap_make_table(text);
SELECT coalesce(max(id), 0) AS file_start FROM migrate.ddl_audit \gset

------------------------------------------------------------------------------------------
-- Tables and columns
------------------------------------------------------------------------------------------
SELECT coalesce(max(id), 0) AS start FROM migrate.ddl_audit \gset
CREATE TABLE cap_t (id int PRIMARY KEY, name text);
ALTER TABLE cap_t ADD COLUMN note text;
ALTER TABLE cap_t RENAME COLUMN note TO remark;
ALTER TABLE cap_t ALTER COLUMN name SET NOT NULL;
ALTER TABLE cap_t DROP COLUMN remark;
ALTER TABLE cap_t RENAME TO cap_table;
-- one row per object; a dropped column is a 'table column' with its attribute number
SELECT event, command_tag, object_type, schema_name, object_identity, objsubid, detail,
       statement_exact, statement
  FROM migrate.ddl_audit WHERE id > :start ORDER BY id;
-- rows of this backend; six statements, each its own transaction and statement time
SELECT bool_and(backend_pid = pg_backend_pid()) AS this_backend,
       count(DISTINCT txid) AS transactions,
       count(DISTINCT statement_time) AS statement_times,
       bool_and(statement_time <= now()) AS times_past,
       bool_and(classid = 'pg_class'::regclass) AS all_relations,
       bool_and(NOT in_extension) AS none_in_extension,
       bool_and(migration_version IS NULL AND migration_script IS NULL) AS no_migration
  FROM migrate.ddl_audit WHERE id > :start;
-- the objid names the object
SELECT objid::regclass AS table_objid FROM migrate.ddl_audit
 WHERE id > :start AND object_identity = 'public.cap_table';

------------------------------------------------------------------------------------------
-- Indexes
------------------------------------------------------------------------------------------
SELECT coalesce(max(id), 0) AS start FROM migrate.ddl_audit \gset
CREATE INDEX cap_name_idx ON cap_table (name);
ALTER INDEX cap_name_idx RENAME TO cap_name_i;
DROP INDEX cap_name_i;
SELECT event, command_tag, object_type, schema_name, object_identity, detail, statement
  FROM migrate.ddl_audit WHERE id > :start ORDER BY id;

------------------------------------------------------------------------------------------
-- Views: the drop names the view, not its _RETURN rule nor its row type
------------------------------------------------------------------------------------------
SELECT coalesce(max(id), 0) AS start FROM migrate.ddl_audit \gset
CREATE VIEW cap_v AS SELECT id FROM cap_table;
ALTER VIEW cap_v RENAME TO cap_view;
ALTER VIEW cap_view ALTER COLUMN id SET DEFAULT 0;
DROP VIEW cap_view;
SELECT event, command_tag, object_type, schema_name, object_identity, detail, statement
  FROM migrate.ddl_audit WHERE id > :start ORDER BY id;

------------------------------------------------------------------------------------------
-- Functions
------------------------------------------------------------------------------------------
SELECT coalesce(max(id), 0) AS start FROM migrate.ddl_audit \gset
CREATE FUNCTION cap_f(a int) RETURNS int LANGUAGE sql AS 'SELECT a + 1';
CREATE OR REPLACE FUNCTION cap_f(a int) RETURNS int LANGUAGE sql AS 'SELECT a + 2';
ALTER FUNCTION cap_f(int) STABLE;
DROP FUNCTION cap_f(int);
SELECT event, command_tag, object_type, schema_name, object_identity, detail, statement
  FROM migrate.ddl_audit WHERE id > :start ORDER BY id;

------------------------------------------------------------------------------------------
-- Types: enum, composite, domain. A drop names the type, not its array type.
------------------------------------------------------------------------------------------
SELECT coalesce(max(id), 0) AS start FROM migrate.ddl_audit \gset
CREATE TYPE cap_mood AS ENUM ('sad', 'ok');
ALTER TYPE cap_mood ADD VALUE 'happy';
DROP TYPE cap_mood;
CREATE DOMAIN cap_posint AS int;
ALTER DOMAIN cap_posint ADD CONSTRAINT cap_posint_check CHECK (VALUE > 0);
DROP DOMAIN cap_posint;
SELECT event, command_tag, object_type, schema_name, object_identity, detail, statement
  FROM migrate.ddl_audit WHERE id > :start ORDER BY id;
-- a composite type: its relation (pg_class relkind 'c') is created and dropped with it, like a
-- table's row type; the drop records the type once
SELECT coalesce(max(id), 0) AS start FROM migrate.ddl_audit \gset
CREATE TYPE cap_pair AS (a int, b int);
ALTER TYPE cap_pair ADD ATTRIBUTE c int;
DROP TYPE cap_pair;
SELECT event, command_tag, object_type, schema_name, object_identity, detail, statement
  FROM migrate.ddl_audit WHERE id > :start ORDER BY id;

------------------------------------------------------------------------------------------
-- Materialized views and SELECT INTO: 'create', and REFRESH is a 'refresh'
------------------------------------------------------------------------------------------
SELECT coalesce(max(id), 0) AS start FROM migrate.ddl_audit \gset
CREATE MATERIALIZED VIEW cap_mv AS SELECT 1 AS x;
REFRESH MATERIALIZED VIEW cap_mv;
SELECT 1 AS y INTO cap_into;
DROP MATERIALIZED VIEW cap_mv;
DROP TABLE cap_into;
SELECT event, command_tag, object_type, schema_name, object_identity, statement
  FROM migrate.ddl_audit WHERE id > :start ORDER BY id;

------------------------------------------------------------------------------------------
-- Schemas
------------------------------------------------------------------------------------------
SELECT coalesce(max(id), 0) AS start FROM migrate.ddl_audit \gset
CREATE SCHEMA cap_s;
ALTER SCHEMA cap_s RENAME TO cap_schema;
COMMENT ON SCHEMA cap_schema IS 'audit test';
DROP SCHEMA cap_schema;
SELECT event, command_tag, object_type, schema_name, object_identity, detail, statement
  FROM migrate.ddl_audit WHERE id > :start ORDER BY id;

------------------------------------------------------------------------------------------
-- Row level security, policies, triggers
------------------------------------------------------------------------------------------
SELECT coalesce(max(id), 0) AS start FROM migrate.ddl_audit \gset
ALTER TABLE cap_table ENABLE ROW LEVEL SECURITY;
CREATE POLICY cap_pol ON cap_table USING (id > 0);
ALTER POLICY cap_pol ON cap_table USING (id > 1);
DROP POLICY cap_pol ON cap_table;
CREATE FUNCTION cap_trg() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER cap_tr BEFORE INSERT ON cap_table FOR EACH ROW EXECUTE FUNCTION cap_trg();
ALTER TABLE cap_table DISABLE TRIGGER cap_tr;
ALTER TRIGGER cap_tr ON cap_table RENAME TO cap_trigger;
DROP TRIGGER cap_trigger ON cap_table;
ALTER TABLE cap_table DISABLE ROW LEVEL SECURITY;
SELECT event, command_tag, object_type, object_identity, detail, statement
  FROM migrate.ddl_audit WHERE id > :start ORDER BY id;
-- schema_name as PostgreSQL reports it: pg_event_trigger_ddl_commands() gives none for a
-- policy or trigger (they have no schema of their own), pg_event_trigger_dropped_objects()
-- gives their table's
SELECT event, command_tag, object_type, schema_name, object_identity
  FROM migrate.ddl_audit WHERE id > :start AND object_type IN ('policy', 'trigger')
 ORDER BY id;

------------------------------------------------------------------------------------------
-- COMMENT: event 'comment' on the commented object (a column has its attribute number)
------------------------------------------------------------------------------------------
SELECT coalesce(max(id), 0) AS start FROM migrate.ddl_audit \gset
COMMENT ON TABLE cap_table IS 'things';
COMMENT ON COLUMN cap_table.name IS 'the name';
COMMENT ON FUNCTION cap_trg() IS 'trigger';
COMMENT ON TABLE cap_table IS NULL;
SELECT event, command_tag, object_type, schema_name, object_identity, objsubid, statement
  FROM migrate.ddl_audit WHERE id > :start ORDER BY id;

------------------------------------------------------------------------------------------
-- Several statements in one client string (psql \; sends them as one query): each row
-- carries its own statement, exactly
------------------------------------------------------------------------------------------
SELECT coalesce(max(id), 0) AS start FROM migrate.ddl_audit \gset
CREATE TABLE cap_m1 (a int) \; ALTER TABLE cap_m1 ADD COLUMN b int \; SELECT 1 AS one \; /* made */ CREATE INDEX cap_m1_b ON cap_m1 (b) \; DROP TABLE cap_m1;
SELECT event, command_tag, object_type, object_identity, statement_exact, statement
  FROM migrate.ddl_audit WHERE id > :start ORDER BY id;
-- one implicit transaction for the whole string
SELECT count(DISTINCT txid) AS transactions FROM migrate.ddl_audit WHERE id > :start;

------------------------------------------------------------------------------------------
-- DDL run by code: a DO block with EXECUTE, a PL/pgSQL function (static and dynamic SQL,
-- and DDL undone by an exception block), a SQL function. Rows carry the inner statement.
------------------------------------------------------------------------------------------
SELECT coalesce(max(id), 0) AS start FROM migrate.ddl_audit \gset
DO $$
BEGIN
    EXECUTE 'CREATE TABLE cap_do (a int)';
    EXECUTE format('CREATE INDEX %I ON cap_do (a)', 'cap_do_a');
END
$$;
CREATE FUNCTION cap_mk(n text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    CREATE TABLE cap_fn_static (a int);
    EXECUTE format('CREATE TABLE %I (b int)', n);
    BEGIN
        CREATE TABLE cap_fn_caught (a int);
        PERFORM 1 / 0;
    EXCEPTION WHEN division_by_zero THEN
        NULL;
    END;
END
$$;
SELECT cap_mk('cap_fn_dynamic');
CREATE FUNCTION cap_sqlf() RETURNS void LANGUAGE sql
    AS $$ CREATE TABLE cap_sql1 (a int); /* two */ CREATE TABLE cap_sql2 (a int) $$;
SELECT cap_sqlf();
SELECT event, command_tag, object_identity, statement_exact, statement
  FROM migrate.ddl_audit WHERE id > :start AND command_tag <> 'CREATE FUNCTION' ORDER BY id;
SELECT to_regclass('cap_fn_caught') AS caught;
DROP TABLE cap_do, cap_fn_static, cap_fn_dynamic, cap_sql1, cap_sql2;
DROP FUNCTION cap_mk(text), cap_sqlf();

-- a procedure that commits and rolls back: each of its transactions writes its own rows, the
-- rolled back one none
CREATE PROCEDURE cap_proc() LANGUAGE plpgsql AS $$
BEGIN
    CREATE TABLE cap_proc1 (a int);
    COMMIT;
    CREATE TABLE cap_proc_gone (a int);
    ROLLBACK;
    CREATE TABLE cap_proc2 (a int);
END
$$;
SELECT coalesce(max(id), 0) AS start FROM migrate.ddl_audit \gset
CALL cap_proc();
SELECT object_identity, statement_exact, statement FROM migrate.ddl_audit
 WHERE id > :start ORDER BY id;
SELECT count(DISTINCT txid) AS transactions FROM migrate.ddl_audit WHERE id > :start;
DROP TABLE cap_proc1, cap_proc2;
DROP PROCEDURE cap_proc();

------------------------------------------------------------------------------------------
-- DROP ... CASCADE records every dropped object: the table, its constraint and index, the
-- owned sequence, the dependent view, a trigger; not the row and array types, the TOAST
-- table, the column defaults, nor the view's _RETURN rule.
------------------------------------------------------------------------------------------
CREATE TABLE cap_c (id serial PRIMARY KEY, body text DEFAULT 'x');
CREATE VIEW cap_cv AS SELECT id, body FROM cap_c;
CREATE TRIGGER cap_c_tr BEFORE INSERT ON cap_c FOR EACH ROW EXECUTE FUNCTION cap_trg();
SELECT coalesce(max(id), 0) AS start FROM migrate.ddl_audit \gset
DROP TABLE cap_c CASCADE;
-- (since 18 a table's NOT NULL constraints are catalog objects, "<table>_<column>_not_null",
-- dropped with it: recorded, and left out here and below for one output on every version)
SELECT event, command_tag, object_type, schema_name, object_identity, detail, statement
  FROM migrate.ddl_audit WHERE id > :start
   AND (object_type = 'table constraint' AND object_identity LIKE '%\_not\_null on %') IS NOT TRUE
 ORDER BY object_type, object_identity;

-- DROP SCHEMA ... CASCADE
CREATE SCHEMA cap_sc;
CREATE TABLE cap_sc.t (id int PRIMARY KEY);
CREATE VIEW cap_sc.v AS SELECT id FROM cap_sc.t;
CREATE FUNCTION cap_sc.f() RETURNS int LANGUAGE sql AS 'SELECT 1';
CREATE TYPE cap_sc.e AS ENUM ('x');
SELECT coalesce(max(id), 0) AS start FROM migrate.ddl_audit \gset
DROP SCHEMA cap_sc CASCADE;
SELECT event, command_tag, object_type, schema_name, object_identity, detail, statement
  FROM migrate.ddl_audit WHERE id > :start
   AND (object_type = 'table constraint' AND object_identity LIKE '%\_not\_null on %') IS NOT TRUE
 ORDER BY object_type, object_identity;

------------------------------------------------------------------------------------------
-- GRANT and REVOKE: one row per object, with the privileges and grantees in detail
------------------------------------------------------------------------------------------
CREATE ROLE ms_audit_grantee;
CREATE SCHEMA cap_g;
CREATE TABLE cap_g.t1 (a int, b int);
CREATE TABLE cap_g.t2 (a int);
CREATE VIEW cap_g.v AS SELECT 1 AS x;
CREATE SEQUENCE cap_g.s;
CREATE FUNCTION cap_g.f(int) RETURNS int LANGUAGE sql AS 'SELECT $1';
SELECT coalesce(max(id), 0) AS start FROM migrate.ddl_audit \gset
GRANT SELECT, INSERT ON cap_g.t1, cap_g.t2 TO ms_audit_grantee;
GRANT SELECT ON ALL TABLES IN SCHEMA cap_g TO ms_audit_grantee, PUBLIC;
GRANT EXECUTE ON FUNCTION cap_g.f(int) TO ms_audit_grantee WITH GRANT OPTION;
GRANT UPDATE (a, b), SELECT (a) ON cap_g.t1 TO ms_audit_grantee;
GRANT USAGE ON SCHEMA cap_g TO ms_audit_grantee;
GRANT ALL ON SEQUENCE cap_g.s TO ms_audit_grantee;
REVOKE ALL ON cap_g.t1 FROM ms_audit_grantee CASCADE;
REVOKE GRANT OPTION FOR EXECUTE ON FUNCTION cap_g.f(int) FROM ms_audit_grantee;
REVOKE SELECT ON ALL TABLES IN SCHEMA cap_g FROM PUBLIC;
-- (ordered by transaction, then object: ALL TABLES IN SCHEMA finds the tables in catalog order)
SELECT event, command_tag, object_type, schema_name, object_identity, objsubid, statement
  FROM migrate.ddl_audit WHERE id > :start ORDER BY txid, object_identity;
SELECT object_identity, detail FROM migrate.ddl_audit WHERE id > :start
 ORDER BY txid, object_identity;
SELECT bool_and(classid IS NOT NULL AND objid IS NOT NULL) AS every_row_has_an_address
  FROM migrate.ddl_audit WHERE id > :start;

-- ALTER DEFAULT PRIVILEGES: one row, no object; the object kind in object_type, and in
-- detail the schemas or roles it applies to and the grantees
SELECT coalesce(max(id), 0) AS start FROM migrate.ddl_audit \gset
ALTER DEFAULT PRIVILEGES FOR ROLE ms_audit_grantee IN SCHEMA cap_g
    GRANT SELECT, UPDATE ON TABLES TO ms_audit_grantee;
ALTER DEFAULT PRIVILEGES FOR ROLE ms_audit_grantee REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
SELECT event, command_tag, object_type, schema_name, object_identity, statement
  FROM migrate.ddl_audit WHERE id > :start ORDER BY id;
SELECT command_tag, object_type, detail FROM migrate.ddl_audit WHERE id > :start ORDER BY id;
-- undoing them removes the pg_default_acl entries: recorded as their drop, and the revoke
SELECT coalesce(max(id), 0) AS start FROM migrate.ddl_audit \gset
ALTER DEFAULT PRIVILEGES FOR ROLE ms_audit_grantee IN SCHEMA cap_g
    REVOKE SELECT, UPDATE ON TABLES FROM ms_audit_grantee;
ALTER DEFAULT PRIVILEGES FOR ROLE ms_audit_grantee GRANT EXECUTE ON FUNCTIONS TO PUBLIC;
SELECT event, command_tag, object_type, object_identity, detail
  FROM migrate.ddl_audit WHERE id > :start ORDER BY id;
DROP SCHEMA cap_g CASCADE;

------------------------------------------------------------------------------------------
-- table_rewrite: a 'rewrite' row (before the ALTER's own row) with PostgreSQL's reasons
------------------------------------------------------------------------------------------
CREATE TABLE cap_rw (a int, b int, v varchar(10));
CREATE INDEX cap_rw_a ON cap_rw (a);
INSERT INTO cap_rw VALUES (1, 2, 'x');
SELECT coalesce(max(id), 0) AS start FROM migrate.ddl_audit \gset
ALTER TABLE cap_rw ALTER COLUMN a TYPE text;
SELECT event, command_tag, object_type, schema_name, object_identity, detail, statement
  FROM migrate.ddl_audit WHERE id > :start ORDER BY id;
-- int -> bigint is not binary coercible either: a rewrite
SELECT coalesce(max(id), 0) AS start FROM migrate.ddl_audit \gset
ALTER TABLE cap_rw ALTER COLUMN b TYPE bigint;
SELECT event, object_identity, detail FROM migrate.ddl_audit WHERE id > :start ORDER BY id;
-- varchar(10) -> varchar(20) and a constant default: no rewrite, no rewrite row
SELECT coalesce(max(id), 0) AS start FROM migrate.ddl_audit \gset
ALTER TABLE cap_rw ALTER COLUMN v TYPE varchar(20);
ALTER TABLE cap_rw ADD COLUMN k int DEFAULT 5;
SELECT event, object_identity, detail, statement
  FROM migrate.ddl_audit WHERE id > :start ORDER BY id;
-- a volatile default rewrites
SELECT coalesce(max(id), 0) AS start FROM migrate.ddl_audit \gset
ALTER TABLE cap_rw ADD COLUMN ts timestamptz DEFAULT clock_timestamp();
SELECT event, object_identity, detail FROM migrate.ddl_audit WHERE id > :start ORDER BY id;
-- SET UNLOGGED and SET LOGGED
SELECT coalesce(max(id), 0) AS start FROM migrate.ddl_audit \gset
ALTER TABLE cap_rw SET UNLOGGED;
ALTER TABLE cap_rw SET LOGGED;
SELECT event, object_identity, detail, statement
  FROM migrate.ddl_audit WHERE id > :start ORDER BY id;
-- two reasons in one statement: one rewrite row with both
SELECT coalesce(max(id), 0) AS start FROM migrate.ddl_audit \gset
ALTER TABLE cap_rw ALTER COLUMN k TYPE text, ADD COLUMN u float8 DEFAULT random();
SELECT event, object_identity, detail FROM migrate.ddl_audit WHERE id > :start ORDER BY id;
DROP TABLE cap_rw;

------------------------------------------------------------------------------------------
-- Rolled back DDL leaves no row
------------------------------------------------------------------------------------------
SELECT coalesce(max(id), 0) AS start FROM migrate.ddl_audit \gset
BEGIN;
CREATE TABLE cap_rb (a int);
ALTER TABLE cap_rb ADD COLUMN b int;
ROLLBACK;
SELECT count(*) AS rows_after_rollback FROM migrate.ddl_audit WHERE id > :start;
-- ROLLBACK TO SAVEPOINT drops the rows made after the savepoint (nested ones included), and
-- keeps those made before it, after it, and in released savepoints
BEGIN;
CREATE TABLE cap_sp_keep1 (a int);
SAVEPOINT s1;
CREATE TABLE cap_sp_gone1 (a int);
SAVEPOINT s2;
CREATE TABLE cap_sp_gone2 (a int);
RELEASE SAVEPOINT s2;
ROLLBACK TO SAVEPOINT s1;
CREATE TABLE cap_sp_keep2 (a int);
SAVEPOINT s3;
CREATE TABLE cap_sp_keep3 (a int);
RELEASE SAVEPOINT s3;
SAVEPOINT s4;
DROP TABLE cap_sp_keep1;
ROLLBACK TO SAVEPOINT s4;
COMMIT;
SELECT event, object_identity, statement FROM migrate.ddl_audit WHERE id > :start ORDER BY id;
DROP TABLE cap_sp_keep1, cap_sp_keep2, cap_sp_keep3;
-- DDL in a statement that fails, or in a client string whose later statement fails
SELECT coalesce(max(id), 0) AS start FROM migrate.ddl_audit \gset
CREATE TABLE cap_fail1 AS SELECT 1 / 0 AS x;
CREATE TABLE cap_fail2 (a int) \; SELECT 1 / 0;
SELECT count(*) AS rows_after_failures FROM migrate.ddl_audit WHERE id > :start;
SELECT to_regclass('cap_fail1') AS fail1, to_regclass('cap_fail2') AS fail2;

------------------------------------------------------------------------------------------
-- Temporary objects are not recorded: neither a temporary table nor anything on it
------------------------------------------------------------------------------------------
SELECT coalesce(max(id), 0) AS start FROM migrate.ddl_audit \gset
CREATE TEMP TABLE cap_tmp (a int);
CREATE INDEX cap_tmp_a ON cap_tmp (a);
ALTER TABLE cap_tmp ADD COLUMN b int;
ALTER TABLE cap_tmp ALTER COLUMN a TYPE text;
ALTER TABLE cap_tmp ADD CONSTRAINT cap_tmp_check CHECK (b > 0);
COMMENT ON TABLE cap_tmp IS 'temporary';
GRANT SELECT ON cap_tmp TO PUBLIC;
CREATE TEMP VIEW cap_tmp_v AS SELECT a FROM cap_tmp;
CREATE FUNCTION pg_temp.cap_tmp_f() RETURNS int LANGUAGE sql AS 'SELECT 1';
DROP VIEW cap_tmp_v;
ALTER TABLE cap_tmp DROP COLUMN b;
SELECT count(*) AS rows_for_temporary_objects FROM migrate.ddl_audit WHERE id > :start;
-- triggers, policies and rules on a temporary table are temporary objects too
CREATE TRIGGER cap_tmp_tr BEFORE INSERT ON cap_tmp FOR EACH ROW EXECUTE FUNCTION cap_trg();
CREATE POLICY cap_tmp_pol ON cap_tmp USING (true);
CREATE RULE cap_tmp_rule AS ON UPDATE TO cap_tmp DO INSTEAD NOTHING;
COMMENT ON TRIGGER cap_tmp_tr ON cap_tmp IS 'temporary';
DROP TABLE cap_tmp;
SELECT event, command_tag, object_type, object_identity
  FROM migrate.ddl_audit WHERE id > :start ORDER BY id;
-- a GRANT on a temporary and a permanent table names only the permanent one
SELECT coalesce(max(id), 0) AS start FROM migrate.ddl_audit \gset
CREATE TEMP TABLE cap_tmp2 (a int);
GRANT SELECT ON cap_tmp2, cap_table TO PUBLIC;
SELECT event, object_identity, statement FROM migrate.ddl_audit WHERE id > :start ORDER BY id;
REVOKE SELECT ON cap_table FROM PUBLIC;

------------------------------------------------------------------------------------------
-- session_replication_role = replica: the event triggers are enabled always; still recorded
------------------------------------------------------------------------------------------
SELECT coalesce(max(id), 0) AS start FROM migrate.ddl_audit \gset
SET session_replication_role = replica;
CREATE TABLE cap_replica (a int);
ALTER TABLE cap_replica ALTER COLUMN a TYPE bigint;
DROP TABLE cap_replica;
RESET session_replication_role;
SELECT event, command_tag, object_identity FROM migrate.ddl_audit WHERE id > :start ORDER BY id;

------------------------------------------------------------------------------------------
-- Migrations: DDL run by migrate.apply carries the version, script 'up' and the migration's
-- own statement; migrate.rollback carries 'down'
------------------------------------------------------------------------------------------
SELECT coalesce(max(id), 0) AS start FROM migrate.ddl_audit \gset
SELECT migrate.apply('100', $$
-- the table
CREATE TABLE cap_mig (id int PRIMARY KEY);
/* and an index */ CREATE INDEX cap_mig_id ON cap_mig (id);
DO $do$ BEGIN EXECUTE 'COMMENT ON TABLE cap_mig IS ''migrated'''; END $do$;
$$, 'DROP TABLE cap_mig;', 'cap mig');
SELECT event, command_tag, object_type, object_identity, statement_exact, statement,
       migration_version, migration_script
  FROM migrate.ddl_audit WHERE id > :start ORDER BY id;
SELECT coalesce(max(id), 0) AS start FROM migrate.ddl_audit \gset
SELECT version FROM migrate.rollback();
SELECT event, command_tag, object_type, object_identity, statement_exact, statement,
       migration_version, migration_script
  FROM migrate.ddl_audit WHERE id > :start
   AND (object_type = 'table constraint' AND object_identity LIKE '%\_not\_null on %') IS NOT TRUE
 ORDER BY object_type, object_identity;
-- DDL after the migration, in the same transaction, is not part of it
SELECT coalesce(max(id), 0) AS start FROM migrate.ddl_audit \gset
BEGIN;
SELECT migrate.apply('101', 'CREATE TABLE cap_mig2 (id int);', 'DROP TABLE cap_mig2;');
CREATE TABLE cap_after_mig (id int);
COMMIT;
SELECT object_identity, migration_version, migration_script, statement
  FROM migrate.ddl_audit WHERE id > :start ORDER BY id;
SELECT version FROM migrate.rollback();
DROP TABLE cap_after_mig;

------------------------------------------------------------------------------------------
-- Who: session and current user, SECURITY DEFINER, application_name. The role making DDL
-- cannot read the audit; its DDL is recorded all the same.
------------------------------------------------------------------------------------------
SELECT current_user AS superuser \gset
CREATE ROLE ms_audit_dev;
GRANT CREATE ON SCHEMA public TO ms_audit_dev;
CREATE FUNCTION cap_definer() RETURNS void LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = public
    AS $$BEGIN CREATE TABLE cap_by_definer (a int); END$$;
GRANT EXECUTE ON FUNCTION cap_definer() TO ms_audit_dev;
SELECT coalesce(max(id), 0) AS start FROM migrate.ddl_audit \gset
SET ROLE ms_audit_dev;
SELECT count(*) FROM migrate.ddl_audit;
CREATE TABLE cap_by_role (a int);
RESET ROLE;
SET SESSION AUTHORIZATION ms_audit_dev;
SELECT session_user, current_user;
CREATE TABLE cap_by_session (a int);
ALTER TABLE cap_by_role ADD COLUMN b int;
SELECT cap_definer();
RESET SESSION AUTHORIZATION;
SET application_name = 'audit capture test';
CREATE INDEX cap_by_role_a ON cap_by_role (a);
RESET application_name;
-- (the superuser running the tests is shown as 'superuser': its name differs by installation)
SELECT event, object_identity,
       CASE session_user_name WHEN :'superuser' THEN 'superuser' ELSE session_user_name END
           AS session_user_name,
       CASE current_user_name WHEN :'superuser' THEN 'superuser' ELSE current_user_name END
           AS current_user_name,
       application_name, statement
  FROM migrate.ddl_audit WHERE id > :start ORDER BY id;
DROP TABLE cap_by_role, cap_by_session, cap_by_definer;
DROP FUNCTION cap_definer();
REVOKE CREATE ON SCHEMA public FROM ms_audit_dev;
DROP ROLE ms_audit_dev;

------------------------------------------------------------------------------------------
-- All the event kinds were seen in this file, and the chain is intact
------------------------------------------------------------------------------------------
SELECT string_agg(DISTINCT event, ', ' ORDER BY event) AS events
  FROM migrate.ddl_audit WHERE id > :file_start;
SELECT valid, problem FROM migrate.verify_audit();

DROP TABLE cap_table;
DROP FUNCTION cap_trg();
DROP ROLE ms_audit_grantee;
