
------------------------------------------------------------------------------
-- The background worker (src/worker.c): schedules, runs, freshness, metrics
------------------------------------------------------------------------------

-- The launcher (one process, connected as the bootstrap superuser) calls
-- fs_internal.worker_tick once per tick: it starts a run of each due version
-- (fs_internal.w_start_run records it "running" and commits) and returns
-- their ids.  Each run gets a background worker of its own, which switches
-- its session to the view's owner role, claims the run (w_claim_run), runs
-- fs_internal.run_scheduled and commits, or records the failure in a new
-- transaction (w_finish_run).  Runs whose worker died are failed by the
-- launcher (w_fail_runs); history past feature_store.run_retention is pruned
-- (w_prune_runs).

-- The allowed lateness of a view that sets none.
CREATE OR REPLACE FUNCTION fs_internal.default_lateness() RETURNS interval
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$ SELECT interval '1 hour' $$;
COMMENT ON FUNCTION fs_internal.default_lateness() IS 'internal: the allowed lateness of a feature view that sets none';

-- Every version with the worker's view of it: its schedule, the view's
-- options with their defaults, and its state.  "scheduled" says whether the
-- worker keeps it fresh: every version of a view with a schedule is, until
-- it is dropped, so a model pinned to view@1 keeps fresh values while
-- version 2 rolls out (each run materializes its own version).
CREATE OR REPLACE VIEW fs_internal.version_schedule AS
SELECT vv.view_name, vv.version, vv.created_at, v.schedule, v.owner_role,
	   v.schedule IS NOT NULL AS scheduled,
	   coalesce(o.paused, false) AS paused,
	   coalesce(o.lateness, fs_internal.default_lateness()) AS lateness,
	   coalesce(o.reconcile_every, interval '1 day') AS reconcile_every,
	   coalesce(o.expected_freshness, 2 * v.schedule) AS expected_freshness,
	   s.high_water, s.last_success_at, s.last_full_at,
	   coalesce(s.consecutive_failures, 0) AS consecutive_failures, s.next_attempt_at, s.last_error, s.last_error_at,
	   vv.available_after
  FROM fs.view_versions vv
  JOIN fs.views v ON v.name = vv.view_name
  LEFT JOIN fs.view_options o ON o.view_name = vv.view_name
  LEFT JOIN fs.view_state s ON s.view_name = vv.view_name AND s.version = vv.version;
COMMENT ON VIEW fs_internal.version_schedule IS
	'internal: every feature view version with its schedule, worker options (defaults filled in) and worker state';

------------------------------------------------------------------------------
-- Options: pause, resume, lateness, reconciliation, expected freshness
------------------------------------------------------------------------------

-- Sets a view's worker options; a NULL argument leaves that option as it
-- is.  Resuming also lifts a failing view's retry delay, so it runs at the
-- next tick.
CREATE OR REPLACE FUNCTION fs_internal.w_set_view_options(caller regrole, view text, paused boolean,
	lateness interval, reconcile_every interval, expected_freshness interval, created_column text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
	v fs.views;
BEGIN
	SELECT * INTO v FROM fs.views x WHERE x.name = w_set_view_options.view;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'feature view "%" does not exist', view USING ERRCODE = 'undefined_object';
	END IF;
	IF NOT pg_has_role(caller, v.owner_role, 'USAGE') THEN
		RAISE EXCEPTION 'must be owner of feature view "%"', view USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF lateness < interval '0' THEN
		RAISE EXCEPTION 'lateness of feature view "%" must not be negative', view USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF reconcile_every <= interval '0' THEN
		RAISE EXCEPTION 'reconcile_every of feature view "%" must be positive', view USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF expected_freshness <= interval '0' THEN
		RAISE EXCEPTION 'expected_freshness of feature view "%" must be positive', view
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- the created-time column: a feature of the latest version ('' clears it)
	IF created_column <> '' AND NOT EXISTS (
		SELECT FROM fs.view_features f
		 WHERE f.view_name = v.name AND f.name = w_set_view_options.created_column
		   AND f.version = (SELECT max(x.version) FROM fs.view_versions x WHERE x.view_name = v.name)) THEN
		RAISE EXCEPTION 'created_column "%" of feature view "%" is not a feature of its latest version', created_column, view
			USING ERRCODE = 'undefined_column',
				  HINT = 'The created-time column is a column of the source, stored as a feature.';
	END IF;
	INSERT INTO fs.view_options AS o (view_name, paused, lateness, reconcile_every, expected_freshness, created_column)
	VALUES (v.name, coalesce(paused, false), lateness, reconcile_every, expected_freshness, nullif(created_column, ''))
	ON CONFLICT (view_name) DO UPDATE SET
		created_column = CASE WHEN w_set_view_options.created_column IS NULL THEN o.created_column
							  ELSE nullif(w_set_view_options.created_column, '') END,
		paused = coalesce(w_set_view_options.paused, o.paused),
		lateness = coalesce(w_set_view_options.lateness, o.lateness),
		reconcile_every = coalesce(w_set_view_options.reconcile_every, o.reconcile_every),
		expected_freshness = coalesce(w_set_view_options.expected_freshness, o.expected_freshness),
		updated_at = now();
	IF NOT paused THEN
		UPDATE fs.view_state s SET next_attempt_at = NULL WHERE s.view_name = v.name AND s.next_attempt_at IS NOT NULL;
	END IF;
	RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.w_set_view_options(regrole, text, boolean, interval, interval, interval, text) FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.w_set_view_options(regrole, text, boolean, interval, interval, interval, text) IS
	'internal catalog operation: sets the worker options of a feature view';

CREATE OR REPLACE FUNCTION fs.set_feature_view_options(view text, lateness interval DEFAULT NULL,
	reconcile_every interval DEFAULT NULL, expected_freshness interval DEFAULT NULL, created_column text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
BEGIN
	PERFORM fs_internal.write('set_view_options', view, NULL::boolean, lateness, reconcile_every, expected_freshness,
							  created_column);
END;
$$;
COMMENT ON FUNCTION fs.set_feature_view_options(text, interval, interval, interval, text) IS
	'sets how the worker keeps a feature view fresh: allowed lateness of incremental runs (default 1 hour), period of full reconciliations (default 1 day), expected freshness (default twice the schedule), and the created-time column that resolves conflicting rows for one key and event time (newest wins;  clears it); NULL leaves an option unchanged';

CREATE OR REPLACE FUNCTION fs.pause_feature_view(view text) RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
BEGIN
	PERFORM fs_internal.write('set_view_options', view, true, NULL::interval, NULL::interval, NULL::interval, NULL::text);
END;
$$;
COMMENT ON FUNCTION fs.pause_feature_view(text) IS
	'stops the worker from starting runs of a feature view (a run in progress finishes)';

CREATE OR REPLACE FUNCTION fs.resume_feature_view(view text) RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
BEGIN
	PERFORM fs_internal.write('set_view_options', view, false, NULL::interval, NULL::interval, NULL::interval, NULL::text);
END;
$$;
COMMENT ON FUNCTION fs.resume_feature_view(text) IS
	'lets the worker run a paused feature view again; a failing view is retried at the next tick';

------------------------------------------------------------------------------
-- Runs: start, claim, finish, fail, prune
------------------------------------------------------------------------------

-- The worker's tick, its base retry delay.
CREATE OR REPLACE FUNCTION fs_internal.naptime() RETURNS interval
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$ SELECT coalesce(current_setting('feature_store.naptime', true), '10s')::interval $$;
COMMENT ON FUNCTION fs_internal.naptime() IS 'internal: the worker''s tick (feature_store.naptime)';

-- How long to wait before retrying after the n-th consecutive failure: the
-- tick doubled with every failure, capped at an hour, with jitter (half to
-- all of it) so that views failing together do not retry in lockstep.
CREATE OR REPLACE FUNCTION fs_internal.retry_delay(failures int) RETURNS interval
LANGUAGE sql VOLATILE PARALLEL SAFE
SET search_path = pg_catalog
AS $$
	SELECT least(interval '1 hour', fs_internal.naptime() * power(2, least(greatest(failures, 1) - 1, 20)))
		   * (0.5 + 0.5 * random())
$$;
COMMENT ON FUNCTION fs_internal.retry_delay(int) IS
	'internal: retry delay after consecutive failures (exponential from the tick, capped at an hour, with jitter)';

-- Whether a role may start and fail runs for everyone: the launcher, which
-- runs as the bootstrap superuser.
CREATE OR REPLACE FUNCTION fs_internal.check_worker_role(caller regrole, what text) RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$
BEGIN
	IF NOT coalesce((SELECT r.rolsuper FROM pg_roles r WHERE r.oid = caller), false) THEN
		RAISE EXCEPTION 'permission denied to %', what
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = 'Only the feature_store background worker (a superuser) does this.';
	END IF;
END;
$$;
COMMENT ON FUNCTION fs_internal.check_worker_role(regrole, text) IS
	'internal: errors unless the role is a superuser (the background worker)';

-- Where an incremental run of a version starts reading the source: at its
-- high-water mark (the newest event time in its online table, where rows
-- are stamped available_after after their source time: that much earlier
-- in source time), or now if that is earlier, minus the allowed lateness;
-- NULL (the whole source) without a high-water mark.
CREATE OR REPLACE FUNCTION fs_internal.incremental_start(high_water timestamptz, available_after interval,
	lateness interval) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$
	SELECT CASE WHEN high_water IS NOT NULL
				THEN least(high_water - coalesce(available_after, interval '0'), now()) - lateness END
$$;
COMMENT ON FUNCTION fs_internal.incremental_start(timestamptz, interval, interval) IS
	'internal: the first source event time an incremental run reads, from the high-water mark, available_after and the lateness';

-- The newest event time a version has materialized: its online table holds
-- the newest row of each key.  NULL when it has none.
CREATE OR REPLACE FUNCTION fs_internal.newest_event_time(vv fs.view_versions) RETURNS timestamptz
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$
DECLARE
	newest timestamptz;
BEGIN
	EXECUTE format('SELECT pg_catalog.max(%I)::timestamptz FROM %s', vv.ts_column, fs_internal.storage_rel(vv, true))
		INTO newest;
	RETURN newest;
END;
$$;
COMMENT ON FUNCTION fs_internal.newest_event_time(fs.view_versions) IS
	'internal: the newest event time in a feature view version''s online table';

-- Starts the scheduled run of a version: records it "running", with the
-- window it reads (NULL, a full run, when the version has no high-water mark
-- or its reconciliation is due; otherwise from fs_internal.incremental_start).
-- Returns the run id, or NULL when the version is not due a run (dropped,
-- unscheduled, paused, or running).
CREATE OR REPLACE FUNCTION fs_internal.w_start_run(caller regrole, view text, version int) RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
	s fs_internal.version_schedule;
	full_run boolean;
	id bigint;
BEGIN
	PERFORM fs_internal.check_worker_role(caller, 'start scheduled runs');
	SELECT * INTO s FROM fs_internal.version_schedule x WHERE x.view_name = w_start_run.view AND x.version = w_start_run.version;
	IF NOT FOUND OR NOT s.scheduled OR s.paused THEN
		RETURN NULL;
	END IF;
	INSERT INTO fs.view_state (view_name, version) VALUES (view, version) ON CONFLICT DO NOTHING;
	PERFORM FROM fs.view_state x WHERE x.view_name = w_start_run.view AND x.version = w_start_run.version FOR UPDATE;
	IF EXISTS (SELECT FROM fs.materialization_runs r
				WHERE r.view_name = w_start_run.view AND r.version = w_start_run.version AND r.status = 'running') THEN
		RETURN NULL;
	END IF;
	full_run := s.high_water IS NULL OR s.last_full_at IS NULL OR s.last_full_at + s.reconcile_every <= now();
	INSERT INTO fs.materialization_runs (view_name, version, window_start, window_finish, started_at, status, trigger, run_by)
	VALUES (view, version,
			CASE WHEN NOT full_run THEN fs_internal.incremental_start(s.high_water, s.available_after, s.lateness) END, NULL,
			clock_timestamp(), 'running', 'worker', s.owner_role)
	RETURNING run_id INTO id;
	RETURN id;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.w_start_run(regrole, text, int) FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.w_start_run(regrole, text, int) IS
	'internal catalog operation: records the start of a scheduled run of a feature view version';

-- The run, locked, after checking that the caller may act for its view's owner.
CREATE OR REPLACE FUNCTION fs_internal.lock_run(caller regrole, run_id bigint) RETURNS fs.materialization_runs
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
DECLARE
	r fs.materialization_runs;
	owner regrole;
BEGIN
	SELECT * INTO r FROM fs.materialization_runs x WHERE x.run_id = lock_run.run_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'materialization run % does not exist', run_id USING ERRCODE = 'undefined_object';
	END IF;
	-- a run of a dropped view is only the worker's (a superuser's) to end
	owner := fs_internal.view_owner(r.view_name);
	IF NOT (CASE WHEN owner IS NULL THEN coalesce((SELECT x.rolsuper FROM pg_roles x WHERE x.oid = caller), false)
				 ELSE pg_has_role(caller, owner, 'USAGE') END) THEN
		RAISE EXCEPTION 'permission denied for materialization run % of feature view "%"', run_id, r.view_name
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	RETURN r;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.lock_run(regrole, bigint) FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.lock_run(regrole, bigint) IS
	'internal: locks a materialization run the caller may act on (as a member of its view''s owner role)';

-- A run's worker process takes it: records its pid, if the run is a
-- scheduled one still running and not taken.  Returns the run id, or NULL.
CREATE OR REPLACE FUNCTION fs_internal.w_claim_run(caller regrole, run_id bigint, pid int) RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
	r fs.materialization_runs := fs_internal.lock_run(caller, run_id);
BEGIN
	IF r.status <> 'running' OR r.trigger <> 'worker' OR r.pid IS NOT NULL THEN
		RETURN NULL;
	END IF;
	UPDATE fs.materialization_runs x SET pid = w_claim_run.pid WHERE x.run_id = r.run_id;
	RETURN r.run_id;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.w_claim_run(regrole, bigint, int) FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.w_claim_run(regrole, bigint, int) IS
	'internal catalog operation: a worker process takes a scheduled run';

-- Ends a running run, and updates its version's state: on success the
-- high-water mark, last success (and last full run), and the failure count
-- reset; on failure the error, the failure count and the time of the next
-- attempt (fs_internal.retry_delay).  Called by the catalog operations below.
CREATE OR REPLACE FUNCTION fs_internal.end_run(r fs.materialization_runs, succeeded boolean, error text,
	rows_read bigint, rows_written bigint, online_rows bigint, high_water timestamptz) RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
DECLARE
	finished timestamptz := clock_timestamp();
BEGIN
	UPDATE fs.materialization_runs x
	   SET status = CASE WHEN succeeded THEN 'succeeded' ELSE 'failed' END, finished_at = finished,
		   duration = finished - x.started_at, rows_read = end_run.rows_read, rows_written = end_run.rows_written,
		   online_rows = end_run.online_rows, error = end_run.error
	 WHERE x.run_id = r.run_id;
	IF succeeded THEN
		UPDATE fs.view_state s
		   SET high_water = greatest(s.high_water, end_run.high_water), last_success_at = r.started_at,
			   last_full_at = CASE WHEN r.window_start IS NULL AND r.window_finish IS NULL THEN r.started_at
								   ELSE s.last_full_at END,
			   consecutive_failures = 0, next_attempt_at = NULL, last_run_id = r.run_id,
			   last_duration = finished - r.started_at, runs_total = s.runs_total + 1,
			   rows_written_total = s.rows_written_total + coalesce(end_run.rows_written, 0)
		 WHERE s.view_name = r.view_name AND s.version = r.version;
	ELSE
		UPDATE fs.view_state s
		   SET consecutive_failures = s.consecutive_failures + 1,
			   next_attempt_at = finished + fs_internal.retry_delay(s.consecutive_failures + 1),
			   last_error = end_run.error, last_error_at = finished, last_run_id = r.run_id,
			   last_duration = finished - r.started_at, runs_total = s.runs_total + 1,
			   failures_total = s.failures_total + 1
		 WHERE s.view_name = r.view_name AND s.version = r.version;
	END IF;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.end_run(fs.materialization_runs, boolean, text, bigint, bigint, bigint, timestamptz)
	FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.end_run(fs.materialization_runs, boolean, text, bigint, bigint, bigint, timestamptz) IS
	'internal: ends a running materialization run and updates its version''s worker state';

-- A run's worker process finishes it: succeeded (with its counts and the
-- version's newest event time) or failed (with the error).  Errors unless the
-- run is still running.
CREATE OR REPLACE FUNCTION fs_internal.w_finish_run(caller regrole, run_id bigint, succeeded boolean, error text,
	rows_read bigint, rows_written bigint, online_rows bigint, high_water timestamptz) RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
	r fs.materialization_runs := fs_internal.lock_run(caller, run_id);
BEGIN
	IF r.status <> 'running' THEN
		RAISE EXCEPTION 'materialization run % of feature view "%" is not running', run_id, r.view_name
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = format('Its status is %s.', r.status);
	END IF;
	PERFORM fs_internal.end_run(r, succeeded, error, rows_read, rows_written, online_rows, high_water);
	RETURN r.run_id;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.w_finish_run(regrole, bigint, boolean, text, bigint, bigint, bigint, timestamptz)
	FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.w_finish_run(regrole, bigint, boolean, text, bigint, bigint, bigint, timestamptz) IS
	'internal catalog operation: records the outcome of a scheduled run';

-- A run's worker process ends it as blocked: an expectation kept its batch
-- out (fs.materialize recorded the results and quarantined rows under this
-- run).  Not a failure (no backoff): the version is tried again at its next
-- scheduled time, and the previous values keep serving meanwhile.
CREATE OR REPLACE FUNCTION fs_internal.w_block_run(caller regrole, run_id bigint, error text, rows_read bigint)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
	r fs.materialization_runs := fs_internal.lock_run(caller, run_id);
	finished timestamptz := clock_timestamp();
BEGIN
	IF r.status <> 'running' THEN
		RAISE EXCEPTION 'materialization run % of feature view "%" is not running', run_id, r.view_name
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = format('Its status is %s.', r.status);
	END IF;
	UPDATE fs.materialization_runs x
	   SET status = 'blocked', finished_at = finished, duration = finished - x.started_at,
		   rows_read = w_block_run.rows_read, rows_written = 0, online_rows = 0, error = w_block_run.error
	 WHERE x.run_id = r.run_id;
	UPDATE fs.view_state s
	   SET next_attempt_at = finished + coalesce((SELECT v.schedule FROM fs.views v WHERE v.name = r.view_name),
												 fs_internal.naptime()),
		   last_error = w_block_run.error, last_error_at = finished, last_run_id = r.run_id,
		   last_duration = finished - r.started_at, runs_total = s.runs_total + 1,
		   blocked_total = s.blocked_total + 1, last_blocked_at = finished
	 WHERE s.view_name = r.view_name AND s.version = r.version;
	RETURN r.run_id;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.w_block_run(regrole, bigint, text, bigint) FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.w_block_run(regrole, bigint, text, bigint) IS
	'internal catalog operation: records that an expectation blocked a scheduled run';

-- Fails those of the listed scheduled runs left "running" by a worker
-- process that is gone (crashed, killed, or never started).  A run whose
-- process is alive is left alone.  Returns how many failed.
CREATE OR REPLACE FUNCTION fs_internal.w_fail_runs(caller regrole, runs bigint[], reason text) RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
	r fs.materialization_runs;
	n bigint := 0;
BEGIN
	PERFORM fs_internal.check_worker_role(caller, 'fail scheduled runs');
	FOR r IN SELECT * FROM fs.materialization_runs x
			  WHERE x.status = 'running' AND x.trigger = 'worker' AND x.run_id = ANY (runs)
				AND NOT EXISTS (SELECT FROM pg_stat_activity a
								 WHERE a.pid = x.pid AND a.backend_type = 'feature_store job')
			  ORDER BY x.run_id
			  FOR UPDATE
	LOOP
		CONTINUE WHEN r.status <> 'running';
		PERFORM fs_internal.end_run(r, false, reason, NULL, NULL, NULL, NULL);
		n := n + 1;
	END LOOP;
	RETURN n;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.w_fail_runs(regrole, bigint[], text) FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.w_fail_runs(regrole, bigint[], text) IS
	'internal catalog operation: fails scheduled runs whose worker process is gone';

-- Deletes run history older than keep (feature_store.run_retention).
CREATE OR REPLACE FUNCTION fs_internal.w_prune_runs(caller regrole, keep interval) RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
	n bigint;
BEGIN
	PERFORM fs_internal.check_worker_role(caller, 'prune the run history');
	DELETE FROM fs.materialization_runs x
	 WHERE x.status <> 'running' AND coalesce(x.finished_at, x.started_at) < now() - keep;
	GET DIAGNOSTICS n = ROW_COUNT;
	DELETE FROM fs.expectation_results x WHERE x.evaluated_at < now() - keep;
	RETURN n;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.w_prune_runs(regrole, interval) FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.w_prune_runs(regrole, interval) IS
	'internal catalog operation: deletes materialization runs that finished longer ago than the retention';

------------------------------------------------------------------------------
-- What the launcher and the job workers run
------------------------------------------------------------------------------

-- The launcher's tick: starts a run of each due version, at most slots of
-- them, the longest overdue first, and returns them.  A version is due when
-- it is scheduled and not paused, its schedule has passed since its last
-- successful run started, its retry delay has passed, and it is not running.
CREATE OR REPLACE FUNCTION fs_internal.worker_tick(slots int)
RETURNS TABLE (run_id bigint, view text, version int)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
DECLARE
	d record;
BEGIN
	FOR d IN
		SELECT s.view_name, s.version FROM fs_internal.version_schedule s
		 WHERE s.scheduled AND NOT s.paused
		   AND (s.last_success_at IS NULL OR s.last_success_at + s.schedule <= now())
		   AND (s.next_attempt_at IS NULL OR s.next_attempt_at <= now())
		   AND NOT EXISTS (SELECT FROM fs.materialization_runs r
							WHERE r.view_name = s.view_name AND r.version = s.version AND r.status = 'running')
		 ORDER BY greatest(s.last_success_at + s.schedule, s.next_attempt_at) NULLS FIRST, s.view_name, s.version
		 LIMIT slots
	LOOP
		run_id := fs_internal.write('start_run', d.view_name, d.version);
		CONTINUE WHEN run_id IS NULL;
		view := d.view_name;
		version := d.version;
		RETURN NEXT;
	END LOOP;
END;
$$;
COMMENT ON FUNCTION fs_internal.worker_tick(int) IS
	'internal: the background worker''s tick: starts the runs of due feature view versions and returns them';

-- A scheduled run, as its worker process runs it (as the view's owner):
-- materializes the run's window of its version (as the run: expectation
-- results and quarantined rows are recorded under it; a blocked batch ends
-- the run as blocked), reads the version's newest event time from
-- its online table (it holds the newest row of each key), and records the
-- outcome, all in the caller's transaction.
CREATE OR REPLACE FUNCTION fs_internal.run_scheduled(run bigint) RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
DECLARE
	r fs.materialization_runs;
	vv fs.view_versions;
	m record;
	newest timestamptz;
BEGIN
	SELECT * INTO r FROM fs.materialization_runs x WHERE x.run_id = run;
	IF NOT FOUND OR r.status <> 'running' THEN
		RAISE EXCEPTION 'materialization run % is not running', run USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;
	vv := fs_internal.view_version(r.view_name, r.version);
	-- the run's own version, with the results and quarantine under this run
	SELECT * INTO m FROM fs.materialize(r.view_name, r.window_start, r.window_finish, r.version, run);
	IF m.status = 'blocked' THEN
		PERFORM fs_internal.write('block_run', run, format('blocked by expectations: %s',
			(SELECT string_agg(x.expectation, ', ' ORDER BY x.expectation) FROM fs.expectation_results x
			  WHERE x.run_id = run AND x.action = 'blocked')), m.rows_read);
		RETURN;
	END IF;
	newest := fs_internal.newest_event_time(vv);
	PERFORM fs_internal.write('finish_run', run, true, NULL::text, m.rows_read, m.rows_written, m.online_rows, newest);
END;
$$;
COMMENT ON FUNCTION fs_internal.run_scheduled(bigint) IS
	'internal: runs a scheduled materialization run and records its outcome (the background worker''s job)';

------------------------------------------------------------------------------
-- Monitoring
------------------------------------------------------------------------------

CREATE OR REPLACE VIEW fs.feature_freshness AS
SELECT s.view_name AS view, s.version, s.schedule, s.scheduled, s.paused,
	   m.last_success_at,
	   s.high_water AS newest_event_time,
	   pg_catalog.now() - m.last_success_at AS lag,
	   pg_catalog.now() - s.high_water AS event_lag,
	   s.expected_freshness,
	   CASE WHEN s.scheduled AND NOT s.paused
			THEN coalesce(m.last_success_at, s.created_at) + s.expected_freshness < pg_catalog.now() END AS breach,
	   s.consecutive_failures, s.last_error, s.last_error_at, s.next_attempt_at,
	   EXISTS (SELECT FROM fs.materialization_runs r
				WHERE r.view_name = s.view_name AND r.version = s.version AND r.status = 'running') AS running,
	   b.last_blocked_at,
	   coalesce(b.last_blocked_at > m.last_success_at OR (b.last_blocked_at IS NOT NULL AND m.last_success_at IS NULL),
				false) AS blocked
  FROM fs_internal.version_schedule s
  CROSS JOIN LATERAL (
	SELECT pg_catalog.max(r.started_at) AS last_blocked_at FROM fs.materialization_runs r
	 WHERE r.view_name = s.view_name AND r.version = s.version AND r.status = 'blocked') b
  CROSS JOIN LATERAL (
	SELECT greatest(s.last_success_at,
							   (SELECT pg_catalog.max(r.started_at) FROM fs.materialization_runs r
								 WHERE r.view_name = s.view_name AND r.version = s.version
								   AND r.status = 'succeeded')) AS last_success_at) m;
COMMENT ON VIEW fs.feature_freshness IS
	'per feature view version: last successful materialization, newest event time materialized by the worker, lag, expected freshness and whether it is breached, failures, and whether its last batch was blocked by an expectation';
GRANT SELECT ON fs.feature_freshness TO PUBLIC;

-- Prometheus label set {k="v",...} from name/value pairs, values escaped.
CREATE OR REPLACE FUNCTION fs_internal.prometheus_labels(VARIADIC pairs text[]) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog
AS $$
	SELECT '{' || string_agg(format('%s="%s"', pairs[i],
									replace(replace(replace(pairs[i + 1], E'\\', E'\\\\'), '"', E'\\"'), E'\n', E'\\n')),
							 ',' ORDER BY i) || '}'
	  FROM generate_series(1, cardinality(pairs) - 1, 2) i
$$;
COMMENT ON FUNCTION fs_internal.prometheus_labels(text[]) IS 'internal: a Prometheus label set from name/value pairs';

CREATE OR REPLACE FUNCTION fs.metrics() RETURNS text
LANGUAGE sql STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog
AS $$
WITH families (ord, name, type, help) AS (VALUES
	(1, 'fs_worker_up', 'gauge', 'Whether the feature_store background worker is running in this database.'),
	(2, 'fs_materialization_runs_total', 'counter', 'Scheduled materialization runs finished, succeeded or failed.'),
	(3, 'fs_materialization_failures_total', 'counter', 'Scheduled materialization runs that failed.'),
	(4, 'fs_materialization_rows_written_total', 'counter', 'History rows written by scheduled materialization runs.'),
	(5, 'fs_materialization_consecutive_failures', 'gauge', 'Scheduled runs that failed since the last success.'),
	(6, 'fs_materialization_last_duration_seconds', 'gauge', 'Duration of the last scheduled run.'),
	(7, 'fs_feature_view_last_success_timestamp_seconds', 'gauge', 'Start of the last successful materialization (Unix time).'),
	(8, 'fs_feature_view_lag_seconds', 'gauge', 'Time since the last successful materialization started.'),
	(9, 'fs_feature_view_event_lag_seconds', 'gauge', 'Time since the newest event time the worker materialized.'),
	(10, 'fs_feature_view_expected_freshness_seconds', 'gauge', 'Lag beyond which the feature view is stale.'),
	(11, 'fs_feature_view_freshness_breach', 'gauge', '1 when a scheduled feature view is staler than expected.'),
	(12, 'fs_drift_alerts_total', 'counter', 'Drift breaches found by drift monitors, by severity.'),
	(13, 'fs_materialization_blocked_total', 'counter', 'Materialization runs (manual or scheduled) whose batch an expectation blocked.'),
	(14, 'fs_feature_view_blocked', 'gauge', '1 when the last batch of a feature view version was blocked by an expectation.')
), versions AS (
	SELECT f.*, coalesce(s.runs_total, 0) AS runs_total, coalesce(s.failures_total, 0) AS failures_total,
		   coalesce(s.rows_written_total, 0) AS rows_written_total, s.last_duration,
		   coalesce(s.blocked_total, 0) AS blocked_total,
		   fs_internal.prometheus_labels('view', f.view, 'version', f.version::text) AS labels
	  FROM fs.feature_freshness f
	  LEFT JOIN fs.view_state s ON s.view_name = f.view AND s.version = f.version
), samples (name, labels, value) AS (
	-- (the backend type of another role's session is visible only with
	-- pg_read_all_stats; its application name to everyone)
	SELECT 'fs_worker_up', '', (EXISTS (SELECT FROM pg_stat_activity a
										 WHERE a.application_name = 'feature_store launcher'
										   AND coalesce(a.backend_type, 'feature_store launcher') = 'feature_store launcher'
										   AND a.datname = current_database()))::int::text
	UNION ALL SELECT 'fs_materialization_runs_total', labels, runs_total::text FROM versions WHERE scheduled OR runs_total > 0
	UNION ALL SELECT 'fs_materialization_failures_total', labels, failures_total::text FROM versions WHERE scheduled OR runs_total > 0
	UNION ALL SELECT 'fs_materialization_rows_written_total', labels, rows_written_total::text FROM versions WHERE scheduled OR runs_total > 0
	UNION ALL SELECT 'fs_materialization_consecutive_failures', labels, consecutive_failures::text FROM versions WHERE scheduled OR runs_total > 0
	UNION ALL SELECT 'fs_materialization_last_duration_seconds', labels, extract(epoch FROM last_duration)::text
				FROM versions WHERE last_duration IS NOT NULL
	UNION ALL SELECT 'fs_feature_view_last_success_timestamp_seconds', labels, extract(epoch FROM last_success_at)::text
				FROM versions WHERE last_success_at IS NOT NULL
	UNION ALL SELECT 'fs_feature_view_lag_seconds', labels, extract(epoch FROM lag)::text FROM versions WHERE lag IS NOT NULL
	UNION ALL SELECT 'fs_feature_view_event_lag_seconds', labels, extract(epoch FROM event_lag)::text
				FROM versions WHERE event_lag IS NOT NULL
	UNION ALL SELECT 'fs_feature_view_expected_freshness_seconds', labels, extract(epoch FROM expected_freshness)::text
				FROM versions WHERE expected_freshness IS NOT NULL
	UNION ALL SELECT 'fs_feature_view_freshness_breach', labels, breach::int::text FROM versions WHERE breach IS NOT NULL
	UNION ALL SELECT 'fs_materialization_blocked_total', labels, blocked_total::text FROM versions
				WHERE scheduled OR runs_total > 0 OR blocked_total > 0
	UNION ALL SELECT 'fs_feature_view_blocked', labels, blocked::int::text FROM versions
				WHERE scheduled OR runs_total > 0 OR blocked_total > 0
	UNION ALL SELECT 'fs_drift_alerts_total', fs_internal.prometheus_labels('monitor', a.monitor, 'severity', a.severity),
					 count(*)::text
				FROM fs.drift_alerts a GROUP BY a.monitor, a.severity
)
SELECT string_agg(format(E'# HELP %1$s %2$s\n# TYPE %1$s %3$s\n', f.name, f.help, f.type)
				  || coalesce((SELECT string_agg(format(E'%s%s %s\n', s.name, s.labels, s.value), '' ORDER BY s.labels)
								 FROM samples s WHERE s.name = f.name), ''),
				  '' ORDER BY f.ord)
  FROM families f
$$;
COMMENT ON FUNCTION fs.metrics() IS
	'worker and freshness metrics in the Prometheus text exposition format (runs, failures, rows written, last success, lag, drift alerts)';
