#!/usr/bin/env bash
# bench_asof_bounded: the as-of join with a condition mixing spine and
# feature columns plus a TTL, on one key with a long history, against the
# LATERAL formulation it is defined by (SPEC "Point-in-time correctness").
#
# Per spine row the latest candidate often fails the mixed condition
# (f.v < l.thr), so candidates are read back; for 5% of the rows none passes,
# and only the TTL window bounds the walk.  Compared, each as a ratio to
# (a) in the same run:
#   (a) LEFT JOIN LATERAL (... AND f.ts >= l.ts - TTL ORDER BY ts DESC LIMIT 1),
#       enable_memoize off: the baseline (its index scan is bounded by the TTL)
#   (b) the as-of join with the same conditions, the planner's choice
#   (c) the same with the TTL written l.ts - f.ts <= TTL (no index bound:
#       the walk stops at the first candidate outside the window)
#   (d) (b) forced to merge (feature_store.asof_strategy = merge)
# for a small and a large spine.  Results are checked equal.
#   ASOF_BOUNDED_HOT    rows of the hot key (2000000)
#   ASOF_BOUNDED_OTHER  rows of 100 other keys (200000)
#   ASOF_BOUNDED_SPINE  spine rows of the large spine (20000); the small one
#                       has a tenth of them
#   ASOF_BOUNDED_REPS   runs per timed query, best kept (3)
# Run through test/bench/run.sh (make bench BENCH=asof_bounded).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

HOT=${ASOF_BOUNDED_HOT:-2000000}
OTHER=${ASOF_BOUNDED_OTHER:-200000}
SPINE=${ASOF_BOUNDED_SPINE:-20000}
REPS=${ASOF_BOUNDED_REPS:-3}
TTL="interval '1 day'"

export PGOPTIONS="${PGOPTIONS:-} -c search_path=public,fs -c client_min_messages=warning"
PSQL=(psql -X -q -v ON_ERROR_STOP=1)
TMP=$(mktemp -d /tmp/bench_bounded.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

AGG="count(*) AS n, count(f.v) AS matched, sum(f.w) AS sw, round(sum(f.v)::numeric, 6) AS sv"

q_lateral() {
	echo "SELECT $AGG FROM $1 l LEFT JOIN LATERAL (SELECT v, w FROM bench_bounded_features f0
		WHERE f0.k = l.k AND f0.ts <= l.ts AND f0.v < l.thr AND f0.ts >= l.ts - $TTL
		ORDER BY f0.ts DESC LIMIT 1) f ON true"
}
q_asof() {
	echo "SELECT $AGG FROM $1 l LEFT JOIN bench_bounded_features f
		ON f.k = l.k AND l.ts @>= f.ts AND f.v < l.thr AND f.ts >= l.ts - $TTL"
}
q_asof_diff() {
	echo "SELECT $AGG FROM $1 l LEFT JOIN bench_bounded_features f
		ON f.k = l.k AND l.ts @>= f.ts AND f.v < l.thr AND l.ts - f.ts <= $TTL"
}

# Runs query $2 $3 times after settings $1; prints "best_ms|result".
run_timed() {
	local settings=$1 query=$2 reps=$3 out=$TMP/timed.out best results
	{
		echo "$settings"
		echo '\timing on'
		for ((i = 0; i < reps; i++)); do echo "$query;"; done
	} | "${PSQL[@]}" -A -t >"$out" 2>"$TMP/timed.err" || {
		echo "FAILED: $(head -1 "$TMP/timed.err")" >&2
		return 1
	}
	best=$(grep -oP '^Time: \K[0-9.]+' "$out" | sort -g | head -1)
	results=$(grep -v '^Time: ' "$out" | sort -u)
	if [[ $(wc -l <<<"$results") != 1 ]]; then
		echo "runs of one query disagree: $results" >&2
		return 1
	fi
	echo "$best|$results"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
secs() { awk -v a="$1" 'BEGIN { printf "%.3f s", a / 1000 }'; }
strategy() {
	"${PSQL[@]}" -A -t -c "$1 EXPLAIN (COSTS OFF) $2" | grep -oP 'Strategy: \K.*' || echo "NOT AN ASOF JOIN"
}

echo "  sizes: hot key $HOT rows, other keys $OTHER rows, spines $((SPINE / 10)) and $SPINE rows, TTL $TTL; best of $REPS runs; load: $(cut -d' ' -f1-3 /proc/loadavg)"
"${PSQL[@]}" -c "CREATE EXTENSION IF NOT EXISTS feature_store"
"${PSQL[@]}" -v hot="$HOT" -v other="$OTHER" -v spine="$SPINE" -f "$here/bench_asof_bounded_data.sql"
"${PSQL[@]}" -c "CREATE TABLE bench_bounded_spine_small AS SELECT * FROM bench_bounded_spine WHERE id % 10 = 0" \
	-c "ANALYZE bench_bounded_spine_small"

status=0
for spine in bench_bounded_spine_small bench_bounded_spine; do
	n=$("${PSQL[@]}" -A -t -c "SELECT count(*) FROM $spine")
	lat=$(run_timed "SET enable_memoize = off;" "$(q_lateral $spine)" "$REPS")
	echo "  $n-row spine: result (n|matched|sum w|sum v): ${lat#*|}"
	echo "    (a) LATERAL, TTL as index bound:     $(secs "${lat%%|*}")"
	for c in "b|the planner's choice|q_asof|" "c|TTL as a difference|q_asof_diff|" \
		"d|forced merge|q_asof|SET feature_store.asof_strategy = merge;"; do
		IFS='|' read -r tag label fn settings <<<"$c"
		q=$($fn $spine)
		if r=$(run_timed "$settings" "$q" "$REPS") && [[ ${r#*|} == "${lat#*|}" ]]; then
			printf '    (%s) as-of, %-28s %s   vs LATERAL: %sx  (%s)\n' "$tag" "$label:" \
				"$(secs "${r%%|*}")" "$(ratio "${r%%|*}" "${lat%%|*}")" "$(strategy "$settings" "$q")"
		else
			echo "    ($tag) as-of, $label: FAILED or DIFFERENT RESULT: ${r:-}"
			status=1
		fi
	done
done
"${PSQL[@]}" -c "DROP TABLE bench_bounded_features, bench_bounded_spine, bench_bounded_spine_small"
exit $status
