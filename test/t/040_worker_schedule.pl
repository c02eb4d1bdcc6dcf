# The background worker keeps scheduled feature views fresh: on schedule,
# incrementally with late rows inside the allowed lateness and a full
# reconciliation for later ones, as the view's owner (never a superuser), a
# failing view isolated from healthy ones and retried with backoff, pause and
# resume, drift monitors, freshness and metrics.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use FSNode;

# Disabled at first, so that everything below exists before the first tick.
my $node = FSNode::new_node('worker_schedule', "feature_store.naptime = 1\nfeature_store.enabled = off\n");

ok( $node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'feature_store launcher'"),
	'the launcher runs (idle: no extension yet)');

$node->safe_psql('postgres', q{
	CREATE EXTENSION feature_store;
	CREATE ROLE analyst NOLOGIN;
	CREATE TABLE clicks (user_id int, at timestamptz, n int);
	ALTER TABLE clicks OWNER TO analyst;
	INSERT INTO clicks
	SELECT i % 10, date_trunc('hour', now()) - interval '1 day' + i * interval '1 minute', i
	  FROM generate_series(1, 600) i;
	CREATE TABLE secret (user_id int, at timestamptz, n int);
	INSERT INTO secret VALUES (1, now(), 1);
	GRANT SELECT ON secret TO analyst;
	SET ROLE analyst;
	SELECT fs.create_entity('user', 'int');
	-- the source records who runs it, and with what rights
	SELECT fs.register_feature_view('clicks', 'user',
		$$SELECT user_id, at, n, session_user::text AS session_role, current_setting('is_superuser') AS superuser
			FROM clicks$$,
		'user_id', 'at', schedule => '2 seconds');
	SELECT fs.register_feature_view('canary', 'user', 'SELECT user_id, at, n FROM clicks', 'user_id', 'at',
		schedule => '1 second');
	SELECT fs.register_feature_view('secret', 'user', 'secret', 'user_id', 'at', schedule => '1 second');
	SELECT fs.create_drift_monitor('canary_drift', 'canary', '[2024-01-01, 2024-01-02)');
	-- the default (twice the schedule) is too tight for a loaded test machine
	SELECT fs.set_feature_view_options(v, expected_freshness => '1 minute') FROM unnest(ARRAY['clicks', 'canary']) v;
	RESET ROLE;
	-- the owner may no longer read this source (a superuser could)
	REVOKE SELECT ON secret FROM analyst;
});

$node->append_conf('postgresql.conf', "feature_store.enabled = on\n");
$node->reload;

ok( $node->poll_query_until('postgres',
		"SELECT count(*) >= 3 FROM fs.materialization_runs WHERE view_name = 'clicks' AND status = 'succeeded'"),
	'scheduled runs succeed');
ok( $node->poll_query_until('postgres', "SELECT last_run IS NOT NULL FROM fs.drift_monitors"),
	'the worker ran the drift monitors');

is( $node->safe_psql('postgres', q{
		SELECT string_agg(format('%s %s %s', trigger, run_by, window_start IS NULL), ', ' ORDER BY run_id)
		  FROM (SELECT * FROM fs.materialization_runs WHERE view_name = 'clicks' AND status = 'succeeded'
				 ORDER BY run_id LIMIT 3) r}),
	'worker analyst t, worker analyst f, worker analyst f',
	'the first run is full, the next ones incremental, all run by the owner role');
is( $node->safe_psql('postgres', q{
		SELECT min(gap) >= interval '2 s', max(gap) < interval '20 s'
		  FROM (SELECT started_at - lag(started_at) OVER (ORDER BY run_id) AS gap
				  FROM fs.materialization_runs WHERE view_name = 'clicks' AND status = 'succeeded') g}),
	't|t', 'runs start once per schedule (2 seconds)');
is( $node->safe_psql('postgres', q{
		SELECT count(*), string_agg(DISTINCT session_role || ' ' || superuser, ',') FROM fs_data.clicks_v1}),
	'600|analyst off', 'the source ran in a session of the owner role, without superuser rights');
is( $node->safe_psql('postgres', q{SELECT window_start = high_water - interval '1 hour'
		FROM fs.materialization_runs, fs.view_state
		WHERE run_id = (SELECT max(run_id) FROM fs.materialization_runs WHERE view_name = 'clicks')
		  AND view_state.view_name = 'clicks'}),
	't', 'an incremental run reads from the high-water mark minus the lateness (1 hour)');

# The view whose owner may not read its source fails alone, with the error,
# and is retried with a growing delay; the others keep running.
ok( $node->poll_query_until('postgres',
		"SELECT consecutive_failures >= 4 FROM fs.view_state WHERE view_name = 'secret'"),
	'the failing view keeps being retried');
is( $node->safe_psql('postgres', q{
		SELECT DISTINCT status || ': ' || error FROM fs.materialization_runs WHERE view_name = 'secret'}),
	'failed: permission denied for table secret', 'its runs fail with permission denied, as the owner');
is( $node->safe_psql('postgres', q{
		SELECT min(gap) >= interval '0.5 s', max(gap) >= interval '2 s'
		  FROM (SELECT started_at - lag(finished_at) OVER (ORDER BY run_id) AS gap
				  FROM fs.materialization_runs WHERE view_name = 'secret') g}),
	't|t', 'retries wait longer after each failure');
is( $node->safe_psql('postgres', q{
		SELECT count(*) > 0 FROM fs.materialization_runs r
		 WHERE r.view_name = 'canary' AND r.status = 'succeeded'
		   AND r.started_at > (SELECT min(started_at) FROM fs.materialization_runs WHERE view_name = 'secret')}),
	't', 'a healthy view keeps succeeding meanwhile');
ok( $node->poll_query_until('postgres', "SELECT breach FROM fs.feature_freshness WHERE view = 'secret'"),
	'the failing view breaches its expected freshness');
like( $node->safe_psql('postgres', 'SELECT fs.metrics()'),
	qr/^fs_worker_up 1\n.*^fs_materialization_failures_total\{view="secret",version="1"\} [1-9]/ms,
	'metrics report the worker and the failures');

# Late rows: inside the lateness they are picked up by the next incremental
# run; older ones only by the next full reconciliation.
my $hw = $node->safe_psql('postgres', "SELECT high_water FROM fs.view_state WHERE view_name = 'clicks'");
my $late_runs = $node->safe_psql('postgres', "SELECT max(run_id) FROM fs.materialization_runs");
$node->safe_psql('postgres', qq{
	INSERT INTO clicks VALUES (42, timestamptz '$hw' - interval '30 minutes', 1),
							  (43, timestamptz '$hw' - interval '3 hours', 1)});
ok( $node->poll_query_until('postgres', "SELECT count(*) = 1 FROM fs_data.clicks_v1 WHERE user_id = 42"),
	'a late row inside the lateness is materialized');
ok( $node->poll_query_until('postgres', qq{
		SELECT count(*) >= 2 FROM fs.materialization_runs
		 WHERE view_name = 'clicks' AND status = 'succeeded' AND run_id > $late_runs}),
	'incremental runs went on');
is($node->safe_psql('postgres', "SELECT count(*) FROM fs_data.clicks_v1 WHERE user_id = 43"),
	'0', 'a row later than the lateness is not read by incremental runs');
$node->safe_psql('postgres', q{
	SET ROLE analyst; SELECT fs.set_feature_view_options('clicks', reconcile_every => '1 second')});
ok( $node->poll_query_until('postgres', "SELECT count(*) = 1 FROM fs_data.clicks_v1 WHERE user_id = 43"),
	'the full reconciliation picks it up');

# Paused, a view is not run while the others are; resumed, it runs again.
$node->safe_psql('postgres', q{SET ROLE analyst; SELECT fs.pause_feature_view('clicks')});
ok( $node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM fs.materialization_runs WHERE view_name = 'clicks' AND status = 'running'"),
	'the run in progress when pausing finishes');
my $paused = $node->safe_psql('postgres', "SELECT max(run_id) FROM fs.materialization_runs");
ok( $node->poll_query_until('postgres', qq{
		SELECT count(*) >= 3 FROM fs.materialization_runs
		 WHERE view_name = 'canary' AND status = 'succeeded' AND run_id > $paused}),
	'other views keep running');
is( $node->safe_psql('postgres',
		"SELECT count(*) FROM fs.materialization_runs WHERE view_name = 'clicks' AND run_id > $paused"),
	'0', 'a paused view does not run');
$node->safe_psql('postgres', q{SET ROLE analyst; SELECT fs.resume_feature_view('clicks')});
ok( $node->poll_query_until('postgres', qq{
		SELECT count(*) > 0 FROM fs.materialization_runs
		 WHERE view_name = 'clicks' AND status = 'succeeded' AND run_id > $paused}),
	'a resumed view runs again');

is( $node->safe_psql('postgres', q{
		SELECT count(*), count(DISTINCT (user_id, at)) FROM fs_data.canary_v1}),
	'601|601', 'history holds every row once (the row later than the lateness awaits its reconciliation)');
is( $node->safe_psql('postgres', q{
		SELECT string_agg(format('%s %s', view, breach), ', ' ORDER BY view) FROM fs.feature_freshness}),
	'canary f, clicks f, secret t', 'freshness per view');

$node->stop;
done_testing();
