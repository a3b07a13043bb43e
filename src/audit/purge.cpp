// migrate.purge_audit(older_than): deletes the oldest rows and records the purge in the chain.
//
// Almost everything here talks to PostgreSQL, so most functions are "leaf" functions: plain C
// style, no object with a non-trivial destructor, called through guard() from the C++ core or
// from a PostgreSQL callback. They raise PostgreSQL errors, never C++ exceptions.
#include <algorithm>
#include <cstring>

#include "audit/internal.hpp"
#include "pg/hash.hpp"
#include "pg/scope.hpp"
#include "pg/spi.hpp"
#include "pg/standby.hpp"

namespace ms::audit {

namespace internal {
bool purge_active = false;
Oid purge_relid = InvalidOid;  // the table purge_audit() is deleting from
}  // namespace internal

using namespace internal;

namespace {

struct PurgeState {
    TimestampTz older_than;
    int64 deleted;
    int64 first_deleted;
    int64 last_deleted;
    char last_hash[2 * PG_SHA256_DIGEST_LENGTH + 1];
    Oid relid;
};

SPIPlanPtr prepare(const char* sql, int nargs, Oid* types) {
    SPIPlanPtr plan = SPI_prepare(sql, nargs, types);
    if (plan == nullptr) elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
    return plan;
}

int64 scalar_int8(const char* sql, int nargs, Oid* types, Datum* values, bool* isnull) {
    SPIPlanPtr plan = prepare(sql, nargs, types);
    int ret = SPI_execute_snapshot(plan, values, nullptr, GetLatestSnapshot(), InvalidSnapshot,
                                   false, false, 1);
    if (ret < 0) elog(ERROR, "SPI_execute_snapshot failed: %s", SPI_result_code_string(ret));
    *isnull = true;
    int64 v = 0;
    if (SPI_processed > 0) {
        Datum d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, isnull);
        if (!*isnull) v = DatumGetInt64(d);
    }
    return v;
}

void purge_leaf(PurgeState* s) {
    s->relid = audit_table();
    if (!OidIsValid(s->relid))
        ereport(ERROR,
                (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("migrate.ddl_audit does not exist")));
    Relation rel = table_open(s->relid, RowExclusiveLock);
    table_close(rel, NoLock);
    lock_chain();
    Oid types[1] = {TIMESTAMPTZOID};
    Datum args[1] = {TimestampTzGetDatum(s->older_than)};
    bool isnull;
    // Keep every row from the first one recorded at or after older_than, and always the
    // newest row (the head the next row links to).
    int64 cut = scalar_int8(
        "SELECT LEAST(max(id), min(id) FILTER (WHERE statement_time >= $1)) FROM migrate.ddl_audit",
        1, types, args, &isnull);
    if (isnull) return;
    int64 first =
        scalar_int8("SELECT min(id) FROM migrate.ddl_audit", 0, nullptr, nullptr, &isnull);
    if (isnull || first >= cut) return;
    Oid t8[1] = {INT8OID};
    Datum a8[1] = {Int64GetDatum(cut - 1)};
    SPIPlanPtr plan = prepare("SELECT hash FROM migrate.ddl_audit WHERE id = $1", 1, t8);
    int ret = SPI_execute_snapshot(plan, a8, nullptr, GetLatestSnapshot(), InvalidSnapshot, true,
                                   false, 1);
    if (ret < 0 || SPI_processed != 1)
        ereport(
            ERROR,
            (errcode(ERRCODE_DATA_CORRUPTED),
             errmsg("audit row %lld is missing", static_cast<long long>(cut - 1)),
             errhint(
                 "Run SELECT * FROM migrate.verify_audit() to see where the chain is broken.")));
    Datum h = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
    if (isnull) elog(ERROR, "audit row %lld has no hash", static_cast<long long>(cut - 1));
    bytea* b = DatumGetByteaPP(h);
    pg::hex(reinterpret_cast<const uint8*>(VARDATA_ANY(b)),
            std::min<size_t>(VARSIZE_ANY_EXHDR(b), PG_SHA256_DIGEST_LENGTH), s->last_hash);
    a8[0] = Int64GetDatum(cut);
    plan = prepare("DELETE FROM migrate.ddl_audit WHERE id < $1", 1, t8);
    purge_active = true;
    purge_relid = s->relid;
    ret = SPI_execute_snapshot(plan, a8, nullptr, GetLatestSnapshot(), InvalidSnapshot, false,
                               false, 0);
    purge_active = false;
    if (ret < 0) elog(ERROR, "SPI_execute_snapshot failed: %s", SPI_result_code_string(ret));
    s->deleted = static_cast<int64>(SPI_processed);
    s->first_deleted = first;
    s->last_deleted = cut - 1;
}

void purge_record_leaf(const PurgeState* s) {
    Row* r = add_row(common_leaf("DELETE", nullptr));
    r->event = "purge";
    r->object_type = "table";
    r->schema_name = "migrate";
    r->object_identity = "migrate.ddl_audit";
    r->has_address = true;
    r->classid = RelationRelationId;
    r->objid = s->relid;
    StringInfoData buf;
    initStringInfo(&buf);
    appendStringInfoChar(&buf, '{');
    json_key(&buf, "older_than");
    appendStringInfo(
        &buf, "\"%s\"",
        JsonEncodeDateTime(nullptr, TimestampTzGetDatum(s->older_than), TIMESTAMPTZOID, nullptr));
    json_key(&buf, "deleted");
    appendStringInfo(&buf, "%lld", static_cast<long long>(s->deleted));
    if (s->deleted > 0) {
        json_key(&buf, "first_deleted_id");
        appendStringInfo(&buf, "%lld", static_cast<long long>(s->first_deleted));
        json_key(&buf, "last_deleted_id");
        appendStringInfo(&buf, "%lld", static_cast<long long>(s->last_deleted));
        json_key(&buf, "last_deleted_hash");
        escape_json(&buf, s->last_hash);
    }
    r->detail = json_done(&buf);
}

}  // namespace

Datum purge(Call& c) {
    pg::refuse_on_standby("migrate.purge_audit()", "deletes audit rows and records the purge");
    if (c.fcinfo->args[0].isnull)
        throw Error(
            ERRCODE_NULL_VALUE_NOT_ALLOWED, "older_than must not be NULL", "",
            "Pass the time before which audit rows are deleted, e.g. now() - interval '1 year'.");
    if (!guard([] { return superuser(); }))
        throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE, "permission denied to purge the DDL audit",
                    "Only superusers may delete audit rows.",
                    "Ask a superuser to run migrate.purge_audit(); the purge itself is recorded.");
    PurgeState s;
    memset(&s, 0, sizeof s);
    s.older_than = DatumGetTimestampTz(c.fcinfo->args[0].value);
    spi::connect();
    // As the table owner with search_path pinned, like every bookkeeping query: the caller's
    // search_path must not choose the operators and aggregates of the purge's queries.
    pg::OwnerScope internal;
    internal.enter();
    guard([&] { purge_leaf(&s); });
    internal.leave();
    spi::finish();
    if (!OidIsValid(s.relid)) s.relid = guard([] { return audit_table(); });
    guard([&] { purge_record_leaf(&s); });
    return Int64GetDatum(s.deleted);
}

bool purging(Oid relid) noexcept {
    return purge_active && relid == purge_relid;
}

}  // namespace ms::audit
