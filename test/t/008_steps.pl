# Steps after commit, where timing and processes matter (the SQL surface is in
# test/sql/steps.sql):
#
# 1. replicas: 16 sessions call migrate.apply() at once while a step builds an index (kept
#    waiting by an old snapshot): none hangs or deadlocks, each gets 'applying' with a NOTICE,
#    later calls see 'applied', the migration is applied once;
# 2. waiting: a session that waits inside its own transaction keeps CREATE INDEX CONCURRENTLY
#    waiting for its snapshot (the build does not finish until it ends); CALL migrate.wait()
#    commits between polls and returns once the index is built;
# 3. a step's lock timeout behind a blocker: retried (migrations_schema.lock_retries), then
#    failed with 55P03 and no INVALID index; retried after the blocker is gone: applied;
#    an INVALID index that even the cleanup could not drop (an old snapshot) is named in the
#    error and dropped first when the step is retried;
# 4. cancel (pg_cancel_backend of the worker): failed with 57014, no INVALID index;
# 5. kill -9 of the worker mid-build: the server restarts; the step is found running with a
#    dead worker, its half-built index dropped, and run again by the next call;
# 6. immediate shutdown, and kill -9 of the postmaster, mid-build: the same after the restart
#    (the orphaned worker exits on its own when it finds the postmaster gone);
#    a worker terminated after a step's commit was written does not run it again (the step
#    and its "done" commit together);
# 7. pg_dump / pg_restore with a step pending: the restored database runs it;
# 8. with shared_preload_libraries: after a kill -9 mid-build the step resumes without any call.
#
# Run as a non-root OS user with PostgreSQL::Test from PGXS (see test/run_all.sh --suite tap).

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use FindBin;
use lib $FindBin::RealBin;
use MsQuery;

my $node = PostgreSQL::Test::Cluster->new('steps');
$node->init;
$node->append_conf('postgresql.conf', "max_worker_processes = 16\nrestart_after_crash = on\n");
$node->start;

sub setup_db
{
	my ($n, $db) = @_;
	$n->safe_psql('postgres', "CREATE DATABASE $db");
	$n->safe_psql($db, <<'SQL');
CREATE EXTENSION migrations_schema;
CREATE TABLE t (id int PRIMARY KEY, v int, w int);
INSERT INTO t SELECT g, g % 1000, g FROM generate_series(1, 200000) g;
ANALYZE t;
SQL
}

sub indexes
{
	my ($n, $db) = @_;
	return $n->safe_psql($db,
		"SELECT string_agg(c.relname || ':' || i.indisvalid, ',' ORDER BY c.relname)
		   FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		  WHERE i.indrelid = 't'::regclass");
}

sub state_of
{
	my ($n, $db, $v) = @_;
	return $n->safe_psql($db,
		"SELECT state || coalesce(' ' || error, '') FROM migrate.status() WHERE version = '$v'");
}

sub worker_pid
{
	my ($n, $db) = @_;
	return $n->safe_psql($db,
		"SELECT pid FROM pg_stat_activity WHERE backend_type = 'migrations_schema worker'");
}

# Holds a snapshot older than the next index build: CREATE INDEX CONCURRENTLY waits for it.
sub hold_snapshot
{
	my ($n, $db) = @_;
	my $h = $n->background_psql($db, on_error_stop => 0);
	query_ok($h, "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM t;");
	return $h;
}

# Waits until the worker's build waits (for old snapshots or other transactions).
sub wait_build_waiting
{
	my ($n, $db) = @_;
	return $n->poll_query_until($db,
		"SELECT EXISTS (SELECT 1 FROM pg_stat_progress_create_index p
		                  JOIN pg_stat_activity a USING (pid)
		                 WHERE a.backend_type = 'migrations_schema worker'
		                   AND p.phase LIKE 'waiting%')");
}

setup_db($node, 'app');

# ---- 1. replicas at start-up while a step builds an index

{
	my $holder = hold_snapshot($node, 'app');
	my $first = $node->safe_psql('app',
		"SELECT migrate.register('001', 'CREATE INDEX CONCURRENTLY t_v ON t (v);', 'DROP INDEX CONCURRENTLY t_v;');
		 SELECT migrate.register('002', 'CREATE TABLE after_v (id int);', 'DROP TABLE after_v;');
		 SELECT version FROM migrate.apply();");
	like($first, qr/001/, 'replicas: the first call applies 001 (its step after commit)');
	ok(wait_build_waiting($node, 'app'), 'replicas: the build waits for the old snapshot');

	my @replicas;
	for my $i (1 .. 16)
	{
		my $r = $node->background_psql('app', on_error_stop => 0);
		push @replicas, $r;
	}
	my $t0 = time;
	my @banners = map {
		start_query($_, <<'SQL')
BEGIN;
SELECT migrate.register('001', 'CREATE INDEX CONCURRENTLY t_v ON t (v);', 'DROP INDEX CONCURRENTLY t_v;');
SELECT migrate.register('002', 'CREATE TABLE after_v (id int);', 'DROP TABLE after_v;');
SELECT count(*) FROM migrate.apply();
SELECT migrate.apply('001', 'CREATE INDEX CONCURRENTLY t_v ON t (v);');
COMMIT;
SQL
	} @replicas;
	my ($ok, $applying_notices) = (0, 0);
	for my $k (0 .. $#replicas)
	{
		my ($out, $err) = finish_query($replicas[$k], $banners[$k]);
		$ok++ if $out =~ /applying/ && $err !~ /ERROR/;
		$applying_notices++ if $err =~ /NOTICE:  migration 001 is applying/;
	}
	my $took = time - $t0;
	is($ok, 16, 'replicas: all 16 calls answer, without error, that 001 is applying');
	is($applying_notices, 16, 'replicas: each got a NOTICE naming the state');
	cmp_ok($took, '<', 60, "replicas: no call hung behind the build (${took}s for all 16)");
	is(state_of($node, 'app', '001'), 'applying', 'replicas: still applying while the snapshot is held');
	query_ok($holder, 'COMMIT;');
	$node->safe_psql('app', 'CALL migrate.wait();');
	is(state_of($node, 'app', '001'), 'applied', 'replicas: applied once the snapshot is gone');
	is(state_of($node, 'app', '002'), 'applied', 'replicas: the migration queued behind it too');
	my $later = $node->safe_psql('app',
		"SELECT migrate.apply('001', 'CREATE INDEX CONCURRENTLY t_v ON t (v);')");
	is($later, 'unchanged', 'replicas: a later call sees it applied');
	is($node->safe_psql('app',
			"SELECT count(*) FROM migrate.history WHERE version = '001' AND action = 'apply'"),
		'1', 'replicas: applied exactly once');
	is(indexes($node, 'app'), 't_pkey:true,t_v:true', 'replicas: the index is valid');
	$_->quit for @replicas;
	$holder->quit;
}

# ---- 2. waiting: inside a transaction the wait keeps the build waiting; CALL wait() commits

{
	$node->safe_psql('app',
		"SELECT migrate.apply('003', 'CREATE INDEX CONCURRENTLY t_w ON t (w);', 'DROP INDEX CONCURRENTLY t_w;')");
	# A "wait" written as a loop inside one transaction: it holds a snapshot, which the build
	# waits for: the loop sees no progress for as long as it runs.
	my ($ret, $out, $err) = $node->psql('app', <<'SQL');
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT count(*) FROM t;
DO $$
DECLARE s text;
BEGIN
    FOR i IN 1..30 LOOP
        SELECT state INTO s FROM migrate.status() WHERE version = '003';
        EXIT WHEN s = 'applied';
        PERFORM pg_sleep(0.1);
    END LOOP;
    RAISE NOTICE 'after 3 s inside the transaction: %', s;
END
$$;
SELECT a.wait_event_type || ':' || a.wait_event FROM pg_stat_activity a
 WHERE a.backend_type = 'migrations_schema worker';
COMMIT;
SQL
	like($err, qr/inside the transaction: applying/,
		'waiting inside a transaction: the step makes no progress');
	like($out, qr/Lock:virtualxid/, 'waiting inside a transaction: the build waits for that transaction');
	my $t0 = time;
	$node->safe_psql('app', 'CALL migrate.wait();');
	is(state_of($node, 'app', '003'), 'applied', 'CALL migrate.wait(): returns once applied');
	like(indexes($node, 'app'), qr/t_w:true/, 'CALL migrate.wait(): the index is valid');
}

# ---- 3. a step's lock timeout behind a blocker: retried, then failed; retried by hand: applied

{
	my $blocker = $node->background_psql('app', on_error_stop => 0);
	query_ok($blocker, 'BEGIN; LOCK TABLE t IN SHARE UPDATE EXCLUSIVE MODE;');
	$node->safe_psql('app', <<'SQL');
SET migrations_schema.lock_timeout = 200;
SET migrations_schema.lock_retries = 2;
SET migrations_schema.lock_retry_delay = 100;
SELECT migrate.apply('004', 'CREATE INDEX CONCURRENTLY t_vw ON t (v, w);', 'DROP INDEX CONCURRENTLY IF EXISTS t_vw;');
SQL
	my ($ret, $out, $err) = $node->psql('app', 'CALL migrate.wait();');
	like($err, qr/migration 004 failed at step 1 of its up script: 55P03/,
		'lock timeout: wait() reports the failed step');
	is($node->safe_psql('app', "SELECT attempts FROM migrate.steps WHERE version = '004'"),
		'3', 'lock timeout: 1 + lock_retries attempts');
	like(state_of($node, 'app', '004'), qr/^failed 55P03: canceling statement due to lock timeout/,
		'lock timeout: the migration is failed with the error');
	unlike(indexes($node, 'app'), qr/t_vw/, 'lock timeout: no INVALID index left');
	like(slurp_file($node->logfile), qr/migration 004 step 1: lock not granted within 200 ms; retry 1 of 2/,
		'lock timeout: the retries are logged');
	query_ok($blocker, 'COMMIT;');
	$node->safe_psql('app', 'SELECT migrate.retry(); ');
	$node->safe_psql('app', 'CALL migrate.wait();');
	is(state_of($node, 'app', '004'), 'applied', 'lock timeout: applied once retried');
	like(indexes($node, 'app'), qr/t_vw:true/, 'lock timeout: the index is valid');
	$blocker->quit;
}

# ---- 3b. an INVALID index the failed step could not drop (an old snapshot kept the drop
#          waiting too) is named in the error, and dropped first when the step is retried

{
	my $holder = hold_snapshot($node, 'app');
	$node->safe_psql('app', <<'SQL');
SET migrations_schema.lock_timeout = 300;
SET migrations_schema.lock_retries = 0;
SELECT migrate.apply('004a', 'CREATE INDEX CONCURRENTLY IF NOT EXISTS t_left ON public.t (w);', 'DROP INDEX CONCURRENTLY IF EXISTS t_left;');
SQL
	my ($ret, $out, $err) = $node->psql('app', 'CALL migrate.wait();');
	like($err, qr/migration 004a failed at step 1 of its up script: 55P03/,
		'leftover: the build timed out waiting for the old snapshot');
	is($node->safe_psql('app', "SELECT error->>'leftover_index' FROM migrate.steps WHERE version = '004a'"),
		'public.t_left', 'leftover: the error names the INVALID index the drop could not remove');
	like(indexes($node, 'app'), qr/t_left:false/, 'leftover: it is there, INVALID');
	query_ok($holder, 'COMMIT;');
	$holder->quit;
	$node->safe_psql('app', 'SELECT migrate.retry();');
	$node->safe_psql('app', 'CALL migrate.wait();');
	is(state_of($node, 'app', '004a'), 'applied', 'leftover: applied once retried');
	like(indexes($node, 'app'), qr/t_left:true/,
		'leftover: dropped first, then built again: valid (IF NOT EXISTS did not keep the INVALID one)');
}

# ---- 4. cancel of the worker: failed with 57014, no INVALID index

{
	my $holder = hold_snapshot($node, 'app');
	$node->safe_psql('app',
		"SELECT migrate.apply('005', 'CREATE INDEX CONCURRENTLY t_c ON t (id, v);', 'DROP INDEX CONCURRENTLY IF EXISTS t_c;')");
	ok(wait_build_waiting($node, 'app'), 'cancel: the build is waiting');
	like(indexes($node, 'app'), qr/t_c:false/, 'cancel: the half-built index is there, INVALID');
	my $pid = worker_pid($node, 'app');
	$node->safe_psql('app', "SELECT pg_cancel_backend($pid)");
	# Dropping the INVALID index (concurrently) waits for the old snapshot too.
	query_ok($holder, 'COMMIT;');
	$node->poll_query_until('app', "SELECT state = 'failed' FROM migrate.migrations WHERE version = '005'");
	like(state_of($node, 'app', '005'), qr/^failed 57014: canceling statement due to user request/,
		'cancel: failed with 57014');
	unlike(indexes($node, 'app'), qr/t_c/, 'cancel: the INVALID index was dropped');
	$holder->quit;
	$node->safe_psql('app', 'SELECT version FROM migrate.rollback();');
	$node->safe_psql('app', 'CALL migrate.wait();');
	is(state_of($node, 'app', '005'), 'rolled back', 'cancel: the failed migration rolls back');
}

# ---- 5. kill -9 of the worker mid-build; 6. immediate shutdown, kill -9 of the postmaster

# kill -9 of the postmaster: its children notice on their own and exit; the server starts again
# once they are all gone (until then the old shared memory is attached and start refuses). The
# backend holding the old snapshot is stopped (SIGSTOP) first, so that it cannot release the
# snapshot, and let the build finish, before the worker has found the postmaster gone; it is
# killed once the worker has exited.
sub kill_postmaster_and_restart
{
	my ($n, $holder_pid, $worker_pid) = @_;
	my @children = split /\n/,
	  $n->safe_psql('postgres', 'SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid()');
	kill 'STOP', $holder_pid;
	$n->kill9;
	my $deadline = time + 60;
	sleep 0.1 while time < $deadline && kill(0, $worker_pid);
	my $worker_exited = !kill(0, $worker_pid);
	kill 'KILL', $holder_pid;
	sleep 0.1 while time < $deadline && grep { kill(0, $_) } @children;
	my @left = grep { kill(0, $_) } @children;
	diag "processes of the killed postmaster still alive: @left" if @left;
	return $worker_exited && !@left && $n->start(fail_ok => 1);
}

my %case_version = ('kill -9 of the worker' => '006', 'immediate shutdown' => '007',
	'kill -9 of the postmaster' => '007a');
for my $case ('kill -9 of the worker', 'immediate shutdown', 'kill -9 of the postmaster')
{
	my $v = $case_version{$case};
	my $holder = hold_snapshot($node, 'app');
	$node->safe_psql('app',
		"SELECT migrate.apply('$v', 'CREATE INDEX CONCURRENTLY t_k$v ON t (w, v);', 'DROP INDEX CONCURRENTLY IF EXISTS t_k$v;')");
	ok(wait_build_waiting($node, 'app'), "$case: the build is waiting");
	like(indexes($node, 'app'), qr/t_k$v:false/, "$case: the half-built index is there");
	if ($case =~ /postmaster/)
	{
		my $holder_pid = $node->safe_psql('app',
			"SELECT pid FROM pg_stat_activity WHERE state = 'idle in transaction' AND datname = 'app'");
		ok(kill_postmaster_and_restart($node, $holder_pid, worker_pid($node, 'app')),
			"$case: the orphaned worker exits on its own, the server starts again");
		$holder->{run}->kill_kill;
	}
	elsif ($case =~ /kill/)
	{
		my $pid = worker_pid($node, 'app');
		kill 'KILL', $pid;
		$holder->{run}->kill_kill;    # the crash ends every session
		$node->poll_query_until('app', 'SELECT true');
	}
	else
	{
		$node->stop('immediate');
		$holder->{run}->kill_kill;
		$node->start;
	}
	like(state_of($node, 'app', $v), qr/^applying/, "$case: still applying after the restart");
	like($node->safe_psql('app', "SELECT phase FROM migrate.status() WHERE version = '$v'"),
		qr/interrupted: its worker \(pid \d+\) is gone/, "$case: status() says the worker is gone");
	$node->safe_psql('app', 'CALL migrate.wait();');
	is(state_of($node, 'app', $v), 'applied', "$case: the next call resumes it: applied");
	like(indexes($node, 'app'), qr/t_k$v:true/, "$case: the index is valid");
	unlike(indexes($node, 'app'), qr/:false/, "$case: no INVALID index anywhere");
	is($node->safe_psql('app', "SELECT attempts FROM migrate.steps WHERE version = '$v'"),
		'2', "$case: run twice");
}

# ---- 5b. a step's commit and its "done" are one: a worker terminated after the step's
#          commit was written (here: while the commit waits for a synchronous standby that does
#          not exist) does not run the step again

{
	$node->safe_psql('app', 'CREATE TABLE once (id serial)');
	# (a node of the test framework has no WAL senders, without which nothing waits)
	$node->append_conf('postgresql.conf',
		"wal_level = replica\nmax_wal_senders = 2\nsynchronous_standby_names = 'nosuch'\nsynchronous_commit = local\n");
	$node->restart;
	$node->safe_psql('app', <<'SQL');
SELECT migrate.apply('007b', $$
VACUUM once;
BEGIN;
SET LOCAL synchronous_commit = on;
INSERT INTO once DEFAULT VALUES;
COMMIT;
$$);
SQL
	ok($node->poll_query_until('app',
			"SELECT EXISTS (SELECT FROM pg_stat_activity WHERE backend_type = 'migrations_schema worker' AND wait_event = 'SyncRep')"),
		'commit once: the step waits for the synchronous standby, committed locally');
	my $pid = worker_pid($node, 'app');
	$node->safe_psql('app', "SELECT pg_terminate_backend($pid)");
	$node->poll_query_until('app',
		"SELECT NOT EXISTS (SELECT FROM pg_stat_activity WHERE pid = $pid)");
	$node->append_conf('postgresql.conf', "synchronous_standby_names = ''\nsynchronous_commit = on\n");
	$node->reload;
	$node->safe_psql('app', 'CALL migrate.wait();');
	is(state_of($node, 'app', '007b'), 'applied', 'commit once: applied');
	is($node->safe_psql('app', 'SELECT count(*) FROM once'), '1', 'commit once: the step ran once');
	is($node->safe_psql('app', "SELECT string_agg(attempts::text, ',' ORDER BY position) FROM migrate.steps WHERE version = '007b'"),
		'1,1', 'commit once: each step ran one time');
}

# ---- 7. pg_dump / pg_restore with a step pending

{
	my $holder = hold_snapshot($node, 'app');
	$node->safe_psql('app',
		"SELECT migrate.apply('008', 'CREATE INDEX CONCURRENTLY t_d ON t (v, id);', 'DROP INDEX CONCURRENTLY IF EXISTS t_d;')");
	ok(wait_build_waiting($node, 'app'), 'dump: the build is waiting');
	my $dump = $node->basedir . '/app.dump';
	$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('app') ],
		'dump: pg_dump while the step builds');
	query_ok($holder, 'COMMIT;');
	$holder->quit;
	$node->safe_psql('app', 'CALL migrate.wait();');
	$node->safe_psql('postgres', 'CREATE DATABASE restored');
	local $ENV{PGOPTIONS} = '-c migrations_schema.audit=off';
	$node->command_ok([ 'pg_restore', '-d', $node->connstr('restored'), $dump ],
		'dump: pg_restore');
	delete $ENV{PGOPTIONS};
	like(state_of($node, 'restored', '008'), qr/^applying/, 'dump: restored as applying');
	$node->safe_psql('restored', 'CALL migrate.wait();');
	is(state_of($node, 'restored', '008'), 'applied', 'dump: the restored database runs the step');
	like(indexes($node, 'restored'), qr/t_d:true/, 'dump: the index is valid');
	unlike(indexes($node, 'restored'), qr/:false/, 'dump: no INVALID index');
}

my $log = slurp_file($node->logfile);
my @signals = $log =~ /terminated by signal (\d+)/g;
is(scalar(grep { $_ != 9 } @signals), 0, 'no process died of a signal other than our kill');
unlike($log, qr/PANIC|TRAP:/, 'no PANIC or assertion failure in the server log');
$node->stop;

# ---- 8. with shared_preload_libraries: resumes without any call

{
	my $pre = PostgreSQL::Test::Cluster->new('steps_preload');
	$pre->init;
	$pre->append_conf('postgresql.conf',
		"shared_preload_libraries = 'migrations_schema'\nrestart_after_crash = on\n");
	$pre->start;
	setup_db($pre, 'app');
	my $holder = hold_snapshot($pre, 'app');
	$pre->safe_psql('app',
		"SELECT migrate.apply('001', 'CREATE INDEX CONCURRENTLY t_v ON t (v);', 'DROP INDEX CONCURRENTLY t_v;')");
	ok(wait_build_waiting($pre, 'app'), 'preload: the build is waiting');
	kill 'KILL', worker_pid($pre, 'app');
	$holder->{run}->kill_kill;
	ok($pre->poll_query_until('app',
			"SELECT state = 'applied' FROM migrate.migrations WHERE version = '001'"),
		'preload: after the crash restart the step resumes without any call');
	is(indexes($pre, 'app'), 't_pkey:true,t_v:true', 'preload: the index is valid');
	$pre->stop;
}

done_testing();
