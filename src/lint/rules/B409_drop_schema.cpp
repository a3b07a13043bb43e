// B409 drop-schema (breaking).
// Alias: it had the id B402 (with drop-table) before it got its own; an override naming B402
// still allows it (rules.def: alias).
//
// Trigger: DROP SCHEMA: a warning; with CASCADE an error, since it drops every object in the
// schema, data included.
// Catalog: none.
#include "lint/rules/rules.hpp"

namespace ms::lint::checks {

void drop_schema(Context& ctx, Node* n) {
    if (!IsA(n, DropStmt)) return;
    auto* s = reinterpret_cast<DropStmt*>(n);
    if (s->removeType != OBJECT_SCHEMA) return;
    bool cascade = s->behavior == DROP_CASCADE;
    ctx.add(RuleId::drop_schema, cascade ? Severity::error : Severity::warning,
            std::string("DROP SCHEMA") +
                (cascade ? " ... CASCADE drops every object in it" : " drops the schema"),
            "drop its objects explicitly, one migration at a time");
}

}  // namespace ms::lint::checks
