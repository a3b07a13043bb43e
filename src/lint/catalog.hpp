// What the lint asks the live catalog: table sizes, columns, types, volatility, constraints,
// indexes, settings. Every function here is a leaf: it calls PostgreSQL, may ereport, holds no
// C++ object with a destructor, and is called through ms::guard().
//
// None of them waits for a lock on a user table: a relation lock is taken only when it is
// granted at once (ConditionalLockRelationOid); when another session holds a conflicting lock
// the answer comes from pg_class statistics alone (lint runs before apply's own lock bound, and
// must not queue behind, say, a long ACCESS EXCLUSIVE holder with lock_timeout = 0).
#pragma once

#include "pg/boundary.hpp"

namespace ms::lint::catalog {

struct RelStats {
    bool exists;
    Oid relid;
    double rows;  // estimated rows: pg_class, or a count of a small never-analyzed table
    char relkind;
};

// What pg_class says about a relation (rows: reltuples, else relpages at about 100 rows a
// page, else for a partitioned table the sum of its partitions'). A plain table or
// materialized view never analyzed or vacuumed is looked at when its lock is free at once: a
// small one (at most 16 pages) is counted, a larger one judged by its size on disk; a locked
// one stays at what pg_class says (no statistics: no rows).
void rel_stats_leaf(RangeVar* rv, RelStats* out);

// Whether a table has at least one row visible now. Used where the estimates say "empty" but
// data loss is at stake. A table another session has locked counts as empty: the statistics
// are all there is to go on.
bool has_rows_leaf(Oid relid);

// Whether a column holds a value (not NULL) in a row visible now. After 100,000 rows of NULLs
// it gives up and answers yes (a long scan is not worth the certainty); so it does for a table
// another session has locked, or a partitioned one.
bool column_has_values_leaf(Oid relid, AttrNumber attnum);

struct ColumnInfo {
    bool exists;
    Oid type;
    int32 typmod;
    AttrNumber attnum;
};
void column_leaf(Oid relid, const char* name, ColumnInfo* out);

// The type a TypeName names; false when it does not exist (yet).
bool type_leaf(TypeName* tn, Oid* type, int32* typmod);

bool binary_coercible_leaf(Oid from, Oid to);

// Highest volatility of the functions a raw expression calls: PROVOLATILE_IMMUTABLE ('i'),
// _STABLE ('s') or _VOLATILE ('v'). Unknown functions and subqueries count as volatile.
char volatility_leaf(Node* expr);

// A validated CHECK (col IS NOT NULL) on the table proves the column has no NULLs.
bool not_null_proven_leaf(Oid relid, AttrNumber attnum);

// An index of the table whose leading columns are exactly `attnums` (in any order), valid and
// not partial. Read from pg_index: no lock on the table.
bool has_leading_index_leaf(Oid relid, const AttrNumber* attnums, int n);

// Whether the session has a lock_timeout (not 0) in effect.
bool lock_timeout_set_leaf();

// A RangeVar for a qualified name of DROP TABLE's object list.
RangeVar* range_var_leaf(List* names);

}  // namespace ms::lint::catalog
