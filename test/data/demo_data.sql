-- Generates the demo dataset: 10,000 customers, the last 90 days of card
-- transactions, and churn labels.  Values are deterministic (setseed); dates
-- are relative to today so that online reads within a TTL find fresh values.
--
-- About 20% of customers churn: their transactions stop on a churn day between
-- day 30 and day 85.  Spend shifts upwards in the last 30 days (prices rose),
-- so a drift report comparing the first and last month has something to find.
-- psql variable :customers overrides the customer count.
\if :{?customers}
\else
\set customers 10000
\endif

SELECT setseed(0.42) AS seeded, date_trunc('day', now()) - interval '90 days' AS base \gset

SET client_min_messages = warning;
DROP TABLE IF EXISTS customers, transactions, churn_labels CASCADE;
RESET client_min_messages;

CREATE TABLE customers AS
SELECT id::bigint AS customer_id,
	   (ARRAY['NZ', 'AU', 'US', 'GB', 'DE', 'FR'])[1 + floor(random() * 6)::int] AS country,
	   (ARRAY['consumer', 'consumer', 'consumer', 'smb', 'enterprise'])[1 + floor(random() * 5)::int] AS segment,
	   18 + floor(random() * 60)::int AS age,
	   (timestamptz :'base')::date - floor(random() * 720)::int AS signup_date,
	   random() < 0.2 AS churner,
	   30 + floor(random() * 56)::int AS churn_day,
	   0.3 + random() * 2.5 AS activity          -- transactions per day
  FROM generate_series(1, :customers) AS id;
ALTER TABLE customers ADD PRIMARY KEY (customer_id);

CREATE TABLE transactions AS
SELECT row_number() OVER () AS txn_id, t.customer_id, t.ts,
	   round((exp(2.5 + random() * 2.2) * CASE WHEN t.ts >= timestamptz :'base' + interval '60 days' THEN 1.35 ELSE 1 END)::numeric, 2) AS amount,
	   (ARRAY['grocery', 'fuel', 'travel', 'dining', 'online', 'online'])[1 + floor(random() * 6)::int] AS category
  FROM (SELECT c.customer_id,
			   timestamptz :'base' + random() * interval '90 days' AS ts,
			   c.churner, c.churn_day
		  FROM customers c
		 CROSS JOIN LATERAL generate_series(1, greatest(1, (c.activity * 90)::int)) AS n) t
 WHERE NOT t.churner OR t.ts < timestamptz :'base' + t.churn_day * interval '1 day';
CREATE INDEX ON transactions (customer_id, ts);

-- Two label dates per customer, at midnight 31 and 60 days into the data; the
-- label says whether the customer churned within the 30 days after it.
CREATE TABLE churn_labels AS
SELECT c.customer_id, d.label_ts,
	   c.churner AND c.churn_day * interval '1 day' + timestamptz :'base'
		   BETWEEN d.label_ts AND d.label_ts + interval '30 days' AS churned
  FROM customers c
 CROSS JOIN (VALUES (timestamptz :'base' + interval '31 days'), (timestamptz :'base' + interval '60 days')) AS d(label_ts);

ANALYZE customers;
ANALYZE transactions;
ANALYZE churn_labels;

SELECT (SELECT count(*) FROM customers) AS customers,
	   (SELECT count(*) FROM transactions) AS transactions,
	   (SELECT count(*) FROM churn_labels) AS labels,
	   (SELECT round(avg(churned::int), 3) FROM churn_labels) AS churn_rate;
