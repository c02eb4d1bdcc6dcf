#!/usr/bin/env bash
# Runs every test: the released-scripts check, pg_regress (sql/, expected/),
# isolation specs (test/isolation/), the README's examples
# (test/readme_test.sh) and TAP tests (test/t/) against a throwaway server with
# the staged extension preloaded.  Ends with one line "tests: N passed, M failed".
set -uo pipefail
source "$(dirname "$0")/lib.sh"
trap fs_stop_server EXIT
# The worker serves the small demo's database (its last part waits for the
# worker), ticking every second.
fs_start_server "feature_store.database = 'demo_small'" "feature_store.naptime = 1"
OUT="$REPO/build/test-output"
rm -rf "$OUT"; mkdir -p "$OUT"
passed=0 failed=0

# Adds the counts from a pg_regress-style summary in file $1.
count_regress() {
	local n m
	if n=$(grep -oP '^[#\s]*All \K[0-9]+(?= tests passed)' "$1"); then
		passed=$((passed + n))
	elif read -r m n < <(grep -oP '^[#\s]*\K[0-9]+ of [0-9]+(?= tests failed)' "$1" | sed 's/ of / /'); then
		failed=$((failed + m)); passed=$((passed + n - m))
	else
		failed=$((failed + 1))
	fi
}

echo "== released scripts"
if bash "$REPO/test/check_releases.sh"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

regress_tests=$(cd "$REPO/sql" && ls *.sql 2>/dev/null | sed 's/\.sql$//' | sort)
if [[ -n $regress_tests ]]; then
	echo "== pg_regress"
	# Tests may have the server read files under the input directory (COPY
	# FROM :abs_srcdir ...): give it a copy the postgres user can read.
	input="$FS_WORK/regress-input"
	mkdir -p "$input/test"
	cp -r "$REPO/sql" "$REPO/expected" "$input/"
	cp -r "$REPO/test/data" "$input/test/"
	chmod -R a+rX "$input"
	"$PGXS_DIR/src/test/regress/pg_regress" --host="$PGHOST" --port="$PGPORT" --user=postgres \
		--inputdir="$input" --outputdir="$OUT/regress" --load-extension=feature_store \
		--dbname=contrib_regression $regress_tests 2>&1 | tee "$OUT/regress.log"
	count_regress "$OUT/regress.log"
	[[ -s $OUT/regress/regression.diffs ]] && head -c 20000 "$OUT/regress/regression.diffs"
fi

iso_tests=$(cd "$REPO/test/isolation/specs" && ls *.spec 2>/dev/null | sed 's/\.spec$//' | sort)
if [[ -n $iso_tests ]]; then
	echo "== isolation"
	"$PGXS_DIR/src/test/isolation/pg_isolation_regress" --host="$PGHOST" --port="$PGPORT" --user=postgres \
		--inputdir="$REPO/test/isolation" --outputdir="$OUT/isolation" --load-extension=feature_store \
		--dbname=isolation_regression $iso_tests 2>&1 | tee "$OUT/isolation.log"
	count_regress "$OUT/isolation.log"
	[[ -s $OUT/isolation/regression.diffs ]] && head -c 20000 "$OUT/isolation/regression.diffs"
fi

echo "== README"
# every sql block of README.md, in order, as a reader would paste them
bash "$REPO/test/readme_test.sh" 2>&1 | tee "$OUT/readme.log"
if read -r n m < <(grep -oP '^readme: \K[0-9]+ passed, [0-9]+(?= failed$)' "$OUT/readme.log" | sed 's/ passed, / /'); then
	passed=$((passed + n)); failed=$((failed + m))
else
	failed=$((failed + 1))
fi

echo "== demo, small (make demo's scripts on 200 customers)"
demo="$FS_WORK/demo"
mkdir -p "$demo"
if psql -X -q -d postgres -c "CREATE DATABASE demo_small" &&
	PGDATABASE=demo_small psql -X -q -v ON_ERROR_STOP=1 -v customers=200 -f "$REPO/test/data/demo_data.sql" >"$OUT/demo.log" 2>&1 &&
	PGDATABASE=demo_small psql -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION feature_store" &&
	FS_DEMO_DIR="$demo" PGDATABASE=demo_small psql -X -q -v ON_ERROR_STOP=1 -v export_dir="$demo" \
		-v summary_file="$demo/summary.txt" -f "$REPO/test/demo.sql" >>"$OUT/demo.log" 2>&1 &&
	grep '^demo succeeded' "$demo/summary.txt"; then
	passed=$((passed + 1))
else
	tail -n 30 "$OUT/demo.log"; failed=$((failed + 1))
fi
# (its scheduled views would keep the worker busy for the rest of the suite)
psql -X -q -d postgres -c "DROP DATABASE demo_small WITH (FORCE)"

echo "== fuzz (seeded: every fs.profile accepted or produced reads back)"
for f in "$REPO"/test/fuzz/*.sql; do
	if psql -X -q -d postgres -c "CREATE DATABASE fuzz_$(basename "$f" .sql)" &&
		PGDATABASE="fuzz_$(basename "$f" .sql)" psql -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION feature_store" \
			-f "$f" >"$OUT/fuzz-$(basename "$f" .sql).log" 2>&1; then
		echo "fuzz $(basename "$f" .sql): ok"; passed=$((passed + 1))
	else
		tail -n 20 "$OUT/fuzz-$(basename "$f" .sql).log"; failed=$((failed + 1))
	fi
done

if compgen -G "$REPO/test/t/*.pl" >/dev/null; then
	echo "== TAP"
	# TAP clusters run initdb as the current user, which must not be root:
	# run from a copy the postgres user can read and write.
	tap="$FS_WORK/tap"
	mkdir -p "$tap"
	cp -r "$REPO/test/t" "$REPO/test/perl" "$tap/"
	[[ $(id -u) == 0 ]] && chown -R postgres: "$tap"
	(cd "$tap" && as_pg env PATH="$PATH" FS_STAGE="$FS_WORK/stage" FS_LIBDIR="$("$PG_CONFIG" --pkglibdir)" \
		PG_REGRESS="$PGXS_DIR/src/test/regress/pg_regress" TESTDIR="$tap" \
		prove -I "$PGXS_DIR/src/test/perl" -I "$tap/perl" t/*.pl) 2>&1 | tee "$OUT/tap.log"
	tests=$(grep -oP '^Files=[0-9]+, Tests=\K[0-9]+' "$OUT/tap.log" || echo 0)
	bad=$(grep -oP 'Failed \K[0-9]+(?=/[0-9]+ subtests)' "$OUT/tap.log" | awk '{s+=$1} END {print s+0}')
	dubious=$(grep -c 'Dubious' "$OUT/tap.log" || true)
	passed=$((passed + tests - ${bad:-0})); failed=$((failed + ${bad:-0} + dubious))
	[[ -d $tap/tmp_check/log ]] && cp -r "$tap/tmp_check/log" "$OUT/tap-logs"
	grep -q '^Result: PASS' "$OUT/tap.log" || failed=$((failed > 0 ? failed : 1))
fi

echo "tests: $passed passed, $failed failed"
((failed == 0))
