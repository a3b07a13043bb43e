// The C++ / PostgreSQL error boundary (see DESIGN.md, "The C++ / PostgreSQL boundary").
//
// - guard(f): runs f, a lambda that calls PostgreSQL and holds no object with a non-trivial
//   destructor, inside PG_TRY. A PostgreSQL ERROR raised under it is copied out of the error
//   state and rethrown as a C++ PgError after PG_END_TRY, so C++ frames unwind normally.
// - MS_FUNCTION(name, core): defines the extern "C" SQL-callable function `name` that runs
//   `core` inside try/catch and raises the PostgreSQL error only after every C++ frame is gone.
#pragma once

#include <string>
#include <type_traits>
#include <utility>

#include "pg.hpp"

namespace ms {

// A PostgreSQL error caught under the core. `data` lives in the memory context of the
// SQL-callable function's caller, which survives until the error is rethrown.
class PgError : public std::exception {
  public:
    explicit PgError(ErrorData* d) : data(d) {}
    const char* what() const noexcept override;
    ErrorData* data;
};

// An error of our own: raised at the boundary with this SQLSTATE and these texts.
class Error : public std::exception {
  public:
    Error(int code, std::string msg, std::string det = {}, std::string hnt = {})
        : sqlstate(code), message(std::move(msg)), detail(std::move(det)), hint(std::move(hnt)) {}
    const char* what() const noexcept override { return message.c_str(); }
    int sqlstate;
    std::string message, detail, hint;
};

namespace boundary {
// Copies the current PostgreSQL error out of the error state (called inside PG_CATCH).
ErrorData* capture() noexcept;
}  // namespace boundary

template <typename F>
auto guard(F&& f) -> decltype(f()) {
    using R = decltype(f());
    static_assert(std::is_void_v<R> || std::is_scalar_v<R>,
                  "a guarded call returns nothing, a scalar or a pointer");
    ErrorData* volatile caught = nullptr;
    if constexpr (std::is_void_v<R>) {
        PG_TRY();
        { f(); }
        PG_CATCH();
        { caught = boundary::capture(); }
        PG_END_TRY();
        if (caught) throw PgError(caught);
    } else {
        R volatile result{};
        PG_TRY();
        { result = f(); }
        PG_CATCH();
        { caught = boundary::capture(); }
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
