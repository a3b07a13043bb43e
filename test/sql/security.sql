-- Security: what each role may do (README and docs/migrations.md, "Privileges"), look-alike functions and operators
-- on the search_path, injection through versions, names, overrides and scripts, and the audit
-- of DDL made by roles that cannot read it.
-- Extends privileges.sql (PUBLIC gets nothing; basic deploy/reader grants) and audit_trust.sql
-- (append-only audit). Roles are cluster-wide: every role here is named sec_* and dropped at
-- the end. No time, pid, oid, id or hash of a row is printed.

-- A clean extension: migrations, history and audit start empty.
SET client_min_messages = warning;
DROP EXTENSION migrations_schema;
CREATE EXTENSION migrations_schema;
-- roles left over by an interrupted run (their database is gone, so they own nothing)
DROP ROLE IF EXISTS sec_nobody, sec_deploy, sec_auditor, sec_attacker, sec_dev, sec_team,
                    sec_owner, "sec_we'ird ""role""";
SET client_min_messages = notice;
LOAD 'migrations_schema';

-- sec_try(role, statement): runs the statement as the role in a subtransaction that is always
-- rolled back (nothing it does stays), and returns 'ok' or 'SQLSTATE: message'. Statements
-- given to it are fully schema-qualified: it pins its own search_path.
CREATE FUNCTION public.sec_try(role name, stmt text) RETURNS text
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    BEGIN
        EXECUTE format('SET LOCAL ROLE %I', role);
        EXECUTE stmt;
        RAISE SQLSTATE 'SECOK';
    EXCEPTION WHEN OTHERS THEN
        IF SQLSTATE = 'SECOK' THEN
            RETURN 'ok';
        END IF;
        RETURN SQLSTATE || ': ' || SQLERRM;
    END;
END $$;

CREATE ROLE sec_nobody LOGIN;                  -- no grant at all
CREATE ROLE sec_deploy LOGIN;                  -- README's deploy grants
CREATE ROLE sec_auditor LOGIN;                 -- docs/migrations.md's reader grants
CREATE SCHEMA sec_app;                         -- where the migrations put their tables
GRANT USAGE, CREATE ON SCHEMA sec_app TO sec_deploy;

------------------------------------------------------------------------------------------
-- 1. Privileges
------------------------------------------------------------------------------------------

-- Every call and direct table access an attacker would try, plus the superuser-only
-- settings that switch safety checks or the audit off.
CREATE TABLE public.sec_cases (n int PRIMARY KEY, what text NOT NULL, stmt text NOT NULL);
INSERT INTO public.sec_cases VALUES
 ( 1, 'apply(version, up)',      $$SELECT migrate.apply('0.1', 'CREATE TABLE sec_app.c01 (id int)')$$),
 ( 2, 'apply() pending',         $$SELECT * FROM migrate.apply()$$),
 ( 3, 'register',                $$SELECT migrate.register('0.1', 'CREATE TABLE sec_app.c01 (id int)')$$),
 ( 4, 'rollback(steps)',         $$SELECT * FROM migrate.rollback()$$),
 ( 5, 'rollback(to_version)',    $$SELECT * FROM migrate.rollback('0.1')$$),
 ( 6, 'status',                  $$SELECT * FROM migrate.status()$$),
 ( 7, 'summary',                 $$SELECT * FROM migrate.summary()$$),
 ( 8, 'drift',                   $$SELECT * FROM migrate.drift()$$),
 ( 9, 'findings',                $$SELECT * FROM migrate.findings()$$),
 (10, 'audit_health',            $$SELECT * FROM migrate.audit_health()$$),
 (11, 'verify_audit',            $$SELECT * FROM migrate.verify_audit()$$),
 (12, 'purge_audit',             $$SELECT migrate.purge_audit(now())$$),
 (13, 'lint',                    $$SELECT * FROM migrate.lint('SELECT 1')$$),
 (14, 'lint_rules',              $$SELECT * FROM migrate.lint_rules()$$),
 (15, 'split',                   $$SELECT * FROM migrate.split('SELECT 1')$$),
 (16, 'checksum',                $$SELECT migrate.checksum('SELECT 1')$$),
 (17, 'version_compare',         $$SELECT migrate.version_compare('1', '2')$$),
 (21, 'SELECT migrations',       $$SELECT count(*) FROM migrate.migrations$$),
 (22, 'INSERT migrations',       $$INSERT INTO migrate.migrations (version, sort_key, up_sql, checksum) VALUES ('0.9', '\x00', 'SELECT 1', 'x')$$),
 (23, 'UPDATE migrations',       $$UPDATE migrate.migrations SET name = 'forged'$$),
 (24, 'DELETE migrations',       $$DELETE FROM migrate.migrations$$),
 (25, 'TRUNCATE migrations',     $$TRUNCATE migrate.migrations$$),
 (31, 'SELECT history',          $$SELECT count(*) FROM migrate.history$$),
 (32, 'INSERT history',          $$INSERT INTO migrate.history (version, action, checksum, performed_at, performed_by) VALUES ('0.9', 'apply', 'x', now(), 'forged')$$),
 (33, 'UPDATE history',          $$UPDATE migrate.history SET performed_by = 'forged'$$),
 (34, 'DELETE history',          $$DELETE FROM migrate.history$$),
 (35, 'TRUNCATE history',        $$TRUNCATE migrate.history$$),
 (41, 'SELECT ddl_audit',        $$SELECT count(*) FROM migrate.ddl_audit$$),
 (42, 'INSERT ddl_audit',        $$INSERT INTO migrate.ddl_audit SELECT * FROM migrate.ddl_audit WHERE false$$),
 (43, 'UPDATE ddl_audit',        $$UPDATE migrate.ddl_audit SET statement = 'forged'$$),
 (44, 'DELETE ddl_audit',        $$DELETE FROM migrate.ddl_audit$$),
 (45, 'TRUNCATE ddl_audit',      $$TRUNCATE migrate.ddl_audit$$),
 (51, 'SET lint_enforce off',    $$SET migrations_schema.lint_enforce = off$$),
 (52, 'set_config lint_enforce', $$SELECT set_config('migrations_schema.lint_enforce', 'off', true)$$),
 (53, 'SET max_rewrite_size',    $$SET migrations_schema.max_rewrite_size = -1$$),
 (54, 'SET lint_error_rows',     $$SET migrations_schema.lint_error_rows = 2147483647$$),
 (55, 'SET audit off',           $$SET migrations_schema.audit = off$$),
 (56, 'SET replica role',        $$SET session_replication_role = replica$$),
 (57, 'SET lock_retries (user)', $$SET migrations_schema.lock_retries = 1$$),
 (61, 'disable event trigger',   $$ALTER EVENT TRIGGER migrate_audit_ddl_command_end DISABLE$$),
 (62, 'drop event trigger',      $$DROP EVENT TRIGGER migrate_audit_sql_drop$$),
 (63, 'disable table triggers',  $$ALTER TABLE migrate.history DISABLE TRIGGER ALL$$),
 (64, 'replace a function',      $$CREATE OR REPLACE FUNCTION migrate.status() RETURNS SETOF record LANGUAGE sql AS 'SELECT NULL::record'$$),
 (65, 'grant itself the audit',  $$GRANT SELECT ON migrate.ddl_audit TO PUBLIC$$),
 (66, 'drop the extension',      $$DROP EXTENSION migrations_schema$$);
GRANT SELECT ON public.sec_cases TO PUBLIC;

-- 1a. A role with LOGIN and no grant: refused everything in schema migrate at the schema
--     (it cannot even look into it), and every superuser-only setting (57 is an ordinary
--     user setting).
SELECT has_schema_privilege('sec_nobody', 'migrate', 'USAGE') AS nobody_sees_migrate;
SELECT sec_try('sec_nobody', stmt) AS result, string_agg(n::text, ',' ORDER BY n) AS cases
  FROM public.sec_cases GROUP BY 1 ORDER BY 2;

-- 1b. The deploy role: exactly the README's grants, and CREATE on the schema its migrations
--     use. It registers, applies and rolls back (both forms of each)...
GRANT USAGE ON SCHEMA migrate TO sec_deploy;
GRANT EXECUTE ON FUNCTION migrate.apply(text, text, text, text, boolean, text[], boolean),
                          migrate.register(text, text, text, text, text),
                          migrate.apply(text, boolean, text[], boolean),
                          migrate.rollback(integer, text[]),
                          migrate.rollback(text, text[]),
                          migrate.lint(text), migrate.lint_rules(),
                          migrate.verify(text, boolean), migrate.plan(text, text),
                          migrate.schema() TO sec_deploy;
SET ROLE sec_deploy;
SELECT migrate.register('1.1', 'CREATE TABLE sec_app.t11 (id int)', 'DROP TABLE sec_app.t11', 'one');
SELECT version, name, statements FROM migrate.apply();
SELECT migrate.apply('1.2', 'CREATE TABLE sec_app.t12 (id int)', 'DROP TABLE sec_app.t12', 'two');
SELECT migrate.apply('1.3', 'CREATE TABLE sec_app.t13 (id int)', 'DROP TABLE sec_app.t13', 'three');
SELECT version, name FROM migrate.rollback();
SELECT version, name FROM migrate.rollback(to_version => '1.1');
SELECT rule_id, severity FROM migrate.lint('DROP TABLE sec_app.t11');
SELECT count(*) > 40 AS lint_rules_listed FROM migrate.lint_rules();
RESET ROLE;
-- ... as itself, under its own name; the tables it created are its own
SELECT version, state, applied_by FROM migrate.status();
SELECT version, action, performed_by FROM migrate.history ORDER BY id;
SELECT relname, pg_get_userbyid(relowner) AS owner FROM pg_class
 WHERE relnamespace = 'sec_app'::regnamespace ORDER BY 1;
-- ... but it cannot read or write the bookkeeping tables, call what it was not granted, purge
-- the audit, switch lint, the rewrite guard or the audit off, or touch the extension's objects
-- (1-5, 13 and 14 are its own calls: they run, or fail for their ordinary reasons)
SELECT n, what, sec_try('sec_deploy', stmt) AS result FROM public.sec_cases ORDER BY n;
-- nor through a migration: its statements run as the caller (each refused with the
-- statement's own SQLSTATE; nothing of the migration stays)
SELECT n, what, sec_try('sec_deploy', format('SELECT migrate.apply(%L, %L)', '1.9', stmt)) AS result
  FROM public.sec_cases WHERE n > 20 AND n <> 57 ORDER BY n;
-- nor through a down script
SELECT sec_try('sec_deploy', $$SELECT migrate.apply('1.9', 'SELECT 1', 'DELETE FROM migrate.history WHERE true'); SELECT * FROM migrate.rollback()$$);
SELECT version, state FROM migrate.status();
-- (apply again what was rolled back: nothing is pending from here on)
SET ROLE sec_deploy;
SELECT version FROM migrate.apply();
RESET ROLE;

-- 1c. The auditor: exactly the reader grants of docs/migrations.md. It reads everything, writes nothing,
--     applies nothing; purge_audit is for superusers only.
GRANT USAGE ON SCHEMA migrate TO sec_auditor;
GRANT EXECUTE ON FUNCTION migrate.status(), migrate.summary(), migrate.drift(timestamptz, boolean),
                          migrate.audit_health(), migrate.verify_audit(),
                          migrate.findings(text) TO sec_auditor;
GRANT SELECT ON migrate.migrations, migrate.history, migrate.steps, migrate.repeatables,
                 migrate.ddl_audit TO sec_auditor;
-- (65 only warns: the auditor holds SELECT without grant option, so nothing is granted)
SELECT n, what, sec_try('sec_auditor', stmt) AS result FROM public.sec_cases ORDER BY n;
SET ROLE sec_auditor;
SELECT version, state FROM migrate.status();
SELECT valid FROM migrate.verify_audit();
SELECT count(*) FILTER (WHERE NOT ok) AS unhealthy FROM migrate.audit_health();
RESET ROLE;

-- 1d. The owner of the tables (the superuser who created the extension): history and audit
--     rows can be neither changed nor deleted (42501), also under session_replication_role =
--     replica. A direct INSERT into the audit is a restore loading a dumped chain: refused
--     (55000) once the audit holds rows that are not the restore's own (audit_trust.sql,
--     t/001_dump_restore.pl). This session created the extension, as a plain-format restore
--     does, but its rows record DDL of migrations, which no restore makes: 42 is refused.
--     migrate.migrations is the owner's own table (docs/design.md: "ordinary roles cannot write
--     them"): the owner can write it, and append to the history (append-only, not
--     insert-proof).
SELECT pg_get_userbyid(relowner) = current_user AS i_own_it, relname FROM pg_class
 WHERE relnamespace = 'migrate'::regnamespace AND relkind = 'r' ORDER BY relname;
SELECT n, what, sec_try(session_user, stmt) AS result FROM public.sec_cases
 WHERE n BETWEEN 21 AND 45 ORDER BY n;
BEGIN;
SET LOCAL session_replication_role = replica;
SELECT n, what, sec_try(session_user, stmt) AS result FROM public.sec_cases
 WHERE n BETWEEN 31 AND 45 AND what !~ '^(SELECT|INSERT)' ORDER BY n;
ROLLBACK;
-- nothing was changed by any of the above
SELECT version, action, performed_by FROM migrate.history ORDER BY id;
SELECT valid, problem FROM migrate.verify_audit();

------------------------------------------------------------------------------------------
-- 2. search_path: look-alike functions and operators
------------------------------------------------------------------------------------------

-- The extension has no SECURITY DEFINER function (its C functions switch to the tables'
-- owner only around their own bookkeeping)...
SELECT p.oid::regprocedure AS security_definer_function, p.proconfig
  FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'migrations_schema')
   AND p.prosecdef;
-- ... and every function without a pinned search_path is written in C: apply, register and
-- rollback must run the migration's statements with the caller's search_path (docs/migrations.md: "Statements
-- run as the caller, with the caller's privileges and search_path"), and pin search_path to
-- pg_catalog, pg_temp themselves for their bookkeeping; the others run no SQL, except
-- verify_audit and purge_audit, which read the audit (tested below). The SQL functions all
-- pin it.
SELECT l.lanname, string_agg(p.oid::regprocedure::text, ', ' ORDER BY p.oid::regprocedure::text)
           AS without_pinned_search_path
  FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
  JOIN pg_language l ON l.oid = p.prolang
 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'migrations_schema')
   AND NOT coalesce(p.proconfig::text[] && ARRAY['search_path=pg_catalog, pg_temp'], false)
 GROUP BY l.lanname;

-- An attacker with CREATE on schema public plants look-alikes of the functions, aggregates
-- and operators an implementation might call unqualified. Each records who ran it in
-- public.sec_trap (writable by everybody) and returns what the real one would.
CREATE ROLE sec_attacker LOGIN;
GRANT CREATE ON SCHEMA public TO sec_attacker;
CREATE TABLE public.sec_trap (who name, what text);
GRANT INSERT, SELECT ON public.sec_trap TO PUBLIC;
SET ROLE sec_attacker;
SET search_path = pg_catalog, pg_temp;
DO $$
DECLARE
    f record;
BEGIN
    FOR f IN SELECT * FROM (VALUES
        ('lower(text)', 'text', 'RETURN pg_catalog.lower($1)'),
        ('upper(text)', 'text', 'RETURN pg_catalog.upper($1)'),
        ('btrim(text)', 'text', 'RETURN pg_catalog.btrim($1)'),
        ('btrim(text, text)', 'text', 'RETURN pg_catalog.btrim($1, $2)'),
        ('length(text)', 'integer', 'RETURN pg_catalog.length($1)'),
        ('"coalesce"(text, text)', 'text', 'RETURN CASE WHEN $1 IS NULL THEN $2 ELSE $1 END'),
        ('"nullif"(text, text)', 'text', 'RETURN pg_catalog.nullif($1, $2)'),
        ('concat(text, text)', 'text', 'RETURN pg_catalog.concat($1, $2)'),
        ('now()', 'timestamptz', 'RETURN pg_catalog.now()'),
        ('format(text)', 'text', 'RETURN pg_catalog.format($1)'),
        ('format(text, text)', 'text', 'RETURN pg_catalog.format($1, $2)'),
        ('quote_ident(text)', 'text', 'RETURN pg_catalog.quote_ident($1)'),
        ('quote_literal(text)', 'text', 'RETURN pg_catalog.quote_literal($1)'),
        ('quote_nullable(text)', 'text', 'RETURN pg_catalog.quote_nullable($1)'),
        ('array_to_string(text[], text)', 'text', 'RETURN pg_catalog.array_to_string($1, $2)'),
        ('jsonb_build_object(text, text)', 'jsonb', 'RETURN pg_catalog.jsonb_build_object($1, $2)'),
        ('digest(text, text)', 'bytea', 'RETURN pg_catalog.sha256(pg_catalog.convert_to($1, ''UTF8''))'),
        ('digest(bytea, text)', 'bytea', 'RETURN pg_catalog.sha256($1)'),
        ('sha256(bytea)', 'bytea', 'RETURN pg_catalog.sha256($1)'),
        ('md5(text)', 'text', 'RETURN pg_catalog.md5($1)'),
        ('pg_advisory_xact_lock(bigint)', 'void', 'PERFORM pg_catalog.pg_advisory_xact_lock($1); RETURN'),
        ('pg_advisory_xact_lock(integer, integer)', 'void', 'PERFORM pg_catalog.pg_advisory_xact_lock($1, $2); RETURN'),
        ('nextval(regclass)', 'bigint', 'RETURN pg_catalog.nextval($1)'),
        ('current_setting(text)', 'text', 'RETURN pg_catalog.current_setting($1)'),
        ('current_setting(text, boolean)', 'text', 'RETURN pg_catalog.current_setting($1, $2)'),
        ('set_config(text, text, boolean)', 'text', 'RETURN pg_catalog.set_config($1, $2, $3)'),
        ('date_trunc(text, timestamptz)', 'timestamptz', 'RETURN pg_catalog.date_trunc($1, $2)'),
        ('round(numeric, integer)', 'numeric', 'RETURN pg_catalog.round($1, $2)'),
        ('to_char(timestamptz, text)', 'text', 'RETURN pg_catalog.to_char($1, $2)'),
        ('string_to_array(text, text)', 'text[]', 'RETURN pg_catalog.string_to_array($1, $2)'),
        ('replace(text, text, text)', 'text', 'RETURN pg_catalog.replace($1, $2, $3)'),
        ('jsonb_array_elements(jsonb)', 'SETOF jsonb', 'RETURN QUERY SELECT * FROM pg_catalog.jsonb_array_elements($1)'),
        ('pg_get_userbyid(oid)', 'name', 'RETURN pg_catalog.pg_get_userbyid($1)'),
        ('pg_current_xact_id()', 'xid8', 'RETURN pg_catalog.pg_current_xact_id()'),
        ('pg_total_relation_size(regclass)', 'bigint', 'RETURN pg_catalog.pg_total_relation_size($1)'),
        ('pg_size_pretty(bigint)', 'text', 'RETURN pg_catalog.pg_size_pretty($1)'),
        -- operator implementations (not look-alikes by name; the operators below are)
        ('sec_texteq(text, text)', 'boolean', 'RETURN pg_catalog.texteq($1, $2)'),
        ('sec_textne(text, text)', 'boolean', 'RETURN pg_catalog.textne($1, $2)'),
        ('sec_textlt(text, text)', 'boolean', 'RETURN pg_catalog.text_lt($1, $2)'),
        ('sec_textcat(text, text)', 'text', 'RETURN pg_catalog.textcat($1, $2)'),
        ('sec_textregexeq(text, text)', 'boolean', 'RETURN pg_catalog.textregexeq($1, $2)'),
        ('sec_int4eq(integer, integer)', 'boolean', 'RETURN pg_catalog.int4eq($1, $2)'),
        ('sec_int8eq(bigint, bigint)', 'boolean', 'RETURN pg_catalog.int8eq($1, $2)'),
        ('sec_int8lt(bigint, bigint)', 'boolean', 'RETURN pg_catalog.int8lt($1, $2)'),
        ('sec_nameeq(name, name)', 'boolean', 'RETURN pg_catalog.nameeq($1, $2)'),
        ('sec_oideq(oid, oid)', 'boolean', 'RETURN pg_catalog.oideq($1, $2)'),
        ('sec_byteaeq(bytea, bytea)', 'boolean', 'RETURN pg_catalog.byteaeq($1, $2)'),
        ('sec_booleq(boolean, boolean)', 'boolean', 'RETURN pg_catalog.booleq($1, $2)'),
        ('sec_timestamptz_ge(timestamptz, timestamptz)', 'boolean', 'RETURN pg_catalog.timestamptz_ge($1, $2)'),
        ('sec_jsonb_field_text(jsonb, text)', 'text', 'RETURN pg_catalog.jsonb_object_field_text($1, $2)'),
        -- aggregate transition functions
        ('sec_max8(bigint, bigint)', 'bigint', 'RETURN CASE WHEN $1 IS NULL OR pg_catalog.int8lt($1, $2) THEN $2 ELSE $1 END'),
        ('sec_min8(bigint, bigint)', 'bigint', 'RETURN CASE WHEN $1 IS NULL OR pg_catalog.int8lt($2, $1) THEN $2 ELSE $1 END'),
        ('sec_textagg(text[], text)', 'text[]', 'RETURN pg_catalog.array_append($1, $2)'),
        ('sec_booland(boolean, boolean)', 'boolean', 'RETURN pg_catalog.booland_statefunc($1, $2)')
      ) AS v(sig, ret, body)
    LOOP
        EXECUTE pg_catalog.format(
            'CREATE FUNCTION public.%s RETURNS %s LANGUAGE plpgsql AS %L', f.sig, f.ret,
            pg_catalog.format('BEGIN INSERT INTO public.sec_trap VALUES (current_user, %L); %s; END',
                              f.sig, f.body));
    END LOOP;
END $$;
CREATE OPERATOR public.=   (LEFTARG = text, RIGHTARG = text, FUNCTION = public.sec_texteq);
CREATE OPERATOR public.<>  (LEFTARG = text, RIGHTARG = text, FUNCTION = public.sec_textne);
CREATE OPERATOR public.<   (LEFTARG = text, RIGHTARG = text, FUNCTION = public.sec_textlt);
CREATE OPERATOR public.||  (LEFTARG = text, RIGHTARG = text, FUNCTION = public.sec_textcat);
CREATE OPERATOR public.~   (LEFTARG = text, RIGHTARG = text, FUNCTION = public.sec_textregexeq);
CREATE OPERATOR public.=   (LEFTARG = integer, RIGHTARG = integer, FUNCTION = public.sec_int4eq);
CREATE OPERATOR public.=   (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = public.sec_int8eq);
CREATE OPERATOR public.<   (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = public.sec_int8lt);
CREATE OPERATOR public.=   (LEFTARG = name, RIGHTARG = name, FUNCTION = public.sec_nameeq);
CREATE OPERATOR public.=   (LEFTARG = oid, RIGHTARG = oid, FUNCTION = public.sec_oideq);
CREATE OPERATOR public.=   (LEFTARG = bytea, RIGHTARG = bytea, FUNCTION = public.sec_byteaeq);
CREATE OPERATOR public.=   (LEFTARG = boolean, RIGHTARG = boolean, FUNCTION = public.sec_booleq);
CREATE OPERATOR public.>=  (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = public.sec_timestamptz_ge);
CREATE OPERATOR public.->> (LEFTARG = jsonb, RIGHTARG = text, FUNCTION = public.sec_jsonb_field_text);
CREATE AGGREGATE public.max(bigint) (SFUNC = public.sec_max8, STYPE = bigint);
CREATE AGGREGATE public.min(bigint) (SFUNC = public.sec_min8, STYPE = bigint);
CREATE AGGREGATE public.array_agg(text) (SFUNC = public.sec_textagg, STYPE = text[], INITCOND = '{}');
CREATE AGGREGATE public.bool_and(boolean) (SFUNC = public.sec_booland, STYPE = boolean);
RESET search_path;
RESET ROLE;
SELECT count(*) AS look_alikes FROM pg_proc WHERE pronamespace = 'public'::regnamespace
   AND pg_get_userbyid(proowner) = 'sec_attacker' AND proname !~ '^sec_';
SELECT count(*) AS look_alike_operators FROM pg_operator
 WHERE oprnamespace = 'public'::regnamespace AND pg_get_userbyid(oprowner) = 'sec_attacker';
-- they work, and the trap records: with public before pg_catalog they win
SET search_path = public, pg_catalog;
SELECT lower('ABC'), 'a' = 'a' AS eq, 'a' || 'b' AS cat;
RESET search_path;
SELECT who, what FROM public.sec_trap ORDER BY what;
TRUNCATE public.sec_trap;

-- Everything a deploy role and a superuser do, with the placeholder %1$s for a version
-- prefix, run through \gexec. The calls themselves use no unqualified function or operator
-- that has a look-alike, except the migration scripts of versions .4 (lower() in its up
-- script, upper() in its down script): docs/migrations.md, "Statements run as the caller, with the
-- caller's privileges and search_path", so those look-alikes run, as the caller, when
-- public comes before pg_catalog. Version .5 moves public before pg_catalog for the rest of
-- the transaction (SET LOCAL), which must not reach the bookkeeping either.
CREATE TABLE public.sec_calls (n int PRIMARY KEY, superuser_only boolean NOT NULL, sql text NOT NULL);
INSERT INTO public.sec_calls VALUES
 ( 1, false, $c$SELECT migrate.register('%1$s.1', 'CREATE TABLE sec_app.a%1$s (id bigint PRIMARY KEY, v text)', 'DROP TABLE sec_app.a%1$s', 'attack %1$s')$c$),
 ( 2, false, $c$SELECT version, name, statements FROM migrate.apply()$c$),
 ( 3, false, $c$SELECT migrate.apply('%1$s.2', $m$ALTER TABLE sec_app.a%1$s ADD COLUMN w text DEFAULT 'x'; CREATE INDEX a%1$s_v ON sec_app.a%1$s (v); COMMENT ON TABLE sec_app.a%1$s IS 'it''s'$m$, $m$DROP INDEX sec_app.a%1$s_v; ALTER TABLE sec_app.a%1$s DROP COLUMN w$m$)$c$),
 ( 4, false, $c$SELECT migrate.apply('%1$s.3', $m$-- migrate:allow rename-column -- attack %1$s
ALTER TABLE sec_app.a%1$s ALTER COLUMN id TYPE integer; ALTER TABLE sec_app.a%1$s RENAME COLUMN v TO vv$m$, $m$ALTER TABLE sec_app.a%1$s RENAME COLUMN vv TO v; ALTER TABLE sec_app.a%1$s ALTER COLUMN id TYPE bigint$m$, allow => ARRAY['R104 -- the table is empty'])$c$),
 ( 5, false, $c$SELECT migrate.apply('%1$s.4', $m$SELECT lower('ABC')$m$, $m$SELECT upper('abc')$m$, 'unqualified calls')$c$),
 ( 6, false, $c$SELECT migrate.apply('%1$s.5', $m$SET LOCAL search_path = public, pg_catalog; CREATE TABLE sec_app.b%1$s (id int)$m$, $m$DROP TABLE sec_app.b%1$s$m$)$c$),
 ( 7, false, $c$SELECT version FROM migrate.rollback()$c$),
 ( 8, false, $c$SELECT version FROM migrate.rollback(to_version => '%1$s.1')$c$),
 ( 9, false, $c$SELECT version FROM migrate.apply()$c$),
 (10, false, $c$CREATE TABLE sec_app.h%1$s (id int, t text)$c$),
 (11, false, $c$ALTER TABLE sec_app.h%1$s ALTER COLUMN id TYPE bigint$c$),
 (12, false, $c$GRANT SELECT ON sec_app.h%1$s TO sec_auditor$c$),
 (13, false, $c$COMMENT ON TABLE sec_app.h%1$s IS 'by hand'$c$),
 (14, false, $c$CREATE VIEW sec_app.hv%1$s AS SELECT id FROM sec_app.h%1$s$c$),
 (15, false, $c$CREATE FUNCTION sec_app.hf%1$s() RETURNS int LANGUAGE sql AS 'SELECT 1'$c$),
 (16, false, $c$DROP TABLE sec_app.h%1$s CASCADE$c$),
 (17, false, $c$DROP FUNCTION sec_app.hf%1$s()$c$),
 (20, false, $c$SELECT state, count(*) FROM migrate.status() GROUP BY state ORDER BY state$c$),
 (21, false, $c$SELECT applied, pending, last_version, drifted, drift_changes, audit_ok FROM migrate.summary()$c$),
 (22, false, $c$SELECT event, command_tag, object_identity FROM migrate.drift(since_last_migration => true)$c$),
 (23, false, $c$SELECT action, rule_id, rule, allowed, allowed_by, reason FROM migrate.findings('%1$s.3')$c$),
 (24, false, $c$SELECT statement, rule_id, severity FROM migrate.lint($m$ALTER TABLE sec_app.a%1$s RENAME COLUMN vv TO v2; DROP TABLE sec_app.a%1$s$m$)$c$),
 (25, false, $c$SELECT rule_id, rule FROM migrate.lint_rules() ORDER BY rule_id LIMIT 2$c$),
 (26, false, $c$SELECT statement, line, command FROM migrate.split($m$CREATE TABLE x (a text DEFAULT 'a;b');
DO $d$ BEGIN NULL; END $d$$m$)$c$),
 (27, false, $c$SELECT migrate.checksum('SELECT 1') IS NOT NULL AS checksummed$c$),
 (28, false, $c$SELECT migrate.version_compare('1.10', '1.9'), migrate.version_compare('005', '5')$c$),
 (29, false, $c$SELECT valid, problem FROM migrate.verify_audit()$c$),
 (30, false, $c$SELECT component, ok FROM migrate.audit_health() ORDER BY component$c$),
 (40, true,  $c$SELECT migrate.purge_audit('-infinity')$c$);
GRANT SELECT ON public.sec_calls TO PUBLIC;
-- the deploy role gets the reader's grants and the helpers too, to call every function here
-- (and pg_read_all_settings, without which summary() and audit_health() fail: see 1c)
GRANT EXECUTE ON FUNCTION migrate.status(), migrate.summary(), migrate.drift(timestamptz, boolean),
                          migrate.audit_health(), migrate.verify_audit(), migrate.findings(text),
                          migrate.split(text), migrate.checksum(text),
                          migrate.version_compare(text, text) TO sec_deploy;
GRANT SELECT ON migrate.migrations, migrate.history, migrate.steps, migrate.repeatables,
                 migrate.ddl_audit TO sec_deploy;
GRANT pg_read_all_settings TO sec_deploy;
-- what the trap recorded (the superuser is shown as "superuser")
CREATE VIEW public.sec_trapped AS
    SELECT CASE WHEN who = session_user THEN 'superuser' ELSE who::text END AS who, what,
           count(*) AS calls
      FROM public.sec_trap GROUP BY 1, 2 ORDER BY 1, 2;

-- 2a. The deploy role, search_path = public, pg_catalog
SET ROLE sec_deploy;
SET search_path = public, pg_catalog;
SELECT pg_catalog.format(c.sql, '10'::text) FROM public.sec_calls AS c
 WHERE NOT c.superuser_only ORDER BY c.n \gexec
RESET search_path;
RESET ROLE;
-- only the migration scripts' own unqualified calls ran look-alikes, as the deploy role
SELECT * FROM public.sec_trapped;
TRUNCATE public.sec_trap;

-- 2b. A superuser, search_path = public, pg_catalog
SET search_path = public, pg_catalog;
SELECT pg_catalog.format(c.sql, '20'::text) FROM public.sec_calls AS c
 WHERE NOT c.superuser_only ORDER BY c.n \gexec
RESET search_path;
-- only the migration scripts' own unqualified calls ran look-alikes, as the superuser
SELECT * FROM public.sec_trapped;
TRUNCATE public.sec_trap;
-- purge_audit (superusers only) reads and deletes audit rows: nothing of the attacker's may
-- run in it either
SET search_path = public, pg_catalog;
SELECT pg_catalog.format(c.sql, '20'::text) FROM public.sec_calls AS c
 WHERE c.superuser_only ORDER BY c.n \gexec
RESET search_path;
SELECT * FROM public.sec_trapped;
TRUNCATE public.sec_trap;
-- Why it matters: a look-alike public.<(bigint, bigint) that is always true. Whatever the
-- attacker plants, purge_audit(now()) keeps the newest row (docs/audit.md: "never the newest row")
-- and the purge row follows it in the chain.
SET ROLE sec_attacker;
CREATE OR REPLACE FUNCTION public.sec_int8lt(bigint, bigint) RETURNS boolean LANGUAGE plpgsql
    AS $$ BEGIN INSERT INTO public.sec_trap VALUES (current_user, 'always-true <(bigint)'); RETURN true; END $$;
RESET ROLE;
SELECT max(id) AS newest FROM migrate.ddl_audit \gset
SET search_path = public, pg_catalog;
SELECT migrate.purge_audit(pg_catalog.now()) > 0 AS purged;
RESET search_path;
SELECT min(id) = :newest AS newest_kept, max(id) = :newest + 1 AS purge_row_follows,
       count(*) AS audit_rows
  FROM migrate.ddl_audit;
SELECT * FROM public.sec_trapped;
TRUNCATE public.sec_trap;

-- 2c. The deploy role, search_path = "$user", public (pg_catalog implicitly first: only
--     look-alikes more specific than the catalog's own could win, e.g. format(text, text)
--     over format(text, VARIADIC "any"))
SET ROLE sec_deploy;
SET search_path = "$user", public;
SELECT pg_catalog.format(c.sql, '30'::text) FROM public.sec_calls AS c
 WHERE NOT c.superuser_only ORDER BY c.n \gexec
RESET search_path;
RESET ROLE;
-- nothing ran a look-alike (the scripts' lower() and upper() are pg_catalog's here)
SELECT * FROM public.sec_trapped;
TRUNCATE public.sec_trap;

-- 2d. A superuser, search_path = "$user", public, with purge_audit
SET search_path = "$user", public;
SELECT pg_catalog.format(c.sql, '40'::text) FROM public.sec_calls AS c ORDER BY c.n \gexec
SELECT migrate.purge_audit(pg_catalog.now()) > 0 AS purged;
RESET search_path;
-- nothing ran a look-alike
SELECT * FROM public.sec_trapped;
SELECT valid, problem FROM migrate.verify_audit();

-- The attacker's objects go; so does the extra access of the deploy role.
DROP OWNED BY sec_attacker;
REVOKE CREATE ON SCHEMA public FROM sec_attacker;
REVOKE pg_read_all_settings FROM sec_deploy;
REVOKE SELECT ON migrate.migrations, migrate.history, migrate.ddl_audit FROM sec_deploy;
DROP VIEW public.sec_trapped;
DROP TABLE public.sec_trap, public.sec_calls;

------------------------------------------------------------------------------------------
-- 3. Injection: quotes, dollar quotes, backslashes, format directives, newlines and unicode
--    in versions, names, overrides and scripts are stored and shown verbatim and never run
--    as SQL of their own. A superuser calls everything here, so an injected
--    DROP TABLE sec_victim would succeed if it ever ran.
------------------------------------------------------------------------------------------
CREATE TABLE public.sec_victim (id int);
INSERT INTO public.sec_victim VALUES (1);
SELECT $i$51'; DROP TABLE sec_victim; --$i$ AS v1,
       $i$52"; DROP TABLE sec_victim; --$i$ AS v2,
       $i$53\'); DROP TABLE sec_victim; --\$i$ AS v3,
       $i$54$$; DROP TABLE sec_victim; $$$i$ AS v4,
       $i$55$x$; DROP TABLE sec_victim; $x$$i$ AS v5,
       $i$56%s%I%L%n%%s$i$ AS v6,
       $i$57-ünïcødé-版本-😀$i$ AS v7,
       $i$58 it's "all" \ $$ $x$ %s$i$ AS v8,
       $i$it's "quoted" \back\slash $$ $x$ %s %I '; DROP TABLE sec_victim; -- ünï 😀$i$ AS n1,
       $i$"; DROP TABLE sec_victim; --$i$ AS n2,
       $i$%s%s%s%n%n$i$ AS n3 \gset

-- 3a. Versions and names: accepted (only control characters, white space at the ends, and
--     lengths are refused), stored and shown as given
SELECT migrate.register(:'v1', 'CREATE TABLE sec_app.i1 (id int)', 'DROP TABLE sec_app.i1', :'n1');
SELECT migrate.register(:'v2', 'CREATE TABLE sec_app.i2 (id int)', 'DROP TABLE sec_app.i2', :'n2');
SELECT migrate.register(:'v3', 'CREATE TABLE sec_app.i3 (id int)', 'DROP TABLE sec_app.i3', :'n3');
SELECT migrate.register(:'v4', 'CREATE TABLE sec_app.i4 (id int)', 'DROP TABLE sec_app.i4', :'v4');
SELECT migrate.register(:'v5', 'CREATE TABLE sec_app.i5 (id int)', 'DROP TABLE sec_app.i5', :'v5');
SELECT migrate.register(:'v6', 'CREATE TABLE sec_app.i6 (id int)', 'DROP TABLE sec_app.i6', :'v6');
SELECT migrate.register(:'v7', 'CREATE TABLE sec_app.i7 (id int)', 'DROP TABLE sec_app.i7', :'v7');
SELECT version, name FROM migrate.apply();
SELECT version, name, state FROM migrate.status() WHERE version !~ '^[0-9.]+$';
SELECT version, name, action FROM migrate.history WHERE version !~ '^[0-9.]+$' ORDER BY id;
SELECT count(*) AS stored_verbatim FROM migrate.migrations
 WHERE version IN (:'v1', :'v2', :'v3', :'v4', :'v5', :'v6', :'v7')
   AND name IN (:'n1', :'n2', :'n3', :'v4', :'v5', :'v6', :'v7');
SELECT version, name FROM migrate.rollback(to_version => :'v3');
SELECT count(*) AS victim_rows FROM public.sec_victim;
-- refused inputs: clean errors with their SQLSTATE; nothing runs
SELECT what, sec_try(session_user, format('SELECT migrate.register(%L, %L, NULL, %L)', v, 'SELECT 1', n))
           AS result
  FROM (VALUES ('newline in version',  E'59\n; DROP TABLE sec_victim; --', NULL),
               ('terminal escape',     E'59\x1b[2J', NULL),
               ('trailing blank',      '59 ', NULL),
               ('empty version',       '', NULL),
               ('256-byte version',    repeat('5', 256), NULL),
               ('newline in name',     '59', E'n\n; DROP TABLE sec_victim; --'),
               ('1001-byte name',      '59', repeat('n', 1001)),
               ('equivalent version',  $v$051'; DROP TABLE sec_victim; --$v$, NULL)) AS t(what, v, n);
-- error messages name the version as given
SELECT regexp_replace(sec_try(session_user, format('SELECT migrate.apply(%L, %L)', :'v1',
                                                   'CREATE TABLE sec_app.i1_edited (id int)')),
                      '[0-9a-f]{64}', '<sha256>', 'g') AS edited;
SELECT sec_try(session_user, format('SELECT migrate.apply(%L, %L)', $v$5'; DROP TABLE sec_victim; --$v$,
                                    'SELECT 1')) AS out_of_order;
SELECT sec_try(session_user, format('SELECT * FROM migrate.rollback(to_version => %L)',
                                    $v$5"'; DROP TABLE sec_victim; --$v$)) AS unknown_target;
SELECT migrate.apply(:'v8', E'SELECT 1;\nSELECT ''%s%n''::int -- ''; DROP TABLE sec_victim; --');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS victim_rows FROM public.sec_victim;

-- 3b. Scripts: string literals, comments, dollar quotes, identifiers, E'' escapes, a function
--     body; the down script has $$ in a DO block and an identifier. They are split by the
--     parser, run statement by statement, stored byte for byte, and the audit records each
--     statement as written.
SELECT $s$CREATE TABLE sec_app."in'j ""x"" $$" (
    v text DEFAULT '''; DROP TABLE sec_victim; --',
    w text DEFAULT E'back\\slash \' quote');
-- '; DROP TABLE sec_victim; --
/* $$; DROP TABLE sec_victim; $$ */
COMMENT ON TABLE sec_app."in'j ""x"" $$" IS $c$it's $$ "quoted"; DROP TABLE sec_victim; --$c$;
CREATE FUNCTION sec_app."f'x"() RETURNS text LANGUAGE sql
    AS $x$ SELECT '$$; DROP TABLE sec_victim; --'::text $x$;
INSERT INTO sec_app."in'j ""x"" $$" (v) VALUES ('%s%I%n'), (E'two\nlines ünï 😀');$s$ AS up,
       $s$DO $$ BEGIN RAISE NOTICE 'down: %', 'it''s; DROP TABLE sec_victim; --'; END $$;
DROP FUNCTION sec_app."f'x"();
DROP TABLE sec_app."in'j ""x"" $$";$s$ AS down \gset
SELECT statement, line, command, sql FROM migrate.split(:'up');
SELECT migrate.apply(:'v8', :'up', :'down', :'n1');
SELECT up_sql = :'up' AS up_verbatim, down_sql = :'down' AS down_verbatim,
       checksum = migrate.checksum(:'up') AS checksum_matches, name = :'n1' AS name_verbatim
  FROM migrate.migrations WHERE version = :'v8';
SELECT v, w FROM sec_app."in'j ""x"" $$" ORDER BY v;
SELECT sec_app."f'x"() AS body, obj_description('sec_app."in''j ""x"" $$"'::regclass) AS comment;
SELECT event, object_identity, statement FROM migrate.ddl_audit
 WHERE migration_version = :'v8' ORDER BY id;
SELECT count(*) AS victim_rows FROM public.sec_victim;

-- 3c. Overrides: reasons are stored verbatim (also one that looks like JSON); findings show
--     the quoted identifiers as they are
SELECT migrate.apply('60', $s$ALTER TABLE sec_app."in'j ""x"" $$" RENAME COLUMN w TO "w'""$$"$s$,
                     $s$ALTER TABLE sec_app."in'j ""x"" $$" RENAME COLUMN "w'""$$" TO w$s$,
                     'rename', false,
                     ARRAY[$r$rename-column -- it's "ok"; DROP TABLE sec_victim; -- \ $$ %s ünï 😀$r$,
                           E'B403 -- line1\nline2', 'B403 -- x", "matched": false, "rule": "evil']);
SELECT rule_id, message, allowed, allowed_by, reason FROM migrate.findings('60');
SELECT o->>'rule' AS rule, o->>'reason' AS reason, o->>'matched' AS matched
  FROM migrate.migrations, jsonb_array_elements(overrides) AS o WHERE version = '60';
SELECT version, overrides FROM migrate.status() WHERE version = '60';

-- 3d. Rule names that are not rules are refused (22023) before anything runs, echoing the
--     text as given; in the argument, in a directive, and by register
SELECT rule, sec_try(session_user, format('SELECT migrate.apply(%L, %L, allow => ARRAY[%L])',
                                          '61', 'DROP TABLE sec_app.i3', rule)) AS apply
  FROM (VALUES ($r$drop-table'; DROP TABLE sec_victim; --$r$), ('"drop-table"'),
               ('drop-table\'), ('$$drop-table$$'), ('%s%n%I'), (E'drop-table\n; DROP TABLE sec_victim'),
               ('drop‐table'), (''), ('-- only a reason')) AS t(rule);
SELECT sec_try(session_user, format('SELECT migrate.apply(%L, %L)', '61',
               E'-- migrate:allow drop-table''; DROP TABLE sec_victim; --\nDROP TABLE sec_app.i3')) AS directive;
SELECT sec_try(session_user, format('SELECT migrate.register(%L, %L)', '61',
               E'-- migrate:allow %s%n -- $$\nSELECT 1')) AS register;
SELECT count(*) AS victim_rows, to_regclass('sec_app.i3') IS NOT NULL AS i3_kept FROM public.sec_victim;

-- 3e. Roll the tricky migrations back: the down scripts run verbatim (the DO block's NOTICE);
--     the data loss needs an override, whose reason is stored
SELECT version, name FROM migrate.rollback(2);
\echo :LAST_ERROR_SQLSTATE
SELECT version, name FROM migrate.rollback(2, allow => ARRAY[$r$drop-table -- it's "gone"; DROP TABLE sec_victim; --$r$]);
SELECT version, action, rule_id, allowed, reason FROM migrate.findings(:'v8');
SELECT count(*) AS victim_rows FROM public.sec_victim;
SELECT valid, problem FROM migrate.verify_audit();

------------------------------------------------------------------------------------------
-- 4. The audit records the DDL of every role, including roles that cannot read it, with
--    who did it: the session user and the current user (SET ROLE, SECURITY DEFINER)
------------------------------------------------------------------------------------------
CREATE SCHEMA sec_nb;
GRANT USAGE, CREATE ON SCHEMA sec_nb TO sec_nobody;
CREATE ROLE sec_dev LOGIN;
CREATE ROLE sec_team NOLOGIN;
GRANT sec_team TO sec_dev;
GRANT USAGE, CREATE ON SCHEMA sec_nb TO sec_team;
CREATE ROLE sec_owner NOLOGIN;
GRANT USAGE, CREATE ON SCHEMA sec_nb TO sec_owner;
CREATE ROLE "sec_we'ird ""role""" NOLOGIN;
SET ROLE sec_owner;
CREATE FUNCTION sec_nb.make_table(n text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog
    AS $$ BEGIN EXECUTE format('CREATE TABLE sec_nb.%I (id int)', n); END $$;
RESET ROLE;
SELECT max(id) AS audit_start FROM migrate.ddl_audit \gset

-- 4a. A role with no access to schema migrate, in its own session: its DDL is recorded, it
--     cannot read the record, nor switch the audit off
SET SESSION AUTHORIZATION sec_nobody;
SELECT session_user, current_user;
CREATE TABLE sec_nb.mine (id int);
ALTER TABLE sec_nb.mine ADD COLUMN v text;
ALTER TABLE sec_nb.mine ALTER COLUMN id TYPE bigint;
COMMENT ON TABLE sec_nb.mine IS 'by sec_nobody';
GRANT SELECT ON sec_nb.mine TO "sec_we'ird ""role""";
DO $$ BEGIN EXECUTE 'CREATE INDEX mine_v ON sec_nb.mine (v)'; END $$;
DROP TABLE sec_nb.mine;
SELECT count(*) FROM migrate.ddl_audit;
\echo :LAST_ERROR_SQLSTATE
SET migrations_schema.audit = off;
\echo :LAST_ERROR_SQLSTATE
-- 4b. the same role through a SECURITY DEFINER function owned by sec_owner
SELECT sec_nb.make_table('by_definer');
RESET SESSION AUTHORIZATION;
-- 4c. a member of sec_team, after SET ROLE sec_team
SET SESSION AUTHORIZATION sec_dev;
SET ROLE sec_team;
SELECT session_user, current_user;
CREATE TABLE sec_nb.team_t (id int);
DROP TABLE sec_nb.team_t;
RESET ROLE;
RESET SESSION AUTHORIZATION;
-- 4d. a migration applied by the deploy role in its own session, and one applied by a
--     superuser after SET ROLE sec_deploy
SET SESSION AUTHORIZATION sec_deploy;
SELECT migrate.apply('70', 'CREATE TABLE sec_app.t70 (id int)', 'DROP TABLE sec_app.t70', 'own session');
RESET SESSION AUTHORIZATION;
SET ROLE sec_deploy;
SELECT migrate.apply('71', 'CREATE TABLE sec_app.t71 (id int)', 'DROP TABLE sec_app.t71', 'set role');
RESET ROLE;
SELECT version, performed_by FROM migrate.history WHERE version IN ('70', '71') ORDER BY id;

-- as a superuser: every change, by whom (the superuser shown as "superuser")
SELECT event, command_tag, object_identity,
       CASE WHEN session_user_name = session_user THEN 'superuser' ELSE session_user_name::text END
           AS session_user_name,
       CASE WHEN current_user_name = session_user THEN 'superuser' ELSE current_user_name::text END
           AS current_user_name,
       migration_version, statement
  FROM migrate.ddl_audit WHERE id > :audit_start ORDER BY id;
-- the GRANT's detail names the grantee exactly (valid JSON, quotes escaped)
SELECT detail->'grantees' AS grantees, detail->'privileges' AS privileges
  FROM migrate.ddl_audit WHERE id > :audit_start AND event = 'grant';
-- the chain holds, the auditor reads it all, and drift() shows the changes made by hand
SELECT valid, problem FROM migrate.verify_audit();
SET ROLE sec_auditor;
SELECT session_user_name = 'sec_nobody' AS by_nobody, count(*)
  FROM migrate.ddl_audit WHERE id > :audit_start GROUP BY 1 ORDER BY 1;
SELECT command_tag, object_identity, current_user_name FROM migrate.drift()
 WHERE id > :audit_start ORDER BY id DESC LIMIT 3;
RESET ROLE;

------------------------------------------------------------------------------------------
-- Clean up: schemas, helpers, roles (and their grants on schema migrate); a fresh extension
------------------------------------------------------------------------------------------
SET client_min_messages = warning;
DROP SCHEMA sec_nb, sec_app CASCADE;
DROP TABLE public.sec_victim, public.sec_cases;
DROP FUNCTION public.sec_try(name, text);
DROP OWNED BY sec_nobody, sec_deploy, sec_auditor, sec_attacker, sec_dev, sec_team, sec_owner,
              "sec_we'ird ""role""";
DROP ROLE sec_nobody, sec_deploy, sec_auditor, sec_attacker, sec_dev, sec_team, sec_owner,
          "sec_we'ird ""role""";
DROP EXTENSION migrations_schema;
CREATE EXTENSION migrations_schema;
