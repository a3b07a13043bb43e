#include "checksum.hpp"

#include "boundary.hpp"

namespace ms::checksum {

void sha256_leaf(const char* data, size_t len, unsigned char* digest) {
    pg_cryptohash_ctx* ctx = pg_cryptohash_create(PG_SHA256);
    if (ctx == nullptr || pg_cryptohash_init(ctx) < 0 ||
        pg_cryptohash_update(ctx, reinterpret_cast<const uint8*>(data), len) < 0 ||
        pg_cryptohash_final(ctx, digest, PG_SHA256_DIGEST_LENGTH) < 0)
        elog(ERROR, "could not compute SHA-256: %s", pg_cryptohash_error(ctx));
    pg_cryptohash_free(ctx);
}

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

void hex(const unsigned char* bytes, size_t n, char* out) noexcept {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * n] = '\0';
}

std::string sha256_hex(std::string_view script) {
    std::string normalized;
    std::string_view input = script;
    if (script.find('\r') != std::string_view::npos) {
        normalized = normalize_line_endings(script);
        input = normalized;
    }
    uint8 digest[PG_SHA256_DIGEST_LENGTH];
    guard([&] { sha256_leaf(input.data(), input.size(), digest); });
    char out[2 * PG_SHA256_DIGEST_LENGTH + 1];
    hex(digest, PG_SHA256_DIGEST_LENGTH, out);
    return out;
}

}  // namespace ms::checksum
