
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

-- Different time types on the two sides (README "One rule for event times"):
-- PostgreSQL would resolve "timestamptz @> date" through an implicit cast of
-- the date at midnight in the session's time zone.  Every pair of different
-- time types has its own operators whose functions refuse when the query is
-- planned (src/time_rule.c), with a hint naming the explicit form.  Their
-- functions live in pg_catalog: the planner takes an operator whose function
-- is in fs or fs_internal for an as-of join.
CREATE FUNCTION fs_internal.mixed_time_support(internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'fs_mixed_time_support' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs_internal.mixed_time_support(internal) IS
    'planner support of the as-of operators between different time types: refuses them when a query is planned';
DO $$
DECLARE
	p record;
BEGIN
	FOR p IN
		SELECT s.t AS spine, f.t AS feature, o.op, o.fn, o.what
		  FROM unnest(ARRAY['timestamptz', 'timestamp', 'date']) WITH ORDINALITY AS s(t, i),
			   unnest(ARRAY['timestamptz', 'timestamp', 'date']) WITH ORDINALITY AS f(t, i),
			   (VALUES ('@>=', 'fs_mixed_time_ge', '<='), ('@>', 'fs_mixed_time_gt', '<')) AS o(op, fn, what)
		 WHERE s.t <> f.t
		 ORDER BY s.i, f.i, o.op DESC
	LOOP
		EXECUTE format('CREATE FUNCTION pg_catalog.%I(spine_ts %s, feature_ts %s) RETURNS boolean '
					   'AS %L, %L LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE '
					   'SUPPORT fs_internal.mixed_time_support',
					   p.fn, p.spine, p.feature, 'MODULE_PATHNAME', 'fs_mixed_time');
		EXECUTE format('COMMENT ON FUNCTION pg_catalog.%I(%s, %s) IS %L', p.fn, p.spine, p.feature,
					   format('feature_store: refuses operator %s between %s and %s (cast one side explicitly)',
							  p.op, p.spine, p.feature));
		EXECUTE format('CREATE OPERATOR pg_catalog.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = pg_catalog.%I)',
					   p.op, p.spine, p.feature, p.fn);
		EXECUTE format('COMMENT ON OPERATOR pg_catalog.%s (%s, %s) IS %L', p.op, p.spine, p.feature,
					   format('as-of join between different time types: refused, cast one side explicitly '
							  '(feature time %s spine time)', p.what));
	END LOOP;
END;
$$;
