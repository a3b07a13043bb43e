// Running one step in the worker: statements as top-level commands, the role and settings
// they run with, and the index a failed CREATE INDEX / REINDEX ... CONCURRENTLY left INVALID.
#pragma once

#include <string>
#include <vector>

#include "migrate/store.hpp"

namespace ms::worker {

// Runs a statement as a top-level command of the current transaction: parsed, planned and run
// through a portal with isTopLevel, as a client's statement would be, so that CREATE INDEX
// CONCURRENTLY and the other statements PostgreSQL refuses in a transaction block or a
// function work. Its rows are dropped.
void run_toplevel(const std::string& sql);

// Sets up the current transaction for a queue entry: settings reset, the entry's search_path,
// lock settings and statement_timeout 0, then its role (SET ROLE and SET SESSION AUTHORIZATION
// refused), and the script's SET statements before the step replayed.
void become(const migrate::store::RunContext& context, const std::vector<std::string>& settings);

// After a commit or an abort: back to the worker's own user (an abort alone restores the user
// its transaction started with, which after CONCURRENTLY's own commits is the migration's
// role) and settings. Outside a transaction.
void unbecome();

// What a step builds or rebuilds indexes on (CREATE INDEX / REINDEX TABLE / REINDEX INDEX ...
// CONCURRENTLY), its names resolved as the step's role with its search_path and SETs: the table
// (InvalidOid for any other step, or when it cannot be resolved) and the index the statement
// names, if it names one.
struct IndexTarget {
    Oid relid = InvalidOid;
    std::string index;
};
IndexTarget index_target(const std::string& sql, const migrate::store::RunContext& context,
                         const std::vector<std::string>& settings);

// Every index of a table now.
std::vector<Oid> indexes_of(Oid relid);

// Drops (DROP INDEX CONCURRENTLY, each in a transaction of its own, as `context`'s role) the
// INVALID indexes of the target's table that a failed step left: those not among `before`, and
// the one the step's statement names, unless another live session is building it. A drop
// waits for older transactions like a step (the migration's lock settings); returns the names
// of those it could not drop.
std::vector<std::string> drop_leftovers(const IndexTarget& target, const std::vector<int64>& before,
                                        const migrate::store::RunContext& context);

}  // namespace ms::worker
