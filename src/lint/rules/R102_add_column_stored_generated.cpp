// R102 add-column-stored-generated (rewrite).
//
// Trigger: ALTER TABLE ... ADD COLUMN ... GENERATED ALWAYS AS (...) STORED (a CONSTR_GENERATED
// constraint of the raw ColumnDef): PostgreSQL computes the expression for every existing row,
// rewriting the table under ACCESS EXCLUSIVE.
// Catalog: the severity grows with the table's rows (Context::sized).
#include "lint/rules/rules.hpp"

namespace ms::lint::checks {

void add_column_stored_generated(Context& ctx, RangeVar* rv, AlterTableCmd* cmd) {
    if (cmd->subtype != AT_AddColumn) return;
    ColumnDef* cd = reinterpret_cast<ColumnDef*>(cmd->def);
    if (column_constraint(cd, CONSTR_GENERATED) == nullptr) return;
    ctx.sized_finding(rv, RuleId::add_column_stored_generated,
                      "ADD COLUMN " + std::string(cd->colname) +
                          " GENERATED ... STORED computes every row under an ACCESS EXCLUSIVE lock",
                      "a plain column filled by a trigger and a batched backfill");
}

}  // namespace ms::lint::checks
