// C207 exclusion-constraint (constraint).
//
// Trigger: ALTER TABLE ... ADD [CONSTRAINT name] EXCLUDE ...: its index is built under ACCESS
// EXCLUSIVE, and an exclusion constraint can be neither added NOT VALID nor built from an index
// made CONCURRENTLY.
// Catalog: the severity grows with the table's rows (Context::sized).
#include "lint/rules/rules.hpp"

namespace ms::lint::checks {

void exclusion_constraint(Context& ctx, RangeVar* rv, Constraint* c) {
    if (c->contype != CONSTR_EXCLUSION) return;
    ctx.sized_finding(rv, RuleId::exclusion_constraint,
                      "ADD EXCLUDE builds its index under an ACCESS EXCLUSIVE lock (it cannot be "
                      "added NOT VALID)",
                      "only on new or empty tables; otherwise a maintenance window");
}

}  // namespace ms::lint::checks
