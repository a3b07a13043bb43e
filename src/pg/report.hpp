// Messages to the client from the C++ core (NOTICE, WARNING) and the names they use.
#pragma once

#include <optional>
#include <string>

#include "pg/boundary.hpp"

namespace ms::pg {

// Raises a NOTICE or WARNING (through the guard).
void notice(const std::string& message, const std::string& detail = {});
void warning(const std::string& message, const std::string& detail = {},
             const std::string& hint = {});

// A line in the server log (LOG): the worker's messages, which have no client.
void log(const std::string& message, const std::string& detail = {});

// "schema.table" of a relation, each part quoted as needed; nullopt when it no longer exists.
std::optional<std::string> relation_name(Oid relid);

// JSON string literal for `s` (quotes included), by PostgreSQL's escape_json.
std::string json_string(const std::string& s);

// "12 MB": PostgreSQL's pg_size_pretty.
std::string size_pretty(int64 bytes);

}  // namespace ms::pg
