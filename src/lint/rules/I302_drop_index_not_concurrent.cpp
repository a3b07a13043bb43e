// I302 drop-index-not-concurrent (index).
//
// Trigger: DROP INDEX without CONCURRENTLY: it takes ACCESS EXCLUSIVE on the index's table,
// queueing behind every running query on it and blocking every later one.
// Catalog: none. With CONCURRENTLY, I303 applies instead.
#include "lint/rules/rules.hpp"

namespace ms::lint::checks {

void drop_index_not_concurrent(Context& ctx, Node* n) {
    if (!IsA(n, DropStmt)) return;
    auto* s = reinterpret_cast<DropStmt*>(n);
    if (s->removeType != OBJECT_INDEX || s->concurrent) return;
    ctx.add(RuleId::drop_index_not_concurrent, Severity::warning,
            "DROP INDEX takes an ACCESS EXCLUSIVE lock on the index's table",
            "DROP INDEX CONCURRENTLY (apply runs it after the migration's transaction commits)");
}

}  // namespace ms::lint::checks
