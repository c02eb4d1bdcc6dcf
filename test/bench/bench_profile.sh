#!/usr/bin/env bash
# fs.profile(x) over 2M float8 rows against the plain-SQL summary an analyst
# writes today (count, NULL count, min, max, avg, stddev and percentile_cont at
# the nine deciles), and fs.profile with 2 parallel workers against none.
# Prints the best of 6 interleaved rounds and the ratios from this one run.
set -euo pipefail
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
ROWS=${PROFILE_BENCH_ROWS:-2000000}

psql -Xq -v ON_ERROR_STOP=1 <<SQL
CREATE EXTENSION IF NOT EXISTS feature_store;
DROP TABLE IF EXISTS bench_profile;
CREATE TABLE bench_profile (x float8);
INSERT INTO bench_profile
SELECT CASE WHEN g % 100 = 0 THEN NULL
            ELSE sqrt(-2 * ln(1 - (g * 0.6180339887498949::float8 - floor(g * 0.6180339887498949::float8))))
                 * cos(2 * pi() * (g * 0.41421356237309503::float8 - floor(g * 0.41421356237309503::float8))) END
FROM generate_series(1, $ROWS) g;
VACUUM ANALYZE bench_profile;
SQL

BASELINE="SELECT count(*), count(*) - count(x), min(x), max(x), avg(x), stddev(x),
  percentile_cont(ARRAY[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9]) WITHIN GROUP (ORDER BY x) FROM bench_profile"
PROFILE="SELECT fs.profile(x) FROM bench_profile"

plan=$(psql -XAt -c "SET max_parallel_workers_per_gather = 2" -c "EXPLAIN (COSTS OFF) $PROFILE" | tr '\n' ' ')
case $plan in
	*"Workers Planned: 2"*"Partial Aggregate"*) ;;
	*) echo "warning: the parallel plan is not a 2-worker partial aggregate: $plan" ;;
esac

# Runs the queries interleaved, 6 rounds after a warm-up round, so that each
# sees the same machine load, and keeps the best round of each.  count(x) with
# and without workers is the control: the parallel speedup this machine gives
# a plain scan right now.
COUNT="SELECT count(x) FROM bench_profile"
times=$({
	echo '\timing on'
	for _ in 1 2 3 4 5 6 7; do
		echo "SET max_parallel_workers_per_gather = 0;"
		echo "$BASELINE;"
		echo "$PROFILE;"
		echo "$COUNT;"
		echo "SET max_parallel_workers_per_gather = 2;"
		echo "$PROFILE;"
		echo "$COUNT;"
	done
} | psql -Xq -o /dev/null 2>&1 | grep -oP '^Time: \K[0-9.]+' |
	awk '{ r = int((NR - 1) / 7); k = (NR - 1) % 7; if (r > 0 && (!((k, 0) in m) || $1 < m[k, 0])) m[k, 0] = $1 }
	     END { print m[1, 0], m[2, 0], m[5, 0], m[3, 0], m[6, 0] }')
read -r base serial par cnt cntpar <<<"$times"
# the answers agree between plans
same=$(psql -XAtq -c "SET max_parallel_workers_per_gather = 0" -c "CREATE TEMP TABLE s AS $PROFILE" \
	-c "SET max_parallel_workers_per_gather = 2" -c "SELECT (SELECT profile FROM s)::text = ($PROFILE)::text")

printf 'rows: %d\n' "$ROWS"
printf 'plain SQL summary (no workers):    %8.1f ms\n' "$base"
printf 'fs.profile(x) (no workers):        %8.1f ms\n' "$serial"
printf 'fs.profile(x) (2 workers):         %8.1f ms\n' "$par"
printf 'ratio plain SQL / fs.profile:      %8.2fx (target >= 5x)\n' "$(echo "$base / $serial" | bc -l)"
printf 'ratio no workers / 2 workers:      %8.2fx (target >= 1.7x)\n' "$(echo "$serial / $par" | bc -l)"
printf 'control: count(x) %.1f ms, with 2 workers %.1f ms: %.2fx\n' "$cnt" "$cntpar" "$(echo "$cnt / $cntpar" | bc -l)"
printf 'parallel profile has the same bytes as serial: %s\n' "$same"
psql -Xq -c "DROP TABLE bench_profile"
