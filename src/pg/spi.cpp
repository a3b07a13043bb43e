#include "pg/spi.hpp"

#include <cstring>

namespace ms::spi {

namespace {

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

bool differs_from_latest(Query& q) {
    if (q.plan == nullptr) guard([&] { prepare_leaf(&q); });
    return guard([&] { return differs_leaf(&q); });
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

}  // namespace ms::spi
