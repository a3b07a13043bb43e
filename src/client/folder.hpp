// pg_migrate: reading a folder of migrations in one of the layouts the common tools use, in
// that tool's own order. Pure C++ (no libpq, no server): the files, their names, their order.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace pgm {

// An error of the input (a file, a folder, an argument): exit status 2.
struct InputError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// One migration of the folder.
struct Migration {
    std::string version;  // as registered (diesel: dashes removed; Flyway: canonical form)
    std::string name;
    std::string up_path;  // the file that holds the up script (for messages)
    std::string down_path;
    std::string up_sql;  // byte for byte what the file (or its section) holds
    std::optional<std::string> down_sql;
    int up_line = 1, down_line = 1;        // line of the file where the script begins
    std::optional<std::string> order_key;  // the tool's order, when it is not the natural one
};

// A repeatable migration (Flyway's R__name.sql): no version, run again whenever it changes.
struct Repeatable {
    std::string name;  // the file's name without R__ and .sql
    std::string path;
    std::string sql;  // byte for byte what the file holds
};

struct Folder {
    std::string dir, layout;
    std::vector<Migration> migrations;    // in the tool's order
    std::vector<std::string> notes;       // what was read but is not applied (and why)
    std::vector<Repeatable> repeatables;  // by name (Flyway only)
};

// The layouts: plain, timestamp, updown (sqlx, golang-migrate), diesel, dbmate, flyway,
// alembic. Returns the canonical name of `given` (aliases: sqlx, golang-migrate, supabase).
std::string layout_name(const std::string& given);

// Reads `dir` in `layout` ("" detects it). Alembic folders need their SQL from Alembic
// itself: for one, read_folder returns the layout without migrations (alembic.hpp reads them).
Folder read_folder(const std::string& dir, const std::string& layout);

// Creates the files of a new migration NAME in the folder's own convention; returns their
// paths. `now` is the UTC time as YYYYMMDDHHMMSS.
std::vector<std::string> new_migration(const Folder& folder, const std::string& name,
                                       const std::string& now);

// The contents of a file; InputError when it cannot be read, is not valid UTF-8 or holds a
// NUL byte.
std::string read_file(const std::string& path);

}  // namespace pgm
