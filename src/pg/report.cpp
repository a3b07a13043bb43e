// Messages to the client. See report.hpp.
#include "pg/report.hpp"

namespace ms::pg {

namespace {

void report_leaf(int level, const char* message, const char* detail, const char* hint) {
    ereport(level,
            (errmsg_internal("%s", message), detail[0] ? errdetail_internal("%s", detail) : 0,
             hint[0] ? errhint("%s", hint) : 0));
}

const char* relation_name_leaf(Oid relid) {
    char* rel = get_rel_name(relid);
    if (rel == nullptr) return nullptr;
    char* nsp = get_namespace_name(get_rel_namespace(relid));
    return quote_qualified_identifier(nsp, rel);
}

const char* json_leaf(const char* s) {
    StringInfoData buf;
    initStringInfo(&buf);
    escape_json(&buf, s);
    return buf.data;
}

const char* size_pretty_leaf(int64 bytes) {
    return text_to_cstring(
        DatumGetTextPP(DirectFunctionCall1(pg_size_pretty, Int64GetDatum(bytes))));
}

}  // namespace

void notice(const std::string& message, const std::string& detail) {
    guard([&] { report_leaf(NOTICE, message.c_str(), detail.c_str(), ""); });
}

void warning(const std::string& message, const std::string& detail, const std::string& hint) {
    guard([&] { report_leaf(WARNING, message.c_str(), detail.c_str(), hint.c_str()); });
}

void log(const std::string& message, const std::string& detail) {
    guard([&] { report_leaf(LOG, message.c_str(), detail.c_str(), ""); });
}

std::optional<std::string> relation_name(Oid relid) {
    const char* name = guard([&] { return relation_name_leaf(relid); });
    if (name == nullptr) return std::nullopt;
    return std::string(name);
}

std::string json_string(const std::string& s) {
    return guard([&] { return json_leaf(s.c_str()); });
}

std::string size_pretty(int64 bytes) {
    return guard([&] { return size_pretty_leaf(bytes); });
}

}  // namespace ms::pg
