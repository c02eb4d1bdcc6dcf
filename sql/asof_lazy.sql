-- Merge over an index that lacks the feature columns: the walk reads index
-- tuples on all-visible pages and fetches the heap row only for a match.
-- Its answers equal LATERAL's, on all-visible pages, on pages changed since
-- the last VACUUM (read through the heap), with by-reference and NULL
-- columns, spine rows sharing a match, LEFT joins without one, in parallel,
-- and under SERIALIZABLE.
CREATE TABLE lz_f (k int, ts int, a text, b float8, c int);
INSERT INTO lz_f SELECT g % 211, (g * 7919) % 100003, CASE WHEN g % 17 = 0 THEN NULL ELSE repeat('x', g % 50) || g END,
	   g / 3.0, g
  FROM generate_series(1, 40000) g;
CREATE INDEX lz_f_k_ts ON lz_f (k, ts);
VACUUM ANALYZE lz_f;
-- pages changed after VACUUM are not all-visible: their rows come from the heap
UPDATE lz_f SET a = 'updated ' || c WHERE c % 1000 = 0;
INSERT INTO lz_f SELECT g % 211, (g * 104729) % 100003, 'late ' || g, NULL, -g FROM generate_series(1, 500) g;
CREATE TABLE lz_s (id int, k int, ts int);
INSERT INTO lz_s SELECT g, (g * 31) % 220, (g::int8 * 15485863 % 100003)::int FROM generate_series(1, 20000) g;
-- runs of spine rows with one match
INSERT INTO lz_s SELECT 20000 + g, 7, 50000 + g % 3 FROM generate_series(1, 30) g;
INSERT INTO lz_s VALUES (30001, NULL, 5), (30002, 5, NULL);
ANALYZE lz_s;
SELECT (SELECT count(*) FROM lz_f) AS feature_rows,
	   pg_relation_size('lz_f') / current_setting('block_size')::int > (SELECT relallvisible FROM pg_class WHERE oid = 'lz_f'::regclass) AS some_pages_not_all_visible,
	   (SELECT relallvisible FROM pg_class WHERE oid = 'lz_f'::regclass) > 0 AS some_all_visible;

CREATE TABLE lz_lateral AS
SELECT s.id, f.ts AS fts, f.a, f.b, f.c FROM lz_s s LEFT JOIN LATERAL
  (SELECT * FROM lz_f f WHERE f.k = s.k AND f.ts <= s.ts ORDER BY f.ts DESC LIMIT 1) f ON true;
SELECT count(*) AS rows, count(fts) AS matched, count(a) AS with_text FROM lz_lateral;

SET feature_store.asof_strategy = merge_over_index;
EXPLAIN (COSTS OFF)
SELECT s.id, f.ts, f.a, f.b, f.c FROM lz_s s LEFT JOIN lz_f f ON f.k = s.k AND s.ts @>= f.ts;
CREATE TABLE lz_merge AS
SELECT s.id, f.ts AS fts, f.a, f.b, f.c FROM lz_s s LEFT JOIN lz_f f ON f.k = s.k AND s.ts @>= f.ts;
SELECT count(*) AS differing FROM ((TABLE lz_merge EXCEPT ALL TABLE lz_lateral)
  UNION ALL (TABLE lz_lateral EXCEPT ALL TABLE lz_merge)) d;

-- EXPLAIN ANALYZE counts the feature rows read from the heap: a match each
-- (a run of spine rows with one match reads it once) and the rows of pages
-- changed since VACUUM, not every row the walk passes
CREATE FUNCTION lz_heap_fetches(q text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	plan json;
BEGIN
	EXECUTE 'EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) ' || q INTO plan;
	RETURN (plan -> 0 -> 'Plan' ->> 'Heap Fetches')::bigint;
END $$;
SELECT lz_heap_fetches('SELECT s.id, f.a FROM lz_s s LEFT JOIN lz_f f ON f.k = s.k AND s.ts @>= f.ts WHERE s.id <= 2000')
	< (SELECT count(*) FROM lz_f) / 4 AS fewer_than_a_quarter_of_the_rows;
SELECT lz_heap_fetches('SELECT s.id, f.a FROM lz_s s LEFT JOIN lz_f f ON f.k = s.k AND s.ts @>= f.ts WHERE s.id > 20000 AND s.id <= 20030')
	- lz_heap_fetches('SELECT s.id, f.a FROM lz_s s LEFT JOIN lz_f f ON f.k = s.k AND s.ts @>= f.ts WHERE s.id = 20003')
	<= 2 AS a_run_reads_its_matches_once;
-- a condition on feature columns the index has reads the index too
SELECT lz_heap_fetches('SELECT s.id, f.a FROM lz_s s LEFT JOIN lz_f f ON f.k = s.k AND s.ts @>= f.ts AND f.ts % 2 = 0 WHERE s.id <= 2000')
	< (SELECT count(*) FROM lz_f) / 4 AS index_condition_fewer_than_a_quarter;
CREATE TABLE lz_even_merge AS
SELECT s.id, f.ts AS fts, f.a, f.c FROM lz_s s LEFT JOIN lz_f f ON f.k = s.k AND s.ts @>= f.ts AND f.ts % 2 = 0;
RESET feature_store.asof_strategy;
CREATE TABLE lz_even_lateral AS
SELECT s.id, f.ts AS fts, f.a, f.c FROM lz_s s LEFT JOIN LATERAL
  (SELECT * FROM lz_f f WHERE f.k = s.k AND f.ts <= s.ts AND f.ts % 2 = 0 ORDER BY f.ts DESC LIMIT 1) f ON true;
SELECT count(*) AS rows, count(fts) AS matched, count(*) FILTER (WHERE fts % 2 <> 0) AS odd FROM lz_even_lateral;
SELECT count(*) AS differing FROM ((TABLE lz_even_merge EXCEPT ALL TABLE lz_even_lateral)
  UNION ALL (TABLE lz_even_lateral EXCEPT ALL TABLE lz_even_merge)) d;
SET feature_store.asof_strategy = merge_over_index;
-- a condition on the feature rows needs every row walked: read from the heap
SELECT lz_heap_fetches('SELECT s.id, f.a FROM lz_s s LEFT JOIN lz_f f ON f.k = s.k AND s.ts @>= f.ts AND f.b >= 0 WHERE s.id <= 2000')
	>= (SELECT count(*) FROM lz_f WHERE k IN (SELECT k FROM lz_s WHERE id <= 2000)) AS every_row_walked;

-- inner join, strict operator
SELECT count(*), sum(f.c), sum(length(f.a)) FROM lz_s s JOIN lz_f f ON f.k = s.k AND s.ts @> f.ts;
RESET feature_store.asof_strategy;
SELECT count(*), sum(f.c), sum(length(f.a)) FROM lz_s s JOIN LATERAL
  (SELECT * FROM lz_f f WHERE f.k = s.k AND f.ts < s.ts ORDER BY f.ts DESC LIMIT 1) f ON true;

-- in parallel, key ranges shared between processes
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET feature_store.asof_strategy = merge_over_index;
EXPLAIN (COSTS OFF)
SELECT count(*), sum(f.c), sum(length(f.a)) FROM lz_s s LEFT JOIN lz_f f ON f.k = s.k AND s.ts @>= f.ts;
SELECT count(*), sum(f.c), sum(length(f.a)) FROM lz_s s LEFT JOIN lz_f f ON f.k = s.k AND s.ts @>= f.ts;
SELECT count(*), sum(fts::int8 * 0 + c), sum(length(a)) FROM lz_lateral;
RESET max_parallel_workers_per_gather;
RESET min_parallel_table_scan_size;
RESET parallel_tuple_cost;
RESET parallel_setup_cost;

-- serializable: the rows the walk read are locked as an index-only scan
-- locks them, and the matches through the heap
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT count(*), sum(f.c) FROM lz_s s LEFT JOIN lz_f f ON f.k = s.k AND s.ts @>= f.ts WHERE s.id <= 100;
SELECT count(*) > 0 AS predicate_locks FROM pg_locks WHERE mode = 'SIReadLock' AND relation = 'lz_f'::regclass;
COMMIT;
RESET feature_store.asof_strategy;
SELECT count(*), sum(c) FROM lz_lateral WHERE id <= 100;

DROP FUNCTION lz_heap_fetches(text);
DROP TABLE lz_f, lz_s, lz_lateral, lz_merge, lz_even_merge, lz_even_lateral;
