-- Scaling out (README "Scaling out"): what can be checked without Citus.
\set SHOW_CONTEXT never

-- the profile aggregates keep a concrete state type, which Citus needs to push
-- partial aggregation down (internal states are pulled to the coordinator)
SELECT a.aggfnoid::regprocedure AS aggregate, a.aggtranstype::regtype AS state,
       a.aggcombinefn <> 0 AS combines, a.aggserialfn = 0 AND a.aggdeserialfn = 0 AS no_serial_functions
  FROM pg_aggregate a
 WHERE a.aggfnoid IN ('fs.profile(float8)'::regprocedure, 'fs.profile(numeric)'::regprocedure,
                      'fs.profile(text)'::regprocedure, 'fs.profile_merge(fs.profile)'::regprocedure)
 ORDER BY 1::text;

CREATE TABLE scale_prof (g int, x float8, t text);
INSERT INTO scale_prof
SELECT g, CASE WHEN g % 97 = 0 THEN NULL ELSE sin(g) * 1e4 END, 'v' || (g * 31 % 12011)
  FROM generate_series(1, 60000) g;
ANALYZE scale_prof;
CREATE TEMP TABLE scale_serial AS
SELECT fs.profile(x)::text AS x, fs.profile(t)::text AS t FROM scale_prof;

-- partial states as Citus ships them: printed with the type's output function
-- on each worker, read back and combined on the coordinator
CREATE AGGREGATE scale_combine(fs.profile) (
	SFUNC = fs_internal.profile_combine_states, STYPE = fs.profile,
	FINALFUNC = fs_internal.profile_state_final_merge);
SELECT scale_combine(p::text::fs.profile)::text = (SELECT x FROM scale_serial) AS numeric_same,
       (SELECT scale_combine(p::text::fs.profile)::text
          FROM (SELECT fs.profile(t) AS p FROM scale_prof GROUP BY g % 5) s) = (SELECT t FROM scale_serial) AS text_same
  FROM (SELECT fs.profile(x) AS p FROM scale_prof GROUP BY g % 7) s;

-- parallel partial aggregation with the leader participating: the leader's
-- partial states reach the final aggregate without being flattened
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = on;
EXPLAIN (COSTS OFF) SELECT fs.profile(x), fs.profile(t) FROM scale_prof;
SELECT fs.profile(x)::text = (SELECT x FROM scale_serial) AS numeric_same,
       fs.profile(t)::text = (SELECT t FROM scale_serial) AS text_same
  FROM scale_prof;
RESET ALL;

-- hashed and sorted grouping keep one state per group: same bytes
CREATE TEMP TABLE scale_hashed AS SELECT g % 500 AS k, fs.profile(x)::text AS p FROM scale_prof GROUP BY 1;
SET enable_hashagg = off;
SELECT count(*) AS groups, bool_and(s.p = h.p) AS same
  FROM (SELECT g % 500 AS k, fs.profile(x)::text AS p FROM scale_prof GROUP BY 1) s JOIN scale_hashed h USING (k);
RESET enable_hashagg;

-- as a window aggregate the state is kept between rows and finalized at each
SELECT bool_and(w.p = (SELECT fs.profile(x)::text FROM scale_prof s2 WHERE s2.g <= w.g)) AS running_same
  FROM (SELECT g, fs.profile(x) OVER (ORDER BY g)::text AS p FROM scale_prof WHERE g <= 40) w;

-- the support functions refuse to run outside an aggregate, and a state of
-- the other kind
SELECT fs_internal.profile_float8_trans(NULL, 1.0);
CREATE AGGREGATE scale_bad(float8) (
	SFUNC = fs_internal.profile_float8_trans, STYPE = fs.profile,
	INITCOND = '465350010200000000');
SELECT scale_bad(x) FROM scale_prof;
SELECT fs.profile_kind('465350010200000000'::fs.profile);
DROP AGGREGATE scale_combine(fs.profile);
DROP AGGREGATE scale_bad(float8);
DROP TABLE scale_prof;

-- distributing a feature view's storage needs Citus
SELECT fs.create_entity('scale_shop', 'int');
CREATE TABLE scale_orders (shop_id int, at timestamptz, total numeric);
SELECT fs.register_feature_view('scale_sales', 'scale_shop', 'scale_orders', 'shop_id', 'at');
SELECT fs.distribute_feature_view('scale_sales', 'scale_orders');
SELECT fs.drop_feature_view('scale_sales');
SELECT fs.drop_entity('scale_shop');
DROP TABLE scale_orders;

-- online reads of a table Citus manages go through one query with the keys
-- as a literal array.  Without Citus, a stand-in pg_dist_partition listing a
-- local online table sends its reads down that path: the answers must be
-- those of the primary-key probes, in request order, duplicates, NULL and
-- missing keys, the TTL and a key cast included.
SELECT fs.create_entity('scale_user', 'bigint');
CREATE TABLE scale_events (user_id bigint, at timestamptz, score float8, label text);
INSERT INTO scale_events
SELECT u, now() - (u % 3) * interval '10 days' + d * interval '1 hour', u * 1.5 + d, 'l' || u
  FROM generate_series(1, 300) u, generate_series(0, 2) d;
SELECT fs.register_feature_view('scale_users', 'scale_user', 'scale_events', 'user_id', 'at', ttl => '15 days');
SELECT online_rows FROM fs.materialize('scale_users', full => true);
SELECT online_relation AS scale_online FROM fs.feature_views WHERE name = 'scale_users' \gset
CREATE TABLE scale_probe AS
SELECT o.ord, o.key, o.features
  FROM fs.online_features('{scale_users:*}', ARRAY[5, NULL, 1, 299, 5, 4242, 3]::bigint[])
       WITH ORDINALITY AS o(key, features, ord);
CREATE TABLE scale_probe_typed AS
SELECT string_agg(t::text, '; ') AS rows
  FROM fs.online_features_typed('{scale_users:label, scale_users:score}', ARRAY[2, 7, 2, 1000]::int[])
       AS t(key int, label text, score float8);
SET allow_system_table_mods = on;
CREATE TABLE pg_catalog.pg_dist_partition (logicalrelid regclass, partmethod "char");
RESET allow_system_table_mods;
INSERT INTO pg_catalog.pg_dist_partition VALUES (:'scale_online', 'h');
\c
-- the query path obeys the planner settings: without index scans it reads the
-- table sequentially, which a primary-key probe never does
SET enable_indexscan = off;
SET enable_bitmapscan = off;
BEGIN;
SELECT count(*) AS keys, bool_and(p.key IS NOT DISTINCT FROM o.key AND p.features = o.features) AS same,
       count(*) FILTER (WHERE o.features->>'scale_users:score' IS NOT NULL) AS fresh
  FROM scale_probe p
  JOIN fs.online_features('{scale_users:*}', ARRAY[5, NULL, 1, 299, 5, 4242, 3]::bigint[])
       WITH ORDINALITY AS o(key, features, ord) USING (ord);
SELECT (SELECT rows FROM scale_probe_typed) AS typed_rows,
       (SELECT string_agg(t::text, '; ')
          FROM fs.online_features_typed('{scale_users:label, scale_users:score}', ARRAY[2, 7, 2, 1000]::int[])
               AS t(key int, label text, score float8)) = (SELECT rows FROM scale_probe_typed) AS typed_same;
SELECT seq_scan > 0 AS read_by_query FROM pg_stat_xact_user_tables WHERE relid = :'scale_online'::regclass;
COMMIT;
RESET enable_indexscan;
RESET enable_bitmapscan;
DROP TABLE pg_catalog.pg_dist_partition;
SELECT fs.drop_feature_view('scale_users');
SELECT fs.drop_entity('scale_user');
DROP TABLE scale_events, scale_probe, scale_probe_typed;
