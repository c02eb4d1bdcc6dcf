
-- ===================================================================
-- Scaling out on Citus: a version's storage distributed on the entity key,
-- co-located with its source (README "Scaling out")
-- ===================================================================

-- Distributes the history and online tables of a version (the latest by
-- default) on its key column, co-located with colocate_with: a hash-distributed
-- table whose distribution column has the entity's key type, usually the
-- view's source.  Runs as the extension's owner, who owns the storage; the
-- caller must own the feature view and may read colocate_with.  A table
-- already distributed is left as it is.  Returns the number of tables
-- distributed by this call.
CREATE OR REPLACE FUNCTION fs_internal.w_distribute_feature_view(caller regrole, view text, version int,
																 colocate_with regclass)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
	v fs.views;
	vv fs.view_versions;
	rel regclass;
	method "char";
	n bigint := 0;
BEGIN
	IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'citus') THEN
		RAISE EXCEPTION 'cannot distribute feature view "%": the citus extension is not installed in this database', view
			USING ERRCODE = 'feature_not_supported',
				  HINT = 'Distributing storage needs Citus (shared_preload_libraries = ''citus,feature_store'' and CREATE EXTENSION citus); on one node there is nothing to distribute.';
	END IF;
	SELECT * INTO v FROM fs.views x WHERE x.name = w_distribute_feature_view.view;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'feature view "%" does not exist', view USING ERRCODE = 'undefined_object';
	END IF;
	IF NOT pg_has_role(caller, v.owner_role, 'USAGE') THEN
		RAISE EXCEPTION 'must be owner of feature view "%"', view USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF colocate_with IS NULL THEN
		RAISE EXCEPTION 'feature view "%" needs a table to be co-located with', view
			USING ERRCODE = 'null_value_not_allowed',
				  HINT = 'Pass the distributed table the view reads (its source), distributed on the entity key.';
	END IF;
	IF NOT has_table_privilege(caller, colocate_with, 'SELECT') THEN
		RAISE EXCEPTION 'permission denied for table %', colocate_with USING ERRCODE = 'insufficient_privilege';
	END IF;
	EXECUTE 'SELECT p.partmethod FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid = $1'
		INTO method USING colocate_with;
	IF method IS DISTINCT FROM 'h' THEN
		RAISE EXCEPTION 'cannot co-locate feature view "%" with %: it is not a hash-distributed table', view, colocate_with
			USING ERRCODE = 'wrong_object_type',
				  HINT = 'Distribute the source on the entity key first: SELECT create_distributed_table(''source'', ''key column'').';
	END IF;
	vv := fs_internal.view_version(view, version);
	PERFORM pg_advisory_xact_lock(hashtext('feature_store'), hashtext('view:' || v.name));
	FOREACH rel IN ARRAY ARRAY[fs_internal.storage_rel(vv, false), fs_internal.storage_rel(vv, true)] LOOP
		EXECUTE 'SELECT p.partmethod FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid = $1'
			INTO method USING rel;
		CONTINUE WHEN method IS NOT NULL;
		EXECUTE 'SELECT pg_catalog.create_distributed_table($1, $2, colocate_with => $3)'
			USING rel, vv.key_column, colocate_with::text;
		-- rows already materialized were copied into the shards
		EXECUTE 'SELECT pg_catalog.truncate_local_data_after_distributing_table($1)' USING rel;
		n := n + 1;
	END LOOP;
	RETURN n;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.w_distribute_feature_view(regrole, text, int, regclass) FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.w_distribute_feature_view(regrole, text, int, regclass) IS
	'internal catalog operation: distributes the storage of a feature view version with Citus';

CREATE OR REPLACE FUNCTION fs.distribute_feature_view(view text, colocate_with regclass, version int DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
BEGIN
	RETURN fs_internal.write('distribute_feature_view', view, version, colocate_with);
END;
$$;
COMMENT ON FUNCTION fs.distribute_feature_view(text, regclass, int) IS
	'distributes the history and online tables of a feature view version (the latest by default) on its key with Citus, co-located with colocate_with (its source); returns the number of tables distributed';
