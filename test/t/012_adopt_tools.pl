# migrate.adopt() taking over databases that the REAL tools migrated, one database per tool.
#
# dbmate (npm): up of three migrations, the third fails (dbmate records nothing for it); adopt:
#   the two are adopted without scripts, nothing runs; the third, fixed, then applies.
# node-pg-migrate (npm): up of two SQL migrations; adopt: the numeric prefixes are the
#   versions, the rest the names; a third then applies.
# Sqitch (Debian): three changes deployed, the last reverted; adopt of sqitch.changes: the two
#   deployed changes under their names, the reverted one absent; a next migration (whose name
#   sorts before theirs) applies: Sqitch-adopted rows do not count in the order check.
# Alembic (Debian): a chain of three revisions upgraded to the second; the three registered
#   with order keys in chain order (their ids sort otherwise); adopt: the head and what comes
#   before it are applied, the third stays pending; apply() runs only the third.
# For each: nothing ran (every table made by the tool is created once in migrate.ddl_audit,
# outside any migration; history holds only adopt/baseline rows), the tool's own table is the
# same after adopt, and adopting again changes nothing.
#
# A tool that is missing (npm or the registry unreachable, a package not installed) skips its
# part with the reason. MS_DBMATE, MS_NODE_PG_MIGRATE: the tools' commands (test/run_all.sh
# installs them from npm); PG_MIGRATE_ALEMBIC: how to run Alembic; sqitch on PATH.
# Run as a non-root OS user with PostgreSQL::Test from PGXS:
#   MS_SKIP_BUILD=1 MS_TAP_ONLY=012 bash test/run_all.sh --suite tap

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Path qw(make_path);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use MsFiles;  # put, slurp_file_raw

my $node = PostgreSQL::Test::Cluster->new('adopt_tools');
$node->init;
$node->start;
# absolute: the tools run in their own folders (17's tempdir is relative to the test's directory)
my $root = abs_path(PostgreSQL::Test::Utils::tempdir);
my $user = $node->safe_psql('postgres', 'SELECT current_user');
my %pgenv = (PGHOST => $node->host, PGPORT => $node->port, PGUSER => $user);

sub sql { return $node->safe_psql(@_); }

# run_in(DIR, {ENV}, CMD...): runs a tool in DIR with the libpq environment of the node and
# ENV; (true when it exited 0, stdout, stderr).
sub run_in
{
	my ($dir, $env, @cmd) = @_;
	my ($out, $err) = ('', '');
	make_path($dir);
	local %ENV = (%ENV, %pgenv, %$env);
	my $ok = eval {
		IPC::Run::run(\@cmd, '<', \undef, '>', \$out, '2>', \$err,
			init => sub { chdir $dir or die "$dir: $!" });
	};
	$err .= $@ if $@;
	return ($ok ? 1 : 0, $out, $err);
}

# The first line of a tool's error, for a skip message.
sub first_line { my ($t) = @_; return (split /\n/, $t // '')[0] // ''; }

sub new_db
{
	my ($db) = @_;
	sql('postgres', "CREATE DATABASE $db");
	sql($db, 'CREATE EXTENSION migrations_schema');
}

# Every row of a table, as text, in a stable order: compared before and after adopt.
sub table_rows
{
	my ($db, $table) = @_;
	return sql($db, "SELECT count(*) || ': ' || coalesce(string_agg(t::text, ' | ' ORDER BY t::text), '') FROM $table AS t");
}

# migrate.adopt()'s result: "version|name|result" lines, in its order ("version|result" with
# $no_name).
sub adopt
{
	my ($db, $source, $no_name) = @_;
	my $name = $no_name ? '' : "coalesce(name, '-'), ";
	return sql($db,
		"SELECT string_agg(concat_ws('|', version, ${name}result), E'\\n' ORDER BY n) "
		  . "FROM migrate.adopt('$source') WITH ORDINALITY AS a(version, name, result, applied_at, applied_by, detail, n)");
}

sub states
{
	my ($db) = @_;
	return sql($db,
		"SELECT string_agg(version || '=' || state, ' ' ORDER BY sort_key) FROM migrate.migrations");
}

# How often the audit saw the table created, and in which migration ('-': outside any).
sub creations
{
	my ($db, $table) = @_;
	return sql($db,
		"SELECT count(*) || ' ' || coalesce(string_agg(DISTINCT coalesce(migration_version, '-'), ','), '') "
		  . "FROM migrate.ddl_audit WHERE event = 'create' AND object_type = 'table' "
		  . "AND object_identity = 'public.$table'");
}

# Nothing ran: no DDL in a migration, only adopt (and baseline) rows in the history, each
# table the tool made created once, outside any migration.
sub nothing_ran
{
	my ($db, $tool, $actions, @tables) = @_;
	is(sql($db, 'SELECT count(*) FROM migrate.ddl_audit WHERE migration_version IS NOT NULL'),
		'0', "$tool: adopt ran nothing (no DDL in a migration in the audit)");
	is(sql($db, "SELECT string_agg(DISTINCT action, ',') FROM migrate.history"),
		$actions, "$tool: the history holds only $actions rows");
	is(join(' ', map { creations($db, $_) } @tables), join(' ', map { '1 -' } @tables),
		"$tool: its tables were created once, by $tool: @tables");
}

# ---- dbmate -------------------------------------------------------------------------------
SKIP:
{
	my $dbmate = $ENV{MS_DBMATE} // '';
	skip('dbmate is not available (MS_DBMATE is empty: npm or its registry could not be reached)', 16)
	  unless $dbmate && -x $dbmate;
	my $d = "$root/dbmate/db/migrations";
	put("$d/20240101000000_create_a.sql",
		"-- migrate:up\nCREATE TABLE dm_a (id int);\n\n-- migrate:down\nDROP TABLE dm_a;\n");
	put("$d/20240102000000_create_b.sql",
		"-- migrate:up\nCREATE TABLE dm_b (id int);\n\n-- migrate:down\nDROP TABLE dm_b;\n");
	put("$d/20240103000000_create_c.sql",
		"-- migrate:up\nCREATE TABLE dm_c (id int);\nCREATE TABLE dm_c2 (id intt);\n\n"
		  . "-- migrate:down\nDROP TABLE dm_c2;\nDROP TABLE dm_c;\n");
	new_db('dm');
	my $url = sprintf('postgres://%s@/dm?socket=%s&port=%d&sslmode=disable',
		$user, $node->host, $node->port);
	my ($ok, $out, $err) = run_in("$root/dbmate", {}, $dbmate, '--url', $url,
		'--migrations-dir', $d, '--no-dump-schema', 'up');
	ok(!$ok, 'dbmate: up fails at the third migration');
	like($err, qr/intt/, 'dbmate: the error is the third migration\'s');
	is(table_rows('dm', 'schema_migrations'),
		'2: (20240101000000) | (20240102000000)', 'dbmate: two migrations recorded, not the failed one');
	is(sql('dm', "SELECT to_regclass('dm_c') IS NULL"), 't', 'dbmate: the failed migration left nothing');

	my $before = table_rows('dm', 'schema_migrations');
	is(adopt('dm', 'dbmate'), "20240101000000|-|adopted\n20240102000000|-|adopted",
		'dbmate: adopt adopts the two');
	is(states('dm'), '20240101000000=applied 20240102000000=applied', 'dbmate: both applied');
	nothing_ran('dm', 'dbmate', 'adopt', 'dm_a', 'dm_b');
	is(sql('dm',
			"SELECT string_agg(version || ':' || state || ':' || coalesce(checksum, 'no checksum') "
			  . "|| ':' || phase, ' ' ORDER BY version) FROM migrate.status()"),
		'20240101000000:applied:no checksum:adopted from dbmate; no script attached '
		  . '20240102000000:applied:no checksum:adopted from dbmate; no script attached',
		'dbmate: status shows them applied, without a script');
	is(table_rows('dm', 'schema_migrations'), $before, "dbmate: its table is the same after adopt");
	is(adopt('dm', 'dbmate'), "20240101000000|-|already applied\n20240102000000|-|already applied",
		'dbmate: adopting again adopts nothing');

	# the third migration, fixed, through the extension
	is(sql('dm',
			"SELECT migrate.apply('20240103000000', 'CREATE TABLE dm_c (id int);', "
			  . "'DROP TABLE dm_c;', 'create_c')"),
		'applied', 'dbmate: the fixed third migration applies');
	is(states('dm'), '20240101000000=applied 20240102000000=applied 20240103000000=applied',
		'dbmate: three applied');
	is(creations('dm', 'dm_c'), '1 20240103000000', 'dbmate: the third ran, in its migration');
	is(sql('dm', "SELECT out_of_order FROM migrate.migrations WHERE version = '20240103000000'"),
		'f', 'dbmate: the third is in order');
}

# ---- node-pg-migrate --------------------------------------------------------------------
SKIP:
{
	my $npgm = $ENV{MS_NODE_PG_MIGRATE} // '';
	skip('node-pg-migrate is not available (MS_NODE_PG_MIGRATE is empty: npm or its registry '
		  . 'could not be reached)', 12)
	  unless $npgm && -x $npgm;
	my $d = "$root/npgm";
	put("$d/migrations/1700000000000_create-a.sql",
		"-- Up Migration\nCREATE TABLE np_a (id int);\n-- Down Migration\nDROP TABLE np_a;\n");
	put("$d/migrations/1700000000001_create-b.sql",
		"-- Up Migration\nCREATE TABLE np_b (id int);\n-- Down Migration\nDROP TABLE np_b;\n");
	new_db('np');
	my $url = sprintf('postgres://%s@localhost/np?host=%s&port=%d', $user, $node->host, $node->port);
	my ($ok, $out, $err) = run_in($d, { DATABASE_URL => $url }, $npgm, 'up', '-m', 'migrations');
	ok($ok, 'node-pg-migrate: up exits 0') or diag("$out\n$err");
	is(sql('np', 'SELECT string_agg(name, \' \' ORDER BY id) FROM pgmigrations'),
		'1700000000000_create-a 1700000000001_create-b', 'node-pg-migrate: two migrations recorded');

	my $before = table_rows('np', 'pgmigrations');
	is(adopt('np', 'node-pg-migrate'),
		"1700000000000|create-a|adopted\n1700000000001|create-b|adopted",
		'node-pg-migrate: adopt: the numeric prefixes are the versions, the rest the names');
	is(sql('np',
			"SELECT string_agg(version || '=' || name || '=' || state, ' ' ORDER BY sort_key) "
			  . 'FROM migrate.migrations'),
		'1700000000000=create-a=applied 1700000000001=create-b=applied',
		'node-pg-migrate: recorded with their names');
	is(sql('np',
			'SELECT bool_and(m.applied_at = p.run_on::timestamptz) FROM migrate.migrations AS m '
			  . "JOIN pgmigrations AS p ON p.name = m.version || '_' || m.name"),
		't', 'node-pg-migrate: applied when node-pg-migrate ran them');
	nothing_ran('np', 'node-pg-migrate', 'adopt', 'np_a', 'np_b');
	is(table_rows('np', 'pgmigrations'), $before, 'node-pg-migrate: its table is the same after adopt');
	is(adopt('np', 'node-pg-migrate'),
		"1700000000000|create-a|already applied\n1700000000001|create-b|already applied",
		'node-pg-migrate: adopting again adopts nothing');

	is(sql('np', "SELECT migrate.apply('1700000000002', 'CREATE TABLE np_c (id int);', NULL, 'create-c')"),
		'applied', 'node-pg-migrate: the next migration applies');
	is(creations('np', 'np_c'), '1 1700000000002', 'node-pg-migrate: it ran, in its migration');
}

# ---- Sqitch -------------------------------------------------------------------------------
SKIP:
{
	my $d = "$root/sqitch";
	my %env = (
		SQITCH_FULLNAME => 'Test Runner',
		SQITCH_EMAIL => 'runner@example.com',
		SQITCH_USER_CONFIG => '/dev/null',
		SQITCH_SYSTEM_CONFIG => '/dev/null',
		PGDATABASE => 'sq');
	my ($ok, $out, $err) = run_in($d, \%env, 'sqitch', '--version');
	skip("Sqitch is not available (the Debian package sqitch): " . first_line($err), 15) unless $ok;
	($ok, $out, $err) = run_in($d, \%env, 'perl', '-MDBD::Pg', '-e', '1');
	skip("Sqitch cannot reach PostgreSQL without DBD::Pg (the Debian package libdbd-pg-perl): " . first_line($err), 15)
	  unless $ok;
	note("sqitch: $out$err");
	new_db('sq');
	my @steps = (
		[ 'init', 'flipr', '--engine', 'pg', '--target', 'db:pg:sq' ],
		[ 'add', 'create_a', '-n', 'Create a' ],
		[ 'add', 'create_b', '--requires', 'create_a', '-n', 'Create b' ],
		[ 'add', 'create_c', '-n', 'Create c' ]);
	for my $step (@steps)
	{
		($ok, $out, $err) = run_in($d, \%env, 'sqitch', @$step);
		die "sqitch @$step: $out\n$err" unless $ok;
	}
	for my $c ('a', 'b', 'c')
	{
		put("$d/deploy/create_$c.sql", "BEGIN;\nCREATE TABLE sq_$c (id int);\nCOMMIT;\n");
		put("$d/revert/create_$c.sql", "BEGIN;\nDROP TABLE sq_$c;\nCOMMIT;\n");
		put("$d/verify/create_$c.sql", "SELECT id FROM sq_$c WHERE false;\n");
	}
	($ok, $out, $err) = run_in($d, \%env, 'sqitch', 'deploy');
	ok($ok, 'sqitch: deploy exits 0') or diag("$out\n$err");
	($ok, $out, $err) = run_in($d, \%env, 'sqitch', 'revert', '-y', '--to', '@HEAD^');
	ok($ok, 'sqitch: revert of the last change exits 0') or diag("$out\n$err");
	is(sql('sq', "SELECT string_agg(change, ' ' ORDER BY committed_at) FROM sqitch.changes"),
		'create_a create_b', 'sqitch: two changes deployed, the third reverted');
	is(sql('sq', "SELECT to_regclass('sq_c') IS NULL"), 't', 'sqitch: the reverted change is gone');

	my $before = table_rows('sq', 'sqitch.changes');
	my $events = table_rows('sq', 'sqitch.events');
	is(adopt('sq', 'sqitch'), "create_a|create_a|adopted\ncreate_b|create_b|adopted",
		'sqitch: adopt: the deployed changes under their names, not the reverted one');
	is(states('sq'), 'create_a=applied create_b=applied', 'sqitch: both applied, create_c unknown');
	nothing_ran('sq', 'sqitch', 'adopt', 'sq_a', 'sq_b');
	is(table_rows('sq', 'sqitch.changes'), $before, 'sqitch: sqitch.changes is the same after adopt');
	is(table_rows('sq', 'sqitch.events'), $events, 'sqitch: sqitch.events is the same after adopt');
	is(adopt('sq', 'sqitch'), "create_a|create_a|already applied\ncreate_b|create_b|already applied",
		'sqitch: adopting again adopts nothing');

	# "add_d" sorts before create_a: Sqitch's names are no order, so no refusal
	is(sql('sq', "SELECT migrate.apply('add_d', 'CREATE TABLE sq_d (id int);')"),
		'applied', 'sqitch: a next migration applies (Sqitch-adopted rows are not in the order check)');
	is(sql('sq', "SELECT out_of_order FROM migrate.migrations WHERE version = 'add_d'"),
		'f', 'sqitch: the next migration is not out of order');
	is(creations('sq', 'sq_d'), '1 add_d', 'sqitch: it ran, in its migration');
}

# ---- Alembic ------------------------------------------------------------------------------
SKIP:
{
	my @alembic = split ' ', ($ENV{PG_MIGRATE_ALEMBIC} // '/usr/bin/python3 -m alembic');
	my $d = "$root/alembic";
	my ($ok, $out, $err) = run_in($d, {}, @alembic, '--version');
	skip("Alembic is not available (@alembic; the Debian package python3-alembic): " . first_line($err), 14)
	  unless $ok;
	note("alembic: $out");
	($ok, $out, $err) = run_in($d, {}, $alembic[0], '-c', 'import psycopg2');
	skip("Alembic cannot reach PostgreSQL without psycopg2 (the Debian package python3-psycopg2): " . first_line($err), 14)
	  unless $ok || $alembic[0] !~ /python/;
	new_db('al');
	($ok, $out, $err) = run_in($d, {}, @alembic, 'init', 'alembic');
	die "alembic init: $out\n$err" unless $ok;
	my $ini = slurp_file_raw("$d/alembic.ini");
	my $url = sprintf('postgresql+psycopg2://%s@/al?host=%s&port=%d', $user, $node->host, $node->port);
	$ini =~ s{^sqlalchemy\.url = .*$}{sqlalchemy.url = $url}m or die 'no sqlalchemy.url in alembic.ini';
	put("$d/alembic.ini", $ini);
	# revision ids that sort against the chain: only the order keys give the chain's order
	my @chain = ([ 'f00000000001', 'create a', 'al_a' ], [ 'b00000000002', 'create b', 'al_b' ],
		[ 'd00000000003', 'create c', 'al_c' ]);
	for my $r (@chain)
	{
		($ok, $out, $err) = run_in($d, {}, @alembic, 'revision', '-m', $r->[1], '--rev-id', $r->[0]);
		die "alembic revision: $out\n$err" unless $ok;
		my ($file) = glob("$d/alembic/versions/$r->[0]_*.py");
		my $py = slurp_file_raw($file);
		$py =~ s/def upgrade\(\) -> None:\n    pass/def upgrade() -> None:\n    op.create_table('$r->[2]', sa.Column('id', sa.Integer, primary_key=True))/
		  or die "no upgrade() in $file";
		$py =~ s/def downgrade\(\) -> None:\n    pass/def downgrade() -> None:\n    op.drop_table('$r->[2]')/;
		put($file, $py);
	}
	($ok, $out, $err) = run_in($d, {}, @alembic, 'upgrade', $chain[1][0]);
	ok($ok, 'alembic: upgrade to the second revision exits 0') or diag("$out\n$err");
	is(table_rows('al', 'alembic_version'), "1: ($chain[1][0])", 'alembic: its head is the second');
	is(sql('al', "SELECT to_regclass('al_c') IS NULL"), 't', 'alembic: the third did not run');

	my $key = 0;
	for my $r (@chain)
	{
		sql('al',
			sprintf("SELECT migrate.register(version => '%s', up_sql => 'CREATE TABLE %s (id integer PRIMARY KEY);', "
				  . "down_sql => 'DROP TABLE %s;', name => '%s', order_key => '%04d')",
				$r->[0], $r->[2], $r->[2], $r->[1] =~ s/ /_/r, ++$key));
	}
	my $before = table_rows('al', 'alembic_version');
	# (alembic_version holds no names: the result's name is the source's, so only the versions)
	is(adopt('al', 'alembic', 1), "b00000000002|adopted\nf00000000001|adopted",
		'alembic: adopt: the head, and the registered revision before it');
	is(sql('al', "SELECT string_agg(version || '=' || name, ' ' ORDER BY sort_key) FROM migrate.migrations"),
		'f00000000001=create_a b00000000002=create_b d00000000003=create_c',
		'alembic: the registered names are kept');
	is(states('al'), 'f00000000001=applied b00000000002=applied d00000000003=pending',
		'alembic: the first two applied (chain order), the third pending');
	nothing_ran('al', 'alembic', 'adopt,baseline', 'al_a', 'al_b');
	is(sql('al', "SELECT string_agg(version || ':' || (checksum IS NOT NULL), ' ' ORDER BY version) FROM migrate.status()"),
		'b00000000002:true d00000000003:true f00000000001:true',
		'alembic: the registered scripts are kept');
	is(table_rows('al', 'alembic_version'), $before, 'alembic: alembic_version is the same after adopt');

	is(sql('al', "SELECT string_agg(version, ' ') FROM migrate.apply()"), 'd00000000003',
		'alembic: apply() runs only the third');
	is(states('al'), 'f00000000001=applied b00000000002=applied d00000000003=applied',
		'alembic: all three applied');
	is(creations('al', 'al_c'), '1 d00000000003', 'alembic: the third ran, in its migration');
}

$node->stop;
done_testing();
