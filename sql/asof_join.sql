-- As-of join: results compared with the LATERAL formulation of the SPEC.
SET search_path = public, fs;
SET client_min_messages = warning;

CREATE TABLE asof_spine (id int, k int, ts int);
CREATE TABLE asof_feat (k int, ts int, v text);
INSERT INTO asof_spine VALUES
  (1, 1, 5), (2, 1, 10), (3, 2, 3), (4, 3, 7), (5, NULL, 5), (6, 1, NULL),
  (7, 1, 1), (8, 1, 10), (9, 4, 100), (10, 1, 0);
INSERT INTO asof_feat VALUES
  (1, 1, 'a'), (1, 5, 'b'), (1, 9, 'c'), (2, 4, 'd'), (3, 7, 'e'),
  (NULL, 1, 'null key'), (1, NULL, 'null time'), (5, 1, 'other key');
ANALYZE asof_spine, asof_feat;

-- the plan: a merge as-of join over sorted inputs
EXPLAIN (COSTS OFF)
SELECT * FROM asof_spine s LEFT JOIN asof_feat f ON f.k = s.k AND s.ts @>= f.ts;

-- LEFT: every spine row once; NULL keys and times never match
SELECT s.id, s.k, s.ts, f.ts AS fts, f.v
FROM asof_spine s LEFT JOIN asof_feat f ON f.k = s.k AND s.ts @>= f.ts ORDER BY s.id;
-- strict: no same-instant match
SELECT s.id, s.k, s.ts, f.ts AS fts, f.v
FROM asof_spine s LEFT JOIN asof_feat f ON f.k = s.k AND s.ts @> f.ts ORDER BY s.id;
-- INNER drops unmatched spine rows
SELECT s.id, f.v
FROM asof_spine s JOIN asof_feat f ON s.k = f.k AND s.ts @>= f.ts ORDER BY s.id;
-- the same written with the tables the other way round
SELECT s.id, f.v
FROM asof_feat f JOIN asof_spine s ON s.k = f.k AND s.ts @>= f.ts ORDER BY s.id;
-- RIGHT JOIN with the spine on the preserved side
SELECT s.id, f.v
FROM asof_feat f RIGHT JOIN asof_spine s ON s.k = f.k AND s.ts @>= f.ts ORDER BY s.id;

-- other ON conditions restrict the candidates before the latest is taken
SELECT s.id, f.ts AS fts, f.v
FROM asof_spine s LEFT JOIN asof_feat f
  ON f.k = s.k AND s.ts @>= f.ts AND s.ts - f.ts <= 2 AND f.v <> 'c'
ORDER BY s.id;
SELECT s.id, f.ts AS fts, f.v
FROM asof_spine s LEFT JOIN LATERAL (
  SELECT * FROM asof_feat f WHERE f.k = s.k AND f.ts <= s.ts AND s.ts - f.ts <= 2 AND f.v <> 'c'
  ORDER BY f.ts DESC LIMIT 1) f ON true
ORDER BY s.id;
EXPLAIN (COSTS OFF)
SELECT * FROM asof_spine s LEFT JOIN asof_feat f
  ON f.k = s.k AND s.ts @>= f.ts AND s.ts - f.ts <= 2 AND f.v <> 'c';

-- a condition on the spine only, in the ON clause, keeps the row unmatched
SELECT s.id, f.v
FROM asof_spine s LEFT JOIN asof_feat f ON f.k = s.k AND s.ts @>= f.ts AND s.id > 4
ORDER BY s.id;

-- without any key: the latest feature row overall (with a filter)
SELECT s.id, f.ts AS fts, f.v
FROM asof_spine s LEFT JOIN asof_feat f ON s.ts @>= f.ts AND f.k < s.k ORDER BY s.id;
SELECT s.id, f.ts AS fts, f.v
FROM asof_spine s LEFT JOIN LATERAL (
  SELECT * FROM asof_feat f WHERE f.ts <= s.ts AND f.k < s.k ORDER BY f.ts DESC LIMIT 1) f ON true
ORDER BY s.id;

-- empty sides
CREATE TABLE asof_empty (k int, ts int, v text);
SELECT s.id, f.v FROM asof_spine s LEFT JOIN asof_empty f ON f.k = s.k AND s.ts @>= f.ts ORDER BY s.id;
SELECT count(*) FROM asof_empty s LEFT JOIN asof_feat f ON f.k = s.k AND s.ts @>= f.ts;
SELECT count(*) FROM asof_spine s JOIN asof_empty f ON f.k = s.k AND s.ts @>= f.ts;

-- ties on the feature time: one of the tied rows, the same one every time
CREATE TABLE asof_tie (k int, ts int, v text);
INSERT INTO asof_tie VALUES (1, 5, 'x'), (1, 5, 'y'), (1, 5, 'z');
SELECT count(*), count(DISTINCT f.v), bool_and(f.v IN ('x', 'y', 'z'))
FROM asof_spine s JOIN asof_tie f ON f.k = s.k AND s.ts @>= f.ts;

-- spine duplicates are kept
SELECT count(*) FROM (SELECT * FROM asof_spine UNION ALL SELECT * FROM asof_spine) s
LEFT JOIN asof_feat f ON f.k = s.k AND s.ts @>= f.ts;

-- Every supported type, with NULLs and infinities, LEFT and INNER, both
-- operators: the number of rows that differ from the LATERAL formulation.
CREATE FUNCTION asof_diff(typ text, vals text[]) RETURNS TABLE (op text, jt text, spine_rows bigint, differing bigint)
LANGUAGE plpgsql AS $$
DECLARE
  o text;
  j text;
  lat text;
BEGIN
  EXECUTE 'DROP TABLE IF EXISTS asof_ts, asof_tf';
  EXECUTE format('CREATE TABLE asof_ts (id serial, k int, t %s)', typ);
  EXECUTE format('CREATE TABLE asof_tf (k int, t %s, v int)', typ);
  -- spine: every value for keys 1..3 and NULL, twice
  EXECUTE format('INSERT INTO asof_ts (k, t) SELECT k, v::%s FROM unnest($1) v, (VALUES (1), (2), (3), (NULL)) kk(k), generate_series(1, 2)', typ) USING vals;
  -- features: a subset of the values per key (every other one, shifted per key)
  EXECUTE format('INSERT INTO asof_tf SELECT k, v::%s, row_number() OVER () FROM unnest($1) WITH ORDINALITY u(v, n), (VALUES (1), (2), (NULL)) kk(k) WHERE (n + coalesce(k, 0)) %% 2 = 0', typ) USING vals;
  EXECUTE 'ANALYZE asof_ts, asof_tf';
  FOREACH o IN ARRAY ARRAY['@>=', '@>'] LOOP
    FOREACH j IN ARRAY ARRAY['LEFT', 'INNER'] LOOP
      lat := CASE o WHEN '@>=' THEN '<=' ELSE '<' END;
      RETURN QUERY EXECUTE format($q$
        WITH a AS (SELECT s.id, f.t AS ft, f.v FROM asof_ts s %1$s JOIN asof_tf f ON f.k = s.k AND s.t %2$s f.t),
             b AS (SELECT s.id, f.t AS ft, f.v FROM asof_ts s %1$s JOIN LATERAL
                     (SELECT * FROM asof_tf f WHERE f.k = s.k AND f.t %3$s s.t ORDER BY f.t DESC LIMIT 1) f ON true)
        SELECT %2$L, %1$L, (SELECT count(*) FROM asof_ts),
               (SELECT count(*) FROM ((TABLE a EXCEPT ALL TABLE b) UNION ALL (TABLE b EXCEPT ALL TABLE a)) d)$q$,
        j, o, lat);
    END LOOP;
  END LOOP;
  EXECUTE 'DROP TABLE asof_ts, asof_tf';
END $$;

SELECT * FROM asof_diff('timestamptz', ARRAY['-infinity', '2024-01-01 00:00+00', '2024-01-01 00:00:00.000001+00', '2024-03-01 12:00+00', '2025-01-01 00:00+00', 'infinity', NULL]);
SELECT * FROM asof_diff('timestamp', ARRAY['-infinity', '2024-01-01 00:00', '2024-02-29 23:59:59', '2024-03-01', 'infinity', NULL]);
SELECT * FROM asof_diff('date', ARRAY['-infinity', '2000-01-01', '2024-02-29', '2024-03-01', '2030-12-31', 'infinity', NULL]);
SELECT * FROM asof_diff('int4', ARRAY['-2147483648', '-1', '0', '1', '7', '2147483647', NULL]);
SELECT * FROM asof_diff('int8', ARRAY['-9223372036854775808', '-5', '0', '3', '4', '9223372036854775807', NULL]);
SELECT * FROM asof_diff('float8', ARRAY['-Infinity', '-1.5', '-0', '0.1', '0.30000000000000004', '1e300', 'Infinity', NULL]);
SELECT * FROM asof_diff('numeric', ARRAY['-Infinity', '-1.50', '0', '0.1', '0.10000000000000000001', '1e100', 'Infinity', NULL]);

-- keys of other types: text (collation-aware) and a two-column key
CREATE TABLE asof_ts2 (name text, region int, ts timestamptz);
CREATE TABLE asof_tf2 (name text, region int, ts timestamptz, score numeric);
INSERT INTO asof_ts2 SELECT n, r, '2024-01-01'::timestamptz + d * interval '1 day'
  FROM unnest(ARRAY['alice', 'Bob', 'carol', NULL]) n, generate_series(1, 2) r, generate_series(0, 20, 3) d;
INSERT INTO asof_tf2 SELECT n, r, '2024-01-01'::timestamptz + d * interval '1 day', d * 10 + r
  FROM unnest(ARRAY['alice', 'Bob', 'dave']) n, generate_series(1, 2) r, generate_series(1, 20, 4) d;
ANALYZE asof_ts2, asof_tf2;
SELECT count(*) AS differing FROM (
  (SELECT s.*, f.score FROM asof_ts2 s LEFT JOIN asof_tf2 f
     ON f.name = s.name AND f.region = s.region AND s.ts @>= f.ts
   EXCEPT ALL
   SELECT s.*, f.score FROM asof_ts2 s LEFT JOIN LATERAL
     (SELECT * FROM asof_tf2 f WHERE f.name = s.name AND f.region = s.region AND f.ts <= s.ts
      ORDER BY f.ts DESC LIMIT 1) f ON true)
  UNION ALL
  (SELECT s.*, f.score FROM asof_ts2 s LEFT JOIN LATERAL
     (SELECT * FROM asof_tf2 f WHERE f.name = s.name AND f.region = s.region AND f.ts <= s.ts
      ORDER BY f.ts DESC LIMIT 1) f ON true
   EXCEPT ALL
   SELECT s.*, f.score FROM asof_ts2 s LEFT JOIN asof_tf2 f
     ON f.name = s.name AND f.region = s.region AND s.ts @>= f.ts)) d;
-- cross-type key (int4 spine, int8 feature)
CREATE TABLE asof_tf8 (k int8, ts int, v text);
INSERT INTO asof_tf8 SELECT k, ts, v FROM asof_feat;
SELECT s.id, f.v FROM asof_spine s LEFT JOIN asof_tf8 f ON f.k = s.k AND s.ts @>= f.ts ORDER BY s.id;

-- several feature tables as-of joined to one spine
CREATE TABLE asof_feat2 (k int, ts int, w int);
INSERT INTO asof_feat2 VALUES (1, 2, 20), (1, 8, 80), (3, 1, 10), (4, 99, 990);
ANALYZE asof_feat2;
EXPLAIN (COSTS OFF)
SELECT s.id, f.v, g.w
FROM asof_spine s
LEFT JOIN asof_feat f ON f.k = s.k AND s.ts @>= f.ts
LEFT JOIN asof_feat2 g ON g.k = s.k AND s.ts @> g.ts;
SELECT s.id, f.v, g.w
FROM asof_spine s
LEFT JOIN asof_feat f ON f.k = s.k AND s.ts @>= f.ts
LEFT JOIN asof_feat2 g ON g.k = s.k AND s.ts @> g.ts
ORDER BY s.id;
SELECT s.id, f.v, g.w
FROM asof_spine s
JOIN asof_feat f ON f.k = s.k AND s.ts @>= f.ts
JOIN asof_feat2 g ON g.k = s.k AND s.ts @> g.ts
ORDER BY s.id;
-- a chain: the second as-of join uses the first one's time as its spine time
SELECT s.id, f.v, f.ts AS fts, g.w
FROM asof_spine s
LEFT JOIN asof_feat f ON f.k = s.k AND s.ts @>= f.ts
LEFT JOIN asof_feat2 g ON g.k = f.k AND f.ts @>= g.ts
ORDER BY s.id;

-- the spine as a view, a CTE and a sub-query
CREATE VIEW asof_spine_v AS SELECT * FROM asof_spine WHERE id <= 8;
SELECT s.id, f.v FROM asof_spine_v s LEFT JOIN asof_feat f ON f.k = s.k AND s.ts @>= f.ts ORDER BY s.id;
WITH sp AS (SELECT id, k, ts + 1 AS ts FROM asof_spine)
SELECT s.id, s.ts, f.v FROM sp s LEFT JOIN asof_feat f ON f.k = s.k AND s.ts @>= f.ts ORDER BY s.id;
WITH sp AS MATERIALIZED (SELECT * FROM asof_spine WHERE k = 1)
SELECT s.id, f.v FROM sp s LEFT JOIN asof_feat f ON f.k = s.k AND s.ts @>= f.ts ORDER BY s.id;
SELECT s.id, f.v FROM (SELECT DISTINCT id, k, ts FROM asof_spine) s
LEFT JOIN asof_feat f ON f.k = s.k AND s.ts @>= f.ts ORDER BY s.id;
-- the feature side as a sub-query
SELECT s.id, f.v FROM asof_spine s
LEFT JOIN (SELECT k, ts, upper(v) AS v FROM asof_feat WHERE v <> 'b') f ON f.k = s.k AND s.ts @>= f.ts
ORDER BY s.id;
-- aggregated result, and a filter on the joined rows above a fence
SELECT count(*), count(f.v), string_agg(f.v, ',' ORDER BY s.id)
FROM asof_spine s LEFT JOIN asof_feat f ON f.k = s.k AND s.ts @>= f.ts;
SELECT id, v FROM (SELECT s.id, f.v FROM asof_spine s LEFT JOIN asof_feat f
                   ON f.k = s.k AND s.ts @>= f.ts OFFSET 0) j
WHERE v IS NOT NULL ORDER BY id;
-- a non-strict test of the feature side above the join stays a filter
SELECT s.id FROM asof_spine s LEFT JOIN asof_feat f ON f.k = s.k AND s.ts @>= f.ts
WHERE f.v IS NULL ORDER BY s.id;

-- CREATE TABLE AS, views and prepared statements
CREATE TABLE asof_ctas AS
SELECT s.id, f.v FROM asof_spine s LEFT JOIN asof_feat f ON f.k = s.k AND s.ts @>= f.ts;
SELECT * FROM asof_ctas ORDER BY id;
CREATE VIEW asof_view AS
SELECT s.id, s.ts, f.ts AS fts, f.v FROM asof_spine s LEFT JOIN asof_feat f
  ON f.k = s.k AND s.ts @> f.ts;
SELECT * FROM asof_view ORDER BY id;
SELECT * FROM asof_view WHERE id IN (1, 2) ORDER BY id;
PREPARE asof_q(int) AS
SELECT s.id, f.v FROM asof_spine s LEFT JOIN asof_feat f
  ON f.k = s.k AND s.ts @>= f.ts AND s.ts - f.ts <= $1 ORDER BY s.id;
SET plan_cache_mode = force_generic_plan;
EXECUTE asof_q(0);
EXECUTE asof_q(100);
RESET plan_cache_mode;
EXECUTE asof_q(1);
DEALLOCATE asof_q;

-- a large key group with another condition spills past work_mem
CREATE TABLE asof_big (k int, ts int, pad text);
INSERT INTO asof_big SELECT 1, g, repeat('x', 100) FROM generate_series(1, 20000) g;
CREATE TABLE asof_bigs (k int, ts int);
INSERT INTO asof_bigs SELECT 1, g * 97 FROM generate_series(1, 200) g;
ANALYZE asof_big, asof_bigs;
SET work_mem = '64kB';
SELECT count(*), sum(f.ts), sum(s.ts - f.ts) FROM asof_bigs s
LEFT JOIN asof_big f ON f.k = s.k AND s.ts @>= f.ts AND f.ts % 1000 = 7;
SELECT count(*), sum(f.ts), sum(s.ts - f.ts) FROM asof_bigs s
LEFT JOIN LATERAL (SELECT * FROM asof_big f WHERE f.k = s.k AND f.ts <= s.ts AND f.ts % 1000 = 7
                   ORDER BY f.ts DESC LIMIT 1) f ON true;
RESET work_mem;

-- the index probe strategy: a small spine, an index on (key, time)
CREATE TABLE asof_hist (k int, ts timestamptz, a float8, b int, c int);
INSERT INTO asof_hist SELECT g % 500, '2024-01-01'::timestamptz + (g * 7919 % 100000) * interval '5 minutes', g % 97, g % 13, g
  FROM generate_series(1, 50000) g;
CREATE INDEX asof_hist_k_ts ON asof_hist (k, ts) INCLUDE (a, b, c);
VACUUM ANALYZE asof_hist;
CREATE TABLE asof_small (id int, k int, ts timestamptz);
INSERT INTO asof_small SELECT g, g * 37 % 520, '2024-01-01'::timestamptz + (g * 104729 % 100000) * interval '5 minutes'
  FROM generate_series(1, 40) g;
INSERT INTO asof_small VALUES (41, NULL, '2024-02-01'), (42, 3, NULL), (43, 3, '-infinity'), (44, 3, 'infinity');
ANALYZE asof_small;
EXPLAIN (COSTS OFF)
SELECT s.id, f.a FROM asof_small s LEFT JOIN asof_hist f ON f.k = s.k AND s.ts @>= f.ts;
CREATE TABLE asof_probe_res AS
SELECT s.id, f.ts AS fts, f.a, f.b, f.c FROM asof_small s LEFT JOIN asof_hist f
  ON f.k = s.k AND s.ts @>= f.ts AND f.ts > s.ts - interval '3 days' AND f.b <> 5;
EXPLAIN (COSTS OFF)
SELECT s.id, f.ts AS fts, f.a, f.b, f.c FROM asof_small s LEFT JOIN asof_hist f
  ON f.k = s.k AND s.ts @>= f.ts AND f.ts > s.ts - interval '3 days' AND f.b <> 5;
SET feature_store.asof_strategy = merge;
CREATE TABLE asof_merge_res AS
SELECT s.id, f.ts AS fts, f.a, f.b, f.c FROM asof_small s LEFT JOIN asof_hist f
  ON f.k = s.k AND s.ts @>= f.ts AND f.ts > s.ts - interval '3 days' AND f.b <> 5;
RESET feature_store.asof_strategy;
CREATE TABLE asof_lat_res AS
SELECT s.id, f.ts AS fts, f.a, f.b, f.c FROM asof_small s LEFT JOIN LATERAL
  (SELECT * FROM asof_hist f WHERE f.k = s.k AND f.ts <= s.ts AND f.ts > s.ts - interval '3 days' AND f.b <> 5
   ORDER BY f.ts DESC LIMIT 1) f ON true;
SELECT count(*) AS rows, count(fts) AS matched FROM asof_lat_res;
SELECT count(*) AS probe_differing FROM ((TABLE asof_probe_res EXCEPT ALL TABLE asof_lat_res)
  UNION ALL (TABLE asof_lat_res EXCEPT ALL TABLE asof_probe_res)) d;
SELECT count(*) AS merge_differing FROM ((TABLE asof_merge_res EXCEPT ALL TABLE asof_lat_res)
  UNION ALL (TABLE asof_lat_res EXCEPT ALL TABLE asof_merge_res)) d;
-- strict operator through the probe, INNER join
SET feature_store.asof_strategy = index_probe;
SELECT count(*), sum(f.c) FROM asof_small s JOIN asof_hist f ON f.k = s.k AND s.ts @> f.ts;
SELECT count(*), sum(f.c) FROM asof_small s JOIN LATERAL
  (SELECT * FROM asof_hist f WHERE f.k = s.k AND f.ts < s.ts ORDER BY f.ts DESC LIMIT 1) f ON true;
RESET feature_store.asof_strategy;
-- with an ordered index the merge reads the feature table without sorting
SET feature_store.asof_strategy = merge;
EXPLAIN (COSTS OFF)
SELECT count(*), sum(f.a) FROM asof_small s LEFT JOIN asof_hist f ON f.k = s.k AND s.ts @>= f.ts;
RESET feature_store.asof_strategy;

-- the as-of join as the inner side of a nested loop is rescanned correctly
SELECT o.n, count(f.v) FROM generate_series(1, 3) o(n),
  LATERAL (SELECT f.v FROM asof_spine s LEFT JOIN asof_feat f ON f.k = s.k AND s.ts @>= f.ts
           WHERE s.id <= o.n * 3 OFFSET 0) f
GROUP BY o.n ORDER BY o.n;

-- in parallel: key ranges of the feature index shared between processes
CREATE TABLE asof_par_f (k int, ts int, v int);
INSERT INTO asof_par_f SELECT g % 997, (g * 7919) % 100003, g FROM generate_series(1, 60000) g;
CREATE INDEX asof_par_f_k_ts ON asof_par_f (k, ts) INCLUDE (v);
CREATE TABLE asof_par_s (id int, k int, ts int);
INSERT INTO asof_par_s SELECT g, (g * 31) % 1010, (g::int8 * 104729 % 100003)::int FROM generate_series(1, 30000) g;
INSERT INTO asof_par_s VALUES (30001, NULL, 5), (30002, 5, NULL);
VACUUM ANALYZE asof_par_f, asof_par_s;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
SET feature_store.asof_strategy = merge;
EXPLAIN (COSTS OFF)
SELECT count(*), sum(f.v) FROM asof_par_s s LEFT JOIN asof_par_f f ON f.k = s.k AND s.ts @>= f.ts;
SELECT count(*), count(f.v), sum(f.v) FROM asof_par_s s LEFT JOIN asof_par_f f ON f.k = s.k AND s.ts @>= f.ts;
RESET parallel_leader_participation;
SELECT count(*), count(f.v), sum(f.v) FROM asof_par_s s LEFT JOIN asof_par_f f ON f.k = s.k AND s.ts @>= f.ts;
SELECT count(*), count(f.v), sum(f.v) FROM asof_par_s s JOIN asof_par_f f ON f.k = s.k AND s.ts @> f.ts;
-- without an index: both inputs sorted per key range
CREATE TABLE asof_par_f2 AS SELECT * FROM asof_par_f;
INSERT INTO asof_par_f2 VALUES (NULL, 5, -1), (3, NULL, -2);
ANALYZE asof_par_f2;
EXPLAIN (COSTS OFF)
SELECT count(*), sum(f.v) FROM asof_par_s s LEFT JOIN asof_par_f2 f ON f.k = s.k AND s.ts @>= f.ts;
SELECT count(*), count(f.v), sum(f.v) FROM asof_par_s s LEFT JOIN asof_par_f2 f ON f.k = s.k AND s.ts @>= f.ts;
SELECT count(*), count(f.v), sum(f.v) FROM asof_par_s s JOIN asof_par_f2 f ON f.k = s.k AND s.ts @> f.ts;
SELECT count(*), count(f.v), sum(f.v) FROM asof_par_s s LEFT JOIN asof_par_f2 f
  ON f.k = s.k AND s.ts @>= f.ts AND s.ts - f.ts <= 50;
SELECT count(*), count(f.v), sum(f.v) FROM asof_par_s s LEFT JOIN LATERAL
  (SELECT * FROM asof_par_f f WHERE f.k = s.k AND f.ts <= s.ts AND s.ts - f.ts <= 50 ORDER BY f.ts DESC LIMIT 1) f ON true;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET feature_store.asof_strategy;
SELECT count(*), count(f.v), sum(f.v) FROM asof_par_s s LEFT JOIN LATERAL
  (SELECT * FROM asof_par_f f WHERE f.k = s.k AND f.ts <= s.ts ORDER BY f.ts DESC LIMIT 1) f ON true;
SELECT count(*), count(f.v), sum(f.v) FROM asof_par_s s JOIN LATERAL
  (SELECT * FROM asof_par_f f WHERE f.k = s.k AND f.ts < s.ts ORDER BY f.ts DESC LIMIT 1) f ON true;

-- varchar keys through an index (both index strategies), base filters on the feature table
CREATE TABLE asof_vc_f (name varchar(10), ts date, score int);
INSERT INTO asof_vc_f SELECT 'n' || (g % 50), '2024-01-01'::date + (g * 37 % 400), g FROM generate_series(1, 5000) g;
CREATE INDEX ON asof_vc_f (name, ts);
CREATE TABLE asof_vc_s (id int, name varchar(10), ts date);
INSERT INTO asof_vc_s SELECT g, 'n' || (g % 60), '2024-01-01'::date + (g * 53 % 420) FROM generate_series(1, 300) g;
VACUUM ANALYZE asof_vc_f, asof_vc_s;
CREATE TABLE asof_vc_lat AS SELECT s.id, f.ts AS fts, f.score FROM asof_vc_s s LEFT JOIN LATERAL
  (SELECT * FROM asof_vc_f f WHERE f.name = s.name AND f.ts <= s.ts AND f.score % 3 <> 0
   ORDER BY f.ts DESC, f.score DESC LIMIT 1) f ON true;
SET feature_store.asof_strategy = merge;
EXPLAIN (COSTS OFF)
SELECT s.id, f.ts AS fts, f.score FROM asof_vc_s s LEFT JOIN asof_vc_f f
  ON f.name = s.name AND s.ts @>= f.ts AND f.score % 3 <> 0;
SELECT count(*) AS differing_ts FROM (
  (SELECT s.id, f.ts AS fts FROM asof_vc_s s LEFT JOIN asof_vc_f f
     ON f.name = s.name AND s.ts @>= f.ts AND f.score % 3 <> 0
   EXCEPT ALL SELECT id, fts FROM asof_vc_lat)
  UNION ALL
  (SELECT id, fts FROM asof_vc_lat EXCEPT ALL
   SELECT s.id, f.ts AS fts FROM asof_vc_s s LEFT JOIN asof_vc_f f
     ON f.name = s.name AND s.ts @>= f.ts AND f.score % 3 <> 0)) d;
SET feature_store.asof_strategy = index_probe;
EXPLAIN (COSTS OFF)
SELECT s.id, f.ts AS fts, f.score FROM asof_vc_s s LEFT JOIN asof_vc_f f
  ON f.name = s.name AND s.ts @>= f.ts AND f.score % 3 <> 0;
SELECT count(*) AS differing_ts FROM (
  (SELECT s.id, f.ts AS fts FROM asof_vc_s s LEFT JOIN asof_vc_f f
     ON f.name = s.name AND s.ts @>= f.ts AND f.score % 3 <> 0
   EXCEPT ALL SELECT id, fts FROM asof_vc_lat)
  UNION ALL
  (SELECT id, fts FROM asof_vc_lat EXCEPT ALL
   SELECT s.id, f.ts AS fts FROM asof_vc_s s LEFT JOIN asof_vc_f f
     ON f.name = s.name AND s.ts @>= f.ts AND f.score % 3 <> 0)) d;
RESET feature_store.asof_strategy;

-- row level security on the feature table: hidden rows are never candidates
CREATE TABLE asof_rls (k int, ts int, v int);
INSERT INTO asof_rls SELECT g % 10, g, g FROM generate_series(1, 200) g;
CREATE INDEX ON asof_rls (k, ts) INCLUDE (v);
ALTER TABLE asof_rls ENABLE ROW LEVEL SECURITY;
CREATE POLICY asof_rls_p ON asof_rls FOR SELECT USING (v % 4 <> 0);
VACUUM ANALYZE asof_rls;
CREATE ROLE regress_asof_reader;
GRANT SELECT ON asof_rls, asof_par_s TO regress_asof_reader;
GRANT USAGE ON SCHEMA fs TO regress_asof_reader;
SET ROLE regress_asof_reader;
SET feature_store.asof_strategy = merge;
SELECT count(*), count(f.v), sum(f.v), bool_and(f.v % 4 <> 0) FROM asof_par_s s
LEFT JOIN asof_rls f ON f.k = s.k AND s.ts @>= f.ts WHERE s.k < 10;
SET feature_store.asof_strategy = index_probe;
SELECT count(*), count(f.v), sum(f.v), bool_and(f.v % 4 <> 0) FROM asof_par_s s
LEFT JOIN asof_rls f ON f.k = s.k AND s.ts @>= f.ts WHERE s.k < 10;
RESET feature_store.asof_strategy;
SELECT count(*), count(f.v), sum(f.v), bool_and(f.v % 4 <> 0) FROM asof_par_s s
LEFT JOIN LATERAL (SELECT * FROM asof_rls f WHERE f.k = s.k AND f.ts <= s.ts ORDER BY f.ts DESC LIMIT 1) f ON true
WHERE s.k < 10;
RESET ROLE;
DROP OWNED BY regress_asof_reader;
DROP ROLE regress_asof_reader;

-- TTL windows are checked on the latest candidate only; other age conditions
-- (at least a day old) still search older candidates.  All strategies agree
-- with LATERAL.
CREATE FUNCTION asof_ttl_diff(cond text, latcond text) RETURNS TABLE (strategy text, latest_row_filter bool, candidate_filter bool, matched bigint, differing bigint)
LANGUAGE plpgsql AS $$
DECLARE
  st text;
  line text;
BEGIN
  EXECUTE format('CREATE TEMP TABLE asof_ttl_lat AS SELECT s.id, f.ts AS fts, f.c FROM asof_small s LEFT JOIN LATERAL
    (SELECT * FROM asof_hist f WHERE f.k = s.k AND f.ts <= s.ts AND %s ORDER BY f.ts DESC LIMIT 1) f ON true', latcond);
  FOREACH st IN ARRAY ARRAY['merge', 'index_probe'] LOOP
    PERFORM set_config('feature_store.asof_strategy', st, true);
    latest_row_filter := false;
    candidate_filter := false;
    FOR line IN EXECUTE format('EXPLAIN (COSTS OFF) SELECT s.id, f.ts AS fts, f.c FROM asof_small s
      LEFT JOIN asof_hist f ON f.k = s.k AND s.ts @>= f.ts AND %s', cond) LOOP
      latest_row_filter := latest_row_filter OR line ~ 'Latest Row Filter';
      candidate_filter := candidate_filter OR line ~ 'Candidate Filter';
    END LOOP;
    EXECUTE format('CREATE TEMP TABLE asof_ttl_res AS SELECT s.id, f.ts AS fts, f.c FROM asof_small s
      LEFT JOIN asof_hist f ON f.k = s.k AND s.ts @>= f.ts AND %s', cond);
    strategy := st;
    SELECT count(fts) INTO matched FROM asof_ttl_res;
    SELECT count(*) INTO differing FROM ((TABLE asof_ttl_res EXCEPT ALL TABLE asof_ttl_lat)
      UNION ALL (TABLE asof_ttl_lat EXCEPT ALL TABLE asof_ttl_res)) d;
    RETURN NEXT;
    DROP TABLE asof_ttl_res;
  END LOOP;
  PERFORM set_config('feature_store.asof_strategy', 'auto', true);
  DROP TABLE asof_ttl_lat;
END $$;
DELETE FROM asof_small WHERE ts IN ('infinity', '-infinity');
SELECT * FROM asof_ttl_diff($$s.ts - f.ts <= interval '2 days'$$, $$s.ts - f.ts <= interval '2 days'$$);
SELECT * FROM asof_ttl_diff($$f.ts >= s.ts - interval '1 day'$$, $$f.ts >= s.ts - interval '1 day'$$);
SELECT * FROM asof_ttl_diff($$interval '12 hours' > s.ts - f.ts$$, $$interval '12 hours' > s.ts - f.ts$$);
SELECT * FROM asof_ttl_diff($$s.ts - f.ts >= interval '1 day'$$, $$s.ts - f.ts >= interval '1 day'$$);
SELECT * FROM asof_ttl_diff($$f.ts < s.ts - interval '1 day'$$, $$f.ts < s.ts - interval '1 day'$$);
SELECT * FROM asof_ttl_diff($$f.ts >= s.ts - interval '5 days' AND f.c % 2 = 0$$, $$f.ts >= s.ts - interval '5 days' AND f.c % 2 = 0$$);
