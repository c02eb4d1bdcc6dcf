# A PostgreSQL::Test::Cluster node with the staged feature_store extension
# preloaded; run.sh exports FS_STAGE and FS_LIBDIR.
package FSNode;

use strict;
use warnings;
use PostgreSQL::Test::Cluster;

# Creates and starts a node named $name; extra postgresql.conf text may follow.
sub new_node
{
	my ($name, $extra_conf) = @_;
	my $stage = $ENV{FS_STAGE} or die "FS_STAGE is not set: run through test/run.sh";
	my $libdir = $ENV{FS_LIBDIR};
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf', qq{
extension_destdir = '$stage'
dynamic_library_path = '$stage$libdir:\$libdir'
shared_preload_libraries = 'feature_store'
feature_store.database = 'postgres'
max_worker_processes = 16
} . ($extra_conf // ''));
	$node->start;
	return $node;
}

1;
