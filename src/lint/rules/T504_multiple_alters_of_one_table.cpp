// T504 multiple-alters-of-one-table (transaction).
//
// Trigger: a second ALTER TABLE statement on the same existing table in one script (reported
// once, at the second): each statement takes its own lock and may scan or rewrite the table
// again, where one ALTER TABLE with several subcommands does it once.
// Catalog: the severity grows with the table's rows (Context::sized): nothing for an empty or
// missing table; tables created earlier in the script do not count.
#include "lint/rules/rules.hpp"

namespace ms::lint::checks {

void multiple_alters_of_one_table(Context& ctx, AlterTableStmt* s) {
    RangeVar* rv = s->relation;
    Severity sev = ctx.sized(rv);
    if (sev == Severity::none) return;
    if (++ctx.altered[rel_name(rv)] != 2) return;
    ctx.add(RuleId::multiple_alters_of_one_table, sev,
            ctx.size_note(rv) +
                " is altered by more than one ALTER TABLE in this migration: each takes its lock "
                "and may scan or rewrite it again",
            "one ALTER TABLE with the changes separated by commas");
}

}  // namespace ms::lint::checks
