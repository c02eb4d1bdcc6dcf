-- Materialization into storage Citus distributes (publish_distributed,
-- src/sql/distribute.sql), checked without Citus: a stand-in
-- pg_dist_partition lists one view's history and stage, which sends its
-- batches down the distributed path (separate statements from the stage) on
-- local tables.  A twin view over the same source takes the one-node path
-- (the source is a query: it runs under the view's search_path);
-- the two must write the same rows and report the same counts.
\set SHOW_CONTEXT never
CREATE TABLE md_events (user_id int, at timestamptz, score float8, label text, updated_at timestamptz);
INSERT INTO md_events
SELECT u, timestamptz '2024-01-01 00:00+00' + d * interval '1 hour', u * 1.5 + d, 'l' || (u % 7),
	   timestamptz '2024-01-01 00:00+00'
  FROM generate_series(1, 50) u, generate_series(0, 9) d;
-- identical rows count once
INSERT INTO md_events SELECT * FROM md_events WHERE user_id <= 3;
SELECT fs.create_entity('md_user', 'int');
SELECT fs.register_feature_view('md_one', 'md_user', 'SELECT * FROM md_events', 'user_id', 'at', available_after => '1 minute');
SELECT fs.register_feature_view('md_dist', 'md_user', 'SELECT * FROM md_events', 'user_id', 'at', available_after => '1 minute');

-- the rows of a relation of a version, without what differs between the
-- twins (created and quarantined times are replaced by their rank, run ids left out)
CREATE FUNCTION md_rows(rel regclass, ordered text, omit text[]) RETURNS SETOF jsonb
LANGUAGE plpgsql AS $$
BEGIN
	RETURN QUERY EXECUTE format('SELECT (pg_catalog.to_jsonb(t) - $1) '
								'|| jsonb_build_object(''rank'', dense_rank() OVER (ORDER BY t.%I)) FROM %s t', ordered, rel)
		USING omit;
END;
$$;
-- rows of one twin missing from the other, both ways
CREATE FUNCTION md_differences(what text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	a regclass;
	b regclass;
	ordered text := CASE what WHEN 'quarantine' THEN 'fs_quarantined_at' ELSE 'fs_created_at' END;
	omit text[] := ARRAY['fs_created_at', 'fs_quarantined_at', 'fs_run_id'];
BEGIN
	SELECT CASE what WHEN 'history' THEN history_relation WHEN 'online' THEN online_relation
					 ELSE quarantine_relation END INTO a FROM fs.feature_views WHERE name = 'md_one';
	SELECT CASE what WHEN 'history' THEN history_relation WHEN 'online' THEN online_relation
					 ELSE quarantine_relation END INTO b FROM fs.feature_views WHERE name = 'md_dist';
	RETURN (SELECT count(*) FROM ((SELECT * FROM md_rows(a, ordered, omit) EXCEPT ALL SELECT * FROM md_rows(b, ordered, omit))
								  UNION ALL
								  (SELECT * FROM md_rows(b, ordered, omit) EXCEPT ALL SELECT * FROM md_rows(a, ordered, omit))) d);
END;
$$;
-- both twins materialized over one window, with their counts
CREATE FUNCTION md_materialize(start timestamptz DEFAULT NULL, finish timestamptz DEFAULT NULL)
RETURNS TABLE (view text, rows_read bigint, rows_written bigint, online_rows bigint, status text, revised bigint)
LANGUAGE plpgsql AS $$
DECLARE
	v text;
	m record;
BEGIN
	FOREACH v IN ARRAY ARRAY['md_one', 'md_dist'] LOOP
		m := fs.materialize(v, start, finish, full => start IS NULL AND finish IS NULL);
		RETURN QUERY SELECT v, m.rows_read, m.rows_written, m.online_rows, m.status,
							(SELECT r.rows_revised FROM fs.materialization_runs r WHERE r.view_name = v
							  ORDER BY r.run_id DESC LIMIT 1);
	END LOOP;
END;
$$;
-- both twins pushed the same rows
CREATE FUNCTION md_push(rows jsonb)
RETURNS TABLE (view text, rows_read bigint, rows_written bigint, online_rows bigint, status text)
LANGUAGE sql AS $$
	SELECT 'md_one', p.rows_read, p.rows_written, p.online_rows, p.status FROM fs.push('md_one', rows) p
	UNION ALL
	SELECT 'md_dist', p.rows_read, p.rows_written, p.online_rows, p.status FROM fs.push('md_dist', rows) p
$$;

SET allow_system_table_mods = on;
CREATE TABLE pg_catalog.pg_dist_partition (logicalrelid regclass, partmethod "char");
RESET allow_system_table_mods;
INSERT INTO pg_catalog.pg_dist_partition VALUES ('fs_data.md_dist_v1', 'h'), ('fs_data.md_dist_v1_online', 'h');
-- distributed storage is published from its stage, which must be distributed too
SELECT * FROM fs.materialize('md_dist', full => true);
SELECT fs_internal.write('ensure_quarantine', v) FROM unnest(ARRAY['md_one', 'md_dist']) v;
CREATE VIEW md_check AS
SELECT md_differences('history') AS history_differences, md_differences('online') AS online_differences,
	   md_differences('quarantine') AS quarantine_differences,
	   (SELECT count(*) FROM fs_data.md_dist_v1) AS history_rows,
	   (SELECT count(*) FROM fs_data.md_dist_v1_quarantine) AS quarantined_rows;
INSERT INTO pg_catalog.pg_dist_partition VALUES ('fs_data.md_dist_v1_stage', 'h'), ('fs_data.md_dist_v1_quarantine', 'h');

-- a full run, then an unchanged one that writes nothing
SELECT * FROM md_materialize();
SELECT * FROM md_check;
SELECT * FROM md_materialize();
SELECT * FROM md_check;
-- changed values over a window revise history; older events never replace
-- newer online rows
UPDATE md_events SET score = -score WHERE user_id IN (4, 5) AND at >= timestamptz '2024-01-01 05:00+00';
SELECT * FROM md_materialize(timestamptz '2024-01-01 04:00+00', timestamptz '2024-01-01 08:00+00');
SELECT * FROM md_check;
INSERT INTO md_events VALUES (6, timestamptz '2023-12-31 00:00+00', 1, 'old', timestamptz '2024-01-01 00:00+00');
SELECT * FROM md_materialize(NULL, timestamptz '2024-01-01 00:00+00');
SELECT * FROM md_check;
SELECT * FROM md_materialize();
SELECT * FROM md_check;

-- different rows for one key and event time: the same error, naming the key
INSERT INTO md_events VALUES (7, timestamptz '2024-01-01 03:00+00', 99, 'l0', timestamptz '2024-01-02 00:00+00');
SELECT * FROM fs.materialize('md_one', full => true);
SELECT * FROM fs.materialize('md_dist', full => true);
-- a created-time column resolves it: the newest created row wins
SELECT fs.set_feature_view_options(v, created_column => 'updated_at') FROM unnest(ARRAY['md_one', 'md_dist']) v;
SELECT * FROM md_materialize();
SELECT * FROM md_check;
SELECT score FROM fs_data.md_dist_v1 WHERE user_id = 7 AND at = timestamptz '2024-01-01 03:01+00';

-- expectations: a batch is gated in the stage and published from it
SELECT fs.add_expectation(v, 'small', 'score < 80', 'drop') FROM unnest(ARRAY['md_one', 'md_dist']) v;
UPDATE md_events SET score = score + 70 WHERE user_id = 8;
SELECT * FROM md_materialize();
SELECT * FROM md_check;
SELECT fs.add_expectation(v, 'labelled', 'label IS NOT NULL') FROM unnest(ARRAY['md_one', 'md_dist']) v;
UPDATE md_events SET label = NULL, score = 1 WHERE user_id = 9;
SELECT * FROM md_materialize();
SELECT * FROM md_check;
SELECT fs.drop_expectation(v, 'labelled') FROM unnest(ARRAY['md_one', 'md_dist']) v;

-- pushes: identical rows count once, the newer created row wins, dropped rows
-- are quarantined, and a newer event replaces the online row
SELECT * FROM md_push('[
	{"user_id": 10, "at": "2024-02-01 00:00+00", "score": 1, "label": "p", "updated_at": "2024-02-01 00:00+00"},
	{"user_id": 10, "at": "2024-02-01 00:00+00", "score": 1, "label": "p", "updated_at": "2024-02-01 00:00+00"},
	{"user_id": 11, "at": "2024-02-01 00:00+00", "score": 2, "label": "p", "updated_at": "2024-02-01 00:00+00"},
	{"user_id": 11, "at": "2024-02-01 00:00+00", "score": 3, "label": "p", "updated_at": "2024-02-02 00:00+00"},
	{"user_id": 12, "at": "2024-02-01 00:00+00", "score": 500, "label": "p", "updated_at": "2024-02-01 00:00+00"}]');
SELECT * FROM md_check;
SELECT fs.drop_expectation(v, 'small') FROM unnest(ARRAY['md_one', 'md_dist']) v;
SELECT * FROM md_push('[{"user_id": 13, "at": "2024-02-01 00:00+00", "score": 4, "label": "p", "updated_at": null}]');
SELECT * FROM md_check;
-- a push identical to history writes nothing
SELECT * FROM md_push('[{"user_id": 13, "at": "2024-02-01 00:00+00", "score": 4, "label": "p", "updated_at": null}]');
-- the stage is empty between batches
SELECT (SELECT count(*) FROM fs_data.md_dist_v1_stage) AS staged_rows;

DROP TABLE pg_catalog.pg_dist_partition;
DROP VIEW md_check;
DROP FUNCTION md_differences(text);
DROP FUNCTION md_rows(regclass, text, text[]);
DROP FUNCTION md_materialize(timestamptz, timestamptz);
DROP FUNCTION md_push(jsonb);
SELECT fs.drop_feature_view(v) FROM unnest(ARRAY['md_one', 'md_dist']) v;
SELECT fs.drop_entity('md_user');
DROP TABLE md_events;
