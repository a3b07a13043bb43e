#include "spi.hpp"

#include <cstring>

namespace ms::spi {

namespace {

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

void prepare_leaf(Query* q) {
    SPIPlanPtr plan = SPI_prepare(q->sql, q->nargs, q->argtypes);
    if (plan == nullptr)
        elog(ERROR, "SPI_prepare failed for \"%s\": %s", q->sql,
             SPI_result_code_string(SPI_result));
    if (SPI_keepplan(plan) != 0) elog(ERROR, "SPI_keepplan failed");
    q->plan = plan;
}

uint64 run_leaf(Query* q, Datum* values, const char* nulls) {
    int ret = SPI_execute_plan(q->plan, values, nulls, false, 0);
    if (ret < 0)
        elog(ERROR, "SPI_execute_plan failed for \"%s\": %s", q->sql, SPI_result_code_string(ret));
    return SPI_processed;
}

void execute_leaf(const char* sql) {
    int ret = SPI_execute(sql, false, 0);
    if (ret < 0)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("statement cannot run inside a migration: %s",
                               SPI_result_code_string(ret))));
    SPI_freetuptable(SPI_tuptable);
}

// Both snapshots' view of the first column of q's first row; true when they differ.
bool differs_leaf(Query* q) {
    int ret = SPI_execute_plan(q->plan, nullptr, nullptr, true, 1);
    if (ret < 0) elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(ret));
    char* seen =
        SPI_processed > 0 ? SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1) : nullptr;
    ret = SPI_execute_snapshot(q->plan, nullptr, nullptr, GetLatestSnapshot(), InvalidSnapshot,
                               true, false, 1);
    if (ret < 0) elog(ERROR, "SPI_execute_snapshot failed: %s", SPI_result_code_string(ret));
    char* latest =
        SPI_processed > 0 ? SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1) : nullptr;
    return (seen == nullptr) != (latest == nullptr) ||
           (seen != nullptr && strcmp(seen, latest) != 0);
}

void lock_leaf() {
    LOCKTAG tag;
    SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, static_cast<uint32>(kLockKey1),
                         static_cast<uint32>(kLockKey2), 2);
    (void)LockAcquire(&tag, ExclusiveLock, false, false);
}

void end_subtransaction_leaf(bool commit, MemoryContext cxt, ResourceOwner owner) {
    if (commit)
        ReleaseCurrentSubTransaction();
    else
        RollbackAndReleaseCurrentSubTransaction();
    MemoryContextSwitchTo(cxt);
    CurrentResourceOwner = owner;
}

const char* relation_name_leaf(Oid relid) {
    char* rel = get_rel_name(relid);
    if (rel == nullptr) return nullptr;
    char* nsp = get_namespace_name(get_rel_namespace(relid));
    return quote_qualified_identifier(nsp, rel);
}

void report_leaf(int level, const char* message, const char* detail, const char* hint) {
    ereport(level,
            (errmsg_internal("%s", message), detail[0] ? errdetail_internal("%s", detail) : 0,
             hint[0] ? errhint("%s", hint) : 0));
}

}  // namespace

void connect() {
    guard([] {
        if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
    });
}

void finish() {
    guard([] { SPI_finish(); });
}

Datum text_value(std::string_view s) {
    return guard([&] {
        return PointerGetDatum(cstring_to_text_with_len(s.data(), static_cast<int>(s.size())));
    });
}

uint64 run(Query& q, const Datum* values, const char* nulls) {
    if (q.plan == nullptr) guard([&] { prepare_leaf(&q); });
    return guard([&] { return run_leaf(&q, const_cast<Datum*>(values), nulls); });
}

std::optional<std::string> get_text(uint64 row, int column) {
    char* value =
        guard([&] { return SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, column); });
    if (value == nullptr) return std::nullopt;
    std::string out(value);
    guard([&] { pfree(value); });
    return out;
}

int64 get_int64(uint64 row, int column) {
    return guard([&] {
        bool isnull = false;
        Datum d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, column, &isnull);
        return isnull ? int64{0} : DatumGetInt64(d);
    });
}

void release() {
    guard([] { SPI_freetuptable(SPI_tuptable); });
}

void execute(const std::string& sql) {
    guard([&] { execute_leaf(sql.c_str()); });
}

void Internal::enter() {
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

void Internal::leave() {
    guard([&] {
        SetUserIdAndSecContext(saved_user_, saved_sec_);
        AtEOXact_GUC(true, nest_);
    });
    nest_ = -1;
}

bool differs_from_latest(Query& q) {
    if (q.plan == nullptr) guard([&] { prepare_leaf(&q); });
    return guard([&] { return differs_leaf(&q); });
}

void lock_migrations() {
    guard([] { lock_leaf(); });
}

bool uses_transaction_snapshot() {
    return IsolationUsesXactSnapshot();
}

std::string current_user_name() {
    return guard([] { return (const char*)GetUserNameFromId(GetUserId(), false); });
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

std::optional<std::string> relation_name(Oid relid) {
    const char* name = guard([&] { return relation_name_leaf(relid); });
    if (name == nullptr) return std::nullopt;
    return std::string(name);
}

void notice(const std::string& message, const std::string& detail) {
    guard([&] { report_leaf(NOTICE, message.c_str(), detail.c_str(), ""); });
}

void warning(const std::string& message, const std::string& detail, const std::string& hint) {
    guard([&] { report_leaf(WARNING, message.c_str(), detail.c_str(), hint.c_str()); });
}

}  // namespace ms::spi

namespace ms::spi {

Params& Params::add(Datum d, bool isnull) {
    if (n_ >= 16) throw std::logic_error("too many query parameters");
    values_[n_] = d;
    nulls_[n_] = isnull ? 'n' : ' ';
    n_++;
    return *this;
}

Params& Params::text(std::string_view s) {
    return add(text_value(s), false);
}

Params& Params::text(const std::optional<std::string>& s) {
    return s ? add(text_value(*s), false) : add((Datum)0, true);
}

Params& Params::bytes(std::string_view s) {
    Datum d = guard([&] {
        auto* b = (bytea*)palloc(VARHDRSZ + s.size());
        SET_VARSIZE(b, VARHDRSZ + s.size());
        memcpy(VARDATA(b), s.data(), s.size());
        return PointerGetDatum(b);
    });
    return add(d, false);
}

Params& Params::int4(int32 v) {
    return add(Int32GetDatum(v), false);
}
Params& Params::int8(int64 v) {
    return add(Int64GetDatum(v), false);
}
Params& Params::float8(double v) {
    return add(Float8GetDatum(v), false);
}
Params& Params::boolean(bool v) {
    return add(BoolGetDatum(v), false);
}
Params& Params::timestamptz(TimestampTz v) {
    return add(TimestampTzGetDatum(v), false);
}

TimestampTz now() {
    return GetCurrentTimestamp();
}

}  // namespace ms::spi
