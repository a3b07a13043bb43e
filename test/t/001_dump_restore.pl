# Dump and restore of a database that uses migrations_schema.
#
# A database with applied, rolled back and pending migrations is dumped (custom format restored
# with pg_restore, and plain format piped into psql). The restored database must hold the same
# migration state and history, the user objects the migrations created, a history id sequence
# that continues after the old ids, and a working append-only guard; applying the pending
# migrations and rolling back (through a stored down script with a $$-quoted function body) must
# work there. The DDL audit is restored identical (rows, hashes), its chain verifies, its event
# triggers fire again and new rows continue the chain. The restore runs with
# migrations_schema.audit=off (PGOPTIONS), as the README says; without it the restore's own DDL
# would be audited first and loading the dumped audit is refused with a clear error.
#
# Run as a non-root OS user (initdb refuses root), with PostgreSQL::Test from PGXS on PERL5LIB,
# the PostgreSQL 15 bin directory first on PATH, and PG_REGRESS and TESTDIR set (see
# test/run_all.sh --suite tap).

use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# A dollar-quoted literal of $s with a tag that does not occur in it.
sub dq
{
	my ($s) = @_;
	my $tag = 'm';
	$tag .= 'x' while index($s, "\$$tag\$") >= 0;
	return "\$$tag\$$s\$$tag\$";
}

# SQL calling migrate.apply/register for one migration.
sub migration_call
{
	my ($func, $version, $name, $up, $down) = @_;
	return sprintf("SELECT migrate.%s('%s', %s, %s, '%s')",
		$func, $version, dq($up), defined $down ? dq($down) : 'NULL', $name);
}

my $up_001 = <<'SQL';
CREATE TABLE public.accounts (id bigint PRIMARY KEY, login text NOT NULL UNIQUE);
INSERT INTO public.accounts VALUES (1, 'alice'), (2, 'bob');
SQL
my $down_001 = "DROP TABLE public.accounts;\n";

my $up_002 = <<'SQL';
CREATE TABLE public.orders (
    id bigserial PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES public.accounts,
    total numeric(12,2) NOT NULL
);
CREATE FUNCTION public.order_total(acc bigint) RETURNS numeric
    LANGUAGE sql STABLE AS $$
    SELECT coalesce(sum(total), 0) FROM public.orders WHERE account_id = acc;
$$;
INSERT INTO public.orders (account_id, total) VALUES (1, 10.50), (1, 4.50);
SQL

# The down script holds a function whose $$ body has semicolons and quotes in it, and allows
# the loss of the orders' rows (the safety checks refuse it otherwise).
my $down_002 = <<'SQL';
-- migrate:allow drop-table -- test orders only
DROP FUNCTION public.order_total(bigint);
DROP TABLE public.orders;
CREATE OR REPLACE FUNCTION public.orders_rolled_back() RETURNS text
    LANGUAGE plpgsql AS $$
BEGIN
    -- semicolons; inside a body; and 'quotes'
    RETURN 'orders rolled back; it''s gone';
END
$$;
SQL

my $up_003 = "ALTER TABLE public.accounts ADD COLUMN email text;\n";
my $down_003 = "ALTER TABLE public.accounts DROP COLUMN email;\n";

my $up_004 = <<'SQL';
CREATE TABLE public.audit_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    note text NOT NULL
);
CREATE INDEX audit_log_note_idx ON public.audit_log (note);
SQL
my $down_004 = "DROP TABLE public.audit_log;\n";

my $node = PostgreSQL::Test::Cluster->new('dump_restore');
$node->init;
$node->start;

my $src = 'ms_source';
$node->safe_psql('postgres', "CREATE DATABASE $src");
$node->safe_psql($src, 'CREATE EXTENSION migrations_schema');

is( $node->safe_psql(
		$src, migration_call('apply', '001', 'accounts', $up_001, $down_001)),
	'applied',
	'001 applied');
is( $node->safe_psql(
		$src, migration_call('apply', '002', 'orders', $up_002, $down_002)),
	'applied',
	'002 applied');
is( $node->safe_psql(
		$src, migration_call('apply', '003', 'email', $up_003, $down_003)),
	'applied',
	'003 applied');
is($node->safe_psql($src, 'SELECT version FROM migrate.rollback(1)'),
	'003', '003 rolled back');
is( $node->safe_psql(
		$src, migration_call('register', '004', 'audit', $up_004, $down_004)),
	'registered',
	'004 registered');

my $status_sql = 'SELECT * FROM migrate.status()';
my $history_sql = 'SELECT * FROM migrate.history ORDER BY id';
my $migrations_sql = 'SELECT * FROM migrate.migrations ORDER BY version';
my $audit_sql = 'SELECT * FROM migrate.ddl_audit ORDER BY id';

my $src_status = $node->safe_psql($src, $status_sql);
my $src_history = $node->safe_psql($src, $history_sql);
my $src_migrations = $node->safe_psql($src, $migrations_sql);
my $src_audit = $node->safe_psql($src, $audit_sql);
my $src_audit_max = $node->safe_psql($src, 'SELECT max(id) FROM migrate.ddl_audit');
ok($src_audit_max > 0, "source audit has rows ($src_audit_max)");
is($node->safe_psql($src, 'SELECT valid FROM migrate.verify_audit()'),
	't', 'source audit chain verifies');
is( $node->safe_psql($src, 'SELECT version, state FROM migrate.status()'),
	"001|applied\n002|applied\n003|rolled back\n004|pending",
	'source state before the dump');
my $src_max_id = $node->safe_psql($src, 'SELECT max(id) FROM migrate.history');
is($src_max_id, '4', 'source history has 4 rows (3 applies, 1 rollback)');

my $tempdir = PostgreSQL::Test::Utils::tempdir;

# Checks a database restored from $src. Runs apply and rollback in it, so it is changed after.
sub check_restored
{
	my ($db, $how) = @_;

	is($node->safe_psql($db, $status_sql),
		$src_status, "$how: migrate.status() identical");
	is($node->safe_psql($db, $history_sql),
		$src_history, "$how: migrate.history identical");
	is($node->safe_psql($db, $migrations_sql),
		$src_migrations, "$how: migrate.migrations identical");
	is($node->safe_psql($db, $audit_sql),
		$src_audit, "$how: migrate.ddl_audit identical (no row for the restore's own DDL)");
	is($node->safe_psql($db, 'SELECT valid FROM migrate.verify_audit()'),
		't', "$how: audit chain verifies");
	is($node->safe_psql($db, 'SELECT bool_and(ok) FROM migrate.audit_health()'),
		't', "$how: audit health ok (event triggers and guards enabled always)");

	# The identity sequence of migrate.history is restored to where it was.
	is( $node->safe_psql(
			$db,
			"SELECT pg_catalog.pg_sequence_last_value("
			  . "pg_catalog.pg_get_serial_sequence('migrate.history', 'id')::regclass)"
		),
		$src_max_id,
		"$how: history id sequence restored");

	# User objects created by the migrations.
	is( $node->safe_psql(
			$db,
			"SELECT string_agg(login, ',' ORDER BY id) FROM public.accounts"),
		'alice,bob',
		"$how: accounts restored");
	is($node->safe_psql($db, 'SELECT public.order_total(1)'),
		'15.00', "$how: orders and order_total() restored");
	is( $node->safe_psql(
			$db,
			"SELECT count(*) FROM pg_catalog.pg_attribute WHERE attrelid = 'public.accounts'::regclass "
			  . "AND attname = 'email' AND NOT attisdropped"),
		'0',
		"$how: rolled back column is absent");
	is($node->safe_psql($db, "SELECT to_regclass('public.audit_log') IS NULL"),
		't', "$how: pending migration's table is absent");

	# The append-only guard survives (enabled ALWAYS) and refuses changes.
	is( $node->safe_psql(
			$db,
			"SELECT string_agg(tgname || ':' || tgenabled::text, ',' ORDER BY tgname) "
			  . "FROM pg_catalog.pg_trigger WHERE tgrelid = 'migrate.history'::regclass "
			  . "AND NOT tgisinternal"),
		'history_append_only:A,history_no_truncate:A',
		"$how: append-only triggers restored, enabled always");
	foreach my $stmt (
		"UPDATE migrate.history SET name = 'x'",
		"DELETE FROM migrate.history",
		"TRUNCATE migrate.history",
		"SET session_replication_role = replica; UPDATE migrate.history SET name = 'x'")
	{
		my ($ret, $out, $err) = $node->psql($db, $stmt);
		isnt($ret, 0, "$how: refused: $stmt");
		like($err, qr/migrate\.history is append-only/,
			"$how: append-only error for: $stmt");
	}

	# Apply the pending migrations (the rolled back 003 and the registered 004).
	is( $node->safe_psql($db, 'SELECT version, name FROM migrate.apply()'),
		"003|email\n004|audit",
		"$how: apply() applies the pending migrations");
	is( $node->safe_psql(
			$db,
			"SELECT string_agg(id || ':' || action || ':' || version, ',' ORDER BY id) "
			  . "FROM migrate.history WHERE id > $src_max_id"),
		join(',', ($src_max_id + 1) . ':apply:003', ($src_max_id + 2) . ':apply:004'),
		"$how: new history ids follow the old ones");
	is( $node->safe_psql(
			$db,
			"SELECT count(*) FROM pg_catalog.pg_attribute WHERE attrelid = 'public.accounts'::regclass "
			  . "AND attname = 'email' AND NOT attisdropped"),
		'1',
		"$how: 003 ran again");
	is($node->safe_psql($db, "SELECT to_regclass('public.audit_log') IS NOT NULL"),
		't', "$how: 004 ran");

	# Roll back through 002, whose stored down script holds the $$ function.
	is($node->safe_psql($db, 'SELECT version FROM migrate.rollback(3)'),
		"004\n003\n002", "$how: rollback(3) runs the stored down scripts");
	is($node->safe_psql($db, 'SELECT public.orders_rolled_back()'),
		"orders rolled back; it's gone",
		"$how: function from the \$\$-quoted down script works");
	is( $node->safe_psql(
			$db,
			"SELECT to_regclass('public.orders') IS NULL AND to_regclass('public.audit_log') IS NULL"),
		't',
		"$how: rolled back tables are gone");
	is( $node->safe_psql($db, 'SELECT version, state FROM migrate.status()'),
		"001|applied\n002|rolled back\n003|rolled back\n004|rolled back",
		"$how: state after rollback");
	# The event triggers fire again: the new DDL continues the restored chain.
	is( $node->safe_psql(
			$db,
			"SELECT min(id) = $src_audit_max + 1, bool_and(migration_version IS NOT NULL) "
			  . "FROM migrate.ddl_audit WHERE id > $src_audit_max"),
		't|t',
		"$how: the migrations' DDL after the restore is audited, continuing the chain");
	is($node->safe_psql($db, 'SELECT valid FROM migrate.verify_audit()'),
		't', "$how: audit chain verifies after new DDL");
	is( $node->safe_psql(
			$db,
			"SELECT min(id), max(id), count(*) FROM migrate.history WHERE id > $src_max_id"),
		join('|', $src_max_id + 1, $src_max_id + 5, 5),
		"$how: history ids stay consecutive");
	return;
}

# Custom format: pg_dump -Fc, pg_restore into a new database.
my $dump_file = "$tempdir/source.dump";
my ($out, $err) = ('', '');
ok( IPC::Run::run(
		[ 'pg_dump', '-Fc', '-f', $dump_file, '-d', $node->connstr($src) ],
		'>', \$out, '2>', \$err),
	'pg_dump -Fc succeeds');
is($err, '', 'pg_dump -Fc prints nothing on stderr');

# Restoring with auditing on: the restore's own DDL is audited first, and loading the dumped
# audit into the non-empty table is refused with an explanation.
$node->safe_psql('postgres', 'CREATE DATABASE ms_restored_audited');
($out, $err) = ('', '');
ok( !IPC::Run::run(
		[
			'pg_restore', '--exit-on-error', '-d',
			$node->connstr('ms_restored_audited'), $dump_file
		],
		'>', \$out, '2>', \$err),
	'pg_restore with auditing on fails');
like($err, qr/rows can be loaded into migrate\.ddl_audit only while it is empty/,
	'pg_restore with auditing on: the error explains why');
like($err, qr/migrations_schema\.audit=off/, 'pg_restore with auditing on: the hint says how');

# The restores below run with auditing off for their sessions.
$ENV{PGOPTIONS} = '-c migrations_schema.audit=off';
$node->safe_psql('postgres', 'CREATE DATABASE ms_restored');
($out, $err) = ('', '');
ok( IPC::Run::run(
		[
			'pg_restore', '--exit-on-error', '-d',
			$node->connstr('ms_restored'), $dump_file
		],
		'>', \$out, '2>', \$err),
	'pg_restore succeeds');
is($err, '', 'pg_restore prints nothing on stderr');
delete $ENV{PGOPTIONS};
check_restored('ms_restored', 'pg_restore');

# Plain format: pg_dump | psql into a new database.
$node->safe_psql('postgres', 'CREATE DATABASE ms_restored_plain');
$ENV{PGOPTIONS} = '-c migrations_schema.audit=off';
my $dump_err = '';
($out, $err) = ('', '');
ok( IPC::Run::run(
		[ 'pg_dump', '-d', $node->connstr($src) ],
		'2>', \$dump_err,
		'|',
		[
			'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d',
			$node->connstr('ms_restored_plain')
		],
		'>', \$out, '2>', \$err),
	'pg_dump | psql succeeds');
is($dump_err, '', 'pg_dump (plain) prints nothing on stderr');
is($err, '', 'psql restore prints nothing on stderr');
delete $ENV{PGOPTIONS};
check_restored('ms_restored_plain', 'plain dump');

# The source was not changed by any of this.
is($node->safe_psql($src, $history_sql),
	$src_history, 'source history unchanged');
is($node->safe_psql($src, $audit_sql), $src_audit, 'source audit unchanged');

$node->stop;
done_testing();
