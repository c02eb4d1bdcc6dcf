-- fs.feature_ref: parsing, canonical output, comparison, binary I/O and errors.
\set SHOW_CONTEXT never
SELECT r AS written, r::fs.feature_ref AS canonical
  FROM (VALUES ('txn:spend'), ('Txn:Spend'), ('txn@2:spend'), ('txn:*'), ('txn@12:*'),
               ('"Txn":"Spend 7d"'), ('"a:b"@3:"c@d"'), ('  txn:spend  '), ('"say ""hi""":x'),
               ('txn:"select"'), ('_x$1:y_2'), ('ünï:côde')) AS t(r);

-- parts
SELECT fs.ref_view(r), fs.ref_version(r), fs.ref_feature(r)
  FROM (VALUES ('txn:spend'::fs.feature_ref), ('"My View"@7:*')) AS t(r);
SELECT fs.feature_ref('My View', 'x', 2), fs.feature_ref('v', '*'), fs.feature_ref('v', NULL, NULL);

-- canonical output reads back to the same value
SELECT r, r::text::fs.feature_ref = r AS round_trip
  FROM (VALUES ('"a:b"@3:"c@d"'::fs.feature_ref), ('"Say ""hi"""@1:*')) AS t(r);

-- equality, ordering, DISTINCT, arrays, indexes (btree and hash)
SELECT 'txn:spend'::fs.feature_ref = 'TXN:SPEND' AS folded,
       'txn:spend'::fs.feature_ref = 'txn@1:spend' AS pinned_differs,
       'txn:a'::fs.feature_ref < 'txn:b' AS by_feature,
       'txn:b'::fs.feature_ref < 'txn@1:a' AS latest_first,
       'txn:z'::fs.feature_ref < 'txn:*' AS star_last;
SELECT DISTINCT r FROM unnest(ARRAY['a:x', 'A:x', 'a@1:x', 'a:*', 'b:y']::fs.feature_ref[]) r ORDER BY r;
SELECT array_agg(r ORDER BY r) FROM unnest(ARRAY['b:y', 'a:*', 'a@2:x', 'a:x']::fs.feature_ref[]) r;
CREATE TABLE fref_t (r fs.feature_ref PRIMARY KEY);
CREATE INDEX fref_t_hash ON fref_t USING hash (r);
INSERT INTO fref_t VALUES ('a:x'), ('a@1:x'), ('a:*');
INSERT INTO fref_t VALUES ('A:X');  -- duplicate after folding
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT r FROM fref_t WHERE r = 'a@1:x';
SELECT r FROM fref_t WHERE r = 'a@1:x';
SET enable_indexscan = off;
SET enable_bitmapscan = on;
DROP INDEX fref_t_hash;
RESET enable_seqscan;
RESET enable_indexscan;
RESET enable_bitmapscan;
SET enable_mergejoin = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM fref_t a JOIN fref_t b USING (r);
SELECT count(*) FROM fref_t a JOIN fref_t b USING (r);
RESET enable_mergejoin;

-- binary I/O round trip through COPY
CREATE TABLE fref_bin (r fs.feature_ref);
DO $$
BEGIN
	EXECUTE format('COPY fref_t TO %L (FORMAT binary)', '/tmp/fref_' || pg_backend_pid());
	EXECUTE format('COPY fref_bin FROM %L (FORMAT binary)', '/tmp/fref_' || pg_backend_pid());
END $$;
SELECT r FROM fref_bin ORDER BY r;
SELECT fs_internal.feature_ref_send('"a b"@2:c');

-- malformed binary input is an error, not a crash: a binary COPY file whose
-- one field is the given bytes
CREATE FUNCTION fref_copy_bytes(payload bytea) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	f text := '/tmp/fref_bad_' || pg_backend_pid();
	lo oid;
BEGIN
	lo := lo_from_bytea(0, '\x5047434f50590aff0d0a00'::bytea || '\x0000000000000000'::bytea
		|| '\x0001'::bytea || int4send(length(payload)) || payload || '\xffff'::bytea);
	PERFORM lo_export(lo, f);
	PERFORM lo_unlink(lo);
	EXECUTE format('COPY fref_bin FROM %L (FORMAT binary)', f);
END $$;
-- a well-formed one first, so the errors below are about the payloads
SELECT fref_copy_bytes(fs_internal.feature_ref_send('ok:fine'));
SELECT r FROM fref_bin WHERE r = 'ok:fine';
SELECT fref_copy_bytes('\x0200000000000000000161000000017a');     -- unknown format
SELECT fref_copy_bytes('\x0104000000000000000161000000017a');     -- unknown flags
SELECT fref_copy_bytes('\x0101000000000000000161000000017a');     -- all features, yet a feature name
SELECT fref_copy_bytes('\x01000000000000000000000000017a');       -- empty view name
SELECT fref_copy_bytes('\x01000000000000000003610062000000017a');   -- zero byte in the view name
SELECT fref_copy_bytes('\x0100ffffffff0000000161000000017a');     -- negative version
SELECT fref_copy_bytes('\x0100000000000000ff61');                 -- length past the end
SELECT fref_copy_bytes('\x01000000000000000001610000000000');     -- named feature, empty name
SELECT count(*) FROM fref_bin;

-- text input errors name the bad part
SELECT 'txn'::fs.feature_ref;
SELECT 'txn:'::fs.feature_ref;
SELECT ':spend'::fs.feature_ref;
SELECT 'txn@:spend'::fs.feature_ref;
SELECT 'txn@0:spend'::fs.feature_ref;
SELECT 'txn@-1:spend'::fs.feature_ref;
SELECT 'txn@99999999999:spend'::fs.feature_ref;
SELECT 'txn:spend extra'::fs.feature_ref;
SELECT 'txn:sp end'::fs.feature_ref;
SELECT 'txn;drop:x'::fs.feature_ref;
SELECT '1txn:x'::fs.feature_ref;
SELECT '"txn:x'::fs.feature_ref;
SELECT '"":x'::fs.feature_ref;
SELECT 'txn:**'::fs.feature_ref;
SELECT (repeat('v', 64) || ':x')::fs.feature_ref;
SELECT fs.feature_ref(NULL, 'x');
SELECT fs.feature_ref('v', 'x', 0);
SELECT length(fs.feature_ref(repeat('v', 63), 'x')::text) AS longest_name_fits;
