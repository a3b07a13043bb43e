// The operations behind the SQL functions: apply one migration, register one, apply every
// pending one, roll back. Each runs inside the caller's transaction, serialized by the
// migrations lock, decides which migrations go through the pipeline (and refuses what must not:
// edited, out of order, missing down scripts), and either does all of its work or raises an
// error that leaves nothing of it behind.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "migrate/pipeline.hpp"

namespace ms::migrate {

struct Input {
    std::string version;
    std::string up_sql;
    std::optional<std::string> down_sql;
    std::optional<std::string> name;
    std::optional<std::string> order_key;  // register: the place in a client's own order
};

// migrate.apply(version, up, down, name, allow_out_of_order, allow): "applied" or "unchanged".
// `verify`: each migration is verified first (verify.hpp) and refused when its down script
// does not restore the schema, unless irreversible-migration is allowed.
std::string apply_one(const Input& in, bool allow_out_of_order, const Allow& allow,
                      bool verify = false);

// migrate.register(version, up, down, name, order_key): "registered", "updated" or
// "unchanged".
std::string register_one(const Input& in);

// migrate.apply(to_version, allow_out_of_order, allow): every pending migration up to the
// target, in version order.
std::vector<Ran> apply_pending(const std::optional<std::string>& to_version,
                               bool allow_out_of_order, const Allow& allow, bool verify = false);

// migrate.rollback(steps) / migrate.rollback(to_version): newest first.
std::vector<Ran> rollback_steps(int steps, const Allow& allow);
std::vector<Ran> rollback_to(const std::string& to_version, const Allow& allow);

// migrate.retry(version): the failed step (or queued migration) and what is queued behind it
// run again. Returns the version.
std::string retry(const std::optional<std::string>& version);

// migrate.register_repeatable(name, script): "registered", "updated" (it runs with the next
// apply()) or "unchanged" (the same tokens ran or wait to run).
std::string register_repeatable(const std::string& name, const std::string& script);

// migrate.apply_repeatable(name, script, allow): runs it now when new or changed; whether it
// ran.
bool apply_repeatable(const std::string& name, const std::string& script, const Allow& allow);

// migrate.compare_script(version, script): "same", "cosmetic", "edited"; nullopt for a version
// not known or without a script.
std::optional<std::string> compare_script(const std::string& version, const std::string& script);

// Where the work of one migration (or of all) stands, for CALL migrate.wait(). Reads as the
// tables' owner; needs an SPI connection.
struct WaitState {
    bool done = false;                  // nothing of it is unfinished
    std::optional<std::string> failed;  // a failed entry: its message
    std::string detail;                 // what is running or failed
    std::string hint;                   // a failed entry: the way out
    bool worker_alive = false;
};
WaitState wait_state(const std::optional<std::string>& version);

// The worker runs a migration queued behind others' steps (queue position 0), as the role that
// queued it, through the pipeline.
void run_queued(const store::QueueEntry& entry);

}  // namespace ms::migrate
