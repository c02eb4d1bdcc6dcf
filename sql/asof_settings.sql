-- The as-of operators resolve under the default search_path, as the SPEC's
-- example writes them, and planner settings never turn a valid as-of query
-- into an error or a different result.
\set SHOW_CONTEXT never
SHOW search_path;
CREATE TABLE asofset_f (k int, ts timestamptz, v int, w int);
CREATE TABLE asofset_l (id int, k int, ts timestamptz);
INSERT INTO asofset_f SELECT g % 10, timestamptz '2024-01-01 00:00+00' + g * interval '1 hour', g, g % 100
  FROM generate_series(1, 1000) g;
INSERT INTO asofset_l SELECT g, g % 12, timestamptz '2024-01-01 00:00+00' + g * interval '7 hours'
  FROM generate_series(1, 100) g;
ANALYZE asofset_f, asofset_l;

-- the SPEC's example, unqualified
SELECT count(*), count(f.v), sum(f.v)
  FROM asofset_l l LEFT JOIN asofset_f f ON f.k = l.k AND l.ts @>= f.ts;
SELECT count(*), count(x.v), sum(x.v)
  FROM asofset_l l LEFT JOIN LATERAL (SELECT * FROM asofset_f f WHERE f.k = l.k AND f.ts <= l.ts
									 ORDER BY f.ts DESC LIMIT 1) x ON true;

-- Every combination of these planner settings (a sample of 147 of the 1024),
-- with and without an index, for four query shapes: each must plan as an
-- as-of join and give the LATERAL answer.
CREATE TABLE asofset_expected (q int PRIMARY KEY, n bigint, s bigint);
INSERT INTO asofset_expected
SELECT 1, count(*), sum(x.v) FROM asofset_l l JOIN LATERAL (SELECT * FROM asofset_f f
	WHERE f.k = l.k AND f.w > 30 AND f.ts < l.ts ORDER BY f.ts DESC LIMIT 1) x ON true
UNION ALL
SELECT 2, count(*), sum(x.v) FROM asofset_l l LEFT JOIN LATERAL (SELECT * FROM asofset_f f
	WHERE f.k = l.k AND f.ts <= l.ts ORDER BY f.ts DESC LIMIT 1) x ON true
UNION ALL
SELECT 3, count(*), sum(x.v) FROM asofset_l l LEFT JOIN LATERAL (SELECT * FROM asofset_f f
	WHERE f.k = l.k AND f.ts <= l.ts AND l.ts - f.ts <= interval '1 day' ORDER BY f.ts DESC LIMIT 1) x ON true
UNION ALL
SELECT 4, count(*), sum(x.v) FROM asofset_l l LEFT JOIN LATERAL (SELECT * FROM asofset_f f
	WHERE f.k = l.k AND f.ts <= l.ts AND f.v + l.id > 50 ORDER BY f.ts DESC LIMIT 1) x ON true;
-- disabled plan nodes cost enough to trigger JIT compilation, which only slows this down
SET jit = off;
CREATE TABLE asofset_failures (settings text, indexed bool, q int, problem text);
CREATE TABLE asofset_checks (n int);
DO $$
DECLARE
	s text[] := ARRAY['enable_sort', 'enable_hashjoin', 'enable_mergejoin', 'enable_nestloop', 'enable_seqscan',
					  'enable_indexscan', 'enable_indexonlyscan', 'enable_bitmapscan', 'enable_material',
					  'enable_incremental_sort'];
	qs text[] := ARRAY[
		'SELECT count(*), sum(f.v) FROM asofset_l l JOIN asofset_f f ON f.k = l.k AND l.ts @> f.ts AND f.w > 30',
		'SELECT count(*), sum(f.v) FROM asofset_l l LEFT JOIN asofset_f f ON f.k = l.k AND l.ts @>= f.ts',
		'SELECT count(*), sum(f.v) FROM asofset_l l LEFT JOIN asofset_f f ON f.k = l.k AND l.ts @>= f.ts
		   AND l.ts - f.ts <= interval ''1 day''',
		'SELECT count(*), sum(f.v) FROM asofset_l l LEFT JOIN asofset_f f ON f.k = l.k AND l.ts @>= f.ts
		   AND f.v + l.id > 50'];
	indexed bool;
	m int;
	qn int;
	checks int := 0;
	got_n bigint;
	got_s bigint;
	want asofset_expected;
	line text;
	plan text;
	problem text;
BEGIN
	FOREACH indexed IN ARRAY ARRAY[false, true] LOOP
		IF indexed THEN
			CREATE INDEX asofset_f_k_ts ON asofset_f (k, ts) INCLUDE (v, w);
			ANALYZE asofset_f;
		END IF;
		FOR m IN 0 .. 1023 BY 7 LOOP
			FOR i IN 1 .. 10 LOOP
				PERFORM set_config(s[i], CASE WHEN (m >> (i - 1)) & 1 = 1 THEN 'off' ELSE 'on' END, true);
			END LOOP;
			FOR qn IN 1 .. 4 LOOP
				problem := NULL;
				BEGIN
					plan := '';
					FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || qs[qn] LOOP
						plan := plan || line || E'\n';
					END LOOP;
					EXECUTE qs[qn] INTO got_n, got_s;
					SELECT * INTO want FROM asofset_expected x WHERE x.q = qn;
					IF plan NOT LIKE '%Custom Scan (AsofJoin)%' THEN
						problem := 'not planned as an as-of join';
					ELSIF (got_n, got_s) IS DISTINCT FROM (want.n, want.s) THEN
						problem := format('got %s rows, sum %s; LATERAL gives %s, %s', got_n, got_s, want.n, want.s);
					END IF;
				EXCEPTION WHEN OTHERS THEN
					problem := SQLERRM;
				END;
				checks := checks + 1;
				IF problem IS NOT NULL THEN
					INSERT INTO asofset_failures VALUES
						((SELECT string_agg(x, ',') FROM unnest(s) x WHERE current_setting(x) = 'off'), indexed, qn, problem);
				END IF;
			END LOOP;
		END LOOP;
	END LOOP;
	INSERT INTO asofset_checks VALUES (checks);
END $$;
SELECT n AS checks FROM asofset_checks;
SELECT * FROM asofset_failures ORDER BY indexed, q, settings;
