--
-- training_set_large: a set much larger than work_mem is built and read
-- back in bounded memory, one chunk group at a time.
--
\set SHOW_CONTEXT never
SET client_min_messages = warning;
SET timezone = 'UTC';
SET work_mem = '64kB';
CREATE SCHEMA tsl;
SELECT fs.create_entity('tsl_item', 'bigint');
-- 1000 items priced every hour for 100 hours, with a 32-character note
CREATE TABLE tsl.prices AS
SELECT (i % 1000)::bigint AS item_id, timestamptz '2024-01-01' + (i / 1000) * interval '1 hour' AS at,
	   (i % 1009) * 0.01::float8 AS price, md5(i::text) AS note
  FROM generate_series(0, 99999) AS i;
SELECT fs.register_feature_view('tsl_prices', 'tsl_item', 'tsl.prices', 'item_id', 'at');
SELECT rows_written FROM fs.materialize('tsl_prices', full => true);
-- 100,000 spine rows
CREATE TABLE tsl.spine AS
SELECT (i % 1000)::bigint AS item_id, timestamptz '2024-01-02' + (i % 97) * interval '17 minutes' AS ts, i AS n
  FROM generate_series(1, 100000) AS i;

SELECT fs.create_training_set('tsl_set', 'tsl.spine', '{tsl_prices:*}', 'item_id', 'ts',
							  split => '{"train": 0.9, "test": 0.1}');
SELECT row_count, chunk_groups, (split_rows ->> 'train')::int + (split_rows ->> 'test')::int AS split_total
  FROM fs.training_sets WHERE name = 'tsl_set';

-- Read back: the same rows as the retrieval run directly.
SELECT fs.historical_features('tsl.spine', '{tsl_prices:*}', 'item_id', 'ts') AS retrieval \gset
SELECT (SELECT (count(*), sum(n), sum(item_id), sum(tsl_prices__price::numeric), count(DISTINCT tsl_prices__note), max(ts))
		  FROM (:retrieval) r)
	 = (SELECT (count(*), sum(n), sum(item_id), sum(tsl_prices__price::numeric), count(DISTINCT tsl_prices__note), max(ts))
		  FROM fs_data.tsl_set_v1_training) AS same_rows;
SELECT split, count(*) FROM fs_data.tsl_set_v1_training GROUP BY 1 ORDER BY 1;

-- A scan holds one chunk group (at most 16384 rows) decompressed and decodes
-- it 256 rows at a time: a small fraction of the whole set, whatever
-- work_mem says.
CREATE FUNCTION tsl.peak_kb(q text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
	line text;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
		IF line ~ 'Peak Decode Memory' THEN
			RETURN substring(line FROM 'Peak Decode Memory: ([0-9]+) kB')::int;
		END IF;
	END LOOP;
END
$$;
SELECT tsl.peak_kb('SELECT * FROM fs_data.tsl_set_v1_training') < 2048 AS bounded,
	   pg_total_relation_size('tsl.spine') / 1024 > 4096 AS spine_alone_larger;
SELECT tsl.peak_kb($$SELECT * FROM fs_data.tsl_set_v1_training WHERE split = 'test'$$) < 2048 AS bounded_split;
COPY (SELECT * FROM fs_data.tsl_set_v1_training) TO '/dev/null' (FORMAT binary);
COPY (SELECT * FROM fs_data.tsl_set_v1_training) TO '/dev/null' (FORMAT csv, HEADER);

SELECT fs.drop_training_set('tsl_set');
DROP SCHEMA tsl CASCADE;
SELECT fs.drop_feature_view('tsl_prices');
SELECT fs.drop_entity('tsl_item');
