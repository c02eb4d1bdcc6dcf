-- A batch into a version whose history is empty is published without
-- looking up earlier rows; a key and event time repeated in it falls back to
-- the general statement.  Either way the history and the online store are
-- what the general statement writes.
\set SHOW_CONTEXT never
CREATE TABLE pf_events (user_id int, at timestamptz, score int, tag text);
INSERT INTO pf_events SELECT g % 7, timestamptz '2024-01-01 00:00+00' + g * interval '1 hour', g * 3 % 11,
	CASE WHEN g % 5 = 0 THEN NULL ELSE 't' || g END
  FROM generate_series(1, 200) g;
SELECT fs.create_entity('pf_user', 'int');
SELECT fs.register_feature_view('pf_first', 'pf_user', 'pf_events', 'user_id', 'at');
SELECT fs.register_feature_view('pf_split', 'pf_user', 'pf_events', 'user_id', 'at');
-- pf_first: one run into empty storage; pf_split: a window first (into empty
-- storage), then the full run into a history that holds rows
SELECT rows_read, rows_written, online_rows FROM fs.materialize('pf_first', full => true);
SELECT rows_read, rows_written, online_rows FROM fs.materialize('pf_split', finish => '2024-01-04 00:00+00');
SELECT rows_read, rows_written, online_rows FROM fs.materialize('pf_split', full => true);
-- the same history and online rows
SELECT (SELECT count(*) FROM fs_data.pf_first_v1) AS first_rows,
	   (SELECT count(*) FROM (SELECT user_id, at, score, tag FROM fs_data.pf_first_v1
							   EXCEPT SELECT user_id, at, score, tag FROM fs_data.pf_split_v1) x) AS first_only,
	   (SELECT count(*) FROM (SELECT user_id, at, score, tag FROM fs_data.pf_split_v1
							   EXCEPT SELECT user_id, at, score, tag FROM fs_data.pf_first_v1) x) AS split_only;
SELECT (SELECT count(*) FROM fs_data.pf_first_v1_online) AS online_keys,
	   (SELECT count(*) FROM (SELECT user_id, at, score, tag FROM fs_data.pf_first_v1_online
							   EXCEPT SELECT user_id, at, score, tag FROM fs_data.pf_split_v1_online) x) AS online_differ,
	   (SELECT bool_and(o.at = (SELECT max(e.at) FROM pf_events e WHERE e.user_id = o.user_id))
		  FROM fs_data.pf_first_v1_online o) AS online_newest;
-- one created time per run, and a rerun writes nothing
SELECT count(DISTINCT fs_created_at) AS created_times FROM fs_data.pf_first_v1;
SELECT rows_read, rows_written, online_rows FROM fs.materialize('pf_first', full => true);

-- identical rows for one key and event time in a first batch count once
CREATE TABLE pf_twice (user_id int, at timestamptz, score int);
INSERT INTO pf_twice VALUES (1, '2024-01-01', 1), (1, '2024-01-01', 1), (2, '2024-01-01', 5), (1, '2024-01-02', 3);
SELECT fs.register_feature_view('pf_twice', 'pf_user', 'pf_twice', 'user_id', 'at');
SELECT rows_read, rows_written, online_rows FROM fs.materialize('pf_twice', full => true);
SELECT user_id, at, score FROM fs_data.pf_twice_v1 ORDER BY 1, 2;
SELECT user_id, at, score FROM fs_data.pf_twice_v1_online ORDER BY 1;
-- different ones are an error naming the key, and nothing is written
INSERT INTO pf_twice VALUES (2, '2024-01-01', 6);
SELECT fs.register_feature_view('pf_clash', 'pf_user', 'pf_twice', 'user_id', 'at');
SELECT * FROM fs.materialize('pf_clash', full => true);
SELECT (SELECT count(*) FROM fs_data.pf_clash_v1) AS history_rows,
	   (SELECT count(*) FROM fs_data.pf_clash_v1_online) AS online_rows;
-- what the fallback relies on: the statement that does not rank the batch
-- fails on the history's primary key rather than writing either row, with
-- and without lookups of earlier rows
DO $$
DECLARE
	vv fs.view_versions := fs_internal.view_version('pf_clash', NULL);
	lookup boolean;
BEGIN
	FOREACH lookup IN ARRAY ARRAY[false, true] LOOP
		BEGIN
			EXECUTE (fs_internal.publish_fast_sql(vv, vv.source_query, NULL, lookup)).history
				USING NULL::timestamptz, NULL::timestamptz, NULL::interval, now(), NULL::jsonb;
			RAISE NOTICE 'published';
		EXCEPTION WHEN unique_violation THEN
			RAISE NOTICE '%: unique_violation (%)', CASE WHEN lookup THEN 'with lookups' ELSE 'without' END, SQLSTATE;
		END;
	END LOOP;
END $$;
-- with a created-time column the newest created row wins, in a first batch too
ALTER TABLE pf_twice ADD COLUMN updated_at timestamptz DEFAULT '2024-01-01';
UPDATE pf_twice SET updated_at = '2024-01-05' WHERE score = 6;
SELECT fs.register_feature_view('pf_created', 'pf_user', 'pf_twice', 'user_id', 'at');
SELECT fs.set_feature_view_options('pf_created', created_column => 'updated_at');
SELECT rows_read, rows_written, online_rows FROM fs.materialize('pf_created', full => true);
SELECT user_id, at, score FROM fs_data.pf_created_v1_online ORDER BY 1;

-- pushes: a first push with a repeated row, then one into a history with rows
SELECT fs.register_feature_view('pf_push', 'pf_user', 'pf_events', 'user_id', 'at');
SELECT rows_read, rows_written, online_rows FROM fs.push('pf_push', '[
	{"user_id": 1, "at": "2024-01-01 10:00+00", "score": 4, "tag": "a"},
	{"user_id": 1, "at": "2024-01-01 10:00+00", "score": 4, "tag": "a"},
	{"user_id": 1, "at": "2024-01-01 09:00+00", "score": 2, "tag": "b"}]');
SELECT rows_read, rows_written, online_rows FROM fs.push('pf_push', '[
	{"user_id": 1, "at": "2024-01-01 10:00+00", "score": 4, "tag": "a"},
	{"user_id": 1, "at": "2024-01-01 11:00+00", "score": 9, "tag": "c"}]');
SELECT user_id, at, score, tag FROM fs_data.pf_push_v1 ORDER BY at;
SELECT user_id, at, score, tag FROM fs_data.pf_push_v1_online;

-- a first batch gated by an expectation: dropped rows stay out
SELECT fs.register_feature_view('pf_gated', 'pf_user', 'pf_events', 'user_id', 'at');
SELECT fs.add_expectation('pf_gated', 'tagged', 'tag IS NOT NULL', 'drop');
SELECT rows_read, rows_written, status FROM fs.materialize('pf_gated', full => true);
SELECT count(*) AS history_rows, count(*) FILTER (WHERE tag IS NULL) AS untagged FROM fs_data.pf_gated_v1;

-- a later batch is not ranked either: a row newer than its key's online row
-- is written without a lookup, the others are looked up (unchanged ones
-- write nothing), also for a key whose online row was deleted by hand
SELECT fs.register_feature_view('pf_later', 'pf_user', 'pf_events', 'user_id', 'at');
SELECT rows_read, rows_written, online_rows FROM fs.materialize('pf_later', full => true);
DELETE FROM fs_data.pf_later_v1_online WHERE user_id = 1;
INSERT INTO pf_events VALUES (1, '2030-01-01', 1, 'new'), (2, '2030-01-01', 2, 'new');
UPDATE pf_events SET score = score + 100 WHERE user_id = 3 AND at = (SELECT min(at) FROM pf_events WHERE user_id = 3);
SELECT rows_read, rows_written, online_rows FROM fs.materialize('pf_later', full => true);
SELECT rows_revised FROM fs.materialization_runs WHERE view_name = 'pf_later' ORDER BY run_id;
SELECT count(*) AS history_rows, count(DISTINCT (user_id, at)) AS keys_and_times FROM fs_data.pf_later_v1;
SELECT user_id, at, score FROM fs_data.pf_later_v1_online WHERE user_id IN (1, 2) ORDER BY 1;

SELECT fs.drop_feature_view(name) FROM fs.views WHERE name LIKE 'pf\_%' ORDER BY name;
SELECT fs.drop_entity('pf_user');
DROP TABLE pf_events, pf_twice;
