-- A new version serves unpinned references (view:feature) only after its
-- first successful materialization; pinned references (view@N) always read
-- their version.
\set SHOW_CONTEXT never
CREATE TABLE sv_events (item_id int, at timestamptz, price float8);
INSERT INTO sv_events VALUES (1, '2024-03-01', 10), (2, '2024-03-01', 20);
SELECT fs.create_entity('sv_item', 'int');

-- one version never materialized: it is what unpinned references read
SELECT fs.register_feature_view('sv_prices', 'sv_item', 'SELECT item_id, at, price FROM sv_events', 'item_id', 'at');
SELECT version, serving, first_success_at IS NULL AS never_run FROM fs.feature_views WHERE name = 'sv_prices';
SELECT key, features FROM fs.online_features(ARRAY['sv_prices:price'], ARRAY[1]);
SELECT rows_written FROM fs.materialize('sv_prices', full => true);
SELECT key, features FROM fs.online_features(ARRAY['sv_prices:price'], ARRAY[1]);

-- version 2 (prices in cents) is registered: until it has been materialized,
-- unpinned reads in this session and retrieval keep serving version 1
SELECT fs.register_feature_view('sv_prices', 'sv_item', 'SELECT item_id, at, price * 100 AS price FROM sv_events',
								'item_id', 'at');
SELECT version, serving, first_success_at IS NOT NULL AS succeeded FROM fs.feature_views
 WHERE name = 'sv_prices' ORDER BY version;
SELECT key, features FROM fs.online_features(ARRAY['sv_prices:price', 'sv_prices@2:price'], ARRAY[1, 2]);
SELECT ref, version FROM fs.resolve_features(ARRAY['sv_prices:price', 'sv_prices@2:price']::fs.feature_ref[]);
CREATE TABLE sv_spine (item_id int, at timestamptz);
INSERT INTO sv_spine VALUES (1, '2024-03-02'), (2, '2024-03-02');
SELECT fs.historical_features('sv_spine', ARRAY['sv_prices:price']::fs.feature_ref[], 'item_id', 'at') AS q \gset
SELECT * FROM (:q) r ORDER BY item_id;

-- a failed run of version 2 does not make it serve
ALTER TABLE sv_events RENAME COLUMN price TO amount;
SELECT rows_written FROM fs.materialize('sv_prices', full => true);
ALTER TABLE sv_events RENAME COLUMN amount TO price;
SELECT key, features FROM fs.online_features(ARRAY['sv_prices:price'], ARRAY[1]);

-- its first success does, in the same session (the cached resolution sees it)
SELECT version, rows_written FROM fs.materialize('sv_prices', full => true);
SELECT version, serving, first_success_at IS NOT NULL AS succeeded FROM fs.feature_views
 WHERE name = 'sv_prices' ORDER BY version;
SELECT key, features FROM fs.online_features(ARRAY['sv_prices:price'], ARRAY[1, 2]);
SELECT fs.historical_features('sv_spine', ARRAY['sv_prices:price']::fs.feature_ref[], 'item_id', 'at') AS q \gset
SELECT * FROM (:q) r ORDER BY item_id;

-- later runs do not change the catalog (the generation stays, so sessions
-- keep their cached online reads)
SELECT generation AS gen_before FROM fs.catalog_state \gset
INSERT INTO sv_events VALUES (3, '2024-03-02', 30);
SELECT rows_written FROM fs.materialize('sv_prices', full => true);
SELECT generation = :gen_before AS generation_unchanged FROM fs.catalog_state;

-- the serving version is the newest that succeeded: dropping it falls back
-- to version 1, which had succeeded
SELECT fs.drop_feature_view('sv_prices', 2);
SELECT version, serving FROM fs.feature_views WHERE name = 'sv_prices';
SELECT key, features FROM fs.online_features(ARRAY['sv_prices:price'], ARRAY[1]);
