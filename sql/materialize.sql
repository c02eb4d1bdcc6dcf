-- Materialization into the history and online stores, and online reads.
\set SHOW_CONTEXT never
CREATE TABLE mat_events (user_id int, at timestamptz, score float8, label text);
SELECT fs.create_entity('mat_user', 'int');
SELECT fs.register_feature_view('mat_scores', 'mat_user', 'mat_events', 'user_id', 'at', ttl => '1 day');

-- event times relative to now, so that the TTL test means something
INSERT INTO mat_events VALUES
	(1, now() - interval '3 days', 0.1, 'a'),
	(1, now() - interval '2 hours', 0.2, 'b'),
	(2, now() - interval '5 days', 0.3, 'c'),
	(3, now() - interval '1 hour', NULL, 'd'),
	(NULL, now(), 9.9, 'no key'),
	(4, NULL, 9.9, 'no time');

-- a window: start <= event time < finish
SELECT version, rows_read, rows_written, online_rows
  FROM fs.materialize('mat_scores', now() - interval '4 days', now() - interval '1 day');
SELECT user_id, score, label FROM fs_data.mat_scores_v1 ORDER BY user_id, at;
-- everything; rows without key or time are skipped
SELECT version, rows_read, rows_written, online_rows FROM fs.materialize('mat_scores', full => true);
SELECT user_id, score, label FROM fs_data.mat_scores_v1 ORDER BY user_id, at;
SELECT user_id, score, label FROM fs_data.mat_scores_v1_online ORDER BY user_id;

-- re-running changes nothing: no rows written, created times unchanged
CREATE TEMP TABLE mat_snapshot AS SELECT * FROM fs_data.mat_scores_v1;
SELECT version, rows_read, rows_written, online_rows FROM fs.materialize('mat_scores', full => true);
SELECT count(*) AS changed_rows FROM (
	SELECT * FROM fs_data.mat_scores_v1 EXCEPT SELECT * FROM mat_snapshot) d;

-- a late correction of an existing event adds a history row (the old one
-- stays: history is append-only) and replaces the online row
UPDATE mat_events SET score = 0.25 WHERE user_id = 1 AND label = 'b';
SELECT rows_read, rows_written, online_rows FROM fs.materialize('mat_scores', full => true);
SELECT user_id, score, label, fs_created_at > (SELECT max(fs_created_at) FROM mat_snapshot) AS newer
  FROM fs_data.mat_scores_v1_online WHERE user_id = 1;

-- a backfill of older events reaches history but never replaces a newer online row
INSERT INTO mat_events VALUES (1, now() - interval '10 days', 0.05, 'old');
SELECT rows_read, rows_written, online_rows
  FROM fs.materialize('mat_scores', now() - interval '11 days', now() - interval '9 days');
SELECT user_id, score, label FROM fs_data.mat_scores_v1_online WHERE user_id = 1;
SELECT count(*) AS history_rows_user_1 FROM fs_data.mat_scores_v1 WHERE user_id = 1;

-- a newer event replaces the online row
INSERT INTO mat_events VALUES (2, now() - interval '1 minute', 0.35, 'c2');
SELECT rows_read, rows_written, online_rows FROM fs.materialize('mat_scores', now() - interval '1 hour');
SELECT user_id, score, label FROM fs_data.mat_scores_v1_online ORDER BY user_id;

-- every run is recorded
SELECT view_name, version, rows_read, rows_written, online_rows, status, trigger,
	   window_start IS NOT NULL AS windowed, duration >= interval '0' AS timed
  FROM fs.materialization_runs WHERE view_name = 'mat_scores' ORDER BY run_id;

-- online reads: one row per key, in request order, JSON null for missing
-- keys and for values older than the TTL (user 2's first event is 5 days old,
-- but it was replaced by a fresh one; user 3 has a NULL score)
SELECT * FROM fs.online_features(ARRAY['mat_scores:score', 'mat_scores:label'], ARRAY[3, 99, 1, 2, 1]);
SELECT * FROM fs.online_features('{mat_scores:*}', ARRAY[2]);
SELECT * FROM fs.online_features(ARRAY['mat_scores@1:score'], ARRAY[]::int[]);
-- keys of an implicitly convertible type are accepted; the result keeps them
SELECT key, pg_typeof(key), features FROM fs.online_features(ARRAY['mat_scores:score'], ARRAY[1::smallint]);
-- a TTL makes stale values null
UPDATE fs_data.mat_scores_v1_online SET at = now() - interval '2 days' WHERE user_id = 3;
SELECT * FROM fs.online_features(ARRAY['mat_scores:label'], ARRAY[3]);

-- several views in one request; keys of another type are refused
CREATE TABLE mat_profile (user_id int, updated date, country text);
INSERT INTO mat_profile VALUES (1, current_date, 'NZ'), (2, current_date - 400, 'FR');
SELECT fs.register_feature_view('mat_profile', 'mat_user', 'mat_profile', 'user_id', 'updated');
SELECT online_rows FROM fs.materialize('mat_profile', full => true);
SELECT * FROM fs.online_features(ARRAY['mat_profile:country', 'mat_scores:score'], ARRAY[1, 2]);
SELECT * FROM fs.online_features(ARRAY['mat_scores:score'], ARRAY['1']);
SELECT * FROM fs.online_features(ARRAY['mat_scores:nope'], ARRAY[1]);
SELECT * FROM fs.online_features(ARRAY['mat_nope:score'], ARRAY[1]);
SELECT * FROM fs.online_features(ARRAY['mat_scores@7:score'], ARRAY[1]);
SELECT * FROM fs.online_features(ARRAY[]::fs.feature_ref[], ARRAY[1]);
SELECT * FROM fs.online_features(ARRAY['mat_scores:score', NULL], ARRAY[1]);

-- many features in one request (more than one jsonb_build_object call)
SELECT fs.register_feature_view('mat_wide', 'mat_user',
	'SELECT 1 AS user_id, now() AS at, ' ||
	(SELECT string_agg(format('%s AS f%s', i, i), ', ') FROM generate_series(1, 60) i),
	'user_id', 'at');
SELECT online_rows FROM fs.materialize('mat_wide', full => true);
SELECT (SELECT count(*) FROM jsonb_object_keys(features)) AS n,
	   features -> 'mat_wide:f1' AS f1, features -> 'mat_wide:f60' AS f60
  FROM fs.online_features('{mat_wide:*}', ARRAY[1]);

-- materialization errors
SELECT * FROM fs.materialize('mat_nope', full => true);
SELECT * FROM fs.materialize(NULL);
SELECT * FROM fs.materialize('mat_scores', '2024-01-02', '2024-01-01');
-- a source with two different rows for one key and event time
CREATE TABLE mat_dups (user_id int, at timestamptz, v int);
INSERT INTO mat_dups VALUES (1, '2024-01-01', 1), (1, '2024-01-01', 2);
SELECT fs.register_feature_view('mat_dups', 'mat_user', 'mat_dups', 'user_id', 'at');
SELECT * FROM fs.materialize('mat_dups', full => true);
SELECT count(*) AS nothing_written FROM fs_data.mat_dups_v1;

-- a dbt-style rebuild: the source table is replaced by renaming, and the next
-- run reads the new one by name
CREATE TABLE mat_model (user_id int, at timestamptz, x int);
INSERT INTO mat_model VALUES (1, '2024-01-01', 10);
SELECT fs.register_feature_view('mat_model', 'mat_user', 'SELECT user_id, at, x FROM mat_model', 'user_id', 'at');
SELECT rows_written FROM fs.materialize('mat_model', full => true);
BEGIN;
CREATE TABLE mat_model__dbt_tmp AS SELECT 1 AS user_id, timestamptz '2024-01-02' AS at, 20 AS x;
ALTER TABLE mat_model RENAME TO mat_model__dbt_backup;
ALTER TABLE mat_model__dbt_tmp RENAME TO mat_model;
COMMIT;
DROP TABLE mat_model__dbt_backup CASCADE;
SELECT rows_written FROM fs.materialize('mat_model', full => true);
SELECT user_id, at, x FROM fs_data.mat_model_v1 ORDER BY at;
SELECT fs.register_feature_view('mat_model', 'mat_user', 'SELECT user_id, at, x FROM mat_model', 'user_id', 'at')
	AS same_version;

-- lookup plans are cached per session, but a catalog change is seen at once
SELECT * FROM fs.online_features(ARRAY['mat_model:x'], ARRAY[1]);
SELECT fs.register_feature_view('mat_model', 'mat_user', 'SELECT user_id, at, x * 10 AS x FROM mat_model',
	'user_id', 'at') AS new_version;
SELECT online_rows FROM fs.materialize('mat_model', full => true);
SELECT * FROM fs.online_features(ARRAY['mat_model:x'], ARRAY[1]);
SELECT * FROM fs.online_features(ARRAY['mat_model@1:x'], ARRAY[1]);
SELECT fs.drop_feature_view('mat_model', 2);
SELECT * FROM fs.online_features(ARRAY['mat_model:x'], ARRAY[1]);
SELECT * FROM fs.online_features(ARRAY['mat_model@2:x'], ARRAY[1]);
-- a TTL changed by the owner directly in the catalog is seen too
UPDATE fs.view_versions SET ttl = '1 day' WHERE view_name = 'mat_model' AND version = 1;
SELECT * FROM fs.online_features(ARRAY['mat_model:x'], ARRAY[1]);

-- character types keep values of any length: the storage spells char(n) as
-- bpchar (not "character", which is char(1)) and varchar(n) as varchar
CREATE TABLE mat_codes (code char(4), at timestamptz, country char(2), name varchar(10), flag "char");
INSERT INTO mat_codes VALUES ('ab', '2024-01-01', 'NZ', 'Aotearoa', 'y');
SELECT fs.create_entity('mat_code', 'char(4)');
SELECT fs.register_feature_view('mat_code_info', 'mat_code', 'mat_codes', 'code', 'at');
SELECT a.attname, format_type(a.atttypid, a.atttypmod)
  FROM fs.feature_views v, pg_attribute a
 WHERE v.name = 'mat_code_info' AND a.attrelid = v.online_relation AND a.attnum > 0 ORDER BY a.attnum;
SELECT rows_written FROM fs.materialize('mat_code_info', full => true);
SELECT * FROM fs.online_features(ARRAY['mat_code_info:*'], ARRAY['ab']::char(4)[]);
