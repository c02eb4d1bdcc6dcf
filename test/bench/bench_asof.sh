#!/usr/bin/env bash
# bench_asof: the as-of join against the queries people write without it.
#
#   (a) LEFT JOIN LATERAL (... ORDER BY ts DESC LIMIT 1), enable_memoize off:
#       the baseline
#   (b) the as-of operator (LEFT JOIN ... ON key = key AND spine.ts @>= f.ts)
#   (c) join then row_number() over (partition by spine row), what common
#       feature stores generate
#   (d) a spine of ASOF_BENCH_SMALL rows (index-probe path): LATERAL vs as-of
#   (e) no index on the feature side: as-of vs the row_number query
#   (f) peak memory of the backend (work_mem 64MB) while the as-of join runs
#
# Every query aggregates its result so transfer does not count, and the
# aggregates of the competing queries are checked to be equal.  Sizes come
# from the environment, so the bench can be smoke-run small:
#   ASOF_BENCH_FEATURES  feature rows (10000000); ASOF_BENCH_KEYS (features/100)
#   ASOF_BENCH_SPINE     spine rows (features/10); ASOF_BENCH_SMALL (100)
#   ASOF_BENCH_REPS      runs per timed query, best kept (3)
#   ASOF_BENCH_ROWNUMBER 0 skips the (slow) row_number queries
# Run through test/bench/run.sh (make bench), which exports PGHOST etc.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

FEATURES=${ASOF_BENCH_FEATURES:-10000000}
KEYS=${ASOF_BENCH_KEYS:-$((FEATURES / 100))}
SPINE=${ASOF_BENCH_SPINE:-$((FEATURES / 10))}
SMALL=${ASOF_BENCH_SMALL:-100}
REPS=${ASOF_BENCH_REPS:-3}
ROWNUMBER=${ASOF_BENCH_ROWNUMBER:-1}
SMALL_REPS=20

# Analysts put the extension's schema on their search_path to write l.ts @>= f.ts.
export PGOPTIONS="${PGOPTIONS:-} -c search_path=public,fs -c client_min_messages=warning"
PSQL=(psql -X -q -v ON_ERROR_STOP=1)
TMP=$(mktemp -d /tmp/bench_asof.XXXXXX)
mempid=
cleanup() {
	[[ -n $mempid ]] && kill "$mempid" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

# The aggregated select list every query shares.
AGG="count(*) AS n, count(f.v1) AS matched, sum(f.v2) AS s2, sum(f.v3) AS s3, round(sum(f.v1)::numeric, 2) AS s1"

# Builds the three competing queries over spine table $1.
q_lateral() {
	echo "SELECT $AGG FROM $1 l LEFT JOIN LATERAL (SELECT v1, v2, v3 FROM bench_asof_features f0
		WHERE f0.k = l.k AND f0.ts <= l.ts ORDER BY f0.ts DESC LIMIT 1) f ON true"
}
q_asof() {
	echo "SELECT $AGG FROM $1 l LEFT JOIN bench_asof_features f ON f.k = l.k AND l.ts @>= f.ts"
}
q_rownumber() {
	echo "SELECT $AGG FROM (SELECT l.id, f0.v1, f0.v2, f0.v3,
			row_number() OVER (PARTITION BY l.id ORDER BY f0.ts DESC) AS rn
		FROM $1 l LEFT JOIN bench_asof_features f0 ON f0.k = l.k AND f0.ts <= l.ts) f
		WHERE f.rn = 1"
}

LATERAL_SET="SET enable_memoize = off;"

# Runs query $2 $3 times in one session after the settings $1; prints
# "best_ms|result" and fails if the runs disagree.
run_timed() {
	local settings=$1 query=$2 reps=$3 out=$TMP/timed.out
	{
		echo "$settings"
		echo '\timing on'
		for ((i = 0; i < reps; i++)); do echo "$query;"; done
	} | "${PSQL[@]}" -A -t >"$out" 2>"$TMP/timed.err" || {
		echo "FAILED: $(head -1 "$TMP/timed.err")" >&2
		return 1
	}
	local best results
	best=$(grep -oP '^Time: \K[0-9.]+' "$out" | sort -g | head -1)
	results=$(grep -v '^Time: ' "$out" | sort -u)
	if [[ $(wc -l <<<"$results") != 1 ]]; then
		echo "runs of one query disagree: $results" >&2
		return 1
	fi
	echo "$best|$results"
}

# Prints the plan of the as-of query (settings $1, query $2); fails unless
# an AsofJoin runs it.
check_asof_plan() {
	local plan
	plan=$("${PSQL[@]}" -A -t -c "$1 EXPLAIN (COSTS OFF) $2" 2>&1) || {
		echo "      EXPLAIN FAILED: $plan"
		return 1
	}
	if ! grep -q 'Custom Scan (AsofJoin)' <<<"$plan"; then
		echo "      the as-of query did not run as an AsofJoin:"
		sed 's/^/      plan: /' <<<"$plan"
		return 1
	fi
	grep -v '^ *\(Join Type\|Keys\|As-of\|Sort Key\)' <<<"$plan" | sed 's/^/      plan: /'
}

# ratio a b: a / b with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
secs() { awk -v a="$1" 'BEGIN { printf "%.3f s", a / 1000 }'; }

# Compares the results of two queries (aggregates must be equal).
same_result() {
	if [[ ${1#*|} != "${2#*|}" ]]; then
		echo "RESULTS DIFFER: ${1#*|} vs ${2#*|}" >&2
		return 1
	fi
}

# Runs query $1 in a fresh backend while sampling /proc of it and of its
# parallel workers; prints "peak summed RssAnon kB|peak VmHWM kB of the
# backend|its RssShmem kB then|processes seen".
peak_memory() {
	local query=$1 app="bench_asof_mem_$$" pid="" anon=0 hwm=0 shm=0 procs=1 pids p a h sh sum n i
	"${PSQL[@]}" -c "SET application_name = '$app'" -c "SELECT pg_sleep(0.3)" \
		-c "$query" -c "SELECT pg_sleep(0.3)" >/dev/null &
	mempid=$!
	for ((i = 0; i < 100; i++)); do
		pid=$("${PSQL[@]}" -A -t -c "SELECT pid FROM pg_stat_activity WHERE application_name = '$app'")
		[[ -n $pid ]] && break
		sleep 0.05
	done
	while [[ -n $pid && -r /proc/$pid/status ]] && kill -0 "$mempid" 2>/dev/null; do
		pids=$("${PSQL[@]}" -A -t -c "SELECT string_agg(pid::text, ' ') FROM pg_stat_activity WHERE leader_pid = $pid" 2>/dev/null || true)
		sum=0 n=0
		for p in $pid $pids; do
			read -r a h sh < <(awk '/^RssAnon:/ {a=$2} /^VmHWM:/ {h=$2} /^RssShmem:/ {s=$2} END {print a+0, h+0, s+0}' \
				"/proc/$p/status" 2>/dev/null || echo 0 0 0)
			sum=$((sum + a)) n=$((n + 1))
			if [[ $p == "$pid" ]] && ((h > hwm)); then hwm=$h shm=$sh; fi
		done
		if ((sum > anon)); then anon=$sum; fi
		if ((n > procs)); then procs=$n; fi
		sleep 0.05
	done
	wait "$mempid" || echo "      (the query failed)" >&2
	mempid=
	echo "$anon|$hwm|$shm|$procs"
}
mb() { awk -v k="$1" 'BEGIN { printf "%.1f MB", k / 1024 }'; }

echo "  sizes: features $FEATURES rows, $KEYS keys, spine $SPINE rows, small spine $SMALL rows; best of $REPS runs"
"${PSQL[@]}" -c "CREATE EXTENSION IF NOT EXISTS feature_store"
t0=$(date +%s.%N)
"${PSQL[@]}" -v features="$FEATURES" -v keys="$KEYS" -v spine="$SPINE" -v small="$SMALL" \
	-f "$here/bench_asof_data.sql"
t1=$(date +%s.%N)
echo "  data generated in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f s", b - a }')" \
	"(features $("${PSQL[@]}" -A -t -c "SELECT pg_size_pretty(pg_total_relation_size('bench_asof_features'))"))"

# (a), (b): the large spine with the index.
echo "  LATERAL plan: $("${PSQL[@]}" -A -t -c "$LATERAL_SET EXPLAIN (COSTS OFF) $(q_lateral bench_asof_spine)" | sed -n 2p | sed 's/^ *//')"
lat=$(run_timed "$LATERAL_SET" "$(q_lateral bench_asof_spine)" "$REPS")
echo "  result (n|matched|sum v2|sum v3|sum v1): ${lat#*|}"
echo "  (a) LATERAL, memoize off:        $(secs "${lat%%|*}")"
asof=
if check_asof_plan "" "$(q_asof bench_asof_spine)" && asof=$(run_timed "" "$(q_asof bench_asof_spine)" "$REPS") &&
	same_result "$lat" "$asof"; then
	echo "  (b) as-of @>=:                   $(secs "${asof%%|*}")   speedup vs LATERAL: $(ratio "${lat%%|*}" "${asof%%|*}")x (target >= 3.5x)"
	# The same in one process, if the planner went parallel.
	if grep -q 'Gather' <<<"$("${PSQL[@]}" -A -t -c "EXPLAIN (COSTS OFF) $(q_asof bench_asof_spine)")" &&
		sasof1=$(run_timed "SET max_parallel_workers_per_gather = 0;" "$(q_asof bench_asof_spine)" "$REPS") &&
		same_result "$lat" "$sasof1"; then
		echo "      as-of, no parallel workers:  $(secs "${sasof1%%|*}")   speedup vs LATERAL: $(ratio "${lat%%|*}" "${sasof1%%|*}")x"
	fi
else
	echo "  (b) as-of @>=:                   FAILED"
	asof=
fi

# (c) row_number, once (it is the slow one).
if [[ $ROWNUMBER != 0 ]]; then
	rn=$(run_timed "" "$(q_rownumber bench_asof_spine)" 1)
	same_result "$lat" "$rn"
	echo "  (c) join + row_number():         $(secs "${rn%%|*}")   vs LATERAL: $(ratio "${rn%%|*}" "${lat%%|*}")x slower, vs as-of: $(ratio "${rn%%|*}" "${asof%%|*}")x slower"
fi

# (d) the small spine: index probes.
slat=$(run_timed "$LATERAL_SET" "$(q_lateral bench_asof_spine_small)" "$SMALL_REPS")
echo "  (d) $SMALL-row spine, LATERAL:       $(awk -v a="${slat%%|*}" 'BEGIN { printf "%.3f ms", a }')"
if check_asof_plan "" "$(q_asof bench_asof_spine_small)" &&
	sasof=$(run_timed "" "$(q_asof bench_asof_spine_small)" "$SMALL_REPS") && same_result "$slat" "$sasof"; then
	echo "      $SMALL-row spine, as-of:         $(awk -v a="${sasof%%|*}" 'BEGIN { printf "%.3f ms", a }')   speedup vs LATERAL: $(ratio "${slat%%|*}" "${sasof%%|*}")x (target >= 1)"
else
	echo "      $SMALL-row spine, as-of:         FAILED"
fi

# Planning and execution time of the small-spine queries, best of 20 each.
plan_exec() {
	local q=$1 out
	out=$({
		echo "$2"
		for ((i = 0; i < SMALL_REPS; i++)); do echo "EXPLAIN (ANALYZE, SUMMARY, TIMING OFF) $q;"; done
	} | "${PSQL[@]}" -A -t 2>&1) || { echo "failed"; return 0; }
	echo "planning $(grep -oP 'Planning Time: \K[0-9.]+' <<<"$out" | sort -g | head -1) ms," \
		"execution $(grep -oP 'Execution Time: \K[0-9.]+' <<<"$out" | sort -g | head -1) ms"
}
echo "      $SMALL-row spine, LATERAL: $(plan_exec "$(q_lateral bench_asof_spine_small)" "$LATERAL_SET")"
echo "      $SMALL-row spine, as-of:   $(plan_exec "$(q_asof bench_asof_spine_small)" "")"

# (f) peak memory with the index (work_mem is the server's 64MB).
echo "  work_mem: $("${PSQL[@]}" -A -t -c "SHOW work_mem")"
# Private memory (RssAnon) summed over the backend and its parallel workers;
# VmHWM (the backend's peak RSS) also counts the shared buffers it touched.
show_memory() {
	local anon hwm shm procs
	IFS='|' read -r anon hwm shm procs <<<"$2"
	echo "  $1 peak private memory $(mb "$anon") over $procs process(es); backend VmHWM $(mb "$hwm"), of which shared $(mb "$shm")"
}
show_memory "(f) as-of, index:  " "$(peak_memory "$(q_asof bench_asof_spine)")"
show_memory "    LATERAL, index:" "$(peak_memory "$LATERAL_SET $(q_lateral bench_asof_spine)")"

# (e) no index: the as-of join must sort the feature side itself.
"${PSQL[@]}" -c "DROP INDEX bench_asof_features_k_ts" -c "ANALYZE bench_asof_features"
if check_asof_plan "" "$(q_asof bench_asof_spine)" && nasof=$(run_timed "" "$(q_asof bench_asof_spine)" "$REPS") &&
	same_result "$lat" "$nasof"; then
	echo "  (e) no index, as-of:             $(secs "${nasof%%|*}")   vs as-of with index: $(ratio "${nasof%%|*}" "${asof%%|*}")x slower, speedup vs LATERAL with index: $(ratio "${lat%%|*}" "${nasof%%|*}")x"
else
	echo "  (e) no index, as-of:             FAILED"
	nasof=
fi
if [[ $ROWNUMBER != 0 ]]; then
	nrn=$(run_timed "" "$(q_rownumber bench_asof_spine)" 1)
	same_result "$lat" "$nrn"
	echo "      no index, row_number():      $(secs "${nrn%%|*}")   as-of speedup: $(ratio "${nrn%%|*}" "${nasof%%|*}")x"
fi
show_memory "(f) as-of, no index:" "$(peak_memory "$(q_asof bench_asof_spine)")"
echo "  temp files written: $("${PSQL[@]}" -A -t -c "SELECT pg_size_pretty(temp_bytes) || ' in ' || temp_files || ' files' FROM pg_stat_database WHERE datname = current_database()")"

"${PSQL[@]}" -c "DROP TABLE bench_asof_features, bench_asof_spine, bench_asof_spine_small"
