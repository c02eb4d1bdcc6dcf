--
-- asof_bounded: the as-of join with conditions mixing spine and feature
-- columns plus a TTL window, on randomized data, equals the LATERAL
-- formulation (SPEC "Point-in-time correctness") under every strategy, and
-- its walk back over the candidates of a spine row is bounded by the TTL
-- window, as LATERAL's index scan is.
--
SET search_path = public, fs;
SET jit = off;
SELECT pg_catalog.setseed(0.31);

-- Features: a few keys, one with a long history; (k, ts) unique; some NULL
-- values.  Spine rows: random keys (some unknown, some NULL), random times,
-- a threshold the feature value must stay under (0: nothing passes), a
-- per-row TTL (NULL for some rows: nothing passes).
CREATE TABLE bnd_f (k int, ts timestamptz NOT NULL, v float8, w int);
INSERT INTO bnd_f
SELECT CASE WHEN g <= 3000 THEN 0 ELSE g % 7 + 1 END,
	   timestamptz '2025-01-01 00:00:00+00' + g * interval '1 hour' + (random() * 50)::int * interval '1 minute',
	   CASE WHEN random() < 0.05 THEN NULL ELSE random() END,
	   (random() * 100)::int
FROM generate_series(1, 4200) AS g;
CREATE TABLE bnd_l (id int, k int, ts timestamptz, thr float8, ttl interval);
INSERT INTO bnd_l
SELECT g,
	   CASE WHEN random() < 0.05 THEN NULL WHEN random() < 0.5 THEN 0 ELSE floor(random() * 9)::int END,
	   CASE WHEN random() < 0.03 THEN NULL
			ELSE timestamptz '2024-12-30 00:00:00+00' + random() * interval '180 days' END,
	   CASE WHEN random() < 0.1 THEN 0 ELSE random() * 0.3 END,
	   CASE WHEN random() < 0.1 THEN NULL ELSE (1 + floor(random() * 72)) * interval '1 hour' END
FROM generate_series(1, 400) AS g;
ANALYZE bnd_f;
ANALYZE bnd_l;

-- Runs the as-of join with ON conditions cond (besides the key and the
-- as-of condition) under a strategy's settings and compares it, both ways
-- with EXCEPT ALL, with LATERAL; reports the strategy EXPLAIN shows.
CREATE FUNCTION bnd_diff(cond text, settings text, jointype text DEFAULT 'LEFT')
RETURNS TABLE (ran_as text, matched bigint, differing bigint)
LANGUAGE plpgsql AS $$
DECLARE
	asof_q text := format('SELECT l.id, f.ts AS fts, f.v, f.w FROM bnd_l l %s JOIN bnd_f f
		ON f.k = l.k AND l.ts @>= f.ts AND %s', jointype, cond);
	lat_q text := format('SELECT l.id, f.ts AS fts, f.v, f.w FROM bnd_l l %s JOIN LATERAL
		(SELECT * FROM bnd_f f WHERE f.k = l.k AND f.ts <= l.ts AND %s ORDER BY f.ts DESC LIMIT 1) f ON true',
		jointype, cond);
	line text;
	s text;
BEGIN
	FOREACH s IN ARRAY pg_catalog.string_to_array(settings, ',') LOOP
		PERFORM pg_catalog.set_config(pg_catalog.split_part(s, '=', 1), pg_catalog.split_part(s, '=', 2), true);
	END LOOP;
	ran_as := 'not an as-of join';
	FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || asof_q LOOP
		IF line ~ 'Strategy: ' THEN
			ran_as := substring(line FROM 'Strategy: (.*)$');
		END IF;
	END LOOP;
	EXECUTE 'CREATE TEMP TABLE bnd_asof AS ' || asof_q;
	EXECUTE 'CREATE TEMP TABLE bnd_lat AS ' || lat_q;
	SELECT pg_catalog.count(fts) INTO matched FROM bnd_asof;
	SELECT pg_catalog.count(*) INTO differing FROM ((TABLE bnd_asof EXCEPT ALL TABLE bnd_lat)
		UNION ALL (TABLE bnd_lat EXCEPT ALL TABLE bnd_asof)) d;
	DROP TABLE bnd_asof, bnd_lat;
	RESET ALL;
	SET search_path = public, fs;
	SET jit = off;
	RETURN NEXT;
END
$$;

-- Conditions: a mixed condition with a TTL in each form the planner knows
-- (a lower bound on the feature time, which the probe turns into an index
-- bound, or a difference of times), a per-row TTL, a strict TTL, and a
-- TTL with a second mixed condition.
CREATE TABLE bnd_conds (n int, cond text);
INSERT INTO bnd_conds VALUES
	(1, $$f.v < l.thr AND f.ts >= l.ts - interval '2 days'$$),
	(2, $$f.v < l.thr AND l.ts - f.ts <= interval '30 hours'$$),
	(3, $$f.v < l.thr AND f.ts > l.ts - l.ttl$$),
	(4, $$(f.w + l.id) % 5 = 0 AND l.ts - f.ts < l.ttl$$),
	(5, $$f.v < l.thr AND (f.w + l.id) % 3 <> 0 AND f.ts >= l.ts - interval '3 days' AND l.ts - f.ts <= l.ttl$$),
	(6, $$f.v < l.thr$$);
-- Strategies: the planner's choice; index probes; the merge over the index
-- (which walks back through the index); the merge over sorted inputs with a
-- work_mem small enough for the key group's store to spill to a file (where
-- the index exists, the planner leaves that case to the merge over index).
CREATE TABLE bnd_settings (n int, settings text);
INSERT INTO bnd_settings VALUES
	(1, ''),
	(2, 'feature_store.asof_strategy=index_probe'),
	(3, 'feature_store.asof_strategy=merge_over_index'),
	(4, 'feature_store.asof_strategy=merge,enable_indexscan=off,enable_bitmapscan=off,work_mem=64');
CREATE INDEX ON bnd_f (k, ts);
ANALYZE bnd_f;

SELECT c.n AS cond, s.n AS settings, d.*
FROM bnd_conds c CROSS JOIN bnd_settings s, LATERAL bnd_diff(c.cond, s.settings) d
ORDER BY c.n, s.n;

-- Inner joins, under every strategy.
SELECT s.n AS settings, d.*
FROM bnd_settings s, LATERAL bnd_diff((SELECT cond FROM bnd_conds WHERE n = 5), s.settings, 'INNER') d
ORDER BY s.n;

-- Bounded walks: with no candidate ever passing (thr = 0), the spine rows of
-- the long key read back on average at most the rows of a TTL window (about 49 at
-- one row an hour in 2 days), never the key's whole history (up to 3000).
CREATE FUNCTION bnd_candidates_read(cond text, settings text) RETURNS TABLE (ran_as text, spine_rows bigint, per_row numeric)
LANGUAGE plpgsql AS $$
DECLARE
	line text;
	s text;
	n bigint;
BEGIN
	FOREACH s IN ARRAY pg_catalog.string_to_array(settings, ',') LOOP
		PERFORM pg_catalog.set_config(pg_catalog.split_part(s, '=', 1), pg_catalog.split_part(s, '=', 2), true);
	END LOOP;
	CREATE TEMP TABLE bnd_one (id int, k int, ts timestamptz, thr float8, ttl interval);
	-- late spine times, so that every walk could go far back
	INSERT INTO bnd_one SELECT g, 0, timestamptz '2025-04-01 00:00:00+00' + g * interval '7 hours', 0, NULL
	FROM generate_series(1, 50) AS g;
	ANALYZE bnd_one;
	FOR line IN EXECUTE format('EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
		SELECT * FROM bnd_one l LEFT JOIN bnd_f f ON f.k = l.k AND l.ts @>= f.ts AND %s', cond) LOOP
		IF line ~ 'Strategy: ' THEN
			ran_as := substring(line FROM 'Strategy: (.*)$');
		ELSIF line ~ 'Candidates Read: ' THEN
			n := substring(line FROM 'Candidates Read: ([0-9]+)')::bigint;
		END IF;
	END LOOP;
	spine_rows := 50;
	per_row := pg_catalog.round(n / 50.0, 1);
	DROP TABLE bnd_one;
	RESET ALL;
	SET search_path = public, fs;
	RETURN NEXT;
END
$$;
SELECT c.n AS cond, s.n AS settings, d.ran_as, d.per_row <= 50 AS within_window
FROM bnd_conds c CROSS JOIN bnd_settings s, LATERAL bnd_candidates_read(c.cond, s.settings) d
WHERE c.n IN (1, 2)
ORDER BY c.n, s.n;
-- Without a TTL the walk is the key's history, as LATERAL's would be.
SELECT d.ran_as, d.per_row > 1000 AS whole_history
FROM bnd_candidates_read($$f.v < l.thr$$, 'feature_store.asof_strategy=index_probe') d;

-- Without an index on the feature side.
DROP INDEX bnd_f_k_ts_idx;
ANALYZE bnd_f;
SELECT c.n AS cond, s.n AS settings, d.*
FROM bnd_conds c CROSS JOIN bnd_settings s, LATERAL bnd_diff(c.cond, s.settings) d
WHERE s.n IN (1, 4)
ORDER BY c.n, s.n;

DROP FUNCTION bnd_diff(text, text, text);
DROP FUNCTION bnd_candidates_read(text, text);
DROP TABLE bnd_f, bnd_l, bnd_conds, bnd_settings;
