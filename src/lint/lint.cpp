// Safety lint: the walker. It visits the statements of a script in order (and the
// subcommands, columns, constraints and foreign keys inside them), keeps what the script did so
// far in the Context, and hands each part to the checks of the rules (lint/rules/, one file per
// rule). Catalog lookups are leaf functions (lint/catalog.hpp); the rules and this walker are
// plain C++ over the raw parse trees. The order of the calls below is the order of findings
// within a statement. At the end, findings about relations that a later statement of the
// script drops are removed (Context::drop_moot_findings), and the rest sorted by statement
// (stably).
#include "lint/lint.hpp"

#include <algorithm>
#include <set>

#include "lint/context.hpp"
#include "lint/rules/rules.hpp"
#include "pg/scope.hpp"

namespace ms::lint {

namespace {

bool is_ddl(Node* n) {
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

// A column of CREATE TABLE or ADD COLUMN (only one written with a type).
void column(Context& ctx, ColumnDef* cd, bool is_key) {
    if (cd->typeName == nullptr || cd->typeName->names == NIL) return;
    checks::prefer_jsonb(ctx, cd, is_key);
    checks::prefer_text(ctx, cd, is_key);
    checks::prefer_timestamptz(ctx, cd, is_key);
    checks::prefer_bigint_key(ctx, cd, is_key);
    checks::identifier_too_long(ctx, cd, is_key);
}

void foreign_key(Context& ctx, const checks::ForeignKey& fk) {
    checks::foreign_key_without_on_delete(ctx, fk);
    checks::foreign_key_without_not_valid(ctx, fk);
    checks::foreign_key_without_index(ctx, fk);
}

// A constraint added to the existing table rv: by ALTER TABLE ... ADD CONSTRAINT (column:
// nullptr), or inline in ADD COLUMN `column`, where only its foreign keys and the index of a
// UNIQUE or PRIMARY KEY are judged.
void added_constraint(Context& ctx, RangeVar* rv, Constraint* c, ColumnDef* column) {
    if (c->contype == CONSTR_FOREIGN) {
        foreign_key(ctx, {rv, c, false, column ? column->colname : nullptr});
        return;
    }
    if (column == nullptr) checks::check_without_not_valid(ctx, rv, c);
    checks::unique_constraint_builds_index(ctx, rv, c);
    checks::primary_key_builds_index(ctx, rv, c);
    if (column == nullptr) checks::exclusion_constraint(ctx, rv, c);
}

void create_table(Context& ctx, CreateStmt* s) {
    std::set<std::string> key_cols;
    auto& indexes = ctx.script_indexes[s->relation->relname];
    ListCell* lc;
    // Table constraints (PRIMARY KEY (...), FOREIGN KEY (...)) sit among the columns in the raw
    // tree; read them first so that key columns are known.
    foreach (lc, s->tableElts) {
        Node* e = static_cast<Node*>(lfirst(lc));
        if (!IsA(e, Constraint)) continue;
        Constraint* c = reinterpret_cast<Constraint*>(e);
        if (c->contype == CONSTR_PRIMARY) {
            ListCell* kc;
            foreach (kc, c->keys) key_cols.insert(strVal(lfirst(kc)));
        }
        // PRIMARY KEY (...) and UNIQUE (...) build indexes a foreign key can use.
        if (c->contype == CONSTR_PRIMARY || c->contype == CONSTR_UNIQUE) {
            std::vector<std::string> cols;
            ListCell* kc;
            foreach (kc, c->keys) cols.push_back(strVal(lfirst(kc)));
            if (!cols.empty()) indexes.push_back(cols);
        }
    }
    foreach (lc, s->tableElts) {
        Node* e = static_cast<Node*>(lfirst(lc));
        if (IsA(e, Constraint)) {
            Constraint* c = reinterpret_cast<Constraint*>(e);
            if (c->contype == CONSTR_FOREIGN) foreign_key(ctx, {s->relation, c, true, nullptr});
            continue;
        }
        if (!IsA(e, ColumnDef)) continue;
        ColumnDef* cd = reinterpret_cast<ColumnDef*>(e);
        bool pk = column_constraint(cd, CONSTR_PRIMARY) != nullptr;
        if (cd->colname && (pk || column_constraint(cd, CONSTR_UNIQUE) != nullptr))
            indexes.push_back({cd->colname});
        column(ctx, cd, key_cols.count(cd->colname ? cd->colname : "") > 0 || pk);
        ListCell* cc;
        foreach (cc, cd->constraints) {
            Constraint* c = static_cast<Constraint*>(lfirst(cc));
            if (c->contype == CONSTR_FOREIGN) foreign_key(ctx, {s->relation, c, true, cd->colname});
        }
    }
    ctx.remember_created(s->relation);
    checks::tenant_table_without_rls(ctx, s);
    checks::table_without_primary_key(ctx, s);
}

void alter_command(Context& ctx, RangeVar* rv, AlterTableCmd* cmd) {
    if (cmd->subtype == AT_AddColumn) {
        ColumnDef* cd = reinterpret_cast<ColumnDef*>(cmd->def);
        column(ctx, cd, false);
        ListCell* lc;
        foreach (lc, cd->constraints) {
            Constraint* c = static_cast<Constraint*>(lfirst(lc));
            if (c->contype == CONSTR_FOREIGN || c->contype == CONSTR_UNIQUE ||
                c->contype == CONSTR_PRIMARY)
                added_constraint(ctx, rv, c, cd);
        }
    } else if (cmd->subtype == AT_AddConstraint) {
        added_constraint(ctx, rv, reinterpret_cast<Constraint*>(cmd->def), nullptr);
    }
    checks::add_column_volatile_default(ctx, rv, cmd);
    checks::add_column_stored_generated(ctx, rv, cmd);
    checks::add_column_serial_or_identity(ctx, rv, cmd);
    checks::add_required_column(ctx, rv, cmd);
    checks::alter_column_type_rewrite(ctx, rv, cmd);
    checks::set_not_null_scan(ctx, rv, cmd);
    checks::table_rewrite_option(ctx, rv, cmd);
    checks::validate_in_same_transaction(ctx, rv, cmd);
    checks::drop_column(ctx, rv, cmd);
    checks::drop_not_null(ctx, rv, cmd);
    checks::drop_constraint(ctx, rv, cmd);
    checks::attach_partition_scan(ctx, rv, cmd);
    checks::concurrently_in_transaction(ctx, rv, cmd);
    checks::detach_partition_blocking(ctx, rv, cmd);
    checks::tenant_table_without_rls(ctx, rv, cmd);
    checks::published_table_change(ctx, rv, cmd);
}

void alter_table(Context& ctx, AlterTableStmt* s) {
    RangeVar* rv = s->relation;
    bool existing = !ctx.created_here(rv);
    checks::multiple_alters_of_one_table(ctx, s);
    ListCell* lc;
    foreach (lc, s->cmds) alter_command(ctx, rv, static_cast<AlterTableCmd*>(lfirst(lc)));
    if (existing) ctx.lock_rule(rv);
}

// The relations a statement works on: what its findings are about (Context::add), unless a
// rule says otherwise. Statements that drop relations name none: their own findings stay.
void statement_about(Context& ctx, Node* n) {
    ListCell* lc;
    switch (nodeTag(n)) {
        case T_CreateStmt:
            ctx.statement_about(reinterpret_cast<CreateStmt*>(n)->relation);
            break;
        case T_CreateTableAsStmt: {
            auto* s = reinterpret_cast<CreateTableAsStmt*>(n);
            if (s->into) ctx.statement_about(s->into->rel);
            break;
        }
        case T_AlterTableStmt:
            ctx.statement_about(reinterpret_cast<AlterTableStmt*>(n)->relation);
            break;
        case T_IndexStmt:
            ctx.statement_about(reinterpret_cast<IndexStmt*>(n)->relation);
            break;
        case T_RenameStmt:
            ctx.statement_about(reinterpret_cast<RenameStmt*>(n)->relation);
            break;
        case T_TruncateStmt:
            foreach (lc, reinterpret_cast<TruncateStmt*>(n)->relations)
                ctx.statement_about(static_cast<RangeVar*>(lfirst(lc)));
            break;
        case T_ReindexStmt:
            ctx.statement_about(reinterpret_cast<ReindexStmt*>(n)->relation);
            break;
        case T_ClusterStmt:
            ctx.statement_about(reinterpret_cast<ClusterStmt*>(n)->relation);
            break;
        case T_RefreshMatViewStmt:
            ctx.statement_about(reinterpret_cast<RefreshMatViewStmt*>(n)->relation);
            break;
        case T_UpdateStmt:
            ctx.statement_about(reinterpret_cast<UpdateStmt*>(n)->relation);
            break;
        case T_DeleteStmt:
            ctx.statement_about(reinterpret_cast<DeleteStmt*>(n)->relation);
            break;
        default:
            break;
    }
}

// DROP TABLE, INDEX, MATERIALIZED VIEW, VIEW, FOREIGN TABLE: the relations it drops, for
// Context::drop_moot_findings (recorded after the statement's own checks).
void drops(Context& ctx, Node* n) {
    if (!IsA(n, DropStmt)) return;
    auto* s = reinterpret_cast<DropStmt*>(n);
    switch (s->removeType) {
        case OBJECT_TABLE:
        case OBJECT_INDEX:
        case OBJECT_MATVIEW:
        case OBJECT_VIEW:
        case OBJECT_FOREIGN_TABLE:
            break;
        default:
            return;
    }
    for (RangeVar* rv : drop_targets(s)) ctx.dropped(rv);
}

void statement(Context& ctx, Node* n) {
    statement_about(ctx, n);
    // The structure of the statement first, and what the script keeps of it.
    switch (nodeTag(n)) {
        case T_CreateStmt:
            create_table(ctx, reinterpret_cast<CreateStmt*>(n));
            break;
        case T_CreateTableAsStmt: {
            auto* s = reinterpret_cast<CreateTableAsStmt*>(n);
            if (s->into && s->into->rel) ctx.remember_created(s->into->rel);
            break;
        }
        case T_AlterTableStmt:
            alter_table(ctx, reinterpret_cast<AlterTableStmt*>(n));
            break;
        case T_IndexStmt: {
            auto* s = reinterpret_cast<IndexStmt*>(n);
            if (s->whereClause == nullptr) {
                std::vector<std::string> cols;
                ListCell* lc;
                foreach (lc, s->indexParams) {
                    IndexElem* e = static_cast<IndexElem*>(lfirst(lc));
                    cols.push_back(e->name ? e->name : "");
                }
                ctx.script_indexes[s->relation->relname].push_back(cols);
            }
            break;
        }
        default:
            break;
    }
    // Then the rules that judge a whole statement (each looks for its own node type).
    checks::create_index_not_concurrent(ctx, n);
    checks::concurrently_in_transaction(ctx, n);
    checks::drop_index_not_concurrent(ctx, n);
    checks::reindex_not_concurrent(ctx, n);
    checks::drop_table(ctx, n);
    checks::drop_schema(ctx, n);
    checks::rename_column(ctx, n);
    checks::rename_table(ctx, n);
    checks::rename_schema(ctx, n);
    checks::truncate(ctx, n);
    checks::truncate_cascade(ctx, n);
    checks::rename_enum_value(ctx, n);
    checks::vacuum_full_rewrite(ctx, n);
    checks::cluster_rewrite(ctx, n);
    checks::refresh_matview_blocking(ctx, n);
    checks::domain_check_constraint(ctx, n);
    checks::require_lock_timeout(ctx, n);
    checks::large_data_change(ctx, n);
    checks::backfill_in_ddl_transaction(ctx, n);  // after T506: not both for one statement
    checks::published_table_change(ctx, n);
    drops(ctx, n);
}

}  // namespace

std::vector<Finding> lint(const std::string& sql) {
    return lint(script::parse(sql, {"", "given"}), Options{});
}

std::vector<Finding> lint(const std::vector<script::Statement>& stmts, const Options& options) {
    Context ctx(options);
    for (const auto& st : stmts) ctx.has_ddl = ctx.has_ddl || is_ddl(st.tree);
    size_t n = 0;
    for (const auto& st : stmts) {
        if ((++n & 1023) == 0) pg::check_for_interrupts();  // scripts of 100k statements
        ctx.start(&st);
        statement(ctx, st.tree);
    }
    // Findings that depend on the whole script.
    checks::foreign_key_without_index(ctx);
    checks::tenant_table_without_rls(ctx);
    // Findings about relations a later statement drops are moot.
    ctx.drop_moot_findings();
    std::stable_sort(ctx.findings.begin(), ctx.findings.end(),
                     [](const Finding& a, const Finding& b) { return a.statement < b.statement; });
    return std::move(ctx.findings);
}

}  // namespace ms::lint
