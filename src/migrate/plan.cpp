// Plan. See plan.hpp.
#include "migrate/plan.hpp"

#include <chrono>
#include <cmath>
#include <map>
#include <set>

#include "lint/lint.hpp"
#include "lint/settings.hpp"
#include "migrate/lock.hpp"
#include "migrate/lockwait.hpp"
#include "migrate/pipeline.hpp"
#include "migrate/verify.hpp"
#include "migrate/version.hpp"
#include "pg/report.hpp"
#include "pg/scope.hpp"
#include "pg/spi.hpp"
#include "snapshot/snapshot.hpp"

namespace ms::migrate {

namespace {

// A relation of the user's schemas (not the catalogs, not this extension's tables).
#define USER_RELATION MS_USER_NAMESPACE("n")

// Every user relation now: its name and storage (relfilenode; 0 for none).
const char* const kRelations =
    "SELECT c.oid, c.oid::regclass::text, c.relfilenode, c.relkind FROM pg_class c"
    " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE " USER_RELATION;
// The relation locks this session holds.
const char* const kMyLocks =
    "SELECT l.relation, l.mode FROM pg_locks l WHERE l.pid = pg_backend_pid()"
    " AND l.locktype = 'relation' AND l.granted"
    " AND l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())";
// The relation locks other sessions hold, with who they are.
const char* const kOtherLocks =
    "SELECT l.relation, l.mode, l.pid, a.usename::text, a.application_name, a.state,"
    " left(a.query, 200), to_char(a.xact_start, 'YYYY-MM-DD HH24:MI:SS') FROM pg_locks l"
    " LEFT JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.pid <> pg_backend_pid()"
    " AND l.locktype = 'relation' AND l.granted"
    " AND l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())";
// Rows inserted, updated and deleted by this transaction so far, in the user's tables.
const char* const kRowCounts =
    "SELECT coalesce(sum(pg_stat_get_xact_tuples_inserted(c.oid)), 0)::bigint,"
    " coalesce(sum(pg_stat_get_xact_tuples_updated(c.oid)), 0)::bigint,"
    " coalesce(sum(pg_stat_get_xact_tuples_deleted(c.oid)), 0)::bigint FROM pg_class c"
    " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'm') "
    "AND " USER_RELATION;

struct Relation {
    std::string name;
    int64 file;
    char kind;
};

struct Held {
    Oid relation;
    std::string mode;
    int64 pid;
    std::string json;  // the session, described
};

// What is measured around each statement.
struct State {
    std::map<Oid, Relation> relations;
    std::set<std::pair<Oid, std::string>> mine;
    std::vector<Held> others;
    int64 inserted = 0, updated = 0, deleted = 0;
};

// A session as waits_for shows it, open: the caller adds the relation (or lock) and "}".
std::string session_json(int64 pid, const std::string& user, const std::string& application,
                         const std::string& state, const std::string& query,
                         const std::string& since, const std::string& mode) {
    return "{\"pid\": " + std::to_string(pid) + ", \"user\": " + pg::json_string(user) +
           ", \"application\": " + pg::json_string(application) +
           ", \"state\": " + pg::json_string(state) + ", \"query\": " + pg::json_string(query) +
           ", \"transaction_start\": " + pg::json_string(since) +
           ", \"mode\": " + pg::json_string(mode);
}

State measure() {
    State s;
    pg::PinnedSearchPath pinned;
    pinned.enter();
    uint64 n = spi::read_now(kRelations);
    for (uint64 i = 0; i < n; i++)
        s.relations[static_cast<Oid>(spi::get_int64(i, 1))] =
            Relation{*spi::get_text(i, 2), spi::get_int64(i, 3), (*spi::get_text(i, 4))[0]};
    spi::release();
    n = spi::read_now(kMyLocks);
    for (uint64 i = 0; i < n; i++)
        s.mine.insert({static_cast<Oid>(spi::get_int64(i, 1)), *spi::get_text(i, 2)});
    spi::release();
    pg::refresh_activity();  // the sessions as they are now, not as first read in the transaction
    n = spi::read_now(kOtherLocks);
    for (uint64 i = 0; i < n; i++) {
        auto text = [&](int c) { return spi::get_text(i, c).value_or(""); };
        Held h{static_cast<Oid>(spi::get_int64(i, 1)), *spi::get_text(i, 2), spi::get_int64(i, 3),
               ""};
        h.json = session_json(h.pid, text(4), text(5), text(6), text(7), text(8), h.mode);
        s.others.push_back(std::move(h));
    }
    spi::release();
    spi::read_now(kRowCounts);
    s.inserted = spi::get_int64(0, 1);
    s.updated = spi::get_int64(0, 2);
    s.deleted = spi::get_int64(0, 3);
    spi::release();
    pinned.leave();
    return s;
}

// PostgreSQL's lock conflict table, by mode name (pg_locks.mode).
int mode_number_leaf(const char* name) {
    for (int m = 1; m <= MaxLockMode; m++)
        if (strcmp(GetLockmodeName(DEFAULT_LOCKMETHOD, m), name) == 0) return m;
    return 0;
}

bool conflicts(const std::string& a, const std::string& b) {
    return guard([&] {
        int ma = mode_number_leaf(a.c_str()), mb = mode_number_leaf(b.c_str());
        return ma > 0 && mb > 0 && DoLockModesConflict(ma, mb);
    });
}

std::string relation_name(const State& before, const State& after, Oid relid) {
    auto it = after.relations.find(relid);
    if (it != after.relations.end()) return it->second.name;
    it = before.relations.find(relid);
    return it != before.relations.end() ? it->second.name : "relation " + std::to_string(relid);
}

// What the statement did, from the states around it.
void fill(Planned& p, const State& before, const State& after, bool truncate) {
    std::string locks;
    std::set<std::string> waits;
    for (const auto& [relid, mode] : after.mine) {
        if (before.mine.count({relid, mode}) || !before.relations.count(relid)) continue;
        locks += std::string(locks.empty() ? "" : ", ") +
                 "{\"relation\": " + pg::json_string(relation_name(before, after, relid)) +
                 ", \"mode\": " + pg::json_string(mode) + "}";
        for (const auto& h : before.others)
            if (h.relation == relid && conflicts(h.mode, mode))
                waits.insert(h.json + ", \"relation\": " +
                             pg::json_string(relation_name(before, after, relid)) + "}");
    }
    p.locks = "[" + locks + "]";
    std::string w;
    for (const auto& s : waits) w += (w.empty() ? "" : ", ") + s;
    p.waits_for = "[" + w + "]";
    if (!truncate)
        for (const auto& [relid, rel] : before.relations) {
            auto it = after.relations.find(relid);
            if (rel.file != 0 && (rel.kind == 'r' || rel.kind == 'm') &&
                it != after.relations.end() && it->second.file != rel.file)
                p.rewrites.push_back(rel.name);
        }
    p.inserted = after.inserted - before.inserted;
    p.updated = after.updated - before.updated;
    p.deleted = after.deleted - before.deleted;
}

// The sessions a statement whose lock was not granted waited for, as `waits_for` describes
// them (as they were when it gave up), with the relation (or the lock) and the conflicting
// modes each held.
std::string waits_json(const lockwait::Blocked& b) {
    std::string out;
    for (const lockwait::Blocked::Holder& h : b.holders)
        out += std::string(out.empty() ? "" : ", ") +
               session_json(h.pid, h.user, h.application, h.state, h.query, h.since, h.modes) +
               (h.waiting ? ", \"waiting\": true" : "") +
               (!b.relation.empty() ? ", \"relation\": " + pg::json_string(b.relation)
                                    : ", \"lock\": " + pg::json_string(b.lock)) +
               "}";
    return "[" + out + "]";
}

std::string findings_json(const std::vector<lint::Finding>& all, int statement, const Planned& p) {
    std::string out;
    auto add = [&](const std::string& id, const std::string& rule, const std::string& severity,
                   const std::string& message, const std::string& alternative) {
        out += std::string(out.empty() ? "" : ", ") + "{\"rule_id\": " + pg::json_string(id) +
               ", \"rule\": " + pg::json_string(rule) +
               ", \"severity\": " + pg::json_string(severity) +
               ", \"message\": " + pg::json_string(message) +
               ", \"safe_alternative\": " + pg::json_string(alternative) + "}";
    };
    for (const auto& f : all)
        if (f.statement == statement)
            add(f.rule_id, f.rule, f.severity, f.message, f.safe_alternative);
    // Judged by the real counts: a data change larger than lint_warning_rows.
    int64 changed = p.updated + p.deleted;
    bool error = static_cast<double>(changed) > lint::settings::error_rows;
    if ((p.command == "UPDATE" || p.command == "DELETE") &&
        static_cast<double>(changed) > lint::settings::warning_rows)
        add(lint::rule(lint::RuleId::large_data_change).id,
            lint::rule(lint::RuleId::large_data_change).name, error ? "error" : "warning",
            p.command + " changed " + std::to_string(changed) +
                " rows, more than migrations_schema." +
                (error ? "lint_error_rows" : "lint_warning_rows"),
            "change the rows in batches (" + p.command +
                " ... WHERE id BETWEEN ...), each in its own transaction");
    return "[" + out + "]";
}

// Errors that end plan() rather than one statement's row: those that end a verify, except a lock
// not granted in time or not available (NOWAIT), which fail their statement here.
bool ends_plan(int sqlstate) {
    return sqlstate != ERRCODE_LOCK_NOT_AVAILABLE && ends_the_call(sqlstate);
}

// Runs one script statement by statement, appending a row for each; false when one failed.
bool run_script(const std::optional<std::string>& version, const std::string& who,
                const std::string& text, std::vector<Planned>& out) {
    bool ok = true;
    pg::in_scratch_context([&] {
        script::Script s = script::split(text, {version ? *version : "", "up"});
        std::vector<lint::Finding> findings;
        try {
            lint::Options options;
            options.lock_waits_bounded = true;
            findings = lint::lint(s.statements, options);
        } catch (const Error& e) {
            pg::notice("plan: " + who + " could not be linted: " + e.message);
        }
        for (size_t i = 0; i < s.statements.size(); i++) {
            const script::Statement& st = s.statements[i];
            Planned p;
            p.version = version;
            p.statement = st.number;
            p.line = st.line;
            p.command = st.command;
            p.sql = st.first_line;
            p.runs = i < s.transactional ? "in transaction" : "after commit";
            std::optional<std::string> sql = trial_sql(st);
            if (!sql) {
                p.runs = "left out";
                p.findings = findings_json(findings, st.number, p);
                out.push_back(std::move(p));
                continue;
            }
            State before = measure();
            std::optional<lockwait::Blocked> blocked;
            auto start = std::chrono::steady_clock::now();
            try {
                lockwait::run([&] { spi::execute(*sql); },
                              who + ", statement " + std::to_string(st.number));
            } catch (const lockwait::LockNotGranted& e) {
                // A lock not granted within the bound: the statement's row says what it waited
                // for (a dry run's answer), in waits_for rather than in the error's detail.
                const char* code = guard([&] { return unpack_sql_state(e.sqlstate); });
                p.error = std::string(code) + ": " + e.message;
                blocked = e.blocked;
                ok = false;
            } catch (const PgError& e) {
                if (ends_plan(e.data->sqlerrcode)) throw;
                const char* code = guard([&] { return unpack_sql_state(e.data->sqlerrcode); });
                p.error = std::string(code) + ": " + (e.data->message ? e.data->message : "");
                ok = false;
            } catch (const Error& e) {
                if (ends_plan(e.sqlstate)) throw;
                const char* code = guard([&] { return unpack_sql_state(e.sqlstate); });
                p.error = std::string(code) + ": " + e.message +
                          (e.detail.empty() ? "" : "\n" + e.detail);
                ok = false;
            }
            std::chrono::duration<double, std::milli> took =
                std::chrono::steady_clock::now() - start;
            p.duration_ms = std::round(took.count() * 1000.0) / 1000.0;
            State after = measure();
            fill(p, before, after, nodeTag(st.tree) == T_TruncateStmt);
            if (blocked) p.waits_for = waits_json(*blocked);
            p.findings = findings_json(findings, st.number, p);
            out.push_back(std::move(p));
            if (!ok) return;
        }
    });
    return ok;
}

}  // namespace

std::vector<Planned> plan(const std::optional<std::string>& to_version,
                          const std::optional<std::string>& script) {
    Trial trial("migrate.plan");
    std::vector<store::Migration> pending;
    if (!script) {
        store::Store db;
        std::optional<store::Row> target;
        if (to_version) {
            version::validate(*to_version);
            target = db.find(*to_version);
            if (!target) {
                db.close();
                throw Error(ERRCODE_UNDEFINED_OBJECT,
                            "migration version " + *to_version + " is not known", "",
                            "SELECT version FROM migrate.status() lists the known versions.");
            }
        }
        pending = db.pending(target);
        db.close();
    }
    std::vector<Planned> out;
    pg::in_discarded_subtransaction([&] {
        if (script) {
            run_script(std::nullopt, "the script", *script, out);
            return;
        }
        for (const auto& m : pending)
            if (!run_script(m.version, "migration " + label(m.version, m.name) + " up script",
                            m.up_sql, out))
                return;
    });
    trial.finish();
    return out;
}

}  // namespace ms::migrate
