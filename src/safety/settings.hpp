// State shared by the files of src/safety/: its settings and the running check.
#pragma once

#include "safety/check.hpp"

namespace ms::safety {

extern bool enforce;        // migrations_schema.lint_enforce
extern int max_rewrite_kb;  // migrations_schema.max_rewrite_size; -1: no limit
extern Check* running;      // the Check whose script is running (the innermost one)

}  // namespace ms::safety
