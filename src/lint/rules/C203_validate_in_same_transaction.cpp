// C203 validate-in-same-transaction (constraint).
//
// Trigger: ALTER TABLE ... VALIDATE CONSTRAINT name, where the same script added `name` with
// NOT VALID (ALTER TABLE ... ADD CONSTRAINT name ... NOT VALID). The migration is one
// transaction: the ADD's ACCESS EXCLUSIVE lock is still held while VALIDATE scans, so NOT VALID
// gained nothing.
// Catalog: the constraint names come from the script; the severity grows with the table's rows
// (Context::sized): nothing for an empty table or one created earlier in the script.
#include "lint/rules/rules.hpp"

namespace ms::lint::checks {

void validate_in_same_transaction(Context& ctx, RangeVar* rv, AlterTableCmd* cmd) {
    if (cmd->subtype == AT_AddConstraint) {
        Constraint* c = reinterpret_cast<Constraint*>(cmd->def);
        if (c->skip_validation && c->conname) ctx.not_valid.insert(c->conname);
        return;
    }
    if (cmd->subtype != AT_ValidateConstraint || !ctx.not_valid.count(cmd->name)) return;
    Severity sev = ctx.sized(rv);
    if (sev == Severity::none) return;
    ctx.add(RuleId::validate_in_same_transaction, sev,
            "VALIDATE CONSTRAINT " + std::string(cmd->name) +
                " in the migration that added it NOT VALID: the scan of " + ctx.size_note(rv) +
                " runs while the ADD's lock is still held",
            "VALIDATE in a later migration (its own transaction)");
}

}  // namespace ms::lint::checks
