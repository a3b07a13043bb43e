// Running one step in the worker. See step.hpp.
#include "worker/step.hpp"

#include <algorithm>

#include "migrate/lockwait.hpp"
#include "pg/report.hpp"
#include "pg/spi.hpp"
#include "script/script.hpp"

namespace ms::worker {

namespace {

// ---- leaf calls ----

// Parse and plan trees of the statement that runs: not in transaction memory, which CREATE INDEX
// CONCURRENTLY's own commits free while the portal still uses them (a client's statement keeps
// them in MessageContext the same way). Reset for each statement.
MemoryContext statement_cxt = nullptr;

void run_toplevel_leaf(const char* sql) {
    if (statement_cxt == nullptr)
        statement_cxt = AllocSetContextCreate(TopMemoryContext, "migrations_schema step",
                                              ALLOCSET_DEFAULT_SIZES);
    MemoryContextReset(statement_cxt);
    MemoryContextSwitchTo(statement_cxt);
    sql = pstrdup(sql);
    List* parsed = raw_parser(sql, RAW_PARSE_DEFAULT);
    if (list_length(parsed) != 1)
        elog(ERROR, "a step holds %d statements where one was expected", list_length(parsed));
    RawStmt* raw = linitial_node(RawStmt, parsed);
    CommandTag tag = CreateCommandTag(raw->stmt);
    bool snapshot = analyze_requires_snapshot(raw);
    if (snapshot) PushActiveSnapshot(GetTransactionSnapshot());
    List* queries = pg_analyze_and_rewrite_fixedparams(raw, sql, nullptr, 0, nullptr);
    List* plans = pg_plan_queries(queries, sql, CURSOR_OPT_PARALLEL_OK, nullptr);
    if (snapshot) PopActiveSnapshot();
    Portal portal = CreatePortal("", true, true);
    portal->visible = false;
    PortalDefineQuery(portal, nullptr, sql, tag, plans, nullptr);
    PortalStart(portal, nullptr, 0, InvalidSnapshot);
    DestReceiver* dest = CreateDestReceiver(DestNone);
    QueryCompletion qc;
    InitializeQueryCompletion(&qc);
    (void)ms_portal_run(portal, true, dest, &qc);
    dest->rDestroy(dest);
    PortalDrop(portal, false);
    // The transaction may not be the one the statement started in (CONCURRENTLY commits).
    MemoryContextSwitchTo(CurTransactionContext);
}

void set_leaf(const char* name, const char* value) {
    (void)set_config_option(name, value, superuser() ? PGC_SUSET : PGC_USERSET, PGC_S_SESSION,
                            GUC_ACTION_SET, true, 0, false);
}

// The worker's own user (the bootstrap superuser) and security context, restored after each
// transaction that ran as a migration's role.
Oid own_user = InvalidOid;
int own_sec = 0;
bool own_saved = false;

void become_leaf(const char* role, const char* search_path, int lock_timeout, int retries,
                 int retry_delay) {
    char buf[32];
    if (!own_saved) {
        GetUserIdAndSecContext(&own_user, &own_sec);
        own_saved = true;
    }
    ResetAllOptions();
    set_leaf("search_path", search_path);
    set_leaf("statement_timeout", "0");
    snprintf(buf, sizeof buf, "%d", lock_timeout);
    set_leaf("lock_timeout", buf);
    set_leaf("migrations_schema.lock_timeout", buf);
    snprintf(buf, sizeof buf, "%d", retries);
    set_leaf("migrations_schema.lock_retries", buf);
    snprintf(buf, sizeof buf, "%d", retry_delay);
    set_leaf("migrations_schema.lock_retry_delay", buf);
    Oid roleid = get_role_oid(role, false);
    SetUserIdAndSecContext(roleid, SECURITY_LOCAL_USERID_CHANGE);
}

// A script's SET lock_timeout = 0 does not lift the bound.
void keep_lock_bound_leaf(int lock_timeout) {
    if (LockTimeout != 0) return;
    char buf[32];
    snprintf(buf, sizeof buf, "%d", lock_timeout);
    set_leaf("lock_timeout", buf);
}

// The table and, when the statement names one, the index of a CREATE INDEX / REINDEX
// CONCURRENTLY step.
void target_leaf(const char* sql, Oid* relid, char** named) {
    *relid = InvalidOid;
    *named = nullptr;
    List* parsed = raw_parser(sql, RAW_PARSE_DEFAULT);
    if (list_length(parsed) != 1) return;
    Node* stmt = linitial_node(RawStmt, parsed)->stmt;
    if (IsA(stmt, IndexStmt)) {
        IndexStmt* s = (IndexStmt*)stmt;
        if (!s->concurrent) return;
        *relid = RangeVarGetRelid(s->relation, NoLock, true);
        if (s->idxname) *named = pstrdup(s->idxname);
    } else if (IsA(stmt, ReindexStmt)) {
        ReindexStmt* s = (ReindexStmt*)stmt;
        if (!script::option_is_true(s->params, "concurrently", false) || s->relation == nullptr)
            return;
        Oid rel = RangeVarGetRelid(s->relation, NoLock, true);
        if (!OidIsValid(rel)) return;
        if (s->kind == REINDEX_OBJECT_INDEX)
            *relid = IndexGetRelation(rel, true);
        else if (s->kind == REINDEX_OBJECT_TABLE)
            *relid = rel;
    }
}

// The indexes of a table from pg_index (no lock on the table: a catalog scan); with
// invalid_only, only INVALID ones.
int indexes_leaf(Oid relid, bool invalid_only, Oid* out, int max) {
    Relation rel = table_open(IndexRelationId, AccessShareLock);
    ScanKeyData key;
    ScanKeyInit(&key, Anum_pg_index_indrelid, BTEqualStrategyNumber, F_OIDEQ,
                ObjectIdGetDatum(relid));
    SysScanDesc scan = systable_beginscan(rel, IndexIndrelidIndexId, true, nullptr, 1, &key);
    HeapTuple tup;
    int n = 0;
    while ((tup = systable_getnext(scan)) != nullptr && n < max) {
        Form_pg_index idx = (Form_pg_index)GETSTRUCT(tup);
        if (invalid_only && idx->indisvalid) continue;
        out[n++] = idx->indexrelid;
    }
    systable_endscan(scan);
    table_close(rel, AccessShareLock);
    return n;
}

const char* qualified_leaf(Oid relid) {
    char* rel = get_rel_name(relid);
    if (rel == nullptr) return nullptr;
    return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), rel);
}

void begin_leaf() {
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
}

void commit_leaf() {
    CommitTransactionCommand();
}

void abort_leaf() {
    disable_all_timeouts(false);
    AbortCurrentTransaction();
}

// Indexes being built right now by another session (pg_stat_progress_create_index).
spi::Query q_building{
    "SELECT index_relid FROM pg_catalog.pg_stat_progress_create_index "
    "WHERE pid OPERATOR(pg_catalog.<>) pg_catalog.pg_backend_pid()",
    0,
    {},
    nullptr};

}  // namespace

void run_toplevel(const std::string& sql) {
    try {
        guard([&] { run_toplevel_leaf(sql.c_str()); });
    } catch (const PgError&) {
        // A statement that commits by itself (CREATE INDEX CONCURRENTLY) may have freed the
        // transaction memory that was current when it began, and the error brought back: go on
        // in the statement's own, which lives until the next statement.
        if (statement_cxt != nullptr) MemoryContextSwitchTo(statement_cxt);
        throw;
    }
}

void become(const migrate::store::RunContext& c, const std::vector<std::string>& settings) {
    guard([&] {
        become_leaf(c.run_as.c_str(), c.search_path.c_str(), c.lock_timeout, c.lock_retries,
                    c.lock_retry_delay);
    });
    for (const auto& set : settings) {
        run_toplevel(set);
        guard([] { CommandCounterIncrement(); });
    }
    int bound = c.lock_timeout;
    guard([&] { keep_lock_bound_leaf(bound); });
}

void unbecome() {
    if (own_saved) SetUserIdAndSecContext(own_user, own_sec);
    // The step's settings (its search_path, lock settings, the script's SETs) must not follow
    // the worker into its bookkeeping.
    guard([] {
        begin_leaf();
        ResetAllOptions();
        commit_leaf();
    });
}

IndexTarget index_target(const std::string& sql, const migrate::store::RunContext& context,
                         const std::vector<std::string>& settings) {
    IndexTarget t;
    try {
        // Names resolve as they will when the step runs: its role, search_path and SETs.
        guard([] { begin_leaf(); });
        become(context, settings);
        char* named = nullptr;
        guard([&] { target_leaf(sql.c_str(), &t.relid, &named); });
        if (named) t.index = named;  // before the commit frees it
        guard([] { commit_leaf(); });
    } catch (const PgError& e) {
        // The step itself fails the same way when it runs, and says why.
        FreeErrorData(e.data);
        guard([] { abort_leaf(); });
        t = IndexTarget{};
    }
    unbecome();
    return t;
}

std::vector<Oid> indexes_of(Oid relid) {
    Oid found[1024];
    int n = guard([&] {
        begin_leaf();
        int k = indexes_leaf(relid, false, found, 1024);
        commit_leaf();
        return k;
    });
    return std::vector<Oid>(found, found + n);
}

std::vector<std::string> drop_leftovers(const IndexTarget& target, const std::vector<int64>& before,
                                        const migrate::store::RunContext& context) {
    std::vector<std::string> names;
    Oid relid = target.relid;
    if (!OidIsValid(relid)) return names;
    try {
        // Which: in one transaction, then each drop in one of its own.
        guard([] {
            begin_leaf();
            PushActiveSnapshot(GetTransactionSnapshot());
        });
        spi::connect();
        std::vector<Oid> building;
        uint64 n = spi::run(q_building, nullptr, nullptr);
        for (uint64 i = 0; i < n; i++) building.push_back(static_cast<Oid>(spi::get_int64(i, 1)));
        spi::release();
        spi::finish();
        Oid invalid[1024];
        int k = guard([&] { return indexes_leaf(relid, true, invalid, 1024); });
        // The index the statement names, in its table's schema (resolved as the step's role).
        Oid named_oid = InvalidOid;
        if (!target.index.empty())
            guard([&] {
                named_oid = get_relname_relid(target.index.c_str(), get_rel_namespace(relid));
            });
        for (int i = 0; i < k; i++) {
            Oid idx = invalid[i];
            bool was_there =
                std::find(before.begin(), before.end(), static_cast<int64>(idx)) != before.end();
            if (was_there && idx != named_oid) continue;
            if (std::find(building.begin(), building.end(), idx) != building.end()) continue;
            if (const char* q = guard([&] { return qualified_leaf(idx); })) names.push_back(q);
        }
        guard([] {
            PopActiveSnapshot();
            commit_leaf();
        });
        // Each drop waits for older transactions (bounded by the migration's lock settings,
        // and retried like a step); one that still cannot run is left, and named.
        std::vector<std::string> left;
        for (const auto& name : names) {
            bool dropped = false;
            for (int attempt = 1; !dropped; attempt++) {
                try {
                    guard([] { begin_leaf(); });
                    become(context, {});
                    run_toplevel("DROP INDEX CONCURRENTLY IF EXISTS " + name);
                    guard([] { commit_leaf(); });
                    unbecome();
                    dropped = true;
                } catch (const PgError& e) {
                    bool timeout = migrate::lockwait::is_lock_timeout(e);
                    FreeErrorData(e.data);
                    guard([] { abort_leaf(); });
                    unbecome();
                    if (!timeout || attempt > context.lock_retries) break;
                    migrate::lockwait::Settings s{context.lock_timeout, context.lock_retries,
                                                  context.lock_retry_delay};
                    migrate::lockwait::sleep_ms(migrate::lockwait::retry_delay(s, attempt));
                }
            }
            if (!dropped) left.push_back(name);
        }
        if (!left.empty())
            pg::warning("could not drop the INVALID index " + left.front() +
                            " that a failed step left: older transactions still use its table",
                        "It is dropped when the step runs again (migrate.retry()).");
        names = left;
    } catch (const PgError& e) {
        std::string why = e.data->message ? e.data->message : "error";
        FreeErrorData(e.data);
        guard([] { abort_leaf(); });
        unbecome();
        pg::warning("could not drop the INVALID index a failed step left: " + why);
    }
    return names;
}

}  // namespace ms::worker
