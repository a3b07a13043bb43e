// R109 vacuum-full-rewrite (rewrite).
//
// Trigger: VACUUM (FULL) / VACUUM FULL (a VacuumStmt whose options include "full"). It
// rewrites every table it names under ACCESS EXCLUSIVE, and, like every VACUUM, cannot run in a
// transaction block — a migration always runs in one. Always an error.
// Catalog: none (VACUUM FULL without a table rewrites the whole database).
#include "lint/rules/rules.hpp"

namespace ms::lint::checks {

void vacuum_full_rewrite(Context& ctx, Node* n) {
    if (!IsA(n, VacuumStmt)) return;
    if (!option_on(reinterpret_cast<VacuumStmt*>(n)->options, "full")) return;
    ctx.add(RuleId::vacuum_full_rewrite, Severity::error,
            "VACUUM FULL rewrites every table it names under an ACCESS EXCLUSIVE lock",
            "pg_repack, or schedule it in a maintenance window");
}

}  // namespace ms::lint::checks
