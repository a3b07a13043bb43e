-- ALTER EXTENSION ... UPDATE from the first release (0.1.0, migrations only) to 0.2.0 (the
-- DDL audit): migrations and history are kept, the audit starts recording after the update.
DROP EXTENSION migrations_schema;
CREATE EXTENSION migrations_schema VERSION '0.1.0';
SELECT extversion FROM pg_extension WHERE extname = 'migrations_schema';
SELECT to_regclass('migrate.ddl_audit') IS NULL AS no_audit_in_010;
SELECT migrate.apply('001', 'CREATE TABLE up_a (id int PRIMARY KEY);', 'DROP TABLE up_a;', 'a');

ALTER EXTENSION migrations_schema UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'migrations_schema';
-- the update path the server knows
SELECT source, target, path FROM pg_extension_update_paths('migrations_schema')
 WHERE path IS NOT NULL ORDER BY 1, 2;

-- migrations and history survived
SELECT version, name, state FROM migrate.status();
SELECT version, action FROM migrate.history ORDER BY id;

-- the audit is in place and healthy; the update's own DDL is marked in_extension
SELECT component, ok FROM migrate.audit_health() WHERE component <> 'statement capture';
SELECT count(*) > 0 AS update_recorded, bool_and(in_extension) AS all_in_extension
  FROM migrate.ddl_audit;
SELECT coalesce(max(id), 0) AS start FROM migrate.ddl_audit \gset

-- new DDL, in and out of migrations, is audited and the chain verifies
SELECT migrate.apply('002', 'ALTER TABLE up_a ADD COLUMN b text;', 'ALTER TABLE up_a DROP COLUMN b;', 'b');
CREATE INDEX up_a_b ON up_a (b);
SELECT event, command_tag, object_identity, migration_version, statement
  FROM migrate.ddl_audit WHERE id > :start ORDER BY id;
SELECT valid, problem FROM migrate.verify_audit();

-- the 0.1.0 objects still behave: rollback runs the stored down scripts
SELECT version FROM migrate.rollback(2);
SELECT to_regclass('up_a') IS NULL AS rolled_back;

-- an upgraded installation equals a fresh one: same functions, tables, triggers, event
-- triggers and dumped tables
CREATE TEMP VIEW extension_objects AS
SELECT 'function ' || p.oid::regprocedure::text AS obj FROM pg_proc p
 WHERE p.pronamespace = 'migrate'::regnamespace
UNION ALL SELECT 'relation ' || c.relname || ' ' || c.relkind::text FROM pg_class c
 WHERE c.relnamespace = 'migrate'::regnamespace
UNION ALL SELECT 'event trigger ' || evtname || ' ' || evtevent || ' ' || evtenabled::text
  FROM pg_event_trigger
UNION ALL SELECT 'trigger ' || tgrelid::regclass || ' ' || tgname || ' ' || tgenabled::text
  FROM pg_trigger WHERE NOT tgisinternal AND tgrelid::regclass::text LIKE 'migrate.%'
UNION ALL SELECT 'dumped ' || extconfig::regclass[]::text FROM pg_extension
 WHERE extname = 'migrations_schema';
CREATE TEMP TABLE upgraded AS SELECT * FROM extension_objects;
DROP EXTENSION migrations_schema;
CREATE EXTENSION migrations_schema;
CREATE TEMP TABLE fresh AS SELECT * FROM extension_objects;
(SELECT * FROM upgraded EXCEPT SELECT * FROM fresh)
UNION ALL
(SELECT * FROM fresh EXCEPT SELECT * FROM upgraded);
SELECT count(*) > 20 AS compared_objects FROM fresh;
