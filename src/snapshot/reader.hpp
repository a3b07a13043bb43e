// Shared by the snapshot's C++ readers (columns.cpp, objects.cpp; incremental.cpp uses
// relkind_leaf): the relations the snapshot shows, comments, and PostgreSQL's deparsers called
// without SQL. Leaves (boundary.hpp): call them through guard(), in a memory context the caller
// empties. Not for other rooms.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "pg/boundary.hpp"
#include "snapshot/internal.hpp"

namespace ms::snapshot::detail {

// The rows a leaf collects, palloc'd in the current memory context (trivially destructible:
// a leaf may hold it).
template <typename T>
struct Rows {
    T* items = nullptr;
    int n = 0, size = 0;
    void add(const T& row) {
        if (n == size) {
            size = size == 0 ? 64 : size * 2;
            items = static_cast<T*>(items == nullptr ? palloc(size * sizeof(T))
                                                     : repalloc(items, size * sizeof(T)));
        }
        items[n++] = row;
    }
    const T* begin() const { return items; }
    const T* end() const { return items + n; }
};

// A memory context for a reader's leaves, a child of the current one: empty it with
// MemoryContextReset and delete it with MemoryContextDelete (through guard()); after an error it
// goes with its parent.
MemoryContext reader_context();

// Runs leaf `f` through guard() with `cxt` current (after an error, guard() makes the caller's
// context current again); returns what f returns.
template <typename F>
auto in_context(MemoryContext cxt, F&& f) -> decltype(f()) {
    return guard([&] {
        MemoryContext back = MemoryContextSwitchTo(cxt);
        if constexpr (std::is_void_v<decltype(f())>) {
            f();
            MemoryContextSwitchTo(back);
        } else {
            auto result = f();
            MemoryContextSwitchTo(back);
            return result;
        }
    });
}

// The rows `leaf(scope, nscope, &rows)` collects (of the relations of `scope`, or of every one
// when it is null), read in `cxt` and copied out; `cxt` is emptied afterwards.
template <typename T, typename Leaf>
std::vector<T> candidate_rows(MemoryContext cxt, const std::vector<Oid>* scope, Leaf leaf) {
    Rows<T> list;
    in_context(
        cxt, [&] { leaf(scope ? scope->data() : nullptr, scope ? (int)scope->size() : 0, &list); });
    std::vector<T> rows(list.begin(), list.end());
    guard([&] { MemoryContextReset(cxt); });
    return rows;
}

// The snapshot the readers scan the catalogs with: the transaction's, registered by Lookups
// until its finish() (the syscache, and so the deparsers, see the latest catalog rows).
::Snapshot read_snapshot();

// A scan of catalog `rel`: of the rows whose oid column `column` is `value`, by index `index`,
// or of every row when `value` is InvalidOid.
SysScanDesc scan_leaf(Relation rel, Oid index, AttrNumber column, Oid value);

// Whether a namespace is one of the user's (MS_USER_NAMESPACE; `own`: the schema of this
// extension, not shown, or InvalidOid).
bool user_namespace_leaf(Oid nsp, Oid own);
// Whether an object (not a column of one) is a member of an extension.
bool in_extension_leaf(Oid classid, Oid objid);
// A comment as pg_description has it (palloc'd text).
struct CommentRow {
    Oid classid, objid;
    int subid;
    char* text;
};
// The comments of object `objid` of catalog `classid` (pg_description, by its index): the one
// of `subid` (0: the object's, > 0: a column's), or every one when subid is -1.
void object_comments_leaf(Oid classid, Oid objid, int subid, Rows<CommentRow>* out);
// The comment of an object (subid 0) or of a column (subid > 0), or nullptr.
char* comment_leaf(Oid classid, Oid objid, int subid);
// items[0..n) sorted by `collation` and joined with `sep`; nullptr when there are none.
char* sorted_join_leaf(char** items, int n, const char* sep, Oid collation);
// A PostgreSQL SQL-callable function called directly with non-null arguments, its text result
// as a C string (NULL: nullptr).
template <typename... D>
char* call_text_leaf(PGFunction f, D... args) {
    constexpr int n = sizeof...(D);
    LOCAL_FCINFO(fcinfo, n);
    InitFunctionCallInfoData(*fcinfo, nullptr, n, InvalidOid, nullptr, nullptr);
    const Datum values[] = {args...};
    for (int i = 0; i < n; i++) fcinfo->args[i] = NullableDatum{values[i], false};
    Datum result = f(fcinfo);
    return fcinfo->isnull ? nullptr : TextDatumGetCString(result);
}
// A relation's relkind ('\0': gone); an index's table goes to *table (else InvalidOid), when
// `table` is given.
char relkind_leaf(Oid rel, Oid* table = nullptr);
// The name of a relation as regclass prints it (the search_path pinned: schema-qualified).
char* relation_name_leaf(Oid relid);
// The tablespace's quoted name, nullptr for 0 (the database's default) or none.
char* tablespace_leaf(Oid spc);
// A name PostgreSQL generated from table `table` with a number appended to make it unique
// (<table>_..._<suffix><digits>): the name without the number, or nullptr.
char* generated_base_leaf(const char* name, const char* table);

// What the C++ readers of one read look up for every object. A full read (`bulk`) reads the
// comments of relations, columns and constraints, the members of extensions and the
// constraints of indexes once, with one scan of each catalog; a read of a few relations
// (verify's incremental snapshot) probes the catalogs' indexes for each object instead.
class Lookups {
  public:
    // Registers the read's snapshot (read_snapshot()); finish() releases it, after the read,
    // and gives read_snapshot() the one of an enclosing read back, if any.
    explicit Lookups(bool bulk);
    void finish();
    // (Without finish(), after an error: the snapshot is released with the transaction's
    // resources; read_snapshot() is given back here.)
    ~Lookups();
    Lookups(const Lookups&) = delete;
    Lookups& operator=(const Lookups&) = delete;
    bool bulk() const { return bulk_; }
    // Whether the objects of relation `relid` are shown: in a user's namespace, not a member of
    // an extension (remembered).
    // `nsp`: its namespace, when the caller knows it.
    bool shown(Oid relid, Oid nsp = InvalidOid);
    // Whether a namespace is one of the user's (remembered).
    bool user_namespace(Oid nsp);
    // Whether an object (of pg_class or pg_type) is a member of an extension.
    bool member(Oid classid, Oid objid);
    // The comment of a relation, column (subid > 0) or constraint (bulk only: nullptr
    // otherwise, where the readers probe themselves).
    const std::string* comment(Oid classid, Oid objid, int subid) const;
    // The quoted name of the primary key, unique or exclusion constraint of `table` whose index
    // is `index`, or nullptr.
    const std::string* index_constraint(Oid table, Oid index);

  private:
    static std::uint64_t key(Oid classid, Oid objid, int subid);
    void read_index_constraints(Oid table);  // of one table, or every one
    Oid own_ = InvalidOid;                   // this extension's schema
    bool bulk_;
    ::Snapshot snapshot_ = nullptr, previous_ = nullptr;
    std::map<Oid, bool> shown_, namespaces_;
    std::unordered_map<std::uint64_t, std::string> comments_;
    std::unordered_set<std::uint64_t> members_;
    std::unordered_map<Oid, std::string> index_constraints_;  // index -> constraint
    std::set<Oid> tables_read_;                               // when not bulk
};

}  // namespace ms::snapshot::detail
