# pg_migrate, the client: one folder of every layout, each in a database of its own.
#
# For each layout (plain/Supabase, timestamp, updown = sqlx/golang-migrate, diesel, dbmate,
# Flyway, Alembic): status before (pending), up (in the tool's own order, with no option),
# status after (applied), up again (a no-op), down, new NAME (the folder's own convention),
# then up of the new migration. dbmate's files come from the real dbmate (`dbmate new`, npm)
# and the same folder applied by dbmate gives the same schema; Alembic's project from the real
# Alembic (python3-alembic): its own offline mode writes the SQL.
# Then what every layout shares: one transaction (a failing file leaves nothing), --per-migration,
# --dry-run, lint's exit status and file:line output, status of an edited, a missing and an
# out-of-order file, --json, DATABASE_URL and the libpq environment, steps after commit waited
# for, and every bad input: a missing folder, an unknown layout, two files for one version, a
# down without its up, a file that is not UTF-8, no connection, no extension, an older one.
# verify, plan and schema: a down script that does not undo its up script (exit 1, the
# differences), a plan with its locks and rewrites, the schema; nothing of them remains.
#
# Needs pg_migrate on PATH (make install puts it in PostgreSQL's bindir). MS_DBMATE: the dbmate
# binary (test/run_all.sh installs it from npm); PG_MIGRATE_ALEMBIC: how to run Alembic.
# Run as a non-root OS user with PostgreSQL::Test from PGXS (see test/run_all.sh --suite tap).

use strict;
use warnings;

use File::Path qw(make_path remove_tree);
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use MsFiles;  # put, slurp_file_raw
use MsQuery;  # query_ok on a background psql session

my $node = PostgreSQL::Test::Cluster->new('client');
$node->init;
$node->start;
my $root = PostgreSQL::Test::Utils::tempdir;

sub new_db
{
	my ($db, $version) = @_;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db,
		'CREATE EXTENSION migrations_schema' . ($version ? " VERSION '$version'" : ''));
}

# pg_migrate -d <db> ARGS: (exit status, stdout, stderr).
sub pgm
{
	my ($db, @args) = @_;
	my ($out, $err) = ('', '');
	my @cmd = ('pg_migrate', (defined $db ? ('-d', $node->connstr($db)) : ()), @args);
	IPC::Run::run(\@cmd, '<', \undef, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

sub states
{
	my ($db) = @_;
	return $node->safe_psql($db,
		"SELECT string_agg(version || '=' || state, ' ' ORDER BY sort_key) FROM migrate.migrations");
}

sub history_count
{
	my ($db) = @_;
	return $node->safe_psql($db, 'SELECT count(*) FROM migrate.history');
}

# The common life of a folder: status, up, status, up again, down.
sub life
{
	my ($db, $dir, $layout, $order) = @_;
	my ($rc, $out, $err) = pgm($db, '--dir', $dir, 'status');
	is($rc, 0, "$layout: status before up exits 0");
	like($out, qr/$layout layout, .*pending/, "$layout: status before up: pending");
	($rc, $out, $err) = pgm($db, '--dir', $dir, 'up');
	is($rc, 0, "$layout: up exits 0") or diag($err);
	is(states($db), join(' ', map { "$_=applied" } @$order),
		"$layout: every migration applied, in the tool's order");
	($rc, $out, $err) = pgm($db, '--dir', $dir, 'status');
	is($rc, 0, "$layout: status after up exits 0");
	unlike($out, qr/pending/, "$layout: nothing pending after up");
	my $h = history_count($db);
	($rc, $out, $err) = pgm($db, '--dir', $dir, 'up');
	is($rc, 0, "$layout: up again exits 0");
	like($out, qr/^0 migrations applied/m, "$layout: up again applies nothing");
	is(history_count($db), $h, "$layout: up again records nothing");
	($rc, $out, $err) = pgm($db, '--dir', $dir, 'down');
	is($rc, 0, "$layout: down exits 0") or diag($err);
	like($out, qr/^rolled back $order->[-1]\b/m, "$layout: down rolls back the newest");
	is(states($db),
		join(' ',
			(map { "$_=applied" } @$order[ 0 .. $#$order - 1 ]),
			"$order->[-1]=rolled back"),
		"$layout: the newest is rolled back, the rest stays");
	return;
}

# `new NAME`: the created files (names relative to $dir), filled with $sql and applied.
sub new_and_up
{
	my ($db, $dir, $layout, $pattern, $sql) = @_;
	my ($rc, $out, $err) = pgm(undef, '--dir', $dir, 'new', 'add_things');
	is($rc, 0, "$layout: new exits 0") or diag($err);
	my @made = $out =~ /^created (.*)$/mg;
	my @rel = map { my $p = $_; $p =~ s{^\Q$dir\E/?}{}; $p } @made;
	like(join(' ', @rel), $pattern, "$layout: new creates the folder's own convention");
	return @made;
}

# ---- plain (Supabase): NNN_name.sql, 005a between 005 and 006, no down -----------------
{
	my $d = "$root/plain";
	put("$d/001_accounts.sql", "CREATE TABLE accounts (id int PRIMARY KEY);\n");
	put("$d/005_orders.sql", "CREATE TABLE orders (id int PRIMARY KEY, account int REFERENCES accounts);\n");
	put("$d/005a_lines.sql", "CREATE TABLE lines (order_id int REFERENCES orders);\n");
	put("$d/006_totals.sql", "CREATE VIEW totals AS SELECT order_id, count(*) FROM lines GROUP BY 1;\n");
	put("$d/README.md", "not a migration\n");
	new_db('plain');
	my ($rc, $out, $err) = pgm('plain', '--dir', $d, 'up');
	is($rc, 0, 'plain: up exits 0') or diag($err);
	is(states('plain'), '001=applied 005=applied 005a=applied 006=applied',
		'plain: 005 < 005a < 006');
	($rc, $out, $err) = pgm('plain', '--dir', $d, 'down');
	is($rc, 1, 'plain: down without a down script exits 1');
	like($err, qr{006_totals\.sql: ERROR 55000: migration 006 \(totals\) has no down script},
		'plain: the refusal names the file');
	like(states('plain'), qr/006=applied/, 'plain: nothing rolled back');
	my @made = new_and_up('plain', $d, 'plain', qr/^007_add_things\.sql$/);
	put($made[0], "ALTER TABLE accounts ADD COLUMN note text;\n");
	($rc, $out, $err) = pgm('plain', '--dir', $d, 'up');
	like($out, qr/^applied 007 add_things/m, 'plain: the new migration applies');
}

# ---- timestamp: YYYYMMDDHHMMSS_name.sql with a _down.sql or .down.sql partner ----------
{
	my $d = "$root/timestamp";
	put("$d/20240101000000_users.sql", "CREATE TABLE users (id int);\n");
	put("$d/20240101000000_users_down.sql", "DROP TABLE users;\n");
	put("$d/20240102000000_posts.sql", "CREATE TABLE posts (id int);\n");
	put("$d/20240102000000_posts.down.sql", "DROP TABLE posts;\n");
	new_db('ts');
	life('ts', $d, 'timestamp', [ '20240101000000', '20240102000000' ]);
	is($node->safe_psql('ts', "SELECT to_regclass('posts') IS NULL"), 't',
		'timestamp: the .down.sql partner ran');
	my @made = new_and_up('ts', $d, 'timestamp',
		qr/^(\d{14})_add_things\.sql \1_add_things\.down\.sql$/);
}

# ---- updown (sqlx, golang-migrate): numeric order, -- no-transaction ------------------
{
	my $d = "$root/updown";
	put("$d/1_users.up.sql", "CREATE TABLE users (id int PRIMARY KEY, email text);\n");
	put("$d/1_users.down.sql", "DROP TABLE users;\n");
	put("$d/2_posts.up.sql", "CREATE TABLE posts (id int, author int REFERENCES users);\n");
	put("$d/2_posts.down.sql", "DROP TABLE posts;\n");
	put("$d/10_email_idx.up.sql",
		"-- no-transaction\nCREATE INDEX CONCURRENTLY users_email ON users (email);\n");
	put("$d/10_email_idx.down.sql", "-- no-transaction\nDROP INDEX CONCURRENTLY users_email;\n");
	new_db('ud');
	life('ud', $d, 'updown', [ '1', '2', '10' ]);
	is($node->safe_psql('ud', "SELECT to_regclass('users_email') IS NULL"), 't',
		'updown: the CONCURRENTLY down step ran before down returned');
	my ($rc, $out, $err) = pgm('ud', '--dir', $d, 'up');
	is($node->safe_psql('ud',
			"SELECT indisvalid FROM pg_index WHERE indexrelid = 'users_email'::regclass"),
		't', 'updown: the CONCURRENTLY step ran before up returned, the index is valid');
	new_and_up('ud', $d, 'updown', qr/^11_add_things\.up\.sql 11_add_things\.down\.sql$/);
}

# ---- diesel: VERSION_name/up.sql, string order of dash-stripped versions -----------------
{
	my $d = "$root/diesel";
	# 201706080000000000 (18 digits) before 20180101000000 (14): diesel's string order,
	# which the natural order would reverse
	put("$d/00000000000000_diesel_initial_setup/up.sql", "CREATE TABLE setup (id int);\n");
	put("$d/00000000000000_diesel_initial_setup/down.sql", "DROP TABLE setup;\n");
	put("$d/2017-06-08-000000-0000_crates/up.sql", "CREATE TABLE crates (id int PRIMARY KEY);\n");
	put("$d/2017-06-08-000000-0000_crates/down.sql", "DROP TABLE crates;\n");
	put("$d/2018-01-01-000000_versions/up.sql",
		"CREATE TABLE versions (crate int REFERENCES crates);\n");
	put("$d/2018-01-01-000000_versions/down.sql", "DROP TABLE versions;\n");
	put("$d/2018-01-02-000000_idx/up.sql", "CREATE INDEX CONCURRENTLY crates_id2 ON crates (id);\n");
	put("$d/2018-01-02-000000_idx/down.sql", "DROP INDEX CONCURRENTLY crates_id2;\n");
	put("$d/2018-01-02-000000_idx/metadata.toml", "run_in_transaction = false\n");
	new_db('diesel');
	life('diesel', $d, 'diesel',
		[ '00000000000000', '201706080000000000', '20180101000000', '20180102000000' ]);
	is($node->safe_psql('diesel',
			"SELECT count(*) FROM migrate.migrations WHERE out_of_order"),
		'0', 'diesel: nothing out of order, with no option');
	new_and_up('diesel', $d, 'diesel', qr{^\d{4}-\d\d-\d\d-\d{6}_add_things/up\.sql \S+/down\.sql$});
}

# ---- dbmate: -- migrate:up / -- migrate:down sections, files from dbmate itself --------
{
	my $d = "$root/dbmate";
	make_path($d);
	my $dbmate = $ENV{MS_DBMATE} // '';
	my @files;
	if ($dbmate && -x $dbmate)
	{
		for my $n ('create_users', 'add_email')
		{
			my ($o, $e) = ('', '');
			IPC::Run::run([ $dbmate, '--migrations-dir', $d, 'new', $n ], '>', \$o, '2>', \$e)
			  or die "dbmate new: $e";
			sleep 1;    # dbmate's versions are seconds
		}
		@files = sort glob("$d/*.sql");
		like(slurp_file_raw($files[0]), qr/^-- migrate:up\n.*-- migrate:down\n/s,
			'dbmate: dbmate new writes the sections');
	}
	else
	{
		note('dbmate is not available (MS_DBMATE): the files are written by hand');
		@files = ("$d/20240101000000_create_users.sql", "$d/20240101000001_add_email.sql");
	}
	put($files[0], "-- migrate:up\nCREATE TABLE users (id int, email text);\n\n-- migrate:down\n"
		  . "DROP TABLE users;\n");
	# (dbmate sends a section as one query string: CONCURRENTLY must be alone in its own)
	put($files[1], "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY users_email ON users (email);\n\n"
		  . "-- migrate:down transaction:false\nDROP INDEX CONCURRENTLY users_email;\n");
	my @versions = map { m{/(\d+)_} ? $1 : () } @files;
	new_db('dbmate');
	life('dbmate', $d, 'dbmate', \@versions);
	my ($rc, $out, $err) = pgm('dbmate', '--dir', $d, 'up');
	if ($dbmate && -x $dbmate)
	{
		# the same folder applied by dbmate itself: the same schema
		$node->safe_psql('postgres', 'CREATE DATABASE dbmate_ref');
		my $url = sprintf('postgres://%s@/dbmate_ref?socket=%s&port=%d&sslmode=disable',
			scalar getpwuid($<), $node->host, $node->port);
		my ($o, $e) = ('', '');
		IPC::Run::run([ $dbmate, '--url', $url, '--migrations-dir', $d, '--no-dump-schema', 'up' ],
			'>', \$o, '2>', \$e)
		  or diag("dbmate up: $e");
		my $dump = sub {
			my ($db) = @_;
			my $s = $node->safe_psql($db,
				"SELECT string_agg(table_name || '.' || column_name || ':' || data_type, ',' "
				  . "ORDER BY table_name, column_name) FROM information_schema.columns "
				  . "WHERE table_schema = 'public' AND table_name <> 'schema_migrations'");
			$s .= ' ' . $node->safe_psql($db,
				"SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes "
				  . "WHERE schemaname = 'public' AND tablename <> 'schema_migrations'");
			return $s;
		};
		is($dump->('dbmate'), $dump->('dbmate_ref'), 'dbmate: the same schema as dbmate gives');
	}
	my @made = new_and_up('dbmate', $d, 'dbmate', qr/^\d{14}_add_things\.sql$/);
	like(slurp_file_raw($made[0]), qr/^-- migrate:up\n/, 'dbmate: new writes the sections');
}

# dbmate files with CRLF line endings, and two files for one version
{
	my $d = "$root/dbmate_crlf";
	put("$d/20240101000000_a.sql", "-- migrate:up\r\nCREATE TABLE crlf (id int);\r\n-- migrate:down\r\nDROP TABLE crlf;\r\n");
	new_db('dbmate_crlf');
	my ($rc, $out, $err) = pgm('dbmate_crlf', '--dir', $d, 'up');
	is($rc, 0, 'dbmate: CRLF line endings') or diag($err);
	($rc, $out, $err) = pgm('dbmate_crlf', '--dir', $d, 'down');
	is($rc, 0, 'dbmate: CRLF down section') or diag($err);
	put("$d/20240101000000_b.sql", "-- migrate:up\nSELECT 1;\n");
	($rc, $out, $err) = pgm('dbmate_crlf', '--dir', $d, 'up');
	is($rc, 2, 'dbmate: two files for one version are refused');
	like($err, qr/version 20240101000000 is also the version of/, 'dbmate: two files: named');
	# a database ordered by version, then a dbmate folder: order keys refused, --natural-order
	unlink("$d/20240101000000_b.sql");
	new_db('natorder');
	$node->safe_psql('natorder', "SELECT migrate.apply('1', 'SELECT 1')");
	($rc, $out, $err) = pgm('natorder', '--dir', $d, 'up');
	is($rc, 1, 'order keys in a database ordered by version: refused');
	like($err, qr/--natural-order/, 'the hint names --natural-order');
	($rc, $out, $err) = pgm('natorder', '--dir', $d, '--natural-order', 'up');
	is($rc, 0, '--natural-order registers without order keys') or diag($err);
}

# ---- Flyway: V<version>__name.sql, U<version>__name.sql, R__name.sql ------------------
{
	my $d = "$root/flyway";
	put("$d/V1__users.sql", "CREATE TABLE users (id int);\n");
	put("$d/V1.1__a.sql", "ALTER TABLE users ADD COLUMN a int;\n");
	put("$d/V1.2__b.sql", "ALTER TABLE users ADD COLUMN b int;\n");
	put("$d/V1.10__c.sql", "ALTER TABLE users ADD COLUMN c int;\n");
	put("$d/U1.10__c.sql", "ALTER TABLE users DROP COLUMN c;\n");
	put("$d/R__view.sql", "CREATE OR REPLACE VIEW v AS SELECT 1;\n");
	new_db('flyway');
	life('flyway', $d, 'flyway', [ '1', '1.1', '1.2', '1.10' ]);
	my ($rc, $out, $err) = pgm('flyway', '--dir', $d, 'status');
	like($out, qr/^repeatable view: applied$/m,
		'flyway: the repeatable migration ran with up (status lists it)');
	new_and_up('flyway', $d, 'flyway', qr/^V1\.11__add_things\.sql$/);
}

# ---- Alembic: alembic.ini + versions/, SQL from Alembic's offline mode ------------------
SKIP:
{
	my $alembic = $ENV{PG_MIGRATE_ALEMBIC} // 'alembic';
	my $d = "$root/alembic";
	make_path($d);
	my ($o, $e) = ('', '');
	my $ok = IPC::Run::run([ 'bash', '-c', "cd '$d' && $alembic init alembic" ],
		'>', \$o, '2>', \$e);
	skip("Alembic is not available ($alembic): $e", 6) unless $ok;
	my $ini = slurp_file_raw("$d/alembic.ini");
	$ini =~ s{^sqlalchemy\.url = .*$}{sqlalchemy.url = postgresql://localhost/unused}m;
	put("$d/alembic.ini", $ini);
	my @revs;
	for my $m ([ 'create account', "op.create_table('account', sa.Column('id', sa.Integer, primary_key=True))", "op.drop_table('account')" ],
		[ 'add note', "op.add_column('account', sa.Column('note', sa.Text))", "op.drop_column('account', 'note')" ])
	{
		my ($rc, $out, $err) = pgm(undef, '--dir', $d, 'new', $m->[0] =~ s/ /_/r);
		is($rc, 0, "alembic: new runs alembic revision") or diag($err);
		my ($file) = $out =~ /^created (\S+)$/m;
		my $py = slurp_file_raw($file);
		$py =~ s/def upgrade\(\) -> None:\n    pass/def upgrade() -> None:\n    $m->[1]/;
		$py =~ s/def downgrade\(\) -> None:\n    pass/def downgrade() -> None:\n    $m->[2]/;
		put($file, $py);
		push @revs, $py =~ /^revision = '(\w+)'/m;
	}
	new_db('alembic');
	life('alembic', $d, 'alembic', \@revs);
	is($node->safe_psql('alembic', "SELECT to_regclass('alembic_version') IS NULL"), 't',
		"alembic: Alembic's own version table is left out");
}

# ---- what every layout shares ----------------------------------------------------------
my $shared = "$root/shared";
put("$shared/001_a.sql", "CREATE TABLE a (id int);\n");
put("$shared/002_b.sql", "CREATE TABLE b (id int);\n");
put("$shared/003_c.sql", "CREATE TABLE c (id int);\nCREATE TABLE c2 (id intt);\n");
new_db('shared');
{
	my ($rc, $out, $err) = pgm('shared', '--dir', $shared, 'up');
	is($rc, 1, 'a failing file: up exits 1');
	like($err, qr{003_c\.sql:2: ERROR 42704: type "intt" does not exist},
		'a failing file: the error names the file and its line');
	like($err, qr/nothing was applied/, 'a failing file: says nothing was applied');
	is($node->safe_psql('shared', 'SELECT count(*) FROM migrate.migrations'), '0',
		'a failing file: nothing registered, nothing applied (one transaction)');
	($rc, $out, $err) = pgm('shared', '--dir', $shared, '--per-migration', 'up');
	is($rc, 1, '--per-migration: exits 1 at the failing file');
	is(states('shared'), '001=applied 002=applied 003=pending',
		'--per-migration: what came before it is applied');
	like($err, qr/2 migration\(s\) were applied and committed before it/,
		'--per-migration: says what stays');
	($rc, $out, $err) = pgm('shared', '--dir', $shared, '--per-migration', '--dry-run', 'up');
	is($rc, 2, '--per-migration with --dry-run is refused (a dry run is one transaction)');
	put("$shared/003_c.sql", "CREATE TABLE c (id int);\n");
	($rc, $out, $err) = pgm('shared', '--dir', $shared, '--dry-run', 'up');
	like($out, qr/dry run: 1 migration applied .*rolled back/, '--dry-run: says what it did');
	is(states('shared'), '001=applied 002=applied 003=pending', '--dry-run: nothing stays');
	($rc, $out, $err) = pgm('shared', '--dir', $shared, '--to', '002', 'up');
	like($out, qr/^0 migrations applied/m, '--to: nothing beyond the target');
	# --to 3: not spelled so in the folder; the database resolves it (003's natural place)
	($rc, $out, $err) = pgm('shared', '--dir', $shared, '--json', '--per-migration', '--to', '3', 'up');
	is($rc, 0, '--to: a version the folder does not spell goes to the database') or diag($err);
	my $j = decode_json($out);
	is_deeply([ map { $_->{version} } @{ $j->{migrations} } ], ['003'], '--json up: what it applied');
	unlike($err, qr/no transaction in progress/, '--per-migration: no stray COMMIT');

	# status: edited, missing, out of order
	put("$shared/002_b.sql", "CREATE TABLE b (id bigint);\n");
	put("$shared/000_zero.sql", "CREATE TABLE zero (id int);\n");
	rename("$shared/001_a.sql", "$root/001_a.sql");
	($rc, $out, $err) = pgm('shared', '--dir', $shared, 'status');
	is($rc, 1, 'status: exits 1 when a file is edited, missing or out of order');
	like($out, qr/^002 +applied +b  -- edited since it was applied$/m, 'status: edited');
	like($out, qr/^001 +applied +a  -- file missing$/m, 'status: file missing');
	like($out, qr/^000 +pending +zero  -- .*out of order/m, 'status: out of order');
	($rc, $out, $err) = pgm('shared', '--dir', $shared, '--json', 'status');
	$j = decode_json($out);
	is(scalar(grep { $_->{problem} } @{ $j->{migrations} }), 3, '--json status: three problems');
	($rc, $out, $err) = pgm('shared', '--dir', $shared, 'up');
	is($rc, 1, 'up refuses an edited file');
	like($err, qr{002_b\.sql: ERROR 55000: migration 002 was edited after it was applied},
		'the database refuses the edited file, named');
	put("$shared/002_b.sql", "CREATE TABLE b (id int);\n");
	($rc, $out, $err) = pgm('shared', '--dir', $shared, 'up');
	is($rc, 1, 'up refuses a file older than the newest applied one');
	like($err, qr{000_zero\.sql: ERROR 55000: .*older than the newest applied migration 003},
		'the database says why; the file out of order is named');
	($rc, $out, $err) = pgm('shared', '--dir', $shared, '--json', 'up');
	$j = decode_json($out);
	is($j->{error}{sqlstate}, '55000', '--json: an error is a JSON object too');
	# a pending file the database refuses does not stand in the way of a rollback
	put("$shared/009_broken.sql", "CREATE TABLEE x (id int);\n");
	# (plain files have no down script: the rollback itself is refused, for that reason only)
	($rc, $out, $err) = pgm('shared', '--dir', $shared, '--dry-run', 'down');
	like($err, qr/003_c\.sql: ERROR 55000: migration 003 \(c\) has no down script/,
		'down with a broken pending file in the folder: the file is not sent');
	unlike($err, qr/009_broken/, 'down: the broken pending file is not named');
	unlink("$shared/009_broken.sql");
	unlink("$shared/000_zero.sql");
	rename("$root/001_a.sql", "$shared/001_a.sql");

	# lint: file:line: severity rule message; exit 1 on an error
	$node->safe_psql('shared', 'INSERT INTO a SELECT generate_series(1, 1000); ANALYZE a');
	put("$shared/004_drop.sql", "SELECT 1;\n\nDROP TABLE a;\n");
	($rc, $out, $err) = pgm('shared', '--dir', $shared, 'lint');
	is($rc, 1, 'lint exits 1 on an error-level finding');
	like($out, qr{004_drop\.sql:3: error B402 drop-table: }, 'lint: file:line: severity rule');
	($rc, $out, $err) = pgm('shared', '--dir', $shared, '--json', 'lint');
	$j = decode_json($out);
	is($j->{errors}, 1, '--json lint: one error');
	put("$shared/004_drop.sql", "SELECT 1;\nCREATE INDEXX a_id ON a (id);\n");
	($rc, $out, $err) = pgm('shared', '--dir', $shared, 'lint');
	is($rc, 1, 'lint exits 1 on a script the database cannot lint');
	like($out, qr{004_drop\.sql:2: error 42601 unusable-script: syntax error}, 'lint: names the file and line');
	put("$shared/004_drop.sql", "CREATE INDEX a_id ON a (id);\n");
	($rc, $out, $err) = pgm('shared', '--dir', $shared, 'lint');
	is($rc, 0, 'lint exits 0 without an error-level finding');

	# connection: DATABASE_URL, then the libpq environment
	my $url = sprintf('postgresql:///shared?host=%s&port=%d', $node->host, $node->port);
	{
		local $ENV{DATABASE_URL} = $url;
		($rc, $out, $err) = pgm(undef, '--dir', $shared, 'status');
		is($rc, 0, 'DATABASE_URL connects') or diag($err);
		($rc, $out, $err) = pgm('bare', '--dir', $shared, 'status');
		is($rc, 3, '-d wins over DATABASE_URL');
	}
	{
		local $ENV{PGDATABASE} = 'shared';
		local $ENV{PGHOST} = $node->host;
		local $ENV{PGPORT} = $node->port;
		($rc, $out, $err) = pgm(undef, '--dir', $shared, 'status');
		is($rc, 0, 'the libpq environment connects') or diag($err);
	}
}

# ---- a step that fails after commit: up fails, status says where --------------------------
{
	new_db('stepfail');
	my $d = "$root/stepfail";
	put("$d/1_t.up.sql", "CREATE TABLE t (id int);\nINSERT INTO t VALUES (1), (1);\n");
	put("$d/1_t.down.sql", "DROP TABLE t;\n");
	put("$d/2_u.up.sql", "CREATE UNIQUE INDEX CONCURRENTLY t_u ON t (id);\n");
	put("$d/2_u.down.sql", "DROP INDEX CONCURRENTLY t_u;\n");
	my ($rc, $out, $err) = pgm('stepfail', '--dir', $d, 'up');
	is($rc, 1, 'a failing step: up exits 1');
	like($err, qr/ERROR 55000: migration 2 failed at step 1 of its up script: 23505/,
		'a failing step: the error of the step');
	($rc, $out, $err) = pgm('stepfail', '--dir', $d, 'status');
	is($rc, 1, 'a failing step: status exits 1');
	like($out, qr/^2 +failed +u  -- step 1 .*23505/m, 'a failing step: status says where and why');
	($rc, $out, $err) = pgm('stepfail', '--dir', $d, 'up');
	is($rc, 1, 'a failing step: the next up says so too');
	is($node->safe_psql('stepfail',
			"SELECT count(*) FROM pg_index WHERE NOT indisvalid"), '0', 'a failing step: no INVALID index');
}

# ---- a deploy role with the grants of the README, not a superuser ------------------------
{
	new_db('deploy');
	$node->safe_psql('deploy', <<'SQL');
CREATE ROLE deploy LOGIN;
CREATE SCHEMA app AUTHORIZATION deploy;
GRANT USAGE ON SCHEMA migrate TO deploy;
GRANT EXECUTE ON FUNCTION migrate.apply(text, text, text, text, boolean, text[], boolean),
                          migrate.register(text, text, text, text, text),
                          migrate.apply(text, boolean, text[], boolean),
                          migrate.rollback(integer, text[]),
                          migrate.rollback(text, text[]), migrate.retry(text),
                          migrate.lint(text), migrate.lint_rules(),
                          migrate.status(), migrate.checksum(text),
                          migrate.compare_script(text, text) TO deploy;
GRANT EXECUTE ON PROCEDURE migrate.wait(text, interval) TO deploy;
GRANT SELECT ON migrate.migrations, migrate.steps, migrate.repeatables TO deploy;
SQL
	my $d = "$root/deploy";
	put("$d/1_t.up.sql", "CREATE TABLE app.t (id int);\n");
	put("$d/1_t.down.sql", "DROP TABLE app.t;\n");
	put("$d/2_i.up.sql", "CREATE INDEX CONCURRENTLY t_id ON app.t (id);\n");
	put("$d/2_i.down.sql", "DROP INDEX CONCURRENTLY app.t_id;\n");
	my $conn = $node->connstr('deploy') . ' user=deploy';
	my $run = sub {
		my ($out, $err) = ('', '');
		IPC::Run::run([ 'pg_migrate', '-d', $conn, '--dir', $d, @_ ], '<', \undef, '>', \$out,
			'2>', \$err);
		return ($? >> 8, $out, $err);
	};
	my ($rc, $out, $err) = $run->('up');
	is($rc, 0, 'a deploy role: up (with a step after commit)') or diag($err);
	is($node->safe_psql('deploy',
			"SELECT string_agg(applied_by || ':' || state, ',' ORDER BY version) FROM migrate.migrations"),
		'deploy:applied,deploy:applied', 'a deploy role: applied as that role');
	($rc, $out, $err) = $run->('status');
	is($rc, 0, 'a deploy role: status') or diag($err);
	($rc, $out, $err) = $run->('lint');
	is($rc, 0, 'a deploy role: lint') or diag($err);
	($rc, $out, $err) = $run->('down', '2');
	is($rc, 0, 'a deploy role: down') or diag($err);
}

# ---- verify, plan, schema: scripts run, then rolled back; nothing remains --------------
{
	new_db('inspect');
	$node->safe_psql('inspect',
		'CREATE TABLE base (id int); INSERT INTO base SELECT generate_series(1, 1000)');
	my $d = "$root/inspect";
	put("$d/1_good.up.sql", "CREATE TABLE good (id int PRIMARY KEY, note text DEFAULT 'x');\n");
	put("$d/1_good.down.sql", "DROP TABLE good;\n");
	# the down script forgets the index and restores the default wrongly
	put("$d/2_bad.up.sql",
		"CREATE INDEX base_id ON base (id);\nALTER TABLE base ALTER COLUMN id SET DEFAULT 0;\n");
	put("$d/2_bad.down.sql", "ALTER TABLE base ALTER COLUMN id SET DEFAULT 1;\n");
	my $schema = $node->safe_psql('inspect', 'SELECT migrate.schema()');
	my $h = history_count('inspect');
	my $left = sub {
		my ($what) = @_;
		is($node->safe_psql('inspect', 'SELECT count(*) FROM migrate.migrations'), '0',
			"$what: no migration registered");
		is(history_count('inspect'), $h, "$what: no history row");
		is($node->safe_psql('inspect', 'SELECT migrate.schema()'), $schema,
			"$what: the schema is the same");
	};
	my ($rc, $out, $err) = pgm('inspect', '--dir', $d, 'verify');
	is($rc, 1, 'verify: exits 1 when a down script does not undo its up script') or diag($err);
	like($out, qr/^1 +reversible, rerunnable +good$/m, 'verify: the reversible one');
	like($out, qr/^2 +not reversible\b.* bad\b/m, 'verify: names the bad one');
	like($out, qr/^    down: index \S*base_id exists: false -> true$/m,
		'verify: the index the down script forgot');
	like($out, qr/^    down: column \S*base\.id default: \(none\) -> 1$/m,
		'verify: the default it restored wrongly');
	like($out, qr/^2 migrations verified, 1 with a problem; rolled back/m, 'verify: the summary');
	$left->('verify');
	($rc, $out, $err) = pgm('inspect', '--dir', $d, '--json', 'verify');
	is($rc, 1, '--json verify: exits 1 too');
	my $j = decode_json($out);
	my %v = map { $_->{version} => $_ } @{ $j->{migrations} };
	ok($v{1}{reversible} && $v{1}{rerunnable} && !$v{1}{problem}, '--json verify: 1 is reversible');
	ok(!$v{2}{reversible} && $v{2}{problem}, '--json verify: 2 is not');
	like($v{2}{file}, qr{2_bad\.up\.sql$}, '--json verify: the file');
	ok((grep { ($_->{object} // '') =~ /base_id/ } @{ $v{2}{differences} }),
		'--json verify: the differences, as the database gives them');
	is($j->{problems}, 1, '--json verify: one problem');
	($rc, $out, $err) = pgm('inspect', '--dir', $d, '--quiet', 'verify');
	is($rc, 1, '--quiet verify: exits 1 too');
	unlike($out, qr/good|verified/, '--quiet verify: only the problems');
	like($out, qr/^2 +not reversible/m, '--quiet verify: the problem');
	($rc, $out, $err) = pgm('inspect', '--dir', $d, 'verify', '1');
	is($rc, 0, 'verify V: exits 0 for a reversible one') or diag($err);
	is(scalar(() = $out =~ /^\S+ +(?:not )?reversible/mg), 1, 'verify V: that one only');
	($rc, $out, $err) = pgm('inspect', '--dir', $d, 'verify', '2');
	is($rc, 1, 'verify V: exits 1 for the bad one');
	($rc, $out, $err) = pgm('inspect', '--dir', $d, 'verify', '9');
	is($rc, 1, 'verify V: a version that is not known exits 1');
	like($err, qr/ERROR 42704: /, "verify V: the database's error, with its SQLSTATE");
	$left->('verify V');

	# plan: a volatile default on a table with rows rewrites it under ACCESS EXCLUSIVE
	my $p = "$root/plan";
	put("$p/1_col.up.sql", "SELECT 1;\n\nALTER TABLE base ADD COLUMN r float8 DEFAULT random();\n");
	put("$p/1_col.down.sql", "ALTER TABLE base DROP COLUMN r;\n");
	($rc, $out, $err) = pgm('inspect', '--dir', $p, 'plan');
	is($rc, 0, 'plan exits 0') or diag($err);
	like($out, qr{1_col\.up\.sql:3: ALTER TABLE \(}, 'plan: file:line of the statement');
	like($out, qr/^    locks: .*\bbase (?:AccessExclusiveLock|ACCESS EXCLUSIVE)/m,
		'plan: the ACCESS EXCLUSIVE lock');
	like($out, qr/^    rewrites: \S*base$/m, 'plan: the rewrite');
	like($out, qr/^2 statements of 1 migration planned in .*rolled back/m, 'plan: the summary');
	($rc, $out, $err) = pgm('inspect', '--dir', $p, '--json', 'plan');
	$j = decode_json($out);
	my ($alter) = grep { $_->{command} eq 'ALTER TABLE' } @{ $j->{statements} };
	ok((grep { $_->{relation} =~ /base/ && $_->{mode} =~ /AccessExclusive|ACCESS EXCLUSIVE/ }
			@{ $alter->{locks} }), '--json plan: the lock');
	ok((grep { /base/ } @{ $alter->{rewrites} }), '--json plan: the rewrite');
	is($alter->{file_line}, 3, '--json plan: the line in the file');
	is($node->safe_psql('inspect',
			"SELECT count(*) FROM pg_attribute WHERE attrelid = 'base'::regclass AND attname = 'r'"),
		'0', 'plan: the column is not there');
	$left->('plan');
	($rc, $out, $err) = pgm('inspect', '--dir', $p, 'plan', '--to', '7');
	is($rc, 1, 'plan --to a version that is not known: exits 1');
	like($err, qr/ERROR 42704: /, 'plan --to: the database says why');
	put("$p/2_broken.up.sql", "CREATE TABLE broken (id intt);\n");
	put("$p/2_broken.down.sql", "DROP TABLE broken;\n");
	($rc, $out, $err) = pgm('inspect', '--dir', $p, 'plan');
	is($rc, 1, 'plan: exits 1 when a statement fails');
	like($out,
		qr{2_broken\.up\.sql:1: CREATE TABLE .*\n(?:    .*\n)*?    error: 42704: type "intt" does not exist}m,
		'plan: the failing statement and its error');
	$left->('a failed plan');
	($rc, $out, $err) = pgm('inspect', '--dir', $p, '--quiet', 'plan');
	is($rc, 1, '--quiet plan: exits 1');
	like($out, qr{\A\S*2_broken\.up\.sql:1: CREATE TABLE \([^\n]*\)\n    error: 42704: [^\n]*\n\z},
		'--quiet plan: the failing statement and its error only');
	($rc, $out, $err) = pgm('inspect', '--dir', $p, 'plan', '--to', '1');
	is($rc, 0, 'plan --to a version of the folder: exits 0') or diag($err);
	like($out, qr/^2 statements of 1 migration planned in /m, 'plan --to: up to that one only');
	unlike($out, qr/broken/, 'plan --to: not the one after it');
	$left->('plan --to');

	# plan: a statement whose lock another session holds gets the 55P03 and the session it
	# would wait for, with --quiet too; nothing changes
	{
		my $holder = $node->background_psql('inspect', on_error_stop => 0);
		query_ok($holder, "SET application_name = 'holder';");
		query_ok($holder, 'BEGIN;');
		query_ok($holder, 'SELECT count(*) FROM base;');
		local $ENV{PGOPTIONS} =
		  '-c migrations_schema.lock_timeout=200 -c migrations_schema.lock_retries=0';
		($rc, $out, $err) = pgm('inspect', '--dir', $p, '--quiet', 'plan', '--to', '1');
		is($rc, 1, 'plan, a lock another session holds: exits 1');
		like(
			$out,
			qr{\A\S*1_col\.up\.sql:3: ALTER TABLE \([^\n]*\)\n    error: 55P03: [^\n]*AccessExclusiveLock on relation \S*base not granted[^\n]*\n    waits for pid \d+ \(\S+, holder, idle in transaction since [^)]+\) holds AccessShareLock on \S*base: SELECT count\(\*\) FROM base;?\n\z},
			'--quiet plan: the blocked statement, its error and the session it waits for');
		query_ok($holder, 'COMMIT;');
		$holder->quit;
		$left->('a blocked plan');
	}

	# schema: exactly migrate.schema(), and needs no folder
	($rc, $out, $err) = pgm('inspect', 'schema');
	is($rc, 0, 'schema exits 0') or diag($err);
	is($out, $schema, 'schema prints migrate.schema()');
	# from a directory with no ./migrations
	my $cwd = "$root/no_folder_here";
	mkdir $cwd or die "mkdir $cwd: $!";
	my ($sout, $serr) = ('', '');
	IPC::Run::run([ 'pg_migrate', '-d', $node->connstr('inspect'), 'schema' ],
		'<', \undef, '>', \$sout, '2>', \$serr, init => sub { chdir $cwd or die "chdir: $!" });
	is($? >> 8, 0, 'schema needs no folder') or diag($serr);
	is($sout, $schema, 'schema without a folder: the same text');
	($rc, $out, $err) = pgm('inspect', '--json', 'schema');
	is($rc, 0, '--json schema exits 0') or diag($err);
	is(decode_json($out)->{schema}, $schema, '--json schema: the text');

	# verify --applied with nothing applied: nothing to verify, nothing registered
	($rc, $out, $err) = pgm('inspect', '--dir', $d, '--applied', 'verify');
	is($rc, 0, 'verify --applied, nothing applied: exits 0') or diag($err);
	like($out, qr/^0 migrations verified, 0 with a problem/m, 'verify --applied, nothing applied: none');
	$left->('verify --applied of nothing');

	# verify --applied: the applied migrations, down then up, rolled back
	($rc, $out, $err) = pgm('inspect', '--dir', $d, '--to', '1', 'up');
	is($rc, 0, 'up --to 1 before verify --applied') or diag($err);
	$schema = $node->safe_psql('inspect', 'SELECT migrate.schema()');
	$h = history_count('inspect');
	my $states = states('inspect');
	($rc, $out, $err) = pgm('inspect', '--dir', $d, '--applied', 'verify');
	is($rc, 0, 'verify --applied: exits 0') or diag($err);
	like($out, qr/^1 +reversible +good$/m, 'verify --applied: the applied one');
	unlike($out, qr/^2 /m, 'verify --applied: not the pending one');
	is(states('inspect'), $states, 'verify --applied: nothing registered or rolled back');
	is(history_count('inspect'), $h, 'verify --applied: no history row');
	is($node->safe_psql('inspect', 'SELECT migrate.schema()'), $schema,
		'verify --applied: the schema is the same');
}

# ---- bad input: one line naming the cause, a non-zero status, nothing applied ---------
{
	my $h = history_count('shared');
	my $bad = sub {
		my ($what, $want_rc, $re, @args) = @_;
		my ($rc, $out, $err) = pgm('shared', @args);
		is($rc, $want_rc, "$what: exit status $want_rc");
		like($err, $re, "$what: the message");
		is(scalar(() = $err =~ /\n/g), 1, "$what: one line");
	};
	$bad->('a missing folder', 2, qr{^pg_migrate: \S+/nowhere: not a directory$},
		'--dir', "$root/nowhere", 'up');
	$bad->('an unknown layout', 2, qr/unknown layout liquibase/, '--dir', $shared, '--layout',
		'liquibase', 'up');
	put("$root/two/1_a.up.sql", "SELECT 1;\n");
	put("$root/two/001_b.up.sql", "SELECT 1;\n");
	$bad->('two files for one version', 2, qr{1_a\.up\.sql: version 1 is also the version of \S+001_b\.up\.sql},
		'--dir', "$root/two", 'up');
	put("$root/orphan/20240101000000_a.sql", "SELECT 1;\n");
	put("$root/orphan/20240102000000_b_down.sql", "SELECT 1;\n");
	$bad->('a down without its up', 2, qr{20240102000000_b_down\.sql: a down script without its up},
		'--dir', "$root/orphan", 'up');
	put("$root/latin1/001_a.sql", "SELECT 1;\n-- caf\xe9\n");
	$bad->('a file that is not UTF-8', 2, qr{001_a\.sql:2: not valid UTF-8}, '--dir',
		"$root/latin1", 'up');
	$bad->('no command', 2, qr/no command/, '--dir', $shared);
	$bad->('down N not a number', 2, qr/N must be a whole number/, '--dir', $shared, 'down', 'x');
	$bad->('schema with an argument', 2, qr/schema: unexpected argument x/, 'schema', 'x');
	$bad->('plan with an argument', 2, qr/plan: unexpected argument 3/, '--dir', $shared,
		'plan', '3');
	$bad->('--to of status', 2, qr/--to is an option of up, down and plan/, '--dir', $shared,
		'--to', '1', 'status');
	$bad->('--to of verify', 2, qr/--to is an option of up, down and plan/, '--dir', $shared,
		'--to', '1', 'verify');
	$bad->('--applied of plan', 2, qr/--applied is an option of verify/, '--dir', $shared,
		'--applied', 'plan');
	$bad->('verify V --applied', 2, qr/verify takes one version V or --applied, not both/,
		'--dir', $shared, 'verify', '1', '--applied');
	$bad->('verify V W', 2, qr/verify takes one version V/, '--dir', $shared, 'verify', '1', '2');
	is(history_count('shared'), $h, 'bad input: nothing applied');

	my ($rc, $out, $err) = pgm(undef, '-d', 'host=/nonexistent port=1 dbname=x', '--dir', $shared, 'up');
	is($rc, 3, 'no connection: exit status 3');
	like($err, qr/^pg_migrate: cannot connect: .*\n\z/, 'no connection: one line');
	$node->safe_psql('postgres', 'CREATE DATABASE bare');
	($rc, $out, $err) = pgm('bare', '--dir', $shared, 'up');
	is($rc, 3, 'a database without the extension: exit status 3');
	like($err, qr/has no migrations_schema extension/, 'a database without the extension: why');
	new_db('older', '0.3.1');
	($rc, $out, $err) = pgm('older', '--dir', $shared, 'up');
	is($rc, 3, 'an older extension: exit status 3');
	like($err, qr/has migrations_schema 0\.3\.1; pg_migrate needs 0\.4\.0 or later/,
		'an older extension: why');
	is($node->safe_psql('older', 'SELECT count(*) FROM migrate.migrations'), '0',
		'an older extension: nothing applied');
}

$node->stop;
done_testing();
