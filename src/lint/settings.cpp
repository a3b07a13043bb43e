// The lint's settings. See settings.hpp.
#include "lint/settings.hpp"

#include <cstdio>
#include <cstdlib>

#include "lint/lint.hpp"

namespace ms::lint {

namespace settings {

double warning_rows = 10000;
double error_rows = 1000000;

namespace {

char* opt_in = nullptr;   // migrations_schema.lint_opt_in as set (PostgreSQL owns the string)
OptInSet opt_in_set = 0;  // what it turns on, parsed once by the check hook

// The hooks are callbacks from PostgreSQL: they throw nothing and hold no C++ object with a
// destructor (the GUC_check_* calls can only fail, with an ERROR, when memory runs out).

// "a, b and c" (the opt-in names) and "a enables O801 name, ..." for messages.
void describe_opt_ins(char* names, size_t names_size, char* rules, size_t rules_size) noexcept {
    size_t count = 0, seen = 0, n = 0, r = 0;
    names[0] = rules[0] = '\0';
    for (const auto& rule : kRules)
        if (rule.opt_in != nullptr) count++;
    for (const auto& rule : kRules) {
        if (rule.opt_in == nullptr) continue;
        seen++;
        const char* sep = seen == 1 ? "" : seen == count ? " and " : ", ";
        int w = snprintf(names + n, names_size - n, "%s%s", sep, rule.opt_in);
        if (w > 0 && n + w < names_size) n += w;
        w = snprintf(rules + r, rules_size - r, "%s%s turns on %s %s", seen == 1 ? "" : ", ",
                     rule.opt_in, rule.id, rule.name);
        if (w > 0 && r + w < rules_size) r += w;
    }
}

bool check_opt_in(char** newval, void** extra, GucSource) noexcept {
    OptInParse parsed = parse_opt_in(*newval ? *newval : "");
    if (!parsed.ok) {
        char names[256], rules[512];
        describe_opt_ins(names, sizeof names, rules, sizeof rules);
        GUC_check_errcode(ERRCODE_INVALID_PARAMETER_VALUE);
        GUC_check_errmsg(
            "invalid value for parameter \"migrations_schema.lint_opt_in\": unknown opt-in lint "
            "rule \"%.*s\"",
            static_cast<int>(parsed.bad.size()), parsed.bad.data());
        GUC_check_errdetail("%s.", rules);
        GUC_check_errhint(
            "Valid names: %s (any case), separated by commas or spaces; '' turns them all off.",
            names);
        return false;
    }
    // PostgreSQL keeps `extra` with the value and frees it itself.
    auto* set = static_cast<OptInSet*>(ms_guc_extra_alloc(sizeof(OptInSet)));
    if (set == nullptr) {
        GUC_check_errcode(ERRCODE_OUT_OF_MEMORY);
        GUC_check_errmsg("out of memory");
        return false;
    }
    *set = parsed.set;
    *extra = set;
    return true;
}

void assign_opt_in(const char*, void* extra) noexcept {
    opt_in_set = extra != nullptr ? *static_cast<OptInSet*>(extra) : 0;
}

}  // namespace

bool opted_in(RuleId r) noexcept {
    return (opt_in_set & opt_in_bit(r)) != 0;
}

}  // namespace settings

void define_settings() noexcept {
    DefineCustomRealVariable(
        "migrations_schema.lint_warning_rows",
        "Tables with at least this many rows make size-dependent lint findings warnings.",
        "Smaller (non-empty) tables give info; empty tables and tables created in the same "
        "migration give none.",
        &settings::warning_rows, 10000, 0, 1e15, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    DefineCustomRealVariable(
        "migrations_schema.lint_error_rows",
        "Tables with at least this many rows make size-dependent lint findings errors.", nullptr,
        &settings::error_rows, 1000000, 0, 1e15, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    DefineCustomStringVariable(
        "migrations_schema.lint_opt_in",
        "Opt-in lint rules: fk_on_delete, tenant_rls, require_primary_key (comma separated).",
        "An unknown name is refused.", &settings::opt_in, "", PGC_USERSET, 0,
        settings::check_opt_in, settings::assign_opt_in, nullptr);
}

}  // namespace ms::lint
