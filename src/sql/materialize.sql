
------------------------------------------------------------------------------
-- Materialization: one pipeline for every batch
------------------------------------------------------------------------------

-- Every batch, whether read from the source by fs.materialize (by hand or
-- by the worker) or pushed (fs.push), goes through fs_internal.run_batch:
--   1. stage: when the view has expectations that cannot be evaluated while
--      the batch is published (its source may read other rows a second
--      time, or a block or drop failed there), the batch's rows are copied
--      once, as the owner, into the version's stage table (an unlogged table
--      in fs_data, empty between batches: one batch of a version at a time);
--   2. gate: all expectations are evaluated in one pass over the batch, by
--      the statement that publishes it or the one that stages it
--      (fs_internal.gate_sql and gate_batch, src/sql/expectations.sql); a
--      failed "block" keeps the whole batch out, a failed "drop" marks its
--      failing rows in the stage;
--   3. publish: two statements write history and the online store from the
--      source (or the stage) without ranking the batch (publish_fast_sql);
--      a batch that repeats a key and event time is published by the
--      general one (publish_sql); storage Citus distributes by statements
--      it runs on each shard group (publish_distributed);
--   4. record: the run (manual runs here, worker runs by the worker, pushes
--      not at all), the expectations' results and the quarantined rows.
-- Each step is a statement of its own over relations of one version.

-- The statement that publishes a batch (step 3).  History is append-only
-- and bitemporal: a (key, event time) whose values differ from its newest
-- history row gets a new row, created at $4; nothing is updated or deleted,
-- so re-running an unchanged window writes nothing and known_at can answer
-- for any time.  Identical rows for one key and event time count once;
-- different ones are an error (the query returns one such key).  Values
-- compare by their binary image (record_image_eq, the *= of records), which
-- every type has.  Online: the newest written row per key, only over an
-- older one.  Rows are stamped when their values are known: the source's
-- event time plus available_after ($3; the window, $1 and $2, still selects
-- on the source's time).  The row alias fs_batch is reserved (a source
-- column of that name is refused at registration).  A staged batch is read
-- twice (rows and their count, in one snapshot) rather than copied into the
-- statement's own store; a source is read once.
CREATE OR REPLACE FUNCTION fs_internal.publish_sql(vv fs.view_versions, batch text, created_column text,
	scan_twice boolean, gate text) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$
DECLARE
	names text[];
	stamp text;
BEGIN
	SELECT array_agg(f.name ORDER BY f.position) INTO names
	  FROM fs.view_features f WHERE f.view_name = vv.view_name AND f.version = vv.version;
	stamp := fs_internal.stamp_sql(vv);
	RETURN format($q$
WITH fs_gate AS (
%15$s
), batch AS %14$s (
	SELECT %1$I, %10$s AS %2$I, %3$s FROM (
%4$s
	) AS fs_source
	WHERE %1$I IS NOT NULL AND %2$I IS NOT NULL
	  AND ($1 IS NULL OR %2$I >= $1) AND ($2 IS NULL OR %2$I < $2) AND (SELECT fs_pass FROM fs_gate)
), ranked AS (
	SELECT fs_batch AS fs_row, pg_catalog.row_number() OVER w AS fs_n,
		   pg_catalog.record_image_eq(fs_batch, pg_catalog.first_value(fs_batch) OVER w)%12$s AS fs_same
	  FROM batch AS fs_batch
	WINDOW w AS (PARTITION BY fs_batch.%1$I, fs_batch.%2$I%13$s)
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
	   bad.k, bad.t, g.fs_values, g.fs_pass
  FROM fs_gate AS g
  LEFT JOIN (SELECT (r.fs_row).%1$I::text AS k, (r.fs_row).%2$I::text AS t FROM ranked AS r
			  WHERE NOT r.fs_same LIMIT 1) AS bad ON true
$q$,
		vv.key_column, vv.ts_column,
		(SELECT string_agg(format('%I', x), ', ') FROM unnest(names) x),
		batch, fs_internal.storage_rel(vv, false), fs_internal.storage_rel(vv, true),
		(SELECT string_agg(format('%1$I = EXCLUDED.%1$I', x), ', ') FROM unnest(names) x),
		(SELECT string_agg(format('h.%I', x), ', ') FROM unnest(names) x),
		(SELECT string_agg(format('(r.fs_row).%I', x), ', ') FROM unnest(names) x), stamp,
		(SELECT string_agg(format('(f.fs_row).%I', x), ', ') FROM unnest(names) x),
		CASE WHEN created_column IS NOT NULL
			 THEN format(' OR fs_batch.%1$I IS DISTINCT FROM pg_catalog.first_value(fs_batch.%1$I) OVER w', created_column)
			 ELSE '' END,
		CASE WHEN created_column IS NOT NULL THEN format(' ORDER BY fs_batch.%I DESC NULLS LAST', created_column)
			 ELSE '' END,
		CASE WHEN scan_twice THEN 'NOT MATERIALIZED' ELSE '' END,
		coalesce(gate, 'SELECT NULL::text[] AS fs_values, true AS fs_pass'));
END;
$$;
COMMENT ON FUNCTION fs_internal.publish_sql(fs.view_versions, text, text, boolean, text) IS
	'internal: the statement that writes a batch (the rows of a query) to a version''s history and online store, when its gate query passes; a created-time column resolves conflicting rows (newest wins); scan_twice reads a cheap batch twice instead of keeping a copy';

-- The statements that publish a batch without ranking it: the first skips
-- the window that ranks the batch by key and event time to collapse
-- identical rows and find conflicting ones, and relies on the history's
-- primary key (key, event time, created time) instead: every row of a batch
-- is created at $4, so a second row for one key and event time raises
-- unique_violation, and publish_batch then rolls it back and publishes the
-- batch with the general statement above, which collapses identical rows
-- and reports conflicting ones (or resolves them by the created-time
-- column).  With lookup, each row is compared with its key and event
-- time's newest history row, as in the general statement (unchanged rows
-- are not written, changed ones are revisions); a row newer than its key's
-- online row is not looked up, since the online row holds the newest event
-- time written for the key (publishing only ever moves it forward; a key
-- without one is looked up), which spares an incremental batch's new rows
-- their lookups.  A row written for the
-- key and event time of an unchanged one (two different rows in the batch,
-- which the primary key cannot see) is reported as a clash, which the
-- caller treats as the unique_violation: such a row is a revision, so the
-- rows of keys and event times in history are grouped only when the batch
-- revises some (an aggregate, not a join of the statement's CTEs, which
-- the planner cannot estimate); without (into an empty
-- history: a first run, or a full run into empty storage) no row can be
-- unchanged or a revision, and the batch is not even kept.  It takes the
-- general statement's parameters and returns the rows read and written,
-- where the newest written row of each key is (found by hashing: a key's
-- newest event time, joined back, so nothing is sorted), the revisions,
-- whether it clashed, and the gate's values and verdict; the second statement ($1: those row ids)
-- copies these rows to the online store.  Row ids are stable between the
-- two: history rows are never updated, and the transaction holds its lock
-- on the table.
CREATE OR REPLACE FUNCTION fs_internal.publish_fast_sql(vv fs.view_versions, batch text, gate text, lookup boolean,
	OUT history text, OUT online text)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$
DECLARE
	names text[];
	stamp text;
	cols text;
	rows_sql text;
BEGIN
	SELECT array_agg(f.name ORDER BY f.position) INTO names
	  FROM fs.view_features f WHERE f.view_name = vv.view_name AND f.version = vv.version;
	stamp := fs_internal.stamp_sql(vv);
	cols := (SELECT string_agg(format('%I', x), ', ') FROM unnest(names) x);
	-- the batch's rows, stamped, when the gate passes
	rows_sql := format($q$SELECT %1$I, %4$s AS %2$I, %3$s FROM (
%5$s
	) AS fs_source
	WHERE %1$I IS NOT NULL AND %2$I IS NOT NULL
	  AND ($1 IS NULL OR %2$I >= $1) AND ($2 IS NULL OR %2$I < $2) AND (SELECT fs_pass FROM fs_gate)$q$,
		vv.key_column, vv.ts_column, cols, stamp, batch);
	history := format($q$
WITH fs_gate AS (
%6$s
)%7$s, written AS (
	INSERT INTO %5$s AS h (%1$I, %2$I, fs_created_at, %3$s)
	SELECT %1$I, %2$I, $4, %3$s FROM %4$s
	RETURNING h.%1$I, h.%2$I, h.ctid AS fs_tid
), newest AS (
	SELECT w.%1$I, pg_catalog.max(w.%2$I) AS %2$I FROM written AS w GROUP BY w.%1$I
)
SELECT %8$s, (SELECT pg_catalog.count(*) FROM written),
	   (SELECT pg_catalog.array_agg(w.fs_tid) FROM written AS w
		  JOIN newest AS n ON n.%1$I = w.%1$I AND n.%2$I = w.%2$I),
	   %9$s, %10$s, g.fs_values, g.fs_pass
  FROM fs_gate AS g
$q$,
		vv.key_column, vv.ts_column, cols,
		CASE WHEN lookup THEN 'fs_rows WHERE fs_same IS NOT TRUE' ELSE format('(%s) AS fs_rows', rows_sql) END,
		fs_internal.storage_rel(vv, false),
		coalesce(gate, 'SELECT NULL::text[] AS fs_values, true AS fs_pass'),
		CASE WHEN lookup THEN format($q$, fs_rows AS (
	SELECT b.*, p.fs_same FROM (%1$s) AS b
	  LEFT JOIN %7$s AS o ON o.%5$I = b.%5$I
	  LEFT JOIN LATERAL (SELECT pg_catalog.record_image_eq(ROW(%2$s), ROW(%3$s)) AS fs_same
						   FROM %4$s AS h
						  WHERE h.%5$I = b.%5$I AND h.%6$I = b.%6$I AND (o.%6$I IS NULL OR b.%6$I <= o.%6$I)
						  ORDER BY h.fs_created_at DESC LIMIT 1) AS p ON true
)$q$, rows_sql,
			(SELECT string_agg(format('h.%I', x), ', ') FROM unnest(names) x),
			(SELECT string_agg(format('b.%I', x), ', ') FROM unnest(names) x),
			fs_internal.storage_rel(vv, false), vv.key_column, vv.ts_column,
			fs_internal.storage_rel(vv, true)) ELSE '' END,
		CASE WHEN lookup THEN '(SELECT pg_catalog.count(*) FROM fs_rows)' ELSE 'NULL::bigint' END,
		CASE WHEN lookup THEN '(SELECT pg_catalog.count(*) FROM fs_rows WHERE NOT fs_same)' ELSE '0::bigint' END,
		CASE WHEN lookup THEN format('CASE WHEN EXISTS (SELECT FROM fs_rows WHERE NOT fs_same) THEN EXISTS ('
									'SELECT FROM fs_rows WHERE fs_same IS NOT NULL GROUP BY %1$I, %2$I '
									'HAVING pg_catalog.bool_or(fs_same) AND pg_catalog.bool_or(NOT fs_same)) ELSE false END',
									vv.key_column, vv.ts_column)
			 ELSE 'false' END);
	online := format($q$
INSERT INTO %4$s AS o (%1$I, %2$I, fs_created_at, %3$s)
SELECT h.%1$I, h.%2$I, h.fs_created_at, %6$s FROM %5$s AS h WHERE h.ctid = ANY ($1)
ON CONFLICT (%1$I) DO UPDATE SET %2$I = EXCLUDED.%2$I, fs_created_at = EXCLUDED.fs_created_at, %7$s
WHERE (o.%2$I, o.fs_created_at) < (EXCLUDED.%2$I, EXCLUDED.fs_created_at)
$q$,
		vv.key_column, vv.ts_column, cols,
		fs_internal.storage_rel(vv, true), fs_internal.storage_rel(vv, false),
		(SELECT string_agg(format('h.%I', x), ', ') FROM unnest(names) x),
		(SELECT string_agg(format('%1$I = EXCLUDED.%1$I', x), ', ') FROM unnest(names) x));
END;
$$;
COMMENT ON FUNCTION fs_internal.publish_fast_sql(fs.view_versions, text, text, boolean) IS
	'internal: the statements that write a batch to a version''s history without ranking it (a repeated key and event time fails with unique_violation; the caller falls back to publish_sql), and copy the newest rows to the online store';

-- Step 3 for run_batch: publishes the rows of batch (run as the caller,
-- run_batch's view owner, under the view's search_path, with run_batch's
-- parameters $1-$5) if the gate query (NULL: none) passes, and returns the
-- counts, the first conflicting key and event time when the batch has
-- conflicting rows, and the gate's values and verdict (nothing is written
-- when it fails).  The batch is published by the statements that do not
-- rank it (without lookups into an empty history; probe: the query that
-- says whether it is, NULL when Citus distributes the history, where row
-- ids name no row across shards and only the general statement runs); a
-- key and event time repeated in the batch makes the first of them fail on
-- the history's primary key, and the general statement then publishes it.
CREATE OR REPLACE FUNCTION fs_internal.publish_batch(vv fs.view_versions, batch text, created_column text,
	scan_twice boolean, gate text, probe text,
	start timestamptz, finish timestamptz, created timestamptz, rows jsonb,
	OUT rows_read bigint, OUT rows_written bigint, OUT online_rows bigint, OUT revised bigint,
	OUT bad_key text, OUT bad_time text, OUT gate_values text[], OUT gate_pass boolean)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
DECLARE
	token bigint := fs_internal.begin_user_sql(NULL, vv.search_path);
	fast boolean := probe IS NOT NULL;
	empty boolean;
	fast_stmt record;
	newest tid[];
	clash boolean;
BEGIN
	IF fast THEN
		EXECUTE probe INTO empty;
		SELECT * INTO fast_stmt FROM fs_internal.publish_fast_sql(vv, batch, gate, NOT empty);
		BEGIN
			EXECUTE fast_stmt.history INTO rows_read, rows_written, newest, revised, clash, gate_values, gate_pass
				USING start, finish, vv.available_after, created, rows;
			IF clash THEN
				RAISE EXCEPTION USING ERRCODE = 'unique_violation';
			END IF;
		EXCEPTION WHEN unique_violation THEN
			fast := false;
		END;
	END IF;
	IF fast THEN
		online_rows := 0;
		IF gate_pass AND rows_written > 0 THEN
			EXECUTE fast_stmt.online USING newest;
			GET DIAGNOSTICS online_rows = ROW_COUNT;
		END IF;
		rows_read := coalesce(rows_read, rows_written);
	ELSE
		EXECUTE fs_internal.publish_sql(vv, batch, created_column, scan_twice, gate)
			INTO rows_read, rows_written, online_rows, revised, bad_key, bad_time, gate_values, gate_pass
			USING start, finish, vv.available_after, created, rows;
	END IF;
	PERFORM fs_internal.end_user_sql(token);
END;
$$;
COMMENT ON FUNCTION fs_internal.publish_batch(fs.view_versions, text, text, boolean, text, text, timestamptz,
	timestamptz, timestamptz, jsonb) IS
	'internal: publishes a batch to a version''s history and online store if its gate passes (without ranking it unless it repeats a key and event time)';

-- Runs one batch of a version through the pipeline above.  batch is the
-- query of its rows, run as the view's owner with $5 (pushed rows) bound;
-- trigger is manual, worker or push; run is the worker's run (recorded by
-- the worker), NULL otherwise.  The caller has checked that it may act as
-- the owner.  Returns the counts, the status (succeeded or blocked) and the
-- run recorded (NULL for pushes).
--
-- A batch with expectations is first gated by the statement that publishes
-- it: one read of the source evaluates them all, and the rows are written
-- only when no block and no drop failed (the common case costs one more
-- read, no copy).  Both reads are in one statement, so one snapshot, and
-- only when the source reads the same rows twice (no volatile function,
-- foreign table or unrepeatable sample; fs_internal.source_rereadable).
-- Otherwise, or when that gate failed (nothing was written), the batch is
-- staged and gated in one pass (steps 1 and 2 above), and published from
-- the stage without its dropped rows unless blocked.
CREATE OR REPLACE FUNCTION fs_internal.run_batch(vv fs.view_versions, trigger text, batch text, rows jsonb,
	start timestamptz, finish timestamptz, run bigint, started timestamptz,
	OUT rows_read bigint, OUT rows_written bigint, OUT online_rows bigint, OUT status text, OUT run_id bigint)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
DECLARE
	run_as regrole := fs_internal.view_owner(vv.view_name);
	token bigint;
	src record;
	created timestamptz;
	gate record;
	gated boolean;
	exps fs.view_expectations[];
	stage regclass;
	cols text;
	window_rows text;
	created_column text;
	distributed boolean;
	probe text;
	p record;
	published boolean := false;
	bad_key text;
	bad_time text;
	revised bigint;
BEGIN
	-- One batch of a version at a time.  The created time is taken once the
	-- previous batch has committed, so later batches write later times.
	PERFORM pg_advisory_xact_lock(hashtext('feature_store'),
								  hashtext(format('materialize:%s@%s', vv.view_name, vv.version)));
	created := clock_timestamp();
	-- the created-time column, when the view has one: a feature of this version
	created_column := (SELECT o.created_column FROM fs.view_options o WHERE o.view_name = vv.view_name);
	IF created_column IS NOT NULL AND NOT EXISTS (SELECT FROM fs.view_features f
		WHERE f.view_name = vv.view_name AND f.version = vv.version AND f.name = created_column) THEN
		RAISE EXCEPTION 'created_column "%" of feature view "%" is not a feature of version %', created_column,
			vv.view_name, vv.version
			USING ERRCODE = 'undefined_column',
				  HINT = 'Set another one, or clear it, with fs.set_feature_view_options(view, created_column => ...).';
	END IF;
	gated := EXISTS (SELECT FROM fs.view_expectations e
					  WHERE e.view_name = vv.view_name AND (e.kind = 'row' OR trigger <> 'push'));
	IF gated THEN
		IF vv.stage_relid IS NULL OR vv.quarantine_relid IS NULL THEN
			PERFORM fs_internal.write('ensure_quarantine', vv.view_name);
			vv := fs_internal.view_version(vv.view_name, vv.version);
		END IF;
		stage := fs_internal.gate_rel(vv, true);
		cols := fs_internal.version_columns(vv);
	END IF;

	-- The statements of publish_fast_sql need row ids, which name no row
	-- across the shards of a history Citus distributes.
	IF to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL THEN
		EXECUTE 'SELECT EXISTS (SELECT FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid = $1)'
			INTO distributed USING fs_internal.storage_rel(vv, false);
	END IF;
	probe := CASE WHEN distributed IS NOT TRUE
				  THEN format('SELECT NOT EXISTS (SELECT FROM %s)', fs_internal.storage_rel(vv, false)) END;
	-- Distributed storage is published from its stage by statements Citus
	-- runs on each shard group (publish_distributed, src/sql/distribute.sql).
	IF distributed THEN
		stage := fs_internal.distributed_stage(vv);
	END IF;

	token := fs_internal.begin_user_sql(run_as, vv.search_path);
	IF trigger <> 'push' THEN
		src := fs_internal.describe_source(format('source of feature view "%s"', vv.view_name), batch);
		PERFORM fs_internal.check_source_columns(vv, src.column_names, src.column_types);
	END IF;
	status := 'succeeded';
	IF gated THEN
		exps := fs_internal.gate_expectations(vv, stage, trigger = 'push');
		gated := cardinality(exps) > 0;
	END IF;
	-- the batch's rows as the stage holds them: the window applied once
	window_rows := format('SELECT %s FROM (%s) AS fs_source WHERE %I IS NOT NULL AND %I IS NOT NULL '
						  'AND ($1 IS NULL OR %4$I >= $1) AND ($2 IS NULL OR %4$I < $2)',
						  cols, batch, vv.key_column, vv.ts_column);
	-- 2 and 3 at once, when the source reads the same rows twice (on one node)
	IF gated AND distributed IS NOT TRUE AND (trigger = 'push' OR fs_internal.source_rereadable(batch)) THEN
		p := fs_internal.publish_batch(vv, batch, created_column, false,
									   fs_internal.gate_sql(exps, window_rows, false), probe,
									   start, finish, created, rows);
		published := p.gate_pass;
		IF published THEN
			gate := fs_internal.gate_results(exps, p.gate_values);
			stage := NULL;
		END IF;
	END IF;
	IF gated AND NOT published THEN
		-- 1. stage and 2. gate, in one pass
		gate := fs_internal.gate_batch(vv, stage, exps, format('INSERT INTO %s (%s) %s', stage, cols, window_rows),
									   start, finish, rows);
		status := CASE WHEN gate.blocked THEN 'blocked' ELSE 'succeeded' END;
		batch := format('SELECT %s FROM %s WHERE fs_dropped IS NOT TRUE', cols, stage);
	END IF;
	-- 3. publish
	IF NOT published AND status = 'succeeded' THEN
		IF distributed THEN
			p := fs_internal.publish_distributed(vv, stage, gated, batch, created_column, start, finish, created, rows);
		ELSE
			p := fs_internal.publish_batch(vv, batch, created_column, gated, NULL, probe, start, finish, created, rows);
		END IF;
		published := true;
	END IF;
	IF published THEN
		rows_read := p.rows_read;
		rows_written := p.rows_written;
		online_rows := p.online_rows;
		revised := p.revised;
		bad_key := p.bad_key;
		bad_time := p.bad_time;
	ELSE
		rows_written := 0;
		online_rows := 0;
	END IF;
	IF gated THEN
		rows_read := gate.rows_checked;
	END IF;
	PERFORM fs_internal.end_user_sql(token);
	IF bad_key IS NOT NULL THEN
		RAISE EXCEPTION 'source of feature view "%" yields different rows for one key and event time', vv.view_name
			USING ERRCODE = 'cardinality_violation',
				  DETAIL = format('The rows for %I = %s, %I = %s have different values.', vv.key_column, bad_key,
								  vv.ts_column, bad_time),
				  HINT = CASE WHEN created_column IS NULL
							  THEN format('Make (%I, %I) unique in the source, or give the view a created-time column '
										  '(fs.set_feature_view_options(view, created_column => ...)); identical rows '
										  'count once.', vv.key_column, vv.ts_column)
							  ELSE format('Their created time %I is the same; the newest created row wins.', created_column)
						 END;
	END IF;

	-- 4. record
	run_id := run;
	IF trigger = 'manual' THEN
		run_id := fs_internal.write('record_run', vv.view_name, vv.version, start, finish, started, rows_read,
									rows_written, online_rows, status, NULL::text, revised);
	END IF;
	IF gated THEN
		PERFORM fs_internal.record_gate(vv, stage, run_id, trigger, gate);
	END IF;
	-- A version only pushed to has no runs: its first published push makes
	-- it the one unpinned references serve, as a first successful run does.
	IF trigger = 'push' AND status = 'succeeded' AND rows_written > 0 AND vv.first_success_at IS NULL THEN
		PERFORM fs_internal.write('mark_served', vv.view_name, vv.version);
	END IF;
END;
$$;
COMMENT ON FUNCTION fs_internal.run_batch(fs.view_versions, text, text, jsonb, timestamptz, timestamptz, bigint, timestamptz) IS
	'internal: gates (expectations), publishes and records one batch of a feature view version, staging it when it cannot be gated while published';

CREATE OR REPLACE FUNCTION fs.materialize(view text, start timestamptz DEFAULT NULL, finish timestamptz DEFAULT NULL,
	INOUT version int DEFAULT NULL, run_id bigint DEFAULT NULL, full boolean DEFAULT false,
	OUT rows_read bigint, OUT rows_written bigint, OUT online_rows bigint, OUT status text)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
DECLARE
	vv fs.view_versions;
	run_as regrole;
	started timestamptz := clock_timestamp();
	r record;
BEGIN
	IF view IS NULL THEN
		RAISE EXCEPTION 'feature view name must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF start IS NOT NULL AND finish IS NOT NULL AND start >= finish THEN
		RAISE EXCEPTION 'materialization window of feature view "%" is empty: start % is not before finish %',
			view, start, finish USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF materialize.full AND (start IS NOT NULL OR finish IS NOT NULL) THEN
		RAISE EXCEPTION 'a full materialization of feature view "%" reads the whole source: it takes no window', view
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Give full => true, or a window (start, finish) to backfill, not both.';
	END IF;
	vv := fs_internal.view_version(view, materialize.version);
	-- The source is the owner's SQL: it runs as the owner role, never with the
	-- caller's (perhaps a superuser's) rights, so only its members may run it.
	run_as := fs_internal.view_owner(vv.view_name);
	IF NOT pg_has_role(run_as, 'USAGE') THEN
		RAISE EXCEPTION 'permission denied to materialize feature view "%"', view
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = format('Materialization runs as the view''s owner role %s; only its members may run it.', run_as);
	END IF;
	-- A worker's run (recorded by the worker, which passes its id) must be a
	-- running scheduled run of this version.
	IF materialize.run_id IS NOT NULL AND NOT EXISTS (
		SELECT FROM fs.materialization_runs x
		 WHERE x.run_id = materialize.run_id AND x.view_name = vv.view_name AND x.version = vv.version
		   AND x.status = 'running' AND x.trigger = 'worker') THEN
		RAISE EXCEPTION 'materialization run % is not a running scheduled run of feature view "%" version %',
			materialize.run_id, view, vv.version
			USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;
	-- Without a window a run by hand is incremental, as the worker's are:
	-- from the newest event time materialized, minus the view's lateness
	-- (the first run, and full => true, read the whole source).
	IF materialize.run_id IS NULL AND start IS NULL AND finish IS NULL AND NOT materialize.full THEN
		start := fs_internal.incremental_start(fs_internal.newest_event_time(vv), vv.available_after,
			coalesce((SELECT o.lateness FROM fs.view_options o WHERE o.view_name = vv.view_name),
					 fs_internal.default_lateness()));
	END IF;
	r := fs_internal.run_batch(vv, CASE WHEN materialize.run_id IS NULL THEN 'manual' ELSE 'worker' END,
							   vv.source_query, NULL, start, finish, materialize.run_id, started);
	version := vv.version;
	rows_read := r.rows_read;
	rows_written := r.rows_written;
	online_rows := r.online_rows;
	status := r.status;
END;
$$;
COMMENT ON FUNCTION fs.materialize(text, timestamptz, timestamptz, int, bigint, boolean) IS
	'materializes a version of a feature view (the latest by default) for the window start <= event time < finish (without one, incrementally: from the newest event time materialized minus the view''s lateness; full => true reads the whole source), in one transaction; status says whether an expectation blocked the batch';

-- Records the first publication of a version that is only pushed to (the
-- first successful run of the others is recorded by a trigger on the runs);
-- the caller must be allowed to push to it (a member of the owner role).
CREATE OR REPLACE FUNCTION fs_internal.w_mark_served(caller regrole, view text, version int) RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog
AS $$
BEGIN
	IF NOT EXISTS (SELECT FROM fs.views v JOIN fs.view_versions vv ON vv.view_name = v.name
					WHERE v.name = w_mark_served.view AND vv.version = w_mark_served.version
					  AND pg_has_role(caller, v.owner_role, 'USAGE')) THEN
		RAISE EXCEPTION 'permission denied to publish feature view "%" version %', view, version
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	UPDATE fs.view_versions x SET first_success_at = pg_catalog.clock_timestamp()
	 WHERE x.view_name = w_mark_served.view AND x.version = w_mark_served.version AND x.first_success_at IS NULL;
	RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.w_mark_served(regrole, text, int) FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.w_mark_served(regrole, text, int) IS
	'internal catalog operation: records the first publication of a feature view version that is pushed to';

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
	-- blocked runs are counted for fs.metrics(), manual ones too
	IF status = 'blocked' THEN
		INSERT INTO fs.view_state AS s (view_name, version, blocked_total, last_blocked_at)
		VALUES (view, version, 1, clock_timestamp())
		ON CONFLICT ON CONSTRAINT view_state_pkey DO UPDATE
		   SET blocked_total = s.blocked_total + 1, last_blocked_at = EXCLUDED.last_blocked_at;
	END IF;
	RETURN id;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.w_record_run(regrole, text, int, timestamptz, timestamptz, timestamptz, bigint, bigint,
	bigint, text, text, bigint) FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.w_record_run(regrole, text, int, timestamptz, timestamptz, timestamptz, bigint, bigint,
	bigint, text, text, bigint) IS 'internal catalog operation: records a materialization run';
