// pg_migrate up and down: register the folder, apply or roll back, wait for the steps after
// commit. Every decision is the database's; this sends, shows progress and reports.
#include "client/cli.hpp"

#include <chrono>
#include <cstdio>
#include <functional>
#include <map>

namespace pgm {

double seconds_since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string fmt_ms(double ms) {
    char b[32];
    if (ms < 1000)
        std::snprintf(b, sizeof b, "%.1f ms", ms);
    else
        std::snprintf(b, sizeof b, "%.2f s", ms / 1000);
    return b;
}

void progress(const Options& o, size_t i, size_t n, const std::string& what, Clock::time_point t0) {
    if (!o.progress) return;
    if (n == 0)
        std::fprintf(stderr, "\r\033[K%s  %.1f s", what.c_str(), seconds_since(t0));
    else
        std::fprintf(stderr, "\r\033[K[%zu/%zu] %s  %.1f s", i, n, what.c_str(), seconds_since(t0));
    std::fflush(stderr);
}
void progress_end(const Options& o) {
    if (o.progress) std::fprintf(stderr, "\r\033[K");
}

namespace {

std::string label(const Migration& m) {
    return m.name.empty() ? m.version : m.version + " " + m.name;
}

}  // namespace

// Migrations of the folder registered in one statement (one round trip).
std::map<std::string, int> register_all(Db& db, const Options& o, const Folder& f,
                                        const std::set<std::string>& only) {
    std::vector<Param> v, u, d, n, k;
    for (const auto& m : f.migrations) {
        if (!only.empty() && !only.count(m.version)) continue;
        v.push_back(m.version);
        u.push_back(m.up_sql);
        d.push_back(m.down_sql);
        n.push_back(m.name.empty() ? Param() : Param(m.name));
        k.push_back(o.natural_order ? Param() : m.order_key);
    }
    std::map<std::string, int> counts;
    if (v.empty()) return counts;
    Rows r = db.call_each("migrate.register", {v, u, d, n, k});
    for (int i = 0; i < r.size(); i++) counts[r.text(i, 0)]++;
    return counts;
}

namespace {

// --allow values as a text[] (NULL when none).
Param allow_array(const Options& o) {
    if (o.allow.empty()) return Param();
    return text_array(std::vector<Param>(o.allow.begin(), o.allow.end()));
}

struct Ran {
    std::string version, name, statements, ms;
    bool repeatable = false;  // version NULL: a repeatable migration, by its name
};
// The migrations that `call` (migrate.apply(...), migrate.rollback(...)) ran, as it returns them.
std::vector<Ran> ran_by(Db& db, const std::string& call, const std::vector<Param>& params,
                        const std::function<void()>& tick) {
    Rows r = db.query("SELECT version, coalesce(name, ''), statements, duration_ms FROM " + call,
                      params, tick);
    std::vector<Ran> out;
    for (int i = 0; i < r.size(); i++)
        out.push_back({r.text(i, 0), r.text(i, 1), r.text(i, 2), r.text(i, 3), !r.get(i, 0)});
    return out;
}

// After commit: the database's worker runs the steps (and what is queued behind them). Waits
// for them with CALL migrate.wait(), which commits between its polls; it also raises the error
// of a failed step, this run's or an earlier one's. Returns the versions it waited for.
std::vector<std::string> wait_for_steps(Db& db, const Options& o) {
    std::vector<std::string> busy;
    std::string list;
    for (const auto& r : db_status(db))
        if (r.state == "applying" || r.state == "queued" || r.state == "rolling back") {
            busy.push_back(r.version);
            list += (list.empty() ? "" : ", ") + r.version + " (" + r.state + ")";
        }
    if (!o.wait) {
        if (!busy.empty() && !o.quiet)
            std::fprintf(stderr, "steps run after commit in the background (--no-wait): %s\n",
                         list.c_str());
        return {};
    }
    if (!busy.empty() && !o.quiet && !o.json)
        std::fprintf(stderr, "waiting for the steps that run after commit: %s\n", list.c_str());
    Clock::time_point t0 = Clock::now();
    std::function<void()> tick;
    if (o.progress && !busy.empty()) tick = [&] { progress(o, 0, 0, "steps after commit", t0); };
    db.query("CALL migrate.wait(NULL, $1::interval)",
             {o.wait_timeout > 0 ? Param(std::to_string(o.wait_timeout) + " s") : Param()}, tick);
    progress_end(o);
    return busy;
}

void print_json(const Options& o, const std::vector<Ran>& ran, double seconds,
                const std::map<std::string, int>& reg, const std::vector<std::string>& after) {
    std::printf(
        "{\"command\":%s,\"dry_run\":%s,\"seconds\":%.3f,\"registered\":%d,\"updated\":%d,"
        "\"attached\":%d,\"migrations\":[",
        json_str(o.command).c_str(), o.dry_run ? "true" : "false", seconds,
        count_of(reg, "registered"), count_of(reg, "updated"), count_of(reg, "attached"));
    for (size_t i = 0; i < ran.size(); i++)
        std::printf(
            "%s{\"version\":%s,\"name\":%s,\"repeatable\":%s,\"statements\":%s,"
            "\"duration_ms\":%s}",
            i ? "," : "", ran[i].repeatable ? "null" : json_str(ran[i].version).c_str(),
            json_str(ran[i].name).c_str(), ran[i].repeatable ? "true" : "false",
            ran[i].statements.empty() ? "null" : ran[i].statements.c_str(),
            ran[i].ms.empty() ? "null" : ran[i].ms.c_str());
    std::printf("],\"after_commit\":[");
    for (size_t i = 0; i < after.size(); i++)
        std::printf("%s%s", i ? "," : "", json_str(after[i]).c_str());
    std::printf("]}\n");
}

void print_text(const Options& o, const char* verb, const std::vector<Ran>& ran, double seconds) {
    if (o.quiet) return;
    size_t repeatables = 0;
    for (const auto& r : ran) {
        repeatables += r.repeatable;
        std::printf("%s %s%s%s (%s statement%s, %s)\n", verb,
                    r.repeatable ? "repeatable" : r.version.c_str(), r.name.empty() ? "" : " ",
                    r.name.c_str(), r.statements.c_str(), r.statements == "1" ? "" : "s",
                    fmt_ms(std::atof(r.ms.c_str())).c_str());
    }
    size_t versioned = ran.size() - repeatables;
    std::string also = repeatables == 0   ? ""
                       : repeatables == 1 ? " and 1 repeatable"
                                          : " and " + std::to_string(repeatables) + " repeatables";
    std::printf("%s%zu migration%s%s %s in %.2f s%s\n", o.dry_run ? "dry run: " : "", versioned,
                versioned == 1 ? "" : "s", also.c_str(), verb, seconds,
                o.dry_run ? "; rolled back, nothing changed" : "");
    std::fflush(stdout);
}

// The end of a committed up or down: what was done, then the steps after commit waited for.
int finish(Db& db, const Options& o, const Folder& f, const char* verb, const std::vector<Ran>& ran,
           double seconds, const std::map<std::string, int>& reg) {
    if (!o.json) print_text(o, verb, ran, seconds);
    std::vector<std::string> after;
    if (!o.dry_run) {
        Clock::time_point t0 = Clock::now();
        try {
            after = wait_for_steps(db, o);
        } catch (const DbError& e) {
            progress_end(o);
            report_error(o, e, f);
            return kRefused;
        }
        if (!after.empty() && !o.quiet && !o.json) {
            std::string list;
            for (const auto& v : after) list += (list.empty() ? "" : ", ") + v;
            std::printf("%s after commit, in %s: %s\n", verb,
                        fmt_ms(seconds_since(t0) * 1000).c_str(), list.c_str());
        }
    }
    if (o.json) print_json(o, ran, seconds, reg, after);
    return kOk;
}

// What up and down share: the folder, the connection (checked), the clock, the result.
struct Run {
    Folder f;
    Db db;
    Clock::time_point t0;
    std::vector<Ran> ran;
    std::map<std::string, int> reg;
    explicit Run(const Options& o) : f(load_folder(o)), db(o.conninfo, o.quiet) {
        if (o.command == "up" && !f.repeatables.empty())
            check_extension(db, {"register_repeatable", "apply_repeatable"});
        else
            check_extension(db);
        t0 = Clock::now();
    }
};

// The folder's repeatable migrations, after the versioned ones: registered (so that status
// and a later migrate.apply() know them), then, without --to (they are written for the newest
// schema), each that is new or changed runs, in name order. --per-migration: each in a
// transaction of its own.
void run_repeatables(Run& run, const Options& o, const Param& allow) {
    Db& db = run.db;
    if (o.per_migration) db.exec("BEGIN");
    std::vector<Param> names, sqls;
    for (const auto& r : run.f.repeatables) names.push_back(r.name), sqls.push_back(r.sql);
    Rows reg = db.call_each("migrate.register_repeatable", {names, sqls});
    for (int i = 0; i < reg.size(); i++) run.reg[reg.text(i, 0)]++;
    if (o.per_migration) db.exec("COMMIT");
    if (o.to) return;
    std::map<std::string, size_t> ran;  // name: its place in run.ran
    for (size_t i = 0; i < run.ran.size(); i++)
        if (run.ran[i].repeatable) ran[run.ran[i].name] = i;
    std::vector<DbRow> reps;  // which are pending now: new, or their statements changed
    db_status(db, &reps);
    std::map<std::string, bool> pending;
    for (const auto& r : reps) pending[r.name] = r.state == "pending";
    for (size_t i = 0; i < run.f.repeatables.size(); i++) {
        const Repeatable& r = run.f.repeatables[i];
        // unchanged, or the database ran it with the versioned ones
        if (!pending[r.name] || ran.count(r.name)) continue;
        auto tick = [&] {
            progress(o, i + 1, run.f.repeatables.size(), "repeatable " + r.name, run.t0);
        };
        tick();
        if (o.per_migration) db.exec("BEGIN");
        Rows ok =
            db.query("SELECT migrate.apply_repeatable($1, $2, $3::text[])", {r.name, r.sql, allow},
                     o.progress ? std::function<void()>(tick) : nullptr);
        if (o.per_migration) db.exec("COMMIT");
        if (ok.text(0, 0) != "t") continue;
        ran[r.name] = run.ran.size();
        run.ran.push_back({"", r.name, "", "", true});
    }
    if (ran.empty()) return;
    // what each run did, as status() tells it
    std::vector<DbRow> done;
    db_status(db, &done);
    for (const auto& row : done) {
        auto it = ran.find(row.name);
        if (it == ran.end()) continue;
        Ran& x = run.ran[it->second];
        if (x.statements.empty()) x.statements = row.statements, x.ms = row.duration_ms;
    }
}

}  // namespace

int cmd_up(const Options& o) {
    Run run(o);
    Db& db = run.db;
    try {
        db.exec("BEGIN");
        run.reg = register_all(db, o, run.f);
        if (o.per_migration) db.exec("COMMIT");
        // The pending migrations of the folder, in its order, up to --to. A --to that is not a
        // version of the folder goes to the database as it is: it resolves it or says why not.
        std::map<std::string, std::string> state;
        for (const auto& r : db_status(db)) state[r.version] = r.state;
        std::vector<std::pair<std::string, std::string>> targets;  // to_version, label
        bool to_in_folder = false;
        for (const auto& m : run.f.migrations) {
            const std::string& s = state[m.version];
            if (s == "pending" || s == "rolled back") targets.emplace_back(m.version, label(m));
            if (o.to && m.version == *o.to) {
                to_in_folder = true;
                break;
            }
        }
        if (o.to && !to_in_folder) targets = {{*o.to, *o.to}};
        // Without a progress line to show (not a terminal) and in one transaction, one call
        // applies them all: the same order, the same transaction, less overhead.
        if (!o.progress && !o.per_migration && targets.size() > 1)
            targets.erase(targets.begin(), targets.end() - 1);
        Param allow = allow_array(o);
        for (size_t i = 0; i < targets.size(); i++) {
            auto tick = [&, i] { progress(o, i + 1, targets.size(), targets[i].second, run.t0); };
            tick();
            if (o.per_migration) db.exec("BEGIN");
            for (auto& r : ran_by(db, "migrate.apply(to_version => $1, allow => $2::text[])",
                                  {targets[i].first, allow},
                                  o.progress ? std::function<void()>(tick) : nullptr))
                run.ran.push_back(std::move(r));
            if (o.per_migration) db.exec("COMMIT");
        }
        if (!run.f.repeatables.empty()) run_repeatables(run, o, allow);
        progress_end(o);
        if (!o.per_migration) db.exec(o.dry_run ? "ROLLBACK" : "COMMIT");
    } catch (const DbError& e) {
        progress_end(o);
        report_error(o, e, run.f,
                     !o.per_migration  ? "nothing was applied (one transaction)"
                     : run.ran.empty() ? "nothing was applied"
                                       : std::to_string(run.ran.size()) +
                                             " migration(s) were applied and committed before it");
        return kRefused;
    }
    return finish(db, o, run.f, "applied", run.ran, seconds_since(run.t0), run.reg);
}

int cmd_down(const Options& o) {
    int n = 1;
    if (!o.args.empty()) {
        const std::string& a = o.args[0];
        bool digits = !a.empty() && a.size() <= 9 && a.find_first_not_of("0123456789") == a.npos;
        n = digits ? std::stoi(a) : 0;
        if (n < 1)
            throw InputError("down: N must be a whole number of migrations, at least 1 (got " + a +
                             ")");
    }
    Run run(o);
    Db& db = run.db;
    try {
        db.exec("BEGIN");
        // The folder's down scripts are the ones to run: the migrations in the schema are
        // registered again first (only those: a pending file that the database refuses, a new
        // empty one, does not stand in the way of a rollback).
        std::set<std::string> applied;
        for (const auto& r : db_status(db))
            if (in_schema(r.state)) applied.insert(r.version);
        if (!applied.empty()) run.reg = register_all(db, o, run.f, applied);
        std::string what =
            o.to ? "rolling back down to " + *o.to
                 : "rolling back " + std::to_string(n) + " migration" + (n == 1 ? "" : "s");
        std::function<void()> tick;
        if (o.progress) tick = [&] { progress(o, 0, 0, what, run.t0); };
        run.ran = ran_by(db,
                         o.to ? "migrate.rollback(to_version => $1, allow => $2::text[])"
                              : "migrate.rollback($1::integer, allow => $2::text[])",
                         {o.to ? *o.to : std::to_string(n), allow_array(o)}, tick);
        progress_end(o);
        db.exec(o.dry_run ? "ROLLBACK" : "COMMIT");
    } catch (const DbError& e) {
        progress_end(o);
        report_error(o, e, run.f, "nothing was rolled back");
        return kRefused;
    }
    return finish(db, o, run.f, "rolled back", run.ran, seconds_since(run.t0), run.reg);
}

}  // namespace pgm
