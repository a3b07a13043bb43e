// Reading the arguments of SQL-callable functions and building their results, for the core
// functions of src/api/.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "pg/boundary.hpp"

namespace ms::api {

// Whether argument i is NULL or absent (a call through an older, shorter SQL declaration).
bool is_null(const Call& c, int i);
// A text Datum's contents.
std::string text_of(Datum d);
std::optional<std::string> opt_text(Call& c, int i);
// Raises 22004 naming `what` for a NULL.
std::string req_text(Call& c, int i, const char* what);
bool arg_bool(Call& c, int i, const char* what);
// The elements of a one-dimensional text[] argument at position i (a NULL element as nullopt);
// none for NULL, or for an argument the SQL definition does not have (a library newer than the
// installed extension version).
std::vector<std::optional<std::string>> text_array_arg(Call& c, int i, const char* what);

// A text result in the caller's memory context.
Datum text_result(Call& c, const std::string& s);
Datum text_datum(const std::string& s);
std::optional<Datum> opt_text_datum(const std::optional<std::string>& s);
Datum text_array_datum(const std::vector<std::string>& items);
// jsonb from its text (raises for text that is not JSON).
Datum jsonb_datum(const std::string& json);

// Rows of a set-returning function, materialized into the caller's tuplestore.
class Rows {
  public:
    explicit Rows(Call& c);
    void add(const std::vector<std::optional<Datum>>& cols);

  private:
    ReturnSetInfo* rsinfo_;
};

}  // namespace ms::api
