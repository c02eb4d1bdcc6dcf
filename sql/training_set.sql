--
-- training_set: fs.create_training_set stores a point-in-time retrieval as an
-- immutable, compressed version, readable as a relation and with COPY.
--
\set SHOW_CONTEXT never
SET client_min_messages = warning;
SET timezone = 'UTC';
CREATE SCHEMA ts_src;

-- 20 customers with 50 days of activity each (a feature view with a TTL of
-- 7 days), and a spine of two labels per customer, a NULL key and a key no
-- view knows: 42 rows.
SELECT fs.create_entity('ts_customer', 'bigint');
CREATE TABLE ts_src.txn AS
SELECT (1 + i % 20)::bigint AS customer_id,
	   timestamptz '2024-01-01' + (i / 20) * interval '1 day' AS event_ts,
	   (i % 13 * 1.25)::numeric AS spend,
	   i % 5 AS n_txn,
	   round((i % 97) * 1.01, 2)::float8 AS amount,
	   (ARRAY['web', 'store', 'app'])[1 + i % 3] AS channel,
	   i % 4 = 0 AS online
  FROM generate_series(0, 999) AS i;
SELECT fs.register_feature_view('ts_txn', 'ts_customer', 'ts_src.txn', 'customer_id', 'event_ts', ttl => '7 days');
SELECT version, rows_written FROM fs.materialize('ts_txn', full => true);
CREATE TABLE ts_src.labels AS
SELECT c::bigint AS customer_id, timestamptz '2024-01-10 12:00' + d * interval '20 days' AS label_ts,
	   (c + d) % 3 = 0 AS churned
  FROM generate_series(1, 20) AS c, generate_series(0, 1) AS d;
INSERT INTO ts_src.labels VALUES (NULL, '2024-01-15', false), (99, '2024-01-15', true);

-- A first version, and its lineage in fs.training_sets.
SELECT fs.create_training_set('ts_churn', 'ts_src.labels', '{ts_txn:*}', 'customer_id', 'label_ts',
							  description => 'churn labels with card activity');
SELECT name, version, relation, row_count, chunk_groups, stored_bytes > 0 AS stored, checksum, spine_hash,
	   spine, key_column, ts_column, options, split_rows, compression_level, description,
	   created_by = current_user AS created_by_me, owner_role = current_user AS owned_by_me, is_latest
  FROM fs.training_sets;
SELECT jsonb_pretty(features) AS features FROM fs.training_sets WHERE name = 'ts_churn';
SELECT position, column_name, type, kind, ref, view_name, view_version, feature
  FROM fs.training_set_columns WHERE name = 'ts_churn' ORDER BY position;
\d fs_data.ts_churn_v1_training

-- The rows are exactly those of the retrieval SQL.
SELECT fs.historical_features('ts_src.labels', '{ts_txn:*}', 'customer_id', 'label_ts') AS retrieval \gset
CREATE TABLE ts_src.expected AS :retrieval;
SELECT (SELECT count(*) FROM (SELECT * FROM ts_src.expected EXCEPT ALL SELECT * FROM fs_data.ts_churn_v1_training) a)
		   AS missing,
	   (SELECT count(*) FROM (SELECT * FROM fs_data.ts_churn_v1_training EXCEPT ALL SELECT * FROM ts_src.expected) b)
		   AS extra;
-- customer 1 on 01-10 12:00 sees its activity of 01-10 (00:00); on 01-30 12:00
-- that of 01-30; the NULL key and customer 99 see nothing
SELECT * FROM fs_data.ts_churn_v1_training
 WHERE customer_id IN (1, 99) OR customer_id IS NULL ORDER BY customer_id, label_ts;

-- COPY: csv to the client, and a round trip through binary and csv files.
COPY (SELECT * FROM fs_data.ts_churn_v1_training WHERE customer_id <= 3 ORDER BY customer_id, label_ts)
	TO STDOUT (FORMAT csv, HEADER);
SELECT '/tmp/fs_ts_' || pg_backend_pid() AS tmpfile \gset
CREATE TABLE ts_src.back (LIKE fs_data.ts_churn_v1_training);
COPY (SELECT * FROM fs_data.ts_churn_v1_training) TO :'tmpfile' (FORMAT binary);
COPY ts_src.back FROM :'tmpfile' (FORMAT binary);
COPY (SELECT * FROM fs_data.ts_churn_v1_training) TO :'tmpfile' (FORMAT csv);
COPY ts_src.back FROM :'tmpfile' (FORMAT csv);
SELECT count(*) AS rows_back,
	   (SELECT count(*) FROM (SELECT * FROM ts_src.back EXCEPT ALL
							  (SELECT * FROM fs_data.ts_churn_v1_training UNION ALL
							   SELECT * FROM fs_data.ts_churn_v1_training)) x) AS differing
  FROM ts_src.back;

-- Reproducible: the same definition over unchanged inputs is a new version
-- with the same checksum, whatever the compression level.
SELECT fs.create_training_set('ts_churn', 'ts_src.labels', '{ts_txn:*}', 'customer_id', 'label_ts',
							  compression_level => 1);
SELECT fs.create_training_set('ts_churn', 'ts_src.labels', '{ts_txn:*}', 'customer_id', 'label_ts',
							  compression_level => 19);
SELECT version, compression_level, row_count, checksum, spine_hash, is_latest
  FROM fs.training_sets WHERE name = 'ts_churn' ORDER BY version;
-- ... and the spine hash follows the spine alone: other features, same spine
SELECT fs.create_training_set('ts_churn_amounts', 'ts_src.labels', '{ts_txn:amount}', 'customer_id', 'label_ts');
SELECT a.spine_hash = b.spine_hash AS same_spine, a.checksum <> b.checksum AS other_content
  FROM fs.training_sets a, fs.training_sets b
 WHERE a.name = 'ts_churn' AND a.version = 1 AND b.name = 'ts_churn_amounts';

-- Immutable: later feature data changes new versions, never stored ones.
UPDATE ts_src.txn SET amount = amount + 1000 WHERE customer_id = 1;
SELECT version, rows_written FROM fs.materialize('ts_txn', full => true);
SELECT fs.create_training_set('ts_churn', 'ts_src.labels', '{ts_txn:*}', 'customer_id', 'label_ts');
SELECT version, checksum = (SELECT checksum FROM fs.training_sets WHERE name = 'ts_churn' AND version = 1) AS same_as_v1
  FROM fs.training_sets WHERE name = 'ts_churn' ORDER BY version;
SELECT (SELECT count(*) FROM (SELECT * FROM ts_src.expected EXCEPT ALL SELECT * FROM fs_data.ts_churn_v1_training) a)
		   AS v1_changed_rows,
	   (SELECT count(*) FROM (SELECT * FROM ts_src.expected EXCEPT ALL SELECT * FROM fs_data.ts_churn_v4_training) b)
		   AS v4_changed_rows;

-- Two versions of one feature: two columns, view__feature for the first
-- version requested and view_vN__feature for the other.
SELECT fs.register_feature_view('ts_txn', 'ts_customer',
								 'SELECT customer_id, event_ts, amount * 100 AS amount FROM ts_src.txn',
								 'customer_id', 'event_ts', ttl => '7 days');
SELECT version, rows_written FROM fs.materialize('ts_txn', full => true);
SELECT fs.create_training_set('ts_both', 'ts_src.labels', '{ts_txn@1:amount, ts_txn@2:amount}',
							  'customer_id', 'label_ts');
SELECT position, column_name, ref, view_name, view_version, feature
  FROM fs.training_set_columns WHERE name = 'ts_both' AND kind = 'feature' ORDER BY position;
SELECT customer_id, label_ts, ts_txn__amount, ts_txn_v2__amount FROM fs_data.ts_both_v1_training
 WHERE customer_id = 2 ORDER BY label_ts;

-- Splits by a hash of the entity key: deterministic, no entity in two
-- splits, the split a column of the relation, and a filter on it reads only
-- that split's chunk groups.
SELECT fs.create_training_set('ts_split', 'ts_src.labels', '{ts_txn@1:*}', 'customer_id', 'label_ts',
							  split => '{"train": 0.6, "validation": 0.2, "test": 0.2}');
SELECT row_count, split_rows, chunk_groups FROM fs.training_sets WHERE name = 'ts_split';
SELECT split, count(*) AS rows, count(DISTINCT customer_id) AS customers
  FROM fs_data.ts_split_v1_training GROUP BY split ORDER BY split;
SELECT count(*) AS customers_in_two_splits
  FROM (SELECT customer_id FROM fs_data.ts_split_v1_training GROUP BY 1 HAVING count(DISTINCT split) > 1) x;
SELECT format('SELECT count(*) AS differing FROM ((%s) EXCEPT ALL
				SELECT customer_id, label_ts, churned, ts_txn__spend, ts_txn__n_txn, ts_txn__amount, ts_txn__channel,
					   ts_txn__online FROM fs_data.ts_split_v1_training) x',
			  fs.historical_features('ts_src.labels', '{ts_txn@1:*}', 'customer_id', 'label_ts')) \gexec
CREATE FUNCTION ts_src.explain(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	line text;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
		CONTINUE WHEN line LIKE '%Peak Decode Memory%';	-- depends on the platform
		RETURN NEXT line;
	END LOOP;
END
$$;
SELECT * FROM ts_src.explain($$SELECT count(*) FROM fs_data.ts_split_v1_training WHERE split = 'test'$$);
SELECT * FROM ts_src.explain($$SELECT * FROM fs_data.ts_split_v1_training WHERE split IN ('train', 'validation')
							   AND split <> 'train'$$);
SELECT * FROM ts_src.explain($$SELECT count(*) FROM fs_data.ts_split_v1_training
							   WHERE split IN ('train', 'test') AND split IN ('test', 'validation')$$);
-- the same definition assigns every entity to the same split again; another seed reassigns
SELECT fs.create_training_set('ts_split', 'ts_src.labels', '{ts_txn@1:amount}', 'customer_id', 'label_ts',
							  split => '{"test": 0.2, "validation": 0.2, "train": 0.6}');
SELECT fs.create_training_set('ts_split', 'ts_src.labels', '{ts_txn@1:amount}', 'customer_id', 'label_ts',
							  split => '{"train": 0.6, "validation": 0.2, "test": 0.2, "seed": 7}');
SELECT count(*) FILTER (WHERE a.split <> b.split) AS moved_in_v2, count(*) FILTER (WHERE a.split <> c.split) > 0 AS moved_in_v3
  FROM (SELECT DISTINCT customer_id, split FROM fs_data.ts_split_v1_training) a
  JOIN (SELECT DISTINCT customer_id, split FROM fs_data.ts_split_v2_training) b USING (customer_id)
  JOIN (SELECT DISTINCT customer_id, split FROM fs_data.ts_split_v3_training) c USING (customer_id);

-- Splits by time: each split from its start; the NULL key's row (01-15)
-- and the first labels (01-10) are train, the second labels (01-30) test.
SELECT fs.create_training_set('ts_time', 'ts_src.labels', '{ts_txn@1:n_txn}', 'customer_id', 'label_ts',
							  split => '{"by": "time", "train": "-infinity", "validation": "2024-01-20", "test": "2024-01-25"}');
SELECT split_rows FROM fs.training_sets WHERE name = 'ts_time';
SELECT split, min(label_ts), max(label_ts), count(*) FROM fs_data.ts_time_v1_training GROUP BY 1 ORDER BY 2;

-- A spine time of type timestamp takes time_zone, as in fs.historical_features
-- (recorded with the version), and a time split reads its starts as values
-- of the spine time's type.
SELECT fs.create_training_set('ts_tz', 'SELECT customer_id, (label_ts AT TIME ZONE ''UTC'') AS label_local FROM ts_src.labels',
							  '{ts_txn@1:n_txn}', 'customer_id', 'label_local');
SELECT fs.create_training_set('ts_tz', 'SELECT customer_id, (label_ts AT TIME ZONE ''UTC'') AS label_local FROM ts_src.labels',
							  '{ts_txn@1:n_txn}', 'customer_id', 'label_local', time_zone => 'UTC',
							  split => '{"by": "time", "early": "-infinity", "late": "2024-01-20"}');
SELECT options ->> 'time_zone' AS time_zone, split_rows FROM fs.training_sets WHERE name = 'ts_tz';
SELECT fs.create_training_set('ts_tz', 'SELECT customer_id, label_ts::date AS label_day FROM ts_src.labels',
							  '{ts_txn@1:n_txn}', 'customer_id', 'label_day', time_zone => 'UTC',
							  split => '{"by": "time", "early": "-infinity", "mid": "2024-01-20 06:00", "late": "2024-01-20 18:00"}');

-- Split definitions are checked.
SELECT fs.create_training_set('ts_bad', 'ts_src.labels', '{ts_txn@1:n_txn}', 'customer_id', 'label_ts', split => '[0.5]');
SELECT fs.create_training_set('ts_bad', 'ts_src.labels', '{ts_txn@1:n_txn}', 'customer_id', 'label_ts',
							  split => '{"train": 0.8, "test": 0.1}');
SELECT fs.create_training_set('ts_bad', 'ts_src.labels', '{ts_txn@1:n_txn}', 'customer_id', 'label_ts',
							  split => '{"train": 1}');
SELECT fs.create_training_set('ts_bad', 'ts_src.labels', '{ts_txn@1:n_txn}', 'customer_id', 'label_ts',
							  split => '{"train": 1.2, "test": -0.2}');
SELECT fs.create_training_set('ts_bad', 'ts_src.labels', '{ts_txn@1:n_txn}', 'customer_id', 'label_ts',
							  split => '{"by": "random", "train": 0.5, "test": 0.5}');
SELECT fs.create_training_set('ts_bad', 'ts_src.labels', '{ts_txn@1:n_txn}', 'customer_id', 'label_ts',
							  split => '{"by": "time", "train": "-infinity", "test": 7}');
SELECT fs.create_training_set('ts_bad', 'ts_src.labels', '{ts_txn@1:n_txn}', 'customer_id', 'label_ts',
							  split => (SELECT jsonb_object_agg('s' || g, 0.05) FROM generate_series(1, 20) g));
SELECT fs.create_training_set('ts_bad', 'SELECT customer_id, label_ts, churned AS split FROM ts_src.labels',
							  '{ts_txn@1:n_txn}', 'customer_id', 'label_ts', split => '{"train": 0.5, "test": 0.5}');

-- Profiles of the numeric and text features, computed while building, equal
-- fs.profile over the stored column: a reference for fs.drift().
SELECT fs.training_set_profile('ts_churn', 1, 'ts_txn__amount')::text = (SELECT fs.profile(ts_txn__amount)::text
																		  FROM fs_data.ts_churn_v1_training) AS amount,
	   fs.training_set_profile('ts_churn', 1, 'ts_txn:spend')::text = (SELECT fs.profile(ts_txn__spend)::text
																		FROM fs_data.ts_churn_v1_training) AS spend,
	   fs.training_set_profile('ts_churn', 1, 'ts_txn__n_txn')::text = (SELECT fs.profile(ts_txn__n_txn::float8)::text
																		 FROM fs_data.ts_churn_v1_training) AS n_txn,
	   fs.training_set_profile('ts_churn', NULL, 'ts_txn__channel')::text = (SELECT fs.profile(ts_txn__channel)::text
																			  FROM fs_data.ts_churn_v4_training) AS channel_latest;
SELECT column_name FROM fs.training_set_profiles WHERE name = 'ts_churn' AND version = 1 ORDER BY 1;
SELECT metric, round(value::numeric, 3) AS value, drifted
  FROM fs.drift(fs.training_set_profile('ts_churn', 1, 'ts_txn__amount'),
				(SELECT fs.profile(amount) FROM ts_src.txn WHERE event_ts >= '2024-02-01'))
 WHERE metric IN ('psi', 'ks_statistic');
SELECT fs.training_set_profile('ts_churn', 1, 'ts_txn__online');
SELECT fs.training_set_profile('ts_churn', 1, 'churned');
SELECT fs.training_set_profile('ts_churn', 9, 'ts_txn__amount');
SELECT fs.training_set_profile('ts_nope', 1, 'ts_txn__amount');

-- Dependencies: the sets built from a feature view version (for
-- fs.drop_feature_view), and a cascading drop of them.
SELECT fs_internal.training_set_dependents('ts_txn', 1) AS on_v1, fs_internal.training_set_dependents('ts_txn', 2) AS on_v2,
	   fs_internal.training_set_dependents('ts_txn', 3) AS on_v3;
SELECT fs_internal.drop_training_set_dependents('ts_txn', 2);
SELECT name, version FROM fs.training_sets WHERE name = 'ts_both';
SELECT count(*) AS chunks_left FROM fs_internal.training_chunks WHERE set_name = 'ts_both';
SELECT to_regclass('fs_data.ts_both_v1_training') AS relation_left;

-- Dropping: one version, then the whole set; version numbers are not reused.
CREATE VIEW ts_src.on_v2 AS SELECT * FROM fs_data.ts_churn_v2_training;
SELECT fs.drop_training_set('ts_churn', 2);
SELECT fs.drop_training_set('ts_churn', 2, cascade => true);
SELECT to_regclass('ts_src.on_v2') AS dependent_view;
SELECT fs.drop_training_set('ts_churn', 2);
SELECT fs.drop_training_set('ts_churn', 3);
SELECT version FROM fs.training_sets WHERE name = 'ts_churn' ORDER BY 1;
SELECT fs.create_training_set('ts_churn', 'ts_src.labels', '{ts_txn@1:n_txn}', 'customer_id', 'label_ts');
SELECT fs.drop_training_set('ts_churn');
SELECT count(*) AS versions, (SELECT count(*) FROM fs.training_set_names WHERE name = 'ts_churn') AS names,
	   (SELECT count(*) FROM fs_internal.training_chunks WHERE set_name = 'ts_churn') AS chunks,
	   (SELECT count(*) FROM fs.training_set_columns WHERE name = 'ts_churn') AS columns,
	   (SELECT count(*) FROM fs.training_set_profiles WHERE name = 'ts_churn') AS profiles,
	   (SELECT count(*) FROM pg_class WHERE relname LIKE 'ts\_churn\_v%') AS relations
  FROM fs.training_set_versions WHERE name = 'ts_churn';
SELECT fs.drop_training_set('ts_churn');

-- A creation that fails halfway (here a division by zero at spine row 20000,
-- after a chunk group of 16384 rows was written: the index-probe as-of join
-- streams the spine in its order) leaves nothing behind.
SET feature_store.asof_strategy = 'index_probe';
SET jit = off;	-- its DEBUG lines depend on the machine
SET client_min_messages = debug1;
SELECT fs.create_training_set('ts_fail',
	'SELECT (g % 20 + 1)::bigint AS customer_id, timestamptz ''2024-01-15'' + g * interval ''1 second'' AS label_ts,
			1 / (g - 20000) AS x
	   FROM generate_series(1, 30000) g', '{ts_txn@1:n_txn}', 'customer_id', 'label_ts');
SET client_min_messages = warning;
RESET jit;
RESET feature_store.asof_strategy;
SELECT (SELECT count(*) FROM fs.training_set_names WHERE name = 'ts_fail') AS names,
	   (SELECT count(*) FROM fs.training_set_versions WHERE name = 'ts_fail') AS versions,
	   (SELECT count(*) FROM fs_internal.training_chunks WHERE set_name = 'ts_fail') AS chunks,
	   (SELECT count(*) FROM pg_class WHERE relname LIKE 'ts\_fail%') AS relations;

-- Bad arguments.
SELECT fs.create_training_set(NULL, 'ts_src.labels', '{ts_txn@1:n_txn}', 'customer_id', 'label_ts');
SELECT fs.create_training_set('', 'ts_src.labels', '{ts_txn@1:n_txn}', 'customer_id', 'label_ts');
SELECT fs.create_training_set('ts_bad', NULL, '{ts_txn@1:n_txn}', 'customer_id', 'label_ts');
SELECT fs.create_training_set('ts_bad', 'ts_src.labels', '{ts_txn@1:n_txn}', 'customer', 'label_ts');
SELECT fs.create_training_set('ts_bad', 'ts_src.labels', '{ts_nope:x}', 'customer_id', 'label_ts');
SELECT fs.create_training_set('ts_bad', 'ts_src.labels', '{ts_txn@1:n_txn}', 'customer_id', 'label_ts',
							  compression_level => 23);
SELECT fs.drop_training_set('ts_nope');
SELECT fs.drop_training_set('ts_split', 7);
SELECT count(*) AS bad_sets FROM fs.training_set_names WHERE name = 'ts_bad';

-- An empty spine is an empty set.
SELECT fs.create_training_set('ts_empty', 'SELECT * FROM ts_src.labels WHERE false', '{ts_txn@1:*}',
							  'customer_id', 'label_ts', split => '{"a": 0.5, "b": 0.5}');
SELECT row_count, chunk_groups, split_rows, checksum FROM fs.training_sets WHERE name = 'ts_empty';
SELECT count(*) FROM fs_data.ts_empty_v1_training;

-- Clean up.
SELECT fs.drop_training_set(name) FROM fs.training_set_names ORDER BY name;
DROP SCHEMA ts_src CASCADE;
SELECT fs.drop_feature_view('ts_txn');
SELECT fs.drop_entity('ts_customer');
