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

-- order keys: a client's own order of its folder instead of the natural order of versions.
-- diesel orders dash-stripped versions as strings: 201706080000000000 (18 digits) comes before
-- 20180101000000 (14 digits), which the natural order puts the other way round.
SELECT migrate.register('20180101000000', 'CREATE TABLE k2 (id int);', 'DROP TABLE k2;', 'k2',
                        order_key => '20180101000000');
SELECT migrate.register('201706080000000000', 'CREATE TABLE k1 (id int);', 'DROP TABLE k1;', 'k1',
                        order_key => '201706080000000000');
SELECT version, order_key FROM migrate.status() JOIN migrate.migrations USING (version);
SELECT version FROM migrate.apply('201706080000000000');
-- the next one in the order is not out of order, though its version is naturally smaller
SELECT version FROM migrate.apply();
SELECT version, state, out_of_order FROM migrate.migrations ORDER BY sort_key;
-- a key that comes before an applied one is out of order, as a version would be
SELECT migrate.register('20170101000000', 'CREATE TABLE k0 (id int);', NULL, 'k0',
                        order_key => '20170101000000');
SELECT version FROM migrate.apply();
\echo :LAST_ERROR_SQLSTATE
-- one order per database: no mixing with natural versions, no two migrations in one place
SELECT migrate.register('3', 'CREATE TABLE k3 (id int);');
\echo :LAST_ERROR_SQLSTATE
SELECT migrate.apply('3', 'CREATE TABLE k3 (id int);');
\echo :LAST_ERROR_SQLSTATE
SELECT migrate.register('3', 'CREATE TABLE k3 (id int);', order_key => '20180101000000');
\echo :LAST_ERROR_SQLSTATE
SELECT migrate.register('3', 'CREATE TABLE k3 (id int);', order_key => '');
\echo :LAST_ERROR_SQLSTATE
-- registering again without a key keeps the stored one; re-applying by version keeps it too
SELECT migrate.register('20180101000000', 'CREATE TABLE k2 (id int);');
SELECT migrate.apply('20180101000000', 'CREATE TABLE k2 (id int);');
SELECT version, order_key FROM migrate.migrations ORDER BY sort_key;
-- rollback to a version follows the order too
SELECT version FROM migrate.rollback(to_version => '201706080000000000');
SELECT version FROM migrate.rollback(1);
SELECT version, state FROM migrate.status();
-- in an order of keys, versions that the natural order would call one (1, 01) are two
SELECT migrate.register('01', 'SELECT 1;', order_key => '201801020000000000');
SELECT migrate.register('1', 'SELECT 1;', order_key => '201801030000000000');
-- an applied migration may take a new key (the folder's order changed); not one in use
SELECT version FROM migrate.apply('201706080000000000');  -- 20170101000000 comes before it
SELECT migrate.register('201706080000000000', 'CREATE TABLE k1 (id int);', order_key => '2017');
SELECT migrate.register('201706080000000000', 'CREATE TABLE k1 (id int);',
                        order_key => '20180101000000');
\echo :LAST_ERROR_SQLSTATE
SELECT version, order_key, state FROM migrate.migrations ORDER BY sort_key;
DROP TABLE k1;
DROP EXTENSION migrations_schema;
CREATE EXTENSION migrations_schema;
-- a database still on an older declaration of register (4 arguments, before ALTER EXTENSION
-- ... UPDATE) calls the new library: the missing order_key reads as NULL (it crashed)
CREATE FUNCTION pg_temp.register_0_3(text, text, text, text) RETURNS text
    LANGUAGE c AS 'migrations_schema', 'migrate_register';
SELECT pg_temp.register_0_3('1', 'SELECT 1;', NULL, 'old');
SELECT version, name, order_key FROM migrate.migrations;
DROP EXTENSION migrations_schema;
CREATE EXTENSION migrations_schema;
-- a natural database refuses an order key
SELECT migrate.register('1', 'SELECT 1;');
SELECT migrate.register('2', 'SELECT 2;', order_key => 'b');
\echo :LAST_ERROR_SQLSTATE
DROP EXTENSION migrations_schema;
CREATE EXTENSION migrations_schema;
