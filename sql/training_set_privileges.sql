--
-- training_set_privileges: creating a set needs SELECT on the features'
-- storage (the retrieval runs as the caller); reading a set needs SELECT on
-- its relation; only the set's owner changes it, and only through the
-- extension's operations.
--
\set SHOW_CONTEXT never
SET client_min_messages = warning;
SET timezone = 'UTC';
CREATE ROLE regress_ts_owner;
CREATE ROLE regress_ts_analyst;
CREATE ROLE regress_ts_deputy IN ROLE regress_ts_owner;
CREATE SCHEMA tsp;
GRANT USAGE ON SCHEMA tsp TO PUBLIC;
CREATE TABLE tsp.orders (shop_id int, at timestamptz, total numeric, channel text);
INSERT INTO tsp.orders VALUES (1, '2024-03-01', 10, 'web'), (1, '2024-03-02', 20, 'store'), (2, '2024-03-01', 5, 'web');
ALTER TABLE tsp.orders OWNER TO regress_ts_owner;
CREATE TABLE tsp.labels (shop_id int, ts timestamptz, y boolean);
INSERT INTO tsp.labels VALUES (1, '2024-03-03', true), (2, '2024-03-03', false), (3, '2024-03-03', true);
GRANT SELECT ON tsp.labels TO PUBLIC;
CREATE SCHEMA tsp_analyst AUTHORIZATION regress_ts_analyst;

SET ROLE regress_ts_owner;
SELECT fs.create_entity('tsp_shop', 'int');
SELECT fs.register_feature_view('tsp_sales', 'tsp_shop', 'tsp.orders', 'shop_id', 'at');
SELECT rows_written FROM fs.materialize('tsp_sales', full => true);
RESET ROLE;

-- Without SELECT on the view's storage, no set can be built from it.
SET ROLE regress_ts_analyst;
SELECT fs.create_training_set('tsp_mine', 'tsp.labels', '{tsp_sales:*}', 'shop_id', 'ts');
RESET ROLE;
SELECT count(*) AS analyst_sets FROM fs.training_set_names WHERE name = 'tsp_mine';

-- The owner builds one.  Its relation belongs to the extension's owner; the
-- set's owner reads it and may grant reading it.
SET ROLE regress_ts_owner;
SELECT fs.create_training_set('tsp_set', 'tsp.labels', '{tsp_sales:*}', 'shop_id', 'ts');
SELECT name, version, relation, owner_role, created_by FROM fs.training_sets;
SELECT * FROM fs_data.tsp_set_v1_training ORDER BY shop_id;
RESET ROLE;
SELECT pg_get_userbyid(c.relowner) = (SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'fs_internal')
		   AS extension_owned,
	   has_table_privilege('regress_ts_owner', c.oid, 'SELECT WITH GRANT OPTION') AS owner_reads_and_grants,
	   has_table_privilege('regress_ts_owner', c.oid, 'INSERT') AS owner_inserts,
	   has_table_privilege('regress_ts_analyst', c.oid, 'SELECT') AS analyst_reads
  FROM pg_class c WHERE c.oid = 'fs_data.tsp_set_v1_training'::regclass;

-- The analyst sees the catalog, but neither the rows nor the profiles...
SET ROLE regress_ts_analyst;
SELECT name, version, row_count FROM fs.training_sets;
SELECT count(*) FROM fs_data.tsp_set_v1_training;
COPY (SELECT * FROM fs_data.tsp_set_v1_training) TO STDOUT (FORMAT csv);
SELECT fs.training_set_profile('tsp_set', 1, 'tsp_sales__total');
SELECT count(*) AS profiles_visible FROM fs.training_set_profiles;
-- ... nor changes anything: drop, a new version, the operations, the tables
SELECT fs.drop_training_set('tsp_set');
SELECT fs.create_training_set('tsp_set', 'tsp.labels', '{tsp_sales:*}', 'shop_id', 'ts');
SELECT fs_internal.write('training_set_chunks', 'tsp_set'::text, 1, 7, NULL::text, 1, '{1}'::bigint[], '{"\\x00"}'::bytea[]);
SELECT fs_internal.write('training_set_drop', 'tsp_set'::text, 1, true);
SELECT fs_internal.w_training_set_drop('regress_ts_analyst', 'tsp_set', NULL, false);
SELECT fs_internal.drop_training_set_dependents('tsp_sales', 1);
SELECT count(*) FROM fs_internal.training_chunks;
DELETE FROM fs_internal.training_chunks;
UPDATE fs.training_set_versions SET checksum = 'forged';
INSERT INTO fs.training_set_names (name, owner_role) VALUES ('tsp_forged', 'regress_ts_analyst');
CREATE FOREIGN TABLE tsp_analyst.mine (shop_id int) SERVER fs_training_sets OPTIONS (training_set 'tsp_set', version '1');
RESET ROLE;
SELECT version, checksum IS NOT NULL AS has_checksum, (SELECT count(*) FROM fs_internal.training_chunks
														WHERE set_name = 'tsp_set') AS chunks
  FROM fs.training_sets WHERE name = 'tsp_set';

-- Granted SELECT on the relation by the set's owner, the analyst reads the
-- rows and the profiles.
SET ROLE regress_ts_owner;
GRANT SELECT ON fs_data.tsp_set_v1_training TO regress_ts_analyst;
RESET ROLE;
SET ROLE regress_ts_analyst;
COPY (SELECT * FROM fs_data.tsp_set_v1_training ORDER BY shop_id) TO STDOUT (FORMAT csv, HEADER);
SELECT fs.profile_count(fs.training_set_profile('tsp_set', 1, 'tsp_sales__total')) AS profiled_values;
SELECT count(*) AS profiles_visible FROM fs.training_set_profiles;
RESET ROLE;

-- A member of the owner role acts for it: a new version, a drop.
SET ROLE regress_ts_deputy;
SELECT fs.create_training_set('tsp_set', 'tsp.labels', '{tsp_sales:total}', 'shop_id', 'ts');
SELECT fs.drop_training_set('tsp_set', 1);
SELECT version, created_by, owner_role FROM fs.training_sets WHERE name = 'tsp_set';
RESET ROLE;

-- Only foreign tables of the extension's owner are served: a table pointed
-- at a set by anyone else (here made by a superuser, then given away) is not.
CREATE FOREIGN TABLE tsp.fake (shop_id int, ts timestamptz, y boolean, tsp_sales__total numeric,
							   tsp_sales__channel text)
	SERVER fs_training_sets OPTIONS (training_set 'tsp_set', version '2', row_count '3', chunk_groups '1');
ALTER FOREIGN TABLE tsp.fake OWNER TO regress_ts_analyst;
SET ROLE regress_ts_analyst;
SELECT * FROM tsp.fake;
RESET ROLE;

SELECT fs.drop_training_set('tsp_set');
DROP SCHEMA tsp, tsp_analyst CASCADE;
SELECT fs.drop_feature_view('tsp_sales');
SELECT fs.drop_entity('tsp_shop');
DROP ROLE regress_ts_deputy;
DROP ROLE regress_ts_analyst;
DROP ROLE regress_ts_owner;
