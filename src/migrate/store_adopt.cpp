// The store's queries of adoption, baselines, cosmetic edits and repeatable migrations. See
// store.hpp.
#include "migrate/store.hpp"
#include "migrate/store_rows.hpp"
#include "migrate/version.hpp"

namespace ms::migrate::store {

using namespace detail;

namespace {

// ---- checksums, adoption, baselines ----

spi::Query q_history_detail{
    "INSERT INTO migrate.history (version, name, action, checksum, performed_at, performed_by, "
    "detail) VALUES ($1, $2, $3, $4, $5, $6, $7::pg_catalog.jsonb) RETURNING id",
    7,
    {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, TEXTOID, TEXTOID},
    nullptr};
spi::Query q_cosmetic_edit{
    "UPDATE migrate.migrations SET up_sql = $2, checksum = $3 WHERE version = $1",
    3,
    {TEXTOID, TEXTOID, TEXTOID},
    nullptr};
spi::Query q_attach{
    "UPDATE migrate.migrations SET up_sql = $2, down_sql = $3, name = coalesce($4, name), "
    "checksum = $5, token_checksum = $6, order_key = $7, sort_key = $8 WHERE version = $1",
    8,
    {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, BYTEAOID},
    nullptr};
spi::Query q_adopt_known{
    "UPDATE migrate.migrations SET state = 'applied', applied_seq = $2, applied_at = $3, "
    "applied_by = $4, duration_ms = NULL, statements = NULL, out_of_order = false, "
    "findings = NULL, overrides = NULL, adopted_from = $5, name = coalesce(name, $6) "
    "WHERE version = $1",
    6,
    {TEXTOID, INT8OID, TIMESTAMPTZOID, TEXTOID, TEXTOID, TEXTOID},
    nullptr};
spi::Query q_adopt_new{
    "INSERT INTO migrate.migrations (version, sort_key, name, state, applied_seq, applied_at, "
    "applied_by, adopted_from, order_key) VALUES ($1, $2, $3, 'applied', $4, $5, $6, $7, $8)",
    8,
    {TEXTOID, BYTEAOID, TEXTOID, INT8OID, TIMESTAMPTZOID, TEXTOID, TEXTOID, TEXTOID},
    nullptr};
spi::Query q_pending_upto_rows{"SELECT " ROW_COLUMNS
                               " FROM migrate.migrations WHERE state IN ('pending', 'rolled back') "
                               "AND sort_key <= $1 ORDER BY sort_key",
                               1,
                               {BYTEAOID},
                               nullptr};
spi::Query q_in_schema{"SELECT " ROW_COLUMNS
                       " FROM migrate.migrations WHERE state IN ('applied', 'applying', "
                       "'queued', 'rolling back', 'failed') ORDER BY sort_key",
                       0,
                       {},
                       nullptr};
spi::Query q_baseline{
    "SELECT m.version, m.order_key FROM migrate.history AS h JOIN migrate.migrations AS m "
    "ON m.version = h.version WHERE h.action = 'baseline' AND m.state = 'applied' "
    "ORDER BY h.id DESC LIMIT 1",
    0,
    {},
    nullptr};
spi::Query q_ordered_by_keys{
    "SELECT EXISTS (SELECT FROM migrate.migrations "
    "WHERE sort_key >= '\\x03'::pg_catalog.bytea)::integer",
    0,
    {},
    nullptr};

// ---- repeatable migrations ----

#define REPEATABLE_COLUMNS "name, script, checksum, token_checksum, state, ran_token_checksum, runs"
spi::Query q_find_repeatable{"SELECT " REPEATABLE_COLUMNS
                             " FROM migrate.repeatables WHERE name = $1",
                             1,
                             {TEXTOID},
                             nullptr};
spi::Query q_save_repeatable{
    "INSERT INTO migrate.repeatables (name, script, checksum, token_checksum, state) "
    "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO UPDATE SET script = EXCLUDED.script, "
    "checksum = EXCLUDED.checksum, token_checksum = EXCLUDED.token_checksum, "
    "state = EXCLUDED.state, registered_at = now()",
    5,
    {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID},
    nullptr};
spi::Query q_pending_repeatables{"SELECT " REPEATABLE_COLUMNS
                                 " FROM migrate.repeatables WHERE state = 'pending' "
                                 "ORDER BY name COLLATE pg_catalog.\"C\"",
                                 0,
                                 {},
                                 nullptr};
spi::Query q_repeatable_ran{
    "UPDATE migrate.repeatables SET state = 'applied', applied_at = $2, applied_by = $3, "
    "duration_ms = $4, statements = $5, runs = runs + 1, ran_token_checksum = token_checksum "
    "WHERE name = $1",
    5,
    {TEXTOID, TIMESTAMPTZOID, TEXTOID, FLOAT8OID, INT4OID},
    nullptr};
spi::Query q_repeatable_history{
    "INSERT INTO migrate.history (version, name, action, checksum, performed_at, performed_by, "
    "duration_ms, statements, findings, overrides, detail) VALUES ('R__' || $1, $1, 'repeatable', "
    "$2, $3, $4, $5, $6, $7::pg_catalog.jsonb, $8::pg_catalog.jsonb, "
    "pg_catalog.jsonb_build_object('run', (SELECT runs FROM migrate.repeatables WHERE name = $1)))",
    8,
    {TEXTOID, TEXTOID, TIMESTAMPTZOID, TEXTOID, FLOAT8OID, INT4OID, TEXTOID, TEXTOID},
    nullptr};

Repeatable repeatable_at(uint64 i) {
    Repeatable r{*spi::get_text(i, 1), *spi::get_text(i, 2), *spi::get_text(i, 3),
                 *spi::get_text(i, 4), *spi::get_text(i, 5), spi::get_text(i, 6)};
    r.runs = static_cast<int>(spi::get_int64(i, 7));
    return r;
}

}  // namespace

void Store::record_cosmetic_edit(const Row& row, const std::string& up_sql,
                                 const std::string& checksum, const std::string& by) {
    spi::Params p;
    p.text(row.version).text(up_sql).text(checksum);
    spi::run(q_cosmetic_edit, p.values(), p.nulls());
    note_history(row.version, row.name, "cosmetic_edit", checksum, by,
                 "{\"before\": \"" + row.checksum + "\", \"after\": \"" + checksum + "\"}");
}

void Store::note_history(const std::string& version, const std::optional<std::string>& name,
                         const char* action, const std::string& checksum, const std::string& by,
                         const std::string& detail) {
    spi::Params h;
    h.text(version).text(name).text(action).text(checksum).timestamptz(pg::now()).text(by).text(
        detail);
    spi::run(q_history_detail, h.values(), h.nulls());
    spi::release();
}

void Store::attach(const Migration& m, const std::string& by) {
    spi::Params p;
    p.text(m.version).text(m.up_sql).text(m.down_sql).text(m.name).text(m.checksum).text(m.tokens);
    p.text(m.order_key).bytes(m.place());
    spi::run(q_attach, p.values(), p.nulls());
    spi::Params h;
    h.text(m.version).text(m.name).text("attach").text(m.checksum).timestamptz(pg::now()).text(by);
    h.null();
    spi::run(q_history_detail, h.values(), h.nulls());
    spi::release();
}

int64 Store::adopt(const Adopted& a, const char* action, const std::optional<Row>& known,
                   const std::string& place, const std::optional<std::string>& order_key) {
    spi::Params h;
    h.text(a.version).text(known && known->name ? known->name : a.name).text(action);
    if (known && known->has_script)
        h.text(known->checksum);
    else
        h.null();
    h.timestamptz(a.at).text(a.by).text(a.detail);
    spi::run(q_history_detail, h.values(), h.nulls());
    int64 seq = spi::get_int64(0, 1);
    spi::release();
    spi::Params p;
    if (known) {
        p.text(known->version).int8(seq).timestamptz(a.at).text(a.by).text(a.source).text(a.name);
        spi::run(q_adopt_known, p.values(), p.nulls());
    } else {
        p.text(a.version).bytes(place).text(a.name).int8(seq).timestamptz(a.at).text(a.by).text(
            a.source);
        p.text(order_key);
        spi::run(q_adopt_new, p.values(), p.nulls());
    }
    return seq;
}

void Store::baseline_mark(const Adopted& a, const Row& known) {
    spi::Params h;
    h.text(known.version).text(known.name).text("baseline");
    if (known.has_script)
        h.text(known.checksum);
    else
        h.null();
    h.timestamptz(a.at).text(a.by).text(a.detail);
    spi::run(q_history_detail, h.values(), h.nulls());
    spi::release();
}

std::vector<Row> Store::pending_upto(const std::string& place) {
    spi::Params p;
    p.bytes(place);
    return rows(q_pending_upto_rows, p);
}

std::vector<Row> Store::in_schema() {
    spi::Params p;
    return rows(q_in_schema, p);
}

std::optional<std::string> Store::baseline_place() {
    std::optional<std::string> place;
    if (spi::run(q_baseline, nullptr, nullptr) > 0)
        place = version::place(*spi::get_text(0, 1), spi::get_text(0, 2));
    spi::release();
    return place;
}

bool Store::ordered_by_keys() {
    spi::run(q_ordered_by_keys, nullptr, nullptr);
    bool keys = spi::get_int64(0, 1) != 0;
    spi::release();
    return keys;
}

std::optional<Repeatable> Store::find_repeatable(const std::string& name) {
    spi::Params p;
    p.text(name);
    std::optional<Repeatable> r;
    if (spi::run(q_find_repeatable, p.values(), p.nulls()) > 0) r = repeatable_at(0);
    spi::release();
    return r;
}

void Store::save_repeatable(const Repeatable& r) {
    spi::Params p;
    p.text(r.name).text(r.script).text(r.checksum).text(r.tokens).text(r.state);
    spi::run(q_save_repeatable, p.values(), p.nulls());
}

std::vector<Repeatable> Store::pending_repeatables() {
    std::vector<Repeatable> out;
    uint64 n = spi::run(q_pending_repeatables, nullptr, nullptr);
    for (uint64 i = 0; i < n; i++) out.push_back(repeatable_at(i));
    spi::release();
    return out;
}

void Store::repeatable_ran(const Repeatable& r, const Outcome& o) {
    spi::Params p;
    p.text(r.name).timestamptz(o.at).text(o.by);
    optional_float8(p, o.duration_ms);
    optional_int4(p, o.statements);
    spi::run(q_repeatable_ran, p.values(), p.nulls());
    spi::Params h;
    h.text(r.name).text(r.checksum).timestamptz(o.at).text(o.by);
    optional_float8(h, o.duration_ms);
    optional_int4(h, o.statements);
    h.text(o.findings).text(o.overrides);
    spi::run(q_repeatable_history, h.values(), h.nulls());
}

}  // namespace ms::migrate::store
