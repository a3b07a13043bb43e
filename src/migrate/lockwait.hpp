// Bounded lock waits for migration statements: every statement runs under
// migrations_schema.lock_timeout; a statement whose lock is not granted in time is retried
// (in a subtransaction, after a growing delay) up to migrations_schema.lock_retries times, and
// finally fails with an error naming the sessions that held the lock.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

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

// The settings in effect (migrations_schema.lock_timeout, lock_retries, lock_retry_delay).
struct Settings {
    int timeout_ms;
    int retries;
    int retry_delay_ms;
};
Settings current();

// Whether a PostgreSQL error is a lock timeout (55P03 from lock_timeout, not from NOWAIT).
bool is_lock_timeout(const PgError& e);

// The delay before retry number `attempt` (1, 2, ...): retry_delay_ms doubled for each retry
// up to a minute, varied by up to 25% either way.
long retry_delay(const Settings& s, int attempt);

// Sleeps, waking up for interrupts (a cancel ends it with an error).
void sleep_ms(long ms);

// What a statement that run() gave up on (lock not granted after the retries) waited for,
// sampled while it waited: the sessions that held that lock in a conflicting mode when it gave
// up, then the ones that had waited for it in a conflicting mode since before the statement
// started (queued first, their requests went before its own). No holders, relation or lock when
// no wait was seen (one shorter than the sampling interval).
struct Blocked {
    std::string relation;  // a relation of this database, its name as regclass prints it
    std::string lock;      // otherwise PostgreSQL's description ("transaction 731")
    struct Holder {
        int pid = 0;
        bool waiting = false;  // it waited for the lock too, in a conflicting mode (not held)
        std::string modes;     // the conflicting modes it held (or waited for), comma-separated
        // what pg_stat_activity showed of it then ("" when it had ended): transaction start
        // as YYYY-MM-DD HH24:MI:SS, the first 200 characters of its last query
        std::string user, application, state, query, since;
    };
    std::vector<Holder> holders;
};

// The error run() throws when it gives up on a lock: 55P03 naming the lock and the sessions in
// its message and detail, and what it waited for, for a caller that reports it otherwise.
class LockNotGranted : public Error {
  public:
    LockNotGranted(Error e, Blocked b) : Error(std::move(e)), blocked(std::move(b)) {}
    Blocked blocked;
};

// Runs `statement` (one statement of a migration) in a subtransaction under the bound, with
// the retries. `where` names it for messages: "migration 005 up script, statement 2".
void run(const std::function<void()>& statement, const std::string& where);

}  // namespace ms::migrate::lockwait
