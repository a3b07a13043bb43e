// Safety checks of apply and rollback: the lint verdict before a script runs (error-level
// findings refuse it, warnings are raised as NOTICEs), the overrides that allow named rules,
// and the table_rewrite guard while it runs (rewrite_guard.cpp). What was found and allowed is
// stored with the migration.
#pragma once

#include <string>
#include <vector>

#include "lint/lint.hpp"
#include "safety/overrides.hpp"
#include "script/script.hpp"

namespace ms::safety {

// migrations_schema.verify: apply verifies each migration first (apply's verify => NULL).
bool verify_by_default();

// From _PG_init: migrations_schema.lint_enforce, max_rewrite_size and verify; puts
// the rewrite guard among the audit's rewrite observers.
void init() noexcept;

// The checks of one migration script, from its lint verdict to the end of its run. While a
// Check is running (between start() and finish()), the table_rewrite guard consults it.
class Check {
  public:
    // `arguments`: the call's argument overrides (shared by every migration of the call;
    // their `matched` flags say whether they matched anywhere).
    Check(std::string label, std::string version, const char* which,
          std::vector<Override>* arguments, std::vector<Override> directives);
    ~Check();
    Check(const Check&) = delete;
    Check& operator=(const Check&) = delete;

    // Lints the statements on the live catalog and applies the overrides. Raises 55000 listing
    // every finding when an error-level finding is not allowed; raises a NOTICE per warning.
    void lint(const std::vector<script::Statement>& statements);

    // The script is about to run / ran. The rewrite guard is active in between.
    void start() noexcept;
    void statement(int number, int line) noexcept {
        statement_ = number;
        line_ = line;
    }
    // Reports (WARNING) directives that matched nothing; deactivates the guard.
    void finish();

    // apply(verify => true) found that the down script does not restore the schema (`why`:
    // the first differences, or the failure): refuses (55000) unless irreversible-migration is
    // allowed; the finding is recorded with the migration either way.
    void irreversible(const std::string& why);

    // What is stored with the migration (jsonb text): the findings above info level, each
    // with whether and how it was allowed, and the overrides with what they matched.
    std::string findings_json() const;
    std::string overrides_json() const;

  private:
    struct Recorded {
        lint::Finding finding;
        const Override* allowed_by;
    };
    const Override* allowing(const std::string& rule_id, const std::string& rule);
    friend void guard_rewrite(Oid relid, int reason);
    void rewrite(Oid relid, int reason);

    std::string label_, version_;
    const char* which_;
    std::vector<Override>* arguments_;
    std::vector<Override> directives_;
    std::vector<bool> argument_matched_here_;
    std::vector<Recorded> recorded_;
    int statement_ = 0;
    int line_ = 0;
    Check* previous_ = nullptr;
    bool active_ = false;
};

// Raises a WARNING for each argument override that matched nothing in the whole call.
void report_unmatched_arguments(const std::vector<Override>& arguments);

// The table_rewrite guard (rewrite_guard.cpp), called by the audit's table_rewrite event:
// refuses (55000) the rewrite of a table larger than migrations_schema.max_rewrite_size while a
// migration runs, unless allowed.
void guard_rewrite(Oid relid, int reason);

}  // namespace ms::safety
