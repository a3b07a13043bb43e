// The DDL audit: event triggers that record every schema change in migrate.ddl_audit, a
// ProcessUtility hook for the exact text of each statement, and the hash chain over the rows.
//
// Rows are captured when the DDL runs and kept in transaction memory; they are written at
// pre-commit, under the chain lock, each with the previous row's hash and its own. DDL that is
// rolled back (the transaction or a subtransaction) therefore leaves no row, and an audit row
// that cannot be written makes the commit fail, so no DDL commits without its record.
#pragma once

#include "pg/boundary.hpp"

namespace ms::audit {

// From _PG_init: defines migrations_schema.audit, installs the ProcessUtility hook and the
// transaction callbacks. Plain C calls only; never throws.
void init() noexcept;

// Called by the table_rewrite event trigger before the rewrite is recorded, whether the audit
// is on or not, with the table and PostgreSQL's reason bits. It may throw (an ms::Error) to
// stop the rewrite. The audit knows nothing of who observes: src/safety registers its guard.
using RewriteObserver = void (*)(Oid relid, int reason);
void observe_rewrites(RewriteObserver observer) noexcept;

// Set by the runner while a migration script runs: audit rows of DDL made in the scope carry
// the migration's version and script ("up" / "down"). `statement` is the statement about to
// run, used as the statement text when the hook did not see it.
class MigrationScope {
  public:
    MigrationScope(const char* version, const char* script) noexcept;
    ~MigrationScope();
    void statement(const char* sql) noexcept;
    MigrationScope(const MigrationScope&) = delete;
    MigrationScope& operator=(const MigrationScope&) = delete;

  private:
    const char* saved_version_;
    const char* saved_script_;
    const char* saved_statement_;
};

// PostgreSQL's table_rewrite reason bits, described (the audit's detail, and the rewrite
// guard's error).
struct RewriteReason {
    int bit;
    const char* text;
};
extern const RewriteReason kRewriteReasons[4];

// The event trigger functions.
Datum on_ddl_command_end(Call& c);
Datum on_sql_drop(Call& c);
Datum on_table_rewrite(Call& c);

// BEFORE INSERT statement trigger of migrate.ddl_audit: loading rows directly (a restore) is
// allowed only into an empty table.
Datum load_check(Call& c);

// migrate.verify_audit(): walks the chain; one row (valid, rows_checked, first_id, last_id,
// broken_id, problem).
Datum verify(Call& c);

// migrate.purge_audit(older_than): superuser only; deletes the oldest rows (never the newest)
// and records the purge in the chain. Returns the number of rows deleted.
Datum purge(Call& c);

// migrate.audit_preloaded(): whether shared_preload_libraries or session_preload_libraries
// lists this library (read without the privilege those settings need to be shown).
Datum preloaded(Call& c);

// True while purge() deletes rows of the audit table `relid`: the append-only guard lets
// exactly those deletes through.
bool purging(Oid relid) noexcept;

}  // namespace ms::audit
