# A materialization killed mid-flight leaves nothing half-written and can be
# re-run; the catalog and storage survive a restart and a pg_dump/restore.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use FSNode;

my $node = FSNode::new_node('crash', "restart_after_crash = on\n");

$node->safe_psql('postgres', q{
	CREATE EXTENSION feature_store;
	CREATE TABLE clicks (user_id int, at timestamptz, n int);
	INSERT INTO clicks
	SELECT i % 1000, timestamptz '2024-01-01' + i * interval '1 minute', i FROM generate_series(1, 50000) i;
	SELECT fs.create_entity('user', 'int');
	-- the sleep keeps the materialization running long enough to kill it
	SELECT fs.register_feature_view('slow_clicks', 'user',
		'SELECT user_id, at, n FROM clicks WHERE (SELECT true FROM pg_sleep(2))', 'user_id', 'at');
});

# Start a materialization, wait until it sleeps inside the source, kill -9 it.
my ($out, $err) = ('', '');
my $h = IPC::Run::start(
	[ 'psql', '-X', '-d', $node->connstr('postgres'), '-c', "SELECT * FROM fs.materialize('slow_clicks')" ],
	'>', \$out, '2>', \$err);
ok( $node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE query LIKE '%fs.materialize%' AND wait_event = 'PgSleep'"),
	'materialization is running');
my $pid = $node->safe_psql('postgres',
	"SELECT pid FROM pg_stat_activity WHERE query LIKE '%fs.materialize%' AND wait_event = 'PgSleep'");
kill 'KILL', $pid;
$h->finish;
ok($node->poll_query_until('postgres', 'SELECT true'), 'server recovered after the backend was killed');

is( $node->safe_psql('postgres',
		'SELECT (SELECT count(*) FROM fs_data.slow_clicks_v1), (SELECT count(*) FROM fs_data.slow_clicks_v1_online),
				(SELECT count(*) FROM fs.materialization_runs)'),
	'0|0|0', 'nothing of the killed run was written');

is($node->safe_psql('postgres', "SELECT rows_written, online_rows FROM fs.materialize('slow_clicks')"),
	'50000|1000', 're-running after the crash writes every row once');

$node->restart;
is( $node->safe_psql('postgres',
		q{SELECT count(*), count(DISTINCT (user_id, at)) FROM fs_data.slow_clicks_v1}),
	'50000|50000', 'history survives a restart without duplicates');
is( $node->safe_psql('postgres',
		q{SELECT features FROM fs.online_features(ARRAY['slow_clicks:n'], ARRAY[7])}),
	'{"slow_clicks:n": 49007}', 'online store survives a restart');

# pg_dump keeps the catalog rows (extension config tables) and the storage.
my $dump = $node->basedir . '/fs.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('postgres') ], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'pg_restore', '-d', $node->connstr('restored'), $dump ], 'pg_restore');
is( $node->safe_psql('restored',
		q{SELECT name, version, features FROM fs.feature_views}),
	'slow_clicks|1|{n}', 'restored catalog lists the feature view');
is( $node->safe_psql('restored',
		q{SELECT features FROM fs.online_features(ARRAY['slow_clicks:n'], ARRAY[7])}),
	'{"slow_clicks:n": 49007}', 'restored online store serves features');
is( $node->safe_psql('restored',
		q{SELECT fs.register_feature_view('slow_clicks', 'user',
			'SELECT user_id, at, n FROM clicks WHERE (SELECT true FROM pg_sleep(2))', 'user_id', 'at')}),
	'1', 'identical registration after restore returns the restored version');

$node->stop;
done_testing();
