// The constraints and indexes of the snapshot, read from the catalogs in C++ rather than with
// SQL (as columns.cpp): pg_constraint and pg_index, whole or for the relations asked for, then
// PostgreSQL's deparsers (pg_get_constraintdef, pg_get_indexdef) called directly. The objects
// and properties are the ones the SQL of read.cpp's other kinds would give.
#include "snapshot/reader.hpp"

#include <algorithm>

namespace ms::snapshot::detail {

namespace {

// ---- constraints

// A constraint row as pg_constraint has it (a candidate: not yet filtered).
struct ConstraintRow {
    Oid oid, rel, type, nsp;
    NameData name;
    bool validated, deferrable, deferred;
};

// The constraints of `scope`'s relations (or every constraint when scope is null) that are
// neither a partition's copy of its parent's nor a NOT NULL constraint (the "not null" property
// of its column or domain), into `out`.
void constraint_rows_leaf(const Oid* scope, int nscope, Rows<ConstraintRow>* out) {
    Relation rel = table_open(ConstraintRelationId, AccessShareLock);
    for (int s = 0; s < (scope ? nscope : 1); s++) {
        SysScanDesc scan = scan_leaf(rel, ConstraintRelidTypidNameIndexId,
                                     Anum_pg_constraint_conrelid, scope ? scope[s] : InvalidOid);
        HeapTuple tup;
        while (HeapTupleIsValid(tup = systable_getnext(scan))) {
            Form_pg_constraint k = (Form_pg_constraint)GETSTRUCT(tup);
            // NOT NULL constraints (contype 'n': domains since 17, columns since 18) are the
            // "not null" property of the column or domain, as on 15; their generated names are
            // not compared.
            if (k->conparentid != InvalidOid || k->contype == 'n') continue;
            if (scope != nullptr && k->conrelid == InvalidOid) continue;
            out->add(ConstraintRow{k->oid, k->conrelid, k->contypid, k->connamespace, k->conname,
                                   k->convalidated, k->condeferrable, k->condeferred});
        }
        systable_endscan(scan);
    }
    table_close(rel, AccessShareLock);
}

// What the snapshot shows of one constraint (nullptr: absent).
struct ConstraintText {
    char* owner;  // the table's name as regclass prints it, or the domain's as regtype does
    char* parent_kind;
    char* name;  // quoted
    char* base;  // quoted, the name without the number PostgreSQL appended, or nullptr
    char* definition;
    char* validated;
    char* deferrable;
    char* comment;
};

// False when its table or its domain is gone. `with_comment`: probe its comment. (Its own
// fields come from the row read with the read's snapshot; the deparser, the names of its table
// or domain, as PostgreSQL's deparsers always do, from the latest catalog rows.)
bool constraint_leaf(const ConstraintRow& row, bool with_comment, ConstraintText* out) {
    memset(out, 0, sizeof *out);
    char* owner_name = nullptr;
    if (row.rel != InvalidOid) {
        char kind = get_rel_relkind(row.rel);
        owner_name = get_rel_name(row.rel);
        if (owner_name == nullptr) return false;
        out->owner = relation_name_leaf(row.rel);
        out->parent_kind = pstrdup(kind == RELKIND_FOREIGN_TABLE ? "foreign table " : "table ");
    } else {
        HeapTuple t = SearchSysCache1(TYPEOID, ObjectIdGetDatum(row.type));
        if (!HeapTupleIsValid(t)) return false;
        owner_name = pstrdup(NameStr(((Form_pg_type)GETSTRUCT(t))->typname));
        ReleaseSysCache(t);
        out->owner = DatumGetCString(DirectFunctionCall1(regtypeout, ObjectIdGetDatum(row.type)));
        out->parent_kind = pstrdup("domain ");
    }
    out->name = pstrdup(quote_identifier(NameStr(row.name)));
    char* base = generated_base_leaf(NameStr(row.name), owner_name);
    if (base != nullptr) out->base = pstrdup(quote_identifier(base));
    if (!row.validated) out->validated = pstrdup("not valid");
    if (row.deferrable)
        out->deferrable = pstrdup(row.deferred ? "initially deferred" : "initially immediate");
    out->definition = call_text_leaf(pg_get_constraintdef, ObjectIdGetDatum(row.oid));
    if (with_comment) out->comment = comment_leaf(ConstraintRelationId, row.oid, 0);
    return true;
}

// ---- indexes

struct IndexRow {
    Oid index, table;
    bool unique, valid, clustered, replident;
};

void index_rows_leaf(const Oid* scope, int nscope, Rows<IndexRow>* out) {
    Relation rel = table_open(IndexRelationId, AccessShareLock);
    for (int s = 0; s < (scope ? nscope : 1); s++) {
        SysScanDesc scan = scan_leaf(rel, IndexIndrelidIndexId, Anum_pg_index_indrelid,
                                     scope ? scope[s] : InvalidOid);
        HeapTuple tup;
        while (HeapTupleIsValid(tup = systable_getnext(scan))) {
            Form_pg_index x = (Form_pg_index)GETSTRUCT(tup);
            out->add(IndexRow{x->indexrelid, x->indrelid, x->indisunique, x->indisvalid,
                              x->indisclustered, x->indisreplident});
        }
        systable_endscan(scan);
    }
    table_close(rel, AccessShareLock);
}

struct IndexText {
    char* name;  // schema-qualified, quoted
    char* base;  // schema-qualified, quoted, or nullptr
    char* parent;
    char* definition;
    char* tablespace;
    char* comment;
};

// False when the index or its table is gone. `constraint`: whether it is a constraint's (which
// shows its definition); `with_comment`: probe its comment.
bool index_leaf(const IndexRow& row, char table_kind, bool constraint, bool with_comment,
                IndexText* out) {
    HeapTuple tup = SearchSysCache1(RELOID, ObjectIdGetDatum(row.index));
    if (!HeapTupleIsValid(tup)) return false;
    Form_pg_class i = (Form_pg_class)GETSTRUCT(tup);
    memset(out, 0, sizeof *out);
    char* nsp = get_namespace_name(i->relnamespace);
    char* table = get_rel_name(row.table);
    if (nsp == nullptr || table == nullptr) {
        ReleaseSysCache(tup);
        return false;
    }
    const char* qnsp = quote_identifier(nsp);
    char* index_name = pstrdup(NameStr(i->relname));
    Oid spc = i->reltablespace;
    ReleaseSysCache(tup);
    out->name = psprintf("%s.%s", qnsp, quote_identifier(index_name));
    char* base = generated_base_leaf(index_name, table);
    if (base != nullptr) out->base = psprintf("%s.%s", qnsp, quote_identifier(base));
    out->parent = psprintf("%s%s", table_kind == RELKIND_MATVIEW ? "materialized view " : "table ",
                           relation_name_leaf(row.table));
    if (!constraint) {
        // The definition after "CREATE [UNIQUE] INDEX <name> ".
        char* def = call_text_leaf(pg_get_indexdef, ObjectIdGetDatum(row.index));
        if (def != nullptr) {
            size_t skip = strlen(row.unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ") +
                          strlen(quote_identifier(index_name)) + 1;
            out->definition = pstrdup(strlen(def) > skip ? def + skip : "");
        }
    }
    out->tablespace = tablespace_leaf(spc);
    if (with_comment) out->comment = comment_leaf(RelationRelationId, row.index, 0);
    return true;
}

// ---- rows into the snapshot

struct Row {
    std::string key, parent, base;  // base: "" for none
    std::vector<std::pair<const char*, std::string>> props;
};

void prop(Row& r, const char* name, const char* value) {
    if (value != nullptr) r.props.emplace_back(name, value);
}

// As read_into(): in key order (as the SQL's ORDER BY 1: bytes, the collation "C" of the name
// the key ends with), a generated name with a number appended takes its base when `rekey` and
// the base is free; the bases go to `bases`.
void add_rows(Snapshot& out, std::vector<Row>& rows, bool rekey, std::set<std::string>* bases) {
    bool any_base = false;
    for (const Row& r : rows) any_base |= !r.base.empty();
    // The order only matters to the rows of a base.
    if (any_base && rekey)
        std::sort(rows.begin(), rows.end(),
                  [](const Row& a, const Row& b) { return a.key < b.key; });
    for (Row& r : rows) {
        std::string key = r.key;
        if (!r.base.empty() && bases != nullptr) bases->insert(r.base);
        if (rekey && !r.base.empty() && out.find(r.base) == out.end()) key = r.base;
        Object& o = out[key];
        if (!r.parent.empty()) o.parent = r.parent;
        for (const auto& [name, value] : r.props) o.props.emplace(name, value);
    }
}

}  // namespace

void read_constraints(Snapshot& out, const std::vector<Oid>* scope, bool rekey,
                      std::set<std::string>* bases, Lookups& lookups) {
    MemoryContext cxt = reader_context();
    std::vector<ConstraintRow> candidates =
        candidate_rows<ConstraintRow>(cxt, scope, constraint_rows_leaf);
    bool bulk = lookups.bulk();
    std::vector<Row> rows;
    for (const ConstraintRow& c : candidates) {
        if (!lookups.user_namespace(c.nsp) ||
            (c.rel != InvalidOid && !lookups.shown(c.rel, c.nsp)) ||
            (c.rel == InvalidOid && lookups.member(TypeRelationId, c.type)))
            continue;
        ConstraintText t;
        bool shown = in_context(cxt, [&] { return constraint_leaf(c, !bulk, &t); });
        if (!shown) continue;
        Row r;
        std::string owner = t.owner;
        r.key = "constraint " + owner + "." + t.name;
        r.parent = t.parent_kind + owner;
        if (t.base != nullptr) r.base = "constraint " + owner + "." + t.base;
        prop(r, "definition", t.definition);
        prop(r, "validated", t.validated);
        prop(r, "deferrable", t.deferrable);
        const std::string* comment =
            bulk ? lookups.comment(ConstraintRelationId, c.oid, 0) : nullptr;
        prop(r, "comment", comment ? comment->c_str() : t.comment);
        rows.push_back(std::move(r));
        guard([&] { MemoryContextReset(cxt); });
    }
    add_rows(out, rows, rekey, bases);
    guard([&] { MemoryContextDelete(cxt); });
}

void read_indexes(Snapshot& out, const std::vector<Oid>* scope, bool rekey,
                  std::set<std::string>* bases, Lookups& lookups) {
    MemoryContext cxt = reader_context();
    std::vector<IndexRow> candidates = candidate_rows<IndexRow>(cxt, scope, index_rows_leaf);
    bool bulk = lookups.bulk();
    std::vector<Row> rows;
    for (const IndexRow& x : candidates) {
        char kind = guard([&] { return relkind_leaf(x.table); });
        if ((kind != RELKIND_RELATION && kind != RELKIND_PARTITIONED_TABLE &&
             kind != RELKIND_MATVIEW) ||
            !lookups.shown(x.table))
            continue;
        const std::string* constraint = lookups.index_constraint(x.table, x.index);
        IndexText t;
        bool shown =
            in_context(cxt, [&] { return index_leaf(x, kind, constraint != nullptr, !bulk, &t); });
        if (!shown) continue;
        Row r;
        r.key = std::string("index ") + t.name;
        r.parent = t.parent;
        if (t.base != nullptr) r.base = std::string("index ") + t.base;
        prop(r, "definition", t.definition);
        prop(r, "unique", x.unique ? "unique" : nullptr);
        prop(r, "constraint", constraint ? constraint->c_str() : nullptr);
        prop(r, "valid", x.valid ? nullptr : "invalid");
        prop(r, "cluster", x.clustered ? "clustered" : nullptr);
        prop(r, "replica identity", x.replident ? "replica identity" : nullptr);
        prop(r, "tablespace", t.tablespace);
        const std::string* comment =
            bulk ? lookups.comment(RelationRelationId, x.index, 0) : nullptr;
        prop(r, "comment", comment ? comment->c_str() : t.comment);
        rows.push_back(std::move(r));
        guard([&] { MemoryContextReset(cxt); });
    }
    add_rows(out, rows, rekey, bases);
    guard([&] { MemoryContextDelete(cxt); });
}

}  // namespace ms::snapshot::detail
