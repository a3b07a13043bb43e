// R104 alter-column-type-rewrite (rewrite).
//
// Trigger: ALTER TABLE ... ALTER COLUMN ... TYPE (AT_AlterColumnType) on an existing table,
// unless the new type needs no rewrite: the same type with the same or no type modifier, a
// longer varchar / more precise time, timestamp, interval or varbit, a numeric of the same
// scale and at least the same precision, or a type the column's type is binary coercible to
// (varchar to text) with no modifier and no USING. Otherwise PostgreSQL rewrites the table and
// rebuilds its indexes under ACCESS EXCLUSIVE.
// Catalog: the column's actual type and modifier (pg_attribute), the target type
// (LookupTypeName), IsBinaryCoercible; the severity grows with the table's rows.
#include "lint/rules/rules.hpp"

namespace ms::lint::checks {

namespace {

// Whether changing a column of type (from, from_mod) to (to, to_mod) rewrites the table.
bool rewrites(Oid from, int32 from_mod, Oid to, int32 to_mod) {
    if (from == to) {
        if (to_mod == -1 || to_mod == from_mod) return false;
        if (from_mod != -1 && (to == VARCHAROID || to == TIMESTAMPOID || to == TIMESTAMPTZOID ||
                               to == TIMEOID || to == INTERVALOID || to == VARBITOID))
            return to_mod < from_mod;
        if (from_mod != -1 && to == NUMERICOID) {
            int32 fp = ((from_mod - VARHDRSZ) >> 16) & 0xffff, fs = (from_mod - VARHDRSZ) & 0xffff;
            int32 tp = ((to_mod - VARHDRSZ) >> 16) & 0xffff, ts = (to_mod - VARHDRSZ) & 0xffff;
            return !(ts == fs && tp >= fp);
        }
        return true;
    }
    if (to_mod == -1) return !guard([&] { return catalog::binary_coercible_leaf(from, to); });
    return true;
}

}  // namespace

void alter_column_type_rewrite(Context& ctx, RangeVar* rv, AlterTableCmd* cmd) {
    if (cmd->subtype != AT_AlterColumnType) return;
    if (ctx.created_here(rv)) return;
    catalog::RelStats s{};
    Severity sev = ctx.sized(rv, &s);
    if (sev == Severity::none) return;
    ColumnDef* cd = reinterpret_cast<ColumnDef*>(cmd->def);
    catalog::ColumnInfo ci;
    Oid relid = s.relid;
    const char* col = cmd->name;
    guard([&] { catalog::column_leaf(relid, col, &ci); });
    Oid to = InvalidOid;
    int32 to_mod = -1;
    TypeName* tn = cd->typeName;
    bool known = guard([&] { return catalog::type_leaf(tn, &to, &to_mod); });
    // An unknown column or type, or a USING expression: assume a rewrite.
    if (ci.exists && known && cd->raw_default == nullptr &&
        !rewrites(ci.type, ci.typmod, to, to_mod))
        return;
    ctx.add(RuleId::alter_column_type_rewrite, sev,
            "ALTER COLUMN " + std::string(cmd->name) + " TYPE is not binary coercible from its " +
                "current type: it rewrites " + ctx.size_note(rv) +
                " and rebuilds its indexes under an ACCESS EXCLUSIVE lock",
            "a new column, a trigger keeping both in sync, a batched backfill, then a swap");
    ctx.lock_rule(rv);
}

}  // namespace ms::lint::checks
