// The lint's settings. See settings.hpp.
#include "lint/settings.hpp"

#include <string>

#include "lint/lint.hpp"

namespace ms::lint {

namespace settings {

double warning_rows = 10000;
double error_rows = 1000000;

namespace {
char* opt_in = nullptr;
}  // namespace

bool opted_in(RuleId r) {
    const char* name = rule(r).opt_in;
    if (opt_in == nullptr || name == nullptr) return false;
    std::string list = opt_in;
    for (char& ch : list)
        if (ch == ' ') ch = ',';
    list = "," + list + ",";
    return list.find(std::string(",") + name + ",") != std::string::npos;
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
        nullptr, &settings::opt_in, "", PGC_USERSET, 0, nullptr, nullptr, nullptr);
}

}  // namespace ms::lint
