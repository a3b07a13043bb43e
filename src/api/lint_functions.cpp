// SQL functions of the lint: lint(sql) and lint_rules().
#include "api/args.hpp"
#include "lint/lint.hpp"

namespace ms::api {
namespace {

Datum sql_lint(Call& c) {
    std::vector<lint::Finding> findings = lint::lint(req_text(c, 0, "sql"));
    Rows rows(c);
    for (const auto& f : findings)
        rows.add({Int32GetDatum(f.statement), Int32GetDatum(f.line), text_datum(f.rule_id),
                  text_datum(f.rule), text_datum(f.severity), text_datum(f.message),
                  text_datum(f.safe_alternative)});
    return (Datum)0;
}

Datum sql_lint_rules(Call& c) {
    Rows rows(c);
    for (const auto& r : lint::kRules)  // in the order of rules.def
        rows.add(
            {text_datum(r.id), text_datum(r.name), text_datum(r.family), text_datum(r.summary)});
    return (Datum)0;
}

}  // namespace
}  // namespace ms::api

MS_FUNCTION(migrate_lint, ms::api::sql_lint)
MS_FUNCTION(migrate_lint_rules, ms::api::sql_lint_rules)
