// Catalog lookups of the lint. See catalog.hpp. Leaf functions only: no C++ object with a
// destructor in any frame here.
#include "lint/catalog.hpp"

#include <cstring>

namespace ms::lint::catalog {

namespace {

// Rows of r visible now (with attnum > 0: rows where that column is not NULL), counting until
// `enough` are found; -1 when `max_read` rows were read first. Negative limits: none.
double count_rows(Relation r, AttrNumber attnum, double enough, double max_read) {
    Snapshot snap = ActiveSnapshotSet() ? GetActiveSnapshot() : GetLatestSnapshot();
    TableScanDesc scan = table_beginscan(r, snap, 0, nullptr);
    TupleTableSlot* slot = table_slot_create(r, nullptr);
    double found = 0, read = 0;
    while ((enough < 0 || found < enough) &&
           table_scan_getnextslot(scan, ForwardScanDirection, slot)) {
        bool isnull = false;
        if (attnum > 0) (void)slot_getattr(slot, attnum, &isnull);
        if (!isnull) found++;
        if (max_read >= 0 && ++read >= max_read && (enough < 0 || found < enough)) {
            found = -1;
            break;
        }
    }
    ExecDropSingleTupleTableSlot(slot);
    table_endscan(scan);
    return found;
}

// count_rows on a table, under an AccessShareLock taken only when it is free at once; -1 when it
// is not, or the relation is not a plain table or materialized view.
double count_rows_leaf(Oid relid, AttrNumber attnum, double enough, double max_read) {
    if (!ConditionalLockRelationOid(relid, AccessShareLock)) return -1;
    Relation r = relation_open(relid, NoLock);
    double n = -1;
    if (r->rd_rel->relkind == RELKIND_RELATION || r->rd_rel->relkind == RELKIND_MATVIEW)
        n = count_rows(r, attnum, enough, max_read);
    relation_close(r, NoLock);
    UnlockRelationOid(relid, AccessShareLock);
    return n;
}

struct VolatilityWalk {
    char worst;
};

bool volatility_walker(Node* node, void* ctx) {
    if (node == nullptr) return false;
    auto* w = static_cast<VolatilityWalk*>(ctx);
    if (IsA(node, FuncCall)) {
        FuncCall* fc = reinterpret_cast<FuncCall*>(node);
        FuncCandidateList cands =
            FuncnameGetCandidates(fc->funcname, -1, NIL, false, false, false, true);
        if (cands == nullptr) w->worst = 'v';  // unknown function: assume the worst
        for (FuncCandidateList c = cands; c != nullptr; c = c->next) {
            char v = func_volatile(c->oid);
            if (v == PROVOLATILE_VOLATILE || (v == PROVOLATILE_STABLE && w->worst == 'i'))
                w->worst = v;
        }
    } else if (IsA(node, SQLValueFunction)) {
        if (w->worst == 'i') w->worst = 's';
    } else if (IsA(node, SubLink)) {
        w->worst = 'v';
    }
    return raw_expression_tree_walker(
        node, reinterpret_cast<bool (*)()>(reinterpret_cast<void (*)()>(volatility_walker)), ctx);
}

}  // namespace

void rel_stats_leaf(RangeVar* rv, RelStats* out) {
    out->exists = false;
    out->rows = 0;
    out->relkind = 0;
    out->relid = RangeVarGetRelid(rv, NoLock, true);
    if (!OidIsValid(out->relid)) return;
    HeapTuple tup = SearchSysCache1(RELOID, ObjectIdGetDatum(out->relid));
    if (!HeapTupleIsValid(tup)) return;
    Form_pg_class c = (Form_pg_class)GETSTRUCT(tup);
    out->exists = true;
    out->relkind = c->relkind;
    double reltuples = c->reltuples;
    int32 relpages = c->relpages;
    ReleaseSysCache(tup);
    if (reltuples >= 0) {
        out->rows = reltuples;
    } else if (relpages > 0) {
        out->rows = relpages * 100.0;
    } else if (out->relkind == RELKIND_PARTITIONED_TABLE) {
        // A partitioned table holds no rows itself: the sum of its partitions'.
        List* parts = find_all_inheritors(out->relid, NoLock, nullptr);
        ListCell* lc;
        foreach (lc, parts) {
            Oid part = lfirst_oid(lc);
            if (part == out->relid) continue;
            HeapTuple pt = SearchSysCache1(RELOID, ObjectIdGetDatum(part));
            if (!HeapTupleIsValid(pt)) continue;
            Form_pg_class pc = (Form_pg_class)GETSTRUCT(pt);
            if (pc->relkind == RELKIND_RELATION)
                out->rows += pc->reltuples >= 0 ? pc->reltuples : pc->relpages * 100.0;
            ReleaseSysCache(pt);
        }
    } else if (out->relkind == RELKIND_RELATION || out->relkind == RELKIND_MATVIEW) {
        // Never analyzed or vacuumed: a small table (at most 16 pages, 128 kB) is counted, a
        // larger one judged by its real size on disk, at about 100 rows a page. Only when its
        // lock is granted at once: behind another session's lock (say ACCESS EXCLUSIVE, held
        // for a long time), pg_class is all there is to go on, and it says nothing.
        if (ConditionalLockRelationOid(out->relid, AccessShareLock)) {
            Relation r = try_relation_open(out->relid, NoLock);
            if (r != nullptr) {
                BlockNumber pages = RelationGetNumberOfBlocks(r);
                if (pages > 16) {
                    out->rows = pages * 100.0;
                } else if (pages > 0) {
                    out->rows = count_rows(r, 0, -1, -1);
                }
                relation_close(r, NoLock);
            }
            UnlockRelationOid(out->relid, AccessShareLock);
        }
    }
}

bool has_rows_leaf(Oid relid) {
    return count_rows_leaf(relid, 0, 1, -1) > 0;
}

bool column_has_values_leaf(Oid relid, AttrNumber attnum) {
    return count_rows_leaf(relid, attnum, 1, 100000) != 0;
}

void column_leaf(Oid relid, const char* name, ColumnInfo* out) {
    out->exists = false;
    HeapTuple tup = SearchSysCacheAttName(relid, name);
    if (!HeapTupleIsValid(tup)) return;
    Form_pg_attribute a = (Form_pg_attribute)GETSTRUCT(tup);
    out->exists = true;
    out->type = a->atttypid;
    out->typmod = a->atttypmod;
    out->attnum = a->attnum;
    ReleaseSysCache(tup);
}

bool type_leaf(TypeName* tn, Oid* type, int32* typmod) {
    Type t = LookupTypeName(nullptr, tn, typmod, true);
    if (t == nullptr) return false;
    *type = typeTypeId(t);
    ReleaseSysCache(t);
    return true;
}

bool binary_coercible_leaf(Oid from, Oid to) {
    return IsBinaryCoercible(from, to);
}

char volatility_leaf(Node* expr) {
    VolatilityWalk w{'i'};
    volatility_walker(expr, &w);
    return w.worst;
}

bool not_null_proven_leaf(Oid relid, AttrNumber attnum) {
    bool proven = false;
    Relation rel = table_open(ConstraintRelationId, AccessShareLock);
    ScanKeyData key;
    ScanKeyInit(&key, Anum_pg_constraint_conrelid, BTEqualStrategyNumber, F_OIDEQ,
                ObjectIdGetDatum(relid));
    SysScanDesc scan =
        systable_beginscan(rel, ConstraintRelidTypidNameIndexId, true, nullptr, 1, &key);
    HeapTuple tup;
    while (!proven && HeapTupleIsValid(tup = systable_getnext(scan))) {
        Form_pg_constraint con = (Form_pg_constraint)GETSTRUCT(tup);
        if (con->contype != CONSTRAINT_CHECK || !con->convalidated) continue;
        bool isnull;
        Datum bin = ms_heap_getattr(tup, Anum_pg_constraint_conbin, RelationGetDescr(rel), &isnull);
        if (isnull) continue;
        Node* expr = static_cast<Node*>(stringToNode(TextDatumGetCString(bin)));
        if (IsA(expr, NullTest)) {
            NullTest* nt = reinterpret_cast<NullTest*>(expr);
            if (nt->nulltesttype == IS_NOT_NULL && IsA(nt->arg, Var) &&
                reinterpret_cast<Var*>(nt->arg)->varattno == attnum)
                proven = true;
        }
    }
    systable_endscan(scan);
    table_close(rel, AccessShareLock);
    return proven;
}

bool has_leading_index_leaf(Oid relid, const AttrNumber* attnums, int n) {
    // pg_index rows of the table, read without a lock on the table itself (RelationGetIndexList
    // would need one, and wait behind another session's ACCESS EXCLUSIVE).
    bool found = false;
    Relation rel = table_open(IndexRelationId, AccessShareLock);
    ScanKeyData key;
    ScanKeyInit(&key, Anum_pg_index_indrelid, BTEqualStrategyNumber, F_OIDEQ,
                ObjectIdGetDatum(relid));
    SysScanDesc scan = systable_beginscan(rel, IndexIndrelidIndexId, true, nullptr, 1, &key);
    HeapTuple tup;
    while (!found && HeapTupleIsValid(tup = systable_getnext(scan))) {
        Form_pg_index idx = (Form_pg_index)GETSTRUCT(tup);
        bool partial = !heap_attisnull(tup, Anum_pg_index_indpred, RelationGetDescr(rel));
        if (idx->indislive && idx->indisvalid && !partial && idx->indnkeyatts >= n) {
            int matched = 0;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    if (idx->indkey.values[i] == attnums[j]) matched++;
            if (matched == n) found = true;
        }
    }
    systable_endscan(scan);
    table_close(rel, AccessShareLock);
    return found;
}

bool lock_timeout_set_leaf() {
    const char* v = GetConfigOption("lock_timeout", false, false);
    return v && strcmp(v, "0") != 0;
}

RangeVar* range_var_leaf(List* names) {
    return makeRangeVarFromNameList(names);
}

bool index_table_leaf(Oid index, Oid* table, RangeVar** table_rv) {
    HeapTuple tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(index));
    if (!HeapTupleIsValid(tup)) return false;
    *table = ((Form_pg_index)GETSTRUCT(tup))->indrelid;
    ReleaseSysCache(tup);
    char* name = get_rel_name(*table);
    if (name == nullptr) return false;
    char* schema =
        RelationIsVisible(*table) ? nullptr : get_namespace_name(get_rel_namespace(*table));
    *table_rv = makeRangeVar(schema, name, -1);
    return true;
}

namespace {

// The raw tree of `sql` to plan: its one statement, or with `as_delete` the DELETE of the rows
// an UPDATE touches; nullptr for anything else.
RawStmt* statement_to_plan(const char* sql, bool as_delete) {
    List* parsed = raw_parser(sql, RAW_PARSE_DEFAULT);
    if (list_length(parsed) != 1) return nullptr;
    RawStmt* rs = linitial_node(RawStmt, parsed);
    if (as_delete) {
        if (!IsA(rs->stmt, UpdateStmt)) return nullptr;
        UpdateStmt* u = reinterpret_cast<UpdateStmt*>(rs->stmt);
        DeleteStmt* d = makeNode(DeleteStmt);
        d->relation = u->relation;
        d->usingClause = u->fromClause;
        d->whereClause = u->whereClause;
        d->withClause = u->withClause;
        rs->stmt = reinterpret_cast<Node*>(d);
    }
    return IsA(rs->stmt, UpdateStmt) || IsA(rs->stmt, DeleteStmt) ? rs : nullptr;
}

// The rows of the ModifyTable's subplan (the rows it touches) of the UPDATE or DELETE that
// sets the command tag among `queries`; -1 when there is none or a privilege is missing.
double modified_rows(List* queries, const char* sql) {
    ListCell* lc;
    foreach (lc, queries) {
        Query* q = lfirst_node(Query, lc);
        if (!q->canSetTag || (q->commandType != CMD_UPDATE && q->commandType != CMD_DELETE))
            continue;
        PlannedStmt* ps = pg_plan_query(q, sql, 0, nullptr);
        if (!ms_exec_check_permissions(ps)) return -1;
        Plan* top = ps->planTree;
        if (top == nullptr || !IsA(top, ModifyTable) || outerPlan(top) == nullptr) return -1;
        return outerPlan(top)->plan_rows;
    }
    return -1;
}

}  // namespace

bool planned_rows_leaf(const char* sql, bool as_delete, Oid target, double* rows) {
    MemoryContext outer = CurrentMemoryContext;
    ResourceOwner owner = CurrentResourceOwner;
    MemoryContext work =
        AllocSetContextCreate(outer, "migrations_schema lint plan", ALLOCSET_DEFAULT_SIZES);
    volatile double found = -1;
    ErrorData* volatile failed = nullptr;
    BeginInternalSubTransaction(nullptr);
    MemoryContextSwitchTo(work);
    PG_TRY();
    {
        // Locks taken here belong to the subtransaction: its rollback releases them.
        if (ConditionalLockRelationOid(target, RowExclusiveLock)) {
            (void)set_config_option("lock_timeout", "1", PGC_USERSET, PGC_S_SESSION,
                                    GUC_ACTION_LOCAL, true, 0, false);
            RawStmt* rs = statement_to_plan(sql, as_delete);
            if (rs != nullptr) {
                bool pushed = !ActiveSnapshotSet();
                if (pushed) PushActiveSnapshot(GetTransactionSnapshot());
                found = modified_rows(
                    pg_analyze_and_rewrite_fixedparams(rs, sql, nullptr, 0, nullptr), sql);
                if (pushed) PopActiveSnapshot();
            }
        }
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(outer);
        failed = CopyErrorData();
        FlushErrorState();
    }
    PG_END_TRY();
    MemoryContextSwitchTo(outer);
    RollbackAndReleaseCurrentSubTransaction();
    MemoryContextSwitchTo(outer);
    CurrentResourceOwner = owner;
    MemoryContextDelete(work);
    if (failed != nullptr) {
        if (failed->sqlerrcode == ERRCODE_QUERY_CANCELED) ReThrowError(failed);
        FreeErrorData(failed);
        return false;
    }
    if (found < 0) return false;
    *rows = found;
    return true;
}

namespace {

bool publishable_leaf(Oid relid) {
    char kind = get_rel_relkind(relid);
    return (kind == RELKIND_RELATION || kind == RELKIND_PARTITIONED_TABLE) &&
           get_rel_persistence(relid) == RELPERSISTENCE_PERMANENT && relid >= FirstNormalObjectId;
}

// The publications that list relid or its schema (FOR TABLE, FOR TABLES IN SCHEMA).
List* listed_in_leaf(Oid relid, List* pubs) {
    pubs = list_concat_unique_oid(pubs, GetRelationPublications(relid));
    return list_concat_unique_oid(pubs, GetSchemaPublications(get_rel_namespace(relid)));
}

void describe_leaf(List* pubs, bool skip_via_root, Publications* out) {
    out->names = NIL;
    out->updates = false;
    ListCell* lc;
    foreach (lc, pubs) {
        Publication* p = GetPublication(lfirst_oid(lc));
        if (skip_via_root && p->pubviaroot) continue;
        out->names = lappend(out->names, pstrdup(p->name));
        out->updates = out->updates || p->pubactions.pubupdate || p->pubactions.pubdelete;
    }
}

List* publications_of_leaf(Oid relid, bool recurse) {
    if (!publishable_leaf(relid)) return NIL;
    List* pubs = listed_in_leaf(relid, GetAllTablesPublications());
    ListCell* lc;
    if (get_rel_relispartition(relid)) {
        List* ancestors = get_partition_ancestors(relid);
        foreach (lc, ancestors) pubs = listed_in_leaf(lfirst_oid(lc), pubs);
    }
    if (recurse) {
        List* below = find_all_inheritors(relid, NoLock, nullptr);
        foreach (lc, below)
            if (lfirst_oid(lc) != relid && publishable_leaf(lfirst_oid(lc)))
                pubs = listed_in_leaf(lfirst_oid(lc), pubs);
    }
    return pubs;
}

}  // namespace

void publications_leaf(Oid relid, bool recurse, Publications* out) {
    describe_leaf(publications_of_leaf(relid, recurse), false, out);
}

void new_table_publications_leaf(Oid nspid, Oid parent, Publications* out) {
    List* pubs = GetAllTablesPublications();
    if (OidIsValid(nspid)) pubs = list_concat_unique_oid(pubs, GetSchemaPublications(nspid));
    if (OidIsValid(parent))
        pubs = list_concat_unique_oid(pubs, publications_of_leaf(parent, false));
    describe_leaf(pubs, OidIsValid(parent), out);
}

Oid creation_namespace_leaf(const RangeVar* rv) {
    if (rv->schemaname != nullptr) return get_namespace_oid(rv->schemaname, true);
    List* path = fetch_search_path(false);
    return path != NIL ? linitial_oid(path) : InvalidOid;
}

bool replica_identity_constraint_leaf(Oid relid, const char* conname) {
    Oid con = get_relation_constraint_oid(relid, conname, true);
    Oid index = OidIsValid(con) ? get_constraint_index(con) : InvalidOid;
    if (!OidIsValid(index)) return false;
    HeapTuple rel = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
    if (!HeapTupleIsValid(rel)) return false;
    char ident = ((Form_pg_class)GETSTRUCT(rel))->relreplident;
    ReleaseSysCache(rel);
    HeapTuple ix = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(index));
    if (!HeapTupleIsValid(ix)) return false;
    Form_pg_index form = (Form_pg_index)GETSTRUCT(ix);
    bool key = (ident == REPLICA_IDENTITY_DEFAULT && form->indisprimary) ||
               (ident == REPLICA_IDENTITY_INDEX && form->indisreplident);
    ReleaseSysCache(ix);
    return key;
}

}  // namespace ms::lint::catalog
