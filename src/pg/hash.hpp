// SHA-256 through PostgreSQL's cryptohash, and hex digits.
#pragma once

#include <cstddef>

#include "pg/boundary.hpp"

namespace ms::pg {

// SHA-256 of raw bytes into digest (PG_SHA256_DIGEST_LENGTH bytes). Raises a PostgreSQL
// error, not a C++ exception: call it from leaf code under guard().
void sha256_leaf(const char* data, size_t len, unsigned char* digest);

// n bytes as 2n lowercase hex digits and a NUL, into out (2n + 1 chars). Allocates nothing.
void hex(const unsigned char* bytes, size_t n, char* out) noexcept;

}  // namespace ms::pg
