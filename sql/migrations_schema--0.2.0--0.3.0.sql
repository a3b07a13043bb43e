-- migrations_schema 0.2.0 -> 0.3.0: safety checks enforced by apply and rollback.
--   * apply and rollback lint each script on the live catalog before it runs: error-level
--     findings refuse it, warnings are raised as NOTICEs; overrides name the rules they allow
--     (the new `allow` argument, or `-- migrate:allow rule -- reason` lines in the script);
--   * what was found and allowed is stored with the migration and its history row;
--   * migrate.status() shows the warnings and overrides; migrate.findings() lists them;
--   * migrate.lint_rules() lists the rules an override may name.
\echo Use "ALTER EXTENSION migrations_schema UPDATE TO '0.3.0'" to load this file. \quit

------------------------------------------------------------------------------------------
-- Findings and overrides, per apply/rollback (history) and for the applied state (migrations)
------------------------------------------------------------------------------------------

ALTER TABLE migrate.history
    ADD COLUMN findings jsonb,   -- lint findings above info level and guard events, allowed or not
    ADD COLUMN overrides jsonb;  -- the overrides in effect: rule, reason, source, matched
ALTER TABLE migrate.migrations
    ADD COLUMN findings jsonb,   -- those of the apply that put it in its current state
    ADD COLUMN overrides jsonb;

------------------------------------------------------------------------------------------
-- apply / rollback take `allow`. A function's argument list cannot be changed in place, so
-- each is dropped and created again; EXECUTE granted on the old one is granted on the new one.
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

SELECT migrate.upgrade_replace_function(
    'migrate.apply(text, text, text, text, boolean)',
    'migrate.apply(text, text, text, text, boolean, text[])',
    $create$
-- Apply one migration in the caller's transaction. Returns 'applied', or 'unchanged' when the
-- same version with the same checksum is already applied. `allow`: overrides, each
-- 'rule[, rule ...] [-- reason]'.
CREATE FUNCTION migrate.apply(
    version text,
    up_sql text,
    down_sql text DEFAULT NULL,
    name text DEFAULT NULL,
    allow_out_of_order boolean DEFAULT false,
    allow text[] DEFAULT NULL)
RETURNS text
    LANGUAGE c VOLATILE CALLED ON NULL INPUT
    AS 'MODULE_PATHNAME', 'migrate_apply_one'
$create$);

SELECT migrate.upgrade_replace_function(
    'migrate.apply(text, boolean)',
    'migrate.apply(text, boolean, text[])',
    $create$
-- Apply every pending migration in version order, optionally up to and including to_version.
CREATE FUNCTION migrate.apply(
    to_version text DEFAULT NULL,
    allow_out_of_order boolean DEFAULT false,
    allow text[] DEFAULT NULL)
RETURNS TABLE (version text, name text, statements integer, duration_ms double precision)
    LANGUAGE c VOLATILE CALLED ON NULL INPUT ROWS 10
    AS 'MODULE_PATHNAME', 'migrate_apply_pending'
$create$);

SELECT migrate.upgrade_replace_function(
    'migrate.rollback(integer)',
    'migrate.rollback(integer, text[])',
    $create$
-- Roll back the newest `steps` applied migrations, newest first.
CREATE FUNCTION migrate.rollback(steps integer DEFAULT 1, allow text[] DEFAULT NULL)
RETURNS TABLE (version text, name text, statements integer, duration_ms double precision)
    LANGUAGE c VOLATILE CALLED ON NULL INPUT ROWS 10
    AS 'MODULE_PATHNAME', 'migrate_rollback_steps'
$create$);

SELECT migrate.upgrade_replace_function(
    'migrate.rollback(text)',
    'migrate.rollback(text, text[])',
    $create$
-- Roll back every applied migration above to_version, newest first.
CREATE FUNCTION migrate.rollback(to_version text, allow text[] DEFAULT NULL)
RETURNS TABLE (version text, name text, statements integer, duration_ms double precision)
    LANGUAGE c VOLATILE CALLED ON NULL INPUT ROWS 10
    AS 'MODULE_PATHNAME', 'migrate_rollback_to'
$create$);

SELECT migrate.upgrade_replace_function(
    'migrate.status()',
    'migrate.status()',
    $create$
-- One row per known migration, in version order, with the lint warnings of its apply and
-- the rules its apply allowed.
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
    overrides text[])
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
        SELECT m.version, m.name, m.state,
               date_trunc('second', m.applied_at), m.applied_by,
               round(m.duration_ms::numeric, 2), m.statements, m.checksum,
               CASE WHEN m.findings IS NOT NULL THEN
                   (SELECT count(*)::integer FROM jsonb_array_elements(m.findings) AS f
                     WHERE f->>'severity' = 'warning' AND NOT (f->>'allowed')::boolean) END,
               (SELECT array_agg(DISTINCT o->>'rule' ORDER BY o->>'rule')
                  FROM jsonb_array_elements(m.overrides) AS o
                 WHERE (o->>'matched')::boolean)
          FROM migrate.migrations AS m
         ORDER BY m.sort_key
    $$
$create$);

DROP FUNCTION migrate.upgrade_replace_function(text, text, text);

------------------------------------------------------------------------------------------
-- Rules and stored findings
------------------------------------------------------------------------------------------

-- The rules of migrate.lint and of the guards: what an override may name.
CREATE FUNCTION migrate.lint_rules()
RETURNS TABLE (rule_id text, rule text, family text, summary text)
    LANGUAGE c IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'migrate_lint_rules';

-- Findings stored by applies and rollbacks (newest first), of one version or of all.
CREATE FUNCTION migrate.findings(version text DEFAULT NULL)
RETURNS TABLE (
    history_id bigint,
    version text,
    action text,
    performed_at timestamptz,
    script text,
    statement integer,
    line integer,
    rule_id text,
    rule text,
    severity text,
    message text,
    safe_alternative text,
    allowed boolean,
    allowed_by text,
    reason text)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
        SELECT h.id, h.version, h.action, h.performed_at,
               f->>'script', (f->>'statement')::integer, (f->>'line')::integer,
               f->>'rule_id', f->>'rule', f->>'severity', f->>'message',
               f->>'safe_alternative', (f->>'allowed')::boolean, f->>'allowed_by', f->>'reason'
          FROM migrate.history AS h,
               jsonb_array_elements(h.findings) WITH ORDINALITY AS e(f, n)
         WHERE $1 IS NULL OR h.version = $1
         ORDER BY h.id DESC, e.n
    $$;

REVOKE ALL ON FUNCTION migrate.lint_rules() FROM PUBLIC;
REVOKE ALL ON FUNCTION migrate.findings(text) FROM PUBLIC;
