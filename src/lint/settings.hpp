// The lint's settings: row thresholds of size-dependent findings and the opt-in rules.
// define_settings() (lint.hpp) defines them from _PG_init.
#pragma once

#include "lint/registry.hpp"

namespace ms::lint::settings {

// migrations_schema.lint_warning_rows / lint_error_rows.
extern double warning_rows;
extern double error_rows;

// Whether migrations_schema.lint_opt_in turns on the opt-in rule `r` (its value is checked and
// parsed once, when it is set).
bool opted_in(RuleId r) noexcept;

}  // namespace ms::lint::settings
