-- Data for bench_asof.sh, generated (never downloaded) and seeded.
--
-- psql variables: features (rows), keys, spine (rows), small (rows of the
-- small spine).  Shape: each key gets features/keys rows spread over one
-- year (one random instant inside each of its equal time slots, so (k, ts)
-- is unique and rows arrive roughly in time order, as an append-only history
-- does); the spine picks a random key and a random instant from a week before
-- the year starts (some rows find nothing) to its end.

\set ON_ERROR_STOP 1
SET client_min_messages = warning;
DROP TABLE IF EXISTS bench_asof_features, bench_asof_spine, bench_asof_spine_small;

CREATE TABLE bench_asof_features (
	k	bigint NOT NULL,
	ts	timestamptz NOT NULL,
	v1	float8,
	v2	int4,
	v3	int8
) WITH (autovacuum_enabled = off);

CREATE TABLE bench_asof_spine (
	id		bigint NOT NULL,
	k		bigint NOT NULL,
	ts		timestamptz NOT NULL,
	label	bool
) WITH (autovacuum_enabled = off);

CREATE TABLE bench_asof_spine_small (LIKE bench_asof_spine) WITH (autovacuum_enabled = off);

DO $$ BEGIN PERFORM pg_catalog.setseed(0.42); END $$;

-- Row g (0-based) belongs to key g % keys and to that key's time slot
-- g / keys; slots split the year evenly.
INSERT INTO bench_asof_features
SELECT g % :keys,
	   timestamptz '2025-01-01 00:00:00+00'
	   + ((g / :keys) + random()) * (interval '365 days' / (:features / :keys)),
	   round((random() * 1000)::numeric, 3)::float8,
	   (random() * 100000)::int4,
	   g
FROM generate_series(0, :features - 1) AS g;

INSERT INTO bench_asof_spine
SELECT g,
	   floor(random() * :keys)::bigint,
	   timestamptz '2024-12-25 00:00:00+00' + random() * interval '372 days',
	   random() < 0.1
FROM generate_series(1, :spine) AS g;

INSERT INTO bench_asof_spine_small
SELECT g,
	   floor(random() * :keys)::bigint,
	   timestamptz '2024-12-25 00:00:00+00' + random() * interval '372 days',
	   random() < 0.1
FROM generate_series(1, :small) AS g;

CREATE INDEX bench_asof_features_k_ts ON bench_asof_features (k, ts) INCLUDE (v1, v2, v3);
VACUUM ANALYZE bench_asof_features;
VACUUM ANALYZE bench_asof_spine;
VACUUM ANALYZE bench_asof_spine_small;
