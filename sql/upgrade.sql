-- Install the first release (0.1), use it, update to the current version:
-- data survives and the result has exactly the objects of a fresh install.
-- (Runs last: it drops and recreates the extension.)
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DROP EXTENSION feature_store CASCADE;
RESET client_min_messages;
CREATE EXTENSION feature_store VERSION '0.1';
SELECT extversion FROM pg_extension WHERE extname = 'feature_store';

CREATE TABLE upg_visits (visitor_id bigint, at timestamptz, pages int);
INSERT INTO upg_visits VALUES (1, '2024-05-01', 3), (1, '2024-05-02', 7), (2, '2024-05-01', 1);
SELECT fs.create_entity('upg_visitor', 'bigint');
SELECT fs.register_feature_view('upg_pages', 'upg_visitor', 'upg_visits', 'visitor_id', 'at');
SELECT rows_written FROM fs.materialize('upg_pages');

ALTER EXTENSION feature_store UPDATE;
SELECT extversion = (SELECT default_version FROM pg_available_extensions WHERE name = 'feature_store') AS current
  FROM pg_extension WHERE extname = 'feature_store';

-- the catalog and storage written by 0.1 still work
SELECT * FROM fs.online_features(ARRAY['upg_pages:pages'], ARRAY[1, 2]::bigint[]);
SELECT fs.register_feature_view('upg_pages', 'upg_visitor', 'upg_visits', 'visitor_id', 'at') AS same_version;
INSERT INTO upg_visits VALUES (2, '2024-05-03', 4);
SELECT rows_written FROM fs.materialize('upg_pages');

-- the updated extension equals a fresh install, object for object
CREATE TEMP VIEW upg_members AS
SELECT pg_describe_object(d.classid, d.objid, 0) AS object,
	   CASE WHEN d.classid = 'pg_proc'::regclass THEN
			(SELECT md5(pg_get_functiondef(d.objid)) FROM pg_proc p WHERE p.oid = d.objid AND p.prokind <> 'a')
	   END AS definition
  FROM pg_depend d
 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'feature_store');
CREATE TEMP TABLE upg_updated AS SELECT * FROM upg_members;
SET client_min_messages = warning;
DROP EXTENSION feature_store CASCADE;
RESET client_min_messages;
CREATE EXTENSION feature_store;
CREATE TEMP TABLE upg_fresh AS SELECT * FROM upg_members;
SELECT count(*) > 50 AS many_objects FROM upg_fresh;
SELECT 'only after update' AS side, * FROM (SELECT * FROM upg_updated EXCEPT SELECT * FROM upg_fresh) a
UNION ALL
SELECT 'only in fresh install', * FROM (SELECT * FROM upg_fresh EXCEPT SELECT * FROM upg_updated) b
ORDER BY 1, 2;
