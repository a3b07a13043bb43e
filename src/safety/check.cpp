// Safety checks of apply and rollback. See check.hpp.
#include "safety/check.hpp"

#include "pg/report.hpp"
#include "safety/settings.hpp"

namespace ms::safety {

namespace {

void append_field(std::string& out, const char* key, const std::string& value, bool first = false) {
    if (!first) out += ", ";
    out += pg::json_string(key) + ": " + pg::json_string(value);
}

void append_raw(std::string& out, const char* key, const std::string& raw) {
    out += ", " + pg::json_string(key) + ": " + raw;
}

}  // namespace

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
    auto matches = [&](const Override& o) { return o.allows(rule_id, rule); };
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
    const size_t first = recorded_.size();  // this call's findings (a script's parts, in turn)
    bool down = std::string(which_) == "down";
    for (auto& f : findings) {
        if (f.severity == "info") continue;
        // A down script undoes its up script: breaking the names the up script introduced is
        // its purpose. Only the breaking findings that lose data (errors) count there.
        if (down && f.severity == "warning" && lint::family_of(f.rule_id) == "breaking") continue;
        const Override* by = allowing(f.rule_id, f.rule);
        recorded_.push_back(Recorded{std::move(f), by});
    }
    for (size_t i = first; i < recorded_.size(); i++)
        if (recorded_[i].allowed_by == nullptr && recorded_[i].finding.severity == "error")
            refused.push_back(&recorded_[i]);
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
        for (size_t i = first; i < recorded_.size(); i++)
            detail += (detail.empty() ? "" : "\n") + describe(recorded_[i]);
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
    for (size_t i = first; i < recorded_.size(); i++) {
        const Recorded& r = recorded_[i];
        if (r.allowed_by != nullptr || r.finding.severity != "warning") continue;
        pg::notice("migration " + label_ + " " + which_ + " script, " + describe(r));
    }
}

void Check::irreversible(const std::string& why) {
    std::string message = "the down script does not restore the schema the up script changed";
    if (const Override* by = allowing(lint::kIrreversibleId, lint::kIrreversibleName)) {
        recorded_.push_back(
            Recorded{lint::Finding{0, 0, lint::kIrreversibleId, lint::kIrreversibleName, "error",
                                   message, "a down script that undoes the up script"},
                     by});
        return;
    }
    throw Error(
        ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
        "migration " + label_ + " is not reversible: " + message + "; nothing was applied",
        why + "\nOnce registered, migrate.verify('" + version_ + "') lists every difference.",
        "Fix the down script, or allow it with a reason: a line \"-- migrate:allow "
        "irreversible-migration -- reason\" in the script, or allow => "
        "ARRAY['irreversible-migration -- reason'] in the call.");
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
            pg::warning(
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
                       r.allowed_by->reason ? pg::json_string(*r.allowed_by->reason) : "null");
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
        append_raw(out, "reason", o.reason ? pg::json_string(*o.reason) : "null");
        append_raw(out, "matched", matched ? "true" : "false");
        out += "}";
    };
    for (const auto& o : directives_) add(o, o.matched);
    if (arguments_)
        for (size_t i = 0; i < arguments_->size(); i++)
            add((*arguments_)[i], argument_matched_here_[i]);
    return out + "]";
}

void report_unmatched_arguments(const std::vector<Override>& arguments) {
    for (const auto& o : arguments)
        if (!o.matched)
            pg::warning(
                "allow => '" + o.rule + "' matched no finding",
                "The rule it allows did not fire in the migrations of this call" +
                    std::string(enforce ? "." : " (migrations_schema.lint_enforce is off)."),
                "Leave it out of the call.");
}

}  // namespace ms::safety
