# The background worker survives what happens to a server: a new tick on
# SIGHUP, a job killed with kill -9 (server crash and restart), an immediate
# shutdown mid-run, DROP EXTENSION while jobs run, run history pruning, and
# DROP DATABASE ... WITH (FORCE) of the database it serves.  A run cut short
# is recorded failed, leaves nothing half-written, and is retried.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use FSNode;

# A tick an hour apart: nothing runs until the reload below shortens it.
my $node = FSNode::new_node('worker_crash',
	"feature_store.naptime = 3600\nfeature_store.max_jobs = 4\nrestart_after_crash = on\n");

$node->safe_psql('postgres', q{
	CREATE EXTENSION feature_store;
	CREATE TABLE clicks (user_id int, at timestamptz, n int);
	INSERT INTO clicks
	SELECT i % 100, timestamptz '2024-01-01' + i * interval '1 minute', i FROM generate_series(1, 20000) i;
	SELECT fs.create_entity('user', 'int');
	SELECT fs.register_feature_view('steady', 'user', 'clicks', 'user_id', 'at', schedule => '1 second');
});

$node->append_conf('postgresql.conf', "feature_store.naptime = 1\n");
$node->reload;
ok( $node->poll_query_until('postgres',
		"SELECT count(*) >= 3 FROM fs.materialization_runs WHERE view_name = 'steady' AND status = 'succeeded'"),
	'after a reload the new tick applies');

# A view whose source sleeps, so that its job can be caught mid-run.
$node->safe_psql('postgres', q{
	SELECT fs.register_feature_view('slow', 'user', 'SELECT user_id, at, n FROM clicks WHERE (SELECT true FROM pg_sleep(2))',
		'user_id', 'at', schedule => '1 second');
});

# Waits until the job of view $view sleeps in its source; returns its pid and run id.
sub sleeping_job
{
	my ($view) = @_;
	my $query = qq{
		SELECT a.pid, r.run_id FROM pg_stat_activity a
		  JOIN fs.materialization_runs r ON r.pid = a.pid AND r.status = 'running'
		 WHERE a.backend_type = 'feature_store job' AND a.wait_event = 'PgSleep' AND r.view_name = '$view'};
	$node->poll_query_until('postgres', "SELECT count(*) = 1 FROM ($query) j") or die "no sleeping job for $view";
	return split /\|/, $node->safe_psql('postgres', $query);
}

# Checks that the run was recorded failed with a reason, that a later run
# succeeded, and that history and online store hold every row once.
sub recovered
{
	my ($run, $what) = @_;
	ok( $node->poll_query_until('postgres', qq{
			SELECT status = 'failed' AND error LIKE '%restarted%' FROM fs.materialization_runs WHERE run_id = $run}),
		"$what: the run is recorded failed");
	ok( $node->poll_query_until('postgres', qq{
			SELECT count(*) > 0 FROM fs.materialization_runs
			 WHERE view_name = 'slow' AND status = 'succeeded' AND run_id > $run}),
		"$what: a later run succeeds");
	is( $node->safe_psql('postgres', q{
			SELECT (SELECT count(*) || ' ' || count(DISTINCT (user_id, at)) FROM fs_data.slow_v1),
				   (SELECT count(*) FROM fs_data.slow_v1_online)}),
		'20000 20000|100', "$what: every row once, nothing half-written");
}

my ($pid, $run) = sleeping_job('slow');
kill 'KILL', $pid;
recovered($run, 'kill -9 of a job');

($pid, $run) = sleeping_job('slow');
$node->stop('immediate');
$node->start;
recovered($run, 'immediate shutdown mid-run');

# The launcher itself dies: the postmaster starts it again, and the job it
# left runs to its end and records it.
($pid, $run) = sleeping_job('slow');
$node->safe_psql('postgres',
	"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'feature_store launcher'");
ok( $node->poll_query_until('postgres',
		"SELECT status = 'succeeded' FROM fs.materialization_runs WHERE run_id = $run"),
	'a job outlives its launcher and records its run');
ok( $node->poll_query_until('postgres', qq{
		SELECT count(*) > 0 FROM fs.materialization_runs
		 WHERE view_name = 'slow' AND status = 'succeeded' AND run_id > $run}),
	'the launcher started again and runs the view');

# History older than feature_store.run_retention is pruned.
is( $node->safe_psql('postgres',
		"SELECT count(*) > 0 FROM fs.materialization_runs WHERE finished_at < now() - interval '4 s'"),
	't', 'runs older than the retention to come');
$node->append_conf('postgresql.conf', "feature_store.run_retention = 2\n");
$node->reload;
ok( $node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM fs.materialization_runs WHERE finished_at < now() - interval '4 s'"),
	'old runs are pruned');
ok( $node->poll_query_until('postgres',
		"SELECT count(*) > 0 FROM fs.materialization_runs WHERE view_name = 'steady' AND status = 'succeeded'"),
	'recent runs are kept');

# DDL on the extension's tables (as ALTER EXTENSION UPDATE runs) does not
# wait for a long run: the worker stops its jobs; the run is failed and retried.
$node->safe_psql('postgres', q{
	SELECT fs.register_feature_view('slower', 'user', 'SELECT user_id, at, n FROM clicks WHERE (SELECT true FROM pg_sleep(120))',
		'user_id', 'at', schedule => '1 second');
});
($pid, $run) = sleeping_job('slower');
my $start = time;
$node->safe_psql('postgres', q{
	SET lock_timeout = '60s';
	BEGIN;
	LOCK TABLE fs.view_versions IN ACCESS EXCLUSIVE MODE;
	COMMIT;
});
cmp_ok(time - $start, '<', 60, 'an exclusive lock on a catalog table is granted while a job sleeps in its source');
ok( $node->poll_query_until('postgres',
		"SELECT status = 'failed' FROM fs.materialization_runs WHERE run_id = $run"),
	'the stopped run is recorded failed');

# Nor does DROP EXTENSION.
sleeping_job('slower');
$start = time;
$node->safe_psql('postgres', 'DROP EXTENSION feature_store CASCADE');
cmp_ok(time - $start, '<', 60, 'DROP EXTENSION completes while a job sleeps in its source');
ok( $node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'feature_store job'"),
	'no job is left');
$node->safe_psql('postgres', q{
	CREATE EXTENSION feature_store;
	SELECT fs.create_entity('user', 'int');
	SELECT fs.register_feature_view('again', 'user', 'clicks', 'user_id', 'at', schedule => '1 second');
});
ok( $node->poll_query_until('postgres',
		"SELECT count(*) > 0 FROM fs.materialization_runs WHERE view_name = 'again' AND status = 'succeeded'"),
	'the worker serves the extension created again');

# DROP DATABASE ... WITH (FORCE) of the served database, with a job running.
$node->safe_psql('postgres', 'CREATE DATABASE fsdb');
$node->safe_psql('fsdb', q{
	CREATE EXTENSION feature_store;
	CREATE TABLE clicks (user_id int, at timestamptz, n int);
	INSERT INTO clicks VALUES (1, '2024-01-01', 1);
	SELECT fs.create_entity('user', 'int');
	SELECT fs.register_feature_view('slower', 'user', 'SELECT user_id, at, n FROM clicks WHERE (SELECT true FROM pg_sleep(120))',
		'user_id', 'at', schedule => '1 second');
});
$node->append_conf('postgresql.conf', "feature_store.database = 'fsdb'\n");
$node->restart;
ok( $node->poll_query_until('postgres', q{
		SELECT count(*) = 1 FROM pg_stat_activity
		 WHERE backend_type = 'feature_store job' AND wait_event = 'PgSleep' AND datname = 'fsdb'}),
	'a job runs in the served database');
$start = time;
$node->safe_psql('postgres', 'DROP DATABASE fsdb WITH (FORCE)');
cmp_ok(time - $start, '<', 60, 'DROP DATABASE WITH (FORCE) completes');

$node->stop;
done_testing();
