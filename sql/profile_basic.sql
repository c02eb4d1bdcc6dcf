-- fs.profile: edge cases, accessors, text I/O validation
-- the text form is the hex of the canonical bytes
SELECT fs.profile(x) FROM (VALUES (1.0::float8), (2.0), (NULL)) v(x);
SELECT fs.profile(x) FROM (VALUES ('a'::text), ('b'), ('a'), (NULL)) v(x);

-- a readable summary
SELECT fs.profile_summary(fs.profile(g::float8)) FROM generate_series(1, 100) g;
SELECT fs.profile_summary(fs.profile(v)) FROM unnest('{a,b,a,c,a,b,d,e,f,g,NULL}'::text[]) v;
SELECT fs.profile_summary(fs.profile(g::float8)) FROM generate_series(1, 0) g;

-- empty input: an empty profile, not NULL
SELECT fs.profile_count(p), fs.profile_nulls(p), fs.profile_mean(p), fs.profile_min(p),
       fs.profile_stddev(p), fs.profile_quantile(p, 0.5), fs.profile_kind(p)
FROM (SELECT fs.profile(x) p FROM (SELECT 1.0::float8 x WHERE false) s) s;
SELECT fs.profile_count(p), fs.profile_kind(p), fs.profile_distinct(p)
FROM (SELECT fs.profile(x) p FROM (SELECT 'a'::text x WHERE false) s) s;

-- all NULL
SELECT fs.profile_count(p), fs.profile_nulls(p), fs.profile_mean(p), fs.profile_max(p)
FROM (SELECT fs.profile(NULL::float8) p FROM generate_series(1, 5)) s;

-- a single value
SELECT fs.profile_count(p), fs.profile_mean(p), fs.profile_stddev(p), fs.profile_min(p),
       fs.profile_max(p), fs.profile_quantile(p, 0), fs.profile_quantile(p, 0.5), fs.profile_quantile(p, 1)
FROM (SELECT fs.profile(42.5::float8) p) s;
SELECT * FROM fs.profile_histogram((SELECT fs.profile(42.5::float8)), 3);

-- NaN and infinities are counted apart; moments and quantiles cover finite values
SELECT fs.profile_count(p), fs.profile_nan_count(p), fs.profile_inf_count(p),
       fs.profile_mean(p), fs.profile_min(p), fs.profile_max(p), fs.profile_variance(p)
FROM (SELECT fs.profile(x) p
      FROM (VALUES ('NaN'::float8), ('Infinity'), ('-Infinity'), (1), (3), (NULL)) v(x)) s;
SELECT fs.profile_count(p), fs.profile_nan_count(p), fs.profile_inf_count(p), fs.profile_mean(p)
FROM (SELECT fs.profile(x) p FROM (VALUES ('NaN'::float8), ('Infinity')) v(x)) s;

-- -0 and +0 are one value, so the bytes do not depend on their order
SELECT (SELECT fs.profile(x ORDER BY o) FROM (VALUES ('-0'::float8, 1), (0, 2), (-1, 3)) v(x, o))::text
     = (SELECT fs.profile(x ORDER BY o DESC) FROM (VALUES ('-0'::float8, 1), (0, 2), (-1, 3)) v(x, o))::text
  AS zero_canonical;

-- huge values: moments stay exact where the result is finite, infinite where it is not
SELECT fs.profile_mean(p), fs.profile_variance(p), fs.profile_max(p)
FROM (SELECT fs.profile(x) p FROM (VALUES (1e200::float8), (-1e200)) v(x)) s;
SELECT fs.profile_mean(p), fs.profile_variance(p)
FROM (SELECT fs.profile(x) p FROM (VALUES ('1.7976931348623157e308'::float8), ('1.7976931348623157e308')) v(x)) s;
SELECT fs.profile_mean(p), fs.profile_variance(p)
FROM (SELECT fs.profile(x) p FROM (VALUES (1e150::float8), (-1e150), (3e150)) v(x)) s;
-- and a range of magnitudes wider than the sketch keeps (subnormals next to 1e300)
SELECT fs.profile_count(p), fs.profile_mean(p), fs.profile_min(p), fs.profile_max(p),
       fs.profile_quantile(p, 0) AS q0, fs.profile_quantile(p, 1) AS q1
FROM (SELECT fs.profile(x) p
      FROM (VALUES ('-1e300'::float8), (1e300), ('5e-324'), ('-5e-324'), (1e-300), (1)) v(x)) s;
SELECT metric, value IS NOT NULL AS has_value
FROM fs.drift((SELECT fs.profile(x) FROM (VALUES ('-1e300'::float8), (1e300), ('5e-324'), ('-5e-324')) v(x)),
              (SELECT fs.profile(x) FROM (VALUES ('1e-300'::float8), (1e300)) v(x)));

-- accessors agree with the built-in aggregates
SELECT fs.profile_count(p) = n AS count_ok,
       fs.profile_nulls(p) = nulls AS nulls_ok,
       abs(fs.profile_mean(p) - mean) < 1e-12 AS mean_ok,
       abs(fs.profile_stddev(p) / sd - 1) < 1e-12 AS stddev_ok,
       fs.profile_min(p) = lo AND fs.profile_max(p) = hi AS minmax_ok
FROM (SELECT fs.profile(x) p, count(x) n, count(*) - count(x) nulls, avg(x) mean, stddev(x) sd,
             min(x) lo, max(x) hi
      FROM (SELECT CASE WHEN g % 7 = 0 THEN NULL ELSE (g * 37 % 1001)::float8 / 7 - 50 END
            FROM generate_series(1, 10000) g) s(x)) s;

-- quantiles: the order statistic at rank floor(q (n - 1)), within 0.5%
SELECT q, fs.profile_quantile(p, q) AS approx,
       abs(fs.profile_quantile(p, q) - exact) <= 0.005 * abs(exact) AS within_alpha
FROM (SELECT fs.profile(g::float8) p FROM generate_series(1, 1000) g) s,
     LATERAL (VALUES (0.0::float8, 1.0::float8), (0.1, 100), (0.5, 500), (0.9, 900), (1.0, 1000)) v(q, exact);
SELECT fs.profile_quantile(fs.profile(1::float8), 1.5);
SELECT * FROM fs.profile_histogram((SELECT fs.profile(g::float8) FROM generate_series(1, 100) g), 4);
SELECT * FROM fs.profile_histogram((SELECT fs.profile(1::float8)), 0);

-- int and numeric inputs
SELECT fs.profile_mean(fs.profile(g)), fs.profile_mean(fs.profile(g::numeric)),
       fs.profile_mean(fs.profile(g::bigint)), fs.profile_mean(fs.profile(g::real))
FROM generate_series(1, 4) g;
SELECT fs.profile_nan_count(p), fs.profile_inf_count(p), fs.profile_max(p)
FROM (SELECT fs.profile(x) p FROM (VALUES ('NaN'::numeric), ('Infinity'), (2.5)) v(x)) s;

-- text profiles: exact counts, top values with an "other" row
SELECT * FROM fs.profile_top_values((SELECT fs.profile(v) FROM unnest('{a,b,a,c,a,b,NULL}'::text[]) v), 2);
SELECT fs.profile_count(p), fs.profile_nulls(p), fs.profile_distinct(p)
FROM (SELECT fs.profile(v) p FROM unnest('{a,b,a,c,a,b,NULL}'::text[]) v) s;
SELECT fs.profile_mean(fs.profile('a'::text));

-- beyond 10000 distinct values: a hash sample with exact counts, distinct estimated
SELECT fs.profile_count(p), round((fs.profile_distinct(p) / 50000)::numeric, 1) AS distinct_ratio,
       (SELECT sum(count) FROM fs.profile_top_values(p, 100000) WHERE value IS NOT NULL) AS listed,
       (SELECT bool_and(count = 2) FROM fs.profile_top_values(p, 100000) WHERE value IS NOT NULL) AS exact
FROM (SELECT fs.profile((g % 50000)::text) p FROM generate_series(1, 100000) g) s;

-- profile_merge: rolls stored profiles up, same bytes as one pass; NULLs skipped
CREATE TEMP TABLE profile_basic_days AS
SELECT g % 3 AS day, fs.profile(((g * 7919) % 1000)::float8 / 10) AS p,
       fs.profile(((g * 7919) % 13)::text) AS t
FROM generate_series(1, 3000) g GROUP BY 1;
INSERT INTO profile_basic_days VALUES (3, NULL, NULL);
SELECT (SELECT fs.profile_merge(p ORDER BY day) FROM profile_basic_days)::text
     = (SELECT fs.profile(((g * 7919) % 1000)::float8 / 10) FROM generate_series(1, 3000) g)::text AS numeric_merge_same,
       (SELECT fs.profile_merge(t ORDER BY day DESC) FROM profile_basic_days)::text
     = (SELECT fs.profile(((g * 7919) % 13)::text) FROM generate_series(1, 3000) g)::text AS text_merge_same;
SELECT fs.profile_merge(p) IS NULL AS all_null FROM profile_basic_days WHERE day = 3;
SELECT fs.profile_merge(p) FROM profile_basic_days WHERE false;
SELECT fs.profile_merge(x) FROM (SELECT p FROM profile_basic_days WHERE day = 0
                                  UNION ALL SELECT t FROM profile_basic_days WHERE day = 0) s(x);
-- an empty profile merges as a no-op
SELECT fs.profile_merge(x)::text = (SELECT p FROM profile_basic_days WHERE day = 1)::text AS empty_noop
FROM (SELECT p FROM profile_basic_days WHERE day = 1
      UNION ALL SELECT fs.profile(1.0::float8) WHERE false
      UNION ALL (SELECT fs.profile(y) FROM (SELECT 1.0::float8 WHERE false) e(y))) s(x);

-- round trip through text and through binary COPY
SELECT p::text::fs.profile::text = p::text AS text_roundtrip FROM profile_basic_days WHERE day = 0;
CREATE TEMP TABLE profile_basic_bin (p fs.profile);
CREATE TEMP TABLE profile_basic_raw (b bytea);
SELECT current_setting('data_directory') || '/profile_basic.bin' AS tmpfile \gset
COPY (SELECT p FROM profile_basic_days WHERE day < 3 ORDER BY day) TO :'tmpfile' (FORMAT binary);
COPY profile_basic_bin FROM :'tmpfile' (FORMAT binary);
SELECT count(*) FROM profile_basic_bin b JOIN profile_basic_days d ON b.p::text = d.p::text;

-- malformed binary input is an error: a bytea column has the same COPY framing
INSERT INTO profile_basic_raw
SELECT decode(substr(p::text, 1, 30), 'hex') FROM profile_basic_days WHERE day = 0;
COPY profile_basic_raw TO :'tmpfile' (FORMAT binary);
COPY profile_basic_bin FROM :'tmpfile' (FORMAT binary);

-- malformed text input is an error, never a crash
SELECT 'xyz'::fs.profile;
SELECT 'abc'::fs.profile;
SELECT ''::fs.profile;
SELECT '0000000000000000'::fs.profile;
SELECT '4653500201000000'::fs.profile;  -- format version 2
SELECT '4653500103000000'::fs.profile;  -- unknown kind
SELECT '4653500101800000'::fs.profile;  -- unknown flag
SELECT '46535001010005'::fs.profile;    -- truncated
SELECT (fs.profile(1::float8)::text || '00')::fs.profile;  -- trailing byte
SELECT '465350010200ffffffffffffffffff01'::fs.profile;  -- count beyond int64
SELECT '465350010200ffffffffffffffffff0200'::fs.profile;  -- varint beyond 64 bits
SELECT '46535001020082000002016101016201'::fs.profile;    -- non-canonical varint
SELECT '465350010200030002016101016200'::fs.profile;      -- zero count
SELECT '465350010200030002016101016201'::fs.profile;      -- counts do not add up
SELECT '465350010200030001016103'::fs.profile;            -- a valid text profile
SELECT '46535001020001000101ff01'::fs.profile;            -- invalid UTF-8
-- exactly one of the two orders of 'a' and 'b' is canonical
CREATE FUNCTION pg_temp.profile_basic_valid(h text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	PERFORM h::fs.profile;
	RETURN true;
EXCEPTION WHEN invalid_binary_representation THEN
	RETURN false;
END $$;
SELECT count(*) FILTER (WHERE ok) AS accepted, count(*) FILTER (WHERE NOT ok) AS rejected
FROM (VALUES ('465350010200020002016101016201'), ('465350010200020002016201016101')) v(h),
     LATERAL (SELECT pg_temp.profile_basic_valid(h) AS ok) t;

-- every truncation and every single-byte change of valid profiles: error or a valid profile
DO $$
DECLARE
	src text;
	bad text;
	errors int := 0;
	accepted int := 0;
	i int;
BEGIN
	FOR src IN SELECT fs.profile(x)::text FROM (VALUES (-3.5::float8), (0), (2), (1e10), ('NaN')) v(x)
	           UNION ALL SELECT fs.profile(x)::text FROM unnest('{a,bb,ccc,a}'::text[]) x LOOP
		FOR i IN 1 .. length(src) / 2 - 1 LOOP
			BEGIN
				PERFORM substr(src, 1, 2 * i)::fs.profile;
				accepted := accepted + 1;
			EXCEPTION WHEN invalid_binary_representation THEN
				errors := errors + 1;
			END;
		END LOOP;
		FOR i IN 1 .. length(src) / 2 LOOP
			bad := overlay(src PLACING lpad(to_hex((('x' || substr(src, 2 * i - 1, 2))::bit(8)::int # 165)), 2, '0')
			               FROM 2 * i - 1 FOR 2);
			BEGIN
				PERFORM fs.profile_count(bad::fs.profile), fs.profile_kind(bad::fs.profile);
				accepted := accepted + 1;
			EXCEPTION WHEN invalid_binary_representation OR character_not_in_repertoire
			          OR untranslatable_character THEN
				errors := errors + 1;
			END;
		END LOOP;
	END LOOP;
	RAISE NOTICE 'truncated or corrupted profiles: % rejected, % accepted', errors, accepted;
END
$$;
