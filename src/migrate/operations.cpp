// The operations behind the SQL functions. See operations.hpp and pipeline.hpp.
#include "migrate/operations.hpp"

#include "migrate/lock.hpp"
#include "migrate/version.hpp"
#include "pg/report.hpp"
#include "pg/spi.hpp"
#include "script/checksum.hpp"

namespace ms::migrate {

namespace {

using store::Row;

// The SPI connection of one call: connect now, finish on the success path (an error's abort
// releases it).
class Session {
  public:
    Session() { spi::connect(); }
    void finish() { spi::finish(); }
};

void check_input(const Input& in) {
    version::validate(in.version);
    if (in.name) version::validate_name(*in.name);
}

void check_same_version(const Row& row, const std::string& version) {
    if (row.version != version)
        throw Error(
            ERRCODE_UNIQUE_VIOLATION,
            "migration version " + version + " is equivalent to the known version " + row.version,
            "Versions compare naturally (runs of digits as numbers), so " + version + " and " +
                row.version + " would take the same place in the order.",
            "Use the version exactly as it is known: " + row.version + ".");
}

[[noreturn]] void throw_edited(const std::string& version, const std::string& applied,
                               const std::string& given) {
    throw Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                "migration " + version + " was edited after it was applied",
                "Applied checksum: " + applied + "\nGiven checksum:   " + given,
                "Restore the applied script, or write the change as a new migration with a "
                "higher version.");
}

bool is_older(const std::string& version, const std::optional<std::string>& newest) {
    return newest && version::compare(version, *newest) < 0;
}

std::string joined(const std::vector<std::string>& items) {
    std::string list;
    for (const auto& s : items) list += (list.empty() ? "" : ", ") + s;
    return list;
}

// A migration known and applied with the same checksum may take a new down script or name.
// NULL (not given) keeps what is stored: an app that re-applies its migrations at start-up
// without down scripts must not erase them. Returns whether anything changed.
bool update_details(const Row& row, const Input& in, const std::string& by) {
    std::optional<std::string> down = in.down_sql ? in.down_sql : row.down_sql;
    std::optional<std::string> name = in.name ? in.name : row.name;
    bool down_changed = down != row.down_sql, name_changed = name != row.name;
    if (!down_changed && !name_changed) return false;
    if (down_changed) warn_if_down_unusable(in.version, down);
    store::Store db;
    db.update_details(in.version, down, name);
    if (down_changed)
        db.add_history(in.version, name, row.checksum,
                       store::Outcome{"update_down", pg::now(), by, {}, {}, false, {}, {}});
    db.close();
    if (down_changed) pg::notice("migration " + in.version + ": stored a new down script");
    return true;
}

// Every migration must have a down script, and every down script must be prepared, before
// anything is rolled back.
std::vector<Ran> roll_back(const std::vector<Row>& rows, const std::string& by,
                           const Allow& allow) {
    Pipeline pipeline(Direction::down, allow, by);
    std::vector<std::string> missing;
    for (const auto& r : rows)
        if (!r.down_sql) missing.push_back(label(r.version, r.name));
    if (!missing.empty())
        throw Error(
            ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            "migration " + missing.front() + " has no down script; nothing was rolled back",
            "Migrations without a down script among those to roll back: " + joined(missing) + ".",
            "Give it a down script by registering it again with the same up script "
            "(migrate.register(version, up_sql, down_sql)), or roll back fewer "
            "migrations.");
    std::vector<store::Migration> down;
    down.reserve(rows.size());
    for (const auto& r : rows) {
        down.push_back(store::Migration{r.version, r.name, {}, r.down_sql, r.checksum});
        pipeline.prepare(down.back(), false);
    }
    std::vector<Ran> ran;
    for (const auto& m : down) ran.push_back(pipeline.run(m));
    pipeline.finish();
    return ran;
}

}  // namespace

std::string apply_one(const Input& in, bool allow_out_of_order, const Allow& allow) {
    NotNested nested("migrate.apply");
    check_input(in);
    Pipeline pipeline(Direction::up, allow, pg::current_user_name());
    std::string sum = checksum::sha256_hex(in.up_sql);
    Session session;
    lock();

    store::Store db;
    std::optional<Row> row = db.find(in.version);
    bool applied = row && row->state == "applied";
    std::optional<std::string> newest;
    if (!applied) newest = db.newest_applied();
    db.close();

    if (row) check_same_version(*row, in.version);
    if (applied) {
        if (row->checksum != sum) throw_edited(in.version, row->checksum, sum);
        update_details(*row, in, pipeline.by());
        pg::notice("migration " + in.version + " is already applied with the same checksum; " +
                   "nothing to do");
        session.finish();
        return "unchanged";
    }
    bool out_of_order = is_older(in.version, newest);
    if (out_of_order && !allow_out_of_order)
        throw Error(
            ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            "migration " + in.version + " is older than the newest applied migration " + *newest,
            "Applying it now would run it after migrations that were written after it.",
            "Pass allow_out_of_order => true to apply it anyway; it is recorded as "
            "applied out of order.");
    store::Migration m{in.version, in.name, in.up_sql, in.down_sql, sum};
    pipeline.prepare(m, true);
    warn_if_down_unusable(in.version, in.down_sql);
    pipeline.run(m, out_of_order, true);
    pipeline.finish();
    session.finish();
    return "applied";
}

std::string register_one(const Input& in) {
    NotNested nested("migrate.register");
    check_input(in);
    std::string sum = checksum::sha256_hex(in.up_sql);
    std::string by = pg::current_user_name();
    Session session;
    lock();

    store::Store db;
    std::optional<Row> row = db.find(in.version);
    db.close();
    if (row) check_same_version(*row, in.version);
    if (row && row->state == "applied") {
        if (row->checksum != sum) throw_edited(in.version, row->checksum, sum);
        bool changed = update_details(*row, in, by);
        session.finish();
        return changed ? "updated" : "unchanged";
    }
    check_script(in.version, in.up_sql, Direction::up);
    warn_if_down_unusable(in.version, in.down_sql);
    // A pending or rolled-back migration may be replaced freely: it is not in the schema.
    std::string result = "registered";
    if (row)
        result = (row->checksum == sum && row->down_sql == in.down_sql && row->name == in.name)
                     ? "unchanged"
                     : "updated";
    if (result != "unchanged") {
        store::Store w;
        w.save_pending(store::Migration{in.version, in.name, in.up_sql, in.down_sql, sum});
        w.close();
    }
    session.finish();
    return result;
}

std::vector<Ran> apply_pending(const std::optional<std::string>& to_version,
                               bool allow_out_of_order, const Allow& allow) {
    NotNested nested("migrate.apply");
    if (to_version) version::validate(*to_version);
    Pipeline pipeline(Direction::up, allow, pg::current_user_name());
    Session session;
    lock();

    store::Store db;
    std::optional<std::string> target;
    if (to_version) {
        std::optional<Row> row = db.find(*to_version);
        if (!row)
            throw Error(ERRCODE_UNDEFINED_OBJECT,
                        "migration version " + *to_version + " is not known", "",
                        "SELECT version FROM migrate.status() lists the known versions.");
        target = row->version;
    }
    std::optional<std::string> newest = db.newest_applied();
    std::vector<store::Migration> pending = db.pending(target);
    db.close();

    std::vector<std::string> older;
    for (const auto& m : pending)
        if (is_older(m.version, newest)) older.push_back(m.version);
    if (!older.empty() && !allow_out_of_order)
        throw Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                    std::to_string(older.size()) +
                        (older.size() == 1 ? " pending migration is" : " pending migrations are") +
                        " older than the newest applied migration " + *newest,
                    "Older than " + *newest + ": " + joined(older) + ". Nothing was applied.",
                    "Pass allow_out_of_order => true to apply them anyway; they are recorded as "
                    "applied out of order.");
    if (pending.empty()) {
        pg::notice("nothing to apply: no pending migration" +
                   (to_version ? " up to version " + *to_version : std::string()));
        session.finish();
        return {};
    }
    for (const auto& m : pending) pipeline.prepare(m, false);
    std::vector<Ran> ran;
    for (const auto& m : pending) {
        ran.push_back(pipeline.run(m, is_older(m.version, newest)));
        if (!newest || version::compare(m.version, *newest) > 0) newest = m.version;
    }
    pipeline.finish();
    session.finish();
    return ran;
}

std::vector<Ran> rollback_steps(int steps, const Allow& allow) {
    NotNested nested("migrate.rollback");
    if (steps < 1)
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "steps must be at least 1",
                    "Got " + std::to_string(steps) + ".");
    std::string by = pg::current_user_name();
    Session session;
    lock();
    store::Store db;
    // At most `steps` rows: fewer means that every applied migration was returned.
    std::vector<Row> candidates = db.applied_newest_first(steps);
    db.close();
    if (candidates.empty())
        throw Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                    "no migration is applied; nothing to roll back");
    if (static_cast<size_t>(steps) > candidates.size())
        throw Error(
            ERRCODE_INVALID_PARAMETER_VALUE,
            "cannot roll back " + std::to_string(steps) + " migrations: only " +
                std::to_string(candidates.size()) + (candidates.size() == 1 ? " is" : " are") +
                " applied",
            "Nothing was rolled back.",
            "migrate.rollback(" + std::to_string(candidates.size()) + ") rolls back all of them.");
    std::vector<Ran> ran = roll_back(candidates, by, allow);
    session.finish();
    return ran;
}

std::vector<Ran> rollback_to(const std::string& to_version, const Allow& allow) {
    NotNested nested("migrate.rollback");
    version::validate(to_version);
    std::string by = pg::current_user_name();
    Session session;
    lock();
    store::Store db;
    std::optional<Row> target = db.find(to_version);
    if (!target)
        throw Error(ERRCODE_UNDEFINED_OBJECT, "migration version " + to_version + " is not known",
                    "Nothing was rolled back.",
                    "SELECT version FROM migrate.status() lists the known versions.");
    std::vector<Row> above = db.applied_above(target->version);
    db.close();
    if (above.empty()) {
        pg::notice("nothing to roll back: no migration newer than " + target->version +
                   " is applied");
        session.finish();
        return {};
    }
    std::vector<Ran> ran = roll_back(above, by, allow);
    session.finish();
    return ran;
}

}  // namespace ms::migrate
