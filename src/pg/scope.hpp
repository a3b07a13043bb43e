// Scopes of the C++ core inside PostgreSQL: as whom bookkeeping runs, subtransactions, scratch
// memory, and the facts of the session a call runs in.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "pg/boundary.hpp"

namespace ms::pg {

// Bookkeeping runs as the owner of the extension's tables, with search_path pinned to
// pg_catalog, pg_temp, so that neither the caller's privileges nor the caller's search_path
// matter to it. Enter and leave on the success path; an error leaves the restoring to the
// (sub)transaction abort, which resets both the user id and the GUC nesting level.
class OwnerScope {
  public:
    void enter();
    void leave();
    bool active() const { return nest_ >= 0; }

  private:
    Oid saved_user_ = InvalidOid;
    int saved_sec_ = 0;
    int nest_ = -1;
};

// search_path pinned to pg_catalog, pg_temp for the caller's own role: what PostgreSQL prints
// (regclass, format_type, pg_get_*def) is then schema-qualified the same way whatever the
// caller's search_path. Enter and leave on the success path (an abort restores it).
class PinnedSearchPath {
  public:
    void enter();
    void leave();

  private:
    int nest_ = -1;
};

// Runs f in a subtransaction: released when f returns, rolled back (and the exception rethrown)
// when it throws. The caller's memory context and resource owner are restored either way.
void in_subtransaction(const std::function<void()>& f);

// Runs f in a subtransaction that is always rolled back: nothing f does to the database stays.
// An exception of f is rethrown after the rollback.
void in_discarded_subtransaction(const std::function<void()>& f);

// Runs f with a fresh memory context current and deletes it afterwards, also when f throws:
// what f pallocs (the parse trees of a script checked before anything runs) does not stay for
// the whole call.
void in_scratch_context(const std::function<void()>& f);

// REPEATABLE READ or SERIALIZABLE: one snapshot for the whole transaction.
bool uses_transaction_snapshot();

// The role that called the SQL function (current_user at entry).
std::string current_user_name();

// This extension's row in pg_extension, read from the catalog on every call (no cache): the
// schema it is installed in and its version. nullopt while it is not installed (CREATE
// EXTENSION has not run, or DROP EXTENSION is under way).
struct InstalledExtension {
    Oid schema = InvalidOid;
    std::optional<std::string> version;  // (never null in pg_extension)
};
std::optional<InstalledExtension> installed_extension();

// Drops this transaction's copy of what pg_stat_activity shows (read once per transaction
// otherwise), so that the next read shows the sessions as they are now.
void refresh_activity();

// The current time (GetCurrentTimestamp: not the transaction's start).
TimestampTz now();

// Allows a query cancel or termination to interrupt a long loop of the C++ core.
void check_for_interrupts();

}  // namespace ms::pg
