// I305 reindex-not-concurrent (index).
//
// Trigger: REINDEX (TABLE, INDEX, SCHEMA, DATABASE, SYSTEM) without CONCURRENTLY: it blocks
// writes to the table, and reads that would use the index, while it rebuilds.
// Catalog: REINDEX TABLE and REINDEX INDEX are judged by the table's rows (for an index, its
// table's, from pg_index without a lock: Context::index_table; Context::sized): nothing for an
// empty table, one created earlier in the script or a missing one. REINDEX SCHEMA, DATABASE
// and SYSTEM name no one table: always a warning. With CONCURRENTLY, I303 applies instead.
#include "lint/rules/rules.hpp"

namespace ms::lint::checks {

void reindex_not_concurrent(Context& ctx, Node* n) {
    if (!IsA(n, ReindexStmt)) return;
    auto* s = reinterpret_cast<ReindexStmt*>(n);
    if (option_on(s->params, "concurrently")) return;
    const char* what =
        "REINDEX blocks writes to the table (and reads that use the index) while it rebuilds";
    const char* alternative =
        "REINDEX ... CONCURRENTLY (apply runs it after the migration's transaction commits)";
    if (s->relation == nullptr) {
        ctx.add(RuleId::reindex_not_concurrent, Severity::warning, what, alternative);
        return;
    }
    bool index = s->kind == REINDEX_OBJECT_INDEX;
    RangeVar* table = index ? ctx.index_table(s->relation) : s->relation;
    if (table == nullptr) return;
    ctx.sized_finding(table, RuleId::reindex_not_concurrent, what, alternative, s->relation);
}

}  // namespace ms::lint::checks
