# PGXS build of the migrations_schema extension (C++17 module).
#   make && make install          build and install into the PostgreSQL found by pg_config
#   make installcheck             regression and isolation suites against a running server
EXTENSION = migrations_schema
MODULE_big = migrations_schema
PG_CONFIG ?= pg_config
# The extension's version, from the control file: the library checks the installed one.
MS_VERSION := $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" $(EXTENSION).control)
# Every C++ file under src/, by layer (see docs/design.md); src/client is the pg_migrate program.
OBJS = $(patsubst %.cpp,%.o,$(sort $(filter-out src/client/%,$(wildcard src/*/*.cpp src/*/*/*.cpp))))
CLIENT_OBJS = $(patsubst %.cpp,%.o,$(sort $(wildcard src/client/*.cpp))) src/migrate/version.o
# sql/migrations_schema.sql is the current schema, installed as the script of the control
# file's default_version; the other scripts are the update chain from 0.1.0.
DATA = $(filter-out $(DATA_built),$(wildcard sql/migrations_schema--*.sql))
DATA_built = sql/migrations_schema--$(MS_VERSION).sql

# Tests live under test/ (test/sql, test/expected, test/specs; TAP in test/t).
REGRESS = boundary versions checksum split apply register apply_pending rollback status repeatable verify \
          privileges upgrade audit_capture audit_trust audit_drift \
          lint_common lint_rewrite lint_constraint lint_index lint_breaking lint_transaction \
          lint_partition lint_type lint_convention lint_replication enforce security steps lint_alias adopt
REGRESS_OPTS = --inputdir=test --load-extension=migrations_schema
ISOLATION = concurrent_apply concurrent_register concurrent_rollback concurrent_snapshot \
            concurrent_audit lint_lock_bound
ISOLATION_OPTS = --inputdir=test --load-extension=migrations_schema

# SANITIZE: extra compile and link flags, e.g. make SANITIZE=-fsanitize=address,undefined
# (test/sanitize.sh builds and runs the tests that way).
SANITIZE ?=
PG_CPPFLAGS = -I$(srcdir)/src -DMS_EXTENSION_VERSION='"$(MS_VERSION)"'
PG_CXXFLAGS = -std=c++17 -Wall -Wextra -Wno-missing-field-initializers -fno-omit-frame-pointer $(SANITIZE)
SHLIB_LINK = -lstdc++ $(SANITIZE)

# Rebuild objects whose headers changed (PGXS writes the dependencies to .deps/).
override autodepend = yes

# No LLVM bitcode for JIT inlining: clang would need our C++17 flags, and nothing here is inlinable SQL.
override with_llvm = no

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS names each dependency file after the source's base name (.deps/verify.Po), so sources of
# the same name in two rooms (audit/verify.cpp, migrate/verify.cpp) would share one and an
# edited header would not rebuild every object that includes it: name them by path instead.
%.o: %.cpp
	@mkdir -p $(DEPDIR)/$(dir $*)
	$(COMPILE.cc) -o $@ $< -MMD -MP -MF $(DEPDIR)/$*.Po
-include $(wildcard $(DEPDIR)/src/*/*.Po $(DEPDIR)/src/*/*/*.Po)

# PGXS compiles .cpp with CXXFLAGS (PG_CXXFLAGS appended); drop the C-only warnings it passes.
override CXXFLAGS := $(filter-out -Wmissing-prototypes -Wdeclaration-after-statement,$(CXXFLAGS))

# pg_migrate, the client: C++17 on libpq, built with the module and installed into bindir.
all: pg_migrate
$(CLIENT_OBJS): override CPPFLAGS += -I$(includedir)
pg_migrate: $(CLIENT_OBJS)
	$(CXX) $(CXXFLAGS) $(LDFLAGS) -o $@ $^ -L$(libdir) -lpq $(SANITIZE)
install: install-client
install-client: pg_migrate installdirs
	$(MKDIR_P) '$(DESTDIR)$(bindir)'
	$(INSTALL_PROGRAM) pg_migrate '$(DESTDIR)$(bindir)/pg_migrate'
uninstall: uninstall-client
uninstall-client:
	rm -f '$(DESTDIR)$(bindir)/pg_migrate'
EXTRA_CLEAN = pg_migrate $(CLIENT_OBJS)
.PHONY: install-client uninstall-client

sql/migrations_schema--$(MS_VERSION).sql: sql/migrations_schema.sql $(EXTENSION).control
	cp $< $@

# The library checks the installed extension against the control file's version.
src/migrate/lock.o: $(EXTENSION).control
