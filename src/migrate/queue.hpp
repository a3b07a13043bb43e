// The migration queue's link to the worker (src/worker), without depending on it: work queued
// in a transaction requests a worker, which the worker module starts when that transaction
// commits (nothing when it aborts).
#pragma once

namespace ms::migrate::queue {

// The bgw_type of the worker: how pg_stat_activity shows it (backend_type).
constexpr const char* kWorkerType = "migrations_schema worker";

// This transaction queued work, or found queued work that no worker runs.
void request_worker() noexcept;

// For the commit callback: whether a worker was requested in this transaction (and forget it).
bool take_request() noexcept;

// This process is the worker: it runs what is queued itself, and requests nothing.
void set_in_worker() noexcept;
bool in_worker() noexcept;

}  // namespace ms::migrate::queue
