// Y704 prefer-timestamptz (type).
//
// Trigger: a column of type timestamp (without time zone): it stores a wall-clock reading, not
// a point in time; its meaning changes with the writer's time zone. Info.
// Catalog: none (the type as written).
#include "lint/rules/rules.hpp"

#include <cstring>

namespace ms::lint::checks {

void prefer_timestamptz(Context& ctx, ColumnDef* cd, bool) {
    if (strcmp(type_name(cd), "timestamp") != 0) return;
    ctx.add(RuleId::prefer_timestamptz, Severity::info,
            "column " + std::string(cd->colname ? cd->colname : "?") +
                " is timestamp without time zone",
            "timestamptz (stores an absolute point in time)");
}

}  // namespace ms::lint::checks
