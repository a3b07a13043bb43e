// I305 reindex-not-concurrent (index).
//
// Trigger: REINDEX (TABLE, INDEX, SCHEMA, DATABASE, SYSTEM) without CONCURRENTLY: it blocks
// writes to the table, and reads that would use the index, while it rebuilds.
// Catalog: none. With CONCURRENTLY, I303 applies instead.
#include "lint/rules/rules.hpp"

namespace ms::lint::checks {

void reindex_not_concurrent(Context& ctx, Node* n) {
    if (!IsA(n, ReindexStmt)) return;
    if (option_on(reinterpret_cast<ReindexStmt*>(n)->params, "concurrently")) return;
    ctx.add(RuleId::reindex_not_concurrent, Severity::warning,
            "REINDEX blocks writes to the table (and reads that use the index) while it rebuilds",
            "REINDEX ... CONCURRENTLY (apply runs it after the migration's transaction commits)");
}

}  // namespace ms::lint::checks
