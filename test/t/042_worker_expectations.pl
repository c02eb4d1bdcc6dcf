# Expectations on the worker's scheduled runs: a batch that fails a block
# expectation is not published (the online store keeps serving the previous
# values), the run ends "blocked" with its results and quarantined rows, a
# NOTIFY and a retry at the next scheduled time (not a failure); warn and
# drop expectations act on scheduled runs as on manual ones.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use FSNode;

my $node = FSNode::new_node('worker_expectations', "feature_store.naptime = 1\nfeature_store.enabled = off\n");

$node->safe_psql('postgres', q{
	CREATE EXTENSION feature_store;
	CREATE ROLE analyst NOLOGIN;
	CREATE TABLE events (user_id int, at timestamptz, amount float8);
	ALTER TABLE events OWNER TO analyst;
	INSERT INTO events SELECT i % 5, now() - interval '1 day' + i * interval '1 minute', i FROM generate_series(1, 50) i;
	SET ROLE analyst;
	SELECT fs.create_entity('user', 'int');
	SELECT fs.register_feature_view('spend', 'user', 'events', 'user_id', 'at', schedule => '1 second');
	SELECT fs.add_expectation('spend', 'amount_sane', 'amount < 1000', 'block');
	SELECT fs.add_expectation('spend', 'amount_positive', 'amount > 0', 'drop');
	SELECT fs.add_expectation('spend', 'amount_round', 'amount = round(amount)', 'warn');
	-- full runs only: every run reads the whole source
	SELECT fs.set_feature_view_options('spend', reconcile_every => '1 microsecond');
	RESET ROLE;
});

$node->append_conf('postgresql.conf', "feature_store.enabled = on\n");
$node->reload;

ok( $node->poll_query_until('postgres',
		"SELECT count(*) >= 1 FROM fs.materialization_runs WHERE view_name = 'spend' AND status = 'succeeded'"),
	'a scheduled run passes the expectations and succeeds');
is($node->safe_psql('postgres', 'SELECT count(*), sum(amount) FROM fs_data.spend_v1_online'),
	'5|240', 'the online store holds the newest row of each key');
is( $node->safe_psql('postgres', q{
		SELECT count(*) FILTER (WHERE passed), count(*), bool_and(m.trigger = 'worker')
		  FROM fs.expectation_results r JOIN fs.materialization_runs m USING (run_id)
		 WHERE m.run_id = (SELECT min(run_id) FROM fs.materialization_runs WHERE status = 'succeeded')}),
	'3|3|t', 'the scheduled run recorded one result per expectation under its own run');

# A session listens for blocked batches.
my $listener = $node->background_psql('postgres');
$listener->query_safe('LISTEN feature_store_expectations');

# A bad row arrives: the next scheduled run is blocked.
$node->safe_psql('postgres', q{
	INSERT INTO events VALUES (1, now() - interval '1 minute', 5000), (2, now() - interval '1 minute', -1),
		(3, now() - interval '1 minute', 2.5);
});
ok( $node->poll_query_until('postgres',
		"SELECT count(*) >= 1 FROM fs.materialization_runs WHERE view_name = 'spend' AND status = 'blocked'"),
	'the scheduled run is blocked');
is($node->safe_psql('postgres', 'SELECT count(*), sum(amount) FROM fs_data.spend_v1_online'),
	'5|240', 'the online store is unchanged: the previous values keep serving');
is($node->safe_psql('postgres', q{SELECT count(*) FROM fs_data.spend_v1 WHERE amount IN (5000, -1, 2.5)}),
	'0', 'nothing of the blocked batch reached history');
my $blocked = $node->safe_psql('postgres',
	"SELECT min(run_id) FROM fs.materialization_runs WHERE view_name = 'spend' AND status = 'blocked'");
is( $node->safe_psql('postgres', qq{
		SELECT status, rows_written, error, trigger FROM fs.materialization_runs WHERE run_id = $blocked}),
	'blocked|0|blocked by expectations: amount_sane|worker', 'the run ends blocked, naming the expectation');
is( $node->safe_psql('postgres', qq{
		SELECT string_agg(format('%s %s %s', expectation, rows_failing, coalesce(action, '-')), ', ' ORDER BY expectation)
		  FROM fs.expectation_results WHERE run_id = $blocked}),
	'amount_positive 1 dropped, amount_round 1 warned, amount_sane 1 blocked', 'its results');
is( $node->safe_psql('postgres', qq{
		SELECT count(*), count(*) FILTER (WHERE fs_failed_expectations = '{amount_sane}' AND amount = 5000)
		  FROM fs_data.spend_v1_quarantine WHERE fs_run_id = $blocked}),
	'53|1', 'the whole batch is quarantined under the run, the failing row with the expectation\'s name');
is( $node->safe_psql('postgres', q{
		SELECT consecutive_failures, blocked_total >= 1, last_error FROM fs.view_state WHERE view_name = 'spend'}),
	'0|t|blocked by expectations: amount_sane', 'a blocked run is not a failure, and is counted');
is($node->safe_psql('postgres', q{SELECT blocked FROM fs.feature_freshness WHERE view = 'spend'}),
	't', 'fs.feature_freshness shows the view blocked');
like($node->safe_psql('postgres', 'SELECT fs.metrics()'),
	qr/^fs_materialization_blocked_total\{view="spend",version="1"\} [1-9]/m, 'fs.metrics() counts blocked runs');
like( $listener->query_safe('SELECT 1'),
	qr/Asynchronous notification "feature_store_expectations" with payload ".*"view" : "spend".*"status" : "blocked".*"blocked_by" : \["amount_sane"\]/,
	'a listener was notified of the blocked batch');

# The bad row is corrected: the next run publishes, dropping the negative
# amount and warning about the fractional one.
$node->safe_psql('postgres', q{UPDATE events SET amount = 50 WHERE amount = 5000});
ok( $node->poll_query_until('postgres', qq{
		SELECT count(*) >= 1 FROM fs.materialization_runs
		 WHERE view_name = 'spend' AND status = 'succeeded' AND run_id > $blocked}),
	'the next scheduled run succeeds');
my $ok = $node->safe_psql('postgres', qq{
	SELECT min(run_id) FROM fs.materialization_runs WHERE view_name = 'spend' AND status = 'succeeded' AND run_id > $blocked});
is( $node->safe_psql('postgres', q{
		SELECT string_agg(format('%s %s', user_id, amount), ', ' ORDER BY user_id) FROM fs_data.spend_v1_online
		 WHERE user_id IN (1, 3)}),
	'1 50, 3 2.5', 'the corrected row and the warned row are published');
is($node->safe_psql('postgres', q{SELECT count(*) FROM fs_data.spend_v1 WHERE amount = -1}),
	'0', 'the dropped row is kept out of history');
is( $node->safe_psql('postgres', qq{
		SELECT count(*) FROM fs_data.spend_v1_quarantine
		 WHERE fs_run_id = $ok AND amount = -1 AND fs_failed_expectations = '{amount_positive}'}),
	'1', 'and quarantined under the scheduled run');
is($node->safe_psql('postgres', q{SELECT blocked FROM fs.feature_freshness WHERE view = 'spend'}),
	'f', 'the view is no longer shown blocked');

$listener->quit;
$node->stop;
done_testing();
