
------------------------------------------------------------------------------
-- Expectations: quality gates on every batch (src/sql/expectations.sql)
------------------------------------------------------------------------------

-- An expectation of a feature view: a boolean SQL condition over its
-- source's columns, checked on every row (a row condition) or, when it
-- aggregates, once per batch (a batch condition).
CREATE TABLE fs.view_expectations (
	view_name text NOT NULL REFERENCES fs.views (name) ON DELETE CASCADE,
	name text NOT NULL,
	condition text NOT NULL,
	severity text NOT NULL CHECK (severity IN ('block', 'drop', 'warn')),
	kind text NOT NULL CHECK (kind IN ('row', 'batch')),
	subject text,				-- a batch condition's measured expression, recorded as its observed value
	created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	created_by name NOT NULL DEFAULT current_user,
	PRIMARY KEY (view_name, name),
	CHECK (kind = 'row' OR severity <> 'drop')
);
COMMENT ON TABLE fs.view_expectations IS
	'expectations of feature views: a condition, its severity (block, drop, warn) and kind (row or batch); read fs.expectations';

-- Every evaluation of an expectation: one row per expectation and
-- materialization run (run_id), or per push that failed it (run_id NULL).
CREATE TABLE fs.expectation_results (
	result_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	run_id bigint,
	view_name text NOT NULL,
	version int NOT NULL,
	expectation text NOT NULL,
	severity text NOT NULL,
	kind text NOT NULL,
	trigger text NOT NULL,		-- manual, worker or push
	rows_checked bigint NOT NULL,
	rows_failing bigint,		-- row conditions: rows where it is not true
	observed text,				-- batch conditions: the value of its measured expression
	passed boolean NOT NULL,
	action text,				-- for a failure: blocked, dropped or warned
	evaluated_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE INDEX ON fs.expectation_results (view_name, version, evaluated_at);
CREATE INDEX ON fs.expectation_results (run_id);
COMMENT ON TABLE fs.expectation_results IS
	'results of expectations per run: rows checked and failing, observed value, passed, and what was done';

SELECT pg_catalog.pg_extension_config_dump('fs.view_expectations', '');
SELECT pg_catalog.pg_extension_config_dump('fs.expectation_results', '');

GRANT SELECT ON fs.view_expectations, fs.expectation_results TO PUBLIC;
ALTER TABLE fs.view_expectations ENABLE ROW LEVEL SECURITY;
ALTER TABLE fs.expectation_results ENABLE ROW LEVEL SECURITY;
CREATE POLICY read_all ON fs.view_expectations FOR SELECT USING (true);
CREATE POLICY read_all ON fs.expectation_results FOR SELECT USING (true);
