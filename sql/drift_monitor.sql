-- Drift reports over feature views, and drift monitors
\set SHOW_CONTEXT never
SET timezone = 'UTC';
CREATE TABLE drift_mon_events (user_id int, at timestamptz, amount float8, country text, n int);
SELECT fs.create_entity('drift_mon_user', 'int');
SELECT fs.register_feature_view('drift_mon_txn', 'drift_mon_user', 'drift_mon_events', 'user_id', 'at');

-- 20 days of 500 events each (2024-01-01 .. 2024-01-20, UTC); from 2024-01-15
-- amounts are scaled by 1.5 and country 'fr' takes 15% from 'de'
INSERT INTO drift_mon_events
SELECT u, '2024-01-01 00:00:00+00'::timestamptz + (d - 1) * interval '1 day' + u * interval '1 minute',
       (50 + 10 * sqrt(-2 * ln(1 - ((d * 500 + u) * 0.6180339887498949::float8
                                    - floor((d * 500 + u) * 0.6180339887498949::float8))))
                  * cos(2 * pi() * ((d * 500 + u) * 0.41421356237309503::float8
                                    - floor((d * 500 + u) * 0.41421356237309503::float8))))
         * CASE WHEN d >= 15 THEN 1.5 ELSE 1 END,
       CASE WHEN u % 20 < 12 THEN 'us' WHEN u % 20 < 16 OR (d >= 15 AND u % 20 < 19) THEN 'fr' ELSE 'de' END,
       CASE WHEN u % 7 = 0 THEN NULL ELSE u % 5 END
FROM generate_series(1, 20) d, generate_series(1, 500) u;
SELECT rows_written FROM fs.materialize('drift_mon_txn', full => true);

-- a report over every feature: two stable weeks, then a stable week against the shifted one
SELECT feature, kind, metric, round(value::numeric, 3) AS value, threshold, drifted, reference_rows, current_rows
FROM fs.drift_report('drift_mon_txn', '[2024-01-01, 2024-01-08)', '[2024-01-08, 2024-01-15)');
SELECT feature, metric, round(value::numeric, 3) AS value, drifted
FROM fs.drift_report('drift_mon_txn', '[2024-01-01, 2024-01-08)', '[2024-01-15, 2024-01-21)')
WHERE metric IN ('psi', 'wasserstein_norm', 'l_infinity');
-- an empty current window gives no values
SELECT feature, metric, value, drifted, current_rows
FROM fs.drift_report('drift_mon_txn', '[2024-01-01, 2024-01-08)', '[2030-01-01, 2030-01-02)')
WHERE metric = 'psi';
SELECT * FROM fs.drift_report('drift_mon_nope', '[2024-01-01, 2024-01-08)', '[2024-01-08, 2024-01-15)');
SELECT * FROM fs.drift_report('drift_mon_txn', NULL, '[2024-01-08, 2024-01-15)');

-- a monitor: reference = the first week; checks each later complete UTC day
SELECT fs.create_drift_monitor('drift_mon_m', 'drift_mon_txn', '[2024-01-01, 2024-01-08)',
                               channel => 'drift_mon_channel');
-- idempotent
SELECT fs.create_drift_monitor('drift_mon_m', 'drift_mon_txn', '[2024-01-01, 2024-01-08)',
                               channel => 'drift_mon_channel');
SELECT name, view_name, version, reference, features, metrics, channel, last_checked_day
FROM fs.drift_monitors WHERE name = 'drift_mon_m';
-- as of 2024-01-12 10:00 UTC: days 01-08 .. 01-11 are complete and stable
SELECT * FROM fs.run_drift_monitors('2024-01-12 10:00:00+00') WHERE monitor = 'drift_mon_m';
SELECT count(*) AS daily_profiles, min(day), max(day) FROM fs.drift_profiles WHERE view_name = 'drift_mon_txn';
-- nothing new: nothing to do
SELECT * FROM fs.run_drift_monitors('2024-01-12 23:00:00+00') WHERE monitor = 'drift_mon_m';
-- as of 2024-01-17: 01-12 .. 01-16 are checked, the shifted days 15 and 16 raise
-- alerts (their NOTIFY is tested in test/isolation/specs/drift_notify.spec)
SELECT * FROM fs.run_drift_monitors('2024-01-17 00:00:00+00') WHERE monitor = 'drift_mon_m';
SELECT monitor, feature, day, metric, round(value::numeric, 3) AS value, threshold, severity
FROM fs.drift_alerts WHERE monitor = 'drift_mon_m' ORDER BY day, feature, metric;
SELECT monitor, view, last_checked_day, alerts, last_alert_day FROM fs.drift_monitor_status
WHERE monitor = 'drift_mon_m';
-- daily profiles roll up: the reference week equals profiling the week at once
SELECT fs.profile_merge(profile)::text = (SELECT fs.profile(amount) FROM fs_data.drift_mon_txn_v1
                                           WHERE at >= '2024-01-01 00:00+00' AND at < '2024-01-08 00:00+00')::text
       AS week_same
FROM fs.drift_profiles WHERE feature = 'amount' AND day < '2024-01-08';
-- a new version of the view: the monitor (following the latest version) starts
-- over from the new version's reference week
SELECT fs.register_feature_view('drift_mon_txn', 'drift_mon_user',
                                'SELECT user_id, at, amount, country FROM drift_mon_events', 'user_id', 'at');
SELECT rows_written FROM fs.materialize('drift_mon_txn', full => true);
SELECT * FROM fs.run_drift_monitors('2024-01-17 00:00:00+00') WHERE monitor = 'drift_mon_m';
SELECT version, count(*) FROM fs.drift_alerts WHERE monitor = 'drift_mon_m' GROUP BY 1 ORDER BY 1;

-- bad monitors
SELECT fs.create_drift_monitor('drift_mon_bad', 'drift_mon_txn', '[2024-01-01,)');
SELECT fs.create_drift_monitor('drift_mon_bad', 'drift_mon_txn', '[2024-01-01, 2024-01-08)', features => '{amount,nope}');
SELECT fs.create_drift_monitor('drift_mon_bad', 'drift_mon_txn', '[2024-01-01, 2024-01-08)', metrics => '{psi,magic}');
SELECT fs.create_drift_monitor('drift_mon_bad', 'drift_mon_nope', '[2024-01-01, 2024-01-08)');
-- privileges: only members of the owner role change or run a monitor; profiles
-- and reports need SELECT on the history table
CREATE ROLE regress_drift_mon_other;
SET ROLE regress_drift_mon_other;
SELECT fs.create_drift_monitor('drift_mon_m', 'drift_mon_txn', '[2024-01-01, 2024-01-03)');
SELECT fs.drop_drift_monitor('drift_mon_m');
SELECT * FROM fs.run_drift_monitors('2024-01-18 00:00:00+00') WHERE monitor = 'drift_mon_m';
SELECT count(*) FROM fs.drift_report('drift_mon_txn', '[2024-01-01, 2024-01-08)', '[2024-01-08, 2024-01-15)');
INSERT INTO fs.drift_profiles (view_name, version, feature, day, profile)
SELECT 'drift_mon_txn', 2, 'amount', '2030-01-01', fs.profile(1::float8);
RESET ROLE;
DROP ROLE regress_drift_mon_other;

SELECT fs.drop_drift_monitor('drift_mon_m');
SELECT fs.drop_drift_monitor('drift_mon_m');
