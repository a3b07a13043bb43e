// Arguments and results of SQL-callable functions. See args.hpp.
#include "api/args.hpp"

#include <stdexcept>

namespace ms::api {

bool is_null(const Call& c, int i) {
    // An argument the call does not have counts as NULL: a database still on an older version
    // of the extension's SQL (before ALTER EXTENSION ... UPDATE) calls this library with the
    // older, shorter declaration of a function.
    return i >= c.fcinfo->nargs || c.fcinfo->args[i].isnull;
}

// A text Datum's contents.
std::string text_of(Datum d) {
    text* t =
        guard([&] { return (text*)pg_detoast_datum_packed((struct varlena*)DatumGetPointer(d)); });
    return std::string(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

std::optional<std::string> opt_text(Call& c, int i) {
    if (is_null(c, i)) return std::nullopt;
    return text_of(c.fcinfo->args[i].value);
}

std::string req_text(Call& c, int i, const char* what) {
    std::optional<std::string> v = opt_text(c, i);
    if (!v) throw Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, std::string(what) + " must not be NULL");
    return *v;
}

bool arg_bool(Call& c, int i, const char* what) {
    if (is_null(c, i))
        throw Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, std::string(what) + " must not be NULL");
    return DatumGetBool(c.fcinfo->args[i].value);
}

namespace {

// Leaf: the elements of a one-dimensional text[] (NULL elements flagged).
void text_array_leaf(Datum array, const char* what, Datum** elems, bool** nulls, int* n) {
    ArrayType* a = DatumGetArrayTypeP(array);
    if (ARR_NDIM(a) > 1)
        ereport(ERROR, (errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
                        errmsg("%s must be a one-dimensional text array", what)));
    deconstruct_array(a, TEXTOID, -1, false, TYPALIGN_INT, elems, nulls, n);
}

}  // namespace

std::vector<std::optional<std::string>> text_array_arg(Call& c, int i, const char* what) {
    std::vector<std::optional<std::string>> out;
    if (is_null(c, i)) return out;
    Datum* elems = nullptr;
    bool* nulls = nullptr;
    int n = 0;
    Datum array = c.fcinfo->args[i].value;
    guard([&] { text_array_leaf(array, what, &elems, &nulls, &n); });
    out.reserve(static_cast<size_t>(n));
    for (int k = 0; k < n; k++) {
        if (nulls[k]) {
            out.emplace_back(std::nullopt);
            continue;
        }
        out.emplace_back(text_of(elems[k]));
    }
    return out;
}

Datum text_result(Call& c, const std::string& s) {
    return guard([&] {
        MemoryContext old = MemoryContextSwitchTo(c.result_cxt);
        text* t = cstring_to_text_with_len(s.data(), static_cast<int>(s.size()));
        MemoryContextSwitchTo(old);
        return PointerGetDatum(t);
    });
}

Rows::Rows(Call& c) : rsinfo_((ReturnSetInfo*)c.fcinfo->resultinfo) {
    FunctionCallInfo fcinfo = c.fcinfo;
    guard([&] { InitMaterializedSRF(fcinfo, 0); });
}

void Rows::add(const std::vector<std::optional<Datum>>& cols) {
    Datum values[16];
    bool nulls[16];
    if (cols.size() > 16) throw std::logic_error("a result row has more than 16 columns");
    for (size_t i = 0; i < cols.size(); i++) {
        values[i] = cols[i] ? *cols[i] : (Datum)0;
        nulls[i] = !cols[i];
    }
    ReturnSetInfo* rsinfo = rsinfo_;
    guard([&] { tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls); });
}

Datum text_datum(const std::string& s) {
    return guard([&] {
        return PointerGetDatum(cstring_to_text_with_len(s.data(), static_cast<int>(s.size())));
    });
}

Datum text_array_datum(const std::vector<std::string>& items) {
    std::vector<Datum> elems;
    for (const auto& s : items) elems.push_back(text_datum(s));
    const Datum* data = elems.data();
    int n = static_cast<int>(elems.size());
    return guard([&] {
        return PointerGetDatum(
            construct_array(const_cast<Datum*>(data), n, TEXTOID, -1, false, TYPALIGN_INT));
    });
}

Datum jsonb_datum(const std::string& json) {
    return guard([&] { return DirectFunctionCall1(jsonb_in, CStringGetDatum(json.c_str())); });
}

std::optional<Datum> opt_text_datum(const std::optional<std::string>& s) {
    if (!s) return std::nullopt;
    return text_datum(*s);
}

}  // namespace ms::api
