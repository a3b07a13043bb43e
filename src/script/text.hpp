// Small text helpers for scripts and messages. Pure C++.
#pragma once

#include <string>
#include <string_view>

namespace ms::script {

// `line` plus the newlines in text[from, to).
int count_lines(std::string_view text, size_t from, size_t to, int line);

// Without trailing spaces, tabs and line ends.
std::string rtrim(std::string_view s);

// The first line of a statement for messages: at most ~120 bytes (never cutting a UTF-8
// character), " ..." when shortened or when more lines follow.
std::string shorten(std::string_view line);

}  // namespace ms::script
