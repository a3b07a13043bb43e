// The worker: runs the queue migrate.steps of a database after the transactions that filled it
// commit. Steps are statements PostgreSQL refuses inside a transaction block or a function
// (CREATE INDEX CONCURRENTLY and friends) and everything after them in their script; the queue
// also holds migrations queued behind them. Each step runs as a top-level statement (a portal
// with isTopLevel), in a transaction of its own, as the role that applied the migration, with
// its search_path and migration settings. One worker per database at a time (a session-level
// advisory lock); it exits when the queue is empty or blocked by a failed step.
#pragma once

#include "pg/boundary.hpp"

namespace ms::worker {

// From _PG_init: the transaction callback that starts a worker at commit; with
// shared_preload_libraries, the launcher that resumes unfinished queues at server start.
void init() noexcept;

// The launcher's work (a leaf: PostgreSQL errors, no C++ objects).
void launcher_leaf();

// Starts a worker now (outside the caller's transaction's fate: for migrate.wait(), which has
// committed). False when no background worker slot is free.
bool start_now();

}  // namespace ms::worker
