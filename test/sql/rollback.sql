-- migrate.rollback(steps) and migrate.rollback(to_version): stored down scripts, newest first.
SET client_min_messages = notice;
SELECT migrate.apply('001', 'CREATE TABLE b1 (id int PRIMARY KEY);', 'DROP TABLE b1;', 'b1');
SELECT migrate.apply('002', 'CREATE TABLE b2 (id int REFERENCES b1);', 'DROP TABLE b2;', 'b2');
SELECT migrate.apply('003', $$
CREATE FUNCTION b3_f() RETURNS int LANGUAGE sql AS $f$ SELECT 3; $f$;
CREATE VIEW b3_v AS SELECT b3_f() AS x;
$$, $$
DROP VIEW b3_v;
DROP FUNCTION b3_f();
$$, 'b3');
SELECT migrate.apply('004', 'CREATE TABLE b4 (id int);', '', 'empty down');
SELECT migrate.apply('005', 'CREATE TABLE b5 (id int);', NULL, 'no down');

-- bad input changes nothing
SELECT * FROM migrate.rollback(NULL::int);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate.rollback(0);
SELECT * FROM migrate.rollback(-1);
SELECT * FROM migrate.rollback(99);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate.rollback(NULL::text);
SELECT * FROM migrate.rollback(to_version => 'nope');
\echo :LAST_ERROR_SQLSTATE

-- a migration without a down script stops the rollback before anything runs
SELECT * FROM migrate.rollback(2);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate.rollback(to_version => '001');
SELECT version, state FROM migrate.status();

-- give 005 a down script (its up script is unchanged, so this is allowed), then roll back
SELECT migrate.register('005', 'CREATE TABLE b5 (id int);', 'DROP TABLE b5;', 'no down');
SELECT version, name, statements FROM migrate.rollback();
SELECT version, state, applied_at IS NOT NULL AS has_applied_at FROM migrate.status();
SELECT to_regclass('b5') AS b5;

-- an empty down script is a valid no-op
SELECT version, name, statements FROM migrate.rollback();
SELECT to_regclass('b4') AS b4_left_in_place;

-- a failing down script leaves everything as it was
SELECT migrate.register('003', $$
CREATE FUNCTION b3_f() RETURNS int LANGUAGE sql AS $f$ SELECT 3; $f$;
CREATE VIEW b3_v AS SELECT b3_f() AS x;
$$, $$
DROP FUNCTION b3_f();
DROP VIEW b3_v;
$$, 'b3');
SELECT * FROM migrate.rollback(to_version => '001');
\echo :LAST_ERROR_SQLSTATE
SELECT version, state FROM migrate.status();
SELECT to_regclass('b2') AS b2, to_regclass('b3_v') AS b3_v;
-- a down script with a syntax error is reported before anything runs
SELECT migrate.register('003', $$
CREATE FUNCTION b3_f() RETURNS int LANGUAGE sql AS $f$ SELECT 3; $f$;
CREATE VIEW b3_v AS SELECT b3_f() AS x;
$$, 'DROP VIEW b3_v; DROP FUNCTIO b3_f();', 'b3');
SELECT * FROM migrate.rollback(2);
\echo :LAST_ERROR_SQLSTATE
SELECT migrate.register('003', $$
CREATE FUNCTION b3_f() RETURNS int LANGUAGE sql AS $f$ SELECT 3; $f$;
CREATE VIEW b3_v AS SELECT b3_f() AS x;
$$, 'DROP VIEW b3_v; DROP FUNCTION b3_f();', 'b3');

-- roll back to a version: everything above it, newest first
SELECT version, name, statements FROM migrate.rollback(to_version => '001');
SELECT version, state FROM migrate.status();
SELECT to_regclass('b2') AS b2, to_regclass('b3_v') AS b3_v, to_regclass('b1') AS b1;
SELECT * FROM migrate.rollback(to_version => '001');

-- re-apply what was rolled back: 004's empty down script left its table in place, so its
-- up script fails and nothing of this call stays
SELECT version, statements FROM migrate.apply();
SELECT version, state FROM migrate.status();
DROP TABLE b4;
SELECT version, statements FROM migrate.apply();
SELECT version, state FROM migrate.status();

-- rollback follows the order migrations were applied in, out-of-order ones included
SELECT migrate.apply('002a', 'CREATE TABLE b2a (id int);', 'DROP TABLE b2a;', 'late',
                     allow_out_of_order => true);
SELECT version FROM migrate.rollback(2);
SELECT version, state FROM migrate.status();

-- rolling back everything, then nothing is left to roll back
SELECT version FROM migrate.rollback(4);
SELECT * FROM migrate.rollback();
\echo :LAST_ERROR_SQLSTATE
SELECT version, state FROM migrate.status();

-- the history tells the whole story
SELECT id, version, action, statements FROM migrate.history ORDER BY id;

-- rollback runs in the caller's transaction
SELECT version FROM migrate.apply(to_version => '001');
BEGIN;
SELECT version FROM migrate.rollback();
ROLLBACK;
SELECT version, state FROM migrate.status() WHERE version = '001';

DROP TABLE b1, b4;
DROP EXTENSION migrations_schema;
CREATE EXTENSION migrations_schema;
