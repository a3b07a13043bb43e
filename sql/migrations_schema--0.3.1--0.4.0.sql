-- migrations_schema 0.3.1 -> 0.4.0:
--   * steps after commit: statements that cannot run in a transaction block (CREATE INDEX
--     CONCURRENTLY and friends), and everything after them in a script, run after the
--     caller's transaction commits, in a background worker: the queue migrate.steps, new
--     states (queued, applying, rolling back, failed), history actions for them,
--     migrate.wait() and migrate.retry(); status() shows where the steps are, split() when
--     each statement runs;
--   * order keys: migrate.register(..., order_key) places a migration in a client's own order
--     (diesel's string order, Alembic's revision chain) instead of the natural version order;
--   * adopting a database another tool migrated: migrate.adopt(source, table_name) records the
--     history of Flyway, dbmate, golang-migrate, sqlx, diesel, Alembic, node-pg-migrate, Sqitch
--     or Prisma as applied (migrations without scripts until they are attached: up_sql and
--     checksum may be NULL, adopted_from says where from); migrate.baseline(version);
--   * checksums that survive cosmetic edits: token_checksum (PostgreSQL's lexer tokens) next
--     to the raw checksum, filled in here for the migrations already known;
--     migrate.token_checksum(), migrate.compare_script(); history actions and a detail column;
--   * repeatable migrations: migrate.repeatables, register_repeatable(), apply_repeatable();
--     status() lists them;
--   * verifying migrations on the catalog: migrate.verify() (does the down script undo the up
--     script?), migrate.plan() (a dry run that really runs), migrate.schema(); apply(...,
--     verify) and migrations.verified, shown by status() (reversible);
--   * migrate.selftest() is gone: it proved the C++ error boundary for the test suite, which
--     now builds it as a module of its own (test/selftest).
\echo Use "ALTER EXTENSION migrations_schema UPDATE TO '0.4.0'" to load this file. \quit

DROP FUNCTION migrate.selftest(text);

------------------------------------------------------------------------------------------
-- New states of a migration and new history actions
------------------------------------------------------------------------------------------

ALTER TABLE migrate.migrations DROP CONSTRAINT migrations_state_check;
ALTER TABLE migrate.migrations ADD CONSTRAINT migrations_state_check
    CHECK (state IN ('pending', 'queued', 'applying', 'applied', 'rolling back',
                     'rolled back', 'failed'));
ALTER TABLE migrate.migrations DROP CONSTRAINT migrations_check;
ALTER TABLE migrate.migrations ADD CONSTRAINT migrations_check CHECK (CASE
        WHEN state IN ('applying', 'applied', 'rolling back')
            THEN applied_seq IS NOT NULL AND applied_at IS NOT NULL
        WHEN state IN ('queued', 'failed') THEN true
        ELSE applied_seq IS NULL END);
DROP INDEX migrate.migrations_applied_seq_idx;
CREATE UNIQUE INDEX migrations_applied_seq_idx ON migrate.migrations (applied_seq)
    WHERE applied_seq IS NOT NULL;
CREATE INDEX migrations_pending_idx ON migrate.migrations (sort_key)
    WHERE state IN ('pending', 'rolled back');
CREATE INDEX migrations_in_schema_idx ON migrate.migrations (sort_key)
    WHERE state IN ('applied', 'applying', 'queued', 'rolling back', 'failed');

ALTER TABLE migrate.migrations
    ADD COLUMN order_key text;  -- its place in a client's own order (register(order_key =>))
-- Adopted migrations have no scripts until they are attached; scripts are compared on their
-- lexer tokens too.
ALTER TABLE migrate.migrations
    ALTER COLUMN up_sql DROP NOT NULL,
    ALTER COLUMN checksum DROP NOT NULL,
    ADD COLUMN token_checksum text,
    ADD COLUMN adopted_from text,
    ADD COLUMN verified jsonb;

ALTER TABLE migrate.history DROP CONSTRAINT history_action_check;
ALTER TABLE migrate.history ADD CONSTRAINT history_action_check
    CHECK (action IN ('apply', 'rollback', 'update_down', 'apply_done', 'rollback_done',
                      'step_failed', 'retry', 'adopt', 'baseline', 'attach', 'cosmetic_edit',
                      'repeatable'));
ALTER TABLE migrate.history
    ALTER COLUMN checksum DROP NOT NULL,
    ADD COLUMN error jsonb,  -- step_failed: sqlstate, message, detail, hint, statement, line
    ADD COLUMN detail jsonb; -- adopt: the source; cosmetic_edit: the checksums before and after
CREATE INDEX history_baseline_idx ON migrate.history (id) WHERE action = 'baseline';

CREATE TABLE migrate.repeatables (
    name           text PRIMARY KEY,
    script         text NOT NULL,
    checksum       text NOT NULL,
    token_checksum text NOT NULL,
    state          text NOT NULL DEFAULT 'pending'
                   CHECK (state IN ('pending', 'applied')),
    registered_at  timestamptz NOT NULL DEFAULT now(),
    applied_at     timestamptz,
    applied_by     text,
    duration_ms    double precision,
    statements     integer,
    runs           integer NOT NULL DEFAULT 0,
    ran_token_checksum text
);
COMMENT ON TABLE migrate.repeatables IS
    'Repeatable migrations: run again whenever their script changes';
SELECT pg_catalog.pg_extension_config_dump('migrate.repeatables', '');

------------------------------------------------------------------------------------------
-- The queue
------------------------------------------------------------------------------------------

CREATE SEQUENCE migrate.steps_queue_seq;
CREATE TABLE migrate.steps (
    id               bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    queue_seq        bigint NOT NULL,          -- one per migration run: its place in the queue
    position         integer NOT NULL CHECK (position >= 0),  -- 0: the whole migration, queued
                                               -- behind another one's steps; 1, 2, ...: its steps
    version          text NOT NULL,
    direction        text NOT NULL CHECK (direction IN ('up', 'down')),
    statements       text[],                   -- the step (a BEGIN ... COMMIT block: several)
    numbers          integer[],                -- their numbers and lines in the script
    lines            integer[],
    settings         text[],                   -- the script's SET statements before the step
    run_as           name NOT NULL,            -- the role that applied the migration
    search_path      text NOT NULL,            -- and its settings when it did
    lock_timeout     integer NOT NULL,
    lock_retries     integer NOT NULL,
    lock_retry_delay integer NOT NULL,
    allow            text[],                   -- the overrides given to the call (allow =>)
    state            text NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'running', 'done', 'failed', 'cancelled')),
    attempts         integer NOT NULL DEFAULT 0,
    pid              integer,                  -- the worker running it
    queued_at        timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    finished_at      timestamptz,
    pre_indexes      oid[],                    -- indexes of its table before it ran
    error            jsonb,
    UNIQUE (queue_seq, position)
);
CREATE INDEX steps_unfinished_idx ON migrate.steps (queue_seq, position)
    WHERE state IN ('pending', 'running', 'failed');
-- status() and wait() look a migration's entries up by version.
CREATE INDEX steps_version_idx ON migrate.steps (version, queue_seq);
COMMENT ON TABLE migrate.steps IS
    'Work that runs after commit in the migrations_schema worker: steps, and migrations queued behind them';

SELECT pg_catalog.pg_extension_config_dump('migrate.steps', '');
SELECT pg_catalog.pg_extension_config_dump(
    pg_catalog.pg_get_serial_sequence('migrate.steps', 'id'), '');
SELECT pg_catalog.pg_extension_config_dump('migrate.steps_queue_seq', '');

-- Default privileges may have granted something on the tables just created, and earlier
-- versions left them on the tables: write access to these tables is the power to run SQL as
-- whoever applies or rolls back next (a down script, a queued step). Nobody but the owner
-- keeps any privilege on the queue, nor a write privilege on any table (reads stay).
DO $strip$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT DISTINCT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END AS kind,
               pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname) AS object,
               CASE WHEN c.relname OPERATOR(pg_catalog.~) '^(steps|repeatables)' THEN 'ALL'
                    WHEN c.relkind OPERATOR(pg_catalog.=) 'S' THEN 'UPDATE'
                    ELSE 'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER' END AS privileges,
               CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'
                    ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END AS grantee
          FROM pg_catalog.pg_class AS c
          JOIN pg_catalog.pg_namespace AS n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace,
               pg_catalog.aclexplode(c.relacl) AS a
         WHERE n.nspname OPERATOR(pg_catalog.=) 'migrate'
           AND c.relkind OPERATOR(pg_catalog.=) ANY ('{r,S}'::"char"[])
           AND a.grantee OPERATOR(pg_catalog.<>) c.relowner
    LOOP
        EXECUTE pg_catalog.format('REVOKE %s ON %s %s FROM %s', r.privileges, r.kind, r.object,
                                  r.grantee);
    END LOOP;
END
$strip$;

-- status() reads the queue and the repeatable migrations: every role that may read
-- migrate.migrations may read them too.
DO $grant$
DECLARE
    g record;
BEGIN
    FOR g IN SELECT a.grantee, a.is_grantable
               FROM pg_catalog.pg_class AS c, pg_catalog.aclexplode(c.relacl) AS a
              WHERE c.oid OPERATOR(pg_catalog.=) 'migrate.migrations'::pg_catalog.regclass
                AND a.privilege_type OPERATOR(pg_catalog.=) 'SELECT'
                AND a.grantee OPERATOR(pg_catalog.<>) c.relowner
    LOOP
        EXECUTE pg_catalog.format('GRANT SELECT ON migrate.steps, migrate.repeatables TO %s%s',
                    CASE WHEN g.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'
                         ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(g.grantee)) END,
                    CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
END
$grant$;

------------------------------------------------------------------------------------------
-- status() and split() return more columns: dropped and created again, with the grants of
-- the old ones.
------------------------------------------------------------------------------------------

-- Drops old_signature, runs create_sql (which creates new_signature), then gives the new
-- function the old one's EXECUTE grants. Used by this script only, and dropped at its end.
CREATE FUNCTION migrate.upgrade_replace_function(old_signature text, new_signature text,
                                                 create_sql text)
RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $body$
DECLARE
    acl aclitem[];
    owner oid;
    g record;
BEGIN
    SELECT p.proacl, p.proowner INTO acl, owner
      FROM pg_catalog.pg_proc AS p WHERE p.oid = old_signature::pg_catalog.regprocedure;
    EXECUTE 'DROP FUNCTION ' || old_signature;
    EXECUTE create_sql;
    IF acl IS NULL THEN
        RETURN;  -- the old function had the default privileges; so has the new one
    END IF;
    EXECUTE 'REVOKE ALL ON FUNCTION ' || new_signature || ' FROM PUBLIC';
    FOR g IN SELECT a.grantee, a.is_grantable
               FROM pg_catalog.aclexplode(acl) AS a
              WHERE a.privilege_type = 'EXECUTE' AND a.grantee OPERATOR(pg_catalog.<>) owner
    LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %s%s', new_signature,
                    CASE WHEN g.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'
                         ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(g.grantee)) END,
                    CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
END;
$body$;

SELECT migrate.upgrade_replace_function('migrate.register(text, text, text, text)',
    'migrate.register(text, text, text, text, text)', $create$
CREATE FUNCTION migrate.register(
    version text,
    up_sql text,
    down_sql text DEFAULT NULL,
    name text DEFAULT NULL,
    order_key text DEFAULT NULL)
RETURNS text
    LANGUAGE c VOLATILE CALLED ON NULL INPUT
    AS 'MODULE_PATHNAME', 'migrate_register';
$create$);

SELECT migrate.upgrade_replace_function('migrate.status()', 'migrate.status()', $create$
CREATE FUNCTION migrate.status()
RETURNS TABLE (
    version text,
    name text,
    state text,
    applied_at timestamptz,
    applied_by text,
    duration_ms numeric,
    statements integer,
    checksum text,
    warnings integer,
    overrides text[],
    steps_done integer,
    steps_total integer,
    step text,
    phase text,
    error text,
    reversible boolean)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
      SELECT s.version, s.name, s.state, s.applied_at, s.applied_by, s.duration_ms,
             s.statements, s.checksum, s.warnings, s.overrides, s.steps_done, s.steps_total,
             s.step, s.phase, s.error, s.reversible
        FROM (
        SELECT m.sort_key AS place, m.version, m.name, m.state,
               date_trunc('second', m.applied_at) AS applied_at, m.applied_by,
               round(m.duration_ms::numeric, 2) AS duration_ms, m.statements, m.checksum,
               CASE WHEN m.findings IS NOT NULL THEN
                   (SELECT count(*)::integer FROM jsonb_array_elements(m.findings) AS f
                     WHERE f->>'severity' = 'warning' AND NOT (f->>'allowed')::boolean) END
                   AS warnings,
               (SELECT array_agg(DISTINCT o->>'rule' ORDER BY o->>'rule')
                  FROM jsonb_array_elements(m.overrides) AS o
                 WHERE (o->>'matched')::boolean) AS overrides,
               q.done AS steps_done, q.total AS steps_total,
               CASE WHEN c.position = 0 THEN 'the whole migration'
                    WHEN c.position > 0 THEN 'step ' || c.position || ' (statement '
                         || c.numbers[1] || ', line ' || c.lines[1] || '): '
                         || split_part(ltrim(c.statements[1]), E'\n', 1) END AS step,
               CASE WHEN m.up_sql IS NULL
                        THEN 'adopted from ' || m.adopted_from || '; no script attached'
                    WHEN c.state = 'running' AND w.pid IS NULL
                        THEN 'interrupted: its worker (pid ' || c.pid || ') is gone; it resumes '
                             || 'with the next apply(), retry() or wait()'
                    WHEN c.state = 'running'
                        THEN coalesce(p.phase || CASE WHEN p.blocks_total > 0
                                 THEN ' (' || round(100.0 * p.blocks_done / p.blocks_total)
                                      || '% of blocks)' ELSE '' END, 'running')
                    WHEN c.state = 'pending' AND b.version IS NOT NULL
                        THEN 'queued behind migration ' || b.version
                    WHEN c.state = 'pending' THEN 'waiting for the worker'
                    WHEN c.state = 'failed' THEN 'failed after ' || c.attempts
                         || CASE WHEN c.attempts = 1 THEN ' attempt' ELSE ' attempts' END END
                   AS phase,
               CASE WHEN c.state = 'failed'
                    THEN (c.error->>'sqlstate') || ': ' || (c.error->>'message') END AS error,
               (m.verified->>'reversible')::boolean AS reversible
          FROM migrate.migrations AS m
          LEFT JOIN LATERAL (
              SELECT max(s.queue_seq) AS queue_seq,
                     (count(*) FILTER (WHERE s.position > 0 AND s.state = 'done'))::integer
                         AS done,
                     (count(*) FILTER (WHERE s.position > 0))::integer AS total
                FROM migrate.steps AS s
               WHERE s.version = m.version
                 AND s.queue_seq = (SELECT max(l.queue_seq) FROM migrate.steps AS l
                                     WHERE l.version = m.version)
               HAVING count(*) > 0) AS q
                 ON m.state IN ('queued', 'applying', 'rolling back', 'failed')
          LEFT JOIN LATERAL (
              SELECT s.* FROM migrate.steps AS s
               WHERE s.queue_seq = q.queue_seq AND s.state IN ('pending', 'running', 'failed')
               ORDER BY s.position LIMIT 1) AS c ON true
          LEFT JOIN pg_stat_activity AS w
                 ON w.pid = c.pid AND w.backend_type = 'migrations_schema worker'
          LEFT JOIN pg_stat_progress_create_index AS p ON p.pid = c.pid AND w.pid IS NOT NULL
          LEFT JOIN LATERAL (
              SELECT s.version FROM migrate.steps AS s
               WHERE s.queue_seq < c.queue_seq AND s.state IN ('pending', 'running', 'failed')
               ORDER BY s.queue_seq, s.position LIMIT 1) AS b ON c.position = 0
        UNION ALL
        SELECT '\xff'::bytea || convert_to(r.name, 'UTF8'), NULL, r.name, r.state,
               date_trunc('second', r.applied_at), r.applied_by,
               round(r.duration_ms::numeric, 2), r.statements, r.checksum,
               NULL, NULL, NULL, NULL, NULL,
               CASE WHEN r.state = 'applied'
                        THEN 'repeatable: ran ' || r.runs
                             || CASE WHEN r.runs = 1 THEN ' time' ELSE ' times' END
                    WHEN r.runs = 0 THEN 'repeatable: new, runs with the next apply()'
                    ELSE 'repeatable: changed, runs again with the next apply()' END,
               NULL, NULL
          FROM migrate.repeatables AS r) AS s
       ORDER BY s.place
    $$
$create$);

SELECT migrate.upgrade_replace_function('migrate.split(text)', 'migrate.split(text)', $create$
CREATE FUNCTION migrate.split(script text)
RETURNS TABLE (statement integer, line integer, command text, sql text, runs text)
    LANGUAGE c VOLATILE CALLED ON NULL INPUT
    AS 'MODULE_PATHNAME', 'migrate_split'
$create$);

SELECT migrate.upgrade_replace_function(
    'migrate.apply(text, text, text, text, boolean, text[])',
    'migrate.apply(text, text, text, text, boolean, text[], boolean)', $create$
CREATE FUNCTION migrate.apply(
    version text,
    up_sql text,
    down_sql text DEFAULT NULL,
    name text DEFAULT NULL,
    allow_out_of_order boolean DEFAULT false,
    allow text[] DEFAULT NULL,
    verify boolean DEFAULT NULL)
RETURNS text
    LANGUAGE c VOLATILE CALLED ON NULL INPUT
    AS 'MODULE_PATHNAME', 'migrate_apply_one'
$create$);

SELECT migrate.upgrade_replace_function('migrate.apply(text, boolean, text[])',
    'migrate.apply(text, boolean, text[], boolean)', $create$
CREATE FUNCTION migrate.apply(
    to_version text DEFAULT NULL,
    allow_out_of_order boolean DEFAULT false,
    allow text[] DEFAULT NULL,
    verify boolean DEFAULT NULL)
RETURNS TABLE (version text, name text, statements integer, duration_ms double precision)
    LANGUAGE c VOLATILE CALLED ON NULL INPUT ROWS 10
    AS 'MODULE_PATHNAME', 'migrate_apply_pending'
$create$);

DROP FUNCTION migrate.upgrade_replace_function(text, text, text);

------------------------------------------------------------------------------------------
-- Waiting for steps, retrying a failed one
------------------------------------------------------------------------------------------

CREATE PROCEDURE migrate.wait(version text DEFAULT NULL, timeout interval DEFAULT NULL)
    LANGUAGE c
    AS 'MODULE_PATHNAME', 'migrate_wait';

-- Runs the failed step (and everything queued behind it) again. Returns the version.
CREATE FUNCTION migrate.retry(version text DEFAULT NULL) RETURNS text
    LANGUAGE c VOLATILE CALLED ON NULL INPUT
    AS 'MODULE_PATHNAME', 'migrate_retry';

------------------------------------------------------------------------------------------
-- Adoption, baselines, repeatable migrations, token checksums
------------------------------------------------------------------------------------------

CREATE FUNCTION migrate.register_repeatable(name text, script text)
RETURNS text
    LANGUAGE c VOLATILE CALLED ON NULL INPUT
    AS 'MODULE_PATHNAME', 'migrate_register_repeatable';
CREATE FUNCTION migrate.apply_repeatable(name text, script text, allow text[] DEFAULT NULL)
RETURNS boolean
    LANGUAGE c VOLATILE CALLED ON NULL INPUT
    AS 'MODULE_PATHNAME', 'migrate_apply_repeatable';
CREATE FUNCTION migrate.adopt(source text, table_name text DEFAULT NULL)
RETURNS TABLE (version text, name text, result text, applied_at timestamptz, applied_by text,
               detail text)
    LANGUAGE c VOLATILE CALLED ON NULL INPUT ROWS 20
    AS 'MODULE_PATHNAME', 'migrate_adopt';
CREATE FUNCTION migrate.baseline(version text, name text DEFAULT NULL)
RETURNS integer
    LANGUAGE c VOLATILE CALLED ON NULL INPUT
    AS 'MODULE_PATHNAME', 'migrate_baseline';
CREATE FUNCTION migrate.token_checksum(script text) RETURNS text
    LANGUAGE c IMMUTABLE PARALLEL SAFE CALLED ON NULL INPUT
    AS 'MODULE_PATHNAME', 'migrate_token_checksum';
CREATE FUNCTION migrate.compare_script(version text, script text) RETURNS text
    LANGUAGE c STABLE CALLED ON NULL INPUT
    AS 'MODULE_PATHNAME', 'migrate_compare_script';

------------------------------------------------------------------------------------------
-- The catalog snapshot: verify, plan, schema
------------------------------------------------------------------------------------------

CREATE FUNCTION migrate.verify(migration text DEFAULT NULL, applied boolean DEFAULT false)
RETURNS TABLE (version text, name text, reversible boolean, rerunnable boolean,
               differences jsonb, error text)
    LANGUAGE c VOLATILE CALLED ON NULL INPUT ROWS 10
    AS 'MODULE_PATHNAME', 'migrate_verify';

-- A dry run that really runs: the pending migrations (up to to_version), or `script`, run
-- statement by statement in a subtransaction that is always rolled back. One row per statement.
CREATE FUNCTION migrate.plan(to_version text DEFAULT NULL, script text DEFAULT NULL)
RETURNS TABLE (version text, statement integer, line integer, command text, sql text,
               runs text, duration_ms double precision, locks jsonb, rewrites text[],
               rows_inserted bigint, rows_updated bigint, rows_deleted bigint, findings jsonb,
               waits_for jsonb, error text)
    LANGUAGE c VOLATILE CALLED ON NULL INPUT ROWS 20
    AS 'MODULE_PATHNAME', 'migrate_plan';

-- The schema as deterministic DDL-like text, read from the catalogs.
CREATE FUNCTION migrate.schema() RETURNS text
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'migrate_schema';

-- The migrations known already get their token checksums: an applied one whose file is only
-- reformatted later is not "edited". A script the lexer rejects (none that ran can be) keeps
-- the raw comparison only.
DO $fill$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT m.version, m.up_sql FROM migrate.migrations AS m LOOP
        BEGIN
            UPDATE migrate.migrations AS m
               SET token_checksum = migrate.token_checksum(r.up_sql)
             WHERE m.version OPERATOR(pg_catalog.=) r.version;
        EXCEPTION WHEN syntax_error OR data_exception OR feature_not_supported THEN
            NULL;
        END;
    END LOOP;
END
$fill$;

REVOKE ALL ON PROCEDURE migrate.wait(text, interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate.retry(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate.register_repeatable(text, text),
                       migrate.apply_repeatable(text, text, text[]),
                       migrate.adopt(text, text), migrate.baseline(text, text),
                       migrate.token_checksum(text), migrate.compare_script(text, text),
                       migrate.verify(text, boolean), migrate.plan(text, text),
                       migrate.schema()
    FROM PUBLIC;
