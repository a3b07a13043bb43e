// C204 unique-constraint-builds-index (constraint).
//
// Trigger: ALTER TABLE ... ADD [CONSTRAINT name] UNIQUE (...), or an inline UNIQUE of ADD
// COLUMN, that builds its own index (no USING INDEX): the index is built under ACCESS
// EXCLUSIVE, blocking reads and writes for the whole build.
// Catalog: the severity grows with the table's rows (Context::sized).
#include "lint/rules/rules.hpp"

namespace ms::lint::checks {

void unique_constraint_builds_index(Context& ctx, RangeVar* rv, Constraint* c) {
    if (c->contype != CONSTR_UNIQUE || c->indexname != nullptr) return;
    ctx.sized_finding(rv, RuleId::unique_constraint_builds_index,
                      "ADD UNIQUE builds its index under an ACCESS EXCLUSIVE lock",
                      "CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT ... UNIQUE USING "
                      "INDEX");
}

}  // namespace ms::lint::checks
