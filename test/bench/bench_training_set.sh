#!/usr/bin/env bash
# Training sets: fs.create_training_set against CREATE TABLE AS of the same
# retrieval, their sizes, COPY (binary and csv) of the set against COPY of
# that heap table, and the zstd level sweep (1, 3, 9).
#
# Data like the demo's (test/data/demo_data.sql), scaled: TS_BENCH_ROWS spine
# rows (default 1M; 5M is the issue's scale) = customers x 50 hourly label
# times, and 10 features from three views (3 float8 amounts with cents, 3
# int counts and ages, 2 text categories, 2 bools): a static customer profile,
# daily activity (TTL 7 days) and weekly activity.  Prints the best of
# TS_BENCH_ROUNDS interleaved rounds and the ratios from this one run.
set -euo pipefail
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
ROWS=${TS_BENCH_ROWS:-1000000}
ROUNDS=${TS_BENCH_ROUNDS:-3}
CUSTOMERS=$((ROWS / 50))
LEVELS=${TS_BENCH_LEVELS:-"1 3 9"}

now_ms() { date +%s%3N; }

t0=$(now_ms)
psql -Xq -v ON_ERROR_STOP=1 -v customers="$CUSTOMERS" <<'SQL'
CREATE EXTENSION IF NOT EXISTS feature_store;
SELECT setseed(0.42);
DROP TABLE IF EXISTS tsb_customers, tsb_daily, tsb_weekly, tsb_labels CASCADE;
SELECT date_trunc('day', now()) - interval '90 days' AS base \gset

CREATE TABLE tsb_customers AS
SELECT id::bigint AS customer_id,
       (timestamptz :'base' - floor(random() * 720) * interval '1 day') AS signup,
       (ARRAY['NZ', 'AU', 'US', 'GB', 'DE', 'FR'])[1 + floor(random() * 6)::int] AS country,
       (ARRAY['consumer', 'consumer', 'consumer', 'smb', 'enterprise'])[1 + floor(random() * 5)::int] AS segment,
       18 + floor(random() * 60)::int AS age,
       random() < 0.15 AS premium,
       0.3 + random() * 0.6 AS activity
  FROM generate_series(1, :customers) AS id;

-- daily card activity: amounts in cents, as sums of demo-like transactions
CREATE TABLE tsb_daily AS
SELECT c.customer_id, timestamptz :'base' + d * interval '1 day' AS day,
       round((exp(2.5 + random() * 2.2) * (1 + floor(random() * 4)))::numeric, 2)::float8 AS spend_1d,
       1 + floor(random() * 4)::int AS txns_1d,
       round(exp(2.5 + random() * 2.2)::numeric, 2)::float8 AS max_txn_1d,
       random() < 0.3 AS online_1d
  FROM tsb_customers c CROSS JOIN generate_series(0, 89) AS d
 WHERE random() < c.activity;

CREATE TABLE tsb_weekly AS
SELECT customer_id, date_trunc('week', day) AS week, round(sum(spend_1d)::numeric, 2)::float8 AS spend_7d,
       sum(txns_1d)::int AS txns_7d
  FROM tsb_daily GROUP BY 1, 2;

-- 50 labels per customer at whole hours of the last 60 days
CREATE TABLE tsb_labels AS
SELECT c.customer_id,
       timestamptz :'base' + interval '30 days' + floor(random() * 60 * 24) * interval '1 hour' AS label_ts,
       random() < 0.2 AS churned
  FROM tsb_customers c CROSS JOIN generate_series(1, 50);

SELECT fs.create_entity('tsb_customer', 'bigint');
SELECT fs.register_feature_view('tsb_profile', 'tsb_customer',
	'SELECT customer_id, signup, country, segment, age, premium FROM tsb_customers', 'customer_id', 'signup');
SELECT fs.register_feature_view('tsb_daily', 'tsb_customer', 'tsb_daily', 'customer_id', 'day', ttl => '7 days');
SELECT fs.register_feature_view('tsb_weekly', 'tsb_customer', 'tsb_weekly', 'customer_id', 'week', ttl => '14 days');
SELECT rows_written FROM fs.materialize('tsb_profile');
SELECT rows_written FROM fs.materialize('tsb_daily');
SELECT rows_written FROM fs.materialize('tsb_weekly');
VACUUM ANALYZE tsb_labels;
SELECT format('VACUUM ANALYZE %s', history_relation) FROM fs.feature_views WHERE name LIKE 'tsb\_%' \gexec
SQL
gen_ms=$(($(now_ms) - t0))

FEATURES="ARRAY['tsb_profile:*', 'tsb_daily:*', 'tsb_weekly:*']"
SQLTEXT=$(psql -XAt -c "SELECT fs.historical_features('tsb_labels', $FEATURES, 'customer_id', 'label_ts')")
CREATE_SET="SELECT fs.create_training_set('tsb', 'tsb_labels', $FEATURES, 'customer_id', 'label_ts'"

# Runs SQL statements (one per line of stdin) in one session and prints, per
# statement, its wall time and the backend's CPU time (user + system, from
# /proc) in ms.  On a shared machine the CPU time is the steadier measure; a
# parallel plan's workers are not in it.
measure() {
	local pid line wall before after stmt tck
	tck=$(getconf CLK_TCK)
	coproc MEASURE_PSQL { psql -XAtq -o /dev/null 2>&1; }
	echo 'SELECT pg_backend_pid() AS measure_pid \gset' >&"${MEASURE_PSQL[1]}"
	echo '\echo :measure_pid' >&"${MEASURE_PSQL[1]}"
	read -r pid <&"${MEASURE_PSQL[0]}"
	echo '\timing on' >&"${MEASURE_PSQL[1]}"
	while IFS= read -r stmt; do
		before=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
		printf '%s\n\\echo measure-done\n' "$stmt" >&"${MEASURE_PSQL[1]}"
		wall=""
		while read -r line <&"${MEASURE_PSQL[0]}"; do
			[[ $line == measure-done ]] && break
			[[ $line =~ ^Time:\ ([0-9.]+) ]] && wall=${BASH_REMATCH[1]}
			[[ $line =~ ERROR ]] && echo "$line" >&2
		done
		after=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
		echo "${wall:-nan} $(((after - before) * 1000 / tck))"
	done
	echo '\q' >&"${MEASURE_PSQL[1]}"
	wait "$MEASURE_PSQL_PID" 2>/dev/null || true
}

# The minimum of each column of "a b c ..." lines.
column_min() {
	awk '{ for (i = 1; i <= NF; i++) if (NR == 1 || $i < m[i]) m[i] = $i }
	     END { for (i = 1; i <= NF; i++) printf "%s%s", m[i], (i < NF ? " " : "\n") }'
}

echo "spine rows: $ROWS ($CUSTOMERS customers x 50 labels); features: 10 from 3 views; data generated in $((gen_ms / 1000)) s"
echo "retrieval plan: $(psql -XAt -c "EXPLAIN (COSTS OFF) $SQLTEXT" | grep -oE 'Gather|Custom Scan \(AsofJoin\)|Sort' | sort | uniq -c | tr -s ' \n' ' ')"

# 1. zstd levels: time and size of each, and the checksum (the same for all)
echo "-- zstd level sweep"
for level in $LEVELS; do
	read -r ms cpu < <( { echo "SELECT fs.drop_training_set(name) FROM fs.training_sets WHERE name = 'tsb';";
						   echo "$CREATE_SET, compression_level => $level);"; } | measure | tail -1)
	read -r bytes checksum <<<"$(psql -XAt -F' ' -c "SELECT stored_bytes, checksum FROM fs.training_sets WHERE name = 'tsb'")"
	printf 'level %2d: create %8.0f ms (cpu %6d ms), stored %10d bytes (%.2f bytes/row), checksum %s\n' \
		"$level" "$ms" "$cpu" "$bytes" "$(echo "$bytes / $ROWS" | bc -l)" "$checksum"
done

# 2. creation against CREATE TABLE AS, interleaved rounds at the default level
read -r ctas ctas_cpu set set_cpu < <(for ((r = 0; r < ROUNDS; r++)); do
	{ echo "DROP TABLE IF EXISTS tsb_heap;";
	  echo "CREATE TABLE tsb_heap AS $SQLTEXT;" | tr '\n' ' '; echo;
	  echo "SELECT fs.drop_training_set(name) FROM fs.training_sets WHERE name = 'tsb';";
	  echo "$CREATE_SET);"; } | measure | sed -n '2p;4p' | paste -sd' '
done | column_min)

# 3. sizes: the heap table against the chunk table holding only this set
psql -Xq -c "VACUUM FULL fs_internal.training_chunks" -c "VACUUM tsb_heap"
read -r heap_bytes chunk_bytes stored rel <<<"$(psql -XAt -F' ' -c "
	SELECT pg_total_relation_size('tsb_heap'), pg_total_relation_size('fs_internal.training_chunks'), stored_bytes, relation
	  FROM fs.training_sets WHERE name = 'tsb'")"

# 4. COPY of the set against COPY of the heap table, interleaved, after a
# first round that warms the caches
copy_times() {
	local fmt=$1 rounds=$2
	for ((r = 0; r < rounds + 1; r++)); do
		echo "COPY (SELECT * FROM tsb_heap) TO STDOUT (FORMAT $fmt);"
		echo "COPY (SELECT * FROM $rel) TO STDOUT (FORMAT $fmt);"
	done | measure | paste - - | tail -n +2 | column_min
}
read -r copy_heap copy_heap_cpu copy_set copy_set_cpu < <(copy_times binary 5)
read -r csv_heap csv_heap_cpu csv_set csv_set_cpu < <(copy_times csv 3)
same=$(psql -XAt -c "SELECT count(*) FROM (SELECT * FROM tsb_heap EXCEPT ALL SELECT * FROM $rel) a" \
	-c "SELECT count(*) FROM (SELECT * FROM $rel EXCEPT ALL SELECT * FROM tsb_heap) b" | paste -sd/)
mem=$(psql -XAt -c "SET work_mem = '64kB'" -c "EXPLAIN (ANALYZE, TIMING OFF, COSTS OFF) SELECT * FROM $rel" |
	grep -oP 'Peak Decode Memory: \K[0-9]+')

echo "-- creation (best of $ROUNDS; cpu: the backend's)"
printf 'CREATE TABLE AS retrieval:      %9.0f ms (cpu %6d ms)\n' "$ctas" "$ctas_cpu"
printf 'fs.create_training_set:         %9.0f ms (cpu %6d ms)\n' "$set" "$set_cpu"
printf 'ratio create / CTAS:            %9.2fx wall, %.2fx cpu (target <= 1.25x)\n' \
	"$(echo "$set / $ctas" | bc -l)" "$(echo "$set_cpu / $ctas_cpu" | bc -l)"
echo "-- size"
printf 'heap table (total):             %9d bytes\n' "$heap_bytes"
printf 'chunk table (total):            %9d bytes (chunks alone: %d)\n' "$chunk_bytes" "$stored"
printf 'ratio heap / set:               %9.2fx (target >= 4x)\n' "$(echo "$heap_bytes / $chunk_bytes" | bc -l)"
echo "-- COPY (SELECT * FROM ...) TO STDOUT, to psql (best of 5 binary, 3 csv)"
printf 'COPY heap binary:               %9.0f ms (cpu %6d ms)\n' "$copy_heap" "$copy_heap_cpu"
printf 'COPY set binary:                %9.0f ms (cpu %6d ms)\n' "$copy_set" "$copy_set_cpu"
printf 'ratio heap / set (binary):      %9.2fx wall, %.2fx cpu (target >= 1x)\n' \
	"$(echo "$copy_heap / $copy_set" | bc -l)" "$(echo "$copy_heap_cpu / $copy_set_cpu" | bc -l)"
printf 'COPY heap csv:                  %9.0f ms (cpu %6d ms)\n' "$csv_heap" "$csv_heap_cpu"
printf 'COPY set csv:                   %9.0f ms (cpu %6d ms)\n' "$csv_set" "$csv_set_cpu"
printf 'ratio heap / set (csv):         %9.2fx wall, %.2fx cpu\n' \
	"$(echo "$csv_heap / $csv_set" | bc -l)" "$(echo "$csv_heap_cpu / $csv_set_cpu" | bc -l)"
echo "rows differing between set and heap table: $same; decode memory of a full scan at work_mem 64kB: ${mem} kB"
echo "machine load (1, 5, 15 min): $(cut -d' ' -f1-3 /proc/loadavg)"
psql -Xq -c "SELECT fs.drop_training_set('tsb')" -c "DROP TABLE tsb_heap"
