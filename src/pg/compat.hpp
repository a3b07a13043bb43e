// Differences between the PostgreSQL major versions the extension is written for (15 to 18;
// built against 15, 17 and 18: no 16 headers here), behind PG_VERSION_NUM, in one place.
// Included by boundary.hpp after pg.hpp; code elsewhere uses the names defined here instead of
// testing versions itself.
#pragma once

#if PG_VERSION_NUM < 150000 || PG_VERSION_NUM >= 190000
#error "migrations_schema builds against PostgreSQL 15 to 18"
#endif

namespace ms::pg::token {

// The core lexer's own token numbers (core_yylex). Since PostgreSQL 16, the grammar's gram.h
// is no longer installed; these tokens are declared first in gram.y, in this order, so that
// their numbers do not depend on the set of keywords (PL/pgSQL's grammar relies on the same).
// Every other token above 255 is a keyword: the lexer sets yylval.keyword to its spelling.
constexpr int ident = 258;
constexpr int uident = 259;
constexpr int fconst = 260;
constexpr int sconst = 261;
constexpr int usconst = 262;
constexpr int bconst = 263;
constexpr int xconst = 264;
constexpr int op = 265;
constexpr int iconst = 266;
constexpr int param = 267;
constexpr int typecast = 268;
constexpr int dot_dot = 269;
constexpr int colon_equals = 270;
constexpr int equals_greater = 271;
constexpr int less_equals = 272;
constexpr int greater_equals = 273;
constexpr int not_equals = 274;

// Whether token (a core_yylex() result) is a keyword.
inline bool is_keyword(int token) {
    return token > not_equals;
}

#if PG_VERSION_NUM < 160000
static_assert(ident == IDENT && uident == UIDENT && fconst == FCONST && sconst == SCONST &&
                  usconst == USCONST && bconst == BCONST && xconst == XCONST && op == Op &&
                  iconst == ICONST && param == PARAM && typecast == TYPECAST &&
                  dot_dot == DOT_DOT && colon_equals == COLON_EQUALS &&
                  equals_greater == EQUALS_GREATER && less_equals == LESS_EQUALS &&
                  greater_equals == GREATER_EQUALS && not_equals == NOT_EQUALS,
              "the core lexer's token numbers");
#endif

}  // namespace ms::pg::token

// ---- the executor (PostgreSQL 16 moved permission checks to RTEPermissionInfo and added
//      onlySummarizing to ExecInsertIndexTuples; 18 added the unpruned relations to
//      ExecInitRangeTable and took run_once out of PortalRun) ----

#if PG_VERSION_NUM >= 160000
// The RTEPermissionInfos of a range table's relations (nothing is checked against them: the
// executor reads them to describe a row that violates a constraint).
inline List* ms_permission_infos(List* range_table) {
    List* infos = NIL;
    ListCell* lc;
    foreach (lc, range_table) {
        RangeTblEntry* rte = lfirst_node(RangeTblEntry, lc);
        if (rte->rtekind == RTE_RELATION) (void)addRTEPermissionInfo(&infos, rte);
    }
    return infos;
}
#endif

// A range table of relations the extension writes itself, with no permission checks.
inline void ms_exec_init_range_table(EState* estate, List* range_table) {
#if PG_VERSION_NUM >= 180000
    // every entry unpruned
    ExecInitRangeTable(estate, range_table, ms_permission_infos(range_table),
                       bms_add_range(nullptr, 1, list_length(range_table)));
#elif PG_VERSION_NUM >= 160000
    ExecInitRangeTable(estate, range_table, ms_permission_infos(range_table));
#else
    ExecInitRangeTable(estate, range_table);
#endif
}

// The index entries of a new heap tuple (no ON CONFLICT, no update).
inline List* ms_exec_insert_index_tuples(ResultRelInfo* rri, TupleTableSlot* slot, EState* estate) {
#if PG_VERSION_NUM >= 160000
    return ExecInsertIndexTuples(rri, slot, estate, false, false, nullptr, NIL, false);
#else
    return ExecInsertIndexTuples(rri, slot, estate, false, false, nullptr, NIL);
#endif
}

// Whether the current user may run a planned statement (no error raised).
inline bool ms_exec_check_permissions(PlannedStmt* ps) {
#if PG_VERSION_NUM >= 160000
    return ExecCheckPermissions(ps->rtable, ps->permInfos, false);
#else
    return ExecCheckRTPerms(ps->rtable, false);
#endif
}

// ---- tuples ----

// heap_getattr() for a user column (attnum > 0) of a table row, without heap_getattr()'s inline
// body: in Debian's 15.20 and 17.12 headers it calls heap_datum_check(), which older servers of
// the same major version (17.10) do not export, so a module built with newer headers would not
// load into them. The check is for composite datums (a t_ctid marker a row read from a table
// never carries); the rest is heap_getattr()'s own path: fastgetattr(), or the column's missing
// value for a row older than the column. Used on every version (one code path), on the audit's
// hot path too (the relation of a dropped trigger, rule, policy, constraint or default).
inline Datum ms_heap_getattr(HeapTuple tuple, int attnum, TupleDesc desc, bool* isnull) {
    if (attnum > static_cast<int>(HeapTupleHeaderGetNatts(tuple->t_data)))
        return getmissingattr(desc, attnum, isnull);
    return fastgetattr(tuple, attnum, desc, isnull);
}

// Runs a portal to completion (PortalRun's run_once, true, is implied since PostgreSQL 18).
inline bool ms_portal_run(Portal portal, bool top_level, DestReceiver* dest, QueryCompletion* qc) {
#if PG_VERSION_NUM >= 180000
    return PortalRun(portal, FETCH_ALL, top_level, dest, dest, qc);
#else
    return PortalRun(portal, FETCH_ALL, top_level, true, dest, dest, qc);
#endif
}

// ---- catalogs ----

// pg_collation's column of an ICU (or, since 17, builtin) collation's locale, for SQL text.
#if PG_VERSION_NUM >= 170000
#define MS_PG_COLLATION_LOCALE "colllocale"
#else
#define MS_PG_COLLATION_LOCALE "colliculocale"
#endif

// A column's statistics target (pg_attribute.attstattarget, read with ms_heap_getattr): int4 and
// -1 for the default until 16, int2 and NULL for the default since 17.
inline int ms_attstattarget(Datum d) {
#if PG_VERSION_NUM >= 170000
    return DatumGetInt16(d);
#else
    return DatumGetInt32(d);
#endif
}

// The OID of a relation's primary key index, or InvalidOid (a deferrable one does not count:
// PostgreSQL 18's parameter, the behaviour of earlier versions).
inline Oid ms_primary_key_index(Relation rel) {
#if PG_VERSION_NUM >= 180000
    return RelationGetPrimaryKeyIndex(rel, false);
#else
    return RelationGetPrimaryKeyIndex(rel);
#endif
}

// ---- statistics ----

// The rows of a relation the current transaction has inserted, updated and deleted so far, its
// subtransactions' included (the backend's pending statistics, behind pg_stat_get_xact_tuples_*):
// they only grow within a transaction. 16 renamed the counters (t_counts.t_tuples_* became
// counts.tuples_*); since 17 find_tabstat_entry() returns a copy with the subtransactions' counts
// already added and no chain (trans is NULL), so the loop adds nothing there. The copy is left
// to the caller's memory context: whether 16's is a copy too is not something to rely on.
inline int64 ms_xact_tuples_written(Oid rel) {
    PgStat_TableStatus* t = find_tabstat_entry(rel);
    if (t == nullptr) return 0;
#if PG_VERSION_NUM >= 160000
    int64 n = t->counts.tuples_inserted + t->counts.tuples_updated + t->counts.tuples_deleted;
#else
    int64 n =
        t->t_counts.t_tuples_inserted + t->t_counts.t_tuples_updated + t->t_counts.t_tuples_deleted;
#endif
    for (PgStat_TableXactStatus* x = t->trans; x != nullptr; x = x->upper)
        n += x->tuples_inserted + x->tuples_updated + x->tuples_deleted;
    return n;
}

// ---- settings ----

// Memory for the `extra` of a setting's check hook: PostgreSQL 15 frees it with free(), 16 and
// later with guc_free() (memory of its own GUC context).
inline void* ms_guc_extra_alloc(size_t size) {
#if PG_VERSION_NUM >= 160000
    return guc_malloc(LOG, size);
#else
    return malloc(size);
#endif
}
