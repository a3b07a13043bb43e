# Bounded lock waits of migration statements (the lock guard).
#
# Every statement of a migration run by migrate.apply / migrate.rollback runs in a
# subtransaction under lock_timeout = migrations_schema.lock_timeout; a statement whose lock is
# not granted in time is retried up to migrations_schema.lock_retries times, after a growing
# delay (migrations_schema.lock_retry_delay), each retry announced by a NOTICE; after the last
# one it fails with SQLSTATE 55P03 naming the blocking sessions. One session ("blocker") holds
# locks in an open transaction while another ("migrator") runs migrations:
#
# 1. the blocker commits while the migration retries: the apply succeeds;
# 2. the blocker stays: the apply fails after 1 + lock_retries attempts, the error names the
#    blocker (pid, application, query) and nothing of the migration remains;
# 3. lock_retries = 0: one attempt, no retry (also inside a caller's savepoint);
# 4. a row lock: the error names the transaction lock and the blocker;
# 5. a 55P03 that is not a lock timeout (LOCK TABLE ... NOWAIT) is not retried;
# 6. rollback(): the down script is bounded and retried the same way;
# 7. the bound: lock_timeout inside a migration is migrations_schema.lock_timeout whatever the
#    session set, a script's SET LOCAL lock_timeout = 0 does not lift it, and the session's
#    own lock_timeout is back afterwards;
# 8. migrate.plan(): a statement whose lock is not granted gets a row with the 55P03 error
#    and, in waits_for, the blocker (pid, application, query, the mode it holds, the relation
#    or, for a row lock, the transaction lock; a session queued first for a conflicting mode);
#    the plan stops there and nothing remains; a NOWAIT lock not available fails its statement
#    too;
# 9. a blocker's long query in the error's DETAIL is cut at 200 characters, not inside one.
#
# Run as a non-root OS user with PostgreSQL::Test from PGXS (see test/run_all.sh --suite tap).

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use FindBin;
use lib $FindBin::RealBin;
use MsQuery;

my $t_start = time;

my $node = PostgreSQL::Test::Cluster->new('lock_guard');
$node->init;
$node->start;
$node->safe_psql('postgres', <<'SQL');
CREATE EXTENSION migrations_schema;
CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL);
INSERT INTO t VALUES (1, 0), (2, 0);
SQL

# ---- sessions (query helpers: t/MsQuery.pm)

# Pumps $s until its stderr matches $re, while the query started with $banner runs; false if
# the query ended (or the timeout expired) first.
sub wait_stderr
{
	my ($s, $banner, $re) = @_;
	pump_until($s->{run}, $s->{timeout}, \$s->{stderr}, qr/$re|$banner\r?\n/);
	return $s->{stderr} =~ $re;
}

sub count_matches
{
	my ($text, $re) = @_;
	my $n = () = $text =~ /$re/g;
	return $n;
}

my $blocker = $node->background_psql('postgres', on_error_stop => 0);
my $migrator = $node->background_psql('postgres', on_error_stop => 0);
query_ok($blocker, "SET application_name = 'blocker';");
query_ok($migrator, <<'SQL');
SET application_name = 'migrator';
SET lock_timeout = 0;
SET migrations_schema.lock_timeout = 200;
SET migrations_schema.lock_retry_delay = 100;
SET migrations_schema.lint_enforce = off;
\set VERBOSITY verbose
SQL
my $bpid = query_ok($blocker, 'SELECT pg_catalog.pg_backend_pid();');
my $mpid = query_ok($migrator, 'SELECT pg_catalog.pg_backend_pid();');
like($bpid, qr/^\d+$/, 'blocker backend pid');
like($mpid, qr/^\d+$/, 'migrator backend pid');

# psql prefixes its messages read from a script with "psql:<stdin>:LINE: ".
my $psql_prefix = qr/(?:psql:<stdin>:\d+: )?/;

# The lock guard's NOTICE and error texts.
sub retry_re
{
	my ($version, $script, $stmt, $k, $of) = @_;
	return
	  qr/^${psql_prefix}NOTICE:  (?:00000: )?migration $version $script script, statement $stmt: lock not granted within 200 ms; retry $k of $of in \d+ ms$/m;
}
my $any_retry = qr/lock not granted within \d+ ms; retry \d+ of/;

sub scalar_q
{
	my ($sql) = @_;
	return $node->safe_psql('postgres', $sql);
}

# The migrator's locks other than its virtual xid, seen from another session.
my $migrator_locks_sql =
  "SELECT count(*) FROM pg_catalog.pg_locks WHERE pid = $mpid AND locktype <> 'virtualxid'";

# Nothing of migration $v remains.
sub nothing_remains
{
	my ($v, $column, $label) = @_;
	is(scalar_q("SELECT count(*) FROM migrate.migrations WHERE version = '$v'"),
		'0', "$label: no row in migrate.migrations");
	is(scalar_q("SELECT count(*) FROM migrate.history WHERE version = '$v'"),
		'0', "$label: no history row");
	is(scalar_q("SELECT count(*) FROM migrate.ddl_audit WHERE migration_version = '$v'"),
		'0', "$label: no ddl_audit row");
	is( scalar_q(
			"SELECT count(*) FROM pg_catalog.pg_attribute WHERE attrelid = 'public.t'::regclass AND attname = '$column' AND NOT attisdropped"
		),
		'0',
		"$label: column $column was not added");
}

sub column_exists
{
	my ($column) = @_;
	return scalar_q(
		"SELECT count(*) FROM pg_catalog.pg_attribute WHERE attrelid = 'public.t'::regclass AND attname = '$column' AND NOT attisdropped"
	);
}

# ---- 1. the blocker commits while the migration retries: the apply succeeds
{
	query_ok($migrator, 'SET migrations_schema.lock_retries = 20;');
	query_ok($blocker, 'BEGIN;');
	query_ok($blocker, 'SELECT count(*) FROM t;');

	my $banner = start_query($migrator,
		"SELECT migrate.apply('001', 'ALTER TABLE t ADD COLUMN c1 int', 'ALTER TABLE t DROP COLUMN c1');"
	);
	ok( $node->poll_query_until(
			'postgres',
			"SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_locks WHERE pid = $mpid AND relation = 'public.t'::regclass AND mode = 'AccessExclusiveLock' AND NOT granted)"
		),
		'retry succeeds: the ALTER waits for AccessExclusiveLock on t');
	ok(wait_stderr($migrator, $banner, retry_re('001', 'up', 1, 1, 20)),
		'retry succeeds: "retry 1 of 20" NOTICE while the blocker holds its lock');
	query_ok($blocker, 'COMMIT;');
	my ($out, $err) = finish_query($migrator, $banner);
	is($out, 'applied', 'retry succeeds: apply returns applied once the blocker commits');
	unlike($err, qr/ERROR/, 'retry succeeds: no error');
	cmp_ok(count_matches($err, $any_retry), '>=', 1, 'retry succeeds: at least one retry NOTICE');
	is(column_exists('c1'), '1', 'retry succeeds: column c1 exists');
	is(scalar_q("SELECT state FROM migrate.migrations WHERE version = '001'"),
		'applied', 'retry succeeds: migration 001 applied');
	is(scalar_q("SELECT string_agg(action, ',') FROM migrate.history WHERE version = '001'"),
		'apply', 'retry succeeds: history has the apply');
}

# ---- 2. the blocker stays: the apply fails and names it
{
	query_ok($migrator, 'SET migrations_schema.lock_retries = 2;');
	query_ok($blocker, 'BEGIN;');
	query_ok($blocker, 'SELECT count(*) FROM t;');

	my $t0 = time;
	my ($out, $err) = run_query($migrator,
		"SELECT migrate.apply('002', 'ALTER TABLE t ADD COLUMN c2 int', 'ALTER TABLE t DROP COLUMN c2');"
	);
	my $elapsed = time - $t0;
	note "final failure after ${elapsed}s:\n$err";

	like(
		$err,
		qr/^${psql_prefix}ERROR:  55P03: migration 002 up script, statement 1: AccessExclusiveLock on relation public\.t not granted within lock_timeout \(200 ms\) in 3 attempts$/m,
		'final failure: 55P03, lock, object and attempts in the message');
	like(
		$err,
		qr/^DETAIL:  Blocking sessions:\npid $bpid \(application "blocker", user \S+, idle in transaction, transaction started [^)]+\) holds AccessShareLock; its last query: SELECT count\(\*\) FROM t;?$/m,
		'final failure: detail names the blocker pid, application, state, mode and query');
	like($err, qr/^The migration was stopped; nothing of it remains\.$/m,
		'final failure: detail says nothing remains');
	like($err, qr/^HINT:  End or wait for the blocking sessions/m, 'final failure: hint');
	is(count_matches($err, $any_retry), 2, 'final failure: exactly 2 retry NOTICEs');
	like($err, retry_re('002', 'up', 1, 1, 2), 'final failure: retry 1 of 2');
	like($err, retry_re('002', 'up', 1, 2, 2), 'final failure: retry 2 of 2');
	cmp_ok($elapsed, '>=', 0.6, 'final failure: waited 3 times 200 ms at least');
	is($out, '', 'final failure: no result');

	nothing_remains('002', 'c2', 'final failure');
	is(scalar_q($migrator_locks_sql), '0',
		'final failure: the migrating session holds no lock afterwards');
	is( scalar_q(
			"SELECT state || ' ' || mode FROM pg_catalog.pg_stat_activity a JOIN pg_catalog.pg_locks l USING (pid) WHERE pid = $bpid AND l.relation = 'public.t'::regclass"
		),
		'idle in transaction AccessShareLock',
		'final failure: the blocker was left alone');
	query_ok($blocker, 'COMMIT;');
}

# ---- 3. lock_retries = 0: one attempt, no retry
{
	query_ok($migrator, 'SET migrations_schema.lock_retries = 0;');
	query_ok($blocker, 'BEGIN;');
	query_ok($blocker, 'SELECT count(*) FROM t;');

	my ($out, $err) = run_query($migrator,
		"SELECT migrate.apply('003', 'ALTER TABLE t ADD COLUMN c3 int', 'ALTER TABLE t DROP COLUMN c3');"
	);
	like(
		$err,
		qr/^${psql_prefix}ERROR:  55P03: migration 003 up script, statement 1: AccessExclusiveLock on relation public\.t not granted within lock_timeout \(200 ms\) in 1 attempt$/m,
		'no retries: fails in 1 attempt');
	like($err, qr/^pid $bpid \(application "blocker"/m, 'no retries: names the blocker');
	is(count_matches($err, $any_retry), 0, 'no retries: no retry NOTICE');
	nothing_remains('003', 'c3', 'no retries');

	# Inside the caller's transaction, behind a savepoint: rolling back to it leaves the
	# transaction usable and without the migration's locks.
	query_ok($migrator, 'BEGIN;');
	query_ok($migrator, 'SAVEPOINT s;');
	($out, $err) = run_query($migrator,
		"SELECT migrate.apply('003', 'ALTER TABLE t ADD COLUMN c3 int', 'ALTER TABLE t DROP COLUMN c3');"
	);
	like($err, qr/^${psql_prefix}ERROR:  55P03: .* in 1 attempt$/m, 'no retries, in a savepoint: fails');
	query_ok($migrator, 'ROLLBACK TO SAVEPOINT s;');
	is( query_ok($migrator,
			"SELECT count(*) FROM pg_catalog.pg_locks WHERE pid = pg_catalog.pg_backend_pid() AND locktype = 'relation' AND relation = 'public.t'::regclass;"
		),
		'0',
		'no retries, in a savepoint: no lock on t left in the transaction');
	is(query_ok($migrator, "SELECT count(*) FROM migrate.migrations WHERE version = '003';"),
		'0', 'no retries, in a savepoint: no migration row in the transaction');
	query_ok($migrator, 'COMMIT;');
	nothing_remains('003', 'c3', 'no retries, in a savepoint');
	query_ok($blocker, 'COMMIT;');
}

# ---- 4. a row lock
{
	query_ok($migrator, 'SET migrations_schema.lock_retries = 1;');
	query_ok($blocker, 'BEGIN;');
	my $xid = query_ok($blocker, 'SELECT pg_catalog.pg_current_xact_id();');
	query_ok($blocker, 'UPDATE t SET v = v + 1 WHERE id = 1;');

	my ($out, $err) = run_query($migrator,
		"SELECT migrate.apply('004', 'UPDATE t SET v = 100 WHERE id = 1', 'UPDATE t SET v = 0 WHERE id = 1');"
	);
	note "row lock failure:\n$err";
	like(
		$err,
		qr/^${psql_prefix}ERROR:  55P03: migration 004 up script, statement 1: ShareLock on transaction $xid not granted within lock_timeout \(200 ms\) in 2 attempts$/m,
		'row lock: the error names the transaction lock');
	like(
		$err,
		qr/^pid $bpid \(application "blocker", [^)]*\) holds ExclusiveLock; its last query: UPDATE t SET v = v \+ 1 WHERE id = 1;?$/m,
		'row lock: detail names the blocker and its query');
	is(count_matches($err, $any_retry), 1, 'row lock: one retry NOTICE');
	query_ok($blocker, 'ROLLBACK;');
	is(scalar_q('SELECT v FROM t WHERE id = 1'), '0', 'row lock: the row was not changed');
	is(scalar_q("SELECT count(*) FROM migrate.migrations WHERE version = '004'"),
		'0', 'row lock: no migration row');
}

# ---- 5. NOWAIT: a 55P03 that is not a lock timeout is not retried
{
	# With a bound of 5 s, a single retry would take 5 s.
	query_ok($migrator,
		'SET migrations_schema.lock_retries = 5; SET migrations_schema.lock_timeout = 5000;');
	query_ok($blocker, 'BEGIN;');
	query_ok($blocker, 'SELECT count(*) FROM t;');

	my $t0 = time;
	my ($out, $err) = run_query($migrator,
		"SELECT migrate.apply('005', 'LOCK TABLE t IN ACCESS EXCLUSIVE MODE NOWAIT', NULL);");
	my $elapsed = time - $t0;
	note "NOWAIT failure after ${elapsed}s:\n$err";
	like($err, qr/^${psql_prefix}ERROR:  55P03: could not obtain lock on relation "t"$/m,
		"NOWAIT: PostgreSQL's own 55P03 error");
	unlike($err, qr/not granted within/, 'NOWAIT: not reported as a lock timeout');
	is(count_matches($err, $any_retry), 0, 'NOWAIT: no retry NOTICE');
	cmp_ok($elapsed, '<', 2.5, 'NOWAIT: failed at once');
	is(scalar_q("SELECT count(*) FROM migrate.migrations WHERE version = '005'"),
		'0', 'NOWAIT: no migration row');
	query_ok($blocker, 'COMMIT;');
	query_ok($migrator, 'SET migrations_schema.lock_timeout = 200;');
}

# ---- 6. rollback(): the down script is bounded and retried
{
	is( query_ok($migrator,
			"SELECT migrate.apply('006', 'ALTER TABLE t ADD COLUMN c6 int', 'ALTER TABLE t DROP COLUMN c6');"
		),
		'applied',
		'rollback: migration 006 applied');

	# The blocker stays: the rollback fails and names it; 006 stays applied.
	query_ok($migrator, 'SET migrations_schema.lock_retries = 1;');
	query_ok($blocker, 'BEGIN;');
	query_ok($blocker, 'SELECT count(*) FROM t;');
	my ($out, $err) = run_query($migrator, 'SELECT version FROM migrate.rollback();');
	like(
		$err,
		qr/^${psql_prefix}ERROR:  55P03: migration 006 down script, statement 1: AccessExclusiveLock on relation public\.t not granted within lock_timeout \(200 ms\) in 2 attempts$/m,
		'rollback, blocker stays: fails after 2 attempts');
	like($err, qr/^pid $bpid \(application "blocker"/m, 'rollback, blocker stays: names the blocker');
	like($err, retry_re('006', 'down', 1, 1, 1), 'rollback, blocker stays: retry NOTICE');
	is(scalar_q("SELECT state FROM migrate.migrations WHERE version = '006'"),
		'applied', 'rollback, blocker stays: 006 still applied');
	is( scalar_q(
			"SELECT count(*) FROM migrate.history WHERE version = '006' AND action = 'rollback'"),
		'0',
		'rollback, blocker stays: no rollback in history');
	is(column_exists('c6'), '1', 'rollback, blocker stays: column c6 still there');

	# The blocker commits while it retries: the rollback succeeds.
	query_ok($migrator, 'SET migrations_schema.lock_retries = 20;');
	my $banner = start_query($migrator, 'SELECT version FROM migrate.rollback();');
	ok(wait_stderr($migrator, $banner, retry_re('006', 'down', 1, 1, 20)),
		'rollback: "retry 1 of 20" NOTICE while the blocker holds its lock');
	query_ok($blocker, 'COMMIT;');
	($out, $err) = finish_query($migrator, $banner);
	is($out, '006', 'rollback: rolls back 006 once the blocker commits');
	unlike($err, qr/ERROR/, 'rollback: no error');
	is(scalar_q("SELECT state FROM migrate.migrations WHERE version = '006'"),
		'rolled back', 'rollback: 006 rolled back');
	is( scalar_q(
			"SELECT string_agg(action, ',' ORDER BY id) FROM migrate.history WHERE version = '006'"
		),
		'apply,rollback',
		'rollback: history has the apply and the rollback');
	is(column_exists('c6'), '0', 'rollback: column c6 dropped');
}

# ---- 7. the bound
{
	query_ok($migrator,
		'SET lock_timeout = 0; SET migrations_schema.lock_timeout = 1234; SET migrations_schema.lock_retries = 0;'
	);
	my $show = q{DO $d$ BEGIN RAISE NOTICE 'lt%=%', %s, pg_catalog.current_setting('lock_timeout'); END $d$};
	my @stmts = (
		sprintf($show, 1),
		'SET LOCAL lock_timeout = 0',
		sprintf($show, 2),
		q{SET LOCAL lock_timeout = '800ms'},
		sprintf($show, 3));
	my $up = join(";\n", @stmts);
	my ($out, $err) =
	  run_query($migrator, "SELECT migrate.apply('007', \$u\$$up\$u\$, NULL);");
	note "bound:\n$err";
	is($out, 'applied', 'bound: migration 007 applied');
	like($err, qr/lt1=1234ms/,
		'bound: lock_timeout is migrations_schema.lock_timeout though the session set 0');
	like($err, qr/lt2=1234ms/, 'bound: a script\'s SET LOCAL lock_timeout = 0 does not lift it');
	like($err, qr/lt3=800ms/, 'bound: a script\'s own non-zero lock_timeout applies');
	is(query_ok($migrator, 'SHOW lock_timeout;'), '0', 'bound: the session\'s lock_timeout is back');

	# The bound holds for a blocked statement after SET LOCAL lock_timeout = 0.
	query_ok($migrator, 'SET migrations_schema.lock_timeout = 200;');
	query_ok($blocker, 'BEGIN;');
	query_ok($blocker, 'SELECT count(*) FROM t;');
	($out, $err) = run_query($migrator,
		"SELECT migrate.apply('008', \$u\$SET LOCAL lock_timeout = 0;\nALTER TABLE t ADD COLUMN c8 int\$u\$, NULL);"
	);
	like(
		$err,
		qr/^${psql_prefix}ERROR:  55P03: migration 008 up script, statement 2: AccessExclusiveLock on relation public\.t not granted within lock_timeout \(200 ms\) in 1 attempt$/m,
		'bound: a blocked statement after SET LOCAL lock_timeout = 0 still times out');
	nothing_remains('008', 'c8', 'bound');
	query_ok($blocker, 'COMMIT;');
	is(query_ok($migrator, 'SHOW lock_timeout;'), '0',
		'bound: the session\'s lock_timeout is back after a failure');

	# In the caller's transaction, over its own SET LOCAL: bounded inside, the caller's value
	# back after.
	query_ok($migrator, 'BEGIN;');
	query_ok($migrator, q{SET LOCAL lock_timeout = '3s';});
	($out, $err) = run_query($migrator,
		"SELECT migrate.apply('009', \$u\$" . sprintf($show, 4) . "\$u\$, NULL);");
	is($out, 'applied', 'bound, in a transaction: migration 009 applied');
	like($err, qr/lt4=200ms/, 'bound, in a transaction: bounded over the caller\'s SET LOCAL');
	is(query_ok($migrator, 'SHOW lock_timeout;'), '3s',
		'bound, in a transaction: the caller\'s SET LOCAL value is back');
	query_ok($migrator, 'COMMIT;');
	is(query_ok($migrator, 'SHOW lock_timeout;'), '0',
		'bound, in a transaction: the session value after commit');
}

# ---- 8. plan(): the statement that would wait says for whom
{
	query_ok($migrator,
		'SET migrations_schema.lock_retries = 0; SET migrations_schema.lock_timeout = 200;');
	my $counts_sql =
	  'SELECT (SELECT count(*) FROM migrate.history) || \' \' || (SELECT count(*) FROM migrate.ddl_audit) || \' \' || (SELECT string_agg(id || \'=\' || v, \',\' ORDER BY id) FROM t)';
	my $before = scalar_q($counts_sql);
	query_ok($blocker, 'BEGIN;');
	query_ok($blocker, 'SELECT count(*) FROM t;');
	# in a transaction, to see what the plan leaves in this session: no lock on t, the
	# session's lock_timeout
	my ($out, $err) = run_query($migrator, <<'SQL');
BEGIN;
SELECT statement, command, split_part(error, ':', 1), jsonb_array_length(waits_for),
       waits_for->0->>'pid', waits_for->0->>'application', waits_for->0->>'mode',
       coalesce(waits_for->0->>'relation', waits_for->0->>'lock'), rtrim(waits_for->0->>'query', ';'),
       rows_updated
  FROM migrate.plan(script => $s$UPDATE t SET v = v + 5 WHERE id = 2;
ALTER TABLE t ADD COLUMN c10 int;
SELECT 2;$s$) ORDER BY statement;
SELECT count(*) FROM pg_catalog.pg_locks
 WHERE pid = pg_catalog.pg_backend_pid() AND relation = 'public.t'::pg_catalog.regclass;
SHOW lock_timeout;
COMMIT;
SQL
	is( $out,
		"1|UPDATE||0||||||1\n2|ALTER TABLE|55P03|1|$bpid|blocker|AccessShareLock|public.t|SELECT count(*) FROM t|0\n0\n0",
		'plan: the blocked statement\'s row names the blocker in waits_for; the plan stops there; no lock on t stays, lock_timeout is back'
	);
	is($err, '', 'plan: no error, the blocked statement is reported');
	ok(!column_exists('c10'), 'plan: the column was not added');

	# NOWAIT: not available is a failed statement too (nothing to wait for)
	($out, $err) = run_query($migrator, <<'SQL');
SELECT statement, error, waits_for
  FROM migrate.plan(script => 'LOCK TABLE t IN ACCESS EXCLUSIVE MODE NOWAIT');
SQL
	is($out, '1|55P03: could not obtain lock on relation "t"|[]',
		'plan: a NOWAIT lock not available fails the statement');
	is($err, '', 'plan: NOWAIT, no error');
	query_ok($blocker, 'COMMIT;');

	# a row lock: the transaction the UPDATE waits for
	query_ok($blocker, 'BEGIN;');
	query_ok($blocker, 'UPDATE t SET v = v + 1 WHERE id = 1;');
	my $bxid = query_ok($blocker, 'SELECT pg_catalog.txid_current();');
	($out, $err) = run_query($migrator, <<'SQL');
SELECT statement, split_part(error, ':', 1), waits_for->0->>'pid', waits_for->0->>'mode',
       waits_for->0->>'lock', waits_for->0 ? 'relation'
  FROM migrate.plan(script => 'UPDATE t SET v = 10 WHERE id = 1') ORDER BY statement;
SQL
	is($out, "1|55P03|$bpid|ExclusiveLock|transaction $bxid|f",
		'plan: a row lock\'s waits_for names the transaction and its session');
	is($err, '', 'plan: row lock, no error');
	query_ok($blocker, 'ROLLBACK;');
	# queued first: a session waiting for ACCESS EXCLUSIVE behind the blocker's ACCESS SHARE
	# goes before the plan's own ACCESS SHARE request, which waits for it (not for the blocker)
	my $queued = $node->background_psql('postgres', on_error_stop => 0);
	query_ok($queued, "SET application_name = 'queued';");
	my $qpid = query_ok($queued, 'SELECT pg_catalog.pg_backend_pid();');
	query_ok($blocker, 'BEGIN;');
	query_ok($blocker, 'SELECT count(*) FROM t;');
	my $qb = start_query($queued, 'BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE;');
	$node->poll_query_until('postgres',
		"SELECT EXISTS (SELECT FROM pg_catalog.pg_locks WHERE pid = $qpid AND NOT granted)")
	  or die 'the queued session did not start waiting';
	($out, $err) = run_query($migrator, <<'SQL');
SELECT statement, split_part(error, ':', 1), jsonb_array_length(waits_for), waits_for->0->>'pid',
       waits_for->0->>'application', waits_for->0->>'mode', waits_for->0->>'relation',
       waits_for->0->>'waiting'
  FROM migrate.plan(script => 'SELECT count(*) FROM t') ORDER BY statement;
SQL
	is($out, "1|55P03|1|$qpid|queued|AccessExclusiveLock|public.t|true",
		'plan: waits_for names the session queued first, not the blocker whose lock does not conflict');
	is($err, '', 'plan: queued first, no error');
	($out, $err) =
	  run_query($migrator, "SELECT migrate.apply('011', 'SELECT count(*) FROM t', NULL);");
	like(
		$err,
		qr/^DETAIL:  Blocking sessions:\npid $qpid \(application "queued", [^)]*\) is queued for AccessExclusiveLock, ahead of it; its last query: LOCK TABLE t IN ACCESS EXCLUSIVE MODE;?$/m,
		'apply: the DETAIL names the session queued first');
	nothing_remains('011', 'c11', 'queued first');
	query_ok($blocker, 'COMMIT;');
	finish_query($queued, $qb);
	query_ok($queued, 'ROLLBACK;');
	$queued->quit;
	is(scalar_q($counts_sql), $before, 'plan: no history, no audit rows, the rows of t unchanged');
}

# ---- 9. a long query of a blocker is cut at 200 characters in DETAIL, not inside one (a UTF8
# database: 'é' is two bytes; a cut at 200 bytes would fall inside one)
{
	$node->safe_psql('postgres',
		"CREATE DATABASE lg_utf8 TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'");
	$node->safe_psql('lg_utf8',
		'CREATE EXTENSION migrations_schema; CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL);');
	my $b8 = $node->background_psql('lg_utf8', on_error_stop => 0);
	my $m8 = $node->background_psql('lg_utf8', on_error_stop => 0);
	query_ok($m8,
		'SET migrations_schema.lock_retries = 0; SET migrations_schema.lock_timeout = 200;');
	my $long = "SELECT count(*) FROM t WHERE v::text <> '" . ('é' x 250) . "';";
	query_ok($b8, 'BEGIN;');
	query_ok($b8, $long);
	my ($out, $err) = run_query($m8,
		"SELECT migrate.apply('010', 'ALTER TABLE t ADD COLUMN c11 int', NULL);");
	like(
		$err,
		qr/its last query: SELECT count\(\*\) FROM t WHERE v::text <> '(?:é){159} \.\.\.$/m,
		'a long query in DETAIL: cut after 200 whole characters');
	query_ok($b8, 'ROLLBACK;');
	$b8->quit;
	$m8->quit;
}

$blocker->quit;
$migrator->quit;

my $log = slurp_file($node->logfile);
unlike($log, qr/terminated by signal/, 'no backend terminated by a signal');
unlike($log, qr/\b(PANIC|TRAP):/, 'no PANIC or assertion failure in the server log');

$node->stop;
note sprintf('lock guard: 9 cases, %d tests, %.1f s', Test::More->builder->current_test,
	time - $t_start);
done_testing();
