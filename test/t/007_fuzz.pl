# Fuzzing every SQL function of the extension with random and adversarial input.
#
# Calls are generated in Perl and sent in chunks through psql (one session per chunk, errors do
# not stop it, \set VERBOSITY sqlstate so every error shows its SQLSTATE). Two databases:
#
# - "fuzz_utf8" (UTF8): well-formed text of every kind; invalid UTF-8 is refused by PostgreSQL
#   before any function sees it (22021), which is checked too;
# - "fuzz_ascii" (SQL_ASCII): no encoding check at all, so the extension's own parsers receive
#   arbitrary bytes (every byte but NUL).
#
# Inputs: random bytes, SQL token soup, mutations of valid scripts, truncated and nested dollar
# quotes, unterminated strings/comments/identifiers, deeply nested parentheses, comments and
# arrays, scripts of 10 MB, thousands of statements, NULL in every argument, empty strings,
# versions with control characters, of 10,000 characters and with SQL fragments, bad `allow`
# arrays, random step counts and timestamps. Between them, valid migrations are applied (some
# with a failing statement at a random position) and rolled back, so the state moves.
#
# Every call must succeed or raise an ERROR with a proper SQLSTATE (not XX000/XX001/XX002), the
# session must never be lost, the server log must never show "terminated by signal" (or PANIC,
# or an assertion), and after every chunk the bookkeeping must agree:
#   - migrate.verify_audit() is valid;
#   - once the steps after commit have run (CALL migrate.wait()): a migration's state is 'applied'
#     (or 'failed') iff its last apply or rollback in the history is an apply, and none is still
#     queued, applying or rolling back unless a failed step blocks it;
#   - every audit row of a migration belongs to a history row of the same transaction, or to
#     its steps;
#   - the table of each valid fuzz migration exists iff that migration is applied.
#   (ms_test.selftest('cpp_exception'), whose XX000 is deliberate, is left to the boundary suite.)
#
# MS_SEED replays a run; MS_FUZZ_CALLS sets the number of calls (default 110,000); MS_FUZZ_SAVE=DIR
# keeps a copy of every chunk of SQL sent (to replay one with psql -f); MS_FUZZ_LIGHT=1 leaves out
# the inputs of 10 MB and of thousands of statements (for runs under valgrind).

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(time);

my $t_start = time;
my $seed = $ENV{MS_SEED} || int(rand(2**31));
srand($seed);
note "seed $seed (replay with MS_SEED=$seed)";
my $target = $ENV{MS_FUZZ_CALLS} || 110_000;
my $chunk_size = 5000;

my $node = PostgreSQL::Test::Cluster->new('fuzz');
$node->init;
$node->append_conf('postgresql.conf', <<'CONF');
fsync = off
statement_timeout = '120s'
max_stack_depth = '2MB'
log_min_messages = warning
log_min_error_statement = panic
log_line_prefix = '%m [%p] %e '
log_min_duration_statement = 1000
log_statement = none
CONF
$node->start;
for my $db ([ 'fuzz_utf8', 'UTF8', 'C' ], [ 'fuzz_ascii', 'SQL_ASCII', 'C' ])
{
	$node->safe_psql('postgres',
		"CREATE DATABASE $db->[0] TEMPLATE template0 ENCODING '$db->[1]' LC_COLLATE '$db->[2]' LC_CTYPE '$db->[2]'"
	);
	$node->safe_psql($db->[0], 'CREATE EXTENSION migrations_schema');
	# the boundary self-test: the test-only module ms_selftest (test/selftest)
	$node->safe_psql($db->[0], q{CREATE SCHEMA ms_test;
		CREATE FUNCTION ms_test.selftest(kind text) RETURNS integer LANGUAGE c
		    AS 'ms_selftest', 'migrate_selftest'});
}

# ---- generators

sub pick { return $_[ int(rand(@_)) ]; }
sub chance { return rand() < $_[0]; }

my @tokens = (
	qw(CREATE TABLE INDEX ALTER DROP COLUMN ADD SET NOT NULL DEFAULT PRIMARY KEY REFERENCES
	  UNIQUE CHECK CONSTRAINT FOREIGN CONCURRENTLY IF EXISTS CASCADE RENAME TO TYPE USING
	  VIEW FUNCTION RETURNS LANGUAGE AS BEGIN END COMMIT ROLLBACK SAVEPOINT DO INSERT INTO
	  VALUES SELECT FROM WHERE UPDATE DELETE TRUNCATE GRANT REVOKE ON COMMENT IS SCHEMA
	  SEQUENCE TRIGGER EXECUTE PROCEDURE VACUUM ANALYZE CLUSTER REINDEX LOCK MODE ACCESS
	  EXCLUSIVE SHARE NOWAIT text int bigint jsonb serial now() t u v x id a b c),
	'(', ')', ',', ';', ';', ';', '.', '::', ':=', '=', '<>', '||', '*', '+', '-', '[', ']',
	"'", "''", '"', '""', '$$', '$a$', '$b$', '$_$', '$1', '/*', '*/', '--', "\n", "\t", ' ',
	"E'\\", "E'\\''", "U&'\\0041'", "U&\"\\0041\"", 'B\'101\'', "X'ff'", '\\', '1e308', '-0',
	'99999999999999999999999', "-- migrate:allow drop-table -- why\n",
	"-- migrate:allow \n", "-- migrate:up\n", "-- migrate:down\n", '$$;$$', '$a$ $b$',
	"\\\\", '%s', '%I', '%L', ':foo', ':\'foo\'', '\\gexec', "\r\n",
);

my @valid_scripts = (
	"CREATE TABLE t (id bigint PRIMARY KEY, name text NOT NULL DEFAULT '');\nCREATE INDEX ON t (name);",
	"ALTER TABLE t ADD COLUMN c int;\nCOMMENT ON COLUMN t.c IS 'c''s $$ comment';",
	"CREATE FUNCTION f() RETURNS int LANGUAGE sql AS \$\$ SELECT 1 \$\$;\nCREATE VIEW v AS SELECT f();",
	"DO \$do\$ BEGIN EXECUTE 'CREATE TABLE u (a int)'; END \$do\$;",
	"CREATE TABLE p (id int PRIMARY KEY);\nCREATE TABLE c (id int, p int REFERENCES p);",
	"ALTER TABLE t ALTER COLUMN name SET DATA TYPE varchar(10);",
	"DROP TABLE IF EXISTS t CASCADE;",
	"INSERT INTO t VALUES (1, E'a\\nb');\nUPDATE t SET name = 'x';",
	"CREATE TYPE e AS ENUM ('a', 'b');\nALTER TYPE e ADD VALUE 'c';",
	"/* block /* nested */ comment */ CREATE SEQUENCE s; -- tail",
	"CREATE INDEX CONCURRENTLY i ON t (id);",
	"BEGIN; CREATE TABLE x (); COMMIT;",
	"SET LOCAL lock_timeout = 0; LOCK TABLE t IN ACCESS EXCLUSIVE MODE;",
	"CREATE TABLE \"we\"\"ird\" (\"\" int);",
);

sub rand_bytes
{
	my ($n) = @_;
	return join '', map { chr(1 + int(rand(255))) } 1 .. $n;
}

# random well-formed unicode (no surrogates, no NUL)
sub rand_unicode
{
	my ($n) = @_;
	my $s = '';
	for (1 .. $n)
	{
		my $r = rand();
		my $cp =
			$r < 0.5 ? 32 + int(rand(95))
		  : $r < 0.6 ? 1 + int(rand(31))
		  : $r < 0.8 ? 0x80 + int(rand(0x780))
		  : $r < 0.95 ? pick(0x200B, 0x202E, 0xFEFF, 0xFFFD, 0x0301, 0x3000, 0x2028, 0x00A0)
		  :             0x10000 + int(rand(0x1000));
		$s .= chr($cp);
	}
	utf8::encode($s);
	return $s;
}

sub token_soup
{
	my ($n) = @_;
	return join(pick(' ', '', "\n"), map { pick(@tokens) } 1 .. $n);
}

sub mutate
{
	my ($s) = @_;
	for (1 .. 1 + int(rand(4)))
	{
		my $len = length $s;
		my $pos = int(rand($len + 1));
		my $r = rand();
		if ($r < 0.25) { substr($s, $pos, int(rand(10)), ''); }
		elsif ($r < 0.5) { substr($s, $pos, 0, pick(@tokens)); }
		elsif ($r < 0.6) { $s = substr($s, 0, $pos); }
		elsif ($r < 0.7) { substr($s, $pos, 0, substr($s, int(rand($len + 1)), int(rand(40)))); }
		elsif ($r < 0.8) { substr($s, $pos, 1, chr(1 + int(rand(127)))) if $pos < $len; }
		else { $s = pick(@valid_scripts) . "\n" . $s; }
	}
	return $s;
}

sub nested
{
	my $depth = pick(10, 100, 1000, 10_000, 100_000);
	my $kind = int(rand(8));
	return 'SELECT ' . ('(' x $depth) . '1' . (')' x $depth) if $kind == 0;
	return 'CREATE TABLE n (a int CHECK (' . ('(' x $depth) . 'a > 0' . (')' x $depth) . '));'
	  if $kind == 1;
	return ('/* ' x $depth) . 'x' . (chance(0.5) ? (' */' x $depth) : '') if $kind == 2;
	return join('', map { "\$q$_\$ " } 1 .. $depth) . 'body' if $kind == 3;
	return 'SELECT ' . ('ARRAY[' x $depth) . '1' . (']' x $depth) if $kind == 4;
	return 'SELECT ' . ('-' x $depth) . '1' if $kind == 5;
	return 'SELECT 1' . (' + 1' x $depth) if $kind == 6;
	return "SELECT '" . ('{"a":' x $depth) . '1' . ('}' x $depth) . "'::jsonb";
}

sub unterminated
{
	return pick(
		"CREATE TABLE t (a text DEFAULT 'never closed",
		"CREATE TABLE \"never closed (a int)",
		"CREATE FUNCTION f() RETURNS int LANGUAGE sql AS \$body\$ SELECT 1",
		"CREATE TABLE t (a int); /* never closed",
		"CREATE TABLE t (a text DEFAULT E'\\",
		"SELECT \$",
		"SELECT \$a",
		"SELECT \$a\$ \$b\$ \$a\$",
		"SELECT U&'\\d800'",
		"SELECT E'\\xff'",
		"CREATE TABLE t (a int);\n-- migrate:allow",
		"\$\$",
		";;;;",
		"",
		" \n\t ",
		"--",
		"/**/",
	);
}

# thousands of statements (kept cheap to execute when applied)
sub many_statements
{
	my $n = pick(1000, 3000, 5000);
	my $tag = int(rand(1e9));
	return join("\n", map { "COMMENT ON SCHEMA public IS 'c$tag $_';" } 1 .. $n) if chance(0.5);
	return join("\n", map { "SELECT $_;" } 1 .. $n);
}

# scripts of 10 MB: one huge statement, many statements, or an error at the very end
sub huge
{
	my $mb = 10 * 1024 * 1024;
	my $kind = int(rand(4));
	return "COMMENT ON SCHEMA public IS '" . ('x' x $mb) . "';" if $kind == 0;
	return ("SELECT 1;\n" x ($mb / 10)) if $kind == 1;
	return ('-- ' . ('y' x 1000) . "\n") x ($mb / 1004) . 'CREATE TABLE' if $kind == 2;
	return "SELECT '" . ('z' x $mb);
}

my $ascii_db = 0;    # set while generating for the SQL_ASCII database

sub script
{
	my $r = rand();
	return undef if $r < 0.05;
	return ($ascii_db ? rand_bytes(int(rand(300))) : rand_unicode(int(rand(300)))) if $r < 0.25;
	return token_soup(1 + int(rand(60))) if $r < 0.5;
	return mutate(pick(@valid_scripts)) if $r < 0.75;
	return unterminated() if $r < 0.85;
	return nested() if $r < 0.93;
	return many_statements() if $r < 0.997 && !$ENV{MS_FUZZ_LIGHT};
	return pick(@valid_scripts);
}

my $long_version = '1' x 10_000;

sub version
{
	my $r = rand();
	return undef if $r < 0.08;
	return pick('', ' ', "\t", '0', '-1', '1.2.3', '001', 'v1', '1_a', '2024-01-01',
		'1e10', '١٢٣', '+1', '1..2', '.', '_', '9' x 40)
	  if $r < 0.3;
	return $long_version if $r < 0.33;
	return ('7' x 9999) . "\x01" if $r < 0.35;
	return '1' . chr(1 + int(rand(31))) . '2' if $r < 0.45;
	return pick("1'; DROP TABLE victim; --", "1\\", "1\$\$", "\$a\$1", "1\"", "1%s%I",
		"1\nSELECT 1", "1/*", '1 OR 1=1')
	  if $r < 0.6;
	return ($ascii_db ? rand_bytes(1 + int(rand(30))) : rand_unicode(1 + int(rand(30))))
	  if $r < 0.8;
	return 'z' . int(rand(1000));
}

my @rules = qw(B401 drop-table drop_column DROP-COLUMN R101 large-table-rewrite T501 nope);

sub allow
{
	my $r = rand();
	return 'NULL' if $r < 0.4;
	return "'{}'::text[]" if $r < 0.45;
	return "'{{a},{b}}'::text[]" if $r < 0.5;
	return "ARRAY[NULL]::text[]" if $r < 0.55;
	return "'" . q({"unterminated) . "'::text[]" if $r < 0.6;
	my @items = map {
		my $x = pick(@rules, '', ' ', "drop-table -- reason", "--", "drop-table'; DROP TABLE victim; --",
			('r' x 5000));
		$x = version() // 'x' if chance(0.2);
		lit($x)
	} 1 .. 1 + int(rand(4));
	return 'ARRAY[' . join(',', @items) . ']::text[]';
}

sub lit
{
	my ($s) = @_;
	return 'NULL' unless defined $s;
	$s =~ s/\0//g;
	$s =~ s/'/''/g;
	return "'$s'";
}

sub boolean { return pick('true', 'false', 'NULL'); }

sub timestamp
{
	return pick('NULL', "'-infinity'", "'infinity'", 'now()', "now() - interval '1 hour'",
		"'2000-01-01'", "'4000-01-01'", "now() + interval '1 day'");
}

sub integer
{
	return pick('NULL', '0', '1', '1', '2', '-1', '(-2147483648)', '2147483647', '3', '1000');
}

# valid migrations that move the state: table fzNNNNN, applied, sometimes failing at a random
# statement (then nothing of it may remain), sometimes rolled back.
my $valid_seq = 0;
my %valid_versions;    # version => table name, in this database

sub valid_migration
{
	my ($db) = @_;
	$valid_seq++;
	my $v = sprintf('9%07d', $valid_seq);
	my $tbl = sprintf('fz%07d', $valid_seq);
	$valid_versions{$db}{$v} = $tbl;
	my @up = (
		"CREATE TABLE $tbl (id bigint PRIMARY KEY, note text)",
		"CREATE INDEX ${tbl}_note ON $tbl (note)",
		"COMMENT ON TABLE $tbl IS 'fuzz $v'",
		"ALTER TABLE $tbl ADD COLUMN extra int");
	if (chance(0.3))
	{
		# a failing statement at a random position after the first
		my $pos = 1 + int(rand(@up));
		splice(@up, $pos, 0, pick('SELECT 1/0', 'CREATE TABLE pg_class ()', "SELECT 'a'::int",
			'ALTER TABLE no_such_table ADD COLUMN a int'));
	}
	my $up = join(";\n", @up) . ';';
	my $down = "DROP TABLE $tbl;";
	return "SELECT migrate.apply(" . lit($v) . ', ' . lit($up) . ', ' . lit($down) . ', '
	  . lit("fuzz $valid_seq") . ', true);';
}

sub call
{
	my ($db) = @_;
	my $r = rand();
	return valid_migration($db) if $r < 0.04;
	return 'SELECT count(*) FROM migrate.rollback(1);' if $r < 0.05;
	return 'SELECT count(*) FROM migrate.split(' . lit(script()) . ');' if $r < 0.16;
	return 'SELECT count(*) FROM migrate.lint(' . lit(script()) . ');' if $r < 0.27;
	return 'SELECT migrate.checksum(' . lit(script()) . ');' if $r < 0.33;
	return 'SELECT migrate.version_compare(' . lit(version()) . ', ' . lit(version()) . ');'
	  if $r < 0.40;
	return 'SELECT migrate.register(' . lit(version()) . ', ' . lit(script()) . ', '
	  . lit(chance(0.5) ? script() : undef) . ', ' . lit(version()) . ');'
	  if $r < 0.50;
	return 'SELECT migrate.apply(' . lit(version()) . ', ' . lit(script()) . ', '
	  . lit(chance(0.5) ? script() : undef) . ', ' . lit(version()) . ', ' . boolean() . ', '
	  . allow() . ');'
	  if $r < 0.62;
	return 'SELECT count(*) FROM migrate.apply(' . lit(version()) . ', ' . boolean() . ', '
	  . allow() . ');'
	  if $r < 0.67;
	return 'SELECT count(*) FROM migrate.rollback(' . integer() . '::int, ' . allow() . ');'
	  if $r < 0.72;
	return 'SELECT count(*) FROM migrate.rollback(' . lit(version()) . '::text, ' . allow() . ');'
	  if $r < 0.77;
	return 'SELECT count(*) FROM migrate.findings(' . lit(version()) . ');' if $r < 0.80;
	# (bounded: a wait of seconds, 5000 calls a chunk, would be most of the run)
	return 'CALL migrate.wait(' . lit(version()) . ', ' . pick("'0'", "'-1 s'", "'50 ms'", "'1 ms'",
		"'infinity'") . '::interval);' if $r < 0.805;
	return 'SELECT migrate.retry(' . lit(version()) . ');' if $r < 0.81;
	return 'SELECT count(*) FROM migrate.drift(' . timestamp() . ', ' . boolean() . ');'
	  if $r < 0.84;
	return 'SELECT migrate.purge_audit(' . timestamp() . ');' if $r < 0.85;
	return 'SELECT ms_test.selftest(' . lit(pick('ok', 'bad_alloc', 'own_error',
			'pg_error', 'spi_error', 'live', 'nope', version())) . ');'
	  if $r < 0.87;
	return pick(
		'SELECT count(*) FROM migrate.status();',
		'SELECT * FROM migrate.summary();',
		'SELECT * FROM migrate.verify_audit();',
		'SELECT count(*) FROM migrate.audit_health();',
		'SELECT count(*) FROM migrate.lint_rules();',
		'SELECT migrate.audit_ddl_command_end();',
		'SELECT migrate.refuse_change();',
		'SELECT count(*) FROM migrate.rollback();',
		'SELECT count(*) FROM migrate.apply();',
		'SELECT migrate.retry();',
		"CALL migrate.wait(timeout => '50 ms');",
		# the functions reached through other spellings and argument types
		'SELECT migrate.apply(version => NULL, up_sql => NULL);',
		'SELECT count(*) FROM migrate.apply(to_version => NULL);',
		"SELECT migrate.register(NULL, NULL, NULL, NULL);",
		"SELECT migrate.checksum(NULL), migrate.version_compare(NULL, NULL);",
		"SELECT count(*) FROM migrate.split(NULL), migrate.lint(NULL);");
}

# ---- running

my %sqlstates;         # SQLSTATE => count
my $calls = 0;
my $calls_by_db = { fuzz_utf8 => 0, fuzz_ascii => 0 };
my $lost = 0;
my $bad_errors = 0;
my $inconsistencies = 0;
my $chunks = 0;
my $tmp = PostgreSQL::Test::Utils::tempdir;

sub run_chunk
{
	my ($db, $n, $extra) = @_;
	$ascii_db = $db eq 'fuzz_ascii';
	my $file = "$tmp/chunk.sql";
	open my $fh, '>:raw', $file or die "$file: $!";
	print $fh "\\set VERBOSITY sqlstate\nSET client_min_messages = error;\n";
	print $fh "SET client_encoding = 'SQL_ASCII';\n" if $ascii_db;
	print $fh "SET migrations_schema.lock_timeout = '200ms';\nSET migrations_schema.lock_retries = 0;\n";
	print $fh "SELECT 'chunk start';\n";
	my $t0 = time;
	my $sent = 0;
	for (@{ $extra // [] }) { print $fh "$_\n"; $sent++; }
	for (1 .. $n) { print $fh call($db), "\n"; $sent++; }
	print $fh "SELECT 'chunk end';\n";
	close $fh;
	my $t1 = time;
	system('cp', $file, "$ENV{MS_FUZZ_SAVE}/chunk_$chunks.sql") if $ENV{MS_FUZZ_SAVE};
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'psql', '-X', '-q', '-A', '-t', '-d', $node->connstr($db), '-f', $file ],
		'<', \undef, '>', \$out, '2>', \$err);
	my $rc = $? >> 8;
	note sprintf('chunk %d %s: %d calls, generated in %.1f s, ran in %.1f s', $chunks + 1, $db, $sent, $t1 - $t0, time - $t1);
	$chunks++;
	$calls += $sent;
	$calls_by_db->{$db} += $sent;
	my $errors = 0;
	for my $line (split /\n/, $err)
	{
		if ($line =~ /:\d+: ERROR:  ([0-9A-Z]{5})$/)
		{
			$sqlstates{$1}++;
			$errors++;
			$bad_errors++ if $1 =~ /^XX/;
		}
		elsif ($line =~ /(connection|terminated|FATAL|PANIC|server closed)/i)
		{
			diag "chunk $chunks ($db): $line";
		}
	}
	my $ended = $out =~ /chunk end/;
	if ($rc != 0 || !$ended)
	{
		$lost++;
		diag "chunk $chunks ($db): psql exit $rc, chunk end reached: " . ($ended ? 'yes' : 'no');
		my $keep = "$tmp/failed_chunk_$chunks.sql";
		rename $file, $keep;
		diag "kept as $keep";
	}
	return $errors;
}

# the invariants between migrations, history, audit and the fuzz tables, once the steps after
# commit have run (a failed step stays failed: its migration's last apply or rollback stands)
sub check_consistency
{
	my ($db) = @_;
	my ($rc, $wout, $werr) = $node->psql($db, "CALL migrate.wait(timeout => '60 s')");
	diag "$db after chunk $chunks: CALL migrate.wait(): $werr"
	  if $rc != 0 && $werr !~ /failed (at step|queued behind)/;
	# the lifecycle events: apply and rollback (update_down, apply_done, rollback_done,
	# step_failed and retry come between them). A migration whose last event is an apply may be
	# queued to roll back behind a down step that failed (docs/steps.md), its table still there:
	# accepted while a step has failed (after the wait, nothing else keeps one queued).
	my $q = $node->safe_psql($db, <<'SQL');
WITH last AS (
  SELECT DISTINCT ON (version) version, action FROM migrate.history
   WHERE action IN ('apply', 'rollback') ORDER BY version, id DESC)
SELECT (SELECT valid FROM migrate.verify_audit())::text,
 (SELECT count(*) FROM migrate.migrations m
   WHERE m.state = 'applied'
     AND (SELECT l.action FROM last l WHERE l.version = m.version) IS DISTINCT FROM 'apply'),
 (SELECT count(*) FROM last l
   WHERE l.action = 'apply'
     AND NOT EXISTS (SELECT FROM migrate.migrations m
                    WHERE m.version = l.version
                      AND (m.state IN ('applied', 'failed')
                           OR (m.state = 'queued'
                               AND EXISTS (SELECT FROM migrate.steps WHERE state = 'failed'))))),
 (SELECT count(*) FROM migrate.ddl_audit a WHERE a.migration_version IS NOT NULL
   AND NOT EXISTS (SELECT FROM migrate.history h
                    WHERE h.version = a.migration_version AND h.txid = a.txid)
   AND NOT EXISTS (SELECT FROM migrate.steps s WHERE s.version = a.migration_version)),
 (SELECT count(*) FROM migrate.migrations WHERE state IN ('queued', 'applying', 'rolling back')
     AND NOT EXISTS (SELECT FROM migrate.steps WHERE state = 'failed'))
SQL
	my ($valid, $not_applied, $missing, $orphans, $unfinished) = split /\|/, $q;
	my @bad;
	push @bad, "$unfinished migrations still on their way after the wait" if $unfinished;
	push @bad, "verify_audit() is $valid" if $valid ne 'true';
	push @bad, "$not_applied migrations rows whose last history event is not an apply" if $not_applied;
	push @bad, "$missing applied in history but not in migrations" if $missing;
	push @bad, "$orphans audit rows of a migration without its history row" if $orphans;
	my $versions = $valid_versions{$db} // {};
	if (%$versions)
	{
		my $values = join ',', map { "('$_', '$versions->{$_}')" } sort keys %$versions;
		# its table exists when it is applied, or queued to roll back behind a down step that
		# failed (its last lifecycle event an apply: a migration queued to apply ran nothing)
		my $up_ran = <<'SQL';
EXISTS (SELECT FROM migrate.migrations m WHERE m.version = f.version
         AND (m.state = 'applied'
              OR (m.state = 'queued'
                  AND (SELECT h.action FROM migrate.history h
                        WHERE h.version = f.version AND h.action IN ('apply', 'rollback')
                        ORDER BY h.id DESC LIMIT 1) = 'apply')))
SQL
		chomp $up_ran;
		my $wrong = $node->safe_psql($db, <<SQL);
SELECT count(*) FROM (VALUES $values) AS f(version, tbl)
 WHERE (to_regclass(f.tbl) IS NOT NULL) <> $up_ran
SQL
		if ($wrong)
		{
			push @bad, "$wrong fuzz tables whose existence disagrees with migrate.migrations";
			diag $node->safe_psql($db, <<SQL);
SELECT f.version, f.tbl, to_regclass(f.tbl) IS NOT NULL AS table_exists,
       $up_ran AS up_ran,
       (SELECT m.state FROM migrate.migrations m WHERE m.version = f.version) AS state,
       (SELECT string_agg(h.action, ',' ORDER BY h.id) FROM migrate.history h WHERE h.version = f.version)
  FROM (VALUES $values) AS f(version, tbl)
 WHERE (to_regclass(f.tbl) IS NOT NULL) <> $up_ran
 LIMIT 5
SQL
		}
	}
	for (@bad) { diag "$db after chunk $chunks: $_"; }
	$inconsistencies += scalar @bad;
	return scalar @bad;
}

sub crashes_in_log
{
	my $log = slurp_file($node->logfile);
	my @lines = grep { /terminated by signal|PANIC|TRAP:|server process .* was terminated/ }
	  split /\n/, $log;
	diag $_ for @lines[0 .. ($#lines < 9 ? $#lines : 9)];
	return scalar @lines;
}

# the special inputs each run must contain, whatever the random mix
my @must = (
	'SELECT count(*) FROM migrate.split(' . lit(huge()) . ');',
	'SELECT count(*) FROM migrate.lint(' . lit(huge()) . ');',
	'SELECT migrate.checksum(' . lit(huge()) . ');',
	"SELECT migrate.apply('8000001', " . lit("COMMENT ON SCHEMA public IS '" . ('x' x (10 * 1024 * 1024)) . "';") . ", NULL, 'huge comment', true);",
	"SELECT migrate.apply('8000002', " . lit(("SELECT 1;\n" x (1024 * 1024)) . 'CREATE TABLE') . ", NULL, 'huge, fails at the end', true);",
	"SELECT migrate.register('8000003', " . lit(huge()) . ', ' . lit(huge()) . ');',
	"SELECT migrate.apply('8000004', " . lit(join("\n", map { "COMMENT ON SCHEMA public IS 'n $_';" } 1 .. 5000)) . ", NULL, 'thousands', true);",
	"SELECT count(*) FROM migrate.rollback('8000003', NULL);",
	'SELECT migrate.version_compare(' . lit($long_version) . ', ' . lit($long_version . '0') . ');',
	"SELECT migrate.register(" . lit($long_version) . ", 'SELECT 1');",
	"SELECT migrate.register(E'1\\x01\\x1f2', 'SELECT 1');",
	"SELECT migrate.apply(E'1\\t2', 'SELECT 1');",
	'SELECT count(*) FROM migrate.split(' . lit(nested()) . ');',
);

my $utf8_invalid = 0;
{
	# invalid UTF-8 sent to the UTF8 database: refused by PostgreSQL with 22021
	my @bad_utf8 = ("\xff", "\xc3\x28", "\xe2\x82", "\xf0\x28\x8c\x28", "\xed\xa0\x80", "a\x80b");
	my $before = $sqlstates{'22021'} // 0;
	run_chunk('fuzz_utf8', 0,
		[ map { ('SELECT migrate.checksum(' . lit($_) . ');',
				'SELECT migrate.register(' . lit("1$_") . ", 'SELECT 1');",
				'SELECT count(*) FROM migrate.lint(' . lit("CREATE TABLE \"$_\" ()") . ');') } @bad_utf8 ]);
	$utf8_invalid = ($sqlstates{'22021'} // 0) - $before;
	is($utf8_invalid, 3 * 6, 'invalid UTF-8 sent to a UTF8 database is refused with 22021 every time');
}

# MS_FUZZ_LIGHT=1 (used under valgrind, where they take minutes) leaves the 10 MB and the
# thousands-of-statements inputs out
@must = grep { length($_) < 100_000 } @must if $ENV{MS_FUZZ_LIGHT};
run_chunk('fuzz_utf8', 0, \@must);
run_chunk('fuzz_ascii', 0, \@must);
check_consistency($_) for qw(fuzz_utf8 fuzz_ascii);

while ($calls < $target)
{
	my $db = $chunks % 2 ? 'fuzz_ascii' : 'fuzz_utf8';
	run_chunk($db, $chunk_size);
	check_consistency($db);
	last if $lost;
	# Random registrations pile up pending migrations, and one that always fails (its table
	# exists, ...) makes every later apply() run all those before it and roll them back, so
	# calls would get slower with every chunk. Pending (never applied) migrations are removed
	# between chunks, as the tables' owner may.
	$node->safe_psql($db, "DELETE FROM migrate.migrations WHERE state = 'pending'");
}

my $crashes = crashes_in_log();
{
	# the errors without a proper SQLSTATE and the slowest statements, from the server log
	my @log = split /\n/, slurp_file($node->logfile);
	my %seen;
	for (grep { / XX\d\d\d ERROR: / } @log)
	{
		my $m = substr($_, index($_, 'ERROR:'), 300);
		diag "internal error: $m" unless $seen{$m}++;
	}
	my @slow = sort { $b->[0] <=> $a->[0] }
	  map { /duration: ([\d.]+) ms\s+statement: (.*)/ ? [ $1, substr($2, 0, 150) ] : () } @log;
	note sprintf('slow: %.0f ms %s', @$_) for @slow[0 .. ($#slow < 14 ? $#slow : 14)];
}
my $elapsed = time - $t_start;

note sprintf('%d calls in %d chunks (%d UTF8, %d SQL_ASCII), %.0f s, %.0f calls/s', $calls,
	$chunks, $calls_by_db->{fuzz_utf8}, $calls_by_db->{fuzz_ascii}, $elapsed, $calls / $elapsed);
my $errors = 0;
$errors += $_ for values %sqlstates;
note sprintf('%d succeeded, %d errors by SQLSTATE: %s', $calls - $errors, $errors,
	join(' ', map { "$_=$sqlstates{$_}" } sort { $sqlstates{$b} <=> $sqlstates{$a} } keys %sqlstates));

# MS_FUZZ_MIN: the least number of calls that counts as a run (lowered with MS_FUZZ_CALLS by
# test/sanitize.sh; the test command runs the full 100,000)
my $min_calls = $ENV{MS_FUZZ_MIN} || 100_000;
cmp_ok($calls, '>=', $min_calls, "at least $min_calls calls");
is($lost, 0, 'no session was lost');
is($bad_errors, 0, 'every error has a proper SQLSTATE (no XX000, XX001, XX002)');
is($crashes, 0, 'no backend terminated by a signal, no PANIC, no assertion in the server log');
is($inconsistencies, 0, 'migrations, history, audit and the fuzz tables agree after every chunk');
cmp_ok($errors, '<', $calls, 'some calls succeeded');

if (my $f = $ENV{MS_STATS_FILE})
{
	open my $fh, '>>', $f or die "$f: $!";
	print $fh "calls $calls\ncrashes $crashes\ninconsistencies $inconsistencies\n";
	close $fh;
}

$node->stop;
done_testing();
