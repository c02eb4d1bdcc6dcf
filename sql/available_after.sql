--
-- available_after: an event time is the time a row's values are known.  A
-- daily aggregate stamped at the start of its day holds events from the
-- whole day; available_after => '1 day' stamps it at the day's end, in the
-- history and online tables, so every path (retrieval, hand-written joins,
-- online TTL) sees the same time.
--
SET client_min_messages = warning;
SET timezone = 'UTC';
CREATE SCHEMA aa;
SELECT fs.create_entity('aa_customer', 'int');
CREATE TABLE aa.txn (customer_id int, ts timestamptz, amount int);
INSERT INTO aa.txn VALUES
	(1, '2024-01-01 09:00', 5), (1, '2024-01-01 15:00', 7), (1, '2024-01-02 10:00', 1);

-- The same daily sums, stamped at the start of the day and at its end.
SELECT fs.register_feature_view('aa_daily_start', 'aa_customer',
	$$SELECT customer_id, date_trunc('day', ts) AS day, sum(amount) AS spend FROM aa.txn GROUP BY 1, 2$$,
	'customer_id', 'day');
SELECT fs.register_feature_view('aa_daily', 'aa_customer',
	$$SELECT customer_id, date_trunc('day', ts) AS day, sum(amount) AS spend FROM aa.txn GROUP BY 1, 2$$,
	'customer_id', 'day', available_after => '1 day');
SELECT name, version, available_after FROM fs.feature_views WHERE name LIKE 'aa\_%' ORDER BY name;

-- The window selects on the source's event time: [01-01, 01-02) is day
-- 01-01, stored at 01-02 00:00.
SELECT version, rows_read, rows_written, online_rows FROM fs.materialize('aa_daily', '2024-01-01', '2024-01-02');
SELECT customer_id, day, spend FROM fs_data.aa_daily_v1 ORDER BY day;
SELECT version, rows_read, rows_written, online_rows FROM fs.materialize('aa_daily');
SELECT version, rows_read, rows_written, online_rows FROM fs.materialize('aa_daily_start');
SELECT customer_id, day, spend FROM fs_data.aa_daily_v1 ORDER BY day;
SELECT customer_id, day, spend FROM fs_data.aa_daily_v1_online;

-- Labels at 01-01 12:00 (the 15:00 purchase has not happened yet) and at
-- 01-02 12:00.  Stamped at the start, the first label sees the whole day
-- 01-01 (12, the 15:00 purchase included: a leak) and the second day 01-02
-- (1); stamped at the end, the first sees nothing yet and the second sees
-- day 01-01 (12).
CREATE TABLE aa.labels (customer_id int, label_ts timestamptz);
INSERT INTO aa.labels VALUES (1, '2024-01-01 12:00'), (1, '2024-01-02 12:00');
SELECT format('SELECT * FROM (%s) AS r ORDER BY label_ts',
			  fs.historical_features('aa.labels', '{aa_daily_start:spend, aa_daily:spend}',
									 'customer_id', 'label_ts')) \gexec
-- A hand-written join reads the same stored times, so it gives the same rows.
SELECT l.label_ts, f.spend
  FROM aa.labels l LEFT JOIN fs_data.aa_daily_v1 f ON f.customer_id = l.customer_id AND l.label_ts @> f.day
 ORDER BY l.label_ts;

-- Part of the definition: an equal interval is the same version, another
-- one a new version; 0 is the same as none.
SELECT fs.register_feature_view('aa_daily', 'aa_customer',
	$$SELECT customer_id, date_trunc('day', ts) AS day, sum(amount) AS spend FROM aa.txn GROUP BY 1, 2$$,
	'customer_id', 'day', available_after => '24 hours') AS same_version;
SELECT fs.register_feature_view('aa_daily', 'aa_customer',
	$$SELECT customer_id, date_trunc('day', ts) AS day, sum(amount) AS spend FROM aa.txn GROUP BY 1, 2$$,
	'customer_id', 'day', available_after => '1 day 6 hours') AS new_version;
SELECT fs.register_feature_view('aa_daily_start', 'aa_customer',
	$$SELECT customer_id, date_trunc('day', ts) AS day, sum(amount) AS spend FROM aa.txn GROUP BY 1, 2$$,
	'customer_id', 'day', available_after => '0') AS same_version;
SELECT name, version, available_after FROM fs.feature_views WHERE name LIKE 'aa\_%' ORDER BY name, version;

-- Dates: whole days only (24 hours count as one), never negative.
CREATE TABLE aa.daily (customer_id int, day date, visits int);
INSERT INTO aa.daily VALUES (1, '2024-01-01', 3);
SELECT fs.register_feature_view('aa_visits', 'aa_customer', 'aa.daily', 'customer_id', 'day',
								 available_after => '1 day');
SELECT rows_written FROM fs.materialize('aa_visits');
SELECT customer_id, day, visits FROM fs_data.aa_visits_v1;
\set VERBOSITY terse
SELECT fs.register_feature_view('aa_visits', 'aa_customer', 'aa.daily', 'customer_id', 'day',
								 available_after => '12 hours');
SELECT fs.register_feature_view('aa_visits', 'aa_customer', 'aa.daily', 'customer_id', 'day',
								 available_after => '-1 day');
\set VERBOSITY default

-- Online: the TTL counts from the stored time.  A row whose event is 30
-- hours old but known only 6 hours ago is fresh under a 1-day TTL.
CREATE TABLE aa.scores (customer_id int, ts timestamptz, score float8);
INSERT INTO aa.scores VALUES (1, now() - interval '30 hours', 0.5);
SELECT fs.register_feature_view('aa_score_raw', 'aa_customer', 'aa.scores', 'customer_id', 'ts', ttl => '1 day');
SELECT fs.register_feature_view('aa_score', 'aa_customer', 'aa.scores', 'customer_id', 'ts', ttl => '1 day',
								 available_after => '1 day');
SELECT online_rows FROM fs.materialize('aa_score_raw');
SELECT online_rows FROM fs.materialize('aa_score');
SELECT * FROM fs.online_features('{aa_score_raw:score, aa_score:score}', ARRAY[1]);

DROP SCHEMA aa CASCADE;
SELECT fs.drop_entity('aa_customer', cascade => true);
