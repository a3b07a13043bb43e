// The rule registry: every lint rule and runtime guard. Pure C++.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ms::lint {

// A rule of the catalogue: what migrate.lint_rules() lists and what overrides may name.
struct Rule {
    const char* id;       // e.g. "B401"
    const char* name;     // e.g. "drop-column"
    const char* family;   // rewrite, constraint, index, breaking, transaction, partition, type,
                          // convention (opt-in) or guard (checked while the migration runs)
    const char* summary;  // one line
};
const std::vector<Rule>& rules() noexcept;

// The runtime guard that stops a rewrite of a large table (not a lint finding).
constexpr const char* kRewriteGuardId = "R110";
constexpr const char* kRewriteGuardName = "large-table-rewrite";

// What an override names: a rule id (B401, any case) or name (drop-column, drop_column, any
// case), in its canonical spelling.
struct RuleRef {
    std::string key;  // the id in upper case, or the name in lower case with '-'
    bool by_id;
};

// The rule (or rules) a token names; nullopt for no rule.
std::optional<RuleRef> resolve(std::string_view token);

// Whether an override naming `ref` allows a finding of the rule (rule_id, rule_name).
bool allows(const RuleRef& ref, std::string_view rule_id, std::string_view rule_name);

// The family of a rule id; "" for none.
std::string family_of(std::string_view rule_id);

}  // namespace ms::lint
