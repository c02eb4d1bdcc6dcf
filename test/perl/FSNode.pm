# A PostgreSQL::Test::Cluster node with the feature_store extension preloaded:
# the staged copy when run.sh exports FS_STAGE and FS_LIBDIR (make test), the
# installed one otherwise (make installcheck).
package FSNode;

use strict;
use warnings;
use PostgreSQL::Test::Cluster;

# Creates and starts a node named $name; extra postgresql.conf text may
# follow, then options for PostgreSQL::Test::Cluster::init (allows_streaming
# => 1 for a primary that new_standby can copy).
sub new_node
{
	my ($name, $extra_conf, %init_options) = @_;
	my $stage = $ENV{FS_STAGE};
	my $libdir = $ENV{FS_LIBDIR} // '';
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init(%init_options);
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

# Creates and starts a streaming hot standby named $name of $primary (made by
# new_node with allows_streaming => 1), from a new base backup; it has the
# primary's configuration, so it preloads the same extension.
sub new_standby
{
	my ($primary, $name) = @_;
	my $backup = "${name}_backup";
	$primary->backup($backup);
	my $standby = PostgreSQL::Test::Cluster->new($name);
	$standby->init_from_backup($primary, $backup, has_streaming => 1);
	$standby->start;
	return $standby;
}

1;
