-- The background worker's SQL side, driven by hand: options, scheduled runs
-- (what the launcher and a job worker call), incremental windows and late
-- data, failures and retries, runs whose worker died, pruning, freshness and
-- metrics.  The worker itself runs in test/t/04x_worker_*.pl.
\set SHOW_CONTEXT never
CREATE ROLE regress_wk_owner;
CREATE ROLE regress_wk_other;
CREATE TABLE wk_events (user_id int, at timestamptz, clicks int);
ALTER TABLE wk_events OWNER TO regress_wk_owner;
INSERT INTO wk_events
SELECT u, timestamptz '2024-01-01 00:00+00' + h * interval '1 hour', u * 100 + h
  FROM generate_series(1, 3) u, generate_series(0, 23) h;
SET ROLE regress_wk_owner;
SELECT fs.create_entity('wk_user', 'int');
SELECT fs.register_feature_view('wk_clicks', 'wk_user', 'wk_events', 'user_id', 'at', schedule => '1 hour');
SELECT fs.register_feature_view('wk_manual', 'wk_user', 'wk_events', 'user_id', 'at');
RESET ROLE;

-- What the tests below do for each run the launcher starts: run it as the job
-- worker does, recording a failure the way the job does.
CREATE FUNCTION wk_tick() RETURNS TABLE (view text, window_start timestamptz, status text, rows_read bigint,
	rows_written bigint, error text)
LANGUAGE plpgsql AS $$
DECLARE
	r record;
	msg text;
BEGIN
	FOR r IN SELECT * FROM fs_internal.worker_tick(10) LOOP
		BEGIN
			PERFORM fs_internal.run_scheduled(r.run_id);
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
			PERFORM fs_internal.write('finish_run', r.run_id, false, msg, NULL::bigint, NULL::bigint, NULL::bigint,
									  NULL::timestamptz);
		END;
		RETURN QUERY SELECT x.view_name, x.window_start, x.status, x.rows_read, x.rows_written, x.error
					   FROM fs.materialization_runs x WHERE x.run_id = r.run_id;
	END LOOP;
END;
$$;

-- only scheduled latest versions are kept fresh; nothing has run yet
SELECT view, version, schedule, scheduled, paused, expected_freshness, last_success_at, newest_event_time, breach,
	   consecutive_failures, running
  FROM fs.feature_freshness WHERE view LIKE 'wk\_%' ORDER BY 1;

-- options belong to the view's owner; the tables are written only through them
SET ROLE regress_wk_other;
SELECT fs.pause_feature_view('wk_clicks');
SELECT fs.set_feature_view_options('wk_clicks', lateness => '1 day');
UPDATE fs.view_options SET paused = true;
INSERT INTO fs.view_state (view_name, version) VALUES ('wk_clicks', 1);
SELECT fs_internal.write('start_run', 'wk_clicks'::text, 1);
RESET ROLE;
SET ROLE regress_wk_owner;
SELECT fs.set_feature_view_options('wk_nope', lateness => '1 day');
SELECT fs.set_feature_view_options('wk_clicks', lateness => '-1 hour');
SELECT fs.set_feature_view_options('wk_clicks', reconcile_every => '0');
SELECT fs.set_feature_view_options('wk_clicks', expected_freshness => '-1 day');
-- scheduled runs are started by the worker (a superuser) only
SELECT fs_internal.write('start_run', 'wk_clicks'::text, 1);
SELECT fs_internal.write('prune_runs', interval '1 day');
SELECT fs_internal.write('fail_runs', ARRAY[1]::bigint[], 'no'::text);
SELECT fs.set_feature_view_options('wk_clicks', lateness => '2 hours');
SELECT fs.pause_feature_view('wk_clicks');
SELECT view_name, paused, lateness, reconcile_every, expected_freshness FROM fs.view_options;
RESET ROLE;

-- a paused view is not started
SELECT * FROM wk_tick();
SELECT fs_internal.write('start_run', 'wk_clicks'::text, 1) IS NULL AS not_started;
SET ROLE regress_wk_owner;
SELECT fs.resume_feature_view('wk_clicks');
RESET ROLE;

-- the first run is full (no window); a running version is not started again
SELECT view, version FROM fs_internal.worker_tick(10);
SELECT run_id AS run FROM fs.materialization_runs WHERE status = 'running' \gset
SELECT view_name, version, window_start, window_finish, status, trigger, run_by, pid
  FROM fs.materialization_runs WHERE run_id = :run;
SELECT fs_internal.write('start_run', 'wk_clicks'::text, 1) IS NULL AS not_started;
SELECT count(*) AS started FROM fs_internal.worker_tick(10);
-- its job worker runs it as the view's owner, after claiming it (once)
SET SESSION AUTHORIZATION regress_wk_owner;
SELECT fs_internal.write('claim_run', :run::bigint, 12345) = :run AS claimed;
SELECT fs_internal.write('claim_run', :run::bigint, 12345) IS NULL AS claimed_again;
SELECT fs_internal.run_scheduled(:run);
RESET SESSION AUTHORIZATION;
-- one record of the run (fs.materialize, given the run, records none of its own)
SELECT status, window_start, rows_read, rows_written, online_rows, error, pid, run_by, duration IS NOT NULL AS timed
  FROM fs.materialization_runs WHERE view_name = 'wk_clicks' ORDER BY run_id;
SELECT high_water, last_success_at IS NOT NULL AS succeeded, last_full_at = last_success_at AS full_run,
	   consecutive_failures, runs_total, failures_total, rows_written_total
  FROM fs.view_state WHERE view_name = 'wk_clicks';
SELECT fs_internal.write('finish_run', :run::bigint, true, NULL::text, 0::bigint, 0::bigint, 0::bigint,
						 NULL::timestamptz);

-- not due again before its schedule has passed; a new schedule is metadata
-- (same version) and applies at once
SELECT * FROM wk_tick();
SET ROLE regress_wk_owner;
SELECT fs.register_feature_view('wk_clicks', 'wk_user', 'wk_events', 'user_id', 'at', schedule => '1 microsecond')
	AS same_version;
RESET ROLE;

-- incremental runs read event times from the high-water mark (23:00) minus
-- the lateness (2 hours): a late row at 22:30 is picked up, one at 20:00 is
-- not; an unchanged window writes nothing
INSERT INTO wk_events VALUES (7, '2024-01-01 22:30+00', 70), (8, '2024-01-01 20:00+00', 80);
SELECT * FROM wk_tick();
SELECT * FROM wk_tick();
SELECT user_id, clicks FROM fs_data.wk_clicks_v1 WHERE user_id IN (7, 8) ORDER BY 1;
-- a row newer than the high-water mark moves it
INSERT INTO wk_events VALUES (1, '2024-01-02 05:00+00', 1);
SELECT * FROM wk_tick();
SELECT high_water FROM fs.view_state WHERE view_name = 'wk_clicks';
-- the full reconciliation (every reconcile_every) catches the row beyond the lateness
SET ROLE regress_wk_owner;
SELECT fs.set_feature_view_options('wk_clicks', reconcile_every => '1 microsecond');
RESET ROLE;
SELECT * FROM wk_tick();
SELECT user_id, clicks FROM fs_data.wk_clicks_v1 WHERE user_id IN (7, 8) ORDER BY 1;
SET ROLE regress_wk_owner;
SELECT fs.set_feature_view_options('wk_clicks', reconcile_every => '1 day');
RESET ROLE;

-- a failing source: recorded failed with its error, retried after a delay
-- that doubles from the tick (with jitter), and counted
ALTER TABLE wk_events RENAME TO wk_events_gone;
SELECT * FROM wk_tick();
SELECT consecutive_failures, last_error,
	   next_attempt_at - last_error_at BETWEEN 0.5 * fs_internal.naptime() AND fs_internal.naptime() AS first_delay
  FROM fs.view_state WHERE view_name = 'wk_clicks';
SELECT * FROM wk_tick();
SELECT fs_internal.retry_delay(2) BETWEEN fs_internal.naptime() AND 2 * fs_internal.naptime() AS second_delay,
	   fs_internal.retry_delay(100) BETWEEN interval '30 min' AND interval '1 hour' AS capped;
-- resuming retries at once; a success resets the count
ALTER TABLE wk_events_gone RENAME TO wk_events;
SET ROLE regress_wk_owner;
SELECT fs.resume_feature_view('wk_clicks');
RESET ROLE;
SELECT * FROM wk_tick();
SELECT consecutive_failures, next_attempt_at, runs_total, failures_total FROM fs.view_state WHERE view_name = 'wk_clicks';

-- a run whose worker died (never claimed, or its process gone) is failed by
-- the launcher; a finished one is left alone
SELECT fs_internal.write('start_run', 'wk_clicks'::text, 1) AS run \gset
SELECT fs_internal.write('fail_runs', ARRAY[:run, 1]::bigint[], 'its worker died'::text) AS failed;
SELECT status, error FROM fs.materialization_runs WHERE run_id = :run;
SELECT fs_internal.write('finish_run', :run::bigint, false, 'late'::text, NULL::bigint, NULL::bigint, NULL::bigint,
						 NULL::timestamptz);

-- a new version is kept fresh, and so is the old one (a model may be pinned
-- to it) until it is dropped
SET ROLE regress_wk_owner;
SELECT fs.register_feature_view('wk_clicks', 'wk_user', 'SELECT user_id, at, clicks * 2 AS clicks FROM wk_events',
	'user_id', 'at', schedule => '1 microsecond');
RESET ROLE;
SELECT view, version, scheduled FROM fs.feature_freshness WHERE view = 'wk_clicks' ORDER BY version;
SELECT version, next_attempt_at > now() AS retry_pending FROM fs_internal.version_schedule
 WHERE view_name = 'wk_clicks' ORDER BY version;
SELECT * FROM wk_tick();
SELECT version, status FROM fs.materialization_runs WHERE view_name = 'wk_clicks' ORDER BY run_id DESC LIMIT 1;
-- (resuming lifts version 1's retry delay: it runs at the next tick)
SET ROLE regress_wk_owner;
SELECT fs.resume_feature_view('wk_clicks');
RESET ROLE;
SELECT * FROM wk_tick();
SELECT array_agg(version ORDER BY version) AS versions_run
  FROM (SELECT version FROM fs.materialization_runs WHERE view_name = 'wk_clicks' ORDER BY run_id DESC LIMIT 2) r;

-- freshness: a breach once the lag exceeds the expected freshness
SET ROLE regress_wk_owner;
SELECT fs.register_feature_view('wk_clicks', 'wk_user', 'SELECT user_id, at, clicks * 2 AS clicks FROM wk_events',
	'user_id', 'at', schedule => '1 hour');
RESET ROLE;
SELECT view, version, last_success_at IS NOT NULL AS succeeded, newest_event_time, lag < interval '1 hour' AS recent,
	   expected_freshness, breach
  FROM fs.feature_freshness WHERE view = 'wk_clicks' ORDER BY version;
SET ROLE regress_wk_owner;
SELECT fs.set_feature_view_options('wk_clicks', expected_freshness => '1 microsecond');
RESET ROLE;
SELECT view, version, expected_freshness, breach FROM fs.feature_freshness WHERE view = 'wk_clicks' ORDER BY version;

-- metrics: Prometheus text, HELP and TYPE before each family, counters in
-- _total, one sample per line
SELECT fs.metrics() AS m \gset
SELECT count(*) FILTER (WHERE l ~ '^# HELP fs_[a-z_]+ .+$') AS help_lines,
	   count(*) FILTER (WHERE l ~ '^# TYPE fs_[a-z_]+ (counter|gauge)$') AS type_lines,
	   count(*) FILTER (WHERE l ~ '^# TYPE fs_[a-z_]+_total counter$') AS counters,
	   count(*) FILTER (WHERE l !~ '^#' AND l !~ '^fs_[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?[0-9.e+-]+$')
		   AS malformed
  FROM unnest(string_to_array(rtrim(:'m', E'\n'), E'\n')) l;
SELECT l FROM unnest(string_to_array(:'m', E'\n')) l
 WHERE l ~ '^fs_(materialization_(runs|failures|rows_written)_total|feature_view_freshness_breach|feature_view_expected_freshness_seconds)\{view="wk_clicks",version="2"\}'
 ORDER BY 1;
SELECT fs_internal.prometheus_labels('view', E'a"b\\c\nd', 'version', '1') AS escaped;
-- any role reads them
SET ROLE regress_wk_other;
SELECT fs.metrics() ~ '\nfs_materialization_runs_total\{view="wk_clicks",version="2"\} 2\n' AS readable,
	   (SELECT breach FROM fs.feature_freshness WHERE view = 'wk_clicks' AND version = 2) AS breach;
RESET ROLE;

-- pruning keeps running runs and recent history
SELECT * FROM fs.materialize('wk_manual', full => true);
SELECT fs_internal.write('prune_runs', interval '1 hour') AS pruned;
UPDATE fs.materialization_runs SET finished_at = finished_at - interval '2 hours' WHERE view_name = 'wk_manual';
SELECT fs_internal.write('prune_runs', interval '1 hour') AS pruned;
SELECT count(*) AS manual_runs_left FROM fs.materialization_runs WHERE view_name = 'wk_manual';

-- dropping a view drops its options and state
SET ROLE regress_wk_owner;
SELECT fs.drop_entity('wk_user', cascade => true);
RESET ROLE;
SELECT (SELECT count(*) FROM fs.view_options) AS options, (SELECT count(*) FROM fs.view_state) AS states;

DROP FUNCTION wk_tick();
DROP TABLE wk_events;
DROP ROLE regress_wk_owner;
DROP ROLE regress_wk_other;
