// Safety lint. See lint.hpp. Catalog lookups are leaf functions (no C++ objects with
// destructors, called through guard()); the rules themselves are plain C++ over the raw trees.
#include "lint/lint.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace ms::lint {

namespace {

// ---- settings ----
double warning_rows = 10000;
double error_rows = 1000000;
char* opt_in = nullptr;

bool opted_in(const char* rule) {
    if (opt_in == nullptr) return false;
    std::string list = opt_in;
    for (char& ch : list)
        if (ch == ' ') ch = ',';
    list = "," + list + ",";
    return list.find(std::string(",") + rule + ",") != std::string::npos;
}

// ---- catalog lookups (leaf) ----

struct RelStats {
    bool exists;
    Oid relid;
    double rows;
    char relkind;
};

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
        // larger one judged by its real size on disk, at about 100 rows a page.
        Relation r = try_relation_open(out->relid, AccessShareLock);
        if (r != nullptr) {
            BlockNumber pages = RelationGetNumberOfBlocks(r);
            if (pages > 16) {
                out->rows = pages * 100.0;
            } else if (pages > 0) {
                out->rows = count_rows(r, 0, -1, -1);
            }
            relation_close(r, AccessShareLock);
        }
    }
}

// Whether a table has at least one row visible now. Used where the estimates say "empty" but
// data loss is at stake. A table another session has locked counts as empty: the statistics
// are all there is to go on.
bool has_rows_leaf(Oid relid) {
    return count_rows_leaf(relid, 0, 1, -1) > 0;
}

// Whether a column holds a value (not NULL) in a row visible now. After 100,000 rows of NULLs
// it gives up and answers yes (a long scan is not worth the certainty); so it does for a table
// another session has locked, or a partitioned one.
bool column_has_values_leaf(Oid relid, AttrNumber attnum) {
    return count_rows_leaf(relid, attnum, 1, 100000) != 0;
}

struct ColumnInfo {
    bool exists;
    Oid type;
    int32 typmod;
    AttrNumber attnum;
};

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

// The type a TypeName names; false when it does not exist (yet).
bool type_leaf(TypeName* tn, Oid* type, int32* typmod) {
    Type t = LookupTypeName(nullptr, tn, typmod, true);
    if (t == nullptr) return false;
    *type = typeTypeId(t);
    ReleaseSysCache(t);
    return true;
}

// Highest volatility of the functions a raw default expression calls: 'i', 's' or 'v'.
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

char volatility_leaf(Node* expr) {
    VolatilityWalk w{'i'};
    volatility_walker(expr, &w);
    return w.worst;
}

// A validated CHECK (col IS NOT NULL) on the table proves the column has no NULLs.
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
        Datum bin = heap_getattr(tup, Anum_pg_constraint_conbin, RelationGetDescr(rel), &isnull);
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

// An index of the table whose leading columns are exactly `attnums` (in any order), valid
// and not partial.
bool has_leading_index_leaf(Oid relid, const AttrNumber* attnums, int n) {
    bool found = false;
    Relation rel = table_open(relid, AccessShareLock);
    List* indexes = RelationGetIndexList(rel);
    ListCell* lc;
    foreach (lc, indexes) {
        HeapTuple tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(lfirst_oid(lc)));
        if (!HeapTupleIsValid(tup)) continue;
        Form_pg_index idx = (Form_pg_index)GETSTRUCT(tup);
        bool partial = !heap_attisnull(tup, Anum_pg_index_indpred, nullptr);
        if (idx->indisvalid && !partial && idx->indnkeyatts >= n) {
            int matched = 0;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    if (idx->indkey.values[i] == attnums[j]) matched++;
            if (matched == n) found = true;
        }
        ReleaseSysCache(tup);
        if (found) break;
    }
    table_close(rel, AccessShareLock);
    return found;
}

int lock_timeout_leaf() {
    const char* v = GetConfigOption("lock_timeout", false, false);
    return v && strcmp(v, "0") != 0 ? 1 : 0;
}

// ---- the linter ----

std::string rel_name(const RangeVar* rv) {
    return rv->schemaname ? std::string(rv->schemaname) + "." + rv->relname : rv->relname;
}

std::string rows_text(double rows) {
    char buf[64];
    snprintf(buf, sizeof buf, "%.0f", rows);
    return buf;
}

class Linter {
  public:
    std::vector<Finding> findings;

    explicit Linter(const Options& options) : bounded_(options.lock_waits_bounded) {}

    void run(const std::vector<script::Statement>& stmts) {
        for (const auto& st : stmts) has_ddl_ = has_ddl_ || is_ddl(st.tree);
        for (const auto& st : stmts) {
            cur_ = &st;
            statement(st.tree);
        }
    }

  private:
    const script::Statement* cur_ = nullptr;
    std::set<std::string> created_;       // tables created earlier in the script
    std::set<std::string> not_valid_;     // constraints added NOT VALID earlier
    std::map<std::string, int> altered_;  // ALTER TABLE count per pre-existing table
    std::map<std::string, std::vector<std::vector<std::string>>> script_indexes_;
    bool lock_timeout_set_ = false;
    bool bounded_ = false;  // the runner bounds every lock wait itself
    bool lock_timeout_reported_ = false;
    bool has_ddl_ = false;

    static bool is_ddl(Node* n) {
        switch (nodeTag(n)) {
            case T_SelectStmt:
            case T_InsertStmt:
            case T_UpdateStmt:
            case T_DeleteStmt:
            case T_VariableSetStmt:
            case T_TransactionStmt:
                return false;
            default:
                return true;
        }
    }

    void add(const char* id, const char* name, const std::string& severity, std::string message,
             std::string alternative) {
        findings.push_back(Finding{cur_->number, cur_->line, id, name, severity, std::move(message),
                                   std::move(alternative)});
    }

    bool created_here(const RangeVar* rv) const {
        return created_.count(rv->relname) || created_.count(rel_name(rv));
    }

    // One catalog lookup per table name and lint call (the catalog does not change under it).
    RelStats stats(RangeVar* rv) const {
        auto [it, added] = stats_.try_emplace(rel_name(rv));
        if (added) {
            RelStats* s = &it->second;
            guard([&] { rel_stats_leaf(rv, s); });
        }
        return it->second;
    }
    mutable std::map<std::string, RelStats> stats_;

    // Severity of a rule whose cost grows with the table: none for a table created in this
    // script, missing or empty; else info, warning or error by the row thresholds.
    std::string sized(RangeVar* rv, RelStats* out = nullptr) const {
        RelStats s{};
        if (!created_here(rv)) s = stats(rv);
        if (out) *out = s;
        if (created_here(rv) || !s.exists || s.rows <= 0) return "";
        if (s.rows >= error_rows) return "error";
        if (s.rows >= warning_rows) return "warning";
        return "info";
    }

    // Data loss is at stake: the estimate, or when it says empty, a look at the table.
    bool holds_rows(RangeVar* rv) const {
        RelStats s = stats(rv);
        if (!s.exists) return false;
        if (s.rows > 0) return true;
        Oid relid = s.relid;
        return guard([&] { return has_rows_leaf(relid); });
    }

    std::string size_note(RangeVar* rv) const {
        RelStats s = stats(rv);
        std::string n = rows_text(s.rows);
        return rel_name(rv) + " (about " + n + (n == "1" ? " row)" : " rows)");
    }

    void sized_rule(RangeVar* rv, const char* id, const char* name, const std::string& what,
                    const std::string& alternative) {
        std::string sev = sized(rv);
        if (sev.empty()) return;
        add(id, name, sev, what + " on " + size_note(rv), alternative);
        lock_rule(rv);
    }

    // T501: a strong lock on a pre-existing table with no lock_timeout in effect.
    void lock_rule(RangeVar* rv) {
        if (bounded_ || lock_timeout_set_ || lock_timeout_reported_ || created_here(rv)) return;
        if (guard([] { return lock_timeout_leaf(); })) return;
        if (!stats(rv).exists) return;
        lock_timeout_reported_ = true;
        add("T501", "require-lock-timeout", "warning",
            "statement locks " + rel_name(rv) +
                " with no lock_timeout set: behind a long query it would queue every other "
                "query on the table",
            "SET LOCAL lock_timeout = '2s' before the first DDL, and retry on timeout");
    }

    void statement(Node* n) {
        switch (nodeTag(n)) {
            case T_CreateStmt:
                create_table(reinterpret_cast<CreateStmt*>(n));
                break;
            case T_CreateTableAsStmt: {
                auto* s = reinterpret_cast<CreateTableAsStmt*>(n);
                if (s->into && s->into->rel) remember_created(s->into->rel);
                break;
            }
            case T_AlterTableStmt:
                alter_table(reinterpret_cast<AlterTableStmt*>(n));
                break;
            case T_IndexStmt:
                create_index(reinterpret_cast<IndexStmt*>(n));
                break;
            case T_DropStmt:
                drop(reinterpret_cast<DropStmt*>(n));
                break;
            case T_RenameStmt:
                rename(reinterpret_cast<RenameStmt*>(n));
                break;
            case T_TruncateStmt:
                truncate(reinterpret_cast<TruncateStmt*>(n));
                break;
            case T_AlterEnumStmt: {
                auto* s = reinterpret_cast<AlterEnumStmt*>(n);
                if (s->oldVal)
                    add("B407", "rename-enum-value", "warning",
                        "renaming enum value '" + std::string(s->oldVal) + "' to '" + s->newVal +
                            "' breaks every client and stored query that uses the old value",
                        "add the new value, migrate the data and the clients, stop using the "
                        "old one");
                break;
            }
            case T_ReindexStmt: {
                auto* s = reinterpret_cast<ReindexStmt*>(n);
                bool concurrent = false;
                ListCell* lc;
                foreach (lc, s->params) {
                    DefElem* d = static_cast<DefElem*>(lfirst(lc));
                    if (strcmp(d->defname, "concurrently") == 0) concurrent = true;
                }
                if (concurrent)
                    concurrently_rule("REINDEX CONCURRENTLY");
                else
                    add("I305", "reindex-not-concurrent", "warning",
                        "REINDEX blocks writes to the table (and reads that use the index) while "
                        "it rebuilds",
                        "REINDEX ... CONCURRENTLY (apply runs it after the migration's transaction "
                        "commits)");
                break;
            }
            case T_VacuumStmt: {
                auto* v = reinterpret_cast<VacuumStmt*>(n);
                bool full = false;
                ListCell* lc;
                foreach (lc, v->options)
                    if (strcmp(static_cast<DefElem*>(lfirst(lc))->defname, "full") == 0)
                        full = true;
                if (full)
                    add("R109", "vacuum-full-rewrite", "error",
                        "VACUUM FULL rewrites every table it names under an ACCESS EXCLUSIVE lock, "
                        "and cannot run inside a migration's transaction",
                        "pg_repack, or schedule it in a maintenance window");
                break;
            }
            case T_ClusterStmt:
                if (auto* rv = reinterpret_cast<ClusterStmt*>(n)->relation)
                    sized_rule(rv, "R109", "cluster-rewrite",
                               "CLUSTER rewrites the table under "
                               "an ACCESS EXCLUSIVE lock",
                               "pg_repack, or schedule it in a maintenance window");
                break;
            case T_RefreshMatViewStmt: {
                auto* s = reinterpret_cast<RefreshMatViewStmt*>(n);
                if (!s->concurrent && !s->skipData)
                    sized_rule(s->relation, "P603", "refresh-matview-blocking",
                               "REFRESH MATERIALIZED VIEW blocks reads of the view while it "
                               "recomputes",
                               "REFRESH MATERIALIZED VIEW CONCURRENTLY (needs a unique index)");
                break;
            }
            case T_CreateDomainStmt: {
                auto* s = reinterpret_cast<CreateDomainStmt*>(n);
                ListCell* lc;
                foreach (lc, s->constraints) {
                    if (static_cast<Constraint*>(lfirst(lc))->contype == CONSTR_CHECK) {
                        add("C208", "domain-check-constraint", "info",
                            "a CHECK on a domain is checked against every column of the domain "
                            "whenever it changes, and cannot be added NOT VALID per table",
                            "a CHECK constraint on the table column");
                        break;
                    }
                }
                break;
            }
            case T_AlterDomainStmt: {
                auto* s = reinterpret_cast<AlterDomainStmt*>(n);
                if (s->subtype == 'C' && s->def &&
                    !reinterpret_cast<Constraint*>(s->def)->skip_validation)
                    add("C208", "domain-check-constraint", "warning",
                        "ALTER DOMAIN ... ADD CONSTRAINT scans every column of the domain in "
                        "every table while holding locks",
                        "ADD CONSTRAINT ... NOT VALID, then VALIDATE CONSTRAINT in a later "
                        "transaction");
                break;
            }
            case T_TransactionStmt: {
                auto kind = reinterpret_cast<TransactionStmt*>(n)->kind;
                if (kind == TRANS_STMT_BEGIN || kind == TRANS_STMT_START) in_block_ = true;
                if (kind == TRANS_STMT_COMMIT || kind == TRANS_STMT_ROLLBACK) in_block_ = false;
                break;
            }
            case T_VariableSetStmt: {
                auto* s = reinterpret_cast<VariableSetStmt*>(n);
                if (s->name && strcmp(s->name, "lock_timeout") == 0)
                    lock_timeout_set_ = s->kind == VAR_SET_VALUE && !zero_value(s->args);
                break;
            }
            case T_UpdateStmt: {
                auto* s = reinterpret_cast<UpdateStmt*>(n);
                if (has_ddl_ && s->whereClause == nullptr && !created_here(s->relation))
                    add("T505", "backfill-in-ddl-transaction", "warning",
                        "UPDATE of every row of " + rel_name(s->relation) +
                            " in the same transaction as DDL: the DDL's locks are held while "
                            "every row is rewritten",
                        "backfill in batches (UPDATE ... WHERE id BETWEEN ...), each in its own "
                        "transaction, outside the DDL migration");
                break;
            }
            case T_DeleteStmt: {
                auto* s = reinterpret_cast<DeleteStmt*>(n);
                if (has_ddl_ && s->whereClause == nullptr && !created_here(s->relation))
                    add("T505", "backfill-in-ddl-transaction", "warning",
                        "DELETE of every row of " + rel_name(s->relation) +
                            " in the same transaction as DDL",
                        "delete in batches in their own transactions, or TRUNCATE a table "
                        "nothing references");
                break;
            }
            default:
                break;
        }
    }

    // SET lock_timeout = 0 (or '0', '0s', ...) means no timeout.
    static bool zero_value(List* args) {
        if (args == NIL || !IsA(linitial(args), A_Const)) return false;
        A_Const* c = static_cast<A_Const*>(linitial(args));
        if (c->isnull) return false;
        if (IsA(&c->val, Integer)) return intVal(&c->val) == 0;
        if (IsA(&c->val, String)) return strtod(strVal(&c->val), nullptr) == 0;
        return false;
    }

    // A statement that cannot run in a transaction block, inside the script's own BEGIN ...
    // COMMIT block (apply runs it as a step of its own after commit, but not inside a block).
    void concurrently_rule(const char* what) {
        if (!in_block_) return;
        add("I303", "concurrently-in-transaction", "error",
            std::string(what) +
                " cannot run inside a transaction block, and the script's BEGIN ... COMMIT "
                "block puts it in one",
            "move it out of the block: apply runs it as a step of its own, after the "
            "migration's transactional part commits");
    }
    bool in_block_ = false;  // between the script's BEGIN and COMMIT

    void remember_created(RangeVar* rv) {
        created_.insert(rv->relname);
        created_.insert(rel_name(rv));
    }

    void column_types(ColumnDef* cd, bool is_key) {
        TypeName* tn = cd->typeName;
        if (tn == nullptr || tn->names == NIL) return;
        const char* t = strVal(llast(tn->names));
        std::string col = cd->colname ? cd->colname : "?";
        if (strcmp(t, "json") == 0)
            add("Y701", "prefer-jsonb", "info", "column " + col + " is json",
                "jsonb (json has no equality operator: DISTINCT, GROUP BY and UNIQUE fail)");
        if (strcmp(t, "varchar") == 0 && tn->typmods != NIL)
            add("Y703", "prefer-text", "info",
                "column " + col + " is varchar(n): changing the limit later rewrites the table",
                "text with CHECK (length(" + col + ") <= n)");
        if (strcmp(t, "bpchar") == 0)
            add("Y703", "prefer-text", "info", "column " + col + " is char(n) (blank-padded)",
                "text");
        if (strcmp(t, "timestamp") == 0)
            add("Y704", "prefer-timestamptz", "info",
                "column " + col + " is timestamp without time zone",
                "timestamptz (stores an absolute point in time)");
        if (is_key && (strcmp(t, "int4") == 0 || strcmp(t, "int2") == 0 ||
                       strcmp(t, "serial") == 0 || strcmp(t, "serial4") == 0 ||
                       strcmp(t, "smallserial") == 0 || strcmp(t, "serial2") == 0))
            add("Y702", "prefer-bigint-key", "info",
                "key column " + col +
                    " is a 32-bit (or smaller) integer: widening it later "
                    "rewrites the table and its referencing tables",
                "bigint GENERATED ALWAYS AS IDENTITY");
        if (strlen(cd->colname ? cd->colname : "") >= NAMEDATALEN)
            add("Y705", "identifier-too-long", "warning",
                "column name longer than 63 bytes is truncated by PostgreSQL", "a shorter name");
    }

    static bool has_constraint(ColumnDef* cd, ConstrType t) {
        ListCell* lc;
        foreach (lc, cd->constraints)
            if (static_cast<Constraint*>(lfirst(lc))->contype == t) return true;
        return false;
    }

    void create_table(CreateStmt* s) {
        std::set<std::string> key_cols;
        bool has_pk = false, has_tenant = false;
        ListCell* lc;
        // Table constraints (PRIMARY KEY (...), FOREIGN KEY (...)) sit among the columns in
        // the raw tree; read them first so that key columns are known.
        foreach (lc, s->tableElts) {
            Node* e = static_cast<Node*>(lfirst(lc));
            if (!IsA(e, Constraint)) continue;
            Constraint* c = reinterpret_cast<Constraint*>(e);
            if (c->contype == CONSTR_PRIMARY) {
                has_pk = true;
                ListCell* kc;
                foreach (kc, c->keys) key_cols.insert(strVal(lfirst(kc)));
            }
            // PRIMARY KEY (...) and UNIQUE (...) build indexes a foreign key can use.
            if (c->contype == CONSTR_PRIMARY || c->contype == CONSTR_UNIQUE) {
                std::vector<std::string> cols;
                ListCell* kc;
                foreach (kc, c->keys) cols.push_back(strVal(lfirst(kc)));
                if (!cols.empty()) script_indexes_[s->relation->relname].push_back(cols);
            }
        }
        foreach (lc, s->tableElts) {
            Node* e = static_cast<Node*>(lfirst(lc));
            if (IsA(e, Constraint)) {
                Constraint* c = reinterpret_cast<Constraint*>(e);
                if (c->contype == CONSTR_FOREIGN) foreign_key(s->relation, c, true);
                continue;
            }
            if (!IsA(e, ColumnDef)) continue;
            ColumnDef* cd = reinterpret_cast<ColumnDef*>(e);
            if (has_constraint(cd, CONSTR_PRIMARY)) {
                has_pk = true;
                key_cols.insert(cd->colname);
            }
            if (cd->colname &&
                (has_constraint(cd, CONSTR_PRIMARY) || has_constraint(cd, CONSTR_UNIQUE)))
                script_indexes_[s->relation->relname].push_back({cd->colname});
            if (cd->colname && strcmp(cd->colname, "tenant_id") == 0) has_tenant = true;
            column_types(cd, key_cols.count(cd->colname ? cd->colname : "") > 0 ||
                                 has_constraint(cd, CONSTR_PRIMARY));
            ListCell* cc;
            foreach (cc, cd->constraints) {
                Constraint* c = static_cast<Constraint*>(lfirst(cc));
                if (c->contype == CONSTR_FOREIGN) foreign_key(s->relation, c, true, cd->colname);
            }
        }
        remember_created(s->relation);
        if (opted_in("tenant_rls") && has_tenant) pending_rls_[s->relation->relname] = cur_;
        if (opted_in("require_primary_key") && !has_pk && s->partbound == nullptr)
            add("O803", "table-without-primary-key", "warning",
                "table " + rel_name(s->relation) + " has no primary key",
                "add a primary key (bigint identity)");
    }
    std::map<std::string, const script::Statement*> pending_rls_;  // tenant tables without RLS

    // `column`: the column of an inline REFERENCES (the constraint then names no columns).
    void foreign_key(RangeVar* table, Constraint* c, bool in_create, const char* column = nullptr) {
        if (opted_in("fk_on_delete") && c->fk_del_action == FKCONSTR_ACTION_NOACTION)
            add("O801", "foreign-key-without-on-delete", "warning",
                "foreign key on " + rel_name(table) + " does not say what happens on delete",
                "ON DELETE CASCADE, SET NULL or RESTRICT, explicitly");
        if (!in_create && !c->skip_validation) {
            std::string sev = sized(table);
            if (!sev.empty())
                add("C202", "foreign-key-without-not-valid", sev,
                    "adding a validated foreign key scans " + size_note(table) +
                        " while blocking writes to it and to " + rel_name(c->pktable),
                    "ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID, then VALIDATE CONSTRAINT in a "
                    "later transaction");
        }
        // I306: the referencing columns need an index.
        std::vector<std::string> cols;
        ListCell* lc;
        foreach (lc, c->fk_attrs) cols.push_back(strVal(lfirst(lc)));
        if (cols.empty() && column != nullptr) cols.push_back(column);
        if (cols.empty()) return;
        if (script_index_covers(table, cols)) return;
        if (!created_here(table)) {
            RelStats s = stats(table);
            if (s.exists) {
                std::vector<AttrNumber> nums;
                for (const auto& col : cols) {
                    ColumnInfo ci;
                    guard([&] { column_leaf(s.relid, col.c_str(), &ci); });
                    if (!ci.exists) return;
                    nums.push_back(ci.attnum);
                }
                Oid relid = s.relid;
                if (guard([&] {
                        return has_leading_index_leaf(relid, nums.data(),
                                                      static_cast<int>(nums.size()));
                    }))
                    return;
            }
        }
        pending_fk_.push_back({cur_, table, cols});
    }
    struct PendingFk {
        const script::Statement* st;
        RangeVar* table;
        std::vector<std::string> cols;
    };
    std::vector<PendingFk> pending_fk_;

    bool script_index_covers(RangeVar* table, const std::vector<std::string>& cols) const {
        auto it = script_indexes_.find(table->relname);
        if (it == script_indexes_.end()) return false;
        for (const auto& idx : it->second) {
            if (idx.size() < cols.size()) continue;
            std::set<std::string> lead(idx.begin(), idx.begin() + cols.size());
            if (lead == std::set<std::string>(cols.begin(), cols.end())) return true;
        }
        return false;
    }

  public:
    // Findings that depend on the whole script (an index created later covers a foreign key).
    void finish() {
        for (const auto& p : pending_fk_) {
            if (script_index_covers(p.table, p.cols)) continue;
            std::string list;
            for (const auto& col : p.cols) list += (list.empty() ? "" : ", ") + col;
            findings.push_back(
                Finding{p.st->number, p.st->line, "I306", "foreign-key-without-index", "warning",
                        "foreign key (" + list + ") on " + rel_name(p.table) +
                            " has no index starting with those columns: deletes and key updates in "
                            "the referenced table scan it",
                        "CREATE INDEX CONCURRENTLY ON " + rel_name(p.table) + " (" + list + ")"});
        }
        for (const auto& [table, st] : pending_rls_)
            findings.push_back(
                Finding{st->number, st->line, "O802", "tenant-table-without-rls", "warning",
                        "table " + table +
                            " has a tenant_id column but the migration does not enable row-level "
                            "security on it",
                        "ALTER TABLE " + table +
                            " ENABLE ROW LEVEL SECURITY and a policy on tenant_id, in the same "
                            "migration"});
    }

  private:
    void alter_table(AlterTableStmt* s) {
        RangeVar* rv = s->relation;
        bool existing = !created_here(rv);
        if (existing && stats(rv).exists && ++altered_[rel_name(rv)] == 2)
            add("T504", "multiple-alters-of-one-table", "warning",
                rel_name(rv) +
                    " is altered by more than one ALTER TABLE in this migration: each "
                    "takes its lock and may scan or rewrite it again",
                "one ALTER TABLE with the changes separated by commas");
        ListCell* lc;
        foreach (lc, s->cmds) {
            AlterTableCmd* cmd = static_cast<AlterTableCmd*>(lfirst(lc));
            alter_cmd(rv, cmd);
        }
        if (existing) lock_rule(rv);
    }

    void alter_cmd(RangeVar* rv, AlterTableCmd* cmd) {
        switch (cmd->subtype) {
            case AT_AddColumn: {
                ColumnDef* cd = reinterpret_cast<ColumnDef*>(cmd->def);
                column_types(cd, false);
                Constraint* def = nullptr;
                bool not_null = false, generated = false, identity = false;
                ListCell* lc;
                foreach (lc, cd->constraints) {
                    Constraint* c = static_cast<Constraint*>(lfirst(lc));
                    if (c->contype == CONSTR_DEFAULT) def = c;
                    if (c->contype == CONSTR_NOTNULL) not_null = true;
                    if (c->contype == CONSTR_GENERATED) generated = true;
                    if (c->contype == CONSTR_IDENTITY) identity = true;
                    if (c->contype == CONSTR_FOREIGN) foreign_key(rv, c, false, cd->colname);
                    if (c->contype == CONSTR_UNIQUE || c->contype == CONSTR_PRIMARY)
                        index_constraint(rv, c);
                }
                const char* t =
                    cd->typeName && cd->typeName->names ? strVal(llast(cd->typeName->names)) : "";
                bool serial = strstr(t, "serial") != nullptr;
                if (def) {
                    Node* expr = def->raw_expr;
                    char v = guard([&] { return volatility_leaf(expr); });
                    if (v == PROVOLATILE_VOLATILE)
                        sized_rule(rv, "R101", "add-column-volatile-default",
                                   "ADD COLUMN " + std::string(cd->colname) +
                                       " with a volatile default rewrites every row under an "
                                       "ACCESS EXCLUSIVE lock",
                                   "add the column without a default (or with a constant one), "
                                   "SET DEFAULT, then backfill in batches");
                }
                if (generated)
                    sized_rule(rv, "R102", "add-column-stored-generated",
                               "ADD COLUMN " + std::string(cd->colname) +
                                   " GENERATED ... STORED computes every row under an ACCESS "
                                   "EXCLUSIVE lock",
                               "a plain column filled by a trigger and a batched backfill");
                if (serial || identity)
                    sized_rule(rv, "R103", "add-column-serial-or-identity",
                               "ADD COLUMN " + std::string(cd->colname) +
                                   " serial/identity fills every row under an ACCESS EXCLUSIVE "
                                   "lock",
                               "a nullable bigint column, a sequence default, then a batched "
                               "backfill");
                if (not_null && !def && !generated && !identity && !serial) {
                    if (!sized(rv).empty())
                        add("R107", "add-required-column", "error",
                            "ADD COLUMN " + std::string(cd->colname) +
                                " NOT NULL without a default fails: " + size_note(rv) + " has rows",
                            "add it nullable (or NOT NULL DEFAULT a constant), backfill, then "
                            "SET NOT NULL");
                }
                break;
            }
            case AT_AlterColumnType:
                alter_type(rv, cmd);
                break;
            case AT_SetNotNull:
                set_not_null(rv, cmd->name);
                break;
            case AT_EnableRowSecurity:
                pending_rls_.erase(rv->relname);
                break;
            case AT_DropNotNull:
                if (!created_here(rv))
                    add("B405", "drop-not-null", "warning",
                        "DROP NOT NULL on " + rel_name(rv) + "." + cmd->name +
                            ": readers that assume a value may break",
                        "keep NOT NULL; use a sentinel value");
                break;
            case AT_AddConstraint:
                add_constraint(rv, reinterpret_cast<Constraint*>(cmd->def));
                break;
            case AT_ValidateConstraint:
                if (not_valid_.count(cmd->name))
                    add("C203", "validate-in-same-transaction", "warning",
                        "VALIDATE CONSTRAINT " + std::string(cmd->name) +
                            " in the migration that added it NOT VALID: the scan runs while the "
                            "ADD's lock is still held",
                        "VALIDATE in a later migration (its own transaction)");
                break;
            case AT_DropColumn: {
                if (created_here(rv) || !stats(rv).exists) break;
                // Data loss when the column holds values; else it only breaks its readers.
                bool values = false;
                if (holds_rows(rv)) {
                    ColumnInfo ci;
                    Oid relid = stats(rv).relid;
                    const char* col = cmd->name;
                    guard([&] { column_leaf(relid, col, &ci); });
                    AttrNumber attnum = ci.attnum;
                    values = ci.exists && ci.attnum > 0 &&
                             guard([&] { return column_has_values_leaf(relid, attnum); });
                }
                add("B401", "drop-column", values ? "error" : "warning",
                    "DROP COLUMN " + std::string(cmd->name) + " on " +
                        (stats(rv).rows > 0 ? size_note(rv) : rel_name(rv)) +
                        (values ? " loses its data" : " (it holds no values)") +
                        ", and running code that reads it fails",
                    "stop using the column in the application first, drop it in a later "
                    "release");
                break;
            }
            case AT_DropConstraint:
                if (!created_here(rv))
                    add("B408", "drop-constraint", "info",
                        "DROP CONSTRAINT " + std::string(cmd->name) + " on " + rel_name(rv) +
                            ": the rule it enforced is no longer checked",
                        "make sure the integrity is enforced elsewhere");
                break;
            case AT_SetLogged:
            case AT_SetUnLogged:
            case AT_SetTableSpace:
            case AT_SetAccessMethod:
                sized_rule(rv, "R108", "table-rewrite-option",
                           "SET LOGGED / UNLOGGED / TABLESPACE / ACCESS METHOD rewrites or copies "
                           "the table under an ACCESS EXCLUSIVE lock",
                           "a new table filled in batches, then a swap; or a maintenance window");
                break;
            case AT_AttachPartition:
                if (auto* pc = reinterpret_cast<PartitionCmd*>(cmd->def))
                    sized_rule(pc->name, "P602", "attach-partition-scan",
                               "ATTACH PARTITION scans the partition to check its bound",
                               "add a CHECK matching the bound NOT VALID, VALIDATE it, then "
                               "ATTACH (the scan is skipped)");
                break;
            case AT_DetachPartition:
                if (auto* pc = reinterpret_cast<PartitionCmd*>(cmd->def)) {
                    if (pc->concurrent)
                        concurrently_rule("DETACH PARTITION ... CONCURRENTLY");
                    else if (!created_here(rv))
                        add("P601", "detach-partition-blocking", "warning",
                            "DETACH PARTITION takes an ACCESS EXCLUSIVE lock on " + rel_name(rv),
                            "DETACH PARTITION ... CONCURRENTLY (apply runs it after the "
                            "migration's transaction commits)");
                }
                break;
            default:
                break;
        }
    }

    void index_constraint(RangeVar* rv, Constraint* c) {
        if (c->indexname != nullptr) return;  // USING INDEX: no build
        bool pk = c->contype == CONSTR_PRIMARY;
        sized_rule(rv, pk ? "C205" : "C204",
                   pk ? "primary-key-builds-index" : "unique-constraint-builds-index",
                   std::string(pk ? "ADD PRIMARY KEY" : "ADD UNIQUE") +
                       " builds its index under an ACCESS EXCLUSIVE lock",
                   "CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT ... " +
                       std::string(pk ? "PRIMARY KEY" : "UNIQUE") + " USING INDEX");
    }

    void add_constraint(RangeVar* rv, Constraint* c) {
        if (c->skip_validation && c->conname) not_valid_.insert(c->conname);
        switch (c->contype) {
            case CONSTR_CHECK:
                if (!c->skip_validation)
                    sized_rule(rv, "C201", "check-without-not-valid",
                               "ADD CHECK scans the whole table under an ACCESS EXCLUSIVE lock",
                               "ADD CONSTRAINT ... CHECK (...) NOT VALID, then VALIDATE "
                               "CONSTRAINT in a later transaction");
                break;
            case CONSTR_FOREIGN:
                foreign_key(rv, c, false);
                break;
            case CONSTR_UNIQUE:
            case CONSTR_PRIMARY:
                index_constraint(rv, c);
                break;
            case CONSTR_EXCLUSION:
                sized_rule(rv, "C207", "exclusion-constraint",
                           "ADD EXCLUDE builds its index under an ACCESS EXCLUSIVE lock (it cannot "
                           "be added NOT VALID)",
                           "only on new or empty tables; otherwise a maintenance window");
                break;
            default:
                break;
        }
    }

    void alter_type(RangeVar* rv, AlterTableCmd* cmd) {
        if (created_here(rv)) return;
        RelStats s{};
        std::string sev = sized(rv, &s);
        if (sev.empty()) return;
        ColumnDef* cd = reinterpret_cast<ColumnDef*>(cmd->def);
        ColumnInfo ci;
        Oid relid = s.relid;
        const char* col = cmd->name;
        guard([&] { column_leaf(relid, col, &ci); });
        Oid to = InvalidOid;
        int32 to_mod = -1;
        TypeName* tn = cd->typeName;
        bool known = guard([&] { return type_leaf(tn, &to, &to_mod); });
        bool rewrite = true;
        if (ci.exists && known && cd->raw_default == nullptr) {
            Oid from = ci.type;
            int32 from_mod = ci.typmod;
            if (from == to) {
                if (to_mod == -1 || to_mod == from_mod) {
                    rewrite = false;
                } else if (from_mod != -1 &&
                           (to == VARCHAROID || to == TIMESTAMPOID || to == TIMESTAMPTZOID ||
                            to == TIMEOID || to == INTERVALOID || to == VARBITOID)) {
                    rewrite = to_mod < from_mod;
                } else if (from_mod != -1 && to == NUMERICOID) {
                    int32 fp = ((from_mod - VARHDRSZ) >> 16) & 0xffff,
                          fs = (from_mod - VARHDRSZ) & 0xffff;
                    int32 tp = ((to_mod - VARHDRSZ) >> 16) & 0xffff,
                          ts = (to_mod - VARHDRSZ) & 0xffff;
                    rewrite = !(ts == fs && tp >= fp);
                }
            } else if (to_mod == -1) {
                rewrite = !guard([&] { return IsBinaryCoercible(from, to); });
            }
        }
        if (!rewrite) return;
        add("R104", "alter-column-type-rewrite", sev,
            "ALTER COLUMN " + std::string(cmd->name) + " TYPE is not binary coercible from its " +
                "current type: it rewrites " + size_note(rv) +
                " and rebuilds its indexes under an ACCESS EXCLUSIVE lock",
            "a new column, a trigger keeping both in sync, a batched backfill, then a swap");
        lock_rule(rv);
    }

    void set_not_null(RangeVar* rv, const char* col) {
        RelStats s{};
        std::string sev = sized(rv, &s);
        if (sev.empty()) return;
        ColumnInfo ci;
        Oid relid = s.relid;
        guard([&] { column_leaf(relid, col, &ci); });
        if (ci.exists) {
            AttrNumber attnum = ci.attnum;
            if (guard([&] { return not_null_proven_leaf(relid, attnum); })) return;
        }
        add("R106", "set-not-null-scan", sev,
            "SET NOT NULL on " + rel_name(rv) + "." + col + " scans " + size_note(rv) +
                " under an ACCESS EXCLUSIVE lock",
            "ADD CONSTRAINT ... CHECK (" + std::string(col) +
                " IS NOT NULL) NOT VALID, VALIDATE it in a later transaction, then SET NOT "
                "NULL (no scan) and drop the CHECK");
        lock_rule(rv);
    }

    void create_index(IndexStmt* s) {
        std::vector<std::string> cols;
        ListCell* lc;
        foreach (lc, s->indexParams) {
            IndexElem* e = static_cast<IndexElem*>(lfirst(lc));
            cols.push_back(e->name ? e->name : "");
        }
        if (s->whereClause == nullptr) script_indexes_[s->relation->relname].push_back(cols);
        if (s->concurrent) {
            concurrently_rule("CREATE INDEX CONCURRENTLY");
            return;
        }
        sized_rule(
            s->relation, "I301", "create-index-not-concurrent",
            "CREATE INDEX blocks writes to the table while it builds",
            "CREATE INDEX CONCURRENTLY (apply runs it after the migration's transaction commits)");
    }

    void drop(DropStmt* s) {
        ListCell* lc;
        switch (s->removeType) {
            case OBJECT_INDEX:
                if (s->concurrent)
                    concurrently_rule("DROP INDEX CONCURRENTLY");
                else
                    add("I302", "drop-index-not-concurrent", "warning",
                        "DROP INDEX takes an ACCESS EXCLUSIVE lock on the index's table",
                        "DROP INDEX CONCURRENTLY (apply runs it after the migration's transaction "
                        "commits)");
                break;
            case OBJECT_TABLE:
                foreach (lc, s->objects) {
                    List* names = static_cast<List*>(lfirst(lc));
                    RangeVar* rv = guard([&] { return makeRangeVarFromNameList(names); });
                    if (created_here(rv)) continue;
                    if (!stats(rv).exists) continue;
                    bool rows = holds_rows(rv);
                    add("B402", "drop-table", rows ? "error" : "warning",
                        "DROP TABLE " + (stats(rv).rows > 0 ? size_note(rv) : rel_name(rv)) +
                            (rows ? ": its data is lost" : " (empty)") +
                            (s->behavior == DROP_CASCADE ? ", and CASCADE drops what depends on it"
                                                         : ""),
                        "stop using the table first, keep a copy, drop it in a later release");
                }
                break;
            case OBJECT_SCHEMA:
                add("B402", "drop-schema", s->behavior == DROP_CASCADE ? "error" : "warning",
                    std::string("DROP SCHEMA") + (s->behavior == DROP_CASCADE
                                                      ? " ... CASCADE drops every object in it"
                                                      : " drops the schema"),
                    "drop its objects explicitly, one migration at a time");
                break;
            default:
                break;
        }
    }

    void rename(RenameStmt* s) {
        if (s->relation && created_here(s->relation)) return;
        if (s->relation && (s->renameType == OBJECT_COLUMN || s->renameType == OBJECT_TABLE))
            lock_rule(s->relation);
        if (s->renameType == OBJECT_COLUMN)
            add("B403", "rename-column", "warning",
                "RENAME COLUMN " + std::string(s->subname ? s->subname : "") + " to " + s->newname +
                    ": running code that uses the old name fails",
                "add the new column and write both, or expose the old name through a view; "
                "switch readers, then drop the old one");
        else if (s->renameType == OBJECT_TABLE)
            add("B404", "rename-table", "warning",
                "RENAME TABLE to " + std::string(s->newname) +
                    ": running code that uses the old name fails",
                "an updatable view under the old name while clients move");
        else if (s->renameType == OBJECT_SCHEMA)
            add("B404", "rename-schema", "warning",
                "RENAME SCHEMA to " + std::string(s->newname) +
                    ": running code that uses the old name fails",
                "move clients first; keep the old schema with views");
    }

    void truncate(TruncateStmt* s) {
        ListCell* lc;
        foreach (lc, s->relations) lock_rule(static_cast<RangeVar*>(lfirst(lc)));
        add("B406", s->behavior == DROP_CASCADE ? "truncate-cascade" : "truncate",
            s->behavior == DROP_CASCADE ? "error" : "warning",
            std::string("TRUNCATE") + (s->behavior == DROP_CASCADE
                                           ? " ... CASCADE empties every table that references "
                                             "these, too"
                                           : " removes every row under an ACCESS EXCLUSIVE lock"),
            "name every table explicitly; delete in batches when the data matters");
    }
};

}  // namespace

void define_settings() noexcept {
    DefineCustomRealVariable(
        "migrations_schema.lint_warning_rows",
        "Tables with at least this many rows make size-dependent lint findings warnings.",
        "Smaller (non-empty) tables give info; empty tables and tables created in the same "
        "migration give none.",
        &warning_rows, 10000, 0, 1e15, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    DefineCustomRealVariable(
        "migrations_schema.lint_error_rows",
        "Tables with at least this many rows make size-dependent lint findings errors.", nullptr,
        &error_rows, 1000000, 0, 1e15, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    DefineCustomStringVariable(
        "migrations_schema.lint_opt_in",
        "Opt-in lint rules: fk_on_delete, tenant_rls, require_primary_key (comma separated).",
        nullptr, &opt_in, "", PGC_USERSET, 0, nullptr, nullptr, nullptr);
}

std::vector<Finding> lint(const std::string& sql) {
    return lint(script::parse(sql, {"", "given"}), Options{});
}

std::vector<Finding> lint(const std::vector<script::Statement>& stmts, const Options& options) {
    Linter l(options);
    l.run(stmts);
    l.finish();
    std::stable_sort(l.findings.begin(), l.findings.end(),
                     [](const Finding& a, const Finding& b) { return a.statement < b.statement; });
    return l.findings;
}

}  // namespace ms::lint
