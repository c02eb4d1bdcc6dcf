
-- ===================================================================
-- Scaling out on Citus: a version's storage distributed on the entity key,
-- co-located with its source (README "Scaling out")
-- ===================================================================

-- Distributes the history, online, stage and quarantine tables of a version
-- (the latest by default) on its key column, co-located with colocate_with: a hash-distributed
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
	-- the stage and quarantine too: distributed storage is published from
	-- the stage by statements that run on each shard (publish_distributed)
	IF vv.stage_relid IS NULL OR vv.quarantine_relid IS NULL THEN
		PERFORM fs_internal.create_gate_relations(v.name);
		vv := fs_internal.view_version(view, version);
	END IF;
	FOREACH rel IN ARRAY ARRAY[fs_internal.storage_rel(vv, false), fs_internal.storage_rel(vv, true),
							   fs_internal.gate_rel(vv, true), fs_internal.gate_rel(vv, false)] LOOP
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
	'distributes the history, online, stage and quarantine tables of a feature view version (the latest by default) on its key with Citus, co-located with colocate_with (its source); returns the number of tables distributed';

-- The stage table of a version whose history Citus distributes, checked to
-- be distributed too (fs.distribute_feature_view distributes it with the
-- history; it is created then if the view had none).
CREATE OR REPLACE FUNCTION fs_internal.distributed_stage(vv fs.view_versions) RETURNS regclass
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$
DECLARE
	stage regclass;
	found boolean := false;
BEGIN
	IF vv.stage_relid IS NOT NULL THEN
		stage := fs_internal.gate_rel(vv, true);
		EXECUTE 'SELECT EXISTS (SELECT FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid = $1)'
			INTO found USING stage;
	END IF;
	IF NOT found THEN
		RAISE EXCEPTION 'cannot materialize feature view "%" version %: its history is distributed but its stage table is not',
			vv.view_name, vv.version
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = format('Run SELECT fs.distribute_feature_view(%L, <its source>, %s) again: it distributes the tables still local.',
								vv.view_name, vv.version);
	END IF;
	RETURN stage;
END;
$$;
COMMENT ON FUNCTION fs_internal.distributed_stage(fs.view_versions) IS
	'internal: the stage table of a version whose storage Citus distributes, checked to be distributed';

-- Publishes a batch into a version whose storage Citus distributes, with the
-- rules of fs_internal.publish_sql (src/sql/materialize.sql) but in
-- separate statements, each of which Citus runs on every shard group at
-- once: the stage, history and online tables are distributed on the key and
-- co-located, every statement reads them joined on the key, and none uses a
-- CTE or a local table (which Citus would pull to the coordinator, or
-- refuse in a lateral join).  The batch goes through the version's stage:
-- staged is true when run_batch has gated it there already (the stage then
-- holds the window's rows, dropped ones marked, and record_gate empties it);
-- otherwise batch (the source, or pushed rows $5) is copied into it here
-- and the stage is emptied again.  The statements, run as the caller (the
-- view's owner) under the view's search_path:
--   1. (unless staged) stage the window's rows;
--   2. into an empty history, all rows at once (as publish_fast_sql);
--      otherwise, or when a key and event time repeats, check: rows for
--      one key and event time that differ (and, with a
--      created-time column, share their created time) are counted, and one
--      of them is returned as bad_key, bad_time: nothing is written;
--      into a history that holds rows, the same statement counts the rows
--      that revise an earlier value (the newest history row of each key and
--      event time found through the primary key);
--   3. history: one row per key and event time (the newest created, or any
--      of identical ones) unless it equals the newest history row;
--   4. online: the newest written row of each key (found through the
--      history's primary key: key, event time and $4; or the stage's, when
--      it was all written), over an older one.
-- Parameters as publish_sql's: $1 start, $2 finish, $3 available_after,
-- $4 the created time, $5 pushed rows.  rows_read is NULL for a staged
-- batch (the gate counted it).
CREATE OR REPLACE FUNCTION fs_internal.publish_distributed(vv fs.view_versions, stage regclass, staged boolean,
	batch text, created_column text, start timestamptz, finish timestamptz, created timestamptz, rows jsonb,
	OUT rows_read bigint, OUT rows_written bigint, OUT online_rows bigint, OUT revised bigint,
	OUT bad_key text, OUT bad_time text)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
DECLARE
	token bigint := fs_internal.begin_user_sql(NULL, vv.search_path);
	history regclass := fs_internal.storage_rel(vv, false);
	names text[];
	cols text;
	stamp text;
	ranked text;
	previous text;
	empty boolean;
	first boolean := false;
	written text;
	n bigint;
	bad bigint;
BEGIN
	SELECT array_agg(f.name ORDER BY f.position) INTO names
	  FROM fs.view_features f WHERE f.view_name = vv.view_name AND f.version = vv.version;
	cols := fs_internal.version_columns(vv);
	stamp := fs_internal.stamp_sql(vv);
	-- 1. stage
	IF NOT staged THEN
		EXECUTE format('INSERT INTO %s (%s) SELECT %2$s FROM (%s) AS fs_source '
					   'WHERE %I IS NOT NULL AND %I IS NOT NULL AND ($1 IS NULL OR %5$I >= $1) AND ($2 IS NULL OR %5$I < $2)',
					   stage, cols, batch, vv.key_column, vv.ts_column)
			USING start, finish, vv.available_after, created, rows;
		GET DIAGNOSTICS rows_read = ROW_COUNT;
	END IF;
	-- The stage's rows stamped, ranked within their key and event time (the
	-- newest created first), and whether each equals the first.
	ranked := format($q$
	SELECT b.*, pg_catalog.row_number() OVER w AS fs_n,
		   pg_catalog.record_image_eq(ROW(b.*), pg_catalog.first_value(ROW(b.*)) OVER w)%5$s AS fs_same
	  FROM (SELECT %1$I, %3$s AS %2$I%4$s FROM %6$s WHERE fs_dropped IS NOT TRUE) AS b
	WINDOW w AS (PARTITION BY b.%1$I, b.%2$I%7$s)$q$,
		vv.key_column, vv.ts_column, stamp,
		(SELECT string_agg(format(', %I', x), '') FROM unnest(names) x),
		CASE WHEN created_column IS NOT NULL
			 THEN format(' OR b.%1$I IS DISTINCT FROM pg_catalog.first_value(b.%1$I) OVER w', created_column)
			 ELSE '' END,
		stage,
		CASE WHEN created_column IS NOT NULL THEN format(' ORDER BY b.%I DESC NULLS LAST', created_column)
			 ELSE '' END);
	-- the newest history row of a ranked row's key and event time, equal or not
	previous := format($q$
	  LEFT JOIN LATERAL (SELECT pg_catalog.record_image_eq(ROW(%3$s), ROW(%4$s)) AS fs_same
						   FROM %5$s AS h
						  WHERE h.%1$I = r.%1$I AND h.%2$I = r.%2$I
						  ORDER BY h.fs_created_at DESC LIMIT 1) AS p ON true$q$,
		vv.key_column, vv.ts_column,
		(SELECT string_agg(format('h.%I', x), ', ') FROM unnest(names) x),
		(SELECT string_agg(format('r.%I', x), ', ') FROM unnest(names) x), history);
	-- 2. check (an empty history has nothing to compare with: one cheap
	-- probe, a LIMIT each shard applies, where Citus would first gather a
	-- whole EXISTS subquery's rows)
	EXECUTE format('SELECT 1 FROM %s LIMIT 1', history);
	GET DIAGNOSTICS n = ROW_COUNT;
	empty := n = 0;
	-- Into an empty history, every row of the stage as it is (no row can be
	-- unchanged or a revision), as publish_fast_sql does on one node: a
	-- key and event time repeated in the batch fails on the history's
	-- primary key, and the general statements then publish the batch.
	IF empty THEN
		BEGIN
			EXECUTE format('INSERT INTO %1$s (%2$I, %3$I, fs_created_at%4$s) SELECT %2$I, %5$s, $4%4$s '
						   'FROM %6$s WHERE fs_dropped IS NOT TRUE',
						   history, vv.key_column, vv.ts_column,
						   (SELECT string_agg(format(', %I', x), '') FROM unnest(names) x), stamp, stage)
				USING start, finish, vv.available_after, created, rows;
			GET DIAGNOSTICS rows_written = ROW_COUNT;
			first := true;
		EXCEPTION WHEN unique_violation THEN
			first := false;
		END;
	END IF;
	IF first THEN
		revised := 0;
		-- the rows written are the stage's
		written := format('(SELECT %1$I, %2$s AS %3$I, $4 AS fs_created_at%4$s FROM %5$s WHERE fs_dropped IS NOT TRUE) AS h',
						  vv.key_column, stamp, vv.ts_column,
						  (SELECT string_agg(format(', %I', x), '') FROM unnest(names) x), stage);
	ELSE
		IF empty THEN
			EXECUTE format('SELECT pg_catalog.count(*) FILTER (WHERE NOT r.fs_same), 0 FROM (%s) AS r', ranked)
				INTO bad, revised USING start, finish, vv.available_after, created, rows;
		ELSE
			EXECUTE format('SELECT pg_catalog.count(*) FILTER (WHERE NOT r.fs_same), '
						   'pg_catalog.count(*) FILTER (WHERE r.fs_n = 1 AND NOT p.fs_same) FROM (%s) AS r %s', ranked, previous)
				INTO bad, revised USING start, finish, vv.available_after, created, rows;
		END IF;
		IF bad > 0 THEN
			EXECUTE format('SELECT r.%1$I::text, r.%2$I::text FROM (%3$s) AS r WHERE NOT r.fs_same LIMIT 1',
						   vv.key_column, vv.ts_column, ranked)
				INTO bad_key, bad_time USING start, finish, vv.available_after, created, rows;
			rows_written := 0;
			online_rows := 0;
		ELSE
			-- 3. history
			EXECUTE format('INSERT INTO %1$s AS h (%2$I, %3$I, fs_created_at%4$s) SELECT r.%2$I, r.%3$I, $4%5$s '
						   'FROM (%6$s) AS r %7$s WHERE r.fs_n = 1%8$s',
						   history, vv.key_column, vv.ts_column,
						   (SELECT string_agg(format(', %I', x), '') FROM unnest(names) x),
						   (SELECT string_agg(format(', r.%I', x), '') FROM unnest(names) x), ranked,
						   CASE WHEN empty THEN '' ELSE previous END,
						   CASE WHEN empty THEN '' ELSE ' AND p.fs_same IS NOT TRUE' END)
				USING start, finish, vv.available_after, created, rows;
			GET DIAGNOSTICS rows_written = ROW_COUNT;
			-- the rows written: the history's at $4 for the stage's keys and event times
			written := format('(SELECT %1$I, %2$s AS %3$I FROM %4$s WHERE fs_dropped IS NOT TRUE) AS s '
							  'JOIN %5$s AS h ON h.%1$I = s.%1$I AND h.%3$I = s.%3$I AND h.fs_created_at = $4',
							  vv.key_column, stamp, vv.ts_column, stage, history);
		END IF;
	END IF;
	-- 4. online
	IF written IS NOT NULL AND rows_written > 0 THEN
		EXECUTE format($q$
INSERT INTO %4$s AS o (%1$I, %2$I, fs_created_at%3$s)
SELECT DISTINCT ON (h.%1$I) h.%1$I, h.%2$I, h.fs_created_at%5$s
  FROM %7$s
 ORDER BY h.%1$I, h.%2$I DESC
ON CONFLICT (%1$I) DO UPDATE SET %2$I = EXCLUDED.%2$I, fs_created_at = EXCLUDED.fs_created_at, %6$s
WHERE (o.%2$I, o.fs_created_at) < (EXCLUDED.%2$I, EXCLUDED.fs_created_at)$q$,
			vv.key_column, vv.ts_column,
			(SELECT string_agg(format(', %I', x), '') FROM unnest(names) x),
			fs_internal.storage_rel(vv, true),
			(SELECT string_agg(format(', h.%I', x), '') FROM unnest(names) x),
			(SELECT string_agg(format('%1$I = EXCLUDED.%1$I', x), ', ') FROM unnest(names) x),
			written)
			USING start, finish, vv.available_after, created, rows;
		GET DIAGNOSTICS online_rows = ROW_COUNT;
	ELSIF bad_key IS NULL THEN
		online_rows := 0;
	END IF;
	-- the stage is empty between batches (record_gate empties a gated one)
	IF NOT staged THEN
		IF rows_read > 10000 THEN
			EXECUTE format('TRUNCATE %s', stage);
		ELSE
			EXECUTE format('DELETE FROM %s', stage);
		END IF;
	END IF;
	PERFORM fs_internal.end_user_sql(token);
END;
$$;
COMMENT ON FUNCTION fs_internal.publish_distributed(fs.view_versions, regclass, boolean, text, text, timestamptz,
	timestamptz, timestamptz, jsonb) IS
	'internal: publishes a batch into storage Citus distributes, from the stage, by statements each shard group runs (the rules of publish_sql)';
