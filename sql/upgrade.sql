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
-- the version this tree builds (not pg_available_extensions: that reads the
-- system-wide copy, which may be another version or absent)
SELECT extversion FROM pg_extension WHERE extname = 'feature_store';

-- the catalog and storage written by 0.1 still work
SELECT * FROM fs.online_features(ARRAY['upg_pages:pages'], ARRAY[1, 2]::bigint[]);
SELECT fs.register_feature_view('upg_pages', 'upg_visitor', 'upg_visits', 'visitor_id', 'at') AS same_version;
-- online tables made before 0.4 leave room for HOT updates from now on
SELECT c.reloptions FROM pg_class c JOIN fs.view_versions vv ON c.oid = vv.online_relid WHERE vv.view_name = 'upg_pages';
INSERT INTO upg_visits VALUES (2, '2024-05-03', 4);
SELECT rows_written FROM fs.materialize('upg_pages', full => true);

-- the updated extension equals a fresh install, object for object: member
-- objects with function definitions, and for the extension's tables and
-- schemas their columns, privileges, policies and triggers
CREATE TEMP VIEW upg_members AS
SELECT pg_describe_object(d.classid, d.objid, 0) AS object,
	   CASE WHEN d.classid = 'pg_proc'::regclass THEN
			(SELECT md5(pg_get_functiondef(d.objid)) FROM pg_proc p WHERE p.oid = d.objid AND p.prokind <> 'a')
			WHEN d.classid = 'pg_class'::regclass THEN
			(SELECT md5(concat_ws('|', c.relkind, c.relacl::text, c.relrowsecurity, c.relforcerowsecurity,
					(SELECT string_agg(concat_ws(':', a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
											  pg_get_expr(ad.adbin, ad.adrelid)), ',' ORDER BY a.attnum)
					   FROM pg_attribute a LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
					  WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
					(SELECT string_agg(concat_ws(':', pol.polname, pol.polcmd, pol.polroles::text,
											  pg_get_expr(pol.polqual, pol.polrelid), pg_get_expr(pol.polwithcheck, pol.polrelid)),
									   ',' ORDER BY pol.polname)
					   FROM pg_policy pol WHERE pol.polrelid = c.oid),
					(SELECT string_agg(pg_get_triggerdef(t.oid), ',' ORDER BY t.tgname)
					   FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal),
					(SELECT string_agg(pg_get_indexdef(i.indexrelid), ',' ORDER BY 1)
					   FROM pg_index i WHERE i.indrelid = c.oid),
					CASE WHEN c.relkind = 'v' THEN pg_get_viewdef(c.oid) END))
			   FROM pg_class c WHERE c.oid = d.objid)
			WHEN d.classid = 'pg_namespace'::regclass THEN
			(SELECT md5(coalesce(n.nspacl::text, '')) FROM pg_namespace n WHERE n.oid = d.objid)
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
