-- test/fuzz/profile_roundtrip.sql
--	Fuzz test of fs.profile: whatever its input accepts, and whatever its
--	aggregates and fs.profile_merge produce, must read back.
--
-- Seeds are profiles the aggregates make from random data (seeded random(),
-- serial and parallel), and merges of them.  Each seed is mutated byte-wise
-- (flip, set, +-1, delete, insert, truncate, splice with another seed) and,
-- for numeric profiles, field-wise (bounds, counts and exact sums replaced by
-- random or borrowed ones).  Every candidate must either be rejected as
-- invalid input, or be accepted and then:
--	 - read back from its text output and its binary output (send / recv,
--	   through a binary \copy) as the same bytes;
--	 - be canonical: fs.profile_merge of it alone writes the same bytes;
--	 - answer every accessor without error, a numeric one with a finite mean
--	   between its minimum and maximum;
--	 - merge with other accepted profiles of its kind into a profile that
--	   reads back, whatever the order (or fail cleanly on counts beyond int64).
-- Prints the number of inputs fuzzed and of failures, and fails (psql exits
-- 3) when there are failures.
--
-- Run: bash test/fuzz/run.sh, or against any server where feature_store can
-- be created: psql -X -f test/fuzz/profile_roundtrip.sql [-v seed=0.42]
-- [-v mutants=25] (the binary round trip goes through the client-side file
-- /tmp/fs_profile_fuzz.bin, removed at the end).

\set ON_ERROR_STOP 1
\if :{?seed}
\else
\set seed 0.4242
\endif
\if :{?mutants}
\else
\set mutants 25
\endif
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS feature_store;
SELECT setseed(:seed);

-- ---------------------------------------------------------------------------
-- Helpers
-- ---------------------------------------------------------------------------

-- One random element of an array.
CREATE FUNCTION pg_temp.pick(a anyarray) RETURNS anyelement LANGUAGE sql VOLATILE AS
$$ SELECT a[1 + floor(random() * array_length(a, 1))::int] $$;

-- Values that stress the exact sums and the sketch.
CREATE FUNCTION pg_temp.special_value() RETURNS float8 LANGUAGE sql VOLATILE AS $$
SELECT pg_temp.pick(ARRAY[0, '-0', 1, -1, 2, -3.5, 0.1, 1e10, -1e-10, 1e300, -1e300,
	1.7976931348623157e308, -1.7976931348623157e308, 5e-324, -5e-324, 1e-320,
	2.2250738585072014e-308, -2.2250738585072014e-308, 'NaN', 'Infinity', '-Infinity']::float8[])
$$;

-- The unsigned LEB128 varint of v.
CREATE FUNCTION pg_temp.varint(v numeric) RETURNS bytea LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	out bytea := '\x';
	b int;
BEGIN
	LOOP
		b := (v % 128)::int;
		v := floor(v / 128);
		IF v > 0 THEN
			out := out || set_byte('\x00'::bytea, 0, b + 128);
		ELSE
			RETURN out || set_byte('\x00'::bytea, 0, b);
		END IF;
	END LOOP;
END $$;

-- Reads the varint at offset pos of b; returns its value and the next offset.
CREATE FUNCTION pg_temp.read_varint(b bytea, pos int, OUT v numeric, OUT next int)
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	shift int := 0;
	x int;
BEGIN
	v := 0;
	LOOP
		x := get_byte(b, pos);
		pos := pos + 1;
		v := v + (x % 128) * (2::numeric ^ shift);
		shift := shift + 7;
		EXIT WHEN x < 128;
	END LOOP;
	next := pos;
END $$;

-- Skips an exact sum at offset pos of b; returns the next offset.
CREATE FUNCTION pg_temp.skip_exact(b bytea, pos int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	r record;
BEGIN
	r := pg_temp.read_varint(b, pos);
	IF r.v = 0 THEN
		RETURN r.next;
	END IF;
	pos := (pg_temp.read_varint(b, r.next)).next;	-- lowest digit
	RETURN pos + 1 + 4 * r.v::int;					-- sign, digits
END $$;

-- A random, canonically encoded exact sum of up to three digits within maxlimbs limbs.
CREATE FUNCTION pg_temp.random_exact(maxlimbs int) RETURNS bytea LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	n int := 1 + floor(random() * 3)::int;
	lo int := floor(random() * (maxlimbs - n + 1))::int;
	out bytea;
	d bigint;
BEGIN
	IF random() < 0.1 THEN
		RETURN '\x00';
	END IF;
	out := pg_temp.varint(n) || pg_temp.varint(lo) || set_byte('\x00'::bytea, 0, (random() < 0.5)::int);
	FOR i IN 1 .. n LOOP
		d := 1 + floor(random() * 4294967295)::bigint;
		out := out || substr(int8send(d), 5, 4);
	END LOOP;
	RETURN out;
END $$;

-- Mutates a profile's bytes (hex): one of several byte-level edits.
CREATE FUNCTION pg_temp.mutate_bytes(h text, other text) RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	b bytea := decode(h, 'hex');
	o bytea := decode(other, 'hex');
	n int := length(b);
	i int := floor(random() * n)::int;
	k int := floor(random() * 8)::int;
BEGIN
	CASE k
		WHEN 0 THEN b := set_byte(b, i, get_byte(b, i) # (1 + floor(random() * 255)::int));
		WHEN 1 THEN b := set_byte(b, i, floor(random() * 256)::int);
		WHEN 2 THEN b := set_byte(b, i, (get_byte(b, i) + pg_temp.pick(ARRAY[1, 255])) % 256);
		WHEN 3 THEN b := substr(b, 1, i) || substr(b, i + 2);
		WHEN 4 THEN b := substr(b, 1, i) || set_byte('\x00'::bytea, 0, floor(random() * 256)::int) || substr(b, i + 1);
		WHEN 5 THEN b := substr(b, 1, i);
		WHEN 6 THEN b := substr(b, 1, i) || substr(o, 1 + floor(random() * length(o))::int);
		ELSE
			b := set_byte(b, i, get_byte(b, i) # (1 + floor(random() * 255)::int));
			i := floor(random() * n)::int;
			b := set_byte(b, i, get_byte(b, i) # (1 + floor(random() * 255)::int));
	END CASE;
	RETURN encode(b, 'hex');
END $$;

-- Mutates a numeric profile (hex) field-wise: replaces its bounds, a count,
-- or an exact sum by a random one or the one of another numeric profile.
CREATE FUNCTION pg_temp.mutate_fields(h text, other text) RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	b bytea := decode(h, 'hex');
	o bytea := decode(other, 'hex');
	fb int[];				-- offsets: count, nulls, nan, posinf, neginf, zeros, min, sum, sumsq, accuracy
	fo int[];
	pos int;
	k int := floor(random() * 6)::int;
BEGIN
	IF get_byte(b, 4) <> 1 OR get_byte(o, 4) <> 1 THEN
		RETURN pg_temp.mutate_bytes(h, other);
	END IF;
	FOREACH pos IN ARRAY ARRAY[0, 1] LOOP
		DECLARE
			x bytea := CASE pos WHEN 0 THEN b ELSE o END;
			f int[] := ARRAY[6];
			p int := 6;
		BEGIN
			FOR j IN 1 .. 6 LOOP
				p := (pg_temp.read_varint(x, p)).next;
				f := f || p;			-- f[j + 1]: the field after count, nulls, ...
			END LOOP;
			-- f: count, nulls, nan, posinf, neginf, zeros, min
			f := f || (f[7] + 16);					-- sum
			f := f || pg_temp.skip_exact(x, f[8]);	-- sumsq
			f := f || pg_temp.skip_exact(x, f[9]);	-- accuracy
			IF pos = 0 THEN fb := f; ELSE fo := f; END IF;
		END;
	END LOOP;
	CASE k
		WHEN 0 THEN		-- a random bound
			pos := fb[7] + 8 * floor(random() * 2)::int;
			b := substr(b, 1, pos) || float8send(pg_temp.special_value()) || substr(b, pos + 9);
		WHEN 1 THEN		-- the bounds of the other profile
			b := substr(b, 1, fb[7]) || substr(o, fo[7] + 1, 16) || substr(b, fb[8] + 1);
		WHEN 2 THEN		-- a random sum
			b := substr(b, 1, fb[8]) || pg_temp.random_exact(70) || substr(b, fb[9] + 1);
		WHEN 3 THEN		-- a random sum of squares
			b := substr(b, 1, fb[9]) || pg_temp.random_exact(134) || substr(b, fb[10] + 1);
		WHEN 4 THEN		-- the sums of the other profile
			b := substr(b, 1, fb[8]) || substr(o, fo[8] + 1, fo[10] - fo[8]) || substr(b, fb[10] + 1);
		ELSE			-- a count changed
			pos := 1 + floor(random() * 6)::int;
			b := substr(b, 1, fb[pos])
				|| pg_temp.varint(greatest(0, (pg_temp.read_varint(b, fb[pos])).v
					+ pg_temp.pick(ARRAY[-1, 1, 2, 1000, 4611686018427387904]::numeric[])))
				|| substr(b, (pg_temp.read_varint(b, fb[pos])).next + 1);
	END CASE;
	RETURN encode(b, 'hex');
END $$;

-- Records a failure.
CREATE TEMP TABLE fz_fail (what text, input text, detail text);

-- Checks one candidate; returns it as a profile when accepted, NULL when rejected.
CREATE FUNCTION pg_temp.check_input(h text) RETURNS fs.profile LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	p fs.profile;
	r text;
	msg text;
	state text;
	mean float8;
	lo float8;
	hi float8;
BEGIN
	BEGIN
		p := h::fs.profile;
	EXCEPTION WHEN invalid_binary_representation OR invalid_text_representation
	          OR character_not_in_repertoire OR untranslatable_character THEN
		RETURN NULL;
	WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
		INSERT INTO fz_fail VALUES ('input failed oddly', h, state || ' ' || msg);
		RETURN NULL;
	END;
	BEGIN
		IF p::text <> h THEN
			INSERT INTO fz_fail VALUES ('text output differs', h, p::text);
		END IF;
		IF fs_internal.profile_send(p) <> decode(h, 'hex') THEN
			INSERT INTO fz_fail VALUES ('binary output differs', h, NULL);
		END IF;
		SELECT fs.profile_merge(q)::text INTO r FROM (VALUES (p)) v(q);
		IF r <> h THEN
			INSERT INTO fz_fail VALUES ('not canonical: re-encoded differently', h, r);
		END IF;
		PERFORM fs.profile_count(p), fs.profile_nulls(p), fs.profile_kind(p);
		IF fs.profile_kind(p) = 'numeric' THEN
			PERFORM fs.profile_nan_count(p), fs.profile_inf_count(p), fs.profile_variance(p),
				fs.profile_stddev(p), fs.profile_quantile(p, 0.5), fs.profile_quantile(p, 0.99);
			PERFORM count(*) FROM fs.profile_histogram(p, 7);
			mean := fs.profile_mean(p);
			lo := fs.profile_min(p);
			hi := fs.profile_max(p);
			-- within [min, max] up to rounding (in numeric: no overflow near the float8 limits)
			IF mean IS NOT NULL AND (mean IN ('Infinity', '-Infinity', 'NaN')
				OR mean::numeric < lo::numeric - abs(lo::numeric) * 1e-9
				OR mean::numeric > hi::numeric + abs(hi::numeric) * 1e-9) THEN
				INSERT INTO fz_fail VALUES ('mean outside [min, max]', h,
											format('mean %s, min %s, max %s', mean, lo, hi));
			END IF;
		ELSE
			PERFORM fs.profile_distinct(p);
			PERFORM count(*) FROM fs.profile_top_values(p, 3);
		END IF;
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
		INSERT INTO fz_fail VALUES ('accepted value fails to read back', h, state || ' ' || msg);
	END;
	RETURN p;
END $$;

-- Checks the merge of two accepted profiles of one kind, in both orders.
CREATE FUNCTION pg_temp.check_merge(a fs.profile, b fs.profile) RETURNS void LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	ab text;
	ba text;
	msg text;
	state text;
BEGIN
	SELECT fs.profile_merge(q ORDER BY o)::text INTO ab FROM (VALUES (1, a), (2, b)) v(o, q);
	SELECT fs.profile_merge(q ORDER BY o)::text INTO ba FROM (VALUES (2, a), (1, b)) v(o, q);
	IF ab <> ba THEN
		INSERT INTO fz_fail VALUES ('merge depends on order', a::text || ' + ' || b::text, ab || ' vs ' || ba);
	END IF;
	IF ab::fs.profile::text <> ab THEN
		INSERT INTO fz_fail VALUES ('merge does not read back', a::text || ' + ' || b::text, ab);
	END IF;
EXCEPTION WHEN numeric_value_out_of_range THEN
	NULL;				-- counts beyond int64: a clean refusal
WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
	INSERT INTO fz_fail VALUES ('merge failed', a::text || ' + ' || b::text, state || ' ' || msg);
END $$;

-- ---------------------------------------------------------------------------
-- Seeds: what the aggregates make
-- ---------------------------------------------------------------------------

CREATE TEMP TABLE fz_values AS
SELECT s, CASE
		WHEN u < 0.25 THEN pg_temp.special_value()
		WHEN u < 0.30 THEN NULL
		WHEN s % 4 = 0 THEN round((random() * 20 - 10)::numeric)::float8
		ELSE (random() - 0.5) * 10 ^ (floor(random() * 40) - 20) * CASE s % 3 WHEN 0 THEN 1e280 WHEN 1 THEN 1e-280 ELSE 1 END
	END AS x
FROM generate_series(1, 160) s, LATERAL generate_series(1, (s * 7) % 41) i, LATERAL (SELECT random() AS u) r;

CREATE TEMP TABLE fz_words AS
SELECT s, CASE
		WHEN u < 0.05 THEN NULL
		WHEN u < 0.10 THEN ''
		WHEN u < 0.20 THEN pg_temp.pick(ARRAY['é', '日本', 'ß', 'a b', E'\t'])
		ELSE substr(md5(random()::text), 1, 1 + (s % 3))
	END AS w
FROM generate_series(1, 40) s, LATERAL generate_series(1, (s * 13) % 97) i, LATERAL (SELECT random() AS u) r;

CREATE TEMP TABLE fz_seed (id serial, kind text, h text);
INSERT INTO fz_seed (kind, h)
SELECT 'numeric', fs.profile(x)::text FROM fz_values GROUP BY s
UNION ALL
SELECT 'numeric', fs.profile(x::numeric)::text FROM fz_values WHERE x BETWEEN -1e300 AND 1e300 GROUP BY s % 10
UNION ALL
SELECT 'numeric', fs.profile(x)::text FROM fz_values WHERE false
UNION ALL
SELECT 'text', fs.profile(w)::text FROM fz_words GROUP BY s
UNION ALL
SELECT 'text', fs.profile(w)::text FROM fz_words WHERE false
UNION ALL	-- sampled text profiles
SELECT 'text', fs.profile((g * (1 + k))::text)::text FROM generate_series(1, 12000) g, generate_series(0, 1) k GROUP BY k;
-- merges of seeds
INSERT INTO fz_seed (kind, h)
SELECT kind, fs.profile_merge(h::fs.profile)::text FROM fz_seed GROUP BY kind, id % 9;

-- The parallel aggregates (serialize, combine, deserialize) write the serial bytes.
CREATE TEMP TABLE fz_big AS
SELECT CASE WHEN g % 97 = 0 THEN pg_temp.special_value() ELSE (random() - 0.5) * 10 ^ (floor(random() * 30) - 15) END AS x,
	   substr(md5(g::text), 1, 4) AS w
FROM generate_series(1, 200000) g;
ANALYZE fz_big;
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE fz_serial AS SELECT fs.profile(x)::text AS n, fs.profile(w)::text AS t FROM fz_big;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
-- temp tables are not read by workers: copy into a plain table
DROP TABLE IF EXISTS fz_big_plain;
CREATE TABLE fz_big_plain AS SELECT * FROM fz_big;
ANALYZE fz_big_plain;
INSERT INTO fz_fail
SELECT 'parallel aggregate differs from serial', NULL, NULL
FROM (SELECT fs.profile(x)::text AS n, fs.profile(w)::text AS t FROM fz_big_plain) p, fz_serial s
WHERE p.n <> s.n OR p.t <> s.t;
DROP TABLE fz_big_plain;
RESET ALL;
SET client_min_messages = warning;
INSERT INTO fz_seed (kind, h) SELECT 'numeric', n FROM fz_serial UNION ALL SELECT 'text', t FROM fz_serial;

-- Crafted: one value 1 (min = max = 1) with a sum of 2^1087 (mean Infinity,
-- and two of them merged used to exceed the encodable range), and 2^62
-- values 1 with a sum of 2^1080 (mean Infinity).
INSERT INTO fz_seed (kind, h) VALUES
('crafted', '4653500101000100000000003ff00000000000003ff00000000000000145008000000001440000000001003200010001'),
('crafted', '46535001010080808080808080804000000000003ff00000000000003ff000000000000001450001000000014500400000000032000100808080808080808040');

-- ---------------------------------------------------------------------------
-- Candidates: the seeds and their mutants
-- ---------------------------------------------------------------------------

CREATE TEMP TABLE fz_cand (id serial, kind text, how text, h text);
INSERT INTO fz_cand (kind, how, h) SELECT kind, 'seed', h FROM fz_seed;
INSERT INTO fz_cand (kind, how, h)
SELECT s.kind, 'bytes', pg_temp.mutate_bytes(s.h, o.h)
FROM fz_seed s, generate_series(1, :mutants) m,
	 LATERAL (SELECT h FROM fz_seed o WHERE o.id = 1 + (s.id * 31 + m * 17) % (SELECT count(*) FROM fz_seed)) o;
INSERT INTO fz_cand (kind, how, h)
SELECT s.kind, 'fields', pg_temp.mutate_fields(s.h, o.h)
FROM fz_seed s, generate_series(1, :mutants) m,
	 LATERAL (SELECT h FROM fz_seed o WHERE o.kind = 'numeric'
			  ORDER BY (o.id * 7919 + s.id * 31 + m) % 1009 LIMIT 1) o
WHERE s.kind = 'numeric';

CREATE TEMP TABLE fz_ok AS
SELECT id, kind, how, p, fs.profile_kind(p) AS pkind
FROM (SELECT id, kind, how, pg_temp.check_input(h) AS p FROM fz_cand) c
WHERE p IS NOT NULL;
CREATE INDEX ON fz_ok (pkind);
ANALYZE fz_ok;

-- the seeds the aggregates made must all be accepted
INSERT INTO fz_fail
SELECT 'aggregate output rejected', c.h, NULL
FROM fz_cand c WHERE c.how = 'seed' AND c.kind <> 'crafted' AND NOT EXISTS (SELECT FROM fz_ok o WHERE o.id = c.id);

-- binary input: every accepted value through send and recv
CREATE TEMP TABLE fz_back (LIKE fz_ok);
\copy fz_ok TO '/tmp/fs_profile_fuzz.bin' (FORMAT binary)
\copy fz_back FROM '/tmp/fs_profile_fuzz.bin' (FORMAT binary)
\! rm -f /tmp/fs_profile_fuzz.bin
INSERT INTO fz_fail
SELECT 'binary round trip differs', o.p::text, b.p::text
FROM fz_ok o LEFT JOIN fz_back b USING (id) WHERE b.p IS NULL OR b.p::text <> o.p::text;

-- merges: random pairs of accepted profiles of one kind, and each with itself
SELECT count(*) AS merges FROM (
	SELECT pg_temp.check_merge(a.p, b.p)
	FROM fz_ok a JOIN LATERAL (
		SELECT p FROM fz_ok b
		WHERE b.pkind = a.pkind
		ORDER BY (b.id::bigint * 7919 + a.id::bigint * 104729) % 100003 LIMIT 2) b ON true
	UNION ALL
	SELECT pg_temp.check_merge(p, p) FROM fz_ok
) m \gset

-- ---------------------------------------------------------------------------
-- Result
-- ---------------------------------------------------------------------------

SELECT what, count(*) AS n, min(left(input, 120)) AS example, min(left(detail, 200)) AS detail
FROM fz_fail GROUP BY what ORDER BY what;

SELECT format('profile_roundtrip: %s inputs fuzzed (%s seeds, %s byte mutants, %s field mutants), %s accepted (%s mutants), %s merges checked, %s failures',
			  (SELECT count(*) FROM fz_cand),
			  (SELECT count(*) FROM fz_cand WHERE how = 'seed'),
			  (SELECT count(*) FROM fz_cand WHERE how = 'bytes'),
			  (SELECT count(*) FROM fz_cand WHERE how = 'fields'),
			  (SELECT count(*) FROM fz_ok),
			  (SELECT count(*) FROM fz_ok WHERE how <> 'seed'),
			  :merges,
			  (SELECT count(*) FROM fz_fail)) AS result;

DO $$
BEGIN
	IF (SELECT count(*) FROM fz_fail) > 0 THEN
		RAISE EXCEPTION 'profile_roundtrip: % failures', (SELECT count(*) FROM fz_fail);
	END IF;
END $$;
