// The store: every query of the extension's bookkeeping tables (migrate.migrations and
// migrate.history) is here, and nowhere else. Each function runs its query as the tables' owner
// with search_path pinned: call them inside a pg::OwnerScope (Store opens one).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "pg/scope.hpp"

namespace ms::migrate::store {

// A migration as the store keeps it (the columns a decision needs).
struct Row {
    std::string version, state, checksum;
    std::optional<std::string> down_sql, name;
};

// A migration to apply: a pending row with its up script, or the arguments of apply().
struct Migration {
    std::string version;
    std::optional<std::string> name;
    std::string up_sql;
    std::optional<std::string> down_sql;
    std::string checksum;
};

// What one apply or rollback did, for its history row and the migration's row.
struct Outcome {
    const char* action;  // "apply", "rollback" or "update_down"
    TimestampTz at;
    std::string by;
    std::optional<double> duration_ms;
    std::optional<int> statements;
    bool out_of_order = false;
    std::optional<std::string> findings, overrides;  // jsonb text
};

// The owner scope every function below needs, entered once for a group of queries.
class Store {
  public:
    Store() { scope_.enter(); }
    void close() { scope_.leave(); }  // on the success path; an abort restores it otherwise
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    // The migration whose version takes the place of `version` in the natural order.
    std::optional<Row> find(const std::string& version);
    // The version of the newest applied migration (by version order).
    std::optional<std::string> newest_applied();
    // Pending (registered or rolled back) migrations in version order, up to `to` (a known
    // version) when given.
    std::vector<Migration> pending(const std::optional<std::string>& to);
    // Applied migrations, newest applied first: at most `limit` of them.
    std::vector<Row> applied_newest_first(int limit);
    // Applied migrations above `version` in version order, newest applied first.
    std::vector<Row> applied_above(const std::string& version);

    // A history row; returns its id (the apply's sequence number).
    int64 add_history(const std::string& version, const std::optional<std::string>& name,
                      const std::string& checksum, const Outcome& o);
    // Marks m applied with its history id; with_scripts: stores (inserts or replaces) its
    // scripts too (apply of one migration), else the row exists (a pending one).
    void mark_applied(const Migration& m, int64 seq, const Outcome& o, bool with_scripts);
    void mark_rolled_back(const std::string& version);
    // Inserts or replaces a migration that is not applied (register).
    void save_pending(const Migration& m);
    // New down script and name of a known migration.
    void update_details(const std::string& version, const std::optional<std::string>& down_sql,
                        const std::optional<std::string>& name);

    // Whether the migrations changed since this transaction's snapshot was taken (another
    // session committed an apply, register or rollback): compares a fingerprint of every row
    // read with the transaction's snapshot and with the latest one.
    bool changed_since_snapshot();

  private:
    pg::OwnerScope scope_;
};

}  // namespace ms::migrate::store
