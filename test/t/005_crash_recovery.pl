# A migration is all-or-nothing across crashes and restarts.
#
# 1. SIGKILL trials: a multi-statement migration (CREATE TABLE, CREATE INDEX, ALTER TABLE ADD
#    COLUMN, COMMENT, INSERT, CREATE VIEW, sequence, function, type, constraint) is applied by
#    migrate.apply() in a background psql session whose backend is killed with SIGKILL at a
#    chosen point; the postmaster reinitializes and runs crash recovery (fsync on). Kill points:
#    a. statement k of the script (random): the script holds at position k
#       SELECT pg_advisory_xact_lock(key) while a control session holds pg_advisory_lock(key);
#       killed while the backend waits for it (pg_locks, granted = false);
#    b. the history insert: the control session holds LOCK TABLE migrate.history IN SHARE MODE;
#       killed while the backend waits for its ROW EXCLUSIVE lock on migrate.history;
#    c. the write of migrate.migrations (apply reads it before, with ACCESS SHARE only, which a
#       SHARE lock does not block): LOCK TABLE migrate.migrations IN SHARE MODE; killed while the
#       backend, its history row inserted, waits for migrate.migrations;
#    d. the audit flush at commit (pre-commit): LOCK TABLE migrate.ddl_audit IN SHARE MODE;
#       killed while the backend, its bookkeeping written, waits for migrate.ddl_audit;
#    e. a random moment of a larger migration (20,000 rows, indexes, a CREATE TABLE AS),
#       whatever it is doing: 0 to 1.25 times the duration of its reference apply (at least
#       50 ms) after sending it, so that kills land in its statements, around its commit and
#       after it.
# 2. Server restarts while a migration runs: pg_ctl stop -m fast and -m immediate, once while
#    the migration sleeps in a statement in the middle of its script (pg_sleep), once while it
#    waits for the audit flush at commit; then start.
#
# After every trial the migration is either wholly there (its migrate.migrations row applied,
# exactly one 'apply' history row, every object it creates, its audit rows identical (event, tag,
# object, statement) to those of a reference apply of the same script under another version)
# or wholly absent (no migrations row, no history row, no object, no audit row); kinds a-d and
# the restarts stop it before commit, so there it must be absent. Always: migrate.verify_audit()
# is valid, migrate.status() runs and agrees, and applying the same migration again succeeds and
# leaves it wholly there.
#
# The server log may show "terminated by signal" only for the test's own SIGKILLs: exactly one
# "terminated by signal 9" per killed pid; anything else (or a PANIC) is a crash.
#
# MS_SEED replays a run (kinds, order, statement positions, kind e's delays as fractions of their
# range). Counts go to MS_STATS_FILE (trials, crashes, inconsistencies).
#
# Run as a non-root OS user with PostgreSQL::Test from PGXS (see test/run_all.sh --suite tap).

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);
use FindBin;
use lib $FindBin::RealBin;
use MsQuery;

my $t_start = time;
my $seed = length($ENV{MS_SEED} // "") ? $ENV{MS_SEED} : (int(time * 1000) ^ $$) % 2**31;
srand($seed);
note "seed $seed (replay with MS_SEED=$seed)";

# SIGKILL trials per kind (60 in all).
my %per_kind = (a => 18, b => 10, c => 10, d => 10, e => 12);
my $lock_key = 5005;    # advisory lock of kind a

my $node = PostgreSQL::Test::Cluster->new('crash_recovery');
$node->init;
$node->append_conf('postgresql.conf', <<'CONF');
fsync = on
restart_after_crash = on
checkpoint_timeout = 30s
log_checkpoints = off
max_connections = 20
CONF
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION migrations_schema');

# ---- sessions (query helpers: t/MsQuery.pm)

# True once the query started with $banner has ended (its banner is on stdout).
sub query_ended
{
	my ($s, $banner) = @_;
	eval { $s->{run}->pump_nb; 1 };
	return $s->{stdout} =~ /$banner\r?\n/ || !eval { $s->{run}->pumpable };
}

# Ends a psql session whose server connection may be gone (psql then has exited by itself).
sub close_session
{
	my ($s) = @_;
	eval { $s->{run}->pump_nb; 1 };
	$s->{stdin} .= "\\q\n" if eval { $s->{run}->pumpable };
	eval { $s->{run}->finish; 1 } or eval { $s->{run}->kill_kill; 1 };
	return;
}

sub new_session
{
	my ($app) = @_;
	my $s = $node->background_psql('postgres', on_error_stop => 0);
	query_ok($s, "SET application_name = '$app';");
	my $pid = query_ok($s, 'SELECT pg_catalog.pg_backend_pid();');
	die "no backend pid: '$pid'" unless $pid =~ /^\d+$/;
	return ($s, $pid);
}

# Polls $sql in session $s until it returns 't' (at most $secs seconds, or until the migrator's
# query ends); true when it did.
sub poll_in
{
	my ($s, $sql, $secs, $migrator, $banner) = @_;
	my $deadline = time + $secs;
	while (time < $deadline)
	{
		return 1 if query_ok($s, $sql) eq 't';
		return 0 if $migrator && query_ended($migrator, $banner);
		usleep(5_000);
	}
	return 0;
}

sub log_size { return -s $node->logfile; }

# Waits until the server log, from $offset, shows $re; false after $secs seconds.
sub wait_log
{
	my ($re, $offset, $secs) = @_;
	my $deadline = time + $secs;
	while (time < $deadline)
	{
		my $log = slurp_file($node->logfile, $offset);
		return 1 if $log =~ $re;
		usleep(20_000);
	}
	return 0;
}

# ---- migrations
#
# A "shape" is a script template (statements with @ for the version) and what it creates.

my %shapes = (
	base => {
		stmts => [
			'CREATE TABLE t_@ (id bigint PRIMARY KEY, v text NOT NULL)',
			'CREATE INDEX t_@_v_idx ON t_@ (v)',
			'ALTER TABLE t_@ ADD COLUMN w integer',
			q{COMMENT ON TABLE t_@ IS 'trial @'},
			q{INSERT INTO t_@ (id, v, w) SELECT g, 'r' || g, g FROM generate_series(1, 50) g},
			'CREATE VIEW v_@ AS SELECT id, v FROM t_@ WHERE w > 10',
			'CREATE SEQUENCE s_@',
			'CREATE FUNCTION f_@() RETURNS integer LANGUAGE sql AS $f$SELECT 1$f$',
			q{CREATE TYPE e_@ AS ENUM ('x', 'y')},
			'ALTER TABLE t_@ ADD CONSTRAINT t_@_w_check CHECK (w > 0)',
		],
		down => 'DROP VIEW v_@; DROP TABLE t_@; DROP SEQUENCE s_@; DROP FUNCTION f_@(); DROP TYPE e_@',
		objects => [
			q{to_regclass('public.t_@') IS NOT NULL},
			q{to_regclass('public.t_@_pkey') IS NOT NULL},
			q{to_regclass('public.t_@_v_idx') IS NOT NULL},
			q{to_regclass('public.v_@') IS NOT NULL},
			q{to_regclass('public.s_@') IS NOT NULL},
			q{to_regprocedure('public.f_@()') IS NOT NULL},
			q{to_regtype('public.e_@') IS NOT NULL},
			q{EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('public.t_@') AND attname = 'w' AND NOT attisdropped)},
			q{EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 't_@_w_check')},
			q{obj_description(to_regclass('public.t_@'), 'pg_class') IS NOT DISTINCT FROM 'trial @'},
		],
		table => 't_@',
		rows => 50,
	},
	big => {
		stmts => [
			'CREATE TABLE big_@ (id bigint PRIMARY KEY, v text NOT NULL, w integer NOT NULL)',
			'INSERT INTO big_@ SELECT g, md5(g::text), g % 1000 FROM generate_series(1, 20000) g',
			'CREATE INDEX big_@_v_idx ON big_@ (v)',
			'CREATE INDEX big_@_w_idx ON big_@ (w)',
			'ALTER TABLE big_@ ADD COLUMN z integer',
			q{COMMENT ON TABLE big_@ IS 'big @'},
			'CREATE VIEW bigv_@ AS SELECT w, count(*) AS n FROM big_@ GROUP BY w',
			'CREATE TABLE big2_@ AS SELECT id, v FROM big_@ WHERE w < 100',
			'CREATE INDEX big2_@_id_idx ON big2_@ (id)',
		],
		down => 'DROP VIEW bigv_@; DROP TABLE big2_@; DROP TABLE big_@',
		objects => [
			q{to_regclass('public.big_@') IS NOT NULL},
			q{to_regclass('public.big_@_pkey') IS NOT NULL},
			q{to_regclass('public.big_@_v_idx') IS NOT NULL},
			q{to_regclass('public.big_@_w_idx') IS NOT NULL},
			q{EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('public.big_@') AND attname = 'z' AND NOT attisdropped)},
			q{obj_description(to_regclass('public.big_@'), 'pg_class') IS NOT DISTINCT FROM 'big @'},
			q{to_regclass('public.bigv_@') IS NOT NULL},
			q{to_regclass('public.big2_@') IS NOT NULL},
			q{to_regclass('public.big2_@_id_idx') IS NOT NULL},
		],
		table => 'big_@',
		rows => 20000,
	});

sub subst { my ($text, $v) = @_; $text =~ s/@/$v/g; return $text; }

# The SQL that applies shape $shape as version $v, with statement $extra inserted at
# position $pos (1-based) when given.
sub apply_sql
{
	my ($shape, $v, $extra, $pos) = @_;
	my @stmts = map { subst($_, $v) } @{ $shapes{$shape}{stmts} };
	splice(@stmts, $pos - 1, 0, $extra) if defined $extra;
	my $up = join(";\n", @stmts) . ";\n";
	my $down = subst($shapes{$shape}{down}, $v);
	return "SELECT migrate.apply('$v', \$u\$$up\$u\$, \$d\$$down\$d\$, 'crash trial $v');";
}

# What the audit holds for migration $v, in commit order, with the version replaced by @
# (so that two versions of one shape compare equal).
sub audit_signature_sql
{
	my ($v) = @_;
	return qq{(SELECT coalesce(md5(string_agg(concat_ws('|', event, command_tag, object_type,
	    replace(object_identity, '$v', '\@'), replace(statement, '$v', '\@'), migration_script,
	    statement_exact::text), E'\\n' ORDER BY id)), '')
	  FROM migrate.ddl_audit WHERE migration_version = '$v')};
}

# The facts about migration $v of shape $shape, in one query.
sub facts
{
	my ($shape, $v) = @_;
	my $objs = join(",\n", map { '(' . subst($_, $v) . ')' } @{ $shapes{$shape}{objects} });
	my $sig = audit_signature_sql($v);
	my $row = $node->safe_psql('postgres', qq{
SELECT (SELECT count(*) FROM migrate.migrations WHERE version = '$v'),
       (SELECT count(*) FROM migrate.migrations WHERE version = '$v' AND state = 'applied'),
       (SELECT count(*) FROM migrate.history WHERE version = '$v' AND action = 'apply'),
       (SELECT count(*) FROM migrate.history WHERE version = '$v'),
       (SELECT count(*) FROM migrate.ddl_audit WHERE migration_version = '$v'),
       $sig,
       (SELECT count(*) FILTER (WHERE ok) FROM (VALUES $objs) o(ok)),
       (SELECT valid FROM migrate.verify_audit()),
       (SELECT coalesce(string_agg(state, ','), '') FROM migrate.status() WHERE version = '$v')});
	my %f;
	@f{qw(mig applied hist_apply hist audit sig objects audit_valid status)} = split /\|/, $row, -1;
	my $table = subst($shapes{$shape}{table}, $v);
	$f{rows} =
	  $f{objects} > 0
	  ? $node->safe_psql('postgres',
		"SELECT CASE WHEN to_regclass('public.$table') IS NULL THEN -1 ELSE (SELECT count(*) FROM public.$table) END")
	  : -1;
	return \%f;
}

# Reference applies: the audit rows of a successful apply of each shape, and how long the
# big one takes from a client session (it sets the range of kind e's delays).
my %ref;
{
	my ($s) = new_session('crash_reference');
	for my $r ([ 'base', 'b001' ], [ 'big', 'b002' ])
	{
		my ($shape, $v) = @$r;
		my $t0 = time;
		is(query_ok($s, apply_sql($shape, $v)), 'applied', "reference $shape applied as $v");
		my $took = time - $t0;
		my $f = facts($shape, $v);
		is($f->{objects}, scalar @{ $shapes{$shape}{objects} }, "reference $shape: every object exists");
		is($f->{rows}, $shapes{$shape}{rows}, "reference $shape: its rows");
		cmp_ok($f->{audit}, '>=', scalar @{ $shapes{$shape}{stmts} },
			"reference $shape: at least one audit row per statement ($f->{audit})");
		$ref{$shape} = { audit => $f->{audit}, sig => $f->{sig}, ms => 1000 * $took };
		note sprintf("reference %s (%s): %.1f ms, %d audit rows:\n%s", $shape, $v, 1000 * $took,
			$f->{audit}, $node->safe_psql('postgres',
				"SELECT string_agg(event || ' ' || command_tag || ' ' || object_identity, E'\\n' ORDER BY id) FROM migrate.ddl_audit WHERE migration_version = '$v'"));
	}
	close_session($s);
}
# Kind e kills at a random moment from 0 to 1.25 times the reference duration (at least 50 ms),
# so that some kills land in the statements, some around the commit and some after it.
my $e_max_us = int(1000 * ($ref{big}{ms} * 1.25 > 50 ? $ref{big}{ms} * 1.25 : 50));
note sprintf('kind e delays: 0 to %.1f ms', $e_max_us / 1000);

my ($trials, $inconsistencies) = (0, 0);
my %killed;    # pid => SIGKILLs sent
my %outcome;   # kind => { present => n, absent => n }

# Checks the invariant for migration $v; $must_be_absent when it was stopped before commit.
# Returns the state found ("present", "absent" or "mixed") and the violated parts.
sub check_invariant
{
	my ($shape, $v, $must_be_absent) = @_;
	my $f = facts($shape, $v);
	my $nobj = scalar @{ $shapes{$shape}{objects} };
	my @bad;
	my $state;
	if ($f->{mig} > 0)
	{
		$state = 'present';
		push @bad, "migrations row not applied (status '$f->{status}')" unless $f->{applied} == 1;
		push @bad, "$f->{hist_apply} apply rows in history" unless $f->{hist_apply} == 1;
		push @bad, "$f->{hist} history rows" unless $f->{hist} == 1;
		push @bad, "$f->{objects} of $nobj objects" unless $f->{objects} == $nobj;
		push @bad, "$f->{rows} rows in its table" unless $f->{rows} == $shapes{$shape}{rows};
		push @bad, "$f->{audit} audit rows, expected $ref{$shape}{audit}"
		  unless $f->{audit} == $ref{$shape}{audit};
		push @bad, "audit rows differ from the reference apply"
		  unless $f->{sig} eq $ref{$shape}{sig};
		push @bad, "status() says '$f->{status}'" unless $f->{status} eq 'applied';
		push @bad, 'present although stopped before commit' if $must_be_absent;
	}
	else
	{
		$state = 'absent';
		push @bad, "$f->{hist} history rows" unless $f->{hist} == 0;
		push @bad, "$f->{objects} of $nobj objects" unless $f->{objects} == 0;
		push @bad, "$f->{audit} audit rows" unless $f->{audit} == 0;
		push @bad, "status() says '$f->{status}'" unless $f->{status} eq '';
	}
	push @bad, 'verify_audit() not valid' unless $f->{audit_valid} eq 't';
	$state = 'mixed' if @bad && $state eq 'absent' && ($f->{hist} || $f->{objects} || $f->{audit});
	return ($state, @bad);
}

# After a trial: the invariant, then a fresh apply of the same migration, then the invariant
# again (wholly there).
sub after_trial
{
	my ($kind, $shape, $v, $sql, $must_be_absent, $label) = @_;
	$trials++;
	my ($state, @bad) = check_invariant($shape, $v, $must_be_absent);
	$inconsistencies += @bad;
	ok(!@bad, "$label: all or nothing ($state)") or diag "$label: " . join('; ', @bad);
	$outcome{$kind}{$state}++;

	my ($out, $err) = ('', '');
	my $rc = $node->psql('postgres', $sql, stdout => \$out, stderr => \$err);
	my $want = $state eq 'present' ? 'unchanged' : 'applied';
	my $fine = $rc == 0 && $out eq $want;
	$inconsistencies++ unless $fine;
	ok($fine, "$label: applying it again returns $want") or diag "$label: rc $rc, '$out', $err";
	my ($state2, @bad2) = check_invariant($shape, $v, 0);
	push @bad2, "state $state2 after the new apply" unless $state2 eq 'present';
	$inconsistencies += @bad2;
	ok(!@bad2, "$label: wholly there after applying again") or diag "$label: " . join('; ', @bad2);
	return $state;
}

# Waits for the postmaster to notice the killed backend and to accept connections again.
sub wait_recovered
{
	my ($pid, $offset, $label) = @_;
	ok( wait_log(
			qr/\(PID $pid\) was terminated by signal 9.*database system is ready to accept connections/s,
			$offset, 120),
		"$label: the server restarted after the SIGKILL")
	  or BAIL_OUT("server did not recover");
	ok($node->poll_query_until('postgres', 'SELECT true'), "$label: accepts connections");
	return;
}

# ---- 1. SIGKILL trials

my @kinds = map { ($_) x $per_kind{$_} } sort keys %per_kind;
for (my $i = $#kinds; $i > 0; $i--)
{
	my $j = int(rand($i + 1));
	@kinds[ $i, $j ] = @kinds[ $j, $i ];
}

my %lock_table = (b => 'migrate.history', c => 'migrate.migrations', d => 'migrate.ddl_audit');
my $n = 0;
for my $kind (@kinds)
{
	$n++;
	my $v = sprintf('c%03d', $n);
	my $shape = $kind eq 'e' ? 'big' : 'base';
	my ($pos, $extra, $delay_us);
	if ($kind eq 'a')
	{
		$pos = 1 + int(rand(scalar(@{ $shapes{base}{stmts} }) + 1));
		$extra = "SELECT pg_advisory_xact_lock($lock_key)";
	}
	$delay_us = int(rand() * $e_max_us) if $kind eq 'e';
	my $sql = apply_sql($shape, $v, $extra, $pos);
	my $label = "trial $v kind $kind"
	  . (defined $pos ? " (statement $pos)" : '')
	  . (defined $delay_us ? sprintf(' (%.1f ms)', $delay_us / 1000) : '');

	my ($ctl, $cpid) = new_session('crash_control');
	my ($mig, $mpid) = new_session('crash_migrator');
	query_ok($mig, q{SET migrations_schema.lock_timeout = '60s';});

	my $reached = 1;
	my $banner;
	if ($kind eq 'a')
	{
		query_ok($ctl, "SELECT pg_catalog.pg_advisory_lock($lock_key);");
		$banner = start_query($mig, $sql);
		$reached = poll_in($ctl, qq{SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_locks
		  WHERE pid = $mpid AND locktype = 'advisory' AND classid = 0 AND objid = $lock_key
		    AND objsubid = 1 AND NOT granted);}, 60, $mig, $banner);
	}
	elsif ($kind =~ /^[bcd]$/)
	{
		query_ok($ctl, 'BEGIN;');
		query_ok($ctl, "LOCK TABLE $lock_table{$kind} IN SHARE MODE;");
		$banner = start_query($mig, $sql);
		# Waiting for the table, with what comes before it in apply already done: the history
		# row before migrate.migrations, both before the audit flush.
		my @done =
			$kind eq 'b' ? ()
		  : $kind eq 'c' ? ('migrate.history')
		  :                ('migrate.history', 'migrate.migrations');
		my $done_sql = join('', map { qq{
		    AND EXISTS (SELECT 1 FROM pg_catalog.pg_locks WHERE pid = $mpid AND locktype = 'relation'
		      AND relation = '$_'::regclass AND mode = 'RowExclusiveLock' AND granted)} } @done);
		$reached = poll_in($ctl, qq{SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_locks
		  WHERE pid = $mpid AND locktype = 'relation' AND relation = '$lock_table{$kind}'::regclass
		    AND NOT granted)$done_sql;}, 60, $mig, $banner);
	}
	else
	{
		$banner = start_query($mig, $sql);
		usleep($delay_us);
	}
	ok($reached, "$label: the migrating backend reached the kill point")
	  or diag "$label: migrator said: $mig->{stdout} $mig->{stderr}";

	my $offset = log_size();
	is(kill('KILL', $mpid), 1, "$label: SIGKILL sent to backend $mpid");
	$killed{$mpid}++;
	wait_recovered($mpid, $offset, $label);
	close_session($mig);
	close_session($ctl);

	after_trial($kind, $shape, $v, $sql, $kind ne 'e', $label);
}

# ---- 2. server restarts while a migration runs

# The statement sleeps as long as the session's crash_test.sleep says: 30 s in the migrating
# session, nothing when the same migration is applied again afterwards.
my $sleep_stmt =
  q{SELECT pg_sleep(coalesce(nullif(current_setting('crash_test.sleep', true), ''), '0')::float8)};
my @restarts = (
	[ 'fast', 'sleep' ], [ 'immediate', 'sleep' ], [ 'fast', 'flush' ], [ 'immediate', 'flush' ]);
my $r = 0;
for my $rs (@restarts)
{
	my ($mode, $point) = @$rs;
	$r++;
	my $v = sprintf('d%03d', $r);
	my $label = "restart $v ($mode, $point)";
	my $sql =
	  $point eq 'sleep'
	  ? apply_sql('base', $v, $sleep_stmt, 6)
	  : apply_sql('base', $v);

	my ($ctl, $cpid) = new_session('crash_control');
	my ($mig, $mpid) = new_session('crash_migrator');
	my ($banner, $reached);
	if ($point eq 'sleep')
	{
		query_ok($mig, 'SET crash_test.sleep = 30;');
		$banner = start_query($mig, $sql);
		$reached = poll_in($ctl, qq{SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity
		  WHERE pid = $mpid AND wait_event = 'PgSleep');}, 60, $mig, $banner);
	}
	else
	{
		query_ok($ctl, 'BEGIN;');
		query_ok($ctl, 'LOCK TABLE migrate.ddl_audit IN SHARE MODE;');
		$banner = start_query($mig, $sql);
		$reached = poll_in($ctl, qq{SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_locks
		  WHERE pid = $mpid AND locktype = 'relation' AND relation = 'migrate.ddl_audit'::regclass
		    AND NOT granted)
		  AND EXISTS (SELECT 1 FROM pg_catalog.pg_locks WHERE pid = $mpid AND locktype = 'relation'
		    AND relation = 'migrate.migrations'::regclass AND mode = 'RowExclusiveLock' AND granted);},
			60, $mig, $banner);
	}
	ok($reached, "$label: the migration is running at the stop point")
	  or diag "$label: migrator said: $mig->{stdout} $mig->{stderr}";
	my $t0 = time;
	$node->stop($mode);
	close_session($mig);
	close_session($ctl);
	$node->start;
	note sprintf('%s: stop and start took %.1f s', $label, time - $t0);
	after_trial("restart $mode/$point", 'base', $v, $sql, 1, $label);
}

# ---- the checker itself sees half-there migrations (not counted as trials)
{
	# The objects of z001 made by hand, without a migration: "absent" with objects.
	$node->safe_psql('postgres', join(";\n", map { subst($_, 'z001') } @{ $shapes{base}{stmts} }));
	my ($state, @bad) = check_invariant('base', 'z001', 0);
	ok($state eq 'mixed' && grep(/10 of 10 objects/, @bad),
		"checker: objects without their migration are reported ($state: @bad)");
	# z002 applied, then one of its objects dropped by hand: "present" with an object missing.
	$node->safe_psql('postgres', apply_sql('base', 'z002'));
	($state, @bad) = check_invariant('base', 'z002', 0);
	ok($state eq 'present' && !@bad, 'checker: z002 wholly there');
	$node->safe_psql('postgres', 'DROP VIEW v_z002');
	($state, @bad) = check_invariant('base', 'z002', 0);
	ok(grep(/9 of 10 objects/, @bad), "checker: a missing object is reported (@bad)");
	($state, @bad) = check_invariant('base', 'z002', 1);
	ok(grep(/stopped before commit/, @bad), 'checker: present where it must be absent is reported');
}

# ---- 3. the server log: only the test's own SIGKILLs

my $log = slurp_file($node->logfile);
my %seen;
my $crashes = 0;
while ($log =~ /^.*\(PID (\d+)\) was terminated by signal (\d+).*$/mg)
{
	my ($pid, $sig, $line) = ($1, $2, $&);
	if ($sig == 9 && $killed{$pid} && ($seen{$pid} // 0) < $killed{$pid})
	{
		$seen{$pid}++;
	}
	else
	{
		$crashes++;
		diag "crash: $line";
	}
}
my @panics = $log =~ /^.*\b(?:PANIC|TRAP):.*$/mg;
$crashes += @panics;
diag "crash: $_" for @panics;
my $kills = 0;
$kills += $_ for values %killed;
my $logged = 0;
$logged += $_ for values %seen;
is($logged, $kills, "every SIGKILL ($kills) logged exactly once as terminated by signal 9");

for my $kind (sort keys %outcome)
{
	note sprintf('kind %-17s present %2d, absent %2d%s', $kind, $outcome{$kind}{present} // 0,
		$outcome{$kind}{absent} // 0,
		$outcome{$kind}{mixed} ? ", MIXED $outcome{$kind}{mixed}" : '');
}
note "trials $trials, SIGKILLs $kills, crashes $crashes, inconsistencies $inconsistencies";

if (my $f = $ENV{MS_STATS_FILE})
{
	open my $fh, '>>', $f or die "$f: $!";
	print $fh "trials $trials\ncrashes $crashes\ninconsistencies $inconsistencies\n";
	close $fh;
}

cmp_ok($trials, '>=', 64, 'at least 60 SIGKILL trials and 4 restarts ran');
is($crashes, 0, 'no crash in the server log');
is($inconsistencies, 0, 'no inconsistency');

$node->stop;
note sprintf('crash recovery: %d trials, %.1f s', $trials, time - $t_start);
done_testing();
