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
