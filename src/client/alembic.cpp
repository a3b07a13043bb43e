// pg_migrate: Alembic projects. Alembic's own offline mode writes the SQL of every revision,
// in the order of its down_revision chain: `alembic upgrade base:head --sql` and
// `alembic downgrade head:base --sql`, each revision's SQL after a `-- Running upgrade A -> B`
// line. Alembic's bookkeeping (the alembic_version table) and its BEGIN/COMMIT are left out:
// the extension keeps the books and the transaction.
#include "common/pure.hpp"

#include "client/alembic.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <regex>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace pgm {

namespace {

std::string shell_quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

std::string on_path(const std::string& program) {
    const char* path = std::getenv("PATH");
    std::string p = path ? path : "";
    size_t i = 0;
    while (i <= p.size()) {
        size_t j = p.find(':', i);
        if (j == std::string::npos) j = p.size();
        fs::path cand = fs::path(p.substr(i, j - i)) / program;
        std::error_code ec;
        if (j > i && fs::exists(cand, ec)) return cand.string();
        i = j + 1;
    }
    return "";
}

// How Alembic is run: $PG_MIGRATE_ALEMBIC, else `alembic` on PATH, else `python3 -m alembic`.
std::string alembic_command() {
    if (const char* c = std::getenv("PG_MIGRATE_ALEMBIC"); c && *c) return c;
    if (!on_path("alembic").empty()) return "alembic";
    return "python3 -m alembic";
}

// Runs `alembic ARGS` in the project directory; returns its standard output. InputError with
// Alembic's last message when it fails.
std::string run_alembic(const std::string& dir, const std::string& args) {
    // Alembic's messages go to a file of our own (mkstemp: no name another user could plant)
    std::string err = (fs::temp_directory_path() / "pg_migrate_alembic_XXXXXX").string();
    int fd = ::mkstemp(err.data());
    if (fd < 0) throw InputError("cannot create a temporary file for Alembic's messages");
    ::close(fd);
    const std::string alembic = alembic_command();
    std::string cmd =
        "cd " + shell_quote(dir) + " && " + alembic + " " + args + " 2>" + shell_quote(err);
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) throw InputError("cannot run Alembic (" + alembic + ")");
    std::string out;
    char buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    int status = ::pclose(p);
    std::string message;
    if (FILE* e = std::fopen(err.c_str(), "r")) {
        char line[4096];
        while (std::fgets(line, sizeof line, e))
            if (line[0] != '\n' && std::string(line).rfind("INFO ", 0) != 0) message = line;
        std::fclose(e);
    }
    std::remove(err.c_str());
    while (!message.empty() && (message.back() == '\n' || message.back() == '\r'))
        message.pop_back();
    if (status != 0)
        throw InputError(dir + ": alembic " + args + " failed" +
                         (WIFEXITED(status) && WEXITSTATUS(status) == 127
                              ? std::string(" (not found: set PG_MIGRATE_ALEMBIC, or install "
                                            "Alembic)")
                              : ": " + (message.empty() ? "no message" : message)));
    return out;
}

// The SQL of each revision in Alembic's output, keyed by revision, in chain order.
struct Section {
    std::string from, to, sql;
};
std::vector<Section> sections(const std::string& out, const char* direction) {
    // "-- Running upgrade A -> B"; a merge names several: "A, B -> C", "C -> A, B"
    std::regex marker(std::string(R"((^|\n)-- Running )") + direction +
                      R"( ([0-9A-Za-z_, ]*) -> ([0-9A-Za-z_, ]*)\n)");
    std::vector<Section> found;
    auto begin = std::sregex_iterator(out.begin(), out.end(), marker);
    std::vector<std::smatch> ms(begin, std::sregex_iterator());
    for (size_t i = 0; i < ms.size(); i++) {
        size_t start = ms[i].position(0) + ms[i].length(0);
        size_t end = i + 1 < ms.size() ? ms[i + 1].position(0) : out.size();
        found.push_back({ms[i][2], ms[i][3], out.substr(start, end - start)});
    }
    return found;
}

// Alembic's own statements out: its version table and the transaction around everything.
std::string without_bookkeeping(std::string sql) {
    static const std::regex own(
        R"((^|\n)((INSERT INTO|UPDATE|DELETE FROM) alembic_version\b[^\n]*;|DROP TABLE alembic_version;|CREATE TABLE alembic_version \([^;]*\);|BEGIN;|COMMIT;)\n)");
    sql = std::regex_replace(sql, own, "$1");
    size_t first = sql.find_first_not_of("\n");
    if (first == std::string::npos) return "";
    size_t last = sql.find_last_not_of("\n");
    return sql.substr(first, last - first + 1) + "\n";
}

// The revision files of the project (<revision>_<slug>.py, at most 3 levels down), by the
// part of their name before the first `_`: one walk for the whole chain.
std::map<std::string, fs::path> revision_files(const std::string& dir) {
    std::map<std::string, fs::path> files;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::string base = it->path().filename().string();
        if (it->is_directory(ec) && (it.depth() >= 2 || base.rfind('.', 0) == 0 ||
                                     base == "__pycache__" || base == "node_modules"))
            it.disable_recursion_pending();
        size_t us = base.find('_');
        if (it->is_regular_file(ec) && us != std::string::npos && base.size() > 3 &&
            base.compare(base.size() - 3, 3, ".py") == 0)
            files.emplace(base.substr(0, us), it->path());
    }
    return files;
}

// The last revision a marker side names ("A, B" of a merge).
std::string last_named(const std::string& side) {
    size_t comma = side.rfind(',');
    std::string r = comma == std::string::npos ? side : side.substr(comma + 1);
    size_t a = r.find_first_not_of(' '), b = r.find_last_not_of(' ');
    return a == std::string::npos ? "" : r.substr(a, b - a + 1);
}

}  // namespace

Folder read_alembic(const std::string& dir) {
    Folder f{dir, "alembic", {}, {}};
    std::vector<Section> ups = sections(run_alembic(dir, "upgrade base:head --sql"), "upgrade");
    std::map<std::string, std::string> downs;
    for (auto& s : sections(run_alembic(dir, "downgrade head:base --sql"), "downgrade"))
        downs[last_named(s.from)] = without_bookkeeping(s.sql);
    std::map<std::string, fs::path> files = revision_files(dir);
    int position = 0;
    for (const auto& s : ups) {
        Migration m;
        m.version = last_named(s.to);
        auto file = files.find(m.version);
        std::string path =
            file == files.end() ? (fs::path(dir) / "alembic.ini").string() : file->second.string();
        if (file != files.end()) m.name = file->second.stem().string().substr(m.version.size() + 1);
        m.up_path = path + " (alembic upgrade --sql)";
        m.up_sql = without_bookkeeping(s.sql);
        if (m.up_sql.empty()) {  // a revision without SQL (a merge point, a stamp)
            f.notes.push_back(path + ": revision " + m.version +
                              " has no SQL (a no-op revision): not registered");
            continue;
        }
        if (auto d = downs.find(m.version); d != downs.end()) {
            m.down_sql = d->second;
            m.down_path = path + " (alembic downgrade --sql)";
        }
        char key[16];
        std::snprintf(key, sizeof key, "%06d", ++position);
        m.order_key = key;  // the place in the chain
        f.migrations.push_back(std::move(m));
    }
    if (f.migrations.empty()) f.notes.push_back(dir + ": Alembic lists no revision");
    return f;
}

std::vector<std::string> new_alembic_revision(const std::string& dir, const std::string& name) {
    std::string out = run_alembic(dir, "revision -m " + shell_quote(name));
    std::smatch m;
    std::vector<std::string> made;
    if (std::regex_search(out, m, std::regex(R"(Generating (\S+\.py))"))) made.push_back(m[1]);
    return made;
}

}  // namespace pgm
