// Overrides: rules a migration allows, given as an argument of the call
// (allow => ARRAY['rule[, rule ...] [-- reason]']) or as `-- migrate:allow` lines in the
// script. Pure C++: parsing and naming only; what they allow is decided in check.cpp.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lint/registry.hpp"

namespace ms::safety {

// One override: a rule allowed by an argument of the call or by a directive in the script.
struct Override {
    std::string rule;                   // the rule as spelled in lint_rules(): id or name
    bool by_id = false;                 // rule is a rule id such as B401
    std::optional<std::string> reason;  // text after "--"
    const char* source = "argument";    // "argument" or "directive"
    const char* script = nullptr;       // directive: "up" or "down"
    int line = 0;                       // directive: its line in the script
    bool matched = false;               // matched a finding (or allowed a rewrite)

    bool allows(std::string_view rule_id, std::string_view rule_name) const {
        return lint::allows(lint::RuleRef{rule, by_id}, rule_id, rule_name);
    }
};

// Parses overrides given as arguments: each "rule[, rule ...] [-- reason]". Raises 22023 for
// an empty entry or an unknown rule, 22004 for a NULL entry (signalled by std::nullopt).
std::vector<Override> argument_overrides(const std::vector<std::optional<std::string>>& items);

// The `-- migrate:allow` directives of a script (`which`: "up" or "down"). Raises 22023 for an
// unknown rule or a directive naming no rule. `standard_strings`: the server's
// standard_conforming_strings.
std::vector<Override> directive_overrides(std::string_view script_text, std::string_view version,
                                          const char* which, bool standard_strings);

}  // namespace ms::safety
