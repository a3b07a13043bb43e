// Starting workers: at commit of a transaction that queued work, now (wait()), and at server
// start (the launcher, with shared_preload_libraries). See worker.hpp.
#include "worker/worker.hpp"

#include "migrate/queue.hpp"
#include "pg/report.hpp"

extern "C" {
PGDLLEXPORT void ms_worker_main(Datum arg);
PGDLLEXPORT void ms_launcher_main(Datum arg);
}

namespace ms::worker {

namespace {

using migrate::queue::kWorkerType;

// Leaf: registers a dynamic worker for database `dboid`; false when no slot is free.
bool register_leaf(Oid dboid, bool notify, BackgroundWorkerHandle** handle) {
    BackgroundWorker w;
    memset(&w, 0, sizeof w);
    w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
    w.bgw_start_time = BgWorkerStart_RecoveryFinished;
    w.bgw_restart_time = BGW_NEVER_RESTART;
    snprintf(w.bgw_library_name, BGW_MAXLEN, "migrations_schema");
    snprintf(w.bgw_function_name, BGW_MAXLEN, "ms_worker_main");
    snprintf(w.bgw_name, BGW_MAXLEN, "migrations_schema worker for database %u", dboid);
    snprintf(w.bgw_type, BGW_MAXLEN, "%s", kWorkerType);
    w.bgw_main_arg = ObjectIdGetDatum(dboid);
    w.bgw_notify_pid = notify ? MyProcPid : 0;
    return RegisterDynamicBackgroundWorker(&w, handle);
}

// At commit the transaction is durable: nothing here may raise an ERROR. A worker that cannot
// be started (no free slot) leaves the steps pending: the next call starts one.
extern "C" void worker_xact_callback(XactEvent event, void*) {
    switch (event) {
        case XACT_EVENT_PRE_PREPARE:
            if (migrate::queue::take_request())
                ereport(ERROR,
                        (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                         errmsg("cannot prepare a transaction that queued migration steps"),
                         errdetail("Steps run after the transaction that queued them commits; "
                                   "two-phase commit would leave them to another session."),
                         errhint("Commit the transaction directly.")));
            break;
        case XACT_EVENT_COMMIT:
            if (migrate::queue::take_request()) {
                if (!register_leaf(MyDatabaseId, false, nullptr))
                    ereport(WARNING,
                            (errmsg("could not start the migrations_schema worker: no free "
                                    "background worker slot"),
                             errdetail("The migration steps stay pending."),
                             errhint("They start with the next migrate.apply(), retry() or "
                                     "CALL migrate.wait(); raise max_worker_processes.")));
            }
            break;
        case XACT_EVENT_ABORT:
        case XACT_EVENT_PARALLEL_ABORT:
            (void)migrate::queue::take_request();
            break;
        default:
            break;
    }
}

}  // namespace

// The launcher (shared_preload_libraries only): at server start (and after a crash restart), a
// short worker per database that allows connections, one after the other; each finds out
// whether its database has unfinished steps (interrupted by a crash or a shutdown) and runs
// them. Then it idles until shutdown, so that the postmaster starts it again after a crash.
void launcher_leaf() {
    BackgroundWorkerInitializeConnection(nullptr, nullptr, 0);
    List* dbs = NIL;
    StartTransactionCommand();
    Relation rel = table_open(DatabaseRelationId, AccessShareLock);
    TableScanDesc scan = table_beginscan_catalog(rel, 0, nullptr);
    HeapTuple tup;
    MemoryContext outer = MemoryContextSwitchTo(TopMemoryContext);
    while ((tup = heap_getnext(scan, ForwardScanDirection)) != nullptr) {
        Form_pg_database db = (Form_pg_database)GETSTRUCT(tup);
        if (db->datallowconn && !db->datistemplate) dbs = lappend_oid(dbs, db->oid);
    }
    MemoryContextSwitchTo(outer);
    table_endscan(scan);
    table_close(rel, AccessShareLock);
    CommitTransactionCommand();
    ListCell* lc;
    foreach (lc, dbs) {
        BackgroundWorkerHandle* handle = nullptr;
        if (!register_leaf(lfirst_oid(lc), true, &handle)) {
            ereport(LOG, (errmsg("migrations_schema launcher: no free background worker slot")));
            break;
        }
        pid_t pid;
        if (WaitForBackgroundWorkerStartup(handle, &pid) != BGWH_STARTED) continue;
        (void)WaitForBackgroundWorkerShutdown(handle);
    }
    for (;;) {
        (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, -1L, PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
        CHECK_FOR_INTERRUPTS();
    }
}

void init() noexcept {
    RegisterXactCallback(worker_xact_callback, nullptr);
    if (process_shared_preload_libraries_in_progress) {
        BackgroundWorker w;
        memset(&w, 0, sizeof w);
        w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
        w.bgw_start_time = BgWorkerStart_RecoveryFinished;
        // Started again after a crash restart, when interrupted steps wait.
        w.bgw_restart_time = 5;
        snprintf(w.bgw_library_name, BGW_MAXLEN, "migrations_schema");
        snprintf(w.bgw_function_name, BGW_MAXLEN, "ms_launcher_main");
        snprintf(w.bgw_name, BGW_MAXLEN, "migrations_schema launcher");
        snprintf(w.bgw_type, BGW_MAXLEN, "migrations_schema launcher");
        RegisterBackgroundWorker(&w);
    }
}

bool start_now() {
    return guard([] { return register_leaf(MyDatabaseId, false, nullptr); });
}

}  // namespace ms::worker

void ms_launcher_main(Datum) {
    pqsignal(SIGTERM, die);
    BackgroundWorkerUnblockSignals();
    ms::worker::launcher_leaf();
}
