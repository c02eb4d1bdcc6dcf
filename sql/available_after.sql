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
SELECT version, rows_read, rows_written, online_rows FROM fs.materialize('aa_daily', full => true);
SELECT version, rows_read, rows_written, online_rows FROM fs.materialize('aa_daily_start', full => true);
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
SELECT rows_written FROM fs.materialize('aa_visits', full => true);
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
SELECT online_rows FROM fs.materialize('aa_score_raw', full => true);
SELECT online_rows FROM fs.materialize('aa_score', full => true);
SELECT * FROM fs.online_features('{aa_score_raw:score, aa_score:score}', ARRAY[1]);

-- Registration warns where the mistake is likely: the event time is a
-- truncated time (date_trunc, date_bin, a cast to date) in a query that
-- aggregates rows (aggregates, GROUP BY, window functions, DISTINCT), and
-- the view has no available_after.  The hint names the window's length.
SET client_min_messages = notice;
SELECT fs.register_feature_view('aa_w1', 'aa_customer',
	$$SELECT customer_id, date_trunc('day', ts) AS day, sum(amount) AS spend FROM aa.txn GROUP BY 1, 2$$,
	'customer_id', 'day');
\set VERBOSITY terse
-- ... a week in a view (a dbt model), a month in a CTE, a day in a time zone
CREATE VIEW aa.weekly AS
	SELECT customer_id, date_trunc('week', ts, 'Europe/Paris') AS week, count(*) AS n FROM aa.txn GROUP BY 1, 2;
SELECT fs.register_feature_view('aa_w2', 'aa_customer', 'aa.weekly', 'customer_id', 'week');
SELECT fs.register_feature_view('aa_w3', 'aa_customer',
	$$WITH m AS (SELECT customer_id, date_trunc('month', ts AT TIME ZONE 'UTC') AS month, max(amount) AS top
				   FROM aa.txn GROUP BY 1, 2)
	  SELECT * FROM m$$, 'customer_id', 'month');
-- ... fifteen-minute bins; days as dates under a rolling window; the last
-- row of each day
SELECT fs.register_feature_view('aa_w4', 'aa_customer',
	$$SELECT customer_id, date_bin('15 minutes', ts, '2024-01-01') AS slot, count(*) AS n FROM aa.txn GROUP BY 1, 2$$,
	'customer_id', 'slot');
SELECT fs.register_feature_view('aa_w5', 'aa_customer',
	$$SELECT customer_id, day, sum(spend) OVER (PARTITION BY customer_id ORDER BY day
											   ROWS BETWEEN 6 PRECEDING AND CURRENT ROW) AS spend_7rows
		FROM (SELECT customer_id, ts::date AS day, sum(amount) AS spend FROM aa.txn GROUP BY 1, 2) d$$,
	'customer_id', 'day');
SELECT fs.register_feature_view('aa_w6', 'aa_customer',
	$$SELECT DISTINCT ON (customer_id, ts::date) customer_id, ts::date::timestamptz AS day, amount AS last_amount
		FROM aa.txn ORDER BY customer_id, ts::date, ts DESC$$,
	'customer_id', 'day');
-- No warning: available_after set; the window's end as event time; a
-- truncation without aggregation; an aggregated time that is no truncation;
-- grouping by the time itself; a truncation elsewhere than the event time;
-- a date column of a table (what it holds cannot be known).
SELECT fs.register_feature_view('aa_n1', 'aa_customer',
	$$SELECT customer_id, date_trunc('day', ts) AS day, sum(amount) AS spend FROM aa.txn GROUP BY 1, 2$$,
	'customer_id', 'day', available_after => '1 day');
SELECT fs.register_feature_view('aa_n2', 'aa_customer',
	$$SELECT customer_id, date_trunc('day', ts) + interval '1 day' AS day_end, sum(amount) AS spend
		FROM aa.txn GROUP BY 1, 2$$,
	'customer_id', 'day_end');
SELECT fs.register_feature_view('aa_n3', 'aa_customer',
	$$SELECT customer_id, date_trunc('second', ts) AS ts, amount FROM aa.txn$$, 'customer_id', 'ts');
SELECT fs.register_feature_view('aa_n4', 'aa_customer',
	$$SELECT customer_id, max(ts) AS last_ts, count(*) AS n FROM aa.txn GROUP BY 1$$, 'customer_id', 'last_ts');
SELECT fs.register_feature_view('aa_n5', 'aa_customer',
	$$SELECT customer_id, ts, sum(amount) AS spend FROM aa.txn GROUP BY 1, 2$$, 'customer_id', 'ts');
SELECT fs.register_feature_view('aa_n6', 'aa_customer',
	$$SELECT customer_id, max(ts) AS last_ts, date_trunc('day', max(ts)) AS last_day, count(*) AS n
		FROM aa.txn GROUP BY 1$$, 'customer_id', 'last_ts');
SELECT fs.register_feature_view('aa_n7', 'aa_customer', 'aa.daily', 'customer_id', 'day');
\set VERBOSITY default
SET client_min_messages = warning;

DROP SCHEMA aa CASCADE;
SELECT fs.drop_entity('aa_customer', cascade => true);
