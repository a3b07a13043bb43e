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

// Newest applied first. Migrations another tool applied (adopt, baseline) count as applied when
// the first of them was adopted, one after the other in their order: their history ids say when
// they were recorded, not in which order they ran.
#define ROLLBACK_ORDER                                                                      \
    "CASE WHEN adopted_from IS NULL THEN applied_seq ELSE (SELECT min(a.applied_seq) FROM " \
    "migrate.migrations AS a WHERE a.adopted_from IS NOT NULL) END DESC, sort_key DESC"

// The version itself, else the one in its natural place (each branch on an index).

Row row_at(uint64 i);
// A Migration from columns 1-6: version, name, up_sql, down_sql, checksum, order_key.
Migration migration_at(uint64 i);
std::vector<Row> rows(spi::Query& q, const spi::Params& p);
void optional_float8(spi::Params& p, const std::optional<double>& v);
void optional_int4(spi::Params& p, const std::optional<int>& v);

}  // namespace ms::migrate::store::detail
