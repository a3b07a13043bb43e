-- ALTER EXTENSION ... UPDATE from the first release (0.1.0, migrations only) through 0.2.0
-- (the DDL audit), 0.3.0 (safety checks) and 0.3.1 to 0.4.0 (steps after commit): migrations
-- and history are kept, the audit starts recording after the update.

-- A migration applied by 0.3.0, kept to be loaded into a 0.1.0 installation below as 0.1.0
-- stored it (this library only runs against the version it was built for).
SELECT migrate.apply('001', 'CREATE TABLE up_a (id int PRIMARY KEY);', 'DROP TABLE up_a;', 'a');
CREATE TEMP TABLE saved_migrations AS SELECT * FROM migrate.migrations;
CREATE TEMP TABLE saved_history AS SELECT * FROM migrate.history;

DROP EXTENSION migrations_schema;
CREATE EXTENSION migrations_schema VERSION '0.1.0';
SELECT extversion FROM pg_extension WHERE extname = 'migrations_schema';
SELECT to_regclass('migrate.ddl_audit') IS NULL AS no_audit_in_010;
-- a library newer than the installed extension refuses to run, and says how to fix it
SELECT migrate.apply('009', 'SELECT 1');
INSERT INTO migrate.migrations (version, sort_key, name, up_sql, down_sql, checksum, state,
                                registered_at, applied_seq, applied_at, applied_by,
                                duration_ms, statements, out_of_order)
SELECT version, sort_key, name, up_sql, down_sql, checksum, state, registered_at,
       applied_seq, applied_at, applied_by, duration_ms, statements, out_of_order
  FROM saved_migrations;
INSERT INTO migrate.history (id, version, name, action, checksum, performed_at, performed_by,
                             duration_ms, statements, out_of_order, txid)
SELECT id, version, name, action, checksum, performed_at, performed_by, duration_ms,
       statements, out_of_order, txid
  FROM saved_history;
SELECT setval(pg_get_serial_sequence('migrate.history', 'id'), max(id)) > 0 AS sequence_set
  FROM migrate.history;

-- 0.1.0 -> 0.2.0 -> 0.3.0 in one command
ALTER EXTENSION migrations_schema UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'migrations_schema';
-- the update paths the server knows
SELECT source, target, path FROM pg_extension_update_paths('migrations_schema')
 WHERE path IS NOT NULL ORDER BY 1, 2;

-- migrations and history survived
SELECT version, name, state, warnings, overrides FROM migrate.status();
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

-- An upgraded installation equals a fresh one, object by object and definition by
-- definition: functions (pg_get_functiondef: arguments, body, language, volatility,
-- settings), their privileges, tables with their columns in order, defaults, constraints,
-- indexes, triggers, comments and privileges, sequences, event triggers and what pg_dump keeps.
-- Checked for every update path below (from 0.1.0 here; 0.2.0, 0.3.0 and 0.3.1 at the end).
-- Privileges as granted (a NULL ACL is the owner's default privileges).
CREATE FUNCTION pg_temp.acl(a aclitem[], kind "char", owner oid) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(CASE WHEN x.grantee = 0 THEN 'PUBLIC'
                           ELSE pg_get_userbyid(x.grantee)::text END
                      || ':' || x.privilege_type || ':' || x.is_grantable, ', '
                      ORDER BY x.grantee, x.privilege_type)
      FROM aclexplode(coalesce(a, acldefault(kind, owner))) AS x
$$;
CREATE TEMP VIEW extension_objects AS
SELECT 'function ' || p.oid::regprocedure::text || E'\n' || pg_get_functiondef(p.oid)
       || E'\nacl ' || pg_temp.acl(p.proacl, 'f', p.proowner) || E'\ncomment ' || coalesce(obj_description(p.oid, 'pg_proc'), '-') AS obj
  FROM pg_proc p WHERE p.pronamespace = 'migrate'::regnamespace
UNION ALL
SELECT 'relation ' || c.relname || ' ' || c.relkind::text || ' acl ' || pg_temp.acl(c.relacl, CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char", c.relowner)
       || ' comment ' || coalesce(obj_description(c.oid, 'pg_class'), '-')
  FROM pg_class c WHERE c.relnamespace = 'migrate'::regnamespace
UNION ALL
SELECT 'column ' || a.attrelid::regclass || ' ' || a.attnum || ' ' || a.attname || ' '
       || format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
       || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
       || CASE WHEN a.attidentity <> '' THEN ' identity ' || a.attidentity::text ELSE '' END
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid AND c.relnamespace = 'migrate'::regnamespace
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
  FROM pg_constraint WHERE connamespace = 'migrate'::regnamespace
UNION ALL
SELECT 'index ' || pg_get_indexdef(indexrelid)
  FROM pg_index WHERE indrelid::regclass::text LIKE 'migrate.%'
UNION ALL
SELECT 'sequence ' || seqrelid::regclass || ' ' || seqtypid::regtype || ' ' || seqstart || ' '
       || seqincrement || ' ' || seqmax || ' ' || seqmin || ' ' || seqcache || ' ' || seqcycle
  FROM pg_sequence WHERE seqrelid::regclass::text LIKE 'migrate.%'
UNION ALL
SELECT 'event trigger ' || evtname || ' ' || evtevent || ' ' || evtenabled::text || ' '
       || evtfoid::regproc || ' ' || coalesce(evttags::text, '-')
  FROM pg_event_trigger
UNION ALL
SELECT 'trigger ' || pg_get_triggerdef(oid) || ' ' || tgenabled::text
  FROM pg_trigger WHERE NOT tgisinternal AND tgrelid::regclass::text LIKE 'migrate.%'
UNION ALL
SELECT 'dumped ' || c.relid::regclass || ' ' || coalesce(e.extcondition[c.n], '-')
  FROM pg_extension AS e, unnest(e.extconfig) WITH ORDINALITY AS c(relid, n)
 WHERE e.extname = 'migrations_schema'
UNION ALL
SELECT 'schema ' || nspname || ' acl ' || pg_temp.acl(nspacl, 'n', nspowner)
  FROM pg_namespace WHERE nspname = 'migrate';
CREATE TEMP TABLE upgraded AS SELECT * FROM extension_objects;
DROP EXTENSION migrations_schema;
CREATE EXTENSION migrations_schema;
CREATE TEMP TABLE fresh AS SELECT * FROM extension_objects;
(SELECT * FROM upgraded EXCEPT SELECT * FROM fresh)
UNION ALL
(SELECT * FROM fresh EXCEPT SELECT * FROM upgraded);
SELECT count(*) > 100 AS compared_objects FROM fresh;

-- 0.2.0 -> 0.3.0 replaces apply and rollback (they take `allow`) and status (new columns):
-- EXECUTE granted on the old functions is granted on the new ones, PUBLIC still gets nothing.
DROP EXTENSION migrations_schema;
CREATE EXTENSION migrations_schema VERSION '0.2.0';
CREATE ROLE ms_upgrade_deploy;
GRANT EXECUTE ON FUNCTION migrate.apply(text, text, text, text, boolean),
                          migrate.rollback(integer), migrate.status()
   TO ms_upgrade_deploy;
GRANT EXECUTE ON FUNCTION migrate.apply(text, boolean) TO ms_upgrade_deploy WITH GRANT OPTION;
ALTER EXTENSION migrations_schema UPDATE TO '0.3.0';
SELECT p.oid::regprocedure AS function,
       has_function_privilege('ms_upgrade_deploy', p.oid, 'EXECUTE') AS deploy,
       has_function_privilege('ms_upgrade_deploy', p.oid, 'EXECUTE WITH GRANT OPTION')
           AS deploy_grant_option,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public
  FROM pg_proc p
 WHERE p.pronamespace = 'migrate'::regnamespace
   AND p.proname IN ('apply', 'rollback', 'status', 'findings', 'lint_rules')
 ORDER BY 1::text;
-- the helper of the update script is gone
SELECT count(*) AS helpers FROM pg_proc WHERE proname = 'upgrade_replace_function';
DROP EXTENSION migrations_schema;
DROP ROLE ms_upgrade_deploy;

-- 0.3.0 -> 0.3.1: audit_health() and summary() work for a reader without the privilege to
-- read shared_preload_libraries (in 0.3.0 they failed with 42501); grants are kept.
CREATE EXTENSION migrations_schema VERSION '0.3.0';
CREATE ROLE ms_upgrade_reader;
GRANT USAGE ON SCHEMA migrate TO ms_upgrade_reader;
GRANT EXECUTE ON FUNCTION migrate.audit_health(), migrate.summary(),
                          migrate.drift(timestamptz, boolean) TO ms_upgrade_reader;
GRANT SELECT ON migrate.migrations, migrate.history, migrate.ddl_audit TO ms_upgrade_reader;
SET ROLE ms_upgrade_reader;
-- (by its SQLSTATE: the message changed in 16)
DO $$
BEGIN
    PERFORM ok FROM migrate.audit_health() WHERE component = 'statement capture';
    RAISE NOTICE 'audit_health() answered';
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'audit_health() failed: %', SQLSTATE;
END $$;
RESET ROLE;
ALTER EXTENSION migrations_schema UPDATE TO '0.3.1';
SET ROLE ms_upgrade_reader;
SELECT component, ok FROM migrate.audit_health() WHERE component = 'statement capture';
SELECT applied, pending, audit_ok FROM migrate.summary();
RESET ROLE;
DROP EXTENSION migrations_schema;
DROP OWNED BY ms_upgrade_reader;
DROP ROLE ms_upgrade_reader;
CREATE EXTENSION migrations_schema;

-- 0.3.1 -> 0.4.0: status() reads the new queue migrate.steps; a reader of migrate.migrations
-- may read it after the update, and EXECUTE on status() and split() is kept.
DROP EXTENSION migrations_schema;
CREATE EXTENSION migrations_schema VERSION '0.3.1';
CREATE ROLE ms_upgrade_reader;
GRANT USAGE ON SCHEMA migrate TO ms_upgrade_reader;
GRANT EXECUTE ON FUNCTION migrate.status(), migrate.split(text) TO ms_upgrade_reader;
GRANT SELECT, INSERT, UPDATE ON migrate.migrations TO ms_upgrade_reader;
GRANT SELECT, UPDATE ON migrate.history_id_seq TO ms_upgrade_reader;
-- default privileges would give the new queue to this role: they do not
CREATE ROLE ms_upgrade_default;
ALTER DEFAULT PRIVILEGES GRANT ALL ON TABLES TO ms_upgrade_default;
ALTER EXTENSION migrations_schema UPDATE TO '0.4.0';
ALTER DEFAULT PRIVILEGES REVOKE ALL ON TABLES FROM ms_upgrade_default;
SET ROLE ms_upgrade_reader;
SELECT version, state, steps_done FROM migrate.status();
SELECT statement, runs FROM migrate.split('CREATE INDEX CONCURRENTLY x ON y (z)');
RESET ROLE;
-- the reader keeps reading; no role but the owner may write a table of the extension
SELECT c.relname,
       has_table_privilege('ms_upgrade_reader', c.oid, 'SELECT') AS reader_reads,
       has_table_privilege('ms_upgrade_reader', c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')
           AS reader_writes,
       has_table_privilege('ms_upgrade_default', c.oid,
           'SELECT, INSERT, UPDATE, DELETE, TRUNCATE') AS default_role_any
  FROM pg_class c
 WHERE c.relnamespace = 'migrate'::regnamespace AND c.relkind = 'r'
 ORDER BY 1;
SELECT has_sequence_privilege('ms_upgrade_reader', 'migrate.history_id_seq', 'UPDATE')
    AS reader_updates_sequence;
DROP ROLE ms_upgrade_default;
DROP EXTENSION migrations_schema;
DROP OWNED BY ms_upgrade_reader;
DROP ROLE ms_upgrade_reader;
CREATE EXTENSION migrations_schema;

-- 0.3.1 -> 0.4.0 keeps every applied migration as it was: the update computes their token
-- checksums, so the same scripts are "unchanged", a cosmetic edit is accepted and a token edit
-- is still refused. The rows are made by this version and loaded as 0.3.1 stores them.
SELECT migrate.apply('001', E'CREATE TABLE up_t (id int);\r\n', 'DROP TABLE up_t', 't');
SELECT migrate.apply('002', $s$-- a function
CREATE FUNCTION up_f() RETURNS text LANGUAGE sql AS $$SELECT 'it''s'$$;
$s$, 'DROP FUNCTION up_f()', 'f');
CREATE TEMP TABLE saved_migrations_031 AS
    SELECT version, sort_key, name, up_sql, down_sql, checksum, state, registered_at,
           applied_seq, applied_at, applied_by, duration_ms, statements, out_of_order, findings,
           overrides
      FROM migrate.migrations;
CREATE TEMP TABLE saved_history_031 AS
    SELECT id, version, name, action, checksum, performed_at, performed_by, duration_ms,
           statements, out_of_order, txid, findings, overrides
      FROM migrate.history;
DROP EXTENSION migrations_schema;
CREATE EXTENSION migrations_schema VERSION '0.3.1';
INSERT INTO migrate.migrations SELECT * FROM saved_migrations_031;
INSERT INTO migrate.history SELECT * FROM saved_history_031;
SELECT setval(pg_get_serial_sequence('migrate.history', 'id'), max(id)) > 0 AS sequence_set
  FROM migrate.history;
ALTER EXTENSION migrations_schema UPDATE TO '0.4.0';
SELECT version, state, token_checksum = migrate.token_checksum(up_sql) AS tokens_known
  FROM migrate.migrations ORDER BY version;
SELECT migrate.apply('001', E'CREATE TABLE up_t (id int);\n', 'DROP TABLE up_t', 't');
SELECT migrate.apply('002', $s$-- a function
CREATE FUNCTION up_f() RETURNS text LANGUAGE sql AS $$SELECT 'it''s'$$;
$s$);
SELECT migrate.apply('002', $s$CREATE FUNCTION up_f()
    RETURNS text LANGUAGE sql
    AS $$SELECT 'it''s'$$;  -- reformatted$s$);
SELECT migrate.apply('002', $s$CREATE FUNCTION up_f() RETURNS text LANGUAGE sql AS $$SELECT 'its'$$;
$s$);
SELECT version, state FROM migrate.status();
SELECT version, action FROM migrate.history ORDER BY id;
DROP FUNCTION up_f();
DROP TABLE up_t;
DROP EXTENSION migrations_schema;
CREATE EXTENSION migrations_schema;

-- Every other update path to the current version gives the fresh installation too.
CREATE FUNCTION pg_temp.differences_from(start text) RETURNS TABLE (obj text)
LANGUAGE plpgsql AS $$
BEGIN
    DROP EXTENSION migrations_schema;
    EXECUTE format('CREATE EXTENSION migrations_schema VERSION %L', start);
    ALTER EXTENSION migrations_schema UPDATE;
    RETURN QUERY (SELECT * FROM extension_objects EXCEPT SELECT * FROM fresh)
                 UNION ALL
                 (SELECT * FROM fresh EXCEPT SELECT * FROM extension_objects);
END
$$;
SELECT v AS start, d.obj FROM unnest(ARRAY['0.1.0', '0.2.0', '0.3.0', '0.3.1']) AS v,
       LATERAL pg_temp.differences_from(v) AS d;
SELECT extversion FROM pg_extension WHERE extname = 'migrations_schema';
