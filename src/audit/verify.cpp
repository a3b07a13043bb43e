// migrate.verify_audit(): walks the chain in id order, recomputing every hash and link.
//
// Almost everything here talks to PostgreSQL, so most functions are "leaf" functions: plain C
// style, no object with a non-trivial destructor, called through guard() from the C++ core or
// from a PostgreSQL callback. They raise PostgreSQL errors, never C++ exceptions.
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "audit/internal.hpp"
#include "pg/hash.hpp"
#include "pg/scope.hpp"
#include "pg/spi.hpp"

namespace ms::audit {

using namespace internal;

namespace {

struct VerifyState {
    int64 checked;
    bool have_first;
    int64 first_id;
    bool first_prev_null;
    uint8 first_prev[PG_SHA256_DIGEST_LENGTH];
    bool have_last;
    int64 last_id;
    uint8 last_hash[PG_SHA256_DIGEST_LENGTH];
    // the newest purge record: the id and hash of the last row it deleted
    bool have_purge;
    int64 purge_last_id;
    char purge_last_hash[2 * PG_SHA256_DIGEST_LENGTH + 1];
    bool broken;
    int64 broken_id;
    char problem[512];
};

void fail(VerifyState* s, int64 id, const char* fmt, ...) pg_attribute_printf(3, 4);
void fail(VerifyState* s, int64 id, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->problem, sizeof s->problem, fmt, ap);
    va_end(ap);
    s->broken = true;
    s->broken_id = id;
}

const char* kVerifyQuery =
    "SELECT a.*, "
    "       CASE WHEN a.event = 'purge' THEN (a.detail ->> 'last_deleted_id')::bigint END "
    "         AS purge_last_id, "
    "       CASE WHEN a.event = 'purge' THEN a.detail ->> 'last_deleted_hash' END "
    "         AS purge_last_hash "
    "  FROM migrate.ddl_audit AS a ORDER BY a.id";

void verify_batch(VerifyState* s, const Layout* l, int purge_id_col, int purge_hash_col,
                  StringInfo canon) {
    TupleDesc desc = SPI_tuptable->tupdesc;
    Datum* values = static_cast<Datum*>(palloc(sizeof(Datum) * desc->natts));
    bool* nulls = static_cast<bool*>(palloc(sizeof(bool) * desc->natts));
    for (uint64 i = 0; i < SPI_processed && !s->broken; i++) {
        heap_deform_tuple(SPI_tuptable->vals[i], desc, values, nulls);
        int64 id = DatumGetInt64(values[l->chain[0]]);
        s->checked++;
        uint8 digest[PG_SHA256_DIGEST_LENGTH];
        row_hash(desc, l, values, nulls, canon, digest);
        bytea* stored = nulls[l->hash] ? nullptr : DatumGetByteaPP(values[l->hash]);
        if (stored == nullptr || VARSIZE_ANY_EXHDR(stored) != PG_SHA256_DIGEST_LENGTH ||
            memcmp(VARDATA_ANY(stored), digest, PG_SHA256_DIGEST_LENGTH) != 0) {
            fail(s, id,
                 "row %lld was changed after it was recorded: its hash does not match its contents",
                 static_cast<long long>(id));
            break;
        }
        int prev_col = l->chain[kChainCount - 1];
        bytea* prev = nulls[prev_col] ? nullptr : DatumGetByteaPP(values[prev_col]);
        if (prev != nullptr && VARSIZE_ANY_EXHDR(prev) != PG_SHA256_DIGEST_LENGTH) {
            fail(s, id, "row %lld has a malformed prev_hash", static_cast<long long>(id));
            break;
        }
        if (!s->have_first) {
            s->have_first = true;
            s->first_id = id;
            s->first_prev_null = prev == nullptr;
            if (prev) memcpy(s->first_prev, VARDATA_ANY(prev), PG_SHA256_DIGEST_LENGTH);
        } else {
            if (id != s->last_id + 1) {
                fail(s, id,
                     "rows %lld to %lld are missing: the chain jumps from row %lld to row %lld",
                     static_cast<long long>(s->last_id + 1), static_cast<long long>(id - 1),
                     static_cast<long long>(s->last_id), static_cast<long long>(id));
                break;
            }
            if (prev == nullptr ||
                memcmp(VARDATA_ANY(prev), s->last_hash, PG_SHA256_DIGEST_LENGTH) != 0) {
                fail(s, id,
                     "row %lld does not link to row %lld: its prev_hash is not that row's hash",
                     static_cast<long long>(id), static_cast<long long>(s->last_id));
                break;
            }
        }
        s->have_last = true;
        s->last_id = id;
        memcpy(s->last_hash, digest, PG_SHA256_DIGEST_LENGTH);
        if (!nulls[purge_id_col] && !nulls[purge_hash_col]) {
            s->have_purge = true;
            s->purge_last_id = DatumGetInt64(values[purge_id_col]);
            char* h = TextDatumGetCString(values[purge_hash_col]);
            snprintf(s->purge_last_hash, sizeof s->purge_last_hash, "%s", h);
        }
    }
    pfree(values);
    pfree(nulls);
}

void verify_leaf(VerifyState* s) {
    SPIPlanPtr plan = SPI_prepare(kVerifyQuery, 0, nullptr);
    if (plan == nullptr) elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
    Portal portal = SPI_cursor_open(nullptr, plan, nullptr, nullptr, true);
    Layout l;
    bool have_layout = false;
    int purge_id_col = -1, purge_hash_col = -1;
    StringInfoData canon;
    initStringInfo(&canon);
    MemoryContext batch =
        AllocSetContextCreate(CurrentMemoryContext, "audit verify batch", ALLOCSET_DEFAULT_SIZES);
    while (!s->broken) {
        SPI_cursor_fetch(portal, true, 1000);
        if (SPI_processed == 0) break;
        if (!have_layout) {
            layout_leaf(SPI_tuptable->tupdesc, &l);
            purge_id_col = find_column(SPI_tuptable->tupdesc, "purge_last_id");
            purge_hash_col = find_column(SPI_tuptable->tupdesc, "purge_last_hash");
            have_layout = true;
        }
        MemoryContext old = MemoryContextSwitchTo(batch);
        verify_batch(s, &l, purge_id_col, purge_hash_col, &canon);
        MemoryContextSwitchTo(old);
        MemoryContextReset(batch);
        SPI_freetuptable(SPI_tuptable);
    }
    SPI_cursor_close(portal);
    MemoryContextDelete(batch);
    if (s->broken || !s->have_first) return;
    // The start of the chain: the very first row, or the first row after a recorded purge.
    if (s->first_prev_null) {
        if (s->first_id != 1)
            fail(s, s->first_id,
                 "rows before %lld are missing: row %lld starts a new chain (no prev_hash)",
                 static_cast<long long>(s->first_id), static_cast<long long>(s->first_id));
        return;
    }
    char hex[2 * PG_SHA256_DIGEST_LENGTH + 1];
    pg::hex(s->first_prev, PG_SHA256_DIGEST_LENGTH, hex);
    if (!s->have_purge || s->purge_last_id != s->first_id - 1 ||
        strcmp(hex, s->purge_last_hash) != 0)
        fail(s, s->first_id, "rows before %lld are missing and no purge record accounts for them",
             static_cast<long long>(s->first_id));
}

}  // namespace

Datum verify(Call& c) {
    VerifyState s;
    memset(&s, 0, sizeof s);
    spi::connect();
    pg::OwnerScope internal;
    internal.enter();
    guard([&] { verify_leaf(&s); });
    internal.leave();
    spi::finish();
    FunctionCallInfo fcinfo = c.fcinfo;
    MemoryContext result_cxt = c.result_cxt;
    return guard([&] {
        TupleDesc desc;
        if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
            elog(ERROR, "migrate.verify_audit() must return a row type");
        MemoryContext old = MemoryContextSwitchTo(result_cxt);
        desc = BlessTupleDesc(desc);
        Datum v[6];
        bool n[6] = {false, false, !s.have_first, !s.have_last, !s.broken, !s.broken};
        v[0] = BoolGetDatum(!s.broken);
        v[1] = Int64GetDatum(s.checked);
        v[2] = Int64GetDatum(s.first_id);
        v[3] = Int64GetDatum(s.last_id);
        v[4] = Int64GetDatum(s.broken_id);
        v[5] = s.broken ? text_datum(s.problem) : (Datum)0;
        Datum result = HeapTupleGetDatum(heap_form_tuple(desc, v, n));
        MemoryContextSwitchTo(old);
        return result;
    });
}

}  // namespace ms::audit
