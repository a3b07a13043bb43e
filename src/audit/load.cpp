// Restores and preloading: loading a dumped audit into migrate.ddl_audit, and
// audit_preloaded().
//
// Almost everything here talks to PostgreSQL, so most functions are "leaf" functions: plain C
// style, no object with a non-trivial destructor, called through guard() from the C++ core or
// from a PostgreSQL callback. They raise PostgreSQL errors, never C++ exceptions.
#include <cstring>
#include <string>

#include "audit/internal.hpp"

namespace ms::audit {

using namespace internal;

namespace {

// pg_restore's own application name (its connections' fallback_application_name): the
// sessions of a parallel restore (-j), which creates the extension in one session and loads
// the audit in another.
constexpr const char* kRestoreApplication = "pg_restore";

// What the load check found (filled by a leaf; trivial).
struct Examined {
    int moved;        // rows of the restore moved after the loaded chain
    const char* why;  // set when the table holds rows that are not the restore's own
};

// Leaf: the transaction that created this database's extension (its pg_extension row's xmin).
TransactionId extension_xmin_leaf() {
    Oid ext = get_extension_oid("migrations_schema", false);
    Relation catalog = table_open(ExtensionRelationId, AccessShareLock);
    HeapTuple tup = get_catalog_object_by_oid(catalog, Anum_pg_extension_oid, ext);
    TransactionId xmin =
        HeapTupleIsValid(tup) ? HeapTupleHeaderGetXmin(tup->t_data) : InvalidTransactionId;
    table_close(catalog, AccessShareLock);
    return xmin;
}

const char* column_text(const Datum* v, const bool* n, int col) {
    return n[col] ? nullptr : top_text(v[col]);
}

// Leaf: the row `v`/`n` as a Row to be written again (its Common in TopTransactionContext).
void row_from_tuple(const Layout* l, const Datum* v, const bool* n, Row* r) {
    const int* ch = l->chain;
    Common* c = static_cast<Common*>(MemoryContextAllocZero(TopTransactionContext, sizeof(Common)));
    c->subid = GetCurrentSubTransactionId();
    c->statement_time = DatumGetTimestampTz(v[ch[1]]);
    c->fxid = DatumGetUInt64(v[ch[2]]);
    c->moved = true;
    c->backend_pid = DatumGetInt32(v[ch[3]]);
    c->session_user_name = top_strdup(NameStr(*DatumGetName(v[ch[4]])));
    c->current_user_name = top_strdup(NameStr(*DatumGetName(v[ch[5]])));
    c->application_name = column_text(v, n, ch[6]);
    c->client_addr =
        n[ch[7]] ? nullptr : top_strdup(DatumGetCString(DirectFunctionCall1(inet_out, v[ch[7]])));
    c->command_tag = column_text(v, n, ch[9]);
    c->statement = column_text(v, n, ch[17]);
    c->statement_exact = DatumGetBool(v[ch[18]]);
    c->migration_version = column_text(v, n, ch[19]);
    c->migration_script = column_text(v, n, ch[20]);
    memset(r, 0, sizeof(Row));
    r->common = c;
    r->event = column_text(v, n, ch[8]);
    r->command_tag = c->command_tag;
    r->object_type = column_text(v, n, ch[10]);
    r->schema_name = column_text(v, n, ch[11]);
    r->object_identity = column_text(v, n, ch[12]);
    r->has_address = !n[ch[13]] && !n[ch[14]] && !n[ch[15]];
    if (r->has_address) {
        r->classid = DatumGetObjectId(v[ch[13]]);
        r->objid = DatumGetObjectId(v[ch[14]]);
        r->objsubid = DatumGetInt32(v[ch[15]]);
    }
    r->in_extension = DatumGetBool(v[ch[16]]);
    if (!n[ch[21]]) {
        Jsonb* jb = DatumGetJsonbP(v[ch[21]]);
        r->detail = top_strdup(JsonbToCString(nullptr, &jb->root, VARSIZE(jb)));
    }
}

// Leaf: why row `id` is not the restore's own, or nullptr when it is. The restore's rows
// start with this database's CREATE EXTENSION (the extension script's rows, recorded in the
// transaction that created the extension) and were all recorded by the session running the
// load (plain format, pg_restore without -j), or, when the load runs in a pg_restore session,
// by pg_restore sessions (a parallel restore). A row of a migration, a purge, or one the audit
// did not write in the transaction it records (a loaded or an already moved row: its heap xmin
// is not its txid) is never the restore's.
const char* not_own_leaf(const Layout* l, const Datum* v, const bool* n, TransactionId raw_xmin,
                         bool first, TransactionId ext_xmin) {
    const int* ch = l->chain;
    int64 id = DatumGetInt64(v[ch[0]]);
    TransactionId xid =
        XidFromFullTransactionId(FullTransactionIdFromU64(DatumGetUInt64(v[ch[2]])));
    if (first && (!DatumGetBool(v[ch[16]]) || !TransactionIdIsNormal(ext_xmin) || xid != ext_xmin))
        return psprintf(
            "its oldest row (id %lld) was not recorded by the CREATE EXTENSION of this database",
            static_cast<long long>(id));
    if (!n[ch[19]])
        return psprintf("row %lld records DDL of migration %s", static_cast<long long>(id),
                        TextDatumGetCString(v[ch[19]]));
    if (!n[ch[8]] && strcmp(TextDatumGetCString(v[ch[8]]), "purge") == 0)
        return psprintf("row %lld records a purge", static_cast<long long>(id));
    if (raw_xmin != xid)
        return psprintf("row %lld was loaded or moved, not recorded by the transaction it names",
                        static_cast<long long>(id));
    const char* app = n[ch[6]] ? nullptr : TextDatumGetCString(v[ch[6]]);
    const char* mine = application_name && application_name[0] ? application_name : nullptr;
    bool same_app = app == nullptr ? mine == nullptr : mine != nullptr && strcmp(app, mine) == 0;
    int32 pid = DatumGetInt32(v[ch[3]]);
    TimestampTz at = DatumGetTimestampTz(v[ch[1]]);
    if (pid == MyProcPid && at >= MyStartTimestamp && same_app) return nullptr;
    bool restore_session = mine && strcmp(mine, kRestoreApplication) == 0;
    if (restore_session && same_app) return nullptr;
    return psprintf(
        "row %lld was recorded by another session (application \"%s\") than this "
        "restore's",
        static_cast<long long>(id), app ? app : "");
}

// Leaf: under the chain lock (held to the end of the transaction, so no other commit adds
// rows meanwhile), reads the rows already in the table, newest snapshot, in id order. When
// they are all the restore's own, deletes them (no trigger fires: the append-only guard is a
// trigger) and hands them to the pre-commit writer, which writes them again after the loaded
// chain, with new ids and hashes. Otherwise deletes nothing and says why.
void examine_leaf(Relation rel, Examined* e) {
    e->moved = 0;
    e->why = nullptr;
    lock_chain();
    TupleDesc desc = RelationGetDescr(rel);
    Layout l;
    layout_leaf(desc, &l);
    TransactionId ext_xmin = extension_xmin_leaf();
    Datum* v = static_cast<Datum*>(palloc(sizeof(Datum) * desc->natts));
    bool* n = static_cast<bool*>(palloc(sizeof(bool) * desc->natts));
    int cap = 64;
    Row* moved = static_cast<Row*>(palloc(sizeof(Row) * cap));
    ItemPointerData* tids = static_cast<ItemPointerData*>(palloc(sizeof(ItemPointerData) * cap));

    IdScan id_scan;
    begin_id_scan(rel, &id_scan);
    Snapshot snap = id_scan.snap;
    HeapTuple tup;
    while (e->why == nullptr &&
           (tup = systable_getnext_ordered(id_scan.scan, ForwardScanDirection)) != nullptr) {
        CHECK_FOR_INTERRUPTS();
        heap_deform_tuple(tup, desc, v, n);
        e->why =
            not_own_leaf(&l, v, n, HeapTupleHeaderGetRawXmin(tup->t_data), e->moved == 0, ext_xmin);
        if (e->why != nullptr) break;
        if (e->moved == cap) {
            cap *= 2;
            moved = static_cast<Row*>(repalloc_huge(moved, sizeof(Row) * cap));
            tids =
                static_cast<ItemPointerData*>(repalloc_huge(tids, sizeof(ItemPointerData) * cap));
        }
        row_from_tuple(&l, v, n, &moved[e->moved]);
        tids[e->moved] = tup->t_self;
        e->moved++;
    }
    if (e->why == nullptr)
        for (int i = 0; i < e->moved; i++) simple_table_tuple_delete(rel, &tids[i], snap);
    end_id_scan(&id_scan);
    if (e->why == nullptr) prepend_rows(moved, e->moved);
}

}  // namespace

// Rows reach migrate.ddl_audit through the audit itself, which does not fire triggers. A
// direct INSERT or COPY (a privileged role: a restore) loads a dumped chain: accepted into an
// empty table, or into one that holds only the restore's own rows (examine_leaf), which then
// follow the loaded chain. A database with an audit of its own refuses: the two chains would
// be merged.
Datum load_check(Call& c) {
    auto* trigdata = reinterpret_cast<TriggerData*>(c.fcinfo->context);
    if (trigdata == nullptr || !CALLED_AS_TRIGGER(c.fcinfo))
        throw Error(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED,
                    "migrate.audit_load_check() must be called as a trigger");
    Relation rel = trigdata->tg_relation;
    Examined e;
    guard([&] { examine_leaf(rel, &e); });
    loaded = true;
    if (e.why != nullptr)
        throw Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                    "a dumped audit can be loaded into migrate.ddl_audit only in a new database",
                    std::string("This database has an audit of its own, which the dumped chain "
                                "would be merged with: ") +
                        e.why + ".",
                    "Restore into a new database (createdb, then pg_restore -d or psql -d "
                    "into it): the restore's own DDL is then recorded after the restored "
                    "chain.");
    return PointerGetDatum(nullptr);
}

namespace {

// Leaf: does the library list `setting` name this library ("migrations_schema", with or
// without a directory and a .so suffix)?
bool lists_library_leaf(const char* setting) {
    const char* value = GetConfigOption(setting, true, false);
    if (value == nullptr || *value == '\0') return false;
    char* raw = pstrdup(value);
    List* items = NIL;
    bool found = false;
    if (SplitDirectoriesString(raw, ',', &items)) {
        ListCell* lc;
        foreach (lc, items) {
            const char* item = static_cast<const char*>(lfirst(lc));
            const char* base = strrchr(item, '/');
            base = base ? base + 1 : item;
            size_t len = strlen(base);
            if (len > 3 && strcmp(base + len - 3, ".so") == 0) len -= 3;
            if (len == strlen("migrations_schema") && strncmp(base, "migrations_schema", len) == 0)
                found = true;
        }
    }
    list_free_deep(items);
    pfree(raw);
    return found;
}

}  // namespace

Datum preloaded(Call&) {
    return BoolGetDatum(guard([] {
        return lists_library_leaf("shared_preload_libraries") ||
               lists_library_leaf("session_preload_libraries");
    }));
}

}  // namespace ms::audit
