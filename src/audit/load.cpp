// Restores and preloading: the load check of migrate.ddl_audit and audit_preloaded().
//
// Almost everything here talks to PostgreSQL, so most functions are "leaf" functions: plain C
// style, no object with a non-trivial destructor, called through guard() from the C++ core or
// from a PostgreSQL callback. They raise PostgreSQL errors, never C++ exceptions.
#include <cstring>

#include "audit/internal.hpp"

namespace ms::audit {

// Rows reach migrate.ddl_audit through the audit itself, which does not fire triggers. A
// direct INSERT or COPY (a privileged role: a restore) is let through only into an empty
// table, so that a restore cannot merge a dumped chain with rows already recorded.
Datum load_check(Call& c) {
    auto* trigdata = reinterpret_cast<TriggerData*>(c.fcinfo->context);
    if (trigdata == nullptr || !CALLED_AS_TRIGGER(c.fcinfo))
        throw Error(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED,
                    "migrate.audit_load_check() must be called as a trigger");
    Relation rel = trigdata->tg_relation;
    bool any = guard([&] {
        TableScanDesc scan = table_beginscan(rel, GetActiveSnapshot(), 0, nullptr);
        TupleTableSlot* slot = table_slot_create(rel, nullptr);
        bool found = table_scan_getnextslot(scan, ForwardScanDirection, slot);
        ExecDropSingleTupleTableSlot(slot);
        table_endscan(scan);
        return found;
    });
    if (any)
        throw Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                    "rows can be loaded into migrate.ddl_audit only while it is empty",
                    "The audit adds its rows itself; a direct INSERT or COPY is a restore, and "
                    "the table already holds rows recorded in this database.",
                    "Restore into a new database with auditing switched off for the restore's "
                    "sessions: PGOPTIONS='-c migrations_schema.audit=off' pg_restore ...");
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
