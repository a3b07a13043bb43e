// L001 published-table-change (replication).
//
// Trigger: DDL on a table whose changes a publication sends to subscribers (logical
// replication): ADD / DROP COLUMN, ALTER COLUMN TYPE, SET / DROP NOT NULL, ADD / DROP
// CONSTRAINT, REPLICA IDENTITY, RENAME (of the table or a column), SET SCHEMA, DROP TABLE; and
// CREATE TABLE where a publication publishes every new table (FOR ALL TABLES, FOR TABLES IN
// SCHEMA, a partition of a table published as its partitions). DDL is not replicated:
// subscribers apply rows by schema-qualified table name and column name, to their own
// definitions, and stop replicating (the apply worker errors and retries) at a change their
// table cannot take; or they silently keep what the publisher no longer has. Each finding says
// which side changes first.
// Catalog: the publications (catalog::publications_leaf: FOR ALL TABLES, FOR TABLES IN SCHEMA,
// FOR TABLE, through a partition's ancestors, and the partitions and inheritance children an
// ALTER TABLE without ONLY reaches); REPLICA IDENTITY only when one of them publishes UPDATE
// or DELETE (nothing else uses it). A warning; an error for REPLICA IDENTITY NOTHING when a
// publication publishes UPDATE or DELETE, and for DROP CONSTRAINT of the table's replica
// identity (its primary key, or its USING INDEX index) then: UPDATE and DELETE then fail on
// this server. Nothing for a table created earlier in the script.
#include <algorithm>

#include "lint/rules/rules.hpp"

namespace ms::lint::checks {

namespace {

struct Published {
    std::vector<std::string> names;
    bool updates = false;
};

Published collect(const catalog::Publications& p) {
    Published out;
    out.updates = p.updates;
    ListCell* lc;
    foreach (lc, p.names) out.names.emplace_back(static_cast<const char*>(lfirst(lc)));
    std::sort(out.names.begin(), out.names.end());
    return out;
}

Published published(Context& ctx, RangeVar* rv) {
    if (ctx.created_here(rv)) return {};
    catalog::RelStats st = ctx.stats(rv);
    if (!st.exists) return {};
    catalog::Publications p;
    Oid relid = st.relid;
    bool recurse = rv->inh;
    guard([&] { catalog::publications_leaf(relid, recurse, &p); });
    return collect(p);
}

// "publication p" / "publications p, q"
std::string by(const Published& p) {
    std::string s = p.names.size() == 1 ? "publication " : "publications ";
    for (size_t i = 0; i < p.names.size(); i++) s += (i ? ", " : "") + p.names[i];
    return s;
}

const char* kSubscribersFirst = "subscribers first: ";
const char* kRenameAlternative =
    "no order is safe: stop writes to the table, wait until every subscriber has caught up, "
    "rename on the subscribers and here, then resume; or add the new column or table on the "
    "subscribers first, copy, and drop the old one later (here first)";

// Nothing when no publication publishes the table.
void report(Context& ctx, const Published& p, Severity severity, const std::string& what,
            const std::string& consequence, const std::string& order) {
    if (p.names.empty()) return;
    ctx.add(RuleId::published_table_change, severity,
            what + ", published by " + by(p) + ": " + consequence, order);
}

}  // namespace

void published_table_change(Context& ctx, RangeVar* rv, AlterTableCmd* cmd) {
    const char* col = cmd->name ? cmd->name : "";
    std::string on = " on " + rel_name(rv);
    std::string what, consequence, order;
    switch (cmd->subtype) {
        case AT_AddColumn: {
            auto* cd = reinterpret_cast<ColumnDef*>(cmd->def);
            what = "ADD COLUMN " + std::string(cd->colname ? cd->colname : "") + on;
            consequence =
                "subscribers apply rows by column name, and one without the column stops "
                "replicating at the table's next change";
            order = std::string(kSubscribersFirst) +
                    "add the column on every subscriber, then here (with the same default, or "
                    "the rows that exist differ)";
            break;
        }
        case AT_DropColumn:
            what = "DROP COLUMN " + std::string(col) + on;
            consequence =
                "a subscriber that drops it first stops replicating; one that keeps it gets "
                "NULL (or its default) in the rows that come";
            order =
                "here first, on the subscribers after they have caught up (until then their "
                "column must accept NULL or have a default)";
            break;
        case AT_AlterColumnType:
            what = "ALTER COLUMN " + std::string(col) + " TYPE" + on;
            consequence =
                "subscribers convert every value that comes to their own type of the column, "
                "and stop replicating at one it cannot hold";
            order =
                "a wider type (every value fits): subscribers first, then here; a narrower "
                "one: here first, the subscribers after they have caught up";
            break;
        case AT_SetNotNull:
        case AT_AddConstraint:
            if (cmd->subtype == AT_SetNotNull) {
                what = "ALTER COLUMN " + std::string(col) + " SET NOT NULL" + on;
            } else {
                auto* c = reinterpret_cast<Constraint*>(cmd->def);
                what = "ADD CONSTRAINT" + (c->conname ? " " + std::string(c->conname) : "") + on;
            }
            consequence =
                "DDL is not replicated: subscribers go on accepting what it refuses here, and "
                "one that adds it first stops replicating at a row that breaks it";
            order = "here first, on the subscribers after they have caught up";
            break;
        case AT_DropNotNull:
        case AT_DropConstraint:
            what = (cmd->subtype == AT_DropNotNull
                        ? "ALTER COLUMN " + std::string(col) + " DROP NOT NULL"
                        : "DROP CONSTRAINT " + std::string(col)) +
                   on;
            consequence =
                "a subscriber that still has it stops replicating at the first row it would "
                "refuse";
            order = std::string(kSubscribersFirst) + "drop it on every subscriber, then here";
            break;
        case AT_ReplicaIdentity: {
            auto* ri = reinterpret_cast<ReplicaIdentityStmt*>(cmd->def);
            Published p = published(ctx, rv);
            if (p.names.empty() || !p.updates) return;  // only UPDATE and DELETE use it
            if (ri->identity_type == REPLICA_IDENTITY_NOTHING) {
                report(ctx, p, Severity::error, "REPLICA IDENTITY NOTHING" + on,
                       "UPDATE and DELETE of the table fail here from then on (they are "
                       "published and need a replica identity)",
                       "keep a replica identity (a primary key, USING INDEX or FULL), or "
                       "publish only inserts: ALTER PUBLICATION ... SET (publish = 'insert')");
                return;
            }
            report(ctx, p, Severity::warning, "REPLICA IDENTITY" + on,
                   "subscribers find the rows of UPDATE and DELETE by it, and one whose own "
                   "identity columns are not among the new ones stops replicating at the next "
                   "UPDATE or DELETE",
                   std::string(kSubscribersFirst) +
                       "give every subscriber's table a replica identity (a primary key or "
                       "USING INDEX) on columns of the new one, then change it here");
            return;
        }
        default:
            return;
    }
    Published p = published(ctx, rv);
    if (p.names.empty()) return;
    Oid relid = ctx.stats(rv).relid;
    if (cmd->subtype == AT_DropConstraint && p.updates &&
        guard([&] { return catalog::replica_identity_constraint_leaf(relid, col); })) {
        report(ctx, p, Severity::error, what,
               "it is the table's replica identity: UPDATE and DELETE of the table fail here "
               "from then on (they are published and need one)",
               "give the table another replica identity first (REPLICA IDENTITY USING INDEX, or "
               "FULL), the same on the subscribers");
        return;
    }
    report(ctx, p, Severity::warning, what, consequence, order);
}

void published_table_change(Context& ctx, Node* n) {
    switch (nodeTag(n)) {
        case T_RenameStmt: {
            auto* s = reinterpret_cast<RenameStmt*>(n);
            if (s->relation == nullptr ||
                (s->renameType != OBJECT_COLUMN && s->renameType != OBJECT_TABLE))
                return;
            if (s->renameType == OBJECT_COLUMN && s->relationType != OBJECT_TABLE) return;
            Published p = published(ctx, s->relation);
            std::string what = s->renameType == OBJECT_COLUMN
                                   ? "RENAME COLUMN " + std::string(s->subname ? s->subname : "") +
                                         " on " + rel_name(s->relation)
                                   : "RENAME TABLE " + rel_name(s->relation);
            report(ctx, p, Severity::warning, what,
                   "subscribers match tables and columns by name, and stop replicating at the "
                   "table's next change whichever side renames first",
                   kRenameAlternative);
            return;
        }
        case T_AlterObjectSchemaStmt: {
            auto* s = reinterpret_cast<AlterObjectSchemaStmt*>(n);
            if (s->objectType != OBJECT_TABLE || s->relation == nullptr) return;
            report(ctx, published(ctx, s->relation), Severity::warning,
                   "SET SCHEMA " + std::string(s->newschema) + " of " + rel_name(s->relation),
                   "subscribers match tables by schema-qualified name, and stop replicating at "
                   "the table's next change whichever side moves it first",
                   kRenameAlternative);
            return;
        }
        case T_DropStmt: {
            auto* s = reinterpret_cast<DropStmt*>(n);
            if (s->removeType != OBJECT_TABLE) return;
            for (RangeVar* rv : drop_targets(s)) {
                report(ctx, published(ctx, rv), Severity::warning, "DROP TABLE " + rel_name(rv),
                       "a subscriber that drops it first stops replicating; after the drop "
                       "here the subscribers keep their copy, no longer updated",
                       "here first; then on each subscriber ALTER SUBSCRIPTION ... REFRESH "
                       "PUBLICATION, and drop it there");
            }
            return;
        }
        case T_CreateStmt: {
            auto* s = reinterpret_cast<CreateStmt*>(n);
            RangeVar* rv = s->relation;
            if (rv->relpersistence != RELPERSISTENCE_PERMANENT || s->ofTypename != nullptr) return;
            Oid parent = InvalidOid;
            if (s->partbound != nullptr && s->inhRelations != NIL) {
                catalog::RelStats st = ctx.stats(static_cast<RangeVar*>(linitial(s->inhRelations)));
                if (!st.exists) return;  // a parent the script creates: judged by its own CREATE
                parent = st.relid;
            }
            catalog::Publications raw;
            guard([&] {
                catalog::new_table_publications_leaf(catalog::creation_namespace_leaf(rv), parent,
                                                     &raw);
            });
            report(ctx, collect(raw), Severity::warning, "CREATE TABLE " + rel_name(rv),
                   "the new table is published at once, and a subscriber without it stops "
                   "replicating at its first row",
                   std::string(kSubscribersFirst) +
                       "create the table on every subscriber, then here, then ALTER "
                       "SUBSCRIPTION ... REFRESH PUBLICATION on each");
            return;
        }
        default:
            return;
    }
}

}  // namespace ms::lint::checks
