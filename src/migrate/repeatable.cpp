// Repeatable migrations, and how a script compares with an applied migration's. See
// operations.hpp.
#include "migrate/lock.hpp"
#include "migrate/operations.hpp"
#include "migrate/ops.hpp"
#include "migrate/version.hpp"
#include "pg/report.hpp"
#include "script/checksum.hpp"
#include "script/script.hpp"
#include "script/tokens.hpp"

namespace ms::migrate {

using ops::queue_state;
using ops::QueueState;
using ops::run_repeatables;
using ops::Session;
using ops::throw_blocked;
using store::Row;

namespace {

// A repeatable's script is checked as a versioned up script is, and must run whole in one
// transaction.
void check_repeatable(const std::string& name, const std::string& script) {
    version::validate_name(name);
    if (std::optional<std::string> step = check_script("repeatable " + name, script, Direction::up))
        throw Error(ERRCODE_ACTIVE_SQL_TRANSACTION,
                    "repeatable migration " + name + " holds " + *step,
                    "A repeatable migration runs whole in one transaction; it has no steps "
                    "after commit.",
                    "Put it in a versioned migration, which runs it as a step after commit.");
}

// Stores a repeatable's script: "registered" or "updated" (pending: it runs), "unchanged" (the
// same tokens ran already, or wait to run; a cosmetic edit is stored and recorded).
std::string store_repeatable(store::Store& db, const std::string& name, const std::string& script,
                             const std::string& by) {
    store::Repeatable r{
        name,      script,      checksum::sha256_hex(script), script::token_checksum(script),
        "pending", std::nullopt};
    std::optional<store::Repeatable> old = db.find_repeatable(name);
    if (old && old->checksum == r.checksum) return "unchanged";
    if (old && old->state == "pending" && old->tokens == r.tokens) {
        db.save_repeatable(r);  // still to run: the new text runs
        return "unchanged";
    }
    if (old && old->ran_tokens && *old->ran_tokens == r.tokens) {
        // The tokens that ran last: only white space, comments or line endings changed.
        r.state = "applied";
        db.save_repeatable(r);
        db.note_history("R__" + name, name, "cosmetic_edit", r.checksum, by,
                        "{\"before\": \"" + old->checksum + "\", \"after\": \"" + r.checksum +
                            "\", \"repeatable\": true}");
        pg::notice("repeatable migration " + name + " was edited cosmetically: stored the new text",
                   "Only white space, comments or line endings changed: PostgreSQL's lexer reads "
                   "the same tokens, so it does not run again.");
        return "unchanged";
    }
    db.save_repeatable(r);
    return old ? "updated" : "registered";
}

}  // namespace

void ops::run_repeatables(Pipeline& pipeline, const std::vector<store::Repeatable>& list,
                          std::vector<Ran>* ran) {
    pipeline.for_repeatables();
    std::vector<store::Migration> ms;
    ms.reserve(list.size());
    for (const auto& r : list) {
        // Its history rows and audit rows carry R__NAME, apart from migration versions.
        ms.push_back(store::Migration{"R__" + r.name, r.name, r.script, std::nullopt, r.checksum});
        pipeline.prepare(ms.back(), true);
    }
    for (const auto& m : ms) {
        Ran one = pipeline.run(m);
        if (ran) ran->push_back(one);
    }
}

std::string register_repeatable(const std::string& name, const std::string& script) {
    NotNested nested("migrate.register_repeatable");
    check_repeatable(name, script);
    std::string by = pg::current_user_name();
    Session session;
    lock();
    store::Store db;
    std::string result = store_repeatable(db, name, script, by);
    db.close();
    session.finish();
    return result;
}

bool apply_repeatable(const std::string& name, const std::string& script, const Allow& allow) {
    NotNested nested("migrate.apply_repeatable");
    check_repeatable(name, script);
    Pipeline pipeline(Direction::up, allow, pg::current_user_name());
    Session session;
    lock();
    store::Store db;
    QueueState queue = queue_state(db);
    if (queue.failed) throw_blocked(*queue.failed, "running repeatable migration " + name);
    if (queue.busy)
        throw Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                    "repeatable migration " + name +
                        " waits for the steps of earlier migrations; it did not run",
                    "Repeatable migrations run after the versioned ones; steps of those still run "
                    "after commit.",
                    "CALL migrate.wait(), then run it again.");
    store_repeatable(db, name, script, pipeline.by());
    std::optional<store::Repeatable> r = db.find_repeatable(name);
    db.close();
    if (r->state == "applied") {
        pg::notice("repeatable migration " + name + " is unchanged since its last run; " +
                   "nothing to do");
        session.finish();
        return false;
    }
    run_repeatables(pipeline, {*r}, nullptr);
    pipeline.finish();
    session.finish();
    return true;
}

std::optional<std::string> compare_script(const std::string& version, const std::string& script) {
    version::validate(version);
    std::string sum = checksum::sha256_hex(script);
    Session session;
    store::Store db;
    std::optional<Row> row = db.find(version);
    db.close();
    session.finish();
    if (!row || !row->has_script) return std::nullopt;
    switch (script::compare(row->checksum, row->tokens, sum, script)) {
        case script::Change::same:
            return "same";
        case script::Change::cosmetic:
            return "cosmetic";
        case script::Change::edited:
            break;
    }
    return "edited";
}

}  // namespace ms::migrate
