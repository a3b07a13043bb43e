// Talking to PostgreSQL from the C++ core: SPI with cached plans, values in and out, the
// caller's statements, and the scope in which the extension's own bookkeeping runs.
#pragma once

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "boundary.hpp"

namespace ms::spi {

// One bookkeeping query: prepared once per backend, kept (SPI_keepplan) and reused.
struct Query {
    const char* sql;
    int nargs;
    Oid argtypes[16];
    SPIPlanPtr plan;
};

void connect();
void finish();  // only on success: an error leaves cleanup to the transaction abort

// A text (or NULL) value for a query parameter, allocated in the current memory context.
Datum text_value(std::string_view s);

// Runs q with values/nulls ('n' marks NULL, ' ' not NULL); returns the row count. The rows
// stay in SPI_tuptable until release().
uint64 run(Query& q, const Datum* values, const char* nulls);
std::optional<std::string> get_text(uint64 row, int column);
int64 get_int64(uint64 row, int column);
void release();

// Runs q (no parameters) once with the transaction's snapshot and once with the latest
// snapshot; returns whether the first column of the first row differs.
bool differs_from_latest(Query& q);

// Executes one statement of a migration as the caller, with the caller's search_path.
void execute(const std::string& sql);

// Bookkeeping runs as the owner of the extension's tables, with search_path pinned to
// pg_catalog, pg_temp, so that neither the caller's privileges nor the caller's search_path
// matter to it. Enter and leave on the success path; an error leaves the restoring to the
// (sub)transaction abort, which resets both the user id and the GUC nesting level.
class Internal {
  public:
    void enter();
    void leave();

  private:
    Oid saved_user_ = InvalidOid;
    int saved_sec_ = 0;
    int nest_ = -1;
};

// Transaction-scoped exclusive advisory lock that serializes every apply, register and
// rollback in the database: pg_advisory_xact_lock(kLockKey1, kLockKey2).
constexpr int32 kLockKey1 = 1836411762;  // 'migr'
constexpr int32 kLockKey2 = 1;
void lock_migrations();

// REPEATABLE READ or SERIALIZABLE: one snapshot for the whole transaction.
bool uses_transaction_snapshot();

// Runs f in a subtransaction: released when f returns, rolled back (and the exception rethrown)
// when it throws. The caller's memory context and resource owner are restored either way.
void in_subtransaction(const std::function<void()>& f);

// "schema.table" of a relation, each part quoted as needed; nullopt when it no longer exists.
std::optional<std::string> relation_name(Oid relid);

// The role that called the SQL function (current_user at entry).
std::string current_user_name();

// Raises a NOTICE or WARNING (through the guard).
void notice(const std::string& message, const std::string& detail = {});
void warning(const std::string& message, const std::string& detail = {},
             const std::string& hint = {});

}  // namespace ms::spi

namespace ms::spi {

// Parameters of one bookkeeping query. Text and bytea values are allocated in the current
// memory context; the others are passed by value.
class Params {
  public:
    Params& text(std::string_view s);
    Params& text(const std::string& s) { return text(std::string_view(s)); }
    Params& text(const char* s) { return text(std::string_view(s)); }
    Params& text(const std::optional<std::string>& s);
    Params& bytes(std::string_view s);
    Params& null() { return add((Datum)0, true); }
    Params& int4(int32 v);
    Params& int8(int64 v);
    Params& float8(double v);
    Params& boolean(bool v);
    Params& timestamptz(TimestampTz v);
    const Datum* values() const { return values_; }
    const char* nulls() const { return nulls_; }

  private:
    Params& add(Datum d, bool isnull);
    Datum values_[16] = {};
    char nulls_[17] = {};
    int n_ = 0;
};

TimestampTz now();

}  // namespace ms::spi
