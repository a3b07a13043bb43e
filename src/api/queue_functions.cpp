// SQL functions of the queue of work after commit: CALL migrate.wait() and migrate.retry().
#include <chrono>

#include "api/args.hpp"
#include "migrate/lockwait.hpp"
#include "migrate/operations.hpp"
#include "migrate/version.hpp"
#include "pg/report.hpp"
#include "pg/spi.hpp"
#include "pg/standby.hpp"
#include "worker/worker.hpp"

namespace ms::api {
namespace {

// A CALL outside a transaction block: the procedure may commit.
bool nonatomic(Call& c) {
    Node* context = c.fcinfo->context;
    return context != nullptr && IsA(context, CallContext) && !((CallContext*)context)->atomic;
}

int64 interval_ms(Datum d) {
    Interval* i = DatumGetIntervalP(d);
    int64 usec = i->time + static_cast<int64>(i->day) * USECS_PER_DAY +
                 static_cast<int64>(i->month) * DAYS_PER_MONTH * USECS_PER_DAY;
    return usec / 1000;
}

Datum sql_wait(Call& c) {
    pg::refuse_on_standby("migrate.wait()", "waits for migration steps that only the primary runs");
    std::optional<std::string> version = opt_text(c, 0);
    if (version) version::validate(*version);
    std::optional<int64> timeout_ms;
    if (!is_null(c, 1)) {
        timeout_ms = interval_ms(c.fcinfo->args[1].value);
        if (*timeout_ms < 0)
            throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "timeout must not be negative");
    }
    if (!nonatomic(c))
        throw Error(ERRCODE_ACTIVE_SQL_TRANSACTION,
                    "migrate.wait() must be called with CALL, outside a transaction block",
                    "Steps such as CREATE INDEX CONCURRENTLY wait for every transaction older "
                    "than them to end, this one included: waiting inside it would wait for "
                    "ever (or until a lock_timeout).",
                    "COMMIT first, then CALL migrate.wait(); or poll SELECT * FROM "
                    "migrate.status() between transactions.");
    using Clock = std::chrono::steady_clock;
    auto since = [](Clock::time_point t) {
        return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
    };
    auto start = Clock::now();
    // Workers started by this wait that stopped without being seen at work, for the same
    // unfinished entry: a worker that keeps stopping (see the server log) ends the wait. Without
    // a free worker slot the wait goes on (until its timeout), trying once a second.
    constexpr int kMaxStarts = 10;
    int starts = 0;
    std::optional<Clock::time_point> last_start;
    std::string last_detail;
    for (;;) {
        guard([] {
            if (SPI_connect_ext(SPI_OPT_NONATOMIC) != SPI_OK_CONNECT)
                elog(ERROR, "SPI_connect_ext failed");
        });
        migrate::WaitState w = migrate::wait_state(version);
        if (w.done) {
            spi::finish();
            return (Datum)0;
        }
        if (w.failed) {
            spi::finish();
            throw Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, *w.failed, w.detail, w.hint);
        }
        if (w.worker_alive || w.detail != last_detail) starts = 0;
        last_detail = w.detail;
        // Interrupted work (a crash, a shutdown), a worker that could not start, or one that
        // stopped: start one, at most once a second.
        if (!w.worker_alive && (!last_start || since(*last_start) >= 1000)) {
            if (starts >= kMaxStarts) {
                spi::finish();
                throw Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                            "the steps' worker stopped " + std::to_string(starts) +
                                " times without finishing",
                            w.detail, "The server log says why.");
            }
            // (no free worker slot: nothing started; tried again a second later)
            if (worker::start_now()) starts++;
            last_start = Clock::now();
        }
        int64 waited = since(start);
        if (timeout_ms && waited >= *timeout_ms) {
            spi::finish();
            throw Error(ERRCODE_QUERY_CANCELED,
                        "migrate.wait() gave up after " + std::to_string(waited) + " ms", w.detail,
                        "SELECT * FROM migrate.status() shows where the steps are.");
        }
        // Commit: the steps wait for older transactions, this one included.
        guard([] {
            SPI_commit();
            SPI_start_transaction();
        });
        spi::finish();
        bool just_started = !w.worker_alive && last_start && since(*last_start) < 1000;
        migrate::lockwait::sleep_ms(just_started ? 20 : 100);
    }
}

Datum sql_retry(Call& c) {
    pg::refuse_on_standby("migrate.retry()", "writes the queue of migration steps");
    return text_result(c, migrate::retry(opt_text(c, 0)));
}

}  // namespace
}  // namespace ms::api

MS_FUNCTION(migrate_wait, ms::api::sql_wait)
MS_FUNCTION(migrate_retry, ms::api::sql_retry)
