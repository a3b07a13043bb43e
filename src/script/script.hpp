// Migration scripts: split into statements by PostgreSQL's own parser (raw_parser), each
// statement located (number, line) and classified before anything runs.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "pg/boundary.hpp"

namespace ms::script {

struct Statement {
    int number;              // position in the script, 1-based (a wrapping BEGIN counts)
    int line;                // line of the statement's first token, 1-based
    std::string sql;         // the statement text from its first token, without the ';'
    std::string first_line;  // the first line of `sql`, shortened for messages
    std::string command;     // command tag, e.g. "CREATE TABLE"
    Node* tree = nullptr;    // raw parse tree, valid in the memory context of the call
};

struct Script {
    std::vector<Statement> statements;  // what runs, in order (a wrapping BEGIN/COMMIT is not)
    bool wrapped = false;               // the script had its own leading BEGIN and trailing COMMIT
};

// Who the script belongs to, for error messages: "migration 005 up script".
struct Origin {
    std::string_view version;
    const char* which;  // "up" or "down"
};

// Splits and checks a script. Raises (as C++ exceptions) syntax errors with the script line,
// transaction control other than a wrapping BEGIN ... COMMIT, and statements that cannot run
// inside a transaction block. `text` must be NUL-terminated at text.size(). A script with no
// statements (empty, only comments, only BEGIN/COMMIT) gives an empty list.
Script split(std::string_view text, const Origin& origin);

// Parses and locates every statement of a script (transaction control included), without
// the checks of split(). Raises syntax errors with the script line.
std::vector<Statement> parse(std::string_view text, const Origin& origin);

}  // namespace ms::script
