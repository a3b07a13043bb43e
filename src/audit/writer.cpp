// The pre-commit writer: the rows captured in a transaction are chained and inserted when it
// commits, under the chain lock, so that no DDL commits without its record and rows rolled
// back (with their transaction or subtransaction) never reach the table.
//
// Almost everything here talks to PostgreSQL, so most functions are "leaf" functions: plain C
// style, no object with a non-trivial destructor, called through guard() from the C++ core or
// from a PostgreSQL callback. They raise PostgreSQL errors, never C++ exceptions.
#include <cstring>

#include "audit/internal.hpp"

namespace ms::audit {

using namespace internal;

namespace {

Datum client_addr_datum(bool* isnull) {
    LOCAL_FCINFO(fcinfo, 0);
    InitFunctionCallInfoData(*fcinfo, nullptr, 0, InvalidOid, nullptr, nullptr);
    Datum d = inet_client_addr(fcinfo);
    *isnull = fcinfo->isnull;
    return d;
}

// Pre-commit: writes the captured rows, chained, through the executor's insert path
// (constraints checked, every index maintained).
void flush_leaf() {
    Oid relid = audit_table();
    if (!OidIsValid(relid)) return;  // the audit table is gone with this transaction
    // A load in this transaction's last command (load.cpp) becomes visible to the head lookup.
    if (loaded) CommandCounterIncrement();
    Relation rel = table_open(relid, RowExclusiveLock);
    lock_chain();
    TupleDesc desc = RelationGetDescr(rel);
    Layout l;
    layout_leaf(desc, &l);
    int64 id = 0;
    uint8 prev[PG_SHA256_DIGEST_LENGTH];
    bool have_prev = false;
    read_head(rel, &l, &id, prev, &have_prev);

    PushActiveSnapshot(GetTransactionSnapshot());
    EState* estate = CreateExecutorState();
    RangeTblEntry* rte = makeNode(RangeTblEntry);
    rte->rtekind = RTE_RELATION;
    rte->relid = relid;
    rte->relkind = rel->rd_rel->relkind;
    rte->rellockmode = RowExclusiveLock;
    ms_exec_init_range_table(estate, list_make1(rte));
    ResultRelInfo* rri = makeNode(ResultRelInfo);
    InitResultRelInfo(rri, rel, 1, nullptr, 0);
    ExecOpenIndices(rri, false);
    estate->es_output_cid = GetCurrentCommandId(true);
    TupleTableSlot* slot = ExecInitExtraTupleSlot(estate, desc, &TTSOpsVirtual);

    bool addr_null;
    Datum addr = client_addr_datum(&addr_null);
    StringInfoData canon;
    initStringInfo(&canon);
    // Column positions by name (the table's column order is not assumed).
    const int* ch = l.chain;
    for (int i = 0; i < n_rows; i++) {
        CHECK_FOR_INTERRUPTS();
        const Row& r = rows[i];
        const Common& c = *r.common;
        ExecClearTuple(slot);
        // Each row's values (texts, the jsonb, the hashes) live in the per-tuple context, which
        // is reset after the row is inserted.
        MemoryContext outer = MemoryContextSwitchTo(GetPerTupleMemoryContext(estate));
        Datum* v = slot->tts_values;
        bool* n = slot->tts_isnull;
        for (int a = 0; a < desc->natts; a++) {
            v[a] = (Datum)0;
            n[a] = true;
        }
        auto set = [&](int col, Datum d) {
            v[col] = d;
            n[col] = false;
        };
        auto set_text = [&](int col, const char* s) {
            if (s) set(col, text_datum(s));
        };
        set(ch[0], Int64GetDatum(++id));
        set(ch[1], TimestampTzGetDatum(c.statement_time));
        set(ch[2], UInt64GetDatum(c.fxid));
        set(ch[3], Int32GetDatum(c.moved ? c.backend_pid : MyProcPid));
        set(ch[4], DirectFunctionCall1(namein, CStringGetDatum(c.session_user_name)));
        set(ch[5], DirectFunctionCall1(namein, CStringGetDatum(c.current_user_name)));
        set_text(ch[6], c.application_name);
        if (c.moved) {
            if (c.client_addr)
                set(ch[7], DirectFunctionCall1(inet_in, CStringGetDatum(c.client_addr)));
        } else if (!addr_null) {
            set(ch[7], addr);
        }
        set_text(ch[8], r.event);
        set_text(ch[9], r.command_tag);
        set_text(ch[10], r.object_type);
        set_text(ch[11], r.schema_name);
        set_text(ch[12], r.object_identity);
        if (r.has_address) {
            set(ch[13], ObjectIdGetDatum(r.classid));
            set(ch[14], ObjectIdGetDatum(r.objid));
            set(ch[15], Int32GetDatum(r.objsubid));
        }
        set(ch[16], BoolGetDatum(r.in_extension));
        set_text(ch[17], c.statement);
        set(ch[18], BoolGetDatum(c.statement_exact));
        set_text(ch[19], c.migration_version);
        set_text(ch[20], c.migration_script);
        if (r.detail) set(ch[21], DirectFunctionCall1(jsonb_in, CStringGetDatum(r.detail)));
        if (have_prev) set(ch[22], bytea_datum(prev, PG_SHA256_DIGEST_LENGTH));
        uint8 digest[PG_SHA256_DIGEST_LENGTH];
        row_hash(desc, &l, v, n, &canon, digest);
        set(l.hash, bytea_datum(digest, PG_SHA256_DIGEST_LENGTH));
        memcpy(prev, digest, PG_SHA256_DIGEST_LENGTH);
        have_prev = true;

        ExecStoreVirtualTuple(slot);
        if (rel->rd_att->constr) ExecConstraints(rri, slot, estate);
        table_tuple_insert(rel, slot, estate->es_output_cid, 0, nullptr);
        if (rri->ri_NumIndices > 0) (void)ms_exec_insert_index_tuples(rri, slot, estate);
        MemoryContextSwitchTo(outer);
        ResetPerTupleExprContext(estate);
    }
    ExecCloseIndices(rri);
    ExecResetTupleTable(estate->es_tupleTable, false);
    FreeExecutorState(estate);
    PopActiveSnapshot();
    table_close(rel, NoLock);
}

Datum flush_core(Call&) {
    guard([] { flush_leaf(); });
    return (Datum)0;
}

extern "C" void audit_xact_callback(XactEvent event, void*) {
    switch (event) {
        case XACT_EVENT_PRE_COMMIT:
        case XACT_EVENT_PRE_PREPARE:
            if (n_rows > 0) {
                bool failed = false;
                boundary::run(nullptr, flush_core, &failed);
                if (failed) boundary::raise_recorded();
            }
            reset_transaction_state();
            break;
        case XACT_EVENT_COMMIT:
        case XACT_EVENT_ABORT:
        case XACT_EVENT_PREPARE:
        case XACT_EVENT_PARALLEL_COMMIT:
        case XACT_EVENT_PARALLEL_ABORT:
            reset_transaction_state();
            break;
        default:
            break;
    }
}

// Rows captured in an aborted subtransaction (and its children, all started after it) go.
extern "C" void audit_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
                                       SubTransactionId, void*) {
    if (event != SUBXACT_EVENT_ABORT_SUB) return;
    forget_subtransaction(mySubid);
}

}  // namespace

void init() noexcept {
    static bool done = false;
    if (done) return;
    DefineCustomBoolVariable(
        "migrations_schema.audit", "Records every DDL change in migrate.ddl_audit.",
        "Superusers only. Off: the session's DDL is not recorded, e.g. the sessions of a "
        "restore that loads the dumped audit alone.",
        &enabled, true, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    install_hook();
    RegisterXactCallback(audit_xact_callback, nullptr);
    RegisterSubXactCallback(audit_subxact_callback, nullptr);
    done = true;
}

}  // namespace ms::audit
