// pg_migrate: the options of one run and what the commands share.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "client/db.hpp"
#include "client/folder.hpp"

namespace pgm {

// Exit statuses (documented in pg_migrate --help and the README).
enum Exit {
    kOk = 0,
    kRefused = 1,     // the database refused, a migration or step failed, lint found an error,
                      // status found an edited, missing or out-of-order migration, verify one
                      // not reversible, not rerunnable or failed, plan a statement that failed
    kBadInput = 2,    // usage, the folder, a file
    kNoDatabase = 3,  // no connection, no extension, an extension too old
};

struct Options {
    std::string command;
    std::vector<std::string> args;
    std::string conninfo;  // -d, else DATABASE_URL, else libpq's environment
    std::string dir;
    std::string layout;
    std::optional<std::string> to;
    std::optional<std::string> table;  // adopt --table: the other tool's bookkeeping table
    std::vector<std::string> allow;    // --allow: overrides passed to apply and rollback (allow =>)
    bool json = false, quiet = false, dry_run = false, per_migration = false, wait = true;
    bool natural_order = false;  // register without order keys (--natural-order)
    bool applied = false;        // verify --applied: the applied migrations, not the pending
    double wait_timeout = 0;     // seconds; 0: no limit
    bool progress = false;       // standard error is a terminal
};

// Reads the folder (Alembic through Alembic), connects and checks the extension.
Folder load_folder(const Options& o);
// The extension is there, 0.4.0 or later, and has the functions `needs` (names in schema
// migrate) that the command calls; else ConnectionError (exit 3).
void check_extension(Db& db, const std::vector<std::string>& needs = {});

// The commands; each returns the exit status.
int cmd_status(const Options& o);
int cmd_up(const Options& o);
int cmd_down(const Options& o);
int cmd_lint(const Options& o);
int cmd_new(const Options& o);
int cmd_adopt(const Options& o);  // o.args[0]: the source, one adopt_source_known() knows
// In a transaction that is always rolled back (inspect.cpp): verify [V] [--applied], plan
// [--to V]; and schema, which reads no folder.
int cmd_verify(const Options& o);
int cmd_plan(const Options& o);
int cmd_schema(const Options& o);

// The tools whose bookkeeping adopt reads (flyway, dbmate, ...).
bool adopt_source_known(const std::string& name);
std::string adopt_sources();

// The database's view of each migration (migrate.status()), in its order. checksum is empty
// for a migration adopted without a script; statements and duration_ms, of its last run.
struct DbRow {
    std::string version, name, state, checksum, step, phase, error, statements, duration_ms;
};
// The versioned migrations; the repeatable ones (version NULL, after them) into *repeatables
// when given.
std::vector<DbRow> db_status(Db& db, std::vector<DbRow>* repeatables = nullptr);
// A state in which the migration's up script is in the schema (or on its way).
bool in_schema(const std::string& state);
// A migration another tool applied, recorded by adopt() or baseline() without a script: the
// phase status() gives it ("adopted from dbmate; no script attached"), or "".
std::string adopted_without_script(const DbRow& r);

// A repeatable migration of the folder against the database: its state there ("applied",
// "pending"; "not registered" for a file the database does not know) and what the next up
// does with it.
struct RepeatableState {
    std::string name, state, note;
    const Repeatable* file = nullptr;  // the folder's file, when there is one
    bool runs_on_up = false;           // new, changed, or not registered
};
// In name order: the folder's R__ files and the database's repeatables.
std::vector<RepeatableState> repeatable_states(Db& db, const Folder& f,
                                               const std::vector<DbRow>& db_repeatables);

// Registers the folder's migrations (those of `only` when given) in one statement, as up does;
// the count of each result of migrate.register ('registered', 'updated', 'attached', ...).
std::map<std::string, int> register_all(Db& db, const Options& o, const Folder& f,
                                        const std::set<std::string>& only = {});

// counts[key], 0 when it is not there (the counts of register_all, of adopt's results).
int count_of(const std::map<std::string, int>& counts, const std::string& key);

// Time and progress, for the commands that show it.
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t);
std::string fmt_ms(double ms);  // "12.3 ms", "1.23 s"
// One line on a terminal (standard error), rewritten: "[n/m] what  elapsed" (no counter when
// n is 0); nothing unless o.progress. progress_end clears it.
void progress(const Options& o, size_t i, size_t n, const std::string& what, Clock::time_point t0);
void progress_end(const Options& o);

// JSON string literal.
std::string json_str(const std::string& s);
std::string json_opt(const std::optional<std::string>& s);

// A server error as lines for standard error, naming the folder's file (and line) where the
// error names one of its migrations.
std::string describe_error(const DbError& e, const Folder& f);
// The error on standard error, then `then` (what happened to the run); with --json also as a
// JSON object on standard output.
void report_error(const Options& o, const DbError& e, const Folder& f,
                  const std::string& then = "");

}  // namespace pgm
