// pg_migrate: the layouts of a migration folder. See folder.hpp.
#include "common/pure.hpp"

#include "client/folder.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "migrate/version.hpp"

namespace fs = std::filesystem;

namespace pgm {

namespace {

const char* layout_list() {
    return "plain, timestamp, updown (sqlx, golang-migrate), diesel, dbmate, flyway, alembic";
}

bool starts_with(const std::string& s, const std::string& p) {
    return s.compare(0, p.size(), p) == 0;
}
bool ends_with(const std::string& s, const std::string& p) {
    return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}

// Where a UTF-8 sequence is broken (byte offset), or npos.
size_t bad_utf8(const std::string& s) {
    size_t i = 0;
    while (i < s.size()) {
        unsigned char c = s[i];
        size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (n == 0 || i + n > s.size()) return i;
        for (size_t k = 1; k < n; k++)
            if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return i;
        if (n == 2 && c < 0xC2) return i;  // overlong
        if (n == 3) {
            unsigned char d = s[i + 1];
            if ((c == 0xE0 && d < 0xA0) || (c == 0xED && d >= 0xA0)) return i;  // overlong, UTF-16
        }
        if (n == 4) {
            unsigned char d = s[i + 1];
            if ((c == 0xF0 && d < 0x90) || (c == 0xF4 && d >= 0x90) || c > 0xF4) return i;
        }
        i += n;
    }
    return std::string::npos;
}

std::vector<fs::directory_entry> entries(const std::string& dir) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) throw InputError(dir + ": not a directory");
    std::vector<fs::directory_entry> out;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        out.push_back(*it);
    if (ec) throw InputError(dir + ": " + ec.message());
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
        return a.path().filename() < b.path().filename();
    });
    return out;
}

std::string path_in(const std::string& dir, const std::string& file) {
    return (fs::path(dir) / file).string();
}

// Leading zeros removed ("0" stays).
std::string strip_zeros(const std::string& digits) {
    size_t i = digits.find_first_not_of('0');
    return i == std::string::npos ? "0" : digits.substr(i);
}

// The place of a migration in the order: the server's own (migrate/version.hpp), so that the
// folder lists in the order the database applies it.
std::string place_of(const Migration& m) {
    return ms::version::place(m.version, m.order_key);
}

// Adds m to the list keyed by its place, refusing a second file for one version (or for
// versions that take one place: 01 and 1).
void add_unique(std::map<std::string, Migration>& by_key, Migration m) {
    std::string key = place_of(m);
    auto it = by_key.find(key);
    if (it != by_key.end())
        throw InputError(m.up_path + ": version " + m.version + " is also the version of " +
                         it->second.up_path);
    by_key.emplace(key, std::move(m));
}

void attach_down(std::map<std::string, Migration>& by_key, const std::string& path,
                 const std::string& version, const std::optional<std::string>& order_key = {}) {
    auto it = by_key.find(ms::version::place(version, order_key));
    if (it == by_key.end()) throw InputError(path + ": a down script without its up script");
    if (!it->second.down_path.empty())
        throw InputError(path + ": version " + version + " already has the down script " +
                         it->second.down_path);
    it->second.down_path = path;
    it->second.down_sql = read_file(path);
}

std::vector<Migration> values(std::map<std::string, Migration>& by_key) {
    std::vector<Migration> out;
    for (auto& [k, m] : by_key) out.push_back(std::move(m));
    return out;
}

// ---- the layouts ----

// plain (Supabase): VERSION_name.sql, no down scripts; timestamp: the same with a
// VERSION_name_down.sql or VERSION_name.down.sql partner. Natural order (005 < 005a < 006).
Folder read_plain(const std::string& dir, bool with_down) {
    static const std::regex file(R"(^([0-9][0-9A-Za-z.]*)(_(.*))?\.sql$)");
    std::map<std::string, Migration> ups;
    std::vector<std::pair<std::string, std::string>> downs;  // stem, path
    Folder f{dir, with_down ? "timestamp" : "plain", {}, {}};
    for (const auto& e : entries(dir)) {
        std::string base = e.path().filename().string();
        if (!e.is_regular_file() || !ends_with(base, ".sql")) continue;
        std::smatch m;
        if (!std::regex_match(base, m, file))
            throw InputError(e.path().string() + ": no version at the start of the file name (" +
                             f.layout + " layout: VERSION_name.sql)");
        std::string stem = base.substr(0, base.size() - 4);
        if (with_down && (ends_with(stem, "_down") || ends_with(stem, ".down"))) {
            downs.emplace_back(stem.substr(0, stem.size() - 5), e.path().string());
            continue;
        }
        if (!with_down && ends_with(stem, ".down"))
            throw InputError(e.path().string() +
                             ": a down script in the plain layout (use "
                             "--layout timestamp)");
        Migration mig;
        mig.version = m[1];
        mig.name = m[3];
        mig.up_path = e.path().string();
        mig.up_sql = read_file(mig.up_path);
        ups.emplace(stem, std::move(mig));
    }
    std::map<std::string, Migration> by_place;
    for (auto& [stem, mig] : ups) add_unique(by_place, std::move(mig));
    for (const auto& [stem, path] : downs) {
        if (ups.find(stem) == ups.end())
            throw InputError(path + ": a down script without its up script (" + stem + ".sql)");
        attach_down(by_place, path, stem.substr(0, stem.find('_')));
    }
    f.migrations = values(by_place);  // natural order
    return f;
}

// sqlx and golang-migrate: VERSION_name.up.sql and VERSION_name.down.sql. Their versions are
// numbers, in numeric order: the natural order. Any version that starts with a digit (002a) is
// taken too, in natural order.
Folder read_updown(const std::string& dir) {
    static const std::regex file(R"(^([0-9][0-9A-Za-z.]*)_(.*)\.(up|down)\.sql$)");
    std::map<std::string, Migration> by_key;
    Folder f{dir, "updown", {}, {}};
    std::vector<std::pair<std::string, std::string>> down_files;
    for (const auto& e : entries(dir)) {
        std::string base = e.path().filename().string();
        if (!e.is_regular_file() || !ends_with(base, ".sql")) continue;
        std::smatch m;
        if (!std::regex_match(base, m, file))
            throw InputError(e.path().string() +
                             ": not VERSION_name.up.sql or VERSION_name.down.sql (updown layout)");
        if (m[3] == "down") {
            down_files.emplace_back(e.path().string(), m[1]);
            continue;
        }
        Migration mig;
        mig.version = m[1];
        mig.name = m[2];
        mig.up_path = e.path().string();
        mig.up_sql = read_file(mig.up_path);
        add_unique(by_key, std::move(mig));
    }
    for (const auto& [path, version] : down_files) attach_down(by_key, path, version);
    f.migrations = values(by_key);  // numeric order: the natural order of numbers
    return f;
}

// diesel: VERSION_name/up.sql, down.sql, metadata.toml. The version is the directory's up to
// the first `_`, dashes removed; diesel orders versions as strings: the order key.
Folder read_diesel(const std::string& dir) {
    std::map<std::string, Migration> by_version;
    Folder f{dir, "diesel", {}, {}};
    for (const auto& e : entries(dir)) {
        std::string base = e.path().filename().string();
        if (!e.is_directory()) continue;
        std::string up = path_in(e.path().string(), "up.sql");
        if (!fs::exists(up)) {
            if (fs::exists(path_in(e.path().string(), "down.sql")))
                throw InputError(path_in(e.path().string(), "down.sql") +
                                 ": a down script without its up script");
            continue;
        }
        size_t us = base.find('_');
        std::string raw = base.substr(0, us);
        std::string version;
        for (char c : raw)
            if (c != '-') version += c;
        if (version.empty() || version.find_first_not_of("0123456789") != std::string::npos)
            throw InputError(e.path().string() +
                             ": no version at the start of the directory "
                             "name (diesel layout: VERSION_name/up.sql)");
        Migration mig;
        mig.version = version;
        mig.name = us == std::string::npos ? "" : base.substr(us + 1);
        mig.up_path = up;
        mig.up_sql = read_file(up);
        mig.order_key = version;
        std::string down = path_in(e.path().string(), "down.sql");
        if (fs::exists(down)) {
            mig.down_path = down;
            mig.down_sql = read_file(down);
        }
        add_unique(by_version, std::move(mig));
    }
    f.migrations = values(by_version);  // by order key: string order, diesel's
    return f;
}

// dbmate: VERSION_name.sql with `-- migrate:up` and `-- migrate:down` sections. The version
// is the leading digits; dbmate orders by file name (the order key) and, like dbmate, a .sql
// file that does not start with a digit is not a migration.
Folder read_dbmate(const std::string& dir) {
    static const std::regex file(R"(^([0-9]+)_?(.*)\.sql$)");
    static const std::regex marker(R"(^--\s*migrate:(up|down)\b.*$)");
    std::map<std::string, Migration> by_version;
    Folder f{dir, "dbmate", {}, {}};
    for (const auto& e : entries(dir)) {
        std::string base = e.path().filename().string();
        if (!e.is_regular_file() || !ends_with(base, ".sql")) continue;
        std::smatch m;
        if (!std::regex_match(base, m, file)) {
            f.notes.push_back(e.path().string() +
                              ": not a migration (no version at the start of "
                              "its name), as for dbmate");
            continue;
        }
        std::string path = e.path().string(), text = read_file(path);
        // The marker lines; a section is what follows its marker line.
        size_t up_at = std::string::npos, down_at = std::string::npos;
        int line = 1, up_line = 0, down_line = 0;
        for (size_t i = 0; i < text.size();) {
            size_t eol = text.find('\n', i);
            size_t end = eol == std::string::npos ? text.size() : eol + 1;
            std::string l = text.substr(i, end - i);
            while (!l.empty() && (l.back() == '\n' || l.back() == '\r')) l.pop_back();  // CRLF
            std::smatch mk;
            bool is_marker = starts_with(l, "--") && std::regex_match(l, mk, marker);
            if (is_marker && mk[1] == "up") {
                if (up_at != std::string::npos)
                    throw InputError(path + ":" + std::to_string(line) +
                                     ": a second -- migrate:up");
                up_at = end;
                up_line = line + 1;
            } else if (is_marker) {
                if (down_at != std::string::npos)
                    throw InputError(path + ":" + std::to_string(line) +
                                     ": a second -- migrate:down");
                down_at = i;
                down_line = line + 1;
            }
            i = end;
            line++;
        }
        if (up_at == std::string::npos)
            throw InputError(path + ": no -- migrate:up section (dbmate layout)");
        if (down_at != std::string::npos && down_at < up_at)
            throw InputError(path + ": the -- migrate:down section comes before -- migrate:up");
        Migration mig;
        mig.version = m[1];
        mig.name = m[2];
        mig.up_path = path;
        mig.up_line = up_line;
        mig.up_sql =
            text.substr(up_at, down_at == std::string::npos ? std::string::npos : down_at - up_at);
        if (down_at != std::string::npos) {
            size_t body = text.find('\n', down_at);
            mig.down_path = path;
            mig.down_sql = body == std::string::npos ? "" : text.substr(body + 1);
            mig.down_line = down_line;
        }
        mig.order_key = base;
        // dbmate orders by file name, but a version is one migration: two files, one version
        for (const auto& [k, other] : by_version)
            if (other.version == mig.version)
                throw InputError(path + ": version " + mig.version + " is also the version of " +
                                 other.up_path);
        add_unique(by_version, std::move(mig));
    }
    f.migrations = values(by_version);  // by order key: string order, dbmate's
    return f;
}

// Flyway's version: parts separated by `.` or `_`, compared as numbers, trailing zero parts
// ignored (1.0 is 1). The canonical form joins the parts with dots; its natural order is
// Flyway's.
std::string flyway_version(const std::string& raw, const std::string& path) {
    std::vector<std::string> parts;
    std::string cur;
    for (char c : raw + ".") {
        if (c == '.' || c == '_') {
            if (cur.empty()) throw InputError(path + ": an empty part in version " + raw);
            parts.push_back(strip_zeros(cur));
            cur.clear();
        } else if (c >= '0' && c <= '9') {
            cur += c;
        } else {
            throw InputError(path + ": version " + raw + " is not numbers separated by dots");
        }
    }
    while (parts.size() > 1 && parts.back() == "0") parts.pop_back();
    std::string v;
    for (const auto& p : parts) v += (v.empty() ? "" : ".") + p;
    return v;
}

// Flyway: V<version>__name.sql, undo U<version>__name.sql, repeatable R__name.sql.
Folder read_flyway(const std::string& dir) {
    static const std::regex file(R"(^([VUR])([0-9._]*)__(.+)\.sql$)");
    std::map<std::string, Migration> by_version;
    std::vector<std::tuple<std::string, std::string>> undos;
    Folder f{dir, "flyway", {}, {}};
    for (const auto& e : entries(dir)) {
        std::string base = e.path().filename().string();
        if (!e.is_regular_file() || !ends_with(base, ".sql")) continue;
        std::smatch m;
        std::string path = e.path().string();
        if (!std::regex_match(base, m, file))
            throw InputError(path +
                             ": not V<version>__name.sql, U<version>__name.sql or "
                             "R__name.sql (flyway layout)");
        if (m[1] == "R") {
            if (!m[2].str().empty())
                throw InputError(path + ": a repeatable migration has no version (R__name.sql)");
            f.repeatables.push_back({m[3], path, read_file(path)});  // entries(): by file name
            continue;
        }
        if (m[2].str().empty()) throw InputError(path + ": no version after " + m[1].str());
        std::string version = flyway_version(m[2], path);
        if (m[1] == "U") {
            undos.emplace_back(version, path);
            continue;
        }
        Migration mig;
        mig.version = version;
        mig.name = m[3];
        mig.up_path = path;
        mig.up_sql = read_file(path);
        add_unique(by_version, std::move(mig));
    }
    for (const auto& [version, path] : undos) attach_down(by_version, path, version);
    f.migrations = values(by_version);  // natural order of the canonical versions: Flyway's
    return f;
}

}  // namespace

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError(path + ": cannot be read");
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) throw InputError(path + ": cannot be read");
    std::string text = ss.str();
    size_t bad = bad_utf8(text);
    if (bad != std::string::npos) {
        int line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + bad, '\n'));
        throw InputError(path + ":" + std::to_string(line) + ": not valid UTF-8 (byte " +
                         std::to_string(bad + 1) + ")");
    }
    size_t nul = text.find('\0');
    if (nul != std::string::npos) throw InputError(path + ": holds a NUL byte");
    return text;
}

std::string layout_name(const std::string& given) {
    if (given == "sqlx" || given == "golang-migrate" || given == "updown") return "updown";
    if (given == "supabase" || given == "plain") return "plain";
    for (const char* l : {"timestamp", "diesel", "dbmate", "flyway", "alembic"})
        if (given == l) return l;
    throw InputError(std::string("unknown layout ") + given + " (known: " + layout_list() + ")");
}

namespace {

// The layout of `dir`, from its files (in the order docs/pg_migrate.md gives).
std::string detect_layout(const std::string& dir) {
    if (fs::exists(path_in(dir, "alembic.ini"))) return "alembic";
    const std::vector<fs::directory_entry> all = entries(dir);  // listed once, for every test
    auto any_file = [&](const auto& p) { return std::any_of(all.begin(), all.end(), p); };
    auto base = [](const fs::directory_entry& e) { return e.path().filename().string(); };
    if (any_file([](const auto& e) { return e.is_directory() && fs::exists(e.path() / "up.sql"); }))
        return "diesel";
    static const std::regex flyway(R"(^(V[0-9._]+|R)__.+\.sql$)");
    if (any_file([&](const auto& e) { return std::regex_match(base(e), flyway); })) return "flyway";
    if (any_file([&](const auto& e) { return ends_with(base(e), ".up.sql"); })) return "updown";
    if (any_file([&](const auto& e) {
            if (!e.is_regular_file() || !ends_with(base(e), ".sql")) return false;
            std::string text = read_file(e.path().string());
            static const std::regex up(R"((^|\n)--\s*migrate:up)");
            return std::regex_search(text, up);
        }))
        return "dbmate";
    if (any_file([&](const auto& e) {
            std::string b = base(e);
            return ends_with(b, "_down.sql") || ends_with(b, ".down.sql");
        }))
        return "timestamp";
    if (any_file([&](const auto& e) { return ends_with(base(e), ".sql"); })) return "plain";
    throw InputError(dir + ": no migration files found to tell its layout; give --layout (" +
                     layout_list() + ")");
}

}  // namespace

Folder read_folder(const std::string& dir, const std::string& layout) {
    std::string l = layout.empty() ? detect_layout(dir) : layout_name(layout);
    if (l == "plain") return read_plain(dir, false);
    if (l == "timestamp") return read_plain(dir, true);
    if (l == "updown") return read_updown(dir);
    if (l == "diesel") return read_diesel(dir);
    if (l == "dbmate") return read_dbmate(dir);
    if (l == "flyway") return read_flyway(dir);
    return Folder{dir, "alembic", {}, {}, {}};  // alembic.cpp reads it
}

}  // namespace pgm
