// The operations behind the SQL functions. See operations.hpp and pipeline.hpp.
#include "migrate/operations.hpp"

#include "migrate/adopt.hpp"
#include "migrate/lock.hpp"
#include "migrate/ops.hpp"
#include "migrate/queue.hpp"
#include "migrate/version.hpp"
#include "pg/report.hpp"
#include "pg/spi.hpp"
#include "script/checksum.hpp"
#include "script/tokens.hpp"

namespace ms::migrate {

namespace {

using ops::queue_state;
using ops::QueueState;
using ops::run_repeatables;
using ops::Session;
using ops::step_name;
using ops::throw_blocked;
using store::Row;

void check_input(const Input& in) {
    version::validate(in.version);
    if (in.name) version::validate_name(*in.name);
    if (in.order_key) version::validate_order_key(*in.order_key);
}

// A database orders its migrations one way: by natural version order, or by the order keys a
// client gives at register. A new place must not mix the two, nor take another's place.
void check_order(store::Store& db, const std::string& version,
                 const std::optional<std::string>& order_key, const std::string& place) {
    store::OrderCheck c = db.check_order(version, place);
    if (order_key && c.natural)
        throw Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                    "migration " + version +
                        " has an order key, but the migrations known "
                        "already are ordered by version",
                    "A database orders its migrations one way: by the natural order of their "
                    "versions, or by the order keys given at register (pg_migrate gives them for "
                    "diesel, dbmate and Alembic folders).",
                    "Register it without order_key, or every migration with one (pg_migrate "
                    "--natural-order registers a folder without them).");
    if (!order_key && c.explicit_keys)
        throw Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                    "migration " + version +
                        " has no order key, but the migrations known "
                        "already are ordered by order keys",
                    "A database orders its migrations one way: by the natural order of their "
                    "versions, or by the order keys given at register (pg_migrate gives them for "
                    "diesel, dbmate and Alembic folders).",
                    "Register it with migrate.register(..., order_key => ...), then apply it.");
    if (c.taken_by)
        throw Error(ERRCODE_UNIQUE_VIOLATION,
                    "order key " + order_key.value_or(version) + " of migration " + version +
                        " is already the place of migration " + *c.taken_by,
                    "Two migrations cannot take the same place in the order.",
                    "Give it an order key of its own.");
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
                               const std::string& given, const std::string& state = "applied") {
    throw Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                "migration " + version + " was edited after it was " +
                    (state == "applied" ? "applied" : "queued (it is " + state + ")"),
                "Applied checksum: " + applied + "\nGiven checksum:   " + given,
                "Restore the applied script, or write the change as a new migration with a "
                "higher version.");
}

// The up script given for a migration whose up script is fixed (applied, or on its way): the
// same, or a cosmetic edit of it (white space, comments, line endings: the same lexer tokens),
// which is stored and recorded with a NOTICE (returns true); any other change is refused.
bool check_unchanged(const Row& row, const std::string& up_sql, const std::string& sum,
                     const std::string& by) {
    switch (script::compare(row.checksum, row.tokens, sum, up_sql)) {
        case script::Change::same:
            return false;
        case script::Change::edited:
            throw_edited(row.version, row.checksum, sum, row.state);
        case script::Change::cosmetic: {
            store::Store db;
            db.record_cosmetic_edit(row, up_sql, sum, by);
            db.close();
            pg::notice("migration " + row.version + " was edited cosmetically after it was " +
                           (row.state == "applied" ? std::string("applied")
                                                   : "applied (it is " + row.state + ")") +
                           ": stored the new text",
                       "Only white space, comments or line endings changed: PostgreSQL's lexer "
                       "reads the same tokens. Checksum " +
                           row.checksum + " -> " + sum + " (recorded in migrate.history).");
            return true;
        }
    }
    return false;
}

// Scripts given for a migration adopted from another tool, which has none yet: they are
// attached (it stays applied; nothing runs), with the order key given (adopted versions take
// their natural place until a client's folder gives them their place in its order). When that
// moves an adopted baseline up, the pending migrations now below it count as applied too.
void attach(const Row& row, const Input& in, const std::string& sum, const std::string& by) {
    check_script(label(in.version, in.name), in.up_sql, Direction::up);
    warn_if_down_unusable(label(in.version, in.name), in.down_sql);
    store::Migration m{row.version, in.name, in.up_sql,
                       in.down_sql, sum,     in.order_key ? in.order_key : row.order_key};
    m.tokens = script::try_token_checksum(in.up_sql);
    store::Store db;
    bool moved = m.order_key != row.order_key;
    check_order(db, row.version, m.order_key, m.place());
    db.attach(m, by);
    db.close();
    if (moved) apply_baseline_to_pending(by);
}

// A migration new to the database at or below the newest baseline counts as applied: it is
// recorded (with its scripts) without running. Returns whether it was. `unchecked`: its
// scripts were not checked yet (apply checks them as it runs them; stored, they are checked as
// register checks them).
bool below_baseline(const store::Migration& m, const std::string& by, bool unchecked = false) {
    std::optional<std::string> base;
    {
        store::Store probe;
        base = probe.baseline_place();
        probe.close();
    }
    if (!base || m.place() > *base) return false;
    if (unchecked) {
        check_script(label(m.version, m.name), m.up_sql, Direction::up);
        warn_if_down_unusable(label(m.version, m.name), m.down_sql);
    }
    store::Store db;
    std::optional<Row> row = db.find(m.version);
    if (!row) {
        db.save_pending(m);
        row = db.find(m.version);
    }
    store::Adopted a{m.version, m.name, pg::now(), by, "baseline", "{\"below_baseline\": true}"};
    db.adopt(a, "adopt", row, row->place(), row->order_key);
    db.close();
    pg::notice("migration " + m.version +
                   " is at or below the baseline: recorded as applied without running",
               "SELECT * FROM migrate.history WHERE action = 'baseline' shows the baseline.");
    return true;
}

// Whether a migration at `place` comes before the newest applied one.
bool is_older(const std::string& place, const std::optional<store::Newest>& newest) {
    return newest && place < newest->place;
}

std::string joined(const std::vector<std::string>& items) {
    std::string list;
    for (const auto& s : items) list += (list.empty() ? "" : ", ") + s;
    return list;
}

// A migration on its way (queued, applying, rolling back): what its steps are doing.
bool in_progress(const std::string& state) {
    return state == "queued" || state == "applying" || state == "rolling back";
}

// A migration whose down script is queued: rolling back, queued for a rollback behind other
// migrations' steps, or its down step failed.
bool down_in_flight(const Row& row, store::Store& db) {
    return (row.state == "rolling back" || row.state == "queued" || row.state == "failed") &&
           db.unfinished_for(row.version, "down");
}

// A migration known and applied with the same checksum may take a new down script or name.
// NULL (not given) keeps what is stored: an app that re-applies its migrations at start-up
// without down scripts must not erase them. Returns whether anything changed.
bool update_details(const Row& row, const Input& in, const std::string& by) {
    std::optional<std::string> down = in.down_sql ? in.down_sql : row.down_sql;
    std::optional<std::string> name = in.name ? in.name : row.name;
    std::optional<std::string> order_key = in.order_key ? in.order_key : row.order_key;
    bool down_changed = down != row.down_sql, name_changed = name != row.name;
    bool order_changed = order_key != row.order_key;
    if (!down_changed && !name_changed && !order_changed) return false;
    if (down_changed) warn_if_down_unusable(label(in.version, name), down);
    store::Store db;
    if (order_changed)
        check_order(db, row.version, order_key, version::place(row.version, order_key));
    db.update_details(in.version, down, name, order_key);
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
    // Once a down script queued steps, the older migrations roll back behind them.
    std::vector<Ran> ran;
    std::vector<std::string> queued;
    for (const auto& m : down) {
        if (pipeline.queued()) {
            pipeline.queue(m);
            queued.push_back(m.version);
        } else {
            ran.push_back(pipeline.run(m));
        }
    }
    if (!queued.empty())
        pg::notice(std::to_string(queued.size()) +
                       (queued.size() == 1 ? " migration is" : " migrations are") +
                       " queued for rollback behind steps that run after this transaction "
                       "commits: " +
                       joined(queued),
                   "They roll back in the background, newest first. SELECT * FROM "
                   "migrate.status() shows them; CALL migrate.wait() waits for them.");
    pipeline.finish();
    return ran;
}

// Before a rollback: nothing may be on its way, except the migration that failed at a step of
// its up script, which the rollback undoes (what is left of its run, and what was queued
// behind it, is cancelled: those go back to the state they had).
void clear_for_rollback(store::Store& db, const QueueState& queue) {
    if (!queue.busy) return;
    if (!queue.failed)
        throw Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                    "migrations are on their way; nothing can be rolled back now",
                    "Steps run in the background after the transactions that queued them.",
                    "CALL migrate.wait() waits for them; SELECT * FROM migrate.status() shows "
                    "them.");
    const store::QueueEntry& f = *queue.failed;
    if (f.direction != "up") throw_blocked(f, "a rollback");
    for (const auto& v : db.queued_versions_behind(f.queue_seq)) db.set_state(v, "pending");
    db.cancel_queued_behind(f.queue_seq);
    db.cancel_entries(f.queue_seq);
    // A whole migration that failed in the queue never applied: it is pending again.
    db.set_state(f.version, f.position == 0 ? "pending" : "applied");
    pg::notice("migration " + f.version + " failed " + step_name(f) +
                   "; what was left of it, and what was queued behind it, is cancelled",
               f.position == 0 ? "Nothing of it was applied: it is pending again."
                               : "Its down script runs now.");
}

}  // namespace

std::string apply_one(const Input& in, bool allow_out_of_order, const Allow& allow, bool verify) {
    NotNested nested("migrate.apply");
    check_input(in);
    Pipeline pipeline(Direction::up, allow, pg::current_user_name());
    if (verify) pipeline.verify_each();
    std::string sum = checksum::sha256_hex(in.up_sql);
    Session session;
    lock();

    store::Store db;
    std::optional<Row> row = db.find(in.version);
    bool applied = row && row->state == "applied";
    std::optional<store::Newest> newest;
    if (!applied) newest = db.newest_applied();
    // A migration new to the database takes a natural place: it must fit the order.
    if (!row) check_order(db, in.version, std::nullopt, version::sort_key(in.version));
    QueueState queue = queue_state(db);
    db.close();

    if (row) check_same_version(*row, in.version);
    if (row && !row->has_script) {
        attach(*row, in, sum, pipeline.by());
        pg::notice("migration " + in.version + " was adopted from " +
                   row->adopted_from.value_or("another tool") +
                   ": its scripts are attached; nothing ran");
        session.finish();
        return "unchanged";
    }
    if (row && in_progress(row->state)) {
        check_unchanged(*row, in.up_sql, sum, pipeline.by());
        pg::notice(
            "migration " + in.version + " is " + row->state + ": its steps run in the background",
            "SELECT * FROM migrate.status() shows where they are; CALL migrate.wait() "
            "waits for them.");
        session.finish();
        return row->state;
    }
    if (queue.failed) throw_blocked(*queue.failed, "applying migration " + in.version);
    if (applied) {
        bool cosmetic = check_unchanged(*row, in.up_sql, sum, pipeline.by());
        update_details(*row, in, pipeline.by());
        if (!cosmetic)
            pg::notice("migration " + in.version + " is already applied with the same checksum; " +
                       "nothing to do");
        session.finish();
        return "unchanged";
    }
    store::Migration m{in.version,  in.name, in.up_sql,
                       in.down_sql, sum,     row ? row->order_key : std::nullopt};
    m.tokens = script::try_token_checksum(in.up_sql);
    if (!row && below_baseline(m, pipeline.by(), true)) {
        session.finish();
        return "unchanged";
    }
    bool out_of_order = is_older(m.place(), newest);
    if (out_of_order && !allow_out_of_order)
        throw Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                    "migration " + in.version + " is older than the newest applied migration " +
                        newest->version,
                    "Applying it now would run it after migrations that were written after it.",
                    "Pass allow_out_of_order => true to apply it anyway; it is recorded as "
                    "applied out of order.");
    pipeline.prepare(m, !queue.busy);
    warn_if_down_unusable(label(in.version, in.name), in.down_sql);
    if (queue.busy) {
        pipeline.queue(m, true);
        pg::notice("migration " + in.version + " is queued behind the steps of earlier migrations",
                   "It runs after them, in the background.");
        session.finish();
        return "queued";
    }
    pipeline.run(m, out_of_order, true);
    pipeline.finish();
    session.finish();
    return pipeline.queued() ? "applying" : "applied";
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
    (void)queue_state(db);  // starts a worker for interrupted steps
    bool down_fixed = row && down_in_flight(*row, db);
    db.close();
    if (row) check_same_version(*row, in.version);
    if (row && !row->has_script) {
        attach(*row, in, sum, by);
        session.finish();
        return "attached";
    }
    // Applied, or on its way: the up script is fixed; the down script and name may change.
    if (row && (row->state == "applied" || in_progress(row->state) || row->state == "failed")) {
        check_unchanged(*row, in.up_sql, sum, by);
        if (down_fixed && in.down_sql && in.down_sql != row->down_sql)
            throw Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                        "migration " + in.version + " is being rolled back; its down script " +
                            "cannot change now",
                        "The rollback runs the copy of its down script queued with it.",
                        row->state == "failed"
                            ? "Fix the cause of the failed step, then SELECT migrate.retry(); "
                              "register the new down script once it is rolled back."
                            : "Wait for it (CALL migrate.wait()), then register the new down "
                              "script.");
        bool changed = update_details(*row, in, by);
        session.finish();
        return changed ? "updated" : "unchanged";
    }
    check_script(label(in.version, in.name), in.up_sql, Direction::up);
    warn_if_down_unusable(label(in.version, in.name), in.down_sql);
    // A pending or rolled-back migration may be replaced freely: it is not in the schema. Its
    // order key, when not given, stays.
    store::Migration m{
        in.version,  in.name, in.up_sql,
        in.down_sql, sum,     in.order_key ? in.order_key : row ? row->order_key : std::nullopt};
    std::string result = "registered";
    if (row)
        result = (row->checksum == sum && row->down_sql == in.down_sql && row->name == in.name &&
                  row->order_key == m.order_key)
                     ? "unchanged"
                     : "updated";
    if (result != "unchanged") {
        m.tokens = script::try_token_checksum(in.up_sql);  // only what is stored needs them
        store::Store w;
        check_order(w, in.version, m.order_key, m.place());
        w.save_pending(m);
        w.close();
        if (!row) below_baseline(m, by);
    }
    session.finish();
    return result;
}

std::vector<Ran> apply_pending(const std::optional<std::string>& to_version,
                               bool allow_out_of_order, const Allow& allow, bool verify) {
    NotNested nested("migrate.apply");
    if (to_version) version::validate(*to_version);
    Pipeline pipeline(Direction::up, allow, pg::current_user_name());
    if (verify) pipeline.verify_each();
    Session session;
    lock();

    store::Store db;
    std::optional<Row> target;
    if (to_version) {
        std::optional<Row> row = db.find(*to_version);
        if (!row)
            throw Error(ERRCODE_UNDEFINED_OBJECT,
                        "migration version " + *to_version + " is not known", "",
                        "SELECT version FROM migrate.status() lists the known versions.");
        target = std::move(row);
    }
    std::optional<store::Newest> newest = db.newest_applied();
    std::vector<store::Migration> pending = db.pending(target);
    std::vector<store::Repeatable> repeatables = db.pending_repeatables();
    QueueState queue = queue_state(db);
    db.close();
    if (queue.failed && (!pending.empty() || !repeatables.empty()))
        throw_blocked(*queue.failed, "applying the pending migrations");

    std::vector<std::string> older;
    for (const auto& m : pending)
        if (is_older(m.place(), newest)) older.push_back(m.version);
    if (!older.empty() && !allow_out_of_order)
        throw Error(
            ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            std::to_string(older.size()) +
                (older.size() == 1 ? " pending migration is" : " pending migrations are") +
                " older than the newest applied migration " + newest->version,
            "Older than " + newest->version + ": " + joined(older) + ". Nothing was applied.",
            "Pass allow_out_of_order => true to apply them anyway; they are recorded as "
            "applied out of order.");
    if (pending.empty() && repeatables.empty()) {
        pg::notice("nothing to apply: no pending migration" +
                   (to_version ? " up to version " + *to_version : std::string()));
        session.finish();
        return {};
    }
    for (const auto& m : pending) pipeline.prepare(m, false);
    // Once work is queued for after commit (steps of this call, or earlier work not finished),
    // the rest is queued behind it: migrations run in version order.
    std::vector<Ran> ran;
    std::vector<std::string> queued;
    for (const auto& m : pending) {
        if (queue.busy || pipeline.queued()) {
            pipeline.queue(m);
            queued.push_back(m.version);
            continue;
        }
        ran.push_back(pipeline.run(m, is_older(m.place(), newest)));
        if (!newest || m.place() > newest->place) newest = store::Newest{m.version, m.place()};
    }
    if (!queued.empty())
        pg::notice(
            std::to_string(queued.size()) +
                (queued.size() == 1 ? " migration is" : " migrations are") +
                " queued behind steps that run after this transaction commits: " + joined(queued),
            "They run in the background, in version order. SELECT * FROM "
            "migrate.status() shows them; CALL migrate.wait() waits for them.");
    // Repeatable migrations run after the versioned ones; after their steps too, so while steps
    // wait they wait for the next apply().
    if (!repeatables.empty() && (queue.busy || pipeline.queued()))
        pg::notice(std::to_string(repeatables.size()) +
                       (repeatables.size() == 1 ? " repeatable migration waits"
                                                : " repeatable migrations wait") +
                       " for steps that run after this transaction commits",
                   "They run with the next migrate.apply() once the steps are done (CALL "
                   "migrate.wait() waits for them).");
    else if (!repeatables.empty())
        run_repeatables(pipeline, repeatables, &ran);
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
    clear_for_rollback(db, queue_state(db));
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
    clear_for_rollback(db, queue_state(db));
    std::vector<Row> above = db.applied_above(*target);
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
