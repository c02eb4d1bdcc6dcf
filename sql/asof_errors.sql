-- As-of operators used where they cannot keep their meaning: always an error,
-- never a silently different result.
SET search_path = public, fs;

CREATE TABLE asof_e_spine (id int, k int, ts timestamptz);
CREATE TABLE asof_e_feat (k int, ts timestamptz, v int);
CREATE TABLE asof_e_other (k int, x int);
INSERT INTO asof_e_spine VALUES (1, 1, '2024-01-02'), (2, 2, '2024-01-03');
INSERT INTO asof_e_feat VALUES (1, '2024-01-01', 10), (2, '2024-01-01', 20), (2, '2024-01-05', 25);
INSERT INTO asof_e_other VALUES (1, 1), (2, 2);

-- in a select list, a WHERE clause, a non-join query
SELECT s.ts @>= s.ts FROM asof_e_spine s;
SELECT now() @> now();
SELECT * FROM asof_e_spine s, asof_e_feat f WHERE f.k = s.k AND s.ts @>= f.ts;
SELECT * FROM asof_e_feat f WHERE f.ts @>= '2024-01-01';
SELECT count(*) FROM asof_e_spine s
WHERE EXISTS (SELECT 1 FROM asof_e_feat f WHERE f.k = s.k AND s.ts @>= f.ts);
SELECT * FROM asof_e_spine s ORDER BY s.ts @>= s.ts;
SELECT count(*) FROM asof_e_spine s GROUP BY s.k HAVING max(s.ts) @>= min(s.ts);

-- OR-ed, negated or nested in another expression
SELECT * FROM asof_e_spine s LEFT JOIN asof_e_feat f ON f.k = s.k OR s.ts @>= f.ts;
SELECT * FROM asof_e_spine s LEFT JOIN asof_e_feat f ON f.k = s.k AND NOT (s.ts @>= f.ts);
SELECT * FROM asof_e_spine s LEFT JOIN asof_e_feat f
  ON f.k = s.k AND CASE WHEN s.id > 0 THEN s.ts @>= f.ts ELSE false END;
SELECT * FROM asof_e_spine s LEFT JOIN asof_e_feat f ON f.k = s.k AND (s.ts @>= f.ts) IS TRUE;

-- two as-of conditions in one join
SELECT * FROM asof_e_spine s LEFT JOIN asof_e_feat f ON f.k = s.k AND s.ts @>= f.ts AND s.ts @> f.ts;

-- FULL and RIGHT joins with the spine on the nullable side, operands swapped
SELECT * FROM asof_e_spine s FULL JOIN asof_e_feat f ON f.k = s.k AND s.ts @>= f.ts;
SELECT * FROM asof_e_spine s RIGHT JOIN asof_e_feat f ON f.k = s.k AND s.ts @>= f.ts;
SELECT * FROM asof_e_spine s LEFT JOIN asof_e_feat f ON f.k = s.k AND f.ts @>= s.ts;
-- an operand that is not a column of the join's sides
SELECT * FROM asof_e_spine s LEFT JOIN asof_e_feat f ON f.k = s.k AND '2024-01-02'::timestamptz @>= f.ts;

-- conditions on the feature side outside the ON clause, which the planner
-- could apply before the latest row is chosen
SELECT * FROM asof_e_spine s LEFT JOIN asof_e_feat f ON f.k = s.k AND s.ts @>= f.ts WHERE f.v > 15;
SELECT * FROM asof_e_spine s JOIN asof_e_feat f ON f.k = s.k AND s.ts @>= f.ts WHERE f.v > 15;
SELECT * FROM asof_e_spine s JOIN asof_e_feat f ON f.k = s.k AND s.ts @>= f.ts
  JOIN asof_e_other o ON o.x = f.v;
SELECT * FROM (SELECT s.id, f.v FROM asof_e_spine s LEFT JOIN asof_e_feat f
               ON f.k = s.k AND s.ts @>= f.ts) j WHERE j.v > 15;
WITH j AS (SELECT s.id, f.v FROM asof_e_spine s LEFT JOIN asof_e_feat f ON f.k = s.k AND s.ts @>= f.ts)
SELECT * FROM j WHERE v > 15;
CREATE VIEW asof_e_view AS
  SELECT s.id, f.v FROM asof_e_spine s LEFT JOIN asof_e_feat f ON f.k = s.k AND s.ts @>= f.ts;
SELECT * FROM asof_e_view WHERE v > 15;
-- the documented ways around it give the as-of result, then filter
SELECT * FROM (SELECT s.id, f.v FROM asof_e_spine s LEFT JOIN asof_e_feat f
               ON f.k = s.k AND s.ts @>= f.ts OFFSET 0) j WHERE j.v > 15;
WITH j AS MATERIALIZED (SELECT s.id, f.v FROM asof_e_spine s LEFT JOIN asof_e_feat f
                        ON f.k = s.k AND s.ts @>= f.ts)
SELECT * FROM j WHERE v > 5 ORDER BY id;

-- joins the AsofJoin node cannot run: no plan, an error
SELECT * FROM asof_e_spine s JOIN asof_e_feat f ON f.k = s.k AND s.ts @>= f.ts + (random() * interval '1 s');
SELECT * FROM asof_e_spine s
  LEFT JOIN LATERAL generate_series(s.ts - interval '2 days', s.ts, interval '1 day') g(ts) ON s.ts @> g.ts;
-- (a LATERAL feature sub-query that the planner flattens into a keyed join is fine)
SELECT s.id, f.v FROM asof_e_spine s LEFT JOIN LATERAL (SELECT * FROM asof_e_feat f WHERE f.k = s.k) f
  ON s.ts @>= f.ts ORDER BY s.id;
-- (a feature side that is itself a join is fine: its rows are the candidates)
SELECT s.id, f.v, o.x FROM asof_e_spine s LEFT JOIN (asof_e_feat f JOIN asof_e_other o ON o.k = f.k)
  ON f.k = s.k AND s.ts @>= f.ts AND o.x = s.id ORDER BY s.id;

-- the functions behind the operators refuse to run row by row
SELECT fs_internal.asof_ge(now(), now());
SELECT fs_internal.asof_gt(1, 2);
SELECT fs_internal.asof_ge(NULL::numeric, NULL::numeric);
-- EXPLAIN fails the same way as running the query
EXPLAIN (COSTS OFF) SELECT * FROM asof_e_spine s, asof_e_feat f WHERE f.k = s.k AND s.ts @>= f.ts;
-- different time types are refused (an implicit cast would take its meaning
-- from the session's time zone); other mismatched operand types resolve
-- through the usual casts, or fail to parse
SELECT count(*) FROM asof_e_spine s LEFT JOIN asof_e_feat f ON f.k = s.k AND s.ts::date @>= f.ts;
SELECT count(*) FROM asof_e_spine s LEFT JOIN asof_e_feat f ON f.k = s.k
   AND (s.ts::date::timestamp AT TIME ZONE 'UTC') @>= f.ts;
SELECT * FROM asof_e_spine s LEFT JOIN asof_e_feat f ON f.k = s.k AND s.id @>= f.ts;

-- an inner as-of join whose feature side joins several tables: the planner
-- could take the as-of over part of it, so it is refused (LEFT JOIN works)
CREATE TABLE asof_e_fa (k int, ts int, dim int);
CREATE TABLE asof_e_fd (dim int);
INSERT INTO asof_e_fa VALUES (1, 1, 10), (1, 5, 20), (1, 9, 30);
INSERT INTO asof_e_fd VALUES (10), (20);
CREATE VIEW asof_e_fv AS SELECT fa.k, fa.ts, fa.dim FROM asof_e_fa fa JOIN asof_e_fd fd ON fd.dim = fa.dim;
CREATE TABLE asof_e_sx (id int, k int, ts int);
INSERT INTO asof_e_sx VALUES (1, 1, 10), (2, 1, 6);
SELECT s.id, f.ts, f.dim FROM asof_e_sx s JOIN asof_e_fv f ON f.k = s.k AND s.ts @>= f.ts;
SELECT s.id, f.ts FROM asof_e_sx s JOIN (asof_e_fa f JOIN asof_e_fd d ON d.dim = f.dim) ON f.k = s.k AND s.ts @>= f.ts;
WITH fv AS (SELECT fa.k, fa.ts FROM asof_e_fa fa JOIN asof_e_fd fd ON fd.dim = fa.dim)
SELECT s.id, f.ts FROM asof_e_sx s JOIN fv f ON f.k = s.k AND s.ts @>= f.ts;
SELECT s.id, f.ts, f.dim FROM asof_e_sx s LEFT JOIN asof_e_fv f ON f.k = s.k AND s.ts @>= f.ts ORDER BY s.id;
SELECT * FROM (SELECT s.id, f.ts, f.dim FROM asof_e_sx s LEFT JOIN asof_e_fv f
               ON f.k = s.k AND s.ts @>= f.ts OFFSET 0) j WHERE j.dim IS NOT NULL ORDER BY id;
-- a feature sub-query the planner cannot flatten is one relation: fine
SELECT s.id, f.ts, f.n FROM asof_e_sx s JOIN
  (SELECT fa.k, fa.ts, count(*) AS n FROM asof_e_fa fa JOIN asof_e_fd fd ON fd.dim = fa.dim GROUP BY 1, 2) f
  ON f.k = s.k AND s.ts @>= f.ts ORDER BY s.id;
