// The library's entry: PG_MODULE_MAGIC and _PG_init, which every room of src/ that has
// settings, hooks or callbacks hooks into.
#include "audit/audit.hpp"
#include "lint/lint.hpp"
#include "migrate/lockwait.hpp"
#include "safety/check.hpp"
#include "snapshot/snapshot.hpp"
#include "worker/worker.hpp"

extern "C" {
PG_MODULE_MAGIC;
void _PG_init(void);
}

// Loaded by the first call into the library in a backend, or at server start when listed in
// shared_preload_libraries: installs the audit's ProcessUtility hook and callbacks, and defines
// the settings.
void _PG_init(void) {
    ms::audit::init();
    ms::lint::define_settings();
    ms::safety::init();
    ms::migrate::lockwait::define_settings();
    ms::worker::init();
    ms::snapshot::define_settings();
    // Only now: reserving the prefix removes placeholders of settings not defined yet.
    MarkGUCPrefixReserved("migrations_schema");
}
