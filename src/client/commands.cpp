// pg_migrate: the commands. Each reads the folder, connects, and asks the extension.
#include "client/alembic.hpp"
#include "client/cli.hpp"

#include <cctype>
#include <functional>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <regex>

namespace pgm {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

// The oldest extension version pg_migrate works with (order keys, steps after commit).
constexpr int kNeedMajor = 0, kNeedMinor = 4;

std::string fmt_ms(double ms) {
    char b[32];
    if (ms < 1000)
        std::snprintf(b, sizeof b, "%.1f ms", ms);
    else
        std::snprintf(b, sizeof b, "%.2f s", ms / 1000);
    return b;
}

std::string label(const Migration& m) {
    return m.name.empty() ? m.version : m.version + " " + m.name;
}

// The database's state of each version (migrate.status()), in the database's order.
struct DbRow {
    std::string version, name, state, checksum, step, phase, error;
};
std::vector<DbRow> db_status(Db& db) {
    Rows r = db.query(
        "SELECT version, coalesce(name, ''), state, checksum, coalesce(step, ''), "
        "coalesce(phase, ''), coalesce(error, '') FROM migrate.status()");
    std::vector<DbRow> out;
    for (int i = 0; i < r.size(); i++)
        out.push_back({r.text(i, 0), r.text(i, 1), r.text(i, 2), r.text(i, 3), r.text(i, 4),
                       r.text(i, 5), r.text(i, 6)});
    return out;
}

bool in_schema(const std::string& state) {
    return state == "applied" || state == "applying" || state == "queued" ||
           state == "rolling back" || state == "failed";
}

// Every migration of the folder registered, in one statement (one round trip); returns how
// many were registered, updated and unchanged.
std::map<std::string, int> register_all(Db& db, const Folder& f) {
    std::vector<Param> v, u, d, n, k;
    for (const auto& m : f.migrations) {
        v.push_back(m.version);
        u.push_back(m.up_sql);
        d.push_back(m.down_sql);
        n.push_back(m.name.empty() ? Param() : Param(m.name));
        k.push_back(m.order_key);
    }
    Rows r = db.query(
        "SELECT migrate.register(f.v, f.u, f.d, f.n, f.k) FROM ROWS FROM ("
        "pg_catalog.unnest($1::text[]), pg_catalog.unnest($2::text[]), "
        "pg_catalog.unnest($3::text[]), pg_catalog.unnest($4::text[]), "
        "pg_catalog.unnest($5::text[])) WITH ORDINALITY AS f(v, u, d, n, k, i) ORDER BY f.i",
        {text_array(v), text_array(u), text_array(d), text_array(n), text_array(k)});
    std::map<std::string, int> counts;
    for (int i = 0; i < r.size(); i++) counts[r.text(i, 0)]++;
    return counts;
}

void progress(const Options& o, size_t i, size_t n, const std::string& what, Clock::time_point t0) {
    if (!o.progress) return;
    if (n == 0)
        std::fprintf(stderr, "\r\033[K%s  %.1f s", what.c_str(), seconds_since(t0));
    else
        std::fprintf(stderr, "\r\033[K[%zu/%zu] %s  %.1f s", i, n, what.c_str(), seconds_since(t0));
    std::fflush(stderr);
}
void progress_end(const Options& o) {
    if (o.progress) std::fprintf(stderr, "\r\033[K");
}

// After commit: steps of these migrations run in the extension's worker. Waits for them
// (CALL migrate.wait(), which commits between its polls).
void wait_for_steps(Db& db, const Options& o, const Folder& f) {
    std::string busy;
    for (const auto& r : db_status(db))
        if (r.state == "applying" || r.state == "queued" || r.state == "rolling back")
            busy += (busy.empty() ? "" : ", ") + r.version + " (" + r.state + ")";
    if (busy.empty()) return;
    if (!o.wait) {
        if (!o.quiet)
            std::fprintf(stderr,
                         "steps run after commit in the background (--no-wait): "
                         "pg_migrate status shows them\n");
        return;
    }
    if (!o.quiet && !o.json)
        std::fprintf(stderr, "waiting for the steps that run after commit: %s ...\n", busy.c_str());
    Clock::time_point t0 = Clock::now();
    db.query("CALL migrate.wait(NULL, $1::interval)",
             {o.wait_timeout > 0 ? Param(std::to_string(o.wait_timeout) + " s") : Param()},
             o.progress
                 ? std::function<void()>([&] { progress(o, 0, 0, "steps after commit", t0); })
                 : nullptr);
    progress_end(o);
    if (!o.quiet && !o.json)
        std::fprintf(stderr, "steps done in %s\n", fmt_ms(seconds_since(t0) * 1000).c_str());
    (void)f;
}

struct Ran {
    std::string version, name, statements, ms;
};
std::vector<Ran> ran_rows(const Rows& r) {
    std::vector<Ran> out;
    for (int i = 0; i < r.size(); i++)
        out.push_back({r.text(i, 0), r.text(i, 1), r.text(i, 2), r.text(i, 3)});
    return out;
}

void print_ran(const Options& o, const char* verb, const std::vector<Ran>& ran, bool dry,
               double seconds, const std::map<std::string, int>& reg) {
    if (o.json) {
        std::printf(
            "{\"command\":%s,\"dry_run\":%s,\"seconds\":%.3f,\"registered\":%d,"
            "\"updated\":%d,\"migrations\":[",
            json_str(o.command).c_str(), dry ? "true" : "false", seconds,
            reg.count("registered") ? reg.at("registered") : 0,
            reg.count("updated") ? reg.at("updated") : 0);
        for (size_t i = 0; i < ran.size(); i++)
            std::printf("%s{\"version\":%s,\"name\":%s,\"statements\":%s,\"duration_ms\":%s}",
                        i ? "," : "", json_str(ran[i].version).c_str(),
                        json_str(ran[i].name).c_str(),
                        ran[i].statements.empty() ? "null" : ran[i].statements.c_str(),
                        ran[i].ms.empty() ? "null" : ran[i].ms.c_str());
        std::printf("]}\n");
        return;
    }
    if (o.quiet) return;
    for (const auto& r : ran)
        std::printf("%s %s%s%s (%s statement%s, %s)\n", verb, r.version.c_str(),
                    r.name.empty() ? "" : " ", r.name.c_str(), r.statements.c_str(),
                    r.statements == "1" ? "" : "s", fmt_ms(std::atof(r.ms.c_str())).c_str());
    std::printf("%s%zu migration%s %s in %.2f s%s\n", dry ? "dry run: " : "", ran.size(),
                ran.size() == 1 ? "" : "s", verb, seconds,
                dry ? "; rolled back, nothing changed" : "");
}

// --allow values as a text[] (NULL when none).
Param allow_array(const Options& o) {
    if (o.allow.empty()) return Param();
    return text_array(std::vector<Param>(o.allow.begin(), o.allow.end()));
}

// After a committed up or down: what was done, then the steps after commit waited for.
int finish(Db& db, const Options& o, const Folder& f, const char* verb, const std::vector<Ran>& ran,
           double seconds, const std::map<std::string, int>& reg) {
    print_ran(o, verb, ran, o.dry_run, seconds, reg);
    if (o.dry_run) return kOk;
    try {
        wait_for_steps(db, o, f);
    } catch (const DbError& e) {
        progress_end(o);
        std::fprintf(stderr, "pg_migrate: %s\n", describe_error(e, f).c_str());
        return kRefused;
    }
    return kOk;
}

}  // namespace

std::string json_str(const std::string& s) {
    std::string j = "\"";
    for (unsigned char c : s) {
        switch (c) {
            case '"':
                j += "\\\"";
                break;
            case '\\':
                j += "\\\\";
                break;
            case '\n':
                j += "\\n";
                break;
            case '\r':
                j += "\\r";
                break;
            case '\t':
                j += "\\t";
                break;
            default:
                if (c < 0x20) {
                    char b[8];
                    std::snprintf(b, sizeof b, "\\u%04x", c);
                    j += b;
                } else {
                    j += static_cast<char>(c);
                }
        }
    }
    return j + "\"";
}

std::string json_opt(const std::optional<std::string>& s) {
    return s ? json_str(*s) : "null";
}

std::string describe_error(const DbError& e, const Folder& f) {
    // "migration V (name) up script, [statement S, ]line L": the file and its line.
    std::string where;
    static const std::regex ctx(
        R"(migration (\S+)(?: \([^)]*\))? (up|down) script, (?:statement \d+, )?line (\d+))");
    std::smatch m;
    std::string text = e.context + "\n" + e.what();
    const Migration* hit = nullptr;
    if (std::regex_search(e.context, m, ctx)) {
        for (const auto& mig : f.migrations)
            if (mig.version == m[1].str()) hit = &mig;
        if (hit) {
            bool up = m[2] == "up";
            int line = std::stoi(m[3]) + (up ? hit->up_line : hit->down_line) - 1;
            where = (up ? hit->up_path : hit->down_path) + ":" + std::to_string(line) + ": ";
        }
    }
    if (!hit)  // the version of the folder that the message names ("migration V ...")
        for (const auto& mig : f.migrations) {
            std::string named = "migration " + mig.version;
            for (size_t at = text.find(named); at != std::string::npos && !hit;
                 at = text.find(named, at + 1)) {
                char next = at + named.size() < text.size() ? text[at + named.size()] : ' ';
                if (!std::isalnum(static_cast<unsigned char>(next)) && next != '.' && next != '_' &&
                    next != '-')
                    hit = &mig;
            }
        }
    if (hit && where.empty()) where = hit->up_path + ": ";
    std::string s = where + "ERROR " + e.sqlstate + ": " + e.what();
    if (!e.detail.empty()) s += "\n  DETAIL: " + e.detail;
    if (!e.hint.empty()) s += "\n  HINT: " + e.hint;
    return s;
}

void check_extension(Db& db) {
    Rows r = db.query(
        "SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'migrations_schema'");
    if (r.size() == 0)
        throw ConnectionError(db.describe() +
                              " has no migrations_schema extension (CREATE "
                              "EXTENSION migrations_schema, as a superuser)");
    std::string v = r.text(0, 0);
    int major = 0, minor = 0;
    if (std::sscanf(v.c_str(), "%d.%d", &major, &minor) != 2 || major < kNeedMajor ||
        (major == kNeedMajor && minor < kNeedMinor))
        throw ConnectionError(db.describe() + " has migrations_schema " + v +
                              "; pg_migrate needs 0.4.0 or later (ALTER EXTENSION "
                              "migrations_schema UPDATE)");
}

Folder load_folder(const Options& o) {
    std::string layout = o.layout.empty() ? detect_layout(o.dir) : o.layout;
    Folder f = layout == "alembic" ? read_alembic(o.dir) : read_folder(o.dir, layout);
    if (!o.quiet)
        for (const auto& n : f.notes) std::fprintf(stderr, "note: %s\n", n.c_str());
    return f;
}

int cmd_up(const Options& o) {
    Folder f = load_folder(o);
    if (o.to) {
        bool known = false;
        for (const auto& m : f.migrations) known = known || m.version == *o.to;
        if (!known) throw InputError("--to " + *o.to + ": no such version in " + f.dir);
    }
    Db db(o.conninfo, o.quiet);
    check_extension(db);
    Clock::time_point t0 = Clock::now();
    std::vector<Ran> ran;
    std::map<std::string, int> reg;
    try {
        db.exec("BEGIN");
        reg = register_all(db, f);
        if (o.per_migration) db.exec("COMMIT");
        // the pending migrations of the folder, in its order, up to --to
        std::map<std::string, std::string> state;
        for (const auto& r : db_status(db)) state[r.version] = r.state;
        std::vector<const Migration*> todo;
        for (const auto& m : f.migrations) {
            const std::string& s = state[m.version];
            if (s == "pending" || s == "rolled back") todo.push_back(&m);
            if (o.to && m.version == *o.to) break;
        }
        Param allow = allow_array(o);
        // Without a progress line to show (not a terminal) and in one transaction, one call
        // applies them all: the same order, the same transaction, less overhead.
        if (!o.progress && !o.per_migration && todo.size() > 1)
            todo.erase(todo.begin(), todo.end() - 1);
        for (size_t i = 0; i < todo.size(); i++) {
            auto tick = [&, i] { progress(o, i + 1, todo.size(), label(*todo[i]), t0); };
            tick();
            if (o.per_migration) db.exec("BEGIN");
            for (auto& r :
                 ran_rows(db.query("SELECT version, coalesce(name, ''), statements, duration_ms "
                                   "FROM migrate.apply(to_version => $1, allow => $2::text[])",
                                   {todo[i]->version, allow},
                                   o.progress ? std::function<void()>(tick) : nullptr)))
                ran.push_back(std::move(r));
            if (o.per_migration) db.exec("COMMIT");
        }
        progress_end(o);
        db.exec(o.dry_run ? "ROLLBACK" : "COMMIT");
    } catch (const DbError& e) {
        progress_end(o);
        std::fprintf(stderr, "pg_migrate: %s\n", describe_error(e, f).c_str());
        if (!o.per_migration)
            std::fprintf(stderr, "pg_migrate: nothing was applied (one transaction)\n");
        else if (!ran.empty())
            std::fprintf(stderr, "pg_migrate: %zu migration(s) were applied before it\n",
                         ran.size());
        return kRefused;
    }
    return finish(db, o, f, "applied", ran, seconds_since(t0), reg);
}

int cmd_down(const Options& o) {
    int n = 1;
    if (!o.args.empty()) {
        const std::string& a = o.args[0];
        if (a.empty() || a.size() > 9 || a.find_first_not_of("0123456789") != std::string::npos ||
            std::stoi(a) < 1)
            throw InputError("down: N must be a whole number of migrations, at least 1 (got " + a +
                             ")");
        n = std::stoi(a);
    }
    Folder f = load_folder(o);
    Db db(o.conninfo, o.quiet);
    check_extension(db);
    Clock::time_point t0 = Clock::now();
    std::vector<Ran> ran;
    std::map<std::string, int> reg;
    try {
        db.exec("BEGIN");
        // the folder's down scripts are the ones to run: registered first
        reg = register_all(db, f);
        std::string what =
            o.to ? "rolling back down to " + *o.to
                 : "rolling back " + std::to_string(n) + " migration" + (n == 1 ? "" : "s");
        std::function<void()> tick;
        if (o.progress) tick = [&] { progress(o, 0, 0, what, t0); };
        Rows r = o.to ? db.query(
                            "SELECT version, coalesce(name, ''), statements, duration_ms "
                            "FROM migrate.rollback(to_version => $1, allow => $2::text[])",
                            {*o.to, allow_array(o)}, tick)
                      : db.query(
                            "SELECT version, coalesce(name, ''), statements, duration_ms "
                            "FROM migrate.rollback($1::integer, allow => $2::text[])",
                            {std::to_string(n), allow_array(o)}, tick);
        progress_end(o);
        ran = ran_rows(r);
        db.exec(o.dry_run ? "ROLLBACK" : "COMMIT");
    } catch (const DbError& e) {
        progress_end(o);
        std::fprintf(stderr, "pg_migrate: %s\npg_migrate: nothing was rolled back\n",
                     describe_error(e, f).c_str());
        return kRefused;
    }
    return finish(db, o, f, "rolled back", ran, seconds_since(t0), reg);
}

int cmd_status(const Options& o) {
    Folder f = load_folder(o);
    Db db(o.conninfo, o.quiet);
    check_extension(db);
    std::vector<DbRow> rows = db_status(db);
    std::vector<Param> ups;
    for (const auto& m : f.migrations) ups.push_back(m.up_sql);
    // the checksum the database computes for each file
    Rows sums = db.query(
        "SELECT migrate.checksum(u) FROM pg_catalog.unnest($1::text[]) WITH ORDINALITY AS "
        "f(u, i) ORDER BY i",
        {text_array(ups)});
    std::map<std::string, const DbRow*> by_version;
    for (const auto& r : rows) by_version[r.version] = &r;
    struct Line {
        std::string version, name, state, note, file;
        bool problem = false;
    };
    std::vector<Line> lines;
    size_t last_in_schema = 0;
    for (size_t i = 0; i < f.migrations.size(); i++) {
        auto it = by_version.find(f.migrations[i].version);
        if (it != by_version.end() && in_schema(it->second->state)) last_in_schema = i + 1;
    }
    int problems = 0;
    for (size_t i = 0; i < f.migrations.size(); i++) {
        const Migration& m = f.migrations[i];
        Line l{m.version, m.name, "pending", "", m.up_path};
        auto it = by_version.find(m.version);
        if (it != by_version.end()) {
            const DbRow& r = *it->second;
            l.state = r.state;
            if (in_schema(r.state) && r.checksum != sums.text(static_cast<int>(i), 0))
                l.note = "edited since it was applied", l.problem = true;
            else if (r.state == "failed")
                l.note = r.step + ": " + r.error, l.problem = true;
            else if (!r.phase.empty())
                l.note = r.step + " " + r.phase;
            by_version.erase(it);
        } else {
            l.note = "not registered";
        }
        if (!in_schema(l.state) && i + 1 < last_in_schema && !l.problem)
            l.note = "out of order: a later migration is applied", l.problem = true;
        problems += l.problem;
        lines.push_back(l);
    }
    for (const auto& r : rows)  // known to the database, not in the folder
        if (by_version.count(r.version)) {
            lines.push_back({r.version, r.name, r.state, "file missing", "", in_schema(r.state)});
            problems += in_schema(r.state);
        }
    if (o.json) {
        std::printf("{\"layout\":%s,\"dir\":%s,\"migrations\":[", json_str(f.layout).c_str(),
                    json_str(f.dir).c_str());
        for (size_t i = 0; i < lines.size(); i++)
            std::printf(
                "%s{\"version\":%s,\"name\":%s,\"state\":%s,\"note\":%s,\"file\":%s,"
                "\"problem\":%s}",
                i ? "," : "", json_str(lines[i].version).c_str(), json_str(lines[i].name).c_str(),
                json_str(lines[i].state).c_str(), json_str(lines[i].note).c_str(),
                json_str(lines[i].file).c_str(), lines[i].problem ? "true" : "false");
        std::printf("]}\n");
    } else if (!o.quiet) {
        std::map<std::string, int> counts;
        for (const auto& l : lines) {
            counts[l.state]++;
            std::printf("%-20s %-13s %s%s%s\n", l.version.c_str(), l.state.c_str(), l.name.c_str(),
                        l.note.empty() ? "" : "  -- ", l.note.c_str());
        }
        std::string summary;
        for (const auto& [s, c] : counts)
            summary += (summary.empty() ? "" : ", ") + std::to_string(c) + " " + s;
        std::printf("%s layout, %s: %s%s\n", f.layout.c_str(), f.dir.c_str(),
                    summary.empty() ? "no migrations" : summary.c_str(),
                    problems ? (", " + std::to_string(problems) + " to look at").c_str() : "");
    }
    return problems ? kRefused : kOk;
}

int cmd_lint(const Options& o) {
    Folder f = load_folder(o);
    Db db(o.conninfo, o.quiet);
    check_extension(db);
    std::map<std::string, std::string> state;
    for (const auto& r : db_status(db)) state[r.version] = r.state;
    int errors = 0, findings = 0;
    if (o.json) std::printf("{\"findings\":[");
    for (const auto& m : f.migrations) {
        if (in_schema(state[m.version])) continue;  // lint the pending ones
        Rows r = db.query("SELECT line, severity, rule_id, rule, message FROM migrate.lint($1)",
                          {m.up_sql});
        for (int i = 0; i < r.size(); i++) {
            int line = std::atoi(r.text(i, 0).c_str()) + m.up_line - 1;
            std::string sev = r.text(i, 1);
            errors += sev == "error";
            if (o.json)
                std::printf(
                    "%s{\"file\":%s,\"line\":%d,\"version\":%s,\"severity\":%s,"
                    "\"rule_id\":%s,\"rule\":%s,\"message\":%s}",
                    findings ? "," : "", json_str(m.up_path).c_str(), line,
                    json_str(m.version).c_str(), json_str(sev).c_str(),
                    json_str(r.text(i, 2)).c_str(), json_str(r.text(i, 3)).c_str(),
                    json_str(r.text(i, 4)).c_str());
            else if (!o.quiet || sev == "error")
                std::printf("%s:%d: %s %s %s: %s\n", m.up_path.c_str(), line, sev.c_str(),
                            r.text(i, 2).c_str(), r.text(i, 3).c_str(), r.text(i, 4).c_str());
            findings++;
        }
    }
    if (o.json)
        std::printf("],\"errors\":%d}\n", errors);
    else if (!o.quiet)
        std::printf("%d finding%s, %d error%s\n", findings, findings == 1 ? "" : "s", errors,
                    errors == 1 ? "" : "s");
    return errors ? kRefused : kOk;
}

int cmd_new(const Options& o) {
    std::string layout = o.layout.empty() ? detect_layout(o.dir) : o.layout;
    std::vector<std::string> made;
    if (layout == "alembic") {
        made = new_alembic_revision(o.dir, o.args[0]);
    } else {
        Folder f = read_folder(o.dir, layout);
        std::time_t t = std::time(nullptr);
        char now[16];
        std::strftime(now, sizeof now, "%Y%m%d%H%M%S", std::gmtime(&t));
        made = new_migration(f, o.args[0], now);
    }
    if (o.json) {
        std::printf("{\"files\":[");
        for (size_t i = 0; i < made.size(); i++)
            std::printf("%s%s", i ? "," : "", json_str(made[i]).c_str());
        std::printf("]}\n");
    } else if (!o.quiet) {
        for (const auto& p : made) std::printf("created %s\n", p.c_str());
    }
    return kOk;
}

}  // namespace pgm
