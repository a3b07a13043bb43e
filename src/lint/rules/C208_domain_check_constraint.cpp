// C208 domain-check-constraint (constraint).
//
// Trigger: CREATE DOMAIN ... CHECK (...) (info: such a CHECK is re-checked against every column
// of the domain whenever it changes, and cannot be added NOT VALID per table), and
// ALTER DOMAIN ... ADD CONSTRAINT without NOT VALID (warning: it scans every column of the
// domain in every table, holding locks on them).
// Catalog: none.
#include "lint/rules/rules.hpp"

namespace ms::lint::checks {

void domain_check_constraint(Context& ctx, Node* n) {
    if (IsA(n, CreateDomainStmt)) {
        auto* s = reinterpret_cast<CreateDomainStmt*>(n);
        ListCell* lc;
        foreach (lc, s->constraints) {
            if (static_cast<Constraint*>(lfirst(lc))->contype != CONSTR_CHECK) continue;
            ctx.add(RuleId::domain_check_constraint, Severity::info,
                    "a CHECK on a domain is checked against every column of the domain whenever "
                    "it changes, and cannot be added NOT VALID per table",
                    "a CHECK constraint on the table column");
            return;
        }
    } else if (IsA(n, AlterDomainStmt)) {
        auto* s = reinterpret_cast<AlterDomainStmt*>(n);
        if (s->subtype != 'C' || s->def == nullptr ||
            reinterpret_cast<Constraint*>(s->def)->skip_validation)
            return;
        ctx.add(RuleId::domain_check_constraint, Severity::warning,
                "ALTER DOMAIN ... ADD CONSTRAINT scans every column of the domain in every table "
                "while holding locks",
                "ADD CONSTRAINT ... NOT VALID, then VALIDATE CONSTRAINT in a later transaction");
    }
}

}  // namespace ms::lint::checks
