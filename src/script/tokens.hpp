// Token checksums: a script's identity as PostgreSQL's lexer reads it. Two scripts that differ
// only in white space, comments, line endings or a byte-order mark have the same token
// checksum; a change of any token (a keyword, an identifier, a number, the contents of a string
// or of a dollar-quoted body) changes it. Applied migrations are compared on it, so a cosmetic
// edit of a file does not make its migration "edited" (README "Checksums").
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ms::script {

// SHA-256 (64 hex digits) of the tokens of `script`, read as with standard_conforming_strings
// on whatever the session's setting (a function of the text alone). Raises the lexer's syntax
// error for a script it rejects (an unterminated string or comment).
std::string token_checksum(std::string_view script);

// The same, or nullopt when the lexer rejects the script (nothing is raised).
std::optional<std::string> try_token_checksum(std::string_view script);

// A statement without its CONCURRENTLY keyword (CREATE INDEX CONCURRENTLY becomes CREATE INDEX):
// the form verify() and plan() run inside a transaction. The statement as it is when it has none.
std::string without_concurrently(const std::string& statement);

// How a script compares with a migration's stored checksums.
enum class Change { same, cosmetic, edited };

// `raw` and `tokens`: the stored checksums (tokens may be unknown); `script`: the new text,
// whose raw checksum is `raw_new`.
Change compare(const std::string& raw, const std::optional<std::string>& tokens,
               const std::string& raw_new, std::string_view script);

}  // namespace ms::script
