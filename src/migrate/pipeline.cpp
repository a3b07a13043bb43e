// The migration pipeline. See pipeline.hpp.
#include "migrate/pipeline.hpp"

#include "migrate/execute.hpp"
#include "migrate/lockwait.hpp"
#include "migrate/queue.hpp"
#include "migrate/verify.hpp"
#include "pg/report.hpp"
#include "pg/spi.hpp"
#include "safety/check.hpp"

namespace ms::migrate {

namespace {

const char* which(Direction dir) {
    return dir == Direction::up ? "up" : "down";
}

// An SPI level for one migration of a call: what the migration allocates lives in its own SPI
// memory and is freed with it. Finished on the success path (an error's abort releases it).
class SpiLevel {
  public:
    SpiLevel() { spi::connect(); }
    void finish() { spi::finish(); }
};

// Splits a script; an up script must hold at least one statement.
// `who` is the migration's label: its version and name.
script::Script split_script(const std::string& who, const std::string& text, Direction dir) {
    script::Script s = script::split(text, {who, which(dir)});
    if (dir == Direction::up && s.statements.empty())
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE,
                    "migration " + who + " up script contains no statements",
                    "The script is empty or holds only white space, comments, or BEGIN/COMMIT.",
                    "A migration needs at least one statement.");
    return s;
}

std::vector<safety::Override> directives(const std::string& who, const std::string& text,
                                         Direction dir) {
    return safety::directive_overrides(text, who, which(dir), standard_conforming_strings);
}

// The search_path in effect (recorded with queued work).
std::string search_path() {
    return guard([] { return GetConfigOption("search_path", false, false); });
}

// A SET (or RESET) a later step must see again: session-level, and not the role (steps run as
// the role that applied the migration).
bool replayed_setting(const script::Statement& st) {
    if (nodeTag(st.tree) != T_VariableSetStmt) return false;
    auto* v = (VariableSetStmt*)st.tree;
    if (v->is_local || v->name == nullptr) return false;
    return strcmp(v->name, "role") != 0 && strcmp(v->name, "session_authorization") != 0;
}

std::vector<script::Statement> part(const script::Script& s, size_t first, size_t count) {
    return std::vector<script::Statement>(s.statements.begin() + first,
                                          s.statements.begin() + first + count);
}

}  // namespace

std::string label(const std::string& version, const std::optional<std::string>& name) {
    return name ? version + " (" + *name + ")" : version;
}

std::optional<std::string> check_script(const std::string& who, const std::string& text,
                                        Direction dir) {
    std::optional<std::string> first_step;
    pg::in_scratch_context([&] {
        script::Script s = split_script(who, text, dir);
        if (!s.steps.empty()) {
            const script::Statement& st = s.statements[s.transactional];
            first_step =
                std::string(st.outside_transaction ? st.outside_transaction
                                                   : "a statement that runs after commit") +
                " (statement " + std::to_string(st.number) + ", line " + std::to_string(st.line) +
                ")";
        }
        directives(who, text, dir);
    });
    return first_step;
}

// The check runs in a subtransaction so that a PostgreSQL error from the parser is cleanly
// rolled back.
void warn_if_down_unusable(const std::string& who, const std::optional<std::string>& down) {
    if (!down) return;
    std::string problem, detail;
    try {
        pg::in_subtransaction([&] { check_script(who, *down, Direction::down); });
    } catch (const PgError& e) {
        problem = e.data->message ? e.data->message : "error";
        detail = e.data->context ? e.data->context : "";
    } catch (const Error& e) {
        problem = e.message;
        detail = e.detail;
    }
    if (!problem.empty())
        pg::warning("the down script of migration " + who + " cannot be run: " + problem, detail,
                    "The migration is accepted; rolling it back will fail until its down script "
                    "is fixed (register it again with the same up script and a fixed down "
                    "script).");
}

Pipeline::Pipeline(Direction dir, const Allow& allow, std::string by)
    : dir_(dir),
      which_(which(dir)),
      arguments_(safety::argument_overrides(allow)),
      by_(std::move(by)) {
    lockwait::Settings lock = lockwait::current();
    context_.run_as = by_;
    context_.search_path = search_path();
    context_.lock_timeout = lock.timeout_ms;
    context_.lock_retries = lock.retries;
    context_.lock_retry_delay = lock.retry_delay_ms;
    for (const auto& a : allow)
        if (a) context_.allow.push_back(*a);
}

const std::string& Pipeline::text_of(const store::Migration& m) const {
    return dir_ == Direction::up ? m.up_sql : *m.down_sql;
}

script::Script Pipeline::split(const store::Migration& m) const {
    return split_script(label(m.version, m.name), text_of(m), dir_);
}

void Pipeline::prepare(const store::Migration& m, bool keep) {
    Prepared p;
    if (keep) {
        p.script = split(m);
    } else {
        pg::in_scratch_context([&] { split(m); });
    }
    p.directives = directives(label(m.version, m.name), text_of(m), dir_);
    prepared_.push_back(std::move(p));
}

Ran Pipeline::run(const store::Migration& m, bool out_of_order, bool store_scripts) {
    Prepared& p = prepared_.at(next_++);
    SpiLevel level;
    Ran ran;
    {
        std::optional<script::Script> again;
        if (!p.script) again = split(m);  // in this migration's SPI memory, freed with it
        script::Script& s = p.script ? *p.script : *again;
        std::string migration =
            repeatables_ ? "repeatable " + m.name.value_or(m.version) : label(m.version, m.name);
        safety::Check check(migration, m.version, which_, &arguments_, std::move(p.directives));
        bool had_steps = !s.steps.empty();
        check.lint(had_steps ? part(s, 0, s.transactional) : s.statements);
        std::optional<Verdict> verdict;
        if (verify_ && dir_ == Direction::up && !repeatables_) {
            verdict = verify_next(m);
            // An up script that fails is not a verdict: running it raises its own error.
            if (verdict->up_failed)
                verdict.reset();
            else if (!verdict->reversible.value_or(false))
                check.irreversible(verdict->summary());
        }
        TimestampTz at = pg::now();
        double ms = execute(s, m.version, migration, which_, check);
        // Each step is judged on its own, on the catalog the transactional part left.
        for (const auto& step : s.steps) check.lint(part(s, step.first, step.count));
        int n = static_cast<int>(s.statements.size());
        bool steps = !s.steps.empty();
        store::Outcome o{dir_ == Direction::up ? "apply" : "rollback",
                         at,
                         by_,
                         ms,
                         n,
                         dir_ == Direction::up && out_of_order,
                         check.findings_json(),
                         check.overrides_json()};
        store::Store db;
        if (repeatables_) {
            o.action = "repeatable";
            store::Repeatable r;
            r.name = m.name.value_or(m.version);
            r.checksum = m.checksum;
            db.repeatable_ran(r, o);
            db.close();
            level.finish();
            return Ran{m.version, r.name, n, ms, true};
        }
        int64 seq = db.add_history(m.version, m.name, m.checksum, o);
        if (dir_ == Direction::up)
            db.mark_applied(m, seq, o, store_scripts, steps ? "applying" : "applied");
        else if (steps)
            db.set_state(m.version, "rolling back");
        else
            db.mark_rolled_back(m.version);
        if (verdict) db.set_verified(m.version, verdict->json());
        db.close();
        if (steps) queue_steps(m, s);
        ran = Ran{m.version, m.name, n, ms};
    }
    level.finish();
    return ran;
}

void Pipeline::queue_steps(const store::Migration& m, const script::Script& s) {
    store::Store db;
    int64 seq = queue_seq_ ? *queue_seq_ : db.next_queue_seq();
    int position = 0;
    for (const auto& step : s.steps) {
        store::StepToQueue q;
        for (size_t i = 0; i < step.first; i++)
            if (replayed_setting(s.statements[i])) q.settings.push_back(s.statements[i].sql);
        for (size_t i = step.first; i < step.first + step.count; i++) {
            q.statements.push_back(s.statements[i].sql);
            q.numbers.push_back(s.statements[i].number);
            q.lines.push_back(s.statements[i].line);
        }
        db.queue_step(seq, ++position, m.version, which_, q, context_);
    }
    db.close();
    pg::notice("migration " + label(m.version, m.name) + " " + which_ +
                   " script: " + std::to_string(s.steps.size()) +
                   (s.steps.size() == 1 ? " step runs" : " steps run") +
                   " after this transaction commits, from statement " +
                   std::to_string(s.statements[s.transactional].number) + " (line " +
                   std::to_string(s.statements[s.transactional].line) + ")",
               "SELECT * FROM migrate.status() shows their progress; CALL migrate.wait() waits "
               "for them.");
    queued_ = true;
    queue::request_worker();
}

void Pipeline::queue(const store::Migration& m, bool store_scripts) {
    next_++;
    store::Store db;
    if (store_scripts) db.save_pending(m);
    // The entry carries the script it runs: a down script registered again while the migration
    // waits in the queue does not change what this rollback runs.
    store::StepToQueue whole;
    whole.statements.push_back(text_of(m));
    db.queue_step(db.next_queue_seq(), 0, m.version, which_, whole, context_);
    db.set_state(m.version, "queued");
    db.close();
    queued_ = true;
    queue::request_worker();
}

void Pipeline::finish() {
    safety::report_unmatched_arguments(arguments_);
}

}  // namespace ms::migrate
