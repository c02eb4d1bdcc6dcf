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
