// R106 set-not-null-scan (rewrite).
//
// Trigger: ALTER TABLE ... ALTER COLUMN ... SET NOT NULL (AT_SetNotNull): PostgreSQL scans the
// whole table under ACCESS EXCLUSIVE to prove there is no NULL, unless a validated
// CHECK (col IS NOT NULL) already proves it (PostgreSQL 12+).
// Catalog: the table's validated CHECK constraints (pg_constraint) — one that is exactly
// "col IS NOT NULL" silences the rule; a NOT VALID one proves nothing. The severity grows with
// the table's rows.
#include "lint/rules/rules.hpp"

namespace ms::lint::checks {

void set_not_null_scan(Context& ctx, RangeVar* rv, AlterTableCmd* cmd) {
    if (cmd->subtype != AT_SetNotNull) return;
    const char* col = cmd->name;
    catalog::RelStats s{};
    Severity sev = ctx.sized(rv, &s);
    if (sev == Severity::none) return;
    catalog::ColumnInfo ci;
    Oid relid = s.relid;
    guard([&] { catalog::column_leaf(relid, col, &ci); });
    if (ci.exists) {
        AttrNumber attnum = ci.attnum;
        if (guard([&] { return catalog::not_null_proven_leaf(relid, attnum); })) return;
    }
    ctx.add(RuleId::set_not_null_scan, sev,
            "SET NOT NULL on " + rel_name(rv) + "." + col + " scans " + ctx.size_note(rv) +
                " under an ACCESS EXCLUSIVE lock",
            "ADD CONSTRAINT ... CHECK (" + std::string(col) +
                " IS NOT NULL) NOT VALID, VALIDATE it in a later transaction, then SET NOT "
                "NULL (no scan) and drop the CHECK");
    ctx.lock_rule(rv);
}

}  // namespace ms::lint::checks
