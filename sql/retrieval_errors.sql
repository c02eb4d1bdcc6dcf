--
-- retrieval_errors: what fs.historical_features refuses, and how it says so.
--
SET client_min_messages = warning;
SET timezone = 'UTC';
CREATE SCHEMA retrieval_err;
SELECT fs.create_entity('retrieval_err_user', 'int8');
CREATE TABLE retrieval_err.clicks (user_id int8, ts timestamptz, clicks int);
INSERT INTO retrieval_err.clicks VALUES (1, '2024-01-01', 3);
SELECT fs.register_feature_view('retrieval_err_clicks', 'retrieval_err_user', 'retrieval_err.clicks', 'user_id', 'ts');
SELECT version FROM fs.materialize('retrieval_err_clicks', full => true);
CREATE TABLE retrieval_err.spine (user_id int8, ts timestamptz, uid_text text, uid_int int4, n int,
								  "retrieval_err_clicks__clicks" int);
\set VERBOSITY terse

-- Bad references: syntax, unknown view, version, feature; none at all.
SELECT fs.historical_features('retrieval_err.spine', '{"retrieval_err_clicks:"}', 'user_id', 'ts');
SELECT fs.historical_features('retrieval_err.spine', '{nosuch_view:clicks}', 'user_id', 'ts');
SELECT fs.historical_features('retrieval_err.spine', '{retrieval_err_clicks@7:clicks}', 'user_id', 'ts');
SELECT fs.historical_features('retrieval_err.spine', '{retrieval_err_clicks:nosuch}', 'user_id', 'ts');
SELECT fs.historical_features('retrieval_err.spine', '{}', 'user_id', 'ts');
SELECT fs.historical_features('retrieval_err.spine', NULL, 'user_id', 'ts');

-- The spine: missing relation, missing columns, wrong types, bad query.
SELECT fs.historical_features('retrieval_err.nosuch', '{retrieval_err_clicks:clicks}', 'user_id', 'ts');
SELECT fs.historical_features('"retrieval_err"."No Such"', '{retrieval_err_clicks:clicks}', 'user_id', 'ts');
SELECT fs.historical_features('no such table', '{retrieval_err_clicks:clicks}', 'user_id', 'ts');
SELECT fs.historical_features('SELECT ts FROM retrieval_err.spine', '{retrieval_err_clicks:clicks}', 'user_id', 'ts');
SELECT fs.historical_features('retrieval_err.spine', '{retrieval_err_clicks:clicks}', 'user_id', 'event_ts');
SELECT fs.historical_features('retrieval_err.spine', '{retrieval_err_clicks:clicks}', 'uid_text', 'ts');
SELECT fs.historical_features('retrieval_err.spine', '{retrieval_err_clicks:clicks}', 'user_id', 'n');
SELECT fs.historical_features('SELECT user_id, ts FROM retrieval_err.spine WHERE', '{retrieval_err_clicks:clicks}', 'user_id', 'ts');
-- One statement only: nothing rides along (the table survives).
SELECT fs.historical_features('SELECT user_id, ts FROM retrieval_err.spine; DROP TABLE retrieval_err.spine',
							  '{retrieval_err_clicks:clicks}', 'user_id', 'ts');
SELECT fs.historical_features('SELECT user_id, ts FROM retrieval_err.spine) AS s; DROP TABLE retrieval_err.spine; SELECT (1',
							  '{retrieval_err_clicks:clicks}', 'user_id', 'ts');
SELECT count(*) FROM retrieval_err.spine;
SELECT fs.historical_features('', '{retrieval_err_clicks:clicks}', 'user_id', 'ts');
SELECT fs.historical_features('retrieval_err.spine', '{retrieval_err_clicks:clicks}', NULL, 'ts');
SELECT fs.historical_features('retrieval_err.spine', '{retrieval_err_clicks:clicks}', 'user_id', 'ts', strict => NULL);

-- Output names: a spine column, or the same feature of one version twice,
-- taking a feature's name (two versions of a feature are named apart:
-- view__feature and view_v2__feature).
SELECT fs.historical_features('retrieval_err.spine', '{retrieval_err_clicks:clicks}', 'user_id', 'ts');
SELECT fs.register_feature_view('retrieval_err_clicks', 'retrieval_err_user',
								 'SELECT user_id, ts, clicks, clicks * 2 AS double_clicks FROM retrieval_err.clicks',
								 'user_id', 'ts');
-- (unpinned references serve version 1 until version 2 has been materialized)
SELECT fs.historical_features('SELECT user_id, ts FROM retrieval_err.spine',
							  '{retrieval_err_clicks@1:clicks, retrieval_err_clicks:*}', 'user_id', 'ts');

-- Accepted: an int4 spine key (implicitly cast to the int8 entity key), and
-- identifiers that need quoting are quoted.
SELECT fs.historical_features('SELECT uid_int AS "User Id", ts AS "when;" FROM retrieval_err.spine',
							  '{retrieval_err_clicks@1:clicks}', 'User Id', 'when;');
-- ... and runs: user 1 on 01-02 sees the click count of 01-01.
INSERT INTO retrieval_err.spine VALUES (1, '2024-01-02', '1', 1, 0, NULL);
SELECT fs.historical_features('SELECT uid_int AS "User Id", ts AS "when;" FROM retrieval_err.spine',
							  '{retrieval_err_clicks@1:clicks}', 'User Id', 'when;') \gexec

-- Privileges are the caller's: without SELECT on the view's storage the SQL
-- is refused when it is generated; with it, it works.
CREATE ROLE regress_retrieval_reader;
GRANT USAGE ON SCHEMA retrieval_err TO regress_retrieval_reader;
GRANT SELECT ON retrieval_err.spine TO regress_retrieval_reader;
SET ROLE regress_retrieval_reader;
SELECT fs.historical_features('SELECT user_id, ts FROM retrieval_err.spine',
							  '{retrieval_err_clicks@1:clicks}', 'user_id', 'ts');
RESET ROLE;
GRANT SELECT ON fs_data.retrieval_err_clicks_v1 TO regress_retrieval_reader;
SET ROLE regress_retrieval_reader;
SELECT fs.historical_features('SELECT user_id, ts FROM retrieval_err.spine',
							  '{retrieval_err_clicks@1:clicks}', 'user_id', 'ts') \gexec
RESET ROLE;
REVOKE ALL ON fs_data.retrieval_err_clicks_v1 FROM regress_retrieval_reader;

DROP SCHEMA retrieval_err CASCADE;
SELECT fs.drop_entity('retrieval_err_user', cascade => true);
DROP ROLE regress_retrieval_reader;
