// Bounded lock waits for migration statements: every statement runs under
// migrations_schema.lock_timeout; a statement whose lock is not granted in time is retried
// (in a subtransaction, after a growing delay) up to migrations_schema.lock_retries times, and
// finally fails with an error naming the sessions that held the lock.
#pragma once

#include <functional>
#include <string>

#include "pg/boundary.hpp"

namespace ms::migrate::lockwait {

// From _PG_init: migrations_schema.lock_timeout, lock_retries, lock_retry_delay.
void define_settings() noexcept;

// lock_timeout = migrations_schema.lock_timeout for the statements of one script: set on
// enter(), restored on leave() (success path; an error's abort restores it).
class Bound {
  public:
    void enter();
    void leave();

  private:
    int nest_ = -1;
};

// Runs `statement` (one statement of a migration) in a subtransaction under the bound, with
// the retries. `where` names it for messages: "migration 005 up script, statement 2".
void run(const std::function<void()>& statement, const std::string& where);

}  // namespace ms::migrate::lockwait
