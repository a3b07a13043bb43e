// O803 table-without-primary-key (convention, opt-in: lint_opt_in require_primary_key).
//
// Trigger: CREATE TABLE (not a partition: PARTITION OF gets its key from the parent) with no
// PRIMARY KEY, inline or table-level: rows cannot be addressed one by one, and logical
// replication cannot replicate its updates and deletes.
// Catalog: none.
#include "lint/rules/rules.hpp"

#include "lint/settings.hpp"

namespace ms::lint::checks {

namespace {

bool has_primary_key(CreateStmt* s) {
    ListCell* lc;
    foreach (lc, s->tableElts) {
        Node* e = static_cast<Node*>(lfirst(lc));
        if (IsA(e, Constraint) && reinterpret_cast<Constraint*>(e)->contype == CONSTR_PRIMARY)
            return true;
        if (IsA(e, ColumnDef) &&
            column_constraint(reinterpret_cast<ColumnDef*>(e), CONSTR_PRIMARY) != nullptr)
            return true;
    }
    return false;
}

}  // namespace

void table_without_primary_key(Context& ctx, CreateStmt* s) {
    if (!settings::opted_in(RuleId::table_without_primary_key) || s->partbound != nullptr ||
        has_primary_key(s))
        return;
    ctx.add(RuleId::table_without_primary_key, Severity::warning,
            "table " + rel_name(s->relation) + " has no primary key",
            "add a primary key (bigint identity)");
}

}  // namespace ms::lint::checks
