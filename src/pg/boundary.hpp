// The C++ / PostgreSQL error boundary: the one mechanism by which C++ code calls PostgreSQL and
// PostgreSQL calls C++ code. PostgreSQL raises errors with ereport(ERROR), a longjmp; C++ unwinds
// with exceptions. Mixed wrongly they skip destructors, leak or crash the server. The rules
// (docs/design.md explains them; every file of src/ follows them):
//
//  1. Every SQL-callable function, trigger and callback is an extern "C" wrapper (MS_FUNCTION, or
//     boundary::run from a callback) that runs the C++ core inside try/catch and raises the
//     PostgreSQL error only after every C++ frame is gone.
//  2. A call into PostgreSQL that can ereport runs either in a "leaf" function or lambda that
//     holds no object with a non-trivial destructor, through guard(), or not at all.
//  3. guard() turns a PostgreSQL ERROR into a C++ PgError after PG_END_TRY, with the memory
//     context it was entered with current again; nothing is ever thrown inside PG_TRY, and no
//     exception ever crosses a C frame (a callback from PostgreSQL into C++ is noexcept).
//  4. Memory handed back to PostgreSQL is palloc'd in the caller's context (Call::result_cxt);
//     each call works in its own memory context, deleted when it returns; C++ containers stay
//     inside the boundary.
//  5. PostgreSQL headers are included only by src/pg/pg.hpp (postgres.h first, inside
//     extern "C"); pure C++ files include src/common/pure.hpp first and no PostgreSQL header.
//  6. When the boundary returns, PG_exception_stack and error_context_stack are what they were
//     when it was entered (checked: a core that leaves them changed fails with an internal
//     error instead of corrupting later error handling).
#pragma once

#include <string>
#include <type_traits>
#include <utility>

#include "common/error.hpp"
#include "pg/pg.hpp"
#include "pg/compat.hpp"  // after pg.hpp: version differences

namespace ms {

// A PostgreSQL error caught under the core. `data` lives in the memory context of the
// SQL-callable function's caller, which survives until the error is rethrown.
class PgError : public std::exception {
  public:
    explicit PgError(ErrorData* d) : data(d) {}
    const char* what() const noexcept override;
    ErrorData* data;
};

namespace boundary {
// Copies the current PostgreSQL error out of the error state and makes `back` current again
// (called inside PG_CATCH).
ErrorData* capture(MemoryContext back) noexcept;
}  // namespace boundary

template <typename F>
auto guard(F&& f) -> decltype(f()) {
    using R = decltype(f());
    static_assert(std::is_void_v<R> || std::is_scalar_v<R>,
                  "a guarded call returns nothing, a scalar or a pointer");
    MemoryContext entered = CurrentMemoryContext;
    ErrorData* volatile caught = nullptr;
    if constexpr (std::is_void_v<R>) {
        PG_TRY();
        { f(); }
        PG_CATCH();
        { caught = boundary::capture(entered); }
        PG_END_TRY();
        if (caught) throw PgError(caught);
    } else {
        R volatile result{};
        PG_TRY();
        { result = f(); }
        PG_CATCH();
        { caught = boundary::capture(entered); }
        PG_END_TRY();
        if (caught) throw PgError(caught);
        return result;
    }
}

// What a core function gets besides fcinfo: where to allocate what it returns.
struct Call {
    FunctionCallInfo fcinfo;
    MemoryContext result_cxt;  // the caller's context: results live here
};

using CoreFn = Datum (*)(Call&);

namespace boundary {
// Runs core(fcinfo) in its own memory context; on failure records the error and sets *failed.
Datum run(FunctionCallInfo fcinfo, CoreFn core, bool* failed) noexcept;
// Raises the error recorded by run(). Call only from the extern "C" wrapper.
[[noreturn]] void raise_recorded() noexcept;
}  // namespace boundary

}  // namespace ms

#define MS_FUNCTION(sqlname, corefn)                                 \
    extern "C" {                                                     \
    PG_FUNCTION_INFO_V1(sqlname);                                    \
    }                                                                \
    extern "C" Datum sqlname(PG_FUNCTION_ARGS) {                     \
        bool failed = false;                                         \
        Datum result = ms::boundary::run(fcinfo, (corefn), &failed); \
        if (failed) ms::boundary::raise_recorded();                  \
        return result;                                               \
    }
