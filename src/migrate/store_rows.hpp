// What the store's files (store.cpp, store_adopt.cpp) share: the columns of a Row and how rows
// are read. Not an interface of the room.
#pragma once

#include <optional>
#include <vector>

#include "migrate/store.hpp"
#include "pg/spi.hpp"

namespace ms::migrate::store::detail {

// The columns of a Row (row_at reads them).
#define ROW_COLUMNS                                                                       \
    "version, state, coalesce(checksum, ''), down_sql, name, order_key, token_checksum, " \
    "adopted_from, up_sql IS NOT NULL"

// The version itself, else the one in its natural place (each branch on an index).

Row row_at(uint64 i);
std::vector<Row> rows(spi::Query& q, const spi::Params& p);
void optional_float8(spi::Params& p, const std::optional<double>& v);
void optional_int4(spi::Params& p, const std::optional<int>& v);

}  // namespace ms::migrate::store::detail
