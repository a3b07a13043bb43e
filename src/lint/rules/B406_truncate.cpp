// B406 truncate (breaking).
//
// Trigger: TRUNCATE without CASCADE: every row of the named tables is gone, under ACCESS
// EXCLUSIVE on each. Each named table's lock counts for T501. (With CASCADE: B411.)
// Catalog: none.
// Alias: truncate-cascade (B411) had this id too before it got its own; an override naming
// B406 still allows both.
#include "lint/rules/rules.hpp"

namespace ms::lint::checks {

void truncate(Context& ctx, Node* n) {
    if (!IsA(n, TruncateStmt)) return;
    auto* s = reinterpret_cast<TruncateStmt*>(n);
    if (s->behavior == DROP_CASCADE) return;
    ListCell* lc;
    foreach (lc, s->relations) ctx.lock_rule(static_cast<RangeVar*>(lfirst(lc)));
    ctx.add(RuleId::truncate, Severity::warning,
            "TRUNCATE removes every row under an ACCESS EXCLUSIVE lock",
            "name every table explicitly; delete in batches when the data matters");
}

}  // namespace ms::lint::checks
