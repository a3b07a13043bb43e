// Adopting a database another tool migrated: its bookkeeping table says which versions are
// applied; they are recorded as applied here without running anything (README "Adopting a
// database"). And baselines: the schema is declared to be at a version.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <cstdint>

namespace ms::migrate {

// One version the source's table holds, and what adopt did with it.
struct AdoptResult {
    std::string version;
    std::optional<std::string> name;
    std::string result;                 // "adopted", "already applied", "not applied"
    std::optional<int64_t> applied_at;  // TimestampTz, when the source has it
    std::optional<std::string> applied_by;
    std::optional<std::string> detail;
};

// migrate.adopt(source, table_name).
std::vector<AdoptResult> adopt(const std::string& source,
                               const std::optional<std::string>& table_name);

// migrate.baseline(version, name): how many migrations it marked applied (the baseline version
// itself included when it was registered and pending).
int baseline(const std::string& version, const std::optional<std::string>& name);

// The pending migrations at or below the newest baseline become applied (after an adopted
// baseline version took its place in a client's order). Returns how many.
int apply_baseline_to_pending(const std::string& by);

}  // namespace ms::migrate
