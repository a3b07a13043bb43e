// migrate.selftest(kind): proves the C++/PostgreSQL error boundary (test/sql/boundary.sql).
// Built only for the tests, as the module ms_selftest (test/selftest/Makefile) with its own copy
// of the boundary and SPI code of src/pg/; the extension does not ship it. Each kind fails in
// its own way while C++ objects are alive, and `live` counts the objects not destroyed.
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "pg/boundary.hpp"
#include "pg/spi.hpp"

namespace {

int live_sentinels = 0;
struct Sentinel {
    Sentinel() { live_sentinels++; }
    ~Sentinel() { live_sentinels--; }
    std::string payload = std::string(1000, 'x');
};

std::string kind_arg(ms::Call& c) {
    if (c.fcinfo->args[0].isnull)
        throw ms::Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, "kind must not be NULL");
    text* t = ms::guard([&] { return DatumGetTextPP(c.fcinfo->args[0].value); });
    return std::string(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

// A callback left on error_context_stack by a (deliberately) broken core.
ErrorContextCallback stray_callback;
extern "C" void stray_context(void*) {
    errcontext("a stray error context");
}

Datum selftest(ms::Call& c) {
    std::string kind = kind_arg(c);
    Sentinel alive;
    std::vector<Sentinel> more(3);
    if (kind == "cpp_exception") throw std::runtime_error("deliberate C++ exception");
    if (kind == "bad_alloc") throw std::bad_alloc();
    if (kind == "own_error")
        throw ms::Error(ERRCODE_DATA_EXCEPTION, "deliberate error", "with a detail", "and a hint");
    if (kind == "pg_error")
        ms::guard([] {
            ereport(ERROR,
                    (errcode(ERRCODE_DIVISION_BY_ZERO), errmsg("deliberate PostgreSQL error"),
                     errdetail("raised under the C++ core")));
        });
    if (kind == "spi_error") {
        ms::spi::connect();
        ms::spi::execute("SELECT 1 / 0");
    }
    if (kind == "guard_context") {
        // After a caught PostgreSQL error, guard() leaves the context it was entered with.
        MemoryContext mine = ms::guard([] {
            return AllocSetContextCreate(CurrentMemoryContext, "selftest", ALLOCSET_SMALL_SIZES);
        });
        MemoryContext outer = MemoryContextSwitchTo(mine);
        bool restored = false;
        try {
            ms::guard([] { elog(ERROR, "deliberate"); });
        } catch (const ms::PgError&) {
            restored = CurrentMemoryContext == mine;
        }
        MemoryContextSwitchTo(outer);
        return Int32GetDatum(restored ? 1 : 0);
    }
    if (kind == "stray_context_callback") {
        // A bug the boundary must catch: the core returns with its callback still pushed.
        stray_callback.callback = stray_context;
        stray_callback.arg = nullptr;
        stray_callback.previous = error_context_stack;
        error_context_stack = &stray_callback;
        return Int32GetDatum(0);
    }
    if (kind == "live") return Int32GetDatum(live_sentinels - 4);
    if (kind == "ok") return Int32GetDatum(0);
    throw ms::Error(ERRCODE_INVALID_PARAMETER_VALUE, "unknown self-test kind: " + kind, "",
                    "Use cpp_exception, bad_alloc, own_error, pg_error, spi_error, guard_context, "
                    "stray_context_callback, live or ok.");
}

}  // namespace

extern "C" {
PG_MODULE_MAGIC;
}

MS_FUNCTION(migrate_selftest, selftest)
