// Y702 prefer-bigint-key (type).
//
// Trigger: a primary key column (inline PRIMARY KEY, or named by the table's PRIMARY KEY (...)
// in CREATE TABLE) of type integer, smallint, serial or smallserial: once the keys run out,
// widening it rewrites the table and every table that references it. Info.
// Catalog: none (the type as written).
#include "lint/rules/rules.hpp"

#include <cstring>

namespace ms::lint::checks {

void prefer_bigint_key(Context& ctx, ColumnDef* cd, bool is_key) {
    const char* t = type_name(cd);
    if (!is_key ||
        !(strcmp(t, "int4") == 0 || strcmp(t, "int2") == 0 || strcmp(t, "serial") == 0 ||
          strcmp(t, "serial4") == 0 || strcmp(t, "smallserial") == 0 || strcmp(t, "serial2") == 0))
        return;
    ctx.add(RuleId::prefer_bigint_key, Severity::info,
            "key column " + std::string(cd->colname ? cd->colname : "?") +
                " is a 32-bit (or smaller) integer: widening it later rewrites the table and its "
                "referencing tables",
            "bigint GENERATED ALWAYS AS IDENTITY");
}

}  // namespace ms::lint::checks
