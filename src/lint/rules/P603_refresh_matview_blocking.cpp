// P603 refresh-matview-blocking (partition).
//
// Trigger: REFRESH MATERIALIZED VIEW without CONCURRENTLY (and not WITH NO DATA): the view is
// recomputed under ACCESS EXCLUSIVE, blocking every read of it.
// Catalog: the severity grows with the view's rows (Context::sized); none when it is empty.
#include "lint/rules/rules.hpp"

namespace ms::lint::checks {

void refresh_matview_blocking(Context& ctx, Node* n) {
    if (!IsA(n, RefreshMatViewStmt)) return;
    auto* s = reinterpret_cast<RefreshMatViewStmt*>(n);
    if (s->concurrent || s->skipData) return;
    ctx.sized_finding(s->relation, RuleId::refresh_matview_blocking,
                      "REFRESH MATERIALIZED VIEW blocks reads of the view while it recomputes",
                      "REFRESH MATERIALIZED VIEW CONCURRENTLY (needs a unique index)");
}

}  // namespace ms::lint::checks
