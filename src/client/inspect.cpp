// pg_migrate verify, plan and schema: the folder registered in a transaction that is always
// rolled back, then migrate.verify() or migrate.plan(); migrate.schema(). The database runs
// and judges; this sends, shows and sets the exit status.
#include "client/cli.hpp"

#include <cstdio>
#include <functional>
#include <map>

namespace pgm {

namespace {

// "t"/"f"/NULL of a boolean column as JSON.
std::string json_bool(const Param& b) {
    return !b ? "null" : *b == "t" ? "true" : "false";
}

// A json, jsonb or number column as it is (its text is JSON), NULL as null.
std::string json_raw(const Param& j) {
    return j ? *j : "null";
}

// The lines of `s` after the first indented by `indent` (a multi-line value under its line).
std::string indented(const std::string& s, const std::string& indent) {
    std::string out;
    for (char c : s) out += c == '\n' ? "\n" + indent : std::string(1, c);
    return out;
}

// Until released: the progress line ended and the transaction rolled back, on every way out
// (a C++ exception too). A ROLLBACK that fails (the connection is gone) changes nothing: the
// server rolls back an open transaction when its connection closes.
class RollbackGuard {
  public:
    RollbackGuard(Db& db, const Options& o) : db_(db), o_(o) {}
    ~RollbackGuard() {
        progress_end(o_);
        try {
            db_.exec("ROLLBACK");
        } catch (...) {
        }
    }
    RollbackGuard(const RollbackGuard&) = delete;
    RollbackGuard& operator=(const RollbackGuard&) = delete;

  private:
    Db& db_;
    const Options& o_;
};

// The folder registered (the migrations in `only` when given) in a transaction that stays
// open, then `sql` with `params`, then ROLLBACK whatever happened: nothing remains. A
// database error is reported and gives std::nullopt.
std::optional<Rows> in_rolled_back(Db& db, const Options& o, const Folder& f,
                                   const std::string& sql, const std::vector<Param>& params,
                                   const std::string& what,
                                   const std::function<std::set<std::string>(Db&)>& only = {}) {
    Clock::time_point t0 = Clock::now();
    std::optional<DbError> failed;
    {
        RollbackGuard guard(db, o);
        try {
            db.exec("BEGIN");
            std::set<std::string> versions;
            if (only) versions = only(db);
            if (!only || !versions.empty()) register_all(db, o, f, versions);
            std::function<void()> tick;
            if (o.progress) tick = [&] { progress(o, 0, 0, what, t0); };
            return db.query(sql, params, tick);
        } catch (const DbError& e) {
            failed = e;
        }
    }
    // (reported after the ROLLBACK, which the guard sent leaving the block)
    report_error(o, *failed, f, "nothing changed (rolled back)");
    return std::nullopt;
}

std::map<std::string, const Migration*> by_version(const Folder& f) {
    std::map<std::string, const Migration*> out;
    for (const auto& m : f.migrations) out[m.version] = &m;
    return out;
}

// The columns of migrate.verify(), numbered (i), with one row per difference (check, object,
// property, before, after: NULL when there is none).
constexpr const char* kVerify =
    "SELECT v.i, v.version, v.name, v.reversible, v.rerunnable, v.differences, v.error, "
    "x.d->>'check', x.d->>'object', x.d->>'property', x.d->>'before', x.d->>'after' "
    "FROM migrate.verify($1::text, $2::boolean) WITH ORDINALITY "
    "AS v(version, name, reversible, rerunnable, differences, error, i) "
    "LEFT JOIN LATERAL pg_catalog.jsonb_array_elements(CASE pg_catalog.jsonb_typeof("
    "v.differences) WHEN 'array' THEN v.differences END) WITH ORDINALITY AS x(d, j) ON true "
    "ORDER BY v.i, x.j";

// The columns of migrate.plan(), then its JSON arrays as text: the locks ("relation MODE,
// ..."), the rewrites, the findings and the sessions waited for (a line each).
constexpr const char* kPlan =
    "SELECT p.version, p.statement, p.line, p.command, p.sql, p.runs, p.duration_ms, p.locks, "
    "pg_catalog.to_jsonb(p.rewrites), p.rows_inserted, p.rows_updated, p.rows_deleted, "
    "p.findings, p.waits_for, p.error, "
    "(SELECT pg_catalog.string_agg(pg_catalog.concat_ws(' ', l->>'relation', l->>'mode'), ', ' "
    "ORDER BY k) "
    "FROM pg_catalog.jsonb_array_elements(p.locks) WITH ORDINALITY AS y(l, k)), "
    "pg_catalog.array_to_string(p.rewrites, ', '), "
    "(SELECT pg_catalog.string_agg(pg_catalog.concat_ws(' ', x->>'severity', x->>'rule_id', "
    "x->>'rule') "
    "|| ': ' || coalesce(x->>'message', ''), E'\\n' ORDER BY k) "
    "FROM pg_catalog.jsonb_array_elements(p.findings) WITH ORDINALITY AS y(x, k)), "
    "(SELECT pg_catalog.string_agg(pg_catalog.format('pid %s (%s, %s, %s since %s) %s %s on "
    "%s: %s', w->>'pid', w->>'user', w->>'application', w->>'state', w->>'transaction_start', "
    "CASE WHEN w ? 'waiting' THEN 'queued for' ELSE 'holds' END, "
    "w->>'mode', coalesce(w->>'relation', w->>'lock'), w->>'query'), E'\\n' ORDER BY k) "
    "FROM pg_catalog.jsonb_array_elements(p.waits_for) WITH ORDINALITY AS y(w, k)) "
    "FROM migrate.plan($1::text) AS p";

// What a statement of a plan did (row i of kPlan), a line each: its locks, the tables it
// rewrote, the rows it changed, its findings, the sessions it would wait for.
void print_effects(const Rows& r, int i) {
    if (!r.text(i, 15).empty()) std::printf("    locks: %s\n", r.text(i, 15).c_str());
    if (!r.text(i, 16).empty()) std::printf("    rewrites: %s\n", r.text(i, 16).c_str());
    if (r.text(i, 9) != "0" || r.text(i, 10) != "0" || r.text(i, 11) != "0")
        std::printf("    rows: %s inserted, %s updated, %s deleted\n", r.text(i, 9).c_str(),
                    r.text(i, 10).c_str(), r.text(i, 11).c_str());
    if (r.get(i, 17)) std::printf("    %s\n", indented(r.text(i, 17), "    ").c_str());
    if (r.get(i, 18))
        std::printf("    waits for %s\n", indented(r.text(i, 18), "    waits for ").c_str());
}

// The folder and the connection, with the function the command calls.
struct Trial {
    Folder f;
    Db db;
    Trial(const Options& o, const char* calls) : f(load_folder(o)), db(o.conninfo, o.quiet) {
        check_extension(db, {calls});
    }
};

}  // namespace

int cmd_verify(const Options& o) {
    Trial t(o, "verify");
    Param version = o.args.empty() ? Param() : Param(o.args[0]);
    // --applied: the migrations in the schema registered again (their down scripts are the
    // folder's, as for down); otherwise the whole folder, as up registers it
    std::function<std::set<std::string>(Db&)> only;
    if (o.applied)
        only = [](Db& d) {
            std::set<std::string> applied;
            for (const auto& r : db_status(d))
                if (in_schema(r.state)) applied.insert(r.version);
            return applied;
        };
    std::optional<Rows> r =
        in_rolled_back(t.db, o, t.f, kVerify, {version, o.applied ? "t" : "f"}, "verifying", only);
    if (!r) return kRefused;
    std::map<std::string, const Migration*> files = by_version(t.f);
    int migrations = 0, problems = 0;
    if (o.json)
        std::printf("{\"command\":\"verify\",\"migration\":%s,\"applied\":%s,\"migrations\":[",
                    json_opt(version).c_str(), o.applied ? "true" : "false");
    for (int i = 0; i < r->size();) {
        const std::string n = r->text(i, 0);
        const Param name = r->get(i, 2), reversible = r->get(i, 3), rerunnable = r->get(i, 4),
                    error = r->get(i, 6);
        const std::string v = r->text(i, 1);
        auto file = files.find(v);
        bool problem = reversible != Param("t") || rerunnable == Param("f") || error;
        problems += problem;
        if (o.json) {
            std::printf(
                "%s{\"version\":%s,\"name\":%s,\"file\":%s,\"reversible\":%s,"
                "\"rerunnable\":%s,\"differences\":%s,\"error\":%s,\"problem\":%s}",
                migrations ? "," : "", json_str(v).c_str(), json_opt(name).c_str(),
                file == files.end() ? "null" : json_str(file->second->up_path).c_str(),
                json_bool(reversible).c_str(), json_bool(rerunnable).c_str(),
                json_raw(r->get(i, 5)).c_str(), json_opt(error).c_str(),
                problem ? "true" : "false");
        } else if (!o.quiet || problem) {
            std::string verdict = !reversible          ? "not verified"
                                  : *reversible == "t" ? "reversible"
                                                       : "not reversible";
            if (rerunnable) verdict += *rerunnable == "t" ? ", rerunnable" : ", not rerunnable";
            std::printf("%-20s %-30s %s%s%s\n", v.c_str(), verdict.c_str(),
                        name.value_or("").c_str(), error ? "  -- " : "",
                        error ? indented(*error, "    ").c_str() : "");
        }
        migrations++;
        // its differences: one row each (none: one row with NULLs)
        for (; i < r->size() && r->text(i, 0) == n; i++) {
            if (o.json || (o.quiet && !problem) || !r->get(i, 7)) continue;
            std::printf("    %s: %s %s: %s -> %s\n", r->text(i, 7).c_str(), r->text(i, 8).c_str(),
                        r->text(i, 9).c_str(),
                        indented(r->get(i, 10).value_or("(none)"), "      ").c_str(),
                        indented(r->get(i, 11).value_or("(none)"), "      ").c_str());
        }
    }
    if (o.json)
        std::printf("],\"problems\":%d}\n", problems);
    else if (!o.quiet)
        std::printf("%d migration%s verified, %d with a problem; rolled back, nothing changed\n",
                    migrations, migrations == 1 ? "" : "s", problems);
    return problems ? kRefused : kOk;
}

int cmd_plan(const Options& o) {
    Trial t(o, "plan");
    std::optional<Rows> r = in_rolled_back(t.db, o, t.f, kPlan, {o.to}, "planning");
    if (!r) return kRefused;
    std::map<std::string, const Migration*> files = by_version(t.f);
    int errors = 0;
    double ms = 0;
    std::set<std::string> versions;
    if (o.json)
        std::printf("{\"command\":\"plan\",\"to\":%s,\"statements\":[", json_opt(o.to).c_str());
    for (int i = 0; i < r->size(); i++) {
        const Param version = r->get(i, 0), error = r->get(i, 14);
        errors += error.has_value();
        ms += std::atof(r->text(i, 6).c_str());
        if (version) versions.insert(*version);
        // the statement's line in the file, as lint counts it
        auto m = version ? files.find(*version) : files.end();
        int line = std::atoi(r->text(i, 2).c_str());
        std::string file;
        if (m != files.end())
            file = m->second->up_path, line += m->second->up_line - 1;
        else
            file = version ? "migration " + *version : "script";
        if (o.json) {
            std::printf(
                "%s{\"version\":%s,\"file\":%s,\"file_line\":%d,\"statement\":%s,\"line\":%s,"
                "\"command\":%s,\"sql\":%s,\"runs\":%s,\"duration_ms\":%s,\"locks\":%s,"
                "\"rewrites\":%s,\"rows_inserted\":%s,\"rows_updated\":%s,\"rows_deleted\":%s,"
                "\"findings\":%s,\"waits_for\":%s,\"error\":%s}",
                i ? "," : "", json_opt(version).c_str(), json_str(file).c_str(), line,
                json_raw(r->get(i, 1)).c_str(), json_raw(r->get(i, 2)).c_str(),
                json_str(r->text(i, 3)).c_str(), json_str(r->text(i, 4)).c_str(),
                json_str(r->text(i, 5)).c_str(), json_raw(r->get(i, 6)).c_str(),
                json_raw(r->get(i, 7)).c_str(), json_raw(r->get(i, 8)).c_str(),
                json_raw(r->get(i, 9)).c_str(), json_raw(r->get(i, 10)).c_str(),
                json_raw(r->get(i, 11)).c_str(), json_raw(r->get(i, 12)).c_str(),
                json_raw(r->get(i, 13)).c_str(), json_opt(error).c_str());
            continue;
        }
        if (o.quiet && !error) continue;
        const std::string runs = r->text(i, 5);
        std::printf("%s:%d: %s (%s%s)\n", file.c_str(), line, r->text(i, 3).c_str(),
                    runs == "in transaction" ? "" : (runs + ", ").c_str(),
                    fmt_ms(std::atof(r->text(i, 6).c_str())).c_str());
        if (!o.quiet) print_effects(*r, i);
        if (error) std::printf("    error: %s\n", indented(*error, "    ").c_str());
        // (with --quiet too: whom a statement whose lock was not granted waited for)
        if (o.quiet && error && r->get(i, 18))
            std::printf("    waits for %s\n", indented(r->text(i, 18), "    waits for ").c_str());
    }
    if (o.json)
        std::printf("],\"errors\":%d}\n", errors);
    else if (!o.quiet)
        std::printf(
            "%d statement%s of %zu migration%s planned in %s%s; rolled back, nothing changed\n",
            r->size(), r->size() == 1 ? "" : "s", versions.size(), versions.size() == 1 ? "" : "s",
            fmt_ms(ms).c_str(), errors ? ", stopped at an error" : "");
    return errors ? kRefused : kOk;
}

int cmd_schema(const Options& o) {
    Db db(o.conninfo, o.quiet);
    check_extension(db, {"schema"});
    const std::string s = db.query("SELECT migrate.schema()").text(0, 0);
    if (o.json)
        std::printf("{\"schema\":%s}\n", json_str(s).c_str());
    else
        std::fputs(s.c_str(), stdout);
    return kOk;
}

}  // namespace pgm
