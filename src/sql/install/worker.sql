
------------------------------------------------------------------------------
-- The background worker: per-view options, per-version state, run tracking
------------------------------------------------------------------------------

-- Options of a feature view for the worker, set by its owner with
-- fs.set_feature_view_options, fs.pause_feature_view and
-- fs.resume_feature_view.  A NULL option takes its default
-- (fs_internal.version_schedule, src/sql/worker.sql, says which).
CREATE TABLE fs.view_options (
	view_name text PRIMARY KEY REFERENCES fs.views (name) ON DELETE CASCADE,
	paused boolean NOT NULL DEFAULT false,
	lateness interval CHECK (lateness >= interval '0'),
	reconcile_every interval CHECK (reconcile_every > interval '0'),
	expected_freshness interval CHECK (expected_freshness > interval '0'),
	updated_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	created_column text			-- resolves conflicting rows for one key and event time: newest wins (0.4)
);
COMMENT ON TABLE fs.view_options IS
	'worker options of a feature view: paused, allowed lateness, full reconciliation period, expected freshness (NULL: default)';

-- What the worker knows about each version it keeps fresh.
CREATE TABLE fs.view_state (
	view_name text NOT NULL,
	version int NOT NULL,
	high_water timestamptz,				-- newest event time materialized by a worker run
	last_success_at timestamptz,		-- start of the last successful worker run
	last_full_at timestamptz,			-- start of the last successful full (windowless) run
	last_run_id bigint,
	last_duration interval,
	consecutive_failures int NOT NULL DEFAULT 0,
	next_attempt_at timestamptz,		-- after a failure: not retried before this
	last_error text,
	last_error_at timestamptz,
	runs_total bigint NOT NULL DEFAULT 0,	-- worker runs finished (for fs.metrics())
	failures_total bigint NOT NULL DEFAULT 0,
	rows_written_total bigint NOT NULL DEFAULT 0,
	blocked_total bigint NOT NULL DEFAULT 0,	-- runs blocked by an expectation, manual or worker (0.4)
	last_blocked_at timestamptz,
	PRIMARY KEY (view_name, version),
	FOREIGN KEY (view_name, version) REFERENCES fs.view_versions (view_name, version) ON DELETE CASCADE
);
COMMENT ON TABLE fs.view_state IS
	'worker state of each feature view version: high-water mark, last success, failures and retry time, counters';

-- A worker run records the process that runs it, so that a run left
-- "running" by a crash is recognised.
ALTER TABLE fs.materialization_runs ADD COLUMN pid int;
CREATE INDEX materialization_runs_running ON fs.materialization_runs (view_name, version) WHERE status = 'running';

SELECT pg_catalog.pg_extension_config_dump('fs.view_options', '');
SELECT pg_catalog.pg_extension_config_dump('fs.view_state', '');

-- Read by everyone, written only through the extension's operations.
GRANT SELECT ON fs.view_options, fs.view_state TO PUBLIC;
ALTER TABLE fs.view_options ENABLE ROW LEVEL SECURITY;
ALTER TABLE fs.view_state ENABLE ROW LEVEL SECURITY;
CREATE POLICY read_all ON fs.view_options FOR SELECT USING (true);
CREATE POLICY read_all ON fs.view_state FOR SELECT USING (true);
