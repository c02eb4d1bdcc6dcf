-- Entities and feature views: registration, versions, metadata, drops, and
-- every user mistake as an ERROR naming the object.
\set SHOW_CONTEXT never
CREATE TABLE cat_txns (customer_id bigint, ts timestamptz, amount numeric, merchant text);
INSERT INTO cat_txns
SELECT i % 10, timestamptz '2024-01-01 00:00+00' + i * interval '7 hours', i, 'm' || (i % 3)
  FROM generate_series(1, 200) i;
CREATE TABLE cat_devices (device_id uuid, seen date, pings int);

-- entities: creating twice with the same key type is a no-op
SELECT fs.create_entity('cat_customer', 'bigint', 'a paying customer');
SELECT fs.create_entity('cat_customer', 'bigint');
SELECT fs.create_entity('cat_device', 'uuid');
SELECT name, key_type, description FROM fs.entities WHERE name LIKE 'cat\_%' ORDER BY name;

-- a query source and a table source
SELECT fs.register_feature_view('cat_spend', 'cat_customer',
	$$SELECT customer_id, date_trunc('day', ts) AS day, sum(amount) AS spend_1d, count(*) AS n_1d
	    FROM cat_txns GROUP BY 1, 2$$,
	'customer_id', 'day', available_after => '1 day', ttl => '30 days', schedule => '1 hour', description => 'daily spend',
	owner => 'risk-team', tags => '{finance,daily}',
	feature_descriptions => '{"spend_1d": "sum of amounts that day"}');
SELECT fs.register_feature_view('cat_raw', 'cat_customer', 'cat_txns', 'customer_id', 'ts');
SELECT fs.register_feature_view('cat_pings', 'cat_device', 'public.cat_devices', 'device_id', 'seen');

SELECT name, version, entity, key_column, key_type, ts_column, ts_type, features, ttl, schedule,
	   owner, description, tags, is_latest, history_relation, online_relation, available_after
  FROM fs.feature_views WHERE name LIKE 'cat\_%' ORDER BY name, version;
SELECT * FROM fs.features WHERE view LIKE 'cat\_%' ORDER BY view, version, position;

-- storage: history unique on (key, event time, created time), online keyed on the key
SELECT c.relname, pg_get_constraintdef(k.oid)
  FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
 WHERE c.relname LIKE 'cat\_spend%' ORDER BY 1;
\d fs_data.cat_spend_v1

-- identical registration returns the same version (dbt runs it every time);
-- metadata may change without a new version
SELECT fs.register_feature_view('cat_spend', 'cat_customer',
	$$SELECT customer_id, date_trunc('day', ts) AS day, sum(amount) AS spend_1d, count(*) AS n_1d
	    FROM cat_txns GROUP BY 1, 2$$,
	'customer_id', 'day', available_after => '1 day', ttl => '30 days', schedule => '2 hours', description => 'daily spend, updated');
SELECT name, version, schedule, description, owner, tags FROM fs.feature_views WHERE name = 'cat_spend';

-- a changed definition makes version N+1: source, TTL, columns
SELECT fs.register_feature_view('cat_spend', 'cat_customer',
	$$SELECT customer_id, date_trunc('day', ts) AS day, sum(amount) AS spend_1d, count(*) AS n_1d,
	         max(amount) AS max_1d
	    FROM cat_txns GROUP BY 1, 2$$,
	'customer_id', 'day', available_after => '1 day', ttl => '30 days');
SELECT fs.register_feature_view('cat_spend', 'cat_customer',
	$$SELECT customer_id, date_trunc('day', ts) AS day, sum(amount) AS spend_1d, count(*) AS n_1d,
	         max(amount) AS max_1d
	    FROM cat_txns GROUP BY 1, 2$$,
	'customer_id', 'day', available_after => '1 day', ttl => '7 days');
-- re-registering an older definition is a new version too: versions only grow
SELECT fs.register_feature_view('cat_spend', 'cat_customer',
	$$SELECT customer_id, date_trunc('day', ts) AS day, sum(amount) AS spend_1d, count(*) AS n_1d
	    FROM cat_txns GROUP BY 1, 2$$,
	'customer_id', 'day', available_after => '1 day', ttl => '30 days');
-- the underlying table changing type changes the definition
ALTER TABLE cat_txns ALTER COLUMN amount TYPE float8;
SELECT fs.register_feature_view('cat_raw', 'cat_customer', 'cat_txns', 'customer_id', 'ts');
SELECT name, version, features, ttl, is_latest FROM fs.feature_views
 WHERE name IN ('cat_spend', 'cat_raw') ORDER BY name, version;
SELECT version, feature, type FROM fs.features WHERE view = 'cat_raw' ORDER BY version, position;
-- old versions keep their storage
SELECT count(*) FROM fs.feature_views WHERE name = 'cat_spend' AND history_relation IS NOT NULL;

-- a source is resolved by name in the schemas current at registration
CREATE SCHEMA cat_other;
CREATE TABLE cat_other.events (customer_id bigint, at timestamp, clicks int);
SET search_path = cat_other, public;
SELECT fs.register_feature_view('cat_clicks', 'cat_customer', 'SELECT customer_id, at, clicks FROM events',
	'customer_id', 'at');
RESET search_path;
SELECT version, source, ts_type, features FROM fs.feature_views WHERE name = 'cat_clicks';

-- hostile names are quoted, never spliced
CREATE TABLE "cat ""odd""; table" ("Key" bigint, "When" date, "a;b" int, "select" text);
SELECT fs.register_feature_view('cat"; DROP TABLE cat_txns; --', 'cat_customer',
	'"cat ""odd""; table"', 'Key', 'When');
SELECT name, features, history_relation, online_relation FROM fs.feature_views WHERE name LIKE 'cat"%';
SELECT count(*) AS cat_txns_still_there FROM cat_txns;
SELECT fs.register_feature_view(repeat('x', 63), 'cat_customer', 'cat_txns', 'customer_id', 'ts') AS long_name_version;
SELECT octet_length(history_relation::text) <= 63 + 8 AS fits, history_relation FROM fs.feature_views
 WHERE name = repeat('x', 63);

----------------------------------------------------------------------------
-- Errors: each names the object, and a failed registration leaves nothing
----------------------------------------------------------------------------
CREATE TEMP TABLE cat_before AS
SELECT (SELECT count(*) FROM fs.views) AS views, (SELECT count(*) FROM fs.view_versions) AS versions,
	   (SELECT count(*) FROM pg_class WHERE relnamespace = 'fs_data'::regnamespace) AS relations;

SELECT fs.create_entity('cat_customer', 'int');                      -- different key type
SELECT fs.create_entity('cat_bad', 'json');                          -- no btree ordering
SELECT fs.create_entity('cat_bad', NULL);                            -- null key type
SELECT fs.create_entity('', 'int');                                  -- empty name
SELECT fs.create_entity(NULL, 'int');                                -- null name
SELECT fs.create_entity(repeat('e', 64), 'int');                     -- too long
SELECT fs.create_entity('cat_bad', 'no_such_type');                  -- unknown type
SELECT fs.register_feature_view('cat_v', 'cat_nobody', 'cat_txns', 'customer_id', 'ts');       -- unknown entity
SELECT fs.register_feature_view('cat_v', 'cat_customer', 'cat_missing', 'customer_id', 'ts');  -- unknown table
-- a quoted, qualified name is named once, as PostgreSQL names relations
SELECT fs.register_feature_view('cat_v', 'cat_customer', '"public"."Cat Missing"', 'customer_id', 'ts');
SELECT fs.register_feature_view('cat_v', 'cat_customer', 'SELECT * FROM cat_missing', 'customer_id', 'ts');
SELECT fs.register_feature_view('cat_v', 'cat_customer', 'cat_txns', 'cust', 'ts');            -- no key column
SELECT fs.register_feature_view('cat_v', 'cat_customer', 'cat_txns', 'customer_id', 'time');   -- no ts column
SELECT fs.register_feature_view('cat_v', 'cat_customer', 'cat_txns', 'customer_id', 'amount'); -- ts not a time
SELECT fs.register_feature_view('cat_v', 'cat_customer',
	'SELECT customer_id::int AS customer_id, ts, amount FROM cat_txns', 'customer_id', 'ts');    -- wrong key type
SELECT fs.register_feature_view('cat_v', 'cat_customer',
	'SELECT customer_id, ts FROM cat_txns', 'customer_id', 'ts');                               -- no features
SELECT fs.register_feature_view('cat_v', 'cat_customer',
	'SELECT customer_id, ts, amount, amount FROM cat_txns', 'customer_id', 'ts');               -- duplicate column
SELECT fs.register_feature_view('cat_v', 'cat_customer',
	'SELECT customer_id, ts, now() AS fs_created_at FROM cat_txns', 'customer_id', 'ts');       -- reserved name
SELECT fs.register_feature_view('cat_v', 'cat_customer',
	'SELECT customer_id, ts, amount FROM cat_txns; DROP TABLE cat_txns', 'customer_id', 'ts');  -- two statements
SELECT fs.register_feature_view('cat_v', 'cat_customer',
	'SELECT 1) AS x; DROP TABLE cat_txns; SELECT (1', 'customer_id', 'ts');                     -- breaking out
SELECT fs.register_feature_view('cat_v', 'cat_customer',
	'WITH d AS (DELETE FROM cat_txns RETURNING *) SELECT customer_id, ts, amount FROM d', 'customer_id', 'ts');
SELECT fs.register_feature_view('cat_v', 'cat_customer',
	'SELECT customer_id, ts, amount INTO cat_copy FROM cat_txns', 'customer_id', 'ts');         -- SELECT INTO
SELECT fs.register_feature_view('cat_v', 'cat_customer',
	'SELECT customer_id, ts, amount FROM cat_txns FOR UPDATE', 'customer_id', 'ts');            -- locking
SELECT fs.register_feature_view('cat_v', 'cat_customer', 'DELETE FROM cat_txns', 'customer_id', 'ts');
SELECT fs.register_feature_view('cat_v', 'cat_customer', '  ', 'customer_id', 'ts');           -- empty source
SELECT fs.register_feature_view('cat_v', 'cat_customer', 'cat_txns', 'customer_id', 'customer_id'); -- same column
SELECT fs.register_feature_view('cat_v', 'cat_customer', 'cat_txns', 'customer_id', 'ts', ttl => '-1 day');
SELECT fs.register_feature_view('cat_v', 'cat_customer', 'cat_txns', 'customer_id', 'ts', schedule => '0');
SELECT fs.register_feature_view('cat_v', 'cat_customer', 'cat_txns', 'customer_id', 'ts',
	feature_descriptions => '["not", "an", "object"]');
SELECT fs.register_feature_view('cat_v', 'cat_customer', NULL, 'customer_id', 'ts');
SELECT fs.register_feature_view(repeat('v', 64), 'cat_customer', 'cat_txns', 'customer_id', 'ts');
SELECT fs.register_feature_view('cat_raw', 'cat_device', 'cat_devices', 'device_id', 'seen'); -- other entity
-- a failure after the storage was created rolls back with it
SELECT fs.register_feature_view('cat_v', 'cat_customer',
	'SELECT customer_id, ts, amount, 1/0 AS boom FROM cat_txns', 'customer_id', 'ts');
SELECT (SELECT count(*) FROM fs.views) = views AS no_views_left,
	   (SELECT count(*) FROM fs.view_versions) = versions AS no_versions_left,
	   (SELECT count(*) FROM pg_class WHERE relnamespace = 'fs_data'::regnamespace) = relations AS no_tables_left
  FROM cat_before;

----------------------------------------------------------------------------
-- Dropping
----------------------------------------------------------------------------
SELECT fs.drop_feature_view('cat_nothing');
SELECT fs.drop_feature_view('cat_spend', 99);
-- a view over the storage of version 1 blocks dropping it, unless cascading
CREATE VIEW cat_spend_report AS SELECT * FROM fs_data.cat_spend_v1;
SELECT fs.drop_feature_view('cat_spend', 1);
SELECT fs.drop_feature_view('cat_spend', 1, cascade => true);
SELECT to_regclass('cat_spend_report') AS report_view;
SELECT version FROM fs.feature_views WHERE name = 'cat_spend' ORDER BY version;
-- dropping the latest version: the previous one becomes the latest, and
-- numbering never reuses a version
SELECT fs.drop_feature_view('cat_spend', 4);
SELECT version, is_latest FROM fs.feature_views WHERE name = 'cat_spend' ORDER BY version;
SELECT fs.register_feature_view('cat_spend', 'cat_customer', 'cat_txns', 'customer_id', 'ts');
SELECT fs.drop_entity('cat_customer');
SELECT fs.drop_entity('cat_nobody');
SELECT fs.drop_feature_view('cat_spend');
SELECT count(*) FROM fs.view_versions WHERE view_name = 'cat_spend';
SELECT count(*) FROM pg_class WHERE relnamespace = 'fs_data'::regnamespace AND relname LIKE 'cat\_spend%';
SELECT fs.drop_entity('cat_device', cascade => true);
SELECT name FROM fs.feature_views WHERE entity = 'cat_device';
