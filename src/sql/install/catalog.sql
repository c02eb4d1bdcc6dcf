
------------------------------------------------------------------------------
-- Catalog tables
------------------------------------------------------------------------------

CREATE TABLE fs.entities (
	name text PRIMARY KEY,
	key_type regtype NOT NULL,
	description text,
	owner_role name NOT NULL DEFAULT current_user,
	created_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE fs.entities IS 'entities: the things features describe, with the type of their key';

CREATE TABLE fs.views (
	name text PRIMARY KEY,
	entity text NOT NULL REFERENCES fs.entities (name),
	schedule interval,
	description text,
	owner text,
	tags text[] NOT NULL DEFAULT '{}',
	feature_descriptions jsonb NOT NULL DEFAULT '{}',
	owner_role name NOT NULL DEFAULT current_user,
	last_version int NOT NULL DEFAULT 0,
	created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	updated_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE fs.views IS 'feature views: metadata shared by all versions (use fs.feature_views to read)';

CREATE TABLE fs.view_versions (
	view_name text NOT NULL REFERENCES fs.views (name) ON DELETE CASCADE,
	version int NOT NULL CHECK (version > 0),
	source text NOT NULL,
	source_query text NOT NULL,
	search_path text NOT NULL,
	key_column text NOT NULL,
	key_type regtype NOT NULL,
	ts_column text NOT NULL,
	ts_type regtype NOT NULL,
	ttl interval,
	history_table text NOT NULL,
	online_table text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	created_by name NOT NULL DEFAULT current_user,
	history_relid regclass,		-- the storage tables, by OID (0.3)
	online_relid regclass,
	available_after interval,	-- rows are stamped at event time + this (0.3)
	first_success_at timestamptz,	-- end of its first successful materialization (0.4)
	PRIMARY KEY (view_name, version)
);
COMMENT ON TABLE fs.view_versions IS 'immutable feature view versions: definition and storage tables';

CREATE TABLE fs.view_features (
	view_name text NOT NULL,
	version int NOT NULL,
	position int NOT NULL,
	name text NOT NULL,
	type regtype NOT NULL,
	PRIMARY KEY (view_name, version, name),
	FOREIGN KEY (view_name, version) REFERENCES fs.view_versions (view_name, version) ON DELETE CASCADE
);
COMMENT ON TABLE fs.view_features IS 'the features (columns) of each feature view version';

CREATE TABLE fs.materialization_runs (
	run_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	view_name text NOT NULL,
	version int NOT NULL,
	window_start timestamptz,
	window_finish timestamptz,
	started_at timestamptz NOT NULL,
	finished_at timestamptz,
	duration interval,
	rows_read bigint,
	rows_written bigint,
	online_rows bigint,
	status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
	error text,
	trigger text NOT NULL DEFAULT 'manual',
	run_by name NOT NULL DEFAULT current_user,
	rows_revised bigint			-- history rows that revise an existing key and event time (0.3)
);
CREATE INDEX ON fs.materialization_runs (view_name, version, started_at);
COMMENT ON TABLE fs.materialization_runs IS 'every materialization run: window, rows, duration, status and error';

-- The catalog generation: bumped by every change to the tables above (statement
-- triggers below), so that cached lookup plans know when to rebuild.
CREATE TABLE fs.catalog_state (generation bigint NOT NULL);
INSERT INTO fs.catalog_state VALUES (0);
COMMENT ON TABLE fs.catalog_state IS 'internal: a counter bumped by every catalog change';

-- Catalog contents are user data: pg_dump keeps them.
SELECT pg_catalog.pg_extension_config_dump('fs.entities', '');
SELECT pg_catalog.pg_extension_config_dump('fs.views', '');
SELECT pg_catalog.pg_extension_config_dump('fs.view_versions', '');
SELECT pg_catalog.pg_extension_config_dump('fs.view_features', '');
SELECT pg_catalog.pg_extension_config_dump('fs.materialization_runs', '');

-- Everyone reads the catalog; nobody writes it directly.  Every change goes
-- through fs_internal.write (src/security.c) and the extension's own
-- operations (fs_internal.w_*), which check what their caller may do: a role
-- changes only what belongs to a role whose privileges it has.  Holding only
-- SELECT, no role can lock catalog rows (FOR UPDATE/SHARE need UPDATE) or
-- tables beyond ACCESS SHARE.  Row-level security stays on with read
-- policies only, so a direct write is refused even if granted by mistake.
GRANT SELECT ON fs.entities, fs.views, fs.view_versions, fs.view_features, fs.materialization_runs,
	fs.catalog_state TO PUBLIC;

ALTER TABLE fs.entities ENABLE ROW LEVEL SECURITY;
ALTER TABLE fs.views ENABLE ROW LEVEL SECURITY;
ALTER TABLE fs.view_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE fs.view_features ENABLE ROW LEVEL SECURITY;
ALTER TABLE fs.materialization_runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE fs.catalog_state ENABLE ROW LEVEL SECURITY;

CREATE POLICY read_all ON fs.entities FOR SELECT USING (true);
CREATE POLICY read_all ON fs.views FOR SELECT USING (true);
CREATE POLICY read_all ON fs.view_versions FOR SELECT USING (true);
CREATE POLICY read_all ON fs.view_features FOR SELECT USING (true);
CREATE POLICY read_all ON fs.materialization_runs FOR SELECT USING (true);
CREATE POLICY read_all ON fs.catalog_state FOR SELECT USING (true);
