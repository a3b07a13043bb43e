-- migrations_schema 0.1.0 -> 0.2.0: the DDL audit.
\echo Use "ALTER EXTENSION migrations_schema UPDATE TO '0.2.0'" to load this file. \quit

------------------------------------------------------------------------------------------
-- The audit table: one row per object touched by DDL, written at commit, hash-chained.
-- Column names follow pg_event_trigger_ddl_commands() / pg_event_trigger_dropped_objects().
------------------------------------------------------------------------------------------

CREATE TABLE migrate.ddl_audit (
    id                bigint PRIMARY KEY,   -- position in the chain: 1, 2, 3, ... in commit order
    statement_time    timestamptz NOT NULL, -- statement_timestamp() of the DDL statement
    txid              xid8 NOT NULL,
    backend_pid       integer NOT NULL,
    session_user_name name NOT NULL,
    current_user_name name NOT NULL,
    application_name  text,
    client_addr       inet,                 -- NULL for Unix-socket connections
    event             text NOT NULL
        CHECK (event IN ('create', 'alter', 'drop', 'rewrite', 'grant', 'revoke', 'comment',
                         'refresh', 'purge')),
    command_tag       text NOT NULL,
    object_type       text,
    schema_name       text,
    object_identity   text,
    classid           oid,
    objid             oid,
    objsubid          integer,
    in_extension      boolean NOT NULL,     -- made by a CREATE / ALTER EXTENSION script
    statement         text,                 -- the statement that did it
    statement_exact   boolean NOT NULL,     -- false: the client's whole query string
    migration_version text,                 -- set when the DDL ran inside a migration
    migration_script  text CHECK (migration_script IN ('up', 'down')),
    detail            jsonb,                -- drop flags, rewrite reasons, grant details, purge
    prev_hash         bytea,                -- hash of row id - 1 (NULL only for row 1)
    hash              bytea NOT NULL        -- SHA-256 of this row's canonical form
);

COMMENT ON TABLE migrate.ddl_audit IS
    'Every DDL change, in or out of migrations: append-only and hash-chained (migrate.verify_audit())';

SELECT pg_catalog.pg_extension_config_dump('migrate.ddl_audit', '');

CREATE TRIGGER ddl_audit_append_only BEFORE UPDATE OR DELETE ON migrate.ddl_audit
    FOR EACH ROW EXECUTE FUNCTION migrate.refuse_change();
CREATE TRIGGER ddl_audit_no_truncate BEFORE TRUNCATE ON migrate.ddl_audit
    FOR EACH STATEMENT EXECUTE FUNCTION migrate.refuse_change();
-- The audit writes its rows without firing triggers; a direct INSERT or COPY (a restore by a
-- privileged role) is accepted only into an empty table.
CREATE FUNCTION migrate.audit_load_check() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'migrate_audit_load_check';
CREATE TRIGGER ddl_audit_load_check BEFORE INSERT ON migrate.ddl_audit
    FOR EACH STATEMENT EXECUTE FUNCTION migrate.audit_load_check();
ALTER TABLE migrate.ddl_audit ENABLE ALWAYS TRIGGER ddl_audit_append_only;
ALTER TABLE migrate.ddl_audit ENABLE ALWAYS TRIGGER ddl_audit_no_truncate;
ALTER TABLE migrate.ddl_audit ENABLE ALWAYS TRIGGER ddl_audit_load_check;

------------------------------------------------------------------------------------------
-- Capture: event triggers implemented in C++, firing also under
-- session_replication_role = replica.
------------------------------------------------------------------------------------------

CREATE FUNCTION migrate.audit_ddl_command_end() RETURNS event_trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'migrate_audit_ddl_command_end';
CREATE FUNCTION migrate.audit_sql_drop() RETURNS event_trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'migrate_audit_sql_drop';
CREATE FUNCTION migrate.audit_table_rewrite() RETURNS event_trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'migrate_audit_table_rewrite';

CREATE EVENT TRIGGER migrate_audit_ddl_command_end ON ddl_command_end
    EXECUTE FUNCTION migrate.audit_ddl_command_end();
CREATE EVENT TRIGGER migrate_audit_sql_drop ON sql_drop
    EXECUTE FUNCTION migrate.audit_sql_drop();
CREATE EVENT TRIGGER migrate_audit_table_rewrite ON table_rewrite
    EXECUTE FUNCTION migrate.audit_table_rewrite();
ALTER EVENT TRIGGER migrate_audit_ddl_command_end ENABLE ALWAYS;
ALTER EVENT TRIGGER migrate_audit_sql_drop ENABLE ALWAYS;
ALTER EVENT TRIGGER migrate_audit_table_rewrite ENABLE ALWAYS;

------------------------------------------------------------------------------------------
-- Trust: chain verification and the only way to remove rows.
------------------------------------------------------------------------------------------

-- Walks the chain in id order: recomputes every row's hash and checks every link. valid is
-- false at the first changed row, missing row or broken link (broken_id, problem).
CREATE FUNCTION migrate.verify_audit(
    OUT valid boolean,
    OUT rows_checked bigint,
    OUT first_id bigint,
    OUT last_id bigint,
    OUT broken_id bigint,
    OUT problem text)
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'migrate_verify_audit';

-- Superuser only. Deletes the audit rows recorded before older_than (the oldest rows, in
-- chain order; never the newest row) and appends a 'purge' row recording what was deleted.
CREATE FUNCTION migrate.purge_audit(older_than timestamptz) RETURNS bigint
    LANGUAGE c VOLATILE CALLED ON NULL INPUT
    AS 'MODULE_PATHNAME', 'migrate_purge_audit';

------------------------------------------------------------------------------------------
-- Health and drift
------------------------------------------------------------------------------------------

-- One row per thing the audit depends on; ok is false when it is missing or disabled.
CREATE FUNCTION migrate.audit_health()
RETURNS TABLE (component text, ok boolean, detail text)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
        WITH expected(component, kind, event) AS (
            VALUES ('migrate_audit_ddl_command_end', 'event trigger', 'ddl_command_end'),
                   ('migrate_audit_sql_drop', 'event trigger', 'sql_drop'),
                   ('migrate_audit_table_rewrite', 'event trigger', 'table_rewrite'))
        SELECT e.kind || ' ' || e.component,
               coalesce(t.evtenabled = 'A' AND t.evtevent = e.event, false),
               CASE WHEN t.oid IS NULL THEN 'missing: DDL on ' || e.event || ' is not audited'
                    WHEN t.evtevent <> e.event THEN 'fires on ' || t.evtevent || ', not ' || e.event
                    WHEN t.evtenabled = 'A' THEN 'enabled always (also under replica role)'
                    WHEN t.evtenabled = 'D' THEN 'disabled: DDL on ' || e.event || ' is not audited'
                    WHEN t.evtenabled = 'O' THEN 'enabled only in origin mode: not audited under session_replication_role = replica'
                    ELSE 'enabled only in replica mode: not audited in normal sessions' END
          FROM expected AS e
          LEFT JOIN pg_event_trigger AS t ON t.evtname = e.component
        UNION ALL
        SELECT 'table trigger ' || e.tgname,
               coalesce(t.tgenabled = 'A', false),
               CASE WHEN t.oid IS NULL THEN 'missing: migrate.ddl_audit is not protected'
                    WHEN t.tgenabled = 'A' THEN 'enabled always'
                    ELSE 'not enabled always: migrate.ddl_audit is not protected in every session' END
          FROM (VALUES ('ddl_audit_append_only'), ('ddl_audit_no_truncate'),
                       ('ddl_audit_load_check')) AS e(tgname)
          LEFT JOIN pg_trigger AS t
                 ON t.tgname = e.tgname AND t.tgrelid = 'migrate.ddl_audit'::regclass
        UNION ALL
        SELECT 'setting migrations_schema.audit',
               coalesce(current_setting('migrations_schema.audit', true), 'on') = 'on',
               CASE WHEN coalesce(current_setting('migrations_schema.audit', true), 'on') = 'on'
                    THEN 'on' ELSE 'off in this session: DDL is not audited' END
        UNION ALL
        SELECT 'statement capture', true,
               CASE WHEN 'migrations_schema' = ANY (string_to_array(
                             replace(current_setting('shared_preload_libraries') || ',' ||
                                     current_setting('session_preload_libraries'), ' ', ''), ','))
                    THEN 'library preloaded: every statement text is exact'
                    ELSE 'library loaded on first use: the first DDL statement of a session may record the client''s whole query string (statement_exact = false)' END
    $$;

-- DDL made outside migrations, newest first: since a time, or since the last migration ran
-- (its apply or rollback), or all of it. Extension-internal objects and purges are left out.
-- "Since the last migration" follows the chain, which is in commit order: DDL of the
-- migration's own transaction that the migration did not make, and every row after the
-- migration transaction's last row. Only when that transaction made no DDL (no row to place
-- it in the chain) its time decides.
CREATE FUNCTION migrate.drift(
    since timestamptz DEFAULT NULL,
    since_last_migration boolean DEFAULT false)
RETURNS TABLE (
    id bigint,
    statement_time timestamptz,
    event text,
    command_tag text,
    object_type text,
    object_identity text,
    session_user_name name,
    current_user_name name,
    application_name text,
    client_addr inet,
    statement text)
    LANGUAGE sql STABLE CALLED ON NULL INPUT
    SET search_path = pg_catalog, pg_temp
    AS $$
        WITH last AS (
            SELECT h.txid, h.performed_at FROM migrate.history AS h
             WHERE h.action IN ('apply', 'rollback')
             ORDER BY h.id DESC LIMIT 1),
        mark AS (
            SELECT max(a.id) AS id FROM migrate.ddl_audit AS a, last WHERE a.txid = last.txid)
        SELECT a.id, a.statement_time, a.event, a.command_tag, a.object_type,
               a.object_identity, a.session_user_name, a.current_user_name,
               a.application_name, a.client_addr, a.statement
          FROM migrate.ddl_audit AS a
          LEFT JOIN last ON true
          LEFT JOIN mark ON true
         WHERE a.migration_version IS NULL
           AND NOT a.in_extension
           AND a.event <> 'purge'
           AND (since IS NULL OR a.statement_time >= since)
           AND (NOT coalesce(since_last_migration, false)
                OR last.txid IS NULL
                OR a.txid = last.txid
                OR a.id > mark.id
                OR (mark.id IS NULL AND a.statement_time > last.performed_at))
         ORDER BY a.id DESC
    $$;

-- At a glance: migrations, and whether the schema drifted since the last one ran.
CREATE FUNCTION migrate.summary()
RETURNS TABLE (
    applied integer,
    pending integer,
    last_version text,
    last_migration_at timestamptz,
    drifted boolean,
    drift_changes bigint,
    last_drift_at timestamptz,
    audit_ok boolean)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
        WITH m AS (
            SELECT count(*) FILTER (WHERE state = 'applied')::integer AS applied,
                   count(*) FILTER (WHERE state <> 'applied')::integer AS pending
              FROM migrate.migrations),
        last AS (
            SELECT (SELECT version FROM migrate.migrations WHERE state = 'applied'
                     ORDER BY applied_seq DESC LIMIT 1) AS version,
                   (SELECT max(performed_at) FROM migrate.history
                     WHERE action IN ('apply', 'rollback')) AS at),
        d AS (
            SELECT count(*) AS n, max(statement_time) AS at
              FROM migrate.drift(since_last_migration => true))
        SELECT m.applied, m.pending, last.version, last.at, d.n > 0, d.n, d.at,
               (SELECT bool_and(h.ok) FROM migrate.audit_health() AS h)
          FROM m, last, d
    $$;

------------------------------------------------------------------------------------------
-- Safety lint: one row per finding, judged on the parse trees and the live catalog.
------------------------------------------------------------------------------------------

CREATE FUNCTION migrate.lint(sql text)
RETURNS TABLE (
    statement integer,
    line integer,
    rule_id text,
    rule text,
    severity text,
    message text,
    safe_alternative text)
    LANGUAGE c VOLATILE CALLED ON NULL INPUT
    AS 'MODULE_PATHNAME', 'migrate_lint';

------------------------------------------------------------------------------------------
-- Privileges: nothing for PUBLIC (see README "Privileges").
------------------------------------------------------------------------------------------

REVOKE ALL ON migrate.ddl_audit FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate.audit_ddl_command_end() FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate.audit_sql_drop() FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate.audit_table_rewrite() FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate.audit_load_check() FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate.verify_audit() FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate.purge_audit(timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate.audit_health() FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate.drift(timestamptz, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate.summary() FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate.lint(text) FROM PUBLIC;
