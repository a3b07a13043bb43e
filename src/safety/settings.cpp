// The safety settings and the registration of the rewrite guard. See check.hpp.
#include "safety/settings.hpp"

#include "audit/audit.hpp"

namespace ms::safety {

bool enforce = true;
int max_rewrite_kb = 102400;  // 100 MB
Check* running = nullptr;
bool verify = false;

bool verify_by_default() {
    return verify;
}

void init() noexcept {
    DefineCustomBoolVariable(
        "migrations_schema.lint_enforce",
        "Lints every migration script before apply or rollback runs it.",
        "Error-level findings refuse the migration unless an override allows their rule; "
        "warnings are raised as NOTICEs and stored with the migration. Superusers only.",
        &enforce, true, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "migrations_schema.max_rewrite_size",
        "Largest table (with its TOAST and indexes) a migration may rewrite without an override.",
        "-1: no limit. A larger table's rewrite is stopped at the table_rewrite event unless the "
        "migration allows large-table-rewrite. Superusers only.",
        &max_rewrite_kb, 102400, -1, INT_MAX, PGC_SUSET, GUC_UNIT_KB, nullptr, nullptr, nullptr);
    DefineCustomBoolVariable(
        "migrations_schema.verify",
        "apply() verifies each migration before it runs it (the default of its verify argument).",
        "In a subtransaction that is rolled back, the up script, the down script and the up script "
        "again run; a migration whose down script does not restore the schema is refused unless "
        "it allows irreversible-migration.",
        &verify, false, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    audit::observe_rewrites(guard_rewrite);
}

}  // namespace ms::safety
