// SQL functions of the queue of work after commit: CALL migrate.wait() and migrate.retry().
#include <chrono>

#include "api/args.hpp"
#include "migrate/lockwait.hpp"
#include "migrate/operations.hpp"
#include "migrate/version.hpp"
#include "pg/report.hpp"
#include "pg/spi.hpp"
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
    auto start = std::chrono::steady_clock::now();
    bool started = false;
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
        // Interrupted work (a crash, a shutdown), or a worker that could not start: start one.
        if (!w.worker_alive && !started) started = worker::start_now();
        auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - start)
                          .count();
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
        migrate::lockwait::sleep_ms(started && !w.worker_alive ? 20 : 100);
        if (w.worker_alive) started = false;
    }
}

Datum sql_retry(Call& c) {
    return text_result(c, migrate::retry(opt_text(c, 0)));
}

}  // namespace
}  // namespace ms::api

MS_FUNCTION(migrate_wait, ms::api::sql_wait)
MS_FUNCTION(migrate_retry, ms::api::sql_retry)
