// B408 drop-constraint (breaking).
//
// Trigger: ALTER TABLE ... DROP CONSTRAINT on a table not created earlier in the script: the
// rule the constraint enforced (a key, a reference, a CHECK) is no longer checked.
// Catalog: none.
#include "lint/rules/rules.hpp"

namespace ms::lint::checks {

void drop_constraint(Context& ctx, RangeVar* rv, AlterTableCmd* cmd) {
    if (cmd->subtype != AT_DropConstraint || ctx.created_here(rv)) return;
    ctx.add(RuleId::drop_constraint, Severity::info,
            "DROP CONSTRAINT " + std::string(cmd->name) + " on " + rel_name(rv) +
                ": the rule it enforced is no longer checked",
            "make sure the integrity is enforced elsewhere");
}

}  // namespace ms::lint::checks
