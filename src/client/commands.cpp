// pg_migrate: the commands. Each reads the folder, connects, and asks the extension.
#include "client/alembic.hpp"
#include "client/cli.hpp"

#include <array>
#include <cstdio>
#include <ctime>
#include <map>
#include <regex>

#include "migrate/version.hpp"

namespace pgm {

namespace {

// The oldest extension version pg_migrate works with (order keys, steps after commit).
constexpr const char* kNeedVersion = "0.4.0";

}  // namespace

// The database's state of each version (migrate.status()), in the database's order.
std::vector<DbRow> db_status(Db& db, std::vector<DbRow>* repeatables) {
    Rows r = db.query(
        "SELECT version, coalesce(name, ''), state, checksum, coalesce(step, ''), "
        "coalesce(phase, ''), coalesce(error, ''), statements, duration_ms FROM migrate.status()");
    std::vector<DbRow> out;
    for (int i = 0; i < r.size(); i++) {
        DbRow row{r.text(i, 0), r.text(i, 1), r.text(i, 2), r.text(i, 3), r.text(i, 4),
                  r.text(i, 5), r.text(i, 6), r.text(i, 7), r.text(i, 8)};
        if (r.get(i, 0))
            out.push_back(std::move(row));
        else if (repeatables)
            repeatables->push_back(std::move(row));
    }
    return out;
}

std::string adopted_without_script(const DbRow& r) {
    return r.checksum.empty() && r.phase.rfind("adopted from ", 0) == 0 ? r.phase : "";
}

std::vector<RepeatableState> repeatable_states(Db& db, const Folder& f,
                                               const std::vector<DbRow>& db_repeatables) {
    std::map<std::string, RepeatableState> by_name;
    std::map<std::string, std::string> file_sum;
    if (!f.repeatables.empty()) {
        std::vector<Param> sqls;
        for (const auto& r : f.repeatables) sqls.push_back(r.sql);
        // the database's checksum of each file, against the one of the script it registered
        Rows sums = db.call_each("migrate.checksum", {sqls});
        for (size_t i = 0; i < f.repeatables.size(); i++) {
            const Repeatable& r = f.repeatables[i];
            file_sum[r.name] = sums.text(static_cast<int>(i), 0);
            by_name[r.name] = {r.name, "not registered", "runs on next up", &r, true};
        }
    }
    for (const auto& row : db_repeatables) {
        RepeatableState& s = by_name[row.name];
        s.name = row.name;
        s.state = row.state;
        if (!s.file) {
            s.note = "no file in the folder";
        } else if (row.state == "pending") {
            s.note = row.phase.find(": new") != std::string::npos ? "new, runs on next up"
                                                                  : "changed, runs on next up";
        } else if (file_sum[row.name] != row.checksum) {
            // status() gives the checksum of the script, not of its tokens: up re-registers the
            // file, and the database runs it again unless only white space or comments changed
            s.note =
                "the file changed since it ran: runs again on next up (not when only "
                "white space or comments changed)";
        } else {
            s.note = "";
            s.runs_on_up = false;
        }
    }
    std::vector<RepeatableState> out;
    for (auto& [n, s] : by_name) out.push_back(std::move(s));
    return out;
}

bool in_schema(const std::string& state) {
    return state == "applied" || state == "applying" || state == "queued" ||
           state == "rolling back" || state == "failed";
}

int count_of(const std::map<std::string, int>& counts, const std::string& key) {
    auto it = counts.find(key);
    return it == counts.end() ? 0 : it->second;
}

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

namespace {

const Migration* by_version(const Folder& f, const std::string& v) {
    for (const auto& m : f.migrations)
        if (m.version == v) return &m;
    return nullptr;
}

const Repeatable* by_name(const Folder& f, const std::string& name) {
    for (const auto& r : f.repeatables)
        if (r.name == name) return &r;
    return nullptr;
}

}  // namespace

std::string describe_error(const DbError& e, const Folder& f) {
    std::string where;
    std::smatch m;
    // The context "migration V (name) up script, [statement S, ]line L": the file and its line;
    // a repeatable's is "migration [repeatable ]NAME up script, ...".
    static const std::regex ctx(
        R"(migration (repeatable )?(\S+)(?: \([^)]*\))? (up|down) script, (?:statement \d+, )?)"
        R"(line (\d+))");
    // "Older than V: a, b.": the first migration out of order.
    static const std::regex older(R"(^Older than \S+: ([^,. ]+))");
    // A message about one migration: "migration V ..." (V followed by a space or the end).
    static const std::regex about(R"(^migration (\S+?)(?: |$))");
    const Migration* hit = nullptr;
    const std::string message = e.what();
    bool in_context = std::regex_search(e.context, m, ctx);
    if (in_context && !m[1].matched && (hit = by_version(f, m[2]))) {
        bool up = m[3] == "up";
        int line = std::stoi(m[4]) + (up ? hit->up_line : hit->down_line) - 1;
        where = (up ? hit->up_path : hit->down_path) + ":" + std::to_string(line) + ": ";
    } else if (const Repeatable* r = in_context ? by_name(f, m[2]) : nullptr) {
        where = r->path + ":" + m[4].str() + ": ";
    } else if ((std::regex_search(e.detail, m, older) || std::regex_search(message, m, about)) &&
               (hit = by_version(f, m[1]))) {
        where = hit->up_path + ": ";
    }
    std::string s = where + "ERROR " + e.sqlstate + ": " + e.what();
    if (!e.detail.empty()) s += "\n  DETAIL: " + e.detail;
    if (!e.hint.empty()) s += "\n  HINT: " + e.hint;
    return s;
}

void report_error(const Options& o, const DbError& e, const Folder& f, const std::string& then) {
    const std::string described = describe_error(e, f);
    std::fprintf(stderr, "pg_migrate: %s\n", described.c_str());
    if (!then.empty()) std::fprintf(stderr, "pg_migrate: %s\n", then.c_str());
    if (o.json)
        std::printf(
            "{\"command\":%s,\"error\":{\"sqlstate\":%s,\"message\":%s,\"detail\":%s,"
            "\"hint\":%s,\"where\":%s,\"outcome\":%s}}\n",
            json_str(o.command).c_str(), json_str(e.sqlstate).c_str(), json_str(e.what()).c_str(),
            json_str(e.detail).c_str(), json_str(e.hint).c_str(), json_str(described).c_str(),
            json_str(then).c_str());
}

void check_extension(Db& db, const std::vector<std::string>& needs) {
    std::vector<Param> names(needs.begin(), needs.end());
    // the functions of `needs` that the schema migrate does not have
    Rows r = db.query(
        "SELECT e.extversion, pg_catalog.array_to_string(ARRAY("
        "SELECT n FROM pg_catalog.unnest($1::text[]) AS n WHERE NOT EXISTS ("
        "SELECT FROM pg_catalog.pg_proc AS p JOIN pg_catalog.pg_namespace AS s "
        "ON s.oid = p.pronamespace WHERE s.nspname = 'migrate' AND p.proname = n)), "
        "', migrate.') "
        "FROM pg_catalog.pg_extension AS e WHERE e.extname = 'migrations_schema'",
        {text_array(names)});
    if (r.size() == 0)
        throw ConnectionError(db.describe() +
                              " has no migrations_schema extension (CREATE "
                              "EXTENSION migrations_schema, as a superuser)");
    std::string v = r.text(0, 0);
    if (ms::version::compare(v, kNeedVersion) < 0)  // the server's natural order of versions
        throw ConnectionError(db.describe() + " has migrations_schema " + v +
                              "; pg_migrate needs " + kNeedVersion +
                              " or later (ALTER EXTENSION migrations_schema UPDATE)");
    if (!r.text(0, 1).empty())
        throw ConnectionError(db.describe() + " has migrations_schema " + v + ", without migrate." +
                              r.text(0, 1) +
                              ": pg_migrate needs a later version (ALTER EXTENSION "
                              "migrations_schema UPDATE)");
}

Folder load_folder(const Options& o) {
    Folder f = read_folder(o.dir, o.layout);
    if (f.layout == "alembic") f = read_alembic(o.dir);
    if (!o.quiet)
        for (const auto& n : f.notes) std::fprintf(stderr, "note: %s\n", n.c_str());
    return f;
}

int cmd_status(const Options& o) {
    Folder f = load_folder(o);
    Db db(o.conninfo, o.quiet);
    check_extension(db, {"compare_script"});
    std::vector<DbRow> db_reps;
    std::vector<DbRow> rows = db_status(db, &db_reps);
    std::vector<Param> versions, ups;
    for (const auto& m : f.migrations) versions.push_back(m.version), ups.push_back(m.up_sql);
    // each file against the up script the database holds: same, cosmetic, edited, or NULL
    // (not known, or adopted without a script)
    Rows cmp = db.call_each("migrate.compare_script", {versions, ups});
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
            std::string compared = in_schema(r.state) ? cmp.text(static_cast<int>(i), 0) : "";
            std::string adopted = adopted_without_script(r);
            l.state = r.state;
            if (compared == "edited")
                l.note = "edited since it was applied", l.problem = true;
            else if (r.state == "failed")
                l.note = r.step + ": " + r.error, l.problem = true;
            else if (!adopted.empty())
                l.note = adopted.substr(0, adopted.find(';')) +
                         "; this file is attached as its script on next up or adopt";
            else if (compared == "cosmetic")
                l.note = "reformatted (same statements)";
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
            // one another tool applied, recorded without a script, is history, not a problem
            std::string adopted = adopted_without_script(r);
            bool problem = in_schema(r.state) && adopted.empty();
            lines.push_back({r.version, r.name, r.state,
                             adopted.empty() ? "file missing" : adopted + " (no file)", "",
                             problem});
            problems += problem;
        }
    std::vector<RepeatableState> reps = repeatable_states(db, f, db_reps);
    int to_run = 0;
    for (const auto& r : reps) to_run += r.runs_on_up;
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
        std::printf("],\"repeatables\":[");
        for (size_t i = 0; i < reps.size(); i++)
            std::printf("%s{\"name\":%s,\"state\":%s,\"note\":%s,\"file\":%s,\"runs_on_up\":%s}",
                        i ? "," : "", json_str(reps[i].name).c_str(),
                        json_str(reps[i].state).c_str(), json_str(reps[i].note).c_str(),
                        json_str(reps[i].file ? reps[i].file->path : "").c_str(),
                        reps[i].runs_on_up ? "true" : "false");
        std::printf("]}\n");
    } else if (!o.quiet) {
        std::map<std::string, int> counts;
        for (const auto& l : lines) {
            counts[l.state]++;
            std::printf("%-20s %-13s %s%s%s\n", l.version.c_str(), l.state.c_str(), l.name.c_str(),
                        l.note.empty() ? "" : "  -- ", l.note.c_str());
        }
        for (const auto& r : reps)
            std::printf("repeatable %s: %s%s%s\n", r.name.c_str(), r.state.c_str(),
                        r.note.empty() ? "" : "  -- ", r.note.c_str());
        std::string summary;
        for (const auto& [s, c] : counts)
            summary += (summary.empty() ? "" : ", ") + std::to_string(c) + " " + s;
        if (!reps.empty())
            summary += (summary.empty() ? "" : ", ") + std::to_string(reps.size()) + " repeatable" +
                       (reps.size() == 1 ? "" : "s") + " (" + std::to_string(to_run) +
                       " to run on next up)";
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
    std::vector<DbRow> db_reps;
    for (const auto& r : db_status(db, &db_reps)) state[r.version] = r.state;
    // the pending migrations, then the repeatable ones that the next up runs
    struct Script {
        const std::string &path, &version, &sql;
        int first_line;
    };
    std::vector<Script> scripts;
    for (const auto& m : f.migrations)
        if (!in_schema(state[m.version]))
            scripts.push_back({m.up_path, m.version, m.up_sql, m.up_line});
    static const std::string kNoVersion;
    std::vector<RepeatableState> reps;
    if (!f.repeatables.empty()) reps = repeatable_states(db, f, db_reps);
    for (const auto& r : reps)
        if (r.runs_on_up) scripts.push_back({r.file->path, kNoVersion, r.file->sql, 1});
    int errors = 0, findings = 0;
    if (o.json) std::printf("{\"findings\":[");
    for (const auto& m : scripts) {
        std::vector<std::array<std::string, 5>> found;  // line, severity, id, rule, message
        try {
            Rows r = db.query("SELECT line, severity, rule_id, rule, message FROM migrate.lint($1)",
                              {m.sql});
            for (int i = 0; i < r.size(); i++)
                found.push_back(
                    {r.text(i, 0), r.text(i, 1), r.text(i, 2), r.text(i, 3), r.text(i, 4)});
        } catch (const DbError& e) {
            // a script the database cannot lint (a syntax error, no statement): an error there
            std::smatch lm;
            std::string ln =
                std::regex_search(e.context, lm, std::regex(R"(line (\d+))")) ? lm[1].str() : "1";
            found.push_back({ln, "error", e.sqlstate, "unusable-script", e.what()});
        }
        for (const auto& x : found) {
            int line = std::atoi(x[0].c_str()) + m.first_line - 1;
            const std::string& sev = x[1];
            errors += sev == "error";
            if (o.json)
                std::printf(
                    "%s{\"file\":%s,\"line\":%d,\"version\":%s,\"severity\":%s,"
                    "\"rule_id\":%s,\"rule\":%s,\"message\":%s}",
                    findings ? "," : "", json_str(m.path).c_str(), line,
                    m.version.empty() ? "null" : json_str(m.version).c_str(), json_str(sev).c_str(),
                    json_str(x[2]).c_str(), json_str(x[3]).c_str(), json_str(x[4]).c_str());
            else if (!o.quiet || sev == "error")
                std::printf("%s:%d: %s %s %s: %s\n", m.path.c_str(), line, sev.c_str(),
                            x[2].c_str(), x[3].c_str(), x[4].c_str());
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
    Folder f = read_folder(o.dir, o.layout);
    std::vector<std::string> made;
    if (f.layout == "alembic") {
        made = new_alembic_revision(o.dir, o.args[0]);
    } else {
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
