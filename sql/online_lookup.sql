-- Online reads in C: fs.online_features and fs.online_features_typed probe
-- the online tables' primary keys, with a per-session cache of what the
-- references resolve to.
\set SHOW_CONTEXT never
SELECT fs.create_entity('onl_user', 'int');
CREATE TABLE onl_events (user_id int, at timestamptz, score float8, label text);
INSERT INTO onl_events VALUES
	(1, now() - interval '1 hour', 0.5, 'one'),
	(2, now() - interval '3 days', 0.25, 'stale'),
	(3, now() - interval '2 hours', NULL, 'three');
SELECT fs.register_feature_view('onl_scores', 'onl_user', 'onl_events', 'user_id', 'at', ttl => '1 day');
SELECT online_rows FROM fs.materialize('onl_scores', full => true);

-- one row per key in request order: duplicates, NULL keys and missing keys
-- included; user 2's row is older than the TTL, user 3's score is NULL
SELECT * FROM fs.online_features(ARRAY['onl_scores:score', 'onl_scores:label'], ARRAY[3, NULL, 99, 1, 2, 3, NULL]);
SELECT ord, key, features IS NULL AS sql_null
  FROM fs.online_features('{onl_scores:score}', ARRAY[NULL, 1]::int[]) WITH ORDINALITY AS o(key, features, ord);
-- no keys, and a two-dimensional array (read in storage order, as unnest does)
SELECT * FROM fs.online_features('{onl_scores:*}', '{}'::int[]);
SELECT * FROM fs.online_features('{onl_scores:label}', ARRAY[[1, 99], [3, 1]]);
-- references: view:* in column order, pinned versions, the same reference twice
SELECT * FROM fs.online_features('{onl_scores:*, onl_scores@1:label, onl_scores:label}', ARRAY[1]);
-- called in a select list
SELECT fs.online_features('{onl_scores:label}', ARRAY[1, 3]);
-- null arguments
SELECT * FROM fs.online_features(NULL, ARRAY[1]);
SELECT * FROM fs.online_features('{onl_scores:label}', NULL::int[]);

-- keys of an implicitly castable type: to int (smallint), to numeric (a cast
-- function), to text (binary); others are refused
SELECT key, pg_typeof(key), features FROM fs.online_features('{onl_scores:label}', ARRAY[1, 3]::smallint[]);
SELECT fs.create_entity('onl_account', 'numeric');
SELECT fs.create_entity('onl_code', 'text');
CREATE TABLE onl_accounts (account numeric, code text, at date, balance numeric(12, 2));
INSERT INTO onl_accounts VALUES (7, 'x7', current_date, 10.50), (8.5, 'y8', current_date - 10, 3);
SELECT fs.register_feature_view('onl_balance', 'onl_account',
	'SELECT account, at, balance FROM onl_accounts', 'account', 'at', ttl => '3 days');
SELECT fs.register_feature_view('onl_codes', 'onl_code',
	'SELECT code, at, balance FROM onl_accounts', 'code', 'at');
SELECT online_rows FROM fs.materialize('onl_balance', full => true);
SELECT online_rows FROM fs.materialize('onl_codes', full => true);
SELECT * FROM fs.online_features('{onl_balance:balance}', ARRAY[7, 8, 9]);
SELECT * FROM fs.online_features('{onl_balance:balance}', ARRAY[8.5]);
SELECT * FROM fs.online_features('{onl_codes:balance}', ARRAY['x7', 'y8']::varchar[]);
SELECT * FROM fs.online_features('{onl_codes:balance}', ARRAY[7]);
SELECT * FROM fs.online_features('{onl_balance:balance}', ARRAY[now()]);
-- views of several entities in one request, each probed with its own key type
SELECT * FROM fs.online_features('{onl_balance:balance, onl_scores:label}', ARRAY[1, 7]);

-- TTL on timestamp and date event times: older than now() - ttl is null
SELECT fs.create_entity('onl_item', 'bigint');
CREATE TABLE onl_items (id bigint, seen timestamp, day date, n int);
INSERT INTO onl_items VALUES
	(1, localtimestamp - interval '1 hour', current_date, 10),
	(2, localtimestamp - interval '5 days', current_date - 10, 20);
SELECT fs.register_feature_view('onl_seen', 'onl_item',
	'SELECT id, seen, n FROM onl_items', 'id', 'seen', ttl => '2 days');
SELECT fs.register_feature_view('onl_day', 'onl_item',
	'SELECT id, day, n FROM onl_items', 'id', 'day', ttl => '3 days');
SELECT online_rows FROM fs.materialize('onl_seen', full => true);
SELECT online_rows FROM fs.materialize('onl_day', full => true);
SELECT * FROM fs.online_features('{onl_seen:n, onl_day:n}', ARRAY[1, 2]::bigint[]);

-- values become JSON exactly as jsonb_build_object makes them
CREATE TYPE onl_mood AS ENUM ('calm', 'busy');
CREATE TYPE onl_pair AS (a int, b text);
CREATE TABLE onl_wide (id bigint, at timestamptz, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8, num numeric,
	t text, vc varchar(10), b bool, d date, ts timestamp, tstz timestamptz, jb jsonb,
	ia int[], ta text[], u uuid, iv interval, m onl_mood, p onl_pair, by bytea);
INSERT INTO onl_wide VALUES
	(1, now(), -3, 2147483647, -9223372036854775808, 1.5, 0.1::float8 + 0.2, 1.50, 'tab	"quote"', 'vc',
	 true, '2024-02-29', '2024-01-02 03:04:05.678', '2024-01-02 03:04:05+02',
	 '{"z": null, "y": {"x": 1.0}}', '{1,NULL,3}', '{a,"b c"}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
	 '1 day 2 hours', 'busy', ROW(1, 'x'), '\x00ff'),
	(2, now(), NULL, NULL, NULL, 'NaN', 'Infinity', 'NaN', '', NULL, false, 'infinity', '-infinity',
	 NULL, '[]', '{}', NULL, NULL, NULL, NULL, ROW(NULL, NULL), NULL),
	(3, now(), 0, 0, 0, '-Infinity', '-0', '-Infinity', NULL, NULL, NULL, NULL, NULL, NULL,
	 '3.14', '{{1,2},{3,4}}', NULL, NULL, NULL, NULL, NULL, NULL),
	(4, now(), 1, 1, 1, 1e-7, 1e100, 1e-20, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	 NULL, NULL, NULL, NULL, NULL);
SELECT fs.register_feature_view('onl_wide', 'onl_item', 'onl_wide', 'id', 'at');
SELECT online_rows FROM fs.materialize('onl_wide', full => true);
SELECT o.key, o.features::text = (
		SELECT (jsonb_build_object('onl_wide:i2', i2, 'onl_wide:i4', i4, 'onl_wide:i8', i8, 'onl_wide:f4', f4,
			'onl_wide:f8', f8, 'onl_wide:num', num, 'onl_wide:t', t, 'onl_wide:vc', vc,
			'onl_wide:b', b, 'onl_wide:d', d, 'onl_wide:ts', ts, 'onl_wide:tstz', tstz,
			'onl_wide:jb', jb, 'onl_wide:ia', ia, 'onl_wide:ta', ta, 'onl_wide:u', u, 'onl_wide:iv', iv,
			'onl_wide:m', m, 'onl_wide:p', p, 'onl_wide:by', by))::text
		  FROM fs_data.onl_wide_v1_online w WHERE w.id = o.key) AS same_as_sql
  FROM fs.online_features('{onl_wide:*}', ARRAY[1, 2, 3, 4]::bigint[]) o;
SELECT features FROM fs.online_features('{onl_wide:*}', ARRAY[1]::bigint[]);
SELECT features FROM fs.online_features('{onl_wide:f4, onl_wide:f8, onl_wide:num, onl_wide:jb}',
										ARRAY[2, 3, 4]::bigint[]);

-- floats in particular (their JSON numbers are made without numeric_in):
-- 20000 values over the whole range, under several extra_float_digits
CREATE TABLE onl_floats (id int, at timestamptz, d float8, r float4);
SELECT setseed(0.25);
INSERT INTO onl_floats
SELECT i, now(), x, CASE WHEN abs(x) BETWEEN 1e-37 AND 1e38 OR x = 0 THEN x::float4 END
  FROM (SELECT i, CASE WHEN i <= 12
				 THEN (ARRAY[5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 0.1, 123456789012345678, 1e15,
							 1e16, 1e17, 0, 1234.5, -0.000123, 9007199254740993])[i]::float8
				 ELSE (random() - 0.5) * 10 ^ (floor(random() * 615) - 307) END AS x
		  FROM generate_series(1, 20000) i) s;
SELECT fs.register_feature_view('onl_floats', 'onl_item', 'SELECT id::bigint, at, d, r FROM onl_floats', 'id', 'at');
SELECT online_rows FROM fs.materialize('onl_floats', full => true);
CREATE TEMP VIEW onl_float_mismatches AS
SELECT count(*) FILTER (WHERE o.features::text <> jsonb_build_object('onl_floats:d', f.d, 'onl_floats:r', f.r)::text)
		   AS mismatches,
	   count(*) AS compared
  FROM fs.online_features('{onl_floats:d, onl_floats:r}', (SELECT array_agg(id::bigint) FROM onl_floats)) o
  JOIN onl_floats f ON f.id = o.key;
SELECT * FROM onl_float_mismatches;
SET extra_float_digits = 0;
SELECT * FROM onl_float_mismatches;
SET extra_float_digits = 3;
SELECT * FROM onl_float_mismatches;
SET extra_float_digits = -15;
SELECT * FROM onl_float_mismatches;
RESET extra_float_digits;
SELECT features FROM fs.online_features('{onl_floats:d}', ARRAY[1, 2, 3, 5, 6, 7, 8, 12]::bigint[]);

-- the typed form: a column definition list of the key, then one column per
-- feature with its type; missing keys and stale values are NULL
SELECT * FROM fs.online_features_typed('{onl_scores:score, onl_scores:label}', ARRAY[3, 99, 1, 2, NULL, 1])
	AS t(user_id int, score float8, label text);
SELECT * FROM fs.online_features_typed('{onl_wide:*}', ARRAY[1, 2]::bigint[])
	AS t(id bigint, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8, num numeric, t text, vc varchar,
		 b bool, d date, ts timestamp, tstz timestamptz, jb jsonb, ia int[], ta text[], u uuid,
		 iv interval, m onl_mood, p onl_pair, by bytea);
SELECT * FROM fs.online_features_typed('{onl_scores:label, onl_scores:label, onl_balance:balance}', ARRAY[1, 7])
	AS t(k int, a text, b text, c numeric);
SELECT * FROM fs.online_features_typed('{onl_scores:score}', ARRAY[1]) AS t(k int);
SELECT * FROM fs.online_features_typed('{onl_scores:score}', ARRAY[1]) AS t(k int, s numeric);
SELECT * FROM fs.online_features_typed('{onl_scores:score}', ARRAY[1]) AS t(k bigint, s float8);
SELECT * FROM fs.online_features_typed('{onl_scores:score}', ARRAY[1]);

-- at most 100000 keys per request
SELECT count(*), count(features -> 'onl_scores:label') AS found
  FROM fs.online_features('{onl_scores:label}', (SELECT array_agg(i) FROM generate_series(1, 100000) i));
SELECT count(*) FROM fs.online_features('{onl_scores:label}', (SELECT array_agg(i) FROM generate_series(1, 100001) i));
SELECT count(*) FROM fs.online_features_typed('{onl_scores:label}', array_fill(1, ARRAY[1000, 101])) AS t(k int, l text);

-- catalog changes are seen at once, in the changing transaction too, and a
-- rolled-back change is forgotten (a new version serves unpinned references
-- once it has been materialized)
PREPARE onl_q(int[]) AS SELECT * FROM fs.online_features('{onl_scores:label}', $1);
EXECUTE onl_q(ARRAY[1]);
BEGIN;
SELECT fs.register_feature_view('onl_scores', 'onl_user',
	'SELECT user_id, at, score, upper(label) AS label FROM onl_events', 'user_id', 'at', ttl => '1 day') AS version;
EXECUTE onl_q(ARRAY[1]);
SELECT online_rows FROM fs.materialize('onl_scores', full => true);
EXECUTE onl_q(ARRAY[1]);
SAVEPOINT s;
UPDATE fs.view_versions SET ttl = '1 minute' WHERE view_name = 'onl_scores' AND version = 2;
EXECUTE onl_q(ARRAY[1]);
ROLLBACK TO SAVEPOINT s;
EXECUTE onl_q(ARRAY[1]);
ROLLBACK;
EXECUTE onl_q(ARRAY[1]);
-- an unrelated committed change that brings the generation to the same number
SELECT fs.create_entity('onl_other', 'int');
EXECUTE onl_q(ARRAY[1]);
-- a TTL changed in the catalog
UPDATE fs.view_versions SET ttl = '1 minute' WHERE view_name = 'onl_scores' AND version = 1;
EXECUTE onl_q(ARRAY[1]);
UPDATE fs.view_versions SET ttl = '1 day' WHERE view_name = 'onl_scores' AND version = 1;
EXECUTE onl_q(ARRAY[1]);

-- changes to the online table itself (no catalog change) are seen through
-- relcache invalidation: a feature column dropped (an error naming it), then
-- added again at another position...
ALTER TABLE fs_data.onl_scores_v1_online DROP COLUMN label;
EXECUTE onl_q(ARRAY[1]);
ALTER TABLE fs_data.onl_scores_v1_online ADD COLUMN label text;
EXECUTE onl_q(ARRAY[1]);
UPDATE fs_data.onl_scores_v1_online SET label = 'back' WHERE user_id IN (1, 3);
SELECT * FROM fs.online_features('{onl_scores:score, onl_scores:label}', ARRAY[1, 3]);
-- ... the primary key dropped, then made again (another index)
ALTER TABLE fs_data.onl_scores_v1_online DROP CONSTRAINT onl_scores_v1_online_pkey;
EXECUTE onl_q(ARRAY[1]);
ALTER TABLE fs_data.onl_scores_v1_online ADD PRIMARY KEY (user_id);
EXECUTE onl_q(ARRAY[1]);
-- ... a feature's type changed (the table rewritten): its JSON follows
ALTER TABLE fs_data.onl_scores_v1_online ALTER COLUMN score TYPE numeric USING score * 2;
SELECT * FROM fs.online_features('{onl_scores:score, onl_scores:label}', ARRAY[1, 3]);
ALTER TABLE fs_data.onl_scores_v1_online ALTER COLUMN score TYPE float8 USING score / 2;
-- ... or the table dropped
SELECT fs.register_feature_view('onl_gone', 'onl_user', 'onl_events', 'user_id', 'at');
SELECT * FROM fs.online_features('{onl_gone:label}', ARRAY[1]);
DROP TABLE fs_data.onl_gone_v1_online;
SELECT * FROM fs.online_features('{onl_gone:label}', ARRAY[1]);
SET client_min_messages = warning;
SELECT fs.drop_feature_view('onl_gone');
RESET client_min_messages;

-- privileges: SELECT on every online table read, checked at every call
CREATE ROLE regress_onl_reader;
SET ROLE regress_onl_reader;
SELECT * FROM fs.online_features('{onl_scores:label}', ARRAY[1]);
RESET ROLE;
GRANT SELECT ON fs_data.onl_scores_v1_online TO regress_onl_reader;
SET ROLE regress_onl_reader;
SELECT * FROM fs.online_features('{onl_scores:label}', ARRAY[1]);
SELECT * FROM fs.online_features('{onl_scores:label, onl_balance:balance}', ARRAY[1]);
RESET ROLE;
REVOKE SELECT ON fs_data.onl_scores_v1_online FROM regress_onl_reader;
SET ROLE regress_onl_reader;
SELECT * FROM fs.online_features('{onl_scores:label}', ARRAY[1]);
RESET ROLE;
-- column privileges on the columns read suffice, as in SQL
GRANT SELECT (user_id, at, label) ON fs_data.onl_scores_v1_online TO regress_onl_reader;
SET ROLE regress_onl_reader;
SELECT * FROM fs.online_features_typed('{onl_scores:label}', ARRAY[1]) AS t(k int, label text);
SELECT * FROM fs.online_features('{onl_scores:score}', ARRAY[1]);
RESET ROLE;
GRANT SELECT ON fs_data.onl_scores_v1_online TO regress_onl_reader;
-- row-level security is not applied by a primary-key probe: refused
ALTER TABLE fs_data.onl_scores_v1_online ENABLE ROW LEVEL SECURITY;
SET ROLE regress_onl_reader;
SELECT * FROM fs.online_features('{onl_scores:label}', ARRAY[1]);
RESET ROLE;
SELECT * FROM fs.online_features('{onl_scores:label}', ARRAY[1]);
ALTER TABLE fs_data.onl_scores_v1_online DISABLE ROW LEVEL SECURITY;
REVOKE ALL ON fs_data.onl_scores_v1_online FROM regress_onl_reader;
DROP ROLE regress_onl_reader;

-- the upgrade path's names run the same code
SELECT * FROM fs_internal.online_lookup('{onl_scores:label}', ARRAY[1, 2]);

SELECT fs.drop_entity('onl_user', cascade => true);
SELECT fs.drop_entity('onl_account', cascade => true);
SELECT fs.drop_entity('onl_code', cascade => true);
SELECT fs.drop_entity('onl_item', cascade => true);
SELECT fs.drop_entity('onl_other');
DROP TABLE onl_events, onl_accounts, onl_items, onl_wide, onl_floats;
DROP TYPE onl_mood, onl_pair;
