// R101 add-column-volatile-default (rewrite).
//
// Trigger: ALTER TABLE ... ADD COLUMN whose DEFAULT (a CONSTR_DEFAULT constraint of the raw
// ColumnDef) calls a volatile function. PostgreSQL then computes the default for every existing
// row: the table is rewritten under ACCESS EXCLUSIVE. A constant or stable default (now()) is
// stored once in the catalog (PostgreSQL 11+) and rewrites nothing.
// Catalog: the volatility of each function the expression calls, from pg_proc (an unknown
// function or a subquery counts as volatile); the severity grows with the table's rows
// (Context::sized), none for an empty table or one created earlier in the script.
#include "lint/rules/rules.hpp"

namespace ms::lint::checks {

void add_column_volatile_default(Context& ctx, RangeVar* rv, AlterTableCmd* cmd) {
    if (cmd->subtype != AT_AddColumn) return;
    ColumnDef* cd = reinterpret_cast<ColumnDef*>(cmd->def);
    Constraint* def = column_constraint(cd, CONSTR_DEFAULT);
    if (def == nullptr) return;
    Node* expr = def->raw_expr;
    char v = guard([&] { return catalog::volatility_leaf(expr); });
    if (v != PROVOLATILE_VOLATILE) return;
    ctx.sized_finding(rv, RuleId::add_column_volatile_default,
                      "ADD COLUMN " + std::string(cd->colname) +
                          " with a volatile default rewrites every row under an ACCESS EXCLUSIVE "
                          "lock",
                      "add the column without a default (or with a constant one), SET DEFAULT, "
                      "then backfill in batches");
}

}  // namespace ms::lint::checks
