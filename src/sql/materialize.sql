
------------------------------------------------------------------------------
-- Materialization
------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION fs.materialize(view text, start timestamptz DEFAULT NULL, finish timestamptz DEFAULT NULL,
	OUT version int, OUT rows_read bigint, OUT rows_written bigint, OUT online_rows bigint)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
DECLARE
	vv fs.view_versions;
	names text[];
	run_as regrole;
	hist regclass;
	onl regclass;
	token bigint;
	src record;
	started timestamptz := clock_timestamp();
	created timestamptz;
	feat_list text;
	set_list text;
	stamp text;
	sql text;
	bad_key text;
	bad_time text;
	revised bigint;
BEGIN
	IF view IS NULL THEN
		RAISE EXCEPTION 'feature view name must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF start IS NOT NULL AND finish IS NOT NULL AND start >= finish THEN
		RAISE EXCEPTION 'materialization window of feature view "%" is empty: start % is not before finish %',
			view, start, finish USING ERRCODE = 'invalid_parameter_value';
	END IF;
	vv := fs_internal.view_version(view);
	version := vv.version;
	hist := fs_internal.storage_rel(vv, false);
	onl := fs_internal.storage_rel(vv, true);
	-- The source is the owner's SQL: it runs as the owner role, never with the
	-- caller's (perhaps a superuser's) rights, so only its members may run it.
	run_as := fs_internal.view_owner(vv.view_name);
	IF NOT pg_has_role(run_as, 'USAGE') THEN
		RAISE EXCEPTION 'permission denied to materialize feature view "%"', view
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = format('Materialization runs as the view''s owner role %s; only its members may run it.', run_as);
	END IF;
	-- One materialization of a version at a time.  The created time is taken
	-- once the previous run has committed, so later runs write later times.
	PERFORM pg_advisory_xact_lock(hashtext('feature_store'), hashtext(format('materialize:%s@%s', view, vv.version)));
	created := clock_timestamp();

	SELECT array_agg(f.name ORDER BY f.position) INTO names
	  FROM fs.view_features f WHERE f.view_name = vv.view_name AND f.version = vv.version;
	SELECT string_agg(format('%I', x), ', '), string_agg(format('%1$I = EXCLUDED.%1$I', x), ', ')
	  INTO feat_list, set_list FROM unnest(names) x;

	-- Rows are stamped when their values are known: the source's event time
	-- plus available_after (the window still selects on the source's time).
	stamp := CASE WHEN vv.available_after IS NULL THEN format('%I', vv.ts_column)
				  WHEN vv.ts_type = 'date'::regtype THEN format('(%I + $3)::date', vv.ts_column)
				  ELSE format('%I + $3', vv.ts_column) END;

	-- History is append-only and bitemporal: a (key, event time) whose values
	-- differ from its newest history row gets a new row, created now; nothing
	-- is updated or deleted, so re-running an unchanged window writes nothing
	-- and known_at can answer for any time.  Identical source rows for one key
	-- and event time count once; different ones are an error (bad_key).
	-- Values compare by their binary image (record_image_eq, the *= of
	-- records), which every type has.
	-- Online: the newest written row per key, only over an older one.
	sql := format($q$
WITH batch AS (
	SELECT %1$I, %10$s AS %2$I, %3$s FROM (
%4$s
	) AS fs_source
	WHERE %1$I IS NOT NULL AND %2$I IS NOT NULL
	  AND ($1 IS NULL OR %2$I >= $1) AND ($2 IS NULL OR %2$I < $2)
), ranked AS (
	SELECT fs_batch AS fs_row, pg_catalog.row_number() OVER w AS fs_n,
		   pg_catalog.record_image_eq(fs_batch, pg_catalog.first_value(fs_batch) OVER w) AS fs_same
	  FROM batch AS fs_batch
	WINDOW w AS (PARTITION BY fs_batch.%1$I, fs_batch.%2$I)
), fresh AS (
	SELECT r.fs_row, p.fs_same IS NOT NULL AS fs_revision FROM ranked AS r
	  LEFT JOIN LATERAL (SELECT pg_catalog.record_image_eq(ROW(%8$s), ROW(%9$s)) AS fs_same
						   FROM %5$s AS h
						  WHERE h.%1$I = (r.fs_row).%1$I AND h.%2$I = (r.fs_row).%2$I
						  ORDER BY h.fs_created_at DESC LIMIT 1) AS p ON true
	 WHERE r.fs_n = 1 AND p.fs_same IS NOT TRUE
), written AS (
	INSERT INTO %5$s AS h (%1$I, %2$I, fs_created_at, %3$s)
	SELECT (f.fs_row).%1$I, (f.fs_row).%2$I, $4, %11$s FROM fresh AS f
	RETURNING h.*
), latest AS (
	SELECT DISTINCT ON (%1$I) * FROM written ORDER BY %1$I, %2$I DESC, fs_created_at DESC
), online AS (
	INSERT INTO %6$s AS o (%1$I, %2$I, fs_created_at, %3$s)
	SELECT %1$I, %2$I, fs_created_at, %3$s FROM latest
	ON CONFLICT (%1$I) DO UPDATE SET %2$I = EXCLUDED.%2$I, fs_created_at = EXCLUDED.fs_created_at, %7$s
	WHERE (o.%2$I, o.fs_created_at) < (EXCLUDED.%2$I, EXCLUDED.fs_created_at)
	RETURNING 1
)
SELECT (SELECT pg_catalog.count(*) FROM batch), (SELECT pg_catalog.count(*) FROM written),
	   (SELECT pg_catalog.count(*) FROM online),
	   (SELECT pg_catalog.count(*) FROM fresh WHERE fs_revision),
	   bad.k, bad.t
  FROM (SELECT NULL) AS one
  LEFT JOIN (SELECT (r.fs_row).%1$I::text AS k, (r.fs_row).%2$I::text AS t FROM ranked AS r
			  WHERE NOT r.fs_same LIMIT 1) AS bad ON true
$q$,
		vv.key_column, vv.ts_column, feat_list, vv.source_query, hist, onl, set_list,
		(SELECT string_agg(format('h.%I', x), ', ') FROM unnest(names) x),
		(SELECT string_agg(format('(r.fs_row).%I', x), ', ') FROM unnest(names) x), stamp,
		(SELECT string_agg(format('(f.fs_row).%I', x), ', ') FROM unnest(names) x));
	token := fs_internal.begin_user_sql(run_as, vv.search_path);
	src := fs_internal.describe_source(format('source of feature view "%s"', vv.view_name), vv.source_query);
	PERFORM fs_internal.check_source_columns(vv, src.column_names, src.column_types);
	EXECUTE sql INTO rows_read, rows_written, online_rows, revised, bad_key, bad_time
		USING start, finish, vv.available_after, created;
	PERFORM fs_internal.end_user_sql(token);
	IF bad_key IS NOT NULL THEN
		RAISE EXCEPTION 'source of feature view "%" yields different rows for one key and event time', view
			USING ERRCODE = 'cardinality_violation',
				  DETAIL = format('The rows for %I = %s, %I = %s have different values.', vv.key_column, bad_key,
								  vv.ts_column, bad_time),
				  HINT = format('Make (%I, %I) unique in the source; identical rows count once.', vv.key_column,
								vv.ts_column);
	END IF;
	PERFORM fs_internal.write('record_run', vv.view_name, vv.version, start, finish, started, rows_read, rows_written,
							  online_rows, 'succeeded'::text, NULL::text, revised);
END;
$$;
COMMENT ON FUNCTION fs.materialize(text, timestamptz, timestamptz) IS
	'materializes the latest version of a feature view for the window start <= event time < finish, in one transaction';

-- Records a materialization run of a version; the caller must be allowed to
-- run it (a member of the view's owner role).
CREATE OR REPLACE FUNCTION fs_internal.w_record_run(caller regrole, view text, version int,
	window_start timestamptz, window_finish timestamptz, started timestamptz,
	rows_read bigint, rows_written bigint, online_rows bigint, status text, error text, rows_revised bigint)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
	id bigint;
BEGIN
	IF NOT EXISTS (SELECT FROM fs.views v JOIN fs.view_versions vv ON vv.view_name = v.name
					WHERE v.name = w_record_run.view AND vv.version = w_record_run.version
					  AND pg_has_role(caller, v.owner_role, 'USAGE')) THEN
		RAISE EXCEPTION 'permission denied to record a run of feature view "%" version %', view, version
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	INSERT INTO fs.materialization_runs (view_name, version, window_start, window_finish, started_at, finished_at,
										 duration, rows_read, rows_written, online_rows, status, error, run_by,
										 rows_revised)
	VALUES (view, version, window_start, window_finish, started, clock_timestamp(), clock_timestamp() - started,
			rows_read, rows_written, online_rows, status, error, fs_internal.role_name(caller), rows_revised)
	RETURNING run_id INTO id;
	RETURN id;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.w_record_run(regrole, text, int, timestamptz, timestamptz, timestamptz, bigint, bigint,
	bigint, text, text, bigint) FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.w_record_run(regrole, text, int, timestamptz, timestamptz, timestamptz, bigint, bigint,
	bigint, text, text, bigint) IS 'internal catalog operation: records a materialization run';
