// Migration versions: validation and natural order (runs of digits compare as numbers).
// Pure C++.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ms::version {

constexpr size_t kMaxVersionBytes = 255;
constexpr size_t kMaxNameBytes = 1000;

// Throws ms::Error (SQLSTATE 22023) naming `what` when `v` is not a usable version:
// empty, blank, surrounded by white space, longer than kMaxVersionBytes, or holding control
// characters.
void validate(std::string_view v);

// Throws ms::Error when a migration name is empty, blank, too long or holds control characters.
void validate_name(std::string_view name);

// A byte string whose plain byte order (memcmp, or bytea comparison in SQL) is the natural
// order of versions: each run of ASCII digits becomes 0x01, the count of its significant
// digits and those digits; each other run becomes 0x02, its bytes and 0x00. So 005 < 005a <
// 006 and 1.9 < 1.10. Versions that differ only in leading zeros of a number have equal keys.
std::string sort_key(std::string_view v);

// An order key given at register (a client's own order of its folder: diesel's string order,
// Alembic's revision chain): validated like a version, at most kMaxVersionBytes bytes.
void validate_order_key(std::string_view key);

// The place of a migration in the order: its order key's bytes after 0x03 when it has one
// (compared as plain bytes), else sort_key(version). Natural keys begin with 0x01 or 0x02, so
// the two kinds never collide; a database holds one kind (register refuses a mix).
std::string place(std::string_view version, const std::optional<std::string>& order_key);
constexpr char kExplicitPlace = '\x03';

// Natural comparison: negative, zero or positive.
int compare(std::string_view a, std::string_view b);

}  // namespace ms::version
