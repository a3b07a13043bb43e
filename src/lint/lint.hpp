// Safety lint: rules over PostgreSQL's raw parse trees, judged against the live catalog (table
// sizes, column types, volatility, constraints, indexes). See README "Safety lint" and
// docs/rules/ (one page per rule). The rules are listed in lint/rules.def (registry.hpp), their
// checks are lint/rules/<ID>_<name>.cpp, the walker that calls them is lint.cpp.
#pragma once

#include <string>
#include <vector>

#include "lint/registry.hpp"
#include "pg/boundary.hpp"
#include "script/script.hpp"

namespace ms::lint {

struct Finding {
    int statement;  // 1-based position in the script
    int line;       // line of the statement's first token
    std::string rule_id;
    std::string rule;
    std::string severity;  // "error", "warning" or "info"
    std::string message;
    std::string safe_alternative;
};

// From _PG_init: the lint settings (thresholds, opt-in rules).
void define_settings() noexcept;

// Lints a script. Raises a syntax error (with the script line) when it does not parse.
std::vector<Finding> lint(const std::string& sql);

struct Options {
    // The statements run under the runner's bounded lock_timeout: T501 does not apply.
    bool lock_waits_bounded = false;
};

// Lints statements already parsed (and checked) by script::split or script::parse.
std::vector<Finding> lint(const std::vector<script::Statement>& statements, const Options& options);

}  // namespace ms::lint
