// SQL functions of migrations: apply, register, rollback, and the helpers split, checksum and
// version_compare; the append-only trigger of the bookkeeping tables.
#include "api/args.hpp"
#include "audit/audit.hpp"
#include "migrate/adopt.hpp"
#include "migrate/operations.hpp"
#include "migrate/version.hpp"
#include "pg/standby.hpp"
#include "safety/check.hpp"
#include "script/checksum.hpp"
#include "script/script.hpp"
#include "script/tokens.hpp"

namespace ms::api {
namespace {

migrate::Input migration_input(Call& c) {
    migrate::Input in;
    in.version = req_text(c, 0, "migration version");
    in.up_sql = req_text(c, 1, "up script");
    in.down_sql = opt_text(c, 2);
    in.name = opt_text(c, 3);
    return in;
}

migrate::Allow allow_arg(Call& c, int i) {
    return text_array_arg(c, i, "allow");
}

Datum ran_rows(Call& c, const std::vector<migrate::Ran>& ran) {
    Rows rows(c);
    for (const auto& r : ran)
        rows.add({r.repeatable ? std::nullopt : std::optional<Datum>(text_datum(r.version)),
                  opt_text_datum(r.name), Int32GetDatum(r.statements),
                  Float8GetDatum(r.duration_ms)});
    return (Datum)0;
}

// verify => NULL (or an older declaration without it): migrations_schema.verify.
bool verify_arg(Call& c, int i) {
    return is_null(c, i) ? safety::verify_by_default() : DatumGetBool(c.fcinfo->args[i].value);
}

Datum sql_apply_one(Call& c) {
    pg::refuse_on_standby("migrate.apply()", "writes the migration history and runs the migration");
    return text_result(c,
                       migrate::apply_one(migration_input(c), arg_bool(c, 4, "allow_out_of_order"),
                                          allow_arg(c, 5), verify_arg(c, 6)));
}

Datum sql_register_one(Call& c) {
    pg::refuse_on_standby("migrate.register()", "writes the migration history");
    migrate::Input in = migration_input(c);
    in.order_key = opt_text(c, 4);
    return text_result(c, migrate::register_one(in));
}

Datum sql_apply_pending(Call& c) {
    pg::refuse_on_standby("migrate.apply()",
                          "writes the migration history and runs the migrations");
    std::optional<std::string> target = opt_text(c, 0);
    bool ooo = arg_bool(c, 1, "allow_out_of_order");
    return ran_rows(c, migrate::apply_pending(target, ooo, allow_arg(c, 2), verify_arg(c, 3)));
}

Datum sql_rollback_steps(Call& c) {
    pg::refuse_on_standby("migrate.rollback()",
                          "writes the migration history and runs down scripts");
    if (is_null(c, 0)) throw Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, "steps must not be NULL");
    return ran_rows(
        c, migrate::rollback_steps(DatumGetInt32(c.fcinfo->args[0].value), allow_arg(c, 1)));
}

Datum sql_rollback_to(Call& c) {
    pg::refuse_on_standby("migrate.rollback()",
                          "writes the migration history and runs down scripts");
    return ran_rows(c, migrate::rollback_to(req_text(c, 0, "to_version"), allow_arg(c, 1)));
}

Datum sql_register_repeatable(Call& c) {
    pg::refuse_on_standby("migrate.register_repeatable()", "writes the repeatable migrations");
    std::string name = req_text(c, 0, "repeatable migration name");
    return text_result(c, migrate::register_repeatable(name, req_text(c, 1, "script")));
}

Datum sql_apply_repeatable(Call& c) {
    pg::refuse_on_standby("migrate.apply_repeatable()",
                          "writes the repeatable migrations and runs them");
    std::string name = req_text(c, 0, "repeatable migration name");
    std::string script = req_text(c, 1, "script");
    return BoolGetDatum(migrate::apply_repeatable(name, script, allow_arg(c, 2)));
}

Datum sql_adopt(Call& c) {
    pg::refuse_on_standby("migrate.adopt()", "writes the migration history");
    std::string source = req_text(c, 0, "source");
    std::vector<migrate::AdoptResult> results = migrate::adopt(source, opt_text(c, 1));
    Rows rows(c);
    for (const auto& r : results)
        rows.add(
            {text_datum(r.version), opt_text_datum(r.name), text_datum(r.result),
             r.applied_at ? std::optional<Datum>(TimestampTzGetDatum(*r.applied_at)) : std::nullopt,
             opt_text_datum(r.applied_by), opt_text_datum(r.detail)});
    return (Datum)0;
}

Datum sql_baseline(Call& c) {
    pg::refuse_on_standby("migrate.baseline()", "writes the migration history");
    std::string version = req_text(c, 0, "baseline version");
    return Int32GetDatum(migrate::baseline(version, opt_text(c, 1)));
}

Datum sql_token_checksum(Call& c) {
    return text_result(c, script::token_checksum(req_text(c, 0, "script")));
}

Datum sql_compare_script(Call& c) {
    std::string version = req_text(c, 0, "migration version");
    std::optional<std::string> r = migrate::compare_script(version, req_text(c, 1, "script"));
    if (!r) {
        c.fcinfo->isnull = true;
        return (Datum)0;
    }
    return text_result(c, *r);
}

Datum sql_split(Call& c) {
    std::string text = req_text(c, 0, "script");
    script::Script s = script::split(text, {"", "given"});
    Rows rows(c);
    for (size_t i = 0; i < s.statements.size(); i++) {
        const script::Statement& st = s.statements[i];
        std::string runs = "in transaction";
        for (size_t k = 0; k < s.steps.size(); k++)
            if (s.steps[k].first <= i && i < s.steps[k].first + s.steps[k].count)
                runs = "step " + std::to_string(k + 1);
        rows.add({Int32GetDatum(st.number), Int32GetDatum(st.line), text_datum(st.command),
                  text_datum(st.sql), text_datum(runs)});
    }
    return (Datum)0;
}

Datum sql_checksum(Call& c) {
    return text_result(c, checksum::sha256_hex(req_text(c, 0, "script")));
}

Datum sql_version_compare(Call& c) {
    std::string a = req_text(c, 0, "version"), b = req_text(c, 1, "version");
    version::validate(a);
    version::validate(b);
    return Int32GetDatum(version::compare(a, b));
}

// History and audit are append-only: a row-level BEFORE UPDATE OR DELETE and a
// statement-level BEFORE TRUNCATE trigger call this, for every role, the owner included. The
// one exception: the row deletes of migrate.purge_audit() on migrate.ddl_audit.
Datum sql_refuse_change(Call& c) {
    auto* trigdata = (TriggerData*)c.fcinfo->context;
    if (trigdata == nullptr || !CALLED_AS_TRIGGER(c.fcinfo))
        throw Error(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED,
                    "migrate.refuse_change() must be called as a trigger");
    if (audit::purging(RelationGetRelid(trigdata->tg_relation)) &&
        TRIGGER_FIRED_BY_DELETE(trigdata->tg_event) && TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
        return PointerGetDatum(trigdata->tg_trigtuple);
    std::string table = guard([&] {
        return (const char*)quote_qualified_identifier(
            get_namespace_name(RelationGetNamespace(trigdata->tg_relation)),
            RelationGetRelationName(trigdata->tg_relation));
    });
    throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE, table + " is append-only",
                "UPDATE, DELETE and TRUNCATE are refused for every role.",
                "Its rows are the record of what happened; they are never rewritten.");
}

}  // namespace
}  // namespace ms::api

MS_FUNCTION(migrate_apply_one, ms::api::sql_apply_one)
MS_FUNCTION(migrate_register, ms::api::sql_register_one)
MS_FUNCTION(migrate_apply_pending, ms::api::sql_apply_pending)
MS_FUNCTION(migrate_rollback_steps, ms::api::sql_rollback_steps)
MS_FUNCTION(migrate_rollback_to, ms::api::sql_rollback_to)
MS_FUNCTION(migrate_split, ms::api::sql_split)
MS_FUNCTION(migrate_register_repeatable, ms::api::sql_register_repeatable)
MS_FUNCTION(migrate_apply_repeatable, ms::api::sql_apply_repeatable)
MS_FUNCTION(migrate_adopt, ms::api::sql_adopt)
MS_FUNCTION(migrate_baseline, ms::api::sql_baseline)
MS_FUNCTION(migrate_token_checksum, ms::api::sql_token_checksum)
MS_FUNCTION(migrate_compare_script, ms::api::sql_compare_script)
MS_FUNCTION(migrate_checksum, ms::api::sql_checksum)
MS_FUNCTION(migrate_version_compare, ms::api::sql_version_compare)
MS_FUNCTION(migrate_refuse_change, ms::api::sql_refuse_change)
