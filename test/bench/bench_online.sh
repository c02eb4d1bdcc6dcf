#!/usr/bin/env bash
# bench_online: online reads against the primary-key SELECT they stand for.
#
# One feature view of 20 float8 features (TTL 30 days) over ONLINE_BENCH_KEYS
# keys; pgbench, prepared mode, ONLINE_BENCH_CLIENTS clients, random keys:
#   bare    SELECT * FROM <online table> WHERE k = $1   (100 keys: k = ANY(ARRAY[$1, ..., $100]))
#   json    SELECT * FROM fs.online_features(<20 references>, ARRAY[$1]::bigint[])
#   typed   SELECT * FROM fs.online_features_typed(<20 references>, ARRAY[$1]::bigint[]) AS t(k bigint, f1 float8, ...)
# for 1 key and for 100 keys per request.  The three run in turn for
# ONLINE_BENCH_ROUNDS rounds of ONLINE_BENCH_SECONDS each (after a short
# warm-up), so that load from elsewhere falls on all of them; TPS and latency
# percentiles come from pgbench's per-transaction logs of all rounds.  Then the
# server memory of one request of 100000 keys.
# Run through test/bench/run.sh (make bench, BENCH=online), which exports PGHOST etc.
set -euo pipefail

KEYS=${ONLINE_BENCH_KEYS:-100000}
CLIENTS=${ONLINE_BENCH_CLIENTS:-2}
SECONDS_PER_RUN=${ONLINE_BENCH_SECONDS:-5}
ROUNDS=${ONLINE_BENCH_ROUNDS:-3}
WARMUP=${ONLINE_BENCH_WARMUP:-2}
NFEAT=20
BATCH=100

export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
PSQL=(psql -X -q -v ON_ERROR_STOP=1)
TMP=$(mktemp -d /tmp/bench_online.XXXXXX)
chmod 755 "$TMP"
trap 'rm -rf "$TMP"' EXIT

echo "  machine: $(nproc) CPUs; load before: $(uptime | sed 's/.*load average: //')"

# --- data ---------------------------------------------------------------------
t0=$(date +%s.%N)
feats=$(for ((i = 1; i <= NFEAT; i++)); do printf ', random() AS f%d' "$i"; done)
"${PSQL[@]}" >/dev/null <<SQL
CREATE EXTENSION IF NOT EXISTS feature_store;
DROP TABLE IF EXISTS bench_online_src;
CREATE TABLE bench_online_src AS
SELECT i::bigint AS k, now() - (i % 86400) * interval '1 second' AS ts $feats
  FROM generate_series(1, $KEYS) i;
SELECT fs.create_entity('bench_online_key', 'bigint');
SELECT fs.register_feature_view('bench_online', 'bench_online_key', 'bench_online_src', 'k', 'ts', ttl => '30 days');
SELECT online_rows FROM fs.materialize('bench_online');
VACUUM ANALYZE bench_online_src;
SQL
online=$("${PSQL[@]}" -A -t -c "SELECT online_relation FROM fs.feature_views WHERE name = 'bench_online'")
"${PSQL[@]}" -c "VACUUM ANALYZE $online"
t1=$(date +%s.%N)
echo "  data: $KEYS keys x $NFEAT float8 features in $online ($("${PSQL[@]}" -A -t -c "SELECT pg_size_pretty(pg_total_relation_size('$online'))")), built in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f s", b - a }')"

# --- pgbench scripts ------------------------------------------------------------
refs="'{$(for ((i = 1; i <= NFEAT; i++)); do printf '%sbench_online:f%d' "$([[ $i == 1 ]] || echo ,)" "$i"; done)}'"
# pgbench replaces :name even inside literals: its scripts spell the colon \x3a.
pgrefs="E'{$(for ((i = 1; i <= NFEAT; i++)); do printf '%sbench_online\\x3af%d' "$([[ $i == 1 ]] || echo ,)" "$i"; done)}'"
coldefs="k bigint$(for ((i = 1; i <= NFEAT; i++)); do printf ', f%d float8' "$i"; done)"
one_key=':k1'
many_keys=$(for ((i = 1; i <= BATCH; i++)); do printf '%s:k%d' "$([[ $i == 1 ]] || echo ', ')" "$i"; done)
script() {	# script name nkeys query
	local f=$TMP/$1.sql n=$2
	for ((i = 1; i <= n; i++)); do echo "\\set k$i random(1, $KEYS)"; done >"$f"
	echo "$3;" >>"$f"
}
script bare_1 1 "SELECT * FROM $online WHERE k = $one_key"
script json_1 1 "SELECT * FROM fs.online_features($pgrefs, ARRAY[$one_key]::bigint[])"
script typed_1 1 "SELECT * FROM fs.online_features_typed($pgrefs, ARRAY[$one_key]::bigint[]) AS t($coldefs)"
script bare_100 $BATCH "SELECT * FROM $online WHERE k = ANY(ARRAY[$many_keys]::bigint[])"
script json_100 $BATCH "SELECT * FROM fs.online_features($pgrefs, ARRAY[$many_keys]::bigint[])"
script typed_100 $BATCH "SELECT * FROM fs.online_features_typed($pgrefs, ARRAY[$many_keys]::bigint[]) AS t($coldefs)"

# The three forms return the same values for the same keys.
check=$("${PSQL[@]}" -A -t <<SQL
WITH keys AS (SELECT array_agg(1 + (i * 7919) % ($KEYS + 10))::bigint[] AS ks FROM generate_series(1, 1000) i),
json AS (SELECT j.key, f.value::float8 AS v, f.key AS name
		   FROM keys, fs.online_features($refs, keys.ks) j, jsonb_each(j.features) f),
typed AS (SELECT t.k AS key, u.v, 'bench_online:f' || u.o AS name
			FROM keys, fs.online_features_typed($refs, keys.ks) AS t($coldefs),
				 unnest(ARRAY[$(for ((i = 1; i <= NFEAT; i++)); do printf '%st.f%d' "$([[ $i == 1 ]] || echo ,)" "$i"; done)]) WITH ORDINALITY AS u(v, o)),
bare AS (SELECT o.k AS key, u.v, 'bench_online:f' || u.o AS name
		   FROM keys, $online o, unnest(ARRAY[$(for ((i = 1; i <= NFEAT; i++)); do printf '%so.f%d' "$([[ $i == 1 ]] || echo ,)" "$i"; done)]) WITH ORDINALITY AS u(v, o)
		  WHERE o.k = ANY(keys.ks))
SELECT (SELECT count(*) FROM (SELECT * FROM json WHERE v IS NOT NULL EXCEPT ALL SELECT * FROM bare) d),
	   (SELECT count(*) FROM (SELECT * FROM typed WHERE v IS NOT NULL EXCEPT ALL SELECT * FROM bare) d),
	   (SELECT count(*) FROM json), (SELECT count(*) FROM typed WHERE v IS NOT NULL)
SQL
)
IFS='|' read -r json_diff typed_diff json_n typed_n <<<"$check"
if [[ $json_diff != 0 || $typed_diff != 0 ]]; then
	echo "  RESULTS DIFFER from the bare SELECT: json $json_diff, typed $typed_diff values" >&2
	exit 1
fi
echo "  results checked: fs.online_features and fs.online_features_typed equal the bare SELECT ($json_n, $typed_n values for 1000 keys)"

# --- runs -------------------------------------------------------------------------
# run name seconds logprefix: pgbench; prints the number of transactions.
run() {
	local out=$TMP/$1.$3.out
	pgbench -n -M prepared -c "$CLIENTS" -j "$CLIENTS" -T "$2" -f "$TMP/$1.sql" \
		${3:+-l --log-prefix="$TMP/log_$1_$3"} >"$out" 2>&1 || {
		echo "  pgbench $1 FAILED:" >&2
		sed 's/^/    /' "$out" >&2
		return 1
	}
	grep -oP '^number of transactions actually processed: \K[0-9]+' "$out"
}

declare -A txns
for n in 1 $BATCH; do
	for form in bare json typed; do
		run "${form}_$n" "$WARMUP" "" >/dev/null
		txns[${form}_$n]=0
	done
	for ((r = 1; r <= ROUNDS; r++)); do
		for form in bare json typed; do
			t=$(run "${form}_$n" "$SECONDS_PER_RUN" "r$r")
			txns[${form}_$n]=$((${txns[${form}_$n]} + t))
		done
	done
done

# stats name: "tps p99_ms p99.9_ms" over the logs of every round.
stats() {
	local name=$1 total=$((ROUNDS * SECONDS_PER_RUN))
	cat "$TMP"/log_"$name"_r* | awk '{ print $3 }' | sort -n | awk -v tps_n="${txns[$name]}" -v secs="$total" '
		{ v[NR] = $1 }
		END {
			i99 = int(NR * 0.99); if (i99 < 1) i99 = 1
			i999 = int(NR * 0.999); if (i999 < 1) i999 = 1
			printf "%.0f %.3f %.3f\n", tps_n / secs, v[i99] / 1000, v[i999] / 1000
		}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f%%", 100 * a / b; else print "n/a" }'; }

echo "  pgbench: $CLIENTS clients, prepared, $ROUNDS rounds x ${SECONDS_PER_RUN} s per form, keys random in 1..$KEYS"
printf '  %-44s %9s %10s %10s %9s\n' "request" "TPS" "p99 ms" "p99.9 ms" "vs bare"
for n in 1 $BATCH; do
	read -r btps b99 b999 < <(stats "bare_$n")
	for form in bare json typed; do
		case $form in
			bare) label="bare SELECT ($([[ $n == 1 ]] && echo 'k = $1' || echo 'k = ANY'))" ;;
			json) label="fs.online_features" ;;
			typed) label="fs.online_features_typed" ;;
		esac
		read -r tps p99 p999 < <(stats "${form}_$n")
		printf '  %-44s %9s %10s %10s %9s\n' "$n key$([[ $n == 1 ]] || echo s) x $NFEAT: $label" "$tps" "$p99" "$p999" \
			"$([[ $form == bare ]] && echo - || ratio "$tps" "$btps")"
	done
done
echo "  targets: 1 key >= 70% of bare with p99.9 < 1 ms; $BATCH keys >= 50% of bare"

# --- memory of one request of 100000 keys ------------------------------------------
# Peak resident memory of the backend while one request runs, over what it
# had after the same request warmed shared buffers (Linux: clear_refs resets
# the peak).  The result rows stay in the server (a tuplestore, spilled past
# work_mem), so the client's memory does not count.
mem_query() {
	local q=$1
	rm -f "$TMP/rss_before" "$TMP/rss_peak"
	"${PSQL[@]}" -A -t <<SQL 2>&1
SELECT pg_backend_pid() AS pid \gset
\setenv FS_BENCH_PID :pid
SELECT count(*) FROM ($q) s \g /dev/null
\! echo 5 > /proc/\$FS_BENCH_PID/clear_refs
\! awk '/^VmRSS:/ { print \$2 }' /proc/\$FS_BENCH_PID/status > $TMP/rss_before
SELECT count(*) FROM ($q) s \g /dev/null
\! awk '/^VmHWM:/ { print \$2 }' /proc/\$FS_BENCH_PID/status > $TMP/rss_peak
SQL
	local before peak
	before=$(cat "$TMP/rss_before" 2>/dev/null || echo 0)
	peak=$(cat "$TMP/rss_peak" 2>/dev/null || echo 0)
	awk -v a="$before" -v b="$peak" 'BEGIN { printf "%.1f MB", (b - a) / 1024 }'
}
keys100k="(SELECT array_agg(i) FROM generate_series(1, 100000) i)::bigint[]"
if [[ $(id -u) == 0 && -e /proc/self/clear_refs ]]; then
	echo "  one request of 100000 keys, server memory above its warm baseline (work_mem $("${PSQL[@]}" -A -t -c 'SHOW work_mem')):"
	echo "    bare SELECT ... = ANY:      $(mem_query "SELECT * FROM $online WHERE k = ANY($keys100k)")"
	echo "    fs.online_features:         $(mem_query "SELECT * FROM fs.online_features($refs, $keys100k)")"
	echo "    fs.online_features_typed:   $(mem_query "SELECT * FROM fs.online_features_typed($refs, $keys100k) AS t($coldefs)")"
fi
err=$("${PSQL[@]}" -c "SELECT count(*) FROM fs.online_features($refs, (SELECT array_agg(i)::bigint[] FROM generate_series(1, 1000000) i))" 2>&1 || true)
echo "  1000000 keys: $(head -1 <<<"$err")"

echo "  load after: $(uptime | sed 's/.*load average: //')"
"${PSQL[@]}" -c "SELECT fs.drop_entity('bench_online_key', cascade => true)" -c "DROP TABLE bench_online_src" >/dev/null
