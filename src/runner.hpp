// The migration runner: apply, register, apply pending, roll back. Every function here runs
// inside the caller's transaction, serialized by the migrations advisory lock, and either does
// all of its work or raises an error that leaves nothing of it behind.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace ms::runner {

struct Input {
    std::string version;
    std::string up_sql;
    std::optional<std::string> down_sql;
    std::optional<std::string> name;
};

// One migration that ran (applied or rolled back) during a call.
struct Ran {
    std::string version;
    std::optional<std::string> name;
    int statements;
    double duration_ms;
};

// Overrides given in the call (allow => ARRAY['rule -- reason', ...]); std::nullopt: a NULL.
using Allow = std::vector<std::optional<std::string>>;

// migrate.apply(version, up, down, name, allow_out_of_order, allow): "applied" or "unchanged".
std::string apply_one(const Input& in, bool allow_out_of_order, const Allow& allow);

// migrate.register(version, up, down, name): "registered", "updated" or "unchanged".
std::string register_one(const Input& in);

// migrate.apply(to_version, allow_out_of_order): every pending migration up to the target,
// in version order.
std::vector<Ran> apply_pending(const std::optional<std::string>& to_version,
                               bool allow_out_of_order, const Allow& allow);

// migrate.rollback(steps) / migrate.rollback(to_version): newest first.
std::vector<Ran> rollback_steps(int steps, const Allow& allow);
std::vector<Ran> rollback_to(const std::string& to_version, const Allow& allow);

}  // namespace ms::runner
