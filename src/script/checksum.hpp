// Script checksums: SHA-256 of the script with line endings normalized (CRLF and lone CR
// become LF), as 64 lowercase hex digits.
#pragma once

#include <string>
#include <string_view>

namespace ms::checksum {

std::string normalize_line_endings(std::string_view script);
std::string sha256_hex(std::string_view script);

}  // namespace ms::checksum
