# Dump and restore of a database that uses migrations_schema.
#
# A database with applied, rolled back and pending migrations is dumped and restored into new
# databases the plain way, without options: custom format with pg_restore (also with
# --single-transaction), directory format with pg_restore -j 2, and plain format piped into
# psql. The restored database must hold the same migration state and history, the user objects
# the migrations created, a history id sequence that continues after the old ids, and a
# working append-only guard; applying the pending migrations and rolling back (through a stored
# down script with a $$-quoted function body) must work there. The DDL audit comes back
# identical (rows, hashes), its chain verifies, and what the restore itself did (the extension
# script, the restore's CREATE TABLE ... ) is recorded after the restored chain; the event
# triggers fire again and new rows continue the chain. The restore with
# migrations_schema.audit=off (the older way) still restores the audit alone. A restore into
# a database that has an audit of its own is refused (55000, with detail and hint) and changes
# nothing there; ordinary roles cannot load, change or delete audit or history rows.
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

# Checks a database restored from $src; $own: whether the restore's own DDL was audited (not
# with migrations_schema.audit=off). Runs apply and rollback in it, so it is changed after.
sub check_restored
{
	my ($db, $how, $own) = @_;

	is($node->safe_psql($db, $status_sql),
		$src_status, "$how: migrate.status() identical");
	is($node->safe_psql($db, $history_sql),
		$src_history, "$how: migrate.history identical");
	is($node->safe_psql($db, $migrations_sql),
		$src_migrations, "$how: migrate.migrations identical");
	is( $node->safe_psql(
			$db, "SELECT * FROM migrate.ddl_audit WHERE id <= $src_audit_max ORDER BY id"),
		$src_audit,
		"$how: the dumped audit is restored identical (rows, hashes)");
	my $restored_max = $node->safe_psql($db, 'SELECT max(id) FROM migrate.ddl_audit');
	is( $node->safe_psql($db, 'SELECT valid, rows_checked, first_id FROM migrate.verify_audit()'),
		"t|$restored_max|1",
		"$how: the whole audit chain verifies");
	if ($own)
	{
		# The restore's own rows follow the restored chain: first the extension script's rows
		# of this database's CREATE EXTENSION, then the restore's DDL, none of a migration.
		is( $node->safe_psql(
				$db,
				"SELECT a.in_extension, a.txid::text::xid = e.xmin "
				  . "FROM migrate.ddl_audit AS a, pg_catalog.pg_extension AS e "
				  . "WHERE a.id = $src_audit_max + 1 AND e.extname = 'migrations_schema'"),
			't|t',
			"$how: the restore's CREATE EXTENSION comes right after the restored chain");
		is( $node->safe_psql(
				$db,
				"SELECT string_agg(DISTINCT object_identity, ',' ORDER BY object_identity) "
				  . "FROM migrate.ddl_audit WHERE id > $src_audit_max AND event = 'create' "
				  . "AND NOT in_extension"),
			'public.accounts,public.order_total(bigint),public.orders,public.orders_id_seq',
			"$how: the restore's CREATE statements are recorded after the restored chain");
		is( $node->safe_psql(
				$db,
				"SELECT count(*) FROM migrate.ddl_audit WHERE id > $src_audit_max "
				  . "AND (migration_version IS NOT NULL OR event = 'purge')"),
			'0',
			"$how: no restore row claims a migration");
	}
	else
	{
		is($restored_max, $src_audit_max,
			"$how: no row for the restore's own DDL (audit off)");
	}
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

	# A second restore into this database (it has an audit of its own now) is refused, and
	# the audit stays as it is.
	my $before = $node->safe_psql($db, $audit_sql);
	my ($ret, $out, $err) = $node->psql($db,
		'INSERT INTO migrate.ddl_audit SELECT * FROM migrate.ddl_audit WHERE false',
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	isnt($ret, 0, "$how: loading rows again is refused");
	like($err, qr/ERROR:  55000: a dumped audit can be loaded into migrate\.ddl_audit only in a new database/,
		"$how: refused with 55000");
	like($err, qr/its oldest row \(id 1\) was not recorded by the CREATE EXTENSION of this database/,
		"$how: the detail names the restored chain");
	is($node->safe_psql($db, $audit_sql), $before, "$how: the refused load changed nothing");

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
			"SELECT min(id) = $restored_max + 1, bool_and(migration_version IS NOT NULL) "
			  . "FROM migrate.ddl_audit WHERE id > $restored_max"),
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

# Runs a command list (IPC::Run::run arguments); returns (ok, stderr).
sub run_cmd
{
	my (@cmd) = @_;
	my ($out, $err) = ('', '');
	my $ok = IPC::Run::run(@cmd, '>', \$out, '2>', \$err);
	return ($ok, $err);
}

# Custom format: pg_dump -Fc, pg_restore into a new database, no options.
my $dump_file = "$tempdir/source.dump";
my ($ok, $err) =
  run_cmd([ 'pg_dump', '-Fc', '-f', $dump_file, '-d', $node->connstr($src) ]);
ok($ok, 'pg_dump -Fc succeeds');
is($err, '', 'pg_dump -Fc prints nothing on stderr');

$node->safe_psql('postgres', 'CREATE DATABASE ms_restored');
($ok, $err) = run_cmd(
	[ 'pg_restore', '--exit-on-error', '-d', $node->connstr('ms_restored'), $dump_file ]);
ok($ok, 'pg_restore (custom format) succeeds');
is($err, '', 'pg_restore (custom format) prints nothing on stderr');
check_restored('ms_restored', 'pg_restore', 1);

# The same in one transaction: the restore's rows are written at its commit, after the chain.
$node->safe_psql('postgres', 'CREATE DATABASE ms_restored_single');
($ok, $err) = run_cmd(
	[
		'pg_restore', '--exit-on-error', '--single-transaction', '-d',
		$node->connstr('ms_restored_single'), $dump_file
	]);
ok($ok, 'pg_restore --single-transaction succeeds');
is($err, '', 'pg_restore --single-transaction prints nothing on stderr');
check_restored('ms_restored_single', 'pg_restore --single-transaction', 1);

# Directory format restored by two parallel jobs: the extension is created in one session,
# the audit loaded in another; their application name is pg_restore's own, as when PGAPPNAME
# is not set (the test framework sets it).
my $dump_dir = "$tempdir/source.dir";
($ok, $err) =
  run_cmd([ 'pg_dump', '-Fd', '-f', $dump_dir, '-d', $node->connstr($src) ]);
ok($ok, 'pg_dump -Fd succeeds');
$node->safe_psql('postgres', 'CREATE DATABASE ms_restored_dir');
{
	delete local $ENV{PGAPPNAME};
	($ok, $err) = run_cmd(
		[
			'pg_restore', '--exit-on-error', '-j', '2', '-d',
			$node->connstr('ms_restored_dir'), $dump_dir
		]);
}
ok($ok, 'pg_restore -j 2 (directory format) succeeds');
is($err, '', 'pg_restore -j 2 prints nothing on stderr');
check_restored('ms_restored_dir', 'pg_restore -j 2', 1);

# Plain format: pg_dump | psql into a new database.
$node->safe_psql('postgres', 'CREATE DATABASE ms_restored_plain');
my $dump_err = '';
my $out = '';
$err = '';
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
check_restored('ms_restored_plain', 'plain dump', 1);

# The older way: auditing off for the restore's sessions restores the dumped audit alone.
$ENV{PGOPTIONS} = '-c migrations_schema.audit=off';
$node->safe_psql('postgres', 'CREATE DATABASE ms_restored_off');
($ok, $err) = run_cmd(
	[ 'pg_restore', '--exit-on-error', '-d', $node->connstr('ms_restored_off'), $dump_file ]);
delete $ENV{PGOPTIONS};
ok($ok, 'pg_restore with migrations_schema.audit=off succeeds');
is($err, '', 'pg_restore with migrations_schema.audit=off prints nothing on stderr');
check_restored('ms_restored_off', 'audit off', 0);

# A database with an audit of its own (the extension created in one session, a table in
# another): the restore is refused when it loads the audit, with an explanation, and the
# database's own audit is left as it was.
$node->safe_psql('postgres', 'CREATE DATABASE ms_in_use');
$node->safe_psql('ms_in_use', 'CREATE EXTENSION migrations_schema');
$node->safe_psql('ms_in_use', 'CREATE TABLE public.mine (x int)');
my $own_max = $node->safe_psql('ms_in_use', 'SELECT max(id) FROM migrate.ddl_audit');
my $own_audit = $node->safe_psql('ms_in_use', $audit_sql);
($ok, $err) = run_cmd(
	[ 'pg_restore', '-d', $node->connstr('ms_in_use'), $dump_file ]);
ok(!$ok, 'pg_restore into a database with its own audit fails');
like($err,
	qr/COPY failed for table "ddl_audit": ERROR:  a dumped audit can be loaded into migrate\.ddl_audit only in a new database/,
	'refused: the error says why');
like($err,
	qr/DETAIL:  This database has an audit of its own, which the dumped chain would be merged with: row 1 was recorded by another session \(application "[^"]+"\) than this restore's\./,
	'refused: the detail names the row');
like($err, qr/HINT:  Restore into a new database/, 'refused: the hint says how');
# (pg_restore goes on after the error: the tables it creates are audited as usual, after.)
is( $node->safe_psql(
		'ms_in_use', "SELECT * FROM migrate.ddl_audit WHERE id <= $own_max ORDER BY id"),
	$own_audit,
	'refused: the database\'s own audit rows are unchanged');
is($node->safe_psql('ms_in_use', 'SELECT valid FROM migrate.verify_audit()'),
	't', 'refused: the database\'s own chain still verifies');

# One session that created the extension and applied a migration, then loads rows (a long
# session, or a pooled backend handed to a restore): its rows are its own audit, not a
# restore's, and the load is refused.
$node->safe_psql('postgres', 'CREATE DATABASE ms_one_session');
{
	my $sql = join(";\n",
		'CREATE EXTENSION migrations_schema',
		migration_call('apply', '900', 'one', 'CREATE TABLE public.one (x int);',
			'DROP TABLE public.one;'),
		'INSERT INTO migrate.ddl_audit SELECT * FROM migrate.ddl_audit WHERE false')
	  . ";\n";
	my ($ret, $out, $err) = $node->psql('ms_one_session', $sql);
	isnt($ret, 0, 'one session: a load after a migration is refused');
	like($err, qr/records DDL of migration 900/, 'one session: the detail names the migration');
	is( $node->safe_psql('ms_one_session',
			"SELECT count(*) FROM migrate.ddl_audit WHERE migration_version = '900'"),
		'1', 'one session: the migration\'s audit row stays where it was');
	is($node->safe_psql('ms_one_session', 'SELECT valid FROM migrate.verify_audit()'),
		't', 'one session: the chain still verifies');
}

# Ordinary roles cannot load, change or delete rows of a restored audit or history.
$node->safe_psql('ms_restored', 'CREATE ROLE ms_plain LOGIN');
$node->safe_psql('ms_restored', 'GRANT USAGE ON SCHEMA migrate TO ms_plain');
foreach my $stmt (
	'INSERT INTO migrate.ddl_audit SELECT * FROM migrate.ddl_audit WHERE false',
	'COPY migrate.ddl_audit FROM STDIN',
	"UPDATE migrate.ddl_audit SET statement = 'forged'",
	'DELETE FROM migrate.ddl_audit',
	"INSERT INTO migrate.history (version, action) VALUES ('x', 'apply')",
	'DELETE FROM migrate.history')
{
	my ($ret, $o, $e) =
	  $node->psql('ms_restored', "SET ROLE ms_plain; $stmt");
	isnt($ret, 0, "ordinary role refused: $stmt");
	like($e, qr/permission denied|must be superuser/, "ordinary role: permission error for: $stmt");
}

# The source was not changed by any of this.
is($node->safe_psql($src, $history_sql),
	$src_history, 'source history unchanged');
is($node->safe_psql($src, $audit_sql), $src_audit, 'source audit unchanged');

$node->stop;
done_testing();
