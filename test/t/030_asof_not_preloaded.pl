# The as-of operators in a session where the feature_store library was not
# loaded before planning started: the query must fail (never run as an
# ordinary join), with a clear error, and work once the library is loaded.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use FSNode;

my $node = FSNode::new_node('asof_not_preloaded');

$node->safe_psql('postgres', q{
CREATE EXTENSION feature_store;
CREATE TABLE s (id int, k int, ts int);
CREATE TABLE f (k int, ts int, v text);
INSERT INTO s VALUES (1, 1, 5), (2, 1, 10), (3, 2, 1);
INSERT INTO f VALUES (1, 1, 'a'), (1, 5, 'b'), (1, 9, 'c'), (2, 4, 'd');
ANALYZE s, f;
});
# from now on the library is not preloaded
$node->append_conf('postgresql.conf', "shared_preload_libraries = ''\n");
$node->restart;

{
	my $query = q{SELECT s.id, f.v FROM s LEFT JOIN f ON f.k = s.k AND s.ts @>= f.ts ORDER BY s.id};

	# a new session: nothing has loaded the library yet
	my ($ret, $stdout, $stderr) = $node->psql('postgres', $query);
	isnt($ret, 0, 'as-of query fails when the library was not loaded at planning time');
	is($stdout, '', 'no rows come out of the failed as-of query');

	{
		like($stderr, qr/operator \@>= (cannot be planned: the feature_store library was not loaded|can only be used as an as-of join condition)/,
			'the error names the operator and the cause');
		($ret, $stdout, $stderr) = $node->psql('postgres', "LOAD 'feature_store'; $query");
		is($ret, 0, 'as-of query runs once the library is loaded');
		is($stdout, "1|b\n2|c\n3|", 'as-of result after LOAD');
	}
}

$node->stop;
done_testing();
