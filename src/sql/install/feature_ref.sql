
------------------------------------------------------------------------------
-- fs.feature_ref
------------------------------------------------------------------------------

CREATE TYPE fs.feature_ref;

CREATE FUNCTION fs_internal.feature_ref_in(cstring) RETURNS fs.feature_ref
	AS 'MODULE_PATHNAME', 'feature_ref_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fs_internal.feature_ref_out(fs.feature_ref) RETURNS cstring
	AS 'MODULE_PATHNAME', 'feature_ref_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fs_internal.feature_ref_recv(internal) RETURNS fs.feature_ref
	AS 'MODULE_PATHNAME', 'feature_ref_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fs_internal.feature_ref_send(fs.feature_ref) RETURNS bytea
	AS 'MODULE_PATHNAME', 'feature_ref_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE fs.feature_ref (
	INPUT = fs_internal.feature_ref_in,
	OUTPUT = fs_internal.feature_ref_out,
	RECEIVE = fs_internal.feature_ref_recv,
	SEND = fs_internal.feature_ref_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = int4,
	STORAGE = extended
);
COMMENT ON TYPE fs.feature_ref IS
	'reference to a feature: view:feature, view@N:feature (pinned version), view:* or view@N:*';

-- Text arrays written in dbt models or by hand convert without ceremony.
CREATE CAST (text AS fs.feature_ref) WITH INOUT AS IMPLICIT;

CREATE FUNCTION fs_internal.feature_ref_eq(fs.feature_ref, fs.feature_ref) RETURNS bool
	AS 'MODULE_PATHNAME', 'feature_ref_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fs_internal.feature_ref_ne(fs.feature_ref, fs.feature_ref) RETURNS bool
	AS 'MODULE_PATHNAME', 'feature_ref_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fs_internal.feature_ref_lt(fs.feature_ref, fs.feature_ref) RETURNS bool
	AS 'MODULE_PATHNAME', 'feature_ref_lt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fs_internal.feature_ref_le(fs.feature_ref, fs.feature_ref) RETURNS bool
	AS 'MODULE_PATHNAME', 'feature_ref_le' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fs_internal.feature_ref_gt(fs.feature_ref, fs.feature_ref) RETURNS bool
	AS 'MODULE_PATHNAME', 'feature_ref_gt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fs_internal.feature_ref_ge(fs.feature_ref, fs.feature_ref) RETURNS bool
	AS 'MODULE_PATHNAME', 'feature_ref_ge' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fs_internal.feature_ref_cmp(fs.feature_ref, fs.feature_ref) RETURNS int
	AS 'MODULE_PATHNAME', 'feature_ref_cmp' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fs_internal.feature_ref_hash(fs.feature_ref) RETURNS int
	AS 'MODULE_PATHNAME', 'feature_ref_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- The comparison operators live in pg_catalog so that they resolve whatever
-- the search_path; they take only fs.feature_ref, so nothing can collide.
CREATE OPERATOR pg_catalog.= (LEFTARG = fs.feature_ref, RIGHTARG = fs.feature_ref, PROCEDURE = fs_internal.feature_ref_eq,
	COMMUTATOR = OPERATOR(pg_catalog.=), NEGATOR = OPERATOR(pg_catalog.<>), RESTRICT = eqsel, JOIN = eqjoinsel,
	HASHES, MERGES);
CREATE OPERATOR pg_catalog.<> (LEFTARG = fs.feature_ref, RIGHTARG = fs.feature_ref, PROCEDURE = fs_internal.feature_ref_ne,
	COMMUTATOR = OPERATOR(pg_catalog.<>), NEGATOR = OPERATOR(pg_catalog.=), RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR pg_catalog.< (LEFTARG = fs.feature_ref, RIGHTARG = fs.feature_ref, PROCEDURE = fs_internal.feature_ref_lt,
	COMMUTATOR = OPERATOR(pg_catalog.>), NEGATOR = OPERATOR(pg_catalog.>=), RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR pg_catalog.<= (LEFTARG = fs.feature_ref, RIGHTARG = fs.feature_ref, PROCEDURE = fs_internal.feature_ref_le,
	COMMUTATOR = OPERATOR(pg_catalog.>=), NEGATOR = OPERATOR(pg_catalog.>), RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR pg_catalog.> (LEFTARG = fs.feature_ref, RIGHTARG = fs.feature_ref, PROCEDURE = fs_internal.feature_ref_gt,
	COMMUTATOR = OPERATOR(pg_catalog.<), NEGATOR = OPERATOR(pg_catalog.<=), RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
CREATE OPERATOR pg_catalog.>= (LEFTARG = fs.feature_ref, RIGHTARG = fs.feature_ref, PROCEDURE = fs_internal.feature_ref_ge,
	COMMUTATOR = OPERATOR(pg_catalog.<=), NEGATOR = OPERATOR(pg_catalog.<), RESTRICT = scalargesel, JOIN = scalargejoinsel);

CREATE OPERATOR CLASS fs.feature_ref_ops DEFAULT FOR TYPE fs.feature_ref USING btree AS
	OPERATOR 1 pg_catalog.<, OPERATOR 2 pg_catalog.<=, OPERATOR 3 pg_catalog.=, OPERATOR 4 pg_catalog.>=,
	OPERATOR 5 pg_catalog.>,
	FUNCTION 1 fs_internal.feature_ref_cmp(fs.feature_ref, fs.feature_ref);
CREATE OPERATOR CLASS fs.feature_ref_hash_ops DEFAULT FOR TYPE fs.feature_ref USING hash AS
	OPERATOR 1 pg_catalog.=,
	FUNCTION 1 fs_internal.feature_ref_hash(fs.feature_ref);
