#!/usr/bin/env bash
# make demo: a throwaway server with the extension preloaded, the generated
# dataset, and the main job end to end (test/demo.sql).  FS_KEEP=1 leaves the
# server running afterwards and prints how to connect.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap fs_stop_server EXIT
fs_start_server
echo "== 0. Generating the dataset"
psql -X -q -v ON_ERROR_STOP=1 -f "$REPO/test/data/demo_data.sql"
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION feature_store"
psql -X -q -v ON_ERROR_STOP=1 -v export_csv="$FS_WORK/churn_training.csv" \
	-v export_bin="$FS_WORK/churn_training.bin" -f "$REPO/test/demo.sql"
if [[ -n ${FS_KEEP:-} ]]; then
	trap - EXIT
	echo
	echo "The demo server is still running:  psql -h $PGHOST -p $PGPORT -U postgres postgres"
	echo "Stop it with:  runuser -u postgres -- $PGBIN/pg_ctl -D $FS_WORK/data stop"
fi
