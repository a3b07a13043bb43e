// C202 foreign-key-without-not-valid (constraint).
//
// Trigger: a FOREIGN KEY (table-level, or an inline REFERENCES of ADD COLUMN) added to an
// existing table without NOT VALID: PostgreSQL checks every row against the referenced table
// while holding SHARE ROW EXCLUSIVE on both, blocking their writes. A foreign key in the
// CREATE TABLE of its table checks nothing.
// Catalog: the severity grows with the referencing table's rows (Context::sized).
#include "lint/rules/rules.hpp"

namespace ms::lint::checks {

void foreign_key_without_not_valid(Context& ctx, const ForeignKey& fk) {
    if (fk.in_create || fk.constraint->skip_validation) return;
    Severity sev = ctx.sized(fk.table);
    if (sev == Severity::none) return;
    ctx.add(RuleId::foreign_key_without_not_valid, sev,
            "adding a validated foreign key scans " + ctx.size_note(fk.table) +
                " while blocking writes to it and to " + rel_name(fk.constraint->pktable),
            "ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID, then VALIDATE CONSTRAINT in a later "
            "transaction");
}

}  // namespace ms::lint::checks
