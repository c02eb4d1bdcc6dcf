--
-- history_append_only: the offline store is append-only and bitemporal.  A
-- changed value for an existing key and event time is a new history row with
-- its own created time; nothing is updated or deleted; an unchanged re-run
-- writes nothing; retrieval takes the newest created row of the event time it
-- chooses (with known_at, the newest created by the spine time).
--
\set SHOW_CONTEXT never
SET client_min_messages = warning;
SET timezone = 'UTC';
CREATE SCHEMA hao;
SELECT fs.create_entity('hao_user', 'int');
-- note is json, a type without an equality operator: values compare by their
-- binary image
CREATE TABLE hao.scores (user_id int, at timestamptz, score numeric, note json);
INSERT INTO hao.scores VALUES
	(1, '2024-01-01', 1.0, '{"by": "a"}'), (1, '2024-01-02', 2.0, '{"by": "a"}'), (2, '2024-01-01', 5.0, NULL);
SELECT fs.register_feature_view('hao_scores', 'hao_user', 'hao.scores', 'user_id', 'at');
SELECT rows_read, rows_written, online_rows FROM fs.materialize('hao_scores', full => true);
-- an unchanged re-run writes nothing
SELECT rows_read, rows_written, online_rows FROM fs.materialize('hao_scores', full => true);
-- (the first run happened on 01-03: created times made deterministic for what follows)
UPDATE fs_data.hao_scores_v1 SET fs_created_at = '2024-01-03';
UPDATE fs_data.hao_scores_v1_online SET fs_created_at = '2024-01-03';

-- A correction of (1, 01-02) adds a row; the old one stays.  The online
-- store takes the newest row.
UPDATE hao.scores SET score = 2.5 WHERE user_id = 1 AND at = '2024-01-02';
SELECT rows_read, rows_written, online_rows FROM fs.materialize('hao_scores', full => true);
UPDATE fs_data.hao_scores_v1 SET fs_created_at = '2024-02-01' WHERE fs_created_at > '2024-01-03';
SELECT user_id, at::date, score, fs_created_at::date FROM fs_data.hao_scores_v1 ORDER BY user_id, at, fs_created_at;
SELECT user_id, at::date, score FROM fs_data.hao_scores_v1_online ORDER BY user_id;
-- the same values again: nothing written; a json change is a change
SELECT rows_written FROM fs.materialize('hao_scores', full => true);
UPDATE hao.scores SET note = '{"by": "b"}' WHERE user_id = 1 AND at = '2024-01-01';
SELECT rows_written FROM fs.materialize('hao_scores', full => true);
UPDATE fs_data.hao_scores_v1 SET fs_created_at = '2024-02-15' WHERE fs_created_at > '2024-02-01';
-- A second correction, then back to the first one's value: compared with
-- the newest row, each is a change.
UPDATE hao.scores SET score = 3.0 WHERE user_id = 1 AND at = '2024-01-02';
SELECT rows_written FROM fs.materialize('hao_scores', full => true);
UPDATE fs_data.hao_scores_v1 SET fs_created_at = '2024-03-01' WHERE fs_created_at > '2024-02-15';
UPDATE hao.scores SET score = 2.5 WHERE user_id = 1 AND at = '2024-01-02';
SELECT rows_written FROM fs.materialize('hao_scores', full => true);
UPDATE fs_data.hao_scores_v1 SET fs_created_at = '2024-04-01' WHERE fs_created_at > '2024-03-01';
SELECT user_id, at::date, score, note::text, fs_created_at::date FROM fs_data.hao_scores_v1
 ORDER BY user_id, at, fs_created_at;
-- every run records how many of its rows revise an existing key and event time
SELECT rows_read, rows_written, rows_revised FROM fs.materialization_runs WHERE view_name = 'hao_scores' ORDER BY run_id;

-- Retrieval.  Labels for user 1 after 01-02, at times between the
-- corrections: without known_at each sees the newest row of 01-02 (2.5,
-- created 04-01); with it, the newest created by then: nothing on 01-02 12:00
-- (the first run was on 01-03), then 2.0 (created 01-03), 2.5 (02-01), 3.0
-- (03-01), 2.5 (04-01).  User 2 has one row; label 7 is before everything.
CREATE TABLE hao.labels (id int, user_id int, label_ts timestamptz);
INSERT INTO hao.labels VALUES (1, 1, '2024-01-02 12:00'), (2, 1, '2024-01-10'), (3, 1, '2024-02-10'),
	(4, 1, '2024-03-10'), (5, 1, '2024-04-10'), (6, 2, '2024-01-10'), (7, 1, '2023-12-31');
SELECT fs.historical_features('hao.labels', '{hao_scores:score}', 'user_id', 'label_ts', known_at => true);
CREATE TABLE hao.expected (id int, plain numeric, known numeric);
INSERT INTO hao.expected VALUES (1, 2.5, NULL), (2, 2.5, 2.0), (3, 2.5, 2.5), (4, 2.5, 3.0), (5, 2.5, 2.5),
	(6, 5.0, 5.0), (7, NULL, NULL);
-- The same answers whatever strategy the as-of join runs.
CREATE FUNCTION hao.check(cfg text) RETURNS TABLE (settings text, strategy text, rows bigint, wrong bigint)
LANGUAGE plpgsql AS $$
DECLARE
	s text;
	plain text := fs.historical_features('hao.labels', '{hao_scores:score}', 'user_id', 'label_ts');
	known text := fs.historical_features('hao.labels', '{hao_scores:score}', 'user_id', 'label_ts', known_at => true);
	line text;
BEGIN
	settings := cfg;
	FOREACH s IN ARRAY string_to_array(cfg, ',') LOOP
		PERFORM set_config(split_part(s, '=', 1), split_part(s, '=', 2), true);
	END LOOP;
	strategy := '';
	FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || plain LOOP
		IF line ~ 'Strategy:' THEN
			strategy := btrim(split_part(line, ':', 2));
		END IF;
		IF line ~ 'Sort Key: f1\.' THEN
			strategy := strategy || ' (feature rows sorted: ties in no set order)';
		END IF;
	END LOOP;
	EXECUTE format('SELECT count(*), count(*) FILTER (WHERE p.hao_scores__score IS DISTINCT FROM e.plain
														  OR k.hao_scores__score IS DISTINCT FROM e.known)
					  FROM hao.expected e JOIN (%s) p USING (id) JOIN (%s) k USING (id)', plain, known)
		INTO rows, wrong;
	RETURN NEXT;
END
$$;
SELECT * FROM hao.check('feature_store.asof_strategy=index_probe');
SELECT * FROM hao.check('feature_store.asof_strategy=merge,enable_seqscan=off');
SELECT * FROM hao.check('feature_store.asof_strategy=merge_over_index');
SELECT * FROM hao.check('feature_store.asof_strategy=merge,enable_indexscan=off,enable_indexonlyscan=off,enable_bitmapscan=off');
-- A hand-written join over the history writes the same condition to break
-- ties on event time by created time (README "Append-only history").
SELECT l.id, f.score
  FROM hao.labels l
  LEFT JOIN fs_data.hao_scores_v1 f
	ON f.user_id = l.user_id AND l.label_ts @> f.at
   AND f.fs_created_at <= l.label_ts
   AND f.fs_created_at = (SELECT max(n.fs_created_at) FROM fs_data.hao_scores_v1 n
						   WHERE n.user_id = l.user_id AND n.at = f.at AND n.fs_created_at <= l.label_ts)
 ORDER BY l.id;
-- Drift reads the current rows: one per key and event time (of the 7 rows,
-- users 1 and 2 on 01-01, user 1 on 01-02).
SELECT DISTINCT feature, reference_rows, current_rows
  FROM fs.drift_report('hao_scores', '[2024-01-01, 2024-01-02)', '[2024-01-02, 2024-01-03)', version => 1)
 ORDER BY feature;
-- known_at over a history created entirely after every spine time says so.
SET client_min_messages = notice;
SELECT fs.historical_features('SELECT * FROM hao.labels WHERE label_ts < ''2024-01-03''', '{hao_scores:score}',
							  'user_id', 'label_ts', known_at => true) IS NOT NULL AS generated;
-- ... not when some row was created by then, nor without known_at
SELECT fs.historical_features('hao.labels', '{hao_scores:score}', 'user_id', 'label_ts', known_at => true)
	IS NOT NULL AS generated;
SELECT fs.historical_features('SELECT * FROM hao.labels WHERE label_ts < ''2024-01-03''', '{hao_scores:score}',
							  'user_id', 'label_ts') IS NOT NULL AS generated;
SET client_min_messages = warning;
-- A version that was never revised gets the plain join.
SELECT fs.register_feature_view('hao_scores', 'hao_user', 'SELECT user_id, at, score FROM hao.scores', 'user_id', 'at');
SELECT rows_written FROM fs.materialize('hao_scores', full => true);
SELECT fs.historical_features('hao.labels', '{hao_scores:score}', 'user_id', 'label_ts');

-- Identical source rows for one key and event time count once; different
-- ones are an error naming the key, and nothing is written.
CREATE TABLE hao.dups (user_id int, at timestamptz, score numeric, note json);
INSERT INTO hao.dups VALUES (1, '2024-01-01', 1.0, '[1, 2]'), (1, '2024-01-01', 1.0, '[1, 2]'),
	(2, '2024-01-01', NULL, NULL), (2, '2024-01-01', NULL, NULL), (3, '2024-01-01', 7, NULL);
SELECT fs.register_feature_view('hao_dups', 'hao_user', 'hao.dups', 'user_id', 'at');
SELECT rows_read, rows_written, online_rows FROM fs.materialize('hao_dups', full => true);
SELECT rows_read, rows_written, online_rows FROM fs.materialize('hao_dups', full => true);
INSERT INTO hao.dups VALUES (3, '2024-01-01', 7.0, NULL), (4, '2024-01-02', 1, NULL);
SELECT rows_read, rows_written, online_rows FROM fs.materialize('hao_dups', full => true);
SELECT count(*) AS history_rows FROM fs_data.hao_dups_v1;
-- (7 and 7.0 are equal numbers but different values: not the same row)

-- Materialization never updates or deletes history rows.
CREATE TABLE hao.touched (op text);
CREATE FUNCTION hao.touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO hao.touched VALUES (TG_OP);
	RETURN NULL;
END
$$;
CREATE TRIGGER touch AFTER UPDATE OR DELETE ON fs_data.hao_scores_v2 FOR EACH ROW EXECUTE FUNCTION hao.touch();
UPDATE hao.scores SET score = score + 1;
SELECT rows_written FROM fs.materialize('hao_scores', full => true);
SELECT count(*) AS updates_or_deletes FROM hao.touched;
DROP TRIGGER touch ON fs_data.hao_scores_v2;

DROP SCHEMA hao CASCADE;
SELECT fs.drop_entity('hao_user', cascade => true);
