-- The main job, end to end, on the generated demo dataset (test/data/demo_data.sql).
\set ON_ERROR_STOP on
\pset footer off
SELECT date_trunc('day', now()) - interval '90 days' AS base \gset

\echo
\echo '== 1. Entities and feature views'
SELECT fs.create_entity('customer', 'bigint', 'a card holder');

SELECT fs.register_feature_view('customer_profile', 'customer',
	$$SELECT customer_id, signup_date::timestamptz AS updated_at, country, segment, age FROM customers$$,
	'customer_id', 'updated_at', description => 'static attributes of the customer', owner => 'crm-team',
	tags => '{profile}') AS customer_profile_version;

SELECT fs.register_feature_view('txn_daily', 'customer',
	$$SELECT customer_id, date_trunc('day', ts) AS day,
	         sum(amount) AS spend_1d, count(*) AS txns_1d, max(amount) AS max_txn_1d
	    FROM transactions GROUP BY 1, 2$$,
	'customer_id', 'day', ttl => '7 days', schedule => '1 hour',
	description => 'daily card activity', owner => 'risk-team', tags => '{transactions,daily}',
	feature_descriptions => '{"spend_1d": "total spend that day", "txns_1d": "number of transactions that day"}')
	AS txn_daily_version;

SELECT fs.register_feature_view('txn_rolling', 'customer',
	$$SELECT customer_id, day,
	         sum(spend) OVER w AS spend_7d, sum(n) OVER w AS txns_7d,
	         sum(spend) FILTER (WHERE category_online) OVER w AS online_spend_7d
	    FROM (SELECT customer_id, date_trunc('day', ts) AS day, sum(amount) AS spend, count(*) AS n,
	                 bool_or(category = 'online') AS category_online
	            FROM transactions GROUP BY 1, 2) d
	  WINDOW w AS (PARTITION BY customer_id ORDER BY day RANGE BETWEEN interval '6 days' PRECEDING AND CURRENT ROW)$$,
	'customer_id', 'day', ttl => '30 days', schedule => '1 hour',
	description => 'seven-day rolling card activity', owner => 'risk-team', tags => '{transactions,rolling}')
	AS txn_rolling_version;

-- dbt calls registration on every run: an unchanged definition is a no-op
SELECT fs.register_feature_view('customer_profile', 'customer',
	$$SELECT customer_id, signup_date::timestamptz AS updated_at, country, segment, age FROM customers$$,
	'customer_id', 'updated_at') AS customer_profile_again;

SELECT name, version, entity, features, ttl, schedule, owner, history_relation, online_relation
  FROM fs.feature_views ORDER BY name;

\echo
\echo '== 2. Materialization: txn_daily month by month, then the other views whole'
SELECT 'txn_daily' AS view, m AS month, r.*
  FROM generate_series(0, 2) AS m,
	   LATERAL fs.materialize('txn_daily', timestamptz :'base' + m * interval '30 days',
							  timestamptz :'base' + (m + 1) * interval '30 days') AS r;
SELECT 'customer_profile' AS view, * FROM fs.materialize('customer_profile');
SELECT 'txn_rolling' AS view, * FROM fs.materialize('txn_rolling');
\echo 're-running a window changes nothing:'
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

DO $$
DECLARE
	n int := 2000;
	t0 timestamptz;
	t1 timestamptz;
	k bigint;
BEGIN
	-- warm up, then time requests for random customers
	PERFORM * FROM fs.online_features('{txn_rolling:*,customer_profile:*}', ARRAY[1]::bigint[]);
	t0 := clock_timestamp();
	FOR i IN 1 .. n LOOP
		k := 1 + (i * 7919) % 10000;
		PERFORM * FROM fs.online_features('{txn_rolling:*,customer_profile:*}', ARRAY[k]);
	END LOOP;
	t1 := clock_timestamp();
	RAISE NOTICE 'online_features, 6 features of 2 views for 1 key: % us per request in the server (% requests)',
		round(extract(epoch FROM t1 - t0) * 1e6 / n), n;
END $$;

\echo
\echo '== 4. A point-in-time training set: each label sees only features from before its time'
SELECT fs.historical_features('churn_labels',
	ARRAY['customer_profile:country', 'customer_profile:segment', 'customer_profile:age',
		  'txn_rolling:*', 'txn_daily:spend_1d'],
	key_column => 'customer_id', ts_column => 'label_ts') AS training_sql \gset
\echo 'generated retrieval SQL:'
\echo :training_sql
EXPLAIN (COSTS OFF) :training_sql;
\timing on
CREATE TABLE churn_training AS :training_sql;
\timing off
SELECT count(*) AS rows, round(avg(churned::int), 3) AS churn_rate,
	   count(txn_rolling__spend_7d) AS with_spend_7d, count(txn_daily__spend_1d) AS with_spend_1d
  FROM churn_training;
SELECT customer_id, label_ts::date, churned, customer_profile__segment AS segment,
	   round(txn_rolling__spend_7d, 2) AS spend_7d, txn_rolling__txns_7d AS txns_7d
  FROM churn_training ORDER BY customer_id, label_ts LIMIT 6;
\echo 'what a naive join to the latest values would have leaked: feature rows from after the label time'
SELECT count(*) AS labels, count(*) FILTER (WHERE o.day >= l.label_ts) AS naive_rows_from_the_future
  FROM churn_labels l JOIN fs_data.txn_rolling_v1_online o USING (customer_id);
\echo 'the training set agrees with the LATERAL formulation, row for row (strict: feature day < label time):'
SELECT count(*) AS rows_differing_from_lateral
  FROM churn_training t
  LEFT JOIN LATERAL (SELECT r.spend_7d FROM fs_data.txn_rolling_v1 r
					  WHERE r.customer_id = t.customer_id AND r.day < t.label_ts
						AND r.day >= t.label_ts - interval '30 days'
					  ORDER BY r.day DESC LIMIT 1) x ON true
 WHERE x.spend_7d IS DISTINCT FROM t.txn_rolling__spend_7d;

\echo 'export for a training job, with COPY:'
COPY (SELECT * FROM churn_training) TO STDOUT (FORMAT csv, HEADER) \g :export_csv
COPY (SELECT * FROM churn_training) TO STDOUT (FORMAT binary) \g :export_bin
\! ls -l "$FS_WORK"/churn_training.* | awk '{print $5, $9}'

\echo
\echo '== 5. Drift: txn_daily, the first month against the last (prices rose 35%)'
SELECT feature, metric, round(value::numeric, 3) AS value, threshold,
	   CASE WHEN drifted THEN 'DRIFT' WHEN NOT drifted THEN 'ok' END AS verdict
  FROM fs.drift_report('txn_daily',
		 reference => tstzrange(timestamptz :'base', timestamptz :'base' + interval '30 days'),
		 current   => tstzrange(timestamptz :'base' + interval '60 days', timestamptz :'base' + interval '90 days'))
 WHERE metric IN ('psi', 'ks_statistic', 'jensen_shannon', 'wasserstein_norm')
 ORDER BY feature, metric;
