-- migrate.register(version, up_sql, down_sql, name): known, validated, not yet applied.
SELECT migrate.register('001', 'CREATE TABLE r1 (id int);', 'DROP TABLE r1;', 'r1');
SELECT version, name, state, applied_at, applied_by, statements FROM migrate.status();
SELECT to_regclass('r1') AS r1;
-- registering the same again changes nothing; a pending one may be replaced freely
SELECT migrate.register('001', 'CREATE TABLE r1 (id int);', 'DROP TABLE r1;', 'r1');
SELECT migrate.register('001', 'CREATE TABLE r1 (id bigint);', 'DROP TABLE r1;', 'r1');
SELECT checksum = migrate.checksum('CREATE TABLE r1 (id bigint);') AS replaced FROM migrate.status();

-- scripts are checked when registered
SELECT migrate.register('002', 'CREATE TABLE r2 (id int,);');
\echo :LAST_ERROR_SQLSTATE
SELECT migrate.register('002', 'CREATE DATABASE r1_db;');
SELECT migrate.register('002', '');
SELECT migrate.register('002', NULL);
SELECT migrate.register(NULL, 'SELECT 1');
SELECT migrate.register('002', 'CREATE TABLE r2 (id int);', 'DROP TABL r2;');
SELECT version, state FROM migrate.status();

-- once applied, the up script is fixed; the down script and the name may still change
SELECT version, name, statements FROM migrate.apply();
SELECT migrate.register('001', 'CREATE TABLE r1 (id bigint);', 'DROP TABLE r1;', 'r1');
SELECT migrate.register('001', 'CREATE TABLE r1 (id int);', 'DROP TABLE r1;', 'r1');
\echo :LAST_ERROR_SQLSTATE
SELECT migrate.register('001', 'CREATE TABLE r1 (id bigint);', 'DROP TABLE r1 CASCADE;', 'r1');
SELECT migrate.register('001', 'CREATE TABLE r1 (id bigint);', 'DROP TABLE r1 CASCADE;', 'table r1');
SELECT version, name, down_sql FROM migrate.migrations ORDER BY sort_key;
SELECT version, action FROM migrate.history ORDER BY id;
-- not giving a down script or a name keeps the stored ones
SELECT migrate.apply('001', 'CREATE TABLE r1 (id bigint);');
SELECT migrate.register('001', 'CREATE TABLE r1 (id bigint);');
-- the same works through apply
SELECT migrate.apply('001', 'CREATE TABLE r1 (id bigint);', 'DROP TABLE r1;', 'r1');
SELECT version, name, down_sql FROM migrate.migrations ORDER BY sort_key;

-- register does not apply: it is the caller's choice when
SELECT migrate.register('003', 'CREATE TABLE r3 (id int);', 'DROP TABLE r3;', 'r3');
SELECT version, state FROM migrate.status();

DROP TABLE r1, r2;
DROP EXTENSION migrations_schema;
CREATE EXTENSION migrations_schema;
