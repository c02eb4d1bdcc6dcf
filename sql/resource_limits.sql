--
-- resource_limits: the documented size limits of requests and profile values
-- (README, Security, "Resource limits"), each a clear error with its SQLSTATE
-- (echoed after it) or a bounded result.
--
SET search_path = public, fs;

-- A view to request features of.
CREATE TABLE rl_src (id bigint, ts timestamptz, a float8, b text);
INSERT INTO rl_src SELECT g % 10, timestamptz '2025-01-01 00:00:00+00' + g * interval '1 hour', g, 'b' || g
FROM generate_series(1, 100) AS g;
SELECT fs.create_entity('rl_cust', 'bigint');
SELECT fs.register_feature_view('rl_v', 'rl_cust', 'rl_src', 'id', 'ts');
SELECT (fs.materialize('rl_v', full => true)).rows_written > 0 AS materialized;
CREATE TABLE rl_spine AS SELECT g AS id, timestamptz '2025-01-05 00:00:00+00' AS ts FROM generate_series(1, 5) AS g;

-- Online requests: at most 100000 keys and 10000 feature references.
SELECT count(*) FROM fs.online_features(ARRAY['rl_v:a']::fs.feature_ref[], array_fill(1::bigint, ARRAY[100000]));
SELECT count(*) FROM fs.online_features(ARRAY['rl_v:a']::fs.feature_ref[], array_fill(1::bigint, ARRAY[100001]));
\echo sqlstate :LAST_ERROR_SQLSTATE
SELECT count(*) FROM fs.online_features(array_fill('rl_v:a'::fs.feature_ref, ARRAY[10001]), ARRAY[1]::bigint[]);
\echo sqlstate :LAST_ERROR_SQLSTATE
SELECT count(*) FROM fs.online_features(array_fill('rl_v:a'::fs.feature_ref, ARRAY[10000]), ARRAY[1, 2]::bigint[]);

-- Retrieval: the spine's columns and the features at most 1600 output
-- columns (a table's limit: create_training_set stores them); checked on the
-- references as passed, before any work per feature, and after view:*
-- expands.
SELECT fs.historical_features('rl_spine', array_fill('rl_v:a'::fs.feature_ref, ARRAY[1599]), 'id', 'ts');
\echo sqlstate :LAST_ERROR_SQLSTATE
SELECT fs.create_training_set('rl_ts', 'rl_spine', array_fill('rl_v:a'::fs.feature_ref, ARRAY[1599]), 'id', 'ts');
\echo sqlstate :LAST_ERROR_SQLSTATE
DO $$
BEGIN
	EXECUTE 'CREATE TABLE rl_wide (id bigint, ts timestamptz, '
		|| (SELECT string_agg(format('c%s float8', g), ', ') FROM generate_series(1, 800) AS g) || ')';
END
$$;
INSERT INTO rl_wide (id, ts, c1) VALUES (1, timestamptz '2025-01-01 00:00:00+00', 1);
SELECT fs.register_feature_view('rl_wide1', 'rl_cust', 'rl_wide', 'id', 'ts');
SELECT fs.register_feature_view('rl_wide2', 'rl_cust', 'SELECT * FROM rl_wide', 'id', 'ts');
-- 2 + 800 + 800 columns
SELECT fs.historical_features('rl_spine', ARRAY['rl_wide1:*', 'rl_wide2:*']::fs.feature_ref[], 'id', 'ts');
\echo sqlstate :LAST_ERROR_SQLSTATE
-- 2 + 800 + 1 columns fit
SELECT length(fs.historical_features('rl_spine', ARRAY['rl_wide1:*', 'rl_v:a']::fs.feature_ref[], 'id', 'ts')) > 0 AS fits;

-- Text profiles: a value over 256 bytes is stored as its first characters,
-- "...#" and the hash of the whole value (256 bytes at most), so a state
-- stays small however long its values; distinct long values stay distinct,
-- equal ones are counted together, short values are untouched.
CREATE TABLE rl_long (g int, v text);
INSERT INTO rl_long
SELECT g, CASE WHEN g % 3 = 0 THEN 'short' || (g % 5)
			   ELSE repeat('é', 2000) || (g % 40) END	-- 4000+ bytes, a common prefix
FROM generate_series(1, 3000) AS g;
ANALYZE rl_long;
CREATE TEMP TABLE rl_p AS SELECT fs.profile(v) AS p FROM rl_long;
SELECT fs.profile_count(p), fs.profile_distinct(p) FROM rl_p;
SELECT max(octet_length(t.value)) AS longest_stored,
	   count(*) FILTER (WHERE t.value ~ '^é+\.\.\.#[0-9a-f]{16}$') AS shortened,
	   count(*) FILTER (WHERE t.value LIKE 'short%') AS short,
	   sum(t.count) AS counted
FROM rl_p, fs.profile_top_values(p, 100) AS t;
-- the stored form keeps whole characters (valid in the database encoding)
SELECT bool_and(t.value IS NULL OR octet_length(t.value) <= 256 AND t.value ~ '^(short|é)') AS stored_ok
FROM rl_p, fs.profile_top_values(p, 100) AS t;
-- the flag byte (after "FSP", version, kind) says a value was shortened
SELECT substring(p::text FROM 11 FOR 2) AS flags FROM rl_p;
SELECT substring(fs.profile(v)::text FROM 11 FOR 2) AS flags FROM rl_long WHERE v LIKE 'short%';
-- text round trip
SELECT (p::text::fs.profile)::text = p::text AS text_round_trip FROM rl_p;
-- partial profiles combine to the one-pass bytes: profile_merge of groups,
-- and a parallel plan (partial aggregates on workers)
SELECT (SELECT fs.profile_merge(q) FROM (SELECT fs.profile(v) AS q FROM rl_long GROUP BY g % 7) s)::text
	   = (SELECT p::text FROM rl_p) AS merged_groups_same;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT fs.profile(v) FROM rl_long;
SELECT fs.profile(v)::text = (SELECT p::text FROM rl_p) AS parallel_same FROM rl_long;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;

-- Bounded: 12000 distinct values of 5 kB (60 MB of input) make a sampled
-- profile of at most 10000 stored values of at most 256 bytes.
SELECT fs.profile_count(p), octet_length(p::text) < 2 * 10000 * (256 + 12) AS bounded,
	   max_stored <= 256 AS values_bounded
FROM (SELECT fs.profile(repeat(md5(g::text), 160) || g) AS p FROM generate_series(1, 12000) AS g) s,
	 LATERAL (SELECT max(octet_length(value)) AS max_stored FROM fs.profile_top_values(s.p, 20000)) m;

-- nothing was left behind by the refused requests
SELECT count(*) AS training_sets FROM fs.training_sets WHERE name = 'rl_ts';

SELECT fs.drop_entity('rl_cust', cascade => true);
DROP TABLE rl_long, rl_spine, rl_src, rl_wide;
