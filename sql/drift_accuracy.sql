-- Accuracy of fs.profile and fs.drift against numpy/scipy reference values
-- (test/data/gen_drift_fixtures.py, which documents the data sets: every row
-- is a pure function of its index, computed identically here).
\getenv abs_srcdir PG_ABS_SRCDIR
\set fixtures :abs_srcdir '/test/data/drift_fixtures.csv'
CREATE TEMP TABLE drift_acc_fixture (name text PRIMARY KEY, value float8);
COPY drift_acc_fixture FROM :'fixtures' WITH (FORMAT csv, HEADER);

CREATE FUNCTION pg_temp.drift_acc_frac(i bigint, c float8) RETURNS float8
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	AS $$ SELECT i::float8 * c - floor(i::float8 * c) $$;
CREATE FUNCTION pg_temp.drift_acc_z(i bigint) RETURNS float8
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	AS $$ SELECT sqrt(-2.0::float8 * ln(1.0::float8 - pg_temp.drift_acc_frac(i, '0.6180339887498949')))
	           * cos(2.0::float8 * pi() * pg_temp.drift_acc_frac(i, '0.41421356237309503')) $$;

-- 1M rows per data set, profiled once each
CREATE TEMP TABLE drift_acc_p AS
SELECT (SELECT fs.profile(pg_temp.drift_acc_z(i)) FROM generate_series(1, 1000000) i) AS ref,
       (SELECT fs.profile(0.1::float8 + 1.1::float8 * pg_temp.drift_acc_z(i))
          FROM generate_series(1000001, 2000000) i) AS cur,
       (SELECT fs.profile(pg_temp.drift_acc_z(i)) FROM generate_series(1000001, 2000000) i) AS same,
       (SELECT fs.profile(1e6::float8 + pg_temp.drift_acc_z(i)) FROM generate_series(1, 1000000) i) AS big;

CREATE TEMP VIEW drift_acc_fx AS SELECT pg_catalog.jsonb_object_agg(name, value) AS f FROM drift_acc_fixture;

-- moments: mean exact to 1e-12 relative, variance to 1e-10 relative
SELECT abs(fs.profile_mean(big) / (f->>'big_mean')::float8 - 1) < 1e-12 AS big_mean_ok,
       abs(fs.profile_variance(big) / (f->>'big_variance')::float8 - 1) < 1e-10 AS big_variance_ok,
       abs(fs.profile_mean(ref) - (f->>'ref_mean')::float8) < 1e-12 AS ref_mean_ok,
       abs(fs.profile_variance(ref) / (f->>'ref_variance')::float8 - 1) < 1e-10 AS ref_variance_ok,
       fs.profile_count(big) AS n
FROM drift_acc_p, drift_acc_fx;

-- quantiles within the sketch's stated relative accuracy (0.5%) of numpy's order statistic
SELECT q, abs(fs.profile_quantile(ref, q) - (f->>('ref_q' || q))::float8)
            <= 0.005 * abs((f->>('ref_q' || q))::float8) AS ref_ok,
          abs(fs.profile_quantile(big, q) - (f->>('big_q' || q))::float8)
            <= 0.005 * abs((f->>('big_q' || q))::float8) AS big_ok
FROM drift_acc_p, drift_acc_fx, unnest('{0.01,0.1,0.25,0.5,0.75,0.9,0.99}'::float8[]) q
ORDER BY q;

-- drift metrics: KS within 0.01 of scipy's ks_2samp, PSI within 0.01 of the
-- exact decile PSI, normalised Wasserstein within 0.02 of scipy, JS within 0.01
SELECT s.name, d.metric,
       abs(d.value - (f->>(s.name || CASE d.metric WHEN 'psi' THEN '_psi' WHEN 'ks_statistic' THEN '_ks'
                             WHEN 'jensen_shannon' THEN '_js' ELSE '_wasserstein_norm' END))::float8)
         <= CASE d.metric WHEN 'wasserstein_norm' THEN 0.02 ELSE 0.01 END AS ok,
       d.drifted
FROM drift_acc_p p, drift_acc_fx,
     LATERAL (VALUES ('cur', p.cur), ('same', p.same)) s(name, prof),
     LATERAL fs.drift(p.ref, s.prof) d
WHERE d.metric IN ('psi', 'ks_statistic', 'jensen_shannon', 'wasserstein_norm')
ORDER BY s.name, d.metric;

-- the KS p-value: tiny for a real shift at 1M rows, large for the same distribution
SELECT s.name, d.value < 1e-6 AS tiny, d.drifted
FROM drift_acc_p p, LATERAL (VALUES ('cur', p.cur), ('same', p.same)) s(name, prof),
     LATERAL fs.drift(p.ref, s.prof) d
WHERE d.metric = 'ks_p_value' ORDER BY s.name;

-- categorical
CREATE TEMP TABLE drift_acc_c AS
SELECT (SELECT fs.profile('c' || floor(20 * pg_temp.drift_acc_frac(i, '0.6180339887498949') ^ 2::float8))
          FROM generate_series(1, 100000) i) AS ref,
       (SELECT fs.profile('c' || floor(20 * pg_temp.drift_acc_frac(i, '0.6180339887498949') ^ 1.6::float8))
          FROM generate_series(1, 100000) i) AS cur,
       (SELECT fs.profile('c' || floor(20 * pg_temp.drift_acc_frac(i, '0.6180339887498949') ^ 2::float8))
          FROM generate_series(1, 1000) i) AS small_ref,
       (SELECT fs.profile('c' || floor(20 * pg_temp.drift_acc_frac(i, '0.6180339887498949') ^ 1.7::float8))
          FROM generate_series(1, 1000) i) AS small_cur;
SELECT d.metric,
       abs(d.value - (f->>CASE d.metric WHEN 'psi' THEN 'cat_psi' WHEN 'jensen_shannon' THEN 'cat_js'
                           WHEN 'l_infinity' THEN 'cat_linf' ELSE 'cat_chi2_p' END)::float8) <= 1e-9 AS ok,
       d.drifted
FROM drift_acc_c c, drift_acc_fx, LATERAL fs.drift(c.ref, c.cur) d ORDER BY d.metric;
SELECT d.metric, abs(d.value - (f->>'cat_small_chi2_p')::float8) <= 1e-6 AS ok, d.drifted
FROM drift_acc_c c, drift_acc_fx, LATERAL fs.drift(c.small_ref, c.small_cur) d
WHERE d.metric = 'chi_square_p_value';
