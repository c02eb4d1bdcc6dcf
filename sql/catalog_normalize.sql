-- Versioning by meaning: sources that differ only in white space, the case of
-- unquoted names or comments are one definition; a real change is a new version.
\set SHOW_CONTEXT never
CREATE TABLE norm_txn (customer_id bigint, ts timestamptz, amount numeric);
SELECT fs.create_entity('norm_customer', 'bigint');
SELECT fs.register_feature_view('norm_spend', 'norm_customer',
	'SELECT customer_id, ts, amount * 2 AS double_amount FROM norm_txn', 'customer_id', 'ts');
SELECT fs.register_feature_view('norm_spend', 'norm_customer',
	E'select  CUSTOMER_ID,\n\tts, -- the event time\n  Amount*2 as DOUBLE_AMOUNT\nfrom   NORM_TXN /* all rows */',
	'customer_id', 'ts') AS same_version;
SELECT count(*) AS versions FROM fs.view_versions WHERE view_name = 'norm_spend';
-- a change of meaning is a new version
SELECT fs.register_feature_view('norm_spend', 'norm_customer',
	'SELECT customer_id, ts, amount * 3 AS double_amount FROM norm_txn', 'customer_id', 'ts') AS new_version;
-- and a quoted name is not folded: "Amount" is another column
SELECT fs.register_feature_view('norm_spend', 'norm_customer',
	'SELECT customer_id, ts, "Amount" * 3 AS double_amount FROM norm_txn', 'customer_id', 'ts');
SELECT fs.drop_feature_view('norm_spend');
SELECT fs.drop_entity('norm_customer');
DROP TABLE norm_txn;
