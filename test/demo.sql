-- The main job, end to end, on the generated demo dataset (test/data/demo_data.sql).
-- psql variables: export_dir, where the training set is exported (kept after the
-- demo); summary_file, where the closing summary line is written.
\set ON_ERROR_STOP on
\pset footer off
SELECT date_trunc('day', now()) - interval '90 days' AS base \gset

\echo
\echo '== 1. Entities and feature views'
\o /dev/null
SELECT fs.create_entity('customer', 'bigint', 'a card holder');
\o

-- Daily aggregates are stamped at the END of their day (day_end): the total of
-- day D is known at D+1 00:00.  Stamped at D 00:00 it would be used for a
-- label at D 09:00, which must not see D's later transactions.
SELECT fs.register_feature_view('customer_profile', 'customer',
	$$SELECT customer_id, signup_date::timestamptz AS updated_at, country, segment, age FROM customers$$,
	'customer_id', 'updated_at', description => 'static attributes of the customer', owner => 'crm-team',
	tags => '{profile}') AS customer_profile_version,
	fs.register_feature_view('txn_daily', 'customer',
	$$SELECT customer_id, date_trunc('day', ts) + interval '1 day' AS day_end,
	         sum(amount) AS spend_1d, count(*) AS txns_1d, max(amount) AS max_txn_1d
	    FROM transactions GROUP BY 1, 2$$,
	'customer_id', 'day_end', ttl => '7 days', schedule => '1 hour',
	description => 'daily card activity', owner => 'risk-team', tags => '{transactions,daily}',
	feature_descriptions => '{"spend_1d": "total spend that day", "txns_1d": "number of transactions that day"}')
	AS txn_daily_version,
	fs.register_feature_view('txn_rolling', 'customer',
	$$SELECT customer_id, day_end,
	         sum(spend) OVER w AS spend_7d, sum(n) OVER w AS txns_7d,
	         sum(spend) FILTER (WHERE category_online) OVER w AS online_spend_7d
	    FROM (SELECT customer_id, date_trunc('day', ts) + interval '1 day' AS day_end, sum(amount) AS spend,
	                 count(*) AS n, bool_or(category = 'online') AS category_online
	            FROM transactions GROUP BY 1, 2) d
	  WINDOW w AS (PARTITION BY customer_id ORDER BY day_end RANGE BETWEEN interval '6 days' PRECEDING AND CURRENT ROW)$$,
	'customer_id', 'day_end', ttl => '30 days', schedule => '1 hour',
	description => 'seven-day rolling card activity', owner => 'risk-team', tags => '{transactions,rolling}')
	AS txn_rolling_version \gset

-- dbt calls registration on every run: an unchanged definition is a no-op
SELECT fs.register_feature_view('customer_profile', 'customer',
	$$SELECT customer_id, signup_date::timestamptz AS updated_at, country, segment, age FROM customers$$,
	'customer_id', 'updated_at') AS customer_profile_again \gset
\echo 'registered customer_profile v':customer_profile_version', txn_daily v':txn_daily_version', txn_rolling v':txn_rolling_version
\echo 'registering customer_profile again with the same definition (as dbt does on every run) returns v':customer_profile_again': no new version'

SELECT name, version, entity, features, ttl, schedule, owner, history_relation, online_relation
  FROM fs.feature_views ORDER BY name;

\echo
\echo '== 2. Materialization: txn_daily month by month, then the other views whole'
SELECT 'txn_daily' AS view, m + 1 AS month, r.*
  FROM generate_series(0, 2) AS m,
	   LATERAL fs.materialize('txn_daily', timestamptz :'base' + m * interval '30 days',
							  CASE WHEN m < 2 THEN timestamptz :'base' + (m + 1) * interval '30 days' END) AS r;
\echo '(online_rows: keys whose online value the run changed; customers who churned in a month'
\echo ' have no newer rows, so fewer change each month.  The last window is open-ended.)'
SELECT 'customer_profile' AS view, * FROM fs.materialize('customer_profile')
UNION ALL
SELECT 'txn_rolling', * FROM fs.materialize('txn_rolling');
\echo 're-running the last window writes nothing: its rows are already there, unchanged'
SELECT 'txn_daily' AS view, * FROM fs.materialize('txn_daily', timestamptz :'base' + interval '60 days');

SELECT view_name, version, rows_read, rows_written, online_rows, status, duration
  FROM fs.materialization_runs ORDER BY run_id;
SELECT relname AS storage, pg_size_pretty(pg_total_relation_size(relid)) AS size, n_live_tup AS rows
  FROM pg_stat_user_tables WHERE schemaname = 'fs_data' ORDER BY relname;

\echo
\echo '== 3. Online serving: one round trip per prediction request'
SELECT key AS customer_id, jsonb_pretty(features) AS features
  FROM fs.online_features(ARRAY['customer_profile:segment', 'txn_rolling:spend_7d', 'txn_rolling:txns_7d',
								'txn_daily:spend_1d'], ARRAY[1, 2, 424242]::bigint[]);
SELECT c.churner AS one_churned, c.churn_day, (current_date - max(t.ts)::date) AS one_idle_days
  FROM customers c JOIN transactions t USING (customer_id)
 WHERE customer_id = 1 GROUP BY c.churner, c.churn_day \gset
\if :one_churned
\echo 'why the nulls: customer 1 churned on day ':churn_day' of 90 and has bought nothing for ':one_idle_days' days,'
\echo 'longer than the TTLs of txn_daily (7 days) and txn_rolling (30 days), so those values are too old'
\echo 'to serve; its profile has no TTL.  Customer 424242 does not exist: every value is null.'
\else
\echo 'customer 424242 does not exist: every value is null'
\endif

-- time requests for random customers in the server, after a warm-up
DO $$
DECLARE
	n int := 2000;
	t0 timestamptz;
	k bigint;
BEGIN
	PERFORM * FROM fs.online_features('{txn_rolling:*,customer_profile:*}', ARRAY[1]::bigint[]);
	t0 := clock_timestamp();
	FOR i IN 1 .. n LOOP
		k := 1 + (i * 7919) % 10000;
		PERFORM * FROM fs.online_features('{txn_rolling:*,customer_profile:*}', ARRAY[k]);
	END LOOP;
	PERFORM set_config('demo.online_us', round(extract(epoch FROM clock_timestamp() - t0) * 1e6 / n)::text, false);
	PERFORM set_config('demo.online_n', n::text, false);
END $$;
SELECT current_setting('demo.online_us') AS online_us, current_setting('demo.online_n') AS online_n \gset
\echo 'online_features, 6 features of 2 views for 1 key: ':online_us' us per request in the server (':online_n' requests)'

\echo
\echo '== 4. A point-in-time training set: each label sees only features from before its time'
SELECT fs.historical_features('churn_labels',
	ARRAY['customer_profile:country', 'customer_profile:segment', 'customer_profile:age',
		  'txn_rolling:*', 'txn_daily:spend_1d'],
	key_column => 'customer_id', ts_column => 'label_ts') AS training_sql \gset
\echo 'generated retrieval SQL:'
\echo :training_sql
EXPLAIN (COSTS OFF) :training_sql;
SELECT clock_timestamp() AS t0 \gset
CREATE TABLE churn_training AS :training_sql;
SELECT round(extract(epoch FROM clock_timestamp() - :'t0') * 1000) AS training_ms \gset
\echo 'CREATE TABLE churn_training AS <that SQL>: ':training_ms' ms'
SELECT count(*) AS rows, round(avg(churned::int), 3) AS churn_rate,
	   count(txn_rolling__spend_7d) AS with_spend_7d, count(txn_daily__spend_1d) AS with_spend_1d
  FROM churn_training \gset
SELECT :rows AS rows, :churn_rate AS churn_rate, :with_spend_7d AS with_spend_7d, :with_spend_1d AS with_spend_1d;
\echo '(a label gets no spend_1d when its customer bought nothing on the day before it, none'
\echo ' within the 7-day TTL; no spend_7d when nothing within the 30-day TTL, as for churned customers)'
SELECT customer_id, label_ts::date, churned, customer_profile__segment AS segment,
	   round(txn_rolling__spend_7d, 2) AS spend_7d, txn_rolling__txns_7d AS txns_7d
  FROM churn_training ORDER BY customer_id, label_ts LIMIT 6;
\echo 'what a naive join to the latest (online) values would have leaked: feature rows from after the label time'
SELECT count(*) AS labels, count(*) FILTER (WHERE o.day_end > l.label_ts) AS naive_rows_from_the_future
  FROM churn_labels l JOIN fs_data.txn_rolling_v1_online o USING (customer_id) \gset
SELECT :labels AS labels, :naive_rows_from_the_future AS naive_rows_from_the_future;
\echo 'and what stamping daily aggregates at the start of their day (date_trunc, no available_after) would'
\echo 'have leaked with an inclusive match (event time <= label time, most feature stores'' default): labels'
\echo 'whose same-day row, stamped at or before the label, holds purchases made at or after the label time'
SELECT count(*) AS start_of_day_leaks
  FROM churn_labels l
 WHERE EXISTS (SELECT FROM transactions t
				WHERE t.customer_id = l.customer_id AND t.ts >= l.label_ts
				  AND t.ts < date_trunc('day', l.label_ts) + interval '1 day') \gset
SELECT :start_of_day_leaks AS start_of_day_leaks;
\echo '(day_end stamps, used here, make those rows known only when their day is over: 0 such leaks)'
\echo 'the training set agrees with the LATERAL formulation, row for row (strict: day_end < label time):'
SELECT count(*) AS rows_differing_from_lateral
  FROM churn_training t
  LEFT JOIN LATERAL (SELECT r.spend_7d FROM fs_data.txn_rolling_v1 r
					  WHERE r.customer_id = t.customer_id AND r.day_end < t.label_ts
						AND r.day_end >= t.label_ts - interval '30 days'
					  ORDER BY r.day_end DESC LIMIT 1) x ON true
 WHERE x.spend_7d IS DISTINCT FROM t.txn_rolling__spend_7d \gset
SELECT :rows_differing_from_lateral AS rows_differing_from_lateral;
SELECT :rows_differing_from_lateral = 0 AS lateral_ok \gset
\if :lateral_ok
\else
DO $$BEGIN RAISE EXCEPTION 'the training set differs from the LATERAL formulation: the demo failed'; END $$;
\endif

\echo 'stored as a versioned, compressed training set (the same retrieval, with an 80/10/10 split by customer):'
SELECT fs.create_training_set('churn', 'churn_labels',
	ARRAY['customer_profile:country', 'customer_profile:segment', 'customer_profile:age',
		  'txn_rolling:*', 'txn_daily:spend_1d'],
	key_column => 'customer_id', ts_column => 'label_ts',
	split => '{"train": 0.8, "validation": 0.1, "test": 0.1}',
	description => 'churn within the demo''s label window') AS churn_version \gset
\echo 'its manifest (fs.training_sets):'
\x on
SELECT name, version, relation, row_count, split_rows, chunk_groups, compression_level,
	   pg_size_pretty(stored_bytes) AS stored, pg_size_pretty(pg_total_relation_size('churn_training')) AS as_heap_table,
	   checksum, spine_hash, spine, key_column, ts_column, options, created_by
  FROM fs.training_sets WHERE name = 'churn' AND version = :churn_version;
\x off
SELECT column_name, type, kind, view_name, view_version
  FROM fs.training_set_columns WHERE name = 'churn' AND version = :churn_version ORDER BY position;
SELECT relation AS churn_relation FROM fs.training_sets WHERE name = 'churn' AND version = :churn_version \gset
SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) AS churn_columns
  FROM pg_attribute WHERE attrelid = 'churn_training'::regclass AND attnum > 0 AND NOT attisdropped \gset
SELECT (SELECT count(*) FROM (SELECT * FROM churn_training EXCEPT ALL SELECT :churn_columns FROM :churn_relation) a)
	 + (SELECT count(*) FROM (SELECT :churn_columns FROM :churn_relation EXCEPT ALL SELECT * FROM churn_training) b)
	   AS set_rows_differing \gset
SELECT :set_rows_differing AS rows_differing_from_create_table_as;
SELECT :set_rows_differing = 0 AS set_ok \gset
\if :set_ok
\else
DO $$BEGIN RAISE EXCEPTION 'the stored training set differs from CREATE TABLE AS of its retrieval: the demo failed'; END $$;
\endif

SELECT pg_size_pretty(stored_bytes) AS churn_stored,
	   round(pg_total_relation_size('churn_training')::numeric / stored_bytes, 1) AS churn_smaller
  FROM fs.training_sets WHERE name = 'churn' AND version = :churn_version \gset

\echo 'export of the stored set for a training job, with COPY (kept after the demo):'
\set export_csv :export_dir/churn_training.csv
\set export_bin :export_dir/churn_training.bin
COPY (SELECT * FROM :churn_relation) TO STDOUT (FORMAT csv, HEADER) \g :export_csv
COPY (SELECT * FROM :churn_relation) TO STDOUT (FORMAT binary) \g :export_bin
\! for f in "$FS_DEMO_DIR"/churn_training.csv "$FS_DEMO_DIR"/churn_training.bin; do printf '  %9d bytes  %s\n' "$(stat -c %s "$f")" "$f"; done

\echo
\echo '== 5. Drift: txn_daily, the first month against the last (prices rose 35% in the last month)'
\echo '(windows are over the event time, day_end: the first month is day_end 1 to 30, the last 61 to 90)'
CREATE TEMP TABLE drift AS
SELECT feature, metric, round(value::numeric, 3) AS value, threshold,
	   CASE WHEN drifted THEN 'DRIFT' WHEN NOT drifted THEN 'ok' END AS verdict
  FROM fs.drift_report('txn_daily',
		 reference => tstzrange(timestamptz :'base' + interval '1 day', timestamptz :'base' + interval '31 days'),
		 current   => tstzrange(timestamptz :'base' + interval '61 days', NULL))
 WHERE metric IN ('psi', 'ks_p_value', 'jensen_shannon', 'wasserstein_norm');
SELECT * FROM drift ORDER BY feature, metric;
\echo '(ks_p_value drifts when below its threshold; the other metrics when at or above it.'
\echo ' Prices rose, purchase counts did not: txns_1d stays ok.)'
SELECT string_agg(feature || ' ' || verdict, ', ' ORDER BY feature) AS drift_verdicts
  FROM (SELECT feature, CASE WHEN bool_or(verdict = 'DRIFT') THEN 'DRIFT' ELSE 'ok' END AS verdict
		  FROM drift GROUP BY feature) f \gset


\echo
\echo '== 6. Quality gates: a bad batch is blocked, the previous values keep serving'
\o /dev/null
SELECT fs.add_expectation('txn_daily', 'spend_not_negative', 'spend_1d >= 0', 'block'),
	   fs.add_expectation('txn_daily', 'txns_positive', 'txns_1d > 0', 'drop'),
	   fs.add_expectation('txn_daily', 'has_rows', 'count(*) > 0', 'block');
\o
SELECT name, condition, severity, kind FROM fs.expectations WHERE view = 'txn_daily' ORDER BY name;
\echo 'a refund bug books -10000.00 on customer 2 yesterday; the next run of the last week is blocked:'
INSERT INTO transactions (txn_id, customer_id, ts, amount, category)
VALUES (-1, 2, date_trunc('day', now()) - interval '1 day' + interval '12 hours', -10000, 'online');
SELECT (features ->> 'txn_daily:spend_1d') AS customer_2_spend_1d_before
  FROM fs.online_features(ARRAY['txn_daily:spend_1d'], ARRAY[2]::bigint[]) \gset
SELECT version, rows_read, rows_written, status
  FROM fs.materialize('txn_daily', date_trunc('day', now()) - interval '7 days');
SELECT run_id AS blocked_run, status, error FROM fs.materialization_runs ORDER BY run_id DESC LIMIT 1 \gset
SELECT expectation, rows_checked, rows_failing, observed, passed, action FROM fs.expectation_results
 WHERE run_id = :blocked_run ORDER BY expectation;
\echo 'the quarantined rows of that run (the whole blocked batch; here those that failed something):'
SELECT fs_failed_expectations, customer_id, day_end::date, spend_1d, txns_1d
  FROM fs_data.txn_daily_v1_quarantine WHERE fs_run_id = :blocked_run AND fs_failed_expectations <> '{}';
SELECT count(*) AS quarantined FROM fs_data.txn_daily_v1_quarantine WHERE fs_run_id = :blocked_run \gset
SELECT (features ->> 'txn_daily:spend_1d') AS customer_2_spend_1d_after
  FROM fs.online_features(ARRAY['txn_daily:spend_1d'], ARRAY[2]::bigint[]) \gset
\echo 'customer 2 spend_1d online before: ':customer_2_spend_1d_before', after the blocked run: ':customer_2_spend_1d_after
SELECT view, version, blocked, last_blocked_at IS NOT NULL AS was_blocked FROM fs.feature_freshness WHERE view = 'txn_daily';
SELECT :'customer_2_spend_1d_before' IS NOT DISTINCT FROM :'customer_2_spend_1d_after' AND :'status' = 'blocked' AS gate_ok \gset
\if :gate_ok
\else
DO $$BEGIN RAISE EXCEPTION 'the blocked batch changed the online store: the demo failed'; END $$;
\endif
\echo 'the bad transaction is removed; the next run passes the gate'
DELETE FROM transactions WHERE txn_id = -1;
SELECT version, rows_read, rows_written, status
  FROM fs.materialize('txn_daily', date_trunc('day', now()) - interval '7 days');

\echo
\echo '== 7. The background worker keeps features fresh: new transactions reach the online store by themselves'
SELECT current_setting('feature_store.database', true) IS NOT DISTINCT FROM current_database() AS worker_serves_us \gset
\if :worker_serves_us
-- every 2 seconds instead of hourly: re-registering with another schedule is
-- a metadata change, the same version
SELECT fs.register_feature_view('txn_daily', 'customer',
	$$SELECT customer_id, date_trunc('day', ts) + interval '1 day' AS day_end,
	         sum(amount) AS spend_1d, count(*) AS txns_1d, max(amount) AS max_txn_1d
	    FROM transactions GROUP BY 1, 2$$,
	'customer_id', 'day_end', ttl => '7 days', schedule => '2 seconds') AS txn_daily_still \gset
\echo 'txn_daily is still version ':txn_daily_still', now scheduled every 2 seconds; customer 3 buys something for 777.00:'
INSERT INTO transactions (txn_id, customer_id, ts, amount, category) VALUES (-2, 3, now(), 777, 'online');
SELECT round(sum(amount), 2) AS customer_3_spend_today FROM transactions
 WHERE customer_id = 3 AND ts >= date_trunc('day', now()) \gset
-- no fs.materialize from here on: wait (at most a minute) for the worker
SELECT clock_timestamp() AS waited_from \gset
DO $$
BEGIN
	FOR i IN 1 .. 240 LOOP
		EXIT WHEN (SELECT (features ->> 'txn_daily:spend_1d')::numeric
					 FROM fs.online_features(ARRAY['txn_daily:spend_1d'], ARRAY[3]::bigint[]))
				  = (SELECT sum(amount) FROM transactions WHERE customer_id = 3 AND ts >= date_trunc('day', now()));
		PERFORM pg_sleep(0.25);
	END LOOP;
END $$;
SELECT (features ->> 'txn_daily:spend_1d')::numeric = :customer_3_spend_today AS worker_ok,
	   round(extract(epoch FROM clock_timestamp() - :'waited_from')::numeric, 1) AS worker_seconds,
	   features ->> 'txn_daily:spend_1d' AS customer_3_online
  FROM fs.online_features(ARRAY['txn_daily:spend_1d'], ARRAY[3]::bigint[]) \gset
\if :worker_ok
\echo 'customer 3 spend_1d online: ':customer_3_online' (today so far), ':worker_seconds' s after the purchase, written by the worker'
\else
DO $$BEGIN RAISE EXCEPTION 'the background worker did not materialize the new transaction within a minute: the demo failed'; END $$;
\endif
SELECT run_id, view_name, version, trigger, window_start, rows_read, rows_written, status, run_by
  FROM fs.materialization_runs WHERE trigger <> 'manual' ORDER BY run_id DESC LIMIT 3;
SELECT view, version, schedule, last_success_at IS NOT NULL AS succeeded, newest_event_time,
	   round(extract(epoch FROM lag)::numeric, 1) AS lag_s, expected_freshness, breach, consecutive_failures
  FROM fs.feature_freshness ORDER BY view, version;
\else
\echo '(skipped: the background worker serves another database: feature_store.database)'
\set worker_seconds 'n/a'
\endif

\o :summary_file
\qecho 'demo succeeded: ':rows' training rows (churn rate ':churn_rate'); ':naive_rows_from_the_future' labels would have seen future values through a naive latest-value join and ':start_of_day_leaks' through start-of-day daily stamps, none do (':rows_differing_from_lateral' rows differ from LATERAL); stored as training set churn v':churn_version' in ':churn_stored' (':churn_smaller'x smaller than a heap table) and exported with COPY; online_features ':online_us' us/request; drift first vs last month: ':drift_verdicts'; a batch with a negative daily spend was blocked (':quarantined' rows quarantined, online values unchanged); the worker put a new purchase online ':worker_seconds' s after it was made'
\o
