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
    std::string version, state, checksum;  // checksum: "" without a script (adopted)
    std::optional<std::string> down_sql, name;
    std::optional<std::string> order_key;  // given at register: the place in the order
    std::optional<std::string> tokens;     // the token checksum of its up script
    std::optional<std::string> adopted_from;
    bool has_script = true;     // false: adopted from another tool, no script attached yet
    std::string place() const;  // version::place of it
};

// A migration to apply: a pending row with its up script, or the arguments of apply().
struct Migration {
    std::string version;
    std::optional<std::string> name;
    std::string up_sql;
    std::optional<std::string> down_sql;
    std::string checksum;
    std::optional<std::string> order_key;
    std::optional<std::string> tokens;  // token checksum of up_sql, when known
    std::string place() const;
};

// A migration's scripts and state, for verify().
struct Scripts {
    Migration migration;
    std::string state;
    bool has_script;  // false: adopted, no script attached
};

// A version another tool applied (adopt) or a baseline declares applied.
struct Adopted {
    std::string version;
    std::optional<std::string> name;
    TimestampTz at;
    std::string by;
    std::string source;  // "flyway", ..., or "baseline"
    std::string detail;  // jsonb text for the history row
};

// A repeatable migration as stored.
struct Repeatable {
    std::string name, script, checksum, tokens, state;
    std::optional<std::string> ran_tokens;  // the tokens of the script that ran last
    int runs = 0;
};

// The newest applied migration in the order: its version and place.
struct Newest {
    std::string version, place;
};

// How the migrations other than one are ordered, and the one that already takes a place.
struct OrderCheck {
    bool natural = false, explicit_keys = false;
    std::optional<std::string> taken_by;
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

// How and as whom queued work runs: recorded with each entry of the queue at apply time.
struct RunContext {
    std::string run_as;                                // the role that applied the migration
    std::string search_path;                           // its search_path then
    int lock_timeout, lock_retries, lock_retry_delay;  // migrations_schema.* then
    std::vector<std::string> allow;                    // the call's overrides (allow => ...)
};

// An entry of the queue migrate.steps.
struct QueueEntry {
    int64 id = 0, queue_seq = 0;
    int position = 0;  // 0: a whole migration queued behind others' steps; 1..n: a step
    std::string version, direction, state;
    std::vector<std::string> statements, settings;
    std::vector<int64> numbers, lines;
    RunContext context;
    int attempts = 0;
    int pid = 0;
    std::vector<int64> pre_indexes;
    bool started = false;              // it ran before (a retry or a resumption runs it again)
    std::optional<std::string> error;  // of a failed entry: "SQLSTATE: message"
};

// A step to queue: its statements, their numbers and lines, and the SET statements before it.
struct StepToQueue {
    std::vector<std::string> statements;
    std::vector<int> numbers, lines;
    std::vector<std::string> settings;
};

// The owner scope every function below needs, entered once for a group of queries.
class Store {
  public:
    Store() { scope_.enter(); }
    void close() { scope_.leave(); }  // on the success path; an abort restores it otherwise
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    // The migration `version`, or the one whose version takes its place in the natural order.
    std::optional<Row> find(const std::string& version);
    // The newest applied migration in the order.
    std::optional<Newest> newest_applied();
    // Pending (registered or rolled back) migrations in order, up to `to` (a known migration)
    // when given.
    std::vector<Migration> pending(const std::optional<Row>& to);
    // Applied migrations, newest applied first: at most `limit` of them.
    std::vector<Row> applied_newest_first(int limit);
    // Applied migrations after `target` in the order, newest applied first.
    std::vector<Row> applied_above(const Row& target);
    // The order of the migrations other than `version`, and which one takes `place`.
    OrderCheck check_order(const std::string& version, const std::string& place);

    // A history row; returns its id (the apply's sequence number).
    int64 add_history(const std::string& version, const std::optional<std::string>& name,
                      const std::string& checksum, const Outcome& o);
    // Marks m applied (or `state`: applying, when its steps are queued) with its history id;
    // with_scripts: stores (inserts or replaces) its scripts too (apply of one migration), else
    // the row exists (a pending one).
    void mark_applied(const Migration& m, int64 seq, const Outcome& o, bool with_scripts,
                      const char* state = "applied");
    void mark_rolled_back(const std::string& version);
    // Inserts or replaces a migration that is not applied (register).
    void save_pending(const Migration& m);
    // New down script and name of a known migration.
    void update_details(const std::string& version, const std::optional<std::string>& down_sql,
                        const std::optional<std::string>& name,
                        const std::optional<std::string>& order_key);

    // A migration's new state (queued, applying, rolling back, failed, ...).
    void set_state(const std::string& version, const char* state);

    // ---- checksums, adoption, baselines ----

    // A cosmetic edit of an applied (or queued) migration's up script: the new text and raw
    // checksum are stored, the token checksum stays; a history row says what changed.
    void record_cosmetic_edit(const Row& row, const std::string& up_sql,
                              const std::string& checksum, const std::string& by);
    // A history row with a detail (jsonb text) and no run: a cosmetic edit of a repeatable.
    void note_history(const std::string& version, const std::optional<std::string>& name,
                      const char* action, const std::string& checksum, const std::string& by,
                      const std::string& detail);
    // Attaches scripts to an adopted migration (it stays applied), and its order key (its
    // place) when it has one; a history row.
    void attach(const Migration& m, const std::string& by);
    // Records `a` as applied without running anything: a history row (action "adopt", or
    // "baseline") and the migration's row (inserted without scripts at `place` when unknown,
    // order_key for a database ordered by keys). Returns the history id.
    int64 adopt(const Adopted& a, const char* action, const std::optional<Row>& known,
                const std::string& place, const std::optional<std::string>& order_key);
    // A baseline at a migration applied already: only its history row.
    void baseline_mark(const Adopted& a, const Row& known);
    // Pending (registered or rolled back) migrations at or before `place`, in order.
    std::vector<Row> pending_upto(const std::string& place);
    // Migrations in the schema (applied, or on their way), in order.
    std::vector<Row> in_schema();
    // ---- verify (store_verify.cpp) ----

    std::optional<Scripts> scripts_of(const std::string& version);
    // Applied migrations (or on their way), newest applied first, as rollback takes them.
    std::vector<Scripts> applied_scripts();
    // The verdict of apply(verify => true) (jsonb text), shown by status().
    void set_verified(const std::string& version, const std::string& verdict_json);

    // The place of the newest baseline (baseline(), golang-migrate, alembic) whose migration is
    // still applied, if any.
    std::optional<std::string> baseline_place();
    // Whether the database orders its migrations by order keys (migrations with scripts; those
    // adopted without one take their natural place until their scripts come with a key).
    bool ordered_by_keys();

    // ---- repeatable migrations ----

    std::optional<Repeatable> find_repeatable(const std::string& name);
    // Inserts or replaces it: pending (to run) or applied (its tokens ran already).
    void save_repeatable(const Repeatable& r);
    // The pending ones, in name order (bytes).
    std::vector<Repeatable> pending_repeatables();
    // It ran: applied, one more run, a history row with its findings.
    void repeatable_ran(const Repeatable& r, const Outcome& o);

    // ---- the queue (migrate.steps) ----

    // A new place in the queue, for one migration run.
    int64 next_queue_seq();
    void queue_step(int64 queue_seq, int position, const std::string& version,
                    const char* direction, const StepToQueue& step, const RunContext& context);
    // The first entry not done (pending, running or failed), in queue order; nullopt: none.
    std::optional<QueueEntry> first_unfinished();
    void mark_running(int64 id, int pid, const std::vector<Oid>& pre_indexes);
    void mark_done(int64 id);
    // Back to pending after an interruption (attempts count it).
    void mark_pending(int64 id);
    void mark_failed(int64 id, const std::string& error_json);
    // Cancels what is left of a migration run (position > after), or of every run behind it.
    void cancel_entries(int64 queue_seq);
    void cancel_queued_behind(int64 queue_seq);
    // Whether a version has entries not done (of one direction, "up" or "down", if given).
    bool unfinished_for(const std::string& version, const char* direction = nullptr);
    // Whether a run has entries not done.
    bool run_unfinished(int64 queue_seq);
    // Versions of the migrations queued (position 0, pending) in runs after queue_seq.
    std::vector<std::string> queued_versions_behind(int64 queue_seq);
    // Whether a worker of this database runs (pg_stat_activity).
    bool worker_alive();
    // Marks a failed entry pending again; returns it.
    std::optional<QueueEntry> retry(const std::optional<std::string>& version);
    // The up or down script of a known migration.
    std::optional<std::string> script_of(const std::string& version, const std::string& direction);
    // Total time of a run's steps, in milliseconds.
    double run_duration_ms(int64 queue_seq);
    // Adds to a migration's recorded duration.
    void add_duration(const std::string& version, double ms);
    // A history row of a step failure, a retry or a finished run (no findings).
    void add_event(const std::string& version, const char* action, const std::string& by,
                   std::optional<double> duration_ms, const std::optional<std::string>& error);

    // Whether the migrations changed since this transaction's snapshot was taken (another
    // session committed an apply, register or rollback): compares a fingerprint of every row
    // read with the transaction's snapshot and with the latest one.
    bool changed_since_snapshot();

  private:
    pg::OwnerScope scope_;
};

}  // namespace ms::migrate::store
