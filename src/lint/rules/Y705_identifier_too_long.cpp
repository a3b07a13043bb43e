// Y705 identifier-too-long (type).
//
// Trigger: a column name of 64 bytes or more (NAMEDATALEN): PostgreSQL silently truncates it to
// 63 bytes, so the name the application uses is not the column's name.
// Catalog: none.
#include "lint/rules/rules.hpp"

#include <cstring>

namespace ms::lint::checks {

void identifier_too_long(Context& ctx, ColumnDef* cd, bool) {
    if (strlen(cd->colname ? cd->colname : "") < NAMEDATALEN) return;
    ctx.add(RuleId::identifier_too_long, Severity::warning,
            "column name longer than 63 bytes is truncated by PostgreSQL", "a shorter name");
}

}  // namespace ms::lint::checks
