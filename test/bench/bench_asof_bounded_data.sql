-- Data for bench_asof_bounded.sh, generated (never downloaded) and seeded.
--
-- psql variables: hot (feature rows of the one hot key), other (rows of the
-- other keys), spine (rows).  The hot key's rows are spread over one year in
-- time order; 100 other keys share the rest.  Every spine row asks about the
-- hot key at a random instant of that year, with a threshold thr that a
-- feature value v must stay under: mostly moderate (a few candidates are read
-- back), 5% of the rows 0 (no candidate ever passes: the walk reads back the
-- whole TTL window, or without a bound the key's whole history).

\set ON_ERROR_STOP 1
SET client_min_messages = warning;
DROP TABLE IF EXISTS bench_bounded_features, bench_bounded_spine;

CREATE TABLE bench_bounded_features (
	k	bigint NOT NULL,
	ts	timestamptz NOT NULL,
	v	float8,
	w	int4
) WITH (autovacuum_enabled = off);

CREATE TABLE bench_bounded_spine (
	id	bigint NOT NULL,
	k	bigint NOT NULL,
	ts	timestamptz NOT NULL,
	thr	float8
) WITH (autovacuum_enabled = off);

DO $$ BEGIN PERFORM pg_catalog.setseed(0.17); END $$;

INSERT INTO bench_bounded_features
SELECT 0,
	   timestamptz '2025-01-01 00:00:00+00' + (g + random()) * (interval '365 days' / :hot),
	   random(),
	   (random() * 1000)::int4
FROM generate_series(0, :hot - 1) AS g;

INSERT INTO bench_bounded_features
SELECT 1 + g % 100,
	   timestamptz '2025-01-01 00:00:00+00' + random() * interval '365 days',
	   random(),
	   (random() * 1000)::int4
FROM generate_series(0, :other - 1) AS g;

INSERT INTO bench_bounded_spine
SELECT g,
	   0,
	   timestamptz '2025-01-01 00:00:00+00' + random() * interval '365 days',
	   CASE WHEN random() < 0.05 THEN 0 ELSE 0.05 + random() * 0.5 END
FROM generate_series(1, :spine) AS g;

CREATE INDEX bench_bounded_features_k_ts ON bench_bounded_features (k, ts);
VACUUM ANALYZE bench_bounded_features;
VACUUM ANALYZE bench_bounded_spine;
