// Y703 prefer-text (type).
//
// Trigger: a column of type varchar(n) (with a length) or char(n) (bpchar). Changing a varchar
// limit later may rewrite the table (shortening always does, see R104); char(n) pads with
// blanks. Info.
// Catalog: none (the type as written).
#include "lint/rules/rules.hpp"

#include <cstring>

namespace ms::lint::checks {

void prefer_text(Context& ctx, ColumnDef* cd, bool) {
    const char* t = type_name(cd);
    std::string col = cd->colname ? cd->colname : "?";
    if (strcmp(t, "varchar") == 0 && cd->typeName->typmods != NIL)
        ctx.add(RuleId::prefer_text, Severity::info,
                "column " + col + " is varchar(n): changing the limit later rewrites the table",
                "text with CHECK (length(" + col + ") <= n)");
    if (strcmp(t, "bpchar") == 0)
        ctx.add(RuleId::prefer_text, Severity::info, "column " + col + " is char(n) (blank-padded)",
                "text");
}

}  // namespace ms::lint::checks
