#include "pg/spi.hpp"

#include <cstring>

namespace ms::spi {

namespace {

void prepare_leaf(Query* q) {
    SPIPlanPtr plan =
        q->generic ? SPI_prepare_cursor(q->sql, q->nargs, q->argtypes, CURSOR_OPT_GENERIC_PLAN)
                   : SPI_prepare(q->sql, q->nargs, q->argtypes);
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
    // Rows go to a receiver that drops them: a migration's SELECT may return millions.
    SPIExecuteOptions options;
    memset(&options, 0, sizeof options);
    options.dest = None_Receiver;
    int ret = SPI_execute_extended(sql, &options);
    if (ret < 0)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("statement cannot run inside a migration: %s",
                               SPI_result_code_string(ret))));
    SPI_freetuptable(SPI_tuptable);
}

uint64 read_leaf(const char* sql, bool read_only) {
    int ret = SPI_execute(sql, read_only, 0);
    if (ret < 0) elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
    return SPI_processed;
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

uint64 read(const std::string& sql) {
    return guard([&] { return read_leaf(sql.c_str(), true); });
}

uint64 read_now(const std::string& sql) {
    return guard([&] { return read_leaf(sql.c_str(), false); });
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
        if (isnull) return int64{0};
        switch (SPI_gettypeid(SPI_tuptable->tupdesc, column)) {
            case INT2OID:
                return static_cast<int64>(DatumGetInt16(d));
            case INT4OID:
                return static_cast<int64>(DatumGetInt32(d));
            case OIDOID:
                return static_cast<int64>(DatumGetObjectId(d));
            default:
                return DatumGetInt64(d);
        }
    });
}

bool is_null(uint64 row, int column) {
    return guard([&] {
        bool isnull = false;
        (void)SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, column, &isnull);
        return isnull;
    });
}

namespace {

// Leaf: the elements of a one-dimensional array value (NULL: none).
void array_leaf(uint64 row, int column, Datum** elems, bool** nulls, int* n, Oid* type) {
    bool isnull = false;
    Datum d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, column, &isnull);
    *n = 0;
    if (isnull) return;
    ArrayType* a = DatumGetArrayTypeP(d);
    *type = ARR_ELEMTYPE(a);
    int16 len;
    bool byval;
    char align;
    get_typlenbyvalalign(*type, &len, &byval, &align);
    deconstruct_array(a, *type, len, byval, align, elems, nulls, n);
}

Datum array_leaf(const Datum* elems, int n, Oid type) {
    int16 len;
    bool byval;
    char align;
    get_typlenbyvalalign(type, &len, &byval, &align);
    return PointerGetDatum(construct_array(const_cast<Datum*>(elems), n, type, len, byval, align));
}

}  // namespace

std::vector<std::string> get_text_array(uint64 row, int column) {
    Datum* elems = nullptr;
    bool* nulls = nullptr;
    int n = 0;
    Oid type = InvalidOid;
    guard([&] { array_leaf(row, column, &elems, &nulls, &n, &type); });
    std::vector<std::string> out;
    for (int i = 0; i < n; i++) {
        if (nulls[i]) {
            out.emplace_back();
            continue;
        }
        text* t = guard([&] { return DatumGetTextPP(elems[i]); });
        out.emplace_back(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
    }
    return out;
}

std::vector<int64> get_int_array(uint64 row, int column) {
    Datum* elems = nullptr;
    bool* nulls = nullptr;
    int n = 0;
    Oid type = InvalidOid;
    guard([&] { array_leaf(row, column, &elems, &nulls, &n, &type); });
    std::vector<int64> out;
    for (int i = 0; i < n; i++) {
        if (nulls[i])
            out.push_back(0);
        else if (type == INT8OID)
            out.push_back(DatumGetInt64(elems[i]));
        else if (type == OIDOID)
            out.push_back(static_cast<int64>(DatumGetObjectId(elems[i])));
        else
            out.push_back(DatumGetInt32(elems[i]));
    }
    return out;
}

int column_count() {
    return SPI_tuptable->tupdesc->natts;
}

std::string column_name(int column) {
    return NameStr(TupleDescAttr(SPI_tuptable->tupdesc, column - 1)->attname);
}

void release() {
    guard([] { SPI_freetuptable(SPI_tuptable); });
}

void execute(const std::string& sql) {
    guard([&] { execute_leaf(sql.c_str()); });
}

bool differs_from_latest(Query& q) {
    if (q.plan == nullptr) guard([&] { prepare_leaf(&q); });
    return guard([&] { return differs_leaf(&q); });
}

}  // namespace ms::spi

namespace ms::spi {

Params& Params::add(Datum d, bool isnull) {
    if (n_ >= 20) throw std::logic_error("too many query parameters");
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
Params& Params::oid(Oid v) {
    return add(ObjectIdGetDatum(v), false);
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

Params& Params::text_array(const std::vector<std::string>& v) {
    std::vector<Datum> elems;
    elems.reserve(v.size());
    for (const auto& s : v) elems.push_back(text_value(s));
    Datum* e = elems.data();
    int n = static_cast<int>(elems.size());
    return add(guard([&] { return array_leaf(e, n, TEXTOID); }), false);
}

Params& Params::int4_array(const std::vector<int>& v) {
    std::vector<Datum> elems;
    for (int x : v) elems.push_back(Int32GetDatum(x));
    Datum* e = elems.data();
    int n = static_cast<int>(elems.size());
    return add(guard([&] { return array_leaf(e, n, INT4OID); }), false);
}

Params& Params::oid_array(const std::vector<Oid>& v) {
    std::vector<Datum> elems;
    for (Oid x : v) elems.push_back(ObjectIdGetDatum(x));
    Datum* e = elems.data();
    int n = static_cast<int>(elems.size());
    return add(guard([&] { return array_leaf(e, n, OIDOID); }), false);
}

}  // namespace ms::spi
