// Safety checks of apply and rollback. See safety.hpp.
#include "safety.hpp"

#include <cctype>

#include "audit.hpp"
#include "spi.hpp"

namespace ms::safety {

namespace {

bool enforce = true;
int max_rewrite_kb = 102400;  // 100 MB; -1: no limit

// The Check whose script is running (the innermost one), for the table_rewrite guard.
Check* running = nullptr;

std::string trim(std::string_view s) {
    size_t b = s.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) return {};
    size_t e = s.find_last_not_of(" \t\r\n");
    return std::string(s.substr(b, e - b + 1));
}

// "B401" / "b401" (an id) or "drop-column" / "drop_column" / "DROP-COLUMN" (a name).
Override make_override(const std::string& token) {
    Override o;
    std::string upper, lower;
    for (char ch : token) {
        upper += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        lower += ch == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    }
    for (const auto& r : lint::rules()) {
        if (upper == r.id) {
            o.rule = upper;
            o.by_id = true;
            return o;
        }
        if (lower == r.name) {
            o.rule = lower;
            return o;
        }
    }
    return o;  // rule empty: unknown
}

// "rule[, rule ...] [-- reason]": one Override per rule. `where` names the place for errors.
std::vector<Override> parse_body(std::string_view body, const std::string& where) {
    size_t dashes = body.find("--");
    std::string rules = trim(body.substr(0, dashes));
    std::optional<std::string> reason;
    if (dashes != std::string_view::npos) {
        std::string r = trim(body.substr(dashes + 2));
        if (!r.empty()) reason = r;
    }
    std::vector<Override> out;
    std::string token;
    auto flush = [&] {
        if (token.empty()) return;
        Override o = make_override(token);
        if (o.rule.empty())
            throw Error(ERRCODE_INVALID_PARAMETER_VALUE,
                        "unknown lint rule \"" + token + "\" in " + where,
                        "An override names a rule by its id (B401) or its name (drop-column).",
                        "SELECT rule_id, rule FROM migrate.lint_rules() lists the rules.");
        o.reason = reason;
        out.push_back(std::move(o));
        token.clear();
    };
    for (char ch : rules) {
        if (ch == ',' || ch == ' ' || ch == '\t')
            flush();
        else
            token += ch;
    }
    flush();
    if (out.empty())
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, where + " names no rule",
                    "Expected: rule[, rule ...] [-- reason], for example "
                    "\"drop-column -- the column is unused since release 41\".",
                    "SELECT rule_id, rule FROM migrate.lint_rules() lists the rules.");
    return out;
}

void append_field(std::string& out, const char* key, const std::string& value, bool first = false) {
    if (!first) out += ", ";
    out += json_string(key) + ": " + json_string(value);
}

void append_raw(std::string& out, const char* key, const std::string& raw) {
    out += ", " + json_string(key) + ": " + raw;
}

// The family of a rule id in the registry (lint_rules()); "" for none.
std::string family_of(const std::string& id) {
    for (const auto& r : lint::rules())
        if (id == r.id) return r.family;
    return {};
}

// A finding of the "rewrite" family predicts the rewrite the guard would stop.
bool is_rewrite_rule(const std::string& id) {
    return family_of(id) == "rewrite";
}

// ---- leaf calls ----

int64 total_size_leaf(Oid relid) {
    return DatumGetInt64(DirectFunctionCall1(pg_total_relation_size, ObjectIdGetDatum(relid)));
}

const char* size_pretty_leaf(int64 bytes) {
    return text_to_cstring(
        DatumGetTextPP(DirectFunctionCall1(pg_size_pretty, Int64GetDatum(bytes))));
}

const char* json_leaf(const char* s) {
    StringInfoData buf;
    initStringInfo(&buf);
    escape_json(&buf, s);
    return buf.data;
}

std::string size_text(int64 bytes) {
    return guard([&] { return size_pretty_leaf(bytes); });
}

}  // namespace

std::string json_string(std::string_view s) {
    std::string copy(s);  // NUL-terminated for PostgreSQL's escape_json
    return guard([&] { return json_leaf(copy.c_str()); });
}

void define_settings() noexcept {
    DefineCustomBoolVariable(
        "migrations_schema.lint_enforce",
        "Lints every migration script before apply or rollback runs it.",
        "Error-level findings refuse the migration unless an override allows their rule; "
        "warnings are raised as NOTICEs and stored with the migration. Superusers only.",
        &enforce, true, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "migrations_schema.max_rewrite_size",
        "Largest table (with its TOAST and indexes) a migration may rewrite without an override.",
        "-1: no limit. A larger table's rewrite is stopped at the table_rewrite event unless the "
        "migration allows large-table-rewrite. Superusers only.",
        &max_rewrite_kb, 102400, -1, INT_MAX, PGC_SUSET, GUC_UNIT_KB, nullptr, nullptr, nullptr);
}

std::vector<Override> argument_overrides(const std::vector<std::optional<std::string>>& items) {
    std::vector<Override> out;
    for (size_t i = 0; i < items.size(); i++) {
        if (!items[i])
            throw Error(ERRCODE_NULL_VALUE_NOT_ALLOWED,
                        "allow must not contain NULL (element " + std::to_string(i + 1) + ")");
        for (auto& o : parse_body(*items[i], "allow element " + std::to_string(i + 1))) {
            o.source = "argument";
            out.push_back(std::move(o));
        }
    }
    return out;
}

std::vector<Override> directive_overrides(std::string_view script_text,
                                          const script::Origin& origin) {
    std::vector<Override> out;
    for (const auto& d : script::allow_directives(script_text)) {
        std::string where = "the migrate:allow directive of migration " +
                            std::string(origin.version) + " " + origin.which + " script, line " +
                            std::to_string(d.line);
        for (auto& o : parse_body(d.body, where)) {
            o.source = "directive";
            o.script = origin.which;
            o.line = d.line;
            out.push_back(std::move(o));
        }
    }
    return out;
}

Check::Check(std::string label, std::string version, const char* which,
             std::vector<Override>* arguments, std::vector<Override> directives)
    : label_(std::move(label)),
      version_(std::move(version)),
      which_(which),
      arguments_(arguments),
      directives_(std::move(directives)),
      argument_matched_here_(arguments ? arguments->size() : 0, false) {}

Check::~Check() {
    if (active_) running = previous_;
}

const Override* Check::allowing(const std::string& rule_id, const std::string& rule) {
    auto matches = [&](const Override& o) { return o.rule == (o.by_id ? rule_id : rule); };
    for (auto& o : directives_)
        if (matches(o)) {
            o.matched = true;
            return &o;
        }
    if (arguments_)
        for (size_t i = 0; i < arguments_->size(); i++)
            if (matches((*arguments_)[i])) {
                (*arguments_)[i].matched = true;
                argument_matched_here_[i] = true;
                return &(*arguments_)[i];
            }
    return nullptr;
}

void Check::lint(const std::vector<script::Statement>& statements) {
    if (!enforce) return;
    lint::Options options;
    options.lock_waits_bounded = true;
    std::vector<lint::Finding> findings = lint::lint(statements, options);
    std::vector<const Recorded*> refused;
    bool down = std::string(which_) == "down";
    for (auto& f : findings) {
        if (f.severity == "info") continue;
        // A down script undoes its up script: breaking the names the up script introduced is
        // its purpose. Only the breaking findings that lose data (errors) count there.
        if (down && f.severity == "warning" && family_of(f.rule_id) == "breaking") continue;
        const Override* by = allowing(f.rule_id, f.rule);
        recorded_.push_back(Recorded{std::move(f), by});
    }
    for (const auto& r : recorded_)
        if (r.allowed_by == nullptr && r.finding.severity == "error") refused.push_back(&r);
    auto describe = [](const Recorded& r) {
        const lint::Finding& f = r.finding;
        std::string s = "statement " + std::to_string(f.statement) + " (line " +
                        std::to_string(f.line) + "): " + f.severity + " " + f.rule_id + " " +
                        f.rule + ": " + f.message + ". Safe alternative: " + f.safe_alternative;
        if (r.allowed_by)
            s += " [allowed by " + std::string(r.allowed_by->source) + " " + r.allowed_by->rule +
                 "]";
        return s;
    };
    if (!refused.empty()) {
        std::string detail;
        for (const auto& r : recorded_) detail += (detail.empty() ? "" : "\n") + describe(r);
        const Recorded& first = *refused.front();
        throw Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                    "migration " + label_ + " " + which_ + " script has " +
                        std::to_string(refused.size()) + " error-level lint finding" +
                        (refused.size() == 1 ? "" : "s") + "; nothing was " +
                        (std::string(which_) == "up" ? "applied" : "rolled back"),
                    detail,
                    "Rewrite the migration the safe way, or allow the rule with a reason: a line "
                    "\"-- migrate:allow " +
                        first.finding.rule + " -- reason\" in the script, or allow => ARRAY['" +
                        first.finding.rule + " -- reason'] in the call.");
    }
    for (const auto& r : recorded_) {
        if (r.allowed_by != nullptr || r.finding.severity != "warning") continue;
        spi::notice("migration " + label_ + " " + which_ + " script, " + describe(r));
    }
}

void Check::start() noexcept {
    previous_ = running;
    running = this;
    active_ = true;
}

void Check::finish() {
    if (active_) {
        running = previous_;
        active_ = false;
    }
    for (const auto& o : directives_)
        if (!o.matched)
            spi::warning(
                "migration " + label_ + ": \"migrate:allow " + o.rule + "\" (" + o.script +
                    " script, line " + std::to_string(o.line) + ") matched no finding",
                "The rule it allows did not fire in this migration" +
                    std::string(enforce ? "." : " (migrations_schema.lint_enforce is off)."),
                "Remove the directive if the statement it was written for is gone.");
}

std::string Check::findings_json() const {
    std::string out = "[";
    bool first = true;
    for (const auto& r : recorded_) {
        const lint::Finding& f = r.finding;
        out += first ? "{" : ", {";
        first = false;
        append_field(out, "script", which_, true);
        append_raw(out, "statement", std::to_string(f.statement));
        append_raw(out, "line", std::to_string(f.line));
        append_field(out, "rule_id", f.rule_id);
        append_field(out, "rule", f.rule);
        append_field(out, "severity", f.severity);
        append_field(out, "message", f.message);
        append_field(out, "safe_alternative", f.safe_alternative);
        append_raw(out, "allowed", r.allowed_by ? "true" : "false");
        if (r.allowed_by) {
            append_field(out, "allowed_by", r.allowed_by->source);
            append_raw(out, "reason",
                       r.allowed_by->reason ? json_string(*r.allowed_by->reason) : "null");
        }
        out += "}";
    }
    return out + "]";
}

std::string Check::overrides_json() const {
    std::string out = "[";
    bool first = true;
    auto add = [&](const Override& o, bool matched) {
        out += first ? "{" : ", {";
        first = false;
        append_field(out, "rule", o.rule, true);
        append_field(out, "source", o.source);
        if (o.script) append_field(out, "script", o.script);
        if (o.line) append_raw(out, "line", std::to_string(o.line));
        append_raw(out, "reason", o.reason ? json_string(*o.reason) : "null");
        append_raw(out, "matched", matched ? "true" : "false");
        out += "}";
    };
    for (const auto& o : directives_) add(o, o.matched);
    if (arguments_)
        for (size_t i = 0; i < arguments_->size(); i++)
            add((*arguments_)[i], argument_matched_here_[i]);
    return out + "]";
}

void Check::on_rewrite(Oid relid, int reason) {
    if (running != nullptr) running->rewrite(relid, reason);
}

void Check::rewrite(Oid relid, int reason) {
    if (max_rewrite_kb < 0) return;
    int64 bytes = guard([&] { return total_size_leaf(relid); });
    if (bytes <= static_cast<int64>(max_rewrite_kb) * 1024) return;
    std::string table = spi::relation_name(relid).value_or("relation " + std::to_string(relid));
    std::string why;
    for (const auto& r : audit::kRewriteReasons)
        if (reason & r.bit) why += (why.empty() ? "" : "; ") + std::string(r.text);
    if (why.empty()) why = "reason code " + std::to_string(reason);
    std::string message = "rewrite of table " + table + " (" + size_text(bytes) +
                          ", larger than migrations_schema.max_rewrite_size " +
                          size_text(static_cast<int64>(max_rewrite_kb) * 1024) + "): " + why;
    // Allowed by the guard's own rule, or by an allowed rewrite finding of this statement.
    const Override* via = nullptr;
    for (const auto& r : recorded_)
        if (r.finding.statement == statement_ && r.allowed_by && is_rewrite_rule(r.finding.rule_id))
            via = r.allowed_by;
    if (via == nullptr) via = allowing(lint::kRewriteGuardId, lint::kRewriteGuardName);
    if (via != nullptr) {
        recorded_.push_back(Recorded{
            lint::Finding{statement_, line_, lint::kRewriteGuardId, lint::kRewriteGuardName,
                          "error", message, "a new table or column filled in batches"},
            via});
        return;
    }
    throw Error(
        ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
        "migration " + label_ + " " + which_ + " script, statement " + std::to_string(statement_) +
            " would rewrite table " + table + " (" + size_text(bytes) + ")",
        "PostgreSQL's reason: " + why +
            ". The rewrite holds an ACCESS EXCLUSIVE lock on the table while it copies every row "
            "and rebuilds every index. The table is larger than "
            "migrations_schema.max_rewrite_size (" +
            size_text(static_cast<int64>(max_rewrite_kb) * 1024) + "). Nothing was " +
            (std::string(which_) == "up" ? "applied." : "rolled back."),
        "Change the table without a rewrite (a new column filled in batches, then a swap), or "
        "allow it with a reason: \"-- migrate:allow large-table-rewrite -- reason\" in the "
        "script or allow => ARRAY['large-table-rewrite -- reason'] in the call.");
}

void report_unmatched_arguments(const std::vector<Override>& arguments) {
    for (const auto& o : arguments)
        if (!o.matched)
            spi::warning(
                "allow => '" + o.rule + "' matched no finding",
                "The rule it allows did not fire in the migrations of this call" +
                    std::string(enforce ? "." : " (migrations_schema.lint_enforce is off)."),
                "Leave it out of the call.");
}

}  // namespace ms::safety
