-- migrate.apply(): every pending migration, in natural version order, in one call.
SET client_min_messages = notice;
-- registered in random order, with the naming styles users bring
SELECT migrate.register('1.10', 'CREATE TABLE p110 (id int);', 'DROP TABLE p110;', 'ten');
SELECT migrate.register('005a', 'CREATE TABLE p005a (id int);', 'DROP TABLE p005a;', 'fix');
SELECT migrate.register('1.9', 'CREATE TABLE p19 (id int);', 'DROP TABLE p19;', 'nine');
SELECT migrate.register('005', 'CREATE TABLE p005 (id int);', 'DROP TABLE p005;', 'five');
SELECT migrate.register('006', 'CREATE TABLE p006 (id int);', 'DROP TABLE p006;', 'six');
SELECT migrate.register('1.2.10', 'CREATE TABLE p1210 (id int);', 'DROP TABLE p1210;', '1.2.10');
SELECT version, name, state FROM migrate.status();

-- up to a target, inclusive
SELECT version, name, statements FROM migrate.apply(to_version => '1.9');
SELECT version, state FROM migrate.status();
SELECT version, name FROM migrate.history ORDER BY id;
-- the rest
SELECT version, name, statements FROM migrate.apply();
-- nothing left
SELECT version, name, statements FROM migrate.apply();
SELECT * FROM migrate.apply(to_version => '9999');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate.apply(to_version => NULL, allow_out_of_order => NULL);

-- a pending migration older than the newest applied one is refused, with every such one
-- named, unless allowed
SELECT migrate.register('002', 'CREATE TABLE p002 (id int);', 'DROP TABLE p002;');
SELECT migrate.register('003', 'CREATE TABLE p003 (id int);', 'DROP TABLE p003;');
SELECT migrate.register('2.0', 'CREATE TABLE p20 (id int);', 'DROP TABLE p20;');
SELECT * FROM migrate.apply();
\echo :LAST_ERROR_SQLSTATE
SELECT to_regclass('p20') AS p20;
SELECT version, name, statements FROM migrate.apply(allow_out_of_order => true);
SELECT version, out_of_order FROM migrate.migrations ORDER BY applied_seq;

-- one call is one unit: a failing migration undoes the ones before it in the same call
SELECT migrate.register('007', 'CREATE TABLE p30 (id int);', 'DROP TABLE p30;');
SELECT migrate.register('008', 'CREATE TABLE p31 (id int); INSERT INTO p31 VALUES (1 / 0);',
                        'DROP TABLE p31;', 'fails');
SELECT migrate.register('009', 'CREATE TABLE p32 (id int);', 'DROP TABLE p32;');
SELECT * FROM migrate.apply();
SELECT to_regclass('p30') AS p30, to_regclass('p31') AS p31;
SELECT version, state FROM migrate.status() WHERE version IN ('007', '008', '009');
-- every script is checked before any runs
SELECT migrate.register('008', 'CREATE TABLE p31 (id int);', 'DROP TABLE p31;', 'fixed');
UPDATE migrate.migrations SET up_sql = 'CREATE TABLE p32 (id int' WHERE version = '009';
SELECT * FROM migrate.apply();
SELECT to_regclass('p30') AS p30;
UPDATE migrate.migrations SET up_sql = 'CREATE TABLE p32 (id int)' WHERE version = '009';
SELECT version, statements FROM migrate.apply();

-- applying in a transaction that the caller rolls back leaves everything pending
SELECT migrate.register('010', 'CREATE TABLE p40 (id int);', 'DROP TABLE p40;');
BEGIN;
SELECT version FROM migrate.apply();
ROLLBACK;
SELECT version, state FROM migrate.status() WHERE version = '010';

SELECT format('DROP TABLE IF EXISTS %s;', string_agg(t, ', '))
  FROM unnest(ARRAY['p110','p005a','p19','p005','p006','p1210','p002','p003','p20','p30','p31','p32','p40']) t
\gset
:format
DROP EXTENSION migrations_schema;
CREATE EXTENSION migrations_schema;
