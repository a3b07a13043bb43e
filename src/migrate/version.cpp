#include "common/pure.hpp"

#include "migrate/version.hpp"

#include "common/error.hpp"

namespace ms::version {

namespace {

bool is_digit(unsigned char c) {
    return c >= '0' && c <= '9';
}
bool is_space(unsigned char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}
bool is_control(unsigned char c) {
    return c < 0x20 || c == 0x7f;
}

void check_text(std::string_view v, const char* what, size_t max_bytes) {
    if (v.empty()) throw Error(sqlstate("22023"), std::string(what) + " must not be empty");
    bool blank = true;
    for (unsigned char c : v)
        if (!is_space(c)) blank = false;
    if (blank) throw Error(sqlstate("22023"), std::string(what) + " must not be blank");
    if (v.size() > max_bytes)
        throw Error(sqlstate("22023"), std::string(what) + " is too long",
                    "It has " + std::to_string(v.size()) + " bytes; the limit is " +
                        std::to_string(max_bytes) + ".");
    if (is_space(v.front()) || is_space(v.back()))
        throw Error(sqlstate("22023"),
                    std::string(what) + " must not begin or end with white space");
    for (size_t i = 0; i < v.size(); i++)
        if (is_control(static_cast<unsigned char>(v[i])))
            throw Error(sqlstate("22023"),
                        std::string(what) + " must not contain control characters",
                        "Byte " + std::to_string(i + 1) + " is a control character (code " +
                            std::to_string(static_cast<unsigned char>(v[i])) + ").");
}

}  // namespace

void validate(std::string_view v) {
    check_text(v, "migration version", kMaxVersionBytes);
}

void validate_name(std::string_view name) {
    check_text(name, "migration name", kMaxNameBytes);
}

void validate_order_key(std::string_view key) {
    check_text(key, "order key", kMaxVersionBytes);
}

std::string place(std::string_view version, const std::optional<std::string>& order_key) {
    if (!order_key) return sort_key(version);
    std::string key(1, kExplicitPlace);
    key += *order_key;
    return key;
}

std::string sort_key(std::string_view v) {
    std::string key;
    key.reserve(v.size() + 8);
    size_t i = 0;
    while (i < v.size()) {
        size_t j = i;
        if (is_digit(v[i])) {
            while (j < v.size() && is_digit(v[j])) j++;
            size_t first = i;
            while (first < j && v[first] == '0') first++;
            key.push_back('\x01');
            // Run lengths fit in one byte: versions are at most 255 bytes long.
            key.push_back(static_cast<char>(j - first));
            key.append(v.substr(first, j - first));
        } else {
            while (j < v.size() && !is_digit(v[j])) j++;
            key.push_back('\x02');
            key.append(v.substr(i, j - i));
            key.push_back('\0');
        }
        i = j;
    }
    return key;
}

int compare(std::string_view a, std::string_view b) {
    std::string ka = sort_key(a), kb = sort_key(b);
    int c = ka.compare(kb);
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

}  // namespace ms::version
