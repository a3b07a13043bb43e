-- Migration versions: natural order, validation.
SELECT migrate.version_compare('005', '005a') AS "005 vs 005a",
       migrate.version_compare('005a', '006') AS "005a vs 006",
       migrate.version_compare('1.9', '1.10') AS "1.9 vs 1.10",
       migrate.version_compare('1.2.10', '1.2.9') AS "1.2.10 vs 1.2.9",
       migrate.version_compare('20250108000000', '20250108000000') AS same,
       migrate.version_compare('5', '005') AS "5 vs 005",
       migrate.version_compare('2019-11-15-182353', '2019-11-16-000000') AS diesel;

-- sorting a mixed set naturally
SELECT v FROM unnest(ARRAY['010', '1.10', '002', '005a', '005', '1.9', '006', '20250108000000',
                           '001', '1.2.10', '1.2.9', 'v2', 'v10'])
    AS t(v)
 ORDER BY (SELECT count(*) FROM unnest(ARRAY['010', '1.10', '002', '005a', '005', '1.9', '006',
                                             '20250108000000', '001', '1.2.10', '1.2.9', 'v2',
                                             'v10']) AS u(w)
            WHERE migrate.version_compare(w, v) < 0);

-- bad versions are refused with a clear error, everywhere a version is taken
SELECT migrate.version_compare(NULL, '1');
SELECT migrate.apply(NULL, 'SELECT 1');
\echo :LAST_ERROR_SQLSTATE
SELECT migrate.apply('', 'SELECT 1');
\echo :LAST_ERROR_SQLSTATE
SELECT migrate.apply('   ', 'SELECT 1');
SELECT migrate.apply(' 001', 'SELECT 1');
SELECT migrate.apply('001 ', 'SELECT 1');
SELECT migrate.apply(E'00\n1', 'SELECT 1');
SELECT migrate.apply(E'001\t', 'SELECT 1');
SELECT migrate.apply(repeat('9', 256), 'SELECT 1');
SELECT migrate.register(repeat('x', 10000), 'SELECT 1');
SELECT * FROM migrate.rollback(to_version => '');
SELECT * FROM migrate.apply(to_version => ' ');
-- 255 bytes is still fine
SELECT length(v), migrate.version_compare(v, v) FROM (SELECT repeat('7', 255) AS v) s;
-- versions with spaces inside, dots, dashes and non-ASCII letters are fine
SELECT migrate.version_compare('2024 01 release', '2024 02 release'),
       migrate.version_compare('ä1', 'ä2');

-- versions that differ only in leading zeros are the same place in the order: refused
SELECT migrate.apply('005', 'CREATE TABLE v005 (id int)', 'DROP TABLE v005');
SELECT migrate.apply('5', 'CREATE TABLE v5 (id int)');
\echo :LAST_ERROR_SQLSTATE
SELECT migrate.register('0005', 'CREATE TABLE v5 (id int)');
SELECT version, state FROM migrate.status();
SELECT * FROM migrate.rollback(to_version => '5');
SELECT version, state FROM migrate.status();

-- names: optional, but not empty, blank or with control characters
SELECT migrate.apply('006', 'SELECT 1', NULL, '');
SELECT migrate.apply('006', 'SELECT 1', NULL, E'two\nlines');
SELECT migrate.apply('006', 'SELECT 1', NULL, repeat('n', 1001));

-- clean up
DROP TABLE IF EXISTS v005;
DROP EXTENSION migrations_schema;
CREATE EXTENSION migrations_schema;
