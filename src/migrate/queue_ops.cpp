// The operations of the queue of work after commit: retry a failed step, run a queued
// migration (the worker), where the work stands (wait). See operations.hpp.
#include "migrate/lock.hpp"
#include "migrate/operations.hpp"
#include "migrate/ops.hpp"
#include "migrate/queue.hpp"
#include "migrate/version.hpp"
#include "pg/report.hpp"

namespace ms::migrate {

namespace ops {

QueueState queue_state(store::Store& db) {
    QueueState q;
    if (std::optional<store::QueueEntry> e = db.first_unfinished()) {
        q.busy = true;
        if (e->state == "failed")
            q.failed = std::move(e);
        else if (!db.worker_alive())
            queue::request_worker();  // interrupted work (a crash, a shutdown) resumes
    }
    return q;
}

std::string step_name(const store::QueueEntry& e) {
    return e.position == 0
               ? std::string("queued behind other migrations")
               : "at step " + std::to_string(e.position) + " of its " + e.direction + " script";
}

// The way out of a failed entry: a failed up step may be retried or rolled back; a failed down
// step only retried (rolling back again would run the same down script).
std::string way_out(const store::QueueEntry& f) {
    return f.direction == "down" ? "Fix the cause, then SELECT migrate.retry()."
                                 : "Fix the cause, then SELECT migrate.retry(); or roll it back "
                                   "with SELECT * FROM migrate.rollback().";
}

std::string until(const store::QueueEntry& f) {
    return f.direction == "down" ? "until it is retried" : "until it is retried or rolled back";
}

[[noreturn]] void throw_blocked(const store::QueueEntry& f, const std::string& what) {
    throw Error(
        ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
        "migration " + f.version + " failed " + step_name(f) + "; " + what + " waits " + until(f),
        "Its error: " + f.error.value_or("unknown") + ". Nothing after it runs before then.",
        way_out(f));
}

}  // namespace ops

using ops::Session;
using ops::step_name;
using ops::until;
using ops::way_out;
using store::Row;

std::string retry(const std::optional<std::string>& version) {
    NotNested nested("migrate.retry");
    if (version) version::validate(*version);
    std::string by = pg::current_user_name();
    Session session;
    lock();
    store::Store db;
    std::optional<store::QueueEntry> e = db.retry(version);
    if (!e)
        throw Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                    version ? "migration " + *version + " has no failed step"
                            : std::string("no migration has a failed step"),
                    "", "SELECT * FROM migrate.status() shows the state of every migration.");
    db.set_state(e->version, e->position == 0       ? "queued"
                             : e->direction == "up" ? "applying"
                                                    : "rolling back");
    db.add_event(e->version, "retry", by, std::nullopt, std::nullopt);
    db.close();
    queue::request_worker();
    pg::notice("migration " + e->version + ": its failed " +
               (e->position == 0 ? std::string("run") : "step " + std::to_string(e->position)) +
               " and what is queued behind it run again after this transaction commits");
    session.finish();
    return e->version;
}

void run_queued(const store::QueueEntry& e) {
    NotNested nested("a queued migration");
    Session session;
    lock();
    store::Store db;
    std::optional<Row> row = db.find(e.version);
    db.close();
    if (!row || row->state != "queued")
        throw Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                    "migration " + e.version + " is no longer queued",
                    row ? "Its state is " + row->state + "." : "It is not known any more.");
    Direction dir = e.direction == "up" ? Direction::up : Direction::down;
    // The script queued with the entry (queues of 0.4.0 always carry it).
    if (e.statements.size() != 1)
        throw Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                    "the queue entry of migration " + e.version + " holds no script");
    Allow allow(e.context.allow.begin(), e.context.allow.end());
    Pipeline pipeline(dir, allow, pg::current_user_name());
    pipeline.in_queue(e.queue_seq);
    store::Migration m{
        row->version,
        row->name,
        dir == Direction::up ? e.statements[0] : std::string(),  // a down run reads no up script
        dir == Direction::down ? std::optional<std::string>(e.statements[0]) : row->down_sql,
        row->checksum,
        row->order_key};
    pipeline.prepare(m, true);
    pipeline.run(m);
    session.finish();
}

WaitState wait_state(const std::optional<std::string>& version) {
    WaitState w;
    store::Store db;
    if (version && !db.find(*version))
        throw Error(ERRCODE_UNDEFINED_OBJECT, "migration version " + *version + " is not known", "",
                    "SELECT version FROM migrate.status() lists the known versions.");
    std::optional<store::QueueEntry> e = db.first_unfinished();
    // For one version: done once none of its entries is unfinished (the queue may hold others).
    if (e && version && e->version != *version && !db.unfinished_for(*version)) e.reset();
    w.worker_alive = e && db.worker_alive();
    db.close();
    if (!e) {
        w.done = true;
        return w;
    }
    w.detail = "Migration " + e->version + ": " +
               (e->position == 0 ? std::string("queued")
                                 : "step " + std::to_string(e->position) + " " + e->state) +
               ".";
    if (e->state == "failed") {
        w.failed = "migration " + e->version + " failed " + step_name(*e) + ": " +
                   e->error.value_or("unknown error");
        w.detail = "Nothing queued after it runs " + until(*e) + ".";
        w.hint = way_out(*e);
    }
    return w;
}

}  // namespace ms::migrate
