// B401 drop-column (breaking).
//
// Trigger: ALTER TABLE ... DROP COLUMN on an existing table. Running code that reads the column
// fails at once; when the column holds values, they are lost.
// Catalog: an error when the column holds a value in a row visible now (the row estimate, then
// a bounded look at the table: see catalog::column_has_values_leaf), else a warning; nothing
// for a table created earlier in the script or one that does not exist.
#include "lint/rules/rules.hpp"

namespace ms::lint::checks {

void drop_column(Context& ctx, RangeVar* rv, AlterTableCmd* cmd) {
    if (cmd->subtype != AT_DropColumn) return;
    if (ctx.created_here(rv) || !ctx.stats(rv).exists) return;
    // Data loss when the column holds values; else it only breaks its readers.
    bool values = false;
    if (ctx.holds_rows(rv)) {
        catalog::ColumnInfo ci;
        Oid relid = ctx.stats(rv).relid;
        const char* col = cmd->name;
        guard([&] { catalog::column_leaf(relid, col, &ci); });
        AttrNumber attnum = ci.attnum;
        values = ci.exists && ci.attnum > 0 &&
                 guard([&] { return catalog::column_has_values_leaf(relid, attnum); });
    }
    ctx.add(RuleId::drop_column, values ? Severity::error : Severity::warning,
            "DROP COLUMN " + std::string(cmd->name) + " on " +
                (ctx.stats(rv).rows > 0 ? ctx.size_note(rv) : rel_name(rv)) +
                (values ? " loses its data" : " (it holds no values)") +
                ", and running code that reads it fails",
            "stop using the column in the application first, drop it in a later release");
}

}  // namespace ms::lint::checks
