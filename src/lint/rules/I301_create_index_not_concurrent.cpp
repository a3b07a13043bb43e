// I301 create-index-not-concurrent (index).
//
// Trigger: CREATE INDEX without CONCURRENTLY on an existing table: the build holds SHARE on the
// table, blocking every write until it ends (on a partitioned table: on every partition).
// Catalog: the severity grows with the table's rows (Context::sized; a partitioned table's
// rows are its partitions'). With CONCURRENTLY, I303 applies instead.
#include "lint/rules/rules.hpp"

namespace ms::lint::checks {

void create_index_not_concurrent(Context& ctx, Node* n) {
    if (!IsA(n, IndexStmt)) return;
    auto* s = reinterpret_cast<IndexStmt*>(n);
    if (s->concurrent) return;
    ctx.sized_finding(
        s->relation, RuleId::create_index_not_concurrent,
        "CREATE INDEX blocks writes to the table while it builds",
        "CREATE INDEX CONCURRENTLY (apply runs it after the migration's transaction commits)");
}

}  // namespace ms::lint::checks
