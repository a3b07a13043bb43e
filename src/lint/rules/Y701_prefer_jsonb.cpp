// Y701 prefer-jsonb (type).
//
// Trigger: a column of type json (CREATE TABLE or ADD COLUMN). json has no equality operator:
// DISTINCT, GROUP BY, UNION and UNIQUE on it fail; it is re-parsed on every access. Info.
// Catalog: none (the type as written).
#include "lint/rules/rules.hpp"

#include <cstring>

namespace ms::lint::checks {

void prefer_jsonb(Context& ctx, ColumnDef* cd, bool) {
    if (strcmp(type_name(cd), "json") != 0) return;
    ctx.add(RuleId::prefer_jsonb, Severity::info,
            "column " + std::string(cd->colname ? cd->colname : "?") + " is json",
            "jsonb (json has no equality operator: DISTINCT, GROUP BY and UNIQUE fail)");
}

}  // namespace ms::lint::checks
