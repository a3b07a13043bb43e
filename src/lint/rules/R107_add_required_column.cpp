// R107 add-required-column (rewrite).
//
// Trigger: ALTER TABLE ... ADD COLUMN ... NOT NULL with no DEFAULT, not generated, not identity
// and not serial. On a table with rows the statement fails (the new column would be NULL in
// every row), so the finding is always an error — whatever the thresholds — when the table has
// rows.
// Catalog: the table's rows (Context::sized): no finding for an empty table or one created
// earlier in the script.
#include "lint/rules/rules.hpp"

#include <cstring>

namespace ms::lint::checks {

void add_required_column(Context& ctx, RangeVar* rv, AlterTableCmd* cmd) {
    if (cmd->subtype != AT_AddColumn) return;
    ColumnDef* cd = reinterpret_cast<ColumnDef*>(cmd->def);
    if (column_constraint(cd, CONSTR_NOTNULL) == nullptr ||
        column_constraint(cd, CONSTR_DEFAULT) != nullptr ||
        column_constraint(cd, CONSTR_GENERATED) != nullptr ||
        column_constraint(cd, CONSTR_IDENTITY) != nullptr ||
        strstr(type_name(cd), "serial") != nullptr)
        return;
    if (ctx.sized(rv) == Severity::none) return;
    ctx.add(RuleId::add_required_column, Severity::error,
            "ADD COLUMN " + std::string(cd->colname) +
                " NOT NULL without a default fails: " + ctx.size_note(rv) + " has rows",
            "add it nullable (or NOT NULL DEFAULT a constant), backfill, then SET NOT NULL");
}

}  // namespace ms::lint::checks
