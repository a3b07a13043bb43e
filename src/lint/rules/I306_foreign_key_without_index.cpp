// I306 foreign-key-without-index (index).
//
// Trigger: a foreign key the script adds (CREATE TABLE or ALTER TABLE, table-level or inline)
// whose referencing columns are not the leading columns (in any order) of an index: every
// DELETE of a referenced row, and every update of its key, then scans the referencing table.
// Catalog: the existing table's valid, non-partial indexes (pg_index, read without locking the
// table). Indexes the script creates count too, also when created after the foreign key
// (CREATE INDEX without WHERE, PRIMARY KEY, UNIQUE): the verdict waits for the end of the
// script, and the finding belongs to the statement that added the foreign key.
#include "lint/rules/rules.hpp"

namespace ms::lint::checks {

void foreign_key_without_index(Context& ctx, const ForeignKey& fk) {
    std::vector<std::string> cols;
    ListCell* lc;
    foreach (lc, fk.constraint->fk_attrs) cols.push_back(strVal(lfirst(lc)));
    if (cols.empty() && fk.column != nullptr) cols.push_back(fk.column);
    if (cols.empty()) return;
    if (ctx.script_index_covers(fk.table, cols)) return;
    if (!ctx.created_here(fk.table)) {
        catalog::RelStats s = ctx.stats(fk.table);
        if (s.exists) {
            std::vector<AttrNumber> nums;
            for (const auto& col : cols) {
                catalog::ColumnInfo ci;
                Oid relid = s.relid;
                const char* name = col.c_str();
                guard([&] { catalog::column_leaf(relid, name, &ci); });
                if (!ci.exists) return;
                nums.push_back(ci.attnum);
            }
            Oid relid = s.relid;
            const AttrNumber* attnums = nums.data();
            int n = static_cast<int>(nums.size());
            if (guard([&] { return catalog::has_leading_index_leaf(relid, attnums, n); })) return;
        }
    }
    ctx.pending_foreign_keys.push_back({ctx.current, fk.table, cols, ctx.about(fk.table)});
}

void foreign_key_without_index(Context& ctx) {
    for (const auto& p : ctx.pending_foreign_keys) {
        if (ctx.script_index_covers(p.table, p.cols)) continue;
        std::string list;
        for (const auto& col : p.cols) list += (list.empty() ? "" : ", ") + col;
        ctx.add_at(p.at, p.about, RuleId::foreign_key_without_index, Severity::warning,
                   "foreign key (" + list + ") on " + rel_name(p.table) +
                       " has no index starting with those columns: deletes and key updates in "
                       "the referenced table scan it",
                   "CREATE INDEX CONCURRENTLY ON " + rel_name(p.table) + " (" + list + ")");
    }
}

}  // namespace ms::lint::checks
