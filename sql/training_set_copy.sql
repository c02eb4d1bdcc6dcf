--
-- training_set_copy: COPY (SELECT ... FROM <training set>) TO STDOUT (FORMAT
-- binary) is written by the extension, value by value without send function
-- calls; its bytes must be exactly those PostgreSQL's COPY writes for the
-- same rows, for every type, NULLs, encodings, filters and projections.
--
\set SHOW_CONTEXT never
SET client_min_messages = warning;
SET timezone = 'UTC';
CREATE SCHEMA tscp;

-- one feature view with a column of each kind the export writes itself
-- (bool, int2/4/8, float4/8, date, timestamp, text, varchar, bytea; bpchar
-- in a projection)
-- and of types it leaves to their send functions (numeric, jsonb, int[]),
-- with NULLs in every column and non-ASCII text
SELECT fs.create_entity('tscp_item', 'bigint');
CREATE TABLE tscp.src AS
SELECT (1 + i % 40)::bigint AS item_id,
	   timestamptz '2024-03-01' + (i / 40) * interval '1 hour' AS ts,
	   CASE WHEN i % 11 <> 0 THEN i % 3 = 0 END AS flag,
	   CASE WHEN i % 12 <> 0 THEN (i % 300 - 150)::int2 END AS small,
	   CASE WHEN i % 13 <> 0 THEN i * 7919 - 40000 END AS medium,
	   CASE WHEN i % 14 <> 0 THEN i::bigint * 1000000007 - 5 END AS big,
	   CASE WHEN i % 15 <> 0 THEN (i / 7.0)::float4 END AS ratio,
	   CASE WHEN i % 16 <> 0 THEN CASE i % 50 WHEN 1 THEN 'NaN'::float8 WHEN 2 THEN '-Infinity' WHEN 3 THEN -0.0
											  ELSE i * 1.37 - 100 END END AS amount,
	   CASE WHEN i % 17 <> 0 THEN date '2020-02-29' + i END AS day,
	   CASE WHEN i % 18 <> 0 THEN timestamp '1999-12-31 23:59:59.5' + i * interval '1 minute' END AS local_ts,
	   CASE WHEN i % 19 <> 0 THEN (ARRAY['ação', 'naïve café', 'plain', '', repeat('x', 200)])[1 + i % 5] END AS label,
	   CASE WHEN i % 20 <> 0 THEN ('v' || i)::varchar(8) END AS code,
	   CASE WHEN i % 22 <> 0 THEN decode(md5(i::text), 'hex') END AS digest,
	   CASE WHEN i % 23 <> 0 THEN (i / 3.0)::numeric(12, 4) END AS price,
	   CASE WHEN i % 24 <> 0 THEN jsonb_build_object('i', i, 'é', i % 2 = 0) END AS doc,
	   CASE WHEN i % 25 <> 0 THEN ARRAY[i, NULL, -i] END AS ints
  FROM generate_series(0, 1999) AS i;
SELECT fs.register_feature_view('tscp_v', 'tscp_item', 'tscp.src', 'item_id', 'ts');
SELECT rows_written FROM fs.materialize('tscp_v', full => true);
CREATE TABLE tscp.spine AS
SELECT (1 + i % 45)::bigint AS item_id, timestamptz '2024-03-01' + (i % 60) * interval '1 hour' + interval '30 minutes' AS ts
  FROM generate_series(0, 2999) AS i;
SELECT fs.create_training_set('tscp', 'tscp.spine', '{tscp_v:*}', 'item_id', 'ts',
							  split => '{"train": 0.7, "test": 0.3}');

-- the same rows in a heap table, in the order the set returns them
CREATE TABLE tscp.heap AS SELECT * FROM fs_data.tscp_v1_training;
SELECT count(*) AS rows, count(*) FILTER (WHERE tscp_v__label ~ '[^ -~]') AS non_ascii_labels
  FROM tscp.heap;
SELECT '/tmp/fs_tscp_' || pg_backend_pid() || '.set' AS fset, '/tmp/fs_tscp_' || pg_backend_pid() || '.heap' AS fheap,
	   '/tmp/fs_tscp_' || pg_backend_pid() || '.utf8' AS futf8 \gset

-- whole rows: the set's COPY against COPY of the heap table, byte for byte
COPY (SELECT * FROM fs_data.tscp_v1_training) TO STDOUT (FORMAT binary) \g :fset
COPY tscp.heap TO STDOUT (FORMAT binary) \g :fheap
SELECT length(pg_read_binary_file(:'fset')) AS bytes,
	   pg_read_binary_file(:'fset') = pg_read_binary_file(:'fheap') AS same_bytes;

-- a projection, expressions and a split filter; the old WITH BINARY spelling
COPY (SELECT tscp_v__label, item_id, tscp_v__amount * 2 AS twice, tscp_v__code::char(6) AS tag, split
		FROM fs_data.tscp_v1_training WHERE split = 'test') TO STDOUT WITH BINARY \g :fset
COPY (SELECT tscp_v__label, item_id, tscp_v__amount * 2 AS twice, tscp_v__code::char(6) AS tag, split
		FROM tscp.heap WHERE split = 'test') TO STDOUT (FORMAT binary) \g :fheap
SELECT length(pg_read_binary_file(:'fset')) AS bytes,
	   pg_read_binary_file(:'fset') = pg_read_binary_file(:'fheap') AS same_bytes;

-- (the same rows as a query: a projection over a split filter once lost rows,
-- the split value being freed with the first row's per-tuple memory)
SELECT count(*) AS rows, count(u) AS labels, count(split) AS splits,
	   (SELECT row(count(*), count(tscp_v__label)) FROM tscp.heap WHERE split = 'test') AS expected
  FROM (SELECT upper(tscp_v__label) AS u, split FROM fs_data.tscp_v1_training WHERE split = 'test' OFFSET 0) s;

-- no rows: the header and the trailer alone
COPY (SELECT * FROM fs_data.tscp_v1_training WHERE split = 'none') TO STDOUT (FORMAT binary) \g :fset
COPY (SELECT * FROM tscp.heap WHERE split = 'none') TO STDOUT (FORMAT binary) \g :fheap
SELECT length(pg_read_binary_file(:'fset')) AS bytes,
	   pg_read_binary_file(:'fset') = pg_read_binary_file(:'fheap') AS same_bytes;

-- another client encoding: text is converted as textsend converts it
COPY (SELECT * FROM fs_data.tscp_v1_training) TO STDOUT (FORMAT binary) \g :futf8
SET client_encoding = 'LATIN1';
COPY (SELECT * FROM fs_data.tscp_v1_training) TO STDOUT (FORMAT binary) \g :fset
COPY tscp.heap TO STDOUT (FORMAT binary) \g :fheap
RESET client_encoding;
SELECT pg_read_binary_file(:'fset') = pg_read_binary_file(:'fheap') AS same_bytes,
	   pg_read_binary_file(:'fset') <> pg_read_binary_file(:'futf8') AS converted;

-- the file reads back into the same rows
CREATE TABLE tscp.back (LIKE tscp.heap);
COPY (SELECT * FROM fs_data.tscp_v1_training) TO STDOUT (FORMAT binary) \g :fset
COPY tscp.back FROM :'fset' (FORMAT binary);
SELECT (SELECT count(*) FROM (TABLE tscp.back EXCEPT ALL TABLE tscp.heap) a) AS extra,
	   (SELECT count(*) FROM (TABLE tscp.heap EXCEPT ALL TABLE tscp.back) b) AS missing;

-- privileges are checked as for any query: a role without SELECT is refused
CREATE ROLE tscp_reader;
SET ROLE tscp_reader;
COPY (SELECT * FROM fs_data.tscp_v1_training) TO STDOUT (FORMAT binary);
RESET ROLE;

-- a corrupted chunk is an error naming it, on this path too
UPDATE fs_internal.training_chunks SET checksum = checksum # 1
 WHERE set_name = 'tscp' AND version = 1 AND chunk_no = 0 AND column_no = 3;
COPY (SELECT * FROM fs_data.tscp_v1_training) TO STDOUT (FORMAT binary) \g :fset
UPDATE fs_internal.training_chunks SET checksum = checksum # 1
 WHERE set_name = 'tscp' AND version = 1 AND chunk_no = 0 AND column_no = 3;
COPY (SELECT * FROM fs_data.tscp_v1_training) TO STDOUT (FORMAT binary) \g :fset

SELECT fs.drop_training_set('tscp');
SELECT fs.drop_feature_view('tscp_v');
DROP ROLE tscp_reader;
DROP SCHEMA tscp CASCADE;
