// The checks of the lint rules, one file per rule (src/lint/rules/<ID>_<name>.cpp; the rule's
// id, name, family and summary are its line in lint/rules.def). lint.cpp walks the script and
// hands each check what it looks at; a check decides from the raw parse tree and the live
// catalog (through Context) whether its rule fires, and reports with Context::add under its
// RuleId. The order in which lint.cpp calls the checks of one event is the order of their
// findings within a statement.
#pragma once

#include "lint/context.hpp"

namespace ms::lint::checks {

// A foreign key the script adds: table-level or inline, in CREATE TABLE or ALTER TABLE.
struct ForeignKey {
    RangeVar* table;         // the referencing table
    Constraint* constraint;  // contype CONSTR_FOREIGN
    bool in_create;          // in its table's CREATE TABLE
    const char* column;      // the column of an inline REFERENCES (the constraint names none)
};

// ---- any top-level statement; each check looks for its own node type ----
void vacuum_full_rewrite(Context& ctx, Node* n);          // R109
void cluster_rewrite(Context& ctx, Node* n);              // R111
void domain_check_constraint(Context& ctx, Node* n);      // C208
void create_index_not_concurrent(Context& ctx, Node* n);  // I301
void drop_index_not_concurrent(Context& ctx, Node* n);    // I302
void concurrently_in_transaction(Context& ctx, Node* n);  // I303
void reindex_not_concurrent(Context& ctx, Node* n);       // I305
void drop_table(Context& ctx, Node* n);                   // B402
void rename_column(Context& ctx, Node* n);                // B403
void rename_table(Context& ctx, Node* n);                 // B404
void truncate(Context& ctx, Node* n);                     // B406
void rename_enum_value(Context& ctx, Node* n);            // B407
void drop_schema(Context& ctx, Node* n);                  // B409
void rename_schema(Context& ctx, Node* n);                // B410
void truncate_cascade(Context& ctx, Node* n);             // B411
void require_lock_timeout(Context& ctx, Node* n);         // T501: SET lock_timeout
void backfill_in_ddl_transaction(Context& ctx, Node* n);  // T505
void large_data_change(Context& ctx, Node* n);            // T506
void refresh_matview_blocking(Context& ctx, Node* n);     // P603
void published_table_change(Context& ctx, Node* n);       // L001: RENAME, SET SCHEMA, DROP, CREATE

// ---- T501: a statement takes a strong lock on rv (Context::lock_rule) ----
void require_lock_timeout(Context& ctx, RangeVar* rv);

// ---- ALTER TABLE, before its subcommands ----
void multiple_alters_of_one_table(Context& ctx, AlterTableStmt* s);  // T504

// ---- each subcommand of ALTER TABLE rv; each check looks for its own subtype ----
void add_column_volatile_default(Context& ctx, RangeVar* rv, AlterTableCmd* cmd);    // R101
void add_column_stored_generated(Context& ctx, RangeVar* rv, AlterTableCmd* cmd);    // R102
void add_column_serial_or_identity(Context& ctx, RangeVar* rv, AlterTableCmd* cmd);  // R103
void add_required_column(Context& ctx, RangeVar* rv, AlterTableCmd* cmd);            // R107
void alter_column_type_rewrite(Context& ctx, RangeVar* rv, AlterTableCmd* cmd);      // R104
void set_not_null_scan(Context& ctx, RangeVar* rv, AlterTableCmd* cmd);              // R106
void table_rewrite_option(Context& ctx, RangeVar* rv, AlterTableCmd* cmd);           // R108
void validate_in_same_transaction(Context& ctx, RangeVar* rv, AlterTableCmd* cmd);   // C203
void concurrently_in_transaction(Context& ctx, RangeVar* rv, AlterTableCmd* cmd);    // I303
void drop_column(Context& ctx, RangeVar* rv, AlterTableCmd* cmd);                    // B401
void drop_not_null(Context& ctx, RangeVar* rv, AlterTableCmd* cmd);                  // B405
void drop_constraint(Context& ctx, RangeVar* rv, AlterTableCmd* cmd);                // B408
void detach_partition_blocking(Context& ctx, RangeVar* rv, AlterTableCmd* cmd);      // P601
void attach_partition_scan(Context& ctx, RangeVar* rv, AlterTableCmd* cmd);          // P602
void tenant_table_without_rls(Context& ctx, RangeVar* rv, AlterTableCmd* cmd);       // O802
void published_table_change(Context& ctx, RangeVar* rv, AlterTableCmd* cmd);         // L001

// ---- a constraint added to the existing table rv (ADD CONSTRAINT; UNIQUE / PRIMARY KEY also
// inline in ADD COLUMN); each check looks for its own contype ----
void check_without_not_valid(Context& ctx, RangeVar* rv, Constraint* c);         // C201
void unique_constraint_builds_index(Context& ctx, RangeVar* rv, Constraint* c);  // C204
void primary_key_builds_index(Context& ctx, RangeVar* rv, Constraint* c);        // C205
void exclusion_constraint(Context& ctx, RangeVar* rv, Constraint* c);            // C207

// ---- a foreign key the script adds ----
void foreign_key_without_on_delete(Context& ctx, const ForeignKey& fk);  // O801
void foreign_key_without_not_valid(Context& ctx, const ForeignKey& fk);  // C202
void foreign_key_without_index(Context& ctx, const ForeignKey& fk);      // I306

// ---- a column of CREATE TABLE or ADD COLUMN, written with a type; is_key: part of the
// table's primary key ----
void prefer_jsonb(Context& ctx, ColumnDef* cd, bool is_key);         // Y701
void prefer_text(Context& ctx, ColumnDef* cd, bool is_key);          // Y703
void prefer_timestamptz(Context& ctx, ColumnDef* cd, bool is_key);   // Y704
void prefer_bigint_key(Context& ctx, ColumnDef* cd, bool is_key);    // Y702
void identifier_too_long(Context& ctx, ColumnDef* cd, bool is_key);  // Y705

// ---- CREATE TABLE, after its columns and constraints ----
void tenant_table_without_rls(Context& ctx, CreateStmt* s);   // O802
void table_without_primary_key(Context& ctx, CreateStmt* s);  // O803

// ---- the end of the script: findings that depended on what came later ----
void foreign_key_without_index(Context& ctx);  // I306
void tenant_table_without_rls(Context& ctx);   // O802

}  // namespace ms::lint::checks
