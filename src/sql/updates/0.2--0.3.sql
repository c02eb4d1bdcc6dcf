-- 0.2 -> 0.3, the hand-written step.  The topic files run after it and
-- replace the body of every function, view and aggregate.

-- Internal functions and type support move to schema fs_internal, so that
-- \df fs.* lists only what a user calls; the leading underscore goes.
CREATE SCHEMA fs_internal;
COMMENT ON SCHEMA fs_internal IS 'feature_store internals: type support and helper functions (not a user API)';
GRANT USAGE ON SCHEMA fs_internal TO PUBLIC;

DO $$
DECLARE
	f record;
BEGIN
	FOR f IN
		SELECT p.oid::regprocedure AS sig, p.proname AS name, pg_catalog.pg_get_function_identity_arguments(p.oid) AS args
		  FROM pg_catalog.pg_proc p
		 WHERE p.pronamespace = 'fs'::regnamespace AND p.prokind = 'f'
		   AND (p.proname LIKE '\_%'
				OR p.proname ~ '^(feature_ref_(in|out|recv|send|eq|ne|lt|le|gt|ge|cmp|hash)|profile_(in|out|recv|send)|asof_(ge|gt|restrict_sel|join_sel))$')
	LOOP
		EXECUTE pg_catalog.format('ALTER FUNCTION %s SET SCHEMA fs_internal', f.sig);
		IF f.name LIKE '\_%' THEN
			EXECUTE pg_catalog.format('ALTER FUNCTION fs_internal.%I(%s) RENAME TO %I', f.name, f.args, pg_catalog.substr(f.name, 2));
		END IF;
	END LOOP;
END;
$$;
