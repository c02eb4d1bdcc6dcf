# feature_store: PGXS build.
#
#   make          build the extension (needs postgresql-server-dev-15, libzstd-dev)
#   make test     install missing packages, build with warnings as errors and
#                 assertions, run pg_regress, isolation and TAP tests against a
#                 throwaway server (no system install, no running server needed)
#   make demo     the main job end to end on a generated dataset
#   make bench    benchmarks, printed as ratios against baselines from the same run

EXTENSION = feature_store
EXTVERSION = 0.4
MODULE_big = feature_store
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))

# SQL (src/sql/install/schemas.sql explains the layout).  The install script
# of the current version is install/ followed by the topic files, in this
# order; the upgrade from the previous release is its hand-written step in
# updates/ followed by the same topic files.  Released scripts are frozen in
# releases/ (test/check_releases.sh compares them with their checksums).
PREV_VERSION = 0.3
SQL_INSTALL = $(addprefix src/sql/install/,schemas.sql feature_ref.sql profile.sql asof.sql catalog.sql worker.sql \
	drift_monitor.sql training_set.sql expectations.sql)
SQL_TOPICS = $(addprefix src/sql/,util.sql feature_ref.sql catalog.sql materialize.sql worker.sql online.sql retrieval.sql \
	profile.sql training_set.sql drift_monitor.sql expectations.sql)
# citus (issue 15): distributing a version's storage with Citus
SQL_TOPICS += src/sql/distribute.sql
# install/ files whose objects are all new since PREV_VERSION: the upgrade
# runs them after its hand-written step instead of repeating them there.
SQL_NEW_IN_RELEASE = src/sql/install/expectations.sql
DATA = $(wildcard src/sql/releases/*.sql)
DATA_built = build/feature_store--$(EXTVERSION).sql build/feature_store--$(PREV_VERSION)--$(EXTVERSION).sql

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

# Standard PGXS testing: "make installcheck" runs the same pg_regress,
# isolation and TAP tests against an installed server that preloads the
# extension (shared_preload_libraries = 'feature_store').  "make test" wraps
# them with a throwaway server and everything a fresh machine needs.
REGRESS = $(sort $(basename $(notdir $(wildcard sql/*.sql))))
REGRESS_OPTS = --load-extension=feature_store
ISOLATION = $(sort $(basename $(notdir $(wildcard test/isolation/specs/*.spec))))
ISOLATION_OPTS = --inputdir=test/isolation --load-extension=feature_store
TAP_TESTS = 1
PROVE_TESTS = $(sort $(wildcard test/t/*.pl))

PG_CONFIG ?= $(firstword $(wildcard /usr/lib/postgresql/15/bin/pg_config) pg_config)
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(PGXS),)
include $(PGXS)
# (after PGXS, which sets it empty) the TAP tests' own Perl modules
PROVE_FLAGS += -I test/perl
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

# Concatenates SQL files after an \\echo guard ($(1): the command to name).
define sql_script
	@mkdir -p build
	{ printf '%s\n' '\echo Use "$(1)" to load this file. \quit'; \
	  for f in $(2); do echo; echo "-- from $$f"; cat $$f; done; } > $@
endef

build/feature_store--$(EXTVERSION).sql: $(SQL_INSTALL) $(SQL_TOPICS) Makefile
	$(call sql_script,CREATE EXTENSION feature_store,$(SQL_INSTALL) $(SQL_TOPICS))

build/feature_store--$(PREV_VERSION)--$(EXTVERSION).sql: src/sql/updates/$(PREV_VERSION)--$(EXTVERSION).sql \
		$(SQL_NEW_IN_RELEASE) $(SQL_TOPICS) Makefile
	$(call sql_script,ALTER EXTENSION feature_store UPDATE,$< $(SQL_NEW_IN_RELEASE) $(SQL_TOPICS))

.PHONY: deps test demo bench

deps:
	@bash test/deps.sh

test: deps
	$(MAKE) FS_DEV=1
	FS_DEV=1 bash test/run.sh

demo: deps
	@bash test/demo.sh

bench: deps
	$(MAKE)
	bash test/bench/run.sh
