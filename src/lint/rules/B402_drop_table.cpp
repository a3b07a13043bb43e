// B402 drop-table (breaking).
//
// Trigger: DROP TABLE of an existing table (each table the statement names). Running code that
// uses it fails; its rows are lost; CASCADE also drops what depends on it (views, foreign keys).
// Catalog: an error when the table holds rows (the estimate, or a look at the table when the
// estimate says empty), else a warning; nothing for a table created earlier in the script or
// one that does not exist (DROP TABLE IF EXISTS).
// Alias: drop-schema (B409) had this id too before it got its own; an override naming B402
// still allows both.
#include "lint/rules/rules.hpp"

namespace ms::lint::checks {

void drop_table(Context& ctx, Node* n) {
    if (!IsA(n, DropStmt)) return;
    auto* s = reinterpret_cast<DropStmt*>(n);
    if (s->removeType != OBJECT_TABLE) return;
    for (RangeVar* rv : drop_targets(s)) {
        if (ctx.created_here(rv)) continue;
        if (!ctx.stats(rv).exists) continue;
        bool rows = ctx.holds_rows(rv);
        ctx.add(RuleId::drop_table, rows ? Severity::error : Severity::warning,
                "DROP TABLE " + (ctx.stats(rv).rows > 0 ? ctx.size_note(rv) : rel_name(rv)) +
                    (rows ? ": its data is lost" : " (empty)") +
                    (s->behavior == DROP_CASCADE ? ", and CASCADE drops what depends on it" : ""),
                "stop using the table first, keep a copy, drop it in a later release");
    }
}

}  // namespace ms::lint::checks
