// pg_migrate adopt: take over a database that another tool migrated. The folder is registered
// as up registers it, then migrate.adopt() records as applied what the tool's own table says it
// applied; one transaction, and nothing runs. Every decision is the database's.
#include "client/cli.hpp"

#include <cstdio>
#include <filesystem>
#include <map>

namespace pgm {

namespace {

// The tools migrate.adopt() reads, and the layout of their folders ("": none that pg_migrate
// reads; their versions are recorded without scripts).
struct Source {
    const char* name;
    const char* layout;
};
constexpr Source kSources[] = {
    {"flyway", "flyway"},    {"dbmate", "dbmate"}, {"golang-migrate", "updown"},
    {"sqlx", "updown"},      {"diesel", "diesel"}, {"alembic", "alembic"},
    {"node-pg-migrate", ""}, {"sqitch", ""},       {"prisma", ""},
};

const Source* find_source(const std::string& name) {
    for (const auto& s : kSources)
        if (name == s.name) return &s;
    return nullptr;
}

// One row of migrate.adopt().
struct Adopted {
    std::optional<std::string> version;
    std::string name, result, applied_at, applied_by, detail;
    bool script = false;  // the migration has an up script (the folder's) after the adopt
};

// The folder whose scripts the adopted versions get: the tool's layout (or --layout). None
// for a tool whose files pg_migrate cannot read; an empty folder attaches nothing.
Folder adopt_folder(const Options& o, const Source& src) {
    Options lo = o;
    if (lo.layout.empty()) lo.layout = src.layout;
    if (lo.layout.empty()) {
        if (!o.quiet)
            std::fprintf(stderr,
                         "note: pg_migrate reads no %s folder: the versions are recorded without "
                         "scripts (--layout reads a folder converted to one of its layouts)\n",
                         src.name);
        return Folder{o.dir, "", {}, {}, {}};
    }
    std::error_code ec;
    if (!std::filesystem::is_directory(o.dir, ec))
        throw InputError(o.dir +
                         ": not a directory (adopt registers the folder's migrations to attach "
                         "their scripts; give --dir DIR)");
    Folder f = load_folder(lo);
    // Adopted without scripts, unknown versions take their natural place until a later up
    // registers their files, with the folder's order keys.
    if (f.migrations.empty() && !o.quiet)
        std::fprintf(stderr,
                     "note: %s holds no migration: the versions are recorded without scripts "
                     "(a later up of the folder attaches them)\n",
                     o.dir.c_str());
    return f;
}

void print_json(const Options& o, const std::vector<Adopted>& rows,
                const std::map<std::string, int>& reg, const std::map<std::string, int>& n,
                int pending) {
    std::printf(
        "{\"command\":\"adopt\",\"source\":%s,\"table\":%s,\"dry_run\":%s,\"registered\":%d,"
        "\"attached\":%d,\"adopted\":%d,\"already_applied\":%d,\"not_applied\":%d,"
        "\"without_script\":%d,\"pending\":%d,\"migrations\":[",
        json_str(o.args[0]).c_str(), json_opt(o.table).c_str(), o.dry_run ? "true" : "false",
        count_of(reg, "registered"), count_of(reg, "attached"), count_of(n, "adopted"),
        count_of(n, "already applied"), count_of(n, "not applied"), count_of(n, "without script"),
        pending);
    for (size_t i = 0; i < rows.size(); i++) {
        const Adopted& a = rows[i];
        std::printf(
            "%s{\"version\":%s,\"name\":%s,\"result\":%s,\"applied_at\":%s,\"applied_by\":%s,"
            "\"detail\":%s,\"script\":%s}",
            i ? "," : "", json_opt(a.version).c_str(), json_str(a.name).c_str(),
            json_str(a.result).c_str(), json_str(a.applied_at).c_str(),
            json_str(a.applied_by).c_str(), json_str(a.detail).c_str(),
            a.script ? "true" : "false");
    }
    std::printf("]}\n");
}

void print_text(const Options& o, const std::vector<Adopted>& rows,
                const std::map<std::string, int>& n, int pending) {
    for (const auto& a : rows)
        std::printf("%-20s %-15s %s%s%s\n", a.version.value_or("-").c_str(), a.result.c_str(),
                    a.name.c_str(), a.detail.empty() ? "" : "  -- ", a.detail.c_str());
    int adopted = count_of(n, "adopted");
    std::string s = std::string(o.dry_run ? "dry run: would adopt " : "adopted ") +
                    std::to_string(adopted) + " migration" + (adopted == 1 ? "" : "s") + " from " +
                    o.args[0];
    if (count_of(n, "already applied"))
        s += "; " + std::to_string(count_of(n, "already applied")) + " already applied";
    s += "; " + std::to_string(count_of(n, "not applied")) + " not applied";
    if (count_of(n, "without script"))
        s += "; " + std::to_string(count_of(n, "without script")) + " without a script";
    if (pending)
        s += "; " + std::to_string(pending) + " of the folder pending (up applies " +
             (pending == 1 ? "it" : "them") + ")";
    s += "; nothing ran";
    if (o.dry_run) s += "; rolled back, nothing changed";
    std::printf("%s\n", s.c_str());
}

}  // namespace

bool adopt_source_known(const std::string& name) {
    return find_source(name) != nullptr;
}

std::string adopt_sources() {
    std::string s;
    for (const auto& src : kSources) s += (s.empty() ? "" : ", ") + std::string(src.name);
    return s;
}

int cmd_adopt(const Options& o) {
    const Source& src = *find_source(o.args[0]);
    Folder f = adopt_folder(o, src);
    Db db(o.conninfo, o.quiet);
    check_extension(db, {"adopt"});
    std::map<std::string, int> reg, n;
    std::vector<Adopted> rows;
    int pending = 0;
    try {
        db.exec("BEGIN");
        reg = register_all(db, o, f);
        Rows r = db.query(
            "SELECT version, coalesce(name, ''), result, coalesce(applied_at::text, ''), "
            "coalesce(applied_by, ''), coalesce(detail, '') FROM migrate.adopt($1, $2)",
            {o.args[0], o.table});
        // which versions have an up script now (the folder's, registered before the adopt)
        std::map<std::string, const DbRow*> by_version;
        std::vector<DbRow> status = db_status(db);
        for (const auto& s : status) by_version[s.version] = &s;
        for (int i = 0; i < r.size(); i++) {
            Adopted a{r.get(i, 0),  r.text(i, 1), r.text(i, 2),
                      r.text(i, 3), r.text(i, 4), r.text(i, 5)};
            auto it = a.version ? by_version.find(*a.version) : by_version.end();
            a.script = it != by_version.end() && !it->second->checksum.empty();
            // (a tool without names, dbmate: the folder's, as registered)
            if (a.name.empty() && it != by_version.end()) a.name = it->second->name;
            n[a.result]++;
            if (a.result != "not applied" && !a.script) n["without script"]++;
            rows.push_back(std::move(a));
        }
        for (const auto& m : f.migrations) {
            auto it = by_version.find(m.version);
            pending += it != by_version.end() && it->second->state == "pending";
        }
        db.exec(o.dry_run ? "ROLLBACK" : "COMMIT");
    } catch (const DbError& e) {
        report_error(o, e, f, "nothing was adopted or registered (one transaction)");
        return kRefused;
    }
    if (o.json)
        print_json(o, rows, reg, n, pending);
    else if (!o.quiet)
        print_text(o, rows, n, pending);
    return kOk;
}

}  // namespace pgm
