# feature_store: PGXS build.
#
#   make          build the extension (needs postgresql-server-dev-15, libzstd-dev)
#   make test     install missing packages, build with warnings as errors and
#                 assertions, run pg_regress, isolation and TAP tests against a
#                 throwaway server (no system install, no running server needed)
#   make demo     the main job end to end on a generated dataset
#   make bench    benchmarks, printed as ratios against baselines from the same run

EXTENSION = feature_store
EXTVERSION = 0.2
MODULE_big = feature_store
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))

# Released install scripts are frozen; later versions are upgrade scripts.
# 0.1 is the foundation (catalog, storage, online reads); the 0.1--0.2 script
# is assembled from the pieces in src/sql/0.2/, and the full 0.2 script is
# 0.1 followed by that upgrade.
DATA = src/sql/feature_store--0.1.sql
DATA_built = build/feature_store--0.1--0.2.sql build/feature_store--$(EXTVERSION).sql
UPGRADE_PIECES = $(sort $(wildcard src/sql/0.2/*.sql))

SHLIB_LINK += -lzstd
PG_CPPFLAGS += -I$(srcdir)/src

# The test build: warnings are errors and assertions are on; users' builds
# keep PostgreSQL's own flags.  A stamp records which build the objects are
# from, so switching between the two rebuilds them.
ifeq ($(FS_DEV),1)
PG_CFLAGS += -Wall -Wextra -Werror -Wno-unused-parameter -Wno-sign-compare \
	-Wno-missing-field-initializers -DUSE_ASSERT_CHECKING
BUILD_KIND = test
else
BUILD_KIND = release
endif

EXTRA_CLEAN = build

PG_CONFIG ?= $(firstword $(wildcard /usr/lib/postgresql/15/bin/pg_config) pg_config)
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(PGXS),)
include $(PGXS)
else
# Without the server headers only the self-installing targets below work.
all:
	@echo "postgresql-server-dev-15 is missing: run 'make test' or 'make demo' (they install it)" >&2; exit 1
endif

build/.build-kind: FORCE
	@mkdir -p build
	@echo $(BUILD_KIND) | cmp -s - $@ || echo $(BUILD_KIND) > $@

# PGXS does not track header dependencies: every object depends on every header.
$(OBJS) $(OBJS:.o=.bc): build/.build-kind $(wildcard src/*.h)

.PHONY: FORCE
FORCE:

build/feature_store--0.1--0.2.sql: $(UPGRADE_PIECES) Makefile
	@mkdir -p build
	{ printf '%s\n' "\\echo Use \"ALTER EXTENSION feature_store UPDATE TO '0.2'\" to load this file. \\quit"; \
	  for f in $(UPGRADE_PIECES); do echo; echo "-- from $$f"; grep -v '^\\echo' $$f; done; } > $@

build/feature_store--0.2.sql: src/sql/feature_store--0.1.sql build/feature_store--0.1--0.2.sql
	@mkdir -p build
	cat $^ > $@

.PHONY: deps test demo bench

deps:
	@bash test/deps.sh

test: deps
	$(MAKE) FS_DEV=1
	bash test/run.sh

demo: deps
	$(MAKE)
	bash test/demo.sh

bench: deps
	$(MAKE)
	bash test/bench/run.sh
