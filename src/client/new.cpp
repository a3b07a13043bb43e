// pg_migrate new NAME: the files of the next migration, in the folder's own convention.
#include "common/pure.hpp"

#include <filesystem>
#include <fstream>
#include <regex>

#include "client/folder.hpp"

namespace fs = std::filesystem;

namespace pgm {

namespace {

// The next number after the highest version, as wide as it (006 after 005a).
std::string next_number(const Folder& f, size_t min_width) {
    unsigned long long high = 0;
    size_t width = min_width;
    for (const auto& m : f.migrations) {
        size_t digits = m.version.find_first_not_of("0123456789");
        std::string lead = m.version.substr(0, digits);
        if (lead.empty() || lead.size() > 18) continue;
        high = std::max(high, std::stoull(lead));
        width = std::max(width, lead.size());
    }
    std::string n = std::to_string(high + 1);
    if (n.size() < width) n.insert(0, width - n.size(), '0');
    return n;
}

// Whether the folder numbers its migrations with timestamps (14 digits or more).
bool timestamps(const Folder& f) {
    for (const auto& m : f.migrations)
        if (m.version.size() >= 14 &&
            m.version.find_first_not_of("0123456789") == std::string::npos)
            return true;
    return f.migrations.empty();  // sqlx's and golang-migrate's default
}

void write_new(const std::string& path, const std::string& text, std::vector<std::string>& made) {
    if (fs::exists(path)) throw InputError(path + ": already exists");
    std::ofstream out(path, std::ios::binary);
    out << text;
    if (!out) throw InputError(path + ": cannot be written");
    made.push_back(path);
}

}  // namespace

std::vector<std::string> new_migration(const Folder& f, const std::string& name,
                                       const std::string& now) {
    static const std::regex ok(R"(^[A-Za-z0-9][A-Za-z0-9_-]*$)");
    if (!std::regex_match(name, ok))
        throw InputError("migration name " + name + ": use letters, digits, _ and - only");
    std::vector<std::string> made;
    auto at = [&](const std::string& file) { return (fs::path(f.dir) / file).string(); };
    const std::string header = "-- " + name + "\n";
    if (f.layout == "plain") {
        // timestamps (Supabase) when the folder has them, else the next number
        std::string v = !f.migrations.empty() && timestamps(f)
                            ? now
                            : next_number(f, f.migrations.empty() ? 3 : 1);
        write_new(at(v + "_" + name + ".sql"), header, made);
    } else if (f.layout == "timestamp") {
        // the partner's spelling the folder already uses
        bool dot = false;
        for (const auto& m : f.migrations)
            if (m.down_path.size() > 9 &&
                m.down_path.compare(m.down_path.size() - 9, 9, ".down.sql") == 0)
                dot = true;
        write_new(at(now + "_" + name + ".sql"), header, made);
        write_new(at(now + "_" + name + (dot ? ".down.sql" : "_down.sql")), "", made);
    } else if (f.layout == "updown") {
        std::string v = timestamps(f) ? now : next_number(f, 1);
        write_new(at(v + "_" + name + ".up.sql"), header, made);
        write_new(at(v + "_" + name + ".down.sql"), "", made);
    } else if (f.layout == "diesel") {
        // YYYY-MM-DD-HHMMSS, with diesel 2's -0000 suffix when the newest directory has it
        std::string v = now.substr(0, 4) + "-" + now.substr(4, 2) + "-" + now.substr(6, 2) + "-" +
                        now.substr(8, 6);
        if (!f.migrations.empty()) {
            std::string last = fs::path(f.migrations.back().up_path).parent_path().filename();
            if (std::regex_search(last, std::regex(R"(^\d{4}-\d\d-\d\d-\d{6}-\d{4}_)")))
                v += "-0000";
        }
        std::string d = at(v + "_" + name);
        if (fs::exists(d)) throw InputError(d + ": already exists");
        fs::create_directory(d);
        write_new((fs::path(d) / "up.sql").string(), header, made);
        write_new((fs::path(d) / "down.sql").string(), "", made);
    } else if (f.layout == "dbmate") {
        write_new(at(now + "_" + name + ".sql"), "-- migrate:up\n\n\n-- migrate:down\n\n", made);
    } else if (f.layout == "flyway") {
        // the highest version with its last part one higher (V1.2 -> V1.3; none: V1)
        std::string v = "1";
        if (!f.migrations.empty()) {
            v = f.migrations.back().version;
            size_t dot = v.rfind('.');
            std::string last = v.substr(dot == std::string::npos ? 0 : dot + 1);
            v = v.substr(0, dot == std::string::npos ? 0 : dot + 1) +
                std::to_string(std::stoull(last) + 1);
        }
        write_new(at("V" + v + "__" + name + ".sql"), header, made);
    } else {
        throw InputError("new: layout " + f.layout + " is not created by pg_migrate");
    }
    return made;
}

}  // namespace pgm
