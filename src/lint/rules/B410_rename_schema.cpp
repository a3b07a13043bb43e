// B410 rename-schema (breaking).
// Alias: it had the id B404 (with rename-table) before it got its own; an override naming B404
// still allows it (rules.def: alias).
//
// Trigger: ALTER SCHEMA ... RENAME TO: running code that uses the old schema name fails.
// Catalog: none.
#include "lint/rules/rules.hpp"

namespace ms::lint::checks {

void rename_schema(Context& ctx, Node* n) {
    if (!IsA(n, RenameStmt)) return;
    auto* s = reinterpret_cast<RenameStmt*>(n);
    if (s->renameType != OBJECT_SCHEMA) return;
    ctx.add(RuleId::rename_schema, Severity::warning,
            "RENAME SCHEMA to " + std::string(s->newname) +
                ": running code that uses the old name fails",
            "move clients first; keep the old schema with views");
}

}  // namespace ms::lint::checks
