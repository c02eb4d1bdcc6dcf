
------------------------------------------------------------------------------
-- Expectations: quality gates on every batch
------------------------------------------------------------------------------

-- An expectation is a boolean SQL condition over a feature view's source
-- columns.  Without an aggregate it is a row condition, checked on every row
-- of a batch (true passes; false or NULL fails); with one it is a batch
-- condition, checked once per batch.  Severity: block (the batch is not
-- published), drop (failing rows are kept out, row conditions only) or warn
-- (published and recorded).  Expectations attach to the view and apply to
-- every version whose columns they fit.  fs_internal.run_batch
-- (src/sql/materialize.sql) evaluates them with the query of gate_sql, in
-- the statement that publishes the batch or, when that cannot be, the one
-- that stages it (gate_batch), then calls record_gate, below.

CREATE OR REPLACE FUNCTION fs_internal.condition_subject(condition text) RETURNS text
	AS 'MODULE_PATHNAME', 'fs_condition_subject' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs_internal.condition_subject(text) IS
	'internal: the measured expression of a condition (left side of a top-level comparison or BETWEEN), or NULL';

CREATE OR REPLACE FUNCTION fs_internal.condition_is_expression(condition text) RETURNS boolean
	AS 'MODULE_PATHNAME', 'fs_condition_is_expression' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fs_internal.condition_is_expression(text) IS
	'internal: whether a condition parses as exactly one SQL expression';

CREATE OR REPLACE VIEW fs.expectations AS
SELECT e.view_name AS view, e.name, e.condition, e.severity, e.kind, e.subject AS observed_expression,
	   e.created_at, e.created_by
  FROM fs.view_expectations e;
COMMENT ON VIEW fs.expectations IS
	'expectations of feature views: condition, severity (block, drop, warn), kind (row or batch) and what a batch condition observes';
GRANT SELECT ON fs.expectations TO PUBLIC;

-- The most rows one batch stores in its quarantine relation.
CREATE OR REPLACE FUNCTION fs_internal.quarantine_max_rows() RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$ SELECT coalesce(current_setting('feature_store.quarantine_max_rows', true), '10000')::bigint $$;
COMMENT ON FUNCTION fs_internal.quarantine_max_rows() IS
	'internal: rows a batch may store in quarantine (feature_store.quarantine_max_rows)';

------------------------------------------------------------------------------
-- Quarantine relations
------------------------------------------------------------------------------

-- The quarantine or stage relation of a version, by OID, checked to be the
-- table feature_store created (as storage_rel checks history and online).
CREATE OR REPLACE FUNCTION fs_internal.gate_rel(vv fs.view_versions, stage boolean) RETURNS regclass
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$
DECLARE
	rel regclass := CASE WHEN stage THEN vv.stage_relid ELSE vv.quarantine_relid END;
	what text := CASE WHEN stage THEN 'stage table' ELSE 'quarantine table' END;
BEGIN
	IF rel IS NULL OR NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = rel) THEN
		RAISE EXCEPTION '% of feature view "%" version % is missing', what, vv.view_name, vv.version
			USING ERRCODE = 'undefined_table';
	END IF;
	IF NOT EXISTS (SELECT FROM pg_class c
					WHERE c.oid = rel AND c.relkind = 'r' AND c.relnamespace = 'fs_data'::regnamespace
					  AND c.relowner = (SELECT n.nspowner FROM pg_namespace n WHERE n.nspname = 'fs_internal')) THEN
		RAISE EXCEPTION '% of feature view "%" version % is not the table feature_store created', what,
			vv.view_name, vv.version
			USING ERRCODE = 'wrong_object_type';
	END IF;
	RETURN rel;
END;
$$;
COMMENT ON FUNCTION fs_internal.gate_rel(fs.view_versions, boolean) IS
	'internal: the stage or quarantine table of a version, checked to be the table feature_store created';

-- Creates the gate's relations of a view's versions that have none, in
-- fs_data, owned by the extension's owner, like the view's storage:
--   quarantine: the rows kept out, as they came (all columns nullable), with
--   the run, the names of the expectations they failed and when; its owner
--   role may read, delete and grant reads;
--   stage: an unlogged table a batch is copied into to be gated (empty
--   between batches), written only as the owner role.
-- Called by catalog operations.
CREATE OR REPLACE FUNCTION fs_internal.create_gate_relations(view text) RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
DECLARE
	vv fs.view_versions;
	owner name := (SELECT v.owner_role FROM fs.views v WHERE v.name = create_gate_relations.view);
	cols text;
	q text;
	st text;
BEGIN
	FOR vv IN SELECT * FROM fs.view_versions x
			   WHERE x.view_name = create_gate_relations.view AND (x.quarantine_relid IS NULL OR x.stage_relid IS NULL)
			   ORDER BY x.version
	LOOP
		cols := format('%I %s, %I %s', vv.key_column, format_type(vv.key_type, NULL), vv.ts_column,
					   format_type(vv.ts_type, NULL))
				|| coalesce((SELECT string_agg(format(', %I %s', f.name, format_type(f.type, NULL)), '' ORDER BY f.position)
							   FROM fs.view_features f WHERE f.view_name = vv.view_name AND f.version = vv.version), '');
		q := fs_internal.storage_name(vv.view_name, vv.version, '_quarantine');
		st := fs_internal.storage_name(vv.view_name, vv.version, '_stage');
		IF vv.quarantine_relid IS NULL THEN
			EXECUTE format('CREATE TABLE fs_data.%I (fs_run_id bigint, fs_failed_expectations text[] NOT NULL, '
						   'fs_quarantined_at timestamptz NOT NULL DEFAULT pg_catalog.now(), %s)', q, cols);
			EXECUTE format('COMMENT ON TABLE fs_data.%I IS %L', q,
						   format('feature_store: rows of feature view %s version %s kept out by expectations',
								  vv.view_name, vv.version));
			EXECUTE format('GRANT SELECT, INSERT, DELETE ON fs_data.%I TO %I WITH GRANT OPTION', q, owner);
			UPDATE fs.view_versions x SET quarantine_relid = format('fs_data.%I', q)::regclass
			 WHERE x.view_name = vv.view_name AND x.version = vv.version;
		END IF;
		IF vv.stage_relid IS NULL THEN
			EXECUTE format('CREATE UNLOGGED TABLE fs_data.%I (fs_failed_expectations text[], fs_dropped boolean, %s)',
						   st, cols);
			EXECUTE format('COMMENT ON TABLE fs_data.%I IS %L', st,
						   format('feature_store: batches of feature view %s version %s being gated (empty between batches)',
								  vv.view_name, vv.version));
			EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON fs_data.%I TO %I', st, owner);
			UPDATE fs.view_versions x SET stage_relid = format('fs_data.%I', st)::regclass
			 WHERE x.view_name = vv.view_name AND x.version = vv.version;
		END IF;
	END LOOP;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.create_gate_relations(text) FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.create_gate_relations(text) IS
	'internal: creates the missing quarantine and stage tables of a feature view''s versions';

CREATE OR REPLACE FUNCTION fs_internal.w_ensure_quarantine(caller regrole, view text) RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog
AS $$
BEGIN
	IF NOT pg_has_role(caller, fs_internal.view_owner(view), 'USAGE') THEN
		RAISE EXCEPTION 'must be owner of feature view "%"', view USING ERRCODE = 'insufficient_privilege';
	END IF;
	PERFORM pg_advisory_xact_lock(hashtext('feature_store'), hashtext('view:' || view));
	PERFORM fs_internal.create_gate_relations(view);
	RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.w_ensure_quarantine(regrole, text) FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.w_ensure_quarantine(regrole, text) IS
	'internal catalog operation: creates the missing quarantine and stage tables of a feature view';

------------------------------------------------------------------------------
-- Defining expectations
------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION fs_internal.w_add_expectation(caller regrole, view text, name text, condition text,
	severity text, kind text, subject text) RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
	old fs.view_expectations;
BEGIN
	IF NOT EXISTS (SELECT FROM fs.views v WHERE v.name = w_add_expectation.view) THEN
		RAISE EXCEPTION 'feature view "%" does not exist', view USING ERRCODE = 'undefined_object';
	END IF;
	IF NOT pg_has_role(caller, fs_internal.view_owner(view), 'USAGE') THEN
		RAISE EXCEPTION 'must be owner of feature view "%" to define its expectations', view
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	PERFORM pg_advisory_xact_lock(hashtext('feature_store'), hashtext('view:' || view));
	SELECT * INTO old FROM fs.view_expectations e WHERE e.view_name = w_add_expectation.view AND e.name = w_add_expectation.name;
	IF FOUND THEN
		IF old.condition <> w_add_expectation.condition THEN
			RAISE EXCEPTION 'expectation "%" of feature view "%" already exists with a different condition', name, view
				USING ERRCODE = 'duplicate_object',
					  DETAIL = format('Its condition is: %s', old.condition),
					  HINT = 'Drop it first (fs.drop_expectation), or choose another name.';
		END IF;
		UPDATE fs.view_expectations e SET severity = w_add_expectation.severity
		 WHERE e.view_name = old.view_name AND e.name = old.name AND e.severity <> w_add_expectation.severity;
	ELSE
		INSERT INTO fs.view_expectations (view_name, name, condition, severity, kind, subject, created_by)
		VALUES (view, name, condition, severity, kind, subject, fs_internal.role_name(caller));
	END IF;
	PERFORM fs_internal.create_gate_relations(view);
	RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.w_add_expectation(regrole, text, text, text, text, text, text) FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.w_add_expectation(regrole, text, text, text, text, text, text) IS
	'internal catalog operation: defines an expectation of a feature view';

-- Validates a condition against the latest version's source, as the view's
-- owner, and defines it.  Errors name the view and the expectation.
CREATE OR REPLACE FUNCTION fs.add_expectation(view text, name text, condition text, severity text DEFAULT 'block')
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
DECLARE
	vv fs.view_versions;
	run_as regrole;
	token bigint;
	what text;
	kind text;
	d record;
	subject text;
BEGIN
	IF view IS NULL OR name IS NULL OR condition IS NULL OR severity IS NULL THEN
		RAISE EXCEPTION 'view, name, condition and severity of an expectation must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	what := format('expectation "%s" of feature view "%s"', name, view);
	IF btrim(name) = '' OR octet_length(name) > fs_internal.max_name_bytes() THEN
		RAISE EXCEPTION 'invalid name for % : it must be 1 to % bytes', what, fs_internal.max_name_bytes()
			USING ERRCODE = 'invalid_name';
	END IF;
	IF severity NOT IN ('block', 'drop', 'warn') THEN
		RAISE EXCEPTION 'unknown severity "%" of %', severity, what
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Severity is block, drop or warn.';
	END IF;
	vv := fs_internal.view_version(view);
	run_as := fs_internal.view_owner(vv.view_name);
	IF NOT pg_has_role(run_as, 'USAGE') THEN
		RAISE EXCEPTION 'must be owner of feature view "%" to define its expectations', view
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF btrim(condition) = '' OR NOT fs_internal.condition_is_expression(condition) THEN
		RAISE EXCEPTION 'condition of % is not one SQL expression', what
			USING ERRCODE = 'syntax_error', DETAIL = format('The condition is: %s', condition);
	END IF;

	-- Planned (never run) against the source, as the owner: a condition
	-- allowed in WHERE is a row condition; one that aggregates is a batch
	-- condition.  Either must be boolean.
	token := fs_internal.begin_user_sql(run_as, vv.search_path);
	BEGIN
		d := fs_internal.describe_source(what,
			format('SELECT (%s) AS fs_check FROM (%s) AS fs_source', condition, vv.source_query));
	EXCEPTION WHEN OTHERS THEN
		RAISE EXCEPTION 'condition of % is invalid: %', what, SQLERRM USING ERRCODE = SQLSTATE;
	END;
	IF d.column_names <> ARRAY['fs_check'] THEN
		RAISE EXCEPTION 'condition of % is not one SQL expression', what USING ERRCODE = 'syntax_error';
	END IF;
	IF d.column_types[1] <> 'boolean'::regtype THEN
		RAISE EXCEPTION 'condition of % is of type %, not boolean', what, d.column_types[1]
			USING ERRCODE = 'datatype_mismatch';
	END IF;
	BEGIN
		PERFORM fs_internal.describe_source(what,
			format('SELECT 1 FROM (%s) AS fs_source WHERE (%s)', vv.source_query, condition));
		kind := 'row';
	EXCEPTION WHEN grouping_error THEN
		kind := 'batch';
	WHEN OTHERS THEN
		RAISE EXCEPTION 'condition of % is invalid: %', what, SQLERRM USING ERRCODE = SQLSTATE;
	END;
	IF kind = 'batch' THEN
		subject := fs_internal.condition_subject(condition);
		IF subject IS NOT NULL THEN
			BEGIN
				PERFORM fs_internal.describe_source(what,
					format('SELECT (%s)::text AS fs_observed FROM (%s) AS fs_source', subject, vv.source_query));
			EXCEPTION WHEN OTHERS THEN
				subject := NULL;
			END;
		END IF;
	END IF;
	PERFORM fs_internal.end_user_sql(token);
	IF kind = 'batch' AND severity = 'drop' THEN
		RAISE EXCEPTION 'severity drop is for row conditions, but % aggregates (a batch condition)', what
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Use block or warn for a batch condition.';
	END IF;
	PERFORM fs_internal.write('add_expectation', vv.view_name, name, condition, severity, kind, subject);
END;
$$;
COMMENT ON FUNCTION fs.add_expectation(text, text, text, text) IS
	'defines an expectation of a feature view: a boolean condition over its source''s columns, checked per row or (with an aggregate) per batch; severity block, drop or warn';

CREATE OR REPLACE FUNCTION fs_internal.w_drop_expectation(caller regrole, view text, name text) RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog
AS $$
BEGIN
	IF NOT EXISTS (SELECT FROM fs.views v WHERE v.name = w_drop_expectation.view) THEN
		RAISE EXCEPTION 'feature view "%" does not exist', view USING ERRCODE = 'undefined_object';
	END IF;
	IF NOT pg_has_role(caller, fs_internal.view_owner(view), 'USAGE') THEN
		RAISE EXCEPTION 'must be owner of feature view "%" to drop its expectations', view
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	DELETE FROM fs.view_expectations e WHERE e.view_name = w_drop_expectation.view AND e.name = w_drop_expectation.name;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'expectation "%" of feature view "%" does not exist', name, view USING ERRCODE = 'undefined_object';
	END IF;
	RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.w_drop_expectation(regrole, text, text) FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.w_drop_expectation(regrole, text, text) IS
	'internal catalog operation: drops an expectation of a feature view';

CREATE OR REPLACE FUNCTION fs.drop_expectation(view text, name text) RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
BEGIN
	PERFORM fs_internal.write('drop_expectation', view, name);
END;
$$;
COMMENT ON FUNCTION fs.drop_expectation(text, text) IS 'drops an expectation of a feature view';

------------------------------------------------------------------------------
-- Drift-bound batch conditions
------------------------------------------------------------------------------

-- One drift metric of current against reference (fs.drift's value), or NULL
-- when the metric does not apply to the profiles' kind.
CREATE OR REPLACE FUNCTION fs.drift_value(reference fs.profile, current fs.profile, metric text DEFAULT 'psi')
RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$ SELECT d.value FROM fs.drift(reference, current) d WHERE d.metric = drift_value.metric $$;
COMMENT ON FUNCTION fs.drift_value(fs.profile, fs.profile, text) IS
	'one metric of fs.drift (psi, ks_statistic, ks_p_value, jensen_shannon, wasserstein_norm, l_infinity, chi_square_p_value) as a number';

-- The one-liner for a drift bound: profiles a feature over a reference
-- window of the view's history (now, as the caller, who must be able to
-- read it) and defines the batch condition "the batch's drift from that
-- profile stays within the threshold" (p-values: at least the threshold).
CREATE OR REPLACE FUNCTION fs.add_drift_expectation(view text, feature text, reference tstzrange,
	metric text DEFAULT 'psi', threshold float8 DEFAULT NULL, severity text DEFAULT 'block', name text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
DECLARE
	vv fs.view_versions;
	ftype regtype;
	expr text;
	ref fs.profile;
	cond text;
	limit_value float8;
BEGIN
	IF view IS NULL OR feature IS NULL OR reference IS NULL OR metric IS NULL THEN
		RAISE EXCEPTION 'view, feature, reference and metric of a drift expectation must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	vv := fs_internal.view_version(view);
	name := coalesce(name, feature || '_' || metric);
	SELECT f.type INTO ftype FROM fs.view_features f
	 WHERE f.view_name = vv.view_name AND f.version = vv.version AND f.name = feature;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'feature view "%" has no feature "%" for expectation "%"', view, feature, name
			USING ERRCODE = 'undefined_column';
	END IF;
	expr := fs_internal.profile_expr(feature, ftype);
	EXECUTE format('SELECT fs.profile(%s) FROM %s WHERE %s <@ $1', expr, fs_internal.storage_rel(vv, false),
				   fs_internal.ts_expr(vv))
		INTO ref USING reference;
	IF ref IS NULL OR fs.profile_count(ref) = 0 THEN
		RAISE EXCEPTION 'reference window % of expectation "%" of feature view "%" has no history rows', reference, name, view
			USING ERRCODE = 'no_data_found', HINT = 'Materialize the reference window first.';
	END IF;
	IF NOT EXISTS (SELECT FROM fs.drift(ref, ref) d WHERE d.metric = add_drift_expectation.metric) THEN
		RAISE EXCEPTION 'unknown drift metric "%" for feature "%" of expectation "%" of feature view "%"', metric, feature,
			name, view
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = (SELECT format('Its metrics are %s.', string_agg(d.metric, ', ')) FROM fs.drift(ref, ref) d);
	END IF;
	limit_value := coalesce(threshold, (SELECT d.threshold FROM fs.drift(ref, ref) d WHERE d.metric = add_drift_expectation.metric));
	cond := format('fs.drift_value(%L::fs.profile, fs.profile(%s), %L) %s %s', ref::text, expr, metric,
				   CASE WHEN metric LIKE '%p\_value' THEN '>=' ELSE '<=' END, limit_value);
	PERFORM fs.add_expectation(view, name, cond, severity);
	RETURN name;
END;
$$;
COMMENT ON FUNCTION fs.add_drift_expectation(text, text, tstzrange, text, float8, text, text) IS
	'defines a batch expectation bounding a feature''s drift (fs.drift_value) from its profile over a reference window of history; returns its name';

------------------------------------------------------------------------------
-- Gating a batch
------------------------------------------------------------------------------

-- The expectations of a view that apply to a batch of a version: those
-- whose columns the version has (planned against its stage table, which has
-- the version's columns), row conditions only for a push (a push is a small
-- batch).  Planned as the caller (run_batch calls it as the view's owner)
-- under the view's search_path.
CREATE OR REPLACE FUNCTION fs_internal.gate_expectations(vv fs.view_versions, stage regclass, push boolean)
RETURNS fs.view_expectations[]
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
DECLARE
	token bigint := fs_internal.begin_user_sql(NULL, vv.search_path);
	e fs.view_expectations;
	exps fs.view_expectations[] := '{}';
BEGIN
	FOR e IN SELECT * FROM fs.view_expectations x
			  WHERE x.view_name = vv.view_name AND (x.kind = 'row' OR NOT push)
			  ORDER BY x.name
	LOOP
		BEGIN
			EXECUTE format('EXPLAIN (COSTS OFF) SELECT (%s)::boolean FROM %s AS fs_source', e.condition, stage);
		EXCEPTION WHEN undefined_column THEN
			CONTINUE;
		END;
		exps := exps || e;
	END LOOP;
	PERFORM fs_internal.end_user_sql(token);
	RETURN exps;
END;
$$;
COMMENT ON FUNCTION fs_internal.gate_expectations(fs.view_versions, regclass, boolean) IS
	'internal: the expectations of a feature view that apply to a batch of one of its versions';

-- The query that evaluates expectations over a batch in one pass: it reads
-- the rows of rows_sql (a query, or with staged an INSERT into the stage,
-- whose RETURNING list it supplies) as fs_source and returns fs_values (the
-- rows counted, then per row condition the rows failing it, per batch
-- condition whether it held and its observed value; gate_results reads
-- them) and fs_pass (no block and no drop failed: the batch may be
-- published as it is).
CREATE OR REPLACE FUNCTION fs_internal.gate_sql(exps fs.view_expectations[], rows_sql text, staged boolean)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$
DECLARE
	e fs.view_expectations;
	k int := 1;
	sel text[] := ARRAY['pg_catalog.count(*)::text'];
	pass text[] := '{}';
	ret text[] := '{}';
	failing text;
	-- Row conditions over a staging INSERT are evaluated on each row as it
	-- is stored and only their outcomes returned; batch conditions need the
	-- rows themselves.
	per_row boolean := staged AND NOT EXISTS (SELECT FROM unnest(exps) x WHERE x.kind = 'batch');
BEGIN
	FOREACH e IN ARRAY exps LOOP
		k := k + 1;
		IF e.kind = 'row' THEN
			IF per_row THEN
				ret := ret || format('(%s) IS NOT TRUE AS fs_fail_%s', e.condition, k);
				failing := format('pg_catalog.count(*) FILTER (WHERE fs_fail_%s)', k);
			ELSE
				failing := format('pg_catalog.count(*) FILTER (WHERE (%s) IS NOT TRUE)', e.condition);
			END IF;
			sel := sel || format('%s::text', failing);
			IF e.severity <> 'warn' THEN
				pass := pass || format('%s = 0', failing);
			END IF;
		ELSE
			sel := sel || format('((%s) IS TRUE)::text', e.condition)
					   || coalesce(format('(%s)::text', e.subject), 'NULL::text');
			IF e.severity <> 'warn' THEN
				pass := pass || format('(%s) IS TRUE', e.condition);
			END IF;
		END IF;
	END LOOP;
	RETURN format('%s SELECT ARRAY[%s] AS fs_values, %s AS fs_pass FROM %s AS fs_source',
				  CASE WHEN staged THEN format('WITH fs_staged AS (%s RETURNING %s)', rows_sql,
											  CASE WHEN NOT per_row THEN '*' WHEN cardinality(ret) = 0 THEN '1'
												   ELSE array_to_string(ret, ', ') END) ELSE '' END,
				  array_to_string(sel, ', '),
				  CASE WHEN cardinality(pass) = 0 THEN 'true' ELSE array_to_string(pass, ' AND ') END,
				  CASE WHEN staged THEN 'fs_staged' ELSE format('(%s)', rows_sql) END);
END;
$$;
COMMENT ON FUNCTION fs_internal.gate_sql(fs.view_expectations[], text, boolean) IS
	'internal: the query that evaluates expectations over a batch in one pass, returning their outcomes and whether the batch may be published';

-- The outcome of a batch's expectations from the values gate_sql's query
-- returned: whether a block failed, the rows checked, the results to record
-- (fs.expectation_results' columns), the expectations failed and the batch
-- conditions that blocked.
CREATE OR REPLACE FUNCTION fs_internal.gate_results(exps fs.view_expectations[], vals text[],
	OUT blocked boolean, OUT rows_checked bigint, OUT results jsonb, OUT failed text[], OUT batch_failed text[])
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$
DECLARE
	e fs.view_expectations;
	k int := 2;
	passed boolean;
	failing bigint;
	observed text;
BEGIN
	blocked := false;
	results := '[]';
	failed := '{}';
	batch_failed := '{}';
	rows_checked := vals[1]::bigint;
	FOREACH e IN ARRAY exps LOOP
		IF e.kind = 'row' THEN
			failing := vals[k]::bigint;
			passed := failing = 0;
			observed := NULL;
			k := k + 1;
		ELSE
			passed := vals[k]::boolean;
			observed := vals[k + 1];
			failing := NULL;
			k := k + 2;
			IF NOT passed AND e.severity = 'block' THEN
				batch_failed := batch_failed || e.name;
			END IF;
		END IF;
		IF NOT passed THEN
			failed := failed || e.name;
			blocked := blocked OR e.severity = 'block';
		END IF;
		results := results || jsonb_build_object('expectation', e.name, 'severity', e.severity, 'kind', e.kind,
			'rows_checked', rows_checked, 'rows_failing', failing, 'observed', observed, 'passed', passed,
			'action', CASE WHEN NOT passed THEN CASE e.severity WHEN 'block' THEN 'blocked' WHEN 'drop' THEN 'dropped'
																ELSE 'warned' END END);
	END LOOP;
END;
$$;
COMMENT ON FUNCTION fs_internal.gate_results(fs.view_expectations[], text[]) IS
	'internal: the outcome of a batch''s expectations from the values their gate query returned';

-- Stages a batch (fill: the INSERT into the version's stage table, with
-- $1 start, $2 finish and $5 pushed rows) and evaluates the expectations
-- exps in the same pass, as the caller (run_batch calls it as the view's
-- owner) under the view's search_path.  When a block or a drop fails, the
-- failing rows of the stage are marked with the names of the row conditions
-- they failed, and those a drop keeps out as dropped (record_gate then
-- quarantines them, and publishing leaves them out).  run_batch takes this
-- path when a batch cannot be gated while it is published: its expectations
-- failed there, or its source may read other rows a second time.
CREATE OR REPLACE FUNCTION fs_internal.gate_batch(vv fs.view_versions, stage regclass, exps fs.view_expectations[],
	fill text, start timestamptz, finish timestamptz, rows jsonb,
	OUT blocked boolean, OUT rows_checked bigint, OUT results jsonb, OUT failed text[], OUT batch_failed text[])
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
DECLARE
	token bigint := fs_internal.begin_user_sql(NULL, vv.search_path);
	e fs.view_expectations;
	vals text[];
	cases text[] := '{}';
	conds text[] := '{}';
	drops text[] := '{}';
BEGIN
	-- The one pass: the batch is staged by the statement that gates it.
	EXECUTE fs_internal.gate_sql(exps, fill, true) INTO vals
		USING start, finish, NULL::interval, NULL::timestamptz, rows;
	SELECT * INTO blocked, rows_checked, results, failed, batch_failed FROM fs_internal.gate_results(exps, vals);
	-- mark the failing rows, when some are kept out
	FOREACH e IN ARRAY exps LOOP
		IF e.kind = 'row' AND e.name = ANY (failed) THEN
			cases := cases || format('CASE WHEN (%s) IS NOT TRUE THEN %L END', e.condition, e.name);
			conds := conds || format('(%s) IS NOT TRUE', e.condition);
			IF e.severity = 'drop' THEN
				drops := drops || format('(%s) IS NOT TRUE', e.condition);
			END IF;
		END IF;
	END LOOP;
	IF (blocked OR cardinality(drops) > 0) AND cardinality(conds) > 0 THEN
		EXECUTE format('UPDATE %s AS fs_source SET fs_failed_expectations = '
					   'pg_catalog.array_remove(ARRAY[%s]::text[], NULL), fs_dropped = %s WHERE %s',
					   stage, array_to_string(cases, ', '),
					   CASE WHEN cardinality(drops) = 0 THEN 'false' ELSE array_to_string(drops, ' OR ') END,
					   array_to_string(conds, ' OR '));
	END IF;
	PERFORM fs_internal.end_user_sql(token);
END;
$$;
COMMENT ON FUNCTION fs_internal.gate_batch(fs.view_versions, regclass, fs.view_expectations[], text, timestamptz, timestamptz, jsonb) IS
	'internal: stages a batch and evaluates expectations over it in the same pass; marks the rows kept out';

CREATE OR REPLACE FUNCTION fs_internal.w_record_results(caller regrole, view text, version int, run bigint,
	trigger text, results jsonb) RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog
AS $$
BEGIN
	IF NOT pg_has_role(caller, fs_internal.view_owner(view), 'USAGE') THEN
		RAISE EXCEPTION 'permission denied to record expectation results of feature view "%"', view
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	INSERT INTO fs.expectation_results (run_id, view_name, version, expectation, severity, kind, trigger, rows_checked,
										rows_failing, observed, passed, action)
	SELECT run, view, version, r.expectation, r.severity, r.kind, trigger, r.rows_checked, r.rows_failing, r.observed,
		   r.passed, r.action
	  FROM jsonb_to_recordset(results) AS r(expectation text, severity text, kind text, rows_checked bigint,
											 rows_failing bigint, observed text, passed boolean, action text);
	RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.w_record_results(regrole, text, int, bigint, text, jsonb) FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.w_record_results(regrole, text, int, bigint, text, jsonb) IS
	'internal catalog operation: records the results of a batch''s expectations';

-- After a gated batch: records the results (for a push only the failures:
-- pushes are many and small), stores the rows kept out in the version's
-- quarantine relation, and announces a blocked batch with a NOTIFY on
-- channel feature_store_expectations and a warning.
CREATE OR REPLACE FUNCTION fs_internal.record_gate(vv fs.view_versions, stage regclass, run bigint, trigger text,
	gate record)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
DECLARE
	results jsonb := gate.results;
	token bigint;
	cols text;
	blocking text[];
BEGIN
	IF trigger = 'push' THEN
		SELECT coalesce(jsonb_agg(r), '[]') INTO results FROM jsonb_array_elements(gate.results) r
		 WHERE NOT (r ->> 'passed')::boolean;
	END IF;
	IF jsonb_array_length(results) > 0 THEN
		PERFORM fs_internal.write('record_results', vv.view_name, vv.version, run, trigger, results);
	END IF;
	-- the rows kept out (all of a blocked batch), at most quarantine_max_rows,
	-- those that failed an expectation first (a blocked batch's cap must not
	-- keep the rows that explain it out of the quarantine)
	token := fs_internal.begin_user_sql(fs_internal.view_owner(vv.view_name), '');
	IF gate.blocked OR EXISTS (SELECT FROM jsonb_array_elements(gate.results) r WHERE r ->> 'action' = 'dropped') THEN
		cols := fs_internal.version_columns(vv);
		EXECUTE format('INSERT INTO %s (fs_run_id, fs_failed_expectations, %s) '
					   'SELECT $1, pg_catalog.array_cat(coalesce(fs_failed_expectations, ''{}''), $2), %2$s FROM %3$s '
					   'WHERE $3 OR fs_dropped '
					   'ORDER BY coalesce(pg_catalog.cardinality(fs_failed_expectations), 0) = 0 LIMIT $4',
					   fs_internal.gate_rel(vv, false), cols, stage)
			USING run, gate.batch_failed, gate.blocked, fs_internal.quarantine_max_rows();
	END IF;
	-- the stage is empty between batches (NULL: the batch was not staged)
	IF stage IS NULL THEN
		NULL;
	ELSIF gate.rows_checked > 10000 THEN
		EXECUTE format('TRUNCATE %s', stage);
	ELSE
		EXECUTE format('DELETE FROM %s', stage);
	END IF;
	PERFORM fs_internal.end_user_sql(token);
	IF gate.blocked THEN
		blocking := ARRAY(SELECT r ->> 'expectation' FROM jsonb_array_elements(gate.results) r
						   WHERE r ->> 'action' = 'blocked' ORDER BY 1);
		PERFORM pg_notify('feature_store_expectations', json_build_object(
			'view', vv.view_name, 'version', vv.version, 'run_id', run, 'trigger', trigger, 'status', 'blocked',
			'rows', gate.rows_checked, 'blocked_by', blocking, 'failed', gate.failed)::text);
		RAISE WARNING 'batch of feature view "%" version % blocked by expectations: %', vv.view_name, vv.version,
			array_to_string(blocking, ', ')
			USING DETAIL = 'Nothing was published: the previous values keep serving.',
				  HINT = 'See fs.expectation_results and the quarantine relation in fs.feature_views.';
	ELSIF cardinality(gate.failed) > 0 THEN
		RAISE NOTICE 'batch of feature view "%" version % failed expectations: %', vv.view_name, vv.version,
			array_to_string(gate.failed, ', ');
	END IF;
END;
$$;
COMMENT ON FUNCTION fs_internal.record_gate(fs.view_versions, regclass, bigint, text, record) IS
	'internal: records a gated batch''s expectation results and quarantined rows, and announces a blocked batch';

------------------------------------------------------------------------------
-- Push: fresh events without waiting for a schedule
------------------------------------------------------------------------------

-- Pushes rows (a JSON array of objects with the version's key, event time
-- and features) through the same pipeline as a materialization: gated by
-- the expectations, written to history and the online store in the caller's
-- transaction with the same rules (identical rows count once, different
-- rows for one key and event time are an error, the newest event time wins
-- online).  Pushes add no row to fs.materialization_runs.
CREATE OR REPLACE FUNCTION fs.push(view text, rows jsonb, INOUT version int DEFAULT NULL,
	OUT rows_read bigint, OUT rows_written bigint, OUT online_rows bigint, OUT status text)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
DECLARE
	vv fs.view_versions;
	run_as regrole;
	r record;
BEGIN
	IF view IS NULL OR rows IS NULL THEN
		RAISE EXCEPTION 'feature view name and rows to push must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF jsonb_typeof(rows) <> 'array' OR EXISTS (SELECT FROM jsonb_array_elements(rows) x WHERE jsonb_typeof(x) <> 'object') THEN
		RAISE EXCEPTION 'rows pushed to feature view "%" must be a JSON array of objects', view
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	vv := fs_internal.view_version(view, push.version);
	run_as := fs_internal.view_owner(vv.view_name);
	IF NOT pg_has_role(run_as, 'USAGE') THEN
		RAISE EXCEPTION 'permission denied to push to feature view "%"', view
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = format('Pushed rows are written as the view''s owner role %s; only its members may push.', run_as);
	END IF;
	BEGIN
		r := fs_internal.run_batch(vv, 'push', fs_internal.push_sql(vv, '$5'), rows, NULL, NULL, NULL, clock_timestamp());
	EXCEPTION WHEN data_exception THEN
		RAISE EXCEPTION 'rows pushed to feature view "%" do not fit its columns: %', view, SQLERRM
			USING ERRCODE = SQLSTATE,
				  HINT = format('Each row is a JSON object with keys %s.',
								(SELECT string_agg(quote_ident(c), ', ')
								   FROM (SELECT vv.key_column AS c UNION ALL SELECT vv.ts_column
										 UNION ALL (SELECT f.name FROM fs.view_features f
													 WHERE f.view_name = vv.view_name AND f.version = vv.version
													 ORDER BY f.position)) x));
	END;
	version := vv.version;
	rows_read := r.rows_read;
	rows_written := r.rows_written;
	online_rows := r.online_rows;
	status := r.status;
END;
$$;
COMMENT ON FUNCTION fs.push(text, jsonb, int) IS
	'pushes rows (a JSON array of objects) to a feature view version (the latest by default): gated by its expectations, written to history and online in this transaction';

-- The query of pushed rows: the JSON parameter as the version's columns.
CREATE OR REPLACE FUNCTION fs_internal.push_sql(vv fs.view_versions, param text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$
	SELECT format('SELECT * FROM pg_catalog.jsonb_to_recordset(%s) AS fs_push(%I %s, %I %s%s)', param,
				  vv.key_column, format_type(vv.key_type, NULL), vv.ts_column, format_type(vv.ts_type, NULL),
				  (SELECT coalesce(string_agg(format(', %I %s', f.name, format_type(f.type, NULL)), '' ORDER BY f.position), '')
					 FROM fs.view_features f WHERE f.view_name = vv.view_name AND f.version = vv.version))
$$;
COMMENT ON FUNCTION fs_internal.push_sql(fs.view_versions, text) IS
	'internal: the query that reads pushed JSON rows as a version''s columns';

-- The push relation of a version: a table a stream processor's sink (JDBC
-- INSERTs, COPY) writes into.  Each statement's rows are pushed as one
-- batch (fs.push, in the writer's transaction) by a statement trigger, and
-- removed: the table stays empty.  Writers must be members of the view's
-- owner role, as for fs.push.
CREATE OR REPLACE FUNCTION fs_internal.pushed_rows() RETURNS trigger
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
DECLARE
	rows jsonb;
BEGIN
	SELECT jsonb_agg(to_jsonb(p)) INTO rows FROM fs_pushed p;
	IF rows IS NOT NULL THEN
		PERFORM fs.push(TG_ARGV[0], rows, TG_ARGV[1]::int);
	END IF;
	EXECUTE format('DELETE FROM %s', TG_RELID::regclass);
	RETURN NULL;
END;
$$;
COMMENT ON FUNCTION fs_internal.pushed_rows() IS
	'internal: pushes the rows a statement wrote into a push relation, then removes them';

CREATE OR REPLACE FUNCTION fs_internal.w_create_push_relation(caller regrole, view text, version int) RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
	vv fs.view_versions;
	owner name;
	rel text;
BEGIN
	PERFORM pg_advisory_xact_lock(hashtext('feature_store'), hashtext('view:' || view));
	vv := fs_internal.view_version(view, version);
	owner := (SELECT v.owner_role FROM fs.views v WHERE v.name = vv.view_name);
	IF NOT pg_has_role(caller, owner, 'USAGE') THEN
		RAISE EXCEPTION 'must be owner of feature view "%" to create its push relation', view
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF vv.push_relid IS NULL THEN
		rel := fs_internal.storage_name(vv.view_name, vv.version, '_push');
		EXECUTE format('CREATE TABLE fs_data.%I (%I %s, %I %s%s)', rel, vv.key_column, format_type(vv.key_type, NULL),
					   vv.ts_column, format_type(vv.ts_type, NULL),
					   coalesce((SELECT string_agg(format(', %I %s', f.name, format_type(f.type, NULL)), '' ORDER BY f.position)
								   FROM fs.view_features f WHERE f.view_name = vv.view_name AND f.version = vv.version), ''));
		EXECUTE format('COMMENT ON TABLE fs_data.%I IS %L', rel,
					   format('feature_store: rows written here are pushed to feature view %s version %s', vv.view_name,
							  vv.version));
		EXECUTE format('CREATE TRIGGER push AFTER INSERT ON fs_data.%I REFERENCING NEW TABLE AS fs_pushed '
					   'FOR EACH STATEMENT EXECUTE FUNCTION fs_internal.pushed_rows(%L, %L)', rel, vv.view_name, vv.version);
		EXECUTE format('GRANT SELECT, INSERT, DELETE ON fs_data.%I TO %I WITH GRANT OPTION', rel, owner);
		UPDATE fs.view_versions x SET push_relid = format('fs_data.%I', rel)::regclass
		 WHERE x.view_name = vv.view_name AND x.version = vv.version;
		RETURN format('fs_data.%I', rel)::regclass::oid;
	END IF;
	RETURN vv.push_relid::oid;
END;
$$;
REVOKE ALL ON FUNCTION fs_internal.w_create_push_relation(regrole, text, int) FROM PUBLIC;
COMMENT ON FUNCTION fs_internal.w_create_push_relation(regrole, text, int) IS
	'internal catalog operation: creates the push relation of a feature view version';

CREATE OR REPLACE FUNCTION fs.push_relation(view text, version int DEFAULT NULL) RETURNS regclass
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog
AS $$
BEGIN
	IF view IS NULL THEN
		RAISE EXCEPTION 'feature view name must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	RETURN fs_internal.write('create_push_relation', view, version)::oid::regclass;
END;
$$;
COMMENT ON FUNCTION fs.push_relation(text, int) IS
	'the relation (created on first call) whose INSERTs and COPYs push rows to a feature view version, the latest by default';
