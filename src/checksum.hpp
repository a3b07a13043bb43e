// Script checksums: SHA-256 of the script with line endings normalized (CRLF and lone CR
// become LF), as 64 lowercase hex digits.
#pragma once

#include <string>
#include <string_view>

namespace ms::checksum {

std::string normalize_line_endings(std::string_view script);
std::string sha256_hex(std::string_view script);

// n bytes as 2n lowercase hex digits and a NUL, into out (2n + 1 chars). Allocates nothing.
void hex(const unsigned char* bytes, size_t n, char* out) noexcept;

// SHA-256 of raw bytes into digest (PG_SHA256_DIGEST_LENGTH bytes). Raises a PostgreSQL
// error, not a C++ exception: call it from leaf code under guard().
void sha256_leaf(const char* data, size_t len, unsigned char* digest);

}  // namespace ms::checksum
