// B403 rename-column (breaking).
//
// Trigger: ALTER TABLE (or VIEW, MATERIALIZED VIEW) ... RENAME COLUMN of a relation not created
// earlier in the script: running code that uses the old name fails the moment the migration
// commits. Its ACCESS EXCLUSIVE lock also counts for T501.
// Catalog: none.
#include "lint/rules/rules.hpp"

namespace ms::lint::checks {

void rename_column(Context& ctx, Node* n) {
    if (!IsA(n, RenameStmt)) return;
    auto* s = reinterpret_cast<RenameStmt*>(n);
    if (s->renameType != OBJECT_COLUMN) return;
    if (s->relation) {
        if (ctx.created_here(s->relation)) return;
        ctx.lock_rule(s->relation);
    }
    ctx.add(RuleId::rename_column, Severity::warning,
            "RENAME COLUMN " + std::string(s->subname ? s->subname : "") + " to " + s->newname +
                ": running code that uses the old name fails",
            "add the new column and write both, or expose the old name through a view; switch "
            "readers, then drop the old one");
}

}  // namespace ms::lint::checks
