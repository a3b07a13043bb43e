// Verify. See verify.hpp.
#include "migrate/verify.hpp"

#include <set>

#include "migrate/lock.hpp"
#include "migrate/lockwait.hpp"
#include "migrate/pipeline.hpp"
#include "migrate/version.hpp"
#include "pg/report.hpp"
#include "pg/scope.hpp"
#include "pg/spi.hpp"
#include "script/tokens.hpp"

namespace ms::migrate {

namespace {

// A script that failed in a trial: the verdict's error text.
struct Failed {
    std::string text;
};

struct At {
    int number = 0, line = 0;
    std::string first_line;
};

std::string error_text(int code, const std::string& message, const char* which, const At& at) {
    const char* state = guard([&] { return unpack_sql_state(code); });
    std::string out = std::string(state) + ": " + message + " (" + which + " script";
    if (at.number > 0)
        out += ", statement " + std::to_string(at.number) + ", line " + std::to_string(at.line) +
               ": " + at.first_line;
    return out + ")";
}

// Runs a migration's script in the current transaction, each statement under the bounded lock
// wait; throws Failed when it fails.
// `again`: the up script's second run, after the down script (named so in the error).
void run_script(const store::Migration& m, Direction dir, bool again = false) {
    const char* which = dir == Direction::up ? "up" : "down";
    const char* named = again ? "up script run again after the down" : which;
    const std::string& text = dir == Direction::up ? m.up_sql : *m.down_sql;
    std::string where =
        "migration " + label(m.version, m.name) + " " + which + " script, statement ";
    At at;
    try {
        pg::in_scratch_context([&] {
            script::Script s = script::split(text, {m.version, which});
            for (const auto& st : s.statements) {
                at = At{st.number, st.line, st.first_line};
                std::optional<std::string> sql = trial_sql(st);
                if (!sql) continue;
                lockwait::run([&] { spi::execute(*sql); }, where + std::to_string(st.number));
            }
        });
    } catch (const PgError& e) {
        if (ends_the_call(e.data->sqlerrcode)) throw;
        throw Failed{
            error_text(e.data->sqlerrcode, e.data->message ? e.data->message : "error", named, at)};
    } catch (const Error& e) {
        if (ends_the_call(e.sqlstate)) throw;
        throw Failed{error_text(e.sqlstate, e.message, named, at)};
    }
}

Verdict verdict(const store::Migration& m, std::optional<bool> reversible,
                std::optional<std::string> error) {
    Verdict v;
    v.version = m.version;
    v.name = m.name;
    v.reversible = reversible;
    v.error = std::move(error);
    return v;
}

// A script in a subtransaction of its own, begun after the snapshot's mark (so that every row
// it writes has a transaction id the incremental snapshot recognizes).
void run_in_subtransaction(const store::Migration& m, Direction dir, bool again = false) {
    pg::in_subtransaction([&] { run_script(m, dir, again); });
}

void run_up(const store::Migration& m) {
    run_in_subtransaction(m, Direction::up);
}

// A pending migration on the schema `now` (its snapshot), which becomes the schema after its
// up script (the next pending migration builds on it).
Verdict check_pending(const store::Migration& m, snapshot::Tracked& now) {
    Verdict v = verdict(m, false, std::nullopt);
    snapshot::Mark before_up = snapshot::mark();
    try {
        run_up(m);
    } catch (const Failed& f) {
        v.error = f.text;
        v.up_failed = true;
        return v;
    }
    snapshot::Tracked after_up = snapshot::refresh(now, before_up);
    if (!m.down_sql) {
        v.error = "no down script";
    } else {
        try {
            pg::in_discarded_subtransaction([&] {
                snapshot::Mark before_down = snapshot::mark();
                run_in_subtransaction(m, Direction::down);
                snapshot::Tracked after_down = snapshot::refresh(after_up, before_down);
                v.down = snapshot::compare(now.objects, after_down.objects);
                v.reversible = v.down.empty();
                v.rerunnable = false;
                snapshot::Mark before_rerun = snapshot::mark();
                run_in_subtransaction(m, Direction::up, true);
                v.rerun = snapshot::compare(after_up.objects,
                                            snapshot::refresh(after_down, before_rerun).objects);
                v.rerunnable = v.rerun.empty();
            });
        } catch (const Failed& f) {
            v.error = f.text;
        }
    }
    now = std::move(after_up);
    return v;
}

// Applied migrations, newest first: each one's down script runs, then (rolled back) its up
// script, which must give back the schema it had (check "down-up"); then the walk goes on
// down from the schema its down script left. A difference on an object a newer migration's
// check already reported is not charged again: what a newer down script leaves behind is not
// blamed on an older migration. Verdicts for list[0, report) are returned, oldest first.
std::vector<Verdict> check_applied(const std::vector<store::Scripts>& list, size_t report) {
    std::vector<Verdict> verdicts;
    for (const auto& s : list) verdicts.push_back(verdict(s.migration, std::nullopt, std::nullopt));
    pg::in_discarded_subtransaction([&] {
        snapshot::Tracked now = snapshot::take_tracked();
        std::set<std::string> reported;  // objects of the differences found so far
        size_t back = 0;
        for (; back < std::min(report, list.size()); back++) {
            const store::Scripts& s = list[back];
            Verdict& v = verdicts[back];
            v.reversible = false;
            if (!s.has_script || s.state != "applied" || !s.migration.down_sql) {
                v.error = !s.has_script          ? "adopted without scripts: nothing to run"
                          : s.state != "applied" ? "the migration is " + s.state
                                                 : std::string("no down script");
                break;
            }
            snapshot::Mark before_down = snapshot::mark();
            try {
                run_in_subtransaction(s.migration, Direction::down);
            } catch (const Failed& f) {
                v.error = f.text;
                break;
            }
            snapshot::Tracked below = snapshot::refresh(now, before_down);
            try {
                pg::in_discarded_subtransaction([&] {
                    snapshot::Mark before_up = snapshot::mark();
                    run_in_subtransaction(s.migration, Direction::up);
                    snapshot::Tracked up = snapshot::refresh(below, before_up);
                    for (auto& d : snapshot::compare(now.objects, up.objects))
                        if (!reported.count(d.object)) v.roundtrip.push_back(std::move(d));
                });
                v.reversible = v.roundtrip.empty();
            } catch (const Failed& f) {
                v.error = f.text;
            }
            // Down then up is the one check of an applied migration: rerunnable is not measured.
            for (const auto& d : v.roundtrip) reported.insert(d.object);
            now = std::move(below);
        }
        for (size_t k = back + 1; k < list.size(); k++)
            verdicts[k].error = "not checked: migration " + list[back].migration.version +
                                ", applied after it, cannot be rolled back";
    });
    verdicts.resize(std::min(report, verdicts.size()));
    return std::vector<Verdict>(verdicts.rbegin(), verdicts.rend());
}

std::vector<Verdict> verify_version(const std::string& version) {
    store::Store db;
    std::optional<store::Scripts> target = db.scripts_of(version);
    if (!target) {
        db.close();
        throw Error(ERRCODE_UNDEFINED_OBJECT, "migration version " + version + " is not known", "",
                    "SELECT version FROM migrate.status() lists the known versions.");
    }
    const store::Migration& m = target->migration;
    if (!target->has_script) {
        db.close();
        return {verdict(m, false, "adopted without scripts: nothing to run")};
    }
    if (target->state == "pending" || target->state == "rolled back") {
        std::vector<store::Migration> before = db.pending(db.find(version));
        db.close();
        std::vector<Verdict> out;
        pg::in_discarded_subtransaction([&] {
            for (const auto& p : before) {
                if (p.version == m.version) break;
                // One that fails is left out, as in verify() of every pending migration.
                try {
                    run_up(p);
                } catch (const Failed&) {
                }
            }
            snapshot::Tracked now = snapshot::take_tracked();
            out.push_back(check_pending(m, now));
        });
        return out;
    }
    std::vector<store::Scripts> applied = db.applied_scripts();
    db.close();
    for (size_t k = 0; k < applied.size(); k++)
        if (applied[k].migration.version == version) {
            applied.resize(k + 1);
            std::vector<Verdict> all = check_applied(applied, k + 1);
            return {all.front()};
        }
    return {verdict(m, std::nullopt, "the migration is " + target->state)};
}

std::string json_or_null(const std::optional<bool>& b) {
    return b ? (*b ? "true" : "false") : "null";
}

}  // namespace

bool ends_the_call(int code) {
    int category = ERRCODE_TO_CATEGORY(code);
    return category == ERRCODE_TO_CATEGORY(ERRCODE_OPERATOR_INTERVENTION) ||
           category == ERRCODE_TO_CATEGORY(ERRCODE_INSUFFICIENT_RESOURCES) ||
           category == ERRCODE_TO_CATEGORY(ERRCODE_PROGRAM_LIMIT_EXCEEDED) ||
           category == ERRCODE_TO_CATEGORY(ERRCODE_INTERNAL_ERROR) ||
           category == ERRCODE_TO_CATEGORY(ERRCODE_TRANSACTION_ROLLBACK) ||
           code == ERRCODE_LOCK_NOT_AVAILABLE;
}

Trial::Trial(const char* function) : nested_(function) {
    if (guard([] { return XactReadOnly; }))
        throw Error(ERRCODE_READ_ONLY_SQL_TRANSACTION,
                    std::string(function) + " cannot run in a read-only transaction",
                    "It runs migration scripts (and rolls them back).",
                    "Call it in a read-write transaction, on the primary.");
    spi::connect();
    lock();
    bound_.enter();
}

void Trial::finish() {
    bound_.leave();
    spi::finish();
}

std::optional<std::string> trial_sql(const script::Statement& st) {
    if (st.outside_transaction == nullptr) return st.sql;
    switch (nodeTag(st.tree)) {
        case T_VacuumStmt:
        case T_ReindexStmt:
            return std::nullopt;
        default:
            return script::without_concurrently(st.sql);
    }
}

std::string Verdict::differences_json() const {
    std::string out;
    snapshot::append_json(out, down, "down");
    snapshot::append_json(out, rerun, "rerun");
    snapshot::append_json(out, roundtrip, "down-up");
    return "[" + out + "]";
}

std::string Verdict::json() const {
    return "{\"reversible\": " + json_or_null(reversible) +
           ", \"rerunnable\": " + json_or_null(rerunnable) +
           ", \"differences\": " + differences_json() +
           ", \"error\": " + (error ? pg::json_string(*error) : "null") + "}";
}

std::string Verdict::summary() const {
    std::string out;
    size_t shown = 0, total = down.size() + rerun.size() + roundtrip.size();
    const char* what[] = {"after the down script, ", "after the up script again, ",
                          "after the down and up scripts, "};
    const std::vector<snapshot::Difference>* lists[] = {&down, &rerun, &roundtrip};
    for (int l = 0; l < 3; l++)
        for (const auto& d : *lists[l]) {
            if (++shown > 5) break;
            out += std::string(out.empty() ? "" : "\n") + what[l] + d.object + " " + d.property +
                   ": " + d.before.value_or("(none)") + " -> " + d.after.value_or("(none)");
        }
    if (total > 5) out += "\n... and " + std::to_string(total - 5) + " more";
    if (error) out += std::string(out.empty() ? "" : "\n") + "verify: " + *error;
    return out;
}

std::vector<Verdict> verify(const std::optional<std::string>& version, bool applied) {
    Trial trial("migrate.verify");
    std::vector<Verdict> out;
    if (version) {
        version::validate(*version);
        out = verify_version(*version);
    } else if (applied) {
        store::Store db;
        std::vector<store::Scripts> list = db.applied_scripts();
        db.close();
        out = check_applied(list, list.size());
    } else {
        store::Store db;
        std::vector<store::Migration> pending = db.pending(std::nullopt);
        db.close();
        pg::in_discarded_subtransaction([&] {
            snapshot::Tracked now = snapshot::take_tracked();
            for (const auto& m : pending) out.push_back(check_pending(m, now));
        });
    }
    trial.finish();
    return out;
}

Verdict verify_next(const store::Migration& m) {
    std::optional<Verdict> v;
    lockwait::Bound bound;
    bound.enter();
    pg::in_discarded_subtransaction([&] {
        snapshot::Tracked now = snapshot::take_tracked();
        v = check_pending(m, now);
    });
    bound.leave();
    return *v;
}

std::string schema_text() {
    spi::connect();
    std::string text = snapshot::render(snapshot::take());
    spi::finish();
    return text;
}

}  // namespace ms::migrate
