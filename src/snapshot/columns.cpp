// The columns of the snapshot, read from the catalogs in C++ rather than with SQL: the relations
// from pg_class (or the ones asked for), then each one's pg_attribute rows, defaults and comments
// by index. The objects and properties are the ones the SQL of read.cpp's other kinds would
// give (docs/performance.md: in a new session, planning and running that SQL cost more than the
// deparsers it calls).
#include "snapshot/reader.hpp"

namespace ms::snapshot::detail {

namespace {

// The properties of a column, in this order.
const char* const kProps[] = {"position", "type",       "not null", "default",     "generated",
                              "identity", "collation",  "storage",  "compression", "statistics",
                              "comment",  "privileges", "options"};
enum Prop {
    kPosition,
    kType,
    kNotNull,
    kDefault,
    kGenerated,
    kIdentity,
    kCollation,
    kStorage,
    kCompression,
    kStatistics,
    kComment,
    kPrivileges,
    kOptions,
    kPropCount
};
static_assert(sizeof kProps / sizeof kProps[0] == kPropCount, "a name for every property");

// One column as the leaf reads it: palloc'd strings, nullptr for an absent property.
struct Column {
    int attnum;
    char* name;  // quoted
    char* props[kPropCount];
};

// One relation's columns (in the reader's memory context).
struct Columns {
    char* name;  // the relation's name as regclass prints it
    int count;
    Column* rows;
};

// ---- leaves (PostgreSQL calls; no C++ object)

// A relation of a kind with columns, from its pg_class row.
struct RelationRow {
    Oid oid, nsp, rowtype;
    char kind;
};

bool has_columns(char relkind) {
    return relkind != '\0' && strchr("rpfcvm", relkind) != nullptr;
}

// Every relation of a kind with columns outside pg_catalog (in the current memory context).
void relations_leaf(Rows<RelationRow>* out) {
    Relation rel = table_open(RelationRelationId, AccessShareLock);
    SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, read_snapshot(), 0, nullptr);
    HeapTuple tup;
    while (HeapTupleIsValid(tup = systable_getnext(scan))) {
        Form_pg_class c = (Form_pg_class)GETSTRUCT(tup);
        if (!has_columns(c->relkind) || c->relnamespace == PG_CATALOG_NAMESPACE) continue;
        out->add(RelationRow{c->oid, c->relnamespace, c->reltype, c->relkind});
    }
    systable_endscan(scan);
    table_close(rel, AccessShareLock);
}

// The pg_class row of one relation; false when it is gone.
bool relation_leaf(Oid relid, RelationRow* row) {
    HeapTuple tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
    if (!HeapTupleIsValid(tup)) return false;
    Form_pg_class c = (Form_pg_class)GETSTRUCT(tup);
    *row = RelationRow{relid, c->relnamespace, c->reltype, c->relkind};
    ReleaseSysCache(tup);
    return true;
}

// A column's privileges as the SQL writes them: every item as text, sorted, space-separated.
char* privileges(Datum acl_datum) {
    Acl* acl = DatumGetAclP(acl_datum);
    int n = ACL_NUM(acl);
    char** items = static_cast<char**>(palloc((n + 1) * sizeof(char*)));
    for (int i = 0; i < n; i++)
        items[i] =
            DatumGetCString(DirectFunctionCall1(aclitemout, PointerGetDatum(&ACL_DAT(acl)[i])));
    return sorted_join_leaf(items, n, " ", DEFAULT_COLLATION_OID);
}

// A column's options, sorted (a catalog column: collation "C"), without PostgreSQL's own
// pg_attver; nullptr when none is left.
char* options(Datum array) {
    Datum* elems;
    bool* nulls;
    int n;
    deconstruct_array(DatumGetArrayTypeP(array), TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls,
                      &n);
    char** items = static_cast<char**>(palloc((n + 1) * sizeof(char*)));
    int kept = 0;
    for (int i = 0; i < n; i++) {
        if (nulls[i]) continue;
        char* o = TextDatumGetCString(elems[i]);
        if (strncmp(o, "pg_attver=", 10) != 0) items[kept++] = o;
    }
    char* joined = sorted_join_leaf(items, kept, ", ", C_COLLATION_OID);
    return joined != nullptr && joined[0] != '\0' ? joined : nullptr;
}

char* char_text(char c) {
    char s[2] = {c, '\0'};
    return pstrdup(s);
}

// The schema-qualified, quoted name of a collation, or nullptr.
char* collation_name(Oid collation) {
    HeapTuple tup = SearchSysCache1(COLLOID, ObjectIdGetDatum(collation));
    if (!HeapTupleIsValid(tup)) return nullptr;
    Form_pg_collation co = (Form_pg_collation)GETSTRUCT(tup);
    char* nsp = get_namespace_name(co->collnamespace);
    char* name = nsp == nullptr ? nullptr
                                : psprintf("%s.%s", quote_identifier(nsp),
                                           quote_identifier(NameStr(co->collname)));
    ReleaseSysCache(tup);
    return name;
}

// One column from its pg_attribute row; its position, default and comment come later.
void column(HeapTuple tup, TupleDesc desc, Column* c) {
    Form_pg_attribute a = (Form_pg_attribute)GETSTRUCT(tup);
    memset(c, 0, sizeof *c);
    c->attnum = a->attnum;
    c->name = pstrdup(quote_identifier(NameStr(a->attname)));
    c->props[kType] = format_type_extended(a->atttypid, a->atttypmod,
                                           FORMAT_TYPE_TYPEMOD_GIVEN | FORMAT_TYPE_ALLOW_INVALID);
    if (a->attnotnull) c->props[kNotNull] = pstrdup("not null");
    if (a->attidentity == ATTRIBUTE_IDENTITY_ALWAYS) c->props[kIdentity] = pstrdup("always");
    if (a->attidentity == ATTRIBUTE_IDENTITY_BY_DEFAULT)
        c->props[kIdentity] = pstrdup("by default");
    HeapTuple type = SearchSysCache1(TYPEOID, ObjectIdGetDatum(a->atttypid));
    if (HeapTupleIsValid(type)) {
        Form_pg_type t = (Form_pg_type)GETSTRUCT(type);
        if (a->attcollation != t->typcollation)
            c->props[kCollation] = collation_name(a->attcollation);
        if (a->attstorage != t->typstorage) c->props[kStorage] = char_text(a->attstorage);
        ReleaseSysCache(type);
    }
    if (a->attcompression != '\0') c->props[kCompression] = char_text(a->attcompression);
    bool isnull;
    Datum d = ms_heap_getattr(tup, Anum_pg_attribute_attstattarget, desc, &isnull);
    if (!isnull && ms_attstattarget(d) >= 0)
        c->props[kStatistics] = psprintf("%d", ms_attstattarget(d));
    d = ms_heap_getattr(tup, Anum_pg_attribute_attacl, desc, &isnull);
    if (!isnull) c->props[kPrivileges] = privileges(d);
    d = ms_heap_getattr(tup, Anum_pg_attribute_attoptions, desc, &isnull);
    if (!isnull) c->props[kOptions] = options(d);
}

// attgenerated of a column without atthasdef (no default shown, as the SQL's).
constexpr char kNoDefault = '-';

// The defaults and generation expressions of a relation's columns (by_attnum: column index + 1
// of each attnum up to max, 0 for none; generated: attgenerated of each, or kNoDefault).
void defaults(Oid relid, Columns* out, const int* by_attnum, int max, const char* generated) {
    Relation rel = table_open(AttrDefaultRelationId, AccessShareLock);
    ScanKeyData key;
    ScanKeyInit(&key, Anum_pg_attrdef_adrelid, BTEqualStrategyNumber, F_OIDEQ,
                ObjectIdGetDatum(relid));
    SysScanDesc scan = systable_beginscan(rel, AttrDefaultIndexId, true, read_snapshot(), 1, &key);
    HeapTuple tup;
    while (HeapTupleIsValid(tup = systable_getnext(scan))) {
        Form_pg_attrdef ad = (Form_pg_attrdef)GETSTRUCT(tup);
        if (ad->adnum < 1 || ad->adnum > max || by_attnum[ad->adnum] == 0) continue;
        int i = by_attnum[ad->adnum] - 1;
        if (generated[i] == kNoDefault) continue;
        bool isnull;
        Datum bin = ms_heap_getattr(tup, Anum_pg_attrdef_adbin, RelationGetDescr(rel), &isnull);
        if (isnull) continue;
        // A default has no column reference: deparsed without opening the table.
        if (generated[i] == '\0')
            out->rows[i].props[kDefault] =
                call_text_leaf(pg_get_expr, bin, ObjectIdGetDatum(InvalidOid));
        if (generated[i] == ATTRIBUTE_GENERATED_STORED)
            out->rows[i].props[kGenerated] =
                call_text_leaf(pg_get_expr, bin, ObjectIdGetDatum(relid));
    }
    systable_endscan(scan);
    table_close(rel, AccessShareLock);
}

// The comments of a relation's columns (by_attnum, max: as for defaults()).
void comments(Oid relid, Columns* out, const int* by_attnum, int max) {
    Rows<CommentRow> found;
    object_comments_leaf(RelationRelationId, relid, -1, &found);
    for (const CommentRow& c : found)
        if (c.subid >= 1 && c.subid <= max && by_attnum[c.subid] != 0)
            out->rows[by_attnum[c.subid] - 1].props[kComment] = c.text;
}

// The columns of a relation the snapshot shows (`comments`: with their comments).
void columns_leaf(const RelationRow& relation, bool with_comments, Columns* out) {
    Oid relid = relation.oid;
    out->name = relation_name_leaf(relid);
    out->count = 0;
    int size = 16, max = 0;
    out->rows = static_cast<Column*>(palloc(size * sizeof(Column)));
    char* generated = static_cast<char*>(palloc(size));
    int* by_attnum = static_cast<int*>(palloc0((MaxHeapAttributeNumber + 1) * sizeof(int)));
    bool any_default = false;

    Relation rel = table_open(AttributeRelationId, AccessShareLock);
    ScanKeyData keys[2];
    ScanKeyInit(&keys[0], Anum_pg_attribute_attrelid, BTEqualStrategyNumber, F_OIDEQ,
                ObjectIdGetDatum(relid));
    ScanKeyInit(&keys[1], Anum_pg_attribute_attnum, BTGreaterStrategyNumber, F_INT2GT,
                Int16GetDatum(0));
    SysScanDesc scan =
        systable_beginscan(rel, AttributeRelidNumIndexId, true, read_snapshot(), 2, keys);
    HeapTuple tup;
    while (HeapTupleIsValid(tup = systable_getnext(scan))) {
        Form_pg_attribute a = (Form_pg_attribute)GETSTRUCT(tup);
        if (a->attisdropped || a->attnum > MaxHeapAttributeNumber) continue;
        if (out->count == size) {
            size *= 2;
            out->rows = static_cast<Column*>(repalloc(out->rows, size * sizeof(Column)));
            generated = static_cast<char*>(repalloc(generated, size));
        }
        // (the SQL joined pg_type: a column of no type is none)
        if (!SearchSysCacheExists1(TYPEOID, ObjectIdGetDatum(a->atttypid))) continue;
        int i = out->count++;
        column(tup, RelationGetDescr(rel), &out->rows[i]);
        generated[i] = a->atthasdef ? a->attgenerated : kNoDefault;
        any_default |= a->atthasdef;
        by_attnum[a->attnum] = i + 1;
        max = Max(max, (int)a->attnum);
    }
    systable_endscan(scan);
    table_close(rel, AccessShareLock);
    // The position among the columns in attnum order (the scan's order, unless the system
    // indexes are ignored).
    for (int attnum = 1, position = 1; attnum <= max; attnum++)
        if (by_attnum[attnum] != 0)
            out->rows[by_attnum[attnum] - 1].props[kPosition] = psprintf("%d", position++);
    if (any_default) defaults(relid, out, by_attnum, max, generated);
    if (with_comments) comments(relid, out, by_attnum, max);
}

const char* parent_kind(char relkind) {
    switch (relkind) {
        case RELKIND_FOREIGN_TABLE:
            return "foreign table ";
        case RELKIND_COMPOSITE_TYPE:
            return "type ";
        case RELKIND_VIEW:
            return "view ";
        case RELKIND_MATVIEW:
            return "materialized view ";
        default:
            return "table ";
    }
}

}  // namespace

void read_columns(Snapshot& out, const std::vector<Oid>* scope, Lookups& lookups) {
    // Each leaf allocates in `cxt` (switched to inside the guard: an error gives the caller's
    // context back), emptied after each relation.
    MemoryContext cxt = reader_context();
    std::vector<RelationRow> relations;
    if (scope != nullptr) {
        for (Oid relid : *scope) {
            RelationRow row;
            if (guard([&] { return relation_leaf(relid, &row); })) relations.push_back(row);
        }
    } else {
        Rows<RelationRow> rows;
        in_context(cxt, [&] { relations_leaf(&rows); });
        relations.assign(rows.items, rows.items + rows.n);
    }
    bool bulk = lookups.bulk();
    for (const RelationRow& relation : relations) {
        if (!has_columns(relation.kind) || !lookups.shown(relation.oid, relation.nsp) ||
            (relation.kind == RELKIND_COMPOSITE_TYPE &&
             lookups.member(TypeRelationId, relation.rowtype)))
            continue;
        Columns cols;
        in_context(cxt, [&] { columns_leaf(relation, !bulk, &cols); });
        std::string name = cols.name;
        std::string parent = parent_kind(relation.kind) + name;
        for (int i = 0; i < cols.count; i++) {
            const Column& c = cols.rows[i];
            Object& o = out["column " + name + "." + c.name];
            o.parent = parent;
            for (int p = 0; p < kPropCount; p++)
                if (c.props[p] != nullptr) o.props.emplace(kProps[p], c.props[p]);
            if (bulk) {
                const std::string* comment =
                    lookups.comment(RelationRelationId, relation.oid, c.attnum);
                if (comment != nullptr) o.props.emplace(kProps[kComment], *comment);
            }
        }
        guard([&] { MemoryContextReset(cxt); });
    }
    guard([&] { MemoryContextDelete(cxt); });
}

}  // namespace ms::snapshot::detail
