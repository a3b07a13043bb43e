-- DDL audit, drift: migrate.drift() lists the DDL made outside migrations, newest first;
-- migrate.summary() says whether the schema drifted since the last migration ran.
-- Ids, times and the superuser's name are not printed.

LOAD 'migrations_schema';
SELECT current_user AS superuser \gset
SELECT coalesce(max(id), 0) AS start FROM migrate.ddl_audit \gset

------------------------------------------------------------------------------------------
-- DDL outside migrations: listed newest first, with who, what and the statement
------------------------------------------------------------------------------------------
SET application_name = 'drift by hand';
CREATE TABLE drift_t (id int);
ALTER TABLE drift_t ADD COLUMN note text;
COMMENT ON TABLE drift_t IS 'made by hand';
CREATE ROLE ms_audit_drifter;
GRANT SELECT ON drift_t TO ms_audit_drifter;
RESET application_name;
SELECT event, command_tag, object_type, object_identity,
       CASE session_user_name WHEN :'superuser' THEN 'superuser' ELSE session_user_name END
           AS session_user_name,
       CASE current_user_name WHEN :'superuser' THEN 'superuser' ELSE current_user_name END
           AS current_user_name,
       application_name, statement
  FROM migrate.drift() WHERE id > :start;
SELECT array_agg(id) = array_agg(id ORDER BY id DESC) AS newest_first,
       count(*) = (SELECT count(*) FROM migrate.ddl_audit WHERE id > :start) AS every_row
  FROM migrate.drift() WHERE id > :start;
-- the columns come from the audit row
SELECT bool_and(d.statement_time = a.statement_time AND d.event = a.event
                AND d.client_addr IS NOT DISTINCT FROM a.client_addr) AS same_as_audit
  FROM migrate.drift() d JOIN migrate.ddl_audit a USING (id) WHERE d.id > :start;
-- NULL arguments mean "no filter"
SELECT (SELECT count(*) FROM migrate.drift(NULL, NULL)) = (SELECT count(*) FROM migrate.drift())
    AS nulls_are_defaults;

------------------------------------------------------------------------------------------
-- DDL made by migrate.apply and migrate.rollback is not drift
------------------------------------------------------------------------------------------
SELECT coalesce(max(id), 0) AS start FROM migrate.ddl_audit \gset
SELECT migrate.apply('200', 'CREATE TABLE drift_mig (id int PRIMARY KEY);',
                     'DROP TABLE drift_mig;', 'drift 200');
SELECT version FROM migrate.rollback();
SELECT migrate.apply('200', 'CREATE TABLE drift_mig (id int PRIMARY KEY);',
                     'DROP TABLE drift_mig;', 'drift 200');
-- (not the NOT NULL constraints that 18 keeps as catalog objects and drops with the table)
SELECT migration_version, migration_script, count(*) AS audit_rows
  FROM migrate.ddl_audit WHERE id > :start
   AND (object_type = 'table constraint' AND object_identity LIKE '%\_not\_null on %') IS NOT TRUE
 GROUP BY 1, 2 ORDER BY 1, 2;
SELECT count(*) AS drift_rows FROM migrate.drift() WHERE id > :start;

------------------------------------------------------------------------------------------
-- since => a time: only the DDL from that time on
------------------------------------------------------------------------------------------
CREATE TABLE drift_before (id int);
SELECT clock_timestamp() AS since \gset
CREATE TABLE drift_since1 (id int);
CREATE INDEX drift_since1_id ON drift_since1 (id);
SELECT object_identity, statement FROM migrate.drift(since => :'since');
SELECT count(*) AS before_cut FROM migrate.drift(since => :'since')
 WHERE object_identity = 'public.drift_before';
SELECT count(*) > 0 AS listed_without_since FROM migrate.drift()
 WHERE object_identity = 'public.drift_before';

------------------------------------------------------------------------------------------
-- since_last_migration => true and summary(): what changed after the last apply or rollback
------------------------------------------------------------------------------------------
SELECT migrate.apply('201', 'CREATE TABLE drift_mig2 (id int);', 'DROP TABLE drift_mig2;',
                     'drift 201');
SELECT count(*) AS since_last_migration FROM migrate.drift(since_last_migration => true);
SELECT applied, pending, last_version, drifted, drift_changes, last_drift_at, audit_ok,
       last_migration_at = (SELECT max(performed_at) FROM migrate.history) AS last_migration_ok
  FROM migrate.summary();
-- one change by hand
CREATE TABLE drift_manual (id int);
SELECT event, object_identity, statement FROM migrate.drift(since_last_migration => true);
SELECT last_version, drifted, drift_changes,
       last_drift_at = (SELECT statement_time FROM migrate.ddl_audit
                         WHERE object_identity = 'public.drift_manual') AS last_drift_ok
  FROM migrate.summary();
-- applying the same migration again does nothing and is not a migration run
SELECT migrate.apply('201', 'CREATE TABLE drift_mig2 (id int);', 'DROP TABLE drift_mig2;',
                     'drift 201');
SELECT drifted, drift_changes FROM migrate.summary();
-- a rollback is a migration run: what came before it is no longer "since the last migration"
SELECT version FROM migrate.rollback();
SELECT last_version, drifted, drift_changes, last_drift_at FROM migrate.summary();
SELECT count(*) AS since_last_migration FROM migrate.drift(since_last_migration => true);
-- since and since_last_migration together: both filters apply
SELECT count(*) AS both_filters FROM migrate.drift(:'since', true);

-- DDL after the migration in the same transaction is drift
BEGIN;
SELECT migrate.apply('201', 'CREATE TABLE drift_mig2 (id int);', 'DROP TABLE drift_mig2;',
                     'drift 201');
CREATE TABLE drift_same_xact (id int);
COMMIT;
SELECT event, object_identity, statement FROM migrate.drift(since_last_migration => true);
SELECT drifted, drift_changes FROM migrate.summary();

-- DDL after the migration in the same client query string is drift too: it ran after the
-- migration and is not part of it
SELECT migrate.apply('202', 'CREATE TABLE drift_mig3 (id int);', 'DROP TABLE drift_mig3;', 'drift 202') \; CREATE TABLE drift_same_string (id int);
SELECT object_identity, migration_version FROM migrate.ddl_audit
 WHERE object_identity IN ('public.drift_mig3', 'public.drift_same_string') ORDER BY id;
SELECT event, object_identity, statement FROM migrate.drift(since_last_migration => true);
SELECT drifted, drift_changes FROM migrate.summary();

------------------------------------------------------------------------------------------
-- CREATE EXTENSION: the extension's own objects are recorded (in_extension) but drift lists
-- the extension once; likewise for DROP EXTENSION
------------------------------------------------------------------------------------------
SELECT coalesce(max(id), 0) AS start FROM migrate.ddl_audit \gset
CREATE EXTENSION pgcrypto;
SELECT count(*) > 1 AS member_rows_recorded, bool_and(in_extension) AS all_in_extension
  FROM migrate.ddl_audit WHERE id > :start AND object_type <> 'extension';
SELECT event, command_tag, object_type, object_identity, statement
  FROM migrate.drift() WHERE id > :start;
SELECT coalesce(max(id), 0) AS start FROM migrate.ddl_audit \gset
DROP EXTENSION pgcrypto;
SELECT count(*) AS drift_rows FROM migrate.drift() WHERE id > :start;
SELECT event, command_tag, object_type, object_identity, statement
  FROM migrate.drift() WHERE id > :start AND object_type = 'extension';

-- clean up
SELECT version FROM migrate.rollback(3);
DROP TABLE drift_t, drift_before, drift_since1, drift_manual, drift_same_xact,
           drift_same_string;
DROP ROLE ms_audit_drifter;
SELECT valid, problem FROM migrate.verify_audit();
