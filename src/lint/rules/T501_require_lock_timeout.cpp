// T501 require-lock-timeout (transaction).
//
// Trigger: a statement that takes a strong lock (what Context::lock_rule is called for: every
// ALTER TABLE of an existing table, the size-dependent rules, RENAME, TRUNCATE) on an existing
// table not created earlier in the script, with no lock_timeout in effect: neither set
// (and not to 0) by an earlier SET [LOCAL] lock_timeout of the script, nor in the session.
// Behind a long-running query the lock request would wait, and every later query on the table
// would queue behind it. Reported once per script, for the first such statement.
// migrate.lint only: apply bounds every lock wait itself (migrations_schema.lock_timeout), so
// lint there runs with Options::lock_waits_bounded and T501 never fires.
// Catalog: the session's lock_timeout; whether the table exists.
// Not removed when the script drops the table later (Context::drop_moot_findings): the DROP
// waits for the same lock.
#include "lint/rules/rules.hpp"

#include <cstdlib>
#include <cstring>

namespace ms::lint::checks {

namespace {

// SET lock_timeout = 0 (or '0', '0s', ...) means no timeout.
bool zero_value(List* args) {
    if (args == NIL || !IsA(linitial(args), A_Const)) return false;
    A_Const* c = static_cast<A_Const*>(linitial(args));
    if (c->isnull) return false;
    if (IsA(&c->val, Integer)) return intVal(&c->val) == 0;
    if (IsA(&c->val, String)) return strtod(strVal(&c->val), nullptr) == 0;
    return false;
}

}  // namespace

void require_lock_timeout(Context& ctx, Node* n) {
    if (!IsA(n, VariableSetStmt)) return;
    auto* s = reinterpret_cast<VariableSetStmt*>(n);
    if (s->name && strcmp(s->name, "lock_timeout") == 0)
        ctx.lock_timeout_set = s->kind == VAR_SET_VALUE && !zero_value(s->args);
}

void require_lock_timeout(Context& ctx, RangeVar* rv) {
    if (ctx.lock_waits_bounded || ctx.lock_timeout_set || ctx.lock_timeout_reported ||
        ctx.created_here(rv))
        return;
    if (guard([] { return catalog::lock_timeout_set_leaf(); })) return;
    if (!ctx.stats(rv).exists) return;
    ctx.lock_timeout_reported = true;
    // About the script, not the table: a later DROP of the table does not make it moot (the
    // DROP takes the same lock).
    ctx.add_at(
        ctx.current, {}, RuleId::require_lock_timeout, Severity::warning,
        "statement locks " + rel_name(rv) +
            " with no lock_timeout set: behind a long query it would queue every other query "
            "on the table",
        "SET LOCAL lock_timeout = '2s' before the first DDL, and retry on timeout");
}

}  // namespace ms::lint::checks
