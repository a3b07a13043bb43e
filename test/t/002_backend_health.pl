# Backend health after many failing migrations in one session.
#
# One psql session runs hundreds of migrate.apply / migrate.apply() / migrate.rollback() calls
# that fail (a failing statement in a script, or an error raised by the C++ core), each in its
# own transaction, plus some that fail inside a savepoint. Afterwards the backend must be the
# same process (no crash), its memory must not have grown with the number of failures, no
# 'migrations_schema call' memory context may be left over, and the server log must show no
# backend terminated by a signal.
#
# Run as a non-root OS user (initdb refuses root), with PostgreSQL::Test from PGXS on PERL5LIB,
# the PostgreSQL 15 bin directory first on PATH, and PG_REGRESS and TESTDIR set (see
# test/run_all.sh --suite tap).

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# Most memory a phase may add to the backend, whatever its number of calls. A leak of even one
# per-call context (8 kB) per failure would add several MB over a phase.
my $max_growth = 256 * 1024;

my $node = PostgreSQL::Test::Cluster->new('backend_health');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION migrations_schema');

# 010 is applied and its down script fails; 200 is registered and its up script fails.
$node->safe_psql('postgres', <<'SQL');
SELECT migrate.apply('010', 'CREATE TABLE ok_t (a int);',
                     E'DROP TABLE ok_t;\nSELECT 1 / 0;', 'bad down');
SELECT migrate.register('200', E'CREATE TABLE p (a int);\nINSERT INTO p VALUES (1);\nSELECT 1 / 0;',
                        'DROP TABLE p;', 'bad up, pending');
SQL

my $session = $node->background_psql('postgres', on_error_stop => 0);
$session->set_query_timer_restart;

# Runs $sql in the session; returns its stderr (this PG15 BackgroundPsql does not clear it).
sub run_query
{
	my ($sql) = @_;
	$session->{stderr} = '';
	my ($out, $ret) = $session->query($sql);
	my $err = $session->{stderr};
	$session->{stderr} = '';
	return ($out, $err);
}

sub query_ok
{
	my ($sql) = @_;
	my ($out, $err) = run_query($sql);
	die "query failed: $sql\n$err" if $err ne '';
	return $out;
}

my $mem_sql = 'SELECT sum(total_bytes) FROM pg_catalog.pg_backend_memory_contexts';
my $leftover_sql =
  "SELECT count(*) FROM pg_catalog.pg_backend_memory_contexts WHERE name = 'migrations_schema call'";

my $pid = query_ok('SELECT pg_catalog.pg_backend_pid()');
like($pid, qr/^\d+$/, 'session backend pid');

my $up_fails = "CREATE TABLE t (a int);\nINSERT INTO t VALUES (1);\nSELECT 1 / 0;";
my $apply_fails = "SELECT migrate.apply('100', \$s\$$up_fails\$s\$, 'DROP TABLE t;', 'fails')";

# Each phase: [name, count, sql, expected error].
my @phases = (
	[
		'apply(version, ...) with a failing up statement', 500,
		$apply_fails, qr/ERROR:  division by zero/
	],
	[
		'apply() of a pending migration with a failing up statement', 200,
		'SELECT * FROM migrate.apply()', qr/ERROR:  division by zero/
	],
	[
		'rollback() with a failing down statement', 200,
		'SELECT * FROM migrate.rollback()', qr/ERROR:  division by zero/
	],
	[
		'apply(version, ...) failing inside a savepoint', 100,
		"BEGIN; SAVEPOINT s; $apply_fails; ROLLBACK TO SAVEPOINT s; COMMIT;",
		qr/ERROR:  division by zero/
	],
	[
		'apply(version, ...) refused by the C++ core (transaction control)', 100,
		"SELECT migrate.apply('100', 'CREATE TABLE t (a int); COMMIT; CREATE TABLE u (a int);')",
		qr/ERROR:  .*COMMIT/
	],
	[
		'apply(version, ...) refused by the C++ core (edited after apply)', 100,
		"SELECT migrate.apply('010', 'CREATE TABLE ok_t (a int, b int);')",
		qr/ERROR:  migration 010 was edited after it was applied/
	]);

# The error reaches the client with the migration's CONTEXT line.
{
	my ($out, $err) = run_query($apply_fails);
	like($err, qr/ERROR:  division by zero/, 'failing up statement: error');
	like(
		$err,
		qr/migration 100 \(fails\) up script, statement 3, line 3: SELECT 1 \/ 0/,
		'failing up statement: CONTEXT names migration, statement and line');
}

# Warm up every path (caches, plans, first-use allocations) before the baseline.
foreach my $phase (@phases)
{
	run_query($phase->[2]) for 1 .. 5;
}
query_ok($mem_sql) for 1 .. 2;

my $baseline = query_ok($mem_sql);
note "baseline backend memory: $baseline bytes";

foreach my $phase (@phases)
{
	my ($name, $count, $sql, $expected) = @$phase;
	my ($failed, $first_unexpected) = (0, undef);
	for my $i (1 .. $count)
	{
		my ($out, $err) = run_query($sql);
		if ($err =~ $expected)
		{
			$failed++;
		}
		else
		{
			$first_unexpected //= "call $i: stdout '$out', stderr '$err'";
		}
	}
	is($failed, $count, "$name: all $count calls failed as expected")
	  or diag "first unexpected result: $first_unexpected";

	my $after = query_ok($mem_sql);
	my $growth = $after - $baseline;
	note "$name: backend memory $after bytes (growth $growth)";
	cmp_ok($growth, '<=', $max_growth,
		"$name: backend memory did not grow (baseline $baseline, after $after)");
	is(query_ok($leftover_sql), '0',
		"$name: no 'migrations_schema call' context left");
	is(query_ok('SELECT pg_catalog.pg_backend_pid()'),
		$pid, "$name: same backend");
}

# The failures changed nothing.
is( query_ok(
		q{SELECT string_agg(version || ':' || state, ',' ORDER BY version) FROM migrate.status()}),
	'010:applied,200:pending',
	'migration state unchanged by the failures');
is(query_ok('SELECT count(*) FROM migrate.history'),
	'1', 'history unchanged by the failures');
is(query_ok("SELECT to_regclass('public.t') IS NULL AND to_regclass('public.p') IS NULL"),
	't', 'no table of a failed migration exists');

# A successful call still works in this backend.
is( query_ok(
		"SELECT migrate.apply('100', 'CREATE TABLE t (a int);', 'DROP TABLE t;', 'works')"),
	'applied',
	'a good migration applies in the same session');

$session->quit;

ok( $node->poll_query_until(
		'postgres', "SELECT count(*) = 0 FROM pg_catalog.pg_stat_activity WHERE pid = $pid"),
	'session ended normally');
ok($node->safe_psql('postgres', 'SELECT 1') eq '1', 'server still accepts connections');

my $log = slurp_file($node->logfile);
unlike($log, qr/terminated by signal/, 'no backend terminated by a signal');
unlike($log, qr/\b(PANIC|TRAP):/, 'no PANIC or assertion failure in the server log');

$node->stop;
done_testing();
