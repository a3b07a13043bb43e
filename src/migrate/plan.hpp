// Plan: a dry run that really runs. The pending migrations (up to a version) or a given script
// run statement by statement in a subtransaction that is always rolled back, and each
// statement is reported with what it did: its duration, the relation locks it took (read from
// pg_locks), the tables it rewrote (their storage changed), the rows it inserted, updated and
// deleted (the transaction's statistics counters), its lint findings, and the sessions that
// held conflicting locks when it started (what it would wait for; for a statement whose lock
// was not granted within the bound, the sessions holding that lock). Nothing remains afterwards
// (sequence values aside: nextval is never rolled back).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "pg/boundary.hpp"

namespace ms::migrate {

struct Planned {
    std::optional<std::string> version;  // nullopt for a given script
    int statement = 0, line = 0;
    std::string command, sql;  // command tag; the statement's first line
    std::string runs;          // "in transaction", "after commit", "left out"
    double duration_ms = 0;
    std::string locks = "[]";  // jsonb: [{"relation", "mode"}, ...]
    std::vector<std::string> rewrites;
    int64 inserted = 0, updated = 0, deleted = 0;
    std::string findings = "[]";   // jsonb: the lint findings of the statement
    std::string waits_for = "[]";  // jsonb: sessions that held (or hold) conflicting locks
    std::optional<std::string> error;
};

// migrate.plan(): `script` when given, else the pending migrations up to `to_version` (all of
// them when nullopt). Stops at the first statement that fails (its row has the error).
std::vector<Planned> plan(const std::optional<std::string>& to_version,
                          const std::optional<std::string>& script);

}  // namespace ms::migrate
