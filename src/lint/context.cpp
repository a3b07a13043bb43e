// What the rules of one lint call share. See context.hpp.
#include "lint/context.hpp"

#include <cstdio>
#include <cstring>

#include "lint/rules/rules.hpp"
#include "lint/settings.hpp"
#include "script/script.hpp"

namespace ms::lint {

std::string rows_text(double rows) {
    char buf[64];
    snprintf(buf, sizeof buf, "%.0f", rows);
    return buf;
}

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

std::vector<Context::Key> Context::keys(RangeVar* rv) {
    std::vector<Key> k;
    catalog::RelStats s = stats(rv);
    k.push_back({s.exists ? "#" + std::to_string(s.relid) : std::string(rv->relname), 0});
    if (s.exists && (s.relkind == RELKIND_INDEX || s.relkind == RELKIND_PARTITIONED_INDEX)) {
        RangeVar* table = index_table(rv);
        if (table != nullptr && stats(table).exists)
            k.push_back({"#" + std::to_string(stats(table).relid), 0});
    }
    for (auto& key : k) {
        auto it = drops_.find(key.name);
        key.generation = it == drops_.end() ? 0 : it->second.size();
    }
    return k;
}

Context::About Context::about(RangeVar* rv) {
    return {keys(rv)};
}

void Context::start(const script::Statement* st) {
    current = st;
    statement_about_.clear();
}

void Context::statement_about(RangeVar* rv) {
    if (rv != nullptr) statement_about_.push_back(keys(rv));
}

void Context::dropped(RangeVar* rv) {
    // Its own name only: dropping an index does not drop its table.
    drops_[keys(rv).front().name].push_back(current->number);
}

void Context::drop_moot_findings() {
    auto dropped_later = [&](const Key& k, int statement) {
        auto it = drops_.find(k.name);
        return it != drops_.end() && k.generation < it->second.size() &&
               it->second[k.generation] > statement;
    };
    std::vector<Finding> kept;
    kept.reserve(findings.size());
    for (size_t i = 0; i < findings.size(); i++) {
        const About& about = about_[i];
        bool moot = !about.empty();
        for (const auto& relation : about) {
            bool gone = false;
            for (const auto& k : relation) gone = gone || dropped_later(k, findings[i].statement);
            moot = moot && gone;
        }
        if (!moot) kept.push_back(std::move(findings[i]));
    }
    findings = std::move(kept);
    about_.clear();
}

void Context::add(RuleId rule, Severity severity, std::string message, std::string alternative) {
    add_at(current, statement_about_, rule, severity, std::move(message), std::move(alternative));
}

void Context::add_at(const script::Statement* at, About about, RuleId rule, Severity severity,
                     std::string message, std::string alternative) {
    const Rule& r = lint::rule(rule);
    findings.push_back(Finding{at->number, at->line, r.id, r.name, severity_text(severity),
                               std::move(message), std::move(alternative)});
    about_.push_back(std::move(about));
}

bool Context::reported(RuleId rule) const {
    const char* id = lint::rule(rule).id;
    for (auto it = findings.rbegin(); it != findings.rend() && it->statement == current->number;
         ++it)
        if (it->rule_id == id) return true;
    return false;
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
    if (created_here(rv) || !s.exists) return Severity::none;
    return by_rows(s.rows);
}

Severity Context::by_rows(double rows) {
    if (rows <= 0) return Severity::none;
    if (rows >= settings::error_rows) return Severity::error;
    if (rows >= settings::warning_rows) return Severity::warning;
    return Severity::info;
}

RangeVar* Context::index_table(RangeVar* index) const {
    catalog::RelStats s = stats(index);
    if (!s.exists || (s.relkind != RELKIND_INDEX && s.relkind != RELKIND_PARTITIONED_INDEX))
        return nullptr;
    auto [it, added] = index_tables_.try_emplace(s.relid, nullptr);
    if (added) {
        Oid index_oid = s.relid, table = InvalidOid;
        RangeVar* rv = nullptr;
        if (guard([&] { return catalog::index_table_leaf(index_oid, &table, &rv); }))
            it->second = rv;
    }
    return it->second;
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
                            const std::string& alternative, RangeVar* on) {
    Severity sev = sized(rv);
    if (sev == Severity::none) return;
    add_at(current, about(on ? on : rv), rule, sev, what + " on " + size_note(rv), alternative);
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

std::vector<RangeVar*> drop_targets(DropStmt* s) {
    std::vector<RangeVar*> out;
    ListCell* lc;
    foreach (lc, s->objects) {
        List* names = static_cast<List*>(lfirst(lc));
        out.push_back(guard([&] { return catalog::range_var_leaf(names); }));
    }
    return out;
}

bool option_on(List* options, const char* name) {
    return guard([&] { return script::option_is_true(options, name, false); });
}

}  // namespace ms::lint
