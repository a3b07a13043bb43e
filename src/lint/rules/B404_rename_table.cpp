// B404 rename-table (breaking).
//
// Trigger: ALTER TABLE ... RENAME TO of a table not created earlier in the script: running code
// that uses the old name fails the moment the migration commits. Its ACCESS EXCLUSIVE lock
// also counts for T501.
// Catalog: none.
// Alias: rename-schema (B410) had this id too before it got its own; an override naming
// B404 still allows both.
#include "lint/rules/rules.hpp"

namespace ms::lint::checks {

void rename_table(Context& ctx, Node* n) {
    if (!IsA(n, RenameStmt)) return;
    auto* s = reinterpret_cast<RenameStmt*>(n);
    if (s->renameType != OBJECT_TABLE) return;
    if (s->relation) {
        if (ctx.created_here(s->relation)) return;
        ctx.lock_rule(s->relation);
    }
    ctx.add(RuleId::rename_table, Severity::warning,
            "RENAME TABLE to " + std::string(s->newname) +
                ": running code that uses the old name fails",
            "an updatable view under the old name while clients move");
}

}  // namespace ms::lint::checks
