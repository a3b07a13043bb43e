// Overrides. See overrides.hpp.
#include "common/pure.hpp"

#include "safety/overrides.hpp"

#include <boost/algorithm/string/trim.hpp>

#include "common/error.hpp"
#include "script/directives.hpp"

namespace ms::safety {

namespace {

// "rule[, rule ...] [-- reason]": one Override per rule. `where` names the place for errors.
std::vector<Override> parse_body(std::string_view body, const std::string& where) {
    size_t dashes = body.find("--");
    std::string rules = boost::algorithm::trim_copy(std::string(body.substr(0, dashes)));
    std::optional<std::string> reason;
    if (dashes != std::string_view::npos) {
        std::string r = boost::algorithm::trim_copy(std::string(body.substr(dashes + 2)));
        if (!r.empty()) reason = r;
    }
    std::vector<Override> out;
    std::string token;
    auto flush = [&] {
        if (token.empty()) return;
        std::optional<lint::RuleRef> ref = lint::resolve(token);
        if (!ref)
            throw Error(sqlstate("22023"), "unknown lint rule \"" + token + "\" in " + where,
                        "An override names a rule by its id (B401) or its name (drop-column).",
                        "SELECT rule_id, rule FROM migrate.lint_rules() lists the rules.");
        Override o;
        o.rule = ref->key;
        o.by_id = ref->by_id;
        o.reason = reason;
        out.push_back(std::move(o));
        token.clear();
    };
    for (char ch : rules) {
        if (ch == ',' || ch == ' ' || ch == '\t')
            flush();
        else
            token += ch;
    }
    flush();
    if (out.empty())
        throw Error(sqlstate("22023"), where + " names no rule",
                    "Expected: rule[, rule ...] [-- reason], for example "
                    "\"drop-column -- the column is unused since release 41\".",
                    "SELECT rule_id, rule FROM migrate.lint_rules() lists the rules.");
    return out;
}

}  // namespace

std::vector<Override> argument_overrides(const std::vector<std::optional<std::string>>& items) {
    std::vector<Override> out;
    for (size_t i = 0; i < items.size(); i++) {
        if (!items[i])
            throw Error(sqlstate("22004"),
                        "allow must not contain NULL (element " + std::to_string(i + 1) + ")");
        for (auto& o : parse_body(*items[i], "allow element " + std::to_string(i + 1))) {
            o.source = "argument";
            out.push_back(std::move(o));
        }
    }
    return out;
}

std::vector<Override> directive_overrides(std::string_view script_text, std::string_view version,
                                          const char* which, bool standard_strings) {
    std::vector<Override> out;
    for (const auto& d : script::allow_directives(script_text, standard_strings)) {
        std::string where = "the migrate:allow directive of migration " + std::string(version) +
                            " " + which + " script, line " + std::to_string(d.line);
        for (auto& o : parse_body(d.body, where)) {
            o.source = "directive";
            o.script = which;
            o.line = d.line;
            out.push_back(std::move(o));
        }
    }
    return out;
}

}  // namespace ms::safety
