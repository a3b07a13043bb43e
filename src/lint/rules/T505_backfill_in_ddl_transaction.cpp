// T505 backfill-in-ddl-transaction (transaction).
//
// Trigger: UPDATE or DELETE without WHERE of a table not created earlier in the script, in a
// script that also has DDL (any statement other than SELECT, INSERT, UPDATE, DELETE, SET and
// transaction control): the locks the DDL took are held while every row is rewritten.
// Catalog: none.
#include "lint/rules/rules.hpp"

namespace ms::lint::checks {

void backfill_in_ddl_transaction(Context& ctx, Node* n) {
    if (!ctx.has_ddl) return;
    if (IsA(n, UpdateStmt)) {
        auto* s = reinterpret_cast<UpdateStmt*>(n);
        if (s->whereClause != nullptr || ctx.created_here(s->relation)) return;
        ctx.add(RuleId::backfill_in_ddl_transaction, Severity::warning,
                "UPDATE of every row of " + rel_name(s->relation) +
                    " in the same transaction as DDL: the DDL's locks are held while every row "
                    "is rewritten",
                "backfill in batches (UPDATE ... WHERE id BETWEEN ...), each in its own "
                "transaction, outside the DDL migration");
    } else if (IsA(n, DeleteStmt)) {
        auto* s = reinterpret_cast<DeleteStmt*>(n);
        if (s->whereClause != nullptr || ctx.created_here(s->relation)) return;
        ctx.add(
            RuleId::backfill_in_ddl_transaction, Severity::warning,
            "DELETE of every row of " + rel_name(s->relation) + " in the same transaction as DDL",
            "delete in batches in their own transactions, or TRUNCATE a table nothing "
            "references");
    }
}

}  // namespace ms::lint::checks
