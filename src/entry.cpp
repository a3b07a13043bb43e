// The SQL-callable entry points: thin extern "C" wrappers (MS_FUNCTION) around the C++ core,
// each going through the single error boundary. Arguments are read and results built here.
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "audit.hpp"
#include "boundary.hpp"
#include "checksum.hpp"
#include "lint.hpp"
#include "locks.hpp"
#include "runner.hpp"
#include "safety.hpp"
#include "script.hpp"
#include "spi.hpp"
#include "version.hpp"

extern "C" {
PG_MODULE_MAGIC;
void _PG_init(void);
}

// Loaded by the first call into the library in a backend, or at server start when listed in
// shared_preload_libraries: installs the audit's ProcessUtility hook and callbacks.
void _PG_init(void) {
    ms::audit::init();
    ms::lint::define_settings();
    ms::safety::define_settings();
    ms::locks::define_settings();
    // Only now: reserving the prefix removes placeholders of settings not defined yet.
    MarkGUCPrefixReserved("migrations_schema");
}

namespace ms {
namespace {

// ---- arguments ----

bool is_null(const Call& c, int i) {
    return c.fcinfo->args[i].isnull;
}

// A text Datum's contents.
std::string text_of(Datum d) {
    text* t =
        guard([&] { return (text*)pg_detoast_datum_packed((struct varlena*)DatumGetPointer(d)); });
    return std::string(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

std::optional<std::string> opt_text(Call& c, int i) {
    if (is_null(c, i)) return std::nullopt;
    return text_of(c.fcinfo->args[i].value);
}

std::string req_text(Call& c, int i, const char* what) {
    std::optional<std::string> v = opt_text(c, i);
    if (!v) throw Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, std::string(what) + " must not be NULL");
    return *v;
}

bool arg_bool(Call& c, int i, const char* what) {
    if (is_null(c, i))
        throw Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, std::string(what) + " must not be NULL");
    return DatumGetBool(c.fcinfo->args[i].value);
}

// Leaf: the elements of a one-dimensional text[] (NULL elements flagged).
void text_array_leaf(Datum array, Datum** elems, bool** nulls, int* n) {
    ArrayType* a = DatumGetArrayTypeP(array);
    if (ARR_NDIM(a) > 1)
        ereport(ERROR, (errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
                        errmsg("allow must be a one-dimensional text array")));
    deconstruct_array(a, TEXTOID, -1, false, TYPALIGN_INT, elems, nulls, n);
}

// The overrides argument (allow => ARRAY['rule -- reason', ...]) at position i. NULL, or an
// argument the SQL definition does not have (a library newer than the installed extension
// version), means none.
runner::Allow allow_arg(Call& c, int i) {
    runner::Allow out;
    if (c.fcinfo->nargs <= i || is_null(c, i)) return out;
    Datum* elems = nullptr;
    bool* nulls = nullptr;
    int n = 0;
    Datum array = c.fcinfo->args[i].value;
    guard([&] { text_array_leaf(array, &elems, &nulls, &n); });
    out.reserve(static_cast<size_t>(n));
    for (int k = 0; k < n; k++) {
        if (nulls[k]) {
            out.emplace_back(std::nullopt);
            continue;
        }
        out.emplace_back(text_of(elems[k]));
    }
    return out;
}

runner::Input migration_input(Call& c) {
    runner::Input in;
    in.version = req_text(c, 0, "migration version");
    in.up_sql = req_text(c, 1, "up script");
    in.down_sql = opt_text(c, 2);
    in.name = opt_text(c, 3);
    return in;
}

// ---- results ----

Datum text_result(Call& c, const std::string& s) {
    return guard([&] {
        MemoryContext old = MemoryContextSwitchTo(c.result_cxt);
        text* t = cstring_to_text_with_len(s.data(), static_cast<int>(s.size()));
        MemoryContextSwitchTo(old);
        return PointerGetDatum(t);
    });
}

// Rows of a set-returning function, materialized into the caller's tuplestore.
class Rows {
  public:
    explicit Rows(Call& c) : rsinfo_((ReturnSetInfo*)c.fcinfo->resultinfo) {
        FunctionCallInfo fcinfo = c.fcinfo;
        guard([&] { InitMaterializedSRF(fcinfo, 0); });
    }
    void add(const std::vector<std::optional<Datum>>& cols) {
        Datum values[8];
        bool nulls[8];
        if (cols.size() > 8) throw std::logic_error("a result row has more than 8 columns");
        for (size_t i = 0; i < cols.size(); i++) {
            values[i] = cols[i] ? *cols[i] : (Datum)0;
            nulls[i] = !cols[i];
        }
        ReturnSetInfo* rsinfo = rsinfo_;
        guard([&] { tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls); });
    }

  private:
    ReturnSetInfo* rsinfo_;
};

Datum text_datum(const std::string& s) {
    return guard([&] {
        return PointerGetDatum(cstring_to_text_with_len(s.data(), static_cast<int>(s.size())));
    });
}

std::optional<Datum> opt_text_datum(const std::optional<std::string>& s) {
    if (!s) return std::nullopt;
    return text_datum(*s);
}

Datum ran_rows(Call& c, const std::vector<runner::Ran>& ran) {
    Rows rows(c);
    for (const auto& r : ran)
        rows.add({text_datum(r.version), opt_text_datum(r.name), Int32GetDatum(r.statements),
                  Float8GetDatum(r.duration_ms)});
    return (Datum)0;
}

// ---- core functions ----

Datum sql_apply_one(Call& c) {
    return text_result(c, runner::apply_one(migration_input(c),
                                            arg_bool(c, 4, "allow_out_of_order"), allow_arg(c, 5)));
}

Datum sql_register_one(Call& c) {
    return text_result(c, runner::register_one(migration_input(c)));
}

Datum sql_apply_pending(Call& c) {
    std::optional<std::string> target = opt_text(c, 0);
    bool ooo = arg_bool(c, 1, "allow_out_of_order");
    return ran_rows(c, runner::apply_pending(target, ooo, allow_arg(c, 2)));
}

Datum sql_rollback_steps(Call& c) {
    if (is_null(c, 0)) throw Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, "steps must not be NULL");
    return ran_rows(
        c, runner::rollback_steps(DatumGetInt32(c.fcinfo->args[0].value), allow_arg(c, 1)));
}

Datum sql_rollback_to(Call& c) {
    return ran_rows(c, runner::rollback_to(req_text(c, 0, "to_version"), allow_arg(c, 1)));
}

Datum sql_split(Call& c) {
    std::string text = req_text(c, 0, "script");
    script::Script s = script::split(text, {"", "given"});
    Rows rows(c);
    for (const auto& st : s.statements)
        rows.add({Int32GetDatum(st.number), Int32GetDatum(st.line), text_datum(st.command),
                  text_datum(st.sql)});
    return (Datum)0;
}

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
    for (const auto& r : lint::rules())
        rows.add(
            {text_datum(r.id), text_datum(r.name), text_datum(r.family), text_datum(r.summary)});
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

// Proves the boundary (regression test boundary.sql): each kind fails in its own way while
// C++ objects are alive, and `live` counts the objects that were not destroyed.
int live_sentinels = 0;
struct Sentinel {
    Sentinel() { live_sentinels++; }
    ~Sentinel() { live_sentinels--; }
    std::string payload = std::string(1000, 'x');
};

Datum sql_selftest(Call& c) {
    std::string kind = req_text(c, 0, "kind");
    Sentinel alive;
    std::vector<Sentinel> more(3);
    if (kind == "cpp_exception") throw std::runtime_error("deliberate C++ exception");
    if (kind == "bad_alloc") throw std::bad_alloc();
    if (kind == "own_error")
        throw Error(ERRCODE_DATA_EXCEPTION, "deliberate error", "with a detail", "and a hint");
    if (kind == "pg_error")
        guard([] {
            ereport(ERROR,
                    (errcode(ERRCODE_DIVISION_BY_ZERO), errmsg("deliberate PostgreSQL error"),
                     errdetail("raised under the C++ core")));
        });
    if (kind == "spi_error") {
        spi::connect();
        spi::execute("SELECT 1 / 0");
    }
    if (kind == "live") return Int32GetDatum(live_sentinels - 4);
    if (kind == "ok") return Int32GetDatum(0);
    throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "unknown self-test kind: " + kind, "",
                "Use cpp_exception, bad_alloc, own_error, pg_error, spi_error, live or ok.");
}

}  // namespace
}  // namespace ms

MS_FUNCTION(migrate_apply_one, ms::sql_apply_one)
MS_FUNCTION(migrate_register, ms::sql_register_one)
MS_FUNCTION(migrate_apply_pending, ms::sql_apply_pending)
MS_FUNCTION(migrate_rollback_steps, ms::sql_rollback_steps)
MS_FUNCTION(migrate_rollback_to, ms::sql_rollback_to)
MS_FUNCTION(migrate_split, ms::sql_split)
MS_FUNCTION(migrate_checksum, ms::sql_checksum)
MS_FUNCTION(migrate_lint, ms::sql_lint)
MS_FUNCTION(migrate_lint_rules, ms::sql_lint_rules)
MS_FUNCTION(migrate_version_compare, ms::sql_version_compare)
MS_FUNCTION(migrate_refuse_change, ms::sql_refuse_change)
MS_FUNCTION(migrate_selftest, ms::sql_selftest)
MS_FUNCTION(migrate_audit_ddl_command_end, ms::audit::on_ddl_command_end)
MS_FUNCTION(migrate_audit_sql_drop, ms::audit::on_sql_drop)
MS_FUNCTION(migrate_audit_table_rewrite, ms::audit::on_table_rewrite)
MS_FUNCTION(migrate_audit_load_check, ms::audit::load_check)
MS_FUNCTION(migrate_verify_audit, ms::audit::verify)
MS_FUNCTION(migrate_purge_audit, ms::audit::purge)
MS_FUNCTION(migrate_audit_preloaded, ms::audit::preloaded)
