// Execute: runs the statements of a migration script as the caller, each one under the
// bounded lock wait (lockwait.hpp), with the safety guard of its check active, the audit told
// which migration it belongs to, and an error context naming the migration, the statement, its
// line and its first line.
#pragma once

#include <string>

#include "safety/check.hpp"
#include "script/script.hpp"

namespace ms::migrate {

// Runs the transactional part of `s` (statements[0, s.transactional)) in the caller's
// transaction; returns the time taken in milliseconds (rounded to µs). `migration` names it in
// messages ("005 (users)"), `which` is "up" or "down". A statement that uses an enum value the
// script added (55P04: PostgreSQL refuses a new value before it commits) starts the steps:
// it and what follows run after commit (s.transactional and s.steps change).
double execute(script::Script& s, const std::string& version, const std::string& migration,
               const char* which, safety::Check& check);

}  // namespace ms::migrate
