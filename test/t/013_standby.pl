# The extension on a physical hot standby (pg_basebackup of a primary, streaming), and after
# the standby's promotion. Both servers preload the library (shared_preload_libraries), so that
# the audit's ProcessUtility hook and commit callback, the steps' launcher and the worker's
# commit callback are all there.
#
# 1. On the standby, every reading function answers what the primary answers: status(),
#    drift(), summary(), findings(), audit_health(), verify_audit() (valid, the same rows),
#    lint() (the same findings), split(), compare_script(), schema(); and read-only
#    transactions commit (the pre-commit audit writer has nothing to do).
# 2. Every function that writes (apply both ways, register, rollback both ways,
#    register_repeatable, apply_repeatable, adopt, baseline, retry, purge_audit, CALL wait())
#    fails at once with SQLSTATE 25006, its message, a detail and a hint naming the primary's
#    port; verify() and plan() refuse with 25006 too (they run scripts); DDL is refused by
#    PostgreSQL before any event trigger fires: the audit does not change. The session goes on
#    working; no backend crashes (the log), no launcher or worker runs on the standby.
# 3. What the primary does later reaches the standby (status, the audit chain still valid).
# 4. Promoted, the former standby works: the launcher starts, apply (with a CREATE INDEX
#    CONCURRENTLY step run by the worker: CALL wait()), rollback, register, purge_audit; the
#    audit chain continues (new ids after the old ones, verify_audit() valid over all rows).
#
# Run as a non-root OS user with PostgreSQL::Test from PGXS (see test/run_all.sh --suite tap).

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', <<'CONF');
shared_preload_libraries = 'migrations_schema'
max_worker_processes = 16
CONF
$primary->start;
$primary->safe_psql('postgres', 'CREATE EXTENSION migrations_schema');

# ---- the primary's history: applied, rolled back, pending, a repeatable, a step, drift

$primary->safe_psql('postgres', <<'SQL');
SET client_min_messages = warning;
SELECT migrate.apply('001', 'CREATE TABLE users (id bigint PRIMARY KEY, email text);',
                     'DROP TABLE users;', 'users');
CREATE TABLE legacy (id int, x int);
SELECT migrate.apply('002', 'ALTER TABLE users ADD COLUMN name text; ALTER TABLE legacy DROP COLUMN x;',
                     'ALTER TABLE legacy ADD COLUMN x int; ALTER TABLE users DROP COLUMN name;',
                     'names');
SELECT migrate.apply('003', 'CREATE TABLE tmp_t (id int);', 'DROP TABLE tmp_t;', 'tmp');
SELECT version FROM migrate.rollback(1);
SELECT migrate.register('004', 'CREATE TABLE posts (id bigint PRIMARY KEY);',
                        'DROP TABLE posts;', 'posts');
SELECT migrate.apply_repeatable('user_view', 'CREATE OR REPLACE VIEW user_names AS SELECT name FROM users;');
CREATE TABLE outside_migrations (id int);
INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 100) g;
ANALYZE users;
SQL
$primary->safe_psql('postgres', q{SELECT migrate.apply('005',
  'CREATE INDEX CONCURRENTLY users_email_idx ON users (email);',
  'DROP INDEX CONCURRENTLY users_email_idx;', 'email index')});
$primary->safe_psql('postgres', q{CALL migrate.wait(timeout => '60 s')});

$primary->backup('standby_backup');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'standby_backup', has_streaming => 1);
$standby->start;
$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));
is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'the standby is in recovery');

# ---- 1. reading functions answer on the standby what they answer on the primary

my %reads = (
	'status()' => 'SELECT version, name, state, checksum FROM migrate.status() ORDER BY 1',
	'drift()' => 'SELECT command_tag, object_identity FROM migrate.drift() ORDER BY 1, 2',
	'summary()' => 'SELECT * FROM migrate.summary()',
	'findings()' => 'SELECT * FROM migrate.findings() ORDER BY 1, 2, 3',
	'audit_health()' => 'SELECT * FROM migrate.audit_health()',
	'verify_audit()' =>
	  'SELECT valid, rows_checked, first_id, last_id FROM migrate.verify_audit()',
	'lint()' => q{SELECT severity, rule_id, message FROM migrate.lint(
	    'ALTER TABLE users ADD COLUMN age int DEFAULT random(); ALTER TABLE users DROP COLUMN name;')},
	'split()' => q{SELECT * FROM migrate.split('SELECT 1; CREATE INDEX CONCURRENTLY i ON t (c);')},
	'compare_script()' =>
	  q{SELECT migrate.compare_script('001', 'CREATE TABLE users (id bigint PRIMARY KEY, email text) ;')},
	'schema()' => 'SELECT md5(migrate.schema())',
	'history' => 'SELECT id, version, action FROM migrate.history ORDER BY id',
	'audit rows' => 'SELECT id, encode(hash, \'hex\') FROM migrate.ddl_audit ORDER BY id',);
for my $name (sort keys %reads)
{
	my $want = $primary->safe_psql('postgres', $reads{$name});
	my ($ret, $got, $err) = $standby->psql('postgres', $reads{$name});
	is($ret, 0, "standby: $name answers") or diag($err);
	is($got, $want, "standby: $name answers what the primary answers");
	isnt($got, '', "standby: $name is not empty");
}
like(
	$standby->safe_psql('postgres', 'SELECT valid FROM migrate.verify_audit()'),
	qr/^t$/, 'standby: the audit chain is valid');
# A read-only transaction with the extension's functions commits: the pre-commit writer has
# nothing to write.
{
	my $reads = q{BEGIN; SELECT count(*) FROM migrate.status();
		SELECT count(*) FROM migrate.lint('DROP TABLE users'); COMMIT; SELECT 'ok'};
	is($standby->safe_psql('postgres', $reads), $primary->safe_psql('postgres', $reads),
		'standby: a transaction of reads commits');
}

# ---- 2. functions that write fail at once with 25006, message, detail and hint

my $primary_port = $primary->port;
my @writers = (
	[ 'migrate.apply()', q{SELECT migrate.apply('006', 'CREATE TABLE x (id int);')} ],
	[ 'migrate.apply()', q{SELECT migrate.apply('001', 'CREATE TABLE users (id bigint PRIMARY KEY, email text);', 'DROP TABLE users;', 'users')} ],
	[ 'migrate.apply()', 'SELECT * FROM migrate.apply()' ],
	[ 'migrate.register()', q{SELECT migrate.register('006', 'CREATE TABLE x (id int);')} ],
	[ 'migrate.rollback()', 'SELECT * FROM migrate.rollback()' ],
	[ 'migrate.rollback()', q{SELECT * FROM migrate.rollback('001')} ],
	[ 'migrate.register_repeatable()', q{SELECT migrate.register_repeatable('r', 'SELECT 1')} ],
	[ 'migrate.apply_repeatable()', q{SELECT migrate.apply_repeatable('r', 'SELECT 1')} ],
	[ 'migrate.adopt()', q{SELECT * FROM migrate.adopt('flyway')} ],
	[ 'migrate.baseline()', q{SELECT migrate.baseline('002')} ],
	[ 'migrate.retry()', 'SELECT migrate.retry()' ],
	[ 'migrate.purge_audit()', q{SELECT migrate.purge_audit(now())} ],
	[ 'migrate.wait()', 'CALL migrate.wait()' ],);
my $audit_before = $standby->safe_psql('postgres', 'SELECT count(*), max(id) FROM migrate.ddl_audit');
for my $w (@writers)
{
	my ($function, $sql) = @$w;
	my $t0 = time;
	my ($ret, $out, $err) =
	  $standby->psql('postgres', "\\set VERBOSITY verbose\n$sql");
	my $took = time - $t0;
	isnt($ret, 0, "standby: $sql fails");
	like($err, qr/ERROR:  25006: \Q$function\E cannot run on a standby/,
		"standby: $sql: 25006 and the message");
	like($err, qr/DETAIL:  This server is a hot standby/, "standby: $sql: the detail");
	like($err, qr/HINT:  Call it on the primary, the server this standby streams from: host \S+ port $primary_port\./,
		"standby: $sql: the hint names the primary");
	unlike($err, qr/password|user=/, "standby: $sql: no other part of primary_conninfo");
	cmp_ok($took, '<', 10, sprintf("standby: $sql fails at once (%.2f s)", $took));
}
# verify() and plan() run scripts: refused as in any read-only transaction.
for my $sql ('SELECT * FROM migrate.verify()', q{SELECT * FROM migrate.plan(script => 'CREATE TABLE y (id int)')})
{
	my ($ret, $out, $err) = $standby->psql('postgres', "\\set VERBOSITY verbose\n$sql");
	like($err, qr/ERROR:  25006: migrate\.(verify|plan)(\(\))? cannot run in a read-only transaction/,
		"standby: $sql refused with 25006");
}
# DDL: PostgreSQL refuses it before any event trigger fires.
{
	my ($ret, $out, $err) =
	  $standby->psql('postgres', "\\set VERBOSITY verbose\nCREATE TABLE on_standby (id int)");
	like($err, qr/ERROR:  25006: cannot execute CREATE TABLE in a read-only transaction/,
		'standby: DDL refused by PostgreSQL');
}
is($standby->safe_psql('postgres', 'SELECT count(*), max(id) FROM migrate.ddl_audit'),
	$audit_before, 'standby: the audit did not change');
is($standby->safe_psql('postgres', 'SELECT 1'), '1', 'standby: still answers');
is( $standby->safe_psql(
		'postgres',
		q{SELECT count(*) FROM pg_stat_activity
		   WHERE backend_type LIKE 'migrations_schema%' OR application_name LIKE 'migrations_schema%'}
	),
	'0',
	'standby: no launcher and no worker run');

# ---- 3. the primary goes on; the standby follows

$primary->safe_psql('postgres', q{SELECT migrate.apply('006', 'CREATE TABLE comments (id int);',
                                  'DROP TABLE comments;', 'comments')});
$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));
is($standby->safe_psql('postgres', q{SELECT state FROM migrate.status() WHERE version = '006'}),
	'applied', 'standby: sees what the primary applied later');
is( $standby->safe_psql('postgres', 'SELECT valid, rows_checked FROM migrate.verify_audit()'),
	$primary->safe_psql('postgres', 'SELECT valid, rows_checked FROM migrate.verify_audit()'),
	'standby: the audit chain with the new rows is valid');

# ---- 4. promotion

my $last_id = $standby->safe_psql('postgres', 'SELECT max(id) FROM migrate.ddl_audit');
my $rows_before = $standby->safe_psql('postgres', 'SELECT count(*) FROM migrate.ddl_audit');
$primary->stop;
$standby->promote;
is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 'f', 'promoted');
ok( $standby->poll_query_until(
		'postgres',
		q{SELECT count(*) > 0 FROM pg_stat_activity WHERE backend_type = 'migrations_schema launcher'}),
	'promoted: the launcher started');
is( $standby->safe_psql(
		'postgres', q{SET client_min_messages = warning;
		SELECT version FROM migrate.apply(allow_out_of_order => true)}),
	"003\n004", 'promoted: apply() applies the pending migrations');
is( $standby->safe_psql(
		'postgres',
		q{SELECT migrate.apply('007', 'CREATE INDEX CONCURRENTLY posts_idx ON posts (id);',
		  'DROP INDEX CONCURRENTLY posts_idx;', 'posts index')}),
	'applying', 'promoted: a migration with a step is applying');
$standby->safe_psql('postgres', q{CALL migrate.wait(timeout => '60 s')});
is($standby->safe_psql('postgres', q{SELECT state FROM migrate.status() WHERE version = '007'}),
	'applied', 'promoted: the worker ran the step');
is($standby->safe_psql('postgres', 'SELECT version FROM migrate.rollback()'),
	'007', 'promoted: rollback() runs');
$standby->safe_psql('postgres', q{CALL migrate.wait(timeout => '60 s')});
is($standby->safe_psql('postgres', q{SELECT migrate.register('008', 'CREATE TABLE z (id int);')}),
	'registered', 'promoted: register() runs');
$standby->safe_psql('postgres', 'CREATE TABLE after_promotion (id int)');
is( $standby->safe_psql(
		'postgres', qq{SELECT min(id) > $last_id, count(*) > 0 FROM migrate.ddl_audit WHERE id > $last_id}),
	't|t', 'promoted: new audit rows come after the old ones');
is( $standby->safe_psql(
		'postgres', q{SELECT valid, rows_checked > } . $rows_before . q{ FROM migrate.verify_audit()}),
	't|t', 'promoted: the chain continues and verifies');
is( $standby->safe_psql(
		'postgres',
		qq{SELECT a.prev_hash = b.hash FROM migrate.ddl_audit a, migrate.ddl_audit b
		    WHERE a.id = (SELECT min(id) FROM migrate.ddl_audit WHERE id > $last_id) AND b.id = $last_id}),
	't', 'promoted: the first new row links to the last replicated one');
cmp_ok($standby->safe_psql('postgres', q{SELECT migrate.purge_audit(now() - interval '1 day')}),
	'==', 0, 'promoted: purge_audit() runs');

# ---- no crash on either server

for my $node ($primary, $standby)
{
	my $log = slurp_file($node->logfile);
	unlike($log, qr/terminated by signal|PANIC|server process .* exited with exit code [^0]/,
		$node->name . ': no backend crashed');
}

$standby->stop;
done_testing();
