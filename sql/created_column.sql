-- A created-time column resolves conflicting rows for one key and event time:
-- the newest created row wins (on materialization and on pushes); rows that
-- tie on it with different values are still an error naming the key.
\set SHOW_CONTEXT never
CREATE TABLE cc_events (user_id int, at timestamptz, score int, updated_at timestamptz);
INSERT INTO cc_events VALUES
	(1, '2024-01-01 10:00+00', 1, '2024-01-01 10:00+00'),
	(1, '2024-01-01 10:00+00', 2, '2024-01-01 12:00+00'),	-- a correction, created later
	(2, '2024-01-01 10:00+00', 5, '2024-01-01 10:00+00');
SELECT fs.create_entity('cc_user', 'int');
SELECT fs.register_feature_view('cc_scores', 'cc_user', 'cc_events', 'user_id', 'at');
-- without one, the conflict is an error naming the key
SELECT * FROM fs.materialize('cc_scores', full => true);
SELECT fs.set_feature_view_options('cc_scores', created_column => 'nope');
SELECT fs.set_feature_view_options('cc_scores', created_column => 'updated_at');
SELECT view_name, created_column FROM fs.view_options;
SELECT * FROM fs.materialize('cc_scores', full => true);
SELECT user_id, score, updated_at FROM fs_data.cc_scores_v1 ORDER BY 1;
SELECT user_id, score FROM fs_data.cc_scores_v1_online ORDER BY 1;
-- a push with an older correction loses to the newer one in the push
SELECT rows_written FROM fs.push('cc_scores', '[
	{"user_id": 2, "at": "2024-01-01 10:00+00", "score": 7, "updated_at": "2024-01-02 00:00+00"},
	{"user_id": 2, "at": "2024-01-01 10:00+00", "score": 6, "updated_at": "2024-01-01 23:00+00"}]');
SELECT user_id, score FROM fs_data.cc_scores_v1_online ORDER BY 1;
-- rows that tie on the created time with different values are still an error
SELECT * FROM fs.push('cc_scores', '[
	{"user_id": 3, "at": "2024-01-01 10:00+00", "score": 1, "updated_at": "2024-01-01 10:00+00"},
	{"user_id": 3, "at": "2024-01-01 10:00+00", "score": 2, "updated_at": "2024-01-01 10:00+00"}]');
-- cleared with ''
SELECT fs.set_feature_view_options('cc_scores', created_column => '');
SELECT created_column IS NULL AS cleared FROM fs.view_options WHERE view_name = 'cc_scores';
SELECT * FROM fs.materialize('cc_scores', full => true);
SELECT fs.drop_feature_view('cc_scores');
SELECT fs.drop_entity('cc_user');
DROP TABLE cc_events;
