// O802 tenant-table-without-rls (convention, opt-in: lint_opt_in tenant_rls).
//
// Trigger: CREATE TABLE with a column named tenant_id, when the rest of the script does not
// ALTER TABLE ... ENABLE ROW LEVEL SECURITY on it (by its unqualified name): without row-level
// security one tenant's query can read another's rows. The verdict waits for the end of the
// script; the finding belongs to the CREATE TABLE.
// Catalog: none.
#include "lint/rules/rules.hpp"

#include <cstring>

#include "lint/settings.hpp"

namespace ms::lint::checks {

void tenant_table_without_rls(Context& ctx, CreateStmt* s) {
    if (!settings::opted_in(RuleId::tenant_table_without_rls)) return;
    ListCell* lc;
    foreach (lc, s->tableElts) {
        Node* e = static_cast<Node*>(lfirst(lc));
        if (!IsA(e, ColumnDef)) continue;
        const char* col = reinterpret_cast<ColumnDef*>(e)->colname;
        if (col && strcmp(col, "tenant_id") == 0) {
            ctx.pending_rls[s->relation->relname] = {ctx.current, ctx.about(s->relation)};
            return;
        }
    }
}

void tenant_table_without_rls(Context& ctx, RangeVar* rv, AlterTableCmd* cmd) {
    if (cmd->subtype == AT_EnableRowSecurity) ctx.pending_rls.erase(rv->relname);
}

void tenant_table_without_rls(Context& ctx) {
    for (const auto& [table, pending] : ctx.pending_rls)
        ctx.add_at(pending.at, pending.about, RuleId::tenant_table_without_rls, Severity::warning,
                   "table " + table +
                       " has a tenant_id column but the migration does not enable row-level "
                       "security on it",
                   "ALTER TABLE " + table +
                       " ENABLE ROW LEVEL SECURITY and a policy on tenant_id, in the same "
                       "migration");
}

}  // namespace ms::lint::checks
