-- The bytes of a profile depend only on the multiset of its inputs: any input
-- order and any split into merged parts give the same profile.  Random data
-- (seeded) over the whole double range: subnormals, huge values, zeros of both
-- signs, NaN, infinities, NULLs; and text beyond the exact-count cap.
SELECT setseed(0.42);
CREATE TEMP TABLE profile_canon_x (trial int, i int, x float8);
INSERT INTO profile_canon_x
SELECT t, i, CASE (random() * 10)::int
	WHEN 0 THEN (random() - 0.5) * power(2::float8, floor(random() * 2000 - 1000))
	WHEN 1 THEN (floor(random() * 100) - 50) * power(2::float8, -1074)
	WHEN 2 THEN (random() - 0.5) * 1e308
	WHEN 3 THEN CASE WHEN random() < 0.5 THEN '-0'::float8 ELSE 0 END
	WHEN 4 THEN floor(random() * 5)
	WHEN 5 THEN CASE WHEN random() < 0.5 THEN 'NaN'::float8 ELSE '-Infinity' END
	WHEN 6 THEN NULL
	ELSE (random() - 0.5) * power(10::float8, floor(random() * 40 - 20)) END
FROM generate_series(1, 200) t, LATERAL generate_series(1, 1 + (t % 3) * (t % 97) * 4) i;

WITH one AS (SELECT trial, fs.profile(x ORDER BY i)::text a, fs.profile(x ORDER BY -i)::text b,
                    fs.profile(x ORDER BY md5(i::text))::text c
             FROM profile_canon_x GROUP BY trial),
     parts AS (SELECT trial, i % 7 AS part, fs.profile(x) p FROM profile_canon_x GROUP BY 1, 2),
     merged AS (SELECT trial, fs.profile_merge(p ORDER BY part DESC)::text m FROM parts GROUP BY 1)
SELECT count(*) AS trials, count(*) FILTER (WHERE a = b AND b = c AND c = m) AS same_bytes
FROM one JOIN merged USING (trial);

CREATE TEMP TABLE profile_canon_t (trial int, i int, v text);
INSERT INTO profile_canon_t
SELECT t, i, CASE WHEN random() < 0.05 THEN NULL
                  WHEN random() < 0.3 THEN 'hot' || (random() * 5)::int
                  ELSE md5((random() * (CASE t WHEN 1 THEN 50 WHEN 2 THEN 9000 ELSE 30000 END))::int::text) END
FROM generate_series(1, 3) t, LATERAL generate_series(1, 25000) i;
WITH one AS (SELECT trial, fs.profile(v ORDER BY i)::text a, fs.profile(v ORDER BY -i)::text b
             FROM profile_canon_t GROUP BY trial),
     parts AS (SELECT trial, i % 5 AS part, fs.profile(v) p FROM profile_canon_t GROUP BY 1, 2),
     merged AS (SELECT trial, fs.profile_merge(p ORDER BY part DESC)::text m FROM parts GROUP BY 1),
     chunks AS (SELECT trial, i / 1000 AS part, fs.profile(v) p FROM profile_canon_t GROUP BY 1, 2),
     rolled AS (SELECT trial, fs.profile_merge(p ORDER BY part)::text r FROM chunks GROUP BY 1)
SELECT trial, a = b AND b = m AND m = r AS same_bytes,
       (fs.profile_summary(a::fs.profile) ->> 'distinct')::float8 / count_distinct BETWEEN 0.95 AND 1.05 AS distinct_ok
FROM one JOIN merged USING (trial) JOIN rolled USING (trial)
JOIN (SELECT trial, count(DISTINCT v) AS count_distinct FROM profile_canon_t GROUP BY 1) d USING (trial)
ORDER BY trial;
