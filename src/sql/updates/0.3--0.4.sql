-- 0.3 -> 0.4, the hand-written step.  The topic files run after it and
-- replace the body of every function, view and aggregate; what they cannot
-- change in place (a dropped function, a changed result type, a new column
-- of a table created in install/) is done here.  install/ files whose
-- objects are all new in 0.4 are listed in the Makefile's
-- SQL_NEW_IN_RELEASE and appended after this step.

-- Unpinned references serve a version only once it has been materialized
-- successfully (fs_internal.serving_version): a version records the end of
-- its first successful run.  Versions materialized under 0.3 take it from
-- their recorded runs (the oldest success still kept).
ALTER TABLE fs.view_versions ADD COLUMN first_success_at timestamptz;
UPDATE fs.view_versions vv
   SET first_success_at = r.first_success
  FROM (SELECT view_name, version, pg_catalog.min(finished_at) AS first_success
		  FROM fs.materialization_runs WHERE status = 'succeeded'
		 GROUP BY view_name, version) r
 WHERE r.view_name = vv.view_name AND r.version = vv.version;

-- ---- citus: profile aggregates keep their state as an fs.profile ----
-- (issue 15) The aggregates' state type changes from internal to fs.profile
-- so that partial aggregation can ship it (Citus pushes down only aggregates
-- with a concrete state type).  CREATE OR REPLACE AGGREGATE keeps every
-- dependent object; the internal-state support functions are dropped once
-- no aggregate uses them.  The topic file profile.sql repeats these
-- definitions (and the comments) after this step.
CREATE FUNCTION fs_internal.profile_float8_trans(fs.profile, float8) RETURNS fs.profile
	AS 'MODULE_PATHNAME', 'profile_float8_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION fs_internal.profile_numeric_trans(fs.profile, numeric) RETURNS fs.profile
	AS 'MODULE_PATHNAME', 'profile_numeric_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION fs_internal.profile_text_trans(fs.profile, text) RETURNS fs.profile
	AS 'MODULE_PATHNAME', 'profile_text_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION fs_internal.profile_merge_trans(fs.profile, fs.profile) RETURNS fs.profile
	AS 'MODULE_PATHNAME', 'profile_merge_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION fs_internal.profile_combine_states(fs.profile, fs.profile) RETURNS fs.profile
	AS 'MODULE_PATHNAME', 'profile_combine_states' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION fs_internal.profile_state_final_numeric(fs.profile) RETURNS fs.profile
	AS 'MODULE_PATHNAME', 'profile_state_final_numeric' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION fs_internal.profile_state_final_text(fs.profile) RETURNS fs.profile
	AS 'MODULE_PATHNAME', 'profile_state_final_text' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION fs_internal.profile_state_final_merge(fs.profile) RETURNS fs.profile
	AS 'MODULE_PATHNAME', 'profile_state_final_merge' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE AGGREGATE fs.profile(float8) (
	SFUNC = fs_internal.profile_float8_trans, STYPE = fs.profile,
	COMBINEFUNC = fs_internal.profile_combine_states,
	FINALFUNC = fs_internal.profile_state_final_numeric, FINALFUNC_MODIFY = READ_ONLY,
	PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE fs.profile(numeric) (
	SFUNC = fs_internal.profile_numeric_trans, STYPE = fs.profile,
	COMBINEFUNC = fs_internal.profile_combine_states,
	FINALFUNC = fs_internal.profile_state_final_numeric, FINALFUNC_MODIFY = READ_ONLY,
	PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE fs.profile(text) (
	SFUNC = fs_internal.profile_text_trans, STYPE = fs.profile,
	COMBINEFUNC = fs_internal.profile_combine_states,
	FINALFUNC = fs_internal.profile_state_final_text, FINALFUNC_MODIFY = READ_ONLY,
	PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE fs.profile_merge(fs.profile) (
	SFUNC = fs_internal.profile_merge_trans, STYPE = fs.profile,
	COMBINEFUNC = fs_internal.profile_combine_states,
	FINALFUNC = fs_internal.profile_state_final_merge, FINALFUNC_MODIFY = READ_ONLY,
	PARALLEL = SAFE);
DROP FUNCTION fs_internal.profile_float8_sfunc(internal, float8);
DROP FUNCTION fs_internal.profile_numeric_sfunc(internal, numeric);
DROP FUNCTION fs_internal.profile_text_sfunc(internal, text);
DROP FUNCTION fs_internal.profile_merge_sfunc(internal, fs.profile);
DROP FUNCTION fs_internal.profile_combine(internal, internal);
DROP FUNCTION fs_internal.profile_serialize(internal);
DROP FUNCTION fs_internal.profile_deserialize(bytea, internal);
DROP FUNCTION fs_internal.profile_final_numeric(internal);
DROP FUNCTION fs_internal.profile_final_text(internal);
DROP FUNCTION fs_internal.profile_final_merge(internal);
-- ---- end citus: profile aggregates ----

-- ---- expectations, push and the staged batch pipeline ----
-- fs.materialize takes a version and a worker's run id, and says whether the
-- batch was published or blocked: a new signature and result type.
DROP FUNCTION fs.materialize(text, timestamptz, timestamptz);
-- runs blocked by an expectation
ALTER TABLE fs.materialization_runs DROP CONSTRAINT materialization_runs_status_check;
ALTER TABLE fs.materialization_runs ADD CONSTRAINT materialization_runs_status_check
	CHECK (status IN ('running', 'succeeded', 'failed', 'blocked'));
ALTER TABLE fs.view_versions ADD COLUMN quarantine_relid regclass;
ALTER TABLE fs.view_versions ADD COLUMN stage_relid regclass;
ALTER TABLE fs.view_versions ADD COLUMN push_relid regclass;
ALTER TABLE fs.view_state ADD COLUMN blocked_total bigint NOT NULL DEFAULT 0;
ALTER TABLE fs.view_state ADD COLUMN last_blocked_at timestamptz;
-- the created-time column option
ALTER TABLE fs.view_options ADD COLUMN created_column text;
DROP FUNCTION fs.set_feature_view_options(text, interval, interval, interval);
DROP FUNCTION fs_internal.w_set_view_options(regrole, text, boolean, interval, interval, interval);
-- (install/expectations.sql, all new, is appended by the Makefile)
-- ---- end of expectations, push and the batch pipeline ----

-- The worker keeps every scheduled version fresh, not only the latest:
-- fs_internal.version_schedule loses its is_latest column, which a view
-- cannot drop in place.  worker.sql creates both views again (with
-- fs.feature_freshness's grant).
DROP VIEW fs.feature_freshness;
DROP VIEW fs_internal.version_schedule;

-- Online tables leave room on their pages for HOT updates (catalog.sql
-- creates new ones with fs_internal.online_fillfactor(), defined after this
-- step); existing ones fill their new pages so from now on.
DO $$
DECLARE
	rel regclass;
BEGIN
	FOR rel IN SELECT online_relid FROM fs.view_versions LOOP
		EXECUTE format('ALTER TABLE %s SET (fillfactor = 50)', rel);
	END LOOP;
END $$;
