--
-- retrieval_basic: fs.historical_features, the point-in-time retrieval SQL.
-- Feature views are registered and materialized here; every expected row
-- is worked out by hand in the comments.
--
SET client_min_messages = warning;
SET timezone = 'UTC';
CREATE SCHEMA retrieval_src;

-- Customers: transactions (TTL 7 days) and a profile (no TTL).
SELECT fs.create_entity('retrieval_customer', 'bigint');
CREATE TABLE retrieval_src.txn (customer_id bigint, event_ts timestamptz, spend numeric, n_txn int);
INSERT INTO retrieval_src.txn VALUES
	(1, '2024-01-01 00:00', 10, 1),
	(1, '2024-01-05 00:00', 20, 2),
	(1, '2024-01-10 00:00', 30, 3),
	(2, '2024-01-03 00:00', 5, 1);
SELECT fs.register_feature_view('retrieval_txn', 'retrieval_customer', 'retrieval_src.txn',
								 'customer_id', 'event_ts', ttl => '7 days');
CREATE TABLE retrieval_src.profile (customer_id bigint, updated_at timestamptz, segment text);
INSERT INTO retrieval_src.profile VALUES
	(1, '2023-12-01 00:00', 'new'),
	(1, '2024-01-06 00:00', 'regular'),
	(3, '2024-01-02 00:00', 'vip');
SELECT fs.register_feature_view('retrieval_profile', 'retrieval_customer',
								 'SELECT customer_id, updated_at, segment FROM retrieval_src.profile',
								 'customer_id', 'updated_at');
-- Accounts: another entity with the same key type, timed by date.
SELECT fs.create_entity('retrieval_account', 'bigint');
CREATE TABLE retrieval_src.limits (account_id bigint, day date, credit_limit int);
INSERT INTO retrieval_src.limits VALUES
	(1, '2024-01-04', 100),
	(1, '2024-01-09', 150),
	(2, '2024-01-01', 50);
SELECT fs.register_feature_view('retrieval_limits', 'retrieval_account', 'retrieval_src.limits',
								 'account_id', 'day', ttl => '30 days');
SELECT version, rows_written FROM fs.materialize('retrieval_txn', full => true);
SELECT version, rows_written FROM fs.materialize('retrieval_profile', full => true);
SELECT version, rows_written FROM fs.materialize('retrieval_limits', full => true);

-- The spine (labels), with a NULL key, a key no view knows and a duplicate
-- row (2 twice).
CREATE TABLE retrieval_src."Labels" (label_id int, customer_id bigint, label_ts timestamptz, y bool);
INSERT INTO retrieval_src."Labels" VALUES
	(1, 1, '2024-01-05 00:00', true),
	(2, 1, '2024-01-09 12:00', false),
	(3, 1, '2024-01-20 00:00', true),
	(4, 2, '2024-01-04 00:00', false),
	(5, 3, '2024-01-02 00:00', true),
	(6, NULL, '2024-01-05 00:00', false),
	(2, 1, '2024-01-09 12:00', false),
	(8, 1, '2023-12-31 00:00', true);

-- The generated SQL: spine columns, then view__feature columns; one LEFT
-- JOIN per view with the TTL as an extra condition; qualified names.  The
-- limits are dated and the labels are instants: time_zone says where the
-- days are (a date is the midnight that starts it, read in that zone; the
-- view's column stays bare for its index, the spine side is rounded to days).
SELECT fs.historical_features('retrieval_src."Labels"',
							  '{retrieval_txn:spend, retrieval_profile:*, retrieval_limits:credit_limit}',
							  'customer_id', 'label_ts', time_zone => 'UTC');

-- Strict (the default): a feature stamped at the spine instant is not used.
--  1: txn 01-05 is at the instant, so 01-01 (10); profile 'new'; limit 01-04 (100)
--  2: txn 01-05 (20, 4.5 days old); profile 01-06 'regular'; limit 01-09 starts
--     at 01-09 00:00, before the label (12:00): 150
--  3: txn 01-10 is 10 days old (TTL 7 days): NULL; 'regular'; 01-09 (150)
--  4: txn 01-03 (5); customer 2 has no profile; limit 01-01 (50)
--  5: profile 01-02 is at the instant: NULL; no txn, no limit
--  6: NULL key: nothing
--  2 again: the duplicate spine row gives a second, identical row
--  8: before every txn: NULL; profile 'new'; no limit yet
SELECT format('SELECT * FROM (%s) AS r ORDER BY label_id',
			  fs.historical_features('retrieval_src."Labels"',
									 '{retrieval_txn:spend, retrieval_profile:*, retrieval_limits:credit_limit}',
									 'customer_id', 'label_ts', time_zone => 'UTC')) \gexec

-- Non-strict: rows stamped at the spine instant count.
--  1: txn 01-05 (20); 5: 'vip'; the rest as above.
SELECT format('SELECT * FROM (%s) AS r ORDER BY label_id',
			  fs.historical_features('retrieval_src."Labels"',
									 '{retrieval_txn:spend, retrieval_profile:*, retrieval_limits:credit_limit}',
									 'customer_id', 'label_ts', strict => false, time_zone => 'UTC')) \gexec

-- The plan: one as-of join per view (counted, so the test does not depend
-- on the strategy the planner picks).
CREATE FUNCTION retrieval_src.asof_nodes(q text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
	line text;
	n int := 0;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
		IF line LIKE '%Custom Scan (AsofJoin)%' THEN
			n := n + 1;
		END IF;
	END LOOP;
	RETURN n;
END
$$;
SELECT retrieval_src.asof_nodes(fs.historical_features('retrieval_src."Labels"',
													   '{retrieval_txn:spend, retrieval_profile:*, retrieval_limits:*}',
													   'customer_id', 'label_ts', time_zone => 'UTC'));

-- A spine query (a WITH, a trailing semicolon, a spine time of type date:
-- midnight of that day, in UTC for the timestamptz view), and view:* expansion.
--  day 2024-01-05 for customer 1: txn strictly before midnight 01-05: 01-01
--  (10, 1); limit strictly before day 01-05: 01-04 (100)
--  day 2024-01-11 for customer 2: txn 01-03 is 8 days old: NULL; limit 01-01 (50)
SELECT format('SELECT * FROM (%s) AS r ORDER BY customer_id',
			  fs.historical_features($q$WITH d(customer_id, day) AS (VALUES (1::bigint, date '2024-01-05'),
																		   (2, date '2024-01-11'))
										 SELECT * FROM d;$q$,
									 '{retrieval_txn:*, retrieval_limits:*}', 'customer_id', 'day',
									 time_zone => 'UTC')) \gexec

-- Pinned and latest versions.  A new definition of retrieval_txn (spend in
-- cents) is version 2; version 1 stays queryable.
UPDATE retrieval_src.txn SET spend = spend * 100;
SELECT fs.register_feature_view('retrieval_txn', 'retrieval_customer',
								 'SELECT customer_id, event_ts, spend AS spend_cents, n_txn FROM retrieval_src.txn',
								 'customer_id', 'event_ts', ttl => '7 days');
SELECT version, rows_written FROM fs.materialize('retrieval_txn', full => true);
--  label 2 (customer 1, 01-09 12:00): v1 spend 20, latest (v2) spend_cents 2000
SELECT format('SELECT label_id, retrieval_txn__spend, retrieval_txn__spend_cents, retrieval_txn__n_txn FROM (%s) AS r ORDER BY label_id',
			  fs.historical_features('SELECT * FROM retrieval_src."Labels" WHERE label_id IN (2, 3, 4)',
									 '{retrieval_txn@1:spend, retrieval_txn:spend_cents, retrieval_txn@2:n_txn}',
									 'customer_id', 'label_ts')) \gexec

-- known_at: only rows materialized by the spine time.  Pretend version 2
-- was materialized an hour after each event, except that 01-05 was
-- backfilled on 01-15.
UPDATE fs_data.retrieval_txn_v2 SET fs_created_at = event_ts + interval '1 hour';
UPDATE fs_data.retrieval_txn_v2 SET fs_created_at = '2024-01-15' WHERE event_ts = '2024-01-05';
--  1 (01-05 00:00): 01-01 (1000) either way (01-05 is at the instant)
--  2 (01-09 12:00): 01-05 (2000) without known_at; with it, 01-05 was not yet
--    known, so 01-01 (1000)... which is 8.5 days old (TTL 7 days): NULL
--  3 (01-20): 01-10 is too old either way: NULL
--  4 (01-04, customer 2): 01-03 (500), known since 01-03 01:00
SELECT format('SELECT label_id, retrieval_txn__spend_cents FROM (%s) AS r ORDER BY label_id',
			  fs.historical_features('SELECT * FROM retrieval_src."Labels" WHERE label_id <= 4',
									 '{retrieval_txn:spend_cents}', 'customer_id', 'label_ts')) \gexec
SELECT format('SELECT label_id, retrieval_txn__spend_cents FROM (%s) AS r ORDER BY label_id',
			  fs.historical_features('SELECT * FROM retrieval_src."Labels" WHERE label_id <= 4',
									 '{retrieval_txn:spend_cents}', 'customer_id', 'label_ts',
									 known_at => true)) \gexec
-- Without the TTL in the way (retrieval_profile has none): a backfilled
-- profile row is invisible before it was written.
UPDATE fs_data.retrieval_profile_v1 SET fs_created_at = updated_at;
UPDATE fs_data.retrieval_profile_v1 SET fs_created_at = '2024-01-15' WHERE updated_at = '2024-01-06';
--  2, twice (01-09 12:00): 'regular' without known_at, 'new' with it
SELECT format('SELECT label_id, retrieval_profile__segment FROM (%s) AS r ORDER BY label_id',
			  fs.historical_features('SELECT * FROM retrieval_src."Labels" WHERE customer_id = 1',
									 '{retrieval_profile:segment}', 'customer_id', 'label_ts',
									 known_at => true)) \gexec

-- The SQL runs under any search_path (storage and operators are
-- qualified), and in CREATE TABLE AS: one row per spine row.
SELECT fs.historical_features('retrieval_src."Labels"', '{retrieval_txn:spend_cents, retrieval_profile:segment}',
							  'customer_id', 'label_ts') AS sql \gset
SET search_path = pg_catalog;
CREATE TABLE retrieval_src.training AS :sql;
RESET search_path;
SELECT count(*), count(DISTINCT label_id), count(retrieval_profile__segment) FROM retrieval_src.training;

-- A temporary spine, resolved in the caller's schemas.
--  customer 2 on 01-04: txn 01-03 (5)
CREATE TEMP TABLE retrieval_tmp_spine AS SELECT 2::bigint AS customer_id, timestamptz '2024-01-04' AS ts;
SELECT fs.historical_features('retrieval_tmp_spine', '{retrieval_txn@1:spend}', 'customer_id', 'ts') \gexec

DROP SCHEMA retrieval_src CASCADE;
SELECT fs.drop_entity('retrieval_customer', cascade => true);
SELECT fs.drop_entity('retrieval_account', cascade => true);
