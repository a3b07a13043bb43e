// The chain: the canonical form and SHA-256 of a row (as written and as verified), the chain
// lock, and the head the next row links to.
//
// Almost everything here talks to PostgreSQL, so most functions are "leaf" functions: plain C
// style, no object with a non-trivial destructor, called through guard() from the C++ core or
// from a PostgreSQL callback. They raise PostgreSQL errors, never C++ exceptions.
#include <cstring>

#include "audit/internal.hpp"
#include "pg/hash.hpp"

namespace ms::audit::internal {

namespace {

// The columns in the hash, in this order (every column but `hash`).
const char* const kChainColumns[] = {
    "id",
    "statement_time",
    "txid",
    "backend_pid",
    "session_user_name",
    "current_user_name",
    "application_name",
    "client_addr",
    "event",
    "command_tag",
    "object_type",
    "schema_name",
    "object_identity",
    "classid",
    "objid",
    "objsubid",
    "in_extension",
    "statement",
    "statement_exact",
    "migration_version",
    "migration_script",
    "detail",
    "prev_hash",
};
static_assert(sizeof(kChainColumns) / sizeof(kChainColumns[0]) == kChainCount,
              "kChainCount counts the chain columns");
constexpr const char* kCanonicalPrefix = "migrations_schema ddl_audit v1\n";

void put_u32(StringInfo buf, uint32 v) {
    char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                 static_cast<char>(v)};
    appendBinaryStringInfo(buf, b, 4);
}

void put_value(StringInfo buf, const char* data, size_t len) {
    appendStringInfoChar(buf, 1);
    put_u32(buf, static_cast<uint32>(len));
    appendBinaryStringInfo(buf, data, static_cast<int>(len));
}

void put_u64(StringInfo buf, uint64 v) {
    char b[8];
    for (int i = 0; i < 8; i++) b[i] = static_cast<char>(v >> (56 - 8 * i));
    put_value(buf, b, 8);
}

// Canonical bytes of one column value: 0x00 for NULL; else 0x01, a 4-byte big-endian length
// and the value: integers, oids, xid8 and timestamps (microseconds since 2000-01-01 UTC) as
// big-endian two's complement; text and name as their bytes; bool as one byte 0/1; bytea raw;
// inet and jsonb as their text output. Nothing depends on settings such as TimeZone.
void put_datum(StringInfo buf, Oid type, Datum d, bool isnull) {
    if (isnull) {
        appendStringInfoChar(buf, 0);
        return;
    }
    switch (type) {
        case INT8OID:
        case TIMESTAMPTZOID:
            put_u64(buf, static_cast<uint64>(DatumGetInt64(d)));
            return;
        case XID8OID:
            put_u64(buf, DatumGetUInt64(d));
            return;
        case INT4OID: {
            char b[4];
            uint32 v = static_cast<uint32>(DatumGetInt32(d));
            for (int i = 0; i < 4; i++) b[i] = static_cast<char>(v >> (24 - 8 * i));
            put_value(buf, b, 4);
            return;
        }
        case OIDOID: {
            char b[4];
            uint32 v = DatumGetObjectId(d);
            for (int i = 0; i < 4; i++) b[i] = static_cast<char>(v >> (24 - 8 * i));
            put_value(buf, b, 4);
            return;
        }
        case BOOLOID: {
            char b = DatumGetBool(d) ? 1 : 0;
            put_value(buf, &b, 1);
            return;
        }
        case NAMEOID: {
            const char* s = NameStr(*DatumGetName(d));
            put_value(buf, s, strlen(s));
            return;
        }
        case TEXTOID:
        case BYTEAOID: {
            struct varlena* v =
                pg_detoast_datum_packed(reinterpret_cast<struct varlena*>(DatumGetPointer(d)));
            put_value(buf, VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v));
            return;
        }
        case JSONBOID: {
            Jsonb* jb = DatumGetJsonbP(d);
            char* s = JsonbToCString(nullptr, &jb->root, VARSIZE(jb));
            put_value(buf, s, strlen(s));
            return;
        }
        default: {
            Oid out;
            bool varlena;
            getTypeOutputInfo(type, &out, &varlena);
            char* s = OidOutputFunctionCall(out, d);
            put_value(buf, s, strlen(s));
            return;
        }
    }
}

}  // namespace

void row_hash(TupleDesc desc, const Layout* l, const Datum* values, const bool* nulls,
              StringInfo buf, uint8* digest) {
    resetStringInfo(buf);
    appendStringInfoString(buf, kCanonicalPrefix);
    for (int i = 0; i < kChainCount; i++) {
        int col = l->chain[i];
        put_datum(buf, TupleDescAttr(desc, col)->atttypid, values[col], nulls[col]);
    }
    pg::sha256_leaf(buf->data, static_cast<size_t>(buf->len), digest);
}

int find_column(TupleDesc desc, const char* name) {
    for (int i = 0; i < desc->natts; i++) {
        Form_pg_attribute a = TupleDescAttr(desc, i);
        if (!a->attisdropped && strcmp(NameStr(a->attname), name) == 0) return i;
    }
    ereport(
        ERROR,
        (errcode(ERRCODE_UNDEFINED_COLUMN), errmsg("migrate.ddl_audit has no column \"%s\"", name),
         errhint("The audit table was altered; reinstall the extension's version of it.")));
    return -1;
}

void layout_leaf(TupleDesc desc, Layout* l) {
    for (int i = 0; i < kChainCount; i++) l->chain[i] = find_column(desc, kChainColumns[i]);
    l->hash = find_column(desc, "hash");
}

Datum bytea_datum(const uint8* data, size_t len) {
    bytea* b = static_cast<bytea*>(palloc(VARHDRSZ + len));
    SET_VARSIZE(b, VARHDRSZ + len);
    memcpy(VARDATA(b), data, len);
    return PointerGetDatum(b);
}

Datum text_datum(const char* s) {
    return PointerGetDatum(cstring_to_text(s));
}

// The audit table, or InvalidOid when it does not exist (the extension is being dropped).
Oid audit_table() {
    Oid nsp = get_namespace_oid("migrate", true);
    return OidIsValid(nsp) ? get_relname_relid("ddl_audit", nsp) : InvalidOid;
}

// The chain lock: taken before reading the chain's head, held until commit. An object lock on
// the extension, which no SQL command lets an ordinary role take.
void lock_chain() {
    Oid ext = get_extension_oid("migrations_schema", false);
    LockDatabaseObject(ExtensionRelationId, ext, 0, ExclusiveLock);
}

void begin_id_scan(Relation rel, IdScan* s) {
    Oid pk = ms_primary_key_index(rel);
    if (!OidIsValid(pk))
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("migrate.ddl_audit has no primary key")));
    s->index = index_open(pk, AccessShareLock);
    s->snap = RegisterSnapshot(GetLatestSnapshot());
    s->scan = systable_beginscan_ordered(rel, s->index, s->snap, 0, nullptr);
}

void end_id_scan(IdScan* s) {
    systable_endscan_ordered(s->scan);
    UnregisterSnapshot(s->snap);
    index_close(s->index, AccessShareLock);
}

// The newest row's id and hash, read with the latest snapshot (under the chain lock every
// earlier writer has committed). *found is false for an empty table.
void read_head(Relation rel, const Layout* l, int64* id, uint8* hash, bool* found) {
    *found = false;
    IdScan s;
    begin_id_scan(rel, &s);
    HeapTuple tup = systable_getnext_ordered(s.scan, BackwardScanDirection);
    if (HeapTupleIsValid(tup)) {
        TupleDesc desc = RelationGetDescr(rel);
        Datum* v = static_cast<Datum*>(palloc(sizeof(Datum) * desc->natts));
        bool* n = static_cast<bool*>(palloc(sizeof(bool) * desc->natts));
        heap_deform_tuple(tup, desc, v, n);
        *id = DatumGetInt64(v[l->chain[0]]);
        if (n[l->hash])
            ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED),
                            errmsg("the newest audit row (id %lld) has no hash",
                                   static_cast<long long>(*id))));
        bytea* b = DatumGetByteaPP(v[l->hash]);
        if (VARSIZE_ANY_EXHDR(b) != PG_SHA256_DIGEST_LENGTH)
            ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED),
                            errmsg("the newest audit row (id %lld) has a malformed hash",
                                   static_cast<long long>(*id))));
        memcpy(hash, VARDATA_ANY(b), PG_SHA256_DIGEST_LENGTH);
        *found = true;
        pfree(v);
        pfree(n);
    }
    end_id_scan(&s);
}

}  // namespace ms::audit::internal
