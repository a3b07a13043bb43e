// The queue's link to the worker. See queue.hpp.
#include "common/pure.hpp"

#include "migrate/queue.hpp"

namespace ms::migrate::queue {

namespace {
bool requested = false;
bool worker_process = false;
}  // namespace

void request_worker() noexcept {
    if (!worker_process) requested = true;
}

bool take_request() noexcept {
    bool r = requested;
    requested = false;
    return r;
}

void set_in_worker() noexcept {
    worker_process = true;
}

bool in_worker() noexcept {
    return worker_process;
}

}  // namespace ms::migrate::queue
