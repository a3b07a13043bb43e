// Execute. See execute.hpp.
#include "migrate/execute.hpp"

#include <chrono>
#include <cmath>

#include "audit/audit.hpp"
#include "migrate/lockwait.hpp"
#include "pg/spi.hpp"

namespace ms::migrate {

namespace {

// Error context for the statement that is running: "migration 005 (users) up script,
// statement 3, line 12: ALTER TABLE ...". Plain data: the callback runs inside errfinish.
struct StatementContext {
    const char* migration;
    const char* which;
    int number;
    int line;
    const char* first_line;
};

extern "C" void statement_context_callback(void* arg) {
    auto* c = static_cast<StatementContext*>(arg);
    errcontext("migration %s %s script, statement %d, line %d: %s", c->migration, c->which,
               c->number, c->line, c->first_line);
}

// Pushes the callback for the lifetime of the object, on every path out (the error path
// included: the stack must never point at a dead frame when the error is raised).
class ContextScope {
  public:
    explicit ContextScope(StatementContext* c) {
        cb_.callback = statement_context_callback;
        cb_.arg = c;
        cb_.previous = error_context_stack;
        error_context_stack = &cb_;
    }
    ~ContextScope() { error_context_stack = cb_.previous; }
    ContextScope(const ContextScope&) = delete;
    ContextScope& operator=(const ContextScope&) = delete;

  private:
    ErrorContextCallback cb_;
};

double round3(double ms) {
    return std::round(ms * 1000.0) / 1000.0;
}

// ALTER TYPE ... ADD VALUE
bool adds_enum_value(const script::Statement& st) {
    return nodeTag(st.tree) == T_AlterEnumStmt && ((AlterEnumStmt*)st.tree)->oldVal == nullptr;
}

}  // namespace

double execute(script::Script& s, const std::string& version, const std::string& migration,
               const char* which, safety::Check& check) {
    StatementContext ctx{migration.c_str(), which, 0, 0, ""};
    ContextScope scope(&ctx);
    audit::MigrationScope audited(version.c_str(), which);
    auto start = std::chrono::steady_clock::now();
    lockwait::Bound bound;
    bound.enter();
    check.start();
    const std::string prefix = "migration " + migration + " " + which + " script, statement ";
    bool added_value = false;
    for (size_t i = 0; i < s.transactional; i++) {
        const script::Statement& st = s.statements[i];
        ctx.number = st.number;
        ctx.line = st.line;
        ctx.first_line = st.first_line.c_str();
        check.statement(st.number, st.line);
        audited.statement(st.sql.c_str());
        try {
            lockwait::run([&] { spi::execute(st.sql); }, prefix + std::to_string(st.number));
        } catch (const PgError& e) {
            if (!added_value || e.data->sqlerrcode != ERRCODE_UNSAFE_NEW_ENUM_VALUE_USAGE) throw;
            // Rolled back with its subtransaction: run it, and what follows, after commit.
            s.steps_from(i);
            break;
        }
        added_value = added_value || adds_enum_value(st);
    }
    bound.leave();
    std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;
    check.finish();
    return round3(took.count());
}

}  // namespace ms::migrate
