// B405 drop-not-null (breaking).
//
// Trigger: ALTER TABLE ... ALTER COLUMN ... DROP NOT NULL on a table not created earlier in the
// script: readers that assume the column always has a value may break on the first NULL.
// Catalog: none.
#include "lint/rules/rules.hpp"

namespace ms::lint::checks {

void drop_not_null(Context& ctx, RangeVar* rv, AlterTableCmd* cmd) {
    if (cmd->subtype != AT_DropNotNull || ctx.created_here(rv)) return;
    ctx.add(RuleId::drop_not_null, Severity::warning,
            "DROP NOT NULL on " + rel_name(rv) + "." + cmd->name +
                ": readers that assume a value may break",
            "keep NOT NULL; use a sentinel value");
}

}  // namespace ms::lint::checks
