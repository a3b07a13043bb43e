// R108 table-rewrite-option (rewrite).
//
// Trigger: ALTER TABLE ... SET LOGGED / SET UNLOGGED / SET TABLESPACE / SET ACCESS METHOD
// (AT_SetLogged, AT_SetUnLogged, AT_SetTableSpace, AT_SetAccessMethod): the table is rewritten
// or copied file by file under ACCESS EXCLUSIVE.
// Catalog: the severity grows with the table's rows (Context::sized).
#include "lint/rules/rules.hpp"

namespace ms::lint::checks {

void table_rewrite_option(Context& ctx, RangeVar* rv, AlterTableCmd* cmd) {
    switch (cmd->subtype) {
        case AT_SetLogged:
        case AT_SetUnLogged:
        case AT_SetTableSpace:
        case AT_SetAccessMethod:
            ctx.sized_finding(
                rv, RuleId::table_rewrite_option,
                "SET LOGGED / UNLOGGED / TABLESPACE / ACCESS METHOD rewrites or "
                "copies the table under an ACCESS EXCLUSIVE lock",
                "a new table filled in batches, then a swap; or a maintenance window");
            break;
        default:
            break;
    }
}

}  // namespace ms::lint::checks
