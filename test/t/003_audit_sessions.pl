# The DDL audit under many sessions, and its statement capture with and without preloading.
#
# 1. Eight pgbench clients run DDL transactions at the same moment (create a table with a
#    primary key, alter it, drop it, commit), mixed with transactions that do DDL and roll back.
#    Every committed transaction must leave exactly its rows, the rolled-back ones none; the
#    ids stay contiguous, the chain linear (each row's prev_hash is the previous row's hash)
#    and migrate.verify_audit() valid. No client may fail (a deadlock would fail one).
# 2. Statement text: without the library preloaded, the first DDL of a session runs before
#    the library (and its hook) is loaded; its statement is looked for in the client's query
#    string by its parse tree, and when that is ambiguous the row holds the whole string with
#    statement_exact = false. Later statements are exact. With
#    shared_preload_libraries = 'migrations_schema' every statement is exact, and
#    migrate.audit_health() says so.
#
# Run as a non-root OS user with PostgreSQL::Test from PGXS (see test/run_all.sh --suite tap).

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $clients = 8;
my $transactions = 60;    # per client

my $node = PostgreSQL::Test::Cluster->new('audit_sessions');
$node->init;
$node->append_conf('postgresql.conf', "max_connections = 40\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION migrations_schema');
my $start = $node->safe_psql('postgres', 'SELECT max(id) FROM migrate.ddl_audit');

# ---- 1. concurrent DDL
$node->pgbench(
	"--no-vacuum --client=$clients --jobs=$clients --transactions=$transactions",
	0,
	[qr/number of failed transactions: 0/, qr/processed: @{[$clients * $transactions]}\/@{[$clients * $transactions]}/],
	[qr/^$/],
	'concurrent DDL transactions all succeed',
	{
		'001_commit@3' => q{
\set k :client_id * 10000000000 + random(1, 2000000000)
BEGIN;
CREATE TABLE c_:k (id int PRIMARY KEY, v text);
ALTER TABLE c_:k ADD COLUMN w integer;
DROP TABLE c_:k;
COMMIT;
},
		'002_rollback@1' => q{
\set k :client_id * 10000000000 + random(1, 2000000000)
BEGIN;
CREATE TABLE r_:k (id int);
ROLLBACK;
}
	});

my $committed = $node->safe_psql('postgres',
	"SELECT count(*) FROM migrate.ddl_audit WHERE id > $start AND command_tag = 'CREATE TABLE' AND object_identity LIKE 'public.c\\_%'");
ok($committed > 0, "some committing transactions ran ($committed)");
# Each committed transaction: CREATE TABLE, its primary key index, ALTER TABLE, and the drop
# of the table, its primary key constraint and index; since 18 also the drop of the NOT NULL
# constraint of its primary key column (a catalog object of its own there).
my $per_commit = $node->safe_psql('postgres',
	"SELECT CASE WHEN current_setting('server_version_num')::int >= 180000 THEN 7 ELSE 6 END");
is( $node->safe_psql('postgres', "SELECT count(*) FROM migrate.ddl_audit WHERE id > $start"),
	$per_commit * $committed,
	"$per_commit audit rows per committed transaction, none for the others");
is( $node->safe_psql('postgres',
		"SELECT count(*) FROM migrate.ddl_audit WHERE object_identity LIKE 'public.r\\_%'"),
	0, 'rolled-back DDL left no row');
is( $node->safe_psql('postgres', q{
SELECT count(*) = max(id) - min(id) + 1
       AND bool_and(prev_hash = lag_hash OR id = 1)
  FROM (SELECT id, prev_hash, lag(hash) OVER (ORDER BY id) AS lag_hash FROM migrate.ddl_audit) a}),
	't', 'ids contiguous and every row links to the previous one');
is( $node->safe_psql('postgres', 'SELECT valid FROM migrate.verify_audit()'),
	't', 'verify_audit() passes after concurrent DDL');
# Rows of one transaction are consecutive: the chain is appended one commit at a time.
is( $node->safe_psql('postgres', qq{
SELECT count(*) FROM (
  SELECT txid, max(id) - min(id) + 1 AS span, count(*) AS n
    FROM migrate.ddl_audit WHERE id > $start GROUP BY txid) t
 WHERE span <> n}),
	0, 'each transaction\'s rows are consecutive in the chain');

# ---- 2. statement capture
sub capture
{
	my ($marker) = @_;
	# One query string with three statements, sent by a new session (psql's \; keeps them in
	# one query string).
	$node->safe_psql('postgres',
		"CREATE TABLE ${marker}_a (x int) \\; COMMENT ON TABLE ${marker}_a IS 'a' \\; CREATE TABLE ${marker}_b (y int);");
	return $node->safe_psql('postgres', qq{
SELECT object_identity || ' | ' || statement_exact || ' | ' || statement
  FROM migrate.ddl_audit WHERE object_identity LIKE 'public.${marker}\\_%' ORDER BY id});
}

# Not preloaded: the first CREATE TABLE runs before the library is loaded. Its statement is
# looked for in the query string by its parse tree: two CREATE TABLE statements, and execution
# changed the tree (schema filled in), so it cannot be singled out: the row holds the whole
# string, statement_exact = false. The next statements run with the hook: exact.
is( capture('np'),
	"public.np_a | false | CREATE TABLE np_a (x int) ; COMMENT ON TABLE np_a IS 'a' ; CREATE TABLE np_b (y int)\n"
	  . "public.np_a | true | COMMENT ON TABLE np_a IS 'a'\n"
	  . "public.np_b | true | CREATE TABLE np_b (y int)",
	'not preloaded: an ambiguous first statement records the whole string, not exact');
# A first statement that is the only one of its kind is found in the string.
$node->safe_psql('postgres',
	"COMMENT ON TABLE np_b IS 'b' \\; ALTER TABLE np_b ADD COLUMN z int;");
is( $node->safe_psql('postgres', q{
SELECT command_tag || ' | ' || statement_exact || ' | ' || statement FROM migrate.ddl_audit
 WHERE object_identity = 'public.np_b' AND command_tag <> 'CREATE TABLE' ORDER BY id}),
	"COMMENT | true | COMMENT ON TABLE np_b IS 'b'\n"
	  . "ALTER TABLE | true | ALTER TABLE np_b ADD COLUMN z int",
	'not preloaded: a first statement of its own kind is found by its parse tree');
like(
	$node->safe_psql('postgres',
		"SELECT detail FROM migrate.audit_health() WHERE component = 'statement capture'"),
	qr/loaded on first use/, 'audit_health reports the library is not preloaded');

$node->append_conf('postgresql.conf', "shared_preload_libraries = 'migrations_schema'\n");
$node->restart;
is( capture('pl'),
	"public.pl_a | true | CREATE TABLE pl_a (x int)\n"
	  . "public.pl_a | true | COMMENT ON TABLE pl_a IS 'a'\n"
	  . "public.pl_b | true | CREATE TABLE pl_b (y int)",
	'preloaded: every statement of a multi-statement string is exact');
like(
	$node->safe_psql('postgres',
		"SELECT detail FROM migrate.audit_health() WHERE component = 'statement capture'"),
	qr/library preloaded/, 'audit_health reports the library is preloaded');
is( $node->safe_psql('postgres', 'SELECT valid FROM migrate.verify_audit()'),
	't', 'verify_audit() passes after the restart');

my $log = slurp_file($node->logfile);
unlike($log, qr/terminated by signal/, 'no backend crashed');

$node->stop;
done_testing();
