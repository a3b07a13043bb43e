// SQL functions of the catalog snapshot: verify, plan and schema.
#include "api/args.hpp"
#include "migrate/plan.hpp"
#include "migrate/verify.hpp"

namespace ms::api {
namespace {

std::optional<Datum> opt_bool(const std::optional<bool>& b) {
    return b ? std::optional<Datum>(BoolGetDatum(*b)) : std::nullopt;
}

Datum sql_verify(Call& c) {
    std::optional<std::string> version = opt_text(c, 0);
    bool applied = !is_null(c, 1) && DatumGetBool(c.fcinfo->args[1].value);
    if (version && applied)
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "give a version or applied => true, not both",
                    "verify(version) checks that migration, whatever its state.");
    std::vector<migrate::Verdict> verdicts = migrate::verify(version, applied);
    Rows rows(c);
    for (const auto& v : verdicts)
        rows.add({text_datum(v.version), opt_text_datum(v.name), opt_bool(v.reversible),
                  opt_bool(v.rerunnable), jsonb_datum(v.differences_json()),
                  opt_text_datum(v.error)});
    return (Datum)0;
}

Datum sql_plan(Call& c) {
    std::optional<std::string> to_version = opt_text(c, 0);
    std::optional<std::string> script = opt_text(c, 1);
    if (to_version && script)
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "give to_version or script, not both",
                    "plan(script => ...) plans that script alone; plan(to_version) the pending "
                    "migrations up to that version.");
    std::vector<migrate::Planned> planned = migrate::plan(to_version, script);
    Rows rows(c);
    for (const auto& p : planned) {
        rows.add({opt_text_datum(p.version), Int32GetDatum(p.statement), Int32GetDatum(p.line),
                  text_datum(p.command), text_datum(p.sql), text_datum(p.runs),
                  Float8GetDatum(p.duration_ms), jsonb_datum(p.locks), text_array_datum(p.rewrites),
                  Int64GetDatum(p.inserted), Int64GetDatum(p.updated), Int64GetDatum(p.deleted),
                  jsonb_datum(p.findings), jsonb_datum(p.waits_for), opt_text_datum(p.error)});
    }
    return (Datum)0;
}

Datum sql_schema(Call& c) {
    return text_result(c, migrate::schema_text());
}

}  // namespace
}  // namespace ms::api

MS_FUNCTION(migrate_verify, ms::api::sql_verify)
MS_FUNCTION(migrate_plan, ms::api::sql_plan)
MS_FUNCTION(migrate_schema, ms::api::sql_schema)
