// C201 check-without-not-valid (constraint).
//
// Trigger: ALTER TABLE ... ADD [CONSTRAINT name] CHECK (...) without NOT VALID: PostgreSQL
// scans the whole table to validate it, under ACCESS EXCLUSIVE. With NOT VALID only new rows
// are checked; VALIDATE CONSTRAINT in a later transaction scans under SHARE UPDATE EXCLUSIVE,
// which blocks no reads or writes.
// Catalog: the severity grows with the table's rows (Context::sized).
#include "lint/rules/rules.hpp"

namespace ms::lint::checks {

void check_without_not_valid(Context& ctx, RangeVar* rv, Constraint* c) {
    if (c->contype != CONSTR_CHECK || c->skip_validation) return;
    ctx.sized_finding(rv, RuleId::check_without_not_valid,
                      "ADD CHECK scans the whole table under an ACCESS EXCLUSIVE lock",
                      "ADD CONSTRAINT ... CHECK (...) NOT VALID, then VALIDATE CONSTRAINT in a "
                      "later transaction");
}

}  // namespace ms::lint::checks
