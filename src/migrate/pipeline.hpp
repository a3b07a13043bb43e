// The migration pipeline: the one path every migration takes, up (apply) or down (rollback).
//
//   prepare   the script to run is split by PostgreSQL's parser and checked (transaction
//             control, statements that cannot run in a transaction block, COPY to the client),
//             its `-- migrate:allow` directives name known rules. For a call of many
//             migrations every one is prepared before any runs; nothing runs when one fails.
//   vet       the script is linted on the live catalog; error-level findings that no override
//             allows refuse it (safety::Check).
//   execute   its transactional part runs as the caller (execute.hpp): bounded lock waits, the
//             rewrite guard, the audit's migration scope, an error context per statement.
//             Its steps (statements that cannot run in a transaction block, and everything
//             after the first of them) are each vetted on their own.
//   record    a history row, and the migration's new state (store.hpp); its steps are queued
//             for the worker (src/worker), which starts when the caller's transaction commits.
//             The migration is `applying` until its last step succeeded.
//
// apply (one migration or every pending one) and rollback loop over it; register runs only
// prepare. Each migration of a call runs in an SPI level of its own, so a call's memory does
// not grow with the number of migrations it runs.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "migrate/store.hpp"
#include "safety/overrides.hpp"
#include "script/script.hpp"

namespace ms::migrate {

enum class Direction { up, down };

// Overrides given in the call (allow => ARRAY['rule -- reason', ...]); std::nullopt: a NULL.
using Allow = std::vector<std::optional<std::string>>;

// One migration that ran (applied or rolled back) during a call.
struct Ran {
    std::string version;
    std::optional<std::string> name;
    int statements;
    double duration_ms;
    bool repeatable = false;  // a repeatable migration: `version` is its name
};

// "005 (users)", or "005" without a name.
std::string label(const std::string& version, const std::optional<std::string>& name);

// prepare for a script that is only stored (register): splits `text` and reads its
// directives, raising what the pipeline would raise before running it.
// Returns the statement from which the script runs as steps after commit, as "CREATE INDEX
// CONCURRENTLY (statement 2, line 4)", or nullopt when it runs whole in the caller's transaction.
std::optional<std::string> check_script(const std::string& who, const std::string& text,
                                        Direction dir);

// A down script that cannot be split would fail only when a rollback needs it: raises a
// WARNING saying so, without refusing anything.
void warn_if_down_unusable(const std::string& who, const std::optional<std::string>& down);

class Pipeline {
  public:
    // `by`: the role the migrations run as and are recorded for.
    Pipeline(Direction dir, const Allow& allow, std::string by);
    Pipeline(const Pipeline&) = delete;
    Pipeline& operator=(const Pipeline&) = delete;

    // prepare. The migrations of a call are prepared in the order they will run. With `keep`,
    // the parse trees are kept for run() (a call of one migration); otherwise they are freed
    // and run() splits the script again.
    void prepare(const store::Migration& m, bool keep);

    // vet, execute and record the next prepared migration. For an apply, `out_of_order` is
    // recorded with it and `store_scripts` stores its scripts too (it was not registered).
    Ran run(const store::Migration& m, bool out_of_order = false, bool store_scripts = false);

    // Queues the next prepared migration whole, behind the work queued before it: the worker
    // runs it (through this pipeline) after that work, in order. State `queued`.
    void queue(const store::Migration& m, bool store_scripts = false);

    // Whether this call queued work: the migrations after it must queue behind it.
    bool queued() const { return queued_; }

    // The worker runs a queued migration: its steps keep its place in the queue.
    void in_queue(int64 queue_seq) { queue_seq_ = queue_seq; }

    // This pipeline runs repeatable migrations (version = R__NAME, name = NAME; their scripts
    // have no steps after commit, checked at register): run records the run in
    // migrate.repeatables and a history row 'repeatable'.
    void for_repeatables() { repeatables_ = true; }

    // apply(verify => true): before an up script runs, the migration is verified (verify.hpp);
    // one whose down script does not restore the schema is refused unless allowed
    // (irreversible-migration), and the verdict is stored with it.
    void verify_each() { verify_ = true; }

    // Raises a WARNING for each override of the call that matched nothing.
    void finish();

    const std::string& by() const { return by_; }

  private:
    struct Prepared {
        std::vector<safety::Override> directives;
        std::optional<script::Script> script;  // kept by prepare(keep)
    };
    const std::string& text_of(const store::Migration& m) const;
    script::Script split(const store::Migration& m) const;

    void queue_steps(const store::Migration& m, const script::Script& s);

    Direction dir_;
    const char* which_;  // "up" or "down"
    std::vector<safety::Override> arguments_;
    std::string by_;
    store::RunContext context_;  // how queued work will run
    std::optional<int64> queue_seq_;
    bool queued_ = false;
    bool repeatables_ = false;
    bool verify_ = false;
    std::vector<Prepared> prepared_;
    size_t next_ = 0;
};

}  // namespace ms::migrate
