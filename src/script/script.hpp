// Migration scripts: split into statements by PostgreSQL's own parser (raw_parser), each
// statement located (number, line) and classified before anything runs.
#pragma once

#include <string>
#include <string_view>
#include <utility>
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
    // What it is when it cannot run inside a transaction block ("CREATE INDEX CONCURRENTLY"),
    // or nullptr.
    const char* outside_transaction = nullptr;
};

// A step: statements that run after the caller's transaction commits, in a transaction of
// their own: one statement, or the statements of a BEGIN ... COMMIT block.
struct Step {
    size_t first;  // index in Script::statements
    size_t count;
    bool block;
};

// A script, split. Its statements run in two parts: statements[0, transactional) in the
// caller's transaction (BEGIN ... COMMIT blocks there change nothing: the part is one unit);
// the rest, from the first statement that cannot run in a transaction block on, as steps after
// commit, each in a transaction of its own.
struct Script {
    std::vector<Statement> statements;  // what runs, in order (transaction control is not)
    std::vector<std::pair<size_t, size_t>> blocks;  // [start, end) of BEGIN ... COMMIT blocks
    size_t transactional = 0;
    std::vector<Step> steps;

    // Makes statements[first, end) the steps (a block cut at `first` is one step).
    void steps_from(size_t first);
};

// Who the script belongs to, for error messages: "migration 005 up script".
struct Origin {
    std::string_view version;
    const char* which;  // "up" or "down"
};

// Splits and checks a script. Raises (as C++ exceptions) syntax errors with the script line,
// transaction control other than BEGIN ... COMMIT blocks (ROLLBACK, SAVEPOINT, two-phase
// commit, nested or unclosed blocks), statements that cannot run in a migration (CREATE
// DATABASE, ALTER SYSTEM, ...) and statements that cannot run in a transaction block inside a
// BEGIN ... COMMIT block. `text` must be NUL-terminated at text.size(). A script with no
// statements (empty, only comments, only BEGIN/COMMIT) gives an empty list.
Script split(std::string_view text, const Origin& origin);

// Parses and locates every statement of a script (transaction control included), without
// the checks of split(). Raises syntax errors with the script line.
std::vector<Statement> parse(std::string_view text, const Origin& origin);

// Leaf (call inside guard(): a value that is not a boolean raises): whether the option `name`
// of a statement's option list (VACUUM (FULL), REINDEX (CONCURRENTLY false), ...) is on;
// `if_absent` when the list does not hold it.
bool option_is_true(List* options, const char* name, bool if_absent);

}  // namespace ms::script
