#!/usr/bin/env bash
# Runs the fuzz tests of test/fuzz/ against a throwaway server with the
# extension built in this tree (make first).  Extra arguments go to psql,
# e.g. -v seed=0.7 -v mutants=50.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
trap fs_stop_server EXIT
fs_start_server
for f in "$REPO"/test/fuzz/*.sql; do
	echo "== fuzz: $(basename "$f" .sql)"
	psql -X -q -v ON_ERROR_STOP=1 "$@" -f "$f"
done
