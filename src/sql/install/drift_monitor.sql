
------------------------------------------------------------------------------
-- Monitors: daily profiles, a reference window, alerts and NOTIFY
------------------------------------------------------------------------------

CREATE TABLE fs.drift_monitors (
	name text PRIMARY KEY,
	view_name text NOT NULL REFERENCES fs.views (name) ON DELETE CASCADE,
	version int,
	reference tstzrange NOT NULL CHECK (NOT isempty(reference) AND NOT lower_inf(reference) AND NOT upper_inf(reference)),
	features text[],
	metrics text[] NOT NULL,
	psi_warn float8 NOT NULL,
	psi_alert float8 NOT NULL,
	js_threshold float8 NOT NULL,
	wasserstein_threshold float8 NOT NULL,
	linf_threshold float8 NOT NULL,
	p_value_threshold float8 NOT NULL,
	channel text NOT NULL,
	enabled boolean NOT NULL DEFAULT true,
	last_checked_day date,
	checked_version int,

	owner_role name NOT NULL DEFAULT current_user,
	created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	last_run jsonb,				-- the last run's counts (0.3)
	last_error text,			-- why the last run failed, if it did
	last_error_at timestamptz
);
COMMENT ON TABLE fs.drift_monitors IS
	'drift monitors: a feature view, a reference window, thresholds, and the NOTIFY channel for breaches';

CREATE TABLE fs.drift_profiles (
	view_name text NOT NULL,
	version int NOT NULL,
	feature text NOT NULL,
	day date NOT NULL,
	profile fs.profile NOT NULL,
	computed_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	PRIMARY KEY (view_name, version, feature, day)
);
COMMENT ON TABLE fs.drift_profiles IS
	'daily profiles (UTC days) of monitored features; merge them with fs.profile_merge';

CREATE TABLE fs.drift_alerts (
	alert_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	monitor text NOT NULL,
	view_name text NOT NULL,
	version int NOT NULL,
	feature text NOT NULL,
	day date NOT NULL,
	metric text NOT NULL,
	value float8,
	threshold float8,
	severity text NOT NULL CHECK (severity IN ('warn', 'alert')),
	created_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE INDEX ON fs.drift_alerts (monitor, day);
COMMENT ON TABLE fs.drift_alerts IS 'every drift breach found by a monitor: feature, day, metric, value and threshold';

SELECT pg_catalog.pg_extension_config_dump('fs.drift_monitors', '');
SELECT pg_catalog.pg_extension_config_dump('fs.drift_profiles', '');
SELECT pg_catalog.pg_extension_config_dump('fs.drift_alerts', '');

-- Monitors are readable by everyone; daily profiles and alerts summarize a
-- version's history, so only roles that may read that history see them.
-- Writes go through the extension's operations only (install/catalog.sql).
GRANT SELECT ON fs.drift_monitors, fs.drift_profiles, fs.drift_alerts TO PUBLIC;
ALTER TABLE fs.drift_monitors ENABLE ROW LEVEL SECURITY;
ALTER TABLE fs.drift_profiles ENABLE ROW LEVEL SECURITY;
ALTER TABLE fs.drift_alerts ENABLE ROW LEVEL SECURITY;
CREATE POLICY read_all ON fs.drift_monitors FOR SELECT USING (true);
