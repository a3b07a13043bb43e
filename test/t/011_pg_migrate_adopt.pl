# pg_migrate: Flyway repeatable migrations, status against the applied scripts (cosmetic and
# real edits), and adopt: taking over a database that another tool migrated.
#
# Repeatables: a Flyway folder with V1, V2 and R__views.sql; up runs V1, V2, then the
# repeatable; up again runs nothing; a changed R__ file runs again, a reformatted one does not;
# down leaves it alone; lint lints it; a broken one fails the whole up.
# status: a cosmetic edit of V1 (CRLF, trailing spaces, a comment) is "reformatted" (exit 0),
# a token edit is "edited" (exit 1).
# adopt: a dbmate schema_migrations table made by hand, with the objects its migrations made:
# adopt records them as applied with the folder's scripts attached and runs nothing (the up
# scripts would fail: their tables exist); a dry run leaves nothing; a third migration then
# applies with up; down uses the attached down scripts. Without the files, the versions are
# adopted without scripts and a later up attaches them. Flyway's history with a repeatable row;
# --table; the database's refusal (exit 1); bad usage (exit 2); an extension without adopt()
# (exit 3).
#
# Needs pg_migrate on PATH (make install). Run as a non-root OS user with PostgreSQL::Test from
# PGXS: MS_SKIP_BUILD=1 MS_TAP_ONLY=011 bash test/run_all.sh --suite tap

use strict;
use warnings;

use File::Path qw(make_path);
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use MsFiles;  # put: replaces a file byte for byte (CRLF stays CRLF)

my $node = PostgreSQL::Test::Cluster->new('adopt');
$node->init;
$node->start;
my $root = PostgreSQL::Test::Utils::tempdir;

# pg_migrate -d <db> ARGS: (exit status, stdout, stderr).
sub pgm
{
	my ($db, @args) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'pg_migrate', '-d', $node->connstr($db), @args ],
		'<', \undef, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

sub sql { return $node->safe_psql(@_); }

sub db_with_extension
{
	my ($db, $version) = @_;
	sql('postgres', "CREATE DATABASE $db");
	sql($db, 'CREATE EXTENSION migrations_schema' . ($version ? " VERSION '$version'" : ''));
}

# ---- Flyway repeatables ------------------------------------------------------------------
my $fw = "$root/flyway";
put("$fw/V1__users.sql", "CREATE TABLE users (id int PRIMARY KEY, name text);\n");
put("$fw/V2__posts.sql", "CREATE TABLE posts (id int, author int);\n");
put("$fw/U2__posts.sql", "DROP TABLE posts;\n");
put("$fw/R__views.sql", "CREATE OR REPLACE VIEW user_names AS SELECT name FROM users;\n");
db_with_extension('fw');
{
	my ($rc, $out, $err) = pgm('fw', '--dir', $fw, 'status');
	is($rc, 0, 'repeatable: status before up exits 0') or diag($err);
	like($out, qr/^repeatable views: not registered  -- runs on next up$/m,
		'repeatable: status lists the R__ file as not registered');
	unlike($err, qr/not applied/, 'repeatable: no longer a note "not applied"');

	($rc, $out, $err) = pgm('fw', '--dir', $fw, 'up');
	is($rc, 0, 'repeatable: up exits 0') or diag($err);
	like($out, qr/^applied 1 users .*\napplied 2 posts .*\napplied repeatable views /m,
		'repeatable: up applies V1, V2, then the repeatable');
	like($out, qr/^2 migrations and 1 repeatable applied/m, 'repeatable: up counts it apart');
	is(sql('fw', 'SELECT count(*) FROM user_names'), '0', 'repeatable: its view exists');
	is(sql('fw', "SELECT state FROM migrate.status() WHERE version IS NULL AND name = 'views'"),
		'applied', 'repeatable: the database knows it as applied');

	($rc, $out, $err) = pgm('fw', '--dir', $fw, 'status');
	is($rc, 0, 'repeatable: status after up exits 0');
	like($out, qr/^repeatable views: applied$/m, 'repeatable: status says applied');
	like($out, qr/1 repeatable \(0 to run on next up\)/, 'repeatable: status summary');

	my $h = sql('fw', 'SELECT count(*) FROM migrate.history');
	($rc, $out, $err) = pgm('fw', '--dir', $fw, 'up');
	is($rc, 0, 'repeatable: up again exits 0');
	like($out, qr/^0 migrations applied/m, 'repeatable: up again runs nothing');
	is(sql('fw', 'SELECT count(*) FROM migrate.history'), $h, 'repeatable: up again records nothing');

	# a changed R__ file: status says so, up runs it again
	put("$fw/R__views.sql", "CREATE OR REPLACE VIEW user_names AS SELECT name, id FROM users;\n");
	($rc, $out, $err) = pgm('fw', '--dir', $fw, 'status');
	is($rc, 0, 'repeatable changed: status exits 0 (not a problem)');
	like($out, qr/^repeatable views: applied  -- the file changed since it ran/m,
		'repeatable changed: status marks the file');
	($rc, $out, $err) = pgm('fw', '--json', '--dir', $fw, 'status');
	my $j = decode_json($out);
	is_deeply([ map { "$_->{name}:$_->{runs_on_up}" } @{ $j->{repeatables} } ], ['views:1'],
		'repeatable changed: --json status says it runs on next up');
	($rc, $out, $err) = pgm('fw', '--dir', $fw, 'up');
	is($rc, 0, 'repeatable changed: up exits 0') or diag($err);
	like($out, qr/^applied repeatable views .*\n0 migrations and 1 repeatable applied/m,
		'repeatable changed: up runs it again, alone');
	is(sql('fw', "SELECT count(*) FROM information_schema.columns WHERE table_name = 'user_names'"),
		'2', 'repeatable changed: the new view');

	# reformatted only (CRLF, a comment, trailing blanks): registered, not run again
	put("$fw/R__views.sql",
		"-- the names\r\nCREATE OR REPLACE VIEW user_names AS SELECT name, id FROM users;  \r\n");
	($rc, $out, $err) = pgm('fw', '--dir', $fw, 'up');
	is($rc, 0, 'repeatable reformatted: up exits 0') or diag($err);
	like($out, qr/^0 migrations applied/m, 'repeatable reformatted: not run again');
	($rc, $out, $err) = pgm('fw', '--dir', $fw, 'status');
	like($out, qr/^repeatable views: applied$/m, 'repeatable reformatted: applied, the new text kept');

	# down leaves repeatables alone
	($rc, $out, $err) = pgm('fw', '--dir', $fw, 'down');
	is($rc, 0, 'down with a repeatable in the folder exits 0') or diag($err);
	like($out, qr/^rolled back 2 posts/m, 'down rolls back the newest versioned migration');
	is(sql('fw', "SELECT to_regclass('user_names') IS NOT NULL"), 't', 'down leaves the repeatable');
	($rc, $out, $err) = pgm('fw', '--dir', $fw, 'up');
	like($out, qr/^applied 2 posts .*\n1 migration applied/m,
		'up after down: the migration again, the repeatable not');

	# lint: an R__ file that the next up runs is linted; a broken one fails the whole up
	put("$fw/R__broken.sql", "SELECT 1;\nCREATE VIEWW broken AS SELECT 1;\n");
	($rc, $out, $err) = pgm('fw', '--dir', $fw, 'lint');
	is($rc, 1, 'lint: a broken repeatable is an error');
	like($out, qr{R__broken\.sql:2: error 42601 unusable-script: syntax error}m,
		'lint: the R__ file and its line');
	unlike($out, qr/R__views/, 'lint: an unchanged repeatable is not linted');
	$h = sql('fw', 'SELECT count(*) FROM migrate.history');
	($rc, $out, $err) = pgm('fw', '--dir', $fw, 'up');
	is($rc, 1, 'a broken repeatable: up exits 1');
	like($err, qr{R__broken\.sql:2: ERROR 42601: syntax error}, 'a broken repeatable: the file and line');
	is(sql('fw', 'SELECT count(*) FROM migrate.status() WHERE version IS NULL'), '1',
		'a broken repeatable: not registered either (one transaction)');
	is(sql('fw', 'SELECT count(*) FROM migrate.history'), $h, 'a broken repeatable: nothing recorded');
	put("$fw/R__broken.sql", "SELECT 1;\nSELECT 1 / 0;\n");
	($rc, $out, $err) = pgm('fw', '--dir', $fw, 'up');
	like($err, qr{R__broken\.sql:2: ERROR 22012: division by zero}, 'a failing repeatable: the file and line');
	unlink("$fw/R__broken.sql");

	# --to: repeatables are registered, not run
	put("$fw/R__views.sql", "CREATE OR REPLACE VIEW user_names AS SELECT name, id, 1 AS one FROM users;\n");
	($rc, $out, $err) = pgm('fw', '--dir', $fw, '--to', '2', 'up');
	is($rc, 0, 'up --to exits 0') or diag($err);
	unlike($out, qr/repeatable/, 'up --to runs no repeatable');
	is(sql('fw', "SELECT state FROM migrate.status() WHERE version IS NULL AND name = 'views'"),
		'pending', 'up --to registers the changed repeatable');
	($rc, $out, $err) = pgm('fw', '--dir', $fw, 'status');
	like($out, qr/^repeatable views: pending  -- changed, runs on next up$/m,
		'status: a registered change is pending');
	($rc, $out, $err) = pgm('fw', '--json', '--dir', $fw, 'up');
	$j = decode_json($out);
	is_deeply([ map { ($_->{version} // 'null') . ":$_->{name}" } @{ $j->{migrations} } ],
		['null:views'], '--json up: a repeatable has version null');
}

# ---- status: a cosmetic edit of an applied migration, then a real one --------------------
{
	put("$fw/V1__users.sql",
		"-- the users\r\nCREATE TABLE users (id int PRIMARY KEY,   name text);  \r\n");
	my ($rc, $out, $err) = pgm('fw', '--dir', $fw, 'status');
	is($rc, 0, 'cosmetic edit: status exits 0') or diag($out);
	like($out, qr/^1 +applied +users  -- reformatted \(same statements\)$/m,
		'cosmetic edit: status says reformatted');
	put("$fw/V1__users.sql", "CREATE TABLE users (id bigint PRIMARY KEY, name text);\n");
	($rc, $out, $err) = pgm('fw', '--dir', $fw, 'status');
	is($rc, 1, 'token edit: status exits 1');
	like($out, qr/^1 +applied +users  -- edited since it was applied$/m, 'token edit: edited');
	($rc, $out, $err) = pgm('fw', '--dir', $fw, 'up');
	is($rc, 1, 'token edit: up is refused');
	put("$fw/V1__users.sql",
		"-- the users\r\nCREATE TABLE users (id int PRIMARY KEY,   name text);  \r\n");
	($rc, $out, $err) = pgm('fw', '--dir', $fw, 'up');
	is($rc, 0, 'cosmetic edit: up exits 0') or diag($err);
	is(sql('fw', "SELECT count(*) FROM migrate.history WHERE action = 'cosmetic_edit' AND version = '1'"), '1',
		'cosmetic edit: up records it');
	($rc, $out, $err) = pgm('fw', '--dir', $fw, 'status');
	unlike($out, qr/reformatted/, 'cosmetic edit: after up the new text is the applied one');
}

# ---- adopt dbmate ------------------------------------------------------------------------
# A database dbmate migrated: its table and what its two migrations made.
sub dbmate_database
{
	my ($db, $table) = @_;
	db_with_extension($db);
	sql($db, <<"SQL");
CREATE TABLE $table (version varchar(128) PRIMARY KEY);
INSERT INTO $table VALUES ('20240101000000'), ('20240102000000');
CREATE TABLE users (id int PRIMARY KEY, email text);
CREATE TABLE posts (id int, author int);
SQL
}
my $dm = "$root/dbmate";
put("$dm/20240101000000_users.sql",
	"-- migrate:up\nCREATE TABLE users (id int PRIMARY KEY, email text);\n\n"
	  . "-- migrate:down\nDROP TABLE users;\n");
put("$dm/20240102000000_posts.sql",
	"-- migrate:up\nCREATE TABLE posts (id int, author int);\n\n-- migrate:down\nDROP TABLE posts;\n");
dbmate_database('dbm', 'schema_migrations');
{
	my ($rc, $out, $err) = pgm('dbm', '--dir', $dm, '--dry-run', 'adopt', 'dbmate');
	is($rc, 0, 'adopt --dry-run exits 0') or diag($err);
	like($out, qr/^20240101000000 +adopted +users  -- /m, 'adopt --dry-run: what it would adopt');
	like($out,
		qr/^dry run: would adopt 2 migrations from dbmate; 0 not applied; nothing ran; rolled back/m,
		'adopt --dry-run: says so');
	is(sql('dbm', 'SELECT count(*) FROM migrate.migrations'), '0', 'adopt --dry-run: nothing registered');
	is(sql('dbm', 'SELECT count(*) FROM migrate.history'), '0', 'adopt --dry-run: nothing recorded');

	($rc, $out, $err) = pgm('dbm', '--dir', $dm, 'adopt', 'dbmate');
	is($rc, 0, 'adopt exits 0') or diag($err);
	like($out, qr/^20240101000000 +adopted +users  -- .*\n20240102000000 +adopted +posts  -- /m,
		'adopt: one line per migration, named as the folder names it');
	like($out, qr/^adopted 2 migrations from dbmate; 0 not applied; nothing ran$/m,
		'adopt: the summary');
	is(sql('dbm', "SELECT count(*) FROM migrate.history WHERE action = 'apply'"), '0',
		'adopt: nothing ran (the up scripts would have failed: the tables exist)');
	is(sql('dbm',
			"SELECT string_agg(version || ':' || state || ':' || (up_sql IS NOT NULL) || ':'"
			  . " || (down_sql IS NOT NULL) || ':' || adopted_from, ' ' ORDER BY version)"
			  . ' FROM migrate.migrations'),
		'20240101000000:applied:true:true:dbmate 20240102000000:applied:true:true:dbmate',
		'adopt: applied, with the folder\'s up and down scripts attached');
	($rc, $out, $err) = pgm('dbm', '--dir', $dm, 'status');
	is($rc, 0, 'adopt: status exits 0') or diag($out);
	like($out, qr/^20240101000000 +applied +users$/m, 'adopt: status shows it applied, as it is');
	unlike($out, qr/no script|edited/, 'adopt: status: scripts attached, nothing edited');
	($rc, $out, $err) = pgm('dbm', '--dir', $dm, 'adopt', 'dbmate');
	is($rc, 0, 'adopt again exits 0') or diag($err);
	like($out, qr/^20240102000000 +already applied +posts/m, 'adopt again: already applied');
	like($out, qr/^adopted 0 migrations from dbmate; 2 already applied;/m, 'adopt again: adopts none');

	put("$dm/20240103000000_title.sql",
		"-- migrate:up\nALTER TABLE posts ADD COLUMN title text;\n\n"
		  . "-- migrate:down\nALTER TABLE posts DROP COLUMN title;\n");
	($rc, $out, $err) = pgm('dbm', '--dir', $dm, 'up');
	is($rc, 0, 'after adopt: up exits 0') or diag($err);
	like($out, qr/^applied 20240103000000 title .*\n1 migration applied/m,
		'after adopt: up applies the third migration only');
	is(sql('dbm', "SELECT count(*) FROM information_schema.columns WHERE column_name = 'title'"),
		'1', 'after adopt: its column');

	# the attached down scripts are the ones a rollback runs
	($rc, $out, $err) = pgm('dbm', '--dir', $dm, 'down', '2');
	is($rc, 0, 'after adopt: down 2 exits 0') or diag($err);
	is(sql('dbm', "SELECT to_regclass('posts') IS NULL"), 't',
		'after adopt: the adopted migration rolls back with its attached down script');
}

# adopt without the files: the versions without scripts; a later up attaches them
dbmate_database('dbm2', 'schema_migrations');
{
	make_path("$root/empty");
	my ($rc, $out, $err) = pgm('dbm2', '--dir', "$root/empty", '--json', 'adopt', 'dbmate');
	is($rc, 0, 'adopt from an empty folder exits 0') or diag($err);
	like($err, qr/holds no migration: the versions are recorded without scripts \(a later up of the folder attaches them\)/,
		'adopt from an empty folder: a note says so, and how to attach them');
	my $j = decode_json($out);
	is_deeply([ $j->{adopted}, $j->{without_script}, $j->{attached} ], [ 2, 2, 0 ],
		'adopt --json: counts');
	is_deeply([ map { "$_->{version}:$_->{result}:" . ($_->{script} ? 1 : 0) } @{ $j->{migrations} } ],
		[ '20240101000000:adopted:0', '20240102000000:adopted:0' ], 'adopt --json: the rows');
	($rc, $out, $err) = pgm('dbm2', '--dir', "$root/empty", '--layout', 'dbmate', 'status');
	is($rc, 0, 'status: an adopted version without a file is not a problem') or diag($out);
	like($out, qr/^20240101000000 +applied +\S*  -- adopted from dbmate; no script attached \(no file\)$/m,
		'status: adopted, no script, no file');
	($rc, $out, $err) = pgm('dbm2', '--dir', $dm, 'status');
	like($out,
		qr/^20240101000000 +applied +users  -- adopted from dbmate; this file is attached as its script on next up or adopt$/m,
		'status: the file is attached on next up');
	# the adopted versions take dbmate's order keys with their files
	($rc, $out, $err) = pgm('dbm2', '--dir', $dm, '--json', 'up');
	is($rc, 0, 'up (with dbmate\'s order keys) after an adopt without scripts exits 0')
	  or diag($err);
	$j = decode_json($out);
	is($j->{attached}, 2, 'up: the scripts are attached to the adopted versions');
	is_deeply([ map { $_->{version} } @{ $j->{migrations} } ], ['20240103000000'],
		'up: only the third migration runs');
	is(sql('dbm2', 'SELECT count(*) FROM migrate.migrations WHERE up_sql IS NULL'), '0',
		'up: every migration has its script');
}

# --table; the database's refusal; bad usage; an extension without adopt()
{
	dbmate_database('dbm3', 'my_versions');
	my ($rc, $out, $err) = pgm('dbm3', '--dir', $dm, 'adopt', 'dbmate');
	is($rc, 1, 'adopt without the tool\'s table: the database refuses (exit 1)');
	like($err, qr/^pg_migrate: ERROR \w+: /m, 'adopt refused: the database\'s error');
	like($err, qr/nothing was adopted or registered/, 'adopt refused: what happened');
	is(sql('dbm3', 'SELECT count(*) FROM migrate.migrations'), '0', 'adopt refused: nothing registered');
	($rc, $out, $err) = pgm('dbm3', '--dir', $dm, '--quiet', 'adopt', 'dbmate', '--table', 'my_versions');
	is($rc, 0, 'adopt --table reads that table') or diag($err);
	is($out . $err, '', 'adopt --quiet prints nothing');
	is(sql('dbm3', "SELECT count(*) FROM migrate.migrations WHERE adopted_from = 'dbmate'"), '2',
		'adopt --table: adopted');

	# a database whose history holds a migration the tool does not record
	dbmate_database('dbm4', 'schema_migrations');
	put("$root/early/20231231000000_early.sql", "-- migrate:up\nCREATE TABLE early (id int);\n");
	($rc, $out, $err) = pgm('dbm4', '--dir', "$root/early", 'up');
	is($rc, 0, 'a migration applied by pg_migrate before the adopt') or diag($err);
	($rc, $out, $err) = pgm('dbm4', '--dir', $dm, 'adopt', 'dbmate');
	is($rc, 1, 'adopt: history the tool does not record is refused (exit 1)');
	like($err, qr/ERROR 55000: /, 'adopt refused: 55000');
	is(sql('dbm4', "SELECT count(*) FROM migrate.migrations WHERE state = 'applied'"), '1',
		'adopt refused: nothing adopted');

	for my $bad ([ 'an unknown source', 'liquibase' ], [ 'no source' ])
	{
		my ($what, @src) = @$bad;
		($rc, $out, $err) = pgm('dbm4', '--dir', $dm, 'adopt', @src);
		is($rc, 2, "adopt with $what: exit 2");
		like($err, qr/adopt needs one SOURCE: flyway, dbmate, golang-migrate/, "adopt with $what: the sources");
	}
	($rc, $out, $err) = pgm('dbm4', '--dir', $dm, '--table', 'x', 'up');
	is($rc, 2, '--table outside adopt: exit 2');
	($rc, $out, $err) = pgm('dbm4', '--dir', "$root/nowhere", 'adopt', 'dbmate');
	is($rc, 2, 'adopt with a missing folder: exit 2 (nothing adopted without scripts by mistake)');
	like($err, qr{nowhere: not a directory}, 'adopt with a missing folder: says so');

	# 0.4.0 as it was before adopt() and compare_script() (the version did not change)
	db_with_extension('old');
	sql('old', <<'SQL');
ALTER EXTENSION migrations_schema DROP FUNCTION migrate.adopt(text, text);
DROP FUNCTION migrate.adopt(text, text);
ALTER EXTENSION migrations_schema DROP FUNCTION migrate.compare_script(text, text);
DROP FUNCTION migrate.compare_script(text, text);
SQL
	($rc, $out, $err) = pgm('old', '--dir', $dm, 'adopt', 'dbmate');
	is($rc, 3, 'an extension without adopt(): exit 3');
	like($err, qr/has migrations_schema 0\.4\.0, without migrate\.adopt: .*ALTER EXTENSION/,
		'an extension without adopt(): says what to do');
	($rc, $out, $err) = pgm('old', '--dir', $dm, 'status');
	is($rc, 3, 'status on an extension without compare_script(): exit 3');
	is(sql('old', 'SELECT count(*) FROM migrate.migrations'), '0', 'an older extension: nothing registered');
}

# ---- adopt flyway: its history with a repeatable row ---------------------------------------
{
	db_with_extension('fwa');
	sql('fwa', <<'SQL');
CREATE TABLE flyway_schema_history (
    installed_rank int PRIMARY KEY, version varchar(50), description varchar(200) NOT NULL,
    type varchar(20) NOT NULL, script varchar(1000) NOT NULL, checksum int,
    installed_by varchar(100) NOT NULL, installed_on timestamp NOT NULL DEFAULT now(),
    execution_time int NOT NULL, success boolean NOT NULL);
INSERT INTO flyway_schema_history VALUES
    (1, '1', 'users', 'SQL', 'V1__users.sql', 1, 'flyway', now(), 3, true),
    (2, '2', 'posts', 'SQL', 'V2__posts.sql', 2, 'flyway', now(), 3, true),
    (3, NULL, 'views', 'SQL', 'R__views.sql', 3, 'flyway', now(), 3, true);
CREATE TABLE users (id int PRIMARY KEY, name text);
CREATE TABLE posts (id int, author int);
SQL
	my $d = "$root/flyway_adopt";
	put("$d/V1__users.sql", "CREATE TABLE users (id int PRIMARY KEY, name text);\n");
	put("$d/V2__posts.sql", "CREATE TABLE posts (id int, author int);\n");
	put("$d/R__views.sql", "CREATE OR REPLACE VIEW user_names AS SELECT name FROM users;\n");
	my ($rc, $out, $err) = pgm('fwa', '--dir', $d, 'adopt', 'flyway');
	is($rc, 0, 'adopt flyway exits 0') or diag($err);
	like($out, qr/^1 +adopted +users  -- .*\n2 +adopted +posts  -- /m, 'adopt flyway: the versions');
	like($out, qr/^\S*views +not applied .*repeatable/m,
		'adopt flyway: the repeatable row is not adopted');
	like($out, qr/^adopted 2 migrations from flyway; 1 not applied; nothing ran$/m,
		'adopt flyway: the summary');
	($rc, $out, $err) = pgm('fwa', '--dir', $d, 'up');
	is($rc, 0, 'after adopt flyway: up exits 0') or diag($err);
	like($out, qr/^applied repeatable views .*\n0 migrations and 1 repeatable applied/m,
		'after adopt flyway: up runs the repeatable once, no versioned migration');
}

$node->stop;
done_testing();
