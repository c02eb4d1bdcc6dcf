# Read scale-out: a streaming hot standby serves online reads and
# point-in-time retrieval, and a session there sees catalog changes (new
# versions, TTLs) and new online tables as replication brings them.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use FSNode;

my $primary = FSNode::new_node('primary', undef, allows_streaming => 1);
$primary->safe_psql('postgres', q{
	CREATE EXTENSION feature_store;
	CREATE TABLE events (user_id int, at timestamptz, score float8, label text);
	INSERT INTO events VALUES (1, now() - interval '1 hour', 0.5, 'one'), (2, now() - interval '2 hours', 0.25, 'two');
	SELECT fs.create_entity('user', 'int');
	SELECT fs.register_feature_view('scores', 'user', 'events', 'user_id', 'at', ttl => '1 day');
	SELECT fs.materialize('scores');
	CREATE TABLE labels (user_id int, label_ts timestamptz);
	INSERT INTO labels VALUES (1, now()), (2, now() - interval '90 minutes'), (3, now());
	CREATE ROLE reader LOGIN;
});

my $standby = FSNode::new_standby($primary, 'standby');
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'the standby is in recovery');

my $lookup = q{SELECT key, features FROM fs.online_features('{scores:score, scores:label}', ARRAY[1, 2, 3])};
is($standby->safe_psql('postgres', $lookup), $primary->safe_psql('postgres', $lookup),
	'fs.online_features on the standby returns what it returns on the primary');
is( $standby->safe_psql('postgres', $lookup),
	qq{1|{"scores:label": "one", "scores:score": 0.5}\n2|{"scores:label": "two", "scores:score": 0.25}\n3|{"scores:label": null, "scores:score": null}},
	'online features read on the standby');

# A new materialization on the primary reaches the standby's online reads.
$primary->safe_psql('postgres', q{
	INSERT INTO events VALUES (2, now() - interval '1 minute', 0.75, 'two, later');
	SELECT fs.materialize('scores');
});
$primary->wait_for_catchup($standby);
is( $standby->safe_psql('postgres',
		q{SELECT features FROM fs.online_features('{scores:score}', ARRAY[2])}),
	'{"scores:score": 0.75}', 'values materialized on the primary are read on the standby');

# Point-in-time retrieval: the SQL is generated (and planned) on the standby
# and gives the primary's result.
my $historical = q{SELECT fs.historical_features('labels', '{scores:score}', 'user_id', 'label_ts') AS sql \gset
:sql ORDER BY user_id;
};
my $on_standby = $standby->safe_psql('postgres', $historical);
is($on_standby, $primary->safe_psql('postgres', $historical),
	'fs.historical_features SQL is generated and runs on the standby, with the result of the primary');
like($on_standby, qr/^1\|.*\|0\.5\n2\|.*\|0\.25\n3\|.*\|$/, 'point-in-time values on the standby');

# One standby session across catalog changes replicated from the primary.
my $session = $standby->background_psql('postgres');
my $in_session = q{SELECT features FROM fs.online_features('{scores:label}', ARRAY[1]);};
is($session->query_safe($in_session), '{"scores:label": "one"}', 'standby session reads version 1');

# a new version (another source) and its materialization
$primary->safe_psql('postgres', q{
	SELECT fs.register_feature_view('scores', 'user',
		'SELECT user_id, at, score, upper(label) AS label FROM events', 'user_id', 'at', ttl => '1 day');
	SELECT fs.materialize('scores');
});
$primary->wait_for_catchup($standby);
is($session->query_safe($in_session), '{"scores:label": "ONE"}',
	'the same standby session reads the new version replicated from the primary');
is( $session->query_safe(
		q{SELECT features FROM fs.online_features('{scores@1:label}', ARRAY[1]);}),
	'{"scores@1:label": "one"}', 'and still the pinned old version');

# a TTL change in the catalog
$primary->safe_psql('postgres',
	q{UPDATE fs.view_versions SET ttl = '1 minute' WHERE view_name = 'scores' AND version = 2});
$primary->wait_for_catchup($standby);
is($session->query_safe($in_session), '{"scores:label": null}',
	'the same standby session applies the TTL changed on the primary');
is( $session->query_safe(
		q{SELECT label IS NULL FROM fs.online_features_typed('{scores:label}', ARRAY[1]) AS t(k int, label text);}),
	't', 'and so does the typed form');

$primary->safe_psql('postgres',
	q{UPDATE fs.view_versions SET ttl = NULL WHERE view_name = 'scores' AND version = 2});
$primary->wait_for_catchup($standby);
is($session->query_safe($in_session), '{"scores:label": "ONE"}', 'and sees the TTL removed');

# the online table changed on the primary outside the catalog (a column
# dropped and added again, so at another position): the catalog is
# unchanged, the relcache invalidation replayed on the standby tells
$primary->safe_psql('postgres', q{
	ALTER TABLE fs_data.scores_v2_online DROP COLUMN label;
	ALTER TABLE fs_data.scores_v2_online ADD COLUMN label text;
	UPDATE fs_data.scores_v2_online SET label = 'changed';
});
$primary->wait_for_catchup($standby);
is($session->query_safe($in_session), '{"scores:label": "changed"}',
	'the same standby session reads an online table changed on the primary');

# privileges are checked on the standby too
$primary->safe_psql('postgres', 'GRANT SELECT ON fs_data.scores_v2_online TO reader');
$primary->wait_for_catchup($standby);
my ($ret, $out, $err) = $standby->psql('postgres',
	q{SELECT features FROM fs.online_features('{scores@1:label}', ARRAY[1])}, extra_params => [ '-U', 'reader' ]);
like($err, qr/permission denied for table scores_v1_online/, 'a role without SELECT is refused on the standby');
is( $standby->safe_psql('postgres',
		q{SELECT features FROM fs.online_features('{scores:label}', ARRAY[1])}, extra_params => [ '-U', 'reader' ]),
	'{"scores:label": "changed"}', 'a role with SELECT reads on the standby');

$session->quit;
$standby->stop;
$primary->stop;
done_testing();
