-- Checksums: SHA-256 of the script with line endings normalized, as hex.
SELECT migrate.checksum('abc') = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
    AS sha256_of_abc;
SELECT migrate.checksum('') = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
    AS sha256_of_empty;
-- CRLF and lone CR count as LF; other white space counts
SELECT migrate.checksum(E'CREATE TABLE a ();\r\nSELECT 1;\r\n') =
       migrate.checksum(E'CREATE TABLE a ();\nSELECT 1;\n') AS crlf_equals_lf,
       migrate.checksum(E'CREATE TABLE a ();\rSELECT 1;\r') =
       migrate.checksum(E'CREATE TABLE a ();\nSELECT 1;\n') AS cr_equals_lf,
       migrate.checksum(E'CREATE TABLE a ();\r\r\n') =
       migrate.checksum(E'CREATE TABLE a ();\n\n') AS cr_crlf_is_two_lines,
       migrate.checksum('SELECT 1;') <> migrate.checksum('SELECT 1; ') AS spaces_count;
SELECT length(migrate.checksum(repeat('x', 1000000))) AS hex_digits;
SELECT migrate.checksum(NULL);

-- the stored checksum is the checksum of the up script
SELECT migrate.apply('001', E'CREATE TABLE ck (id int);\r\n', 'DROP TABLE ck');
SELECT checksum = migrate.checksum(E'CREATE TABLE ck (id int);\n') AS stored_checksum_matches
  FROM migrate.status();
-- the same script with other line endings is the same migration
SELECT migrate.apply('001', E'CREATE TABLE ck (id int);\n', 'DROP TABLE ck');
-- a changed script is not
SELECT migrate.apply('001', E'CREATE TABLE ck (id bigint);\n', 'DROP TABLE ck');
\echo :LAST_ERROR_SQLSTATE

DROP TABLE ck;
DROP EXTENSION migrations_schema;
CREATE EXTENSION migrations_schema;

-- Token checksums: PostgreSQL's lexer tokens, so white space, comments, line endings and a
-- byte-order mark do not count; every token does, strings and dollar-quoted bodies included.
SELECT length(migrate.token_checksum('SELECT 1;')) AS hex_digits,
       migrate.token_checksum('SELECT 1;') <> migrate.checksum('SELECT 1;') AS not_the_raw_one;
SELECT migrate.token_checksum(E'CREATE TABLE a (id int);\n') = t AS crlf,
       migrate.token_checksum(E'\xEF\xBB\xBFCREATE TABLE a (id int);\n') = t AS bom,
       migrate.token_checksum(E'CREATE TABLE a (id int);   \t\n') = t AS trailing_space,
       migrate.token_checksum(E'CREATE TABLE a (id int);') = t AS no_final_newline,
       migrate.token_checksum(E'-- a comment\nCREATE TABLE a /* here */ (id int); -- end\n') = t
           AS comments,
       migrate.token_checksum(E'create   table a(id INT);\n') = t AS keyword_case_and_spacing,
       migrate.token_checksum(E'CREATE TABLE "a" (id int);\n') = t AS quoted_same_name
  FROM (SELECT migrate.token_checksum(E'CREATE TABLE a (id int);\r\n') AS t) AS base;
SELECT migrate.token_checksum('CREATE TABLE a (id int);') <> t AS identifier,
       migrate.token_checksum('CREATE TABLE b (id bigint);') <> t AS type_name,
       migrate.token_checksum('CREATE TABLE "B" (id bigint);') <>
           migrate.token_checksum('CREATE TABLE b (id bigint);') AS quoted_case,
       migrate.token_checksum($$INSERT INTO b VALUES ('x ');$$) <>
           migrate.token_checksum($$INSERT INTO b VALUES ('x');$$) AS inside_a_string,
       migrate.token_checksum(E'INSERT INTO b VALUES (\'x\n\');') <>
           migrate.token_checksum(E'INSERT INTO b VALUES (\'x \n\');') AS string_line_end_space,
       migrate.token_checksum($f$CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$SELECT 1$$;$f$) <>
           migrate.token_checksum($f$CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$SELECT  1$$;$f$)
           AS inside_a_dollar_body,
       migrate.token_checksum('SELECT 1; SELECT 2;') <> migrate.token_checksum('SELECT 1;')
           AS statement_added,
       migrate.token_checksum('SELECT 10;') <> migrate.token_checksum('SELECT 1;') AS number
  FROM (SELECT migrate.token_checksum('CREATE TABLE b (id int);') AS t) AS base;
-- a script the lexer rejects, and NULL
SELECT migrate.token_checksum($$SELECT 'unterminated$$);
SELECT migrate.token_checksum(NULL);

-- An applied migration edited cosmetically stays applied: the new text is stored, with a
-- NOTICE and a history row; a token edit is refused.
SELECT migrate.apply('001', E'CREATE TABLE ck (id int);\n', 'DROP TABLE ck');
SELECT migrate.apply('001', E'\xEF\xBB\xBF-- the ck table\r\nCREATE TABLE ck (id int);  ');
SELECT migrate.register('001', E'CREATE TABLE ck (id int); -- registered again');
SELECT migrate.apply('001', E'CREATE TABLE ck (id int); -- registered again');
SELECT migrate.apply('001', E'CREATE TABLE ck (id int, note text);');
\echo :LAST_ERROR_SQLSTATE
SELECT migrate.register('001', E'CREATE TABLE ck (id int);\nSELECT 1;');
\echo :LAST_ERROR_SQLSTATE
SELECT version, action, detail ? 'before' AS has_before, detail ? 'after' AS has_after,
       checksum = detail->>'after' AS checksum_is_the_new_one
  FROM migrate.history ORDER BY id;
SELECT checksum = migrate.checksum(E'CREATE TABLE ck (id int); -- registered again')
           AS stores_the_new_text,
       state
  FROM migrate.status();
-- what a client asks before it runs: same, cosmetic, edited; NULL for an unknown version
SELECT migrate.compare_script('001', E'CREATE TABLE ck (id int); -- registered again') AS same,
       migrate.compare_script('001', 'create table ck(id int);') AS cosmetic,
       migrate.compare_script('001', 'CREATE TABLE ck (id bigint);') AS edited,
       migrate.compare_script('001', $$SELECT 'unterminated$$) AS unlexable,
       migrate.compare_script('999', 'SELECT 1') AS unknown;
SELECT migrate.compare_script(NULL, 'SELECT 1');

DROP TABLE ck;
DROP EXTENSION migrations_schema;
CREATE EXTENSION migrations_schema;
