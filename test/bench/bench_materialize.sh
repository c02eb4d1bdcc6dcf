#!/usr/bin/env bash
# Materialization: a full run of 1M source rows x 20 float8 features against a
# plain INSERT ... SELECT of the same rows into an equivalent table keyed on
# (key, event time) (target: at most 1.3x), and the worker's incremental run
# after 10k new rows as a fraction of its full run (target: at most 3%), and a
# full window again once 10k rows changed their values (reported only).
# Runs in a database of its own (the worker does not serve it: the runs here
# are the worker's SQL, called by hand).  Prints the best of 3 rounds, the
# ratios from this one run, and the machine load.
set -euo pipefail
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
ROWS=${MATERIALIZE_BENCH_ROWS:-1000000}
NEW=${MATERIALIZE_BENCH_NEW_ROWS:-10000}
KEYS=10000
DB=bench_materialize

psql -Xq -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
log=$(mktemp)
trap 'rm -f "$log"; psql -Xq -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true' EXIT
export PGDATABASE=$DB

feats=$(for i in $(seq 1 20); do printf ', f%s float8' "$i"; done)
exprs=$(for i in $(seq 1 20); do printf ', (g * %s %% 1000) / 7.0' "$i"; done)
cols=$(for i in $(seq 1 20); do printf ', f%s' "$i"; done)

# The source: one row per key and second (100 rows per key), indexed on
# event time as an incrementally read source should be.
psql -Xq -v ON_ERROR_STOP=1 -o /dev/null <<SQL
CREATE EXTENSION feature_store;
CREATE TABLE src (k bigint, ts timestamptz $feats);
INSERT INTO src SELECT g % $KEYS, timestamptz '2024-01-01 00:00+00' + g * interval '1 second' $exprs
  FROM generate_series(1, $ROWS) g;
CREATE INDEX ON src (ts);
VACUUM ANALYZE src;
CREATE TABLE baseline (k bigint NOT NULL, ts timestamptz NOT NULL, fs_created_at timestamptz NOT NULL $feats,
	PRIMARY KEY (k, ts));
SELECT fs.create_entity('bench_key', 'bigint');
SQL

# One round: the baseline, a manual full fs.materialize into a new version,
# then the worker's full run and, after $NEW new rows, its incremental run,
# each on a fresh view, then the manual full window again after $NEW rows
# changed.  Prints the five times in ms.
round() {
	local r=$1
	psql -Xq -v ON_ERROR_STOP=1 <<SQL >/dev/null
TRUNCATE baseline;
SELECT fs.drop_feature_view(name) FROM fs.views;
CHECKPOINT;
SELECT fs.register_feature_view('manual_$r', 'bench_key', 'src', 'k', 'ts');
SELECT fs.register_feature_view('worker_$r', 'bench_key', 'src', 'k', 'ts', schedule => '1 microsecond');
SQL
	{
		echo '\timing on'
		echo "INSERT INTO baseline SELECT k, ts, now() $cols FROM src;"
		# alternate which full run goes first
		if ((r % 2)); then
			echo "SELECT rows_written FROM fs.materialize('manual_$r');"
			echo "SELECT fs_internal.run_scheduled((SELECT run_id FROM fs_internal.worker_tick(1)));"
		else
			echo "SELECT fs_internal.run_scheduled((SELECT run_id FROM fs_internal.worker_tick(1)));"
			echo "SELECT rows_written FROM fs.materialize('manual_$r');"
		fi
		echo '\timing off'
		echo "INSERT INTO src SELECT g % $KEYS, (SELECT max(ts) FROM src) + g * interval '1 second' $exprs
			    FROM generate_series(1, $NEW) g;"
		echo "ANALYZE src;"
		echo '\timing on'
		echo "SELECT fs_internal.run_scheduled((SELECT run_id FROM fs_internal.worker_tick(1)));"
		# a full window again after changing the values of $NEW rows (a
		# reconciliation that revises them: the batch is compared with history)
		echo '\timing off'
		echo "UPDATE src SET f1 = f1 + 1 WHERE k < $((NEW * KEYS / ROWS));"
		echo '\timing on'
		echo "SELECT rows_written FROM fs.materialize('manual_$r', full => true);"
	} | psql -Xq -v ON_ERROR_STOP=1 -o /dev/null >"$log" 2>&1 || { cat "$log" >&2; return 1; }
	grep -oP '^Time: \K[0-9.]+' "$log" | tr '\n' ' '
	echo
}

best=(0 0 0 0 0)
for r in 1 2 3; do
	times=$(round $r)
	read -r -a t <<<"$times"
	((${#t[@]} == 5)) || { echo "round $r: expected 5 timings, got: $times" >&2; cat "$log" >&2; exit 1; }
	((r % 2)) || t=("${t[0]}" "${t[2]}" "${t[1]}" "${t[3]}" "${t[4]}")
	for i in 0 1 2 3 4; do
		if [[ ${best[$i]} == 0 ]] || (($(echo "${t[$i]} < ${best[$i]}" | bc -l))); then best[$i]=${t[$i]}; fi
	done
done
read -r base full worker_full incr revise <<<"${best[*]}"

# the worker's runs wrote what they read: every source row once
check=$(psql -XAt -c "SELECT (SELECT count(*) FROM src) = (SELECT count(*) FROM fs_data.worker_3_v1)
	AND (SELECT count(*) FROM fs_data.worker_3_v1) = (SELECT count(DISTINCT (k, ts)) FROM fs_data.worker_3_v1)
	AND (SELECT string_agg((window_start IS NULL)::text, ',' ORDER BY run_id) FROM fs.materialization_runs
		  WHERE view_name = 'worker_3') = 'true,false'")
[[ $check == t ]] || echo "warning: the worker's runs did not write every source row exactly once"

printf 'rows: %d x 20 float8 features, %d keys; incremental: %d new rows\n' "$ROWS" "$KEYS" "$NEW"
printf 'INSERT ... SELECT into a (key, time) table: %9.1f ms\n' "$base"
printf 'fs.materialize, full:                     %9.1f ms\n' "$full"
printf 'worker run, full:                         %9.1f ms\n' "$worker_full"
printf 'worker run, incremental:                  %9.1f ms\n' "$incr"
printf 'ratio full fs.materialize / INSERT:       %9.2fx (target <= 1.3x)\n' "$(echo "$full / $base" | bc -l)"
printf 'ratio worker full run / INSERT:           %9.2fx\n' "$(echo "$worker_full / $base" | bc -l)"
printf 'incremental / full worker run:            %9.2f%% (target <= 3%%)\n' "$(echo "100 * $incr / $worker_full" | bc -l)"
printf 'full window again, %d rows changed:    %9.1f ms (%.2fx the first full fs.materialize)\n' "$NEW" "$revise" \
	"$(echo "$revise / $full" | bc -l)"
printf 'load: %s\n' "$(uptime)"
