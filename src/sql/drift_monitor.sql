
-- ===================================================================
-- Drift reports and monitors over feature views
-- ===================================================================

-- The profile expression for one feature column: numbers as float8 (numeric
-- keeps its own aggregate), everything else as text categories.
CREATE OR REPLACE FUNCTION fs_internal.profile_expr(feature text, type regtype) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog
RETURN CASE
	WHEN type IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype,
				  'real'::regtype, 'double precision'::regtype)
		THEN format('%I::float8', feature)
	WHEN type = 'numeric'::regtype THEN format('%I', feature)
	ELSE format('%I::text', feature)
END;
COMMENT ON FUNCTION fs_internal.profile_expr(text, regtype) IS
	'internal: the fs.profile argument for a feature column of the given type';

-- The event time of a history row as timestamptz, for window filters.
CREATE OR REPLACE FUNCTION fs_internal.ts_expr(vv fs.view_versions) RETURNS text
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog
AS $$
BEGIN
	IF vv.ts_type <> ALL (fs_internal.time_types()) THEN
		RAISE EXCEPTION 'feature view "%" version % has a % timestamp column, not a time',
			vv.view_name, vv.version, vv.ts_type
			USING ERRCODE = 'wrong_object_type',
				  HINT = 'Drift reports and monitors window history by timestamptz ranges.';
	END IF;
	RETURN format('%I::timestamptz', vv.ts_column);
END;
$$;
COMMENT ON FUNCTION fs_internal.ts_expr(fs.view_versions) IS
	'internal: the history table''s event time as timestamptz, or an error for non-time timestamps';

CREATE OR REPLACE FUNCTION fs.drift_report(view text, reference tstzrange, current tstzrange,
	version int DEFAULT NULL,
	psi_threshold float8 DEFAULT fs_internal.drift_threshold('psi'),
	js_threshold float8 DEFAULT fs_internal.drift_threshold('jensen_shannon'),
	wasserstein_threshold float8 DEFAULT fs_internal.drift_threshold('wasserstein_norm'),
	linf_threshold float8 DEFAULT fs_internal.drift_threshold('l_infinity'),
	p_value_threshold float8 DEFAULT fs_internal.drift_threshold('p_value'))
RETURNS TABLE (feature text, kind text, metric text, value float8, threshold float8, drifted boolean,
			   reference_rows bigint, current_rows bigint)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$
DECLARE
	vv fs.view_versions;
	ts text;
	refs text := '';
	curs text := '';
	names text[] := '{}';
	f record;
	n int := 0;
	ref_rows bigint;
	cur_rows bigint;
	ref_profiles fs.profile[];
	cur_profiles fs.profile[];
	span record;
BEGIN
	IF reference IS NULL OR current IS NULL THEN
		RAISE EXCEPTION 'drift_report needs a reference and a current window'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	vv := fs_internal.view_version(view, version);
	ts := fs_internal.ts_expr(vv);
	FOR f IN SELECT vf.name, vf.type FROM fs.view_features vf
			  WHERE vf.view_name = vv.view_name AND vf.version = vv.version ORDER BY vf.position LOOP
		n := n + 1;
		names := names || f.name::text;
		refs := refs || format(', fs.profile(%s) FILTER (WHERE %s <@ $1)', fs_internal.profile_expr(f.name, f.type), ts);
		curs := curs || format(', fs.profile(%s) FILTER (WHERE %s <@ $2)', fs_internal.profile_expr(f.name, f.type), ts);
	END LOOP;
	IF n = 0 THEN
		RETURN;
	END IF;
	-- one scan: the rows in each window and the profiles of every feature in both
	EXECUTE format(
		'SELECT count(*) FILTER (WHERE %1$s <@ $1), count(*) FILTER (WHERE %1$s <@ $2), ARRAY[%2$s], ARRAY[%3$s] '
		'  FROM %4$s WHERE %1$s <@ $1 OR %1$s <@ $2',
		ts, substr(refs, 3), substr(curs, 3), fs_internal.history_rows(vv))
		INTO ref_rows, cur_rows, ref_profiles, cur_profiles
		USING reference, current;
	-- an empty window: nothing to compare, and a notice rather than rows of NULLs
	IF ref_rows = 0 OR cur_rows = 0 THEN
		EXECUTE format('SELECT count(*) AS n, min(%1$s) AS first, max(%1$s) AS last FROM %2$s',
					   ts, fs_internal.history_rows(vv)) INTO span;
		RAISE NOTICE 'drift_report: % % no rows of feature view "%" version %, so there is nothing to compare',
			concat_ws(' and ',
					  CASE WHEN ref_rows = 0 THEN 'the reference window '
						   || CASE WHEN isempty(reference) THEN '(an empty range)' ELSE reference::text END END,
					  CASE WHEN cur_rows = 0 THEN 'the current window '
						   || CASE WHEN isempty(current) THEN '(an empty range)' ELSE current::text END END),
			CASE WHEN ref_rows = 0 AND cur_rows = 0 THEN 'hold' ELSE 'holds' END,
			vv.view_name, vv.version
			USING DETAIL = CASE WHEN span.n = 0 THEN 'Its history is empty.'
								ELSE format('Its history holds %s rows, with event times from %s to %s.',
											span.n, span.first, span.last) END,
				  HINT = CASE WHEN span.n = 0 THEN format('fs.materialize(%L) fills the history.', vv.view_name)
							  ELSE format('Windows select history rows by their event time, column "%s".', vv.ts_column) END;
		RETURN;
	END IF;
	RETURN QUERY
	SELECT p.feature, fs.profile_kind(p.r), d.metric, d.value, d.threshold, d.drifted,
		   fs.profile_count(p.r) + fs.profile_nulls(p.r), fs.profile_count(p.c) + fs.profile_nulls(p.c)
	  FROM unnest(names, ref_profiles, cur_profiles) WITH ORDINALITY AS p(feature, r, c, pos),
		   LATERAL fs.drift(p.r, p.c, psi_threshold, js_threshold, wasserstein_threshold,
							linf_threshold, p_value_threshold) WITH ORDINALITY AS d
	 ORDER BY p.pos, d.ordinality;
END;
$$;
COMMENT ON FUNCTION fs.drift_report(text, tstzrange, tstzrange, int, float8, float8, float8, float8, float8) IS
	'drift of every feature of a feature view version (latest by default) between two windows of its history';

CREATE OR REPLACE FUNCTION fs.create_drift_monitor(name text, view text, reference tstzrange,
	features text[] DEFAULT NULL,
	channel text DEFAULT 'fs_drift',
	version int DEFAULT NULL,
	metrics text[] DEFAULT '{psi,jensen_shannon,wasserstein_norm,l_infinity}',
	psi_warn float8 DEFAULT fs_internal.drift_threshold('psi'),
	psi_alert float8 DEFAULT fs_internal.drift_threshold('psi_alert'),
	js_threshold float8 DEFAULT fs_internal.drift_threshold('jensen_shannon'),
	wasserstein_threshold float8 DEFAULT fs_internal.drift_threshold('wasserstein_norm'),
	linf_threshold float8 DEFAULT fs_internal.drift_threshold('l_infinity'),
	p_value_threshold float8 DEFAULT fs_internal.drift_threshold('p_value'))
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
DECLARE
	vv fs.view_versions;
	bad text;
BEGIN
	PERFORM fs_internal.check_name('drift monitor', name);
	vv := fs_internal.view_version(view, version);
	PERFORM fs_internal.ts_expr(vv);
	IF reference IS NULL OR isempty(reference) OR lower_inf(reference) OR upper_inf(reference) THEN
		RAISE EXCEPTION 'drift monitor "%" needs a bounded, non-empty reference window', name
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF channel IS NULL OR channel = '' THEN
		RAISE EXCEPTION 'drift monitor "%" needs a NOTIFY channel', name
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF octet_length(channel) > fs_internal.max_name_bytes() THEN
		RAISE EXCEPTION 'NOTIFY channel of drift monitor "%" is too long', name
			USING ERRCODE = 'name_too_long',
				  DETAIL = format('It is %s bytes long; the limit is %s.', octet_length(channel), fs_internal.max_name_bytes());
	END IF;
	-- Profiles summarize the history: monitoring it needs the right to read it.
	IF NOT has_table_privilege(fs_internal.storage_rel(vv, false), 'SELECT') THEN
		RAISE EXCEPTION 'permission denied to monitor feature view "%"', vv.view_name
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = format('A drift monitor needs SELECT on the history table %s.', fs_internal.storage_rel(vv, false));
	END IF;
	SELECT f INTO bad FROM unnest(features) f
	 WHERE NOT EXISTS (SELECT FROM fs.view_features vf
					   WHERE vf.view_name = vv.view_name AND vf.version = vv.version AND vf.name = f)
	 LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'feature view "%" version % has no feature "%"', vv.view_name, vv.version, bad
			USING ERRCODE = 'undefined_column';
	END IF;
	SELECT m INTO bad FROM unnest(metrics) m WHERE m IS NULL OR m <> ALL (fs_internal.drift_metrics()) LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'unknown drift metric "%"', bad
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = (SELECT format('Metrics are %s and %s.', array_to_string(m[1:cardinality(m) - 1], ', '), m[cardinality(m)])
							FROM fs_internal.drift_metrics() m);
	END IF;
	IF psi_alert < psi_warn THEN
		RAISE EXCEPTION 'psi_alert (%) must not be below psi_warn (%)', psi_alert, psi_warn
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM fs_internal.write('create_drift_monitor', name, vv.view_name, version, reference, features, metrics,
							  psi_warn, psi_alert, js_threshold, wasserstein_threshold, linf_threshold,
							  p_value_threshold, channel);
END;
$$;
COMMENT ON FUNCTION fs.create_drift_monitor(text, text, tstzrange, text[], text, int, text[], float8, float8, float8, float8, float8, float8) IS
	'creates or updates (idempotently) a drift monitor comparing each new UTC day of a feature view with a reference window';

-- Creates or updates a monitor: a new one belongs to its caller; changing one
-- needs membership in its owner role.
CREATE OR REPLACE FUNCTION fs_internal.w_create_drift_monitor(caller regrole, name text, view text, version int,
	reference tstzrange, features text[], metrics text[], psi_warn float8, psi_alert float8, js_threshold float8,
	wasserstein_threshold float8, linf_threshold float8, p_value_threshold float8, channel text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
	bad name;
BEGIN
	PERFORM pg_advisory_xact_lock(hashtext('feature_store'), hashtext('monitor:' || name));
	SELECT x.owner_role INTO bad FROM fs.drift_monitors x
	 WHERE x.name = w_create_drift_monitor.name AND NOT pg_has_role(caller, x.owner_role, 'USAGE');
	IF FOUND THEN
		RAISE EXCEPTION 'must be a member of role "%" to change drift monitor "%"', bad, name
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF NOT has_table_privilege(caller, fs_internal.storage_rel(fs_internal.view_version(view, version), false), 'SELECT') THEN
		RAISE EXCEPTION 'permission denied to monitor feature view "%"', view USING ERRCODE = 'insufficient_privilege';
	END IF;
	INSERT INTO fs.drift_monitors AS m (name, view_name, version, reference, features, metrics, psi_warn, psi_alert,
		js_threshold, wasserstein_threshold, linf_threshold, p_value_threshold, channel, owner_role)
	VALUES (name, view, version, reference, features, metrics, psi_warn, psi_alert,
		js_threshold, wasserstein_threshold, linf_threshold, p_value_threshold, channel, fs_internal.role_name(caller))
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
	RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.w_create_drift_monitor(regrole, text, text, int, tstzrange, text[], text[], float8,
	float8, float8, float8, float8, float8, text) FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.w_create_drift_monitor(regrole, text, text, int, tstzrange, text[], text[], float8,
	float8, float8, float8, float8, float8, text) IS 'internal catalog operation: creates or updates a drift monitor';

CREATE OR REPLACE FUNCTION fs_internal.w_drop_drift_monitor(caller regrole, name text) RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
	owner name;
BEGIN
	PERFORM pg_advisory_xact_lock(hashtext('feature_store'), hashtext('monitor:' || name));
	SELECT m.owner_role INTO owner FROM fs.drift_monitors m WHERE m.name = w_drop_drift_monitor.name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'drift monitor "%" does not exist', name USING ERRCODE = 'undefined_object';
	END IF;
	IF NOT pg_has_role(caller, owner, 'USAGE') THEN
		RAISE EXCEPTION 'must be a member of role "%" to drop drift monitor "%"', owner, name
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	DELETE FROM fs.drift_monitors m WHERE m.name = w_drop_drift_monitor.name;
	RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.w_drop_drift_monitor(regrole, text) FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.w_drop_drift_monitor(regrole, text) IS 'internal catalog operation: drops a drift monitor';

CREATE OR REPLACE FUNCTION fs.drop_drift_monitor(name text) RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
BEGIN
	PERFORM fs_internal.write('drop_drift_monitor', name);
END;
$$;
COMMENT ON FUNCTION fs.drop_drift_monitor(text) IS 'drops a drift monitor (its alerts and the daily profiles stay)';

-- Stores the missing daily profiles of one view version for days in [first, before).
CREATE OR REPLACE FUNCTION fs_internal.drift_profile_days(vv fs.view_versions, first date, before date) RETURNS int
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
DECLARE
	ts text := fs_internal.ts_expr(vv);
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
		cols := cols || format(', fs.profile(%s) AS p%s', fs_internal.profile_expr(f.name, f.type), n);
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
		'          FROM %3$s '
		'         WHERE %1$s >= ($3::timestamp AT TIME ZONE ''UTC'') AND %1$s < ($4::timestamp AT TIME ZONE ''UTC'') '
		'         GROUP BY 1) d, '
		'       LATERAL (VALUES %4$s) p(feature, profile) '
		' WHERE NOT EXISTS (SELECT FROM fs.drift_profiles x WHERE x.view_name = $1 AND x.version = $2 '
		'                     AND x.feature = p.feature AND x.day = d.day)',
		ts, cols, fs_internal.history_rows(vv), pairs)
		USING vv.view_name, vv.version, first, before;
	GET DIAGNOSTICS done = ROW_COUNT;
	RETURN done;
END;
$$;
COMMENT ON FUNCTION fs_internal.drift_profile_days(fs.view_versions, date, date) IS
	'internal: stores the daily profiles of a view version that are missing for the given days';
REVOKE ALL ON FUNCTION fs_internal.drift_profile_days(fs.view_versions, date, date) FROM PUBLIC;

-- Runs one drift monitor for its caller: stores missing daily profiles,
-- compares each new complete day with the reference, records alerts and
-- NOTIFYs.  It reads only the history table feature_store created (checked by
-- OID), and its owner must still be allowed to read it.
CREATE OR REPLACE FUNCTION fs_internal.w_run_drift_monitor(caller regrole, name text, as_of timestamptz) RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
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
	n_alerts int := 0;
	n_days int := 0;
	n_profiles int := 0;
BEGIN
	-- one run per monitor at a time: a concurrent run waits, then sees the days checked
	PERFORM pg_advisory_xact_lock(hashtext('feature_store'), hashtext('monitor:' || name));
	SELECT * INTO m FROM fs.drift_monitors x WHERE x.name = w_run_drift_monitor.name;
	IF NOT FOUND OR NOT m.enabled THEN
		RETURN NULL;
	END IF;
	IF NOT pg_has_role(caller, m.owner_role, 'USAGE') THEN
		RAISE EXCEPTION 'must be a member of role "%" to run drift monitor "%"', m.owner_role, name
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	vv := fs_internal.view_version(m.view_name, m.version);
	IF NOT has_table_privilege(m.owner_role, fs_internal.storage_rel(vv, false), 'SELECT') THEN
		RAISE EXCEPTION 'owner "%" of drift monitor "%" may no longer read the history of feature view "%"',
			m.owner_role, name, vv.view_name USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF m.checked_version IS DISTINCT FROM vv.version THEN
		m.last_checked_day := NULL;		-- a new version: start over from its reference
	END IF;
	ref_first := (lower(m.reference) AT TIME ZONE 'UTC')::date;
	ref_before := (upper(m.reference) AT TIME ZONE 'UTC')::date;
	-- complete days only: the reference window once, then the days after it up to yesterday
	IF m.last_checked_day IS NULL THEN
		n_profiles := fs_internal.drift_profile_days(vv, ref_first, LEAST(ref_before, today));
	END IF;
	first_day := GREATEST(ref_before, COALESCE(m.last_checked_day + 1, ref_before));
	n_profiles := n_profiles + fs_internal.drift_profile_days(vv, first_day, today);
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
	UPDATE fs.drift_monitors x
	   SET last_run = jsonb_build_object('at', as_of, 'days_checked', n_days, 'profiles_stored', n_profiles,
										 'alerts', n_alerts),
		   last_error = NULL, last_error_at = NULL
	 WHERE x.name = m.name;
	RETURN n_alerts;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.w_run_drift_monitor(regrole, text, timestamptz) FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.w_run_drift_monitor(regrole, text, timestamptz) IS
	'internal catalog operation: runs one drift monitor';

-- Records why a monitor's run failed (the run itself was rolled back).
CREATE OR REPLACE FUNCTION fs_internal.w_drift_monitor_failed(caller regrole, name text, error text) RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog
AS $$
BEGIN
	UPDATE fs.drift_monitors x SET last_error = error, last_error_at = now()
	 WHERE x.name = w_drift_monitor_failed.name AND pg_has_role(caller, x.owner_role, 'USAGE');
	RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.w_drift_monitor_failed(regrole, text, text) FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.w_drift_monitor_failed(regrole, text, text) IS
	'internal catalog operation: records the error of a failed drift monitor run';

-- Runs every enabled monitor whose owner role the caller has the privileges
-- of (a superuser: all), each in its own subtransaction: one that fails is
-- recorded (fs.drift_monitors.last_error, and the error column here) and the
-- others still run.
CREATE OR REPLACE FUNCTION fs.run_drift_monitors(as_of timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (monitor text, days_checked int, profiles_stored int, alerts int, error text)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
DECLARE
	mon text;
	run jsonb;
BEGIN
	FOR mon IN SELECT x.name FROM fs.drift_monitors x
				WHERE x.enabled AND pg_has_role(x.owner_role, 'USAGE') ORDER BY x.name LOOP
		monitor := mon;
		days_checked := NULL;
		profiles_stored := NULL;
		alerts := NULL;
		error := NULL;
		BEGIN
			PERFORM fs_internal.write('run_drift_monitor', mon, as_of);
			SELECT x.last_run INTO run FROM fs.drift_monitors x WHERE x.name = mon;
			days_checked := (run ->> 'days_checked')::int;
			profiles_stored := (run ->> 'profiles_stored')::int;
			alerts := (run ->> 'alerts')::int;
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS error = MESSAGE_TEXT;
			PERFORM fs_internal.write('drift_monitor_failed', mon, error);
		END;
		RETURN NEXT;
	END LOOP;
END;
$$;
COMMENT ON FUNCTION fs.run_drift_monitors(timestamptz) IS
	'runs every enabled drift monitor the caller may run (all for a superuser), one failure not stopping the others: stores missing daily profiles, compares each new complete day with the reference, records alerts and NOTIFYs their channel; call it from any scheduler';

CREATE OR REPLACE VIEW fs.drift_monitor_status AS
SELECT m.name AS monitor, m.view_name AS view, m.version, m.reference, m.channel, m.enabled,
	   m.last_checked_day,
	   (SELECT pg_catalog.count(*) FROM fs.drift_alerts a WHERE a.monitor = m.name) AS alerts,
	   (SELECT pg_catalog.max(a.day) FROM fs.drift_alerts a WHERE a.monitor = m.name) AS last_alert_day
  FROM fs.drift_monitors m;
COMMENT ON VIEW fs.drift_monitor_status IS 'drift monitors with the last day checked and their alert counts';
GRANT SELECT ON fs.drift_monitor_status TO PUBLIC;

-- Daily profiles and alerts summarize a version's history: visible to the
-- roles that may read it.
DROP POLICY IF EXISTS history_readers ON fs.drift_profiles;
CREATE POLICY history_readers ON fs.drift_profiles FOR SELECT
	USING (fs_internal.can_read_history(view_name, version));
DROP POLICY IF EXISTS history_readers ON fs.drift_alerts;
CREATE POLICY history_readers ON fs.drift_alerts FOR SELECT
	USING (fs_internal.can_read_history(view_name, version));
