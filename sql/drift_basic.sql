-- fs.drift: rows, thresholds, verdicts and bad input
CREATE TEMP TABLE drift_basic_p AS
SELECT (SELECT fs.profile(g::float8) FROM generate_series(1, 1000) g) AS a,
       (SELECT fs.profile(g::float8 + 300) FROM generate_series(1, 1000) g) AS shifted,
       (SELECT fs.profile(v) FROM unnest('{x,x,y,z,NULL}'::text[]) v) AS ta,
       (SELECT fs.profile(v) FROM unnest('{x,y,y,w}'::text[]) v) AS tb,
       (SELECT fs.profile(g) FROM generate_series(1, 0) g) AS empty;

-- identical profiles: nothing drifts
SELECT metric, round(value::numeric, 6) AS value, threshold, drifted
FROM drift_basic_p, fs.drift(a, a);

-- a shift of 30% of the range
SELECT metric, round(value::numeric, 3) AS value, threshold, drifted
FROM drift_basic_p, fs.drift(a, shifted);

-- thresholds can be overridden; NULL means no verdict
SELECT metric, threshold, drifted
FROM drift_basic_p, fs.drift(a, shifted, psi_threshold => 10, wasserstein_threshold => NULL);

-- categorical: shares x 2/4 vs 1/4, y 1/4 vs 2/4, z 1/4 vs 0, w 0 vs 1/4
SELECT metric, round(value::numeric, 4) AS value, threshold, drifted
FROM drift_basic_p, fs.drift(ta, tb);
SELECT metric, value, drifted FROM drift_basic_p, fs.drift(ta, ta);

-- an empty side gives no values
SELECT metric, value, drifted FROM drift_basic_p, fs.drift(a, empty);

-- errors
SELECT * FROM drift_basic_p, fs.drift(a, ta);
SELECT * FROM drift_basic_p, fs.drift(a, NULL);
SELECT * FROM drift_basic_p, fs.drift(a, a, psi_threshold => -1);
