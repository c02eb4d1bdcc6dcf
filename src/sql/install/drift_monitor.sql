
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
	created_at timestamptz NOT NULL DEFAULT pg_catalog.now()
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

GRANT SELECT ON fs.drift_monitors, fs.drift_profiles, fs.drift_alerts TO PUBLIC;
GRANT INSERT, UPDATE, DELETE ON fs.drift_monitors, fs.drift_profiles TO PUBLIC;
GRANT INSERT ON fs.drift_alerts TO PUBLIC;
ALTER TABLE fs.drift_monitors ENABLE ROW LEVEL SECURITY;
ALTER TABLE fs.drift_profiles ENABLE ROW LEVEL SECURITY;
ALTER TABLE fs.drift_alerts ENABLE ROW LEVEL SECURITY;
CREATE POLICY read_all ON fs.drift_monitors FOR SELECT USING (true);
CREATE POLICY owner_writes ON fs.drift_monitors FOR ALL
	USING (pg_catalog.pg_has_role(owner_role, 'USAGE'))
	WITH CHECK (pg_catalog.pg_has_role(owner_role, 'USAGE'));
-- Profiles summarize history: whoever can read the history table may store them.
CREATE POLICY read_all ON fs.drift_profiles FOR SELECT USING (true);
CREATE POLICY readers_write ON fs.drift_profiles FOR ALL
	USING (EXISTS (SELECT FROM fs.view_versions vv
				   WHERE vv.view_name = drift_profiles.view_name AND vv.version = drift_profiles.version
					 AND pg_catalog.has_table_privilege(pg_catalog.format('fs_data.%I', vv.history_table), 'SELECT')))
	WITH CHECK (EXISTS (SELECT FROM fs.view_versions vv
						WHERE vv.view_name = drift_profiles.view_name AND vv.version = drift_profiles.version
						  AND pg_catalog.has_table_privilege(pg_catalog.format('fs_data.%I', vv.history_table), 'SELECT')));
CREATE POLICY read_all ON fs.drift_alerts FOR SELECT USING (true);
CREATE POLICY owner_records ON fs.drift_alerts FOR INSERT
	WITH CHECK (EXISTS (SELECT FROM fs.drift_monitors m
						WHERE m.name = drift_alerts.monitor AND pg_catalog.pg_has_role(m.owner_role, 'USAGE')));
