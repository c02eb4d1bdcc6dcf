-- The attacks of a plain role against other roles' rights and data, replayed
-- as that role: each is refused or harmless (README "Security").
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE ROLE regress_sec_owner;
CREATE ROLE regress_sec_attacker;
CREATE ROLE regress_sec_reader;
RESET client_min_messages;
CREATE SCHEMA sec AUTHORIZATION regress_sec_owner;
CREATE SCHEMA sec_evil AUTHORIZATION regress_sec_attacker;
GRANT USAGE ON SCHEMA sec TO regress_sec_reader, regress_sec_attacker;
SET search_path = sec, public;

-- the owner's view, with a secret text feature, materialized and monitored
SET ROLE regress_sec_owner;
CREATE TABLE sec.sales (shop_id int, day date, amount float8, secret text);
INSERT INTO sec.sales SELECT s, date '2024-01-01' + d, s * 10 + d, 'code-' || s
  FROM generate_series(1, 3) s, generate_series(0, 13) d;
SELECT fs.create_entity('sec_shop', 'int');
SELECT fs.register_feature_view('sec_sales', 'sec_shop', 'sec.sales', 'shop_id', 'day');
SELECT rows_written FROM fs.materialize('sec_sales', full => true);
SELECT fs.create_drift_monitor('sec_sales_mon', 'sec_sales', '[2024-01-01, 2024-01-08)');
GRANT SELECT ON fs_data.sec_sales_v1 TO regress_sec_reader;
RESET ROLE;

-- 1. Superuser takeover.  The attacker's own view and monitor ...
SET ROLE regress_sec_attacker;
CREATE TABLE sec_evil.t (k int, day date, v float8);
INSERT INTO sec_evil.t VALUES (1, '2024-01-01', 1), (1, '2024-01-02', 2);
-- a function that tries to take over whoever runs it
CREATE FUNCTION sec_evil.grab() RETURNS float8 LANGUAGE plpgsql AS $$
BEGIN
	BEGIN
		ALTER ROLE regress_sec_attacker SUPERUSER;
	EXCEPTION WHEN OTHERS THEN
		RAISE NOTICE 'grab: %', SQLERRM;
	END;
	BEGIN
		SET ROLE postgres;
	EXCEPTION WHEN OTHERS THEN
		RAISE NOTICE 'grab: %', SQLERRM;
	END;
	RETURN 1;
END $$;
SELECT fs.register_feature_view('sec_evil_v', 'sec_shop', 'SELECT k, day, sec_evil.grab() AS v FROM sec_evil.t',
	'k', 'day');
SELECT fs.create_drift_monitor('sec_evil_mon', 'sec_evil_v', '[2024-01-01, 2024-01-02)');
-- ... cannot touch its storage: not its table, and nothing can be created in fs_data
DROP TABLE fs_data.sec_evil_v_v1;
CREATE VIEW fs_data.sec_evil_v_v1_x AS SELECT 1 AS k;
CREATE TRIGGER grab AFTER INSERT ON fs_data.sec_evil_v_v1 FOR EACH STATEMENT EXECUTE FUNCTION sec_evil.grab();
ALTER TABLE fs_data.sec_evil_v_v1 ADD COLUMN x float8 DEFAULT sec_evil.grab();
-- 8. nor squat the name of another view's next version
CREATE TABLE fs_data.sec_sales_v2 (x int);
RESET ROLE;
-- a superuser materializes the attacker's view and runs every monitor: the
-- source runs as the attacker, whose function cannot escalate
SELECT rows_written FROM fs.materialize('sec_evil_v', full => true);
SELECT monitor, error IS NULL AS ok FROM fs.run_drift_monitors('2024-01-20') ORDER BY 1;
SELECT rolsuper AS attacker_is_superuser FROM pg_roles WHERE rolname = 'regress_sec_attacker';

-- 2. Feature data leak: a monitor on someone else's view needs the right to
-- read it, and its profiles and alerts are visible only to readers
SET ROLE regress_sec_attacker;
SELECT fs.create_drift_monitor('sec_spy', 'sec_sales', '[2024-01-01, 2024-01-08)');
SELECT count(*) AS profiles_seen FROM fs.drift_profiles WHERE view_name = 'sec_sales';
SELECT count(*) AS alerts_seen FROM fs.drift_alerts WHERE view_name = 'sec_sales';
RESET ROLE;
SET ROLE regress_sec_reader;
SELECT count(*) > 0 AS reader_sees_profiles FROM fs.drift_profiles WHERE view_name = 'sec_sales';
RESET ROLE;

-- 3. and 4. Stale answers and denial of service: the catalog is read-only to
-- everyone and cannot be locked beyond ACCESS SHARE
SET ROLE regress_sec_attacker;
UPDATE fs.catalog_state SET generation = 0;
SELECT generation FROM fs.catalog_state FOR UPDATE;
SELECT name FROM fs.views FOR SHARE;
BEGIN;
LOCK TABLE fs.views IN ACCESS EXCLUSIVE MODE;
ROLLBACK;
BEGIN;
LOCK TABLE fs.view_versions IN SHARE MODE;
ROLLBACK;

-- 6. Read-only tampering with another role's monitor data
RESET ROLE;
SET ROLE regress_sec_reader;
DELETE FROM fs.drift_profiles WHERE view_name = 'sec_sales';
INSERT INTO fs.drift_profiles (view_name, version, feature, day, profile)
SELECT 'sec_sales', 1, 'amount', '2030-01-01', fs.profile(1::float8);
UPDATE fs.drift_monitors SET enabled = false;
DELETE FROM fs.drift_alerts;
RESET ROLE;
SELECT count(*) AS owner_profiles_intact FROM fs.drift_profiles WHERE view_name = 'sec_sales' AND feature = 'amount';

-- 5. One bad monitor does not stop the others: a monitor whose storage is
-- gone fails alone, with its error recorded; an overlong channel is refused
-- when the monitor is created
SET client_min_messages = warning;
DROP TABLE fs_data.sec_evil_v_v1;
RESET client_min_messages;
SELECT monitor, days_checked, error FROM fs.run_drift_monitors('2024-01-21') ORDER BY 1;
SELECT name, last_error IS NOT NULL AS failure_recorded FROM fs.drift_monitors ORDER BY 1;
SELECT fs.create_drift_monitor('sec_long', 'sec_sales', '[2024-01-01, 2024-01-08)', channel => repeat('c', 64));

-- 1. (cont.) storage is found by OID: a relation of the same name that is not
-- the recorded table is never read
CREATE VIEW fs_data.sec_evil_v_v1 AS SELECT 1 AS k, date '2024-01-01' AS day, sec_evil.grab() AS v;
SELECT fs.historical_features('SELECT 1 AS k, date ''2024-01-05'' AS day', ARRAY['sec_evil_v:v'], 'k', 'day');
SELECT monitor, error FROM fs.run_drift_monitors('2024-01-22') WHERE monitor = 'sec_evil_mon';
DROP VIEW fs_data.sec_evil_v_v1;
SELECT fs.drop_feature_view('sec_evil_v');

-- 10. Silent coercion: a source whose column type changed is an error naming
-- the column, not a rounded value
SET ROLE regress_sec_owner;
CREATE TABLE sec.scores (k int, day date, score bigint);
INSERT INTO sec.scores VALUES (1, '2024-01-01', 1);
SELECT fs.register_feature_view('sec_scores', 'sec_shop', 'SELECT k, day, score FROM sec.scores', 'k', 'day');
ALTER TABLE sec.scores ALTER COLUMN score TYPE numeric;
UPDATE sec.scores SET score = 1.7;
SELECT rows_written FROM fs.materialize('sec_scores', full => true);
RESET ROLE;

-- 11. Captured search_path: the session's temporary schema is never stored,
-- and a schema others can write draws a warning
CREATE TEMP TABLE sec_tmp (x int);
SET search_path = sec, pg_temp, public;
SET ROLE regress_sec_owner;
SELECT fs.register_feature_view('sec_path', 'sec_shop', 'SELECT shop_id, day, amount FROM sales', 'shop_id', 'day');
SELECT search_path FROM fs.view_versions WHERE view_name = 'sec_path';
RESET ROLE;
GRANT CREATE ON SCHEMA sec_evil TO PUBLIC;
SET search_path = sec_evil, sec;
SET ROLE regress_sec_owner;
SELECT fs.register_feature_view('sec_path2', 'sec_shop', 'SELECT shop_id, day, amount FROM sales', 'shop_id', 'day');
RESET ROLE;
SET search_path = sec, public;

-- 13. A feature named "*" would collide with view:* in output keys
SET ROLE regress_sec_owner;
SELECT fs.register_feature_view('sec_star', 'sec_shop', 'SELECT shop_id, day, amount AS "*" FROM sec.sales',
	'shop_id', 'day');
RESET ROLE;

-- ... a view too wide to store is refused at registration, not at its first run
SET ROLE regress_sec_owner;
SELECT fs.register_feature_view('sec_wide', 'sec_shop',
	'SELECT 1 AS shop_id, date ''2024-01-01'' AS day, ' ||
	(SELECT string_agg(format('0::float8 AS f%s', i), ', ') FROM generate_series(1, 1500) i), 'shop_id', 'day');
-- ... and a spine of constants is retrieved, not refused
SELECT fs.historical_features('SELECT 2 AS shop_id, date ''2024-01-05'' AS day', ARRAY['sec_sales:amount'],
	'shop_id', 'day') AS constant_spine \gset
:constant_spine;
RESET ROLE;

-- the catalog operations cannot be called directly, with a forged caller
SET ROLE regress_sec_attacker;
SELECT fs_internal.w_drop_feature_view('regress_sec_owner', 'sec_sales', NULL, true);
SELECT fs_internal.write('drop_feature_view', 'sec_sales'::text, NULL::int, true);
SELECT fs_internal.write('check_name', 'x'::text, 'y'::text);
SELECT fs_internal.leave_role(0);
-- and running as another role needs that role's privileges
SELECT fs_internal.enter_role('regress_sec_owner');
RESET ROLE;
SELECT count(*) AS owner_view_versions FROM fs.view_versions WHERE view_name = 'sec_sales';

-- 7. Schema squatting: CREATE EXTENSION refuses a schema fs another role made
SET client_min_messages = warning;
DROP EXTENSION feature_store CASCADE;
RESET client_min_messages;
DROP SCHEMA fs;
CREATE SCHEMA fs AUTHORIZATION regress_sec_attacker;
SET ROLE regress_sec_attacker;
CREATE FUNCTION fs.online_features(text[], bigint[]) RETURNS int LANGUAGE sql AS 'SELECT 1';
RESET ROLE;
CREATE EXTENSION feature_store;
DROP SCHEMA fs CASCADE;
CREATE EXTENSION feature_store;
SELECT p.oid::regprocedure AS online_features FROM pg_proc p
 WHERE p.pronamespace = 'fs'::regnamespace AND p.proname = 'online_features';

DROP SCHEMA sec CASCADE;
DROP SCHEMA sec_evil CASCADE;
DROP OWNED BY regress_sec_owner, regress_sec_attacker, regress_sec_reader;
DROP ROLE regress_sec_owner;
DROP ROLE regress_sec_attacker;
DROP ROLE regress_sec_reader;
RESET search_path;
