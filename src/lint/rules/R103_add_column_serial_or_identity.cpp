// R103 add-column-serial-or-identity (rewrite).
//
// Trigger: ALTER TABLE ... ADD COLUMN of a serial type (smallserial, serial, bigserial, as
// written) or with GENERATED ... AS IDENTITY (a CONSTR_IDENTITY constraint): every existing row
// gets its own nextval(), so the table is rewritten under ACCESS EXCLUSIVE.
// Catalog: the severity grows with the table's rows (Context::sized).
#include "lint/rules/rules.hpp"

#include <cstring>

namespace ms::lint::checks {

void add_column_serial_or_identity(Context& ctx, RangeVar* rv, AlterTableCmd* cmd) {
    if (cmd->subtype != AT_AddColumn) return;
    ColumnDef* cd = reinterpret_cast<ColumnDef*>(cmd->def);
    bool serial = strstr(type_name(cd), "serial") != nullptr;
    if (!serial && column_constraint(cd, CONSTR_IDENTITY) == nullptr) return;
    ctx.sized_finding(rv, RuleId::add_column_serial_or_identity,
                      "ADD COLUMN " + std::string(cd->colname) +
                          " serial/identity fills every row under an ACCESS EXCLUSIVE lock",
                      "a nullable bigint column, a sequence default, then a batched backfill");
}

}  // namespace ms::lint::checks
