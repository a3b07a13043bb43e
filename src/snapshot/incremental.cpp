// The incremental snapshot of verify(): after a script, only the relations whose catalog rows
// it wrote are read again, and the snapshot before it is patched. The catalogs' write counters
// say which catalogs a script wrote; the rows of the relations' catalogs whose xmin or xmax is
// one of the script's transaction ids name the relations; whatever cannot be attributed to one
// relation, renames and generated names with a number appended mean a full read. See
// snapshot.hpp and docs/performance.md ("Incremental snapshots in verify").
#include <algorithm>

#include "pg/scope.hpp"
#include "pg/spi.hpp"
#include "snapshot/internal.hpp"
#include "snapshot/reader.hpp"

namespace ms::snapshot {

namespace {

bool incremental_on = true;

// ---- leaves (PostgreSQL calls; trivial locals only)

TransactionId next_xid_leaf() {
    return XidFromFullTransactionId(ReadNextFullTransactionId());
}

// The write counters of n catalogs into out[] (ms_xact_tuples_written(), compat.hpp), in a
// memory context of its own: since 16 find_tabstat_entry() pallocs a copy at every call.
void writes_leaf(const Oid* catalogs, size_t n, int64* out) {
    MemoryContext tmp =
        AllocSetContextCreate(CurrentMemoryContext, "ms snapshot counters", ALLOCSET_SMALL_SIZES);
    MemoryContext old = MemoryContextSwitchTo(tmp);
    for (size_t i = 0; i < n; i++) out[i] = ms_xact_tuples_written(catalogs[i]);
    MemoryContextSwitchTo(old);
    MemoryContextDelete(tmp);
}

bool counting_leaf() {
    return pgstat_track_counts;
}

// A transaction id of the current transaction (a subtransaction not rolled back) given out at
// or after the mark.
bool mine(TransactionId xid, TransactionId mark) {
    return TransactionIdIsNormal(xid) && TransactionIdFollowsOrEquals(xid, mark) &&
           TransactionIdIsCurrentTransactionId(xid);
}

// A row the script inserted, updated (either version) or deleted. A multixact xmax is taken as
// written (a lock or an update: only more relations read again).
bool written(HeapTupleHeader h, TransactionId mark) {
    if (mine(HeapTupleHeaderGetRawXmin(h), mark)) return true;
    if (h->t_infomask & HEAP_XMAX_INVALID) return false;
    if (h->t_infomask & HEAP_XMAX_IS_MULTI) return true;
    return mine(HeapTupleHeaderGetRawXmax(h), mark);
}

// One written row: its catalog and the OIDs that say whose it is (see describe_leaf).
struct Row {
    Oid catalog, a, b, c, d;
    char k;
    NameData name;
};
struct Rows {
    Row* items;
    int n, cap;
};

void describe_leaf(Oid catalog, HeapTuple tup, Row* r) {
    void* s = GETSTRUCT(tup);
    memset(r, 0, sizeof *r);
    r->catalog = catalog;
    switch (catalog) {
        case RelationRelationId:
            r->a = ((Form_pg_class)s)->oid;
            r->k = ((Form_pg_class)s)->relkind;
            break;
        case AttributeRelationId:
            r->a = ((Form_pg_attribute)s)->attrelid;
            break;
        case AttrDefaultRelationId:
            r->a = ((Form_pg_attrdef)s)->adrelid;
            break;
        case IndexRelationId:
            r->a = ((Form_pg_index)s)->indrelid;
            r->b = ((Form_pg_index)s)->indexrelid;
            break;
        case ConstraintRelationId:
            r->a = ((Form_pg_constraint)s)->conrelid;
            break;
        case TriggerRelationId:
            r->a = ((Form_pg_trigger)s)->tgrelid;
            break;
        case RewriteRelationId:
            r->a = ((Form_pg_rewrite)s)->ev_class;
            break;
        case PolicyRelationId:
            r->a = ((Form_pg_policy)s)->polrelid;
            break;
        case InheritsRelationId:
            r->a = ((Form_pg_inherits)s)->inhrelid;
            break;
        case SequenceRelationId:
            r->a = ((Form_pg_sequence)s)->seqrelid;
            break;
        case PartitionedRelationId:
            r->a = ((Form_pg_partitioned_table)s)->partrelid;
            break;
        case ForeignTableRelationId:
            r->a = ((Form_pg_foreign_table)s)->ftrelid;
            break;
        case DescriptionRelationId:
            r->a = ((Form_pg_description)s)->objoid;
            r->b = ((Form_pg_description)s)->classoid;
            break;
        case DependRelationId:
            r->a = ((Form_pg_depend)s)->classid;
            r->b = ((Form_pg_depend)s)->objid;
            r->c = ((Form_pg_depend)s)->refclassid == RelationRelationId &&
                   ((Form_pg_depend)s)->refobjsubid > 0;
            r->k = ((Form_pg_depend)s)->deptype;
            break;
        case ProcedureRelationId:
            r->a = ((Form_pg_proc)s)->oid;
            r->b = ((Form_pg_proc)s)->pronamespace;
            r->name = ((Form_pg_proc)s)->proname;
            break;
        case TypeRelationId:
            r->a = ((Form_pg_type)s)->oid;
            r->b = ((Form_pg_type)s)->typrelid;
            r->c = ((Form_pg_type)s)->typelem;
            r->d = ((Form_pg_type)s)->typarray;
            break;
    }
}

// Appends the rows of `catalog` the script wrote to `out` (palloc'd, grown here).
void scan_leaf(Oid catalog, TransactionId mark, Rows* out) {
    Relation rel = table_open(catalog, AccessShareLock);
    TableScanDesc scan = table_beginscan(rel, SnapshotAny, 0, nullptr);
    HeapTuple tup;
    while ((tup = heap_getnext(scan, ForwardScanDirection)) != nullptr) {
        if (!written(tup->t_data, mark)) continue;
        if (out->n == out->cap) {
            out->cap = out->cap * 2 + 16;
            out->items = out->items == nullptr ? (Row*)palloc(out->cap * sizeof(Row))
                                               : (Row*)repalloc(out->items, out->cap * sizeof(Row));
        }
        describe_leaf(catalog, tup, &out->items[out->n++]);
    }
    table_endscan(scan);
    table_close(rel, AccessShareLock);
}

// The relation of a constraint: false when there is no such constraint.
bool constraint_leaf(Oid con, Oid* rel) {
    HeapTuple t = SearchSysCache1(CONSTROID, ObjectIdGetDatum(con));
    if (!HeapTupleIsValid(t)) return false;
    *rel = ((Form_pg_constraint)GETSTRUCT(t))->conrelid;
    ReleaseSysCache(t);
    return true;
}

// A type's relation and array type: false when there is no such type.
bool type_leaf(Oid type, Oid* rel, Oid* array) {
    HeapTuple t = SearchSysCache1(TYPEOID, ObjectIdGetDatum(type));
    if (!HeapTupleIsValid(t)) return false;
    *rel = ((Form_pg_type)GETSTRUCT(t))->typrelid;
    *array = ((Form_pg_type)GETSTRUCT(t))->typarray;
    ReleaseSysCache(t);
    return true;
}

// Settings that change the text of the snapshot (constants in deparsed expressions, quoted
// names): a script may SET them, and a patch would keep text written with the old values.
const char* const kSettings[] = {"DateStyle",
                                 "IntervalStyle",
                                 "TimeZone",
                                 "extra_float_digits",
                                 "quote_all_identifiers",
                                 "bytea_output",
                                 "standard_conforming_strings",
                                 "lc_monetary"};

const char* setting_leaf(const char* name) {
    return GetConfigOption(name, true, false);
}

std::string settings() {
    std::string out;
    for (const char* name : kSettings) {
        const char* value = guard([&] { return setting_leaf(name); });
        out += std::string(value ? value : "") + '\n';
    }
    return out;
}

void note_leaf(const char* what, Oid catalog, int relations) {
    elog(DEBUG1, "migrations_schema: snapshot %s%s%s (%d relations)", what,
         catalog != InvalidOid ? ": " : "", catalog != InvalidOid ? get_rel_name(catalog) : "",
         relations);
}

// ---- the catalogs

// Every catalog of pg_catalog (the order of Mark::writes), read once per backend.
const std::vector<Oid>& catalogs() {
    static std::vector<Oid> list;
    if (list.empty()) {
        uint64 n = spi::read(
            "SELECT c.oid FROM pg_class c WHERE c.relnamespace = 'pg_catalog'::regnamespace"
            " AND c.relkind = 'r' ORDER BY 1");
        std::vector<Oid> found;
        for (uint64 r = 0; r < n; r++) found.push_back((Oid)spi::get_int64(r, 1));
        spi::release();
        list = found;
    }
    return list;
}

// Catalogs whose rows belong to one relation, and pg_proc: scanned.
bool scanned(Oid catalog) {
    switch (catalog) {
        case ProcedureRelationId:
        case RelationRelationId:
        case AttributeRelationId:
        case AttrDefaultRelationId:
        case IndexRelationId:
        case ConstraintRelationId:
        case TriggerRelationId:
        case RewriteRelationId:
        case PolicyRelationId:
        case InheritsRelationId:
        case SequenceRelationId:
        case PartitionedRelationId:
        case ForeignTableRelationId:
        case DescriptionRelationId:
        case DependRelationId:
        case TypeRelationId:
            return true;
        default:
            return false;
    }
}

// Catalogs the snapshot shows nothing of: writes there change nothing in it.
bool not_shown(Oid catalog) {
    return catalog == StatisticRelationId || catalog == SharedDependRelationId ||
           catalog == LargeObjectRelationId || catalog == LargeObjectMetadataRelationId;
}

// ---- which relations

// The kinds of objects of a relation, as bits as detail::read_relations() takes them: the
// relation itself, its columns, constraints, indexes, triggers, rules, policies.
enum Kinds : unsigned {
    kRelation = 1,
    kColumns = 2,
    kConstraints = 4,
    kIndexes = 8,
    kTriggers = 16,
    kRules = 32,
    kPolicies = 64,
    kAll = 127
};
const char* const kChildKinds[] = {"column ",  "constraint ", "index ",
                                   "trigger ", "rule ",       "policy "};

// The bit of a relation's object by its key (another relation's object: 0).
unsigned kind_bit(const std::string& key) {
    for (unsigned k = 0; k < 6; k++)
        if (key.rfind(kChildKinds[k], 0) == 0) return 2u << k;
    return 0;
}

struct Written {
    std::map<Oid, unsigned> relations;  // relation -> the kinds of its objects to read again
    const char* full = nullptr;         // why a full read, if it must be one
    Oid catalog = InvalidOid;           // the catalog that says so, if one does
    bool functions = false;             // functions, procedures or aggregates to read again
};

// Adds the kinds `kinds` of a relation's objects; for an index, its table's indexes and
// constraints (a constraint's definition shows its index's options and tablespace).
void add_relation(Written& w, Oid rel, unsigned kinds = kAll) {
    if (rel == InvalidOid) return;
    Oid table = InvalidOid;
    char kind = guard([&] { return detail::relkind_leaf(rel, &table); });
    if (kind == RELKIND_INDEX || kind == RELKIND_PARTITIONED_INDEX) {
        if (table == InvalidOid) w.full = "an index without its table";
        w.relations[table] |= kIndexes | kConstraints;
        return;
    }
    w.relations[rel] |= kinds;
}

void attribute_type(Written& w, const Row& r, const std::vector<Row>& rows) {
    if (r.b != InvalidOid) return add_relation(w, r.b);  // a relation's row type
    if (r.c != InvalidOid) {                             // an array: of a row type?
        for (const Row& e : rows)
            if (e.catalog == TypeRelationId && e.a == r.c && e.b != InvalidOid && e.d == r.a)
                return add_relation(w, e.b);
        Oid rel = InvalidOid, array = InvalidOid;
        bool found = guard([&] { return type_leaf(r.c, &rel, &array); });
        if (found && rel != InvalidOid && array == r.a) return add_relation(w, rel);
    }
    w.full = "a type";
}

void attribute(Written& w, const Row& r, const std::vector<Row>& rows) {
    switch (r.catalog) {
        case IndexRelationId:
            add_relation(w, r.b);
            return add_relation(w, r.a, kIndexes | kConstraints);
        case ConstraintRelationId:
            if (r.a == InvalidOid) w.full = "a constraint of a domain";
            return add_relation(w, r.a, kConstraints | kIndexes);
        case AttributeRelationId:
            return add_relation(w, r.a, kColumns | kRelation);
        case AttrDefaultRelationId:
            return add_relation(w, r.a, kColumns);
        case TriggerRelationId:
            return add_relation(w, r.a, kTriggers);
        case RewriteRelationId:  // a view's definition is its _RETURN rule
            return add_relation(w, r.a, kRules | kRelation);
        case PolicyRelationId:
            return add_relation(w, r.a, kPolicies);
        case InheritsRelationId:
        case SequenceRelationId:
        case PartitionedRelationId:
        case ForeignTableRelationId:
            return add_relation(w, r.a, kRelation);
        case DescriptionRelationId: {
            if (r.b == RelationRelationId) return add_relation(w, r.a);
            if (r.b == ProcedureRelationId) {
                w.functions = true;
                return;
            }
            Oid rel = InvalidOid;
            if (r.b != ConstraintRelationId) {
                w.full = "a comment on an object other than a relation or constraint";
            } else if (guard([&] { return constraint_leaf(r.a, &rel); })) {
                if (rel == InvalidOid) w.full = "a comment on a constraint of a domain";
                add_relation(w, rel);
            }
            // No such constraint: it was dropped by the script, whose pg_constraint row names
            // its relation.
            return;
        }
        case DependRelationId:
            if (r.k == DEPENDENCY_EXTENSION) {
                if (r.a != RelationRelationId) w.full = "extension membership";
                return add_relation(w, r.b);
            }
            // A sequence's column ("owned by", "identity of"); other dependencies are not shown.
            if ((r.k == DEPENDENCY_AUTO || r.k == DEPENDENCY_INTERNAL) &&
                r.a == RelationRelationId && r.c)
                add_relation(w, r.b);
            return;
        case TypeRelationId:
            return attribute_type(w, r, rows);
        case ProcedureRelationId:
            // Another version of the same function under another name or schema: renamed or
            // moved (other objects' text shows its name).
            for (const Row& o : rows)
                if (o.catalog == ProcedureRelationId && o.a == r.a &&
                    (o.b != r.b || strcmp(NameStr(o.name), NameStr(r.name)) != 0))
                    w.full = "a function renamed or moved";
            w.functions = true;
            return;
        default:
            return add_relation(w, r.a);
    }
}

Written written_since(const Mark& since) {
    Written w;
    if (!guard([] { return counting_leaf(); })) {
        w.full = "track_counts is off";
        return w;
    }
    const std::vector<Oid>& list = catalogs();
    std::vector<int64> now(list.size());
    guard([&] { writes_leaf(list.data(), list.size(), now.data()); });
    std::vector<Oid> scan;
    for (size_t i = 0; i < list.size() && i < since.writes.size(); i++) {
        Oid catalog = list[i];
        if (now[i] == since.writes[i]) continue;
        if (scanned(catalog)) {
            scan.push_back(catalog);
        } else if (catalog == AggregateRelationId) {
            w.functions = true;
        } else if (!not_shown(catalog)) {
            w.full = "a catalog of objects other than relations";
            w.catalog = catalog;
            return w;
        }
    }
    Rows found{nullptr, 0, 0};
    for (Oid catalog : scan) guard([&] { scan_leaf(catalog, since.next_xid, &found); });
    std::vector<Row> rows(found.items, found.items + found.n);
    if (found.items != nullptr) guard([&] { pfree(found.items); });
    for (const Row& r : rows) {
        attribute(w, r, rows);
        if (w.full) break;
    }
    return w;
}

// ---- the patch

// The group of a key in the generated-name sense: without the digits (and quote) at its end.
std::string group(const std::string& key) {
    size_t end = key.find_last_not_of("0123456789\"");
    return end == std::string::npos ? "" : key.substr(0, end + 1);
}

bool starts_with(const std::string& s, const char* prefix) {
    return s.rfind(prefix, 0) == 0;
}

bool is_function(const std::string& key) {
    return starts_with(key, "function ") || starts_with(key, "procedure ") ||
           starts_with(key, "aggregate ");
}

// `out` (a copy of the snapshot before) with the relations of `w` read again; false when only
// a full read can say (the reason in `why`).
bool patch(Tracked& out, const Written& w, const char*& why) {
    if (w.functions) {
        // Every function again: a function's text shows no other object's (but names, and
        // a rename means a full read).
        Snapshot functions;
        pg::PinnedSearchPath pinned;
        pinned.enter();
        detail::read_into(functions, detail::functions_query(), nullptr, true, nullptr);
        pinned.leave();
        for (auto it = out.objects.begin(); it != out.objects.end();)
            it = is_function(it->first) ? out.objects.erase(it) : std::next(it);
        for (auto& [key, o] : functions)
            if (!is_function(key) || !out.objects.emplace(key, std::move(o)).second)
                return why = "a function's key", false;
    }
    if (w.relations.empty()) return true;
    std::vector<Oid> oids;
    for (const auto& [oid, kinds] : w.relations) oids.push_back(oid);
    Snapshot fresh;
    std::set<std::string> bases;
    std::map<std::uint32_t, std::string> keys;
    pg::PinnedSearchPath pinned;
    pinned.enter();
    detail::read_relations(fresh, w.relations, &bases, keys);
    pinned.leave();
    if (!bases.empty()) return why = "a generated name with a number appended", false;

    // What the relations held before, of the kinds read again (a relation whose key changed:
    // renamed or moved).
    std::map<std::string, unsigned> parents;
    std::set<std::string> removed;
    for (const auto& [oid, kinds] : w.relations) {
        auto old = out.relations.find(oid);
        if (old == out.relations.end()) continue;
        auto now = keys.find(oid);
        if (now != keys.end() && now->second != old->second) return why = "a rename", false;
        // gone from the snapshot but there (a relkind): moved out of it (other objects may show
        // its name)
        Oid table = InvalidOid;
        if (now == keys.end() && guard([&] { return detail::relkind_leaf(oid, &table); }) != '\0')
            return why = "a relation left the snapshot", false;
        parents[old->second] = kinds;
        if (kinds & kRelation) removed.insert(old->second);
    }
    for (const auto& [key, o] : out.objects) {
        if (o.parent.empty()) continue;
        auto p = parents.find(o.parent);
        if (p != parents.end() && (p->second & kind_bit(key))) removed.insert(key);
    }

    // A column or constraint gone and another new in one relation may be a rename (other
    // objects show column names; a rule's ON CONFLICT ON CONSTRAINT shows a constraint's).
    std::set<std::string> lost, gained;
    for (const char* kind : {"column ", "constraint "}) {
        for (const auto& key : removed)
            if (starts_with(key, kind) && !fresh.count(key))
                lost.insert(kind + out.objects[key].parent);
        for (const auto& [key, o] : fresh)
            if (starts_with(key, kind) && !removed.count(key)) gained.insert(kind + o.parent);
    }
    for (const auto& p : lost)
        if (gained.count(p))
            return why = "a column or constraint renamed, or dropped and added", false;

    // A key in the group of a generated name with a number appended: its key depends on the
    // group's other names (read.cpp), which only a full read orders.
    std::set<std::string> groups;
    for (const auto& b : out.bases) groups.insert(group(b));
    for (const auto& key : removed)
        if (groups.count(group(key))) return why = "a generated name's group", false;
    for (const auto& [key, o] : fresh)
        if (groups.count(group(key))) return why = "a generated name's group", false;

    for (const auto& key : removed) out.objects.erase(key);
    for (auto& [key, o] : fresh)
        if (!out.objects.emplace(key, std::move(o)).second)
            return why = "a key of another relation", false;
    for (Oid oid : oids) out.relations.erase(oid);
    for (auto& [oid, key] : keys) out.relations[oid] = key;
    return true;
}

}  // namespace

void define_settings() {
    DefineCustomBoolVariable(
        "migrations_schema.snapshot_incremental",
        "Lets verify() read again only the relations a script wrote.",
        "Superusers only; a developer setting. Off: verify() reads the whole catalog snapshot "
        "after every script (the result is the same, only slower).",
        &incremental_on, true, PGC_SUSET, 0, nullptr, nullptr, nullptr);
}

Tracked take_tracked() {
    Tracked t;
    t.incremental = incremental_on;
    pg::PinnedSearchPath pinned;
    pinned.enter();
    detail::read_all(t.objects, t.incremental ? &t.bases : nullptr);
    if (t.incremental) {
        uint64 n = spi::run(detail::relation_keys(), nullptr, nullptr);
        for (uint64 r = 0; r < n; r++)
            t.relations[(std::uint32_t)spi::get_int64(r, 1)] = *spi::get_text(r, 2);
        spi::release();
    }
    pinned.leave();
    return t;
}

Mark mark() {
    Mark m;
    if (!incremental_on || !guard([] { return counting_leaf(); })) return m;
    const std::vector<Oid>& list = catalogs();
    m.writes.resize(list.size());
    guard([&] { writes_leaf(list.data(), list.size(), m.writes.data()); });
    m.settings = settings();
    m.next_xid = guard([] { return next_xid_leaf(); });
    m.valid = true;
    return m;
}

Tracked refresh(const Tracked& before, const Mark& since) {
    if (!before.incremental || !since.valid || !incremental_on) return take_tracked();
    Written w = written_since(since);
    const char* why = w.full;
    if (!why && settings() != since.settings) why = "a setting of the snapshot's text changed";
    if (!why) {
        if (w.relations.empty() && !w.functions) {
            guard([] { note_leaf("unchanged", InvalidOid, 0); });
            return before;
        }
        Tracked out = before;
        if (patch(out, w, why)) {
            int n = (int)w.relations.size();
            guard([&] { note_leaf("patched", InvalidOid, n); });
            return out;
        }
    }
    Oid catalog = w.catalog;
    guard([&] { note_leaf(why, catalog, 0); });
    return take_tracked();
}

}  // namespace ms::snapshot
