// C205 primary-key-builds-index (constraint).
//
// Trigger: ALTER TABLE ... ADD [CONSTRAINT name] PRIMARY KEY (...), or an inline PRIMARY KEY of
// ADD COLUMN, that builds its own index (no USING INDEX): the index is built (and the columns
// checked for NULLs) under ACCESS EXCLUSIVE.
// Catalog: the severity grows with the table's rows (Context::sized).
#include "lint/rules/rules.hpp"

namespace ms::lint::checks {

void primary_key_builds_index(Context& ctx, RangeVar* rv, Constraint* c) {
    if (c->contype != CONSTR_PRIMARY || c->indexname != nullptr) return;
    ctx.sized_finding(rv, RuleId::primary_key_builds_index,
                      "ADD PRIMARY KEY builds its index under an ACCESS EXCLUSIVE lock",
                      "CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT ... PRIMARY KEY "
                      "USING INDEX");
}

}  // namespace ms::lint::checks
