# Migrations under concurrent load.
#
# 1. The start-up race: 100 migrations are registered (001 .. 100; each creates a table with a
#    primary key, an index and a comment, and every fourth one also adds and comments a column
#    on the table of the migration three before it; each down script undoes exactly that). Then
#    16 clients call SELECT * FROM migrate.apply() at the same moment: each first waits on an
#    advisory lock the test holds (pg_locks shows all 16 waiting), the test releases it and
#    they all go for the migrations lock at once. Exactly one client applies all 100 (one call
#    is one unit), the others find nothing to do; no client gets an error; migrate.history has
#    exactly one 'apply' per version and no other row; every migration is applied and every
#    object exists. (Before that, the up scripts are linted as apply will lint them: no error
#    or warning finding, so the churn below is not refused by the safety checks.)
# 2. Churn: for a bounded time (and a bounded number of iterations), 16 clients each repeat
#    migrate.rollback(k) (k random in 1..3) then migrate.apply(): mostly as two autocommit
#    statements, sometimes both in one transaction that commits, sometimes in one that rolls
#    back (psql's ON_ERROR_ROLLBACK keeps such a transaction going past a failed call). Three
#    more clients run DDL outside migrations on their own tables (CREATE TABLE / CREATE INDEX /
#    ALTER TABLE / COMMENT / DROP TABLE, autocommit, in committed transactions and in
#    transactions that roll back). Every client records each error's SQLSTATE and message. The
#    only errors allowed are the two the README and test/specs/concurrent_rollback.spec document for a
#    rollback that finds fewer applied migrations than asked once it gets the lock ("no
#    migration is applied; nothing to roll back", 55000; "cannot roll back N migrations: only M
#    are applied", 22023). Checks at the end:
#    - replaying migrate.history in id order (= commit order: the calls serialize on the
#      migrations lock held until commit): per version the events alternate apply, rollback,
#      apply, ... starting with apply; every apply is of a migration not applied then and in
#      version order (no out-of-order flag), every rollback is of the newest applied one;
#      applied_seq of an applied migration is the id of its last apply;
#    - the rows the clients saw returned by committed calls add up to the history rows of the
#      run (rollback rows = rollback events, apply rows = apply events);
#    - the final state: a migration is 'applied' in migrate.migrations iff its last history
#      event is an apply, and its objects exist iff it is applied;
#    - the audit: migrate.verify_audit() is valid; every apply of the run has exactly one
#      CREATE TABLE row of its table (migration_version, 'up') and every rollback one DROP
#      TABLE row ('down'); the outside DDL is there with migration_version NULL, one CREATE
#      TABLE row per committed iteration of the DDL clients and none for the rolled-back ones;
#      no row of the DDL clients names a migration, every row of the migration clients does,
#      and a migration's rows are about its own objects;
#    - no deadlock (server log and pg_stat_database.deadlocks), no crash ("terminated by
#      signal", PANIC).
#
# Counts (calls: migrate.* calls made by the clients; crashes; inconsistencies) go to
# MS_STATS_FILE. MS_SEED replays the clients' random choices (not their timing);
# MS_LOAD_SECONDS changes the churn time (default 30 s). Every client stops at the deadline or
# after a fixed number of iterations, whichever comes first, and is killed after 150 s.
#
# Run as a non-root OS user with PostgreSQL::Test from PGXS (see test/run_all.sh --suite tap).

use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $t_start = time;
my $seed = length($ENV{MS_SEED} // '') ? $ENV{MS_SEED} : (int(time * 1000) ^ $$) % 2**31;
srand($seed);
note "seed $seed (replay with MS_SEED=$seed)";

my $n_migrations = 100;
my $n_clients = 16;           # migration clients, both parts
my $n_ddl_clients = 3;        # outside DDL, part 2
my $churn_seconds = length($ENV{MS_LOAD_SECONDS} // '') ? $ENV{MS_LOAD_SECONDS} : 30;
my $max_iterations = 400;     # per migration client in part 2 (rollback + apply each)
my $max_ddl_iterations = 3000;    # per DDL client
my $client_budget = 150;      # seconds a client process may run at most, both parts
my $gate_key = 6006;          # advisory lock the clients of part 1 wait on

my $node = PostgreSQL::Test::Cluster->new('concurrent_load');
$node->init;
$node->append_conf('postgresql.conf', <<'CONF');
max_connections = 40
log_min_messages = warning
CONF
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION migrations_schema');

my $dir = PostgreSQL::Test::Utils::tempdir;
my $inconsistencies = 0;
my $calls = 0;

sub q1 { return $node->safe_psql('postgres', $_[0]); }

# Counts an invariant check: a failing one is an inconsistency (and a failing test).
sub check
{
	my ($ok, $name) = @_;
	$inconsistencies++ unless $ok;
	return ok($ok, $name);
}

sub check_is
{
	my ($got, $want, $name) = @_;
	$inconsistencies++ unless defined $got && $got eq $want;
	return is($got, $want, $name);
}

# ---- the migrations

my (@versions, %mig);
for my $n (1 .. $n_migrations)
{
	my $v = sprintf('%03d', $n);
	push @versions, $v;
	my @up = (
		"CREATE TABLE m_$v (id bigint PRIMARY KEY, v text, created timestamptz NOT NULL DEFAULT now());",
		"CREATE INDEX m_${v}_v_idx ON m_$v (v);",
		"COMMENT ON TABLE m_$v IS 'migration $v';");
	my @down = ("DROP TABLE m_$v;");
	my $target;
	if ($n % 4 == 0)
	{
		$target = sprintf('%03d', $n - 3);
		push @up, "ALTER TABLE m_$target ADD COLUMN c_$v text;",
		  "COMMENT ON COLUMN m_$target.c_$v IS 'added by $v';";
		unshift @down, "ALTER TABLE m_$target DROP COLUMN c_$v;";
	}
	$mig{$v} = { up => join("\n", @up), down => join("\n", @down), target => $target };
}

# What exists of migration $v, per version: table, index, comment, and the column it adds.
my $objects_sql = do {
	my @rows = map {
		my $t = $mig{$_}{target};
		"('$_', " . (defined $t ? "'m_$t', 'c_$_'" : 'NULL, NULL') . ')'
	} @versions;
	'SELECT o.version, m.state, '
	  . "to_regclass('public.m_' || o.version) IS NOT NULL AS has_table, "
	  . "to_regclass('public.m_' || o.version || '_v_idx') IS NOT NULL AS has_index, "
	  . "obj_description(to_regclass('public.m_' || o.version), 'pg_class') IS NOT DISTINCT FROM 'migration ' || o.version AS has_comment, "
	  . 'CASE WHEN o.tbl IS NULL THEN NULL ELSE EXISTS (SELECT 1 FROM pg_attribute a '
	  . "WHERE a.attrelid = to_regclass('public.' || o.tbl) AND a.attname = o.col AND NOT a.attisdropped "
	  . "AND col_description(a.attrelid, a.attnum) = 'added by ' || o.version) END AS has_column "
	  . 'FROM (VALUES ' . join(', ', @rows) . ') o(version, tbl, col) '
	  . 'LEFT JOIN migrate.migrations m ON m.version = o.version';
};

# Versions whose objects do not match their state ('applied': all exist; otherwise: none).
sub object_mismatches
{
	return q1(
		"SELECT coalesce(string_agg(version || ' ' || coalesce(state, '(none)') || ' ' || has_table || has_index || has_comment || coalesce(has_column::text, '-'), ', ' ORDER BY version), '') FROM ($objects_sql) s "
		  . "WHERE CASE WHEN state = 'applied' THEN NOT (has_table AND has_index AND has_comment AND coalesce(has_column, true)) "
		  . 'ELSE has_table OR has_index OR coalesce(has_column, false) END');
}

# Registration, in one transaction, scripts dollar-quoted.
{
	my $sql = "BEGIN;\n";
	$sql .=
	  "SELECT migrate.register('$_', \$up\$$mig{$_}{up}\$up\$, \$down\$$mig{$_}{down}\$down\$, 'step $_');\n"
	  for @versions;
	$sql .= "COMMIT;\n";
	my $out = q1($sql);
	is(scalar(() = $out =~ /^registered$/mg), $n_migrations, "$n_migrations migrations registered");
}
is(q1("SELECT count(*) FROM migrate.migrations WHERE state = 'pending'"),
	$n_migrations, 'all pending');

# The up scripts must be free of error-level lint findings on the catalog they will meet (each
# linted after its predecessors ran, as apply does): lint them in one transaction that applies
# them, then roll it back.
{
	my $sql = "BEGIN;\n";
	for (@versions)
	{
		$sql .=
		  "SELECT count(*) FROM migrate.lint(\$up\$$mig{$_}{up}\$up\$) WHERE severity IN ('error', 'warning') AND rule_id <> 'T501';\n"
		  . "$mig{$_}{up}\n";
	}
	$sql .= "ROLLBACK;\n";
	my @counts = split /\n/, q1($sql);
	is(scalar(grep { $_ ne '0' } @counts), 0, 'no up script has an error or warning lint finding (but T501, which apply does not check)');
}

# ---- client processes
#
# Each client is psql running a generated script file, its stdout and stderr in files.
# psql -q -A -t prints only query results and \echo lines; with VERBOSITY verbose every error
# on stderr reads "psql:FILE:LINE: ERROR:  SQLSTATE: message".

my %clients;    # name => { h, out, err, file }

sub start_client
{
	my ($name, $script) = @_;
	my $file = "$dir/$name.sql";
	open my $fh, '>', $file or die "$file: $!";
	print $fh $script;
	close $fh;
	my ($out, $err) = ("$dir/$name.out", "$dir/$name.err");
	my $h = IPC::Run::start(
		[
			'psql', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=0', '-d',
			$node->connstr('postgres') . " application_name=$name", '-f', $file
		],
		'<', \undef, '>', $out, '2>', $err,
		IPC::Run::timeout($client_budget));
	$clients{$name} = { h => $h, out => $out, err => $err };
	return;
}

# Waits for the clients; returns their names that failed (timed out, or psql exited non-zero).
sub finish_clients
{
	my @bad;
	for my $name (sort keys %clients)
	{
		my $c = $clients{$name};
		my $ok = eval { $c->{h}->finish; 1 };
		if (!$ok)
		{
			diag "client $name: $@";
			eval { $c->{h}->kill_kill; 1 };
			push @bad, $name;
		}
		elsif ($c->{h}->result != 0)
		{
			diag "client $name: psql exit code " . $c->{h}->result;
			push @bad, $name;
		}
		$c->{stdout} = slurp_file($c->{out});
		$c->{stderr} = slurp_file($c->{err});
	}
	return @bad;
}

# The errors on a client's stderr: list of [sqlstate, message].
sub client_errors
{
	my ($stderr) = @_;
	my @e;
	while ($stderr =~ /^(?:psql:[^\n]*?:\d+: )?(?:ERROR|FATAL|PANIC):  (?:([0-9A-Z]{5}): )?(.*)$/mg)
	{
		push @e, [ $1 // 'none', $2 ];
	}
	return @e;
}

# ---- 1. 100 pending migrations, 16 clients at the same moment

my $ctl = $node->background_psql('postgres', on_error_stop => 1);
$ctl->query_safe("SELECT pg_advisory_lock($gate_key)");

for my $c (1 .. $n_clients)
{
	start_client("start$c", <<"SQL");
\\set VERBOSITY verbose
BEGIN;
SELECT pg_advisory_xact_lock_shared($gate_key) IS NULL AS gate \\gset
SELECT 'applied ' || version FROM migrate.apply();
COMMIT;
SQL
}
$calls += $n_clients;
ok( $node->poll_query_until(
		'postgres',
		"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 AND objid = $gate_key AND objsubid = 1 AND NOT granted",
		$n_clients),
	"all $n_clients clients wait at the gate");
my $t_race = time;
$ctl->query_safe("SELECT pg_advisory_unlock($gate_key)");
my @bad = finish_clients();
my $race_seconds = time - $t_race;
is(scalar(@bad), 0, 'part 1: every client ended normally') or diag "failed: @bad";

{
	my (%applied_by, @errors, $rows);
	for my $name (sort keys %clients)
	{
		my @v = $clients{$name}{stdout} =~ /^applied (\d+)$/mg;
		$applied_by{$name} = scalar @v;
		$rows += @v;
		push @errors, map { "$name: $_->[0] $_->[1]" } client_errors($clients{$name}{stderr});
	}
	is(scalar(@errors), 0, 'part 1: no client got an error') or diag join("\n", @errors);
	check_is($rows, $n_migrations, "part 1: the clients' apply() calls returned $n_migrations rows in all");
	my @appliers = grep { $applied_by{$_} } sort keys %applied_by;
	check_is(scalar(@appliers), 1, 'part 1: exactly one client applied (all of them in one call)');
	note "part 1: $appliers[0] applied $applied_by{$appliers[0]} migrations; race took "
	  . sprintf('%.2f s', $race_seconds)
	  if @appliers == 1;
	my @all = map { $clients{$_}{stdout} =~ /^applied (\d+)$/mg } sort keys %clients;
	my %seen;
	$seen{$_}++ for @all;
	check_is(join(',', sort keys %seen), join(',', @versions), 'part 1: every version returned');
	check_is(scalar(grep { $seen{$_} != 1 } keys %seen), 0, 'part 1: no version returned twice');
}
check_is(
	q1("SELECT count(*) FILTER (WHERE action = 'apply') || '/' || count(DISTINCT version) FILTER (WHERE action = 'apply') || '/' || count(*) FROM migrate.history"),
	"$n_migrations/$n_migrations/$n_migrations",
	'part 1: history has exactly one apply per version and nothing else');
check_is(q1("SELECT count(*) FROM migrate.migrations WHERE state = 'applied'"),
	$n_migrations, 'part 1: every migration is applied');
check_is(object_mismatches(), '', 'part 1: every object of every migration exists');
$ctl->quit;
%clients = ();

# ---- 2. churn: rollback + apply from 16 clients, outside DDL from 3 more

my $hist_start = q1('SELECT max(id) FROM migrate.history');
my $audit_start = q1('SELECT max(id) FROM migrate.ddl_audit');
my $deadline = time + $churn_seconds;

# Leaves the script when the deadline has passed.
my $deadline_check = sprintf(
	"SELECT extract(epoch FROM clock_timestamp()) >= %.3f AS done \\gset\n\\if :done\n\\q\n\\endif\n",
	$deadline);

for my $c (1 .. $n_clients)
{
	my $s = "\\set VERBOSITY verbose\n\\set ON_ERROR_ROLLBACK on\n";
	for my $i (1 .. $max_iterations)
	{
		my $k = 1 + int(rand(3));
		my $mode = rand();
		$s .= $deadline_check;
		if ($mode < 0.6)
		{
			$s .= "\\echo call\nSELECT 'rb ' || count(*) FROM migrate.rollback($k);\n"
			  . "\\echo call\nSELECT 'ap ' || count(*) FROM migrate.apply();\n";
		}
		elsif ($mode < 0.85)
		{
			$s .= "BEGIN;\n\\echo call\nSELECT 'rb ' || count(*) FROM migrate.rollback($k);\n"
			  . "\\echo call\nSELECT 'ap ' || count(*) FROM migrate.apply();\nCOMMIT;\n";
		}
		else
		{
			# Rolled back: its rows are marked x and not counted.
			$s .= "BEGIN;\n\\echo call\nSELECT 'xrb ' || count(*) FROM migrate.rollback($k);\n"
			  . "\\echo call\nSELECT 'xap ' || count(*) FROM migrate.apply();\nROLLBACK;\n";
		}
	}
	start_client("mig$c", $s);
}

for my $c (1 .. $n_ddl_clients)
{
	# A dropped column keeps its number and a table has at most 1600: every 1,000 iterations
	# the columns go to another base table (a fast machine runs all 3,000).
	q1("CREATE TABLE ddl_base_${c}_$_ (id bigint PRIMARY KEY)")
	  for 0 .. int(($max_ddl_iterations - 1) / 1000);
	my $s = "\\set VERBOSITY verbose\n";
	for my $i (1 .. $max_ddl_iterations)
	{
		my $t = "ddl_c${c}_$i";
		my $base = "ddl_base_${c}_" . int(($i - 1) / 1000);
		my $body = "CREATE TABLE $t (id bigint PRIMARY KEY, v text);\n"
		  . "CREATE INDEX ${t}_v_idx ON $t (v);\n"
		  . "ALTER TABLE $t ADD COLUMN w integer;\n"
		  . "COMMENT ON TABLE $t IS 'outside $c $i';\n"
		  . "ALTER TABLE $base ADD COLUMN x_$i integer;\n"
		  . "ALTER TABLE $base DROP COLUMN x_$i;\n";
		# Every tenth table stays.
		$body .= "DROP TABLE $t;\n" if $i % 10;
		my $mode = rand();
		$s .= $deadline_check;
		if ($mode < 0.4)
		{
			$s .= $body . "\\echo committed\n";
		}
		elsif ($mode < 0.8)
		{
			$s .= "BEGIN;\n$body" . "COMMIT;\n\\echo committed\n";
		}
		else
		{
			$s .= "BEGIN;\nCREATE TABLE ddlx_c${c}_$i (id bigint PRIMARY KEY);\n"
			  . "CREATE INDEX ddlx_c${c}_${i}_idx ON ddlx_c${c}_$i (id);\n"
			  . "ALTER TABLE $base ADD COLUMN xx_$i integer;\nROLLBACK;\n\\echo rolledback\n";
		}
		# Pacing, so that three DDL clients do not take both cores from the migrations.
		$s .= "SELECT pg_sleep(0.005) \\g /dev/null\n";
	}
	start_client("ddl$c", $s);
}

my $t_churn = time;
@bad = finish_clients();
my $churn_run = time - $t_churn;
is(scalar(@bad), 0, 'part 2: every client ended normally') or diag "failed: @bad";

my %by_state;    # SQLSTATE => count
my (@undocumented, %rows);
my ($churn_calls, $ddl_committed, $ddl_rolledback, $iter_limit_hit) = (0, 0, 0, 0);
for my $name (sort keys %clients)
{
	my ($out, $err) = @{ $clients{$name} }{qw(stdout stderr)};
	for my $e (client_errors($err))
	{
		my ($state, $msg) = @$e;
		$by_state{$state}++;
		next
		  if $name =~ /^mig/
		  && (($state eq '55000' && $msg eq 'no migration is applied; nothing to roll back')
			|| ($state eq '22023' && $msg =~ /^cannot roll back \d+ migrations: only \d+ (?:is|are) applied$/));
		push @undocumented, "$name: $state $msg";
	}
	if ($name =~ /^mig/)
	{
		my $n = () = $out =~ /^call$/mg;
		$churn_calls += $n;
		$iter_limit_hit++ if $n >= 2 * $max_iterations;
		$rows{$1} += $2 while $out =~ /^(x?rb|x?ap) (\d+)$/mg;
	}
	else
	{
		$ddl_committed += () = $out =~ /^committed$/mg;
		$ddl_rolledback += () = $out =~ /^rolledback$/mg;
	}
}
$calls += $churn_calls;
is(scalar(@undocumented), 0, 'part 2: no client got an error other than the documented ones')
  or diag join("\n", @undocumented[ 0 .. ($#undocumented < 30 ? $#undocumented : 29) ]);
cmp_ok($churn_calls, '>', 2 * $n_clients, 'part 2: the migration clients made calls');
cmp_ok($ddl_committed, '>', 0, 'part 2: the DDL clients committed DDL');

# Replay of the whole history in id order.
my @history = map { [ split /\|/ ] } split /\n/,
  q1('SELECT id, version, action, out_of_order FROM migrate.history ORDER BY id');
my (%applied, @stack, @violations);    # version => history id of its apply; apply order
my %events;
for my $h (@history)
{
	my ($id, $v, $action, $ooo) = @$h;
	$events{$action}++ if $id > $hist_start;
	if ($action eq 'apply')
	{
		push @violations, "$id: apply of $v, already applied" if $applied{$v};
		push @violations, "$id: apply of $v out of order (after $stack[-1])"
		  if @stack && $stack[-1] ge $v;
		push @violations, "$id: apply of $v flagged out_of_order" if $ooo eq 't';
		$applied{$v} = $id;
		push @stack, $v;
	}
	elsif ($action eq 'rollback')
	{
		if (!$applied{$v})
		{
			push @violations, "$id: rollback of $v, not applied";
			next;
		}
		push @violations, "$id: rollback of $v, not the newest applied ($stack[-1])"
		  if $stack[-1] ne $v;
		delete $applied{$v};
		@stack = grep { $_ ne $v } @stack;
	}
	else
	{
		push @violations, "$id: unexpected action $action of $v";
	}
}
check_is(scalar(@violations), 0,
	'history replays: per version apply and rollback alternate, applies in version order, rollbacks newest first')
  or diag join("\n", @violations[ 0 .. ($#violations < 30 ? $#violations : 29) ]);
# The same alternation in SQL, independent of the replay above.
check_is(
	q1(q{
SELECT count(*) FROM (
  SELECT action, lag(action) OVER (PARTITION BY version ORDER BY id) AS prev
    FROM migrate.history WHERE action IN ('apply', 'rollback')) h
 WHERE action = prev OR (prev IS NULL AND action <> 'apply')}),
	'0', 'no two applies or two rollbacks of a version in a row');
$events{$_} //= 0 for qw(apply rollback);
$rows{$_} //= 0 for qw(rb ap xrb xap);
check_is("$rows{rb}/$rows{ap}", "$events{rollback}/$events{apply}",
	'rows returned by committed calls = rollback/apply events of the run');
cmp_ok($events{rollback}, '>', 0, 'part 2: migrations were rolled back and applied again');

# Final state.
check_is(
	q1(q{
SELECT count(*) FROM migrate.migrations m
  LEFT JOIN LATERAL (SELECT h.id, h.action FROM migrate.history h
                      WHERE h.version = m.version AND h.action IN ('apply', 'rollback')
                      ORDER BY h.id DESC LIMIT 1) l ON true
 WHERE (m.state = 'applied') IS DISTINCT FROM (l.action = 'apply')
    OR (m.state = 'applied' AND m.applied_seq IS DISTINCT FROM l.id)
    OR (m.state <> 'applied' AND m.state <> 'rolled back')}),
	'0', "final state: applied iff the last history event is an apply (applied_seq = that apply's id)");
check_is(q1('SELECT count(*) FROM migrate.migrations'), $n_migrations, "final state: $n_migrations migrations known");
check_is(
	q1("SELECT string_agg(version, ',' ORDER BY version) FROM migrate.migrations WHERE state = 'applied'"),
	join(',', sort keys %applied),
	'final state: the applied set is the one the history replay ends with');
check_is(object_mismatches(), '', "final state: a migration's objects exist iff it is applied");

# The audit.
check_is(q1('SELECT valid FROM migrate.verify_audit()'), 't', 'verify_audit() is valid');
check_is(
	q1(qq{
SELECT count(*) FROM (
  SELECT v.version,
         (SELECT count(*) FROM migrate.history h WHERE h.version = v.version AND h.action = 'apply') AS applies,
         (SELECT count(*) FROM migrate.history h WHERE h.version = v.version AND h.action = 'rollback') AS rollbacks,
         (SELECT count(*) FROM migrate.ddl_audit a
           WHERE a.object_identity = 'public.m_' || v.version AND a.object_type = 'table' AND a.event = 'create'
             AND a.migration_version = v.version AND a.migration_script = 'up') AS creates,
         (SELECT count(*) FROM migrate.ddl_audit a
           WHERE a.object_identity = 'public.m_' || v.version AND a.object_type = 'table' AND a.event = 'drop'
             AND a.migration_version = v.version AND a.migration_script = 'down') AS drops
    FROM migrate.migrations v) s
 WHERE applies <> creates OR rollbacks <> drops}),
	'0', 'audit: one CREATE TABLE row per apply and one DROP TABLE row per rollback of every migration');
check_is(
	q1(qq{
SELECT count(*) FROM migrate.ddl_audit
 WHERE id > $audit_start AND migration_version IS NULL AND event = 'create' AND object_type = 'table'
   AND object_identity LIKE 'public.ddl\\_c%' AND application_name LIKE 'ddl%'}),
	$ddl_committed, "audit: outside DDL recorded, one CREATE TABLE per committed iteration ($ddl_committed)");
check_is(q1("SELECT count(*) FROM migrate.ddl_audit WHERE object_identity LIKE 'public.ddlx\\_%' OR statement LIKE '%xx\\_%'"),
	'0', "audit: nothing of the $ddl_rolledback rolled-back DDL transactions");
# Which rows are a migration's: the DDL clients' never, the migration clients' always (they run
# no DDL of their own), and a migration's rows are about its own objects.
for my $c (
	[ "application_name LIKE 'ddl%' AND migration_version IS NOT NULL",
		'audit: no outside DDL attributed to a migration' ],
	[ "application_name LIKE 'mig%' AND migration_version IS NULL",
		"audit: every row of the migration clients' DDL names its migration" ],
	[ q{migration_version IS NOT NULL
	    AND object_identity !~ ('(^| on )public\.m_' || migration_version || '(_|$)')
	    AND NOT (migration_version::int % 4 = 0
	             AND (object_identity = 'public.m_' || lpad((migration_version::int - 3)::text, 3, '0')
	                  OR object_identity = 'public.m_' || lpad((migration_version::int - 3)::text, 3, '0') || '.c_' || migration_version))},
		"audit: a migration's rows are about its own objects" ])
{
	my $where = "id > $audit_start AND $c->[0]";
	check_is(q1("SELECT count(*) FROM migrate.ddl_audit WHERE $where"), '0', $c->[1])
	  or diag q1(
		"SELECT id, txid, backend_pid, application_name, event, command_tag, object_type, object_identity, migration_version, migration_script, statement FROM migrate.ddl_audit WHERE $where ORDER BY id LIMIT 20"
	  );
}

# Deadlocks and crashes.
my $log = slurp_file($node->logfile);
my @deadlocks = $log =~ /^.*deadlock detected.*$/mg;
is(scalar(@deadlocks), 0, 'no "deadlock detected" in the server log')
  or diag join("\n", @deadlocks[ 0 .. ($#deadlocks < 5 ? $#deadlocks : 4) ]);
is(q1('SELECT sum(deadlocks) FROM pg_stat_database'), '0', 'pg_stat_database.deadlocks = 0');
my @crash_lines = $log =~ /^.*(?:terminated by signal|\bPANIC:|\bTRAP:).*$/mg;
my $crashes = scalar @crash_lines;
diag "crash: $_" for @crash_lines;

my $run_time = time - $t_start;
note sprintf('part 2: %.1f s of churn, %d calls by %d clients (%.0f calls/s)%s',
	$churn_run, $churn_calls, $n_clients, $churn_calls / ($churn_run || 1),
	$iter_limit_hit ? ", $iter_limit_hit clients hit the iteration bound" : '');
note "part 2: cycles done: $events{rollback} rollback and $events{apply} apply events "
  . "(rolled back in aborted transactions: $rows{xrb} rollbacks, $rows{xap} applies)";
note "part 2: outside DDL: $ddl_committed committed iterations, $ddl_rolledback rolled back";
note 'errors by SQLSTATE: '
  . (%by_state ? join(', ', map { "$_ x$by_state{$_}" } sort keys %by_state) : 'none');
note "calls $calls, crashes $crashes, inconsistencies $inconsistencies";

if (my $f = $ENV{MS_STATS_FILE})
{
	open my $fh, '>>', $f or die "$f: $!";
	print $fh "calls $calls\ncrashes $crashes\ninconsistencies $inconsistencies\n";
	close $fh;
}

is($crashes, 0, 'no crash in the server log');
is($inconsistencies, 0, 'no inconsistency');

$node->stop;
note sprintf('concurrent load: %.1f s', time - $t_start);
done_testing();
