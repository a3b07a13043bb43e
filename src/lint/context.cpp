// What the rules of one lint call share. See context.hpp.
#include "lint/context.hpp"

#include <cstdio>
#include <cstring>

#include "lint/rules/rules.hpp"
#include "lint/settings.hpp"
#include "script/script.hpp"

namespace ms::lint {

namespace {

std::string rows_text(double rows) {
    char buf[64];
    snprintf(buf, sizeof buf, "%.0f", rows);
    return buf;
}

}  // namespace

const char* severity_text(Severity s) {
    switch (s) {
        case Severity::info:
            return "info";
        case Severity::warning:
            return "warning";
        case Severity::error:
            return "error";
        case Severity::none:
            break;
    }
    return "";
}

std::string rel_name(const RangeVar* rv) {
    return rv->schemaname ? std::string(rv->schemaname) + "." + rv->relname : rv->relname;
}

void Context::add(RuleId rule, Severity severity, std::string message, std::string alternative) {
    add_at(current, rule, severity, std::move(message), std::move(alternative));
}

void Context::add_at(const script::Statement* at, RuleId rule, Severity severity,
                     std::string message, std::string alternative) {
    const Rule& r = lint::rule(rule);
    findings.push_back(Finding{at->number, at->line, r.id, r.name, severity_text(severity),
                               std::move(message), std::move(alternative)});
}

bool Context::created_here(const RangeVar* rv) const {
    return created_.count(rv->relname) || created_.count(rel_name(rv));
}

void Context::remember_created(const RangeVar* rv) {
    created_.insert(rv->relname);
    created_.insert(rel_name(rv));
}

catalog::RelStats Context::stats(RangeVar* rv) const {
    auto [it, added] = stats_.try_emplace(rel_name(rv));
    if (added) {
        catalog::RelStats* s = &it->second;
        guard([&] { catalog::rel_stats_leaf(rv, s); });
    }
    return it->second;
}

Severity Context::sized(RangeVar* rv, catalog::RelStats* out) const {
    catalog::RelStats s{};
    if (!created_here(rv)) s = stats(rv);
    if (out) *out = s;
    if (created_here(rv) || !s.exists || s.rows <= 0) return Severity::none;
    if (s.rows >= settings::error_rows) return Severity::error;
    if (s.rows >= settings::warning_rows) return Severity::warning;
    return Severity::info;
}

bool Context::holds_rows(RangeVar* rv) const {
    catalog::RelStats s = stats(rv);
    if (!s.exists) return false;
    if (s.rows > 0) return true;
    Oid relid = s.relid;
    return guard([&] { return catalog::has_rows_leaf(relid); });
}

std::string Context::size_note(RangeVar* rv) const {
    catalog::RelStats s = stats(rv);
    std::string n = rows_text(s.rows);
    return rel_name(rv) + " (about " + n + (n == "1" ? " row)" : " rows)");
}

void Context::sized_finding(RangeVar* rv, RuleId rule, const std::string& what,
                            const std::string& alternative) {
    Severity sev = sized(rv);
    if (sev == Severity::none) return;
    add(rule, sev, what + " on " + size_note(rv), alternative);
    lock_rule(rv);
}

void Context::lock_rule(RangeVar* rv) {
    checks::require_lock_timeout(*this, rv);
}

bool Context::script_index_covers(const RangeVar* table,
                                  const std::vector<std::string>& cols) const {
    auto it = script_indexes.find(table->relname);
    if (it == script_indexes.end()) return false;
    for (const auto& idx : it->second) {
        if (idx.size() < cols.size()) continue;
        std::set<std::string> lead(idx.begin(), idx.begin() + cols.size());
        if (lead == std::set<std::string>(cols.begin(), cols.end())) return true;
    }
    return false;
}

Constraint* column_constraint(ColumnDef* cd, ConstrType t) {
    Constraint* found = nullptr;
    ListCell* lc;
    foreach (lc, cd->constraints) {
        Constraint* c = static_cast<Constraint*>(lfirst(lc));
        if (c->contype == t) found = c;
    }
    return found;
}

const char* type_name(const ColumnDef* cd) {
    TypeName* tn = cd->typeName;
    return tn && tn->names != NIL ? strVal(llast(tn->names)) : "";
}

bool option_on(List* options, const char* name) {
    return guard([&] { return script::option_is_true(options, name, false); });
}

}  // namespace ms::lint
