// T505 backfill-in-ddl-transaction (transaction).
//
// Trigger: UPDATE or DELETE without WHERE of an existing table that holds rows, in a script
// that also has DDL (any statement other than SELECT, INSERT, UPDATE, DELETE, SET and
// transaction control): the locks the DDL took are held while every row is rewritten.
// Catalog: the table's rows (Context::sized): nothing for an empty table, one created earlier
// in the script or a missing one; info, warning or error by the row thresholds. A statement
// that T506 large-data-change reports (it runs first) gets no T505 as well: T506 says the same
// and more (from lint_warning_rows, T506 reports every such statement).
#include "lint/rules/rules.hpp"

namespace ms::lint::checks {

void backfill_in_ddl_transaction(Context& ctx, Node* n) {
    if (!ctx.has_ddl || ctx.reported(RuleId::large_data_change)) return;
    if (IsA(n, UpdateStmt)) {
        auto* s = reinterpret_cast<UpdateStmt*>(n);
        if (s->whereClause != nullptr) return;
        Severity sev = ctx.sized(s->relation);
        if (sev == Severity::none) return;
        ctx.add(RuleId::backfill_in_ddl_transaction, sev,
                "UPDATE of every row of " + ctx.size_note(s->relation) +
                    " in the same transaction as DDL: the DDL's locks are held while every row "
                    "is rewritten",
                "backfill in batches (UPDATE ... WHERE id BETWEEN ...), each in its own "
                "transaction, outside the DDL migration");
    } else if (IsA(n, DeleteStmt)) {
        auto* s = reinterpret_cast<DeleteStmt*>(n);
        if (s->whereClause != nullptr) return;
        Severity sev = ctx.sized(s->relation);
        if (sev == Severity::none) return;
        ctx.add(RuleId::backfill_in_ddl_transaction, sev,
                "DELETE of every row of " + ctx.size_note(s->relation) +
                    " in the same transaction as DDL",
                "delete in batches in their own transactions, or TRUNCATE a table nothing "
                "references");
    }
}

}  // namespace ms::lint::checks
