
------------------------------------------------------------------------------
-- Internal helpers
------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION fs_internal.describe_source(what text, source text,
	OUT query text, OUT column_names text[], OUT column_types regtype[], OUT relation text)
	AS 'MODULE_PATHNAME', 'fs_describe_source' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION fs_internal.describe_source(text, text) IS
	'internal: validates a feature view source or a spine (a relation name or one SELECT) and returns the query to run, its columns and the qualified relation';

CREATE OR REPLACE FUNCTION fs_internal.check_key_type(entity text, key_type regtype) RETURNS void
	AS 'MODULE_PATHNAME', 'fs_check_key_type' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs_internal.check_key_type(text, regtype) IS
	'internal: checks that a type can key an entity (equality and btree ordering)';

-- Checks an object name given as text: present, not empty, fits in a name.
CREATE OR REPLACE FUNCTION fs_internal.check_name(kind text, name text) RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$
BEGIN
	IF name IS NULL THEN
		RAISE EXCEPTION '% name must not be null', kind USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF name = '' THEN
		RAISE EXCEPTION '% name must not be empty', kind USING ERRCODE = 'invalid_name';
	END IF;
	IF octet_length(name) > 63 THEN
		RAISE EXCEPTION '% name "%" is too long', kind, name
			USING ERRCODE = 'name_too_long',
				  DETAIL = format('It is %s bytes long; the limit is 63.', octet_length(name));
	END IF;
END;
$$;
COMMENT ON FUNCTION fs_internal.check_name(text, text) IS 'internal: validates the name of an entity or feature view';

-- The storage table name for a view version: readable when the name is short,
-- clipped and made unique by a hash when it is long.
CREATE OR REPLACE FUNCTION fs_internal.storage_name(view text, version int, suffix text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog
AS $$
DECLARE
	tail text := format('_v%s%s', version, suffix);
	base text := view;
BEGIN
	IF octet_length(base || tail) > 63 THEN
		base := left(view, 63 - octet_length(tail) - 9);
		WHILE octet_length(base) > 63 - octet_length(tail) - 9 LOOP
			base := left(base, length(base) - 1);
		END LOOP;
		base := base || '_' || left(md5(view), 8);
	END IF;
	RETURN base || tail;
END;
$$;
COMMENT ON FUNCTION fs_internal.storage_name(text, int, text) IS 'internal: storage table name of a feature view version';

-- Looks up a feature view version (the latest when version is NULL), or fails naming it.
CREATE OR REPLACE FUNCTION fs_internal.view_version(view text, version int DEFAULT NULL) RETURNS fs.view_versions
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$
DECLARE
	vv fs.view_versions;
BEGIN
	IF NOT EXISTS (SELECT FROM fs.views v WHERE v.name = view) THEN
		RAISE EXCEPTION 'feature view "%" does not exist', view USING ERRCODE = 'undefined_object';
	END IF;
	SELECT * INTO vv FROM fs.view_versions x
	 WHERE x.view_name = view AND (x.version = view_version.version OR view_version.version IS NULL)
	 ORDER BY x.version DESC LIMIT 1;
	IF NOT FOUND THEN
		IF version IS NULL THEN
			RAISE EXCEPTION 'feature view "%" has no versions', view USING ERRCODE = 'undefined_object';
		END IF;
		RAISE EXCEPTION 'feature view "%" has no version %', view, version
			USING ERRCODE = 'undefined_object',
				  HINT = (SELECT format('Its versions are %s.', string_agg(x.version::text, ', ' ORDER BY x.version))
							FROM fs.view_versions x WHERE x.view_name = view);
	END IF;
	RETURN vv;
END;
$$;
COMMENT ON FUNCTION fs_internal.view_version(text, int) IS 'internal: a feature view version, the latest by default';

CREATE OR REPLACE FUNCTION fs_internal.catalog_changed() RETURNS trigger
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
BEGIN
	UPDATE fs.catalog_state SET generation = generation + 1;
	RETURN NULL;
END;
$$;
COMMENT ON FUNCTION fs_internal.catalog_changed() IS 'internal: bumps the catalog generation';
CREATE OR REPLACE TRIGGER catalog_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON fs.entities
	FOR EACH STATEMENT EXECUTE FUNCTION fs_internal.catalog_changed();
CREATE OR REPLACE TRIGGER catalog_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON fs.views
	FOR EACH STATEMENT EXECUTE FUNCTION fs_internal.catalog_changed();
CREATE OR REPLACE TRIGGER catalog_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON fs.view_versions
	FOR EACH STATEMENT EXECUTE FUNCTION fs_internal.catalog_changed();
CREATE OR REPLACE TRIGGER catalog_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON fs.view_features
	FOR EACH STATEMENT EXECUTE FUNCTION fs_internal.catalog_changed();
