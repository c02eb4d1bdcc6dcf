# A PostgreSQL::Test::Cluster node with the feature_store extension preloaded:
# the staged copy when run.sh exports FS_STAGE and FS_LIBDIR (make test), the
# installed one otherwise (make installcheck).
package FSNode;

use strict;
use warnings;
use PostgreSQL::Test::Cluster;

# Creates and starts a node named $name; extra postgresql.conf text may follow.
sub new_node
{
	my ($name, $extra_conf) = @_;
	my $stage = $ENV{FS_STAGE};
	my $libdir = $ENV{FS_LIBDIR} // '';
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf', qq{
extension_destdir = '$stage'
dynamic_library_path = '$stage$libdir:\$libdir'
}) if $stage;
	$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'feature_store'
feature_store.database = 'postgres'
max_worker_processes = 16
} . ($extra_conf // ''));
	$node->start;
	return $node;
}

1;
