// The rule registry. See registry.hpp; the rules themselves are listed in rules.def.
#include "common/pure.hpp"

#include "lint/registry.hpp"

#include <cctype>

namespace ms::lint {

namespace {

std::string upper(std::string_view s) {
    std::string out;
    for (char ch : s) out += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return out;
}

// Names compare in lower case with '_' as '-'.
std::string name_key(std::string_view s) {
    std::string out;
    for (char ch : s)
        out += ch == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return out;
}

bool equal_ignoring_case(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); i++)
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

}  // namespace

std::optional<RuleRef> resolve(std::string_view token) {
    std::string id = upper(token), name = name_key(token);
    for (const auto& r : kRules) {
        if (id == r.id || (r.alias != nullptr && id == r.alias)) return RuleRef{id, true};
        if (name == r.name) return RuleRef{name, false};
    }
    return std::nullopt;
}

bool allows(const RuleRef& ref, std::string_view rule_id, std::string_view rule_name) {
    if (!ref.by_id) return ref.key == rule_name;
    if (ref.key == rule_id) return true;
    for (const auto& r : kRules)
        if (rule_name == r.name) return r.alias != nullptr && ref.key == r.alias;
    return false;
}

std::string family_of(std::string_view rule_id) {
    for (const auto& r : kRules)
        if (rule_id == r.id) return r.family;
    return {};
}

OptInParse parse_opt_in(std::string_view value) noexcept {
    OptInParse out{true, 0, {}};
    std::size_t i = 0;
    while (i < value.size()) {
        char ch = value[i];
        if (ch == ',' || std::isspace(static_cast<unsigned char>(ch))) {
            i++;
            continue;
        }
        std::size_t start = i;
        while (i < value.size() && value[i] != ',' &&
               !std::isspace(static_cast<unsigned char>(value[i])))
            i++;
        std::string_view token = value.substr(start, i - start);
        bool known = false;
        for (std::size_t r = 0; r < kRuleCount; r++)
            if (kRules[r].opt_in != nullptr && equal_ignoring_case(token, kRules[r].opt_in)) {
                out.set |= opt_in_bit(static_cast<RuleId>(r));
                known = true;
            }
        if (!known) return OptInParse{false, 0, token};
    }
    return out;
}

}  // namespace ms::lint
