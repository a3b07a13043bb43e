// I302 drop-index-not-concurrent (index).
//
// Trigger: DROP INDEX without CONCURRENTLY, one finding per index: it takes ACCESS EXCLUSIVE on
// the index's table, queueing behind every running query on it and blocking every later one.
// Catalog: the index's table (pg_index, read without a lock: Context::index_table); the
// severity grows with its rows (Context::sized): nothing for an empty table, one created
// earlier in the script, or an index that does not exist (DROP INDEX IF EXISTS). With
// CONCURRENTLY, I303 applies instead.
#include "lint/rules/rules.hpp"

namespace ms::lint::checks {

void drop_index_not_concurrent(Context& ctx, Node* n) {
    if (!IsA(n, DropStmt)) return;
    auto* s = reinterpret_cast<DropStmt*>(n);
    if (s->removeType != OBJECT_INDEX || s->concurrent) return;
    ListCell* lc;
    foreach (lc, s->objects) {
        List* names = static_cast<List*>(lfirst(lc));
        RangeVar* index = guard([&] { return catalog::range_var_leaf(names); });
        RangeVar* table = ctx.index_table(index);
        if (table == nullptr) continue;
        ctx.sized_finding(
            table, RuleId::drop_index_not_concurrent,
            "DROP INDEX " + rel_name(index) + " takes an ACCESS EXCLUSIVE lock",
            "DROP INDEX CONCURRENTLY (apply runs it after the migration's transaction commits)",
            index);
    }
}

}  // namespace ms::lint::checks
