// Included first by every pure C++ file: a file that includes this header must not include
// PostgreSQL's headers, before it or after it (src/pg/pg.hpp refuses to compile after this one).
// Pure files hold logic that needs no server: version order, directive scanning, the rule
// registry, override parsing. They can be compiled and tested without PostgreSQL.
#pragma once

#ifdef POSTGRES_H
#error "a pure C++ file (it includes common/pure.hpp) must not include PostgreSQL headers"
#endif
#define MS_PURE_CPP 1
