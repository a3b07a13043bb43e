// Script checksums. See checksum.hpp.
#include "script/checksum.hpp"

#include "pg/hash.hpp"

namespace ms::checksum {

std::string normalize_line_endings(std::string_view script) {
    std::string out;
    out.reserve(script.size());
    for (size_t i = 0; i < script.size(); i++) {
        if (script[i] == '\r') {
            out.push_back('\n');
            if (i + 1 < script.size() && script[i + 1] == '\n') i++;
        } else {
            out.push_back(script[i]);
        }
    }
    return out;
}

std::string sha256_hex(std::string_view script) {
    std::string normalized;
    std::string_view input = script;
    if (script.find('\r') != std::string_view::npos) {
        normalized = normalize_line_endings(script);
        input = normalized;
    }
    uint8 digest[PG_SHA256_DIGEST_LENGTH];
    guard([&] { pg::sha256_leaf(input.data(), input.size(), digest); });
    char out[2 * PG_SHA256_DIGEST_LENGTH + 1];
    pg::hex(digest, PG_SHA256_DIGEST_LENGTH, out);
    return out;
}

}  // namespace ms::checksum
