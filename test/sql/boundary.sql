-- The C++/PostgreSQL error boundary.
-- A C++ exception thrown inside the core becomes an ordinary PostgreSQL ERROR, and a
-- PostgreSQL ERROR raised under the core unwinds the C++ frames (destructors run) and leaves
-- the backend healthy for the next call.
SET client_min_messages = notice;

-- The self-test is built only for the tests (the module ms_selftest, test/selftest): the
-- extension does not ship it.
SELECT to_regprocedure('migrate.selftest(text)') IS NULL AS not_shipped;
CREATE SCHEMA ms_test;
CREATE FUNCTION ms_test.selftest(kind text) RETURNS integer
    LANGUAGE c VOLATILE CALLED ON NULL INPUT AS 'ms_selftest', 'migrate_selftest';

SELECT ms_test.selftest('ok');

-- C++ exceptions of every kind
SELECT ms_test.selftest('cpp_exception');
\echo :LAST_ERROR_SQLSTATE
SELECT ms_test.selftest('bad_alloc');
\echo :LAST_ERROR_SQLSTATE
SELECT ms_test.selftest('own_error');
\echo :LAST_ERROR_SQLSTATE

-- PostgreSQL errors raised under the core keep their SQLSTATE, message and detail
SELECT ms_test.selftest('pg_error');
\echo :LAST_ERROR_SQLSTATE
SELECT ms_test.selftest('spi_error');
\echo :LAST_ERROR_SQLSTATE

-- and can be caught like any other error
DO $$
BEGIN
    PERFORM ms_test.selftest('pg_error');
EXCEPTION WHEN division_by_zero THEN
    RAISE NOTICE 'caught %: %', SQLSTATE, SQLERRM;
END
$$;

-- after a caught PostgreSQL error, guard() has the memory context it was entered with current
SELECT ms_test.selftest('guard_context') AS context_restored;

-- a core that returns with an error context callback still pushed (a bug) is refused: the
-- boundary restores the error handling stack and raises an internal error
SELECT ms_test.selftest('stray_context_callback');
\echo :LAST_ERROR_SQLSTATE
SELECT 1 / 0;  -- a later error does not call the stray callback (no "a stray error context")

-- every C++ object created by the failing calls above was destroyed
SELECT ms_test.selftest('live') AS live_cpp_objects;

-- the backend is still healthy, and no per-call memory context was left behind
SELECT 1 + 1 AS still_working;
SELECT count(*) AS leftover_contexts
  FROM pg_backend_memory_contexts WHERE name = 'migrations_schema call';

-- Failing migrations, again and again, in one backend: memory must not grow.
-- A 40 kB up script whose last statement fails: leaking it would show in RSS.
CREATE FUNCTION pg_temp.fail_many(n int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    big text := repeat('-- filler line to make the script large' || chr(10), 1000);
BEGIN
    FOR i IN 1..n LOOP
        BEGIN
            PERFORM migrate.apply('900', big || 'CREATE TABLE boom (id int); SELECT 1/0;');
        EXCEPTION WHEN division_by_zero THEN
            NULL;
        END;
        BEGIN
            PERFORM ms_test.selftest('cpp_exception');
        EXCEPTION WHEN internal_error THEN
            NULL;
        END;
    END LOOP;
END
$$;
CREATE FUNCTION pg_temp.rss_kb() RETURNS bigint LANGUAGE sql AS $$
    SELECT (regexp_match(pg_read_file('/proc/self/status'), 'VmRSS:\s+(\d+)'))[1]::bigint
$$;
SELECT pg_temp.fail_many(50);   -- warm caches
SELECT sum(total_bytes) AS ctx_before FROM pg_backend_memory_contexts \gset
SELECT pg_temp.rss_kb() AS rss_before \gset
SELECT pg_temp.fail_many(500);
SELECT sum(total_bytes) - :ctx_before < 512 * 1024 AS context_memory_stable,
       pg_temp.rss_kb() - :rss_before < 8 * 1024 AS rss_stable
  FROM pg_backend_memory_contexts;
SELECT count(*) AS leftover_contexts
  FROM pg_backend_memory_contexts WHERE name = 'migrations_schema call';
SELECT ms_test.selftest('live') AS live_cpp_objects;
-- nothing of the failed migrations stayed
SELECT to_regclass('boom') AS boom_table, count(*) AS history_rows FROM migrate.history;

-- bad input to the self-test itself
SELECT ms_test.selftest(NULL);
SELECT ms_test.selftest('no such kind');
DROP SCHEMA ms_test CASCADE;
