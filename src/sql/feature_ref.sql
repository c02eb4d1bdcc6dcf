
CREATE OR REPLACE FUNCTION fs.feature_ref(view text, feature text, version int DEFAULT NULL) RETURNS fs.feature_ref
	AS 'MODULE_PATHNAME', 'feature_ref_make' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION fs.feature_ref(text, text, int) IS
	'builds a feature reference from a view name, a feature name (or *) and an optional pinned version';

CREATE OR REPLACE FUNCTION fs.ref_view(fs.feature_ref) RETURNS text
	AS 'MODULE_PATHNAME', 'feature_ref_view' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.ref_view(fs.feature_ref) IS 'the feature view a reference names';
CREATE OR REPLACE FUNCTION fs.ref_version(fs.feature_ref) RETURNS int
	AS 'MODULE_PATHNAME', 'feature_ref_version' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.ref_version(fs.feature_ref) IS 'the pinned version of a reference, NULL for the latest';
CREATE OR REPLACE FUNCTION fs.ref_feature(fs.feature_ref) RETURNS text
	AS 'MODULE_PATHNAME', 'feature_ref_feature' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.ref_feature(fs.feature_ref) IS 'the feature a reference names, NULL for view:*';
