// What the rules of one lint call share: the findings, the statement being linted, what the
// script did before it (tables created, constraints added NOT VALID, ALTER TABLE counts,
// indexes), the per-call cache of table statistics and the judgements built on it (severity
// by table size, whether a table holds rows), T501's bookkeeping, and the findings that wait
// for the end of the script.
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

class Context {
  public:
    explicit Context(const Options& options) : lock_waits_bounded(options.lock_waits_bounded) {}
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;

    std::vector<Finding> findings;
    const script::Statement* current = nullptr;  // the statement being linted
    bool has_ddl = false;                        // the script has a statement other than DML/SET
    bool in_block = false;                       // between the script's BEGIN and COMMIT (I303)

    // A finding of `rule` for the current statement (or for `at`).
    void add(RuleId rule, Severity severity, std::string message, std::string alternative);
    void add_at(const script::Statement* at, RuleId rule, Severity severity, std::string message,
                std::string alternative);

    // ---- tables ----
    bool created_here(const RangeVar* rv) const;  // created earlier in the script
    void remember_created(const RangeVar* rv);
    // One catalog lookup per table name and lint call (the catalog does not change under it).
    catalog::RelStats stats(RangeVar* rv) const;
    // Severity of a rule whose cost grows with the table: none for a table created in this
    // script, missing or empty; else info, warning or error by the row thresholds.
    Severity sized(RangeVar* rv, catalog::RelStats* out = nullptr) const;
    // Data loss is at stake: the estimate, or when it says empty, a look at the table.
    bool holds_rows(RangeVar* rv) const;
    // "table (about N rows)".
    std::string size_note(RangeVar* rv) const;
    // A size-dependent finding "<what> on <table (about N rows)>", then T501 for its lock.
    void sized_finding(RangeVar* rv, RuleId rule, const std::string& what,
                       const std::string& alternative);

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
    };
    std::vector<PendingForeignKey> pending_foreign_keys;
    // O802: tenant tables created without row-level security yet, by table name.
    std::map<std::string, const script::Statement*> pending_rls;

  private:
    std::set<std::string> created_;
    mutable std::map<std::string, catalog::RelStats> stats_;
};

// A ColumnDef's constraint of type t (the last one written, as PostgreSQL would complain about
// several), or nullptr.
Constraint* column_constraint(ColumnDef* cd, ConstrType t);
// The last name of a column's type as written ("int4", "varchar", "bigserial"), or "".
const char* type_name(const ColumnDef* cd);
// Whether the option `name` of a list of DefElem options (VACUUM's, REINDEX's) is on:
// REINDEX (CONCURRENTLY false) is not concurrent (script::option_is_true).
bool option_on(List* options, const char* name);

}  // namespace ms::lint
