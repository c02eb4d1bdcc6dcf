-- Privileges follow PostgreSQL: an owner defines, an analyst only reads what
-- it was granted, and no function widens anyone's access.
\set SHOW_CONTEXT never
CREATE ROLE regress_fs_owner;
CREATE ROLE regress_fs_analyst;
CREATE TABLE priv_orders (shop_id int, at timestamptz, total numeric);
ALTER TABLE priv_orders OWNER TO regress_fs_owner;
INSERT INTO priv_orders VALUES (1, '2024-03-01', 10), (1, '2024-03-02', 20), (2, '2024-03-01', 5);

-- the only functions that run with their definer's rights are the catalog
-- operations fs_internal.w_*: each pins its search_path, returns bigint (as
-- fs_internal.write requires) and is executable by nobody but its owner, so
-- only fs_internal.write reaches them; every other PL/pgSQL function pins its
-- search_path, but for the two that switch it for a user's SQL
SELECT p.oid::regprocedure AS definer_function_outside_the_rules
  FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
 WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'feature_store') AND p.prosecdef
   AND NOT (p.pronamespace = 'fs_internal'::regnamespace AND p.proname LIKE 'w\_%'
			AND p.prorettype = 'bigint'::regtype
			AND EXISTS (SELECT FROM unnest(p.proconfig) c WHERE c = 'search_path=pg_catalog')
			AND NOT EXISTS (SELECT FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
							WHERE a.privilege_type = 'EXECUTE' AND a.grantee <> p.proowner));
SELECT count(*) > 5 AS catalog_operations
  FROM pg_proc p WHERE p.pronamespace = 'fs_internal'::regnamespace AND p.proname LIKE 'w\_%' AND p.prosecdef;
SELECT p.oid::regprocedure AS plpgsql_function_without_search_path
  FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
 WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'feature_store')
   AND p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'plpgsql')
   AND NOT EXISTS (SELECT FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%')
 ORDER BY 1;

-- the owner defines and materializes
SET ROLE regress_fs_owner;
SELECT fs.create_entity('priv_shop', 'int');
SELECT fs.register_feature_view('priv_sales', 'priv_shop', 'priv_orders', 'shop_id', 'at');
SELECT rows_written FROM fs.materialize('priv_sales', full => true);
-- storage belongs to the extension's owner; the view's owner holds what it
-- needs to materialize and to grant reads
SELECT relname, pg_get_userbyid(relowner) = (SELECT pg_get_userbyid(nspowner) FROM pg_namespace
											  WHERE nspname = 'fs_internal') AS extension_owned,
	   has_table_privilege('regress_fs_owner', oid, 'SELECT WITH GRANT OPTION') AS owner_may_grant_select
  FROM pg_class
 WHERE relnamespace = 'fs_data'::regnamespace AND relname LIKE 'priv\_sales%' AND relkind = 'r' ORDER BY 1;
RESET ROLE;

-- the analyst reads the catalog, but no features until granted
SET ROLE regress_fs_analyst;
SELECT name, version, owner_role FROM fs.feature_views WHERE name = 'priv_sales';
SELECT * FROM fs.online_features(ARRAY['priv_sales:total'], ARRAY[1]);
SELECT count(*) FROM fs_data.priv_sales_v1;
-- nor may it write: materialize, re-register, drop, or touch the catalog
SELECT * FROM fs.materialize('priv_sales', full => true);
SELECT fs.register_feature_view('priv_sales', 'priv_shop', 'SELECT shop_id, at, total * 2 AS total FROM priv_orders',
	'shop_id', 'at');
SELECT fs.drop_feature_view('priv_sales');
SELECT fs.drop_entity('priv_shop');
SELECT fs.create_entity('priv_shop', 'int', 'taking over the description');
UPDATE fs.view_versions SET source_query = 'SELECT 1' WHERE view_name = 'priv_sales';
UPDATE fs.views SET owner_role = 'regress_fs_analyst' WHERE name = 'priv_sales';
DELETE FROM fs.views WHERE name = 'priv_sales';
INSERT INTO fs.view_versions (view_name, version, source, source_query, search_path, key_column, key_type,
	ts_column, ts_type, history_table, online_table)
VALUES ('priv_sales', 9, 'x', 'SELECT 1', 'public', 'shop_id', 'int', 'at', 'timestamptz', 'h', 'o');
INSERT INTO fs.entities (name, key_type, owner_role) VALUES ('priv_fake', 'int', 'regress_fs_owner');
INSERT INTO fs.materialization_runs (view_name, version, started_at, status)
VALUES ('priv_sales', 1, now(), 'succeeded');
-- nor expectations, their results, or the operations behind them
INSERT INTO fs.view_expectations (view_name, name, condition, severity, kind)
VALUES ('priv_sales', 'mine', 'true', 'warn', 'row');
INSERT INTO fs.expectation_results (view_name, version, expectation, severity, kind, trigger, rows_checked, passed)
VALUES ('priv_sales', 1, 'mine', 'warn', 'row', 'manual', 0, true);
SELECT fs_internal.w_add_expectation('regress_fs_analyst', 'priv_sales', 'mine', 'true', 'warn', 'row', NULL);
SELECT fs_internal.write('add_expectation', 'priv_sales'::text, 'mine'::text, 'true'::text, 'warn'::text, 'row'::text,
	NULL::text);
SELECT fs_internal.write('record_results', 'priv_sales'::text, 1, NULL::bigint, 'manual'::text, '[]'::jsonb);
SELECT * FROM fs.push('priv_sales', '[]');
-- a view over a table the analyst cannot read is refused at registration
SELECT fs.register_feature_view('priv_mine', 'priv_shop', 'priv_orders', 'shop_id', 'at');
RESET ROLE;

-- the catalog is untouched
SELECT v.name, v.owner_role, vv.version, vv.source_query
  FROM fs.views v JOIN fs.view_versions vv ON vv.view_name = v.name WHERE v.name = 'priv_sales';
SELECT description FROM fs.entities WHERE name = 'priv_shop';

-- granted SELECT on the storage, the analyst reads features, and still
-- cannot write them
SET ROLE regress_fs_owner;
GRANT SELECT ON fs_data.priv_sales_v1, fs_data.priv_sales_v1_online TO regress_fs_analyst;
RESET ROLE;
SET ROLE regress_fs_analyst;
SELECT * FROM fs.online_features(ARRAY['priv_sales:total'], ARRAY[1, 2]);
SELECT count(*) FROM fs_data.priv_sales_v1;
SELECT * FROM fs.materialize('priv_sales', full => true);
-- the analyst may define its own views over data it can read
RESET ROLE;
CREATE TABLE priv_notes (shop_id int, at date, note text);
ALTER TABLE priv_notes OWNER TO regress_fs_analyst;
SET ROLE regress_fs_analyst;
SELECT fs.register_feature_view('priv_notes', 'priv_shop', 'priv_notes', 'shop_id', 'at');
SELECT rows_written FROM fs.materialize('priv_notes', full => true);
SELECT name, owner_role FROM fs.feature_views WHERE name = 'priv_notes';
RESET ROLE;

-- membership in the owner role counts as ownership, as in PostgreSQL
GRANT regress_fs_owner TO regress_fs_analyst;
SET ROLE regress_fs_analyst;
SELECT fs.register_feature_view('priv_sales', 'priv_shop', 'priv_orders', 'shop_id', 'at') AS same_version;
RESET ROLE;
REVOKE regress_fs_owner FROM regress_fs_analyst;

-- a superuser may drop anything
SELECT fs.drop_feature_view('priv_notes');
SELECT fs.drop_entity('priv_shop', cascade => true);
DROP TABLE priv_notes;
DROP TABLE priv_orders;
DROP ROLE regress_fs_owner;
DROP ROLE regress_fs_analyst;
