-- Where a batch is gated: a source that reads the same rows twice is gated
-- by the statement that publishes it (no copy into the stage); one that may
-- read other rows (a volatile function, an unrepeatable sample) is staged
-- and gated there; a batch that fails a block or a drop is staged whatever
-- its source.  The outcome is the same on both paths.
\set SHOW_CONTEXT never
SET client_min_messages = warning;

-- which sources read the same rows twice in one snapshot
CREATE TABLE gp_events (k int, ts timestamptz, v float8);
CREATE VIEW gp_stable_view AS SELECT k, ts, v FROM gp_events WHERE ts <= now();
CREATE VIEW gp_random_view AS SELECT k, ts, v FROM gp_events WHERE random() >= 0;
CREATE SEQUENCE gp_seq;
SELECT q, fs_internal.source_rereadable(q) AS rereadable FROM (VALUES
	('SELECT * FROM gp_events'),
	('SELECT k, ts, v * 2 AS v FROM gp_events WHERE ts > now() - interval ''1 year'''),
	('SELECT * FROM gp_stable_view'),
	('WITH x AS (SELECT * FROM gp_events) SELECT * FROM x'),
	('SELECT k, ts, avg(v) AS v FROM gp_events GROUP BY k, ts'),
	('SELECT * FROM gp_random_view'),
	('SELECT k, clock_timestamp() AS ts, v FROM gp_events'),
	('SELECT k, ts, v FROM gp_events WHERE k IN (SELECT nextval(''gp_seq'')::int)'),
	('SELECT * FROM gp_events TABLESAMPLE BERNOULLI (50)'),
	('SELECT * FROM gp_events TABLESAMPLE BERNOULLI (50) REPEATABLE (7)'),
	('SELECT * FROM gp_events FOR UPDATE')) AS t(q);

-- materializing: the stage's inserts counted in this transaction tell the
-- path (counted since its start: counts of earlier ones may be pending)
CREATE FUNCTION gp_staged_rows(view text) RETURNS bigint LANGUAGE sql AS $$
	SELECT coalesce(sum(s.n_tup_ins), 0) FROM pg_stat_xact_user_tables s
	  JOIN fs.view_versions vv ON vv.stage_relid = s.relid WHERE vv.view_name = view
$$;
INSERT INTO gp_events SELECT g % 10, timestamptz '2024-01-01' + g * interval '1 hour', g FROM generate_series(1, 100) g;
SELECT fs.create_entity('gp_key', 'int');
SELECT fs.register_feature_view('gp_table', 'gp_key', 'gp_events', 'k', 'ts');
SELECT fs.register_feature_view('gp_random', 'gp_key', 'gp_random_view', 'k', 'ts');
SELECT fs.add_expectation(view, 'v_positive', 'v > 0', 'block'), fs.add_expectation(view, 'v_small', 'v < 100', 'warn'),
	   fs.add_expectation(view, 'enough', 'count(*) >= 10', 'block')
  FROM unnest(ARRAY['gp_table', 'gp_random']) view;

-- a clean batch (one row fails a warn: published, recorded)
BEGIN;
SELECT gp_staged_rows('gp_table') AS staged_before \gset
SELECT status, rows_read, rows_written, online_rows FROM fs.materialize('gp_table', full => true);
SELECT gp_staged_rows('gp_table') - :staged_before AS staged;
COMMIT;
BEGIN;
SELECT gp_staged_rows('gp_random') AS staged_before \gset
SELECT status, rows_read, rows_written, online_rows FROM fs.materialize('gp_random', full => true);
SELECT gp_staged_rows('gp_random') - :staged_before AS staged;
COMMIT;
SELECT view_name, expectation, rows_checked, rows_failing, observed, passed, action
  FROM fs.expectation_results WHERE view_name LIKE 'gp\_%' ORDER BY view_name, expectation;
-- the same history on both paths, and the stage is left empty
SELECT count(*) AS differing FROM (
	(SELECT k, ts, v FROM fs_data.gp_table_v1 EXCEPT SELECT k, ts, v FROM fs_data.gp_random_v1)
	UNION ALL (SELECT k, ts, v FROM fs_data.gp_random_v1 EXCEPT SELECT k, ts, v FROM fs_data.gp_table_v1)) d;
SELECT (SELECT count(*) FROM fs_data.gp_table_v1_stage) + (SELECT count(*) FROM fs_data.gp_random_v1_stage) AS staged_left;

-- incremental, into a history that holds rows: changed values are revised
UPDATE gp_events SET v = v + 0.5 WHERE k = 3;
BEGIN;
SELECT gp_staged_rows('gp_table') AS staged_before \gset
SELECT status, rows_read, rows_written, online_rows FROM fs.materialize('gp_table', full => true);
SELECT gp_staged_rows('gp_table') - :staged_before AS staged;
COMMIT;

-- a failing block: the gate in the publishing statement writes nothing, and
-- the batch is staged, blocked and quarantined as on the staged path
INSERT INTO gp_events VALUES (1, '2024-06-01', -1);
BEGIN;
SELECT gp_staged_rows('gp_table') AS staged_before \gset
SELECT status, rows_read, rows_written, online_rows FROM fs.materialize('gp_table', full => true);
SELECT gp_staged_rows('gp_table') - :staged_before > 0 AS staged;
COMMIT;
SELECT count(*) AS history_rows_after_block, max(ts) < '2024-06-01' AS newest_not_published FROM fs_data.gp_table_v1;
SELECT fs_failed_expectations FROM fs_data.gp_table_v1_quarantine WHERE k = 1 AND ts = '2024-06-01';

-- a push is gated while it is published too
SELECT fs.drop_expectation('gp_table', 'enough');
BEGIN;
SELECT gp_staged_rows('gp_table') AS staged_before \gset
SELECT rows_read, rows_written, status FROM fs.push('gp_table', '[{"k": 42, "ts": "2024-07-01", "v": 5}]');
SELECT gp_staged_rows('gp_table') - :staged_before AS staged;
COMMIT;
SELECT rows_read, rows_written, status FROM fs.push('gp_table', '[{"k": 43, "ts": "2024-07-01", "v": -5}]');
SELECT k, v FROM fs_data.gp_table_v1_online WHERE k IN (42, 43) ORDER BY k;

SELECT fs.drop_feature_view('gp_table'), fs.drop_feature_view('gp_random');
SELECT fs.drop_entity('gp_key');
DROP FUNCTION gp_staged_rows(text);
DROP VIEW gp_stable_view, gp_random_view;
DROP TABLE gp_events;
DROP SEQUENCE gp_seq;
