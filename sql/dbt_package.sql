-- The SQL side of the dbt package (src/dbt), without dbt: the statements its
-- macros run, as dbt 1.8 sends them (dbt's table rebuild sequence included),
-- over three `dbt run`s of a project with two members of a shared group role.
--   * registration is idempotent across rebuilds: one version, rows written
--     only when the model's data changed;
--   * the feature view's source is the model's name: it survives the rebuild
--     (the old table is renamed and dropped with CASCADE, taking nothing of
--     the extension with it) and the next materialization reads the new table;
--   * the retrieval macros pin the version serving when they compile, so a
--     new version changes nothing already compiled;
--   * training sets: an unchanged rebuild adds no version; the model's view
--     reads the pinned version; the drift and freshness tests' queries.
\set SHOW_CONTEXT never
SET client_min_messages = notice;

-- the team's group role (profiles.yml: role: dbt_pkg_eng) and two members
CREATE ROLE dbt_pkg_eng NOLOGIN;
CREATE ROLE dbt_pkg_alice LOGIN IN ROLE dbt_pkg_eng;
CREATE ROLE dbt_pkg_bob LOGIN IN ROLE dbt_pkg_eng;
CREATE ROLE dbt_pkg_carol LOGIN;
CREATE SCHEMA dbt_pkg AUTHORIZATION dbt_pkg_eng;

-- an upstream model (table materialization, not the package's business)
CREATE TABLE dbt_pkg.transactions (customer_id bigint, ts timestamptz, amount numeric);
INSERT INTO dbt_pkg.transactions
SELECT c, '2024-05-01'::timestamptz + d * interval '1 day' + h * interval '1 hour', (c * 7 + d * 3 + h) % 40 + 10
  FROM generate_series(1, 20) c, generate_series(0, 41) d, generate_series(9, 15, 3) h;
CREATE TABLE dbt_pkg.labels AS
SELECT c::bigint AS customer_id, '2024-06-01 12:00+00'::timestamptz + w * interval '3 days' AS label_ts, (c + w) % 5 = 0 AS churned
  FROM generate_series(1, 20) c, generate_series(0, 3) w;
ALTER TABLE dbt_pkg.transactions OWNER TO dbt_pkg_eng;
ALTER TABLE dbt_pkg.labels OWNER TO dbt_pkg_eng;

------------------------------------------------------------------------------
-- dbt run #1, by alice (dbt-postgres runs "set role" from the profile)
------------------------------------------------------------------------------
SET ROLE dbt_pkg_alice;
set role dbt_pkg_eng;
-- the first run: no table to back up
BEGIN;
create  table "contrib_regression"."dbt_pkg"."customer_daily__dbt_tmp"
    as
  (
select customer_id,
       date_trunc('day', ts) + interval '1 day' as day_end,
       sum(amount) as spend_1d,
       count(*)::int as txns_1d
  from "contrib_regression"."dbt_pkg"."transactions"
 group by 1, 2
  );
alter table "contrib_regression"."dbt_pkg"."customer_daily__dbt_tmp" rename to "customer_daily";
select fs.create_entity('dbt_pkg_customer', 'bigint'::regtype);
select fs.register_feature_view(
      name => 'customer_daily',
      entity => 'dbt_pkg_customer',
      source => '"contrib_regression"."dbt_pkg"."customer_daily"',
      key_column => 'customer_id',
      ts_column => 'day_end',
      ttl => '7 days'::interval,
      schedule => null::interval,
      description => 'Daily purchase totals per customer',
      owner => 'growth team',
      tags => array[]::text[],
      feature_descriptions => '{"spend_1d": "amount spent that day"}'::jsonb,
      available_after => null::interval) as version;
select rows_written, status from fs.materialize('customer_daily', full => true);
COMMIT;
drop table if exists "contrib_regression"."dbt_pkg"."customer_daily__dbt_backup" cascade;
RESET ROLE;

SELECT name, version, owner_role, source, description, serving FROM fs.feature_views WHERE name = 'customer_daily';
SELECT feature, description FROM fs.features WHERE view = 'customer_daily' ORDER BY position;
SELECT c.oid AS model_oid_1 FROM pg_class c WHERE c.oid = 'dbt_pkg.customer_daily'::regclass \gset

-- historical_features (a table model): pin the serving version, then the retrieval SQL
SET ROLE dbt_pkg_alice;
set role dbt_pkg_eng;
select u.name, (select f.version from fs.feature_views f where f.name = u.name and f.serving)
        from pg_catalog.unnest(array['customer_daily']::text[]) as u(name);
select fs.historical_features('"contrib_regression"."dbt_pkg"."labels"',
      array['customer_daily@1:*']::text[]::fs.feature_ref[],
      'customer_id', 'label_ts',
      strict => true, known_at => false,
      time_zone => null) AS retrieval_v1 \gset
\echo :retrieval_v1
-- the training_set model: the pinned fs.create_training_set call, then the
-- materialization's statements
select fs.create_training_set(
      name => 'churn_training',
      spine => '"contrib_regression"."dbt_pkg"."labels"',
      features => array['customer_daily@1:*']::text[]::fs.feature_ref[],
      key_column => 'customer_id',
      ts_column => 'label_ts',
      strict => true,
      known_at => false,
      time_zone => null,
      split => '{"train": 0.75, "test": 0.25}'::jsonb,
      description => 'churn labels with their point-in-time features',
      compression_level => null) as version;
select p.version
        from fs.training_sets n
        join fs.training_sets p on p.name = n.name and p.version < n.version
       where n.name = 'churn_training' and n.version = 1
         and p.checksum = n.checksum and p.spine_hash = n.spine_hash
         and p.features = n.features and p.options = n.options
       order by p.version desc limit 1;
select relation::text from fs.training_sets where name = 'churn_training' and version = 1;
create view "contrib_regression"."dbt_pkg"."churn_training" as select * from fs_data.churn_training_v1_training;
comment on view "contrib_regression"."dbt_pkg"."churn_training" is 'feature_store training set churn_training version 1';
RESET ROLE;

------------------------------------------------------------------------------
-- dbt run #2, by bob: nothing changed upstream
------------------------------------------------------------------------------
SET ROLE dbt_pkg_bob;
set role dbt_pkg_eng;
BEGIN;
create  table "contrib_regression"."dbt_pkg"."customer_daily__dbt_tmp"
    as
  (
select customer_id,
       date_trunc('day', ts) + interval '1 day' as day_end,
       sum(amount) as spend_1d,
       count(*)::int as txns_1d
  from "contrib_regression"."dbt_pkg"."transactions"
 group by 1, 2
  );
alter table "contrib_regression"."dbt_pkg"."customer_daily" rename to "customer_daily__dbt_backup";
alter table "contrib_regression"."dbt_pkg"."customer_daily__dbt_tmp" rename to "customer_daily";
select fs.create_entity('dbt_pkg_customer', 'bigint'::regtype);
select fs.register_feature_view(
      name => 'customer_daily',
      entity => 'dbt_pkg_customer',
      source => '"contrib_regression"."dbt_pkg"."customer_daily"',
      key_column => 'customer_id',
      ts_column => 'day_end',
      ttl => '7 days'::interval,
      schedule => null::interval,
      description => 'Daily purchase totals per customer',
      owner => 'growth team',
      tags => array[]::text[],
      feature_descriptions => '{"spend_1d": "amount spent that day"}'::jsonb,
      available_after => null::interval) as version;
select rows_written, status from fs.materialize('customer_daily', full => true);
COMMIT;
drop table if exists "contrib_regression"."dbt_pkg"."customer_daily__dbt_backup" cascade;

-- the training set again: identical, so the new version is dropped and the view kept on version 1
select fs.create_training_set(
      name => 'churn_training',
      spine => '"contrib_regression"."dbt_pkg"."labels"',
      features => array['customer_daily@1:*']::text[]::fs.feature_ref[],
      key_column => 'customer_id',
      ts_column => 'label_ts',
      strict => true,
      known_at => false,
      time_zone => null,
      split => '{"train": 0.75, "test": 0.25}'::jsonb,
      description => 'churn labels with their point-in-time features',
      compression_level => null) as version;
select p.version
        from fs.training_sets n
        join fs.training_sets p on p.name = n.name and p.version < n.version
       where n.name = 'churn_training' and n.version = 2
         and p.checksum = n.checksum and p.spine_hash = n.spine_hash
         and p.features = n.features and p.options = n.options
       order by p.version desc limit 1;
select fs.drop_training_set('churn_training', 2);
drop view if exists "contrib_regression"."dbt_pkg"."churn_training" cascade;
create view "contrib_regression"."dbt_pkg"."churn_training" as select * from fs_data.churn_training_v1_training;
RESET ROLE;

-- one version; the model is a new table (another OID) and the source, a name, found it
SELECT name, version, owner_role, source FROM fs.feature_views WHERE name = 'customer_daily';
SELECT 'dbt_pkg.customer_daily'::regclass::oid <> :model_oid_1 AS model_rebuilt,
       to_regclass('dbt_pkg.customer_daily__dbt_backup') IS NULL AS backup_dropped;
SELECT name, version, row_count, split_rows FROM fs.training_sets WHERE name = 'churn_training';

-- someone outside the group cannot take the view over (the reason for the shared role)
SET ROLE dbt_pkg_carol;
select fs.register_feature_view(
      name => 'customer_daily',
      entity => 'dbt_pkg_customer',
      source => '"contrib_regression"."dbt_pkg"."customer_daily"',
      key_column => 'customer_id',
      ts_column => 'day_end') as version;
RESET ROLE;

------------------------------------------------------------------------------
-- dbt run #3, by alice: a late purchase arrived upstream
------------------------------------------------------------------------------
INSERT INTO dbt_pkg.transactions VALUES (1, '2024-06-10 20:00+00', 1000);
SET ROLE dbt_pkg_alice;
set role dbt_pkg_eng;
BEGIN;
create  table "contrib_regression"."dbt_pkg"."customer_daily__dbt_tmp"
    as
  (
select customer_id,
       date_trunc('day', ts) + interval '1 day' as day_end,
       sum(amount) as spend_1d,
       count(*)::int as txns_1d
  from "contrib_regression"."dbt_pkg"."transactions"
 group by 1, 2
  );
alter table "contrib_regression"."dbt_pkg"."customer_daily" rename to "customer_daily__dbt_backup";
alter table "contrib_regression"."dbt_pkg"."customer_daily__dbt_tmp" rename to "customer_daily";
select fs.create_entity('dbt_pkg_customer', 'bigint'::regtype);
select fs.register_feature_view(
      name => 'customer_daily',
      entity => 'dbt_pkg_customer',
      source => '"contrib_regression"."dbt_pkg"."customer_daily"',
      key_column => 'customer_id',
      ts_column => 'day_end',
      ttl => '7 days'::interval,
      schedule => null::interval,
      description => 'Daily purchase totals per customer',
      owner => 'growth team',
      tags => array[]::text[],
      feature_descriptions => '{"spend_1d": "amount spent that day"}'::jsonb,
      available_after => null::interval) as version;
select rows_written, status from fs.materialize('customer_daily', full => true);
COMMIT;
drop table if exists "contrib_regression"."dbt_pkg"."customer_daily__dbt_backup" cascade;
RESET ROLE;

-- still one version; the changed day is a new history row; three successful runs
SELECT name, version FROM fs.feature_views WHERE name = 'customer_daily';
SELECT count(*) AS history_rows, count(DISTINCT (customer_id, day_end)) AS key_days
  FROM fs_data.customer_daily_v1;
SELECT version, rows_written, status FROM fs.materialization_runs WHERE view_name = 'customer_daily' ORDER BY run_id;

------------------------------------------------------------------------------
-- the model gains a feature: version 2, and pins
------------------------------------------------------------------------------
SET ROLE dbt_pkg_bob;
set role dbt_pkg_eng;
BEGIN;
create  table "contrib_regression"."dbt_pkg"."customer_daily__dbt_tmp"
    as
  (
select customer_id,
       date_trunc('day', ts) + interval '1 day' as day_end,
       sum(amount) as spend_1d,
       count(*)::int as txns_1d,
       max(amount) as max_amount_1d
  from "contrib_regression"."dbt_pkg"."transactions"
 group by 1, 2
  );
alter table "contrib_regression"."dbt_pkg"."customer_daily" rename to "customer_daily__dbt_backup";
alter table "contrib_regression"."dbt_pkg"."customer_daily__dbt_tmp" rename to "customer_daily";
select fs.register_feature_view(
      name => 'customer_daily',
      entity => 'dbt_pkg_customer',
      source => '"contrib_regression"."dbt_pkg"."customer_daily"',
      key_column => 'customer_id',
      ts_column => 'day_end',
      ttl => '7 days'::interval,
      schedule => null::interval,
      description => 'Daily purchase totals per customer',
      owner => 'growth team',
      tags => array[]::text[],
      feature_descriptions => '{"spend_1d": "amount spent that day"}'::jsonb,
      available_after => null::interval) as version;
-- compiled between registration and materialization (another thread of the
-- same dbt run): the pin is still version 1, which is what serves
select u.name, (select f.version from fs.feature_views f where f.name = u.name and f.serving)
        from pg_catalog.unnest(array['customer_daily']::text[]) as u(name);
select rows_written, status from fs.materialize('customer_daily', full => true);
COMMIT;
drop table if exists "contrib_regression"."dbt_pkg"."customer_daily__dbt_backup" cascade;
-- compiled now: pinned to version 2
select u.name, (select f.version from fs.feature_views f where f.name = u.name and f.serving)
        from pg_catalog.unnest(array['customer_daily']::text[]) as u(name);
-- SQL compiled with version 1 still reads version 1, unchanged
CREATE TEMP TABLE churn_features_v1 AS :retrieval_v1;
SELECT count(*) AS rows, count(customer_daily__spend_1d) AS with_spend,
       (SELECT array_agg(attname ORDER BY attnum) FROM pg_attribute
         WHERE attrelid = 'churn_features_v1'::regclass AND attnum > 0) AS columns
  FROM churn_features_v1;
-- the training set's view reads version 1 of the set, built from version 1 of the view
SELECT f ->> 'ref' AS ref, f ->> 'version' AS version
  FROM fs.training_sets, jsonb_array_elements(features) f WHERE name = 'churn_training';
SELECT count(*) AS rows, count(*) FILTER (WHERE split = 'train') AS train FROM dbt_pkg.churn_training;
RESET ROLE;

------------------------------------------------------------------------------
-- the generic tests' queries (feature_drift, feature_freshness): no rows = pass
------------------------------------------------------------------------------
-- feature_drift against the 21 days before the last 7
with served as (
    -- the history is bitemporal: the newest created row of each key and event time
    select distinct on (h."customer_id", h."day_end") h."day_end" as ts, h."spend_1d" as value
      from fs_data.customer_daily_v2 h
     order by h."customer_id", h."day_end", h.fs_created_at desc
  ), bounds as (
    select pg_catalog.max(ts) as newest from served
  ), cur as (
    select fs.profile(s.value) as p
      from served s, bounds b
     where s.ts > b.newest - '7 days'::interval
  ), ref as (
    select fs.profile(s.value) as p
      from served s, bounds b
     where s.ts <= b.newest - '7 days'::interval
       and s.ts > b.newest - '7 days'::interval
                            - '21 days'::interval
  )
  select 'customer_daily' as feature_view, 2 as version,
         'spend_1d' as feature, d.metric, d.value, d.threshold
    from ref, cur, fs.drift(ref.p, cur.p) d
   where d.drifted and d.metric = any (array['psi']::text[]);
-- feature_drift against the training set's stored profile
with served as (
    -- the history is bitemporal: the newest created row of each key and event time
    select distinct on (h."customer_id", h."day_end") h."day_end" as ts, h."spend_1d" as value
      from fs_data.customer_daily_v2 h
     order by h."customer_id", h."day_end", h.fs_created_at desc
  ), bounds as (
    select pg_catalog.max(ts) as newest from served
  ), cur as (
    select fs.profile(s.value) as p
      from served s, bounds b
     where s.ts > b.newest - '7 days'::interval
  ), ref as (
    select fs.training_set_profile('churn_training',
                                   null,
                                   'customer_daily:spend_1d') as p
  )
  select 'customer_daily' as feature_view, 2 as version,
         'spend_1d' as feature, d.metric, d.value, d.threshold
    from ref, cur, fs.drift(ref.p, cur.p) d
   where d.drifted and d.metric = any (array['psi']::text[]);
-- the same test fails once the last week's spending doubles
-- (newer rows of the same days, as a re-materialization writes them: the newest one counts)
INSERT INTO fs_data.customer_daily_v2 (customer_id, day_end, fs_created_at, spend_1d, txns_1d, max_amount_1d)
SELECT customer_id, day_end, fs_created_at + interval '1 second', spend_1d * 2, txns_1d, max_amount_1d
  FROM fs_data.customer_daily_v2
 WHERE day_end > (SELECT max(day_end) - interval '7 days' FROM fs_data.customer_daily_v2);
with served as (
    -- the history is bitemporal: the newest created row of each key and event time
    select distinct on (h."customer_id", h."day_end") h."day_end" as ts, h."spend_1d" as value
      from fs_data.customer_daily_v2 h
     order by h."customer_id", h."day_end", h.fs_created_at desc
  ), bounds as (
    select pg_catalog.max(ts) as newest from served
  ), cur as (
    select fs.profile(s.value) as p
      from served s, bounds b
     where s.ts > b.newest - '7 days'::interval
  ), ref as (
    select fs.training_set_profile('churn_training',
                                   null,
                                   'customer_daily:spend_1d') as p
  )
  select 'customer_daily' as feature_view, 2 as version,
         'spend_1d' as feature, d.metric, d.value > d.threshold AS above_threshold
    from ref, cur, fs.drift(ref.p, cur.p) d
   where d.drifted and d.metric = any (array['psi']::text[]);
-- feature_freshness, with max_lag '1 day': materialized just now, not scheduled
select f.view, f.version, f.breach
    from fs.feature_freshness f
   where f.view = 'customer_daily' and f.version = 2
     and (f.breach
          or f.last_success_at is null or f.lag > '1 day'::interval);
-- and with a max_lag it cannot meet
select f.view, f.version, f.breach
    from fs.feature_freshness f
   where f.view = 'customer_daily' and f.version = 2
     and (f.breach
          or f.last_success_at is null or f.lag > '-1 day'::interval);

-- clean up
DROP TABLE churn_features_v1;
DROP VIEW dbt_pkg.churn_training;
SELECT fs.drop_training_set('churn_training');
SELECT fs.drop_feature_view('customer_daily');
SELECT fs.drop_entity('dbt_pkg_customer');
DROP SCHEMA dbt_pkg CASCADE;
DROP ROLE dbt_pkg_alice, dbt_pkg_bob, dbt_pkg_carol, dbt_pkg_eng;
