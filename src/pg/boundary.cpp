// The single C++ / PostgreSQL error boundary. See boundary.hpp.
#include "pg/boundary.hpp"

#include <cstdio>
#include <cstring>
#include <new>

namespace ms {

static_assert(sqlstate("22023") == ERRCODE_INVALID_PARAMETER_VALUE &&
                  sqlstate("55000") == ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
              "ms::sqlstate packs SQLSTATEs as PostgreSQL's MAKE_SQLSTATE does");

namespace {

// Where a caught PostgreSQL error is copied: the context of the SQL function's caller, which
// outlives the per-call context. Set by run() for the duration of one call.
MemoryContext error_cxt = nullptr;

// The error recorded by run(), raised by raise_recorded(). Fixed buffers: filling them in a
// catch handler allocates nothing, so nothing there can raise a PostgreSQL error.
struct Recorded {
    ErrorData* pg;
    int sqlstate;
    char message[8192];
    char detail[65536];
    char hint[8192];
} recorded;

void copy_text(char* dest, size_t size, const char* src) noexcept {
    snprintf(dest, size, "%s", src ? src : "");
}

void record(int sqlstate, const char* message, const char* detail, const char* hint) noexcept {
    recorded.pg = nullptr;
    recorded.sqlstate = sqlstate;
    copy_text(recorded.message, sizeof recorded.message, message);
    copy_text(recorded.detail, sizeof recorded.detail, detail);
    copy_text(recorded.hint, sizeof recorded.hint, hint);
}

}  // namespace

const char* PgError::what() const noexcept {
    return data && data->message ? data->message : "PostgreSQL error";
}

namespace boundary {

ErrorData* capture(MemoryContext back) noexcept {
    MemoryContextSwitchTo(error_cxt ? error_cxt : TopTransactionContext);
    ErrorData* data = CopyErrorData();
    FlushErrorState();
    MemoryContextSwitchTo(back);
    return data;
}

Datum run(FunctionCallInfo fcinfo, CoreFn core, bool* failed) noexcept {
    MemoryContext caller = CurrentMemoryContext;
    sigjmp_buf* exception_stack = PG_exception_stack;
    ErrorContextCallback* context_stack = error_context_stack;
    MemoryContext saved_error_cxt = error_cxt;
    MemoryContext call_cxt = nullptr;
    Datum result = (Datum)0;
    *failed = true;
    error_cxt = caller;
    try {
        call_cxt = guard([&] {
            return AllocSetContextCreate(caller, "migrations_schema call", ALLOCSET_DEFAULT_SIZES);
        });
        MemoryContextSwitchTo(call_cxt);
        Call call{fcinfo, caller};
        result = core(call);
        *failed = false;
    } catch (const PgError& e) {
        recorded.pg = e.data;
    } catch (const Error& e) {
        record(e.sqlstate, e.message.c_str(), e.detail.c_str(), e.hint.c_str());
    } catch (const std::bad_alloc&) {
        record(ERRCODE_OUT_OF_MEMORY, "out of memory in migrations_schema", "", "");
    } catch (const std::exception& e) {
        char message[1024];
        snprintf(message, sizeof message, "migrations_schema internal error: %s", e.what());
        record(ERRCODE_INTERNAL_ERROR, message, "", "");
    } catch (...) {
        record(ERRCODE_INTERNAL_ERROR, "migrations_schema internal error: unknown C++ exception",
               "", "");
    }
    // Every C++ object of the call is gone here. Leave the caller's context as we found it.
    MemoryContextSwitchTo(caller);
    if (PG_exception_stack != exception_stack || error_context_stack != context_stack) {
        // A core left a PG_TRY or an error context callback behind: a bug that would make a
        // later error jump into, or call back through, a dead frame. Undo it and fail.
        PG_exception_stack = exception_stack;
        error_context_stack = context_stack;
        record(ERRCODE_INTERNAL_ERROR,
               "migrations_schema internal error: the error handling stack was left changed", "",
               "");
        *failed = true;
    }
    if (call_cxt) MemoryContextDelete(call_cxt);
    error_cxt = saved_error_cxt;
    return result;
}

void raise_recorded() noexcept {
    if (recorded.pg) {
        ErrorData* data = recorded.pg;
        recorded.pg = nullptr;
        ReThrowError(data);
    }
    ereport(ERROR, (errcode(recorded.sqlstate), errmsg_internal("%s", recorded.message),
                    recorded.detail[0] ? errdetail_internal("%s", recorded.detail) : 0,
                    recorded.hint[0] ? errhint("%s", recorded.hint) : 0));
    pg_unreachable();
}

}  // namespace boundary
}  // namespace ms
