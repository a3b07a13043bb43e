-- migrations_schema 0.3.0 -> 0.3.1: audit_health() (and summary(), which calls it) no longer
-- needs the privilege to read shared_preload_libraries: whether the library is preloaded comes
-- from a C function that reads only that.
\echo Use "ALTER EXTENSION migrations_schema UPDATE TO '0.3.1'" to load this file. \quit

-- Whether shared_preload_libraries or session_preload_libraries lists this library. It tells
-- nothing else about those settings, so every role that may use schema migrate may call it
-- (audit_health() and summary() call it as their caller).
CREATE FUNCTION migrate.audit_preloaded() RETURNS boolean
    LANGUAGE c STABLE
    AS 'MODULE_PATHNAME', 'migrate_audit_preloaded';
GRANT EXECUTE ON FUNCTION migrate.audit_preloaded() TO PUBLIC;

-- One row per thing the audit depends on; ok is false when it is missing or disabled.
CREATE OR REPLACE FUNCTION migrate.audit_health()
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
               CASE WHEN migrate.audit_preloaded()
                    THEN 'library preloaded: every statement text is exact'
                    ELSE 'library loaded on first use: the first DDL statement of a session may record the client''s whole query string (statement_exact = false)' END
    $$;
