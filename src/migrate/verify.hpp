// Verify: does a migration's down script undo its up script? Its scripts run for real in a
// subtransaction that is always rolled back, with catalog snapshots (src/snapshot) between
// them: snapshot, up, snapshot, down, snapshot, up again, snapshot. Nothing stays: no schema
// change, no history, no audit row. The statements take the locks they take in an apply (each
// wait bounded by migrations_schema.lock_timeout and its retries), held until the subtransaction
// that ran them is rolled back (at the latest when verify returns).
//
// Also the trial form of a statement, shared with plan (plan.hpp): statements that run after
// commit in an apply run inside the subtransaction without CONCURRENTLY; VACUUM and REINDEX
// CONCURRENTLY, which change no schema, are left out.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "migrate/lock.hpp"
#include "migrate/lockwait.hpp"
#include "migrate/store.hpp"
#include "script/script.hpp"
#include "snapshot/snapshot.hpp"

namespace ms::migrate {

struct Verdict {
    std::string version;
    std::optional<std::string> name;
    std::optional<bool> reversible;  // the down script restores the schema before the up script
    std::optional<bool> rerunnable;  // the up script runs again after it and gives the same schema
    std::vector<snapshot::Difference> down;   // before the up script / after the down script
    std::vector<snapshot::Difference> rerun;  // after the up script / after down and up again
    // An applied migration: the schema before / after its down and up scripts.
    std::vector<snapshot::Difference> roundtrip;
    std::optional<std::string> error;  // "SQLSTATE: message (up script, statement N, ...)"
    bool up_failed = false;            // the first run of the up script failed

    // jsonb text: [{"check": "down" | "rerun" | "down-up", "object", "property", "before",
    // "after"}, ...]
    std::string differences_json() const;
    // jsonb text of the whole verdict (stored by apply(verify => true)).
    std::string json() const;
    // The first differences or the error, for a message.
    std::string summary() const;
};

// migrate.verify(): `version` (registered, pending or applied), else the pending migrations
// (`applied` false) or the applied ones.
std::vector<Verdict> verify(const std::optional<std::string>& version, bool applied);

// apply(verify => true): the migration about to be applied, on the schema as it is now.
Verdict verify_next(const store::Migration& m);

// The statement to run inside a transaction for a trial (verify, plan), or nullopt when it is
// left out (it changes no schema).
std::optional<std::string> trial_sql(const script::Statement& st);

// What verify() and plan() run under: not nested in a migration (NotNested), not in a
// read-only transaction (25006: they run scripts), an SPI connection, the migrations lock, the
// bounded lock wait. finish() on the success path.
class Trial {
  public:
    explicit Trial(const char* function);
    void finish();

  private:
    NotNested nested_;
    lockwait::Bound bound_;
};

// Errors that end a whole verify() or plan() rather than one migration's verdict or one
// statement's row: a cancel or shutdown, a serialization failure or deadlock, running out of
// resources, an internal error, a lock not granted within the bound (plan() makes that one a
// failed statement instead).
bool ends_the_call(int sqlstate);

// migrate.schema(): the snapshot as text.
std::string schema_text();

}  // namespace ms::migrate
