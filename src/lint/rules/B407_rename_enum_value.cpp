// B407 rename-enum-value (breaking).
//
// Trigger: ALTER TYPE ... RENAME VALUE 'old' TO 'new' (an AlterEnumStmt with oldVal): every
// client and stored query that uses the old label breaks. ADD VALUE is not judged.
// Catalog: none.
#include "lint/rules/rules.hpp"

namespace ms::lint::checks {

void rename_enum_value(Context& ctx, Node* n) {
    if (!IsA(n, AlterEnumStmt)) return;
    auto* s = reinterpret_cast<AlterEnumStmt*>(n);
    if (s->oldVal == nullptr) return;
    ctx.add(RuleId::rename_enum_value, Severity::warning,
            "renaming enum value '" + std::string(s->oldVal) + "' to '" + s->newVal +
                "' breaks every client and stored query that uses the old value",
            "add the new value, migrate the data and the clients, stop using the old one");
}

}  // namespace ms::lint::checks
