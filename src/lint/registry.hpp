// The rule registry: every lint rule and runtime guard, typed. Pure C++.
//
// The rules are listed once, in lint/rules.def. From that list come the enum RuleId by which
// a rule reports its findings (never by spelling its id or name again), the table kRules that
// migrate.lint_rules() lists, and the resolution of overrides (allow => ARRAY[...] and
// `-- migrate:allow`): an id cannot drift between a finding, the listing and an override.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ms::lint {

// A rule of the catalogue: what migrate.lint_rules() lists and what overrides may name.
struct Rule {
    const char* id;       // e.g. "B401", unique
    const char* name;     // e.g. "drop-column", unique
    const char* family;   // rewrite, constraint, index, breaking, transaction, partition, type,
                          // convention (opt-in), replication or guard (checked while the
                          // migration runs)
    const char* summary;  // one line
    const char* alias;    // an older id an override may still name it by, or nullptr
    const char* opt_in;   // the migrations_schema.lint_opt_in name that enables it, or nullptr
};

enum class RuleId : unsigned char {
#define MS_RULE(key, id, name, family, alias, opt_in, summary) key,
#include "lint/rules.def"
#undef MS_RULE
};

inline constexpr Rule kRules[] = {
#define MS_RULE(key, id, name, family, alias, opt_in, summary) \
    {id, name, family, summary, alias, opt_in},
#include "lint/rules.def"
#undef MS_RULE
};
inline constexpr std::size_t kRuleCount = sizeof kRules / sizeof kRules[0];

constexpr const Rule& rule(RuleId r) {
    return kRules[static_cast<std::size_t>(r)];
}

// The runtime guard that stops a rewrite of a large table (not a lint finding).
inline constexpr const char* kRewriteGuardId = rule(RuleId::large_table_rewrite).id;
inline constexpr const char* kRewriteGuardName = rule(RuleId::large_table_rewrite).name;

// The check of apply(verify => true) (not a lint finding).
inline constexpr const char* kIrreversibleId = rule(RuleId::irreversible_migration).id;
inline constexpr const char* kIrreversibleName = rule(RuleId::irreversible_migration).name;

// What an override names: a rule id (B401, any case) or name (drop-column, drop_column, any
// case), in its canonical spelling.
struct RuleRef {
    std::string key;  // the id in upper case, or the name in lower case with '-'
    bool by_id;
};

// The rule (or rules) a token names; nullopt for no rule. An id names the rule with that id
// and every rule that keeps it as its alias.
std::optional<RuleRef> resolve(std::string_view token);

// Whether an override naming `ref` allows a finding of the rule (rule_id, rule_name): by the
// rule's name, by its id, or by its alias (the id the rule had before it got its own).
bool allows(const RuleRef& ref, std::string_view rule_id, std::string_view rule_name);

// The family of a rule id; "" for none.
std::string family_of(std::string_view rule_id);

// ---- migrations_schema.lint_opt_in ----

// The opt-in rules a lint_opt_in value turns on: one bit per rule of kRules, by its index.
using OptInSet = std::uint64_t;
static_assert(kRuleCount <= 64, "OptInSet has one bit per rule");
constexpr OptInSet opt_in_bit(RuleId r) {
    return OptInSet{1} << static_cast<unsigned>(r);
}

// Parses a lint_opt_in value: opt-in names (rules.def's opt_in column, any case) separated by
// commas and/or white space; empty for none. On an unknown name, ok is false and `bad` is it
// (a view into `value`). Allocates nothing.
struct OptInParse {
    bool ok;
    OptInSet set;
    std::string_view bad;
};
OptInParse parse_opt_in(std::string_view value) noexcept;

// ---- checks of rules.def, at compile time ----
namespace detail {
constexpr bool same(const char* a, const char* b) {
    return std::string_view(a) == std::string_view(b);
}
constexpr bool registry_consistent() {
    for (std::size_t i = 0; i < kRuleCount; i++) {
        for (std::size_t j = i + 1; j < kRuleCount; j++)
            if (same(kRules[i].id, kRules[j].id) || same(kRules[i].name, kRules[j].name))
                return false;  // an id or a name names two rules
        if (kRules[i].alias != nullptr) {
            bool found = false;  // an alias is the id of another rule of the same family
            for (std::size_t j = 0; j < kRuleCount; j++)
                if (j != i && same(kRules[j].id, kRules[i].alias) &&
                    same(kRules[j].family, kRules[i].family))
                    found = true;
            if (!found) return false;
        }
    }
    return true;
}
}  // namespace detail
static_assert(detail::registry_consistent(),
              "rules.def: ids and names must be unique, and an alias must be the id of another "
              "rule of the same family");

}  // namespace ms::lint
