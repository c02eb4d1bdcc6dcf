#!/usr/bin/env bash
# Runs every benchmark script test/bench/bench_*.sh against one throwaway
# server.  Each script prints its own ratios against a baseline measured in the
# same run; numbers depend on machine load, so they are reported, never asserted.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
trap fs_stop_server EXIT
fs_start_server "shared_buffers = '2GB'" "max_parallel_workers_per_gather = 2" "work_mem = '64MB'"
only=${BENCH:-}
for b in "$REPO"/test/bench/bench_*.sh; do
	[[ -e $b ]] || continue
	name=$(basename "$b" .sh); name=${name#bench_}
	[[ -n $only && $only != "$name" ]] && continue
	echo "== bench: $name"
	bash "$b"
done
