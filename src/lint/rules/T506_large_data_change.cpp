// T506 large-data-change (transaction).
//
// Trigger: UPDATE or DELETE of an existing table whose target rows reach
// migrations_schema.lint_warning_rows, in any migration (with DDL or without): every row it
// touches stays locked until the migration commits, the table and its indexes bloat,
// replicas lag; with DDL in the script, the DDL's locks are held all that time too. The safe
// alternative is batches, each in its own transaction.
// Catalog: the target rows. Without WHERE (and without FROM / USING): the table's estimated
// rows (Context::stats). Otherwise PostgreSQL's planner estimate for the statement
// (catalog::planned_rows_leaf: analysed and planned now, in a subtransaction rolled back); an
// UPDATE that cannot be planned as written (its SET names a column the script adds first) is
// planned as the DELETE of the same rows; when neither plans (its WHERE names what the script
// creates first, a lock is not free at once, the caller lacks a privilege the statement needs),
// the table's estimated rows. Severity by the row thresholds (Context::by_rows): warning from
// lint_warning_rows, error from lint_error_rows; nothing below, nor for a table created earlier
// in the script or missing, nor for WHERE CURRENT OF; a table whose own estimate is below the
// threshold is not planned at all.
// T505 stays quiet on a statement T506 reports.
#include "lint/rules/rules.hpp"

namespace ms::lint::checks {

void large_data_change(Context& ctx, Node* n) {
    bool update = IsA(n, UpdateStmt);
    if (!update && !IsA(n, DeleteStmt)) return;
    auto* u = update ? reinterpret_cast<UpdateStmt*>(n) : nullptr;
    auto* d = update ? nullptr : reinterpret_cast<DeleteStmt*>(n);
    RangeVar* rv = update ? u->relation : d->relation;
    Node* where = update ? u->whereClause : d->whereClause;
    bool joined = (update ? u->fromClause : d->usingClause) != NIL;
    if (where != nullptr && IsA(where, CurrentOfExpr)) return;  // one row, of a cursor
    if (ctx.created_here(rv)) return;
    catalog::RelStats s = ctx.stats(rv);
    // A statement touches each row of its target once at most: a table below the threshold
    // needs no plan (nor do the many small UPDATEs of a data migration on one).
    if (!s.exists || Context::by_rows(s.rows) < Severity::warning) return;

    enum { whole, planned, unplanned } how = whole;
    double rows = s.rows;
    if (where != nullptr || joined) {
        how = unplanned;
        const char* sql = ctx.current->sql.c_str();
        Oid target = s.relid;
        double est = 0;
        for (bool as_delete : {false, true}) {
            if (as_delete && !update) break;
            if (guard([&] { return catalog::planned_rows_leaf(sql, as_delete, target, &est); })) {
                rows = est;
                how = planned;
                break;
            }
        }
    }
    Severity sev = Context::by_rows(rows);
    if (sev != Severity::warning && sev != Severity::error) return;

    std::string verb = update ? "UPDATE" : "DELETE";
    std::string what = how == whole ? verb + " of every row of " + ctx.size_note(rv)
                       : how == planned
                           ? verb + " of about " + rows_text(rows) + " rows of " + rel_name(rv) +
                                 " (planner estimate)"
                           : verb + " of up to every row of " + rel_name(rv) + " (about " +
                                 rows_text(rows) + " rows; the statement cannot be planned now)";
    ctx.add(RuleId::large_data_change, sev,
            what + " in one transaction: every row it touches stays locked until the migration " +
                "commits" + (ctx.has_ddl ? ", and so do the locks of its DDL" : ""),
            std::string(update ? "update in batches (UPDATE ... WHERE id BETWEEN ...)"
                               : "delete in batches (DELETE ... WHERE id IN (SELECT id ... "
                                 "LIMIT ...))") +
                ", each in its own transaction: repeated statements, or a procedure that COMMITs "
                "after each batch" +
                (ctx.has_ddl ? ", outside the DDL migration" : ""));
}

}  // namespace ms::lint::checks
