-- Training sets (0.3): the objects of src/sql/install/training_set.sql, for the 0.2--0.3 upgrade
-- step (src/sql/updates/0.2--0.3.sql).  Append this block to that file as it is.
-- A training set is a name; each creation is a new, immutable version.
CREATE TABLE fs.training_set_names (
	name text PRIMARY KEY,
	owner_role name NOT NULL,
	last_version int NOT NULL DEFAULT 0,
	created_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE fs.training_set_names IS 'training sets: owner and version counter (use fs.training_sets to read)';

-- One row per version: the definition it was built from and what was stored.
CREATE TABLE fs.training_set_versions (
	name text NOT NULL REFERENCES fs.training_set_names (name) ON DELETE CASCADE,
	version int NOT NULL CHECK (version > 0),
	status text NOT NULL CHECK (status IN ('building', 'ready')),
	building_xid xid8,
	relation_name text NOT NULL,
	relid regclass,				-- the foreign table, by OID, once built
	spine text NOT NULL,
	search_path text NOT NULL,
	key_column text NOT NULL,
	ts_column text NOT NULL,
	strict boolean NOT NULL,
	known_at boolean NOT NULL,
	split jsonb,
	description text,
	retrieval_sql text NOT NULL,
	compression_level int NOT NULL,
	row_count bigint,
	chunk_groups int,
	stored_bytes bigint,
	split_rows jsonb,
	spine_hash text,
	checksum text,
	created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	created_by name NOT NULL,
	PRIMARY KEY (name, version)
);
COMMENT ON TABLE fs.training_set_versions IS
	'immutable training set versions: definition, lineage, counts and checksums (use fs.training_sets to read)';

-- The columns of each version; feature columns carry their resolved feature
-- view version and the profile computed while the set was built.
CREATE TABLE fs.training_set_columns (
	name text NOT NULL,
	version int NOT NULL,
	position int NOT NULL,
	column_name text NOT NULL,
	type regtype NOT NULL,
	typmod int NOT NULL,
	kind text NOT NULL CHECK (kind IN ('spine', 'feature', 'split')),
	ref text,
	view_name text,
	view_version int,
	feature text,
	PRIMARY KEY (name, version, position),
	FOREIGN KEY (name, version) REFERENCES fs.training_set_versions (name, version) ON DELETE CASCADE
);
CREATE INDEX ON fs.training_set_columns (view_name, view_version);
COMMENT ON TABLE fs.training_set_columns IS
	'the columns of each training set version: spine columns, features (with the view version they came from and a profile), the split';

-- The profile of each numeric and text feature column, computed while the
-- set was built: a reference for drift checks.  Like drift profiles they
-- summarize data, so only roles that may read the set see them (policy in
-- training_set.sql).
CREATE TABLE fs.training_set_profiles (
	name text NOT NULL,
	version int NOT NULL,
	column_name text NOT NULL,
	profile fs.profile NOT NULL,
	PRIMARY KEY (name, version, column_name),
	FOREIGN KEY (name, version) REFERENCES fs.training_set_versions (name, version) ON DELETE CASCADE
);
COMMENT ON TABLE fs.training_set_profiles IS
	'profiles of the numeric and text feature columns of each training set version (fs.training_set_profile reads them)';

-- The rows, as compressed column chunks: chunk group g of a version holds up
-- to a few thousand rows of one split, one row here per column.  Written once
-- by fs.create_training_set, never updated; read only by the training-set
-- foreign tables (so no role needs, or gets, any privilege on it).
CREATE TABLE fs_internal.training_chunks (
	set_name text NOT NULL,
	version int NOT NULL,
	chunk_no int NOT NULL,
	column_no int NOT NULL,
	split text,
	nrows int NOT NULL,
	checksum bigint NOT NULL,
	data bytea NOT NULL,
	PRIMARY KEY (set_name, version, chunk_no, column_no),
	FOREIGN KEY (set_name, version) REFERENCES fs.training_set_versions (name, version) ON DELETE CASCADE
);
-- chunks are zstd-compressed already: keep them out of line, uncompressed
ALTER TABLE fs_internal.training_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
COMMENT ON TABLE fs_internal.training_chunks IS
	'internal: training set rows as zstd-compressed column chunks with a CRC-32C each';

SELECT pg_catalog.pg_extension_config_dump('fs.training_set_names', '');
SELECT pg_catalog.pg_extension_config_dump('fs.training_set_versions', '');
SELECT pg_catalog.pg_extension_config_dump('fs.training_set_columns', '');
SELECT pg_catalog.pg_extension_config_dump('fs.training_set_profiles', '');
SELECT pg_catalog.pg_extension_config_dump('fs_internal.training_chunks', '');

-- Everyone reads the catalog, profiles only for the sets they may read; every
-- change goes through fs_internal.write (install/catalog.sql explains why
-- row-level security stays on with read policies only).
GRANT SELECT ON fs.training_set_names, fs.training_set_versions, fs.training_set_columns, fs.training_set_profiles
	TO PUBLIC;
ALTER TABLE fs.training_set_names ENABLE ROW LEVEL SECURITY;
ALTER TABLE fs.training_set_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE fs.training_set_columns ENABLE ROW LEVEL SECURITY;
ALTER TABLE fs.training_set_profiles ENABLE ROW LEVEL SECURITY;
CREATE POLICY read_all ON fs.training_set_names FOR SELECT USING (true);
CREATE POLICY read_all ON fs.training_set_versions FOR SELECT USING (true);
CREATE POLICY read_all ON fs.training_set_columns FOR SELECT USING (true);

-- Each version is a foreign table of this wrapper in fs_data, owned by the
-- extension owner: only its owner can define such tables (nobody gets USAGE
-- on the server), so a foreign table cannot be pointed at someone else's set.
CREATE FUNCTION fs_internal.training_set_fdw_handler() RETURNS fdw_handler
	AS 'MODULE_PATHNAME', 'training_set_fdw_handler' LANGUAGE C STRICT;
COMMENT ON FUNCTION fs_internal.training_set_fdw_handler() IS
	'internal: the foreign-data wrapper that streams training set rows from their chunks';
CREATE FOREIGN DATA WRAPPER fs_training_set HANDLER fs_internal.training_set_fdw_handler;
COMMENT ON FOREIGN DATA WRAPPER fs_training_set IS 'feature_store: reads training set versions';
CREATE SERVER fs_training_sets FOREIGN DATA WRAPPER fs_training_set;
COMMENT ON SERVER fs_training_sets IS 'feature_store: the server of every training set foreign table';
