// Scopes of the C++ core. See scope.hpp.
#include "pg/scope.hpp"

namespace ms::pg {

namespace {

// The owner of migrate.migrations: the role bookkeeping runs as.
Oid bookkeeping_owner_leaf() {
    Oid nsp = get_namespace_oid("migrate", false);
    Oid rel = get_relname_relid("migrations", nsp);
    if (!OidIsValid(rel))
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                        errmsg("table migrate.migrations does not exist"),
                        errhint("Recreate the extension: DROP EXTENSION migrations_schema; "
                                "CREATE EXTENSION migrations_schema.")));
    HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(rel));
    if (!HeapTupleIsValid(tuple)) elog(ERROR, "cache lookup failed for relation %u", rel);
    Oid owner = ((Form_pg_class)GETSTRUCT(tuple))->relowner;
    ReleaseSysCache(tuple);
    return owner;
}

// This extension's pg_extension row, by a scan of its unique name index: false when there is
// none. *version is palloc'd (nullptr if the column is null).
bool extension_row_leaf(Oid* schema, char** version) {
    Relation rel = table_open(ExtensionRelationId, AccessShareLock);
    ScanKeyData key;
    ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber, F_NAMEEQ,
                CStringGetDatum("migrations_schema"));
    SysScanDesc scan = systable_beginscan(rel, ExtensionNameIndexId, true, nullptr, 1, &key);
    HeapTuple tup = systable_getnext(scan);
    bool found = HeapTupleIsValid(tup);
    if (found) {
        *schema = ((Form_pg_extension)GETSTRUCT(tup))->extnamespace;
        bool isnull = true;
        Datum d =
            ms_heap_getattr(tup, Anum_pg_extension_extversion, RelationGetDescr(rel), &isnull);
        *version = isnull ? nullptr : TextDatumGetCString(d);
    }
    systable_endscan(scan);
    table_close(rel, AccessShareLock);
    return found;
}

void end_subtransaction_leaf(bool commit, MemoryContext cxt, ResourceOwner owner) {
    if (commit)
        ReleaseCurrentSubTransaction();
    else
        RollbackAndReleaseCurrentSubTransaction();
    MemoryContextSwitchTo(cxt);
    CurrentResourceOwner = owner;
}

}  // namespace

void OwnerScope::enter() {
    guard([&] {
        Oid owner = bookkeeping_owner_leaf();
        GetUserIdAndSecContext(&saved_user_, &saved_sec_);
        nest_ = NewGUCNestLevel();
        (void)set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
                                GUC_ACTION_SAVE, true, 0, false);
        SetUserIdAndSecContext(
            owner, saved_sec_ | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
    });
}

void OwnerScope::leave() {
    guard([&] {
        SetUserIdAndSecContext(saved_user_, saved_sec_);
        AtEOXact_GUC(true, nest_);
    });
    nest_ = -1;
}

void PinnedSearchPath::enter() {
    guard([&] {
        nest_ = NewGUCNestLevel();
        (void)set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
                                GUC_ACTION_SAVE, true, 0, false);
    });
}

void PinnedSearchPath::leave() {
    guard([&] { AtEOXact_GUC(true, nest_); });
    nest_ = -1;
}

void in_subtransaction(const std::function<void()>& f) {
    MemoryContext cxt = CurrentMemoryContext;
    ResourceOwner owner = CurrentResourceOwner;
    guard([] { BeginInternalSubTransaction(nullptr); });
    try {
        f();
    } catch (...) {
        guard([&] { end_subtransaction_leaf(false, cxt, owner); });
        throw;
    }
    guard([&] { end_subtransaction_leaf(true, cxt, owner); });
}

void in_discarded_subtransaction(const std::function<void()>& f) {
    struct Discard {};
    try {
        in_subtransaction([&] {
            f();
            throw Discard{};
        });
    } catch (const Discard&) {
    }
}

void in_scratch_context(const std::function<void()>& f) {
    MemoryContext scratch = guard([] {
        return AllocSetContextCreate(CurrentMemoryContext, "migrations_schema scratch",
                                     ALLOCSET_DEFAULT_SIZES);
    });
    try {
        struct Back {
            MemoryContext old;
            ~Back() { MemoryContextSwitchTo(old); }  // inline assignment, cannot fail
        } back{MemoryContextSwitchTo(scratch)};
        f();
    } catch (...) {
        // A caller may catch the error and go on (verify, plan): the context goes now, not
        // with the transaction.
        guard([&] { MemoryContextDelete(scratch); });
        throw;
    }
    guard([&] { MemoryContextDelete(scratch); });
}

bool uses_transaction_snapshot() {
    return IsolationUsesXactSnapshot();
}

std::string current_user_name() {
    return guard([] { return (const char*)GetUserNameFromId(GetUserId(), false); });
}

std::optional<InstalledExtension> installed_extension() {
    Oid schema = InvalidOid;
    char* version = nullptr;
    if (!guard([&] { return extension_row_leaf(&schema, &version); })) return std::nullopt;
    InstalledExtension ext;
    ext.schema = schema;
    if (version != nullptr) ext.version.emplace(version);  // (its palloc goes with the call)
    return ext;
}

void refresh_activity() {
    guard([] { pgstat_clear_snapshot(); });
}

TimestampTz now() {
    return GetCurrentTimestamp();
}

void check_for_interrupts() {
    guard([] { CHECK_FOR_INTERRUPTS(); });
}

}  // namespace ms::pg
