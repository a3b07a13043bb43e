// R111 cluster-rewrite (rewrite).
// Alias: it had the id R109 (with vacuum-full-rewrite) before it got its own; an override
// naming R109 still allows it (rules.def: alias).
//
// Trigger: CLUSTER table [USING index] (a ClusterStmt naming a table): the table is rewritten in
// index order under ACCESS EXCLUSIVE. CLUSTER without a table is not judged.
// Catalog: the severity grows with the table's rows (Context::sized).
#include "lint/rules/rules.hpp"

namespace ms::lint::checks {

void cluster_rewrite(Context& ctx, Node* n) {
    if (!IsA(n, ClusterStmt)) return;
    RangeVar* rv = reinterpret_cast<ClusterStmt*>(n)->relation;
    if (rv == nullptr) return;
    ctx.sized_finding(rv, RuleId::cluster_rewrite,
                      "CLUSTER rewrites the table under an ACCESS EXCLUSIVE lock",
                      "pg_repack, or schedule it in a maintenance window");
}

}  // namespace ms::lint::checks
