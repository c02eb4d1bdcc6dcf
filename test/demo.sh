#!/usr/bin/env bash
# make demo: builds the extension, starts a throwaway server with it preloaded,
# generates the dataset (test/data/demo_data.sql) and runs the main job end to
# end (test/demo.sql).  The build log, the exported training set and the
# summary stay in build/demo/.  FS_KEEP=1 leaves the server running afterwards
# and prints how to connect.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
export FS_DEMO_DIR="$REPO/build/demo"
rm -rf "$FS_DEMO_DIR"
mkdir -p "$FS_DEMO_DIR"

echo "== Building the extension (compiler output in $FS_DEMO_DIR/build.log)"
if ! make -C "$REPO" >"$FS_DEMO_DIR/build.log" 2>&1; then
	tail -n 40 "$FS_DEMO_DIR/build.log" >&2
	echo "the build failed: the whole log is $FS_DEMO_DIR/build.log" >&2
	exit 1
fi
trap fs_stop_server EXIT
fs_start_server "feature_store.naptime = 1"
echo "== A throwaway PostgreSQL 15 server with shared_preload_libraries = 'feature_store' (in $FS_WORK)"

echo
echo "== 0. Generating the dataset: customers, 90 days of card transactions up to today, churn labels"
psql -X -q -v ON_ERROR_STOP=1 -P footer=off -f "$REPO/test/data/demo_data.sql"
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION feature_store"
psql -X -q -v ON_ERROR_STOP=1 -v export_dir="$FS_DEMO_DIR" -v summary_file="$FS_DEMO_DIR/summary.txt" \
	-f "$REPO/test/demo.sql"

if [[ -n ${FS_KEEP:-} ]]; then
	trap - EXIT
	echo
	echo "The demo server is still running:  psql -h $PGHOST -p $PGPORT -U postgres postgres"
	echo "Stop it with:  runuser -u postgres -- $PGBIN/pg_ctl -D $FS_WORK/data stop"
fi
echo
echo "Kept in $FS_DEMO_DIR/: build.log, churn_training.csv, churn_training.bin, summary.txt"
cat "$FS_DEMO_DIR/summary.txt"
