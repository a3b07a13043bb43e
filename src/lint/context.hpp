// What the rules of one lint call share: the findings and what each is about, the statement
// being linted, what the script did before it (tables created, constraints added NOT VALID,
// ALTER TABLE counts, indexes, relations dropped), the per-call cache of table statistics and
// the judgements built on it (severity by table size, whether a table holds rows), T501's
// bookkeeping, and the findings that wait for the end of the script.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "lint/catalog.hpp"
#include "lint/lint.hpp"

namespace ms::lint {

enum class Severity { none, info, warning, error };
const char* severity_text(Severity s);

// schema.name or name, as written.
std::string rel_name(const RangeVar* rv);
// An estimate of rows as a whole number: "20000".
std::string rows_text(double rows);

class Context {
  public:
    explicit Context(const Options& options) : lock_waits_bounded(options.lock_waits_bounded) {}
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;

    std::vector<Finding> findings;
    const script::Statement* current = nullptr;  // the statement being linted (start())
    bool has_ddl = false;                        // the script has a statement other than DML/SET
    bool in_block = false;                       // between the script's BEGIN and COMMIT (I303)

    // ---- what a finding is about ----
    // A finding is about relations. When later statements of the script drop every one of
    // them, it is not raised (drop_moot_findings(), at the end of the script); the statement
    // that drops a relation keeps its own findings. A relation is known by its oid when it
    // exists (any name of it matches: schema-qualified or not), else by its name (a table the
    // script creates); an index also by its table's (dropping a table drops its indexes). A
    // relation dropped and created again by the script is another relation.
    struct Key {
        std::string name;   // "#<oid>" or the relation's name
        size_t generation;  // how many times the script dropped `name` before
    };
    using About = std::vector<std::vector<Key>>;  // the relations, each by any of its keys
    // rv as it is now, alone.
    About about(RangeVar* rv);

    // The walker, per statement: it starts; what its add() findings are about (the relations
    // it works on: the table of ALTER TABLE, CREATE INDEX, UPDATE ..., the tables of TRUNCATE);
    // that it drops rv (after its checks ran).
    void start(const script::Statement* st);
    void statement_about(RangeVar* rv);
    void dropped(RangeVar* rv);
    // Removes the findings whose relations are all dropped by later statements.
    void drop_moot_findings();

    // A finding of `rule` for the current statement, about its relations (statement_about).
    void add(RuleId rule, Severity severity, std::string message, std::string alternative);
    // A finding of `rule` for the statement `at`, about `about` (empty: about nothing a DROP
    // removes, e.g. T501, which is about the script's lock_timeout).
    void add_at(const script::Statement* at, About about, RuleId rule, Severity severity,
                std::string message, std::string alternative);
    // Whether the current statement has a finding of `rule` already.
    bool reported(RuleId rule) const;

    // ---- tables ----
    bool created_here(const RangeVar* rv) const;  // created earlier in the script
    void remember_created(const RangeVar* rv);
    // One catalog lookup per table name and lint call (the catalog does not change under it).
    catalog::RelStats stats(RangeVar* rv) const;
    // Severity of a rule whose cost grows with the table: none for a table created in this
    // script, missing or empty; else info, warning or error by the row thresholds.
    Severity sized(RangeVar* rv, catalog::RelStats* out = nullptr) const;
    // The same thresholds for a number of rows: none for none, info below lint_warning_rows,
    // warning below lint_error_rows, error from there.
    static Severity by_rows(double rows);
    // The table of an existing index (a RangeVar naming it), or nullptr; cached.
    RangeVar* index_table(RangeVar* index) const;
    // Data loss is at stake: the estimate, or when it says empty, a look at the table.
    bool holds_rows(RangeVar* rv) const;
    // "table (about N rows)".
    std::string size_note(RangeVar* rv) const;
    // A size-dependent finding "<what> on <table (about N rows)>", about rv (or `on`: the
    // index a statement works on, rv its table), then T501 for its lock.
    void sized_finding(RangeVar* rv, RuleId rule, const std::string& what,
                       const std::string& alternative, RangeVar* on = nullptr);

    // ---- T501 require-lock-timeout ----
    // A strong lock on rv: T501 once per script, unless a lock_timeout is in effect.
    void lock_rule(RangeVar* rv);
    const bool lock_waits_bounded;       // apply: the runner bounds every lock wait itself
    bool lock_timeout_set = false;       // the script set a lock_timeout (not 0) so far
    bool lock_timeout_reported = false;  // T501 already reported

    // ---- the script so far ----
    std::set<std::string> not_valid;     // constraints added NOT VALID (C203)
    std::map<std::string, int> altered;  // ALTER TABLE statements per existing table (T504)
    // Indexes created in the script (CREATE INDEX without WHERE, PRIMARY KEY, UNIQUE): their
    // columns, per table name.
    std::map<std::string, std::vector<std::vector<std::string>>> script_indexes;
    // Whether an index of the script leads with exactly `cols` (in any order).
    bool script_index_covers(const RangeVar* table, const std::vector<std::string>& cols) const;

    // ---- findings that wait for the whole script ----
    struct PendingForeignKey {  // I306: an index later in the script may still cover it
        const script::Statement* at;
        RangeVar* table;
        std::vector<std::string> cols;
        About about;
    };
    std::vector<PendingForeignKey> pending_foreign_keys;
    // O802: tenant tables created without row-level security yet, by table name.
    struct PendingTable {
        const script::Statement* at;
        About about;
    };
    std::map<std::string, PendingTable> pending_rls;

  private:
    std::set<std::string> created_;
    mutable std::map<std::string, catalog::RelStats> stats_;
    mutable std::map<Oid, RangeVar*> index_tables_;  // nullptr: not an index
    std::vector<Key> keys(RangeVar* rv);             // rv's keys as it is now
    About statement_about_;                          // of the current statement
    std::vector<About> about_;                       // of each finding
    std::map<std::string, std::vector<int>> drops_;  // key name -> statements that dropped it
};

// A ColumnDef's constraint of type t (the last one written, as PostgreSQL would complain about
// several), or nullptr.
Constraint* column_constraint(ColumnDef* cd, ConstrType t);
// The last name of a column's type as written ("int4", "varchar", "bigserial"), or "".
const char* type_name(const ColumnDef* cd);
// The relations a DROP statement names, as RangeVars (schema-qualified when written so).
std::vector<RangeVar*> drop_targets(DropStmt* s);
// Whether the option `name` of a list of DefElem options (VACUUM's, REINDEX's) is on:
// REINDEX (CONCURRENTLY false) is not concurrent (script::option_is_true).
bool option_on(List* options, const char* name);

}  // namespace ms::lint
