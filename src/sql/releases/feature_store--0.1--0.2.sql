\echo Use "ALTER EXTENSION feature_store UPDATE TO '0.2'" to load this file. \quit

-- from src/sql/0.2/10_asof.sql

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

CREATE FUNCTION fs.asof_restrict_sel(internal, oid, internal, integer) RETURNS float8
    AS 'MODULE_PATHNAME', 'fs_asof_restrict_sel' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.asof_restrict_sel(internal, oid, internal, integer) IS 'restriction selectivity estimator of the as-of operators';

CREATE FUNCTION fs.asof_join_sel(internal, oid, internal, smallint, internal) RETURNS float8
    AS 'MODULE_PATHNAME', 'fs_asof_join_sel' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.asof_join_sel(internal, oid, internal, smallint, internal) IS 'join selectivity estimator of the as-of operators';

CREATE FUNCTION fs.asof_ge(spine_ts timestamptz, feature_ts timestamptz) RETURNS boolean
    AS 'MODULE_PATHNAME', 'fs_asof_ge' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
    COST 1000000000000;
COMMENT ON FUNCTION fs.asof_ge(timestamptz, timestamptz) IS 'implementation marker of operator @>=: raises an error if evaluated outside an as-of join';
CREATE OPERATOR pg_catalog.@>= (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = fs.asof_ge,
    RESTRICT = fs.asof_restrict_sel, JOIN = fs.asof_join_sel);
COMMENT ON OPERATOR pg_catalog.@>= (timestamptz, timestamptz) IS 'as-of join: match the feature row with the greatest feature time <= spine time';

CREATE FUNCTION fs.asof_gt(spine_ts timestamptz, feature_ts timestamptz) RETURNS boolean
    AS 'MODULE_PATHNAME', 'fs_asof_gt' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
    COST 1000000000000;
COMMENT ON FUNCTION fs.asof_gt(timestamptz, timestamptz) IS 'implementation marker of operator @>: raises an error if evaluated outside an as-of join';
CREATE OPERATOR pg_catalog.@> (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = fs.asof_gt,
    RESTRICT = fs.asof_restrict_sel, JOIN = fs.asof_join_sel);
COMMENT ON OPERATOR pg_catalog.@> (timestamptz, timestamptz) IS 'as-of join: match the feature row with the greatest feature time < spine time';

CREATE FUNCTION fs.asof_ge(spine_ts timestamp, feature_ts timestamp) RETURNS boolean
    AS 'MODULE_PATHNAME', 'fs_asof_ge' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
    COST 1000000000000;
COMMENT ON FUNCTION fs.asof_ge(timestamp, timestamp) IS 'implementation marker of operator @>=: raises an error if evaluated outside an as-of join';
CREATE OPERATOR pg_catalog.@>= (LEFTARG = timestamp, RIGHTARG = timestamp, FUNCTION = fs.asof_ge,
    RESTRICT = fs.asof_restrict_sel, JOIN = fs.asof_join_sel);
COMMENT ON OPERATOR pg_catalog.@>= (timestamp, timestamp) IS 'as-of join: match the feature row with the greatest feature time <= spine time';

CREATE FUNCTION fs.asof_gt(spine_ts timestamp, feature_ts timestamp) RETURNS boolean
    AS 'MODULE_PATHNAME', 'fs_asof_gt' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
    COST 1000000000000;
COMMENT ON FUNCTION fs.asof_gt(timestamp, timestamp) IS 'implementation marker of operator @>: raises an error if evaluated outside an as-of join';
CREATE OPERATOR pg_catalog.@> (LEFTARG = timestamp, RIGHTARG = timestamp, FUNCTION = fs.asof_gt,
    RESTRICT = fs.asof_restrict_sel, JOIN = fs.asof_join_sel);
COMMENT ON OPERATOR pg_catalog.@> (timestamp, timestamp) IS 'as-of join: match the feature row with the greatest feature time < spine time';

CREATE FUNCTION fs.asof_ge(spine_ts date, feature_ts date) RETURNS boolean
    AS 'MODULE_PATHNAME', 'fs_asof_ge' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
    COST 1000000000000;
COMMENT ON FUNCTION fs.asof_ge(date, date) IS 'implementation marker of operator @>=: raises an error if evaluated outside an as-of join';
CREATE OPERATOR pg_catalog.@>= (LEFTARG = date, RIGHTARG = date, FUNCTION = fs.asof_ge,
    RESTRICT = fs.asof_restrict_sel, JOIN = fs.asof_join_sel);
COMMENT ON OPERATOR pg_catalog.@>= (date, date) IS 'as-of join: match the feature row with the greatest feature time <= spine time';

CREATE FUNCTION fs.asof_gt(spine_ts date, feature_ts date) RETURNS boolean
    AS 'MODULE_PATHNAME', 'fs_asof_gt' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
    COST 1000000000000;
COMMENT ON FUNCTION fs.asof_gt(date, date) IS 'implementation marker of operator @>: raises an error if evaluated outside an as-of join';
CREATE OPERATOR pg_catalog.@> (LEFTARG = date, RIGHTARG = date, FUNCTION = fs.asof_gt,
    RESTRICT = fs.asof_restrict_sel, JOIN = fs.asof_join_sel);
COMMENT ON OPERATOR pg_catalog.@> (date, date) IS 'as-of join: match the feature row with the greatest feature time < spine time';

CREATE FUNCTION fs.asof_ge(spine_ts int4, feature_ts int4) RETURNS boolean
    AS 'MODULE_PATHNAME', 'fs_asof_ge' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
    COST 1000000000000;
COMMENT ON FUNCTION fs.asof_ge(int4, int4) IS 'implementation marker of operator @>=: raises an error if evaluated outside an as-of join';
CREATE OPERATOR pg_catalog.@>= (LEFTARG = int4, RIGHTARG = int4, FUNCTION = fs.asof_ge,
    RESTRICT = fs.asof_restrict_sel, JOIN = fs.asof_join_sel);
COMMENT ON OPERATOR pg_catalog.@>= (int4, int4) IS 'as-of join: match the feature row with the greatest feature time <= spine time';

CREATE FUNCTION fs.asof_gt(spine_ts int4, feature_ts int4) RETURNS boolean
    AS 'MODULE_PATHNAME', 'fs_asof_gt' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
    COST 1000000000000;
COMMENT ON FUNCTION fs.asof_gt(int4, int4) IS 'implementation marker of operator @>: raises an error if evaluated outside an as-of join';
CREATE OPERATOR pg_catalog.@> (LEFTARG = int4, RIGHTARG = int4, FUNCTION = fs.asof_gt,
    RESTRICT = fs.asof_restrict_sel, JOIN = fs.asof_join_sel);
COMMENT ON OPERATOR pg_catalog.@> (int4, int4) IS 'as-of join: match the feature row with the greatest feature time < spine time';

CREATE FUNCTION fs.asof_ge(spine_ts int8, feature_ts int8) RETURNS boolean
    AS 'MODULE_PATHNAME', 'fs_asof_ge' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
    COST 1000000000000;
COMMENT ON FUNCTION fs.asof_ge(int8, int8) IS 'implementation marker of operator @>=: raises an error if evaluated outside an as-of join';
CREATE OPERATOR pg_catalog.@>= (LEFTARG = int8, RIGHTARG = int8, FUNCTION = fs.asof_ge,
    RESTRICT = fs.asof_restrict_sel, JOIN = fs.asof_join_sel);
COMMENT ON OPERATOR pg_catalog.@>= (int8, int8) IS 'as-of join: match the feature row with the greatest feature time <= spine time';

CREATE FUNCTION fs.asof_gt(spine_ts int8, feature_ts int8) RETURNS boolean
    AS 'MODULE_PATHNAME', 'fs_asof_gt' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
    COST 1000000000000;
COMMENT ON FUNCTION fs.asof_gt(int8, int8) IS 'implementation marker of operator @>: raises an error if evaluated outside an as-of join';
CREATE OPERATOR pg_catalog.@> (LEFTARG = int8, RIGHTARG = int8, FUNCTION = fs.asof_gt,
    RESTRICT = fs.asof_restrict_sel, JOIN = fs.asof_join_sel);
COMMENT ON OPERATOR pg_catalog.@> (int8, int8) IS 'as-of join: match the feature row with the greatest feature time < spine time';

CREATE FUNCTION fs.asof_ge(spine_ts float8, feature_ts float8) RETURNS boolean
    AS 'MODULE_PATHNAME', 'fs_asof_ge' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
    COST 1000000000000;
COMMENT ON FUNCTION fs.asof_ge(float8, float8) IS 'implementation marker of operator @>=: raises an error if evaluated outside an as-of join';
CREATE OPERATOR pg_catalog.@>= (LEFTARG = float8, RIGHTARG = float8, FUNCTION = fs.asof_ge,
    RESTRICT = fs.asof_restrict_sel, JOIN = fs.asof_join_sel);
COMMENT ON OPERATOR pg_catalog.@>= (float8, float8) IS 'as-of join: match the feature row with the greatest feature time <= spine time';

CREATE FUNCTION fs.asof_gt(spine_ts float8, feature_ts float8) RETURNS boolean
    AS 'MODULE_PATHNAME', 'fs_asof_gt' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
    COST 1000000000000;
COMMENT ON FUNCTION fs.asof_gt(float8, float8) IS 'implementation marker of operator @>: raises an error if evaluated outside an as-of join';
CREATE OPERATOR pg_catalog.@> (LEFTARG = float8, RIGHTARG = float8, FUNCTION = fs.asof_gt,
    RESTRICT = fs.asof_restrict_sel, JOIN = fs.asof_join_sel);
COMMENT ON OPERATOR pg_catalog.@> (float8, float8) IS 'as-of join: match the feature row with the greatest feature time < spine time';

CREATE FUNCTION fs.asof_ge(spine_ts numeric, feature_ts numeric) RETURNS boolean
    AS 'MODULE_PATHNAME', 'fs_asof_ge' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
    COST 1000000000000;
COMMENT ON FUNCTION fs.asof_ge(numeric, numeric) IS 'implementation marker of operator @>=: raises an error if evaluated outside an as-of join';
CREATE OPERATOR pg_catalog.@>= (LEFTARG = numeric, RIGHTARG = numeric, FUNCTION = fs.asof_ge,
    RESTRICT = fs.asof_restrict_sel, JOIN = fs.asof_join_sel);
COMMENT ON OPERATOR pg_catalog.@>= (numeric, numeric) IS 'as-of join: match the feature row with the greatest feature time <= spine time';

CREATE FUNCTION fs.asof_gt(spine_ts numeric, feature_ts numeric) RETURNS boolean
    AS 'MODULE_PATHNAME', 'fs_asof_gt' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
    COST 1000000000000;
COMMENT ON FUNCTION fs.asof_gt(numeric, numeric) IS 'implementation marker of operator @>: raises an error if evaluated outside an as-of join';
CREATE OPERATOR pg_catalog.@> (LEFTARG = numeric, RIGHTARG = numeric, FUNCTION = fs.asof_gt,
    RESTRICT = fs.asof_restrict_sel, JOIN = fs.asof_join_sel);
COMMENT ON OPERATOR pg_catalog.@> (numeric, numeric) IS 'as-of join: match the feature row with the greatest feature time < spine time';

-- from src/sql/0.2/20_profile.sql

-- ===================================================================
-- fs.profile: a mergeable summary of one column, and drift metrics
-- ===================================================================

CREATE TYPE fs.profile;

CREATE FUNCTION fs.profile_in(cstring) RETURNS fs.profile
	AS 'MODULE_PATHNAME', 'profile_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fs.profile_out(fs.profile) RETURNS cstring
	AS 'MODULE_PATHNAME', 'profile_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fs.profile_recv(internal) RETURNS fs.profile
	AS 'MODULE_PATHNAME', 'profile_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fs.profile_send(fs.profile) RETURNS bytea
	AS 'MODULE_PATHNAME', 'profile_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE fs.profile (
	INPUT = fs.profile_in,
	OUTPUT = fs.profile_out,
	RECEIVE = fs.profile_recv,
	SEND = fs.profile_send,
	INTERNALLENGTH = VARIABLE,
	STORAGE = extended
);
COMMENT ON TYPE fs.profile IS
	'summary of one column (counts, exact moments, quantile sketch with 0.5% relative accuracy, or text value counts); mergeable, same bytes whatever the plan';

-- aggregate support
CREATE FUNCTION fs._profile_float8_sfunc(internal, float8) RETURNS internal
	AS 'MODULE_PATHNAME', 'profile_float8_sfunc' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION fs._profile_numeric_sfunc(internal, numeric) RETURNS internal
	AS 'MODULE_PATHNAME', 'profile_numeric_sfunc' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION fs._profile_text_sfunc(internal, text) RETURNS internal
	AS 'MODULE_PATHNAME', 'profile_text_sfunc' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION fs._profile_merge_sfunc(internal, fs.profile) RETURNS internal
	AS 'MODULE_PATHNAME', 'profile_merge_sfunc' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION fs._profile_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'profile_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION fs._profile_serialize(internal) RETURNS bytea
	AS 'MODULE_PATHNAME', 'profile_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fs._profile_deserialize(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'profile_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION fs._profile_final_numeric(internal) RETURNS fs.profile
	AS 'MODULE_PATHNAME', 'profile_final_numeric' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION fs._profile_final_text(internal) RETURNS fs.profile
	AS 'MODULE_PATHNAME', 'profile_final_text' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION fs._profile_final_merge(internal) RETURNS fs.profile
	AS 'MODULE_PATHNAME', 'profile_final_merge' LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION fs._profile_float8_sfunc(internal, float8) IS 'internal: transition of fs.profile(float8)';
COMMENT ON FUNCTION fs._profile_numeric_sfunc(internal, numeric) IS 'internal: transition of fs.profile(numeric)';
COMMENT ON FUNCTION fs._profile_text_sfunc(internal, text) IS 'internal: transition of fs.profile(text)';
COMMENT ON FUNCTION fs._profile_merge_sfunc(internal, fs.profile) IS 'internal: transition of fs.profile_merge';
COMMENT ON FUNCTION fs._profile_combine(internal, internal) IS 'internal: combines partial profile states';
COMMENT ON FUNCTION fs._profile_serialize(internal) IS 'internal: a partial profile state as fs.profile bytes';
COMMENT ON FUNCTION fs._profile_deserialize(bytea, internal) IS 'internal: a partial profile state from fs.profile bytes, validated';
COMMENT ON FUNCTION fs._profile_final_numeric(internal) IS 'internal: final function of fs.profile(float8/numeric)';
COMMENT ON FUNCTION fs._profile_final_text(internal) IS 'internal: final function of fs.profile(text)';
COMMENT ON FUNCTION fs._profile_final_merge(internal) IS 'internal: final function of fs.profile_merge';

CREATE AGGREGATE fs.profile(float8) (
	SFUNC = fs._profile_float8_sfunc,
	STYPE = internal,
	COMBINEFUNC = fs._profile_combine,
	SERIALFUNC = fs._profile_serialize,
	DESERIALFUNC = fs._profile_deserialize,
	FINALFUNC = fs._profile_final_numeric,
	FINALFUNC_MODIFY = READ_ONLY,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE fs.profile(float8) IS
	'profile of a numeric column (int and real inputs arrive through float8)';

CREATE AGGREGATE fs.profile(numeric) (
	SFUNC = fs._profile_numeric_sfunc,
	STYPE = internal,
	COMBINEFUNC = fs._profile_combine,
	SERIALFUNC = fs._profile_serialize,
	DESERIALFUNC = fs._profile_deserialize,
	FINALFUNC = fs._profile_final_numeric,
	FINALFUNC_MODIFY = READ_ONLY,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE fs.profile(numeric) IS
	'profile of a numeric column, values profiled as float8';

CREATE AGGREGATE fs.profile(text) (
	SFUNC = fs._profile_text_sfunc,
	STYPE = internal,
	COMBINEFUNC = fs._profile_combine,
	SERIALFUNC = fs._profile_serialize,
	DESERIALFUNC = fs._profile_deserialize,
	FINALFUNC = fs._profile_final_text,
	FINALFUNC_MODIFY = READ_ONLY,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE fs.profile(text) IS
	'profile of a categorical column: exact counts of up to 10000 distinct values, then a hash sample with exact counts';

CREATE AGGREGATE fs.profile_merge(fs.profile) (
	SFUNC = fs._profile_merge_sfunc,
	STYPE = internal,
	COMBINEFUNC = fs._profile_combine,
	SERIALFUNC = fs._profile_serialize,
	DESERIALFUNC = fs._profile_deserialize,
	FINALFUNC = fs._profile_final_merge,
	FINALFUNC_MODIFY = READ_ONLY,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE fs.profile_merge(fs.profile) IS
	'merges stored profiles (e.g. daily into monthly); the same bytes as profiling all their rows at once';

-- accessors
CREATE FUNCTION fs.profile_kind(fs.profile) RETURNS text
	AS 'MODULE_PATHNAME', 'profile_kind' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.profile_kind(fs.profile) IS 'numeric or text';
CREATE FUNCTION fs.profile_count(fs.profile) RETURNS bigint
	AS 'MODULE_PATHNAME', 'profile_count' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.profile_count(fs.profile) IS 'number of non-NULL values (NaN and infinities included)';
CREATE FUNCTION fs.profile_nulls(fs.profile) RETURNS bigint
	AS 'MODULE_PATHNAME', 'profile_nulls' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.profile_nulls(fs.profile) IS 'number of NULL values';
CREATE FUNCTION fs.profile_nan_count(fs.profile) RETURNS bigint
	AS 'MODULE_PATHNAME', 'profile_nan_count' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.profile_nan_count(fs.profile) IS 'number of NaN values of a numeric profile';
CREATE FUNCTION fs.profile_inf_count(fs.profile) RETURNS bigint
	AS 'MODULE_PATHNAME', 'profile_inf_count' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.profile_inf_count(fs.profile) IS 'number of infinite values (either sign) of a numeric profile';
CREATE FUNCTION fs.profile_mean(fs.profile) RETURNS float8
	AS 'MODULE_PATHNAME', 'profile_mean' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.profile_mean(fs.profile) IS 'mean of the finite values, from their exact sum';
CREATE FUNCTION fs.profile_stddev(fs.profile) RETURNS float8
	AS 'MODULE_PATHNAME', 'profile_stddev' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.profile_stddev(fs.profile) IS 'sample standard deviation of the finite values (like stddev())';
CREATE FUNCTION fs.profile_variance(fs.profile) RETURNS float8
	AS 'MODULE_PATHNAME', 'profile_variance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.profile_variance(fs.profile) IS 'sample variance of the finite values (like variance())';
CREATE FUNCTION fs.profile_min(fs.profile) RETURNS float8
	AS 'MODULE_PATHNAME', 'profile_min' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.profile_min(fs.profile) IS 'smallest finite value';
CREATE FUNCTION fs.profile_max(fs.profile) RETURNS float8
	AS 'MODULE_PATHNAME', 'profile_max' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.profile_max(fs.profile) IS 'largest finite value';
CREATE FUNCTION fs.profile_quantile(fs.profile, q float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'profile_quantile' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.profile_quantile(fs.profile, float8) IS
	'quantile q of the finite values: within 0.5% (relative) of the order statistic at rank floor(q * (n - 1))';
CREATE FUNCTION fs.profile_histogram(fs.profile, bins int DEFAULT 10,
	OUT bin int, OUT lower float8, OUT upper float8, OUT count bigint) RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'profile_histogram' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION fs.profile_histogram(fs.profile, int) IS
	'equal-width histogram of the finite values between min and max, from the sketch';
CREATE FUNCTION fs.profile_distinct(fs.profile) RETURNS float8
	AS 'MODULE_PATHNAME', 'profile_distinct' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.profile_distinct(fs.profile) IS
	'distinct values of a text profile: exact up to 10000, estimated from the hash sample beyond';
CREATE FUNCTION fs.profile_top_values(fs.profile, n int DEFAULT 10,
	OUT value text, OUT count bigint, OUT share float8) RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'profile_top_values' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 11;
COMMENT ON FUNCTION fs.profile_top_values(fs.profile, int) IS
	'the n most frequent listed values of a text profile, then one row with value NULL for all other values';

CREATE FUNCTION fs.drift(reference fs.profile, current fs.profile,
	psi_threshold float8 DEFAULT 0.1,
	js_threshold float8 DEFAULT 0.1,
	wasserstein_threshold float8 DEFAULT 0.1,
	linf_threshold float8 DEFAULT 0.1,
	p_value_threshold float8 DEFAULT 0.05,
	OUT metric text, OUT value float8, OUT threshold float8, OUT drifted boolean)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'profile_drift' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE ROWS 5;
COMMENT ON FUNCTION fs.drift(fs.profile, fs.profile, float8, float8, float8, float8, float8) IS
	'drift of current against reference: numeric psi, ks_statistic, ks_p_value, jensen_shannon, wasserstein_norm; text psi, jensen_shannon, l_infinity, chi_square_p_value';

CREATE FUNCTION fs.profile_summary(p fs.profile) RETURNS jsonb
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog
RETURN CASE fs.profile_kind(p)
	WHEN 'numeric' THEN jsonb_build_object(
		'kind', 'numeric', 'count', fs.profile_count(p), 'nulls', fs.profile_nulls(p),
		'nan', fs.profile_nan_count(p), 'infinite', fs.profile_inf_count(p),
		'mean', fs.profile_mean(p), 'stddev', fs.profile_stddev(p),
		'min', fs.profile_min(p), 'max', fs.profile_max(p),
		'p10', fs.profile_quantile(p, 0.1), 'p50', fs.profile_quantile(p, 0.5),
		'p90', fs.profile_quantile(p, 0.9))
	ELSE jsonb_build_object(
		'kind', 'text', 'count', fs.profile_count(p), 'nulls', fs.profile_nulls(p),
		'distinct', fs.profile_distinct(p),
		'top', (SELECT jsonb_agg(jsonb_build_object('value', t.value, 'count', t.count) ORDER BY t.count DESC, t.value)
				  FROM fs.profile_top_values(p, 5) t WHERE t.value IS NOT NULL),
		'other', (SELECT t.count FROM fs.profile_top_values(p, 5) t WHERE t.value IS NULL))
END;
COMMENT ON FUNCTION fs.profile_summary(fs.profile) IS
	'a readable summary of a profile: counts, moments and deciles, or the top values and their share';

-- from src/sql/0.2/21_drift_monitor.sql

-- ===================================================================
-- Drift reports and monitors over feature views
-- ===================================================================

-- The profile expression for one feature column: numbers as float8 (numeric
-- keeps its own aggregate), everything else as text categories.
CREATE FUNCTION fs._profile_expr(feature text, type regtype) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog
RETURN CASE
	WHEN type IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype,
				  'real'::regtype, 'double precision'::regtype)
		THEN format('%I::float8', feature)
	WHEN type = 'numeric'::regtype THEN format('%I', feature)
	ELSE format('%I::text', feature)
END;
COMMENT ON FUNCTION fs._profile_expr(text, regtype) IS
	'internal: the fs.profile argument for a feature column of the given type';

-- The event time of a history row as timestamptz, for window filters.
CREATE FUNCTION fs._ts_expr(vv fs.view_versions) RETURNS text
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog
AS $$
BEGIN
	IF vv.ts_type NOT IN ('timestamp with time zone'::regtype, 'timestamp without time zone'::regtype,
						  'date'::regtype) THEN
		RAISE EXCEPTION 'feature view "%" version % has a % timestamp column, not a time',
			vv.view_name, vv.version, vv.ts_type
			USING ERRCODE = 'wrong_object_type',
				  HINT = 'Drift reports and monitors window history by timestamptz ranges.';
	END IF;
	RETURN format('%I::timestamptz', vv.ts_column);
END;
$$;
COMMENT ON FUNCTION fs._ts_expr(fs.view_versions) IS
	'internal: the history table''s event time as timestamptz, or an error for non-time timestamps';

CREATE FUNCTION fs.drift_report(view text, reference tstzrange, current tstzrange,
	version int DEFAULT NULL,
	psi_threshold float8 DEFAULT 0.1,
	js_threshold float8 DEFAULT 0.1,
	wasserstein_threshold float8 DEFAULT 0.1,
	linf_threshold float8 DEFAULT 0.1,
	p_value_threshold float8 DEFAULT 0.05)
RETURNS TABLE (feature text, kind text, metric text, value float8, threshold float8, drifted boolean,
			   reference_rows bigint, current_rows bigint)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$
DECLARE
	vv fs.view_versions;
	ts text;
	cols text := '';
	pairs text := '';
	f record;
	n int := 0;
BEGIN
	IF reference IS NULL OR current IS NULL THEN
		RAISE EXCEPTION 'drift_report needs a reference and a current window'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	vv := fs._view_version(view, version);
	ts := fs._ts_expr(vv);
	FOR f IN SELECT vf.name, vf.type FROM fs.view_features vf
			  WHERE vf.view_name = vv.view_name AND vf.version = vv.version ORDER BY vf.position LOOP
		n := n + 1;
		cols := cols || format(', fs.profile(%1$s) FILTER (WHERE %2$s <@ $1) AS r%3$s, '
							   'fs.profile(%1$s) FILTER (WHERE %2$s <@ $2) AS c%3$s',
							   fs._profile_expr(f.name, f.type), ts, n);
		pairs := pairs || CASE WHEN n > 1 THEN ', ' ELSE '' END
				 || format('(%s, %s, r%s, c%s)', n, quote_literal(f.name), n, n);
	END LOOP;
	IF n = 0 THEN
		RETURN;
	END IF;
	RETURN QUERY EXECUTE format(
		'SELECT p.feature, fs.profile_kind(p.r), d.metric, d.value, d.threshold, d.drifted, '
		'       fs.profile_count(p.r) + fs.profile_nulls(p.r), fs.profile_count(p.c) + fs.profile_nulls(p.c) '
		'  FROM (SELECT %s FROM fs_data.%I WHERE %s <@ $1 OR %s <@ $2) s, '
		'       LATERAL (VALUES %s) p(pos, feature, r, c), '
		'       LATERAL fs.drift(p.r, p.c, $3, $4, $5, $6, $7) WITH ORDINALITY d '
		' ORDER BY p.pos, d.ordinality',
		substr(cols, 3), vv.history_table, ts, ts, pairs)
		USING reference, current, psi_threshold, js_threshold, wasserstein_threshold,
			  linf_threshold, p_value_threshold;
END;
$$;
COMMENT ON FUNCTION fs.drift_report(text, tstzrange, tstzrange, int, float8, float8, float8, float8, float8) IS
	'drift of every feature of a feature view version (latest by default) between two windows of its history';

------------------------------------------------------------------------------
-- Monitors: daily profiles, a reference window, alerts and NOTIFY
------------------------------------------------------------------------------

CREATE TABLE fs.drift_monitors (
	name text PRIMARY KEY,
	view_name text NOT NULL REFERENCES fs.views (name) ON DELETE CASCADE,
	version int,
	reference tstzrange NOT NULL CHECK (NOT isempty(reference) AND NOT lower_inf(reference) AND NOT upper_inf(reference)),
	features text[],
	metrics text[] NOT NULL,
	psi_warn float8 NOT NULL,
	psi_alert float8 NOT NULL,
	js_threshold float8 NOT NULL,
	wasserstein_threshold float8 NOT NULL,
	linf_threshold float8 NOT NULL,
	p_value_threshold float8 NOT NULL,
	channel text NOT NULL,
	enabled boolean NOT NULL DEFAULT true,
	last_checked_day date,
	checked_version int,
	owner_role name NOT NULL DEFAULT current_user,
	created_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE fs.drift_monitors IS
	'drift monitors: a feature view, a reference window, thresholds, and the NOTIFY channel for breaches';

CREATE TABLE fs.drift_profiles (
	view_name text NOT NULL,
	version int NOT NULL,
	feature text NOT NULL,
	day date NOT NULL,
	profile fs.profile NOT NULL,
	computed_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	PRIMARY KEY (view_name, version, feature, day)
);
COMMENT ON TABLE fs.drift_profiles IS
	'daily profiles (UTC days) of monitored features; merge them with fs.profile_merge';

CREATE TABLE fs.drift_alerts (
	alert_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	monitor text NOT NULL,
	view_name text NOT NULL,
	version int NOT NULL,
	feature text NOT NULL,
	day date NOT NULL,
	metric text NOT NULL,
	value float8,
	threshold float8,
	severity text NOT NULL CHECK (severity IN ('warn', 'alert')),
	created_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE INDEX ON fs.drift_alerts (monitor, day);
COMMENT ON TABLE fs.drift_alerts IS 'every drift breach found by a monitor: feature, day, metric, value and threshold';

SELECT pg_catalog.pg_extension_config_dump('fs.drift_monitors', '');
SELECT pg_catalog.pg_extension_config_dump('fs.drift_profiles', '');
SELECT pg_catalog.pg_extension_config_dump('fs.drift_alerts', '');

GRANT SELECT ON fs.drift_monitors, fs.drift_profiles, fs.drift_alerts TO PUBLIC;
GRANT INSERT, UPDATE, DELETE ON fs.drift_monitors, fs.drift_profiles TO PUBLIC;
GRANT INSERT ON fs.drift_alerts TO PUBLIC;
ALTER TABLE fs.drift_monitors ENABLE ROW LEVEL SECURITY;
ALTER TABLE fs.drift_profiles ENABLE ROW LEVEL SECURITY;
ALTER TABLE fs.drift_alerts ENABLE ROW LEVEL SECURITY;
CREATE POLICY read_all ON fs.drift_monitors FOR SELECT USING (true);
CREATE POLICY owner_writes ON fs.drift_monitors FOR ALL
	USING (pg_catalog.pg_has_role(owner_role, 'USAGE'))
	WITH CHECK (pg_catalog.pg_has_role(owner_role, 'USAGE'));
-- Profiles summarize history: whoever can read the history table may store them.
CREATE POLICY read_all ON fs.drift_profiles FOR SELECT USING (true);
CREATE POLICY readers_write ON fs.drift_profiles FOR ALL
	USING (EXISTS (SELECT FROM fs.view_versions vv
				   WHERE vv.view_name = drift_profiles.view_name AND vv.version = drift_profiles.version
					 AND pg_catalog.has_table_privilege(pg_catalog.format('fs_data.%I', vv.history_table), 'SELECT')))
	WITH CHECK (EXISTS (SELECT FROM fs.view_versions vv
						WHERE vv.view_name = drift_profiles.view_name AND vv.version = drift_profiles.version
						  AND pg_catalog.has_table_privilege(pg_catalog.format('fs_data.%I', vv.history_table), 'SELECT')));
CREATE POLICY read_all ON fs.drift_alerts FOR SELECT USING (true);
CREATE POLICY owner_records ON fs.drift_alerts FOR INSERT
	WITH CHECK (EXISTS (SELECT FROM fs.drift_monitors m
						WHERE m.name = drift_alerts.monitor AND pg_catalog.pg_has_role(m.owner_role, 'USAGE')));

CREATE FUNCTION fs.create_drift_monitor(name text, view text, reference tstzrange,
	features text[] DEFAULT NULL,
	channel text DEFAULT 'fs_drift',
	version int DEFAULT NULL,
	metrics text[] DEFAULT '{psi,jensen_shannon,wasserstein_norm,l_infinity}',
	psi_warn float8 DEFAULT 0.1,
	psi_alert float8 DEFAULT 0.25,
	js_threshold float8 DEFAULT 0.1,
	wasserstein_threshold float8 DEFAULT 0.1,
	linf_threshold float8 DEFAULT 0.1,
	p_value_threshold float8 DEFAULT 0.05)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
DECLARE
	vv fs.view_versions;
	bad text;
BEGIN
	PERFORM fs._check_name('drift monitor', name);
	vv := fs._view_version(view, version);
	PERFORM fs._ts_expr(vv);
	IF reference IS NULL OR isempty(reference) OR lower_inf(reference) OR upper_inf(reference) THEN
		RAISE EXCEPTION 'drift monitor "%" needs a bounded, non-empty reference window', name
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF channel IS NULL OR channel = '' THEN
		RAISE EXCEPTION 'drift monitor "%" needs a NOTIFY channel', name
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT f INTO bad FROM unnest(features) f
	 WHERE NOT EXISTS (SELECT FROM fs.view_features vf
					   WHERE vf.view_name = vv.view_name AND vf.version = vv.version AND vf.name = f)
	 LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'feature view "%" version % has no feature "%"', vv.view_name, vv.version, bad
			USING ERRCODE = 'undefined_column';
	END IF;
	SELECT m INTO bad FROM unnest(metrics) m
	 WHERE m NOT IN ('psi', 'ks_p_value', 'jensen_shannon', 'wasserstein_norm', 'l_infinity', 'chi_square_p_value')
	 LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'unknown drift metric "%"', bad
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Metrics are psi, ks_p_value, jensen_shannon, wasserstein_norm, l_infinity and chi_square_p_value.';
	END IF;
	SELECT x.owner_role INTO bad FROM fs.drift_monitors x
	 WHERE x.name = create_drift_monitor.name AND NOT pg_has_role(x.owner_role, 'USAGE');
	IF FOUND THEN
		RAISE EXCEPTION 'must be a member of role "%" to change drift monitor "%"', bad, name
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF psi_alert < psi_warn THEN
		RAISE EXCEPTION 'psi_alert (%) must not be below psi_warn (%)', psi_alert, psi_warn
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	INSERT INTO fs.drift_monitors AS m (name, view_name, version, reference, features, metrics, psi_warn, psi_alert,
		js_threshold, wasserstein_threshold, linf_threshold, p_value_threshold, channel)
	VALUES (name, vv.view_name, version, reference, features, metrics, psi_warn, psi_alert,
		js_threshold, wasserstein_threshold, linf_threshold, p_value_threshold, channel)
	ON CONFLICT ON CONSTRAINT drift_monitors_pkey DO UPDATE
	   SET view_name = EXCLUDED.view_name, version = EXCLUDED.version, reference = EXCLUDED.reference,
		   features = EXCLUDED.features, metrics = EXCLUDED.metrics, psi_warn = EXCLUDED.psi_warn,
		   psi_alert = EXCLUDED.psi_alert, js_threshold = EXCLUDED.js_threshold,
		   wasserstein_threshold = EXCLUDED.wasserstein_threshold, linf_threshold = EXCLUDED.linf_threshold,
		   p_value_threshold = EXCLUDED.p_value_threshold, channel = EXCLUDED.channel,
		   last_checked_day = CASE WHEN m.view_name = EXCLUDED.view_name
									 AND m.reference = EXCLUDED.reference
									 AND m.version IS NOT DISTINCT FROM EXCLUDED.version
								   THEN m.last_checked_day END;
END;
$$;
COMMENT ON FUNCTION fs.create_drift_monitor(text, text, tstzrange, text[], text, int, text[], float8, float8, float8, float8, float8, float8) IS
	'creates or updates (idempotently) a drift monitor comparing each new UTC day of a feature view with a reference window';

CREATE FUNCTION fs.drop_drift_monitor(name text) RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
DECLARE
	owner name;
BEGIN
	SELECT m.owner_role INTO owner FROM fs.drift_monitors m WHERE m.name = drop_drift_monitor.name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'drift monitor "%" does not exist', name USING ERRCODE = 'undefined_object';
	END IF;
	IF NOT pg_has_role(owner, 'USAGE') THEN
		RAISE EXCEPTION 'must be a member of role "%" to drop drift monitor "%"', owner, name
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	DELETE FROM fs.drift_monitors m WHERE m.name = drop_drift_monitor.name;
END;
$$;
COMMENT ON FUNCTION fs.drop_drift_monitor(text) IS 'drops a drift monitor (its alerts and the daily profiles stay)';

-- Stores the missing daily profiles of one view version for days in [first, before).
CREATE FUNCTION fs._drift_profile_days(vv fs.view_versions, first date, before date) RETURNS int
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
DECLARE
	ts text := fs._ts_expr(vv);
	cols text := '';
	pairs text := '';
	f record;
	n int := 0;
	done int;
BEGIN
	IF first IS NULL OR first >= before THEN
		RETURN 0;
	END IF;
	FOR f IN SELECT vf.name, vf.type FROM fs.view_features vf
			  WHERE vf.view_name = vv.view_name AND vf.version = vv.version ORDER BY vf.position LOOP
		n := n + 1;
		cols := cols || format(', fs.profile(%s) AS p%s', fs._profile_expr(f.name, f.type), n);
		pairs := pairs || CASE WHEN n > 1 THEN ', ' ELSE '' END || format('(%s, p%s)', quote_literal(f.name), n);
	END LOOP;
	IF n = 0 THEN
		RETURN 0;
	END IF;
	-- days already stored are skipped: a day is profiled once, when it is complete
	EXECUTE format(
		'INSERT INTO fs.drift_profiles (view_name, version, feature, day, profile) '
		'SELECT $1, $2, p.feature, d.day, p.profile '
		'  FROM (SELECT (%1$s AT TIME ZONE ''UTC'')::date AS day %2$s '
		'          FROM fs_data.%3$I '
		'         WHERE %1$s >= ($3::timestamp AT TIME ZONE ''UTC'') AND %1$s < ($4::timestamp AT TIME ZONE ''UTC'') '
		'         GROUP BY 1) d, '
		'       LATERAL (VALUES %4$s) p(feature, profile) '
		' WHERE NOT EXISTS (SELECT FROM fs.drift_profiles x WHERE x.view_name = $1 AND x.version = $2 '
		'                     AND x.feature = p.feature AND x.day = d.day)',
		ts, cols, vv.history_table, pairs)
		USING vv.view_name, vv.version, first, before;
	GET DIAGNOSTICS done = ROW_COUNT;
	RETURN done;
END;
$$;
COMMENT ON FUNCTION fs._drift_profile_days(fs.view_versions, date, date) IS
	'internal: stores the daily profiles of a view version that are missing for the given days';

CREATE FUNCTION fs.run_drift_monitors(as_of timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (monitor text, days_checked int, profiles_stored int, alerts int)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
DECLARE
	m fs.drift_monitors;
	vv fs.view_versions;
	today date := (as_of AT TIME ZONE 'UTC')::date;
	ref_first date;
	ref_before date;
	first_day date;
	d date;
	r record;
	n_alerts int;
	n_days int;
	n_profiles int;
BEGIN
	FOR m IN SELECT * FROM fs.drift_monitors x WHERE x.enabled ORDER BY x.name LOOP
		-- one run per monitor at a time: a concurrent run waits, then sees the days checked
		SELECT * INTO m FROM fs.drift_monitors x WHERE x.name = m.name FOR UPDATE;
		IF NOT FOUND OR NOT m.enabled THEN
			CONTINUE;
		END IF;
		vv := fs._view_version(m.view_name, m.version);
		IF m.checked_version IS DISTINCT FROM vv.version THEN
			m.last_checked_day := NULL;		-- a new version: start over from its reference
		END IF;
		ref_first := (lower(m.reference) AT TIME ZONE 'UTC')::date;
		ref_before := (upper(m.reference) AT TIME ZONE 'UTC')::date;
		-- complete days only: the reference window once, then the days after it up to yesterday
		n_profiles := 0;
		IF m.last_checked_day IS NULL THEN
			n_profiles := fs._drift_profile_days(vv, ref_first, LEAST(ref_before, today));
		END IF;
		first_day := GREATEST(ref_before, COALESCE(m.last_checked_day + 1, ref_before));
		n_profiles := n_profiles + fs._drift_profile_days(vv, first_day, today);
		n_alerts := 0;
		n_days := 0;
		FOR d IN SELECT DISTINCT p.day FROM fs.drift_profiles p
				  WHERE p.view_name = vv.view_name AND p.version = vv.version
					AND p.day >= first_day AND p.day < today
				  ORDER BY p.day LOOP
			n_days := n_days + 1;
			FOR r IN
				WITH ref AS (
					SELECT p.feature, fs.profile_merge(p.profile) AS profile
					  FROM fs.drift_profiles p
					 WHERE p.view_name = vv.view_name AND p.version = vv.version
					   AND p.day >= ref_first AND p.day < ref_before
					   AND (m.features IS NULL OR p.feature = ANY (m.features))
					 GROUP BY p.feature)
				SELECT c.feature, x.metric, x.value, x.threshold,
					   CASE WHEN x.metric = 'psi' AND x.value < m.psi_alert THEN 'warn' ELSE 'alert' END AS severity
				  FROM fs.drift_profiles c
				  JOIN ref ON ref.feature = c.feature,
					   LATERAL fs.drift(ref.profile, c.profile, m.psi_warn, m.js_threshold,
										m.wasserstein_threshold, m.linf_threshold, m.p_value_threshold) x
				 WHERE c.view_name = vv.view_name AND c.version = vv.version AND c.day = d
				   AND x.drifted AND x.metric = ANY (m.metrics)
				 ORDER BY c.feature, x.metric
			LOOP
				INSERT INTO fs.drift_alerts (monitor, view_name, version, feature, day, metric, value, threshold, severity)
				VALUES (m.name, vv.view_name, vv.version, r.feature, d, r.metric, r.value, r.threshold, r.severity);
				PERFORM pg_notify(m.channel, json_build_object(
					'monitor', m.name, 'view', vv.view_name, 'version', vv.version, 'feature', r.feature,
					'day', d, 'metric', r.metric, 'value', r.value, 'threshold', r.threshold,
					'severity', r.severity)::text);
				n_alerts := n_alerts + 1;
			END LOOP;
			UPDATE fs.drift_monitors x SET last_checked_day = d, checked_version = vv.version
			 WHERE x.name = m.name;
		END LOOP;
		monitor := m.name;
		days_checked := n_days;
		profiles_stored := n_profiles;
		alerts := n_alerts;
		RETURN NEXT;
	END LOOP;
END;
$$;
COMMENT ON FUNCTION fs.run_drift_monitors(timestamptz) IS
	'runs every enabled drift monitor the caller may change (all for a superuser): stores missing daily profiles, compares each new complete day with the reference, records alerts and NOTIFYs their channel; call it from any scheduler';

CREATE VIEW fs.drift_monitor_status AS
SELECT m.name AS monitor, m.view_name AS view, m.version, m.reference, m.channel, m.enabled,
	   m.last_checked_day,
	   (SELECT pg_catalog.count(*) FROM fs.drift_alerts a WHERE a.monitor = m.name) AS alerts,
	   (SELECT pg_catalog.max(a.day) FROM fs.drift_alerts a WHERE a.monitor = m.name) AS last_alert_day
  FROM fs.drift_monitors m;
COMMENT ON VIEW fs.drift_monitor_status IS 'drift monitors with the last day checked and their alert counts';
GRANT SELECT ON fs.drift_monitor_status TO PUBLIC;

-- from src/sql/0.2/30_retrieval.sql

------------------------------------------------------------------------------
-- Historical (point-in-time) retrieval
------------------------------------------------------------------------------

-- fs.historical_features returns SQL, it does not run it: the text goes to
-- \gexec, a view, a dbt model or CREATE TABLE AS.  The SQL is one LEFT JOIN
-- per feature view version from the spine, each on
--     view key = spine key AND spine ts @> view ts (@>= when strict is false)
--     AND view ts >= spine ts - view TTL           (when the view has a TTL)
--     AND view fs_created_at <= spine ts           (when known_at)
-- so every spine row yields exactly one output row.  Names are resolved now:
-- a reference without @N means the latest version at generation time, and
-- the storage tables are written fully qualified.
--
-- strict defaults to true: a feature row stamped at the very instant of a
-- spine row is not used for it (such a row often already contains the
-- labelled event, e.g. a count that includes the transaction being
-- labelled).  strict => false gives the inclusive "event time <= spine time"
-- match of most feature stores.  Event times are compared at the view's
-- granularity: a spine time of another type (timestamptz, timestamp, date)
-- is cast to the view's timestamp type.
--
-- known_at => true keeps only rows materialized (fs_created_at) by the spine
-- time, so values backfilled later cannot leak into older spine rows; it
-- needs a spine time of type timestamptz, timestamp or date (the latter two
-- read in the session's time zone).  A history table holds one row per
-- (key, event time), so there are no ties on event time to break.

CREATE FUNCTION fs._historical_features(
	spine text,
	features fs.feature_ref[],
	key_column text,
	ts_column text,
	strict boolean,
	known_at boolean,
	search_path text
) RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
SET intervalstyle = postgres	-- TTL literals read the same under any style
AS $$
DECLARE
	src record;
	spine_sql text;
	spine_cols text[];
	spine_key_t regtype;
	spine_ts_t regtype;
	time_types CONSTANT regtype[] := ARRAY['timestamptz', 'timestamp', 'date']::regtype[];
	r record;
	alias text;
	aliases jsonb := '{}';
	n int := 0;
	out_name text;
	out_names text[] := '{}';
	sel text := '';
	joins text := '';
	spine_ts text;
	sql text;
	cur refcursor;
	line text;
BEGIN
	IF spine IS NULL OR btrim(spine) = '' THEN
		RAISE EXCEPTION 'spine must not be null or empty' USING ERRCODE = 'null_value_not_allowed',
			HINT = 'Pass a table or view name, or a SELECT query.';
	END IF;
	IF key_column IS NULL OR ts_column IS NULL THEN
		RAISE EXCEPTION 'key_column and ts_column must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF strict IS NULL OR known_at IS NULL THEN
		RAISE EXCEPTION 'strict and known_at must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;

	-- The spine: a relation name or one SELECT, validated, planned (not run)
	-- and described in the caller's schemas, as feature view sources are.
	PERFORM set_config('search_path', _historical_features.search_path, true);
	src := fs._describe_source('spine', spine);
	PERFORM set_config('search_path', 'pg_catalog', true);
	IF src.relation IS NOT NULL THEN
		spine_sql := src.relation || ' AS s';
	ELSE
		spine_sql := format(E'(\n%s\n) AS s', src.query);
	END IF;
	spine_cols := src.column_names;
	IF NOT key_column = ANY (spine_cols) THEN
		RAISE EXCEPTION 'spine has no key column "%"', key_column USING ERRCODE = 'undefined_column',
			HINT = format('Its columns are %s.', array_to_string(spine_cols, ', '));
	END IF;
	IF NOT ts_column = ANY (spine_cols) THEN
		RAISE EXCEPTION 'spine has no timestamp column "%"', ts_column USING ERRCODE = 'undefined_column',
			HINT = format('Its columns are %s.', array_to_string(spine_cols, ', '));
	END IF;
	spine_key_t := src.column_types[array_position(spine_cols, key_column)];
	spine_ts_t := src.column_types[array_position(spine_cols, ts_column)];
	IF NOT spine_ts_t = ANY (time_types) THEN
		RAISE EXCEPTION 'timestamp column "%" of the spine has type %', ts_column, spine_ts_t
			USING ERRCODE = 'datatype_mismatch', HINT = 'It must be timestamptz, timestamp or date.';
	END IF;
	out_names := spine_cols;

	FOR r IN
		SELECT rf.ref, rf.feature, rf.ord, vv.*
		  FROM fs.resolve_features(features) WITH ORDINALITY AS rf(ref, view, version, feature, type, ord)
		  JOIN fs.view_versions vv ON vv.view_name = rf.view AND vv.version = rf.version
		 ORDER BY rf.ord
	LOOP
		IF spine_key_t <> r.key_type AND NOT EXISTS (
			SELECT FROM pg_cast c WHERE c.castsource = spine_key_t AND c.casttarget = r.key_type
			   AND c.castcontext = 'i') THEN
			RAISE EXCEPTION 'key column "%" of the spine has type %, but feature view "%" has key type %',
				key_column, spine_key_t, r.view_name, r.key_type
				USING ERRCODE = 'datatype_mismatch', HINT = 'Cast the key column in the spine query.';
		END IF;
		out_name := r.view_name || '__' || r.feature;
		IF octet_length(out_name) > 63 THEN
			RAISE EXCEPTION 'output column name "%" for feature "%" is too long', out_name, r.ref
				USING ERRCODE = 'name_too_long',
					  DETAIL = format('It is %s bytes long; the limit is 63.', octet_length(out_name));
		END IF;
		IF out_name = ANY (out_names) THEN
			RAISE EXCEPTION 'output column "%" for feature "%" would appear twice', out_name, r.ref
				USING ERRCODE = 'duplicate_column',
					  HINT = CASE WHEN out_name = ANY (spine_cols)
								  THEN 'Rename the spine column.'
								  ELSE 'Request each feature of a view once, from one version.' END;
		END IF;
		out_names := out_names || out_name;

		-- One join per view version, in order of first appearance.
		alias := aliases ->> format('%s@%s', r.view_name, r.version);
		IF alias IS NULL THEN
			n := n + 1;
			alias := 'f' || n;
			aliases := aliases || jsonb_build_object(format('%s@%s', r.view_name, r.version), alias);
			spine_ts := format('s.%I', ts_column);
			IF spine_ts_t <> r.ts_type THEN
				spine_ts := format('(%s)::%s', spine_ts, format_type(r.ts_type, NULL));
			END IF;
			joins := joins || format(E'\n  LEFT JOIN fs_data.%I AS %I\n    ON %I.%I = s.%I\n   AND %s %s %I.%I',
									 r.history_table, alias, alias, r.key_column, key_column,
									 spine_ts, CASE WHEN strict THEN '@>' ELSE '@>=' END, alias, r.ts_column);
			IF r.ttl IS NOT NULL THEN
				joins := joins || format(E'\n   AND %I.%I >= %s - %L::interval', alias, r.ts_column, spine_ts, r.ttl);
			END IF;
			IF known_at THEN
				joins := joins || format(E'\n   AND %I.fs_created_at <= (s.%I)::timestamptz', alias, ts_column);
			END IF;
		END IF;
		sel := sel || format(E',\n       %I.%I AS %I', alias, r.feature, out_name);
	END LOOP;

	sql := format(E'SELECT s.*%s\n  FROM %s%s', sel, spine_sql, joins);
	-- Plan it once as the caller would run it: a mistake shows up now.
	PERFORM set_config('search_path', _historical_features.search_path, true);
	OPEN cur FOR EXECUTE 'EXPLAIN ' || sql;
	FETCH cur INTO line;	-- a utility statement runs at its first fetch
	CLOSE cur;
	PERFORM set_config('search_path', 'pg_catalog', true);
	RETURN sql;
END;
$$;
COMMENT ON FUNCTION fs._historical_features(text, fs.feature_ref[], text, text, boolean, boolean, text) IS
	'internal: fs.historical_features with the schemas the spine resolves in';

-- The public entry point captures the caller's schemas, in which the spine is
-- resolved (the generated SQL qualifies everything else).
CREATE FUNCTION fs.historical_features(
	spine text,
	features fs.feature_ref[],
	key_column text,
	ts_column text,
	strict boolean DEFAULT true,
	known_at boolean DEFAULT false
) RETURNS text
LANGUAGE sql VOLATILE PARALLEL UNSAFE
AS $$
	SELECT fs._historical_features($1, $2, $3, $4, $5, $6,
		(SELECT pg_catalog.string_agg(pg_catalog.quote_ident(s), ', ' ORDER BY o)
		   FROM pg_catalog.unnest(pg_catalog.current_schemas(false)) WITH ORDINALITY AS u(s, o)))
$$;
COMMENT ON FUNCTION fs.historical_features(text, fs.feature_ref[], text, text, boolean, boolean) IS
	'point-in-time retrieval SQL: one row per spine row, spine columns then one view__feature column per feature; '
	'strict (default) excludes feature rows stamped at the spine instant, known_at only sees rows materialized by then';
