-- fs.materialize(view) without a window is incremental, as the worker's
-- runs are: it reads event times from the newest one materialized minus the
-- view's lateness.  The first run, and full => true, read the whole source;
-- a window is a backfill.  With available_after the newest event time is
-- taken back to source time.
\set SHOW_CONTEXT never
SET timezone = 'UTC';
CREATE TABLE mi_events (k int, ts timestamptz, v int);
INSERT INTO mi_events SELECT g % 5, timestamptz '2024-01-01 00:00+00' + g * interval '10 minutes', g
  FROM generate_series(1, 100) g;
SELECT fs.create_entity('mi_key', 'int');
SELECT fs.register_feature_view('mi', 'mi_key', 'mi_events', 'k', 'ts');

-- the first run reads everything (the newest event time is then 16:40)
SELECT rows_read, rows_written FROM fs.materialize('mi');
-- a new row, a late one within the lateness (1 hour) and one beyond it
INSERT INTO mi_events VALUES (1, '2024-01-01 16:50+00', 1000), (2, '2024-01-01 16:30+00', 2000),
	(3, '2024-01-01 12:00+00', 3000);
SELECT rows_read, rows_written FROM fs.materialize('mi');
SELECT window_start, window_finish, rows_read, rows_written FROM fs.materialization_runs
 WHERE view_name = 'mi' ORDER BY run_id;
SELECT count(*) AS beyond_lateness_materialized FROM fs_data.mi_v1 WHERE v = 3000;
-- a full run catches it, and writes nothing else
SELECT rows_read, rows_written FROM fs.materialize('mi', full => true);
-- a window is a backfill of that window
INSERT INTO mi_events VALUES (4, '2024-01-01 01:00+00', 4000);
SELECT rows_read, rows_written FROM fs.materialize('mi', timestamptz '2024-01-01 00:30+00', timestamptz '2024-01-01 01:30+00');
-- a window and full => true together are refused
SELECT fs.materialize('mi', timestamptz '2024-01-01', full => true);
-- the view's lateness sets how far back a run reads
SELECT fs.set_feature_view_options('mi', lateness => '6 hours');
INSERT INTO mi_events VALUES (4, '2024-01-01 12:00+00', 5000);
SELECT rows_read, rows_written FROM fs.materialize('mi');
SELECT window_start FROM fs.materialization_runs WHERE view_name = 'mi' ORDER BY run_id DESC LIMIT 1;

-- with available_after, rows are stamped a day after their source time: the
-- next run still reads from the newest source time minus the lateness
SELECT fs.register_feature_view('mi_after', 'mi_key', 'mi_events', 'k', 'ts', available_after => '1 day');
SELECT rows_written FROM fs.materialize('mi_after');
INSERT INTO mi_events VALUES (0, '2024-01-01 17:00+00', 6000);
SELECT rows_read, rows_written FROM fs.materialize('mi_after');
SELECT window_start FROM fs.materialization_runs WHERE view_name = 'mi_after' ORDER BY run_id DESC LIMIT 1;
SELECT k, ts, v FROM fs_data.mi_after_v1_online WHERE k = 0;

SELECT fs.drop_feature_view('mi'), fs.drop_feature_view('mi_after');
SELECT fs.drop_entity('mi_key');
DROP TABLE mi_events;
