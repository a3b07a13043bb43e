// pg_migrate: a folder of migration files, applied through the migrations_schema extension.
// A transport: it reads files and calls migrate.register / apply / rollback / status / lint /
// verify / plan / schema; every rule is the database's.
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <unistd.h>

#include "client/cli.hpp"

namespace {

const char* kUsage =
    R"(pg_migrate: applies a folder of migrations through the migrations_schema extension.

Usage:
  pg_migrate [OPTION]... status             the folder against the database
  pg_migrate [OPTION]... up [--to V]        register the folder, apply what is pending
  pg_migrate [OPTION]... down [N | --to V]  roll back the newest N (default 1), or down to V
  pg_migrate [OPTION]... lint               lint the pending migrations on the live catalog
  pg_migrate [OPTION]... new NAME           create the next migration's files
  pg_migrate [OPTION]... adopt SOURCE [--table NAME]
                                            record as applied what another tool applied
                                            (flyway, dbmate, golang-migrate, sqlx, diesel,
                                            alembic, node-pg-migrate, sqitch, prisma), from
                                            its own table; nothing runs
  pg_migrate [OPTION]... verify [V | --applied]
                                            does each down script undo its up script? the
                                            pending migrations (or V, or the applied ones),
                                            run and rolled back (exit 1 when one is not)
  pg_migrate [OPTION]... plan [--to V]      run the pending migrations (up to V) and roll
                                            back: per statement its locks, rewrites, rows,
                                            findings and the sessions it would wait for
  pg_migrate [OPTION]... schema             print the schema (migrate.schema()), to diff

Options:
  -d, --dbname=CONNINFO  connection string or URI (else $DATABASE_URL, else PGHOST, PGPORT,
                         PGUSER, PGDATABASE, ... as for psql)
  --dir=DIR              the folder (default: ./migrations)
  --layout=LAYOUT        plain, timestamp, updown (sqlx, golang-migrate), diesel, dbmate,
                         flyway, alembic (default: detected from the folder)
  --to=V                 up: apply up to and including V; down: roll back down to V;
                         plan: plan up to and including V
  --applied              verify: the applied migrations (down, then up again)
  --allow='RULE[, RULE] [-- REASON]'
                         up, down: override these lint rules for this run (recorded with
                         the migrations, as migrate.apply(allow => ...)); may be repeated
  --table=NAME           adopt: the tool's table, when it is not the tool's default
  --dry-run              up, down, adopt: do everything, then roll the transaction back
  --per-migration        up: commit after each migration (default: one transaction)
  --natural-order        register without the order keys of diesel, dbmate and Alembic
                         folders (a database that registered them in natural order before)
  --no-wait              up, down: do not wait for steps that run after commit
  --wait-timeout=SEC     up, down: give up waiting for them after SEC seconds
  --json                 machine-readable output on standard output
  -q, --quiet            errors only
  --help, --version

Exit status: 0 done; 1 the database refused or a migration failed (or lint found an
error, status found a migration edited, missing or out of order, verify found one not
reversible, not rerunnable or failed, plan a statement that failed); 2 bad usage, folder or
file; 3 no connection, or no usable migrations_schema extension in the database.
)";

constexpr const char* kCommands = "status, up, down, lint, new, adopt, verify, plan, schema";

[[noreturn]] void usage_error(const std::string& m) {
    std::fprintf(stderr, "pg_migrate: %s (pg_migrate --help)\n", m.c_str());
    std::exit(pgm::kBadInput);
}

// --name=value or --name value.
bool take(const std::string& a, const char* name, int& i, int argc, char** argv,
          std::string& value) {
    std::string n = name;
    if (a == n) {
        if (i + 1 >= argc) usage_error(n + " needs a value");
        value = argv[++i];
        return true;
    }
    if (a.rfind(n + "=", 0) == 0) {
        value = a.substr(n.size() + 1);
        return true;
    }
    return false;
}

pgm::Options parse(int argc, char** argv) {
    pgm::Options o;
    if (const char* url = std::getenv("DATABASE_URL"); url && *url) o.conninfo = url;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i], v;
        if (a == "--help" || a == "-h") {
            std::fputs(kUsage, stdout);
            std::exit(0);
        } else if (a == "--version" || a == "-V") {
            std::printf("pg_migrate %s\n", MS_EXTENSION_VERSION);
            std::exit(0);
        } else if (take(a, "--dbname", i, argc, argv, v) || take(a, "-d", i, argc, argv, v)) {
            o.conninfo = v;
        } else if (take(a, "--dir", i, argc, argv, v)) {
            o.dir = v;
        } else if (take(a, "--layout", i, argc, argv, v)) {
            o.layout = v;
        } else if (take(a, "--allow", i, argc, argv, v)) {
            o.allow.push_back(v);
        } else if (take(a, "--to", i, argc, argv, v)) {
            o.to = v;
        } else if (take(a, "--table", i, argc, argv, v)) {
            o.table = v;
        } else if (take(a, "--wait-timeout", i, argc, argv, v)) {
            char* end = nullptr;
            o.wait_timeout = std::strtod(v.c_str(), &end);
            if (v.empty() || *end || o.wait_timeout <= 0)
                usage_error("--wait-timeout needs a number of seconds above 0");
        } else if (a == "--dry-run") {
            o.dry_run = true;
        } else if (a == "--applied") {
            o.applied = true;
        } else if (a == "--natural-order") {
            o.natural_order = true;
        } else if (a == "--per-migration") {
            o.per_migration = true;
        } else if (a == "--no-wait") {
            o.wait = false;
        } else if (a == "--json") {
            o.json = true;
        } else if (a == "--quiet" || a == "-q") {
            o.quiet = true;
        } else if (a.size() > 1 && a[0] == '-' && !std::isdigit(static_cast<unsigned char>(a[1]))) {
            usage_error("unknown option " + a);
        } else if (o.command.empty()) {
            o.command = a;
        } else {
            o.args.push_back(a);
        }
    }
    if (o.command.empty()) usage_error("no command (" + std::string(kCommands) + ")");
    if (o.dir.empty()) {
        // (adopt of a tool whose files pg_migrate does not read needs no folder; schema none)
        if (!std::filesystem::is_directory("migrations") && o.command != "adopt" &&
            o.command != "schema")
            usage_error("no folder: give --dir DIR (./migrations does not exist)");
        o.dir = "migrations";
    }
    if (o.table && o.command != "adopt") usage_error("--table is an option of adopt");
    if (o.to && o.command != "up" && o.command != "down" && o.command != "plan")
        usage_error("--to is an option of up, down and plan");
    if (o.applied && o.command != "verify") usage_error("--applied is an option of verify");
    if (o.dry_run && o.per_migration)
        usage_error(
            "--dry-run runs in one transaction: it cannot be combined with --per-migration");
    o.progress = !o.quiet && !o.json && ::isatty(STDERR_FILENO);
    return o;
}

// An error that is not the database's: one line on standard error (and JSON with --json).
int fail(const pgm::Options& o, const std::string& message, int status) {
    std::fprintf(stderr, "pg_migrate: %s\n", message.c_str());
    if (o.json)
        std::printf("{\"command\":%s,\"error\":{\"message\":%s,\"exit\":%d}}\n",
                    pgm::json_str(o.command).c_str(), pgm::json_str(message).c_str(), status);
    return status;
}

}  // namespace

int main(int argc, char** argv) {
    pgm::Options o = parse(argc, argv);
    try {
        if (!o.layout.empty()) o.layout = pgm::layout_name(o.layout);
        auto no_args = [&] {
            if (!o.args.empty()) usage_error(o.command + ": unexpected argument " + o.args[0]);
        };
        if (o.command == "status") return no_args(), pgm::cmd_status(o);
        if (o.command == "up") return no_args(), pgm::cmd_up(o);
        if (o.command == "down") {
            if (o.args.size() > 1 || (o.args.size() == 1 && o.to))
                usage_error("down takes N or --to V, not both");
            return pgm::cmd_down(o);
        }
        if (o.command == "lint") return no_args(), pgm::cmd_lint(o);
        if (o.command == "new") {
            if (o.args.size() != 1) usage_error("new needs one NAME");
            return pgm::cmd_new(o);
        }
        if (o.command == "adopt") {
            if (o.args.size() != 1 || !pgm::adopt_source_known(o.args[0]))
                usage_error("adopt needs one SOURCE: " + pgm::adopt_sources());
            return pgm::cmd_adopt(o);
        }
        if (o.command == "verify") {
            if (o.args.size() > 1 || (o.args.size() == 1 && o.applied))
                usage_error("verify takes one version V or --applied, not both");
            return pgm::cmd_verify(o);
        }
        if (o.command == "plan") return no_args(), pgm::cmd_plan(o);
        if (o.command == "schema") return no_args(), pgm::cmd_schema(o);
        usage_error("unknown command " + o.command + " (" + kCommands + ")");
    } catch (const pgm::InputError& e) {
        return fail(o, e.what(), pgm::kBadInput);
    } catch (const std::filesystem::filesystem_error& e) {
        return fail(o, e.what(), pgm::kBadInput);
    } catch (const pgm::ConnectionError& e) {
        return fail(o, e.what(), pgm::kNoDatabase);
    } catch (const pgm::DbError& e) {
        pgm::report_error(o, e, pgm::Folder{});
        return pgm::kRefused;
    } catch (const std::exception& e) {
        return fail(o, e.what(), pgm::kRefused);
    }
}
