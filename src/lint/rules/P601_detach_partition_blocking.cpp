// P601 detach-partition-blocking (partition).
//
// Trigger: ALTER TABLE parent DETACH PARTITION p without CONCURRENTLY, on a parent not created
// earlier in the script: it takes ACCESS EXCLUSIVE on the parent, blocking every query on the
// whole partitioned table. (With CONCURRENTLY: I303.)
// Catalog: the severity grows with the parent's rows (its partitions', Context::sized):
// nothing when they are all empty.
#include "lint/rules/rules.hpp"

namespace ms::lint::checks {

void detach_partition_blocking(Context& ctx, RangeVar* rv, AlterTableCmd* cmd) {
    if (cmd->subtype != AT_DetachPartition) return;
    auto* pc = reinterpret_cast<PartitionCmd*>(cmd->def);
    if (pc == nullptr || pc->concurrent) return;
    ctx.sized_finding(rv, RuleId::detach_partition_blocking,
                      "DETACH PARTITION takes an ACCESS EXCLUSIVE lock",
                      "DETACH PARTITION ... CONCURRENTLY (apply runs it after the migration's "
                      "transaction commits)");
}

}  // namespace ms::lint::checks
