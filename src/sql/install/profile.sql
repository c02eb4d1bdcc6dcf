
-- ===================================================================
-- fs.profile: a mergeable summary of one column, and drift metrics
-- ===================================================================

CREATE TYPE fs.profile;

CREATE FUNCTION fs_internal.profile_in(cstring) RETURNS fs.profile
	AS 'MODULE_PATHNAME', 'profile_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fs_internal.profile_out(fs.profile) RETURNS cstring
	AS 'MODULE_PATHNAME', 'profile_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fs_internal.profile_recv(internal) RETURNS fs.profile
	AS 'MODULE_PATHNAME', 'profile_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fs_internal.profile_send(fs.profile) RETURNS bytea
	AS 'MODULE_PATHNAME', 'profile_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE fs.profile (
	INPUT = fs_internal.profile_in,
	OUTPUT = fs_internal.profile_out,
	RECEIVE = fs_internal.profile_recv,
	SEND = fs_internal.profile_send,
	INTERNALLENGTH = VARIABLE,
	STORAGE = extended
);
COMMENT ON TYPE fs.profile IS
	'summary of one column (counts, exact moments, quantile sketch with 0.5% relative accuracy, or text value counts); mergeable, same bytes whatever the plan';
