// The table_rewrite guard: while a migration runs, PostgreSQL's table_rewrite event (reported
// by the audit's event trigger to its observer) stops the rewrite of a table larger than
// migrations_schema.max_rewrite_size, unless the migration allows it.
#include "audit/audit.hpp"
#include "pg/report.hpp"
#include "safety/settings.hpp"

namespace ms::safety {

namespace {

int64 total_size_leaf(Oid relid) {
    return DatumGetInt64(DirectFunctionCall1(pg_total_relation_size, ObjectIdGetDatum(relid)));
}

}  // namespace

void guard_rewrite(Oid relid, int reason) {
    if (running != nullptr) running->rewrite(relid, reason);
}

void Check::rewrite(Oid relid, int reason) {
    if (max_rewrite_kb < 0) return;
    int64 bytes = guard([&] { return total_size_leaf(relid); });
    if (bytes <= static_cast<int64>(max_rewrite_kb) * 1024) return;
    std::string table = pg::relation_name(relid).value_or("relation " + std::to_string(relid));
    std::string why;
    for (const auto& r : audit::kRewriteReasons)
        if (reason & r.bit) why += (why.empty() ? "" : "; ") + std::string(r.text);
    if (why.empty()) why = "reason code " + std::to_string(reason);
    std::string message = "rewrite of table " + table + " (" + pg::size_pretty(bytes) +
                          ", larger than migrations_schema.max_rewrite_size " +
                          pg::size_pretty(static_cast<int64>(max_rewrite_kb) * 1024) + "): " + why;
    // Allowed by the guard's own rule, or by an allowed rewrite finding of this statement.
    const Override* via = nullptr;
    for (const auto& r : recorded_)
        if (r.finding.statement == statement_ && r.allowed_by &&
            lint::family_of(r.finding.rule_id) == "rewrite")
            via = r.allowed_by;
    if (via == nullptr) via = allowing(lint::kRewriteGuardId, lint::kRewriteGuardName);
    if (via != nullptr) {
        recorded_.push_back(Recorded{
            lint::Finding{statement_, line_, lint::kRewriteGuardId, lint::kRewriteGuardName,
                          "error", message, "a new table or column filled in batches"},
            via});
        return;
    }
    throw Error(
        ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
        "migration " + label_ + " " + which_ + " script, statement " + std::to_string(statement_) +
            " would rewrite table " + table + " (" + pg::size_pretty(bytes) + ")",
        "PostgreSQL's reason: " + why +
            ". The rewrite holds an ACCESS EXCLUSIVE lock on the table while it copies every row "
            "and rebuilds every index. The table is larger than "
            "migrations_schema.max_rewrite_size (" +
            pg::size_pretty(static_cast<int64>(max_rewrite_kb) * 1024) + "). Nothing was " +
            (std::string(which_) == "up" ? "applied." : "rolled back."),
        "Change the table without a rewrite (a new column filled in batches, then a swap), or "
        "allow it with a reason: \"-- migrate:allow large-table-rewrite -- reason\" in the "
        "script or allow => ARRAY['large-table-rewrite -- reason'] in the call.");
}

}  // namespace ms::safety
