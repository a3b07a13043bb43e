-- Rule ids that named two rules each until every rule got its own: B402 (drop-table,
-- drop-schema), B404 (rename-table, rename-schema), B406 (truncate, truncate-cascade) and
-- R109 (vacuum-full-rewrite, cluster-rewrite). The second rule of each now has its own id
-- (B409, B410, B411, R111). The old id is an alias: in allow => ARRAY[...] and in
-- "-- migrate:allow" directives it still allows both rules; the new id allows only its own
-- rule; names work as before (any case, '_' or '-').
SET client_min_messages = warning;
DROP EXTENSION migrations_schema;
CREATE EXTENSION migrations_schema;
SET client_min_messages = notice;
SET migrations_schema.lint_error_rows = 1000;
SET migrations_schema.lint_warning_rows = 100;

CREATE TABLE al_big (id bigint PRIMARY KEY, v text);
INSERT INTO al_big SELECT g, 'v' || g FROM generate_series(1, 2000) AS g;
CREATE TABLE al_full (id int);
INSERT INTO al_full VALUES (1);
CREATE TABLE al_t (id int);
INSERT INTO al_t VALUES (1);
ANALYZE al_big, al_full, al_t;
CREATE SCHEMA al_s1;
CREATE SCHEMA al_s2;
CREATE SCHEMA al_s3;

-- lint_rules() lists every rule once, under its own id
SELECT count(*) AS rules, count(DISTINCT rule_id) AS ids, count(DISTINCT rule) AS names
  FROM migrate.lint_rules();
SELECT rule_id, rule, family FROM migrate.lint_rules()
 WHERE rule_id IN ('B402', 'B404', 'B406', 'R109', 'B409', 'B410', 'B411', 'R111')
 ORDER BY rule_id;

-- what lint reports: each rule under its own id
SELECT rule_id, rule, severity FROM migrate.lint($$
DROP TABLE al_full;
DROP SCHEMA al_s1 CASCADE;
ALTER TABLE al_big RENAME TO al_big2;
ALTER SCHEMA al_s1 RENAME TO al_s9;
TRUNCATE al_t;
TRUNCATE al_t CASCADE;
VACUUM FULL al_big;
CLUSTER al_big USING al_big_pkey;
$$) WHERE rule_id <> 'T501';

-- 1. The old id as an argument allows the rule that had it too: B402 allows drop-schema.
SELECT migrate.apply('001', 'DROP SCHEMA al_s1 CASCADE', allow => ARRAY['B402 -- old id']);
SELECT rule_id, rule, severity, allowed, allowed_by, reason FROM migrate.findings('001');
SELECT to_regnamespace('al_s1') AS al_s1;

-- 2. The old id in a directive: B406 allows truncate-cascade, R109 allows cluster-rewrite.
SELECT migrate.apply('002', $$
-- migrate:allow B406, r109 -- old ids
TRUNCATE al_t CASCADE;
CLUSTER al_big USING al_big_pkey;
$$);
SELECT rule_id, rule, severity, allowed, allowed_by, reason FROM migrate.findings('002');

-- 3. One old id allows both of its rules in one migration: drop-table and drop-schema.
SELECT migrate.apply('003', $$
-- migrate:allow B402 -- old id, both rules
DROP TABLE al_full;
DROP SCHEMA al_s2 CASCADE;
$$);
SELECT rule_id, rule, severity, allowed, allowed_by FROM migrate.findings('003');
SELECT to_regclass('al_full') AS al_full, to_regnamespace('al_s2') AS al_s2;

-- 4. The new id allows only its own rule. B409 allows drop-schema, not drop-table (refused,
--    nothing runs).
INSERT INTO al_t VALUES (1);
CREATE TABLE al_full (id int);
INSERT INTO al_full VALUES (1);
SELECT migrate.apply('004', $$
DROP TABLE al_full;
DROP SCHEMA al_s3 CASCADE;
$$, allow => ARRAY['B409 -- new id']);
SELECT to_regclass('al_full') AS al_full, to_regnamespace('al_s3') AS al_s3;
--    B411 does not allow truncate (a warning, reported and not allowed), and matches nothing;
--    B410 does not allow rename-table.
SELECT migrate.apply('004', 'TRUNCATE al_t', allow => ARRAY['B411 -- new id']);
SELECT rule_id, rule, severity, allowed FROM migrate.findings('004');
SELECT migrate.apply('005', 'ALTER TABLE al_t RENAME TO al_t2', allow => ARRAY['B410 -- new id']);
SELECT rule_id, rule, severity, allowed FROM migrate.findings('005');
--    ... and the new id does allow its own rule
SELECT migrate.apply('006', E'-- migrate:allow B410 -- new id\nALTER SCHEMA al_s3 RENAME TO al_s4');
SELECT rule_id, rule, severity, allowed, allowed_by FROM migrate.findings('006');
SELECT migrate.apply('007', 'TRUNCATE al_t2 CASCADE', allow => ARRAY['B411 -- new id']);
SELECT rule_id, rule, severity, allowed, allowed_by FROM migrate.findings('007');
SELECT migrate.apply('008', E'-- migrate:allow R111 -- new id\nCLUSTER al_big USING al_big_pkey');
SELECT rule_id, rule, severity, allowed, allowed_by FROM migrate.findings('008');

-- 5. Names work as before, any case, '_' or '-'.
SELECT migrate.apply('009', $$
-- migrate:allow DROP_SCHEMA -- by name
DROP SCHEMA al_s4 CASCADE;
$$);
SELECT migrate.apply('010', 'CLUSTER al_big USING al_big_pkey',
                     allow => ARRAY['Cluster-Rewrite -- by name']);
SELECT version, rule_id, rule, allowed, allowed_by FROM migrate.findings()
 WHERE version IN ('009', '010') ORDER BY version;
-- the overrides are recorded as written (canonical spelling)
SELECT version, o.rule, o.source, o.matched
  FROM migrate.migrations m,
       jsonb_to_recordset(m.overrides) AS o(rule text, source text, matched boolean)
 ORDER BY version, o.rule;

DROP TABLE al_big, al_full, al_t2;
RESET migrations_schema.lint_error_rows;
RESET migrations_schema.lint_warning_rows;
SET client_min_messages = warning;
DROP EXTENSION migrations_schema;
CREATE EXTENSION migrations_schema;
RESET client_min_messages;
