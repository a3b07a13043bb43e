-- Splitting scripts into statements with PostgreSQL's own parser.

-- dollar quotes, comments, string literals and DO blocks with semicolons inside
SELECT * FROM migrate.split($script$
-- a leading comment; with a semicolon
CREATE TABLE s1 (id int, note text DEFAULT 'a;b');  /* block ; comment */
CREATE FUNCTION s1_f() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1; -- semicolon inside the body
    RETURN 2;
END
$$;
DO $do$ BEGIN RAISE NOTICE 'x;y'; END $do$;
CREATE FUNCTION s1_g() RETURNS text LANGUAGE sql AS $body$ SELECT $$nested; quote$$ $body$;
SELECT E'escaped \'; quote', U&'\0041;';
;;
INSERT INTO s1 VALUES (1, $q$it's; fine$q$)
$script$);

-- a script's own BEGIN; ... COMMIT; is accepted and not run
SELECT statement, command FROM migrate.split('BEGIN; CREATE TABLE w (id int); COMMIT;');
SELECT statement, command FROM migrate.split(E'START TRANSACTION;\nCREATE TABLE w (id int);\nEND;');
-- empty scripts give no statements
SELECT count(*) FROM migrate.split('');
SELECT count(*) FROM migrate.split(E'  -- only a comment\n /* and another */ ;');
SELECT count(*) FROM migrate.split('BEGIN; COMMIT;');
SELECT migrate.split(NULL);

-- BEGIN ... COMMIT blocks group statements (see test/sql/steps.sql); any other transaction
-- control, a block left open, a nested block or options are refused
SELECT * FROM migrate.split('CREATE TABLE w (id int); COMMIT; CREATE TABLE v (id int);');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate.split('BEGIN; CREATE TABLE w (id int);');
SELECT * FROM migrate.split('CREATE TABLE w (id int); COMMIT;');
SELECT * FROM migrate.split('BEGIN ISOLATION LEVEL SERIALIZABLE; CREATE TABLE w (id int); COMMIT;');
SELECT * FROM migrate.split('SAVEPOINT a; CREATE TABLE w (id int); RELEASE a;');
SELECT * FROM migrate.split('CREATE TABLE w (id int); ROLLBACK;');
SELECT * FROM migrate.split('BEGIN; CREATE TABLE w (id int); COMMIT AND CHAIN;');
SELECT * FROM migrate.split('PREPARE TRANSACTION ''x''');

-- statements that cannot run inside a transaction block are detected before anything runs:
-- CONCURRENTLY, VACUUM and DETACH PARTITION ... CONCURRENTLY run as steps after commit (from
-- the first of them on), the others (databases, tablespaces, the server's configuration) are
-- refused
SELECT * FROM migrate.split(E'CREATE TABLE w (id int);\n\nCREATE INDEX CONCURRENTLY w_i ON w (id);');
SELECT * FROM migrate.split('DROP INDEX CONCURRENTLY w_i');
SELECT * FROM migrate.split('REINDEX (CONCURRENTLY) TABLE w');
SELECT * FROM migrate.split('REINDEX TABLE CONCURRENTLY w');
SELECT * FROM migrate.split('REINDEX DATABASE contrib_regression');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate.split('REINDEX SYSTEM contrib_regression');
SELECT * FROM migrate.split('VACUUM w');
SELECT * FROM migrate.split('VACUUM (ANALYZE) w');
SELECT * FROM migrate.split('CLUSTER');
SELECT * FROM migrate.split('CREATE DATABASE x');
SELECT * FROM migrate.split('DROP DATABASE x');
SELECT * FROM migrate.split('ALTER DATABASE x SET TABLESPACE pg_default');
SELECT * FROM migrate.split('ALTER SYSTEM SET work_mem = ''8MB''');
SELECT * FROM migrate.split('CREATE TABLESPACE t LOCATION ''/tmp''');
SELECT * FROM migrate.split('DROP TABLESPACE t');
SELECT * FROM migrate.split('DISCARD ALL');
SELECT * FROM migrate.split('CREATE SUBSCRIPTION s CONNECTION ''dbname=x'' PUBLICATION p');
SELECT * FROM migrate.split('ALTER TABLE p DETACH PARTITION c CONCURRENTLY');
SELECT * FROM migrate.split('COPY w FROM STDIN');
-- their transactional forms are fine
SELECT statement, command FROM migrate.split($$
CREATE INDEX w_i ON w (id);
DROP INDEX w_i;
REINDEX TABLE w;
ANALYZE w;
CLUSTER w USING w_i;
ALTER DATABASE x SET work_mem = '8MB';
DISCARD PLANS;
CREATE SUBSCRIPTION s CONNECTION 'dbname=x' PUBLICATION p WITH (connect = false);
ALTER TABLE p DETACH PARTITION c;
REFRESH MATERIALIZED VIEW CONCURRENTLY mv;
COPY w FROM '/tmp/w.csv'
$$);

-- syntax errors name the line of the script, keep SQLSTATE and message
SELECT * FROM migrate.split(E'CREATE TABLE a (id int);\n\nCREATE TABLE b (id int;\nSELECT 1;');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migrate.split(E'-- comment\nSELEC 1;');
SELECT * FROM migrate.split($$CREATE FUNCTION f() RETURNS int AS $x$ SELECT 1 $$);
SELECT * FROM migrate.split(E'SELECT ''unterminated');
-- multibyte text before the error does not shift the line
SELECT * FROM migrate.split(E'SELECT ''äöü €'';\nSELECT ''ok'';\nCREATE TABL x ();');

-- huge scripts split fine
SELECT count(*), max(statement), max(line)
  FROM migrate.split((SELECT string_agg(format('CREATE TABLE t%s (id int);', i), E'\n')
                        FROM generate_series(1, 5000) i));
