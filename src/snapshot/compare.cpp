// Comparing two snapshots, and the differences as JSON. See snapshot.hpp.
#include "pg/report.hpp"
#include "snapshot/snapshot.hpp"

namespace ms::snapshot {

namespace {

void compare_props(const std::string& key, const Object& a, const Object& b,
                   std::vector<Difference>& out) {
    auto ia = a.props.begin(), ib = b.props.begin();
    while (ia != a.props.end() || ib != b.props.end()) {
        if (ib == b.props.end() || (ia != a.props.end() && ia->first < ib->first)) {
            out.push_back({key, ia->first, ia->second, std::nullopt});
            ++ia;
        } else if (ia == a.props.end() || ib->first < ia->first) {
            out.push_back({key, ib->first, std::nullopt, ib->second});
            ++ib;
        } else {
            if (ia->second != ib->second) out.push_back({key, ia->first, ia->second, ib->second});
            ++ia;
            ++ib;
        }
    }
}

std::string json_value(const std::optional<std::string>& v) {
    return v ? pg::json_string(*v) : "null";
}

}  // namespace

std::vector<Difference> compare(const Snapshot& before, const Snapshot& after) {
    std::vector<Difference> out;
    auto ia = before.begin(), ib = after.begin();
    while (ia != before.end() || ib != after.end()) {
        if (ib == after.end() || (ia != before.end() && ia->first < ib->first)) {
            out.push_back({ia->first, "exists", "true", "false"});
            ++ia;
        } else if (ia == before.end() || ib->first < ia->first) {
            out.push_back({ib->first, "exists", "false", "true"});
            ++ib;
        } else {
            compare_props(ia->first, ia->second, ib->second, out);
            ++ia;
            ++ib;
        }
    }
    return out;
}

void append_json(std::string& out, const std::vector<Difference>& diffs, const char* check) {
    for (const auto& d : diffs) {
        if (!out.empty()) out += ", ";
        bool exists = d.property == "exists";
        out += "{";
        if (check) out += "\"check\": " + pg::json_string(check) + ", ";
        out += "\"object\": " + pg::json_string(d.object) +
               ", \"property\": " + pg::json_string(d.property) +
               ", \"before\": " + (exists ? *d.before : json_value(d.before)) +
               ", \"after\": " + (exists ? *d.after : json_value(d.after)) + "}";
    }
}

std::string differences_json(const std::vector<Difference>& diffs) {
    std::string out;
    append_json(out, diffs, nullptr);
    return "[" + out + "]";
}

}  // namespace ms::snapshot
