// I303 concurrently-in-transaction (index).
//
// Trigger: CREATE INDEX CONCURRENTLY, DROP INDEX CONCURRENTLY, REINDEX ... CONCURRENTLY and
// ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY. PostgreSQL refuses to run them inside a
// transaction block (or a function), and a migration always runs in one: the migration would
// fail. Always an error.
// Catalog: none.
#include "lint/rules/rules.hpp"

namespace ms::lint::checks {

namespace {

void report(Context& ctx, const char* what) {
    ctx.add(RuleId::concurrently_in_transaction, Severity::error,
            std::string(what) +
                " cannot run inside a transaction block, and a migration always runs in one",
            "run it as its own top-level statement outside the migration (psql, autocommit)");
}

}  // namespace

void concurrently_in_transaction(Context& ctx, Node* n) {
    if (IsA(n, IndexStmt)) {
        if (reinterpret_cast<IndexStmt*>(n)->concurrent) report(ctx, "CREATE INDEX CONCURRENTLY");
    } else if (IsA(n, DropStmt)) {
        auto* s = reinterpret_cast<DropStmt*>(n);
        if (s->removeType == OBJECT_INDEX && s->concurrent) report(ctx, "DROP INDEX CONCURRENTLY");
    } else if (IsA(n, ReindexStmt)) {
        if (has_option(reinterpret_cast<ReindexStmt*>(n)->params, "concurrently"))
            report(ctx, "REINDEX CONCURRENTLY");
    }
}

void concurrently_in_transaction(Context& ctx, RangeVar*, AlterTableCmd* cmd) {
    if (cmd->subtype != AT_DetachPartition) return;
    auto* pc = reinterpret_cast<PartitionCmd*>(cmd->def);
    if (pc != nullptr && pc->concurrent) report(ctx, "DETACH PARTITION ... CONCURRENTLY");
}

}  // namespace ms::lint::checks
