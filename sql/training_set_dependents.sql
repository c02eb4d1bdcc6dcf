-- A feature view version that a training set was built from is not dropped
-- unless cascaded; cascading drops those training set versions too.
\set SHOW_CONTEXT never
CREATE TABLE tsd_txn (k bigint, at timestamptz, amount float8);
INSERT INTO tsd_txn VALUES (1, '2024-01-01', 5), (2, '2024-01-02', 7);
CREATE TABLE tsd_labels (k bigint, at timestamptz, y boolean);
INSERT INTO tsd_labels VALUES (1, '2024-01-10', true), (2, '2024-01-10', false);
SELECT fs.create_entity('tsd_key', 'bigint');
SELECT fs.register_feature_view('tsd_spend', 'tsd_key', 'tsd_txn', 'k', 'at');
SELECT rows_written FROM fs.materialize('tsd_spend', full => true);
SELECT fs.create_training_set('tsd_set', 'tsd_labels', '{tsd_spend:amount}', 'k', 'at');
SELECT fs.drop_feature_view('tsd_spend', 1);
SELECT count(*) AS versions_left FROM fs.training_sets WHERE name = 'tsd_set';
SELECT fs.drop_feature_view('tsd_spend', 1, cascade => true);
SELECT count(*) AS versions_left FROM fs.training_sets WHERE name = 'tsd_set';
SELECT count(*) AS view_versions_left FROM fs.view_versions WHERE view_name = 'tsd_spend';
SELECT fs.drop_feature_view('tsd_spend');
SELECT fs.drop_entity('tsd_key');
DROP TABLE tsd_txn, tsd_labels;
