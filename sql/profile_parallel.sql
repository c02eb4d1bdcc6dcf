-- Partial aggregation of fs.profile: the plan must be parallel and the bytes
-- identical to a serial run (a regular table: temp tables are never scanned
-- in parallel).
CREATE TABLE profile_par (g int, x float8, n numeric, t text);
INSERT INTO profile_par
SELECT g,
       CASE WHEN g % 101 = 0 THEN NULL WHEN g % 997 = 0 THEN 'NaN'
            ELSE sqrt(-2 * ln(1 - (g * 0.6180339887498949::float8 - floor(g * 0.6180339887498949::float8))))
                 * cos(2 * pi() * (g * 0.41421356237309503::float8 - floor(g * 0.41421356237309503::float8))) * 1e3 END,
       (g % 1000) / 8.0,
       CASE WHEN g % 53 = 0 THEN NULL ELSE 'v' || (g * 7919 % 211) END
FROM generate_series(1, 200000) g;
ANALYZE profile_par;

SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE profile_par_serial AS
SELECT fs.profile(x)::text AS x, fs.profile(n)::text AS n, fs.profile(t)::text AS t,
       fs.profile(g)::text AS g, fs.profile((g % 20000)::text)::text AS wide,
       fs.profile(CASE WHEN g <= 15000 THEN g::text END)::text AS split
FROM profile_par;

SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;

EXPLAIN (COSTS OFF)
SELECT fs.profile(x), fs.profile(n), fs.profile(t) FROM profile_par;

SELECT p.x = s.x AS float8_same, p.n = s.n AS numeric_same, p.t = s.t AS text_same,
       p.g = s.g AS int_same, p.wide = s.wide AS sampled_text_same,
       p.split = s.split AS sampled_on_combine_same
FROM (SELECT fs.profile(x)::text AS x, fs.profile(n)::text AS n, fs.profile(t)::text AS t,
             fs.profile(g)::text AS g, fs.profile((g % 20000)::text)::text AS wide,
             fs.profile(CASE WHEN g <= 15000 THEN g::text END)::text AS split
      FROM profile_par) p, profile_par_serial s;
-- "split" has 15000 distinct values: partial profiles may each stay under the
-- 10000 cap and switch to sampling only when combined
SELECT fs.profile_count(p), round((fs.profile_distinct(p) / 15000)::numeric, 1) AS distinct_ratio
FROM (SELECT fs.profile(CASE WHEN g <= 15000 THEN g::text END) p FROM profile_par) s;

-- grouped profiles rolled up with profile_merge
SELECT (SELECT fs.profile_merge(p) FROM (SELECT fs.profile(x) p FROM profile_par GROUP BY g % 4) s)::text
     = (SELECT x FROM profile_par_serial) AS merged_groups_same,
       (SELECT fs.profile_merge(p) FROM (SELECT fs.profile((g % 20000)::text) p FROM profile_par GROUP BY g % 7) s)::text
     = (SELECT wide FROM profile_par_serial) AS merged_sampled_same;

-- profile_merge itself runs in parallel
CREATE TABLE profile_par_days AS
SELECT g % 50 AS day, fs.profile(x) AS p FROM profile_par GROUP BY 1;
ANALYZE profile_par_days;
EXPLAIN (COSTS OFF) SELECT fs.profile_merge(p) FROM profile_par_days;
SELECT fs.profile_merge(p)::text = (SELECT x FROM profile_par_serial) AS parallel_merge_same
FROM profile_par_days;

-- a worker that sees no rows hands over a NULL partial state (combine with NULL)
CREATE TABLE profile_par_one (x float8);
INSERT INTO profile_par_one VALUES (1.5);
ANALYZE profile_par_one;
EXPLAIN (COSTS OFF) SELECT fs.profile(x) FROM profile_par_one;
SELECT fs.profile_count(fs.profile(x)), fs.profile_mean(fs.profile(x)) FROM profile_par_one;
SELECT fs.profile_count(fs.profile(x)), fs.profile_kind(fs.profile(x)) FROM profile_par_one WHERE x > 2;

RESET ALL;
DROP TABLE profile_par, profile_par_days, profile_par_one;
