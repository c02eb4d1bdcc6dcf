-- Expectations: definitions, the gate on manual materialization (block,
-- drop, warn), results, quarantine, blocked runs in freshness and metrics.
\set SHOW_CONTEXT never
\set VERBOSITY default
SET client_min_messages = notice;
CREATE ROLE regress_ex_owner;
CREATE ROLE regress_ex_analyst;
CREATE TABLE ex_orders (cust int, at timestamptz, amount float8, channel text, email text);
ALTER TABLE ex_orders OWNER TO regress_ex_owner;
INSERT INTO ex_orders VALUES
	(1, '2024-01-01', 10, 'web', 'a@x.org'), (1, '2024-01-02', 12, 'store', 'a@x.org'),
	(2, '2024-01-01', 7, 'web', 'b@x.org'), (3, '2024-01-01', 5, 'store', 'c@x.org');

SET ROLE regress_ex_owner;
SELECT fs.create_entity('ex_cust', 'int');
SELECT fs.register_feature_view('ex_spend', 'ex_cust', 'ex_orders', 'cust', 'at');

-- row conditions (no aggregate) and batch conditions (an aggregate)
SELECT fs.add_expectation('ex_spend', 'amount_positive', 'amount >= 0', 'drop');
SELECT fs.add_expectation('ex_spend', 'channel_known', $$channel IN ('web', 'store')$$, 'warn');
SELECT fs.add_expectation('ex_spend', 'email_like', $$email ~ '^[^@]+@'$$, 'warn');
SELECT fs.add_expectation('ex_spend', 'amount_present', 'amount IS NOT NULL', 'drop');
SELECT fs.add_expectation('ex_spend', 'row_count', 'count(*) BETWEEN 1 AND 1e6');
SELECT fs.add_expectation('ex_spend', 'few_missing', 'avg((amount IS NULL)::int) <= 0.5', 'block');
SELECT fs.add_expectation('ex_spend', 'fresh', $$max(at) >= timestamptz '2024-01-01' - interval '2 days'$$, 'warn');
-- idempotent: the same definition again changes nothing; a new severity is kept
SELECT fs.add_expectation('ex_spend', 'row_count', 'count(*) BETWEEN 1 AND 1e6');
SELECT fs.add_expectation('ex_spend', 'fresh', $$max(at) >= timestamptz '2024-01-01' - interval '2 days'$$, 'block');
SELECT name, condition, severity, kind, observed_expression FROM fs.expectations WHERE view = 'ex_spend' ORDER BY name;

-- bad definitions are refused, naming the view and the expectation
SELECT fs.add_expectation('ex_spend', 'bad_column', 'amout >= 0');
SELECT fs.add_expectation('ex_spend', 'not_boolean', 'amount + 1');
SELECT fs.add_expectation('ex_spend', 'not_boolean_batch', 'sum(amount)');
SELECT fs.add_expectation('ex_spend', 'bad_syntax', 'amount >= ');
SELECT fs.add_expectation('ex_spend', 'breakout', 'true) AS x FROM ex_orders; SELECT (true');
SELECT fs.add_expectation('ex_spend', 'breakout2', '1 = 1) OR (true');
SELECT fs.add_expectation('ex_spend', 'bad_severity', 'amount >= 0', 'fail');
SELECT fs.add_expectation('ex_spend', 'batch_drop', 'count(*) > 0', 'drop');
SELECT fs.add_expectation('ex_spend', 'amount_positive', 'amount > 0', 'drop');
SELECT fs.add_expectation('ex_spend', 'windowed', 'row_number() OVER () > 0');
SELECT fs.add_expectation('ex_nope', 'x', 'true');
SELECT fs.add_expectation('ex_spend', NULL, 'true');
SELECT fs.drop_expectation('ex_spend', 'nope');
SELECT count(*) AS expectations FROM fs.expectations WHERE view = 'ex_spend';
RESET ROLE;

-- only the owner's members define them, and conditions run as the owner
SET ROLE regress_ex_analyst;
SELECT fs.add_expectation('ex_spend', 'mine', 'amount >= 0');
SELECT fs.drop_expectation('ex_spend', 'row_count');
RESET ROLE;

-- a clean batch: everything passes and is published; one result per
-- expectation and run, with the observed value of batch conditions
SET ROLE regress_ex_owner;
SELECT * FROM fs.materialize('ex_spend', full => true);
SELECT r.expectation, r.kind, r.rows_checked, r.rows_failing, r.observed, r.passed, r.action, r.trigger
  FROM fs.expectation_results r JOIN fs.materialization_runs m USING (run_id)
 WHERE r.view_name = 'ex_spend' AND m.status = 'succeeded' ORDER BY r.expectation;

-- warn and drop: a row with an unknown channel is published and recorded;
-- a negative and a missing amount are kept out and quarantined
RESET ROLE;
INSERT INTO ex_orders VALUES (4, '2024-01-03', 3, 'fax', 'd@x.org'), (5, '2024-01-03', -2, 'web', 'e@x.org'),
	(6, '2024-01-03', NULL, 'web', 'no-at-sign');
SET ROLE regress_ex_owner;
SELECT * FROM fs.materialize('ex_spend', full => true);
SELECT cust, amount, channel FROM fs_data.ex_spend_v1_online WHERE cust >= 4 ORDER BY cust;
SELECT expectation, rows_checked, rows_failing, passed, action FROM fs.expectation_results
 WHERE run_id = (SELECT max(run_id) FROM fs.materialization_runs WHERE view_name = 'ex_spend') AND NOT passed
 ORDER BY expectation;
SELECT q.fs_run_id = (SELECT max(run_id) FROM fs.materialization_runs) AS this_run, q.fs_failed_expectations,
	   q.cust, q.amount, q.channel, q.email
  FROM fs_data.ex_spend_v1_quarantine q ORDER BY q.cust;
SELECT quarantine_relation FROM fs.feature_views WHERE name = 'ex_spend';

-- block: a batch condition fails (too many missing amounts): nothing is
-- published, the previous values keep serving, the run is blocked, and the
-- whole batch is quarantined with the failed expectations' names
RESET ROLE;
UPDATE ex_orders SET amount = NULL WHERE cust IN (1, 2, 3);
INSERT INTO ex_orders VALUES (7, '2024-01-04', 1, 'web', 'g@x.org');
SET ROLE regress_ex_owner;
SELECT * FROM fs.materialize('ex_spend', full => true);
SELECT cust, amount FROM fs_data.ex_spend_v1_online ORDER BY cust;
SELECT count(*) AS history_rows FROM fs_data.ex_spend_v1;
SELECT status, rows_read, rows_written, online_rows FROM fs.materialization_runs
 WHERE view_name = 'ex_spend' ORDER BY run_id DESC LIMIT 1;
SELECT expectation, severity, kind, rows_checked, rows_failing, observed, passed, action FROM fs.expectation_results
 WHERE run_id = (SELECT max(run_id) FROM fs.materialization_runs WHERE view_name = 'ex_spend') ORDER BY expectation;
SELECT fs_failed_expectations, count(*) FROM fs_data.ex_spend_v1_quarantine
 WHERE fs_run_id = (SELECT max(run_id) FROM fs.materialization_runs) GROUP BY 1 ORDER BY 1;
SELECT view, version, blocked, last_blocked_at IS NOT NULL AS has_blocked FROM fs.feature_freshness WHERE view = 'ex_spend';
SELECT l FROM unnest(string_to_array(fs.metrics(), E'\n')) l
 WHERE l LIKE '%blocked%' AND l LIKE '%ex_spend%' ORDER BY l;

-- the quarantine is capped by feature_store.quarantine_max_rows
SET feature_store.quarantine_max_rows = 2;
SELECT status FROM fs.materialize('ex_spend', full => true);
SELECT count(*) AS capped FROM fs_data.ex_spend_v1_quarantine
 WHERE fs_run_id = (SELECT max(run_id) FROM fs.materialization_runs);
-- (the rows that failed something are kept first)
SET feature_store.quarantine_max_rows = 1;
SELECT status FROM fs.materialize('ex_spend', full => true);
SELECT fs_failed_expectations FROM fs_data.ex_spend_v1_quarantine
 WHERE fs_run_id = (SELECT max(run_id) FROM fs.materialization_runs);
RESET feature_store.quarantine_max_rows;

-- the block lifted: the batch is published
SELECT fs.drop_expectation('ex_spend', 'few_missing');
SELECT status, rows_written FROM fs.materialize('ex_spend', full => true);
SELECT view, blocked FROM fs.feature_freshness WHERE view = 'ex_spend';
SELECT fs_failed_expectations, count(*) FROM fs_data.ex_spend_v1_quarantine
 WHERE fs_run_id = (SELECT max(run_id) FROM fs.materialization_runs) GROUP BY 1 ORDER BY 1;
SELECT count(*) AS stage_rows FROM fs_data.ex_spend_v1_stage;
RESET ROLE;

-- the quarantine reads like the view's storage: its owner may grant reads
SET ROLE regress_ex_analyst;
SELECT count(*) FROM fs_data.ex_spend_v1_quarantine;
RESET ROLE;
SET ROLE regress_ex_owner;
GRANT SELECT ON fs_data.ex_spend_v1_quarantine TO regress_ex_analyst;
RESET ROLE;
SET ROLE regress_ex_analyst;
SELECT count(*) > 0 AS granted FROM fs_data.ex_spend_v1_quarantine;
RESET ROLE;

-- expectations apply to the versions whose columns they fit: version 2 has
-- no email column, so email_like is not evaluated for it
SET ROLE regress_ex_owner;
SELECT fs.register_feature_view('ex_spend', 'ex_cust',
	'SELECT cust, at, amount, channel FROM ex_orders WHERE amount IS NOT NULL', 'cust', 'at');
SELECT version, status FROM fs.materialize('ex_spend', full => true);
SELECT expectation FROM fs.expectation_results
 WHERE run_id = (SELECT max(run_id) FROM fs.materialization_runs WHERE view_name = 'ex_spend') ORDER BY 1;
-- and a given version is materialized on request
SELECT version, status FROM fs.materialize('ex_spend', version => 1, full => true);
SELECT quarantine_relation IS NOT NULL AS has_quarantine FROM fs.feature_views WHERE name = 'ex_spend' ORDER BY version;

-- a drift bound as a one-liner: the batch's drift from the profile of a
-- reference window of history
SELECT fs.add_drift_expectation('ex_spend', 'amount', tstzrange('2024-01-01', '2024-01-10'), threshold => 5);
SELECT name, kind, severity, observed_expression LIKE 'fs.drift_value(%' AS observes_drift FROM fs.expectations
 WHERE view = 'ex_spend' AND name = 'amount_psi';
SELECT status FROM fs.materialize('ex_spend', full => true);
SELECT passed, observed::float8 >= 0 AS observed_a_score FROM fs.expectation_results
 WHERE expectation = 'amount_psi' ORDER BY result_id DESC LIMIT 1;
-- a shifted batch breaks a tight bound (here a warning: published, recorded)
SELECT fs.add_drift_expectation('ex_spend', 'amount', tstzrange('2024-01-01', '2024-01-10'), 'wasserstein_norm', 0.5,
	'warn', 'amount_shift');
RESET ROLE;
INSERT INTO ex_orders SELECT 100 + g, '2024-01-05', 1000 + g, 'web', 'z@x.org' FROM generate_series(1, 20) g;
SET ROLE regress_ex_owner;
SELECT status, rows_written FROM fs.materialize('ex_spend', full => true);
SELECT expectation, passed, action, observed::float8 > 0.5 AS beyond_bound FROM fs.expectation_results
 WHERE run_id = (SELECT max(run_id) FROM fs.materialization_runs WHERE view_name = 'ex_spend')
   AND expectation = 'amount_shift';
SELECT fs.add_drift_expectation('ex_spend', 'amount', tstzrange('2024-01-01', '2024-01-10'), metric => 'nope');
SELECT fs.add_drift_expectation('ex_spend', 'amount', tstzrange('2030-01-01', '2030-01-10'), name => 'empty_ref');
SELECT fs.add_drift_expectation('ex_spend', 'nope', tstzrange('2024-01-01', '2024-01-10'));

-- dropping the view drops its expectations and gate tables
SELECT fs.drop_feature_view('ex_spend');
SELECT count(*) FROM fs.view_expectations WHERE view_name = 'ex_spend';
SELECT count(*) FROM pg_class WHERE relnamespace = 'fs_data'::regnamespace AND relname LIKE 'ex\_spend%';
RESET ROLE;
DROP TABLE ex_orders;
SELECT fs.drop_entity('ex_cust');
DROP ROLE regress_ex_owner;
DROP ROLE regress_ex_analyst;
