// B411 truncate-cascade (breaking).
// Alias: it had the id B406 (with truncate) before it got its own; an override naming B406
// still allows it (rules.def: alias).
//
// Trigger: TRUNCATE ... CASCADE: it also empties every table with a foreign key to the named
// ones (and theirs in turn), tables the script does not name. Always an error. Each named
// table's lock counts for T501.
// Catalog: none.
#include "lint/rules/rules.hpp"

namespace ms::lint::checks {

void truncate_cascade(Context& ctx, Node* n) {
    if (!IsA(n, TruncateStmt)) return;
    auto* s = reinterpret_cast<TruncateStmt*>(n);
    if (s->behavior != DROP_CASCADE) return;
    ListCell* lc;
    foreach (lc, s->relations) ctx.lock_rule(static_cast<RangeVar*>(lfirst(lc)));
    ctx.add(RuleId::truncate_cascade, Severity::error,
            "TRUNCATE ... CASCADE empties every table that references these, too",
            "name every table explicitly; delete in batches when the data matters");
}

}  // namespace ms::lint::checks
