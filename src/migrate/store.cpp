// The store: every bookkeeping query. See store.hpp.
#include "migrate/store.hpp"

#include "migrate/queue.hpp"
#include "migrate/version.hpp"
#include "pg/spi.hpp"

namespace ms::migrate::store {

namespace {

// Schema-qualified; they run with search_path pinned to pg_catalog, pg_temp.
// The columns of a Row (row_at reads them).
#define ROW_COLUMNS                                                                       \
    "version, state, coalesce(checksum, ''), down_sql, name, order_key, token_checksum, " \
    "adopted_from, up_sql IS NOT NULL"

// The version itself, else the one in its natural place (each branch on an index).
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
    "token_checksum = EXCLUDED.token_checksum, adopted_from = NULL",
    17,
    {TEXTOID, BYTEAOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, INT8OID, TIMESTAMPTZOID, TEXTOID,
     FLOAT8OID, INT4OID, BOOLOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID},
    nullptr};
spi::Query q_mark_applied{
    "UPDATE migrate.migrations SET state = $10, applied_seq = $2, applied_at = $3, "
    "applied_by = $4, duration_ms = $5, statements = $6, out_of_order = $7, "
    "findings = $8::pg_catalog.jsonb, overrides = $9::pg_catalog.jsonb WHERE version = $1",
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
    "adopted_from = NULL, registered_at = now()",
    8,
    {TEXTOID, BYTEAOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID},
    nullptr};
spi::Query q_update_details{
    "UPDATE migrate.migrations SET down_sql = $2, name = $3, order_key = $4, sort_key = $5 "
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
spi::Query q_applied_newest_first{
    "SELECT " ROW_COLUMNS
    " FROM migrate.migrations "
    "WHERE applied_seq IS NOT NULL ORDER BY applied_seq DESC LIMIT $1",
    1,
    {INT4OID},
    nullptr};
spi::Query q_applied_above{
    "SELECT " ROW_COLUMNS
    " FROM migrate.migrations "
    "WHERE applied_seq IS NOT NULL AND sort_key > $1 ORDER BY applied_seq DESC",
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
spi::Query q_in_schema_not_from{
    "SELECT " ROW_COLUMNS
    " FROM migrate.migrations WHERE state IN ('applied', 'applying', "
    "'queued', 'rolling back', 'failed') AND adopted_from IS DISTINCT FROM $1 ORDER BY sort_key",
    1,
    {TEXTOID},
    nullptr};
spi::Query q_baseline{
    "SELECT m.version, m.order_key FROM migrate.history AS h JOIN migrate.migrations AS m "
    "ON m.version = h.version WHERE h.action = 'baseline' ORDER BY h.id DESC LIMIT 1",
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
    "duration_ms, statements, findings, overrides, detail) VALUES ($1, $1, 'repeatable', $2, $3, "
    "$4, $5, $6, $7::pg_catalog.jsonb, $8::pg_catalog.jsonb, "
    "pg_catalog.jsonb_build_object('run', (SELECT runs FROM migrate.repeatables WHERE name = $1)))",
    8,
    {TEXTOID, TEXTOID, TIMESTAMPTZOID, TEXTOID, FLOAT8OID, INT4OID, TEXTOID, TEXTOID},
    nullptr};

// ---- the queue ----

spi::Query q_next_queue_seq{"SELECT pg_catalog.nextval('migrate.steps_queue_seq')", 0, {}, nullptr};
spi::Query q_queue_step{
    "INSERT INTO migrate.steps (queue_seq, position, version, direction, statements, numbers, "
    "lines, settings, run_as, search_path, lock_timeout, lock_retries, lock_retry_delay, allow) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    14,
    {INT8OID, INT4OID, TEXTOID, TEXTOID, TEXTARRAYOID, INT4ARRAYOID, INT4ARRAYOID, TEXTARRAYOID,
     TEXTOID, TEXTOID, INT4OID, INT4OID, INT4OID, TEXTARRAYOID},
    nullptr};
#define MS_ENTRY_COLUMNS                                                                         \
    "id, queue_seq, position, version, direction, state, statements, settings, numbers, lines, " \
    "run_as, search_path, lock_timeout, lock_retries, lock_retry_delay, allow, attempts, "       \
    "coalesce(pid, 0), pre_indexes, (error->>'sqlstate') || ': ' || (error->>'message'), "       \
    "CASE WHEN started_at IS NULL THEN 0 ELSE 1 END"
spi::Query q_first_unfinished{"SELECT " MS_ENTRY_COLUMNS
                              " FROM migrate.steps WHERE state IN ('pending', 'running', "
                              "'failed') ORDER BY queue_seq, position LIMIT 1",
                              0,
                              {},
                              nullptr};
spi::Query q_failed_entry{"SELECT " MS_ENTRY_COLUMNS
                          " FROM migrate.steps WHERE state = 'failed' "
                          "AND ($1 IS NULL OR version = $1) ORDER BY queue_seq, position LIMIT 1",
                          1,
                          {TEXTOID},
                          nullptr};
spi::Query q_mark_running{
    "UPDATE migrate.steps SET state = 'running', pid = $2, started_at = pg_catalog.now(), "
    "finished_at = NULL, attempts = attempts + 1, pre_indexes = $3 WHERE id = $1",
    3,
    {INT8OID, INT4OID, OIDARRAYOID},
    nullptr};
spi::Query q_mark_done{
    "UPDATE migrate.steps SET state = 'done', finished_at = pg_catalog.now() WHERE id = $1",
    1,
    {INT8OID},
    nullptr};
spi::Query q_mark_pending{
    "UPDATE migrate.steps SET state = 'pending', pid = NULL WHERE id = $1", 1, {INT8OID}, nullptr};
spi::Query q_mark_failed{
    "UPDATE migrate.steps SET state = 'failed', finished_at = pg_catalog.now(), "
    "error = $2::pg_catalog.jsonb WHERE id = $1",
    2,
    {INT8OID, TEXTOID},
    nullptr};
spi::Query q_cancel_run{
    "UPDATE migrate.steps SET state = 'cancelled', finished_at = pg_catalog.now() "
    "WHERE queue_seq = $1 AND state IN ('pending', 'running', 'failed')",
    1,
    {INT8OID},
    nullptr};
spi::Query q_cancel_behind{
    "UPDATE migrate.steps SET state = 'cancelled', finished_at = pg_catalog.now() "
    "WHERE queue_seq > $1 AND state IN ('pending', 'running', 'failed')",
    1,
    {INT8OID},
    nullptr};
spi::Query q_run_unfinished{
    "SELECT 1 FROM migrate.steps WHERE queue_seq = $1 "
    "AND state IN ('pending', 'running', 'failed') LIMIT 1",
    1,
    {INT8OID},
    nullptr};
spi::Query q_unfinished_for{
    "SELECT 1 FROM migrate.steps WHERE version = $1 AND ($2 IS NULL OR direction = $2) "
    "AND state IN ('pending', 'running', 'failed') LIMIT 1",
    2,
    {TEXTOID, TEXTOID},
    nullptr};
spi::Query q_queued_behind{
    "SELECT version FROM migrate.steps WHERE queue_seq > $1 AND position = 0 "
    "AND state IN ('pending', 'failed') ORDER BY queue_seq",
    1,
    {INT8OID},
    nullptr};
spi::Query q_worker_alive{
    "SELECT 1 FROM pg_catalog.pg_stat_activity WHERE backend_type OPERATOR(pg_catalog.=) $1 "
    "AND datid OPERATOR(pg_catalog.=) $2 LIMIT 1",
    2,
    {TEXTOID, OIDOID},
    nullptr};
spi::Query q_retry{
    "UPDATE migrate.steps SET state = 'pending', pid = NULL, error = NULL, attempts = 0 "
    "WHERE id = $1",
    1,
    {INT8OID},
    nullptr};
spi::Query q_script_of{
    "SELECT CASE WHEN $2 = 'up' THEN up_sql ELSE down_sql END FROM migrate.migrations "
    "WHERE version = $1",
    2,
    {TEXTOID, TEXTOID},
    nullptr};
spi::Query q_run_duration{
    "SELECT coalesce(sum(EXTRACT(EPOCH FROM finished_at - started_at) * 1000), 0)::float8 "
    "FROM migrate.steps WHERE queue_seq = $1 AND state = 'done'",
    1,
    {INT8OID},
    nullptr};
spi::Query q_add_duration{
    "UPDATE migrate.migrations SET duration_ms = coalesce(duration_ms, 0) + $2 "
    "WHERE version = $1",
    2,
    {TEXTOID, FLOAT8OID},
    nullptr};
spi::Query q_add_event{
    "INSERT INTO migrate.history (version, name, action, checksum, performed_at, performed_by, "
    "duration_ms, error) SELECT m.version, m.name, $2, m.checksum, pg_catalog.clock_timestamp(), "
    "$3, $4, $5::pg_catalog.jsonb FROM migrate.migrations AS m WHERE m.version = $1",
    5,
    {TEXTOID, TEXTOID, TEXTOID, FLOAT8OID, TEXTOID},
    nullptr};

// A fingerprint of everything operations decide from.
spi::Query q_fingerprint{
    "SELECT md5(string_agg(version || '/' || state || '/' || coalesce(checksum, '-') || '/' || "
    "coalesce(md5(down_sql), '-') || '/' || coalesce(name, '-') || '/' || "
    "coalesce(applied_seq::text, '-'), ',' ORDER BY sort_key)) FROM migrate.migrations",
    0,
    {},
    nullptr};

Row row_at(uint64 i) {
    Row r{*spi::get_text(i, 1), *spi::get_text(i, 2), *spi::get_text(i, 3),
          spi::get_text(i, 4),  spi::get_text(i, 5),  spi::get_text(i, 6)};
    r.tokens = spi::get_text(i, 7);
    r.adopted_from = spi::get_text(i, 8);
    r.has_script = spi::get_int64(i, 9) != 0;
    return r;
}

Repeatable repeatable_at(uint64 i) {
    Repeatable r{*spi::get_text(i, 1), *spi::get_text(i, 2), *spi::get_text(i, 3),
                 *spi::get_text(i, 4), *spi::get_text(i, 5), spi::get_text(i, 6)};
    r.runs = static_cast<int>(spi::get_int64(i, 7));
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

}  // namespace

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
    for (uint64 i = 0; i < n; i++)
        out.push_back(Migration{*spi::get_text(i, 1), spi::get_text(i, 2), *spi::get_text(i, 3),
                                spi::get_text(i, 4), *spi::get_text(i, 5), spi::get_text(i, 6)});
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

std::vector<Row> Store::in_schema_not_from(const std::string& source) {
    spi::Params p;
    p.text(source);
    return rows(q_in_schema_not_from, p);
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

void Store::set_state(const std::string& version, const char* state) {
    spi::Params p;
    p.text(version).text(state);
    spi::run(q_set_state, p.values(), p.nulls());
}

int64 Store::next_queue_seq() {
    spi::run(q_next_queue_seq, nullptr, nullptr);
    int64 seq = spi::get_int64(0, 1);
    spi::release();
    return seq;
}

void Store::queue_step(int64 queue_seq, int position, const std::string& version,
                       const char* direction, const StepToQueue& step, const RunContext& context) {
    spi::Params p;
    p.int8(queue_seq).int4(position).text(version).text(direction);
    if (step.statements.empty())
        p.null().null().null().null();
    else
        p.text_array(step.statements)
            .int4_array(step.numbers)
            .int4_array(step.lines)
            .text_array(step.settings);
    p.text(context.run_as)
        .text(context.search_path)
        .int4(context.lock_timeout)
        .int4(context.lock_retries)
        .int4(context.lock_retry_delay);
    if (context.allow.empty())
        p.null();
    else
        p.text_array(context.allow);
    spi::run(q_queue_step, p.values(), p.nulls());
}

namespace {

QueueEntry entry_at(uint64 i) {
    QueueEntry e;
    e.id = spi::get_int64(i, 1);
    e.queue_seq = spi::get_int64(i, 2);
    e.position = static_cast<int>(spi::get_int64(i, 3));
    e.version = *spi::get_text(i, 4);
    e.direction = *spi::get_text(i, 5);
    e.state = *spi::get_text(i, 6);
    e.statements = spi::get_text_array(i, 7);
    e.settings = spi::get_text_array(i, 8);
    e.numbers = spi::get_int_array(i, 9);
    e.lines = spi::get_int_array(i, 10);
    e.context.run_as = *spi::get_text(i, 11);
    e.context.search_path = *spi::get_text(i, 12);
    e.context.lock_timeout = static_cast<int>(spi::get_int64(i, 13));
    e.context.lock_retries = static_cast<int>(spi::get_int64(i, 14));
    e.context.lock_retry_delay = static_cast<int>(spi::get_int64(i, 15));
    e.context.allow = spi::get_text_array(i, 16);
    e.attempts = static_cast<int>(spi::get_int64(i, 17));
    e.pid = static_cast<int>(spi::get_int64(i, 18));
    e.pre_indexes = spi::get_int_array(i, 19);
    e.error = spi::get_text(i, 20);
    e.started = spi::get_int64(i, 21) != 0;
    return e;
}

std::optional<QueueEntry> one_entry(spi::Query& q, const spi::Params& p) {
    std::optional<QueueEntry> e;
    if (spi::run(q, p.values(), p.nulls()) > 0) e = entry_at(0);
    spi::release();
    return e;
}

void by_id(spi::Query& q, int64 id) {
    spi::Params p;
    p.int8(id);
    spi::run(q, p.values(), p.nulls());
}

}  // namespace

std::optional<QueueEntry> Store::first_unfinished() {
    return one_entry(q_first_unfinished, spi::Params());
}

void Store::mark_running(int64 id, int pid, const std::vector<Oid>& pre_indexes) {
    spi::Params p;
    p.int8(id).int4(pid).oid_array(pre_indexes);
    spi::run(q_mark_running, p.values(), p.nulls());
}

void Store::mark_done(int64 id) {
    by_id(q_mark_done, id);
}

void Store::mark_pending(int64 id) {
    by_id(q_mark_pending, id);
}

void Store::mark_failed(int64 id, const std::string& error_json) {
    spi::Params p;
    p.int8(id).text(error_json);
    spi::run(q_mark_failed, p.values(), p.nulls());
}

void Store::cancel_entries(int64 queue_seq) {
    by_id(q_cancel_run, queue_seq);
}

void Store::cancel_queued_behind(int64 queue_seq) {
    by_id(q_cancel_behind, queue_seq);
}

bool Store::run_unfinished(int64 queue_seq) {
    spi::Params p;
    p.int8(queue_seq);
    bool found = spi::run(q_run_unfinished, p.values(), p.nulls()) > 0;
    spi::release();
    return found;
}

bool Store::unfinished_for(const std::string& version, const char* direction) {
    spi::Params p;
    p.text(version);
    if (direction)
        p.text(direction);
    else
        p.null();
    bool found = spi::run(q_unfinished_for, p.values(), p.nulls()) > 0;
    spi::release();
    return found;
}

std::vector<std::string> Store::queued_versions_behind(int64 queue_seq) {
    spi::Params p;
    p.int8(queue_seq);
    uint64 n = spi::run(q_queued_behind, p.values(), p.nulls());
    std::vector<std::string> out;
    for (uint64 i = 0; i < n; i++) out.push_back(*spi::get_text(i, 1));
    spi::release();
    return out;
}

bool Store::worker_alive() {
    spi::Params p;
    p.text(queue::kWorkerType).oid(MyDatabaseId);
    bool found = spi::run(q_worker_alive, p.values(), p.nulls()) > 0;
    spi::release();
    return found;
}

std::optional<QueueEntry> Store::retry(const std::optional<std::string>& version) {
    spi::Params p;
    p.text(version);
    std::optional<QueueEntry> e = one_entry(q_failed_entry, p);
    if (e) by_id(q_retry, e->id);
    return e;
}

std::optional<std::string> Store::script_of(const std::string& version,
                                            const std::string& direction) {
    spi::Params p;
    p.text(version).text(direction);
    std::optional<std::string> s;
    if (spi::run(q_script_of, p.values(), p.nulls()) > 0) s = spi::get_text(0, 1);
    spi::release();
    return s;
}

double Store::run_duration_ms(int64 queue_seq) {
    spi::Params p;
    p.int8(queue_seq);
    spi::run(q_run_duration, p.values(), p.nulls());
    double ms = std::stod(spi::get_text(0, 1).value_or("0"));
    spi::release();
    return ms;
}

void Store::add_duration(const std::string& version, double ms) {
    spi::Params p;
    p.text(version).float8(ms);
    spi::run(q_add_duration, p.values(), p.nulls());
}

void Store::add_event(const std::string& version, const char* action, const std::string& by,
                      std::optional<double> duration_ms, const std::optional<std::string>& error) {
    spi::Params p;
    p.text(version).text(action).text(by);
    optional_float8(p, duration_ms);
    p.text(error);
    spi::run(q_add_event, p.values(), p.nulls());
}

bool Store::changed_since_snapshot() {
    return spi::differs_from_latest(q_fingerprint);
}

}  // namespace ms::migrate::store
