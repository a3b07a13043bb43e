// Safety checks of apply and rollback: the lint verdict before a script runs (error-level
// findings refuse it, warnings are raised as NOTICEs), overrides that allow named rules (an
// argument of the call or `-- migrate:allow rule -- reason` lines in the script), and the
// table_rewrite guard while it runs. What was found and allowed is stored with the migration.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lint.hpp"
#include "script.hpp"

namespace ms::safety {

// From _PG_init: migrations_schema.lint_enforce and migrations_schema.max_rewrite_size.
void define_settings() noexcept;

// One override: a rule allowed by an argument of the call or by a directive in the script.
struct Override {
    std::string rule;                   // the rule as spelled in lint_rules(): id or name
    bool by_id = false;                 // key is a rule id such as B401
    std::optional<std::string> reason;  // text after "--"
    const char* source = "argument";    // "argument" or "directive"
    const char* script = nullptr;       // directive: "up" or "down"
    int line = 0;                       // directive: its line in the script
    bool matched = false;               // matched a finding (or allowed a rewrite)
};

// Parses overrides given as arguments: each "rule[, rule ...] [-- reason]". Raises 22023 for
// an empty entry or an unknown rule, 22004 for a NULL entry (signalled by std::nullopt).
std::vector<Override> argument_overrides(const std::vector<std::optional<std::string>>& items);

// The `-- migrate:allow` directives of a script. Raises 22023 for an unknown rule or a
// directive naming no rule.
std::vector<Override> directive_overrides(std::string_view script_text,
                                          const script::Origin& origin);

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

    // What is stored with the migration (jsonb text): the findings above info level, each
    // with whether and how it was allowed, and the overrides with what they matched.
    std::string findings_json() const;
    std::string overrides_json() const;

    // From the table_rewrite event: refuses (55000) the rewrite of a table larger than
    // migrations_schema.max_rewrite_size unless allowed.
    static void on_rewrite(Oid relid, int reason);

  private:
    struct Recorded {
        lint::Finding finding;
        const Override* allowed_by;
    };
    const Override* allowing(const std::string& rule_id, const std::string& rule);
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

// JSON string literal for `s` (quotes included).
std::string json_string(std::string_view s);

}  // namespace ms::safety
