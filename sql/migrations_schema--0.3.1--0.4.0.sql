-- migrations_schema 0.3.1 -> 0.4.0:
--   * migrate.selftest() is gone: it proved the C++ error boundary for the test suite, which
--     now builds it as a module of its own (test/selftest).
\echo Use "ALTER EXTENSION migrations_schema UPDATE TO '0.4.0'" to load this file. \quit

DROP FUNCTION migrate.selftest(text);
