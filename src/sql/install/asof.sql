
-- The as-of join operators (SPEC "Point-in-time correctness").
-- spine_ts @>= feature_ts: the feature row with the greatest feature_ts <= spine_ts;
-- spine_ts @>  feature_ts: the same with feature_ts < spine_ts.
-- They are join markers executed by the AsofJoin plan node; the functions
-- behind them raise an error if they are ever evaluated row by row; their
-- huge COST prices out any ordinary plan that would evaluate them.
-- The operators live in pg_catalog so that `l.ts @>= f.ts` works whatever the
-- search_path (dbt models, analysts); no built-in operator takes these
-- argument types, and the extension recognises its operators by their
-- functions in schema fs.

CREATE FUNCTION fs_internal.asof_restrict_sel(internal, oid, internal, integer) RETURNS float8
    AS 'MODULE_PATHNAME', 'fs_asof_restrict_sel' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs_internal.asof_restrict_sel(internal, oid, internal, integer) IS 'restriction selectivity estimator of the as-of operators';

CREATE FUNCTION fs_internal.asof_join_sel(internal, oid, internal, smallint, internal) RETURNS float8
    AS 'MODULE_PATHNAME', 'fs_asof_join_sel' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs_internal.asof_join_sel(internal, oid, internal, smallint, internal) IS 'join selectivity estimator of the as-of operators';

CREATE FUNCTION fs_internal.asof_ge(spine_ts timestamptz, feature_ts timestamptz) RETURNS boolean
    AS 'MODULE_PATHNAME', 'fs_asof_ge' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
    COST 1000000000000;
COMMENT ON FUNCTION fs_internal.asof_ge(timestamptz, timestamptz) IS 'implementation marker of operator @>=: raises an error if evaluated outside an as-of join';
CREATE OPERATOR pg_catalog.@>= (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = fs_internal.asof_ge,
    RESTRICT = fs_internal.asof_restrict_sel, JOIN = fs_internal.asof_join_sel);
COMMENT ON OPERATOR pg_catalog.@>= (timestamptz, timestamptz) IS 'as-of join: match the feature row with the greatest feature time <= spine time';

CREATE FUNCTION fs_internal.asof_gt(spine_ts timestamptz, feature_ts timestamptz) RETURNS boolean
    AS 'MODULE_PATHNAME', 'fs_asof_gt' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
    COST 1000000000000;
COMMENT ON FUNCTION fs_internal.asof_gt(timestamptz, timestamptz) IS 'implementation marker of operator @>: raises an error if evaluated outside an as-of join';
CREATE OPERATOR pg_catalog.@> (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = fs_internal.asof_gt,
    RESTRICT = fs_internal.asof_restrict_sel, JOIN = fs_internal.asof_join_sel);
COMMENT ON OPERATOR pg_catalog.@> (timestamptz, timestamptz) IS 'as-of join: match the feature row with the greatest feature time < spine time';

CREATE FUNCTION fs_internal.asof_ge(spine_ts timestamp, feature_ts timestamp) RETURNS boolean
    AS 'MODULE_PATHNAME', 'fs_asof_ge' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
    COST 1000000000000;
COMMENT ON FUNCTION fs_internal.asof_ge(timestamp, timestamp) IS 'implementation marker of operator @>=: raises an error if evaluated outside an as-of join';
CREATE OPERATOR pg_catalog.@>= (LEFTARG = timestamp, RIGHTARG = timestamp, FUNCTION = fs_internal.asof_ge,
    RESTRICT = fs_internal.asof_restrict_sel, JOIN = fs_internal.asof_join_sel);
COMMENT ON OPERATOR pg_catalog.@>= (timestamp, timestamp) IS 'as-of join: match the feature row with the greatest feature time <= spine time';

CREATE FUNCTION fs_internal.asof_gt(spine_ts timestamp, feature_ts timestamp) RETURNS boolean
    AS 'MODULE_PATHNAME', 'fs_asof_gt' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
    COST 1000000000000;
COMMENT ON FUNCTION fs_internal.asof_gt(timestamp, timestamp) IS 'implementation marker of operator @>: raises an error if evaluated outside an as-of join';
CREATE OPERATOR pg_catalog.@> (LEFTARG = timestamp, RIGHTARG = timestamp, FUNCTION = fs_internal.asof_gt,
    RESTRICT = fs_internal.asof_restrict_sel, JOIN = fs_internal.asof_join_sel);
COMMENT ON OPERATOR pg_catalog.@> (timestamp, timestamp) IS 'as-of join: match the feature row with the greatest feature time < spine time';

CREATE FUNCTION fs_internal.asof_ge(spine_ts date, feature_ts date) RETURNS boolean
    AS 'MODULE_PATHNAME', 'fs_asof_ge' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
    COST 1000000000000;
COMMENT ON FUNCTION fs_internal.asof_ge(date, date) IS 'implementation marker of operator @>=: raises an error if evaluated outside an as-of join';
CREATE OPERATOR pg_catalog.@>= (LEFTARG = date, RIGHTARG = date, FUNCTION = fs_internal.asof_ge,
    RESTRICT = fs_internal.asof_restrict_sel, JOIN = fs_internal.asof_join_sel);
COMMENT ON OPERATOR pg_catalog.@>= (date, date) IS 'as-of join: match the feature row with the greatest feature time <= spine time';

CREATE FUNCTION fs_internal.asof_gt(spine_ts date, feature_ts date) RETURNS boolean
    AS 'MODULE_PATHNAME', 'fs_asof_gt' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
    COST 1000000000000;
COMMENT ON FUNCTION fs_internal.asof_gt(date, date) IS 'implementation marker of operator @>: raises an error if evaluated outside an as-of join';
CREATE OPERATOR pg_catalog.@> (LEFTARG = date, RIGHTARG = date, FUNCTION = fs_internal.asof_gt,
    RESTRICT = fs_internal.asof_restrict_sel, JOIN = fs_internal.asof_join_sel);
COMMENT ON OPERATOR pg_catalog.@> (date, date) IS 'as-of join: match the feature row with the greatest feature time < spine time';

CREATE FUNCTION fs_internal.asof_ge(spine_ts int4, feature_ts int4) RETURNS boolean
    AS 'MODULE_PATHNAME', 'fs_asof_ge' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
    COST 1000000000000;
COMMENT ON FUNCTION fs_internal.asof_ge(int4, int4) IS 'implementation marker of operator @>=: raises an error if evaluated outside an as-of join';
CREATE OPERATOR pg_catalog.@>= (LEFTARG = int4, RIGHTARG = int4, FUNCTION = fs_internal.asof_ge,
    RESTRICT = fs_internal.asof_restrict_sel, JOIN = fs_internal.asof_join_sel);
COMMENT ON OPERATOR pg_catalog.@>= (int4, int4) IS 'as-of join: match the feature row with the greatest feature time <= spine time';

CREATE FUNCTION fs_internal.asof_gt(spine_ts int4, feature_ts int4) RETURNS boolean
    AS 'MODULE_PATHNAME', 'fs_asof_gt' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
    COST 1000000000000;
COMMENT ON FUNCTION fs_internal.asof_gt(int4, int4) IS 'implementation marker of operator @>: raises an error if evaluated outside an as-of join';
CREATE OPERATOR pg_catalog.@> (LEFTARG = int4, RIGHTARG = int4, FUNCTION = fs_internal.asof_gt,
    RESTRICT = fs_internal.asof_restrict_sel, JOIN = fs_internal.asof_join_sel);
COMMENT ON OPERATOR pg_catalog.@> (int4, int4) IS 'as-of join: match the feature row with the greatest feature time < spine time';

CREATE FUNCTION fs_internal.asof_ge(spine_ts int8, feature_ts int8) RETURNS boolean
    AS 'MODULE_PATHNAME', 'fs_asof_ge' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
    COST 1000000000000;
COMMENT ON FUNCTION fs_internal.asof_ge(int8, int8) IS 'implementation marker of operator @>=: raises an error if evaluated outside an as-of join';
CREATE OPERATOR pg_catalog.@>= (LEFTARG = int8, RIGHTARG = int8, FUNCTION = fs_internal.asof_ge,
    RESTRICT = fs_internal.asof_restrict_sel, JOIN = fs_internal.asof_join_sel);
COMMENT ON OPERATOR pg_catalog.@>= (int8, int8) IS 'as-of join: match the feature row with the greatest feature time <= spine time';

CREATE FUNCTION fs_internal.asof_gt(spine_ts int8, feature_ts int8) RETURNS boolean
    AS 'MODULE_PATHNAME', 'fs_asof_gt' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
    COST 1000000000000;
COMMENT ON FUNCTION fs_internal.asof_gt(int8, int8) IS 'implementation marker of operator @>: raises an error if evaluated outside an as-of join';
CREATE OPERATOR pg_catalog.@> (LEFTARG = int8, RIGHTARG = int8, FUNCTION = fs_internal.asof_gt,
    RESTRICT = fs_internal.asof_restrict_sel, JOIN = fs_internal.asof_join_sel);
COMMENT ON OPERATOR pg_catalog.@> (int8, int8) IS 'as-of join: match the feature row with the greatest feature time < spine time';

CREATE FUNCTION fs_internal.asof_ge(spine_ts float8, feature_ts float8) RETURNS boolean
    AS 'MODULE_PATHNAME', 'fs_asof_ge' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
    COST 1000000000000;
COMMENT ON FUNCTION fs_internal.asof_ge(float8, float8) IS 'implementation marker of operator @>=: raises an error if evaluated outside an as-of join';
CREATE OPERATOR pg_catalog.@>= (LEFTARG = float8, RIGHTARG = float8, FUNCTION = fs_internal.asof_ge,
    RESTRICT = fs_internal.asof_restrict_sel, JOIN = fs_internal.asof_join_sel);
COMMENT ON OPERATOR pg_catalog.@>= (float8, float8) IS 'as-of join: match the feature row with the greatest feature time <= spine time';

CREATE FUNCTION fs_internal.asof_gt(spine_ts float8, feature_ts float8) RETURNS boolean
    AS 'MODULE_PATHNAME', 'fs_asof_gt' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
    COST 1000000000000;
COMMENT ON FUNCTION fs_internal.asof_gt(float8, float8) IS 'implementation marker of operator @>: raises an error if evaluated outside an as-of join';
CREATE OPERATOR pg_catalog.@> (LEFTARG = float8, RIGHTARG = float8, FUNCTION = fs_internal.asof_gt,
    RESTRICT = fs_internal.asof_restrict_sel, JOIN = fs_internal.asof_join_sel);
COMMENT ON OPERATOR pg_catalog.@> (float8, float8) IS 'as-of join: match the feature row with the greatest feature time < spine time';

CREATE FUNCTION fs_internal.asof_ge(spine_ts numeric, feature_ts numeric) RETURNS boolean
    AS 'MODULE_PATHNAME', 'fs_asof_ge' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
    COST 1000000000000;
COMMENT ON FUNCTION fs_internal.asof_ge(numeric, numeric) IS 'implementation marker of operator @>=: raises an error if evaluated outside an as-of join';
CREATE OPERATOR pg_catalog.@>= (LEFTARG = numeric, RIGHTARG = numeric, FUNCTION = fs_internal.asof_ge,
    RESTRICT = fs_internal.asof_restrict_sel, JOIN = fs_internal.asof_join_sel);
COMMENT ON OPERATOR pg_catalog.@>= (numeric, numeric) IS 'as-of join: match the feature row with the greatest feature time <= spine time';

CREATE FUNCTION fs_internal.asof_gt(spine_ts numeric, feature_ts numeric) RETURNS boolean
    AS 'MODULE_PATHNAME', 'fs_asof_gt' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
    COST 1000000000000;
COMMENT ON FUNCTION fs_internal.asof_gt(numeric, numeric) IS 'implementation marker of operator @>: raises an error if evaluated outside an as-of join';
CREATE OPERATOR pg_catalog.@> (LEFTARG = numeric, RIGHTARG = numeric, FUNCTION = fs_internal.asof_gt,
    RESTRICT = fs_internal.asof_restrict_sel, JOIN = fs_internal.asof_join_sel);
COMMENT ON OPERATOR pg_catalog.@> (numeric, numeric) IS 'as-of join: match the feature row with the greatest feature time < spine time';
