// Helpers of the snapshot's C++ readers. See reader.hpp.
#include "snapshot/reader.hpp"

#include <optional>

#include "pg/scope.hpp"

namespace ms::snapshot::detail {

namespace {

// The snapshot of the current read (Lookups), registered: the transaction's, as the SQL of the
// other kinds reads with (a REPEATABLE READ transaction sees the catalogs as of its start).
::Snapshot current_read = nullptr;

int compare_text(const void* a, const void* b, void* collation) {
    const char* x = *static_cast<char* const*>(a);
    const char* y = *static_cast<char* const*>(b);
    return varstr_cmp(x, strlen(x), y, strlen(y), *static_cast<Oid*>(collation));
}

}  // namespace

MemoryContext reader_context() {
    return guard([] {
        return AllocSetContextCreate(CurrentMemoryContext, "snapshot reader",
                                     ALLOCSET_DEFAULT_SIZES);
    });
}

::Snapshot read_snapshot() {
    return current_read;
}

SysScanDesc scan_leaf(Relation rel, Oid index, AttrNumber column, Oid value) {
    if (value == InvalidOid)
        return systable_beginscan(rel, InvalidOid, false, read_snapshot(), 0, nullptr);
    ScanKeyData key;
    ScanKeyInit(&key, column, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(value));
    return systable_beginscan(rel, index, true, read_snapshot(), 1, &key);
}

bool user_namespace_leaf(Oid nsp, Oid own) {
    if (nsp == own || own == InvalidOid) return false;
    char* name = get_namespace_name(nsp);
    if (name == nullptr) return false;
    bool user = strcmp(name, "pg_catalog") != 0 && strcmp(name, "information_schema") != 0 &&
                strncmp(name, "pg_toast", 8) != 0 && strncmp(name, "pg_temp_", 8) != 0;
    pfree(name);
    return user;
}

bool in_extension_leaf(Oid classid, Oid objid) {
    Relation rel = table_open(DependRelationId, AccessShareLock);
    ScanKeyData keys[3];
    ScanKeyInit(&keys[0], Anum_pg_depend_classid, BTEqualStrategyNumber, F_OIDEQ,
                ObjectIdGetDatum(classid));
    ScanKeyInit(&keys[1], Anum_pg_depend_objid, BTEqualStrategyNumber, F_OIDEQ,
                ObjectIdGetDatum(objid));
    ScanKeyInit(&keys[2], Anum_pg_depend_objsubid, BTEqualStrategyNumber, F_INT4EQ,
                Int32GetDatum(0));
    SysScanDesc scan =
        systable_beginscan(rel, DependDependerIndexId, true, read_snapshot(), 3, keys);
    bool member = false;
    HeapTuple tup;
    while (!member && HeapTupleIsValid(tup = systable_getnext(scan)))
        member = ((Form_pg_depend)GETSTRUCT(tup))->deptype == DEPENDENCY_EXTENSION;
    systable_endscan(scan);
    table_close(rel, AccessShareLock);
    return member;
}

void object_comments_leaf(Oid classid, Oid objid, int subid, Rows<CommentRow>* out) {
    Relation rel = table_open(DescriptionRelationId, AccessShareLock);
    ScanKeyData keys[3];
    ScanKeyInit(&keys[0], Anum_pg_description_objoid, BTEqualStrategyNumber, F_OIDEQ,
                ObjectIdGetDatum(objid));
    ScanKeyInit(&keys[1], Anum_pg_description_classoid, BTEqualStrategyNumber, F_OIDEQ,
                ObjectIdGetDatum(classid));
    ScanKeyInit(&keys[2], Anum_pg_description_objsubid, BTEqualStrategyNumber, F_INT4EQ,
                Int32GetDatum(subid));
    SysScanDesc scan = systable_beginscan(rel, DescriptionObjIndexId, true, read_snapshot(),
                                          subid < 0 ? 2 : 3, keys);
    HeapTuple tup;
    while (HeapTupleIsValid(tup = systable_getnext(scan))) {
        bool isnull;
        Datum value =
            ms_heap_getattr(tup, Anum_pg_description_description, RelationGetDescr(rel), &isnull);
        if (isnull) continue;
        int sub = ((Form_pg_description)GETSTRUCT(tup))->objsubid;
        out->add(CommentRow{classid, objid, sub, TextDatumGetCString(value)});
    }
    systable_endscan(scan);
    table_close(rel, AccessShareLock);
}

char* comment_leaf(Oid classid, Oid objid, int subid) {
    Rows<CommentRow> found;
    object_comments_leaf(classid, objid, subid, &found);
    return found.n > 0 ? found.items[0].text : nullptr;
}

char* sorted_join_leaf(char** items, int n, const char* sep, Oid collation) {
    if (n == 0) return nullptr;
    qsort_arg(items, n, sizeof(char*), compare_text, &collation);
    StringInfoData s;
    initStringInfo(&s);
    for (int i = 0; i < n; i++) {
        if (i > 0) appendStringInfoString(&s, sep);
        appendStringInfoString(&s, items[i]);
    }
    return s.data;
}

char relkind_leaf(Oid rel, Oid* table) {
    char kind = get_rel_relkind(rel);
    if (table == nullptr) return kind;
    *table = InvalidOid;
    if (kind == RELKIND_INDEX || kind == RELKIND_PARTITIONED_INDEX)
        *table = IndexGetRelation(rel, true);
    return kind;
}

char* relation_name_leaf(Oid relid) {
    return DatumGetCString(DirectFunctionCall1(regclassout, ObjectIdGetDatum(relid)));
}

char* tablespace_leaf(Oid spc) {
    if (spc == InvalidOid) return nullptr;
    char* name = get_tablespace_name(spc);
    return name == nullptr ? nullptr : pstrdup(quote_identifier(name));
}

char* generated_base_leaf(const char* name, const char* table) {
    size_t len = strlen(name), tlen = strlen(table);
    auto digit = [](char c) { return c >= '0' && c <= '9'; };
    if (len == 0 || !digit(name[len - 1])) return nullptr;
    while (len > 0 && digit(name[len - 1])) len--;
    static const char* const kSuffixes[] = {"_pkey", "_key", "_fkey",    "_check",
                                            "_excl", "_idx", "_not_null"};
    bool generated = false;
    for (const char* suffix : kSuffixes) {
        size_t slen = strlen(suffix);
        if (len >= slen && strncmp(name + len - slen, suffix, slen) == 0) generated = true;
    }
    if (!generated || strncmp(name, table, tlen) != 0 || name[tlen] != '_') return nullptr;
    return pnstrdup(name, len);
}

// ---- Lookups

namespace {

struct MemberRow {
    Oid classid, objid;
};

struct IndexConstraintRow {
    Oid index;
    char* name;  // quoted
};

// Every comment of a relation, column or constraint (pg_description, one scan).
void comments_leaf(Rows<CommentRow>* out) {
    Relation rel = table_open(DescriptionRelationId, AccessShareLock);
    SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, read_snapshot(), 0, nullptr);
    HeapTuple tup;
    while (HeapTupleIsValid(tup = systable_getnext(scan))) {
        Form_pg_description d = (Form_pg_description)GETSTRUCT(tup);
        if (d->classoid != RelationRelationId && d->classoid != ConstraintRelationId) continue;
        bool isnull;
        Datum value =
            ms_heap_getattr(tup, Anum_pg_description_description, RelationGetDescr(rel), &isnull);
        if (isnull) continue;
        out->add(CommentRow{d->classoid, d->objoid, d->objsubid, TextDatumGetCString(value)});
    }
    systable_endscan(scan);
    table_close(rel, AccessShareLock);
}

// Every relation and type that is a member of an extension (pg_depend, one scan).
void members_leaf(Rows<MemberRow>* out) {
    Relation rel = table_open(DependRelationId, AccessShareLock);
    SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, read_snapshot(), 0, nullptr);
    HeapTuple tup;
    while (HeapTupleIsValid(tup = systable_getnext(scan))) {
        Form_pg_depend d = (Form_pg_depend)GETSTRUCT(tup);
        if (d->deptype != DEPENDENCY_EXTENSION || d->objsubid != 0 ||
            (d->classid != RelationRelationId && d->classid != TypeRelationId))
            continue;
        out->add(MemberRow{d->classid, d->objid});
    }
    systable_endscan(scan);
    table_close(rel, AccessShareLock);
}

// The primary key, unique and exclusion constraints with their index: of `table`, or of every
// table (InvalidOid).
void index_constraints_leaf(Oid table, Rows<IndexConstraintRow>* out) {
    Relation rel = table_open(ConstraintRelationId, AccessShareLock);
    SysScanDesc scan =
        scan_leaf(rel, ConstraintRelidTypidNameIndexId, Anum_pg_constraint_conrelid, table);
    HeapTuple tup;
    while (HeapTupleIsValid(tup = systable_getnext(scan))) {
        Form_pg_constraint k = (Form_pg_constraint)GETSTRUCT(tup);
        if (k->conindid == InvalidOid || k->conrelid == InvalidOid ||
            (k->contype != CONSTRAINT_PRIMARY && k->contype != CONSTRAINT_UNIQUE &&
             k->contype != CONSTRAINT_EXCLUSION))
            continue;
        out->add(IndexConstraintRow{k->conindid, pstrdup(quote_identifier(NameStr(k->conname)))});
    }
    systable_endscan(scan);
    table_close(rel, AccessShareLock);
}

Oid relation_namespace_leaf(Oid relid) {
    HeapTuple tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
    if (!HeapTupleIsValid(tup)) return InvalidOid;
    Oid nsp = ((Form_pg_class)GETSTRUCT(tup))->relnamespace;
    ReleaseSysCache(tup);
    return nsp;
}

// Runs `leaf` in a memory context of its own, deleted after `use` has read what it left.
template <typename Leaf, typename Use>
void scratch(Leaf&& leaf, Use&& use) {
    MemoryContext cxt = reader_context();
    in_context(cxt, leaf);
    use();
    guard([&] { MemoryContextDelete(cxt); });
}

}  // namespace

std::uint64_t Lookups::key(Oid classid, Oid objid, int subid) {
    unsigned kind = classid == RelationRelationId ? 0 : 1;  // or pg_constraint, pg_type
    return (std::uint64_t)objid << 32 | (std::uint32_t)subid << 1 | kind;
}

Lookups::Lookups(bool bulk) : bulk_(bulk) {
    if (std::optional<pg::InstalledExtension> ext = pg::installed_extension()) own_ = ext->schema;
    previous_ = current_read;
    snapshot_ = guard([] { return RegisterSnapshot(GetTransactionSnapshot()); });
    current_read = snapshot_;
    if (!bulk) return;
    try {
        Rows<CommentRow> comments;
        scratch([&] { comments_leaf(&comments); },
                [&] {
                    for (const CommentRow& c : comments)
                        comments_.emplace(key(c.classid, c.objid, c.subid), c.text);
                });
        Rows<MemberRow> members;
        scratch([&] { members_leaf(&members); },
                [&] {
                    for (const MemberRow& m : members) members_.insert(key(m.classid, m.objid, 0));
                });
        read_index_constraints(InvalidOid);
    } catch (...) {
        current_read = previous_;  // (no destructor runs for a constructor that throws)
        throw;
    }
}

void Lookups::finish() {
    ::Snapshot snapshot = snapshot_;
    snapshot_ = nullptr;
    current_read = previous_;
    if (snapshot != nullptr) guard([&] { UnregisterSnapshot(snapshot); });
}

Lookups::~Lookups() {
    if (snapshot_ != nullptr) current_read = previous_;
}

bool Lookups::member(Oid classid, Oid objid) {
    if (bulk_) return members_.count(key(classid, objid, 0)) > 0;
    return guard([&] { return in_extension_leaf(classid, objid); });
}

bool Lookups::shown(Oid relid, Oid nsp) {
    auto it = shown_.find(relid);
    if (it != shown_.end()) return it->second;
    if (nsp == InvalidOid) nsp = guard([&] { return relation_namespace_leaf(relid); });
    bool shown = nsp != InvalidOid && user_namespace(nsp) && !member(RelationRelationId, relid);
    shown_.emplace(relid, shown);
    return shown;
}

bool Lookups::user_namespace(Oid nsp) {
    auto it = namespaces_.find(nsp);
    if (it != namespaces_.end()) return it->second;
    Oid own = own_;
    bool user = guard([&] { return user_namespace_leaf(nsp, own); });
    namespaces_.emplace(nsp, user);
    return user;
}

const std::string* Lookups::comment(Oid classid, Oid objid, int subid) const {
    auto it = comments_.find(key(classid, objid, subid));
    return it == comments_.end() ? nullptr : &it->second;
}

void Lookups::read_index_constraints(Oid table) {
    Rows<IndexConstraintRow> constraints;
    scratch([&] { index_constraints_leaf(table, &constraints); },
            [&] {
                for (const IndexConstraintRow& c : constraints)
                    index_constraints_.emplace(c.index, c.name);
            });
}

const std::string* Lookups::index_constraint(Oid table, Oid index) {
    if (!bulk_ && tables_read_.insert(table).second) read_index_constraints(table);
    auto it = index_constraints_.find(index);
    return it == index_constraints_.end() ? nullptr : &it->second;
}

}  // namespace ms::snapshot::detail
