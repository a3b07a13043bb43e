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

// The table of an index: its oid and a RangeVar naming it (schema-qualified unless the search
// path finds it by its name alone); false when `index` is not an existing index. Read from
// pg_index and pg_class: no lock on the index or its table.
bool index_table_leaf(Oid index, Oid* table, RangeVar** table_rv);

// PostgreSQL's planner estimate of the rows the UPDATE or DELETE `sql` (the text of one
// statement, parsed again here so that positions in error messages point into it) touches on
// its target `target`: parse analysis, rewrite and planning in a subtransaction that is always
// rolled back, reading the rows of the ModifyTable's subplan. With `as_delete`, an UPDATE is
// planned as the DELETE of the same rows (same target, FROM as USING, WHERE and WITH): it
// touches the same rows, and plans while the SET list names a column the script adds first.
// False when it cannot be planned now (an object or a column the script creates first, a
// parameter, a lock not free at once: the target's lock is taken only when it is granted at
// once, and any other lock wait is cut short by a lock_timeout of 1 ms inside the
// subtransaction), or when the current user lacks a privilege the statement needs (the
// estimate would tell what EXPLAIN refuses to). A query cancel is raised again.
bool planned_rows_leaf(const char* sql, bool as_delete, Oid target, double* rows);

// The publications whose changes a statement on a table reaches (L001): FOR ALL TABLES ones,
// and those that list the table or its schema, or, for a partition, an ancestor or its schema
// (rows of a partition are published through its root or as its own); with `recurse` (not
// ONLY: ALTER TABLE goes down to partitions and inheritance children) those of every
// descendant too. A temporary or unlogged table, or anything but a table, is published by
// none. `names` is a List of palloc'd names, unsorted; `updates`: one of them publishes UPDATE
// or DELETE.
struct Publications {
    List* names;
    bool updates;
};
void publications_leaf(Oid relid, bool recurse, Publications* out);

// The publications that would publish a table created now in schema `nspid` (a permanent
// one): FOR ALL TABLES and FOR TABLES IN SCHEMA ones; for a partition of `parent`, also the
// publications of the parent (publications_leaf), but none that publishes through the root
// (publish_via_partition_root): its changes reach subscribers as the root's.
// nspid: InvalidOid for a schema that does not exist yet (FOR ALL TABLES publications only).
void new_table_publications_leaf(Oid nspid, Oid parent, Publications* out);

// Whether the constraint `conname` of the table is its replica identity: its primary key with
// REPLICA IDENTITY DEFAULT, or the index of REPLICA IDENTITY USING INDEX.
bool replica_identity_constraint_leaf(Oid relid, const char* conname);

// The schema a CREATE of rv would create it in (its schema, else the first of search_path),
// without creating or checking anything; InvalidOid when there is none yet.
Oid creation_namespace_leaf(const RangeVar* rv);

}  // namespace ms::lint::catalog
