// The worker's main loop. See worker.hpp.
//
//   take the database's worker lock (another worker has it: leave, it runs the queue)
//   loop: the first unfinished entry of the queue, in order
//     none, failed  release the lock, look once more (work or a retry() committed meanwhile),
//                   leave: a failed entry waits for retry() or rollback()
//     running       its worker died (a crash, a kill): clean up, run it again (kMaxInterrupted)
//     pending       mark it running, run it (a step, or a whole queued migration) and, in its
//                   last transaction, mark it done; the last step of a run makes the migration
//                   applied (or rolled back)
//   a failing entry: its leftover INVALID index dropped; a lock timeout retried after a
//   delay (migrations_schema.lock_retries); otherwise the entry and its migration are failed.
#include <chrono>
#include <cmath>

#include "audit/audit.hpp"
#include "migrate/lockwait.hpp"
#include "migrate/operations.hpp"
#include "migrate/queue.hpp"
#include "pg/report.hpp"
#include "pg/spi.hpp"
#include "safety/check.hpp"
#include "worker/step.hpp"
#include "worker/worker.hpp"

extern "C" {
PGDLLEXPORT void ms_worker_main(Datum arg);
}

namespace ms::worker {

namespace {

using migrate::store::QueueEntry;
using migrate::store::Store;

// A step interrupted this often (its worker died each time) fails; runs that ended in a lock
// timeout and were retried (lock_retries) come on top.
constexpr int kMaxInterrupted = 3;

// pg_advisory_lock(1836411762, 2): the worker of the database.
constexpr uint32 kLockKey1 = 1836411762;
constexpr uint32 kLockKey2 = 2;

bool worker_lock_leaf(bool take) {
    LOCKTAG tag;
    SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, kLockKey1, kLockKey2, 2);
    if (take) return LockAcquire(&tag, ExclusiveLock, true, true) != LOCKACQUIRE_NOT_AVAIL;
    return LockRelease(&tag, ExclusiveLock, true);
}

// Whether this database has the extension's queue (a launcher's worker may find none).
bool has_queue_leaf() {
    Oid nsp = get_namespace_oid("migrate", true);
    return OidIsValid(nsp) && OidIsValid(get_relname_relid("steps", nsp)) &&
           OidIsValid(get_extension_oid("migrations_schema", true));
}

// The worker's memory: what one entry allocates outside transactions goes here, reset after.
MemoryContext worker_cxt = nullptr;

void begin() {
    guard([] {
        SetCurrentStatementStartTimestamp();
        StartTransactionCommand();
        PushActiveSnapshot(GetTransactionSnapshot());
    });
    spi::connect();
}

void commit() {
    spi::finish();
    guard([] {
        PopActiveSnapshot();
        CommitTransactionCommand();
    });
    MemoryContextSwitchTo(worker_cxt);
}

void abort_transaction() {
    guard([] {
        disable_all_timeouts(false);
        AbortCurrentTransaction();
    });
    MemoryContextSwitchTo(worker_cxt);
}

// One bookkeeping transaction: f runs with a Store open (as the tables' owner).
template <typename F>
auto bookkeeping(F&& f) {
    begin();
    Store db;
    if constexpr (std::is_void_v<decltype(f(db))>) {
        f(db);
        db.close();
        commit();
    } else {
        auto r = f(db);
        db.close();
        commit();
        return r;
    }
}

// What a failure leaves to record: the error as JSON, and whether to retry it.
struct Failure {
    std::string json, summary;
    bool lock_timeout = false;
};

Failure describe(int sqlstate, const char* message, const char* detail, const char* hint,
                 const char* context, const QueueEntry& entry, size_t statement) {
    Failure f;
    auto field = [](const char* key, const char* value) {
        return value && *value ? ", " + pg::json_string(key) + ": " + pg::json_string(value)
                               : std::string();
    };
    char code[6];
    const char* unpacked = unpack_sql_state(sqlstate);
    snprintf(code, sizeof code, "%s", unpacked);
    f.json = "{" + pg::json_string("sqlstate") + ": " + pg::json_string(code) +
             field("message", message) + field("detail", detail) + field("hint", hint) +
             field("context", context);
    if (entry.position > 0 && statement < entry.statements.size()) {
        f.json += ", \"step\": " + std::to_string(entry.position) +
                  ", \"statement\": " + std::to_string(entry.numbers.at(statement)) +
                  ", \"line\": " + std::to_string(entry.lines.at(statement)) + ", " +
                  pg::json_string("sql") + ": " + pg::json_string(entry.statements[statement]);
    }
    f.json += ", \"attempts\": " + std::to_string(entry.attempts + 1) + "}";
    f.summary = std::string(code) + ": " + (message ? message : "error");
    return f;
}

Failure describe(const PgError& e, const QueueEntry& entry, size_t statement) {
    ErrorData* d = e.data;
    Failure f =
        describe(d->sqlerrcode, d->message, d->detail, d->hint, d->context, entry, statement);
    f.lock_timeout = migrate::lockwait::is_lock_timeout(e);
    return f;
}

Failure describe(const Error& e, const QueueEntry& entry, size_t statement) {
    return describe(e.sqlstate, e.message.c_str(), e.detail.c_str(), e.hint.c_str(), nullptr, entry,
                    statement);
}

// Whether a failure is retried: a lock timeout, with retries left.
bool retried(const QueueEntry& e, const Failure& f) {
    return f.lock_timeout && e.attempts < e.context.lock_retries;
}

class Worker {
  public:
    void run();

  private:
    // Runs an entry as its role, through its commit (the caller goes back to its own user and
    // settings after); on an error, rethrows.
    void run_entry(const QueueEntry& e);
    void run_step(const QueueEntry& e);
    void finish_run(Store& db, const QueueEntry& e);
    void mark_done(const QueueEntry& e);
    void recover(QueueEntry& e);
    bool fail(const QueueEntry& e, const Failure& f);
    size_t statement_ = 0;  // the statement of the step that is running
};

void Worker::run() {
    for (;;) {
        pg::check_for_interrupts();
        std::optional<QueueEntry> e = bookkeeping([](Store& db) { return db.first_unfinished(); });
        if (!e || e->state == "failed") {
            // Nothing to do, or a failed entry the queue waits behind. Work committed (or a
            // retry()) after that look and before this release would find the lock taken and
            // its worker leave: look once more without the lock.
            guard([] { worker_lock_leaf(false); });
            e = bookkeeping([](Store& db) { return db.first_unfinished(); });
            if (!e || e->state == "failed" || !guard([] { return worker_lock_leaf(true); })) return;
            continue;
        }
        if (e->state == "running") {
            recover(*e);
            continue;
        }
        IndexTarget target;
        if (e->position > 0) target = index_target(e->statements.front(), e->context, e->settings);
        // Run before (retried, or resumed): what the earlier run left goes first.
        if (e->started) drop_leftovers(target, e->pre_indexes, e->context);
        std::vector<Oid> before;
        if (OidIsValid(target.relid)) before = indexes_of(target.relid);
        bookkeeping([&](Store& db) { db.mark_running(e->id, MyProcPid, before); });
        e->pre_indexes.assign(before.begin(), before.end());
        Failure f;
        bool failed = true;
        try {
            run_entry(*e);
            failed = false;
        } catch (const PgError& err) {
            // A step that commits by itself (CREATE INDEX CONCURRENTLY) freed the transaction's
            // memory the error left current: describe it in the worker's own.
            MemoryContextSwitchTo(worker_cxt);
            f = describe(err, *e, statement_);
            FreeErrorData(err.data);  // copied out by boundary::capture, in the worker's lifetime
        } catch (const Error& err) {
            MemoryContextSwitchTo(worker_cxt);
            f = describe(err, *e, statement_);
        }
        if (failed) {
            abort_transaction();
            unbecome();
            // A step that is retried drops its leftovers when it runs again (above).
            if (!retried(*e, f)) {
                std::vector<std::string> left = drop_leftovers(target, e->pre_indexes, e->context);
                if (!left.empty())
                    f.json.insert(f.json.size() - 1,
                                  ", \"leftover_index\": " + pg::json_string(left.front()));
            }
            MemoryContextReset(worker_cxt);
            if (!fail(*e, f)) return;
            continue;
        }
        // After the entry's commit (its done mark included), outside the try: nothing that
        // fails here can mark a committed entry failed.
        unbecome();
        MemoryContextSwitchTo(worker_cxt);
        MemoryContextReset(worker_cxt);
    }
}

// Marks an entry done, and for the last step of a run the migration applied (or rolled back),
// in the entry's own last transaction: a step is never run twice (committed, but not yet marked
// done, when its worker stopped), and a waiter never sees the queue empty before the
// migration's new state.
void Worker::mark_done(const QueueEntry& e) {
    guard([] { PushActiveSnapshot(GetTransactionSnapshot()); });
    spi::connect();
    Store db;
    db.mark_done(e.id);
    if (e.position > 0) finish_run(db, e);
    db.close();
    spi::finish();
    guard([] { PopActiveSnapshot(); });
}

void Worker::run_entry(const QueueEntry& e) {
    statement_ = 0;
    if (e.position == 0) {
        // A whole migration queued behind others' steps: through the pipeline, as its role.
        guard([] {
            SetCurrentStatementStartTimestamp();
            StartTransactionCommand();
            PushActiveSnapshot(GetTransactionSnapshot());
        });
        become(e.context, {});
        migrate::run_queued(e);
        mark_done(e);
        guard([] {
            PopActiveSnapshot();
            CommitTransactionCommand();
        });
        return;
    }
    run_step(e);
}

void Worker::run_step(const QueueEntry& e) {
    // Directives of the script and the call's overrides: the rewrite guard consults them.
    std::optional<std::string> script =
        bookkeeping([&](Store& db) { return db.script_of(e.version, e.direction); });
    std::vector<safety::Override> args = safety::argument_overrides(
        std::vector<std::optional<std::string>>(e.context.allow.begin(), e.context.allow.end()));
    std::vector<safety::Override> directives;
    if (script)
        directives = safety::directive_overrides(*script, e.version, e.direction.c_str(),
                                                 standard_conforming_strings);
    guard([] {
        SetCurrentStatementStartTimestamp();
        StartTransactionCommand();
    });
    become(e.context, e.settings);
    safety::Check check(e.version, e.version, e.direction.c_str(), &args, std::move(directives));
    audit::MigrationScope audited(e.version.c_str(), e.direction.c_str());
    check.start();
    for (statement_ = 0; statement_ < e.statements.size(); statement_++) {
        const std::string& sql = e.statements[statement_];
        check.statement(static_cast<int>(e.numbers.at(statement_)),
                        static_cast<int>(e.lines.at(statement_)));
        audited.statement(sql.c_str());
        guard([&] {
            SetCurrentStatementStartTimestamp();
            pgstat_report_activity(STATE_RUNNING, sql.c_str());
            if (StatementTimeout > 0)
                enable_timeout_after(STATEMENT_TIMEOUT, StatementTimeout);
            else
                disable_timeout(STATEMENT_TIMEOUT, false);
        });
        run_toplevel(sql);
        guard([] {
            disable_timeout(STATEMENT_TIMEOUT, false);
            CommandCounterIncrement();
        });
    }
    mark_done(e);
    guard([] {
        CommitTransactionCommand();
        pgstat_report_activity(STATE_IDLE, nullptr);
    });
}

// The last step of a run succeeded: the migration is applied (or rolled back).
void Worker::finish_run(Store& db, const QueueEntry& e) {
    if (db.run_unfinished(e.queue_seq)) return;
    double ms = db.run_duration_ms(e.queue_seq);
    if (e.direction == "up") {
        db.add_event(e.version, "apply_done", e.context.run_as, ms, std::nullopt);
        db.add_duration(e.version, ms);
        db.set_state(e.version, "applied");
    } else {
        db.add_event(e.version, "rollback_done", e.context.run_as, ms, std::nullopt);
        db.mark_rolled_back(e.version);
    }
}

// An entry left running by a worker that died: its INVALID index goes, and it runs again,
// unless it was interrupted kMaxInterrupted times.
void Worker::recover(QueueEntry& e) {
    // Its runs: the interrupted ones, and those that ended in a lock timeout and were retried.
    // A resumed run drops its leftovers when it runs again (it has started).
    if (e.attempts < kMaxInterrupted + e.context.lock_retries) {
        pg::log("migration " + e.version + ": resuming " +
                (e.position == 0 ? std::string("its queued run")
                                 : "step " + std::to_string(e.position)) +
                ", interrupted when its worker (pid " + std::to_string(e.pid) + ") stopped");
        bookkeeping([&](Store& db) { db.mark_pending(e.id); });
        return;
    }
    std::string json = "{\"sqlstate\": \"57P01\", " + pg::json_string("message") + ": " +
                       pg::json_string("interrupted " + std::to_string(e.attempts) +
                                       " times: its worker stopped (a crash, a shutdown or a "
                                       "kill) while it ran") +
                       ", \"attempts\": " + std::to_string(e.attempts) + "}";
    if (e.position > 0)
        drop_leftovers(index_target(e.statements.front(), e.context, e.settings), e.pre_indexes,
                       e.context);
    fail(e, Failure{json, "57P01: interrupted", false});
}

// Records a failure. Returns whether the worker goes on (a lock timeout to retry).
bool Worker::fail(const QueueEntry& e, const Failure& f) {
    if (retried(e, f)) {
        migrate::lockwait::Settings s{e.context.lock_timeout, e.context.lock_retries,
                                      e.context.lock_retry_delay};
        long ms = migrate::lockwait::retry_delay(s, e.attempts + 1);
        pg::log("migration " + e.version + " step " + std::to_string(e.position) +
                ": lock not granted within " + std::to_string(e.context.lock_timeout) +
                " ms; retry " + std::to_string(e.attempts + 1) + " of " +
                std::to_string(e.context.lock_retries) + " in " + std::to_string(ms) + " ms");
        bookkeeping([&](Store& db) { db.mark_pending(e.id); });
        migrate::lockwait::sleep_ms(ms);
        return true;
    }
    bookkeeping([&](Store& db) {
        db.mark_failed(e.id, f.json);
        db.set_state(e.version, "failed");
        db.add_event(e.version, "step_failed", e.context.run_as, std::nullopt, f.json);
    });
    pg::warning("migration " + e.version + " failed " +
                    (e.position == 0 ? std::string("in the queue")
                                     : "at step " + std::to_string(e.position)) +
                    ": " + f.summary,
                "Nothing queued after it runs until it is retried or rolled back.");
    return false;
}

Datum core(Call&) {
    worker_cxt = guard([] {
        return AllocSetContextCreate(TopMemoryContext, "migrations_schema worker",
                                     ALLOCSET_DEFAULT_SIZES);
    });
    MemoryContextSwitchTo(worker_cxt);
    bool here = guard([] {
        StartTransactionCommand();
        bool found = has_queue_leaf();
        CommitTransactionCommand();
        return found;
    });
    MemoryContextSwitchTo(worker_cxt);
    if (!here || !guard([] { return worker_lock_leaf(true); })) return (Datum)0;
    Worker w;
    w.run();
    return (Datum)0;
}

}  // namespace

}  // namespace ms::worker

// The entry point of the worker process (bgw_function_name). A PostgreSQL error that escapes
// the core (bookkeeping failing) ends the process, logged, like any background worker's.
void ms_worker_main(Datum arg) {
    Oid dboid = DatumGetObjectId(arg);
    pqsignal(SIGTERM, die);
    BackgroundWorkerUnblockSignals();
    BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
    pgstat_report_appname("migrations_schema worker");
    ms::migrate::queue::set_in_worker();
    bool failed = false;
    ms::boundary::run(nullptr, ms::worker::core, &failed);
    if (failed) ms::boundary::raise_recorded();
}
