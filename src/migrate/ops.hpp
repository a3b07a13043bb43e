// What the operation files (operations.cpp, queue_ops.cpp, repeatable.cpp) share; not an
// interface of the room.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "migrate/pipeline.hpp"
#include "migrate/store.hpp"
#include "pg/spi.hpp"

namespace ms::migrate::ops {

// The SPI connection of one call: connect now, finish on the success path (an error's abort
// releases it).
class Session {
  public:
    Session() { spi::connect(); }
    void finish() { spi::finish(); }
};

// Where the queue of work after commit stands, read under the migrations lock.
struct QueueState {
    std::optional<store::QueueEntry> failed;  // a failed entry blocks everything after it
    bool busy = false;                        // unfinished work: new work queues behind it
};

// Reads it; asks for a worker when interrupted work waits and none runs.
QueueState queue_state(store::Store& db);

// "at step 2 of its up script", or "queued behind other migrations".
std::string step_name(const store::QueueEntry& e);
// The way out of a failed entry, and until when it blocks.
std::string way_out(const store::QueueEntry& f);
std::string until(const store::QueueEntry& f);
// A failed entry blocks `what`.
[[noreturn]] void throw_blocked(const store::QueueEntry& f, const std::string& what);

// Runs the pending repeatables after the versioned migrations of `pipeline`'s call, in order
// (repeatable.cpp); appends what ran to *ran when given.
void run_repeatables(Pipeline& pipeline, const std::vector<store::Repeatable>& list,
                     std::vector<Ran>* ran);

}  // namespace ms::migrate::ops
