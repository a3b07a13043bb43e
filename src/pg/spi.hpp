// SPI from the C++ core: prepared queries kept for the backend's life, their parameters and
// results, and the statements of a migration. Scopes (as whom, in which subtransaction) are in
// scope.hpp; every bookkeeping query itself is in src/migrate/store.cpp.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "pg/boundary.hpp"

namespace ms::spi {

// One bookkeeping query: prepared once per backend, kept (SPI_keepplan) and reused.
struct Query {
    const char* sql;
    int nargs;
    Oid argtypes[20];
    SPIPlanPtr plan;
    // Always the generic plan, never one planned for the parameters' values (each run would
    // be planned again: for a query run thousands of times on few rows).
    bool generic = false;
};

void connect();
void finish();  // only on success: an error leaves cleanup to the transaction abort

// A text (or NULL) value for a query parameter, allocated in the current memory context.
Datum text_value(std::string_view s);

// Runs q with values/nulls ('n' marks NULL, ' ' not NULL); returns the row count. The rows
// stay in SPI_tuptable until release().
uint64 run(Query& q, const Datum* values, const char* nulls);
std::optional<std::string> get_text(uint64 row, int column);
int64 get_int64(uint64 row, int column);  // int2, int4, int8 or oid; 0 for NULL
bool is_null(uint64 row, int column);
// One-dimensional arrays (NULL: empty); NULL elements are read as "" and 0.
std::vector<std::string> get_text_array(uint64 row, int column);
std::vector<int64> get_int_array(uint64 row, int column);
void release();

// The columns of the rows in SPI_tuptable: how many, and the name of one (1-based).
int column_count();
std::string column_name(int column);

// Runs q (no parameters) once with the transaction's snapshot and once with the latest
// snapshot; returns whether the first column of the first row differs.
bool differs_from_latest(Query& q);

// Runs a read-only query built at run time (no parameters), as the current user; the rows stay
// in SPI_tuptable until release(). Returns the row count.
uint64 read(const std::string& sql);
// The same with a fresh snapshot taken after the changes of the current transaction so far
// (a read-only query shares the calling statement's snapshot): what the catalog is now.
uint64 read_now(const std::string& sql);

// Executes one statement of a migration as the caller, with the caller's search_path. The rows
// a statement returns (a SELECT in a migration) are not kept.
void execute(const std::string& sql);

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
    Params& oid(Oid v);
    Params& int8(int64 v);
    Params& float8(double v);
    Params& boolean(bool v);
    Params& timestamptz(TimestampTz v);
    Params& text_array(const std::vector<std::string>& v);
    Params& int4_array(const std::vector<int>& v);
    Params& oid_array(const std::vector<Oid>& v);
    const Datum* values() const { return values_; }
    const char* nulls() const { return nulls_; }

  private:
    Params& add(Datum d, bool isnull);
    Datum values_[20] = {};
    char nulls_[21] = {};
    int n_ = 0;
};

}  // namespace ms::spi
