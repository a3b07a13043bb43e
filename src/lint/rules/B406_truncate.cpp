// B406 truncate (breaking).
//
// Trigger: TRUNCATE without CASCADE of tables of which at least one holds rows: every row of
// the named tables is gone, under ACCESS EXCLUSIVE on each. Each named table's lock counts for
// T501. (With CASCADE: B411.)
// Catalog: whether each named table holds rows (the estimate, or a look at the table when the
// estimate says empty: data loss is at stake, as for B402); tables created earlier in the
// script and missing ones hold none. Nothing when no named table holds rows.
// Alias: truncate-cascade (B411) had this id too before it got its own; an override naming
// B406 still allows both.
#include "lint/rules/rules.hpp"

namespace ms::lint::checks {

void truncate(Context& ctx, Node* n) {
    if (!IsA(n, TruncateStmt)) return;
    auto* s = reinterpret_cast<TruncateStmt*>(n);
    if (s->behavior == DROP_CASCADE) return;
    std::string with_rows;
    ListCell* lc;
    foreach (lc, s->relations) {
        RangeVar* rv = static_cast<RangeVar*>(lfirst(lc));
        ctx.lock_rule(rv);
        if (ctx.created_here(rv) || !ctx.holds_rows(rv)) continue;
        with_rows += (with_rows.empty() ? "" : ", ") +
                     (ctx.stats(rv).rows > 0 ? ctx.size_note(rv) : rel_name(rv));
    }
    if (with_rows.empty()) return;
    ctx.add(RuleId::truncate, Severity::warning,
            "TRUNCATE removes every row under an ACCESS EXCLUSIVE lock: " + with_rows,
            "name every table explicitly; delete in batches when the data matters");
}

}  // namespace ms::lint::checks
