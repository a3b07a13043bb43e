# PGXS build of the migrations_schema extension (C++17 module).
#   make && make install          build and install into the PostgreSQL found by pg_config
#   make installcheck             regression and isolation suites against a running server
EXTENSION = migrations_schema
MODULE_big = migrations_schema
OBJS = src/audit.o src/boundary.o src/checksum.o src/entry.o src/lint.o src/locks.o src/runner.o \
       src/safety.o src/script.o src/spi.o src/version.o
DATA = $(wildcard sql/migrations_schema--*.sql)

REGRESS = boundary versions checksum split apply register apply_pending rollback status \
          privileges upgrade audit_capture audit_trust audit_drift lint enforce security
REGRESS_OPTS = --load-extension=migrations_schema
ISOLATION = concurrent_apply concurrent_register concurrent_rollback concurrent_snapshot \
            concurrent_audit
ISOLATION_OPTS = --load-extension=migrations_schema

PG_CONFIG ?= pg_config
# SANITIZE: extra compile and link flags, e.g. make SANITIZE=-fsanitize=address,undefined
# (test/sanitize.sh builds and runs the tests that way).
SANITIZE ?=
PG_CXXFLAGS = -std=c++17 -Wall -Wextra -Wno-missing-field-initializers -fno-omit-frame-pointer $(SANITIZE)
SHLIB_LINK = -lstdc++ $(SANITIZE)

# Rebuild objects whose headers changed (PGXS writes the dependencies to .deps/).
override autodepend = yes

# No LLVM bitcode for JIT inlining: clang would need our C++17 flags, and nothing here is inlinable SQL.
override with_llvm = no

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS compiles .cpp with CXXFLAGS (PG_CXXFLAGS appended); drop the C-only warnings it passes.
override CXXFLAGS := $(filter-out -Wmissing-prototypes -Wdeclaration-after-statement,$(CXXFLAGS))
