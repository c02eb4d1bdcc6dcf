
------------------------------------------------------------------------------
-- Historical (point-in-time) retrieval
------------------------------------------------------------------------------

-- fs.historical_features returns SQL, it does not run it: the text goes to
-- \gexec, a view, a dbt model or CREATE TABLE AS.  The SQL is one LEFT JOIN
-- per feature view version from the spine, each on
--     view key = spine key AND spine time @> view time (@>= when strict is false)
--     AND view time >= spine time - view TTL       (when the view has a TTL)
--     AND view fs_created_at <= spine time         (when known_at)
-- so every spine row yields exactly one output row.  Names are resolved now:
-- a reference without @N means the latest version at generation time, and
-- the storage tables are written fully qualified.
--
-- strict defaults to true: a feature row stamped at the very instant of a
-- spine row is not used for it (such a row often already contains the
-- labelled event, e.g. a count that includes the transaction being
-- labelled).  strict => false gives the inclusive "event time <= spine time"
-- match of most feature stores.
--
-- Spine and event times of different types follow one rule, the same one
-- hand-written as-of joins follow (README "One rule for event times"), and
-- never the session's time zone: a date is the midnight that starts it (as
-- date::timestamp has it); timestamptz against timestamp or date needs the
-- zone the latter are in (time_zone => 'UTC'), which hand-written joins
-- spell with AT TIME ZONE.  fs_internal.asof_time_condition writes the
-- condition; it keeps the view's time column bare (the spine side carries
-- any conversion), so the as-of join can read the view's index.
--
-- Output columns are named view__feature.  A feature requested from several
-- versions of its view (spend@1:amount and spend@2:amount) keeps that name
-- for the first version requested; the others are named view_vN__feature
-- (spend_v2__amount).
--
-- known_at => true keeps only rows materialized (fs_created_at) by the spine
-- time, so values backfilled later cannot leak into older spine rows; a spine
-- time of type timestamp or date needs time_zone for that comparison too.
--
-- History is bitemporal: a revised value is a new row for the same key and
-- event time.  Retrieval takes, for the event time it chooses, the newest
-- created row (with known_at, the newest created by the spine time).  Once a
-- run has revised rows of a version (materialization_runs.rows_revised), the
-- join says so itself, since the as-of join breaks ties on event time in the
-- order its strategy reads the rows (README "Append-only history"):
--     AND view fs_created_at >= (SELECT max(fs_created_at) of the view's rows
--                                with the spine's key and that event time
--                                [created by the spine time, with known_at])
-- which leaves one candidate per event time.  ">=" means "=" here (the row
-- is one of those the maximum is taken over, or, with known_at, fails the
-- condition on its own created time), and the planner prices it as a range
-- condition that most rows pass, as they do, rather than as an equality with
-- an unknown value that almost none would: the as-of join's walk is priced
-- by how many candidates it expects to read per spine row.

-- The as-of condition between a spine time (an SQL expression of type
-- spine_type) and a feature view's time column (feature_ts, of type
-- feature_type), and the condition of the view's TTL (NULL without one): the
-- rule above.  Refuses a pair that needs a zone when time_zone is NULL.
CREATE OR REPLACE FUNCTION fs_internal.asof_time_condition(spine_ts text, spine_type regtype, feature_ts text,
	feature_type regtype, strict boolean, ttl interval, time_zone text, OUT asof text, OUT ttl_condition text)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog
SET intervalstyle = postgres	-- TTL literals read the same under any style
AS $$
DECLARE
	t text := spine_ts;			-- the spine time, as an operand ...
	tt regtype := spine_type;	-- ... of this type
BEGIN
	IF spine_type <> ALL (fs_internal.time_types()) OR feature_type <> ALL (fs_internal.time_types()) THEN
		RAISE EXCEPTION 'as-of times must be timestamptz, timestamp or date, not % and %', spine_type, feature_type
			USING ERRCODE = 'datatype_mismatch';
	END IF;
	-- timestamptz against timestamp or date: the latter read in time_zone
	IF (tt = 'timestamptz'::regtype) <> (feature_type = 'timestamptz'::regtype) THEN
		IF time_zone IS NULL THEN
			RAISE EXCEPTION 'comparing % with % needs a time zone', spine_type, feature_type
				USING ERRCODE = 'datatype_mismatch';
		END IF;
		IF tt = 'date'::regtype THEN
			t := format('%s::timestamp', t);
		END IF;
		t := format('(%s AT TIME ZONE %L)', t, time_zone);
		tt := CASE WHEN tt = 'timestamptz'::regtype THEN 'timestamp' ELSE 'timestamptz' END;
	END IF;
	-- timestamp against date: a date is the midnight that starts it
	IF tt = 'date'::regtype AND feature_type = 'timestamp'::regtype THEN
		t := format('%s::timestamp', t);
		tt := 'timestamp';
	END IF;
	IF tt = 'timestamp'::regtype AND feature_type = 'date'::regtype THEN
		-- For a feature day d: d 00:00 <= t when d <= t::date, and d 00:00 < t
		-- when d is before t rounded up to a whole day; the view's date column
		-- stays bare (its index serves the join).
		asof := CASE WHEN strict
					 THEN format('(%1$s::date + (%1$s > %1$s::date)::int) @> %2$s', t, feature_ts)
					 ELSE format('%s::date @>= %s', t, feature_ts) END;
	ELSE
		asof := format('%s %s %s', t, CASE WHEN strict THEN '@>' ELSE '@>=' END, feature_ts);
	END IF;
	IF ttl IS NOT NULL THEN
		ttl_condition := format('%s >= %s - %L::interval', feature_ts, t, ttl);
	END IF;
END;
$$;
COMMENT ON FUNCTION fs_internal.asof_time_condition(text, regtype, text, regtype, boolean, interval, text) IS
	'internal: the as-of join condition (and TTL) between a spine time and a feature view''s time, by the one rule for event times';

-- The spine time as an instant (timestamptz), for comparisons with created
-- times: a timestamp or a date is read in time_zone, which it then needs.
CREATE OR REPLACE FUNCTION fs_internal.spine_instant(spine_ts text, spine_type regtype, time_zone text) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$
BEGIN
	IF spine_type = 'timestamptz'::regtype THEN
		RETURN spine_ts;
	END IF;
	IF time_zone IS NULL THEN
		RAISE EXCEPTION 'comparing % with timestamp with time zone needs a time zone', spine_type
			USING ERRCODE = 'datatype_mismatch';
	END IF;
	IF spine_type = 'date'::regtype THEN
		RETURN format('(%s::timestamp AT TIME ZONE %L)', spine_ts, time_zone);
	END IF;
	RETURN format('(%s AT TIME ZONE %L)', spine_ts, time_zone);
END;
$$;
COMMENT ON FUNCTION fs_internal.spine_instant(text, regtype, text) IS
	'internal: a spine time as timestamptz (a timestamp or date read in the given time zone)';

CREATE OR REPLACE FUNCTION fs_internal.historical_features(
	spine text,
	features fs.feature_ref[],
	key_column text,
	ts_column text,
	strict boolean,
	known_at boolean,
	time_zone text,
	search_path text
) RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
SET intervalstyle = postgres	-- TTL literals read the same under any style
AS $$
DECLARE
	token bigint;
	src record;
	spine_sql text;
	spine_cols text[];
	spine_key_t regtype;
	spine_ts_t regtype;
	time_types CONSTANT regtype[] := fs_internal.time_types();
	r record;
	alias text;
	aliases jsonb := '{}';
	n int := 0;
	out_name text;
	out_names text[] := '{}';
	origins jsonb := '{}';		-- output name -> [view, version] of the feature
	sel text := '';
	joins text := '';
	spine_ts text;
	spine_at text;
	cond record;
	histories jsonb := '[]';	-- [{view, version, rel}] per joined version
	latest_spine timestamptz;
	none_known boolean;
	v record;
	sql text;
	cur refcursor;
	line text;
BEGIN
	IF spine IS NULL OR btrim(spine) = '' THEN
		RAISE EXCEPTION 'spine must not be null or empty' USING ERRCODE = 'null_value_not_allowed',
			HINT = 'Pass a table or view name, or a SELECT query.';
	END IF;
	IF key_column IS NULL OR ts_column IS NULL THEN
		RAISE EXCEPTION 'key_column and ts_column must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF strict IS NULL OR known_at IS NULL THEN
		RAISE EXCEPTION 'strict and known_at must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF time_zone IS NOT NULL THEN
		PERFORM now() AT TIME ZONE time_zone;	-- an unknown zone is an error now
	END IF;

	-- The spine: a relation name or one SELECT, validated, planned (not run)
	-- and described in the caller's schemas, as feature view sources are.
	token := fs_internal.begin_user_sql(NULL, historical_features.search_path);
	src := fs_internal.describe_source('spine', spine);
	PERFORM fs_internal.end_user_sql(token);
	IF src.relation IS NOT NULL THEN
		spine_sql := src.relation || ' AS s';
	ELSIF src.query !~* '\mfrom\M' THEN
		-- A spine of constants (SELECT 1 AS k, ... or VALUES) would be folded
		-- into the join by the planner, leaving no key equality to join on:
		-- OFFSET 0 keeps it a relation of its own.
		spine_sql := format(E'(SELECT * FROM (\n%s\n) AS spine OFFSET 0) AS s', src.query);
	ELSE
		spine_sql := format(E'(\n%s\n) AS s', src.query);
	END IF;
	spine_cols := src.column_names;
	IF NOT key_column = ANY (spine_cols) THEN
		RAISE EXCEPTION 'spine has no key column "%"', key_column USING ERRCODE = 'undefined_column',
			HINT = format('Its columns are %s.', array_to_string(spine_cols, ', '));
	END IF;
	IF NOT ts_column = ANY (spine_cols) THEN
		RAISE EXCEPTION 'spine has no timestamp column "%"', ts_column USING ERRCODE = 'undefined_column',
			HINT = format('Its columns are %s.', array_to_string(spine_cols, ', '));
	END IF;
	spine_key_t := src.column_types[array_position(spine_cols, key_column)];
	spine_ts_t := src.column_types[array_position(spine_cols, ts_column)];
	IF NOT spine_ts_t = ANY (time_types) THEN
		RAISE EXCEPTION 'timestamp column "%" of the spine has type %', ts_column, spine_ts_t
			USING ERRCODE = 'datatype_mismatch', HINT = 'It must be timestamptz, timestamp or date.';
	END IF;
	spine_ts := format('s.%I', ts_column);
	IF known_at THEN
		IF spine_ts_t <> 'timestamptz'::regtype AND time_zone IS NULL THEN
			RAISE EXCEPTION 'known_at compares creation times with timestamp column "%" of the spine, of type %',
				ts_column, spine_ts_t
				USING ERRCODE = 'datatype_mismatch',
					  DETAIL = 'Which rows match would depend on the session''s time zone.',
					  HINT = 'Pass time_zone => ''UTC'' (the zone the spine''s times are in), or give the spine a timestamptz time.';
		END IF;
		spine_at := fs_internal.spine_instant(spine_ts, spine_ts_t, time_zone);
	END IF;
	out_names := spine_cols;

	-- One output column per spine column and feature: at most a table's 1600
	-- columns (create_training_set stores them), checked before the work
	-- per feature.
	IF cardinality(features) + cardinality(spine_cols) > 1600
	   OR (SELECT pg_catalog.count(*) FROM fs.resolve_features(features)) + cardinality(spine_cols) > 1600 THEN
		RAISE EXCEPTION 'too many output columns: the spine''s % columns and the features requested exceed 1600',
			cardinality(spine_cols)
			USING ERRCODE = 'program_limit_exceeded',
				  DETAIL = format('%s feature references expand to %s features; a retrieval returns at most 1600 columns.',
								  cardinality(features), (SELECT pg_catalog.count(*) FROM fs.resolve_features(features)));
	END IF;

	FOR r IN
		SELECT rf.ref, rf.feature, rf.ord, vv.*
		  FROM fs.resolve_features(features) WITH ORDINALITY AS rf(ref, view, version, feature, type, ord)
		  JOIN fs.view_versions vv ON vv.view_name = rf.view AND vv.version = rf.version
		 ORDER BY rf.ord
	LOOP
		IF spine_key_t <> r.key_type AND NOT EXISTS (
			SELECT FROM pg_cast c WHERE c.castsource = spine_key_t AND c.casttarget = r.key_type
			   AND c.castcontext = 'i') THEN
			RAISE EXCEPTION 'key column "%" of the spine has type %, but feature view "%" has key type %',
				key_column, spine_key_t, r.view_name, r.key_type
				USING ERRCODE = 'datatype_mismatch', HINT = 'Cast the key column in the spine query.';
		END IF;
		out_name := r.view_name || '__' || r.feature;
		-- The same feature from a second version of its view: view_vN__feature.
		IF origins -> out_name ->> 0 = r.view_name AND (origins -> out_name ->> 1)::int <> r.version THEN
			out_name := format('%s_v%s__%s', r.view_name, r.version, r.feature);
		END IF;
		IF octet_length(out_name) > fs_internal.max_name_bytes() THEN
			RAISE EXCEPTION 'output column name "%" for feature "%" is too long', out_name, r.ref
				USING ERRCODE = 'name_too_long',
					  DETAIL = format('It is %s bytes long; the limit is %s.', octet_length(out_name), fs_internal.max_name_bytes());
		END IF;
		IF out_name = ANY (out_names) THEN
			RAISE EXCEPTION 'output column "%" for feature "%" would appear twice', out_name, r.ref
				USING ERRCODE = 'duplicate_column',
					  HINT = CASE WHEN out_name = ANY (spine_cols)
								  THEN 'Rename the spine column.'
								  ELSE 'Request each feature of a view version once.' END;
		END IF;
		out_names := out_names || out_name;
		origins := origins || jsonb_build_object(out_name, jsonb_build_array(r.view_name, r.version));

		-- One join per view version, in order of first appearance.
		alias := aliases ->> format('%s@%s', r.view_name, r.version);
		IF alias IS NULL THEN
			n := n + 1;
			alias := 'f' || n;
			aliases := aliases || jsonb_build_object(format('%s@%s', r.view_name, r.version), alias);
			histories := histories || jsonb_build_object('view', r.view_name, 'version', r.version,
				'rel', fs_internal.storage_rel(fs_internal.view_version(r.view_name, r.version), false)::oid);
			IF (spine_ts_t = 'timestamptz'::regtype) <> (r.ts_type = 'timestamptz'::regtype) AND time_zone IS NULL THEN
				RAISE EXCEPTION 'timestamp column "%" of the spine has type %, but feature view "%" has event times of type %',
					ts_column, spine_ts_t, r.view_name, r.ts_type
					USING ERRCODE = 'datatype_mismatch',
						  DETAIL = 'Which rows match would depend on the session''s time zone.',
						  HINT = format('Pass time_zone => ''UTC'' (the zone the %s are in), or cast the spine''s time in a spine query.',
										CASE WHEN spine_ts_t = 'timestamptz'::regtype
											 THEN format('feature view''s %ss', CASE r.ts_type WHEN 'date'::regtype THEN 'date' ELSE 'timestamp' END)
											 ELSE format('spine''s %ss', CASE spine_ts_t WHEN 'date'::regtype THEN 'date' ELSE 'timestamp' END) END);
			END IF;
			cond := fs_internal.asof_time_condition(spine_ts, spine_ts_t, format('%I.%I', alias, r.ts_column),
													r.ts_type, strict, r.ttl, time_zone);
			joins := joins || format(E'\n  LEFT JOIN %s AS %I\n    ON %I.%I = s.%I\n   AND %s',
									 fs_internal.storage_rel(fs_internal.view_version(r.view_name, r.version), false), alias, alias, r.key_column, key_column,
									 cond.asof);
			IF cond.ttl_condition IS NOT NULL THEN
				joins := joins || E'\n   AND ' || cond.ttl_condition;
			END IF;
			IF known_at THEN
				joins := joins || format(E'\n   AND %I.fs_created_at <= %s', alias, spine_at);
			END IF;
			IF fs_internal.history_revised(r.view_name, r.version) THEN
				joins := joins || format(E'\n   AND %1$I.fs_created_at >= (SELECT pg_catalog.max(n.fs_created_at) FROM %2$s AS n'
										 || E'\n                             WHERE n.%3$I = s.%4$I AND n.%5$I = %1$I.%5$I%6$s)',
										 alias, fs_internal.storage_rel(fs_internal.view_version(r.view_name, r.version), false),
										 r.key_column, key_column, r.ts_column,
										 CASE WHEN known_at THEN format(' AND n.fs_created_at <= %s', spine_at) ELSE '' END);
			END IF;
		END IF;
		sel := sel || format(E',\n       %I.%I AS %I', alias, r.feature, out_name);
	END LOOP;

	sql := format(E'SELECT s.*%s\n  FROM %s%s', sel, spine_sql, joins);
	-- Plan it once as the caller would run it: a mistake shows up now.
	token := fs_internal.begin_user_sql(NULL, historical_features.search_path);
	OPEN cur FOR EXECUTE 'EXPLAIN ' || sql;
	FETCH cur INTO line;	-- a utility statement runs at its first fetch
	CLOSE cur;
	-- known_at over a history written entirely after every spine time (a
	-- backfill) answers NULL everywhere: say so.  The spine's latest time is
	-- one pass over it; the history is read until a row created by then.
	IF known_at THEN
		EXECUTE format('SELECT pg_catalog.max(%s) FROM %s', spine_at, spine_sql) INTO latest_spine;
		FOR v IN SELECT x.view, x.version, x.rel::regclass AS rel
				   FROM jsonb_to_recordset(histories) AS x(view text, version int, rel oid)
				  WHERE latest_spine IS NOT NULL LOOP
			EXECUTE format('SELECT EXISTS (SELECT FROM %s) AND NOT EXISTS (SELECT FROM %1$s WHERE fs_created_at <= $1)', v.rel)
				INTO none_known USING latest_spine;
			IF none_known THEN
				RAISE NOTICE 'known_at: every row of feature view "%" version % was created after the latest spine time, %',
					v.view, v.version, latest_spine
					USING DETAIL = 'Its features are NULL for every spine row: known_at sees a row only from its fs_created_at on.',
						  HINT = 'A history materialized after the fact (a backfill) is invisible to known_at; '
								 'retrieve it with known_at => false, or with spine times after it was materialized.';
			END IF;
		END LOOP;
	END IF;
	PERFORM fs_internal.end_user_sql(token);
	RETURN sql;
END;
$$;
COMMENT ON FUNCTION fs_internal.historical_features(text, fs.feature_ref[], text, text, boolean, boolean, text, text) IS
	'internal: fs.historical_features with the schemas the spine resolves in';

-- The public entry point captures the caller's schemas, in which the spine is
-- resolved (the generated SQL qualifies everything else).
CREATE OR REPLACE FUNCTION fs.historical_features(
	spine text,
	features fs.feature_ref[],
	key_column text,
	ts_column text,
	strict boolean DEFAULT true,
	known_at boolean DEFAULT false,
	time_zone text DEFAULT NULL
) RETURNS text
LANGUAGE sql VOLATILE PARALLEL UNSAFE
AS $$
	SELECT fs_internal.historical_features($1, $2, $3, $4, $5, $6, $7,
		(SELECT pg_catalog.string_agg(pg_catalog.quote_ident(s), ', ' ORDER BY o)
		   FROM pg_catalog.unnest(pg_catalog.current_schemas(false)) WITH ORDINALITY AS u(s, o)))
$$;
COMMENT ON FUNCTION fs.historical_features(text, fs.feature_ref[], text, text, boolean, boolean, text) IS
	'point-in-time retrieval SQL: one row per spine row, spine columns then one view__feature column per feature; '
	'strict (default) excludes feature rows stamped at the spine instant, known_at only sees rows materialized by then, '
	'time_zone is the zone timestamps and dates are in where they meet timestamptz';
