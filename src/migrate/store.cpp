// The store: every bookkeeping query. See store.hpp.
#include "migrate/store.hpp"

#include "migrate/store_rows.hpp"

#include "migrate/queue.hpp"
#include "migrate/version.hpp"
#include "pg/spi.hpp"

namespace ms::migrate::store {

using namespace detail;

namespace {

// Schema-qualified; they run with search_path pinned to pg_catalog, pg_temp.
spi::Query q_find{"(SELECT " ROW_COLUMNS
                  " FROM migrate.migrations WHERE version = $2) UNION ALL (SELECT " ROW_COLUMNS
                  " FROM migrate.migrations WHERE sort_key = $1) LIMIT 1",
                  2,
                  {BYTEAOID, TEXTOID},
                  nullptr};
spi::Query q_newest_applied{
    "SELECT version, order_key FROM migrate.migrations WHERE state IN ('applied', 'applying', "
    "'queued', 'rolling back', 'failed') AND adopted_from IS DISTINCT FROM 'sqitch' "
    "ORDER BY sort_key DESC LIMIT 1",
    0,
    {},
    nullptr};
spi::Query q_history{
    "INSERT INTO migrate.history (version, name, action, checksum, performed_at, performed_by, "
    "duration_ms, statements, out_of_order, findings, overrides) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::pg_catalog.jsonb, $11::pg_catalog.jsonb) "
    "RETURNING id",
    11,
    {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, TEXTOID, FLOAT8OID, INT4OID, BOOLOID,
     TEXTOID, TEXTOID},
    nullptr};
spi::Query q_save_applied{
    "INSERT INTO migrate.migrations AS m (version, sort_key, name, up_sql, down_sql, checksum, "
    "state, applied_seq, applied_at, applied_by, duration_ms, statements, out_of_order, "
    "findings, overrides, order_key, token_checksum) "
    "VALUES ($1, $2, $3, $4, $5, $6, $15, $7, $8, $9, $10, $11, $12, "
    "$13::pg_catalog.jsonb, $14::pg_catalog.jsonb, $16, $17) "
    "ON CONFLICT (version) DO UPDATE SET name = EXCLUDED.name, up_sql = EXCLUDED.up_sql, "
    "sort_key = EXCLUDED.sort_key, order_key = EXCLUDED.order_key, "
    "down_sql = EXCLUDED.down_sql, checksum = EXCLUDED.checksum, state = EXCLUDED.state, "
    "applied_seq = EXCLUDED.applied_seq, applied_at = EXCLUDED.applied_at, "
    "applied_by = EXCLUDED.applied_by, duration_ms = EXCLUDED.duration_ms, "
    "statements = EXCLUDED.statements, out_of_order = EXCLUDED.out_of_order, "
    "findings = EXCLUDED.findings, overrides = EXCLUDED.overrides, "
    "token_checksum = EXCLUDED.token_checksum, adopted_from = NULL, verified = NULL",
    17,
    {TEXTOID, BYTEAOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, INT8OID, TIMESTAMPTZOID, TEXTOID,
     FLOAT8OID, INT4OID, BOOLOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID},
    nullptr};
spi::Query q_mark_applied{
    "UPDATE migrate.migrations SET state = $10, applied_seq = $2, applied_at = $3, "
    "applied_by = $4, duration_ms = $5, statements = $6, out_of_order = $7, "
    "findings = $8::pg_catalog.jsonb, overrides = $9::pg_catalog.jsonb, verified = NULL "
    "WHERE version = $1",
    10,
    {TEXTOID, INT8OID, TIMESTAMPTZOID, TEXTOID, FLOAT8OID, INT4OID, BOOLOID, TEXTOID, TEXTOID,
     TEXTOID},
    nullptr};
spi::Query q_register{
    "INSERT INTO migrate.migrations (version, sort_key, name, up_sql, down_sql, checksum, state, "
    "order_key, token_checksum) VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8) "
    "ON CONFLICT (version) DO UPDATE SET name = EXCLUDED.name, up_sql = EXCLUDED.up_sql, "
    "down_sql = EXCLUDED.down_sql, checksum = EXCLUDED.checksum, sort_key = EXCLUDED.sort_key, "
    "order_key = EXCLUDED.order_key, token_checksum = EXCLUDED.token_checksum, "
    "adopted_from = NULL, registered_at = now(), verified = NULL",
    8,
    {TEXTOID, BYTEAOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID},
    nullptr};
spi::Query q_update_details{
    "UPDATE migrate.migrations SET down_sql = $2, name = $3, order_key = $4, sort_key = $5, "
    "verified = CASE WHEN down_sql IS DISTINCT FROM $2 THEN NULL ELSE verified END "
    "WHERE version = $1",
    5,
    {TEXTOID, TEXTOID, TEXTOID, TEXTOID, BYTEAOID},
    nullptr};
// Pending migrations in version order, up to sort key $1 when it is not NULL.
// (on migrations_pending_idx: an apply of one migration among many reads only what it needs)
spi::Query q_pending{
    "SELECT version, name, up_sql, down_sql, checksum, order_key FROM migrate.migrations "
    "WHERE state IN ('pending', 'rolled back') ORDER BY sort_key",
    0,
    {},
    nullptr};
spi::Query q_pending_upto{
    "SELECT version, name, up_sql, down_sql, checksum, order_key FROM migrate.migrations "
    "WHERE state IN ('pending', 'rolled back') AND sort_key <= $1 ORDER BY sort_key",
    1,
    {BYTEAOID},
    nullptr};
// Rollback candidates, newest applied first: the newest $1 of them, or all above sort key $1.
spi::Query q_applied_newest_first{"SELECT " ROW_COLUMNS
                                  " FROM migrate.migrations "
                                  "WHERE applied_seq IS NOT NULL ORDER BY " ROLLBACK_ORDER
                                  " LIMIT $1",
                                  1,
                                  {INT4OID},
                                  nullptr};
spi::Query q_applied_above{
    "SELECT " ROW_COLUMNS
    " FROM migrate.migrations "
    "WHERE applied_seq IS NOT NULL AND sort_key > $1 AND adopted_from IS DISTINCT FROM 'sqitch' "
    "ORDER BY " ROLLBACK_ORDER,
    1,
    {BYTEAOID},
    nullptr};
spi::Query q_mark_rolled_back{
    "UPDATE migrate.migrations SET state = 'rolled back', applied_seq = NULL, applied_at = NULL, "
    "applied_by = NULL, duration_ms = NULL, statements = NULL, out_of_order = false, "
    "findings = NULL, overrides = NULL WHERE version = $1",
    1,
    {TEXTOID},
    nullptr};

// How the other migrations are ordered (natural keys, explicit ones), and which one already
// takes place $2.
spi::Query q_order_check{
    "SELECT EXISTS (SELECT FROM migrate.migrations WHERE sort_key < '\\x03'::pg_catalog.bytea "
    "AND version <> $1 AND up_sql IS NOT NULL)::integer, "
    "EXISTS (SELECT FROM migrate.migrations WHERE sort_key >= '\\x03'::pg_catalog.bytea "
    "AND version <> $1 AND up_sql IS NOT NULL)::integer, "
    "(SELECT version FROM migrate.migrations WHERE sort_key = $2 AND version <> $1)",
    2,
    {TEXTOID, BYTEAOID},
    nullptr};

spi::Query q_set_state{
    "UPDATE migrate.migrations SET state = $2 WHERE version = $1", 2, {TEXTOID, TEXTOID}, nullptr};

// A fingerprint of everything operations decide from.
spi::Query q_fingerprint{
    "SELECT md5(string_agg(version || '/' || state || '/' || coalesce(checksum, '-') || '/' || "
    "coalesce(md5(down_sql), '-') || '/' || coalesce(name, '-') || '/' || "
    "coalesce(applied_seq::text, '-'), ',' ORDER BY sort_key)) FROM migrate.migrations",
    0,
    {},
    nullptr};

}  // namespace

namespace detail {

Migration migration_at(uint64 i) {
    return Migration{*spi::get_text(i, 1), spi::get_text(i, 2),  *spi::get_text(i, 3),
                     spi::get_text(i, 4),  *spi::get_text(i, 5), spi::get_text(i, 6)};
}

Row row_at(uint64 i) {
    Row r{*spi::get_text(i, 1), *spi::get_text(i, 2), *spi::get_text(i, 3),
          spi::get_text(i, 4),  spi::get_text(i, 5),  spi::get_text(i, 6)};
    r.tokens = spi::get_text(i, 7);
    r.adopted_from = spi::get_text(i, 8);
    r.has_script = spi::get_int64(i, 9) != 0;
    return r;
}

std::vector<Row> rows(spi::Query& q, const spi::Params& p) {
    std::vector<Row> out;
    uint64 n = spi::run(q, p.values(), p.nulls());
    out.reserve(n);
    for (uint64 i = 0; i < n; i++) out.push_back(row_at(i));
    spi::release();
    return out;
}

void optional_float8(spi::Params& p, const std::optional<double>& v) {
    if (v)
        p.float8(*v);
    else
        p.null();
}

void optional_int4(spi::Params& p, const std::optional<int>& v) {
    if (v)
        p.int4(*v);
    else
        p.null();
}

}  // namespace detail

std::string Row::place() const {
    return version::place(version, order_key);
}

std::string Migration::place() const {
    return version::place(version, order_key);
}

std::optional<Row> Store::find(const std::string& version) {
    spi::Params p;
    p.bytes(version::sort_key(version)).text(version);
    std::vector<Row> found = rows(q_find, p);
    if (found.empty()) return std::nullopt;
    return std::move(found.front());
}

std::optional<Newest> Store::newest_applied() {
    std::optional<Newest> v;
    if (spi::run(q_newest_applied, nullptr, nullptr) > 0) {
        Row r;
        r.version = *spi::get_text(0, 1);
        r.order_key = spi::get_text(0, 2);
        v = Newest{r.version, r.place()};
    }
    spi::release();
    return v;
}

std::vector<Migration> Store::pending(const std::optional<Row>& to) {
    spi::Params p;
    if (to) p.bytes(to->place());
    uint64 n = to ? spi::run(q_pending_upto, p.values(), p.nulls())
                  : spi::run(q_pending, nullptr, nullptr);
    std::vector<Migration> out;
    out.reserve(n);
    for (uint64 i = 0; i < n; i++) out.push_back(migration_at(i));
    spi::release();
    return out;
}

std::vector<Row> Store::applied_newest_first(int limit) {
    spi::Params p;
    p.int4(limit);
    return rows(q_applied_newest_first, p);
}

std::vector<Row> Store::applied_above(const Row& target) {
    spi::Params p;
    p.bytes(target.place());
    return rows(q_applied_above, p);
}

OrderCheck Store::check_order(const std::string& version, const std::string& place) {
    spi::Params p;
    p.text(version).bytes(place);
    spi::run(q_order_check, p.values(), p.nulls());
    OrderCheck c{spi::get_int64(0, 1) != 0, spi::get_int64(0, 2) != 0, spi::get_text(0, 3)};
    spi::release();
    return c;
}

int64 Store::add_history(const std::string& version, const std::optional<std::string>& name,
                         const std::string& checksum, const Outcome& o) {
    spi::Params p;
    p.text(version).text(name).text(o.action).text(checksum).timestamptz(o.at).text(o.by);
    optional_float8(p, o.duration_ms);
    optional_int4(p, o.statements);
    p.boolean(o.out_of_order).text(o.findings).text(o.overrides);
    spi::run(q_history, p.values(), p.nulls());
    int64 id = spi::get_int64(0, 1);
    spi::release();
    return id;
}

void Store::mark_applied(const Migration& m, int64 seq, const Outcome& o, bool with_scripts,
                         const char* state) {
    spi::Params p;
    p.text(m.version);
    if (with_scripts)
        p.bytes(m.place()).text(m.name).text(m.up_sql).text(m.down_sql).text(m.checksum);
    p.int8(seq).timestamptz(o.at).text(o.by);
    optional_float8(p, o.duration_ms);
    optional_int4(p, o.statements);
    p.boolean(o.out_of_order).text(o.findings).text(o.overrides).text(state);
    if (with_scripts) p.text(m.order_key).text(m.tokens);
    spi::run(with_scripts ? q_save_applied : q_mark_applied, p.values(), p.nulls());
}

void Store::mark_rolled_back(const std::string& version) {
    spi::Params p;
    p.text(version);
    spi::run(q_mark_rolled_back, p.values(), p.nulls());
}

void Store::save_pending(const Migration& m) {
    spi::Params p;
    p.text(m.version)
        .bytes(m.place())
        .text(m.name)
        .text(m.up_sql)
        .text(m.down_sql)
        .text(m.checksum)
        .text(m.order_key)
        .text(m.tokens);
    spi::run(q_register, p.values(), p.nulls());
}

void Store::update_details(const std::string& version, const std::optional<std::string>& down_sql,
                           const std::optional<std::string>& name,
                           const std::optional<std::string>& order_key) {
    spi::Params p;
    p.text(version).text(down_sql).text(name).text(order_key).bytes(
        version::place(version, order_key));
    spi::run(q_update_details, p.values(), p.nulls());
}

void Store::set_state(const std::string& version, const char* state) {
    spi::Params p;
    p.text(version).text(state);
    spi::run(q_set_state, p.values(), p.nulls());
}

bool Store::changed_since_snapshot() {
    return spi::differs_from_latest(q_fingerprint);
}

}  // namespace ms::migrate::store
