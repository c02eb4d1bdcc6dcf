-- Empty inputs say so: fs.drift with a side that has nothing to compare, and
-- fs.drift_report with a window that holds no rows, give a NOTICE.
\set SHOW_CONTEXT never
SET timezone = 'UTC';
CREATE TEMP TABLE drift_empty_p AS
SELECT (SELECT fs.profile(g::float8) FROM generate_series(1, 100) g) AS num,
       (SELECT fs.profile(g::float8) FROM generate_series(1, 0) g) AS num_no_rows,
       (SELECT fs.profile(v) FROM unnest('{NULL,NULL,NULL}'::float8[]) v) AS num_nulls,
       (SELECT fs.profile(v) FROM unnest('{NaN,Infinity,NULL}'::float8[]) v) AS num_nonfinite,
       (SELECT fs.profile(v) FROM unnest('{a,b,a}'::text[]) v) AS txt,
       (SELECT fs.profile(v) FROM unnest('{}'::text[]) v) AS txt_no_rows,
       (SELECT fs.profile(v) FROM unnest('{NULL}'::text[]) v) AS txt_null;

-- two profiles with values: no notice
SELECT count(*) AS metrics, count(value) AS with_value FROM drift_empty_p, fs.drift(num, num);

-- a profile of no rows, on either side: every metric and verdict NULL, and a notice
SELECT metric, value, threshold, drifted FROM drift_empty_p, fs.drift(num, num_no_rows);
SELECT metric, value, drifted FROM drift_empty_p, fs.drift(num_no_rows, num);
-- rows, but nothing to compare: NULLs only; for numbers, no finite value
SELECT count(*) AS metrics, count(value) AS with_value FROM drift_empty_p, fs.drift(num_nulls, num);
SELECT count(*) AS metrics, count(value) AS with_value FROM drift_empty_p, fs.drift(num, num_nonfinite);
-- both sides empty: one notice each
SELECT count(*) AS metrics, count(value) AS with_value FROM drift_empty_p, fs.drift(num_no_rows, num_nulls);
-- text profiles
SELECT metric, value, drifted FROM drift_empty_p, fs.drift(txt, txt_no_rows);
SELECT count(*) AS metrics, count(value) AS with_value FROM drift_empty_p, fs.drift(txt_null, txt);
-- a profile of no rows still has a kind: comparing kinds is checked first
SELECT * FROM drift_empty_p, fs.drift(num_no_rows, txt_no_rows);

-- fs.drift_report: a window with no rows returns no rows and says which window
CREATE TABLE drift_empty_events (user_id int, at timestamptz, amount float8, note text);
INSERT INTO drift_empty_events
SELECT u, '2024-03-01 00:00:00+00'::timestamptz + d * interval '1 day' + u * interval '1 minute',
       u * 1.5 + d, CASE WHEN d < 5 THEN NULL ELSE 'n' || (u % 3) END
  FROM generate_series(0, 9) d, generate_series(1, 20) u;
SELECT fs.create_entity('drift_empty_user', 'int');
SELECT fs.register_feature_view('drift_empty_v', 'drift_empty_user', 'drift_empty_events', 'user_id', 'at');
-- nothing materialized yet: the history is empty
SELECT count(*) FROM fs.drift_report('drift_empty_v', '[2024-03-01, 2024-03-05)', '[2024-03-05, 2024-03-11)');
SELECT rows_written FROM fs.materialize('drift_empty_v', full => true);
-- both windows hold rows
SELECT feature, count(*) AS metrics, count(value) AS with_value, min(reference_rows) AS reference_rows,
       min(current_rows) AS current_rows
  FROM fs.drift_report('drift_empty_v', '[2024-03-01, 2024-03-05)', '[2024-03-05, 2024-03-11)')
 GROUP BY feature ORDER BY feature;
-- the current window is after the data, the reference window before it, both, an empty range
SELECT count(*) FROM fs.drift_report('drift_empty_v', '[2024-03-01, 2024-03-05)', '[2024-04-01, 2024-04-02)');
SELECT count(*) FROM fs.drift_report('drift_empty_v', '[2024-02-01, 2024-02-05)', '[2024-03-05, 2024-03-11)');
SELECT count(*) FROM fs.drift_report('drift_empty_v', '[2024-02-01, 2024-02-05)', '[2024-04-01, 2024-04-02)');
SELECT count(*) FROM fs.drift_report('drift_empty_v', '[2024-03-01, 2024-03-05)', 'empty');
-- rows in both windows, but a feature that is NULL in every reference row:
-- its metrics are NULL, fs.drift says so, the other feature is compared
SELECT feature, metric, round(value::numeric, 3) AS value, drifted, reference_rows, current_rows
  FROM fs.drift_report('drift_empty_v', '[2024-03-01, 2024-03-05)', '[2024-03-05, 2024-03-11)')
 WHERE metric = 'psi' ORDER BY feature;

DROP TABLE drift_empty_events;
SELECT fs.drop_feature_view('drift_empty_v');
SELECT fs.drop_entity('drift_empty_user');
