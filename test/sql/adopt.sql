-- migrate.adopt(source, table_name) and migrate.baseline(version, name): taking over the history
-- of another tool without running anything.
-- Every source is read from its tool's own bookkeeping table, created with the DDL the tool
-- issues and holding the rows the tool writes: applied, failed, undone or rolled back, and
-- golang-migrate's dirty flag. The objects of the applied migrations exist, so running any of
-- them again would fail: an adopt that succeeds proves that nothing ran. Each source starts
-- from a fresh extension; the source table is left as it was; the next migration then applies
-- normally, in order. Then the refusals (dirty, a history that disagrees, bad input, a caller
-- who cannot read the table) and baselines.
--
-- The test runs as a role of its own, so that applied_by and performed_by print the same on
-- every machine; the tools' own rows name the role they ran as (app_deploy, Research Bot).
CREATE ROLE ms_adopt_admin SUPERUSER;
SET ROLE ms_adopt_admin;
SET client_min_messages = warning;
DROP EXTENSION migrations_schema;
RESET client_min_messages;
CREATE SCHEMA adopt_t;
-- The columns of migrate.status() that adopt() sets (a short checksum: NULL without a script),
-- and of migrate.history (plpgsql: the extension is dropped and created again below).
CREATE FUNCTION adopt_t.status()
RETURNS TABLE (version text, name text, state text, applied_by text, checksum text,
               phase text)
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY SELECT s.version, s.name, s.state, s.applied_by, left(s.checksum, 12), s.phase
                   FROM migrate.status() AS s;
END
$$;
CREATE FUNCTION adopt_t.history()
RETURNS TABLE (version text, action text, performed_by text, source text)
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY SELECT h.version, h.action, h.performed_by, h.detail->>'source'
                   FROM migrate.history AS h ORDER BY h.id;
END
$$;
-- Every row of the tables, as text: equal before and after means the adopt changed nothing.
CREATE FUNCTION adopt_t.fingerprint(VARIADIC tables regclass[]) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    t regclass;
    part text;
    whole text := '';
BEGIN
    FOREACH t IN ARRAY tables LOOP
        EXECUTE format('SELECT count(*) || '':'' || coalesce(md5(string_agg(r::text, ''|'' '
                       'ORDER BY r::text)), '''') FROM %s AS r', t) INTO part;
        whole := whole || t::text || '=' || part || ' ';
    END LOOP;
    RETURN whole;
END
$$;

------------------------------------------------------------------------------------------------
-- Flyway: flyway_schema_history, as Flyway 13 creates it (PostgreSQLDatabase.getRawCreateScript).
-- V1 applied; V1.5 applied, its file later removed and the row marked DELETE by `flyway
-- repair`; V2 applied, then undone (UNDO_SQL); R__Views, a repeatable; V3 failed (a
-- non-transactional CREATE INDEX CONCURRENTLY, the only failure Flyway records on
-- PostgreSQL); rank 0 is the marker of the schema Flyway created.
------------------------------------------------------------------------------------------------
CREATE EXTENSION migrations_schema;
CREATE TABLE "public"."flyway_schema_history" (
    "installed_rank" INT NOT NULL,
    "version" VARCHAR(50),
    "description" VARCHAR(200) NOT NULL,
    "type" VARCHAR(20) NOT NULL,
    "script" VARCHAR(1000) NOT NULL,
    "checksum" INTEGER,
    "installed_by" VARCHAR(100) NOT NULL,
    "installed_on" TIMESTAMP NOT NULL DEFAULT now(),
    "execution_time" INTEGER NOT NULL,
    "success" BOOLEAN NOT NULL
);
ALTER TABLE "public"."flyway_schema_history" ADD CONSTRAINT "flyway_schema_history_pk" PRIMARY KEY ("installed_rank");
CREATE INDEX "flyway_schema_history_s_idx" ON "public"."flyway_schema_history" ("success");
INSERT INTO "public"."flyway_schema_history" ("installed_rank","version","description","type","script","checksum","installed_by","installed_on","execution_time","success") VALUES
 (0, NULL,  '<< Flyway Schema Creation >>', 'SCHEMA', '"public"', NULL, 'app_deploy', '2024-05-01 10:00:00.101', 0, true),
 (1, '1',   'Create a', 'SQL', 'V1__Create_a.sql', -623083431, 'app_deploy', '2024-05-01 10:00:00.245', 12, true),
 (2, '1.5', 'Old fix',  'SQL', 'V1_5__Old_fix.sql', 123456789, 'app_deploy', '2024-05-01 10:00:00.270', 5, true),
 (3, '2',   'Add b',    'SQL', 'V2__Add_b.sql', 1128195672, 'app_deploy', '2024-05-01 10:00:00.301', 7, true),
 (4, NULL,  'Views',    'SQL', 'R__Views.sql', 895998086, 'app_deploy', '2024-05-01 10:00:00.330', 4, true),
 (5, '3',   'Index a concurrently', 'SQL', 'V3__Index_a_concurrently.sql', -1081351970, 'app_deploy', '2024-05-01 10:00:00.512', 35, false),
 (6, '2',   'Add b',    'UNDO_SQL', 'U2__Add_b.sql', 1116799966, 'app_deploy', '2024-05-02 09:00:00', 6, true),
 (7, '1.5', 'Old fix',  'DELETE', 'V1_5__Old_fix.sql', 123456789, 'app_deploy', '2024-05-03 09:00:00', 0, true);
-- what V1, V1.5 and R__Views made (V2's column b is undone)
CREATE TABLE fw_a (id int PRIMARY KEY);
ALTER TABLE fw_a ADD COLUMN fixed boolean;
CREATE VIEW fw_v AS SELECT id FROM fw_a;
-- the folder's V1 and V2, registered first: V1's script fails if it runs (fw_a exists)
SELECT migrate.register('1', 'CREATE TABLE fw_a (id int PRIMARY KEY);', 'DROP TABLE fw_a;', 'Create a');
SELECT migrate.register('2', 'ALTER TABLE fw_a ADD COLUMN b int;', 'ALTER TABLE fw_a DROP COLUMN b;', 'Add b');
SELECT adopt_t.fingerprint('flyway_schema_history') AS before \gset
SELECT * FROM migrate.adopt('flyway');
SELECT * FROM adopt_t.status();
SELECT * FROM adopt_t.history();
SELECT adopt_t.fingerprint('flyway_schema_history') = :'before' AS source_unchanged;
-- adopting again changes nothing
SELECT version, result, detail FROM migrate.adopt('flyway');
SELECT count(*) AS history_rows FROM migrate.history;
-- the next migration (V2 again, after its undo) applies normally
SELECT migrate.apply('2', 'ALTER TABLE fw_a ADD COLUMN b int;');
SELECT version, state, out_of_order, adopted_from FROM migrate.migrations ORDER BY sort_key;
SELECT attname FROM pg_attribute WHERE attrelid = 'fw_a'::regclass AND attnum > 0 ORDER BY attnum;
DROP VIEW fw_v;
DROP TABLE fw_a, flyway_schema_history;
DROP EXTENSION migrations_schema;

------------------------------------------------------------------------------------------------
-- dbmate: schema_migrations (version only), as dbmate 2.36 creates it. dbmate records neither
-- failures (20240104000000 failed: no row) nor rollbacks (20240103000000 was applied, then
-- rolled back: its row is deleted). Nothing is registered before the adopt: the versions are
-- recorded without scripts, and registering a script later attaches it.
------------------------------------------------------------------------------------------------
CREATE EXTENSION migrations_schema;
create table if not exists public.schema_migrations (version varchar primary key);
insert into public.schema_migrations (version) values ('20240101000000');
insert into public.schema_migrations (version) values ('20240102000000');
insert into public.schema_migrations (version) values ('20240103000000');
delete from public.schema_migrations where version = '20240103000000';
CREATE TABLE dbm_a (id int);
CREATE TABLE dbm_b (id int);
SELECT adopt_t.fingerprint('schema_migrations') AS before \gset
SELECT version, name, result, applied_at BETWEEN now() AND clock_timestamp() AS applied_now,
       applied_by, detail
  FROM migrate.adopt('dbmate');
SELECT * FROM adopt_t.status();
SELECT * FROM adopt_t.history();
SELECT adopt_t.fingerprint('schema_migrations') = :'before' AS source_unchanged;
-- the folder's script of an adopted version is attached, not run (dbm_a exists)
SELECT migrate.register('20240101000000', 'CREATE TABLE dbm_a (id int);', 'DROP TABLE dbm_a;', 'create_a');
SELECT * FROM adopt_t.status();
SELECT checksum = migrate.checksum('CREATE TABLE dbm_a (id int);') AS attached_checksum
  FROM migrate.status() WHERE version = '20240101000000';
SELECT version, action, checksum IS NOT NULL AS has_checksum FROM migrate.history ORDER BY id;
-- the next migration applies normally
SELECT migrate.apply('20240103000000', 'CREATE TABLE dbm_c (id int);', 'DROP TABLE dbm_c;', 'create_c');
SELECT version, state, out_of_order, adopted_from FROM migrate.migrations ORDER BY sort_key;
DROP TABLE dbm_a, dbm_b, dbm_c, schema_migrations;
DROP EXTENSION migrations_schema;

------------------------------------------------------------------------------------------------
-- golang-migrate: schema_migrations (version, dirty), one row: the version the database is at.
-- Its migrations 1..3 are registered first. Migration 3 failed: the row is dirty, and the
-- adopt is refused. After `migrate force 20240102000000` the row is clean: the registered
-- migrations up to it are applied, 3 stays pending, and a version at or below it registered
-- later counts as applied.
------------------------------------------------------------------------------------------------
CREATE EXTENSION migrations_schema;
CREATE TABLE IF NOT EXISTS "public"."schema_migrations" (version bigint not null primary key, dirty boolean not null);
SELECT migrate.register('20240101000000', 'CREATE TABLE gm_a (id int);', 'DROP TABLE gm_a;', 'create_a');
SELECT migrate.register('20240102000000', 'CREATE TABLE gm_b (id int);', 'DROP TABLE gm_b;', 'create_b');
SELECT migrate.register('20240103000000', 'CREATE TABLE gm_c (id int); CREATE INDEX ON gm_c (nope);', 'DROP TABLE gm_c;', 'create_c');
-- what golang-migrate did: 1 and 2 applied, 3 failed half-way (dirty)
BEGIN;
TRUNCATE "public"."schema_migrations";
INSERT INTO "public"."schema_migrations" (version, dirty) VALUES (20240102000000, false);
COMMIT;
BEGIN;
TRUNCATE "public"."schema_migrations";
INSERT INTO "public"."schema_migrations" (version, dirty) VALUES (20240103000000, true);
COMMIT;
CREATE TABLE gm_a (id int);
CREATE TABLE gm_b (id int);
SELECT * FROM migrate.adopt('golang-migrate');
\echo :LAST_ERROR_SQLSTATE
-- nothing recorded
SELECT count(*) AS history_rows FROM migrate.history;
SELECT * FROM adopt_t.status();
-- `migrate force 20240102000000`
BEGIN;
TRUNCATE "public"."schema_migrations";
INSERT INTO "public"."schema_migrations" (version, dirty) VALUES (20240102000000, false);
COMMIT;
SELECT adopt_t.fingerprint('schema_migrations') AS before \gset
SELECT version, name, result, applied_at BETWEEN now() AND clock_timestamp() AS applied_now,
       applied_by, detail
  FROM migrate.adopt('golang-migrate');
SELECT * FROM adopt_t.status();
SELECT * FROM adopt_t.history();
SELECT adopt_t.fingerprint('schema_migrations') = :'before' AS source_unchanged;
-- registered after the adopt, at or below its version: applied without running (gm_a1 does
-- not exist, and stays so)
SELECT migrate.register('20240101120000', 'CREATE TABLE gm_a1 (id int);', 'DROP TABLE gm_a1;', 'create_a1');
SELECT to_regclass('gm_a1') AS gm_a1;
SELECT * FROM adopt_t.history();
-- adopting again changes nothing
SELECT version, result, detail FROM migrate.adopt('golang-migrate');
-- the next migration applies normally (fixed)
SELECT migrate.register('20240103000000', 'CREATE TABLE gm_c (id int);', 'DROP TABLE gm_c;', 'create_c');
SELECT version FROM migrate.apply();
SELECT * FROM adopt_t.status();
SELECT version, state, out_of_order, adopted_from FROM migrate.migrations ORDER BY sort_key;
DROP TABLE gm_a, gm_b, gm_c, schema_migrations;
DROP EXTENSION migrations_schema;

------------------------------------------------------------------------------------------------
-- sqlx: _sqlx_migrations, as sqlx 0.8 creates it. 20240103000000 has success = false (sqlx's
-- "dirty", written by the MySQL driver; the PostgreSQL driver writes no failed rows).
------------------------------------------------------------------------------------------------
CREATE EXTENSION migrations_schema;
CREATE TABLE IF NOT EXISTS _sqlx_migrations (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    installed_on TIMESTAMPTZ NOT NULL DEFAULT now(),
    success BOOLEAN NOT NULL,
    checksum BYTEA NOT NULL,
    execution_time BIGINT NOT NULL
);
INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time) VALUES
 (20240101000000, 'create a', '2024-05-01 10:00:00.123+00', true,
  '\x52dcffb424aeb77cd96de966de88547001ad9656d3d53e03c8907e0f31653840336ff6b02aeb25a48ef7d46e1ce5f7f9', 3412876),
 (20240102000000, 'create b', '2024-05-01 10:00:00.140+00', true,
  '\xdae284ff0ef19c762649405a7cd006569fb78697bf503d9d1286e420da5ef8443a8b9429010ec8e0b0272a3530ea52bf', 2210554),
 (20240103000000, 'create c', '2024-05-01 10:00:00.151+00', false,
  '\x3da4e6a67cc96672222acf52988a761c93b8d3f7b8bf1701f9ebb37d8c2a98b1eb5f89a1563982453e043727e20ae7c1', -1);
CREATE TABLE sqlx_a (id int);
CREATE TABLE sqlx_b (id int);
-- sqlx stops at a dirty migration: so does adopt, recording nothing
SELECT migrate.adopt('sqlx');
SELECT count(*) AS recorded FROM migrate.history;
-- resolved as sqlx wants it (the half-done migration undone by hand, its row deleted)
DELETE FROM _sqlx_migrations WHERE NOT success;
SELECT adopt_t.fingerprint('_sqlx_migrations') AS before \gset
SELECT * FROM migrate.adopt('sqlx');
SELECT * FROM adopt_t.status();
SELECT * FROM adopt_t.history();
SELECT adopt_t.fingerprint('_sqlx_migrations') = :'before' AS source_unchanged;
-- the next migration (the failed one, fixed) applies normally
SELECT migrate.apply('20240103000000', 'CREATE TABLE sqlx_c (id int);', 'DROP TABLE sqlx_c;', 'create c');
SELECT version, state, out_of_order, adopted_from FROM migrate.migrations ORDER BY sort_key;
DROP TABLE sqlx_a, sqlx_b, sqlx_c, _sqlx_migrations;
DROP EXTENSION migrations_schema;

------------------------------------------------------------------------------------------------
-- diesel: __diesel_schema_migrations, as diesel 2 creates it. 20240102120000 was reverted (its
-- row deleted). The folder is registered with diesel's order (the version as order key, as
-- pg_migrate does), except diesel's initial setup: the adopt records it in that order too.
------------------------------------------------------------------------------------------------
CREATE EXTENSION migrations_schema;
CREATE TABLE IF NOT EXISTS __diesel_schema_migrations (
       version VARCHAR(50) PRIMARY KEY NOT NULL,
       run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
INSERT INTO __diesel_schema_migrations (version, run_on) VALUES
 ('00000000000000', '2024-05-01 10:00:00.100'),
 ('20240101120000', '2024-05-01 10:00:00.210'),
 ('20240102120000', '2024-05-01 10:00:00.250');
DELETE FROM __diesel_schema_migrations WHERE version = '20240102120000';
CREATE FUNCTION diesel_set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW IS DISTINCT FROM OLD AND NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at) THEN
        NEW.updated_at := current_timestamp;
    END IF;
    RETURN NEW;
END;
$$;
CREATE TABLE ds_a (id int);
SELECT migrate.register('20240101120000', 'CREATE TABLE ds_a (id int);', 'DROP TABLE ds_a;', 'create_a', order_key => '20240101120000');
SELECT migrate.register('20240102120000', 'CREATE TABLE ds_b (id int);', 'DROP TABLE ds_b;', 'create_b', order_key => '20240102120000');
SELECT adopt_t.fingerprint('__diesel_schema_migrations') AS before \gset
SELECT * FROM migrate.adopt('diesel');
SELECT * FROM adopt_t.status();
SELECT * FROM adopt_t.history();
SELECT adopt_t.fingerprint('__diesel_schema_migrations') = :'before' AS source_unchanged;
-- the next migration applies normally
SELECT migrate.apply('20240102120000', 'CREATE TABLE ds_b (id int);');
SELECT version, order_key, state, out_of_order, adopted_from FROM migrate.migrations ORDER BY sort_key;
DROP TABLE ds_a, ds_b, __diesel_schema_migrations;
DROP FUNCTION diesel_set_updated_at();
DROP EXTENSION migrations_schema;

------------------------------------------------------------------------------------------------
-- Alembic: alembic_version, as `alembic upgrade head --sql` creates it; it holds the head. The
-- chain a1b2c3d4e5f6 -> 9f8e7d6c5b4a -> 3c2b1a0f9e8d is registered in its order (order keys,
-- as pg_migrate does: the natural order of these revisions is the other way round); the
-- database was upgraded to the third, then downgraded to the second.
------------------------------------------------------------------------------------------------
CREATE EXTENSION migrations_schema;
CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL,
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
INSERT INTO alembic_version (version_num) VALUES ('a1b2c3d4e5f6') RETURNING alembic_version.version_num;
UPDATE alembic_version SET version_num='9f8e7d6c5b4a' WHERE alembic_version.version_num = 'a1b2c3d4e5f6';
UPDATE alembic_version SET version_num='3c2b1a0f9e8d' WHERE alembic_version.version_num = '9f8e7d6c5b4a';
-- `alembic downgrade -1`: 3c2b1a0f9e8d is undone
UPDATE alembic_version SET version_num='9f8e7d6c5b4a' WHERE alembic_version.version_num = '3c2b1a0f9e8d';
CREATE TABLE al_a (id int);
CREATE TABLE al_b (id int);
SELECT migrate.register('a1b2c3d4e5f6', 'CREATE TABLE al_a (id int);', 'DROP TABLE al_a;', 'create a', '000001');
SELECT migrate.register('9f8e7d6c5b4a', 'CREATE TABLE al_b (id int);', 'DROP TABLE al_b;', 'create b', '000002');
SELECT migrate.register('3c2b1a0f9e8d', 'CREATE TABLE al_c (id int);', 'DROP TABLE al_c;', 'create c', '000003');
SELECT adopt_t.fingerprint('alembic_version') AS before \gset
SELECT version, name, result, applied_at BETWEEN now() AND clock_timestamp() AS applied_now,
       applied_by, detail
  FROM migrate.adopt('alembic');
SELECT * FROM adopt_t.status();
SELECT * FROM adopt_t.history();
SELECT adopt_t.fingerprint('alembic_version') = :'before' AS source_unchanged;
-- the next revision applies normally
SELECT migrate.apply('3c2b1a0f9e8d', 'CREATE TABLE al_c (id int);');
SELECT version, order_key, state, out_of_order, adopted_from FROM migrate.migrations ORDER BY sort_key;
DROP TABLE al_a, al_b, al_c, alembic_version;
DROP EXTENSION migrations_schema;

------------------------------------------------------------------------------------------------
-- node-pg-migrate: pgmigrations, as node-pg-migrate 9 creates it; name is the file name
-- without extension. Two migrations ran in one run (one run_on); a third ran later and was
-- migrated down (its row deleted).
------------------------------------------------------------------------------------------------
CREATE EXTENSION migrations_schema;
CREATE TABLE "public"."pgmigrations" (id SERIAL PRIMARY KEY, name varchar(255) NOT NULL, run_on timestamp NOT NULL);
INSERT INTO "public"."pgmigrations" (name, run_on) VALUES ('1700000000000_create-a', '2026-11-26 11:14:17.464418');
INSERT INTO "public"."pgmigrations" (name, run_on) VALUES ('1700000000001_create-b', '2026-11-26 11:14:17.464418');
INSERT INTO "public"."pgmigrations" (name, run_on) VALUES ('1700000000002_create-c', '2026-11-26 11:20:00.120211');
DELETE FROM "public"."pgmigrations" WHERE name='1700000000002_create-c';
CREATE TABLE npm_a (id int);
CREATE TABLE npm_b (id int);
SELECT adopt_t.fingerprint('pgmigrations') AS before \gset
SELECT * FROM migrate.adopt('node-pg-migrate');
SELECT * FROM adopt_t.status();
SELECT * FROM adopt_t.history();
SELECT adopt_t.fingerprint('pgmigrations') = :'before' AS source_unchanged;
-- the next migration applies normally
SELECT migrate.apply('1700000000002', 'CREATE TABLE npm_c (id int);', 'DROP TABLE npm_c;', 'create-c');
SELECT version, name, state, out_of_order, adopted_from FROM migrate.migrations ORDER BY sort_key;
DROP TABLE npm_a, npm_b, npm_c, pgmigrations;
DROP EXTENSION migrations_schema;

------------------------------------------------------------------------------------------------
-- Sqitch: the registry schema sqitch, its tables as Sqitch's own script creates them
-- (App/Sqitch/Engine/pg.sql of Sqitch 1.3.1, registry 1.1, its comments left out; TAP
-- 012_adopt_tools lets the real Sqitch make them), with the rows a real run
-- wrote: create_a deployed; create_b deployed, reverted, deployed again; broken failed, then
-- (fixed) deployed and reverted: changes holds only what is deployed, events the rest. The
-- plan is registered first, in its order (order keys).
------------------------------------------------------------------------------------------------
CREATE EXTENSION migrations_schema;
\set registry sqitch
\set tableopts ''
BEGIN;

SET client_min_messages = warning;
CREATE SCHEMA IF NOT EXISTS :"registry";


CREATE TABLE :"registry".releases (
    version         REAL        PRIMARY KEY,
    installed_at    TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    installer_name  TEXT        NOT NULL,
    installer_email TEXT        NOT NULL
);


CREATE TABLE :"registry".projects (
    project         TEXT        PRIMARY KEY,
    uri             TEXT            NULL UNIQUE,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    creator_name    TEXT        NOT NULL,
    creator_email   TEXT        NOT NULL
):tableopts;


CREATE TABLE :"registry".changes (
    change_id       TEXT        PRIMARY KEY,
    script_hash     TEXT            NULL,
    change          TEXT        NOT NULL,
    project         TEXT        NOT NULL REFERENCES :"registry".projects(project) ON UPDATE CASCADE,
    note            TEXT        NOT NULL DEFAULT '',
    committed_at    TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    committer_name  TEXT        NOT NULL,
    committer_email TEXT        NOT NULL,
    planned_at      TIMESTAMPTZ NOT NULL,
    planner_name    TEXT        NOT NULL,
    planner_email   TEXT        NOT NULL,
    UNIQUE(project, script_hash)
):tableopts;


CREATE TABLE :"registry".tags (
    tag_id          TEXT        PRIMARY KEY,
    tag             TEXT        NOT NULL,
    project         TEXT        NOT NULL REFERENCES :"registry".projects(project) ON UPDATE CASCADE,
    change_id       TEXT        NOT NULL REFERENCES :"registry".changes(change_id) ON UPDATE CASCADE,
    note            TEXT        NOT NULL DEFAULT '',
    committed_at    TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    committer_name  TEXT        NOT NULL,
    committer_email TEXT        NOT NULL,
    planned_at      TIMESTAMPTZ NOT NULL,
    planner_name    TEXT        NOT NULL,
    planner_email   TEXT        NOT NULL,
    UNIQUE(project, tag)
):tableopts;


CREATE TABLE :"registry".dependencies (
    change_id       TEXT        NOT NULL REFERENCES :"registry".changes(change_id) ON UPDATE CASCADE ON DELETE CASCADE,
    type            TEXT        NOT NULL,
    dependency      TEXT        NOT NULL,
    dependency_id   TEXT            NULL REFERENCES :"registry".changes(change_id) ON UPDATE CASCADE CONSTRAINT dependencies_check CHECK (
            (type = 'require'  AND dependency_id IS NOT NULL)
         OR (type = 'conflict' AND dependency_id IS NULL)
    ),
    PRIMARY KEY (change_id, dependency)
):tableopts;


CREATE TABLE :"registry".events (
    event           TEXT        NOT NULL CONSTRAINT events_event_check CHECK (
        event IN ('deploy', 'revert', 'fail', 'merge')
    ),
    change_id       TEXT        NOT NULL,
    change          TEXT        NOT NULL,
    project         TEXT        NOT NULL REFERENCES :"registry".projects(project) ON UPDATE CASCADE,
    note            TEXT        NOT NULL DEFAULT '',
    requires        TEXT[]      NOT NULL DEFAULT '{}',
    conflicts       TEXT[]      NOT NULL DEFAULT '{}',
    tags            TEXT[]      NOT NULL DEFAULT '{}',
    committed_at    TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    committer_name  TEXT        NOT NULL,
    committer_email TEXT        NOT NULL,
    planned_at      TIMESTAMPTZ NOT NULL,
    planner_name    TEXT        NOT NULL,
    planner_email   TEXT        NOT NULL,
    PRIMARY KEY (change_id, committed_at)
):tableopts;


COMMIT;
-- (Sqitch runs the script in a psql session of its own; the SET above outlived the COMMIT)
RESET client_min_messages;
INSERT INTO sqitch.releases (version, installed_at, installer_name, installer_email) VALUES (1.1, '2026-11-26 11:14:30.714445+00', 'Research Bot', 'bot@example.com');
INSERT INTO sqitch.projects (project, uri, created_at, creator_name, creator_email) VALUES ('flipr', NULL, '2026-11-26 11:14:30.721616+00', 'Research Bot', 'bot@example.com');
INSERT INTO sqitch.changes (change_id, script_hash, change, project, note, committed_at, committer_name, committer_email, planned_at, planner_name, planner_email) VALUES ('75e900b1fc60ffef476b28b337017b65cf842de1', 'bf69ada10221e56a277832e07d7ec1fbd1252cf5', 'create_a', 'flipr', 'Create table a', '2026-11-26 11:14:30.966465+00', 'Research Bot', 'bot@example.com', '2026-11-26 11:14:27+00', 'Research Bot', 'bot@example.com');
INSERT INTO sqitch.changes (change_id, script_hash, change, project, note, committed_at, committer_name, committer_email, planned_at, planner_name, planner_email) VALUES ('ac0a08560cbc7ef912c33e7a71325d20bf3e206b', 'c121042a20839d68a05cdc0c3e0141acec21fd52', 'create_b', 'flipr', 'Create table b', '2026-11-26 11:14:40.548556+00', 'Research Bot', 'bot@example.com', '2026-11-26 11:14:28+00', 'Research Bot', 'bot@example.com');
INSERT INTO sqitch.dependencies (change_id, type, dependency, dependency_id) VALUES ('ac0a08560cbc7ef912c33e7a71325d20bf3e206b', 'require', 'create_a', '75e900b1fc60ffef476b28b337017b65cf842de1');
INSERT INTO sqitch.tags (tag_id, tag, project, change_id, note, committed_at, committer_name, committer_email, planned_at, planner_name, planner_email) VALUES ('1d9dfb15e533c8946d76d525ec9e5a93115f7398', '@v1.0', 'flipr', 'ac0a08560cbc7ef912c33e7a71325d20bf3e206b', 'Tag v1.0', '2026-11-26 11:14:40.552399+00', 'Research Bot', 'bot@example.com', '2026-11-26 11:14:29+00', 'Research Bot', 'bot@example.com');
INSERT INTO sqitch.events (event, change_id, change, project, note, requires, conflicts, tags, committed_at, committer_name, committer_email, planned_at, planner_name, planner_email) VALUES
 ('deploy', '75e900b1fc60ffef476b28b337017b65cf842de1', 'create_a', 'flipr', 'Create table a', '{}', '{}', '{}', '2026-11-26 11:14:30.970584+00', 'Research Bot', 'bot@example.com', '2026-11-26 11:14:27+00', 'Research Bot', 'bot@example.com'),
 ('deploy', 'ac0a08560cbc7ef912c33e7a71325d20bf3e206b', 'create_b', 'flipr', 'Create table b', '{create_a}', '{}', '{@v1.0}', '2026-11-26 11:14:31.181201+00', 'Research Bot', 'bot@example.com', '2026-11-26 11:14:28+00', 'Research Bot', 'bot@example.com'),
 ('revert', 'ac0a08560cbc7ef912c33e7a71325d20bf3e206b', 'create_b', 'flipr', 'Create table b', '{create_a}', '{}', '{@v1.0}', '2026-11-26 11:14:32.392167+00', 'Research Bot', 'bot@example.com', '2026-11-26 11:14:28+00', 'Research Bot', 'bot@example.com'),
 ('deploy', 'ac0a08560cbc7ef912c33e7a71325d20bf3e206b', 'create_b', 'flipr', 'Create table b', '{create_a}', '{}', '{@v1.0}', '2026-11-26 11:14:36.76952+00', 'Research Bot', 'bot@example.com', '2026-11-26 11:14:28+00', 'Research Bot', 'bot@example.com'),
 ('fail',   'c035d4d5d6b0f59054b8702f27997cb668575d6f', 'broken', 'flipr', 'Broken change', '{}', '{}', '{}', '2026-11-26 11:14:36.894426+00', 'Research Bot', 'bot@example.com', '2026-11-26 11:14:35+00', 'Research Bot', 'bot@example.com'),
 ('revert', 'ac0a08560cbc7ef912c33e7a71325d20bf3e206b', 'create_b', 'flipr', 'Create table b', '{create_a}', '{}', '{@v1.0}', '2026-11-26 11:14:37.043586+00', 'Research Bot', 'bot@example.com', '2026-11-26 11:14:28+00', 'Research Bot', 'bot@example.com'),
 ('deploy', 'ac0a08560cbc7ef912c33e7a71325d20bf3e206b', 'create_b', 'flipr', 'Create table b', '{create_a}', '{}', '{@v1.0}', '2026-11-26 11:14:40.553819+00', 'Research Bot', 'bot@example.com', '2026-11-26 11:14:28+00', 'Research Bot', 'bot@example.com'),
 ('deploy', 'c035d4d5d6b0f59054b8702f27997cb668575d6f', 'broken', 'flipr', 'Broken change', '{}', '{}', '{}', '2026-11-26 11:14:40.697566+00', 'Research Bot', 'bot@example.com', '2026-11-26 11:14:35+00', 'Research Bot', 'bot@example.com'),
 ('revert', 'c035d4d5d6b0f59054b8702f27997cb668575d6f', 'broken', 'flipr', 'Broken change', '{}', '{}', '{}', '2026-11-26 11:14:41.815795+00', 'Research Bot', 'bot@example.com', '2026-11-26 11:14:35+00', 'Research Bot', 'bot@example.com');
-- what create_a and create_b made
CREATE TABLE flipr_a (id int);
CREATE TABLE flipr_b (id int);
-- the plan, in its order; Sqitch's deploy scripts wrap themselves in BEGIN/COMMIT
SELECT migrate.register('create_a', E'BEGIN;\nCREATE TABLE flipr_a (id int);\nCOMMIT;\n', E'BEGIN;\nDROP TABLE flipr_a;\nCOMMIT;\n', 'Create table a', '000001');
SELECT migrate.register('create_b', E'BEGIN;\nCREATE TABLE flipr_b (id int);\nCOMMIT;\n', E'BEGIN;\nDROP TABLE flipr_b;\nCOMMIT;\n', 'Create table b', '000002');
SELECT migrate.register('broken', E'BEGIN;\nCREATE TABLE flipr_c (id int);\nCOMMIT;\n', E'BEGIN;\nDROP TABLE flipr_c;\nCOMMIT;\n', 'Broken change', '000003');
SELECT adopt_t.fingerprint('sqitch.releases', 'sqitch.projects', 'sqitch.changes', 'sqitch.tags',
                           'sqitch.dependencies', 'sqitch.events') AS before \gset
SELECT * FROM migrate.adopt('sqitch');
SELECT * FROM adopt_t.status();
SELECT version, action, performed_by, detail->>'source' AS source, detail->>'note' AS note
  FROM migrate.history ORDER BY id;
SELECT adopt_t.fingerprint('sqitch.releases', 'sqitch.projects', 'sqitch.changes', 'sqitch.tags',
                           'sqitch.dependencies', 'sqitch.events') = :'before' AS source_unchanged;
-- the next change applies normally
SELECT migrate.apply('broken', E'BEGIN;\nCREATE TABLE flipr_c (id int);\nCOMMIT;\n');
SELECT version, order_key, state, out_of_order, adopted_from FROM migrate.migrations ORDER BY sort_key;
DROP TABLE flipr_a, flipr_b, flipr_c;
SET client_min_messages = warning;
DROP SCHEMA sqitch CASCADE;
RESET client_min_messages;
DROP EXTENSION migrations_schema;

------------------------------------------------------------------------------------------------
-- Prisma: _prisma_migrations, as the Prisma schema engine creates it; the name is the
-- migration's directory. 20240103000000_add_c failed, was resolved as rolled back, failed
-- again (unresolved); 20240104000000_baseline was marked applied (`migrate resolve --applied`).
------------------------------------------------------------------------------------------------
CREATE EXTENSION migrations_schema;
CREATE TABLE _prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
);
INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count) VALUES
 ('b8e33ee2-8150-43cb-8521-e68852ce993b', 'c2de7559380e5ebf65caa7d59e166558e80243cf7e70006cc98d1593d94203c1',
  '2024-05-01 10:00:00.412+00', '20240101000000_init', NULL, NULL, '2024-05-01 10:00:00.377+00', 1),
 ('68aa81fe-669c-43a5-b22b-2c70b1c41f5e', '07bbd90b208c445921accaef655512d2f9ab45bc584c5f71c3b8bc043e290d02',
  '2024-05-01 10:00:00.498+00', '20240102000000_add_b', NULL, NULL, '2024-05-01 10:00:00.455+00', 1),
 ('ab9d9dbe-8fc4-48bf-84dd-f4ac1e0592a1', '287c713ffe4eb4330954df3b71df956ed9fbe5ccbb4a0b50963a9a0af7584118',
  NULL, '20240103000000_add_c', E'Database error code: 42P01\n\nDatabase error:\nERROR: relation "nonexistent_table" does not exist\n\n',
  '2024-05-02 08:00:00.000+00', '2024-05-01 10:00:00.530+00', 0),
 ('8b1a8334-f1da-44eb-bcd8-3a6d8c291d8d', '287c713ffe4eb4330954df3b71df956ed9fbe5ccbb4a0b50963a9a0af7584118',
  NULL, '20240103000000_add_c', E'Database error code: 42P01\n\nDatabase error:\nERROR: relation "nonexistent_table" does not exist\n\n',
  NULL, '2024-05-02 09:00:00.000+00', 0),
 ('d5fac179-799c-4eda-afe3-f158b55d9b5b', '07bbd90b208c445921accaef655512d2f9ab45bc584c5f71c3b8bc043e290d02',
  '2024-05-03 09:00:00.000+00', '20240104000000_baseline', '', NULL, '2024-05-03 09:00:00.000+00', 0);
CREATE TABLE "User" (id serial PRIMARY KEY, email text NOT NULL);
CREATE TABLE "B" (id serial PRIMARY KEY);
-- Prisma stops at an unresolved failure (P3009): so does adopt, recording nothing
SELECT migrate.adopt('prisma');
SELECT count(*) AS recorded FROM migrate.history;
-- resolved as Prisma wants it (prisma migrate resolve --rolled-back 20240103000000_add_c)
UPDATE _prisma_migrations SET rolled_back_at = '2024-05-02 10:00:00+00'
 WHERE migration_name = '20240103000000_add_c' AND rolled_back_at IS NULL;
SELECT adopt_t.fingerprint('_prisma_migrations') AS before \gset
SELECT * FROM migrate.adopt('prisma');
SELECT * FROM adopt_t.status();
SELECT * FROM adopt_t.history();
SELECT adopt_t.fingerprint('_prisma_migrations') = :'before' AS source_unchanged;
-- the next migration applies normally
SELECT migrate.apply('20240105000000', 'CREATE TABLE "D" (id serial PRIMARY KEY);', 'DROP TABLE "D";', 'add_d');
SELECT version, name, state, out_of_order, adopted_from FROM migrate.migrations ORDER BY sort_key;
DROP TABLE "User", "B", "D", _prisma_migrations;
DROP EXTENSION migrations_schema;

------------------------------------------------------------------------------------------------
-- Bad input and refusals. Nothing is recorded by a refused adopt.
------------------------------------------------------------------------------------------------
CREATE EXTENSION migrations_schema;
SELECT * FROM migrate.adopt(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate.adopt('liquibase');
\echo :LAST_ERROR_SQLSTATE
-- no such table in the search_path
SELECT * FROM migrate.adopt('flyway');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate.adopt('flyway', table_name => '');
\echo :LAST_ERROR_SQLSTATE
-- a table outside the search_path, named: Flyway's baseline at 3 (baselineOnMigrate), then V4;
-- the registered 2 is below the baseline, the registered 5 stays pending
CREATE SCHEMA legacy;
CREATE TABLE "legacy"."flyway_schema_history" (
    "installed_rank" INT NOT NULL,
    "version" VARCHAR(50),
    "description" VARCHAR(200) NOT NULL,
    "type" VARCHAR(20) NOT NULL,
    "script" VARCHAR(1000) NOT NULL,
    "checksum" INTEGER,
    "installed_by" VARCHAR(100) NOT NULL,
    "installed_on" TIMESTAMP NOT NULL DEFAULT now(),
    "execution_time" INTEGER NOT NULL,
    "success" BOOLEAN NOT NULL
);
ALTER TABLE "legacy"."flyway_schema_history" ADD CONSTRAINT "flyway_schema_history_pk" PRIMARY KEY ("installed_rank");
CREATE INDEX "flyway_schema_history_s_idx" ON "legacy"."flyway_schema_history" ("success");
INSERT INTO "legacy"."flyway_schema_history" ("installed_rank","version","description","type","script","checksum","installed_by","installed_on","execution_time","success") VALUES
 (1, '3', '<< Flyway Baseline >>', 'BASELINE', '<< Flyway Baseline >>', NULL, 'app_deploy', '2024-06-01 08:00:00', 0, true),
 (2, '4', 'Add c', 'SQL', 'V4__Add_c.sql', 402119011, 'app_deploy', '2024-06-01 08:00:01.5', 9, true);
CREATE TABLE lg_c (id int);
SELECT migrate.register('2', 'CREATE TABLE lg_b (id int);', 'DROP TABLE lg_b;', 'Add b');
SELECT migrate.register('5', 'CREATE TABLE lg_d (id int);', 'DROP TABLE lg_d;', 'Add d');
SELECT * FROM migrate.adopt('flyway');
SELECT version, name, result,
       CASE WHEN applied_at BETWEEN now() AND clock_timestamp() THEN 'now'
            ELSE applied_at::text END AS applied_at,
       applied_by, detail
  FROM migrate.adopt('flyway', table_name => 'legacy.flyway_schema_history');
SELECT * FROM adopt_t.status();
SELECT * FROM adopt_t.history();
SELECT to_regclass('lg_b') AS lg_b;
-- a table of another tool's shape: dbmate's schema_migrations read as golang-migrate's
create table if not exists public.schema_migrations (version varchar primary key);
insert into public.schema_migrations (version) values ('20240101000000');
SELECT * FROM migrate.adopt('golang-migrate');
\echo :LAST_ERROR_SQLSTATE
-- a version that cannot be one
insert into public.schema_migrations (version) values ('');
SELECT * FROM migrate.adopt('dbmate');
\echo :LAST_ERROR_SQLSTATE
delete from public.schema_migrations where version = '';
-- our history holds applied migrations the source does not record (5 and the ones adopted from
-- legacy Flyway): refused
SELECT migrate.apply('5', 'CREATE TABLE lg_d (id int);');
SELECT * FROM migrate.adopt('dbmate');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS history_rows FROM migrate.history;
DROP TABLE lg_c, lg_d, legacy.flyway_schema_history;
DROP SCHEMA legacy;
DROP EXTENSION migrations_schema;
CREATE EXTENSION migrations_schema;
-- a version applied here that the source records too is "already applied"; one applied here
-- only is a conflict
SELECT migrate.apply('20240101000000', 'CREATE TABLE db_a (id int);', 'DROP TABLE db_a;', 'create_a');
insert into public.schema_migrations (version) values ('20240102000000');
CREATE TABLE db_b (id int);
SELECT version, name, result, applied_at BETWEEN now() AND clock_timestamp() AS applied_now,
       applied_by, detail
  FROM migrate.adopt('dbmate');
SELECT * FROM adopt_t.history();
SELECT migrate.apply('20240103000000', 'CREATE TABLE db_c (id int);');
SELECT * FROM migrate.adopt('dbmate');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS history_rows FROM migrate.history;
DROP TABLE db_a, db_b, db_c;
DROP EXTENSION migrations_schema;

-- a caller who cannot read the source table (adopt reads it as the caller): the error of
-- reading it, permission denied (42501), and nothing recorded; the same for a table in a
-- schema the caller may not use
CREATE EXTENSION migrations_schema;
CREATE ROLE ms_adopt_reader;
GRANT USAGE ON SCHEMA migrate TO ms_adopt_reader;
GRANT EXECUTE ON FUNCTION migrate.adopt(text, text) TO ms_adopt_reader;
CREATE SCHEMA legacy;
create table if not exists legacy.schema_migrations (version varchar primary key);
insert into legacy.schema_migrations (version) values ('20240101000000');
SET ROLE ms_adopt_reader;
SELECT * FROM migrate.adopt('dbmate');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate.adopt('dbmate', table_name => 'legacy.schema_migrations');
\echo :LAST_ERROR_SQLSTATE
SET ROLE ms_adopt_admin;
SELECT count(*) AS history_rows FROM migrate.history;
SELECT count(*) AS migrations FROM migrate.migrations;
-- with SELECT on it, the same caller adopts
GRANT SELECT ON schema_migrations TO ms_adopt_reader;
SET ROLE ms_adopt_reader;
SELECT version, result, applied_by, detail FROM migrate.adopt('dbmate');
SET ROLE ms_adopt_admin;
SELECT * FROM adopt_t.status();
DROP TABLE schema_migrations, legacy.schema_migrations;
DROP SCHEMA legacy;
DROP EXTENSION migrations_schema;
DROP OWNED BY ms_adopt_reader;
DROP ROLE ms_adopt_reader;

------------------------------------------------------------------------------------------------
-- migrate.baseline(version, name): the schema is at `version`; the registered migrations up to
-- it are applied without running (their up scripts would fail: their tables exist), later ones
-- stay pending; a version registered later at or below it counts as applied.
------------------------------------------------------------------------------------------------
CREATE EXTENSION migrations_schema;
CREATE TABLE bl_1 (id int);
CREATE TABLE bl_2 (id int);
CREATE TABLE bl_3 (id int);
SELECT migrate.register('1', 'CREATE TABLE bl_1 (id int);', 'DROP TABLE bl_1;', 'one');
SELECT migrate.register('2', 'CREATE TABLE bl_2 (id int);', 'DROP TABLE bl_2;', 'two');
SELECT migrate.register('3', 'CREATE TABLE bl_3 (id int);', 'DROP TABLE bl_3;', 'three');
SELECT migrate.register('4', 'CREATE TABLE bl_4 (id int);', 'DROP TABLE bl_4;', 'four');
SELECT migrate.register('5', 'CREATE TABLE bl_5 (id int);', 'DROP TABLE bl_5;', 'five');
SELECT migrate.baseline('3');
SELECT * FROM adopt_t.status();
SELECT * FROM adopt_t.history();
SELECT migrate.register('2.5', 'CREATE TABLE bl_2_5 (id int);', 'DROP TABLE bl_2_5;', 'two and a half');
SELECT version, state FROM migrate.status() WHERE version = '2.5';
SELECT to_regclass('bl_2_5') AS bl_2_5;
-- the pending ones apply normally
SELECT version FROM migrate.apply();
SELECT version, state, out_of_order, adopted_from FROM migrate.migrations ORDER BY sort_key;
-- a baseline below an applied newer migration is refused
SELECT migrate.baseline('4');
\echo :LAST_ERROR_SQLSTATE
SELECT migrate.baseline('4.5');
\echo :LAST_ERROR_SQLSTATE
SELECT migrate.baseline(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS history_rows FROM migrate.history;
-- a baseline at the newest applied migration marks nothing, and records the baseline: a version
-- registered later below it counts as applied
SELECT migrate.baseline('5');
SELECT migrate.register('4.5', 'CREATE TABLE bl_4_5 (id int);', 'DROP TABLE bl_4_5;', 'four and a half');
SELECT to_regclass('bl_4_5') AS bl_4_5;
SELECT * FROM adopt_t.status();
SELECT * FROM adopt_t.history();
DROP TABLE bl_1, bl_2, bl_3, bl_4, bl_5;
DROP EXTENSION migrations_schema;
-- a baseline at a version nothing registered: recorded without a script
CREATE EXTENSION migrations_schema;
SELECT migrate.baseline('20240601000000', 'schema of June');
SELECT * FROM adopt_t.status();
SELECT * FROM adopt_t.history();
SELECT migrate.register('20240501000000', 'CREATE TABLE bl_may (id int);', NULL, 'may');
SELECT migrate.register('20240701000000', 'CREATE TABLE bl_july (id int);', NULL, 'july');
SELECT version, name, state FROM migrate.status();
SELECT version FROM migrate.apply();
DROP TABLE bl_july;

------------------------------------------------------------------------------------------------
-- Adopt first, register the folder later with a client's order keys (dbmate's file names,
-- Alembic's chain): versions adopted without scripts take their natural place until their
-- files come with a key; an Alembic head moved into the chain's order makes the revisions
-- before it applied.
------------------------------------------------------------------------------------------------
DROP EXTENSION migrations_schema;
CREATE EXTENSION migrations_schema;
CREATE TABLE schema_migrations (version varchar PRIMARY KEY);
INSERT INTO schema_migrations VALUES ('20240101000000'), ('20240102000000');
SELECT version, result FROM migrate.adopt('dbmate');
SELECT migrate.register('20240101000000', 'CREATE TABLE late_a (i int);', NULL, 'a',
                        '20240101000000_a.sql');
SELECT migrate.register('20240103000000', 'CREATE TABLE late_c (i int);', NULL, 'c',
                        '20240103000000_c.sql');
SELECT version, state, phase FROM migrate.status();
SELECT version FROM migrate.apply();
DROP TABLE late_c, schema_migrations;
DROP EXTENSION migrations_schema;
CREATE EXTENSION migrations_schema;
CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);
INSERT INTO alembic_version VALUES ('b2');
SELECT version, result FROM migrate.adopt('alembic');
SELECT migrate.register('f1', 'CREATE TABLE late_f1 (i int);', NULL, 'one', '0001');
SELECT migrate.register('b2', 'CREATE TABLE late_b2 (i int);', NULL, 'two', '0002');
SELECT migrate.register('d3', 'CREATE TABLE late_d3 (i int);', NULL, 'three', '0003');
SELECT version, name, state, phase FROM migrate.status();
SELECT version FROM migrate.apply();
DROP TABLE late_d3, alembic_version;

------------------------------------------------------------------------------------------------
-- Rollback after an adoption follows the migrations' order (they count as applied when the
-- first was adopted, one after the other), not the order their rows were recorded in.
------------------------------------------------------------------------------------------------
DROP EXTENSION migrations_schema;
CREATE EXTENSION migrations_schema;
SELECT migrate.register('1', 'CREATE TABLE ro_g (id int);', 'DROP TABLE ro_g;');
SELECT migrate.register('2', 'ALTER TABLE ro_g ADD COLUMN c int;', 'ALTER TABLE ro_g DROP COLUMN c;');
SELECT migrate.register('3', 'CREATE INDEX ro_g_c ON ro_g (c);', 'DROP INDEX ro_g_c;');
CREATE TABLE ro_g (id int, c int);
CREATE INDEX ro_g_c ON ro_g (c);
CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
INSERT INTO schema_migrations VALUES (3, false);
SELECT version, result FROM migrate.adopt('golang-migrate');
SELECT migrate.apply('4', 'CREATE TABLE ro_h (id int);', 'DROP TABLE ro_h;');
SELECT version FROM migrate.rollback(2);
SELECT to_regclass('ro_h') AS ro_h, to_regclass('ro_g_c') AS index_gone;
SELECT version FROM migrate.rollback();
-- a baseline whose migration was rolled back counts no more
SELECT migrate.baseline('1');
SELECT version FROM migrate.rollback();
SELECT migrate.apply('0.5', 'CREATE TABLE ro_half (id int);', 'DROP TABLE ro_half;');
SELECT to_regclass('ro_half') IS NOT NULL AS ran;
-- dbmate's reading of golang-migrate's table (same name) is refused
UPDATE schema_migrations SET dirty = true;
SELECT migrate.adopt('dbmate');
DROP TABLE schema_migrations, ro_half;
-- adopting again after the tool undid a migration: the two histories disagree
DROP EXTENSION migrations_schema;
CREATE EXTENSION migrations_schema;
CREATE TABLE flyway_schema_history (installed_rank int PRIMARY KEY, version varchar(50),
    description varchar(200) NOT NULL, type varchar(20) NOT NULL, script varchar(1000) NOT NULL,
    checksum int, installed_by varchar(100) NOT NULL, installed_on timestamp NOT NULL DEFAULT now(),
    execution_time int NOT NULL, success boolean NOT NULL);
INSERT INTO flyway_schema_history VALUES
 (1, '1', 'a', 'SQL', 'V1__a.sql', 1, 'deploy', '2024-05-01 10:00:00', 1, true),
 (2, '2', 'b', 'SQL', 'V2__b.sql', 2, 'deploy', '2024-05-01 10:00:01', 1, true);
SELECT version, result FROM migrate.adopt('flyway');
INSERT INTO flyway_schema_history VALUES
 (3, '2', 'b', 'UNDO_SQL', 'U2__b.sql', 3, 'deploy', '2024-05-02 10:00:00', 1, true);
SELECT migrate.adopt('flyway');
SELECT version, state FROM migrate.status();
DROP TABLE flyway_schema_history;
-- scripts attached without an order key in a database ordered by keys: refused, not stored
DROP EXTENSION migrations_schema;
CREATE EXTENSION migrations_schema;
CREATE TABLE schema_migrations (version varchar PRIMARY KEY);
INSERT INTO schema_migrations VALUES ('20240101000000');
SELECT version, result FROM migrate.adopt('dbmate');
SELECT migrate.register('20240202000000', 'CREATE TABLE ro_k2 (i int);', NULL, NULL,
                        '20240202000000_k2.sql');
SELECT migrate.apply('20240101000000', 'CREATE TABLE ro_k1 (i int);');
SELECT version, state, checksum IS NULL AS no_script FROM migrate.status();
DROP TABLE schema_migrations;

RESET ROLE;
SET client_min_messages = warning;
DROP SCHEMA adopt_t CASCADE;
DROP EXTENSION migrations_schema;
CREATE EXTENSION migrations_schema;
RESET client_min_messages;
DROP ROLE ms_adopt_admin;
