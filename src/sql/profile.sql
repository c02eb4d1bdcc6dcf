
-- aggregate support: the state is an fs.profile (held expanded while
-- aggregating), a concrete type that partial aggregation can ship between
-- processes and nodes (PostgreSQL parallel query, Citus worker_partial_agg)
CREATE OR REPLACE FUNCTION fs_internal.profile_float8_trans(fs.profile, float8) RETURNS fs.profile
	AS 'MODULE_PATHNAME', 'profile_float8_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION fs_internal.profile_numeric_trans(fs.profile, numeric) RETURNS fs.profile
	AS 'MODULE_PATHNAME', 'profile_numeric_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION fs_internal.profile_text_trans(fs.profile, text) RETURNS fs.profile
	AS 'MODULE_PATHNAME', 'profile_text_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION fs_internal.profile_merge_trans(fs.profile, fs.profile) RETURNS fs.profile
	AS 'MODULE_PATHNAME', 'profile_merge_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION fs_internal.profile_combine_states(fs.profile, fs.profile) RETURNS fs.profile
	AS 'MODULE_PATHNAME', 'profile_combine_states' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION fs_internal.profile_state_final_numeric(fs.profile) RETURNS fs.profile
	AS 'MODULE_PATHNAME', 'profile_state_final_numeric' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION fs_internal.profile_state_final_text(fs.profile) RETURNS fs.profile
	AS 'MODULE_PATHNAME', 'profile_state_final_text' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE OR REPLACE FUNCTION fs_internal.profile_state_final_merge(fs.profile) RETURNS fs.profile
	AS 'MODULE_PATHNAME', 'profile_state_final_merge' LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION fs_internal.profile_float8_trans(fs.profile, float8) IS 'internal: transition of fs.profile(float8)';
COMMENT ON FUNCTION fs_internal.profile_numeric_trans(fs.profile, numeric) IS 'internal: transition of fs.profile(numeric)';
COMMENT ON FUNCTION fs_internal.profile_text_trans(fs.profile, text) IS 'internal: transition of fs.profile(text)';
COMMENT ON FUNCTION fs_internal.profile_merge_trans(fs.profile, fs.profile) IS 'internal: transition of fs.profile_merge';
COMMENT ON FUNCTION fs_internal.profile_combine_states(fs.profile, fs.profile) IS 'internal: combines partial profile states';
COMMENT ON FUNCTION fs_internal.profile_state_final_numeric(fs.profile) IS 'internal: final function of fs.profile(float8/numeric)';
COMMENT ON FUNCTION fs_internal.profile_state_final_text(fs.profile) IS 'internal: final function of fs.profile(text)';
COMMENT ON FUNCTION fs_internal.profile_state_final_merge(fs.profile) IS 'internal: final function of fs.profile_merge';

CREATE OR REPLACE AGGREGATE fs.profile(float8) (
	SFUNC = fs_internal.profile_float8_trans,
	STYPE = fs.profile,
	COMBINEFUNC = fs_internal.profile_combine_states,
	FINALFUNC = fs_internal.profile_state_final_numeric,
	FINALFUNC_MODIFY = READ_ONLY,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE fs.profile(float8) IS
	'profile of a numeric column (int and real inputs arrive through float8)';

CREATE OR REPLACE AGGREGATE fs.profile(numeric) (
	SFUNC = fs_internal.profile_numeric_trans,
	STYPE = fs.profile,
	COMBINEFUNC = fs_internal.profile_combine_states,
	FINALFUNC = fs_internal.profile_state_final_numeric,
	FINALFUNC_MODIFY = READ_ONLY,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE fs.profile(numeric) IS
	'profile of a numeric column, values profiled as float8';

CREATE OR REPLACE AGGREGATE fs.profile(text) (
	SFUNC = fs_internal.profile_text_trans,
	STYPE = fs.profile,
	COMBINEFUNC = fs_internal.profile_combine_states,
	FINALFUNC = fs_internal.profile_state_final_text,
	FINALFUNC_MODIFY = READ_ONLY,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE fs.profile(text) IS
	'profile of a categorical column: exact counts of up to 10000 distinct values, then a hash sample with exact counts';

CREATE OR REPLACE AGGREGATE fs.profile_merge(fs.profile) (
	SFUNC = fs_internal.profile_merge_trans,
	STYPE = fs.profile,
	COMBINEFUNC = fs_internal.profile_combine_states,
	FINALFUNC = fs_internal.profile_state_final_merge,
	FINALFUNC_MODIFY = READ_ONLY,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE fs.profile_merge(fs.profile) IS
	'merges stored profiles (e.g. daily into monthly); the same bytes as profiling all their rows at once';

-- accessors
CREATE OR REPLACE FUNCTION fs.profile_kind(fs.profile) RETURNS text
	AS 'MODULE_PATHNAME', 'profile_kind' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.profile_kind(fs.profile) IS 'numeric or text';
CREATE OR REPLACE FUNCTION fs.profile_count(fs.profile) RETURNS bigint
	AS 'MODULE_PATHNAME', 'profile_count' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.profile_count(fs.profile) IS 'number of non-NULL values (NaN and infinities included)';
CREATE OR REPLACE FUNCTION fs.profile_nulls(fs.profile) RETURNS bigint
	AS 'MODULE_PATHNAME', 'profile_nulls' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.profile_nulls(fs.profile) IS 'number of NULL values';
CREATE OR REPLACE FUNCTION fs.profile_nan_count(fs.profile) RETURNS bigint
	AS 'MODULE_PATHNAME', 'profile_nan_count' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.profile_nan_count(fs.profile) IS 'number of NaN values of a numeric profile';
CREATE OR REPLACE FUNCTION fs.profile_inf_count(fs.profile) RETURNS bigint
	AS 'MODULE_PATHNAME', 'profile_inf_count' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.profile_inf_count(fs.profile) IS 'number of infinite values (either sign) of a numeric profile';
CREATE OR REPLACE FUNCTION fs.profile_mean(fs.profile) RETURNS float8
	AS 'MODULE_PATHNAME', 'profile_mean' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.profile_mean(fs.profile) IS 'mean of the finite values, from their exact sum';
CREATE OR REPLACE FUNCTION fs.profile_stddev(fs.profile) RETURNS float8
	AS 'MODULE_PATHNAME', 'profile_stddev' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.profile_stddev(fs.profile) IS 'sample standard deviation of the finite values (like stddev())';
CREATE OR REPLACE FUNCTION fs.profile_variance(fs.profile) RETURNS float8
	AS 'MODULE_PATHNAME', 'profile_variance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.profile_variance(fs.profile) IS 'sample variance of the finite values (like variance())';
CREATE OR REPLACE FUNCTION fs.profile_min(fs.profile) RETURNS float8
	AS 'MODULE_PATHNAME', 'profile_min' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.profile_min(fs.profile) IS 'smallest finite value';
CREATE OR REPLACE FUNCTION fs.profile_max(fs.profile) RETURNS float8
	AS 'MODULE_PATHNAME', 'profile_max' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.profile_max(fs.profile) IS 'largest finite value';
CREATE OR REPLACE FUNCTION fs.profile_quantile(fs.profile, q float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'profile_quantile' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.profile_quantile(fs.profile, float8) IS
	'quantile q of the finite values: within 0.5% (relative) of the order statistic at rank floor(q * (n - 1))';
CREATE OR REPLACE FUNCTION fs.profile_histogram(fs.profile, bins int DEFAULT 10,
	OUT bin int, OUT lower float8, OUT upper float8, OUT count bigint) RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'profile_histogram' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION fs.profile_histogram(fs.profile, int) IS
	'equal-width histogram of the finite values between min and max, from the sketch';
CREATE OR REPLACE FUNCTION fs.profile_distinct(fs.profile) RETURNS float8
	AS 'MODULE_PATHNAME', 'profile_distinct' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs.profile_distinct(fs.profile) IS
	'distinct values of a text profile: exact up to 10000, estimated from the hash sample beyond';
CREATE OR REPLACE FUNCTION fs.profile_top_values(fs.profile, n int DEFAULT 10,
	OUT value text, OUT count bigint, OUT share float8) RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'profile_top_values' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 11;
COMMENT ON FUNCTION fs.profile_top_values(fs.profile, int) IS
	'the n most frequent listed values of a text profile, then one row with value NULL for all other values';

-- The drift metrics a monitor can alert on, and their default thresholds:
-- defined here once; fs.drift, fs.drift_report and the monitors use them.
CREATE OR REPLACE FUNCTION fs_internal.drift_metrics() RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$ SELECT ARRAY['psi', 'ks_p_value', 'jensen_shannon', 'wasserstein_norm', 'l_infinity', 'chi_square_p_value'] $$;
COMMENT ON FUNCTION fs_internal.drift_metrics() IS 'internal: the drift metrics monitors can alert on';

CREATE OR REPLACE FUNCTION fs_internal.drift_threshold(metric text) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog
AS $$
	SELECT CASE metric
		WHEN 'psi' THEN 0.1				-- PSI above 0.1: moderate shift (warn)
		WHEN 'psi_alert' THEN 0.25		-- PSI above 0.25: significant shift (alert)
		WHEN 'jensen_shannon' THEN 0.1
		WHEN 'wasserstein_norm' THEN 0.1
		WHEN 'l_infinity' THEN 0.1
		WHEN 'p_value' THEN 0.05		-- KS and chi-square p-values below this
	END::float8
$$;
COMMENT ON FUNCTION fs_internal.drift_threshold(text) IS 'internal: the default threshold of a drift metric';

CREATE OR REPLACE FUNCTION fs.drift(reference fs.profile, current fs.profile,
	psi_threshold float8 DEFAULT fs_internal.drift_threshold('psi'),
	js_threshold float8 DEFAULT fs_internal.drift_threshold('jensen_shannon'),
	wasserstein_threshold float8 DEFAULT fs_internal.drift_threshold('wasserstein_norm'),
	linf_threshold float8 DEFAULT fs_internal.drift_threshold('l_infinity'),
	p_value_threshold float8 DEFAULT fs_internal.drift_threshold('p_value'),
	OUT metric text, OUT value float8, OUT threshold float8, OUT drifted boolean)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'profile_drift' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE ROWS 5;
COMMENT ON FUNCTION fs.drift(fs.profile, fs.profile, float8, float8, float8, float8, float8) IS
	'drift of current against reference: numeric psi, ks_statistic, ks_p_value, jensen_shannon, wasserstein_norm; text psi, jensen_shannon, l_infinity, chi_square_p_value';

CREATE OR REPLACE FUNCTION fs.profile_summary(p fs.profile) RETURNS jsonb
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
