// P602 attach-partition-scan (partition).
//
// Trigger: ALTER TABLE parent ATTACH PARTITION p FOR VALUES ...: PostgreSQL scans p, under
// ACCESS EXCLUSIVE on p, to check that every row fits the bound, unless a validated CHECK
// already implies the bound.
// Catalog: the severity grows with the rows of the partition being attached
// (Context::sized); none when it is empty or created earlier in the script.
#include "lint/rules/rules.hpp"

namespace ms::lint::checks {

void attach_partition_scan(Context& ctx, RangeVar*, AlterTableCmd* cmd) {
    if (cmd->subtype != AT_AttachPartition) return;
    auto* pc = reinterpret_cast<PartitionCmd*>(cmd->def);
    if (pc == nullptr) return;
    ctx.sized_finding(pc->name, RuleId::attach_partition_scan,
                      "ATTACH PARTITION scans the partition to check its bound",
                      "add a CHECK matching the bound NOT VALID, VALIDATE it, then ATTACH (the "
                      "scan is skipped)");
}

}  // namespace ms::lint::checks
