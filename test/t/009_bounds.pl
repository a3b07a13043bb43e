# Bounds of time and memory in long loops of the extension (each failed before its fix):
#
# 1. splitting a script of 200,000 statements can be cancelled: statement_timeout ends it long
#    before the split would finish (the loop checks for interrupts);
# 2. the rows a migration's SELECT returns are not kept: a SELECT of a million rows in a
#    migration leaves the backend's peak memory where it was;
# 3. the pre-commit audit writer frees each row's values: one DROP TABLE of 3,000 tables (a
#    40 kB statement recorded with every one of the 6,000 audit rows) does not grow the
#    backend by the statement's size per row.
#
# Run as a non-root OS user with PostgreSQL::Test from PGXS (see test/run_all.sh --suite tap).

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $node = PostgreSQL::Test::Cluster->new('bounds');
$node->init;
$node->append_conf('postgresql.conf', "max_locks_per_transaction = 256\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION migrations_schema');

# psql -c with several statements in one backend: the backend's peak RSS (VmHWM, kB) before
# and after a statement.
my $hwm = q{(regexp_match(pg_read_file('/proc/self/status'), 'VmHWM:\s+(\d+)'))[1]::bigint};

# ---- 1. cancel while splitting a long script

{
	my $script = q{repeat('SELECT 1;', 200000)};
	my $t0 = time;
	$node->safe_psql('postgres', "SELECT count(*) FROM migrate.split($script)");
	my $full = time - $t0;
	my $timeout_ms = int($full * 1000 / 10);
	$timeout_ms = 50 if $timeout_ms < 50;
	$t0 = time;
	my ($ret, $out, $err) = $node->psql('postgres',
		"SET statement_timeout = $timeout_ms; SELECT count(*) FROM migrate.split($script)");
	my $cancelled = time - $t0;
	like($err, qr/canceling statement due to statement timeout/,
		'split: statement_timeout cancels a long split');
	cmp_ok($cancelled, '<', $full / 2,
		sprintf('split: cancelled after %.2f s of the %.2f s it takes', $cancelled, $full));
}

# ---- 2. a migration's SELECT of a million rows

{
	my $out = $node->safe_psql('postgres', <<"SQL");
SELECT $hwm AS before \\gset
SELECT migrate.apply('1', \$\$
CREATE TABLE big_select (id int);
SELECT g, repeat('x', 200) FROM generate_series(1, 1000000) AS g;
\$\$);
SELECT $hwm - :before;
SQL
	my ($growth) = $out =~ /(\d+)\s*$/;
	cmp_ok($growth, '<', 60 * 1024,
		"SELECT in a migration: peak memory grew by $growth kB (the rows are about 250 MB)");
}

# ---- 3. the audit writer's per-row values: the same DROP TABLE with the audit off and on,
#         each in a backend of its own

{
	my $n = 3000;
	my %growth;
	for my $audit ('off', 'on')
	{
		$node->safe_psql('postgres',
			"CREATE SCHEMA many_$audit; DO \$\$ BEGIN FOR i IN 1..$n LOOP
			    EXECUTE format('CREATE TABLE many_$audit.table_with_a_rather_long_name_%s (id int)', i);
			 END LOOP; END \$\$;");
		my $list = join(', ', map { "many_$audit.table_with_a_rather_long_name_$_" } 1 .. $n);
		my $out = $node->safe_psql('postgres', <<"SQL");
SET migrations_schema.audit = $audit;
SELECT $hwm AS before \\gset
DROP TABLE $list;
SELECT $hwm - :before;
SQL
		($growth{$audit}) = $out =~ /(\d+)\s*$/;
	}
	my $rows = $node->safe_psql('postgres',
		"SELECT count(*) FROM migrate.ddl_audit WHERE command_tag = 'DROP TABLE'");
	cmp_ok($rows, '>=', $n, "audit writer: $rows rows recorded for one DROP TABLE of $n tables");
	my $extra = $growth{on} - $growth{off};
	cmp_ok($extra, '<', 40 * 1024,
		"audit writer: the audit added $extra kB to the peak memory of a DROP TABLE whose "
		  . "120 kB text every row records ($growth{off} kB without it)");
	is($node->safe_psql('postgres', 'SELECT valid FROM migrate.verify_audit()'), 't',
		'audit writer: the chain verifies');
}

$node->stop;
done_testing();
