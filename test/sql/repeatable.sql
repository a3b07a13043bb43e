-- Repeatable migrations: run when new, again whenever their tokens change, after the versioned
-- migrations of the same apply(), in name order; linted; recorded in history; listed by
-- status(). A cosmetic edit does not run them again.
SET migrations_schema.lint_error_rows = 1000;
CREATE TABLE rp_log (n serial PRIMARY KEY, what text);

-- apply_repeatable runs it now, once
SELECT migrate.apply_repeatable('log_view', $$
CREATE OR REPLACE VIEW rp_log_view AS SELECT n, what FROM rp_log;
INSERT INTO rp_log (what) VALUES ('log_view v1');
$$) AS ran;
SELECT migrate.apply_repeatable('log_view', $$
CREATE OR REPLACE VIEW rp_log_view AS SELECT n, what FROM rp_log;
INSERT INTO rp_log (what) VALUES ('log_view v1');
$$) AS ran_again;
-- a cosmetic edit (comments, spacing) is stored and recorded, and does not run
SELECT migrate.apply_repeatable('log_view', $$
-- the log, for humans
create or replace view rp_log_view as select n, what from rp_log;
INSERT INTO rp_log (what)   VALUES ('log_view v1');
$$) AS ran_after_cosmetic_edit;
-- a token edit runs it again
SELECT migrate.apply_repeatable('log_view', $$
CREATE OR REPLACE VIEW rp_log_view AS SELECT n, what, length(what) AS len FROM rp_log;
INSERT INTO rp_log (what) VALUES ('log_view v2');
$$) AS ran_after_edit;
SELECT what FROM rp_log ORDER BY n;
SELECT version, name, state, statements, phase FROM migrate.status();
SELECT version, name, action, statements, detail FROM migrate.history ORDER BY id;

-- registered ones run with apply(): after the versioned migrations of the same call, in name
-- order; the result rows of repeatables have no version
SELECT migrate.register_repeatable('b_seed', $$
INSERT INTO rp_log (what) VALUES ('b_seed, after 002: ' || (SELECT count(*) FROM rp_items));
$$);
SELECT migrate.register_repeatable('a_view', $$
CREATE OR REPLACE VIEW rp_items_view AS SELECT id FROM rp_items;
INSERT INTO rp_log (what) VALUES ('a_view');
$$);
SELECT migrate.register('002', $$
CREATE TABLE rp_items (id int PRIMARY KEY);
INSERT INTO rp_items VALUES (1), (2);
INSERT INTO rp_log (what) VALUES ('002');
$$, 'DROP TABLE rp_items');
SELECT version, name, state, phase FROM migrate.status();
SELECT version, name, statements FROM migrate.apply();
SELECT what FROM rp_log WHERE n > 2 ORDER BY n;
-- nothing changed: nothing runs
SELECT migrate.register_repeatable('b_seed', $$
INSERT INTO rp_log (what) VALUES ('b_seed, after 002: ' || (SELECT count(*) FROM rp_items));
$$);
SELECT count(*) AS ran FROM migrate.apply();
-- a changed one runs with the next apply(), alone
SELECT migrate.register_repeatable('b_seed', $$
INSERT INTO rp_log (what) VALUES ('b_seed v2');
$$);
SELECT version, name, state, phase FROM migrate.status() WHERE version IS NULL;
SELECT version, name FROM migrate.apply();

-- lint applies: an error-level finding refuses it and nothing is recorded
CREATE TABLE rp_big AS SELECT g AS id FROM generate_series(1, 2000) AS g;
ANALYZE rp_big;
SELECT migrate.apply_repeatable('big_index', 'CREATE INDEX rp_big_id ON rp_big (id);');
SELECT count(*) AS recorded FROM migrate.repeatables WHERE name = 'big_index';
-- and an override allows it, recorded with the run
SELECT migrate.apply_repeatable('big_index', 'CREATE INDEX rp_big_id ON rp_big (id);',
                                allow => ARRAY['I301 -- small enough in this test']) AS ran;
SELECT version, rule_id, allowed, reason FROM migrate.findings('R__big_index');
-- a failing script leaves nothing
SELECT migrate.apply_repeatable('broken', 'INSERT INTO rp_log (what) VALUES (1/0);');
SELECT count(*) AS recorded FROM migrate.repeatables WHERE name = 'broken';
-- no steps after commit: a repeatable runs whole in one transaction
SELECT migrate.register_repeatable('concurrent',
                                   'CREATE INDEX CONCURRENTLY rp_log_what ON rp_log (what);');
-- bad input
SELECT migrate.apply_repeatable(NULL, 'SELECT 1');
SELECT migrate.apply_repeatable('x', NULL);
SELECT migrate.register_repeatable('', 'SELECT 1');
SELECT migrate.register_repeatable('empty', '-- nothing');
SELECT migrate.register_repeatable('syntax', 'SELEC 1');
-- no down: rolling back the versioned migrations leaves them as they are; objects of a
-- repeatable that depend on what a down script drops must go first
SELECT version FROM migrate.rollback(allow => ARRAY['B402 -- test table']);
DROP VIEW rp_items_view;
SELECT version FROM migrate.rollback(allow => ARRAY['B402 -- test table']);
SELECT name, state, runs FROM migrate.repeatables ORDER BY name;
-- pg_dump keeps them
SELECT count(*) AS dumped FROM pg_extension e, unnest(e.extconfig) AS c(oid)
 WHERE e.extname = 'migrations_schema' AND c.oid = 'migrate.repeatables'::regclass;

-- The seed example (examples/seeds/seed_staff_users.sql) on the example's users table: it
-- runs once, again only when it changes, and leaves the same rows whatever ran before.
CREATE TABLE users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL,
    name text NOT NULL,
    post_count integer NOT NULL DEFAULT 0);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
INSERT INTO users (email, name, post_count)
VALUES ('Admin@example.com', 'old name', 3), ('ops@example.com', 'Ops', 0),
       ('writer@example.com', 'Writer', 1);
\set seed `cat examples/seeds/seed_staff_users.sql`
SELECT migrate.apply_repeatable('seed_staff_users', :'seed') AS ran;
SELECT email, name, post_count FROM users ORDER BY id;
SELECT migrate.apply_repeatable('seed_staff_users', :'seed') AS ran_again;
SELECT migrate.apply_repeatable('seed_staff_users', :'seed' || $$
INSERT INTO users (email, name) VALUES ('qa@example.com', 'QA')
ON CONFLICT ((lower(email))) DO NOTHING;$$) AS ran_changed;
SELECT email, name, post_count FROM users ORDER BY id;

DROP VIEW rp_log_view;
DROP TABLE rp_log, rp_big, users;
DROP EXTENSION migrations_schema;
CREATE EXTENSION migrations_schema;
