// I303 concurrently-in-transaction (index).
//
// Trigger: CREATE INDEX CONCURRENTLY, DROP INDEX CONCURRENTLY, REINDEX ... CONCURRENTLY and
// ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY inside the script's own BEGIN ... COMMIT
// block. PostgreSQL refuses to run them inside a transaction block; outside a block apply runs
// them as steps of their own after the migration's transaction commits. Always an error.
// Catalog: none.
#include "lint/rules/rules.hpp"

namespace ms::lint::checks {

namespace {

void report(Context& ctx, const char* what) {
    if (!ctx.in_block) return;
    ctx.add(RuleId::concurrently_in_transaction, Severity::error,
            std::string(what) +
                " cannot run inside a transaction block, and the script's BEGIN ... COMMIT block "
                "puts it in one",
            "move it out of the block: apply runs it as a step of its own, after the migration's "
            "transactional part commits");
}

}  // namespace

void concurrently_in_transaction(Context& ctx, Node* n) {
    if (IsA(n, TransactionStmt)) {
        auto kind = reinterpret_cast<TransactionStmt*>(n)->kind;
        if (kind == TRANS_STMT_BEGIN || kind == TRANS_STMT_START) ctx.in_block = true;
        if (kind == TRANS_STMT_COMMIT || kind == TRANS_STMT_ROLLBACK) ctx.in_block = false;
    } else if (IsA(n, IndexStmt)) {
        if (reinterpret_cast<IndexStmt*>(n)->concurrent) report(ctx, "CREATE INDEX CONCURRENTLY");
    } else if (IsA(n, DropStmt)) {
        auto* s = reinterpret_cast<DropStmt*>(n);
        if (s->removeType == OBJECT_INDEX && s->concurrent) report(ctx, "DROP INDEX CONCURRENTLY");
    } else if (IsA(n, ReindexStmt)) {
        if (option_on(reinterpret_cast<ReindexStmt*>(n)->params, "concurrently"))
            report(ctx, "REINDEX CONCURRENTLY");
    }
}

void concurrently_in_transaction(Context& ctx, RangeVar*, AlterTableCmd* cmd) {
    if (cmd->subtype != AT_DetachPartition) return;
    auto* pc = reinterpret_cast<PartitionCmd*>(cmd->def);
    if (pc != nullptr && pc->concurrent) report(ctx, "DETACH PARTITION ... CONCURRENTLY");
}

}  // namespace ms::lint::checks
