-- Streaming ingestion: fs.push and the push relation write history and the
-- online store in the caller's transaction, with materialization's rules
-- (identical rows count once, different rows for one key and event time are
-- an error, the newest event time wins online), gated by row expectations,
-- and add nothing to the run log.
\set SHOW_CONTEXT never
CREATE ROLE regress_push_owner;
CREATE ROLE regress_push_other;
CREATE TABLE push_events (user_id int, at timestamptz, clicks int, device text);
ALTER TABLE push_events OWNER TO regress_push_owner;
SET ROLE regress_push_owner;
SELECT fs.create_entity('push_user', 'int');
SELECT fs.register_feature_view('push_clicks', 'push_user', 'push_events', 'user_id', 'at');

SELECT * FROM fs.push('push_clicks', '[{"user_id": 1, "at": "2024-01-01 10:00+00", "clicks": 3, "device": "ios"},
	{"user_id": 2, "at": "2024-01-01 10:00+00", "clicks": 5, "device": "web"}]');
SELECT user_id, at, clicks, device FROM fs_data.push_clicks_v1_online ORDER BY 1;
-- newest wins online: an older event pushed later goes to history only
SELECT * FROM fs.push('push_clicks', '[{"user_id": 1, "at": "2024-01-01 09:00+00", "clicks": 1, "device": "ios"},
	{"user_id": 1, "at": "2024-01-01 11:00+00", "clicks": 4, "device": "ios"}]');
SELECT user_id, at, clicks FROM fs_data.push_clicks_v1_online ORDER BY 1;
SELECT user_id, at, clicks FROM fs_data.push_clicks_v1 ORDER BY 1, 2;
-- at-least-once delivery: a repeated push and duplicates in one push write nothing new
SELECT * FROM fs.push('push_clicks', '[{"user_id": 2, "at": "2024-01-01 10:00+00", "clicks": 5, "device": "web"},
	{"user_id": 2, "at": "2024-01-01 10:00+00", "clicks": 5, "device": "web"}]');
-- a revision of an event is a new history row (bitemporal), and the online value
SELECT * FROM fs.push('push_clicks', '[{"user_id": 2, "at": "2024-01-01 10:00+00", "clicks": 6, "device": "web"}]');
SELECT user_id, at, clicks FROM fs_data.push_clicks_v1 WHERE user_id = 2 ORDER BY fs_created_at;
SELECT user_id, clicks FROM fs_data.push_clicks_v1_online WHERE user_id = 2;
-- different rows for one key and event time in one push: an error naming it, nothing written
SELECT * FROM fs.push('push_clicks', '[{"user_id": 3, "at": "2024-01-01 10:00+00", "clicks": 1, "device": "web"},
	{"user_id": 3, "at": "2024-01-01 10:00+00", "clicks": 2, "device": "web"}]');
SELECT count(*) FROM fs_data.push_clicks_v1 WHERE user_id = 3;
-- one transaction: a push rolled back leaves nothing
BEGIN;
SELECT rows_written FROM fs.push('push_clicks', '[{"user_id": 4, "at": "2024-01-01 10:00+00", "clicks": 1, "device": "web"}]');
ROLLBACK;
SELECT count(*) FROM fs_data.push_clicks_v1 WHERE user_id = 4;
SELECT count(*) FROM fs_data.push_clicks_v1_online WHERE user_id = 4;
-- pushes add no run to the run log
SELECT count(*) AS runs FROM fs.materialization_runs WHERE view_name = 'push_clicks';

-- bad input
SELECT * FROM fs.push('push_clicks', '{"user_id": 1}');
SELECT * FROM fs.push('push_clicks', '[1, 2]');
SELECT * FROM fs.push('push_clicks', '[{"user_id": "x", "at": "2024-01-01", "clicks": 1}]');
SELECT * FROM fs.push('push_nope', '[]');
SELECT * FROM fs.push('push_clicks', NULL);
SELECT * FROM fs.push('push_clicks', '[]', version => 7);
SELECT * FROM fs.push('push_clicks', '[]');
RESET ROLE;
SET ROLE regress_push_other;
SELECT * FROM fs.push('push_clicks', '[{"user_id": 9, "at": "2024-01-01", "clicks": 1}]');
SELECT fs.push_relation('push_clicks');
RESET ROLE;

-- the push relation: INSERTs and COPY push each statement's rows, and the
-- relation stays empty
SET ROLE regress_push_owner;
SELECT fs.push_relation('push_clicks') AS rel \gset
SELECT :'rel' AS push_relation, (SELECT push_relation FROM fs.feature_views WHERE name = 'push_clicks') = :'rel'::regclass AS listed;
SELECT fs.push_relation('push_clicks')::text = :'rel' AS same_relation;
INSERT INTO fs_data.push_clicks_v1_push VALUES (5, '2024-01-02 10:00+00', 7, 'web'), (5, '2024-01-02 10:00+00', 7, 'web');
COPY fs_data.push_clicks_v1_push FROM stdin;
6	2024-01-02 10:00:00+00	8	ios
1	2024-01-02 10:00:00+00	9	ios
\.
SELECT user_id, at, clicks FROM fs_data.push_clicks_v1_online ORDER BY 1;
SELECT count(*) AS left_in_push_relation FROM fs_data.push_clicks_v1_push;
INSERT INTO fs_data.push_clicks_v1_push VALUES (7, '2024-01-02 10:00+00', 1, 'web'), (7, '2024-01-02 10:00+00', 2, 'web');
SELECT count(*) FROM fs_data.push_clicks_v1 WHERE user_id = 7;

-- expectations gate pushes: row conditions with each severity (batch
-- conditions are for materialization batches, not for pushes)
SELECT fs.add_expectation('push_clicks', 'clicks_present', 'clicks IS NOT NULL', 'drop');
SELECT fs.add_expectation('push_clicks', 'device_known', $$device IN ('ios', 'web')$$, 'warn');
SELECT fs.add_expectation('push_clicks', 'clicks_sane', 'coalesce(clicks, 0) < 1000', 'block');
SELECT fs.add_expectation('push_clicks', 'enough', 'count(*) > 100', 'block');
SELECT * FROM fs.push('push_clicks', '[{"user_id": 10, "at": "2024-01-03 10:00+00", "clicks": 1, "device": "tv"},
	{"user_id": 11, "at": "2024-01-03 10:00+00", "device": "web"}]');
SELECT user_id, clicks, device FROM fs_data.push_clicks_v1_online WHERE user_id >= 10 ORDER BY 1;
SELECT run_id, trigger, expectation, rows_checked, rows_failing, action FROM fs.expectation_results
 WHERE view_name = 'push_clicks' ORDER BY result_id;
SELECT * FROM fs.push('push_clicks', '[{"user_id": 12, "at": "2024-01-03 10:00+00", "clicks": 5000, "device": "ios"},
	{"user_id": 13, "at": "2024-01-03 10:00+00", "clicks": 1, "device": "ios"}]');
SELECT count(*) FROM fs_data.push_clicks_v1 WHERE user_id IN (12, 13);
SELECT expectation, rows_checked, rows_failing, action FROM fs.expectation_results
 WHERE view_name = 'push_clicks' AND action = 'blocked';
SELECT fs_run_id, fs_failed_expectations, user_id, clicks, device FROM fs_data.push_clicks_v1_quarantine ORDER BY user_id;
-- (a row that failed nothing itself was kept out because its batch was blocked)
-- through the push relation too
INSERT INTO fs_data.push_clicks_v1_push VALUES (14, '2024-01-03 10:00+00', NULL, 'ios'), (15, '2024-01-03 10:00+00', 2, 'ios');
SELECT user_id, clicks FROM fs_data.push_clicks_v1_online WHERE user_id IN (14, 15) ORDER BY 1;
SELECT count(*) AS runs FROM fs.materialization_runs WHERE view_name = 'push_clicks';

-- a version only pushed to serves unpinned references from its first
-- published push, as a first successful run makes a version serve
SELECT fs.register_feature_view('push_clicks', 'push_user',
	'SELECT user_id, at, clicks * 10 AS clicks, device FROM push_events', 'user_id', 'at') AS version;
SELECT version, serving, first_success_at IS NOT NULL AS published FROM fs.feature_views
 WHERE name = 'push_clicks' ORDER BY version;
SELECT status, rows_written FROM fs.push('push_clicks', '[{"user_id": 20, "at": "2024-01-04 10:00+00", "clicks": 70, "device": "web"}]');
SELECT version, serving, first_success_at IS NOT NULL AS published FROM fs.feature_views
 WHERE name = 'push_clicks' ORDER BY version;
SELECT * FROM fs.online_features('{push_clicks:clicks}', ARRAY[20]);

SELECT fs.drop_feature_view('push_clicks');
SELECT count(*) FROM pg_class WHERE relnamespace = 'fs_data'::regnamespace AND relname LIKE 'push\_clicks%';
RESET ROLE;
DROP TABLE push_events;
SELECT fs.drop_entity('push_user');
DROP ROLE regress_push_owner;
DROP ROLE regress_push_other;
