--
-- training_set_corruption: a damaged or missing chunk is an error naming the
-- training set, its version and the chunk; never a crash, never wrong rows.
-- (The chunks are changed here as a superuser, or a failing disk, would.)
--
\set SHOW_CONTEXT never
SET client_min_messages = warning;
SET timezone = 'UTC';
CREATE SCHEMA tsc;
SELECT fs.create_entity('tsc_user', 'int');
CREATE TABLE tsc.events AS
SELECT (i % 50)::int AS user_id, timestamptz '2024-01-01' + i * interval '1 hour' AS at,
	   (i % 200) * 0.25::float8 AS score, (i % 9) * 1.5 AS amount, 'tag ' || (i % 7) AS tag
  FROM generate_series(1, 2000) AS i;
SELECT fs.register_feature_view('tsc_events', 'tsc_user', 'tsc.events', 'user_id', 'at');
SELECT rows_written FROM fs.materialize('tsc_events', full => true);
CREATE TABLE tsc.spine AS
SELECT (i % 50)::int AS user_id, timestamptz '2024-02-01' + i * interval '1 minute' AS ts
  FROM generate_series(1, 40000) AS i;

-- 40000 rows: chunk groups 0 and 1 of 16384 rows, group 2 of 7232; a chunk
-- per column, each stored the way its type and values suit.
SELECT fs.create_training_set('tsc_set', 'tsc.spine', '{tsc_events:*}', 'user_id', 'ts');
SELECT chunk_no, column_no, nrows, fs_internal.training_chunk_codec(data) AS codec,
	   checksum = fs_internal.training_chunk_checksum(data) AS checksum_ok
  FROM fs_internal.training_chunks WHERE set_name = 'tsc_set' ORDER BY 1, 2;
CREATE TABLE tsc.good AS SELECT * FROM fs_data.tsc_set_v1_training;
CREATE TABLE tsc.saved AS SELECT *, ctid AS at_ctid, xmin::text AS at_xmin FROM fs_internal.training_chunks;

-- Written once, never rewritten: another version leaves the chunks alone.
SELECT fs.create_training_set('tsc_set', 'tsc.spine', '{tsc_events:score}', 'user_id', 'ts');
SELECT count(*) AS rewritten_chunks
  FROM fs_internal.training_chunks c JOIN tsc.saved s USING (set_name, version, chunk_no, column_no)
 WHERE (c.ctid, c.xmin::text) <> (s.at_ctid, s.at_xmin);
SELECT fs.drop_training_set('tsc_set', 2);

-- Puts the version's chunks back as they were written.
CREATE FUNCTION tsc.restore() RETURNS void LANGUAGE sql AS $$
	DELETE FROM fs_internal.training_chunks WHERE set_name = 'tsc_set';
	INSERT INTO fs_internal.training_chunks
	SELECT set_name, version, chunk_no, column_no, split, nrows, checksum, data FROM tsc.saved WHERE set_name = 'tsc_set';
$$;
-- Whether the set reads back exactly as written (every column).
CREATE FUNCTION tsc.intact() RETURNS boolean LANGUAGE sql AS $$
	SELECT NOT EXISTS (SELECT * FROM tsc.good EXCEPT ALL SELECT * FROM fs_data.tsc_set_v1_training)
	   AND NOT EXISTS (SELECT * FROM fs_data.tsc_set_v1_training EXCEPT ALL SELECT * FROM tsc.good)
$$;
SELECT tsc.intact();

-- A flipped bit in the middle of a chunk: the CRC-32C catches it.  Columns
-- that do not need that chunk still read; nothing reads it without an error.
UPDATE fs_internal.training_chunks SET data = set_byte(data, 40, get_byte(data, 40) # 16)
 WHERE set_name = 'tsc_set' AND chunk_no = 1 AND column_no = 3;
SELECT sum(tsc_events__score) FROM fs_data.tsc_set_v1_training;
SELECT count(*) FROM fs_data.tsc_set_v1_training WHERE tsc_events__score > 10;
COPY (SELECT * FROM fs_data.tsc_set_v1_training) TO '/dev/null' (FORMAT binary);
SELECT count(*) AS rows, sum(user_id) = (SELECT sum(user_id) FROM tsc.good) AS other_columns_read
  FROM fs_data.tsc_set_v1_training;
SELECT tsc.restore();

-- A truncated chunk.
UPDATE fs_internal.training_chunks SET data = substring(data FROM 1 FOR 12)
 WHERE set_name = 'tsc_set' AND chunk_no = 0 AND column_no = 5;
SELECT count(tsc_events__tag) FROM fs_data.tsc_set_v1_training;
SELECT tsc.restore();

-- A damaged checksum.
UPDATE fs_internal.training_chunks SET checksum = checksum # 1 WHERE set_name = 'tsc_set' AND chunk_no = 2 AND column_no = 1;
SELECT count(user_id) FROM fs_data.tsc_set_v1_training;
SELECT tsc.restore();

-- Damage the CRC cannot see (its checksum recomputed): the decoder's own
-- checks of the header, the lengths and the compressed frame.
CREATE FUNCTION tsc.damage(chunk int, col int, how text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	d bytea;
BEGIN
	SELECT data INTO d FROM fs_internal.training_chunks WHERE set_name = 'tsc_set' AND chunk_no = chunk AND column_no = col;
	d := CASE how
		 WHEN 'rows' THEN set_byte(d, 8, get_byte(d, 8) # 1)			-- the row count in the header
		 WHEN 'size' THEN set_byte(d, 17, get_byte(d, 17) # 1)			-- the payload size in the header
		 WHEN 'codec' THEN set_byte(d, 1, 6)							-- another codec (text)
		 WHEN 'format' THEN set_byte(d, 0, 9)
		 WHEN 'frame' THEN substring(d FROM 1 FOR octet_length(d) - 3)	-- a cut zstd frame
		 END;
	UPDATE fs_internal.training_chunks SET data = d, checksum = fs_internal.training_chunk_checksum(d)
	 WHERE set_name = 'tsc_set' AND chunk_no = chunk AND column_no = col;
END
$$;
SELECT tsc.damage(0, 2, 'rows');
SELECT max(ts) FROM fs_data.tsc_set_v1_training;
SELECT tsc.restore();
SELECT tsc.damage(1, 4, 'size');
SELECT max(tsc_events__amount) FROM fs_data.tsc_set_v1_training;
SELECT tsc.restore();
SELECT tsc.damage(2, 3, 'codec');
SELECT max(tsc_events__score) FROM fs_data.tsc_set_v1_training;
SELECT tsc.restore();
SELECT tsc.damage(2, 5, 'format');
SELECT max(tsc_events__tag) FROM fs_data.tsc_set_v1_training;
SELECT tsc.restore();
SELECT tsc.damage(0, 1, 'frame');
SELECT max(user_id) FROM fs_data.tsc_set_v1_training;
SELECT tsc.restore();

-- Missing and disagreeing chunks: a column of a group, a whole group, a
-- group's row count.
DELETE FROM fs_internal.training_chunks WHERE set_name = 'tsc_set' AND chunk_no = 1 AND column_no = 2;
SELECT count(*) FROM fs_data.tsc_set_v1_training;
SELECT tsc.restore();
DELETE FROM fs_internal.training_chunks WHERE set_name = 'tsc_set' AND chunk_no = 2;
SELECT count(*) FROM fs_data.tsc_set_v1_training;
SELECT count(*) FROM fs_data.tsc_set_v1_training LIMIT 1;
SELECT tsc.restore();
DELETE FROM fs_internal.training_chunks WHERE set_name = 'tsc_set' AND chunk_no = 1;
SELECT count(*) FROM fs_data.tsc_set_v1_training;
SELECT tsc.restore();
UPDATE fs_internal.training_chunks SET nrows = nrows - 1 WHERE set_name = 'tsc_set' AND chunk_no = 0 AND column_no = 3;
SELECT count(*) FROM fs_data.tsc_set_v1_training;
SELECT tsc.restore();
SELECT tsc.intact();

-- The decoder alone (no CRC in front of it) against every single-byte
-- change and every truncation of one chunk of each kind: each is rejected
-- as corrupted, or decodes to values of the column's type; nothing crashes.
CREATE FUNCTION tsc.fuzz(d bytea, t regtype, OUT tried int, OUT rejected int, OUT other_errors text[],
						 OUT truncations_rejected boolean)
LANGUAGE plpgsql AS $$
DECLARE
	i int;
BEGIN
	tried := 0;
	rejected := 0;
	other_errors := '{}';
	FOR i IN 0 .. octet_length(d) - 1 LOOP
		tried := tried + 1;
		BEGIN
			PERFORM fs_internal.training_chunk_values(set_byte(d, i, get_byte(d, i) # 85), t);
		EXCEPTION WHEN data_corrupted THEN
			rejected := rejected + 1;
		WHEN OTHERS THEN
			other_errors := other_errors || SQLSTATE;
		END;
	END LOOP;
	truncations_rejected := true;
	FOR i IN 0 .. octet_length(d) - 1 LOOP
		BEGIN
			PERFORM fs_internal.training_chunk_values(substring(d FROM 1 FOR i), t);
			truncations_rejected := false;
		EXCEPTION WHEN data_corrupted THEN
			NULL;
		END;
	END LOOP;
END
$$;
SELECT c.column_no, tc.type, fs_internal.training_chunk_codec(c.data) AS codec,
	   f.tried = octet_length(c.data) AS every_byte, f.rejected > 0 AS some_rejected, f.other_errors,
	   f.truncations_rejected
  FROM tsc.saved c
  JOIN fs.training_set_columns tc ON tc.name = c.set_name AND tc.version = c.version AND tc.position = c.column_no,
	   LATERAL tsc.fuzz(c.data, tc.type) f
 WHERE c.set_name = 'tsc_set' AND c.chunk_no = 2
 ORDER BY 1;
-- a valid chunk decoded as another type is refused too
SELECT fs_internal.training_chunk_values(data, 'text')
  FROM tsc.saved WHERE set_name = 'tsc_set' AND chunk_no = 2 AND column_no = 1;
SELECT fs_internal.training_chunk_values('\x0102'::bytea, 'int');

SELECT fs.drop_training_set('tsc_set');
DROP SCHEMA tsc CASCADE;
SELECT fs.drop_feature_view('tsc_events');
SELECT fs.drop_entity('tsc_user');
